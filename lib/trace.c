// SPDX-License-Identifier: GPL-2.0-only
/*
 * Debugger-style access to another process's memory.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kernel.h"
#include "mem.h"
#include "trace.h"

const char *trace_route_name(enum trace_route r)
{
	static const char *const names[] = {
#define TRACE_ROUTE_NAME(id, route, name, _) [route] = name,
		TRACE_ROUTES(TRACE_ROUTE_NAME, _)
#undef TRACE_ROUTE_NAME
	};

	return (size_t)r < sizeof(names) / sizeof(names[0]) ? names[r] : "?";
}

static int open_mem(enum trace_route r, pid_t pid, int flags)
{
	char path[64];

	if (r == ROUTE_PROC_SELF_MEM)
		snprintf(path, sizeof(path), "/proc/self/mem");
	else
		snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	return open(path, flags | O_CLOEXEC);
}

static ssize_t words(bool write, pid_t pid, uintptr_t addr, void *buf,
		     size_t len)
{
	size_t i;

	if (len % sizeof(long)) {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < len; i += sizeof(long)) {
		long w;

		errno = 0;
		if (write) {
			memcpy(&w, (char *)buf + i, sizeof(w));
			if (ptrace(PTRACE_POKEDATA, pid, addr + i, w))
				return i ? (ssize_t)i : -1;
		} else {
			w = ptrace(PTRACE_PEEKDATA, pid, addr + i, NULL);
			if (errno)
				return i ? (ssize_t)i : -1;
			memcpy((char *)buf + i, &w, sizeof(w));
		}
	}
	return len;
}

static ssize_t access_mem(bool write, enum trace_route r, pid_t pid,
			  uintptr_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len }, remote = { (void *)addr, len };
	ssize_t ret;
	int fd, err;

	switch (r) {
	case ROUTE_PROC_PID_MEM:
	case ROUTE_PROC_SELF_MEM:
		fd = open_mem(r, pid, write ? O_RDWR : O_RDONLY);
		if (fd < 0)
			return -1;
		ret = write ? pwrite(fd, buf, len, addr) : pread(fd, buf, len, addr);
		err = errno;
		close(fd);
		errno = err;
		return ret;
	case ROUTE_PTRACE_WORDS:
		return words(write, pid, addr, buf, len);
	case ROUTE_PROCESS_VM:
		return write ? process_vm_writev(pid, &local, 1, &remote, 1, 0) :
			       process_vm_readv(pid, &local, 1, &remote, 1, 0);
	}
	errno = EINVAL;
	return -1;
}

ssize_t trace_read(enum trace_route r, pid_t pid, const void *addr,
		   void *buf, size_t len)
{
	return access_mem(false, r, pid, (uintptr_t)addr, buf, len);
}

ssize_t trace_write(enum trace_route r, pid_t pid, void *addr,
		    const void *buf, size_t len)
{
	return access_mem(true, r, pid, (uintptr_t)addr, (void *)buf, len);
}

int trace_attach(pid_t pid)
{
	int status;

	if (ptrace(PTRACE_SEIZE, pid, NULL, NULL) ||
	    ptrace(PTRACE_INTERRUPT, pid, NULL, NULL))
		return -1;
	for (;;) {
		if (waitpid(pid, &status, __WALL) != pid)
			return -1;
		if (WIFSTOPPED(status))
			return 0;
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			errno = ESRCH;
			return -1;
		}
	}
}

int trace_detach(pid_t pid)
{
	return ptrace(PTRACE_DETACH, pid, NULL, NULL) ? -1 : 0;
}

bool trace_is_stopped(pid_t pid)
{
	char path[64], buf[512], *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (sysfs_read(path, buf, sizeof(buf)))
		return false;
	/* "pid (comm) S ...": comm may hold spaces and parentheses. */
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] == 't';
}

bool maps_perms(pid_t pid, const void *addr, char perms[5])
{
	unsigned long a = (uintptr_t)addr, start, end;
	char path[64], line[512];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx %4s", &start, &end, perms) == 3 &&
		    a >= start && a < end)
			found = true;
	fclose(f);
	return found;
}

/* ---- tracee ------------------------------------------------------------- */

