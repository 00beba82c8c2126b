// SPDX-License-Identifier: GPL-2.0-only
/*
 * A debugger (a tracer attached to a stopped tracee) reads and writes the
 * tracee's normal memory with FOLL_FORCE, through /proc/PID/mem and
 * PTRACE_PEEKDATA/POKEDATA:
 * - a forced write to a PROT_READ MAP_PRIVATE page COWs it: the tracee
 *   gets its own copy, the file, the zeropage and the parent's copy never
 *   change;
 * - to a PROT_READ MAP_SHARED file page it fails (EIO): no COW possible;
 * - to private hugetlb it is refused from f347454d0341 (v6.2) to v6.14,
 *   which COWs it like any other private page;
 * - a forced read of a PROT_NONE page works;
 * - process_vm_readv/writev never force: EFAULT;
 * - Debian's gdb reads what the tracee maps.
 * /proc/self/mem on private file and zeropage mappings (Dirty COW) is in
 * cow/foll_force.
 */
#include <signal.h>
#include <sys/wait.h>

#include "ptrace_access.h"


/* A variant per memory type x access route: "memfd_proc_pid_mem". */
#define TYPE_X_ROUTE(id, backing, kb, layout, fix, rid, r)		\
	FIXTURE_VARIANT_ADD(fix, id##_##rid) {				\
		.mem = MEM_TYPE_INIT(id, backing, kb, layout),		\
		.route = r,						\
	};
#define ROUTE_X_TYPES(rid, r, rname, fix, TYPES) TYPES(TYPE_X_ROUTE, fix, rid, r)

/*
 * The memory is created here (the parent) and inherited by the tracee;
 * shared is a MAP_SHARED view of a file type's object, for fixtures that
 * need one.
 */
#define TRACE_FIXTURE(fix, TYPES, ROUTES)				\
	FIXTURE(fix) {							\
		struct mem m;						\
		struct tracee t;					\
		char *want;						\
		char *buf;						\
	};								\
	FIXTURE_VARIANT(fix) {						\
		struct mem_type mem;					\
		enum trace_route route;					\
	};								\
	ROUTES(ROUTE_X_TYPES, fix, TYPES)				\
	IOPIN_MEM_AXES(fix);						\
	FIXTURE_SETUP(fix)						\
	{								\
		MEM_CREATE(&self->m, &variant->mem);			\
		self->want = malloc(self->m.size);			\
		self->buf = malloc(self->m.size);			\
		ASSERT_NE(NULL, self->want);				\
		ASSERT_NE(NULL, self->buf);				\
	}								\
	FIXTURE_TEARDOWN(fix)						\
	{								\
		tracee_kill(&self->t);					\
		free(self->want);					\
		free(self->buf);					\
		mem_destroy(&self->m);					\
	}

/* ---- forced writes to PROT_READ private memory -------------------------- */

TRACE_FIXTURE(forced_write, MEM_FORCE_COW_TYPES, TRACER_ROUTES)

IOPIN_TEST(forced_write, gives_the_tracee_its_own_copy_and_changes_nothing_else,
	   .guard = "19be0eaffa3a v4.9 mm: remove gup_flags FOLL_WRITE games from __get_user_pages()",
	   .needs = NEEDS_ROOT | NEEDS_GDB)
{
	struct mem *m = &self->m;
	struct tracee *t = &self->t;
	size_t ps = page_size();
	ssize_t ret;
	int err;

	PROC_MEM_FORCE_NEEDED(variant->route, true);
	/* The first page becomes pattern 2, the rest stays as it is. */
	memcpy(self->want, m->addr, m->size);
	pattern_fill(self->want, ps, 2);
	*t = (struct tracee){ .addr = m->addr, .len = m->size, .prot = PROT_READ,
			      .want = self->want, .want_exclusive = true };
	TRACEE_START(t, "r--p");
	ret = tracee_access(t, variant->route, true, m->addr, self->want, ps, &err);
	ACCESS_DONE(ret, err);
	ASSERT_COUNT(ret, err, ps, "forced write by the tracer");
	ASSERT_TRACEE_OK(t, "tracee after the forced write");
	ASSERT_ORIGINAL_UNCHANGED(m, "original after the tracee's forced write");
}

