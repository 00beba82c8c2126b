/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Pin backends: one interface for everything that makes the kernel hold
 * user pages for a "device": pin a range, read what the pin sees (what a
 * device would DMA from), unpin. Each backend says when it is unavailable.
 *
 * Adding a backend (RDMA, AF_XDP, ...): fill a struct pin_backend,
 * add it to enum pin_id and the backends[] table in lib/pin.c.
 */
#ifndef IOPIN_PIN_H
#define IOPIN_PIN_H

#include <stdbool.h>
#include <stddef.h>

#include "mem.h"

enum pin_id {
	PIN_IO_URING,		/* io_uring fixed buffer: R/W long-term */
	PIN_VMSPLICE,		/* vmsplice into a pipe: R/O short-term GUP */
	PIN_GUP_RO,		/* gup_test PIN_LONGTERM, R/O, GUP */
	PIN_GUP_RO_FAST,	/* gup_test PIN_LONGTERM, R/O, GUP-fast */
	PIN_GUP_RW,		/* gup_test PIN_LONGTERM, R/W, GUP */
	PIN_GUP_RW_FAST,	/* gup_test PIN_LONGTERM, R/W, GUP-fast */
	PIN_VFIO_RO,		/* VFIO type1 MAP_DMA, device read-only: R/O long-term */
	PIN_XDP,		/* AF_XDP umem (XDP_UMEM_REG): R/W long-term */
	PIN_VFIO_RW,		/* VFIO type1 MAP_DMA, device read/write: R/W long-term */
	PIN_RDMA_RO,		/* RDMA (soft-RoCE) MR, remote read only: R/O long-term */
	PIN_RDMA_RW,		/* RDMA (soft-RoCE) MR, local+remote write: R/W long-term */
	PIN_NR,
};

/* What a pin is: the properties tests select backends by. */
#define PIN_LONGTERM	0x1	/* FOLL_LONGTERM: must stay coherent */
#define PIN_WRITE	0x2	/* pinned for write (FOLL_WRITE) */
#define PIN_FAST	0x4	/* through GUP-fast */

/* X(id, name) for the R/O long-term backends the pin-coherence tests cross. */
#define PIN_RO_LONGTERM_BACKENDS(X, arg)	\
	X(PIN_GUP_RO, gup_ro, arg)		\
	X(PIN_GUP_RO_FAST, gup_ro_fast, arg)

/*
 * X(id, name) for R/O long-term backends whose reads are device DMAs: slow
 * (edu: ~200 ms a read under QEMU TCG; RDMA: a soft-RoCE device set up per
 * pin) and only a window of the range. Tests cross them with small memory
 * tables.
 */
#define PIN_RO_LONGTERM_DEVICE_BACKENDS(X, arg)	\
	X(PIN_VFIO_RO, vfio_ro, arg)			\
	X(PIN_RDMA_RO, rdma_ro, arg)

/*
 * X(id, name) for every long-term backend gup_longterm/ crosses with memory
 * kinds: the R/W ones (FOLL_WRITE) and the R/O ones.
 */
#define PIN_LONGTERM_ALL_BACKENDS(X, arg)	\
	X(PIN_IO_URING, io_uring, arg)		\
	X(PIN_XDP, af_xdp, arg)			\
	X(PIN_GUP_RW, gup_rw, arg)		\
	X(PIN_GUP_RW_FAST, gup_rw_fast, arg)	\
	X(PIN_GUP_RO, gup_ro, arg)		\
	X(PIN_GUP_RO_FAST, gup_ro_fast, arg)	\
	X(PIN_VFIO_RO, vfio_ro, arg)		\
	X(PIN_VFIO_RW, vfio_rw, arg)		\
	X(PIN_RDMA_RO, rdma_ro, arg)		\
	X(PIN_RDMA_RW, rdma_rw, arg)

struct pin;

struct pin_backend {
	const char *name;
	unsigned int props;
	/* 0 when usable here, else a reason naming what is missing. */
	int (*probe)(char *why, size_t len);
	int (*pin)(struct pin *p);		/* 0 or -errno */
	/*
	 * p->len bytes from the start of the range; 0 or -errno. pin() may
	 * lower p->len to the window a read covers.
	 */
	int (*read)(struct pin *p, void *buf);
	void (*unpin)(struct pin *p);
	/*
	 * R/W backends whose device can write: put p->len bytes of buf into
	 * the pinned range the way the device would (DMA); NULL if it cannot.
	 */
	int (*write)(struct pin *p, const void *buf);
};

struct pin {
	const struct pin_backend *be;
	char *addr;
	size_t len;		/* may be less than asked (pipe capacity, read window) */
	int fd[3];
	void *priv;
	int err;		/* -errno of the last failed operation */
	bool limited;		/* pin() failed on a limit of the user or machine */
	char why[256];
};

const struct pin_backend *pin_backend_get(enum pin_id id);

/*
 * For backends: long-term pins of a process without CAP_IPC_LOCK are
 * charged to RLIMIT_MEMLOCK. Raise the soft limit to the hard one before
 * pinning; after a refusal, mark the pin limited (a SKIP naming the limit).
 */
void pin_memlock_raise(void);
void pin_memlock_limited(struct pin *p);

/* Usable? If not, why (for SKIP). */
bool pin_available(enum pin_id id, char *why, size_t len);

/* Pin [addr, addr+len); 0 or -errno with p->why set. */
int pin_range(struct pin *p, enum pin_id id, void *addr, size_t len);
/* Read what the pin sees into buf (p->len bytes). */
int pin_read(struct pin *p, void *buf);
/* Can the pin's device write into it? Then write buf (p->len bytes). */
bool pin_can_write(const struct pin *p);
int pin_write(struct pin *p, const void *buf);
void pin_release(struct pin *p);

/*
 * The long-term pin rules, one table for every kernel (lib/pin.c): may
 * backend id pin a mapping of backing that is shared or private, writable
 * or read-only, on the running kernel? Returns 0 (allowed) or the -errno
 * the kernel's rule refuses it with; *tag names the rule (its commit).
 */
int pin_longterm_rule(enum pin_id id, enum mem_backing backing, bool shared,
		      bool writable, const char **tag);

#endif
