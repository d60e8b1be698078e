#!/usr/bin/env python3
"""Faces through head turns (issue 26): recall per yaw bucket and frames/s; prints one JSON object.

  measure.py --facetrain BUILD/facetrain --work DIR [--clips foreman,selfie] [--configs NAME,...]
             [--mmod-model FILE] [--threads 1] [--repeat 1] [--speed-1080p] [--speed-frames 1-120]
             [--speed-repeat 3]

For each clip of tests/data/turns/ whose video is present (neither ships with the repository; see
tests/data/turns/SOURCE.md for where to get them; $FACETRAIN_TURNS_<CLIP> names a copy elsewhere):
  1. `facetrain extract CLIP --max-faces 4 --threads T --json` with each configuration's flags (all
     frames of the clip; the same frames for every configuration);
  2. each hand-labelled face (tests/data/turns/<clip>/ground_truth.json) counts as found when a face
     facetrain wrote for that frame overlaps its box with IoU >= 0.3 (`recall`), and, reported beside
     it, when the mean of a written face's 68 landmarks lies inside the box (`recall_centre`);
     faces the frame edge cuts (`truncated`) are scored apart;
  3. frames/s: extract's own figure from its `done` event (decode, detection, landmarks, crops and
     masks written), the median of --repeat runs.
With --speed-1080p: the foreman clip scaled to 1320x1080 and pillarboxed to 1920x1080 (made here with
ffmpeg, H.264 CRF 18), --speed-frames of it, each of --speed-configs (default hog,hogcnn,mmod: each
detector with extract's other defaults), --threads 2 and 1, --speed-repeat runs each; `uptime` before and after.

Configurations (--configs, default all): hog (--detector hog, extract's default before hog+cnn),
hog_every1 (--redetect-every 1), mmod (--detector-model: the CNN on the whole frame), mmod_every1,
hogcnn (--detector hog+cnn, extract's default where the CNN model is found), hogcnn_every2,
hogcnn_every1, hogcnn_p-0.5 and hogcnn_p-1.2 (--proposal-score), and the variants
hog_score-0.5_every1 (--min-score -0.5), mmod_every2, mmod_every4, mmod_every16, hog_score-0.5,
hog_score-0.5_every2, hog_score-0.25_every1.
False faces: the faces written in each clip's `no_face_frames` (frames that hold no face, listed in its
ground truth). --reuse scores face sets a previous run left in --work (and its recorded frames/s)
instead of extracting again.
"""
import argparse
import glob
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DATA = os.path.join(REPO, "tests", "data", "turns")
BUCKETS = ("frontal", "30-60", "60-90")

CONFIGS = {
    "hog": ["--detector", "hog"],
    "hog_every1": ["--detector", "hog", "--redetect-every", "1"],
    "mmod": ["@mmod"],
    "mmod_every1": ["@mmod", "--redetect-every", "1"],
    "hog_score-0.5_every1": ["--detector", "hog", "--min-score", "-0.5", "--redetect-every", "1"],
    "mmod_every2": ["@mmod", "--redetect-every", "2"],
    "mmod_every4": ["@mmod", "--redetect-every", "4"],
    "mmod_every16": ["@mmod", "--redetect-every", "16"],
    "hog_score-0.5": ["--detector", "hog", "--min-score", "-0.5"],
    "hog_score-0.5_every2": ["--detector", "hog", "--min-score", "-0.5", "--redetect-every", "2"],
    "hog_score-0.25_every1": ["--detector", "hog", "--min-score", "-0.25", "--redetect-every", "1"],
    "hogcnn": ["--detector", "hog+cnn", "@mmod"],
    "hogcnn_every2": ["--detector", "hog+cnn", "@mmod", "--redetect-every", "2"],
    "hogcnn_every1": ["--detector", "hog+cnn", "@mmod", "--redetect-every", "1"],
    "hogcnn_p-0.5": ["--detector", "hog+cnn", "@mmod", "--proposal-score", "-0.5"],
    "hogcnn_p-1.2": ["--detector", "hog+cnn", "@mmod", "--proposal-score", "-1.2"],
}


def log(*words):
    print("turns:", *words, file=sys.stderr, flush=True)


def run(cmd):
    log(" ".join(str(c) for c in cmd))
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    if result.returncode != 0:
        sys.stderr.write(result.stderr[-3000:])
        raise SystemExit("turns: failed (exit %d): %s" % (result.returncode, " ".join(map(str, cmd))))
    return result


def done_source(stdout):
    events = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    return [e for e in events if e.get("event") == "done"][-1]["sources"][0]


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def clip_path(name, truth):
    env = os.environ.get("FACETRAIN_TURNS_" + name.upper())
    if env:
        return env
    return os.path.join(DATA, name, truth["clip"]["file"])


def read_alignments(faceset):
    frames = {}
    for path in glob.glob(os.path.join(faceset, "alignments", "*.jsonl")):
        with open(path) as f:
            for line in f:
                if line.strip():
                    record = json.loads(line)
                    frames[record["frame"]] = record["faces"]
    return frames


