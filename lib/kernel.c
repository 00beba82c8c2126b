// SPDX-License-Identifier: GPL-2.0-only
/*
 * Kernel facts, kernel health and journaled global state.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kernel.h"

int kernel_version(void)
{
	struct utsname u;
	int a = 0, b = 0, c = 0;

	if (uname(&u))
		return 0;
	sscanf(u.release, "%d.%d.%d", &a, &b, &c);
	return KVER(a, b, c > 255 ? 255 : c);
}

static char *config_text;
static bool config_loaded;

static char *slurp_stream(FILE *f)
{
	size_t cap = 1 << 16, n = 0, r;
	char *buf = malloc(cap + 1);

	while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap) {
			char *bigger = realloc(buf, 2 * cap + 1);

			if (!bigger) {
				free(buf);
				return NULL;
			}
			buf = bigger;
			cap *= 2;
		}
	}
	if (buf)
		buf[n] = '\0';
	return buf;
}

static void load_config(void)
{
	struct utsname u;
	char path[256];
	FILE *f;

	config_loaded = true;
	if (!access("/proc/config.gz", R_OK)) {
		f = popen("gzip -dc /proc/config.gz 2>/dev/null", "r");
		if (f) {
			config_text = slurp_stream(f);
			pclose(f);
			if (config_text && config_text[0])
				return;
			free(config_text);
			config_text = NULL;
		}
	}
	if (uname(&u))
		return;
	snprintf(path, sizeof(path), "/boot/config-%s", u.release);
	f = fopen(path, "r");
	if (!f)
		return;
	config_text = slurp_stream(f);
	fclose(f);
}

const char *kernel_config(const char *name, bool *known)
{
	static char value[128];
	char key[128];
	const char *p;
	size_t n;

	if (!config_loaded)
		load_config();
	if (known)
		*known = config_text != NULL;
	if (!config_text)
		return NULL;
	snprintf(key, sizeof(key), "\nCONFIG_%s=", name);
	p = strstr(config_text, key);
	if (!p)
		return NULL;
	p += strlen(key);
	n = strcspn(p, "\n");
	if (n >= sizeof(value))
		n = sizeof(value) - 1;
	memcpy(value, p, n);
	value[n] = '\0';
	return value;
}

const char *kernel_lockdown(void)
{
	static char mode[32];

	if (!sysfs_read_choice("/sys/kernel/security/lockdown", mode,
			       sizeof(mode)))
		return "unknown";
	return mode;
}

int sysfs_read(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return 0;
}

int sysfs_write(const char *path, const char *value)
{
	size_t len = strlen(value);
	struct statfs fs;
	ssize_t n;
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = write(fd, value, len);
	/* Plain files (lib's own tests use them as knobs) get cut to size. */
	if (n == (ssize_t)len && !fstatfs(fd, &fs) && fs.f_type != SYSFS_MAGIC &&
	    fs.f_type != PROC_SUPER_MAGIC && fs.f_type != DEBUGFS_MAGIC)
		n = ftruncate(fd, len) ? -1 : n;
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

long sysfs_read_long(const char *path)
{
	char buf[64];

	if (sysfs_read(path, buf, sizeof(buf)))
		return -1;
	return strtol(buf, NULL, 0);
}

char *sysfs_read_choice(const char *path, char *buf, size_t len)
{
	char raw[256], *open_br, *close_br;

	if (sysfs_read(path, raw, sizeof(raw)))
		return NULL;
	open_br = strchr(raw, '[');
	close_br = open_br ? strchr(open_br, ']') : NULL;
	if (!close_br)
		return NULL;
	*close_br = '\0';
	snprintf(buf, len, "%s", open_br + 1);
	return buf;
}

/* ---- kernel health ------------------------------------------------------ */

static unsigned long read_taint(void)
{
	long t = sysfs_read_long("/proc/sys/kernel/tainted");

	return t < 0 ? 0 : (unsigned long)t;
}

void health_begin(struct health *h)
{
	h->taint = read_taint();
	h->kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (h->kmsg_fd >= 0)
		lseek(h->kmsg_fd, 0, SEEK_END);
}

