/*
 * test_formula.c - unit tests for lib/formula_parse.c and formula_eval.c:
 * every operator and function, precedence, case rules, multi-valued "any"
 * semantics, the != rule, the administrator examples, exact error texts,
 * and the limits of formula.h at limit and limit + 1.
 */
#include "formula.h"
#include "check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---------------------------------------------------------------------- */
/* Fixture entries: "attribute=value" lines, one a value.                   */
/* ---------------------------------------------------------------------- */

static const char *const alice[] = {
	"objectClass=top", "objectClass=person",
	"objectClass=organizationalPerson", "objectClass=inetOrgPerson",
	"mail=Alice@Example.COM", "mail=alice.smith@example.com",
	"uid=alice", "uidNumber=1001", "employeeType=staff",
	"cn=Alice Smith", NULL
};
static const char *const bob[] = {	/* disabled and flagged */
	"objectclass=top", "objectclass=inetOrgPerson",
	"mail=bob@example.com", "uidNumber=999",
	"employeeType=staff", "employeeType=disabled",
	"dircatNoSync=TRUE", NULL
};
static const char *const frank[] = {	/* flag present but false */
	"objectClass=inetOrgPerson", "mail=frank@example.com",
	"dircatNoSync=FALSE", NULL
};
static const char *const carol[] = {	/* no mail */
	"objectClass=inetOrgPerson", "uid=carol", NULL
};
static const char *const sales[] = {
	"objectClass=top", "objectClass=groupOfNames",
	"mail=sales@example.com", "cn=sales",
	"member=uid=alice,ou=people,dc=example,dc=com",
	"member=uid=bob,ou=people,dc=example,dc=com", NULL
};
static const char *const helpdesk[] = {
	"objectClass=top", "objectClass=dircatMailIn",
	"mail=helpdesk@example.com", NULL
};
static const char *const dave[] = {	/* AD, enabled */
	"objectClass=top", "objectClass=person", "objectClass=user",
	"userAccountControl=512", "mail=dave@example.com",
	"proxyAddresses=SMTP:dave@example.com",
	"proxyAddresses=smtp:d@example.com", NULL
};
static const char *const eve[] = {	/* AD, disabled (512 | 2) */
	"objectClass=user", "userAccountControl=514",
	"proxyAddresses=SMTP:eve@example.com", NULL
};
static const char *const gina[] = {	/* AD, enabled, hidden */
	"objectClass=user", "userAccountControl=66048",
	"proxyAddresses=SMTP:gina@example.com",
	"msExchHideFromAddressLists=TRUE", NULL
};
static const char *const hank[] = {	/* AD, enabled, no addresses */
	"objectClass=user", "userAccountControl=512", NULL
};
static const char *const ivan[] = {	/* 389-DS, locked */
	"objectClass=inetOrgPerson", "mail=ivan@example.com",
	"nsAccountLock=true", NULL
};
static const char *const empty[] = { NULL };

static struct formula_attrs *attrs;	/* shared, as in the aggregator */

/* Gather entry's values by attribute index, as a caller of formula_eval would. */
static void gather(const char *const *entry, struct formula_vals *vals,
		   struct formula_val *pool, size_t poolmax)
{
	size_t n = formula_attrs_count(attrs), used = 0;

	for (size_t i = 0; i < n; i++) {
		vals[i].v = pool + used;
		vals[i].n = 0;
		for (size_t e = 0; entry[e] != NULL; e++) {
			const char *eq = strchr(entry[e], '=');

			if (formula_attrs_find(attrs, entry[e],
					       (size_t)(eq - entry[e])) !=
			    (int)i || used == poolmax)
				continue;
			pool[used].ptr = eq + 1;
			pool[used].len = strlen(eq + 1);
			used++;
			vals[i].n++;
		}
	}
}

/* Compile and evaluate: 1 or 0, or -1 with err when it does not compile. */
static int run(const char *text, const char *const *entry, char *err,
	       size_t errlen)
{
	struct formula_vals vals[256];
	struct formula_val pool[64];
	struct formula *f;
	int r;

	f = formula_compile(text, attrs, err, errlen);
	if (f == NULL)
		return -1;
	gather(entry, vals, pool, 64);
	r = formula_eval(f, vals);
	formula_free(f);
	return r;
}

