// SPDX-License-Identifier: GPL-2.0-only
/*
 * Which long-term pins a kernel takes and which it refuses: every backing
 * kind (shmem, hugetlb, a file with writeback, secretmem), mapped shared or
 * private, writable or read-only, through every long-term pin backend. The
 * expected answer is the kernel's rule from one lib table
 * (longterm_rule() below, with the commit that made it); the errno each
 * kernel and interface gives is printed with it. An allowed pin must see
 * the object's data, and later writes through a writable mapping; where the
 * device can write (io_uring, VFIO R/W), the process must see what it
 * wrote. A refused pin must leave the mapping's data alone.
 *
 * And a V4L2 capture queue (v4l2_capture, through vivid: lib/v4l2.h),
 * which no pin backend is (vivid cannot read what it captures into): its
 * USERPTR buffer is pinned for write (FOLL_WRITE; before cb78a634f3f7 v6.2
 * FOLL_FORCE too), where an output queue's is pinned R/O (v4l2_ro, since
 * e2fc6edd37ba v6.2): a PROT_READ MAP_SHARED file is refused on the
 * capture queue and pinned on the output queue (6.1 refuses both). A
 * capture pin that is taken must show the process what vivid captures.
 */
#include "iopin.h"
#include "v4l2.h"

#include <sys/mman.h>

/* ---- the long-term pin rules, one table for every kernel ---------------- */

#define KINDS_ALL	(~0U)
#define KIND(b)		(1U << (b))

enum { ANY, ONLY_SHARED, ONLY_PRIVATE };
enum { ANY_PROT, ONLY_RO, ONLY_RW };

/*
 * First match wins. A backend matches when it has every property in
 * props_set and none in props_clear (and is .only, if that is set).
 * .only is enum pin_id + 1, or ONLY_V4L2_CAPTURE: the V4L2 capture queue
 * below, which is no backend.
 */
#define ONLY_V4L2_CAPTURE	(PIN_NR + 1)

struct longterm_rule {
	unsigned int kinds;		/* KIND(backing)s */
	unsigned int mem_flags;		/* MEM_F_* the backing must have */
	int mapping, prot;
	unsigned int props_set, props_clear;
	int only;		/* enum pin_id + 1; 0: any backend */
	int kver_min, kver_below;	/* [min, below); 0: unbounded */
	int err;
	const char *tag;
};

static const struct longterm_rule longterm_rules[] = {
	{ KIND(MEM_SECRETMEM), 0, ANY, ANY_PROT, 0, 0, 0, 0, 0, -EFAULT,
	  "1507f51255c9 v5.14 mm: introduce memfd_secret system call to create \"secret\" memory areas (GUP refuses secretmem)" },
	{ KINDS_ALL, 0, ANY, ANY_PROT, 0, PIN_WRITE, PIN_V4L2_RO + 1, 0, 0, 0,
	  "e2fc6edd37ba v6.2 media: videobuf2: revert \"get_userptr: buffers are always writable\" (an output queue's USERPTR buffer is pinned R/O, and since cb78a634f3f7 v6.2 not forced: any mapping)" },
	{ KINDS_ALL, 0, ANY, ONLY_RO, PIN_WRITE, 0, ONLY_V4L2_CAPTURE, 0, 0, -EFAULT,
	  "cb78a634f3f7 v6.2 mm/frame-vector: remove FOLL_FORCE usage (a capture queue's USERPTR buffer is pinned FOLL_WRITE, no longer forced: a read-only mapping is refused)" },
	{ KINDS_ALL, 0, ANY, ONLY_RO, PIN_WRITE, 0, 0, 0, 0, -EFAULT,
	  "FOLL_WRITE without FOLL_FORCE needs a writable mapping (every kernel)" },
	{ KINDS_ALL, MEM_F_WRITEBACK, ANY, ANY_PROT, 0, 0, PIN_IO_URING + 1, 0, KVER(6, 5, 0), -EOPNOTSUPP,
	  "34ed8d0dcd69 v6.5 io_uring: rsrc: delegate VMA file-backed check to GUP (before it io_uring refused every non-shmem/hugetlb file)" },
	{ KINDS_ALL, MEM_F_WRITEBACK, ONLY_SHARED, ONLY_RW, PIN_WRITE, PIN_FAST, 0, 0, 0, -EFAULT,
	  "8ac268436e6d v6.5 mm/gup: disallow FOLL_LONGTERM GUP-nonfast writing to file-backed mappings" },
	{ KINDS_ALL, MEM_F_WRITEBACK, ONLY_SHARED, ONLY_RW, PIN_WRITE | PIN_FAST, 0, 0, 0, 0, -EFAULT,
	  "a6e79df92e4a v6.5 mm/gup: disallow FOLL_LONGTERM GUP-fast writing to file-backed mappings" },
	{ KINDS_ALL, 0, ANY, ANY_PROT, 0, 0, 0, 0, 0, 0,
	  "allowed: shmem, hugetlb, MAP_PRIVATE and R/O long-term pins (8ac268436e6d v6.5)" },
};

