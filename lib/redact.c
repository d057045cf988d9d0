/*
 * redact.c - hide credentials in a line before it is shown; see redact.h.
 */
#include <string.h>
#include <strings.h>

#include "redact.h"

/* Names of headers whose values are credentials, with their colon
 * (matched without case: also Proxy-Authorization and Set-Cookie). */
static const char *const redact_headers[] = {
	"authorization:",
	"cookie:",
	NULL
};

/* Bytes that end a URL's authority (besides the end of the line). */
#define REDACT_AUTHORITY_END "/?#'\"<>[] \t"

struct redact_range {
	size_t from, to;	/* hidden: [from, to) */
};

/* Where the value of the first credential header starts, or len. */
static size_t redact_header_value(const char *line, size_t len)
{
	size_t i, k, at = len;

	for (k = 0; redact_headers[k]; k++) {
		size_t n = strlen(redact_headers[k]);

		for (i = 0; i + n <= at; i++)
			if (!strncasecmp(line + i, redact_headers[k], n)) {
				at = i + n;
				if (at < len && line[at] == ' ')
					at++;
				break;
			}
	}
	return at;
}

/* The userinfo of each URL in line into r[]; the number found.  Past
 * REDACT_URLS_MAX, the last range runs to the end of the line. */
static size_t redact_urls(const char *line, size_t len, struct redact_range *r)
{
	size_t i, n = 0;

	for (i = 0; i + 3 <= len; i++) {
		size_t j, at = 0;

		if (memcmp(line + i, "://", 3))
			continue;
		for (j = i + 3; j < len && line[j] &&
		     !strchr(REDACT_AUTHORITY_END, line[j]); j++)
			if (line[j] == '@')
				at = j;
		if (at) {
			if (n == REDACT_URLS_MAX) {
				r[n - 1].to = len;
				return n;
			}
			r[n].from = i + 3;
			r[n].to = at;
			n++;
		}
		i = j - 1;
	}
	return n;
}

/* Append s to out[*o..size), keeping room for the NUL; 0 when it did
 * not all fit. */
static int redact_put(char *out, size_t size, size_t *o, const char *s,
		      size_t n)
{
	if (*o + n >= size)
		return 0;
	memcpy(out + *o, s, n);
	*o += n;
	return 1;
}

char *redact_line(const char *line, size_t len, char *out, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	struct redact_range r[REDACT_URLS_MAX];
	size_t i, k, o = 0, nr, value, shown;
	int in_mark = 0;

	if (!size)
		return out;
	value = redact_header_value(line, len);
	nr = redact_urls(line, len, r);
	shown = len < REDACT_LINE_MAX ? len : REDACT_LINE_MAX;
	for (i = 0; i < shown; i++) {
		unsigned char c = (unsigned char)line[i];
		int hide = i >= value;
		char esc[4];

		for (k = 0; k < nr && !hide; k++)
			hide = i >= r[k].from && i < r[k].to;
		if (hide) {
			if (!in_mark && !redact_put(out, size, &o, REDACT_MARK,
						    sizeof(REDACT_MARK) - 1))
				break;
			in_mark = 1;
			continue;
		}
		in_mark = 0;
		if (c >= 0x20 && c < 0x7f) {
			if (!redact_put(out, size, &o, (const char *)&c, 1))
				break;
			continue;
		}
		esc[0] = '\\';
		esc[1] = 'x';
		esc[2] = hex[c >> 4];
		esc[3] = hex[c & 15];
		if (!redact_put(out, size, &o, esc, 4))
			break;
	}
	if (i == shown && shown < len)
		redact_put(out, size, &o, "...", 3);
	out[o] = '\0';
	return out;
}
