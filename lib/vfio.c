// SPDX-License-Identifier: GPL-2.0-only
/*
 * VFIO pin backend.
 *
 * The pin: VFIO_IOMMU_MAP_DMA of a type1 container with VFIO_DMA_MAP_FLAG_READ
 * only. The kernel pins the range with FOLL_LONGTERM and without FOLL_WRITE:
 * a R/O long-term pin that no test module is needed for. The R/W backend
 * adds VFIO_DMA_MAP_FLAG_WRITE (FOLL_WRITE), and the device can write into
 * the pin: bounce buffer -> edu buffer -> the pinned range.
 *
 * The read: QEMU's edu device has a 4 KiB buffer at device address 0x40000
 * and a DMA engine, but the buffer cannot be read through BAR0. So a read
 * is two DMAs: RAM (the pinned range's IOVA) -> edu buffer, then edu buffer
 * -> RAM (a second, writable mapping: the bounce buffer), and the bounce
 * buffer is what the device saw. Only the start of the range is read
 * (VFIO_READ_WINDOW): each DMA completes on a QEMU timer (~100 ms under TCG).
 *
 * Every pin opens its own container, group and device, and unpin closes
 * them: a VFIO group can be open only once, and nothing stays mapped across
 * a fork() the tests do before pinning.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "kernel.h"
#include "pin.h"
#include "task.h"
#include "vfio.h"

#define why_set(p, ...) snprintf((p)->why, sizeof((p)->why), __VA_ARGS__)

#define VFIO_CONTAINER		"/dev/vfio/vfio"
#define PCI_DEVICES		"/sys/bus/pci/devices"

/* QEMU edu device (docs/specs/edu.rst of QEMU). */
#define EDU_VENDOR		0x1234
#define EDU_DEVICE		0x11e8
#define EDU_DMA_SRC		0x80
#define EDU_DMA_DST		0x88
#define EDU_DMA_COUNT		0x90
#define EDU_DMA_CMD		0x98
#define EDU_DMA_RUN		0x1
#define EDU_DMA_TO_RAM		0x2	/* direction: device buffer -> RAM */
#define EDU_BUF			0x40000
#define EDU_BUF_SIZE		4096
#define EDU_DMA_LIMIT		(1ULL << 28)	/* edu's DMA mask */
#define EDU_DMA_TIMEOUT_MS	5000

/* IOVAs: fixed, below the edu DMA limit where the device addresses them. */
#define BOUNCE_IOVA		0x100000ULL
#define PIN_IOVA		0x200000ULL

struct vfio_pin {
	uint64_t config;	/* offset of the PCI config space region */
	uint64_t bar0;		/* offset of the BAR0 region */
	char *bounce;		/* writable, mapped at BOUNCE_IOVA */
	size_t mapped;		/* bytes mapped at PIN_IOVA */
	bool bounce_mapped;
};

enum { CONTAINER, GROUP, DEVICE };

/* Basename of the symlink PCI_DEVICES/bdf/link into buf ("" if none). */
static void sysfs_link_name(const char *bdf, const char *link, char *buf,
			    size_t len)
{
	char path[PATH_MAX], target[PATH_MAX];
	ssize_t n;
	char *base;

	buf[0] = '\0';
	snprintf(path, sizeof(path), PCI_DEVICES "/%s/%s", bdf, link);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return;
	target[n] = '\0';
	base = strrchr(target, '/');
	if (snprintf(buf, len, "%s", base ? base + 1 : target) >= (int)len)
		buf[0] = '\0';	/* no driver or group has such a name */
}

static bool is_edu(const char *bdf)
{
	char path[PATH_MAX];
	long vendor, device;

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/vendor", bdf);
	vendor = sysfs_read_long(path);
	snprintf(path, sizeof(path), PCI_DEVICES "/%s/device", bdf);
	device = sysfs_read_long(path);
	return vendor == EDU_VENDOR && device == EDU_DEVICE;
}

static bool on_vfio_pci(const char *bdf)
{
	char drv[64];

	sysfs_link_name(bdf, "driver", drv, sizeof(drv));
	return !strcmp(drv, "vfio-pci");
}

/*
 * The edu device to use: IOPIN_EDU_BDF if set, else the first edu bound to
 * vfio-pci. Never a device of another kind: its registers mean other things.
 */
