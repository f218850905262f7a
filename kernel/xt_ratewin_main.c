// SPDX-License-Identifier: GPL-2.0
/*
 * xt_ratewin: per-key token bucket, sliding window and concurrent-connection
 * limit in one lookup.
 *
 * Tables live per (network namespace, name) and are shared by every rule,
 * IPv4 and IPv6, that names them. The packet path is an RCU lookup in an
 * rhashtable followed by one per-entry lock; nothing on it is shared across
 * keys except the table's entry counter, touched only when a key is new.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/ctype.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/jhash.h>
#include <linux/slab.h>
#include <linux/netfilter/x_tables.h>
#include <linux/netfilter/xt_ratewin.h>
#include <net/ipv6.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/netfilter/nf_conntrack.h>

#include "ratewin.h"

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Xtables: per-key token bucket, sliding window and connection limit");
MODULE_VERSION(RW_VERSION);
MODULE_ALIAS("ipt_ratewin");
MODULE_ALIAS("ip6t_ratewin");

static unsigned int rw_net_id __read_mostly;

/* every entry lock is one lock class to lockdep (see rw_entry_lock()) */
struct lockdep_map rw_entry_lock_map;

struct rw_net *rw_pernet(struct net *net)
{
	return net_generic(net, rw_net_id);
}

/* ---- hashing ---------------------------------------------------------- */

/*
 * jhash2 with the table's random seed. Measured on a 4-word key: 10 ns
 * against 24 ns for hsiphash (SipHash-1-3 on 64-bit). Flooding one chain
 * does not pay: rhashtable rehashes with a new seed when a chain grows
 * past its elasticity, so the cheaper hash is the better trade here.
 */

static noinline u32 rw_hash_words_long(const u32 *w, u8 words, u32 seed)
{
	return jhash2(w, words, seed);
}

/* a key of one address whose other words are zero (an IPv4 address) */
static __always_inline u32 rw_hash_1word(u32 w0, u8 family, u32 seed)
{
	return jhash_1word(w0, seed ^ family);
}

static __always_inline u32 rw_hash_words(const u32 *w, u8 words, u8 family,
					 u32 seed)
{
	/*
	 * One address whose other words are zero (an IPv4 address, the
	 * common key): one word to mix, inline. A function of the key words
	 * like the other, so keys and entries hash alike.
	 */
	if (words == 4 && !(w[1] | w[2] | w[3]))
		return rw_hash_1word(w[0], family, seed);
	return rw_hash_words_long(w, words, seed ^ family);
}

static __always_inline u32 rw_key_hashfn(const void *data, u32 len, u32 seed)
{
	const struct rw_key *k = data;

	return rw_hash_words(k->w, k->words, k->family, seed);
}

static u32 rw_obj_hashfn(const void *data, u32 len, u32 seed)
{
	const struct rw_entry *e = data;

	return rw_hash_words(e->key, e->key_words, e->family, seed);
}

/* Is the entry's key k? */
static __always_inline bool rw_key_eq(const struct rw_entry *e,
				      const struct rw_key *k)
{
	if (e->family != k->family || e->key_words != k->words)
		return false;
	/* one address (srcip): word compares instead of a call to memcmp() */
	if (k->words == 4)
		return !((e->key[0] ^ k->w[0]) | (e->key[1] ^ k->w[1]) |
			 (e->key[2] ^ k->w[2]) | (e->key[3] ^ k->w[3]));
	return !memcmp(e->key, k->w, k->words * sizeof(u32));
}

/* Is the entry's key the IPv4 source address addr? */
static __always_inline bool rw_v4_eq(const struct rw_entry *e, u32 addr)
{
	return e->family == NFPROTO_IPV4 && e->key_words == 4 &&
	       !((e->key[0] ^ addr) | e->key[1] | e->key[2] | e->key[3]);
}

static int rw_obj_cmpfn(struct rhashtable_compare_arg *arg, const void *obj)
{
	return !rw_key_eq(obj, arg->key);
}

static const struct rhashtable_params rw_params = {
	.head_offset		= offsetof(struct rw_entry, node),
	.hashfn			= rw_key_hashfn,
	.obj_hashfn		= rw_obj_hashfn,
	.obj_cmpfn		= rw_obj_cmpfn,
	.automatic_shrinking	= true,
};

/* ---- entries ---------------------------------------------------------- */

static struct rw_entry *rw_entry_alloc(const struct rw_cfg *c,
				       const struct rw_key *k, u32 now,
				       gfp_t gfp)
{
	struct rw_entry *e = kmalloc(c->size, gfp | __GFP_NOWARN);

	if (!e)
		return NULL;
	memset(e, 0, c->size);
	e->family = k->family;
	e->key_words = k->words;
	e->gen = c->gen;
	memcpy(e->key, k->w, k->words * sizeof(u32));
	e->st.tokens = c->lim.burst_fp;
	e->st.last = now;
	if (c->win_off)
		rw_win_init(rw_entry_win(e, c), &c->lim, now);
	if (c->conn_off) {
		e->flags |= RW_E_CONN;
		nf_conncount_list_init(rw_entry_conns(e));
	}
	return e;
}

#ifdef RW_LEAK_EVERY
/*
 * A test build only (make check-leak-selftest): leak one entry in
 * RW_LEAK_EVERY, so that the leak check of the stress suite has a leak to
 * find. Never defined in a regular build.
 */
static bool rw_leak_on_purpose(void)
{
	static atomic_t n = ATOMIC_INIT(0);

	return atomic_inc_return(&n) % (RW_LEAK_EVERY) == 0;
}
#else
static inline bool rw_leak_on_purpose(void)
{
	return false;
}
#endif

static void rw_entry_free(struct rw_entry *e)
{
	struct nf_conncount_list *l = rw_entry_conns(e);

	if (l)
		nf_conncount_cache_free(l);
	if (rw_leak_on_purpose())
		return;
	kfree(e);
}

