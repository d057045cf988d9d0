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

/* The differential test: the fast path for plain ASCII against the
 * general code (ADDR_GENERAL), on random and mutated addresses. */
#define DIFF_CASES 100000

static unsigned long long diff_state = 0x9e3779b97f4a7c15ULL;

/* xorshift64*: the same cases on every run. */
static unsigned diff_rand(unsigned n)
{
	diff_state ^= diff_state >> 12;
	diff_state ^= diff_state << 25;
	diff_state ^= diff_state >> 27;
	return (unsigned)((diff_state * 2685821657736338717ULL) >> 33) % n;
}

/* A byte as addresses have them, and now and then as they should not. */
static char diff_byte(void)
{
	static const char common[] =
		"abcxyzABCXYZ0189..--__++@";
	static const char odd[] =
		"!#$%&'*/=?^`{|}~\"<>()[],;: \t\r\n\x01\x7f\x80\xc3\xbc\xff\0";
	unsigned r = diff_rand(100);

	if (r < 85)
		return common[diff_rand(sizeof(common) - 1)];
	return odd[diff_rand(sizeof(odd) - 1)];
}

/* A valid-looking address: local part and labels of random lengths
 * around the limits; returns its length. */
static size_t diff_valid(char *out, size_t size)
{
	static const char lc[] = "abcdefghijklmnopqrstuvwxyzABCDEFZ0123456789"
				 "._-+!#$%&'*/=?^`{|}~";
	static const char dc[] = "abcdefghijklmnopqrstuvwxyzABCDEFZ0123456789-_";
	size_t n = 0, i, llen, labels, l, len;

	llen = diff_rand(4) ? 1 + diff_rand(20) : 60 + diff_rand(8);
	for (i = 0; i < llen && n + 1 < size; i++)
		out[n++] = lc[diff_rand(sizeof(lc) - 1)];
	out[n++] = '@';
	labels = 1 + diff_rand(diff_rand(8) ? 3 : 6);
	for (l = 0; l < labels; l++) {
		if (l)
			out[n++] = '.';
		len = diff_rand(6) ? 1 + diff_rand(12) : 58 + diff_rand(8);
		for (i = 0; i < len && n + 2 < size; i++)
			out[n++] = dc[diff_rand(sizeof(dc) - 1)];
	}
	return n;
}

/* Change a few bytes: replace, insert, delete, or add a dot or space. */
static size_t diff_mutate(char *s, size_t n, size_t size)
{
	unsigned k, m = diff_rand(4);
	size_t at;

	for (k = 0; k < m; k++) {
		at = n ? diff_rand((unsigned)n + 1) : 0;
		switch (diff_rand(5)) {
		case 0:
			if (at < n)
				s[at] = diff_byte();
			break;
		case 1:
			if (n + 1 < size) {
				memmove(s + at + 1, s + at, n - at);
				s[at] = diff_byte();
				n++;
			}
			break;
		case 2:
			if (at < n) {
				memmove(s + at, s + at + 1, n - at - 1);
				n--;
			}
			break;
		case 3:
			if (n + 1 < size)
				s[n++] = diff_rand(2) ? '.' : ' ';
			break;
		default:
			if (at < n && s[at] >= 'a' && s[at] <= 'z')
				s[at] = (char)(s[at] - 'a' + 'A');
			break;
		}
	}
	return n;
}

