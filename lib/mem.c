// SPDX-License-Identifier: GPL-2.0-only
/*
 * Memory types, pagemap helpers and data verification.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/memfd.h>
#include <signal.h>
#include <limits.h>
#include <sys/mount.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/statfs.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <dirent.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kernel.h"
#include "mem.h"

#define THP_SYSFS	"/sys/kernel/mm/transparent_hugepage"
#define HUGETLB_SYSFS	"/sys/kernel/mm/hugepages"

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT	26
#endif
#ifndef MFD_HUGE_SHIFT
#define MFD_HUGE_SHIFT	26
#endif

#define fail(m, res, ...) \
	({ snprintf((m)->why, sizeof((m)->why), __VA_ARGS__); res; })

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
	return t->backing == MEM_HUGETLB || t->backing == MEM_MEMFD_HUGETLB ||
	       t->backing == MEM_HUGETLBFS_FILE;
}

bool mem_is_zero(const struct mem_type *t)
{
	return t->backing == MEM_ZEROPAGE || t->backing == MEM_HUGE_ZEROPAGE;
}

bool mem_is_file(const struct mem_type *t)
{
	switch (t->backing) {
	case MEM_MEMFD:
	case MEM_MEMFD_HUGETLB:
	case MEM_HUGETLBFS_FILE:
	case MEM_TMPFS_FILE:
	case MEM_DISK_FILE:
	case MEM_SHMEM:
	case MEM_SECRETMEM:
		return true;
	default:
		return false;
	}
}

static int log2_ul(unsigned long v)
{
	int l = 0;

	while (v >>= 1)
		l++;
	return l;
}

/* ---- pagemap ------------------------------------------------------------ */

static int pagemap_read(const void *addr, size_t n, uint64_t *out)
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

/* ---- patterns ----------------------------------------------------------- */

/*
 * Pattern of a seed: 64-bit words that differ per word and per seed (seed 0:
 * zeroes), fast enough to fill and check gigabyte hugetlb pages.
 */
static uint64_t pattern_word(size_t i, uint8_t seed)
{
	if (!seed)
		return 0;
	return (i + 1) * 0x9e3779b97f4a7c15ULL ^ seed * 0x0101010101010101ULL;
}

void pattern_fill(void *buf, size_t len, uint8_t seed)
{
	uint64_t *w = buf;
	size_t i;

	for (i = 0; i < len / 8; i++)
		w[i] = pattern_word(i, seed);
	for (i = len & ~7UL; i < len; i++)
		((uint8_t *)buf)[i] = pattern_word(i / 8, seed) >> (8 * (i % 8));
}

static bool fault_injected(void)
{
	const char *f = getenv("IOPIN_SELFTEST_FAULT");

	return f && !strcmp(f, "verify");
}

bool pattern_check(const void *got, size_t len, uint8_t seed,
		   char *why, size_t whylen)
{
	const uint8_t *p = got;
	size_t i;

	for (i = 0; i < len; i++) {
		uint8_t want;

		/* Word-wise while it matches; byte-wise to report a mismatch. */
		if (!(i % 8) && i + 8 <= len && !(i == 0 && fault_injected()) &&
		    *(const uint64_t *)(p + i) == pattern_word(i / 8, seed)) {
			i += 7;
			continue;
		}
		want = pattern_word(i / 8, seed) >> (8 * (i % 8));
		if (i == 0 && fault_injected())
			want ^= 0xff;
		if (p[i] != want) {
			snprintf(why, whylen,
				 "byte %zu of %zu is 0x%02x, expected 0x%02x (pattern %u)",
				 i, len, p[i], want, seed);
			return false;
		}
	}
	return true;
}

bool bytes_check(const void *got, const void *want, size_t len,
		 char *why, size_t whylen)
{
	const uint8_t *g = got, *w = want;
	size_t i;

	for (i = 0; i < len; i++) {
		uint8_t exp = w[i];

		if (i == 0 && fault_injected())
			exp ^= 0xff;
		if (g[i] != exp) {
			snprintf(why, whylen,
				 "byte %zu of %zu is 0x%02x, expected 0x%02x",
				 i, len, g[i], exp);
			return false;
		}
	}
	return true;
}

/* ---- THP and hugetlb knobs ---------------------------------------------- */

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

/* Make MADV_HUGEPAGE regions get THPs of kb, changing knobs via kstate. */
static enum mem_result thp_enable(struct mem *m, unsigned long kb)
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

/* ---- constructors ------------------------------------------------------- */

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

