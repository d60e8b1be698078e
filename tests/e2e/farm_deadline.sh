#!/usr/bin/env bash
# The Deadline plugin examples/farm/deadline/FaceTrain/ run the way a Deadline worker runs a Simple
# plugin, with a small stand-in of Deadline's plugin API (tests/e2e/deadline/: the real API exists
# only inside a Deadline installation) and the real facetrain: the executable from the plugin
# configuration, frame tokens and path mapping applied to the arguments, progress from the
# `Progress: N%` lines, the failure message from the `ERROR:` line (facetrain writes it to stderr; the
# plugin's wrapper joins it to the stdout Deadline's handlers read), and the exit code deciding:
# 64/65/66/78 fail the job for good, 69/75/143 are requeued (69 also marks the worker bad).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
e2e_begin
PLUGIN="$FACETRAIN_SOURCE_DIR/examples/farm/deadline/FaceTrain"
RUNNER="$E2E_DIR/deadline/run_task.py"
mkdir -p "$T/shows"

# task NAME ARGUMENTS [START END [CONFIG]]: runs one task; its JSON report in $T/NAME.json.
task() {
  local name="$1" arguments="$2" start="${3:-1}" end="${4:-1}"
  local config="${5:-/opt/nowhere/facetrain
$FACETRAIN}"
  python3 - "$T/$name.task.json" "$arguments" "$start" "$end" "$config" "$T/shows" "$SAMPLES" <<'PY'
import json, sys
path, arguments, start, end, config, shows, samples = sys.argv[1:]
json.dump({"plugin_info": {"Arguments": arguments}, "config": {"FaceTrainExecutable": config},
           "start_frame": int(start), "end_frame": int(end), "worker": "render07", "job": "job-" + path,
           "path_mapping": [["/mnt/shows", shows], ["/mnt/plates", samples]]}, open(path, "w"))
PY
  if ! timeout 300 python3 "$RUNNER" "$PLUGIN" "$T/$name.task.json" >"$T/$name.json" 2>"$T/$name.err"; then
    fail "$name: the stand-in worker failed:"; tail -n 5 "$T/$name.err" >&2; echo '{}' >"$T/$name.json"
  fi
  note "$name: $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("exit", d.get("exit_code"), "progress", d.get("progress", [])[-3:], "failed:", d.get("failed"))' "$T/$name.json")"
}
# check NAME PYTHON_EXPRESSION DESCRIPTION: the expression over the report `d` must be true.
check() {
  if python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$T/$1.json"; then
    pass "$1: $3"
  else
    fail "$1: $3 (report: $(head -c 600 "$T/$1.json"))"
  fi
}

# 1. An extract task (frames 1-12 of the double's plate), paths through the repository's mapping.
task extract "extract /mnt/plates/cap12_edit.mp4 -o /mnt/shows/faces/double --frames <STARTFRAME>-<ENDFRAME> --size 128" 1 12
check extract 'd["exit_code"] == 0 and d["failed"] is None and not d["job_failed"]' "exit 0, task done"
check extract 'd["command"][1].endswith("/facetrain") and "/opt/nowhere" not in d["command"][1]' \
  "executable from the plugin configuration (the first path that exists)"
check extract '"--frames" in d["command"] and d["command"][d["command"].index("--frames") + 1] == "1-12"' \
  "<STARTFRAME>-<ENDFRAME> became the task's frames 1-12"
check extract 'all(not a.startswith("/mnt/") for a in d["command"])' "path mapping applied to the arguments"
check extract 'len(d["progress"]) >= 3 and d["progress"][-1] == 100 and d["progress"] == sorted(d["progress"])' \
  "progress from 'Progress: N%' lines, rising to 100"
check extract 'd["stderr_lines"] == 0' "facetrain's stderr reached the handlers' stream (nothing left on stderr)"
[ "$(cat "$T"/shows/faces/double/alignments/*.jsonl 2>/dev/null | wc -l)" = 12 ] \
  && pass "extract: the face set holds frames 1-12" || fail "extract: the face set does not hold 12 frames"

# A train task stopped only by --max-time (no --max-steps) reports progress against the clock.
task train_time "train --actor /mnt/shows/faces/double --double /mnt/shows/faces/double -o /mnt/shows/run_time --preset tiny --batch-size 2 --max-time 20s" 0 0
check train_time 'd["exit_code"] == 0 and d["failed"] is None' "train --max-time 20s: exit 0"
check train_time 'len(d["progress"]) >= 2 and d["progress"] == sorted(d["progress"]) and d["progress"][-1] >= 90' \
  "train with only --max-time: progress lines rise to $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["progress"][-1:])' "$T/train_time.json")"

# Which stream decides: stdout. With stderr on a terminal (script(1) gives a pty) and stdout in a
# file, the file still gets the `Progress:` lines (a wrapper that logs only stdout sees progress).
if command -v script >/dev/null; then
  script -qec "'$FACETRAIN' extract '$SAMPLES/cap12_edit.mp4' -o '$T/tty_faces' --frames 1-4 --size 64 >'$T/tty.out'" /dev/null \
    >"$T/tty.term" 2>&1 </dev/null || true
  grep -q '^Progress: 100%$' "$T/tty.out" && ! grep -q 'Progress' "$T/tty.term" \
    && pass "stderr a terminal, stdout a file: 'Progress: N%' lines go to stdout, no bar" \
    || fail "stderr a terminal, stdout a file: stdout has $(grep -c Progress "$T/tty.out") Progress lines"
