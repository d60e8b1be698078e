#!/usr/bin/env bash
# Training survives what farms do to it: exact resume, SIGTERM, a damaged newest checkpoint, a
# non-finite loss, a second train on the same run directory, bad configuration, face sets without a
# usable face.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/train_helpers.sh"
e2e_begin
make_train_facesets 120
common=(--actor "$T/actor" --double "$T/double" --preset tiny --batch-size 4 --checkpoint-every 10)
cfg="$(log_every_step_config)"

# 1. Exact resume: 30 steps at once == the same 30-step run killed (SIGKILL) right after its step-10
#    checkpoint, then resumed. The same --max-steps both times: the learning-rate cosine and the
#    sharpening phase without random warp run to it (a run stopped at 20 and extended to 30 follows
#    another schedule).
#    Issue 27's schedule, sharpening phase, weight average and adversarial term (from step 6 on, so the
#    step-10 checkpoint holds a discriminator 4 steps into training) are on, so they are proven exact too.
recipe_cfg="$T/issue27.yaml"
{ sed '/^augment:/,$d' "$cfg"; cat <<'YAML'
optimizer:
  ema_decay: 0.999
  lr_schedule: cosine
augment:
  random_warp_off_fraction: 0.2
adversarial:
  weight: 0.1
  start_fraction: 0.2
YAML
} >"$recipe_cfg"
ft whole train "${common[@]}" --config "$recipe_cfg" -o "$T/whole" --max-steps 30
expect_rc 0 whole
set +e
FACETRAIN_FAULT_CHECKPOINT_PHASE=latest timeout -k 10 "$FT_TIMEOUT" "$FACETRAIN" train "${common[@]}" --config "$recipe_cfg" \
  -o "$T/split" --max-steps 30 >"$T/first.out" 2>"$T/first.err" </dev/null
first_rc=$?
set -e
[ "$first_rc" = 137 ] || fail "first: expected SIGKILL after the step-10 checkpoint, got exit $first_rc"
ft resume train "${common[@]}" --config "$recipe_cfg" -o "$T/split" --max-steps 30
expect_rc 0 resume
grep -q "resumed from .*step-00000010 at step 10" "$T/resume.err" || fail "resume did not start from step 10"
if diff <(metric_losses "$T/whole") <(metric_losses "$T/split") >"$T/resume.diff"; then
  pass "resumed run logs exactly the losses of the uninterrupted run (30 steps)"
else
  fail "resumed losses differ:"; head -5 "$T/resume.diff" >&2
fi
python3 - "$T/whole/metrics.jsonl" <<'PY' && pass "the adversarial term trains from step 7 of 30 on (discriminator_loss logged)" \
  || fail "the adversarial term did not start at 20 % of the run"
import json, sys
steps = [d["step"] for d in map(json.loads, open(sys.argv[1])) if "discriminator_loss" in d and "actor_adversarial" in d]
assert steps == list(range(7, 31)), steps
PY
grep -q "step 6: adversarial term on (weight 0.1)" "$T/whole.err" || fail "no log line for the adversarial term's start"
# The weight average (optimizer.ema_decay) is resumed exactly too: model.pt holds it,
# trained_weights.pt the weights the optimizer goes on from; the discriminator has its own file (its
# optimizer's too: like optimizer.pt, not byte-stable when saved again; the discriminator's weights 20
# steps after the resume can equal the uninterrupted run's only if its Adam moments were restored);
# state.json records every file's SHA-256.
python3 - "$T/whole/checkpoints/step-00000030" "$T/split/checkpoints/step-00000030" <<'PY' \
  && pass "resumed run ends with the uninterrupted run's averaged and trained weights and discriminator, byte for byte" \
  || fail "resumed weights differ from the uninterrupted run's"
import json, sys
files = [json.load(open(f"{d}/state.json"))["files"] for d in sys.argv[1:]]
for name in ("model.pt", "trained_weights.pt", "discriminator.pt"):
    assert name in files[0] and name in files[1], f"{name} missing"
    assert files[0][name] == files[1][name], f"{name}: {files[0][name]} != {files[1][name]}"
