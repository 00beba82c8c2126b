/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ptrace_access/iomem, page boundaries: across pages, past the end of a mapping or the BAR,
 * across adjacent mappings.
 * Tests, not declarations: included once, by ptrace_access/iomem.c, in
 * their place in that file (the harness registers fixtures and tests in
 * definition order), because the harness's lists are static to one
 * translation unit.
 */

/* ---- page boundaries ---------------------------------------------------- */

IOPIN_TEST(bar, read_across_a_page_boundary_gets_both_pages,
	   .guard = BOUNDARY_GUARD, .needs = NEEDS_BAR)
{
	size_t off = page_size() - 4;
	ssize_t ret;
	int err;

	bar_tracee(self, PROT_READ | PROT_WRITE);
	TRACEE_START(&the_tracee, "rw-s");
	ret = tracee_access(&the_tracee, variant->access, false, (char *)self->m.addr + off,
			 self->buf, 8, &err);
	ACCESS_DONE(ret, err);
	ASSERT_COUNT(ret, err, 8, "read across the page boundary");
	ASSERT_BYTES(self->buf, self->want + off, 8, "what the read returned");
	ASSERT_TRACEE_OK(&the_tracee, "tracee");
}

IOPIN_TEST(bar, write_across_a_page_boundary_changes_exactly_those_bytes,
	   .guard = BOUNDARY_GUARD, .needs = NEEDS_BAR)
{
	size_t off = page_size() - 4;
	ssize_t ret;
	int err;

	*(uint32_t *)(self->want + off) = ~iomem_pattern_word(off);
	*(uint32_t *)(self->want + off + 4) = ~iomem_pattern_word(off + 4);
	bar_tracee(self, PROT_READ | PROT_WRITE);
	TRACEE_START(&the_tracee, "rw-s");
	ret = tracee_access(&the_tracee, variant->access, true, (char *)self->m.addr + off,
			 self->want + off, 8, &err);
	ACCESS_DONE(ret, err);
	ASSERT_COUNT(ret, err, 8, "write across the page boundary");
	ASSERT_TRACEE_OK(&the_tracee, "tracee after the write");
	ASSERT_DEVICE_HOLDS_WANT(self, "device memory after the write");
}

/*
 * Make [at, at + page) the only page mapped there: the one-page BAR
 * mapping far moved to at, nothing mapped in the page after it.
 */
static int place_alone(struct iomem_map *far, char *at)
{
	size_t ps = page_size();
	void *p;

	p = mremap((void *)far->addr, ps, ps, MREMAP_MAYMOVE | MREMAP_FIXED, at);
	if (p != at)
		return -1;
	far->addr = p;
	return 0;
}

/*
 * An access of 8 bytes at the last 4 of a lone one-page mapping of BAR
 * offset bar_off stops at the end of the mapping. What a kernel with the
 * fix does, per accessor: /proc/PID/mem and /proc/self/mem move the 4
 * mapped bytes and return 4 (the next page has no mapping: the short
 * count); PEEK/POKEDATA move a whole word or fail: EIO, after POKEDATA
 * wrote the 4 mapped bytes (access_process_vm() copied 4 of 8). Without
 * the fix generic_access_phys() is handed all 8 bytes and serves the last
 * 4 from the physically next page: 8. A write's in-range bytes go into
 * self->want, so that the caller can check that they, and nothing else,
 * changed.
 */
static void past_the_end(struct __test_metadata *_metadata, FIXTURE_DATA(bar) *self,
			 const FIXTURE_VARIANT(bar) *variant, uint64_t bar_off, bool write)
{
	size_t ps = page_size();
	char *hole, *at, got[8], want[8];
	bool words = variant->access == ROUTE_PTRACE_WORDS;
	char perms[5];
	ssize_t ret;
	int err;

	IOMEM_MAP_OK(&self->far[0], &variant->route, &self->d, self->bar, bar_off, ps);
	hole = mmap(NULL, 2 * ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, hole);
	ASSERT_EQ(0, munmap(hole + ps, ps));
	at = hole;
	ASSERT_EQ(0, place_alone(&self->far[0], at)) TH_LOG("mremap: %s", strerror(errno));
	ASSERT_FALSE(maps_perms(getpid(), at + ps, perms))
		TH_LOG("something is mapped after the BAR page (%s)", perms);
	the_tracee = (struct tracee){ .addr = at, .len = ps, .prot = PROT_READ | PROT_WRITE };
	TRACEE_START(&the_tracee, "rw-s");
	ASSERT_FALSE(maps_perms(the_tracee.c.pid, at + ps, perms))
		TH_LOG("the tracee has something mapped after the BAR page (%s)", perms);
	bar_pattern(want, bar_off + ps - 4, 8);
	if (write) {
		*(uint32_t *)got = ~iomem_pattern_word(bar_off + ps - 4);
		*(uint32_t *)(got + 4) = ~iomem_pattern_word(bar_off + ps);
	}
	ret = tracee_access(&the_tracee, variant->access, write, at + ps - 4, got, 8, &err);
	ACCESS_DONE(ret, err);
	if (words) {
		ASSERT_ERRNO(ret, err, EIO, "a word running past the end of the mapping");
	} else {
		ASSERT_COUNT(ret, err, 4, "access running past the end of the mapping (bytes)");
		if (!write)
			ASSERT_BYTES(got, want, 4, "the in-range bytes read");
	}
	if (write)
		*(uint32_t *)(self->want + bar_off + ps - 4) = ~iomem_pattern_word(bar_off + ps - 4);
	ASSERT_TRACEE_OK(&the_tracee, "tracee");
}

