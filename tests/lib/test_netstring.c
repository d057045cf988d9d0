/*
 * test_netstring.c - netstring parsing and formatting, hostile input first.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "netstring.h"

/* Parse text with limit max; return the result and fill data/used. */
static int parse(const char *text, size_t len, size_t max, char *data,
		 size_t datasize, size_t *used, const char **why)
{
	const char *d = NULL;
	size_t dlen = 0;
	int rc = netstring_parse(text, len, max, &d, &dlen, used, why);

	data[0] = '\0';
	if (rc == NETSTRING_DONE && dlen < datasize) {
		memcpy(data, d, dlen);
		data[dlen] = '\0';
	}
	return rc;
}

struct ncase {
	const char *in;
	size_t max;
	int want;
	const char *data;	/* for DONE */
	const char *name;
};

static const struct ncase cases[] = {
	{ "0:,", 100, NETSTRING_DONE, "", "empty netstring" },
	{ "5:hello,", 100, NETSTRING_DONE, "hello", "simple" },
	{ "12:hello world!,", 100, NETSTRING_DONE, "hello world!", "two digits" },
	{ "", 100, NETSTRING_MORE, NULL, "nothing yet" },
	{ "1", 100, NETSTRING_MORE, NULL, "digits only" },
	{ "5:hel", 100, NETSTRING_MORE, NULL, "data incomplete" },
	{ "5:hello", 100, NETSTRING_MORE, NULL, "no terminator yet" },
	{ "05:hello,", 100, NETSTRING_ERROR, NULL, "leading zero" },
	{ "00:,", 100, NETSTRING_ERROR, NULL, "double zero" },
	{ ":hello,", 100, NETSTRING_ERROR, NULL, "empty length" },
	{ "5;hello,", 100, NETSTRING_ERROR, NULL, "wrong separator" },
	{ "5:hello;", 100, NETSTRING_ERROR, NULL, "missing comma" },
	{ "5:hello!!", 100, NETSTRING_ERROR, NULL, "data longer than length" },
	{ "-1:x,", 100, NETSTRING_ERROR, NULL, "negative length" },
	{ " 5:hello,", 100, NETSTRING_ERROR, NULL, "leading space" },
	{ "+5:hello,", 100, NETSTRING_ERROR, NULL, "plus sign" },
	{ "0x5:hello,", 100, NETSTRING_ERROR, NULL, "hex" },
	{ "abc", 100, NETSTRING_ERROR, NULL, "letters" },
	{ "\x80\xff", 100, NETSTRING_ERROR, NULL, "binary junk" },
	{ "999999999999999999999:", 1000000, NETSTRING_ERROR, NULL,
	  "huge length" },
	{ "1234567890", 2000000000, NETSTRING_ERROR, NULL,
	  "ten digits refused before the colon" },
	{ "18446744073709551617:", (size_t)-1, NETSTRING_ERROR, NULL,
	  "length past 2^64" },
	{ "101:", 100, NETSTRING_ERROR, NULL, "limit + 1 refused at once" },
	{ "1000", 100, NETSTRING_ERROR, NULL, "over limit before the colon" },
};

