// SPDX-License-Identifier: GPL-2.0-only
/*
 * AF_XDP pin backend (see xdp.h). The umem registration is the pin; the
 * read path is a veth pair in a private network namespace: a TX descriptor
 * per page makes the kernel copy that page of the umem into a frame (copy
 * mode reads the pinned pages through the kernel's own mapping of them),
 * and a packet socket on the peer receives it into the caller's buffer.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <linux/if_xdp.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kernel.h"
#include "pin.h"
#include "task.h"
#include "xdp.h"

#ifndef AF_XDP
#define AF_XDP		44
#endif
#ifndef SOL_XDP
#define SOL_XDP		283
#endif

#define RING_SIZE	64
#define VETH_MTU	9000

struct xdp_pin {
	int xsk;		/* AF_XDP socket holding the umem (the pin) */
	int pkt;		/* packet socket on the veth peer */
	int tx_ifindex;		/* in the private namespace */
	bool ready;		/* read path set up */
	char read_why[200];	/* why not, when it is not */
	void *tx_map, *cq_map;
	size_t tx_map_len, cq_map_len;
	__u32 *tx_prod, *cq_prod, *cq_cons;
	struct xdp_desc *tx_desc;
};

int xdp_probe(char *why, size_t len)
{
	int fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		snprintf(why, len, "no AF_XDP socket (needs CONFIG_XDP_SOCKETS and CAP_NET_RAW): %s",
			 strerror(errno));
		return -errno;
	}
	close(fd);
	return 0;
}

/* ---- a veth pair in a private network namespace -------------------------- */

static void nl_attr(struct nlmsghdr *n, unsigned short type, const void *data,
		    size_t len)
{
	struct rtattr *a = (struct rtattr *)((char *)n + NLMSG_ALIGN(n->nlmsg_len));

	a->rta_type = type;
	a->rta_len = RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(a), data, len);
	n->nlmsg_len = NLMSG_ALIGN(n->nlmsg_len) + RTA_ALIGN(a->rta_len);
}

static struct rtattr *nl_nest(struct nlmsghdr *n, unsigned short type)
{
	struct rtattr *a = (struct rtattr *)((char *)n + NLMSG_ALIGN(n->nlmsg_len));

	nl_attr(n, type, NULL, 0);
	return a;
}

static void nl_nest_end(struct nlmsghdr *n, struct rtattr *a)
{
	a->rta_len = (char *)n + n->nlmsg_len - (char *)a;
}

/*
 * Send one netlink request on a socket of protocol proto and read its ack:
 * 0, the request's -errno (from the NLMSG_ERROR ack; why left empty for
 * the caller to word), or the -errno of the socket calls (why says what).
 */
int nl_transact(int proto, struct nlmsghdr *req, const char *what,
		char *why, size_t len)
{
	struct {
		struct nlmsghdr n;
		struct nlmsgerr e;
		char buf[256];
	} resp;
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, proto), ret;

	if (len)
		why[0] = '\0';		/* stays empty for the request's own error */
	if (fd < 0) {
		snprintf(why, len, "%s: netlink socket: %s", what, strerror(errno));
		return -errno;
	}
	if (send(fd, req, req->nlmsg_len, 0) < 0 ||
	    recv(fd, &resp, sizeof(resp), 0) < (ssize_t)sizeof(resp.n)) {
		ret = -errno;
		snprintf(why, len, "%s: %s", what, strerror(errno));
		close(fd);
		return ret;
	}
	close(fd);
	return resp.n.nlmsg_type == NLMSG_ERROR ? resp.e.error : 0;
}

