/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xt_ratewin: the parser of /proc/net/xt_ratewin/NAME write commands.
 *
 * Pure C over a byte buffer, no allocation, no locking, no kernel-only
 * calls: the module calls it from its write handler and
 * tests/unit/proc_parse_test.c compiles this same file in userspace.
 *
 * One command per write:
 *   /            flush the table
 *   -KEY         forget the entry of KEY
 *   +KEY         record one admitted event for KEY now
 * optionally followed by one newline. KEY is the entry's key fields as the
 * file shows them, separated by single spaces, in any order:
 *   src=ADDR[/LEN]  dst=ADDR[/LEN]  sport=PORT  dport=PORT
 * plus family=ipv4|ipv6 when the table's key has no address (port-only
 * modes), since such a key exists once per family. Every field of the
 * table's mode is required and no other is allowed. Where the key is one
 * address (mode srcip or dstip alone) a bare ADDR[/LEN] is accepted too.
 *
 * ADDR is dotted-quad IPv4 (no leading zeros) or IPv6 text (RFC 4291, with
 * "::" and an embedded dotted quad). All addresses of a key have the same
 * family. The table's prefix length for the field and family is applied to
 * the address; a written /LEN must equal it, and the address must then have
 * no bit set beyond it (1.2.3.0/24, not 1.2.3.4/24). PORT is 0..65535 in
 * decimal. Anything else is malformed: -EINVAL.
 */
#ifndef _RATEWIN_PROC_PARSE_H
#define _RATEWIN_PROC_PARSE_H

#include "ratewin_key.h"

#ifdef __KERNEL__
#include <linux/errno.h>
#include <linux/netfilter.h>
#define RW_CMD_FAMILY4	NFPROTO_IPV4
#define RW_CMD_FAMILY6	NFPROTO_IPV6
#else
#include <errno.h>
#include <stddef.h>
/* NFPROTO_IPV4 and NFPROTO_IPV6: fixed by the ABI */
#define RW_CMD_FAMILY4	2
#define RW_CMD_FAMILY6	10
#endif

/* Longest accepted write, newline included. */
#define RW_CMD_MAX	256

enum rw_cmd_op {
	RW_CMD_FLUSH = 1,
	RW_CMD_FORGET,
	RW_CMD_RECORD,
};

/* What a key looks like in a table: its mode and prefix lengths. */
struct rw_cmd_keyspec {
	u8	mode;		/* XT_RATEWIN_MODE_*; 0 means srcip */
	u8	srcmask[2];	/* [0] IPv4 (0..32), [1] IPv6 (0..128) */
	u8	dstmask[2];
};

static inline int rw_cmd_hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Dotted quad, exactly len bytes, no leading zeros. 0 or -EINVAL. */
static inline int rw_cmd_pton4(const char *s, size_t len, u8 *out)
{
	u8 tmp[4];
	u32 val = 0, parts = 0, digits = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		char ch = s[i];

		if (ch >= '0' && ch <= '9') {
			if (digits && !val)
				return -EINVAL;	/* leading zero */
			val = val * 10 + (u32)(ch - '0');
			if (val > 255)
				return -EINVAL;
			digits++;
		} else if (ch == '.') {
			if (!digits || parts == 3)
				return -EINVAL;
			tmp[parts++] = (u8)val;
			val = 0;
			digits = 0;
		} else {
			return -EINVAL;
		}
	}
	if (!digits || parts != 3)
		return -EINVAL;
	tmp[3] = (u8)val;
	memcpy(out, tmp, sizeof(tmp));
	return 0;
}

/*
 * IPv6 text, exactly len bytes: up to eight groups of 1 to 4 hex digits
 * separated by ':', one "::" standing for one or more zero groups, and
 * optionally a dotted quad as the last 32 bits. 0 or -EINVAL.
 */
