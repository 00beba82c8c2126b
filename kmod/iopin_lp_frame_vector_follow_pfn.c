// SPDX-License-Identifier: GPL-2.0-only
/*
 * iopin_lp_frame_vector_follow_pfn: the mutant "frame-vector-follow-pfn"
 * as a livepatch of the module videobuf2_common.
 *
 * get_vaddr_frames() is what a V4L2 USERPTR buffer is pinned with. Up to
 * v6.0 it fell back, when pin_user_pages_fast() failed, to looking the
 * pfns of a VM_IO | VM_PFNMAP range up in the page table (follow_pfn())
 * and handing them out with vec->is_pfns set and no reference on anything:
 * a driver then wrote into whatever the pfns were next, after the mapping's
 * owner let them go. 6647e76ab623 ("v4l2: don't fall back to follow_pfn()
 * if pin_user_pages_fast() fails", v6.1) removed that fallback: such a
 * range is refused (EFAULT). The mutant gives it back, as it was, with the
 * lookup 6.12 has (follow_pfnmap_start()/follow_pfnmap_end(); follow_pfn()
 * on 6.1): vb2_vmalloc_get_userptr() then ioremaps the pfns when they are
 * contiguous, and QBUF of a BAR mapping succeeds.
 *
 * Everything else is the function of the kernel it patches: 6.1's takes
 * no write flag and pins with FOLL_FORCE | FOLL_WRITE, 6.12's (since
 * e2fc6edd37ba, v6.2) FOLL_WRITE only for a queue the device writes. Only
 * written against Debian's 6.1 and 6.12 sources: on other kernels the
 * module refuses to load.
 *
 * Only for iopin's self-test (tools/check-livepatch-mutants.sh, with
 * IOPIN_LIVEPATCH_MUTANT=frame-vector-follow-pfn the VM's /init loads it
 * for the whole boot); loading it taints the kernel (K).
 */
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/version.h>
#include <media/frame_vector.h>

#include "iopin_lp.h"

/* The kernels whose get_vaddr_frames() this was written from (Debian 6.1 and 6.12). */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 1, 0) && LINUX_VERSION_CODE < KERNEL_VERSION(6, 13, 0)

/* The pfn mapped at addr of a VM_IO | VM_PFNMAP vma (mmap_lock held). */
static int pfn_of(struct vm_area_struct *vma, unsigned long addr, unsigned long *pfn)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
	struct follow_pfnmap_args args = { .vma = vma, .address = addr };
	int ret;

	if (!(vma->vm_flags & (VM_IO | VM_PFNMAP)))
		return -EINVAL;
	ret = follow_pfnmap_start(&args);
	if (ret)
		return ret;
	*pfn = args.pfn;
	follow_pfnmap_end(&args);
	return 0;
#else
	return follow_pfn(vma, addr, pfn);
#endif
}

/*
 * The fallback 6647e76ab623 removed: the pfns of nr_frames pages from
 * start, across vmas as long as each covers whole pages, none held. The
 * number found, or an error if not even the first one was.
 */
static int frames_by_pfn(unsigned long start, unsigned int nr_frames, struct frame_vector *vec)
{
	struct mm_struct *mm = current->mm;
	unsigned long *nums = (unsigned long *)vec->ptrs;
	struct vm_area_struct *vma;
	int ret = 0, err;

	mmap_read_lock(mm);
	vec->got_ref = false;
	vec->is_pfns = true;
	do {
		vma = vma_lookup(mm, start);
		if (!vma)
			break;
		while (ret < nr_frames && start + PAGE_SIZE <= vma->vm_end) {
			err = pfn_of(vma, start, &nums[ret]);
			if (err) {
				if (ret == 0)
					ret = err;
				goto out;
			}
			start += PAGE_SIZE;
			ret++;
		}
		/* A vma that ends inside the next page: stop there. */
		if (start < vma->vm_end)
			break;
	} while (ret < nr_frames);
out:
	mmap_read_unlock(mm);
	return ret;
}

static int pin_or_follow(unsigned long start, unsigned int nr_frames, unsigned int gup_flags,
			 struct frame_vector *vec)
{
	int ret;

	if (nr_frames == 0)
		return 0;
	if (WARN_ON_ONCE(nr_frames > vec->nr_allocated))
		nr_frames = vec->nr_allocated;
	start = untagged_addr(start);
	ret = pin_user_pages_fast(start, nr_frames, gup_flags, (struct page **)vec->ptrs);
	if (ret > 0) {
		vec->got_ref = true;
		vec->is_pfns = false;
		vec->nr_frames = ret;
		return ret;
	}
	/* The mutation: not refused, looked up. */
	ret = frames_by_pfn(start, nr_frames, vec);
	if (ret == 0)
		ret = -EFAULT;
	vec->nr_frames = ret > 0 ? ret : 0;
	return ret;
}

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
static int get_vaddr_frames_follow_pfn(unsigned long start, unsigned int nr_frames, bool write,
				       struct frame_vector *vec)
{
	return pin_or_follow(start, nr_frames, FOLL_LONGTERM | (write ? FOLL_WRITE : 0), vec);
}
#else
static int get_vaddr_frames_follow_pfn(unsigned long start, unsigned int nr_frames,
				       struct frame_vector *vec)
{
	return pin_or_follow(start, nr_frames, FOLL_FORCE | FOLL_WRITE | FOLL_LONGTERM, vec);
}
#endif

IOPIN_LIVEPATCH_MODULE("videobuf2_common", "get_vaddr_frames", get_vaddr_frames_follow_pfn,
		       "iopin mutant: get_vaddr_frames() falls back to the pfns of a VM_IO mapping");
#else
IOPIN_LIVEPATCH_UNSUPPORTED("get_vaddr_frames() of this kernel: not checked (written for 6.1 and 6.12)",
			    "iopin mutant: get_vaddr_frames() falls back to the pfns of a VM_IO mapping");
#endif
