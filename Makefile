# ScanLab - plain GNU make [STYLE M1-M4].
# Variants build in their own folder: build/release (default), build/asan.
# CFLAGS/CPPFLAGS/LDFLAGS from the command line add to ours, never replace them.

BUILD ?= build/release
OPT   ?= -O2 -g
# Link-time optimisation lets the detector's per-tuple calls across files
# (the context into the rules and the flow table) inline: about 6% on
# in-memory detection (make bench). Release only: the sanitizer builds
# set LTO= (and libraries are archived with gcc-ar, which knows LTO).
LTO   ?= -flto=auto
SAN   ?=
AR    := gcc-ar
PKGS  := libpcap libcjson gsl
TPKGS := cunit

ifneq ($(MAKECMDGOALS),clean)
ifneq ($(MAKECMDGOALS),format)
MISSING := $(shell for p in $(PKGS) $(TPKGS); do pkg-config --exists $$p || echo $$p; done)
ifneq ($(MISSING),)
$(error missing pkg-config packages: $(MISSING); run scripts/install-deps.sh (Debian: libpcap-dev libcjson-dev libgsl-dev libcunit1-dev pkg-config))
endif
endif
endif

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla
ALL_CPPFLAGS = -std=c11 -D_DEFAULT_SOURCE -Idetector -Icli -Isim -Ireports \
               $(shell pkg-config --cflags $(PKGS)) $(CPPFLAGS)
ALL_CFLAGS   = $(OPT) $(LTO) $(SAN) $(WARN) $(if $(WERROR),-Werror) -MMD -MP $(CFLAGS)
ALL_LDFLAGS  = $(OPT) $(LTO) $(SAN) $(WARN) $(if $(WERROR),-Werror) $(LDFLAGS)
LIBS         = $(shell pkg-config --libs $(PKGS)) -lm -pthread
TLIBS        = $(shell pkg-config --libs $(TPKGS))

