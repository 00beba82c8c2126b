/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * RDMA pin backends over soft-RoCE (rdma_rxe): ibv_reg_mr() is the
 * long-term pin (ib_umem_get()): without a write access flag a R/O pin
 * (before v6.2, b40656aa7d55, it was FOLL_FORCE|FOLL_WRITE), with
 * IBV_ACCESS_LOCAL_WRITE a R/W one. What the pin sees is read with an RDMA
 * READ from the pinned MR into a second MR over an RC QP connected to
 * itself; the R/W backend's device write is an RDMA WRITE into the pin.
 *
 * The rxe device sits on one end of a veth pair whose other end lives in a
 * network namespace of its own: when the pin goes (or the process dies),
 * that namespace, the veth pair and with it the rxe device are torn down
 * by the kernel. libibverbs (and its rxe
 * provider) is loaded with dlopen(): no build or run dependency for
 * machines without RDMA.
 */
#ifndef IOPIN_RDMA_H
#define IOPIN_RDMA_H

#include <stddef.h>

struct pin;

/* What one read covers: the start of the range. */
#define RDMA_READ_WINDOW	(2UL << 20)

int rdma_probe(char *why, size_t len);
int rdma_pin(struct pin *p);
int rdma_read(struct pin *p, void *buf);
int rdma_write(struct pin *p, const void *buf);
void rdma_unpin(struct pin *p);

#endif
