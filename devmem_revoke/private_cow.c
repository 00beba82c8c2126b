// SPDX-License-Identifier: GPL-2.0-only
/*
 * CVE-2024-35877: a MAP_PRIVATE /dev/mem mapping is a COW mapping of a PFN
 * range with a PAT memory type. Writing it replaces the first page by an
 * anonymous copy; on kernels without 04c35ab3bdae, fork() then looked up
 * the memory type through that anonymous page (WARN in get_pat_info() /
 * track_pfn_copy(), "freeing invalid memtype" when unmapped). Here the
 * write goes to the private copy only, the device memory keeps the host's
 * pattern, fork() works or fails (fixed kernels refuse to copy
 * a memory type they cannot recover), and fork() + munmap() leave no WARN,
 * no taint and no PAT complaint in the kernel log.
 *
 * Device: a BAR no driver owns (VM: ivshmem BAR2); never physical page 0.
 */
#include "iopin.h"

#include <sys/mman.h>
#include <sys/wait.h>

FIXTURE(private_cow) {
	struct iomem_dev d;
	int bar;
	struct iomem_map m;
	int kmsg;
};

FIXTURE_SETUP(private_cow)
{
	static const struct iomem_route devmem =
		IOMEM_ROUTE_OF(IOMEM_ROUTE_DEVMEM);
	char why[320];

	self->kmsg = -1;
	IOMEM_PICK(IOMEM_ROLE_PATTERN, &self->d, &self->bar);
	IOMEM_ROUTE_NEEDED(&devmem, &self->d, self->bar);
	ASSERT_EQ(0, iomem_map(&self->m, &devmem, &self->d, self->bar, 0, 2 * page_size(),
			       PROT_READ | PROT_WRITE, MAP_PRIVATE, why, sizeof(why)))
		TH_LOG("%s", why);
	self->kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, self->kmsg) TH_LOG("/dev/kmsg: %s", strerror(errno));
	lseek(self->kmsg, 0, SEEK_END);
}

FIXTURE_TEARDOWN(private_cow)
{
	iomem_unmap(&self->m);
	if (self->kmsg >= 0)
		close(self->kmsg);
}

/* Kernel log records since setup that complain about PAT memory types. */
static bool pat_complaints(int fd, char *why, size_t len)
{
	char rec[1024];
	ssize_t n;

	while ((n = read(fd, rec, sizeof(rec) - 1)) > 0 || (n < 0 && errno == EPIPE)) {
		if (n <= 0)
			continue;
		rec[n] = '\0';
		if (strstr(rec, "memtype") || strstr(rec, "PAT:")) {
			snprintf(why, len, "%.400s", strchr(rec, ';') ? strchr(rec, ';') + 1 : rec);
			return true;
		}
	}
	return false;
}

IOPIN_TEST(private_cow, write_fork_and_unmap_leave_pat_consistent,
	   .guard = "04c35ab3bdae v6.9 x86/mm/pat: fix VM_PAT handling in COW mappings; CVE-2024-35877",
	   .needs = NEEDS_PCI_DEVICE | NEEDS_DEVMEM)
{
	static const struct iomem_route sysfs =
		IOMEM_ROUTE_OF(IOMEM_ROUTE_SYSFS);
	volatile uint32_t *w = self->m.addr;
	struct iomem_map dev;
	int status, err;
	char why[512];
	pid_t pid;

	ASSERT_READ_OK(w, iomem_pattern_word(0), false, "private mapping before the write");
	ASSERT_WRITE_OK(w, 0x11223344, "COW write");
	ASSERT_READ_OK(w, 0x11223344, false, "private copy after the write");
	/* The device memory did not take the private write. */
	IOMEM_MAP_OK(&dev, &sysfs, &self->d, self->bar, 0, page_size());
	ASSERT_READ_OK(dev.addr, iomem_pattern_word(0), false, "device memory after a private write");
	iomem_unmap(&dev);

	/*
	 * With the fix, fork() may fail (track_pfn_copy() -EINVAL, seen as
	 * ENOMEM on 6.1.192 and 6.12.117): the PAT memory type of a COW mapping
	 * whose first page was replaced cannot be recovered (get_pat_info()).
	 * It must not WARN or copy a wrong memory type.
	 */
	fflush(stdout);
	pid = fork();
	if (!pid)
		_exit(0);
	err = pid < 0 ? errno : 0;
	ksft_print_msg("fork() with a written MAP_PRIVATE /dev/mem mapping: %s\n",
		       pid < 0 ? strerror(err) : "ok");
	ASSERT_TRUE(pid > 0 || err == EINVAL || err == ENOMEM) TH_LOG("fork: %s", strerror(err));
	if (pid > 0)
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
	iomem_unmap(&self->m);
	EXPECT_FALSE(pat_complaints(self->kmsg, why, sizeof(why)))
		TH_LOG("kernel log: %s", why);
}

IOPIN_MAIN
