// SPDX-License-Identifier: GPL-2.0-only
/*
 * hugetlb-1g-cow-zero: does a private hugetlb page keep its data across
 * fork() and a copy-on-write by its owner?  Stand-alone reproducer for the
 * "1 GiB hugetlb child reads zeroes" flake (expectations/mainline), without
 * lib/ or the harness, so that each ingredient can be switched off.
 *
 * One run: add pages to the hugetlb pool, mmap a private MAP_HUGETLB page,
 * fill it with pattern A, fork; the parent writes pattern B (COW: the
 * parent gets a new page, the child keeps the old one), then the child
 * checks it still reads A; munmap, take the pages out of the pool again.
 * Repeat. Every 4 KiB block a checker reads is classified as A (ok), zero,
 * B (the other side's data) or other. The child also reports, right after
 * fork() and before anybody writes, whether its copy of the mapping has a
 * page (/proc/self/pagemap): "child-at-fork 0" means fork() gave the child
 * an empty mapping, and its first read then faults in a fresh zeroed page.
 *
 * Build:  make -C tools/repro        (or: cc -O2 -Wall -o X X.c)
 * Run:    tools/repro/hugetlb-1g-cow-zero [options]      (root)
 *   -n N      runs (default 12)
 *   -s KB     hugetlb page size in kB: 1048576 (default) or 2048
 *   -m MODE   cow    fill A, fork, parent writes B, child checks A (default)
 *             nocow  fill A, fork, nobody writes, child and parent check A
 *             nofork fill A, wait -d ms, check A
 *             pair   two pages at fixed addresses (-a), touched, fork; the
 *                    child reports which of them it has (no COW)
 *   -a LAYOUT with -m pair: "same" puts both pages in one 512 GiB region
 *             (one PUD table), "split" in two (default same)
 *   -k        keep the pages in the pool for all runs (default: add and
 *             remove them around every run, as lib's per-test reservation
 *             did)
 *   -p PAGES  pages added to the pool (default 2; 0: use free pages as they
 *             are, e.g. hugepages= from the kernel command line)
 *   -d MS     wait between filling and the fork/check (default 0)
 *   -g MS     wait after a run before the next one (default 0)
 *   -o ORDER  page_reporting_order during the runs (restored afterwards)
 *   -c MB     just before fork(), fault in and free MB MiB of anonymous
 *             memory (recycles freed pages into the fork's page tables)
 *   -x N      just before fork(), fork N children that exit at once and
 *             reap them (their page tables are freed right before ours
 *             are allocated)
 *   -q        print only the runs that saw bad data, and the summary
 * Exit: 0 every run good, 3 some run saw bad data, 1 error.
 *
 * Global state is put back on every exit (normal, error, signal, SIGKILL:
 * a keeper process outside our process group restores when our pipe to it
 * closes). nr_hugepages is restored relatively: we take out exactly the
 * pages we added, so a pool someone else holds at the same time (the
 * runner's iopin-hold) is left alone. The suite's state lock
 * (/run/iopin-state.lock, or $IOPIN_STATE_LOCK) is held exclusively, so
 * no test of the suite runs meanwhile.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT		26
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE	0x100000
#endif

#define HP_DIR		"/sys/kernel/mm/hugepages/hugepages-%lukB/%s"
#define PR_ORDER	"/sys/module/page_reporting/parameters/page_reporting_order"
#define PR_KIB		"/sys/module/page_reporting/parameters/reported_kib"
#define BLOCK		4096UL
#define SEED_A		0xa1
#define SEED_B		0xb2
/* -m pair: 16 TiB, a multiple of 512 GiB (the span of one PUD table). */
#define PAIR_BASE	(1UL << 44)
#define PUD_SPAN	(1UL << 39)

enum { MODE_COW, MODE_NOCOW, MODE_NOFORK, MODE_PAIR };