static void rw_entry_free_rcu(struct rcu_head *head)
{
	rw_entry_free(container_of(head, struct rw_entry, rcu));
}

/*
 * Unlink an entry. Called with the entry lock held and BH disabled; the
 * entry must not be dead. Lookups that already hold a pointer see
 * RW_E_DEAD under the lock and retry.
 */
static void rw_entry_unlink(struct xt_ratewin_tbl *t, struct rw_entry *e)
{
	e->flags |= RW_E_DEAD;
	rhashtable_remove_fast(&t->ht, &e->node, rw_params);
	atomic_dec(&t->count);
	/* admitted/over are dead now; their space becomes the rcu_head */
	call_rcu(&e->rcu, rw_entry_free_rcu);
}

/*
 * Can this entry change a decision any more? Evaluated on a copy, so that
 * neither GC nor a reader changes what the entry shows. Entry lock held.
 */
static bool rw_entry_idle(struct rw_entry *e, const struct rw_cfg *c, u32 now)
{
	u8 winbuf[RW_WIN_EXACT_MAX * sizeof(u32) + sizeof(struct rw_ring)]
		__aligned(8);
	struct rw_state st = e->st;
	u8 flags = e->flags;
	void *win = NULL;

	BUILD_BUG_ON(sizeof(winbuf) < sizeof(struct rw_slots));
	if ((u32)(now - e->st.last) < c->expire_j)
		return false;
	if (c->win_off) {
		win = winbuf;
		memcpy(win, rw_entry_win(e, c),
		       rw_win_size(c->lim.win_kind, c->lim.win_n));
	}
	rw_refresh(&st, &flags, win, &c->lim, now);
	return rw_idle_state(&st, flags, win, &c->lim);
}

/*
 * GC step for one entry, under RCU with BH disabled. Reclaims it when it can
 * no longer change a verdict. With trylock (packet path), a busy entry is
 * skipped. Returns true when the entry was reclaimed.
 */
static bool rw_entry_gc(struct xt_ratewin_tbl *t, struct rw_entry *e,
			u32 expire_j, bool trylock)
{
	struct nf_conncount_list *l = rw_entry_conns(e);
	struct rw_cfg *c;
	bool reclaim = false;
	u32 now;

	/*
	 * Entries seen within the expiry stay, and need no lock to tell: a
	 * concurrent update can only make this age look huge, which falls
	 * through to the check under the lock.
	 */
	if ((u32)(rw_now() - READ_ONCE(e->st.last)) <
	    min_t(u32, expire_j, 1U << 30))
		return false;

	/* connections first: nf_conncount takes its own (sleeping on RT) lock */
	if (l && READ_ONCE(l->count)) {
		nf_conncount_gc_list(t->net, l);
		if (READ_ONCE(l->count))
			return false;
	}
	if (trylock) {
		if (!rw_entry_trylock(e))
			return false;
	} else {
		rw_entry_lock(e);
	}
	if (e->flags & RW_E_DEAD)
		goto out;
	/* under the lock: no CPU can have stamped the entry later than this */
	now = rw_now();
	c = rw_entry_cfg(t, e);
	/*
	 * Keep every stored age below 2^32 jiffies: an entry idle this long
	 * is brought up to date (its bucket refilled, old events dropped).
	 */
	if ((u32)(now - e->st.last) > (1U << 30))
		rw_refresh(&e->st, &e->flags, rw_entry_win(e, c), &c->lim, now);
	if (rw_entry_idle(e, c, now) && (!l || !READ_ONCE(l->count))) {
		rw_entry_unlink(t, e);
		atomic64_inc(&t->reclaimed);
		reclaim = true;
	}
out:
	rw_entry_unlock(e);
	return reclaim;
}

/*
 * The table is full: reclaim what can be reclaimed near the start of a
 * rotating scan, a bounded amount of work on the packet path. The periodic
 * GC is also kicked to sweep the whole table at once.
 */
static bool rw_reclaim_some(struct xt_ratewin_tbl *t, u32 expire_j)
{
	struct bucket_table *tbl = rht_dereference_rcu(t->ht.tbl, &t->ht);
	unsigned int i, start = get_random_u32(), seen = 0;
	bool done = false;

	/* once per sweep, not once per packet of a flood of new keys */
	if (!test_and_set_bit(0, &t->gc_kick))
		mod_delayed_work(system_power_efficient_wq, &t->gc_work, 0);
	for (i = 0; i < 16 && !done && seen < 64; i++) {
		unsigned int b = (start + i) & (tbl->size - 1);
		struct rhash_head *pos;
		struct rw_entry *e;

		rht_for_each_entry_rcu(e, pos, tbl, b, node) {
			if (++seen > 64)
				break;
			if (rw_entry_gc(t, e, expire_j, true)) {
				done = true;
				break;
			}
		}
	}
	return done;
}

/*
 * Create the key's entry, or find the one another CPU just made. Returns
 * NULL when the table is full (and nothing could be reclaimed) or memory
 * is short.
 */
static noinline struct rw_entry *rw_create(struct xt_ratewin_tbl *t,
					   const struct rw_cfg *c,
					   const struct rw_key *k, u32 now,
					   gfp_t gfp)
{
	struct rw_entry *e, *n;

	if (atomic_inc_return(&t->count) > c->max) {
		atomic_dec(&t->count);
		if (!rw_reclaim_some(t, c->expire_j))
			goto full;
		if (atomic_inc_return(&t->count) > c->max)
			goto undo;
	}
	n = rw_entry_alloc(c, k, now, gfp);
	if (!n)
		goto undo;
	e = rhashtable_lookup_get_insert_key(&t->ht, k, &n->node, rw_params);
	if (likely(!e))
		return n;
	kfree(n);
	atomic_dec(&t->count);
	if (!IS_ERR(e))
		return e;	/* another CPU inserted it first */
	goto full;
undo:
	atomic_dec(&t->count);
full:
	atomic64_inc(&t->full_events);
	return NULL;
}

