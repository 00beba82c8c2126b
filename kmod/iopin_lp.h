/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * iopin_lp.h: what every livepatch mutant of kmod/ (iopin_lp_*.c) has in
 * common: one function of vmlinux replaced for the whole time the module is
 * loaded and its patch enabled.
 *
 *	IOPIN_LIVEPATCH("old_function", replacement, "iopin mutant: ...");
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
	static struct klp_func iopin_lp_funcs[] = {				\
		{ .old_name = old, .new_func = replacement },			\
		{ }								\
	};									\
	static struct klp_object iopin_lp_objs[] = {				\
		{ .name = NULL, .funcs = iopin_lp_funcs },	/* vmlinux */	\
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

#endif /* IOPIN_LP_H */
