// SPDX-License-Identifier: GPL-2.0-only
/*
 * iopin_lp_access_phys: the mutant "access-phys-no-recheck" as a livepatch.
 *
 * Replaces generic_access_phys() of a stock kernel with its form before
 * 96667f8a4382 ("mm: Close race in generic_access_phys", v5.12): one pte
 * lookup, then ioremap_prot() and the copy, with no second lookup. An
 * access that a driver's claim revoked between the lookup and the copy
 * then goes to the stale pfn. Everything else (the write permission check,
 * and on 6.12.118 the one-page clamp) is kept, so that only the re-check
 * is missing.
 *
 * Only for iopin's self-test of its gate tests (ptrace_access/access_gate
 * with IOPIN_LIVEPATCH_MUTANT=access-phys-no-recheck): loading it taints
 * the kernel (K). Disable it through
 * /sys/kernel/livepatch/iopin_lp_access_phys/enabled before unloading.
 */
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/version.h>

#include "iopin_lp.h"

/*
 * ioremap_prot() takes the protection as unsigned long bits up to 6.12 and
 * as a pgprot_t in 7.x (since v6.15, "mm/ioremap: pass pgprot_t to
 * ioremap_prot() instead of unsigned long").
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 15, 0)
#define IOREMAP_PROT(p)	(p)
#else
#define IOREMAP_PROT(p)	pgprot_val(p)
#endif

/*
 * The copy through an ioremap of the pfn looked up once, with the write
 * permission of that lookup. The mutation: no second lookup afterwards,
 * the pfn may be gone by the time of the copy.
 */
static int copy_once_looked_up(resource_size_t phys, pgprot_t prot, bool writable,
			       int offset, void *buf, int len, int write)
{
	void __iomem *maddr;

	if ((write & FOLL_WRITE) && !writable)
		return -EINVAL;
	maddr = ioremap_prot(phys, PAGE_ALIGN(len + offset), IOREMAP_PROT(prot));
	if (!maddr)
		return -ENOMEM;
	if (write)
		memcpy_toio(maddr + offset, buf, len);
	else
		memcpy_fromio(buf, maddr + offset, len);
	iounmap(maddr);
	return len;
}

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
static int generic_access_phys_no_recheck(struct vm_area_struct *vma, unsigned long addr,
					  void *buf, int len, int write)
{
	struct follow_pfnmap_args args = { .vma = vma, .address = addr };
	int offset = offset_in_page(addr);
	resource_size_t phys;
	pgprot_t prot;
	bool writable;

	if (!(vma->vm_flags & (VM_IO | VM_PFNMAP)))
		return -EINVAL;
	/* As the kernel it patches: never past the page. */
	len = min_t(int, len, PAGE_SIZE - offset);
	if (follow_pfnmap_start(&args))
		return -EINVAL;
	prot = args.pgprot;
	phys = (resource_size_t)args.pfn << PAGE_SHIFT;
	writable = args.writable;
	follow_pfnmap_end(&args);
	return copy_once_looked_up(phys, prot, writable, offset, buf, len, write);
}
#else
static int generic_access_phys_no_recheck(struct vm_area_struct *vma, unsigned long addr,
					  void *buf, int len, int write)
{
	int offset = offset_in_page(addr);
	spinlock_t *ptl;
	pte_t *ptep, pte;

	if (!(vma->vm_flags & (VM_IO | VM_PFNMAP)))
		return -EINVAL;
	if (follow_pte(vma->vm_mm, addr, &ptep, &ptl))
		return -EINVAL;
	pte = *ptep;
	pte_unmap_unlock(ptep, ptl);
	return copy_once_looked_up((resource_size_t)pte_pfn(pte) << PAGE_SHIFT,
				   pte_pgprot(pte), pte_write(pte),
				   offset, buf, len, write);
}
#endif

IOPIN_LIVEPATCH("generic_access_phys", generic_access_phys_no_recheck,
		"iopin mutant: generic_access_phys() without its re-check");
