#!/usr/bin/env python3
"""Score visible-face mattes and swaps against the hand-made ground truth (prints JSON).

Each clip has a folder of ground truth beside this script (handwave/, thumbsup/): --truth names it.

  eval_matte.py iou --truth CLIP_DIR --pred DIR [--threshold 0.5] [--exclude 20,31] [--frames 3,10]
      IoU per labelled frame of the predicted full-frame visible-face matte against
      visible.NNNN.png, and the mean. Predictions are found in DIR by frame number: any
      *.NNNN.png / *.NNNN.exr / *.NNNN.tif (e.g. shot.matte.0021.png from `swap`). The matte is
      the alpha channel when the image has one (EXR: channel A), else its first channel;
      8/16-bit integer images are scaled to 0..1. 'iou' binarises at --threshold,
      'soft_iou' is sum(min(p, t)) / sum(max(p, t)) on the unthresholded matte.
      Frames used as labels go in --exclude (labelled frames are never scored).

  eval_matte.py occluder --truth CLIP_DIR --plate DIR --swap DIR [--tolerance 0]
      For each labelled frame with occluder pixels: how many ground-truth occluder pixels
      (occluder.NNNN.png) changed between the plate frame and the swapped frame (any of R, G, B
      differing by more than --tolerance, on the 0..1 scale of the file's type: 0 means bit for
      bit, so give plate and swap in the same format and bit depth), and their share of the
      occluder's area; totals over all frames. Also how many of them lie deeper than 3 px inside
      the occluder (changed_deeper_than_edge), and their share of the occluder's pixels that deep;
      and, on the same frames, the share of the visible face (visible.NNNN.png) the swap changed
      (visible_swapped_share: a matte that keeps the occluder by dropping the face is no better).

  eval_matte.py selfcheck [--truth CLIP_DIR]   (default: every clip folder)
      The ground truth against itself (IoU 1.0), against copies dilated and eroded by 1 and 3
      pixels (IoU below 1), the occluder count of a plate against itself (0 changed) and against
      a swap that repaints the whole frame (every occluder pixel changed). Exit 1 if any of these
      comes out wrong (the deep-occluder and visible-face counts too).

Where a folder holds several numbered sequences (frames and mattes), --pred-glob, --plate-glob
and --swap-glob pick one ('*.matte.*').

EXR files are read through oiiotool (OpenImageIO's command-line tool, a facetrain dependency).
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
# Occluder pixels within this many pixels of the occluder's outline are its edge, where the drawn
# polygon itself is uncertain by a pixel or two and a motion-blurred hand fades out.
EDGE_PX = 3
NUMBERED = re.compile(r"(?:^|[._-])(\d+)\.(png|exr|tif|tiff)$", re.IGNORECASE)


class EvalError(Exception):
    pass


def numbered_files(folder, pattern="*"):
    """frame number -> path for every numbered image in folder matching pattern; two files for one
    number is an error."""
    if not os.path.isdir(folder):
        raise EvalError("not a folder: %s" % folder)
    found = {}
    for path in sorted(glob.glob(os.path.join(folder, pattern))):
        match = NUMBERED.search(os.path.basename(path))
        if not match:
            continue
        number = int(match.group(1))
        if number in found:
            raise EvalError("two images for frame %d in %s: %s and %s (narrow them with a --*-glob)" % (
                number, folder, os.path.basename(found[number]), os.path.basename(path)))
        found[number] = path
    return found


def read_exr(path, channels):
    """Float array (H, W, C) of an EXR through oiiotool; channels e.g. 'A' or 'R,G,B'."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "image.tif")
        command = ["oiiotool", path, "--ch", channels, "-d", "float", "--compression", "none", "-o", out]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            return None
        import tifffile
        data = tifffile.imread(out).astype(np.float64)
    return data if data.ndim == 3 else data[:, :, None]


def read_exr_channels(path, channels):
    """read_exr of `channels`, else of the first channel; EvalError when neither reads."""
    data = read_exr(path, channels)
    if data is None:
        data = read_exr(path, "0")
    if data is None:
        raise EvalError("oiiotool could not read %s" % path)
    return data


