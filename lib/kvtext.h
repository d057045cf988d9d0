/*
 * kvtext.h - "key=value" lines: the text format of what one dircat
 * program writes and another reads (INBOX/status and INBOX/rejected/
 * NAME.reason: nodestatus.h; the control socket's status reply:
 * ctlproto.h; the replicator's state files).
 *
 * A format is a table of fields (key, type, where the value lives in the
 * caller's struct); kvtext_format() writes the struct's fields in table
 * order and kvtext_parse() reads them back, so writer and reader cannot
 * disagree.  Every value is escaped by the writer: printable ASCII stays,
 * '\' becomes "\\" and any other byte (line breaks, control characters,
 * UTF-8) becomes "\xNN", so a file name or a reason chosen by an attacker
 * stays on its line and cannot forge another.  The reader is strict:
 * lines of at most the caller's limit, keys of KVTEXT_KEY_MAX bytes from
 * [a-z0-9_.-], only printable ASCII, only those two escapes (never \x00),
 * numbers as plain decimal within their type, a text within its field's
 * size, each key at most once; unknown keys, blank lines and '#'
 * comments are skipped.  Errors name the line and column.
 */
#ifndef DIRCAT_KVTEXT_H
#define DIRCAT_KVTEXT_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define KVTEXT_KEY_MAX    64	/* a key, bytes */
#define KVTEXT_FIELDS_MAX 128	/* fields in one table */
#define KVTEXT_LINE_LIMIT 65536	/* the largest line limit a caller may ask */

enum kvtext_type {
	KVTEXT_U64 = 1,		/* uint64_t */
	KVTEXT_I64,		/* int64_t, may be negative */
	KVTEXT_TEXT,		/* char[size], NUL-terminated */
	KVTEXT_YESNO		/* int: "yes" 1 / "no" 0 */
};

#define KVTEXT_REQUIRED 0x01	/* parsing fails without this key */

struct kvtext_field {
	const char *key;
	enum kvtext_type type;
	unsigned flags;
	size_t offset, size;	/* KVTEXT_FIELD(type, member) */
	size_t count, stride;	/* an array: KVTEXT_ARRAY(n, stride) */
};
#define KVTEXT_FIELD(type, member) \
	.offset = offsetof(type, member), .size = sizeof(((type *)0)->member)
/*
 * A field repeated in an array of count elements stride bytes apart
 * (KVTEXT_FIELD names element 0): element i is written as "key.i=" when
 * it is not zero or empty (a reader's default), so a list costs only
 * what it holds.  At most KVTEXT_ARRAY_MAX elements.
 */
#define KVTEXT_ARRAY(n, s) .count = (n), .stride = (s)
#define KVTEXT_ARRAY_MAX 256

/*
 * A document: its fields (ending with a NULL key), the largest text and
 * the longest line a reader accepts (line_max at most KVTEXT_LINE_LIMIT),
 * and what it is called in messages ("status file").
 */
struct kvtext_doc {
	const char *what;
	const struct kvtext_field *fields;
	size_t text_max, line_max;
};

/* Append every field of obj as "key=value\n".  0, or -1 with err when the
 * text would pass doc->text_max or b's maximum (b is left as it was). */
int kvtext_format(const struct kvtext_doc *doc, struct buf *b,
		  const void *obj, char *err, size_t errlen);

/* One line "key=value\n", value[0..len) escaped.  0, or -1 (b full). */
int kvtext_put(struct buf *b, const char *key, const char *value,
	       size_t len);

/*
 * Read text[0..len) into obj (which the caller has cleared or filled
 * with defaults): each line is a key of doc's fields, parsed by its type,
 * or an unknown key (skipped).  0, or -1 with "WHAT: line N: reason" (or
 * "WHAT: line N col C: reason", "WHAT: larger than N bytes") in err; obj
 * may then be partly filled.
 */
int kvtext_parse(const struct kvtext_doc *doc, const char *text, size_t len,
		 void *obj, char *err, size_t errlen);

/* Escape s[0..len) as a writer does, into out (always NUL-terminated,
 * cut at a whole escape when out is too small).  Returns out. */
char *kvtext_escape(const char *s, size_t len, char *out, size_t outsize);

#endif
