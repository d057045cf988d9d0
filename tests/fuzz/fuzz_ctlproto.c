/*
 * fuzz_ctlproto.c - libFuzzer target for lib/ctlproto.c: catalogd's
 * control socket replies as dircat reads them (the status reply, and the
 * end of a reply).
 *
 * The input is a reply.  A refusal must say why; a status that is read
 * must be written again by catalogd's writer as printable key=value lines
 * with no empty line inside (so the reply cannot end early), and read
 * back as the same values.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctlproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ctlproto_status st, back;
	struct buf b;
	char err[512], *copy;
	size_t i;

	/* A private copy of exactly the reply, so overreads are caught. */
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	if (ctlproto_reply_complete(copy, size) !=
	    (size >= 2 && copy[size - 1] == '\n' && copy[size - 2] == '\n'))
		abort();
	memset(err, 'Z', sizeof(err));
	if (ctlproto_status_parse(copy, size, &st, err, sizeof(err)) < 0) {
		if (!memchr(err, '\0', sizeof(err)) || !err[0])
			abort();
		free(copy);
		return 0;
	}
	if (st.version != CTLPROTO_VERSION)
		abort();
	buf_init(&b, CTLPROTO_STATUS_MAX);
	if (ctlproto_status_format(&st, &b) < 0)
		abort();
	for (i = 0; i < b.len; i++)
		if (b.data[i] == '\n' ? i + 1 < b.len && b.data[i + 1] == '\n'
				      : (b.data[i] < 0x20 || b.data[i] > 0x7e))
			abort();
	if (ctlproto_status_parse((const char *)b.data, b.len, &back, err,
				  sizeof(err)) < 0 ||
	    memcmp(&st, &back, sizeof(st)))
		abort();
	buf_free(&b);
	free(copy);
	return 0;
}
