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

/* 640x480 on the HDMI side of fd, then YUYV of that size; 0 or -errno. */
static int set_format(int fd, enum v4l2_buf_type type, struct v4l2_pix_format *pix,
		      char *why, size_t len)
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
	f.fmt.pix.width = 640;
	f.fmt.pix.height = 480;
	f.fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
	f.fmt.pix.field = V4L2_FIELD_NONE;
	if (xioctl(fd, VIDIOC_S_FMT, &f)) {
		snprintf(why, len, "VIDIOC_S_FMT YUYV 640x480: %s", strerror(errno));
		return -errno;
	}
	if (f.fmt.pix.pixelformat != V4L2_PIX_FMT_YUYV || f.fmt.pix.sizeimage > (1U << 20)) {
		snprintf(why, len, "vivid set %ux%u %.4s, %u bytes a frame", f.fmt.pix.width,
			 f.fmt.pix.height, (char *)&f.fmt.pix.pixelformat, f.fmt.pix.sizeimage);
		return -EINVAL;
	}
	*pix = f.fmt.pix;
	return 0;
}

int vivid_open(struct vivid *v, char *why, size_t len)
{
	struct v4l2_pix_format pix = { 0 };
	char ko[300];
	int rc;

	memset(v, 0, sizeof(*v));
	v->out_fd = v->cap_fd = -1;
	if (access(vivid_ko(ko, sizeof(ko)), R_OK)) {
		snprintf(why, len, "no vivid module (%s: %s; IOPIN_VIVID_KO names another)", ko,
			 strerror(errno));
		return 1;
	}
	rc = kmod_load(ko, VIVID_PARAMS, NULL, NULL, why, len);
	if (rc)
		return rc;
	v->out_fd = find_node(V4L2_CAP_VIDEO_OUTPUT, v->out_node, sizeof(v->out_node));
	v->cap_fd = find_node(V4L2_CAP_VIDEO_CAPTURE, v->cap_node, sizeof(v->cap_node));
	if (v->out_fd < 0 || v->cap_fd < 0) {
		snprintf(why, len, "vivid loaded but no %s node with bus info %s in /dev",
			 v->out_fd < 0 ? "video output" : "video capture", VIVID_BUS);
		return -1;
	}
	if (set_format(v->out_fd, V4L2_BUF_TYPE_VIDEO_OUTPUT, &pix, why, len))
		return -1;
	v->width = pix.width;
	v->height = pix.height;
	v->sizeimage = pix.sizeimage;
	return 0;
}

void vivid_close(struct vivid *v)
{
	int type;

	if (v->out_streaming) {
		type = V4L2_BUF_TYPE_VIDEO_OUTPUT;
		xioctl(v->out_fd, VIDIOC_STREAMOFF, &type);
	}
	if (v->cap_streaming) {
		type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
		xioctl(v->cap_fd, VIDIOC_STREAMOFF, &type);
	}
	for (type = 0; type < VIVID_CAP_BUFS; type++)
		if (v->cap[type])
			munmap(v->cap[type], v->cap_len);
	memset(v->cap, 0, sizeof(v->cap));
	if (v->out_fd >= 0)
		close(v->out_fd);
	if (v->cap_fd >= 0)
		close(v->cap_fd);
	v->out_fd = v->cap_fd = -1;
	v->out_streaming = v->cap_streaming = false;
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

	if (xioctl(v->out_fd, VIDIOC_QBUF, &b)) {
		snprintf(why, whylen, "VIDIOC_QBUF USERPTR %p+%zu on %s: %s", addr, len,
			 v->out_node, strerror(errno));
		return -errno;
	}
	return 0;
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

int vivid_loop_setup(struct vivid *v, char *why, size_t len)
{
	struct v4l2_requestbuffers rb = {
		.count = VIVID_CAP_BUFS,
		.type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
		.memory = V4L2_MEMORY_MMAP,
	};
	struct v4l2_pix_format pix = { 0 };
	struct v4l2_queryctrl q;
	unsigned int i;
	int item;

	if (set_format(v->cap_fd, V4L2_BUF_TYPE_VIDEO_CAPTURE, &pix, why, len))
		return -1;
	if (pix.sizeimage != v->sizeimage) {
		snprintf(why, len, "capture frames of %u bytes, output frames of %u",
			 pix.sizeimage, v->sizeimage);
		return -1;
	}
	/* 6.1 and older: a switch; 6.12: the input names what feeds it. */
	if (!ctrl_find(v->cap_fd, "Loop Video", false, &q)) {
		if (ctrl_set(v->cap_fd, q.id, 1, "Loop Video", why, len))
			return -1;
	} else if (!ctrl_find(v->cap_fd, "Is Connected To", true, &q)) {
		item = menu_find(v->cap_fd, &q, "Output HDMI");
		if (item < 0) {
			snprintf(why, len, "\"%s\" offers no \"Output HDMI\" item", (char *)q.name);
			return -1;
		}
		if (ctrl_set(v->cap_fd, q.id, item, (char *)q.name, why, len))
			return -1;
	} else {
		snprintf(why, len, "vivid has neither \"Loop Video\" nor \"... Is Connected To\"");
		return -1;
	}
	if (ctrl_find(v->cap_fd, "OSD Text Mode", false, &q) ||
	    (item = menu_find(v->cap_fd, &q, "None")) < 0) {
		snprintf(why, len, "vivid has no \"OSD Text Mode\" \"None\"");
		return -1;
	}
	if (ctrl_set(v->cap_fd, q.id, item, "OSD Text Mode", why, len))
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
	}
	return 0;
}

