// SPDX-License-Identifier: GPL-2.0-only
/*
 * Child processes that take turns with their parent.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "task.h"

static int send_token(int fd)
{
	return write(fd, "t", 1) == 1 ? 0 : -1;
}

static int recv_token(int fd)
{
	char t;

	return read(fd, &t, 1) == 1 ? 0 : -1;
}

int child_start(struct child *c, child_fn fn, void *arg)
{
	if (pipe2(c->to_child, O_CLOEXEC) || pipe2(c->to_parent, O_CLOEXEC))
		return -1;
	fflush(stdout);
	fflush(stderr);
	c->pid = fork();
	if (c->pid < 0)
		return -1;
	if (!c->pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(c->to_child[1]);
		close(c->to_parent[0]);
		if (parent_await(c))
			_exit(CHILD_NOT_STARTED);
		_exit(fn(c, arg));
	}
	close(c->to_child[0]);
	close(c->to_parent[1]);
	return 0;
}

int child_go(struct child *c)
{
	return send_token(c->to_child[1]);
}

int child_await(struct child *c)
{
	return recv_token(c->to_parent[0]);
}

int parent_await(struct child *c)
{
	return recv_token(c->to_child[0]);
}

int parent_go(struct child *c)
{
	return send_token(c->to_parent[1]);
}

int child_wait(struct child *c)
{
	int status;

	close(c->to_child[1]);
	close(c->to_parent[0]);
	if (waitpid(c->pid, &status, 0) != c->pid)
		return -1;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

long race_ms(void)
{
	const char *e = getenv("IOPIN_RACE_MS");

	return e && atol(e) > 0 ? atol(e) : 300;
}

long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

bool proc_has_cap(int cap)
{
	unsigned long long eff = 0;
	char line[256];
	bool found = false;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, "CapEff: %llx", &eff) == 1;
	fclose(f);
	return found && cap >= 0 && cap < 64 && (eff >> cap) & 1;
}

int child_fail(const char *fmt, ...)
{
	va_list ap;

	printf("# child %d: ", getpid());
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	return CHILD_FAIL;
}
