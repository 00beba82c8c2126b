// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmsplice() leaks (CVE-2020-29374): a pipe holding references to pages
 * that were shared at fork() must keep the data they had when spliced,
 * whichever process writes later, for every kind of private anon memory.
 */
#include "iopin.h"

MEM_FIXTURE(vmsplice, MEM_ANON_TYPES)

/* Child: splice the shared pages, drop its mapping, read after the parent wrote. */
static int child_splices_and_unmaps(struct child *c, void *arg)
{
	struct mem *m = arg;
	struct pin p;
	char why[192], *buf;

	if (!range_is_populated(m->addr, m->size))
		return child_fail("fork() left the child's mapping of %s empty: nothing to splice",
				  m->type->name);
	if (pin_range(&p, PIN_VMSPLICE, m->addr, m->size))
		return child_fail("%s", p.why);
	if (munmap(m->addr, m->size))
		return child_fail("munmap: %s", strerror(errno));
	parent_go(c);
	parent_await(c);
	buf = malloc(p.len);
	if (!buf || pin_read(&p, buf))
		return child_fail("reading the pipe: %s", p.why);
	if (!pattern_check(buf, p.len, 1, why, sizeof(why)))
		return child_fail("the parent's later write leaked into the child's pipe: %s",
				  why);
	return CHILD_OK;
}

/* Child, started once the parent has unmapped: write its copy, now its alone. */
static int child_writes(struct child *c, void *arg)
{
	struct mem *m = arg;

	/* An empty copy would take a fresh page: no COW, nothing to leak. */
	if (!range_is_populated(m->addr, m->size))
		return child_fail("fork() left the child's mapping of %s empty",
				  m->type->name);
	pattern_fill(m->addr, m->size, 2);
	parent_go(c);
	return CHILD_OK;
}

IOPIN_TEST(vmsplice, parent_write_does_not_leak_into_child_pipe,
	   .guard = "CVE-2020-29374 (17839856fd58 v5.8, 09854ba94c6a v5.9)")
{
	struct mem *m = &self->m;
	struct child c;

	ASSERT_EQ(0, child_start(&c, child_splices_and_unmaps, m));
	ASSERT_EQ(0, child_go(&c));
	ASSERT_EQ(0, child_await(&c));
	pattern_fill(m->addr, m->size, 2);
	ASSERT_EQ(0, child_go(&c));
	ASSERT_CHILD_OK(&c, "child's pipe after the parent wrote");
}

IOPIN_TEST(vmsplice, child_write_does_not_leak_into_parent_pipe,
	   .guard = "CVE-2020-29374 (17839856fd58 v5.8, 09854ba94c6a v5.9)")
{
	struct mem *m = &self->m;
	struct child c;
	struct pin p;

	PIN_OK(&p, PIN_VMSPLICE, m->addr, m->size);
	ASSERT_EQ(0, child_start(&c, child_writes, m));
	/* The child must write as the only process mapping the pages. */
	MEM_UNMAP(m);
	ASSERT_EQ(0, child_go(&c));
	ASSERT_EQ(0, child_await(&c));
	ASSERT_CHILD_OK(&c, "child writer");
	ASSERT_PIN_SEES(&p, 1, "parent's pipe after the child wrote");
	pin_release(&p);
}

IOPIN_MAIN
