// SPDX-License-Identifier: GPL-2.0-only
/*
 * read() and write() of /dev/mem follow other rules than mmap(): an address
 * at or above high_memory (the end of RAM; most BARs) fails with EFAULT
 * before anything else is looked at; below it, a page that devmem_is_allowed()
 * refuses (System RAM above the first MiB, a busy range) fails with EPERM.
 * Each test works out which rule applies to its address from /proc/iomem,
 * says so, and checks that the kernel applied it.
 */
#include "iopin.h"

#include <inttypes.h>

#define RW_GUARD "90a545e98126 v4.5 restrict /dev/mem to idle io memory ranges"

/* A top-level "System RAM" line of /proc/iomem. */
static bool is_ram(const char *line, uint64_t *s, uint64_t *e, int *n)
{
	*n = 0;
	return line[0] != ' ' &&
	       sscanf(line, "%" SCNx64 "-%" SCNx64 " : System RAM%n", s, e, n) == 2 && *n;
}

/* End of the highest System RAM range: high_memory as a physical address. */
static uint64_t ram_end(void)
{
	FILE *f = fopen("/proc/iomem", "re");
	uint64_t s, e, end = 0;
	char line[256];
	int n;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (is_ram(line, &s, &e, &n) && e + 1 > end)
			end = e + 1;
	fclose(f);
	return end;
}

/* First System RAM range starting at or above 1 MiB (below it, reads return zeroes). */
static uint64_t ram_page(void)
{
	FILE *f = fopen("/proc/iomem", "re");
	uint64_t s, e, page = 0;
	char line[256];
	int n;

	if (!f)
		return 0;
	while (!page && fgets(line, sizeof(line), f))
		if (is_ram(line, &s, &e, &n) && s >= 0x100000 && e > s)
			page = s;
	fclose(f);
	return page;
}

/* The errno the rule for [addr, addr + 4) gives, and its name. */
static int rule_for(uint64_t addr, bool busy, const char **rule)
{
	if (addr + 4 > ram_end()) {
		*rule = "at or above high_memory: EFAULT";
		return EFAULT;
	}
	if (busy) {
		*rule = "below high_memory, page refused by devmem_is_allowed(): EPERM";
		return EPERM;
	}
	*rule = "below high_memory, page allowed: success";
	return 0;
}

/* A write writes val: what the word holds already, should the rule let it through. */
#define EXPECT_RW_RULE(fd, write, val, addr, busy, what) do {		\
	const char *_rule;						\
	int _want = rule_for(addr, busy, &_rule);			\
	uint32_t _v = val;						\
	ssize_t _n = (write) ? pwrite(fd, &_v, 4, addr) : pread(fd, &_v, 4, addr); \
	char _why[160];							\
	ksft_print_msg("%s at 0x%llx (RAM ends at 0x%llx): rule %s\n", what, \
		       (unsigned long long)(addr), (unsigned long long)ram_end(), _rule); \
	EXPECT_TRUE(iomem_check_errno(_n < 0 ? errno : 0, _want, _why, sizeof(_why))) \
		TH_LOG("%s: %s", what, _why);				\
} while (0)

FIXTURE(devmem_rw) {
	int fd;
};

FIXTURE_SETUP(devmem_rw)
{
	char why[160];

	if (iomem_unmet(NEEDS_DEVMEM, why, sizeof(why)))
		SKIP(return, "%s", why);
	self->fd = open("/dev/mem", O_RDWR | O_SYNC | O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("/dev/mem: %s", strerror(errno));
}

FIXTURE_TEARDOWN(devmem_rw)
{
	close(self->fd);
}

IOPIN_TEST(devmem_rw, read_of_system_ram_is_refused,
	   .guard = RW_GUARD, .needs = NEEDS_DEVMEM | NEEDS_IOMEM_STRICT)
{
	uint64_t page = ram_page();

	ASSERT_NE(0, page) TH_LOG("no System RAM above 1 MiB in /proc/iomem");
	EXPECT_RW_RULE(self->fd, false, 0, page, true, "read() of System RAM");
}

IOPIN_TEST(devmem_rw, read_and_write_of_a_free_bar_follow_the_rule,
	   .guard = RW_GUARD, .needs = NEEDS_DEVMEM | NEEDS_PCI_DEVICE)
{
	struct iomem_dev d;
	char why[320];
	int bar;

	if (!iomem_pick(IOMEM_ROLE_PATTERN, &d, &bar, why, sizeof(why)))
		SKIP(return, "%s", why);
	EXPECT_RW_RULE(self->fd, false, 0, d.bar[bar].addr, false, "read() of a free BAR");
	EXPECT_RW_RULE(self->fd, true, iomem_pattern_word(page_size()),
		       d.bar[bar].addr + page_size(), false,
		       "write() of a free BAR");
}

IOPIN_TEST(devmem_rw, read_of_a_busy_bar_follows_the_rule,
	   .guard = RW_GUARD, .needs = NEEDS_DEVMEM | NEEDS_PCI_DEVICE | NEEDS_IOMEM_STRICT)
{
	struct iomem_dev d;
	char why[320];
	int bar;

	if (!iomem_pick(IOMEM_ROLE_CLAIMABLE, &d, &bar, why, sizeof(why)))
		SKIP(return, "%s", why);
	ASSERT_TRUE(iomem_claimed(d.bdf, d.bar[bar].addr, why, sizeof(why)));
	EXPECT_RW_RULE(self->fd, false, 0, d.bar[bar].addr, true, "read() of a claimed BAR");
}

IOPIN_MAIN
