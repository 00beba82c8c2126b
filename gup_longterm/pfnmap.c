// SPDX-License-Identifier: GPL-2.0-only
/*
 * Long-term DMA mappings of an iomem mapping: a BAR mapped by /dev/mem,
 * sysfs resourceN(_wc) or procfs is VM_IO | VM_PFNMAP, without struct
 * pages, so GUP cannot pin it. VFIO type1 looks its pfns up in the page
 * table instead (07956b6269d3, "vfio/type1: Use follow_pte()": with the
 * pte's permissions):
 * - VFIO_IOMMU_MAP_DMA of a BAR mapping works, and the device (edu's DMA
 *   engine) reads the BAR through the IOVA (peer to peer);
 * - a device-writable mapping (VFIO_DMA_MAP_FLAG_WRITE) of a read-only
 *   BAR mapping is refused (EFAULT): the pte is not writable.
 *
 * Devices: the BAR with known contents (VM: ivshmem BAR2, pattern
 * le32-index-xor-a5a5a5a5) and edu bound to vfio-pci (IOPIN_EDU_BDF).
 */
#include "iopin.h"
#include "pin.h"
#include "trace.h"

#include <sys/mman.h>

#define VFIO_PFN_GUARD "07956b6269d3 v5.12 vfio/type1: Use follow_pte()"
#define PFNMAP_NEEDS (NEEDS_ROOT | NEEDS_PCI_DEVICE)

FIXTURE(pfnmap) {
	struct iomem_dev d;
	int bar;
	struct iomem_map m;
	struct pin p;
};

IOMEM_ROUTE_VARIANTS(pfnmap, IOMEM_ROUTES)


/* Map one page of the pattern BAR through the route, with prot. */
static void map_bar_page(struct __test_metadata *_metadata, FIXTURE_DATA(pfnmap) *self,
			 const FIXTURE_VARIANT(pfnmap) *variant, int prot)
{
	char why[320];

	ASSERT_EQ(0, iomem_map(&self->m, &variant->route, &self->d, self->bar, 0,
			       page_size(), prot, MAP_SHARED, why, sizeof(why)))
		TH_LOG("%s: %s", variant->route.name, why);
}

FIXTURE_SETUP(pfnmap)
{
	char why[256];

	self->p.be = NULL;
	self->m.addr = NULL;
	self->m.fd = -1;
	IOMEM_PICK(IOMEM_ROLE_PATTERN, &self->d, &self->bar);
	IOMEM_ROUTE_NEEDED(&variant->route, &self->d, self->bar);
	if (!pin_available(PIN_VFIO_RO, why, sizeof(why)))
		SKIP(return, "%s", why);
}

FIXTURE_TEARDOWN(pfnmap)
{
	pin_release(&self->p);
	iomem_unmap(&self->m);
}

IOPIN_TEST(pfnmap, device_reads_the_bar_through_a_dma_mapping_of_it,
	   .guard = VFIO_PFN_GUARD, .needs = PFNMAP_NEEDS)
{
	char *got, *want, why[192];
	size_t i;

	map_bar_page(_metadata, self, variant, PROT_READ | PROT_WRITE);
	ASSERT_EQ(0, pin_range(&self->p, PIN_VFIO_RO, (void *)self->m.addr, page_size()))
		TH_LOG("VFIO_IOMMU_MAP_DMA of a %s BAR mapping: %s", variant->route.name,
		       self->p.why);
	got = malloc(self->p.len);
	want = malloc(self->p.len);
	ASSERT_TRUE(got && want);
	for (i = 0; i + 4 <= self->p.len; i += 4)
		*(uint32_t *)(want + i) = iomem_pattern_word(i);
	ASSERT_EQ(0, pin_read(&self->p, got)) TH_LOG("edu DMA through the IOVA: %s", self->p.why);
	/* (self-test switch: the comparison expects a corrupted byte) */
	ASSERT_TRUE(bytes_check(got, want, self->p.len & ~(size_t)3, why, sizeof(why)))
		TH_LOG("what the device read through the IOVA: %s", why);
	free(got);
	free(want);
}

IOPIN_TEST(pfnmap, readonly_bar_mapping_is_refused_for_device_writes,
	   .guard = VFIO_PFN_GUARD, .needs = PFNMAP_NEEDS)
{
	char why[256];
	int rc;

	if (!pin_available(PIN_VFIO_RW, why, sizeof(why)))
		SKIP(return, "%s", why);
	/* Control: the same page mapped writable is accepted. */
	map_bar_page(_metadata, self, variant, PROT_READ | PROT_WRITE);
	ASSERT_EQ(0, pin_range(&self->p, PIN_VFIO_RW, (void *)self->m.addr, page_size()))
		TH_LOG("device-writable DMA mapping of a writable %s BAR mapping: %s",
		       variant->route.name, self->p.why);
	pin_release(&self->p);
	iomem_unmap(&self->m);

	map_bar_page(_metadata, self, variant, PROT_READ);
	rc = pin_range(&self->p, PIN_VFIO_RW, (void *)self->m.addr, page_size());
	/* (self-test switch: the errno check is inverted) */
	ASSERT_TRUE(errno_check(rc ? -1 : 0, -rc, EFAULT, why, sizeof(why)))
		TH_LOG("device-writable DMA mapping of a read-only %s BAR mapping: %s",
		       variant->route.name, why);
}

IOPIN_MAIN
