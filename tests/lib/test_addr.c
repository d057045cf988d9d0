/*
 * test_addr.c - address normalisation: the one function the aggregator,
 * catalogd and the admin tool share.  Table-driven, with hostile input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "check.h"

struct norm_case {
	const char *in;
	unsigned flags;
	const char *want;	/* NULL: refused */
	const char *why;	/* part of the reason when refused */
};

static const struct norm_case norm_cases[] = {
	{ "user@example.com", 0, "user@example.com", NULL },
	{ "John.Smith@Example.COM", 0, "john.smith@example.com", NULL },
	{ "John.Smith@Example.COM", ADDR_CASE_SENSITIVE, "John.Smith@example.com", NULL },
	{ "  padded@example.com \t", 0, "padded@example.com", NULL },
	{ "<angle@example.com>", ADDR_BRACKETS, "angle@example.com", NULL },
	{ "<angle@example.com>", 0, NULL, "bad character 0x3e in domain" },
	{ "user+tag@example.com", 0, "user+tag@example.com", NULL },
	{ "o'brien@example.com", 0, "o'brien@example.com", NULL },
	{ "a!#$%&'*+-/=?^_`{|}~@example.com", 0, "a!#$%&'*+-/=?^_`{|}~@example.com", NULL },
	{ "user@example.com.", 0, "user@example.com", NULL },
	{ "user@sub.example.co.uk", 0, "user@sub.example.co.uk", NULL },
	{ "\"john\"@example.com", 0, "john@example.com", NULL },
	{ "\"John Doe\"@example.com", 0, "\"john doe\"@example.com", NULL },
	{ "\"a\\\"b\"@example.com", 0, "\"a\\\"b\"@example.com", NULL },
	{ "\"x@y\"@example.com", 0, "\"x@y\"@example.com", NULL },
	{ "user@b\xc3\xbc" "cher.example", 0, "user@xn--bcher-kva.example", NULL },
	{ "user@B\xc3\x9c" "CHER.example", 0, "user@xn--bcher-kva.example", NULL },
	{ "j\xc3\xb6rg@example.com", 0, "j\xc3\xb6rg@example.com", NULL },
	{ "@example.com", ADDR_CATCHALL, "@example.com", NULL },
	{ "@example.com", 0, NULL, "empty local part" },
	{ "", 0, NULL, "empty address" },
	{ "   ", 0, NULL, "empty address" },
	{ "noatsign", 0, NULL, "no @" },
	{ "user@", 0, NULL, "empty domain" },
	{ "user@@example.com", 0, NULL, "bad character 0x40" },
	{ ".user@example.com", 0, NULL, "starts or ends with '.'" },
	{ "user.@example.com", 0, NULL, "starts or ends with '.'" },
	{ "us..er@example.com", 0, NULL, "'..'" },
	{ "us er@example.com", 0, NULL, "bad character 0x20 in local part at byte 2" },
	{ "user@exa mple.com", 0, NULL, "bad character 0x20 in domain" },
	{ "user@example..com", 0, NULL, "empty label" },
	{ "user@-example.com", 0, NULL, "starts with '-'" },
	{ "user@example-.com", 0, NULL, "ends with '-'" },
	{ "user@[192.0.2.1]", 0, NULL, "bad character 0x5b" },
	{ "\"unterminated@example.com", 0, NULL, "unterminated" },
	{ "\"ctl\x01\"@example.com", 0, NULL, "control character" },
	{ "bad\xff@example.com", 0, NULL, "invalid UTF-8 in local part at byte 3" },
	{ "bad\xc0\xaf@example.com", 0, NULL, "invalid UTF-8" },
	{ "user@bad\xff.example", 0, NULL, "invalid UTF-8 in domain" },
	{ "user@exa\x01mple.com", 0, NULL, "bad character 0x01" },
	{ "smtp:user@example.com", 0, NULL, "bad character 0x3a" },
};

static void test_normalise(void)
{
	size_t i;

	for (i = 0; i < sizeof(norm_cases) / sizeof(norm_cases[0]); i++) {
		const struct norm_case *c = &norm_cases[i];
		char out[ADDR_BUF], err[256] = "";
		int rc = addr_normalise(c->in, strlen(c->in), out, sizeof(out),
					c->flags, err, sizeof(err));

		if (c->want) {
			CHECK(rc == 0, "accepts case %zu (%s)", i, err);
			if (rc == 0)
				CHECK_STR(out, c->want, "normalises case %zu", i);
		} else {
			CHECK(rc < 0 && strstr(err, c->why),
			      "refuses case %zu: \"%s\" (want \"%s\")", i, err,
			      c->why);
		}
	}
}

/* Build "<n x 'a'>@<domain>". */
static char *mk(size_t local, const char *domain)
{
	char *s = malloc(local + strlen(domain) + 2);

	memset(s, 'a', local);
	s[local] = '@';
	strcpy(s + local + 1, domain);
	return s;
}

