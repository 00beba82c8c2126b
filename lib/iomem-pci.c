// SPDX-License-Identifier: GPL-2.0-only
/*
 * iomem: PCI devices and their BARs (libpci), and picking the device a test
 * may use.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/pci.h>
#include <pci/pci.h>
#include <unistd.h>

#include "iomem-int.h"
#include "kernel.h"
#include "needs.h"

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
	const char *bdf = iomem_named_bdf();

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

