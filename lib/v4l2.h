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
/*
 * USERPTR capture buffers of one range: vb2 starts a vivid queue (5.10)
 * only with two buffers queued.
 */
#define VIVID_CAP_PINS	2

struct vivid {
	int out_fd, cap_fd;
	char out_node[300], cap_node[300];
	uint32_t width, height, sizeimage;	/* of the output format */
	uint32_t bytesperline;
	uint32_t cap_width, cap_height, cap_bpl, cap_sizeimage;	/* capture format */
	bool out_streaming, cap_streaming;
	/*
	 * The buffers (bit n: index n) that hold pins a QBUF must keep:
	 * before each one, VIDIOC_QUERYBUF must show the pointer and length
	 * it queues (vb2 pins a USERPTR buffer again only when they changed).
	 */
	unsigned int out_keep_pin, cap_keep_pin;
	bool cap_userptr;			/* capture buffers: USERPTR, else MMAP */
	uint32_t loop_ctrl;			/* the control that makes the loop */
	int loop_val;
	unsigned int loop_repairs;		/* times vivid_loop_run() set it again */
	unsigned int ncap;
	void *cap[VIVID_CAP_BUFS];		/* capture buffers */
	size_t cap_len;
};

/* 0 when vivid can be loaded here, else 1 with why (a SKIP reason). */
int vivid_probe(char *why, size_t len);
/*
 * Load vivid, journaled, once per process (a test is one): 0 loaded (now
 * or before by this process); 1 when it cannot be loaded here (why: a SKIP
 * reason); -1 on failure (why). A fork() after the test created its memory
 * would share that memory with the keeper process that kmod_load() starts:
 * load before (the backend's probe does).
 */
int vivid_load(char *why, size_t len);

/*
 * vivid_load(), open its output and capture nodes and set the output format (YUYV 640x480,
 * at most 1 MiB a frame). 0; 1 when vivid cannot be used here (why: a
 * SKIP reason); -1 on failure (why).
 */
int vivid_open(struct vivid *v, char *why, size_t len);
/* Close the nodes (the keeper unloads the module at the end of the test). */
void vivid_close(struct vivid *v);

/*
 * An output format of w x h YUYV (bytes per line 2 * w) shown unscaled in
 * the top-left corner of the 640x480 display: crop and compose rectangles
 * (0, 0, w, h), read back. vivid composes and crops its output when it runs
 * without error injection (ccs_out_mode -1 becomes 7). 0 or -1 (why).
 */
int vivid_out_window(struct vivid *v, unsigned int w, unsigned int h, char *why, size_t len);

/*
 * USERPTR on the output queue (count buffers), then VIDIOC_QBUF of
 * [addr, addr + len) as buffer index: the pin. 0 or -errno (why).
 */
int vivid_out_reqbufs(struct vivid *v, unsigned int count, char *why, size_t len);
int vivid_out_qbuf(struct vivid *v, unsigned int index, void *addr, size_t len,
		   char *why, size_t whylen);
/*
 * Pin [addr, addr + len) as output buffer index and take it back unqueued
 * (VIDIOC_QBUF, then VIDIOC_STREAMOFF): vb2 keeps the pin until the buffer
 * is queued with another pointer or length, or the queue is freed; from now
 * on every QBUF of index must keep it (out_keep_pin). 0 or -errno (why).
 */
int vivid_out_pin(struct vivid *v, unsigned int index, void *addr, size_t len,
		  char *why, size_t whylen);

/*
 * The video loop: the capture input shows the output (6.1: "Loop Video";
 * 6.12: "HDMI 000-0 Is Connected To" = "Output HDMI 000-0"), no OSD text,
 * the pattern generator (what a frame shows when no output buffer is
 * queued) a solid "100% Red", a 640x480 YUYV capture format taking the
 * whole display unscaled (crop and compose the full frame); MMAP capture
 * buffers. 0 or -1 (why).
 */
int vivid_loop_setup(struct vivid *v, char *why, size_t len);
/*
 * The same loop into USERPTR capture buffers instead: a w x h YUYV
 * capture format cropped unscaled from the top-left corner of the display
 * (what vivid_out_window() shows there). The buffer is given to
 * vivid_cap_pin(). 0 or -1 (why).
 */
int vivid_loop_setup_userptr(struct vivid *v, unsigned int w, unsigned int h, char *why,
			     size_t len);
/*
 * Pin [addr, addr + len) as the USERPTR capture buffers, VIVID_CAP_PINS
 * of them (VIDIOC_QBUF: the device writes them, FOLL_WRITE), each taken
 * back unqueued like vivid_out_pin(). 0 or the first -errno (why).
 */
int vivid_cap_pin(struct vivid *v, void *addr, size_t len, char *why, size_t whylen);

/*
 * Stream: nout output buffers (indices 0..nout-1 at out[i], out_len bytes,
 * queued again whenever vivid is done with one: the same pointer and
 * length, so vb2 keeps the pin and does not pin again; a buffer that comes
 * back with another pointer fails the run) and capture frames until
 * frame() returns non-zero or nframes were seen (or nout * nframes
 * output buffers came back meanwhile: a loop that stalls). frame() gets each
 * captured frame (bytesused bytes). When the output queue runs dry vivid's
 * pattern generator fills the frame: classify frames by content. 0, or
 * -errno (why).
 * After each frame that frame() passes over, the loop control is read
 * back and set again if it changed (loop_repairs counts it): on 6.12+
 * vivid's work that updates the "... Is Connected To" menus reads the
 * control's value unlocked and, racing with the VIDIOC_S_CTRL that queued
 * it, can reset the input to the pattern generator (seen on 7.3.4: about
 * one test in 20 saw only pattern frames, the control back at 0).
 */
int vivid_loop_run(struct vivid *v, void *const *out, unsigned int nout, size_t out_len,
		   unsigned int nframes, int (*frame)(const void *buf, size_t len, void *arg),
		   void *arg, char *why, size_t whylen);

/*
 * What vivid says about the loop, for a failure message: the capture
 * input's status and DV timings, the loop control; and VIDIOC_LOG_STATUS
 * of both nodes into the kernel log.
 */
void vivid_status(struct vivid *v, char *buf, size_t len);

/* Does a YUYV frame show only vivid's pattern generator (one colour)? */
bool vivid_frame_is_pattern(const void *buf, size_t len);

#endif
