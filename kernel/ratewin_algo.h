/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xt_ratewin decision logic: token bucket, sliding window, ban and the
 * combined admit-all-or-nothing step.
 *
 * Pure functions over plain state, no locking and no allocation: the module
 * calls them under the entry lock, and tests/unit/algo_test.c compiles this
 * same file in userspace and checks it against a reference model.
 *
 * Time is in jiffies. Stored timestamps are the low 32 bits; every age is
 * computed as an unsigned 32-bit difference, which is exact while the age is
 * below 2^32 jiffies. Durations are capped at 30 days (2.6e9 jiffies at
 * HZ=1000) and garbage collection refreshes older state, so it always is.
 *
 * Tokens are fixed point with 32 fractional bits: a bucket of up to 2^31
 * packets or bytes, refilled at any rate from 1/day upwards without
 * overflow. The refill is exact: tokens always hold the exact content (a
 * multiple of 1/period_j token) rounded down to 2^-32, however often and
 * whenever the bucket is refilled, so the bucket admits exactly what a
 * bucket of rational tokens would.
 */
#ifndef _RATEWIN_ALGO_H
#define _RATEWIN_ALGO_H

#ifdef __KERNEL__
#include <linux/compiler.h>
#include <linux/types.h>
#include <linux/limits.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/string.h>
#include <linux/netfilter/xt_ratewin.h>
#else
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef int32_t s32;
typedef uint64_t u64;
#ifndef U32_MAX
#define U32_MAX		((u32)~0U)
#endif
#ifndef U64_MAX
#define U64_MAX		((u64)~0ULL)
#endif
#ifndef __always_inline
#define __always_inline	inline	/* userspace tests: a hint is enough */
#endif
#ifndef noinline
#define noinline	inline	/* userspace tests: the compiler decides */
#endif
#ifndef likely
#define likely(x)	__builtin_expect(!!(x), 1)
#endif
#include <linux/netfilter/xt_ratewin.h>
static inline u64 div_u64_rem(u64 dividend, u32 divisor, u32 *remainder)
{
	*remainder = dividend % divisor;
	return dividend / divisor;
}

static inline u64 div_u64(u64 dividend, u32 divisor)
{
	return dividend / divisor;
}
#endif

#define RW_FP_SHIFT		32
#define RW_FP_ONE		(1ULL << RW_FP_SHIFT)

/* Windows up to this N keep every timestamp and are exact. */
#define RW_WIN_EXACT_MAX	32
/*
 * Larger windows count events in this many slots of DURATION/16 (rounded
 * up). A slot leaves the window once its last jiffy has: events count at
 * most one slot longer than DURATION, never shorter.
 */
#define RW_WIN_SLOTS		17

enum rw_win_kind {
	RW_WIN_NONE,
	RW_WIN_RING,
	RW_WIN_SLOTS_KIND,
};

/*
 * Decision shapes: the limit combinations that rw_decide_shaped() decides
 * with code of their own, rw_decide() compiled for constant limit flags.
 * A shape is the XT_RATEWIN_F_LIMITS bits of a rule without a ban whose
 * window, if any, is exact (N <= 32); 0 is anything else, decided by
 * rw_decide() reading the rule's flags. rw_limits_init() picks it.
 */
#define RW_SHAPE_ANY	0

/* Per-entry state flags. */
enum {
	RW_S_BANNED	= 1 << 0,
};

/* Limits in the units the packet path uses, derived once per rule. */
struct rw_limits {
	u32	flags;		/* XT_RATEWIN_F_* */
	u32	period_j;	/* bucket: jiffies per period, > 0 */
	u64	rate_n;		/* bucket: tokens per period, > 0 */
	u64	burst_fp;	/* bucket depth, fixed point */
	u32	fill_j;		/* jiffies to fill an empty bucket; U32_MAX:
				 * that or more, refilled the long way
				 */
	u32	win_n;		/* window: events allowed */
	u32	win_j;		/* window: duration in jiffies, > 0 */
	u32	slot_j;		/* slotted window: slot length */
	u8	win_kind;	/* enum rw_win_kind */
	u8	shape;		/* RW_SHAPE_ANY or XT_RATEWIN_F_* limits */
	u32	conn_above;
	u32	ban_j;		/* 0: no ban */
};

