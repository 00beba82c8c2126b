/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Debugger-style access to another process's memory: a tracer attaches to
 * a tracee (a child that acts only when told), stops it and reads or
 * writes its memory through one of the access routes below. Plus the
 * proc_mem.force_override mode in effect, and an errno check that the
 * self-test switch flips like lib/mem's data checks.
 */
#ifndef IOPIN_TRACE_H
#define IOPIN_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "task.h"

/*
 * The access routes, one row each (the axis's registry):
 *	X(id, route, name, ...)
 * id: the variant name; route: enum trace_route (generated, in the order
 * of TRACE_ROUTES); name: what diagnostics call it. The trailing arguments
 * are passed on, so a test can cross a route or a subset with its own axis.
 */
#define TRACE_ROUTE_PROC_PID_MEM(X, ...)	/* pread/pwrite on /proc/PID/mem (FOLL_FORCE per mode) */ \
	X(proc_pid_mem, ROUTE_PROC_PID_MEM, "/proc/PID/mem", __VA_ARGS__)
#define TRACE_ROUTE_PTRACE_WORDS(X, ...)	/* PTRACE_PEEKDATA/POKEDATA, word by word (FOLL_FORCE) */ \
	X(ptrace_words, ROUTE_PTRACE_WORDS, "PTRACE_PEEKDATA/POKEDATA", __VA_ARGS__)
#define TRACE_ROUTE_PROC_SELF_MEM(X, ...)	/* the process itself on /proc/self/mem */ \
	X(proc_self_mem, ROUTE_PROC_SELF_MEM, "/proc/self/mem", __VA_ARGS__)
#define TRACE_ROUTE_PROCESS_VM(X, ...)		/* process_vm_readv/writev: never forces */ \
	X(process_vm, ROUTE_PROCESS_VM, "process_vm_readv/writev", __VA_ARGS__)

/* The subsets tests cross. The routes a tracer uses, which force (FOLL_FORCE). */
#define TRACER_ROUTES(X, ...)						\
	TRACE_ROUTE_PROC_PID_MEM(X, __VA_ARGS__)			\
	TRACE_ROUTE_PTRACE_WORDS(X, __VA_ARGS__)
/* The mem files: a tracer's and the process's own. */
#define TRACE_MEM_FILE_ROUTES(X, ...)					\
	TRACE_ROUTE_PROC_PID_MEM(X, __VA_ARGS__)			\
	TRACE_ROUTE_PROC_SELF_MEM(X, __VA_ARGS__)
/* The routes that fall back to a VMA's access hook (generic_access_phys()). */
#define TRACE_HOOK_ROUTES(X, ...)					\
	TRACER_ROUTES(X, __VA_ARGS__)					\
	TRACE_ROUTE_PROC_SELF_MEM(X, __VA_ARGS__)
/* Every route. */
#define TRACE_ROUTES(X, ...)						\
	TRACE_HOOK_ROUTES(X, __VA_ARGS__)				\
	TRACE_ROUTE_PROCESS_VM(X, __VA_ARGS__)

enum trace_route {
#define TRACE_ROUTE_ENUM(id, route, name, _) route,
	TRACE_ROUTES(TRACE_ROUTE_ENUM, _)
#undef TRACE_ROUTE_ENUM
};

const char *trace_route_name(enum trace_route r);

/*
 * Read/write len bytes at addr of process pid through route r. Returns the
 * bytes transferred (a short count only if the kernel gave one), or -1 with
 * errno set. ROUTE_PTRACE_WORDS needs an attached, stopped tracee and a
 * len of whole words (addr may be unaligned: a word may cross a page);
 * ROUTE_PROC_SELF_MEM needs pid == getpid().
 */
ssize_t trace_read(enum trace_route r, pid_t pid, const void *addr,
		   void *buf, size_t len);
ssize_t trace_write(enum trace_route r, pid_t pid, void *addr,
		    const void *buf, size_t len);

/* Attach (PTRACE_SEIZE + PTRACE_INTERRUPT) and wait until it is stopped. */
int trace_attach(pid_t pid);
int trace_detach(pid_t pid);
/* Is pid in a ptrace stop ("t" in /proc/PID/stat)? */
bool trace_is_stopped(pid_t pid);

/*
 * Permissions of the mapping of pid that contains addr, as in
 * /proc/PID/maps ("r--p"); false if none contains it.
 */
bool maps_perms(pid_t pid, const void *addr, char perms[5]);

/*
 * A tracee: a child that sets the protection of [addr, addr + len) when
 * started, says so, then waits for its tracer's turn to end and reports
 * what it sees there through its exit code (CHILD_OK or a diagnostic).
 * The mapping itself is inherited from the parent (created before
 * tracee_start).
 */
struct tracee {
	struct child c;
	char *addr;
	size_t len;
	int prot;		/* set by the tracee before it says ready */
	const void *want;	/* what it must see after the tracer's turn; NULL: no check */
	bool want_exclusive;	/* the first page must then be exclusively its own */
	/* optional extra step the tracee runs at its turn, before checking */
	int (*step)(struct tracee *t);
	void *arg;
};

/* Fork the tracee and wait until it has set its protection. */
int tracee_start(struct tracee *t);
/* End the tracer's turn: the tracee checks; returns its exit code. */
int tracee_finish(struct tracee *t);
/* Teardown: kill and reap a tracee still running (after a failed step). */
void tracee_kill(struct tracee *t);

/*
 * Read or write len bytes at addr of tracee t through route a as the party
 * that uses it: its tracer, attached for the time of the access (and
 * checked to be in a ptrace stop), or for /proc/self/mem this process, whose
 * mapping is the tracee's (inherited at fork). The access's errno goes to
 * *err; -2 if attaching or detaching failed.
 */
ssize_t tracee_access(struct tracee *t, enum trace_route a, bool write,
		      volatile void *addr, void *buf, size_t len, int *err);

/*
 * Debian's gdb in batch mode attaches to pid and examines n 8-byte words
 * at addr ("x/Ngx"). Returns how many words it printed, -2 if there is no
 * gdb in $PATH, -1 if it could not be run.
 */
int gdb_examine(pid_t pid, const void *addr, uint64_t *words, int n);

/* ---- proc_mem.force_override ------------------------------------------- */

enum proc_mem_force {
	FORCE_ALWAYS,		/* every opener forces (also: kernel without the knob) */
	FORCE_PTRACE,		/* only the tracee's attached tracer forces */
	FORCE_NEVER,		/* nobody forces through /proc/PID/mem */
};

/*
 * The mode in effect: the command line's proc_mem.force_override=, else
 * the CONFIG_PROC_MEM_* choice, else a behaviour probe. how says which.
 */
enum proc_mem_force proc_mem_force_mode(char *how, size_t len);
const char *proc_mem_force_name(enum proc_mem_force f);
/* Does a /proc/PID/mem access by this opener force past protections? */
bool proc_mem_forces(enum proc_mem_force f, bool attached_tracer);

/* ---- results ------------------------------------------------------------ */

/*
 * Did a call that must fail with want_errno (ret < 0, err its errno) do so?
 * Did one that must transfer want bytes do so? On mismatch why says what
 * happened. The self-test switch (IOPIN_SELFTEST_FAULT=verify) inverts
 * both, so every test built on them can fail.
 */
bool errno_check(long ret, int err, int want_errno, char *why, size_t len);
bool count_check(long ret, int err, long want, char *why, size_t len);

#endif
