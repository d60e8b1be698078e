#!/usr/bin/env bash
# The occlusion ground truth (tests/data/occlusion, issue 24) is what SOURCE.md says it is, and
# facetrain numbers the clip's frames as the ground truth does:
#   - handwave.mp4 has the SHA-256 that SOURCE.md records;
#   - the committed mattes are exactly the polygons of ground_truth.json (make_mattes.py --check);
#   - eval_matte.py's own check: the truth scores 1.0 against itself, below 1.0 against copies
#     dilated or eroded by 1 and 3 px; a plate against itself changes no occluder pixel, a repainted
#     frame all of them;
#   - `facetrain extract` of frames 20-24 (the hand over the face): each crop is the ffmpeg frame of
#     the same number warped by the crop's aligned_from_frame, and not its neighbours (frame N of the
#     ground truth is facetrain's frame N), and no frame has a face missing.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
e2e_begin
command -v ffmpeg >/dev/null || fatal "ffmpeg is needed"
py="${FACETRAIN_TEST_PYTHON:-$FACETRAIN_SOURCE_DIR/.venv/bin/python}"
[ -x "$py" ] || skip "no test Python at $py (scripts/setup.sh makes the venv; FACETRAIN_TEST_PYTHON overrides)"
"$py" -c 'import numpy, PIL, scipy.ndimage' 2>/dev/null ||
  skip "numpy, Pillow and scipy are not installed in $py (scripts/setup.sh installs them there; FACETRAIN_TEST_PYTHON overrides)"
D="$FACETRAIN_SOURCE_DIR/tests/data/occlusion"
CLIP="$D/handwave.mp4"
CLIP_SHA256=f5ad8a70f7e7979270bc515b66a097c6b922d05e16e731e0552c20d1771253ab

sha="$(sha256sum "$CLIP" | cut -d' ' -f1)"
if [ "$sha" = "$CLIP_SHA256" ] && grep -q "$sha" "$D/SOURCE.md"; then
  pass "handwave.mp4 is the clip SOURCE.md records ($sha)"
else
  fail "handwave.mp4 has SHA-256 $sha, expected $CLIP_SHA256 (as recorded in SOURCE.md)"
fi

if "$py" "$D/make_mattes.py" --check >"$T/check.out" 2>&1; then
  pass "mattes match ground_truth.json: $(cat "$T/check.out")"
else
  cat "$T/check.out" >&2; fail "the committed mattes differ from ground_truth.json"
fi

if "$py" "$D/eval_matte.py" selfcheck >"$T/selfcheck.json" 2>"$T/selfcheck.err"; then
  pass "eval_matte.py selfcheck: $(tr -d ' \n' <"$T/selfcheck.json")"
else
  cat "$T/selfcheck.json" "$T/selfcheck.err" >&2; fail "eval_matte.py selfcheck failed"
fi

ft extract extract "$CLIP" -o "$T/faceset" --frames 20-24 --threads 1
if expect_rc 0 extract; then
  ffmpeg -nostdin -v error -i "$CLIP" -start_number 1 "$T/frame.%04d.png" || fatal "ffmpeg cannot decode $CLIP"
  if "$py" - "$T" >"$T/numbering.out" 2>&1 <<'PY'; then
import glob, json, sys
import numpy as np
from PIL import Image
from scipy import ndimage

scratch = sys.argv[1]
rows = {}
for path in glob.glob(scratch + "/faceset/alignments/*.jsonl"):
    for line in open(path):
        row = json.loads(line)
        rows[row["frame"]] = row
missing = [n for n in range(20, 25) if n not in rows or not rows[n]["faces"]]
if missing:
    sys.exit("no face extracted in frames %s" % missing)

def frame(n):
    return np.asarray(Image.open("%s/frame.%04d.png" % (scratch, n)).convert("RGB")).astype(float)

for n in range(20, 25):
    face = rows[n]["faces"][0]
    crop = np.asarray(Image.open(scratch + "/faceset/" + face["crop"]).convert("RGB")).astype(float)
    size = crop.shape[0]
    frame_from_crop = np.linalg.inv(np.vstack([np.array(face["aligned_from_frame"]), [0, 0, 1]]))
    ys, xs = np.mgrid[0:size, 0:size]
    points = frame_from_crop @ np.stack([xs.ravel(), ys.ravel(), np.ones(size * size)])
    error = {}
    for candidate in range(n - 1, n + 2):
        image = frame(candidate)
        warped = np.stack([ndimage.map_coordinates(image[..., c], [points[1], points[0]], order=1)
                           .reshape(size, size) for c in range(3)], -1)
        error[candidate] = float(np.abs(warped - crop).mean())
    best = min(error, key=error.get)
    print("frame %d: mean |crop - warped frame| %s" % (n, {k: round(v, 2) for k, v in error.items()}))
    if best != n:
        sys.exit("facetrain's crop of frame %d is ffmpeg's frame %d" % (n, best))
PY
    pass "facetrain's frames 20-24 are ffmpeg's frames 20-24 ($(tr '\n' ';' <"$T/numbering.out"))"
  else
    cat "$T/numbering.out" >&2; fail "facetrain numbers handwave.mp4's frames unlike the ground truth"
  fi
fi

e2e_end
