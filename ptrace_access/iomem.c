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
IOPIN_ROUTE_AXES(bar);

/* Not in the shared self: the tracee's fork would write its pid 0 there. */
static struct tracee the_tracee;

TRACE_HOOK_ROUTES(ACCESS_X_MAPS, bar)

static const struct iomem_route view_route =
	IOMEM_ROUTE_OF(IOMEM_ROUTE_SYSFS);

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
	ASSERT_BYTES(self->buf, self->want, VIEW_PAGES * ps, "BAR contents before the test");
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
#define ASSERT_DEVICE_HOLDS_WANT(self, what) do {			\
	bar_copy((self)->buf, (self)->view.addr, VIEW_PAGES * page_size()); \
	ASSERT_BYTES((self)->buf, (self)->want, VIEW_PAGES * page_size(), what); \
} while (0)

/* A tracee on the two-page mapping; it must then see self->want there. */
static void bar_tracee(FIXTURE_DATA(bar) *self, int prot)
{
	the_tracee = (struct tracee){ .addr = (char *)self->m.addr, .len = self->m.len,
				   .prot = prot, .want = self->want };
}

/*
 * The tests, one file per idea, in this order (which is the order of
 * fixtures and tests in the listing).
 */
#include "iomem-data.h"
#include "iomem-boundary.h"
#include "iomem-revocation.h"
#include "iomem-race.h"

/* ---- process_vm_readv/writev: no access hook ----------------------------- */

FIXTURE(bar_process_vm) {
	struct iomem_dev d;
	int bar;
	struct iomem_map m;
};

IOMEM_ROUTE_VARIANTS(bar_process_vm, IOMEM_ROUTES)


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
	ASSERT_ERRNO(ret, err, EFAULT, "process_vm_readv of a BAR mapping");
	memset(buf, 0x5a, sizeof(buf));
	ret = trace_write(ROUTE_PROCESS_VM, the_tracee.c.pid, (void *)self->m.addr, buf, sizeof(buf));
	err = errno;
	ASSERT_ERRNO(ret, err, EFAULT, "process_vm_writev to a BAR mapping");
	ASSERT_TRACEE_OK(&the_tracee, "tracee");
	bar_copy(buf, self->m.addr, sizeof(buf));
	ASSERT_BYTES(buf, want, sizeof(buf), "device memory after the refused write");
}

IOPIN_MAIN
