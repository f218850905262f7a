/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Pure parsing and formatting helpers of the ratewin iptables plugin.
 *
 * No libxtables dependency: the plugin and the host-side unit test
 * (tests/unit/plugin_parse_test.c) compile this same file.  Every parser
 * returns 0 on success, or -1 with a one-line explanation in err.
 */
#ifndef RATEWIN_PARSE_H
#define RATEWIN_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RW_ERRLEN	160

#define RW_MS_SECOND	1000ULL
#define RW_MS_MINUTE	60000ULL
#define RW_MS_HOUR	3600000ULL
#define RW_MS_DAY	86400000ULL

struct rw_rate {
	uint64_t n;		/* events, or bytes in byte mode */
	uint32_t period_ms;
	bool bytes;
};

/* Unsigned decimal, digits only, no sign, no overflow. Empty is an error. */
int rw_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out,
		  char *err, size_t errlen);

/* NUMBER UNIT with UNIT one of ms, s, m, h, d; result in [min_ms, max_ms]. */
int rw_parse_duration(const char *s, uint64_t min_ms, uint64_t max_ms,
		      uint64_t *out, char *err, size_t errlen);

/* Like rw_parse_duration, but a bare number means milliseconds. */
int rw_parse_ms(const char *s, uint64_t min_ms, uint64_t max_ms,
		uint64_t *out, char *err, size_t errlen);

/*
 * N/UNIT (second|minute|hour|day|s|sec|m|min|h|d, or a duration from 1s to
 * 1d), a bare N meaning N/second, or Nb/s, Nkb/s, Nmb/s (byte mode).
 */
int rw_parse_rate(const char *s, struct rw_rate *out, char *err,
		  size_t errlen);

/* N, Nb, Nkb, Nmb; *has_unit tells whether a byte unit was written. */
int rw_parse_burst(const char *s, uint64_t *out, bool *has_unit,
		   char *err, size_t errlen);

/* N/DURATION (or N/UNIT word as for rates). */
int rw_parse_window(const char *s, uint32_t *n, uint64_t *ms,
		    char *err, size_t errlen);

/* Comma list of srcip, dstip, srcport, dstport; XT_RATEWIN_MODE_* bits. */
int rw_parse_mode(const char *s, uint8_t *mode, char *err, size_t errlen);

/* 1..XT_RATEWIN_NAME_LEN-1 printable characters, no '/', not . or .. */
int rw_check_name(const char *s, char *err, size_t errlen);

/* Prefix length 0..max. */
int rw_parse_plen(const char *s, unsigned int max, uint8_t *out,
		  char *err, size_t errlen);

/*
 * Canonical forms.  Each writes a NUL-terminated string into buf (at
 * least RW_FMTLEN bytes) and returns buf.
 */
#define RW_FMTLEN	64

/* Largest unit of d, h, m, s, ms that represents ms exactly: 60000 -> 1m. */
const char *rw_fmt_duration(char *buf, uint64_t ms);
/* N/second|minute|hour|day, N/DURATION otherwise; Nmb/s, Nkb/s, Nb/s. */
const char *rw_fmt_rate(char *buf, uint64_t n, uint32_t period_ms,
			bool bytes);
/* Nmb, Nkb where exact, else plain N. */
const char *rw_fmt_bytes(char *buf, uint64_t n);
/* srcip,dstip,srcport,dstport order. */
const char *rw_fmt_mode(char *buf, uint8_t mode);

/* Default burst for a rate: 5 packets, or one second of bytes (capped). */
uint64_t rw_default_burst(const struct rw_rate *r);

#endif /* RATEWIN_PARSE_H */
