#!/usr/bin/env bash
# Release build of facetrain against the torch wheel's LibTorch (scripts/setup.sh installs it), with
# CUDA and NCCL compiled in: the same configuration on the CI machine (no GPU) and on the GPU machine
# (scripts/gpu-smoke.sh calls this script). The executable lands at build/facetrain.
# Usage: scripts/build.sh [extra cmake -D options...]   (BUILD_DIR overrides ./build)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${BUILD_DIR:-$repo/build}"
jobs="${JOBS:-$(nproc)}"
venv="${FACETRAIN_VENV:-$repo/.venv}"
cuda_home="${CUDA_HOME:-/usr/local/cuda}"
# ccache outlives a clone: a second clone on the same machine reuses the objects.
export CCACHE_DIR="${CCACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/facetrain-ccache}"
export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-3G}"
# Paths relative to the checkout in ccache's keys: clones and worktrees share their objects.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$repo}"
# LibTorch's headers differ between its CPU and CUDA builds only in macros: PCH and objects stay valid.
export CCACHE_SLOPPINESS="${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}"
# No kernels of ours are compiled; naming Hopper keeps TorchConfig from probing for a GPU.
export TORCH_CUDA_ARCH_LIST="${TORCH_CUDA_ARCH_LIST:-9.0}"

# LibTorch: the venv's torch wheel (scripts/setup.sh), or FACETRAIN_TORCH_PYTHON's torch (the GPU
# machine's own Python: scripts/gpu-smoke.sh). Either way the same configuration below.
python="${FACETRAIN_TORCH_PYTHON:-$venv/bin/python}"
command -v "$python" >/dev/null 2>&1 || { echo "build: ERROR: no $python: run scripts/setup.sh first" >&2; exit 1; }
torch_cmake="$("$python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/torch/share/cmake"
if [ ! -f "$torch_cmake/Torch/TorchConfig.cmake" ]; then   # a torch outside the interpreter's purelib
  torch_cmake="$("$python" -c 'import importlib.util, os; print(os.path.join(os.path.dirname(importlib.util.find_spec("torch").origin), "share", "cmake"))' 2>/dev/null)"
fi
[ -f "$torch_cmake/Torch/TorchConfig.cmake" ] || { echo "build: ERROR: no LibTorch for $python: run scripts/setup.sh" >&2; exit 1; }

generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
# The one configuration of every build, CI's and the GPU machine's. FACETRAIN_CMAKE_PREFIX_PATH adds
# prefixes ahead of LibTorch's (gpu-smoke.sh's unpacked Debian libraries); NCCL_ROOT overrides the
# toolkit's NCCL.
configure=(-DCMAKE_PREFIX_PATH="${FACETRAIN_CMAKE_PREFIX_PATH:+$FACETRAIN_CMAKE_PREFIX_PATH;}$torch_cmake"
           -DCUDAToolkit_ROOT="$cuda_home" -DNCCL_ROOT="${NCCL_ROOT:-$cuda_home}" -DFACETRAIN_REQUIRE_CUDA=ON)
if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  cmake -S "$repo" -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release "${configure[@]}" "$@"
elif [ $# -gt 0 ]; then
  cmake -S "$repo" -B "$build_dir" "$@"
fi
start=$(date +%s)
cmake --build "$build_dir" -j "$jobs"
echo "build: $build_dir/facetrain ready in $(( $(date +%s) - start )) s"
