/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Pin backends: one interface for everything that makes the kernel hold
 * user pages for a "device": pin a range, read what the pin sees (what a
 * device would DMA from), unpin. Each backend says when it is unavailable.
 *
 * Adding a backend: a new lib/ file defining its
 * "const struct pin_backend pin_backend_NAME" (designated initializers:
 * name, props, needs, guard, ops), and one row in PIN_BACKENDS below.
 */
#ifndef IOPIN_PIN_H
#define IOPIN_PIN_H

#include <stdbool.h>
#include <stddef.h>

#include "mem.h"
#include "needs.h"

/*
 * The pin backends, one row each, in the order tests cross them:
 *	X(ID, name, lt, ro_cpu, ro_dev, ...)
 * ID gives enum pin_id's PIN_<ID>; name is the variant name's part and the
 * backend's symbol, pin_backend_<name>, defined in its own file. The Y/N
 * columns put the row in the named subsets tests cross (below):
 *	lt	every long-term backend (FOLL_LONGTERM), for gup_longterm/
 *	ro_cpu	R/O long-term, read back in full by the CPU (cheap): crossed
 *		with every memory type
 *	ro_dev	R/O long-term read by a device's DMA: slow (edu: ~200 ms a
 *		read under QEMU TCG; RDMA: a soft-RoCE device set up per pin;
 *		V4L2: vivid loaded per test, a frame of its video loop per read)
 *		and only a window of the range: crossed with small memory sets
 * lib/selftest checks each row's props against its columns.
 */
#define PIN_BACKENDS(X, ...)						\
	X(IO_URING, io_uring, Y, N, N, __VA_ARGS__)	/* fixed buffer: R/W long-term */ \
	X(XDP, af_xdp, Y, N, N, __VA_ARGS__)		/* AF_XDP umem: R/W long-term */ \
	X(GUP_RW, gup_rw, Y, N, N, __VA_ARGS__)		/* gup_test PIN_LONGTERM, R/W */ \
	X(GUP_RW_FAST, gup_rw_fast, Y, N, N, __VA_ARGS__) /* ... R/W, GUP-fast */ \
	X(GUP_RO, gup_ro, Y, Y, N, __VA_ARGS__)		/* ... R/O */	\
	X(GUP_RO_FAST, gup_ro_fast, Y, Y, N, __VA_ARGS__) /* ... R/O, GUP-fast */ \
	X(VFIO_RO, vfio_ro, Y, N, Y, __VA_ARGS__)	/* VFIO MAP_DMA, device reads */ \
	X(VFIO_RW, vfio_rw, Y, N, N, __VA_ARGS__)	/* VFIO MAP_DMA, device reads/writes */ \
	X(RDMA_RO, rdma_ro, Y, N, Y, __VA_ARGS__)	/* soft-RoCE MR, remote read */ \
	X(RDMA_RW, rdma_rw, Y, N, N, __VA_ARGS__)	/* soft-RoCE MR, local+remote write */ \
	X(V4L2_RO, v4l2_ro, Y, N, Y, __VA_ARGS__)	/* vivid output buffer, looped to capture */ \
	X(VMSPLICE, vmsplice, N, N, N, __VA_ARGS__)	/* pipe: R/O short-term GUP */

enum pin_id {
#define PIN_ID_ENUM(id, name, lt, rc, rd, _) PIN_##id,
	PIN_BACKENDS(PIN_ID_ENUM, _)
#undef PIN_ID_ENUM
};

/* How many rows; not an enumerator, so that a switch needs no case for it. */
#define PIN_COUNT_ROW(id, name, lt, rc, rd, _) + 1
#define PIN_NR	(0 PIN_BACKENDS(PIN_COUNT_ROW, _))

/* What a pin is: the properties tests select backends by. */
#define PIN_LONGTERM	0x1	/* FOLL_LONGTERM: must stay coherent */
#define PIN_WRITE	0x2	/* pinned for write (FOLL_WRITE) */
#define PIN_FAST	0x4	/* through GUP-fast */
#define PIN_DEVICE	0x8	/* reads are a device's DMA of a window */

/* The subsets: X(id, name, ...) for each row with a Y in the column. */
#define PIN_IF_Y(...) __VA_ARGS__
#define PIN_IF_N(...)
#define PIN_PICK_LT(id, name, lt, rc, rd, X, ...) PIN_IF_##lt(X(PIN_##id, name, __VA_ARGS__))
#define PIN_PICK_RO_CPU(id, name, lt, rc, rd, X, ...) PIN_IF_##rc(X(PIN_##id, name, __VA_ARGS__))
#define PIN_PICK_RO_DEV(id, name, lt, rc, rd, X, ...) PIN_IF_##rd(X(PIN_##id, name, __VA_ARGS__))

/* X(id, name, ...) per member: the trailing arguments are passed on. */
#define PIN_LONGTERM_ALL_BACKENDS(X, ...)	PIN_BACKENDS(PIN_PICK_LT, X, __VA_ARGS__)
#define PIN_RO_LONGTERM_BACKENDS(X, ...)	PIN_BACKENDS(PIN_PICK_RO_CPU, X, __VA_ARGS__)
#define PIN_RO_LONGTERM_DEVICE_BACKENDS(X, ...)	PIN_BACKENDS(PIN_PICK_RO_DEV, X, __VA_ARGS__)

struct pin;

struct pin_backend {
	const char *name;	/* the row's name */
	unsigned int props;	/* PIN_* */
	unsigned int needs;	/* NEEDS_* (lib/needs.h) every variant adds */
	/*
	 * The fixes that make this pin R/O (and not a forced write): what the
	 * tests of a pin's R/O-ness (gup_longterm/rules, ro_effects:
	 * IOPIN_MEM_PIN_RO_AXES) guard for variants crossing it, besides their
	 * own guard; or NULL.
	 */
	const char *guard;
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

/*
 * In a struct pin_backend initializer: the ops of a backend whose functions
 * are prefix_probe, prefix_pin, prefix_read and prefix_unpin.
 */
#define PIN_OPS(prefix)							\
	.probe = prefix##_probe, .pin = prefix##_pin,			\
	.read = prefix##_read, .unpin = prefix##_unpin

/* Each row's pin_backend_<name>; the table in lib/pin.c is generated. */
#define PIN_BACKEND_DECLARE(id, name, lt, rc, rd, _)			\
	extern const struct pin_backend pin_backend_##name;
PIN_BACKENDS(PIN_BACKEND_DECLARE, _)
#undef PIN_BACKEND_DECLARE

const struct pin_backend *pin_backend_get(enum pin_id id);
/* NEEDS_* and added guard (or NULL) of a variant crossing backend id. */
unsigned int pin_needs(enum pin_id id);
const char *pin_guard(enum pin_id id);

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

#endif
