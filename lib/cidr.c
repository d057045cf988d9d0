/*
 * cidr.c - network lists; see cidr.h.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "cidr.h"
#include "util.h"

/* 1 for the separators between items. */
static int cidr_sep(int c)
{
	return c == ',' || c == ' ' || c == '\t';
}

/* Parse one item s[0..n) (n <= CIDR_ITEM_MAX) into net.  0 or -1 with
 * why. */
static int cidr_item(const char *s, size_t n, struct cidr_net *net,
		     char *why, size_t whylen)
{
	char buf[CIDR_ITEM_MAX + 1], *slash;
	unsigned max, prefix, i, bits;

	memcpy(buf, s, n);
	buf[n] = '\0';
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	memset(net, 0, sizeof(*net));
	if (inet_pton(AF_INET, buf, net->addr) == 1) {
		net->family = 4;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, net->addr) == 1) {
		net->family = 6;
		max = 128;
	} else {
		util_err(why, whylen, "not an IPv4 or IPv6 address");
		return -1;
	}
	prefix = max;
	if (slash) {
		const char *p = slash + 1;

		/* 1 to 3 digits, no sign, no leading zero but "0" itself */
		if (!*p || strlen(p) > 3 || (p[0] == '0' && p[1])) {
			util_err(why, whylen, "bad prefix length");
			return -1;
		}
		for (prefix = 0; *p; p++) {
			if (*p < '0' || *p > '9') {
				util_err(why, whylen, "bad prefix length");
				return -1;
			}
			prefix = prefix * 10 + (unsigned)(*p - '0');
		}
		if (prefix > max) {
			util_err(why, whylen, "prefix /%u longer than %u bits",
				 prefix, max);
			return -1;
		}
	}
	net->prefix = (unsigned char)prefix;
	/* Host bits must be zero: 10.1.2.3/8 is a typo, not a network. */
	for (i = 0; i < max / 8; i++) {
		bits = i * 8 >= prefix ? 8 : prefix - i * 8 >= 8 ? 0
						: 8 - (prefix - i * 8);
		if (net->addr[i] & ((1u << bits) - 1)) {
			util_err(why, whylen, "host bits set below /%u",
				 prefix);
			return -1;
		}
	}
	return 0;
}

int cidr_list_parse(const char *text, size_t len, struct cidr_list *l,
		    char *err, size_t errlen)
{
	char why[96];
	size_t i = 0;

	l->n = 0;
	if (len > CIDR_TEXT_MAX) {
		util_err(err, errlen, "%zu bytes: at most %d", len,
			 CIDR_TEXT_MAX);
		return -1;
	}
	while (i < len) {
		size_t start, n;

		while (i < len && cidr_sep((unsigned char)text[i]))
			i++;
		if (i == len)
			break;
		start = i;
		while (i < len && !cidr_sep((unsigned char)text[i]))
			i++;
		n = i - start;
		if (n > CIDR_ITEM_MAX) {
			util_err(err, errlen, "byte %zu: an item of %zu bytes "
				 "(at most %d)", start, n, CIDR_ITEM_MAX);
			return -1;
		}
		if (l->n == CIDR_LIST_MAX) {
			util_err(err, errlen, "byte %zu: more than %d networks",
				 start, CIDR_LIST_MAX);
			return -1;
		}
		if (memchr(text + start, '\0', n) ||
		    cidr_item(text + start, n, &l->net[l->n], why,
			      sizeof(why)) < 0) {
			util_err(err, errlen, "byte %zu: \"%.*s\": %s", start,
				 (int)n, text + start,
				 memchr(text + start, '\0', n) ? "a NUL byte"
							       : why);
			return -1;
		}
		l->n++;
	}
	if (l->n == 0) {
		util_err(err, errlen, "no network given");
		return -1;
	}
	return 0;
}

/* 1 when the first prefix bits of a and b agree. */
static int cidr_prefix_eq(const unsigned char *a, const unsigned char *b,
			  unsigned prefix)
{
	unsigned whole = prefix / 8, rest = prefix % 8;

	if (memcmp(a, b, whole))
		return 0;
	if (rest) {
		unsigned char mask = (unsigned char)(0xff << (8 - rest));

		if ((a[whole] ^ b[whole]) & mask)
			return 0;
	}
	return 1;
}

int cidr_list_match(const struct cidr_list *l, const char *text)
{
	static const unsigned char mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};
	unsigned char a4[4], a6[16];
	int have4 = 0, have6 = 0;
	size_t i;

	if (!l || strlen(text) > CIDR_ITEM_MAX)
		return 0;
	if (inet_pton(AF_INET, text, a4) == 1) {
		have4 = 1;
	} else if (inet_pton(AF_INET6, text, a6) == 1) {
		have6 = 1;
		if (!memcmp(a6, mapped, sizeof(mapped))) {
			memcpy(a4, a6 + 12, 4);
			have4 = 1;
		}
	}
	for (i = 0; i < l->n; i++) {
		const struct cidr_net *n = &l->net[i];

		if (n->family == 4 && have4 &&
		    cidr_prefix_eq(n->addr, a4, n->prefix))
			return 1;
		if (n->family == 6 && have6 &&
		    cidr_prefix_eq(n->addr, a6, n->prefix))
			return 1;
	}
	return 0;
}
