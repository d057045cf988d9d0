/*
 * test_config.c - the configuration format: sections, continuation
 * lines, typed values, unknown settings, every error naming file:line,
 * and the size limits at the boundary.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "config.h"

static struct config *parse(const char *text, char *err, size_t errlen)
{
	return config_parse("test.conf", text, strlen(text), err, errlen);
}

/* Parse text and expect an error containing want. */
static void refuse(const char *text, const char *want, const char *name)
{
	char err[512] = "";
	struct config *c = parse(text, err, sizeof(err));

	CHECK(c == NULL && strstr(err, want), "%s: \"%s\"", name, err);
	config_free(c);
}

int main(void)
{
	char err[512];
	struct config *c;
	const struct config_section *top, *s1, *s2;
	int64_t n;
	int b, line = 0, col = 0;
	unsigned mode;
	const char *v;

	c = parse("# comment\n"
		  "catalog = /var/lib/dircat/catalog.mdb\n"
		  "  \n"
		  "max = 42\n"
		  "flag = yes\n"
		  "dur = 5m\n"
		  "mode = 0660\n"
		  "[source corp]\n"
		  "base = ou=a\n"
		  "base = ou=b\n"
		  "select = SELECT @All\n"
		  "    & x = \"y\"\n"
		  "\t# an indented comment is skipped\n"
		  "[source other]\r\n"
		  "uri = ldap://x\r\n", err, sizeof(err));
	CHECK(c != NULL, "valid file parses (%s)", c ? "" : err);
	if (!c)
		return check_done();
	top = config_top(c);
	CHECK_STR(config_get(top, "catalog", &line), "/var/lib/dircat/catalog.mdb", "top value");
	CHECK(line == 2, "line of a value");
	CHECK(config_get_int(top, "max", 0, 0, 100, &n, err, sizeof(err)) == 0 && n == 42, "int");
	CHECK(config_get_int(top, "absent", 7, 0, 100, &n, err, sizeof(err)) == 0 && n == 7, "int default");
	CHECK(config_get_int(top, "max", 0, 0, 41, &n, err, sizeof(err)) < 0 &&
	      strstr(err, "test.conf:4: max: expected a whole number from 0 to 41"),
	      "int out of range names file:line: %s", err);
	CHECK(config_get_bool(top, "flag", 0, &b, err, sizeof(err)) == 0 && b == 1, "bool");
	CHECK(config_get_duration(top, "dur", 0, &n, err, sizeof(err)) == 0 && n == 300, "duration 5m");
	CHECK(config_get_mode(top, "mode", 0, &mode, err, sizeof(err)) == 0 && mode == 0660, "octal mode");
	CHECK(config_get_bool(top, "catalog", 0, &b, err, sizeof(err)) < 0 &&
	      strstr(err, "test.conf:2: catalog: expected yes or no"), "bad bool: %s", err);
	s1 = config_next(c, NULL, "source");
	s2 = config_next(c, s1, "source");
	CHECK(s1 && s2 && config_next(c, s2, "source") == NULL, "two sections of a type");
	CHECK_STR(config_section_name(s1), "corp", "section name");
	CHECK(config_section_line(s2) == 14, "section line");
	CHECK_STR(config_get_nth(s1, "base", 0, NULL), "ou=a", "repeated key, first");
	CHECK_STR(config_get_nth(s1, "base", 1, NULL), "ou=b", "repeated key, second");
	CHECK(config_get_nth(s1, "base", 2, NULL) == NULL, "repeated key, end");
	CHECK_STR(config_get(s1, "base", NULL), "ou=b", "last value wins for config_get");
	v = config_get_at(s1, "select", &line, &col);
	CHECK_STR(v, "SELECT @All\n    & x = \"y\"", "continuation keeps newline and columns");
	CHECK(line == 11 && col == 10, "value position %d:%d", line, col);
	CHECK_STR(config_get(s2, "uri", NULL), "ldap://x", "CRLF line ends");
	CHECK(config_check_unused(c, err, sizeof(err)) == 0, "all settings used");
	config_free(c);

	c = parse("a = 1\n[target x]\ntypo = 2\n", err, sizeof(err));
	config_get(config_top(c), "a", NULL);
	CHECK(config_check_unused(c, err, sizeof(err)) < 0 &&
	      strstr(err, "test.conf:3: unknown setting 'typo' in [target x]"),
	      "unknown setting named: %s", err);
	config_free(c);

	/* Blank and comment lines inside a value: skipped, but each leaves
	 * an empty line so that line L of the value is line L of the file
	 * after the value's first (a formula's errors point to the right
	 * line); trailing ones are not part of the value. */
	c = parse("[source s]\n"			/* 1 */
		  "select = SELECT a = 1\n"		/* 2 */
		  "    # an indented comment\n"	/* 3 */
		  "    & b = 2\n"			/* 4 */
		  "\n"					/* 5 */
		  "# a comment at column 1\n"		/* 6 */
		  "  \t\n"				/* 7 */
		  "\t& c = 3\n"			/* 8 */
		  "    # trailing comment\n"		/* 9 */
		  "\n"					/* 10 */
		  "next = 1\n"				/* 11 */
		  "\n"					/* 12 */
		  "    # after a blank line\n"		/* 13 */
		  "  & more\n", err, sizeof(err));	/* 14 */
	CHECK(c != NULL, "blank and comment lines inside a value (%s)", c ? "" : err);
	if (c) {
		s1 = config_next(c, NULL, "source");
		v = config_get_at(s1, "select", &line, &col);
		CHECK_STR(v, "SELECT a = 1\n\n    & b = 2\n\n\n\n\t& c = 3",
			  "skipped lines stay as empty lines of the value");
		CHECK(line == 2 && col == 10, "value position %d:%d", line, col);
		v = config_get(s1, "next", &line);
		CHECK_STR(v, "1\n\n\n  & more", "a blank line does not end a value");
		CHECK(line == 11, "line of the second value %d", line);
		config_free(c);
	}
	refuse("[source s]\n\n    & x\n", "test.conf:3: indented line continues nothing",
	       "blank line then indent after a section header");
	refuse("a = 1\n[source s]\n# c\n  x\n", "test.conf:4: indented line continues nothing",
	       "a section header ends the value above");

	/* Limits: a value of exactly CONFIG_VALUE_MAX bytes built from
	 * continuation and blank lines, and one byte more. */
	{
		size_t cap = CONFIG_VALUE_MAX + 4096, o, vlen;
		char *t = malloc(cap);

		for (int extra = 0; extra <= 1; extra++) {
			o = (size_t)snprintf(t, cap, "k = x\n\n");
			vlen = 1 + 1;	/* "x", then the blank line's newline */
			/* lines of 999 bytes: newline + 998 */
			while (vlen + 1000 <= CONFIG_VALUE_MAX) {
				t[o++] = ' ';
				memset(t + o, 'y', 998);
				o += 998;
				t[o++] = '\n';
				vlen += 1000;
			}
			/* the rest: newline, " z", then y's */
			{
				size_t rest = CONFIG_VALUE_MAX - vlen - 3 +
					      (size_t)extra;

				t[o++] = ' ';
				t[o++] = 'z';
				memset(t + o, 'y', rest);
				o += rest;
				t[o++] = '\n';
			}
			t[o] = '\0';
			if (!extra) {
				c = parse(t, err, sizeof(err));
				CHECK(c != NULL && strlen(config_get(config_top(c), "k", NULL)) ==
				      CONFIG_VALUE_MAX, "value of %d bytes accepted (%s)",
				      CONFIG_VALUE_MAX, c ? "" : err);
				config_free(c);
			} else {
				refuse(t, "value longer than 65536 bytes", "value of 65537 bytes refused");
			}
		}
		free(t);
	}

	refuse("novalue\n", "test.conf:1: expected 'name = value'", "line without =");
	refuse("a = 1\n[source\n", "test.conf:2: section header without ']'", "bad section");
	refuse("[source]\n", "test.conf:1: expected [type name]", "section without name");
	refuse("[source a]\n[source a]\n", "test.conf:2: section [source a] already defined at line 1",
	       "duplicate section");
	refuse("  indented = 1\n", "test.conf:1: indented line continues nothing", "stray indent");
	refuse("b@d = 1\n", "test.conf:1: bad setting name", "bad key");

	/* Limits: a line of exactly CONFIG_LINE_MAX bytes, and one more. */
	{
		char *t = malloc(CONFIG_LINE_MAX + 16);

		memset(t, 'x', CONFIG_LINE_MAX + 2);
		memcpy(t, "k = ", 4);
		t[CONFIG_LINE_MAX] = '\n';
		t[CONFIG_LINE_MAX + 1] = '\0';
		c = parse(t, err, sizeof(err));
		CHECK(c != NULL, "line of %d bytes accepted", CONFIG_LINE_MAX);
		config_free(c);
		memset(t, 'x', CONFIG_LINE_MAX + 2);
		memcpy(t, "k = ", 4);
		t[CONFIG_LINE_MAX + 1] = '\n';
		t[CONFIG_LINE_MAX + 2] = '\0';
		refuse(t, "test.conf:1: line longer than 8192 bytes", "line of 8193 bytes refused");
		free(t);
	}
	{
		/* Settings: CONFIG_ENTRY_MAX of them (the shortest lines, so
		 * that they fit CONFIG_FILE_MAX), then one more. */
		size_t cap = (CONFIG_ENTRY_MAX + 1) * 4 + 1, i, o = 0;
		char *t = malloc(cap), want[64];

		for (i = 0; i < CONFIG_ENTRY_MAX; i++)
			o += (size_t)snprintf(t + o, cap - o, "k=1\n");
		c = parse(t, err, sizeof(err));
		CHECK(c != NULL, "%d settings accepted (%s)", CONFIG_ENTRY_MAX,
		      c ? "" : err);
		config_free(c);
		snprintf(t + o, cap - o, "k=1\n");
		snprintf(want, sizeof(want), "more than %d settings",
			 CONFIG_ENTRY_MAX);
		refuse(t, want, "settings limit + 1");
		free(t);
	}
	{
		/* Sections: CONFIG_SECTION_MAX with the top level, then one
		 * more; found by name in linear time. */
		size_t cap = (size_t)CONFIG_SECTION_MAX * 32, i, o = 0;
		char *t = malloc(cap), want[64];
		const struct config_section *sec;

		for (i = 1; i < CONFIG_SECTION_MAX; i++)
			o += (size_t)snprintf(t + o, cap - o,
					      "[target t%zu]\nurl = u%zu\n", i, i);
		c = parse(t, err, sizeof(err));
		CHECK(c != NULL, "%d sections accepted (%s)",
		      CONFIG_SECTION_MAX, c ? "" : err);
		sec = NULL;
		for (i = 0; c && (sec = config_next(c, sec, "target")); i++)
			if (i == CONFIG_SECTION_MAX - 2)
				CHECK_STR(config_get(sec, "url", NULL), "u9999",
					  "the last section's own setting");
		config_free(c);
		snprintf(t + o, cap - o, "[target one-more]\n");
		snprintf(want, sizeof(want), "more than %d sections",
			 CONFIG_SECTION_MAX);
		refuse(t, want, "sections limit + 1");
		free(t);
	}
	{
		/* A file over the size limit. */
		char *t = malloc(CONFIG_FILE_MAX + 2);

		memset(t, '#', CONFIG_FILE_MAX + 1);
		t[CONFIG_FILE_MAX + 1] = '\0';
		c = config_parse("big.conf", t, CONFIG_FILE_MAX + 1, err, sizeof(err));
		CHECK(c == NULL && strstr(err, "larger than"), "file size limit: %s", err);
		free(t);
	}
	c = config_parse("nul.conf", "a = 1\0", 6, err, sizeof(err));
	CHECK(c == NULL && strstr(err, "NUL byte"), "NUL byte refused: %s", err);
	CHECK(config_load("/nonexistent/dircat.conf", err, sizeof(err)) == NULL &&
	      strstr(err, "/nonexistent/dircat.conf: No such file"), "missing file: %s", err);
	return check_done();
}
