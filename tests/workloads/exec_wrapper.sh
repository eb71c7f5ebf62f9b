#!/bin/sh
# A launcher that execs the real program, as virtualenv shims and
# process managers do: strobe run must follow the exec.
sleep 0.05
exec "$@"
