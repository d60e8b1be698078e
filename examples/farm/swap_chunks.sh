#!/usr/bin/env bash
# facetrain swap in N chunks, several at a time, with a plain shell loop (xargs -P): on one big
# machine, or as the template for a farm without a scheduler plugin (one `--chunk I/N` per task).
#
#   examples/farm/swap_chunks.sh MODEL PLATE FACES OUTPUT_PATTERN [FRAMES] [CHUNKS] [PARALLEL] [-- SWAP_ARGS...]
#   examples/farm/swap_chunks.sh runs/v001 plate.####.exr faces/double comp/swap.####.exr 1001-1100 10 4 -- --device cuda
#
# FRAMES defaults to the whole plate, CHUNKS to 4, PARALLEL to CHUNKS. Each chunk is
#   facetrain swap --model MODEL --plate PLATE --faces FACES -o OUTPUT_PATTERN --frames FRAMES --chunk I/CHUNKS --skip-existing
# with its log in LOG_DIR (default: OUTPUT_DIR/swap-logs/chunk-I.log). A chunked render equals a
# whole render byte for byte, frames are written atomically and --skip-existing leaves finished
# frames alone, so running the script again after an interruption finishes only what is missing.
# The output must be an image sequence: a movie (.mov/.mp4) cannot be written in chunks.
# Environment: FACETRAIN (the executable; default `facetrain` on PATH), LOG_DIR.
# Exit status: 0 when every chunk succeeded; otherwise 1, naming the failed chunks and their logs.
set -euo pipefail

if [ $# -lt 4 ]; then
  sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 64
fi
model="$1" plate="$2" faces="$3" output="$4"
shift 4
frames="" chunks=4 parallel=""
[ $# -gt 0 ] && [ "$1" != "--" ] && { frames="$1"; shift; }
[ $# -gt 0 ] && [ "$1" != "--" ] && { chunks="$1"; shift; }
[ $# -gt 0 ] && [ "$1" != "--" ] && { parallel="$1"; shift; }
[ $# -gt 0 ] && [ "$1" = "--" ] && shift
parallel="${parallel:-$chunks}"
facetrain="${FACETRAIN:-facetrain}"
log_dir="${LOG_DIR:-$(dirname "$output")/swap-logs}"
mkdir -p "$log_dir"

frame_args=()
[ -n "$frames" ] && frame_args=(--frames "$frames")
echo "swap_chunks: $chunks chunk(s) of ${frames:-the whole plate}, $parallel at a time; logs in $log_dir" >&2
status=0
# xargs -I replaces {} (the chunk number) in every argument; each chunk's stdout and stderr go to its log.
seq 1 "$chunks" | xargs -P "$parallel" -I{} sh -c 'exec "$@" >"$0" 2>&1' "$log_dir/chunk-{}.log" \
  "$facetrain" swap --model "$model" --plate "$plate" --faces "$faces" -o "$output" "${frame_args[@]}" \
  --chunk "{}/$chunks" --skip-existing "$@" || status=$?

failed=()
for i in $(seq 1 "$chunks"); do
  grep -q '^ERROR:' "$log_dir/chunk-$i.log" 2>/dev/null && failed+=("$i")
done
if [ "$status" != 0 ] || [ ${#failed[@]} -gt 0 ]; then
  for i in "${failed[@]}"; do echo "swap_chunks: chunk $i/$chunks failed: $(grep '^ERROR:' "$log_dir/chunk-$i.log" | tail -n 1)" >&2; done
  echo "swap_chunks: failed (xargs status $status); logs in $log_dir" >&2
  exit 1
fi
echo "swap_chunks: all $chunks chunk(s) done" >&2