/*
 * rhashtable_lookup() with the hash and the compare inline. Through
 * rhashtable_params the compiler calls the compare function for every
 * entry visited, and on the packet path that call (with its argument
 * block on the stack) costs as much as the compare. The walk is
 * __rhashtable_lookup()'s: while entries move, a chain can end in another
 * bucket's nulls marker, and a resize publishes future_tbl. With v4 the
 * key is the IPv4 source address addr (one word to hash and compare,
 * nothing on the stack), else k; v4 is a constant in each caller.
 */
static __always_inline struct rw_entry *rw_lookup(struct xt_ratewin_tbl *t,
						  const struct rw_key *k,
						  u32 addr, const bool v4)
{
	struct rhashtable *ht = &t->ht;
	struct rhash_lock_head __rcu *const *bkt;
	struct bucket_table *tbl;
	struct rhash_head *he;
	unsigned int hash;
	struct rw_entry *e;

	tbl = rht_dereference_rcu(ht->tbl, ht);
restart:
	/* rw_hash_words() of the same key, as the table hashes its entries */
	if (v4)
		hash = rw_hash_1word(addr, NFPROTO_IPV4, tbl->hash_rnd);
	else
		hash = rw_hash_words(k->w, k->words, k->family, tbl->hash_rnd);
	hash = rht_bucket_index(tbl, hash);
	bkt = rht_bucket(tbl, hash);
	do {
		rht_for_each_rcu_from(he, rht_ptr_rcu(bkt), tbl, hash) {
			e = container_of(he, struct rw_entry, node);
			if (v4 ? rw_v4_eq(e, addr) : rw_key_eq(e, k))
				return e;
		}
	} while (he != RHT_NULLS_MARKER(bkt));
	/* see a table a resize has published since */
	smp_rmb();
	tbl = rht_dereference_rcu(tbl->future_tbl, ht);
	if (unlikely(tbl))
		goto restart;
	return NULL;
}

/* rw_create() for an IPv4 source address key, off the fast path */
static noinline struct rw_entry *rw_create_v4(struct xt_ratewin_tbl *t,
					      const struct rw_cfg *c,
					      u32 addr, u32 now)
{
	struct rw_key k = {
		.family	= NFPROTO_IPV4,
		.words	= 4,
		.w	= { addr },
	};

	return rw_create(t, c, &k, now, GFP_ATOMIC);
}

/*
 * Find the key's entry or create it. The lookup is inlined into the
 * match: under emulation above all, a call and return cost as much as
 * the rest of a warm lookup.
 */
static __always_inline struct rw_entry *rw_get(struct xt_ratewin_tbl *t,
					       const struct rw_cfg *c,
					       const struct rw_key *k,
					       u32 addr, u32 now,
					       const bool v4)
{
	struct rw_entry *e = rw_lookup(t, k, addr, v4);

	if (likely(e))
		return e;
	if (v4)
		return rw_create_v4(t, c, addr, now);
	return rw_create(t, c, k, now, GFP_ATOMIC);
}

/* ---- keys ------------------------------------------------------------- */

static bool rw_proto_has_ports(u8 proto)
{
	switch (proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
	case IPPROTO_SCTP:
	case IPPROTO_DCCP:
		return true;
	}
	return false;
}

/* Build the key of a packet. False when its headers cannot be read. */
static bool rw_key_from_skb(struct rw_key *k, const struct rw_cfg *c,
			    const struct sk_buff *skb,
			    const struct xt_action_param *par)
{
	u8 family = xt_family(par), v6 = family == NFPROTO_IPV6;
	unsigned int thoff = par->thoff;
	int soff, doff, poff;
	bool ports = false;
	u8 proto;

	k->family = family;
	k->words = c->key_words;
	soff = rw_key_src_off(c->mode);
	doff = rw_key_dst_off(c->mode);
	poff = rw_key_port_off(c->mode);
	memset(k->w, 0, sizeof(k->w));
	if (!v6) {
		const struct iphdr *iph = ip_hdr(skb);

		if (soff >= 0)
			k->w[soff] = (__force u32)iph->saddr;
		if (doff >= 0)
			k->w[doff] = (__force u32)iph->daddr;
		proto = iph->protocol;
		ports = !par->fragoff && rw_proto_has_ports(proto);
	} else {
		const struct ipv6hdr *ip6h = ipv6_hdr(skb);
		unsigned short frag = 0;
		int nexthdr;

		if (soff >= 0)
			memcpy(&k->w[soff], &ip6h->saddr, 16);
		if (doff >= 0)
			memcpy(&k->w[doff], &ip6h->daddr, 16);
		if (poff >= 0) {
			nexthdr = ipv6_find_hdr(skb, &thoff, -1, &frag, NULL);
			if (nexthdr < 0)
				return false;
			proto = nexthdr;
			ports = !(frag & htons(IP6_OFFSET)) &&
				rw_proto_has_ports(proto);
		}
	}
	if (soff >= 0)
		rw_addr_mask(&k->w[soff], v6, c->srcmask[v6]);
	if (doff >= 0)
		rw_addr_mask(&k->w[doff], v6, c->dstmask[v6]);
	if (poff >= 0 && ports) {
		__be16 _p[2];
		const __be16 *p;

		p = skb_header_pointer(skb, thoff, sizeof(_p), _p);
		if (!p)
			return false;
		if (c->mode & XT_RATEWIN_MODE_SRCPORT)
			k->w[poff] = (u32)ntohs(p[0]) << 16;
		if (c->mode & XT_RATEWIN_MODE_DSTPORT)
			k->w[poff] |= ntohs(p[1]);
	}
	return true;
}

/* ---- the match -------------------------------------------------------- */

