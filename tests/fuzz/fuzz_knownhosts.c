/*
 * fuzz_knownhosts.c - libFuzzer target: the replicator's reading of an
 * ssh known_hosts file (replicator/knownhosts.c).  Any bytes, looked up
 * for a few hosts and ports: a line is picked only within the text, with
 * a key type of at most KNOWNHOSTS_TYPE_MAX bytes and no blank in it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "knownhosts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *hosts[] = { "127.0.0.1", "mx1.dmz.example.com",
				       "mx1", "" };
	static const long ports[] = { 22, 2222, 0 };
	struct knownhosts_pick p;
	char err[128];
	size_t h, q, lines = 1, i;

	for (i = 0; i < size; i++)
		lines += data[i] == '\n';
	for (h = 0; h < sizeof(hosts) / sizeof(hosts[0]); h++)
		for (q = 0; q < sizeof(ports) / sizeof(ports[0]); q++) {
			if (knownhosts_pick((const char *)data, size, hosts[h],
					    ports[q], &p, err, sizeof(err)) < 0) {
				if (p.line || !err[0])
					abort();
				continue;
			}
			if (p.line < 0 || (size_t)p.line > lines)
				abort();
			if (p.line && (!p.type[0] ||
				       strlen(p.type) > KNOWNHOSTS_TYPE_MAX ||
				       strpbrk(p.type, " \t\r\n")))
				abort();
			if (!p.line && (p.type[0] || p.hashed))
				abort();
		}
	return 0;
}
