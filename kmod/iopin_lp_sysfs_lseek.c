// SPDX-License-Identifier: GPL-2.0-only
/*
 * iopin_lp_sysfs_lseek: the mutant "sysfs-lseek" as a livepatch.
 *
 * A PCI resourceN file (and legacy_io/legacy_mem) gets its f_mapping from
 * the iomem inode, whose i_size is 0, so a seek relative to the end of the
 * file must not go through generic_file_llseek(). 24de09c16f97 ("PCI:
 * resourceN files seek with fixed_size_llseek()", v6.7) gives these
 * attributes a seek of their own, pci_llseek_resource(), bounded by the
 * attribute's size. The mutant gives that seek back to
 * generic_file_llseek(), which is what sysfs used for them before the fix:
 * SEEK_END lands at offset 0 again.
 *
 * pci_llseek_resource() is static, but sysfs calls it through the
 * attribute's pointer, so it always exists out of line and can be patched.
 * Kernels without the fix (6.1) have no such function: loading fails.
 *
 * Only for iopin's self-test (tools/check-livepatch-mutants.sh, with
 * IOPIN_LIVEPATCH_MUTANT=sysfs-lseek the VM's /init loads it for the whole
 * boot); loading it taints the kernel (K).
 */
#include <linux/fs.h>
#include <linux/kobject.h>
#include <linux/sysfs.h>

#include "iopin_lp.h"

/* The signature of pci_llseek_resource(); the attribute and kobject go unused. */
static loff_t llseek_by_inode_size(struct file *filep, struct kobject *kobj,
				   struct bin_attribute *attr, loff_t offset, int whence)
{
	return generic_file_llseek(filep, offset, whence);
}

IOPIN_LIVEPATCH("pci_llseek_resource", llseek_by_inode_size,
		"iopin mutant: PCI resourceN files seek by the iomem inode's size");
