/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * iomem: PCI devices and their BARs, the routes by which userspace maps a
 * BAR (/dev/mem, sysfs resourceN, resourceN_wc, procfs /proc/bus/pci),
 * driver binding as journaled global state, and a fault-safe access probe.
 *
 * Which device a test may touch: in the VM (IOPIN_VM=1) the devices of the
 * fixed topology, found by vendor:device; anywhere else only the device the
 * user names with IOPIN_PCI_BDF (run_tests.sh --pci BDF), and binding
 * changes (unbind, bind, remove, rescan) only with IOPIN_ALLOW_DESTRUCTIVE=1
 * (run_tests.sh --allow-destructive). No other device is ever looked at.
 */
#ifndef IOPIN_IOMEM_H
#define IOPIN_IOMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "needs.h"

/* ---- devices ------------------------------------------------------------ */

struct iomem_bar {
	uint64_t addr;		/* CPU physical address (0: not present) */
	uint64_t size;
	bool mem;		/* memory BAR (else I/O port BAR) */
	bool prefetch;
	bool is64;
};

struct iomem_dev {
	char bdf[16];		/* "0000:00:04.0" */
	int domain, bus, dev, func;
	uint16_t vendor, device;
	struct iomem_bar bar[6];
	char driver[64];	/* bound driver, "" when unbound */
};

/* Fill d for the device bdf (libpci); 0, or -1 with why. */
int iomem_dev_get(struct iomem_dev *d, const char *bdf, char *why, size_t len);
/* Re-read d->driver; returns d->driver. */
const char *iomem_dev_driver(struct iomem_dev *d);
/* sysfs path of the device, or of one of its files (name may be NULL). */
const char *iomem_dev_path(const struct iomem_dev *d, const char *name,
			   char *buf, size_t len);

/*
 * What a test needs a device for. Each role has one device in the VM and
 * none anywhere else unless the user named one (and it fits the role).
 */
enum iomem_role {
	/* A memory BAR no driver owns, with the ivshmem pattern (VM: ivshmem BAR2). */
	IOMEM_ROLE_PATTERN,
	/*
	 * A memory BAR that a driver claims (pci_request_region) on bind and
	 * releases on unbind; currently claimed (VM: the device at
	 * IOPIN_CLAIM_BDF, a virtio-blk of its own that virtio-pci drives,
	 * the BAR of its virtio common config). Binding it needs destructive.
	 */
	IOMEM_ROLE_CLAIMABLE,
};

/* Pick the device and BAR for role; false with a SKIP reason in why. */
bool iomem_pick(enum iomem_role role, struct iomem_dev *d, int *bar,
		char *why, size_t len);

/* The ivshmem pattern: the LE 32-bit word at byte offset off (off % 4 == 0). */
static inline uint32_t iomem_pattern_word(uint64_t off)
{
	return (uint32_t)(off / 4) ^ 0xa5a5a5a5u;
}

/*
 * For a virtio-pci device: BAR and offset of the virtio common config
 * (VIRTIO_PCI_CAP_COMMON_CFG) from the capability list; -1 if none.
 */
int iomem_virtio_common_cfg(const struct iomem_dev *d, int *bar, uint64_t *off);
#define VIRTIO_COMMON_FEATURE_SELECT	0x00	/* le32 device_feature_select: R/W */
#define VIRTIO_COMMON_NUM_QUEUES	0x12	/* le16 */
#define VIRTIO_COMMON_STATUS		0x14	/* u8: 0 until a driver sets ACKNOWLEDGE */

/*
 * Registers of known behaviour in a claimable BAR (IOMEM_ROLE_CLAIMABLE),
 * for the tests that need more than "some word": byte offsets in the BAR.
 * Each kind of device the role may pick describes its own (virtio-pci: its
 * common config); tests never ask which device it is.
 */
