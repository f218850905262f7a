/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xt_ratewin keys: the fields a table is keyed on, in a fixed word layout.
 * Pure C, shared with userspace tests (see ratewin_algo.h for the types).
 *
 * Layout, in 32-bit words, each part present only when the mode has it:
 *   source address, destination address,
 *   ports (1 word: source port << 16 | destination port, host order).
 * Addresses are in network byte order, in one of two widths: wide, 4
 * words an address (an IPv4 address fills the first and the rest are
 * zero), or narrow, 1 word (IPv4 only). A table that holds only IPv4 keys
 * stores them narrow; /proc commands parse and print the wide form. The
 * family is kept beside the words, so an IPv4 key never equals an IPv6
 * key.
 */
#ifndef _RATEWIN_KEY_H
#define _RATEWIN_KEY_H

#include "ratewin_algo.h"

#ifdef __KERNEL__
#include <asm/byteorder.h>
#include <linux/netfilter.h>
#define rw_htonl(x)	((__force u32)cpu_to_be32(x))
#define RW_KEY_IPV4	NFPROTO_IPV4
#else
#include <arpa/inet.h>
#define rw_htonl(x)	htonl(x)
#define RW_KEY_IPV4	2	/* NFPROTO_IPV4: fixed by the ABI */
#endif

#define RW_KEY_MAX_WORDS	9

struct rw_key {
	u8	family;		/* NFPROTO_IPV4 or NFPROTO_IPV6 */
	u8	words;		/* used words in w[] */
	u16	pad;
	u32	w[RW_KEY_MAX_WORDS];
};

static inline u8 rw_mode(u8 mode)
{
	return mode ? mode : XT_RATEWIN_MODE_SRCIP;
}

/* Words an address takes in the wide or the narrow layout. */
static inline u8 rw_key_addr_words(bool wide)
{
	return wide ? 4 : 1;
}

static inline u8 rw_key_words_w(u8 mode, bool wide)
{
	mode = rw_mode(mode);
	return (mode & XT_RATEWIN_MODE_SRCIP ? rw_key_addr_words(wide) : 0) +
	       (mode & XT_RATEWIN_MODE_DSTIP ? rw_key_addr_words(wide) : 0) +
	       (mode & (XT_RATEWIN_MODE_SRCPORT | XT_RATEWIN_MODE_DSTPORT) ?
		1 : 0);
}

/* Word offsets of the parts, or -1 when the mode lacks them. */
static inline int rw_key_src_off_w(u8 mode, bool wide)
{
	(void)wide;	/* the source address comes first in both */
	return rw_mode(mode) & XT_RATEWIN_MODE_SRCIP ? 0 : -1;
}

static inline int rw_key_dst_off_w(u8 mode, bool wide)
{
	mode = rw_mode(mode);
	if (!(mode & XT_RATEWIN_MODE_DSTIP))
		return -1;
	return mode & XT_RATEWIN_MODE_SRCIP ? rw_key_addr_words(wide) : 0;
}

static inline int rw_key_port_off_w(u8 mode, bool wide)
{
	mode = rw_mode(mode);
	if (!(mode & (XT_RATEWIN_MODE_SRCPORT | XT_RATEWIN_MODE_DSTPORT)))
		return -1;
	return rw_key_words_w(mode, wide) - 1;
}

/* The wide layout, the one /proc commands are parsed into. */
static inline u8 rw_key_words(u8 mode)
{
	return rw_key_words_w(mode, true);
}

static inline int rw_key_src_off(u8 mode)
{
	return rw_key_src_off_w(mode, true);
}

static inline int rw_key_dst_off(u8 mode)
{
	return rw_key_dst_off_w(mode, true);
}

static inline int rw_key_port_off(u8 mode)
{
	return rw_key_port_off_w(mode, true);
}

/*
 * Lay a key of mode out in the wide or the narrow form, from whichever it
 * is in (its words tell). False, and k unchanged, where it cannot be: an
 * IPv6 key, or an address with bits beyond its first word, made narrow.
 */
static inline bool rw_key_relayout(struct rw_key *k, u8 mode, bool wide)
{
	int from[3] = { rw_key_src_off_w(mode, !wide),
			rw_key_dst_off_w(mode, !wide),
			rw_key_port_off_w(mode, !wide) };
	int to[3] = { rw_key_src_off_w(mode, wide),
		      rw_key_dst_off_w(mode, wide),
		      rw_key_port_off_w(mode, wide) };
	u32 w[RW_KEY_MAX_WORDS] = { 0 };
	int i;

	if (k->words == rw_key_words_w(mode, wide))
		return true;
	if (k->words != rw_key_words_w(mode, !wide) ||
	    (!wide && k->family != RW_KEY_IPV4))
		return false;
	for (i = 0; i < 3; i++) {
		if (from[i] < 0)
			continue;
		/* an address (parts 0 and 1) made narrow keeps one word */
		if (i < 2 && !wide && (k->w[from[i] + 1] | k->w[from[i] + 2] |
				       k->w[from[i] + 3]))
			return false;
		w[to[i]] = k->w[from[i]];
	}
	memcpy(k->w, w, sizeof(w));
	k->words = rw_key_words_w(mode, wide);
	return true;
}

/*
 * A 32-bit word of an address in network order (an IPv4 address, or one
 * word of an IPv6 one) cut to its first len bits; len >= 32 keeps it all.
 */
static inline u32 rw_word_prefix(u32 w, u32 len)
{
	if (len >= 32)
		return w;
	return len ? w & rw_htonl(~0U << (32 - len)) : 0;
}

/*
 * Apply a prefix length to an address in network order: 4 words for
 * IPv6, the first word alone for IPv4. len is the prefix in bits for the
 * family (0..32 for IPv4, 0..128 IPv6).
 */
static inline void rw_addr_mask(u32 *a, u8 family_is_v6, u32 len)
{
	u32 i;

	/* an IPv4 address is one word (the others, in a wide key, zero) */
	if (!family_is_v6) {
		a[0] = rw_word_prefix(a[0], len);
		return;
	}
	if (len >= 128)
		return;
	for (i = 0; i < 4; i++)
		a[i] = rw_word_prefix(a[i], len > i * 32 ? len - i * 32 : 0);
}

#endif /* _RATEWIN_KEY_H */
