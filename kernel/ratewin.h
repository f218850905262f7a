/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xt_ratewin internals shared by the match (xt_ratewin.c) and the /proc
 * interface (ratewin_proc.c).
 */
#ifndef _RATEWIN_H
#define _RATEWIN_H

#include <linux/atomic.h>
#include <linux/bit_spinlock.h>
#include <linux/lockdep.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <net/netfilter/nf_conntrack_count.h>

#include "ratewin_compat.h"
#include "ratewin_key.h"

/* Entry flags (rw_entry.flags); RW_S_* from ratewin_algo.h use the low bits */
enum {
	RW_E_LOCKED	= 1 << 4,	/* the entry lock: rw_entry_lock() */
	RW_E_CONN	= 1 << 6,	/* has a connection list */
	RW_E_DEAD	= 1 << 7,	/* unlinked: retry the lookup */
};

/*
 * A table's configuration. Immutable once published; a rule with other
 * limits publishes a new one. Entries are laid out by it: gen changes when
 * the layout or the window's meaning changes, and entries are then
 * migrated (see rw_table_reconfigure()). Keys are narrow (ratewin_key.h)
 * until the table meets IPv6, by a rule or a /proc command; from then on
 * they are wide, IPv4 keys included.
 */
struct rw_cfg {
	struct rw_limits	lim;
	struct xt_ratewin_mtinfo info;	/* the rule's words, table ptr NULL */
	u32			max;		/* entries */
	u32			expire_j;
	u32			gc_j;
	u8			mode;		/* XT_RATEWIN_MODE_*, never 0 */
	u8			wide;		/* keys of 4-word addresses */
	u8			key_words;	/* every entry's */
	u8			gen;
	u8			srcmask[2];	/* [0] IPv4, [1] IPv6 */
	u8			dstmask[2];
	u16			win_off;	/* bytes into the entry, 0: none */
	u16			conn_off;	/* bytes into the entry, 0: none */
	u16			size;		/* entry bytes */
	struct rcu_head		rcu;
};

/*
 * One key's state, in a slot of the table's array (struct rw_array): the
 * lookup reads the slot itself, no pointer to it. The algorithm's state
 * (struct rw_state) is kept in pieces around the first word, where last
 * fills the four bytes a 64-bit lock word leaves: with an IPv4 source
 * address key (narrow, see ratewin_key.h) and a rate only, a slot is 40
 * bytes, with an IPv6 one 56. The window and the connection list follow
 * the key at offsets the cfg gives.
 *
 * A slot's life, told by its first word alone: all zero, EMPTY (never
 * used); RW_E_LOCKED with family 0, BUSY (claimed by an insert that is
 * filling it in); family set, LIVE; RW_E_DEAD, DEAD (reclaimed, forgotten,
 * moved to a new array, or an insert given up). A slot goes only that way,
 * and a DEAD slot stays DEAD until its array is freed, so a slot that a
 * reader found LIVE and then finds not DEAD under the entry lock still
 * holds the key the reader saw.
 */
union rw_lw {
	unsigned long	word;		/* for rw_entry_lock() */
	struct {
		u8	family;
		u8	key_words;
		u8	gen;		/* cfg generation of the layout */
		u8	flags;		/* RW_S_*, RW_E_* */
	};
};

struct rw_entry {
	union {
		unsigned long	lockword;
		struct {
			u8	family;
			u8	key_words;
			u8	gen;
			u8	flags;
			u32	last;		/* rw_state.last */
		};
	};
	u64			tokens;		/* rw_state.tokens */
	u64			admitted;
	u64			over;
	u32			ban_start;	/* rw_state.ban_start */
	u32			key[];
};

/* The algorithm's state of an entry, and back (entry lock held). */
static __always_inline struct rw_state rw_entry_state(const struct rw_entry *e)
{
	struct rw_state st = {
		.tokens		= e->tokens,
		.last		= e->last,
		.ban_start	= e->ban_start,
	};

	return st;
}

