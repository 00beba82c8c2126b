// SPDX-License-Identifier: GPL-2.0-only
/*
 * vivid: module setup, nodes and the output queue (lib/v4l2.h).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/v4l2-dv-timings.h>
#include <linux/videodev2.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "kernel.h"
#include "v4l2.h"

#define VIVID_BUS	"platform:vivid-000"
/*
 * One instance: video capture (bit 0) and output (bit 8) nodes; input 0
 * and output 0 HDMI; vmalloc buffers, which take USERPTR.
 */
#define VIVID_PARAMS	"n_devs=1 node_types=0x101 num_inputs=1 input_types=0x3 " \
			"num_outputs=1 output_types=0x1 allocators=0 multiplanar=1 " \
			"no_error_inj=1"
#define VIVID_REL	"kernel/drivers/media/test-drivers/vivid/vivid.ko"

static int xioctl(int fd, unsigned long req, void *arg)
{
	int ret;

	do
		ret = ioctl(fd, req, arg);
	while (ret && errno == EINTR);
	return ret;
}

static const char *vivid_ko(char *buf, size_t len)
{
	const char *env = getenv("IOPIN_VIVID_KO");
	struct utsname u;

	if (env && *env)
		snprintf(buf, len, "%s", env);
	else if (!uname(&u))
		snprintf(buf, len, "/lib/modules/%s/" VIVID_REL, u.release);
	else
		snprintf(buf, len, "/lib/modules/(unknown)/" VIVID_REL);
	return buf;
}

/* The /dev/videoN of vivid-000 whose device caps include cap. */
static int find_node(uint32_t cap, char *node, size_t len)
{
	struct dirent *de;
	DIR *d = opendir("/dev");
	int fd = -1;

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		struct v4l2_capability c = { 0 };
		char path[300];

		if (strncmp(de->d_name, "video", 5))
			continue;
		snprintf(path, sizeof(path), "/dev/%s", de->d_name);
		fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			continue;
		if (!xioctl(fd, VIDIOC_QUERYCAP, &c) &&
		    !strcmp((char *)c.driver, "vivid") &&
		    !strcmp((char *)c.bus_info, VIVID_BUS) &&
		    ((c.capabilities & V4L2_CAP_DEVICE_CAPS ? c.device_caps :
		      c.capabilities) & cap)) {
			snprintf(node, len, "%s", path);
			break;
		}
		close(fd);
		fd = -1;
	}
	closedir(d);
	return fd;
}

/* 640x480 on the HDMI side of fd, then YUYV of w x h; 0 or -errno. */
static int set_format(int fd, enum v4l2_buf_type type, unsigned int w, unsigned int h,
		      struct v4l2_pix_format *pix, char *why, size_t len)
{
	struct v4l2_dv_timings t = V4L2_DV_BT_CEA_640X480P59_94;
	struct v4l2_format f = { .type = type };

	if (xioctl(fd, VIDIOC_S_DV_TIMINGS, &t)) {
		snprintf(why, len, "VIDIOC_S_DV_TIMINGS 640x480p59.94: %s", strerror(errno));
		return -errno;
	}
	if (xioctl(fd, VIDIOC_G_FMT, &f)) {
		snprintf(why, len, "VIDIOC_G_FMT: %s", strerror(errno));
		return -errno;
	}
	f.fmt.pix.width = w;
	f.fmt.pix.height = h;
	f.fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
	f.fmt.pix.field = V4L2_FIELD_NONE;
	f.fmt.pix.bytesperline = 0;
	if (xioctl(fd, VIDIOC_S_FMT, &f)) {
		snprintf(why, len, "VIDIOC_S_FMT YUYV %ux%u: %s", w, h, strerror(errno));
		return -errno;
	}
	if (f.fmt.pix.pixelformat != V4L2_PIX_FMT_YUYV || f.fmt.pix.width != w ||
	    f.fmt.pix.height != h || f.fmt.pix.sizeimage > (1U << 20)) {
		snprintf(why, len, "vivid set %ux%u %.4s, %u bytes a frame, not YUYV %ux%u",
			 f.fmt.pix.width, f.fmt.pix.height, (char *)&f.fmt.pix.pixelformat,
			 f.fmt.pix.sizeimage, w, h);
		return -EINVAL;
	}
	*pix = f.fmt.pix;
	return 0;
}

