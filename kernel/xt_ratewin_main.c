// SPDX-License-Identifier: GPL-2.0
/*
 * xt_ratewin: per-key token bucket, sliding window and concurrent-connection
 * limit in one lookup.
 *
 * Tables live per (network namespace, name) and are shared by every rule,
 * IPv4 and IPv6, that names them. The packet path is an RCU lookup in an
 * open-addressed array of entries followed by one per-entry lock; nothing
 * on it is shared across keys except the table's entry counters, touched
 * only when a key is new.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/ctype.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/jhash.h>
#include <linux/mm.h>
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
 * jhash2 with the array's random seed. Measured on a 4-word key: 10 ns
 * against 24 ns for hsiphash (SipHash-1-3 on 64-bit). The seed is new for
 * every array (every rebuild), and without it nobody can aim keys at one
 * run of slots, so the cheaper hash is the better trade here.
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
	 * One word, or one address whose other words are zero (an IPv4
	 * address, narrow or wide: the common key): one word to mix,
	 * inline. A function of the key words like the other, so keys and
	 * entries hash alike.
	 */
	if (words == 1 || (words == 4 && !(w[1] | w[2] | w[3])))
		return rw_hash_1word(w[0], family, seed);
	return rw_hash_words_long(w, words, seed ^ family);
}

