// SPDX-License-Identifier: GPL-2.0
/*
 * Host-side tests of the plugin's parsing and formatting helpers
 * (userspace/ratewin_parse.c): accepted and refused inputs, the limits of
 * the ABI header, overflow edges, and format -> parse round trips of the
 * canonical forms over random values.
 *
 * Build and run: make -C userspace check
 * Output is TAP (one test; each failed check is a diagnostic line);
 * exit status 0 when every check passes.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netfilter/xt_ratewin.h>
#include "ratewin_parse.h"

static unsigned int tests, failures;

#define CHECK(cond, ...) do {						\
	tests++;							\
	if (!(cond)) {							\
		failures++;						\
		printf("# FAIL: ");					\
		printf(__VA_ARGS__);					\
		printf(" (%s:%d)\n", __FILE__, __LINE__);		\
	}								\
} while (0)

static char err[RW_ERRLEN];

static void rate_ok(const char *s, uint64_t n, uint32_t period, bool bytes,
		    const char *canon)
{
	struct rw_rate r;
	char buf[RW_FMTLEN];
	int rc = rw_parse_rate(s, &r, err, sizeof(err));

	CHECK(rc == 0, "rate \"%s\" accepted: %s", s, rc ? err : "");
	if (rc)
		return;
	CHECK(r.n == n && r.period_ms == period && r.bytes == bytes,
	      "rate \"%s\" = %" PRIu64 "/%" PRIu32 "ms bytes %d", s, r.n,
	      r.period_ms, r.bytes);
	rw_fmt_rate(buf, r.n, r.period_ms, r.bytes);
	CHECK(!strcmp(buf, canon), "rate \"%s\" prints \"%s\", want \"%s\"",
	      s, buf, canon);
}

static void rate_bad(const char *s)
{
	struct rw_rate r;

	err[0] = '\0';
	CHECK(rw_parse_rate(s, &r, err, sizeof(err)) == -1 && err[0] &&
	      !strchr(err, '\n'), "rate \"%s\" refused with one line", s);
}

static void window_ok(const char *s, uint32_t n, uint64_t ms,
		      const char *canon)
{
	uint32_t gn;
	uint64_t gms;
	char buf[RW_FMTLEN], full[2 * RW_FMTLEN];
	int rc = rw_parse_window(s, &gn, &gms, err, sizeof(err));

	CHECK(rc == 0, "window \"%s\" accepted: %s", s, rc ? err : "");
	if (rc)
		return;
	CHECK(gn == n && gms == ms, "window \"%s\" = %u/%" PRIu64 "ms", s,
	      gn, gms);
	snprintf(full, sizeof(full), "%u/%s", gn, rw_fmt_duration(buf, gms));
	CHECK(!strcmp(full, canon), "window \"%s\" prints \"%s\", want \"%s\"",
	      s, full, canon);
}

static void window_bad(const char *s)
{
	uint32_t n;
	uint64_t ms;

	err[0] = '\0';
	CHECK(rw_parse_window(s, &n, &ms, err, sizeof(err)) == -1 && err[0],
	      "window \"%s\" refused", s);
}

static void burst_ok(const char *s, uint64_t v, bool unit)
{
	uint64_t g;
	bool u;
	int rc = rw_parse_burst(s, &g, &u, err, sizeof(err));

	CHECK(rc == 0 && g == v && u == unit, "burst \"%s\" = %" PRIu64,
	      s, v);
}

static void burst_bad(const char *s)
{
	uint64_t g;
	bool u;

	CHECK(rw_parse_burst(s, &g, &u, err, sizeof(err)) == -1,
	      "burst \"%s\" refused", s);
}

static void mode_ok(const char *s, uint8_t want, const char *canon)
{
	uint8_t m;
	char buf[RW_FMTLEN];
	int rc = rw_parse_mode(s, &m, err, sizeof(err));

	CHECK(rc == 0 && m == want, "mode \"%s\" = %#x", s, want);
	if (!rc)
		CHECK(!strcmp(rw_fmt_mode(buf, m), canon),
		      "mode \"%s\" prints \"%s\"", s, buf);
}

static void mode_bad(const char *s)
{
	uint8_t m;

	CHECK(rw_parse_mode(s, &m, err, sizeof(err)) == -1,
	      "mode \"%s\" refused", s);
}

static void name_case(const char *s, bool ok)
{
	CHECK((rw_check_name(s, err, sizeof(err)) == 0) == ok,
	      "name \"%s\" %s", s, ok ? "accepted" : "refused");
}

static void duration_case(const char *s, uint64_t min, uint64_t max,
			  int want_rc, uint64_t want)
{
	uint64_t v = 0;
	int rc = rw_parse_duration(s, min, max, &v, err, sizeof(err));

	CHECK(rc == want_rc && (rc || v == want),
	      "duration \"%s\" -> rc %d value %" PRIu64, s, rc, v);
}

static uint64_t rnd64(void)
{
	return ((uint64_t)random() << 33) ^ ((uint64_t)random() << 11) ^
	       (uint64_t)random();
}

static void round_trips(void)
{
	static const uint64_t units[] = { 1, 1000, 60000, 3600000, 86400000 };
	static const uint32_t periods[] = { 1000, 60000, 3600000, 86400000 };
	char buf[RW_FMTLEN], tmp[2 * RW_FMTLEN];
	struct rw_rate r;
	unsigned int i;
	uint64_t v, g;
	uint32_t n;
	uint8_t m;
	bool u;

	srandom(20240601);
	for (i = 0; i < 200000; i++) {
		/* durations: random multiples of each unit, and raw ms */
		v = (rnd64() % (XT_RATEWIN_DURATION_MAX_MS /
				units[i % 5])) + 1;
		v *= units[i % 5];
		rw_fmt_duration(buf, v);
		CHECK(rw_parse_duration(buf, 1, XT_RATEWIN_DURATION_MAX_MS,
					&g, err, sizeof(err)) == 0 && g == v,
		      "duration %" PRIu64 " -> \"%s\" -> %" PRIu64, v, buf, g);

		/* windows */
		n = (uint32_t)(rnd64() % XT_RATEWIN_WINDOW_N_MAX) + 1;
		snprintf(tmp, sizeof(tmp), "%u/%s", n, buf);
		CHECK(rw_parse_window(tmp, &n, &g, err, sizeof(err)) == 0 &&
		      g == v, "window \"%s\" round trip", tmp);

		/* packet rates over every named period and odd periods */
		v = rnd64() % XT_RATEWIN_RATE_MAX + 1;
		n = i % 5 < 4 ? periods[i % 5] :
		    (uint32_t)(rnd64() % (86400000 - 1000 + 1)) + 1000;
		rw_fmt_rate(buf, v, n, false);
		CHECK(rw_parse_rate(buf, &r, err, sizeof(err)) == 0 &&
		      r.n == v && r.period_ms == n && !r.bytes,
		      "rate %" PRIu64 "/%ums -> \"%s\"", v, n, buf);

		/* byte rates, biased towards exact kb and mb */
		v = rnd64() % XT_RATEWIN_BYTES_RATE_MAX + 1;
		if (i % 3 == 1)
			v = (v >> 10 << 10) ? (v >> 10 << 10) : 1024;
		if (i % 3 == 2)
			v = (v >> 20 << 20) ? (v >> 20 << 20) : 1 << 20;
		rw_fmt_rate(buf, v, 1000, true);
		CHECK(rw_parse_rate(buf, &r, err, sizeof(err)) == 0 &&
		      r.n == v && r.period_ms == 1000 && r.bytes,
		      "byte rate %" PRIu64 " -> \"%s\"", v, buf);

		/* byte bursts */
		v = rnd64() % XT_RATEWIN_BURST_MAX + 1;
		if (i % 3 == 1)
			v = (v >> 10 << 10) ? (v >> 10 << 10) : 1024;
		rw_fmt_bytes(buf, v);
		CHECK(rw_parse_burst(buf, &g, &u, err, sizeof(err)) == 0 &&
		      g == v, "burst %" PRIu64 " -> \"%s\"", v, buf);
	}
	for (m = 1; m <= XT_RATEWIN_MODE_ALL; m++) {
		uint8_t back;

		rw_fmt_mode(buf, m);
		CHECK(rw_parse_mode(buf, &back, err, sizeof(err)) == 0 &&
		      back == m, "mode %#x -> \"%s\"", m, buf);
	}
}

