// SPDX-License-Identifier: GPL-2.0-only
/*
 * proc_mem.force_override (41e8149c8892, v6.12; backported to 6.1.y):
 * whether /proc/PID/mem accesses override the mapping's protection
 * (FOLL_FORCE). "always": everyone who may open the file; "ptrace": only
 * the tracee's attached tracer; "never": nobody. PTRACE_POKEDATA always
 * forces. The mode in effect is read from the command line, else the
 * kernel config, else probed; each test asserts that mode's behaviour.
 * make check boots the VM once per mode.
 */
#include "ptrace_access.h"

FIXTURE(force_override) {
	struct mem m;
	struct tracee t;
	enum proc_mem_force mode;
	char *want;
	char *data;
};

FIXTURE_VARIANT(force_override) {
	struct mem_type mem;
};

MEM_ANON_FILE_TYPES(MEM_VARIANT, force_override)
IOPIN_MEM_AXES(force_override);

FIXTURE_SETUP(force_override)
{
	char how[192];

	self->mode = proc_mem_force_mode(how, sizeof(how));
	ksft_print_msg("proc_mem.force_override=%s: %s\n",
		       proc_mem_force_name(self->mode), how);
	MEM_CREATE(&self->m, &variant->mem);
	self->want = malloc(self->m.size);
	self->data = malloc(page_size());
	ASSERT_NE(NULL, self->want);
	ASSERT_NE(NULL, self->data);
	pattern_fill(self->data, page_size(), 2);
}

FIXTURE_TEARDOWN(force_override)
{
	tracee_kill(&self->t);
	free(self->want);
	free(self->data);
	mem_destroy(&self->m);
}

/*
 * A tracee with the memory PROT_READ that, after a write that forces,
 * must see the new first page (its own copy), and else the original.
 */
static void tracee_expecting(struct tracee *t, struct mem *m, char *want,
			     const char *data, bool forced)
{
	memcpy(want, m->addr, m->size);
	if (forced)
		memcpy(want, data, page_size());
	*t = (struct tracee){ .addr = m->addr, .len = m->size, .prot = PROT_READ,
			      .want = want, .want_exclusive = forced };
}

/* In the tracer: check the write's outcome for the mode. */
#define ASSERT_WRITE_OUTCOME(ret, err, forced, what) do {		\
	if (forced)							\
		ASSERT_COUNT(ret, err, page_size(), what " (forces)");	\
	else								\
		ASSERT_ERRNO(ret, err, EIO, what " (does not force)");	\
} while (0)

IOPIN_TEST(force_override, tracer_write_forces_unless_never,
	   .guard = "41e8149c8892 v6.12 proc: add config & param to block forcing mem writes",
	   .needs = NEEDS_ROOT)
{
	bool forced = proc_mem_forces(self->mode, true);
	struct tracee *t = &self->t;
	ssize_t ret;
	int err;

	tracee_expecting(t, &self->m, self->want, self->data, forced);
	TRACEE_START(t, "r--p");
	ret = tracee_access(t, ROUTE_PROC_PID_MEM, true, t->addr, self->data, page_size(), &err);
	ACCESS_DONE(ret, err);
	ASSERT_WRITE_OUTCOME(ret, err, forced, "/proc/PID/mem write by the attached tracer");
	ASSERT_TRACEE_OK(t, "tracee after the tracer's write");
	ASSERT_ORIGINAL_UNCHANGED(&self->m, "original after the tracer's write");
}

IOPIN_TEST(force_override, non_tracer_write_forces_only_in_always,
	   .guard = "41e8149c8892 v6.12 proc: add config & param to block forcing mem writes",
	   .needs = NEEDS_ROOT)
{
	bool forced = proc_mem_forces(self->mode, false);
	struct tracee *t = &self->t;
	ssize_t ret;
	int err;

	tracee_expecting(t, &self->m, self->want, self->data, forced);
	TRACEE_START(t, "r--p");
	/* We may ptrace it (same user, its parent) but are not attached. */
	ASSERT_FALSE(trace_is_stopped(t->c.pid));
	ret = trace_write(ROUTE_PROC_PID_MEM, t->c.pid, t->addr, self->data, page_size());
	err = errno;
	ASSERT_WRITE_OUTCOME(ret, err, forced, "/proc/PID/mem write by a process not attached");
	ASSERT_TRACEE_OK(t, "tracee after the write");
	ASSERT_ORIGINAL_UNCHANGED(&self->m, "original after the write");
}

