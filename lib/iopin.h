/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Glue between iopin tests and the kernel's kselftest_harness.h.
 *
 * A test is declared with IOPIN_TEST(fixture, name, .guard = ..., ...):
 * what it guards (fix commit and version, or CVE) and what it needs are
 * data, shown by --iopin-list (run_tests.sh --list) and in the KTAP
 * diagnostics of every run. IOPIN_MAIN wraps every harness test so that
 * requirements are checked before it runs, and kernel health (new
 * WARN/BUG/Oops records, new taint bits) is checked after it: an unhealthy
 * kernel fails the test with the offending log lines.
 *
 * Include this header from exactly one translation unit per binary: the
 * harness defines non-static symbols.
 */
#ifndef IOPIN_H
#define IOPIN_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "iomem.h"
#include "kernel.h"
#include "mem.h"
#include "needs.h"
#include "pin.h"
#include "task.h"

/* What a test needs from the machine: NEEDS_* of lib/needs.h. */

struct iopin_test_info {
	const char *fixture;
	const char *test;
	const char *guard;	/* "<sha12> v<ver> <subject>" or "CVE-..." */
	unsigned int needs;
};

#define IOPIN_TEST(fix, name, ...)					\
	static const struct iopin_test_info				\
		_iopin_info_##fix##_##name = {				\
		.fixture = #fix, .test = #name, __VA_ARGS__ };		\
	static const struct iopin_test_info *				\
		_iopin_infop_##fix##_##name				\
		__attribute__((used, section("iopin_tests"))) =	\
		&_iopin_info_##fix##_##name;				\
	TEST_F(fix, name)

/* Weak: a binary without IOPIN_TEST()s has no such section. */
extern const struct iopin_test_info *__start_iopin_tests[] __attribute__((weak));
extern const struct iopin_test_info *__stop_iopin_tests[] __attribute__((weak));

/*
 * What each variant of a fixture adds to its tests: the needs (NEEDS_*)
 * and the guard of the registry rows it crosses, computed from the
 * variant (FIXTURE_VARIANT(fixture) *variant), e.g.
 *	IOPIN_AXES(ro_effects, mem_type_needs(&variant->mem) | pin_needs(variant->pin),
 *		   pin_guard(variant->pin))
 * The guard expression may be NULL (nothing to add). lib/iopin.h reads
 * them before each test runs: they are listed (--iopin-list), printed in
 * the run's "# needs:"/"# guards:" lines (JSON, JUnit) and root and the
 * iomem needs are checked up front like the test's own.
 */
struct iopin_axes {
	const char *fixture;
	unsigned int (*needs)(const void *variant);
	const char *(*guard)(const void *variant);
};

#define IOPIN_AXES(fix, needs_expr, guard_expr)				\
	static unsigned int _iopin_axes_needs_##fix(const void *_v)	\
	{								\
		const FIXTURE_VARIANT(fix) *variant = _v;		\
		return (needs_expr);					\
	}								\
	static const char *_iopin_axes_guard_##fix(const void *_v)	\
	{								\
		const FIXTURE_VARIANT(fix) *variant = _v;		\
		(void)variant;						\
		return (guard_expr);					\
	}								\
	static const struct iopin_axes _iopin_axes_##fix = {		\
		.fixture = #fix,					\
		.needs = _iopin_axes_needs_##fix,			\
		.guard = _iopin_axes_guard_##fix,			\
	};								\
	static const struct iopin_axes *_iopin_axesp_##fix		\
		__attribute__((used, section("iopin_axes"))) =		\
		&_iopin_axes_##fix

extern const struct iopin_axes *__start_iopin_axes[] __attribute__((weak));
extern const struct iopin_axes *__stop_iopin_axes[] __attribute__((weak));

/* The axes of the common variant shapes. */
#define IOPIN_MEM_AXES(fix)						\
	IOPIN_AXES(fix, mem_type_needs(&variant->mem), NULL)
#define IOPIN_ROUTE_AXES(fix)						\
	IOPIN_AXES(fix, variant->route.needs, NULL)
#define IOPIN_MEM_PIN_AXES(fix)						\
	IOPIN_AXES(fix, mem_type_needs(&variant->mem) | pin_needs(variant->pin), NULL)
