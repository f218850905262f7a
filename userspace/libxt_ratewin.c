// SPDX-License-Identifier: GPL-2.0
/*
 * iptables/ip6tables plugin of the ratewin match: per-key token bucket,
 * sliding window and concurrent-connection count.
 *
 * Canonical save form (iptables -S, iptables-save), options in this order,
 * defaults left out, so that iptables-restore reads it back to the same
 * matchinfo and save -> restore -> save is byte-identical:
 *
 *   --ratewin-name NAME [--ratewin-mode LIST] [--ratewin-srcmask LEN]
 *   [--ratewin-dstmask LEN] [--ratewin-rate RATE [--ratewin-burst N]]
 *   [--ratewin-window N/DURATION] [--ratewin-conn-above N]
 *   [--ratewin-count-all] [--ratewin-ban DURATION] [--ratewin-upto]
 *   [--ratewin-full under] [--ratewin-htable-size N] [--ratewin-htable-max N]
 *   [--ratewin-htable-expire MS] [--ratewin-htable-gcinterval MS]
 *
 * Durations print in the largest of d, h, m, s, ms that is exact (60000 ms
 * is 1m, 90000 ms is 90s); rates as N/second|minute|hour|day; byte rates
 * and byte bursts in mb or kb where exact, else in bytes.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <xtables.h>
#include <linux/netfilter/xt_ratewin.h>
#include "ratewin_parse.h"

enum {
	O_NAME = 0,
	O_MODE,
	O_SRCMASK,
	O_DSTMASK,
	O_RATE,
	O_BURST,
	O_WINDOW,
	O_CONN,
	O_COUNT_ALL,
	O_BAN,
	O_UPTO,
	O_FULL,
	O_HSIZE,
	O_HMAX,
	O_HEXPIRE,
	O_HGC,
};

#define F(o)	(1U << (o))

/* Per-rule scratch: was the burst written with a byte unit? */
struct ratewin_udata {
	bool burst_unit;
};

static void ratewin_help(void)
{
	printf(
"ratewin match options:\n"
"  --ratewin-name NAME             table name, file /proc/net/xt_ratewin/NAME (required)\n"
"  --ratewin-rate N/UNIT           token bucket: N/second|minute|hour|day, or bytes Nb/s, Nkb/s, Nmb/s\n"
"  --ratewin-burst N               bucket depth, default %u (byte mode: bytes, e.g. 64kb, 1mb)\n"
"  --ratewin-window N/DURATION     at most N admitted events in any DURATION (ms, s, m, h, d: 5/60s)\n"
"  --ratewin-conn-above N          over when the key has more than N concurrent connections\n"
"  --ratewin-count-all             events over the limit count into the window too\n"
"  --ratewin-ban DURATION          a key that goes over any limit stays over for DURATION\n"
"  --ratewin-upto                  match packets within every limit instead of those over\n"
"  --ratewin-full over|under       verdict for a new key when the table is full (default over)\n"
"  --ratewin-mode LIST             key fields: comma list of srcip, dstip, srcport, dstport (default srcip)\n"
"  --ratewin-srcmask LEN           source address prefix length (default 32 / 128)\n"
"  --ratewin-dstmask LEN           destination address prefix length (default 32 / 128)\n"
"  --ratewin-htable-size N         slots the table starts with (default %u)\n"
"  --ratewin-htable-max N          maximum number of entries (default %u)\n"
"  --ratewin-htable-expire MS      idle time before an entry that decides nothing is reclaimed (default %u)\n"
"  --ratewin-htable-gcinterval MS  interval between reclaim runs (default %u)\n",
	XT_RATEWIN_DEFAULT_BURST, XT_RATEWIN_DEFAULT_SIZE,
	XT_RATEWIN_DEFAULT_MAX, XT_RATEWIN_DEFAULT_EXPIRE_MS,
	XT_RATEWIN_DEFAULT_GC_MS);
}

/*
 * Every value is parsed here (ratewin_parse.c) rather than by libxtables,
 * so that every error names the option, the value and what is allowed.
 * libxtables refuses a repeated option and '!' on any of them.
 */
