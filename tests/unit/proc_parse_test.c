// SPDX-License-Identifier: GPL-2.0
/*
 * Host-side tests of the /proc write-command parser (kernel/ratewin_parse.h),
 * the same file the module compiles:
 *   - the address parsers against the C library's inet_pton, on fixed cases
 *     and on random and mutated text;
 *   - commands for every key mode: what is accepted, the key it yields,
 *     masks applied, /LEN and host bits, families, and a list of malformed
 *     commands that must all be refused;
 *   - round trips: a random key printed the way the file shows it parses
 *     back to the same key;
 *   - random bytes: never a crash, and anything accepted is well formed.
 *
 * Output is TAP: one point per group, each failed check a "#" line.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ratewin_parse.h"

static unsigned int checks, failures;

#define CHECK(cond, ...) do {						\
	checks++;							\
	if (!(cond)) {							\
		failures++;						\
		printf("# FAIL: ");					\
		printf(__VA_ARGS__);					\
		printf(" (%s:%d)\n", __FILE__, __LINE__);		\
	}								\
} while (0)

static unsigned int point, points_failed;

/* End a group: one TAP point for the checks since the last one. */
static void group(const char *name)
{
	static unsigned int last_failures;

	point++;
	if (failures == last_failures) {
		printf("ok %u - %s\n", point, name);
	} else {
		printf("not ok %u - %s (%u failed checks)\n", point, name,
		       failures - last_failures);
		points_failed++;
	}
	last_failures = failures;
	fflush(stdout);
}

/* xorshift64*: reproducible */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static unsigned int rndn(unsigned int n)
{
	return (unsigned int)(rnd() % n);
}

#define M_SRC	XT_RATEWIN_MODE_SRCIP
#define M_DST	XT_RATEWIN_MODE_DSTIP
#define M_SP	XT_RATEWIN_MODE_SRCPORT
#define M_DP	XT_RATEWIN_MODE_DSTPORT

static struct rw_cmd_keyspec spec(u8 mode, u8 s4, u8 s6, u8 d4, u8 d6)
{
	struct rw_cmd_keyspec ks = {
		.mode = mode,
		.srcmask = { s4, s6 },
		.dstmask = { d4, d6 },
	};

	return ks;
}

static int parse(const char *cmd, const struct rw_cmd_keyspec *ks,
		 struct rw_key *k)
{
	return rw_cmd_parse(cmd, strlen(cmd), ks, k);
}

/* ---- addresses --------------------------------------------------------- */

static void addr_cases(void)
{
	static const char *const good4[] = {
		"0.0.0.0", "1.2.3.4", "255.255.255.255", "198.51.100.7",
		"10.0.0.1", "100.20.3.0",
	};
	static const char *const bad4[] = {
		"", ".", "1.2.3", "1.2.3.4.", ".1.2.3.4", "1.2.3.4.5",
		"256.1.1.1", "1.2.3.256", "01.2.3.4", "1.2.3.04", "1..3.4",
		"1.2.3.4 ", " 1.2.3.4", "1.2.3.a", "0x1.2.3.4", "1.2.3.-4",
		"1000.2.3.4", "1.2.3.4/", "::1",
	};
	static const char *const good6[] = {
		"::", "::1", "1::", "2001:db8::", "2001:db8::7",
		"fe80::1:2:3:4", "1:2:3:4:5:6:7:8", "::ffff:1.2.3.4",
		"::1.2.3.4", "1:2:3:4:5:6:1.2.3.4", "ABCD:ef01::", "::2:3:4:5:6:7:8",
		"1:2:3:4:5:6:7::", "0:0:0:0:0:0:0:0", "fd00:99:1::2",
		"1::2:3", "1:0::0:1",
	};
	static const char *const bad6[] = {
		"", ":", ":::", "1:", ":1", "1:::2", "1::2::3", "12345::",
		"1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8",
		"g::", "1:2:3:4:5:6:7", "::ffff:1.2.3", "::ffff:1.2.3.4.5",
		"::1.2.3.4:1", "1.2.3.4::", ":: ", " ::", "::%1",
		"1:2:3:4:5:6:7:1.2.3.4", "::01.2.3.4", "1:2:3:4:5:6:7:8:",
	};
	u8 a[16], b[16];
	size_t i;

	for (i = 0; i < sizeof(good4) / sizeof(good4[0]); i++) {
		CHECK(!rw_cmd_pton4(good4[i], strlen(good4[i]), a) &&
		      inet_pton(AF_INET, good4[i], b) == 1 && !memcmp(a, b, 4),
		      "IPv4 \"%s\" accepted as inet_pton does", good4[i]);
	}
	for (i = 0; i < sizeof(bad4) / sizeof(bad4[0]); i++)
		CHECK(rw_cmd_pton4(bad4[i], strlen(bad4[i]), a) == -EINVAL,
		      "IPv4 \"%s\" refused", bad4[i]);
	for (i = 0; i < sizeof(good6) / sizeof(good6[0]); i++) {
		CHECK(!rw_cmd_pton6(good6[i], strlen(good6[i]), a) &&
		      inet_pton(AF_INET6, good6[i], b) == 1 &&
		      !memcmp(a, b, 16),
		      "IPv6 \"%s\" accepted as inet_pton does", good6[i]);
	}
	for (i = 0; i < sizeof(bad6) / sizeof(bad6[0]); i++)
		CHECK(rw_cmd_pton6(bad6[i], strlen(bad6[i]), a) == -EINVAL,
		      "IPv6 \"%s\" refused", bad6[i]);
	/* the length bounds the text: no reading past it */
	CHECK(!rw_cmd_pton4("1.2.3.45", 7, a) && a[3] == 4,
	      "IPv4 parse stops at len");
	CHECK(!rw_cmd_pton6("::1234", 5, a) && a[14] == 0x01 && a[15] == 0x23,
	      "IPv6 parse stops at len");
}

