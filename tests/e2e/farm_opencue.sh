#!/usr/bin/env bash
# examples/farm/opencue/facetrain_chain.py serialized by PyOutline's own OpenCue backend (the job
# spec Cuebot receives): every chunked layer passes #FRAMESPEC# to --frames, cores/gpus/gpu_memory
# are booked with their current names, train waits for both extracts and swap for train
# (LAYER_ON_LAYER), the job retries MAX_RETRIES times and carries OCIO. There is no Cuebot or RQD
# here: the spec is checked, not run.
# Needs opencue-pyoutline (scripts/setup.sh installs opencue-pyoutline==1.37.0 and packaging into
# .venv; 1.37.0 omits its `packaging` dependency), or FACETRAIN_OPENCUE_PYTHON; skipped without it.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
e2e_begin
py="${FACETRAIN_OPENCUE_PYTHON:-$TEST_PYTHON}"   # scripts/setup.sh installs it in the venv
"$py" -c 'import outline.backend.cue' 2>/dev/null \
  || missing_setup_tool pyoutline "opencue-pyoutline is not importable by $py (opencue-pyoutline==1.37.0 and packaging; FACETRAIN_OPENCUE_PYTHON overrides the Python)"
EX="$FACETRAIN_SOURCE_DIR/examples/farm/opencue/facetrain_chain.py"
if ! "$py" "$EX" --spec >"$T/spec.xml" 2>"$T/spec.err"; then
  cat "$T/spec.err" >&2; fatal "facetrain_chain.py --spec failed"
fi
if msg="$(python3 - "$T/spec.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
text = open(sys.argv[1]).read()
root = ET.fromstring(text[text.index("<spec>"):])
job = root.find("job")
layers = {l.get("name"): l for l in job.find("layers")}
problems = []
if sorted(layers) != ["extract_actor", "extract_double", "swap", "train"]:
    problems.append("layers %s" % sorted(layers))
for name, layer in layers.items():
    cmd, chunk = layer.findtext("cmd"), int(layer.findtext("chunk"))
    if "#FRAME_START#" in cmd or "#FRAME_END#" in cmd:
        problems.append("%s uses #FRAME_START#/#FRAME_END#" % name)
    if chunk > 1 and "--frames #FRAMESPEC#" not in cmd:
        problems.append("%s (chunk %d) does not pass --frames #FRAMESPEC#" % (name, chunk))
    if layer.find("cores") is None or layer.find("threads") is not None:
        problems.append("%s: no <cores>" % name)
for name in ("train", "swap"):
    if layers[name].findtext("gpus") is None or layers[name].findtext("gpu_memory") is None:
        problems.append("%s books no GPU (gpus/gpu_memory)" % name)
    if "--device cuda" not in layers[name].findtext("cmd"):
        problems.append("%s does not run on CUDA" % name)
depends = sorted((d.get("type"), d.findtext("deplayer"), d.findtext("onlayer")) for d in root.find("depends"))
want = [("LAYER_ON_LAYER", "swap", "train"), ("LAYER_ON_LAYER", "train", "extract_actor"),
        ("LAYER_ON_LAYER", "train", "extract_double")]
if depends != want:
    problems.append("depends %s" % depends)
if job.findtext("maxretries") != "2":
    problems.append("maxretries %s" % job.findtext("maxretries"))
if [k.get("name") for k in job.find("env")] != ["OCIO"]:
    problems.append("job env %s" % [k.get("name") for k in job.find("env")])
print("; ".join(problems) if problems else "%d layers, %d dependencies" % (len(layers), len(depends)))
sys.exit(1 if problems else 0)
PY
)"; then pass "the OpenCue job spec from PyOutline: $msg"; else fail "the OpenCue job spec: $msg"; fi
# RQD's view: the last, shorter chunk of the swap layer (1001-1095 in chunks of 10) is 1091-1095.
"$py" "$EX" --print >"$T/frames.txt"
grep -q '^swap: .* --frames 1091-1095 ' "$T/frames.txt" && [ "$(grep -c '^swap: ' "$T/frames.txt")" = 10 ] \
  && pass "--print: 10 swap chunks, the last one 1091-1095" || fail "--print: $(grep '^swap' "$T/frames.txt" | tail -n 1)"
e2e_end