def read_image(path):
    """(H, W, C) float64 array in the file's own units and the scale that maps it to 0..1."""
    if path.lower().endswith(".exr"):
        return read_exr_channels(path, "R,G,B,A"), 1.0
    if path.lower().endswith((".tif", ".tiff")):
        import tifffile
        data = tifffile.imread(path)
    else:
        image = Image.open(path)
        data = np.asarray(image)
    if data.ndim == 2:
        data = data[:, :, None]
    if data.dtype == np.uint8:
        scale = 1.0 / 255.0
    elif data.dtype == np.uint16 or (data.dtype == np.int32 and data.max() > 255):
        scale = 1.0 / 65535.0
    elif np.issubdtype(data.dtype, np.integer):
        scale = 1.0 / 255.0
    else:
        scale = 1.0
    return data.astype(np.float64), scale


def scaled(image_and_scale):
    data, scale = image_and_scale
    return data * scale


def read_matte(path):
    """Matte in 0..1: alpha when there is one (2 or 4 channels), else the first channel."""
    if path.lower().endswith(".exr"):
        return np.clip(read_exr_channels(path, "A")[:, :, 0], 0.0, 1.0)
    data, scale = read_image(path)
    channel = data.shape[2] - 1 if data.shape[2] in (2, 4) else 0
    return np.clip(data[:, :, channel] * scale, 0.0, 1.0)


def read_truth(path):
    return np.asarray(Image.open(path).convert("L")) > 127


def truth_frames(truth_dir, kind):
    frames = {}
    for path in glob.glob(os.path.join(truth_dir, "%s.*.png" % kind)):
        frames[int(path.rsplit(".", 2)[1])] = path
    if not frames:
        raise EvalError("no %s.NNNN.png in %s" % (kind, truth_dir))
    return frames


def parse_frame_list(text):
    if not text:
        return set()
    numbers = set()
    for part in text.split(","):
        part = part.strip()
        if "-" in part:
            first, last = part.split("-")
            numbers.update(range(int(first), int(last) + 1))
        elif part:
            numbers.add(int(part))
    return numbers


def iou(truth, pred):
    union = np.logical_or(truth, pred).sum()
    return 1.0 if union == 0 else float(np.logical_and(truth, pred).sum()) / float(union)


def soft_iou(truth, pred):
    t = truth.astype(np.float64)
    denominator = np.maximum(t, pred).sum()
    return 1.0 if denominator == 0 else float(np.minimum(t, pred).sum() / denominator)


def score_ious(truth_by_frame, pred_by_frame, threshold):
    per_frame = {}
    for number in sorted(truth_by_frame):
        truth = truth_by_frame[number]
        pred = pred_by_frame[number]
        if pred.shape != truth.shape:
            raise EvalError("frame %d: prediction is %dx%d, ground truth %dx%d" % (
                number, pred.shape[1], pred.shape[0], truth.shape[1], truth.shape[0]))
        per_frame[number] = {
            "iou": round(iou(truth, pred >= threshold), 4),
            "soft_iou": round(soft_iou(truth, pred), 4),
            "truth_pixels": int(truth.sum()),
            "pred_pixels": int((pred >= threshold).sum()),
        }
    values = [v["iou"] for v in per_frame.values()]
    soft = [v["soft_iou"] for v in per_frame.values()]
    return {
        "frames": {str(k): v for k, v in per_frame.items()},
        "scored_frames": len(values),
        "mean_iou": round(float(np.mean(values)), 4) if values else None,
        "min_iou": round(float(np.min(values)), 4) if values else None,
        "mean_soft_iou": round(float(np.mean(soft)), 4) if soft else None,
    }


def changed_pixels(plate, swap, tolerance):
    if plate.shape[:2] != swap.shape[:2]:
        raise EvalError("plate %dx%d and swap %dx%d differ in size" % (
            plate.shape[1], plate.shape[0], swap.shape[1], swap.shape[0]))
    channels = min(plate.shape[2], swap.shape[2], 3)
    difference = np.abs(plate[:, :, :channels] - swap[:, :, :channels])
    return (difference > tolerance).any(axis=2)