static int edu_find(char *bdf, size_t len, char *why, size_t whylen)
{
	const char *env = getenv("IOPIN_EDU_BDF");
	struct dirent *de;
	char drv[64];
	DIR *dir;

	if (env && env[0]) {
		if (snprintf(bdf, len, "%s", env) >= (int)len || !is_edu(bdf)) {
			snprintf(why, whylen, "IOPIN_EDU_BDF=%s is not an edu device (%04x:%04x)",
				 bdf, EDU_VENDOR, EDU_DEVICE);
			return -ENODEV;
		}
		if (!on_vfio_pci(bdf)) {
			sysfs_link_name(bdf, "driver", drv, sizeof(drv));
			snprintf(why, whylen, "edu device %s (IOPIN_EDU_BDF) is not bound to vfio-pci (driver: %s)",
				 bdf, drv[0] ? drv : "none");
			return -ENODEV;
		}
		return 0;
	}
	dir = opendir(PCI_DEVICES);
	while (dir && (de = readdir(dir))) {
		if (de->d_name[0] == '.' || !is_edu(de->d_name) ||
		    !on_vfio_pci(de->d_name) ||
		    snprintf(bdf, len, "%s", de->d_name) >= (int)len)
			continue;
		closedir(dir);
		return 0;
	}
	if (dir)
		closedir(dir);
	snprintf(why, whylen, "no edu device bound to vfio-pci (set IOPIN_EDU_BDF)");
	return -ENODEV;
}

/* The type1 IOMMU flavour the container offers, or 0. */
static int container_iommu_type(int container)
{
	if (ioctl(container, VFIO_GET_API_VERSION) != VFIO_API_VERSION)
		return 0;
	if (ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) > 0)
		return VFIO_TYPE1v2_IOMMU;
	if (ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU) > 0)
		return VFIO_TYPE1_IOMMU;
	return 0;
}

/* ---- device access through the VFIO device fd --------------------------- */

static int region_offset(struct pin *p, unsigned int index, uint64_t *off)
{
	struct vfio_region_info info = { .argsz = sizeof(info), .index = index };

	if (ioctl(p->fd[DEVICE], VFIO_DEVICE_GET_REGION_INFO, &info)) {
		why_set(p, "VFIO_DEVICE_GET_REGION_INFO %u: %s", index, strerror(errno));
		return -errno;
	}
	if (!(info.flags & VFIO_REGION_INFO_FLAG_READ) ||
	    !(info.flags & VFIO_REGION_INFO_FLAG_WRITE)) {
		why_set(p, "VFIO region %u is not readable and writable", index);
		return -EINVAL;
	}
	if (index == VFIO_PCI_BAR0_REGION_INDEX && info.size < EDU_DMA_CMD + 4) {
		why_set(p, "edu BAR0 has only %llu bytes", (unsigned long long)info.size);
		return -EINVAL;
	}
	*off = info.offset;
	return 0;
}

static int dev_rw(struct pin *p, bool write, void *val, size_t size,
		  uint64_t off, const char *what)
{
	ssize_t n = write ? pwrite(p->fd[DEVICE], val, size, off) :
			    pread(p->fd[DEVICE], val, size, off);

	if (n == (ssize_t)size)
		return 0;
	why_set(p, "%s %s: %s", write ? "writing" : "reading", what,
		n < 0 ? strerror(errno) : "short transfer");
	return n < 0 ? -errno : -EIO;
}

static int edu_read32(struct pin *p, unsigned int reg, uint32_t *val)
{
	struct vfio_pin *v = p->priv;

	return dev_rw(p, false, val, sizeof(*val), v->bar0 + reg, "edu register");
}

/* edu latches a 32-bit write to a 64-bit register as the whole (zero-extended) value. */
static int edu_write32(struct pin *p, unsigned int reg, uint32_t val)
{
	struct vfio_pin *v = p->priv;

	return dev_rw(p, true, &val, sizeof(val), v->bar0 + reg, "edu register");
}

/* Wait until edu's DMA engine is idle. */
static int edu_dma_wait(struct pin *p)
{
	struct timespec t0;
	uint32_t cmd;
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		ret = edu_read32(p, EDU_DMA_CMD, &cmd);
		if (ret)
			return ret;
		if (!(cmd & EDU_DMA_RUN))
			return 0;
		if (ms_since(&t0) > EDU_DMA_TIMEOUT_MS) {
			why_set(p, "edu DMA did not complete in %d ms", EDU_DMA_TIMEOUT_MS);
			return -ETIMEDOUT;
		}
		usleep(2000);
	}
}