def iou(a, b):
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def frame_set(spec):
    out = set()
    for part in spec.split(","):
        if part:
            a, _, b = part.partition("-")
            out.update(range(int(a), int(b or a) + 1))
    return out


def false_faces(truth, frames):
    empty = frame_set(truth.get("no_face_frames", ""))
    hits = [f for f in sorted(empty) if frames.get(f)]
    return {"frames": len(empty), "frames_with_a_face": len(hits), "faces": sum(len(frames[f]) for f in hits),
            "first_frames": hits[:10]}


def score(truth, frames):
    """Per bucket: found by IoU, found by landmark centre, total; plus the truncated faces."""
    rows = {b: {"found": 0, "found_centre": 0, "total": 0, "ious": [], "missed_frames": [], "fit_confidence": []}
            for b in BUCKETS}
    truncated = {"found": 0, "found_centre": 0, "total": 0}
    extra = 0  # written faces in labelled frames that match no labelled face
    for entry in truth["frames"]:
        written = frames.get(entry["frame"], [])
        matched = set()
        for face in entry["faces"]:
            box = face["box"]
            best, best_k = 0.0, None
            centre_hit = False
            for k, w in enumerate(written):
                v = iou(box, w["bbox"])
                if v > best:
                    best, best_k = v, k
                pts = w["landmarks"]
                cx = sum(p[0] for p in pts) / len(pts)
                cy = sum(p[1] for p in pts) / len(pts)
                if box[0] <= cx <= box[2] and box[1] <= cy <= box[3]:
                    centre_hit = True
                    matched.add(k)
            if best >= 0.3:
                matched.add(best_k)
            row = truncated if face.get("truncated") else rows[face["yaw"]]
            row["total"] += 1
            row["found"] += best >= 0.3
            row["found_centre"] += centre_hit
            if not face.get("truncated"):
                if best >= 0.3:
                    row["ious"].append(best)
                    if "fit_confidence" in written[best_k]:
                        row["fit_confidence"].append(written[best_k]["fit_confidence"])
                else:
                    row["missed_frames"].append(entry["frame"])
        extra += len(written) - len(matched)
    return rows, truncated, extra


def summarize(rows):
    out = {}
    for b in BUCKETS:
        r = rows[b]
        out[b] = {"found": r["found"], "found_centre": r["found_centre"], "total": r["total"],
                  "recall": round(r["found"] / r["total"], 3) if r["total"] else None,
                  "recall_centre": round(r["found_centre"] / r["total"], 3) if r["total"] else None,
                  "median_iou_found": round(statistics.median(r["ious"]), 3) if r["ious"] else None}
        # The landmark fit confidence extract records for the faces found (near 0: the fit is a guess;
        # train leaves out faces below 0.05 by default).
        if r.get("fit_confidence"):
            out[b]["median_fit_confidence_found"] = round(statistics.median(r["fit_confidence"]), 3)
            out[b]["found_below_0.05_fit_confidence"] = sum(c < 0.05 for c in r["fit_confidence"])
        if "missed_frames" in r:
            out[b]["missed_frames"] = r["missed_frames"]
    return out


def extract(facetrain, clip, out, args, threads, frames=None, reuse=False):
    cached = os.path.join(out, "done_source.json")
    if reuse and os.path.isfile(cached):
        with open(cached) as f:
            return json.load(f), None
    shutil.rmtree(out, ignore_errors=True)
    cmd = [facetrain, "extract", clip, "-o", out, "--threads", threads, "--json"] + args
    if frames:
        cmd += ["--frames", frames]
    started = time.monotonic()
    result = run(cmd)
    wall = time.monotonic() - started
    source = done_source(result.stdout)
    with open(cached, "w") as f:
        json.dump(source, f)
    return source, wall