def score_occluders(occluder_by_frame, plate_by_frame, swap_by_frame, tolerance, visible_by_frame=None):
    from scipy import ndimage
    per_frame = {}
    total_area = total_changed = total_deep = total_deep_area = total_visible = total_swapped = 0
    for number in sorted(occluder_by_frame):
        occluder = occluder_by_frame[number]
        area = int(occluder.sum())
        if area == 0:
            continue
        changed = changed_pixels(plate_by_frame[number], swap_by_frame[number], tolerance)
        if changed.shape != occluder.shape:
            raise EvalError("frame %d: images are %dx%d, ground truth %dx%d" % (
                number, changed.shape[1], changed.shape[0], occluder.shape[1], occluder.shape[0]))
        changed_inside = np.logical_and(changed, occluder)
        count = int(changed_inside.sum())
        # How deep inside the occluder the changed pixels lie (distance to its nearest pixel outside):
        # a soft matte edge changes the first pixel or two, a missed finger changes pixels deep inside.
        depth = ndimage.distance_transform_edt(occluder)
        deep = int(np.logical_and(changed_inside, depth > EDGE_PX).sum())
        per_frame[number] = {"occluder_pixels": area, "changed": count,
                             "changed_share": round(count / area, 6),
                             "changed_deeper_than_edge": deep}
        total_area += area
        total_changed += count
        total_deep += deep
        total_deep_area += int((depth > EDGE_PX).sum())
        if visible_by_frame is not None:
            # The other side of the trade: how much of the visible face the swap still replaced.
            visible = visible_by_frame[number]
            swapped = int(np.logical_and(changed, visible).sum())
            per_frame[number]["visible_swapped_share"] = round(swapped / max(1, int(visible.sum())), 6)
            total_visible += int(visible.sum())
            total_swapped += swapped
    return {
        "frames": {str(k): v for k, v in per_frame.items()},
        "occluder_pixels": total_area,
        "changed": total_changed,
        "changed_share": round(total_changed / total_area, 6) if total_area else None,
        "edge_px": EDGE_PX,
        "changed_deeper_than_edge": total_deep,
        "changed_deeper_than_edge_share": round(total_deep / total_deep_area, 6) if total_deep_area else None,
        "tolerance": tolerance,
        "visible_swapped_share": round(total_swapped / total_visible, 6) if total_visible else None,
    }


def select(frames, only, exclude):
    chosen = {n: p for n, p in frames.items() if (not only or n in only) and n not in exclude}
    if only - set(frames):
        raise EvalError("no ground truth for frames %s" % sorted(only - set(frames)))
    return chosen


def command_iou(args):
    truth_paths = select(truth_frames(args.truth, "visible"), parse_frame_list(args.frames),
                         parse_frame_list(args.exclude))
    predictions = numbered_files(args.pred, args.pred_glob)
    missing = sorted(set(truth_paths) - set(predictions))
    if missing:
        raise EvalError("no predicted matte for frames %s in %s" % (missing, args.pred))
    truth = {n: read_truth(p) for n, p in truth_paths.items()}
    pred = {n: read_matte(predictions[n]) for n in truth_paths}
    result = score_ious(truth, pred, args.threshold)
    result.update({"pred": os.path.abspath(args.pred), "threshold": args.threshold,
                   "excluded": sorted(parse_frame_list(args.exclude))})
    return result


def command_occluder(args):
    occluder_paths = select(truth_frames(args.truth, "occluder"), parse_frame_list(args.frames),
                            parse_frame_list(args.exclude))
    plates = numbered_files(args.plate, args.plate_glob)
    swaps = numbered_files(args.swap, args.swap_glob)
    occluders = {n: read_truth(p) for n, p in occluder_paths.items()}
    needed = sorted(n for n, m in occluders.items() if m.any())
    for name, found, folder in (("plate", plates, args.plate), ("swap", swaps, args.swap)):
        missing = [n for n in needed if n not in found]
        if missing:
            raise EvalError("no %s frame for frames %s in %s" % (name, missing, folder))
    plate = {n: scaled(read_image(plates[n])) for n in needed}
    swap = {n: scaled(read_image(swaps[n])) for n in needed}
    visible_paths = truth_frames(args.truth, "visible")
    visible = {n: read_truth(visible_paths[n]) for n in needed}
    result = score_occluders({n: occluders[n] for n in needed}, plate, swap, args.tolerance, visible)
    result.update({"plate": os.path.abspath(args.plate), "swap": os.path.abspath(args.swap)})
    return result


def command_selfcheck(args):
    if args.truth:
        return selfcheck_clip(args.truth)
    clips = sorted(os.path.dirname(p) for p in glob.glob(os.path.join(HERE, "*", "ground_truth.json")))
    if not clips:
        raise EvalError("no clip folder with a ground_truth.json beside %s" % HERE)
    results = {os.path.basename(c): selfcheck_clip(c) for c in clips}
    return {"clips": results, "ok": all(r["ok"] for r in results.values())}


