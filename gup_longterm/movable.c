// SPDX-License-Identifier: GPL-2.0-only
/*
 * A long-term pin must not keep a page in ZONE_MOVABLE (it would block
 * memory hot-unplug): the kernel migrates the page out first. The process
 * must not notice: the data is intact, its mapping now maps the new page,
 * and the pin sees the process's later writes. Needs a ZONE_MOVABLE with
 * memory (kernel command line movablecore= or movable_node).
 *
 * Axes: private anon base page x every long-term backend.
 */
#include "iopin.h"

FIXTURE(movable) {
	struct mem m;
};

FIXTURE_VARIANT(movable) {
	struct mem_type mem;
	enum pin_id pin;
};

PIN_LONGTERM_ALL_BACKENDS(MEM_BY_PIN, MEM_T_ANON, movable)
IOPIN_MEM_PIN_AXES(movable);

FIXTURE_SETUP(movable)
{
	const char *zone;
	int tries;

	PIN_NEEDED(variant->pin);
	if (geteuid())
		SKIP(return, "needs root to read page frame numbers");
	if (zone_movable_pages() <= 0)
		SKIP(return, "no ZONE_MOVABLE with memory (boot with movablecore= or movable_node)");
	/* Movable allocations prefer ZONE_MOVABLE; a few tries find one there. */
	for (tries = 0; tries < 16; tries++) {
		MEM_CREATE(&self->m, &variant->mem);
		zone = pfn_zone(pagemap_pfn(self->m.addr), NULL);
		if (zone && !strcmp(zone, "Movable"))
			return;
		mem_destroy(&self->m);
	}
	SKIP(return, "the kernel placed no fresh anon page in ZONE_MOVABLE (%ld pages) in %d tries",
	     zone_movable_pages(), tries);
}

FIXTURE_TEARDOWN(movable)
{
	mem_destroy(&self->m);
}

IOPIN_TEST(movable, pin_migrates_the_page_out_of_zone_movable,
	   .guard = "d1e153fea2a8 v5.13 mm/gup: migrate pinned pages out of movable zone",
	   .needs = NEEDS_ROOT | NEEDS_ZONE_MOVABLE)
{
	struct mem *m = &self->m;
	uint64_t before = pagemap_pfn(m->addr), after;
	const char *zone;
	struct pin p;

	PIN_OK(&p, variant->pin, m->addr, m->size);
	after = pagemap_pfn(m->addr);
	zone = pfn_zone(after, NULL);
	ksft_print_msg("pfn %#llx (Movable) -> %#llx (%s)\n", (unsigned long long)before,
		       (unsigned long long)after, zone ?: "?");
	EXPECT_NE(before, after) TH_LOG("the pinned page stayed where it was");
	ASSERT_NE(NULL, zone) TH_LOG("pfn %#llx is in no zone", (unsigned long long)after);
	EXPECT_STRNE("Movable", zone) TH_LOG("the pinned page is still in ZONE_MOVABLE");
	ASSERT_PATTERN(m->addr, m->size, 1, "data after the migration");
	ASSERT_PIN_SEES(&p, 1, "pin after the migration");
	pattern_fill(m->addr, m->size, 2);
	ASSERT_PIN_SEES(&p, 2, "pin after the process wrote");
	pin_release(&p);
}

IOPIN_MAIN
