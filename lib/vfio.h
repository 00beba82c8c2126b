/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * VFIO pin backend: a VFIO type1 DMA mapping is the long-term pin, a PCI
 * device's DMA engine reads what the pin sees. The device is QEMU's "edu"
 * (1234:11e8) bound to vfio-pci, named by IOPIN_EDU_BDF or found in sysfs.
 */
#ifndef IOPIN_VFIO_H
#define IOPIN_VFIO_H

#include <stddef.h>

struct pin;

/*
 * What one read returns: the start of the first page of the pinned range.
 * Each edu DMA takes ~100 ms under QEMU TCG. edu's buffer is 4 KiB, but
 * QEMU's range check (7.2) takes a DMA that ends exactly at the buffer's
 * end for out of bounds and aborts QEMU ("hw_error: EDU: DMA range
 * 0x40000-0x40fff out of bounds"): stay a word short of it.
 */
#define VFIO_READ_WINDOW	(4096 - 8)

int vfio_probe(char *why, size_t len);
/*
 * Map [p->addr, p->addr + p->len) read-only (R/W for a PIN_WRITE backend);
 * p->len becomes the window.
 */
int vfio_pin(struct pin *p);
int vfio_read(struct pin *p, void *buf);
/* R/W backend: the device DMAs buf (p->len bytes) into the pinned range. */
int vfio_write(struct pin *p, const void *buf);
void vfio_unpin(struct pin *p);

#endif