/* Bucket and ban state, present in every entry. */
struct rw_state {
	u64	tokens;		/* fixed point */
	u32	last;		/* jiffies of the last packet: refill stamp */
	u32	ban_start;	/* jiffies the ban (re)started */
};

/* Exact window: the newest events, oldest at head, capacity win_n. */
struct rw_ring {
	u8	head;
	u8	count;
	u16	pad;
	u32	ts[];
};

/* Approximate window for large N: counts per slot, newest at head. */
struct rw_slots {
	u32	head_start;	/* jiffies the head slot began */
	u32	total;
	u8	head;
	u8	pad[3];
	u32	cnt[RW_WIN_SLOTS];
};

static inline u32 rw_win_size(u8 kind, u32 n)
{
	switch (kind) {
	case RW_WIN_RING:
		return sizeof(struct rw_ring) + n * sizeof(u32);
	case RW_WIN_SLOTS_KIND:
		return sizeof(struct rw_slots);
	default:
		return 0;
	}
}

static inline void rw_win_init(void *win, const struct rw_limits *lim, u32 now)
{
	memset(win, 0, rw_win_size(lim->win_kind, lim->win_n));
	if (lim->win_kind == RW_WIN_SLOTS_KIND)
		((struct rw_slots *)win)->head_start = now;
}

/* rw_win_advance_k() for the slotted window: out of line, off the ring */
static noinline void rw_slots_advance(struct rw_slots *s,
				    const struct rw_limits *lim, u32 now)
{
	u32 age = now - s->head_start;
	u32 steps, i, k;

	/* empty: the next event starts the slots afresh */
	if (!s->total)
		return;
	if (age >= lim->slot_j) {
		steps = age / lim->slot_j;
		if (steps >= RW_WIN_SLOTS) {
			memset(s->cnt, 0, sizeof(s->cnt));
			s->total = 0;
			return;
		}
		for (i = 0; i < steps; i++) {
			s->head = s->head + 1 == RW_WIN_SLOTS ?
				  0 : s->head + 1;
			s->total -= s->cnt[s->head];
			s->cnt[s->head] = 0;
		}
		age %= lim->slot_j;
		s->head_start = now - age;
	}
	/*
	 * Slot head - k ends at head_start - (k - 1) * slot_j - 1; it
	 * leaves once that jiffy is win_j old. Oldest first.
	 */
	for (k = RW_WIN_SLOTS - 1; k; k--) {
		u32 idx = s->head >= k ? s->head - k :
			  s->head + RW_WIN_SLOTS - k;

		if (age + (k - 1) * lim->slot_j + 1 < lim->win_j)
			break;
		s->total -= s->cnt[idx];
		s->cnt[idx] = 0;
	}
}

/*
 * The exact window's steps, with its limits as arguments: rw_decide()
 * passes them from registers.
 */
static __always_inline void rw_ring_advance(struct rw_ring *r, u32 n, u32 wj,
					    u32 now)
{
	while (r->count && (u32)(now - r->ts[r->head]) >= wj) {
		r->head = r->head + 1U == n ? 0 : r->head + 1;
		r->count--;
	}
}

static __always_inline void rw_ring_record(struct rw_ring *r, u32 n, u32 now)
{
	u32 i = r->head;

	if (r->count < n) {
		i += r->count;
		r->ts[i >= n ? i - n : i] = now;
		r->count++;
	} else if (r->ts[i] != now) {
		/*
		 * Full (count-all): the oldest falls out. When the oldest is
		 * of this jiffy, so are all N and nothing changes: a flood
		 * from one key writes nothing here.
		 */
		r->ts[i] = now;
		r->head = i + 1 == n ? 0 : i + 1;
	}
}

