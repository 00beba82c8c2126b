// SPDX-License-Identifier: GPL-2.0-only
/*
 * iopin_lp_vfio_pfn_write_ignored: the mutant "vfio-pfn-write-ignored" as
 * a livepatch of the module vfio_iommu_type1.
 *
 * A VFIO type1 DMA mapping of a VM_PFNMAP range (a BAR mapped by /dev/mem,
 * resourceN or procfs) gets its pfns from the page table, not from GUP:
 * follow_fault_pfn(). 07956b6269d3 ("vfio/type1: Use follow_pte()", v5.12)
 * made that lookup take the pte (follow_pte(), since 6.12
 * follow_pfnmap_start()) instead of only its pfn (follow_pfn()), and refuse
 * (EFAULT) a mapping the device may write through (IOMMU_WRITE) when the
 * pte is not writable. The mutant drops that refusal: the pfn of a
 * read-only mapping goes into a device-writable IOMMU mapping.
 *
 * follow_fault_pfn() has one caller, vaddr_get_pfns(), into which the
 * Debian kernels' builds inline it; vaddr_get_pfns() (static, two callers)
 * exists out of line in their vfio_iommu_type1.ko (6.1.192 and 6.12.118:
 * `nm`), so that is the function replaced: here as in Debian's 6.1 and
 * 6.12 sources, from exported helpers only, with the one check missing.
 * Later kernels changed it (a vfio_batch argument, ranges of huge
 * pfnmaps): on kernels other than 6.1 and 6.12 the module refuses to load.
 *
 * Only for iopin's self-test (tools/check-livepatch-mutants.sh, with
 * IOPIN_LIVEPATCH_MUTANT=vfio-pfn-write-ignored the VM's /init loads it for
 * the whole boot); loading it taints the kernel (K).
 */
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/uaccess.h>
#include <linux/version.h>

#include "iopin_lp.h"

/* The kernels whose vaddr_get_pfns() this was written from (Debian 6.1 and 6.12). */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 1, 0) && LINUX_VERSION_CODE < KERNEL_VERSION(6, 13, 0)

/* As vfio_iommu_type1.c: a pfn that no page refcount holds. */
static bool pfn_is_unrefcounted(unsigned long pfn)
{
	if (pfn_valid(pfn))
		return PageReserved(pfn_to_page(pfn));
	return true;
}

/*
 * follow_fault_pfn() without its refusal: fault the page in if there is no
 * pte yet (-EAGAIN: mmap_lock was dropped, look the vma up again), then
 * take the pte's pfn, writable or not.
 */
static int fault_pfn_any_pte(struct vm_area_struct *vma, struct mm_struct *mm,
			     unsigned long vaddr, unsigned long *pfn, bool write_fault)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
	struct follow_pfnmap_args args = { .vma = vma, .address = vaddr };
#else
	spinlock_t *ptl;
	pte_t *ptep;
#endif
	bool unlocked = false;
	int ret;

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
	ret = follow_pfnmap_start(&args);
#else
	ret = follow_pte(vma->vm_mm, vaddr, &ptep, &ptl);
#endif
	if (ret) {
		ret = fixup_user_fault(mm, vaddr,
				       FAULT_FLAG_REMOTE | (write_fault ? FAULT_FLAG_WRITE : 0),
				       &unlocked);
		if (unlocked)
			return -EAGAIN;
		if (ret)
			return ret;
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
		ret = follow_pfnmap_start(&args);
#else
		ret = follow_pte(vma->vm_mm, vaddr, &ptep, &ptl);
#endif
		if (ret)
			return ret;
	}
	/* The mutation: "if (write_fault && !writable) ret = -EFAULT;" is gone. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
	*pfn = args.pfn;
	follow_pfnmap_end(&args);
#else
	*pfn = pte_pfn(*ptep);
	pte_unmap_unlock(ptep, ptl);
#endif
	return 0;
}

/* vaddr_get_pfns() of the kernel it patches, calling the above. */
static int vaddr_get_pfns_write_ignored(struct mm_struct *mm, unsigned long vaddr, long npages,
					int prot, unsigned long *pfn, struct page **pages)
{
	struct vm_area_struct *vma;
	unsigned int flags = 0;
	int ret;

	if (prot & IOMMU_WRITE)
		flags |= FOLL_WRITE;

	mmap_read_lock(mm);
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
	ret = pin_user_pages_remote(mm, vaddr, npages, flags | FOLL_LONGTERM, pages, NULL);
	if (ret > 0) {
		*pfn = page_to_pfn(pages[0]);
		goto done;
	}
	vaddr = untagged_addr_remote(mm, vaddr);
#else
	ret = pin_user_pages_remote(mm, vaddr, npages, flags | FOLL_LONGTERM, pages, NULL, NULL);
	if (ret > 0) {
		int i;

		/* 6.1: the zero page is not held (put_pfn() skips it). */
		for (i = 0; i < ret; i++)
			if (unlikely(is_zero_pfn(page_to_pfn(pages[i]))))
				unpin_user_page(pages[i]);
		*pfn = page_to_pfn(pages[0]);
		goto done;
	}
	vaddr = untagged_addr(vaddr);
#endif

retry:
	vma = vma_lookup(mm, vaddr);
	if (vma && vma->vm_flags & VM_PFNMAP) {
		ret = fault_pfn_any_pte(vma, mm, vaddr, pfn, prot & IOMMU_WRITE);
		if (ret == -EAGAIN)
			goto retry;
		if (!ret)
			ret = pfn_is_unrefcounted(*pfn) ? 1 : -EFAULT;
	}
done:
	mmap_read_unlock(mm);
	return ret;
}

IOPIN_LIVEPATCH_MODULE("vfio_iommu_type1", "vaddr_get_pfns", vaddr_get_pfns_write_ignored,
		       "iopin mutant: VFIO type1 maps a read-only pfnmap pte device-writable");
#else
IOPIN_LIVEPATCH_UNSUPPORTED("vaddr_get_pfns() of this kernel: not checked (written for 6.1 and 6.12)",
			    "iopin mutant: VFIO type1 maps a read-only pfnmap pte device-writable");
#endif
