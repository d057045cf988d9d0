/*
 * fuzz_usncookie.c - libFuzzer target: the Active Directory live
 * source's stored cookie (aggregator/usncookie.c) and the filter escape
 * of DNs from the directory.  Any bytes: a cookie is read only when it is
 * exactly USNCOOKIE_LEN bytes and then writes back the same bytes; an
 * escaped value never holds a bare * ( ) or a control byte.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "usncookie.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct usncookie c;
	unsigned char again[USNCOOKIE_LEN];
	struct buf b;
	char *s;
	size_t i;

	if (usncookie_parse(data, size, &c) == 0 &&
	    (size != USNCOOKIE_LEN || usncookie_make(&c, again) != size ||
	     memcmp(again, data, size)))
		abort();
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	buf_init(&b, 3 * size + 1);
	if (usncookie_filter_escape(&b, s) < 0)
		abort();		/* 3 bytes per byte always fit */
	for (i = 0; i < b.len; i++)
		if (b.data[i] == '*' || b.data[i] == '(' || b.data[i] == ')' ||
		    b.data[i] < 0x20)
			abort();
	buf_free(&b);
	free(s);
	return 0;
}
