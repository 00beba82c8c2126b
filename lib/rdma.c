// SPDX-License-Identifier: GPL-2.0-only
/*
 * RDMA pin backends over soft-RoCE (see rdma.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kstate.h"
#include "pin.h"
#include "rdma.h"

#if __has_include(<infiniband/verbs.h>) && __has_include(<rdma/rdma_netlink.h>)
#include <arpa/inet.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <infiniband/verbs.h>
#include <linux/capability.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <rdma/rdma_netlink.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>

#include "task.h"
#include "xdp.h"

#define why_set(p, ...) snprintf((p)->why, sizeof((p)->why), __VA_ARGS__)

#define RXE_PORT	1

/* The libibverbs entry points used, resolved with dlopen(). */
static struct {
	bool loaded;
	char err[200];
	struct ibv_device **(*get_device_list)(int *num);
	void (*free_device_list)(struct ibv_device **list);
	const char *(*get_device_name)(struct ibv_device *dev);
	struct ibv_context *(*open_device)(struct ibv_device *dev);
	int (*close_device)(struct ibv_context *ctx);
	struct ibv_pd *(*alloc_pd)(struct ibv_context *ctx);
	int (*dealloc_pd)(struct ibv_pd *pd);
	struct ibv_mr *(*reg_mr)(struct ibv_pd *pd, void *addr, size_t len, int access);
	int (*dereg_mr)(struct ibv_mr *mr);
	struct ibv_cq *(*create_cq)(struct ibv_context *ctx, int cqe, void *cq_ctx,
				    struct ibv_comp_channel *ch, int vector);
	int (*destroy_cq)(struct ibv_cq *cq);
	struct ibv_qp *(*create_qp)(struct ibv_pd *pd, struct ibv_qp_init_attr *attr);
	int (*destroy_qp)(struct ibv_qp *qp);
	int (*modify_qp)(struct ibv_qp *qp, struct ibv_qp_attr *attr, int mask);
	int (*query_gid)(struct ibv_context *ctx, uint8_t port, int index, union ibv_gid *gid);
} ibv;

static int ibv_load(char *why, size_t len)
{
	static const char * const names[] = {
		"ibv_get_device_list", "ibv_free_device_list", "ibv_get_device_name",
		"ibv_open_device", "ibv_close_device", "ibv_alloc_pd",
		"ibv_dealloc_pd", "ibv_reg_mr", "ibv_dereg_mr", "ibv_create_cq",
		"ibv_destroy_cq", "ibv_create_qp", "ibv_destroy_qp",
		"ibv_modify_qp", "ibv_query_gid",
	};
	void **slot = (void **)&ibv.get_device_list;
	void *h;
	size_t i;

	if (ibv.loaded)
		return 0;
	if (ibv.err[0])
		goto fail;
	h = dlopen("libibverbs.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(ibv.err, sizeof(ibv.err),
			 "no libibverbs.so.1 (install libibverbs1 and ibverbs-providers): %s",
			 dlerror());
		goto fail;
	}
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		slot[i] = dlsym(h, names[i]);
		if (!slot[i]) {
			snprintf(ibv.err, sizeof(ibv.err), "libibverbs lacks %s", names[i]);
			goto fail;
		}
	}
	ibv.loaded = true;
	return 0;
fail:
	snprintf(why, len, "%s", ibv.err);
	return -ENOENT;
}

/* ---- an rxe device on a private veth ---------------------------------------- */

static void nla_put(struct nlmsghdr *n, unsigned short type, const char *str)
{
	struct nlattr *a = (struct nlattr *)((char *)n + NLMSG_ALIGN(n->nlmsg_len));
	size_t l = strlen(str) + 1;

	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + l;
	memcpy((char *)a + NLA_HDRLEN, str, l);
	n->nlmsg_len = NLMSG_ALIGN(n->nlmsg_len) + NLA_ALIGN(a->nla_len);
}