/* ... of a test of the pin's R/O-ness: it guards the backend's .guard too. */
#define IOPIN_MEM_PIN_RO_AXES(fix)					\
	IOPIN_AXES(fix, mem_type_needs(&variant->mem) | pin_needs(variant->pin), \
		   pin_guard(variant->pin))

/* ---- axes --------------------------------------------------------------- */

/*
 * One FIXTURE_VARIANT_ADD per memory type of a lib table, for fixtures whose
 * variant struct has a "struct mem_type mem" member:
 *	MEM_ANON_TYPES(MEM_VARIANT, fixture)
 */
#define MEM_VARIANT(id, backing, kb, layout, fixture)			\
	FIXTURE_VARIANT_ADD(fixture, id) {				\
		.mem = MEM_TYPE_INIT(id, backing, kb, layout),		\
	};

/*
 * Memory subset x pin subset, for fixtures whose variant struct has
 * "struct mem_type mem" and "enum pin_id pin": variants "TYPE_BACKEND".
 *	PIN_RO_LONGTERM_BACKENDS(MEM_BY_PIN, MEM_PTE_PMD_TYPES, fixture)
 */
#define MEM_PIN_VARIANT(id, backing, kb, layout, pin_id, pin_name, fix) \
	FIXTURE_VARIANT_ADD(fix, id##_##pin_name) {			\
		.mem = MEM_TYPE_INIT(id, backing, kb, layout),		\
		.pin = pin_id,						\
	};
#define MEM_BY_PIN(pin_id, pin_name, TYPES, fix)			\
	TYPES(MEM_PIN_VARIANT, pin_id, pin_name, fix)

/*
 * A fixture's variants, one per mapping route of a subset of lib/iomem.h,
 * with what each route needs:
 *	IOMEM_ROUTE_VARIANTS(fixture, IOMEM_ROUTES)
 */
#define IOMEM_ROUTE_VARIANTS(fix, ROUTES)				\
	FIXTURE_VARIANT(fix) {						\
		struct iomem_route route;				\
	};								\
	IOPIN_ROUTE_AXES(fix);						\
	ROUTES(IOMEM_ROUTE_VARIANT, fix)

/*
 * A fixture crossed with a lib memory table: one variant per memory type,
 * the memory created in setup (self->m) and destroyed in teardown.
 *	MEM_FIXTURE(fork, MEM_ANON_TYPES)
 */
#define MEM_FIXTURE(fix, TABLE)						\
	FIXTURE(fix) {							\
		struct mem m;						\
	};								\
	FIXTURE_VARIANT(fix) {						\
		struct mem_type mem;					\
	};								\
	TABLE(MEM_VARIANT, fix)						\
	IOPIN_MEM_AXES(fix);						\
	FIXTURE_SETUP(fix)						\
	{								\
		MEM_CREATE(&self->m, &variant->mem);			\
	}								\
	FIXTURE_TEARDOWN(fix)						\
	{								\
		mem_destroy(&self->m);					\
	}

/* ---- short wrappers that keep test bodies a spec ------------------------- */

/*
 * Named as the harness names its checks: an ASSERT_* wrapper stops the test
 * when it fails (it is built on ASSERT_*); an EXPECT_* one records the
 * failure and lets the test go on.
 */

/* In FIXTURE_SETUP: create memory of the variant's type or SKIP/fail. */
#define MEM_CREATE(m, type) do {					\
	enum mem_result _r = mem_create(m, type);			\
	if (_r == MEM_SKIP)						\
		SKIP(return, "%s: %s", (type)->name, (m)->why);	\
	ASSERT_EQ(MEM_OK, _r) TH_LOG("%s: %s", (type)->name, (m)->why); \
} while (0)

/* Unmap the range tests use and check that nothing is mapped there now. */
#define MEM_UNMAP(m) do {						\
	void *_a = (m)->addr;						\
	size_t _l = (m)->size;						\
	ASSERT_EQ(0, mem_unmap(m)) TH_LOG("munmap: %s", strerror(errno)); \
	ASSERT_FALSE(range_is_mapped(_a, _l))				\
		TH_LOG("%p+%zu is still mapped after munmap", _a, _l);	\
} while (0)

/* SKIP unless the pin backend is usable here. */
#define PIN_NEEDED(id) do {						\
	char _why[256];							\
	if (!pin_available(id, _why, sizeof(_why)))			\
		SKIP(return, "%s", _why);				\
} while (0)

