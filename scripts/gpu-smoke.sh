#!/usr/bin/env bash
# The single-GPU check (issue 6), on the GPU machine in one command: build facetrain against the
# machine's CUDA LibTorch (Python's torch wheel) and NCCL (the nvidia-nccl wheel), with the Debian
# libraries that scripts/pack-gpu-deps.sh packed here, then run
#   1. ctest -L gpu          the [gpu] Catch2 cases (bf16 autocast df-256, CUDA augmentation, no host
#                            sync in the step, NCCL with one rank) and e2e/gpu_chain (train -> swap on CUDA)
#   2. facetrain train --device cuda --nproc-per-node 1   (the launcher path on CUDA)
#   3. scripts/bench.sh --sections train,swap            (unless --no-bench)
#
#   scripts/gpu-smoke.sh [--no-bench] [OUTDIR]     OUTDIR defaults to $OUT, else build-gpu/smoke
#   scripts/gpu-smoke.sh --deps-only [OUTDIR]      no GPU needed: unpack .gpu-deps, configure and build the
#                                                  torch-free part (facetrain_unit_tests) against it only,
#                                                  and run those tests with the pack's libraries
#
# Writes OUTDIR/gpu-smoke.log (everything), OUTDIR/gpu-smoke.json (one entry per step: name, ok,
# seconds, detail) and the bench results file. Exit 0 when every step passed, 1 when one failed,
# 69 when there is no CUDA device here (nothing is built then).
# Environment: FACETRAIN_GPU_DEPS (default .gpu-deps), BUILD_DIR (default build-gpu), JOBS (16),
# TORCH_CUDA_ARCH_LIST (default 9.0, Hopper), SMOKE_DEADLINE_S (default 560: the benchmark is cut
# short, or left out, so that the summary is written before a 600 s device-command limit).
set -uo pipefail
SMOKE_START=$(date +%s)
DEADLINE_S="${SMOKE_DEADLINE_S:-560}"

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH=1
DEPS_ONLY=0
OUTDIR=""
for arg in "$@"; do
  case "$arg" in
    --no-bench) BENCH=0 ;;
    --deps-only) DEPS_ONLY=1 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    -*) echo "gpu-smoke: ERROR: unknown option $arg" >&2; exit 64 ;;
    *) OUTDIR="$arg" ;;
  esac
done
DEPS="${FACETRAIN_GPU_DEPS:-$REPO/.gpu-deps}"
BUILD="${BUILD_DIR:-$REPO/build-gpu}"
OUTDIR="${OUTDIR:-${OUT:-$BUILD/smoke}}"
JOBS="${JOBS:-16}"
mkdir -p "$OUTDIR" || { echo "gpu-smoke: ERROR: cannot create $OUTDIR" >&2; exit 73; }
OUTDIR="$(cd "$OUTDIR" && pwd)"
LOG="$OUTDIR/gpu-smoke.log"
SUMMARY="$OUTDIR/gpu-smoke.json"
: >"$LOG"
STEPS_FILE="$(mktemp)"
trap 'rm -f "$STEPS_FILE"' EXIT
FAILED=0

say() { echo "gpu-smoke: $*" | tee -a "$LOG" >&2; }
# record NAME OK SECONDS DETAIL: one line of the summary.
record() { python3 -c 'import json,sys; print(json.dumps({"name": sys.argv[1], "ok": sys.argv[2] == "1", "seconds": round(float(sys.argv[3]), 1), "detail": sys.argv[4]}))' "$@" >>"$STEPS_FILE"; }
write_summary() {  # $1 = overall status
  python3 - "$SUMMARY" "$1" "$STEPS_FILE" <<'EOF'
import json, sys, subprocess, datetime
out, status, steps = sys.argv[1], sys.argv[2], [json.loads(l) for l in open(sys.argv[3]) if l.strip()]
gpus = []
try:
    gpus = [l.strip() for l in subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total,driver_version",
            "--format=csv,noheader"], capture_output=True, text=True, timeout=20).stdout.splitlines() if l.strip()]
except Exception:
    pass
json.dump({"status": status, "date": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"), "gpus": gpus,
           "steps": steps}, open(out, "w"), indent=1)