int vivid_probe(char *why, size_t len)
{
	char ko[300];

	if (access("/proc/modules", F_OK)) {
		snprintf(why, len, "kernel without loadable modules (no /proc/modules): vivid cannot be loaded");
		return 1;
	}
	if (access(vivid_ko(ko, sizeof(ko)), R_OK)) {
		snprintf(why, len, "no vivid module (%s: %s; IOPIN_VIVID_KO names another)", ko,
			 strerror(errno));
		return 1;
	}
	if (geteuid()) {
		snprintf(why, len, "loading vivid needs root");
		return 1;
	}
	return 0;
}

/* The process that loaded vivid (a test is a process of its own). */
static pid_t vivid_loader;

int vivid_load(char *why, size_t len)
{
	char ko[300];
	int rc;

	if (vivid_loader == getpid() && !access("/sys/module/vivid", F_OK))
		return 0;
	rc = vivid_probe(why, len);
	if (!rc)
		rc = kmod_load(vivid_ko(ko, sizeof(ko)), VIVID_PARAMS, NULL, NULL, why, len);
	if (!rc)
		vivid_loader = getpid();
	return rc;
}

int vivid_open(struct vivid *v, char *why, size_t len)
{
	struct v4l2_pix_format pix = { 0 };
	int rc;

	memset(v, 0, sizeof(*v));
	v->out_fd = v->cap_fd = -1;
	rc = vivid_load(why, len);
	if (rc)
		return rc;
	v->out_fd = find_node(V4L2_CAP_VIDEO_OUTPUT, v->out_node, sizeof(v->out_node));
	v->cap_fd = find_node(V4L2_CAP_VIDEO_CAPTURE, v->cap_node, sizeof(v->cap_node));
	if (v->out_fd < 0 || v->cap_fd < 0) {
		snprintf(why, len, "vivid loaded but no %s node with bus info %s in /dev",
			 v->out_fd < 0 ? "video output" : "video capture", VIVID_BUS);
		return -1;
	}
	if (set_format(v->out_fd, V4L2_BUF_TYPE_VIDEO_OUTPUT, 640, 480, &pix, why, len))
		return -1;
	v->width = pix.width;
	v->height = pix.height;
	v->sizeimage = pix.sizeimage;
	v->bytesperline = pix.bytesperline;
	return 0;
}

/* Set the crop or compose rectangle r of queue type on fd; read it back. */
static int set_rect(int fd, enum v4l2_buf_type type, uint32_t target, const char *name,
		    unsigned int w, unsigned int h, char *why, size_t len)
{
	struct v4l2_selection s = {
		.type = type, .target = target,
		.r = { .left = 0, .top = 0, .width = w, .height = h },
	};

	if (xioctl(fd, VIDIOC_S_SELECTION, &s)) {
		snprintf(why, len, "VIDIOC_S_SELECTION %s %ux%u: %s", name, w, h, strerror(errno));
		return -1;
	}
	memset(&s.r, 0, sizeof(s.r));
	if (xioctl(fd, VIDIOC_G_SELECTION, &s)) {
		snprintf(why, len, "VIDIOC_G_SELECTION %s: %s", name, strerror(errno));
		return -1;
	}
	if (s.r.left || s.r.top || s.r.width != w || s.r.height != h) {
		snprintf(why, len, "vivid set the %s rectangle %ux%u@%d,%d, not %ux%u@0,0", name,
			 s.r.width, s.r.height, s.r.left, s.r.top, w, h);
		return -1;
	}
	return 0;
}

