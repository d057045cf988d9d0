/*
 * fuzz_cidr.c - libFuzzer target for lib/cidr.c: the input is a network
 * list as written after internal_networks =.  A list that parses must
 * have 1 .. CIDR_LIST_MAX networks, each of which contains its own
 * address (written back with inet_ntop); the input is also tried as one
 * client address against a fixed list.
 */
#include "cidr.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct cidr_list list, fixed;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256], text[64], *s;
	size_t i;

	if (cidr_list_parse((const char *)data, size, &list, err,
			    sizeof(err)) == 0) {
		if (list.n == 0 || list.n > CIDR_LIST_MAX)
			abort();
		for (i = 0; i < list.n; i++) {
			const struct cidr_net *n = &list.net[i];

			if (!inet_ntop(n->family == 4 ? AF_INET : AF_INET6,
				       n->addr, text, sizeof(text)) ||
			    !cidr_list_match(&list, text))
				abort();
		}
	}
	if (!fixed.n &&
	    cidr_list_parse("10.0.0.0/8 2001:db8::/32", 24, &fixed, err,
			    sizeof(err)) < 0)
		abort();
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	(void)cidr_list_match(&fixed, s);
	free(s);
	return 0;
}
