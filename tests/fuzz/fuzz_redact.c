/*
 * fuzz_redact.c - libFuzzer target for lib/redact.c: the input is one
 * line as a server might send it.  The result must be NUL-terminated
 * within the buffer and printable ASCII only; and with an Authorization
 * header appended, the result must not depend on that header's value:
 * two different values of the same length give the same output.
 */
#include "redact.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char out1[REDACT_OUT_SIZE], out2[REDACT_OUT_SIZE];

/* data, the header, value: redacted into out. */
static void fuzz_redact_with(const uint8_t *data, size_t size,
			     const char *value, char *line, char *out)
{
	static const char head[] = "Authorization: Basic ";
	size_t n = strlen(value);

	memcpy(line, data, size);
	memcpy(line + size, head, sizeof(head) - 1);
	memcpy(line + size + sizeof(head) - 1, value, n);
	redact_line(line, size + sizeof(head) - 1 + n, out, REDACT_OUT_SIZE);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = malloc(size + 64);
	size_t i, n;

	if (!line)
		return 0;
	redact_line((const char *)data, size, out1, sizeof(out1));
	n = strlen(out1);
	if (n >= sizeof(out1))
		abort();
	for (i = 0; i < n; i++)
		if (out1[i] < 0x20 || out1[i] > 0x7e)
			abort();
	fuzz_redact_with(data, size, "c2VjcmV0LXB3", line, out1);
	fuzz_redact_with(data, size, "b3RoZXItcHcx", line, out2);
	if (strcmp(out1, out2))
		abort();
	free(line);
	return 0;
}
