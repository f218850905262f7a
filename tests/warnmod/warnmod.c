// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only module: raises a kernel WARNING when loaded, so that the VM
 * harness self-check (tests/selftests/00_harness_warn.sh) can prove that a
 * guest WARNING fails the run. Never install it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bug.h>
#include <linux/module.h>
#include <linux/printk.h>

static int __init warnmod_init(void)
{
	pr_info("raising a WARNING on purpose (VM harness self-check)\n");
	WARN_ON(1);
	return 0;
}

static void __exit warnmod_exit(void)
{
}

module_init(warnmod_init);
module_exit(warnmod_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("xt_ratewin test harness: WARN_ON(1) on load");