static unsigned int diff_valid;

/* Compare with inet_pton on one string; text need not be terminated. */
static void addr_diff_one(const char *s, size_t len)
{
	char z[64];
	u8 a[16], b[16];
	int mine, libc;

	if (len >= sizeof(z))
		return;
	memcpy(z, s, len);
	z[len] = '\0';
	if (memchr(s, '\0', len))
		return;
	memset(a, 0, sizeof(a));
	mine = rw_cmd_pton4(s, len, a);
	libc = inet_pton(AF_INET, z, b);
	CHECK((mine == 0) == (libc == 1) && (mine || !memcmp(a, b, 4)),
	      "IPv4 \"%s\": ours %d, inet_pton %d", z, mine, libc);
	diff_valid += libc == 1;
	mine = rw_cmd_pton6(s, len, a);
	libc = inet_pton(AF_INET6, z, b);
	CHECK((mine == 0) == (libc == 1) && (mine || !memcmp(a, b, 16)),
	      "IPv6 \"%s\": ours %d, inet_pton %d", z, mine, libc);
	diff_valid += libc == 1;
}

static void addr_differential(void)
{
	static const char alpha[] = "0123456789abcdefABCDEF:.:..::0012fg /%";
	char s[64], t[64];
	unsigned int i, j, len;
	u8 raw[16];

	/* random text over the characters addresses are made of */
	for (i = 0; i < 200000; i++) {
		len = rndn(46);
		for (j = 0; j < len; j++)
			s[j] = alpha[rndn(sizeof(alpha) - 1)];
		addr_diff_one(s, len);
	}
	/* real addresses, then one edit: insert, delete or change a byte */
	for (i = 0; i < 200000; i++) {
		for (j = 0; j < 16; j++)
			raw[j] = rndn(4) ? 0 : (u8)rnd();
		if (rndn(4) == 0) {
			memset(raw, 0, 10);
			raw[10] = raw[11] = 0xff;
		}
		if (rndn(2))
			inet_ntop(AF_INET, raw, s, sizeof(s));
		else
			inet_ntop(AF_INET6, raw, s, sizeof(s));
		len = strlen(s);
		addr_diff_one(s, len);
		j = rndn(len + 1);
		switch (rndn(3)) {
		case 0:
			if (len + 1 >= sizeof(t))
				break;
			memcpy(t, s, j);
			t[j] = alpha[rndn(sizeof(alpha) - 1)];
			memcpy(t + j + 1, s + j, len - j);
			addr_diff_one(t, len + 1);
			break;
		case 1:
			if (j == len)
				break;
			memcpy(t, s, j);
			memcpy(t + j, s + j + 1, len - j - 1);
			addr_diff_one(t, len - 1);
			break;
		default:
			if (j == len)
				break;
			memcpy(t, s, len);
			t[j] = alpha[rndn(sizeof(alpha) - 1)];
			addr_diff_one(t, len);
			break;
		}
	}
	printf("# %u of them valid addresses\n", diff_valid);
}