static __always_inline void rw_entry_set_state(struct rw_entry *e,
					       const struct rw_state *st)
{
	e->tokens = st->tokens;
	/* read without the lock: rw_entry_young(), and the word by lookups */
	WRITE_ONCE(e->last, st->last);
	e->ban_start = st->ban_start;
}

/* A copy of the entry's key, as the entry lays it out (narrow or wide). */
static inline void rw_entry_key(const struct rw_entry *e, struct rw_key *k)
{
	k->family = e->family;
	k->words = min_t(u8, e->key_words, RW_KEY_MAX_WORDS);
	memset(k->w, 0, sizeof(k->w));
	memcpy(k->w, e->key, k->words * sizeof(u32));
}

/* Where the key's words begin: also the bytes of a slot before them. */
#define RW_ENTRY_HDR	offsetof(struct rw_entry, key)

static inline bool rw_lw_dead(unsigned long word)
{
	union rw_lw v = { .word = word };

	return v.flags & RW_E_DEAD;
}

/* claimed by an insert, not filled in yet (word not 0, not DEAD) */
static inline bool rw_lw_busy(unsigned long word)
{
	union rw_lw v = { .word = word };

	return !v.family;
}

/*
 * The table's slots: one array, linear probing from reciprocal_scale() of
 * the key's hash. A rebuild (growth, compaction, a new layout) fills a new
 * array while packets go on; next points to it until it replaces this one.
 */
struct rw_array {
	u32			size;		/* slots */
	u32			hash_rnd;
	u32			grow_at;	/* used beyond this: rebuild */
	u32			cap;		/* used at this: no more inserts */
	atomic_t		used;		/* slots not EMPTY */
	atomic_t		reserved;	/* for entries a rebuild moves in */
	u16			stride;		/* bytes a slot */
	u8			gen;		/* layout of the slots (rw_cfg.gen) */
	u8			conn;		/* slots have connection lists */
	struct rw_array __rcu	*next;
	u8			*slots;
};

static inline struct rw_entry *rw_slot(const struct rw_array *a, u32 i)
{
	return (struct rw_entry *)(a->slots + (size_t)i * a->stride);
}

/*
 * The entry lock: bit RW_E_LOCKED of flags, a bit spinlock in the word the
 * flags share with the entry's other small fields. Taking and releasing it
 * are inline: on the packet path the calls to the spinlock functions cost
 * more than the rest of a warm hit. It protects its whole word (the other
 * fields there are fixed, or flags changed under it), so it is released
 * with a plain store. Lockdep sees it through rw_entry_lock_map, as it
 * sees rhashtable's bucket bit locks. Softirqs must be off (they are on
 * the packet path; the _bh forms elsewhere).
 */
#ifdef __LITTLE_ENDIAN
#define RW_E_LOCK_NR	(3 * BITS_PER_BYTE + 4)		/* flags: byte 3 */
#else
#define RW_E_LOCK_NR	(BITS_PER_LONG - 4 * BITS_PER_BYTE + 4)
#endif

extern struct lockdep_map rw_entry_lock_map;

static __always_inline void rw_entry_lock(struct rw_entry *e)
{
	bit_spin_lock(RW_E_LOCK_NR, &e->lockword);
	lock_map_acquire(&rw_entry_lock_map);
}

static __always_inline bool rw_entry_trylock(struct rw_entry *e)
{
	if (!bit_spin_trylock(RW_E_LOCK_NR, &e->lockword))
		return false;
	lock_map_acquire_try(&rw_entry_lock_map);
	return true;
}

static __always_inline void rw_entry_unlock(struct rw_entry *e)
{
	lock_map_release(&rw_entry_lock_map);
	__bit_spin_unlock(RW_E_LOCK_NR, &e->lockword);
}

static inline void rw_entry_lock_bh(struct rw_entry *e)
{
	local_bh_disable();
	rw_entry_lock(e);
}

static inline void rw_entry_unlock_bh(struct rw_entry *e)
{
	rw_entry_unlock(e);
	local_bh_enable();
}

struct rw_net;

