// SPDX-License-Identifier: GPL-2.0-only
/*
 * THP and hugetlb knobs: the sizes offered, and enabling them through kstate.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kernel.h"
#include "mem-int.h"

int thp_sizes_offered(unsigned long *kb, int max)
{
	DIR *d = opendir(THP_SYSFS);
	struct dirent *de;
	char path[512];
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)) && n < max) {
		unsigned long size;

		if (sscanf(de->d_name, "hugepages-%lukB", &size) != 1)
			continue;
		snprintf(path, sizeof(path), THP_SYSFS "/%s/enabled", de->d_name);
		if (!access(path, F_OK))	/* anon knob: the size is offered */
			kb[n++] = size;
	}
	closedir(d);
	if (!n && thp_pmd_size() && max > 0)	/* before mTHP: PMD only */
		kb[n++] = thp_pmd_size() / 1024;
	return n;
}

static bool choice_allows(const char *c)
{
	return !strcmp(c, "always") || !strcmp(c, "madvise");
}

enum mem_result thp_enable(struct mem *m, unsigned long kb)
{
	char knob[256], cur[32], global[32];
	bool pmd = kb * 1024 == thp_pmd_size();

	if (!thp_pmd_size())
		return fail(m, MEM_SKIP, "kernel has no THP (%s missing)",
			    THP_SYSFS "/hpage_pmd_size");
	if (!sysfs_read_choice(THP_SYSFS "/enabled", global, sizeof(global)))
		return fail(m, MEM_SKIP, "cannot read %s", THP_SYSFS "/enabled");
	snprintf(knob, sizeof(knob), THP_SYSFS "/hugepages-%lukB/enabled", kb);
	if (!sysfs_read_choice(knob, cur, sizeof(cur))) {
		if (!pmd)
			return fail(m, MEM_SKIP,
				    "kernel offers no %lukB anonymous THP (no %s)",
				    kb, knob);
		/* Kernel without per-size knobs: the global one rules. */
		if (choice_allows(global))
			return MEM_OK;
		if (kstate_write(THP_SYSFS "/enabled", "madvise"))
			return fail(m, MEM_SKIP, "cannot enable THP in %s: %s",
				    THP_SYSFS "/enabled", strerror(errno));
		return MEM_OK;
	}
	if (choice_allows(cur) || (!strcmp(cur, "inherit") && choice_allows(global)))
		return MEM_OK;
	if (kstate_write(knob, "madvise"))
		return fail(m, MEM_SKIP, "cannot enable %lukB THP in %s: %s",
			    kb, knob, strerror(errno));
	return MEM_OK;
}

enum mem_result hugetlb_reserve(unsigned long kb, long needed, char *why,
				size_t len)
{
	char dir[256], path[320], val[32];
	long nr, free_pages, resv, deficit;
	int tries;

	snprintf(dir, sizeof(dir), HUGETLB_SYSFS "/hugepages-%lukB", kb);
	if (access(dir, F_OK)) {
		snprintf(why, len, "kernel has no %lukB hugetlb pages (no %s)", kb, dir);
		return MEM_SKIP;
	}
	snprintf(path, sizeof(path), "%s/resv_hugepages", dir);
	resv = sysfs_read_long(path);
	snprintf(path, sizeof(path), "%s/free_hugepages", dir);
	free_pages = sysfs_read_long(path);
	/*
	 * Reserved pages are free pages set aside, so resv <= free; the 1 GiB
	 * pool's resv_hugepages has been seen to read 2^64 - 1 (an underflow),
	 * which strtol() clamps to LONG_MAX: count no free page as available.
	 */
	if (resv > free_pages)
		resv = free_pages;
	deficit = needed - (free_pages - resv);
	if (deficit <= 0)
		return MEM_OK;
	snprintf(path, sizeof(path), "%s/nr_hugepages", dir);
	nr = sysfs_read_long(path);
	snprintf(val, sizeof(val), "%ld", nr + deficit);
	if (kstate_write(path, val)) {
		snprintf(why, len, "cannot raise %s to %s: %s", path, val,
			 strerror(errno));
		return MEM_SKIP;
	}
	/* Gigantic pages need contiguous memory: compact and try again. */
	for (tries = 0; tries < 3; tries++) {
		snprintf(path, sizeof(path), "%s/free_hugepages", dir);
		free_pages = sysfs_read_long(path);
		if (free_pages - resv >= needed)
			return MEM_OK;
		sysfs_write("/proc/sys/vm/compact_memory", "1");
		snprintf(path, sizeof(path), "%s/nr_hugepages", dir);
		sysfs_write(path, val);
	}
	snprintf(why, len, "could not get %ld free %lukB hugetlb pages (kernel gave %ld)",
		 needed, kb, free_pages - resv);
	return MEM_SKIP;
}
