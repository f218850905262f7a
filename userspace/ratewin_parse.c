// SPDX-License-Identifier: GPL-2.0
/*
 * Parsing and formatting helpers of the ratewin iptables plugin; see
 * ratewin_parse.h.  Integer arithmetic only, every product checked.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <linux/netfilter/xt_ratewin.h>
#include "ratewin_parse.h"

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Leading decimal digits of s into *v; *end points past them.  Returns
 * 0, -1 if there are no digits, -2 on overflow of 64 bits (then *v is
 * UINT64_MAX and *end still points past the digits).
 */
static int scan_u64(const char *s, uint64_t *v, const char **end)
{
	uint64_t x = 0;
	const char *p = s;
	int rc = 0;

	*v = 0;
	*end = s;
	if (!is_digit(*p))
		return -1;
	for (; is_digit(*p); p++) {
		unsigned int d = *p - '0';

		if (x > (UINT64_MAX - d) / 10) {
			x = UINT64_MAX;
			rc = -2;
		}
		if (!rc)
			x = x * 10 + d;
	}
	*v = x;
	*end = p;
	return rc;
}

/* a * b into *r, false on overflow. */
static bool mul_ok(uint64_t a, uint64_t b, uint64_t *r)
{
	if (a && b > UINT64_MAX / a)
		return false;
	*r = a * b;
	return true;
}

int rw_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out,
		  char *err, size_t errlen)
{
	const char *end;
	uint64_t v;
	int rc = scan_u64(s, &v, &end);

	if (rc == -1 || *end != '\0')
		return fail(err, errlen, "\"%s\" is not a whole number", s);
	if (rc == -2 || v > max)
		return fail(err, errlen, "%s is too large (maximum %" PRIu64 ")",
			    s, max);
	if (v < min)
		return fail(err, errlen, "%s is too small (minimum %" PRIu64 ")",
			    s, min);
	*out = v;
	return 0;
}

/* Unit suffix of a duration, case-insensitive; 0 if unknown. */
static uint64_t duration_unit(const char *u)
{
	if (!strcasecmp(u, "ms"))
		return 1;
	if (!strcasecmp(u, "s"))
		return RW_MS_SECOND;
	if (!strcasecmp(u, "m"))
		return RW_MS_MINUTE;
	if (!strcasecmp(u, "h"))
		return RW_MS_HOUR;
	if (!strcasecmp(u, "d"))
		return RW_MS_DAY;
	return 0;
}

/* A period given as a word, as after the '/' of a rate; 0 if unknown. */
static uint64_t period_word(const char *u)
{
	static const struct {
		const char *name;
		uint64_t ms;
	} words[] = {
		{ "second", RW_MS_SECOND }, { "sec", RW_MS_SECOND },
		{ "s", RW_MS_SECOND },
		{ "minute", RW_MS_MINUTE }, { "min", RW_MS_MINUTE },
		{ "m", RW_MS_MINUTE },
		{ "hour", RW_MS_HOUR }, { "h", RW_MS_HOUR },
		{ "day", RW_MS_DAY }, { "d", RW_MS_DAY },
	};
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (!strcasecmp(u, words[i].name))
			return words[i].ms;
	return 0;
}

static int range_fail(char *err, size_t errlen, const char *s,
		      uint64_t min_ms, uint64_t max_ms)
{
	char a[RW_FMTLEN], b[RW_FMTLEN];

	return fail(err, errlen, "%s is out of range (%s to %s)", s,
		    rw_fmt_duration(a, min_ms), rw_fmt_duration(b, max_ms));
}

static int parse_duration(const char *s, uint64_t min_ms, uint64_t max_ms,
			  bool bare_ms, uint64_t *out, char *err,
			  size_t errlen)
{
	const char *end;
	uint64_t v, unit, ms;
	int rc = scan_u64(s, &v, &end);

	if (rc == -1)
		return fail(err, errlen,
			    "\"%s\" is not a duration (a number with unit ms, s, m, h or d, e.g. 60s)",
			    s);
	if (*end == '\0') {
		if (!bare_ms)
			return fail(err, errlen,
				    "\"%s\" has no unit (use ms, s, m, h or d, e.g. %ss)",
				    s, s);
		unit = 1;
	} else {
		unit = duration_unit(end);
		if (!unit)
			return fail(err, errlen,
				    "unknown unit \"%s\" in \"%s\" (use ms, s, m, h or d)",
				    end, s);
	}
	if (rc == -2 || !mul_ok(v, unit, &ms) || ms > max_ms || ms < min_ms)
		return range_fail(err, errlen, s, min_ms, max_ms);
	*out = ms;
	return 0;
}

