// SPDX-License-Identifier: GPL-2.0
/*
 * kernel/ratewin_key.h: word layout of keys per mode, and prefix masks
 * against a bit-by-bit reference, for every prefix length of both families.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ratewin_key.h"

static int n, failed;

static void check(int cond, const char *what)
{
	n++;
	if (!cond)
		failed++;
	printf("%sok %d - %s\n", cond ? "" : "not ", n, what);
}

/* bit i (0 = most significant of the first byte) of a 16-byte address */
static int bit(const unsigned char *a, int i)
{
	return (a[i / 8] >> (7 - i % 8)) & 1;
}

static int mask_matches_reference(int v6, unsigned int len)
{
	int bits = v6 ? 128 : 32, trial, i;

	for (trial = 0; trial < 64; trial++) {
		u32 w[4];
		unsigned char before[16], *after = (unsigned char *)w;

		for (i = 0; i < 16; i++)
			before[i] = rand() & 0xff;
		if (!v6)	/* IPv4 keys keep words 1..3 zero */
			for (i = 4; i < 16; i++)
				before[i] = 0;
		memcpy(w, before, 16);
		rw_addr_mask(w, v6, len);
		for (i = 0; i < 128; i++) {
			int want = i < bits && (unsigned int)i < len ?
				   bit(before, i) : (i < bits ? 0 : bit(before, i));

			if (len >= (unsigned int)bits)
				want = bit(before, i);
			if (bit(after, i) != want)
				return 0;
		}
	}
	return 1;
}

/* A random key of mode in the wide layout: IPv4 (upper words zero) or not. */
static void random_wide_key(struct rw_key *k, u8 mode, int v6)
{
	int off[2] = { rw_key_src_off(mode), rw_key_dst_off(mode) };
	int p = rw_key_port_off(mode), i, j;

	memset(k, 0, sizeof(*k));
	k->family = v6 ? 10 : RW_KEY_IPV4;
	k->words = rw_key_words(mode);
	for (i = 0; i < 2; i++)
		for (j = 0; off[i] >= 0 && j < (v6 ? 4 : 1); j++)
			k->w[off[i] + j] = (u32)rand() << 1 ^ (u32)rand();
	if (p >= 0)
		k->w[p] = (u32)rand();
}

/* The narrow layout (IPv4 keys of tables without IPv6) and conversions. */
static void narrow_checks(void)
{
	int all_round = 1, all_place = 1, v6_kept = 1, mode, trial;
	struct rw_key k, orig;

	check(rw_key_words_w(0, false) == 1 &&
	      rw_key_words_w(XT_RATEWIN_MODE_SRCIP | XT_RATEWIN_MODE_DSTIP,
			     false) == 2 &&
	      rw_key_words_w(XT_RATEWIN_MODE_ALL, false) == 3,
	      "narrow: an address is one word");
	check(rw_key_dst_off_w(XT_RATEWIN_MODE_SRCIP | XT_RATEWIN_MODE_DSTIP,
			       false) == 1 &&
	      rw_key_port_off_w(XT_RATEWIN_MODE_ALL, false) == 2 &&
	      rw_key_port_off_w(XT_RATEWIN_MODE_DSTPORT, false) == 0,
	      "narrow: offsets");
	for (mode = 1; mode <= XT_RATEWIN_MODE_ALL; mode++) {
		for (trial = 0; trial < 200; trial++) {
			int s = rw_key_src_off(mode), d = rw_key_dst_off(mode);
			int p = rw_key_port_off(mode);

			random_wide_key(&k, mode, 0);
			orig = k;
			if (!rw_key_relayout(&k, mode, false) ||
			    k.words != rw_key_words_w(mode, false))
				all_round = 0;
			if ((s >= 0 && k.w[rw_key_src_off_w(mode, false)] !=
			     orig.w[s]) ||
			    (d >= 0 && k.w[rw_key_dst_off_w(mode, false)] !=
			     orig.w[d]) ||
			    (p >= 0 && k.w[rw_key_port_off_w(mode, false)] !=
			     orig.w[p]))
				all_place = 0;
			if (!rw_key_relayout(&k, mode, true) ||
			    memcmp(&k, &orig, sizeof(k)))
				all_round = 0;
			random_wide_key(&k, mode, 1);
			orig = k;
			if (((mode & (XT_RATEWIN_MODE_SRCIP |
				      XT_RATEWIN_MODE_DSTIP)) &&
			     rw_key_relayout(&k, mode, false)) ||
			    memcmp(&k, &orig, sizeof(k)))
				v6_kept = 0;
		}
	}
	check(all_round, "IPv4 keys of every mode: wide to narrow and back");
	check(all_place, "narrow keys keep every part in its place");
	check(v6_kept, "an IPv6 key is never made narrow, and stays as it was");
	random_wide_key(&k, XT_RATEWIN_MODE_SRCIP, 0);
	k.w[2] = 1;
	orig = k;
	check(!rw_key_relayout(&k, XT_RATEWIN_MODE_SRCIP, false) &&
	      !memcmp(&k, &orig, sizeof(k)),
	      "an address with bits beyond its first word is not made narrow");
	random_wide_key(&k, XT_RATEWIN_MODE_SRCIP, 0);
	k.words = 3;
	check(!rw_key_relayout(&k, XT_RATEWIN_MODE_SRCIP, true),
	      "a key of neither width is refused");
}