/* ---- commands ---------------------------------------------------------- */

static void key_is(const char *cmd, const struct rw_cmd_keyspec *ks, int op,
		   u8 family, u8 words, const u32 *w)
{
	struct rw_key k;
	int rc = parse(cmd, ks, &k);

	CHECK(rc == op, "\"%s\": op %d, want %d", cmd, rc, op);
	if (rc != op)
		return;
	CHECK(k.family == family && k.words == words &&
	      !memcmp(k.w, w, words * sizeof(u32)),
	      "\"%s\": key family %u words %u", cmd, k.family, k.words);
}

static u32 a4(const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		abort();
	return a.s_addr;
}

static void a6(const char *s, u32 *w)
{
	if (inet_pton(AF_INET6, s, w) != 1)
		abort();
}

static void command_cases(void)
{
	struct rw_cmd_keyspec src = spec(0, 32, 128, 32, 128);
	struct rw_cmd_keyspec src24 = spec(M_SRC, 24, 64, 32, 128);
	struct rw_cmd_keyspec dst = spec(M_DST, 32, 128, 16, 48);
	struct rw_cmd_keyspec sdp = spec(M_SRC | M_DP, 32, 128, 32, 128);
	struct rw_cmd_keyspec all = spec(M_SRC | M_DST | M_SP | M_DP,
					 32, 128, 32, 128);
	struct rw_cmd_keyspec dp = spec(M_DP, 32, 128, 32, 128);
	struct rw_cmd_keyspec sp_dp = spec(M_SP | M_DP, 32, 128, 32, 128);
	struct rw_key k;
	u32 w[RW_KEY_MAX_WORDS];

	/* flush */
	CHECK(parse("/", &src, &k) == RW_CMD_FLUSH, "\"/\" flushes");
	CHECK(parse("/\n", &src, &k) == RW_CMD_FLUSH, "\"/\\n\" flushes");
	CHECK(rw_cmd_parse("/", 1, &all, &k) == RW_CMD_FLUSH,
	      "\"/\" flushes whatever the mode");

	/* srcip tables: bare address or src= */
	memset(w, 0, sizeof(w));
	w[0] = a4("198.51.100.7");
	key_is("-198.51.100.7", &src, RW_CMD_FORGET, RW_CMD_FAMILY4, 4, w);
	key_is("+198.51.100.7\n", &src, RW_CMD_RECORD, RW_CMD_FAMILY4, 4, w);
	key_is("-src=198.51.100.7", &src, RW_CMD_FORGET, RW_CMD_FAMILY4, 4, w);
	key_is("+src=198.51.100.7/32\n", &src, RW_CMD_RECORD, RW_CMD_FAMILY4,
	       4, w);
	memset(w, 0, sizeof(w));
	a6("2001:db8::7", w);
	key_is("-2001:db8::7", &src, RW_CMD_FORGET, RW_CMD_FAMILY6, 4, w);
	key_is("+src=2001:DB8:0:0::7", &src, RW_CMD_RECORD, RW_CMD_FAMILY6,
	       4, w);
	key_is("+src=2001:db8::7/128", &src, RW_CMD_RECORD, RW_CMD_FAMILY6,
	       4, w);

	/* masks: applied silently without /LEN ... */
	memset(w, 0, sizeof(w));
	w[0] = a4("198.51.100.0");
	key_is("-198.51.100.7", &src24, RW_CMD_FORGET, RW_CMD_FAMILY4, 4, w);
	key_is("-src=198.51.100.200", &src24, RW_CMD_FORGET, RW_CMD_FAMILY4,
	       4, w);
	/* ... and with it, it must be the table's and cover the address */
	key_is("-198.51.100.0/24", &src24, RW_CMD_FORGET, RW_CMD_FAMILY4, 4, w);
	key_is("-src=198.51.100.0/24", &src24, RW_CMD_FORGET, RW_CMD_FAMILY4,
	       4, w);
	CHECK(parse("-198.51.100.7/24", &src24, &k) == -EINVAL,
	      "bits beyond /24 refused");
	CHECK(parse("-198.51.100.0/25", &src24, &k) == -EINVAL,
	      "/25 on a /24 table refused");
	CHECK(parse("-198.51.100.0/16", &src24, &k) == -EINVAL,
	      "/16 on a /24 table refused");
	CHECK(parse("-198.51.100.0/32", &src24, &k) == -EINVAL,
	      "/32 on a /24 table refused");
	CHECK(parse("-198.51.100.0/024", &src24, &k) == -EINVAL,
	      "/024 refused");
	CHECK(parse("-198.51.100.7/32", &src, &k) == RW_CMD_FORGET,
	      "/32 on a /32 table accepted");
	CHECK(parse("-198.51.100.7/33", &src, &k) == -EINVAL, "/33 refused");
	CHECK(parse("-198.51.100.7/", &src, &k) == -EINVAL, "empty / refused");
	memset(w, 0, sizeof(w));
	a6("2001:db8:1:2::", w);
	key_is("-2001:db8:1:2:3:4:5:6", &src24, RW_CMD_FORGET, RW_CMD_FAMILY6,
	       4, w);
	key_is("-src=2001:db8:1:2::/64", &src24, RW_CMD_FORGET,
	       RW_CMD_FAMILY6, 4, w);
	CHECK(parse("-2001:db8:1:2::1/64", &src24, &k) == -EINVAL,
	      "IPv6 bits beyond /64 refused");
	CHECK(parse("-2001:db8:1:2::/24", &src24, &k) == -EINVAL,
	      "IPv6 with the IPv4 prefix refused");
	CHECK(parse("-198.51.100.0/64", &src24, &k) == -EINVAL,
	      "IPv4 with the IPv6 prefix refused");

	/* dstip alone: bare address is the destination */
	memset(w, 0, sizeof(w));
	w[0] = a4("10.1.0.0");
	key_is("+10.1.2.3", &dst, RW_CMD_RECORD, RW_CMD_FAMILY4, 4, w);
	key_is("+dst=10.1.0.0/16", &dst, RW_CMD_RECORD, RW_CMD_FAMILY4, 4, w);
	CHECK(parse("+src=10.1.2.3", &dst, &k) == -EINVAL,
	      "src= on a dstip table refused");

	/* srcip,dstport */
	memset(w, 0, sizeof(w));
	w[0] = a4("1.2.3.4");
	w[4] = 22;
	key_is("-src=1.2.3.4 dport=22", &sdp, RW_CMD_FORGET, RW_CMD_FAMILY4,
	       5, w);
	key_is("-dport=22 src=1.2.3.4\n", &sdp, RW_CMD_FORGET, RW_CMD_FAMILY4,
	       5, w);
	key_is("-dport=00022 src=1.2.3.4", &sdp, RW_CMD_FORGET,
	       RW_CMD_FAMILY4, 5, w);
	CHECK(parse("-1.2.3.4", &sdp, &k) == -EINVAL,
	      "bare address refused where the key has a port");
	CHECK(parse("-src=1.2.3.4", &sdp, &k) == -EINVAL, "half key refused");
	CHECK(parse("-dport=22", &sdp, &k) == -EINVAL, "other half refused");
	CHECK(parse("-src=1.2.3.4 dport=22 sport=1", &sdp, &k) == -EINVAL,
	      "extra field refused");
	CHECK(parse("-src=1.2.3.4 dport=22 dport=22", &sdp, &k) == -EINVAL,
	      "repeated field refused");
	CHECK(parse("-src=1.2.3.4 src=1.2.3.4 dport=22", &sdp, &k) == -EINVAL,
	      "repeated address refused");
	CHECK(parse("-src=1.2.3.4 dport=65536", &sdp, &k) == -EINVAL,
	      "port 65536 refused");
	CHECK(parse("-src=1.2.3.4 dport=100000", &sdp, &k) == -EINVAL,
	      "port 100000 refused");
	CHECK(parse("-src=1.2.3.4 dport=-1", &sdp, &k) == -EINVAL,
	      "port -1 refused");
	CHECK(parse("-src=1.2.3.4 dport=+1", &sdp, &k) == -EINVAL,
	      "port +1 refused");
	CHECK(parse("-src=1.2.3.4 dport=", &sdp, &k) == -EINVAL,
	      "empty port refused");
	CHECK(parse("-src=1.2.3.4 dport=0x16", &sdp, &k) == -EINVAL,
	      "hex port refused");
	CHECK(parse("-src=1.2.3.4  dport=22", &sdp, &k) == -EINVAL,
	      "two spaces refused");
	CHECK(parse("-src=1.2.3.4 dport=22 ", &sdp, &k) == -EINVAL,
	      "trailing space refused");
	CHECK(parse("- src=1.2.3.4 dport=22", &sdp, &k) == -EINVAL,
	      "space after the op refused");
	CHECK(parse("-src=1.2.3.4\tdport=22", &sdp, &k) == -EINVAL,
	      "tab refused");
	CHECK(parse("-src =1.2.3.4 dport=22", &sdp, &k) == -EINVAL,
	      "space in a field refused");
	CHECK(parse("-SRC=1.2.3.4 dport=22", &sdp, &k) == -EINVAL,
	      "upper-case field name refused");
	CHECK(parse("-src=1.2.3.4 dport=22 family=ipv4", &sdp, &k) == -EINVAL,
	      "family= beside an address refused");

	/* all four fields, IPv6 */
	memset(w, 0, sizeof(w));
	a6("2001:db8::1", w);
	a6("2001:db8::2", w + 4);
	w[8] = 40000U << 16 | 443;
	key_is("+src=2001:db8::1 dst=2001:db8::2 sport=40000 dport=443", &all,
	       RW_CMD_RECORD, RW_CMD_FAMILY6, 9, w);
	key_is("+dport=443 dst=2001:db8::2 src=2001:db8::1 sport=40000", &all,
	       RW_CMD_RECORD, RW_CMD_FAMILY6, 9, w);
	CHECK(parse("+src=2001:db8::1 dst=10.0.0.1 sport=1 dport=2", &all,
		    &k) == -EINVAL, "mixed families refused");
	CHECK(parse("+src=10.0.0.1 dst=2001:db8::1 sport=1 dport=2", &all,
		    &k) == -EINVAL, "mixed families refused (other order)");

	/* no address: the family is a field */
	memset(w, 0, sizeof(w));
	w[0] = 53;
	key_is("-dport=53 family=ipv4", &dp, RW_CMD_FORGET, RW_CMD_FAMILY4, 1,
	       w);
	key_is("-family=ipv6 dport=53", &dp, RW_CMD_FORGET, RW_CMD_FAMILY6, 1,
	       w);
	CHECK(parse("-dport=53", &dp, &k) == -EINVAL,
	      "port-only key without family refused");
	CHECK(parse("-dport=53 family=ipv5", &dp, &k) == -EINVAL,
	      "family=ipv5 refused");
	CHECK(parse("-dport=53 family=ipv4 family=ipv4", &dp, &k) == -EINVAL,
	      "repeated family refused");
	CHECK(parse("-53", &dp, &k) == -EINVAL, "bare port refused");
	w[0] = 1U << 16 | 2;
	key_is("+sport=1 dport=2 family=ipv4", &sp_dp, RW_CMD_RECORD,
	       RW_CMD_FAMILY4, 1, w);

	/* malformed commands, for any mode */
	{
		static const char *const bad[] = {
			"", "\n", "\n\n", "//", "/ ", " /", "/\n\n", "/x",
			"-", "+", "-\n", "+\n", "*1.2.3.4", "=1.2.3.4",
			"1.2.3.4", "--1.2.3.4", "-+1.2.3.4", "-1.2.3.4\n\n",
			"-1.2.3.4\r\n", "- 1.2.3.4", "-1.2.3.4 ", "-src=",
			"-src", "-=1.2.3.4", "-src==1.2.3.4", "-src=1.2.3.4=",
			"-foo=1", "-src=1.2.3.4 foo=1", "-1.2.3.4 1.2.3.5",
			"-src=1.2.3.4 src=1.2.3.4", "-dst=1.2.3.4",
			"-sport=1", "-family=ipv4", "-src=::1 family=ipv6",
			"-::1/129", "-1.2.3.4/-1", "-1.2.3.4/+8",
			"-localhost", "-1.2.3.4%eth0", "-[::1]",
		};
		size_t i;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			CHECK(parse(bad[i], &src, &k) == -EINVAL,
			      "\"%s\" refused", bad[i]);
	}
	/* NUL bytes and length */
	CHECK(rw_cmd_parse("/\0", 2, &src, &k) == -EINVAL, "NUL refused");
	CHECK(rw_cmd_parse("-1.2.3.4\0", 9, &src, &k) == -EINVAL,
	      "trailing NUL refused");
	CHECK(rw_cmd_parse("-1.2\0.3.4", 9, &src, &k) == -EINVAL,
	      "inner NUL refused");
	CHECK(rw_cmd_parse("/", 0, &src, &k) == -EINVAL, "empty write refused");
	{
		char big[RW_CMD_MAX + 2];

		memset(big, '0', sizeof(big));
		big[0] = '-';
		CHECK(rw_cmd_parse(big, RW_CMD_MAX + 1, &src, &k) == -EINVAL,
		      "overlong write refused");
		/* the longest legal key fits */
		snprintf(big, sizeof(big), "+src=%s dst=%s sport=65535 dport=65535\n",
			 "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255",
			 "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255");
		CHECK(parse(big, &all, &k) == RW_CMD_RECORD,
		      "longest key accepted (%zu bytes)", strlen(big));
	}
}