/*
 * The window's steps by kind (RW_WIN_NONE: no window), with the limits
 * that rw_decide() holds in registers as arguments: it reads them once,
 * before its stores to the entry, which the compiler cannot tell apart
 * from the limits. The ring's few instructions stay inline on the packet
 * path; the slotted window's loop does not.
 */
static __always_inline void rw_win_advance_k(void *win, u8 kind, u32 win_n,
					     const struct rw_limits *lim,
					     u32 now)
{
	if (!kind)
		return;
	if (likely(kind == RW_WIN_RING))
		rw_ring_advance(win, win_n, lim->win_j, now);
	else
		rw_slots_advance(win, lim, now);
}

static __always_inline u32 rw_win_count_k(const void *win, u8 kind)
{
	if (!kind)
		return 0;
	if (likely(kind == RW_WIN_RING))
		return ((const struct rw_ring *)win)->count;
	return ((const struct rw_slots *)win)->total;
}

static __always_inline void rw_win_record_k(void *win, u8 kind, u32 win_n,
					    u32 now)
{
	struct rw_slots *s = win;

	if (!kind)
		return;
	if (likely(kind == RW_WIN_RING)) {
		rw_ring_record(win, win_n, now);
		return;
	}
	if (!s->total) {
		/* as in a new entry: reclaiming one changes nothing */
		s->head_start = now;
	}
	if (s->total < U32_MAX) {
		s->cnt[s->head]++;
		s->total++;
	}
}

/* Events in the window, after rw_refresh(). */
static inline u32 rw_win_count(const void *win, const struct rw_limits *lim)
{
	return rw_win_count_k(win, lim->win_kind);
}

static inline void rw_win_record(void *win, const struct rw_limits *lim,
				 u32 now)
{
	rw_win_record_k(win, lim->win_kind, lim->win_n, now);
}

/*
 * Jiffies until the window admits again (0: it admits now), after
 * rw_refresh().
 */
static inline u32 rw_win_next(const void *win, const struct rw_limits *lim,
			      u32 now)
{
	if (lim->win_kind == RW_WIN_RING) {
		const struct rw_ring *r = win;
		u32 age;

		if (r->count < lim->win_n)
			return 0;
		/* the oldest of the last N must leave the window */
		age = now - r->ts[r->head];
		return lim->win_j - age;
	}
	if (lim->win_kind == RW_WIN_SLOTS_KIND) {
		const struct rw_slots *s = win;
		u32 left = s->total, age = now - s->head_start, k;

		if (left < lim->win_n)
			return 0;
		/* the oldest slots leave first, as in rw_slots_advance() */
		for (k = RW_WIN_SLOTS - 1; k; k--) {
			u32 idx = s->head >= k ? s->head - k :
				  s->head + RW_WIN_SLOTS - k;

			left -= s->cnt[idx];
			if (left < lim->win_n)
				return lim->win_j - (age + (k - 1) *
						     lim->slot_j + 1);
		}
		/* the head slot ends at head_start + slot_j - 1 */
		return lim->win_j + lim->slot_j - 1 - age;
	}
	return 0;
}

/*
 * Count n events at time t (age below win_j) into slots that rw_win_init()
 * started at now: into the slot that holds t, so they leave the window at
 * most one slot after t + win_j, as recorded events do.
 */
static inline void rw_slots_put(struct rw_slots *d, const struct rw_limits *nl,
				u32 now, u32 t, u32 n)
{
	u32 age = now - t;
	u32 k = age ? (age - 1) / nl->slot_j + 1 : 0;

	if (k >= RW_WIN_SLOTS)
		return;
	d->cnt[d->head >= k ? d->head - k : d->head + RW_WIN_SLOTS - k] += n;
	d->total += n;
}

/*
 * Carry window state across a change of window parameters. Events keep their
 * times where the new form can hold them; slot counts are placed at the end of
 * their slot, which can only delay admissions, never add any. dst and src
 * must not overlap; src need not have been advanced to now.
 */
