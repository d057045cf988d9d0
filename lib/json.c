/*
 * json.c - write JSON; see json.h.
 *
 * Every value goes through json_value_start(), which writes what must
 * come before it (a comma, a line break, indentation) and checks that a
 * value is allowed here; strings go through json_put_string(), which is
 * where the output is made valid UTF-8.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "utf8.h"

void json_init(struct json *j, struct buf *out, int style)
{
	memset(j, 0, sizeof(*j));
	j->out = out;
	j->style = style;
}

static void json_put(struct json *j, const char *s, size_t n)
{
	if (!j->failed && buf_append(j->out, s, n) < 0)
		j->failed = 1;
}

static void json_puts(struct json *j, const char *s)
{
	json_put(j, s, strlen(s));
}

/* A line break and the indentation of depth levels. */
static void json_newline(struct json *j, int depth)
{
	static const char spaces[2 * JSON_DEPTH_MAX] = "                "
						       "                ";

	json_put(j, "\n", 1);
	json_put(j, spaces, (size_t)(2 * depth));
}

/* What goes before a member of the innermost container. */
static void json_separate(struct json *j)
{
	int d = j->depth - 1;
	int first = j->count[d] == 0;

	if (!first)
		json_puts(j, j->style == JSON_SPACED &&
				     !(j->layout[d] & JSON_LINES) ? ", " : ",");
	if (j->layout[d] & JSON_LINES)
		json_newline(j, j->layout[d] & JSON_INDENT ? j->depth : 0);
	if (j->count[d] < 2)
		j->count[d]++;
}

/* Before any value: 0 when it may be written here, else failed. */
static int json_value_start(struct json *j)
{
	if (j->failed)
		return -1;
	if (j->depth == 0) {
		if (j->out->len > 0)	/* one document only */
			j->failed = 1;
	} else if (j->object[j->depth - 1]) {
		if (!j->want_value)	/* a value without its key */
			j->failed = 1;
		j->want_value = 0;
	} else {
		json_separate(j);
	}
	return j->failed ? -1 : 0;
}

static void json_begin(struct json *j, int object, int layout)
{
	if (json_value_start(j) < 0)
		return;
	if (j->depth == JSON_DEPTH_MAX) {
		j->failed = 1;
		return;
	}
	json_puts(j, object ? "{" : "[");
	j->layout[j->depth] = (unsigned char)layout;
	j->object[j->depth] = (unsigned char)object;
	j->count[j->depth] = 0;
	j->depth++;
}

void json_begin_object(struct json *j, int layout)
{
	json_begin(j, 1, layout);
}

void json_begin_array(struct json *j, int layout)
{
	json_begin(j, 0, layout);
}

void json_end(struct json *j)
{
	int d;

	if (j->failed)
		return;
	if (j->depth == 0 || j->want_value) {
		j->failed = 1;
		return;
	}
	d = --j->depth;
	if ((j->layout[d] & JSON_LINES) && (j->layout[d] & JSON_INDENT))
		json_newline(j, d);
	json_puts(j, j->object[d] ? "}" : "]");
}

/* The string's bytes, escaped, and valid UTF-8 whatever they were. */
static void json_put_string(struct json *j, const unsigned char *s,
			    size_t len)
{
	size_t i = 0, run = 0, step;
	char esc[8];

	json_put(j, "\"", 1);
	while (i < len && !j->failed) {
		unsigned char c = s[i];

		if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f &&
		    (step = utf8_seq(s + i, len - i, NULL)) > 0) {
			i += step;	/* kept as it is, written in runs */
			run += step;
			continue;
		}
		json_put(j, (const char *)s + i - run, run);
		run = 0;
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			json_put(j, esc, 2);
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			json_puts(j, esc);
		} else {
			json_puts(j, "\\ufffd");	/* broken UTF-8 */
		}
		i++;
	}
	json_put(j, (const char *)s + i - run, run);
	json_put(j, "\"", 1);
}

void json_key(struct json *j, const char *name)
{
	if (j->failed)
		return;
	if (j->depth == 0 || !j->object[j->depth - 1] || j->want_value) {
		j->failed = 1;
		return;
	}
	json_separate(j);
	json_put_string(j, (const unsigned char *)name, strlen(name));
	json_puts(j, j->style == JSON_SPACED ? ": " : ":");
	j->want_value = 1;
}

void json_string_n(struct json *j, const char *s, size_t len)
{
	if (json_value_start(j) == 0)
		json_put_string(j, (const unsigned char *)s, len);
}

void json_string(struct json *j, const char *s)
{
	if (!s)
		json_null(j);
	else
		json_string_n(j, s, strlen(s));
}

/* A number or literal, as text. */
static void json_scalar(struct json *j, const char *text)
{
	if (json_value_start(j) == 0)
		json_puts(j, text);
}

void json_uint(struct json *j, uint64_t v)
{
	char t[24];

	snprintf(t, sizeof(t), "%llu", (unsigned long long)v);
	json_scalar(j, t);
}

void json_int(struct json *j, int64_t v)
{
	char t[24];

	snprintf(t, sizeof(t), "%lld", (long long)v);
	json_scalar(j, t);
}

void json_fixed(struct json *j, double v, int decimals)
{
	char t[64];
	int n;

	if (!isfinite(v) || decimals < 0 || decimals > 9) {
		json_null(j);
		return;
	}
	n = snprintf(t, sizeof(t), "%.*f", decimals, v);
	if (n < 0 || (size_t)n >= sizeof(t))	/* |v| near DBL_MAX */
		json_null(j);
	else
		json_scalar(j, t);
}

void json_bool(struct json *j, int v)
{
	json_scalar(j, v ? "true" : "false");
}

void json_null(struct json *j)
{
	json_scalar(j, "null");
}

void json_key_string(struct json *j, const char *name, const char *s)
{
	json_key(j, name);
	json_string(j, s);
}

void json_key_uint(struct json *j, const char *name, uint64_t v)
{
	json_key(j, name);
	json_uint(j, v);
}

int json_finish(struct json *j)
{
	if (j->depth != 0 || j->want_value || j->out->len == 0)
		j->failed = 1;
	return j->failed ? -1 : 0;
}
