// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz target: the decision logic (kernel/ratewin_algo.h, the file the
 * module compiles) against an exact reference model.
 *
 * The input chooses HZ, a configuration within the ABI's limits, a start
 * time (often just before the 32-bit jiffies wrap) and a stream of events:
 * packets (cost, live connections), reconfigurations (another rule for the
 * same table: the module's migration, rw_win_migrate()), GC passes (the
 * module's refresh of entries idle more than 2^30 jiffies, and reclaiming
 * idle entries) and /proc "+KEY" records. Time is kept in 64 bits; the
 * algorithm sees the low 32.
 *
 * Invariants, any broken one aborts:
 *   - rw_limits_init() accepts every configuration the ABI allows;
 *   - token bucket: exact. The decision and the stored tokens equal a
 *     bucket of rational tokens (kept as integer units of 1/period_j
 *     token), however the refreshes fall, across the wrap, up to 30 days;
 *   - exact windows (N <= 32): the decision equals "fewer than N recorded
 *     events in the last DURATION";
 *   - large windows: never more than N admitted in any DURATION, and a
 *     refusal only when N events were recorded within DURATION plus one
 *     slot (DURATION/16);
 *   - ban, conn-above, count-all as SPEC section 4 says;
 *   - reclaiming an idle entry never changes a later decision;
 *   - no undefined behaviour (UBSan) and no out-of-bounds access (ASan).
 * After a reconfiguration state is carried over as the module does; what
 * the old form did not keep is dropped from the model too, and decisions
 * are checked for safety only until carried-over events have aged out.
 */
#include <stdbool.h>
#include "ratewin_algo.h"
#include "fuzz_common.h"

typedef unsigned __int128 u128;

#define MAX_EVENTS	4000
#define HIST_MAX	(MAX_EVENTS + 64)
#define DAY_MS		86400000ULL

struct fz_cfg {
	u32 flags;
	u64 rate_n;
	u32 period_ms;
	u64 burst;
	u32 win_n;
	u64 win_ms;
	u32 conn_above;
	u64 ban_ms;
	u32 expire_j;
};

static struct {
	u32 hz;
	u64 lcg;
	struct fz_cfg cfg;
	struct rw_limits lim;

	/* the algorithm's entry */
	bool present;
	struct rw_state st;
	u8 sflags;
	u64 win[24];		/* 192 bytes, 8-aligned: ring or slots */
	u64 t_refresh;		/* absolute time of the last real refresh */

	/* the model */
	u64 T;
	u128 units;		/* bucket content in 1/period_j tokens */
	u64 ref_last;
	bool tok_unsynced;	/* tokens not in the exact form (new period) */
	bool banned;
	u64 ban_start;
	u64 rec[HIST_MAX];	/* recorded window events, ascending */
	unsigned int nrec;
	u64 adm[HIST_MAX];	/* events rw_decide() admitted, ascending */
	unsigned int nadm;
	/*
	 * Events carried through a migration from or into slots have times
	 * the model does not know exactly (slot ends). While the window may
	 * still hold any, its decisions are checked for safety only.
	 */
	bool shifted;
	u64 shifted_t;		/* no carried event is later than this */
	bool capped;
	u64 capped_t;		/* newest event a migration dropped for room */
} S;

static int trace = -1;

#define TRACE(...) do {						\
	if (trace < 0)						\
		trace = getenv("FUZZ_TRACE") != NULL;		\
	if (trace)						\
		fprintf(stderr, __VA_ARGS__);			\
} while (0)

static u64 lcg_next(void)
{
	S.lcg = S.lcg * 6364136223846793005ULL + 1442695040888963407ULL;
	return S.lcg >> 17;
}

static bool has(u32 f)
{
	return S.cfg.flags & f;
}

