// SPDX-License-Identifier: GPL-2.0-only
/*
 * Journaled global state: the keeper that puts back what tests change,
 * and iopin's own modules. Every record belongs to a row of the state
 * registry (kstate_rows.c), which prints what run_tests.sh compares.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kernel.h"
#include "kstate.h"

/* ---- the journal ------------------------------------------------------ */

#define KSTATE_MAX	64

enum kstate_kind {
	KSTATE_KNOB,		/* path = sysfs/procfs file, value = original */
	KSTATE_BINDING,		/* path = device dir in /sys/bus/X/devices, value = driver
				   ("": none), extra = driver_override ("": no such file) */
	KSTATE_PCI_PRESENT,	/* path = BDF: rescan the bus if it is gone */
	KSTATE_SWAPFILE,	/* path = our swap file: swapoff and unlink it */
	KSTATE_MODULE,		/* path = module name: unload it; first write extra to
				   value (a file) if value is set */
};

struct kstate_entry {
	int kind;
	int row;		/* enum kstate_row; -1: no global state (a self-test file) */
	char path[256];
	char value[256];
	char extra[64];
};

static int kstate_pipe = -1;	/* our end: journal records */
static int kstate_ack = -1;	/* keeper's end: acks */
static pid_t kstate_keeper;

const char *kstate_lock_path(void)
{
	const char *p = getenv("IOPIN_STATE_LOCK");

	return p && *p ? p : "/run/iopin-state.lock";
}

char *kstate_driver_of(const char *dev, char *buf, size_t len)
{
	char link[300], target[512];
	ssize_t n;

	snprintf(link, sizeof(link), "%s/driver", dev);
	n = readlink(link, target, sizeof(target) - 1);
	buf[0] = '\0';
	if (n > 0) {
		const char *name;
		size_t l;

		target[n] = '\0';
		name = strrchr(target, '/') ? strrchr(target, '/') + 1 : target;
		l = strnlen(name, len - 1);
		memcpy(buf, name, l);
		buf[l] = '\0';
	}
	return buf;
}

/*
 * Put the binding of a device back: unbind whatever holds it, bind the
 * original driver (driver_override + drivers_probe where the bus has it,
 * else the driver's bind file), restore driver_override.
 */
static int restore_binding(const struct kstate_entry *e)
{
	char path[1024], bus[300], cur[64], *devs;
	const char *name = strrchr(e->path, '/') + 1;
	bool override;
	int rc = 0;

	snprintf(bus, sizeof(bus), "%s", e->path);
	devs = strstr(bus, "/devices/");
	if (!devs)
		return -1;
	*devs = '\0';
	snprintf(path, sizeof(path), "%s/driver_override", e->path);
	override = !access(path, F_OK);
	kstate_driver_of(e->path, cur, sizeof(cur));
	if (strcmp(cur, e->value)) {
		if (cur[0]) {
			snprintf(path, sizeof(path), "%s/driver/unbind", e->path);
			rc |= sysfs_write(path, name);
		}
		if (e->value[0] && override) {
			snprintf(path, sizeof(path), "%s/driver_override", e->path);
			rc |= sysfs_write(path, e->value);
			snprintf(path, sizeof(path), "%s/drivers_probe", bus);
			rc |= sysfs_write(path, name);
		} else if (e->value[0]) {
			snprintf(path, sizeof(path), "%s/drivers/%s/bind", bus, e->value);
			rc |= sysfs_write(path, name);
		}
	}
	if (override) {
		snprintf(path, sizeof(path), "%s/driver_override", e->path);
		/* "(null)" is how sysfs shows no override; a lone newline clears it. */
		rc |= sysfs_write(path, strcmp(e->extra, "(null)") && e->extra[0] ?
				  e->extra : "\n");
	}
	return rc;
}

/*
 * Unload module name, waiting up to 30 s while it is busy (a held task, a
 * livepatch transition). A task that held a reference (iopin_gate's held
 * task) still runs a few instructions of the module after it dropped it:
 * once the count is 0, a short pause before the unload lets it return.
 */
