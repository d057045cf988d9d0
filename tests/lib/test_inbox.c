/*
 * test_inbox.c - catalogd/inbox.c's pure parts: the inbox file name
 * parser (names are the upload account's choice) and the escaping that
 * keeps them from forging lines, at their limits.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "inbox.h"
#include "kvtext.h"

static void test_names(void)
{
	static const struct {
		const char *name;
		int ok, other, type;
		unsigned long long serial;
	} t[] = {
		{ "corp.7.full.snap", 1, 0, SNAPSHOT_FULL, 7 },
		{ "corp.6-7.delta.snap", 1, 0, SNAPSHOT_DELTA, 7 },
		{ "corp.9223372036854775807.full.snap", 1, 0, SNAPSHOT_FULL,
		  9223372036854775807ULL },
		{ "corp.9223372036854775808.full.snap", 0, 0, 0, 0 },
		{ "corp.0.full.snap", 0, 0, 0, 0 },
		{ "corp.-7.full.snap", 0, 0, 0, 0 },
		{ "corp.+7.full.snap", 0, 0, 0, 0 },
		{ "corp. 7.full.snap", 0, 0, 0, 0 },
		{ "corp.\n7.full.snap", 0, 0, 0, 0 },
		{ "corp.07.full.snap", 0, 0, 0, 0 },
		{ "corp.+6-7.delta.snap", 0, 0, 0, 0 },
		{ "corp. 6-7.delta.snap", 0, 0, 0, 0 },
		{ "corp.06-7.delta.snap", 0, 0, 0, 0 },
		{ "corp.6-+7.delta.snap", 0, 0, 0, 0 },
		{ "corp.6-07.delta.snap", 0, 0, 0, 0 },
		{ "corp.7x.full.snap", 0, 0, 0, 0 },
		{ "corp..full.snap", 0, 0, 0, 0 },
		{ "corp.7.full.snap.tmp", 0, 0, 0, 0 },
		{ "corp.7-.delta.snap", 0, 0, 0, 0 },
		{ "corp.-7.delta.snap", 0, 0, 0, 0 },
		{ "corp.7.delta.snap", 0, 0, 0, 0 },
		{ "corp.1\n-2.delta.snap", 0, 0, 0, 0 },
		{ "corp.x-2.delta.snap", 0, 0, 0, 0 },
		{ "other.7.full.snap", 0, 1, 0, 0 },
		{ "corpx.7.full.snap", 0, 1, 0, 0 },
		{ "cor.7.full.snap", 0, 1, 0, 0 },
		{ "7.full.snap", 0, 0, 0, 0 },
		{ ".full.snap", 0, 0, 0, 0 },
		{ "corp.7.full", 0, 0, 0, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint64_t serial = 0;
		int type = 0, other = -1;
		int ok = inbox_parse_name(t[i].name, "corp", &serial, &type,
					  &other);
		char q[INBOX_ESCAPED_MAX];

		kvtext_escape(t[i].name, strlen(t[i].name), q, sizeof(q));
		CHECK(ok == t[i].ok && other == t[i].other &&
		      (!ok || (type == t[i].type && serial == t[i].serial)),
		      "name %s: %s%s", q, ok ? "a snapshot" : "refused",
		      other ? " (another catalog)" : "");
	}
}

static void test_printable(void)
{
	char out[64];

	CHECK_STR(inbox_printable("ok \\x0a\n\x1b", out, sizeof(out)),
		  "ok \\x0a\\x0a\\x1b",
		  "printable: escapes kept as they are, control bytes escaped");
	CHECK_STR(inbox_printable("\xff\xfe", out, 5), "\\xff",
		  "printable: cut at a whole escape");
	CHECK_STR(inbox_reason_name(SNAPSHOT_E_NOT_REGULAR), "not_regular",
		  "reason label for not a regular file");
	CHECK_STR(inbox_reason_name(INBOX_R_TIMEOUT), "install_timeout",
		  "reason label for a stopped install");
	CHECK(inbox_reason_name(SNAPSHOT_OK) == NULL &&
	      inbox_reason_name(SNAPSHOT_E_CATALOG) == NULL &&
	      inbox_reason_name(INBOX_REASONS) == NULL,
	      "no label outside the refusals");
}

int main(void)
{
	test_names();
	test_printable();
	return check_done();
}
