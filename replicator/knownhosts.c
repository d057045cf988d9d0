/*
 * knownhosts.c - the known_hosts line libcurl takes for a host; see
 * knownhosts.h.
 */
#include <string.h>

#include "knownhosts.h"
#include "util.h"

static int kh_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Does one host name of a line (n bytes) stand for host:port, the way
 * libcurl's libssh2 backend compares them? */
static int kh_name_matches(const char *name, size_t n, const char *host,
			   long port)
{
	size_t hlen = strlen(host), inner, i;
	const char *end = NULL;
	long p = 0;

	if (n >= 3 && !memcmp(name, "|1|", 3))
		return 1;		/* hashed: libcurl takes any */
	if (n > 0 && name[0] == '[') {
		for (i = 1; i + 1 < n; i++)
			if (name[i] == ']' && name[i + 1] == ':') {
				end = name + i;
				break;
			}
		if (!end)
			return 0;
		/* The port as atoi() reads it: leading digits. */
		for (i = (size_t)(end - name) + 2;
		     i < n && name[i] >= '0' && name[i] <= '9' && p < 100000;
		     i++)
			p = p * 10 + (name[i] - '0');
		inner = (size_t)(end - name) - 1;
		return p == port && inner <= hlen &&
		       !memcmp(name + 1, host, inner);
	}
	return n == hlen && !memcmp(name, host, n);
}

/* One line (n bytes, no newline): 1 with out->type filled when it names
 * host:port, 0 when not, -1 when its key type is too long. */
static int kh_line(const char *s, size_t n, const char *host, long port,
		   struct knownhosts_pick *out)
{
	size_t i = 0, hs, he, ts, name;
	int match = 0;

	while (i < n && kh_space(s[i]))
		i++;
	if (i == n || s[i] == '#' || s[i] == '@')
		return 0;		/* blank, comment, marker */
	hs = i;
	while (i < n && !kh_space(s[i]))
		i++;
	he = i;
	while (i < n && kh_space(s[i]))
		i++;
	ts = i;
	while (i < n && !kh_space(s[i]))
		i++;
	if (i == ts || memchr(s + ts, '\0', i - ts))
		return 0;		/* no key type libssh2 reads: skipped */
	for (name = hs; name < he && !match;) {
		size_t e = name;

		while (e < he && s[e] != ',')
			e++;
		match = kh_name_matches(s + name, e - name, host, port);
		out->hashed = match && e - name >= 3 &&
			      !memcmp(s + name, "|1|", 3);
		name = e + 1;
	}
	if (!match)
		return 0;
	if (i - ts > KNOWNHOSTS_TYPE_MAX)
		return -1;
	memcpy(out->type, s + ts, i - ts);
	out->type[i - ts] = '\0';
	return 1;
}

int knownhosts_pick(const char *text, size_t len, const char *host,
		    long port, struct knownhosts_pick *out, char *err,
		    size_t errlen)
{
	size_t pos = 0;
	int line = 0, rc;

	memset(out, 0, sizeof(*out));
	if (len > KNOWNHOSTS_TEXT_MAX) {
		util_err(err, errlen, "longer than %d bytes",
			 KNOWNHOSTS_TEXT_MAX);
		return -1;
	}
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;

		line++;
		if (n > KNOWNHOSTS_LINE_MAX) {
			util_err(err, errlen, "line %d: longer than %d bytes",
				 line, KNOWNHOSTS_LINE_MAX);
			return -1;
		}
		rc = kh_line(text + pos, n, host, port, out);
		if (rc < 0) {
			util_err(err, errlen, "line %d: a key type longer "
				 "than %d bytes", line, KNOWNHOSTS_TYPE_MAX);
			memset(out, 0, sizeof(*out));
			return -1;
		}
		if (rc > 0) {
			out->line = line;
			return 0;
		}
		pos += n + 1;
	}
	return 0;
}

int knownhosts_type_legacy(const char *type)
{
	return !strcmp(type, "ssh-rsa") || !strcmp(type, "ssh-dss");
}