def uptime():
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--facetrain", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--clips", default="foreman,selfie")
    ap.add_argument("--configs", default=",".join(CONFIGS))
    ap.add_argument("--mmod-model", default=os.path.join(os.environ.get("FACETRAIN_MODELS", os.path.join(REPO, ".cache", "models")),
                                                         "mmod_human_face_detector.dat"))
    ap.add_argument("--threads", default="1")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--speed-1080p", action="store_true")
    ap.add_argument("--speed-frames", default="1-120")
    ap.add_argument("--speed-repeat", type=int, default=3)
    ap.add_argument("--reuse", action="store_true")
    ap.add_argument("--speed-configs", default="hog,hogcnn,mmod")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    facetrain = os.path.abspath(a.facetrain)
    configs = [c for c in a.configs.split(",") if c]
    for c in configs:
        if c not in CONFIGS:
            raise SystemExit("turns: unknown configuration %s (known: %s)" % (c, ", ".join(CONFIGS)))
    speed_configs = [c for c in a.speed_configs.split(",") if c] if a.speed_1080p else []
    for c in speed_configs:
        if c not in CONFIGS:
            raise SystemExit("turns: unknown --speed-configs entry %s" % c)
    needs_mmod = any("@mmod" in CONFIGS[c] for c in configs + speed_configs)
    if needs_mmod and not os.path.isfile(a.mmod_model):
        raise SystemExit("turns: no mmod model at %s (scripts/fetch-models.sh, or --mmod-model)" % a.mmod_model)

    def flags(name):
        out = []
        for f in CONFIGS[name]:
            out += ["--detector-model", a.mmod_model] if f == "@mmod" else [f]
        return out + ["--max-faces", "4"]

    report = {"uptime_before": uptime(), "nproc": os.cpu_count(), "threads": int(a.threads), "repeat": a.repeat,
              "criterion": "found: a written face's bbox has IoU >= 0.3 with the labelled box (recall); "
                           "recall_centre: the mean of a written face's landmarks lies inside the box",
              "clips": {}, "configs": {}}
    truths = {}
    for name in [c for c in a.clips.split(",") if c]:
        with open(os.path.join(DATA, name, "ground_truth.json")) as f:
            truth = json.load(f)
        path = clip_path(name, truth)
        if not os.path.isfile(path):
            log("%s: no clip at %s; skipped (tests/data/turns/SOURCE.md says where to get it)" % (name, path))
            report["clips"][name] = {"skipped": "no clip at " + path}
            continue
        digest = sha256(path)
        if digest != truth["clip"]["sha256"]:
            raise SystemExit("turns: %s: SHA-256 %s, the ground truth was drawn on %s" % (path, digest, truth["clip"]["sha256"]))
        counts = {b: 0 for b in BUCKETS}
        counts["truncated"] = 0
        for entry in truth["frames"]:
            for face in entry["faces"]:
                counts["truncated" if face.get("truncated") else face["yaw"]] += 1
        truths[name] = (truth, path)
        report["clips"][name] = {"file": path, "sha256": digest, "labelled_frames": len(truth["frames"]), "faces": counts}

    for cfg in configs:
        entry = {"flags": [f for f in flags(cfg) if f != a.mmod_model], "clips": {}}
        total = {b: {"found": 0, "found_centre": 0, "total": 0, "ious": [], "fit_confidence": []} for b in BUCKETS}
        frames_sum, seconds_sum = 0, 0.0
        for name, (truth, path) in truths.items():
            rates, source = [], None
            for k in range(a.repeat):
                source, _ = extract(facetrain, path, os.path.join(a.work, "%s-%s" % (name, cfg)), flags(cfg), a.threads,
                                    reuse=a.reuse)
                rates.append(source["frames_per_s"])
            frames = read_alignments(os.path.join(a.work, "%s-%s" % (name, cfg)))
            rows, truncated, extra = score(truth, frames)
            fps = statistics.median(rates)
            entry["clips"][name] = {"frames": source["frames"], "frames_with_faces": source["frames_with_faces"],
                                    "frames_per_s": round(fps, 2), "frames_per_s_runs": [round(r, 2) for r in rates],
                                    "buckets": summarize(rows), "truncated": truncated,
                                    "unmatched_faces_in_labelled_frames": extra,
                                    "false_faces": false_faces(truth, frames)}
            for b in BUCKETS:
                for key in ("found", "found_centre", "total"):
                    total[b][key] += rows[b][key]
                total[b]["ious"] += rows[b]["ious"]
                total[b]["fit_confidence"] += rows[b]["fit_confidence"]
            frames_sum += source["frames"]
            seconds_sum += source["frames"] / fps
        entry["buckets"] = summarize(total)
        entry["frames_per_s_all_clips"] = round(frames_sum / seconds_sum, 2) if seconds_sum else None
        report["configs"][cfg] = entry

    if a.speed_1080p:
        fm = truths.get("foreman")
        if not fm:
            report["speed_1080p"] = {"skipped": "needs the foreman clip"}
        else:
            hd = os.path.join(a.work, "foreman_1080p.mp4")
            if not os.path.isfile(hd):
                run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", fm[1],
                     "-vf", "scale=1320:1080:flags=bicubic,pad=1920:1080:300:0:black,setsar=1",
                     "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p", hd])
            speed = {"clip": "foreman scaled to 1320x1080, pillarboxed to 1920x1080, H.264 CRF 18",
                     "frames": a.speed_frames, "uptime_before": uptime(), "runs": {}}
            for det in speed_configs:
                for threads in ("2", "1"):
                    rates, walls = [], []
                    for k in range(a.speed_repeat):
                        source, wall = extract(facetrain, hd, os.path.join(a.work, "hd-%s-%s" % (det, threads)),
                                               flags(det), threads, a.speed_frames)
                        rates.append(source["frames_per_s"])
                        walls.append(round(wall, 2))
                    speed["runs"]["%s_threads%s" % (det, threads)] = {
                        "frames_per_s": round(statistics.median(rates), 2), "frames_per_s_runs": [round(r, 2) for r in rates],
                        "wall_seconds": walls, "frames_with_faces": source["frames_with_faces"], "frames": source["frames"]}
            speed["uptime_after"] = uptime()
            report["speed_1080p"] = speed
    report["uptime_after"] = uptime()
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