EOF
}
# step NAME CMD...: runs CMD with its output in the log; records the outcome.
step() {
  local name="$1"; shift
  local t0 rc
  say "---- $name: $*"
  t0=$(date +%s.%N)
  "$@" >>"$LOG" 2>&1
  rc=$?
  local took
  took=$(python3 -c "print($(date +%s.%N) - $t0)")
  if [ $rc = 0 ]; then
    say "ok   $name (${took%.*} s)"; record "$name" 1 "$took" "exit 0"
  else
    say "FAIL $name (exit $rc, ${took%.*} s): see $LOG"; record "$name" 0 "$took" "exit $rc"
    FAILED=1
  fi
  return $rc
}
finish() {
  # Calls into stubbed libraries of the pack (scripts/gpu-deps-closure.py), for the record.
  local stubs
  stubs="$(grep -o 'facetrain GPU deps: [^ ]* called, but [^ ]*' "$LOG" 2>/dev/null | sed 's/facetrain GPU deps: //' | sort | uniq -c | tr -s ' ' | paste -sd ';' -)"
  [ -n "$stubs" ] && record stub_calls 1 0 "$stubs"
  if [ "$FAILED" = 0 ]; then write_summary passed; say "all steps passed; summary $SUMMARY"; exit 0; fi
  write_summary failed; say "FAILED; summary $SUMMARY, log $LOG"; exit 1
}

# ---- 0. is there a GPU? -------------------------------------------------------------------------
if [ "$DEPS_ONLY" = 1 ]; then :; else
cuda_probe="$(python3 -c 'import torch; print(torch.__version__, torch.version.cuda, torch.cuda.is_available(), torch.cuda.device_count())' 2>&1 | tail -n 1)"
if ! nvidia-smi -L >>"$LOG" 2>&1 || ! echo "$cuda_probe" | grep -q ' True '; then
  say "no CUDA device here (nvidia-smi: $(nvidia-smi -L 2>&1 | head -n 1); python3 torch: $cuda_probe): nothing to test"
  record cuda_device 0 0 "no CUDA device: $cuda_probe"
  write_summary no_cuda
  exit 69
fi
say "CUDA: $(nvidia-smi -L | head -n 1); torch $cuda_probe"
record cuda_device 1 0 "$cuda_probe"
fi

# ---- 1. dependencies into a prefix of our own ---------------------------------------------------------
PREFIX="$BUILD/deps-prefix"
unpack_deps() {
  [ -f "$DEPS/deps.tar.xz" ] || { echo "no $DEPS/deps.tar.xz: run scripts/pack-gpu-deps.sh on the development machine and carry .gpu-deps"; return 1; }
  rm -rf "$PREFIX" && mkdir -p "$PREFIX" && tar -C "$PREFIX" -xJf "$DEPS/deps.tar.xz" || return 1
  # The Debian files name /usr: point them at the prefix (CMake configs, pkg-config files).
  local f
  while IFS= read -r -d '' f; do
    sed -E -i "s#(^|[[:space:]\"';=(]|-I|-L)/usr(/|\$|[[:space:]\"';)])#\\1$PREFIX/usr\\2#g" "$f"
  done < <(find "$PREFIX" \( -name '*.cmake' -o -name '*.pc' \) -type f -print0)
  # Every packed library must load here.
  local missing
  missing="$(LD_LIBRARY_PATH="$PREFIX/usr/lib/x86_64-linux-gnu" ldd "$PREFIX"/usr/lib/x86_64-linux-gnu/*.so.* 2>/dev/null | grep 'not found' | sort -u)"
  [ -z "$missing" ] || { echo "packed libraries need what is not here: $missing"; return 1; }
  echo "unpacked into $PREFIX"
}
step unpack_deps unpack_deps || finish

TORCH_CMAKE="$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)' 2>/dev/null)"
NCCL_ROOT="$(python3 - <<'EOF'
import glob, os, site, sys
roots = site.getsitepackages() + [site.getusersitepackages()]
for r in roots:
    for h in glob.glob(os.path.join(r, "nvidia", "**", "nccl.h"), recursive=True):
        print(os.path.dirname(os.path.dirname(h))); sys.exit(0)
