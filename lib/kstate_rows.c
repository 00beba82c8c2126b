// SPDX-License-Identifier: GPL-2.0-only
/*
 * The state registry: one row per kind of global state a test may change.
 * A row prints its state (kstate_print(), what run_tests.sh compares around
 * each binary through lib/iopin-hold --print-state) and says which journal
 * records (kstate.c) belong to it: the keeper and the runner read one list.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fnmatch.h>
#include <glob.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernel.h"
#include "kstate.h"

#define THP_DIR		"/sys/kernel/mm/transparent_hugepage"

/*
 * One row per kind of global state. files: globs of the row's knob files,
 * printed "path=value" and the only /sys or /proc files kstate_write()
 * accepts for the row; prefix: where the row's devices (bindings, gone
 * files) live; print: the rest of the row's state.
 */
struct kstate_row_desc {
	const char *name;
	const char *const *files;
	const char *prefix;
	void (*print)(FILE *f);
};

static void print_glob(FILE *f, const char *pattern,
		       void (*one)(FILE *f, const char *path))
{
	glob_t g;
	size_t i;

	if (glob(pattern, 0, NULL, &g))
		return;
	for (i = 0; i < g.gl_pathc; i++)
		one(f, g.gl_pathv[i]);
	globfree(&g);
}

static void print_knob(FILE *f, const char *path)
{
	char buf[1024];

	if (!access(path, R_OK) && !sysfs_read(path, buf, sizeof(buf)))
		fprintf(f, "%s=%s\n", path, buf);
}

static void print_pci_binding(FILE *f, const char *dev)
{
	char path[320], drv[64], over[64] = "";

	snprintf(path, sizeof(path), "%s/driver_override", dev);
	if (access(path, F_OK))
		return;
	sysfs_read(path, over, sizeof(over));
	fprintf(f, "%s: driver=%s override=%s\n", dev, kstate_driver_of(dev, drv, sizeof(drv)), over);
}

static void print_pci(FILE *f)
{
	print_glob(f, "/sys/bus/pci/devices/*", print_pci_binding);
}

static void print_nd_binding(FILE *f, const char *dev)
{
	char path[320], drv[64];

	snprintf(path, sizeof(path), "%s/uevent", dev);
	if (!access(path, F_OK))
		fprintf(f, "%s: driver=%s\n", dev, kstate_driver_of(dev, drv, sizeof(drv)));
}

static void print_nd(FILE *f)
{
	print_glob(f, "/sys/bus/nd/devices/*", print_nd_binding);
}

static void print_swap(FILE *f)
{
	char line[1024], name[1024];
	FILE *s = fopen("/proc/swaps", "re");

	if (!s)
		return;
	if (fgets(line, sizeof(line), s))	/* the header */
		while (fgets(line, sizeof(line), s))
			if (sscanf(line, "%1023s", name) == 1)
				fprintf(f, "swap: %s\n", name);
	fclose(s);
}

static void print_module(FILE *f, const char *dir)
{
	char pattern[320];

	fprintf(f, "module: %s\n", strrchr(dir, '/') + 1);
	snprintf(pattern, sizeof(pattern), "%s/parameters/*", dir);
	print_glob(f, pattern, print_knob);
}

static void print_modules(FILE *f)
{
	print_glob(f, "/sys/module/" KMOD_PREFIX "*", print_module);
}

static void print_name(FILE *f, const char *path)
{
	fprintf(f, "%s\n", path);
}

/*
 * Is there an rxe link of lib/rdma.c's (iopin_rxe<pid>_<n>) whose process
 * is gone? The kernel removes it with that process's private network
 * namespace, asynchronously.
 */
static bool rxe_of_a_gone_process(void)
{
	bool found = false;
	glob_t g;
	size_t i;
	int pid;

	if (glob("/sys/class/infiniband/" RXE_PREFIX "*", 0, NULL, &g))
		return false;
	for (i = 0; i < g.gl_pathc && !found; i++)
		if (sscanf(strrchr(g.gl_pathv[i], '/') + 1, RXE_PREFIX "%d_", &pid) == 1 &&
		    pid > 0 && kill(pid, 0) && errno == ESRCH)
			found = true;
	globfree(&g);
	return found;
}

