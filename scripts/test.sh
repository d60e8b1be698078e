#!/usr/bin/env bash
# Installs what is missing, builds, fetches the sample footage and runs every test through ctest.
# Usage: scripts/test.sh [ctest arguments...]   e.g. scripts/test.sh -L unit
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${BUILD_DIR:-$repo/build}"
# Each phase's wall time, printed in the summary (CI's budget is 90 minutes for all of it).
phase_times=()
phase_start=$(date +%s)
phase_done() { phase_times+=("$1 $(( $(date +%s) - phase_start )) s"); phase_start=$(date +%s); }
"$repo/scripts/setup.sh"
phase_done setup
"$repo/scripts/build.sh"
phase_done build
"$repo/scripts/fetch-samples.sh" >/dev/null
"$repo/scripts/fetch-models.sh" >/dev/null   # dlib's face-recognition and CNN detector models
phase_done fetch
cd "$build_dir"
start=$(date +%s)
# ctest runs TEST_JOBS tests at once; LibTorch's OpenMP pool would start one thread per core in each,
# and oversubscribed OpenMP threads spin: the tiny overfit case took 277 s instead of 36 s on a loaded
# 2-core machine. One core's worth of threads per concurrent test.
test_jobs="${TEST_JOBS:-2}"
threads=$(( $(nproc) / test_jobs )); [ "$threads" -ge 1 ] || threads=1
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-$threads}"
set +e
ctest --output-on-failure --timeout 1200 -j "$test_jobs" "$@" 2>&1 | tee "$build_dir/ctest.log"
status=${PIPESTATUS[0]}
set -e
# ctest's per-test lines: "Passed", "***Skipped" (exit 77 or a SKIPPED: line), anything else failed.
passed=$(grep -cE '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .* Passed' "$build_dir/ctest.log" || true)
skipped=$(grep -cE '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .*\*\*\*Skipped' "$build_dir/ctest.log" || true)
failed=$(grep -E '^ *[0-9]+/[0-9]+ Test +#[0-9]+: ' "$build_dir/ctest.log" | grep -vcE ' Passed|\*\*\*Skipped' || true)
if [ "$skipped" -gt 0 ]; then   # what was skipped, and why (each test's own SKIPPED: line)
  echo "skipped here:"
  grep -E '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .*\*\*\*Skipped' "$build_dir/ctest.log" |
    sed -E 's/^.*Test +#[0-9]+: (.*[^ ]) \.{3,}.*/  \1/'
  grep -h 'SKIPPED: ' "$build_dir"/Testing/Temporary/LastTest*.log 2>/dev/null | sed -E 's/^ */    /' | sort -u || true
fi
phase_done ctest
# The whole suite also runs the hardening checks that need builds of their own: the libFuzzer
# targets (clang, ASan/UBSan) and the ASan/UBSan build of the torch-free libraries' unit tests.
# TEST_HARDENING=0 leaves them out; ctest arguments (a subset) leave them out too.
if [ $# -eq 0 ] && [ "${TEST_HARDENING:-1}" = 1 ]; then
  for check in fuzz sanitize; do
    if "$repo/scripts/$check.sh"; then passed=$((passed + 1)); else failed=$((failed + 1)); status=1; fi
    phase_done "$check"
  done
fi
# Tools left out on purpose (FACETRAIN_WITHOUT, scripts/setup.sh): their tests were Skipped above.
without="${FACETRAIN_WITHOUT:-}"
without=(${without//,/ })
if [ ${#without[@]} -gt 0 ]; then
  echo "left out by FACETRAIN_WITHOUT: ${#without[@]} tool(s): ${without[*]} (the tests that need them are Skipped)"
fi
echo "phases: $(IFS=,; echo "${phase_times[*]}" | sed 's/,/, /g'); tests $(( $(date +%s) - start )) s"
echo "test.sh: ${passed} passed, ${failed} failed, ${skipped} skipped"
exit "$status"
