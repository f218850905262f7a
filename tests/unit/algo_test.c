// SPDX-License-Identifier: GPL-2.0
/*
 * Unit test of kernel/ratewin_algo.h, the decision logic of xt_ratewin.
 *
 * It compiles the very header the kernel module compiles and checks it
 * against a simple exact reference model: the full list of window event
 * times, and the bucket as an exact rational (tokens * period in jiffies, a
 * big integer). Time is simulated: jiffies are numbers fed to the functions,
 * 64 bits wide in the reference and truncated to the 32 bits the kernel
 * stores, so streams run across the 32-bit wrap of jiffies.
 *
 * Build: gcc -O2 -Wall -Wextra -Werror -I include/uapi -I kernel \
 *            tests/unit/algo_test.c -o /tmp/algo_test
 * Run:   /tmp/algo_test [SEED]     (or RW_SEED=SEED; the seed is printed)
 *
 * Output is TAP; the exit status is non-zero when any test fails.
 *
 * Covered: decisions and exact token values against the reference over
 * randomized streams (rate, window N <= 32, conn-above, count-all, ban, byte
 * mode, HZ 100/250/1000, random refreshes as the GC does them); the slotted
 * window's bounds for N > 32 (never more than N in any DURATION, never more
 * than DURATION/16 late, rw_win_next); ban semantics; overflow edges (1/day
 * with burst 1e6, the ABI's largest values, elapsed times near 2^32, streams
 * across the 32-bit wrap of jiffies); rw_limits_init's range checks;
 * rw_win_migrate between every window form; rw_idle_state; that neither
 * reclaiming an idle entry nor refreshing at any time changes a verdict;
 * and that each shape's own decision leaves an entry byte for byte as
 * rw_decide() does. The streams are decided as the module decides them,
 * by rw_decide_shaped().
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ratewin_algo.h"

typedef __uint128_t u128;
typedef int64_t s64;

#define U(x)		((unsigned long long)(x))
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define FP(x)		((u64)(x) << RW_FP_SHIFT)
#define SEC_MS		1000ULL
#define MIN_MS		60000ULL
#define HOUR_MS		3600000ULL
#define DAY_MS		86400000ULL
#define F_RATE		XT_RATEWIN_F_RATE
#define F_WIN		XT_RATEWIN_F_WINDOW
#define F_CONN		XT_RATEWIN_F_CONN
#define F_BYTES		XT_RATEWIN_F_BYTES
#define F_CALL		XT_RATEWIN_F_COUNT_ALL
#define F_BAN		XT_RATEWIN_F_BAN

static const u32 hz_list[] = { 100, 250, 1000 };
static const u32 period_list[] = { 1000, 60000, 3600000, 86400000 };

static u64 min64(u64 a, u64 b) { return a < b ? a : b; }
static u64 max64(u64 a, u64 b) { return a > b ? a : b; }

/* ---- seeded PRNG (splitmix64) ---------------------------------------- */

struct rng {
	u64 s;
};

static struct rng R;

