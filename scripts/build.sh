#!/usr/bin/env bash
# Release build of facetrain; the executable lands at build/facetrain.
# Usage: scripts/build.sh [extra cmake -D options...]   (BUILD_DIR overrides ./build)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${BUILD_DIR:-$repo/build}"
jobs="${JOBS:-$(nproc)}"
export CCACHE_DIR="${CCACHE_DIR:-$repo/.cache/ccache}"
export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-2G}"
generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  cmake -S "$repo" -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release "$@"
elif [ $# -gt 0 ]; then
  cmake -S "$repo" -B "$build_dir" "$@"
fi
start=$(date +%s)
cmake --build "$build_dir" -j "$jobs"
echo "build: $build_dir/facetrain ready in $(( $(date +%s) - start )) s"