int main(void)
{
	char what[96];
	unsigned int len;
	int v6, all;

	srand(1);
	printf("1..%d\n", 13 + 2 + 7);
	check(rw_key_words(0) == 4, "mode 0 means srcip: 4 words");
	check(rw_key_words(XT_RATEWIN_MODE_SRCIP | XT_RATEWIN_MODE_DSTIP) == 8,
	      "srcip,dstip: 8 words");
	check(rw_key_words(XT_RATEWIN_MODE_SRCPORT | XT_RATEWIN_MODE_DSTPORT) == 1,
	      "ports only: 1 word");
	check(rw_key_words(XT_RATEWIN_MODE_ALL) == RW_KEY_MAX_WORDS,
	      "all fields: RW_KEY_MAX_WORDS");
	check(rw_key_src_off(0) == 0 && rw_key_dst_off(0) == -1 &&
	      rw_key_port_off(0) == -1, "srcip: offsets");
	check(rw_key_dst_off(XT_RATEWIN_MODE_DSTIP) == 0,
	      "dstip alone starts at word 0");
	check(rw_key_dst_off(XT_RATEWIN_MODE_SRCIP | XT_RATEWIN_MODE_DSTIP) == 4,
	      "dstip after srcip at word 4");
	check(rw_key_port_off(XT_RATEWIN_MODE_ALL) == 8, "ports last");
	check(rw_key_port_off(XT_RATEWIN_MODE_SRCIP | XT_RATEWIN_MODE_DSTPORT) == 4,
	      "srcip,dstport: ports at word 4");
	check(rw_key_src_off(XT_RATEWIN_MODE_DSTPORT) == -1,
	      "dstport alone has no address");
	check(sizeof(struct rw_key) == 4 + 4 * RW_KEY_MAX_WORDS,
	      "struct rw_key has no hidden padding");
	{
		u32 w[4] = { rw_htonl(0xc0a80117), 0, 0, 0 };	/* 192.168.1.23 */

		rw_addr_mask(w, 0, 24);
		check(w[0] == rw_htonl(0xc0a80100), "192.168.1.23/24 is 192.168.1.0");
		rw_addr_mask(w, 0, 0);
		check(w[0] == 0, "/0 clears the address");
	}
	for (v6 = 0; v6 <= 1; v6++) {
		all = 1;
		for (len = 0; len <= (v6 ? 130U : 34U); len++)
			all &= mask_matches_reference(v6, len);
		snprintf(what, sizeof(what),
			 "%s masks of every prefix length match a bitwise reference",
			 v6 ? "IPv6" : "IPv4");
		check(all, what);
	}
	narrow_checks();
	return failed ? 1 : 0;
}