/* ---- round trips ------------------------------------------------------- */

/* Print a key the way /proc/net/xt_ratewin/NAME shows it. */
static size_t show_key(char *buf, size_t sz, const struct rw_key *k,
		       const struct rw_cmd_keyspec *ks)
{
	u8 mode = rw_mode(ks->mode), v6 = k->family == RW_CMD_FAMILY6;
	int soff = rw_key_src_off(mode), doff = rw_key_dst_off(mode);
	int poff = rw_key_port_off(mode);
	size_t n = 0;
	char a[64];

	buf[0] = '\0';
	if (soff >= 0) {
		inet_ntop(v6 ? AF_INET6 : AF_INET, &k->w[soff], a, sizeof(a));
		n += snprintf(buf + n, sz - n, "src=%s", a);
		if (ks->srcmask[v6] < (v6 ? 128 : 32))
			n += snprintf(buf + n, sz - n, "/%u", ks->srcmask[v6]);
	}
	if (doff >= 0) {
		inet_ntop(v6 ? AF_INET6 : AF_INET, &k->w[doff], a, sizeof(a));
		n += snprintf(buf + n, sz - n, "%sdst=%s", n ? " " : "", a);
		if (ks->dstmask[v6] < (v6 ? 128 : 32))
			n += snprintf(buf + n, sz - n, "/%u", ks->dstmask[v6]);
	}
	if (poff >= 0 && (mode & M_SP))
		n += snprintf(buf + n, sz - n, "%ssport=%u", n ? " " : "",
			      k->w[poff] >> 16);
	if (poff >= 0 && (mode & M_DP))
		n += snprintf(buf + n, sz - n, "%sdport=%u", n ? " " : "",
			      k->w[poff] & 0xffff);
	if (soff < 0 && doff < 0)
		n += snprintf(buf + n, sz - n, "%sfamily=%s", n ? " " : "",
			      v6 ? "ipv6" : "ipv4");
	return n;
}