/* A printable, shortened copy of a formula for a test's name. */
static const char *shown(const char *text, char *buf, size_t len)
{
	snprintf(buf, len, "%.60s", text);
	for (char *s = buf; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			*s = '?';
	return buf;
}

/* ---------------------------------------------------------------------- */
/* Evaluation table                                                        */
/* ---------------------------------------------------------------------- */

static const char domino_example[] =
	"SELECT (@IsMember(\"inetOrgPerson\"; objectClass) | "
	"@IsMember(\"groupOfNames\"; objectClass) | "
	"@IsMember(\"dircatMailIn\"; objectClass)) & @IsAvailable(mail) & "
	"dircatNoSync != \"TRUE\"";
static const char ad_example[] =
	"SELECT @BitAnd(userAccountControl; 2) = 0 & "
	"@IsAvailable(proxyAddresses)";

static const struct eval_case {
	const char *text;
	const char *const *entry;
	const char *entry_name;
	int want;
} eval_cases[] = {
#define E(t, e, w) { t, e, #e, w }
	/* constants and SELECT */
	E("@All", empty, 1),
	E("SELECT @All", alice, 1),
	E("select @all", alice, 1),
	E("SeLeCt @ALL()", alice, 1),
	E("@True", empty, 1),
	E("@False", alice, 0),
	E("@True()", empty, 1),
	E("@false()", empty, 0),
	/* logic */
	E("!@True", empty, 0),
	E("!!@True", empty, 1),
	E("!@False", empty, 1),
	E("@True & @False", empty, 0),
	E("@True & @True & @True", empty, 1),
	E("@True & @True & @False", empty, 0),
	E("@True | @False", empty, 1),
	E("@False | @False | @False", empty, 0),
	E("@False | @False | @True", empty, 1),
	/* precedence: & over |, ! over both, comparisons over & */
	E("@True | @False & @False", empty, 1),
	E("@False & @False | @True", empty, 1),
	E("(@True | @False) & @False", empty, 0),
	E("!@True | @True", empty, 1),
	E("!@False & @False", empty, 0),
	E("!(@False & @False)", empty, 1),
	E("uid = \"alice\" & uidNumber = 1001", alice, 1),
	E("uid = \"bob\" | uidNumber = 1001", alice, 1),
	E("uid = \"bob\" | uidNumber = 1001 & @False", alice, 0),
	E("((((uid = \"alice\"))))", alice, 1),
	/* equality, case of names and values */
	E("uid = \"alice\"", alice, 1),
	E("uid = \"ALICE\"", alice, 1),
	E("UID = \"alice\"", alice, 1),
	E("uid = \"bob\"", alice, 0),
	E("\"alice\" = uid", alice, 1),
	E("uid = \"alic\"", alice, 0),
	E("uid = \"alice \"", alice, 0),
	E("uid = \"\xC3\xA0lice\"", alice, 0),
	/* multi-valued: any pair */
	E("objectClass = \"inetOrgPerson\"", alice, 1),
	E("objectClass = \"inetOrgPerson\"", sales, 0),
	E("OBJECTCLASS = \"GROUPOFNAMES\"", sales, 1),
	E("objectClass = \"inetOrgPerson\"", bob, 1),
	E("mail = \"alice.smith@EXAMPLE.com\"", alice, 1),
	E("mail = mail", alice, 1),
	E("uid = mail", alice, 0),
	E("objectClass = \"groupOfNames\" : \"dircatMailIn\"", sales, 1),
	E("objectClass = \"groupOfNames\" : \"dircatMailIn\"", helpdesk, 1),
	E("objectClass = \"groupOfNames\" : \"dircatMailIn\"", alice, 0),
	/* the != rule: no value equals; absent attribute is != anything */
	E("employeeType != \"disabled\"", alice, 1),
	E("employeeType != \"disabled\"", bob, 0),
	E("employeeType != \"disabled\"", helpdesk, 1),
	E("employeeType != \"staff\"", bob, 0),
	E("employeeType <> \"disabled\"", bob, 0),
	E("!(employeeType = \"disabled\")", bob, 0),
	E("employeeType != \"disabled\" : \"contractor\"", alice, 1),
	E("employeeType != \"intern\" : \"disabled\"", bob, 0),
	/* absent attributes */
	E("employeeType = \"staff\"", helpdesk, 0),
	E("uidNumber < 1000", helpdesk, 0),
	E("uidNumber >= 1000", helpdesk, 0),
	E("uidNumber != 1000", helpdesk, 1),
	E("nosuchattr = nosuchattr", alice, 0),
	/* numbers */
	E("uidNumber < 1000", alice, 0),
	E("uidNumber < 1000", bob, 1),		/* "999" < "1000" numerically */
	E("uidNumber > 1000", alice, 1),
	E("uidNumber >= 1001", alice, 1),
	E("uidNumber <= 1001", alice, 1),
	E("uidNumber <= 1000", alice, 0),
	E("uidNumber > 1001", alice, 0),
	E("uidNumber = 1001", alice, 1),
	E("uidNumber = \"01001\"", alice, 1),
	E("uidNumber = \"+1001\"", alice, 1),
	E("uidNumber != 1001", alice, 0),
	E("uidNumber > -5", alice, 1),
	E("-5 < 3", empty, 1),
	E("-9223372036854775808 < 9223372036854775807", empty, 1),
	E("\"10\" > \"9\"", empty, 1),		/* both integers */
	E("\"10a\" > \"9\"", empty, 0),		/* not both: as strings */
	E("uid > 5", alice, 1),			/* "alice" vs "5" as strings */
	/* string ordering, case folded */
	E("cn < \"b\"", alice, 1),
	E("cn > \"ALICE\"", alice, 1),
	E("cn < \"ALICE\"", alice, 0),
	E("cn <= \"alice smith\"", alice, 1),
	E("cn >= \"ALICE SMITH\"", alice, 1),
	/* @IsAvailable, @IsUnavailable */
	E("@IsAvailable(mail)", alice, 1),
	E("@IsAvailable(mail)", carol, 0),
	E("@IsUnavailable(mail)", carol, 1),
	E("@IsUnavailable(mail)", alice, 0),
	E("@isavailable(MAIL)", alice, 1),
	E("@IsAvailable((mail))", alice, 1),
	/* @IsMember */
	E("@IsMember(\"inetOrgPerson\"; objectClass)", alice, 1),
	E("@IsMember(\"inetOrgPerson\"; objectClass)", sales, 0),
	E("@ISMEMBER(\"INETORGPERSON\"; objectclass)", alice, 1),
	E("@IsMember(\"groupOfNames\" : \"dircatMailIn\"; objectClass)",
	  sales, 1),
	E("@IsMember(\"groupOfNames\" : \"dircatMailIn\"; objectClass)",
	  helpdesk, 1),
	E("@IsMember(\"groupOfNames\" : \"dircatMailIn\"; objectClass)",
	  alice, 0),
	E("@IsMember(\"x\"; nosuchattr)", alice, 0),
	/* @Contains, @Begins, @Ends */
	E("@Contains(mail; \"EXAMPLE\")", alice, 1),
	E("@Contains(mail; \"nowhere\")", alice, 0),
	E("@Contains(cn; \"ce sm\")", alice, 1),
	E("@Contains(mail; \"\")", alice, 1),
	E("@Contains(nosuchattr; \"\")", alice, 0),
	E("@Contains(mail; \"x\" : \"smith\")", alice, 1),
	E("@Contains(member; \"uid=BOB,\")", sales, 1),
	E("@Begins(mail; \"ALICE.\")", alice, 1),
	E("@Begins(mail; \"bob\")", alice, 0),
	E("@Ends(mail; \"@example.com\")", alice, 1),
	E("@Ends(mail; \".org\")", alice, 0),
	E("@Begins(proxyAddresses; \"SMTP:\")", dave, 1),
	E("@Ends(uid; \"alicex\")", alice, 0),
	/* @Count, @Length */
	E("@Count(objectClass) = 4", alice, 1),
	E("@Count(mail) >= 2", alice, 1),
	E("@Count(mail) >= 2", bob, 0),
	E("@Count(nosuchattr) = 0", alice, 1),
	E("@Count(member) = \"2\"", sales, 1),
	E("@Length(uid) = 5", alice, 1),
	E("@Length(mail) = 17", alice, 1),	/* Alice@Example.COM */
	E("@Length(nosuchattr) = 0", alice, 0),	/* empty list: false */
	E("@Length(cn) > 10", alice, 1),
	E("@Length(@Count(objectClass)) = 1", alice, 1),
	E("@Count(@Length(mail)) = 2", alice, 1),
	/* @BitAnd */
	E("@BitAnd(userAccountControl; 2) = 0", dave, 1),
	E("@BitAnd(userAccountControl; 2) = 0", eve, 0),
	E("@BitAnd(userAccountControl; 2) = 2", eve, 1),
	E("@BitAnd(userAccountControl; 2) = 0", alice, 0),	/* absent */
	E("@BitAnd(uid; 2) = 0", alice, 0),		/* not an integer */
	E("@BitAnd(uid; 2) != 0", alice, 1),
	E("@BitAnd(userAccountControl; 65536) > 0", gina, 1),
	E("@BitAnd(@Length(uid); 1) = 1", alice, 1),
	/* @LowerCase, @UpperCase: comparisons already fold case */
	E("@LowerCase(uid) = \"ALICE\"", alice, 1),
	E("@UpperCase(mail) = \"alice@example.com\"", alice, 1),
	E("@Contains(@LowerCase(mail); \"alice\")", alice, 1),
	E("@Length(@UpperCase(uid)) = 5", alice, 1),
	E("@lowercase(uid) = @UPPERCASE(\"Alice\")", alice, 1),
	/* white space and new lines anywhere */
	E("SELECT\n  uid = \"alice\"\r\n\t& @IsAvailable( mail )\n", alice, 1),
	E("  @IsMember ( \"top\" ;objectClass )  ", alice, 1),
	/* an attribute may be called "select" */
	E("select = \"x\"", alice, 0),
	E("SELECT select != \"x\"", alice, 1),
	/* the administrators' examples */
	E(domino_example, alice, 1),
	E(domino_example, bob, 0),
	E(domino_example, frank, 1),
	E(domino_example, carol, 0),
	E(domino_example, sales, 1),
	E(domino_example, helpdesk, 1),
	E(domino_example, dave, 0),
	E(domino_example, empty, 0),
	E(ad_example, dave, 1),
	E(ad_example, eve, 0),
	E(ad_example, gina, 1),
	E(ad_example, hank, 0),
	E("SELECT @BitAnd(userAccountControl; 2) = 0 & "
	  "@IsAvailable(proxyAddresses) & msExchHideFromAddressLists != "
	  "\"TRUE\"", gina, 0),
	E("SELECT @BitAnd(userAccountControl; 2) = 0 & "
	  "@IsAvailable(proxyAddresses) & msExchHideFromAddressLists != "
	  "\"TRUE\"", dave, 1),
	E("SELECT @IsMember(\"inetOrgPerson\"; objectClass) & "
	  "nsAccountLock != \"true\"", ivan, 0),
	E("SELECT @IsMember(\"inetOrgPerson\"; objectClass) & "
	  "nsAccountLock != \"true\"", alice, 1),
	E("SELECT (@IsMember(\"inetOrgPerson\"; objectClass) | "
	  "@IsMember(\"groupOfNames\"; objectClass)) & @IsAvailable(mail) & "
	  "employeeType != \"disabled\"", bob, 0),
#undef E
};

static void test_eval_table(void)
{
	char err[256], name[64];

	for (size_t i = 0; i < sizeof(eval_cases) / sizeof(*eval_cases); i++) {
		const struct eval_case *c = &eval_cases[i];
		int got = run(c->text, c->entry, err, sizeof(err));

		CHECK(got == c->want, "eval %s on %s: want %d, got %d%s%s",
		      shown(c->text, name, sizeof(name)), c->entry_name,
		      c->want, got,
		      got < 0 ? ": " : "", got < 0 ? err : "");
	}
}

/* ---------------------------------------------------------------------- */
/* Error table: the exact text                                             */
/* ---------------------------------------------------------------------- */

static const struct error_case {
	const char *text;
	const char *want;
} error_cases[] = {
	{ "", "line 1, column 1: empty formula (write @All to select every "
	  "entry)" },
	{ "  \n  ", "line 2, column 3: empty formula (write @All to select "
	  "every entry)" },
	{ "SELECT", "line 1, column 7: expected a condition after SELECT, "
	  "found end of formula" },
	{ "@Foo(mail)", "line 1, column 1: unknown function '@Foo'" },
	{ "SELECT @IsAvailable(mail) & @Bogus", "line 1, column 29: unknown "
	  "function '@Bogus'" },
	{ "SELECT @IsAvailable(mail", "line 1, column 25: expected ')' after "
	  "function arguments, found end of formula" },
	{ "SELECT @IsMember(\"x\";\n  objectClass & mail)", "line 2, "
	  "column 15: expected ')' after function arguments, found '&'" },
	{ "@IsMember(\"x\" objectClass)", "line 1, column 15: expected ';' "
	  "or ')' after argument 1 of @IsMember, found 'objectClass'" },
	{ "SELECT (uid = \"a\"", "line 1, column 18: expected ')' to match "
	  "'(' at line 1, column 8, found end of formula" },
	{ "uid = \"a\")", "line 1, column 10: expected an operator or end of "
	  "formula, found ')'" },
	{ "uid = \"a\" foo", "line 1, column 11: expected an operator or end "
	  "of formula, found 'foo'" },
	{ "@True \"junk\"", "line 1, column 7: expected an operator or end of "
	  "formula, found string \"junk\"" },
	{ "uid = \"abc", "line 1, column 7: unterminated string: expected "
	  "'\"' before end of formula" },
	{ "uid = \"abc\nx\"", "line 1, column 7: unterminated string: "
	  "expected '\"' before end of line" },
	{ "uid = \"a\\nb\"", "line 1, column 9: bad escape '\\n' in string: "
	  "only \\\" and \\\\ are allowed" },
	{ "uid = \"a\\", "line 1, column 7: unterminated string: expected "
	  "'\"' before end of formula" },
	{ "@IsMember(\"x\")", "line 1, column 1: @IsMember takes 2 "
	  "arguments, found 1" },
	{ "@Count(mail; uid) = 1", "line 1, column 1: @Count takes 1 "
	  "argument, found 2" },
	{ "@True(mail)", "line 1, column 1: @True takes 0 arguments, found "
	  "1" },
	{ "@IsAvailable mail", "line 1, column 14: expected '(' after "
	  "@IsAvailable, found 'mail'" },
	{ "SELECT mail", "line 1, column 8: expected a condition, found a "
	  "value (compare it with '=' or test it with @IsAvailable)" },
	{ "mail & @True", "line 1, column 1: expected a condition, found a "
	  "value (compare it with '=' or test it with @IsAvailable)" },
	{ "!mail = \"x\"", "line 1, column 1: '!' negates a condition, found "
	  "a value; write !(a = b) or a != b" },
	{ "uid = \"a\" = \"b\"", "line 1, column 11: comparisons cannot be "
	  "chained; join them with '&'" },
	{ "uid = @True", "line 1, column 7: expected a value for '=', found "
	  "a condition" },
	{ "@Contains(@True; \"x\")", "line 1, column 11: expected a value "
	  "for @Contains, found a condition" },
	{ "@IsAvailable(\"mail\")", "line 1, column 14: @IsAvailable needs "
	  "an attribute name, e.g. @IsAvailable(mail)" },
	{ "@BitAnd(userAccountControl; uid) = 0", "line 1, column 29: "
	  "@BitAnd needs an integer as its second argument, e.g. "
	  "@BitAnd(userAccountControl; 2)" },
	{ "@", "line 1, column 1: expected a function name after '@'" },
	{ "uid = $", "line 1, column 7: unexpected character '$'" },
	{ "uid = - 1", "line 1, column 7: unexpected character '-'" },
	{ "uid = \"\x01\"", "line 1, column 8: control character \\x01 in "
	  "string" },
	{ "uid \x01= 1", "line 1, column 5: unexpected byte \\x01" },
	{ "uid = \"caf\xC3\"", "line 1, column 11: invalid UTF-8 in string: "
	  "incomplete sequence starting with byte \\xC3" },
	{ "uid = \"ab\x80\"", "line 1, column 10: invalid UTF-8 in string: "
	  "unexpected byte \\x80" },
	{ "uid = \"\xC0\xAF\"", "line 1, column 8: invalid UTF-8 in string: "
	  "unexpected byte \\xC0" },
	{ "uid = \"\xED\xA0\x80\"", "line 1, column 8: invalid UTF-8 in "
	  "string: incomplete sequence starting with byte \\xED" },
	{ "uid = \"\xF4\x90\x80\x80\"", "line 1, column 8: invalid UTF-8 in "
	  "string: incomplete sequence starting with byte \\xF4" },
	{ "uid = \"\xC2\x85\"", "line 1, column 8: control character U+0085 "
	  "in string" },
	{ "uid\xC3\xA9 = 1", "line 1, column 4: unexpected byte \\xC3" },
	{ "uid = 9223372036854775808", "line 1, column 7: integer out of "
	  "range (-9223372036854775808 to 9223372036854775807)" },
	{ "uid = \"a\" : uid", "line 1, column 13: expected a string or "
	  "number after ':', found 'uid'" },
	{ "uid : \"a\" = uid", "line 1, column 5: ':' joins literal strings "
	  "and numbers only" },
	{ "@True &", "line 1, column 8: expected a value or condition, found "
	  "end of formula" },
	{ "@True & | @False", "line 1, column 9: expected a value or "
	  "condition, found '|'" },
	{ "()", "line 1, column 2: expected a value or condition, found ')'" },
	{ "\"lit\"", "line 1, column 1: expected a condition, found a value "
	  "(compare it with '=' or test it with @IsAvailable)" },
	{ "uid = \"\x1b[2J\xff\xfe\"", "line 1, column 8: control character "
	  "\\x1B in string" },
	{ "@True\x7f", "line 1, column 6: unexpected byte \\x7F" },
	{ "@Frobnicate\x7f", "line 1, column 1: unknown function "
	  "'@Frobnicate'" },
};

static void test_errors(void)
{
	for (size_t i = 0; i < sizeof(error_cases) / sizeof(*error_cases);
	     i++) {
		const struct error_case *c = &error_cases[i];
		char err[256], name[64];
		struct formula *f;

		memset(err, 'Z', sizeof(err));
		f = formula_compile(c->text, attrs, err, sizeof(err));
		shown(c->text, name, sizeof(name));
		CHECK(f == NULL, "refused: %s", name);
		CHECK_STR(err, c->want, "error text for: %s", name);
		formula_free(f);
	}
}

/* ---------------------------------------------------------------------- */
/* Attribute table                                                         */
/* ---------------------------------------------------------------------- */

static void test_attrs(void)
{
	struct formula_attrs *a = formula_attrs_new();
	char name[80];
	int ok = 1, i0, i1;

	CHECK(a != NULL, "attrs: new");
	CHECK(formula_attrs_count(a) == 0, "attrs: empty");
	i0 = formula_attrs_add(a, "mail", 4);
	i1 = formula_attrs_add(a, "Mail", 4);
	CHECK(i0 == 0 && i1 == 0, "attrs: Mail after mail is the same index");
	CHECK(formula_attrs_add(a, "MAILx", 4) == 0,
	      "attrs: only len bytes are read");
	CHECK(formula_attrs_add(a, "uid", 3) == 1, "attrs: next index");
	CHECK(formula_attrs_find(a, "UID", 3) == 1, "attrs: find folds case");
	CHECK(formula_attrs_find(a, "cn", 2) == -1, "attrs: find unknown");
	CHECK(formula_attrs_find(a, "", 0) == -1, "attrs: find empty");
	CHECK_STR(formula_attrs_name(a, 0), "mail", "attrs: name as first "
		  "added");
	CHECK(formula_attrs_name(a, 2) == NULL, "attrs: name out of range");
	CHECK(formula_attrs_add(a, "", 0) == -1, "attrs: empty name refused");
	CHECK(formula_attrs_add(a, "1abc", 4) == -1,
	      "attrs: leading digit refused");
	CHECK(formula_attrs_add(a, "a_b", 3) == -1,
	      "attrs: underscore refused");
	CHECK(formula_attrs_add(a, "mail;binary", 11) == -1,
	      "attrs: option refused");
	CHECK(formula_attrs_add(a, "a\0b", 3) == -1, "attrs: NUL refused");
	CHECK(formula_attrs_add(a, "x-dircat-2", 10) == 2,
	      "attrs: hyphen and digit accepted");
	memset(name, 'a', FORMULA_MAX_NAME + 1);
	CHECK(formula_attrs_add(a, name, FORMULA_MAX_NAME) == 3,
	      "attrs: %d-byte name accepted", FORMULA_MAX_NAME);
	CHECK(formula_attrs_add(a, name, FORMULA_MAX_NAME + 1) == -1,
	      "attrs: %d-byte name refused", FORMULA_MAX_NAME + 1);

	/* FORMULA_MAX_ATTRS names fit, one more does not. */
	for (int i = (int)formula_attrs_count(a); i < FORMULA_MAX_ATTRS; i++) {
		snprintf(name, sizeof(name), "attr%d", i);
		if (formula_attrs_add(a, name, strlen(name)) != i)
			ok = 0;
	}
	CHECK(ok && formula_attrs_count(a) == FORMULA_MAX_ATTRS,
	      "attrs: %d names fit", FORMULA_MAX_ATTRS);
	CHECK(formula_attrs_add(a, "onemore", 7) == -1, "attrs: name %d "
	      "refused", FORMULA_MAX_ATTRS + 1);
	CHECK(formula_attrs_add(a, "ATTR200", 7) == 200,
	      "attrs: full table still finds known names");
	for (int i = 4; i < FORMULA_MAX_ATTRS; i++) {
		snprintf(name, sizeof(name), "ATTR%d", i);
		if (formula_attrs_find(a, name, strlen(name)) != i)
			ok = 0;
	}
	CHECK(ok, "attrs: every name found again");
	{
		char err[200], want[120];
		struct formula *f = formula_compile("onemore = 1", a, err,
						    sizeof(err));

		CHECK(f == NULL, "attrs: compile with a full table refused");
		snprintf(want, sizeof(want), "line 1, column 1: too many "
			 "attribute names: at most %d in all formulas together",
			 FORMULA_MAX_ATTRS);
		CHECK_STR(err, want, "attrs: full table error text");
		f = formula_compile("attr7 = 1 & mail = 2", a, err,
				    sizeof(err));
		CHECK(f != NULL, "attrs: full table, known names compile");
		formula_free(f);
	}
	formula_attrs_free(a);

	/* A failed compile leaves the table as it was. */
	a = formula_attrs_new();
	formula_attrs_add(a, "mail", 4);
	CHECK(formula_compile("newattr = 1 & other = 2 & @Bad", a, NULL, 0)
	      == NULL && formula_attrs_count(a) == 1 &&
	      formula_attrs_find(a, "newattr", 7) == -1 &&
	      formula_attrs_find(a, "mail", 4) == 0,
	      "attrs: failed compile rolls back added names");
	formula_attrs_free(a);
	formula_attrs_free(NULL);
	CHECK(formula_attrs_count(NULL) == 0, "attrs: NULL table is empty");
}

/* ---------------------------------------------------------------------- */
/* Limits, at the limit and one past                                       */
/* ---------------------------------------------------------------------- */

/* Compile text; 1 if accepted; err filled either way. */
static int compiles(const char *text, char *err, size_t errlen)
{
	struct formula *f = formula_compile(text, attrs, err, errlen);
	int ok = f != NULL;

	formula_free(f);
	return ok;
}

static char *repeat_around(const char *open, size_t n, const char *mid,
			   const char *close)
{
	size_t lo = strlen(open), lm = strlen(mid), lc = strlen(close);
	char *s = malloc(n * (lo + lc) + lm + 1), *o = s;

	if (s == NULL)
		abort();
	for (size_t i = 0; i < n; i++, o += lo)
		memcpy(o, open, lo);
	memcpy(o, mid, lm);
	o += lm;
	for (size_t i = 0; i < n; i++, o += lc)
		memcpy(o, close, lc);
	*o = '\0';
	return s;
}

static void test_limits(void)
{
	enum {
		TEXT = FORMULA_MAX_TEXT, DEPTH = FORMULA_MAX_DEPTH,
		NODES = FORMULA_MAX_NODES, LIT = FORMULA_MAX_LITERAL,
		NAME = FORMULA_MAX_NAME
	};
	char err[256], want[160], *s;
	size_t n;

	/* text: TEXT bytes accepted, TEXT + 1 and TEXT + 5 KB refused */
	s = malloc(TEXT + 5 * 1024 + 1);
	memset(s, ' ', TEXT + 5 * 1024);
	memcpy(s, "@True", 5);
	s[TEXT] = '\0';
	CHECK(compiles(s, err, sizeof(err)), "limit: %d-byte formula "
	      "accepted (%s)", TEXT, err);
	s[TEXT] = ' ';
	s[TEXT + 1] = '\0';
	CHECK(!compiles(s, err, sizeof(err)), "limit: %d-byte formula "
	      "refused", TEXT + 1);
	snprintf(want, sizeof(want), "line 1, column %d: formula longer than "
		 "%d bytes", TEXT + 1, TEXT);
	CHECK_STR(err, want, "limit: text error names the limit");
	s[TEXT + 1] = ' ';
	s[TEXT + 5 * 1024] = '\0';
	snprintf(want, sizeof(want), "%d", TEXT);
	CHECK(!compiles(s, err, sizeof(err)) && strstr(err, want) != NULL,
	      "limit: a formula far too long refused with the limit named");
	free(s);

	/* depth: DEPTH accepted, DEPTH + 1 refused, each kind of nesting */
	s = repeat_around("(", DEPTH, "uid = 1", ")");
	CHECK(compiles(s, err, sizeof(err)), "limit: %d parentheses "
	      "accepted (%s)", DEPTH, err);
	free(s);
	s = repeat_around("(", DEPTH + 1, "uid = 1", ")");
	CHECK(!compiles(s, err, sizeof(err)), "limit: %d parentheses "
	      "refused", DEPTH + 1);
	snprintf(want, sizeof(want), "line 1, column %d: nesting deeper than "
		 "%d levels (parentheses, functions and '!')", DEPTH + 1,
		 DEPTH);
	CHECK_STR(err, want, "limit: depth error text");
	free(s);
	s = repeat_around("!", DEPTH, "@True", "");
	CHECK(compiles(s, err, sizeof(err)) &&
	      run(s, empty, err, sizeof(err)) == (DEPTH % 2 ? 0 : 1),
	      "limit: %d '!' accepted and evaluate", DEPTH);
	free(s);
	s = repeat_around("!", DEPTH + 1, "@True", "");
	CHECK(!compiles(s, err, sizeof(err)), "limit: %d '!' refused",
	      DEPTH + 1);
	free(s);
	s = repeat_around("@LowerCase(", DEPTH, "uid", ")");
	n = strlen(s);
	s = realloc(s, n + 16);
	memcpy(s + n, " = \"ALICE\"", 11);
	CHECK(run(s, alice, err, sizeof(err)) == 1,
	      "limit: %d nested functions accepted and evaluate", DEPTH);
	free(s);
	s = repeat_around("@LowerCase(", DEPTH + 1, "uid", ")");
	CHECK(!compiles(s, err, sizeof(err)) && strstr(err, "nesting") != NULL,
	      "limit: %d nested functions refused", DEPTH + 1);
	free(s);
	s = repeat_around("!(", DEPTH / 2, "@False", ")");
	CHECK(compiles(s, err, sizeof(err)), "limit: %d x '!(' is depth %d",
	      DEPTH / 2, DEPTH);
	free(s);

	/* nodes: NODES accepted, NODES + 1 and a larger formula refused */
	s = malloc(6 * (NODES + 1000) + 1);
	s[0] = '\0';
	for (int i = 0; i < NODES - 1; i++)
		memcpy(s + 6 * i, i ? "|@True" : "@True ", 7);
	CHECK(compiles(s, err, sizeof(err)), "limit: %d nodes accepted "
	      "(%s)", NODES, err);
	memcpy(s + 6 * (NODES - 1), "|@True", 7);
	CHECK(!compiles(s, err, sizeof(err)), "limit: %d nodes refused",
	      NODES + 1);
	snprintf(want, sizeof(want), "more than %d nodes", NODES);
	CHECK(strstr(err, want) != NULL,
	      "limit: node error names the limit (%s)", err);
	free(s);
	n = (size_t)NODES / 3 + 400;	/* 3 nodes each: well past NODES */
	s = malloc(11 * n + 1);
	for (size_t i = 0; i < n; i++)
		memcpy(s + 11 * i, i ? " | uid = 11" : "uid = 11   ", 11);
	s[11 * n] = '\0';
	CHECK(!compiles(s, err, sizeof(err)), "limit: %zu-node formula "
	      "refused", 3 * n);
	free(s);

	/* string literal: LIT bytes accepted, LIT + 1 refused */
	s = malloc(2 * LIT + 64);
	memcpy(s, "uid = \"", 7);
	memset(s + 7, 'x', LIT);
	memcpy(s + 7 + LIT, "\"", 2);
	CHECK(compiles(s, err, sizeof(err)), "limit: %d-byte string "
	      "accepted", LIT);
	memset(s + 7, 'x', LIT + 1);
	memcpy(s + 7 + LIT + 1, "\"", 2);
	CHECK(!compiles(s, err, sizeof(err)), "limit: %d-byte string "
	      "refused", LIT + 1);
	snprintf(want, sizeof(want), "line 1, column 7: string longer than "
		 "%d bytes", LIT);
	CHECK_STR(err, want, "limit: string error text");
	/* escapes count once: LIT decoded bytes from 2 * LIT source bytes */
	for (int i = 0; i < LIT; i++)
		memcpy(s + 7 + 2 * i, "\\\\", 2);
	memcpy(s + 7 + 2 * LIT, "\"", 2);
	CHECK(compiles(s, err, sizeof(err)), "limit: %d escaped bytes "
	      "accepted", LIT);

	/* attribute name: NAME bytes accepted, NAME + 1 refused */
	memset(s, 'n', NAME + 1);
	memcpy(s + NAME, " = 1", 5);
	CHECK(compiles(s, err, sizeof(err)), "limit: %d-byte name accepted",
	      NAME);
	memset(s, 'm', NAME + 1);
	memcpy(s + NAME + 1, " = 1", 5);
	CHECK(!compiles(s, err, sizeof(err)), "limit: %d-byte name refused",
	      NAME + 1);
	snprintf(want, sizeof(want), "line 1, column 1: attribute name longer "
		 "than %d bytes", NAME);
	CHECK_STR(err, want, "limit: name error text");
	free(s);
}

/* ---------------------------------------------------------------------- */
/* Values with any bytes, long lists, contracts on NULL and small buffers  */
/* ---------------------------------------------------------------------- */

static void test_values(void)
{
	struct formula_attrs *a = formula_attrs_new();
	struct formula_val bin[2] = { { "a\0b", 3 }, { "\xff\xfe", 2 } };
	struct formula_vals vals[2];
	struct formula_val *many;
	struct formula *f;
	char (*text)[40];
	clock_t t0;
	double secs;
	int r;

	f = formula_compile("@Length(x) = 3 & @Contains(x; \"b\") & "
			    "@Count(x) = 2", a, NULL, 0);
	vals[0].v = bin;
	vals[0].n = 2;
	CHECK(f != NULL && formula_eval(f, vals) == 1,
	      "values: NUL and high bytes in values");
	formula_free(f);
	f = formula_compile("x = \"\xC3\xBF\"", a, NULL, 0);
	CHECK(f != NULL && formula_eval(f, vals) == 0,
	      "values: bytes compared exactly outside ASCII");
	CHECK(formula_eval(f, NULL) == 0, "values: NULL vals is no values");
	formula_free(f);
	f = formula_compile("x != \"y\"", a, NULL, 0);
	CHECK(formula_eval(f, NULL) == 1, "values: NULL vals, != is true");
	formula_free(f);
	CHECK(formula_eval(NULL, vals) == 0, "values: NULL formula is 0");
	formula_free(NULL);

	/* A group with 10,000 members: linear, not quadratic. */
	many = calloc(10000, sizeof(*many));
	text = calloc(10000, sizeof(*text));
	for (int i = 0; i < 10000; i++) {
		snprintf(text[i], sizeof(text[i]), "uid=u%d,dc=example", i);
		many[i].ptr = text[i];
		many[i].len = strlen(text[i]);
	}
	f = formula_compile("@IsMember(\"UID=u9999,dc=example\"; x) & "
			    "@Count(x) = 10000 & @Contains(x; \"U5000,\") & "
			    "x != \"nobody\" & @Length(x) > 17", a, NULL, 0);
	vals[0].v = many;
	vals[0].n = 10000;
	t0 = clock();
	r = 1;
	for (int i = 0; i < 100 && r; i++)
		r = formula_eval(f, vals);
	secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	CHECK(r == 1, "values: 10,000-value list evaluates");
	CHECK(secs < 5.0, "values: 100 evaluations of 10,000 values took "
	      "%.3f s", secs);
	formula_free(f);
	free(many);
	free(text);
	formula_attrs_free(a);

	/* Error buffers: small, NULL, and compiled text stays printable. */
	{
		char small[10];

		CHECK(formula_compile("@Foo", attrs, small, sizeof(small)) ==
		      NULL && strlen(small) == 9, "errors: truncated to the "
		      "buffer");
		CHECK(formula_compile("@Foo", attrs, NULL, 0) == NULL,
		      "errors: NULL buffer");
		CHECK(formula_compile(NULL, attrs, small, sizeof(small)) ==
		      NULL, "errors: NULL text is an empty formula");
		CHECK(formula_compile("@True", NULL, small, sizeof(small)) ==
		      NULL, "errors: NULL attrs refused");
		f = formula_compile("@True", attrs, small, sizeof(small));
		CHECK(f != NULL && small[0] == '\0', "errors: cleared on "
		      "success");
		formula_free(f);
	}
}

/* ---------------------------------------------------------------------- */
/* Randomised: substring search against a naive one, and junk input        */
/* ---------------------------------------------------------------------- */

static unsigned long rng_state = 12345;

static unsigned rng(void)
{
	rng_state = rng_state * 6364136223846793005ul + 1442695040888963407ul;
	return (unsigned)(rng_state >> 33);
}

static int naive_contains(const char *h, size_t hl, const char *n, size_t nl)
{
	for (size_t i = 0; i + nl <= hl; i++) {
		size_t j = 0;

		while (j < nl && (h[i + j] | 0x20) == (n[j] | 0x20))
			j++;
		if (j == nl)
			return 1;
	}
	return 0;
}

static void test_random_contains(void)
{
	static const char alpha[] = "abAB";
	struct formula_attrs *a = formula_attrs_new();
	char hay[64], text[80];
	int bad = 0, tried = 0;

	for (int round = 0; round < 20000; round++) {
		size_t hl = rng() % 40, nl = 1 + rng() % 10;
		struct formula_val v;
		struct formula_vals vals;
		struct formula *f;
		char needle[16];

		for (size_t i = 0; i < hl; i++)
			hay[i] = alpha[rng() % (rng() % 2 ? 2 : 4)];
		for (size_t i = 0; i < nl; i++)
			needle[i] = alpha[rng() % (rng() % 2 ? 2 : 4)];
		/* Half the time, plant the needle so matches are common. */
		if (hl >= nl && rng() % 2)
			memcpy(hay + rng() % (hl - nl + 1), needle, nl);
		needle[nl] = '\0';
		snprintf(text, sizeof(text), "@Contains(h; \"%s\")", needle);
		f = formula_compile(text, a, NULL, 0);
		v.ptr = hay;
		v.len = hl;
		vals.v = &v;
		vals.n = 1;
		if (f == NULL || formula_eval(f, &vals) !=
		    naive_contains(hay, hl, needle, nl))
			bad++;
		tried++;
		formula_free(f);
	}
	CHECK(bad == 0, "random: %d @Contains agree with a naive search "
	      "(%d differ)", tried, bad);
	formula_attrs_free(a);
}

static void test_random_junk(void)
{
	static const char *const pieces[] = {
		"@IsMember", "@Contains", "@BitAnd", "@Count", "@Length",
		"@LowerCase", "@True", "@All", "@Foo", "SELECT", "uid", "mail",
		"objectClass", "(", ")", ";", ":", "&", "|", "!", "=", "!=",
		"<", ">", "<=", ">=", "<>", "\"x\"", "\"\\\"\"", "\"", "\\",
		"12", "-3", "99999999999999999999", " ", "\n", "\t", "\x01",
		"\x80", "\xC3\xA9", "@", "-", "\"\xC3\"",
	};
	size_t np = sizeof(pieces) / sizeof(*pieces);
	int unsafe = 0, compiled = 0;
	char text[512], err[200];

	for (int round = 0; round < 30000; round++) {
		size_t len = 0, k = rng() % 20;
		struct formula *f;

		for (size_t i = 0; i < k; i++) {
			const char *p = pieces[rng() % np];
			size_t pl = strlen(p);

			if (len + pl >= sizeof(text))
				break;
			memcpy(text + len, p, pl);
			len += pl;
		}
		text[len] = '\0';
		f = formula_compile(text, attrs, err, sizeof(err));
		if (f != NULL) {
			compiled++;
			(void)run(text, alice, err, sizeof(err));
			(void)run(text, empty, err, sizeof(err));
		} else {
			if (strncmp(err, "line ", 5) != 0)
				unsafe++;
			for (const char *e = err; *e; e++)
				if ((unsigned char)*e < 0x20 ||
				    (unsigned char)*e >= 0x7f)
					unsafe++;
		}
		formula_free(f);
	}
	CHECK(unsafe == 0, "random: 30000 junk formulas (%d compiled), every "
	      "error printable and positioned", compiled);
}

int main(void)
{
	attrs = formula_attrs_new();
	if (attrs == NULL)
		return 1;
	test_eval_table();
	test_errors();
	test_attrs();
	test_limits();
	test_values();
	test_random_contains();
	test_random_junk();
	formula_attrs_free(attrs);
	return check_done();
}