static inline int rw_cmd_pton6(const char *s, size_t len, u8 *out)
{
	u8 tmp[16];
	size_t i = 0, tok = 0, n = 0, gap = 0, digits = 0;
	bool have_gap = false;
	u32 val = 0;

	if (!len)
		return -EINVAL;
	memset(tmp, 0, sizeof(tmp));
	if (s[0] == ':') {
		if (len < 2 || s[1] != ':')
			return -EINVAL;
		i = 1;		/* the second ':' opens the gap below */
	}
	tok = i;
	for (; i < len; i++) {
		char ch = s[i];
		int d = rw_cmd_hexval(ch);

		if (d >= 0) {
			if (digits == 4)
				return -EINVAL;
			val = val << 4 | (u32)d;
			digits++;
			continue;
		}
		if (ch == ':') {
			tok = i + 1;
			if (!digits) {
				/* "::" (or the leading one) */
				if (have_gap)
					return -EINVAL;
				have_gap = true;
				gap = n;
				continue;
			}
			if (i + 1 == len || n + 2 > 16)
				return -EINVAL;	/* trailing single ':' */
			tmp[n++] = (u8)(val >> 8);
			tmp[n++] = (u8)val;
			val = 0;
			digits = 0;
			continue;
		}
		if (ch == '.') {
			/* the dotted quad runs from tok to the end */
			if (n + 4 > 16 || rw_cmd_pton4(s + tok, len - tok,
						       tmp + n))
				return -EINVAL;
			n += 4;
			digits = 0;
			break;
		}
		return -EINVAL;
	}
	if (digits) {
		if (n + 2 > 16)
			return -EINVAL;
		tmp[n++] = (u8)(val >> 8);
		tmp[n++] = (u8)val;
	}
	if (have_gap) {
		size_t tail = n - gap;

		if (n == 16)
			return -EINVAL;	/* "::" must stand for something */
		memmove(tmp + 16 - tail, tmp + gap, tail);
		memset(tmp + gap, 0, 16 - tail - gap);
		n = 16;
	}
	if (n != 16)
		return -EINVAL;
	memcpy(out, tmp, sizeof(tmp));
	return 0;
}