struct iomem_claim_regs {
	const char *what;	/* "virtio common config" */
	uint64_t constant;	/* le16, non-zero, the same bound or unbound (num_queues) */
	uint64_t state;		/*
				 * u8 that stays the same while unbound and that the
				 * driver sets to another value after its claim
				 * (device_status: ACKNOWLEDGE unbound, DRIVER_OK bound)
				 */
	uint64_t scratch;	/* le32 that reads back what is written while unbound */
};

/* The registers of BAR bar of d; 0, or -1 with why (no description). */
int iomem_claim_regs(const struct iomem_dev *d, int bar, struct iomem_claim_regs *r,
		     char *why, size_t len);

/*
 * The CPU a driver's probe of d runs on when bound (pci_call_probe: the
 * first CPU of the device's NUMA node, the binder's own without a node;
 * the first of local_cpulist either way); -1 if unknown.
 */
int iomem_dev_probe_cpu(const struct iomem_dev *d);

/*
 * Does /proc/iomem show a claim inside the resource named parent (a BDF,
 * or e.g. "Persistent Memory (legacy)") that contains addr? The claimant's
 * name goes to owner.
 */
bool iomem_claimed(const char *parent, uint64_t addr, char *owner, size_t len);
/* First [start, end] of the /proc/iomem resource named name; -1 if none. */
int iomem_find(const char *name, uint64_t *start, uint64_t *end);

/* ---- binding (journaled: restored after pass, failure, timeout, SIGKILL) - */

/* Unbind d from its driver; 0 or -1 with why. */
int iomem_unbind(struct iomem_dev *d, char *why, size_t len);
/* Bind d to driver via driver_override + drivers_probe; 0 or -1 with why. */
int iomem_bind(struct iomem_dev *d, const char *driver, char *why, size_t len);
/* Remove d from the bus / rescan the bus (the journal rescans if needed). */
int iomem_remove(struct iomem_dev *d, char *why, size_t len);
int iomem_rescan(char *why, size_t len);

/*
 * The same for any device by its sysfs dir (/sys/bus/<bus>/devices/<name>):
 * unbind, or bind through the driver's bind file. Journaled.
 */
int iomem_sysfs_unbind(const char *dev, char *why, size_t len);
int iomem_sysfs_bind(const char *dev, const char *driver, char *why, size_t len);

/* ---- RAM-backed iomem: legacy persistent memory (memmap=nn!ss) -------------- */

#define IOMEM_PMEM_LEGACY	"Persistent Memory (legacy)"

struct iomem_pmem {
	uint64_t start, size;	/* the range in /proc/iomem */
	char ns[160];		/* its namespace: /sys/bus/nd/devices/namespaceX.Y */
	char driver[64];	/* the driver that claims it when enabled (nd_pmem) */
};

/* Only in the VM: its fake pmem range and namespace; false with why. */
bool iomem_pmem_find(struct iomem_pmem *p, char *why, size_t len);

/* ---- routes --------------------------------------------------------------- */

#define IOMEM_GUARD_DEVMEM	"3234ac664a87 v5.8 /dev/mem: Revoke mappings when a driver claims the region"
#define IOMEM_GUARD_SYSFS	"636b21b50152 v5.12 PCI: Revoke mappings like devmem"
#define IOMEM_GUARD_PROCFS	"dc217d2c5a7e v5.12 PCI: Obey iomem restrictions for procfs mmap"

/*
 * The routes, one row each (the axis's registry):
 *	X(id, route_id, busy_errno, needs_rawio, guard, needs, ...)
 * id: the variant name; route_id: enum iomem_route_id (generated, in row
 * order); busy_errno: what an mmap of a claimed range fails with;
 * needs_rawio: CAP_SYS_RAWIO checked at mmap/open; guard: the fix that
 * makes its mappings revocable; needs: NEEDS_* a variant crossing it adds.
 * The trailing arguments are passed on, so a test can cross a route or a
 * subset with its own axis. One route: IOMEM_ROUTE_OF(IOMEM_ROUTE_SYSFS).
 */
