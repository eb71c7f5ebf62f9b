#!/bin/sh
# Run the libFuzzer targets (see the fuzz section of the Makefile).
#   run-fuzzers.sh fuzz|check SECONDS "LIBFUZZER ARGS" TARGET...
# check: replay every file of tests/fuzz/corpus/TARGET once (regressions),
#        then fuzz each target for SECONDS;
# fuzz:  fuzz each target for SECONDS.
# The repository's corpus is only read: new inputs go to build-fuzz/corpus/,
# crashes to build-fuzz/findings/. Prints executions and corpus sizes.
set -eu
mode=$1 seconds=$2 args=$3
shift 3
mkdir -p build-fuzz/findings
for target in "$@"; do
    bin=build-fuzz/fuzz_$target
    seeds=tests/fuzz/corpus/$target
    work=build-fuzz/corpus/$target
    mkdir -p "$seeds" "$work"
    if [ "$mode" = check ] && [ -n "$(ls -A "$seeds")" ]; then
        echo "fuzz: $target: replaying $(ls "$seeds" | wc -l) corpus inputs"
        # shellcheck disable=SC2086
        "$bin" $args -runs=0 "$seeds" 2>build-fuzz/$target-replay.log ||
            { tail -40 build-fuzz/$target-replay.log; exit 1; }
    fi
    echo "fuzz: $target: fuzzing for ${seconds}s"
    # shellcheck disable=SC2086
    "$bin" $args -max_total_time="$seconds" -print_final_stats=1 \
        -artifact_prefix=build-fuzz/findings/$target- "$work" "$seeds" \
        2>build-fuzz/$target.log || { tail -60 build-fuzz/$target.log; exit 1; }
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' build-fuzz/$target.log)
    echo "fuzz: $target: $runs executions, no crash; corpus $(ls "$work" | wc -l) inputs"
done