static enum mem_result create_thp(struct mem *m, unsigned long kb)
{
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

static enum mem_result create_huge_zeropage(struct mem *m)
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

static enum mem_result create_zeropage(struct mem *m)
{
	m->size = page_size();
	m->addr = mmap(NULL, m->size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m->addr == MAP_FAILED)
		return fail(m, MEM_ERR, "mmap: %s", strerror(errno));
	m->map = m->addr;
	m->map_size = m->size;
	read_fault(m->addr, m->size);
	if (geteuid())
		return MEM_OK;
	if (!(kpageflags(pagemap_pfn(m->addr)) & (1ULL << KPF_ZERO_PAGE)))
		return fail(m, MEM_ERR, "read fault did not map the shared zeropage");
	return MEM_OK;
}

static enum mem_result create_hugetlb_anon(struct mem *m, unsigned long kb)
{
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

static const char *find_dir(const char *env, const char * const *cands,
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

static const char * const disk_dirs[] = {
	"/var/tmp", "/tmp", "/root", "/mnt/scratch", NULL };

/*
 * A file on a hugetlbfs of the type's page size: the one mounted at
 * IOPIN_HUGETLBFS_DIR or /dev/hugepages if its page size fits, else one
 * this process mounts over /mnt in a mount namespace of its own (root),
 * which nobody else sees and which goes away with the process. The file
 * is unlinked at once.
 */
static int open_hugetlbfs_file(struct mem *m)
{
	const char *env = getenv("IOPIN_HUGETLBFS_DIR");
	const char *cands[] = { env && *env ? env : "/dev/hugepages", "/mnt" };
	char opts[64], path[PATH_MAX];
	struct statfs st;
	int fd;

	if (statfs(cands[0], &st) || st.f_type != HUGETLBFS_MAGIC ||
	    (unsigned long)st.f_bsize != m->type->kb * 1024) {
		snprintf(opts, sizeof(opts), "pagesize=%luK", m->type->kb);
		if (unshare(CLONE_NEWNS) ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		    mount("iopin-hugetlbfs", cands[1], "hugetlbfs", 0, opts)) {
			snprintf(m->why, sizeof(m->why),
				 "no hugetlbfs of %lukB pages mounted (IOPIN_HUGETLBFS_DIR) and cannot mount one in a private mount namespace: %s",
				 m->type->kb, strerror(errno));
			errno = EPERM;
			return -2;
		}
		cands[0] = cands[1];
	}
	snprintf(path, sizeof(path), "%s/iopin.%d.XXXXXX", cands[0], getpid());
	fd = mkostemp(path, O_CLOEXEC);
	if (fd >= 0)
		unlink(path);
	return fd;
}

/* Open the backing object of a file type, filled with pattern 1. */
static enum mem_result open_backing(struct mem *m)
{
	static const char * const tmpfs_dirs[] = {
		"/dev/shm", "/run", "/tmp", NULL };
	const struct mem_type *t = m->type;
	const char *dir;
	char *buf;

	switch (t->backing) {
	case MEM_MEMFD:
		m->fd = memfd_create("iopin", MFD_CLOEXEC);
		break;
	case MEM_MEMFD_HUGETLB:
		m->fd = memfd_create("iopin", MFD_CLOEXEC | MFD_HUGETLB |
				     (log2_ul(m->size) << MFD_HUGE_SHIFT));
		break;
	case MEM_HUGETLBFS_FILE:
		m->fd = open_hugetlbfs_file(m);
		if (m->fd == -2)
			return MEM_SKIP;
		break;
	case MEM_TMPFS_FILE:
		dir = find_dir("IOPIN_TMPFS_DIR", tmpfs_dirs, true);
		if (!dir)
			return fail(m, MEM_SKIP, "no writable tmpfs (set IOPIN_TMPFS_DIR)");
		if (!fs_is(dir, TMPFS_MAGIC))
			return fail(m, MEM_SKIP, "%s is not a tmpfs", dir);
		m->fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		break;
	case MEM_SECRETMEM:
		m->fd = syscall(SYS_memfd_secret, O_CLOEXEC);
		if (m->fd < 0 && (errno == ENOSYS || errno == EPERM))
			return fail(m, MEM_SKIP,
				    "no memfd_secret(): %s (needs CONFIG_SECRETMEM; before v6.5 also secretmem.enable=1)",
				    strerror(errno));
		break;
	case MEM_DISK_FILE:
		dir = find_dir("IOPIN_DISK_DIR", disk_dirs, false);
		if (!dir)
			return fail(m, MEM_SKIP,
				    "no writable ext4/xfs/btrfs directory (set IOPIN_DISK_DIR)");
		m->fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		break;
	default:
		return fail(m, MEM_ERR, "not a file type");
	}
	if (m->fd < 0)
		return fail(m, MEM_ERR, "creating the %s backing: %s", t->name,
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
	if (type->backing == MEM_SHMEM || !mem_is_file(type))
		return fail(m, MEM_ERR, "%s has no backing object to open", type->name);
	r = size_file(m);
	return r ? r : open_backing(m);
}

static enum mem_result create_file(struct mem *m)
{
	enum mem_result r = size_file(m);

	if (r)
		return r;
	if (m->type->backing == MEM_SHMEM) {
		char path[128];

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
	} else {
		r = open_backing(m);
		if (r)
			return r;
	}
	m->addr = mmap(NULL, m->size, PROT_READ | PROT_WRITE, MAP_PRIVATE,
		       m->fd, 0);
	if (m->addr == MAP_FAILED) {
		m->addr = NULL;
		return fail(m, MEM_ERR, "mmap private: %s", strerror(errno));
	}
	read_fault(m->addr, m->size);
	return MEM_OK;
}

/* ---- swap ----------------------------------------------------------------- */

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
	dir = find_dir("IOPIN_DISK_DIR", disk_dirs, false);
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
static enum mem_result page_out(struct mem *m)
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

enum mem_result mem_create(struct mem *m, const struct mem_type *type)
{
	enum mem_result r;

	memset(m, 0, sizeof(*m));
	m->type = type;
	m->fd = -1;

	if (type->backing == MEM_ANON_SWAPPED || type->backing == MEM_THP_SWAPPED) {
		/* The range, a COW copy of it and slack. */
		r = swap_ensure(2 * (type->kb ?: page_size() / 1024) + 4096,
				m->why, sizeof(m->why));
		if (r)
			return r;
	}
	switch (type->backing) {
	case MEM_ANON:
	case MEM_ANON_SWAPPED:
		m->size = page_size();
		m->addr = mmap(NULL, m->size, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m->addr == MAP_FAILED) {
			m->addr = NULL;
			return fail(m, MEM_ERR, "mmap: %s", strerror(errno));
		}
		m->map = m->addr;
		m->map_size = m->size;
		pattern_fill(m->addr, m->size, 1);
		return type->backing == MEM_ANON ? MEM_OK : page_out(m);
	case MEM_THP:
		return create_thp(m, type->kb);
	case MEM_THP_SWAPPED:
		r = create_thp(m, type->kb);
		return r ? r : page_out(m);
	case MEM_HUGETLB:
		return create_hugetlb_anon(m, type->kb);
	case MEM_ZEROPAGE:
		return create_zeropage(m);
	case MEM_HUGE_ZEROPAGE:
		return create_huge_zeropage(m);
	default:
		return create_file(m);
	}
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

/* ---- userfaultfd write-protection -------------------------------------- */

static void *uffd_wp_thread(void *arg)
{
	struct uffd_wp *u = arg;
	struct pollfd pfd[2] = {
		{ .fd = u->fd, .events = POLLIN },
		{ .fd = u->stop[0], .events = POLLIN },
	};
	struct uffd_msg msg;

	while (poll(pfd, 2, -1) > 0 && !(pfd[1].revents & POLLIN)) {
		struct uffdio_writeprotect wp = { 0 };

		if (read(u->fd, &msg, sizeof(msg)) != sizeof(msg) ||
		    msg.event != UFFD_EVENT_PAGEFAULT)
			continue;
		if (msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP)
			u->faults++;
		/* Resolve: unprotect the page, waking the faulting thread. */
		wp.range.start = msg.arg.pagefault.address & ~(page_size() - 1);
		wp.range.len = page_size();
		ioctl(u->fd, UFFDIO_WRITEPROTECT, &wp);
	}
	return NULL;
}

enum mem_result uffd_wp_arm(struct uffd_wp *u, void *addr, size_t len,
			    char *why, size_t whylen)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)addr, .len = len },
		.mode = UFFDIO_REGISTER_MODE_WP,
	};
	struct uffdio_writeprotect wp = {
		.range = { .start = (uintptr_t)addr, .len = len },
		.mode = UFFDIO_WRITEPROTECT_MODE_WP,
	};
	pthread_t t;

