// SPDX-License-Identifier: GPL-2.0-only
/*
 * The memory backings: a constructor per row of MEM_BACKINGS (lib/mem.h),
 * openers of the file types' objects, and the registry table itself
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/memfd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kernel.h"
#include "mem-int.h"

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT	26
#endif
#ifndef MFD_HUGE_SHIFT
#define MFD_HUGE_SHIFT	26
#endif

static int log2_ul(unsigned long v)
{
	int l = 0;

	while (v >>= 1)
		l++;
	return l;
}

/* An anonymous mapping of exactly size bytes, aligned to align. */
static char *map_aligned(size_t size, size_t align, int prot, int flags)
{
	size_t len = size + align;
	char *raw = mmap(NULL, len, prot, flags | MAP_ANONYMOUS, -1, 0);
	char *aligned;

	if (raw == MAP_FAILED)
		return NULL;
	aligned = (char *)(((uintptr_t)raw + align - 1) & ~(uintptr_t)(align - 1));
	if (aligned > raw)
		munmap(raw, aligned - raw);
	if (raw + len > aligned + size)
		munmap(aligned + size, raw + len - (aligned + size));
	return aligned;
}

/* Split a PMD mapping into PTEs without splitting the folio. */
static int pte_map(char *addr)
{
	if (mprotect(addr, page_size(), PROT_READ))
		return -1;
	return mprotect(addr, page_size(), PROT_READ | PROT_WRITE);
}

static enum mem_result thp_layout(struct mem *m)
{
	size_t half = m->size / 2, ps = page_size();
	int ready[2];
	char *tmp, c;

	switch (m->type->layout) {
	case THP_WHOLE:
		return MEM_OK;
	case THP_PTE_MAPPED:
		if (pte_map(m->addr))
			return fail(m, MEM_ERR, "mprotect: %s", strerror(errno));
		break;
	case THP_SINGLE_PTE:
		if (pte_map(m->addr) ||
		    madvise(m->addr + ps, m->size - ps, MADV_DONTNEED))
			return fail(m, MEM_ERR, "PTE-map + MADV_DONTNEED: %s",
				    strerror(errno));
		m->size = ps;
		if (!(kpageflags(pagemap_pfn(m->addr)) & (1ULL << KPF_THP)))
			return fail(m, MEM_ERR, "single PTE no longer maps a THP");
		return MEM_OK;
	case THP_MREMAPPED:
		/* Move the second half to a misaligned spot, then back. */
		tmp = mmap(NULL, half + ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			   -1, 0);
		if (tmp == MAP_FAILED)
			return fail(m, MEM_ERR, "mmap: %s", strerror(errno));
		if (mremap(m->addr + half, half, half, MREMAP_MAYMOVE | MREMAP_FIXED,
			   tmp + ps) == MAP_FAILED ||
		    mremap(tmp + ps, half, half, MREMAP_MAYMOVE | MREMAP_FIXED,
			   m->addr + half) == MAP_FAILED)
			return fail(m, MEM_ERR, "mremap: %s", strerror(errno));
		munmap(tmp, ps);
		break;
	case THP_PARTIAL_SHARED:
		if (pipe(ready))
			return fail(m, MEM_ERR, "pipe: %s", strerror(errno));
		m->sharer = fork();
		if (m->sharer < 0)
			return fail(m, MEM_ERR, "fork: %s", strerror(errno));
		if (!m->sharer) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			close(ready[0]);
			madvise(m->addr + ps, m->size - ps, MADV_DONTNEED);
			(void)!write(ready[1], "r", 1);
			for (;;)
				pause();
		}
		close(ready[1]);
		if (read(ready[0], &c, 1) != 1) {
			close(ready[0]);
			return fail(m, MEM_ERR, "sharer child died");
		}
		close(ready[0]);
		break;
	}
	if (!range_is_one_thp(m->addr, m->size))
		return fail(m, MEM_ERR, "layout change split the THP");
	return MEM_OK;
}

/* Map m->size bytes aligned to their size, asking for THPs. */
static enum mem_result map_thp_range(struct mem *m)
{
	m->addr = map_aligned(m->size, m->size, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE);
	if (!m->addr)
		return fail(m, MEM_ERR, "mmap: %s", strerror(errno));
	m->map = m->addr;
	m->map_size = m->size;
	if (madvise(m->addr, m->size, MADV_HUGEPAGE))
		return fail(m, MEM_SKIP, "MADV_HUGEPAGE: %s", strerror(errno));
	return MEM_OK;
}

