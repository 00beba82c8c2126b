// SPDX-License-Identifier: GPL-2.0-only
/*
 * COW after fork(): whoever writes first gets a copy, the other keeps the
 * data it had, for every kind of private anonymous memory. Also through
 * mprotect()'s R/O->R/W "map writable right away" shortcut, which must not
 * apply to pages that are still shared.
 */
#include "iopin.h"

MEM_FIXTURE(fork, MEM_ANON_TYPES)

/*
 * A write fault reuses a page marked exclusive without looking further:
 * fork() must clear the mark of every page it shares with the child.
 */
#define FORK_GUARD "6c287605fd56 v5.19 mm: remember exclusively mapped anonymous pages with PG_anon_exclusive"

struct writer {
	struct mem *m;
	bool reprotect;		/* mprotect(R/O) + mprotect(R/W) before writing */
};

static int write_new_data(struct writer *w)
{
	if (w->reprotect &&
	    (mprotect(w->m->addr, w->m->size, PROT_READ) ||
	     mprotect(w->m->addr, w->m->size, PROT_READ | PROT_WRITE)))
		return -1;
	pattern_fill(w->m->addr, w->m->size, 2);
	return 0;
}

/*
 * Child: right after fork() its copy is mapped (fork() copies the page
 * tables of private memory: an empty one would read zeroes later); once
 * the parent has written, it still holds the old data.
 */
static int child_keeps_old_data(struct child *c, void *arg)
{
	struct mem *m = arg;
	char why[192];

	if (!range_is_populated(m->addr, m->size))
		return child_fail("fork() left the child's mapping of %s empty (pagemap: neither present nor swapped)",
				  m->type->name);
	if (parent_go(c) || parent_await(c))
		return child_fail("parent went away");
	if (!pattern_check(m->addr, m->size, 1, why, sizeof(why)))
		return child_fail("child sees the parent's write: %s", why);
	return CHILD_OK;
}

/* Child: write, let the parent check, wait until it has. */
static int child_writes(struct child *c, void *arg)
{
	if (write_new_data(arg))
		return child_fail("mprotect: %s", strerror(errno));
	parent_go(c);
	parent_await(c);
	return CHILD_OK;
}

static void parent_writes(struct __test_metadata *_metadata, struct mem *m,
			  bool reprotect)
{
	struct writer w = { m, reprotect };
	struct child c;

	ASSERT_EQ(0, child_start(&c, child_keeps_old_data, m));
	ASSERT_EQ(0, child_go(&c));
	ASSERT_EQ(0, child_await(&c)) TH_LOG("child: exit %d", child_wait(&c));
	ASSERT_EQ(0, write_new_data(&w));
	ASSERT_PATTERN(m->addr, m->size, 2, "parent's own write");
	ASSERT_EQ(0, child_go(&c));
	ASSERT_CHILD_OK(&c, "child's copy after the parent wrote");
}

static void child_writes_first(struct __test_metadata *_metadata,
			       struct mem *m, bool reprotect)
{
	struct writer w = { m, reprotect };
	struct child c;

	ASSERT_EQ(0, child_start(&c, child_writes, &w));
	ASSERT_EQ(0, child_go(&c));
	ASSERT_EQ(0, child_await(&c));
	ASSERT_PATTERN(m->addr, m->size, 1, "parent's data after the child wrote");
	child_go(&c);
	ASSERT_CHILD_OK(&c, "child writer");
}

IOPIN_TEST(fork, child_keeps_its_copy_when_parent_writes,
	   .guard = FORK_GUARD)
{
	parent_writes(_metadata, &self->m, false);
}

IOPIN_TEST(fork, parent_keeps_its_copy_when_child_writes,
	   .guard = FORK_GUARD)
{
	child_writes_first(_metadata, &self->m, false);
}

IOPIN_TEST(fork, child_keeps_its_copy_when_parent_reprotects_and_writes,
	   .guard = "64fe24a3e05e v6.0 mm/mprotect: try avoiding write faults for exclusive anonymous pages when changing protection")
{
	parent_writes(_metadata, &self->m, true);
}

IOPIN_TEST(fork, parent_keeps_its_copy_when_child_reprotects_and_writes,
	   .guard = "64fe24a3e05e v6.0 mm/mprotect: try avoiding write faults for exclusive anonymous pages when changing protection")
{
	child_writes_first(_metadata, &self->m, true);
}

IOPIN_MAIN