static inline void rw_win_migrate(void *dst, const struct rw_limits *nl,
				  const void *src, const struct rw_limits *ol,
				  u32 now)
{
	u32 times[RW_WIN_SLOTS], counts[RW_WIN_SLOTS], n = 0, i, c;

	rw_win_init(dst, nl, now);
	if (ol->win_kind == RW_WIN_RING) {
		const struct rw_ring *r = src;
		u32 first = 0;

		/* a ring never holds more than RW_WIN_EXACT_MAX events */
		if (nl->win_kind == RW_WIN_RING && r->count > nl->win_n)
			first = r->count - nl->win_n;
		for (i = first; i < r->count; i++) {
			u32 j = r->head + i;
			u32 t = r->ts[j >= ol->win_n ? j - ol->win_n : j];

			if ((u32)(now - t) >= nl->win_j)
				continue;
			if (nl->win_kind == RW_WIN_RING)
				rw_win_record(dst, nl, t);
			else if (nl->win_kind == RW_WIN_SLOTS_KIND)
				rw_slots_put(dst, nl, now, t, 1);
		}
		return;
	}
	if (ol->win_kind != RW_WIN_SLOTS_KIND)
		return;
	{
		const struct rw_slots *s = src;
		u32 idx = s->head;

		/* newest slot first; its events are no later than now */
		for (i = 0; i < RW_WIN_SLOTS; i++) {
			/* slot head-i ends where slot head-i+1 begins */
			u32 end = i ? s->head_start - (i - 1) * ol->slot_j - 1 :
				      s->head_start + ol->slot_j - 1;

			if (!i && (u32)(now - s->head_start) < ol->slot_j)
				end = now;
			if (s->cnt[idx]) {
				times[n] = end;
				counts[n] = s->cnt[idx];
				n++;
			}
			idx = idx ? idx - 1 : RW_WIN_SLOTS - 1;
		}
	}
	/* oldest first */
	while (n--) {
		u32 t = times[n];

		if ((u32)(now - t) >= nl->win_j)
			continue;
		if (nl->win_kind == RW_WIN_RING) {
			for (c = 0; c < counts[n] && c < nl->win_n; c++)
				rw_win_record(dst, nl, t);
		} else if (nl->win_kind == RW_WIN_SLOTS_KIND) {
			rw_slots_put(dst, nl, now, t, counts[n]);
		}
	}
}

/* rw_bucket_refill() once time has passed and the bucket is not full. */
static noinline void rw_bucket_refill_time(struct rw_state *st,
					   const struct rw_limits *lim,
					   u32 elapsed)
{
	u32 rem;
	u64 frac, units;

	if (elapsed >= lim->fill_j && lim->fill_j != U32_MAX) {
		st->tokens = lim->burst_fp;
		return;
	}
	/*
	 * Count in units of 1/period_j token, where a refill is exact.
	 * tokens is floor(units * 2^32 / period_j), one to one as period_j <
	 * 2^32, so units = ceil(tokens * period_j / 2^32). Taking a whole
	 * cost keeps that form. Bounds: units <= burst * period_j < 2^62
	 * (rw_limits_init), elapsed * rate_n < burst * period_j + rate_n as
	 * elapsed < the exact fill time, so nothing overflows.
	 */
	frac = (st->tokens & (RW_FP_ONE - 1)) * lim->period_j;
	units = (st->tokens >> RW_FP_SHIFT) * lim->period_j +
		(frac >> RW_FP_SHIFT) + !!(frac & (RW_FP_ONE - 1));
	units += (u64)elapsed * lim->rate_n;
	if (units >= (lim->burst_fp >> RW_FP_SHIFT) * lim->period_j) {
		st->tokens = lim->burst_fp;
		return;
	}
	st->tokens = div_u64_rem(units, lim->period_j, &rem) << RW_FP_SHIFT;
	st->tokens += div_u64((u64)rem << RW_FP_SHIFT, lim->period_j);
}

