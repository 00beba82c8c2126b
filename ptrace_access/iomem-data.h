/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ptrace_access/iomem, data: gdb examines a BAR; plain reads and writes.
 * Tests, not declarations: included once, by ptrace_access/iomem.c, in
 * their place in that file (the harness registers fixtures and tests in
 * definition order), because the harness's lists are static to one
 * translation unit.
 */

/* ---- gdb ---------------------------------------------------------------- */

/* The test users actually run: gdb attached to a process that maps a BAR. */
FIXTURE(gdb_bar) {
	struct iomem_dev d;
	int bar;
	struct iomem_map m;
	char *want;		/* the page's pattern: what the tracee checks */
};

IOMEM_ROUTE_VARIANTS(gdb_bar, IOMEM_ROUTES)


FIXTURE_SETUP(gdb_bar)
{
	IOMEM_PICK(IOMEM_ROLE_PATTERN, &self->d, &self->bar);
	IOMEM_ROUTE_NEEDED(&variant->route, &self->d, self->bar);
	ASSERT_CLAIMED(&self->d, self->bar, false);
	self->want = malloc(page_size());
	ASSERT_NE(NULL, self->want);
	bar_pattern(self->want, 0, page_size());
	IOMEM_MAP_OK(&self->m, &variant->route, &self->d, self->bar, 0, page_size());
}

FIXTURE_TEARDOWN(gdb_bar)
{
	iomem_unmap(&self->m);
	free(self->want);
}

IOPIN_TEST(gdb_bar, gdb_examines_the_words_of_the_bar_a_tracee_maps,
	   .guard = ACCESS_GUARD, .needs = NEEDS_BAR | NEEDS_GDB)
{
	uint64_t words[8];
	int n;

	the_tracee = (struct tracee){ .addr = (char *)self->m.addr, .len = self->m.len,
				   .prot = PROT_READ | PROT_WRITE, .want = self->want };
	TRACEE_START(&the_tracee, "rw-s");
	n = gdb_examine(the_tracee.c.pid, (const void *)self->m.addr, words, 8);
	if (n == -2) {
		tracee_kill(&the_tracee);
		SKIP(return, "no gdb in $PATH (Debian: apt-get install gdb; the VM carries gdb-minimal)");
	}
	ASSERT_EQ(8, n) TH_LOG("gdb -batch -p %d -ex 'x/8gx %p' printed %d words",
			       the_tracee.c.pid, (void *)self->m.addr, n);
	ASSERT_BYTES(words, self->want, sizeof(words), "what gdb shows of the BAR");
	ASSERT_TRACEE_OK(&the_tracee, "tracee after gdb detached");
}

/* ---- plain reads and writes --------------------------------------------- */

IOPIN_TEST(bar, read_returns_what_the_device_holds,
	   .guard = ACCESS_GUARD, .needs = NEEDS_BAR)
{
	size_t ps = page_size();
	ssize_t ret;
	int err;

	bar_tracee(self, PROT_READ | PROT_WRITE);
	TRACEE_START(&the_tracee, "rw-s");
	ret = tracee_access(&the_tracee, variant->access, false, self->m.addr, self->buf, ps, &err);
	ACCESS_DONE(ret, err);
	ASSERT_COUNT(ret, err, ps, "read of a BAR page");
	ASSERT_BYTES(self->buf, self->want, ps, "what the read returned");
	ASSERT_TRACEE_OK(&the_tracee, "tracee");
}

IOPIN_TEST(bar, write_reaches_the_device_and_the_tracee,
	   .guard = ACCESS_GUARD, .needs = NEEDS_BAR)
{
	size_t off = 0x200, len = 64, i;
	ssize_t ret;
	int err;

	for (i = off; i < off + len; i += 4)
		*(uint32_t *)(self->want + i) = ~iomem_pattern_word(i);
	bar_tracee(self, PROT_READ | PROT_WRITE);
	TRACEE_START(&the_tracee, "rw-s");
	ret = tracee_access(&the_tracee, variant->access, true, (char *)self->m.addr + off,
			 self->want + off, len, &err);
	ACCESS_DONE(ret, err);
	ASSERT_COUNT(ret, err, len, "write into a PROT_WRITE BAR mapping");
	ASSERT_TRACEE_OK(&the_tracee, "tracee after the write");
	ASSERT_DEVICE_HOLDS_WANT(self, "device memory after the write");
}

IOPIN_TEST(bar, write_to_a_readonly_mapping_fails_with_eio,
	   .guard = ACCESS_GUARD, .needs = NEEDS_BAR)
{
	size_t off = 0x300, len = 64;
	ssize_t ret;
	int err;

	/* Ours too: /proc/self/mem goes through our (then inherited) mapping. */
	ASSERT_EQ(0, mprotect((void *)self->m.addr, self->m.len, PROT_READ))
		TH_LOG("mprotect(PROT_READ) of the BAR mapping: %s", strerror(errno));
	bar_tracee(self, PROT_READ);
	bar_pattern(self->buf, ~0ULL - off, len);	/* anything but the pattern */
	TRACEE_START(&the_tracee, "r--s");
	ret = tracee_access(&the_tracee, variant->access, true, (char *)self->m.addr + off,
			 self->buf, len, &err);
	ACCESS_DONE(ret, err);
	ASSERT_ERRNO(ret, err, EIO, "write into a PROT_READ BAR mapping");
	ASSERT_TRACEE_OK(&the_tracee, "tracee after the refused write");
	ASSERT_DEVICE_HOLDS_WANT(self, "device memory after the refused write");
}

