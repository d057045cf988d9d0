/*
 * test_usncookie.c - the Active Directory live source's cookie and
 * filter escape (aggregator/usncookie.c): a round trip, the length at
 * USNCOOKIE_LEN and one byte either side, the magic, the flag byte, and
 * hostile DNs that must not change a filter's structure.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "../../aggregator/usncookie.h"

/* The escaped form of v, as a string in out. */
static int escaped(const char *v, char *out, size_t size, size_t max)
{
	struct buf b;
	int rc;

	buf_init(&b, max);
	rc = usncookie_filter_escape(&b, v);
	snprintf(out, size, "%.*s", (int)b.len, b.data ? (char *)b.data : "");
	buf_free(&b);
	return rc;
}

int main(void)
{
	struct usncookie c, d;
	unsigned char buf[USNCOOKIE_LEN + 2];
	char out[256];
	size_t i, n;

	/* Round trip, with a USN that needs all 8 bytes. */
	for (i = 0; i < USNCOOKIE_GUID; i++)
		c.dc[i] = (unsigned char)(0xa0 + i);
	c.usn = 0x0102030405060708ULL;
	c.owed = 1;
	n = usncookie_make(&c, buf);
	CHECK(n == USNCOOKIE_LEN, "make writes %d bytes", USNCOOKIE_LEN);
	CHECK(!memcmp(buf, "USN1", 4), "the cookie starts with USN1");
	memset(&d, 0, sizeof(d));
	CHECK(usncookie_parse(buf, n, &d) == 0, "parse reads what make wrote");
	CHECK(!memcmp(c.dc, d.dc, USNCOOKIE_GUID) && d.usn == c.usn &&
	      d.owed == 1, "the same invocationId, USN and flag");
	c.owed = 0;
	c.usn = 0;
	usncookie_make(&c, buf);
	CHECK(usncookie_parse(buf, USNCOOKIE_LEN, &d) == 0 && d.usn == 0 &&
	      d.owed == 0, "USN 0, no sweep owed");
	c.usn = UINT64_MAX;
	usncookie_make(&c, buf);
	CHECK(usncookie_parse(buf, USNCOOKIE_LEN, &d) == 0 &&
	      d.usn == UINT64_MAX, "the largest USN");

	/* The length: exactly USNCOOKIE_LEN. */
	CHECK(usncookie_parse(buf, USNCOOKIE_LEN - 1, &d) < 0,
	      "one byte short: refused");
	buf[USNCOOKIE_LEN] = 0;
	CHECK(usncookie_parse(buf, USNCOOKIE_LEN + 1, &d) < 0,
	      "one byte too many: refused");
	CHECK(usncookie_parse(buf, 0, &d) < 0, "empty: refused");
	CHECK(usncookie_parse(NULL, USNCOOKIE_LEN, &d) < 0, "none: refused");

	/* The magic and the flag byte. */
	usncookie_make(&c, buf);
	buf[0] = 'u';
	CHECK(usncookie_parse(buf, USNCOOKIE_LEN, &d) < 0,
	      "another magic (an RFC 4533 cookie, say): refused");
	usncookie_make(&c, buf);
	buf[USNCOOKIE_LEN - 1] = 2;
	CHECK(usncookie_parse(buf, USNCOOKIE_LEN, &d) < 0,
	      "flag byte 2: refused");
	buf[USNCOOKIE_LEN - 1] = 0xff;
	CHECK(usncookie_parse(buf, USNCOOKIE_LEN, &d) < 0,
	      "flag byte 0xff: refused");

	/* The escape: RFC 4515's specials and control bytes. */
	CHECK(escaped("CN=Lee\\, Ann,OU=Staff", out, sizeof(out), 1024) == 0 &&
	      !strcmp(out, "CN=Lee\\5c, Ann,OU=Staff"),
	      "a backslash in a DN: \\5c (%s)", out);
	CHECK(escaped("CN=x*)(objectClass=*", out, sizeof(out), 1024) == 0 &&
	      !strcmp(out, "CN=x\\2a\\29\\28objectClass=\\2a"),
	      "a DN that would close the filter: no bare * ( ) (%s)", out);
	CHECK(escaped("a\nb\x01", out, sizeof(out), 1024) == 0 &&
	      !strcmp(out, "a\\0ab\\01"), "control bytes: \\0a \\01 (%s)", out);
	CHECK(escaped("CN=Ünïcode,DC=x", out, sizeof(out), 1024) == 0 &&
	      !strcmp(out, "CN=Ünïcode,DC=x"), "UTF-8 kept as it is");
	CHECK(strpbrk(out, "*()") == NULL, "no filter special left");
	/* The buffer's maximum: at N it fits, at N - 1 it is refused. */
	CHECK(escaped("ab(", out, sizeof(out), 5) == 0 &&
	      !strcmp(out, "ab\\28"), "exactly the buffer's maximum: fits");
	CHECK(escaped("ab(", out, sizeof(out), 4) < 0,
	      "one byte over the buffer's maximum: refused");
	return check_done();
}