/* Read-fault every page: maps zeropages or pagecache, writes nothing. */
static void read_fault(const char *addr, size_t size)
{
	size_t i;

	for (i = 0; i < size; i += page_size())
		(void)*(const volatile char *)(addr + i);
}

static enum mem_result mem_create_thp(struct mem *m)
{
	unsigned long kb = m->type->kb;
	enum mem_result r;

	if (geteuid())
		return fail(m, MEM_SKIP, "needs root to check THPs through /proc/kpageflags");
	r = thp_enable(m, kb);
	if (r)
		return r;
	m->size = kb * 1024;
	r = map_thp_range(m);
	if (r)
		return r;
	pattern_fill(m->addr, m->size, 1);
	if (!range_is_one_thp(m->addr, m->size))
		return fail(m, MEM_SKIP,
			    "kernel did not back the range with a %lukB THP (allocation fell back)",
			    kb);
	return thp_layout(m);
}

static enum mem_result mem_create_huge_zeropage(struct mem *m)
{
	enum mem_result r;
	char use[16];

	if (geteuid())
		return fail(m, MEM_SKIP, "needs root to check PFNs");
	r = thp_enable(m, thp_pmd_size() / 1024);
	if (r)
		return r;
	if (sysfs_read(THP_SYSFS "/use_zero_page", use, sizeof(use)))
		return fail(m, MEM_SKIP, "kernel has no huge zeropage knob");
	if (strcmp(use, "1") && kstate_write(THP_SYSFS "/use_zero_page", "1"))
		return fail(m, MEM_SKIP, "cannot enable the huge zeropage");
	m->size = thp_pmd_size();
	r = map_thp_range(m);
	if (r)
		return r;
	read_fault(m->addr, m->size);
	if (!(kpageflags(pagemap_pfn(m->addr)) & (1ULL << KPF_ZERO_PAGE)))
		return fail(m, MEM_ERR, "read fault did not map a zeropage");
	if (pagemap_pfn(m->addr + page_size()) != pagemap_pfn(m->addr) + 1)
		return fail(m, MEM_SKIP, "kernel mapped the small zeropage, not the huge one");
	return MEM_OK;
}

/* One private anonymous page, not faulted in yet. */
static enum mem_result map_anon_page(struct mem *m)
{
	m->size = page_size();
	m->addr = mmap(NULL, m->size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m->addr == MAP_FAILED) {
		m->addr = NULL;
		return fail(m, MEM_ERR, "mmap: %s", strerror(errno));
	}
	m->map = m->addr;
	m->map_size = m->size;
	return MEM_OK;
}

static enum mem_result mem_create_zeropage(struct mem *m)
{
	enum mem_result r = map_anon_page(m);

	if (r)
		return r;
	read_fault(m->addr, m->size);
	if (geteuid())
		return MEM_OK;
	if (!(kpageflags(pagemap_pfn(m->addr)) & (1ULL << KPF_ZERO_PAGE)))
		return fail(m, MEM_ERR, "read fault did not map the shared zeropage");
	return MEM_OK;
}

static enum mem_result mem_create_hugetlb(struct mem *m)
{
	unsigned long kb = m->type->kb;
	enum mem_result r = hugetlb_reserve(kb, HUGETLB_ANON_PAGES, m->why,
					    sizeof(m->why));

	if (r)
		return r;
	m->size = kb * 1024;
	m->addr = mmap(NULL, m->size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB |
		       (log2_ul(m->size) << MAP_HUGE_SHIFT), -1, 0);
	if (m->addr == MAP_FAILED)
		return fail(m, MEM_ERR, "mmap MAP_HUGETLB %lukB: %s", kb,
			    strerror(errno));
	m->map = m->addr;
	m->map_size = m->size;
	pattern_fill(m->addr, m->size, 1);
	return MEM_OK;
}

static bool fs_is(const char *dir, long magic)
{
	struct statfs s;

	return !statfs(dir, &s) && s.f_type == magic;
}

const char *mem_find_dir(const char *env, const char * const *cands,
			 bool want_tmpfs)
{
	const char *d = getenv(env);
	int i;

	if (d && *d)
		return d;
	for (i = 0; cands[i]; i++) {
		struct statfs s;

		if (statfs(cands[i], &s) || access(cands[i], W_OK))
			continue;
		if (want_tmpfs && s.f_type == TMPFS_MAGIC)
			return cands[i];
		if (!want_tmpfs && (s.f_type == EXT4_SUPER_MAGIC ||
				    s.f_type == XFS_SUPER_MAGIC ||
				    s.f_type == BTRFS_SUPER_MAGIC))
			return cands[i];
	}
	return NULL;
}

