#!/usr/bin/env bash
# Data-parallel training over c10d/Gloo on CPU (docs/design.md §6): N ranks at --batch-size b train like
# one process at N*b; a 2-rank run resumes bit-exactly; two separate launchers ("nodes") on
# loopback train together; ranks that disagree on the configuration all exit 78.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/train_helpers.sh"
e2e_begin
make_train_facesets 60
# The adversarial term on from the first step: its discriminator has its own gradient synchroniser,
# so every comparison below covers it too (discriminator_loss is compared like the loss). Its rate is
# high (1e-2) so that a discriminator trained on one rank's half of the batch shows: without its
# all-reduce the 2-rank discriminator loss left the single process's by 1e-4 at step 2 and 2.5e-3 at
# step 4 (measured by hand), with it by at most 7e-7 in 4 steps; at that rate rounding then grows
# faster than the model's (3e-3 by step 12 with 3 ranks), so later steps are held to 1e-2.
cfg="$T/ddp.yaml"
{ cat "$(log_every_step_config)"; printf 'adversarial:\n  weight: 0.1\n  start_fraction: 0\n  lr: 1e-2\n'; } >"$cfg"
common=(--actor "$T/actor" --double "$T/double" --preset tiny --config "$cfg" --checkpoint-every 4 --dist-timeout 20)

# 1. Equivalence: 1 process at batch 6 == 2 ranks at 3 == 3 ranks at 2 (12 steps). Small gradient
#    buckets (1 MB) so several all-reduces overlap backward.
ft single train "${common[@]}" -o "$T/single" --batch-size 6 --max-steps 12
expect_rc 0 single
FACETRAIN_DDP_BUCKET_MB=1 ft two train "${common[@]}" -o "$T/two" --batch-size 3 --max-steps 12 --nproc-per-node 2
expect_rc 0 two
ft three train "${common[@]}" -o "$T/three" --batch-size 2 --max-steps 12 --nproc-per-node 3
expect_rc 0 three
grep -qE "data parallel: rank 0 of 2 \(gloo\), batch 3 per rank and identity, global 6; ([2-9]|[1-9][0-9]+) gradient bucket" "$T/two.err" \
  || fail "2 ranks: no multi-bucket data-parallel start line: $(grep 'data parallel' "$T/two.err")"
for n in two three; do
  if msg="$(same_loss_curve "$T/single" "$T/$n")"; then pass "$n ranks reproduce the single-process loss curve ($msg)"
  else fail "$n ranks: losses differ from the single process at the global batch ($msg)"; fi
  if msg="$(same_loss_curve "$T/single" "$T/$n" discriminator_loss 1e-2)"; then
    pass "$n ranks reproduce the single-process discriminator loss curve ($msg)"
  else fail "$n ranks: discriminator losses differ from the single process at the global batch ($msg)"; fi
done
[ "$(json_get "$T/three/manifest.json" 'd["world_size"]')" = 3 ] && pass "manifest records world size 3" \
  || fail "manifest world_size is not 3"
# Rank 0 alone writes and logs: other ranks print nothing at info level.
if grep -q '^\[rank [12]\]' "$T/three.err" || grep -q 'rank [12] of 3 joined' "$T/three.err"; then
  fail "ranks 1-2 logged info lines"; else pass "only rank 0 logs progress"; fi
[ "$(grep -c '"loss"' "$T/three/metrics.jsonl")" = 12 ] && pass "one metrics line per step (rank 0 only)" \
  || fail "metrics.jsonl has $(grep -c '"loss"' "$T/three/metrics.jsonl") lines, expected 12"

