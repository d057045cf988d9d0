/*
 * test_cidr.c - network lists (internal_networks): parsing at each limit
 * and one past it, the mistakes refused with their byte offset, and
 * matching IPv4, IPv6 and IPv4-mapped client addresses.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "cidr.h"

static struct cidr_list l;
static char err[256];

static int parse(const char *s)
{
	return cidr_list_parse(s, strlen(s), &l, err, sizeof(err));
}

static void test_limits(void)
{
	static char text[CIDR_TEXT_MAX + 2];
	const char *item49 = "0000:0000:0000:0000:0000:ffff:255.255.255.255/128";
	size_t i, n = 0;

	CHECK(strlen(item49) == CIDR_ITEM_MAX, "the longest item is %d bytes",
	      CIDR_ITEM_MAX);
	CHECK(parse(item49) == 0 && l.n == 1 && l.net[0].family == 6,
	      "an item of %d bytes (the limit) parses", CIDR_ITEM_MAX);
	CHECK(parse("00000:0000:0000:0000:0000:ffff:255.255.255.255/128") < 0 &&
	      strstr(err, "at most 49"), "an item of %d bytes is refused: %s",
	      CIDR_ITEM_MAX + 1, err);
	/* CIDR_LIST_MAX networks, then one more. */
	for (i = 0; i < CIDR_LIST_MAX; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "10.%zu.0.0/16,",
				      i);
	CHECK(parse(text) == 0 && l.n == CIDR_LIST_MAX, "%d networks parse",
	      CIDR_LIST_MAX);
	snprintf(text + n, sizeof(text) - n, "192.0.2.0/24");
	CHECK(parse(text) < 0 && strstr(err, "more than 64 networks") &&
	      strstr(err, "byte "), "%d networks are refused: %s",
	      CIDR_LIST_MAX + 1, err);
	/* CIDR_TEXT_MAX bytes in all, then one more. */
	memset(text, ' ', CIDR_TEXT_MAX + 1);
	memcpy(text, "10.0.0.0/8", 10);
	CHECK(cidr_list_parse(text, CIDR_TEXT_MAX, &l, err, sizeof(err)) == 0 &&
	      l.n == 1, "a list of %d bytes parses", CIDR_TEXT_MAX);
	CHECK(cidr_list_parse(text, CIDR_TEXT_MAX + 1, &l, err,
			      sizeof(err)) < 0,
	      "a list of %d bytes is refused: %s", CIDR_TEXT_MAX + 1, err);
}

static void test_parse(void)
{
	CHECK(parse("10.0.0.0/8, 192.168.1.0/24 2001:db8:1::/48,,172.16.0.1") ==
	      0 && l.n == 4 && l.net[0].prefix == 8 && l.net[2].family == 6 &&
	      l.net[2].prefix == 48 && l.net[3].prefix == 32,
	      "commas and blanks separate; a bare address is a host");
	CHECK(parse("0.0.0.0/0") == 0 && l.net[0].prefix == 0, "/0");
	CHECK(parse("::/0") == 0, "::/0");
	CHECK(parse("10.1.2.3/8") < 0 && strstr(err, "host bits"),
	      "host bits set: refused (%s)", err);
	CHECK(parse("2001:db8::1/32") < 0 && strstr(err, "host bits"),
	      "IPv6 host bits set: refused");
	CHECK(parse("10.0.0.0/33") < 0 && strstr(err, "longer than 32"),
	      "/33 refused");
	CHECK(parse("::/129") < 0, "/129 refused");
	CHECK(parse("10.0.0.0/") < 0 && parse("10.0.0.0/-8") < 0 &&
	      parse("10.0.0.0/08") < 0 && parse("10.0.0.0/8x") < 0 &&
	      parse("10.0.0.0/0008") < 0, "bad prefixes refused");
	CHECK(parse("192.0.2.0/24, example.com") < 0 &&
	      strstr(err, "byte 14: \"example.com\": not an IPv4 or IPv6"),
	      "a name is refused with its byte offset: %s", err);
	CHECK(parse("10.0.0.256") < 0 && parse("10.0.0") < 0,
	      "malformed IPv4 refused");
	CHECK(parse("") < 0 && strstr(err, "no network") && parse(" , ") < 0,
	      "an empty list is refused");
	CHECK(cidr_list_parse("10.0.0.0/8\0junk", 15, &l, err,
			      sizeof(err)) < 0 && strstr(err, "NUL"),
	      "a NUL byte inside the text is refused");
}

static void test_match(void)
{
	parse("10.0.0.0/8, 192.168.1.128/25, 2001:db8:1::/48, 203.0.113.7");
	CHECK(cidr_list_match(&l, "10.200.3.4"), "10.200.3.4 in 10/8");
	CHECK(!cidr_list_match(&l, "11.0.0.1"), "11.0.0.1 not in it");
	CHECK(cidr_list_match(&l, "192.168.1.200") &&
	      !cidr_list_match(&l, "192.168.1.127"), "/25 boundary");
	CHECK(cidr_list_match(&l, "203.0.113.7") &&
	      !cidr_list_match(&l, "203.0.113.8"), "a single host");
	CHECK(cidr_list_match(&l, "2001:db8:1:ffff::25") &&
	      !cidr_list_match(&l, "2001:db8:2::25"), "IPv6 /48");
	CHECK(cidr_list_match(&l, "::ffff:10.1.2.3"),
	      "an IPv4-mapped IPv6 address matches IPv4 networks");
	CHECK(!cidr_list_match(&l, "unknown") && !cidr_list_match(&l, "") &&
	      !cidr_list_match(&l, "10.0.0.1/32"),
	      "what is no address matches nothing (Postfix's \"unknown\")");
	CHECK(!cidr_list_match(NULL, "10.0.0.1"), "no list: nothing matches");
	parse("0.0.0.0/0");
	CHECK(cidr_list_match(&l, "198.51.100.1") &&
	      !cidr_list_match(&l, "2001:db8::1"), "/0 of IPv4 is all IPv4 only");
}

int main(void)
{
	test_limits();
	test_parse();
	test_match();
	return check_done();
}
