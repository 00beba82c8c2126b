// SPDX-License-Identifier: GPL-2.0-only
/*
 * Pin backends: io_uring fixed buffers, vmsplice, gup_test; VFIO in vfio.c,
 * AF_XDP in xdp.c, RDMA in rdma.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/capability.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <unistd.h>

#include "kernel.h"
#include "pin.h"
#include "rdma.h"
#include "task.h"
#include "vfio.h"
#include "xdp.h"

#define why_set(p, ...) snprintf((p)->why, sizeof((p)->why), __VA_ARGS__)

/* ---- io_uring fixed buffers -------------------------------------------- */

/*
 * Registering a fixed buffer pins it FOLL_WRITE|FOLL_LONGTERM. What the
 * pin sees is read back by a fixed-buffer write into a memfd.
 */
struct uring_pin {
	struct io_uring ring;
	int sink;
};

/*
 * Long-term pins of a process without CAP_IPC_LOCK are charged to its
 * user's RLIMIT_MEMLOCK (io_uring, VFIO, RDMA): raise the soft limit as far
 * as the hard one allows; a pin that still does not fit is the user's limit,
 * not a kernel failure.
 */
void pin_memlock_raise(void)
{
	struct rlimit rl;

	if (!getrlimit(RLIMIT_MEMLOCK, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_MEMLOCK, &rl);
	}
}

void pin_memlock_limited(struct pin *p)
{
	struct rlimit rl = { 0 };

	if (getrlimit(RLIMIT_MEMLOCK, &rl) || rl.rlim_max == RLIM_INFINITY)
		return;		/* no limit to blame */
	p->limited = true;
	why_set(p, "%s pin of %zu KiB is charged to RLIMIT_MEMLOCK (hard limit %llu KiB) and this user lacks CAP_IPC_LOCK: raise the limit (ulimit -l) or run as root",
		p->be->name, p->len / 1024, (unsigned long long)rl.rlim_max / 1024);
}

static int uring_probe(char *why, size_t len)
{
	struct io_uring ring;
	int ret = io_uring_queue_init(1, &ring, 0);

	if (ret) {
		snprintf(why, len, "io_uring unavailable: io_uring_setup: %s%s",
			 strerror(-ret), ret == -EPERM ?
			 " (kernel.io_uring_disabled?)" : "");
		return ret;
	}
	io_uring_queue_exit(&ring);
	return 0;
}

static int uring_pin(struct pin *p)
{
	struct uring_pin *u = calloc(1, sizeof(*u));
	struct iovec iov = { .iov_base = p->addr, .iov_len = p->len };
	int ret;

	if (!u)
		return -ENOMEM;
	ret = io_uring_queue_init(1, &u->ring, 0);
	if (ret) {
		free(u);
		why_set(p, "io_uring_queue_init: %s", strerror(-ret));
		return ret;
	}
	pin_memlock_raise();
	ret = io_uring_register_buffers(&u->ring, &iov, 1);
	if (ret) {
		io_uring_queue_exit(&u->ring);
		free(u);
		why_set(p, "IORING_REGISTER_BUFFERS: %s", strerror(-ret));
		if (ret == -ENOMEM && !proc_has_cap(CAP_IPC_LOCK))
			pin_memlock_limited(p);
		return ret;
	}
	u->sink = memfd_create("iopin-uring-sink", MFD_CLOEXEC);
	p->priv = u;
	return u->sink < 0 ? -errno : 0;
}

/*
 * One fixed-buffer operation over the whole pin against the sink memfd:
 * a write from the pin (the device reads what the pin sees), or a read
 * into it (the device writes into the pin).
 */
static int uring_fixed(struct pin *p, bool into_pin)
{
	const char *op = into_pin ? "IORING_OP_READ_FIXED" : "IORING_OP_WRITE_FIXED";
	struct uring_pin *u = p->priv;
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
	struct io_uring_cqe *cqe;
	int ret;

	if (!sqe)
		return -EBUSY;
	if (into_pin)
		io_uring_prep_read_fixed(sqe, u->sink, p->addr, p->len, 0, 0);
	else
		io_uring_prep_write_fixed(sqe, u->sink, p->addr, p->len, 0, 0);
	ret = io_uring_submit_and_wait(&u->ring, 1);
	if (ret < 0)
		return ret;
	ret = io_uring_wait_cqe(&u->ring, &cqe);
	if (ret)
		return ret;
	ret = cqe->res;
	io_uring_cqe_seen(&u->ring, cqe);
	if (ret < 0) {
		why_set(p, "%s: %s", op, strerror(-ret));
		return ret;
	}
	if ((size_t)ret != p->len) {
		why_set(p, "%s moved %d of %zu bytes", op, ret, p->len);
		return -EIO;
	}
	return 0;
}

