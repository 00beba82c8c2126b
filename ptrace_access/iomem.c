// SPDX-License-Identifier: GPL-2.0-only
/*
 * A debugger on iomem: a BAR mapped by /dev/mem, sysfs resourceN(_wc) or
 * procfs has no struct page, so /proc/PID/mem, /proc/self/mem and
 * PTRACE_PEEK/POKEDATA fall back to the VMA's access hook,
 * generic_access_phys(); process_vm_readv/writev have no such fallback.
 * - reads return exactly what the device holds, writes into a PROT_WRITE
 *   mapping reach the device (seen through a second, independent mapping)
 *   and the tracee; into a PROT_READ mapping they fail (EIO);
 * - at page boundaries (BOUNDARY_GUARD, ptrace_access.h): an access that
 *   crosses a page boundary inside a mapping gets both pages right; one
 *   that runs past the end of a mapping (also at the last page of the BAR)
 *   stops at the end: /proc/PID/mem and /proc/self/mem transfer the mapped
 *   bytes (a short count), PEEK/POKEDATA fail (EIO) after POKEDATA wrote
 *   the mapped bytes, as on normal memory; across two single-page mappings
 *   of distant BAR pages placed next to each other it reaches the second
 *   mapping, and a write never lands outside the pages it addressed;
 * - once a driver claims the BAR, or (device files) the device is removed,
 *   every access fails (EIO), never stale data; a read preempted by a claim
 *   between its pte lookup and its copy fails too, and never sees what the
 *   driver wrote after its claim.
 *
 * Axes: mapping route x access route. Devices: a BAR with known contents
 * (the VM's ivshmem BAR2, le32-index-xor-a5a5a5a5; every word a test writes
 * is put back in teardown) and a BAR a driver claims (the VM's claim
 * virtio-blk; unbind, bind and removal journaled). gdb_bar: Debian's gdb (gdb-minimal
 * in the VM) examines a BAR mapping of a tracee.
 */
#include "claimable.h"

#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <time.h>

/*
 * What each test can see: generic_access_phys() itself (reads, writes,
 * gdb); the revocation of a claimed range (its EIO after a claim); the
 * race 96667f8a4382 closed, only where a claim lands between the pte
 * lookup and the copy.
 */
#define ACCESS_GUARD "28b2ee20c7cb v2.6.27 access_process_vm device memory infrastructure"
#define REVOKE_GUARD IOMEM_GUARD_SYSFS "; " IOMEM_GUARD_DEVMEM
#define REMOVAL_GUARD "74b30195395c v5.12 sysfs: Support zapping of binary attr mmaps (device removal: no fix known)"
#define PHYS_GUARD "96667f8a4382 v5.12 mm: Close race in generic_access_phys"
#define NEEDS_BAR (NEEDS_ROOT | NEEDS_PCI_DEVICE)

/* BAR pages the tests use: the mapping at 0, distant pages 5 and 9. */
#define VIEW_PAGES	16
#define FAR_A		5
#define FAR_B		9

/*
 * Torn down in the parent (FIXTURE_TEARDOWN_PARENT): self is shared, but
 * the pointers and mappings in it are the test process's own.
 */
FIXTURE(bar) {
	struct iomem_dev d;
	int bar;
	uint64_t bar_size;	/* set once the BAR may be written */
	struct iomem_map m;	/* two pages at BAR offset 0: the tracee's */
	struct iomem_map far[2];
	struct iomem_map view;	/* sysfs, the first VIEW_PAGES: what the device holds */
	char *want;		/* expected bytes of the first VIEW_PAGES */
	char *buf;
};

FIXTURE_VARIANT(bar) {
	struct iomem_route route;
	enum trace_route access;
};

/* Not in the shared self: the tracee's fork would write its pid 0 there. */
static struct tracee the_tracee;

PHYS_ACCESS_ROUTES(ACCESS_X_MAPS, bar)

static const struct iomem_route view_route =
	IOMEM_ROUTE_INIT(sysfs, IOMEM_SYSFS, EINVAL, false, IOMEM_GUARD_SYSFS);

/* The ivshmem pattern of BAR bytes [off, off + len), word-aligned. */
static void bar_pattern(void *buf, uint64_t off, size_t len)
{
	uint32_t *w = buf;
	size_t i;

	for (i = 0; i < len / 4; i++)
		w[i] = iomem_pattern_word(off + 4 * i);
}

/* Copy from an iomem mapping word by word, as a driver reads it. */
static void bar_copy(void *dst, const volatile void *src, size_t len)
{
	const volatile uint32_t *s = src;
	uint32_t *d = dst;
	size_t i;

	for (i = 0; i < len / 4; i++)
		d[i] = s[i];
}