/* ---- private hugetlb ----------------------------------------------------- */

/*
 * f347454d0341 (v6.2, also 6.1.y) refused forced writes to private hugetlb
 * rather than risk a broken COW; "mm/hugetlb: support FOLL_FORCE|FOLL_WRITE"
 * (Guillaume Morin, v6.14; its mainline hash is not named here: not found)
 * allows them again, with a proper COW, as 6.18 shows. Either way the
 * original must never change.
 */
TRACE_FIXTURE(forced_write_hugetlb, MEM_PRIVATE_HUGETLB_TYPES, TRACER_ROUTES)

IOPIN_TEST(forced_write_hugetlb, is_refused_before_v6_14_and_never_reaches_the_original,
	   .guard = "f347454d0341 v6.2 mm/gup: disallow FOLL_FORCE|FOLL_WRITE on hugetlb mappings",
	   .needs = NEEDS_ROOT)
{
	bool cows = kernel_version() >= KVER(6, 14, 0);
	struct mem *m = &self->m;
	struct tracee *t = &self->t;
	size_t ps = page_size();
	ssize_t ret;
	int err;

	PROC_MEM_FORCE_NEEDED(variant->route, true);
	memcpy(self->want, m->addr, m->size);
	pattern_fill(self->buf, ps, 2);
	if (cows)
		memcpy(self->want, self->buf, ps);
	*t = (struct tracee){ .addr = m->addr, .len = m->size, .prot = PROT_READ,
			      .want = self->want, .want_exclusive = cows };
	TRACEE_START(t, "r--p");
	ret = tracee_access(t, variant->route, true, m->addr, self->buf, ps, &err);
	ACCESS_DONE(ret, err);
	if (cows)
		ASSERT_COUNT(ret, err, ps, "forced write to private hugetlb (v6.14+: COW)");
	else
		ASSERT_ERRNO(ret, err, EIO, "forced write to private hugetlb (before v6.14: refused)");
	ASSERT_TRACEE_OK(t, "tracee after the forced write");
	ASSERT_ORIGINAL_UNCHANGED(m, "original after the forced write");
}

/* ---- PROT_READ MAP_SHARED: a forced write has nowhere to COW to --------- */

TRACE_FIXTURE(forced_write_shared, MEM_FILE_TYPES, TRACER_ROUTES)

IOPIN_TEST(forced_write_shared, fails_with_eio_and_the_file_is_unchanged,
	   .guard = "19be0eaffa3a v4.9 mm: remove gup_flags FOLL_WRITE games from __get_user_pages()",
	   .needs = NEEDS_ROOT)
{
	struct mem *m = &self->m;
	struct tracee *t = &self->t;
	char *shared;
	ssize_t ret;
	int err;

	PROC_MEM_FORCE_NEEDED(variant->route, true);
	shared = mmap(NULL, m->size, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);
	ASSERT_NE(MAP_FAILED, shared) TH_LOG("mmap shared: %s", strerror(errno));
	pattern_fill(self->want, m->size, 1);
	pattern_fill(self->buf, page_size(), 2);
	*t = (struct tracee){ .addr = shared, .len = m->size, .prot = PROT_READ,
			      .want = self->want };
	TRACEE_START(t, "r--s");
	ret = tracee_access(t, variant->route, true, shared, self->buf, page_size(), &err);
	ACCESS_DONE(ret, err);
	ASSERT_ERRNO(ret, err, EIO, "forced write to a PROT_READ MAP_SHARED page");
	ASSERT_TRACEE_OK(t, "tracee after the refused write");
	ASSERT_BACKING_UNCHANGED(m, "file after the refused write");
	munmap(shared, m->size);
}

/* ---- PROT_NONE private: a forced read works ------------------------------ */

TRACE_FIXTURE(forced_read_prot_none, MEM_FORCE_COW_TYPES, TRACER_ROUTES)

