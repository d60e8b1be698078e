#!/usr/bin/env python3
"""Render the hand-drawn polygons of a clip folder's ground_truth.json to full-frame mattes.

Each clip folder (handwave/, thumbsup/) holds ground_truth.json; for every labelled frame N (the
plate's frame number, movie frames numbered from 1) this writes into the same folder:
  visible.NNNN.png   white (255) where the face is visible: inside the face polygon and outside
                     every occluder polygon; black (0) elsewhere.
  occluder.NNNN.png  white where an occluder covers the face: inside the face polygon and inside
                     an occluder polygon; black elsewhere (all black on frames without occluders).

Polygons are filled with PIL's ImageDraw.polygon (vertices at pixel centres, boundary pixels
included), so the mattes are exactly reproducible from the JSON.

  make_mattes.py [CLIP_DIR...]      write the mattes (default: every clip folder next to this script)
  make_mattes.py --check [CLIP_DIR...]
                                    exit 1 when a committed matte differs from its JSON
  make_mattes.py CLIP_DIR --overlay DIR --frames DIR
                                    also draw the polygons over the plate frames (frame.NNNN.png
                                    or NNNN.png in --frames) into DIR, to look at them
"""
import argparse
import glob
import json
import os
import sys

import numpy as np
from PIL import Image, ImageDraw

HERE = os.path.dirname(os.path.abspath(__file__))


def load_truth(path):
    with open(path) as f:
        truth = json.load(f)
    return truth


def fill(polygon, width, height):
    canvas = Image.new("L", (width, height), 0)
    if len(polygon) >= 3:
        ImageDraw.Draw(canvas).polygon([tuple(p) for p in polygon], fill=255, outline=255)
    return np.asarray(canvas) > 0


def mattes_for(entry, width, height):
    face = fill(entry["face"], width, height)
    occluder_union = np.zeros((height, width), dtype=bool)
    for polygon in entry["occluders"]:
        occluder_union |= fill(polygon, width, height)
    occluder = face & occluder_union
    visible = face & ~occluder_union
    return visible, occluder


def to_png(mask):
    return Image.fromarray(np.where(mask, 255, 0).astype(np.uint8), mode="L")


def find_plate_frame(frames_dir, number):
    for name in ("frame.%04d.png" % number, "%04d.png" % number):
        path = os.path.join(frames_dir, name)
        if os.path.exists(path):
            return path
    raise SystemExit("no plate frame %d in %s (frame.%04d.png or %04d.png)" % (number, frames_dir, number, number))


def draw_overlay(plate_path, entry, out_path):
    image = Image.open(plate_path).convert("RGB")
    draw = ImageDraw.Draw(image)
    draw.line([tuple(p) for p in entry["face"] + entry["face"][:1]], fill=(0, 255, 0), width=1)
    for polygon in entry["occluders"]:
        draw.line([tuple(p) for p in polygon + polygon[:1]], fill=(255, 40, 40), width=1)
    image.save(out_path)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("clips", nargs="*", help="clip folders (default: all beside this script)")
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--overlay")
    parser.add_argument("--frames")
    args = parser.parse_args()
    clips = args.clips or sorted(os.path.dirname(p) for p in
                                 glob.glob(os.path.join(HERE, "*", "ground_truth.json")))
    if not clips:
        raise SystemExit("no clip folder with a ground_truth.json")
    if args.overlay and len(clips) != 1:
        raise SystemExit("--overlay needs exactly one clip folder")
    status = 0
    for clip in clips:
        status |= render_clip(clip, args)
    return status


def render_clip(clip, args):
    truth_path = os.path.join(clip, "ground_truth.json")
    truth = load_truth(truth_path)
    out = clip
    width, height = truth["width"], truth["height"]
    mismatches = []
    for key in sorted(truth["frames"], key=int):
        number = int(key)
        entry = truth["frames"][key]
        visible, occluder = mattes_for(entry, width, height)
        for kind, mask in (("visible", visible), ("occluder", occluder)):
            path = os.path.join(out, "%s.%04d.png" % (kind, number))
            if args.check:
                if not os.path.exists(path):
                    mismatches.append(path + " (missing)")
                    continue
                committed = np.asarray(Image.open(path).convert("L")) > 127
                if committed.shape != mask.shape or (committed != mask).any():
                    mismatches.append(path)
            else:
                to_png(mask).save(path, optimize=True)
        if args.overlay:
            if not args.frames:
                raise SystemExit("--overlay needs --frames")
            os.makedirs(args.overlay, exist_ok=True)
            draw_overlay(find_plate_frame(args.frames, number), entry,
                         os.path.join(args.overlay, "overlay.%04d.png" % number))
    name = os.path.basename(os.path.normpath(clip))
    if args.check:
        if mismatches:
            print("%s: mattes differ from ground_truth.json: %s" % (name, ", ".join(mismatches)), file=sys.stderr)
            return 1
        print("%s: %d frames, mattes match ground_truth.json" % (name, len(truth["frames"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
