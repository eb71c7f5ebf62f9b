#!/bin/sh
# Profile a short program with strobe under valgrind (memcheck): any invalid
# read or write, use of uninitialised memory, or definitely lost block fails.
# Only strobe runs under valgrind; the Python it launches runs natively.
#   tests/valgrind.sh path/to/strobe
set -eu
strobe=$1
python=$(python3 "$(dirname "$0")/pythons.py" | awk '$2 == 0 && $1 ~ /^3\.(8|9|1[0-9])\./ { print $3 }' | tail -1)
[ -n "$python" ] || { echo "valgrind: no CPython 3.8+ found"; exit 1; }
log=$(mktemp)
status=0
valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
    --track-origins=yes --quiet --log-file="$log" \
    "$strobe" run -r 2k --stats "$python" "$(dirname "$0")/workloads/thread_pool.py" 1.5 \
    >/dev/null 2>&1 || status=$?
if [ "$status" -ne 0 ]; then
    cat "$log"
    rm -f "$log"
    echo "valgrind: strobe exited with $status"
    exit 1
fi
rm -f "$log"
echo "valgrind: clean (strobe profiling $python)"
