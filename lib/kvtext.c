/*
 * kvtext.c - "key=value" lines with escaped values; see kvtext.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvtext.h"

#define KVTEXT_NUMBER_MAX 20	/* digits of a uint64_t */
#define KVTEXT_QUOTE_MAX  40	/* bytes of a bad value quoted in a message */

/* A byte a value may carry as it is (printable ASCII but '\'). */
static int kvtext_plain(unsigned char c)
{
	return c >= 0x20 && c <= 0x7e && c != '\\';
}

/* A byte of a key. */
static int kvtext_keychar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
	       c == '.' || c == '-';
}

static int kvtext_hex(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *kvtext_escape(const char *s, size_t len, char *out, size_t outsize)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	if (outsize == 0)
		return out;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		size_t need = kvtext_plain(c) ? 1 : c == '\\' ? 2 : 4;

		if (o + need >= outsize)
			break;
		if (need == 1) {
			out[o++] = (char)c;
		} else if (need == 2) {
			out[o++] = '\\';
			out[o++] = '\\';
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return out;
}

int kvtext_put(struct buf *b, const char *key, const char *value, size_t len)
{
	size_t i = 0, start = b->len;

	if (buf_append(b, key, strlen(key)) < 0 || buf_append(b, "=", 1) < 0)
		goto full;
	while (i < len) {
		char esc[64 * 4 + 1];
		size_t n = len - i < 64 ? len - i : 64;

		kvtext_escape(value + i, n, esc, sizeof(esc));
		if (buf_append(b, esc, strlen(esc)) < 0)
			goto full;
		i += n;
	}
	if (buf_append(b, "\n", 1) < 0)
		goto full;
	return 0;
full:
	b->len = start;
	return -1;
}

/* Is the value at p of type f zero or empty (a reader's default)? */
static int kvtext_is_default(const struct kvtext_field *f, const char *p)
{
	switch (f->type) {
	case KVTEXT_U64:
		return *(const uint64_t *)p == 0;
	case KVTEXT_I64:
		return *(const int64_t *)p == 0;
	case KVTEXT_YESNO:
		return *(const int *)p == 0;
	case KVTEXT_TEXT:
		return p[0] == '\0';
	}
	return 1;
}

/* One value of f at p under key. */
static int kvtext_put_value(struct buf *b, const struct kvtext_field *f,
			    const char *key, const char *p)
{
	char num[32];
	int n = 0;

	switch (f->type) {
	case KVTEXT_U64:
		n = snprintf(num, sizeof(num), "%llu",
			     (unsigned long long)*(const uint64_t *)p);
		break;
	case KVTEXT_I64:
		n = snprintf(num, sizeof(num), "%lld",
			     (long long)*(const int64_t *)p);
		break;
	case KVTEXT_YESNO:
		n = snprintf(num, sizeof(num), "%s",
			     *(const int *)p ? "yes" : "no");
		break;
	case KVTEXT_TEXT:
		return kvtext_put(b, key, p, strnlen(p, f->size));
	}
	if (n < 0)
		return -1;
	return kvtext_put(b, key, num, (size_t)n);
}

int kvtext_format(const struct kvtext_doc *doc, struct buf *b,
		  const void *obj, char *err, size_t errlen)
{
	const struct kvtext_field *f;
	size_t start = b->len, i;

	for (f = doc->fields; f->key; f++) {
		const char *p = (const char *)obj + f->offset;
		char key[KVTEXT_KEY_MAX + 1];

		if (f->count == 0) {
			if (kvtext_put_value(b, f, f->key, p) < 0)
				goto full;
			continue;
		}
		for (i = 0; i < f->count; i++, p += f->stride) {
			int n;

			if (kvtext_is_default(f, p))
				continue;
			n = snprintf(key, sizeof(key), "%s.%zu", f->key, i);
			if (n < 0 || (size_t)n >= sizeof(key) ||
			    kvtext_put_value(b, f, key, p) < 0)
				goto full;
		}
	}
	if (b->len - start <= doc->text_max)
		return 0;
full:
	b->len = start;
	util_err(err, errlen, "%s larger than %zu bytes", doc->what,
		 doc->text_max);
	return -1;
}

/* Plain decimal digits, optionally after a '-' (neg allowed), into a
 * magnitude; -1 when not a number or beyond max. */
static int kvtext_decimal(const char *s, int neg_ok, int *neg,
			  uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;

	*neg = 0;
	if (neg_ok && s[0] == '-') {
		*neg = 1;
		i = 1;
	}
	if (!s[i] || strlen(s + i) > KVTEXT_NUMBER_MAX)
		return -1;
	for (; s[i]; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = (unsigned)(s[i] - '0');
		if (v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* Store value into the field; 0 or -1 with err. */
static int kvtext_store(const struct kvtext_field *f, char *p,
			const char *value, size_t vlen, char *err,
			size_t errlen)
{
	uint64_t v;
	int neg;

	switch (f->type) {
	case KVTEXT_U64:
		if (kvtext_decimal(value, 0, &neg, UINT64_MAX, &v) < 0)
			goto number;
		*(uint64_t *)p = v;
		return 0;
	case KVTEXT_I64:
		if (kvtext_decimal(value, 1, &neg, (uint64_t)INT64_MAX + 1,
				   &v) < 0 ||
		    (!neg && v > (uint64_t)INT64_MAX))
			goto number;
		*(int64_t *)p = neg ? (v == (uint64_t)INT64_MAX + 1 ?
				       INT64_MIN : -(int64_t)v)
				    : (int64_t)v;
		return 0;
	case KVTEXT_YESNO:
		if (strcmp(value, "yes") && strcmp(value, "no")) {
			util_err(err, errlen, "%s: expected yes or no", f->key);
			return -1;
		}
		*(int *)p = value[0] == 'y';
		return 0;
	case KVTEXT_TEXT:
		if (vlen >= f->size) {
			util_err(err, errlen, "%s: longer than %zu bytes",
				 f->key, f->size - 1);
			return -1;
		}
		memcpy(p, value, vlen + 1);
		return 0;
	}
	return 0;
number: {
		char q[KVTEXT_QUOTE_MAX * 4 + 1];

		kvtext_escape(value, vlen < KVTEXT_QUOTE_MAX ? vlen
							     : KVTEXT_QUOTE_MAX,
			      q, sizeof(q));
		util_err(err, errlen, "%s: not a number%s: '%s%s'", f->key,
			 f->type == KVTEXT_U64 ? " from 0" : "", q,
			 vlen > KVTEXT_QUOTE_MAX ? "..." : "");
		return -1;
	}
}

/*
 * Unescape the value at line[0..n) into out (room for n + 1 bytes);
 * *outlen its length.  0, or -1 with the column (1-based, counted in
 * line) in *col and the reason in err.
 */
static int kvtext_unescape(const char *line, size_t n, size_t from,
			   char *out, size_t *outlen, size_t *col, char *err,
			   size_t errlen)
{
	size_t i, o = 0;

	for (i = from; i < n; i++) {
		unsigned char c = (unsigned char)line[i];
		int hi, lo;

		*col = i + 1;
		if (kvtext_plain(c)) {
			out[o++] = (char)c;
			continue;
		}
		if (c != '\\') {
			util_err(err, errlen, "byte 0x%02x not allowed "
				 "(values are escaped)", c);
			return -1;
		}
		if (i + 1 < n && line[i + 1] == '\\') {
			out[o++] = '\\';
			i++;
			continue;
		}
		if (i + 3 >= n || line[i + 1] != 'x' ||
		    (hi = kvtext_hex((unsigned char)line[i + 2])) < 0 ||
		    (lo = kvtext_hex((unsigned char)line[i + 3])) < 0) {
			util_err(err, errlen, "bad escape (\\\\ or \\xNN)");
			return -1;
		}
		if (hi == 0 && lo == 0) {
			util_err(err, errlen, "escaped NUL byte");
			return -1;
		}
		out[o++] = (char)(hi << 4 | lo);
		i += 3;
	}
	out[o] = '\0';
	*outlen = o;
	return 0;
}

/*
 * The field of key[0..k) and, for an array, the element's index: the
 * field, or NULL when no field has that key.
 */
static const struct kvtext_field *kvtext_find(
	const struct kvtext_field *fields, const char *key, size_t k,
	size_t *index)
{
	const struct kvtext_field *f;

	*index = 0;
	for (f = fields; f->key; f++) {
		size_t n = strlen(f->key), i, v = 0;

		if (f->count == 0) {
			if (n == k && !memcmp(f->key, key, k))
				return f;
			continue;
		}
		/* "key.N": N decimal, no leading zero, below count. */
		if (k < n + 2 || memcmp(f->key, key, n) || key[n] != '.' ||
		    (key[n + 1] == '0' && k > n + 2))
			continue;
		for (i = n + 1; i < k; i++) {
			if (key[i] < '0' || key[i] > '9' ||
			    (v = v * 10 + (size_t)(key[i] - '0')) >= f->count)
				break;
		}
		if (i == k) {
			*index = v;
			return f;
		}
	}
	return NULL;
}

int kvtext_parse(const struct kvtext_doc *doc, const char *text, size_t len,
		 void *obj, char *err, size_t errlen)
{
	const struct kvtext_field *f, *fields = doc->fields;
	size_t line_max = doc->line_max;
	unsigned char *seen;
	size_t *first, nfields = 0, nslots = 0, pos = 0;
	char why[160], *value;
	int lineno = 0, rc = -1;

	if (len > doc->text_max) {
		util_err(err, errlen, "%s: larger than %zu bytes", doc->what,
			 doc->text_max);
		return -1;
	}

	for (f = fields; f->key; f++) {
		if (f->count > KVTEXT_ARRAY_MAX ||
		    strlen(f->key) + 4 > KVTEXT_KEY_MAX)
			abort();	/* a bug in the caller's table */
		nfields++;
		nslots += f->count ? f->count : 1;
	}
	if (nfields > KVTEXT_FIELDS_MAX || line_max > KVTEXT_LINE_LIMIT)
		abort();
	/* Where each field's "seen" marks begin. */
	first = xcalloc(nfields, sizeof(*first));
	seen = xcalloc(nslots, 1);
	for (f = fields, nslots = 0; f->key; f++) {
		first[f - fields] = nslots;
		nslots += f->count ? f->count : 1;
	}
	value = xmalloc(line_max + 1);
	while (pos < len) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) : len - pos;
		size_t k = 0, vlen, col = 0, index;

		lineno++;
		pos += n + (nl ? 1 : 0);
		if (n > line_max) {
			util_err(err, errlen, "%s: line %d: longer than %zu "
				 "bytes", doc->what, lineno, line_max);
			goto out;
		}
		if (n && line[n - 1] == '\r')
			n--;
		if (n == 0 || line[0] == '#')
			continue;
		while (k < n && kvtext_keychar((unsigned char)line[k]))
			k++;
		if (k == 0 || k > KVTEXT_KEY_MAX || k == n || line[k] != '=') {
			util_err(err, errlen, "%s: line %d col %zu: expected "
				 "key=value (a key of at most %d bytes of "
				 "a-z, 0-9, '_', '.', '-')", doc->what, lineno,
				 k < n ? k + 1 : n + 1, KVTEXT_KEY_MAX);
			goto out;
		}
		if (kvtext_unescape(line, n, k + 1, value, &vlen, &col, why,
				    sizeof(why)) < 0) {
			util_err(err, errlen, "%s: line %d col %zu: %s",
				 doc->what, lineno, col, why);
			goto out;
		}
		f = kvtext_find(fields, line, k, &index);
		if (!f)
			continue;	/* for later versions, or for people */
		if (seen[first[f - fields] + index]++) {
			util_err(err, errlen, "%s: line %d: %.*s given twice",
				 doc->what, lineno, (int)k, line);
			goto out;
		}
		if (kvtext_store(f, (char *)obj + f->offset + index * f->stride,
				 value, vlen, why, sizeof(why)) < 0) {
			util_err(err, errlen, "%s: line %d: %s", doc->what,
				 lineno, why);
			goto out;
		}
	}
	for (f = fields; f->key; f++)
		if ((f->flags & KVTEXT_REQUIRED) && !seen[first[f - fields]]) {
			util_err(err, errlen, "%s: no %s= line", doc->what,
				 f->key);
			goto out;
		}
	rc = 0;
out:
	free(value);
	free(seen);
	free(first);
	return rc;
}
