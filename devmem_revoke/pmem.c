// SPDX-License-Identifier: GPL-2.0-only
/*
 * RAM-backed iomem that a driver claims: the VM boots with a fake legacy
 * persistent-memory range (memmap=nn!ss: E820 type 12, nd_e820 + nd_pmem).
 * While its namespace is disabled the range is free: /dev/mem maps it and
 * the test writes its own pattern. Enabling the namespace (nd_pmem claims
 * the range with devm_request_mem_region()) revokes the mapping: the next
 * access gets SIGBUS. Disabling it again lets a fresh mapping see the
 * pattern, which plain RAM kept. This is what 3234ac664a87 was written for.
 *
 * Only in the VM: on other machines pmem namespaces hold real data.
 */
#include "iopin.h"

#include <sys/mman.h>

#define PMEM_OFF	(1 << 20)	/* away from the block device's first sectors */
#define PMEM_LEN	(2 * 4096)

FIXTURE(pmem) {
	struct iomem_pmem p;
	struct iomem_map m;
};

FIXTURE_SETUP(pmem)
{
	char why[320];

	if (!iomem_pmem_find(&self->p, why, sizeof(why)))
		SKIP(return, "%s", why);
	ASSERT_LE(PMEM_OFF + PMEM_LEN, self->p.size);
	ASSERT_EQ(0, iomem_sysfs_unbind(self->p.ns, why, sizeof(why))) TH_LOG("%s", why);
	ASSERT_FALSE(iomem_claimed(IOMEM_PMEM_LEGACY, self->p.start, why, sizeof(why)))
		TH_LOG("disabled namespace, yet /proc/iomem shows %s", why);
	ASSERT_EQ(0, iomem_map_phys(&self->m, self->p.start + PMEM_OFF, PMEM_LEN,
				    PROT_READ | PROT_WRITE, MAP_SHARED, why, sizeof(why)))
		TH_LOG("%s", why);
}

FIXTURE_TEARDOWN(pmem)
{
	iomem_unmap(&self->m);
	kstate_restore();
}

/* Write / check the pattern word by word: the mapping is uncached iomem. */
static void pmem_fill(volatile uint32_t *w, size_t len)
{
	size_t i;

	for (i = 0; i < len / 4; i++)
		w[i] = iomem_pattern_word(4 * i) ^ 0x0f0f0f0f;
}

#define EXPECT_PMEM_PATTERN(addr, what) do {				\
	size_t _i, _n = PMEM_LEN / 4;					\
	uint32_t *_got = malloc(PMEM_LEN), *_want = malloc(PMEM_LEN);	\
	char _why[192];							\
	ASSERT_TRUE(_got && _want);					\
	for (_i = 0; _i < _n; _i++) {					\
		_got[_i] = ((volatile uint32_t *)(addr))[_i];		\
		_want[_i] = iomem_pattern_word(4 * _i) ^ 0x0f0f0f0f;	\
	}								\
	EXPECT_TRUE(bytes_check(_got, _want, PMEM_LEN, _why, sizeof(_why))) \
		TH_LOG("%s: %s", what, _why);				\
	free(_got);							\
	free(_want);							\
} while (0)

IOPIN_TEST(pmem, enabling_the_namespace_revokes_a_devmem_mapping,
	   .guard = "3234ac664a87 v5.8 /dev/mem: Revoke mappings when a driver claims the region",
	   .needs = NEEDS_DEVMEM | NEEDS_IOMEM_STRICT | NEEDS_DESTRUCTIVE)
{
	struct iomem_dev range = { .bdf = "pmem" };
	char why[320], owner[128];
	struct iomem_map again;

	pmem_fill(self->m.addr, PMEM_LEN);
	EXPECT_PMEM_PATTERN(self->m.addr, "pattern written through /dev/mem");
	ASSERT_EQ(0, iomem_sysfs_bind(self->p.ns, self->p.driver, why, sizeof(why)))
		TH_LOG("%s", why);
	ASSERT_TRUE(iomem_claimed(IOMEM_PMEM_LEGACY, self->p.start, owner, sizeof(owner)))
		TH_LOG("%s bound, yet /proc/iomem shows no claim", self->p.driver);
	ksft_print_msg("pmem 0x%llx+0x%llx claimed by %s (%s)\n",
		       (unsigned long long)self->p.start, (unsigned long long)self->p.size,
		       owner, self->p.driver);
	ASSERT_READ_SIGBUS(self->m.addr, "read after the namespace was enabled");
	/* A new mapping is refused while claimed (the range as a one-BAR "device"). */
	range.bar[0].addr = self->p.start;
	range.bar[0].size = self->p.size;
	ASSERT_MAP_ERRNO(EPERM, self->m.route, &range, 0, PMEM_OFF, PMEM_LEN, MAP_SHARED);
	ASSERT_EQ(0, iomem_sysfs_unbind(self->p.ns, why, sizeof(why))) TH_LOG("%s", why);
	ASSERT_READ_SIGBUS(self->m.addr, "old mapping after the namespace was disabled again");
	ASSERT_EQ(0, iomem_map_phys(&again, self->p.start + PMEM_OFF, PMEM_LEN,
				    PROT_READ | PROT_WRITE, MAP_SHARED, why, sizeof(why)))
		TH_LOG("%s", why);
	EXPECT_PMEM_PATTERN(again.addr, "fresh mapping after disabling the namespace");
	iomem_unmap(&again);
}

/* read() of /dev/mem below high_memory: allowed while free, EPERM while claimed. */
IOPIN_TEST(pmem, read_follows_the_claim,
	   .guard = "90a545e98126 v4.5 restrict /dev/mem to idle io memory ranges",
	   .needs = NEEDS_DEVMEM | NEEDS_IOMEM_STRICT | NEEDS_DESTRUCTIVE)
{
	off_t at = self->p.start + PMEM_OFF;
	uint32_t v = 0, want = 0x6a6b6c6d;
	char why[320];

	ASSERT_WRITE_OK(self->m.addr, want, "write through the mapping");
	ASSERT_TRUE(iomem_check_errno(pread(self->m.fd, &v, 4, at) == 4 ? 0 : errno, 0,
				      why, sizeof(why)))
		TH_LOG("read() of the free range at 0x%llx: %s", (unsigned long long)at, why);
	ASSERT_EQ(want, v);
	ASSERT_EQ(0, iomem_sysfs_bind(self->p.ns, self->p.driver, why, sizeof(why)))
		TH_LOG("%s", why);
	EXPECT_TRUE(iomem_check_errno(pread(self->m.fd, &v, 4, at) == 4 ? 0 : errno, EPERM,
				      why, sizeof(why)))
		TH_LOG("read() of the claimed range at 0x%llx: %s", (unsigned long long)at, why);
}

IOPIN_MAIN
