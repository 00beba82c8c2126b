// SPDX-License-Identifier: GPL-2.0-only
/*
 * iomem: PCI devices and BARs, mapping routes, journaled driver binding,
 * and a fault-safe access probe.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/pci.h>
#include <pci/pci.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "iomem.h"
#include "kernel.h"
#include "needs.h"

static bool env_is(const char *name, const char *value)
{
	const char *v = getenv(name);

	return v && !strcmp(v, value);
}

bool iomem_in_vm(void)
{
	return env_is("IOPIN_VM", "1");
}

bool iomem_destructive_allowed(void)
{
	return iomem_in_vm() || env_is("IOPIN_ALLOW_DESTRUCTIVE", "1");
}

static const char *named_bdf(void)
{
	const char *b = getenv("IOPIN_PCI_BDF");

	return b && *b ? b : NULL;
}

/* ---- devices ------------------------------------------------------------ */

static void pci_quiet(char *msg, ...)
{
	(void)msg;
}

static void __attribute__((noreturn)) pci_fatal(char *msg, ...)
{
	fprintf(stderr, "# iopin: libpci: %s\n", msg);
	exit(1);
}

static struct pci_access *pci_open(void)
{
	struct pci_access *acc;

	if (access("/sys/bus/pci/devices", R_OK))
		return NULL;
	acc = pci_alloc();
	if (!acc)
		return NULL;
	acc->method = PCI_ACCESS_SYS_BUS_PCI;
	acc->error = pci_fatal;
	acc->warning = pci_quiet;
	acc->debug = pci_quiet;
	pci_init(acc);
	return acc;
}

static int parse_bdf(const char *bdf, unsigned int *dom, unsigned int *bus,
		     unsigned int *dev, unsigned int *fn)
{
	char end;

	if (sscanf(bdf, "%x:%x:%x.%x%c", dom, bus, dev, fn, &end) == 4)
		return 0;
	*dom = 0;
	if (sscanf(bdf, "%x:%x.%x%c", bus, dev, fn, &end) == 3)
		return 0;
	return -1;
}

static void fill_dev(struct iomem_dev *d, struct pci_dev *p)
{
	char *drv;
	int i;

	pci_fill_info(p, PCI_FILL_IDENT | PCI_FILL_BASES | PCI_FILL_SIZES |
			 PCI_FILL_IO_FLAGS | PCI_FILL_DRIVER);
	memset(d, 0, sizeof(*d));
	d->domain = p->domain;
	d->bus = p->bus;
	d->dev = p->dev;
	d->func = p->func;
	snprintf(d->bdf, sizeof(d->bdf), "%04x:%02x:%02x.%x",
		 p->domain, p->bus, p->dev, p->func);
	d->vendor = p->vendor_id;
	d->device = p->device_id;
	for (i = 0; i < 6; i++) {
		struct iomem_bar *b = &d->bar[i];

		if (!p->size[i])
			continue;
		b->size = p->size[i];
		b->mem = !(p->base_addr[i] & PCI_BASE_ADDRESS_SPACE_IO);
		b->addr = p->base_addr[i] & (b->mem ? PCI_ADDR_MEM_MASK : PCI_ADDR_IO_MASK);
		b->prefetch = b->mem && (p->base_addr[i] & PCI_BASE_ADDRESS_MEM_PREFETCH);
		b->is64 = b->mem && (p->base_addr[i] & PCI_BASE_ADDRESS_MEM_TYPE_64);
	}
	drv = pci_get_string_property(p, PCI_FILL_DRIVER);
	snprintf(d->driver, sizeof(d->driver), "%s", drv ? drv : "");
}

int iomem_dev_get(struct iomem_dev *d, const char *bdf, char *why, size_t len)
{
	unsigned int dom, bus, dev, fn;
	struct pci_access *acc;
	struct pci_dev *p;
	char path[128];

	if (parse_bdf(bdf, &dom, &bus, &dev, &fn)) {
		snprintf(why, len, "'%s' is not a PCI address (DDDD:BB:DD.F)", bdf);
		return -1;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%04x:%02x:%02x.%x",
		 dom, bus, dev, fn);
	if (access(path, F_OK)) {
		snprintf(why, len, "no PCI device %s", bdf);
		return -1;
	}
	acc = pci_open();
	if (!acc) {
		snprintf(why, len, "no /sys/bus/pci");
		return -1;
	}
	p = pci_get_dev(acc, dom, bus, dev, fn);
	if (!p) {
		pci_cleanup(acc);
		snprintf(why, len, "libpci cannot open %s", bdf);
		return -1;
	}
	fill_dev(d, p);
	pci_free_dev(p);
	pci_cleanup(acc);
	return 0;
}

