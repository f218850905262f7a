// SPDX-License-Identifier: GPL-2.0
/* /proc/net/xt_ratewin: placeholder until the reader and writer land. */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/proc_fs.h>
#include <net/net_namespace.h>

#include "ratewin.h"

int rw_proc_net_init(struct net *net, struct rw_net *rn)
{
	rn->proc_dir = proc_mkdir("xt_ratewin", net->proc_net);
	return rn->proc_dir ? 0 : -ENOMEM;
}

void rw_proc_net_exit(struct net *net, struct rw_net *rn)
{
	remove_proc_subtree("xt_ratewin", net->proc_net);
	rn->proc_dir = NULL;
}

int rw_proc_table_add(struct xt_ratewin_tbl *t)
{
	return 0;
}

void rw_proc_table_del(struct xt_ratewin_tbl *t)
{
}