static int veth_create(char *why, size_t len)
{
	struct {
		struct nlmsghdr n;
		struct ifinfomsg i;
		char buf[512];
	} req = { 0 };
	struct ifinfomsg peer = { .ifi_family = AF_UNSPEC };
	struct rtattr *info, *data, *pa;
	unsigned int mtu = VETH_MTU;
	int ret;

	req.n.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
	req.n.nlmsg_type = RTM_NEWLINK;
	req.n.nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK;
	req.i.ifi_family = AF_UNSPEC;
	nl_attr(&req.n, IFLA_IFNAME, VETH_TX, sizeof(VETH_TX));
	nl_attr(&req.n, IFLA_MTU, &mtu, sizeof(mtu));
	info = nl_nest(&req.n, IFLA_LINKINFO);
	nl_attr(&req.n, IFLA_INFO_KIND, "veth", sizeof("veth"));
	data = nl_nest(&req.n, IFLA_INFO_DATA);
	pa = nl_nest(&req.n, VETH_INFO_PEER);
	/* The peer's ifinfomsg comes first in VETH_INFO_PEER's payload. */
	memcpy((char *)&req.n + req.n.nlmsg_len, &peer, sizeof(peer));
	req.n.nlmsg_len += NLMSG_ALIGN(sizeof(peer));
	nl_attr(&req.n, IFLA_IFNAME, VETH_RX, sizeof(VETH_RX));
	nl_attr(&req.n, IFLA_MTU, &mtu, sizeof(mtu));
	nl_nest_end(&req.n, pa);
	nl_nest_end(&req.n, data);
	nl_nest_end(&req.n, info);

	ret = nl_transact(NETLINK_ROUTE, &req.n, "RTM_NEWLINK veth", why, len);
	if (ret && !why[0])
		snprintf(why, len, "creating a veth pair: %s%s", strerror(-ret),
			 ret == -EOPNOTSUPP ? " (needs CONFIG_VETH)" : "");
	return ret;
}

int veth_move(const char *name, int netns_fd, const char *new_name,
	      char *why, size_t len)
{
	struct {
		struct nlmsghdr n;
		struct ifinfomsg i;
		char buf[128];
	} req = { 0 };
	__u32 nsfd = netns_fd;
	int ret;

	req.n.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
	req.n.nlmsg_type = RTM_NEWLINK;
	req.n.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	req.i.ifi_family = AF_UNSPEC;
	req.i.ifi_index = if_nametoindex(name);
	nl_attr(&req.n, IFLA_NET_NS_FD, &nsfd, sizeof(nsfd));
	nl_attr(&req.n, IFLA_IFNAME, new_name, strlen(new_name) + 1);
	ret = nl_transact(NETLINK_ROUTE, &req.n, "RTM_NEWLINK move", why, len);
	if (ret && !why[0])
		snprintf(why, len, "moving %s to another namespace as %s: %s", name,
			 new_name, strerror(-ret));
	return ret;
}

static int link_up(int sock, const char *name)
{
	struct ifreq ifr = { 0 };

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(sock, SIOCGIFFLAGS, &ifr))
		return -errno;
	ifr.ifr_flags |= IFF_UP;
	return ioctl(sock, SIOCSIFFLAGS, &ifr) ? -errno : 0;
}

/*
 * unshare(CLONE_NEWNET), retried for up to 5 s: making a namespace can fail
 * for a moment while the kernel still tears down those of an earlier test
 * (seen once in the 6.12 VM under load: ENODEV for the rxe namespace).
 */
int netns_unshare(void)
{
	int tries;

	for (tries = 0; tries < 50; tries++) {
		if (!unshare(CLONE_NEWNET))
			return 0;
		if (errno != ENODEV && errno != ENOMEM && errno != ENOSPC && errno != EBUSY)
			break;
		usleep(100000);
	}
	return -1;
}

int veth_pair_up(char *why, size_t len)
{
	int s, ret;

	/* Namespace-local sysctls: this namespace's, not the machine's. */
	sysfs_write("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
	sysfs_write("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
	ret = veth_create(why, len);
	if (ret)
		return ret;
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	ret = link_up(s, VETH_RX) ?: link_up(s, VETH_TX);
	close(s);
	if (ret)
		snprintf(why, len, "bringing the veth pair up: %s", strerror(-ret));
	return ret;
}

/* In the (new) current namespace: the veth pair and a packet socket on the peer. */
static int read_path_links(struct xdp_pin *x, char *why, size_t len)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
	};
	int ret = veth_pair_up(why, len);

	if (ret)
		return ret;
	x->tx_ifindex = if_nametoindex(VETH_TX);
	x->pkt = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	sll.sll_ifindex = if_nametoindex(VETH_RX);
	if (x->pkt < 0 || !sll.sll_ifindex ||
	    bind(x->pkt, (struct sockaddr *)&sll, sizeof(sll))) {
		snprintf(why, len, "packet socket on %s: %s", VETH_RX, strerror(errno));
		return -errno;
	}
	return 0;
}