/* One DMA of count bytes between RAM at iova and the edu buffer. */
static int edu_dma(struct pin *p, uint64_t iova, bool to_ram, uint32_t count)
{
	uint64_t src = to_ram ? EDU_BUF : iova, dst = to_ram ? iova : EDU_BUF;
	int ret;

	if (iova + count > EDU_DMA_LIMIT || count > VFIO_READ_WINDOW) {
		why_set(p, "DMA of %u bytes at IOVA %#" PRIx64 " is out of edu's reach",
			count, iova);
		return -EINVAL;
	}
	ret = edu_dma_wait(p);
	if (!ret)
		ret = edu_write32(p, EDU_DMA_SRC, src);
	if (!ret)
		ret = edu_write32(p, EDU_DMA_DST, dst);
	if (!ret)
		ret = edu_write32(p, EDU_DMA_COUNT, count);
	/* No EDU_DMA_IRQ: nobody handles the interrupt, completion is polled. */
	if (!ret)
		ret = edu_write32(p, EDU_DMA_CMD,
				  EDU_DMA_RUN | (to_ram ? EDU_DMA_TO_RAM : 0));
	if (!ret)
		ret = edu_dma_wait(p);
	return ret;
}

/* Memory Space (for BAR0) and Bus Master (for DMA). */
static int edu_enable(struct pin *p)
{
	struct vfio_pin *v = p->priv;
	uint16_t cmd;
	int ret;

	ret = dev_rw(p, false, &cmd, sizeof(cmd), v->config + PCI_COMMAND,
		     "PCI_COMMAND");
	if (ret)
		return ret;
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	return dev_rw(p, true, &cmd, sizeof(cmd), v->config + PCI_COMMAND,
		      "PCI_COMMAND");
}

/* ---- the backend ------------------------------------------------------- */

static int dma_map(struct pin *p, void *vaddr, uint64_t iova, size_t size,
		   bool writable)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ |
			 (writable ? VFIO_DMA_MAP_FLAG_WRITE : 0),
		.vaddr = (uintptr_t)vaddr,
		.iova = iova,
		.size = size,
	};

	if (!ioctl(p->fd[CONTAINER], VFIO_IOMMU_MAP_DMA, &map))
		return 0;
	why_set(p, "VFIO_IOMMU_MAP_DMA (%s, %zu bytes at IOVA %#" PRIx64 "): %s",
		writable ? "read/write" : "read-only", size, iova, strerror(errno));
	return -errno;
}

static void dma_unmap(struct pin *p, uint64_t iova, size_t size)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.iova = iova,
		.size = size,
	};

	ioctl(p->fd[CONTAINER], VFIO_IOMMU_UNMAP_DMA, &unmap);
}

/* Container, group and device of the edu device, in p->fd[]. */
static int vfio_open(struct pin *p)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char bdf[64], group[64], path[80];
	int type, ret;

	ret = edu_find(bdf, sizeof(bdf), p->why, sizeof(p->why));
	if (ret)
		return ret;
	p->fd[CONTAINER] = open(VFIO_CONTAINER, O_RDWR | O_CLOEXEC);
	if (p->fd[CONTAINER] < 0) {
		why_set(p, "open %s: %s", VFIO_CONTAINER, strerror(errno));
		return -errno;
	}
	type = container_iommu_type(p->fd[CONTAINER]);
	if (!type) {
		why_set(p, "VFIO offers no type1 IOMMU (needs vfio_iommu_type1)");
		return -ENODEV;
	}
	sysfs_link_name(bdf, "iommu_group", group, sizeof(group));
	snprintf(path, sizeof(path), "/dev/vfio/%s", group);
	p->fd[GROUP] = open(path, O_RDWR | O_CLOEXEC);
	if (p->fd[GROUP] < 0) {
		why_set(p, "open %s (edu %s): %s", path, bdf, strerror(errno));
		return -errno;
	}
	if (ioctl(p->fd[GROUP], VFIO_GROUP_GET_STATUS, &status)) {
		why_set(p, "VFIO_GROUP_GET_STATUS: %s", strerror(errno));
		return -errno;
	}
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		why_set(p, "IOMMU group %s is not viable: bind all its devices to vfio-pci",
			group);
		return -EBUSY;
	}
	if (ioctl(p->fd[GROUP], VFIO_GROUP_SET_CONTAINER, &p->fd[CONTAINER])) {
		why_set(p, "VFIO_GROUP_SET_CONTAINER: %s", strerror(errno));
		return -errno;
	}
	if (ioctl(p->fd[CONTAINER], VFIO_SET_IOMMU, type)) {
		why_set(p, "VFIO_SET_IOMMU: %s", strerror(errno));
		return -errno;
	}
	p->fd[DEVICE] = ioctl(p->fd[GROUP], VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (p->fd[DEVICE] < 0) {
		why_set(p, "VFIO_GROUP_GET_DEVICE_FD %s: %s", bdf, strerror(errno));
		return -errno;
	}
	return 0;
}