/* rdma link add NAME type rxe netdev NETDEV, through the RDMA netlink. */
static int rxe_link_add(const char *name, const char *netdev, char *why, size_t len)
{
	struct {
		struct nlmsghdr n;
		char buf[256];
	} req = { 0 };
	int ret;

	req.n.nlmsg_len = NLMSG_LENGTH(0);
	req.n.nlmsg_type = RDMA_NL_GET_TYPE(RDMA_NL_NLDEV, RDMA_NLDEV_CMD_NEWLINK);
	req.n.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nla_put(&req.n, RDMA_NLDEV_ATTR_DEV_NAME, name);
	nla_put(&req.n, RDMA_NLDEV_ATTR_LINK_TYPE, "rxe");
	nla_put(&req.n, RDMA_NLDEV_ATTR_NDEV_NAME, netdev);
	ret = nl_transact(NETLINK_RDMA, &req.n,
			  "RDMA_NLDEV_CMD_NEWLINK (needs CONFIG_INFINIBAND)", why, len);
	if (ret && !why[0])
		snprintf(why, len, "adding rxe link %s on %s: %s%s", name, netdev,
			 strerror(-ret), ret == -EOPNOTSUPP || ret == -ENOENT ?
			 " (needs the rdma_rxe module)" : "");
	return ret;
}

static int ipv4_add(const char *dev, const char *addr)
{
	struct ifreq ifr = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = 0;

	if (s < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	sin->sin_family = AF_INET;
	inet_pton(AF_INET, addr, &sin->sin_addr);
	if (ioctl(s, SIOCSIFADDR, &ifr))
		ret = -errno;
	close(s);
	return ret;
}

struct rdma_pin {
	int ns_hold;		/* a socket in the private namespace: keeps it */
	char name[32];		/* the rxe device */
	char ndev[IFNAMSIZ];	/* its netdev, in the initial namespace */
	char addr[16];		/* its IPv4 address */
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	struct ibv_qp *qp;
	struct ibv_mr *mr;	/* the pin */
	struct ibv_mr *bounce_mr;
	char *bounce;
	size_t bounce_len;
	union ibv_gid gid;
	int gid_index;
};

static int link_up_ns(const char *name)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = 0;

	if (s < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(s, SIOCGIFFLAGS, &ifr))
		ret = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (!ret && ioctl(s, SIOCSIFFLAGS, &ifr))
		ret = -errno;
	close(s);
	return ret;
}

/*
 * The rxe netdev: rxe (6.1, 6.12) routes in the initial namespace only, so
 * its netdev must live there. It is one end of a veth pair whose other end
 * stays in a private namespace that only r->ns_hold keeps: when the pin is
 * released or the process dies, that namespace goes, its veth end with it,
 * the peer in the initial namespace with that, and rxe with the netdev.
 * Whatever happens, nothing is left behind. saved: the caller's namespace,
 * which the process is back in on return.
 */
static int rxe_setup(struct rdma_pin *r, int saved, char *why, size_t len)
{
	static int seq;
	int ret;

	if (netns_unshare()) {
		snprintf(why, len, "no private network namespace for rxe: %s", strerror(errno));
		return -errno;
	}
	r->ns_hold = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (r->ns_hold < 0)
		ret = -errno;
	else
		ret = veth_pair_up(why, len);
	snprintf(r->ndev, sizeof(r->ndev), "iopr%d_%d", getpid() % 100000, seq);
	snprintf(r->name, sizeof(r->name), RXE_PREFIX "%d_%d", getpid(), seq++);
	if (!ret)
		ret = veth_move(VETH_TX, saved, r->ndev, why, len);
	if (setns(saved, CLONE_NEWNET) && !ret) {
		snprintf(why, len, "back to the initial network namespace: %s", strerror(errno));
		ret = -errno;
	}
	if (ret)
		return ret;
	/* A test-net address (198.18.0.0/15) of its own, per process. */
	snprintf(r->addr, sizeof(r->addr), "198.18.%d.%d", (getpid() >> 8) & 0xff,
		 (getpid() & 0xff) ?: 1);
	ret = ipv4_add(r->ndev, r->addr) ?: link_up_ns(r->ndev);
	if (ret) {
		snprintf(why, len, "address %s on %s: %s", r->addr, r->ndev, strerror(-ret));
		return ret;
	}
	return rxe_link_add(r->name, r->ndev, why, len);
}

