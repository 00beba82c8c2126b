// SPDX-License-Identifier: GPL-2.0-only
/*
 * iopin-hold: hold global state for a whole run of the suite.
 *
 *	iopin-hold hugetlb | hugetlb:KB:N ...
 *	iopin-hold --print-state
 *
 * --print-state prints the global state that each binary must leave as
 * it found it, from lib's state registry (kstate_print()), once no keeper
 * holds the state lock: run_tests.sh compares it around each binary, and
 * the keeper restores what it covers.
 *
 * "hugetlb" stands for HUGETLB_POOL_PAGES of every size the kernel has.
 * Makes sure N hugetlb pages of KB are free (raising nr_hugepages through
 * lib's kstate journal), prints one line per request ("ok ..." or
 * "skip <why>") and "ready", then waits until its standard input is
 * closed and puts every value back. The keeper restores also when this
 * program is killed, so a killed run leaves nothing changed.
 *
 * Why: reserving and releasing gigantic pages around every test makes
 * their allocation a matter of luck (fragmentation, load on the machine),
 * and hands the pages back to the buddy allocator between tests. Held for
 * the run, every test finds its pages free and the pool never changes.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernel.h"
#include "mem.h"

/* MemAvailable in kB, or -1. */
static long mem_available_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return -1;
	while (kb < 0 && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %ld kB", &kb) != 1)
			kb = -1;
	fclose(f);
	return kb;
}

static void hold_hugetlb(unsigned long kb, long n)
{
	char why[256];
	long avail = mem_available_kb();

	/* Leave the machine at least as much as we take. */
	if (avail >= 0 && (unsigned long)avail < 2 * kb * n) {
		printf("skip hugetlb %lukB x%ld: only %ld kB available\n", kb, n, avail);
		return;
	}
	if (hugetlb_reserve(kb, n, why, sizeof(why)) == MEM_OK)
		printf("ok hugetlb %lukB x%ld free\n", kb, n);
	else
		printf("skip hugetlb %lukB x%ld: %s\n", kb, n, why);
}

static void hold_every_hugetlb_size(void)
{
	DIR *d = opendir("/sys/kernel/mm/hugepages");
	struct dirent *de;
	unsigned long kb;

	if (!d)
		return;
	while ((de = readdir(d)))
		if (sscanf(de->d_name, "hugepages-%lukB", &kb) == 1)
			hold_hugetlb(kb, HUGETLB_POOL_PAGES);
	closedir(d);
}

int main(int argc, char **argv)
{
	char buf[256];
	int i;

	if (argc == 2 && !strcmp(argv[1], "--print-state")) {
		kstate_wait_restored();
		kstate_print(stdout);
		return fflush(stdout) ? 1 : 0;
	}
	for (i = 1; i < argc; i++) {
		unsigned long kb;
		long n;

		if (!strcmp(argv[i], "hugetlb")) {
			hold_every_hugetlb_size();
			continue;
		}
		if (sscanf(argv[i], "hugetlb:%lu:%ld", &kb, &n) != 2 || !kb || n < 1) {
			fprintf(stderr, "iopin-hold: bad request '%s' (want hugetlb, hugetlb:KB:N or --print-state)\n",
				argv[i]);
			return 2;
		}
		hold_hugetlb(kb, n);
	}
	printf("ready\n");
	fflush(stdout);
	while (read(STDIN_FILENO, buf, sizeof(buf)) > 0)
		;
	kstate_restore();
	return 0;
}
