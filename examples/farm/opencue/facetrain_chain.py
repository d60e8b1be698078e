#!/usr/bin/env python3
"""The whole face replacement of one shot as one OpenCue job (PyOutline): extract the actor's and
the double's face sets, train when both are done, swap the double's plate in chunks when training is
done. Each layer waits for the ones before it (Layer.depend_all: a layer-on-layer dependency).

    python3 examples/farm/opencue/facetrain_chain.py            # launches the job (pyoutline, pycue, a Cuebot)
    python3 examples/farm/opencue/facetrain_chain.py --spec     # prints the job spec XML, launches nothing
    python3 examples/farm/opencue/facetrain_chain.py --print    # prints each frame's command, as RQD runs it

Checked against OpenCue's own code (opencue-pyoutline 1.37, Cuebot): tests/e2e/farm_opencue.sh
serializes this outline with PyOutline's OpenCue backend and checks the spec; nothing here has run on
a real Cuebot and RQD.

- #FRAMESPEC# is the frames of the chunk a frame runs ("1001-1010", "1091-1095", "1,3,5" or
  "1001-1019x2": Cuebot's DispatchSupportService), so the last, shorter chunk and stepped ranges are
  exact; facetrain's --frames reads that syntax. (#FRAME_END# is wrong for a last chunk that the
  chunk size does not divide: OpenCue issue #1129.)
- cores= books CPU cores (threads= is its legacy alias); gpus= and gpu_memory= book GPUs (a frame
  sees its GPUs through CUDA_VISIBLE_DEVICES set by RQD).
- The frame's status is facetrain's exit code; RQD writes stdout and stderr into the frame's log,
  so it holds the `Progress: N%` lines and, on failure, the last line `ERROR: ...`. OpenCue retries a
  failed frame whatever its exit code, up to the job's maxretries (MAX_RETRIES below): a 75 (lost
  rank, rendezvous timeout) or a killed train frame resumes from its last checkpoint; a 65 (frames
  the plate does not have, no face) or 64/66/78 fails the same way each time, then the frame is DEAD
  and the layers that depend on it never start. OpenCue has no per-exit-code retry rule a job can
  set, so keep MAX_RETRIES small.
"""
import sys

SHOW, SHOT = "demo", "shot010"
FACETRAIN = "/opt/facetrain/bin/facetrain"
ROOT = "/shows/demo/shot010"
ACTOR_PLATE, ACTOR_FRAMES = ROOT + "/plates/actor_ref_v001.####.exr", "1001-1240"
DOUBLE_PLATE, DOUBLE_FRAMES = ROOT + "/plates/PL01_v001.####.exr", "1001-1095"
EXTRACT_CHUNK, SWAP_CHUNK = 60, 10
MAX_RETRIES = 2
OCIO = "/shows/demo/config/ocio/config.ocio"


def layers():
    """(name, command, frame range, chunk, resources, layers it waits for) of each layer."""
    extract = lambda plate, faces: [
        FACETRAIN, "extract", plate, "-o", faces, "--frames", "#FRAMESPEC#", "--size", "256", "--colorspace", "ACEScg"]
    return [
        ("extract_actor", extract(ACTOR_PLATE, ROOT + "/faces/actor"), ACTOR_FRAMES, EXTRACT_CHUNK,
         {"cores": 8, "memory": "16g"}, []),
        ("extract_double", extract(DOUBLE_PLATE, ROOT + "/faces/double"), DOUBLE_FRAMES, EXTRACT_CHUNK,
         {"cores": 8, "memory": "16g"}, []),
        # One frame: facetrain starts one worker per GPU itself (--nproc-per-node) and ends the run
        # at --max-time; launch the job again to train on (it resumes).
        ("train", [FACETRAIN, "train", "--actor", ROOT + "/faces/actor", "--double", ROOT + "/faces/double",
                   "-o", ROOT + "/train/v001", "--preset", "df-256", "--device", "cuda", "--batch-size", "16",
                   "--nproc-per-node", "4", "--max-time", "11h30m"], "1", 1,
         {"cores": 32, "memory": "96g", "gpus": 4, "gpu_memory": "40g"}, ["extract_actor", "extract_double"]),
        ("swap", [FACETRAIN, "swap", "--model", ROOT + "/train/v001", "--plate", DOUBLE_PLATE,
                  "--faces", ROOT + "/faces/double", "-o", ROOT + "/comp/faceswap_v001/swap.####.exr",
                  "--frames", "#FRAMESPEC#", "--skip-existing", "--device", "cuda", "--review"], DOUBLE_FRAMES, SWAP_CHUNK,
         {"cores": 4, "memory": "24g", "gpus": 1, "gpu_memory": "16g"}, ["train"]),
    ]


def build_outline():
    from outline import Outline
    from outline.modules.shell import Shell

    job = Outline("%s_%s_faceswap_v001" % (SHOW, SHOT), show=SHOW, shot=SHOT)
    job.set_env("OCIO", OCIO, pre=True)  # pre: passed into the job spec (RQD sets it for every frame)
    made = {}
    for name, command, frames, chunk, resources, waits_for in layers():
        layer = Shell(name, command=command, range=frames, chunk=chunk, **resources)
        job.add_layer(layer)
        for other in waits_for:
            layer.depend_all(made[other])
        made[name] = layer
    return job


def frame_commands():
    """Each frame's command as RQD runs it: #FRAMESPEC# replaced by the chunk's frames."""
    for name, command, frames, chunk, _, _ in layers():
        first, last = (int(x) for x in frames.split("-")) if "-" in frames else (int(frames), int(frames))
        for start in range(first, last + 1, chunk):
            spec = "%d-%d" % (start, min(start + chunk - 1, last)) if chunk > 1 else str(start)
            yield name, [spec if arg == "#FRAMESPEC#" else arg for arg in command]


def main():
    if "--print" in sys.argv:
        for name, command in frame_commands():
            print("%s: %s" % (name, " ".join(command)))
        return
    from outline import cuerun

    launcher = cuerun.OutlineLauncher(build_outline(), maxretries=MAX_RETRIES)
    if "--spec" in sys.argv:
        print(launcher.serialize(use_pycuerun=False))
        return
    launcher.launch(use_pycuerun=False)


if __name__ == "__main__":
    main()
