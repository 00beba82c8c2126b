// SPDX-License-Identifier: GPL-2.0-only
/*
 * A userspace mapping of a PCI BAR must stop working when a driver claims
 * the range: /dev/mem since v5.8, sysfs resourceN(_wc) and procfs
 * /proc/bus/pci since v5.12 share the iomem address_space, which
 * __request_region() zaps (revoke_iomem, IO_STRICT_DEVMEM). The next access
 * gets SIGBUS BUS_ADRERR at the address while the VMA stays; releasing the
 * range does not bring the old mapping back; a new mmap is refused while
 * the range is claimed. Every copy is revoked: a fork()ed child's, a
 * mapping moved or shrunk with mremap(), the rest after a partial munmap().
 *
 * Axis: mapping route (/dev/mem, sysfs resourceN, resourceN_wc, procfs).
 * Device: a BAR a driver claims on bind (VM: the modern BAR of a virtio-blk
 * of its own, which virtio-pci requests); each test starts with it unbound
 * (journaled).
 */
#include "iopin.h"

#include <sys/mman.h>

#define REVOKE_GUARD IOMEM_GUARD_SYSFS "; " IOMEM_GUARD_DEVMEM
#define REVOKE_NEEDS (NEEDS_PCI_DEVICE | NEEDS_IOMEM_STRICT | NEEDS_DESTRUCTIVE)

FIXTURE(revoke) {
	struct iomem_dev d;
	int bar;
	char driver[64];	/* the driver that claims the BAR */
	struct iomem_map m;
	size_t len;		/* mapped from the start of the page holding reg */
	size_t reg_off;		/* offset of the probed register in the mapping */
	bool scratch;		/* reg reads back what is written (iomem_claim_regs) */
};

IOMEM_ROUTE_VARIANTS(revoke, IOMEM_ROUTES)


static volatile uint32_t *reg_at(FIXTURE_DATA(revoke) *self, volatile void *base)
{
	return (volatile uint32_t *)((volatile char *)base + self->reg_off);
}

/* The mapping reaches the device: a register round trip, or at least a read. */
#define ASSERT_REACHABLE(self, base, what) do {				\
	volatile uint32_t *_r = reg_at(self, base);			\
	if ((self)->scratch) {						\
		ASSERT_WRITE_OK(_r, 1, what);				\
		ASSERT_READ_OK(_r, 1, false, what);			\
		ASSERT_WRITE_OK(_r, 0, what);				\
	} else {							\
		ASSERT_READ_OK(_r, 0, true, what);			\
	}								\
} while (0)

FIXTURE_SETUP(revoke)
{
	struct iomem_claim_regs regs;
	uint64_t off = 0, map_off;
	char why[320];

	IOMEM_PICK(IOMEM_ROLE_CLAIMABLE, &self->d, &self->bar);
	IOMEM_ROUTE_NEEDED(&variant->route, &self->d, self->bar);
	/* Without a description: a read of the BAR's first word. */
	self->scratch = !iomem_claim_regs(&self->d, self->bar, &regs, why, sizeof(why));
	if (self->scratch)
		off = regs.scratch;
	map_off = off & ~(uint64_t)(page_size() - 1);
	self->reg_off = off - map_off;
	self->len = self->d.bar[self->bar].size - map_off;
	if (self->len > 4 * page_size())
		self->len = 4 * page_size();
	snprintf(self->driver, sizeof(self->driver), "%s", self->d.driver);
	ksft_print_msg("%s BAR%d 0x%llx+0x%llx, claimed by %s; route %s (%s)\n",
		       self->d.bdf, self->bar,
		       (unsigned long long)self->d.bar[self->bar].addr,
		       (unsigned long long)self->d.bar[self->bar].size, self->driver,
		       variant->route.name, variant->route.guard);
	IOMEM_UNBIND_OK(&self->d);
	ASSERT_CLAIMED(&self->d, self->bar, false);
	IOMEM_MAP_OK(&self->m, &variant->route, &self->d, self->bar, map_off, self->len);
	ASSERT_REACHABLE(self, self->m.addr, "before the claim");
}

FIXTURE_TEARDOWN(revoke)
{
	iomem_unmap(&self->m);
	kstate_restore();
}

IOPIN_TEST(revoke, access_after_a_driver_claims_the_bar_gets_sigbus,
	   .guard = REVOKE_GUARD, .needs = REVOKE_NEEDS)
{
	IOMEM_BIND_OK(&self->d, self->driver);
	ASSERT_CLAIMED(&self->d, self->bar, true);
	ASSERT_READ_SIGBUS(reg_at(self, self->m.addr), "read after the claim");
}

