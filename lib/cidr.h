/*
 * cidr.h - lists of IPv4 and IPv6 networks ("10.0.0.0/8, 2001:db8::/32")
 * and whether an address, as text (Postfix's client_address), is in one.
 *
 * cidr_list_parse() reads a list separated by commas and/or blanks: each
 * item an address with an optional /prefix (a bare address is /32 or
 * /128); host bits below the prefix must be zero, so a typo such as
 * 10.1.2.3/8 is refused instead of silently meaning 10.0.0.0/8.  Limits:
 * CIDR_LIST_MAX items, CIDR_ITEM_MAX bytes an item, CIDR_TEXT_MAX bytes
 * in all.  Errors name the item's byte offset and never read past len.
 * An IPv4-mapped IPv6 client address (::ffff:10.1.2.3) matches IPv4
 * networks.
 */
#ifndef DIRCAT_CIDR_H
#define DIRCAT_CIDR_H

#include <stddef.h>

#define CIDR_LIST_MAX  64	/* networks in one list */
#define CIDR_ITEM_MAX  49	/* bytes of one item: an IPv6 address with
				   an embedded IPv4 one (45) and "/128" */
#define CIDR_TEXT_MAX  4096	/* bytes of the whole list */

struct cidr_net {
	unsigned char addr[16];	/* IPv4 in the first 4 bytes */
	unsigned char family;	/* 4 or 6 */
	unsigned char prefix;	/* 0..32 or 0..128 */
};

struct cidr_list {
	struct cidr_net net[CIDR_LIST_MAX];
	size_t n;
};

/* Parse text[0..len) into l (emptied first).  0, or -1 with err naming
 * the byte offset of the bad item. */
int cidr_list_parse(const char *text, size_t len, struct cidr_list *l,
		    char *err, size_t errlen);

/* 1 when the address in text (IPv4 or IPv6, no prefix; NUL-terminated)
 * is in one of l's networks; 0 when not, or when it is no address. */
int cidr_list_match(const struct cidr_list *l, const char *text);

#endif
