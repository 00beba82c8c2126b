/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Global state that tests change and that must be put back whatever
 * happens to the test process, and the registry of its kinds.
 */
#ifndef IOPIN_KSTATE_H
#define IOPIN_KSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/*
 * The state registry: every kind of global state a test may change, one
 * row each in kstate_rows[] (lib/kstate.c). A row says how its state is
 * read (what run_tests.sh compares around each binary, printed by
 * kstate_print()) and which journal records restore it. A journal record
 * that belongs to no row is refused: what the keeper restores, the runner
 * also compares.
 */
enum kstate_row {
	KSTATE_ROW_THP,		/* THP knobs, global and per size (mTHP) */
	KSTATE_ROW_HUGETLB,	/* hugetlb pools, per size */
	KSTATE_ROW_PCI,		/* PCI devices present and their driver bindings */
	KSTATE_ROW_ND,		/* nvdimm bus (nd) device bindings: namespaces */
	KSTATE_ROW_SWAP,	/* swap areas in use */
	KSTATE_ROW_MODULE,	/* iopin's modules loaded, their parameters, livepatches */
	KSTATE_ROW_RDMA,	/* RDMA devices (rxe links) */
	KSTATE_ROWS
};

/*
 * lib/rdma.c's rxe links are RXE_PREFIX<pid>_<n>: the RDMA row waits for
 * those of processes that are gone (the kernel removes them with their
 * network namespace, asynchronously) before it prints.
 */
#define RXE_PREFIX	"iopin_rxe"

/* Name of a row ("thp", "hugetlb", ...), as IOPIN_SELFTEST_LEAK takes them. */
const char *kstate_row_name(enum kstate_row row);

/*
 * Print the global state of every row, one line per item ("path=value",
 * "DEV: driver=...", "swap: FILE", ...): what a binary must leave as it
 * found it. run_tests.sh compares it (lib/iopin-hold --print-state).
 */
void kstate_print(FILE *f);

/* For lib's keeper (kstate.c): the row of a record, or -1 (a file outside
 * /sys and /proc: lib's self-test), or -2 (refused, with a message). */
int kstate_knob_row(const char *path);
int kstate_device_row(const char *path);
bool kstate_selftest_leak(int row);
/* The driver bound to the device at sysfs dir dev, into buf ("": none). */
char *kstate_driver_of(const char *dev, char *buf, size_t len);

/*
 * Self-test of the runner's state check: IOPIN_SELFTEST_LEAK=ROW[,ROW...]
 * makes the keeper leave the state of those rows as the test left it, so
 * that run_tests.sh must report the binary's state as not restored.
 */
/*
 * Journaled writes of global kernel state (sysfs/procfs knobs).
 *
 * The first call starts a keeper process in its own process group, so the
 * harness's group-wide SIGKILL on timeout does not reach it. The keeper is
 * told each knob's original value before it is changed and writes every
 * original back, newest first, when the last holder of the journal pipe
 * goes away: normal exit, failed assertion, timeout, SIGKILL. It holds an
 * exclusive lock on kstate_lock_path() while it owns changes, and the next
 * keeper (or run_tests.sh, with flock(1)) waits on that lock, so a test
 * never reads a value its predecessor has not put back yet.
 */
int kstate_write(const char *path, const char *value);
/*
 * Journal the driver binding of PCI device bdf (and its driver_override)
 * before changing it: the keeper unbinds whatever holds the device then
 * and binds the original driver again (or leaves it unbound).
 */
int kstate_pci_binding(const char *bdf);
/* The same for any device, by its dir: /sys/bus/<bus>/devices/<name>. */
int kstate_binding(const char *dev);
/* Journal that bdf exists before removing it: the keeper rescans if it is gone. */
int kstate_pci_present(const char *bdf);
/*
 * Journal a swap file this process creates and is about to swapon(): the
 * keeper swaps it off and unlinks it.
 */
int kstate_swapfile(const char *path);
/*
 * iopin's own kernel modules (kmod/), all named KMOD_PREFIX* (the state
 * registry compares those): NAME.ko from $IOPIN_KMOD_DIR, else
 * /lib/modules/<release>/iopin/ (where the VM puts them). kmod_load()
 * journals the unload first (the keeper writes value to before_unload, if
 * given, e.g. a livepatch's enabled file, then unloads the module, waiting
 * while it is busy), then loads it with params. The taint bits the load
 * sets (O, E, K) are not held against the test: health_end() ignores a
 * new bit that the kernel log says an iopin_* module set.
 * Returns 0 loaded; 1 when it cannot be loaded here (no module support, no
 * kprobes, no such file, lockdown, signature enforcement), with why a SKIP
 * reason; -1 on any other failure, with why.
 */
#define KMOD_PREFIX	"iopin_"
int kmod_load(const char *name, const char *params, const char *before_unload,
	      const char *value, char *why, size_t len);
const char *kmod_dir(char *buf, size_t len);

/*
 * Wait until no keeper holds kstate_lock_path() (every change put back);
 * kstate_print()'s caller does, so that what it prints is never a restore
 * half done (also where no flock(1) is, the VM guest).
 */
void kstate_wait_restored(void);
/* Put everything back now and wait until it is done (normal teardown). */
void kstate_restore(void);
const char *kstate_lock_path(void);

#endif