/* Pin or fail; a limit of the user or machine (RLIMIT_MEMLOCK) is a SKIP. */
#define PIN_OK(p, id, addr, len) do {					\
	int _r = pin_range(p, id, addr, len);				\
	if (_r && (p)->limited)						\
		SKIP(return, "%s", (p)->why);				\
	ASSERT_EQ(0, _r) TH_LOG("%s", (p)->why);			\
} while (0)

/* buf holds pattern seed (0: zeroes). */
#define ASSERT_PATTERN(buf, len, seed, what) do {			\
	char _why[192];							\
	ASSERT_TRUE(pattern_check(buf, len, seed, _why, sizeof(_why)))	\
		TH_LOG("%s: %s", what, _why);				\
} while (0)

/* What a private write must not change (file, zeropage) is unchanged. */
#define ASSERT_BACKING_UNCHANGED(m, what) do {				\
	uint8_t _seed;							\
	size_t _len;							\
	char *_view = mem_map_backing_view(m, &_len, &_seed);		\
	ASSERT_NE(NULL, _view) TH_LOG("%s: cannot map the backing", what); \
	ASSERT_PATTERN(_view, _len, _seed, what);			\
	munmap(_view, _len);						\
} while (0)

/* What the pin sees holds pattern seed. */
#define ASSERT_PIN_SEES(p, seed, what) do {				\
	char *_buf = malloc((p)->len);					\
	ASSERT_NE(NULL, _buf);						\
	ASSERT_EQ(0, pin_read(p, _buf)) TH_LOG("%s", (p)->why);	\
	ASSERT_PATTERN(_buf, (p)->len, seed, what);			\
	free(_buf);							\
} while (0)

/* The child's function returned CHILD_OK. */
#define ASSERT_CHILD_OK(c, what) do {					\
	int _rc = child_wait(c);					\
	ASSERT_EQ(CHILD_OK, _rc) TH_LOG("%s: child exit %d", what, _rc); \
} while (0)

/* ---- the wrapper around every harness test ------------------------------ */

/* Every registered test is wrapped: the table grows with them (no limit). */
static struct iopin_wrapped {
	struct __test_metadata *t;
	void (*fn)(struct __test_metadata *, struct __fixture_variant_metadata *);
} *iopin_wrapped;
static int iopin_nr_wrapped;

static const struct iopin_test_info *iopin_info_of(struct __test_metadata *t)
{
	const struct iopin_test_info **i;

	for (i = (const struct iopin_test_info **)__start_iopin_tests;
	     i < (const struct iopin_test_info **)__stop_iopin_tests; i++)
		if (!strcmp((*i)->fixture, t->fixture->name) &&
		    !strcmp((*i)->test, t->name))
			return *i;
	return NULL;
}

static const struct iopin_axes *iopin_axes_of(struct __fixture_metadata *f)
{
	const struct iopin_axes **a;

	for (a = (const struct iopin_axes **)__start_iopin_axes;
	     a < (const struct iopin_axes **)__stop_iopin_axes; a++)
		if (!strcmp((*a)->fixture, f->name))
			return *a;
	return NULL;
}

/* What one instance (test x variant) needs and guards. */
struct iopin_instance {
	unsigned int needs;
	char guard[1024];
};

static void iopin_instance_of(struct __test_metadata *t,
			      struct __fixture_variant_metadata *v,
			      struct iopin_instance *in)
{
	const struct iopin_test_info *info = iopin_info_of(t);
	const struct iopin_axes *axes = iopin_axes_of(t->fixture);
	const char *add = NULL;

	in->needs = info ? info->needs : 0;
	if (axes && v && v->data) {
		in->needs |= axes->needs(v->data);
		add = axes->guard(v->data);
	}
	snprintf(in->guard, sizeof(in->guard), "%s%s%s",
		 info ? info->guard : "(no guard declared)",
		 add ? "; " : "", add ?: "");
}

static bool iopin_unmet(unsigned int needs, char *why, size_t len)
{
	if ((needs & NEEDS_ROOT) && geteuid()) {
		snprintf(why, len, "needs root");
		return true;
	}
	return iomem_unmet(needs, why, len);
}