static int uring_read(struct pin *p, void *buf)
{
	struct uring_pin *u = p->priv;
	int ret = uring_fixed(p, false);

	if (ret)
		return ret;
	return pread(u->sink, buf, p->len, 0) == (ssize_t)p->len ? 0 : -EIO;
}

/* The "device" writes: a fixed-buffer read from the memfd into the pin. */
static int uring_write(struct pin *p, const void *buf)
{
	struct uring_pin *u = p->priv;

	if (pwrite(u->sink, buf, p->len, 0) != (ssize_t)p->len)
		return -EIO;
	return uring_fixed(p, true);
}

static void uring_unpin(struct pin *p)
{
	struct uring_pin *u = p->priv;

	if (!u)
		return;
	io_uring_unregister_buffers(&u->ring);
	io_uring_queue_exit(&u->ring);
	if (u->sink >= 0)
		close(u->sink);
	free(u);
}

/* ---- vmsplice ------------------------------------------------------------ */

/*
 * vmsplice() without SPLICE_F_GIFT takes page references (short-term GUP,
 * no unsharing): the pipe holds the pages, reading the pipe is the device
 * read. tee() keeps the pipe's content for repeated reads.
 */
static int vmsplice_probe(char *why, size_t len)
{
	(void)why;
	(void)len;
	return 0;
}

static int vmsplice_pin(struct pin *p)
{
	struct iovec iov;
	ssize_t n;
	int cap;

	if (pipe2(p->fd, O_CLOEXEC))
		return -errno;
	/* Grow the pipe to hold the range; root may exceed pipe-max-size. */
	cap = fcntl(p->fd[1], F_SETPIPE_SZ, (int)p->len);
	if (cap < 0)
		cap = fcntl(p->fd[1], F_GETPIPE_SZ);
	if ((size_t)cap < p->len)
		p->len = cap;
	iov.iov_base = p->addr;
	iov.iov_len = p->len;
	n = vmsplice(p->fd[1], &iov, 1, 0);
	if (n < 0) {
		why_set(p, "vmsplice: %s", strerror(errno));
		return -errno;
	}
	p->len = n;
	return 0;
}

static int vmsplice_read(struct pin *p, void *buf)
{
	int copy[2], ret = 0;
	size_t done = 0;

	if (pipe2(copy, O_CLOEXEC))
		return -errno;
	fcntl(copy[1], F_SETPIPE_SZ, (int)p->len);
	if (tee(p->fd[0], copy[1], p->len, SPLICE_F_NONBLOCK) != (ssize_t)p->len) {
		why_set(p, "tee: %s", strerror(errno));
		ret = -EIO;
	}
	while (!ret && done < p->len) {
		ssize_t n = read(copy[0], (char *)buf + done, p->len - done);

		if (n <= 0) {
			ret = -EIO;
			break;
		}
		done += n;
	}
	close(copy[0]);
	close(copy[1]);
	return ret;
}

static void vmsplice_unpin(struct pin *p)
{
	close(p->fd[0]);
	close(p->fd[1]);
}

/* ---- gup_test (CONFIG_GUP_TEST) ----------------------------------------- */

/* The debugfs ABI of mm/gup_test.c. */
struct gup_test_longterm {
	__u64 addr;
	__u64 size;
	__u32 flags;
};
#define GUP_TEST_PATH		"/sys/kernel/debug/gup_test"
#define GUP_LT_START		_IOW('g', 7, struct gup_test_longterm)
#define GUP_LT_STOP		_IO('g', 8)
#define GUP_LT_READ		_IOW('g', 9, __u64)
#define GUP_LT_WRITE		1
#define GUP_LT_FAST		2

static int gup_probe(char *why, size_t len)
{
	int fd = open(GUP_TEST_PATH, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		snprintf(why, len, "no %s (needs CONFIG_GUP_TEST and debugfs): %s",
			 GUP_TEST_PATH, strerror(errno));
		return -errno;
	}
	close(fd);
	return 0;
}

