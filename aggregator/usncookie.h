/*
 * usncookie.h - the values of the Active Directory live source
 * (usnsrc.c) that are bytes rather than searches: its cookie, and a DN
 * made safe for an LDAP filter.
 *
 * The cookie: "USN1", the DC's invocationId (16 bytes), the USN up to
 * which everything is applied (8 bytes, big-endian), and 0 or 1 (a sweep
 * for deletions is owed): exactly USNCOOKIE_LEN bytes; anything else is
 * refused (the source then reads everything again).  The escape follows
 * RFC 4515: a DN from the directory (hostile or not) can never change
 * the structure of the filter it goes into.
 */
#ifndef DIRCAT_USNCOOKIE_H
#define DIRCAT_USNCOOKIE_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define USNCOOKIE_MAGIC "USN1"
#define USNCOOKIE_GUID  16			/* bytes of an invocationId */
#define USNCOOKIE_LEN   (4 + USNCOOKIE_GUID + 8 + 1)

struct usncookie {
	unsigned char dc[USNCOOKIE_GUID];	/* the DC's invocationId */
	uint64_t usn;				/* applied up to here */
	int owed;				/* a sweep is owed */
};

/* Write c into buf (at least USNCOOKIE_LEN bytes); returns USNCOOKIE_LEN. */
size_t usncookie_make(const struct usncookie *c, unsigned char *buf);
/* Read exactly USNCOOKIE_LEN bytes: 0, or -1 when it is no such cookie. */
int usncookie_parse(const void *buf, size_t len, struct usncookie *c);
/* Append value to b with RFC 4515's escapes (\2a \28 \29 \5c and every
 * byte below 0x20 as \XX).  0, or -1 when b would pass its maximum. */
int usncookie_filter_escape(struct buf *b, const char *value);

#endif