static u64 rnext(struct rng *g)
{
	u64 z = (g->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static u64 rbelow(struct rng *g, u64 n)
{
	return n ? rnext(g) % n : 0;
}

/* uniform in [lo, hi] */
static u64 rrange(struct rng *g, u64 lo, u64 hi)
{
	return hi - lo == U64_MAX ? rnext(g) : lo + rbelow(g, hi - lo + 1);
}

static int rpct(struct rng *g, u32 pct)
{
	return rbelow(g, 100) < pct;
}

/* log-uniform in [lo, hi]: a random bit length, then uniform inside it */
static u64 rlog(struct rng *g, u64 lo, u64 hi)
{
	int blo = 64 - __builtin_clzll(lo | 1), bhi = 64 - __builtin_clzll(hi);
	int b = blo + (int)rbelow(g, bhi - blo + 1);
	u64 mn = b == 1 ? 0 : 1ULL << (b - 1);
	u64 mx = b == 64 ? U64_MAX : (1ULL << b) - 1;

	return rrange(g, max64(mn, lo), min64(mx, hi));
}

/* ---- TAP and checks -------------------------------------------------- */

static u64 t_fail;
static u32 t_shown;

static void __attribute__((format(printf, 2, 3)))
check_fail(int line, const char *fmt, ...)
{
	va_list ap;

	t_fail++;
	if (t_shown++ >= 10)
		return;
	printf("#   FAIL line %d: ", line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

#define CHECK(cond, ...) \
	do { if (!(cond)) check_fail(__LINE__, __VA_ARGS__); } while (0)

/* A failure class collected during one run and reported by a later test. */
struct cat {
	u64 fails;
	int shown;
	char msg[4][256];
};

static void __attribute__((format(printf, 2, 3)))
note(struct cat *k, const char *fmt, ...)
{
	va_list ap;

	if (k->fails++ >= 4)
		return;
	va_start(ap, fmt);
	vsnprintf(k->msg[k->shown++], sizeof(k->msg[0]), fmt, ap);
	va_end(ap);
}

static void cat_report(const struct cat *k, const char *what)
{
	int i;

	for (i = 0; i < k->shown; i++)
		printf("#   %s\n", k->msg[i]);
	CHECK(!k->fails, "%llu %s", U(k->fails), what);
}

/* ---- configurations -------------------------------------------------- */

struct cfg {
	u32 hz, flags;
	u64 rate_n;
	u32 period_ms;
	u64 burst;
	u32 win_n;
	u64 win_ms;
	u32 conn_above;
	u64 ban_ms;
	/* the reference's own conversions to jiffies */
	u64 p_j, d_j, ban_j;
};

static u64 ms_to_j_up(u64 ms, u32 hz)
{
	return (u64)(((u128)ms * hz + 999) / 1000);
}

static void cfg_derive(struct cfg *c)
{
	c->p_j = (u64)c->period_ms * c->hz / 1000;
	c->d_j = ms_to_j_up(c->win_ms, c->hz);
	c->ban_j = ms_to_j_up(c->ban_ms, c->hz);
}

static const char *cfg_str(const struct cfg *c)
{
	static char buf[320];
	int n = snprintf(buf, sizeof(buf), "HZ=%u", c->hz);

	if (c->flags & F_RATE)
		n += snprintf(buf + n, sizeof(buf) - n,
			      " rate %llu%s/%ums(%llu j) burst %llu",
			      U(c->rate_n), c->flags & F_BYTES ? "B" : "",
			      c->period_ms, U(c->p_j), U(c->burst));
	if (c->flags & F_WIN)
		n += snprintf(buf + n, sizeof(buf) - n,
			      " window %u/%llums(%llu j)", c->win_n,
			      U(c->win_ms), U(c->d_j));
	if (c->flags & F_CONN)
		n += snprintf(buf + n, sizeof(buf) - n, " conn-above %u",
			      c->conn_above);
	if (c->flags & F_CALL)
		n += snprintf(buf + n, sizeof(buf) - n, " count-all");
	if (c->flags & F_BAN)
		snprintf(buf + n, sizeof(buf) - n, " ban %llums(%llu j)",
			 U(c->ban_ms), U(c->ban_j));
	return buf;
}

static int lim_of(const struct cfg *c, struct rw_limits *l)
{
	int ret = rw_limits_init(l, c->flags, c->rate_n, c->period_ms,
				 c->burst, c->win_n, c->win_ms, c->conn_above,
				 c->ban_ms, c->hz);

	CHECK(!ret, "rw_limits_init refused %s", cfg_str(c));
	if (ret)
		return ret;
	if (c->flags & F_RATE) {
		u64 fill = (u64)(((u128)c->burst * c->p_j + c->rate_n - 1) /
				 c->rate_n);

		CHECK(l->period_j == c->p_j && l->rate_n == c->rate_n &&
		      l->burst_fp == FP(c->burst), "bucket limits of %s",
		      cfg_str(c));
		CHECK(l->fill_j == max64(min64(fill, U32_MAX), 1),
		      "fill_j %u, want %llu: %s", l->fill_j, U(fill),
		      cfg_str(c));
	}
	if (c->flags & F_WIN) {
		CHECK(l->win_j == c->d_j && l->win_n == c->win_n &&
		      l->slot_j == (c->d_j + 15) / 16 &&
		      l->win_kind == (c->win_n <= RW_WIN_EXACT_MAX ?
				      RW_WIN_RING : RW_WIN_SLOTS_KIND),
		      "window limits (win_j %u slot_j %u kind %u) of %s",
		      l->win_j, l->slot_j, l->win_kind, cfg_str(c));
	}
	if (c->flags & F_BAN)
		CHECK(l->ban_j == c->ban_j, "ban_j %u of %s", l->ban_j,
		      cfg_str(c));
	if (c->flags & F_CONN)
		CHECK(l->conn_above == c->conn_above, "conn_above");
	return 0;
}

enum {
	W_RATE = 1, W_WIN = 2, W_CONN = 4, W_BYTES = 8, W_SLOTS = 16,
	W_BIGN = 32, W_NOBAN = 64, W_NOCALL = 128, W_SLOWOK = 256,
};

static void rand_cfg(struct cfg *c, u32 want)
{
	memset(c, 0, sizeof(*c));
	c->hz = hz_list[rbelow(&R, 3)];
	if (want & W_RATE) {
		c->flags |= F_RATE;
		if (want & W_BYTES) {
			c->flags |= F_BYTES;
			c->period_ms = 1000;
			c->rate_n = rpct(&R, 70) ? rlog(&R, 100, 1 << 24) :
				    rlog(&R, 1, XT_RATEWIN_BYTES_RATE_MAX);
			c->burst = rpct(&R, 70) ? rlog(&R, 1, 1 << 20) :
				   rlog(&R, 1, XT_RATEWIN_BURST_MAX);
		} else {
			c->period_ms = period_list[rbelow(&R, 4)];
			c->rate_n = rpct(&R, 80) ? rlog(&R, 1, 1000) :
				    rlog(&R, 1, XT_RATEWIN_RATE_MAX);
			c->burst = rpct(&R, 80) ? rlog(&R, 1, 1000) :
				   rlog(&R, 1, XT_RATEWIN_BURST_MAX);
		}
	}
	if (want & W_WIN) {
		c->flags |= F_WIN;
		if (want & W_SLOTS)
			c->win_n = rlog(&R, RW_WIN_EXACT_MAX + 1,
					want & W_BIGN ? 1000000 : 2000);
		else
			c->win_n = rrange(&R, 1, RW_WIN_EXACT_MAX);
		c->win_ms = rpct(&R, 70) ? rlog(&R, 1, HOUR_MS) :
			    rlog(&R, 1, XT_RATEWIN_DURATION_MAX_MS);
	}
	if (want & W_CONN) {
		c->flags |= F_CONN;
		c->conn_above = rpct(&R, 85) ? rbelow(&R, 8) :
				rlog(&R, 1, XT_RATEWIN_CONN_MAX);
	}
	if (!(want & W_NOCALL) && rpct(&R, 40))
		c->flags |= F_CALL;
	if (!(want & W_NOBAN) && rpct(&R, 40)) {
		c->flags |= F_BAN;
		c->ban_ms = rpct(&R, 70) ? rlog(&R, 1, 10 * MIN_MS) :
			    rlog(&R, 1, XT_RATEWIN_DURATION_MAX_MS);
	}
	cfg_derive(c);
	/* keep the time to fill the bucket simulable where asked */
	if ((want & W_SLOWOK) == 0 && (c->flags & F_RATE) &&
	    (u128)c->burst * c->p_j / c->rate_n > (1ULL << 40))
		rand_cfg(c, want);
}

/* A start time: anywhere, and often just before a 32-bit wrap. */
static u64 rand_base(void)
{
	switch (rbelow(&R, 4)) {
	case 0:
		return rbelow(&R, 1 << 20);
	case 1:
		return rbelow(&R, 1ULL << 32);
	case 2:
		return (1ULL << 32) - rlog(&R, 1, 1ULL << 31);
	default:
		return (rrange(&R, 2, 5) << 32) - rlog(&R, 1, 1ULL << 33);
	}
}

/* ---- the entry under test -------------------------------------------- */

#define WINBUF 24

struct ent {
	struct rw_state st;
	u8 sf;
	u64 win[WINBUF];
};

_Static_assert(sizeof(struct rw_ring) + RW_WIN_EXACT_MAX * sizeof(u32) <=
	       sizeof(((struct ent *)0)->win), "ring fits");
_Static_assert(sizeof(struct rw_slots) <= sizeof(((struct ent *)0)->win),
	       "slots fit");

static void *winp(struct ent *e, const struct rw_limits *l)
{
	return l->win_kind != RW_WIN_NONE ? e->win : NULL;
}

/* A new entry, as the module creates it: full bucket, empty window. */
static void ent_init(struct ent *e, const struct rw_limits *l, u64 now)
{
	memset(e, 0, sizeof(*e));
	e->st.tokens = l->burst_fp;
	e->st.last = (u32)now;
	if (l->win_kind != RW_WIN_NONE)
		rw_win_init(e->win, l, (u32)now);
}

/* The decision as the module makes it: by shape (rw_decide_shaped()). */
static bool ent_decide(struct ent *e, const struct rw_limits *l, u64 now,
		       u32 len, u32 conns)
{
	return rw_decide_shaped(&e->st, &e->sf, winp(e, l), l, (u32)now, len,
				conns);
}

static void ent_refresh(struct ent *e, const struct rw_limits *l, u64 now)
{
	rw_refresh(&e->st, &e->sf, winp(e, l), l, (u32)now);
}

static bool ent_idle(struct ent *e, const struct rw_limits *l)
{
	return rw_idle_state(&e->st, e->sf, winp(e, l), l);
}

static u32 ring_at(const struct rw_ring *r, const struct rw_limits *l, u32 i)
{
	u32 j = r->head + i;

	return r->ts[j >= l->win_n ? j - l->win_n : j];
}

static bool slots_consistent(const void *win)
{
	const struct rw_slots *s = win;
	u64 sum = 0;
	int i;

	for (i = 0; i < RW_WIN_SLOTS; i++)
		sum += s->cnt[i];
	return sum == s->total && s->head < RW_WIN_SLOTS;
}

/* ---- the exact reference model --------------------------------------- */

struct ref {
	u128 a;		/* tokens * p_j, exactly */
	u64 last;
	u64 *rec;	/* times of the events recorded in the window */
	u64 n, cap, lo;	/* rec[lo..n) are inside the window at the last call */
	bool banned;
	u64 ban_start;
};

static void ref_reset(struct ref *r, const struct cfg *c, u64 now)
{
	r->a = (u128)c->burst * c->p_j;
	r->last = now;
	r->n = r->lo = 0;
	r->banned = false;
	r->ban_start = 0;
}

static void ref_push(struct ref *r, u64 t)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 1024;
		r->rec = realloc(r->rec, r->cap * sizeof(*r->rec));
		if (!r->rec)
			abort();
	}
	r->rec[r->n++] = t;
}

static void ref_refill(struct ref *r, const struct cfg *c, u64 now)
{
	if (c->flags & F_RATE) {
		u128 cap = (u128)c->burst * c->p_j;

		r->a += (u128)(now - r->last) * c->rate_n;
		if (r->a > cap)
			r->a = cap;
	}
	r->last = now;
}

/* events recorded in (now - D, now] */
static u64 ref_count(struct ref *r, const struct cfg *c, u64 now)
{
	while (r->lo < r->n && r->rec[r->lo] + c->d_j <= now)
		r->lo++;
	return r->n - r->lo;
}

static bool ref_ban_on(const struct ref *r, const struct cfg *c, u64 now)
{
	return r->banned && now - r->ban_start < c->ban_j;
}

static void ref_touch(struct ref *r, const struct cfg *c, u64 now)
{
	ref_refill(r, c, now);
	if (c->flags & F_WIN)
		ref_count(r, c, now);
	if (!ref_ban_on(r, c, now))
		r->banned = false;
}

/* fixed-point tokens the exact value truncates to */
static u64 ref_tokens_fp(const struct ref *r, const struct cfg *c)
{
	return (u64)((r->a << RW_FP_SHIFT) / c->p_j);
}

/*
 * SPEC section 4, written the plain way. Returns the reference's decision;
 * applies force (0 or 1) instead when force >= 0. *have and *need are the
 * bucket's exact content and the cost, in 1/p_j tokens.
 */
static bool ref_decide(struct ref *r, const struct cfg *c, u64 now, u32 len,
		       u32 conns, int force, u128 *have, u128 *need)
{
	u64 cost = c->flags & F_BYTES ? len : 1;
	bool banned, ok;

	ref_touch(r, c, now);
	banned = r->banned;
	ok = !banned;
	*have = r->a;
	*need = (u128)cost * c->p_j;
	if (ok && (c->flags & F_RATE) && r->a < *need)
		ok = false;
	if (ok && (c->flags & F_WIN) && ref_count(r, c, now) >= c->win_n)
		ok = false;
	if (ok && (c->flags & F_CONN) && conns > c->conn_above)
		ok = false;
	if (force < 0 ? ok : force) {
		if (c->flags & F_RATE)
			r->a -= *need;
		if (c->flags & F_WIN)
			ref_push(r, now);
	} else {
		if ((c->flags & F_WIN) && (c->flags & F_CALL))
			ref_push(r, now);
		if ((c->flags & F_BAN) && (!banned || (c->flags & F_CALL))) {
			r->banned = true;
			r->ban_start = now;
		}
	}
	return ok;
}

/* ---- randomized simulation against the reference ---------------------- */

struct dstats {
	u64 streams, events, admitted, refreshes, mism, eps, tok_bad;
	u64 wrapped;
};

static struct dstats DS;

/*
 * Longest time between two touches of an entry (a decision or a refresh)
 * for which every stored age stays below 2^32 jiffies: the module's GC
 * refreshes entries far more often than that.
 */
static u64 touch_max(const struct rw_limits *l)
{
	u64 d = 0;

	if (l->win_kind != RW_WIN_NONE)
		d = (u64)l->win_j + l->slot_j;
	if ((l->flags & F_BAN) && l->ban_j > d)
		d = l->ban_j;
	return U32_MAX - d;
}

struct sim {
	struct cfg c;
	struct rw_limits l;
	struct ent e;
	struct ent *shadow;	/* optional second entry fed the same events */
	struct ref r;
	struct rng g;		/* the stream */
	struct rng gx;		/* extra refreshes, outside the stream */
	u32 xpct;
	bool exact;		/* the window is exact: compare decisions */
	bool dead;		/* diverged: stop */
	u64 base, now, touched, gmax, lenmax;
	u64 ch[3], lg[4];
	int nch, nlg;
};

static void sim_compare(struct sim *s, u64 now, const char *where)
{
	const struct cfg *c = &s->c;
	struct ent *e = &s->e;

	if (c->flags & F_RATE) {
		u64 want = ref_tokens_fp(&s->r, c);

		if (e->st.tokens != want) {
			DS.tok_bad++;
			CHECK(0, "%s t=%llu: tokens %#llx, exact %#llx (%s)",
			      where, U(now), U(e->st.tokens), U(want),
			      cfg_str(c));
		}
	}
	CHECK(!!(e->sf & RW_S_BANNED) == s->r.banned &&
	      (!s->r.banned || e->st.ban_start == (u32)s->r.ban_start),
	      "%s t=%llu: ban flag %d start %u, reference %d %llu (%s)", where,
	      U(now), e->sf & RW_S_BANNED, e->st.ban_start, s->r.banned,
	      U(s->r.ban_start), cfg_str(c));
	if (s->l.win_kind == RW_WIN_RING) {
		u64 n = ref_count(&s->r, c, now);
		u64 next = n >= c->win_n ?
			   s->r.rec[s->r.n - c->win_n] + c->d_j - now : 0;
		u32 got = rw_win_next(e->win, &s->l, (u32)now);

		CHECK(rw_win_count(e->win, &s->l) == min64(n, c->win_n),
		      "%s t=%llu: window count %u, exact %llu (%s)", where,
		      U(now), rw_win_count(e->win, &s->l), U(n), cfg_str(c));
		CHECK(got == next, "%s t=%llu: rw_win_next %u, exact %llu (%s)",
		      where, U(now), got, U(next), cfg_str(c));
	} else if (s->l.win_kind == RW_WIN_SLOTS_KIND) {
		CHECK(slots_consistent(e->win), "slot counts != total");
	}
}

static void sim_gc(struct sim *s, u64 t)
{
	ent_refresh(&s->e, &s->l, t);
	if (s->shadow)
		ent_refresh(s->shadow, &s->l, t);
	ref_touch(&s->r, &s->c, t);
	DS.refreshes++;
	sim_compare(s, t, "refresh");
	s->touched = t;
}

static int sim_init(struct sim *s, const struct cfg *c, u64 base, u64 seed,
		    u32 xpct, u64 xseed)
{
	u128 fill;

	memset(s, 0, sizeof(*s));
	s->c = *c;
	if (lim_of(c, &s->l))
		return -1;
	s->g.s = seed;
	s->gx.s = xseed;
	s->xpct = xpct;
	s->exact = s->l.win_kind != RW_WIN_SLOTS_KIND;
	s->now = s->touched = s->base = base;
	s->gmax = touch_max(&s->l);
	if (c->flags & F_RATE) {
		fill = (u128)c->burst * c->p_j / c->rate_n;
		s->ch[s->nch++] = c->p_j / c->rate_n;
		s->lg[s->nlg++] = fill > (1ULL << 36) ? 1ULL << 36 : (u64)fill;
		s->lenmax = min64(c->burst * 2, U32_MAX);
	}
	if (c->flags & F_WIN) {
		s->ch[s->nch++] = c->d_j / c->win_n;
		s->lg[s->nlg++] = c->d_j;
	}
	if (c->flags & F_BAN)
		s->lg[s->nlg++] = c->ban_j;
	if (!s->nch)
		s->ch[s->nch++] = 10;
	if (!s->nlg)
		s->lg[s->nlg++] = 1000;
	if (!s->lenmax)
		s->lenmax = 1500;
	ent_init(&s->e, &s->l, base);
	ref_reset(&s->r, c, base);
	DS.streams++;
	return 0;
}

static void sim_free(struct sim *s)
{
	if ((s->now >> 32) != (s->base >> 32))
		DS.wrapped++;
	free(s->r.rec);
	s->r.rec = NULL;
}

/* Random inter-arrival times: bursts, the scale of the limits, long gaps. */
static u64 sim_gap(struct sim *s)
{
	struct rng *g = &s->g;
	u64 r = rbelow(g, 1000);

	if (r < 250)
		return 0;
	if (r < 400)
		return 1;
	if (r < 850)
		return rbelow(g, 2 * s->ch[rbelow(g, s->nch)] + 2);
	if (r < 985)
		return rbelow(g, s->lg[rbelow(g, s->nlg)] + 2);
	if (r < 995)
		return rbelow(g, 1ULL << 32);
	return rbelow(g, 64ULL << 32);
}

/* Advance to the next event time, refreshing as the GC would. */
static u64 sim_advance(struct sim *s, u64 gap)
{
	u64 next = s->now + gap;

	/* not from the stream's generator: refreshes must not shift it */
	while (next - s->touched > s->gmax)
		sim_gc(s, s->touched + s->gmax - rbelow(&s->gx, s->gmax / 2));
	if (s->xpct && next - s->touched > 1 && rpct(&s->gx, s->xpct))
		sim_gc(s, s->touched + 1 +
			  rbelow(&s->gx, next - s->touched - 1));
	s->now = s->touched = next;
	return next;
}

/* One packet at s->now. Returns the decision, or -1 once diverged. */
static int sim_event(struct sim *s, u32 len, u32 conns)
{
	const struct cfg *c = &s->c;
	u128 have, need;
	bool a, b;

	if (s->dead)
		return -1;
	a = ent_decide(&s->e, &s->l, s->now, len, conns);
	if (s->shadow) {
		bool sh = ent_decide(s->shadow, &s->l, s->now, len, conns);

		CHECK(sh == a, "t=%llu: a fresh entry decides %d, the kept "
		      "idle one %d (%s)", U(s->now), sh, a, cfg_str(c));
	}
	b = ref_decide(&s->r, c, s->now, len, conns, s->exact ? -1 : a,
		       &have, &need);
	DS.events++;
	DS.admitted += a;
	if (s->exact && a != b) {
		DS.mism++;
		if (!a && b && (c->flags & F_RATE) &&
		    s->e.st.tokens < rw_cost(&s->l, len) &&
		    (have - need) * 1000000 < c->p_j)
			DS.eps++;	/* within 1e-6 token: tolerated */
		else
			CHECK(0, "t=%llu: decision %d, reference %d "
			      "(len %u conns %u tokens %#llx) (%s)",
			      U(s->now), a, b, len, conns, U(s->e.st.tokens),
			      cfg_str(c));
		s->dead = true;
		return -1;
	}
	sim_compare(s, s->now, "decide");
	return a;
}

static u32 sim_len(struct sim *s)
{
	u64 r = rbelow(&s->g, 100);

	if (r < 60)
		return rrange(&s->g, 40, 1500);
	if (r < 97)
		return rlog(&s->g, 1, s->lenmax);
	return rbelow(&s->g, 2);
}

static u32 sim_conns(struct sim *s)
{
	u32 above = s->c.conn_above;

	if (!(s->c.flags & F_CONN))
		return rbelow(&s->g, 3);
	if (above && rpct(&s->g, 50))
		return above - 1 + rbelow(&s->g, 3);
	return rbelow(&s->g, min64(above, 64) + 3);
}

static int sim_step(struct sim *s)
{
	u32 len, conns;

	sim_advance(s, sim_gap(s));
	len = sim_len(s);
	conns = sim_conns(s);
	return sim_event(s, len, conns);
}

static void drive(const struct cfg *c, u64 base, u64 nev, u64 seed)
{
	struct sim s;
	u64 i;

	if (sim_init(&s, c, base, seed, 3, seed ^ 0x5a5a))
		return;
	for (i = 0; i < nev && sim_step(&s) >= 0; i++)
		;
	sim_free(&s);
}

static void ds_print(const char *what)
{
	printf("#   %s: %llu streams, %llu events (%llu admitted), %llu "
	       "refreshes, %llu crossing 2^32; mismatches %llu, of them "
	       "within 1e-6 token %llu; inexact tokens %llu\n", what,
	       U(DS.streams), U(DS.events), U(DS.admitted), U(DS.refreshes),
	       U(DS.wrapped), U(DS.mism), U(DS.eps), U(DS.tok_bad));
}

static void run_random(u32 want_a, u32 want_b, u64 events, const char *what)
{
	memset(&DS, 0, sizeof(DS));
	while (DS.events < events) {
		struct cfg c;

		rand_cfg(&c, rpct(&R, 50) ? want_a : want_b);
		drive(&c, rand_base(), rrange(&R, 500, 5000), rnext(&R));
	}
	ds_print(what);
}

/* ---- tests ----------------------------------------------------------- */

static void t_sizes(void)
{
	printf("#   sizeof(struct rw_state) = %zu\n", sizeof(struct rw_state));
	printf("#   rw_win_size: N=5 %u, N=8 %u, N=32 %u, slotted %u\n",
	       rw_win_size(RW_WIN_RING, 5), rw_win_size(RW_WIN_RING, 8),
	       rw_win_size(RW_WIN_RING, 32),
	       rw_win_size(RW_WIN_SLOTS_KIND, 1000000));
	printf("#   sizeof(struct rw_limits) = %zu\n", sizeof(struct rw_limits));
	CHECK(rw_win_size(RW_WIN_RING, 8) == sizeof(struct rw_ring) + 32,
	      "ring size");
	CHECK(rw_win_size(RW_WIN_NONE, 5) == 0, "no window, no size");
}

static void t_limits_max(void)
{
	struct rw_limits l;
	u32 i;

	for (i = 0; i < 3; i++) {
		u32 hz = hz_list[i];
		struct cfg c = { .hz = hz };

		/* packets: 1e9 per second and per day, burst 2^31 */
		c.flags = F_RATE;
		c.rate_n = XT_RATEWIN_RATE_MAX;
		c.period_ms = 1000;
		c.burst = XT_RATEWIN_BURST_MAX;
		cfg_derive(&c);
		lim_of(&c, &l);
		c.period_ms = XT_RATEWIN_PERIOD_MAX_MS;
		cfg_derive(&c);
		lim_of(&c, &l);
		/* 1/day, burst 2^31: fill time saturates */
		c.rate_n = 1;
		cfg_derive(&c);
		lim_of(&c, &l);
		CHECK(l.fill_j == U32_MAX, "saturated fill_j %u", l.fill_j);
		/* bytes: 2^32 per second */
		c.flags = F_RATE | F_BYTES;
		c.rate_n = XT_RATEWIN_BYTES_RATE_MAX;
		c.period_ms = 1000;
		cfg_derive(&c);
		lim_of(&c, &l);
		CHECK(l.fill_j == (hz + 1) / 2, "fill_j %u at HZ %u", l.fill_j,
		      hz);
		/* the largest window, ban and connection count */
		c.flags = F_WIN | F_BAN | F_CONN | F_CALL;
		c.win_n = XT_RATEWIN_WINDOW_N_MAX;
		c.win_ms = XT_RATEWIN_DURATION_MAX_MS;
		c.ban_ms = XT_RATEWIN_DURATION_MAX_MS;
		c.conn_above = XT_RATEWIN_CONN_MAX;
		cfg_derive(&c);
		lim_of(&c, &l);
		c.win_n = RW_WIN_EXACT_MAX;
		cfg_derive(&c);
		lim_of(&c, &l);
		/* the smallest */
		c.win_n = 1;
		c.win_ms = 1;
		c.ban_ms = 1;
		cfg_derive(&c);
		lim_of(&c, &l);
		CHECK(l.win_j == 1 && l.slot_j == 1 && l.ban_j == 1,
		      "1 ms is one jiffy");
	}
}

static int init_with(u32 flags, u64 rate, u32 period, u64 burst, u32 wn,
		     u64 wms, u64 ban, u32 hz)
{
	struct rw_limits l;

	return rw_limits_init(&l, flags, rate, period, burst, wn, wms, 0,
			      ban, hz);
}

static void t_limits_reject(void)
{
	static const struct {
		const char *what;
		u32 flags;
		u64 rate;
		u32 period;
		u64 burst;
		u32 wn;
		u64 wms, ban;
	} bad[] = {
		{ "rate 0", F_RATE, 0, 1000, 5, 0, 0, 0 },
		{ "burst 0", F_RATE, 10, 1000, 0, 0, 0, 0 },
		{ "burst 2^31+1", F_RATE, 10, 1000, (1ULL << 31) + 1, 0, 0, 0 },
		{ "burst 2^63", F_RATE, 10, 1000, 1ULL << 63, 0, 0, 0 },
		{ "rate 2^32+1", F_RATE, (1ULL << 32) + 1, 1000, 5, 0, 0, 0 },
		{ "rate 2^64-1", F_RATE, U64_MAX, 1000, 5, 0, 0, 0 },
		{ "period 0", F_RATE, 10, 0, 5, 0, 0, 0 },
		{ "window N 0", F_WIN, 0, 0, 0, 0, 1000, 0 },
		{ "window 0 ms", F_WIN, 0, 0, 0, 5, 0, 0 },
		{ "window 2^62 ms", F_WIN, 0, 0, 0, 5, 1ULL << 62, 0 },
		{ "window 2^64-1 ms", F_WIN, 0, 0, 0, 5, U64_MAX, 0 },
		{ "window 2^60 ms", F_WIN, 0, 0, 0, 5, 1ULL << 60, 0 },
		{ "window 40 days", F_WIN, 0, 0, 0, 5, 40 * DAY_MS, 0 },
		{ "ban 0 ms", F_BAN | F_RATE, 10, 1000, 5, 0, 0, 0 },
		{ "ban 2^62 ms", F_BAN | F_RATE, 10, 1000, 5, 0, 0, 1ULL << 62 },
		{ "ban 2^64-1 ms", F_BAN | F_RATE, 10, 1000, 5, 0, 0, U64_MAX },
		{ "ban 40 days", F_BAN | F_RATE, 10, 1000, 5, 0, 0,
		  40 * DAY_MS },
	};
	u32 i, h;

	for (h = 0; h < 3; h++)
		for (i = 0; i < ARRAY_SIZE(bad); i++)
			CHECK(init_with(bad[i].flags, bad[i].rate,
					bad[i].period, bad[i].burst, bad[i].wn,
					bad[i].wms, bad[i].ban, hz_list[h]),
			      "accepted %s at HZ=%u", bad[i].what, hz_list[h]);
	/* a timer frequency of 0 cannot make jiffies of anything */
	CHECK(init_with(F_WIN, 0, 0, 0, 5, 1000, 0, 0), "accepted HZ 0");
	CHECK(init_with(F_RATE, 1, 1000, 5, 0, 0, 0, 0), "accepted HZ 0");
	/* and a few random wild values: accepted ones must be sane */
	for (i = 0; i < 200000; i++) {
		struct rw_limits l;
		u64 wms = rnext(&R) >> rbelow(&R, 64);
		u64 ban = rnext(&R) >> rbelow(&R, 64);
		u32 hz = hz_list[rbelow(&R, 3)];

		if (!rw_limits_init(&l, F_WIN | F_BAN, 0, 0, 0,
				    rrange(&R, 1, 100), wms, 0, ban, hz)) {
			CHECK(wms <= XT_RATEWIN_DURATION_MAX_MS &&
			      ban <= XT_RATEWIN_DURATION_MAX_MS &&
			      l.win_j == ms_to_j_up(wms, hz) &&
			      l.ban_j == ms_to_j_up(ban, hz) && l.slot_j &&
			      l.win_j <= (1ULL << 31) * 3 / 2 &&
			      l.ban_j <= (1ULL << 31) * 3 / 2,
			      "accepted window %llu ms ban %llu ms at HZ %u as "
			      "%u/%u jiffies", U(wms), U(ban), hz, l.win_j,
			      l.ban_j);
		}
	}
}

static void t_rand_rate(void)
{
	run_random(W_RATE, W_RATE | W_NOBAN, 400000, "rate only");
}

static void t_rand_window(void)
{
	run_random(W_WIN, W_WIN | W_NOBAN, 400000, "window only, N <= 32");
}

static void t_rand_all(void)
{
	run_random(W_RATE | W_WIN | W_CONN,
		   rpct(&R, 50) ? W_RATE | W_WIN : W_CONN | W_WIN,
		   400000, "rate, window, conn");
	run_random(W_CONN, W_CONN | W_RATE, 100000, "conn-above");
}

static void t_rand_bytes(void)
{
	run_random(W_RATE | W_BYTES, W_RATE | W_BYTES | W_WIN | W_CONN,
		   400000, "byte mode");
}

/* Refilling in many steps gives exactly what one step gives. */
static void t_refill_split(void)
{
	u32 iter;

	for (iter = 0; iter < 20000; iter++) {
		struct cfg c;
		struct rw_limits l;
		struct ent a, b;
		u64 t0 = rand_base(), t, end, span;
		u32 k, drain;

		rand_cfg(&c, W_RATE | (rpct(&R, 30) ? W_BYTES : 0) | W_NOBAN |
			     W_NOCALL);
		if (lim_of(&c, &l))
			return;
		ent_init(&a, &l, t0);
		/* take a random amount out */
		drain = rrange(&R, 1, 20);
		for (k = 0; k < drain; k++)
			ent_decide(&a, &l, t0, rlog(&R, 1, c.burst), 0);
		b = a;
		span = rlog(&R, 1, min64((u64)l.fill_j + 1, U32_MAX));
		end = t0 + span;
		t = t0;
		while (t < end) {
			t += rrange(&R, 1, min64(end - t, 1 + span / 8));
			ent_refresh(&a, &l, t);
		}
		ent_refresh(&b, &l, end);
		CHECK(a.st.tokens == b.st.tokens,
		      "tokens after steps %#llx, after one refill %#llx "
		      "(span %llu, %s)", U(a.st.tokens), U(b.st.tokens),
		      U(span), cfg_str(&c));
	}
}

/* ---- large windows (slots) ------------------------------------------- */

static struct {
	bool ran;
	u64 cfgs, events, admitted, refusals, late, next_checks;
	u64 worst_late, worst_tol, worst_d;
	struct cat over, latec, next;
} SR;

static void slots_next_check(struct ent *e, const struct rw_limits *l,
			     const struct cfg *c, u64 now, const u64 *rec,
			     u64 nrec)
{
	u64 d = c->d_j, n = c->win_n;
	s64 raw = nrec >= n ? (s64)(rec[nrec - n] + d - now) : 0;
	u32 ret = rw_win_next(e->win, l, (u32)now);
	struct ent x;

	SR.next_checks++;
	if (!ret) {
		note(&SR.next, "t=%llu: refused, yet rw_win_next is 0 (%s)",
		     U(now), cfg_str(c));
		return;
	}
	x = *e;
	ent_refresh(&x, l, now + ret);
	if (rw_win_count(x.win, l) >= n)
		note(&SR.next, "t=%llu: does not admit after rw_win_next %u "
		     "(%s)", U(now), ret, cfg_str(c));
	x = *e;
	ent_refresh(&x, l, now + ret - 1);
	if (rw_win_count(x.win, l) < n)
		note(&SR.next, "t=%llu: admits one jiffy before rw_win_next "
		     "%u (%s)", U(now), ret, cfg_str(c));
	if ((s64)ret < raw)
		note(&SR.next, "t=%llu: rw_win_next %u before the exact %lld "
		     "(%s)", U(now), ret, (long long)raw, cfg_str(c));
	if (16 * ((s64)ret - raw) > (s64)d)
		note(&SR.next, "t=%llu: rw_win_next %u, exact %lld, more than "
		     "DURATION/16 later (%s)", U(now), ret, (long long)raw,
		     cfg_str(c));
}

/*
 * A stream around the window's capacity: load phases from a quarter to ten
 * times N per DURATION, bursts, idle gaps and very long gaps.
 */
static void slots_stream(const struct cfg *c, u64 base, u64 nev, u64 seed)
{
	static const u32 loads[] = { 4, 12, 15, 16, 17, 20, 32, 160 };
	struct rng g = { seed };
	struct rw_limits l;
	struct ent e;
	u64 d = c->d_j, n = c->win_n, tol = (d + 15) / 16;
	u64 *rec, *adm, nrec = 0, nadm = 0, lo = 0, i = 0, k;
	u64 now = base, touched = base, gmax, phase = 0, nref = 0;
	bool ca = c->flags & F_CALL;
	u32 f16 = 16;

	if (lim_of(c, &l))
		return;
	gmax = touch_max(&l);
	rec = malloc(nev * sizeof(*rec));
	adm = malloc(nev * sizeof(*adm));
	if (!rec || !adm)
		abort();
	ent_init(&e, &l, now);
	SR.cfgs++;
	while (i < nev) {
		u64 gap, batch, next;

		if (!phase) {
			f16 = loads[rbelow(&g, 8)];
			phase = rrange(&g, n / 2 + 1, 3 * n + 10);
		}
		if ((u128)f16 * n >= (u128)16 * d) {
			gap = 1 + (rpct(&g, 10) ? rbelow(&g, 4) : 0);
			batch = (u64)((u128)f16 * n * gap / (16 * d));
			batch = batch * rrange(&g, 8, 24) / 16 + 1;
		} else {
			u64 mean = (u64)((u128)16 * d / ((u128)f16 * n));

			gap = rbelow(&g, 2 * mean + 1);
			batch = rpct(&g, 2) ? rrange(&g, 1, n / 4 + 1) : 1;
		}
		if (rpct(&g, 1))
			gap += rbelow(&g, 2 * d + 2);
		if (!rbelow(&g, 3000))
			gap += rbelow(&g, 16ULL << 32);
		next = now + gap;
		while (next - touched > gmax) {
			touched += gmax - rbelow(&g, gmax / 2);
			ent_refresh(&e, &l, touched);
		}
		if (gap > 1 && rpct(&g, 5)) {
			touched += 1 + rbelow(&g, next - touched - 1);
			ent_refresh(&e, &l, touched);
		}
		now = touched = next;
		batch = min64(batch, nev - i);
		phase = batch >= phase ? 0 : phase - batch;
		for (k = 0; k < batch; k++, i++) {
			bool a = ent_decide(&e, &l, now, 0, 0);
			u64 cnt;

			while (lo < nrec && rec[lo] + d <= now)
				lo++;
			cnt = nrec - lo;
			if (a) {
				if (cnt >= n)
					note(&SR.over, "t=%llu: admitted with %llu "
					     "events in the last DURATION (%s)",
					     U(now), U(cnt), cfg_str(c));
				adm[nadm++] = now;
			} else {
				SR.refusals++;
				if (cnt < n && nrec < n) {
					note(&SR.latec, "t=%llu: refused with "
					     "%llu events ever (%s)", U(now),
					     U(nrec), cfg_str(c));
				} else if (cnt < n) {
					/* the exact window admits since eN + D */
					u64 late = now - (rec[nrec - n] + d);

					SR.late++;
					/* SPEC 4: no later than DURATION/16 */
					if (16 * late > d)
						note(&SR.latec, "t=%llu: refused "
						     "%llu jiffies after the exact "
						     "window admits, DURATION/16 "
						     "is %llu/16 (%s)", U(now),
						     U(late), U(d), cfg_str(c));
					if (!SR.worst_tol ||
					    (u128)late * SR.worst_tol >
					    (u128)SR.worst_late * tol) {
						SR.worst_late = late;
						SR.worst_tol = tol;
						SR.worst_d = d;
					}
				}
			}
			if (a || ca)
				rec[nrec++] = now;
			/* the first refusals of each stream, then a sample */
			if (!a && (nref++ < 200 || rbelow(&g, 1000) < 3))
				slots_next_check(&e, &l, c, now, rec, nrec);
		}
		if (!rbelow(&g, 64) && !slots_consistent(e.win))
			note(&SR.over, "slot counts do not add up to total");
	}
	/* any N+1 consecutive admissions span at least DURATION */
	for (k = n; k < nadm; k++) {
		if (adm[k] - adm[k - n] < d) {
			note(&SR.over, "%llu admitted in (%llu, %llu], fewer "
			     "than DURATION apart (%s)", U(n + 1),
			     U(adm[k - n]), U(adm[k]), cfg_str(c));
			break;
		}
	}
	SR.events += nev;
	SR.admitted += nadm;
	free(rec);
	free(adm);
}

static void run_slots(void)
{
	static const struct {
		u32 hz, n;
		u64 ms;
	} fixed[] = {
		{ 1000, 33, 1000 }, { 100, 1000000, 1 }, { 1000, 1000000, 60000 },
		{ 250, 100, 68 }, { 1000, 40, 17 }, { 100, 5000, 30 * DAY_MS },
		{ 1000, 50, 31 }, { 1000, 200, 30 * DAY_MS },
	};
	const u64 budget = 9000000;
	u32 i;

	if (SR.ran)
		return;
	SR.ran = true;
	for (i = 0; SR.events < budget; i++) {
		struct cfg c;
		u64 nev;

		rand_cfg(&c, W_WIN | W_SLOTS | W_BIGN | W_NOBAN);
		if (i < ARRAY_SIZE(fixed)) {
			c.hz = fixed[i].hz;
			c.win_n = fixed[i].n;
			c.win_ms = fixed[i].ms;
			cfg_derive(&c);
		}
		nev = min64(max64((u64)c.win_n * rrange(&R, 3, 6), 20000),
			    i < ARRAY_SIZE(fixed) ? 2500000 :
			    200000);
		slots_stream(&c, rand_base(), nev, rnext(&R));
	}
	printf("#   slotted: %llu configs, %llu events, %llu admitted, %llu "
	       "refused, %llu of them while the exact window would admit\n",
	       U(SR.cfgs), U(SR.events), U(SR.admitted), U(SR.refusals),
	       U(SR.late));
	if (SR.worst_tol)
		printf("#   worst lateness %llu jiffies with DURATION %llu j "
		       "(DURATION/16: %.2f j)\n", U(SR.worst_late),
		       U(SR.worst_d), SR.worst_d / 16.0);
}

static void t_slots_bound(void)
{
	run_slots();
	cat_report(&SR.over, "admissions beyond N per DURATION");
}

static void t_slots_late(void)
{
	run_slots();
	cat_report(&SR.latec, "refusals later than DURATION/16");
}

static void t_slots_next(void)
{
	run_slots();
	printf("#   %llu rw_win_next checks\n", U(SR.next_checks));
	cat_report(&SR.next, "rw_win_next errors");
	CHECK(SR.next_checks > 1000, "too few rw_win_next checks");
}

/* rw_win_next on the exact ring: the returned wait admits, one less not. */
static void t_ring_next(void)
{
	u64 checks = 0, streams;

	memset(&DS, 0, sizeof(DS));
	for (streams = 0; checks < 30000 && streams < 3000; streams++) {
		struct cfg c;
		struct sim s;
		u32 i;

		rand_cfg(&c, W_WIN | W_NOBAN);
		if (sim_init(&s, &c, rand_base(), rnext(&R), 0, 0))
			return;
		for (i = 0; i < 2000; i++) {
			struct ent x;
			u32 ret;
			int a = sim_step(&s);

			if (a < 0)
				break;
			if (a)
				continue;
			ret = rw_win_next(s.e.win, &s.l, (u32)s.now);
			CHECK(ret >= 1 && ret <= c.d_j, "rw_win_next %u after "
			      "a refusal (%s)", ret, cfg_str(&c));
			if (!ret)
				continue;
			checks++;
			x = s.e;
			CHECK(ent_decide(&x, &s.l, s.now + ret, 0, 0),
			      "t=%llu: no admission after rw_win_next %u (%s)",
			      U(s.now), ret, cfg_str(&c));
			x = s.e;
			CHECK(!ent_decide(&x, &s.l, s.now + ret - 1, 0, 0),
			      "t=%llu: admission before rw_win_next %u (%s)",
			      U(s.now), ret, cfg_str(&c));
		}
		sim_free(&s);
	}
	printf("#   %llu refusals checked\n", U(checks));
	CHECK(checks >= 30000, "too few refusals");
}

/* ---- ban ------------------------------------------------------------- */

static void t_ban_plain(void)
{
	u32 h;

	for (h = 0; h < 3; h++) {
		u32 hz = hz_list[h];
		struct cfg c = {
			.hz = hz, .flags = F_RATE | F_WIN | F_BAN,
			.rate_n = 1, .period_ms = 1000, .burst = 1,
			.win_n = 3, .win_ms = 60000, .ban_ms = 10000,
		};
		struct rw_limits l;
		struct ent e;
		u64 t0 = (1ULL << 32) - hz * 5, t, ban = 10 * hz;

		cfg_derive(&c);
		if (lim_of(&c, &l))
			return;
		ent_init(&e, &l, t0);
		CHECK(ent_decide(&e, &l, t0, 0, 0), "first packet admitted");
		CHECK(!ent_decide(&e, &l, t0 + 1, 0, 0), "bucket empty: over");
		CHECK((e.sf & RW_S_BANNED) && e.st.ban_start == (u32)(t0 + 1),
		      "the over event starts the ban");
		/* the bucket refills after 1 s, the window has room: still over */
		for (t = t0 + 2; t < t0 + 1 + ban; t += 1 + rbelow(&R, hz / 4)) {
			CHECK(!ent_decide(&e, &l, t, 0, 0),
			      "t0+%llu: admitted during the ban", U(t - t0));
			CHECK(e.st.ban_start == (u32)(t0 + 1),
			      "t0+%llu: the ban restarted without count-all",
			      U(t - t0));
		}
		CHECK(rw_win_count(e.win, &l) == 1,
		      "over events entered the window without count-all");
		CHECK(e.st.tokens == FP(1), "the ban consumed tokens");
		{
			struct ent x = e;

			CHECK(!ent_decide(&x, &l, t0 + ban, 0, 0),
			      "admitted the last jiffy of the ban");
		}
		CHECK(ent_decide(&e, &l, t0 + 1 + ban, 0, 0),
		      "not admitted when the ban ended");
		CHECK(!(e.sf & RW_S_BANNED), "ban flag left after the ban");
		/* any limit starts a ban: the window, the connection count */
		c.flags = F_WIN | F_CONN | F_BAN;
		c.conn_above = 2;
		c.win_n = 2;
		cfg_derive(&c);
		if (lim_of(&c, &l))
			return;
		ent_init(&e, &l, t0);
		CHECK(ent_decide(&e, &l, t0, 0, 2), "within conn-above");
		CHECK(!ent_decide(&e, &l, t0 + 1, 0, 3), "conn-above exceeded");
		CHECK(e.sf & RW_S_BANNED, "conn-above over did not ban");
		CHECK(!ent_decide(&e, &l, t0 + 2, 0, 0), "conns ok but banned");
		CHECK(ent_decide(&e, &l, t0 + 1 + ban, 0, 0), "after the ban");
		CHECK(!ent_decide(&e, &l, t0 + 1 + ban, 0, 0), "window 2 full");
		CHECK((e.sf & RW_S_BANNED) &&
		      e.st.ban_start == (u32)(t0 + 1 + ban),
		      "window over did not ban");
	}
}

static void t_ban_count_all(void)
{
	u32 h;

	for (h = 0; h < 3; h++) {
		u32 hz = hz_list[h];
		struct cfg c = {
			.hz = hz, .flags = F_WIN | F_BAN | F_CALL,
			.win_n = 3, .win_ms = 5000, .ban_ms = 10000,
		};
		struct rw_limits l;
		struct ent e, x;
		u64 t0 = (1ULL << 32) - hz * 7, t, last = 0, ban = 10 * hz;
		u32 i;

		cfg_derive(&c);
		if (lim_of(&c, &l))
			return;
		ent_init(&e, &l, t0);
		for (i = 0; i < 3; i++)
			CHECK(ent_decide(&e, &l, t0, 0, 0), "fill the window");
		for (t = t0 + 1; t < t0 + 30 * hz; t += 1 + rbelow(&R, hz)) {
			const struct rw_ring *r = (const void *)e.win;

			CHECK(!ent_decide(&e, &l, t, 0, 0),
			      "t0+%llu: admitted during the ban", U(t - t0));
			CHECK((e.sf & RW_S_BANNED) && e.st.ban_start == (u32)t,
			      "t0+%llu: the over event did not restart the ban",
			      U(t - t0));
			CHECK(r->count == 3 && ring_at(r, &l, 2) == (u32)t,
			      "t0+%llu: the over event is not in the window",
			      U(t - t0));
			last = t;
		}
		x = e;
		CHECK(!ent_decide(&x, &l, last + ban - 1, 0, 0),
		      "admitted inside the restarted ban");
		x = e;
		CHECK(ent_decide(&x, &l, last + ban, 0, 0),
		      "not admitted once the last restarted ban ended");
		/* without a ban, count-all keeps a retrying client out */
		c.flags = F_WIN | F_CALL;
		cfg_derive(&c);
		if (lim_of(&c, &l))
			return;
		ent_init(&e, &l, t0);
		for (i = 0; i < 3; i++)
			ent_decide(&e, &l, t0 + i, 0, 0);
		for (t = t0 + 3; t < t0 + 60 * hz; t += hz)
			CHECK(!ent_decide(&e, &l, t, 0, 0),
			      "count-all: a client retrying every second got "
			      "in at t0+%llu", U(t - t0));
	}
}

/* ---- overflow edges -------------------------------------------------- */

/* 1/day with burst 1,000,000: exact refill over days, full, no wrap. */
static void t_slow_rate(void)
{
	u32 h;

	for (h = 0; h < 3; h++) {
		struct cfg c = {
			.hz = hz_list[h], .flags = F_RATE, .rate_n = 1,
			.period_ms = DAY_MS, .burst = 1000000,
		};
		struct rw_limits l;
		struct ent e, x;
		u64 t0 = rand_base(), t, p, full, k, steps = 0;
		u32 i;

		cfg_derive(&c);
		if (lim_of(&c, &l))
			return;
		p = c.p_j;
		full = t0 + 1000000 * p;
		ent_init(&e, &l, t0);
		for (i = 0; i < 1000000; i++)
			if (!ent_decide(&e, &l, t0, 0, 0))
				break;
		CHECK(i == 1000000, "burst of 1e6 admitted %u", i);
		CHECK(!ent_decide(&e, &l, t0, 0, 0) && e.st.tokens == 0,
		      "empty after the burst");
		/* after exactly 3 days: 3 packets */
		x = e;
		for (t = t0; t + U32_MAX < t0 + 3 * p; t += U32_MAX)
			ent_refresh(&x, &l, t + U32_MAX);
		for (i = 0; i < 3; i++)
			CHECK(ent_decide(&x, &l, t0 + 3 * p, 0, 0),
			      "day 3 packet %u", i);
		CHECK(!ent_decide(&x, &l, t0 + 3 * p, 0, 0), "a 4th on day 3");
		x = e;
		for (t = t0; t + U32_MAX < t0 + 3 * p - 1; t += U32_MAX)
			ent_refresh(&x, &l, t + U32_MAX);
		for (i = 0; i < 2; i++)
			ent_decide(&x, &l, t0 + 3 * p - 1, 0, 0);
		CHECK(!ent_decide(&x, &l, t0 + 3 * p - 1, 0, 0),
		      "3 packets one jiffy before day 3");
		/* walk until full, refreshing at most every 2^32 - 1 jiffies */
		t = t0;
		while (t < full + 10 * p) {
			u64 next = t + rrange(&R, U32_MAX / 2, U32_MAX);
			u128 units;
			u64 want;

			/* stop on the jiffies around the day boundaries */
			k = (t - t0) / p + 1;
			if (rpct(&R, 10) && t0 + k * p - 1 > t &&
			    t0 + k * p - 1 < next)
				next = t0 + k * p - rbelow(&R, 2);
			if (t < full - 1 && next > full - 1)
				next = full - 1;
			else if (t < full && next > full)
				next = full;
			ent_refresh(&e, &l, next);
			t = next;
			steps++;
			units = (u128)(t - t0) * c.rate_n;
			want = units >= (u128)c.burst * p ? FP(c.burst) :
			       (u64)((units << RW_FP_SHIFT) / p);
			CHECK(e.st.tokens == want, "t0+%llu: tokens %#llx, exact "
			      "%#llx (%s)", U(t - t0), U(e.st.tokens), U(want),
			      cfg_str(&c));
			if (t == full - 1)
				CHECK(e.st.tokens < FP(c.burst),
				      "full one jiffy early");
		}
		CHECK(e.st.tokens == FP(c.burst), "not full after 1e6 days");
		for (i = 0; i < 100; i++) {
			t += U32_MAX;
			ent_refresh(&e, &l, t);
			CHECK(e.st.tokens == FP(c.burst), "full bucket changed");
		}
		CHECK(rw_idle_state(&e.st, e.sf, NULL, &l), "full is idle");
		printf("#   HZ=%u: %llu refreshes to fill 1e6 tokens at 1/day\n",
		       c.hz, U(steps));
	}
}

/* The largest values the ABI allows, against the reference. */
static void t_max_values(void)
{
	u32 h, k;

	memset(&DS, 0, sizeof(DS));
	for (h = 0; h < 3; h++) {
		for (k = 0; k < 10; k++) {
			struct cfg c = { .hz = hz_list[h] };
			struct sim s;
			u32 i;

			switch (k) {
			case 0:	/* 1e9/s, burst 2^31, everything at max */
				c.flags = F_RATE | F_WIN | F_BAN | F_CONN;
				c.rate_n = XT_RATEWIN_RATE_MAX;
				c.period_ms = 1000;
				c.burst = XT_RATEWIN_BURST_MAX;
				c.win_n = RW_WIN_EXACT_MAX;
				c.win_ms = XT_RATEWIN_DURATION_MAX_MS;
				c.ban_ms = XT_RATEWIN_DURATION_MAX_MS;
				c.conn_above = XT_RATEWIN_CONN_MAX;
				break;
			case 1:	/* 1e9/day */
				c.flags = F_RATE | F_CALL;
				c.rate_n = XT_RATEWIN_RATE_MAX;
				c.period_ms = DAY_MS;
				c.burst = XT_RATEWIN_BURST_MAX;
				break;
			case 2:	/* 2^32 bytes/s, burst 2^31 bytes */
				c.flags = F_RATE | F_BYTES | F_WIN | F_CALL;
				c.rate_n = XT_RATEWIN_BYTES_RATE_MAX;
				c.period_ms = 1000;
				c.burst = XT_RATEWIN_BURST_MAX;
				c.win_n = 1;
				c.win_ms = XT_RATEWIN_DURATION_MAX_MS;
				break;
			case 3:	/* 1 byte/s, burst 2^31: fill saturated */
				c.flags = F_RATE | F_BYTES;
				c.rate_n = 1;
				c.period_ms = 1000;
				c.burst = XT_RATEWIN_BURST_MAX;
				break;
			case 4:	/* 1/day, burst 2^31 */
				c.flags = F_RATE | F_BAN;
				c.rate_n = 1;
				c.period_ms = DAY_MS;
				c.burst = XT_RATEWIN_BURST_MAX;
				c.ban_ms = XT_RATEWIN_DURATION_MAX_MS;
				break;
			case 5:	/* 1/day, burst 1 */
				c.flags = F_RATE;
				c.rate_n = 1;
				c.period_ms = DAY_MS;
				c.burst = 1;
				break;
			case 6:	/* 7 bytes/s, burst 1 byte */
				c.flags = F_RATE | F_BYTES;
				c.rate_n = 7;
				c.period_ms = 1000;
				c.burst = 1;
				break;
			default: /* random huge ones */
				rand_cfg(&c, W_RATE | W_WIN | W_SLOWOK |
					     (k & 1 ? W_BYTES : 0));
				c.hz = hz_list[h];
				c.burst = rlog(&R, XT_RATEWIN_BURST_MAX / 1024,
					       XT_RATEWIN_BURST_MAX);
				c.win_ms = rlog(&R, 20 * DAY_MS,
						XT_RATEWIN_DURATION_MAX_MS);
				break;
			}
			cfg_derive(&c);
			if (sim_init(&s, &c, rand_base(), rnext(&R), 5,
				     rnext(&R)))
				return;
			s.lenmax = U32_MAX;
			for (i = 0; i < 20000; i++) {
				u64 gap = rpct(&s.g, 30) ?
					  s.gmax - rbelow(&s.g, 3) :
					  sim_gap(&s);
				u32 len = rpct(&s.g, 20) ?
					  (u32)rlog(&s.g, 1, U32_MAX) :
					  sim_len(&s);

				if (rpct(&s.g, 20) && (c.flags & F_BYTES)) {
					/* a huge packet, then empty */
					len = (u32)min64(c.burst, U32_MAX);
				}
				sim_advance(&s, gap);
				if (sim_event(&s, len, sim_conns(&s)) < 0)
					break;
			}
			sim_free(&s);
		}
	}
	/* the elapsed time right at the 2^32 limit */
	for (h = 0; h < 3; h++) {
		struct cfg c = {
			.hz = hz_list[h], .flags = F_RATE | F_BYTES,
			.rate_n = 1, .period_ms = 1000,
			.burst = XT_RATEWIN_BURST_MAX,
		};
		struct rw_limits l;
		struct ent e;
		u64 t0 = rand_base(), t = t0, want;

		cfg_derive(&c);
		if (lim_of(&c, &l))
			return;
		ent_init(&e, &l, t0);
		CHECK(ent_decide(&e, &l, t0, 1U << 31, 0) && !e.st.tokens,
		      "a burst-sized packet empties the bucket");
		while (e.st.tokens < FP(c.burst)) {
			u128 units;

			t += U32_MAX - rbelow(&R, 2);
			ent_refresh(&e, &l, t);
			units = (u128)(t - t0) * c.rate_n;
			want = units >= (u128)c.burst * c.p_j ? FP(c.burst) :
			       (u64)((units << RW_FP_SHIFT) / c.p_j);
			CHECK(e.st.tokens == want, "elapsed ~2^32: tokens %#llx, "
			      "exact %#llx (%s)", U(e.st.tokens), U(want),
			      cfg_str(&c));
			if (e.st.tokens != want)
				break;
		}
	}
	ds_print("largest values");
}

/* The same stream at two bases, one across the 32-bit wrap. */
static void t_wrap(void)
{
	u64 crossed = 0, i;

	memset(&DS, 0, sizeof(DS));
	for (i = 0; i < 300; i++) {
		static const u32 wants[] = {
			W_RATE, W_WIN, W_RATE | W_WIN | W_CONN, W_RATE | W_BYTES,
			W_WIN | W_SLOTS,
		};
		struct cfg c;
		struct sim a, b;
		u64 seed = rnext(&R), b0 = rbelow(&R, 1 << 20);
		u64 b1 = (1ULL << 32) - rlog(&R, 1, 1ULL << 30);
		u32 k;

		rand_cfg(&c, wants[i % 5]);
		if (sim_init(&a, &c, b0, seed, 0, 0) ||
		    sim_init(&b, &c, b1, seed, 0, 0))
			return;
		for (k = 0; k < 3000; k++) {
			int da = sim_step(&a), db = sim_step(&b);

			if (da < 0 || db < 0)
				break;
			CHECK(da == db, "event %u: %d at base %llu, %d at base "
			      "%llu (%s)", k, da, U(b0), db, U(b1), cfg_str(&c));
			if (da != db)
				break;
		}
		crossed += (b.now >> 32) != (b1 >> 32);
		sim_free(&a);
		sim_free(&b);
	}
	printf("#   %llu of 300 streams crossed the wrap\n", U(crossed));
	CHECK(crossed > 150, "too few streams crossed the wrap");
	ds_print("wrap");
}

/* ---- rw_win_migrate -------------------------------------------------- */

enum { MK_RING, MK_SLOTS };

struct mstats {
	u64 cases, probes;
};

static struct mstats MS;

/* Fill a window with a random history; rec gets the true event times. */
static u64 mig_history(const struct cfg *c, const struct rw_limits *l,
		       struct ent *e, u64 base, struct ref *rec)
{
	u64 now = base, end = base + c->d_j + rbelow(&R, c->d_j + 1);
	u64 mean = max64(c->d_j / c->win_n, 1);
	u32 i;

	ent_init(e, l, base);
	for (i = 0; i < 4 * c->win_n + 50 && now < end; i++) {
		now += rpct(&R, 30) ? 0 : min64(rbelow(&R, 2 * mean + 1),
						 touch_max(l));
		if (ent_decide(e, l, now, 0, 0) || (c->flags & F_CALL))
			ref_push(rec, now);
	}
	return now;
}

static void mig_case(int okind, int nkind, int variant)
{
	struct cfg co, cn;
	struct rw_limits lo, ln;
	struct ent eo, en;
	struct ref rec = { 0 };
	u64 base = rand_base(), last, m, held[64], nheld = 0, i;
	u64 sjo, sjn, slack;
	const struct rw_ring *ro = (const void *)eo.win;
	u32 hz;

	rand_cfg(&co, W_WIN | W_NOBAN | (okind == MK_SLOTS ? W_SLOTS : 0));
	hz = co.hz;
	cn = co;
	if (rpct(&R, 80))
		co.win_ms = rlog(&R, 1, 10 * MIN_MS);
	cfg_derive(&co);
	cn.win_ms = co.win_ms;
	if (nkind == MK_RING)
		cn.win_n = rrange(&R, 1, RW_WIN_EXACT_MAX);
	else
		cn.win_n = rlog(&R, RW_WIN_EXACT_MAX + 1, 2000);
	if (okind == MK_RING && nkind == MK_RING) {
		if (variant == 0 && co.win_n > 1)
			cn.win_n = rrange(&R, 1, co.win_n - 1);
		if (variant == 1 && co.win_n < RW_WIN_EXACT_MAX)
			cn.win_n = rrange(&R, co.win_n + 1, RW_WIN_EXACT_MAX);
	}
	if (variant == 2 || rpct(&R, 30))
		cn.win_ms = rrange(&R, 1, co.win_ms);	/* shorter */
	else if (rpct(&R, 50))
		cn.win_ms = rrange(&R, co.win_ms,
				   min64(3 * co.win_ms,
					 XT_RATEWIN_DURATION_MAX_MS));
	cn.hz = hz;
	cfg_derive(&cn);
	if (lim_of(&co, &lo) || lim_of(&cn, &ln))
		return;
	last = mig_history(&co, &lo, &eo, base, &rec);
	m = last + min64(rbelow(&R, co.d_j / 2 + 1), touch_max(&lo));
	if (rpct(&R, 70))
		ent_refresh(&eo, &lo, m);	/* else migrate a stale one */
	/* the events the old window surely holds */
	if (okind == MK_RING) {
		for (i = 0; i < ro->count; i++) {
			u32 t = ring_at(ro, &lo, i);

			held[nheld++] = m - (u32)((u32)m - t);
		}
	}
	memset(&en, 0, sizeof(en));
	rw_win_migrate(en.win, &ln, eo.win, &lo, (u32)m);
	MS.cases++;
	if (nkind == MK_SLOTS)
		CHECK(slots_consistent(en.win), "migrated slots inconsistent");
	if (okind == MK_RING && nkind == MK_RING) {
		/* exact: the newest N of the old events inside the new window */
		const struct rw_ring *rn = (const void *)en.win;
		u64 first = 0, want = 0;

		while (first < nheld && m - held[first] >= cn.d_j)
			first++;
		if (nheld - first > cn.win_n)
			first = nheld - cn.win_n;
		want = nheld - first;
		CHECK(rn->count == want, "ring->ring kept %u of %llu events "
		      "(%s -> %s)", rn->count, U(want), cfg_str(&co),
		      cfg_str(&cn));
		for (i = 0; i < min64(want, rn->count); i++)
			CHECK(ring_at(rn, &ln, i) == (u32)held[first + i],
			      "ring->ring event %llu moved: %u, was %u",
			      U(i), ring_at(rn, &ln, i),
			      (u32)held[first + i]);
	}
	sjo = okind == MK_SLOTS ? lo.slot_j : 0;
	sjn = nkind == MK_SLOTS ? ln.slot_j : 0;
	slack = sjo + sjn;
	/* probe the migrated window as time goes on, without new events */
	for (i = 0; i < 40; i++) {
		u64 t = m + (i < 4 ? i : rbelow(&R, cn.d_j + slack + 2)), low = 0;
		u64 up = 0, k, cnt;
		struct ent x = en;

		if (i == 4)
			t = m + cn.d_j - 1;
		/* touched often enough, as the GC does */
		if (t - m > touch_max(&ln))
			ent_refresh(&x, &ln, m + touch_max(&ln));
		ent_refresh(&x, &ln, t);
		cnt = rw_win_count(x.win, &ln);
		for (k = 0; k < rec.n; k++) {
			u64 e = rec.rec[k];

			if (t - e < cn.d_j + slack)
				up++;
			/* slots hold at least what the exact window holds */
			if (okind == MK_SLOTS && m - e < co.d_j &&
			    t - e < cn.d_j)
				low++;
		}
		for (k = 0; okind == MK_RING && k < nheld; k++)
			if (t - held[k] < cn.d_j)
				low++;
		MS.probes++;
		CHECK(min64(cnt, cn.win_n) >= min64(low, cn.win_n),
		      "t=m+%llu: migrated window counts %llu, the old events "
		      "%llu (%s -> %s)", U(t - m), U(cnt), U(low),
		      cfg_str(&co), cfg_str(&cn));
		CHECK(cnt <= up, "t=m+%llu: migrated window counts %llu, only "
		      "%llu events within DURATION + slots (%s -> %s)",
		      U(t - m), U(cnt), U(up), cfg_str(&co), cfg_str(&cn));
	}
	free(rec.rec);
}

static void t_mig_ring_ring(void)
{
	u32 i;

	memset(&MS, 0, sizeof(MS));
	for (i = 0; i < 6000; i++)
		mig_case(MK_RING, MK_RING, i % 4);
	printf("#   %llu migrations, %llu probes\n", U(MS.cases),
	       U(MS.probes));
}

static void t_mig_ring_slots(void)
{
	u32 i;

	for (i = 0; i < 4000; i++)
		mig_case(MK_RING, MK_SLOTS, i % 4);
}

static void t_mig_slots_ring(void)
{
	u32 i;

	for (i = 0; i < 4000; i++)
		mig_case(MK_SLOTS, MK_RING, i % 4);
}

static void t_mig_slots_slots(void)
{
	u32 i;

	for (i = 0; i < 4000; i++)
		mig_case(MK_SLOTS, MK_SLOTS, i % 4);
}

/* ---- idle state ------------------------------------------------------ */

/* Probe idleness at time x: refresh a copy as the GC would, then ask. */
static bool idle_at(const struct sim *s, u64 x)
{
	struct ent e = s->e;
	u64 t = s->touched;

	while (x - t > s->gmax) {
		t += s->gmax - rbelow(&R, s->gmax / 4);
		ent_refresh(&e, &s->l, t);
	}
	ent_refresh(&e, &s->l, x);
	return ent_idle(&e, &s->l);
}

static void idle_case(bool slots, u64 *nprobe)
{
	struct cfg c;
	struct sim s;
	u64 tb, tw, tban, tr, e0, tol, i;
	u32 want = 0, n;

	while (!(want & (W_RATE | W_WIN)))
		want = (rpct(&R, 60) ? W_RATE : 0) |
		       (slots || rpct(&R, 60) ? W_WIN : 0);
	if (slots)
		want |= W_SLOTS;
	if (rpct(&R, 30))
		want |= W_BYTES;
	rand_cfg(&c, want);
	if (sim_init(&s, &c, rand_base(), rnext(&R), 3, rnext(&R)))
		return;
	n = rrange(&R, 0, 3000);
	for (i = 0; i < n && sim_step(&s) >= 0; i++)
		;
	if (s.dead)
		goto out;
	e0 = s.touched;
	/* the reference: when does each part become idle? */
	tb = e0;
	if ((c.flags & F_RATE) && s.r.a < (u128)c.burst * c.p_j)
		tb = e0 + (u64)(((u128)c.burst * c.p_j - s.r.a + c.rate_n - 1) /
				c.rate_n);
	tw = e0;
	if ((c.flags & F_WIN) && ref_count(&s.r, &c, e0))
		tw = s.r.rec[s.r.n - 1] + c.d_j;
	tban = ref_ban_on(&s.r, &c, e0) ? s.r.ban_start + c.ban_j : e0;
	tr = max64(max64(tb, tw), tban);
	tol = slots ? (c.d_j + 15) / 16 : 0;
	if (tr > e0) {
		CHECK(!idle_at(&s, tr - 1), "idle one jiffy before the "
		      "reference (%s)", cfg_str(&c));
		for (i = 0; i < 3; i++)
			CHECK(!idle_at(&s, e0 + rbelow(&R, tr - e0)),
			      "idle before the reference (%s)", cfg_str(&c));
		*nprobe += 4;
	}
	if (!slots) {
		CHECK(idle_at(&s, tr), "not idle when the reference is, "
		      "t=e0+%llu (bucket +%llu window +%llu ban +%llu) (%s)",
		      U(tr - e0), U(tb - e0), U(tw - e0), U(tban - e0),
		      cfg_str(&c));
	} else {
		/* the newest event's slot ends at most slot_j - 1 after it */
		u64 ts = s.r.n ? s.r.rec[s.r.n - 1] + c.d_j + tol - 1 : e0;

		CHECK(idle_at(&s, max64(tr, ts)), "slots: not idle %llu "
		      "jiffies after the reference (%s)",
		      U(max64(tr, ts) - tr), cfg_str(&c));
	}
	CHECK(idle_at(&s, tr + tol + rbelow(&R, 1ULL << 34)),
	      "not idle long after (%s)", cfg_str(&c));
	*nprobe += 2;
out:
	sim_free(&s);
}

static void t_idle(void)
{
	u64 probes = 0;
	u32 i;

	memset(&DS, 0, sizeof(DS));
	for (i = 0; i < 2000; i++)
		idle_case(false, &probes);
	printf("#   %llu probes\n", U(probes));
}

static void t_idle_slots(void)
{
	u64 probes = 0;
	u32 i;

	memset(&DS, 0, sizeof(DS));
	for (i = 0; i < 1200; i++)
		idle_case(true, &probes);
	printf("#   %llu probes\n", U(probes));
}

/*
 * SPEC 4: reclaiming an idle entry never changes a verdict. Whenever the
 * entry is idle, a new entry takes its place in a shadow run and must
 * decide the following events the same way.
 */
static void t_reclaim(void)
{
	u64 forks = 0, i;

	memset(&DS, 0, sizeof(DS));
	for (i = 0; i < 450; i++) {
		static const u32 wants[] = {
			W_RATE, W_WIN, W_RATE | W_WIN | W_CONN, W_RATE | W_BYTES,
			W_WIN | W_SLOTS, W_WIN | W_SLOTS | W_RATE,
		};
		struct cfg c;
		struct sim s;
		struct ent sh;
		u32 k, left = 0;

		rand_cfg(&c, wants[i % 6]);
		if (sim_init(&s, &c, rand_base(), rnext(&R), 3, rnext(&R)))
			return;
		for (k = 0; k < 4000; k++) {
			u64 gap = sim_gap(&s);

			if (!left && rpct(&R, 10)) {
				struct ent x;

				s.shadow = NULL;
				sim_advance(&s, gap);
				x = s.e;
				ent_refresh(&x, &s.l, s.now);
				if (ent_idle(&x, &s.l)) {
					ent_init(&sh, &s.l, s.now);
					s.shadow = &sh;
					left = 400;
					forks++;
				}
			} else {
				sim_advance(&s, gap);
			}
			if (sim_event(&s, sim_len(&s), sim_conns(&s)) < 0)
				break;
			if (left && !--left)
				s.shadow = NULL;
		}
		s.shadow = NULL;
		sim_free(&s);
	}
	printf("#   %llu idle entries replaced by new ones\n", U(forks));
	CHECK(forks > 500, "too few idle points");
}

/* GC refreshes at any time never change a verdict. */
static void t_refresh_invariance(void)
{
	u64 i, ev = 0;

	memset(&DS, 0, sizeof(DS));
	for (i = 0; i < 360; i++) {
		static const u32 wants[] = {
			W_RATE, W_WIN, W_RATE | W_WIN | W_CONN, W_RATE | W_BYTES,
			W_WIN | W_SLOTS, W_WIN | W_SLOTS | W_RATE,
		};
		struct cfg c;
		struct sim a, b;
		u64 seed = rnext(&R), base = rand_base();
		u32 k;

		rand_cfg(&c, wants[i % 6]);
		if (sim_init(&a, &c, base, seed, 0, 0) ||
		    sim_init(&b, &c, base, seed, 40, rnext(&R)))
			return;
		for (k = 0; k < 3000; k++) {
			int da = sim_step(&a), db = sim_step(&b);

			if (da < 0 || db < 0)
				break;
			ev++;
			CHECK(da == db && a.e.st.tokens == b.e.st.tokens,
			      "event %u: %d (tokens %#llx) without extra "
			      "refreshes, %d (%#llx) with (%s)", k, da,
			      U(a.e.st.tokens), db, U(b.e.st.tokens),
			      cfg_str(&c));
			if (da != db)
				break;
		}
		sim_free(&a);
		sim_free(&b);
	}
	printf("#   %llu events decided twice\n", U(ev));
}

/* A rule loaded later changes the limits at once, keeping the state. */
static void t_rule_change(void)
{
	u32 h;

	for (h = 0; h < 3; h++) {
		struct cfg c = {
			.hz = hz_list[h], .flags = F_RATE, .rate_n = 10,
			.period_ms = 1000, .burst = 100,
		};
		struct rw_limits l, l2;
		struct ent e;
		u64 t0 = rand_base();
		u32 i, n = 0;

		cfg_derive(&c);
		if (lim_of(&c, &l))
			return;
		ent_init(&e, &l, t0);
		/* the burst is lowered to 5: at most 5 now */
		c.burst = 5;
		cfg_derive(&c);
		if (lim_of(&c, &l2))
			return;
		for (i = 0; i < 10; i++)
			n += ent_decide(&e, &l2, t0 + 1, 0, 0);
		CHECK(n == 5, "HZ=%u: %u admitted after the burst went from "
		      "100 to 5", c.hz, n);
		/* 3 tokens left, the rate goes from 10/s to 1/minute: still 3 */
		c.burst = 100;
		cfg_derive(&c);
		lim_of(&c, &l);
		ent_init(&e, &l, t0);
		for (i = 0; i < 97; i++)
			ent_decide(&e, &l, t0, 0, 0);
		c.rate_n = 1;
		c.period_ms = MIN_MS;
		cfg_derive(&c);
		lim_of(&c, &l2);
		for (n = 0, i = 0; i < 5; i++)
			n += ent_decide(&e, &l2, t0, 0, 0);
		CHECK(n == 3, "HZ=%u: %u of 3 tokens kept across a rate change",
		      c.hz, n);
	}
}

/* An entry that still has a window area when no window is configured. */
static void t_stale_window(void)
{
	struct cfg c = {
		.hz = 250, .flags = F_RATE, .rate_n = 5, .period_ms = 1000,
		.burst = 5,
	};
	struct rw_limits l;
	struct ent e;
	u32 i, n = 0;

	cfg_derive(&c);
	if (lim_of(&c, &l))
		return;
	ent_init(&e, &l, 1000);
	for (i = 0; i < 8; i++)
		n += rw_decide(&e.st, &e.sf, e.win, &l, 1000,
			       rw_cost(&l, 0), 0);
	CHECK(n == 5, "%u admitted with a stale window pointer", n);
	CHECK(rw_idle_state(&e.st, e.sf, e.win, &l) == false, "idle");
}

/*
 * rw_limits_init() picks the shape of each combination of limits, and the
 * shapes' own code (rw_decide_shaped()) leaves an entry exactly as
 * rw_decide() does: the same verdicts and the same bytes of state, for
 * fresh entries and for entries that a rule with a ban left banned.
 */
static void t_shapes(void)
{
	static const u32 wants[] = {
		W_RATE | W_NOBAN, W_RATE | W_BYTES | W_NOBAN,
		W_WIN | W_NOBAN, W_WIN | W_NOBAN | W_NOCALL,
		W_CONN | W_NOBAN, W_RATE | W_WIN | W_NOBAN,
		W_RATE | W_CONN | W_BYTES | W_NOBAN, W_WIN | W_CONN | W_NOBAN,
		W_RATE | W_WIN | W_CONN | W_NOBAN,
		W_WIN | W_SLOTS | W_NOBAN, W_WIN | W_SLOTS | W_RATE | W_NOBAN,
		W_RATE, W_WIN, W_CONN, W_RATE | W_WIN,
		W_RATE | W_WIN | W_CONN | W_BYTES,
	};
	u64 seen[8] = { 0 }, events = 0, banned = 0;
	u32 i, k;

	for (i = 0; i < 6000; i++) {
		u32 want = wants[i % ARRAY_SIZE(wants)];
		u32 shape = RW_SHAPE_ANY;
		struct rw_limits l;
		struct ent a, b;
		struct cfg c;
		u64 now, span;

		rand_cfg(&c, want);
		if (lim_of(&c, &l))
			return;
		/* no ban, and an exact window if any: the limits */
		if (!(c.flags & F_BAN) &&
		    (!(c.flags & F_WIN) || c.win_n <= RW_WIN_EXACT_MAX))
			shape = c.flags & (F_RATE | F_WIN | F_CONN);
		CHECK(l.shape == shape, "shape %u, want %u: %s", l.shape,
		      shape, cfg_str(&c));
		seen[l.shape & 7]++;
		now = rand_base();
		ent_init(&a, &l, now);
		if (rpct(&R, 30)) {
			/* banned by an earlier rule of the same table */
			a.sf |= RW_S_BANNED;
			a.st.ban_start = (u32)(now - rbelow(&R, 1000));
			banned++;
		}
		b = a;
		span = max64(c.p_j, c.d_j) * 2 + 2;
		for (k = 0; k < 500; k++) {
			u32 len = rrange(&R, 0, 3000), conns = rbelow(&R, 10);
			bool da, db;

			now += rpct(&R, 50) ? 0 : rpct(&R, 70) ?
			       rbelow(&R, 4) : rbelow(&R, span);
			da = rw_decide_shaped(&a.st, &a.sf, winp(&a, &l), &l,
					      (u32)now, len, conns);
			db = rw_decide(&b.st, &b.sf, winp(&b, &l), &l,
				       (u32)now, rw_cost(&l, len), conns);
			events++;
			if (da != db || memcmp(&a, &b, sizeof(a))) {
				CHECK(0, "event %u: shaped %d, rw_decide %d, "
				      "state %s (%s)", k, da, db,
				      memcmp(&a, &b, sizeof(a)) ?
				      "differs" : "same", cfg_str(&c));
				break;
			}
		}
	}
	printf("#   %llu events; configurations by shape (limit flags, 0: "
	       "the general way):", U(events));
	for (i = 0; i < 8; i++)
		printf(" %u: %llu%s", i, U(seen[i]), i < 7 ? "," : "");
	printf("; %llu started banned\n", U(banned));
	for (i = 0; i < 8; i++)
		CHECK(seen[i], "shape %u was never drawn", i);
}

/* ---- main ------------------------------------------------------------ */

static const struct {
	void (*fn)(void);
	const char *desc;
} tests[] = {
	{ t_sizes, "sizes of the state and the windows" },
	{ t_limits_max, "rw_limits_init accepts the ABI's largest values, "
	  "derives exact jiffies" },
	{ t_limits_reject, "rw_limits_init rejects out-of-range values" },
	{ t_rand_rate, "rate only vs exact reference (randomized)" },
	{ t_rand_window, "window N <= 32 vs exact reference (randomized)" },
	{ t_rand_all, "rate+window+conn, count-all, ban vs exact reference" },
	{ t_rand_bytes, "byte mode vs exact reference" },
	{ t_refill_split, "bucket refill in many steps equals one refill" },
	{ t_slots_bound, "large N: never more than N admitted in any "
	  "DURATION" },
	{ t_slots_late, "large N: admits no later than DURATION/16 after "
	  "the exact window" },
	{ t_slots_next, "large N: rw_win_next admits at the returned time" },
	{ t_ring_next, "exact ring: rw_win_next admits, one jiffy less "
	  "does not" },
	{ t_ban_plain, "ban: starts on over, everything over, no restart "
	  "without count-all" },
	{ t_ban_count_all, "ban with count-all: each over event restarts "
	  "it and enters the window" },
	{ t_slow_rate, "1/day with burst 1e6: exact refill over days, full, "
	  "no wrap" },
	{ t_max_values, "largest ABI values and elapsed near 2^32 vs "
	  "reference" },
	{ t_wrap, "a stream across the 32-bit jiffies wrap decides as "
	  "without" },
	{ t_mig_ring_ring, "migrate ring->ring: exact timestamps, "
	  "conservative" },
	{ t_mig_ring_slots, "migrate ring->slots: conservative, bounded" },
	{ t_mig_slots_ring, "migrate slots->ring: conservative, bounded" },
	{ t_mig_slots_slots, "migrate slots->slots: conservative, bounded" },
	{ t_idle, "idle exactly when the reference is, never before" },
	{ t_idle_slots, "slots: idle never before, at most DURATION/16 "
	  "after" },
	{ t_reclaim, "replacing an idle entry by a new one never changes "
	  "a verdict" },
	{ t_refresh_invariance, "refreshes at any time never change a "
	  "verdict" },
	{ t_rule_change, "changed limits apply at once: lower burst, new "
	  "rate" },
	{ t_stale_window, "a window area with no window configured never "
	  "refuses" },
	{ t_shapes, "each shape's own decision leaves the entry as "
	  "rw_decide() does" },
};

int main(int argc, char **argv)
{
	u64 seed = 0x7261746577696eULL;	/* "ratewin" */
	const char *env = getenv("RW_SEED");
	struct timespec t0, t1;
	u32 i, n = ARRAY_SIZE(tests), failed = 0;

	if (argc > 1)
		seed = strtoull(argv[1], NULL, 0);
	else if (env && *env)
		seed = strtoull(env, NULL, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	printf("1..%u\n", n);
	printf("# seed %llu (rerun: %s %llu)\n", U(seed), argv[0], U(seed));
	for (i = 0; i < n; i++) {
		struct timespec a, b;

		R.s = seed ^ (0x9e3779b97f4a7c15ULL * (i + 1));
		t_fail = 0;
		t_shown = 0;
		clock_gettime(CLOCK_MONOTONIC, &a);
		tests[i].fn();
		clock_gettime(CLOCK_MONOTONIC, &b);
		if (t_fail) {
			failed++;
			printf("#   %llu failed checks\n", U(t_fail));
		}
		printf("%sok %u - %s (%.2fs)\n", t_fail ? "not " : "", i + 1,
		       tests[i].desc, (double)(b.tv_sec - a.tv_sec) +
		       (b.tv_nsec - a.tv_nsec) / 1e9);
		fflush(stdout);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("# %u of %u failed, %.2fs\n", failed, n,
	       (double)(t1.tv_sec - t0.tv_sec) +
	       (t1.tv_nsec - t0.tv_nsec) / 1e9);
	return failed ? 1 : 0;
}