/*
 * The key's live connections, this packet's included (SPEC 4.2), or a
 * count that gives the same verdict. Counting a connection in costs a
 * conntrack lookup for every connection already listed, so it is done
 * only where the verdict can depend on it:
 *  - a connection's first packet (conntrack entry not yet confirmed) is
 *    always counted in;
 *  - a packet of a confirmed connection, with fewer than conn_above
 *    connections listed, passes whether its own connection is listed or
 *    not (listed + 1 <= conn_above): the listed count is returned as it
 *    is. Stale list entries can only raise that count, never lower it;
 *  - otherwise (the limit is reached, or no conntrack entry) the list is
 *    brought up to date and the exact count returned, as connlimit does.
 * A connection older than the rule thus enters the list once the listed
 * count reaches the limit, before it can change a verdict.
 */
static u32 rw_conns(struct net *net, const struct sk_buff *skb, u8 family,
		    struct nf_conncount_list *l, u32 above)
{
	enum ip_conntrack_info ctinfo;
	const struct nf_conn *ct = nf_ct_get(skb, &ctinfo);
	u32 n = READ_ONCE(l->count);

	if (ct && nf_ct_is_confirmed(ct) && n < above)
		return n;
	if (rw_conncount_add(net, skb, family, l) == -EEXIST)
		nf_conncount_gc_list(net, l);
	return READ_ONCE(l->count);
}

/*
 * The match once the key is known: find or create the entry, count the
 * connections, decide under the entry lock. With v4 the key is the IPv4
 * source address addr, else k; v4 is a constant in each caller.
 */
static __always_inline bool rw_mt_key(const struct sk_buff *skb,
				      struct xt_action_param *par,
				      struct rw_cfg *c, const struct rw_key *k,
				      u32 addr, const bool v4)
{
	const struct xt_ratewin_mtinfo *info = par->matchinfo;
	struct xt_ratewin_tbl *t = info->table;
	struct nf_conncount_list *l;
	u32 now = rw_now(), conns = 0;
	struct rw_entry *e;
	bool admitted, bh;
	int tries = 0;

	/*
	 * Entry locks are taken in softirq. x_tables and the receive path
	 * call us with softirqs off; nf_tables does not where the hook runs
	 * in process context (OUTPUT of a local socket): turn them off here,
	 * or a softirq on this CPU could spin on the lock we hold.
	 */
	bh = !softirq_count();
	if (unlikely(bh))
		local_bh_disable();
again:
	e = rw_get(t, c, k, addr, now, v4);
	if (unlikely(!e)) {
		admitted = info->flags & XT_RATEWIN_F_FULL_UNDER;
		goto out;
	}
	l = rw_entry_conns(e);
	if (l && (c->lim.flags & XT_RATEWIN_F_CONN))
		conns = rw_conns(xt_net(par), skb, xt_family(par), l,
				 c->lim.conn_above);

	rw_entry_lock(e);
	if (unlikely(e->flags & RW_E_DEAD)) {
		rw_entry_unlock(e);
		if (++tries < 4)
			goto again;
		admitted = info->flags & XT_RATEWIN_F_FULL_UNDER;
		goto out;
	}
	/*
	 * Read the time under the lock: another CPU may have stamped the entry
	 * with a later jiffy, and an age computed from an earlier now would
	 * wrap to nearly 2^32.
	 */
	now = rw_now();
	c = rw_entry_cfg(t, e);
	if (unlikely(!c)) {
		/* cannot happen: old-layout entries live only in a migration */
		rw_entry_unlock(e);
		admitted = info->flags & XT_RATEWIN_F_FULL_UNDER;
		goto out;
	}
	admitted = rw_decide_shaped(&e->st, &e->flags, rw_entry_win(e, c),
				    &c->lim, now, skb->len, conns);
	if (admitted)
		e->admitted++;
	else
		e->over++;
	rw_entry_unlock(e);
out:
	if (unlikely(bh))
		local_bh_enable();
	return (info->flags & XT_RATEWIN_F_UPTO) ? admitted : !admitted;
}

/* Any key: built on the stack, out of the IPv4 source address path. */
static noinline bool rw_mt_any(const struct sk_buff *skb,
			       struct xt_action_param *par, struct rw_cfg *c)
{
	struct rw_key k;

	if (unlikely(!rw_key_from_skb(&k, c, skb, par))) {
		par->hotdrop = true;
		return false;
	}
	return rw_mt_key(skb, par, c, &k, 0, false);
}

static bool ratewin_mt(const struct sk_buff *skb, struct xt_action_param *par)
{
	const struct xt_ratewin_mtinfo *info = par->matchinfo;
	struct rw_cfg *c = rcu_dereference(info->table->cfg);

	/* the default key, an IPv4 source address: no key on the stack */
	if (likely(c->mode == XT_RATEWIN_MODE_SRCIP &&
		   xt_family(par) == NFPROTO_IPV4))
		return rw_mt_key(skb, par, c, NULL,
				 rw_word_prefix((__force u32)ip_hdr(skb)->saddr,
						c->srcmask[0]), true);
	return rw_mt_any(skb, par, c);
}

/* ---- control operations (/proc writes) -------------------------------- */

void rw_table_flush(struct xt_ratewin_tbl *t)
{
	struct rhashtable_iter iter;
	struct rw_entry *e;

	mutex_lock(&t->mutex);
	rhashtable_walk_enter(&t->ht, &iter);
	rhashtable_walk_start(&iter);
	while ((e = rhashtable_walk_next(&iter))) {
		if (IS_ERR(e))
			continue;	/* -EAGAIN: resized, keep going */
		rw_entry_lock_bh(e);
		if (!(e->flags & RW_E_DEAD))
			rw_entry_unlink(t, e);
		rw_entry_unlock_bh(e);
	}
	rhashtable_walk_stop(&iter);
	rhashtable_walk_exit(&iter);
	mutex_unlock(&t->mutex);
}