static int gup_pin(struct pin *p)
{
	struct gup_test_longterm args = {
		.addr = (uintptr_t)p->addr,
		.size = p->len,
	};

	if (p->be->props & PIN_WRITE)
		args.flags |= GUP_LT_WRITE;
	if (p->be->props & PIN_FAST)
		args.flags |= GUP_LT_FAST;
	p->fd[0] = open(GUP_TEST_PATH, O_RDWR | O_CLOEXEC);
	if (p->fd[0] < 0)
		return -errno;
	if (ioctl(p->fd[0], GUP_LT_START, &args)) {
		why_set(p, "PIN_LONGTERM_TEST_START: %s", strerror(errno));
		close(p->fd[0]);
		return -errno;
	}
	return 0;
}

static int gup_read(struct pin *p, void *buf)
{
	__u64 dst = (uintptr_t)buf;

	if (ioctl(p->fd[0], GUP_LT_READ, &dst)) {
		why_set(p, "PIN_LONGTERM_TEST_READ: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

static void gup_unpin(struct pin *p)
{
	ioctl(p->fd[0], GUP_LT_STOP);
	close(p->fd[0]);
}

/* ---- the rows of these backends ----------------------------------------- */

const struct pin_backend pin_backend_io_uring = {
	.name = "io_uring", .props = PIN_LONGTERM | PIN_WRITE,
	.needs = NEEDS_IO_URING,
	PIN_OPS(uring), .write = uring_write,
};

const struct pin_backend pin_backend_vmsplice = {
	.name = "vmsplice", .props = 0,
	PIN_OPS(vmsplice),
};

#define GUP_BACKEND(n, p)						\
	const struct pin_backend pin_backend_##n = {			\
		.name = #n, .props = PIN_LONGTERM | (p),		\
		.needs = NEEDS_ROOT | NEEDS_GUP_TEST,			\
		PIN_OPS(gup),						\
	}
GUP_BACKEND(gup_ro, 0);
GUP_BACKEND(gup_ro_fast, PIN_FAST);
GUP_BACKEND(gup_rw, PIN_WRITE);
GUP_BACKEND(gup_rw_fast, PIN_WRITE | PIN_FAST);

/* ---- the registry ------------------------------------------------------- */

/* Generated from PIN_BACKENDS: a row without its backend does not link. */
static const struct pin_backend *const backends[PIN_NR] = {
#define PIN_TABLE_ROW(id, name, lt, rc, rd, _) [PIN_##id] = &pin_backend_##name,
	PIN_BACKENDS(PIN_TABLE_ROW, _)
#undef PIN_TABLE_ROW
};

const struct pin_backend *pin_backend_get(enum pin_id id)
{
	return (unsigned int)id < PIN_NR ? backends[id] : NULL;
}

unsigned int pin_needs(enum pin_id id)
{
	return backends[id]->needs;
}

const char *pin_guard(enum pin_id id)
{
	return backends[id]->guard;
}

bool pin_available(enum pin_id id, char *why, size_t len)
{
	const struct pin_backend *be = pin_backend_get(id);

	return be && !be->probe(why, len);
}

int pin_range(struct pin *p, enum pin_id id, void *addr, size_t len)
{
	memset(p, 0, sizeof(*p));
	p->be = pin_backend_get(id);
	p->addr = addr;
	p->len = len;
	p->fd[0] = p->fd[1] = p->fd[2] = -1;
	p->err = p->be->pin(p);
	if (p->err && !p->why[0])
		why_set(p, "%s pin: %s", p->be->name, strerror(-p->err));
	if (p->err)
		p->be = NULL;
	return p->err;
}

int pin_read(struct pin *p, void *buf)
{
	p->err = p->be->read(p, buf);
	if (p->err && !p->why[0])
		why_set(p, "%s read: %s", p->be->name, strerror(-p->err));
	return p->err;
}

bool pin_can_write(const struct pin *p)
{
	return p->be && p->be->write;
}

int pin_write(struct pin *p, const void *buf)
{
	p->err = p->be->write(p, buf);
	if (p->err && !p->why[0])
		why_set(p, "%s write: %s", p->be->name, strerror(-p->err));
	return p->err;
}

void pin_release(struct pin *p)
{
	if (p->be)
		p->be->unpin(p);
	p->be = NULL;
}