static struct ibv_context *open_by_name(const char *name)
{
	struct ibv_device **list;
	struct ibv_context *ctx = NULL;
	int n, i, tries;

	/* Registration of the new device with uverbs is asynchronous. */
	for (tries = 0; !ctx && tries < 100; tries++) {
		list = ibv.get_device_list(&n);
		for (i = 0; list && i < n; i++)
			if (!strcmp(ibv.get_device_name(list[i]), name))
				ctx = ibv.open_device(list[i]);
		if (list)
			ibv.free_device_list(list);
		if (!ctx)
			usleep(20000);
	}
	return ctx;
}

/* The IPv4-mapped GID of r->addr (the GID table fills in asynchronously). */
static int find_gid(struct rdma_pin *r)
{
	union ibv_gid want = { 0 };
	int i, tries;

	want.raw[10] = want.raw[11] = 0xff;
	inet_pton(AF_INET, r->addr, &want.raw[12]);
	for (tries = 0; tries < 100; tries++) {
		for (i = 0; i < 16; i++) {
			if (ibv.query_gid(r->ctx, RXE_PORT, i, &r->gid))
				break;
			if (!memcmp(&r->gid, &want, sizeof(want))) {
				r->gid_index = i;
				return 0;
			}
		}
		usleep(20000);
	}
	return -ENOENT;
}

/* An RC QP connected to itself. */
static int qp_loopback(struct rdma_pin *r, char *why, size_t len)
{
	struct ibv_qp_init_attr init = {
		.qp_type = IBV_QPT_RC,
		.cap = { .max_send_wr = 4, .max_recv_wr = 1,
			 .max_send_sge = 1, .max_recv_sge = 1 },
	};
	struct ibv_qp_attr a = { 0 };
	int ret;

	r->cq = ibv.create_cq(r->ctx, 8, NULL, NULL, 0);
	if (!r->cq) {
		snprintf(why, len, "ibv_create_cq: %s", strerror(errno));
		return -errno;
	}
	init.send_cq = init.recv_cq = r->cq;
	r->qp = ibv.create_qp(r->pd, &init);
	if (!r->qp) {
		snprintf(why, len, "ibv_create_qp: %s", strerror(errno));
		return -errno;
	}
	a.qp_state = IBV_QPS_INIT;
	a.port_num = RXE_PORT;
	a.qp_access_flags = IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_WRITE |
			    IBV_ACCESS_LOCAL_WRITE;
	ret = ibv.modify_qp(r->qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX |
			    IBV_QP_PORT | IBV_QP_ACCESS_FLAGS);
	if (!ret) {
		memset(&a, 0, sizeof(a));
		a.qp_state = IBV_QPS_RTR;
		a.path_mtu = IBV_MTU_1024;
		a.dest_qp_num = r->qp->qp_num;
		a.max_dest_rd_atomic = 1;
		a.min_rnr_timer = 12;
		a.ah_attr.is_global = 1;
		a.ah_attr.grh.dgid = r->gid;
		a.ah_attr.grh.sgid_index = r->gid_index;
		a.ah_attr.grh.hop_limit = 1;
		a.ah_attr.port_num = RXE_PORT;
		ret = ibv.modify_qp(r->qp, &a, IBV_QP_STATE | IBV_QP_AV |
				    IBV_QP_PATH_MTU | IBV_QP_DEST_QPN |
				    IBV_QP_RQ_PSN | IBV_QP_MAX_DEST_RD_ATOMIC |
				    IBV_QP_MIN_RNR_TIMER);
	}
	if (!ret) {
		memset(&a, 0, sizeof(a));
		a.qp_state = IBV_QPS_RTS;
		a.timeout = 14;
		a.retry_cnt = 7;
		a.rnr_retry = 7;
		a.max_rd_atomic = 1;
		ret = ibv.modify_qp(r->qp, &a, IBV_QP_STATE | IBV_QP_TIMEOUT |
				    IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY |
				    IBV_QP_SQ_PSN | IBV_QP_MAX_QP_RD_ATOMIC);
	}
	if (ret)
		snprintf(why, len, "connecting the loopback QP (ibv_modify_qp): %s",
			 strerror(ret));
	return -ret;
}