/* Crop and compose (0, 0, w, h): in this order, each limits the other. */
static int set_window(int fd, enum v4l2_buf_type type, unsigned int w, unsigned int h,
		      char *why, size_t len)
{
	const char *side = type == V4L2_BUF_TYPE_VIDEO_OUTPUT ? "output" : "capture";
	char name[32];

	snprintf(name, sizeof(name), "%s crop", side);
	if (set_rect(fd, type, V4L2_SEL_TGT_CROP, name, w, h, why, len))
		return -1;
	snprintf(name, sizeof(name), "%s compose", side);
	if (set_rect(fd, type, V4L2_SEL_TGT_COMPOSE, name, w, h, why, len))
		return -1;
	snprintf(name, sizeof(name), "%s crop", side);
	return set_rect(fd, type, V4L2_SEL_TGT_CROP, name, w, h, why, len);
}

int vivid_out_window(struct vivid *v, unsigned int w, unsigned int h, char *why, size_t len)
{
	struct v4l2_pix_format pix = { 0 };

	if (set_format(v->out_fd, V4L2_BUF_TYPE_VIDEO_OUTPUT, w, h, &pix, why, len) ||
	    set_window(v->out_fd, V4L2_BUF_TYPE_VIDEO_OUTPUT, w, h, why, len))
		return -1;
	if (pix.bytesperline != 2 * w || pix.sizeimage != 2 * w * h) {
		snprintf(why, len, "output format %ux%u: %u bytes a line, %u a frame", w, h,
			 pix.bytesperline, pix.sizeimage);
		return -1;
	}
	v->width = pix.width;
	v->height = pix.height;
	v->sizeimage = pix.sizeimage;
	v->bytesperline = pix.bytesperline;
	return 0;
}

int vivid_out_reqbufs(struct vivid *v, unsigned int count, char *why, size_t len)
{
	struct v4l2_requestbuffers rb = {
		.count = count,
		.type = V4L2_BUF_TYPE_VIDEO_OUTPUT,
		.memory = V4L2_MEMORY_USERPTR,
	};

	if (xioctl(v->out_fd, VIDIOC_REQBUFS, &rb)) {
		snprintf(why, len, "VIDIOC_REQBUFS USERPTR on %s: %s", v->out_node,
			 strerror(errno));
		return -errno;
	}
	if (rb.count < count) {
		snprintf(why, len, "VIDIOC_REQBUFS: %u buffers, not %u", rb.count, count);
		return -ENOMEM;
	}
	v->out_keep_pin = 0;
	return 0;
}

/*
 * The pin a USERPTR buffer holds is kept by a QBUF of the same pointer and
 * length (vb2's __prepare_userptr()): VIDIOC_QUERYBUF shows what it holds.
 */
static int keep_check(int fd, enum v4l2_buf_type type, unsigned int index, void *addr,
		      size_t len, char *why, size_t whylen)
{
	struct v4l2_buffer b = { .index = index, .type = type, .memory = V4L2_MEMORY_USERPTR };

	if (xioctl(fd, VIDIOC_QUERYBUF, &b)) {
		snprintf(why, whylen, "VIDIOC_QUERYBUF %u: %s", index, strerror(errno));
		return -errno;
	}
	if (b.m.userptr != (unsigned long)addr || b.length != len) {
		snprintf(why, whylen, "buffer %u holds %#lx+%u: a QBUF of %p+%zu would pin again",
			 index, b.m.userptr, b.length, addr, len);
		return -ESTALE;
	}
	return 0;
}

int vivid_out_qbuf(struct vivid *v, unsigned int index, void *addr, size_t len,
		   char *why, size_t whylen)
{
	struct v4l2_buffer b = {
		.index = index,
		.type = V4L2_BUF_TYPE_VIDEO_OUTPUT,
		.memory = V4L2_MEMORY_USERPTR,
		.m.userptr = (unsigned long)addr,
		.length = len,
		.bytesused = v->sizeimage,
		.field = V4L2_FIELD_NONE,
	};
	int ret;

	if (index < 32 && (v->out_keep_pin & 1U << index)) {
		ret = keep_check(v->out_fd, V4L2_BUF_TYPE_VIDEO_OUTPUT, index, addr, len, why,
				 whylen);
		if (ret)
			return ret;
	}
	if (xioctl(v->out_fd, VIDIOC_QBUF, &b)) {
		snprintf(why, whylen, "VIDIOC_QBUF USERPTR %p+%zu on %s: %s", addr, len,
			 v->out_node, strerror(errno));
		return -errno;
	}
	return 0;
}