/*
 * Refill the bucket up to now. Inline for the packet path's common cases
 * (the bucket is full, or no jiffy has passed since the last packet); the
 * arithmetic is out of line.
 */
static __always_inline void rw_bucket_refill(struct rw_state *st,
					     const struct rw_limits *lim,
					     u32 now)
{
	u32 elapsed = now - st->last;

	/* full, or above a burst that a changed rule lowered */
	if (st->tokens >= lim->burst_fp) {
		st->tokens = lim->burst_fp;
		return;
	}
	if (elapsed)
		rw_bucket_refill_time(st, lim, elapsed);
}

static inline bool rw_banned(const struct rw_state *st, u8 sflags,
			     const struct rw_limits *lim, u32 now)
{
	return (sflags & RW_S_BANNED) && (u32)(now - st->ban_start) < lim->ban_j;
}

/* Cost in fixed-point tokens of a packet of len bytes, for rule flags. */
static __always_inline u64 rw_cost_k(u32 flags, u32 len)
{
	return flags & XT_RATEWIN_F_BYTES ? (u64)len << RW_FP_SHIFT : RW_FP_ONE;
}

static inline u64 rw_cost(const struct rw_limits *lim, u32 len)
{
	return rw_cost_k(lim->flags, len);
}

/*
 * rw_refresh() with the rule's flags, window kind (RW_WIN_NONE without a
 * window) and window size as arguments (see rw_win_advance_k()). Returns
 * whether the entry is still banned.
 */
static __always_inline bool rw_refresh_k(struct rw_state *st, u8 *sflags,
					 void *win, const struct rw_limits *lim,
					 u32 flags, u8 kind, u32 win_n, u32 now)
{
	bool banned = *sflags & RW_S_BANNED;

	if (flags & XT_RATEWIN_F_RATE)
		rw_bucket_refill(st, lim, now);
	st->last = now;
	rw_win_advance_k(win, kind, win_n, lim, now);
	if (banned && !rw_banned(st, RW_S_BANNED, lim, now)) {
		*sflags &= ~RW_S_BANNED;
		banned = false;
	}
	return banned;
}

/*
 * Bring an entry's state up to now without deciding anything: refill the
 * bucket, drop expired window events and an expired ban.
 */
static __always_inline void rw_refresh(struct rw_state *st, u8 *sflags,
				       void *win, const struct rw_limits *lim,
				       u32 now)
{
	rw_refresh_k(st, sflags, win, lim, lim->flags,
		     win ? lim->win_kind : RW_WIN_NONE, lim->win_n, now);
}

/*
 * The combined decision (SPEC section 4), for a rule whose flags are
 * flags and whose window kind is kind (RW_WIN_NONE without one).
 * conns is the key's live connection count including this packet's
 * (ignored without F_CONN). Returns true when the packet is admitted;
 * then the bucket and the window are charged together. Otherwise nothing
 * is consumed, the event enters the window with count-all, and a ban
 * starts (or restarts, with count-all).
 *
 * The limits are read once into locals and passed to the steps (the
 * *_k() forms): the entry stores in between would otherwise make the
 * compiler read them again (it cannot tell that they do not alias), and
 * a rule without a window would test for one once before and once after
 * the decision. Called with constant flags and kind, it compiles to the
 * straight-line code of one shape (rw_decide_shaped()).
 */
static __always_inline bool rw_decide_k(struct rw_state *st, u8 *sflags,
					void *win, const struct rw_limits *lim,
					u32 now, u64 cost, u32 conns,
					const u32 flags, u8 kind)
{
	const u32 win_n = lim->win_n;
	bool banned, ok;

	banned = rw_refresh_k(st, sflags, win, lim, flags, kind, win_n, now);
	ok = !banned;
	if (ok && (flags & XT_RATEWIN_F_RATE) && st->tokens < cost)
		ok = false;
	if (ok && kind && rw_win_count_k(win, kind) >= win_n)
		ok = false;
	if (ok && (flags & XT_RATEWIN_F_CONN) && conns > lim->conn_above)
		ok = false;

	if (ok) {
		if (flags & XT_RATEWIN_F_RATE)
			st->tokens -= cost;
	} else if (!(flags & XT_RATEWIN_F_COUNT_ALL)) {
		kind = RW_WIN_NONE;	/* not recorded */
	}
	rw_win_record_k(win, kind, win_n, now);
	if (ok)
		return true;
	if ((flags & XT_RATEWIN_F_BAN) && lim->ban_j &&
	    (!banned || (flags & XT_RATEWIN_F_COUNT_ALL))) {
		st->ban_start = now;
		*sflags |= RW_S_BANNED;
	}
	return false;
}