/* In the VM only: the first device with vendor:device (device2 as an alternative). */
static int find_by_id(struct iomem_dev *d, uint16_t vendor, uint16_t device,
		      uint16_t device2)
{
	struct pci_access *acc = pci_open();
	struct pci_dev *p;
	int rc = -1;

	if (!acc)
		return -1;
	pci_scan_bus(acc);
	for (p = acc->devices; p; p = p->next) {
		pci_fill_info(p, PCI_FILL_IDENT);
		if (p->vendor_id == vendor &&
		    (p->device_id == device || p->device_id == device2)) {
			fill_dev(d, p);
			rc = 0;
			break;
		}
	}
	pci_cleanup(acc);
	return rc;
}

const char *iomem_dev_path(const struct iomem_dev *d, const char *name,
			   char *buf, size_t len)
{
	snprintf(buf, len, "/sys/bus/pci/devices/%s%s%s", d->bdf,
		 name ? "/" : "", name ? name : "");
	return buf;
}

const char *iomem_dev_driver(struct iomem_dev *d)
{
	char link[128], target[512];
	ssize_t n;

	d->driver[0] = '\0';
	n = readlink(iomem_dev_path(d, "driver", link, sizeof(link)),
		     target, sizeof(target) - 1);
	if (n > 0) {
		target[n] = '\0';
		snprintf(d->driver, sizeof(d->driver), "%s", strrchr(target, '/') + 1);
	}
	return d->driver;
}

int iomem_dev_probe_cpu(const struct iomem_dev *d)
{
	char path[128], buf[256];

	if (sysfs_read(iomem_dev_path(d, "local_cpulist", path, sizeof(path)), buf, sizeof(buf)) ||
	    buf[0] < '0' || buf[0] > '9')
		return -1;
	return atoi(buf);
}

int iomem_virtio_common_cfg(const struct iomem_dev *d, int *bar, uint64_t *off)
{
	uint8_t cfg[256];
	char path[128];
	int fd, pos, hops = 0;
	ssize_t n;

	fd = open(iomem_dev_path(d, "config", path, sizeof(path)), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, cfg, sizeof(cfg));
	close(fd);
	if (n < 256 || !(cfg[PCI_STATUS] & PCI_STATUS_CAP_LIST))
		return -1;
	for (pos = cfg[PCI_CAPABILITY_LIST] & ~3; pos && pos < 240 && hops < 48;
	     pos = cfg[pos + 1] & ~3, hops++) {
		/* struct virtio_pci_cap: vndr, next, len, cfg_type, bar, ..., offset at 8 */
		if (cfg[pos] != PCI_CAP_ID_VNDR || cfg[pos + 3] != 1 /* COMMON_CFG */)
			continue;
		*bar = cfg[pos + 4];
		*off = cfg[pos + 8] | cfg[pos + 9] << 8 | cfg[pos + 10] << 16 |
		       (uint32_t)cfg[pos + 11] << 24;
		return *bar < 6 ? 0 : -1;
	}
	return -1;
}

int iomem_claim_regs(const struct iomem_dev *d, int bar, struct iomem_claim_regs *r,
		     char *why, size_t len)
{
	uint64_t off;
	int cfg_bar;

	if (!iomem_virtio_common_cfg(d, &cfg_bar, &off) && cfg_bar == bar) {
		*r = (struct iomem_claim_regs){
			.what = "virtio common config",
			.constant = off + VIRTIO_COMMON_NUM_QUEUES,
			.state = off + VIRTIO_COMMON_STATUS,
			.scratch = off + VIRTIO_COMMON_FEATURE_SELECT,
		};
		return 0;
	}
	snprintf(why, len, "%s (%04x:%04x) BAR%d: no register description for this "
		 "device (lib/iomem describes virtio-pci's common config)",
		 d->bdf, d->vendor, d->device, bar);
	return -1;
}