PY

# 2. SIGTERM: finish the step, checkpoint, exit 143; the same command resumes from there. Sent twice,
#    as Slurm does at a time limit (slurmstepd's and srun's): a repeated SIGTERM must not kill it.
(
  set +e
  timeout -k 10 300 "$FACETRAIN" train "${common[@]}" --config "$cfg" -o "$T/term" --max-steps 100000 \
    >"$T/term.out" 2>"$T/term.err" &
  pid=$!
  for _ in $(seq 1 600); do
    [ -s "$T/term/metrics.jsonl" ] && [ "$(wc -l <"$T/term/metrics.jsonl")" -ge 12 ] && break
    sleep 0.2
  done
  kill -TERM "$pid"
  sleep 0.05
  kill -TERM "$pid"
  wait "$pid"
  echo $? >"$T/term.rc"
)
rc="$(cat "$T/term.rc")"
[ "$rc" = 143 ] && grep -q "stopped (signal) at step" "$T/term.err" && pass "SIGTERM (twice): saved and exit 143" \
  || { fail "SIGTERM (twice): exit $rc, expected 143 after saving"; tail -3 "$T/term.err" >&2; }
stopped="$(tail -n 1 "$T/term/metrics.jsonl" | python3 -c 'import json,sys; print(json.load(sys.stdin)["step"])')"
[ "$(cat "$T/term/checkpoints/latest")" = "step-$(printf %08d "$stopped")" ] \
  && pass "SIGTERM: checkpoint at the last step ($stopped)" || fail "SIGTERM: latest is $(cat "$T/term/checkpoints/latest"), last step $stopped"
ft term_resume train "${common[@]}" --config "$cfg" -o "$T/term" --max-steps $((stopped + 3))
expect_rc 0 term_resume
grep -q "at step $stopped" "$T/term_resume.err" && pass "resumed after SIGTERM at step $stopped" || fail "no resume after SIGTERM"

# 3. A damaged newest checkpoint falls back to the previous one, with a warning naming it.
ft fb_base train "${common[@]}" -o "$T/fallback" --max-steps 20
expect_rc 0 fb_base
printf 'garbage' | dd of="$T/fallback/checkpoints/step-00000020/model.pt" bs=1 seek=1000 conv=notrunc 2>/dev/null
ft fb train "${common[@]}" -o "$T/fallback" --max-steps 25
expect_rc 0 fb
grep -q "WARNING: checkpoint .*step-00000020 is unusable (model.pt does not match its SHA-256)" "$T/fb.err" \
  && grep -q "resumed from .*step-00000010 at step 10" "$T/fb.err" \
  && pass "damaged step-20 skipped with a warning; resumed from step 10" || { fail "no fallback"; tail -5 "$T/fb.err" >&2; }

# 4. A non-finite loss stops training, names the step, and writes no checkpoint after it. The loss
#    of step 15 is poisoned (FACETRAIN_FAULT_NAN_STEP counts steps done); losses are read at the
#    step-20 checkpoint, which is the step named, with the last checkpoint written (10).
FACETRAIN_FAULT_NAN_STEP=14 ft nan train "${common[@]}" -o "$T/nan" --max-steps 40
expect_error nan 65 "ERROR: step 20: " "not finite" "no checkpoint written after step 10"
ls "$T/nan/checkpoints" | grep -q step-00000010 || fail "the checkpoint before the NaN is missing"
if ls "$T/nan/checkpoints" | grep -qE 'step-000000(2|3|4)'; then fail "a checkpoint was written after the NaN"; else pass "no checkpoint after the NaN"; fi

# 5. One train per run directory.
(
  set +e
  "$FACETRAIN" train "${common[@]}" -o "$T/locked" --max-steps 100000 >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 1 300); do [ -f "$T/locked/config.yaml" ] && break; sleep 0.2; done
  timeout 120 "$FACETRAIN" train "${common[@]}" -o "$T/locked" --max-steps 5 >"$T/second.out" 2>"$T/second.err"
  echo $? >"$T/second.rc"
  kill -TERM "$pid"; wait "$pid"
  exit 0
)
FT_RC="$(cat "$T/second.rc")"
expect_error second 73 "another facetrain train"

