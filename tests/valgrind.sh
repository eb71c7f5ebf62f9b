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
out=$(mktemp)
# The report, then the heat map, whose sources a forked child reads: its
# findings go to the same log ("==PID==" lines; valgrind's own warnings,
# such as for openat2, which it does not know, are "--PID--"), and its
# exit status to strobe, which ignores it.
for output in "--stats" "--heatmap -o $out"; do
    status=0
    # shellcheck disable=SC2086 # $output is two or three words on purpose
    valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
        --track-origins=yes --quiet --log-file="$log" \
        "$strobe" run -r 2k $output "$python" "$(dirname "$0")/workloads/thread_pool.py" 1.5 \
        >/dev/null 2>&1 || status=$?
    if [ "$status" -ne 0 ] || grep -q '^==[0-9]*==' "$log"; then
        cat "$log"
        rm -f "$log" "$out"
        echo "valgrind: strobe $output exited with $status"
        exit 1
    fi
done
rm -f "$log" "$out"
echo "valgrind: clean (strobe profiling $python)"
