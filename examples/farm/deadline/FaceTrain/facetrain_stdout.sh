#!/bin/sh
# Started by FaceTrain.py as: facetrain_stdout.sh FACETRAIN ARGS...
# Runs facetrain with its stderr (logs and the final `ERROR:` line) joined to its stdout
# (`Progress: N%` lines), because Deadline's regex handlers read stdout only. The exit status is
# facetrain's own.
exec "$@" 2>&1