int rw_table_forget(struct xt_ratewin_tbl *t, const struct rw_key *k)
{
	struct rw_entry *e;
	int err = -ENOENT;

	mutex_lock(&t->mutex);
	rcu_read_lock();
	e = rw_lookup(t, k, 0, false);
	if (e) {
		rw_entry_lock_bh(e);
		if (!(e->flags & RW_E_DEAD)) {
			rw_entry_unlink(t, e);
			err = 0;
		}
		rw_entry_unlock_bh(e);
	}
	rcu_read_unlock();
	mutex_unlock(&t->mutex);
	return err;
}

int rw_table_record(struct xt_ratewin_tbl *t, const struct rw_key *k)
{
	struct rw_entry *e;
	struct rw_cfg *c;
	u32 now = rw_now();
	int err = 0;

	mutex_lock(&t->mutex);
	rcu_read_lock();
	c = rcu_dereference(t->cfg);
	/* a key parsed before a rule changed the key fields: wrong size */
	if (k->words != c->key_words) {
		rcu_read_unlock();
		mutex_unlock(&t->mutex);
		return -EINVAL;
	}
	local_bh_disable();
	e = rw_get(t, c, k, 0, now, false);
	if (!e) {
		err = -ENOSPC;
		goto out;
	}
	rw_entry_lock(e);
	if (!(e->flags & RW_E_DEAD)) {
		u64 cost = rw_cost(&c->lim, 1);
		void *win;

		/* not before the lock: st.last must never be ahead of now */
		now = rw_now();
		c = rw_entry_cfg(t, e);
		win = rw_entry_win(e, c);
		rw_refresh(&e->st, &e->flags, win, &c->lim, now);
		if (c->lim.flags & XT_RATEWIN_F_RATE)
			e->st.tokens -= min(e->st.tokens, cost);
		if (win)
			rw_win_record(win, &c->lim, now);
		e->admitted++;
	} else {
		err = -EAGAIN;
	}
	rw_entry_unlock(e);
out:
	local_bh_enable();
	rcu_read_unlock();
	mutex_unlock(&t->mutex);
	return err;
}

/* ---- GC --------------------------------------------------------------- */

static void rw_gc_work(struct work_struct *work)
{
	struct xt_ratewin_tbl *t = container_of(to_delayed_work(work),
					  struct xt_ratewin_tbl, gc_work);
	struct rhashtable_iter iter;
	unsigned int batch = 0;
	struct rw_entry *e;
	struct rw_cfg *c;

	mutex_lock(&t->mutex);
	clear_bit(0, &t->gc_kick);
	c = rcu_dereference_protected(t->cfg, lockdep_is_held(&t->mutex));
	rhashtable_walk_enter(&t->ht, &iter);
	rhashtable_walk_start(&iter);
	while ((e = rhashtable_walk_next(&iter))) {
		if (IS_ERR(e))
			continue;
		local_bh_disable();
		rw_entry_gc(t, e, c->expire_j, false);
		local_bh_enable();
		if (++batch % 256 == 0) {
			rhashtable_walk_stop(&iter);
			cond_resched();
			rhashtable_walk_start(&iter);
		}
	}
	rhashtable_walk_stop(&iter);
	rhashtable_walk_exit(&iter);
	queue_delayed_work(system_power_efficient_wq, &t->gc_work, c->gc_j);
	mutex_unlock(&t->mutex);
}

/* ---- configuration ---------------------------------------------------- */

static const char *rw_info_invalid(const struct xt_ratewin_mtinfo *info,
				   u8 family)
{
	u32 f = info->flags, i, maxmask = family == NFPROTO_IPV6 ? 128 : 32;
	size_t len = strnlen(info->name, XT_RATEWIN_NAME_LEN);

	if (len == XT_RATEWIN_NAME_LEN)
		return "name not terminated";
	if (!len)
		return "empty name";
	for (i = 0; i < len; i++)
		if (!isgraph(info->name[i]) || info->name[i] == '/')
			return "name has '/', a space or a control character";
	if (!strcmp(info->name, ".") || !strcmp(info->name, ".."))
		return "name is . or ..";
	if (f & ~XT_RATEWIN_F_ALL)
		return "unknown flags";
	if (!(f & XT_RATEWIN_F_LIMITS))
		return "no rate, window or conn-above limit";
	if (info->mode & ~XT_RATEWIN_MODE_ALL)
		return "unknown mode";
	if (info->srcmask > maxmask || info->dstmask > maxmask)
		return "mask longer than the address";
	if (info->pad0 || info->pad1 || memchr_inv(info->reserved, 0,
						   sizeof(info->reserved)))
		return "reserved fields not zero";
	if (f & XT_RATEWIN_F_RATE) {
		u64 max = f & XT_RATEWIN_F_BYTES ? XT_RATEWIN_BYTES_RATE_MAX :
						   XT_RATEWIN_RATE_MAX;

		if (!info->rate_n || info->rate_n > max)
			return "rate out of range";
		/* the ABI's range: 1000 ms (a second) to a day */
		if (info->rate_period_ms < 1000 ||
		    info->rate_period_ms > XT_RATEWIN_PERIOD_MAX_MS ||
		    ((f & XT_RATEWIN_F_BYTES) && info->rate_period_ms != 1000))
			return "rate period out of range";
		if (!info->burst || info->burst > XT_RATEWIN_BURST_MAX)
			return "burst out of range";
	} else if (info->rate_n || info->rate_period_ms || info->burst ||
		   (f & XT_RATEWIN_F_BYTES)) {
		return "rate fields set without a rate";
	}
	if (f & XT_RATEWIN_F_WINDOW) {
		if (!info->window_n || info->window_n > XT_RATEWIN_WINDOW_N_MAX)
			return "window count out of range";
		if (!info->window_ms ||
		    info->window_ms > XT_RATEWIN_DURATION_MAX_MS)
			return "window duration out of range";
	} else if (info->window_n || info->window_ms ||
		   (f & XT_RATEWIN_F_COUNT_ALL)) {
		return "window fields set without a window";
	}
	if (f & XT_RATEWIN_F_CONN) {
		if (info->conn_above > XT_RATEWIN_CONN_MAX)
			return "conn-above out of range";
	} else if (info->conn_above) {
		return "conn-above set without the flag";
	}
	if (f & XT_RATEWIN_F_BAN) {
		if (!info->ban_ms || info->ban_ms > XT_RATEWIN_DURATION_MAX_MS)
			return "ban duration out of range";
	} else if (info->ban_ms) {
		return "ban duration set without the flag";
	}
	if (info->htable_size > XT_RATEWIN_SIZE_MAX ||
	    info->htable_max > XT_RATEWIN_MAX_MAX ||
	    info->htable_expire_ms > XT_RATEWIN_EXPIRE_MAX_MS ||
	    (info->htable_gc_ms && (info->htable_gc_ms < XT_RATEWIN_GC_MIN_MS ||
				    info->htable_gc_ms > XT_RATEWIN_GC_MAX_MS)))
		return "table tuning out of range";
	return NULL;
}

