/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a valid struct xt_ratewin_mtinfo is, written from the ABI header
 * (include/uapi/linux/netfilter/xt_ratewin.h) and not from the module's
 * checkentry, so that the two can be compared: the matchinfo fuzzer
 * (tests/fuzz/mtinfo_kernel.c) submits blobs to the kernel and expects
 * checkentry to agree with this, and the plugin fuzzer expects everything
 * the plugin accepts to be valid here.
 *
 * Userspace only. Returns NULL when valid, else the rule broken.
 */
#ifndef RATEWIN_MTINFO_ORACLE_H
#define RATEWIN_MTINFO_ORACLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <linux/netfilter/xt_ratewin.h>

/*
 * The kernel's isgraph() (lib/ctype.c) is Latin-1: 0x21..0x7e and
 * 0xa1..0xff are graphic; a name is made of graphic characters but '/'.
 */
static inline bool rw_oracle_name_char(unsigned char c)
{
	if (c == '/')
		return false;
	return (c >= 0x21 && c <= 0x7e) || c >= 0xa1;
}

static inline const char *
rw_oracle_invalid(const struct xt_ratewin_mtinfo *info, bool v6)
{
	unsigned int maxmask = v6 ? 128 : 32;
	uint32_t f = info->flags;
	size_t len, i;

	len = strnlen(info->name, XT_RATEWIN_NAME_LEN);
	if (len == XT_RATEWIN_NAME_LEN)
		return "name not NUL terminated";
	if (len == 0)
		return "empty name";
	for (i = 0; i < len; i++)
		if (!rw_oracle_name_char((unsigned char)info->name[i]))
			return "bad character in name";
	if (!strcmp(info->name, ".") || !strcmp(info->name, ".."))
		return "name . or ..";
	if (f & ~(uint32_t)XT_RATEWIN_F_ALL)
		return "unknown flag";
	if (!(f & XT_RATEWIN_F_LIMITS))
		return "no limit";
	if (info->mode & ~XT_RATEWIN_MODE_ALL)
		return "unknown mode bit";
	if (info->srcmask > maxmask || info->dstmask > maxmask)
		return "mask too long";
	if (info->pad0 || info->pad1)
		return "padding not zero";
	for (i = 0; i < sizeof(info->reserved) / sizeof(info->reserved[0]); i++)
		if (info->reserved[i])
			return "reserved not zero";

	if (f & XT_RATEWIN_F_RATE) {
		uint64_t max = f & XT_RATEWIN_F_BYTES ?
			       XT_RATEWIN_BYTES_RATE_MAX : XT_RATEWIN_RATE_MAX;

		if (info->rate_n < 1 || info->rate_n > max)
			return "rate_n out of range";
		/* "1000 (required in byte mode) .. 1 day" */
		if (info->rate_period_ms < 1000 ||
		    info->rate_period_ms > XT_RATEWIN_PERIOD_MAX_MS)
			return "rate_period_ms out of range";
		if ((f & XT_RATEWIN_F_BYTES) && info->rate_period_ms != 1000)
			return "byte rate not per second";
		if (info->burst < 1 || info->burst > XT_RATEWIN_BURST_MAX)
			return "burst out of range";
	} else if (info->rate_n || info->rate_period_ms || info->burst ||
		   (f & XT_RATEWIN_F_BYTES)) {
		return "rate fields without the rate flag";
	}

	if (f & XT_RATEWIN_F_WINDOW) {
		if (info->window_n < 1 ||
		    info->window_n > XT_RATEWIN_WINDOW_N_MAX)
			return "window_n out of range";
		if (info->window_ms < 1 ||
		    info->window_ms > XT_RATEWIN_DURATION_MAX_MS)
			return "window_ms out of range";
	} else if (info->window_n || info->window_ms ||
		   (f & XT_RATEWIN_F_COUNT_ALL)) {
		return "window fields without the window flag";
	}

	if (f & XT_RATEWIN_F_CONN) {
		if (info->conn_above > XT_RATEWIN_CONN_MAX)
			return "conn_above out of range";
	} else if (info->conn_above) {
		return "conn_above without the conn flag";
	}

	if (f & XT_RATEWIN_F_BAN) {
		if (info->ban_ms < 1 || info->ban_ms > XT_RATEWIN_DURATION_MAX_MS)
			return "ban_ms out of range";
	} else if (info->ban_ms) {
		return "ban_ms without the ban flag";
	}

	if (info->htable_size > XT_RATEWIN_SIZE_MAX)
		return "htable_size out of range";
	if (info->htable_max > XT_RATEWIN_MAX_MAX)
		return "htable_max out of range";
	if (info->htable_expire_ms > XT_RATEWIN_EXPIRE_MAX_MS)
		return "htable_expire_ms out of range";
	if (info->htable_gc_ms && (info->htable_gc_ms < XT_RATEWIN_GC_MIN_MS ||
				   info->htable_gc_ms > XT_RATEWIN_GC_MAX_MS))
		return "htable_gc_ms out of range";
	return NULL;
}

#endif /* RATEWIN_MTINFO_ORACLE_H */
