// SPDX-License-Identifier: GPL-2.0-only
/*
 * iomem: journaled driver binding (unbind, bind, remove, rescan) and the
 * VM's pmem namespace.
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

/* ---- binding ---------------------------------------------------------------- */

static int destructive_ok(const struct iomem_dev *d, const char *what, char *why,
			  size_t len)
{
	if (iomem_destructive_allowed())
		return 0;
	snprintf(why, len, "refusing to %s %s without --allow-destructive", what, d->bdf);
	return -1;
}

int iomem_unbind(struct iomem_dev *d, char *why, size_t len)
{
	char path[128];

	if (destructive_ok(d, "unbind", why, len))
		return -1;
	if (!iomem_dev_driver(d)[0])
		return 0;
	if (kstate_pci_binding(d->bdf)) {
		snprintf(why, len, "cannot journal the binding of %s", d->bdf);
		return -1;
	}
	if (sysfs_write(iomem_dev_path(d, "driver/unbind", path, sizeof(path)), d->bdf) ||
	    iomem_dev_driver(d)[0]) {
		snprintf(why, len, "unbinding %s: %s (driver now '%s')", d->bdf,
			 strerror(errno), d->driver);
		return -1;
	}
	return 0;
}

int iomem_bind(struct iomem_dev *d, const char *driver, char *why, size_t len)
{
	char path[128];

	if (destructive_ok(d, "bind", why, len))
		return -1;
	if (kstate_pci_binding(d->bdf)) {
		snprintf(why, len, "cannot journal the binding of %s", d->bdf);
		return -1;
	}
	if (sysfs_write(iomem_dev_path(d, "driver_override", path, sizeof(path)), driver) ||
	    sysfs_write("/sys/bus/pci/drivers_probe", d->bdf) ||
	    strcmp(iomem_dev_driver(d), driver)) {
		snprintf(why, len, "binding %s to %s failed (driver now '%s')", d->bdf,
			 driver, d->driver);
		return -1;
	}
	return 0;
}

int iomem_remove(struct iomem_dev *d, char *why, size_t len)
{
	char path[128];

	if (destructive_ok(d, "remove", why, len))
		return -1;
	if (kstate_pci_binding(d->bdf) || kstate_pci_present(d->bdf)) {
		snprintf(why, len, "cannot journal %s", d->bdf);
		return -1;
	}
	if (sysfs_write(iomem_dev_path(d, "remove", path, sizeof(path)), "1") ||
	    !access(iomem_dev_path(d, NULL, path, sizeof(path)), F_OK)) {
		snprintf(why, len, "removing %s failed", d->bdf);
		return -1;
	}
	return 0;
}

int iomem_rescan(char *why, size_t len)
{
	if (!iomem_destructive_allowed()) {
		snprintf(why, len, "refusing to rescan without --allow-destructive");
		return -1;
	}
	if (sysfs_write("/sys/bus/pci/rescan", "1")) {
		snprintf(why, len, "rescan: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static const char *base_name(const char *path)
{
	const char *b = strrchr(path, '/');

	return b ? b + 1 : path;
}

static const char *dev_driver(const char *dev, char *buf, size_t len)
{
	char link[300], target[512];
	ssize_t n;

	buf[0] = '\0';
	snprintf(link, sizeof(link), "%s/driver", dev);
	n = readlink(link, target, sizeof(target) - 1);
	if (n > 0) {
		target[n] = '\0';
		snprintf(buf, len, "%.63s", base_name(target));
	}
	return buf;
}

int iomem_sysfs_unbind(const char *dev, char *why, size_t len)
{
	char path[320], drv[64];

	if (!iomem_destructive_allowed()) {
		snprintf(why, len, "refusing to unbind %s without --allow-destructive", dev);
		return -1;
	}
	if (!dev_driver(dev, drv, sizeof(drv))[0])
		return 0;
	if (kstate_binding(dev)) {
		snprintf(why, len, "cannot journal the binding of %s", dev);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/driver/unbind", dev);
	if (sysfs_write(path, base_name(dev)) || dev_driver(dev, drv, sizeof(drv))[0]) {
		snprintf(why, len, "unbinding %s: %s (driver now '%s')", dev, strerror(errno), drv);
		return -1;
	}
	return 0;
}

int iomem_sysfs_bind(const char *dev, const char *driver, char *why, size_t len)
{
	char path[512], bus[300], drv[64], *devs;

	if (!iomem_destructive_allowed()) {
		snprintf(why, len, "refusing to bind %s without --allow-destructive", dev);
		return -1;
	}
	snprintf(bus, sizeof(bus), "%s", dev);
	devs = strstr(bus, "/devices/");
	if (!devs || kstate_binding(dev)) {
		snprintf(why, len, "cannot journal the binding of %s", dev);
		return -1;
	}
	*devs = '\0';
	snprintf(path, sizeof(path), "%s/drivers/%s/bind", bus, driver);
	if (sysfs_write(path, base_name(dev)) ||
	    strcmp(dev_driver(dev, drv, sizeof(drv)), driver)) {
		snprintf(why, len, "binding %s to %s failed (driver now '%s')", dev, driver, drv);
		return -1;
	}
	return 0;
}

bool iomem_pmem_find(struct iomem_pmem *p, char *why, size_t len)
{
	uint64_t start, end;
	char path[320], buf[64];
	int i;

	if (!iomem_in_vm()) {
		snprintf(why, len, "persistent memory namespaces are only touched in the VM");
		return false;
	}
	if (iomem_find(IOMEM_PMEM_LEGACY, &start, &end)) {
		snprintf(why, len, "no '" IOMEM_PMEM_LEGACY "' range in /proc/iomem "
			 "(boot with memmap=nn!ss, load nd_e820)");
		return false;
	}
	for (i = 0; i < 8; i++) {
		snprintf(path, sizeof(path), "/sys/bus/nd/devices/namespace%d.0/resource", i);
		if (sysfs_read(path, buf, sizeof(buf)) || strtoull(buf, NULL, 0) != start)
			continue;
		p->start = start;
		p->size = end - start + 1;
		snprintf(p->ns, sizeof(p->ns), "/sys/bus/nd/devices/namespace%d.0", i);
		snprintf(p->driver, sizeof(p->driver), "nd_pmem");
		return true;
	}
	snprintf(why, len, "no nd namespace for the pmem range at 0x%llx (load nd_pmem)",
		 (unsigned long long)start);
	return false;
}