/*
 * RDMA devices. Waits (up to 30 s) for the rxe links of processes that
 * are gone to go, so that what is printed is no teardown half done; one
 * still there then is printed like any other: a leak.
 */
static void print_rdma(FILE *f)
{
	int i;

	for (i = 0; i < 600 && rxe_of_a_gone_process(); i++)
		usleep(50000);
	print_glob(f, "/sys/class/infiniband/*", print_name);
}

static const char *const thp_files[] = {
	THP_DIR "/enabled", THP_DIR "/defrag", THP_DIR "/use_zero_page",
	THP_DIR "/shmem_enabled", THP_DIR "/hugepages-*/enabled", NULL
};
static const char *const hugetlb_files[] = {
	"/sys/kernel/mm/hugepages/hugepages-*/nr_hugepages", NULL
};
static const char *const module_files[] = {
	"/sys/kernel/livepatch/" KMOD_PREFIX "*/enabled", NULL
};

static const struct kstate_row_desc kstate_rows[KSTATE_ROWS] = {
	[KSTATE_ROW_THP]	= { .name = "thp", .files = thp_files },
	[KSTATE_ROW_HUGETLB]	= { .name = "hugetlb", .files = hugetlb_files },
	[KSTATE_ROW_PCI]	= { .name = "pci", .prefix = "/sys/bus/pci/devices/",
				    .print = print_pci },
	[KSTATE_ROW_ND]		= { .name = "nd", .prefix = "/sys/bus/nd/devices/",
				    .print = print_nd },
	[KSTATE_ROW_SWAP]	= { .name = "swap", .print = print_swap },
	[KSTATE_ROW_MODULE]	= { .name = "module", .files = module_files,
				    .print = print_modules },
	[KSTATE_ROW_RDMA]	= { .name = "rdma", .print = print_rdma },
};

const char *kstate_row_name(enum kstate_row row)
{
	return row < KSTATE_ROWS ? kstate_rows[row].name : "none";
}

void kstate_print(FILE *f)
{
	const char *const *p;
	int r;

	for (r = 0; r < KSTATE_ROWS; r++) {
		for (p = kstate_rows[r].files; p && *p; p++)
			print_glob(f, *p, print_knob);
		if (kstate_rows[r].print)
			kstate_rows[r].print(f);
	}
}

/*
 * The row of a knob file: global state lives in /sys and /proc, and each
 * file there must be one a row prints. -1 for a file elsewhere (lib's
 * self-test journals its own files); -2, and a message, for a global file
 * that no row knows: the runner would not see it leak.
 */
int kstate_knob_row(const char *path)
{
	const char *const *p;
	int r;

	if (strncmp(path, "/sys/", 5) && strncmp(path, "/proc/", 6))
		return -1;
	for (r = 0; r < KSTATE_ROWS; r++)
		for (p = kstate_rows[r].files; p && *p; p++)
			if (!fnmatch(*p, path, FNM_PATHNAME))
				return r;
	fprintf(stderr, "# iopin: %s is in no row of the state registry (lib/kstate.c): refused\n",
		path);
	errno = EINVAL;
	return -2;
}

/* The row whose devices live under path's directory; -2 (and a message) if none. */
int kstate_device_row(const char *path)
{
	int r;

	for (r = 0; r < KSTATE_ROWS; r++)
		if (kstate_rows[r].prefix &&
		    !strncmp(path, kstate_rows[r].prefix, strlen(kstate_rows[r].prefix)))
			return r;
	fprintf(stderr, "# iopin: %s is in no row of the state registry (lib/kstate.c): refused\n",
		path);
	errno = EINVAL;
	return -2;
}

/* Does IOPIN_SELFTEST_LEAK name row? */
bool kstate_selftest_leak(int row)
{
	const char *list = getenv("IOPIN_SELFTEST_LEAK");
	const char *name;
	size_t l;

	if (!list || row < 0)
		return false;
	name = kstate_row_name(row);
	l = strlen(name);
	for (; *list; list += strcspn(list, ","), list += *list == ',')
		if (!strncmp(list, name, l) && (list[l] == ',' || !list[l]))
			return true;
	return false;
}
