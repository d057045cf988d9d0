/*
 * test_kvtext.c - lib/kvtext.c: escaping, the strict reader, its limits
 * at N and N+1, and that no value can forge a line.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "kvtext.h"

struct rec {
	uint64_t u;
	int64_t i;
	char t[8];
	int yes;
	uint64_t req;
};

static const struct kvtext_field fields[] = {
	{ "u", KVTEXT_U64, 0, KVTEXT_FIELD(struct rec, u) },
	{ "i", KVTEXT_I64, 0, KVTEXT_FIELD(struct rec, i) },
	{ "t", KVTEXT_TEXT, 0, KVTEXT_FIELD(struct rec, t) },
	{ "yes", KVTEXT_YESNO, 0, KVTEXT_FIELD(struct rec, yes) },
	{ "req", KVTEXT_U64, KVTEXT_REQUIRED, KVTEXT_FIELD(struct rec, req) },
	{ .key = NULL }
};

static const struct kvtext_doc doc = { "test", fields, 4096, 512 };

/* Parse s with fields; 0/-1, err filled. */
static int parse(const char *s, size_t line_max, struct rec *r, char *err,
		 size_t errlen)
{
	struct kvtext_doc d = { "test", fields, 4096, line_max };

	memset(r, 0, sizeof(*r));
	err[0] = '\0';
	return kvtext_parse(&d, s, strlen(s), r, err, errlen);
}

struct one {
	char text[1100];
};
static const struct kvtext_field one_fields[] = {
	{ "v", KVTEXT_TEXT, KVTEXT_REQUIRED, KVTEXT_FIELD(struct one, text) },
	{ .key = NULL }
};

static const struct kvtext_doc one_doc = { "one", one_fields, 4096, 2048 };

/* Every byte but NUL goes through escape and parse unchanged. */
static void test_round_trip(void)
{
	struct one a, b;
	struct buf out;
	char err[256] = "";
	size_t i, lines = 0;
	int ok = 1;

	memset(&a, 0, sizeof(a));
	for (i = 1; i < 256; i++)
		a.text[i - 1] = (char)i;
	buf_init(&out, 4096);
	CHECK(kvtext_format(&one_doc, &out, &a, err, sizeof(err)) == 0,
	      "format 255 bytes");
	for (i = 0; i < out.len; i++) {
		if (out.data[i] == '\n')
			lines++;
		else if (out.data[i] < 0x20 || out.data[i] > 0x7e)
			ok = 0;
	}
	CHECK(ok && lines == 1 && out.data[out.len - 1] == '\n',
	      "written as one line of printable ASCII");
	memset(&b, 0, sizeof(b));
	CHECK(kvtext_parse(&one_doc, (const char *)out.data, out.len, &b, err,
			   sizeof(err)) == 0 &&
	      !strcmp(a.text, b.text), "every byte but NUL read back (%s)",
	      err);
	buf_free(&out);
}

/* A value made to look like more lines stays one value. */
static void test_forgery(void)
{
	struct rec r;
	struct buf out;
	char err[256] = "";

	memset(&r, 0, sizeof(r));
	util_copy_fit(r.t, "x\nreq=9", sizeof(r.t));
	r.req = 1;
	buf_init(&out, 4096);
	CHECK(kvtext_format(&doc, &out, &r, err, sizeof(err)) == 0, "format");
	CHECK(strstr((const char *)out.data, "\nreq=9") == NULL,
	      "a newline in a value is escaped");
	CHECK(strstr((const char *)out.data, "t=x\\x0areq=9\n") != NULL,
	      "as \\x0a");
	memset(&r, 0, sizeof(r));
	CHECK(kvtext_parse(&doc, (const char *)out.data, out.len, &r, err,
			   sizeof(err)) == 0 && r.req == 1 &&
	      !strcmp(r.t, "x\nreq=9"), "read back: req stays 1");
	buf_free(&out);
	CHECK(!strcmp(kvtext_escape("a\\b\r", 4, err, sizeof(err)),
		      "a\\\\b\\x0d"), "escape: backslash and CR");
	CHECK(!strcmp(kvtext_escape("\xff\xfe", 2, err, 6), "\\xff"),
	      "escape: cut at a whole escape");
}