FIXTURE_SETUP(bar)
{
	size_t ps = page_size();

	IOMEM_PICK(IOMEM_ROLE_PATTERN, &self->d, &self->bar);
	IOMEM_ROUTE_NEEDED(&variant->route, &self->d, self->bar);
	self->bar_size = self->d.bar[self->bar].size;
	ASSERT_LE(VIEW_PAGES * ps, self->bar_size);
	ASSERT_CLAIMED(&self->d, self->bar, false);
	self->want = malloc(VIEW_PAGES * ps);
	self->buf = malloc(VIEW_PAGES * ps);
	ASSERT_TRUE(self->want && self->buf);
	IOMEM_MAP_OK(&self->view, &view_route, &self->d, self->bar, 0, VIEW_PAGES * ps);
	/* Start from the pattern (a test before us may have failed mid-way). */
	bar_pattern(self->want, 0, VIEW_PAGES * ps);
	bar_copy(self->buf, self->view.addr, VIEW_PAGES * ps);
	EXPECT_BYTES(self->buf, self->want, VIEW_PAGES * ps, "BAR contents before the test");
	IOMEM_MAP_OK(&self->m, &variant->route, &self->d, self->bar, 0, 2 * ps);
}

/*
 * In the parent, after the test process is gone (its tracee dies with it):
 * put the pattern back even when an assertion ended the test early.
 */
FIXTURE_TEARDOWN_PARENT(bar)
{
	size_t ps = page_size(), i;
	struct iomem_map v;
	char why[320];

	if (!self->bar_size)
		return;
	if (iomem_map(&v, &view_route, &self->d, self->bar, 0, VIEW_PAGES * ps,
		      PROT_READ | PROT_WRITE, MAP_SHARED, why, sizeof(why))) {
		ksft_print_msg("cannot put the BAR pattern back: %s\n", why);
		return;
	}
	for (i = 0; i < VIEW_PAGES * ps / 4; i++)
		((volatile uint32_t *)v.addr)[i] = iomem_pattern_word(4 * i);
	iomem_unmap(&v);
}

/* What the device holds in the first VIEW_PAGES is self->want. */
#define EXPECT_DEVICE_HOLDS_WANT(self, what) do {			\
	bar_copy((self)->buf, (self)->view.addr, VIEW_PAGES * page_size()); \
	EXPECT_BYTES((self)->buf, (self)->want, VIEW_PAGES * page_size(), what); \
} while (0)

/* A tracee on the two-page mapping; it must then see self->want there. */
static void bar_tracee(FIXTURE_DATA(bar) *self, int prot)
{
	the_tracee = (struct tracee){ .addr = (char *)self->m.addr, .len = self->m.len,
				   .prot = prot, .want = self->want };
}

/* ---- gdb ---------------------------------------------------------------- */

/* The test users actually run: gdb attached to a process that maps a BAR. */
FIXTURE(gdb_bar) {
	struct iomem_dev d;
	int bar;
	struct iomem_map m;
	char *want;		/* the page's pattern: what the tracee checks */
};

FIXTURE_VARIANT(gdb_bar) {
	struct iomem_route route;
};

IOMEM_ROUTES(IOMEM_ROUTE_VARIANT, gdb_bar)

FIXTURE_SETUP(gdb_bar)
{
	IOMEM_PICK(IOMEM_ROLE_PATTERN, &self->d, &self->bar);
	IOMEM_ROUTE_NEEDED(&variant->route, &self->d, self->bar);
	ASSERT_CLAIMED(&self->d, self->bar, false);
	self->want = malloc(page_size());
	ASSERT_NE(NULL, self->want);
	bar_pattern(self->want, 0, page_size());
	IOMEM_MAP_OK(&self->m, &variant->route, &self->d, self->bar, 0, page_size());
}

FIXTURE_TEARDOWN(gdb_bar)
{
	iomem_unmap(&self->m);
	free(self->want);
}

IOPIN_TEST(gdb_bar, gdb_examines_the_words_of_the_bar_a_tracee_maps,
	   .guard = ACCESS_GUARD, .needs = NEEDS_BAR)
{
	uint64_t words[8];
	int n;

	the_tracee = (struct tracee){ .addr = (char *)self->m.addr, .len = self->m.len,
				   .prot = PROT_READ | PROT_WRITE, .want = self->want };
	TRACEE_START(&the_tracee, "rw-s");
	n = gdb_examine(the_tracee.c.pid, (const void *)self->m.addr, words, 8);
	if (n == -2) {
		tracee_kill(&the_tracee);
		SKIP(return, "no gdb in $PATH (Debian: apt-get install gdb; the VM carries gdb-minimal)");
	}
	ASSERT_EQ(8, n) TH_LOG("gdb -batch -p %d -ex 'x/8gx %p' printed %d words",
			       the_tracee.c.pid, (void *)self->m.addr, n);
	EXPECT_BYTES(words, self->want, sizeof(words), "what gdb shows of the BAR");
	EXPECT_TRACEE_OK(&the_tracee, "tracee after gdb detached");
}

