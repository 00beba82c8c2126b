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

#include "needs.h"

enum mem_result {
	MEM_OK = 0,
	MEM_SKIP = 1,		/* the machine lacks it: why says what */
	MEM_ERR = -1,		/* unexpected failure: why says what */
};

/*
 * The memory backings, one row each (the axis's registry):
 *	X(ID, create, open, flags, needs)
 * generates enum mem_backing (MEM_<ID>, in row order) and lib/mem-types.c's table
 * of struct mem_backing_info indexed by it, so that no backing can lack a
 * row. create: its constructor in lib/mem-types.c (maps, fills, faults in
 * the memory of a struct mem); open: for file types, the function that
 * creates the backing object (m->fd) or NULL; flags: MEM_F_*; needs: the
 * NEEDS_* (lib/needs.h) every variant of such memory adds to its test.
 *
 * Adding a backing: one row here, its constructor (and opener) in
 * lib/mem-types.c, and its memory types in the named subsets below.
 */
#define MEM_BACKINGS(X)							\
	/* private anonymous base pages */				\
	X(ANON, mem_create_anon, NULL, MEM_F_ANON, 0)			\
	/* private anonymous THP of .kb (PMD or mTHP) */		\
	X(THP, mem_create_thp, NULL, MEM_F_ANON | MEM_F_THP,		\
	  NEEDS_ROOT | NEEDS_THP)					\
	/* private anonymous hugetlb of .kb */				\
	X(HUGETLB, mem_create_hugetlb, NULL, MEM_F_ANON | MEM_F_HUGETLB, \
	  NEEDS_HUGETLB)						\
	/* shared zeropage, read-faulted */				\
	X(ZEROPAGE, mem_create_zeropage, NULL, MEM_F_ZERO, 0)		\
	/* huge zeropage, read-faulted */				\
	X(HUGE_ZEROPAGE, mem_create_huge_zeropage, NULL,		\
	  MEM_F_ZERO | MEM_F_THP, NEEDS_ROOT | NEEDS_THP)		\
	/* memfd (shmem) */						\
	X(MEMFD, mem_create_file, mem_open_memfd, MEM_F_FILE, 0)	\
	/* memfd with MFD_HUGETLB of .kb */				\
	X(MEMFD_HUGETLB, mem_create_file, mem_open_memfd_hugetlb,	\
	  MEM_F_FILE | MEM_F_HUGETLB, NEEDS_HUGETLB)			\
	/* O_TMPFILE on a tmpfs */					\
	X(TMPFS_FILE, mem_create_file, mem_open_tmpfs_file, MEM_F_FILE,	\
	  NEEDS_TMPFS)							\
	/* unlinked file on a disk filesystem */			\
	X(DISK_FILE, mem_create_file, mem_open_disk_file,		\
	  MEM_F_FILE | MEM_F_WRITEBACK, NEEDS_DISK_FS)			\
	/* MAP_SHARED|MAP_ANONYMOUS: its object is a mapping, not a file */ \
	X(SHMEM, mem_create_shmem, NULL, MEM_F_FILE, NEEDS_ROOT)	\
	/* memfd_secret(): MAP_SHARED only, never pinnable */		\
	X(SECRETMEM, mem_create_file, mem_open_secretmem, MEM_F_FILE,	\
	  NEEDS_SECRETMEM)						\
	/* MEM_ANON paged out to swap */				\
	X(ANON_SWAPPED, mem_create_anon_swapped, NULL, MEM_F_ANON,	\
	  NEEDS_SWAP)							\
	/* MEM_THP of .kb and .layout paged out to swap */		\
	X(THP_SWAPPED, mem_create_thp_swapped, NULL,			\
	  MEM_F_ANON | MEM_F_THP, NEEDS_ROOT | NEEDS_THP | NEEDS_SWAP)	\
	/* a file on a mounted hugetlbfs of .kb pages */		\
	X(HUGETLBFS_FILE, mem_create_file, mem_open_hugetlbfs_file,	\
	  MEM_F_FILE | MEM_F_HUGETLB, NEEDS_HUGETLB)