static const struct xt_option_entry ratewin_opts[] = {
	{.name = "ratewin-name", .id = O_NAME, .type = XTTYPE_STRING},
	{.name = "ratewin-mode", .id = O_MODE, .type = XTTYPE_STRING},
	{.name = "ratewin-srcmask", .id = O_SRCMASK, .type = XTTYPE_STRING},
	{.name = "ratewin-dstmask", .id = O_DSTMASK, .type = XTTYPE_STRING},
	{.name = "ratewin-rate", .id = O_RATE, .type = XTTYPE_STRING},
	{.name = "ratewin-burst", .id = O_BURST, .type = XTTYPE_STRING},
	{.name = "ratewin-window", .id = O_WINDOW, .type = XTTYPE_STRING},
	{.name = "ratewin-conn-above", .id = O_CONN, .type = XTTYPE_STRING},
	{.name = "ratewin-count-all", .id = O_COUNT_ALL, .type = XTTYPE_NONE},
	{.name = "ratewin-ban", .id = O_BAN, .type = XTTYPE_STRING},
	{.name = "ratewin-upto", .id = O_UPTO, .type = XTTYPE_NONE},
	{.name = "ratewin-full", .id = O_FULL, .type = XTTYPE_STRING},
	{.name = "ratewin-htable-size", .id = O_HSIZE, .type = XTTYPE_STRING},
	{.name = "ratewin-htable-max", .id = O_HMAX, .type = XTTYPE_STRING},
	{.name = "ratewin-htable-expire", .id = O_HEXPIRE,
	 .type = XTTYPE_STRING},
	{.name = "ratewin-htable-gcinterval", .id = O_HGC,
	 .type = XTTYPE_STRING},
	XTOPT_TABLEEND,
};

static void ratewin_init(struct xt_entry_match *m, uint8_t plen)
{
	struct xt_ratewin_mtinfo *info = (void *)m->data;

	info->mode = XT_RATEWIN_MODE_SRCIP;
	info->srcmask = plen;
	info->dstmask = plen;
}

static void ratewin_init4(struct xt_entry_match *m)
{
	ratewin_init(m, 32);
}

static void ratewin_init6(struct xt_entry_match *m)
{
	ratewin_init(m, 128);
}

static void __attribute__((noreturn))
bad_value(const struct xt_option_call *cb, const char *why)
{
	xtables_error(PARAMETER_PROBLEM, "%s: --%s: %s", cb->ext_name,
		      cb->entry->name, why);
}

static uint32_t parse_u32(const struct xt_option_call *cb, uint64_t min,
			  uint64_t max)
{
	char err[RW_ERRLEN];
	uint64_t v;

	if (rw_parse_uint(cb->arg, min, max, &v, err, sizeof(err)))
		bad_value(cb, err);
	return (uint32_t)v;
}

static void ratewin_parse(struct xt_option_call *cb, unsigned int family_plen)
{
	struct xt_ratewin_mtinfo *info = cb->data;
	struct ratewin_udata *ud = cb->udata;
	struct rw_rate rate;
	char err[RW_ERRLEN];
	uint64_t v;
	uint32_t n;

	xtables_option_parse(cb);
	switch (cb->entry->id) {
	case O_NAME:
		if (rw_check_name(cb->arg, err, sizeof(err)))
			bad_value(cb, err);
		memset(info->name, 0, sizeof(info->name));
		memcpy(info->name, cb->arg, strlen(cb->arg));
		break;
	case O_MODE:
		if (rw_parse_mode(cb->arg, &info->mode, err, sizeof(err)))
			bad_value(cb, err);
		break;
	case O_SRCMASK:
		if (rw_parse_plen(cb->arg, family_plen, &info->srcmask,
				  err, sizeof(err)))
			bad_value(cb, err);
		break;
	case O_DSTMASK:
		if (rw_parse_plen(cb->arg, family_plen, &info->dstmask,
				  err, sizeof(err)))
			bad_value(cb, err);
		break;
	case O_RATE:
		if (rw_parse_rate(cb->arg, &rate, err, sizeof(err)))
			bad_value(cb, err);
		info->flags |= XT_RATEWIN_F_RATE;
		if (rate.bytes)
			info->flags |= XT_RATEWIN_F_BYTES;
		info->rate_n = rate.n;
		info->rate_period_ms = rate.period_ms;
		break;
	case O_BURST:
		if (rw_parse_burst(cb->arg, &v, &ud->burst_unit, err,
				   sizeof(err)))
			bad_value(cb, err);
		info->burst = v;
		break;
	case O_WINDOW:
		if (rw_parse_window(cb->arg, &n, &v, err, sizeof(err)))
			bad_value(cb, err);
		info->flags |= XT_RATEWIN_F_WINDOW;
		info->window_n = n;
		info->window_ms = v;
		break;
	case O_CONN:
		info->flags |= XT_RATEWIN_F_CONN;
		info->conn_above = parse_u32(cb, 1, XT_RATEWIN_CONN_MAX);
		break;
	case O_COUNT_ALL:
		info->flags |= XT_RATEWIN_F_COUNT_ALL;
		break;
	case O_BAN:
		if (rw_parse_duration(cb->arg, 1, XT_RATEWIN_DURATION_MAX_MS,
				      &v, err, sizeof(err)))
			bad_value(cb, err);
		info->flags |= XT_RATEWIN_F_BAN;
		info->ban_ms = v;
		break;
	case O_UPTO:
		info->flags |= XT_RATEWIN_F_UPTO;
		break;
	case O_FULL:
		if (strcmp(cb->arg, "under") == 0)
			info->flags |= XT_RATEWIN_F_FULL_UNDER;
		else if (strcmp(cb->arg, "over") != 0)
			bad_value(cb, "use \"over\" or \"under\"");
		break;
	case O_HSIZE:
		info->htable_size = parse_u32(cb, 1, XT_RATEWIN_SIZE_MAX);
		break;
	case O_HMAX:
		info->htable_max = parse_u32(cb, 1, XT_RATEWIN_MAX_MAX);
		break;
	case O_HEXPIRE:
		if (rw_parse_ms(cb->arg, 1, XT_RATEWIN_EXPIRE_MAX_MS, &v,
				err, sizeof(err)))
			bad_value(cb, err);
		info->htable_expire_ms = (uint32_t)v;
		break;
	case O_HGC:
		if (rw_parse_ms(cb->arg, XT_RATEWIN_GC_MIN_MS,
				XT_RATEWIN_GC_MAX_MS, &v, err, sizeof(err)))
			bad_value(cb, err);
		info->htable_gc_ms = (uint32_t)v;
		break;
	}
}

