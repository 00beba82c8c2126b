/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Memory types: each is one constructor and one destructor around a
 * struct mem, plus the tables that tests cross with behaviours.
 */
#ifndef IOPIN_MEM_H
#define IOPIN_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum mem_backing {
	MEM_ANON,		/* private anonymous base pages */
	MEM_THP,		/* private anonymous THP of .kb (PMD or mTHP) */
	MEM_HUGETLB,		/* private anonymous hugetlb of .kb */
	MEM_ZEROPAGE,		/* shared zeropage, read-faulted */
	MEM_HUGE_ZEROPAGE,	/* huge zeropage, read-faulted */
	MEM_MEMFD,		/* memfd (shmem) */
	MEM_MEMFD_HUGETLB,	/* memfd with MFD_HUGETLB of .kb */
	MEM_TMPFS_FILE,		/* O_TMPFILE on a tmpfs */
	MEM_DISK_FILE,		/* unlinked file on a disk filesystem */
	MEM_SHMEM,		/* MAP_SHARED|MAP_ANONYMOUS */
	MEM_SECRETMEM,		/* memfd_secret(): MAP_SHARED only, never pinnable */
	MEM_ANON_SWAPPED,	/* MEM_ANON paged out to swap */
	MEM_THP_SWAPPED,	/* MEM_THP of .kb and .layout paged out to swap */
	MEM_HUGETLBFS_FILE,	/* a file on a mounted hugetlbfs of .kb pages */
};

/* How a THP is mapped when the test gets it. */
enum thp_layout {
	THP_WHOLE,		/* as allocated: PMD-mapped or all PTEs */
	THP_PTE_MAPPED,		/* PMD THP remapped by PTEs */
	THP_SINGLE_PTE,		/* only the first page still mapped */
	THP_MREMAPPED,		/* second half moved away and back */
	THP_PARTIAL_SHARED,	/* a child shares only the first page */
};

struct mem_type {
	const char *name;
	enum mem_backing backing;
	unsigned long kb;	/* THP/hugetlb size; 0 otherwise */
	enum thp_layout layout;
};

/*
 * The axes. Each X(id, backing, kb, layout) is one memory type; test files
 * turn them into FIXTURE_VARIANT_ADD()s. Sizes are those x86-64 with 4 KiB
 * pages can offer; lib/selftest checks that the running kernel offers no
 * anonymous THP size missing here.
 */
