/*
 * fuzz_netstring.c - libFuzzer target for lib/netstring.c: the input is
 * parsed as a stream of pipelined netstrings with a small limit, the way
 * catalogd reads a socketmap connection.  Every netstring found must lie
 * inside the input and re-encode to exactly the bytes it was read from.
 */
#include "netstring.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	size_t pos = 0;

	while (pos < size) {
		const char *d, *why;
		size_t dlen, used;
		char out[600];
		int rc = netstring_parse(in + pos, size - pos, 512, &d, &dlen,
					 &used, &why);

		if (rc != NETSTRING_DONE)
			break;
		if (used > size - pos || d < in + pos ||
		    d + dlen > in + pos + used || dlen > 512)
			abort();
		if (netstring_format(out, sizeof(out), d, dlen) != used ||
		    memcmp(out, in + pos, used) != 0)
			abort();
		pos += used;
	}
	return 0;
}
