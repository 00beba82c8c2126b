// SPDX-License-Identifier: GPL-2.0-only
/*
 * The media frame vector refuses a BAR mapping: a V4L2 USERPTR buffer is
 * pinned by get_vaddr_frames(), which since 6647e76ab623 (v6.1) no longer
 * falls back to follow_pfn() when pin_user_pages_fast() fails. A BAR
 * mapping (VM_IO | VM_PFNMAP, no struct pages) cannot be pinned, so
 * VIDIOC_QBUF of it fails with EFAULT instead of handing the driver pfns
 * that nothing holds (a claim or removal of the BAR would leave the driver
 * writing into whatever is there next). Kernels from 6647e76ab623 to
 * 735de5caf79e (v6.6) also WARN_ONCE on the refusal; Debian 6.1 does not.
 *
 * And nothing of the BAR reaches the driver: vivid's video loop, fed with
 * frames of anonymous memory on the same queue, shows those frames (or
 * its pattern generator's when the output runs dry), never the BAR's
 * pattern.
 *
 * Device: the BAR with known contents (VM: ivshmem BAR2, 1 MiB), mapped
 * through each route; vivid's video output node (lib/v4l2.h), a 640x480
 * YUYV frame (600 KiB) fits the BAR.
 */
#include "iopin.h"
#include "trace.h"
#include "v4l2.h"

#include <sys/mman.h>

#define FRAME_VECTOR_GUARD "6647e76ab623 v6.1 v4l2: don't fall back to follow_pfn() if pin_user_pages_fast() fails"

FIXTURE(v4l2_pfnmap) {
	struct iomem_dev d;
	int bar;
	struct iomem_map m;
	struct vivid v;
	size_t len;		/* of a buffer: the frame, in whole pages */
	void *anon[2];
};

FIXTURE_VARIANT(v4l2_pfnmap) {
	struct iomem_route route;
};

IOMEM_ROUTES(IOMEM_ROUTE_VARIANT, v4l2_pfnmap)

FIXTURE_SETUP(v4l2_pfnmap)
{
	char why[320];
	int rc;

	self->m.addr = NULL;
	self->m.fd = -1;
	self->v.out_fd = self->v.cap_fd = -1;
	self->anon[0] = self->anon[1] = MAP_FAILED;
	IOMEM_PICK(IOMEM_ROLE_PATTERN, &self->d, &self->bar);
	IOMEM_ROUTE_NEEDED(&variant->route, &self->d, self->bar);
	rc = vivid_open(&self->v, why, sizeof(why));
	if (rc > 0)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, rc) TH_LOG("vivid: %s", why);
	self->len = (self->v.sizeimage + page_size() - 1) & ~(page_size() - 1);
	ASSERT_LE(self->len, self->d.bar[self->bar].size)
		TH_LOG("a %u-byte frame does not fit BAR%d", self->v.sizeimage, self->bar);
	ASSERT_EQ(0, vivid_out_reqbufs(&self->v, 2, why, sizeof(why))) TH_LOG("%s", why);
	ASSERT_EQ(0, vivid_loop_setup(&self->v, why, sizeof(why))) TH_LOG("%s", why);
}

FIXTURE_TEARDOWN(v4l2_pfnmap)
{
	vivid_close(&self->v);
	for (int i = 0; i < 2; i++)
		if (self->anon[i] != MAP_FAILED)
			munmap(self->anon[i], self->len);
	iomem_unmap(&self->m);
	kstate_restore();
}

/* A frame of anonymous memory: every byte this (mid gray in YUYV). */
#define ANON_BYTE	0x80
#define CLASSIFY_LEN	4096	/* bytes of a frame looked at */

struct frames {
	unsigned int anon, bar, other;
};

static int classify(const void *buf, size_t len, void *arg)
{
	const unsigned char *b = buf;
	struct frames *f = arg;
	bool anon = len >= CLASSIFY_LEN, bar = len >= CLASSIFY_LEN;
	size_t i;

	for (i = 0; i < CLASSIFY_LEN && i < len; i++)
		anon &= b[i] == ANON_BYTE;
	for (i = 0; i + 4 <= CLASSIFY_LEN && i + 4 <= len; i += 4) {
		uint32_t w;

		memcpy(&w, b + i, 4);
		bar &= w == iomem_pattern_word(i);
	}
	if (anon)
		f->anon++;
	else if (bar)
		f->bar++;
	else
		f->other++;
	return f->anon >= 3;	/* enough: the loop shows the queue */
}

#define LOOP_FRAMES	600

IOPIN_TEST(v4l2_pfnmap, userptr_of_a_bar_mapping_is_refused,
	   .guard = FRAME_VECTOR_GUARD, .needs = NEEDS_ROOT | NEEDS_PCI_DEVICE | NEEDS_VIVID)
{
	struct frames f = { 0 };
	char why[320], chk[160];
	int i, rc;

	ASSERT_EQ(0, iomem_map(&self->m, &variant->route, &self->d, self->bar, 0, self->len,
			       PROT_READ | PROT_WRITE, MAP_SHARED, why, sizeof(why)))
		TH_LOG("%s: %s", variant->route.name, why);
	rc = vivid_out_qbuf(&self->v, 0, (void *)self->m.addr, self->len, why, sizeof(why));
	ksft_print_msg("VIDIOC_QBUF of a %zu-byte %s BAR mapping: %s\n", self->len,
		       variant->route.name, rc ? why : "queued");
	/* (self-test switch: the errno check is inverted) */
	ASSERT_TRUE(errno_check(rc ? -1 : 0, -rc, EFAULT, chk, sizeof(chk)))
		TH_LOG("USERPTR of a %s BAR mapping: %s", variant->route.name, chk);

	/* The same queue takes anonymous memory, and the loop shows it, not the BAR. */
	for (i = 0; i < 2; i++) {
		self->anon[i] = mmap(NULL, self->len, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ASSERT_NE(MAP_FAILED, self->anon[i]);
		memset(self->anon[i], ANON_BYTE, self->len);
	}
	/*
	 * Until three frames of the queued buffers came back (classify()), or
	 * LOOP_FRAMES frames: a freshly loaded vivid's capture shows its own
	 * pattern until the loop is up (40 such frames were seen first on
	 * 7.3.4 under load), so the bound is a count far above that, never a
	 * time; a passing run stops after the first three looped frames.
	 */
	ASSERT_EQ(0, vivid_loop_run(&self->v, self->anon, 2, self->len, LOOP_FRAMES, classify,
				    &f, why, sizeof(why)))
		TH_LOG("vivid loop: %s", why);
	ksft_print_msg("frames captured: %u of the anonymous buffers, %u of the BAR, %u other (loop control set again: %u)\n",
		       f.anon, f.bar, f.other, self->v.loop_repairs);
	if (!f.anon)
		vivid_status(&self->v, why, sizeof(why));
	ASSERT_NE(0, f.anon) TH_LOG("the loop never showed the queued frames: it cannot "
				    "show the BAR's either (%s)", why);
	ASSERT_EQ(0, f.bar) TH_LOG("the loop showed the BAR's pattern");
}

IOPIN_MAIN
