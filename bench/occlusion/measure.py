#!/usr/bin/env python3
"""The visible-face matte measured on real occluders (issue 24); prints one JSON object.

  measure.py --facetrain BUILD/facetrain --work DIR [--clips handwave,thumbsup] [--steps N]
             [--resolution R] [--width W] [--labels 0,5,10] [--outline-from-labels] [--swap-actor FACESET]
             [--seed N] [--chokes 2,8]

For each clip of tests/data/occlusion/ that is present (handwave ships with the repository;
thumbsup's video is not redistributable and is measured where a copy lies at
tests/data/occlusion/thumbsup/thumbsup.mp4 or $FACETRAIN_THUMBSUP_CLIP):
  1. `facetrain extract` of the clip (defaults: 256 px whole-face crops);
  2. IoU of today's landmark hull against the hand-drawn visible face;
  3. for each label count L: `facetrain matte train` with L labelled frames (the ground truth's
     visible-face mattes, --labels-white visible), `facetrain matte apply`, the full-frame
     visible-face matte (frame_mattes.py) scored on the frames that no configuration uses as a
     label; the held-out synthetic IoU per occluder kind; the cost per face; the matte flicker;
  4. with --swap-actor, a tiny model trained for a few steps and `facetrain swap` of the clip
     with the 0-label and the most-label mattes and with --matte both: the share of ground-truth
     occluder pixels the swap changed (eval_matte.py occluder, bit for bit on 8-bit PNG), on the
     scored frames only (those no label set uses), like the IoU, with how many of them lie deeper
     than 3 px inside the drawn occluder and the share of the drawn visible face the swap replaced
     (the other side of the trade); the visible mattes at each `swap --visible-choke` of --chokes
     (the first is swap's default, 2).
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DATA = os.path.join(REPO, "tests", "data", "occlusion")
EVAL = os.path.join(DATA, "eval_matte.py")
FRAME_MATTES = os.path.join(HERE, "frame_mattes.py")


def log(*words):
    print("occlusion:", *words, file=sys.stderr, flush=True)


def run(cmd, **kwargs):
    log(" ".join(str(c) for c in cmd))
    started = time.monotonic()
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        sys.stderr.write(result.stderr[-3000:])
        raise SystemExit("occlusion: failed (exit %d): %s" % (result.returncode, " ".join(map(str, cmd))))
    return result, time.monotonic() - started


def done_event(stdout):
    events = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    return [e for e in events if e.get("event") == "done"][-1]


def clip_path(name):
    if name == "thumbsup":
        return os.environ.get("FACETRAIN_THUMBSUP_CLIP") or os.path.join(DATA, "thumbsup", "thumbsup.mp4")
    return os.path.join(DATA, name, name + ".mp4")


def truth_frames(name):
    truth = json.load(open(os.path.join(DATA, name, "ground_truth.json")))
    frames = truth.get("frames", truth)
    return sorted(int(f) for f in frames)


def label_sets(frames, counts):
    """Label frames for each count, nested (the 5 are among the 10), spread over the clip; the
    scored frames are those no count uses."""
    biggest = max(counts)
    picked = [frames[round(i * (len(frames) - 1) / max(1, biggest - 1))] for i in range(biggest)] if biggest else []
    picked = sorted(set(picked))
    sets = {c: sorted(picked[round(i * (len(picked) - 1) / max(1, c - 1))] for i in range(c)) if c else [] for c in counts}
    sets = {c: sorted(set(v)) for c, v in sets.items()}
    scored = [f for f in frames if f not in picked]
    return sets, scored


def score_iou(python, truth_dir, pred_dir, scored):
    result, _ = run([python, EVAL, "iou", "--truth", truth_dir, "--pred", pred_dir,
                     "--frames", ",".join(map(str, scored))])
    return json.loads(result.stdout)


def measure_clip(args, name):
    clip = clip_path(name)
    if not os.path.exists(clip):
        log("%s: no clip at %s: skipped" % (name, clip))
        return {"skipped": "no clip at %s" % clip}
    work = os.path.join(args.work, name)
    os.makedirs(work, exist_ok=True)
    python = sys.executable
    truth_dir = os.path.join(DATA, name)
    faces = os.path.join(work, "faces")
    if not os.path.exists(os.path.join(faces, "faceset.json")):
        run([args.facetrain, "extract", clip, "-o", faces])
    out = {"clip": os.path.relpath(clip, REPO)}
    run([python, FRAME_MATTES, faces, os.path.join(work, "hull"), "--kind", "hull"])
    frames = truth_frames(name)
    counts = sorted(set(args.labels))
    sets, scored = label_sets(frames, counts)
    out["scored_frames"] = scored
    hull = score_iou(python, truth_dir, os.path.join(work, "hull"), scored)
    out["hull"] = {"mean_iou": hull["mean_iou"], "min_iou": hull["min_iou"]}
    # Roto of the labelled frames: the ground truth's visible-face mattes, numbered as the plate.
    out["mattes"] = {}
    models = {}
    for count in counts:
        label_dir = os.path.join(work, "labels-%d" % count)
        os.makedirs(label_dir, exist_ok=True)
        for f in sets[count]:
            target = os.path.join(label_dir, "roto.%04d.png" % f)
            if not os.path.exists(target):
                os.symlink(os.path.join(truth_dir, "visible.%04d.png" % f), target)
        model = os.path.join(work, "labels-%d.matte" % count)
        cmd = [args.facetrain, "matte", "train", "--faces", faces, "-o", model, "--steps", args.steps,
               "--resolution", args.resolution, "--width", args.width, "--seed", args.seed, "--json"]
        if count:
            cmd += ["--labels", os.path.join(label_dir, "roto.####.png"), "--labels-white", "visible"]
            if args.outline_from_labels:
                cmd.append("--outline-from-labels")
        trained, train_s = run(cmd)
        train_done = done_event(trained.stdout)
        applied, apply_s = run([args.facetrain, "matte", "apply", "--faces", faces, "--model", model, "--json"])
        apply_done = done_event(applied.stdout)
        pred = os.path.join(work, "visible-%d" % count)
        run([python, FRAME_MATTES, faces, pred, "--kind", "visible"])
        scores = score_iou(python, truth_dir, pred, scored)
        models[count] = model
        out["mattes"][str(count)] = {
            "label_frames": sets[count], "mean_iou": scores["mean_iou"], "min_iou": scores["min_iou"],
            "per_frame": {f: v["iou"] for f, v in scores.get("frames", {}).items()},
            "train_s": round(train_s, 1), "steps": train_done["steps"],
            "synthetic_holdout_iou": train_done["holdout_iou"], "synthetic_hull_iou": train_done["hull_iou"],
            "ms_per_face_network": train_done["ms_per_face"], "apply_ms_per_face": apply_done["ms_per_face"],
            "apply_s": round(apply_s, 1), "flicker_before": apply_done["flicker_before"],
            "flicker_after": apply_done["flicker_after"], "occluded_share": apply_done["occluded_share"]}
        log("%s: %d labels: IoU %.3f (hull %.3f)" % (name, count, scores["mean_iou"], hull["mean_iou"]))
    if args.swap_actor:
        out["swap"] = measure_swap(args, name, clip, faces, models, counts, work, truth_dir, scored)
    if args.static_faces:
        # Matte flicker on a face that holds still (no occluder), with a model made for that shot (the
        # model is per shot: another shot's would measure how it generalises, not how stable it is).
        static_model = os.path.join(work, "static.matte")
        run([args.facetrain, "matte", "train", "--faces", args.static_faces, "-o", static_model, "--steps",
             str(args.steps), "--resolution", str(args.resolution), "--width", str(args.width), "--json"])
        applied, _ = run([args.facetrain, "matte", "apply", "--faces", args.static_faces, "--model", static_model,
                          "--json"])
        done = done_event(applied.stdout)
        out["static_face"] = {"faces": done["faces"], "flicker_before": done["flicker_before"],
                              "flicker_after": done["flicker_after"], "occluded_share": done["occluded_share"],
                              "ms_per_face": done["ms_per_face"]}
    return out


def measure_swap(args, name, clip, faces, models, counts, work, truth_dir, scored):
    """Occluder pixels each swap changes, on the drawn frames no matte was taught (`scored`): a
    labelled frame's matte has seen its answer, so it would flatter the labelled mattes."""
    python = sys.executable
    run_dir = os.path.join(work, "run")
    if not os.path.exists(os.path.join(run_dir, "checkpoints", "latest")):
        run([args.facetrain, "train", "--actor", args.swap_actor, "--double", faces, "--preset", "tiny",
             "--batch-size", "4", "--max-steps", "20", "--checkpoint-every", "20", "-o", run_dir])
    # The plate as facetrain decodes it (a movie's YUV -> RGB is facetrain's, not ffmpeg's rgb24): a
    # swap whose matte is eroded away writes every frame unchanged.
    plate_dir = os.path.join(work, "plate")
    run([args.facetrain, "swap", "--model", run_dir, "--plate", clip, "--faces", faces, "-o",
         os.path.join(plate_dir, "swap.####.png"), "--bits", "8", "--no-quality", "--matte", "hull", "--erode", "256"])
    results = {}
    swaps = [("both", None, ["--matte", "both"])]
    for count in sorted({min(counts), max(counts)}):
        for choke in args.chokes:
            label = "visible-%d" % count + ("" if choke == args.chokes[0] else "-choke%d" % choke)
            swaps.append((label, count, ["--matte", "visible", "--visible-choke", str(choke)]))
    applied = None
    for label, count, extra in swaps:
        if count is not None and count != applied:
            run([args.facetrain, "matte", "apply", "--faces", faces, "--model", models[count]])
            applied = count
        out_dir = os.path.join(work, "swap-" + label)
        run([args.facetrain, "swap", "--model", run_dir, "--plate", clip, "--faces", faces, "-o",
             os.path.join(out_dir, "swap.####.png"), "--bits", "8", "--no-quality"] + extra)
        result, _ = run([python, EVAL, "occluder", "--truth", truth_dir, "--plate", plate_dir, "--swap", out_dir,
                         "--plate-glob", "swap.*", "--swap-glob", "swap.*", "--frames", ",".join(map(str, scored))])
        results[label] = json.loads(result.stdout)
        log("%s: swap %s: occluder pixels changed %s, visible face swapped %s" % (
            name, label, results[label].get("changed_share"), results[label].get("visible_swapped_share")))
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--facetrain", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--clips", default="handwave,thumbsup")
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--resolution", type=int, default=64)
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--labels", default="0,5,10")
    parser.add_argument("--outline-from-labels", action="store_true",
                        help="matte train --outline-from-labels where labels are given")
    parser.add_argument("--swap-actor", default="")
    parser.add_argument("--seed", type=int, default=1, help="matte train --seed (the seed moves the IoU by a few hundredths)")
    parser.add_argument("--static-faces", default="", help="a face set of a still face (whole, 256 px) for the flicker")
    parser.add_argument("--chokes", default="2,8",
                        help="swap --visible-choke values to measure the visible mattes at (the first is swap's default)")
    args = parser.parse_args()
    args.labels = [int(x) for x in args.labels.split(",") if x != ""]
    args.chokes = [int(x) for x in args.chokes.split(",") if x != ""] or [2]
    os.makedirs(args.work, exist_ok=True)
    result = {"steps": args.steps, "resolution": args.resolution, "width": args.width, "seed": args.seed,
              "outline_from_labels": args.outline_from_labels, "chokes": args.chokes}
    for name in args.clips.split(","):
        result[name] = measure_clip(args, name)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
