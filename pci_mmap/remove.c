// SPDX-License-Identifier: GPL-2.0-only
/*
 * Removing a PCI device (sysfs "remove") while userspace maps one of its
 * BARs: the device's address range goes back to the bus and can be handed
 * to the next device, so the old mapping must not stay usable (SIGBUS; at
 * the very least it must not reach whatever owns that address next). A
 * rescan brings the device back. A kernel that leaves the mapping live
 * fails here, and the test says what the mapping could still do.
 *
 * Axis: the route of the mapping (sysfs resourceN, procfs; /dev/mem is not
 * tied to the device). Device: a BAR no driver owns (VM: ivshmem BAR2).
 */
#include "iopin.h"

#include <sys/mman.h>

FIXTURE(remove) {
	struct iomem_dev d;
	int bar;
	struct iomem_map m;
};

/* The device files of the device: what its removal must revoke. */
#define REMOVE_ROUTES(X, ...)						\
	IOMEM_ROUTE_SYSFS(X, __VA_ARGS__)				\
	IOMEM_ROUTE_PROCFS(X, __VA_ARGS__)
IOMEM_ROUTE_VARIANTS(remove, REMOVE_ROUTES)

FIXTURE_SETUP(remove)
{
	IOMEM_PICK(IOMEM_ROLE_PATTERN, &self->d, &self->bar);
	IOMEM_ROUTE_NEEDED(&variant->route, &self->d, self->bar);
	IOMEM_MAP_OK(&self->m, &variant->route, &self->d, self->bar, 0, page_size());
	ASSERT_READ_OK(self->m.addr, iomem_pattern_word(0), false, "before the removal");
}

FIXTURE_TEARDOWN(remove)
{
	iomem_unmap(&self->m);
	kstate_restore();
}

IOPIN_TEST(remove, mapping_is_dead_after_the_device_is_removed,
	   .guard = "74b30195395c v5.12 sysfs: Support zapping of binary attr mmaps (device removal: no fix known)",
	   .needs = NEEDS_PCI_DEVICE | NEEDS_DESTRUCTIVE)
{
	volatile uint32_t *w = self->m.addr;
	struct iomem_access a;
	char why[320], got[96];

	ASSERT_EQ(0, iomem_remove(&self->d, why, sizeof(why))) TH_LOG("%s", why);
	a = iomem_read32(w);
	if (a.outcome == IOMEM_ACCESS_OK) {
		/* Say exactly what the mapping could still do. */
		struct iomem_access wr = iomem_write32(w + 1, 0x5a5a5a5a);
		struct iomem_access back = iomem_read32(w + 1);

		ksft_print_msg("after removing %s the %s mapping still reads 0x%08x at "
			       "phys 0x%llx; a write %s, read back 0x%08x\n",
			       self->d.bdf, variant->route.name, a.value,
			       (unsigned long long)self->m.phys,
			       wr.outcome == IOMEM_ACCESS_OK ? "succeeded" : "faulted",
			       back.value);
		iomem_write32(w + 1, iomem_pattern_word(4));
	}
	EXPECT_TRUE(iomem_check_sigbus(&a, w, why, sizeof(why)))
		TH_LOG("read after removal: %s (%s)", why, iomem_access_str(&a, got, sizeof(got)));
	ASSERT_EQ(0, iomem_rescan(why, sizeof(why))) TH_LOG("%s", why);
	ASSERT_EQ(0, access(iomem_dev_path(&self->d, NULL, why, sizeof(why)), F_OK))
		TH_LOG("%s is not back after a rescan", self->d.bdf);
	if (a.outcome == IOMEM_ACCESS_OK) {
		struct iomem_dev now;

		a = iomem_read32(w);
		if (!iomem_dev_get(&now, self->d.bdf, why, sizeof(why)))
			ksft_print_msg("after the rescan %s BAR%d is at 0x%llx; the old mapping "
				       "of 0x%llx: %s\n", now.bdf, self->bar,
				       (unsigned long long)now.bar[self->bar].addr,
				       (unsigned long long)self->m.phys,
				       iomem_access_str(&a, got, sizeof(got)));
	}
}

IOPIN_MAIN
