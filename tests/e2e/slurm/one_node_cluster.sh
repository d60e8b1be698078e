# A one-node Slurm cluster for the farm tests (sourced, not run): Debian's slurm-wlm (slurmctld,
# slurmd) and munge, started by the test as root with every path, port and pid file in a folder of
# its own, and stopped again (jobs cancelled, daemons ended by their pids) by slurm_cluster_stop.
#
#   source tests/e2e/slurm/one_node_cluster.sh
#   slurm_cluster_start DIR [CPUS]   # sets SLURM_CONF (exported: sbatch, srun, scontrol use it)
#   sbatch ...; slurm_wait_job ID [TIMEOUT_S]; slurm_job_field ID ExitCode
#   slurm_cluster_stop
#
# What this sandbox-friendly configuration leaves out, and why (a real cluster keeps them):
# - ProctrackType=proctrack/pgid and TaskPlugin=task/none: no cgroups (none are mounted for us);
#   a job's processes are found by process group and not confined to their CPUs.
# - SlurmdParameters=config_overrides: the node may declare more CPUs than the machine has, so a
#   job array's tasks and a 2-task job can run side by side on a 2-core machine.
# - No accounting database (accounting_storage/none): a finished job is read with scontrol while
#   slurmctld still holds it (MinJobAge), not with sacct.
# - No GRES: the examples' GPU requests are overridden on the sbatch command line.
# What it has that a real cluster has: preemption by partition priority (PreemptType=
# preempt/partition_prio, PreemptMode=REQUEUE): a job in the partition `urgent` (PriorityTier 10)
# takes the node from the jobs of `farmtest` (PriorityTier 1, the default partition), requeued by Slurm.
# slurm_cluster_missing prints why a cluster cannot be started here (nothing when it can).

slurm_cluster_missing() {
  local tool
  for tool in slurmctld slurmd munged mungekey sbatch srun scontrol scancel squeue; do
    command -v "$tool" >/dev/null 2>&1 || PATH="$PATH:/usr/sbin" command -v "$tool" >/dev/null 2>&1 || {
      echo "$tool is not installed (Debian: apt-get install slurmctld slurmd slurm-client munge; scripts/setup.sh does)"
      return 0
    }
  done
  [ "$(id -u)" = 0 ] || echo "slurmd must run as root to start jobs (this test runs as $(id -un))"
}

_slurm_free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

