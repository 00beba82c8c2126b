// SPDX-License-Identifier: GPL-2.0-only
/*
 * A R/O long-term pin is a read: it must not act like a write on the
 * process's page tables. Drivers took their R/O pins with
 * FOLL_FORCE|FOLL_WRITE until v6.2 (RDMA: b40656aa7d55), which write-faults
 * the pages: soft-dirty bits get set after clear_refs, and a userfaultfd
 * write-protected range gets write-protect faults it never asked for.
 * (The third effect, a PROT_READ MAP_SHARED file that such a pin refused
 * with EFAULT, is a case of gup_longterm/rules.)
 *
 * Axes: private anon base page and PMD THP x every R/O long-term backend.
 */
#include "iopin.h"

FIXTURE(ro_effects) {
	struct mem m;
};

FIXTURE_VARIANT(ro_effects) {
	struct mem_type mem;
	enum pin_id pin;
};

PIN_RO_LONGTERM_BACKENDS(MEM_BY_PIN, MEM_PTE_PMD_TYPES, ro_effects)
PIN_RO_LONGTERM_DEVICE_BACKENDS(MEM_BY_PIN, MEM_PTE_PMD_TYPES, ro_effects)
IOPIN_MEM_PIN_RO_AXES(ro_effects);

FIXTURE_SETUP(ro_effects)
{
	PIN_NEEDED(variant->pin);
	MEM_CREATE(&self->m, &variant->mem);
}

FIXTURE_TEARDOWN(ro_effects)
{
	mem_destroy(&self->m);
}

/* Pages of [addr, addr+len) whose soft-dirty bit is set. */
static size_t soft_dirty_pages(const char *addr, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i += page_size())
		n += !!(pagemap_entry(addr + i) & PM_SOFT_DIRTY);
	return n;
}

IOPIN_TEST(ro_effects, ro_pin_leaves_soft_dirty_bits_clear,
	   .guard = "b40656aa7d55 v6.2 RDMA/umem: remove FOLL_FORCE usage")
{
	struct mem *m = &self->m;
	struct pin p;

	/* The control: a write sets soft-dirty here (CONFIG_MEM_SOFT_DIRTY). */
	ASSERT_EQ(0, clear_soft_dirty());
	pattern_fill(m->addr, m->size, 1);
	if (!soft_dirty_pages(m->addr, m->size))
		SKIP(return, "no soft-dirty tracking (needs CONFIG_MEM_SOFT_DIRTY)");
	ASSERT_EQ(0, clear_soft_dirty());
	ASSERT_EQ(0, soft_dirty_pages(m->addr, m->size))
		TH_LOG("clear_refs left soft-dirty bits set");

	PIN_OK(&p, variant->pin, m->addr, m->size);
	EXPECT_EQ(0, soft_dirty_pages(m->addr, m->size))
		TH_LOG("the R/O pin set soft-dirty bits: it write-faulted (FOLL_FORCE|FOLL_WRITE)");
	ASSERT_PIN_SEES(&p, 1, "R/O pin");
	pin_release(&p);
}

IOPIN_TEST(ro_effects, ro_pin_takes_no_uffd_wp_fault,
	   .guard = "b40656aa7d55 v6.2 RDMA/umem: remove FOLL_FORCE usage",
	   .needs = NEEDS_USERFAULTFD)
{
	struct mem *m = &self->m;
	struct uffd_wp u;
	struct pin p;
	char why[256];
	int faults, rc;

	if (uffd_wp_arm(&u, m->addr, m->size, why, sizeof(why)) != MEM_OK)
		SKIP(return, "%s", why);
	rc = pin_range(&p, variant->pin, m->addr, m->size);
	faults = uffd_wp_disarm(&u);
	if (rc && p.limited)
		SKIP(return, "%s", p.why);
	/*
	 * A pin that writes may be refused here instead: 6.1's slow path of
	 * pin_user_pages_fast(FOLL_LONGTERM) holds mmap_lock and cannot wait
	 * for the userfaultfd (__gup_longterm_unlocked()), so the V4L2 frame
	 * vector's forced write fails with EFAULT (6.1.192) before any fault
	 * reaches the handler.
	 */
	ASSERT_EQ(0, rc) TH_LOG("%s: the R/O pin of a write-protected range was refused%s", p.why,
				rc == -EFAULT ? ": it write-faults (FOLL_FORCE|FOLL_WRITE)" : "");
	EXPECT_EQ(0, faults)
		TH_LOG("the R/O pin took %d userfaultfd write-protect faults (FOLL_FORCE|FOLL_WRITE)",
		       faults);
	ASSERT_PIN_SEES(&p, 1, "R/O pin of a write-protected range");
	pin_release(&p);
}

IOPIN_MAIN
