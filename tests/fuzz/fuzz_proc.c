// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz target: the /proc/net/xt_ratewin/NAME write parser
 * (kernel/ratewin_parse.h, the file the module compiles).
 *
 * Input: 5 bytes of table key spec (mode; IPv4 and IPv6 prefix lengths of
 * source and destination), then the bytes of one write(2).
 *
 * Invariants, any broken one aborts:
 *   - the result is -EINVAL or one of the three commands, "/" only for
 *     exactly "/" with an optional newline;
 *   - a key is well formed: as many words as the mode has, nothing set
 *     beyond them, a family, IPv4 addresses in one word, prefix lengths
 *     applied (masking again changes nothing), a port-only key says its
 *     family;
 *   - the key printed the way the file shows it (SPEC section 5) parses
 *     back to the same key, as "-KEY", "+KEY" and with a newline;
 *   - the address parsers agree with the C library's inet_pton on the
 *     raw input (dotted quad without leading zeros; RFC 4291 text);
 *   - parsing is pure: the same input gives the same result twice;
 *   - no undefined behaviour or out-of-bounds access.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include "ratewin_parse.h"
#include "fuzz_common.h"

#define FAM4	RW_CMD_FAMILY4
#define FAM6	RW_CMD_FAMILY6

static void fmt_addr(char *out, size_t len, const u32 *w, bool v6, u8 plen)
{
	char a[INET6_ADDRSTRLEN];
	size_t n;

	inet_ntop(v6 ? AF_INET6 : AF_INET, w, a, sizeof(a));
	n = (size_t)snprintf(out, len, "%s", a);
	if (plen < (v6 ? 128 : 32))
		snprintf(out + n, len - n, "/%u", plen);
}

/* The key as the file shows it: src= dst= sport= dport=, or family=. */
static size_t fmt_key(char *out, size_t len, const struct rw_key *k,
		      const struct rw_cmd_keyspec *ks)
{
	u8 mode = rw_mode(ks->mode), v6 = k->family == FAM6;
	int soff = rw_key_src_off(mode), doff = rw_key_dst_off(mode);
	int poff = rw_key_port_off(mode);
	char a[64];
	size_t n = 0;

	out[0] = '\0';
	if (soff >= 0) {
		fmt_addr(a, sizeof(a), &k->w[soff], v6, ks->srcmask[v6]);
		n += (size_t)snprintf(out + n, len - n, "%ssrc=%s",
				      n ? " " : "", a);
	}
	if (doff >= 0) {
		fmt_addr(a, sizeof(a), &k->w[doff], v6, ks->dstmask[v6]);
		n += (size_t)snprintf(out + n, len - n, "%sdst=%s",
				      n ? " " : "", a);
	}
	if (poff >= 0 && (mode & XT_RATEWIN_MODE_SRCPORT))
		n += (size_t)snprintf(out + n, len - n, "%ssport=%u",
				      n ? " " : "", k->w[poff] >> 16);
	if (poff >= 0 && (mode & XT_RATEWIN_MODE_DSTPORT))
		n += (size_t)snprintf(out + n, len - n, "%sdport=%u",
				      n ? " " : "", k->w[poff] & 0xffff);
	if (soff < 0 && doff < 0)
		n += (size_t)snprintf(out + n, len - n, "%sfamily=%s",
				      n ? " " : "", v6 ? "ipv6" : "ipv4");
	return n;
}

static void check_addr_words(const u32 *w, bool v6, u8 plen, const char *what)
{
	u32 copy[4];

	memcpy(copy, w, sizeof(copy));
	if (!v6)
		FZ_CHECK(!w[1] && !w[2] && !w[3], "%s: IPv4 address beyond "
			 "its word", what);
	rw_addr_mask(copy, v6, plen);
	FZ_CHECK(!memcmp(copy, w, sizeof(copy)), "%s: bits beyond /%u",
		 what, plen);
}

static void check_key(const struct rw_key *k, const struct rw_cmd_keyspec *ks)
{
	u8 mode = rw_mode(ks->mode), v6;
	int soff = rw_key_src_off(mode), doff = rw_key_dst_off(mode);
	unsigned int i;

	FZ_CHECK(k->words == rw_key_words(mode), "key has %u words, mode "
		 "%#x needs %u", k->words, mode, rw_key_words(mode));
	FZ_CHECK(k->family == FAM4 || k->family == FAM6, "key family %u",
		 k->family);
	for (i = k->words; i < RW_KEY_MAX_WORDS; i++)
		FZ_CHECK(!k->w[i], "key word %u set beyond the key", i);
	v6 = k->family == FAM6;
	if (soff >= 0)
		check_addr_words(&k->w[soff], v6, ks->srcmask[v6], "src");
	if (doff >= 0)
		check_addr_words(&k->w[doff], v6, ks->dstmask[v6], "dst");
}

