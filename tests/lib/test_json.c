/*
 * test_json.c - the JSON writer and the UTF-8 validator: RFC 3629's
 * edges (overlong forms, surrogates, U+10FFFF and one past it, truncated
 * sequences), strings that are not UTF-8 still giving valid JSON, both
 * layouts byte for byte, the buffer's maximum at N and N+1, nesting at
 * JSON_DEPTH_MAX and one more, and misuse refused.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "json.h"
#include "utf8.h"

/* utf8_valid on a literal. */
static int valid(const char *s, size_t len, size_t *bad)
{
	return utf8_valid(s, len, bad);
}

/* One string through the writer: the document, NUL-terminated. */
static const char *one_string(const char *s, size_t len, char *out,
			      size_t size)
{
	struct buf b;
	struct json j;

	buf_init(&b, 4096);
	json_init(&j, &b, JSON_COMPACT);
	json_string_n(&j, s, len);
	if (json_finish(&j) < 0 || b.len >= size) {
		buf_free(&b);
		return "(failed)";
	}
	memcpy(out, b.data, b.len);
	out[b.len] = '\0';
	buf_free(&b);
	return out;
}

int main(void)
{
	size_t bad = 99;
	char out[512];
	struct buf b;
	struct json j;
	int i;

	/* --- UTF-8 ---------------------------------------------------- */
	CHECK(valid("", 0, NULL), "empty is valid");
	CHECK(valid("plain ascii", 11, NULL), "ASCII");
	CHECK(valid("J\xc3\xb6rg", 5, NULL), "two-byte sequence");
	CHECK(valid("\xe2\x82\xac", 3, NULL), "three bytes: U+20AC");
	CHECK(valid("\xf0\x9f\x98\x80", 4, NULL), "four bytes: U+1F600");
	CHECK(valid("\xf4\x8f\xbf\xbf", 4, NULL), "U+10FFFF: the last");
	CHECK(!valid("\xf4\x90\x80\x80", 4, &bad) && bad == 1,
	      "U+110000: one past the last (bad at 1)");
	CHECK(valid("\xed\x9f\xbf", 3, NULL), "U+D7FF: before the surrogates");
	CHECK(!valid("\xed\xa0\x80", 3, &bad) && bad == 1,
	      "U+D800: a surrogate");
	CHECK(valid("\xee\x80\x80", 3, NULL), "U+E000: after them");
	CHECK(!valid("\xc0\xaf", 2, &bad) && bad == 0, "overlong '/' (C0)");
	CHECK(!valid("\xc1\xbf", 2, &bad) && bad == 0, "C1 never starts one");
	CHECK(valid("\xc2\x80", 2, NULL), "U+0080: the first two-byte");
	CHECK(!valid("\xe0\x9f\xbf", 3, &bad) && bad == 1,
	      "overlong three-byte form");
	CHECK(valid("\xe0\xa0\x80", 3, NULL), "U+0800: the first three-byte");
	CHECK(!valid("\xf0\x8f\xbf\xbf", 4, &bad) && bad == 1,
	      "overlong four-byte form");
	CHECK(!valid("\xf5\x80\x80\x80", 4, &bad) && bad == 0,
	      "F5 never starts one");
	CHECK(!valid("ab\x80", 3, &bad) && bad == 2,
	      "a lone continuation byte, its offset");
	CHECK(!valid("a\xe2\x82", 3, &bad) && bad == 3,
	      "truncated at the end: the missing byte's offset");
	CHECK(!valid("\xe2\x28\xa1", 3, &bad) && bad == 1,
	      "a sequence broken by ASCII");
	CHECK(utf8_seq((const unsigned char *)"\xe2\x82\xac", 2, &bad) == 0 &&
	      bad == 2, "utf8_seq reads no further than told");
	CHECK(utf8_seq((const unsigned char *)"x", 0, NULL) == 0,
	      "utf8_seq of nothing");

	/* --- strings ---------------------------------------------------- */
	CHECK_STR(one_string("a\"b\\c", 5, out, sizeof(out)), "\"a\\\"b\\\\c\"",
		  "quote and backslash escaped");
	CHECK_STR(one_string("t\tn\n\x01\x7f", 6, out, sizeof(out)),
		  "\"t\\u0009n\\u000a\\u0001\\u007f\"",
		  "control characters escaped");
	CHECK_STR(one_string("J\xc3\xb6rg \xe2\x82\xac", 9, out, sizeof(out)),
		  "\"J\xc3\xb6rg \xe2\x82\xac\"", "valid UTF-8 kept as it is");
	CHECK_STR(one_string("cn=M\xfcller", 9, out, sizeof(out)),
		  "\"cn=M\\ufffdller\"", "a Latin-1 byte becomes U+FFFD");
	CHECK_STR(one_string("\xed\xa0\x80x", 4, out, sizeof(out)),
		  "\"\\ufffd\\ufffd\\ufffdx\"",
		  "a surrogate: each byte replaced");
	CHECK_STR(one_string("a\0b", 3, out, sizeof(out)), "\"a\\u0000b\"",
		  "a NUL inside a counted string");
	CHECK(valid(one_string("\xff\xfe\xc3", 3, out, sizeof(out)),
		    strlen(out), NULL), "output of garbage is UTF-8");

	/* --- layouts ----------------------------------------------------- */
	buf_init(&b, 4096);
	json_init(&j, &b, JSON_SPACED);
	json_begin_object(&j, JSON_LINES | JSON_INDENT);
	json_key(&j, "id");
	json_string(&j, "corp");
	json_key(&j, "seconds");
	json_fixed(&j, 1.23456, 3);
	json_key(&j, "list");
	json_begin_array(&j, JSON_LINES | JSON_INDENT);
	json_begin_object(&j, JSON_INLINE);
	json_key(&j, "n");
	json_uint(&j, 18446744073709551615ULL);
	json_key(&j, "m");
	json_int(&j, -5);
	json_end(&j);
	json_begin_object(&j, JSON_INLINE);
	json_end(&j);
	json_end(&j);
	json_key(&j, "empty");
	json_begin_array(&j, JSON_LINES | JSON_INDENT);
	json_end(&j);
	json_key(&j, "flags");
	json_begin_object(&j, JSON_INLINE);
	json_key(&j, "a");
	json_bool(&j, 1);
	json_key(&j, "b");
	json_null(&j);
	json_end(&j);
	json_end(&j);
	CHECK(json_finish(&j) == 0, "spaced document complete");
	buf_append(&b, "", 1);
	CHECK_STR((const char *)b.data,
		  "{\n  \"id\": \"corp\",\n  \"seconds\": 1.235,\n"
		  "  \"list\": [\n    {\"n\": 18446744073709551615, \"m\": -5},\n"
		  "    {}\n  ],\n  \"empty\": [\n  ],\n"
		  "  \"flags\": {\"a\": true, \"b\": null}\n}",
		  "spaced layout, byte for byte");
	buf_free(&b);

	buf_init(&b, 4096);
	json_init(&j, &b, JSON_COMPACT);
	json_begin_object(&j, JSON_INLINE);
	json_key(&j, "x");
	json_string(&j, NULL);
	json_key(&j, "t");
	json_begin_array(&j, JSON_LINES);
	json_uint(&j, 1);
	json_uint(&j, 2);
	json_end(&j);
	json_key(&j, "nan");
	json_fixed(&j, NAN, 3);
	json_end(&j);
	CHECK(json_finish(&j) == 0, "compact document complete");
	buf_append(&b, "", 1);
	CHECK_STR((const char *)b.data, "{\"x\":null,\"t\":[\n1,\n2],\"nan\":null}",
		  "compact layout with lines, null for NaN");
	buf_free(&b);

	/* A member and its value in one call: as the two calls. */
	buf_init(&b, 4096);
	json_init(&j, &b, JSON_SPACED);
	json_begin_object(&j, JSON_INLINE);
	json_key_string(&j, "s", "a\"b");
	json_key_string(&j, "none", NULL);
	json_key_uint(&j, "u", 18446744073709551615ULL);
	json_end(&j);
	CHECK(json_finish(&j) == 0, "json_key_string/uint document complete");
	buf_append(&b, "", 1);
	CHECK_STR((const char *)b.data,
		  "{\"s\": \"a\\\"b\", \"none\": null, "
		  "\"u\": 18446744073709551615}",
		  "json_key_string and json_key_uint");
	buf_free(&b);
	buf_init(&b, 4096);
	json_init(&j, &b, JSON_COMPACT);
	json_begin_array(&j, JSON_INLINE);
	json_key_uint(&j, "u", 1);		/* a key in an array */
	json_end(&j);
	CHECK(json_finish(&j) < 0, "json_key_uint in an array is refused");
	buf_free(&b);

	/* --- limits ------------------------------------------------------ */
	{
		/* "[1]" is 3 bytes: a maximum of 3 fits, 2 does not. */
		for (i = 2; i <= 3; i++) {
			buf_init(&b, (size_t)i);
			json_init(&j, &b, JSON_COMPACT);
			json_begin_array(&j, JSON_INLINE);
			json_uint(&j, 1);
			json_end(&j);
			CHECK(json_finish(&j) == (i == 3 ? 0 : -1),
			      "buffer maximum %d for 3 bytes", i);
			buf_free(&b);
		}
	}
	for (i = JSON_DEPTH_MAX; i <= JSON_DEPTH_MAX + 1; i++) {
		int k;

		buf_init(&b, 4096);
		json_init(&j, &b, JSON_COMPACT);
		for (k = 0; k < i; k++)
			json_begin_array(&j, JSON_INLINE);
		for (k = 0; k < i; k++)
			json_end(&j);
		CHECK(json_finish(&j) == (i == JSON_DEPTH_MAX ? 0 : -1),
		      "nesting %d (JSON_DEPTH_MAX %d)", i, JSON_DEPTH_MAX);
		buf_free(&b);
	}

	/* --- misuse ------------------------------------------------------ */
	buf_init(&b, 4096);
	json_init(&j, &b, JSON_COMPACT);
	json_begin_object(&j, JSON_INLINE);
	json_uint(&j, 1);			/* a value without a key */
	json_end(&j);
	CHECK(json_finish(&j) < 0, "a value without its key is refused");
	buf_free(&b);
	buf_init(&b, 4096);
	json_init(&j, &b, JSON_COMPACT);
	json_begin_object(&j, JSON_INLINE);
	json_key(&j, "a");
	json_end(&j);				/* the key's value missing */
	CHECK(json_finish(&j) < 0, "a key without its value is refused");
	buf_free(&b);
	buf_init(&b, 4096);
	json_init(&j, &b, JSON_COMPACT);
	json_begin_array(&j, JSON_INLINE);
	json_key(&j, "a");			/* a key in an array */
	json_end(&j);
	CHECK(json_finish(&j) < 0, "a key in an array is refused");
	buf_free(&b);
	buf_init(&b, 4096);
	json_init(&j, &b, JSON_COMPACT);
	json_begin_array(&j, JSON_INLINE);
	CHECK(json_finish(&j) < 0, "an unclosed container is refused");
	buf_free(&b);
	buf_init(&b, 4096);
	json_init(&j, &b, JSON_COMPACT);
	json_uint(&j, 1);
	json_uint(&j, 2);
	CHECK(json_finish(&j) < 0, "two documents are refused");
	buf_free(&b);
	return check_done();
}