static int stream(int fd, enum v4l2_buf_type type, bool on, char *why, size_t len)
{
	int t = type;

	if (!xioctl(fd, on ? VIDIOC_STREAMON : VIDIOC_STREAMOFF, &t))
		return 0;
	snprintf(why, len, "VIDIOC_STREAM%s %s: %s", on ? "ON" : "OFF",
		 type == V4L2_BUF_TYPE_VIDEO_OUTPUT ? "output" : "capture", strerror(errno));
	return -errno;
}

int vivid_out_pin(struct vivid *v, unsigned int index, void *addr, size_t len,
		  char *why, size_t whylen)
{
	int ret = vivid_out_qbuf(v, index, addr, len, why, whylen);

	if (ret)
		return ret;
	/* Not streaming: STREAMOFF only takes the buffer back (the pin stays). */
	ret = stream(v->out_fd, V4L2_BUF_TYPE_VIDEO_OUTPUT, false, why, whylen);
	if (!ret && index < 32)
		v->out_keep_pin |= 1U << index;
	return ret;
}

/* Set the control called name (or, with substr, whose name contains it). */
static int ctrl_find(int fd, const char *name, bool substr, struct v4l2_queryctrl *q)
{
	memset(q, 0, sizeof(*q));
	q->id = V4L2_CTRL_FLAG_NEXT_CTRL;
	while (!xioctl(fd, VIDIOC_QUERYCTRL, q)) {
		if (substr ? !!strstr((char *)q->name, name) : !strcmp((char *)q->name, name))
			return 0;
		q->id |= V4L2_CTRL_FLAG_NEXT_CTRL;
	}
	return -1;
}

/* The index of the menu item of control q whose name starts with item; -1 if none. */
static int menu_find(int fd, const struct v4l2_queryctrl *q, const char *item)
{
	struct v4l2_querymenu m = { .id = q->id };

	for (m.index = q->minimum; m.index <= (uint32_t)q->maximum; m.index++)
		if (!xioctl(fd, VIDIOC_QUERYMENU, &m) &&
		    !strncmp((char *)m.name, item, strlen(item)))
			return m.index;
	return -1;
}

static int ctrl_set(int fd, uint32_t id, int value, const char *name, char *why, size_t len)
{
	struct v4l2_control c = { .id = id, .value = value };

	if (!xioctl(fd, VIDIOC_S_CTRL, &c))
		return 0;
	snprintf(why, len, "VIDIOC_S_CTRL \"%s\" = %d: %s", name, value, strerror(errno));
	return -1;
}

/* Menu control name of the capture node = its item starting with item. */
static int ctrl_menu_set(struct vivid *v, const char *name, const char *item, char *why,
			 size_t len)
{
	struct v4l2_queryctrl q;
	int i;

	if (ctrl_find(v->cap_fd, name, false, &q) || (i = menu_find(v->cap_fd, &q, item)) < 0) {
		snprintf(why, len, "vivid has no \"%s\" \"%s\"", name, item);
		return -1;
	}
	return ctrl_set(v->cap_fd, q.id, i, name, why, len);
}

