// SPDX-License-Identifier: GPL-2.0-only
/*
 * COW of memory that is not private anon yet: writing a MAP_PRIVATE
 * mapping must give the writer a private copy and never change the file,
 * the (huge) zeropage, or another mapping of the same object.
 *
 * No pin here: this is the control for cow/pin_ro's non-anonymous cases,
 * through the fault path (write or unshare of a non-anonymous page in a
 * COW mapping) that 8d6a0ac09a16 reworked. Undoing that fix only shows
 * with a R/O pin (mutants/ro-pin-nonanon.patch, caught by cow/pin_ro).
 */
#include "iopin.h"

MEM_FIXTURE(nonanon, MEM_NONANON_TYPES)

IOPIN_TEST(nonanon, private_write_leaves_backing_unchanged,
	   .guard = "8d6a0ac09a16 v6.2 mm: extend FAULT_FLAG_UNSHARE support to anything in a COW mapping")
{
	struct mem *m = &self->m;

	pattern_fill(m->addr, m->size, 2);
	ASSERT_PATTERN(m->addr, m->size, 2, "private mapping after the write");
	ASSERT_BACKING_UNCHANGED(m, "backing seen elsewhere after a private write");
}

IOPIN_TEST(nonanon, private_write_in_child_leaves_parent_and_backing_unchanged,
	   .guard = "8d6a0ac09a16 v6.2 mm: extend FAULT_FLAG_UNSHARE support to anything in a COW mapping")
{
	struct mem *m = &self->m;
	uint8_t seed = mem_is_zero(m->type) ? 0 : 1;
	pid_t pid;
	int status;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		pattern_fill(m->addr, m->size, 2);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, status);
	ASSERT_PATTERN(m->addr, m->size, seed, "parent's private mapping after the child wrote");
	ASSERT_BACKING_UNCHANGED(m, "backing after the child's private write");
}

IOPIN_MAIN