slurm_cluster_start() {
  local dir="$1" cpus="${2:-4}"
  PATH="$PATH:/usr/sbin"
  SLURM_TEST_DIR="$dir"
  SLURM_TEST_PIDS=()
  mkdir -p "$dir"/{munge,state,spool,log}
  chmod 0700 "$dir/munge"
  mungekey --create --keyfile="$dir/munge/munge.key" >/dev/null 2>&1 \
    || dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
  chmod 0400 "$dir/munge/munge.key"
  munged --foreground --force --socket="$dir/munge/socket" --key-file="$dir/munge/munge.key" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munge/seed" \
    >>"$dir/log/munged.out" 2>&1 &
  SLURM_TEST_PIDS+=($!)
  local i
  for i in $(seq 50); do [ -S "$dir/munge/socket" ] && break; sleep 0.1; done
  [ -S "$dir/munge/socket" ] || { cat "$dir/log/munged.out" "$dir/log/munged.log" >&2 2>/dev/null; return 1; }

  local host node ctld_port slurmd_port
  host="$(hostname -s)"
  node="$host"   # the node's name is its host name, as on a real cluster (MASTER_ADDR comes from it)
  ctld_port="$(_slurm_free_port)"
  slurmd_port="$(_slurm_free_port)"
  SLURM_TEST_NODE="$node"
  SLURM_TEST_PARTITION="farmtest"
  # Preemption as a studio sets it up: a job in the higher-priority partition takes the node from
  # farmtest's jobs, which Slurm requeues at once (PreemptMode=REQUEUE, GraceTime 0): SIGTERM to the
  # job's processes, SIGKILL KillWait seconds later. (With a GraceTime, Slurm 22.05 requeues only a
  # job still running when it ends: one that stops cleanly within it, as facetrain does, ends FAILED.)
  SLURM_TEST_URGENT_PARTITION="urgent"
  SLURM_TEST_KILL_WAIT=30
  cat >"$dir/slurm.conf" <<EOF
ClusterName=facetraintest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/%n
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/pgid
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
ReturnToService=2
KillWait=$SLURM_TEST_KILL_WAIT
MinJobAge=3600
InactiveLimit=0
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=8000 State=UNKNOWN
PreemptType=preempt/partition_prio
PreemptMode=REQUEUE
PartitionName=$SLURM_TEST_PARTITION Nodes=$node Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO PriorityTier=1
PartitionName=$SLURM_TEST_URGENT_PARTITION Nodes=$node Default=NO MaxTime=INFINITE State=UP OverSubscribe=NO PriorityTier=10 PreemptMode=OFF
EOF
  export SLURM_CONF="$dir/slurm.conf"
  slurmctld -D -i -f "$SLURM_CONF" >>"$dir/log/slurmctld.out" 2>&1 &
  SLURM_TEST_PIDS+=($!)
  slurmd -D -N "$node" -f "$SLURM_CONF" >>"$dir/log/slurmd.out" 2>&1 &
  SLURM_TEST_PIDS+=($!)
  for i in $(seq 100); do
    if sinfo -h -N -o '%T' 2>/dev/null | grep -qx 'idle'; then return 0; fi
    sleep 0.3
  done
  echo "slurm: the node did not become idle:" >&2
  sinfo -N -l >&2 2>&1 || true
  tail -n 20 "$dir"/log/slurmctld.log "$dir"/log/slurmd.log "$dir"/log/*.out >&2 2>/dev/null || true
  return 1
}

# slurm_cluster_stop: cancels every job, waits for their processes, ends the daemons it started.
slurm_cluster_stop() {
  [ -n "${SLURM_TEST_DIR:-}" ] || return 0
  scancel --full --quiet --partition="$SLURM_TEST_PARTITION" 2>/dev/null || true
  scancel --full --quiet --partition="$SLURM_TEST_URGENT_PARTITION" 2>/dev/null || true
  local i
  for i in $(seq 120); do  # a cancelled step may take KillWait (30 s) to end
    [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break
    sleep 0.5
  done
  local pid
  for pid in "${SLURM_TEST_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${SLURM_TEST_PIDS[@]}"; do
    for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  # slurmstepd processes this cluster's slurmd started and that outlived it (found by the
  # SLURM_CONF in their environment, which is this cluster's own), with their job's processes.
  for pid in $(pgrep -x slurmstepd 2>/dev/null); do
    if { tr '\0' '\n' <"/proc/$pid/environ"; } 2>/dev/null | grep -qxF "SLURM_CONF=$SLURM_CONF"; then
      pkill -KILL -P "$pid" 2>/dev/null || true
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  SLURM_TEST_DIR=""
}

# slurm_job_field ID FIELD: one field of `scontrol show job` (JobState, ExitCode, Restarts...).
slurm_job_field() {
  scontrol -o show job "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1
}

# slurm_records ID: one line per job (or array task): "JobId ArrayTaskId JobState ExitCode Restarts Reason".
slurm_records() {
  scontrol -o show job "$1" 2>/dev/null | python3 -c '
import sys
for line in sys.stdin:
    f = dict(kv.split("=", 1) for kv in line.split() if "=" in kv)
    print(f.get("JobId"), f.get("ArrayTaskId", "-"), f.get("JobState"), f.get("ExitCode"), f.get("Restarts"), f.get("Reason"))'
}

# slurm_wait_all ID [TIMEOUT_S]: waits until the job, or every task of the array, has ended; prints
# slurm_records. Returns 1 on timeout.
slurm_wait_all() {
  local id="$1" timeout="${2:-300}" start records
  start=$(date +%s)
  while true; do
    records="$(slurm_records "$id")"
    if [ -n "$records" ] && ! awk '{print $3}' <<<"$records" | grep -qxE 'PENDING|RUNNING|REQUEUED|COMPLETING|CONFIGURING|SUSPENDED|REQUEUE_HOLD|REQUEUE_FED|RESIZING|SIGNALING|STAGE_OUT'; then
      echo "$records"
      return 0
    fi
    if [ $(( $(date +%s) - start )) -ge "$timeout" ]; then echo "$records"; return 1; fi
    sleep 1
  done
}

# slurm_wait_job ID [TIMEOUT_S]: waits until the job has ended (not pending, running, requeued or
# completing); prints its final state. Returns 1 on timeout.
slurm_wait_job() {
  local id="$1" timeout="${2:-300}" state="" start
  start=$(date +%s)
  while [ $(( $(date +%s) - start )) -lt "$timeout" ]; do
    state="$(slurm_job_field "$id" JobState)"
    case "$state" in
      PENDING|RUNNING|REQUEUED|COMPLETING|CONFIGURING|SUSPENDED|REQUEUE_HOLD|REQUEUE_FED|RESIZING|SIGNALING|STAGE_OUT|"") sleep 1 ;;
      *) echo "$state"; return 0 ;;
    esac
  done
  echo "$state"
  return 1
}
