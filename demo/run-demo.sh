#!/bin/sh
# `make demo`: profile the demo shop service under load and show the report.
set -eu
STROBE=${1:-build/strobe}
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
echo "\$ strobe run -r 2k $PYTHON demo/service.py --load 5"
echo
exec "$STROBE" run -r 2k -l 20 "$PYTHON" demo/service.py --load 5
