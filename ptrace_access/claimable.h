/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A BAR a driver claims, for the ptrace_access tests of generic_access_phys()
 * (iomem, access_gate): the VM's virtio-rng, unbound (journaled) and its
 * virtio common config page mapped through one of the iomem routes, and
 * the axes those tests cross it with. Include after ptrace_access.h, from
 * one translation unit per binary.
 */
#ifndef PTRACE_ACCESS_CLAIMABLE_H
#define PTRACE_ACCESS_CLAIMABLE_H

#include "ptrace_access.h"

#define PHYS_GUARD "96667f8a4382 v5.12 mm: Close race in generic_access_phys"

/*
 * Mapping route x access route, for fixtures whose variant has "struct
 * iomem_route route" and "enum trace_route access":
 *	TRACE_HOOK_ROUTES(ACCESS_X_MAPS, fixture)
 */
#define MAP_X_ACCESS(id, rid, err, rawio, guard, needs, fix, aid, a)	\
	FIXTURE_VARIANT_ADD(fix, id##_##aid) {				\
		.route = IOMEM_ROUTE_INIT(id, rid, err, rawio, guard, needs), \
		.access = a,						\
	};
#define ACCESS_X_MAPS(aid, a, aname, fix) IOMEM_ROUTES(MAP_X_ACCESS, fix, aid, a)

#define CLAIM_NEEDS (NEEDS_ROOT | NEEDS_PCI_DEVICE | NEEDS_IOMEM_STRICT | NEEDS_DESTRUCTIVE)

/*
 * The word read is virtio's num_queues (le16 at common config + 0x12):
 * constant, whoever binds.
 */
struct claimable {
	struct iomem_dev d;
	int bar;
	char driver[64];	/* the driver that claims it on bind */
	struct iomem_map m;	/* one page: the common config's */
	uint64_t map_off;	/* of the mapping in the BAR */
	size_t cfg_off;		/* of the common config in the mapping */
	size_t num_queues_off;	/* in the mapping */
	size_t status_off;
	uint16_t num_queues;
};

/*
 * Unbind the device (journaled), map the page of its common config through
 * route and make t a tracee of that mapping (not started).
 */
static void claimable_setup(struct __test_metadata *_metadata, struct claimable *c,
			    const struct iomem_route *route, struct tracee *t)
{
	size_t ps = page_size();
	uint64_t off = 0;
	int cfg_bar = -1;

	IOMEM_PICK(IOMEM_ROLE_CLAIMABLE, &c->d, &c->bar);
	IOMEM_ROUTE_NEEDED(route, &c->d, c->bar);
	if (iomem_virtio_common_cfg(&c->d, &cfg_bar, &off) || cfg_bar != c->bar)
		SKIP(return, "%s: not a virtio-pci device: no register of known value",
		     c->d.bdf);
	c->map_off = off & ~(uint64_t)(ps - 1);
	c->cfg_off = off - c->map_off;
	c->num_queues_off = c->cfg_off + VIRTIO_COMMON_NUM_QUEUES;
	c->status_off = c->cfg_off + VIRTIO_COMMON_STATUS;
	snprintf(c->driver, sizeof(c->driver), "%s", c->d.driver);
	IOMEM_UNBIND_OK(&c->d);
	ASSERT_CLAIMED(&c->d, c->bar, false);
	IOMEM_MAP_OK(&c->m, route, &c->d, c->bar, c->map_off, ps);
	c->num_queues = *(volatile uint16_t *)((volatile char *)c->m.addr + c->num_queues_off);
	ASSERT_NE(0, c->num_queues) TH_LOG("num_queues reads 0: not the register");
	ksft_print_msg("%s BAR%d (%s), num_queues %u; mapped by %s\n", c->d.bdf,
		       c->bar, c->driver, c->num_queues, route->name);
	*t = (struct tracee){ .addr = (char *)c->m.addr, .len = ps,
			      .prot = PROT_READ | PROT_WRITE };
}

/*
 * Read 8 bytes from num_queues on (whole words for PEEKDATA) through
 * tracee t: the device answers register by register, so the access must
 * start at the register.
 */
static ssize_t claimable_read_num_queues(struct tracee *t, struct claimable *c,
					 enum trace_route a, uint16_t *nq, int *err)
{
	char buf[8];
	ssize_t ret;

	ret = tracee_access(t, a, false, (char *)c->m.addr + c->num_queues_off, buf, 8, err);
	if (ret == 8)
		memcpy(nq, buf, 2);
	return ret;
}

#endif
