/*
 * fuzz_watchstat.c - libFuzzer target for "dircat status --watch FILE"
 * (admin/watchstat.c): the watch mode's state file, key=value lines that
 * carry a directory server's error messages, read and judged for people
 * and for Nagios.
 *
 * The first input byte's bit 0 picks the Nagios form; the rest (up to a
 * NUL, at most WATCHSTAT_FILE_MAX bytes, as the file is read) is the
 * file.  The judgement must be 0, 1 or 2; what is printed must be
 * printable ASCII or UTF-8 bytes and line ends only (no control
 * character reaches the terminal or the monitoring system); the Nagios
 * form must be exactly one line starting "DIRCAT OK|WARNING|CRITICAL -"
 * that agrees with the judgement; the other form prints no more lines
 * than the file has, plus one.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "watchstat.h"	/* -Iadmin */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fuzz_word[] = { "OK", "WARNING", "CRITICAL" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char text[WATCHSTAT_FILE_MAX + 1];
	char *out = NULL, pre[32];
	size_t n, outlen = 0, i, lines = 0, outlines = 0;
	FILE *f;
	int nagios, state;

	if (size < 1)
		return 0;
	nagios = data[0] & 1;
	n = size - 1;
	if (n > WATCHSTAT_FILE_MAX)
		n = WATCHSTAT_FILE_MAX;
	memcpy(text, data + 1, n);
	text[n] = '\0';
	for (i = 0; text[i]; i++)
		lines += text[i] == '\n';
	f = open_memstream(&out, &outlen);
	if (!f)
		abort();
	state = watchstat_text(text, nagios, f);
	fclose(f);
	if (state < 0 || state > 2)
		abort();
	for (i = 0; i < outlen; i++) {
		unsigned char c = (unsigned char)out[i];

		if (c == '\n')
			outlines++;
		else if (c < 0x20 || c == 0x7f)
			abort();
	}
	if (outlen && out[outlen - 1] != '\n')
		abort();
	if (nagios) {
		snprintf(pre, sizeof(pre), "DIRCAT %s - ", fuzz_word[state]);
		if (outlines != 1 || strncmp(out, pre, strlen(pre)))
			abort();
	} else if (outlines > lines + 2) {
		abort();
	}
	free(out);
	return 0;
}
