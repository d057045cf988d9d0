/*
 * json.h - the one JSON writer: reports (aggregator, replicator) build
 * their documents with it into a bounded buffer.
 *
 *   json_begin_object() / json_begin_array() ... json_end()
 *   json_key()  then one value: json_string(), json_uint(), json_int(),
 *               json_fixed(), json_bool(), json_null(), or a container;
 *               json_key_string() and json_key_uint() write both at once
 *
 * Output is always valid JSON whatever the strings hold: '"', '\' and
 * control characters are escaped, and a byte that is no part of a
 * well-formed UTF-8 sequence (utf8.h) is written as \ufffd, so a broken
 * DN from a directory cannot break the document.  Commas, colons and
 * layout are the writer's: JSON_SPACED puts a space after ':' and ','
 * inside a line; a container opened with JSON_LINES puts each member on
 * a line of its own (JSON_INDENT: indented two spaces a level, and its
 * closing bracket on a line of its own).
 * Errors stick: after the first (the buffer's maximum reached, nesting
 * deeper than JSON_DEPTH_MAX, a value where a key belongs) every call
 * does nothing and json_finish() returns -1.
 */
#ifndef DIRCAT_JSON_H
#define DIRCAT_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define JSON_DEPTH_MAX 16	/* containers open at once */

/* Style of the whole document. */
#define JSON_COMPACT 0
#define JSON_SPACED  1		/* "key": value, next */

/* Layout of one container. */
#define JSON_INLINE  0		/* members on the container's line */
#define JSON_LINES   1		/* a line break before each member */
#define JSON_INDENT  2		/* with JSON_LINES: indented, closing
				   bracket on its own line */

struct json {
	struct buf *out;
	int style;
	int depth;
	int failed;
	unsigned char layout[JSON_DEPTH_MAX];
	unsigned char count[JSON_DEPTH_MAX];	/* members so far (0, 1, 2+) */
	unsigned char object[JSON_DEPTH_MAX];	/* 1: object, 0: array */
	int want_value;		/* a key was written, its value is due */
};

/* Start a document into out (which keeps its own maximum). */
void json_init(struct json *, struct buf *out, int style);

void json_begin_object(struct json *, int layout);
void json_begin_array(struct json *, int layout);
/* Close the innermost container. */
void json_end(struct json *);
/* A member's name, inside an object; the value follows. */
void json_key(struct json *, const char *name);

/* A string; NULL writes null.  json_string_n for len bytes. */
void json_string(struct json *, const char *s);
void json_string_n(struct json *, const char *s, size_t len);
void json_uint(struct json *, uint64_t v);
void json_int(struct json *, int64_t v);
/* A number with this many decimals ("%.3f"); not finite: null. */
void json_fixed(struct json *, double v, int decimals);
void json_bool(struct json *, int v);
void json_null(struct json *);
/* A member with its value: json_key() then json_string() or
 * json_uint(). */
void json_key_string(struct json *, const char *name, const char *s);
void json_key_uint(struct json *, const char *name, uint64_t v);

/* 0 when the document is complete and fit; else -1. */
int json_finish(struct json *);

#endif