static void pick_cfg(struct fz_in *in, struct fz_cfg *c)
{
	static const u32 periods[] = { 1000, 60000, 3600000, 86400000 };
	static const u64 wins[] = { 1, 250, 1000, 60000, 3600000, DAY_MS,
				    30 * DAY_MS };
	u8 sel = fz_u8(in);

	memset(c, 0, sizeof(*c));
	c->flags = fz_u8(in) & (XT_RATEWIN_F_RATE | XT_RATEWIN_F_WINDOW |
				XT_RATEWIN_F_CONN | XT_RATEWIN_F_BYTES |
				XT_RATEWIN_F_COUNT_ALL | XT_RATEWIN_F_BAN);
	if (!(c->flags & XT_RATEWIN_F_LIMITS))
		c->flags |= XT_RATEWIN_F_WINDOW;
	if (!(c->flags & XT_RATEWIN_F_RATE))
		c->flags &= ~XT_RATEWIN_F_BYTES;
	if (!(c->flags & XT_RATEWIN_F_WINDOW))
		c->flags &= ~XT_RATEWIN_F_COUNT_ALL;
	if (c->flags & XT_RATEWIN_F_RATE) {
		if (c->flags & XT_RATEWIN_F_BYTES) {
			c->rate_n = fz_edgy(in, 1, XT_RATEWIN_BYTES_RATE_MAX);
			c->period_ms = 1000;
		} else {
			c->rate_n = sel & 1 ? fz_edgy(in, 1, 20) :
				    fz_edgy(in, 1, XT_RATEWIN_RATE_MAX);
			c->period_ms = sel & 2 ? periods[fz_u8(in) & 3] :
				       (u32)fz_edgy(in, 1000, DAY_MS);
		}
		c->burst = sel & 4 ? fz_edgy(in, 1, 64) :
			   fz_edgy(in, 1, XT_RATEWIN_BURST_MAX);
	}
	if (c->flags & XT_RATEWIN_F_WINDOW) {
		c->win_n = sel & 8 ? (u32)fz_edgy(in, 1, 40) :
			   (u32)fz_edgy(in, 1, XT_RATEWIN_WINDOW_N_MAX);
		c->win_ms = sel & 16 ? wins[fz_u8(in) % 7] :
			    fz_edgy(in, 1, XT_RATEWIN_DURATION_MAX_MS);
	}
	if (c->flags & XT_RATEWIN_F_CONN)
		c->conn_above = sel & 32 ? (u32)fz_edgy(in, 0, 8) :
				(u32)fz_edgy(in, 0, XT_RATEWIN_CONN_MAX);
	if (c->flags & XT_RATEWIN_F_BAN)
		c->ban_ms = sel & 64 ? fz_edgy(in, 1, 60000) :
			    fz_edgy(in, 1, XT_RATEWIN_DURATION_MAX_MS);
	/* htable-expire, as the module converts it */
	c->expire_j = (u32)((fz_edgy(in, 1, XT_RATEWIN_EXPIRE_MAX_MS) * S.hz +
			     999) / 1000);
}

static void init_lim(struct rw_limits *l, const struct fz_cfg *c)
{
	int rc = rw_limits_init(l, c->flags, c->rate_n, c->period_ms,
				c->burst, c->win_n, c->win_ms, c->conn_above,
				c->ban_ms, S.hz);

	FZ_CHECK(rc == 0, "rw_limits_init refused a valid configuration: "
		 "flags %#x rate %llu/%ums burst %llu window %u/%llums "
		 "conn %u ban %llums hz %u", c->flags,
		 (unsigned long long)c->rate_n, c->period_ms,
		 (unsigned long long)c->burst, c->win_n,
		 (unsigned long long)c->win_ms, c->conn_above,
		 (unsigned long long)c->ban_ms, S.hz);
	if (c->flags & XT_RATEWIN_F_WINDOW)
		FZ_CHECK(rw_win_size(l->win_kind, l->win_n) <= sizeof(S.win),
			 "window state larger than expected");
}

static void *winp(void)
{
	return S.lim.win_kind != RW_WIN_NONE ? (void *)S.win : NULL;
}

static u128 cap_units(void)
{
	return (u128)S.cfg.burst * S.lim.period_j;
}

