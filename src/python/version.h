/*
 * version.h — CPython version numbers as strobe understands them.
 *
 * A version is kept as CPython's own PY_VERSION_HEX word (major, minor, micro,
 * release level, serial), which is what 3.11+ store in Py_Version and 3.13+
 * in _Py_DebugOffsets.version.
 */
#ifndef STROBE_PYTHON_VERSION_H
#define STROBE_PYTHON_VERSION_H

#include "base/common.h"

#define PY_SUPPORTED_MIN_MINOR 8
#define PY_SUPPORTED_MAX_MINOR 15
#define PY_RELEASE_LEVEL_FINAL 0xF

struct py_version {
    unsigned major, minor, micro;
    unsigned level;     /* 0xA alpha, 0xB beta, 0xC candidate, 0xF final */
    unsigned serial;
};

struct py_version py_version_from_hex(uint64_t hex);
uint64_t py_version_to_hex(struct py_version v);

/* Parse "3.12", "3.12.1", "3.13.0rc2", "3.15.0b4+" (trailing text ignored).
 * false if `s` does not start with a version. */
bool py_version_parse(const char *s, struct py_version *out);

/* "3.12.1", "3.15.0b4"; micro omitted when unknown (micro == UINT_MAX). */
void py_version_format(struct py_version v, char *out, size_t outlen);

bool py_version_supported(struct py_version v);

/* "CPython 3.7 is not supported (supported: 3.8–3.15)" */
void py_version_unsupported_message(struct py_version v, char *out, size_t outlen);

#define PY_MICRO_UNKNOWN 0xFFFFFFFFu

#endif