/* ---- plain reads and writes --------------------------------------------- */

IOPIN_TEST(bar, read_returns_what_the_device_holds,
	   .guard = ACCESS_GUARD, .needs = NEEDS_BAR)
{
	size_t ps = page_size();
	ssize_t ret;
	int err;

	bar_tracee(self, PROT_READ | PROT_WRITE);
	TRACEE_START(&the_tracee, "rw-s");
	ret = tracee_access(&the_tracee, variant->access, false, self->m.addr, self->buf, ps, &err);
	ACCESS_DONE(ret, err);
	EXPECT_COUNT(ret, err, ps, "read of a BAR page");
	EXPECT_BYTES(self->buf, self->want, ps, "what the read returned");
	EXPECT_TRACEE_OK(&the_tracee, "tracee");
}

IOPIN_TEST(bar, write_reaches_the_device_and_the_tracee,
	   .guard = ACCESS_GUARD, .needs = NEEDS_BAR)
{
	size_t off = 0x200, len = 64, i;
	ssize_t ret;
	int err;

	for (i = off; i < off + len; i += 4)
		*(uint32_t *)(self->want + i) = ~iomem_pattern_word(i);
	bar_tracee(self, PROT_READ | PROT_WRITE);
	TRACEE_START(&the_tracee, "rw-s");
	ret = tracee_access(&the_tracee, variant->access, true, (char *)self->m.addr + off,
			 self->want + off, len, &err);
	ACCESS_DONE(ret, err);
	EXPECT_COUNT(ret, err, len, "write into a PROT_WRITE BAR mapping");
	EXPECT_TRACEE_OK(&the_tracee, "tracee after the write");
	EXPECT_DEVICE_HOLDS_WANT(self, "device memory after the write");
}

IOPIN_TEST(bar, write_to_a_readonly_mapping_fails_with_eio,
	   .guard = ACCESS_GUARD, .needs = NEEDS_BAR)
{
	size_t off = 0x300, len = 64;
	ssize_t ret;
	int err;

	/* Ours too: /proc/self/mem goes through our (then inherited) mapping. */
	ASSERT_EQ(0, mprotect((void *)self->m.addr, self->m.len, PROT_READ))
		TH_LOG("mprotect(PROT_READ) of the BAR mapping: %s", strerror(errno));
	bar_tracee(self, PROT_READ);
	bar_pattern(self->buf, ~0ULL - off, len);	/* anything but the pattern */
	TRACEE_START(&the_tracee, "r--s");
	ret = tracee_access(&the_tracee, variant->access, true, (char *)self->m.addr + off,
			 self->buf, len, &err);
	ACCESS_DONE(ret, err);
	EXPECT_ERRNO(ret, err, EIO, "write into a PROT_READ BAR mapping");
	EXPECT_TRACEE_OK(&the_tracee, "tracee after the refused write");
	EXPECT_DEVICE_HOLDS_WANT(self, "device memory after the refused write");
}

/* ---- page boundaries ---------------------------------------------------- */

IOPIN_TEST(bar, read_across_a_page_boundary_gets_both_pages,
	   .guard = BOUNDARY_GUARD, .needs = NEEDS_BAR)
{
	size_t off = page_size() - 4;
	ssize_t ret;
	int err;

	bar_tracee(self, PROT_READ | PROT_WRITE);
	TRACEE_START(&the_tracee, "rw-s");
	ret = tracee_access(&the_tracee, variant->access, false, (char *)self->m.addr + off,
			 self->buf, 8, &err);
	ACCESS_DONE(ret, err);
	EXPECT_COUNT(ret, err, 8, "read across the page boundary");
	EXPECT_BYTES(self->buf, self->want + off, 8, "what the read returned");
	EXPECT_TRACEE_OK(&the_tracee, "tracee");
}

IOPIN_TEST(bar, write_across_a_page_boundary_changes_exactly_those_bytes,
	   .guard = BOUNDARY_GUARD, .needs = NEEDS_BAR)
{
	size_t off = page_size() - 4;
	ssize_t ret;
	int err;

	*(uint32_t *)(self->want + off) = ~iomem_pattern_word(off);
	*(uint32_t *)(self->want + off + 4) = ~iomem_pattern_word(off + 4);
	bar_tracee(self, PROT_READ | PROT_WRITE);
	TRACEE_START(&the_tracee, "rw-s");
	ret = tracee_access(&the_tracee, variant->access, true, (char *)self->m.addr + off,
			 self->want + off, 8, &err);
	ACCESS_DONE(ret, err);
	EXPECT_COUNT(ret, err, 8, "write across the page boundary");
	EXPECT_TRACEE_OK(&the_tracee, "tracee after the write");
	EXPECT_DEVICE_HOLDS_WANT(self, "device memory after the write");
}

