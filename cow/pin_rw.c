// SPDX-License-Identifier: GPL-2.0-only
/*
 * R/W long-term pins (io_uring fixed buffers) of private anonymous memory
 * must stay the pages the process writes to: after mprotect(R/O) and back
 * to R/W, and across fork() with the child alive or gone.
 */
#include "iopin.h"

FIXTURE(pin_rw) {
	struct mem m;
	struct pin p;
};

FIXTURE_VARIANT(pin_rw) {
	struct mem_type mem;
};

MEM_ANON_TYPES(MEM_VARIANT, pin_rw)
IOPIN_AXES(pin_rw, mem_type_needs(&variant->mem) | pin_needs(PIN_IO_URING),
	   pin_guard(PIN_IO_URING));

FIXTURE_SETUP(pin_rw)
{
	PIN_NEEDED(PIN_IO_URING);
	MEM_CREATE(&self->m, &variant->mem);
	PIN_OK(&self->p, PIN_IO_URING, self->m.addr, self->m.size);
}

FIXTURE_TEARDOWN(pin_rw)
{
	pin_release(&self->p);
	mem_destroy(&self->m);
}

/* Parked until the parent's go: shares the memory until then. */
static int child_lives(struct child *c, void *arg)
{
	(void)c;
	(void)arg;
	return CHILD_OK;
}

IOPIN_TEST(pin_rw, pin_sees_write_after_mprotect_readonly_and_back,
	   .guard = "6c287605fd56 v5.19 mm: remember exclusively mapped anonymous pages with PG_anon_exclusive")
{
	struct mem *m = &self->m;

	ASSERT_EQ(0, mprotect(m->addr, m->size, PROT_READ));
	ASSERT_EQ(0, mprotect(m->addr, m->size, PROT_READ | PROT_WRITE));
	pattern_fill(m->addr, m->size, 2);
	ASSERT_PIN_SEES(&self->p, 2, "fixed buffer after R/O->R/W and a write");
}

IOPIN_TEST(pin_rw, pin_sees_owner_write_while_child_shares,
	   .guard = "70e806e4e645 v5.9 mm: Do early cow for pinned pages during fork() for ptes")
{
	struct mem *m = &self->m;
	struct child c;

	ASSERT_EQ(0, child_start(&c, child_lives, NULL));
	pattern_fill(m->addr, m->size, 2);
	ASSERT_PIN_SEES(&self->p, 2, "fixed buffer after a write with the child alive");
	child_go(&c);
	ASSERT_CHILD_OK(&c, "child");
}

IOPIN_TEST(pin_rw, pin_sees_owner_write_after_child_exits,
	   .guard = "70e806e4e645 v5.9 mm: Do early cow for pinned pages during fork() for ptes")
{
	struct mem *m = &self->m;
	struct child c;

	ASSERT_EQ(0, child_start(&c, child_lives, NULL));
	child_go(&c);
	ASSERT_CHILD_OK(&c, "child");
	pattern_fill(m->addr, m->size, 2);
	ASSERT_PIN_SEES(&self->p, 2, "fixed buffer after the child exited and a write");
}

IOPIN_MAIN