/* What a checker saw, block by block. */
struct verdict {
	unsigned long ok, zero, other_seed, mixed;
	long first_zero, last_zero;	/* byte offsets, -1: none */
	long first_bad;
	uint64_t pfn;			/* pfn of the first 4 KiB, 0: none */
};

struct opts {
	int runs, mode, pages, order;
	unsigned long kb;
	bool keep, quiet, split;
	long delay, gap, churn_mb;
	int exits;
};

/* ---- sysfs ---------------------------------------------------------------- */

static int read_str(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static int write_str(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

static long read_long(const char *path)
{
	char buf[32];

	return read_str(path, buf, sizeof(buf)) ? -1 : strtol(buf, NULL, 10);
}

static long hp_long(unsigned long kb, const char *file)
{
	char path[128];

	snprintf(path, sizeof(path), HP_DIR, kb, file);
	return read_long(path);
}

/* Async-signal-safe decimal formatting. */
static void fmt_long(char *buf, long v)
{
	char tmp[24];
	int n = 0, i = 0;

	if (v < 0)
		v = 0;
	do {
		tmp[n++] = '0' + v % 10;
		v /= 10;
	} while (v);
	while (n)
		buf[i++] = tmp[--n];
	buf[i] = '\0';
}

/* Take @delta pages out of the pool at @path (async-signal-safe). */
static void pool_sub(const char *path, long delta)
{
	char buf[24];
	long cur;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0 || !delta)
		goto out;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		goto out;
	buf[n] = '\0';
	for (cur = 0, n = 0; buf[n] >= '0' && buf[n] <= '9'; n++)
		cur = cur * 10 + buf[n] - '0';
	fmt_long(buf, cur - delta);
	write_str(path, buf);
out:
	if (fd >= 0)
		close(fd);
}

/* ---- putting things back ---------------------------------------------------- */

/*
 * What we changed: the pages we added to the pool (taken out again
 * relatively) and page_reporting_order (written back absolutely).
 */
static char nr_path[128];
static long pool_added;
static char order_orig[32];
static bool order_changed;
static int keeper_fd = -1;
static pid_t keeper_pid;

/* A keeper record: write @val back, or with @rel subtract it. */
struct rec {
	char path[128];
	long val;
	bool rel;
	char abs[32];
};

static void restore_all(void)
{
	if (pool_added)
		pool_sub(nr_path, pool_added);
	pool_added = 0;
	if (order_changed)
		write_str(PR_ORDER, order_orig);
	order_changed = false;
}

/*
 * The keeper, outside our process group and deaf to signals, gets records
 * over a pipe (the last one per path wins) and applies them when the pipe
 * reaches EOF, i.e. when we and our children are gone, however we died.
 */
static void keeper_loop(int in)
{
	struct rec tab[4], r;
	int n = 0, i;
	sigset_t all;

	setpgid(0, 0);
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	while (read(in, &r, sizeof(r)) == (ssize_t)sizeof(r)) {
		for (i = 0; i < n && strcmp(tab[i].path, r.path); i++)
			;
		if (i == n && n < 4)
			n++;
		if (i < n)
			tab[i] = r;
	}
	for (i = 0; i < n; i++) {
		if (tab[i].rel)
			pool_sub(tab[i].path, tab[i].val);
		else if (tab[i].abs[0])
			write_str(tab[i].path, tab[i].abs);
	}
	_exit(0);
}

static int keeper_start(void)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC))
		return -1;
	keeper_pid = fork();
	if (keeper_pid < 0)
		return -1;
	if (!keeper_pid) {
		close(p[1]);
		keeper_loop(p[0]);
	}
	close(p[0]);
	keeper_fd = p[1];
	return 0;
}

static int keeper_tell(const char *path, long val, bool rel, const char *abs)
{
	struct rec r = { .val = val, .rel = rel };

	snprintf(r.path, sizeof(r.path), "%s", path);
	snprintf(r.abs, sizeof(r.abs), "%s", abs ? abs : "");
	return write(keeper_fd, &r, sizeof(r)) == (ssize_t)sizeof(r) ? 0 : -1;
}