/* The loop's controls and a w x h capture format cropped from the top-left corner. */
static int loop_controls_format(struct vivid *v, unsigned int w, unsigned int h, char *why,
				size_t len)
{
	struct v4l2_pix_format pix = { 0 };
	struct v4l2_queryctrl q;
	int item;

	if (set_format(v->cap_fd, V4L2_BUF_TYPE_VIDEO_CAPTURE, w, h, &pix, why, len) ||
	    set_window(v->cap_fd, V4L2_BUF_TYPE_VIDEO_CAPTURE, w, h, why, len))
		return -1;
	v->cap_width = pix.width;
	v->cap_height = pix.height;
	v->cap_bpl = pix.bytesperline;
	v->cap_sizeimage = pix.sizeimage;
	/* 6.1 and older: a switch; 6.12: the input names what feeds it. */
	if (!ctrl_find(v->cap_fd, "Loop Video", false, &q)) {
		if (ctrl_set(v->cap_fd, q.id, 1, "Loop Video", why, len))
			return -1;
		v->loop_ctrl = q.id;
		v->loop_val = 1;
	} else if (!ctrl_find(v->cap_fd, "Is Connected To", true, &q)) {
		item = menu_find(v->cap_fd, &q, "Output HDMI");
		if (item < 0) {
			snprintf(why, len, "\"%s\" offers no \"Output HDMI\" item", (char *)q.name);
			return -1;
		}
		if (ctrl_set(v->cap_fd, q.id, item, (char *)q.name, why, len))
			return -1;
		v->loop_ctrl = q.id;
		v->loop_val = item;
	} else {
		snprintf(why, len, "vivid has neither \"Loop Video\" nor \"... Is Connected To\"");
		return -1;
	}
	if (ctrl_menu_set(v, "OSD Text Mode", "None", why, len) ||
	    ctrl_menu_set(v, "Test Pattern", "100% Red", why, len))
		return -1;
	return 0;
}

int vivid_loop_setup(struct vivid *v, char *why, size_t len)
{
	struct v4l2_requestbuffers rb = {
		.count = VIVID_CAP_BUFS,
		.type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
		.memory = V4L2_MEMORY_MMAP,
	};
	unsigned int i;

	if (loop_controls_format(v, 640, 480, why, len))
		return -1;
	if (xioctl(v->cap_fd, VIDIOC_REQBUFS, &rb) || rb.count < VIVID_CAP_BUFS) {
		snprintf(why, len, "VIDIOC_REQBUFS MMAP on %s: %s", v->cap_node,
			 rb.count < VIVID_CAP_BUFS ? "too few buffers" : strerror(errno));
		return -1;
	}
	for (i = 0; i < VIVID_CAP_BUFS; i++) {
		struct v4l2_buffer b = {
			.index = i,
			.type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
			.memory = V4L2_MEMORY_MMAP,
		};
		void *p;

		if (xioctl(v->cap_fd, VIDIOC_QUERYBUF, &b)) {
			snprintf(why, len, "VIDIOC_QUERYBUF %u: %s", i, strerror(errno));
			return -1;
		}
		p = mmap(NULL, b.length, PROT_READ | PROT_WRITE, MAP_SHARED, v->cap_fd,
			 b.m.offset);
		if (p == MAP_FAILED) {
			snprintf(why, len, "mmap of capture buffer %u: %s", i, strerror(errno));
			return -1;
		}
		v->cap[i] = p;
		v->cap_len = b.length;
		v->ncap = i + 1;
	}
	return 0;
}

int vivid_loop_setup_userptr(struct vivid *v, unsigned int w, unsigned int h, char *why,
			     size_t len)
{
	struct v4l2_requestbuffers rb = {
		.count = VIVID_CAP_PINS,
		.type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
		.memory = V4L2_MEMORY_USERPTR,
	};

	if (loop_controls_format(v, w, h, why, len))
		return -1;
	if (xioctl(v->cap_fd, VIDIOC_REQBUFS, &rb) || rb.count < VIVID_CAP_PINS) {
		snprintf(why, len, "VIDIOC_REQBUFS USERPTR on %s: %s", v->cap_node,
			 rb.count < VIVID_CAP_PINS ? "too few buffers" : strerror(errno));
		return -1;
	}
	v->cap_userptr = true;
	v->cap_keep_pin = 0;
	return 0;
}

static int cap_qbuf(struct vivid *v, unsigned int index, char *why, size_t len)
{
	struct v4l2_buffer b = {
		.index = index,
		.type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
		.memory = v->cap_userptr ? V4L2_MEMORY_USERPTR : V4L2_MEMORY_MMAP,
	};
	int ret;

	if (v->cap_userptr) {
		b.m.userptr = (unsigned long)v->cap[index];
		b.length = v->cap_len;
		if (v->cap_keep_pin & 1U << index) {
			ret = keep_check(v->cap_fd, V4L2_BUF_TYPE_VIDEO_CAPTURE, index,
					 v->cap[index], v->cap_len, why, len);
			if (ret)
				return ret;
		}
	}
	if (!xioctl(v->cap_fd, VIDIOC_QBUF, &b))
		return 0;
	snprintf(why, len, "VIDIOC_QBUF capture %u%s on %s: %s", index,
		 v->cap_userptr ? " USERPTR" : "", v->cap_node, strerror(errno));
	return -errno;
}