/*
 * May a pin of props (PIN_*) by who (enum pin_id + 1, or ONLY_V4L2_CAPTURE)
 * take a mapping of backing that is shared or private, writable or
 * read-only, on the running kernel? 0 (allowed) or the -errno the kernel's
 * rule refuses it with; *tag names the rule (its commit).
 */
static int longterm_rule(unsigned int props, int who, enum mem_backing backing, bool shared,
			 bool writable, const char **tag)
{
	unsigned int mem_flags = mem_backing_info(backing)->flags;
	int kver = kernel_version();
	size_t i;

	for (i = 0; i < sizeof(longterm_rules) / sizeof(longterm_rules[0]); i++) {
		const struct longterm_rule *r = &longterm_rules[i];

		if (!(r->kinds & KIND(backing)) ||
		    (mem_flags & r->mem_flags) != r->mem_flags ||
		    (r->mapping == ONLY_SHARED && !shared) ||
		    (r->mapping == ONLY_PRIVATE && shared) ||
		    (r->prot == ONLY_RO && writable) ||
		    (r->prot == ONLY_RW && !writable) ||
		    (props & r->props_set) != r->props_set ||
		    (props & r->props_clear) ||
		    (r->only && r->only != who) ||
		    (r->kver_min && kver < r->kver_min) ||
		    (r->kver_below && kver >= r->kver_below))
			continue;
		*tag = r->tag;
		return r->err;
	}
	*tag = "no rule";
	return 0;
}

/* ---- the test ------------------------------------------------------------ */

/* The device writes pattern seed through the pin; the process sees it at addr. */
#define ASSERT_DEVICE_WRITE_SEEN(p, addr, seed) do {			\
	char *_buf = malloc((p)->len);					\
	ASSERT_NE(NULL, _buf);						\
	pattern_fill(_buf, (p)->len, seed);				\
	ASSERT_EQ(0, pin_write(p, _buf)) TH_LOG("%s", (p)->why);	\
	free(_buf);							\
	ASSERT_PATTERN(addr, (p)->len, seed, "mapping after the device wrote through the pin"); \
} while (0)

FIXTURE(longterm) {
	struct mem m;
};

FIXTURE_VARIANT(longterm) {
	struct mem_type mem;
	bool shared;
	bool writable;
	enum pin_id pin;
};

#define LT_VARIANT(id, backing, kb, layout, sh, sh_name, wr, wr_name, pin_id, pin_name) \
	FIXTURE_VARIANT_ADD(longterm, id##_##sh_name##_##wr_name##_##pin_name) {	\
		.mem = MEM_TYPE_INIT(id, backing, kb, layout),			\
		.shared = sh, .writable = wr, .pin = pin_id,			\
	};
#define LT_BY_PIN(pin_id, pin_name, _)						\
	MEM_LONGTERM_KINDS(LT_VARIANT, true, shared, true, writable, pin_id, pin_name) \
	MEM_LONGTERM_KINDS(LT_VARIANT, true, shared, false, readonly, pin_id, pin_name) \
	MEM_LONGTERM_PRIVATE_KINDS(LT_VARIANT, false, private, true, writable, pin_id, pin_name) \
	MEM_LONGTERM_PRIVATE_KINDS(LT_VARIANT, false, private, false, readonly, pin_id, pin_name)

PIN_LONGTERM_ALL_BACKENDS(LT_BY_PIN, _)
IOPIN_MEM_PIN_RO_AXES(longterm);

