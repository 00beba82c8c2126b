// SPDX-License-Identifier: GPL-2.0-only
/*
 * V4L2 pin backend through vivid (lib/v4l2.h): a R/O long-term pin that a
 * device reads.
 *
 * The pin: VIDIOC_QBUF of the whole range as the USERPTR buffers (two:
 * OUT_BUFS) of vivid's video output queue. vb2's frame vector pins it with
 * pin_user_pages_fast(FOLL_LONGTERM), without FOLL_WRITE for an output
 * queue since e2fc6edd37ba (v6.2) and without FOLL_FORCE since
 * cb78a634f3f7 (v6.2); 6.1 pins every USERPTR buffer
 * FOLL_FORCE|FOLL_WRITE. A fresh queue (REQBUFS) per pin; the buffers are
 * taken back unqueued (STREAMOFF) and vb2 keeps their pins: every later QBUF
 * of the same pointer and length reuses it, which lib/v4l2.c checks
 * (VIDIOC_QUERYBUF before each QBUF, the pointer of each DQBUF), so a read
 * after the process's write sees what the first pin holds, never a new pin.
 *
 * The read: what vivid's video loop copies from that buffer into a capture
 * frame. The output format is 64x32 YUYV (4096 bytes, bytes per line 128)
 * cropped and composed unscaled into the top-left corner of the 640x480
 * display, so a range of any size (at least 4096 bytes) is queued whole,
 * and the capture frame (640x480 YUYV) shows its first 4096 bytes as 32
 * lines of 128 bytes at the capture's bytes-per-line stride: the window a
 * read returns. The rest of a loop frame is vivid's black border. A frame
 * captured while no output buffer is queued is the pattern generator's,
 * set to a solid "100% Red": frames are told apart by content (a border of
 * one neutral-chroma colour is the loop's; red is not neutral), never by
 * time, within a bound of VIVID_READ_FRAMES frames. Each read streams both
 * queues from STREAMON (every frame it looks at is copied after the read
 * began) to STREAMOFF.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pin.h"
#include "v4l2.h"

#define why_set(p, ...) snprintf((p)->why, sizeof((p)->why), __VA_ARGS__)

/* The output window: 64x32 YUYV, one 4 KiB page. */
#define WIN_W		64
#define WIN_H		32
/* Frames a read looks at for one of the loop (a pass takes the first few). */
#define VIVID_READ_FRAMES	600U
/*
 * Output buffers: the range twice. vb2 starts vivid's output queue only
 * with two buffers queued on 5.10 (vivid's min_buffers_needed), and
 * vivid's output thread takes one off each frame while another is
 * pending: with two there is always one at the head of the queue, the
 * one the loop copies, while the other is queued again.
 */
#define OUT_BUFS		2

struct v4l2_pin {
	struct vivid v;
	size_t len;		/* queued: the whole range */
};

/*
 * Usable if vivid loads: the probe loads it (PIN_NEEDED() runs before the
 * test creates its memory; the keeper kmod_load() forks must not share
 * it). A load that fails for another reason than the machine's is left to
 * pin(), which tries again and fails with it.
 */
static int v4l2_probe(char *why, size_t len)
{
	return vivid_load(why, len) > 0 ? -ENODEV : 0;
}

static void v4l2_unpin(struct pin *p)
{
	struct v4l2_pin *vp = p->priv;

	if (!vp)
		return;
	vivid_close(&vp->v);
	free(vp);
	p->priv = NULL;
}

