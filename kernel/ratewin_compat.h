/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel version shims for xt_ratewin, all in one place.
 * Supported: 5.10 and later.
 *
 * Where a distribution backports an interface, a version number cannot
 * tell; kernel/Kbuild then probes the headers and defines RW_HAVE_*.
 */
#ifndef _RATEWIN_COMPAT_H
#define _RATEWIN_COMPAT_H

#include <linux/version.h>
#include <linux/proc_fs.h>
#include <linux/vmalloc.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_conntrack_count.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(5, 10, 0)
#error "xt_ratewin needs Linux 5.10 or later"
#endif

/* pde_data() was PDE_DATA() before 5.17 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(5, 17, 0)
#define rw_pde_data(inode)	PDE_DATA(inode)
#else
#define rw_pde_data(inode)	pde_data(inode)
#endif

/* vmalloc_huge(): huge pages for a large vmalloc area, from 5.18 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(5, 18, 0)
#define rw_vmalloc_huge(size, gfp)	__vmalloc(size, gfp)
#else
#define rw_vmalloc_huge(size, gfp)	vmalloc_huge(size, gfp)
#endif

/*
 * Count the skb's connection into a per-key list. Newer kernels (and
 * stable backports) take the skb; older ones want the tuple and zone.
 * Returns 0, -EEXIST when the connection was already counted, or an error.
 */
#ifdef RW_HAVE_CONNCOUNT_SKB
static inline int rw_conncount_add(struct net *net, const struct sk_buff *skb,
				   u16 family, struct nf_conncount_list *list)
{
	return nf_conncount_add_skb(net, skb, family, list);
}
#else
static inline int rw_conncount_add(struct net *net, const struct sk_buff *skb,
				   u16 family, struct nf_conncount_list *list)
{
	enum ip_conntrack_info ctinfo;
	const struct nf_conn *ct = nf_ct_get(skb, &ctinfo);

	if (!ct)
		return -ENOENT;
	return nf_conncount_add(net, list,
				&ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple,
				nf_ct_zone(ct));
}
#endif

#endif /* _RATEWIN_COMPAT_H */
