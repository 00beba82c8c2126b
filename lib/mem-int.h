/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the parts of lib's memory code share (mem.c, mem-types.c,
 * mem-knobs.c, pagemap.c, swap.c): not for tests.
 */
#ifndef IOPIN_MEM_INT_H
#define IOPIN_MEM_INT_H

#include <stdio.h>

#include "mem.h"

#define THP_SYSFS	"/sys/kernel/mm/transparent_hugepage"
#define HUGETLB_SYSFS	"/sys/kernel/mm/hugepages"

/* Set m->why, evaluate to res. */
#define fail(m, res, ...) \
	({ snprintf((m)->why, sizeof((m)->why), __VA_ARGS__); res; })

/* n pagemap entries from addr's page; 0 or -1. */
int pagemap_read(const void *addr, size_t n, uint64_t *out);
/* Make MADV_HUGEPAGE regions get THPs of kb, changing knobs via kstate. */
enum mem_result thp_enable(struct mem *m, unsigned long kb);
/*
 * A writable directory for files: env if set, else the first of cands on a
 * tmpfs (want_tmpfs) or on ext4/xfs/btrfs.
 */
const char *mem_find_dir(const char *env, const char * const *cands,
			 bool want_tmpfs);
extern const char * const mem_disk_dirs[];
/* Page the range out (it holds its pattern); check pagemap says so. */
enum mem_result mem_page_out(struct mem *m);

#endif
