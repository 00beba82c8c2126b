/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Facts about the running kernel and its health. The journaled global
 * state (kstate_*, kmod_*) is declared in kstate.h, included here.
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

/*
 * health_end()'s judgement of the kernel log, one record (the message
 * text) at a time, in order: non-zero for a record that makes the kernel
 * unhealthy. The scan carries which known harmless dump (lib/kernel.c) the
 * records so far are in; start it zeroed.
 */
enum health_dump {
	HEALTH_NO_DUMP,
	HEALTH_VIVID_TIMEOUT,		/* vivid's schedule_timeout() message */
	HEALTH_VIVID_TIMEOUT_CPU,	/* ... its CPU: (and Tainted:) line */
	HEALTH_VIVID_TIMEOUT_HW,	/* ... its Hardware name: line */
};
struct health_scan {
	enum health_dump dump;
};
int health_record_bad(struct health_scan *s, const char *msg);

#include "kstate.h"

#endif