static void round_trips(void)
{
	unsigned int i, j;

	for (i = 0; i < 100000; i++) {
		struct rw_cmd_keyspec ks;
		struct rw_key want, got;
		u8 mode = rndn(16), v6 = rndn(2);
		int soff, doff, poff;
		char line[RW_CMD_MAX], cmd[RW_CMD_MAX + 8];
		int op;

		ks = spec(mode, rndn(33), rndn(129), rndn(33), rndn(129));
		mode = rw_mode(mode);
		soff = rw_key_src_off(mode);
		doff = rw_key_dst_off(mode);
		poff = rw_key_port_off(mode);
		memset(&want, 0, sizeof(want));
		want.family = v6 ? RW_CMD_FAMILY6 : RW_CMD_FAMILY4;
		want.words = rw_key_words(mode);
		for (j = 0; j < want.words; j++)
			want.w[j] = (u32)rnd();
		if (soff >= 0) {
			if (!v6)
				memset(&want.w[soff + 1], 0, 12);
			rw_addr_mask(&want.w[soff], v6, ks.srcmask[v6]);
		}
		if (doff >= 0) {
			if (!v6)
				memset(&want.w[doff + 1], 0, 12);
			rw_addr_mask(&want.w[doff], v6, ks.dstmask[v6]);
		}
		if (poff >= 0) {
			if (!(mode & M_SP))
				want.w[poff] &= 0xffff;
			if (!(mode & M_DP))
				want.w[poff] &= 0xffff0000;
		}
		show_key(line, sizeof(line), &want, &ks);
		snprintf(cmd, sizeof(cmd), "%c%s%s", rndn(2) ? '-' : '+', line,
			 rndn(2) ? "\n" : "");
		op = parse(cmd, &ks, &got);
		CHECK(op == (cmd[0] == '-' ? RW_CMD_FORGET : RW_CMD_RECORD) &&
		      got.family == want.family && got.words == want.words &&
		      !memcmp(got.w, want.w, want.words * sizeof(u32)),
		      "round trip of \"%s\" (mode %#x): op %d", cmd, mode, op);
		if (failures > 20)
			break;
	}
}

