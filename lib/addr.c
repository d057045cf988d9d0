/*
 * addr.c - address normalisation; see addr.h.
 */
#include <ctype.h>
#include <idn2.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "utf8.h"
#include "util.h"

#define ADDR_DOMAINS_MAX 4096	/* local domains in one set */

/* RFC 5322 atext, ASCII part. */
static int addr_atext(unsigned char c)
{
	if (isalnum(c))
		return 1;
	return c && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/*
 * The fast path.  Nearly every address looked up is plain ASCII: letters,
 * digits and a few symbols, no quotes, no white space, no UTF-8.  For
 * those, one pass over a table of byte classes checks and copies
 * (lower-cased); anything else, valid or not, is left to the general
 * code below, which also writes every error message.  The checks here are those of the general
 * code, so both give the same result (tests/lib/test_addr.c compares
 * them on random and mutated addresses).
 */

/* What the fast path accepts, by byte (0x80 and above: nothing). */
#define ADDR_FC_LOCAL  0x01	/* ASCII atext or '.' (dot-atom) */
#define ADDR_FC_LABEL  0x02	/* letter, digit or '_' (a label's body) */
#define ADDR_FC_HYPHEN 0x04	/* '-' */
#define ADDR_FC_DOT    0x08	/* '.' */
#define ADDR_FC_UPPER  0x20	/* A-Z: OR-ing this bit lower-cases */

static const unsigned char addr_fc[256] = {
	/* 0x00-0x1f: control characters */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	/* ' ' ! " # $ % & ' ( ) * + , - . / */
	0x00, 0x01, 0x00, 0x01, 0x01, 0x01, 0x01, 0x01,
	0x00, 0x00, 0x01, 0x01, 0x00, 0x05, 0x09, 0x01,
	/* 0-9 : ; < = > ? */
	0x03, 0x03, 0x03, 0x03, 0x03, 0x03, 0x03, 0x03,
	0x03, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01,
	/* @ A-O */
	0x00, 0x23, 0x23, 0x23, 0x23, 0x23, 0x23, 0x23,
	0x23, 0x23, 0x23, 0x23, 0x23, 0x23, 0x23, 0x23,
	/* P-Z [ \ ] ^ _ */
	0x23, 0x23, 0x23, 0x23, 0x23, 0x23, 0x23, 0x23,
	0x23, 0x23, 0x23, 0x00, 0x00, 0x00, 0x01, 0x03,
	/* ` a-o */
	0x01, 0x03, 0x03, 0x03, 0x03, 0x03, 0x03, 0x03,
	0x03, 0x03, 0x03, 0x03, 0x03, 0x03, 0x03, 0x03,
	/* p-z { | } ~ DEL */
	0x03, 0x03, 0x03, 0x03, 0x03, 0x03, 0x03, 0x03,
	0x03, 0x03, 0x03, 0x01, 0x01, 0x01, 0x01, 0x00,
};

/*
 * Check the domain p[0..len) as the general code would take it as it is,
 * apart from case: labels of 1 to 63 letters, digits, '-' or '_', not
 * starting or ending with '-', at most ADDR_DOMAIN_MAX bytes.  When it
 * is, write it lower-cased to out (no NUL) and return 1; else 0, with
 * out[0..len) scribbled on.
 */
static int addr_fast_domain(const unsigned char *p, size_t len, char *out)
{
	size_t i, label = 0;

	if (len == 0 || len > ADDR_DOMAIN_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned c = p[i], k = addr_fc[c];

		if (k & ADDR_FC_LABEL) {
			if (++label > 63)
				return 0;
		} else if (k & ADDR_FC_DOT) {
			if (label == 0 || p[i - 1] == '-')
				return 0;
			label = 0;
		} else if ((k & ADDR_FC_HYPHEN) && label > 0) {
			if (++label > 63)
				return 0;
		} else {
			return 0;
		}
		out[i] = (char)(c | (k & ADDR_FC_UPPER));
	}
	return label > 0 && p[len - 1] != '-';
}

/* The whole address, trimmed: 1 with out written when plain ASCII (a
 * dot-atom local part of atext, a domain as above); else 0, out
 * untouched, as the general code leaves it on an error. */
static int addr_fast_address(const unsigned char *p, size_t len, char *out,
			     size_t outsize, unsigned flags)
{
	char tmp[ADDR_BUF];
	unsigned char lower = (flags & ADDR_CASE_SENSITIVE) ? 0 : ADDR_FC_UPPER;
	size_t i, llen, dlen;

	if ((flags & ADDR_GENERAL) || len > ADDR_MAX || len + 1 > outsize ||
	    p[0] == '.')
		return 0;
	/* The local part up to the first '@' (atext has none). */
	for (i = 0; i < len; i++) {
		unsigned c = p[i], k = addr_fc[c];

		if (!(k & ADDR_FC_LOCAL))
			break;
		if ((k & ADDR_FC_DOT) && p[i - 1] == '.')
			return 0;	/* ".." (p[0] is not '.') */
		tmp[i] = (char)(c | (k & lower));
	}
	llen = i;
	if (llen == 0 || llen == len || p[llen] != '@' ||
	    llen > ADDR_LOCAL_MAX || p[llen - 1] == '.')
		return 0;
	dlen = len - llen - 1;
	if (!addr_fast_domain(p + llen + 1, dlen, tmp + llen + 1))
		return 0;
	tmp[llen] = '@';
	memcpy(out, tmp, len);
	out[len] = '\0';
	return 1;
}

/* An internationalised domain (len bytes of UTF-8): its A-label form,
 * checked by the ASCII rules.  0, or -1 with err. */
static int addr_domain_idn(const unsigned char *p, size_t len, char *out,
			   size_t outsize, char *err, size_t errlen)
{
	char tmp[ADDR_INPUT_MAX + 1], *ace = NULL;
	size_t i;
	int rc;

	for (i = 0; i < len;) {
		size_t n = utf8_seq(p + i, len - i, NULL);

		if (n == 0) {
			util_err(err, errlen,
				 "invalid UTF-8 in domain at byte %zu", i);
			return -1;
		}
		i += n;
	}
	memcpy(tmp, p, len);
	tmp[len] = '\0';
	rc = idn2_to_ascii_8z(tmp, &ace, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
	if (rc != IDN2_OK) {
		util_err(err, errlen, "bad internationalised domain: %s",
			 idn2_strerror(rc));
		return -1;
	}
	if (strlen(ace) + 1 > outsize || strlen(ace) > ADDR_DOMAIN_MAX) {
		util_err(err, errlen, "domain longer than %d bytes",
			 ADDR_DOMAIN_MAX);
		idn2_free(ace);
		return -1;
	}
	/* Check the A-label form with the ASCII rules. */
	memcpy(tmp, ace, strlen(ace) + 1);
	idn2_free(ace);
	return addr_domain_normalise(tmp, strlen(tmp), out, outsize, err,
				     errlen);
}

/* An ASCII domain (len bytes) in lower case into out: labels of 1 to 63
 * letters, digits, '-' and '_', not starting or ending with '-'.  0, or
 * -1 with err naming the byte. */
static int addr_domain_ascii(const unsigned char *p, size_t len, char *out,
			     size_t outsize, char *err, size_t errlen)
{
	size_t i, label = 0;

	if (len > ADDR_DOMAIN_MAX || len + 1 > outsize) {
		util_err(err, errlen, "domain longer than %d bytes",
			 ADDR_DOMAIN_MAX);
		return -1;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = p[i];

		if (c == '.') {
			if (label == 0) {
				util_err(err, errlen,
					 "empty label in domain at byte %zu", i);
				return -1;
			}
			if (out[i - 1] == '-') {
				util_err(err, errlen,
					 "label ends with '-' at byte %zu", i);
				return -1;
			}
			label = 0;
			out[i] = '.';
			continue;
		}
		if (!isalnum(c) && c != '-' && c != '_') {
			util_err(err, errlen,
				 "bad character 0x%02x in domain at byte %zu",
				 c, i);
			return -1;
		}
		if (c == '-' && label == 0) {
			util_err(err, errlen, "label starts with '-' at byte %zu",
				 i);
			return -1;
		}
		if (++label > 63) {
			util_err(err, errlen, "label longer than 63 at byte %zu",
				 i);
			return -1;
		}
		out[i] = (char)tolower(c);
	}
	if (label == 0 || out[len - 1] == '-') {
		util_err(err, errlen, "domain ends badly");
		return -1;
	}
	out[len] = '\0';
	return 0;
}

/* addr_domain_normalise() without the fast path: the text trimmed (and
 * its root dot), then the IDN or the ASCII rules. */
static int addr_domain_general(const char *in, size_t len, char *out,
			       size_t outsize, char *err, size_t errlen)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t i;

	while (len && isspace(p[0])) {
		p++;
		len--;
	}
	while (len && isspace(p[len - 1]))
		len--;
	if (len && p[len - 1] == '.')
		len--;	/* a fully qualified name's root dot */
	if (len == 0) {
		util_err(err, errlen, "empty domain");
		return -1;
	}
	if (len > ADDR_INPUT_MAX) {
		util_err(err, errlen, "domain longer than %d bytes",
			 ADDR_INPUT_MAX);
		return -1;
	}
	for (i = 0; i < len; i++)
		if (p[i] >= 0x80)
			return addr_domain_idn(p, len, out, outsize, err,
					       errlen);
	return addr_domain_ascii(p, len, out, outsize, err, errlen);
}

int addr_domain_normalise(const char *in, size_t len, char *out,
			  size_t outsize, char *err, size_t errlen)
{
	const unsigned char *p = (const unsigned char *)in;
	char tmp[ADDR_DOMAIN_MAX];

	if (len < outsize && addr_fast_domain(p, len, tmp)) {
		memcpy(out, tmp, len);
		out[len] = '\0';
		return 0;
	}
	return addr_domain_general(in, len, out, outsize, err, errlen);
}

/* Validate and copy a dot-atom local part (possibly UTF-8). */
static int addr_local_dotatom(const unsigned char *p, size_t len, char *out,
			      unsigned flags, char *err, size_t errlen)
{
	size_t i;

	if (p[0] == '.' || p[len - 1] == '.') {
		util_err(err, errlen, "local part starts or ends with '.'");
		return -1;
	}
	for (i = 0; i < len;) {
		unsigned char c = p[i];

		if (c == '.' && p[i + 1] == '.') {
			util_err(err, errlen, "'..' in local part at byte %zu",
				 i);
			return -1;
		}
		if (c >= 0x80) {
			size_t n = utf8_seq(p + i, len - i, NULL);

			if (n == 0) {
				util_err(err, errlen,
					 "invalid UTF-8 in local part at byte %zu",
					 i);
				return -1;
			}
			memcpy(out + i, p + i, n);
			i += n;
			continue;
		}
		if (c != '.' && !addr_atext(c)) {
			util_err(err, errlen,
				 "bad character 0x%02x in local part at byte %zu",
				 c, i);
			return -1;
		}
		out[i] = (flags & ADDR_CASE_SENSITIVE) ? (char)c
						       : (char)tolower(c);
		i++;
	}
	return 0;
}

/*
 * A quoted local part p[0..llen) ("..."), unescaped and case-folded into
 * local (size bytes); written back as a plain atom when it is one, else
 * quoted again with '"' and '\\' escaped.  0, or -1 with err.
 */
static int addr_local_quoted(const unsigned char *p, size_t llen, char *local,
			     size_t size, unsigned flags, char *err,
			     size_t errlen)
{
	size_t o = 0, j;
	int plain = 1;

	if (llen < 2 || p[llen - 1] != '"') {
		util_err(err, errlen, "unterminated quoted local part");
		return -1;
	}
	for (j = 1; j + 1 < llen; j++) {
		unsigned char c = p[j];

		if (c == '\\') {
			if (j + 2 >= llen) {
				util_err(err, errlen,
					 "bad escape in local part at byte %zu", j);
				return -1;
			}
			c = p[++j];
		}
		if (c < 0x20 || c == 0x7f) {
			util_err(err, errlen,
				 "control character in local part at byte %zu",
				 j);
			return -1;
		}
		if (!addr_atext(c) && c != '.')
			plain = 0;
		if (o + 2 >= size - 1)
			break;
		local[o++] = (flags & ADDR_CASE_SENSITIVE) ? (char)c
							   : (char)tolower(c);
	}
	local[o] = '\0';
	if (o == 0 || local[0] == '.' || local[o - 1] == '.' ||
	    strstr(local, ".."))
		plain = 0;
	if (!plain) {
		/* Re-quote, escaping '"' and '\\'. */
		char q[(ADDR_INPUT_MAX + 3) * 2 + 3];
		size_t k, w = 0;

		q[w++] = '"';
		for (k = 0; k < o && w + 3 < sizeof(q); k++) {
			if (local[k] == '"' || local[k] == '\\')
				q[w++] = '\\';
			q[w++] = local[k];
		}
		q[w++] = '"';
		q[w] = '\0';
		if (w >= size) {
			util_err(err, errlen, "local part longer than %d bytes",
				 ADDR_LOCAL_MAX);
			return -1;
		}
		memcpy(local, q, w + 1);
	}
	return 0;
}

int addr_normalise(const char *in, size_t len, char *out, size_t outsize,
		   unsigned flags, char *err, size_t errlen)
{
	const unsigned char *p = (const unsigned char *)in;
	const unsigned char *at = NULL;
	size_t i, llen, dlen;
	char local[ADDR_INPUT_MAX + 3];
	char domain[ADDR_BUF];

	if (len > ADDR_INPUT_MAX) {
		util_err(err, errlen, "longer than %d bytes", ADDR_INPUT_MAX);
		return -1;
	}
	while (len && isspace(p[0])) {
		p++;
		len--;
	}
	while (len && isspace(p[len - 1]))
		len--;
	if ((flags & ADDR_BRACKETS) && len >= 2 && p[0] == '<' &&
	    p[len - 1] == '>') {
		p++;
		len -= 2;
	}
	if (len == 0) {
		util_err(err, errlen, "empty address");
		return -1;
	}
	if (addr_fast_address(p, len, out, outsize, flags))
		return 0;
	/* The domain follows the last '@' (a quoted local part may hold one). */
	for (i = len; i > 0; i--)
		if (p[i - 1] == '@') {
			at = p + i - 1;
			break;
		}
	if (!at) {
		util_err(err, errlen, "no @ in address");
		return -1;
	}
	llen = (size_t)(at - p);
	dlen = len - llen - 1;
	if (((flags & ADDR_GENERAL) ? addr_domain_general
				    : addr_domain_normalise)(
		    (const char *)at + 1, dlen, domain, sizeof(domain), err,
		    errlen) < 0)
		return -1;
	if (llen == 0) {
		if (!(flags & ADDR_CATCHALL)) {
			util_err(err, errlen, "empty local part");
			return -1;
		}
		local[0] = '\0';
	} else if (p[0] == '"') {
		if (addr_local_quoted(p, llen, local, sizeof(local), flags, err,
				      errlen) < 0)
			return -1;
	} else {
		if (addr_local_dotatom(p, llen, local, flags, err, errlen) < 0)
			return -1;
		local[llen] = '\0';
	}
	llen = strlen(local);
	if (llen > ADDR_LOCAL_MAX) {
		util_err(err, errlen, "local part longer than %d bytes",
			 ADDR_LOCAL_MAX);
		return -1;
	}
	dlen = strlen(domain);
	if (llen + 1 + dlen > ADDR_MAX || llen + 2 + dlen > outsize) {
		util_err(err, errlen, "address longer than %d bytes", ADDR_MAX);
		return -1;
	}
	memcpy(out, local, llen);
	out[llen] = '@';
	memcpy(out + llen + 1, domain, dlen + 1);
	return 0;
}

const char *addr_domain(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at ? at + 1 : addr + strlen(addr);
}

int addr_strip_extension(const char *addr, const char *delims, char *out,
			 size_t outsize)
{
	const char *at = strrchr(addr, '@');
	size_t i, cut;

	if (!at || !delims || !*delims || addr[0] == '"')
		return 0;
	if (!delims[1]) {
		/* One delimiter, the usual case: no per-byte search. */
		const char *d = at > addr ? memchr(addr + 1, delims[0],
						   (size_t)(at - addr - 1))
					  : NULL;

		i = d ? (size_t)(d - addr) : (size_t)(at - addr);
	} else {
		for (i = 1; addr + i < at; i++)
			if (strchr(delims, addr[i]))
				break;
	}
	if (addr + i >= at)
		return 0;
	cut = i;
	if (cut + strlen(at) + 1 > outsize)
		return 0;
	memcpy(out, addr, cut);
	memcpy(out + cut, at, strlen(at) + 1);
	return 1;
}

struct addr_domains {
	char **names;
	size_t n, cap;
	int sorted;
};

struct addr_domains *addr_domains_new(void)
{
	return xcalloc(1, sizeof(struct addr_domains));
}

int addr_domains_add(struct addr_domains *set, const char *d, size_t len,
		     char *err, size_t errlen)
{
	char norm[ADDR_BUF + 1];
	int sub = 0;
	size_t i;

	if (len && d[0] == '.') {
		sub = 1;
		d++;
		len--;
	}
	if (addr_domain_normalise(d, len, norm + sub, sizeof(norm) - 1, err,
				  errlen) < 0)
		return -1;
	if (sub)
		norm[0] = '.';
	for (i = 0; i < set->n; i++)
		if (!strcmp(set->names[i], norm))
			return 0;
	if (set->n >= ADDR_DOMAINS_MAX) {
		util_err(err, errlen, "more than %d local domains",
			 ADDR_DOMAINS_MAX);
		return -1;
	}
	if (set->n == set->cap) {
		set->cap = set->cap ? set->cap * 2 : 8;
		set->names = xrealloc(set->names, set->cap * sizeof(char *));
	}
	set->names[set->n++] = xstrdup(norm);
	return 0;
}

int addr_domains_match(const struct addr_domains *set, const char *domain)
{
	size_t i, dl = strlen(domain);

	for (i = 0; i < set->n; i++) {
		const char *n = set->names[i];

		if (n[0] == '.') {
			size_t nl = strlen(n);

			if (dl > nl && !strcmp(domain + dl - nl, n))
				return 1;
		} else if (!strcmp(n, domain)) {
			return 1;
		}
	}
	return 0;
}

size_t addr_domains_count(const struct addr_domains *set)
{
	return set->n;
}

const char *addr_domains_get(const struct addr_domains *set, size_t i)
{
	return i < set->n ? set->names[i] : NULL;
}

void addr_domains_free(struct addr_domains *set)
{
	size_t i;

	if (!set)
		return;
	for (i = 0; i < set->n; i++)
		free(set->names[i]);
	free(set->names);
	free(set);
}