def selfcheck_clip(truth_dir):
    from scipy import ndimage
    truth = {n: read_truth(p) for n, p in truth_frames(truth_dir, "visible").items()}
    occluders = {n: read_truth(p) for n, p in truth_frames(truth_dir, "occluder").items()}
    result = {"frames": len(truth), "occluded_frames": sum(1 for m in occluders.values() if m.any())}
    failures = []

    same = score_ious(truth, {n: m.astype(np.float64) for n, m in truth.items()}, 0.5)
    result["identity_mean_iou"] = same["mean_iou"]
    if same["mean_iou"] != 1.0:
        failures.append("ground truth against itself is not 1.0")
    for radius in (1, 3):
        structure = ndimage.iterate_structure(ndimage.generate_binary_structure(2, 1), radius)
        for name, operation in (("dilated", ndimage.binary_dilation), ("eroded", ndimage.binary_erosion)):
            moved = {n: operation(m, structure=structure).astype(np.float64) for n, m in truth.items()}
            scored = score_ious(truth, moved, 0.5)
            result["%s_%dpx_mean_iou" % (name, radius)] = scored["mean_iou"]
            if not scored["mean_iou"] < 1.0:
                failures.append("%s by %d px still scores 1.0" % (name, radius))

    rng = np.random.default_rng(24)
    numbers = sorted(n for n, m in occluders.items() if m.any())
    height, width = next(iter(truth.values())).shape
    plate = {n: rng.integers(0, 256, size=(height, width, 3)).astype(np.float64) for n in numbers}
    visible = {n: truth[n] for n in numbers}
    untouched = score_occluders({n: occluders[n] for n in numbers}, plate, plate, 0, visible)
    repainted = score_occluders({n: occluders[n] for n in numbers}, plate,
                                {n: 255.0 - p for n, p in plate.items()}, 0, visible)
    result["plate_vs_itself_changed"] = untouched["changed"]
    result["plate_vs_repainted_changed_share"] = repainted["changed_share"]
    if untouched["changed"] != 0:
        failures.append("a plate against itself changed occluder pixels")
    if repainted["changed_share"] != 1.0:
        failures.append("a repainted frame did not change every occluder pixel")
    if untouched["changed_deeper_than_edge"] != 0 or untouched["visible_swapped_share"] != 0:
        failures.append("a plate against itself counts deep occluder or visible face pixels as changed")
    if repainted["changed_deeper_than_edge_share"] != 1.0 or repainted["visible_swapped_share"] != 1.0:
        failures.append("a repainted frame did not change every deep occluder and visible face pixel")
    result["ok"] = not failures
    if failures:
        result["failures"] = failures
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("iou", "occluder", "selfcheck"):
        p = sub.add_parser(name)
        p.add_argument("--truth", required=(name != "selfcheck"),
                       help="clip folder with visible.NNNN.png and occluder.NNNN.png (handwave/, thumbsup/)")
        if name != "selfcheck":
            p.add_argument("--frames", help="score only these frames (e.g. 19-24,31)")
            p.add_argument("--exclude", help="never score these frames (the labelled ones)")
    sub.choices["iou"].add_argument("--pred", required=True)
    sub.choices["iou"].add_argument("--pred-glob", default="*", help="only these files of --pred, e.g. '*.matte.*'")
    sub.choices["iou"].add_argument("--threshold", type=float, default=0.5)
    sub.choices["occluder"].add_argument("--plate", required=True)
    sub.choices["occluder"].add_argument("--swap", required=True)
    sub.choices["occluder"].add_argument("--plate-glob", default="*")
    sub.choices["occluder"].add_argument("--swap-glob", default="*")
    sub.choices["occluder"].add_argument("--tolerance", type=float, default=0.0)
    args = parser.parse_args()
    try:
        handler = {"iou": command_iou, "occluder": command_occluder, "selfcheck": command_selfcheck}
        result = handler[args.command](args)
    except EvalError as error:
        print("eval_matte: %s" % error, file=sys.stderr)
        return 2
    print(json.dumps(result, indent=1, sort_keys=True))
    return 0 if result.get("ok", True) else 1


if __name__ == "__main__":
    sys.exit(main())