/* ---- /proc/iomem ---------------------------------------------------------- */

struct iomem_line {
	int indent;
	uint64_t start, end;
	char name[128];
};

static bool iomem_parse(const char *line, struct iomem_line *l)
{
	int n = 0;

	l->indent = strspn(line, " ");
	if (sscanf(line + l->indent, "%" SCNx64 "-%" SCNx64 " : %n", &l->start, &l->end, &n) < 2 || !n)
		return false;
	snprintf(l->name, sizeof(l->name), "%s", line + l->indent + n);
	l->name[strcspn(l->name, "\n")] = '\0';
	return true;
}

int iomem_find(const char *name, uint64_t *start, uint64_t *end)
{
	FILE *f = fopen("/proc/iomem", "re");
	struct iomem_line l;
	char line[256];
	int rc = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (iomem_parse(line, &l) && !strcmp(l.name, name) && l.end) {
			*start = l.start;
			*end = l.end;
			rc = 0;
			break;
		}
	fclose(f);
	return rc;
}

bool iomem_claimed(const char *parent, uint64_t addr, char *owner, size_t len)
{
	FILE *f = fopen("/proc/iomem", "re");
	struct iomem_line l;
	int in_parent = -1;
	char line[256];
	bool found = false;

	if (owner && len)
		owner[0] = '\0';
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		if (!iomem_parse(line, &l))
			continue;
		if (in_parent >= 0 && l.indent <= in_parent)
			in_parent = -1;
		if (in_parent < 0) {
			if (!strcmp(l.name, parent) && l.start <= addr && addr <= l.end)
				in_parent = l.indent;
			continue;
		}
		if (l.start <= addr && addr <= l.end) {
			if (owner)
				snprintf(owner, len, "%s", l.name);
			found = true;
		}
	}
	fclose(f);
	return found;
}

/* ---- picking a device ----------------------------------------------------- */

#define IVSHMEM_VENDOR	0x1af4
#define IVSHMEM_DEVICE	0x1110
#define IVSHMEM_BAR	2

static bool env_names(const char *name, const char *bdf)
{
	const char *v = getenv(name);

	return v && !strcmp(v, bdf);
}

/*
 * The VM's claimable device: the one vm/run-vm.sh names (IOPIN_CLAIM_BDF,
 * a virtio-blk that nothing uses), else virtio-rng (older runners). Never
 * the swap or scratch disk, whatever the environment says.
 */
static bool pick_vm_claimable(struct iomem_dev *d, char *why, size_t len)
{
	const char *bdf = getenv("IOPIN_CLAIM_BDF");

	if (!bdf || !*bdf) {
		if (find_by_id(d, 0x1af4, 0x1005, 0x1044)) {
			snprintf(why, len, "no IOPIN_CLAIM_BDF and no virtio-rng device "
				 "(1af4:1005/1044) in the VM");
			return false;
		}
		return true;
	}
	if (env_names("IOPIN_SWAP_BDF", bdf) || env_names("IOPIN_SCRATCH_BDF", bdf)) {
		snprintf(why, len, "IOPIN_CLAIM_BDF=%s is the VM's swap or scratch disk", bdf);
		return false;
	}
	if (iomem_dev_get(d, bdf, why, len))
		return false;
	if (d->vendor != 0x1af4) {
		snprintf(why, len, "IOPIN_CLAIM_BDF=%s (%04x:%04x) is not a virtio device",
			 bdf, d->vendor, d->device);
		return false;
	}
	return true;
}

static bool pick_named(struct iomem_dev *d, char *why, size_t len)
{
	const char *bdf = named_bdf();

	if (!bdf) {
		snprintf(why, len, "no PCI device named: name one with --pci BDF (IOPIN_PCI_BDF); "
			 "unnamed devices are never touched");
		return false;
	}
	return !iomem_dev_get(d, bdf, why, len);
}