static void ratewin_parse4(struct xt_option_call *cb)
{
	ratewin_parse(cb, 32);
}

static void ratewin_parse6(struct xt_option_call *cb)
{
	ratewin_parse(cb, 128);
}

static void ratewin_fcheck(struct xt_fcheck_call *cb)
{
	struct xt_ratewin_mtinfo *info = cb->data;
	const struct ratewin_udata *ud = cb->udata;
	struct rw_rate rate;

	if (!(cb->xflags & F(O_NAME)))
		xtables_error(PARAMETER_PROBLEM,
			      "ratewin: --ratewin-name NAME is required");
	if (!(info->flags & XT_RATEWIN_F_LIMITS))
		xtables_error(PARAMETER_PROBLEM,
			      "ratewin: no limit given: use --ratewin-rate, --ratewin-window or --ratewin-conn-above");
	if (cb->xflags & F(O_BURST)) {
		if (!(info->flags & XT_RATEWIN_F_RATE))
			xtables_error(PARAMETER_PROBLEM,
				      "ratewin: --ratewin-burst needs --ratewin-rate");
		if (ud->burst_unit && !(info->flags & XT_RATEWIN_F_BYTES))
			xtables_error(PARAMETER_PROBLEM,
				      "ratewin: --ratewin-burst: byte units (b, kb, mb) need a byte rate such as --ratewin-rate 512kb/s");
		if (info->burst > XT_RATEWIN_BURST_MAX)
			xtables_error(PARAMETER_PROBLEM,
				      "ratewin: --ratewin-burst is too large");
	} else if (info->flags & XT_RATEWIN_F_RATE) {
		rate.n = info->rate_n;
		rate.period_ms = info->rate_period_ms;
		rate.bytes = info->flags & XT_RATEWIN_F_BYTES;
		info->burst = rw_default_burst(&rate);
	}
	if ((info->flags & XT_RATEWIN_F_COUNT_ALL) &&
	    !(info->flags & XT_RATEWIN_F_WINDOW))
		xtables_error(PARAMETER_PROBLEM,
			      "ratewin: --ratewin-count-all needs --ratewin-window (it counts over events into the window)");
	if ((cb->xflags & F(O_SRCMASK)) &&
	    !(info->mode & XT_RATEWIN_MODE_SRCIP))
		xtables_error(PARAMETER_PROBLEM,
			      "ratewin: --ratewin-srcmask needs srcip in --ratewin-mode");
	if ((cb->xflags & F(O_DSTMASK)) &&
	    !(info->mode & XT_RATEWIN_MODE_DSTIP))
		xtables_error(PARAMETER_PROBLEM,
			      "ratewin: --ratewin-dstmask needs dstip in --ratewin-mode");
}

