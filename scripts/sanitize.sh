#!/usr/bin/env bash
# The torch-free libraries (base, media, data_prep, verify) and their unit tests built with ASan+UBSan and
# run: memory errors, leaks and undefined behaviour in our parsers, media readers (FFmpeg,
# OpenImageIO), face analysis (dlib) and atomic writes fail the script. LibTorch is not
# instrumented, so train/swap stay with the normal build (and the fuzzers cover their parsers).
# Usage: scripts/sanitize.sh [Catch2 test filter]   (default: every unit test)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${SANITIZE_BUILD_DIR:-$repo/build-asan}"
export CCACHE_DIR="${CCACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/facetrain-ccache}" CCACHE_BASEDIR="${CCACHE_BASEDIR:-$repo}"
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
[ -f "$build_dir/CMakeCache.txt" ] && generator=()   # an existing build keeps its generator
# -O1 -g1, as the sanitizers' own documentation advises: stack traces keep their file:line, and the
# build takes less than half the time of -O2 -g (dlib's HOG detector alone: 131 s instead of 322 s).
cmake -S "$repo" -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=Sanitize \
  -DCMAKE_CXX_FLAGS_SANITIZE="-O1 -g1" -DFACETRAIN_SANITIZE=ON -DFACETRAIN_WITH_TORCH=OFF >/dev/null
start=$(date +%s)
cmake --build "$build_dir" -j "${JOBS:-$(nproc)}" --target facetrain_unit_tests >/dev/null
echo "sanitize: built in $(( $(date +%s) - start )) s"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export FACETRAIN_SOURCE_DIR="$repo"
start=$(date +%s)
# Benchmarks ([.bench]) are hidden from the default run already.
if "$build_dir/tests/facetrain_unit_tests" "${@:-~[.]}" >"$build_dir/sanitize.log" 2>&1; then
  echo "sanitize: $(tail -n 2 "$build_dir/sanitize.log" | tr -s '\n' ' ') in $(( $(date +%s) - start )) s"
else
  grep -E "ERROR: AddressSanitizer|runtime error|LeakSanitizer|FAILED|test cases" "$build_dir/sanitize.log" | head -n 20
  echo "sanitize: FAILED (full log: $build_dir/sanitize.log)"
  exit 1
fi