/* The model at a refresh of the entry: refill, and an expired ban ends. */
static void ref_refill(void)
{
	if (S.banned && !(S.T - S.ban_start < S.lim.ban_j))
		S.banned = false;
	if (has(XT_RATEWIN_F_RATE)) {
		S.units += (u128)(S.T - S.ref_last) * S.lim.rate_n;
		if (S.units > cap_units())
			S.units = cap_units();
	}
	S.ref_last = S.T;
}

/* The algorithm's units for its tokens (rw_bucket_refill's formula). */
static u128 units_of_tokens(u64 tokens)
{
	return ((u128)tokens * S.lim.period_j + (((u128)1 << 32) - 1)) >> 32;
}

static void check_tokens(const char *where)
{
	u64 want;

	if (!has(XT_RATEWIN_F_RATE))
		return;
	if (S.tok_unsynced) {
		/* exact again once a refill has put tokens in exact form */
		u128 u = units_of_tokens(S.st.tokens);

		if (S.st.tokens >= S.lim.burst_fp ||
		    (u64)((u << 32) / S.lim.period_j) == S.st.tokens) {
			S.units = S.st.tokens >= S.lim.burst_fp ? cap_units() : u;
			S.tok_unsynced = false;
		}
		return;
	}
	want = S.units >= cap_units() ? S.lim.burst_fp :
	       (u64)((S.units << 32) / S.lim.period_j);
	FZ_CHECK(S.st.tokens == want, "%s: tokens %#llx, exact bucket has "
		 "%#llx (rate %llu per %u jiffies, burst %llu)", where,
		 (unsigned long long)S.st.tokens, (unsigned long long)want,
		 (unsigned long long)S.lim.rate_n, S.lim.period_j,
		 (unsigned long long)S.cfg.burst);
}

static void push(u64 *a, unsigned int *n, u64 t)
{
	FZ_CHECK(*n < HIST_MAX, "history overflow");
	a[(*n)++] = t;
}

/* Events at t with T - t < span. */
static u32 count_within(const u64 *a, unsigned int n, u64 span)
{
	u32 c = 0;

	while (n-- && S.T - a[n] < span)
		c++;
	return c;
}

/*
 * Keep only events with at - t < span, and of those the newest keep. Events
 * dropped for the count (a ring keeps its newest N) were still inside the
 * window: admissions counted against the full history are no longer
 * bounded by N until they have left it (S.capped_t).
 */
static void retain(u64 *a, unsigned int *n, u64 at, u64 span, u32 keep)
{
	unsigned int i, j = 0;

	for (i = 0; i < *n; i++)
		if (at - a[i] < span)
			a[j++] = a[i];
	if (j > keep) {
		S.capped = true;
		S.capped_t = a[j - keep - 1];
		memmove(a, a + (j - keep), keep * sizeof(*a));
		j = keep;
	}
	*n = j;
}

/* How long a window can still hold an event after its time. */
static u64 span_of(const struct rw_limits *l)
{
	return (u64)l->win_j + (l->win_kind == RW_WIN_SLOTS_KIND ?
				l->slot_j + 1ULL : 0);
}

static void refreshed(void)
{
	S.t_refresh = S.T;
	if (S.shifted && S.T - S.shifted_t >= span_of(&S.lim))
		S.shifted = false;
}

static void new_entry(void)
{
	memset(&S.st, 0, sizeof(S.st));
	S.sflags = 0;
	S.st.tokens = S.lim.burst_fp;
	S.st.last = (u32)S.T;
	memset(S.win, 0, sizeof(S.win));
	if (winp())
		rw_win_init(S.win, &S.lim, (u32)S.T);
	S.t_refresh = S.T;
	S.present = true;
}

static void real_refresh(void)
{
	rw_refresh(&S.st, &S.sflags, winp(), &S.lim, (u32)S.T);
	refreshed();
}