/*
 * Make [at, at + page) the only page mapped there: the one-page BAR
 * mapping far moved to at, nothing mapped in the page after it.
 */
static int place_alone(struct iomem_map *far, char *at)
{
	size_t ps = page_size();
	void *p;

	p = mremap((void *)far->addr, ps, ps, MREMAP_MAYMOVE | MREMAP_FIXED, at);
	if (p != at)
		return -1;
	far->addr = p;
	return 0;
}

/*
 * An access of 8 bytes at the last 4 of a lone one-page mapping of BAR
 * offset bar_off stops at the end of the mapping. What a kernel with the
 * fix does, per accessor: /proc/PID/mem and /proc/self/mem move the 4
 * mapped bytes and return 4 (the next page has no mapping: the short
 * count); PEEK/POKEDATA move a whole word or fail: EIO, after POKEDATA
 * wrote the 4 mapped bytes (access_process_vm() copied 4 of 8). Without
 * the fix generic_access_phys() is handed all 8 bytes and serves the last
 * 4 from the physically next page: 8. A write's in-range bytes go into
 * self->want, so that the caller can check that they, and nothing else,
 * changed.
 */
static void past_the_end(struct __test_metadata *_metadata, FIXTURE_DATA(bar) *self,
			 const FIXTURE_VARIANT(bar) *variant, uint64_t bar_off, bool write)
{
	size_t ps = page_size();
	char *hole, *at, got[8], want[8];
	bool words = variant->access == ROUTE_PTRACE_WORDS;
	char perms[5];
	ssize_t ret;
	int err;

	IOMEM_MAP_OK(&self->far[0], &variant->route, &self->d, self->bar, bar_off, ps);
	hole = mmap(NULL, 2 * ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, hole);
	ASSERT_EQ(0, munmap(hole + ps, ps));
	at = hole;
	ASSERT_EQ(0, place_alone(&self->far[0], at)) TH_LOG("mremap: %s", strerror(errno));
	ASSERT_FALSE(maps_perms(getpid(), at + ps, perms))
		TH_LOG("something is mapped after the BAR page (%s)", perms);
	the_tracee = (struct tracee){ .addr = at, .len = ps, .prot = PROT_READ | PROT_WRITE };
	TRACEE_START(&the_tracee, "rw-s");
	ASSERT_FALSE(maps_perms(the_tracee.c.pid, at + ps, perms))
		TH_LOG("the tracee has something mapped after the BAR page (%s)", perms);
	bar_pattern(want, bar_off + ps - 4, 8);
	if (write) {
		*(uint32_t *)got = ~iomem_pattern_word(bar_off + ps - 4);
		*(uint32_t *)(got + 4) = ~iomem_pattern_word(bar_off + ps);
	}
	ret = tracee_access(&the_tracee, variant->access, write, at + ps - 4, got, 8, &err);
	ACCESS_DONE(ret, err);
	if (words) {
		EXPECT_ERRNO(ret, err, EIO, "a word running past the end of the mapping");
	} else {
		EXPECT_COUNT(ret, err, 4, "access running past the end of the mapping (bytes)");
		if (!write)
			EXPECT_BYTES(got, want, 4, "the in-range bytes read");
	}
	if (write)
		*(uint32_t *)(self->want + bar_off + ps - 4) = ~iomem_pattern_word(bar_off + ps - 4);
	EXPECT_TRACEE_OK(&the_tracee, "tracee");
}

IOPIN_TEST(bar, read_running_past_the_end_of_a_mapping_returns_no_byte_beyond,
	   .guard = BOUNDARY_GUARD, .needs = NEEDS_BAR)
{
	past_the_end(_metadata, self, variant, 3 * page_size(), false);
}

IOPIN_TEST(bar, read_running_past_the_last_page_of_the_bar_returns_no_byte_beyond,
	   .guard = BOUNDARY_GUARD, .needs = NEEDS_BAR)
{
	past_the_end(_metadata, self, variant, self->bar_size - page_size(), false);
}

IOPIN_TEST(bar, write_running_past_the_end_of_a_mapping_lands_nowhere_beyond,
	   .guard = BOUNDARY_GUARD, .needs = NEEDS_BAR)
{
	/*
	 * Not at the end of the BAR: what follows it is not ours to check.
	 * The 4 mapped bytes take the write, the page after them keeps the
	 * pattern.
	 */
	past_the_end(_metadata, self, variant, 3 * page_size(), true);
	EXPECT_DEVICE_HOLDS_WANT(self, "device memory after the write");
}

