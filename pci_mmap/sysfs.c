// SPDX-License-Identifier: GPL-2.0-only
/*
 * What sysfs resourceN files promise besides mapping (mapping, busy BARs
 * and revocation are crossed with every route in devmem_revoke/): a
 * resourceN_wc file exists exactly for prefetchable memory BARs; read() of
 * a memory BAR fails with EIO; st_size and lseek(SEEK_END) are the BAR size
 * (kernels before v6.7 seek to 0); a mapping that runs past the BAR, or
 * starts past it, is refused with EINVAL.
 *
 * Device: a BAR no driver owns (VM: ivshmem, BAR0 registers, BAR2 memory).
 */
#include <limits.h>

#include "iopin.h"

#include <sys/mman.h>
#include <sys/stat.h>

#define SYSFS_GUARD	IOMEM_GUARD_SYSFS

FIXTURE(resource) {
	struct iomem_dev d;
	int bar;
	int fd;
	char path[160];
};

FIXTURE_SETUP(resource)
{
	IOMEM_PICK(IOMEM_ROLE_PATTERN, &self->d, &self->bar);
	snprintf(self->path, sizeof(self->path), "/sys/bus/pci/devices/%s/resource%d",
		 self->d.bdf, self->bar);
	self->fd = open(self->path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", self->path, strerror(errno));
}

FIXTURE_TEARDOWN(resource)
{
	if (self->fd >= 0)
		close(self->fd);
}

IOPIN_TEST(resource, wc_file_exists_exactly_for_prefetchable_memory_bars,
	   .guard = SYSFS_GUARD, .needs = NEEDS_PCI_DEVICE)
{
	char path[PATH_MAX], why[160];
	int i, seen = 0;

	for (i = 0; i < 6; i++) {
		struct iomem_bar *b = &self->d.bar[i];
		bool want = b->size && b->mem && b->prefetch, has;

		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource%d_wc",
			 self->d.bdf, i);
		has = !access(path, F_OK);
		ksft_print_msg("BAR%d: %s%s, size 0x%llx: %s\n", i, b->mem ? "memory" : "I/O",
			       b->prefetch ? " prefetchable" : "",
			       (unsigned long long)b->size, has ? "has _wc" : "no _wc");
		/* Absent == ENOENT: the same errno check the self-test switch flips. */
		EXPECT_TRUE(iomem_check_errno(has ? 0 : ENOENT, want ? 0 : ENOENT, why,
					      sizeof(why)))
			TH_LOG("%s: %s", path, why);
		seen += want;
	}
	ASSERT_LT(0, seen) TH_LOG("no prefetchable BAR on %s to check", self->d.bdf);
}

IOPIN_TEST(resource, read_of_a_memory_bar_fails_with_eio,
	   .guard = SYSFS_GUARD, .needs = NEEDS_PCI_DEVICE)
{
	char buf[8], why[160];
	ssize_t n = pread(self->fd, buf, sizeof(buf), 0);

	EXPECT_TRUE(iomem_check_errno(n < 0 ? errno : 0, EIO, why, sizeof(why)))
		TH_LOG("read(%s): %s", self->path, why);
}

IOPIN_TEST(resource, size_and_seek_end_are_the_bar_size,
	   .guard = "24de09c16f97 v6.7 PCI: resourceN files seek with fixed_size_llseek() (and 0fedefd4c4e3 kernfs llseek)",
	   .needs = NEEDS_PCI_DEVICE)
{
	uint64_t size = self->d.bar[self->bar].size;
	struct stat st;
	off_t end;

	ASSERT_EQ(0, fstat(self->fd, &st));
	EXPECT_EQ(size, (uint64_t)st.st_size) TH_LOG("st_size of %s", self->path);
	end = lseek(self->fd, 0, SEEK_END);
	ASSERT_TRUE(iomem_check_errno(end == (off_t)size ? 0 : EINVAL, 0, NULL, 0))
		TH_LOG("lseek(%s, 0, SEEK_END) = %lld, BAR size 0x%llx", self->path,
		       (long long)end, (unsigned long long)size);
}

IOPIN_TEST(resource, mapping_past_the_bar_is_refused,
	   .guard = SYSFS_GUARD, .needs = NEEDS_PCI_DEVICE)
{
	static const struct iomem_route sysfs =
		IOMEM_ROUTE_OF(IOMEM_ROUTE_SYSFS);
	uint64_t size = self->d.bar[self->bar].size;

	/* Runs one page past the end; starts at the end. */
	ASSERT_MAP_ERRNO(EINVAL, &sysfs, &self->d, self->bar, 0, size + page_size(),
			 MAP_SHARED);
	ASSERT_MAP_ERRNO(EINVAL, &sysfs, &self->d, self->bar, size, page_size(),
			 MAP_SHARED);
	/* The last page itself maps. */
	ASSERT_MAP_ERRNO(0, &sysfs, &self->d, self->bar, size - page_size(), page_size(),
			 MAP_SHARED);
}

IOPIN_MAIN