enum mem_backing {
#define MEM_BACKING_ENUM(id, create, open, flags, needs) MEM_##id,
	MEM_BACKINGS(MEM_BACKING_ENUM)
#undef MEM_BACKING_ENUM
};

/* How many rows; not an enumerator, so that a switch needs no case for it. */
#define MEM_BACKING_COUNT_ROW(id, create, open, flags, needs) + 1
#define MEM_BACKING_NR	(0 MEM_BACKINGS(MEM_BACKING_COUNT_ROW))

/* What a backing is: the properties lib and tests select by. */
#define MEM_F_ANON	0x1	/* private anonymous memory */
#define MEM_F_THP	0x2	/* transparent huge pages */
#define MEM_F_HUGETLB	0x4	/* hugetlb pages of .kb */
#define MEM_F_ZERO	0x8	/* a (huge) zeropage until written */
#define MEM_F_FILE	0x10	/* a backing object other mappings can see */
#define MEM_F_WRITEBACK	0x20	/* page cache with dirty tracking (disk fs) */

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

struct mem;
struct mem_backing_info {
	const char *name;	/* "ANON", ... */
	enum mem_result (*create)(struct mem *m);
	enum mem_result (*open)(struct mem *m);
	unsigned int flags;	/* MEM_F_* */
	unsigned int needs;	/* NEEDS_* */
};

/* The registry row of a backing. */
const struct mem_backing_info *mem_backing_info(enum mem_backing b);
/* NEEDS_* of memory of this type. */
unsigned int mem_type_needs(const struct mem_type *t);

/*
 * The memory types: X(id, backing, kb, layout, ...) each. One macro per
 * type (MEM_T_*) or family (sizes); the named subsets below are what tests
 * cross, so that a new type is added to a subset here, never to a test's
 * own list. Sizes are those x86-64 with 4 KiB pages can offer; lib/selftest
 * checks that the running kernel offers no anonymous THP size missing here.
 */
#define MEM_T_ANON(X, ...)	X(anon, MEM_ANON, 0, THP_WHOLE, __VA_ARGS__)
#define MEM_T_THP_PMD(X, ...)	X(thp_2048kB, MEM_THP, 2048, THP_WHOLE, __VA_ARGS__)
#define MEM_T_HUGETLB_PMD(X, ...)					\
	X(hugetlb_2048kB, MEM_HUGETLB, 2048, THP_WHOLE, __VA_ARGS__)
#define MEM_T_ZEROPAGE(X, ...)	X(zeropage, MEM_ZEROPAGE, 0, THP_WHOLE, __VA_ARGS__)
#define MEM_T_HUGE_ZEROPAGE(X, ...)					\
	X(huge_zeropage, MEM_HUGE_ZEROPAGE, 2048, THP_WHOLE, __VA_ARGS__)
#define MEM_T_MEMFD(X, ...)	X(memfd, MEM_MEMFD, 0, THP_WHOLE, __VA_ARGS__)
#define MEM_T_TMPFS_FILE(X, ...)					\
	X(tmpfs_file, MEM_TMPFS_FILE, 0, THP_WHOLE, __VA_ARGS__)
#define MEM_T_DISK_FILE(X, ...)	X(disk_file, MEM_DISK_FILE, 0, THP_WHOLE, __VA_ARGS__)
#define MEM_T_SHMEM(X, ...)	X(shmem, MEM_SHMEM, 0, THP_WHOLE, __VA_ARGS__)
#define MEM_T_MEMFD_HUGETLB_PMD(X, ...)					\
	X(memfd_hugetlb_2048kB, MEM_MEMFD_HUGETLB, 2048, THP_WHOLE, __VA_ARGS__)
#define MEM_T_HUGETLBFS_FILE_PMD(X, ...)				\
	X(hugetlbfs_file_2048kB, MEM_HUGETLBFS_FILE, 2048, THP_WHOLE, __VA_ARGS__)
