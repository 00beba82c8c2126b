// SPDX-License-Identifier: GPL-2.0-only
/*
 * Memory of a type: create, destroy, look at it (lib/mem.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kernel.h"
#include "mem-int.h"

size_t page_size(void)
{
	static size_t ps;

	if (!ps)
		ps = sysconf(_SC_PAGESIZE);
	return ps;
}

size_t thp_pmd_size(void)
{
	static long pmd;

	if (!pmd)
		pmd = sysfs_read_long(THP_SYSFS "/hpage_pmd_size");
	return pmd > 0 ? (size_t)pmd : 0;
}

bool mem_is_hugetlb(const struct mem_type *t)
{
	return mem_backing_info(t->backing)->flags & MEM_F_HUGETLB;
}

bool mem_is_zero(const struct mem_type *t)
{
	return mem_backing_info(t->backing)->flags & MEM_F_ZERO;
}

bool mem_is_file(const struct mem_type *t)
{
	return mem_backing_info(t->backing)->flags & MEM_F_FILE;
}

unsigned int mem_type_needs(const struct mem_type *t)
{
	return mem_backing_info(t->backing)->needs;
}

enum mem_result mem_create(struct mem *m, const struct mem_type *type)
{
	memset(m, 0, sizeof(*m));
	m->type = type;
	m->fd = -1;
	return mem_backing_info(type->backing)->create(m);
}

void mem_destroy(struct mem *m)
{
	if (m->sharer > 0) {
		kill(m->sharer, SIGKILL);
		waitpid(m->sharer, NULL, 0);
		m->sharer = 0;
	}
	if (m->addr && m->addr != m->map)
		munmap(m->addr, m->size);
	if (m->map)
		munmap(m->map, m->map_size);
	if (m->fd >= 0)
		close(m->fd);
	m->addr = m->map = NULL;
	m->fd = -1;
	kstate_restore();
}

int mem_unmap(struct mem *m)
{
	int ret = munmap(m->addr, m->size);

	if (m->map == m->addr)
		m->map = NULL;
	m->addr = NULL;
	return ret;
}

bool range_is_mapped(const void *addr, size_t len)
{
	uintptr_t start = (uintptr_t)addr, end = start + len;
	unsigned long lo, hi;
	bool mapped = false;
	char *line = NULL;
	size_t cap = 0;
	FILE *f = fopen("/proc/self/maps", "re");

	if (!f)
		return true;	/* cannot tell: do not claim it is gone */
	while (!mapped && getline(&line, &cap, f) > 0)
		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2)
			mapped = lo < end && hi > start;
	free(line);
	fclose(f);
	return mapped;
}

bool range_is_populated(const void *addr, size_t len)
{
	size_t n = (len + page_size() - 1) / page_size(), i;
	uint64_t *e = calloc(n, sizeof(*e));
	bool ok = e && !pagemap_read(addr, n, e);

	for (i = 0; ok && i < n; i++)
		ok = e[i] & (PM_PRESENT | PM_SWAP);
	free(e);
	return ok;
}

char *mem_map_backing_view(struct mem *m, size_t *len, uint8_t *seed)
{
	struct mem fresh;
	char *p;

	if (mem_is_zero(m->type)) {
		*seed = 0;
		if (mem_create(&fresh, m->type) != MEM_OK)
			return NULL;
		*len = fresh.map_size;
		return fresh.map;
	}
	*seed = 1;
	*len = m->size;
	if (m->fd < 0)
		return NULL;
	p = mmap(NULL, m->size, PROT_READ, MAP_SHARED, m->fd, 0);
	return p == MAP_FAILED ? NULL : p;
}