bool iomem_pick(enum iomem_role role, struct iomem_dev *d, int *bar,
		char *why, size_t len)
{
	uint64_t off;
	int i;

	switch (role) {
	case IOMEM_ROLE_PATTERN:
		if (iomem_in_vm()) {
			if (find_by_id(d, IVSHMEM_VENDOR, IVSHMEM_DEVICE, IVSHMEM_DEVICE)) {
				snprintf(why, len, "no ivshmem device (1af4:1110) in the VM");
				return false;
			}
		} else if (!pick_named(d, why, len)) {
			return false;
		} else if (d->vendor != IVSHMEM_VENDOR || d->device != IVSHMEM_DEVICE) {
			snprintf(why, len, "%s (%04x:%04x) is not an ivshmem device holding the "
				 "iopin pattern: this case needs known BAR contents (the VM has one)",
				 d->bdf, d->vendor, d->device);
			return false;
		}
		*bar = IVSHMEM_BAR;
		if (!d->bar[*bar].mem || d->bar[*bar].size < 4096) {
			snprintf(why, len, "%s: BAR%d is not a memory BAR of 4 KiB or more",
				 d->bdf, *bar);
			return false;
		}
		if (d->driver[0]) {
			snprintf(why, len, "%s is bound to %s: its BAR is not free", d->bdf,
				 d->driver);
			return false;
		}
		return true;
	case IOMEM_ROLE_CLAIMABLE:
		if (iomem_in_vm()) {
			if (!pick_vm_claimable(d, why, len))
				return false;
			if (iomem_virtio_common_cfg(d, bar, &off)) {
				snprintf(why, len, "%s: no virtio common config capability", d->bdf);
				return false;
			}
		} else {
			if (!pick_named(d, why, len))
				return false;
			for (*bar = -1, i = 0; i < 6 && *bar < 0; i++)
				if (d->bar[i].mem && d->bar[i].size >= 4096 &&
				    iomem_claimed(d->bdf, d->bar[i].addr, NULL, 0))
					*bar = i;
			if (*bar < 0) {
				snprintf(why, len, "%s: no memory BAR that its driver (%s) claims",
					 d->bdf, d->driver[0] ? d->driver : "none");
				return false;
			}
		}
		if (!d->driver[0]) {
			snprintf(why, len, "%s has no driver bound: nothing to claim its BAR",
				 d->bdf);
			return false;
		}
		return true;
	}
	snprintf(why, len, "unknown device role %d", role);
	return false;
}

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

/* ---- routes ----------------------------------------------------------------- */

static void route_path(const struct iomem_route *r, const struct iomem_dev *d,
		       int bar, char *buf, size_t len)
{
	char name[32];

	switch (r->id) {
	case IOMEM_DEVMEM:
		snprintf(buf, len, "/dev/mem");
		break;
	case IOMEM_SYSFS:
	case IOMEM_SYSFS_WC:
		snprintf(name, sizeof(name), "resource%d%s", bar,
			 r->id == IOMEM_SYSFS_WC ? "_wc" : "");
		iomem_dev_path(d, name, buf, len);
		break;
	case IOMEM_PROCFS:
		if (d->domain)
			snprintf(buf, len, "/proc/bus/pci/%04x:%02x/%02x.%x", d->domain,
				 d->bus, d->dev, d->func);
		else
			snprintf(buf, len, "/proc/bus/pci/%02x/%02x.%x", d->bus, d->dev,
				 d->func);
		break;
	}
}

bool iomem_route_usable(const struct iomem_route *r, const struct iomem_dev *d,
			int bar, char *why, size_t len)
{
	char path[160];

	if (r->id == IOMEM_DEVMEM)
		return !iomem_unmet(NEEDS_DEVMEM, why, len);
	route_path(r, d, bar, path, sizeof(path));
	if (!access(path, F_OK))
		return true;
	if (r->id == IOMEM_SYSFS_WC)
		snprintf(why, len, "%s: no %s (it exists for prefetchable memory BARs only)",
			 d->bdf, path);
	else
		snprintf(why, len, "no %s", path);
	return false;
}

