/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xt_ratewin keys: the fields a table is keyed on, in a fixed word layout.
 * Pure C, shared with userspace tests (see ratewin_algo.h for the types).
 *
 * Layout, in 32-bit words, each part present only when the mode has it:
 *   source address (4 words), destination address (4 words),
 *   ports (1 word: source port << 16 | destination port, host order).
 * Addresses are in network byte order; an IPv4 address fills the first
 * word and the rest are zero. The family is kept beside the words, so an
 * IPv4 key never equals an IPv6 key.
 */
#ifndef _RATEWIN_KEY_H
#define _RATEWIN_KEY_H

#include "ratewin_algo.h"

#ifdef __KERNEL__
#include <asm/byteorder.h>
#define rw_htonl(x)	((__force u32)cpu_to_be32(x))
#else
#include <arpa/inet.h>
#define rw_htonl(x)	htonl(x)
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

static inline u8 rw_key_words(u8 mode)
{
	mode = rw_mode(mode);
	return (mode & XT_RATEWIN_MODE_SRCIP ? 4 : 0) +
	       (mode & XT_RATEWIN_MODE_DSTIP ? 4 : 0) +
	       (mode & (XT_RATEWIN_MODE_SRCPORT | XT_RATEWIN_MODE_DSTPORT) ?
		1 : 0);
}

/* Word offsets of the parts, or -1 when the mode lacks them. */
static inline int rw_key_src_off(u8 mode)
{
	return rw_mode(mode) & XT_RATEWIN_MODE_SRCIP ? 0 : -1;
}

static inline int rw_key_dst_off(u8 mode)
{
	mode = rw_mode(mode);
	if (!(mode & XT_RATEWIN_MODE_DSTIP))
		return -1;
	return mode & XT_RATEWIN_MODE_SRCIP ? 4 : 0;
}

static inline int rw_key_port_off(u8 mode)
{
	mode = rw_mode(mode);
	if (!(mode & (XT_RATEWIN_MODE_SRCPORT | XT_RATEWIN_MODE_DSTPORT)))
		return -1;
	return rw_key_words(mode) - 1;
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
 * Apply a prefix length to an address of 4 words in network order.
 * len is the prefix in bits for the family (0..32 for IPv4, 0..128 IPv6).
 */
static inline void rw_addr_mask(u32 *a, u8 family_is_v6, u32 len)
{
	u32 bits = family_is_v6 ? 128 : 32, i;

	if (len >= bits)
		return;
	for (i = 0; i < 4; i++)
		a[i] = rw_word_prefix(a[i], len > i * 32 ? len - i * 32 : 0);
}

#endif /* _RATEWIN_KEY_H */
