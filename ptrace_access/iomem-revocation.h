/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ptrace_access/iomem, revocation and removal: accesses after a driver claims the BAR or the
 * device is removed.
 * Tests, not declarations: included once, by ptrace_access/iomem.c, in
 * their place in that file (the harness registers fixtures and tests in
 * definition order), because the harness's lists are static to one
 * translation unit.
 */

/* ---- revocation, removal, and the race with both ------------------------ */

/*
 * A BAR a driver claims on bind (VM: the virtio-pci BAR of a virtio-blk of
 * its own). The tracee maps it while the device is unbound (journaled); the
 * word read is the constant register of iomem_claim_regs() (virtio's
 * num_queues): the same whoever binds. After a claim or a removal, every access route must fail (EIO):
 * never the stale data of a revoked pfn (96667f8a4382 re-checks the pte).
 */
FIXTURE(claim) {
	struct claimable c;
};

FIXTURE_VARIANT(claim) {
	struct iomem_route route;
	enum trace_route access;
};
IOPIN_ROUTE_AXES(claim);

TRACE_HOOK_ROUTES(ACCESS_X_MAPS, claim)

FIXTURE_SETUP(claim)
{
	claimable_setup(_metadata, &self->c, &variant->route, &the_tracee);
}

FIXTURE_TEARDOWN(claim)
{
	tracee_kill(&the_tracee);
	iomem_unmap(&self->c.m);
	kstate_restore();
}

static ssize_t read_num_queues(struct claimable *c, enum trace_route a, uint16_t *nq, int *err)
{
	return claimable_read_num_queues(&the_tracee, c, a, nq, err);
}

IOPIN_TEST(claim, reads_fail_with_eio_once_a_driver_claims_the_bar,
	   .guard = REVOKE_GUARD, .needs = CLAIM_NEEDS)
{
	uint16_t nq = 0;
	ssize_t ret;
	int err;

	TRACEE_START(&the_tracee, "rw-s");
	ret = read_num_queues(&self->c, variant->access, &nq, &err);
	ACCESS_DONE(ret, err);
	ASSERT_COUNT(ret, err, 8, "read before the claim");
	ASSERT_BYTES(&nq, &self->c.num_queues, 2, "num_queues before the claim");
	IOMEM_BIND_OK(&self->c.d, self->c.driver);
	ASSERT_CLAIMED(&self->c.d, self->c.bar, true);
	ret = read_num_queues(&self->c, variant->access, &nq, &err);
	ACCESS_DONE(ret, err);
	ASSERT_ERRNO(ret, err, EIO, "read after the claim");
	ASSERT_TRACEE_OK(&the_tracee, "tracee");
}

/*
 * Removal: the device's own files (sysfs, procfs) go away with it, and so
 * must what their mappings reach. (/dev/mem maps an address, not a device:
 * a range nobody claims stays mappable, so it is not crossed here.)
 */
FIXTURE(removal) {
	struct claimable c;
};

FIXTURE_VARIANT(removal) {
	struct iomem_route route;
	enum trace_route access;
};
IOPIN_ROUTE_AXES(removal);

#define PCI_MAP_X_ACCESS(aid, a, aname, fix) IOMEM_PCI_ROUTES(MAP_X_ACCESS, fix, aid, a)
TRACE_HOOK_ROUTES(PCI_MAP_X_ACCESS, removal)

FIXTURE_SETUP(removal)
{
	claimable_setup(_metadata, &self->c, &variant->route, &the_tracee);
}

FIXTURE_TEARDOWN(removal)
{
	tracee_kill(&the_tracee);
	iomem_unmap(&self->c.m);
	kstate_restore();
}

IOPIN_TEST(removal, reads_fail_with_eio_once_the_device_is_gone,
	   .guard = REMOVAL_GUARD, .needs = CLAIM_NEEDS)
{
	uint16_t nq = 0;
	char why[320];
	ssize_t ret;
	int err;

	TRACEE_START(&the_tracee, "rw-s");
	ret = read_num_queues(&self->c, variant->access, &nq, &err);
	ACCESS_DONE(ret, err);
	ASSERT_COUNT(ret, err, 8, "read before the removal");
	ASSERT_BYTES(&nq, &self->c.num_queues, 2, "num_queues before the removal");
	ASSERT_EQ(0, iomem_remove(&self->c.d, why, sizeof(why))) TH_LOG("%s", why);
	ret = read_num_queues(&self->c, variant->access, &nq, &err);
	ACCESS_DONE(ret, err);
	ASSERT_ERRNO(ret, err, EIO, "read after the device was removed");
	ASSERT_TRACEE_OK(&the_tracee, "tracee");
}
