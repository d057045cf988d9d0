/*
 * fuzz_nodestatus.c - libFuzzer target for lib/nodestatus.c (and the
 * kvtext.c lines under it): the text a DMZ node sends back to the
 * replicator (INBOX/status, parsed on the internal host) and the .reason
 * files dircat reads from INBOX/rejected/.
 *
 * The first input byte picks the reader (bit 0 clear: INBOX/status, set:
 * a .reason file); the rest is the file.  A refusal must say why; what is
 * accepted must be written again by the writer and read back as the same
 * values (the writer's output always one line per field, printable ASCII).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nodestatus.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Writer output: printable ASCII lines only. */
static void fuzz_printable(const struct buf *b)
{
	size_t i;

	if (b->len == 0 || b->data[b->len - 1] != '\n')
		abort();
	for (i = 0; i < b->len; i++)
		if (b->data[i] != '\n' && (b->data[i] < 0x20 || b->data[i] > 0x7e))
			abort();
}

static void fuzz_reason(const char *err, size_t size)
{
	if (!memchr(err, '\0', size) || !err[0])
		abort();
}

static void fuzz_status(const char *text, size_t len)
{
	struct nodestatus st, back;
	struct buf b;
	char err[512];

	memset(err, 'Z', sizeof(err));
	if (nodestatus_parse(text, len, &st, err, sizeof(err)) < 0) {
		fuzz_reason(err, sizeof(err));
		if (strncmp(err, "status file: ", 13))
			abort();
		return;
	}
	buf_init(&b, NODESTATUS_MAX);
	if (nodestatus_format(&st, &b, err, sizeof(err)) < 0)
		abort();
	fuzz_printable(&b);
	if (nodestatus_parse((const char *)b.data, b.len, &back, err,
			     sizeof(err)) < 0)
		abort();
	st.version = back.version;	/* the writer writes its own */
	if (memcmp(&st, &back, sizeof(st)))
		abort();
	buf_free(&b);
}

static void fuzz_refusal(const char *text, size_t len)
{
	struct nodestatus_refusal r, back;
	struct buf b;
	char err[512];

	memset(err, 'Z', sizeof(err));
	if (nodestatus_refusal_parse(text, len, &r, err, sizeof(err)) < 0) {
		fuzz_reason(err, sizeof(err));
		return;
	}
	buf_init(&b, NODESTATUS_REFUSAL_MAX);
	if (nodestatus_refusal_format(&r, &b, err, sizeof(err)) < 0)
		abort();
	fuzz_printable(&b);
	if (nodestatus_refusal_parse((const char *)b.data, b.len, &back, err,
				     sizeof(err)) < 0)
		abort();
	if (back.time != r.time || strcmp(back.file, r.file) ||
	    strcmp(back.reason, r.reason))
		abort();
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy;

	if (size < 1)
		return 0;
	/* A private copy of exactly the file, so overreads are caught. */
	copy = malloc(size - 1 ? size - 1 : 1);
	if (!copy)
		return 0;
	memcpy(copy, data + 1, size - 1);
	if (data[0] & 1)
		fuzz_refusal(copy, size - 1);
	else
		fuzz_status(copy, size - 1);
	free(copy);
	return 0;
}
