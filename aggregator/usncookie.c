/*
 * usncookie.c - the Active Directory live source's cookie and filter
 * escape; see usncookie.h.
 */
#include <string.h>

#include "usncookie.h"

size_t usncookie_make(const struct usncookie *c, unsigned char *buf)
{
	int i;

	memcpy(buf, USNCOOKIE_MAGIC, 4);
	memcpy(buf + 4, c->dc, USNCOOKIE_GUID);
	for (i = 0; i < 8; i++)
		buf[4 + USNCOOKIE_GUID + i] =
			(unsigned char)(c->usn >> (56 - 8 * i));
	buf[4 + USNCOOKIE_GUID + 8] = c->owed ? 1 : 0;
	return USNCOOKIE_LEN;
}

int usncookie_parse(const void *buf, size_t len, struct usncookie *c)
{
	const unsigned char *p = buf;
	int i;

	if (!p || len != USNCOOKIE_LEN || memcmp(p, USNCOOKIE_MAGIC, 4) ||
	    p[4 + USNCOOKIE_GUID + 8] > 1)
		return -1;
	memcpy(c->dc, p + 4, USNCOOKIE_GUID);
	c->usn = 0;
	for (i = 0; i < 8; i++)
		c->usn = c->usn << 8 | p[4 + USNCOOKIE_GUID + i];
	c->owed = p[4 + USNCOOKIE_GUID + 8];
	return 0;
}

int usncookie_filter_escape(struct buf *b, const char *value)
{
	const char *v;

	for (v = value; *v; v++) {
		unsigned char c = (unsigned char)*v;
		int rc;

		if (c == '*' || c == '(' || c == ')' || c == '\\' || c < 0x20)
			rc = buf_printf(b, "\\%02x", c);
		else
			rc = buf_append(b, v, 1);
		if (rc < 0)
			return -1;
	}
	return 0;
}
