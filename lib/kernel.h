/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Facts about the running kernel, its health, and global state that tests
 * change and that must be put back whatever happens to the test process.
 */
#ifndef IOPIN_KERNEL_H
#define IOPIN_KERNEL_H

#include <stdbool.h>
#include <stddef.h>

#define KVER(a, b, c)	(((a) << 16) | ((b) << 8) | (c))

/* KVER() of the running kernel, from uname(2). */
int kernel_version(void);

/*
 * Value of CONFIG_<name> ("y", "m", a string or number) from
 * /proc/config.gz or /boot/config-<release>; NULL when unset or when no
 * config can be found (then *known is false if known is given).
 */
const char *kernel_config(const char *name, bool *known);

/* "none", "integrity", "confidentiality" or "unknown". */
const char *kernel_lockdown(void);

/* Read/write a small sysfs/procfs value; trailing newline stripped. */
int sysfs_read(const char *path, char *buf, size_t len);
int sysfs_write(const char *path, const char *value);
long sysfs_read_long(const char *path);

/*
 * Name of the bracketed choice of a sysfs "a [b] c" knob in buf,
 * e.g. "madvise" for THP's enabled file. Returns buf or NULL.
 */
char *sysfs_read_choice(const char *path, char *buf, size_t len);

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
 * iopin's own kernel modules (kmod/): NAME.ko from $IOPIN_KMOD_DIR, else
 * /lib/modules/<release>/iopin/ (where the VM puts them). kmod_load()
 * journals the unload first (the keeper writes value to before_unload, if
 * given, e.g. a livepatch's enabled file, then unloads the module, waiting
 * while it is busy), then loads it with params. The taint bits the load
 * sets (O, E, K) are not held against the test: health_end() ignores a
 * new bit that the kernel log says an iopin_* module set.
 * A name with a '/' is the path of any module file (a kernel's own, e.g.
 * vivid.ko), loaded and journaled the same way under its file's name.
 * Returns 0 loaded; 1 when it cannot be loaded here (no module support, no
 * kprobes, no such file, lockdown, signature enforcement), with why a SKIP
 * reason; -1 on any other failure, with why.
 */
int kmod_load(const char *name, const char *params, const char *before_unload,
	      const char *value, char *why, size_t len);
const char *kmod_dir(char *buf, size_t len);

/* Put everything back now and wait until it is done (normal teardown). */
void kstate_restore(void);
const char *kstate_lock_path(void);

/*
 * Kernel health: a new WARN/BUG/Oops/... record in the kernel log or a new
 * taint bit between begin and end means the test made the kernel unhealthy.
 */
struct health {
	int kmsg_fd;		/* -1 when /dev/kmsg cannot be read */
	unsigned long taint;
};

void health_begin(struct health *h);
/* 0 when healthy; else -1 and a report (the offending lines) in buf. */
int health_end(struct health *h, char *buf, size_t len);

#endif
