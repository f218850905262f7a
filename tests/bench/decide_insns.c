// SPDX-License-Identifier: GPL-2.0
/*
 * Instructions per decision of kernel/ratewin_algo.h, counted by callgrind:
 * the decision the module makes (rw_decide_shaped()) against the general
 * one (rw_decide()), for the limit shapes the module decides with code of
 * their own and one it does not (a ban). Not a test: `make bench-decide`
 * runs it and prints a table.
 *
 *   decide_insns CASE PATH    make M decisions of CASE through PATH
 *   decide_insns list         the cases, one a line
 *
 * PATH is "shaped" or "general". Every decision is one call of
 * decide_shaped() or decide_general(), each a function of its own as the
 * module's match is, which callgrind counts alone (--toggle-collect), so a
 * count divided by M is the instructions of one decision, call and return
 * included. Packets come 300 to a jiffy (HZ=250), as a flood from one
 * source does under emulation, or one every 40 jiffies (6.25 a second)
 * where a case is under a window of 8 a second.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ratewin_algo.h"

#define M	3000000U

struct ent {
	struct rw_state st;
	u8 sf;
	u64 win[24];
};

static const struct dcase {
	const char *name;
	u32 flags;
	u64 rate_n, burst;
	u32 win_n;
	u64 win_ms;
	u32 per_jiffy;		/* packets a jiffy; 0: one every 40 jiffies */
} cases[] = {
	{ "window-8-a-second-count-all-over", XT_RATEWIN_F_WINDOW |
	  XT_RATEWIN_F_COUNT_ALL, 0, 0, 8, 1000, 300 },
	{ "window-8-a-second-under", XT_RATEWIN_F_WINDOW, 0, 0, 8, 1000, 0 },
	{ "rate-1M-a-second-under", XT_RATEWIN_F_RATE, 1000000, 1000000, 0, 0, 300 },
	{ "rate-10-a-second-over", XT_RATEWIN_F_RATE, 10, 10, 0, 0, 300 },
	{ "rate+window-under", XT_RATEWIN_F_RATE | XT_RATEWIN_F_WINDOW,
	  1000000, 1000000, 8, 1000, 0 },
	{ "conn-under", XT_RATEWIN_F_CONN, 0, 0, 0, 0, 300 },
	{ "rate+window+conn-count-all-over", XT_RATEWIN_F_RATE |
	  XT_RATEWIN_F_WINDOW | XT_RATEWIN_F_CONN | XT_RATEWIN_F_COUNT_ALL,
	  1000000, 1000000, 8, 1000, 300 },
	{ "rate+ban-10-a-second-over", XT_RATEWIN_F_RATE | XT_RATEWIN_F_BAN,
	  10, 10, 0, 0, 300 },
};

/* one decision each way, so that each is compiled as the module's is */
static __attribute__((__noinline__)) bool
decide_shaped(struct ent *e, const struct rw_limits *l, u32 now)
{
	return rw_decide_shaped(&e->st, &e->sf, e->win, l, now, 100, 0);
}

static __attribute__((__noinline__)) bool
decide_general(struct ent *e, const struct rw_limits *l, u32 now)
{
	return rw_decide(&e->st, &e->sf, e->win, l, now, rw_cost(l, 100), 0);
}

int main(int argc, char **argv)
{
	const struct dcase *c = NULL;
	struct rw_limits l;
	struct ent e;
	bool (*decide_one)(struct ent *e, const struct rw_limits *l, u32 now);
	u32 i, admitted = 0;

	if (argc == 2 && !strcmp(argv[1], "list")) {
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			printf("%s\n", cases[i].name);
		return 0;
	}
	for (i = 0; argc == 3 && i < sizeof(cases) / sizeof(cases[0]); i++)
		if (!strcmp(argv[1], cases[i].name))
			c = &cases[i];
	if (!c || (strcmp(argv[2], "shaped") && strcmp(argv[2], "general"))) {
		fprintf(stderr, "usage: %s CASE shaped|general, or %s list\n",
			argv[0], argv[0]);
		return 2;
	}
	decide_one = strcmp(argv[2], "shaped") ? decide_general :
						  decide_shaped;
	if (rw_limits_init(&l, c->flags, c->rate_n, 1000, c->burst, c->win_n,
			   c->win_ms, 0, c->flags & XT_RATEWIN_F_BAN ? 1000 : 0,
			   250)) {
		fprintf(stderr, "%s: limits refused\n", c->name);
		return 1;
	}
	memset(&e, 0, sizeof(e));
	e.st.tokens = l.burst_fp;
	e.st.last = 1000;
	if (l.win_kind != RW_WIN_NONE)
		rw_win_init(e.win, &l, 1000);
	for (i = 0; i < M; i++)
		admitted += decide_one(&e, &l, c->per_jiffy ?
				       1000 + i / c->per_jiffy : 1000 + i * 40);
	printf("%s %s: %u decisions, %u admitted, shape %u\n", c->name,
	       argv[2], M, admitted, l.shape);
	return 0;
}
