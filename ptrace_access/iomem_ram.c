// SPDX-License-Identifier: GPL-2.0-only
/*
 * Ordinary RAM inside an iomem mapping: a write to a MAP_PRIVATE /dev/mem
 * mapping of a BAR replaces the page by an anonymous copy, so the VM_PFNMAP
 * mapping's pte then points at ordinary RAM. A debugger's access to it
 * (here /proc/self/mem: GUP refuses VM_PFNMAP, so the access goes to the
 * mapping's generic_access_phys()) must fail without ioremap()ing that RAM
 * (RAM_GUARD: the lookup rejects a pfn with an online, unreserved page).
 * Before the fix the kernel tried: on x86 ioremap() refuses System RAM with
 * a WARN ("ioremap on RAM at ...", once per boot), which the harness's
 * kernel-health check reports, and the access failed (EIO) all the same.
 * Because that WARN fires only once per boot, the accesses are one test,
 * not a variant each: a second variant could not see a second WARN.
 * Control: the page not written is the device's, and reads as such.
 *
 * Device: a BAR no driver owns (VM: ivshmem BAR2, the known pattern).
 */
#include "ptrace_access.h"

FIXTURE(ram_copy) {
	struct iomem_dev d;
	int bar;
	struct iomem_map m;	/* two pages of the BAR, MAP_PRIVATE */
};

FIXTURE_SETUP(ram_copy)
{
	static const struct iomem_route devmem =
		IOMEM_ROUTE_OF(IOMEM_ROUTE_DEVMEM);
	char why[320];

	IOMEM_PICK(IOMEM_ROLE_PATTERN, &self->d, &self->bar);
	IOMEM_ROUTE_NEEDED(&devmem, &self->d, self->bar);
	ASSERT_EQ(0, iomem_map(&self->m, &devmem, &self->d, self->bar, 0, 2 * page_size(),
			       PROT_READ | PROT_WRITE, MAP_PRIVATE, why, sizeof(why)))
		TH_LOG("%s", why);
}

FIXTURE_TEARDOWN(ram_copy)
{
	iomem_unmap(&self->m);
}

IOPIN_TEST(ram_copy, debugger_access_to_a_private_copy_fails_without_ioremapping_ram,
	   .guard = RAM_GUARD, .needs = NEEDS_ROOT | NEEDS_PCI_DEVICE | NEEDS_DEVMEM)
{
	const struct iomem_bar *b = &self->d.bar[self->bar];
	volatile uint32_t *w = self->m.addr;
	size_t ps = page_size();
	uint32_t got[2], want[2], put[2] = { 0x5a5a5a5a, 0xa5a5a5a5 };
	uint64_t pfn;
	ssize_t ret;
	int err;

	/* Control: page 1 is the device's, and the route reaches it. */
	want[0] = iomem_pattern_word(ps);
	want[1] = iomem_pattern_word(ps + 4);
	ret = trace_read(ROUTE_PROC_SELF_MEM, getpid(), (const char *)w + ps, got, sizeof(got));
	err = errno;
	ASSERT_COUNT(ret, err, sizeof(got), "/proc/self/mem read of the device's page");
	ASSERT_BYTES(got, want, sizeof(got), "what the read of the device's page returned");

	/* The private copy: page 0 becomes anonymous memory, RAM. */
	ASSERT_READ_OK(w, iomem_pattern_word(0), false, "private mapping before the write");
	ASSERT_WRITE_OK(w, 0x11223344, "COW write");
	ASSERT_READ_OK(w, 0x11223344, false, "private copy after the write");
	pfn = pagemap_pfn((const void *)w);
	ASSERT_TRUE(pfn == 0 || pfn < b->addr / ps || pfn >= (b->addr + b->size) / ps)
		TH_LOG("page 0 is still the BAR's (pfn %#llx) after a private write",
		       (unsigned long long)pfn);

	/* A debugger's read and write of the copy: refused, nothing moved. */
	memset(got, 0, sizeof(got));
	ret = trace_read(ROUTE_PROC_SELF_MEM, getpid(), (const void *)w, got, sizeof(got));
	err = errno;
	ASSERT_ERRNO(ret, err, EIO, "/proc/self/mem read of the private copy");
	EXPECT_TRUE(got[0] == 0 && got[1] == 0)
		TH_LOG("the refused read returned %#x %#x", got[0], got[1]);
	ret = trace_write(ROUTE_PROC_SELF_MEM, getpid(), (void *)w, put, sizeof(put));
	err = errno;
	ASSERT_ERRNO(ret, err, EIO, "/proc/self/mem write of the private copy");
	ASSERT_READ_OK(w, 0x11223344, false, "private copy after the refused write");
}

IOPIN_MAIN
