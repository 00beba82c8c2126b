// SPDX-License-Identifier: GPL-2.0-only
/*
 * THP collapse (MADV_COLLAPSE) and COW: collapsing before fork(), or after
 * it in the parent or in the child, with the range fully or partially
 * shared, must leave each process with its own data after writes.
 */
#include "iopin.h"

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE	25
#endif

enum when { BEFORE_FORK, IN_PARENT, IN_CHILD };

FIXTURE(collapse) {
	char *addr;
	size_t size;
};

FIXTURE_VARIANT(collapse) {
	enum when when;
	bool partial;		/* the child maps only the first half */
};

FIXTURE_VARIANT_ADD(collapse, before_fork) { .when = BEFORE_FORK };
FIXTURE_VARIANT_ADD(collapse, in_parent_fully_shared) { .when = IN_PARENT };
FIXTURE_VARIANT_ADD(collapse, in_parent_partially_shared) { .when = IN_PARENT, .partial = true };
FIXTURE_VARIANT_ADD(collapse, in_child_fully_shared) { .when = IN_CHILD };
FIXTURE_VARIANT_ADD(collapse, in_child_partially_shared) { .when = IN_CHILD, .partial = true };

/* Child exit code: this kernel refuses to collapse shared pages. */
#define CHILD_REFUSED	4
#define REFUSED_WHY	"kernel refuses MADV_COLLAPSE of pages shared with another process (EINVAL; 6.18 does collapse them)"

/* 0, or -errno of the last attempt (EAGAIN is retried). */
static int collapse(char *addr, size_t size)
{
	int tries;

	for (tries = 0; tries < 5; tries++)
		if (!madvise(addr, size, MADV_COLLAPSE))
			return 0;
		else if (errno != EAGAIN)
			break;
	return -errno;
}

FIXTURE_SETUP(collapse)
{
	char raw[16];

	/* Base pages first: no THP until we collapse. */
	self->size = thp_pmd_size();
	if (!self->size)
		SKIP(return, "kernel has no THP");
	if (geteuid())
		SKIP(return, "needs root to check THPs through /proc/kpageflags");
	if (sysfs_read_choice("/sys/kernel/mm/transparent_hugepage/enabled", raw,
			      sizeof(raw)) && !strcmp(raw, "never"))
		SKIP(return, "THP disabled (enabled=never): MADV_COLLAPSE refuses");
	self->addr = mmap(NULL, 2 * self->size, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->addr);
	self->addr = (char *)(((uintptr_t)self->addr + self->size - 1) &
			      ~(uintptr_t)(self->size - 1));
	ASSERT_EQ(0, madvise(self->addr, self->size, MADV_NOHUGEPAGE));
	pattern_fill(self->addr, self->size, 1);
	ASSERT_EQ(0, madvise(self->addr, self->size, MADV_HUGEPAGE));
	if (madvise(self->addr, page_size(), MADV_COLLAPSE) && errno == EINVAL)
		SKIP(return, "kernel lacks MADV_COLLAPSE (v6.1)");
}

FIXTURE_TEARDOWN(collapse)
{
}

struct collapse_case {
	char *addr;
	size_t size;
	enum when when;
	bool partial;
	bool child_writes;	/* else the parent writes */
};

/*
 * Child: drop the half it does not share, collapse if it is the one to,
 * then wait for the parent's turn (its collapse or write) before writing
 * or checking its own data, and stay alive while the parent checks.
 */
static int child_side(struct child *c, void *arg)
{
	struct collapse_case *cc = arg;
	size_t len = cc->partial ? cc->size / 2 : cc->size;
	char why[192];

	if (cc->partial && madvise(cc->addr + len, cc->size - len, MADV_DONTNEED))
		return child_fail("MADV_DONTNEED of the unshared half: %s", strerror(errno));
	if (cc->when == IN_CHILD) {
		int ret = collapse(cc->addr, cc->size);

		if (ret == -EINVAL)
			return CHILD_REFUSED;
		if (ret)
			return child_fail("MADV_COLLAPSE in child: %s", strerror(-ret));
		if (!range_is_one_thp(cc->addr, cc->size))
			return child_fail("child's range is no THP after MADV_COLLAPSE");
	}
	if (parent_go(c) || parent_await(c))
		return child_fail("parent went away");
	if (cc->child_writes)
		pattern_fill(cc->addr, len, 2);
	if (!pattern_check(cc->addr, len, cc->child_writes ? 2 : 1, why, sizeof(why)))
		return child_fail(cc->child_writes ? "child's own write: %s" :
				  "child's copy after the parent wrote: %s", why);
	parent_go(c);
	parent_await(c);
	return CHILD_OK;
}

static void run_case(struct __test_metadata *_metadata,
		     FIXTURE_DATA(collapse) *self,
		     const FIXTURE_VARIANT(collapse) *variant, bool child_writes)
{
	struct collapse_case cc = {
		self->addr, self->size, variant->when, variant->partial, child_writes,
	};
	struct child c;
	int ret;

	if (variant->when == BEFORE_FORK) {
		ret = collapse(self->addr, self->size);
		ASSERT_EQ(0, ret) TH_LOG("MADV_COLLAPSE: %s", strerror(-ret));
		ASSERT_TRUE(range_is_one_thp(self->addr, self->size));
	}
	ASSERT_EQ(0, child_start(&c, child_side, &cc));
	ASSERT_EQ(0, child_go(&c));
	/* The child has dropped its unshared half (and collapsed, if its turn). */
	if (child_await(&c)) {
		ret = child_wait(&c);
		if (ret == CHILD_REFUSED)
			SKIP(return, REFUSED_WHY);
		ASSERT_EQ(CHILD_OK, ret) TH_LOG("child failed before the write");
	}
	if (variant->when == IN_PARENT) {
		ret = collapse(self->addr, self->size);
		if (ret == -EINVAL) {
			child_wait(&c);
			SKIP(return, REFUSED_WHY);
		}
		ASSERT_EQ(0, ret) TH_LOG("MADV_COLLAPSE: %s", strerror(-ret));
		ASSERT_TRUE(range_is_one_thp(self->addr, self->size));
	}
	if (!child_writes)
		pattern_fill(self->addr, self->size, 2);
	/* The child writes or checks its copy now, while both map the range. */
	ASSERT_EQ(0, child_go(&c));
	ASSERT_EQ(0, child_await(&c)) TH_LOG("child failed: exit %d", child_wait(&c));
	ASSERT_PATTERN(self->addr, self->size, child_writes ? 1 : 2,
		       child_writes ? "parent's data after the child wrote" :
				      "parent's own write");
	ASSERT_EQ(0, child_go(&c));
	ASSERT_CHILD_OK(&c, "child");
}

IOPIN_TEST(collapse, child_keeps_its_copy_when_parent_writes,
	   .guard = "6c287605fd56 v5.19 mm: remember exclusively mapped anonymous pages with PG_anon_exclusive",
	   .needs = NEEDS_ROOT | NEEDS_THP)
{
	run_case(_metadata, self, variant, false);
}

IOPIN_TEST(collapse, parent_keeps_its_copy_when_child_writes,
	   .guard = "6c287605fd56 v5.19 mm: remember exclusively mapped anonymous pages with PG_anon_exclusive",
	   .needs = NEEDS_ROOT | NEEDS_THP)
{
	run_case(_metadata, self, variant, true);
}

IOPIN_MAIN