else
  fail "script(1) (util-linux) is needed for the terminal check"
fi

# 2. Exit codes that cannot succeed on a retry fail the job for good, with facetrain's ERROR: text.
task missing "extract /mnt/plates/no_such_plate.mp4 -o /mnt/shows/faces/x --frames <STARTFRAME>-<ENDFRAME>" 1 4
check missing 'd["exit_code"] == 66 and d["job_failed"] and "exit 66 (input missing)" in d["failed"] and "no_such_plate.mp4" in d["failed"]' \
  "exit 66: job failed for good, message from the ERROR: line naming the plate"
task no_face "extract /mnt/plates/derived/no_face.mp4 -o /mnt/shows/faces/none --frames <STARTFRAME>-<ENDFRAME>" 1 8
check no_face 'd["exit_code"] == 65 and d["job_failed"] and "exit 65 (bad input data)" in d["failed"] and "0 faces" in d["failed"]' \
  "exit 65 (no face in the frames): job failed for good, not retried"
task usage "swap --no-such-flag" 1 1
check usage 'd["exit_code"] == 64 and d["job_failed"] and "exit 64 (usage)" in d["failed"]' "exit 64: job failed for good"

# 3. Temporary failures are requeued: 69 (no CUDA device here) also puts the worker on the bad list.
task no_gpu "train --actor /mnt/shows/faces/double --double /mnt/shows/faces/double -o /mnt/shows/run --device cuda --max-steps 1" 0 0
check no_gpu 'd["exit_code"] == 69 and not d["job_failed"] and "requeues" in d["failed"] and "CUDA" in d["failed"]' \
  "exit 69: a task error Deadline requeues, not a failed job"
check no_gpu 'len(d["bad_workers"]) == 1 and d["bad_workers"][0][1] == "render07"' "exit 69: this worker goes on the job's bad list"
# 75 and 143 from a stand-in executable (a lost rank and a stop after saving take a real cluster).
printf '#!/bin/sh\necho "Progress: 40%%"\necho "ERROR: [rank 1] lost rank 0 (stand-in)" >&2\nexit "$1"\n' >"$T/exit_with.sh"
chmod +x "$T/exit_with.sh"
task lost_rank "75" 0 0 "$T/exit_with.sh"
check lost_rank 'd["exit_code"] == 75 and not d["job_failed"] and not d["bad_workers"] and "requeues" in d["failed"] and "lost rank 0" in d["failed"] and d["progress"] == [40]' \
  "exit 75: requeued, no bad worker"
task stopped "143" 0 0 "$T/exit_with.sh"
check stopped 'd["exit_code"] == 143 and not d["job_failed"] and "requeues" in d["failed"]' "exit 143: requeued (resumes from its checkpoint)"

# 4. No executable on this worker: the task fails saying where it looked.
task no_exe "--version" 0 0 "/opt/nowhere/facetrain"
check no_exe 'd["exit_code"] is None and "no facetrain executable" in d["failed"] and "/opt/nowhere/facetrain" in d["failed"]' \
  "no configured executable exists: the task fails naming the paths"

# 5. The example job files name the plugin's keys Deadline documents.
for f in "$FACETRAIN_SOURCE_DIR"/examples/farm/deadline/*_job_info.job; do
  grep -q '^OverrideTaskFailureDetection=True' "$f" && grep -q '^FailureDetectionTaskErrors=' "$f" \
    || fail "$(basename "$f"): FailureDetectionTaskErrors without OverrideTaskFailureDetection=True is ignored"
done

# 6. submit_chain.sh wires JobDependencies from the JobIDs deadlinecommand prints (a stand-in
#    deadlinecommand that keeps each job info file it is given and answers as Deadline does).
D="$FACETRAIN_SOURCE_DIR/examples/farm/deadline"
mkdir -p "$T/submitted"
cat >"$T/deadlinecommand" <<STUB
#!/bin/sh
n=\$(( \$(ls "$T/submitted" | wc -l) + 1 ))
cp "\$1" "$T/submitted/job\$n.job"
echo "Result=Success"
echo "JobID=64f0c0ffee\$n"
STUB
chmod +x "$T/deadlinecommand"
if DEADLINECOMMAND="$T/deadlinecommand" bash "$D/submit_chain.sh" "$D/extract_job_info.job" "$D/extract_plugin_info.job" \
     "$D/extract_job_info.job" "$D/extract_plugin_info.job" "$D/train_job_info.job" "$D/train_plugin_info.job" \
     "$D/swap_job_info.job" "$D/swap_plugin_info.job" >"$T/chain.out" 2>"$T/chain.err"; then
  if [ "$(cat "$T"/submitted/job[12].job | grep -c '^JobDependencies=')" = 0 ] \
     && grep -qx 'JobDependencies=64f0c0ffee1,64f0c0ffee2' "$T/submitted/job3.job" \
     && grep -qx 'JobDependencies=64f0c0ffee3' "$T/submitted/job4.job" && grep -qx 'swap 64f0c0ffee4' "$T/chain.out"; then
    pass "submit_chain.sh: train waits for both extracts, swap for train (JobDependencies)"
  else
    fail "submit_chain.sh: dependencies not wired: $(grep -h JobDependencies "$T"/submitted/*.job | tr '\n' ' ')"
  fi
else
  fail "submit_chain.sh failed: $(cat "$T/chain.err")"
fi
e2e_end
