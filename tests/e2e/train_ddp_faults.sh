#!/usr/bin/env bash
# Faults of data-parallel training (docs/design.md §5, §6), Gloo on CPU with --dist-timeout 10:
# a rank SIGKILLed or SIGSTOPped ends every other rank within the timeout, non-zero, naming the
# lost rank, with no orphan process; the same command then resumes from the last complete
# checkpoint. SIGTERM to the launcher stops every rank at one step, rank 0 checkpoints, exit 143.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/train_helpers.sh"
e2e_begin
make_train_facesets 60
cfg="$(log_every_step_config)"
TIMEOUT_S=10
common=(--actor "$T/actor" --double "$T/double" --preset tiny --config "$cfg" --batch-size 2 --checkpoint-every 5
        --nproc-per-node 2 --dist-timeout "$TIMEOUT_S")

# start_run NAME: a long 2-rank run in the background; sets LAUNCHER, RANK0, RANK1 once 7 steps are logged.
start_run() {
  local name="$1"
  timeout -k 10 300 "$FACETRAIN" train "${common[@]}" -o "$T/$name" --max-steps 100000 \
    >"$T/$name.out" 2>"$T/$name.err" </dev/null &
  LAUNCHER=$!
  for _ in $(seq 1 600); do
    [ -s "$T/$name/metrics.jsonl" ] && [ "$(wc -l <"$T/$name/metrics.jsonl")" -ge 7 ] && break
    sleep 0.2
  done
  # timeout(1) runs the launcher as its child; the workers are the launcher's children.
  local launcher_pid p
  launcher_pid="$(pgrep -P "$LAUNCHER" | head -n 1)"
  RANK0=""; RANK1=""
  for p in $(pgrep -P "$launcher_pid"); do
    tr '\0' '\n' <"/proc/$p/environ" | grep -qx 'RANK=0' && RANK0="$p"
    tr '\0' '\n' <"/proc/$p/environ" | grep -qx 'RANK=1' && RANK1="$p"
  done
  [ -n "$RANK0" ] && [ -n "$RANK1" ] || fatal "$name: cannot find the two workers of launcher $launcher_pid"
}
# seconds_until_gone PID: waits (up to 60 s) for PID to end; prints the seconds it took.
seconds_until_gone() {
  local t0 t1
  t0=$(date +%s.%N)
  for _ in $(seq 1 600); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  t1=$(date +%s.%N)
  python3 -c "print(round($t1 - $t0, 1))"
}
no_orphans() {  # no process still has this run directory on its command line
  if pgrep -f -- "-o $T/$1 " >/dev/null || pgrep -f -- "-o $T/$1\$" >/dev/null; then
    fail "$1: processes left behind: $(pgrep -af -- "-o $T/$1" | head -3)"
  else
    pass "$1: no process left behind"
  fi
}
resumes() {  # resumes NAME: the same command (to a few more steps) resumes from the latest checkpoint
  local name="$1" latest
  latest="$(cat "$T/$name/checkpoints/latest")"
  ft "${name}_again" train "${common[@]}" -o "$T/$name" --max-steps $((10#${latest#step-} + 3))
  expect_rc 0 "${name}_again"
  grep -q "resumed from .*$latest at step" "$T/${name}_again.err" \
    && pass "$name: the same command resumed from $latest" || fail "$name: no resume from $latest"
}

# lose_rank1 NAME SIGNAL LIMIT_S: starts a run, sends SIGNAL to rank 1, and checks that rank 0 is
# gone within LIMIT_S seconds and that the launcher exits 75.
lose_rank1() {
  local name="$1" signal="$2" limit="$3"
  start_run "$name"
  kill "-$signal" "$RANK1"
  local took rc
  took="$(seconds_until_gone "$RANK0")"
  set +e; wait "$LAUNCHER"; rc=$?; set -e
  python3 -c "import sys; sys.exit(0 if $took <= $limit else 1)" && pass "SIG$signal: rank 0 ended after $took s" \
    || fail "SIG$signal: rank 0 took $took s (> $limit)"
  [ "$rc" = 75 ] && pass "SIG$signal: launcher exit 75" || fail "SIG$signal: launcher exit $rc, expected 75"
}

# 1. SIGKILL rank 1: rank 0 and the launcher end fast, 75, naming rank 1.
lose_rank1 kill KILL "$TIMEOUT_S"
grep -q "ERROR: \[rank 0\] .*lost rank 1" "$T/kill.err" && grep -q "^ERROR: lost rank 1: it was killed by signal 9" "$T/kill.err" \
  && pass "SIGKILL: rank 0 and the launcher name the lost rank 1" || { fail "SIGKILL: lost rank not named"; tail -4 "$T/kill.err" >&2; }
no_orphans kill
resumes kill

# 2. SIGSTOP rank 1 (frozen, sockets open): rank 0 gives up within the timeout naming rank 1; the
#    launcher then kills the frozen rank.
lose_rank1 stop STOP "$((TIMEOUT_S + 1))"
grep -q "ERROR: \[rank 0\] .*lost rank 1 " "$T/stop.err" && grep -q "rank(s) 1 did not stop and were killed" "$T/stop.err" \
  && pass "SIGSTOP: rank 0 names the lost rank 1; the launcher killed it" || { fail "SIGSTOP: lost rank not named"; tail -4 "$T/stop.err" >&2; }
no_orphans stop
resumes stop

# 3. SIGTERM to the launcher: every rank stops at the same step, rank 0 checkpoints it, exit 143.
start_run term
kill -TERM "$(pgrep -P "$LAUNCHER" | head -n 1)"
set +e; wait "$LAUNCHER"; rc=$?; set -e
[ "$rc" = 143 ] && pass "SIGTERM: exit 143" || { fail "SIGTERM: exit $rc, expected 143"; tail -4 "$T/term.err" >&2; }
stopped="$(tail -n 1 "$T/term/metrics.jsonl" | python3 -c 'import json,sys; print(json.load(sys.stdin)["step"])')"
[ "$(cat "$T/term/checkpoints/latest")" = "step-$(printf %08d "$stopped")" ] \
  && pass "SIGTERM: checkpoint at the last step ($stopped)" || fail "SIGTERM: latest is $(cat "$T/term/checkpoints/latest"), last step $stopped"
if grep -q "ERROR" "$T/term.err"; then fail "SIGTERM: errors logged: $(grep ERROR "$T/term.err" | head -2)"; else pass "SIGTERM: no rank failed"; fi
no_orphans term
resumes term
e2e_end
