/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * iopin_lp.h: what every livepatch mutant of kmod/ (iopin_lp_*.c) has in
 * common: one function of vmlinux, or of one module, replaced for the whole
 * time the module is loaded and its patch enabled.
 *
 *	IOPIN_LIVEPATCH("old_function", replacement, "iopin mutant: ...");
 *	IOPIN_LIVEPATCH_MODULE("module_name", "old_function", replacement,
 *			       "iopin mutant: ...");
 *
 * The second form names the function's module (its name as lsmod prints
 * it, "_" for "-"): the livepatch subsystem patches it when that module is
 * loaded, at once if it already is, else when it loads later (and drops
 * the patch of it when it is unloaded). The function is found by name in
 * that module's own symbols: a static one is fine as long as it exists
 * out of line there (nm of the .ko) under exactly that name, once.
 *
 * A mutant written for some kernels only builds, on the others, a module
 * that refuses to load (EOPNOTSUPP, saying why in the kernel log):
 *
 *	IOPIN_LIVEPATCH_UNSUPPORTED("why", "iopin mutant: ...");
 *
 * The keeper (lib/kstate.c) disables the patch through
 * /sys/kernel/livepatch/<module>/enabled before it unloads the module;
 * loading one taints the kernel (K), which lib's health check expects.
 */
#ifndef IOPIN_LP_H
#define IOPIN_LP_H

#include <linux/livepatch.h>
#include <linux/module.h>

#define IOPIN_LIVEPATCH(old, replacement, description)				\
	IOPIN_LIVEPATCH_MODULE(NULL /* vmlinux */, old, replacement, description)

#define IOPIN_LIVEPATCH_MODULE(module, old, replacement, description)		\
	static struct klp_func iopin_lp_funcs[] = {				\
		{ .old_name = old, .new_func = replacement },			\
		{ }								\
	};									\
	static struct klp_object iopin_lp_objs[] = {				\
		{ .name = module, .funcs = iopin_lp_funcs },			\
		{ }								\
	};									\
	static struct klp_patch iopin_lp_patch = {				\
		.mod = THIS_MODULE,						\
		.objs = iopin_lp_objs,						\
	};									\
	static int __init iopin_lp_init(void)					\
	{									\
		return klp_enable_patch(&iopin_lp_patch);			\
	}									\
	static void __exit iopin_lp_exit(void)					\
	{									\
	}									\
	module_init(iopin_lp_init);						\
	module_exit(iopin_lp_exit);						\
	MODULE_DESCRIPTION(description);					\
	MODULE_LICENSE("GPL");							\
	MODULE_INFO(livepatch, "Y")

#define IOPIN_LIVEPATCH_UNSUPPORTED(why, description)				\
	static int __init iopin_lp_init(void)					\
	{									\
		pr_err("%s: %s\n", KBUILD_MODNAME, why);			\
		return -EOPNOTSUPP;						\
	}									\
	module_init(iopin_lp_init);						\
	MODULE_DESCRIPTION(description);					\
	MODULE_LICENSE("GPL")

#endif /* IOPIN_LP_H */