/* "root,devmem,...": the names of a test's needs, for reports. */
static const char *iopin_needs_names(unsigned int needs, char *buf, size_t len)
{
	static const struct { unsigned int bit; const char *name; } names[] = {
#define IOPIN_NEED_NAME(bit, name) { bit, name },
		IOPIN_NEEDS(IOPIN_NEED_NAME)
#undef IOPIN_NEED_NAME
	};
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]) && used < len; i++)
		if (needs & names[i].bit) {
			used += snprintf(buf + used, len - used, "%s%s",
					 used ? "," : "", names[i].name);
			needs &= ~names[i].bit;
		}
	if (needs && used < len)
		snprintf(buf + used, len - used, "%s0x%x", used ? "," : "", needs);
	return buf;
}

/* Wait until no keeper of an earlier test still restores global state. */
static void iopin_wait_state_restored(void)
{
	/* Not a link, not a FIFO someone planted there to make us block. */
	int fd = open(kstate_lock_path(),
		      O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;

	if (fd < 0)
		return;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return;
	}
	while (flock(fd, LOCK_SH) && errno == EINTR)
		;
	close(fd);
}

static void iopin_run(struct __test_metadata *t,
		      struct __fixture_variant_metadata *v)
{
	const struct iopin_test_info *info = iopin_info_of(t);
	struct iopin_instance in;
	struct timespec start, end;
	char report[2048];
	struct health h;
	int i;

	iopin_wait_state_restored();
	/* What it guards and needs, also when it cannot run here. */
	iopin_instance_of(t, v, &in);
	if (info) {
		ksft_print_msg("guards: %s\n", in.guard);
		if (in.needs)
			ksft_print_msg("needs: %s\n",
				       iopin_needs_names(in.needs, report, sizeof(report)));
	}
	if (info && iopin_unmet(in.needs, t->results->reason,
				sizeof(t->results->reason))) {
		t->exit_code = KSFT_SKIP;
		return;
	}
	health_begin(&h);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (i = 0; i < iopin_nr_wrapped; i++)
		if (iopin_wrapped[i].t == t)
			iopin_wrapped[i].fn(t, v);
	clock_gettime(CLOCK_MONOTONIC, &end);
	ksft_print_msg("time: %lld ms\n",
		       (long long)(end.tv_sec - start.tv_sec) * 1000 +
		       (end.tv_nsec - start.tv_nsec) / 1000000);
	if (health_end(&h, report, sizeof(report))) {
		ksft_print_msg("kernel unhealthy after %s:\n%s", t->name, report);
		t->exit_code = KSFT_FAIL;
	}
}

/*
 * --iopin-list: "NAME<TAB>GUARD" per instance; --iopin-list=needs adds
 * "<TAB>NEEDS" (comma separated names, empty if none).
 */
static void iopin_list(bool needs)
{
	struct __fixture_variant_metadata no_variant = { .name = "" };
	struct __fixture_variant_metadata *v;
	struct __fixture_metadata *f;
	struct __test_metadata *t;
	struct iopin_instance in;
	char names[512];

	for (f = __fixture_list; f; f = f->next)
		for (v = f->variant ?: &no_variant; v; v = v->next)
			for (t = f->tests; t; t = t->next) {
				iopin_instance_of(t, v, &in);
				printf("%s%s%s.%s\t%s", f->name,
				       v->name[0] ? "." : "", v->name, t->name,
				       in.guard);
				if (needs)
					printf("\t%s", iopin_needs_names(in.needs, names,
									 sizeof(names)));
				printf("\n");
			}
}

static int iopin_main(int argc, char **argv)
{
	struct __fixture_metadata *f;
	struct __test_metadata *t;

	if (argc == 2 && !strcmp(argv[1], "--iopin-list")) {
		iopin_list(false);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "--iopin-list=needs")) {
		iopin_list(true);
		return 0;
	}
	for (f = __fixture_list; f; f = f->next)
		for (t = f->tests; t; t = t->next) {
			struct iopin_wrapped *w = realloc(iopin_wrapped,
					(iopin_nr_wrapped + 1) * sizeof(*w));

			if (!w) {
				fprintf(stderr, "iopin: out of memory wrapping %s.%s\n",
					f->name, t->name);
				return KSFT_FAIL;
			}
			iopin_wrapped = w;
			iopin_wrapped[iopin_nr_wrapped].t = t;
			iopin_wrapped[iopin_nr_wrapped++].fn = t->fn;
			t->fn = iopin_run;
		}
	return test_harness_run(argc, argv);
}

#define IOPIN_MAIN							\
	int main(int argc, char **argv)					\
	{								\
		return iopin_main(argc, argv);				\
	}

#endif
