/*
 * fuzz_formula.c - libFuzzer target for lib/formula_*.c: the input, cut at
 * its first NUL as a C string would be, is compiled as a formula; if it
 * compiles it is evaluated against a small fixed entry (and an empty one),
 * and if it does not the error text must be positioned, printable ASCII
 * and NUL-terminated.  Any crash, sanitizer report or abort is a finding.
 */
#include "formula.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The fixed entry: name, then its values; values hold odd bytes on purpose. */
static const struct {
	const char *name;
	struct formula_val v[4];
	size_t n;
} fuzz_entry[] = {
	{ "objectClass", { { "top", 3 }, { "inetOrgPerson", 13 },
			   { "groupOfNames", 12 } }, 3 },
	{ "mail", { { "Alice@Example.COM", 17 }, { "a@b", 3 } }, 2 },
	{ "uid", { { "alice", 5 } }, 1 },
	{ "uidNumber", { { "1001", 4 } }, 1 },
	{ "userAccountControl", { { "514", 3 } }, 1 },
	{ "employeeType", { { "staff", 5 }, { "disabled", 8 } }, 2 },
	{ "x", { { "a\0b", 3 }, { "\xff\xfe", 2 }, { "-9223372036854775808",
		 20 }, { "", 0 } }, 4 },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct formula_vals vals[256];
	struct formula_attrs *attrs;
	struct formula *f;
	char err[256];
	char *text;
	size_t n;

	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	attrs = formula_attrs_new();
	if (attrs == NULL) {
		free(text);
		return 0;
	}
	/* Fill err so a missing terminator would show up as an overread. */
	memset(err, 'Z', sizeof(err));
	f = formula_compile(text, attrs, err, sizeof(err));
	if (f == NULL) {
		if (memchr(err, '\0', sizeof(err)) == NULL ||
		    strncmp(err, "line ", 5) != 0)
			abort();
		for (const char *e = err; *e != '\0'; e++)
			if ((unsigned char)*e < 0x20 || (unsigned char)*e > 0x7e)
				abort();
	} else {
		n = formula_attrs_count(attrs);
		for (size_t i = 0; i < n; i++) {
			vals[i].v = NULL;
			vals[i].n = 0;
			for (size_t j = 0; j < sizeof(fuzz_entry) /
			     sizeof(*fuzz_entry); j++)
				if (formula_attrs_find(attrs, fuzz_entry[j].name,
						       strlen(fuzz_entry[j].name))
				    == (int)i) {
					vals[i].v = fuzz_entry[j].v;
					vals[i].n = fuzz_entry[j].n;
				}
		}
		/* Deterministic: the same answer twice. */
		if (formula_eval(f, vals) != formula_eval(f, vals))
			abort();
		(void)formula_eval(f, NULL);
		formula_free(f);
	}
	formula_attrs_free(attrs);
	free(text);
	return 0;
}