#define IOMEM_ROUTE_DEVMEM(X, ...)	/* /dev/mem, O_SYNC, offset = BAR address */ \
	X(devmem, IOMEM_DEVMEM, EPERM, true, IOMEM_GUARD_DEVMEM,	\
	  NEEDS_ROOT | NEEDS_DEVMEM, __VA_ARGS__)
#define IOMEM_ROUTE_SYSFS(X, ...)	/* sysfs resourceN, offset within the BAR */ \
	X(sysfs, IOMEM_SYSFS, EINVAL, false, IOMEM_GUARD_SYSFS,	\
	  NEEDS_ROOT, __VA_ARGS__)
#define IOMEM_ROUTE_SYSFS_WC(X, ...)	/* sysfs resourceN_wc (prefetchable BARs only) */ \
	X(sysfs_wc, IOMEM_SYSFS_WC, EINVAL, false, IOMEM_GUARD_SYSFS,	\
	  NEEDS_ROOT, __VA_ARGS__)
#define IOMEM_ROUTE_PROCFS(X, ...)	/* /proc/bus/pci/BB/DD.F, PCIIOC_MMAP_IS_MEM, offset = bus address */ \
	X(procfs, IOMEM_PROCFS, EINVAL, true, IOMEM_GUARD_PROCFS,	\
	  NEEDS_ROOT, __VA_ARGS__)

/* The subsets tests cross: every PCI device file, every route. */
#define IOMEM_PCI_ROUTES(X, ...)					\
	IOMEM_ROUTE_SYSFS(X, __VA_ARGS__)				\
	IOMEM_ROUTE_SYSFS_WC(X, __VA_ARGS__)				\
	IOMEM_ROUTE_PROCFS(X, __VA_ARGS__)
#define IOMEM_ROUTES(X, ...)						\
	IOMEM_ROUTE_DEVMEM(X, __VA_ARGS__)				\
	IOMEM_PCI_ROUTES(X, __VA_ARGS__)

enum iomem_route_id {
#define IOMEM_ROUTE_ENUM(id, rid, err, rawio, guard, needs, _) rid,
	IOMEM_ROUTES(IOMEM_ROUTE_ENUM, _)
#undef IOMEM_ROUTE_ENUM
};

struct iomem_route {
	const char *name;
	enum iomem_route_id id;
	int busy_errno;		/* mmap of a claimed range fails with this */
	bool needs_rawio;	/* CAP_SYS_RAWIO checked at mmap/open */
	const char *guard;	/* the fix that makes its mappings revocable */
	unsigned int needs;	/* NEEDS_* (lib/needs.h) of a variant crossing it */
};

#define IOMEM_ROUTE_INIT(route_name, route_id, err, rawio, route_guard, route_needs) { \
	.name = #route_name, .id = route_id, .busy_errno = err,	\
	.needs_rawio = rawio, .guard = route_guard, .needs = route_needs }
#define IOMEM_ROUTE_INIT_X(id, rid, err, rawio, guard, needs, _)	\
	IOMEM_ROUTE_INIT(id, rid, err, rawio, guard, needs)
/* The struct iomem_route initializer of one route row. */
#define IOMEM_ROUTE_OF(ROUTE)	ROUTE(IOMEM_ROUTE_INIT_X, _)

/* Can this route be used here (file exists, e.g. resourceN_wc)? why if not. */
bool iomem_route_usable(const struct iomem_route *r, const struct iomem_dev *d,
			int bar, char *why, size_t len);

struct iomem_map {
	const struct iomem_route *route;
	volatile void *addr;	/* NULL when not mapped */
	size_t len;
	uint64_t phys;		/* physical address of addr */
	int fd;
};

/* In iomem_map()'s flags: procfs without the PCIIOC_MMAP_IS_MEM ioctl. */
#define IOMEM_NO_MMAP_IS_MEM	0x40000000

