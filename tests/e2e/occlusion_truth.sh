#!/usr/bin/env bash
# The occlusion ground truth (tests/data/occlusion, issue 24) is what its SOURCE.md says it is, and
# facetrain numbers each clip's frames as the ground truth does:
#   - the committed mattes are exactly the polygons of each clip's ground_truth.json
#     (make_mattes.py --check);
#   - eval_matte.py's own check, for each clip: the truth scores 1.0 against itself, below 1.0
#     against copies dilated or eroded by 1 and 3 px; a plate against itself changes no occluder
#     pixel, a repainted frame all of them;
#   - per clip: the movie has the SHA-256 SOURCE.md records, and `facetrain extract` of frames where
#     the hand covers the face gives, for each frame N, a crop that is ffmpeg's N-th frame warped by
#     the crop's aligned_from_frame (closer than frames N-1 and N+1): frame N of the ground truth is
#     facetrain's frame N.
# Case thumbsup: its clip is not in the repository (its licence forbids redistributing it as it is;
# SOURCE.md says where it comes from); the case runs where it has been put at
# tests/data/occlusion/thumbsup/thumbsup.mp4 or FACETRAIN_THUMBSUP_CLIP names it, and is Skipped
# elsewhere.
# e2e-cases: thumbsup
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
e2e_begin
command -v ffmpeg >/dev/null || fatal "ffmpeg is needed"
py="$TEST_PYTHON"   # common.sh: FACETRAIN_TEST_PYTHON, else the venv scripts/setup.sh makes
[ -x "$py" ] || fatal "no test Python at $py: scripts/setup.sh makes the venv (FACETRAIN_VENV, FACETRAIN_TEST_PYTHON override)"
"$py" -c 'import numpy, PIL, scipy.ndimage' 2>/dev/null ||
  fatal "numpy, Pillow and scipy are not installed in $py (scripts/setup.sh installs them there, with scikit-image)"
D="$FACETRAIN_SOURCE_DIR/tests/data/occlusion"

# check_clip NAME MOVIE SHA256 FIRST LAST: the movie's hash, and facetrain's numbering of FIRST..LAST.
check_clip() {
  local name="$1" movie="$2" want="$3" first="$4" last="$5" sha
  sha="$(sha256sum "$movie" | cut -d' ' -f1)"
  if [ "$sha" = "$want" ] && grep -q "$sha" "$D/SOURCE.md"; then
    pass "$name: the movie is the clip SOURCE.md records ($sha)"
  else
    fail "$name: $movie has SHA-256 $sha, expected $want (as recorded in SOURCE.md)"
    return 0
  fi
  ft "extract_$name" extract "$movie" -o "$T/faceset_$name" --frames "$first-$last" --threads 1
  expect_rc 0 "extract_$name" || return 0
  mkdir -p "$T/frames_$name"
  ffmpeg -nostdin -v error -i "$movie" -start_number 1 -frames:v $((last + 1)) "$T/frames_$name/frame.%04d.png" ||
    fatal "ffmpeg cannot decode $movie"
  if "$py" - "$T/faceset_$name" "$T/frames_$name" "$first" "$last" >"$T/numbering_$name.out" 2>&1 <<'PY'; then
import glob, json, sys
import numpy as np
from PIL import Image
from scipy import ndimage

faceset, frames, first, last = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rows = {}
for path in glob.glob(faceset + "/alignments/*.jsonl"):
    for line in open(path):
        row = json.loads(line)
        rows[row["frame"]] = row
with_face = [n for n in range(first, last + 1) if n in rows and rows[n]["faces"]]
if len(with_face) < 3:
    sys.exit("faces in only %d of frames %d-%d" % (len(with_face), first, last))

def frame(n):
    return np.asarray(Image.open("%s/frame.%04d.png" % (frames, n)).convert("RGB")).astype(float)

for n in with_face:
    face = rows[n]["faces"][0]
    crop = np.asarray(Image.open(faceset + "/" + face["crop"]).convert("RGB")).astype(float)
    size = crop.shape[0]
    frame_from_crop = np.linalg.inv(np.vstack([np.array(face["aligned_from_frame"]), [0, 0, 1]]))
    ys, xs = np.mgrid[0:size, 0:size]
    points = frame_from_crop @ np.stack([xs.ravel(), ys.ravel(), np.ones(size * size)])
    error = {}
    for candidate in range(max(1, n - 1), n + 2):
        image = frame(candidate)
        warped = np.stack([ndimage.map_coordinates(image[..., c], [points[1], points[0]], order=1)
                           .reshape(size, size) for c in range(3)], -1)
        error[candidate] = float(np.abs(warped - crop).mean())
    best = min(error, key=error.get)
    print("frame %d: mean |crop - warped frame| %s" % (n, {k: round(v, 2) for k, v in error.items()}))
    if best != n:
        sys.exit("facetrain's crop of frame %d is ffmpeg's frame %d" % (n, best))
PY
    pass "$name: facetrain's frames $first-$last are ffmpeg's ($(tr '\n' ';' <"$T/numbering_$name.out"))"
  else
    cat "$T/numbering_$name.out" >&2; fail "$name: facetrain numbers the clip's frames unlike the ground truth"
  fi
}

if e2e_case thumbsup; then
  clip="${FACETRAIN_THUMBSUP_CLIP:-$D/thumbsup/thumbsup.mp4}"
  if [ -f "$clip" ]; then
    check_clip thumbsup "$clip" d7aca9a2477f2360adc8daa7990ef42eac7ea488db041fad722c46a86bfd7088 57 61
  else
    skip_case "no $clip: the clip is not redistributed with the repository (tests/data/occlusion/SOURCE.md says where it comes from; FACETRAIN_THUMBSUP_CLIP names a copy)"
  fi
fi

e2e_main
if "$py" "$D/make_mattes.py" --check >"$T/check.out" 2>&1; then
  pass "mattes match the polygons: $(tr '\n' ' ' <"$T/check.out")"
else
  cat "$T/check.out" >&2; fail "the committed mattes differ from their ground_truth.json"
fi

if "$py" "$D/eval_matte.py" selfcheck >"$T/selfcheck.json" 2>"$T/selfcheck.err"; then
  pass "eval_matte.py selfcheck: $(tr -d ' \n' <"$T/selfcheck.json")"
else
  cat "$T/selfcheck.json" "$T/selfcheck.err" >&2; fail "eval_matte.py selfcheck failed"
fi

check_clip handwave "$D/handwave/handwave.mp4" f5ad8a70f7e7979270bc515b66a097c6b922d05e16e731e0552c20d1771253ab 20 24

e2e_end
