/*
 * netstring.c - netstring framing; see netstring.h.
 */
#include <string.h>

#include "netstring.h"

#define NETSTRING_HEAD_MAX 21	/* a size_t's digits and the ':' */
#define NETSTRING_SMALL    512	/* appended with one copy up to this */

/* Write "len:" at out (NETSTRING_HEAD_MAX bytes); returns its length.
 * Every reply is framed so: cheaper than a formatted print. */
static size_t netstring_head(char *out, size_t len)
{
	char digits[NETSTRING_HEAD_MAX];
	size_t n = 0, i;

	do {
		digits[n++] = (char)('0' + len % 10);
		len /= 10;
	} while (len);
	for (i = 0; i < n; i++)
		out[i] = digits[n - 1 - i];
	out[n] = ':';
	return n + 1;
}

int netstring_parse(const char *buf, size_t len, size_t max,
		    const char **data, size_t *dlen, size_t *used,
		    const char **why)
{
	size_t i, n = 0;

	*why = "";
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c == ':')
			break;
		if (c < '0' || c > '9') {
			*why = i ? "bad character in length"
				 : "does not start with a length";
			return NETSTRING_ERROR;
		}
		if (i == 1 && buf[0] == '0') {
			*why = "length has a leading zero";
			return NETSTRING_ERROR;
		}
		if (i >= NETSTRING_DIGITS_MAX) {
			*why = "length has too many digits";
			return NETSTRING_ERROR;
		}
		n = n * 10 + (c - '0');
		if (n > max) {
			*why = "longer than allowed";
			return NETSTRING_ERROR;
		}
	}
	if (i == len)
		return NETSTRING_MORE;
	if (i == 0) {
		*why = "empty length";
		return NETSTRING_ERROR;
	}
	/* i is the colon; the data follows, then the comma.  Compare
	 * against what remains instead of adding, so nothing overflows. */
	if (len - i - 1 < n + 1) {
		return NETSTRING_MORE;
	}
	if (buf[i + 1 + n] != ',') {
		*why = "missing comma after the data";
		return NETSTRING_ERROR;
	}
	*data = buf + i + 1;
	*dlen = n;
	*used = i + 2 + n;
	return NETSTRING_DONE;
}

size_t netstring_size(size_t len)
{
	size_t digits = 1, v = len;

	while (v >= 10) {
		v /= 10;
		digits++;
	}
	return digits + 2 + len;
}

size_t netstring_format2(char *out, size_t outsize, const void *p1,
			 size_t n1, const void *p2, size_t n2)
{
	size_t len = n1 + n2, need = netstring_size(len), h;
	char head[NETSTRING_HEAD_MAX];

	if (need > outsize)
		return 0;
	h = netstring_head(head, len);
	if (h + len + 1 != need)
		return 0;
	memcpy(out, head, h);
	if (n1)
		memcpy(out + h, p1, n1);
	if (n2)
		memcpy(out + h + n1, p2, n2);
	out[need - 1] = ',';
	return need;
}

size_t netstring_format(char *out, size_t outsize, const void *data,
			size_t len)
{
	return netstring_format2(out, outsize, data, len, NULL, 0);
}

int netstring_append(struct buf *b, const void *p1, size_t n1,
		     const void *p2, size_t n2)
{
	char small[NETSTRING_SMALL];
	size_t len = n1 + n2, before = b->len, h;

	/* A short one (every socketmap reply but owners lists) in one copy:
	 * buf_append() is all or nothing, so b stays unchanged on failure. */
	if (len <= sizeof(small) - NETSTRING_HEAD_MAX - 1) {
		h = netstring_head(small, len);
		if (n1)
			memcpy(small + h, p1, n1);
		if (n2)
			memcpy(small + h + n1, p2, n2);
		small[h + len] = ',';
		return buf_append(b, small, h + len + 1);
	}
	h = netstring_head(small, len);
	if (buf_append(b, small, h) < 0 ||
	    (n1 && buf_append(b, p1, n1) < 0) ||
	    (n2 && buf_append(b, p2, n2) < 0) ||
	    buf_append(b, ",", 1) < 0) {
		b->len = before;
		return -1;
	}
	return 0;
}