int rdma_probe(char *why, size_t len)
{
	int fd;

	if (ibv_load(why, len))
		return -ENOENT;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_RDMA);
	if (fd < 0) {
		snprintf(why, len, "kernel has no RDMA netlink (needs CONFIG_INFINIBAND): %s",
			 strerror(errno));
		return -errno;
	}
	close(fd);
	if (!proc_has_cap(CAP_NET_ADMIN) || !proc_has_cap(CAP_SYS_ADMIN)) {
		snprintf(why, len, "setting up soft-RoCE needs CAP_NET_ADMIN and CAP_SYS_ADMIN (root)");
		return -EPERM;
	}
	return 0;
}

int rdma_pin(struct pin *p)
{
	struct rdma_pin *r = calloc(1, sizeof(*r));
	int saved, ret, access = IBV_ACCESS_REMOTE_READ;

	if (!r)
		return -ENOMEM;
	r->ns_hold = -1;
	p->priv = r;
	if (ibv_load(p->why, sizeof(p->why))) {
		ret = -ENOENT;
		goto fail;
	}
	saved = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (saved < 0) {
		ret = -errno;
		goto fail;
	}
	ret = rxe_setup(r, saved, p->why, sizeof(p->why));
	close(saved);
	if (ret)
		goto fail;
	r->ctx = open_by_name(r->name);
	if (!r->ctx) {
		why_set(p, "rxe device %s did not show up in libibverbs (rxe provider installed?)",
			r->name);
		ret = -ENODEV;
		goto fail;
	}
	r->pd = ibv.alloc_pd(r->ctx);
	if (!r->pd) {
		ret = -errno;
		why_set(p, "ibv_alloc_pd: %s", strerror(errno));
		goto fail;
	}
	if (find_gid(r)) {
		why_set(p, "rxe device %s has no GID for %s", r->name, r->addr);
		ret = -ENOENT;
		goto fail;
	}
	ret = qp_loopback(r, p->why, sizeof(p->why));
	if (ret)
		goto fail;

	/* The pin under test. */
	if (p->be->props & PIN_WRITE)
		access |= IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE;
	pin_memlock_raise();
	r->mr = ibv.reg_mr(r->pd, p->addr, p->len, access);
	if (!r->mr) {
		ret = -errno;
		why_set(p, "ibv_reg_mr (%s): %s", p->be->props & PIN_WRITE ?
			"local+remote write, remote read" : "remote read only",
			strerror(errno));
		if (ret == -ENOMEM && !proc_has_cap(CAP_IPC_LOCK))
			pin_memlock_limited(p);
		goto fail;
	}
	if (p->len > RDMA_READ_WINDOW)
		p->len = RDMA_READ_WINDOW;
	/* Not merged with the test's memory (see vfio.c): MAP_NORESERVE. */
	r->bounce_len = (p->len + 4095) & ~4095UL;
	r->bounce = mmap(NULL, r->bounce_len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (r->bounce == MAP_FAILED)
		r->bounce = NULL;
	if (r->bounce)
		r->bounce_mr = ibv.reg_mr(r->pd, r->bounce, p->len,
					  IBV_ACCESS_LOCAL_WRITE);
	if (!r->bounce_mr) {
		ret = -ENOMEM;
		why_set(p, "registering the bounce buffer: %s", strerror(errno));
		goto fail;
	}
	return 0;
fail:
	rdma_unpin(p);
	return ret;
}

/* One RDMA READ (pin -> bounce) or WRITE (bounce -> pin) and its completion. */
static int rdma_op(struct pin *p, enum ibv_wr_opcode op)
{
	struct rdma_pin *r = p->priv;
	struct ibv_sge sge = {
		.addr = (uintptr_t)r->bounce,
		.length = p->len,
		.lkey = r->bounce_mr->lkey,
	};
	struct ibv_send_wr wr = {
		.wr_id = 1,
		.sg_list = &sge,
		.num_sge = 1,
		.opcode = op,
		.send_flags = IBV_SEND_SIGNALED,
		.wr.rdma = { .remote_addr = (uintptr_t)p->addr, .rkey = r->mr->rkey },
	}, *bad;
	struct ibv_wc wc;
	struct timespec t0, t;
	int n, ret;

	ret = ibv_post_send(r->qp, &wr, &bad);
	if (ret) {
		why_set(p, "ibv_post_send: %s", strerror(ret));
		return -ret;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!(n = ibv_poll_cq(r->cq, 1, &wc))) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 5) {
			why_set(p, "no RDMA completion within 5 s");
			return -ETIMEDOUT;
		}
		usleep(100);
	}
	if (n < 0 || wc.status != IBV_WC_SUCCESS) {
		why_set(p, "RDMA %s completed with status %d", op == IBV_WR_RDMA_READ ?
			"READ" : "WRITE", n < 0 ? n : (int)wc.status);
		return -EIO;
	}
	return 0;
}