static int parse(const char *buf, size_t len,
		 const struct rw_cmd_keyspec *ks, struct rw_key *key)
{
	struct rw_key again;
	int rc = rw_cmd_parse(buf, len, ks, key), rc2;

	rc2 = rw_cmd_parse(buf, len, ks, &again);
	FZ_CHECK(rc == rc2 && (rc < 0 || !memcmp(key, &again, sizeof(again))),
		 "parsing the same write twice differs");
	return rc;
}

static void roundtrip(const struct rw_key *k, const struct rw_cmd_keyspec *ks)
{
	static const char *const forms[] = { "-%s", "+%s", "-%s\n" };
	static const int ops[] = { RW_CMD_FORGET, RW_CMD_RECORD,
				   RW_CMD_FORGET };
	char text[256], cmd[300];
	struct rw_key back;
	unsigned int i;
	int rc;

	fmt_key(text, sizeof(text), k, ks);
	for (i = 0; i < 3; i++) {
		snprintf(cmd, sizeof(cmd), forms[i], text);
		rc = parse(cmd, strlen(cmd), ks, &back);
		FZ_CHECK(rc == ops[i], "the key as shown, \"%s\", is refused "
			 "(%d)", text, rc);
		FZ_CHECK(!memcmp(&back, k, sizeof(back)), "\"%s\" parses to "
			 "another key", text);
	}
}

/* rw_cmd_pton4/6 against inet_pton on the raw bytes. */
static void differential(const char *s, size_t len)
{
	char z[80];
	u8 mine[16], libc[16];
	int a, b;

	if (!len || len >= sizeof(z) || memchr(s, '\0', len))
		return;
	memcpy(z, s, len);
	z[len] = '\0';
	a = rw_cmd_pton4(s, len, mine) == 0;
	b = inet_pton(AF_INET, z, libc) == 1;
	FZ_CHECK(a == b, "IPv4 \"%s\": parser %d, inet_pton %d", z, a, b);
	FZ_CHECK(!a || !memcmp(mine, libc, 4), "IPv4 \"%s\": other value", z);
	a = rw_cmd_pton6(s, len, mine) == 0;
	b = inet_pton(AF_INET6, z, libc) == 1;
	FZ_CHECK(a == b, "IPv6 \"%s\": parser %d, inet_pton %d", z, a, b);
	FZ_CHECK(!a || !memcmp(mine, libc, 16), "IPv6 \"%s\": other value",
		 z);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	struct rw_cmd_keyspec ks;
	struct rw_key key;
	const char *buf;
	size_t len;
	int rc;

	memset(&ks, 0, sizeof(ks));
	ks.mode = rw_mode(fz_u8(&in) & XT_RATEWIN_MODE_ALL);
	ks.srcmask[0] = fz_u8(&in) % 33;
	ks.srcmask[1] = fz_u8(&in) % 129;
	ks.dstmask[0] = fz_u8(&in) % 33;
	ks.dstmask[1] = fz_u8(&in) % 129;
	buf = (const char *)in.p;
	len = in.n;

	rc = parse(buf, len, &ks, &key);
	FZ_CHECK(rc == -EINVAL || rc == RW_CMD_FLUSH || rc == RW_CMD_FORGET ||
		 rc == RW_CMD_RECORD, "result %d", rc);
	if (rc == RW_CMD_FLUSH)
		FZ_CHECK((len == 1 && buf[0] == '/') ||
			 (len == 2 && buf[0] == '/' && buf[1] == '\n'),
			 "flush from a write other than \"/\"");
	if (rc == RW_CMD_FORGET || rc == RW_CMD_RECORD) {
		FZ_CHECK(buf[0] == (rc == RW_CMD_FORGET ? '-' : '+'),
			 "command and first byte disagree");
		check_key(&key, &ks);
		roundtrip(&key, &ks);
	}
	differential(buf, len);
	if (len > 1 && (buf[0] == '-' || buf[0] == '+'))
		differential(buf + 1, len - 1);
	return 0;
}