/* xt_ratewin_tbl.gc_kick: what the GC work is asked to do at once */
enum {
	RW_KICK_SWEEP,		/* a full sweep (the table is full) */
	RW_KICK_REBUILD,	/* a new array (this one fills up) */
};

struct xt_ratewin_tbl {
	struct rw_array __rcu	*arr;
	struct rw_cfg __rcu	*cfg;
	struct rw_cfg __rcu	*prev_cfg;	/* during a migration only */
	atomic_t		count;		/* entries */
	atomic64_t		full_events;	/* new keys refused: table full */
	atomic64_t		reclaimed;	/* entries reclaimed by GC */
	atomic64_t		unstored;	/* new keys decided, not stored */
	struct mutex		mutex;		/* cfg changes, GC, flush */
	struct delayed_work	gc_work;
	unsigned long		gc_kick;	/* RW_KICK_* */
	u32			min_size;	/* slots: --ratewin-htable-size */
	unsigned int		refs;		/* rules; under rw_net.mutex */
	struct list_head	list;		/* rw_net.tables */
	struct net		*net;
	struct rw_net		*rn;
	struct proc_dir_entry	*pde;
	char			name[XT_RATEWIN_NAME_LEN];
};

struct rw_net {
	struct mutex		mutex;		/* tables list, proc entries */
	struct list_head	tables;
	struct proc_dir_entry	*proc_dir;	/* NULL once the netns exits */
};

struct rw_net *rw_pernet(struct net *net);

static inline struct rw_cfg *rw_entry_cfg(struct xt_ratewin_tbl *t,
					  const struct rw_entry *e)
{
	struct rw_cfg *c = rcu_dereference_check(t->cfg, 1);

	if (likely(e->gen == c->gen))
		return c;
	return rcu_dereference_check(t->prev_cfg, 1);
}

static inline void *rw_entry_win(struct rw_entry *e, const struct rw_cfg *c)
{
	return c->win_off ? (u8 *)e + c->win_off : NULL;
}

/* Room for a copy of any window (an exact ring or the slots), on the stack. */
union rw_win_buf {
	struct rw_slots	slots;
	u8		ring[sizeof(struct rw_ring) + RW_WIN_EXACT_MAX * sizeof(u32)];
	u64		align;
};

/* A copy of the entry's window in buf, or NULL where it has none. */
static inline void *rw_entry_win_copy(struct rw_entry *e,
				      const struct rw_cfg *c,
				      union rw_win_buf *buf)
{
	if (!c->win_off)
		return NULL;
	memcpy(buf, rw_entry_win(e, c),
	       rw_win_size(c->lim.win_kind, c->lim.win_n));
	return buf;
}

/* The connection list, when present, follows the key, 8-byte aligned. */
static inline u16 rw_conn_off(u8 key_words)
{
	return ALIGN(RW_ENTRY_HDR + key_words * sizeof(u32), 8);
}

static inline struct nf_conncount_list *rw_entry_conns(struct rw_entry *e)
{
	if (!(e->flags & RW_E_CONN))
		return NULL;
	return (void *)((u8 *)e + rw_conn_off(e->key_words));
}

/* Current 32-bit jiffies, the time base of all entry state. */
static inline u32 rw_now(void)
{
	return (u32)jiffies;
}

/*
 * Control operations for /proc writes. Each takes the table mutex.
 * Keys are complete, already masked and wide (ratewin_key.h). Return 0
 * or a negative errno.
 */
void rw_table_flush(struct xt_ratewin_tbl *t);
struct rw_entry *rw_table_next(struct xt_ratewin_tbl *t, u64 *pos);
int rw_table_forget(struct xt_ratewin_tbl *t, const struct rw_key *key);
int rw_table_record(struct xt_ratewin_tbl *t, const struct rw_key *key);

/* /proc/net/xt_ratewin: ratewin_proc.c */
int rw_proc_net_init(struct net *net, struct rw_net *rn);
void rw_proc_net_exit(struct net *net, struct rw_net *rn);
int rw_proc_table_add(struct xt_ratewin_tbl *t);
void rw_proc_table_del(struct xt_ratewin_tbl *t);

#endif /* _RATEWIN_H */
