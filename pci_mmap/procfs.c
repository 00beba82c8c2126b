// SPDX-License-Identifier: GPL-2.0-only
/*
 * procfs /proc/bus/pci/BB/DD.F mappings (busy BARs and revocation are
 * crossed with every route in devmem_revoke/): the file maps I/O space
 * until PCIIOC_MMAP_IS_MEM switches it to memory, and x86 cannot map I/O
 * space, so without the ioctl mmap fails; with it the BAR maps at its bus
 * address and shows the device memory; without CAP_SYS_RAWIO mmap is
 * refused even for root's open file.
 *
 * Device: a BAR no driver owns (VM: ivshmem BAR2, the host's pattern).
 */
#include "iopin.h"

#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/syscall.h>

static const struct iomem_route procfs =
	IOMEM_ROUTE_OF(IOMEM_ROUTE_PROCFS);

FIXTURE(procfs) {
	struct iomem_dev d;
	int bar;
};

FIXTURE_SETUP(procfs)
{
	IOMEM_PICK(IOMEM_ROLE_PATTERN, &self->d, &self->bar);
	IOMEM_ROUTE_NEEDED(&procfs, &self->d, self->bar);
}

FIXTURE_TEARDOWN(procfs)
{
}

IOPIN_TEST(procfs, mmap_without_mmap_is_mem_fails,
	   .guard = IOMEM_GUARD_PROCFS, .needs = NEEDS_PCI_DEVICE)
{
	ASSERT_MAP_ERRNO(EINVAL, &procfs, &self->d, self->bar, 0, page_size(),
			 MAP_SHARED | IOMEM_NO_MMAP_IS_MEM);
}

IOPIN_TEST(procfs, mmap_with_mmap_is_mem_shows_the_bar,
	   .guard = IOMEM_GUARD_PROCFS, .needs = NEEDS_PCI_DEVICE)
{
	struct iomem_map m;
	uint64_t off = page_size() - 4;

	IOMEM_MAP_OK(&m, &procfs, &self->d, self->bar, 0, page_size());
	ASSERT_READ_OK((volatile char *)m.addr + off, iomem_pattern_word(off), false,
		       "last word of the first page");
	iomem_unmap(&m);
}

/* Drop CAP_SYS_RAWIO from the effective set, keep everything else. */
static int drop_rawio(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &h, data))
		return -1;
	data[CAP_SYS_RAWIO / 32].effective &= ~(1u << (CAP_SYS_RAWIO % 32));
	return syscall(SYS_capset, &h, data);
}

static int child_maps_without_rawio(struct child *c, void *arg)
{
	struct iomem_dev *d = arg;
	char why[320] = "", chk[160];
	struct iomem_map m;
	int bar = 2, rc;

	(void)c;
	if (drop_rawio() || proc_has_cap(CAP_SYS_RAWIO))
		return child_fail("cannot drop CAP_SYS_RAWIO");
	rc = iomem_map(&m, &procfs, d, bar, 0, page_size(), PROT_READ, MAP_SHARED,
		       why, sizeof(why));
	if (!rc)
		iomem_unmap(&m);
	if (!iomem_check_errno(rc, EPERM, chk, sizeof(chk)))
		return child_fail("mmap without CAP_SYS_RAWIO: %s (%s)", chk,
				  rc ? why : "it mapped");
	return CHILD_OK;
}

IOPIN_TEST(procfs, mmap_without_cap_sys_rawio_is_refused,
	   .guard = IOMEM_GUARD_PROCFS, .needs = NEEDS_PCI_DEVICE)
{
	struct child c;

	ASSERT_EQ(2, self->bar);
	ASSERT_EQ(0, child_start(&c, child_maps_without_rawio, &self->d));
	child_go(&c);
	ASSERT_CHILD_OK(&c, "mapping without CAP_SYS_RAWIO");
}

IOPIN_MAIN
