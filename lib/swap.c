// SPDX-License-Identifier: GPL-2.0-only
/*
 * Swap: make sure some is active (a journaled swap file if need be), page memory out.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/swap.h>
#include <unistd.h>

#include "kernel.h"
#include "mem-int.h"

#define SWAPFILE_KB	(32 * 1024UL)
#define SWAP_MAGIC	"SWAPSPACE2"

/* Free kB over all active swap areas. */
static long swap_free_kb(void)
{
	FILE *f = fopen("/proc/swaps", "re");
	long total = 0, size, used;
	char line[512];

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s %*s %ld %ld", &size, &used) == 2)
			total += size - used;
	fclose(f);
	return total;
}

/* A zero-filled file with a version 1 swap header ("SWAPSPACE2"). */
static int swapfile_write(int fd, size_t size)
{
	size_t ps = page_size(), done;
	char *buf = calloc(1, 1 << 20);
	uint32_t *hdr;
	int ret = 0;

	if (!buf)
		return -1;
	for (done = 0; !ret && done < size; done += 1 << 20)
		if (write(fd, buf, 1 << 20) != 1 << 20)
			ret = -1;
	hdr = (uint32_t *)(buf + 1024);		/* after the boot block */
	hdr[0] = 1;				/* version */
	hdr[1] = size / ps - 1;			/* last page */
	memcpy(buf + ps - 10, SWAP_MAGIC, sizeof(SWAP_MAGIC) - 1);	/* no NUL */
	if (!ret && (pwrite(fd, buf, ps, 0) != (ssize_t)ps || fsync(fd)))
		ret = -1;
	free(buf);
	return ret;
}

enum mem_result swap_ensure(unsigned long kb, char *why, size_t len)
{
	const char *dir;
	char path[512];
	int fd;

	if (swap_free_kb() >= (long)kb)
		return MEM_OK;
	if (geteuid()) {
		snprintf(why, len, "no active swap with %lu kB free, and only root may enable a swap file", kb);
		return MEM_SKIP;
	}
	dir = mem_find_dir("IOPIN_DISK_DIR", mem_disk_dirs, false);
	if (!dir) {
		snprintf(why, len, "no active swap and no ext4/xfs/btrfs directory for a swap file (set IOPIN_DISK_DIR)");
		return MEM_SKIP;
	}
	snprintf(path, sizeof(path), "%s/iopin-swap.XXXXXX", dir);
	fd = mkstemp(path);
	if (fd < 0) {
		snprintf(why, len, "creating a swap file in %s: %s", dir, strerror(errno));
		return MEM_ERR;
	}
	if (swapfile_write(fd, (kb > SWAPFILE_KB ? kb : SWAPFILE_KB) * 1024UL)) {
		snprintf(why, len, "writing swap file %s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return MEM_ERR;
	}
	close(fd);
	/* Journaled first: swapped off and removed however this process ends. */
	if (kstate_swapfile(path)) {
		snprintf(why, len, "cannot journal swap file %s", path);
		unlink(path);
		return MEM_ERR;
	}
	if (swapon(path, 0)) {
		snprintf(why, len, "no active swap, and swapon of a swap file on %s failed: %s",
			 dir, strerror(errno));
		return MEM_SKIP;
	}
	return MEM_OK;
}

/* Is every page of the range a swap entry (not present) in pagemap? */
static size_t pages_not_swapped(const void *addr, size_t size)
{
	size_t n = size / page_size(), i, left = 0;
	uint64_t *e = calloc(n, sizeof(*e));

	if (!e || pagemap_read(addr, n, e)) {
		free(e);
		return n;
	}
	for (i = 0; i < n; i++)
		if ((e[i] & PM_PRESENT) || !(e[i] & PM_SWAP))
			left++;
	free(e);
	return left;
}

/*
 * Page the range out (it holds its pattern) and check pagemap says so.
 * swap_ensure() ran before the memory was created: the kstate keeper it may
 * fork would otherwise share the pages, and MADV_PAGEOUT leaves pages of
 * more than one process alone.
 */
enum mem_result mem_page_out(struct mem *m)
{
	size_t left = 0;
	int tries;

	for (tries = 0; tries < 5; tries++) {
		if (madvise(m->addr, m->size, MADV_PAGEOUT))
			return errno == EINVAL ?
				fail(m, MEM_SKIP, "kernel has no MADV_PAGEOUT (v5.4)") :
				fail(m, MEM_ERR, "MADV_PAGEOUT: %s", strerror(errno));
		left = pages_not_swapped(m->addr, m->size);
		if (!left)
			return MEM_OK;
	}
	return fail(m, MEM_ERR,
		    "MADV_PAGEOUT left %zu of %zu pages not swapped out (pagemap)",
		    left, m->size / page_size());
}