/* The module's GC visiting the entry at S.T (rw_entry_gc()). */
static void gc_visit(void)
{
	u64 copy[24];
	struct rw_state st;
	u8 fl;
	void *w = NULL;

	if (!S.present)
		return;
	if ((u32)((u32)S.T - S.st.last) > (1U << 30)) {
		real_refresh();
		ref_refill();
		check_tokens("gc refresh");
	}
	if ((u32)((u32)S.T - S.st.last) < S.cfg.expire_j)
		return;
	/* rw_entry_idle(): on a copy */
	st = S.st;
	fl = S.sflags;
	if (winp()) {
		memcpy(copy, S.win, sizeof(copy));
		w = copy;
	}
	rw_refresh(&st, &fl, w, &S.lim, (u32)S.T);
	if (rw_idle_state(&st, fl, w, &S.lim)) {
		/*
		 * Reclaimed: its history is gone. Under this configuration
		 * that changes nothing (checked by the next decisions); a
		 * later rule with a longer window cannot see it either.
		 */
		S.present = false;
		S.shifted = false;
		S.nrec = S.nadm = 0;
		S.banned = false;
		TRACE("reclaimed T=%#llx\n", (unsigned long long)S.T);
	}
}

/*
 * Move time forward to t, with the GC refreshes the module would do on the
 * way: an entry idle more than 2^30 jiffies is refreshed by the first GC
 * pass after that (passes are at most an hour apart).
 */
static void advance(u64 t)
{
	u64 gc_j = (u64)S.hz * 3600;

	while (S.present && t - S.t_refresh > (1ULL << 30)) {
		u64 g = S.t_refresh + (1ULL << 30) + 1 + lcg_next() % gc_j;

		if (g >= t)
			break;
		S.T = g;
		gc_visit();
	}
	S.T = t;
}

static void packet(u64 cost_units, u32 conns)
{
	u64 cost_u = has(XT_RATEWIN_F_BYTES) ? cost_units : 1;
	bool banned, bucket_ok, conn_ok, win_exact_ok = true, win_lax_ok = true;
	bool others_ok, got, exact_ring;

	if (!S.present)
		new_entry();
	ref_refill();
	banned = S.banned && S.T - S.ban_start < S.lim.ban_j;
	if (!banned)
		S.banned = false;
	bucket_ok = !has(XT_RATEWIN_F_RATE) ||
		    S.units >= (u128)cost_u * S.lim.period_j;
	conn_ok = !has(XT_RATEWIN_F_CONN) || conns <= S.cfg.conn_above;
	if (winp()) {
		win_exact_ok = count_within(S.rec, S.nrec, S.lim.win_j) <
			       S.lim.win_n;
		win_lax_ok = count_within(S.rec, S.nrec,
					  (u64)S.lim.win_j + S.lim.slot_j) <
			     S.lim.win_n;
	}
	others_ok = !banned && bucket_ok && conn_ok;

	/* as the module decides: by shape, from the packet's length */
	got = rw_decide_shaped(&S.st, &S.sflags, winp(), &S.lim, (u32)S.T,
			       (u32)cost_units, conns);
	TRACE("packet T=%#llx cost %llu conns %u: %s (model: banned %d "
	      "bucket %d conn %d window exact %d lax %d)\n",
	      (unsigned long long)S.T, (unsigned long long)cost_units, conns,
	      got ? "admitted" : "over", banned, bucket_ok, conn_ok,
	      win_exact_ok, win_lax_ok);
	S.t_refresh = S.T;

	exact_ring = S.lim.win_kind != RW_WIN_SLOTS_KIND && !S.shifted;
	if (S.tok_unsynced && has(XT_RATEWIN_F_RATE)) {
		/* bucket not exact yet: only what the others say */
		if (!(!banned && conn_ok && win_exact_ok))
			FZ_CHECK(!got, "admitted though banned, over conns "
				 "or over the window");
	} else if (exact_ring) {
		FZ_CHECK(got == (others_ok && win_exact_ok),
			 "decision %d, model %d (banned %d bucket %d conn %d "
			 "window %d) at jiffies %#x", got,
			 others_ok && win_exact_ok, banned, bucket_ok,
			 conn_ok, win_exact_ok, (u32)S.T);
	} else {
		if (!others_ok || !win_exact_ok)
			FZ_CHECK(!got, "admitted though the model refuses "
				 "(banned %d bucket %d conn %d window %d) at "
				 "jiffies %#x", banned, bucket_ok, conn_ok,
				 win_exact_ok, (u32)S.T);
		else if (win_lax_ok && !S.shifted)
			FZ_CHECK(got, "refused although fewer than %u events "
				 "in the window plus a slot (%u + %u "
				 "jiffies) at jiffies %#x", S.lim.win_n,
				 S.lim.win_j, S.lim.slot_j, (u32)S.T);
	}

	if (got) {
		if (has(XT_RATEWIN_F_RATE) && !S.tok_unsynced)
			S.units -= (u128)cost_u * S.lim.period_j;
		if (winp()) {
			push(S.rec, &S.nrec, S.T);
			push(S.adm, &S.nadm, S.T);
			FZ_CHECK((S.capped && S.T - S.capped_t < S.lim.win_j) ||
				 count_within(S.adm, S.nadm, S.lim.win_j) <=
				 S.lim.win_n, "more than %u admitted within "
				 "%u jiffies", S.lim.win_n, S.lim.win_j);
		}
	} else {
		if (winp() && has(XT_RATEWIN_F_COUNT_ALL))
			push(S.rec, &S.nrec, S.T);
		if (has(XT_RATEWIN_F_BAN) && S.lim.ban_j &&
		    (!banned || has(XT_RATEWIN_F_COUNT_ALL))) {
			S.banned = true;
			S.ban_start = S.T;
		}
	}
	check_tokens("after a packet");
	FZ_CHECK(!!(S.sflags & RW_S_BANNED) == S.banned,
		 "ban state %d, model %d", !!(S.sflags & RW_S_BANNED),
		 S.banned);
}