static void test_limits(void)
{
	char out[ADDR_BUF], err[256], dom[300];
	char *s;
	size_t i;

	s = mk(ADDR_LOCAL_MAX, "example.com");
	CHECK(addr_normalise(s, strlen(s), out, sizeof(out), 0, err, sizeof(err)) == 0,
	      "local part of %d bytes accepted", ADDR_LOCAL_MAX);
	free(s);
	s = mk(ADDR_LOCAL_MAX + 1, "example.com");
	CHECK(addr_normalise(s, strlen(s), out, sizeof(out), 0, err, sizeof(err)) < 0 &&
	      strstr(err, "local part longer than 64"), "local part of 65 bytes refused: %s", err);
	free(s);

	/* A 63-byte label is fine, 64 is not. */
	memset(dom, 'b', 63);
	strcpy(dom + 63, ".example");
	s = mk(1, dom);
	CHECK(addr_normalise(s, strlen(s), out, sizeof(out), 0, err, sizeof(err)) == 0,
	      "63-byte label accepted");
	free(s);
	memset(dom, 'b', 64);
	strcpy(dom + 64, ".example");
	s = mk(1, dom);
	CHECK(addr_normalise(s, strlen(s), out, sizeof(out), 0, err, sizeof(err)) < 0 &&
	      strstr(err, "label longer than 63"), "64-byte label refused: %s", err);
	free(s);

	/* Whole address at 254 bytes accepted, 255 refused. */
	{
		char d[256];
		size_t n = 0;

		/* 60 + 1 + 193 = 254 */
		while (n < 193) {
			size_t l = 193 - n > 50 ? 49 : 193 - n;

			memset(d + n, 'c', l);
			n += l;
			if (n < 193)
				d[n++] = '.';
		}
		d[n] = '\0';
		s = mk(60, d);
		CHECK(strlen(s) == 254 && addr_normalise(s, strlen(s), out, sizeof(out), 0,
							 err, sizeof(err)) == 0,
		      "254-byte address accepted (%s)", err);
		free(s);
		s = mk(61, d);
		CHECK(addr_normalise(s, strlen(s), out, sizeof(out), 0, err, sizeof(err)) < 0 &&
		      strstr(err, "longer than 254"), "255-byte address refused: %s", err);
		free(s);
	}

	/* Hostile: very long input, all junk bytes, NUL in the middle. */
	s = malloc(100000);
	memset(s, 'x', 100000);
	CHECK(addr_normalise(s, 100000, out, sizeof(out), 0, err, sizeof(err)) < 0 &&
	      strstr(err, "longer than 1024"), "100 kB input refused: %s", err);
	for (i = 0; i < 1000; i++)
		s[i] = (char)(i * 7 + 1);
	CHECK(addr_normalise(s, 1000, out, sizeof(out), 0, err, sizeof(err)) < 0,
	      "binary junk refused: %s", err);
	free(s);
	CHECK(addr_normalise("a\0b@example.com", 15, out, sizeof(out), 0, err, sizeof(err)) < 0,
	      "NUL byte refused: %s", err);
	CHECK(addr_normalise("user@example.com", 16, out, 10, 0, err, sizeof(err)) < 0,
	      "too small output buffer refused");
}

static void test_extension(void)
{
	char out[ADDR_BUF];

	CHECK(addr_strip_extension("user+tag@example.com", "+", out, sizeof(out)) == 1 &&
	      !strcmp(out, "user@example.com"), "strip +tag");
	CHECK(addr_strip_extension("user-tag+x@example.com", "+-", out, sizeof(out)) == 1 &&
	      !strcmp(out, "user@example.com"), "first of several delimiters");
	CHECK(addr_strip_extension("user@example.com", "+", out, sizeof(out)) == 0,
	      "no extension");
	CHECK(addr_strip_extension("+tag@example.com", "+", out, sizeof(out)) == 0,
	      "a delimiter in first position is no extension");
	CHECK(addr_strip_extension("user+tag@example.com", "", out, sizeof(out)) == 0,
	      "no delimiter configured");
	CHECK(addr_strip_extension("@example.com", "+", out, sizeof(out)) == 0,
	      "catch-all has no extension");
	CHECK_STR(addr_domain("user@example.com"), "example.com", "domain part");
	CHECK_STR(addr_domain("nodomain"), "", "no domain part");
}

static void test_domains(void)
{
	struct addr_domains *d = addr_domains_new();
	char err[256];

	CHECK(addr_domains_add(d, "Example.COM", 11, err, sizeof(err)) == 0, "add domain");
	CHECK(addr_domains_add(d, ".sub.example.org", 16, err, sizeof(err)) == 0,
	      "add subdomain wildcard");
	CHECK(addr_domains_add(d, "b\xc3\xbc" "cher.example", 15, err, sizeof(err)) == 0,
	      "add IDN domain");
	CHECK(addr_domains_add(d, "bad domain", 10, err, sizeof(err)) < 0, "bad domain refused");
	CHECK(addr_domains_add(d, "example.com", 11, err, sizeof(err)) == 0 &&
	      addr_domains_count(d) == 3, "duplicate domain added once");
	CHECK(addr_domains_match(d, "example.com"), "exact match");
	CHECK(!addr_domains_match(d, "mail.example.com"), "no subdomain without wildcard");
	CHECK(addr_domains_match(d, "a.sub.example.org"), "wildcard matches a subdomain");
	CHECK(!addr_domains_match(d, "sub.example.org"), "wildcard does not match itself");
	CHECK(!addr_domains_match(d, "xsub.example.org"), "wildcard needs a dot boundary");
	CHECK(addr_domains_match(d, "xn--bcher-kva.example"), "IDN stored as A-label");
	CHECK(!addr_domains_match(d, "example.net"), "foreign domain");
	addr_domains_free(d);
}

int main(void)
{
	test_normalise();
	test_limits();
	test_extension();
	test_domains();
	return check_done();
}