/* Build a configuration from a rule; old is the table's current one. */
static struct rw_cfg *rw_cfg_build(const struct xt_ratewin_mtinfo *info,
				   u8 family, const struct rw_cfg *old)
{
	struct rw_cfg *c = kzalloc(sizeof(*c), GFP_KERNEL);
	u8 v6 = family == NFPROTO_IPV6;
	u32 off;

	if (!c)
		return NULL;
	if (rw_limits_init(&c->lim, info->flags, info->rate_n,
			   info->rate_period_ms, info->burst, info->window_n,
			   info->window_ms, info->conn_above, info->ban_ms,
			   HZ)) {
		kfree(c);
		return NULL;
	}
	c->info = *info;
	c->info.table = NULL;
	c->mode = rw_mode(info->mode);
	c->key_words = rw_key_words(c->mode);
	if (old) {
		memcpy(c->srcmask, old->srcmask, sizeof(c->srcmask));
		memcpy(c->dstmask, old->dstmask, sizeof(c->dstmask));
	} else {
		c->srcmask[0] = c->dstmask[0] = 32;
		c->srcmask[1] = c->dstmask[1] = 128;
	}
	c->srcmask[v6] = info->srcmask;
	c->dstmask[v6] = info->dstmask;
	c->max = info->htable_max ?: XT_RATEWIN_DEFAULT_MAX;
	c->expire_j = msecs_to_jiffies(info->htable_expire_ms ?:
				       XT_RATEWIN_DEFAULT_EXPIRE_MS);
	c->gc_j = msecs_to_jiffies(info->htable_gc_ms ?:
				   XT_RATEWIN_DEFAULT_GC_MS);

	/* layout: header, key, [connection list], [window] */
	off = sizeof(struct rw_entry) + c->key_words * sizeof(u32);
	if (info->flags & XT_RATEWIN_F_CONN) {
		c->conn_off = rw_conn_off(c->key_words);
		off = c->conn_off + sizeof(struct nf_conncount_list);
	}
	if (info->flags & XT_RATEWIN_F_WINDOW) {
		c->win_off = ALIGN(off, 4);
		off = c->win_off + rw_win_size(c->lim.win_kind, c->lim.win_n);
	}
	c->size = off;

	c->gen = old ? old->gen : 0;
	if (old && (old->win_off != c->win_off || old->conn_off != c->conn_off ||
		    old->size != c->size || old->key_words != c->key_words ||
		    old->lim.win_kind != c->lim.win_kind ||
		    old->lim.win_n != c->lim.win_n ||
		    old->lim.win_j != c->lim.win_j))
		c->gen++;
	return c;
}

/* Move one entry to the current layout. Table mutex held, under RCU. */
static int rw_entry_migrate(struct xt_ratewin_tbl *t, struct rw_entry *e,
			    const struct rw_cfg *nc, u32 now)
{
	struct nf_conncount_list *ol, *nl;
	const struct rw_cfg *oc;
	struct rw_entry *n;
	struct rw_key k;

	k.family = e->family;
	k.words = e->key_words;
	memcpy(k.w, e->key, e->key_words * sizeof(u32));
	n = rw_entry_alloc(nc, &k, now, GFP_ATOMIC);
	if (!n)
		return -ENOMEM;

	rw_entry_lock_bh(e);
	if ((e->flags & RW_E_DEAD) || e->gen == nc->gen) {
		rw_entry_unlock_bh(e);
		rw_entry_free(n);
		return 0;
	}
	now = rw_now();		/* under the lock, as on the packet path */
	oc = rw_entry_cfg(t, e);
	n->st = e->st;
	n->flags = (e->flags & ~(RW_E_CONN | RW_E_LOCKED)) |
		   (n->flags & RW_E_CONN);
	n->admitted = e->admitted;
	n->over = e->over;
	if (oc->win_off && nc->win_off)
		rw_win_migrate(rw_entry_win(n, nc), &nc->lim,
			       rw_entry_win(e, oc), &oc->lim, now);
	if (rhashtable_replace_fast(&t->ht, &e->node, &n->node, rw_params)) {
		rw_entry_unlock_bh(e);
		rw_entry_free(n);
		return 0;
	}
	e->flags |= RW_E_DEAD;
	rw_entry_unlock_bh(e);

	/*
	 * Connections move outside the entry lock (theirs may sleep on RT).
	 * A packet that counted itself into the old list after this sees the
	 * old entry dead and counts itself into the new one.
	 */
	ol = rw_entry_conns(e);
	nl = rw_entry_conns(n);
	if (ol && nl) {
		spin_lock_bh(&ol->list_lock);
		spin_lock_nested(&nl->list_lock, SINGLE_DEPTH_NESTING);
		list_splice_init(&ol->head, &nl->head);
		nl->count += ol->count;
		ol->count = 0;
		spin_unlock(&nl->list_lock);
		spin_unlock_bh(&ol->list_lock);
	}
	call_rcu(&e->rcu, rw_entry_free_rcu);
	return 0;
}

