// SPDX-License-Identifier: GPL-2.0-only
/*
 * iopin_lp_procfs_busy_bar: the mutant "procfs-busy-bar" as a livepatch.
 *
 * dc217d2c5a7e ("PCI: Obey iomem restrictions for procfs mmap", v5.12)
 * made proc_bus_pci_mmap() (mmap of /proc/bus/pci/BB/DD.F) refuse a
 * memory BAR that a driver claimed exclusively (iomem_is_exclusive()), as
 * /dev/mem and the sysfs resourceN files do. The mutant is that function
 * without the refusal; everything else it checks (CAP_SYS_RAWIO,
 * lockdown, that the range fits one BAR of the device, write-combining
 * only for a prefetchable BAR) stays.
 *
 * The helpers the kernel's version calls (pci_mmap_fits(),
 * pci_mmap_resource_range()) are not exported, so their work is done here:
 * x86 has the generic pci_resource_to_user() (the bus address is the
 * resource's start) and cannot mmap I/O BARs, and the mapping gets vm_ops
 * of this module whose only method is the same generic_access_phys() the
 * kernel's own pci_phys_vm_ops has. Nothing pins the module while such a
 * mapping lives, so it must never be unloaded: the VM's /init loads it
 * for the whole boot (IOPIN_LIVEPATCH_MUTANT=procfs-busy-bar) and the
 * guest is thrown away. Only for iopin's self-test
 * (tools/check-livepatch-mutants.sh); loading it taints the kernel (K).
 */
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/proc_fs.h>
#include <linux/security.h>

#include "iopin_lp.h"

/* /proc/bus/pci files' private data, as drivers/pci/proc.c defines it. */
struct lp_pci_filp_private {
	enum pci_mmap_state mmap_state;
	int write_combine;
};

static const struct vm_operations_struct lp_pci_phys_vm_ops = {
	.access = generic_access_phys,
};

/* Pages in BAR bar (0 if it has none). */
static unsigned long bar_pages(struct pci_dev *dev, int bar)
{
	resource_size_t len = pci_resource_len(dev, bar);

	return len ? ((len - 1) >> PAGE_SHIFT) + 1 : 0;
}

/* Does the mapping (vm_pgoff: the bus address in pages) lie in BAR bar? */
static bool range_in_bar(struct pci_dev *dev, int bar, struct vm_area_struct *vma)
{
	unsigned long first = pci_resource_start(dev, bar) >> PAGE_SHIFT;
	unsigned long pages = bar_pages(dev, bar);

	return pages && vma->vm_pgoff >= first && vma->vm_pgoff < first + pages &&
	       vma->vm_pgoff + vma_pages(vma) <= first + pages;
}

static int proc_bus_pci_mmap_busy_allowed(struct file *file, struct vm_area_struct *vma)
{
	struct pci_dev *dev = pde_data(file_inode(file));
	struct lp_pci_filp_private *fpriv = file->private_data;
	int bar;

	if (!capable(CAP_SYS_RAWIO) || security_locked_down(LOCKDOWN_PCI_ACCESS))
		return -EPERM;
	/* No I/O BAR mappings on x86 (arch_can_pci_mmap_io() is 0). */
	if (fpriv->mmap_state != pci_mmap_mem)
		return -EINVAL;
	for (bar = 0; bar < PCI_STD_NUM_BARS; bar++)
		if ((pci_resource_flags(dev, bar) & IORESOURCE_MEM) && range_in_bar(dev, bar, vma))
			break;
	if (bar == PCI_STD_NUM_BARS)
		return -ENODEV;
	if (fpriv->write_combine && !(pci_resource_flags(dev, bar) & IORESOURCE_PREFETCH))
		return -EINVAL;
	/* The mutation: no iomem_is_exclusive() refusal of a claimed BAR. */

	/* vm_pgoff is the bus address, which on x86 is the physical one. */
	if (fpriv->write_combine)
		vma->vm_page_prot = pgprot_writecombine(vma->vm_page_prot);
	else
		vma->vm_page_prot = pgprot_device(vma->vm_page_prot);
	vma->vm_ops = &lp_pci_phys_vm_ops;
	return io_remap_pfn_range(vma, vma->vm_start, vma->vm_pgoff,
				  vma->vm_end - vma->vm_start, vma->vm_page_prot);
}

IOPIN_LIVEPATCH("proc_bus_pci_mmap", proc_bus_pci_mmap_busy_allowed,
		"iopin mutant: procfs mmap of a claimed PCI BAR is allowed");
