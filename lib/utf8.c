/*
 * utf8.c - validate UTF-8; see utf8.h.
 *
 * The table of RFC 3629, section 4: after the first byte, each byte is a
 * continuation byte (80..BF), except the second byte after E0 (A0..BF,
 * no overlong 3-byte forms), ED (80..9F, no surrogates), F0 (90..BF, no
 * overlong 4-byte forms) and F4 (80..8F, nothing above U+10FFFF).
 * C0, C1 and F5..FF never start a sequence.
 */
#include "utf8.h"

size_t utf8_seq(const unsigned char *s, size_t len, size_t *bad)
{
	unsigned char c, lo = 0x80, hi = 0xBF;
	size_t n, i;

	if (bad)
		*bad = 0;
	if (len == 0)
		return 0;
	c = s[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		n = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4;
	else
		return 0;
	if (c == 0xE0)
		lo = 0xA0;
	else if (c == 0xED)
		hi = 0x9F;
	else if (c == 0xF0)
		lo = 0x90;
	else if (c == 0xF4)
		hi = 0x8F;
	for (i = 1; i < n; i++) {
		if (i >= len || s[i] < lo || s[i] > hi) {
			if (bad)
				*bad = i;
			return 0;
		}
		lo = 0x80;
		hi = 0xBF;
	}
	return n;
}

int utf8_valid(const void *s, size_t len, size_t *bad)
{
	const unsigned char *p = s;
	size_t i = 0, step, at;

	while (i < len) {
		step = utf8_seq(p + i, len - i, &at);
		if (step == 0) {
			if (bad)
				*bad = i + at;
			return 0;
		}
		i += step;
	}
	return 1;
}
