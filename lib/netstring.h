/*
 * netstring.h - netstrings ("12:hello world!,") as Postfix's socketmap and
 * Sendmail's socket map frame their requests and replies.
 *
 * netstring_parse() reads one netstring from the front of a buffer and
 * says whether it is complete, needs more bytes, or is malformed; it never
 * reads past len and checks the length against a caller's maximum before
 * waiting for the data.  Refused: a length with a leading zero ("01:"),
 * more than NETSTRING_DIGITS_MAX digits, a non-digit, a missing ':' or
 * ',', a length over the maximum.  netstring_format()/netstring_append()
 * write one.  No allocation; nothing here keeps a pointer.
 */
#ifndef DIRCAT_NETSTRING_H
#define DIRCAT_NETSTRING_H

#include <stddef.h>

#include "util.h"

#define NETSTRING_DIGITS_MAX 9	/* lengths up to 999,999,999 bytes */
#define NETSTRING_OVERHEAD   (NETSTRING_DIGITS_MAX + 2)	/* "len:" and "," */

enum netstring_result {
	NETSTRING_ERROR = -1,	/* malformed: *why says how */
	NETSTRING_MORE = 0,	/* incomplete so far: read more */
	NETSTRING_DONE = 1	/* one netstring: *data, *dlen, *used set */
};

/*
 * Parse the netstring at buf[0..len), whose data may be at most max bytes.
 * NETSTRING_DONE: *data points into buf (*dlen bytes, not NUL-terminated)
 * and *used is the size of the whole netstring.  NETSTRING_ERROR: *why is
 * a static message ("length has a leading zero", ...).  A length over max
 * is refused as soon as its digits are known, without waiting for data.
 */
int netstring_parse(const char *buf, size_t len, size_t max,
		    const char **data, size_t *dlen, size_t *used,
		    const char **why);

/* Size of the netstring holding len bytes of data. */
size_t netstring_size(size_t len);

/*
 * Write data (or the two parts p1 and p2 back to back) as one netstring
 * into out.  Returns the bytes written (no NUL is added), or 0 when out is
 * too small.
 */
size_t netstring_format(char *out, size_t outsize, const void *data,
			size_t len);
size_t netstring_format2(char *out, size_t outsize, const void *p1,
			 size_t n1, const void *p2, size_t n2);

/* Append one netstring of p1 followed by p2 (p2 may be NULL) to b.
 * 0, or -1 when b's maximum would be exceeded (b unchanged). */
int netstring_append(struct buf *b, const void *p1, size_t n1,
		     const void *p2, size_t n2);

#endif