/*
 * Open the route's file for the BAR and mmap [off, off + len) of the BAR
 * (MAP_SHARED unless flags says MAP_PRIVATE). 0, or -errno of the step
 * that failed (open, ioctl, mmap) with why.
 */
int iomem_map(struct iomem_map *m, const struct iomem_route *r,
	      const struct iomem_dev *d, int bar, uint64_t off, size_t len,
	      int prot, int flags, char *why, size_t whylen);
/* Same, at a raw physical address through /dev/mem (pmem, /proc/iomem ranges). */
int iomem_map_phys(struct iomem_map *m, uint64_t phys, size_t len, int prot,
		   int flags, char *why, size_t whylen);
void iomem_unmap(struct iomem_map *m);

/* Is [addr, addr+len) still a VMA in /proc/self/maps? */
bool iomem_vma_present(const volatile void *addr, size_t len);

/* ---- fault-safe access ----------------------------------------------------- */

enum iomem_outcome { IOMEM_ACCESS_OK, IOMEM_ACCESS_SIGBUS, IOMEM_ACCESS_SIGSEGV };

struct iomem_access {
	enum iomem_outcome outcome;
	uint32_t value;		/* read: what was read */
	int code;		/* on a signal: si_code */
	void *fault_addr;
};

/* Read/write one 32-bit word; a SIGBUS/SIGSEGV is caught and reported. */
struct iomem_access iomem_read32(const volatile void *addr);
struct iomem_access iomem_write32(volatile void *addr, uint32_t value);
/* "ok 0x...", "SIGBUS BUS_ADRERR at 0x..." */
const char *iomem_access_str(const struct iomem_access *a, char *buf, size_t len);

/*
 * Checks that the self-test switch (IOPIN_SELFTEST_FAULT=verify) corrupts
 * like pattern_check: the expectation is turned into a different one, so a
 * kernel that behaves makes every check fail. true when it holds, else why.
 */
/* The access succeeded (and read want, unless any_value). */
bool iomem_check_ok(const struct iomem_access *a, uint32_t want, bool any_value,
		    char *why, size_t len);
/* The access got SIGBUS, BUS_ADRERR, at exactly addr. */
bool iomem_check_sigbus(const struct iomem_access *a, const volatile void *addr,
			char *why, size_t len);
/* A call returned rc (-1 + errno or -errno): failed with want_errno (0: succeeded). */
bool iomem_check_errno(int got_errno, int want_errno, char *why, size_t len);

/* ---- requirements ------------------------------------------------------------ */

/* NEEDS_* bits (lib/iopin.h) this lib decides; false when all are met, else why. */
bool iomem_unmet(unsigned int needs, char *why, size_t len);
bool iomem_in_vm(void);
bool iomem_destructive_allowed(void);

/* ---- wrappers for test bodies (only with the harness: via lib/iopin.h) ---- */
#ifdef __KSELFTEST_HARNESS_H

/*
 * One FIXTURE_VARIANT_ADD per route, for fixtures whose variant struct has
 * a "struct iomem_route route" member:
 *	IOMEM_ROUTES(IOMEM_ROUTE_VARIANT, fixture)
 */
#define IOMEM_ROUTE_VARIANT(id, rid, err, rawio, guard, needs, fix)	\
	FIXTURE_VARIANT_ADD(fix, id) {					\
		.route = IOMEM_ROUTE_INIT(id, rid, err, rawio, guard, needs), \
	};

/* In FIXTURE_SETUP: the device for role, or SKIP naming what is missing. */
#define IOMEM_PICK(role, d, bar) do {					\
	char _why[320];							\
	if (!iomem_pick(role, d, bar, _why, sizeof(_why)))		\
		SKIP(return, "%s", _why);				\
} while (0)

