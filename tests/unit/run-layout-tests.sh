#!/bin/sh
# Compile tests/unit/test_layouts.c against each installed CPython's internal
# headers (release, and again with Py_DEBUG for 3.8-3.12) and run it.
# Called by `make layouts` with CC, CFLAGS, LDFLAGS, LDLIBS, OBJS and BUILD set.
# Interpreters come from tests/pythons.py (pyenv, PATH, $STROBE_TEST_PYTHONS).
set -eu
out="$BUILD/tests/layouts"
mkdir -p "$out"
covered=""
skipped=""
# One include directory per minor version is enough: layouts do not change
# within a minor version.
python3 "$(dirname "$0")/../pythons.py" | while read -r label debug exe include; do
    minor=$(echo "$label" | sed -n 's/^3\.\([0-9]*\)\..*/\1/p')
    [ -n "$minor" ] || continue
    [ "$minor" -ge 8 ] && [ "$minor" -le 15 ] || continue
    [ "$debug" = 0 ] || continue
    if [ ! -f "$include/internal/pycore_runtime.h" ] && [ ! -f "$include/internal/pycore_pystate.h" ]; then
        echo "layouts: $label: no internal headers in $include, skipped"
        continue
    fi
    [ -e "$out/done-3.$minor" ] && continue
    variants="release"
    [ "$minor" -le 12 ] && variants="release debug"
    for variant in $variants; do
        extra=""
        [ "$variant" = debug ] && extra="-DPy_DEBUG"
        bin="$out/test_layouts_3.${minor}_$variant"
        # Python's headers are not ours: include them as system headers so
        # their own warnings do not fail the build.
        $CC $CFLAGS $extra -isystem "$include" -isystem "$include/internal" $LDFLAGS \
            -o "$bin" tests/unit/test_layouts.c $OBJS $LDLIBS -lcmocka
        echo "layouts: CPython $label ($variant headers)"
        "$bin"
    done
    touch "$out/done-3.$minor"
done
found=$(ls "$out"/done-3.* 2>/dev/null | sed 's/.*done-//' | tr '\n' ' ')
rm -f "$out"/done-3.*
if [ -z "$found" ]; then
    echo "layouts: no CPython 3.8-3.15 internal headers found; layout tables not checked"
else
    echo "layouts: checked against the headers of CPython $found"
fi
