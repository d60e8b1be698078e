#!/usr/bin/env bash
# The whole chain on Deadline: extract (actor, double) -> train -> swap, each job waiting for the
# ones before it (the job info key JobDependencies, a comma-separated list of job IDs; deadlinecommand
# prints "JobID=..." for each job it submits).
#
#   examples/farm/deadline/submit_chain.sh ACTOR_JOB_INFO ACTOR_PLUGIN_INFO DOUBLE_JOB_INFO DOUBLE_PLUGIN_INFO \
#       TRAIN_JOB_INFO TRAIN_PLUGIN_INFO SWAP_JOB_INFO SWAP_PLUGIN_INFO
#
# The files are copies of this folder's *_job_info.job / *_plugin_info.job edited for the shot.
# Environment: DEADLINECOMMAND (default: deadlinecommand on PATH). Prints the four job IDs.
# Checked only against Deadline's documentation: there is no Deadline repository here.
set -euo pipefail
[ $# -eq 8 ] || { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 64; }
deadlinecommand="${DEADLINECOMMAND:-deadlinecommand}"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

# submit JOB_INFO PLUGIN_INFO [DEPENDENCY_IDS]: prints the new job's ID.
submit() {
  local job_info="$scratch/$(basename "$1")"
  grep -v '^JobDependencies=' "$1" >"$job_info"
  [ -z "${3:-}" ] || echo "JobDependencies=$3" >>"$job_info"
  "$deadlinecommand" "$job_info" "$2" | sed -n 's/^JobID=//p' | tr -d '\r' | head -n 1
}
actor=$(submit "$1" "$2")
double=$(submit "$3" "$4")
train=$(submit "$5" "$6" "$actor,$double")
swap=$(submit "$7" "$8" "$train")
for id in "$actor" "$double" "$train" "$swap"; do
  [ -n "$id" ] || { echo "submit_chain.sh: deadlinecommand printed no JobID" >&2; exit 1; }
done
printf 'extract-actor %s\nextract-double %s\ntrain %s\nswap %s\n' "$actor" "$double" "$train" "$swap"
