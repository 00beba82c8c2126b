// SPDX-License-Identifier: GPL-2.0-only
/*
 * A VFIO type1 DMA mapping of a BAR mapping outlives the BAR mapping.
 * VFIO_IOMMU_MAP_DMA of a VM_PFNMAP range looks its pfns up once (follow_pte(),
 * 07956b6269d3) and puts them in the IOMMU; nothing ties the IOVA to the
 * user mapping afterwards. When a driver claims the BAR, __request_region()
 * revokes the user mapping (the next CPU access gets SIGBUS), but the IOVA
 * still points at the BAR: a device behind VFIO keeps reaching registers a
 * driver now owns. A safe kernel would unmap the IOVA (or fail the DMA).
 *
 * The test only ever READS through the old IOVA: it never writes into a
 * claimed BAR. The BAR (VM: the claim virtio-blk's virtio common config)
 * has a register that stays the same while unbound and that the driver
 * changes after its claim (device_status: ACKNOWLEDGE -> DRIVER_OK); a DMA
 * read that shows the new value reached the claimed device.
 *
 * Seen on Debian 5.10 (/dev/mem), 6.1, 6.12, 7.2 and 7.3: the device reads the
 * driver's live registers through the stale IOVA. No fix known
 * (expectations/mainline: unfixed).
 *
 * Axis: mapping route (/dev/mem, sysfs resourceN, resourceN_wc, procfs).
 */
#include "iopin.h"
#include "pin.h"
#include "vfio.h"

#include <sys/mman.h>

/*
 * What it relies on: the revocation (the CPU side of the claim) and type1's
 * pfn lookup of a BAR mapping. The IOVA side has no fix (expectations/mainline).
 */
#define STALE_GUARD IOMEM_GUARD_SYSFS "; " IOMEM_GUARD_DEVMEM "; " \
	"07956b6269d3 v5.12 vfio/type1: Use follow_pte()"
#define STALE_NEEDS (NEEDS_ROOT | NEEDS_PCI_DEVICE | NEEDS_IOMEM_STRICT | NEEDS_DESTRUCTIVE)

FIXTURE(pfnmap_claim) {
	struct iomem_dev d;
	int bar;
	char driver[64];	/* the driver that claims the BAR on bind */
	struct iomem_claim_regs regs;
	uint64_t map_off;	/* of the mapped page in the BAR */
	struct iomem_map m;
	struct pin p;
	char *got;
};

FIXTURE_VARIANT(pfnmap_claim) {
	struct iomem_route route;
};

IOMEM_ROUTES(IOMEM_ROUTE_VARIANT, pfnmap_claim)

FIXTURE_SETUP(pfnmap_claim)
{
	char why[320];
	size_t ps = page_size();

	self->p.be = NULL;
	self->m.addr = NULL;
	self->m.fd = -1;
	self->got = NULL;
	IOMEM_PICK(IOMEM_ROLE_CLAIMABLE, &self->d, &self->bar);
	IOMEM_ROUTE_NEEDED(&variant->route, &self->d, self->bar);
	if (iomem_claim_regs(&self->d, self->bar, &self->regs, why, sizeof(why)))
		SKIP(return, "%s", why);
	if (!pin_available(PIN_VFIO_RO, why, sizeof(why)))
		SKIP(return, "%s", why);
	self->map_off = self->regs.state & ~(uint64_t)(ps - 1);
	/* Both registers in the page, and in the window one DMA reads. */
	ASSERT_EQ(self->map_off, self->regs.constant & ~(uint64_t)(ps - 1));
	ASSERT_LT(self->regs.state - self->map_off + 1, (uint64_t)VFIO_READ_WINDOW);
	snprintf(self->driver, sizeof(self->driver), "%s", self->d.driver);
	ksft_print_msg("%s BAR%d 0x%llx (%s, claimed by %s); route %s\n", self->d.bdf,
		       self->bar, (unsigned long long)self->d.bar[self->bar].addr,
		       self->regs.what, self->driver, variant->route.name);
	IOMEM_UNBIND_OK(&self->d);
	ASSERT_CLAIMED(&self->d, self->bar, false);
	IOMEM_MAP_OK(&self->m, &variant->route, &self->d, self->bar, self->map_off, ps);
	self->got = malloc(VFIO_READ_WINDOW);
	ASSERT_NE(NULL, self->got);
}