const char * const mem_disk_dirs[] = {
	"/var/tmp", "/tmp", "/root", "/mnt/scratch", NULL };

/*
 * A file on a hugetlbfs of the type's page size: the one mounted at
 * IOPIN_HUGETLBFS_DIR or /dev/hugepages if its page size fits, else one
 * this process mounts over /mnt in a mount namespace of its own (root),
 * which nobody else sees and which goes away with the process. The file
 * is unlinked at once.
 */
static enum mem_result mem_open_hugetlbfs_file(struct mem *m)
{
	const char *env = getenv("IOPIN_HUGETLBFS_DIR");
	const char *cands[] = { env && *env ? env : "/dev/hugepages", "/mnt" };
	char opts[64], path[PATH_MAX];
	struct statfs st;

	if (statfs(cands[0], &st) || st.f_type != HUGETLBFS_MAGIC ||
	    (unsigned long)st.f_bsize != m->type->kb * 1024) {
		snprintf(opts, sizeof(opts), "pagesize=%luK", m->type->kb);
		if (unshare(CLONE_NEWNS) ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		    mount("iopin-hugetlbfs", cands[1], "hugetlbfs", 0, opts)) {
			return fail(m, MEM_SKIP,
				    "no hugetlbfs of %lukB pages mounted (IOPIN_HUGETLBFS_DIR) and cannot mount one in a private mount namespace: %s",
				    m->type->kb, strerror(errno));
		}
		cands[0] = cands[1];
	}
	snprintf(path, sizeof(path), "%s/iopin.%d.XXXXXX", cands[0], getpid());
	m->fd = mkostemp(path, O_CLOEXEC);
	if (m->fd >= 0)
		unlink(path);
	return MEM_OK;
}

static enum mem_result mem_open_memfd(struct mem *m)
{
	m->fd = memfd_create("iopin", MFD_CLOEXEC);
	return MEM_OK;
}

static enum mem_result mem_open_memfd_hugetlb(struct mem *m)
{
	m->fd = memfd_create("iopin", MFD_CLOEXEC | MFD_HUGETLB |
			     (log2_ul(m->size) << MFD_HUGE_SHIFT));
	return MEM_OK;
}

static enum mem_result mem_open_tmpfs_file(struct mem *m)
{
	static const char * const tmpfs_dirs[] = {
		"/dev/shm", "/run", "/tmp", NULL };
	const char *dir = mem_find_dir("IOPIN_TMPFS_DIR", tmpfs_dirs, true);

	if (!dir)
		return fail(m, MEM_SKIP, "no writable tmpfs (set IOPIN_TMPFS_DIR)");
	if (!fs_is(dir, TMPFS_MAGIC))
		return fail(m, MEM_SKIP, "%s is not a tmpfs", dir);
	m->fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	return MEM_OK;
}

static enum mem_result mem_open_secretmem(struct mem *m)
{
	m->fd = syscall(SYS_memfd_secret, O_CLOEXEC);
	if (m->fd < 0 && (errno == ENOSYS || errno == EPERM))
		return fail(m, MEM_SKIP,
			    "no memfd_secret(): %s (needs CONFIG_SECRETMEM; before v6.5 also secretmem.enable=1)",
			    strerror(errno));
	return MEM_OK;
}

static enum mem_result mem_open_disk_file(struct mem *m)
{
	const char *dir = mem_find_dir("IOPIN_DISK_DIR", mem_disk_dirs, false);

	if (!dir)
		return fail(m, MEM_SKIP,
			    "no writable ext4/xfs/btrfs directory (set IOPIN_DISK_DIR)");
	m->fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	return MEM_OK;
}

/* Open the backing object of a file type (its row's opener), filled with pattern 1. */
static enum mem_result open_backing(struct mem *m)
{
	enum mem_result r = mem_backing_info(m->type->backing)->open(m);
	char *buf;