int rw_parse_duration(const char *s, uint64_t min_ms, uint64_t max_ms,
		      uint64_t *out, char *err, size_t errlen)
{
	return parse_duration(s, min_ms, max_ms, false, out, err, errlen);
}

int rw_parse_ms(const char *s, uint64_t min_ms, uint64_t max_ms,
		uint64_t *out, char *err, size_t errlen)
{
	return parse_duration(s, min_ms, max_ms, true, out, err, errlen);
}

/* The part after '/': a word (second, min, ...) or a duration (10s). */
static int parse_period(const char *s, uint64_t min_ms, uint64_t max_ms,
			uint64_t *out, char *err, size_t errlen)
{
	uint64_t ms;

	if (*s == '\0')
		return fail(err, errlen, "nothing after '/' (use e.g. second, minute or 10s)");
	if (is_digit(*s))
		return rw_parse_duration(s, min_ms, max_ms, out, err, errlen);
	ms = period_word(s);
	if (!ms)
		return fail(err, errlen,
			    "unknown unit \"%s\" (use second, minute, hour, day or a duration such as 10s)",
			    s);
	if (ms < min_ms || ms > max_ms)
		return range_fail(err, errlen, s, min_ms, max_ms);
	*out = ms;
	return 0;
}

/* Byte multiplier of a suffix b, kb, mb (case-insensitive); 0 if none. */
static uint64_t byte_unit(const char *u, size_t len)
{
	if (len == 1 && (u[0] == 'b' || u[0] == 'B'))
		return 1;
	if (len == 2 && !strncasecmp(u, "kb", 2))
		return 1024;
	if (len == 2 && !strncasecmp(u, "mb", 2))
		return 1024 * 1024;
	return 0;
}

int rw_parse_rate(const char *s, struct rw_rate *out, char *err,
		  size_t errlen)
{
	const char *end, *slash;
	uint64_t v, mult, n, period;
	int rc = scan_u64(s, &v, &end);

	if (rc == -1)
		return fail(err, errlen,
			    "\"%s\" does not start with a number (e.g. 10/second, 50/minute, 512kb/s)",
			    s);
	if (rc == -2)
		return fail(err, errlen, "\"%s\" is too large", s);
	if (v == 0)
		return fail(err, errlen, "the rate in \"%s\" must be at least 1", s);

	slash = strchr(end, '/');
	if (*end == '\0' || *end == '/') {
		/* packets: N, N/UNIT or N/DURATION */
		period = RW_MS_SECOND;
		if (*end == '/' &&
		    parse_period(end + 1, RW_MS_SECOND,
				 XT_RATEWIN_PERIOD_MAX_MS, &period,
				 err, errlen))
			return -1;
		if (v > XT_RATEWIN_RATE_MAX)
			return fail(err, errlen,
				    "%" PRIu64 " is too large (at most %llu per period)",
				    v, (unsigned long long)XT_RATEWIN_RATE_MAX);
		out->n = v;
		out->period_ms = period;
		out->bytes = false;
		return 0;
	}

	/* bytes: Nb/s, Nkb/s, Nmb/s */
	mult = byte_unit(end, slash ? (size_t)(slash - end) : strlen(end));
	if (!mult)
		return fail(err, errlen,
			    "bad unit in \"%s\" (use N/second, N/minute, N/hour, N/day or Nb/s, Nkb/s, Nmb/s)",
			    s);
	if (!slash)
		return fail(err, errlen,
			    "a byte rate needs \"/s\" (e.g. %s/s)", s);
	if (*(slash + 1) == '\0' ||
	    (is_digit(slash[1]) ? rw_parse_duration(slash + 1, 1,
						    UINT64_MAX, &period,
						    NULL, 0)
				: !(period = period_word(slash + 1))))
		return fail(err, errlen,
			    "bad unit in \"%s\" (byte rates are per second, e.g. 512kb/s)",
			    s);
	if (period != RW_MS_SECOND)
		return fail(err, errlen,
			    "byte rates are per second only (\"%s\"; e.g. 512kb/s)",
			    s);
	if (!mul_ok(v, mult, &n) || n > XT_RATEWIN_BYTES_RATE_MAX)
		return fail(err, errlen,
			    "\"%s\" is too large (at most %llumb/s)", s,
			    (unsigned long long)(XT_RATEWIN_BYTES_RATE_MAX >> 20));
	out->n = n;
	out->period_ms = RW_MS_SECOND;
	out->bytes = true;
	return 0;
}

