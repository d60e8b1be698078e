#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang (ASan+UBSan) and runs each for
# FUZZ_SECONDS (default 20) from its seed corpus. A crash, leak, UB or timeout fails the script and
# leaves the input under build-fuzz/crashes/<target>/: turn it into a test case and a fix.
# Usage: scripts/fuzz.sh [target...]     (targets: frame_range sequence_pattern alignments config)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${FUZZ_BUILD_DIR:-$repo/build-fuzz}"
seconds="${FUZZ_SECONDS:-20}"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(frame_range sequence_pattern alignments config)
export CCACHE_DIR="${CCACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/facetrain-ccache}" CCACHE_BASEDIR="${CCACHE_BASEDIR:-$repo}"
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  CXX=clang++ cmake -S "$repo/tests/fuzz" -B "$build_dir" "${generator[@]}" "${launcher[@]}" >/dev/null
fi
if ! cmake --build "$build_dir" -j "${JOBS:-$(nproc)}" >"$build_dir/build.log" 2>&1; then
  echo "fuzz: the fuzz targets do not build (the last lines of $build_dir/build.log):"
  grep -E "error|undefined reference" "$build_dir/build.log" | tail -n 8
  exit 1
fi
status=0
for target in "${targets[@]}"; do
  corpus="$build_dir/corpus/$target"
  crashes="$build_dir/crashes/$target"
  mkdir -p "$corpus" "$crashes"
  cp -n "$repo/tests/fuzz/corpus/$target/"* "$corpus/" 2>/dev/null || true
  log="$build_dir/$target.log"
  # -rss_limit_mb / -timeout: an input that needs > 1 GiB or > 5 s is a finding, not a slow test.
  if "$build_dir/fuzz_$target" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=1024 -max_len=4096 \
       -artifact_prefix="$crashes/" -print_final_stats=1 "$corpus" >"$log" 2>&1; then
    runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo "?")
    echo "fuzz: $target ok ($runs inputs in ${seconds} s, corpus $(ls "$corpus" | wc -l) files)"
  else
    echo "fuzz: $target FAILED: see $log and $crashes/"
    grep -E "ERROR|SUMMARY|runtime error" "$log" | head -n 5
    status=1
  fi
done
exit "$status"