static void on_signal(int sig)
{
	restore_all();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Add o->pages to the pool; 0 if enough pages are free for a run. */
static int pool_add(const struct opts *o)
{
	char val[24];
	long nr = read_long(nr_path), got;
	int need = o->mode == MODE_NOCOW || o->mode == MODE_NOFORK ? 1 : 2;

	if (nr < 0)
		return -1;
	/* Tell the keeper first: a kill in between takes out too few. */
	if (keeper_tell(nr_path, o->pages, true, NULL))
		return -1;
	pool_added = o->pages;
	fmt_long(val, nr + o->pages);
	write_str(nr_path, val);
	got = read_long(nr_path) - nr;
	if (got < o->pages) {
		/* Gigantic pages need contiguous memory: compact, try again. */
		write_str("/proc/sys/vm/compact_memory", "1");
		write_str(nr_path, val);
		got = read_long(nr_path) - nr;
	}
	if (got != o->pages) {
		pool_added = got < 0 ? 0 : got;
		keeper_tell(nr_path, pool_added, true, NULL);
	}
	return hp_long(o->kb, "free_hugepages") -
	       hp_long(o->kb, "resv_hugepages") >= need ? 0 : -1;
}

static void pool_drop(void)
{
	pool_sub(nr_path, pool_added);
	pool_added = 0;
	keeper_tell(nr_path, 0, true, NULL);
}

/* ---- data ------------------------------------------------------------------ */

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void msleep(long ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&t, &t) && errno == EINTR)
		;
}

/* Never zero: the seed sits in the top byte. */
static inline uint64_t word(size_t i, uint8_t seed)
{
	return ((uint64_t)seed << 56) | (i * 0x9e3779b1UL & 0xffffffffffffUL) | 1;
}

static void fill(uint64_t *w, size_t len, uint8_t seed)
{
	size_t i;

	for (i = 0; i < len / 8; i++)
		w[i] = word(i, seed);
}

static uint64_t pfn_of(const void *addr)
{
	uint64_t e = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	if (pread(fd, &e, 8, (uintptr_t)addr / 4096 * 8) != 8)
		e = 0;
	close(fd);
	return (e >> 63) ? (e & ((1ULL << 55) - 1)) : 0;
}

static void check(const uint64_t *w, size_t len, uint8_t seed, uint8_t other,
		  struct verdict *v)
{
	size_t per = BLOCK / 8, b, i;

	memset(v, 0, sizeof(*v));
	v->first_zero = v->last_zero = v->first_bad = -1;
	v->pfn = pfn_of(w);
	for (b = 0; b < len / BLOCK; b++) {
		const uint64_t *p = w + b * per;
		size_t good = 0, zero = 0, oth = 0;

		for (i = 0; i < per; i++) {
			uint64_t x = p[i];

			if (x == word(b * per + i, seed))
				good++;
			else if (!x)
				zero++;
			else if (x == word(b * per + i, other))
				oth++;
		}
		if (good == per) {
			v->ok++;
			continue;
		}
		if (v->first_bad < 0)
			v->first_bad = b * BLOCK;
		if (zero == per) {
			v->zero++;
			if (v->first_zero < 0)
				v->first_zero = b * BLOCK;
			v->last_zero = b * BLOCK;
		} else if (oth == per) {
			v->other_seed++;
		} else {
			v->mixed++;
		}
	}
}

static bool bad(const struct verdict *v)
{
	return v->zero || v->other_seed || v->mixed;
}

static void show(const char *who, const struct verdict *v, size_t len)
{
	unsigned long blocks = len / BLOCK;

	if (!bad(v)) {
		printf(" %s:ok(pfn %#llx)", who, (unsigned long long)v->pfn);
		return;
	}
	printf(" %s:BAD(pfn %#llx) zero %lu/%lu blocks%s [%#lx..%#lx] other-side %lu mixed %lu first-bad %#lx",
	       who, (unsigned long long)v->pfn, v->zero, blocks,
	       v->zero == blocks ? " (ALL)" : "",
	       v->first_zero, v->last_zero + (v->zero ? (long)BLOCK - 1 : 0),
	       v->other_seed, v->mixed, v->first_bad);
}