FIXTURE_TEARDOWN(pfnmap_claim)
{
	pin_release(&self->p);
	iomem_unmap(&self->m);
	free(self->got);
	kstate_restore();
}

/* The le32 word at BAR offset reg (a multiple of 4) in a DMA image. */
static uint32_t img32(FIXTURE_DATA(pfnmap_claim) *self, const char *img, uint64_t reg)
{
	uint32_t v;

	memcpy(&v, img + (reg - self->map_off), sizeof(v));
	return v;
}

static uint32_t cpu32(FIXTURE_DATA(pfnmap_claim) *self, uint64_t reg)
{
	return *(volatile uint32_t *)((volatile char *)self->m.addr + (reg - self->map_off));
}

/*
 * Registers are compared as aligned 32-bit words, the accesses edu's DMA
 * makes (virtio-pci answers a word by the register at its start: the word
 * at 0x10 is msix_config, num_queues at 0x12 is not in any such word).
 */
#define CMP_WORDS	16

IOPIN_TEST(pfnmap_claim, device_cannot_read_a_claimed_bar_through_the_old_iova,
	   .guard = STALE_GUARD, .needs = STALE_NEEDS)
{
	uint64_t state = self->regs.state & ~(uint64_t)3, base = self->regs.scratch & ~(uint64_t)3;
	uint32_t unbound, now, nonzero = 0;
	char why[192];
	int i;

	ASSERT_LT(base + 4 * CMP_WORDS - self->map_off, (uint64_t)VFIO_READ_WINDOW);
	/* 1. Unbound: the device reads through the IOVA what the CPU reads. */
	ASSERT_EQ(0, pin_range(&self->p, PIN_VFIO_RO, (void *)self->m.addr, page_size()))
		TH_LOG("VFIO_IOMMU_MAP_DMA of a %s BAR mapping: %s", variant->route.name,
		       self->p.why);
	ASSERT_EQ(0, pin_read(&self->p, self->got)) TH_LOG("edu DMA: %s", self->p.why);
	for (i = 0; i < CMP_WORDS; i++) {
		uint64_t reg = base + 4 * i;

		ASSERT_EQ(cpu32(self, reg), img32(self, self->got, reg))
			TH_LOG("%s word at BAR offset 0x%llx: the device does not read what "
			       "the CPU reads through %s", self->regs.what,
			       (unsigned long long)reg, variant->route.name);
		nonzero |= img32(self, self->got, reg);
	}
	ASSERT_NE(0, nonzero) TH_LOG("%s reads all zeroes: not the registers", self->regs.what);
	unbound = cpu32(self, state);

	/* 2. The driver claims the BAR: the user mapping is revoked. */
	IOMEM_BIND_OK(&self->d, self->driver);
	ASSERT_CLAIMED(&self->d, self->bar, true);
	ASSERT_READ_SIGBUS((volatile char *)self->m.addr + (state - self->map_off),
			   "CPU read of the mapping after the claim");

	/*
	 * 3. The device reads through the old IOVA (read only: never a write
	 * into a claimed BAR). A DMA the IOMMU refuses leaves edu's buffer as
	 * step 1 left it: the unbound value.
	 */
	ASSERT_EQ(0, pin_read(&self->p, self->got)) TH_LOG("edu DMA after the claim: %s",
							   self->p.why);
	now = img32(self, self->got, state);
	ksft_print_msg("through the old IOVA after the claim: device_status word 0x%08x "
		       "(0x%08x unbound)\n", now, unbound);
	/* (self-test switch: the comparison expects a corrupted byte) */
	ASSERT_TRUE(bytes_check(&now, &unbound, sizeof(now), why, sizeof(why)))
		TH_LOG("the device reached the claimed BAR through the old IOVA: it reads "
		       "the device_status of the %s that the driver set (%s), not the unbound "
		       "0x%08x", self->regs.what, why, unbound);
}

IOPIN_MAIN
