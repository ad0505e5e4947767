# SPDX-License-Identifier: GPL-2.0-only
# capnet: one Makefile for the BPF object, the tools, the tests and the demo.
# Everything generated goes to $(O) (default .output/); V=1 shows full command lines.

O ?= .output
SAN ?=
CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool
ARCH := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')

PKGS := libnl-3.0 libnl-route-3.0 libbpf libpcap libsodium hiredis libcurl
# hiredis and libcurl are loaded by capctl when a command talks to Redis or etcd, libpcap by
# captrace record (lib/dynlib.c): their headers are needed, their libraries are not linked.
DLOPEN_PKGS := hiredis libcurl libpcap
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(filter-out $(DLOPEN_PKGS),$(PKGS)) 2>/dev/null)

# Goals that install the dependencies first, or need none, may start without them; any other goal
# that compiles stops here with the remedy instead of a missing-header error.
DEPS_FREE_GOALS := deps demo test bench clean format format-fix compile_commands.json pictures
ifneq ($(filter-out $(DEPS_FREE_GOALS),$(or $(MAKECMDGOALS),all)),)
ifneq ($(shell pkg-config --exists $(PKGS) 2>/dev/null && echo ok),ok)
$(error build dependencies missing ($(PKGS)): run 'make deps' as root, or 'make demo' / 'make test', which run it first)
endif
endif

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Wno-missing-field-initializers \
	  -I. -I$(O) $(PKG_CFLAGS) -D_GNU_SOURCE
ifneq ($(SAN),)
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif
# A program records only the libraries it calls: capnode loads no libbpf, libnl or libpcap.
LDFLAGS += -Wl,--as-needed
LDLIBS += $(PKG_LIBS) -lelf -lz -lm -lpthread

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all man pictures layers test unit-test net-test fuzz fuzz-run torture bench bench-tools demo course deps format format-fix clean install

# Programs: one folder each, its main() in the file named after it. Every other source of those
# folders and of lib/ goes into one static library that the programs and tests link against;
# tests/lib/ (test helpers only) is a library of its own that only tests link.
MAINS := netem/capnet.c node/capnode.c tools/capctl/capctl.c tools/captrace/captrace.c
NETEM_ROOMS := netem netem/cmd netem/lab netem/filter netem/policy netem/svc netem/script netem/delay netem/hosts \
	netem/maelstrom
