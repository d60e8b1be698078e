#!/usr/bin/env bash
# What people watch a training run with, checked the way they use it:
# - TensorBoard event files in RUN/tensorboard/, read back with TensorBoard's own reader (the PyPI
#   `tensorboard` package in the project's venv): every logged number per tag, the preview sheets as
#   images; a run resumed from an earlier checkpoint (the newest one damaged) is one continuous curve
#   with no step twice, read afresh and in a TensorBoard that was watching while it restarted.
# - RUN/report.html, rewritten by train at every preview, opened from disk in headless Chromium
#   (tests/e2e/report_page.py): a screenshot, no console errors, nothing fetched, the numbers shown
#   equal metrics.jsonl's; `facetrain report RUN` writes the same page; its exit codes.
# - A synthesised 6-hour run (100 000 logged steps, 400 sheets): the page opens in under a second,
#   stays under 5 MB, and its loss curve keeps the one spike.
export FT_TIMEOUT="${FT_TIMEOUT:-600}"  # two short trainings; a busy shared machine is slow
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/train_helpers.sh"
venv="${FACETRAIN_VENV:-$FACETRAIN_SOURCE_DIR/.venv}"
tb_python="$venv/bin/python"
"$tb_python" -c "import tensorboard" 2>/dev/null ||
  missing_setup_tool tensorboard "TensorBoard's reader is not installed in $venv (the tensorboard package)"
command -v chromium >/dev/null || missing_setup_tool chromium "no chromium for the page checks (Debian's chromium)"
e2e_begin
make_train_facesets 300

printf 'log_every: 2\nvalidate_every: 4\npreview_every: 8\ncheckpoint_every: 12\n' > "$T/watch.yaml"
train_args=(train --actor "$T/actor" --double "$T/double" -o "$T/run" --preset tiny --batch-size 2 --config "$T/watch.yaml")
ft train1 "${train_args[@]}" --max-steps 20
expect_rc 0 train1 || e2e_end
[ -f "$T/run/report.html" ] && pass "train wrote RUN/report.html" || fail "no RUN/report.html after training"
ls "$T/run/tensorboard/"events.out.tfevents.* >/dev/null 2>&1 && pass "train wrote TensorBoard event files" ||
  fail "no event file in RUN/tensorboard"

# A crash after step 20's checkpoint was written, but damaged: resume falls back to step 12, and
# what the first session logged after step 12 is orphaned. A TensorBoard process watches throughout.
python3 - "$T/run/checkpoints/step-00000020/model.pt" <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(1000); b = f.read(1); f.seek(1000); f.write(bytes([b[0] ^ 0x40]))
PY
"$tb_python" - "$T/run" "$FACETRAIN" "$T" "${train_args[@]}" --max-steps 28 > "$T/tensorboard.json" 2> "$T/tensorboard.err" <<'PY' ||
import json, math, os, subprocess, sys
import numpy as np
from tensorboard.backend.event_processing import event_accumulator
run, exe, scratch, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
everything = {event_accumulator.SCALARS: 0, event_accumulator.IMAGES: 0}

def load():
    acc = event_accumulator.EventAccumulator(os.path.join(run, "tensorboard"), size_guidance=everything)
    acc.Reload()
    return acc

live = load()  # TensorBoard open during the first session
live_before = [e.step for e in live.Scalars("loss/train")]
with open(f"{scratch}/train2.out", "w") as out, open(f"{scratch}/train2.err", "w") as err:
    code = subprocess.run([exe] + args, stdout=out, stderr=err, timeout=600).returncode
assert code == 0, f"the resumed train exited {code}"
live.Reload()
live_after = [e.step for e in live.Scalars("loss/train")]

# The files themselves, read raw (no purging): no tag holds a step twice, across all the files.
from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
seen = {}
folder = os.path.join(run, "tensorboard")
for name in sorted(os.listdir(folder)):
    for event in EventFileLoader(os.path.join(folder, name)).Load():
        for value in event.summary.value:
            key = (value.tag, event.step)
            assert key not in seen, f"{value.tag} at step {event.step} is in {seen[key]} and in {name}"
            seen[key] = name