/*
 * Fault in and free churn_mb MiB of anonymous memory, so that the pages
 * fork() gets next (page tables included) were anon pages a moment ago.
 */
static void churn(long churn_mb)
{
	size_t len = churn_mb << 20, i;
	char *p;

	if (!churn_mb)
		return;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return;
	madvise(p, len, MADV_NOHUGEPAGE);
	for (i = 0; i < len; i += 4096)
		p[i] = 1;
	munmap(p, len);
}

/*
 * Fork @n children that exit at once, and reap them: their page tables
 * (PGD, PUD, ...) go back to the page allocator just before our fork().
 */
static void spawn_exits(int n)
{
	int i;

	for (i = 0; i < n; i++) {
		pid_t pid = fork();

		if (!pid)
			_exit(0);
		if (pid > 0)
			waitpid(pid, NULL, 0);
	}
}

static void *map_huge(size_t len, uintptr_t at)
{
	return mmap((void *)at, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB |
		    (at ? MAP_FIXED_NOREPLACE : 0) |
		    (__builtin_ctzl(len) << MAP_HUGE_SHIFT), -1, 0);
}

static void pool_at(const struct opts *o, char *buf)
{
	snprintf(buf, 16, "%ld/%ld", hp_long(o->kb, "free_hugepages"),
		 hp_long(o->kb, "resv_hugepages"));
}

/* ---- runs ------------------------------------------------------------------ */

/*
 * -m pair: two pages, fork, the child reports which it has. Returns 1 if
 * the child lacks one, 0 if not, -1 on error.
 */
static int pair_run(const struct opts *o, int run)
{
	size_t len = o->kb * 1024;
	uintptr_t at[2] = { PAIR_BASE, PAIR_BASE + (o->split ? PUD_SPAN : len) };
	uint64_t pfn[2] = { 0, 0 }, cpfn[2] = { 0, 0 };
	uint64_t *m[2];
	int res[2], i, status;
	pid_t pid;

	for (i = 0; i < 2; i++) {
		m[i] = map_huge(len, at[i]);
		if (m[i] == MAP_FAILED) {
			printf("run %d: mmap at %#lx: %s\n", run, at[i],
			       strerror(errno));
			if (i)
				munmap(m[0], len);
			return -1;
		}
		m[i][0] = word(0, SEED_A);	/* faults in the whole page */
		pfn[i] = pfn_of(m[i]);
	}
	if (pipe2(res, O_CLOEXEC))
		return -1;
	churn(o->churn_mb);
	spawn_exits(o->exits);
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		close(keeper_fd);
		cpfn[0] = pfn_of(m[0]);
		cpfn[1] = pfn_of(m[1]);
		_exit(write(res[1], cpfn, sizeof(cpfn)) == sizeof(cpfn) ? 0 : 3);
	}
	if (read(res[0], cpfn, sizeof(cpfn)) != sizeof(cpfn))
		printf("run %d: child did not report\n", run);
	waitpid(pid, &status, 0);
	close(res[0]);
	close(res[1]);
	munmap(m[0], len);
	munmap(m[1], len);
	if (!o->quiet || !cpfn[0] || !cpfn[1])
		printf("run %2d: %s layout, parent pfns %#llx %#llx, child has: %s %s\n",
		       run, o->split ? "split" : "same",
		       (unsigned long long)pfn[0], (unsigned long long)pfn[1],
		       cpfn[0] ? "yes" : "NO", cpfn[1] ? "yes" : "NO");
	return !cpfn[0] || !cpfn[1];
}