static int map_fd(struct iomem_map *m, int fd, uint64_t off, size_t len, int prot,
		  int flags, const char *path, char *why, size_t whylen)
{
	void *p = mmap(NULL, len, prot, flags & ~IOMEM_NO_MMAP_IS_MEM, fd, off);
	int err = errno;

	if (p == MAP_FAILED) {
		snprintf(why, whylen, "mmap(%s, offset 0x%" PRIx64 ", 0x%zx bytes): %s",
			 path, off, len, strerror(err));
		close(fd);
		m->fd = -1;
		return -err;
	}
	m->addr = p;
	m->len = len;
	return 0;
}

int iomem_map(struct iomem_map *m, const struct iomem_route *r,
	      const struct iomem_dev *d, int bar, uint64_t off, size_t len,
	      int prot, int flags, char *why, size_t whylen)
{
	int oflags = (prot & PROT_WRITE ? O_RDWR : O_RDONLY) | O_CLOEXEC;
	uint64_t map_off = off;
	char path[160];
	int err;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	m->route = r;
	m->phys = d->bar[bar].addr + off;
	route_path(r, d, bar, path, sizeof(path));
	if (r->id == IOMEM_DEVMEM)
		oflags |= O_SYNC;
	if (r->id == IOMEM_DEVMEM || r->id == IOMEM_PROCFS)
		map_off = d->bar[bar].addr + off;	/* x86: bus address = CPU address */
	m->fd = open(path, oflags);
	if (m->fd < 0) {
		err = errno;
		snprintf(why, whylen, "open(%s): %s", path, strerror(err));
		return -err;
	}
	if (r->id == IOMEM_PROCFS && !(flags & IOMEM_NO_MMAP_IS_MEM) &&
	    ioctl(m->fd, PCIIOC_MMAP_IS_MEM)) {
		err = errno;
		snprintf(why, whylen, "ioctl(%s, PCIIOC_MMAP_IS_MEM): %s", path, strerror(err));
		close(m->fd);
		m->fd = -1;
		return -err;
	}
	return map_fd(m, m->fd, map_off, len, prot, flags, path, why, whylen);
}

int iomem_map_phys(struct iomem_map *m, uint64_t phys, size_t len, int prot,
		   int flags, char *why, size_t whylen)
{
	static const struct iomem_route devmem =
		IOMEM_ROUTE_INIT(devmem, IOMEM_DEVMEM, EPERM, true, IOMEM_GUARD_DEVMEM);
	int err;

	memset(m, 0, sizeof(*m));
	m->route = &devmem;
	m->phys = phys;
	m->fd = open("/dev/mem", (prot & PROT_WRITE ? O_RDWR : O_RDONLY) | O_SYNC | O_CLOEXEC);
	if (m->fd < 0) {
		err = errno;
		snprintf(why, whylen, "open(/dev/mem): %s", strerror(err));
		return -err;
	}
	return map_fd(m, m->fd, phys, len, prot, flags, "/dev/mem", why, whylen);
}

void iomem_unmap(struct iomem_map *m)
{
	if (m->addr)
		munmap((void *)m->addr, m->len);
	if (m->fd >= 0)
		close(m->fd);
	m->addr = NULL;
	m->fd = -1;
}

bool iomem_vma_present(const volatile void *addr, size_t len)
{
	FILE *f = fopen("/proc/self/maps", "re");
	uintptr_t a = (uintptr_t)addr, s, e;
	char line[512];
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR, &s, &e) == 2 &&
		    s <= a && a + len <= e)
			found = true;
	fclose(f);
	return found;
}

/* ---- fault-safe access ------------------------------------------------------ */

static sigjmp_buf probe_jmp;
static volatile sig_atomic_t probe_sig;
static volatile int probe_code;
static void *volatile probe_addr;

static void probe_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	probe_sig = sig;
	probe_code = si->si_code;
	probe_addr = si->si_addr;
	siglongjmp(probe_jmp, 1);
}