static void test_fast_path(void)
{
	static const unsigned flagsets[] = {
		0, ADDR_CASE_SENSITIVE, ADDR_CATCHALL | ADDR_BRACKETS,
		ADDR_CASE_SENSITIVE | ADDR_CATCHALL | ADDR_BRACKETS
	};
	char in[600], fast[ADDR_BUF + 8], slow[ADDR_BUF + 8];
	char efast[128], eslow[128];
	unsigned long ok = 0, bad = 0, dok = 0, wrong = 0;
	size_t n, outsize, i;
	unsigned flags;
	int rf, rs, c;

	for (c = 0; c < DIFF_CASES; c++) {
		switch (diff_rand(3)) {
		case 0:
			n = diff_rand(70);
			for (i = 0; i < n; i++)
				in[i] = diff_byte();
			break;
		case 1:
			n = diff_valid(in, sizeof(in));
			break;
		default:
			n = diff_mutate(in, diff_valid(in, sizeof(in)),
					sizeof(in));
			break;
		}
		flags = flagsets[diff_rand(4)];
		outsize = diff_rand(8) ? ADDR_BUF : 1 + diff_rand(ADDR_BUF);
		memset(fast, 0x5a, sizeof(fast));
		memset(slow, 0x5a, sizeof(slow));
		strcpy(efast, "-");
		strcpy(eslow, "-");
		rf = addr_normalise(in, n, fast, outsize, flags, efast,
				    sizeof(efast));
		rs = addr_normalise(in, n, slow, outsize, flags | ADDR_GENERAL,
				    eslow, sizeof(eslow));
		if (rf != rs || strcmp(efast, eslow) != 0 ||
		    memcmp(fast, slow, sizeof(fast)) != 0) {
			if (wrong++ < 10)
				CHECK(0, "fast path differs on \"%.*s\" "
				      "flags %u size %zu: %d %s / %d %s",
				      (int)n, in, flags, outsize, rf, efast,
				      rs, eslow);
		}
		if (rf == 0)
			ok++;
		else
			bad++;
		/* One delimiter has its own search; "++" takes the other. */
		if (rf == 0) {
			char x1[ADDR_BUF] = "", x2[ADDR_BUF] = "";
			int s1 = addr_strip_extension(fast, "+", x1,
						      sizeof(x1));
			int s2 = addr_strip_extension(fast, "++", x2,
						      sizeof(x2));

			if (s1 != s2 || (s1 && strcmp(x1, x2) != 0)) {
				if (wrong++ < 10)
					CHECK(0, "extension of %s: %d %s / "
					      "%d %s", fast, s1, x1, s2, x2);
			}
		}

		/* The domain alone: with a leading space, which the
		 * general code trims, the fast path never applies. */
		{
			const char *d = memchr(in, '@', n);
			char spaced[601];
			size_t dl;

			d = d ? d + 1 : in;
			dl = n - (size_t)(d - in);
			spaced[0] = ' ';
			memcpy(spaced + 1, d, dl);
			memset(fast, 0x5a, sizeof(fast));
			memset(slow, 0x5a, sizeof(slow));
			strcpy(efast, "-");
			strcpy(eslow, "-");
			rf = addr_domain_normalise(d, dl, fast, outsize, efast,
						   sizeof(efast));
			rs = addr_domain_normalise(spaced, dl + 1, slow,
						   outsize, eslow,
						   sizeof(eslow));
			if (rf != rs || strcmp(efast, eslow) != 0 ||
			    memcmp(fast, slow, sizeof(fast)) != 0) {
				if (wrong++ < 10)
					CHECK(0, "fast domain path differs on "
					      "\"%.*s\": %d %s / %d %s",
					      (int)dl, d, rf, efast, rs, eslow);
			}
			if (rf == 0)
				dok++;
		}
	}
	/* Every byte value in each place of a short address. */
	{
		static const char *const shapes[] = {
			"a?b@x.y", "?a@x.y", "a?@x.y", "a@x?y.z", "a@?x.y",
			"a@x.y?", "a.?@x.y", "a@x.?y"
		};
		size_t k;

		for (k = 0; k < sizeof(shapes) / sizeof(shapes[0]); k++)
			for (c = 0; c < 256; c++) {
				char *q;

				n = strlen(shapes[k]);
				memcpy(in, shapes[k], n);
				q = memchr(in, '?', n);
				*q = (char)c;
				for (i = 0; i < 2; i++) {
					flags = i ? ADDR_CASE_SENSITIVE : 0;
					strcpy(efast, "-");
					strcpy(eslow, "-");
					memset(fast, 0x5a, sizeof(fast));
					memset(slow, 0x5a, sizeof(slow));
					rf = addr_normalise(in, n, fast,
							    ADDR_BUF, flags,
							    efast,
							    sizeof(efast));
					rs = addr_normalise(in, n, slow,
							    ADDR_BUF,
							    flags | ADDR_GENERAL,
							    eslow,
							    sizeof(eslow));
					if ((rf != rs || strcmp(efast, eslow) ||
					     memcmp(fast, slow,
						    sizeof(fast))) &&
					    wrong++ < 10)
						CHECK(0, "fast path differs on "
						      "byte 0x%02x in %s", c,
						      shapes[k]);
				}
			}
	}
	CHECK(wrong == 0, "fast path and general code agree on %d cases "
	      "(%lu differ)", DIFF_CASES, wrong);
	CHECK(ok > DIFF_CASES / 5 && bad > DIFF_CASES / 5 &&
	      dok > DIFF_CASES / 5,
	      "both outcomes covered: %lu accepted, %lu refused, %lu domains",
	      ok, bad, dok);
}

int main(void)
{
	test_normalise();
	test_limits();
	test_extension();
	test_domains();
	test_fast_path();
	return check_done();
}
