#!/usr/bin/env bash
# torchrun starts the workers; facetrain reads RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR,
# MASTER_PORT (and uses torchrun's agent store when TORCHELASTIC_USE_AGENT_STORE is set).
# --no-python: facetrain is the executable itself. Do not pass --nproc-per-node to facetrain here.
#   examples/train/torchrun.sh ACTOR DOUBLE RUN [NODES NODE_RANK MASTER_ADDR]
set -euo pipefail
ACTOR="$1" DOUBLE="$2" RUN="$3" NODES="${4:-1}" NODE_RANK="${5:-0}" MASTER="${6:-127.0.0.1}"
exec torchrun --nnodes "$NODES" --node-rank "$NODE_RANK" --nproc-per-node 8 \
  --master-addr "$MASTER" --master-port 29500 --max-restarts 0 --no-python \
  facetrain train --actor "$ACTOR" --double "$DOUBLE" -o "$RUN" --preset df-256 --device cuda --batch-size 16