# 6. Configuration errors.
printf 'batch_size: 8\noptimizer:\n  lr: 0.001\n  lr: 0.002\n' >"$T/dup.yaml"
ft dup train "${common[@]}" -o "$T/cfg" --config "$T/dup.yaml" --max-steps 1
expect_error dup 78 "dup.yaml:4" "'optimizer.lr' appears twice"
printf 'batch_size: many\n' >"$T/type.yaml"
ft type train "${common[@]}" -o "$T/cfg" --config "$T/type.yaml" --max-steps 1
expect_error type 78 "type.yaml:1" "'batch_size'"
ft duration train "${common[@]}" -o "$T/cfg" --max-time 10parsecs
expect_error duration 64 "10parsecs"
# 7. --target-loss stops on the held-out moving average and says so in the done event.
ft target train "${common[@]}" --config "$cfg" -o "$T/target" --target-loss 100 --max-steps 50 --json
expect_rc 0 target
python3 -c "
import json, sys
done = [json.loads(l) for l in open(sys.argv[1]) if '\"done\"' in l][-1]
assert done['reason'] == 'target_loss' and done['steps'] == 5 and 'seconds_to_target' in done, done
" "$T/target.out" && pass "target loss: stopped at step 5 (window of 5 evaluations)" || fail "target loss did not stop the run"

# 8. --base: a new run starts from another run's weights; a model of another shape is refused (78).
ft base train "${common[@]}" -o "$T/based" --base "$T/whole" --max-steps 2
expect_rc 0 base && { grep -q "base model: .*whole/checkpoints/step-00000030" "$T/base.err" && pass "base model loaded" ||
  fail "base: no 'base model: .../whole/checkpoints/step-00000030' line: $(grep 'base model' "$T/base.err")"; }
# (no --preset flag here: a flag would override the file's model keys)
printf 'preset: tiny\nmodel:\n  ae_dims: 32\n' >"$T/narrow.yaml"
ft base_mismatch train --actor "$T/actor" --double "$T/double" --batch-size 4 -o "$T/based2" --config "$T/narrow.yaml" \
  --base "$T/whole" --max-steps 2
expect_error base_mismatch 78 "does not fit this model" "inter"

# 9. Deleting a crop excludes that face (and repacks).
victim="$(ls "$T/actor/faces" | head -n 1)"
rm "$T/actor/faces/$victim"
ft deleted train "${common[@]}" -o "$T/deleted" --max-steps 1
expect_rc 0 deleted && grep -q "packing 119 faces .*(1 deleted crops excluded)" "$T/deleted.err" \
  && pass "a deleted crop is excluded" || fail "deleted crop not excluded: $(grep packing "$T/deleted.err" | head -1)"

ft nofaces train --actor "$T/nonexistent" --double "$T/double" -o "$T/cfg" --max-steps 1
expect_error nofaces 66 "nonexistent"

# 10. Face sets with nothing to learn from: 65 naming the face set, before the run directory is
# created (a new one) or touched (an existing one).
mkdir -p "$T/no_records/alignments" && cp "$T/double/faceset.json" "$T/no_records/"   # a source, no records
ft no_records train --actor "$T/actor" --double "$T/no_records" --preset tiny --batch-size 4 -o "$T/no_run" --max-steps 1
expect_error no_records 65 "no_records" "no usable face" || true
[ ! -e "$T/no_run" ] && pass "no_records: no run directory created" || fail "no_records: $T/no_run was created"
cp -r "$T/double" "$T/no_crops" && rm "$T/no_crops/faces/"*.png
before="$(tree_hash "$T/whole")"
ft no_crops train --actor "$T/actor" --double "$T/no_crops" --preset tiny --batch-size 4 -o "$T/whole" --max-steps 40
expect_error no_crops 65 "no_crops" "120 crop(s) deleted" || true
[ "$(tree_hash "$T/whole")" = "$before" ] && pass "no_crops: the existing run is untouched" ||
  fail "no_crops: the existing run $T/whole changed"
e2e_end