IOPIN_TEST(bar, read_running_past_the_end_of_a_mapping_returns_no_byte_beyond,
	   .guard = BOUNDARY_GUARD, .needs = NEEDS_BAR)
{
	past_the_end(_metadata, self, variant, 3 * page_size(), false);
}

IOPIN_TEST(bar, read_running_past_the_last_page_of_the_bar_returns_no_byte_beyond,
	   .guard = BOUNDARY_GUARD, .needs = NEEDS_BAR)
{
	past_the_end(_metadata, self, variant, self->bar_size - page_size(), false);
}

IOPIN_TEST(bar, write_running_past_the_end_of_a_mapping_lands_nowhere_beyond,
	   .guard = BOUNDARY_GUARD, .needs = NEEDS_BAR)
{
	/*
	 * Not at the end of the BAR: what follows it is not ours to check.
	 * The 4 mapped bytes take the write, the page after them keeps the
	 * pattern.
	 */
	past_the_end(_metadata, self, variant, 3 * page_size(), true);
	ASSERT_DEVICE_HOLDS_WANT(self, "device memory after the write");
}

/* BAR pages FAR_A and FAR_B mapped one page each, next to each other. */
static char *adjacent(struct __test_metadata *_metadata, FIXTURE_DATA(bar) *self,
		      const FIXTURE_VARIANT(bar) *variant)
{
	size_t ps = page_size();
	char *at;

	at = mmap(NULL, 2 * ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (at == MAP_FAILED)
		return NULL;
	IOMEM_MAP_OK(&self->far[0], &variant->route, &self->d, self->bar, FAR_A * ps, ps);
	IOMEM_MAP_OK(&self->far[1], &variant->route, &self->d, self->bar, FAR_B * ps, ps);
	if (place_alone(&self->far[0], at) || place_alone(&self->far[1], at + ps))
		return NULL;
	return at;
}

IOPIN_TEST(bar, read_across_adjacent_mappings_reaches_the_second_mapping,
	   .guard = BOUNDARY_GUARD, .needs = NEEDS_BAR)
{
	size_t ps = page_size();
	char *at = adjacent(_metadata, self, variant), want[8];
	ssize_t ret;
	int err;

	ASSERT_NE(NULL, at) TH_LOG("placing two BAR pages side by side: %s", strerror(errno));
	the_tracee = (struct tracee){ .addr = at, .len = 2 * ps, .prot = PROT_READ | PROT_WRITE };
	TRACEE_START(&the_tracee, "rw-s");
	ret = tracee_access(&the_tracee, variant->access, false, at + ps - 4, self->buf, 8, &err);
	ACCESS_DONE(ret, err);
	bar_pattern(want, (FAR_A + 1) * ps - 4, 4);
	bar_pattern(want + 4, FAR_B * ps, 4);
	ASSERT_COUNT(ret, err, 8, "read across two adjacent BAR mappings");
	ASSERT_BYTES(self->buf, want, 8, "bytes of BAR pages 5 (end) and 9 (start)");
	ASSERT_TRACEE_OK(&the_tracee, "tracee");
}

IOPIN_TEST(bar, write_across_adjacent_mappings_lands_only_in_the_two_pages,
	   .guard = BOUNDARY_GUARD, .needs = NEEDS_BAR)
{
	size_t ps = page_size(), a = (FAR_A + 1) * ps - 4, b = FAR_B * ps;
	char *at = adjacent(_metadata, self, variant);
	ssize_t ret;
	int err;

	ASSERT_NE(NULL, at) TH_LOG("placing two BAR pages side by side: %s", strerror(errno));
	*(uint32_t *)(self->want + a) = ~iomem_pattern_word(a);
	*(uint32_t *)(self->want + b) = ~iomem_pattern_word(b);
	memcpy(self->buf, self->want + a, 4);
	memcpy(self->buf + 4, self->want + b, 4);
	the_tracee = (struct tracee){ .addr = at, .len = 2 * ps, .prot = PROT_READ | PROT_WRITE };
	TRACEE_START(&the_tracee, "rw-s");
	ret = tracee_access(&the_tracee, variant->access, true, at + ps - 4, self->buf, 8, &err);
	ACCESS_DONE(ret, err);
	ASSERT_COUNT(ret, err, 8, "write across two adjacent BAR mappings");
	/* Every word of the first VIEW_PAGES: only those two changed. */
	ASSERT_DEVICE_HOLDS_WANT(self, "device memory after the write");
	ASSERT_TRACEE_OK(&the_tracee, "tracee");
}