FIXTURE_SETUP(longterm)
{
	struct mem *m = &self->m;
	enum mem_result r;

	PIN_NEEDED(variant->pin);
	r = mem_open_backing(m, &variant->mem);
	if (r == MEM_SKIP)
		SKIP(return, "%s: %s", variant->mem.name, m->why);
	ASSERT_EQ(MEM_OK, r) TH_LOG("%s: %s", variant->mem.name, m->why);
	m->addr = mmap(NULL, m->size,
		       PROT_READ | (variant->writable ? PROT_WRITE : 0),
		       variant->shared ? MAP_SHARED : MAP_PRIVATE, m->fd, 0);
	ASSERT_NE(MAP_FAILED, m->addr) TH_LOG("mmap: %s", strerror(errno));
	m->map = m->addr;
	m->map_size = m->size;
}

FIXTURE_TEARDOWN(longterm)
{
	mem_destroy(&self->m);
}

IOPIN_TEST(longterm, pin_is_taken_or_refused_as_the_kernel_rule_says,
	   .guard = "8ac268436e6d v6.5 mm/gup: disallow FOLL_LONGTERM GUP-nonfast writing to file-backed mappings")
{
	struct mem *m = &self->m;
	const char *rule;
	int want = longterm_rule(pin_backend_get(variant->pin)->props, variant->pin + 1,
				 variant->mem.backing, variant->shared, variant->writable, &rule);
	struct pin p;
	int got = pin_range(&p, variant->pin, m->addr, m->size);

	if (got && p.limited)
		SKIP(return, "%s", p.why);
	ksft_print_msg("%s %s %s via %s: %s (rule: %s: %s)\n", variant->mem.name,
		       variant->shared ? "MAP_SHARED" : "MAP_PRIVATE",
		       variant->writable ? "R/W" : "R/O",
		       pin_backend_get(variant->pin)->name,
		       got ? strerrorname_np(-got) : "pinned",
		       want ? strerrorname_np(-want) : "pinned", rule);
	ASSERT_EQ(want, got) TH_LOG("%s", got ? p.why : "the pin was taken");
	if (got) {
		ASSERT_PATTERN(m->addr, m->size, 1, "mapping after the refused pin");
		return;
	}
	ASSERT_PIN_SEES(&p, 1, "pin of the object's data");
	if (variant->writable) {
		pattern_fill(m->addr, m->size, 2);
		ASSERT_PIN_SEES(&p, 2, "pin after the process wrote");
	}
	if (pin_can_write(&p))
		ASSERT_DEVICE_WRITE_SEEN(&p, m->addr, 3);
	pin_release(&p);
}

/* ---- a V4L2 capture queue ----------------------------------------------- */

/* The frame vector pins with pin_user_pages_fast(); a capture queue for write. */
#define CAPTURE_PROPS	(PIN_LONGTERM | PIN_WRITE | PIN_FAST)
/* The 4096-byte window vivid's loop copies: 64x32 YUYV, output to capture. */
#define CAP_W		64
#define CAP_H		32
#define CAP_FRAMES	600	/* frames to look at for one of the loop */

FIXTURE(v4l2_capture) {
	struct mem m;
	struct vivid v;
	void *out;
};

FIXTURE_VARIANT(v4l2_capture) {
	struct mem_type mem;
	bool shared;
	bool writable;
};

#define CAP_VARIANT(id, backing, kb, layout, sh, sh_name, wr, wr_name)	\
	FIXTURE_VARIANT_ADD(v4l2_capture, id##_##sh_name##_##wr_name) {	\
		.mem = MEM_TYPE_INIT(id, backing, kb, layout),		\
		.shared = sh, .writable = wr,				\
	};
MEM_LONGTERM_KINDS(CAP_VARIANT, true, shared, true, writable)
MEM_LONGTERM_KINDS(CAP_VARIANT, true, shared, false, readonly)
MEM_LONGTERM_PRIVATE_KINDS(CAP_VARIANT, false, private, true, writable)
MEM_LONGTERM_PRIVATE_KINDS(CAP_VARIANT, false, private, false, readonly)
IOPIN_MEM_AXES(v4l2_capture);

