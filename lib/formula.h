/*
 * formula.h - Domino-style selection formulas: compile once, evaluate for
 * every LDAP entry.  formula_compile() checks and compiles text such as
 *   SELECT @IsMember("inetOrgPerson"; objectClass) & @IsAvailable(mail)
 * and formula_eval() runs it against one entry, without allocating.
 * Limits: FORMULA_MAX_* below (schema/formulas.md documents them).  Hostile
 * text is refused with "line L, column C: ..." whose bytes are escaped and
 * truncated; it never crashes.  Language reference: schema/formulas.md.
 */
#ifndef DIRCAT_FORMULA_H
#define DIRCAT_FORMULA_H

#include <stddef.h>

/* Limits; a formula or table beyond one is refused with a message. */
#define FORMULA_MAX_TEXT    65536	/* bytes of formula text */
#define FORMULA_MAX_DEPTH   64		/* nesting: '(' of a group or call, '!' */
#define FORMULA_MAX_NODES   4096	/* names, values, operators and calls */
#define FORMULA_MAX_LITERAL 1024	/* bytes of one string, after escapes */
#define FORMULA_MAX_NAME    64		/* bytes of an attribute name */
#define FORMULA_MAX_ATTRS   256		/* attribute names in one table */

/*
 * Semantics in brief (the full text is schema/formulas.md):
 * - every operand is a list of values: an attribute gives all its values,
 *   an absent attribute the empty list, a literal a one-element list;
 * - a = b, a < b, ... hold when ANY pair of values satisfies them; values
 *   compare as 64-bit integers when both are integers, otherwise as bytes
 *   with ASCII case folded ("Mail" = "MAIL");
 * - a != b is exactly !(a = b): NO value of a equals a value of b.  This is
 *   deliberate and differs from Domino's "some pair differs": it makes
 *   employeeType != "disabled" leave out {staff, disabled} and keep an entry
 *   without employeeType.  Against an absent attribute every comparison is
 *   false except !=, which is true.
 */

/*
 * Interned attribute names shared by several formulas, so one entry's
 * values are gathered once and every formula indexes them the same way.
 * Names are LDAP attribute descriptions: a letter, then letters, digits
 * and hyphens, at most FORMULA_MAX_NAME bytes; compared with ASCII case
 * folded.
 */
struct formula_attrs;

/* A new empty table; NULL when out of memory.  Free with formula_attrs_free. */
struct formula_attrs *formula_attrs_new(void);
/* Free the table (NULL is fine).  Formulas compiled against it stay valid. */
void formula_attrs_free(struct formula_attrs *);
/*
 * Intern name[0..len): its index (>= 0), the same index for the same name
 * in any case ("Mail" after "mail"); -1 when the name is invalid or the
 * table already holds FORMULA_MAX_ATTRS names.
 */
int formula_attrs_add(struct formula_attrs *, const char *name, size_t len);
/* Index of name[0..len) (case-insensitive), or -1 when not in the table. */
int formula_attrs_find(const struct formula_attrs *, const char *name,
		       size_t len);
/* Number of names in the table; indexes run from 0 to count - 1. */
size_t formula_attrs_count(const struct formula_attrs *);
/*
 * Name i as first added, NUL-terminated, owned by the table (valid until it
 * is freed); NULL when i is out of range.
 */
const char *formula_attrs_name(const struct formula_attrs *, size_t i);

/* One value: not NUL-terminated, may hold any bytes. */
struct formula_val {
	const char *ptr;
	size_t len;
};

/* All values of one attribute; n == 0 means the attribute is absent. */
struct formula_vals {
	const struct formula_val *v;
	size_t n;
};

struct formula;

/*
 * Compile text (NUL-terminated).  Returns the compiled formula, to be freed
 * with formula_free(), or NULL with a message in err[0..errlen) such as
 * "line 2, column 14: expected ')' after function arguments, found '&'"
 * (printable ASCII, always NUL-terminated when errlen > 0; err may be NULL
 * when errlen is 0).  Attribute names the formula uses are added to attrs;
 * on failure attrs is left as it was.  The formula keeps no pointer to text
 * or attrs.
 */
struct formula *formula_compile(const char *text, struct formula_attrs *attrs,
				char *err, size_t errlen);

/*
 * Evaluate f against one entry: vals[i] holds the values of attribute i of
 * the attrs table f was compiled with, an array of (at least)
 * formula_attrs_count() elements at the time of the call; vals may be NULL
 * for an entry with no attributes.  Returns 1 when the entry is selected,
 * 0 when not (also for f == NULL).  Never allocates and never fails.
 * It only reads f, so several threads may evaluate one formula at once;
 * compiling against one attrs table from several threads needs a lock.
 */
int formula_eval(const struct formula *f, const struct formula_vals *vals);

/* Free a compiled formula (NULL is fine). */
void formula_free(struct formula *f);

#endif