int rw_parse_burst(const char *s, uint64_t *out, bool *has_unit,
		   char *err, size_t errlen)
{
	const char *end;
	uint64_t v, mult = 1, n;
	int rc = scan_u64(s, &v, &end);

	if (rc == -1)
		return fail(err, errlen,
			    "\"%s\" is not a number (e.g. 10, or 64kb in byte mode)",
			    s);
	*has_unit = false;
	if (*end != '\0') {
		mult = byte_unit(end, strlen(end));
		if (!mult)
			return fail(err, errlen,
				    "unknown unit \"%s\" in \"%s\" (use b, kb or mb)",
				    end, s);
		*has_unit = true;
	}
	if (rc == -2 || !mul_ok(v, mult, &n) || n > XT_RATEWIN_BURST_MAX)
		return fail(err, errlen, "%s is too large (maximum %llu)", s,
			    (unsigned long long)XT_RATEWIN_BURST_MAX);
	if (n == 0)
		return fail(err, errlen, "the burst must be at least 1");
	*out = n;
	return 0;
}

int rw_parse_window(const char *s, uint32_t *n, uint64_t *ms,
		    char *err, size_t errlen)
{
	const char *end;
	uint64_t v, d;
	int rc = scan_u64(s, &v, &end);

	if (rc == -1 || *end != '/')
		return fail(err, errlen,
			    "\"%s\" is not N/DURATION (e.g. 5/60s, 5/1m, 100/250ms)",
			    s);
	if (rc == -2 || v > XT_RATEWIN_WINDOW_N_MAX)
		return fail(err, errlen,
			    "the count in \"%s\" is too large (maximum %u)", s,
			    XT_RATEWIN_WINDOW_N_MAX);
	if (v == 0)
		return fail(err, errlen,
			    "the count in \"%s\" must be at least 1", s);
	if (parse_period(end + 1, 1, XT_RATEWIN_DURATION_MAX_MS, &d,
			 err, errlen))
		return -1;
	*n = (uint32_t)v;
	*ms = d;
	return 0;
}

int rw_parse_mode(const char *s, uint8_t *mode, char *err, size_t errlen)
{
	static const struct {
		const char *name;
		uint8_t bit;
	} keys[] = {
		{ "srcip", XT_RATEWIN_MODE_SRCIP },
		{ "dstip", XT_RATEWIN_MODE_DSTIP },
		{ "srcport", XT_RATEWIN_MODE_SRCPORT },
		{ "dstport", XT_RATEWIN_MODE_DSTPORT },
	};
	uint8_t m = 0;
	const char *p = s;

	if (*s == '\0')
		return fail(err, errlen,
			    "empty list (use srcip, dstip, srcport, dstport)");
	for (;;) {
		size_t len = strcspn(p, ",");
		size_t i;

		if (len == 0)
			return fail(err, errlen,
				    "empty item in \"%s\"", s);
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (strlen(keys[i].name) == len &&
			    !strncmp(p, keys[i].name, len))
				break;
		if (i == sizeof(keys) / sizeof(keys[0]))
			return fail(err, errlen,
				    "unknown key \"%.*s\" (use srcip, dstip, srcport, dstport)",
				    (int)len, p);
		if (m & keys[i].bit)
			return fail(err, errlen, "\"%s\" is listed twice",
				    keys[i].name);
		m |= keys[i].bit;
		p += len;
		if (*p == '\0')
			break;
		p++;	/* ',' */
		if (*p == '\0')
			return fail(err, errlen,
				    "empty item in \"%s\"", s);
	}
	*mode = m;
	return 0;
}

