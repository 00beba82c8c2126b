// SPDX-License-Identifier: GPL-2.0-only
/*
 * iomem: the environment (VM, --pci, --allow-destructive) and the iomem
 * requirements of tests (iomem_unmet()). Devices and picking: iomem-pci.c;
 * binding: iomem-bind.c; /proc/iomem and mapping routes: iomem-map.c; the
 * fault-safe access probe: iomem-access.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iomem-int.h"
#include "kernel.h"
#include "needs.h"

bool iomem_env_is(const char *name, const char *value)
{
	const char *v = getenv(name);

	return v && !strcmp(v, value);
}

bool iomem_in_vm(void)
{
	return iomem_env_is("IOPIN_VM", "1");
}

bool iomem_destructive_allowed(void)
{
	return iomem_in_vm() || iomem_env_is("IOPIN_ALLOW_DESTRUCTIVE", "1");
}

const char *iomem_named_bdf(void)
{
	const char *b = getenv("IOPIN_PCI_BDF");

	return b && *b ? b : NULL;
}

/* ---- requirements ----------------------------------------------------------- */

static bool cmdline_has(const char *word)
{
	char buf[4096], *p;
	size_t n = strlen(word);

	if (sysfs_read("/proc/cmdline", buf, sizeof(buf)))
		return false;
	for (p = buf; (p = strstr(p, word)); p += n)
		if ((p == buf || p[-1] == ' ') && (!p[n] || p[n] == ' '))
			return true;
	return false;
}

static bool locked_down(char *why, size_t len)
{
	const char *l = kernel_lockdown();

	if (!strcmp(l, "none") || !strcmp(l, "unknown"))
		return false;
	snprintf(why, len, "kernel lockdown is '%s': it forbids /dev/mem and PCI BAR mmap", l);
	return true;
}

bool iomem_unmet(unsigned int needs, char *why, size_t len)
{
	bool known;
	const char *c;
	int fd;

	if ((needs & (NEEDS_DEVMEM | NEEDS_PCI_DEVICE)) && geteuid()) {
		snprintf(why, len, "needs root (CAP_SYS_RAWIO, CAP_SYS_ADMIN)");
		return true;
	}
	if (needs & NEEDS_DEVMEM) {
		if (access("/dev/mem", F_OK)) {
			snprintf(why, len, "no /dev/mem: CONFIG_DEVMEM is off");
			return true;
		}
		if (locked_down(why, len))
			return true;
		fd = open("/dev/mem", O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			snprintf(why, len, "open(/dev/mem): %s", strerror(errno));
			return true;
		}
		close(fd);
	}
	if (needs & NEEDS_PCI_DEVICE) {
		if (access("/sys/bus/pci/devices", F_OK)) {
			snprintf(why, len, "no PCI bus (/sys/bus/pci)");
			return true;
		}
		if (!iomem_in_vm() && !iomem_named_bdf()) {
			snprintf(why, len, "no PCI device named: name one with --pci BDF "
				 "(IOPIN_PCI_BDF); unnamed devices are never touched");
			return true;
		}
		if (locked_down(why, len))
			return true;
	}
	if (needs & NEEDS_IOMEM_STRICT) {
		c = kernel_config("IO_STRICT_DEVMEM", &known);
		if (known && (!c || strcmp(c, "y"))) {
			snprintf(why, len, "CONFIG_IO_STRICT_DEVMEM is off: revocation of iomem "
				 "mappings does not exist on this kernel");
			return true;
		}
		if (cmdline_has("iomem=relaxed")) {
			snprintf(why, len, "iomem=relaxed on the kernel command line: no revocation");
			return true;
		}
	}
	if ((needs & NEEDS_DESTRUCTIVE) && !iomem_destructive_allowed()) {
		snprintf(why, len, "unbinds/binds a driver: needs --allow-destructive "
			 "(IOPIN_ALLOW_DESTRUCTIVE=1)");
		return true;
	}
	return false;
}