int vivid_cap_pin(struct vivid *v, void *addr, size_t len, char *why, size_t whylen)
{
	unsigned int i;
	int ret = 0;

	v->cap_len = len;
	for (i = 0; i < VIVID_CAP_PINS && !ret; i++) {
		v->cap[i] = addr;
		v->ncap = i + 1;
		ret = cap_qbuf(v, i, why, whylen);
		if (!ret)
			ret = stream(v->cap_fd, V4L2_BUF_TYPE_VIDEO_CAPTURE, false, why, whylen);
		if (!ret)
			v->cap_keep_pin |= 1U << i;
	}
	return ret;
}

void vivid_close(struct vivid *v)
{
	unsigned int i;
	char why[1];

	if (v->out_streaming)
		stream(v->out_fd, V4L2_BUF_TYPE_VIDEO_OUTPUT, false, why, sizeof(why));
	if (v->cap_streaming)
		stream(v->cap_fd, V4L2_BUF_TYPE_VIDEO_CAPTURE, false, why, sizeof(why));
	for (i = 0; i < VIVID_CAP_BUFS && !v->cap_userptr; i++)
		if (v->cap[i])
			munmap(v->cap[i], v->cap_len);
	memset(v->cap, 0, sizeof(v->cap));
	v->ncap = 0;
	/* Closing the nodes frees the queues: vb2 drops the pins. */
	if (v->out_fd >= 0)
		close(v->out_fd);
	if (v->cap_fd >= 0)
		close(v->cap_fd);
	v->out_fd = v->cap_fd = -1;
	v->out_streaming = v->cap_streaming = false;
}

void vivid_status(struct vivid *v, char *buf, size_t len)
{
	struct v4l2_input in = { 0 };
	struct v4l2_dv_timings t = { 0 };
	struct v4l2_queryctrl q;
	struct v4l2_control c = { 0 };
	const char *dv;
	int qret;

	/* Into the kernel log too: vivid prints its controls and state. */
	xioctl(v->cap_fd, VIDIOC_LOG_STATUS, NULL);
	xioctl(v->out_fd, VIDIOC_LOG_STATUS, NULL);
	if (xioctl(v->cap_fd, VIDIOC_G_INPUT, &in.index) ||
	    xioctl(v->cap_fd, VIDIOC_ENUMINPUT, &in))
		in.status = ~0U;
	qret = xioctl(v->cap_fd, VIDIOC_QUERY_DV_TIMINGS, &t) ? errno : 0;
	dv = qret ? strerror(qret) : "ok";
	c.value = -1;
	if (!ctrl_find(v->cap_fd, "Is Connected To", true, &q) ||
	    !ctrl_find(v->cap_fd, "Loop Video", false, &q)) {
		c.id = q.id;
		if (xioctl(v->cap_fd, VIDIOC_G_CTRL, &c))
			c.value = -1;
	} else {
		snprintf((char *)q.name, sizeof(q.name), "(no loop control)");
	}
	snprintf(buf, len, "capture input %u status %#x, QUERY_DV_TIMINGS %s %ux%u, \"%s\" = %d",
		 in.index, in.status, dv, t.bt.width, t.bt.height, (char *)q.name, c.value);
}

bool vivid_frame_is_pattern(const void *buf, size_t len)
{
	const unsigned char *b = buf;
	size_t i;

	for (i = 4; i + 4 <= len; i += 4)
		if (memcmp(b, b + i, 4))
			return false;
	return len >= 4;
}