/* Emit the canonical form; prefix is "--ratewin-" for save, "" for print. */
static void ratewin_show(const struct xt_ratewin_mtinfo *info,
			 unsigned int family_plen, const char *prefix,
			 bool save)
{
	uint8_t mode = info->mode ? info->mode : XT_RATEWIN_MODE_SRCIP;
	char buf[RW_FMTLEN];
	struct rw_rate rate;

	if (save) {
		printf(" %sname", prefix);
		xtables_save_string(info->name);
	} else {
		printf(" %sname %s", prefix, info->name);
	}
	if (mode != XT_RATEWIN_MODE_SRCIP)
		printf(" %smode %s", prefix, rw_fmt_mode(buf, mode));
	if ((mode & XT_RATEWIN_MODE_SRCIP) && info->srcmask != family_plen)
		printf(" %ssrcmask %u", prefix, info->srcmask);
	if ((mode & XT_RATEWIN_MODE_DSTIP) && info->dstmask != family_plen)
		printf(" %sdstmask %u", prefix, info->dstmask);
	if (info->flags & XT_RATEWIN_F_RATE) {
		rate.n = info->rate_n;
		rate.period_ms = info->rate_period_ms;
		rate.bytes = info->flags & XT_RATEWIN_F_BYTES;
		printf(" %srate %s", prefix,
		       rw_fmt_rate(buf, rate.n, rate.period_ms, rate.bytes));
		if (info->burst != rw_default_burst(&rate) && rate.bytes)
			printf(" %sburst %s", prefix,
			       rw_fmt_bytes(buf, info->burst));
		else if (info->burst != rw_default_burst(&rate))
			printf(" %sburst %llu", prefix,
			       (unsigned long long)info->burst);
	}
	if (info->flags & XT_RATEWIN_F_WINDOW)
		printf(" %swindow %u/%s", prefix, info->window_n,
		       rw_fmt_duration(buf, info->window_ms));
	if (info->flags & XT_RATEWIN_F_CONN)
		printf(" %sconn-above %u", prefix, info->conn_above);
	if (info->flags & XT_RATEWIN_F_COUNT_ALL)
		printf(" %scount-all", prefix);
	if (info->flags & XT_RATEWIN_F_BAN)
		printf(" %sban %s", prefix, rw_fmt_duration(buf, info->ban_ms));
	if (info->flags & XT_RATEWIN_F_UPTO)
		printf(" %supto", prefix);
	if (info->flags & XT_RATEWIN_F_FULL_UNDER)
		printf(" %sfull under", prefix);
	if (info->htable_size)
		printf(" %shtable-size %u", prefix, info->htable_size);
	if (info->htable_max)
		printf(" %shtable-max %u", prefix, info->htable_max);
	if (info->htable_expire_ms)
		printf(" %shtable-expire %u", prefix, info->htable_expire_ms);
	if (info->htable_gc_ms)
		printf(" %shtable-gcinterval %u", prefix, info->htable_gc_ms);
}

static void ratewin_print4(const void *ip, const struct xt_entry_match *m,
			   int numeric)
{
	(void)ip;
	(void)numeric;
	printf(" ratewin:");
	ratewin_show((const void *)m->data, 32, "", false);
}

static void ratewin_print6(const void *ip, const struct xt_entry_match *m,
			   int numeric)
{
	(void)ip;
	(void)numeric;
	printf(" ratewin:");
	ratewin_show((const void *)m->data, 128, "", false);
}

static void ratewin_save4(const void *ip, const struct xt_entry_match *m)
{
	(void)ip;
	ratewin_show((const void *)m->data, 32, "--ratewin-", true);
}

static void ratewin_save6(const void *ip, const struct xt_entry_match *m)
{
	(void)ip;
	ratewin_show((const void *)m->data, 128, "--ratewin-", true);
}

static struct xtables_match ratewin_mt_reg[] = {
	{
		.version	= XTABLES_VERSION,
		.name		= "ratewin",
		.revision	= 0,
		.family		= NFPROTO_IPV4,
		.size		= XT_ALIGN(sizeof(struct xt_ratewin_mtinfo)),
		.userspacesize	= offsetof(struct xt_ratewin_mtinfo, table),
		.help		= ratewin_help,
		.init		= ratewin_init4,
		.print		= ratewin_print4,
		.save		= ratewin_save4,
		.x6_parse	= ratewin_parse4,
		.x6_fcheck	= ratewin_fcheck,
		.x6_options	= ratewin_opts,
		.udata_size	= sizeof(struct ratewin_udata),
	},
	{
		.version	= XTABLES_VERSION,
		.name		= "ratewin",
		.revision	= 0,
		.family		= NFPROTO_IPV6,
		.size		= XT_ALIGN(sizeof(struct xt_ratewin_mtinfo)),
		.userspacesize	= offsetof(struct xt_ratewin_mtinfo, table),
		.help		= ratewin_help,
		.init		= ratewin_init6,
		.print		= ratewin_print6,
		.save		= ratewin_save6,
		.x6_parse	= ratewin_parse6,
		.x6_fcheck	= ratewin_fcheck,
		.x6_options	= ratewin_opts,
		.udata_size	= sizeof(struct ratewin_udata),
	},
};

static void __attribute__((constructor)) ratewin_mt_ldr(void)
{
	xtables_register_matches(ratewin_mt_reg,
				 sizeof(ratewin_mt_reg) / sizeof(ratewin_mt_reg[0]));
}