	if (r)
		return r;
	if (m->fd < 0)
		return fail(m, MEM_ERR, "creating the %s backing: %s", m->type->name,
			    strerror(errno));
	if (ftruncate(m->fd, m->size))
		return fail(m, MEM_ERR, "ftruncate: %s", strerror(errno));
	/* hugetlbfs has no write(): fill through a shared mapping. */
	buf = mmap(NULL, m->size, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);
	if (buf == MAP_FAILED)
		return fail(m, MEM_ERR, "mmap shared: %s", strerror(errno));
	pattern_fill(buf, m->size, 1);
	munmap(buf, m->size);
	return MEM_OK;
}

/* Size the object of a file type; reserve its hugetlb pages. */
static enum mem_result size_file(struct mem *m)
{
	enum mem_result r;

	if (mem_is_hugetlb(m->type)) {
		r = hugetlb_reserve(m->type->kb, HUGETLB_MEMFD_PAGES, m->why,
				    sizeof(m->why));
		if (r)
			return r;
		m->size = m->type->kb * 1024;
	} else {
		m->size = page_size();
	}
	return MEM_OK;
}

enum mem_result mem_open_backing(struct mem *m, const struct mem_type *type)
{
	enum mem_result r;

	memset(m, 0, sizeof(*m));
	m->type = type;
	m->fd = -1;
	if (!mem_backing_info(type->backing)->open)
		return fail(m, MEM_ERR, "%s has no backing object to open", type->name);
	r = size_file(m);
	return r ? r : open_backing(m);
}

/* Map the object m->fd private, read-faulted. */
static enum mem_result map_private(struct mem *m)
{
	m->addr = mmap(NULL, m->size, PROT_READ | PROT_WRITE, MAP_PRIVATE,
		       m->fd, 0);
	if (m->addr == MAP_FAILED) {
		m->addr = NULL;
		return fail(m, MEM_ERR, "mmap private: %s", strerror(errno));
	}
	read_fault(m->addr, m->size);
	return MEM_OK;
}

static enum mem_result mem_create_file(struct mem *m)
{
	enum mem_result r = size_file(m);

	if (!r)
		r = open_backing(m);
	return r ? r : map_private(m);
}

/* The object is a MAP_SHARED|MAP_ANONYMOUS mapping, opened through map_files. */
static enum mem_result mem_create_shmem(struct mem *m)
{
	char path[128];

	m->size = page_size();
	m->map = mmap(NULL, m->size, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (m->map == MAP_FAILED)
		return fail(m, MEM_ERR, "mmap shared anon: %s", strerror(errno));
	m->map_size = m->size;
	pattern_fill(m->map, m->size, 1);
	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx",
		 (unsigned long)m->map, (unsigned long)(m->map + m->size));
	m->fd = open(path, O_RDWR | O_CLOEXEC);
	if (m->fd < 0)
		return fail(m, MEM_SKIP, "cannot open %s (needs CAP_SYS_ADMIN): %s",
			    path, strerror(errno));
	return map_private(m);
}

static enum mem_result mem_create_anon(struct mem *m)
{
	enum mem_result r = map_anon_page(m);

	if (!r)
		pattern_fill(m->addr, m->size, 1);
	return r;
}

/*
 * Swapped types: swap is made sure of before the memory exists (see
 * mem_page_out()): the range, a COW copy of it and slack.
 */
static enum mem_result swap_for(struct mem *m)
{
	return swap_ensure(2 * (m->type->kb ?: page_size() / 1024) + 4096,
			   m->why, sizeof(m->why));
}

static enum mem_result create_swapped(struct mem *m,
				      enum mem_result (*create)(struct mem *m))
{
	enum mem_result r = swap_for(m);

	if (!r)
		r = create(m);
	return r ? r : mem_page_out(m);
}

static enum mem_result mem_create_anon_swapped(struct mem *m)
{
	return create_swapped(m, mem_create_anon);
}

static enum mem_result mem_create_thp_swapped(struct mem *m)
{
	return create_swapped(m, mem_create_thp);
}

/*
 * The registry: one struct mem_backing_info per row of MEM_BACKINGS, at
 * the index of its enum value. Generated, so that a row cannot be missing.
 */
static const struct mem_backing_info backings[MEM_BACKING_NR] = {
#define MEM_BACKING_ROW(id, create_fn, open_fn, f, n)			\
	[MEM_##id] = { .name = #id, .create = create_fn, .open = open_fn, \
		       .flags = f, .needs = n },
	MEM_BACKINGS(MEM_BACKING_ROW)
#undef MEM_BACKING_ROW
};

const struct mem_backing_info *mem_backing_info(enum mem_backing b)
{
	return &backings[b];
}
