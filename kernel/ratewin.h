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
#include <linux/rhashtable.h>
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
 * migrated (see rw_table_reconfigure()).
 */
struct rw_cfg {
	struct rw_limits	lim;
	struct xt_ratewin_mtinfo info;	/* the rule's words, table ptr NULL */
	u32			max;		/* entries */
	u32			expire_j;
	u32			gc_j;
	u8			mode;		/* XT_RATEWIN_MODE_*, never 0 */
	u8			key_words;
	u8			gen;
	u8			srcmask[2];	/* [0] IPv4, [1] IPv6 */
	u8			dstmask[2];
	u16			win_off;	/* bytes into the entry, 0: none */
	u16			conn_off;	/* bytes into the entry, 0: none */
	u16			size;		/* entry bytes */
	struct rcu_head		rcu;
};

/*
 * One key's state. With srcip keys and a rate only, this is 64 bytes:
 * one cache line per hit. The window and the connection list follow the
 * key at offsets the cfg gives.
 */
struct rw_entry {
	struct rhash_head	node;
	union {
		unsigned long	lockword;	/* for rw_entry_lock() */
		struct {
			u8	family;
			u8	key_words;
			u8	gen;		/* cfg generation of the layout */
			u8	flags;		/* RW_S_*, RW_E_* */
		};
	};
	union {
		struct {
			u64	admitted;
			u64	over;
		};
		struct rcu_head	rcu;		/* only once RW_E_DEAD */
	};
	struct rw_state		st;
	u32			key[];
};

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

struct xt_ratewin_tbl {
	struct rhashtable	ht;
	struct rw_cfg __rcu	*cfg;
	struct rw_cfg __rcu	*prev_cfg;	/* during a migration only */
	atomic_t		count;		/* entries */
	atomic64_t		full_events;	/* new keys refused: table full */
	atomic64_t		reclaimed;	/* entries reclaimed by GC */
	struct mutex		mutex;		/* cfg changes, GC, flush */
	struct delayed_work	gc_work;
	unsigned long		gc_kick;	/* bit 0: a full sweep is asked */
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

/* The connection list, when present, follows the key, 8-byte aligned. */
static inline u16 rw_conn_off(u8 key_words)
{
	return ALIGN(sizeof(struct rw_entry) + key_words * sizeof(u32), 8);
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
 * Keys are complete and already masked. Return 0 or a negative errno.
 */
void rw_table_flush(struct xt_ratewin_tbl *t);
int rw_table_forget(struct xt_ratewin_tbl *t, const struct rw_key *key);
int rw_table_record(struct xt_ratewin_tbl *t, const struct rw_key *key);

/* /proc/net/xt_ratewin: ratewin_proc.c */
int rw_proc_net_init(struct net *net, struct rw_net *rn);
void rw_proc_net_exit(struct net *net, struct rw_net *rn);
int rw_proc_table_add(struct xt_ratewin_tbl *t);
void rw_proc_table_del(struct xt_ratewin_tbl *t);

#endif /* _RATEWIN_H */
