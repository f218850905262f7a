/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * xt_ratewin: per-key token bucket, sliding window and connection count.
 *
 * This is the ABI between the kernel module and the iptables plugin.
 * Every field has a fixed width; flags are explicit; reserved space must be
 * zero and is rejected otherwise, so it can be given a meaning later.
 */
#ifndef _UAPI_XT_RATEWIN_H
#define _UAPI_XT_RATEWIN_H

#include <linux/types.h>

#define XT_RATEWIN_NAME_LEN	32	/* including the terminating NUL */

/* Key fields (mode). */
enum {
	XT_RATEWIN_MODE_SRCIP	= 1 << 0,
	XT_RATEWIN_MODE_DSTIP	= 1 << 1,
	XT_RATEWIN_MODE_SRCPORT	= 1 << 2,
	XT_RATEWIN_MODE_DSTPORT	= 1 << 3,
};

#define XT_RATEWIN_MODE_ALL	0x0f

/* Which limits and behaviours are configured. */
enum {
	XT_RATEWIN_F_RATE	= 1 << 0,	/* token bucket */
	XT_RATEWIN_F_WINDOW	= 1 << 1,	/* sliding window */
	XT_RATEWIN_F_CONN	= 1 << 2,	/* concurrent connections */
	XT_RATEWIN_F_BYTES	= 1 << 3,	/* bucket counts bytes */
	XT_RATEWIN_F_COUNT_ALL	= 1 << 4,	/* over events enter the window */
	XT_RATEWIN_F_BAN	= 1 << 5,	/* over keys stay over for ban_ms */
	XT_RATEWIN_F_UPTO	= 1 << 6,	/* match admitted packets instead */
	XT_RATEWIN_F_FULL_UNDER	= 1 << 7,	/* full table: new key is under */
};

#define XT_RATEWIN_F_ALL	0xff
#define XT_RATEWIN_F_LIMITS	(XT_RATEWIN_F_RATE | XT_RATEWIN_F_WINDOW | \
				 XT_RATEWIN_F_CONN)

/*
 * Limits on values, enforced by both the plugin and checkentry.
 * Durations are in milliseconds.
 */
#define XT_RATEWIN_RATE_MAX		1000000000ULL	/* per period */
#define XT_RATEWIN_BYTES_RATE_MAX	(1ULL << 32)	/* bytes per second */
#define XT_RATEWIN_BURST_MAX		(1ULL << 31)	/* packets or bytes */
#define XT_RATEWIN_PERIOD_MAX_MS	86400000ULL	/* one day */
#define XT_RATEWIN_DURATION_MAX_MS	(30ULL * 86400000ULL) /* 30 days */
#define XT_RATEWIN_WINDOW_N_MAX		10000000U
#define XT_RATEWIN_CONN_MAX		(1U << 30)
#define XT_RATEWIN_SIZE_MAX		(1U << 24)	/* buckets hint */
#define XT_RATEWIN_MAX_MAX		(1U << 26)	/* entries */
#define XT_RATEWIN_EXPIRE_MAX_MS	(XT_RATEWIN_DURATION_MAX_MS)
#define XT_RATEWIN_GC_MIN_MS		10U
#define XT_RATEWIN_GC_MAX_MS		3600000U

/* Defaults used when a tuning field is 0. */
#define XT_RATEWIN_DEFAULT_BURST	5
#define XT_RATEWIN_DEFAULT_SIZE		1024
#define XT_RATEWIN_DEFAULT_MAX		65536
#define XT_RATEWIN_DEFAULT_EXPIRE_MS	60000U
#define XT_RATEWIN_DEFAULT_GC_MS	1000U

struct xt_ratewin_mtinfo {
	char	name[XT_RATEWIN_NAME_LEN];	/* NUL terminated, no '/' */
	__u32	flags;		/* XT_RATEWIN_F_* */
	__u8	mode;		/* XT_RATEWIN_MODE_*, 0 means srcip */
	__u8	srcmask;	/* prefix length, 0..32 / 0..128 */
	__u8	dstmask;
	__u8	pad0;		/* must be zero */

	/* token bucket: rate_n per rate_period_ms, bucket depth burst */
	__u64	rate_n;
	__u32	rate_period_ms;	/* 1000 (required in byte mode) .. 1 day */
	__u32	pad1;		/* must be zero */
	__u64	burst;

	/* sliding window: at most window_n events in any window_ms */
	__u64	window_ms;
	__u32	window_n;

	/* more than conn_above concurrent connections is over */
	__u32	conn_above;

	__u64	ban_ms;

	/* table tuning, 0 means the default */
	__u32	htable_size;
	__u32	htable_max;
	__u32	htable_expire_ms;
	__u32	htable_gc_ms;

	__u64	reserved[4];	/* must be zero */

	/* used internally by the kernel */
	struct xt_ratewin_tbl	*table __attribute__((aligned(8)));
};

#endif /* _UAPI_XT_RATEWIN_H */
