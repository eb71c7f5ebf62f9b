#!/bin/sh
# Record seeds for fuzz_sampler from every CPython found (tests/pythons.py):
# each runs a few workloads and record_seed captures what strobe reads.
#   record-seeds.sh path/to/record_seed
set -eu
recorder=$1
out=tests/fuzz/corpus/sampler
mkdir -p "$out"
# One interpreter per minor version (release builds), two workloads each:
# seeds are kept small, as fuzzing wants.
python3 tests/pythons.py | while read -r label debug exe include; do
    minor=$(echo "$label" | sed -n 's/^3\.\([0-9]*\)\..*/\1/p')
    [ -n "$minor" ] && [ "$minor" -ge 8 ] && [ "$debug" = 0 ] || continue
    [ -e "$out/.done-3.$minor" ] && continue
    touch "$out/.done-3.$minor"
    for workload in hot_loop churn_stack; do
        script=tests/workloads/$workload.py
        "$exe" "$script" 30 >/tmp/strobe-seed-$$.out 2>&1 &
        pid=$!
        # Wait for "ready" (every workload prints it once running).
        for _ in $(seq 100); do
            grep -q ready /tmp/strobe-seed-$$.out 2>/dev/null && break
            sleep 0.05
        done
        "$recorder" "$pid" "$out/$label-$workload" 8 || true
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
done
rm -f /tmp/strobe-seed-$$.out "$out"/.done-3.*
ls "$out" | wc -l | sed 's/^/seeds: /'