/* The decision for any rule: rw_decide_k() with the rule's own flags. */
static __always_inline bool rw_decide(struct rw_state *st, u8 *sflags,
				      void *win, const struct rw_limits *lim,
				      u32 now, u64 cost, u32 conns)
{
	return rw_decide_k(st, sflags, win, lim, now, cost, conns, lim->flags,
			   win ? lim->win_kind : RW_WIN_NONE);
}

/*
 * rw_decide() for shape limits (see RW_SHAPE_ANY) and an entry that is
 * not banned: the limit flags and the window kind are constants, the
 * count-all and bytes flags are read from the rule.
 */
static __always_inline bool rw_decide_as(struct rw_state *st, u8 *sflags,
					 void *win,
					 const struct rw_limits *lim,
					 u32 now, u32 len, u32 conns,
					 const u32 limits)
{
	const u32 flags = limits | (lim->flags & (XT_RATEWIN_F_BYTES |
						  XT_RATEWIN_F_COUNT_ALL));

	return rw_decide_k(st, sflags, win, lim, now, rw_cost_k(flags, len),
			   conns, flags,
			   limits & XT_RATEWIN_F_WINDOW ? RW_WIN_RING :
							  RW_WIN_NONE);
}

/*
 * The decision for a packet of len bytes: rw_decide(), with the rules
 * of a shape (see RW_SHAPE_ANY) decided by their own straight-line code.
 * A banned entry, which a shape without a ban can hold after its rule
 * changed, goes the general way, which ends the ban.
 *
 * Instructions per decision, counted by callgrind (make bench-decide),
 * are in the README. Under emulation the difference is larger than the
 * count says: the general code keeps its limits and flags in stack slots
 * around the window's loop, and every branch it tests ends a translated
 * block.
 */
static __always_inline bool rw_decide_shaped(struct rw_state *st, u8 *sflags,
					     void *win,
					     const struct rw_limits *lim,
					     u32 now, u32 len, u32 conns)
{
	/* each case passes its own constant: rw_decide_as() becomes its code */
	if (likely(!(*sflags & RW_S_BANNED))) {
		switch (lim->shape) {
		case XT_RATEWIN_F_RATE:
			return rw_decide_as(st, sflags, win, lim, now, len,
					    conns, XT_RATEWIN_F_RATE);
		case XT_RATEWIN_F_WINDOW:
			return rw_decide_as(st, sflags, win, lim, now, len,
					    conns, XT_RATEWIN_F_WINDOW);
		case XT_RATEWIN_F_CONN:
			return rw_decide_as(st, sflags, win, lim, now, len,
					    conns, XT_RATEWIN_F_CONN);
		case XT_RATEWIN_F_RATE | XT_RATEWIN_F_WINDOW:
			return rw_decide_as(st, sflags, win, lim, now, len,
					    conns, XT_RATEWIN_F_RATE | XT_RATEWIN_F_WINDOW);
		case XT_RATEWIN_F_RATE | XT_RATEWIN_F_CONN:
			return rw_decide_as(st, sflags, win, lim, now, len,
					    conns, XT_RATEWIN_F_RATE | XT_RATEWIN_F_CONN);
		case XT_RATEWIN_F_WINDOW | XT_RATEWIN_F_CONN:
			return rw_decide_as(st, sflags, win, lim, now, len,
					    conns, XT_RATEWIN_F_WINDOW | XT_RATEWIN_F_CONN);
		case XT_RATEWIN_F_LIMITS:
			return rw_decide_as(st, sflags, win, lim, now, len,
					    conns, XT_RATEWIN_F_LIMITS);
		}
	}
	return rw_decide(st, sflags, win, lim, now, rw_cost(lim, len), conns);
}