int main(void)
{
	uint64_t v;
	uint8_t p;

	/* rates, as in the specification and hashlimit */
	rate_ok("10/second", 10, 1000, false, "10/second");
	rate_ok("10/s", 10, 1000, false, "10/second");
	rate_ok("10/sec", 10, 1000, false, "10/second");
	rate_ok("10/SEC", 10, 1000, false, "10/second");
	rate_ok("10", 10, 1000, false, "10/second");
	rate_ok("50/minute", 50, 60000, false, "50/minute");
	rate_ok("50/min", 50, 60000, false, "50/minute");
	rate_ok("50/m", 50, 60000, false, "50/minute");
	rate_ok("1/hour", 1, 3600000, false, "1/hour");
	rate_ok("1/h", 1, 3600000, false, "1/hour");
	rate_ok("1/day", 1, 86400000, false, "1/day");
	rate_ok("1/d", 1, 86400000, false, "1/day");
	rate_ok("3/10s", 3, 10000, false, "3/10s");
	rate_ok("3/1500ms", 3, 1500, false, "3/1500ms");
	rate_ok("3/60s", 3, 60000, false, "3/minute");
	rate_ok("3/24h", 3, 86400000, false, "3/day");
	rate_ok("1000000000/s", 1000000000, 1000, false, "1000000000/second");
	rate_ok("512kb/s", 512 * 1024, 1000, true, "512kb/s");
	rate_ok("512KB/s", 512 * 1024, 1000, true, "512kb/s");
	rate_ok("512kb/sec", 512 * 1024, 1000, true, "512kb/s");
	rate_ok("512kb/second", 512 * 1024, 1000, true, "512kb/s");
	rate_ok("512kb/1s", 512 * 1024, 1000, true, "512kb/s");
	rate_ok("1024kb/s", 1 << 20, 1000, true, "1mb/s");
	rate_ok("2048b/s", 2048, 1000, true, "2kb/s");
	rate_ok("1000b/s", 1000, 1000, true, "1000b/s");
	rate_ok("1b/s", 1, 1000, true, "1b/s");
	rate_ok("4096mb/s", 1ULL << 32, 1000, true, "4096mb/s");
	rate_ok("4194304kb/s", 1ULL << 32, 1000, true, "4096mb/s");
	rate_ok("4294967296b/s", 1ULL << 32, 1000, true, "4096mb/s");
	rate_bad("");
	rate_bad("0/s");
	rate_bad("0kb/s");
	rate_bad("1000000001/s");
	rate_bad("18446744073709551615/s");
	rate_bad("18446744073709551616/s");
	rate_bad("99999999999999999999999/s");
	rate_bad("10/fortnight");
	rate_bad("10/");
	rate_bad("/s");
	rate_bad("s");
	rate_bad("1.5/s");
	rate_bad("-1/s");
	rate_bad("+1/s");
	rate_bad(" 1/s");
	rate_bad("1/s ");
	rate_bad("10/999ms");
	rate_bad("10/2d");
	rate_bad("10/0s");
	rate_bad("10/ms");
	rate_bad("10/seconds");
	rate_bad("4097mb/s");
	rate_bad("4294967297b/s");
	rate_bad("17592186044416mb/s");	/* 2^44 mb: the product overflows */
	rate_bad("18014398509481984kb/s");
	rate_bad("10kb/minute");
	rate_bad("10kb/m");
	rate_bad("10kb/2s");
	rate_bad("10kb/");
	rate_bad("10kb");
	rate_bad("10gb/s");
	rate_bad("10x/s");
	rate_bad("10/s/s");

	/* windows */
	window_ok("5/60s", 5, 60000, "5/1m");
	window_ok("5/1m", 5, 60000, "5/1m");
	window_ok("5/minute", 5, 60000, "5/1m");
	window_ok("100/250ms", 100, 250, "100/250ms");
	window_ok("5/90000ms", 5, 90000, "5/90s");
	window_ok("5/3600s", 5, 3600000, "5/1h");
	window_ok("5/24h", 5, 86400000, "5/1d");
	window_ok("5/1440m", 5, 86400000, "5/1d");
	window_ok("5/25h", 5, 90000000, "5/25h");
	window_ok("1/1ms", 1, 1, "1/1ms");
	window_ok("10000000/30d", 10000000, 2592000000ULL, "10000000/30d");
	window_ok("7/2592000000ms", 7, 2592000000ULL, "7/30d");
	window_bad("0/1m");
	window_bad("10000001/1m");
	window_bad("5/60");
	window_bad("5/0s");
	window_bad("5/31d");
	window_bad("5/2592000001ms");
	window_bad("5/1y");
	window_bad("5");
	window_bad("/1m");
	window_bad("5/");
	window_bad("5/-1s");
	window_bad("5/1m5s");
	window_bad("5/99999999999999999999s");
	window_bad("5/18446744073709551615d");
	window_bad("5/213503982336d");	/* d * 86400000 overflows 2^64 */

	/* durations and plain milliseconds */
	duration_case("10m", 1, XT_RATEWIN_DURATION_MAX_MS, 0, 600000);
	duration_case("10M", 1, XT_RATEWIN_DURATION_MAX_MS, 0, 600000);
	duration_case("1500ms", 1, XT_RATEWIN_DURATION_MAX_MS, 0, 1500);
	duration_case("30d", 1, XT_RATEWIN_DURATION_MAX_MS, 0,
		      XT_RATEWIN_DURATION_MAX_MS);
	duration_case("31d", 1, XT_RATEWIN_DURATION_MAX_MS, -1, 0);
	duration_case("0s", 1, XT_RATEWIN_DURATION_MAX_MS, -1, 0);
	duration_case("10", 1, XT_RATEWIN_DURATION_MAX_MS, -1, 0);
	duration_case("s", 1, XT_RATEWIN_DURATION_MAX_MS, -1, 0);
	duration_case("1w", 1, XT_RATEWIN_DURATION_MAX_MS, -1, 0);
	duration_case("1 s", 1, XT_RATEWIN_DURATION_MAX_MS, -1, 0);
	CHECK(rw_parse_ms("2000", 1, 10, &v, err, sizeof(err)) == -1,
	      "ms above the maximum refused");
	CHECK(rw_parse_ms("2000", 1, 5000, &v, err, sizeof(err)) == 0 &&
	      v == 2000, "bare number is milliseconds");
	CHECK(rw_parse_ms("2s", 1, 5000, &v, err, sizeof(err)) == 0 &&
	      v == 2000, "ms option takes units too");
	CHECK(rw_parse_ms("9", XT_RATEWIN_GC_MIN_MS, XT_RATEWIN_GC_MAX_MS,
			  &v, err, sizeof(err)) == -1, "gc below 10 ms refused");

	/* bursts */
	burst_ok("5", 5, false);
	burst_ok("1", 1, false);
	burst_ok("64kb", 65536, true);
	burst_ok("64KB", 65536, true);
	burst_ok("1mb", 1 << 20, true);
	burst_ok("1500b", 1500, true);
	burst_ok("2048mb", 1ULL << 31, true);
	burst_ok("2147483648", 1ULL << 31, false);
	burst_bad("0");
	burst_bad("0kb");
	burst_bad("2147483649");
	burst_bad("2049mb");
	burst_bad("1gb");
	burst_bad("10x");
	burst_bad("kb");
	burst_bad("");
	burst_bad("-5");
	burst_bad("99999999999999999999999");
	burst_bad("18014398509481984kb");

	/* modes */
	mode_ok("srcip", XT_RATEWIN_MODE_SRCIP, "srcip");
	mode_ok("dstport,srcip", XT_RATEWIN_MODE_SRCIP |
		XT_RATEWIN_MODE_DSTPORT, "srcip,dstport");
	mode_ok("dstport,srcport,dstip,srcip", XT_RATEWIN_MODE_ALL,
		"srcip,dstip,srcport,dstport");
	mode_bad("");
	mode_bad(",");
	mode_bad("srcip,");
	mode_bad(",srcip");
	mode_bad("srcip,,dstip");
	mode_bad("srcip,srcip");
	mode_bad("SRCIP");
	mode_bad("src");
	mode_bad("srcipx");
	mode_bad("proto");
	mode_bad("srcip dstip");

	/* names */
	name_case("ssh", true);
	name_case("a", true);
	name_case("ssh.v2:in-22_x@host+1", true);
	name_case("abcdefghijklmnopqrstuvwxyz01234", true);
	name_case("abcdefghijklmnopqrstuvwxyz012345", false);
	name_case("", false);
	name_case("a/b", false);
	name_case("/", false);
	name_case(".", false);
	name_case("..", false);
	name_case("...", true);
	name_case("a b", false);
	name_case("a\tb", false);
	name_case("a\nb", false);
	name_case("a\"b", false);
	name_case("a'b", false);
	name_case("a\\b", false);
	name_case("caf\xc3\xa9", false);

	/* prefix lengths */
	CHECK(rw_parse_plen("0", 32, &p, err, sizeof(err)) == 0 && p == 0,
	      "plen 0");
	CHECK(rw_parse_plen("32", 32, &p, err, sizeof(err)) == 0 && p == 32,
	      "plen 32");
	CHECK(rw_parse_plen("33", 32, &p, err, sizeof(err)) == -1,
	      "plen 33 refused for IPv4");
	CHECK(rw_parse_plen("128", 128, &p, err, sizeof(err)) == 0 &&
	      p == 128, "plen 128 for IPv6");
	CHECK(rw_parse_plen("129", 128, &p, err, sizeof(err)) == -1,
	      "plen 129 refused");
	CHECK(rw_parse_plen("-1", 128, &p, err, sizeof(err)) == -1,
	      "plen -1 refused");
	CHECK(rw_parse_plen("", 128, &p, err, sizeof(err)) == -1,
	      "empty plen refused");
	CHECK(rw_parse_plen("24x", 128, &p, err, sizeof(err)) == -1,
	      "plen 24x refused");
	CHECK(rw_parse_plen("4294967320", 32, &p, err, sizeof(err)) == -1,
	      "plen that wraps to 24 refused");

	/* integers */
	CHECK(rw_parse_uint("18446744073709551615", 0, UINT64_MAX, &v, err,
			    sizeof(err)) == 0 && v == UINT64_MAX, "u64 max");
	CHECK(rw_parse_uint("18446744073709551616", 0, UINT64_MAX, &v, err,
			    sizeof(err)) == -1, "u64 max + 1 refused");
	CHECK(rw_parse_uint("0x10", 0, 100, &v, err, sizeof(err)) == -1,
	      "hex refused");

	/* default bursts */
	{
		struct rw_rate r = { 10, 1000, false };

		CHECK(rw_default_burst(&r) == XT_RATEWIN_DEFAULT_BURST,
		      "packet default burst");
		r.bytes = true;
		r.n = 512 * 1024;
		CHECK(rw_default_burst(&r) == 512 * 1024,
		      "byte default burst is one second");
		r.n = 1ULL << 32;
		CHECK(rw_default_burst(&r) == XT_RATEWIN_BURST_MAX,
		      "byte default burst capped");
	}

	/* canonical durations */
	{
		char buf[RW_FMTLEN];

		CHECK(!strcmp(rw_fmt_duration(buf, 60000), "1m"), "60000 ms");
		CHECK(!strcmp(rw_fmt_duration(buf, 90000), "90s"), "90000 ms");
		CHECK(!strcmp(rw_fmt_duration(buf, 1500), "1500ms"), "1500 ms");
		CHECK(!strcmp(rw_fmt_duration(buf, 7200000), "2h"), "2 h");
		CHECK(!strcmp(rw_fmt_duration(buf, 5400000), "90m"), "90 m");
		CHECK(!strcmp(rw_fmt_duration(buf, 172800000), "2d"), "2 d");
		CHECK(!strcmp(rw_fmt_bytes(buf, 65536), "64kb"), "64kb");
		CHECK(!strcmp(rw_fmt_bytes(buf, 1 << 20), "1mb"), "1mb");
		CHECK(!strcmp(rw_fmt_bytes(buf, 1500), "1500"), "1500");
		CHECK(!strcmp(rw_fmt_rate(buf, 1500, 1000, true), "1500b/s"),
		      "1500b/s");
	}

	round_trips();

	printf("1..1\n%s 1 - plugin parse helpers: %u checks, %u failed\n",
	       failures ? "not ok" : "ok", tests, failures);
	return failures ? 1 : 0;
}
