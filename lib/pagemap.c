// SPDX-License-Identifier: GPL-2.0-only
/*
 * pagemap, kpageflags and /proc/zoneinfo: where a page is, and what it is.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernel.h"
#include "mem-int.h"

int pagemap_read(const void *addr, size_t n, uint64_t *out)
{
	off_t off = (uintptr_t)addr / page_size() * sizeof(uint64_t);
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	ssize_t want = n * sizeof(uint64_t), got;

	if (fd < 0)
		return -1;
	got = pread(fd, out, want, off);
	close(fd);
	return got == want ? 0 : -1;
}

uint64_t pagemap_entry(const void *addr)
{
	uint64_t e = 0;

	pagemap_read(addr, 1, &e);
	return e;
}

uint64_t pagemap_pfn(const void *addr)
{
	uint64_t e = pagemap_entry(addr);

	return (e & PM_PRESENT) ? e & PM_PFN_MASK : 0;
}

uint64_t kpageflags(uint64_t pfn)
{
	uint64_t flags = 0;
	int fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	if (pread(fd, &flags, sizeof(flags), pfn * sizeof(flags)) != sizeof(flags))
		flags = 0;
	close(fd);
	return flags;
}

int clear_soft_dirty(void)
{
	return sysfs_write("/proc/self/clear_refs", "4");
}

bool range_is_one_thp(const void *addr, size_t size)
{
	size_t n = size / page_size(), i;
	uint64_t *e = calloc(n, sizeof(*e)), pfn0, f;
	bool ok = false;

	if (!e || pagemap_read(addr, n, e))
		goto out;
	pfn0 = e[0] & PM_PFN_MASK;
	if (!(e[0] & PM_PRESENT) || !pfn0 || pfn0 % n)
		goto out;
	for (i = 0; i < n; i++)
		if (!(e[i] & PM_PRESENT) || (e[i] & PM_PFN_MASK) != pfn0 + i)
			goto out;
	f = kpageflags(pfn0);
	if (!(f & (1ULL << KPF_THP)) || !(f & (1ULL << KPF_COMPOUND_HEAD)))
		goto out;
	if (n > 1 && !(kpageflags(pfn0 + 1) & (1ULL << KPF_COMPOUND_TAIL)))
		goto out;
	/* Not the start of a bigger folio. */
	ok = !(kpageflags(pfn0 + n) & (1ULL << KPF_COMPOUND_TAIL));
out:
	free(e);
	return ok;
}

/* ---- zones --------------------------------------------------------------- */

/*
 * Walk /proc/zoneinfo: fn(node, zone, start_pfn, spanned, managed, arg) for
 * each zone, until fn returns true. The start_pfn line comes last of the
 * three, so a zone is complete when it is read (empty zones have none).
 */
static bool zoneinfo_walk(bool (*fn)(int, const char *, uint64_t, uint64_t,
				     long, void *), void *arg)
{
	FILE *f = fopen("/proc/zoneinfo", "re");
	char line[256], zone[32] = "";
	unsigned long long start, spanned = 0;
	long managed = 0;
	bool done = false;
	int node = -1;

	if (!f)
		return false;
	while (!done && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Node %d, zone %31s", &node, zone) == 2)
			spanned = managed = 0;
		else if (sscanf(line, " spanned %llu", &spanned) == 1 ||
			 sscanf(line, " managed %ld", &managed) == 1)
			;
		else if (sscanf(line, " start_pfn: %llu", &start) == 1)
			done = fn(node, zone, start, spanned, managed, arg);
	}
	fclose(f);
	return done;
}

struct zone_query {
	uint64_t pfn;
	int node;
	char zone[32];
	long movable;
};

static bool zone_holds(int node, const char *zone, uint64_t start,
		       uint64_t spanned, long managed, void *arg)
{
	struct zone_query *q = arg;

	(void)managed;
	if (q->pfn < start || q->pfn >= start + spanned)
		return false;
	q->node = node;
	snprintf(q->zone, sizeof(q->zone), "%s", zone);
	return true;
}

const char *pfn_zone(uint64_t pfn, int *node)
{
	static struct zone_query q;

	memset(&q, 0, sizeof(q));
	q.pfn = pfn;
	if (!zoneinfo_walk(zone_holds, &q))
		return NULL;
	if (node)
		*node = q.node;
	return q.zone;
}

static bool zone_count_movable(int node, const char *zone, uint64_t start,
			       uint64_t spanned, long managed, void *arg)
{
	(void)node;
	(void)start;
	(void)spanned;
	if (!strcmp(zone, "Movable"))
		((struct zone_query *)arg)->movable += managed;
	return false;
}

long zone_movable_pages(void)
{
	struct zone_query q = { 0 };

	zoneinfo_walk(zone_count_movable, &q);
	return q.movable;
}