fresh = load()
tags = fresh.Tags()
metrics = [json.loads(l) for l in open(os.path.join(run, "metrics.jsonl"))]
checked = 0
for key in sorted({k for m in metrics for k in m} - {"step", "world_size"}):
    tag = {"loss": "loss/train", "validation_loss": "loss/validation", "lr": "optimizer/learning_rate",
           "images_per_s": "speed/images_per_s", "elapsed_s": "time/elapsed_s"}.get(key)
    if tag is None:
        who, term = key.split("_", 1)
        tag = f"{who}/{term}"
    assert tag in tags["scalars"], f"{tag} not in TensorBoard's scalars {tags['scalars']}"
    want = [(m["step"], m[key]) for m in metrics if key in m]
    got = [(e.step, e.value) for e in fresh.Scalars(tag)]
    assert [s for s, _ in got] == [s for s, _ in want], f"{tag}: steps {[s for s, _ in got]} != {[s for s, _ in want]}"
    for (s, g), (_, w) in zip(got, want):
        assert g == float(np.float32(w)), f"{tag} at step {s}: TensorBoard has {g}, metrics.jsonl {w}"
    checked += len(got)
images = fresh.Images("preview")
sheets = sorted(int(n[5:13]) for n in os.listdir(os.path.join(run, "previews")) if n.startswith("step-"))
for image in images:
    with open(os.path.join(run, "previews", f"step-{image.step:08d}.png"), "rb") as f:
        assert f.read() == image.encoded_image_string, f"preview {image.step} differs from its file"
    assert (image.width, image.height) == (320, 256), (image.width, image.height)
print(json.dumps({"tags": sorted(tags["scalars"]), "values_checked": checked,
                  "image_steps": [i.step for i in images], "sheet_files": sheets,
                  "live_before": live_before, "live_after": live_after,
                  "metric_steps": [m["step"] for m in metrics]}))
PY
  { fail "TensorBoard's reader does not find the run's numbers:"; tail -n 5 "$T/tensorboard.err" >&2; }
if [ -s "$T/tensorboard.json" ]; then
  python3 - "$T/tensorboard.json" "$T/train2.err" <<'PY' && pass "TensorBoard: $(json_get "$T/tensorboard.json" "'%d values in %d tags, images at steps %s' % (d['values_checked'], len(d['tags']), d['image_steps'])")" || fail "TensorBoard view of the resumed run"
import json, sys
d = json.load(open(sys.argv[1]))
log = open(sys.argv[2]).read()
assert "resumed from" in log and "step-00000012" in log, "the resume did not fall back to step 12"
steps = list(range(2, 29, 2))
assert d["metric_steps"] == steps, d["metric_steps"]
assert d["live_before"] == list(range(2, 21, 2)), d["live_before"]
assert d["live_after"] == steps, f"a TensorBoard watching the restart shows {d['live_after']}"
assert d["image_steps"] == [8, 16, 24, 28], d["image_steps"]
assert d["sheet_files"] == [8, 16, 24, 28], f"preview files {d['sheet_files']} (the orphaned step 20 must go)"
for tag in ("loss/train", "loss/validation", "actor/dssim", "double/mse", "actor/eyes_mouth", "double/total",
            "optimizer/learning_rate", "speed/images_per_s"):
    assert tag in d["tags"], tag
PY
fi

# --- the page train wrote, opened as a person would
page_check() {  # page screenshot-prefix -> $T/<prefix>.json
  python3 "$E2E_DIR/report_page.py" "$1" --screenshot "$T/$2.png" --zoom-screenshot "$T/$2-zoom.png" \
    --full-screenshot "$T/$2-full.png" > "$T/$2.json" \
    2> "$T/$2.err" || { fail "Chromium could not open $1: $(tail -n 3 "$T/$2.err")"; return 1; }
}
if page_check "$T/run/report.html" run-page; then
  python3 - "$T/run-page.json" "$T/run" <<'PY' && pass "run page: $(json_get "$T/run-page.json" "'opened in %.0f ms, %d pictures, %d curves, no console errors' % (d['open_ms'], d['images'], len(d['series']))")" || fail "the run's page"