struct self_write {
	const char *data;
	bool forced;
};

/* The tracee's turn: write its own PROT_READ page through /proc/self/mem. */
static int write_own_mem(struct tracee *t)
{
	struct self_write *w = t->arg;
	ssize_t ret = trace_write(ROUTE_PROC_SELF_MEM, getpid(), t->addr,
				  w->data, page_size());
	int err = errno;
	char why[160];

	if (w->forced ? !count_check(ret, err, page_size(), why, sizeof(why)) :
			!errno_check(ret, err, EIO, why, sizeof(why)))
		return child_fail("/proc/self/mem write (%s): %s",
				  w->forced ? "forces" : "does not force", why);
	return CHILD_OK;
}

IOPIN_TEST(force_override, own_write_forces_only_in_always,
	   .guard = "41e8149c8892 v6.12 proc: add config & param to block forcing mem writes",
	   .needs = NEEDS_ROOT)
{
	struct self_write w = { self->data, proc_mem_forces(self->mode, false) };
	struct tracee *t = &self->t;

	tracee_expecting(t, &self->m, self->want, self->data, w.forced);
	t->step = write_own_mem;
	t->arg = &w;
	TRACEE_START(t, "r--p");
	ASSERT_TRACEE_OK(t, "tracee after writing its own /proc/self/mem");
	ASSERT_ORIGINAL_UNCHANGED(&self->m, "original after the tracee's own write");
}

IOPIN_TEST(force_override, tracer_read_of_prot_none_forces_unless_never,
	   .guard = "41e8149c8892 v6.12 proc: add config & param to block forcing mem writes",
	   .needs = NEEDS_ROOT)
{
	bool forced = proc_mem_forces(self->mode, true);
	struct tracee *t = &self->t;
	char *buf = self->want;
	ssize_t ret;
	int err;

	*t = (struct tracee){ .addr = self->m.addr, .len = self->m.size, .prot = PROT_NONE };
	TRACEE_START(t, "---p");
	ret = tracee_access(t, ROUTE_PROC_PID_MEM, false, t->addr, buf, page_size(), &err);
	ACCESS_DONE(ret, err);
	if (forced) {
		ASSERT_COUNT(ret, err, page_size(), "/proc/PID/mem read of PROT_NONE (forces)");
		ASSERT_BYTES(buf, self->m.addr, page_size(), "what the tracer read");
	} else {
		ASSERT_ERRNO(ret, err, EIO, "/proc/PID/mem read of PROT_NONE (does not force)");
	}
	ASSERT_TRACEE_OK(t, "tracee");
}

IOPIN_TEST(force_override, tracer_pokedata_forces_in_every_mode,
	   .guard = "41e8149c8892 v6.12 proc: add config & param to block forcing mem writes",
	   .needs = NEEDS_ROOT)
{
	struct tracee *t = &self->t;
	ssize_t ret;
	int err;

	tracee_expecting(t, &self->m, self->want, self->data, true);
	TRACEE_START(t, "r--p");
	ret = tracee_access(t, ROUTE_PTRACE_WORDS, true, t->addr, self->data, page_size(), &err);
	ACCESS_DONE(ret, err);
	ASSERT_COUNT(ret, err, page_size(), "PTRACE_POKEDATA to PROT_READ");
	ASSERT_TRACEE_OK(t, "tracee after POKEDATA");
	ASSERT_ORIGINAL_UNCHANGED(&self->m, "original after POKEDATA");
}

IOPIN_MAIN