int rdma_read(struct pin *p, void *buf)
{
	struct rdma_pin *r = p->priv;
	int ret;

	/* Whatever the READ does not overwrite cannot pass for pinned data. */
	memset(r->bounce, 0xa5, p->len);
	ret = rdma_op(p, IBV_WR_RDMA_READ);
	if (!ret)
		memcpy(buf, r->bounce, p->len);
	return ret;
}

int rdma_write(struct pin *p, const void *buf)
{
	struct rdma_pin *r = p->priv;

	memcpy(r->bounce, buf, p->len);
	return rdma_op(p, IBV_WR_RDMA_WRITE);
}

void rdma_unpin(struct pin *p)
{
	struct rdma_pin *r = p->priv;

	if (!r)
		return;
	if (r->bounce_mr)
		ibv.dereg_mr(r->bounce_mr);
	if (r->mr)
		ibv.dereg_mr(r->mr);
	if (r->qp)
		ibv.destroy_qp(r->qp);
	if (r->cq)
		ibv.destroy_cq(r->cq);
	if (r->pd)
		ibv.dealloc_pd(r->pd);
	if (r->ctx)
		ibv.close_device(r->ctx);
	/* Last: the namespace goes, and the kernel removes veth and rxe. */
	if (r->ns_hold >= 0)
		close(r->ns_hold);
	if (r->bounce)
		munmap(r->bounce, r->bounce_len);
	free(r);
	p->priv = NULL;
}

#else	/* no libibverbs-dev headers at build time */

int rdma_probe(char *why, size_t len)
{
	snprintf(why, len, "built without <infiniband/verbs.h> (install libibverbs-dev and rebuild)");
	return -ENOENT;
}

int rdma_pin(struct pin *p)
{
	(void)p;
	return -ENOENT;
}

int rdma_read(struct pin *p, void *buf)
{
	(void)p;
	(void)buf;
	return -ENOENT;
}

int rdma_write(struct pin *p, const void *buf)
{
	(void)p;
	(void)buf;
	return -ENOENT;
}

void rdma_unpin(struct pin *p)
{
	(void)p;
}

#endif

const struct pin_backend pin_backend_rdma_ro = {
	.name = "rdma_ro", .props = PIN_LONGTERM | PIN_DEVICE,
	.needs = NEEDS_ROOT | NEEDS_RDMA_RXE,
	PIN_OPS(rdma),
};

const struct pin_backend pin_backend_rdma_rw = {
	.name = "rdma_rw", .props = PIN_LONGTERM | PIN_WRITE | PIN_DEVICE,
	.needs = NEEDS_ROOT | NEEDS_RDMA_RXE,
	PIN_OPS(rdma), .write = rdma_write,
};