int main(void)
{
	char data[4096], big[300], out[64];
	const char *why;
	size_t used, i, n;
	struct buf b;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct ncase *c = &cases[i];
		int rc = parse(c->in, strlen(c->in), c->max, data,
			       sizeof(data), &used, &why);

		CHECK(rc == c->want, "%s: result %d, want %d (%s)", c->name,
		      rc, c->want, why);
		if (c->want == NETSTRING_DONE) {
			CHECK_STR(data, c->data, "%s: data", c->name);
			CHECK(used == strlen(c->in), "%s: used all", c->name);
		}
		if (c->want == NETSTRING_ERROR)
			CHECK(why && why[0], "%s: has a reason", c->name);
	}

	/* A NUL inside the data is data (length-delimited). */
	CHECK(parse("3:a\0b,", 6, 100, data, sizeof(data), &used, &why) ==
		      NETSTRING_DONE && used == 6,
	      "NUL byte inside data");

	/* Exactly at the limit, and one over. */
	memset(big, 'x', sizeof(big));
	n = (size_t)snprintf(data, sizeof(data), "100:%.100s,", big);
	CHECK(parse(data, n, 100, out, sizeof(out), &used, &why) ==
		      NETSTRING_DONE && used == n,
	      "length == limit accepted");
	n = (size_t)snprintf(data, sizeof(data), "101:%.101s,", big);
	CHECK(parse(data, n, 100, out, sizeof(out), &used, &why) ==
		      NETSTRING_ERROR,
	      "length == limit + 1 refused");

	/* Pipelined: three requests in one buffer, then a partial one. */
	{
		const char *p = "3:abc,0:,4:defg,5:hi";
		size_t len = strlen(p), pos = 0, count = 0;
		const char *d;
		size_t dl;
		int rc;

		while ((rc = netstring_parse(p + pos, len - pos, 100, &d, &dl,
					     &used, &why)) == NETSTRING_DONE) {
			pos += used;
			count++;
		}
		CHECK(count == 3 && rc == NETSTRING_MORE && pos == 16,
		      "pipelined: three complete, one pending");
	}

	/* Byte by byte: MORE until the very last byte. */
	{
		const char *p = "11:hello world,";
		size_t len = strlen(p), k;
		int ok = 1;

		for (k = 0; k < len; k++)
			if (parse(p, k, 100, data, sizeof(data), &used,
				  &why) != NETSTRING_MORE)
				ok = 0;
		CHECK(ok && parse(p, len, 100, data, sizeof(data), &used,
				  &why) == NETSTRING_DONE,
		      "every prefix is incomplete, the whole is done");
	}

	/* Formatting. */
	n = netstring_format(out, sizeof(out), "hello", 5);
	CHECK(n == 8 && !memcmp(out, "5:hello,", 8), "format");
	n = netstring_format(out, sizeof(out), "", 0);
	CHECK(n == 3 && !memcmp(out, "0:,", 3), "format empty");
	n = netstring_format2(out, sizeof(out), "OK ", 3, "person", 6);
	CHECK(n == 12 && !memcmp(out, "9:OK person,", 12), "format two parts");
	CHECK(netstring_format(out, 7, "hello", 5) == 0,
	      "format refuses a small buffer");
	CHECK(netstring_format(out, 8, "hello", 5) == 8,
	      "format fits exactly");
	CHECK(netstring_size(0) == 3 && netstring_size(9) == 12 &&
	      netstring_size(10) == 14, "size");

	buf_init(&b, 20);
	CHECK(netstring_append(&b, "NOTFOUND ", 9, NULL, 0) == 0 &&
	      b.len == 12 && !memcmp(b.data, "9:NOTFOUND ,", 12),
	      "append");
	CHECK(netstring_append(&b, "0123456789", 10, NULL, 0) < 0 &&
	      b.len == 12, "append over the maximum leaves the buffer");
	buf_free(&b);

	/* Round trip of every length up to 300. */
	{
		int ok = 1;

		for (n = 0; n < sizeof(big); n++) {
			char enc[400];
			size_t k = netstring_format(enc, sizeof(enc), big, n);
			const char *d;
			size_t dl;

			if (!k || netstring_parse(enc, k, 1000, &d, &dl, &used,
						  &why) != NETSTRING_DONE ||
			    dl != n || used != k)
				ok = 0;
		}
		CHECK(ok, "round trip of lengths 0..299");
	}

	/* append, both ways (one copy when short, in parts when long), for
	 * lengths around each digit count and the one-copy limit; the
	 * result checked against a formatted print. */
	{
		static char src[3000];
		static const size_t lens[] = {
			0, 1, 9, 10, 11, 99, 100, 101, 480, 489, 490, 491,
			492, 500, 511, 512, 999, 1000, 1001, 2999
		};
		char want[3100];
		size_t k, split;
		int ok = 1, w;

		for (i = 0; i < sizeof(src); i++)
			src[i] = (char)('a' + i % 26);
		for (k = 0; k < sizeof(lens) / sizeof(lens[0]); k++)
			for (split = 0; split <= lens[k]; split += lens[k] / 3 + 1) {
				size_t len = lens[k];

				w = snprintf(want, sizeof(want), "%zu:%.*s,", len,
					     (int)len, src);
				buf_init(&b, 4000);
				if (netstring_append(&b, src, split,
						     split < len ? src + split
								 : NULL,
						     len - split) != 0 ||
				    b.len != (size_t)w ||
				    memcmp(b.data, want, (size_t)w) != 0 ||
				    netstring_format2(want, sizeof(want), src,
						      split, src + split,
						      len - split) !=
					    (size_t)w ||
				    memcmp(b.data, want, (size_t)w) != 0) {
					CHECK(0, "append of %zu bytes (split %zu)",
					      len, split);
					ok = 0;
				}
				buf_free(&b);
				/* One byte short of room: refused, unchanged. */
				buf_init(&b, (size_t)w);
				buf_append(&b, "x", 1);
				if (netstring_append(&b, src, split,
						     src + split,
						     len - split) == 0 ||
				    b.len != 1) {
					CHECK(0, "append of %zu bytes over the "
					      "maximum", len);
					ok = 0;
				}
				buf_free(&b);
			}
		CHECK(ok, "append and format2 agree with a formatted print");
	}
	return check_done();
}