static int unload_module(const char *name)
{
	char path[320], refs[16];
	int i;

	snprintf(path, sizeof(path), "/sys/module/%s/refcnt", name);
	for (i = 0; i < 600; i++) {
		if (sysfs_read(path, refs, sizeof(refs)) || strcmp(refs, "0")) {
			if (access(path, F_OK))
				return 0;	/* gone (or never loaded) */
			usleep(50000);
			continue;
		}
		usleep(100000);
		if (!syscall(SYS_delete_module, name, O_NONBLOCK) || errno == ENOENT)
			return 0;
		if (errno != EBUSY && errno != EAGAIN)
			return -1;
		usleep(50000);
	}
	return -1;
}

static int restore_one(const struct kstate_entry *e)
{
	char path[320];

	switch (e->kind) {
	case KSTATE_BINDING:
		return restore_binding(e);
	case KSTATE_PCI_PRESENT:
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", e->path);
		if (!access(path, F_OK))
			return 0;
		return sysfs_write("/sys/bus/pci/rescan", "1");
	case KSTATE_SWAPFILE:
		if (swapoff(e->path) && errno != EINVAL)
			return -1;
		return unlink(e->path);
	case KSTATE_MODULE:
		if (e->value[0] && !access(e->value, F_OK))
			sysfs_write(e->value, e->extra);
		return unload_module(e->path);
	default:
		return sysfs_write(e->path, e->value);
	}
}

/* Restore e[0..n), newest first. */
static void keeper_restore(struct kstate_entry *e, int n)
{
	while (n-- > 0) {
		if (kstate_selftest_leak(e[n].row)) {
			fprintf(stderr, "# iopin: self-test: %s left as the test left it (IOPIN_SELFTEST_LEAK)\n",
				e[n].path);
			continue;
		}
		if (restore_one(&e[n]))
			fprintf(stderr, "# iopin: could not restore %s to '%s': %s\n",
				e[n].path, e[n].value, strerror(errno));
	}
}

/*
 * The keeper: reads fixed-size records until EOF, then restores. A record
 * with an empty path means "restore now and ack", used by kstate_restore().
 */
static void keeper_main(int in, int ack, int lock_fd)
{
	struct kstate_entry e[KSTATE_MAX], rec;
	int n = 0;
	char c = 'k';

	if (write(ack, &c, 1) != 1)
		_exit(1);
	for (;;) {
		ssize_t r = read(in, &rec, sizeof(rec));

		if (r != (ssize_t)sizeof(rec))
			break;
		if (!rec.path[0]) {
			keeper_restore(e, n);
			n = 0;
			if (write(ack, &c, 1) != 1)
				break;
			continue;
		}
		if (n < KSTATE_MAX)
			e[n++] = rec;
		else
			fprintf(stderr, "# iopin: kstate journal full: %s will not be restored\n",
				rec.path);
	}
	keeper_restore(e, n);
	flock(lock_fd, LOCK_UN);
	_exit(0);
}

/*
 * Open (create) the lock without following a link, and only as our own
 * plain file in a directory that others cannot write, or that is sticky: a
 * name planted in /tmp by another user (link, FIFO, their file) is refused.
 */
static int kstate_lock_open(void)
{
	const char *path = kstate_lock_path();
	char dir[256], *slash;
	struct stat st;
	int fd;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else
		slash[slash == dir] = '\0';
	if (stat(dir, &st))
		return -1;
	if ((st.st_uid && st.st_uid != geteuid()) ||
	    ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)))
		goto refuse;
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (!fstat(fd, &st) && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
	    st.st_nlink == 1)
		return fd;
	close(fd);
refuse:
	fprintf(stderr, "# iopin: refusing state lock %s: not our own file in a safe directory\n",
		path);
	errno = EPERM;
	return -1;
}