# 2. Bit-exact resume with 2 ranks: 12 steps at once == 8, stop, resume to 12.
ft first train "${common[@]}" -o "$T/split" --batch-size 3 --max-steps 8 --nproc-per-node 2
expect_rc 0 first
ft resume train "${common[@]}" -o "$T/split" --batch-size 3 --max-steps 12 --nproc-per-node 2
expect_rc 0 resume
grep -q "resumed from .*step-00000008 at step 8" "$T/resume.err" || fail "2-rank resume did not start from step 8"
ft whole train "${common[@]}" -o "$T/whole" --batch-size 3 --max-steps 12 --nproc-per-node 2
expect_rc 0 whole
if diff <(metric_losses "$T/whole") <(metric_losses "$T/split") >"$T/resume.diff"; then
  pass "2 ranks: the resumed run logs exactly the losses of the uninterrupted run"
else
  fail "2 ranks: resumed losses differ:"; head -5 "$T/resume.diff" >&2
fi

# 3. Two "nodes": separate launchers (--nnodes 2 --node-rank K) on loopback train together and
#    match one process at the global batch.
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
two_nodes() {  # two_nodes NAME RUN [extra args of node 1...]
  local name="$1" run="$2"; shift 2
  set +e
  timeout -k 10 "$FT_TIMEOUT" "$FACETRAIN" train "${common[@]}" -o "$run" --batch-size 3 --max-steps 6 \
    --nnodes 2 --node-rank 0 --nproc-per-node 1 --master-addr 127.0.0.1 --master-port "$port" \
    >"$T/$name-0.out" 2>"$T/$name-0.err" </dev/null &
  local node0=$!
  # Node 0's rendezvous store, once it listens: on --master-addr only (docs/design.md §8).
  for _ in $(seq 200); do
    ss -Hltn "sport = :$port" >"$T/$name-listen.txt" 2>/dev/null
    [ -s "$T/$name-listen.txt" ] && break
    sleep 0.1
  done
  timeout -k 10 "$FT_TIMEOUT" "$FACETRAIN" train "${common[@]}" -o "$run" --batch-size 3 --max-steps 6 \
    --nnodes 2 --node-rank 1 --nproc-per-node 1 --rdzv-endpoint "127.0.0.1:$port" "$@" \
    >"$T/$name-1.out" 2>"$T/$name-1.err" </dev/null
  echo $? >"$T/$name-1.rc"
  wait "$node0"
  echo $? >"$T/$name-0.rc"
  set -e
}
two_nodes nodes "$T/nodes"
listen="$(awk '{print $4}' "$T/nodes-listen.txt" | sort -u | tr '\n' ' ')"
if [ "$listen" = "127.0.0.1:$port " ]; then
  pass "the rendezvous store listens on --master-addr only ($listen)"
else
  fail "the rendezvous store on port $port listens on '${listen:-nothing found}', expected 127.0.0.1:$port only"
fi
ft single_nodes train "${common[@]}" -o "$T/single_nodes" --batch-size 6 --max-steps 6
expect_rc 0 single_nodes
if [ "$(cat "$T/nodes-0.rc")" = 0 ] && [ "$(cat "$T/nodes-1.rc")" = 0 ] && msg="$(same_loss_curve "$T/single_nodes" "$T/nodes")"; then
  pass "two launchers (--nnodes 2) on loopback train like one process at the global batch ($msg)"
else
  fail "two nodes: exit $(cat "$T/nodes-0.rc")/$(cat "$T/nodes-1.rc"); ${msg:-}"; tail -3 "$T/nodes-0.err" "$T/nodes-1.err" >&2
fi

# 4. Disagreement: node 1 runs another seed; every rank exits 78 naming the configuration.
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
two_nodes mismatch "$T/mismatch" --seed 7
for k in 0 1; do
  if [ "$(cat "$T/mismatch-$k.rc")" = 78 ] && grep -q "ERROR: \[rank $k\] the ranks do not agree on what to train (configuration" "$T/mismatch-$k.err"; then
    pass "node $k: exit 78 naming the configuration that differs"
  else
    fail "node $k: exit $(cat "$T/mismatch-$k.rc"), expected 78 naming the configuration"; tail -3 "$T/mismatch-$k.err" >&2
  fi
done
e2e_end