static int cap_qbuf(struct vivid *v, unsigned int index, char *why, size_t len)
{
	struct v4l2_buffer b = {
		.index = index,
		.type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
		.memory = V4L2_MEMORY_MMAP,
	};

	if (!xioctl(v->cap_fd, VIDIOC_QBUF, &b))
		return 0;
	snprintf(why, len, "VIDIOC_QBUF capture %u: %s", index, strerror(errno));
	return -errno;
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

#define FRAME_TIMEOUT_MS	10000

int vivid_loop_run(struct vivid *v, void *const *out, unsigned int nout, size_t out_len,
		   unsigned int nframes, int (*frame)(const void *buf, size_t len, void *arg),
		   void *arg, char *why, size_t whylen)
{
	unsigned int i, seen = 0;
	int ret = 0;

	for (i = 0; i < VIVID_CAP_BUFS && !ret; i++)
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
		struct v4l2_buffer b = { .memory = V4L2_MEMORY_MMAP };

		if (poll(pf, 2, FRAME_TIMEOUT_MS) <= 0) {
			snprintf(why, whylen, "no frame from %s in %d ms", v->cap_node,
				 FRAME_TIMEOUT_MS);
			ret = -ETIMEDOUT;
			break;
		}
		if (pf[1].revents & POLLOUT) {
			/* Done with an output buffer: queue it again, unchanged. */
			b.type = V4L2_BUF_TYPE_VIDEO_OUTPUT;
			b.memory = V4L2_MEMORY_USERPTR;
			if (!xioctl(v->out_fd, VIDIOC_DQBUF, &b) && b.index < nout)
				ret = vivid_out_qbuf(v, b.index, out[b.index], out_len, why, whylen);
			continue;
		}
		if (!(pf[0].revents & POLLIN))
			continue;
		b.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
		b.memory = V4L2_MEMORY_MMAP;
		if (xioctl(v->cap_fd, VIDIOC_DQBUF, &b)) {
			snprintf(why, whylen, "VIDIOC_DQBUF capture: %s", strerror(errno));
			ret = -errno;
			break;
		}
		seen++;
		if (b.index < VIVID_CAP_BUFS && frame(v->cap[b.index], b.bytesused, arg))
			break;
		ret = cap_qbuf(v, b.index, why, whylen);
	}
	if (v->cap_streaming)
		stream(v->cap_fd, V4L2_BUF_TYPE_VIDEO_CAPTURE, false, why, 0);
	if (v->out_streaming)
		stream(v->out_fd, V4L2_BUF_TYPE_VIDEO_OUTPUT, false, why, 0);
	v->cap_streaming = v->out_streaming = false;
	return ret;
}