IOPIN_TEST(revoke, release_does_not_revive_the_old_mapping,
	   .guard = REVOKE_GUARD, .needs = REVOKE_NEEDS)
{
	IOMEM_BIND_OK(&self->d, self->driver);
	IOMEM_UNBIND_OK(&self->d);
	ASSERT_CLAIMED(&self->d, self->bar, false);
	ASSERT_READ_SIGBUS(reg_at(self, self->m.addr), "read after claim and release");
}

IOPIN_TEST(revoke, new_mmap_is_refused_while_claimed_and_works_after_release,
	   .guard = REVOKE_GUARD, .needs = REVOKE_NEEDS)
{
	uint64_t map_off = self->m.phys - self->d.bar[self->bar].addr;
	struct iomem_map again;

	IOMEM_BIND_OK(&self->d, self->driver);
	ASSERT_MAP_ERRNO(variant->route.busy_errno, &variant->route, &self->d,
			 self->bar, map_off, self->len, MAP_SHARED);
	IOMEM_UNBIND_OK(&self->d);
	IOMEM_MAP_OK(&again, &variant->route, &self->d, self->bar, map_off, self->len);
	ASSERT_REACHABLE(self, again.addr, "new mapping after the release");
	iomem_unmap(&again);
}

static int child_sees_revocation(struct child *c, void *arg)
{
	volatile uint32_t *reg = arg;
	struct iomem_access a;
	char why[160];

	a = iomem_read32(reg);
	if (!iomem_check_ok(&a, 0, true, why, sizeof(why)))
		return child_fail("before the claim: %s", why);
	parent_go(c);
	parent_await(c);
	a = iomem_read32(reg);
	if (!iomem_check_sigbus(&a, reg, why, sizeof(why)))
		return child_fail("after the claim: %s", why);
	return CHILD_OK;
}

IOPIN_TEST(revoke, forked_childs_copy_is_revoked_too,
	   .guard = REVOKE_GUARD, .needs = REVOKE_NEEDS)
{
	struct child c;

	ASSERT_EQ(0, child_start(&c, child_sees_revocation,
				 (void *)reg_at(self, self->m.addr)));
	child_go(&c);
	ASSERT_EQ(0, child_await(&c)) TH_LOG("child died before the claim");
	IOMEM_BIND_OK(&self->d, self->driver);
	child_go(&c);
	ASSERT_CHILD_OK(&c, "child reading its copy after the claim");
	ASSERT_READ_SIGBUS(reg_at(self, self->m.addr), "parent read after the claim");
}

IOPIN_TEST(revoke, mapping_moved_or_shrunk_by_mremap_is_revoked,
	   .guard = REVOKE_GUARD, .needs = REVOKE_NEEDS)
{
	size_t ps = page_size(), half = self->len / 2;
	void *target, *moved;

	if (self->len < 2 * ps)
		SKIP(return, "BAR too small to shrink a mapping of it");
	/* Growing a PFN mapping is refused. */
	ASSERT_EQ(MAP_FAILED, mremap((void *)self->m.addr, self->len, 2 * self->len,
				     MREMAP_MAYMOVE));
	/* Shrink in place, then move what is left. */
	ASSERT_EQ((void *)self->m.addr, mremap((void *)self->m.addr, self->len, half, 0));
	self->m.len = half;
	target = mmap(NULL, half, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, target);
	moved = mremap((void *)self->m.addr, half, half, MREMAP_MAYMOVE | MREMAP_FIXED,
		       target);
	ASSERT_EQ(target, moved) TH_LOG("mremap move: %s", strerror(errno));
	self->m.addr = moved;
	ASSERT_REACHABLE(self, moved, "moved mapping before the claim");
	IOMEM_BIND_OK(&self->d, self->driver);
	ASSERT_READ_SIGBUS(reg_at(self, moved), "moved mapping after the claim");
}

IOPIN_TEST(revoke, rest_of_a_partially_unmapped_mapping_is_revoked,
	   .guard = REVOKE_GUARD, .needs = REVOKE_NEEDS)
{
	size_t ps = page_size();

	if (self->len < 2 * ps)
		SKIP(return, "BAR too small to unmap part of a mapping of it");
	/* Drop everything after the page that holds the register. */
	ASSERT_EQ(0, munmap((char *)self->m.addr + ps, self->len - ps));
	self->m.len = ps;
	ASSERT_FALSE(iomem_vma_present((char *)self->m.addr + ps, 4));
	ASSERT_REACHABLE(self, self->m.addr, "rest before the claim");
	IOMEM_BIND_OK(&self->d, self->driver);
	ASSERT_READ_SIGBUS(reg_at(self, self->m.addr), "rest after the claim");
}

IOPIN_MAIN