	memset(u, 0, sizeof(*u));
	u->stop[0] = u->stop[1] = -1;
	u->fd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (u->fd < 0) {
		snprintf(why, whylen, "no userfaultfd: %s (CONFIG_USERFAULTFD; vm.unprivileged_userfaultfd for non-root)",
			 strerror(errno));
		return MEM_SKIP;
	}
	if (ioctl(u->fd, UFFDIO_API, &api) ||
	    !(api.features & UFFD_FEATURE_PAGEFAULT_FLAG_WP)) {
		snprintf(why, whylen, "userfaultfd has no write-protect mode (v5.7)");
		goto skip;
	}
	if (ioctl(u->fd, UFFDIO_REGISTER, &reg) || ioctl(u->fd, UFFDIO_WRITEPROTECT, &wp)) {
		snprintf(why, whylen, "userfaultfd write-protect of %zu bytes: %s", len,
			 strerror(errno));
		goto skip;
	}
	if (pipe2(u->stop, O_CLOEXEC) || pthread_create(&t, NULL, uffd_wp_thread, u)) {
		snprintf(why, whylen, "userfaultfd thread: %s", strerror(errno));
		goto skip;
	}
	u->thread = (unsigned long)t;
	u->running = true;
	return MEM_OK;
skip:
	uffd_wp_disarm(u);
	return MEM_SKIP;
}

int uffd_wp_disarm(struct uffd_wp *u)
{
	if (u->running) {
		(void)!write(u->stop[1], "s", 1);
		pthread_join((pthread_t)u->thread, NULL);
		u->running = false;
	}
	if (u->stop[0] >= 0)
		close(u->stop[0]);
	if (u->stop[1] >= 0)
		close(u->stop[1]);
	if (u->fd >= 0)
		close(u->fd);
	u->fd = u->stop[0] = u->stop[1] = -1;
	return u->faults;
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