static void test_reader(void)
{
	struct rec r;
	char err[256] = "", line[700];
	int rc;

	rc = parse("# comment\n\nu=18446744073709551615\ni=-9223372036854775808\n"
		   "t=abcdefg\nyes=yes\nreq=0\nunknown=whatever\n", 512, &r,
		   err, sizeof(err));
	CHECK(rc == 0 && r.u == UINT64_MAX && r.i == INT64_MIN &&
	      !strcmp(r.t, "abcdefg") && r.yes == 1,
	      "limits of every type, unknown key skipped (%s)", err);
	rc = parse("u=18446744073709551616\nreq=1\n", 512, &r, err,
		   sizeof(err));
	CHECK(rc < 0 && strstr(err, "line 1") && strstr(err, "u: not"),
	      "u64 max + 1 refused: %s", err);
	rc = parse("i=9223372036854775807\nreq=1\n", 512, &r, err,
		   sizeof(err));
	CHECK(rc == 0 && r.i == INT64_MAX, "i64 max");
	rc = parse("i=9223372036854775808\nreq=1\n", 512, &r, err,
		   sizeof(err));
	CHECK(rc < 0, "i64 max + 1 refused");
	rc = parse("i=-9223372036854775809\nreq=1\n", 512, &r, err,
		   sizeof(err));
	CHECK(rc < 0, "i64 min - 1 refused");
	CHECK(parse("u= 1\nreq=1\n", 512, &r, err, sizeof(err)) < 0 &&
	      parse("u=+1\nreq=1\n", 512, &r, err, sizeof(err)) < 0 &&
	      parse("u=-1\nreq=1\n", 512, &r, err, sizeof(err)) < 0 &&
	      parse("u=\nreq=1\n", 512, &r, err, sizeof(err)) < 0 &&
	      parse("u=0x1\nreq=1\n", 512, &r, err, sizeof(err)) < 0,
	      "numbers: plain decimal only");
	rc = parse("t=abcdefgh\nreq=1\n", 512, &r, err, sizeof(err));
	CHECK(rc < 0 && strstr(err, "longer than 7"),
	      "text of size + 1 refused: %s", err);
	CHECK(parse("yes=Yes\nreq=1\n", 512, &r, err, sizeof(err)) < 0,
	      "yes/no: exactly");
	rc = parse("u=1\n", 512, &r, err, sizeof(err));
	CHECK(rc < 0 && strstr(err, "no req= line"), "required key: %s", err);
	rc = parse("req=1\nreq=2\n", 512, &r, err, sizeof(err));
	CHECK(rc < 0 && strstr(err, "line 2") && strstr(err, "twice"),
	      "a key given twice refused: %s", err);
	rc = parse("req=1\r\nt=a\r\n", 512, &r, err, sizeof(err));
	CHECK(rc == 0 && !strcmp(r.t, "a"), "CRLF line ends");
	rc = parse("req=1\nt=a\\x00b\n", 512, &r, err, sizeof(err));
	CHECK(rc < 0 && strstr(err, "line 2 col 4") && strstr(err, "NUL"),
	      "escaped NUL refused: %s", err);
	rc = parse("req=1\nt=a\\nb\n", 512, &r, err, sizeof(err));
	CHECK(rc < 0 && strstr(err, "bad escape"), "\\n is not an escape");
	rc = parse("req=1\nt=a\\x4\n", 512, &r, err, sizeof(err));
	CHECK(rc < 0, "short \\x escape refused");
	rc = parse("req=1\nt=a\\\n", 512, &r, err, sizeof(err));
	CHECK(rc < 0, "backslash at the end refused");
	rc = parse("req=1\nt=a\tb\n", 512, &r, err, sizeof(err));
	CHECK(rc < 0 && strstr(err, "0x09"), "raw tab refused: %s", err);
	rc = parse("req=1\nt=\xc3\xa4\n", 512, &r, err, sizeof(err));
	CHECK(rc < 0, "raw UTF-8 refused (values are escaped)");
	rc = parse("req=1\nt=\\xC3\\xa4\n", 512, &r, err, sizeof(err));
	CHECK(rc == 0 && !strcmp(r.t, "\xc3\xa4"), "hex in either case");
	rc = parse("req=1\nT=a\n", 512, &r, err, sizeof(err));
	CHECK(rc < 0 && strstr(err, "line 2 col 1"), "upper-case key refused");
	rc = parse("req=1\n=a\n", 512, &r, err, sizeof(err));
	CHECK(rc < 0, "empty key refused");
	rc = parse("req=1\nnoequals\n", 512, &r, err, sizeof(err));
	CHECK(rc < 0 && strstr(err, "expected key=value"), "no '=' refused");

	/* Key: KVTEXT_KEY_MAX bytes, then one more. */
	memset(line, 'k', KVTEXT_KEY_MAX);
	snprintf(line + KVTEXT_KEY_MAX, sizeof(line) - KVTEXT_KEY_MAX,
		 "=1\nreq=1\n");
	CHECK(parse(line, 512, &r, err, sizeof(err)) == 0,
	      "key of %d bytes", KVTEXT_KEY_MAX);
	memset(line, 'k', KVTEXT_KEY_MAX + 1);
	snprintf(line + KVTEXT_KEY_MAX + 1, sizeof(line) - KVTEXT_KEY_MAX - 1,
		 "=1\nreq=1\n");
	CHECK(parse(line, 512, &r, err, sizeof(err)) < 0,
	      "key of %d bytes refused", KVTEXT_KEY_MAX + 1);

	/* Line: line_max bytes, then one more. */
	memset(line, 0, sizeof(line));
	memcpy(line, "req=", 4);
	memset(line + 4, '1', 1);
	memcpy(line + 5, "\nx=", 3);
	memset(line + 8, 'a', 100 - 2);
	line[8 + 98] = '\n';
	CHECK(parse(line, 100, &r, err, sizeof(err)) == 0,
	      "a line of line_max bytes");
	line[8 + 98] = 'a';
	line[8 + 99] = '\n';
	rc = parse(line, 100, &r, err, sizeof(err));
	CHECK(rc < 0 && strstr(err, "line 2: longer than 100"),
	      "a line of line_max + 1 bytes refused: %s", err);
}

