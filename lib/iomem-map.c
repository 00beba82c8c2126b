// SPDX-License-Identifier: GPL-2.0-only
/*
 * iomem: /proc/iomem, and the routes by which userspace maps a BAR or a
 * physical range.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/pci.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "iomem-int.h"
#include "kernel.h"
#include "needs.h"

/* ---- /proc/iomem ---------------------------------------------------------- */

struct iomem_line {
	int indent;
	uint64_t start, end;
	char name[128];
};

static bool iomem_parse(const char *line, struct iomem_line *l)
{
	int n = 0;

	l->indent = strspn(line, " ");
	if (sscanf(line + l->indent, "%" SCNx64 "-%" SCNx64 " : %n", &l->start, &l->end, &n) < 2 || !n)
		return false;
	snprintf(l->name, sizeof(l->name), "%s", line + l->indent + n);
	l->name[strcspn(l->name, "\n")] = '\0';
	return true;
}

int iomem_find(const char *name, uint64_t *start, uint64_t *end)
{
	FILE *f = fopen("/proc/iomem", "re");
	struct iomem_line l;
	char line[256];
	int rc = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (iomem_parse(line, &l) && !strcmp(l.name, name) && l.end) {
			*start = l.start;
			*end = l.end;
			rc = 0;
			break;
		}
	fclose(f);
	return rc;
}

bool iomem_claimed(const char *parent, uint64_t addr, char *owner, size_t len)
{
	FILE *f = fopen("/proc/iomem", "re");
	struct iomem_line l;
	int in_parent = -1;
	char line[256];
	bool found = false;

	if (owner && len)
		owner[0] = '\0';
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		if (!iomem_parse(line, &l))
			continue;
		if (in_parent >= 0 && l.indent <= in_parent)
			in_parent = -1;
		if (in_parent < 0) {
			if (!strcmp(l.name, parent) && l.start <= addr && addr <= l.end)
				in_parent = l.indent;
			continue;
		}
		if (l.start <= addr && addr <= l.end) {
			if (owner)
				snprintf(owner, len, "%s", l.name);
			found = true;
		}
	}
	fclose(f);
	return found;
}


/* ---- routes ----------------------------------------------------------------- */

static void route_path(const struct iomem_route *r, const struct iomem_dev *d,
		       int bar, char *buf, size_t len)
{
	char name[32];

	switch (r->id) {
	case IOMEM_DEVMEM:
		snprintf(buf, len, "/dev/mem");
		break;
	case IOMEM_SYSFS:
	case IOMEM_SYSFS_WC:
		snprintf(name, sizeof(name), "resource%d%s", bar,
			 r->id == IOMEM_SYSFS_WC ? "_wc" : "");
		iomem_dev_path(d, name, buf, len);
		break;
	case IOMEM_PROCFS:
		if (d->domain)
			snprintf(buf, len, "/proc/bus/pci/%04x:%02x/%02x.%x", d->domain,
				 d->bus, d->dev, d->func);
		else
			snprintf(buf, len, "/proc/bus/pci/%02x/%02x.%x", d->bus, d->dev,
				 d->func);
		break;
	}
}

bool iomem_route_usable(const struct iomem_route *r, const struct iomem_dev *d,
			int bar, char *why, size_t len)
{
	char path[160];

	if (r->id == IOMEM_DEVMEM)
		return !iomem_unmet(NEEDS_DEVMEM, why, len);
	route_path(r, d, bar, path, sizeof(path));
	if (!access(path, F_OK))
		return true;
	if (r->id == IOMEM_SYSFS_WC)
		snprintf(why, len, "%s: no %s (it exists for prefetchable memory BARs only)",
			 d->bdf, path);
	else
		snprintf(why, len, "no %s", path);
	return false;
}

static int map_fd(struct iomem_map *m, int fd, uint64_t off, size_t len, int prot,
		  int flags, const char *path, char *why, size_t whylen)
{
	void *p = mmap(NULL, len, prot, flags & ~IOMEM_NO_MMAP_IS_MEM, fd, off);
	int err = errno;

	if (p == MAP_FAILED) {
		snprintf(why, whylen, "mmap(%s, offset 0x%" PRIx64 ", 0x%zx bytes): %s",
			 path, off, len, strerror(err));
		close(fd);
		m->fd = -1;
		return -err;
	}
	m->addr = p;
	m->len = len;
	return 0;
}

int iomem_map(struct iomem_map *m, const struct iomem_route *r,
	      const struct iomem_dev *d, int bar, uint64_t off, size_t len,
	      int prot, int flags, char *why, size_t whylen)
{
	int oflags = (prot & PROT_WRITE ? O_RDWR : O_RDONLY) | O_CLOEXEC;
	uint64_t map_off = off;
	char path[160];
	int err;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	m->route = r;
	m->phys = d->bar[bar].addr + off;
	route_path(r, d, bar, path, sizeof(path));
	if (r->id == IOMEM_DEVMEM)
		oflags |= O_SYNC;
	if (r->id == IOMEM_DEVMEM || r->id == IOMEM_PROCFS)
		map_off = d->bar[bar].addr + off;	/* x86: bus address = CPU address */
	m->fd = open(path, oflags);
	if (m->fd < 0) {
		err = errno;
		snprintf(why, whylen, "open(%s): %s", path, strerror(err));
		return -err;
	}
	if (r->id == IOMEM_PROCFS && !(flags & IOMEM_NO_MMAP_IS_MEM) &&
	    ioctl(m->fd, PCIIOC_MMAP_IS_MEM)) {
		err = errno;
		snprintf(why, whylen, "ioctl(%s, PCIIOC_MMAP_IS_MEM): %s", path, strerror(err));
		close(m->fd);
		m->fd = -1;
		return -err;
	}
	return map_fd(m, m->fd, map_off, len, prot, flags, path, why, whylen);
}

int iomem_map_phys(struct iomem_map *m, uint64_t phys, size_t len, int prot,
		   int flags, char *why, size_t whylen)
{
	static const struct iomem_route devmem =
		IOMEM_ROUTE_OF(IOMEM_ROUTE_DEVMEM);
	int err;

	memset(m, 0, sizeof(*m));
	m->route = &devmem;
	m->phys = phys;
	m->fd = open("/dev/mem", (prot & PROT_WRITE ? O_RDWR : O_RDONLY) | O_SYNC | O_CLOEXEC);
	if (m->fd < 0) {
		err = errno;
		snprintf(why, whylen, "open(/dev/mem): %s", strerror(err));
		return -err;
	}
	return map_fd(m, m->fd, phys, len, prot, flags, "/dev/mem", why, whylen);
}

void iomem_unmap(struct iomem_map *m)
{
	if (m->addr)
		munmap((void *)m->addr, m->len);
	if (m->fd >= 0)
		close(m->fd);
	m->addr = NULL;
	m->fd = -1;
}

bool iomem_vma_present(const volatile void *addr, size_t len)
{
	FILE *f = fopen("/proc/self/maps", "re");
	uintptr_t a = (uintptr_t)addr, s, e;
	char line[512];
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR, &s, &e) == 2 &&
		    s <= a && a + len <= e)
			found = true;
	fclose(f);
	return found;
}

