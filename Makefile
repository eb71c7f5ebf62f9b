# strobe — build, test and demo.
#
#   make            build build/strobe
#   make check      install missing packages, build, run every test (also
#                   under AddressSanitizer + UndefinedBehaviorSanitizer)
#   make demo       install missing packages, build, profile the demo service
#   make SANITIZE=1 build build-asan/strobe with ASan + UBSan
#
# Tests: `make unit` (C, cmocka), `make integration` (pytest against every
# CPython found: pyenv, PATH, $STROBE_TEST_PYTHONS).

CC ?= cc
SANITIZE ?= 0
# Debian's pytest (python3-pytest), whatever python3 is first on PATH.
PYTEST ?= pytest-3 -q

WARNINGS := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wformat=2 -Wno-format-nonliteral -Wvla
# Messages go into fixed-size buffers on purpose: cutting one short is fine.
WARNINGS += -Wno-format-truncation
CFLAGS ?= -O2 -g
CFLAGS += -std=c11 -D_GNU_SOURCE $(WARNINGS) -Isrc -MMD -MP
LDLIBS := -lelf -lm

ifeq ($(SANITIZE),1)
BUILD := build-asan
CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
else
BUILD := build
endif

SRCS := $(wildcard src/base/*.c src/proc/*.c src/python/*.c src/sampler/*.c \
                   src/output/*.c src/cli/*.c)
OBJS := $(SRCS:src/%.c=$(BUILD)/obj/%.o)
MAIN_OBJ := $(BUILD)/obj/main.o
BIN := $(BUILD)/strobe

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_SRCS := $(filter-out tests/unit/test_layouts.c,$(UNIT_SRCS))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps unit layouts integration check demo bench clean
all: $(BIN)

$(BIN): $(OBJS) $(MAIN_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(OBJS) $(LDLIBS) -lcmocka

deps:
	@scripts/install-deps.sh

unit: $(UNIT_BINS) layouts
	@for t in $(UNIT_BINS); do echo "== $$t"; $$t || exit 1; done

# Layout tables of 3.8-3.12 against offsetof() from each installed version's
# own internal headers.
layouts: $(OBJS)
	@CC="$(CC)" CFLAGS="$(CFLAGS)" LDFLAGS="$(LDFLAGS)" LDLIBS="$(LDLIBS)" \
	  OBJS="$(OBJS)" BUILD="$(BUILD)" tests/unit/run-layout-tests.sh

integration: $(BIN)
	STROBE=$(abspath $(BIN)) $(PYTEST) tests/integration

check: deps
	$(MAKE) all unit
	$(MAKE) integration
	$(MAKE) SANITIZE=1 all unit
	$(MAKE) SANITIZE=1 integration

demo: deps all
	@demo/run-demo.sh $(abspath $(BIN))

# strobe beside Tachyon (python3.15 -m profiling.sampling) on the same
# workloads; writes bench/RESULTS.md. BENCH_QUICK=1 for a short run.
bench: deps all $(BUILD)/bench/wake_floor
	STROBE=$(abspath $(BIN)) python3 bench/bench.py

$(BUILD)/bench/wake_floor: bench/wake_floor.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -Wextra -Werror -o $@ $<

clean:
	rm -rf build build-asan

-include $(OBJS:.o=.d) $(MAIN_OBJ:.o=.d)