SRC_DIRS := lib $(NETEM_ROOMS) node tools/capctl tools/check tools/captrace
LIB_SRCS := $(filter-out $(MAINS),$(foreach d,$(SRC_DIRS),$(wildcard $(d)/*.c)))
LIB_OBJS := $(patsubst %.c,$(O)/obj/%.o,$(LIB_SRCS))
LIB := $(O)/libcapnet.a
TEST_LIB_SRCS := $(wildcard tests/lib/*.c)
TEST_LIB := $(O)/libcapnet-test.a
BINS := $(patsubst %.c,$(O)/bin/%,$(notdir $(MAINS)))

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(O)/tests/unit/%,$(UNIT_SRCS))
NET_SRCS := $(wildcard tests/net/test_*.c)
NET_BINS := $(patsubst tests/net/%.c,$(O)/tests/net/%,$(NET_SRCS))
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(O)/fuzz/%,$(FUZZ_SRCS))

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(O)/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(O)/%.skel.h,$(BPF_SRCS))

# The example Maelstrom node in C links jansson, as a node written outside capnet would.
MAEL_C_NODE := $(O)/tests/maelstrom/c_node
# Preloaded into the services capnet starts, beside libfaketime (preload/clock_nanosleep.c):
# plain flags, for the sanitizers of the ASan build cannot be preloaded into other programs.
PRELOAD := $(O)/lib/capnet/clock_nanosleep.so
# Man pages, written in scdoc's markup (docs/man/), made into roff.
MAN_SRCS := $(wildcard docs/man/*.scd)
MAN_PAGES := $(patsubst docs/man/%.scd,$(O)/man/%,$(MAN_SRCS))
all: $(BINS) $(PRELOAD) $(MAN_PAGES) $(UNIT_BINS) $(NET_BINS) $(MAEL_C_NODE)

$(O)/man/%: docs/man/%.scd
	$(call msg,SCDOC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)scdoc < $< > $@
man: $(MAN_PAGES)

# The pictures of docs/, drawn by Graphviz from their text sources; the SVGs are kept in the
# repository, so a reader needs nothing, and `make pictures` draws them again after an edit.
PICTURES := $(patsubst %.dot,%.svg,$(wildcard docs/pictures/*.dot))
docs/pictures/%.svg: docs/pictures/%.dot
	$(call msg,DOT,$@)
	$(Q)dot -Tsvg $< -o $@
pictures: $(PICTURES)

$(PRELOAD): preload/clock_nanosleep.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -fPIC -shared $< -o $@

$(MAEL_C_NODE): tests/maelstrom/c_node.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -std=gnu11 -O2 -Wall -Wextra -Werror $(shell pkg-config --cflags jansson) $< \
		$(shell pkg-config --libs jansson) -o $@

$(O)/vmlinux.h:
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(O)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@

$(O)/%.bpf.o: bpf/%.bpf.c bpf/%.h $(O)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -I. -I$(O) -Wall -Werror \
		-c $< -o $@
	$(Q)llvm-strip -g $@ 2>/dev/null || true

$(O)/%.skel.h: $(O)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@

# Only netem/ loads BPF; pure code never waits for the skeleton.
$(patsubst %.c,$(O)/obj/%.o,$(foreach d,$(NETEM_ROOMS),$(wildcard $(d)/*.c))): $(SKELS)
$(O)/obj/%.o: %.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

# Tests find the data they ship (tests/data/) wherever they are run from.
$(O)/obj/tests/%.o: CFLAGS += -DCAPNET_TEST_DATA='"$(abspath tests/data)"'

$(TEST_LIB): $(patsubst %.c,$(O)/obj/%.o,$(TEST_LIB_SRCS))
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

define program_rule
$(O)/bin/$(basename $(notdir $(1))): $(O)/obj/$(1:.c=.o) $(LIB)
	$$(call msg,LD,$$@)
	$$(Q)mkdir -p $$(@D)
	$$(Q)$$(CC) $$(LDFLAGS) $$< $$(LIB) $$(LDLIBS) -o $$@
endef
$(foreach m,$(MAINS),$(eval $(call program_rule,$(m))))

$(O)/tests/unit/%: $(O)/obj/tests/unit/%.o $(TEST_LIB) $(LIB)
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) $< $(TEST_LIB) $(LIB) $(LDLIBS) -lcmocka -o $@
$(O)/tests/net/%: $(O)/obj/tests/net/%.o $(TEST_LIB) $(LIB)
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) $< $(TEST_LIB) $(LIB) $(LDLIBS) -lcmocka -o $@

# Fuzzers: clang's libFuzzer with ASan and UBSan, linking the real parsers' sources.
FUZZ_CFLAGS := -std=gnu11 -g -O1 -I. -I$(O) $(PKG_CFLAGS) -D_GNU_SOURCE \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
$(O)/fuzz/%: tests/fuzz/%.c $(LIB_SRCS) $(SKELS)
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $< $(shell sed -n 's,^// fuzz-sources: ,,p' $<) -o $@ $(LDLIBS)

fuzz: $(FUZZ_BINS)

# A bounded run of every fuzzer (FUZZ_SECONDS each), as part of make test.
FUZZ_SECONDS ?= 60
fuzz-run: $(FUZZ_BINS)
	$(Q)tests/run-fuzz.sh $(FUZZ_SECONDS) $(FUZZ_BINS)

unit-test: $(UNIT_BINS)
	$(Q)tests/run-tests.sh unit $(UNIT_BINS)

net-test: $(BINS) $(NET_BINS)
	$(Q)CAPNET=$(abspath $(O)/bin/capnet) tests/run-tests.sh net $(NET_BINS) tests/course/play.sh tests/progress/check.sh

# docs/how-it-works.md played command by command, checked against the output it shows; root.
# The rooms call only the rooms below them; pure code does no I/O (docs/hacking.md).
layers: $(BINS)
	$(Q)tests/layers/check.sh $(O)/obj

course: $(BINS)
	$(Q)tests/course/play.sh docs/how-it-works.md

# The whole suite: style and every build first (they stop it), then every check, each counted
# in one summary at the end: the man pages and reports, unit tests, the same under ASan+UBSan,
# fuzzers, root tests in namespaces, the course and the progress lines. A failing check does not
# stop the others. deps first, so a fresh machine needs nothing else.
SAN_UNIT_BINS := $(patsubst $(O)/%,$(O)/san/%,$(UNIT_BINS))
TEST_SUMMARY := $(abspath $(O))/test-summary
test: deps
	$(Q)$(MAKE) --no-print-directory format
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory O=$(O)/san SAN=1 $(SAN_UNIT_BINS)
	$(Q)$(MAKE) --no-print-directory fuzz
	$(Q)rm -f $(TEST_SUMMARY)
	$(Q)export TEST_SUMMARY=$(TEST_SUMMARY); \
	tests/run-tests.sh check "tests/man/check.sh $(O)/bin" "tests/report/check.sh $(O)/bin" \
		"tests/layers/check.sh $(O)/obj"; \
	tests/run-tests.sh unit $(UNIT_BINS); \
	tests/run-tests.sh unit-san $(SAN_UNIT_BINS); \
	tests/run-fuzz.sh $(FUZZ_SECONDS) $(FUZZ_BINS); \
	CAPNET=$(abspath $(O)/bin/capnet) tests/run-tests.sh net $(NET_BINS) tests/course/play.sh \
		tests/progress/check.sh; \
	tests/run-tests.sh --summary $(TEST_SUMMARY)

# The long torture: the bounded one of make test with many more nemesis rounds; needs root.
TORTURE_ROUNDS ?= 200
torture: $(BINS) $(O)/tests/net/test_torture
	$(Q)CAPNET=$(abspath $(O)/bin/capnet) CAPNET_TORTURE_ROUNDS=$(TORTURE_ROUNDS) \
		$(O)/tests/net/test_torture

# Benchmark helpers (traffic and load generators), linked like the tests.
BENCH_SRCS := $(filter-out tests/bench/json_bench_json_c.c,$(wildcard tests/bench/*.c))
BENCH_BINS := $(patsubst tests/bench/%.c,$(O)/bench/%,$(BENCH_SRCS))
$(O)/bench/%: tests/bench/%.c $(LIB)
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< $(LIB) $(LDLIBS) -o $@
# The JSON benchmark measures lib/json against Debian's JSON libraries, so only it links them.
$(O)/bench/json_bench: CFLAGS += $(shell pkg-config --cflags jansson json-c 2>/dev/null)
$(O)/bench/json_bench: LDLIBS += $(shell pkg-config --libs jansson json-c 2>/dev/null)
$(O)/bench/json_bench: tests/bench/json_bench.c tests/bench/json_bench_json_c.c $(LIB)
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $(filter %.c,$^) $(LIB) $(LDLIBS) -o $@
bench-tools: $(BENCH_BINS)

# deps runs first and the build in a new make, whose pkg-config sees what deps installed: a make
# that started before the -dev packages existed has empty include paths.
bench: deps
	$(Q)$(MAKE) --no-print-directory all bench-tools
	$(Q)tests/bench/run.sh $(abspath $(O)/bin)

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/demo.sh $(abspath $(O)/bin)

deps:
	$(Q)tools/deps.sh

FORMAT_SRCS := $(shell git ls-files '*.c' '*.h' 2>/dev/null)
format:
	$(call msg,FORMAT,check)
	$(Q)clang-format --dry-run --Werror $(FORMAT_SRCS)
format-fix:
	$(Q)clang-format -i $(FORMAT_SRCS)

# The compilation database clangd reads: every compile of a full build, recorded by bear in a
# build directory of its own so that .output/ is left as it is.
compile_commands.json: deps
	$(Q)bear --output $@ -- $(MAKE) --no-print-directory -B O=$(O)/ccdb all
.PHONY: compile_commands.json

PREFIX ?= /usr/local
COMPLETION_DIR ?= $(PREFIX)/share/bash-completion/completions
install: $(BINS) $(PRELOAD) $(MAN_PAGES)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/capnet \
		$(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man8 \
		$(DESTDIR)$(COMPLETION_DIR)
	install -m 0755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 $(PRELOAD) $(DESTDIR)$(PREFIX)/lib/capnet/
	install -m 0644 $(filter %.1,$(MAN_PAGES)) $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 $(filter %.8,$(MAN_PAGES)) $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 0644 completion/capnet completion/capctl completion/captrace \
		completion/capnode $(DESTDIR)$(COMPLETION_DIR)/

clean:
	rm -rf $(O)

-include $(shell find $(O)/obj -name '*.d' 2>/dev/null)