static __always_inline u32 rw_key_hash(const struct rw_key *k, u32 seed)
{
	return rw_hash_words(k->w, k->words, k->family, seed);
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

/* Is the entry's key the IPv4 source address addr (narrow or wide)? */
static __always_inline bool rw_v4_eq(const struct rw_entry *e, u32 addr)
{
	if (e->family != NFPROTO_IPV4 || e->key[0] != addr)
		return false;
	return e->key_words == 1 ||
	       (e->key_words == 4 && !(e->key[1] | e->key[2] | e->key[3]));
}

/*
 * The GC work runs on an unbound workqueue: kicked from the packet path it
 * would otherwise move to the CPU that takes the traffic, and its sweeps
 * and rebuilds would take that CPU's time from packets.
 */
static void rw_kick(struct xt_ratewin_tbl *t, int what)
{
	/* once, not once per packet of a flood of new keys */
	if (!test_and_set_bit(what, &t->gc_kick))
		mod_delayed_work(system_unbound_wq, &t->gc_work, 0);
}

/* ---- the array of slots ----------------------------------------------- */

/*
 * An entry lives in a slot of one array, found by linear probing from
 * reciprocal_scale() of its hash: a lookup reads the slots themselves,
 * mostly one, within one page, where a table of pointers to entries reads
 * a bucket and then the entry (at many keys, two cache misses, and two
 * TLB misses where the bucket array is vmalloc's 4 KB pages).
 *
 * Lookups take no lock: a slot's first word tells EMPTY, BUSY, LIVE or
 * DEAD (struct rw_entry), its key never changes while LIVE, and a DEAD
 * slot stays DEAD while the array lives. A lookup stops at the first
 * EMPTY slot. An insert claims the first EMPTY slot with cmpxchg() (BUSY),
 * fills it in and publishes it LIVE with a release store; an insert that
 * meets a BUSY slot waits until it is published, so two inserts of one key
 * cannot both claim a slot. Reclaiming marks a slot DEAD under the entry
 * lock; its space comes back when GC rebuilds the array, which it does
 * once enough slots are used (live or dead; see rw_grow_at()). Inserts
 * stop at the array's cap (a rebuild that is late): a new key then gets
 * the table-full verdict.
 */

/*
 * Fill factors. A large array is rebuilt once 13/16 of its slots are used
 * (live or dead), into one the live entries fill to 5/8; inserts stop at
 * 15/16, so that a new key probes about 128 slots at worst while the GC
 * work is late. Between 13/16 and 15/16, 8192 inserts or more, new keys
 * wait for the work to publish the new array (its allocation, not the
 * moves: new keys go there at once). A small array (under RW_SMALL slots,
 * under a megabyte or so) grows at half full into one a quarter full, and
 * takes inserts to its last slot: at a flood of new keys, the work may
 * come a few milliseconds late, while memory hardly counts.
 */
#define RW_MIN_SLOTS	256U	/* slots above 8 KB: never slab objects */
#define RW_SMALL	65536U

static u32 rw_grow_at(u32 size)
{
	return size < RW_SMALL ? size / 2 : (u64)size * 13 / 16;
}

static u32 rw_cap(u32 size)
{
	return size < RW_SMALL ? size - 1 : (u64)size * 15 / 16;
}

/* An array for live entries: a quarter full when small, else 5/8 full. */
static u64 rw_size_for(u64 live)
{
	if (live * 4 < RW_SMALL)
		return live * 4 + 1;
	return max_t(u64, live * 8 / 5 + 1, RW_SMALL);
}

/* ... and never above what the table's max needs, nor below min_size. */
static u32 rw_array_size_for(const struct xt_ratewin_tbl *t,
			     const struct rw_cfg *c, u32 live)
{
	return max_t(u64, min(rw_size_for(live), rw_size_for(c->max)),
		     t->min_size);
}

/* Bytes a slot of c's layout takes, every slot aligned as an entry is. */
static u16 rw_stride(const struct rw_cfg *c)
{
	return ALIGN(c->size, __alignof__(struct rw_entry));
}

/* Bytes in the arrays of every table (for rw_min_size()). */
static atomic_long_t rw_array_bytes = ATOMIC_LONG_INIT(0);

static struct rw_array *rw_array_alloc(u32 size, const struct rw_cfg *c)
{
	/*
	 * A table of the largest size the ABI allows may not fit: fail
	 * without a WARN and without the OOM killer (the caller copes).
	 */
	const gfp_t gfp = GFP_KERNEL_ACCOUNT | __GFP_NOWARN | __GFP_RETRY_MAYFAIL;
	struct rw_array *a = kzalloc(sizeof(*a), GFP_KERNEL);
	size_t bytes;

	if (!a)
		return NULL;
	a->size = max(size, RW_MIN_SLOTS);
	a->stride = rw_stride(c);
	bytes = array_size(a->size, a->stride);
	/*
	 * A large array in huge pages where there are some, as the kernel's
	 * own large hash tables are (alloc_large_system_hash()): a cold
	 * lookup then misses the cache for its slot, and not also the TLB
	 * for the slot's page. Small ones from the slab, or 4 KB pages.
	 */
	if (bytes >= PMD_SIZE)
		a->slots = rw_vmalloc_huge(bytes, gfp | __GFP_ZERO);
	else
		a->slots = kvzalloc(bytes, gfp);
	if (!a->slots) {
		kfree(a);
		return NULL;
	}
	atomic_long_add(bytes, &rw_array_bytes);
	a->hash_rnd = get_random_u32();
	a->grow_at = rw_grow_at(a->size);
	a->cap = rw_cap(a->size);
	a->gen = c->gen;
	a->conn = !!c->conn_off;
	return a;
}

#ifdef RW_LEAK_EVERY
/*
 * A test build only (make check-leak-selftest): leak one array in
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

/* Free an array no CPU can see any more, with its connection lists. */
static void rw_array_free(struct rw_array *a)
{
	u32 i;

	if (!a)
		return;
	for (i = 0; a->conn && i < a->size; i++) {
		struct nf_conncount_list *l = rw_entry_conns(rw_slot(a, i));

		if (l)
			nf_conncount_cache_free(l);
		if (!(i % 4096))
			cond_resched();
	}
	atomic_long_sub((size_t)a->size * a->stride, &rw_array_bytes);
	if (rw_leak_on_purpose())
		return;
	kvfree(a->slots);
	kfree(a);
}

static __always_inline unsigned long rw_slot_word(struct rw_entry *e)
{
	/* pairs with rw_slot_publish(): a LIVE word's slot is filled in */
	return smp_load_acquire(&e->lockword);
}

/*
 * Wait until an insert publishes the slot it claimed (BUSY). Not a lock
 * to lockdep: the claimer waits for nothing but other claims in a newer
 * array, so no cycle can form.
 */
static noinline unsigned long rw_slot_wait(struct rw_entry *e)
{
	unsigned long lw;

	while (lw = rw_slot_word(e), !rw_lw_dead(lw) &&
	       rw_lw_busy(lw))
		cpu_relax();
	return lw;
}

/* Claim an EMPTY slot: BUSY, and locked as rw_entry_lock() locks. */
static __always_inline bool rw_slot_claim(struct rw_entry *e)
{
	preempt_disable();
	if (cmpxchg(&e->lockword, 0UL, BIT(RW_E_LOCK_NR))) {
		preempt_enable();
		return false;
	}
	lock_map_acquire_try(&rw_entry_lock_map);
	return true;
}

/* Publish a claimed slot with its first word (LIVE or DEAD), unlocked. */
static __always_inline void rw_slot_publish(struct rw_entry *e, u8 family,
					    u8 words, u8 gen, u8 flags)
{
	/* the rest of the word (rw_entry.last, on 64-bit) as filled in */
	union rw_lw v = { .word = e->lockword };

	v.family = family;
	v.key_words = words;
	v.gen = gen;
	v.flags = flags & ~RW_E_LOCKED;
	lock_map_release(&rw_entry_lock_map);
	/* the slot's contents before its word: see rw_slot_word() */
	smp_store_release(&e->lockword, v.word);
	preempt_enable();
}

/* Give a claimed slot up: DEAD, never filled in. */
static void rw_slot_retract(struct rw_entry *e)
{
	rw_slot_publish(e, 0, 0, 0, RW_E_DEAD);
}

static __always_inline bool rw_slot_live(unsigned long lw)
{
	return lw && !rw_lw_dead(lw) && !rw_lw_busy(lw);
}

/*
 * The key's LIVE slot in a, or NULL. With v4 the key is the IPv4 source
 * address addr, else k; v4 is a constant in each caller.
 */
static __always_inline struct rw_entry *rw_array_find(struct rw_array *a,
						      const struct rw_key *k,
						      u32 addr, const bool v4)
{
	u32 hash = v4 ? rw_hash_1word(addr, NFPROTO_IPV4, a->hash_rnd) :
			rw_key_hash(k, a->hash_rnd);
	u32 i = reciprocal_scale(hash, a->size), n;
	struct rw_entry *e;
	unsigned long lw;

	for (n = a->size; n; n--) {
		e = rw_slot(a, i);
		lw = rw_slot_word(e);
		if (!lw)
			return NULL;
		if (unlikely(!rw_lw_dead(lw) && rw_lw_busy(lw)))
			lw = rw_slot_wait(e);
		if (!rw_lw_dead(lw) && (v4 ? rw_v4_eq(e, addr) : rw_key_eq(e, k)))
			return e;
		if (++i == a->size)
			i = 0;
	}
	return NULL;
}

/*
 * In a, the key's LIVE slot (*claimed false) or an EMPTY one claimed for it
 * (*claimed true); NULL when a is at its cap, less the room kept for the
 * entries a rebuild moves in (move: for one of those, up to the last
 * EMPTY slot).
 */
static struct rw_entry *rw_array_claim(struct xt_ratewin_tbl *t,
				       struct rw_array *a,
				       const struct rw_key *k, bool *claimed,
				       bool move)
{
	u32 i = reciprocal_scale(rw_key_hash(k, a->hash_rnd), a->size), n;
	struct rw_entry *e;
	unsigned long lw;

	*claimed = false;
	for (n = a->size; n; n--) {
		e = rw_slot(a, i);
		lw = rw_slot_word(e);
		while (!lw) {
			if (move ? atomic_read(&a->used) >= a->size - 1 :
			    atomic_read(&a->used) +
			    atomic_read(&a->reserved) >= a->cap)
				return NULL;
			if (rw_slot_claim(e)) {
				if (atomic_inc_return(&a->used) > a->grow_at)
					rw_kick(t, RW_KICK_REBUILD);
				*claimed = true;
				return e;
			}
			lw = rw_slot_word(e);
		}
		if (!rw_lw_dead(lw) && rw_lw_busy(lw))
			lw = rw_slot_wait(e);
		if (!rw_lw_dead(lw) && rw_key_eq(e, k))
			return e;
		if (++i == a->size)
			i = 0;
	}
	return NULL;
}

/* A new key's state by c: a full bucket, an empty window (if win). */
static void rw_state_start(struct rw_state *st, void *win,
			   const struct rw_cfg *c, u32 now)
{
	st->tokens = c->lim.burst_fp;
	st->last = now;
	if (win)
		rw_win_init(win, &c->lim, now);
}

/* An empty connection list in a claimed slot laid out by c, if it has one. */
static void rw_slot_init_conns(struct rw_entry *e, const struct rw_cfg *c)
{
	if (c->conn_off)
		nf_conncount_list_init((void *)((u8 *)e + c->conn_off));
}

/* Fill a claimed slot in for a new key, laid out and started by c. */
static void rw_slot_fill(struct rw_entry *e, const struct rw_cfg *c,
			 const struct rw_key *k, u32 now)
{
	struct rw_state st = { };

	/* an EMPTY slot was never used: all zero */
	memcpy(e->key, k->w, k->words * sizeof(u32));
	rw_state_start(&st, rw_entry_win(e, c), c, now);
	rw_entry_set_state(e, &st);
	rw_slot_init_conns(e, c);
}

/* ---- entries ---------------------------------------------------------- */

/* The cfg that lays out (and starts) the slots of generation gen. */
static struct rw_cfg *rw_cfg_of_gen(struct xt_ratewin_tbl *t, u8 gen)
{
	struct rw_cfg *c = rcu_dereference_check(t->cfg, 1);

	if (likely(c->gen == gen))
		return c;
	return rcu_dereference_check(t->prev_cfg, 1);
}

/*
 * Reclaim an entry: DEAD. Called with the entry lock held and BH disabled;
 * the entry must not be dead. Lookups that already hold a pointer see
 * RW_E_DEAD under the lock and retry. Its connection list, if any, goes
 * with its array.
 */
static void rw_entry_unlink(struct xt_ratewin_tbl *t, struct rw_entry *e)
{
	e->flags |= RW_E_DEAD;
	atomic_dec(&t->count);
}

/*
 * Can this entry change a decision any more? Evaluated on a copy, so that
 * neither GC nor a reader changes what the entry shows. Entry lock held.
 */
static bool rw_entry_idle(struct rw_entry *e, const struct rw_cfg *c, u32 now)
{
	struct rw_state st = rw_entry_state(e);
	union rw_win_buf winbuf;
	u8 flags = e->flags;
	void *win;

	if ((u32)(now - st.last) < c->expire_j)
		return false;
	win = rw_entry_win_copy(e, c, &winbuf);
	rw_refresh(&st, &flags, win, &c->lim, now);
	return rw_idle_state(&st, flags, win, &c->lim);
}

/*
 * Seen within the expiry: the entry stays, and that needs no lock to tell
 * (a concurrent update can only make this age look huge, which falls
 * through to the check under the lock).
 */
static __always_inline bool rw_entry_young(const struct rw_entry *e,
					   u32 expire_j)
{
	return (u32)(rw_now() - READ_ONCE(e->last)) <
	       min_t(u32, expire_j, 1U << 30);
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

	if (rw_entry_young(e, expire_j))
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
	if ((u32)(now - e->last) > (1U << 30)) {
		struct rw_state st = rw_entry_state(e);

		rw_refresh(&st, &e->flags, rw_entry_win(e, c), &c->lim, now);
		rw_entry_set_state(e, &st);
	}
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
 * The table is full: reclaim what can be reclaimed in a short run of slots
 * from a random one, a bounded amount of work on the packet path. The
 * periodic GC is also kicked to sweep the whole table at once.
 */
static bool rw_reclaim_some(struct xt_ratewin_tbl *t, u32 expire_j)
{
	struct rw_array *a = rcu_dereference(t->arr);
	u32 i = reciprocal_scale(get_random_u32(), a->size), n, live = 0;

	rw_kick(t, RW_KICK_SWEEP);
	for (n = 0; n < 256 && n < a->size && live < 64; n++) {
		struct rw_entry *e = rw_slot(a, i);

		if (rw_slot_live(READ_ONCE(e->lockword))) {
			live++;
			if (rw_entry_gc(t, e, expire_j, true))
				return true;
		}
		if (++i == a->size)
			i = 0;
	}
	return false;
}

/*
 * Create the key's entry, or find the one another CPU just made. NULL when
 * the table is full (and nothing could be reclaimed); ERR_PTR(-EBUSY) when
 * its array is at its cap and a larger one not published yet (a flood of
 * new keys outran the GC work); ERR_PTR(-EAGAIN) when the key was built
 * for other key fields than the table now has (a rule that changed them
 * is being loaded).
 *
 * While a rebuild fills a new array, new keys go there. An insert into
 * the old array checks for the new one after its claim, and one into the
 * new array looks for the key in the old one after its claim; both claims
 * are full barriers, and rw_table_rebuild() publishes the new array before
 * it reads a slot of the old one, so of two inserts of a key, one into
 * each, at least one sees the other (or the new array) and gives way.
 */
static noinline struct rw_entry *rw_create(struct xt_ratewin_tbl *t,
					   const struct rw_cfg *c,
					   const struct rw_key *k, u32 now)
{
	struct rw_array *a, *old = NULL, *n;
	const struct rw_cfg *lc;
	struct rw_entry *e, *o;
	bool claimed;

	if (atomic_inc_return(&t->count) > c->max) {
		atomic_dec(&t->count);
		if (!rw_reclaim_some(t, c->expire_j))
			goto full;
		if (atomic_inc_return(&t->count) > c->max)
			goto undo;
	}
	a = rcu_dereference(t->arr);
	n = rcu_dereference(a->next);
	if (n) {
		old = a;
		a = n;
	}
again:
	lc = rw_cfg_of_gen(t, a->gen);
	if (unlikely(!lc || lc->key_words != k->words)) {
		atomic_dec(&t->count);
		return ERR_PTR(-EAGAIN);
	}
	e = rw_array_claim(t, a, k, &claimed, false);
	if (unlikely(!e)) {
		/* the array is at its cap, the table below its max: growing */
		rw_kick(t, RW_KICK_REBUILD);
		atomic_dec(&t->count);
		return ERR_PTR(-EBUSY);
	}
	if (!claimed) {
		atomic_dec(&t->count);	/* another CPU inserted it first */
		return e;
	}
	n = rcu_dereference(a->next);
	if (unlikely(n)) {
		/* a rebuild began since we looked: into its array */
		rw_slot_retract(e);
		old = a;
		a = n;
		goto again;
	}
	if (unlikely(old)) {
		/* not moved yet, or inserted by a CPU that saw no new array */
		o = rw_array_find(old, k, 0, false);
		if (o) {
			rw_slot_retract(e);
			atomic_dec(&t->count);
			return o;
		}
	}
	rw_slot_fill(e, lc, k, now);
	rw_slot_publish(e, k->family, k->words, a->gen,
			lc->conn_off ? RW_E_CONN : 0);
	return e;
undo:
	atomic_dec(&t->count);
full:
	atomic64_inc(&t->full_events);
	return NULL;
}

/*
 * The key's entry, or NULL. While a rebuild fills a new array, it is
 * looked for there first: an entry is LIVE in the new array before the
 * rebuild marks it DEAD in the old one. With v4 the key is the IPv4
 * source address addr (one word to hash and compare, nothing on the
 * stack), else k; v4 is a constant in each caller. Under RCU, BH off.
 */
static __always_inline struct rw_entry *rw_lookup(struct xt_ratewin_tbl *t,
						  const struct rw_key *k,
						  u32 addr, const bool v4)
{
	struct rw_array *a = rcu_dereference(t->arr);
	struct rw_array *n = rcu_dereference(a->next);
	struct rw_entry *e;

	if (unlikely(n)) {
		e = rw_array_find(n, k, addr, v4);
		if (e)
			return e;
	}
	return rw_array_find(a, k, addr, v4);
}

/* rw_create() for an IPv4 source address key, off the fast path */
static noinline struct rw_entry *rw_create_v4(struct xt_ratewin_tbl *t,
					      const struct rw_cfg *c,
					      u32 addr, u32 now)
{
	struct rw_key k = {
		.family	= NFPROTO_IPV4,
		.words	= c->key_words,	/* 1 or 4: the address first */
		.w	= { addr },
	};

	return rw_create(t, c, &k, now);
}

/*
 * Find the key's entry or create it (see rw_create() for what else it
 * returns). The lookup is inlined into the match: under emulation above
 * all, a call and return cost as much as the rest of a warm lookup.
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
	return rw_create(t, c, k, now);
}

/*
 * The next LIVE entry at position *pos or after, in the table's array and
 * then the one a rebuild fills; *pos moves past it. Under RCU or the table
 * mutex. A rebuild meanwhile can show an entry twice or not at all, as a
 * resize does in any table dump.
 */
struct rw_entry *rw_table_next(struct xt_ratewin_tbl *t, u64 *pos)
{
	struct rw_array *a = rcu_dereference_check(t->arr,
						   lockdep_is_held(&t->mutex));
	u64 base = 0;

	while (a) {
		for (; *pos < base + a->size; (*pos)++) {
			struct rw_entry *e = rw_slot(a, *pos - base);

			if (rw_slot_live(READ_ONCE(e->lockword))) {
				(*pos)++;
				return e;
			}
		}
		base += a->size;
		a = rcu_dereference_check(a->next, lockdep_is_held(&t->mutex));
	}
	return NULL;
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
	bool ports = false, wide;
	u8 proto;

	/*
	 * An IPv6 key is wide whatever the table: where it is narrow (no
	 * IPv6 rule yet, one being loaded), the words differ and the key is
	 * decided unstored (rw_create()).
	 */
	wide = v6 || c->wide;
	k->family = family;
	k->words = rw_key_words_w(c->mode, wide);
	soff = rw_key_src_off_w(c->mode, wide);
	doff = rw_key_dst_off_w(c->mode, wide);
	poff = rw_key_port_off_w(c->mode, wide);
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
 * A new key that could not be stored (rw_create()'s -EBUSY and -EAGAIN):
 * decided as its entry would decide its first packet, and counted, but
 * nothing is kept. Its next packet is a first packet again, until the
 * table has room (a few milliseconds, while the GC work grows it).
 */
static noinline bool rw_mt_unstored(const struct sk_buff *skb,
				    struct xt_ratewin_tbl *t,
				    const struct rw_cfg *c, u32 now)
{
	union rw_win_buf winbuf;
	struct rw_state st = { };
	void *win = c->win_off ? &winbuf : NULL;
	u8 flags = 0;

	atomic64_inc(&t->unstored);
	rw_state_start(&st, win, c, now);
	/* its connections: this packet's, if it has one */
	return rw_decide_shaped(&st, &flags, win, &c->lim, now, skb->len,
				!!skb_nfct(skb));
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
	struct rw_state st;
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
	if (IS_ERR(e)) {
		admitted = rw_mt_unstored(skb, t, c, now);
		goto out;
	}
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
	st = rw_entry_state(e);
	admitted = rw_decide_shaped(&st, &e->flags, rw_entry_win(e, c),
				    &c->lim, now, skb->len, conns);
	rw_entry_set_state(e, &st);
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

/* ---- rebuilds --------------------------------------------------------- */

/*
 * Move one entry of the old array into the new one, laid out by nc. Table
 * mutex held, under RCU, BH off. The state is copied under the old slot's
 * lock and published in the new array before the old slot is marked DEAD,
 * so the key is never without a LIVE entry; packets that wait for the
 * lock then find it DEAD and look again.
 */
static void rw_entry_move(struct xt_ratewin_tbl *t, struct rw_entry *e,
			  struct rw_array *na, const struct rw_cfg *nc)
{
	struct nf_conncount_list *ol, *nl = NULL;
	struct rw_entry *n = NULL;
	const struct rw_cfg *oc;
	bool claimed = false;
	struct rw_key k;
	u32 now;

	rw_entry_lock(e);
	if (e->flags & RW_E_DEAD) {
		rw_entry_unlock(e);
		return;
	}
	now = rw_now();		/* under the lock, as on the packet path */
	oc = rw_entry_cfg(t, e);
	rw_entry_key(e, &k);
	/* into the new layout's width: made wide when IPv6 came */
	if (oc && rw_key_relayout(&k, nc->mode, nc->wide) &&
	    k.words == nc->key_words)
		n = rw_array_claim(t, na, &k, &claimed, true);
	if (atomic_read(&na->reserved) > 0)
		atomic_dec(&na->reserved);
	if (n && claimed) {
		struct rw_state st = rw_entry_state(e);

		n->admitted = e->admitted;
		n->over = e->over;
		rw_entry_set_state(n, &st);
		memcpy(n->key, k.w, k.words * sizeof(u32));
		if (nc->win_off && oc->win_off && oc->gen == nc->gen)
			memcpy(rw_entry_win(n, nc), rw_entry_win(e, oc),
			       rw_win_size(nc->lim.win_kind, nc->lim.win_n));
		else if (nc->win_off && oc->win_off)
			rw_win_migrate(rw_entry_win(n, nc), &nc->lim,
				       rw_entry_win(e, oc), &oc->lim, now);
		else if (nc->win_off)
			rw_win_init(rw_entry_win(n, nc), &nc->lim, now);
		rw_slot_init_conns(n, nc);
		rw_slot_publish(n, k.family, k.words, na->gen,
				(e->flags & ~(RW_E_CONN | RW_E_DEAD)) |
				(nc->conn_off ? RW_E_CONN : 0));
		nl = rw_entry_conns(n);
	} else if (!n) {
		/* the new array is full (or the key does not fit): dropped */
		atomic_dec(&t->count);
	}
	/* else: another entry of the key is LIVE there already; it stays */
	e->flags |= RW_E_DEAD;
	ol = rw_entry_conns(e);
	rw_entry_unlock(e);

	/*
	 * Connections move outside the entry lock (theirs may sleep on RT).
	 * A packet that counted itself into the old list after this sees the
	 * old entry dead and counts itself into the new one.
	 */
	if (ol && nl) {
		spin_lock_bh(&ol->list_lock);
		spin_lock_nested(&nl->list_lock, SINGLE_DEPTH_NESTING);
		list_splice_init(&ol->head, &nl->head);
		nl->count += ol->count;
		ol->count = 0;
		spin_unlock(&nl->list_lock);
		spin_unlock_bh(&ol->list_lock);
	}
}

/*
 * Put the new array na, laid out by nc, in place of the table's, with
 * every live entry moved into it, while packets go on (see rw_create()).
 * Table mutex held.
 */
static void rw_table_rebuild(struct xt_ratewin_tbl *t, struct rw_array *na,
			     const struct rw_cfg *nc)
{
	struct rw_array *oa = rcu_dereference_protected(t->arr,
						lockdep_is_held(&t->mutex));
	u32 i;

	/*
	 * New keys go to the new array at once: the room that the entries
	 * to be moved need is kept from them, or a flood of new keys could
	 * fill it first and leave no room for the old ones.
	 */
	atomic_set(&na->reserved, atomic_read(&t->count));
	rcu_assign_pointer(oa->next, na);
	/*
	 * Every insert into the old array that has not seen the new one is
	 * done when this returns, and a full barrier: an insert that claims
	 * an old slot this walk found EMPTY sees the new array and gives way.
	 */
	synchronize_rcu();
	for (i = 0; i < oa->size; i++) {
		struct rw_entry *e = rw_slot(oa, i);

		if (READ_ONCE(e->lockword)) {
			rcu_read_lock();
			local_bh_disable();
			rw_entry_move(t, e, na, nc);
			local_bh_enable();
			rcu_read_unlock();
		}
		if (!(i % 256))
			cond_resched();
	}
	atomic_set(&na->reserved, 0);
	rcu_assign_pointer(t->arr, na);
	synchronize_rcu();
	rw_array_free(oa);
}

/*
 * Put the new, empty array na in place of the table's, dropping every
 * entry (a flush; new key fields). Table mutex held.
 */
static void rw_table_replace(struct xt_ratewin_tbl *t, struct rw_array *na)
{
	struct rw_array *oa = rcu_dereference_protected(t->arr,
						lockdep_is_held(&t->mutex));
	u32 i, live = 0;

	rcu_assign_pointer(t->arr, na);
	synchronize_rcu();
	/* no CPU sees the old array now: count what it held */
	for (i = 0; i < oa->size; i++) {
		if (rw_slot_live(READ_ONCE(rw_slot(oa, i)->lockword)))
			live++;
		if (!(i % 4096))
			cond_resched();
	}
	atomic_sub(live, &t->count);
	rw_array_free(oa);
}

/*
 * After a sweep, or when an insert found the array filling up: a new array
 * when the used slots (live and dead) are beyond its grow_at, or the
 * live entries would fit one of a quarter of the size, or half the slots
 * are dead. Table mutex held, not under RCU.
 */
static void rw_table_resize(struct xt_ratewin_tbl *t, const struct rw_cfg *c)
{
	struct rw_array *a = rcu_dereference_protected(t->arr,
						lockdep_is_held(&t->mutex));
	u32 live = atomic_read(&t->count), size;
	struct rw_array *na;

	size = rw_array_size_for(t, c, live);
	/* full, or far larger than needed, or half of it reclaimed slots */
	if (atomic_read(&a->used) <= a->grow_at && size > a->size / 4 &&
	    atomic_read(&a->used) - live <= a->size / 2)
		return;
	/* room for the inserts that come during the rebuild, too */
	size = rw_array_size_for(t, c, live + live / 8);
	na = rw_array_alloc(size, c);
	if (!na) {
		pr_info_ratelimited("table %s: no memory for %u slots, table stays at %u\n",
				    t->name, size, a->size);
		return;
	}
	rw_table_rebuild(t, na, c);
}

/* ---- control operations (/proc writes) -------------------------------- */

void rw_table_flush(struct xt_ratewin_tbl *t)
{
	struct rw_array *na;
	struct rw_entry *e;
	struct rw_cfg *c;
	u64 pos = 0;

	mutex_lock(&t->mutex);
	c = rcu_dereference_protected(t->cfg, lockdep_is_held(&t->mutex));
	na = rw_array_alloc(t->min_size, c);
	if (na) {
		rw_table_replace(t, na);
		mutex_unlock(&t->mutex);
		return;
	}
	/* no memory for a new array: every entry DEAD in this one */
	rcu_read_lock();
	while ((e = rw_table_next(t, &pos))) {
		rw_entry_lock_bh(e);
		if (!(e->flags & RW_E_DEAD))
			rw_entry_unlink(t, e);
		rw_entry_unlock_bh(e);
	}
	rcu_read_unlock();
	mutex_unlock(&t->mutex);
}

static struct rw_cfg *rw_table_widen(struct xt_ratewin_tbl *t,
				     struct rw_cfg *old);

/*
 * Keys from /proc commands come wide (ratewin_key.h); tables of IPv4 keys
 * only store them narrow. False where the key has no place in c's layout.
 */
static bool rw_key_for_cfg(struct rw_key *k, const struct rw_key *wide,
			   const struct rw_cfg *c)
{
	*k = *wide;
	return rw_key_relayout(k, c->mode, c->wide) &&
	       k->words == c->key_words;
}

int rw_table_forget(struct xt_ratewin_tbl *t, const struct rw_key *wk)
{
	struct rw_entry *e = NULL;
	int err = -ENOENT;
	struct rw_key k;

	mutex_lock(&t->mutex);
	rcu_read_lock();
	/* an IPv6 key in a table of narrow keys is not in it */
	if (rw_key_for_cfg(&k, wk, rcu_dereference(t->cfg)))
		e = rw_lookup(t, &k, 0, false);
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

int rw_table_record(struct xt_ratewin_tbl *t, const struct rw_key *wk)
{
	struct rw_entry *e;
	struct rw_key k;
	struct rw_cfg *c;
	u32 now;
	int err = 0;

	mutex_lock(&t->mutex);
	c = rcu_dereference_protected(t->cfg, lockdep_is_held(&t->mutex));
	/* the first IPv6 key of a table of IPv4 rules: every key made wide */
	if (wk->family == NFPROTO_IPV6 && !c->wide) {
		c = rw_table_widen(t, c);
		if (IS_ERR(c)) {
			mutex_unlock(&t->mutex);
			return PTR_ERR(c);
		}
	}
	/* a key parsed before a rule changed the key fields: wrong size */
	if (!rw_key_for_cfg(&k, wk, c)) {
		mutex_unlock(&t->mutex);
		return -EINVAL;
	}
	/* from a process: an array that fills up grows now, not later */
	rw_table_resize(t, c);
	rcu_read_lock();
	local_bh_disable();
	now = rw_now();
	e = rw_get(t, c, &k, 0, now, false);
	if (IS_ERR_OR_NULL(e)) {
		err = PTR_ERR(e) == -EAGAIN ? -EAGAIN : -ENOSPC;
		goto out;
	}
	rw_entry_lock(e);
	if (!(e->flags & RW_E_DEAD)) {
		u64 cost = rw_cost(&c->lim, 1);
		struct rw_state st;
		void *win;

		/* not before the lock: st.last must never be ahead of now */
		now = rw_now();
		c = rw_entry_cfg(t, e);
		win = rw_entry_win(e, c);
		st = rw_entry_state(e);
		rw_refresh(&st, &e->flags, win, &c->lim, now);
		if (c->lim.flags & XT_RATEWIN_F_RATE)
			st.tokens -= min(st.tokens, cost);
		rw_entry_set_state(e, &st);
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
	unsigned int batch = 0;
	struct rw_entry *e;
	struct rw_cfg *c;
	u64 pos = 0;

	mutex_lock(&t->mutex);
	c = rcu_dereference_protected(t->cfg, lockdep_is_held(&t->mutex));
	/* an array that fills up grows first: inserts stop at its cap */
	if (test_and_clear_bit(RW_KICK_REBUILD, &t->gc_kick))
		rw_table_resize(t, c);
	clear_bit(RW_KICK_SWEEP, &t->gc_kick);
	while ((e = rw_table_next(t, &pos))) {
		if (!(++batch % 256))
			cond_resched();
		/* most entries were seen lately: no lock, nothing to do */
		if (rw_entry_young(e, c->expire_j))
			continue;
		rcu_read_lock();
		local_bh_disable();
		rw_entry_gc(t, e, c->expire_j, false);
		local_bh_enable();
		rcu_read_unlock();
	}
	/* what the sweep reclaimed: a smaller array, without the dead */
	rw_table_resize(t, c);
	queue_delayed_work(system_unbound_wq, &t->gc_work, c->gc_j);
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

/*
 * Lay entries out by c's limits and key width: header, key, [connection
 * list], [window]. A new generation where that differs from old's.
 */
static void rw_cfg_layout(struct rw_cfg *c, const struct rw_cfg *old)
{
	u32 off;

	c->key_words = rw_key_words_w(c->mode, c->wide);
	c->conn_off = 0;
	c->win_off = 0;
	off = RW_ENTRY_HDR + c->key_words * sizeof(u32);
	if (c->info.flags & XT_RATEWIN_F_CONN) {
		c->conn_off = rw_conn_off(c->key_words);
		off = c->conn_off + sizeof(struct nf_conncount_list);
	}
	if (c->info.flags & XT_RATEWIN_F_WINDOW) {
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
}

/* Build a configuration from a rule; old is the table's current one. */
static struct rw_cfg *rw_cfg_build(const struct xt_ratewin_mtinfo *info,
				   u8 family, const struct rw_cfg *old)
{
	struct rw_cfg *c = kzalloc(sizeof(*c), GFP_KERNEL);
	u8 v6 = family == NFPROTO_IPV6;

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
	c->wide = v6 || (old && old->wide);
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

	rw_cfg_layout(c, old);
	return c;
}

/*
 * The smallest array: --ratewin-htable-size slots (a hint, as in
 * hashlimit). Allocated up front, before any key needs it, so bounded:
 * a table's at most a sixteenth of the memory, and while the arrays of
 * all tables (less own, the table's present one) hold a quarter, new
 * tables start at the smallest size and grow with their keys. Many
 * rules with huge sizes then cannot take the memory from everything else.
 */
static u32 rw_min_size(const struct xt_ratewin_mtinfo *info,
		       const struct rw_cfg *c, u64 own)
{
	u32 hint = info->htable_size ?: XT_RATEWIN_DEFAULT_SIZE;
	u64 most = rw_size_for(c->max);
	u64 ram = (u64)totalram_pages() * PAGE_SIZE;
	u64 used = max_t(long, atomic_long_read(&rw_array_bytes), 0);
	u64 others = used > own ? used - own : 0;
	u64 room = ram / 4 > others ? ram / 4 - others : 0;
	u64 mem = min(ram / 16, room) / rw_stride(c);

	return max_t(u64, min3((u64)hint, most, mem), RW_MIN_SLOTS);
}

/* Bytes of the table's array (table mutex held). */
static u64 rw_table_array_bytes(struct xt_ratewin_tbl *t)
{
	struct rw_array *a = rcu_dereference_protected(t->arr,
					lockdep_is_held(&t->mutex));

	return (u64)a->size * a->stride;
}

static bool rw_cfg_same(const struct rw_cfg *c,
			const struct xt_ratewin_mtinfo *info, u8 family)
{
	u8 v6 = family == NFPROTO_IPV6;

	/* the verdict flags (upto, full) belong to the rule, not the table */
	const u32 rule_only = XT_RATEWIN_F_UPTO | XT_RATEWIN_F_FULL_UNDER;

	return (c->info.flags & ~rule_only) == (info->flags & ~rule_only) &&
	       (!v6 || c->wide) &&
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

/*
 * Make c the table's cfg in old's place: entries of a new layout move to
 * a new array, and where the key fields changed they are flushed. Table
 * mutex held; c is freed on failure.
 */
static int rw_table_apply(struct xt_ratewin_tbl *t, struct rw_cfg *old,
			  struct rw_cfg *c, const char *why)
{
	struct rw_array *na = NULL;
	bool rekey;

	rekey = c->mode != old->mode ||
		memcmp(c->srcmask, old->srcmask, sizeof(c->srcmask)) ||
		memcmp(c->dstmask, old->dstmask, sizeof(c->dstmask));
	if (rekey)
		c->gen = old->gen + 1;
	t->min_size = rw_min_size(&c->info, c, rw_table_array_bytes(t));
	/* the new layout's array first: without it, nothing changes */
	if (rekey || c->gen != old->gen) {
		u32 live = rekey ? 0 : atomic_read(&t->count);

		na = rw_array_alloc(rw_array_size_for(t, c, live + live / 8), c);
		if (!na && rekey)
			na = rw_array_alloc(RW_MIN_SLOTS, c);
		if (!na) {
			t->min_size = rw_min_size(&old->info, old,
						  rw_table_array_bytes(t));
			kfree(c);
			return -ENOMEM;
		}
	}
	pr_info("table %s: %s%s\n", t->name, why,
		rekey ? "; key fields changed, entries flushed" : "");

	/* entries of the old layout find theirs there until they are moved */
	rcu_assign_pointer(t->prev_cfg, old);
	rcu_assign_pointer(t->cfg, c);
	if (rekey)
		rw_table_replace(t, na);
	else if (na)
		rw_table_rebuild(t, na, c);
	else
		synchronize_rcu();
	RCU_INIT_POINTER(t->prev_cfg, NULL);
	kfree_rcu(old, rcu);
	mod_delayed_work(system_unbound_wq, &t->gc_work, c->gc_j);
	return 0;
}

/* A rule with other limits: they apply to the table now. rn->mutex held. */
static int rw_table_reconfigure(struct xt_ratewin_tbl *t,
				const struct xt_ratewin_mtinfo *info,
				u8 family)
{
	struct rw_cfg *old, *c;
	int err;

	mutex_lock(&t->mutex);
	old = rcu_dereference_protected(t->cfg, lockdep_is_held(&t->mutex));
	if (rw_cfg_same(old, info, family)) {
		mutex_unlock(&t->mutex);
		return 0;
	}
	c = rw_cfg_build(info, family, old);
	err = c ? rw_table_apply(t, old, c, family == NFPROTO_IPV6 && !old->wide ?
				 "IPv6 rule: keys made wide" :
				 "limits changed by a new rule") : -ENOMEM;
	mutex_unlock(&t->mutex);
	return err;
}

/*
 * The table's keys made wide, for an IPv6 key (a /proc command) in a table
 * of IPv4 rules. Table mutex held. Returns the cfg in force.
 */
static struct rw_cfg *rw_table_widen(struct xt_ratewin_tbl *t,
				     struct rw_cfg *old)
{
	struct rw_cfg *c = kmemdup(old, sizeof(*old), GFP_KERNEL);

	if (!c)
		return ERR_PTR(-ENOMEM);
	c->wide = 1;
	rw_cfg_layout(c, old);
	if (rw_table_apply(t, old, c, "IPv6 key: keys made wide"))
		return ERR_PTR(-ENOMEM);
	return c;
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
	struct xt_ratewin_tbl *t;
	struct rw_array *a;
	struct rw_cfg *c;
	int err;

	t = kzalloc(sizeof(*t), GFP_KERNEL);
	if (!t)
		return ERR_PTR(-ENOMEM);
	c = rw_cfg_build(info, family, NULL);
	if (!c) {
		kfree(t);
		return ERR_PTR(-ENOMEM);
	}
	t->min_size = rw_min_size(info, c, 0);
	a = rw_array_alloc(t->min_size, c);
	if (!a && t->min_size > RW_MIN_SLOTS) {
		/* the size asked for is a hint: a small table grows */
		pr_info_ratelimited("table %s: no memory for %u slots, starting at %u\n",
				    info->name, t->min_size, RW_MIN_SLOTS);
		t->min_size = RW_MIN_SLOTS;
		a = rw_array_alloc(t->min_size, c);
	}
	if (!a) {
		kfree(c);
		kfree(t);
		return ERR_PTR(-ENOMEM);
	}
	RCU_INIT_POINTER(t->arr, a);
	RCU_INIT_POINTER(t->cfg, c);
	mutex_init(&t->mutex);
	INIT_DELAYED_WORK(&t->gc_work, rw_gc_work);
	t->net = net;
	t->rn = rn;
	t->refs = 1;
	strscpy(t->name, info->name, sizeof(t->name));

	err = rw_proc_table_add(t);
	if (err) {
		rw_array_free(a);
		kfree(c);
		kfree(t);
		return ERR_PTR(err);
	}
	list_add(&t->list, &rn->tables);
	queue_delayed_work(system_unbound_wq, &t->gc_work, c->gc_j);
	return t;
}

static void rw_table_destroy(struct xt_ratewin_tbl *t)
{
	cancel_delayed_work_sync(&t->gc_work);
	rw_array_free(rcu_dereference_protected(t->arr, 1));
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

	/* a rate-only entry: 36 bytes and the key (narrow IPv4: 40 in all) */
	BUILD_BUG_ON(RW_ENTRY_HDR != 36);
	/* the lock bit is bit 4 of flags, byte 3 of the lock word */
	BUILD_BUG_ON(offsetof(struct rw_entry, flags) -
		     offsetof(struct rw_entry, lockword) != 3);
	/* the first word read whole (union rw_lw) as the entry lays it out */
	BUILD_BUG_ON(offsetof(struct rw_entry, family) != offsetof(union rw_lw, family) ||
		     offsetof(struct rw_entry, flags) != offsetof(union rw_lw, flags) ||
		     offsetof(struct rw_entry, lockword) != 0);
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
