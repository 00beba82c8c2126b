/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Short wrappers for ptrace_access tests (include after iopin.h).
 */
#ifndef PTRACE_ACCESS_H
#define PTRACE_ACCESS_H

#include "iopin.h"
#include "trace.h"

#include <sys/mman.h>

/*
 * Two fixes of generic_access_phys() whose mainline commit ids are not
 * known yet (the guard form "unknown-commit v<version> <subject>",
 * tools/check-guards.sh): both reached Debian as stable backports, in
 * 6.12.118-1~deb12u1 and (upstream 7.3.4) 7.3.4-1; 7.2.13 has neither, so
 * they landed in mainline after v7.3.
 */
#define BOUNDARY_GUARD "unknown-commit v7.4 mm/memory: constrain generic_access_phys() to page boundary"
#define RAM_GUARD "unknown-commit v7.4 mm: disallow ioremap'ing ordinary RAM in generic_access_phys()"

/* The call failed with errno want (self-test switch: inverted). */
#define ASSERT_ERRNO(ret, err, want, what) do {				\
	char _why[160];							\
	ASSERT_TRUE(errno_check(ret, err, want, _why, sizeof(_why)))	\
		TH_LOG("%s: %s", what, _why);				\
} while (0)

/* The call transferred want bytes (self-test switch: inverted). */
#define ASSERT_COUNT(ret, err, want, what) do {				\
	char _why[160];							\
	ASSERT_TRUE(count_check(ret, err, want, _why, sizeof(_why)))	\
		TH_LOG("%s: %s", what, _why);				\
} while (0)

#define ASSERT_BYTES(got, want, len, what) do {				\
	char _why[192];							\
	ASSERT_TRUE(bytes_check(got, want, len, _why, sizeof(_why)))	\
		TH_LOG("%s: %s", what, _why);				\
} while (0)

/* Start tracee t; check it holds [addr, +len) with the permissions perms. */
#define TRACEE_START(t, perms) do {					\
	char _p[5] = "";						\
	ASSERT_EQ(0, tracee_start(t)) TH_LOG("tracee did not start");	\
	ASSERT_TRUE(maps_perms((t)->c.pid, (t)->addr, _p))		\
		TH_LOG("tracee has no mapping at %p", (t)->addr);	\
	ASSERT_STREQ(perms, _p) TH_LOG("tracee's mapping permissions");	\
} while (0)

/* After ret = tracee_access(..., &err): the tracer could attach and detach. */
#define ACCESS_DONE(ret, err) do {					\
	ASSERT_NE(-2, ret) TH_LOG("attaching to the tracee: %s", strerror(err)); \
} while (0)

/* The tracee checked what it sees and was happy. */
#define ASSERT_TRACEE_OK(t, what) do {					\
	int _rc = tracee_finish(t);					\
	ASSERT_EQ(CHILD_OK, _rc) TH_LOG("%s: tracee exit %d", what, _rc); \
} while (0)

/*
 * What a write to the tracee's private copy must never reach is unchanged:
 * the file or zeropage behind it, or for anon memory the copy this process
 * (the tracee's parent, sharing the pages since fork) still maps.
 */
#define ASSERT_ORIGINAL_UNCHANGED(m, what) do {				\
	if (mem_is_file((m)->type) || mem_is_zero((m)->type)) {		\
		ASSERT_BACKING_UNCHANGED(m, what);			\
	} else {							\
		ASSERT_PATTERN((m)->addr, (m)->size, 1, what);		\
	}								\
} while (0)

/* SKIP when /proc/PID/mem by this opener does not force in this mode. */
#define PROC_MEM_FORCE_NEEDED(route, tracer) do {			\
	char _how[192];							\
	enum proc_mem_force _f = proc_mem_force_mode(_how, sizeof(_how)); \
	if (((route) == ROUTE_PROC_PID_MEM ||				\
	     (route) == ROUTE_PROC_SELF_MEM) &&				\
	    !proc_mem_forces(_f, tracer))				\
		SKIP(return, "proc_mem.force_override=%s (%s): /proc/PID/mem does not force here; ptrace_access/force_override tests this mode", \
		     proc_mem_force_name(_f), _how);			\
} while (0)

#endif
