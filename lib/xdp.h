/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * AF_XDP pin backend: registering a range as an XDP umem (XDP_UMEM_REG)
 * pins it FOLL_WRITE|FOLL_LONGTERM. What the pin sees is read through the
 * pinned pages themselves: each page of the umem is transmitted as one
 * frame on a veth pair in a network namespace of its own (copy mode: the
 * kernel builds the frame from its mapping of the umem pages) and received
 * on the peer with a packet socket. The namespace, and with it the veth
 * pair, goes away with the last socket: no global state is changed.
 */
#ifndef IOPIN_XDP_H
#define IOPIN_XDP_H

#include <stddef.h>

struct pin;

/* Frame (= chunk) size: one page; the read window is the first pages. */
#define XDP_FRAME_SIZE		4096
#define XDP_READ_WINDOW		(2UL << 20)

/* The veth pair, in the private namespace (also rdma.c's netdev). */
#define VETH_TX		"iopin-x0"
#define VETH_RX		"iopin-x1"

/*
 * In the current network namespace (a private one): create the veth pair
 * VETH_TX/VETH_RX and bring both up, with IPv6 off so that the stack sends
 * nothing of its own. 0 or -errno with why set.
 */
int veth_pair_up(char *why, size_t len);
/* One netlink request and its ack: 0 or -errno (see lib/xdp.c). */
struct nlmsghdr;
int nl_transact(int proto, struct nlmsghdr *req, const char *what,
		char *why, size_t len);
/* unshare(CLONE_NEWNET), retried while the kernel is busy; 0 or -1 (errno). */
int netns_unshare(void);
/*
 * Move veth end name to the namespace of netns_fd, renamed new_name (down
 * there). When the namespace it leaves dies, the peer left behind goes, and
 * takes this end with it.
 */
int veth_move(const char *name, int netns_fd, const char *new_name,
	      char *why, size_t len);

int xdp_probe(char *why, size_t len);
/* Register [p->addr, p->addr + p->len) as umem; p->len becomes the window. */
int xdp_pin(struct pin *p);
int xdp_read(struct pin *p, void *buf);
void xdp_unpin(struct pin *p);

#endif