import json, statistics, sys
d = json.load(open(sys.argv[1]))
run = sys.argv[2]
metrics = [json.loads(l) for l in open(f"{run}/metrics.jsonl")]
g = lambda v: "%.6g" % v
loss = [m["loss"] for m in metrics]
val = [(m["step"], m["validation_loss"]) for m in metrics if "validation_loss" in m]
elapsed = metrics[-1]["elapsed_s"]
want = {"run-steps": "28", "run-last-loss": g(loss[-1]), "run-min-loss": g(min(loss)),
        "run-last-validation": g(val[-1][1]), "run-min-validation": g(min(v for _, v in val)),
        "run-device-hours": g(elapsed * 1 / 3600), "run-previews": "4",
        "run-images-per-s": g(statistics.median(m["images_per_s"] for m in metrics)),
        "run-time-to-target": "no target_loss set"}
for key, value in want.items():
    assert d["ids"].get(key) == value, f"{key}: page shows {d['ids'].get(key)!r}, the run has {value!r}"
assert d["attributes"]["run-elapsed"]["data-seconds"] == g(elapsed)
assert d["attributes"]["run-min-loss"]["data-step"] == str(metrics[loss.index(min(loss))]["step"])
assert d["console"] == [], f"console: {d['console']}"
assert d["external"] == [], f"resources fetched: {d['external']}"
assert d["broken_images"] == 0 and d["decoded_images"] == d["images"] and d["images"] == 4 and d["zoomable"] == 4, d
assert d["open_ms"] < 1000, f"opened in {d['open_ms']} ms"
curve = next(s for s in d["series"] if s["chart"] == "chart-loss" and s["series"] == "loss/train")
assert (curve["y_min"], curve["y_max"], curve["points"]) == (g(min(loss)), g(max(loss)), len(loss)), curve
assert d["zoomed"]["shown"] and d["zoomed"]["width"] == 320 and "step 28" in d["zoomed"]["caption"], d["zoomed"]
PY
fi
[ -s "$T/run-page.png" ] && note "screenshots: $T/run-page.png $T/run-page-zoom.png"

# `facetrain report RUN` writes the page train wrote (but for the minute it was written; beside it,
# so that the links to the sheets are the same).
ft report report "$T/run" -o "$T/run/report-again.html"
expect_rc 0 report
strip_time() { sed -E 's/written [0-9-]+ [0-9:]+ UTC//' "$1"; }
if cmp -s <(strip_time "$T/run/report.html") <(strip_time "$T/run/report-again.html"); then
  pass "facetrain report RUN reproduces the page train wrote"
else
  fail "facetrain report RUN differs from RUN/report.html"
fi
rm -r "$T/run/checkpoints/step-00000020"  # the checkpoint damaged above (verify would name it)
ft verify_run verify "$T/run"
expect_rc 0 verify_run && pass "verify still accepts the run (report.html, tensorboard/ beside it)"
ft report_missing report "$T/no-such-run"
expect_error report_missing 66 "$T/no-such-run"
mkdir -p "$T/not-a-report"
ft report_neither report "$T/not-a-report"
expect_error report_neither 65 "$T/not-a-report" "nor a face set"
# A face set's contact sheet: every face (the sample face sets are far under the page's 480), by
# track, each picture decodable; the face set still verifies with the page beside it.
ft report_faceset report "$T/actor"
expect_rc 0 report_faceset
python3 - "$T/actor" <<'PY' >"$T/faceset_page.txt" && pass "face set page: $(cat "$T/faceset_page.txt")" ||
import base64, glob, json, re, sys
d = sys.argv[1]
faces = sum(len(json.loads(l)["faces"]) for f in glob.glob(f"{d}/alignments/*.jsonl") for l in open(f) if l.strip())
page = open(f"{d}/report.html").read()
pictures = re.findall(r'<img src="data:image/jpeg;base64,([^"]+)"[^>]*data-track="(\d+)"', page)
jpegs_ok = all(base64.b64decode(p).startswith(b"\xff\xd8") for p, _ in pictures)
print(f"{len(pictures)} crops of {faces} faces, {len(set(t for _, t in pictures))} track(s), {len(page) // 1024} kB")
sys.exit(0 if faces > 0 and len(pictures) == faces and jpegs_ok and 'id="track-' in page else 1)
PY
  fail "face set page: $(cat "$T/faceset_page.txt")"
