// SPDX-License-Identifier: GPL-2.0-only
/*
 * COW of memory that is not private anon yet: writing a MAP_PRIVATE
 * mapping must give the writer a private copy and never change the file,
 * the (huge) zeropage, or another mapping of the same object.
 */
#include "iopin.h"

MEM_FIXTURE(nonanon, MEM_NONANON_TYPES)

/* What a write to the private mapping must not change, and its content. */
static char *untouched_view(struct mem *m, size_t *len, uint8_t *seed)
{
	if (mem_is_zero(m->type)) {
		*seed = 0;
		return mem_map_fresh_zero(m, len);
	}
	*seed = 1;
	*len = m->size;
	return mem_map_shared_view(m);
}

IOPIN_TEST(nonanon, private_write_leaves_backing_unchanged,
	   .guard = "8d6a0ac09a16 v6.2 mm: extend FAULT_FLAG_UNSHARE support to anything in a COW mapping")
{
	struct mem *m = &self->m;
	uint8_t seed;
	size_t len;
	char *view;

	pattern_fill(m->addr, m->size, 2);
	EXPECT_PATTERN(m->addr, m->size, 2, "private mapping after the write");
	view = untouched_view(m, &len, &seed);
	ASSERT_NE(NULL, view);
	EXPECT_PATTERN(view, len, seed, "backing seen elsewhere after a private write");
	munmap(view, len);
}

IOPIN_TEST(nonanon, private_write_in_child_leaves_parent_and_backing_unchanged,
	   .guard = "8d6a0ac09a16 v6.2 mm: extend FAULT_FLAG_UNSHARE support to anything in a COW mapping")
{
	struct mem *m = &self->m;
	uint8_t seed;
	size_t len;
	char *view;
	pid_t pid;
	int status;

	view = untouched_view(m, &len, &seed);
	ASSERT_NE(NULL, view);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		pattern_fill(m->addr, m->size, 2);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, status);
	EXPECT_PATTERN(m->addr, m->size, seed, "parent's private mapping after the child wrote");
	EXPECT_PATTERN(view, len, seed, "backing after the child's private write");
	munmap(view, len);
}

IOPIN_MAIN
