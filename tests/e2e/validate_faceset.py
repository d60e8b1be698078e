#!/usr/bin/env python3
"""Checks a face set (facetrain extract -o FACESET) against the contract in docs/design.md §4.1.

    validate_faceset.py FACESET [--size PX] [--expect-frames SOURCE=RANGE]... [--min-face-ratio R]
                                [--max-faces N] [--no-orphans] [--owner-only]

Exit status 0 when valid, 1 with one line per problem on stderr otherwise. On stdout, a JSON summary:
{"sources": {SOURCE: {"frames": n, "first": f, "last": l, "frames_with_faces": n, "faces": n,
 "face_ratio": r}}, "records": n, "orphan_crops": n, "crop_size": px}.

Rules: faceset.json has the documented keys and types; every alignments/*.jsonl line is one complete
JSON object {"source", "frame", "faces"}; each face has index, track, bbox [x0,y0,x1,y1] (x0<x1, y0<y1),
score, 68 [x,y] landmarks, aligned_from_frame [[a,b,tx],[c,d,ty]] (a similarity), crop "faces/*.png"
and mask "masks/*.png" that exist, are 8-bit PNGs of the face set's size and belong to one face only;
all numbers finite; the source is one of faceset.json's sources and the frame lies in its
[frame_first, frame_last]; no (source, frame) appears twice over all files; the landmarks, mapped by
aligned_from_frame, land inside the crop (units: crop pixels).

Importable: load_records(faceset) -> {(source, frame): [face, ...]} for tests that compare face sets.
"""
import argparse
import glob
import json
import math
import os
import re
import stat
import struct
import sys

HEX64 = re.compile(r"^[0-9a-f]{64}$")


def parse_range(spec):
    """Farm frame-range syntax: 1001-1100, 1001-1100x2, 1001,1005,1010-1020 (negative frames allowed)."""
    frames = []
    for part in spec.split(","):
        m = re.fullmatch(r"\s*(-?\d+)(?:-(-?\d+)(?:x(\d+))?)?\s*", part)
        if not m:
            raise ValueError("bad frame range %r" % spec)
        first = int(m.group(1))
        last = int(m.group(2)) if m.group(2) is not None else first
        step = int(m.group(3)) if m.group(3) else 1
        frames.extend(range(first, last + 1, step))
    return sorted(set(frames))


def png_header(path):
    """(width, height, bit_depth, color_type) of a PNG, or None when it is not a PNG."""
    with open(path, "rb") as f:
        head = f.read(33)
    if len(head) < 33 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return struct.unpack(">IIBB", head[16:26])