static int tracee_main(struct child *c, void *arg)
{
	struct tracee *t = arg;
	char why[256];

	if (mprotect(t->addr, t->len, t->prot))
		return child_fail("mprotect(%#x): %s", t->prot, strerror(errno));
	if (parent_go(c) || parent_await(c))
		return child_fail("lost the tracer");
	if (t->step && t->step(t) != CHILD_OK)
		return CHILD_FAIL;
	if (!t->want)
		return CHILD_OK;
	if (!(t->prot & PROT_READ) && mprotect(t->addr, t->len, PROT_READ))
		return child_fail("mprotect(PROT_READ) to look: %s", strerror(errno));
	if (!bytes_check(t->addr, t->want, t->len, why, sizeof(why)))
		return child_fail("tracee sees: %s", why);
	if (t->want_exclusive && !(pagemap_entry(t->addr) & PM_EXCLUSIVE))
		return child_fail("the written page is not exclusively the tracee's (pagemap %#llx)",
				  (unsigned long long)pagemap_entry(t->addr));
	return CHILD_OK;
}

int tracee_start(struct tracee *t)
{
	if (child_start(&t->c, tracee_main, t) || child_go(&t->c))
		return -1;
	return child_await(&t->c);
}

int tracee_finish(struct tracee *t)
{
	int rc;

	child_go(&t->c);
	rc = child_wait(&t->c);
	t->c.pid = 0;
	return rc;
}

void tracee_kill(struct tracee *t)
{
	if (t->c.pid <= 0)
		return;
	kill(t->c.pid, SIGKILL);
	child_wait(&t->c);
	t->c.pid = 0;
}

ssize_t tracee_access(struct tracee *t, enum trace_route a, bool write,
		      volatile void *addr, void *buf, size_t len, int *err)
{
	bool tracer = a == ROUTE_PROC_PID_MEM || a == ROUTE_PTRACE_WORDS;
	pid_t pid = a == ROUTE_PROC_SELF_MEM ? getpid() : t->c.pid;
	ssize_t ret;

	if (tracer && (trace_attach(pid) || !trace_is_stopped(pid))) {
		*err = errno;
		return -2;
	}
	ret = write ? trace_write(a, pid, (void *)addr, buf, len) :
		      trace_read(a, pid, (void *)addr, buf, len);
	*err = errno;
	if (tracer && trace_detach(pid))
		return -2;
	return ret;
}

