/*
 * fuzz_addr.c - libFuzzer target for lib/addr.c, the one address
 * normalisation (aggregator, catalogd and dircat alike).
 *
 * The first input byte picks the flags (bit 0 case-sensitive, bit 1
 * catch-all, bit 2 brackets) and the extension delimiters; the rest is the
 * address as a client or an LDAP value would give it.  Checked:
 *   - the fast path and the general code give the same result and text;
 *   - a refusal says why (a NUL-terminated, non-empty reason);
 *   - a normalised address fits ADDR_MAX, holds an '@', and normalises to
 *     itself again (a key is always spelt one way);
 *   - its domain normalises to itself, and a set holding it matches it;
 *   - stripping an extension gives a shorter address with the same domain.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fuzz_delims[4] = { "+", "+-", "-", "" };

/* The same address, normalised again, must not change. */
static void fuzz_again(const char *norm, unsigned flags)
{
	char again[ADDR_BUF], err[128];
	size_t n = strlen(norm);

	if (addr_normalise(norm, n, again, sizeof(again),
			   flags & ~ADDR_BRACKETS, err, sizeof(err)) < 0 ||
	    strcmp(again, norm) != 0)
		abort();
}

/* The domain part: stable, and found in a set that holds it. */
static void fuzz_domain(const char *norm)
{
	const char *d = addr_domain(norm);
	char again[ADDR_BUF], err[128];
	struct addr_domains *set;

	if (d == norm || d[-1] != '@')
		abort();
	if (addr_domain_normalise(d, strlen(d), again, sizeof(again), err,
				  sizeof(err)) < 0 || strcmp(again, d) != 0)
		abort();
	set = addr_domains_new();
	if (addr_domains_add(set, d, strlen(d), err, sizeof(err)) < 0 ||
	    !addr_domains_match(set, d) || addr_domains_count(set) != 1)
		abort();
	addr_domains_free(set);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char fast[ADDR_BUF], general[ADDR_BUF], stripped[ADDR_BUF];
	char err1[128], err2[128];
	const char *in, *delims;
	unsigned flags;
	int rc1, rc2;

	if (size < 1)
		return 0;
	flags = data[0] & (ADDR_CASE_SENSITIVE | ADDR_CATCHALL | ADDR_BRACKETS);
	delims = fuzz_delims[(data[0] >> 4) & 3];
	in = (const char *)data + 1;
	size--;

	memset(err1, 'Z', sizeof(err1));
	memset(err2, 'Z', sizeof(err2));
	rc1 = addr_normalise(in, size, fast, sizeof(fast), flags, err1,
			     sizeof(err1));
	rc2 = addr_normalise(in, size, general, sizeof(general),
			     flags | ADDR_GENERAL, err2, sizeof(err2));
	if (rc1 != rc2)
		abort();
	if (rc1 < 0) {
		if (!memchr(err1, '\0', sizeof(err1)) || !err1[0] ||
		    !memchr(err2, '\0', sizeof(err2)) || !err2[0])
			abort();
		return 0;
	}
	if (strcmp(fast, general) != 0 || strlen(fast) > ADDR_MAX ||
	    !strchr(fast, '@'))
		abort();
	fuzz_again(fast, flags);
	fuzz_domain(fast);
	if (addr_strip_extension(fast, delims, stripped, sizeof(stripped))) {
		if (strlen(stripped) >= strlen(fast) ||
		    strcmp(addr_domain(stripped), addr_domain(fast)) != 0)
			abort();
	}
	return 0;
}