/*
 * True when the entry can no longer change a decision: bucket full, window
 * empty, no ban. (Connections are the caller's to check.) Call after
 * rw_refresh().
 */
static inline bool rw_idle_state(const struct rw_state *st, u8 sflags,
				 const void *win, const struct rw_limits *lim)
{
	if ((lim->flags & XT_RATEWIN_F_RATE) && st->tokens < lim->burst_fp)
		return false;
	if (win && rw_win_count(win, lim))
		return false;
	return !(sflags & RW_S_BANNED);
}

/*
 * Derive packet-path limits. Returns 0, or -1 when a value is out of range
 * (the caller has checked flags and the ABI limits; this guards the
 * arithmetic, and durations beyond XT_RATEWIN_DURATION_MAX_MS, which keep
 * every age below 2^32 jiffies). hz is the timer frequency.
 */
static inline int rw_limits_init(struct rw_limits *lim, u32 flags,
				 u64 rate_n, u32 period_ms, u64 burst,
				 u32 win_n, u64 win_ms, u32 conn_above,
				 u64 ban_ms, u32 hz)
{
	memset(lim, 0, sizeof(*lim));
	lim->flags = flags;
	if (!hz)
		return -1;
	if (flags & XT_RATEWIN_F_RATE) {
		u64 period_j = (u64)period_ms * hz / 1000, fill;

		if (!rate_n || !burst || !period_j || period_j > U32_MAX ||
		    burst > (1ULL << 31) || rate_n > (1ULL << 32) ||
		    burst * period_j >= (1ULL << 62))
			return -1;
		lim->rate_n = rate_n;
		lim->period_j = period_j;
		lim->burst_fp = burst << RW_FP_SHIFT;
		/* ceil(burst * period_j / rate_n): both < 2^32, no overflow */
		fill = (burst * period_j + rate_n - 1) / rate_n;
		lim->fill_j = fill > U32_MAX ? U32_MAX : (u32)fill;
		if (!lim->fill_j)
			lim->fill_j = 1;
	}
	if (flags & XT_RATEWIN_F_WINDOW) {
		u64 win_j;

		/* bound first: win_ms * hz must not wrap */
		if (!win_n || !win_ms || win_ms > XT_RATEWIN_DURATION_MAX_MS)
			return -1;
		win_j = (win_ms * hz + 999) / 1000;
		if (win_j > (1ULL << 31) * 3 / 2)
			return -1;
		lim->win_n = win_n;
		lim->win_j = win_j;
		lim->slot_j = (lim->win_j + RW_WIN_SLOTS - 2) /
			      (RW_WIN_SLOTS - 1);
		lim->win_kind = win_n <= RW_WIN_EXACT_MAX ? RW_WIN_RING :
							    RW_WIN_SLOTS_KIND;
	}
	if (flags & XT_RATEWIN_F_CONN)
		lim->conn_above = conn_above;
	if (flags & XT_RATEWIN_F_BAN) {
		u64 ban_j;

		if (!ban_ms || ban_ms > XT_RATEWIN_DURATION_MAX_MS)
			return -1;
		ban_j = (ban_ms * hz + 999) / 1000;
		if (ban_j > (1ULL << 31) * 3 / 2)
			return -1;
		lim->ban_j = ban_j;
	}
	/* a ban, or a slotted window: the general way */
	if (!(flags & XT_RATEWIN_F_BAN) &&
	    (!(flags & XT_RATEWIN_F_WINDOW) || lim->win_kind == RW_WIN_RING))
		lim->shape = flags & XT_RATEWIN_F_LIMITS;
	return 0;
}

#endif /* _RATEWIN_ALGO_H */