void kstate_wait_restored(void)
{
	struct stat st;
	int fd = open(kstate_lock_path(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return;
	if (!fstat(fd, &st) && S_ISREG(st.st_mode))
		while (flock(fd, LOCK_SH) && errno == EINTR)
			;
	close(fd);
}

/*
 * The keeper holds none of the test's files: a socket in a private network
 * namespace would keep the namespace (and the rxe link in it) alive, a
 * device file the device it should unbind. Standard error stays,
 * for its messages, and so do its pipes and lock.
 */
static void keep_only_fds(int a, int b, int c)
{
	int fds[256], n, fd;
	struct dirent *de;
	DIR *d;

	do {
		d = opendir("/proc/self/fd");
		if (!d)
			return;
		n = 0;
		while ((de = readdir(d)) && n < (int)(sizeof(fds) / sizeof(fds[0]))) {
			fd = atoi(de->d_name);
			if (de->d_name[0] != '.' && fd > 2 && fd != a && fd != b &&
			    fd != c && fd != dirfd(d))
				fds[n++] = fd;
		}
		closedir(d);
		for (fd = 0; fd < n; fd++)
			close(fds[fd]);
	} while (n == (int)(sizeof(fds) / sizeof(fds[0])));
}

static int kstate_start(void)
{
	int to_keeper[2], from_keeper[2], lock_fd;
	char c;
	pid_t pid;

	lock_fd = kstate_lock_open();
	if (lock_fd < 0)
		return -1;
	if (pipe2(to_keeper, O_CLOEXEC) || pipe2(from_keeper, O_CLOEXEC)) {
		close(lock_fd);
		return -1;
	}
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		sigset_t all;

		/* Out of the test's process group: survive its SIGKILL. */
		setpgid(0, 0);
		signal(SIGINT, SIG_IGN);
		signal(SIGTERM, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		sigfillset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		close(to_keeper[1]);
		close(from_keeper[0]);
		keep_only_fds(to_keeper[0], from_keeper[1], lock_fd);
		/* Wait for the previous keeper to finish its restore. */
		while (flock(lock_fd, LOCK_EX) && errno == EINTR)
			;
		/* Double fork so nobody must reap us. */
		if (fork() > 0)
			_exit(0);
		keeper_main(to_keeper[0], from_keeper[1], lock_fd);
	}
	close(to_keeper[0]);
	close(from_keeper[1]);
	close(lock_fd);
	waitpid(pid, NULL, 0);
	kstate_pipe = to_keeper[1];
	kstate_ack = from_keeper[0];
	kstate_keeper = pid;
	if (read(kstate_ack, &c, 1) != 1) {
		close(kstate_pipe);
		close(kstate_ack);
		kstate_pipe = kstate_ack = -1;
		return -1;
	}
	return 0;
}

int kstate_write(const char *path, const char *value)
{
	struct kstate_entry rec = { .kind = KSTATE_KNOB, .row = kstate_knob_row(path) };
	char old[sizeof(rec.value)];

	if (rec.row == -2 || sysfs_read(path, old, sizeof(old)))
		return -1;
	if (kstate_pipe < 0 && kstate_start())
		return -1;
	/* Bracketed choices ("always [madvise] never") restore by name. */
	if (strchr(old, '[')) {
		if (!sysfs_read_choice(path, old, sizeof(old)))
			return -1;
	}
	snprintf(rec.path, sizeof(rec.path), "%s", path);
	snprintf(rec.value, sizeof(rec.value), "%s", old);
	if (write(kstate_pipe, &rec, sizeof(rec)) != (ssize_t)sizeof(rec))
		return -1;
	return sysfs_write(path, value);
}

static int kstate_journal(const struct kstate_entry *rec)
{
	if (rec->row < 0)
		return -1;
	if (kstate_pipe < 0 && kstate_start())
		return -1;
	return write(kstate_pipe, rec, sizeof(*rec)) == (ssize_t)sizeof(*rec) ? 0 : -1;
}

int kstate_binding(const char *dev)
{
	struct kstate_entry rec = { .kind = KSTATE_BINDING };
	char path[320];

	if (!strstr(dev, "/devices/") || access(dev, F_OK))
		return -1;
	snprintf(path, sizeof(path), "%s/driver_override", dev);
	if (!access(path, F_OK) && sysfs_read(path, rec.extra, sizeof(rec.extra)))
		return -1;
	snprintf(rec.path, sizeof(rec.path), "%s", dev);
	kstate_driver_of(dev, rec.value, sizeof(rec.value));
	rec.row = kstate_device_row(dev);
	return kstate_journal(&rec);
}

int kstate_pci_binding(const char *bdf)
{
	char dev[300];

	snprintf(dev, sizeof(dev), "/sys/bus/pci/devices/%s", bdf);
	return kstate_binding(dev);
}

int kstate_pci_present(const char *bdf)
{
	struct kstate_entry rec = { .kind = KSTATE_PCI_PRESENT, .row = KSTATE_ROW_PCI };

	snprintf(rec.path, sizeof(rec.path), "%s", bdf);
	return kstate_journal(&rec);
}

int kstate_swapfile(const char *path)
{
	struct kstate_entry rec = { .kind = KSTATE_SWAPFILE, .row = KSTATE_ROW_SWAP };

	snprintf(rec.path, sizeof(rec.path), "%s", path);
	return kstate_journal(&rec);
}

/* ---- iopin's own modules ----------------------------------------------- */

const char *kmod_dir(char *buf, size_t len)
{
	const char *dir = getenv("IOPIN_KMOD_DIR");
	struct utsname u;

	if (dir && *dir)
		snprintf(buf, len, "%s", dir);
	else if (!uname(&u))
		snprintf(buf, len, "/lib/modules/%s/iopin", u.release);
	else
		snprintf(buf, len, "/lib/modules/(unknown)/iopin");
	return buf;
}

int kmod_load(const char *name, const char *params, const char *before_unload,
	      const char *value, char *why, size_t len)
{
	struct kstate_entry rec = { .kind = KSTATE_MODULE, .row = KSTATE_ROW_MODULE };
	char dir[256], file[320], modpath[320];
	const char *lockdown;
	bool known;
	int fd, err;

	/* The state registry compares these modules only. */
	if (strncmp(name, KMOD_PREFIX, strlen(KMOD_PREFIX))) {
		snprintf(why, len, "%s is not one of iopin's modules (" KMOD_PREFIX "*)", name);
		return -1;
	}
	if (access("/proc/modules", F_OK)) {
		snprintf(why, len, "kernel without loadable modules (no /proc/modules): %s.ko cannot be loaded",
			 name);
		return 1;
	}
	if (!kernel_config("KPROBES", &known) && known) {
		snprintf(why, len, "kernel without CONFIG_KPROBES: %s.ko cannot work", name);
		return 1;
	}
	snprintf(file, sizeof(file), "%s/%s.ko", kmod_dir(dir, sizeof(dir)), name);
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && getenv("IOPIN_KMOD_NOTE")) {
		/* The VM says why it has none: "none (a bzImage: ...)". */
		snprintf(why, len, "no %s (%s): the VM's iopin modules: %s", file,
			 strerror(errno), getenv("IOPIN_KMOD_NOTE"));
		return 1;
	}
	if (fd < 0) {
		snprintf(why, len, "no %s (%s): iopin builds kmod/ for Debian's packaged kernels in the VM; elsewhere set IOPIN_KMOD_DIR to a build of kmod/ for this kernel",
			 file, strerror(errno));
		return 1;
	}
	snprintf(modpath, sizeof(modpath), "/sys/module/%s", name);
	if (!access(modpath, F_OK)) {
		close(fd);
		snprintf(why, len, "%s is loaded already (an earlier test did not unload it)", name);
		return -1;
	}
	/* Journaled first: a test killed right after the load still unloads it. */
	snprintf(rec.path, sizeof(rec.path), "%s", name);
	if (before_unload) {
		snprintf(rec.value, sizeof(rec.value), "%s", before_unload);
		snprintf(rec.extra, sizeof(rec.extra), "%s", value);
	}
	if (kstate_journal(&rec)) {
		close(fd);
		snprintf(why, len, "cannot journal the unload of %s", name);
		return -1;
	}
	if (!syscall(SYS_finit_module, fd, params ? params : "", 0)) {
		close(fd);
		return 0;
	}
	err = errno;
	close(fd);
	lockdown = kernel_lockdown();
	if (err == EPERM && strcmp(lockdown, "none") && strcmp(lockdown, "unknown")) {
		snprintf(why, len, "lockdown=%s refuses %s", lockdown, file);
		return 1;
	}
	if (err == EKEYREJECTED || (err == EPERM && !access("/sys/module/module/parameters/sig_enforce", F_OK))) {
		char sig[8] = "";

		sysfs_read("/sys/module/module/parameters/sig_enforce", sig, sizeof(sig));
		if (err == EKEYREJECTED || sig[0] == 'Y') {
			snprintf(why, len, "module signatures are enforced: unsigned %s refused", file);
			return 1;
		}
	}
	snprintf(why, len, "finit_module(%s): %s", file, strerror(err));
	return -1;
}

void kstate_restore(void)
{
	struct kstate_entry rec = { 0 };
	char c;

	if (kstate_pipe < 0)
		return;
	if (write(kstate_pipe, &rec, sizeof(rec)) == (ssize_t)sizeof(rec))
		(void)!read(kstate_ack, &c, 1);
}