EOF
)"
export NCCL_ROOT
say "torch CMake prefix: $TORCH_CMAKE; NCCL: ${NCCL_ROOT:-not found}"
LIBDIR="$PREFIX/usr/lib/x86_64-linux-gnu"
# No LD_LIBRARY_PATH: the pack would shadow the machine's own libraries for cmake, the compiler and
# python (its stubs, too). facetrain's binaries carry the pack's folder as DT_RPATH instead (which,
# unlike RUNPATH, also serves their dependencies' dependencies), and pkgconf runs through a wrapper.
LINK_FLAGS="-Wl,--disable-new-dtags -Wl,-rpath,$LIBDIR -Wl,-rpath-link,$LIBDIR${NCCL_ROOT:+ -Wl,-rpath,$NCCL_ROOT/lib}"
mkdir -p "$PREFIX/bin"
printf '#!/bin/sh\nLD_LIBRARY_PATH="%s" exec "%s" "$@"\n' "$LIBDIR" "$PREFIX/usr/bin/pkgconf" >"$PREFIX/bin/pkg-config"
chmod +x "$PREFIX/bin/pkg-config"
export PKG_CONFIG_PATH="$LIBDIR/pkgconfig:$PREFIX/usr/share/pkgconfig"
export PKG_CONFIG_LIBDIR="$PKG_CONFIG_PATH"
export CPLUS_INCLUDE_PATH="$PREFIX/usr/include/x86_64-linux-gnu${CPLUS_INCLUDE_PATH:+:$CPLUS_INCLUDE_PATH}"
export TORCH_CUDA_ARCH_LIST="${TORCH_CUDA_ARCH_LIST:-9.0}"
export CUDA_HOME="${CUDA_HOME:-/usr/local/cuda}"
export PATH="$CUDA_HOME/bin:$PATH"

# ---- 2. configure and build ---------------------------------------------------------------------------
# scripts/build.sh, with the configuration every CI run uses (FACETRAIN_REQUIRE_CUDA: CUDA, NCCL and
# Gloo or a configure error), against this machine's Python torch and the pack's Debian libraries.
build_as_ci() {  # extra cmake -D options...
  BUILD_DIR="$BUILD" JOBS="$JOBS" FACETRAIN_TORCH_PYTHON=python3 NCCL_ROOT="$NCCL_ROOT" \
    FACETRAIN_CMAKE_PREFIX_PATH="$PREFIX/usr;$LIBDIR/cmake" \
    bash "$REPO/scripts/build.sh" -DPKG_CONFIG_EXECUTABLE="$PREFIX/bin/pkg-config" \
    -DCMAKE_EXE_LINKER_FLAGS="$LINK_FLAGS" -DCMAKE_SHARED_LINKER_FLAGS="$LINK_FLAGS" \
    -DOPENSSL_ROOT_DIR="$PREFIX/usr" \
    -DFACETRAIN_GLOO_INCLUDE_DIR="$PREFIX/usr/include" "$@"
}
if [ "$DEPS_ONLY" = 1 ]; then
  # Only what the pack provides: the torch-free libraries and their unit tests, run against the pack.
  step configure cmake -S "$REPO" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DFACETRAIN_WITH_TORCH=OFF \
    -DCMAKE_PREFIX_PATH="$PREFIX/usr;$LIBDIR/cmake" -DPKG_CONFIG_EXECUTABLE="$PREFIX/bin/pkg-config" \
    -DCMAKE_EXE_LINKER_FLAGS="$LINK_FLAGS" -DCMAKE_SHARED_LINKER_FLAGS="$LINK_FLAGS" -DOPENSSL_ROOT_DIR="$PREFIX/usr" || finish
  step build cmake --build "$BUILD" -j "$JOBS" --target facetrain_unit_tests || finish
  step loads_from_pack bash -c "ldd '$BUILD/tests/facetrain_unit_tests' | grep -E '=> /' | grep -v -E '$PREFIX|/(libc|libm|libstdc\+\+|libgcc_s|libpthread|libdl|librt)\.so' ; test \$(ldd '$BUILD/tests/facetrain_unit_tests' | grep -c '$PREFIX') -gt 20"
  step unit_tests_on_pack "$BUILD/tests/facetrain_unit_tests"
  finish
fi
step build build_as_ci || finish
step facetrain_version "$BUILD/facetrain" --version