static void rw_table_migrate(struct xt_ratewin_tbl *t, const struct rw_cfg *nc)
{
	struct rhashtable_iter iter;
	struct rw_entry *e;
	u32 now = rw_now();
	unsigned int batch = 0;

	rhashtable_walk_enter(&t->ht, &iter);
	rhashtable_walk_start(&iter);
	while ((e = rhashtable_walk_next(&iter))) {
		if (IS_ERR(e))
			continue;
		if (e->gen != nc->gen && rw_entry_migrate(t, e, nc, now)) {
			/* out of memory: keep the old state, drop the entry */
			rw_entry_lock_bh(e);
			if (!(e->flags & RW_E_DEAD))
				rw_entry_unlink(t, e);
			rw_entry_unlock_bh(e);
		}
		if (++batch % 256 == 0) {
			rhashtable_walk_stop(&iter);
			cond_resched();
			rhashtable_walk_start(&iter);
		}
	}
	rhashtable_walk_stop(&iter);
	rhashtable_walk_exit(&iter);
}

static bool rw_cfg_same(const struct rw_cfg *c,
			const struct xt_ratewin_mtinfo *info, u8 family)
{
	u8 v6 = family == NFPROTO_IPV6;

	/* the verdict flags (upto, full) belong to the rule, not the table */
	const u32 rule_only = XT_RATEWIN_F_UPTO | XT_RATEWIN_F_FULL_UNDER;

	return (c->info.flags & ~rule_only) == (info->flags & ~rule_only) &&
	       c->mode == rw_mode(info->mode) &&
	       c->srcmask[v6] == info->srcmask &&
	       c->dstmask[v6] == info->dstmask &&
	       c->info.rate_n == info->rate_n &&
	       c->info.rate_period_ms == info->rate_period_ms &&
	       c->info.burst == info->burst &&
	       c->info.window_ms == info->window_ms &&
	       c->info.window_n == info->window_n &&
	       c->info.conn_above == info->conn_above &&
	       c->info.ban_ms == info->ban_ms &&
	       c->info.htable_size == info->htable_size &&
	       c->info.htable_max == info->htable_max &&
	       c->info.htable_expire_ms == info->htable_expire_ms &&
	       c->info.htable_gc_ms == info->htable_gc_ms;
}

/* A rule with other limits: they apply to the table now. rn->mutex held. */
static int rw_table_reconfigure(struct xt_ratewin_tbl *t,
				const struct xt_ratewin_mtinfo *info,
				u8 family)
{
	struct rw_cfg *old, *c;
	bool rekey;

	mutex_lock(&t->mutex);
	old = rcu_dereference_protected(t->cfg, lockdep_is_held(&t->mutex));
	if (rw_cfg_same(old, info, family)) {
		mutex_unlock(&t->mutex);
		return 0;
	}
	c = rw_cfg_build(info, family, old);
	if (!c) {
		mutex_unlock(&t->mutex);
		return -ENOMEM;
	}
	rekey = c->mode != old->mode ||
		memcmp(c->srcmask, old->srcmask, sizeof(c->srcmask)) ||
		memcmp(c->dstmask, old->dstmask, sizeof(c->dstmask));
	pr_info("table %s: limits changed by a new rule%s\n", t->name,
		rekey ? "; key fields changed, entries flushed" : "");

	if (rekey)
		c->gen = old->gen + 1;
	rcu_assign_pointer(t->prev_cfg, old);
	rcu_assign_pointer(t->cfg, c);
	/*
	 * Packets that read the old cfg may still be inserting entries of the
	 * old layout; once they are done, the walk below sees every one.
	 */
	synchronize_rcu();
	if (rekey) {
		mutex_unlock(&t->mutex);
		rw_table_flush(t);
		mutex_lock(&t->mutex);
	} else if (c->gen != old->gen) {
		rw_table_migrate(t, c);
	}
	RCU_INIT_POINTER(t->prev_cfg, NULL);
	mutex_unlock(&t->mutex);
	kfree_rcu(old, rcu);
	mod_delayed_work(system_power_efficient_wq, &t->gc_work, c->gc_j);
	return 0;
}

static struct xt_ratewin_tbl *rw_table_find(struct rw_net *rn, const char *name)
{
	struct xt_ratewin_tbl *t;

	list_for_each_entry(t, &rn->tables, list)
		if (!strcmp(t->name, name))
			return t;
	return NULL;
}

static struct xt_ratewin_tbl *rw_table_create(struct net *net, struct rw_net *rn,
					const struct xt_ratewin_mtinfo *info,
					u8 family)
{
	struct rhashtable_params p = rw_params;
	struct xt_ratewin_tbl *t;
	struct rw_cfg *c;
	u32 hint;
	int err;

	t = kzalloc(sizeof(*t), GFP_KERNEL);
	if (!t)
		return ERR_PTR(-ENOMEM);
	c = rw_cfg_build(info, family, NULL);
	if (!c) {
		kfree(t);
		return ERR_PTR(-ENOMEM);
	}
	hint = info->htable_size ?: XT_RATEWIN_DEFAULT_SIZE;
	p.nelem_hint = min_t(u32, hint, c->max);
	err = rhashtable_init(&t->ht, &p);
	if (err) {
		kfree(c);
		kfree(t);
		return ERR_PTR(err);
	}
	RCU_INIT_POINTER(t->cfg, c);
	mutex_init(&t->mutex);
	INIT_DELAYED_WORK(&t->gc_work, rw_gc_work);
	t->net = net;
	t->rn = rn;
	t->refs = 1;
	strscpy(t->name, info->name, sizeof(t->name));

	err = rw_proc_table_add(t);
	if (err) {
		rhashtable_destroy(&t->ht);
		kfree(c);
		kfree(t);
		return ERR_PTR(err);
	}
	list_add(&t->list, &rn->tables);
	queue_delayed_work(system_power_efficient_wq, &t->gc_work, c->gc_j);
	return t;
}

