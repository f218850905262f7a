// SPDX-License-Identifier: GPL-2.0
/* Skeleton: registers the match; the limits are not implemented yet. */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/netfilter/x_tables.h>
#include <linux/netfilter/xt_ratewin.h>

static bool ratewin_mt(const struct sk_buff *skb, struct xt_action_param *par)
{
	return false;
}

static int ratewin_mt_check(const struct xt_mtchk_param *par)
{
	const struct xt_ratewin_mtinfo *info = par->matchinfo;

	if (strnlen(info->name, XT_RATEWIN_NAME_LEN) == XT_RATEWIN_NAME_LEN)
		return -EINVAL;
	return 0;
}

static struct xt_match ratewin_mt_reg[] __read_mostly = {
	{
		.name		= "ratewin",
		.family		= NFPROTO_IPV4,
		.match		= ratewin_mt,
		.checkentry	= ratewin_mt_check,
		.matchsize	= sizeof(struct xt_ratewin_mtinfo),
		.usersize	= offsetof(struct xt_ratewin_mtinfo, table),
		.me		= THIS_MODULE,
	},
	{
		.name		= "ratewin",
		.family		= NFPROTO_IPV6,
		.match		= ratewin_mt,
		.checkentry	= ratewin_mt_check,
		.matchsize	= sizeof(struct xt_ratewin_mtinfo),
		.usersize	= offsetof(struct xt_ratewin_mtinfo, table),
		.me		= THIS_MODULE,
	},
};

static int __init ratewin_mt_init(void)
{
	return xt_register_matches(ratewin_mt_reg, ARRAY_SIZE(ratewin_mt_reg));
}

static void __exit ratewin_mt_exit(void)
{
	xt_unregister_matches(ratewin_mt_reg, ARRAY_SIZE(ratewin_mt_reg));
}

module_init(ratewin_mt_init);
module_exit(ratewin_mt_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Xtables: per-key token bucket, sliding window and connection limit");
MODULE_ALIAS("ipt_ratewin");
MODULE_ALIAS("ip6t_ratewin");