/* One run; returns 1 if a checker saw bad data, 0 if not, -1 on error. */
static int one_run(const struct opts *o, int run)
{
	size_t len = o->kb * 1024;
	int go[2], res[2], status;
	struct verdict pv, cv = { 0 };
	bool child_bad = false, parent_bad = false;
	uint64_t *m;
	uint64_t pfn_before = 0, child_pfn0 = 0;
	char pool[3][16] = { "", "", "" };
	long kib0 = read_long(PR_KIB);
	double t0 = now_ms();
	pid_t pid;
	char c = 'g';

	m = map_huge(len, 0);
	if (m == MAP_FAILED) {
		printf("run %d: mmap: %s\n", run, strerror(errno));
		return -1;
	}
	fill(m, len, SEED_A);
	pfn_before = pfn_of(m);
	pool_at(o, pool[0]);
	if (o->delay)
		msleep(o->delay);

	if (o->mode == MODE_NOFORK) {
		check(m, len, SEED_A, SEED_B, &pv);
		parent_bad = bad(&pv);
		goto out;
	}
	if (pipe2(go, O_CLOEXEC) || pipe2(res, O_CLOEXEC))
		return -1;
	churn(o->churn_mb);
	spawn_exits(o->exits);
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		close(keeper_fd);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		cv.pfn = pfn_of(m);
		if (write(res[1], &cv.pfn, 8) != 8 || read(go[0], &c, 1) != 1)
			_exit(2);
		check(m, len, SEED_A, SEED_B, &cv);
		_exit(write(res[1], &cv, sizeof(cv)) == sizeof(cv) ? 0 : 3);
	}
	if (read(res[0], &child_pfn0, 8) != 8)
		printf("run %d: child did not start\n", run);
	pool_at(o, pool[1]);
	if (o->mode == MODE_COW) {
		fill(m, len, SEED_B);
		check(m, len, SEED_B, SEED_A, &pv);
	} else {
		check(m, len, SEED_A, SEED_B, &pv);
	}
	parent_bad = bad(&pv);
	pool_at(o, pool[2]);
	if (write(go[1], &c, 1) != 1 ||
	    read(res[0], &cv, sizeof(cv)) != sizeof(cv))
		printf("run %d: child did not report\n", run);
	waitpid(pid, &status, 0);
	close(go[0]);
	close(go[1]);
	close(res[0]);
	close(res[1]);
	child_bad = bad(&cv);
out:
	munmap(m, len);
	if (!o->quiet || parent_bad || child_bad) {
		printf("run %2d: %6.0f ms, reported +%ld KiB, free/resv filled %s forked %s written %s, pfn filled %#llx child-at-fork %#llx:",
		       run, now_ms() - t0, read_long(PR_KIB) - kib0,
		       pool[0], pool[1], pool[2],
		       (unsigned long long)pfn_before,
		       (unsigned long long)child_pfn0);
		if (o->mode != MODE_NOFORK)
			show("child", &cv, len);
		show(o->mode == MODE_COW ? "parent(copy)" : "parent", &pv, len);
		printf("\n");
	}
	return parent_bad || child_bad;
}

static void usage(const char *me)
{
	fprintf(stderr,
		"usage: %s [-n runs] [-s kB] [-m cow|nocow|nofork|pair] [-a same|split] [-k] [-p pages] [-d ms] [-g ms] [-o order] [-c MB] [-x N] [-q]\n",
		me);
	exit(2);
}

static const char *const mode_names[] = { "cow", "nocow", "nofork", "pair" };

