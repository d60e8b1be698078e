#!/usr/bin/env python3
"""facetrain swap as an OpenCue job: one layer, frames 1001-1100 in chunks of 10 (PyOutline).

    python3 examples/farm/opencue_swap.py            # launches the job (needs pyoutline/pycue)
    python3 examples/farm/opencue_swap.py --print    # prints the command of each chunk, launches nothing

RQD runs the layer's command once per chunk, with #FRAME_START# and #FRAME_END# replaced by the
chunk's first and last frame; facetrain renders `--frames FIRST-LAST` of an image sequence (a movie
cannot be written in chunks). Frames are written atomically and --skip-existing leaves finished
frames alone, so a retried frame only renders what is missing; chunked == whole, byte for byte.
The frame's status is facetrain's exit code (0 done; 64 usage, 65 bad input, 66 missing input,
69 no GPU, 73 cannot create output, 74 I/O, 75 retry later); the log gets `Progress: N%` lines
and, on failure, a last line starting with `ERROR:`.

OpenCue caveat (issue #1129): #FRAME_END# is wrong for a last chunk that the chunk size does not
divide (a 1001-1095 range in chunks of 10 reports 1091-1100). facetrain then also renders frames
1096-1100 if the plate has them, identically to a whole render, so nothing breaks; to stay exactly
inside the range pick a range that the chunk size divides, as here.
"""
import sys

SHOW, SHOT = "demo", "shot010"
FACETRAIN = "/opt/facetrain/bin/facetrain"
ROOT = "/shows/demo/shot010"
FRAMES, CHUNK = "1001-1100", 10

COMMAND = [
    FACETRAIN, "swap",
    "--model", ROOT + "/train/v001",
    "--plate", ROOT + "/plates/PL01_v001.####.exr",
    "--faces", ROOT + "/faces/double",
    "-o", ROOT + "/comp/faceswap_v001/swap.####.exr",
    "--frames", "#FRAME_START#-#FRAME_END#",
    "--skip-existing",
    "--device", "cuda",
]


def print_chunks():
    first, last = (int(x) for x in FRAMES.split("-"))
    for start in range(first, last + 1, CHUNK):
        end = min(start + CHUNK - 1, last)
        print(" ".join(a.replace("#FRAME_START#", str(start)).replace("#FRAME_END#", str(end)) for a in COMMAND))


def launch():
    from outline import Outline, cuerun
    from outline.modules.shell import Shell

    job = Outline("%s_%s_faceswap_v001" % (SHOW, SHOT), show=SHOW, shot=SHOT)
    # On CPU-only hosts drop --device cuda and raise `threads`; reserve GPUs per your site's OpenCue setup.
    job.add_layer(Shell("swap", command=COMMAND, range=FRAMES, chunk=CHUNK, threads=2))
    cuerun.launch(job, use_pycuerun=False)


if __name__ == "__main__":
    print_chunks() if "--print" in sys.argv else launch()
