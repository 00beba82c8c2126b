// SPDX-License-Identifier: GPL-2.0-only
/*
 * R/O long-term pins must see every later write by the process: the pin
 * has to break COW when it is taken (FAULT_FLAG_UNSHARE), for anonymous
 * pages that are shared, were shared, or are exclusive, and since v6.2 for
 * anything in a MAP_PRIVATE mapping: zeropages, pagecache, memfd, hugetlb.
 * Older kernels pin the page that a later write COWs away from: the
 * device keeps reading stale data.
 *
 * Axes: memory x sharing state x R/O long-term pin backend. Device backends
 * (a DMA per read: VFIO + edu, RDMA; a frame of vivid's video loop: V4L2)
 * cross one of each kind of anon memory and every non-anon type; gup_test
 * crosses all anon types.
 */
#include "iopin.h"

enum share_state {
	EXCLUSIVE,		/* never shared */
	SHARED,			/* a child still maps it */
	PREV_SHARED,		/* a child mapped it and has exited */
	AS_CREATED,		/* non-anon: as the mapping came */
};

/*
 * Two fixtures of one shape, so that each test names the fix it guards:
 * ro_pin_anon (private anon memory: unshared since v5.19) and ro_pin
 * (everything else in a COW mapping: since v6.2).
 */
#define RO_PIN_FIXTURE(fix)						\
	FIXTURE(fix) {							\
		struct mem m;						\
		struct child c;						\
		bool child_alive;					\
	};								\
	FIXTURE_VARIANT(fix) {						\
		struct mem_type mem;					\
		enum share_state state;					\
		enum pin_id pin;					\
	};								\
	IOPIN_MEM_PIN_AXES(fix);					\
	FIXTURE_SETUP(fix)						\
	{								\
		PIN_NEEDED(variant->pin);				\
		MEM_CREATE(&self->m, &variant->mem);			\
		share(_metadata, &self->c, &self->child_alive, variant->state); \
	}								\
	FIXTURE_TEARDOWN(fix)						\
	{								\
		if (self->child_alive) {				\
			child_go(&self->c);				\
			child_wait(&self->c);				\
		}							\
		mem_destroy(&self->m);					\
	}

#define RO_PIN_VARIANT(id, backing, kb, layout, st, st_name, pin_id, pin_name, fix) \
	FIXTURE_VARIANT_ADD(fix, id##_##st_name##_##pin_name) {		\
		.mem = MEM_TYPE_INIT(id, backing, kb, layout),			\
		.state = st, .pin = pin_id,					\
	};
#define RO_PIN_ANON(pin_id, pin_name, _)					\
	MEM_ANON_TYPES(RO_PIN_VARIANT, EXCLUSIVE, exclusive, pin_id, pin_name, ro_pin_anon) \
	MEM_ANON_TYPES(RO_PIN_VARIANT, SHARED, shared, pin_id, pin_name, ro_pin_anon) \
	MEM_ANON_TYPES(RO_PIN_VARIANT, PREV_SHARED, prev_shared, pin_id, pin_name, ro_pin_anon)
#define RO_PIN_NONANON(pin_id, pin_name, _)					\
	MEM_NONANON_TYPES(RO_PIN_VARIANT, AS_CREATED, private, pin_id, pin_name, ro_pin)

#define RO_PIN_ANON_CORE(pin_id, pin_name, _)					\
	MEM_ANON_CORE_TYPES(RO_PIN_VARIANT, EXCLUSIVE, exclusive, pin_id, pin_name, ro_pin_anon) \
	MEM_ANON_CORE_TYPES(RO_PIN_VARIANT, SHARED, shared, pin_id, pin_name, ro_pin_anon) \
	MEM_ANON_CORE_TYPES(RO_PIN_VARIANT, PREV_SHARED, prev_shared, pin_id, pin_name, ro_pin_anon)

/* Parked until the parent's go: shares the memory until then. */
static int child_lives(struct child *c, void *arg)
{
	(void)c;
	(void)arg;
	return CHILD_OK;
}

/* Bring the memory into its sharing state: a child maps it, or did. */
static void share(struct __test_metadata *_metadata, struct child *c,
		  bool *alive, enum share_state state)
{
	if (state == SHARED || state == PREV_SHARED) {
		ASSERT_EQ(0, child_start(c, child_lives, NULL));
		*alive = true;
	}
	if (state == PREV_SHARED) {
		child_go(c);
		ASSERT_EQ(CHILD_OK, child_wait(c));
		*alive = false;
	}
}

/* Pin R/O, check what the pin sees, write, check it sees the write. */
static void pin_then_write(struct __test_metadata *_metadata, struct mem *m,
			   const struct mem_type *type, enum pin_id id)
{
	uint8_t before = mem_is_zero(type) ? 0 : 1;
	struct pin p;

	PIN_OK(&p, id, m->addr, m->size);
	ASSERT_PIN_SEES(&p, before, "R/O pin before the write");
	pattern_fill(m->addr, m->size, 2);
	ASSERT_PIN_SEES(&p, 2, "R/O pin after the process wrote");
	pin_release(&p);
}

RO_PIN_FIXTURE(ro_pin_anon)
RO_PIN_FIXTURE(ro_pin)

PIN_RO_LONGTERM_BACKENDS(RO_PIN_ANON, _)
PIN_RO_LONGTERM_BACKENDS(RO_PIN_NONANON, _)
PIN_RO_LONGTERM_DEVICE_BACKENDS(RO_PIN_ANON_CORE, _)
PIN_RO_LONGTERM_DEVICE_BACKENDS(RO_PIN_NONANON, _)

IOPIN_TEST(ro_pin_anon, pin_sees_later_write,
	   .guard = "a7f226604170 v5.19 mm/gup: trigger FAULT_FLAG_UNSHARE when R/O-pinning a possibly shared anonymous page; c89357e27f20 v5.19 mm: support GUP-triggered unsharing of anonymous pages")
{
	pin_then_write(_metadata, &self->m, &variant->mem, variant->pin);
}

IOPIN_TEST(ro_pin, pin_sees_later_write,
	   .guard = "84209e87c696 v6.2 mm/gup: reliable R/O long-term pinning in COW mappings; 8d6a0ac09a16 v6.2 mm: extend FAULT_FLAG_UNSHARE support to anything in a COW mapping")
{
	pin_then_write(_metadata, &self->m, &variant->mem, variant->pin);
}

IOPIN_MAIN
