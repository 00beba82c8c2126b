// SPDX-License-Identifier: GPL-2.0-only
/*
 * iopin_lp_no_access_phys: the mutant "no-access-phys" as a livepatch.
 *
 * 28b2ee20c7cb ("access_process_vm device memory infrastructure",
 * v2.6.27) gave VM_IO/VM_PFNMAP mappings a vm_ops->access hook, with
 * generic_access_phys() as the one /dev/mem, PCI resourceN and procfs
 * BAR mappings use: a debugger (ptrace PEEK/POKE, /proc/PID/mem) reaches
 * device memory through an ioremap of the pfn. Before it, GUP could not
 * pin such a mapping and the access stopped there: no byte moved.
 *
 * The mutant makes generic_access_phys() refuse every access, which is
 * what __access_remote_vm() did for these mappings before the hook: 0
 * bytes copied, the accessor reports EIO.
 *
 * Only for iopin's self-test (tools/check-livepatch-mutants.sh, with
 * IOPIN_LIVEPATCH_MUTANT=no-access-phys the VM's /init loads it for the
 * whole boot); loading it taints the kernel (K).
 */
#include <linux/mm.h>

#include "iopin_lp.h"

static int access_phys_refused(struct vm_area_struct *vma, unsigned long addr,
			       void *buf, int len, int write)
{
	return -EINVAL;
}

IOPIN_LIVEPATCH("generic_access_phys", access_phys_refused,
		"iopin mutant: debuggers cannot access iomem mappings (before 28b2ee20c7cb)");
