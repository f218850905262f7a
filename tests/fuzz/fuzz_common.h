/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the fuzz harnesses in tests/fuzz/: consuming fuzz input as
 * typed values, and reporting a broken invariant (an abort, which both
 * libFuzzer and the standalone driver treat as a crash).
 */
#ifndef RATEWIN_FUZZ_COMMON_H
#define RATEWIN_FUZZ_COMMON_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fz_in {
	const uint8_t *p;
	size_t n;
};

static inline uint64_t fz_bytes(struct fz_in *in, unsigned int k)
{
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < k; i++) {
		v <<= 8;
		if (in->n) {
			v |= *in->p++;
			in->n--;
		}
	}
	return v;
}

static inline uint8_t fz_u8(struct fz_in *in)
{
	return (uint8_t)fz_bytes(in, 1);
}

static inline uint32_t fz_u32(struct fz_in *in)
{
	return (uint32_t)fz_bytes(in, 4);
}

static inline uint64_t fz_u64(struct fz_in *in)
{
	return fz_bytes(in, 8);
}

/* A value in [lo, hi] (hi - lo < 2^64 - 1), from 8 input bytes. */
static inline uint64_t fz_range(struct fz_in *in, uint64_t lo, uint64_t hi)
{
	uint64_t span = hi - lo + 1;

	if (!span)
		return fz_u64(in);
	return lo + fz_u64(in) % span;
}

/* A value in [lo, hi], often one of the ends or next to them. */
static inline uint64_t fz_edgy(struct fz_in *in, uint64_t lo, uint64_t hi)
{
	switch (fz_u8(in) & 7) {
	case 0:
		return lo;
	case 1:
		return hi;
	case 2:
		return lo < hi ? lo + 1 : lo;
	case 3:
		return lo < hi ? hi - 1 : hi;
	default:
		return fz_range(in, lo, hi);
	}
}

__attribute__((noreturn, format(printf, 1, 2)))
static inline void fz_fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "INVARIANT BROKEN: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	abort();
}

#define FZ_CHECK(cond, ...) do {				\
	if (!(cond))						\
		fz_fail(__VA_ARGS__);				\
} while (0)

#endif /* RATEWIN_FUZZ_COMMON_H */