/* ---- random bytes ------------------------------------------------------ */

static void random_bytes(void)
{
	static const char *const pieces[] = {
		"src=", "dst=", "sport=", "dport=", "family=ipv4",
		"family=ipv6", " ", "1.2.3.4", "::1", "/24", "/64", "/32",
		"=", "-", "+", "/", "\n", ":", ".", "65535", "65536", "0",
	};
	unsigned int i, j, accepted = 0;
	char buf[RW_CMD_MAX + 64];

	for (i = 0; i < 300000; i++) {
		struct rw_cmd_keyspec ks = spec(rndn(16), rndn(33), rndn(129),
						rndn(33), rndn(129));
		struct rw_key k;
		size_t len = 0;
		int op;

		if (rndn(2)) {
			/* bytes */
			len = rndn(sizeof(buf));
			for (j = 0; j < len; j++)
				buf[j] = (char)rnd();
			if (len && rndn(2))
				buf[0] = "-+/"[rndn(3)];
		} else {
			/* pieces of commands */
			buf[len++] = "-+/"[rndn(3)];
			for (j = rndn(8); j > 0; j--) {
				const char *p = pieces[rndn(sizeof(pieces) /
							    sizeof(pieces[0]))];
				size_t pl = strlen(p);

				if (len + pl > sizeof(buf))
					break;
				memcpy(buf + len, p, pl);
				len += pl;
			}
		}
		op = rw_cmd_parse(buf, len, &ks, &k);
		CHECK(op == -EINVAL || op == RW_CMD_FLUSH ||
		      op == RW_CMD_FORGET || op == RW_CMD_RECORD,
		      "random input: result %d", op);
		if (op == RW_CMD_FORGET || op == RW_CMD_RECORD) {
			char line[RW_CMD_MAX], cmd[RW_CMD_MAX + 2];
			struct rw_key again;

			accepted++;
			CHECK(len <= RW_CMD_MAX && !memchr(buf, '\0', len) &&
			      (k.family == RW_CMD_FAMILY4 ||
			       k.family == RW_CMD_FAMILY6) &&
			      k.words == rw_key_words(ks.mode),
			      "accepted random input is well formed");
			/* what was accepted is what the file would show */
			show_key(line, sizeof(line), &k, &ks);
			snprintf(cmd, sizeof(cmd), "-%s", line);
			CHECK(parse(cmd, &ks, &again) == RW_CMD_FORGET &&
			      !memcmp(&again, &k, sizeof(k)),
			      "accepted random input shows as \"%s\"", line);
		}
		if (failures > 20)
			break;
	}
	printf("# random inputs: %u accepted as keys\n", accepted);
}

int main(void)
{
	printf("TAP version 13\n");
	addr_cases();
	group("address parsers: fixed cases");
	addr_differential();
	group("address parsers agree with inet_pton on 600000 random and mutated strings");
	command_cases();
	group("commands: accepted forms, keys, masks, families, malformed ones refused");
	round_trips();
	group("keys as the file shows them parse back to the same key (100000 random)");
	random_bytes();
	group("random bytes: no crash, accepted keys well formed (300000)");
	printf("1..%u\n", point);
	printf("# %u checks, %u failed\n", checks, failures);
	return points_failed ? 1 : 0;
}