#define MEM_T_SECRETMEM(X, ...)	X(secretmem, MEM_SECRETMEM, 0, THP_WHOLE, __VA_ARGS__)

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
 * The named subsets tests cross. X(id, backing, kb, layout, ...): the
 * trailing arguments are passed on, so a test can cross a subset with its
 * own axis.
 */

/* Private anonymous memory: what COW of anon pages is about. */
#define MEM_ANON_TYPES(X, ...)						\
	MEM_T_ANON(X, __VA_ARGS__)					\
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
	MEM_T_ANON(X, __VA_ARGS__)					\
	MEM_T_THP_PMD(X, __VA_ARGS__)					\
	MEM_T_HUGETLB_PMD(X, __VA_ARGS__)

/*
 * A base page and a PMD THP: what page-table bits (soft-dirty, uffd-wp)
 * are checked on; hugetlb has neither here.
 */
#define MEM_PTE_PMD_TYPES(X, ...)					\
	MEM_T_ANON(X, __VA_ARGS__)					\
	MEM_T_THP_PMD(X, __VA_ARGS__)

/* One anon page and one file page: the debugger's own cases. */
#define MEM_ANON_FILE_TYPES(X, ...)					\
	MEM_T_ANON(X, __VA_ARGS__)					\
	MEM_T_MEMFD(X, __VA_ARGS__)

/* File-backed types a process can write to through FOLL_FORCE. */
#define MEM_FILE_TYPES(X, ...)						\
	MEM_T_MEMFD(X, __VA_ARGS__)					\
	MEM_T_TMPFS_FILE(X, __VA_ARGS__)				\
	MEM_T_DISK_FILE(X, __VA_ARGS__)					\
	MEM_T_SHMEM(X, __VA_ARGS__)

/* The zeropages: private memory that reads zero until written. */
#define MEM_ZERO_TYPES(X, ...)						\
	MEM_T_ZEROPAGE(X, __VA_ARGS__)					\
	MEM_T_HUGE_ZEROPAGE(X, __VA_ARGS__)

/* Private hugetlb, anon and file: what FOLL_FORCE treated apart. */
#define MEM_PRIVATE_HUGETLB_TYPES(X, ...)				\
	MEM_T_HUGETLB_PMD(X, __VA_ARGS__)				\
	MEM_T_MEMFD_HUGETLB_PMD(X, __VA_ARGS__)

/* Private memory a forced write must COW (hugetlb apart). */
#define MEM_FORCE_COW_TYPES(X, ...)					\
	MEM_PTE_PMD_TYPES(X, __VA_ARGS__)				\
	MEM_ZERO_TYPES(X, __VA_ARGS__)					\
	MEM_FILE_TYPES(X, __VA_ARGS__)

/* Memory that is not private anon until written: its COW must leave it be. */
#define MEM_NONANON_TYPES(X, ...)					\
	MEM_ZERO_TYPES(X, __VA_ARGS__)					\
	MEM_FILE_TYPES(X, __VA_ARGS__)					\
	MEM_HUGETLB_SIZES(X, memfd_hugetlb, MEM_MEMFD_HUGETLB, __VA_ARGS__)

/*
 * Backing objects of the long-term pin rules (gup_longterm/), to map shared
 * or private. secretmem maps only MAP_SHARED.
 */
#define MEM_LONGTERM_PRIVATE_KINDS(X, ...)				\
	MEM_T_MEMFD(X, __VA_ARGS__)					\
	MEM_T_TMPFS_FILE(X, __VA_ARGS__)				\
	MEM_T_DISK_FILE(X, __VA_ARGS__)					\
	MEM_T_MEMFD_HUGETLB_PMD(X, __VA_ARGS__)				\
	MEM_T_HUGETLBFS_FILE_PMD(X, __VA_ARGS__)
#define MEM_LONGTERM_KINDS(X, ...)					\
	MEM_LONGTERM_PRIVATE_KINDS(X, __VA_ARGS__)			\
	MEM_T_SECRETMEM(X, __VA_ARGS__)

#define MEM_TYPE_INIT(id, backing, kb, layout)	{ #id, backing, kb, layout }


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
