#!/usr/bin/env bash
# `facetrain train` learns on real face sets with the tiny preset on CPU: the loss falls clearly,
# the run directory has the documented layout, the preview sheet has its layout, --json events.
export FT_TIMEOUT="${FT_TIMEOUT:-600}"  # 400 CPU steps took 283 s alone and over 300 s beside other tests on 2 cores
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/train_helpers.sh"
e2e_begin
make_train_facesets 400

steps=${TRAIN_STEPS:-400}
ft train train --actor "$T/actor" --double "$T/double" -o "$T/run" --preset tiny --max-steps "$steps" \
  --checkpoint-every 200 --json
expect_rc 0 train || e2e_end

python3 - "$T/run" "$T/train.out" "$steps" <<'PY' || fail "learning checks"
import json, sys
run, out, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
lines = [json.loads(l) for l in open(f"{run}/metrics.jsonl")]
losses = [l["loss"] for l in lines]
first, last = sum(losses[:3]) / 3, sum(losses[-3:]) / 3
print(f"loss: first three logs {first:.4f}, last three {last:.4f} ({last / first:.2f}x) over {lines[-1]['step']} steps")
assert lines[-1]["step"] == steps, "metrics end at the last step"
assert last < 0.75 * first, "the loss must fall clearly"
vals = [l["validation_loss"] for l in lines if "validation_loss" in l]
assert len(vals) >= 2 and vals[-1] < vals[0], f"held-out loss must fall: {vals}"
events = [json.loads(l) for l in open(out)]
kinds = {e["event"] for e in events}
assert {"start", "progress", "checkpoint", "preview", "done"} <= kinds, kinds
done = events[-1]
assert done["event"] == "done" and done["reason"] == "max_steps" and done["steps"] == steps, done
for key in ("format_version", "facetrain", "libtorch", "seed", "model", "actor_faceset", "double_faceset"):
    assert key in json.load(open(f"{run}/manifest.json")), key
PY
for f in config.yaml manifest.json metrics.jsonl checkpoints/latest; do
  [ -f "$T/run/$f" ] || fail "run directory lacks $f"
done
latest="$(cat "$T/run/checkpoints/latest")"
[ "$latest" = "step-$(printf %08d "$steps")" ] || fail "checkpoints/latest names $latest"
for f in model.pt optimizer.pt rng.pt state.json COMPLETE; do
  [ -f "$T/run/checkpoints/$latest/$f" ] || fail "checkpoint lacks $f"
done
[ "$(stat -c %a "$T/run/checkpoints/$latest/model.pt")" = 600 ] || fail "checkpoint files are not owner-only"
# Preview sheet: 5 columns (actor in, actor out, double in, double out, double->actor) of 64 px tiles,
# one row per preview face (4).
sheet="$T/run/previews/$latest.png"
[ -f "$sheet" ] || fail "no preview sheet $sheet"
size="$(python3 -c "import struct,sys; d=open(sys.argv[1],'rb').read(24); print(*struct.unpack('>II', d[16:24]))" "$sheet")"
[ "$size" = "320 256" ] && pass "preview sheet is 320x256 (5 columns x 4 rows of 64 px)" || fail "preview sheet is $size, expected 320 256"
# The config the run used is itself a valid config.
ft dump train --config "$T/run/config.yaml" --dump-config
expect_rc 0 dump
# model.upsample_init (issue 27) is how training starts, not the shape: a --preset flag, which beats
# the file's preset and model keys, keeps it, and the file's recipe keys beat the flag's preset recipe.
printf 'preset: df-256\nmodel:\n  upsample_init: xavier\noptimizer:\n  lr: 1e-4\n' >"$T/xavier.yaml"
ft dump_xavier train --preset tiny --config "$T/xavier.yaml" --dump-config
expect_rc 0 dump_xavier
grep -q "upsample_init: xavier" "$T/dump_xavier.out" && pass "--preset keeps the file's model.upsample_init" \
  || fail "--preset tiny reset model.upsample_init: $(grep upsample_init "$T/dump_xavier.out")"
grep -q "  lr: 0.0001" "$T/dump_xavier.out" && grep -q "ae_dims: 64" "$T/dump_xavier.out" &&
  grep -q "warmup_steps: 20$" "$T/dump_xavier.out" && pass "--preset tiny: its shape and recipe, the file's lr" \
  || fail "--preset tiny with a df-256 file: $(grep -E 'ae_dims|  lr|warmup' "$T/dump_xavier.out" | tr '\n' ' ')"
# SAEHD's -U / -D switches make a variant of any preset: a --preset flag keeps the file's.
printf 'model:\n  pixel_norm_latent: false\n  double_resolution: false\n' >"$T/plain.yaml"
ft dump_plain train --preset df-256 --config "$T/plain.yaml" --dump-config
expect_rc 0 dump_plain
grep -q "^# model: df res=256 ae=256 e=64 d=64 dm=24 -u off -d off$" "$T/dump_plain.out" &&
  grep -q "  double_resolution: false" "$T/dump_plain.out" && pass "--preset df-256 keeps the file's -U/-D switches" \
  || fail "--preset df-256 with -U/-D off: $(grep -E '^# model|pixel_norm|double_res' "$T/dump_plain.out" | tr '\n' ' ')"
e2e_end