/* A /proc "+KEY" write (rw_table_record()). */
static void record(void)
{
	TRACE("record T=%#llx\n", (unsigned long long)S.T);
	if (!S.present)
		new_entry();
	ref_refill();
	real_refresh();
	if (has(XT_RATEWIN_F_RATE)) {
		S.st.tokens -= S.st.tokens < RW_FP_ONE ? S.st.tokens :
			       RW_FP_ONE;
		if (!S.tok_unsynced)
			S.units -= S.units < S.lim.period_j ? S.units :
				   S.lim.period_j;
	}
	if (winp()) {
		/* forced: recorded, but not an admission the limit made */
		rw_win_record(S.win, &S.lim, (u32)S.T);
		push(S.rec, &S.nrec, S.T);
	}
	check_tokens("after a record");
}

/* Another rule for the table (rw_cfg_build() + rw_entry_migrate()). */
static void reconfigure(struct fz_in *in)
{
	struct fz_cfg nc;
	struct rw_limits nl, ol = S.lim;
	u64 nwin[24];
	bool relayout;
	bool old_slot = ol.win_kind == RW_WIN_SLOTS_KIND;

	pick_cfg(in, &nc);
	init_lim(&nl, &nc);
	TRACE("reconfigure T=%#llx: flags %#x window %u/%u j (slot %u) "
	      "rate %llu per %u j burst %llu ban %u j\n",
	      (unsigned long long)S.T, nc.flags, nl.win_n, nl.win_j,
	      nl.slot_j, (unsigned long long)nl.rate_n, nl.period_j,
	      (unsigned long long)nc.burst, nl.ban_j);
	relayout = ol.win_kind != nl.win_kind || ol.win_n != nl.win_n ||
		   ol.win_j != nl.win_j;

	/* the model keeps what the old form kept */
	if (ol.win_kind == RW_WIN_NONE || nl.win_kind == RW_WIN_NONE) {
		S.nrec = S.nadm = 0;
	} else if (relayout) {
		u32 keep = ol.win_kind == RW_WIN_RING ? ol.win_n : U32_MAX;

		/* a ring keeps the newest N of the old form and the new */
		if (nl.win_kind == RW_WIN_RING && nl.win_n < keep)
			keep = nl.win_n;

		/* what the old form held, less what is too old for the new */
		retain(S.rec, &S.nrec, S.t_refresh, ol.win_j, keep);
		retain(S.adm, &S.nadm, S.t_refresh, ol.win_j, U32_MAX);
		retain(S.rec, &S.nrec, S.T, nl.win_j, U32_MAX);
		retain(S.adm, &S.nadm, S.T, nl.win_j, U32_MAX);
	}

	if (S.present && relayout) {
		memset(nwin, 0, sizeof(nwin));
		if (nl.win_kind != RW_WIN_NONE)
			rw_win_init(nwin, &nl, (u32)S.T);
		if (ol.win_kind != RW_WIN_NONE && nl.win_kind != RW_WIN_NONE)
			rw_win_migrate(nwin, &nl, S.win, &ol, (u32)S.T);
		memcpy(S.win, nwin, sizeof(S.win));
	}
	if (relayout && S.shifted && S.T - S.shifted_t >= span_of(&nl))
		S.shifted = false;	/* all dropped by the migration */
	if (S.present && relayout && ol.win_kind != RW_WIN_NONE &&
	    nl.win_kind != RW_WIN_NONE &&
	    (old_slot || nl.win_kind == RW_WIN_SLOTS_KIND)) {
		S.shifted = true;
		S.shifted_t = S.T;
	}

	/*
	 * The bucket keeps its tokens and refill stamp: the next refill
	 * applies the new rate from the last refresh on (as the module
	 * does). Tokens are exact again after a refill unless the period
	 * changed, which rounds once (check_tokens() resynchronises).
	 */
	S.tok_unsynced = S.tok_unsynced ||
			 !(S.cfg.flags & XT_RATEWIN_F_RATE) ||
			 ol.period_j != nl.period_j;
	S.cfg = nc;
	S.lim = nl;
	if (has(XT_RATEWIN_F_RATE)) {
		if (S.present) {
			S.units = units_of_tokens(S.st.tokens);
			S.ref_last = S.t_refresh;
		} else {
			S.units = cap_units();
			S.ref_last = S.T;
			S.tok_unsynced = false;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const u32 hzs[] = { 100, 250, 300, 1000 };
	struct fz_in in = { data, size };
	unsigned int events = 0;
	u8 b;

	memset(&S, 0, sizeof(S));
	b = fz_u8(&in);
	S.hz = hzs[b & 3];
	S.lcg = size * 0x9e3779b97f4a7c15ULL + b;
	pick_cfg(&in, &S.cfg);
	init_lim(&S.lim, &S.cfg);

	/* start: anywhere, often just before the 32-bit wrap */
	if (b & 4)
		S.T = (1ULL << 32) - fz_range(&in, 0, (u64)S.hz * 7200);
	else
		S.T = fz_u32(&in);
	S.ref_last = S.T;
	S.units = has(XT_RATEWIN_F_RATE) ? cap_units() : 0;
	TRACE("start T=%#llx hz %u: flags %#x window %u/%u j (slot %u) "
	      "rate %llu per %u j burst %llu ban %u j expire %u j\n",
	      (unsigned long long)S.T, S.hz, S.cfg.flags, S.lim.win_n,
	      S.lim.win_j, S.lim.slot_j, (unsigned long long)S.lim.rate_n,
	      S.lim.period_j, (unsigned long long)S.cfg.burst, S.lim.ban_j,
	      S.cfg.expire_j);

	while (in.n && events++ < MAX_EVENTS) {
		u8 op = fz_u8(&in);
		u64 d;

		switch (op & 3) {
		case 0:
			d = fz_u8(&in);
			break;
		case 1:
			d = fz_range(&in, 0, (u64)S.hz * 120);
			break;
		case 2:
			d = winp() ? fz_range(&in, 0, 2ULL * S.lim.win_j) :
				     fz_range(&in, 0, (u64)S.hz * 86400);
			break;
		default:
			d = fz_range(&in, 0, 3ULL << 30);
			break;
		}
		advance(S.T + d);
		if (op < 200)
			packet(fz_range(&in, 1, 65535),
			       (u32)fz_range(&in, 0, S.cfg.conn_above + 2ULL));
		else if (op < 216)
			reconfigure(&in);
		else if (op < 240)
			gc_visit();
		else
			record();
	}
	return 0;
}