/* TX and completion rings, bound to the veth in copy mode. */
static int read_path_rings(struct xdp_pin *x, char *why, size_t len)
{
	struct sockaddr_xdp sxdp = {
		.sxdp_family = AF_XDP,
		.sxdp_queue_id = 0,
		.sxdp_flags = XDP_COPY,
	};
	struct xdp_mmap_offsets off;
	socklen_t olen = sizeof(off);
	int n = RING_SIZE;

	if (setsockopt(x->xsk, SOL_XDP, XDP_UMEM_FILL_RING, &n, sizeof(n)) ||
	    setsockopt(x->xsk, SOL_XDP, XDP_UMEM_COMPLETION_RING, &n, sizeof(n)) ||
	    setsockopt(x->xsk, SOL_XDP, XDP_TX_RING, &n, sizeof(n)) ||
	    getsockopt(x->xsk, SOL_XDP, XDP_MMAP_OFFSETS, &off, &olen)) {
		snprintf(why, len, "AF_XDP ring setup: %s", strerror(errno));
		return -errno;
	}
	x->tx_map_len = off.tx.desc + RING_SIZE * sizeof(struct xdp_desc);
	x->tx_map = mmap(NULL, x->tx_map_len, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_POPULATE, x->xsk, XDP_PGOFF_TX_RING);
	x->cq_map_len = off.cr.desc + RING_SIZE * sizeof(__u64);
	x->cq_map = mmap(NULL, x->cq_map_len, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_POPULATE, x->xsk,
			 XDP_UMEM_PGOFF_COMPLETION_RING);
	if (x->tx_map == MAP_FAILED || x->cq_map == MAP_FAILED) {
		snprintf(why, len, "mmap of AF_XDP rings: %s", strerror(errno));
		return -errno;
	}
	x->tx_prod = (__u32 *)((char *)x->tx_map + off.tx.producer);
	x->tx_desc = (struct xdp_desc *)((char *)x->tx_map + off.tx.desc);
	x->cq_prod = (__u32 *)((char *)x->cq_map + off.cr.producer);
	x->cq_cons = (__u32 *)((char *)x->cq_map + off.cr.consumer);
	sxdp.sxdp_ifindex = x->tx_ifindex;
	if (bind(x->xsk, (struct sockaddr *)&sxdp, sizeof(sxdp))) {
		snprintf(why, len, "binding the AF_XDP socket to %s (copy mode): %s",
			 VETH_TX, strerror(errno));
		return -errno;
	}
	return 0;
}

/* ---- the backend ---------------------------------------------------------- */

int xdp_pin(struct pin *p)
{
	struct xdp_umem_reg reg = {
		.addr = (uintptr_t)p->addr,
		.len = p->len,
		.chunk_size = XDP_FRAME_SIZE,
	};
	struct xdp_pin *x = calloc(1, sizeof(*x));
	int saved, netns_err = 0, err = 0;

	if (!x)
		return -ENOMEM;
	x->xsk = x->pkt = -1;
	p->priv = x;
	/*
	 * The sockets are created in a namespace of their own, which lives as
	 * long as they do; the process goes back to its namespace at once.
	 */
	saved = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (saved < 0 || netns_unshare()) {
		netns_err = -errno;
		snprintf(x->read_why, sizeof(x->read_why),
			 "no private network namespace for the AF_XDP read path: %s",
			 strerror(errno));
	} else {
		netns_err = read_path_links(x, x->read_why, sizeof(x->read_why));
	}
	x->xsk = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (x->xsk < 0)
		err = -errno;
	if (saved >= 0) {
		if (setns(saved, CLONE_NEWNET) && !err)
			err = -errno;
		close(saved);
	}
	if (err) {
		snprintf(p->why, sizeof(p->why), "AF_XDP socket: %s", strerror(-err));
		goto fail;
	}
	pin_memlock_raise();
	if (setsockopt(x->xsk, SOL_XDP, XDP_UMEM_REG, &reg, sizeof(reg))) {
		err = -errno;
		snprintf(p->why, sizeof(p->why), "XDP_UMEM_REG: %s", strerror(errno));
		if (err == -ENOBUFS && !proc_has_cap(CAP_IPC_LOCK))
			pin_memlock_limited(p);
		goto fail;
	}
	if (p->len > XDP_READ_WINDOW)
		p->len = XDP_READ_WINDOW;
	if (!netns_err)
		x->ready = !read_path_rings(x, x->read_why, sizeof(x->read_why));
	return 0;
fail:
	xdp_unpin(p);	/* pin_range() does not call unpin after a failed pin */
	return err;
}