/* Is prog an executable in $PATH? */
static bool in_path(const char *prog)
{
	const char *path = getenv("PATH") ?: "/usr/bin:/bin";
	char *dirs = strdup(path), *d, *save = NULL, file[512];
	bool found = false;

	for (d = strtok_r(dirs, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
		snprintf(file, sizeof(file), "%s/%s", d, prog);
		found = !access(file, X_OK);
	}
	free(dirs);
	return found;
}

int gdb_examine(pid_t pid, const void *addr, uint64_t *words, int n)
{
	char cmd[256], line[512];
	int got = 0;
	FILE *f;

	if (!in_path("gdb"))
		return -2;
	snprintf(cmd, sizeof(cmd),
		 "gdb -nx -batch -iex 'set debuginfod enabled off' -p %d -ex 'x/%dgx %p' 2>/dev/null </dev/null",
		 pid, n, addr);
	f = popen(cmd, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *end;

		/*
		 * "0xADDR:\t0xWORD\t0xWORD", maybe "0xADDR <sym>:"; not the
		 * "0xPC in read () at file.c:26" gdb prints on attaching.
		 */
		if (strncmp(p, "0x", 2))
			continue;
		strtoull(p, &p, 16);
		if (*p == ' ' && p[1] == '<' && (end = strchr(p, '>')))
			p = end + 1;
		if (*p != ':')
			continue;
		for (p++; got < n; p = end) {
			unsigned long long w;

			while (*p == ' ' || *p == '\t')
				p++;
			w = strtoull(p, &end, 16);
			if (end == p)
				break;
			words[got++] = w;
		}
	}
	pclose(f);
	return got;
}

/* ---- proc_mem.force_override -------------------------------------------- */

const char *proc_mem_force_name(enum proc_mem_force f)
{
	return f == FORCE_ALWAYS ? "always" : f == FORCE_PTRACE ? "ptrace" : "never";
}

bool proc_mem_forces(enum proc_mem_force f, bool attached_tracer)
{
	return f == FORCE_ALWAYS || (f == FORCE_PTRACE && attached_tracer);
}

static int probe_child(struct child *c, void *arg)
{
	(void)arg;
	parent_go(c);
	parent_await(c);
	return CHILD_OK;
}

/*
 * Write to a PROT_READ private page of our own through /proc/self/mem,
 * then through /proc/CHILD/mem as its attached tracer.
 */
static enum proc_mem_force probe_mode(char *how, size_t len)
{
	size_t ps = page_size();
	char *p = mmap(NULL, ps, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	enum proc_mem_force f = FORCE_NEVER;
	struct child c;
	char byte = 1;

	if (p == MAP_FAILED) {
		snprintf(how, len, "probe failed (mmap), assuming always");
		return FORCE_ALWAYS;
	}
	if (access_mem(true, ROUTE_PROC_SELF_MEM, 0, (uintptr_t)p, &byte, 1) == 1) {
		f = FORCE_ALWAYS;
	} else if (!child_start(&c, probe_child, NULL) && !child_go(&c) &&
		   !child_await(&c)) {
		if (!trace_attach(c.pid)) {
			if (access_mem(true, ROUTE_PROC_PID_MEM, c.pid,
				       (uintptr_t)p, &byte, 1) == 1)
				f = FORCE_PTRACE;
			trace_detach(c.pid);
		}
		child_go(&c);
		child_wait(&c);
	}
	munmap(p, ps);
	snprintf(how, len, "behaviour probe (no proc_mem.force_override= on the command line, no kernel config)");
	return f;
}

enum proc_mem_force proc_mem_force_mode(char *how, size_t len)
{
	static const struct {
		const char *name, *config;
		enum proc_mem_force f;
	} modes[] = {
		{ "always", "PROC_MEM_ALWAYS_FORCE", FORCE_ALWAYS },
		{ "ptrace", "PROC_MEM_FORCE_PTRACE", FORCE_PTRACE },
		{ "never", "PROC_MEM_NO_FORCE", FORCE_NEVER },
	};
	const char *key = "proc_mem.force_override=", *p;
	char cmdline[4096];
	bool known = false, any = false;
	size_t i;

	if (!sysfs_read("/proc/cmdline", cmdline, sizeof(cmdline)) &&
	    (p = strstr(cmdline, key))) {
		p += strlen(key);
		for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
			if (!strncmp(p, modes[i].name, strlen(modes[i].name))) {
				snprintf(how, len, "kernel command line %s%s", key,
					 modes[i].name);
				return modes[i].f;
			}
	}
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (kernel_config(modes[i].config, &known)) {
			snprintf(how, len, "CONFIG_%s=y", modes[i].config);
			return modes[i].f;
		}
		any |= known;
	}
	if (any) {
		/* A config without any PROC_MEM_* choice: a kernel without 41e8149c8892. */
		snprintf(how, len, "kernel config has no CONFIG_PROC_MEM_* (kernel without the knob: always forces)");
		return FORCE_ALWAYS;
	}
	return probe_mode(how, len);
}

/* ---- results ------------------------------------------------------------ */

static bool fault_injected(void)
{
	const char *f = getenv("IOPIN_SELFTEST_FAULT");

	return f && !strcmp(f, "verify");
}

bool errno_check(long ret, int err, int want_errno, char *why, size_t len)
{
	bool ok = ret < 0 && err == want_errno;

	if (ret >= 0)
		snprintf(why, len, "returned %ld, expected failure with %s",
			 ret, strerrorname_np(want_errno) ?: "?");
	else
		snprintf(why, len, "failed with %s, expected %s",
			 strerrorname_np(err) ?: "?",
			 strerrorname_np(want_errno) ?: "?");
	if (fault_injected()) {
		snprintf(why, len, "self-test fault injected: the errno check is inverted");
		return !ok;
	}
	return ok;
}

bool count_check(long ret, int err, long want, char *why, size_t len)
{
	bool ok = ret == want;

	if (ret < 0)
		snprintf(why, len, "failed with %s, expected %ld bytes",
			 strerrorname_np(err) ?: "?", want);
	else
		snprintf(why, len, "transferred %ld bytes, expected %ld", ret, want);
	if (fault_injected()) {
		snprintf(why, len, "self-test fault injected: the count check is inverted");
		return !ok;
	}
	return ok;
}