/* Decimal, 1..digits_max digits, at most max. 0 or -EINVAL. */
static inline int rw_cmd_uint(const char *s, size_t len, u32 digits_max,
			      u32 max, u32 *out)
{
	u32 v = 0;
	size_t i;

	if (!len || len > digits_max)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (u32)(s[i] - '0');
	}
	if (v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/*
 * ADDR[/LEN] into 4 words (network order) with the table's prefix lengths
 * for the field (masks[0] IPv4, masks[1] IPv6) applied. *family is set, or
 * checked when already set by another field of the key.
 */
static inline int rw_cmd_addr(const char *s, size_t len, const u8 *masks,
			      u8 *family, u32 *w)
{
	const char *slash = memchr(s, '/', len);
	size_t alen = slash ? (size_t)(slash - s) : len;
	bool v6 = memchr(s, ':', alen) != NULL;
	u8 fam = v6 ? RW_CMD_FAMILY6 : RW_CMD_FAMILY4;
	u32 plen, mask = masks[v6], full = v6 ? 128 : 32;
	u32 orig[4];
	int err;

	if (*family && *family != fam)
		return -EINVAL;
	memset(orig, 0, sizeof(orig));
	err = v6 ? rw_cmd_pton6(s, alen, (u8 *)orig) :
		   rw_cmd_pton4(s, alen, (u8 *)orig);
	if (err)
		return err;
	memcpy(w, orig, sizeof(orig));
	rw_addr_mask(w, v6, mask);
	if (slash) {
		if (rw_cmd_uint(slash + 1, len - alen - 1, 3, full, &plen))
			return -EINVAL;
		/* no leading zeros: the prefix is written as the file shows */
		if (len - alen - 1 > 1 && slash[1] == '0')
			return -EINVAL;
		if (plen != (mask < full ? mask : full))
			return -EINVAL;
		if (memcmp(w, orig, sizeof(orig)))
			return -EINVAL;	/* bits set beyond the prefix */
	}
	*family = fam;
	return 0;
}

static inline bool rw_cmd_field_is(const char *s, size_t len, const char *name)
{
	size_t n = strlen(name);

	return len == n && !memcmp(s, name, n);
}

/* KEY (after the '-' or '+') into key for the table described by ks. */
static inline int rw_cmd_key(const char *s, size_t len,
			     const struct rw_cmd_keyspec *ks, struct rw_key *key)
{
	u8 mode = rw_mode(ks->mode), seen = 0, family = 0, fam_field = 0;
	int soff = rw_key_src_off(mode), doff = rw_key_dst_off(mode);
	int poff = rw_key_port_off(mode);
	bool has_addr = mode & (XT_RATEWIN_MODE_SRCIP | XT_RATEWIN_MODE_DSTIP);
	u32 port;
	size_t i = 0;
	int err;

	memset(key, 0, sizeof(*key));
	key->words = rw_key_words(mode);
	if (!len)
		return -EINVAL;

	/* a bare address, where the key is one address */
	if (!memchr(s, '=', len)) {
		if (mode == XT_RATEWIN_MODE_SRCIP)
			err = rw_cmd_addr(s, len, ks->srcmask, &family,
					  &key->w[soff]);
		else if (mode == XT_RATEWIN_MODE_DSTIP)
			err = rw_cmd_addr(s, len, ks->dstmask, &family,
					  &key->w[doff]);
		else
			err = -EINVAL;
		if (err)
			return -EINVAL;
		key->family = family;
		return 0;
	}

	while (i < len) {
		const char *f = s + i, *eq, *sp;
		size_t flen, nlen, vlen;
		const char *v;
		u8 bit;

		sp = memchr(f, ' ', len - i);
		flen = sp ? (size_t)(sp - f) : len - i;
		if (sp && (size_t)(sp - s) + 1 == len)
			return -EINVAL;	/* trailing space */
		i += flen + (sp ? 1 : 0);
		eq = memchr(f, '=', flen);
		if (!eq)
			return -EINVAL;
		nlen = (size_t)(eq - f);
		v = eq + 1;
		vlen = flen - nlen - 1;
		if (rw_cmd_field_is(f, nlen, "src")) {
			bit = XT_RATEWIN_MODE_SRCIP;
		} else if (rw_cmd_field_is(f, nlen, "dst")) {
			bit = XT_RATEWIN_MODE_DSTIP;
		} else if (rw_cmd_field_is(f, nlen, "sport")) {
			bit = XT_RATEWIN_MODE_SRCPORT;
		} else if (rw_cmd_field_is(f, nlen, "dport")) {
			bit = XT_RATEWIN_MODE_DSTPORT;
		} else if (rw_cmd_field_is(f, nlen, "family")) {
			/* only where the key has no address to tell it */
			if (has_addr || fam_field)
				return -EINVAL;
			if (rw_cmd_field_is(v, vlen, "ipv4"))
				fam_field = RW_CMD_FAMILY4;
			else if (rw_cmd_field_is(v, vlen, "ipv6"))
				fam_field = RW_CMD_FAMILY6;
			else
				return -EINVAL;
			continue;
		} else {
			return -EINVAL;
		}
		if (!(mode & bit) || (seen & bit))
			return -EINVAL;
		seen |= bit;
		switch (bit) {
		case XT_RATEWIN_MODE_SRCIP:
			err = rw_cmd_addr(v, vlen, ks->srcmask, &family,
					  &key->w[soff]);
			break;
		case XT_RATEWIN_MODE_DSTIP:
			err = rw_cmd_addr(v, vlen, ks->dstmask, &family,
					  &key->w[doff]);
			break;
		default:
			err = rw_cmd_uint(v, vlen, 5, 65535, &port);
			if (!err)
				key->w[poff] |= bit == XT_RATEWIN_MODE_SRCPORT ?
						port << 16 : port;
			break;
		}
		if (err)
			return -EINVAL;
	}
	if (seen != mode)
		return -EINVAL;
	if (!has_addr) {
		if (!fam_field)
			return -EINVAL;
		family = fam_field;
	}
	key->family = family;
	return 0;
}

/*
 * Parse one write of len bytes (not NUL terminated; NUL bytes are
 * malformed). Returns the enum rw_cmd_op, with key filled for FORGET and
 * RECORD, or -EINVAL.
 */
static inline int rw_cmd_parse(const char *buf, size_t len,
			       const struct rw_cmd_keyspec *ks,
			       struct rw_key *key)
{
	int op;

	memset(key, 0, sizeof(*key));
	if (!len || len > RW_CMD_MAX || memchr(buf, '\0', len))
		return -EINVAL;
	if (buf[len - 1] == '\n')
		len--;
	if (!len)
		return -EINVAL;
	switch (buf[0]) {
	case '/':
		return len == 1 ? RW_CMD_FLUSH : -EINVAL;
	case '-':
		op = RW_CMD_FORGET;
		break;
	case '+':
		op = RW_CMD_RECORD;
		break;
	default:
		return -EINVAL;
	}
	if (rw_cmd_key(buf + 1, len - 1, ks, key))
		return -EINVAL;
	return op;
}

#endif /* _RATEWIN_PROC_PARSE_H */
