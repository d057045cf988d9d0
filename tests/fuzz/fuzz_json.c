/*
 * fuzz_json.c - libFuzzer target for lib/json.c and lib/utf8.c: the
 * input, cut at its NUL bytes, is written as an array of JSON strings
 * (the first byte picks the style and layout).  The document must be
 * valid UTF-8, and each string, read back, must be its input with every
 * byte that is no part of a valid UTF-8 sequence turned into U+FFFD.
 */
#include "json.h"
#include "utf8.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The string at *pp (after its opening quote), unescaped into out;
 * returns its length and moves *pp past the closing quote. */
static size_t fuzz_read_string(const unsigned char **pp,
			       const unsigned char *end, unsigned char *out)
{
	const unsigned char *p = *pp;
	size_t n = 0;

	while (p < end && *p != '"') {
		if (*p != '\\') {
			out[n++] = *p++;
			continue;
		}
		if (++p >= end)
			abort();
		if (*p == '"' || *p == '\\') {
			out[n++] = *p++;
		} else if (*p == 'u' && end - p >= 5) {
			char hex[5];
			unsigned long cp;

			memcpy(hex, p + 1, 4);
			hex[4] = '\0';
			cp = strtoul(hex, NULL, 16);
			if (cp == 0xfffd) {
				memcpy(out + n, "\xef\xbf\xbd", 3);
				n += 3;
			} else if (cp < 0x20 || cp == 0x7f) {
				out[n++] = (unsigned char)cp;
			} else {
				abort();	/* nothing else is escaped */
			}
			p += 5;
		} else {
			abort();
		}
	}
	if (p >= end)
		abort();
	*pp = p + 1;
	return n;
}

/* What the writer must make of in[0..len). */
static size_t fuzz_expected(const unsigned char *in, size_t len,
			    unsigned char *out)
{
	size_t i = 0, n = 0, step;

	while (i < len) {
		step = utf8_seq(in + i, len - i, NULL);
		if (step == 0) {
			memcpy(out + n, "\xef\xbf\xbd", 3);
			n += 3;
			i++;
		} else {
			memcpy(out + n, in + i, step);
			n += step;
			i += step;
		}
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf b;
	struct json j;
	const unsigned char *p, *end, *s;
	unsigned char *got, *want;
	size_t i, start;
	int layout;

	if (size == 0 || size > 4096)
		return 0;
	layout = data[0] & 1 ? JSON_LINES | (data[0] & 2 ? JSON_INDENT : 0)
			     : JSON_INLINE;
	buf_init(&b, 64 * 1024);
	json_init(&j, &b, data[0] & 4 ? JSON_SPACED : JSON_COMPACT);
	json_begin_array(&j, layout);
	for (start = i = 1; i <= size; i++)
		if (i == size || data[i] == '\0') {
			json_string_n(&j, (const char *)data + start, i - start);
			start = i + 1;
		}
	json_end(&j);
	if (json_finish(&j) < 0 || !utf8_valid(b.data, b.len, NULL))
		abort();
	/* Read the strings back. */
	got = malloc(3 * size + 1);
	want = malloc(3 * size + 1);
	if (!got || !want)
		abort();
	p = b.data;
	end = b.data + b.len;
	for (start = i = 1; i <= size; i++) {
		size_t ng, nw;

		if (i != size && data[i] != '\0')
			continue;
		while (p < end && *p != '"')
			p++;
		if (p++ >= end)
			abort();
		s = data + start;
		ng = fuzz_read_string(&p, end, got);
		nw = fuzz_expected(s, i - start, want);
		if (ng != nw || memcmp(got, want, ng) != 0)
			abort();
		start = i + 1;
	}
	free(got);
	free(want);
	buf_free(&b);
	return 0;
}