static void rw_free_now(void *ptr, void *arg)
{
	rw_entry_free(ptr);
}

static void rw_table_destroy(struct xt_ratewin_tbl *t)
{
	cancel_delayed_work_sync(&t->gc_work);
	rhashtable_free_and_destroy(&t->ht, rw_free_now, NULL);
	kfree(rcu_dereference_protected(t->cfg, 1));
	kfree(t);
}

static int ratewin_mt_check(const struct xt_mtchk_param *par)
{
	struct xt_ratewin_mtinfo *info = par->matchinfo;
	struct rw_net *rn = rw_pernet(par->net);
	const char *why;
	struct xt_ratewin_tbl *t;
	int err = 0;

	why = rw_info_invalid(info, par->family);
	if (why) {
		pr_info_ratelimited("invalid rule: %s\n", why);
		return -EINVAL;
	}
	if (info->flags & XT_RATEWIN_F_CONN) {
		err = nf_ct_netns_get(par->net, par->family);
		if (err) {
			pr_info_ratelimited("cannot load conntrack for family %u\n",
					    par->family);
			return err;
		}
	}

	mutex_lock(&rn->mutex);
	t = rw_table_find(rn, info->name);
	if (t) {
		err = rw_table_reconfigure(t, info, par->family);
		if (!err)
			t->refs++;
	} else {
		t = rw_table_create(par->net, rn, info, par->family);
		if (IS_ERR(t))
			err = PTR_ERR(t);
	}
	mutex_unlock(&rn->mutex);

	if (err) {
		pr_info_ratelimited("table %s: cannot set up (%d)\n",
				    info->name, err);
		if (info->flags & XT_RATEWIN_F_CONN)
			nf_ct_netns_put(par->net, par->family);
		return err;
	}
	info->table = t;
	return 0;
}

static void ratewin_mt_destroy(const struct xt_mtdtor_param *par)
{
	const struct xt_ratewin_mtinfo *info = par->matchinfo;
	struct rw_net *rn = rw_pernet(par->net);
	struct xt_ratewin_tbl *t = info->table;
	bool last;

	mutex_lock(&rn->mutex);
	last = --t->refs == 0;
	if (last) {
		list_del(&t->list);
		rw_proc_table_del(t);
	}
	mutex_unlock(&rn->mutex);
	if (last)
		rw_table_destroy(t);
	if (info->flags & XT_RATEWIN_F_CONN)
		nf_ct_netns_put(par->net, par->family);
}

static struct xt_match ratewin_mt_reg[] __read_mostly = {
	{
		.name		= "ratewin",
		.revision	= 0,
		.family		= NFPROTO_IPV4,
		.match		= ratewin_mt,
		.checkentry	= ratewin_mt_check,
		.destroy	= ratewin_mt_destroy,
		.matchsize	= sizeof(struct xt_ratewin_mtinfo),
		.usersize	= offsetof(struct xt_ratewin_mtinfo, table),
		.me		= THIS_MODULE,
	},
#if IS_ENABLED(CONFIG_IP6_NF_IPTABLES)
	{
		.name		= "ratewin",
		.revision	= 0,
		.family		= NFPROTO_IPV6,
		.match		= ratewin_mt,
		.checkentry	= ratewin_mt_check,
		.destroy	= ratewin_mt_destroy,
		.matchsize	= sizeof(struct xt_ratewin_mtinfo),
		.usersize	= offsetof(struct xt_ratewin_mtinfo, table),
		.me		= THIS_MODULE,
	},
#endif
};

/* ---- namespaces and module -------------------------------------------- */

static int __net_init rw_net_init(struct net *net)
{
	struct rw_net *rn = rw_pernet(net);

	mutex_init(&rn->mutex);
	INIT_LIST_HEAD(&rn->tables);
	return rw_proc_net_init(net, rn);
}

static void __net_exit rw_net_exit(struct net *net)
{
	struct rw_net *rn = rw_pernet(net);

	/*
	 * Rules may outlive this (their tables are torn down by later exit
	 * handlers); their proc files go now, the tables when the rules do.
	 */
	mutex_lock(&rn->mutex);
	rw_proc_net_exit(net, rn);
	mutex_unlock(&rn->mutex);
}

static struct pernet_operations rw_net_ops = {
	.init	= rw_net_init,
	.exit	= rw_net_exit,
	.id	= &rw_net_id,
	.size	= sizeof(struct rw_net),
};

static int __init ratewin_mt_init(void)
{
	static struct lock_class_key entry_lock_key;
	int err;

	/* a rate-only srcip entry is one cache line: 48 + 16 bytes of key */
	BUILD_BUG_ON(BITS_PER_LONG == 64 && sizeof(struct rw_entry) != 48);
	/* the lock bit is bit 4 of flags, byte 3 of the lock word */
	BUILD_BUG_ON(offsetof(struct rw_entry, flags) -
		     offsetof(struct rw_entry, lockword) != 3);
	lockdep_init_map(&rw_entry_lock_map, "xt_ratewin_entry",
			 &entry_lock_key, 0);

	err = register_pernet_subsys(&rw_net_ops);
	if (err)
		return err;
	err = xt_register_matches(ratewin_mt_reg, ARRAY_SIZE(ratewin_mt_reg));
	if (err)
		unregister_pernet_subsys(&rw_net_ops);
	return err;
}

static void __exit ratewin_mt_exit(void)
{
	xt_unregister_matches(ratewin_mt_reg, ARRAY_SIZE(ratewin_mt_reg));
	unregister_pernet_subsys(&rw_net_ops);
	rcu_barrier();	/* entry frees queued with call_rcu */
}

module_init(ratewin_mt_init);
module_exit(ratewin_mt_exit);
