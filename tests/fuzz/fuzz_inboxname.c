/*
 * fuzz_inboxname.c - libFuzzer target for the names in catalogd's inbox:
 * inbox_parse_name() (catalogd/inbox.c), which decides from a file name
 * chosen by the upload account whether a file is a snapshot of this
 * catalog and of which serial, and the two ways such a name is made
 * printable before it reaches a .reason file, dircat status or the log
 * (kvtext_escape() and inbox_printable()).
 *
 * The first input byte gives the length of the catalog id (its low four
 * bits, at most 15 bytes of the input); the rest, up to a NUL, is the
 * file name.  A name taken as a snapshot must be exactly
 * ID.SERIAL.full.snap or ID.BASE-SERIAL.delta.snap with plain decimal
 * numbers from 1 (and BASE < ... is not the parser's business): it is
 * written again from what was parsed and compared.  A name refused as
 * "another catalog's" must end like a snapshot name.  Escaped names must
 * hold only printable ASCII, never pass the output size, and
 * kvtext_escape()'s text must read back (\\ and \xNN) to the name when it
 * fits; inbox_printable() must leave such text as it is.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inbox.h"	/* -Icatalogd */
#include "kvtext.h"
#include "snapshot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_NAME_MAX 1024

/* Every byte printable ASCII, and the text within size. */
static void fuzz_printable(const char *s, size_t size)
{
	size_t n = strnlen(s, size);

	if (n >= size)
		abort();
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			abort();
}

/* kvtext_escape()'s text read back: 0 with out, or -1 when malformed. */
static int fuzz_unescape(const char *s, char *out, size_t *n)
{
	size_t o = 0;

	for (; *s; s++) {
		if (*s != '\\') {
			out[o++] = *s;
			continue;
		}
		if (s[1] == '\\') {
			out[o++] = '\\';
			s++;
		} else if (s[1] == 'x' && isxdigit((unsigned char)s[2]) &&
			   isxdigit((unsigned char)s[3])) {
			char h[3] = { s[2], s[3], 0 };

			out[o++] = (char)strtol(h, NULL, 16);
			s += 3;
		} else {
			return -1;
		}
	}
	*n = o;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char id[16], name[FUZZ_NAME_MAX + 1], again[FUZZ_NAME_MAX + 64];
	char esc[4 * FUZZ_NAME_MAX + 1], small[40], back[FUZZ_NAME_MAX + 1];
	char pr[4 * FUZZ_NAME_MAX + 1], pr2[4 * FUZZ_NAME_MAX + 1];
	size_t idlen, nlen, blen;
	uint64_t serial = 0;
	int type = -1, other = -1, ok;

	if (size < 1)
		return 0;
	idlen = data[0] & 15;
	if (idlen > size - 1)
		idlen = size - 1;
	memcpy(id, data + 1, idlen);
	id[idlen] = '\0';
	nlen = size - 1 - idlen;
	if (nlen > FUZZ_NAME_MAX)
		nlen = FUZZ_NAME_MAX;
	memcpy(name, data + 1 + idlen, nlen);
	name[nlen] = '\0';
	nlen = strlen(name);
	idlen = strlen(id);

	ok = inbox_parse_name(name, id, &serial, &type, &other);
	if (ok != 0 && ok != 1)
		abort();
	if (ok) {
		const char *p = name + idlen + 1;
		uint64_t base = 0;

		if (other || serial < 1 || serial > INT64_MAX ||
		    strncmp(name, id, idlen) || name[idlen] != '.')
			abort();
		if (type == SNAPSHOT_FULL) {
			snprintf(again, sizeof(again), "%s.%" PRIu64
				 ".full.snap", id, serial);
		} else if (type == SNAPSHOT_DELTA) {
			if (!isdigit((unsigned char)*p) || *p == '0')
				abort();
			base = strtoull(p, NULL, 10);
			snprintf(again, sizeof(again), "%s.%" PRIu64 "-%"
				 PRIu64 ".delta.snap", id, base, serial);
		} else {
			abort();
		}
		/* Plain decimal: no sign, no leading zero, no space. */
		if (strcmp(again, name))
			abort();
	} else if (other && ((nlen < 10 ||
			      strcmp(name + nlen - 10, ".full.snap")) &&
			     (nlen < 11 ||
			      strcmp(name + nlen - 11, ".delta.snap")))) {
		abort();
	}

	/* The escaped name, and the same cut short. */
	kvtext_escape(name, nlen, esc, sizeof(esc));
	fuzz_printable(esc, sizeof(esc));
	if (fuzz_unescape(esc, back, &blen) < 0 || blen != nlen ||
	    memcmp(back, name, nlen))
		abort();
	kvtext_escape(name, nlen, small, sizeof(small));
	fuzz_printable(small, sizeof(small));
	if (strncmp(small, esc, strlen(small)))
		abort();
	/* Escaped text stays as it is; raw names become printable. */
	inbox_printable(esc, pr, sizeof(pr));
	if (strcmp(pr, esc))
		abort();
	inbox_printable(name, pr, sizeof(pr));
	fuzz_printable(pr, sizeof(pr));
	inbox_printable(pr, pr2, sizeof(pr2));
	if (strcmp(pr, pr2))
		abort();
	inbox_printable(name, small, sizeof(small));
	fuzz_printable(small, sizeof(small));
	return 0;
}
