#!/bin/sh
# Install the Debian packages strobe needs to build and test, if missing.
# Idempotent and quiet when everything is present. Uses sudo when not root.
#
#   build:  gcc make libelf-dev zlib1g-dev libzstd-dev
#   tests:  libcmocka-dev python3 python3-pytest util-linux (setpriv)
#           python3.11-dbg: a debug-build interpreter for the test matrix
#           clang libclang-rt-14-dev: libFuzzer (make fuzz, fuzz-check)
#           valgrind cppcheck clang-tidy binutils (nm): make valgrind, lint
#           golang-go (go tool pprof), chromium (HTML outputs, headless),
#           npm: the real consumers the output formats are checked with
#           (tests/consumers/)
set -eu

PACKAGES="gcc make libc6-dev libelf-dev zlib1g-dev libzstd-dev libcmocka-dev python3 python3-pytest util-linux python3.11-dbg
          clang libclang-rt-14-dev valgrind cppcheck clang-tidy binutils golang-go chromium"

missing=""
for pkg in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $pkg"
    fi
done
# Node.js may come from elsewhere (NodeSource bundles npm): ask for the
# command, not the package.
command -v npm >/dev/null 2>&1 || missing="$missing nodejs npm"
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "install-deps: missing packages:$missing (run as root or install sudo)" >&2
    exit 1
fi
echo "install-deps: installing$missing"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
# shellcheck disable=SC2086
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