/* The loop control reset behind our back (see vivid_loop_run()): set it again. */
static void loop_repair(struct vivid *v)
{
	struct v4l2_control c = { .id = v->loop_ctrl };

	if (!v->loop_ctrl || xioctl(v->cap_fd, VIDIOC_G_CTRL, &c) || c.value == v->loop_val)
		return;
	/* Refused while vivid's menu update still skips the item: next frame. */
	c.value = v->loop_val;
	xioctl(v->cap_fd, VIDIOC_S_CTRL, &c);
	v->loop_repairs++;
}

#define FRAME_TIMEOUT_MS	10000

int vivid_loop_run(struct vivid *v, void *const *out, unsigned int nout, size_t out_len,
		   unsigned int nframes, int (*frame)(const void *buf, size_t len, void *arg),
		   void *arg, char *why, size_t whylen)
{
	unsigned int i, seen = 0, back = 0;
	int ret = 0;

	for (i = 0; i < v->ncap && !ret; i++)
		ret = cap_qbuf(v, i, why, whylen);
	for (i = 0; i < nout && !ret; i++)
		ret = vivid_out_qbuf(v, i, out[i], out_len, why, whylen);
	if (!ret)
		ret = stream(v->out_fd, V4L2_BUF_TYPE_VIDEO_OUTPUT, true, why, whylen);
	v->out_streaming = !ret;
	if (!ret)
		ret = stream(v->cap_fd, V4L2_BUF_TYPE_VIDEO_CAPTURE, true, why, whylen);
	v->cap_streaming = !ret;

	while (!ret && seen < nframes) {
		struct pollfd pf[2] = {
			{ .fd = v->cap_fd, .events = POLLIN },
			{ .fd = v->out_fd, .events = POLLOUT },
		};
		struct v4l2_buffer b = { 0 };

		if (poll(pf, 2, FRAME_TIMEOUT_MS) <= 0) {
			snprintf(why, whylen, "no frame from %s in %d ms", v->cap_node,
				 FRAME_TIMEOUT_MS);
			ret = -ETIMEDOUT;
			break;
		}
		/* Done with an output buffer: queue it again, unchanged. */
		b.type = V4L2_BUF_TYPE_VIDEO_OUTPUT;
		b.memory = V4L2_MEMORY_USERPTR;
		if ((pf[1].revents & POLLOUT) && !xioctl(v->out_fd, VIDIOC_DQBUF, &b) &&
		    b.index < nout) {
			if (++back > nout * nframes) {
				snprintf(why, whylen, "%u output buffers came back, %u frames from %s",
					 back, seen, v->cap_node);
				ret = -ETIMEDOUT;
				break;
			}
			if (b.m.userptr != (unsigned long)out[b.index]) {
				snprintf(why, whylen, "output buffer %u came back at %#lx, queued at %p",
					 b.index, b.m.userptr, out[b.index]);
				ret = -ESTALE;
				break;
			}
			ret = vivid_out_qbuf(v, b.index, out[b.index], out_len, why, whylen);
			if (ret)
				break;
		}
		if (!(pf[0].revents & POLLIN))
			continue;
		memset(&b, 0, sizeof(b));
		b.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
		b.memory = v->cap_userptr ? V4L2_MEMORY_USERPTR : V4L2_MEMORY_MMAP;
		if (xioctl(v->cap_fd, VIDIOC_DQBUF, &b)) {
			snprintf(why, whylen, "VIDIOC_DQBUF capture: %s", strerror(errno));
			ret = -errno;
			break;
		}
		seen++;
		if (b.index >= v->ncap ||
		    (v->cap_userptr && b.m.userptr != (unsigned long)v->cap[b.index])) {
			snprintf(why, whylen, "capture buffer %u came back at %#lx", b.index,
				 b.m.userptr);
			ret = -ESTALE;
			break;
		}
		if (frame(v->cap[b.index], b.bytesused, arg))
			break;
		loop_repair(v);
		ret = cap_qbuf(v, b.index, why, whylen);
	}
	if (v->cap_streaming)
		stream(v->cap_fd, V4L2_BUF_TYPE_VIDEO_CAPTURE, false, why, 0);
	if (v->out_streaming)
		stream(v->out_fd, V4L2_BUF_TYPE_VIDEO_OUTPUT, false, why, 0);
	v->cap_streaming = v->out_streaming = false;
	return ret;
}
