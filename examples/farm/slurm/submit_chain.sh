#!/usr/bin/env bash
# The whole face replacement of one shot as dependent Slurm jobs: extract the actor's and the
# double's face sets (two job arrays), train when both succeeded (--dependency=afterok), swap the
# double's plate in chunks when training succeeded.
#
#   examples/farm/slurm/submit_chain.sh SHOT_DIR ACTOR_PLATE ACTOR_FRAMES DOUBLE_PLATE DOUBLE_FRAMES
#
# Writes SHOT_DIR/faces/actor, SHOT_DIR/faces/double, SHOT_DIR/train/v001 and SHOT_DIR/comp/
# (OUTPUT). Environment (all optional):
#   EXTRACT_TASKS (4), SWAP_TASKS (10)   array sizes
#   SWAP_FRAMES                          frames to swap (default DOUBLE_FRAMES)
#   OUTPUT                               default SHOT_DIR/comp/swap.####.exr
#   EXTRACT_ARGS, TRAIN_ARGS, SWAP_ARGS  facetrain arguments, split on spaces (TRAIN_ARGS replaces
#                                        train.sbatch's defaults; put --max-time or --max-steps in it)
#   SBATCH_ARGS                          sbatch options for every job (--partition=..., --account=...)
#   EXTRACT_SBATCH_ARGS, TRAIN_SBATCH_ARGS, SWAP_SBATCH_ARGS   sbatch options for one kind of job
#                                        (e.g. TRAIN_SBATCH_ARGS="--nodes=1 --ntasks-per-node=4 --gpus-per-node=4")
# Prints one line per job: "extract-actor JOBID", "extract-double JOBID", "train JOBID", "swap JOBID".
# A failed extract (exit 65: no face, or frames the plate does not have) leaves train and swap
# pending with reason DependencyNeverSatisfied: cancel them (scancel), fix, submit again.
# Tested live by tests/e2e/farm_slurm.sh.
set -euo pipefail
if [ $# -ne 5 ]; then
  sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 64
fi
shot="$1" actor_plate="$2" actor_frames="$3" double_plate="$4" double_frames="$5"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
read -r -a common <<<"${SBATCH_ARGS:-}"
read -r -a extract_sbatch <<<"${EXTRACT_SBATCH_ARGS:-}"
read -r -a train_sbatch <<<"${TRAIN_SBATCH_ARGS:-}"
read -r -a swap_sbatch <<<"${SWAP_SBATCH_ARGS:-}"
read -r -a extract_args <<<"${EXTRACT_ARGS:-}"
read -r -a train_args <<<"${TRAIN_ARGS:-}"
read -r -a swap_args <<<"${SWAP_ARGS:-}"
extract_tasks="${EXTRACT_TASKS:-4}" swap_tasks="${SWAP_TASKS:-10}"
output="${OUTPUT:-$shot/comp/swap.####.exr}"
mkdir -p "$shot/faces" "$shot/train" "$(dirname "$output")" "$shot/logs"

submit() { sbatch --parsable "${common[@]}" "$@" | cut -d';' -f1; }
actor_job=$(submit "${extract_sbatch[@]}" --array="1-$extract_tasks" --output="$shot/logs/extract-actor-%A_%a.log" \
  "$here/extract.sbatch" "$actor_plate" "$shot/faces/actor" "$actor_frames" "${extract_args[@]}")
double_job=$(submit "${extract_sbatch[@]}" --array="1-$extract_tasks" --output="$shot/logs/extract-double-%A_%a.log" \
  "$here/extract.sbatch" "$double_plate" "$shot/faces/double" "$double_frames" "${extract_args[@]}")
train_job=$(submit "${train_sbatch[@]}" --dependency="afterok:$actor_job:$double_job" --output="$shot/logs/train-%j.log" \
  "$here/train.sbatch" "$shot/faces/actor" "$shot/faces/double" "$shot/train/v001" "${train_args[@]}")
swap_job=$(submit "${swap_sbatch[@]}" --dependency="afterok:$train_job" --array="1-$swap_tasks" \
  --output="$shot/logs/swap-%A_%a.log" "$here/swap.sbatch" "$shot/train/v001" "$double_plate" "$shot/faces/double" \
  "$output" --frames "${SWAP_FRAMES:-$double_frames}" "${swap_args[@]}")
echo "extract-actor $actor_job"
echo "extract-double $double_job"
echo "train $train_job"
echo "swap $swap_job"
