#!/usr/bin/env bash
# The PyTorch peer is facetrain's network (issue 29): bench/peers/facetrain_peer.py builds each
# preset (tiny, df-256, liae-256, and tiny without SAEHD's -U/-D) from `facetrain train --preset P
# --dump-config` in plain PyTorch, and scripts/bench.sh's `peers` section times it against
# facetrain. Here, per preset:
#   - the parameter count equals the one facetrain reports (--dump-config and estimate_model_cost);
#   - every layer has facetrain's name and shape, in facetrain's order;
#   - torch.utils.flop_counter's conv and dense FLOPs of one training forward, per image, equal
#     facetrain's analytic forward_flops_per_image (and the dump's rounded GFLOP figure);
#   - from facetrain's initial weights and raw faces (bench/peers/peer_reference, torch::pickle_save),
#     the script's augmentation gives facetrain's batch (1e-5), its forward facetrain's images
#     (1e-4), every loss term, every layer's gradient and the global gradient norm facetrain's
#     (relative 1e-4), and one AdamW step
#     at the full learning rate (optimizer.warmup_steps 0) changes the loss as facetrain's does (to
#     1 % of the change) and every weight as facetrain's (to 5 % of the learning rate).
# tiny at its own batch (16 per identity); df-256 and liae-256 at batch 1 (--batch-size 1: the
# network does not depend on it, and a 256-px step on the 2-core CI machine takes seconds per image).
# tiny-plain: tiny without SAEHD's -U and -D (model.pixel_norm_latent / double_resolution false).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
e2e_begin
py="${FACETRAIN_TEST_PYTHON:-${FACETRAIN_VENV:-$FACETRAIN_SOURCE_DIR/.venv}/bin/python}"
[ -x "$py" ] || skip "no test Python at $py (scripts/setup.sh makes the venv; FACETRAIN_VENV or FACETRAIN_TEST_PYTHON overrides)"
"$py" -c 'import torch, yaml' 2>/dev/null || skip "torch and PyYAML are not importable in $py"
REFERENCE="${PEER_REFERENCE:-$(dirname "$FACETRAIN")/bench/peer_reference}"
[ -x "$REFERENCE" ] || fatal "no peer_reference at $REFERENCE (built with facetrain_bench; PEER_REFERENCE overrides)"
PEER="$FACETRAIN_SOURCE_DIR/bench/peers/facetrain_peer.py"
THREADS=2

for preset in tiny df-256 liae-256 tiny-plain; do
  batch_args=()
  case "$preset" in tiny*) ;; *) batch_args=(--batch-size 1) ;; esac
  printf 'optimizer:\n  warmup_steps: 0\n' >"$T/full_lr.yaml"
  [ "$preset" = tiny-plain ] && printf 'model:\n  pixel_norm_latent: false\n  double_resolution: false\n' >>"$T/full_lr.yaml"
  ft "dump_$preset" train --config "$T/full_lr.yaml" --preset "${preset%-plain}" "${batch_args[@]}" --dump-config
  expect_rc 0 "dump_$preset"
  cp "$T/dump_$preset.out" "$T/$preset.yaml"
  if ! timeout 600 "$REFERENCE" --config "$T/$preset.yaml" --out "$T/$preset.pt" --threads "$THREADS" 2>"$T/reference_$preset.err"; then
    fail "$preset: peer_reference failed: $(tail -n 2 "$T/reference_$preset.err")"
    continue
  fi
  note "$(tail -n 1 "$T/reference_$preset.err")"
  set +e
  timeout 600 "$py" "$PEER" check --config "$T/$preset.yaml" --reference "$T/$preset.pt" --threads "$THREADS" \
    >"$T/check_$preset.jsonl" 2>"$T/check_$preset.err"
  rc=$?
  set -e
  [ -s "$T/check_$preset.jsonl" ] || { fail "$preset: facetrain_peer.py check wrote nothing (exit $rc): $(tail -n 3 "$T/check_$preset.err")"; continue; }
  checks=0
  while IFS= read -r line; do
    checks=$((checks + 1))
    summary="$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(("ok " if d["ok"] else "bad ") + d["check"] + ": " + json.dumps({k: v for k, v in d.items() if k not in ("check", "ok")}))' "$line")"
    case "$summary" in
      "ok "*) pass "$preset: ${summary#ok }" ;;
      *) fail "$preset: ${summary#bad }" ;;
    esac
  done <"$T/check_$preset.jsonl"
  # parameter_count, layer_shapes, FLOPs, 2 augmentations, 12 loss terms, forward, gradients,
  # gradient norm, loss after the step, weights after the step
  [ "$checks" = 22 ] && [ "$rc" -le 1 ] && pass "$preset: all 22 checks ran" ||
    fail "$preset: $checks checks ran (expected 22), exit $rc: $(tail -n 3 "$T/check_$preset.err")"
done
e2e_end