#define MEM_THP_SIZES(X, suffix, layout, ...)				\
	X(thp_16kB##suffix, MEM_THP, 16, layout, __VA_ARGS__)		\
	X(thp_32kB##suffix, MEM_THP, 32, layout, __VA_ARGS__)		\
	X(thp_64kB##suffix, MEM_THP, 64, layout, __VA_ARGS__)		\
	X(thp_128kB##suffix, MEM_THP, 128, layout, __VA_ARGS__)	\
	X(thp_256kB##suffix, MEM_THP, 256, layout, __VA_ARGS__)	\
	X(thp_512kB##suffix, MEM_THP, 512, layout, __VA_ARGS__)	\
	X(thp_1024kB##suffix, MEM_THP, 1024, layout, __VA_ARGS__)	\
	X(thp_2048kB##suffix, MEM_THP, 2048, layout, __VA_ARGS__)

#define MEM_HUGETLB_SIZES(X, prefix, backing, ...)			\
	X(prefix##_2048kB, backing, 2048, THP_WHOLE, __VA_ARGS__)	\
	X(prefix##_1048576kB, backing, 1048576, THP_WHOLE, __VA_ARGS__)

/*
 * Private anonymous memory paged out (MADV_PAGEOUT; every page's pagemap
 * entry shows a swap entry when the test starts): a base page, a PMD THP,
 * a PTE-mapped THP and a single PTE of a THP. Needs active swap: the VM's
 * disk, else a swap file (root) journaled through kstate.
 */
#define MEM_SWAPPED_TYPES(X, ...)					\
	X(anon_swapped, MEM_ANON_SWAPPED, 0, THP_WHOLE, __VA_ARGS__)	\
	X(thp_2048kB_swapped, MEM_THP_SWAPPED, 2048, THP_WHOLE, __VA_ARGS__) \
	X(thp_2048kB_pte_mapped_swapped, MEM_THP_SWAPPED, 2048, THP_PTE_MAPPED, __VA_ARGS__) \
	X(thp_2048kB_single_pte_swapped, MEM_THP_SWAPPED, 2048, THP_SINGLE_PTE, __VA_ARGS__)

/*
 * Private anonymous memory: what COW of anon pages is about.
 * X(id, backing, kb, layout, ...): the trailing arguments are passed on,
 * so a test can cross this axis with its own.
 */
#define MEM_ANON_TYPES(X, ...)						\
	X(anon, MEM_ANON, 0, THP_WHOLE, __VA_ARGS__)			\
	MEM_THP_SIZES(X, , THP_WHOLE, __VA_ARGS__)			\
	X(thp_2048kB_pte_mapped, MEM_THP, 2048, THP_PTE_MAPPED, __VA_ARGS__) \
	MEM_THP_SIZES(X, _single_pte, THP_SINGLE_PTE, __VA_ARGS__)	\
	MEM_THP_SIZES(X, _mremapped, THP_MREMAPPED, __VA_ARGS__)	\
	MEM_THP_SIZES(X, _partial_shared, THP_PARTIAL_SHARED, __VA_ARGS__) \
	MEM_HUGETLB_SIZES(X, hugetlb, MEM_HUGETLB, __VA_ARGS__)	\
	MEM_SWAPPED_TYPES(X, __VA_ARGS__)

/*
 * One of each kind of private anon memory: base page, PMD THP, hugetlb.
 * For axes too slow to cross with all of MEM_ANON_TYPES (device DMA pins).
 */
#define MEM_ANON_CORE_TYPES(X, ...)					\
	X(anon, MEM_ANON, 0, THP_WHOLE, __VA_ARGS__)			\
	X(thp_2048kB, MEM_THP, 2048, THP_WHOLE, __VA_ARGS__)		\
	X(hugetlb_2048kB, MEM_HUGETLB, 2048, THP_WHOLE, __VA_ARGS__)

/* File-backed types a process can write to through FOLL_FORCE. */
#define MEM_FILE_TYPES(X, ...)						\
	X(memfd, MEM_MEMFD, 0, THP_WHOLE, __VA_ARGS__)			\
	X(tmpfs_file, MEM_TMPFS_FILE, 0, THP_WHOLE, __VA_ARGS__)	\
	X(disk_file, MEM_DISK_FILE, 0, THP_WHOLE, __VA_ARGS__)		\
	X(shmem, MEM_SHMEM, 0, THP_WHOLE, __VA_ARGS__)

/* Memory that is not private anon until written: its COW must leave it be. */
#define MEM_NONANON_TYPES(X, ...)					\
	X(zeropage, MEM_ZEROPAGE, 0, THP_WHOLE, __VA_ARGS__)		\
	X(huge_zeropage, MEM_HUGE_ZEROPAGE, 2048, THP_WHOLE, __VA_ARGS__) \
	MEM_FILE_TYPES(X, __VA_ARGS__)					\
	MEM_HUGETLB_SIZES(X, memfd_hugetlb, MEM_MEMFD_HUGETLB, __VA_ARGS__)

/*
 * Backing objects of the long-term pin rules (gup_longterm/), to map shared
 * or private. secretmem maps only MAP_SHARED.
 */
#define MEM_LONGTERM_PRIVATE_KINDS(X, ...)				\
	X(memfd, MEM_MEMFD, 0, THP_WHOLE, __VA_ARGS__)			\
	X(tmpfs_file, MEM_TMPFS_FILE, 0, THP_WHOLE, __VA_ARGS__)	\
	X(disk_file, MEM_DISK_FILE, 0, THP_WHOLE, __VA_ARGS__)		\
	X(memfd_hugetlb_2048kB, MEM_MEMFD_HUGETLB, 2048, THP_WHOLE, __VA_ARGS__) \
	X(hugetlbfs_file_2048kB, MEM_HUGETLBFS_FILE, 2048, THP_WHOLE, __VA_ARGS__)
#define MEM_LONGTERM_KINDS(X, ...)					\
	MEM_LONGTERM_PRIVATE_KINDS(X, __VA_ARGS__)			\
	X(secretmem, MEM_SECRETMEM, 0, THP_WHOLE, __VA_ARGS__)

#define MEM_TYPE_INIT(id, backing, kb, layout)	{ #id, backing, kb, layout }

enum mem_result {
	MEM_OK = 0,
	MEM_SKIP = 1,		/* the machine lacks it: why says what */
	MEM_ERR = -1,		/* unexpected failure: why says what */
};

struct mem {
	const struct mem_type *type;
	char *addr;		/* the range tests use */
	size_t size;
	char *map;		/* what to munmap */
	size_t map_size;
	int fd;			/* backing file, -1 for anon */
	pid_t sharer;		/* THP_PARTIAL_SHARED child */
	char why[768];
};

/*
 * Create a mapping of the type, MAP_PRIVATE unless the type is shared,
 * already faulted in: written with a pattern for anon types, read-faulted
 * for zeropages, backed by a file filled with a pattern for file types.
 */
enum mem_result mem_create(struct mem *m, const struct mem_type *type);
void mem_destroy(struct mem *m);
/*
 * Only the backing object of a file type (memfd, tmpfs/disk file, memfd
 * hugetlb, secretmem), filled with pattern 1: m->fd and m->size set, nothing
 * mapped. For tests that map it themselves (shared/private, R/O or R/W);
 * what they map goes in m->map/m->map_size so that mem_destroy() unmaps it.
 */
enum mem_result mem_open_backing(struct mem *m, const struct mem_type *type);
/* Unmap the range tests use (the object itself lives on in pins). */
int mem_unmap(struct mem *m);
/* Does any mapping of this process overlap [addr, addr+len)? */
bool range_is_mapped(const void *addr, size_t len);
/* Is every page of [addr, addr+len) present or swapped out (pagemap)? */
bool range_is_populated(const void *addr, size_t len);

/*
 * Map, read-only, what a write to the private mapping m must never change:
 * the object behind it through a MAP_SHARED mapping, or for zeropage types
 * a fresh read-faulted mapping of the same kind. *seed is the pattern it
 * must hold (0: zeroes). munmap(view, *len) when done; NULL on failure.
 */
char *mem_map_backing_view(struct mem *m, size_t *len, uint8_t *seed);

/*
 * Free hugetlb pages of a size a memory type needs: anon = the mapping + one
 * COW copy; memfd = the file page + the private mapping's reservation + a
 * COW copy. HUGETLB_POOL_PAGES covers every type (run_tests.sh holds that
 * many for a whole run: lib/hold.c).
 */
#define HUGETLB_ANON_PAGES	2
#define HUGETLB_MEMFD_PAGES	3
#define HUGETLB_POOL_PAGES	3

/*
 * Make sure at least needed pages of kb are free, raising nr_hugepages
 * through kstate (restored when this process ends). MEM_SKIP with why when
 * the kernel has no such size, we may not raise it, or memory is short.
 */
enum mem_result hugetlb_reserve(unsigned long kb, long needed, char *why,
				size_t len);

/*
 * Make sure swap with at least kb free is active: the machine's, or a swap
 * file on a disk filesystem, created, enabled and journaled (kstate: swapped
 * off and removed when this process's journal is restored).
 */
enum mem_result swap_ensure(unsigned long kb, char *why, size_t len);

bool mem_is_file(const struct mem_type *t);
bool mem_is_hugetlb(const struct mem_type *t);
bool mem_is_zero(const struct mem_type *t);

size_t page_size(void);
size_t thp_pmd_size(void);

/* Anonymous THP sizes (kB) the kernel offers; returns count. */
int thp_sizes_offered(unsigned long *kb, int max);

/* ---- pagemap ------------------------------------------------------------ */
#define PM_PFN_MASK		((1ULL << 55) - 1)
#define PM_SOFT_DIRTY		(1ULL << 55)
#define PM_EXCLUSIVE		(1ULL << 56)
#define PM_FILE_SHARED		(1ULL << 61)
#define PM_SWAP			(1ULL << 62)
#define PM_PRESENT		(1ULL << 63)

#define KPF_COMPOUND_HEAD	15
#define KPF_COMPOUND_TAIL	16
#define KPF_THP			22
#define KPF_ZERO_PAGE		24

uint64_t pagemap_entry(const void *addr);
uint64_t pagemap_pfn(const void *addr);	/* 0 if not present/no CAP */
uint64_t kpageflags(uint64_t pfn);
/* Clear soft-dirty bits of this process (clear_refs 4). */
int clear_soft_dirty(void);
/* Is [addr, addr+size) one THP (folio of exactly size)? */
bool range_is_one_thp(const void *addr, size_t size);

/* ---- zones --------------------------------------------------------------- */

/*
 * Name of the zone ("DMA32", "Normal", "Movable", ...) whose span in
 * /proc/zoneinfo holds pfn, and its node; NULL if none does.
 */
const char *pfn_zone(uint64_t pfn, int *node);
/* Managed pages of ZONE_MOVABLE over all nodes (0: there is none). */
long zone_movable_pages(void);

/* ---- userfaultfd write-protection -------------------------------------- */

/*
 * Write-protect [addr, addr+len) (private anon) with userfaultfd and count
 * the write-protect faults anything takes there: a thread records each one
 * and resolves it (unprotects the page), so that a faulting GUP does not
 * block forever.
 */
struct uffd_wp {
	int fd;
	int stop[2];
	unsigned long thread;	/* pthread_t */
	volatile int faults;
	bool running;
};

/* MEM_SKIP with why when userfaultfd-wp is not available here. */
enum mem_result uffd_wp_arm(struct uffd_wp *u, void *addr, size_t len,
			    char *why, size_t whylen);
/* Stop the thread, close; returns the number of write-protect faults seen. */
int uffd_wp_disarm(struct uffd_wp *u);

/* ---- patterns and verification ----------------------------------------- */
/* Fill buf with a pattern derived from seed, different per seed. */
void pattern_fill(void *buf, size_t len, uint8_t seed);
/*
 * Does got hold the pattern of seed? On mismatch, why says where.
 * Self-test switch: IOPIN_SELFTEST_FAULT=verify makes every check expect a
 * corrupted first byte, so every test that verifies data must fail.
 */
bool pattern_check(const void *got, size_t len, uint8_t seed,
		   char *why, size_t whylen);
bool bytes_check(const void *got, const void *want, size_t len,
		 char *why, size_t whylen);

#endif