int main(int argc, char **argv)
{
	struct opts o = { .runs = 12, .kb = 1048576, .pages = 2, .order = -1 };
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE };
	const char *lock = getenv("IOPIN_STATE_LOCK");
	int opt, i, hits = 0, done = 0, errs = 0, lock_fd;
	char val[32], cur[32];

	while ((opt = getopt(argc, argv, "n:s:m:a:kp:d:g:o:c:x:q")) != -1) {
		switch (opt) {
		case 'n': o.runs = atoi(optarg); break;
		case 's': o.kb = strtoul(optarg, NULL, 10); break;
		case 'm':
			for (o.mode = 0; o.mode < 4; o.mode++)
				if (!strcmp(optarg, mode_names[o.mode]))
					break;
			if (o.mode == 4)
				usage(argv[0]);
			break;
		case 'a':
			if (strcmp(optarg, "same") && strcmp(optarg, "split"))
				usage(argv[0]);
			o.split = !strcmp(optarg, "split");
			break;
		case 'k': o.keep = true; break;
		case 'p': o.pages = atoi(optarg); break;
		case 'd': o.delay = atol(optarg); break;
		case 'g': o.gap = atol(optarg); break;
		case 'o': o.order = atoi(optarg); break;
		case 'c': o.churn_mb = atol(optarg); break;
		case 'x': o.exits = atoi(optarg); break;
		case 'q': o.quiet = true; break;
		default: usage(argv[0]);
		}
	}
	if (o.runs < 1 || o.pages < 0 || (o.kb != 1048576 && o.kb != 2048))
		usage(argv[0]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	lock_fd = open(lock && *lock ? lock : "/run/iopin-state.lock",
		       O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock_fd < 0 || flock(lock_fd, LOCK_EX)) {
		perror("state lock");
		return 1;
	}
	snprintf(nr_path, sizeof(nr_path), HP_DIR, o.kb, "nr_hugepages");
	if (access(nr_path, W_OK)) {
		fprintf(stderr, "%s: %s\n", nr_path, strerror(errno));
		return 1;
	}
	if (keeper_start()) {
		perror("keeper");
		return 1;
	}
	for (i = 0; i < (int)(sizeof(sigs) / sizeof(sigs[0])); i++)
		signal(sigs[i], on_signal);

	if (o.order >= 0) {
		snprintf(val, sizeof(val), "%d", o.order);
		if (read_str(PR_ORDER, order_orig, sizeof(order_orig)) ||
		    keeper_tell(PR_ORDER, 0, false, order_orig)) {
			fprintf(stderr, "%s: %s\n", PR_ORDER, strerror(errno));
			return 1;
		}
		order_changed = true;
		if (write_str(PR_ORDER, val)) {
			fprintf(stderr, "%s: cannot write %s: %s\n", PR_ORDER,
				val, strerror(errno));
			restore_all();
			return 1;
		}
	}
	if (read_str(PR_ORDER, cur, sizeof(cur)))
		snprintf(cur, sizeof(cur), "n/a");
	printf("# %lukB pages, mode %s%s, pool %s (+%d), delay %ld ms, gap %ld ms, churn %ld MiB, exits %d, page_reporting_order %s, nr_hugepages was %ld\n",
	       o.kb, mode_names[o.mode],
	       o.mode == MODE_PAIR ? (o.split ? " split" : " same") : "",
	       o.keep ? "held" : "per run", o.pages, o.delay, o.gap,
	       o.churn_mb, o.exits, cur, read_long(nr_path));
	if (o.keep && pool_add(&o)) {
		printf("# could not get the pool\n");
		restore_all();
		return 1;
	}
	for (i = 1; i <= o.runs; i++) {
		int r = -1;

		if (!o.keep && pool_add(&o)) {
			printf("run %d: pool: only %ld free\n", i,
			       hp_long(o.kb, "free_hugepages"));
		} else {
			r = o.mode == MODE_PAIR ? pair_run(&o, i) :
						  one_run(&o, i);
		}
		if (!o.keep)
			pool_drop();
		if (r < 0)
			errs++;
		else {
			done++;
			hits += r;
		}
		if (o.gap)
			msleep(o.gap);
	}
	restore_all();
	close(keeper_fd);
	waitpid(keeper_pid, NULL, 0);
	printf("# summary: %d runs, %d bad, %d errors (nr_hugepages now %ld, page_reporting_order %s)\n",
	       done, hits, errs, read_long(nr_path),
	       read_str(PR_ORDER, cur, sizeof(cur)) ? "n/a" : cur);
	return hits ? 3 : errs ? 1 : 0;
}