/* BAR pages FAR_A and FAR_B mapped one page each, next to each other. */
static char *adjacent(struct __test_metadata *_metadata, FIXTURE_DATA(bar) *self,
		      const FIXTURE_VARIANT(bar) *variant)
{
	size_t ps = page_size();
	char *at;

	at = mmap(NULL, 2 * ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (at == MAP_FAILED)
		return NULL;
	IOMEM_MAP_OK(&self->far[0], &variant->route, &self->d, self->bar, FAR_A * ps, ps);
	IOMEM_MAP_OK(&self->far[1], &variant->route, &self->d, self->bar, FAR_B * ps, ps);
	if (place_alone(&self->far[0], at) || place_alone(&self->far[1], at + ps))
		return NULL;
	return at;
}

IOPIN_TEST(bar, read_across_adjacent_mappings_reaches_the_second_mapping,
	   .guard = BOUNDARY_GUARD, .needs = NEEDS_BAR)
{
	size_t ps = page_size();
	char *at = adjacent(_metadata, self, variant), want[8];
	ssize_t ret;
	int err;

	ASSERT_NE(NULL, at) TH_LOG("placing two BAR pages side by side: %s", strerror(errno));
	the_tracee = (struct tracee){ .addr = at, .len = 2 * ps, .prot = PROT_READ | PROT_WRITE };
	TRACEE_START(&the_tracee, "rw-s");
	ret = tracee_access(&the_tracee, variant->access, false, at + ps - 4, self->buf, 8, &err);
	ACCESS_DONE(ret, err);
	bar_pattern(want, (FAR_A + 1) * ps - 4, 4);
	bar_pattern(want + 4, FAR_B * ps, 4);
	EXPECT_COUNT(ret, err, 8, "read across two adjacent BAR mappings");
	EXPECT_BYTES(self->buf, want, 8, "bytes of BAR pages 5 (end) and 9 (start)");
	EXPECT_TRACEE_OK(&the_tracee, "tracee");
}

IOPIN_TEST(bar, write_across_adjacent_mappings_lands_only_in_the_two_pages,
	   .guard = BOUNDARY_GUARD, .needs = NEEDS_BAR)
{
	size_t ps = page_size(), a = (FAR_A + 1) * ps - 4, b = FAR_B * ps;
	char *at = adjacent(_metadata, self, variant);
	ssize_t ret;
	int err;

	ASSERT_NE(NULL, at) TH_LOG("placing two BAR pages side by side: %s", strerror(errno));
	*(uint32_t *)(self->want + a) = ~iomem_pattern_word(a);
	*(uint32_t *)(self->want + b) = ~iomem_pattern_word(b);
	memcpy(self->buf, self->want + a, 4);
	memcpy(self->buf + 4, self->want + b, 4);
	the_tracee = (struct tracee){ .addr = at, .len = 2 * ps, .prot = PROT_READ | PROT_WRITE };
	TRACEE_START(&the_tracee, "rw-s");
	ret = tracee_access(&the_tracee, variant->access, true, at + ps - 4, self->buf, 8, &err);
	ACCESS_DONE(ret, err);
	EXPECT_COUNT(ret, err, 8, "write across two adjacent BAR mappings");
	/* Every word of the first VIEW_PAGES: only those two changed. */
	EXPECT_DEVICE_HOLDS_WANT(self, "device memory after the write");
	EXPECT_TRACEE_OK(&the_tracee, "tracee");
}

/* ---- revocation, removal, and the race with both ------------------------ */

/*
 * A BAR a driver claims on bind (VM: the virtio-pci BAR of a virtio-blk of
 * its own). The tracee maps it while the device is unbound (journaled); the
 * word read is the constant register of iomem_claim_regs() (virtio's
 * num_queues): the same whoever binds. After a claim or a removal, every access route must fail (EIO):
 * never the stale data of a revoked pfn (96667f8a4382 re-checks the pte).
 */
FIXTURE(claim) {
	struct claimable c;
};

FIXTURE_VARIANT(claim) {
	struct iomem_route route;
	enum trace_route access;
};

PHYS_ACCESS_ROUTES(ACCESS_X_MAPS, claim)

FIXTURE_SETUP(claim)
{
	claimable_setup(_metadata, &self->c, &variant->route, &the_tracee);
}

FIXTURE_TEARDOWN(claim)
{
	tracee_kill(&the_tracee);
	iomem_unmap(&self->c.m);
	kstate_restore();
}

static ssize_t read_num_queues(struct claimable *c, enum trace_route a, uint16_t *nq, int *err)
{
	return claimable_read_num_queues(&the_tracee, c, a, nq, err);
}

IOPIN_TEST(claim, reads_fail_with_eio_once_a_driver_claims_the_bar,
	   .guard = REVOKE_GUARD, .needs = CLAIM_NEEDS)
{
	uint16_t nq = 0;
	ssize_t ret;
	int err;

	TRACEE_START(&the_tracee, "rw-s");
	ret = read_num_queues(&self->c, variant->access, &nq, &err);
	ACCESS_DONE(ret, err);
	EXPECT_COUNT(ret, err, 8, "read before the claim");
	EXPECT_BYTES(&nq, &self->c.num_queues, 2, "num_queues before the claim");
	IOMEM_BIND_OK(&self->c.d, self->c.driver);
	ASSERT_CLAIMED(&self->c.d, self->c.bar, true);
	ret = read_num_queues(&self->c, variant->access, &nq, &err);
	ACCESS_DONE(ret, err);
	EXPECT_ERRNO(ret, err, EIO, "read after the claim");
	EXPECT_TRACEE_OK(&the_tracee, "tracee");
}

/*
 * Removal: the device's own files (sysfs, procfs) go away with it, and so
 * must what their mappings reach. (/dev/mem maps an address, not a device:
 * a range nobody claims stays mappable, so it is not crossed here.)
 */
FIXTURE(removal) {
	struct claimable c;
};

FIXTURE_VARIANT(removal) {
	struct iomem_route route;
	enum trace_route access;
};

#define PCI_MAP_X_ACCESS(aid, a, fix) IOMEM_PCI_ROUTES(MAP_X_ACCESS, fix, aid, a)
PHYS_ACCESS_ROUTES(PCI_MAP_X_ACCESS, removal)

FIXTURE_SETUP(removal)
{
	claimable_setup(_metadata, &self->c, &variant->route, &the_tracee);
}

FIXTURE_TEARDOWN(removal)
{
	tracee_kill(&the_tracee);
	iomem_unmap(&self->c.m);
	kstate_restore();
}

IOPIN_TEST(removal, reads_fail_with_eio_once_the_device_is_gone,
	   .guard = REMOVAL_GUARD, .needs = CLAIM_NEEDS)
{
	uint16_t nq = 0;
	char why[320];
	ssize_t ret;
	int err;

	TRACEE_START(&the_tracee, "rw-s");
	ret = read_num_queues(&self->c, variant->access, &nq, &err);
	ACCESS_DONE(ret, err);
	EXPECT_COUNT(ret, err, 8, "read before the removal");
	EXPECT_BYTES(&nq, &self->c.num_queues, 2, "num_queues before the removal");
	ASSERT_EQ(0, iomem_remove(&self->c.d, why, sizeof(why))) TH_LOG("%s", why);
	ret = read_num_queues(&self->c, variant->access, &nq, &err);
	ACCESS_DONE(ret, err);
	EXPECT_ERRNO(ret, err, EIO, "read after the device was removed");
	EXPECT_TRACEE_OK(&the_tracee, "tracee");
}

/*
 * The window 96667f8a4382 closed: generic_access_phys() looks the pte up,
 * ioremaps its pfn (which may sleep) and copies; a claim that zaps the
 * mapping in between must make the copy fail, not reach the device.
 *
 * Each cycle maps the unbound device afresh (a claim zaps a mapping for
 * good) and readers loop over its state register (iomem_claim_regs();
 * virtio: device_status) through a mem
 * file: /proc/self/mem of this process, or /proc/PID/mem of this process
 * from a debugger child. The readers run SCHED_IDLE on the CPU the probe
 * runs on; the binder runs SCHED_FIFO there, sleeps a random while and
 * binds. Its wakeup preempts a reader wherever it is, often between lookup
 * and copy, and the reader resumes only when the binder blocks, by then
 * after the claim zapped the mapping and the driver wrote the status. The
 * status of the unbound device does not change (virtio leaves ACKNOWLEDGE
 * on unbind); the driver writes it only after its claim (reset, then
 * ACKNOWLEDGE | DRIVER ...): a read that returns another value went through
 * a revoked pfn.
 */
#define RACE_READERS	2
#define RACE_MIN_CYCLES	24

/* Shared (MAP_SHARED) with the debugger child. */
struct claim_race {
	char *volatile reg;	/* device_status in the current mapping */
	volatile bool stop;
	int cpu;		/* the probe's CPU: everybody runs there */
	pid_t pid;		/* whose mem the readers read: this process */
	bool self_mem;		/* /proc/self/mem, else /proc/PID/mem */
	unsigned char unbound;	/* the status while no driver is bound */
	int ready;		/* readers running on cpu as SCHED_IDLE */
	long same, failed, other;	/* reads: the unbound status, error, another */
	unsigned char last_other;
};

static bool run_on(int cpu, int policy, int prio)
{
	struct sched_param sp = { .sched_priority = prio };
	cpu_set_t cpus;

	CPU_ZERO(&cpus);
	CPU_SET(cpu, &cpus);
	return !sched_setaffinity(0, sizeof(cpus), &cpus) && !sched_setscheduler(0, policy, &sp);
}

static void *race_reader(void *arg)
{
	struct claim_race *r = arg;
	unsigned char st;
	char path[64];
	int fd;

	if (r->self_mem)
		snprintf(path, sizeof(path), "/proc/self/mem");
	else
		snprintf(path, sizeof(path), "/proc/%d/mem", r->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || !run_on(r->cpu, SCHED_IDLE, 0))
		return NULL;	/* never ready: the binder says so */
	__atomic_add_fetch(&r->ready, 1, __ATOMIC_RELEASE);
	while (!r->stop) {
		if (pread(fd, &st, 1, (off_t)(uintptr_t)r->reg) != 1) {
			__atomic_add_fetch(&r->failed, 1, __ATOMIC_RELAXED);
		} else if (st == r->unbound) {
			__atomic_add_fetch(&r->same, 1, __ATOMIC_RELAXED);
		} else {
			r->last_other = st;
			__atomic_add_fetch(&r->other, 1, __ATOMIC_RELAXED);
		}
	}
	close(fd);
	return NULL;
}

static int readers_start(struct claim_race *r, pthread_t *t)
{
	int i;

	for (i = 0; i < RACE_READERS; i++)
		if (pthread_create(&t[i], NULL, race_reader, r))
			return i;
	return i;
}

static void readers_join(pthread_t *t, int n)
{
	while (n--)
		pthread_join(t[n], NULL);
}

/* The debugger child: its readers read the parent's /proc/PID/mem. */
static int race_debugger(struct child *c, void *arg)
{
	pthread_t t[RACE_READERS];
	int n = readers_start(arg, t);

	(void)c;
	readers_join(t, n);
	return n == RACE_READERS ? CHILD_OK : child_fail("could not start the readers");
}

/* Sleep-poll (the binder must not spin over its SCHED_IDLE readers). */
static bool await_count(const long *count, long at_least)
{
	int i;

	for (i = 0; i < 100000; i++) {
		if (__atomic_load_n(count, __ATOMIC_ACQUIRE) >= at_least)
			return true;
		usleep(100);
	}
	return false;
}

FIXTURE(claim_race) {
	struct claimable c;
	struct claim_race *r;
	pthread_t readers[RACE_READERS];	/* /proc/self/mem: ours */
	int nreaders;
	struct child debugger;		/* /proc/PID/mem: its own */
};

FIXTURE_VARIANT(claim_race) {
	struct iomem_route route;
	enum trace_route access;
};

#define MEM_FILE_ROUTES(X, ...)						\
	X(proc_pid_mem, ROUTE_PROC_PID_MEM, __VA_ARGS__)		\
	X(proc_self_mem, ROUTE_PROC_SELF_MEM, __VA_ARGS__)
MEM_FILE_ROUTES(ACCESS_X_MAPS, claim_race)

FIXTURE_SETUP(claim_race)
{
	claimable_setup(_metadata, &self->c, &variant->route, &the_tracee);
	self->r = mmap(NULL, sizeof(*self->r), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->r);
	self->r->cpu = iomem_dev_probe_cpu(&self->c.d);
	ASSERT_LE(0, self->r->cpu) TH_LOG("%s: no local_cpulist", self->c.d.bdf);
	self->r->pid = getpid();
	self->r->self_mem = variant->access == ROUTE_PROC_SELF_MEM;
	self->r->reg = (char *)self->c.m.addr + self->c.status_off;
	self->r->unbound = *(volatile uint8_t *)self->r->reg;
}

FIXTURE_TEARDOWN(claim_race)
{
	if (self->r && self->r != MAP_FAILED) {
		self->r->stop = true;
		readers_join(self->readers, self->nreaders);
		if (self->debugger.pid > 0)
			child_wait(&self->debugger);
		munmap(self->r, sizeof(*self->r));
	}
	iomem_unmap(&self->c.m);
	kstate_restore();
}

IOPIN_TEST(claim_race, reads_preempted_by_a_claim_never_see_what_the_driver_wrote,
	   .guard = PHYS_GUARD, .needs = CLAIM_NEEDS)
{
	struct claimable *c = &self->c;
	struct claim_race *r = self->r;
	struct timespec t0;
	long cycles, ms = 0, same;
	char why[320] = "";
	uint8_t st;

	if (r->self_mem) {
		self->nreaders = readers_start(r, self->readers);
	} else {
		ASSERT_EQ(0, child_start(&self->debugger, race_debugger, r));
		ASSERT_EQ(0, child_go(&self->debugger));
	}
	ASSERT_TRUE(await_count((long *)&r->ready, RACE_READERS))
		TH_LOG("readers not running on CPU %d as SCHED_IDLE", r->cpu);
	ASSERT_TRUE(run_on(r->cpu, SCHED_FIFO, 1))
		TH_LOG("binder to SCHED_FIFO on CPU %d: %s", r->cpu, strerror(errno));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (cycles = 0; cycles < RACE_MIN_CYCLES || ms < race_ms(); cycles++) {
		if (cycles)
			IOMEM_MAP_OK(&c->m, &variant->route, &c->d, c->bar, c->map_off, page_size());
		st = *(volatile uint8_t *)((char *)c->m.addr + c->status_off);
		ASSERT_EQ(r->unbound, st)
			TH_LOG("status of the unbound device changed, cycle %ld", cycles);
		same = r->same;
		r->reg = (char *)c->m.addr + c->status_off;
		ASSERT_TRUE(await_count(&r->same, same + RACE_READERS))
			TH_LOG("no reader read the new mapping, cycle %ld", cycles);
		usleep(random() % 500);
		if (iomem_bind(&c->d, c->driver, why, sizeof(why)))
			break;
		EXPECT_READ_SIGBUS((char *)c->m.addr + c->status_off, "the mapping once claimed");
		if (iomem_unbind(&c->d, why, sizeof(why)))
			break;
		iomem_unmap(&c->m);
		ms = ms_since(&t0);
	}
	ASSERT_TRUE(run_on(r->cpu, SCHED_OTHER, 0));
	ksft_print_msg("%ld claims in %ld ms on CPU %d: reads of status 0x%02x (unbound) %ld, failed %ld, of another status %ld (last 0x%02x)\n",
		       cycles, ms, r->cpu, r->unbound, r->same, r->failed, r->other, r->last_other);
	ASSERT_EQ(0, why[0]) TH_LOG("cycle %ld: %s", cycles, why);
	EXPECT_BYTES(&r->other, &(long){ 0 }, sizeof(r->other),
		     "count of reads that returned a status the driver wrote after its claim");
}

/* ---- process_vm_readv/writev: no access hook ----------------------------- */

FIXTURE(bar_process_vm) {
	struct iomem_dev d;
	int bar;
	struct iomem_map m;
};

FIXTURE_VARIANT(bar_process_vm) {
	struct iomem_route route;
};

IOMEM_ROUTES(IOMEM_ROUTE_VARIANT, bar_process_vm)

FIXTURE_SETUP(bar_process_vm)
{
	IOMEM_PICK(IOMEM_ROLE_PATTERN, &self->d, &self->bar);
	IOMEM_ROUTE_NEEDED(&variant->route, &self->d, self->bar);
	IOMEM_MAP_OK(&self->m, &variant->route, &self->d, self->bar, 0, page_size());
}

FIXTURE_TEARDOWN(bar_process_vm)
{
	tracee_kill(&the_tracee);
	iomem_unmap(&self->m);
}

IOPIN_TEST(bar_process_vm, readv_and_writev_fail_with_efault,
	   .guard = "fcf634098c00 v3.2 Cross Memory Attach", .needs = NEEDS_BAR)
{
	uint32_t buf[16], want[16];
	ssize_t ret;
	int err;

	bar_pattern(want, 0, sizeof(want));
	the_tracee = (struct tracee){ .addr = (char *)self->m.addr, .len = page_size(),
				   .prot = PROT_READ | PROT_WRITE };
	TRACEE_START(&the_tracee, "rw-s");
	ret = trace_read(ROUTE_PROCESS_VM, the_tracee.c.pid, (void *)self->m.addr, buf, sizeof(buf));
	err = errno;
	EXPECT_ERRNO(ret, err, EFAULT, "process_vm_readv of a BAR mapping");
	memset(buf, 0x5a, sizeof(buf));
	ret = trace_write(ROUTE_PROCESS_VM, the_tracee.c.pid, (void *)self->m.addr, buf, sizeof(buf));
	err = errno;
	EXPECT_ERRNO(ret, err, EFAULT, "process_vm_writev to a BAR mapping");
	EXPECT_TRACEE_OK(&the_tracee, "tracee");
	bar_copy(buf, self->m.addr, sizeof(buf));
	EXPECT_BYTES(buf, want, sizeof(buf), "device memory after the refused write");
}

IOPIN_MAIN