IOPIN_TEST(forced_read_prot_none, returns_the_data,
	   .guard = "19be0eaffa3a v4.9 mm: remove gup_flags FOLL_WRITE games from __get_user_pages()",
	   .needs = NEEDS_ROOT)
{
	struct mem *m = &self->m;
	struct tracee *t = &self->t;
	size_t ps = page_size();
	ssize_t ret;
	int err;

	PROC_MEM_FORCE_NEEDED(variant->route, true);
	*t = (struct tracee){ .addr = m->addr, .len = m->size, .prot = PROT_NONE };
	TRACEE_START(t, "---p");
	ret = tracee_access(t, variant->route, false, m->addr, self->buf, ps, &err);
	ACCESS_DONE(ret, err);
	ASSERT_COUNT(ret, err, ps, "forced read of a PROT_NONE page");
	/* Our own copy, shared with the tracee since fork. */
	ASSERT_BYTES(self->buf, m->addr, ps, "forced read of a PROT_NONE page");
	ASSERT_TRACEE_OK(t, "tracee");
}

/* ---- process_vm_readv/writev never force -------------------------------- */

TRACE_FIXTURE(process_vm, MEM_FORCE_COW_TYPES, TRACE_ROUTE_PROCESS_VM)

IOPIN_TEST(process_vm, writev_to_a_readonly_page_fails_with_efault,
	   .guard = "fcf634098c00 v3.2 Cross Memory Attach",
	   .needs = NEEDS_ROOT)
{
	struct mem *m = &self->m;
	struct tracee *t = &self->t;
	ssize_t ret;
	int err;

	memcpy(self->want, m->addr, m->size);
	pattern_fill(self->buf, page_size(), 2);
	*t = (struct tracee){ .addr = m->addr, .len = m->size, .prot = PROT_READ,
			      .want = self->want };
	TRACEE_START(t, "r--p");
	ret = trace_write(ROUTE_PROCESS_VM, t->c.pid, m->addr, self->buf, page_size());
	err = errno;
	ASSERT_ERRNO(ret, err, EFAULT, "process_vm_writev to PROT_READ");
	ASSERT_TRACEE_OK(t, "tracee after the refused write");
	ASSERT_ORIGINAL_UNCHANGED(m, "original after the refused write");
}

IOPIN_TEST(process_vm, readv_of_a_prot_none_page_fails_with_efault,
	   .guard = "fcf634098c00 v3.2 Cross Memory Attach",
	   .needs = NEEDS_ROOT)
{
	struct mem *m = &self->m;
	struct tracee *t = &self->t;
	ssize_t ret;
	int err;

	*t = (struct tracee){ .addr = m->addr, .len = m->size, .prot = PROT_NONE };
	TRACEE_START(t, "---p");
	ret = trace_read(ROUTE_PROCESS_VM, t->c.pid, m->addr, self->buf, page_size());
	err = errno;
	ASSERT_ERRNO(ret, err, EFAULT, "process_vm_readv of PROT_NONE");
	ASSERT_TRACEE_OK(t, "tracee");
}

/* ---- the debugger users run --------------------------------------------- */

/* The debugger users run reads through /proc/PID/mem: a variant named gdb. */
#define GDB_ROUTE(X, ...)	X(gdb, ROUTE_PROC_PID_MEM, "gdb", __VA_ARGS__)

TRACE_FIXTURE(debugger, MEM_ANON_FILE_TYPES, GDB_ROUTE)

IOPIN_TEST(debugger, gdb_examines_the_tracees_words,
	   .guard = "19be0eaffa3a v4.9 mm: remove gup_flags FOLL_WRITE games from __get_user_pages()",
	   .needs = NEEDS_ROOT)
{
	struct mem *m = &self->m;
	struct tracee *t = &self->t;
	uint64_t words[8];
	int n;

	*t = (struct tracee){ .addr = m->addr, .len = m->size, .prot = PROT_READ };
	TRACEE_START(t, "r--p");
	n = gdb_examine(t->c.pid, m->addr, words, 8);
	if (n == -2) {
		tracee_kill(t);
		SKIP(return, "no gdb in $PATH (Debian: apt-get install gdb)");
	}
	ASSERT_EQ(8, n) TH_LOG("gdb -batch -p %d -ex 'x/8gx %p' printed %d words",
			       t->c.pid, m->addr, n);
	ASSERT_BYTES(words, m->addr, sizeof(words), "what gdb shows");
	ASSERT_TRACEE_OK(t, "tracee after gdb detached");
}

IOPIN_MAIN
