/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Child processes that take turns with their parent: each side can wait
 * for the other's "your turn". A child never acts on its own: it is
 * parked from fork() until the parent's first child_go(), so whatever the
 * parent does before that (unmap, write, pin) is done and checked before
 * the child's first step. Children never use the harness's ASSERTs (they
 * would unwind into the harness's own fork logic): they return an exit
 * code and print their reason as a KTAP diagnostic.
 */
#ifndef IOPIN_TASK_H
#define IOPIN_TASK_H

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

struct child {
	pid_t pid;
	int to_child[2];
	int to_parent[2];
};

/* Exit codes of a child function. */
#define CHILD_OK	0
#define CHILD_FAIL	1
#define CHILD_NOT_STARTED 3	/* the parent never said go */

typedef int (*child_fn)(struct child *c, void *arg);

/*
 * Fork a child that shares the parent's memory as of now. It waits for the
 * first child_go(), then runs fn(c, arg) and exits with its result.
 */
int child_start(struct child *c, child_fn fn, void *arg);
/* Parent: let the child (start or) go on / wait until the child says so. */
int child_go(struct child *c);
int child_await(struct child *c);
/* Child: wait for the parent / let the parent go on. */
int parent_await(struct child *c);
int parent_go(struct child *c);
/* Parent: reap; returns the exit code, 128+signal when killed. */
int child_wait(struct child *c);

/* For child functions: print why and return CHILD_FAIL. */
int child_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* How long a race runs at least: IOPIN_RACE_MS (run_tests.sh checks it), else 300. */
long race_ms(void);
/* Milliseconds since *t0 (CLOCK_MONOTONIC). */
long ms_since(const struct timespec *t0);

/* Does this process have capability cap (CAP_* number) in its effective set? */
bool proc_has_cap(int cap);

#endif
