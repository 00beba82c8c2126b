// SPDX-License-Identifier: GPL-2.0-only
/*
 * Patterns and data verification (the self-test switch lives here).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

/*
 * Pattern of a seed: 64-bit words that differ per word and per seed (seed 0:
 * zeroes), fast enough to fill and check gigabyte hugetlb pages.
 */
static uint64_t pattern_word(size_t i, uint8_t seed)
{
	if (!seed)
		return 0;
	return (i + 1) * 0x9e3779b97f4a7c15ULL ^ seed * 0x0101010101010101ULL;
}

void pattern_fill(void *buf, size_t len, uint8_t seed)
{
	uint64_t *w = buf;
	size_t i;

	for (i = 0; i < len / 8; i++)
		w[i] = pattern_word(i, seed);
	for (i = len & ~7UL; i < len; i++)
		((uint8_t *)buf)[i] = pattern_word(i / 8, seed) >> (8 * (i % 8));
}

static bool fault_injected(void)
{
	const char *f = getenv("IOPIN_SELFTEST_FAULT");

	return f && !strcmp(f, "verify");
}

bool pattern_check(const void *got, size_t len, uint8_t seed,
		   char *why, size_t whylen)
{
	const uint8_t *p = got;
	size_t i;

	for (i = 0; i < len; i++) {
		uint8_t want;

		/* Word-wise while it matches; byte-wise to report a mismatch. */
		if (!(i % 8) && i + 8 <= len && !(i == 0 && fault_injected()) &&
		    *(const uint64_t *)(p + i) == pattern_word(i / 8, seed)) {
			i += 7;
			continue;
		}
		want = pattern_word(i / 8, seed) >> (8 * (i % 8));
		if (i == 0 && fault_injected())
			want ^= 0xff;
		if (p[i] != want) {
			snprintf(why, whylen,
				 "byte %zu of %zu is 0x%02x, expected 0x%02x (pattern %u)",
				 i, len, p[i], want, seed);
			return false;
		}
	}
	return true;
}

bool bytes_check(const void *got, const void *want, size_t len,
		 char *why, size_t whylen)
{
	const uint8_t *g = got, *w = want;
	size_t i;

	for (i = 0; i < len; i++) {
		uint8_t exp = w[i];

		if (i == 0 && fault_injected())
			exp ^= 0xff;
		if (g[i] != exp) {
			snprintf(why, whylen,
				 "byte %zu of %zu is 0x%02x, expected 0x%02x",
				 i, len, g[i], exp);
			return false;
		}
	}
	return true;
}