LIB_SRCS  := $(sort $(wildcard detector/*.c))
SIM_SRCS  := $(sort $(wildcard sim/*.c))
RPT_SRCS  := $(sort $(wildcard reports/*.c))
CLI_SRCS  := $(sort $(wildcard cli/*.c))
UNIT_SRCS := $(sort $(wildcard tests/unit/*.c))
TOOL_SRCS := $(sort $(wildcard tests/tools/*.c))

LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/%.o)
SIM_OBJS  := $(SIM_SRCS:%.c=$(BUILD)/%.o)
RPT_OBJS  := $(RPT_SRCS:%.c=$(BUILD)/%.o)
CLI_OBJS  := $(CLI_SRCS:%.c=$(BUILD)/%.o)
UNIT_OBJS := $(UNIT_SRCS:%.c=$(BUILD)/%.o)
TOOL_OBJS := $(TOOL_SRCS:%.c=$(BUILD)/%.o)

LIBSCAND  := $(BUILD)/libscand.a
LIBSIM    := $(BUILD)/libscansim.a
LIBRPT    := $(BUILD)/librpt.a
SCANLAB   := $(BUILD)/scanlab
UNIT      := $(BUILD)/unit-tests
TOOLS     := $(TOOL_SRCS:tests/tools/%.c=$(BUILD)/%)

.SECONDARY:

.PHONY: all test unit golden asan tsan valgrind bench bless format check-headers clean example

all: $(SCANLAB) $(TOOLS)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(LIBSCAND): $(LIB_OBJS)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

$(LIBSIM): $(SIM_OBJS)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

$(LIBRPT): $(RPT_OBJS)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

$(SCANLAB): $(CLI_OBJS) $(LIBRPT) $(LIBSIM) $(LIBSCAND)
	$(CC) $(ALL_LDFLAGS) -o $@ $(CLI_OBJS) $(LIBRPT) $(LIBSIM) $(LIBSCAND) $(LIBS)

# The units test the CLI's library-like files too (feeder.c and what it uses).
UNIT_CLI  := $(BUILD)/cli/feeder.o $(BUILD)/cli/ring.o $(BUILD)/cli/util.o $(BUILD)/cli/blob_order.o

$(UNIT): $(UNIT_OBJS) $(UNIT_CLI) $(LIBRPT) $(LIBSIM) $(LIBSCAND)
	$(CC) $(ALL_LDFLAGS) -o $@ $(UNIT_OBJS) $(UNIT_CLI) $(LIBRPT) $(LIBSIM) $(LIBSCAND) $(LIBS) $(TLIBS)

$(BUILD)/%: $(BUILD)/tests/tools/%.o $(LIBSIM) $(LIBSCAND)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBSIM) $(LIBSCAND) $(LIBS)

# The whole suite: CUnit units, then golden end-to-end runs.
test: unit golden

unit: $(UNIT)
	cd tests/unit && LC_ALL=C TZ=UTC SCANLAB_SHARED=../../../shared $(abspath $(UNIT))

golden: $(SCANLAB) $(TOOLS)
	LC_ALL=C TZ=UTC SCANLAB=$(abspath $(SCANLAB)) SCANLAB_TOOLS=$(abspath $(BUILD)) \
	    sh tests/golden/run.sh && SCANLAB=$(abspath $(SCANLAB)) sh tests/golden/readme.sh && \
	    SCANLAB=$(abspath $(SCANLAB)) SCANLAB_TOOLS=$(abspath $(BUILD)) sh tests/golden/mem.sh

# ASan + UBSan, no recovery: builds in build/asan and runs the same tests.
asan:
	SCANLAB_MEM_SKIP=1 $(MAKE) BUILD=build/asan LTO= OPT="-O1 -g -fno-omit-frame-pointer" \
	    SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" test

# ThreadSanitizer over the threaded parts: the detector's feeder thread
# (units), then a threaded detect and a two-thread pcap2flow run.
tsan:
	$(MAKE) BUILD=build/tsan LTO= OPT="-O1 -g" SAN="-fsanitize=thread" build/tsan/unit-tests build/tsan/scanlab
	cd tests/unit && SCANLAB_SHARED=../../../shared TSAN_OPTIONS=halt_on_error=1 \
	    $(abspath build/tsan/unit-tests) feeder
	TSAN_OPTIONS=halt_on_error=1 build/tsan/scanlab detect -q --config tests/bench/all-rules.json \
	    examples/hubspoke-1h >/dev/null
	rm -rf build/tsan/sim && TSAN_OPTIONS=halt_on_error=1 build/tsan/scanlab simulate -q \
	    scenarios/vertical.json -o build/tsan/sim --pcap build/tsan/sim.pcap >/dev/null
	rm -rf build/tsan/p2f && TSAN_OPTIONS=halt_on_error=1 build/tsan/scanlab pcap2flow -q \
	    --inside 10.0.0.0/8 -o build/tsan/p2f build/tsan/sim.pcap
	rm -rf build/tsan/p2fs && TSAN_OPTIONS=halt_on_error=1 build/tsan/scanlab pcap2flow -q \
	    --max-buffer 1000 --inside 10.0.0.0/8 -o build/tsan/p2fs build/tsan/sim.pcap
	diff -r build/tsan/p2f build/tsan/p2fs
	$(MAKE) build/release/mkpcap
	build/release/mkpcap --bench build/tsan/sc.pcap 1000000 2>/dev/null
	rm -rf build/tsan/sc0 && build/release/scanlab pcap2flow -q \
	    --max-buffer 0 --inside 10.2.0.0/16 -o build/tsan/sc0 build/tsan/sc.pcap
	rm -rf build/tsan/sc && TSAN_OPTIONS=halt_on_error=1 build/tsan/scanlab pcap2flow -q \
	    --max-buffer 200000 --inside 10.2.0.0/16 -o build/tsan/sc build/tsan/sc.pcap
	diff -r build/tsan/sc0 build/tsan/sc
	@echo "tsan: clean"

valgrind: all $(UNIT)
	SCANLAB_VALGRIND=1 $(MAKE) test

bless: $(SCANLAB) $(TOOLS)
	SCANLAB_BLESS=1 LC_ALL=C TZ=UTC SCANLAB=$(abspath $(SCANLAB)) \
	    SCANLAB_TOOLS=$(abspath $(BUILD)) sh tests/golden/run.sh

# Regenerate the shipped example blob tree (deterministic: same bytes).
example: $(BUILD)/genflows
	rm -rf examples/hubspoke-1h
	$(BUILD)/genflows example examples/hubspoke-1h

bench: $(SCANLAB) $(TOOLS)
	SCANLAB=$(abspath $(SCANLAB)) SCANLAB_TOOLS=$(abspath $(BUILD)) sh tests/bench/run.sh

format:
	clang-format -i detector/*.[ch] cli/*.[ch] sim/*.[ch] reports/*.[ch] tests/unit/*.[ch] tests/tools/*.c

check-headers:
	@for h in detector/*.h cli/*.h sim/*.h reports/*.h; do \
	    echo "#include \"$$h\"" | $(CC) $(ALL_CPPFLAGS) $(WARN) -Werror -fsyntax-only -x c - \
	    || exit 1; done; echo "headers compile alone"

clean:
	rm -rf build

-include $(LIB_OBJS:.o=.d) $(SIM_OBJS:.o=.d) $(RPT_OBJS:.o=.d) $(CLI_OBJS:.o=.d) $(UNIT_OBJS:.o=.d) $(TOOL_OBJS:.o=.d)
