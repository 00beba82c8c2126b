/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * V4L2 through vivid, the kernel's virtual video test driver: a USERPTR
 * buffer queued on a video output node is pinned by the frame vector
 * (get_vaddr_frames(): pin_user_pages_fast(FOLL_LONGTERM), R/O for an
 * output queue since e2fc6edd37ba v6.2) and vivid's video loop copies it
 * into a capture buffer: what the pin holds is what the capture shows.
 *
 * vivid is loaded by lib (kmod_load(): journaled, the keeper unloads it)
 * with one instance: vmalloc buffers (USERPTR), one HDMI input, one HDMI
 * output, video capture and output nodes only, and no error injection
 * controls. Its nodes are found by bus info ("platform:vivid-000"), its
 * controls by name. In the VM the module is packed by vm/modules.list
 * ("noload:vivid"); elsewhere IOPIN_VIVID_KO names the file.
 */
#ifndef IOPIN_V4L2_H
#define IOPIN_V4L2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VIVID_CAP_BUFS	4

struct vivid {
	int out_fd, cap_fd;
	char out_node[300], cap_node[300];
	uint32_t width, height, sizeimage;	/* of the output format */
	bool out_streaming, cap_streaming;
	void *cap[VIVID_CAP_BUFS];		/* MMAP capture buffers */
	size_t cap_len;
};

/*
 * Load vivid (journaled), open its output and capture nodes and set the
 * output format (YUYV, at most 1 MiB a frame). 0; 1 when vivid cannot be
 * used here (why: a SKIP reason); -1 on failure (why).
 */
int vivid_open(struct vivid *v, char *why, size_t len);
/* Close the nodes (the keeper unloads the module at the end of the test). */
void vivid_close(struct vivid *v);

/*
 * USERPTR on the output queue (count buffers), then VIDIOC_QBUF of
 * [addr, addr + len) as buffer index: the pin. 0 or -errno (why).
 */
int vivid_out_reqbufs(struct vivid *v, unsigned int count, char *why, size_t len);
int vivid_out_qbuf(struct vivid *v, unsigned int index, void *addr, size_t len,
		   char *why, size_t whylen);

/*
 * The video loop: the capture input shows the output (6.1: "Loop Video";
 * 6.12: "HDMI 000-0 Is Connected To" = "Output HDMI 000-0"), no OSD text,
 * the same format; MMAP capture buffers. 0 or -1 (why).
 */
int vivid_loop_setup(struct vivid *v, char *why, size_t len);

/*
 * Stream: nout output buffers (indices 0..nout-1 at out[i], out_len bytes,
 * queued again whenever vivid is done with one: the same pointer and
 * length, so vb2 keeps the pin and does not pin again) and capture frames
 * until frame() returns non-zero or nframes were seen. frame() gets each
 * captured frame (sizeimage bytes). When the output queue runs dry vivid's
 * pattern generator fills the frame: classify frames by content. 0, or
 * -errno (why).
 */
int vivid_loop_run(struct vivid *v, void *const *out, unsigned int nout, size_t out_len,
		   unsigned int nframes, int (*frame)(const void *buf, size_t len, void *arg),
		   void *arg, char *why, size_t whylen);

#endif
