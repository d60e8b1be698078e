#!/usr/bin/env python3
"""Full-frame mattes of a face set, for scoring against full-frame ground truth (issue 24).

  frame_mattes.py FACESET OUT_DIR [--kind visible|hull]

For every recorded frame with a face, writes OUT_DIR/<kind>.NNNN.png (8-bit grey, the plate's
size): 'visible' warps each face's visible-face matte (FACESET/mattes/visible.json, made by
`facetrain matte apply`) from its aligned crop into the frame through the inverse of its
aligned_from_frame (bilinear), 'hull' fills facetrain's landmark hull (jaw and brows, the brows
raised by 15 % of the brow-to-chin distance: face_hull_mask in src/facetrain/face/alignment.cpp)
in frame pixels. Several faces in a frame: the maximum.
"""
import argparse
import glob
import json
import os

import numpy as np
from PIL import Image, ImageDraw


def records(faceset):
    by_frame = {}
    for path in sorted(glob.glob(os.path.join(faceset, "alignments", "*.jsonl"))):
        for line in open(path):
            if line.strip():
                record = json.loads(line)
                by_frame[record["frame"]] = record
    return by_frame


def warp_to_frame(matte, aligned_from_frame, width, height):
    """matte (S x S, 0..1) in aligned space -> frame (height x width), bilinear, 0 outside."""
    (a, b, tx), (c, d, ty) = aligned_from_frame
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    u = a * xs + b * ys + tx
    v = c * xs + d * ys + ty
    size = matte.shape[0]
    u0, v0 = np.floor(u).astype(int), np.floor(v).astype(int)
    fu, fv = u - u0, v - v0
    out = np.zeros((height, width))
    for du, dv, w in ((0, 0, (1 - fu) * (1 - fv)), (1, 0, fu * (1 - fv)), (0, 1, (1 - fu) * fv), (1, 1, fu * fv)):
        uu, vv = u0 + du, v0 + dv
        ok = (uu >= 0) & (uu < size) & (vv >= 0) & (vv < size)
        out[ok] += w[ok] * matte[vv[ok], uu[ok]]
    return out


def hull_in_frame(landmarks, width, height):
    pts = np.array(landmarks[:27], dtype=np.float64)
    brow_mid = pts[17:27].mean(axis=0)
    pts[17:27] += 0.15 * (brow_mid - pts[8])
    # Convex hull (monotone chain).
    p = sorted(map(tuple, pts))
    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
    lower, upper = [], []
    for q in p:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], q) <= 0:
            lower.pop()
        lower.append(q)
    for q in reversed(p):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], q) <= 0:
            upper.pop()
        upper.append(q)
    image = Image.new("L", (width, height), 0)
    ImageDraw.Draw(image).polygon([(x + 0.0, y + 0.0) for x, y in lower[:-1] + upper[:-1]], fill=255)
    return np.asarray(image, dtype=np.float64) / 255.0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("faceset")
    parser.add_argument("out")
    parser.add_argument("--kind", choices=["visible", "hull"], default="visible")
    args = parser.parse_args()
    manifest = json.load(open(os.path.join(args.faceset, "faceset.json")))
    source = manifest["sources"][0]
    width, height = source["width"], source["height"]
    index = None
    if args.kind == "visible":
        index = json.load(open(os.path.join(args.faceset, "mattes", "visible.json")))
    os.makedirs(args.out, exist_ok=True)
    written = 0
    for frame, record in sorted(records(args.faceset).items()):
        if not record["faces"]:
            continue
        out = np.zeros((height, width))
        for face in record["faces"]:
            if args.kind == "hull":
                out = np.maximum(out, hull_in_frame(face["landmarks"], width, height))
                continue
            entry = index["faces"].get(face["crop"])
            if entry is None:
                continue
            matte = np.asarray(Image.open(os.path.join(args.faceset, entry["matte"])).convert("L"), dtype=np.float64) / 255.0
            out = np.maximum(out, warp_to_frame(matte, face["aligned_from_frame"], width, height))
        Image.fromarray(np.clip(np.round(out * 255), 0, 255).astype(np.uint8)).save(
            os.path.join(args.out, "%s.%04d.png" % (args.kind, frame)))
        written += 1
    print(json.dumps({"frames": written, "out": args.out, "kind": args.kind}))


if __name__ == "__main__":
    main()