int rw_check_name(const char *s, char *err, size_t errlen)
{
	size_t len = strlen(s);
	const unsigned char *p;

	if (len == 0)
		return fail(err, errlen, "the name must not be empty");
	if (len > XT_RATEWIN_NAME_LEN - 1)
		return fail(err, errlen,
			    "\"%s\" is too long (at most %d characters)", s,
			    XT_RATEWIN_NAME_LEN - 1);
	if (!strcmp(s, ".") || !strcmp(s, ".."))
		return fail(err, errlen, "\"%s\" cannot be a file name", s);
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p == '/')
			return fail(err, errlen,
				    "\"%s\" contains '/' (it names a file in /proc/net/xt_ratewin)",
				    s);
		if (*p <= ' ' || *p >= 0x7f || *p == '"' || *p == '\'' ||
		    *p == '\\')
			return fail(err, errlen,
				    "the name contains a space, quote, backslash or non-printable character (use letters, digits and punctuation such as _ - . :)");
	}
	return 0;
}

int rw_parse_plen(const char *s, unsigned int max, uint8_t *out,
		  char *err, size_t errlen)
{
	uint64_t v;

	if (rw_parse_uint(s, 0, max, &v, NULL, 0))
		return fail(err, errlen,
			    "\"%s\" is not a prefix length from 0 to %u", s,
			    max);
	*out = (uint8_t)v;
	return 0;
}

const char *rw_fmt_duration(char *buf, uint64_t ms)
{
	static const struct {
		uint64_t ms;
		const char *unit;
	} units[] = {
		{ RW_MS_DAY, "d" }, { RW_MS_HOUR, "h" },
		{ RW_MS_MINUTE, "m" }, { RW_MS_SECOND, "s" },
	};
	size_t i;

	for (i = 0; ms && i < sizeof(units) / sizeof(units[0]); i++)
		if (ms % units[i].ms == 0) {
			snprintf(buf, RW_FMTLEN, "%" PRIu64 "%s",
				 ms / units[i].ms, units[i].unit);
			return buf;
		}
	snprintf(buf, RW_FMTLEN, "%" PRIu64 "ms", ms);
	return buf;
}

const char *rw_fmt_bytes(char *buf, uint64_t n)
{
	if (n && n % (1024 * 1024) == 0)
		snprintf(buf, RW_FMTLEN, "%" PRIu64 "mb", n >> 20);
	else if (n && n % 1024 == 0)
		snprintf(buf, RW_FMTLEN, "%" PRIu64 "kb", n >> 10);
	else
		snprintf(buf, RW_FMTLEN, "%" PRIu64, n);
	return buf;
}

const char *rw_fmt_rate(char *buf, uint64_t n, uint32_t period_ms,
			bool bytes)
{
	char tmp[RW_FMTLEN / 2];
	const char *unit;

	if (bytes) {
		if (n && n % (1024 * 1024) == 0)
			snprintf(tmp, sizeof(tmp), "%" PRIu64 "mb", n >> 20);
		else if (n && n % 1024 == 0)
			snprintf(tmp, sizeof(tmp), "%" PRIu64 "kb", n >> 10);
		else
			snprintf(tmp, sizeof(tmp), "%" PRIu64 "b", n);
		if (period_ms == RW_MS_SECOND)
			snprintf(buf, RW_FMTLEN, "%s/s", tmp);
		else	/* not written by this plugin */
			snprintf(buf, RW_FMTLEN, "%s/%" PRIu32 "ms", tmp,
				 period_ms);
		return buf;
	}
	switch (period_ms) {
	case RW_MS_SECOND:
		unit = "second";
		break;
	case RW_MS_MINUTE:
		unit = "minute";
		break;
	case RW_MS_HOUR:
		unit = "hour";
		break;
	case RW_MS_DAY:
		unit = "day";
		break;
	default:
		unit = rw_fmt_duration(tmp, period_ms);
		break;
	}
	snprintf(buf, RW_FMTLEN, "%" PRIu64 "/%s", n, unit);
	return buf;
}

const char *rw_fmt_mode(char *buf, uint8_t mode)
{
	static const char *const names[] = {
		"srcip", "dstip", "srcport", "dstport",
	};
	size_t off = 0;
	unsigned int i;

	buf[0] = '\0';
	for (i = 0; i < 4; i++) {
		if (!(mode & (1U << i)))
			continue;
		off += snprintf(buf + off, RW_FMTLEN - off, "%s%s",
				off ? "," : "", names[i]);
	}
	return buf;
}

uint64_t rw_default_burst(const struct rw_rate *r)
{
	if (!r->bytes)
		return XT_RATEWIN_DEFAULT_BURST;
	return r->n < XT_RATEWIN_BURST_MAX ? r->n : XT_RATEWIN_BURST_MAX;
}