ft verify_faceset_page verify "$T/actor"
expect_rc 0 verify_faceset_page && pass "verify accepts the face set with its report.html"
ft report_unwritable report "$T/run" -o "$T/no-such-dir/page.html"
expect_error report_unwritable 73 "no-such-dir"

# --- a 6-hour run, synthesised: 100 000 logged steps (one a spike), 400 preview sheets, 8 devices
python3 - "$T/run" "$T/long" <<'PY'
import json, math, os, random, shutil, sys
src, dst = sys.argv[1], sys.argv[2]
os.makedirs(f"{dst}/previews"); os.makedirs(f"{dst}/checkpoints")
random.seed(7)
with open(f"{dst}/metrics.jsonl", "w") as f:
    for step in range(1, 100001):
        loss = 2.0 + 12.0 / math.sqrt(step) + random.gauss(0, 0.05)
        if step == 77777: loss = 50.0
        line = {"step": step, "loss": loss, "lr": 5e-5 * min(1.0, step / 200), "images_per_s": 240 + random.gauss(0, 5),
                "elapsed_s": step * 0.216}
        for who in ("actor", "double"):
            for term, scale in (("dssim", 0.1), ("mse", 0.01), ("l1", 0.05), ("eyes_mouth", 0.01), ("mask", 0.1)):
                line[f"{who}_{term}"] = scale * (1 + 3 / math.sqrt(step))
            line[f"{who}_total"] = loss / 2
        if step % 100 == 0: line["validation_loss"] = 2.2 + 12.0 / math.sqrt(step)
        f.write(json.dumps(line) + "\n")
manifest = json.load(open(f"{src}/manifest.json")); manifest["world_size"] = 8
json.dump(manifest, open(f"{dst}/manifest.json", "w"), indent=2)
config = open(f"{src}/config.yaml").read()
open(f"{dst}/config.yaml", "w").write(config.replace("target_loss: 0\n", "target_loss: 2.5\n"))
sheet = f"{src}/previews/step-00000028.png"
for step in range(250, 100001, 250):
    shutil.copy(sheet, f"{dst}/previews/step-{step:08d}.png")
PY
ft report_long report "$T/long" -o "$T/long.html"
expect_rc 0 report_long
size=$(stat -c %s "$T/long.html")
[ "$size" -lt $((5 * 1024 * 1024)) ] && pass "6-hour run: page of $((size / 1024)) kB written in $FT_SECONDS s" ||
  fail "6-hour run: the page is $((size / 1024)) kB (limit 5 MB)"
if page_check "$T/long.html" long-page; then
  python3 - "$T/long-page.json" "$T/long" <<'PY' && pass "6-hour run page: $(json_get "$T/long-page.json" "'opened in %.0f ms, %d curves of at most %d points, %d sheets' % (d['open_ms'], len(d['series']), max(s['points'] for s in d['series']), d['images'])")" || fail "the 6-hour run's page"
import json, statistics, sys
d = json.load(open(sys.argv[1]))
metrics = [json.loads(l) for l in open(f"{sys.argv[2]}/metrics.jsonl")]
g = lambda v: "%.6g" % v
loss = [m["loss"] for m in metrics]
assert d["open_ms"] < 1000, f"opened in {d['open_ms']} ms"
assert d["console"] == [] and d["external"] == [] and d["broken_images"] == 0 and d["decoded_images"] == d["images"], (d["console"], d["broken_images"], d.get("broken_sources"))
assert d["images"] == 400, d["images"]
assert d["ids"]["run-steps"] == "100000" and d["ids"]["run-device-hours"] == g(100000 * 0.216 * 8 / 3600), d["ids"]
assert d["ids"]["run-min-loss"] == g(min(loss)), d["ids"]
first = next(m for m in metrics if m.get("validation_loss", 99) <= 2.5)
assert d["attributes"]["run-time-to-target"]["data-step"] == str(first["step"]), d["attributes"]["run-time-to-target"]
curve = next(s for s in d["series"] if s["chart"] == "chart-loss" and s["series"] == "loss/train")
assert curve["y_max"] == "50" and curve["y_min"] == g(min(loss)), f"the spike or the dip is lost: {curve}"
assert max(s["points"] for s in d["series"]) <= 2400, "curves are not downsampled"
PY
fi
e2e_end
