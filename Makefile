# SPDX-License-Identifier: GPL-2.0-only
#
# iopin: build every test binary and lib/; `make check` is the project's
# own test: lib unit tests, the suite, the fault-injection self-test, KTAP
# validation, and the suite in QEMU on Debian's 6.1 and 6.12 kernels.
#
#   make [KSRC=/path/to/linux]        build (headers from KSRC or Debian's linux-source-6.12)
#   make install INSTALL_PATH=DIR     lay out binaries + runner to run without the source tree
#   make check                        everything CI runs (kernels pinned in vm/kernels.lock)
#   make check-newest                 the newest Debian build of each pinned line: drift
#   make matrix                       the suite on every Debian kernel line: guard x kernel
#   make check-native                 the native part of check only

CC ?= gcc
DEPS := tools/deps.sh
KSFT := $(shell $(DEPS) --print-ksft-dir)
PKGS := liburing libpci numa

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror
# -isystem: the harness header is not built with -Wextra upstream.
CPPFLAGS += -Ilib -isystem $(KSFT)/selftests
LDLIBS += $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -luring -lpci -lnuma) -pthread

# Collections (directories) and their binaries, in run order.
COLLECTIONS := cow ptrace_access
cow_TESTS := fork vmsplice pin_rw pin_ro nonanon collapse foll_force
COLLECTIONS += devmem_revoke pci_mmap
devmem_revoke_TESTS := map revoke rw private_cow pmem
pci_mmap_TESTS := sysfs procfs remove
COLLECTIONS += gup_longterm
gup_longterm_TESTS := rules ro_effects movable pfnmap pfnmap_claim v4l2_pfnmap
ptrace_access_TESTS := normal force_override shmem_race iomem iomem_ram access_gate

TESTS := $(foreach c,$(COLLECTIONS),$(addprefix $(c)/,$($(c)_TESTS)))
# Every lib/*.c but the programs is part of the library: a new backend is a
# new file, nothing to add here.
LIB_PROGS := lib/hold.c lib/selftest.c
LIB_OBJS := $(patsubst %.c,%.o,$(filter-out $(LIB_PROGS),$(sort $(wildcard lib/*.c))))
LIB := lib/libiopin.a
# make SANITIZE=1: lib and every test built with ASan + UBSan (README.md,
# "Sanitizers").  Its objects are a separate set (lib/*.san.o, its own
# library); the binaries keep their paths, so that run_tests.sh runs them,
# and are relinked whenever the flavour in .build-flavour changes.  No
# bool check: with it, gcc 12 hoists a volatile bool load out of a polling
# loop ("while (!r->stop)"), which then never ends.
ifeq ($(SANITIZE),1)
CFLAGS += -fsanitize=address,undefined -fno-sanitize=bool -fno-sanitize-recover=all -fno-omit-frame-pointer
LIB_OBJS := $(LIB_OBJS:.o=.san.o)
LIB := lib/libiopin-san.a
endif
FLAVOUR := $(if $(filter 1,$(SANITIZE)),sanitize,normal)
$(shell [ "$$(cat .build-flavour 2>/dev/null)" = $(FLAVOUR) ] || echo $(FLAVOUR) > .build-flavour)
INSTALL_PATH ?= $(CURDIR)/install

all: deps $(TESTS) lib/selftest lib/iopin-hold tests.list

deps:
	@$(DEPS)

$(LIB_OBJS): lib/*.h | deps
$(LIB): $(LIB_OBJS)
	$(AR) rcs $@ $^
%.san.o: %.c
	$(COMPILE.c) $(OUTPUT_OPTION) $<
$(TESTS) lib/selftest lib/iopin-hold: .build-flavour

$(TESTS) lib/selftest: %: %.c $(LIB) lib/*.h | deps
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LIB) $(LDLIBS)
# A test's collection headers (ptrace_access/iomem includes its parts too).
.SECONDEXPANSION:
$(TESTS): $$(wildcard $$(dir $$@)*.h)

# Holds hugetlb pools for a whole run (run_tests.sh).
lib/iopin-hold: lib/hold.c $(LIB) lib/*.h | deps
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LIB) $(LDLIBS)

tests.list: Makefile
	@printf '%s\n' $(TESTS) > $@

install: all
	mkdir -p $(INSTALL_PATH)
	cp run_tests.sh tests.list $(INSTALL_PATH)/
	cp -r expectations $(INSTALL_PATH)/
	mkdir -p $(INSTALL_PATH)/lib && cp lib/iopin-hold lib/report.awk lib/debver.sh $(INSTALL_PATH)/lib/
	mkdir -p $(INSTALL_PATH)/lib/runner && cp lib/runner/*.sh $(INSTALL_PATH)/lib/runner/
	for t in $(TESTS); do mkdir -p $(INSTALL_PATH)/$$(dirname $$t); cp $$t $(INSTALL_PATH)/$$t; done

# make gen_tar [GEN_TAR=FILE]: the installed suite as a tarball that runs
# without the source tree or a compiler (README.md, "Fleets").
GEN_TAR ?= $(CURDIR)/iopin.tar.gz
gen_tar: all
	CC="$(CC)" CPPFLAGS="$(CPPFLAGS)" CFLAGS="$(CFLAGS)" LIB="$(LIB)" tools/lava/gen-tar.sh $(GEN_TAR)

check: all
	tools/check.sh

check-native: all
	tools/check.sh --native-only

# Not part of check: the newest build of each line vm/kernels.lock pins,
# against the expectations (kernel drift: exit 1 when verdicts changed).
check-newest: all
	tools/check-newest.sh

# Not part of check: the suite on every Debian kernel line, one table
# (tools/matrix.sh; MATRIX_ARGS, e.g. --flavours or --json FILE).
matrix: all
	tools/matrix.sh $(MATRIX_ARGS)

# Not part of check: builds and boots one kernel per mutants/*.patch (hours).
check-mutants: all
	tools/check-mutants.sh

check-sanitize:
	tools/check-sanitize.sh

clean:
	rm -f $(TESTS) lib/selftest lib/iopin-hold $(LIB) $(LIB_OBJS) tests.list
	rm -rf install
	rm -f lib/*.san.o lib/libiopin-san.a .build-flavour

.PHONY: all deps install gen_tar check check-native check-newest matrix check-mutants check-sanitize clean