def finite(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def is_int(x):
    return isinstance(x, int) and not isinstance(x, bool)


def load_records(faceset, problems=None):
    """Reads every alignments/*.jsonl; returns {(source, frame): faces}. Problems go to `problems`."""
    problems = problems if problems is not None else []
    records = {}
    where = {}
    files = sorted(glob.glob(os.path.join(faceset, "alignments", "*.jsonl")))
    for path in files:
        rel = os.path.relpath(path, faceset)
        with open(path, "rb") as f:
            data = f.read()
        if data and not data.endswith(b"\n"):
            problems.append("%s: last line is not terminated (a half-written record?)" % rel)
        for n, raw in enumerate(data.split(b"\n"), 1):
            if not raw.strip():
                continue
            try:
                rec = json.loads(raw)
            except (ValueError, UnicodeDecodeError) as e:
                problems.append("%s:%d: not a JSON object (%s)" % (rel, n, e))
                continue
            if not isinstance(rec, dict):
                problems.append("%s:%d: not a JSON object" % (rel, n))
                continue
            src, frame, faces = rec.get("source"), rec.get("frame"), rec.get("faces")
            if not isinstance(src, str) or not src:
                problems.append("%s:%d: 'source' is not a non-empty string" % (rel, n))
                continue
            if not is_int(frame):
                problems.append("%s:%d: 'frame' is not an integer: %r" % (rel, n, frame))
                continue
            if not isinstance(faces, list):
                problems.append("%s:%d: 'faces' is not a list" % (rel, n))
                continue
            key = (src, frame)
            if key in records:
                problems.append("%s:%d: duplicate record for %s frame %d (first in %s)" % (rel, n, src, frame, where[key]))
                continue
            records[key] = faces
            where[key] = "%s:%d" % (rel, n)
    return records, where, files


def check_faceset_json(faceset, problems):
    path = os.path.join(faceset, "faceset.json")
    try:
        with open(path) as f:
            meta = json.load(f)
    except FileNotFoundError:
        problems.append("faceset.json is missing")
        return None
    except ValueError as e:
        problems.append("faceset.json is not valid JSON: %s" % e)
        return None
    if not isinstance(meta, dict):
        problems.append("faceset.json is not a JSON object")
        return None
    if not is_int(meta.get("format_version")):
        problems.append("faceset.json: format_version is not an integer: %r" % meta.get("format_version"))
    if meta.get("face_type") not in ("whole", "full", "head"):
        problems.append("faceset.json: face_type is %r, not whole|full|head" % meta.get("face_type"))
    if not is_int(meta.get("size")) or meta.get("size") <= 0:
        problems.append("faceset.json: size is not a positive integer: %r" % meta.get("size"))
    if not isinstance(meta.get("landmark_model_sha256"), str) or not HEX64.match(meta.get("landmark_model_sha256")):
        problems.append("faceset.json: landmark_model_sha256 is not 64 hex digits: %r" % meta.get("landmark_model_sha256"))
    if not isinstance(meta.get("tool_version"), str) or not meta.get("tool_version"):
        problems.append("faceset.json: tool_version is not a non-empty string")
    sources = meta.get("sources")
    if not isinstance(sources, list) or not sources:
        problems.append("faceset.json: sources is not a non-empty list")
        return meta
    seen = set()
    for i, s in enumerate(sources):
        tag = "faceset.json: sources[%d]" % i
        if not isinstance(s, dict):
            problems.append(tag + " is not an object")
            continue
        if not isinstance(s.get("path"), str) or not s.get("path"):
            problems.append(tag + ".path is not a non-empty string")
            continue
        if s["path"] in seen:
            problems.append(tag + ": source %s listed twice" % s["path"])
        seen.add(s["path"])
        if not isinstance(s.get("sha256"), str) or not HEX64.match(s.get("sha256")):
            problems.append(tag + ".sha256 is not 64 hex digits: %r" % s.get("sha256"))
        for k in ("width", "height"):
            if not is_int(s.get(k)) or s.get(k) <= 0:
                problems.append(tag + ".%s is not a positive integer: %r" % (k, s.get(k)))
        if not finite(s.get("fps")) or s.get("fps") < 0:
            problems.append(tag + ".fps is not a finite non-negative number: %r" % s.get("fps"))
        if not is_int(s.get("frame_first")) or not is_int(s.get("frame_last")) or s["frame_first"] > s["frame_last"]:
            problems.append(tag + ": frame_first/frame_last are not integers with first <= last: %r, %r"
                            % (s.get("frame_first"), s.get("frame_last")))
        if not isinstance(s.get("colorspace"), str):
            problems.append(tag + ".colorspace is not a string")
        detectors = s.get("detectors", [])  # absent in face sets extracted before it was recorded
        if not isinstance(detectors, list):
            problems.append(tag + ".detectors is not a list")
            detectors = []
        for j, d in enumerate(detectors):
            if not isinstance(d, dict) or d.get("kind") not in ("hog", "cnn", "hog+cnn"):
                problems.append(tag + ".detectors[%d].kind is not hog, cnn or hog+cnn: %r" % (j, d))
            elif d["kind"] == "hog" and d.get("model_sha256") != "":
                problems.append(tag + ".detectors[%d]: HOG with a model SHA-256 %r" % (j, d.get("model_sha256")))
            elif d["kind"] != "hog" and not HEX64.match(str(d.get("model_sha256"))):
                problems.append(tag + ".detectors[%d].model_sha256 is not 64 hex digits: %r" % (j, d.get("model_sha256")))
    return meta


def check_png(faceset, rel, size, kind, problems, tag):
    if not isinstance(rel, str) or not rel.startswith(kind + "/") or not rel.endswith(".png"):
        problems.append("%s: %s is not '%s/<name>.png': %r" % (tag, kind, kind, rel))
        return False
    if rel.startswith("/") or ".." in rel.split("/"):
        problems.append("%s: %s path escapes the face set: %r" % (tag, kind, rel))
        return False
    path = os.path.join(faceset, rel)
    if not os.path.isfile(path):
        problems.append("%s: %s file %s does not exist" % (tag, kind, rel))
        return False
    hdr = png_header(path)
    if hdr is None:
        problems.append("%s: %s is not a PNG file" % (tag, rel))
        return False
    w, h, depth, _ = hdr
    if size is not None and (w, h) != (size, size):
        problems.append("%s: %s is %dx%d, expected %dx%d" % (tag, rel, w, h, size, size))
    if depth != 8:
        problems.append("%s: %s has %d-bit samples, expected 8-bit" % (tag, rel, depth))
    return True


def check_face(faceset, face, size, frame_wh, tag, problems, stats):
    if not isinstance(face, dict):
        problems.append(tag + ": face is not an object")
        return
    for k in ("index", "track"):
        if not is_int(face.get(k)) or face.get(k) < 0:
            problems.append("%s: %s is not a non-negative integer: %r" % (tag, k, face.get(k)))
    bbox = face.get("bbox")
    if not (isinstance(bbox, list) and len(bbox) == 4 and all(finite(v) for v in bbox)):
        problems.append("%s: bbox is not 4 finite numbers: %r" % (tag, bbox))
        bbox = None
    elif not (bbox[0] < bbox[2] and bbox[1] < bbox[3]):
        problems.append("%s: bbox is not [x0, y0, x1, y1] with x0 < x1, y0 < y1: %r" % (tag, bbox))
    if not finite(face.get("score")):
        problems.append("%s: score is not a finite number: %r" % (tag, face.get("score")))
    lm = face.get("landmarks")
    if not (isinstance(lm, list) and len(lm) == 68 and
            all(isinstance(p, list) and len(p) == 2 and finite(p[0]) and finite(p[1]) for p in lm)):
        problems.append("%s: landmarks are not 68 [x, y] pairs of finite numbers" % tag)
        lm = None
    m = face.get("aligned_from_frame")
    if not (isinstance(m, list) and len(m) == 2 and
            all(isinstance(r, list) and len(r) == 3 and all(finite(v) for v in r) for r in m)):
        problems.append("%s: aligned_from_frame is not [[a, b, tx], [c, d, ty]] of finite numbers: %r" % (tag, m))
        m = None
    if lm is not None and frame_wh is not None:
        w, h = frame_wh
        cx = sum(p[0] for p in lm) / 68.0
        cy = sum(p[1] for p in lm) / 68.0
        if not (-0.1 * w <= cx <= 1.1 * w and -0.1 * h <= cy <= 1.1 * h):
            problems.append("%s: landmark centre (%.1f, %.1f) lies outside the %dx%d frame" % (tag, cx, cy, w, h))
        if bbox is not None:
            bw, bh = bbox[2] - bbox[0], bbox[3] - bbox[1]
            if not (bbox[0] - 0.5 * bw <= cx <= bbox[2] + 0.5 * bw and bbox[1] - 0.5 * bh <= cy <= bbox[3] + 0.5 * bh):
                problems.append("%s: landmark centre (%.1f, %.1f) is far from bbox %r" % (tag, cx, cy, bbox))
    if m is not None:
        (a, b, tx), (c, d, ty) = m
        scale = math.hypot(a, c)
        if scale <= 0 or abs(a - d) > 0.02 * scale or abs(b + c) > 0.02 * scale:
            problems.append("%s: aligned_from_frame is not a similarity (rotation+scale+shift): %r" % (tag, m))
        elif lm is not None and size is not None:
            inside = 0
            for x, y in lm:
                u, v = a * x + b * y + tx, c * x + d * y + ty
                if 0 <= u <= size and 0 <= v <= size:
                    inside += 1
            stats["landmarks"] += 68
            stats["landmarks_inside"] += inside
    crop_ok = check_png(faceset, face.get("crop"), size, "faces", problems, tag)
    mask_ok = check_png(faceset, face.get("mask"), size, "masks", problems, tag)
    for key, ok in (("crop", crop_ok), ("mask", mask_ok)):
        if ok:
            rel = face[key]
            if rel in stats["owners"]:
                problems.append("%s: %s %s also belongs to %s" % (tag, key, rel, stats["owners"][rel]))
            stats["owners"][rel] = tag


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("faceset")
    ap.add_argument("--size", type=int, help="expected crop size (default: faceset.json's size)")
    ap.add_argument("--expect-frames", action="append", default=[], metavar="SOURCE=RANGE",
                    help="exactly these frames of SOURCE are in the face set")
    ap.add_argument("--expect-sources", type=int, help="number of sources in faceset.json")
    ap.add_argument("--min-face-ratio", type=float, help="each source has faces on at least this share of its frames")
    ap.add_argument("--max-faces", type=int, help="at most this many faces per frame")
    ap.add_argument("--no-orphans", action="store_true", help="every faces/*.png and masks/*.png belongs to a record")
    ap.add_argument("--owner-only", action="store_true", help="files 0600-or-tighter, folders 0700-or-tighter")
    args = ap.parse_args()

    fs = args.faceset
    problems = []
    if not os.path.isdir(fs):
        print("%s is not a folder" % fs, file=sys.stderr)
        return 1
    meta = check_faceset_json(fs, problems)
    size = args.size
    if meta is not None and is_int(meta.get("size")):
        if size is not None and meta["size"] != size:
            problems.append("faceset.json: size is %r, expected %d" % (meta["size"], size))
        size = size or meta["size"]
    sources = {}
    if meta is not None and isinstance(meta.get("sources"), list):
        for s in meta["sources"]:
            if isinstance(s, dict) and isinstance(s.get("path"), str):
                sources[s["path"]] = s
        if args.expect_sources is not None and len(sources) != args.expect_sources:
            problems.append("faceset.json lists %d sources, expected %d: %s"
                            % (len(sources), args.expect_sources, sorted(sources)))

    records, where, files = load_records(fs, problems)
    if not files:
        problems.append("alignments/*.jsonl: no alignment files")
    stats = {"landmarks": 0, "landmarks_inside": 0, "owners": {}}
    per_source = {}
    for (src, frame), faces in sorted(records.items()):
        tag = "%s (%s frame %d)" % (where[(src, frame)], src, frame)
        info = per_source.setdefault(src, {"frames": 0, "first": frame, "last": frame, "frames_with_faces": 0,
                                           "faces": 0, "frame_numbers": []})
        info["frames"] += 1
        info["first"] = min(info["first"], frame)
        info["last"] = max(info["last"], frame)
        info["frame_numbers"].append(frame)
        info["faces"] += len(faces)
        info["frames_with_faces"] += 1 if faces else 0
        s = sources.get(src)
        frame_wh = None
        if s is None:
            problems.append("%s: source %r is not among faceset.json's sources %s" % (tag, src, sorted(sources)))
        else:
            if is_int(s.get("frame_first")) and is_int(s.get("frame_last")) and not (s["frame_first"] <= frame <= s["frame_last"]):
                problems.append("%s: frame %d is outside the source's frames %d-%d"
                                % (tag, frame, s["frame_first"], s["frame_last"]))
            if is_int(s.get("width")) and is_int(s.get("height")):
                frame_wh = (s["width"], s["height"])
        if args.max_faces is not None and len(faces) > args.max_faces:
            problems.append("%s: %d faces, more than --max-faces %d" % (tag, len(faces), args.max_faces))
        indices = [f.get("index") for f in faces if isinstance(f, dict)]
        if len(set(map(str, indices))) != len(indices):
            problems.append("%s: face indices repeat: %r" % (tag, indices))
        for i, face in enumerate(faces):
            check_face(fs, face, size, frame_wh, "%s face %d" % (tag, i), problems, stats)

    if stats["landmarks"]:
        share = stats["landmarks_inside"] / stats["landmarks"]
        if share < 0.95:
            problems.append("only %.1f%% of landmarks, mapped by aligned_from_frame, fall inside the %s px crop "
                            "(is the matrix in crop pixels?)" % (100 * share, size))

    for spec in args.expect_frames:
        src, _, rng = spec.rpartition("=")
        want = parse_range(rng)
        got = per_source.get(src, {}).get("frame_numbers", [])
        missing = sorted(set(want) - set(got))
        extra = sorted(set(got) - set(want))
        if missing:
            problems.append("%s: %d expected frames missing, e.g. %s" % (src, len(missing), missing[:10]))
        if extra:
            problems.append("%s: %d frames not asked for, e.g. %s" % (src, len(extra), extra[:10]))

    orphans = []
    for kind in ("faces", "masks"):
        for path in sorted(glob.glob(os.path.join(fs, kind, "*.png"))):
            rel = os.path.relpath(path, fs)
            if rel not in stats["owners"]:
                orphans.append(rel)
    if args.no_orphans and orphans:
        problems.append("%d crop/mask files belong to no record, e.g. %s" % (len(orphans), orphans[:5]))

    if args.owner_only:
        for root, dirs, names in os.walk(fs):
            for name in dirs + names:
                p = os.path.join(root, name)
                mode = stat.S_IMODE(os.lstat(p).st_mode)
                if mode & 0o077:
                    problems.append("%s is readable by others (mode %o; footage must stay owner-only)"
                                    % (os.path.relpath(p, fs), mode))
                    break
            else:
                continue
            break
        mode = stat.S_IMODE(os.stat(fs).st_mode)
        if mode & 0o077:
            problems.append("the face set folder has mode %o, expected owner-only" % mode)

    summary = {"sources": {}, "records": len(records), "orphan_crops": len(orphans), "crop_size": size,
               "alignment_files": len(files)}
    for src, info in per_source.items():
        info = dict(info)
        info["face_ratio"] = info["frames_with_faces"] / info["frames"] if info["frames"] else 0.0
        del info["frame_numbers"]
        summary["sources"][src] = info
        if args.min_face_ratio is not None and info["face_ratio"] < args.min_face_ratio:
            problems.append("%s: faces on %d of %d frames (%.1f%%), expected at least %.1f%%"
                            % (src, info["frames_with_faces"], info["frames"], 100 * info["face_ratio"],
                               100 * args.min_face_ratio))
    print(json.dumps(summary, indent=1, sort_keys=True))
    for p in problems[:200]:
        print(p, file=sys.stderr)
    if len(problems) > 200:
        print("... and %d more problems" % (len(problems) - 200), file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