/* Frame-sized packet from the peer into buf, within a second. */
static int recv_frame(struct xdp_pin *x, char *buf, char *why, size_t len)
{
	static char tmp[XDP_FRAME_SIZE + 64];
	struct pollfd pfd = { .fd = x->pkt, .events = POLLIN };
	int others = 0;
	ssize_t n;

	for (;;) {
		if (poll(&pfd, 1, 1000) != 1) {
			snprintf(why, len, "no %d-byte frame arrived on %s within 1 s (%d other frames)",
				 XDP_FRAME_SIZE, VETH_RX, others);
			return -ETIMEDOUT;
		}
		n = recv(x->pkt, tmp, sizeof(tmp), MSG_TRUNC);
		if (n < 0)
			return -errno;
		if (n == XDP_FRAME_SIZE) {
			memcpy(buf, tmp, XDP_FRAME_SIZE);
			return 0;
		}
		others++;	/* not ours: the stack's own traffic */
	}
}

int xdp_read(struct pin *p, void *buf)
{
	struct xdp_pin *x = p->priv;
	size_t i;
	int ret;

	if (!x->ready) {
		snprintf(p->why, sizeof(p->why), "%s", x->read_why);
		return -EOPNOTSUPP;
	}
	for (i = 0; i < p->len / XDP_FRAME_SIZE; i++) {
		__u32 prod = *x->tx_prod;
		int tries;

		x->tx_desc[prod % RING_SIZE] = (struct xdp_desc) {
			.addr = i * XDP_FRAME_SIZE, .len = XDP_FRAME_SIZE,
		};
		__atomic_store_n(x->tx_prod, prod + 1, __ATOMIC_RELEASE);
		for (tries = 0; tries < 100; tries++) {
			if (sendto(x->xsk, NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0)
				break;
			if (errno != EAGAIN && errno != EBUSY) {
				snprintf(p->why, sizeof(p->why), "AF_XDP TX kick: %s",
					 strerror(errno));
				return -errno;
			}
			usleep(1000);
		}
		ret = recv_frame(x, (char *)buf + i * XDP_FRAME_SIZE, p->why,
				 sizeof(p->why));
		if (ret)
			return ret;
		/* The frame is out: give its completion back. */
		__atomic_store_n(x->cq_cons, __atomic_load_n(x->cq_prod, __ATOMIC_ACQUIRE),
				 __ATOMIC_RELEASE);
	}
	return 0;
}

void xdp_unpin(struct pin *p)
{
	struct xdp_pin *x = p->priv;

	if (!x)
		return;
	if (x->tx_map && x->tx_map != MAP_FAILED)
		munmap(x->tx_map, x->tx_map_len);
	if (x->cq_map && x->cq_map != MAP_FAILED)
		munmap(x->cq_map, x->cq_map_len);
	if (x->pkt >= 0)
		close(x->pkt);
	if (x->xsk >= 0)
		close(x->xsk);	/* unpins; the namespace and veth go with it */
	free(x);
	p->priv = NULL;
}

const struct pin_backend pin_backend_af_xdp = {
	.name = "af_xdp", .props = PIN_LONGTERM | PIN_WRITE,
	.needs = NEEDS_ROOT | NEEDS_AF_XDP,
	PIN_OPS(xdp),
};
