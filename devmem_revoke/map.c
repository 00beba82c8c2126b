// SPDX-License-Identifier: GPL-2.0-only
/*
 * Mapping a PCI BAR from userspace, by every route: a BAR no driver owns
 * maps and shows what the device holds (the VM's ivshmem BAR2: the host's
 * pattern), and a write through the mapping reaches the device memory (a
 * second, independent mapping sees it). A BAR a driver has claimed is
 * refused: EPERM from /dev/mem (IO_STRICT_DEVMEM), EINVAL from sysfs and,
 * since v5.12, from procfs.
 *
 * Axis: mapping route (/dev/mem, sysfs resourceN, resourceN_wc, procfs).
 */
#include "iopin.h"

#include <sys/mman.h>

FIXTURE(free_bar) {
	struct iomem_dev d;
	int bar;
	struct iomem_map m;
};

IOMEM_ROUTE_VARIANTS(free_bar, IOMEM_ROUTES)

FIXTURE(busy_bar) {
	struct iomem_dev d;
	int bar;
};

IOMEM_ROUTE_VARIANTS(busy_bar, IOMEM_ROUTES)


FIXTURE_SETUP(free_bar)
{
	IOMEM_PICK(IOMEM_ROLE_PATTERN, &self->d, &self->bar);
	IOMEM_ROUTE_NEEDED(&variant->route, &self->d, self->bar);
	ASSERT_CLAIMED(&self->d, self->bar, false);
	IOMEM_MAP_OK(&self->m, &variant->route, &self->d, self->bar, 0,
		     self->d.bar[self->bar].size);
}

FIXTURE_TEARDOWN(free_bar)
{
	iomem_unmap(&self->m);
}

IOPIN_TEST(free_bar, mapping_shows_the_device_memory,
	   .guard = IOMEM_GUARD_DEVMEM,
	   .needs = NEEDS_PCI_DEVICE)
{
	size_t len = self->m.len, i;
	uint32_t *got = malloc(len), *want = malloc(len);
	char why[192];

	ASSERT_TRUE(got && want);
	/* Word by word: a UC/WC mapping is read the way a driver would. */
	for (i = 0; i < len / 4; i++) {
		got[i] = ((volatile uint32_t *)self->m.addr)[i];
		want[i] = iomem_pattern_word(4 * i);
	}
	EXPECT_TRUE(bytes_check(got, want, len, why, sizeof(why)))
		TH_LOG("%s BAR%d through %s: %s", self->d.bdf, self->bar,
		       variant->route.name, why);
	free(got);
	free(want);
}

IOPIN_TEST(free_bar, write_reaches_the_device_memory,
	   .guard = IOMEM_GUARD_DEVMEM,
	   .needs = NEEDS_PCI_DEVICE)
{
	static const struct iomem_route sysfs =
		IOMEM_ROUTE_OF(IOMEM_ROUTE_SYSFS);
	static const struct iomem_route procfs =
		IOMEM_ROUTE_OF(IOMEM_ROUTE_PROCFS);
	/* A word per route, so a stale value of another case cannot pass. */
	uint64_t off = 4096 * (1 + variant->route.id);
	uint32_t old = iomem_pattern_word(off), new = ~old;
	struct iomem_map other;

	ASSERT_WRITE_OK((volatile char *)self->m.addr + off, new, "write");
	/* Read it back through a second mapping by another route. */
	IOMEM_MAP_OK(&other, variant->route.id == IOMEM_SYSFS ? &procfs : &sysfs,
		     &self->d, self->bar, 0, 2 * 4096 * 4);
	ASSERT_READ_OK((volatile char *)other.addr + off, new, false,
		       "the word read through a second mapping");
	ASSERT_WRITE_OK((volatile char *)self->m.addr + off, old, "restoring the word");
	iomem_unmap(&other);
}

FIXTURE_SETUP(busy_bar)
{
	IOMEM_PICK(IOMEM_ROLE_CLAIMABLE, &self->d, &self->bar);
	IOMEM_ROUTE_NEEDED(&variant->route, &self->d, self->bar);
	ASSERT_CLAIMED(&self->d, self->bar, true);
}

FIXTURE_TEARDOWN(busy_bar)
{
}

IOPIN_TEST(busy_bar, mmap_is_refused,
	   .guard = "90a545e98126 v4.5 restrict /dev/mem to idle io memory ranges; dc217d2c5a7e v5.12 PCI: Obey iomem restrictions for procfs mmap",
	   .needs = NEEDS_PCI_DEVICE | NEEDS_IOMEM_STRICT)
{
	char owner[128] = "";

	iomem_claimed(self->d.bdf, self->d.bar[self->bar].addr, owner, sizeof(owner));
	ksft_print_msg("%s BAR%d claimed by %s (/proc/iomem: %s); %s must fail with %s\n",
		       self->d.bdf, self->bar, self->d.driver, owner, variant->route.name,
		       strerror(variant->route.busy_errno));
	ASSERT_MAP_ERRNO(variant->route.busy_errno, &variant->route, &self->d, self->bar,
			 0, page_size(), MAP_SHARED);
}

IOPIN_MAIN