static struct iomem_access probe(volatile void *addr, bool write, uint32_t value)
{
	static char altstack[64 * 1024];
	struct sigaction sa = { 0 }, old_bus, old_segv;
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) }, old_ss;
	struct iomem_access a = { IOMEM_ACCESS_OK, 0, 0, NULL };
	volatile uint32_t got = 0;	/* survives the siglongjmp() */

	sigaltstack(&ss, &old_ss);
	sa.sa_sigaction = probe_handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &old_bus);
	sigaction(SIGSEGV, &sa, &old_segv);
	probe_sig = 0;
	if (!sigsetjmp(probe_jmp, 1)) {
		if (write) {
			*(volatile uint32_t *)addr = value;
			__sync_synchronize();	/* drain a WC buffer */
		} else {
			got = *(const volatile uint32_t *)addr;
		}
	}
	a.value = got;
	sigaction(SIGBUS, &old_bus, NULL);
	sigaction(SIGSEGV, &old_segv, NULL);
	sigaltstack(&old_ss, NULL);
	if (probe_sig) {
		a.outcome = probe_sig == SIGBUS ? IOMEM_ACCESS_SIGBUS : IOMEM_ACCESS_SIGSEGV;
		a.code = probe_code;
		a.fault_addr = probe_addr;
		a.value = 0;
	}
	return a;
}

struct iomem_access iomem_read32(const volatile void *addr)
{
	return probe((volatile void *)addr, false, 0);
}

struct iomem_access iomem_write32(volatile void *addr, uint32_t value)
{
	return probe(addr, true, value);
}

static const char *bus_code(int code)
{
	switch (code) {
	case BUS_ADRALN: return "BUS_ADRALN";
	case BUS_ADRERR: return "BUS_ADRERR";
	case BUS_OBJERR: return "BUS_OBJERR";
	case BUS_MCEERR_AR: return "BUS_MCEERR_AR";
	default: return "si_code?";
	}
}

const char *iomem_access_str(const struct iomem_access *a, char *buf, size_t len)
{
	switch (a->outcome) {
	case IOMEM_ACCESS_OK:
		snprintf(buf, len, "ok, value 0x%08x", a->value);
		break;
	case IOMEM_ACCESS_SIGBUS:
		snprintf(buf, len, "SIGBUS %s (%d) at %p", bus_code(a->code), a->code,
			 a->fault_addr);
		break;
	case IOMEM_ACCESS_SIGSEGV:
		snprintf(buf, len, "SIGSEGV si_code %d at %p", a->code, a->fault_addr);
		break;
	}
	return buf;
}

/* The self-test switch, as in lib/mem.c: every expectation is corrupted. */
static bool fault_injected(void)
{
	return env_is("IOPIN_SELFTEST_FAULT", "verify");
}

bool iomem_check_ok(const struct iomem_access *a, uint32_t want, bool any_value,
		    char *why, size_t len)
{
	bool want_ok = !fault_injected();
	char got[96];

	if (fault_injected())
		want = ~want;	/* and expect a fault instead */
	if ((a->outcome == IOMEM_ACCESS_OK) != want_ok) {
		snprintf(why, len, "access: %s, expected %s", iomem_access_str(a, got, sizeof(got)),
			 want_ok ? "success" : "a fault (self-test switch)");
		return false;
	}
	if (want_ok && !any_value && a->value != want) {
		snprintf(why, len, "read 0x%08x, expected 0x%08x", a->value, want);
		return false;
	}
	return true;
}

bool iomem_check_sigbus(const struct iomem_access *a, const volatile void *addr,
			char *why, size_t len)
{
	const void *want = (const void *)addr;
	char got[96];

	if (fault_injected())
		want = (const char *)want + 1;	/* the exact address, off by one */
	if (a->outcome != IOMEM_ACCESS_SIGBUS || a->code != BUS_ADRERR ||
	    a->fault_addr != want) {
		snprintf(why, len, "access: %s, expected SIGBUS BUS_ADRERR at %p",
			 iomem_access_str(a, got, sizeof(got)), want);
		return false;
	}
	return true;
}

bool iomem_check_errno(int got_errno, int want_errno, char *why, size_t len)
{
	if (got_errno < 0)
		got_errno = -got_errno;
	if (fault_injected())
		want_errno = want_errno ? 0 : EIO;
	if (got_errno == want_errno)
		return true;
	snprintf(why, len, "%s, expected %s",
		 got_errno ? strerror(got_errno) : "success",
		 want_errno ? strerror(want_errno) : "success");
	return false;
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
		if (!iomem_in_vm() && !named_bdf()) {
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