# ---- 3. tests labelled gpu ------------------------------------------------------------------------------
SAMPLES_DIR="$DEPS/samples"
export FACETRAIN_SAMPLES_DIR="$SAMPLES_DIR"          # read by gpu_chain.sh and bench.sh: no fetching here
export FACETRAIN_GPU_FACESETS="$BUILD/facesets"       # the face sets extracted on the development machine
export FACETRAIN_MODELS="$DEPS/models"                # dlib's CNN face detector, for its [gpu] case
export FACETRAIN_DLIB_FACES="$SAMPLES_DIR/dlib_faces/" # the photos that case compares on (tests/unit/face/dlib_examples.h)
step facesets bash -c "rm -rf '$FACETRAIN_GPU_FACESETS' && mkdir -p '$FACETRAIN_GPU_FACESETS' && tar -C '$FACETRAIN_GPU_FACESETS' -xJf '$DEPS/facesets.tar.xz' && cd '$SAMPLES_DIR' && sha256sum -c SHA256SUMS && cd '$FACETRAIN_MODELS' && sha256sum -c SHA256SUMS"
export FACETRAIN_REQUIRE_GPU=1                        # a [gpu] case that skips is a failure here
step ctest_gpu ctest --test-dir "$BUILD" -L gpu --output-on-failure --timeout 900
cp "$BUILD/Testing/Temporary/LastTest.log" "$OUTDIR/ctest-gpu.log" 2>/dev/null || true

# ---- 4. the launcher path on CUDA (one local worker) -------------------------------------------------------
launcher_one_rank() {
  local run="$BUILD/smoke-nproc1"
  rm -rf "$run"
  "$BUILD/facetrain" train --actor "$FACETRAIN_GPU_FACESETS/actor" --double "$FACETRAIN_GPU_FACESETS/double" -o "$run" \
    --preset df-256 --device cuda --nproc-per-node 1 --batch-size 8 --max-steps 20 --json >"$OUTDIR/nproc1.jsonl" || return 1
  python3 - "$OUTDIR/nproc1.jsonl" <<'EOF'
import json, math, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{")]
done = [e for e in ev if e.get("event") == "done"]
assert done, "no done event"
d = done[-1]
print("done:", json.dumps(d)[:400])
loss = d.get("last_loss", d.get("loss"))
assert d.get("steps") == 20 and d.get("reason") == "max_steps", d
assert loss is None or math.isfinite(float(loss)), d
EOF
}
step train_cuda_nproc1 launcher_one_rank

# ---- 5. benchmark -------------------------------------------------------------------------------------
# Two invocations, so that a cut-short swap measurement keeps the training results.
bench_part() {  # NAME SECTIONS OUTFILE MIN_SECONDS
  local remaining=$(( DEADLINE_S - ($(date +%s) - SMOKE_START) ))
  if [ "$remaining" -lt "$4" ]; then
    say "skipping $1: ${remaining} s left before the ${DEADLINE_S} s deadline"; record "$1" 0 0 "skipped: ${remaining} s left"
    FAILED=1; return 1
  fi
  step "$1" timeout -k 5 $(( remaining - 10 )) env FACETRAIN="$BUILD/facetrain" FACETRAIN_BENCH="$BUILD/facetrain_bench" \
    BENCH_TARGET_MAX_TIME="${BENCH_TARGET_MAX_TIME:-60s}" "$REPO/scripts/bench.sh" --no-build --sections "$2" --repeat 1 --out "$3"
}
if [ "$BENCH" = 1 ]; then
  bench_part bench_train train "$OUTDIR/bench.json" 200
  bench_part bench_swap swap "$OUTDIR/bench-swap.json" 45
  python3 - "$OUTDIR/bench.json" "$OUTDIR/bench-swap.json" <<'EOF' 2>&1 | tee -a "$LOG" >&2 || true
import json, os, sys
results = {}
for path in sys.argv[1:]:
    if os.path.exists(path):
        results.update(json.load(open(path))["results"])
train = results.get("train", {})
print("peak bf16 matmul: %s TFLOP/s" % train.get("peak_bf16_tflops"))
print("preset     batch  images/s  step_ms  data_ms  peak_GiB  TFLOP/s   MFU")
for r in train.get("rows", []):
    f = lambda k, fmt: (fmt % r[k]) if r.get(k) is not None else "-"
    print("%-9s %6d %9s %8s %8s %9s %8s %6s" % (r["preset"], r["batch_size"], f("images_per_s", "%.0f"), f("step_ms", "%.1f"),
          f("data_ms", "%.2f"), f("peak_mem_gib", "%.1f"), f("tflops", "%.0f"), f("mfu", "%.3f")))
ttt = dict(train.get("time_to_target") or {}); ttt.pop("validation_curve", None)
print("time_to_target", json.dumps(ttt))
print("swap_1080p", json.dumps(results.get("swap", {}).get("swap_1080p")))
EOF
fi
finish
