// SPDX-License-Identifier: GPL-2.0-only
/*
 * FOLL_FORCE writes (what a debugger does through /proc/pid/mem) to a
 * PROT_READ MAP_PRIVATE mapping must COW: the process sees the new data,
 * the file and the (huge) zeropage never do, even when racing with
 * MADV_DONTNEED (Dirty COW, CVE-2016-5195; huge zero page,
 * CVE-2017-1000405).
 */
#include <pthread.h>
#include <time.h>

#include "iopin.h"
#include "trace.h"

/* Forced writes each race needs before it may stop. */
#define RACE_MIN_WRITES	100

FIXTURE(foll_force) {
	struct mem m;
	int mem_fd;
};

FIXTURE_VARIANT(foll_force) {
	struct mem_type mem;
};

MEM_FILE_TYPES(MEM_VARIANT, foll_force)
MEM_ZERO_TYPES(MEM_VARIANT, foll_force)
IOPIN_MEM_AXES(foll_force);

/* Is FOLL_FORCE through /proc/pid/mem allowed for us on this kernel? */
static const char *proc_mem_forbidden(void)
{
	static char why[256];
	char how[160];
	enum proc_mem_force f = proc_mem_force_mode(how, sizeof(how));

	/* A process writing its own /proc/self/mem is no attached tracer. */
	if (proc_mem_forces(f, false))
		return NULL;
	snprintf(why, sizeof(why),
		 "proc_mem.force_override=%s (%s) forbids FOLL_FORCE through /proc/self/mem",
		 proc_mem_force_name(f), how);
	return why;
}

FIXTURE_SETUP(foll_force)
{
	const char *why = proc_mem_forbidden();

	if (why)
		SKIP(return, "%s", why);
	MEM_CREATE(&self->m, &variant->mem);
	ASSERT_EQ(0, mprotect(self->m.addr, self->m.size, PROT_READ));
	self->mem_fd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->mem_fd);
}

FIXTURE_TEARDOWN(foll_force)
{
	close(self->mem_fd);
	mem_destroy(&self->m);
}

IOPIN_TEST(foll_force, proc_mem_write_cows_readonly_private_page,
	   .guard = "19be0eaffa3a v4.9 mm: remove gup_flags FOLL_WRITE games from __get_user_pages()",
	   .needs = NEEDS_ROOT)
{
	struct mem *m = &self->m;
	char *buf = malloc(m->size);

	ASSERT_NE(NULL, buf);
	pattern_fill(buf, m->size, 2);
	ASSERT_EQ((ssize_t)m->size,
		  pwrite(self->mem_fd, buf, m->size, (uintptr_t)m->addr))
		TH_LOG("write to /proc/self/mem: %s", strerror(errno));
	ASSERT_PATTERN(m->addr, m->size, 2, "private mapping after the FOLL_FORCE write");
	EXPECT_TRUE(pagemap_entry(m->addr) & PM_EXCLUSIVE)
		TH_LOG("written page is not an exclusive anon page (no COW?)");
	ASSERT_BACKING_UNCHANGED(m, "backing after a FOLL_FORCE write to a private mapping");
	free(buf);
}

struct race {
	struct mem *m;
	int mem_fd;
	volatile bool stop;
	volatile long writes;
};

static void *discard_loop(void *arg)
{
	struct race *r = arg;

	while (!r->stop)
		madvise(r->m->addr, r->m->size, MADV_DONTNEED);
	return NULL;
}

static void *force_write_loop(void *arg)
{
	struct race *r = arg;
	char byte = 0x5a;

	while (!r->stop) {
		/* One byte per page, all over the range. */
		size_t off = (r->writes * page_size()) % r->m->size;

		if (pwrite(r->mem_fd, &byte, 1, (uintptr_t)r->m->addr + off) == 1)
			r->writes++;
	}
	return NULL;
}

static void run_race(struct __test_metadata *_metadata, struct mem *m,
		     int mem_fd)
{
	struct race r = { .m = m, .mem_fd = mem_fd };
	struct timespec slice = { 0, 10 * 1000000 };
	pthread_t writer, discarder;
	long ms;

	ASSERT_EQ(0, pthread_create(&writer, NULL, force_write_loop, &r));
	ASSERT_EQ(0, pthread_create(&discarder, NULL, discard_loop, &r));
	/*
	 * Race for IOPIN_RACE_MS and until RACE_MIN_WRITES forced writes went
	 * through, however slow the machine (load, sanitizers), at most ten
	 * times as long: the verdict must not depend on the load.
	 */
	for (ms = 0; ms < 10 * race_ms(); ms += 10) {
		if (ms >= race_ms() && r.writes >= RACE_MIN_WRITES)
			break;
		nanosleep(&slice, NULL);
	}
	r.stop = true;
	pthread_join(writer, NULL);
	pthread_join(discarder, NULL);
	ASSERT_LT(0, r.writes) TH_LOG("no FOLL_FORCE write went through");
	ASSERT_BACKING_UNCHANGED(m, "backing after racing FOLL_FORCE writes with MADV_DONTNEED");
}

IOPIN_TEST(foll_force, dirty_cow_race_leaves_backing_unchanged,
	   .guard = "CVE-2016-5195 (19be0eaffa3a v4.9); CVE-2017-1000405 for huge_zeropage (a8f97366452e v4.15)",
	   .needs = NEEDS_ROOT)
{
	run_race(_metadata, &self->m, self->mem_fd);
}

IOPIN_MAIN