/* Kernel log records that mean the kernel hit a bug or a warning. */
static bool bad_record(const char *msg)
{
	static const char * const marks[] = {
		"WARNING:", "BUG:", "kernel BUG", "Oops", "general protection fault",
		"Unable to handle kernel", "RIP:", "Call Trace:", "list_add corruption",
		"list_del corruption", "UBSAN:", "KASAN:", "refcount_t:",
		"Bad page state", "Bad page map", "Bad rss-counter", "soft lockup",
		"rcu_sched self-detected stall", "hung_task",
	};
	size_t i;

	for (i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
		if (strstr(msg, marks[i]))
			return true;
	return false;
}

/*
 * The taint bit a record says one of iopin's own modules (kmod/, "iopin_*")
 * set: the kernel logs each of these once, when it sets the bit. Loading
 * them is what a test meant to do, not a sign of an unhealthy kernel.
 */
static unsigned long iopin_module_taint(const char *msg)
{
	static const struct { const char *says; int bit; } taints[] = {
		{ ": loading out-of-tree module taints kernel", 12 },	/* O */
		{ ": module verification failed", 13 },			/* E */
		{ ": tainting kernel with TAINT_LIVEPATCH", 15 },	/* K */
	};
	size_t i;

	if (strncmp(msg, "iopin_", 6))
		return 0;
	for (i = 0; i < sizeof(taints) / sizeof(taints[0]); i++)
		if (strstr(msg, taints[i].says))
			return 1UL << taints[i].bit;
	return 0;
}

/*
 * A known kernel bug that is not what any test checks: vivid's output
 * thread (vivid_thread_vid_out, Debian 6.1.192 and 6.12.118) passes a
 * negative timeout to schedule_timeout() when a frame is late, which logs
 * "schedule_timeout: wrong timeout value ..." and a stack dump of the
 * vivid-* thread. Seen in 4 of ~45 runs of gup_longterm/v4l2_pfnmap in the
 * VM, always while the host was busy (a late frame); harmless: the thread
 * just does not sleep. Its "Call Trace:" is not held against the test when the
 * records come in the order dump_stack() logs them, from a vivid-* thread:
 * the message, "CPU: ... Comm: vivid-...", on a tainted kernel (6.12 and
 * later: one of iopin's modules was loaded) "Tainted: ...", "Hardware
 * name: ...", "Call Trace:". Any other record is held against it.
 */
int health_record_bad(struct health_scan *s, const char *msg)
{
	enum health_dump was = s->dump;

	s->dump = HEALTH_NO_DUMP;
	if (!strncmp(msg, "schedule_timeout: wrong timeout value", 37)) {
		s->dump = HEALTH_VIVID_TIMEOUT;
		return 0;
	}
	if (was == HEALTH_VIVID_TIMEOUT && !strncmp(msg, "CPU: ", 5) &&
	    strstr(msg, " Comm: vivid-")) {
		s->dump = HEALTH_VIVID_TIMEOUT_CPU;
		return 0;
	}
	if (was == HEALTH_VIVID_TIMEOUT_CPU && !strncmp(msg, "Tainted: ", 9)) {
		s->dump = HEALTH_VIVID_TIMEOUT_CPU;
		return 0;
	}
	if (was == HEALTH_VIVID_TIMEOUT_CPU && !strncmp(msg, "Hardware name:", 14)) {
		s->dump = HEALTH_VIVID_TIMEOUT_HW;
		return 0;
	}
	if (was == HEALTH_VIVID_TIMEOUT_HW && !strcmp(msg, "Call Trace:"))
		return 0;
	return bad_record(msg);
}

int health_end(struct health *h, char *buf, size_t len)
{
	unsigned long taint = read_taint();
	unsigned long explained = 0;
	struct health_scan scan = { HEALTH_NO_DUMP };
	size_t used = 0;
	int bad = 0;
	char rec[2048];

	buf[0] = '\0';
	if (h->kmsg_fd >= 0) {
		for (;;) {
			ssize_t n = read(h->kmsg_fd, rec, sizeof(rec) - 1);
			char *msg;

			if (n < 0 && errno == EPIPE)
				continue;	/* overwritten records: go on */
			if (n <= 0)
				break;
			rec[n] = '\0';
			msg = strchr(rec, ';');
			msg = msg ? msg + 1 : rec;
			msg[strcspn(msg, "\n")] = '\0';
			explained |= iopin_module_taint(msg);
			if (!health_record_bad(&scan, msg))
				continue;
			bad = -1;
			if (used + 4 < len)
				used += snprintf(buf + used, len - used,
						 "kernel log: %s\n", msg);
		}
		close(h->kmsg_fd);
		h->kmsg_fd = -1;
	}
	taint &= ~explained;
	if (taint & ~h->taint) {
		bad = -1;
		if (used + 4 < len)
			snprintf(buf + used, len - used,
				 "new taint bits 0x%lx (tainted %lu -> %lu)\n",
				 taint & ~h->taint, h->taint, taint);
	}
	return bad;
}