struct list {
	uint64_t n;
	struct {
		char name[8];
		uint64_t v;
	} item[3];
};
static const struct kvtext_field list_fields[] = {
	{ "n", KVTEXT_U64, 0, KVTEXT_FIELD(struct list, n) },
	{ "name", KVTEXT_TEXT, 0, KVTEXT_FIELD(struct list, item[0].name),
	  KVTEXT_ARRAY(3, sizeof(((struct list *)0)->item[0])) },
	{ "v", KVTEXT_U64, 0, KVTEXT_FIELD(struct list, item[0].v),
	  KVTEXT_ARRAY(3, sizeof(((struct list *)0)->item[0])) },
	{ .key = NULL }
};

static const struct kvtext_doc list_doc = { "list", list_fields, 512, 100 };

/* Arrays: "key.N" lines, empty elements left out. */
static void test_arrays(void)
{
	struct list a, b;
	struct buf out;
	char err[256] = "";
	int rc;

	memset(&a, 0, sizeof(a));
	a.n = 3;
	util_copy_fit(a.item[0].name, "map", sizeof(a.item[0].name));
	a.item[0].v = 5;
	util_copy_fit(a.item[2].name, "ctl", sizeof(a.item[2].name));
	buf_init(&out, 512);
	CHECK(kvtext_format(&list_doc, &out, &a, err, sizeof(err)) == 0 &&
	      out.len == strlen("n=3\nname.0=map\nname.2=ctl\nv.0=5\n") &&
	      !memcmp(out.data, "n=3\nname.0=map\nname.2=ctl\nv.0=5\n",
		      out.len), "array elements as key.N, empty ones left out");
	memset(&b, 0, sizeof(b));
	CHECK(kvtext_parse(&list_doc, (const char *)out.data, out.len, &b, err,
			   sizeof(err)) == 0 &&
	      !memcmp(&a, &b, sizeof(a)), "read back (%s)", err);
	buf_free(&out);
	memset(&b, 0, sizeof(b));
	rc = kvtext_parse(&list_doc, "v.2=7\nv.3=8\nv.01=9\nv.=1\nv=2\n", 28,
			  &b, err, sizeof(err));
	CHECK(rc == 0 && b.item[2].v == 7 && b.item[1].v == 0 &&
	      b.item[0].v == 0, "index 2 of 3 read; 3, 01, empty: skipped");
	rc = kvtext_parse(&list_doc, "v.1=7\nv.1=8\n", 12, &b, err,
			  sizeof(err));
	CHECK(rc < 0 && strstr(err, "v.1 given twice"), "an element twice: %s",
	      err);
}

/* The whole text: text_max bytes, then one more; the writer too. */
static void test_text_max(void)
{
	struct kvtext_doc small = { "small", fields, 40, 40 };
	struct rec r;
	struct buf out;
	char text[64], err[256] = "";
	int rc;

	memset(text, '\n', sizeof(text));
	memcpy(text, "req=1\n", 6);
	rc = kvtext_parse(&small, text, 40, &r, err, sizeof(err));
	CHECK(rc == 0, "a text of text_max bytes");
	rc = kvtext_parse(&small, text, 41, &r, err, sizeof(err));
	CHECK(rc < 0 && strstr(err, "small: larger than 40 bytes"),
	      "a text of text_max + 1 bytes refused: %s", err);
	memset(&r, 0, sizeof(r));
	buf_init(&out, 1000);
	small.text_max = 1000;
	kvtext_format(&small, &out, &r, err, sizeof(err));
	small.text_max = out.len - 1;	/* one byte short */
	out.len = 0;
	buf_append(&out, "x", 1);
	rc = kvtext_format(&small, &out, &r, err, sizeof(err));
	CHECK(rc < 0 && out.len == 1 && strstr(err, "larger than"),
	      "the writer refuses text_max + 1, leaves b as it was");
	small.text_max++;
	rc = kvtext_format(&small, &out, &r, err, sizeof(err));
	CHECK(rc == 0 && out.len == small.text_max + 1,
	      "the writer writes text_max");
	buf_free(&out);
}

int main(void)
{
	test_text_max();
	test_arrays();
	test_round_trip();
	test_forgery();
	test_reader();
	return check_done();
}