static int v4l2_pin(struct pin *p)
{
	struct v4l2_pin *vp = calloc(1, sizeof(*vp));
	unsigned int i;
	int ret;

	if (!vp)
		return -ENOMEM;
	p->priv = vp;
	ret = vivid_open(&vp->v, p->why, sizeof(p->why));
	if (ret > 0) {
		ret = -ENODEV;
		goto err;
	}
	if (ret || vivid_out_window(&vp->v, WIN_W, WIN_H, p->why, sizeof(p->why)) ||
	    vivid_loop_setup(&vp->v, p->why, sizeof(p->why))) {
		ret = -EIO;
		goto err;
	}
	if (p->len < vp->v.sizeimage) {
		why_set(p, "a %zu-byte range is shorter than a %u-byte frame", p->len,
			vp->v.sizeimage);
		ret = -EINVAL;
		goto err;
	}
	ret = vivid_out_reqbufs(&vp->v, OUT_BUFS, p->why, sizeof(p->why));
	for (i = 0; i < OUT_BUFS && !ret; i++)
		ret = vivid_out_pin(&vp->v, i, p->addr, p->len, p->why, sizeof(p->why));
	if (ret)
		goto err;
	vp->len = p->len;
	p->len = vp->v.sizeimage;
	return 0;
err:
	v4l2_unpin(p);
	return ret;
}

struct window_read {
	const struct vivid *v;
	unsigned char *buf;
	unsigned int loop, pattern, other;
	unsigned char border[4];
};

/* Is every 4-byte group of [b, b + len) the same as g? */
static bool all_groups(const unsigned char *b, size_t len, const unsigned char *g)
{
	size_t i;

	for (i = 0; i + 4 <= len; i += 4)
		if (memcmp(b + i, g, 4))
			return false;
	return true;
}

/*
 * A loop frame: everything outside the window one YUYV colour of neutral
 * chroma (vivid's black); its window is the output buffer's first bytes.
 */
static int window_frame(const void *frame, size_t len, void *arg)
{
	struct window_read *w = arg;
	const struct vivid *v = w->v;
	const unsigned char *f = frame;
	size_t win_bpl = v->bytesperline, line = 2 * (size_t)v->cap_width;
	const unsigned char *g = f + win_bpl;
	bool border = len >= v->cap_sizeimage && g[1] == 0x80 && g[3] == 0x80;
	unsigned int y;

	for (y = 0; border && y < v->cap_height; y++) {
		size_t from = y < v->height ? win_bpl : 0;

		border = all_groups(f + y * v->cap_bpl + from, line - from, g);
	}
	if (!border) {
		if (len >= 4 && vivid_frame_is_pattern(f, len))
			w->pattern++;
		else
			w->other++;
		return 0;
	}
	for (y = 0; y < v->height; y++)
		memcpy(w->buf + y * win_bpl, f + y * v->cap_bpl, win_bpl);
	memcpy(w->border, g, 4);
	w->loop++;
	return 1;
}

static int v4l2_read(struct pin *p, void *buf)
{
	struct v4l2_pin *vp = p->priv;
	struct window_read w = { .v = &vp->v, .buf = buf };
	void *out[OUT_BUFS] = { p->addr, p->addr };
	int ret;

	ret = vivid_loop_run(&vp->v, out, OUT_BUFS, vp->len, VIVID_READ_FRAMES, window_frame, &w,
			     p->why, sizeof(p->why));
	if (ret)
		return ret;
	if (!w.loop) {
		char st[160];

		vivid_status(&vp->v, st, sizeof(st));
		why_set(p, "no loop frame in %u frames (%u pattern, %u other; loop control set again %u times); %.110s",
			VIVID_READ_FRAMES, w.pattern, w.other, vp->v.loop_repairs, st);
		return -EIO;
	}
	return 0;
}

const struct pin_backend pin_backend_v4l2_ro = {
	.name = "v4l2_ro", .props = PIN_LONGTERM | PIN_FAST | PIN_DEVICE,
	.needs = NEEDS_ROOT | NEEDS_VIVID,
	.guard = "e2fc6edd37ba v6.2 media: videobuf2: revert \"get_userptr: buffers are always writable\"; "
		 "cb78a634f3f7 v6.2 mm/frame-vector: remove FOLL_FORCE usage",
	PIN_OPS(v4l2),
};