FIXTURE_SETUP(v4l2_capture)
{
	struct mem *m = &self->m;
	enum mem_result r;
	char why[320];
	int rc;

	self->v.out_fd = self->v.cap_fd = -1;
	self->out = MAP_FAILED;
	/* First: the keeper that loading vivid starts must not share the memory. */
	rc = vivid_load(why, sizeof(why));
	if (rc > 0)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, rc) TH_LOG("vivid: %s", why);
	r = mem_open_backing(m, &variant->mem);
	if (r == MEM_SKIP)
		SKIP(return, "%s: %s", variant->mem.name, m->why);
	ASSERT_EQ(MEM_OK, r) TH_LOG("%s: %s", variant->mem.name, m->why);
	m->addr = mmap(NULL, m->size,
		       PROT_READ | (variant->writable ? PROT_WRITE : 0),
		       variant->shared ? MAP_SHARED : MAP_PRIVATE, m->fd, 0);
	ASSERT_NE(MAP_FAILED, m->addr) TH_LOG("mmap: %s", strerror(errno));
	m->map = m->addr;
	m->map_size = m->size;

	ASSERT_EQ(0, vivid_open(&self->v, why, sizeof(why))) TH_LOG("vivid: %s", why);
	ASSERT_EQ(0, vivid_out_window(&self->v, CAP_W, CAP_H, why, sizeof(why)))
		TH_LOG("%s", why);
	/* Two output buffers, like the v4l2_ro backend (lib/v4l2-pin.c): one frame. */
	ASSERT_EQ(0, vivid_out_reqbufs(&self->v, 2, why, sizeof(why))) TH_LOG("%s", why);
	ASSERT_EQ(0, vivid_loop_setup_userptr(&self->v, CAP_W, CAP_H, why, sizeof(why)))
		TH_LOG("%s", why);
	/* What the device writes: an output frame of pattern 3. */
	self->out = mmap(NULL, self->v.sizeimage, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->out);
	pattern_fill(self->out, self->v.sizeimage, 3);
}

FIXTURE_TEARDOWN(v4l2_capture)
{
	vivid_close(&self->v);
	if (self->out != MAP_FAILED)
		munmap(self->out, self->v.sizeimage);
	mem_destroy(&self->m);
}

/* A frame of the loop, not of the pattern generator (one colour). */
static int loop_frame(const void *buf, size_t len, void *arg)
{
	unsigned int *pattern = arg;

	if (vivid_frame_is_pattern(buf, len)) {
		(*pattern)++;
		return 0;
	}
	return 1;
}

IOPIN_TEST(v4l2_capture, pin_is_taken_or_refused_as_the_kernel_rule_says,
	   .guard = "cb78a634f3f7 v6.2 mm/frame-vector: remove FOLL_FORCE usage; 8ac268436e6d v6.5 mm/gup: disallow FOLL_LONGTERM GUP-nonfast writing to file-backed mappings; a6e79df92e4a v6.5 mm/gup: disallow FOLL_LONGTERM GUP-fast writing to file-backed mappings",
	   .needs = NEEDS_ROOT | NEEDS_VIVID)
{
	struct mem *m = &self->m;
	void *out[2] = { self->out, self->out };
	unsigned int pattern = 0;
	const char *rule;
	int want = longterm_rule(CAPTURE_PROPS, ONLY_V4L2_CAPTURE, variant->mem.backing,
				 variant->shared, variant->writable, &rule);
	char why[320];
	int got = vivid_cap_pin(&self->v, m->addr, m->size, why, sizeof(why));

	ksft_print_msg("%s %s %s as a V4L2 capture buffer: %s (rule: %s: %s)\n",
		       variant->mem.name, variant->shared ? "MAP_SHARED" : "MAP_PRIVATE",
		       variant->writable ? "R/W" : "R/O",
		       got ? strerrorname_np(-got) : "pinned",
		       want ? strerrorname_np(-want) : "pinned", rule);
	ASSERT_EQ(want, got) TH_LOG("%s", got ? why : "the pin was taken");
	if (got) {
		ASSERT_PATTERN(m->addr, m->size, 1, "mapping after the refused pin");
		return;
	}
	/* The device writes: vivid's loop copies the output frame into the pin. */
	ASSERT_EQ(0, vivid_loop_run(&self->v, out, 2, self->v.sizeimage, CAP_FRAMES,
				    loop_frame, &pattern, why, sizeof(why)))
		TH_LOG("vivid loop: %s", why);
	ksft_print_msg("frames of the pattern generator before the loop's: %u (loop control set again: %u)\n",
		       pattern, self->v.loop_repairs);
	if (pattern >= CAP_FRAMES)
		vivid_status(&self->v, why, sizeof(why));
	ASSERT_GT(CAP_FRAMES, pattern)
		TH_LOG("no frame of the loop in %u frames (all the pattern generator's; loop control set again %u times); %s",
		       pattern, self->v.loop_repairs, why);
	ASSERT_PATTERN(m->addr, self->v.sizeimage, 3,
		       "mapping after vivid captured into the pinned buffer");
}

IOPIN_MAIN
