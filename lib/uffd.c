// SPDX-License-Identifier: GPL-2.0-only
/*
 * userfaultfd write-protection: count the write faults anything takes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mem.h"

static void *uffd_wp_thread(void *arg)
{
	struct uffd_wp *u = arg;
	struct pollfd pfd[2] = {
		{ .fd = u->fd, .events = POLLIN },
		{ .fd = u->stop[0], .events = POLLIN },
	};
	struct uffd_msg msg;

	while (poll(pfd, 2, -1) > 0 && !(pfd[1].revents & POLLIN)) {
		struct uffdio_writeprotect wp = { 0 };

		if (read(u->fd, &msg, sizeof(msg)) != sizeof(msg) ||
		    msg.event != UFFD_EVENT_PAGEFAULT)
			continue;
		if (msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP)
			u->faults++;
		/* Resolve: unprotect the page, waking the faulting thread. */
		wp.range.start = msg.arg.pagefault.address & ~(page_size() - 1);
		wp.range.len = page_size();
		ioctl(u->fd, UFFDIO_WRITEPROTECT, &wp);
	}
	return NULL;
}

enum mem_result uffd_wp_arm(struct uffd_wp *u, void *addr, size_t len,
			    char *why, size_t whylen)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)addr, .len = len },
		.mode = UFFDIO_REGISTER_MODE_WP,
	};
	struct uffdio_writeprotect wp = {
		.range = { .start = (uintptr_t)addr, .len = len },
		.mode = UFFDIO_WRITEPROTECT_MODE_WP,
	};
	pthread_t t;

	memset(u, 0, sizeof(*u));
	u->stop[0] = u->stop[1] = -1;
	u->fd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (u->fd < 0) {
		snprintf(why, whylen, "no userfaultfd: %s (CONFIG_USERFAULTFD; vm.unprivileged_userfaultfd for non-root)",
			 strerror(errno));
		return MEM_SKIP;
	}
	if (ioctl(u->fd, UFFDIO_API, &api) ||
	    !(api.features & UFFD_FEATURE_PAGEFAULT_FLAG_WP)) {
		snprintf(why, whylen, "userfaultfd has no write-protect mode (v5.7)");
		goto skip;
	}
	if (ioctl(u->fd, UFFDIO_REGISTER, &reg) || ioctl(u->fd, UFFDIO_WRITEPROTECT, &wp)) {
		snprintf(why, whylen, "userfaultfd write-protect of %zu bytes: %s", len,
			 strerror(errno));
		goto skip;
	}
	if (pipe2(u->stop, O_CLOEXEC) || pthread_create(&t, NULL, uffd_wp_thread, u)) {
		snprintf(why, whylen, "userfaultfd thread: %s", strerror(errno));
		goto skip;
	}
	u->thread = (unsigned long)t;
	u->running = true;
	return MEM_OK;
skip:
	uffd_wp_disarm(u);
	return MEM_SKIP;
}

int uffd_wp_disarm(struct uffd_wp *u)
{
	if (u->running) {
		(void)!write(u->stop[1], "s", 1);
		pthread_join((pthread_t)u->thread, NULL);
		u->running = false;
	}
	if (u->stop[0] >= 0)
		close(u->stop[0]);
	if (u->stop[1] >= 0)
		close(u->stop[1]);
	if (u->fd >= 0)
		close(u->fd);
	u->fd = u->stop[0] = u->stop[1] = -1;
	return u->faults;
}
