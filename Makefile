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
LDLIBS := -lelf -lz -lzstd -lm

ifeq ($(FUZZ),1)
# libFuzzer builds (make fuzz): clang, coverage for the fuzzer, ASan+UBSan.
BUILD := build-fuzz
CC := clang
CFLAGS += -Wno-unknown-warning-option -fsanitize=fuzzer-no-link,address,undefined \
          -fno-sanitize-recover=all -fno-omit-frame-pointer
else ifeq ($(SANITIZE),1)
BUILD := build-asan
CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
else
BUILD := build
endif

SRCS := $(wildcard src/base/*.c src/proc/*.c src/python/*.c src/sampler/*.c \
                   src/output/*.c src/cli/*.c)
# Data linked into the binary (the flame graph page), by assembler .incbin.
ASM_SRCS := $(wildcard src/output/*.S)
OBJS := $(SRCS:src/%.c=$(BUILD)/obj/%.o) $(ASM_SRCS:src/%.S=$(BUILD)/obj/%.o)
MAIN_OBJ := $(BUILD)/obj/main.o
BIN := $(BUILD)/strobe

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_SRCS := $(filter-out tests/unit/test_layouts.c,$(UNIT_SRCS))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps unit layouts integration check demo bench bench-sched bench-slowdown clean fuzz fuzz-check fuzz-seeds \
        fuzz-bins lint valgrind consumers
all: $(BIN)

$(BIN): $(OBJS) $(MAIN_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/obj/%.o: src/%.S
	@mkdir -p $(dir $@)
	$(CC) -c -o $@ $<
$(BUILD)/obj/output/flamegraph_html.o: src/output/flamegraph.html

$(BUILD)/tests/%: tests/unit/%.c $(OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(OBJS) $(LDLIBS) -lcmocka

# The sampler over recorded interpreters: strobe's reads served from the
# fuzzer's seeds (tests/fuzz/fake_memory.h).
$(BUILD)/tests/test_replay: tests/unit/test_replay.c tests/fuzz/fake_memory.c \
                            tests/fuzz/fake_memory.h $(OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit -Itests/fuzz $(LDFLAGS) $(FUZZ_WRAP) -o $@ $< \
	  tests/fuzz/fake_memory.c $(OBJS) $(LDLIBS) -lcmocka

deps:
	@scripts/install-deps.sh

unit: $(UNIT_BINS) layouts
	@for t in $(UNIT_BINS); do echo "== $$t"; $$t || exit 1; done

# Layout tables of 3.8-3.12 against offsetof() from each installed version's
# own internal headers.
layouts: $(OBJS)
	@CC="$(CC)" CFLAGS="$(CFLAGS)" LDFLAGS="$(LDFLAGS)" LDLIBS="$(LDLIBS)" \
	  OBJS="$(OBJS)" BUILD="$(BUILD)" tests/unit/run-layout-tests.sh

# Test-only consumers of the output formats (tests/consumers/package.json,
# pinned by its lock file): the speedscope schema, ajv, pprof-format.
CONSUMERS_STAMP := tests/consumers/node_modules/.installed
consumers: $(CONSUMERS_STAMP)
$(CONSUMERS_STAMP): tests/consumers/package.json tests/consumers/package-lock.json
	cd tests/consumers && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

integration: $(BIN) $(CONSUMERS_STAMP)
	STROBE=$(abspath $(BIN)) $(PYTEST) tests/integration

check: deps
	$(MAKE) all unit
	$(MAKE) integration
	$(MAKE) lint valgrind fuzz-check
	$(MAKE) SANITIZE=1 all unit
	$(MAKE) SANITIZE=1 integration

# Static analysis: cppcheck and clang-tidy (.clang-tidy), no findings allowed;
# each suppression is justified where it is made.
LINT_SRCS := $(SRCS) src/main.c $(wildcard tests/fuzz/*.c)
lint:
	cppcheck --enable=warning,performance,portability --std=c11 --error-exitcode=1 \
	  --inline-suppr -q -Isrc -D_GNU_SOURCE src tests/fuzz
	clang-tidy --quiet $(LINT_SRCS) -- -std=c11 -D_GNU_SOURCE -Isrc -Itests/fuzz

# A short profile under valgrind: no invalid access, no definite leak.
valgrind: $(BIN)
	@tests/valgrind.sh $(abspath $(BIN))

demo: deps all
	@demo/run-demo.sh $(abspath $(BIN))

# strobe beside Tachyon (python3.15 -m profiling.sampling) on the same
# workloads; writes bench/RESULTS.md. BENCH_QUICK=1 for a short run.
bench: deps all $(BUILD)/bench/wake_floor $(BUILD)/bench/syscall_floor $(BUILD)/bench/cacheline_floor \
       $(BUILD)/bench/cold_reader $(BUILD)/bench/gap_floor
	STROBE=$(abspath $(BIN)) python3 bench/bench.py

# What slows a program at 100 kHz, part by part; writes bench/SLOWDOWN.md.
bench-slowdown: deps all $(BUILD)/bench/cold_reader $(BUILD)/bench/cacheline_floor
	STROBE=$(abspath $(BIN)) python3 bench/bench.py slowdown

# strobe's --sched policies side by side; writes bench/SCHED.md.
bench-sched: deps all
	STROBE=$(abspath $(BIN)) python3 bench/bench.py sched

$(BUILD)/bench/%: bench/%.c bench/bench_clock.h
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -Wextra -Werror -pthread -o $@ $<

# Fuzzing (tests/fuzz/): every target reads hostile memory through the real
# interpreter model. Seeds in tests/fuzz/corpus/ are recordings of real
# interpreters (make fuzz-seeds). `make fuzz` fuzzes each target for
# FUZZ_SECONDS; `make fuzz-check` (part of make check) replays the corpus and
# fuzzes each target briefly. Findings land in build-fuzz/findings/.
FUZZ_TARGETS := sampler linetable debug_offsets recording
FUZZ_SECONDS ?= 300
FUZZ_CHECK_SECONDS ?= 20
FUZZ_WRAP := -Wl,--wrap=remote_read,--wrap=remote_readv
FUZZ_BINS := $(FUZZ_TARGETS:%=build-fuzz/fuzz_%)
# Inputs are bounded, as are the time and memory one input may take.
FUZZ_ARGS := -max_len=1048576 -timeout=10 -rss_limit_mb=1024 -malloc_limit_mb=512

# The fuzz binaries are linked by a FUZZ=1 make, which knows their objects,
# so a change to any source rebuilds them.
ifeq ($(FUZZ),1)
build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fake_memory.c tests/fuzz/fake_memory.h $(OBJS)
	clang $(filter-out -MMD -MP,$(CFLAGS)) -Itests/fuzz \
	  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all $(FUZZ_WRAP) \
	  -o $@ $< tests/fuzz/fake_memory.c $(OBJS) $(LDLIBS)
fuzz-bins: $(FUZZ_BINS)
else
fuzz-bins:
	$(MAKE) FUZZ=1 fuzz-bins
endif

fuzz: deps fuzz-bins
	@tests/fuzz/run-fuzzers.sh fuzz $(FUZZ_SECONDS) "$(FUZZ_ARGS)" $(FUZZ_TARGETS)

fuzz-check: fuzz-bins
	@tests/fuzz/run-fuzzers.sh check $(FUZZ_CHECK_SECONDS) "$(FUZZ_ARGS)" $(FUZZ_TARGETS)

# Record real interpreters' memory as seeds for fuzz_sampler.
$(BUILD)/tests/record_seed: tests/fuzz/record_seed.c $(OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/fuzz $(LDFLAGS) $(FUZZ_WRAP) -o $@ $< $(OBJS) $(LDLIBS)

fuzz-seeds: $(BUILD)/tests/record_seed $(BIN)
	@tests/fuzz/record-seeds.sh $(BUILD)/tests/record_seed
	python3.14 tests/fuzz/make-recording-seeds.py $(BIN) python3

clean:
	rm -rf build build-asan build-fuzz

-include $(OBJS:.o=.d) $(MAIN_OBJ:.o=.d)
