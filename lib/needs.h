/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What a test, or one variant of it, needs from the machine: one bit per
 * requirement, one registry row naming it. A test declares its own needs
 * in IOPIN_TEST(.needs = ...); the rows of the axes it crosses (memory
 * types in lib/mem.h, pin backends in lib/pin.h) add theirs per variant
 * (IOPIN_AXES in lib/iopin.h). run_tests.sh --list, the KTAP "# needs:"
 * line and the JSON/JUnit reports print the names.
 *
 * Who decides whether a need is met: root and the iomem needs are checked
 * by lib/iopin.h before the test runs (iopin_unmet(), iomem_unmet()); the
 * others are checked where the resource is set up (the memory type's
 * constructor, the pin backend's probe), which SKIP naming what is missing.
 * Their bits are declared so that reports show them before a run.
 */
#ifndef IOPIN_NEEDS_H
#define IOPIN_NEEDS_H

/* X(bit, name): one row per requirement, in the order reports list them. */
#define IOPIN_NEEDS(X)							\
	X(NEEDS_ROOT, "root")						\
	X(NEEDS_DEVMEM, "devmem")	/* /dev/mem usable: CONFIG_DEVMEM, root, no lockdown */ \
	X(NEEDS_IOMEM_STRICT, "io_strict_devmem") /* IO_STRICT_DEVMEM, no iomem=relaxed */ \
	X(NEEDS_PCI_DEVICE, "pci_device") /* the VM's device, or one named with --pci */ \
	X(NEEDS_DESTRUCTIVE, "destructive") /* may unbind/remove it: VM or --allow-destructive */ \
	X(NEEDS_THP, "thp")		/* anonymous THP of the type's size */ \
	X(NEEDS_HUGETLB, "hugetlb")	/* free hugetlb pages of the type's size */ \
	X(NEEDS_SWAP, "swap")		/* active swap, or root to add a swap file */ \
	X(NEEDS_DISK_FS, "disk_fs")	/* ext4/xfs/btrfs directory (IOPIN_DISK_DIR) */ \
	X(NEEDS_TMPFS, "tmpfs")		/* writable tmpfs (IOPIN_TMPFS_DIR) */ \
	X(NEEDS_SECRETMEM, "secretmem")	/* memfd_secret(): CONFIG_SECRETMEM */ \
	X(NEEDS_IO_URING, "io_uring")	/* io_uring not disabled */	\
	X(NEEDS_GUP_TEST, "gup_test")	/* CONFIG_GUP_TEST, debugfs */	\
	X(NEEDS_VFIO, "vfio")		/* an IOMMU group + the edu device (the VM) */ \
	X(NEEDS_AF_XDP, "af_xdp")	/* CONFIG_XDP_SOCKETS, a veth pair */ \
	X(NEEDS_RDMA_RXE, "rdma_rxe")	/* the rdma_rxe module (soft-RoCE) */ \
	X(NEEDS_VIVID, "vivid")		/* the vivid module (CONFIG_VIDEO_VIVID), loadable */ \
	X(NEEDS_ZONE_MOVABLE, "zone_movable") /* a ZONE_MOVABLE with memory (movablecore=) */ \
	X(NEEDS_USERFAULTFD, "userfaultfd") /* userfaultfd with write-protect mode */ \
	X(NEEDS_GDB, "gdb")		/* gdb in $PATH */

enum iopin_need_bit {
#define IOPIN_NEED_BIT(bit, name) bit##_BIT,
	IOPIN_NEEDS(IOPIN_NEED_BIT)
#undef IOPIN_NEED_BIT
	IOPIN_NEEDS_NR
};

/* The masks NEEDS_ROOT, ...: bit n of the row's position. */
enum iopin_needs_mask {
#define IOPIN_NEED_MASK(bit, name) bit = 1U << bit##_BIT,
	IOPIN_NEEDS(IOPIN_NEED_MASK)
#undef IOPIN_NEED_MASK
};

#endif