static void vfio_close(struct pin *p)
{
	int i;

	for (i = DEVICE; i >= CONTAINER; i--)
		if (p->fd[i] >= 0)
			close(p->fd[i]);
	p->fd[CONTAINER] = p->fd[GROUP] = p->fd[DEVICE] = -1;
}

/* Usable if the very open a pin does succeeds; then close it all again. */
int vfio_probe(char *why, size_t len)
{
	struct pin p = { .fd = { -1, -1, -1 } };
	int ret;

	if (access(VFIO_CONTAINER, F_OK)) {
		snprintf(why, len, "no %s (needs CONFIG_VFIO and an IOMMU)", VFIO_CONTAINER);
		return -ENOENT;
	}
	ret = vfio_open(&p);
	vfio_close(&p);
	if (ret)
		snprintf(why, len, "%s", p.why);
	return ret;
}

int vfio_pin(struct pin *p)
{
	struct vfio_pin *v = calloc(1, sizeof(*v));
	int ret;

	if (!v)
		return -ENOMEM;
	p->priv = v;
	ret = vfio_open(p);
	if (!ret)
		ret = region_offset(p, VFIO_PCI_CONFIG_REGION_INDEX, &v->config);
	if (!ret)
		ret = region_offset(p, VFIO_PCI_BAR0_REGION_INDEX, &v->bar0);
	if (!ret)
		ret = edu_enable(p);
	if (ret)
		goto err;

	/*
	 * MAP_NORESERVE: a VMA the kernel never merges with the test's memory
	 * next to it (a merged VMA would carry the new mapping's VM_SOFTDIRTY
	 * into the tested range).
	 */
	v->bounce = mmap(NULL, EDU_BUF_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (v->bounce == MAP_FAILED) {
		v->bounce = NULL;
		ret = -errno;
		goto err;
	}
	madvise(v->bounce, EDU_BUF_SIZE, MADV_DONTFORK);
	memset(v->bounce, 0, EDU_BUF_SIZE);
	ret = dma_map(p, v->bounce, BOUNCE_IOVA, EDU_BUF_SIZE, true);
	if (ret)
		goto err;
	v->bounce_mapped = true;

	/* The pin under test: the whole range, device read-only or R/W. */
	ret = dma_map(p, p->addr, PIN_IOVA, p->len, p->be->props & PIN_WRITE);
	if (ret)
		goto err;
	v->mapped = p->len;
	if (p->len > VFIO_READ_WINDOW)
		p->len = VFIO_READ_WINDOW;
	return 0;
err:
	vfio_unpin(p);
	p->priv = NULL;
	return ret;
}

int vfio_read(struct pin *p, void *buf)
{
	struct vfio_pin *v = p->priv;
	int ret;

	/* Whatever the device does not overwrite cannot pass for pinned data. */
	memset(v->bounce, 0xa5, p->len);
	__sync_synchronize();
	ret = edu_dma(p, PIN_IOVA, false, p->len);
	if (!ret)
		ret = edu_dma(p, BOUNCE_IOVA, true, p->len);
	if (ret)
		return ret;
	__sync_synchronize();
	memcpy(buf, v->bounce, p->len);
	return 0;
}

/* The device writes buf into the pin: RAM -> edu buffer -> the pinned range. */
int vfio_write(struct pin *p, const void *buf)
{
	struct vfio_pin *v = p->priv;
	int ret;

	memcpy(v->bounce, buf, p->len);
	__sync_synchronize();
	ret = edu_dma(p, BOUNCE_IOVA, false, p->len);
	if (!ret)
		ret = edu_dma(p, PIN_IOVA, true, p->len);
	__sync_synchronize();
	return ret;
}

void vfio_unpin(struct pin *p)
{
	struct vfio_pin *v = p->priv;

	if (v && v->mapped)
		dma_unmap(p, PIN_IOVA, v->mapped);
	if (v && v->bounce_mapped)
		dma_unmap(p, BOUNCE_IOVA, EDU_BUF_SIZE);
	vfio_close(p);
	if (v && v->bounce)
		munmap(v->bounce, EDU_BUF_SIZE);
	free(v);
}

const struct pin_backend pin_backend_vfio_ro = {
	.name = "vfio_ro", .props = PIN_LONGTERM | PIN_DEVICE,
	.needs = NEEDS_ROOT | NEEDS_VFIO,
	PIN_OPS(vfio),
};

const struct pin_backend pin_backend_vfio_rw = {
	.name = "vfio_rw", .props = PIN_LONGTERM | PIN_WRITE | PIN_DEVICE,
	.needs = NEEDS_ROOT | NEEDS_VFIO,
	PIN_OPS(vfio), .write = vfio_write,
};