#define IOMEM_ROUTE_NEEDED(r, d, bar) do {				\
	char _why[320];							\
	if (!iomem_route_usable(r, d, bar, _why, sizeof(_why)))		\
		SKIP(return, "%s", _why);				\
} while (0)

/* Map [off, off+len) of BAR bar of d through route r, shared, R/W, or fail. */
#define IOMEM_MAP_OK(m, r, d, bar, off, len) do {			\
	char _why[320];							\
	ASSERT_EQ(0, iomem_map(m, r, d, bar, off, len, PROT_READ | PROT_WRITE, \
			       MAP_SHARED, _why, sizeof(_why)))		\
		TH_LOG("%s: %s", (r)->name, _why);			\
} while (0)

/* The mmap fails with want (0: works; the mapping is dropped again). */
#define ASSERT_MAP_ERRNO(want, r, d, bar, off, len, flags) do {	\
	char _why[320] = "", _chk[160];					\
	struct iomem_map _m;						\
	int _rc = iomem_map(&_m, r, d, bar, off, len, PROT_READ | PROT_WRITE, \
			    flags, _why, sizeof(_why));			\
	if (!_rc)							\
		iomem_unmap(&_m);					\
	ASSERT_TRUE(iomem_check_errno(_rc, want, _chk, sizeof(_chk)))	\
		TH_LOG("mmap through %s: %s (%s)", (r)->name, _chk,	\
		       _rc ? _why : "it mapped");			\
} while (0)

/* A 32-bit read at addr succeeds (and returns want unless any). */
#define ASSERT_READ_OK(addr, want, any, what) do {			\
	struct iomem_access _a = iomem_read32(addr);			\
	char _why[160];							\
	ASSERT_TRUE(iomem_check_ok(&_a, want, any, _why, sizeof(_why)))	\
		TH_LOG("%s: %s", what, _why);				\
} while (0)

#define ASSERT_WRITE_OK(addr, value, what) do {				\
	struct iomem_access _a = iomem_write32(addr, value);		\
	char _why[160];							\
	ASSERT_TRUE(iomem_check_ok(&_a, 0, true, _why, sizeof(_why)))	\
		TH_LOG("%s: %s", what, _why);				\
} while (0)

/* A read at addr gets SIGBUS BUS_ADRERR at exactly addr; the VMA is still there. */
#define ASSERT_READ_SIGBUS(addr, what) do {				\
	struct iomem_access _a = iomem_read32(addr);			\
	char _why[160];							\
	ASSERT_TRUE(iomem_vma_present(addr, 4))				\
		TH_LOG("%s: the VMA at %p is gone", what, (void *)(addr)); \
	ASSERT_TRUE(iomem_check_sigbus(&_a, addr, _why, sizeof(_why)))	\
		TH_LOG("%s: %s", what, _why);				\
} while (0)

#define IOMEM_UNBIND_OK(d) do {						\
	char _why[320];							\
	ASSERT_EQ(0, iomem_unbind(d, _why, sizeof(_why))) TH_LOG("%s", _why); \
} while (0)

#define IOMEM_BIND_OK(d, drv) do {					\
	char _why[320];							\
	ASSERT_EQ(0, iomem_bind(d, drv, _why, sizeof(_why))) TH_LOG("%s", _why); \
} while (0)

/* /proc/iomem shows (or does not show) a claim of BAR bar of d. */
#define ASSERT_CLAIMED(d, b, yes) do {					\
	char _owner[128];						\
	bool _c = iomem_claimed((d)->bdf, (d)->bar[b].addr, _owner, sizeof(_owner)); \
	ASSERT_EQ(yes, _c) TH_LOG("%s BAR%d at 0x%llx: /proc/iomem shows %s", \
				  (d)->bdf, b, (unsigned long long)(d)->bar[b].addr, \
				  _c ? _owner : "no claim");		\
} while (0)

#endif /* __KSELFTEST_HARNESS_H */

#endif
