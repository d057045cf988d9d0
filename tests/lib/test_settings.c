/*
 * test_settings.c - the settings loader: each type at its limits (N and
 * N+1), defaults, required and repeated settings, values inherited from
 * the top, refused settings, sections counted, and the messages for a
 * setting nobody knows ("did you mean").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "settings.h"

struct t_top {
	const char *name;
	char id[8];
	int64_t n, dur, pct;
	int flag, choice;
	unsigned mode;
	const char *path;
	int nrep;
	int replines[4];
	const char *stamp;
	char cid[65];
};

struct t_sec {
	const char *url;
	int64_t timeout;
	const char *user;
};

static int t_repeat(void *obj, const struct settings_key *k,
		    const struct settings_value *v, char *err, size_t errlen)
{
	struct t_top *t = obj;

	if (!strcmp(v->text, "bad"))
		return settings_fail(k, v, err, errlen, "not this one");
	if (t->nrep < 4)
		t->replines[t->nrep] = v->line;
	t->nrep++;
	return 0;
}

static int t_stamp(void *obj, const struct settings_key *k,
		   const struct settings_value *v, char *err, size_t errlen)
{
	struct t_top *t = obj;

	(void)k;
	(void)err;
	(void)errlen;
	t->stamp = v->is_default ? "default" : "file";
	return 0;
}

static const struct settings_choice t_choices[] = {
	{ "one", 1 }, { "two", 2 }, { "deux", 2 }, { NULL, 0 }
};

#define TOP(m) SETTINGS_FIELD(struct t_top, m)
static const struct settings_key t_top_keys[] = {
	{ .name = "name", .type = SETTINGS_TEXT, .flags = SETTINGS_REQUIRED,
	  TOP(name), .doc = "a name" },
	{ .name = "id", .type = SETTINGS_COPY, .def = "abc", TOP(id),
	  .doc = "an id" },
	{ .name = "count", .type = SETTINGS_INT, .def = "5", .min = 1,
	  .max = 10, TOP(n), .doc = "a count" },
	{ .name = "wait", .type = SETTINGS_DURATION, .def = "1m", .min = 1,
	  .max = 3600, TOP(dur), .doc = "a duration" },
	{ .name = "share", .type = SETTINGS_PERCENT, .def = "10%", .min = 0,
	  .max = 100, TOP(pct), .doc = "a share" },
	{ .name = "flag", .type = SETTINGS_BOOL, .def = "no", TOP(flag),
	  .doc = "a flag" },
	{ .name = "mode", .type = SETTINGS_MODE, .def = "0640", .max = 0777,
	  TOP(mode), .doc = "a mode" },
	{ .name = "pick", .type = SETTINGS_CHOICE, .def = "one",
	  .choices = t_choices, TOP(choice), .doc = "a choice" },
	{ .name = "path", .type = SETTINGS_TEXT, .flags = SETTINGS_ABSOLUTE,
	  TOP(path), .doc = "a path" },
	{ .name = "item", .type = SETTINGS_CUSTOM, .flags = SETTINGS_REPEAT,
	  .check = t_repeat, .doc = "an item" },
	{ .name = "stamp", .type = SETTINGS_CUSTOM, .def = "x",
	  .check = t_stamp, .doc = "a stamp" },
	{ .name = "cid", .type = SETTINGS_COPY, TOP(cid),
	  .check = settings_catalog_id, .doc = "a catalog id" },
	{ .name = "password", .type = SETTINGS_CUSTOM,
	  .flags = SETTINGS_REFUSED, .doc = "never here" },
	{ .name = NULL }
};
#undef TOP

#define SEC(m) SETTINGS_FIELD(struct t_sec, m)
static const struct settings_key t_sec_keys[] = {
	{ .name = "url", .type = SETTINGS_TEXT, .flags = SETTINGS_REQUIRED,
	  SEC(url), .doc = "a URL" },
	{ .name = "timeout", .type = SETTINGS_DURATION,
	  .flags = SETTINGS_INHERIT, .def = "30s", .min = 1, .max = 86400,
	  SEC(timeout), .doc = "a timeout" },
	{ .name = "user", .type = SETTINGS_TEXT, .flags = SETTINGS_INHERIT,
	  SEC(user), .doc = "a user" },
	{ .name = NULL }
};
#undef SEC

static const struct settings_section t_program[] = {
	{ .type = NULL, .keys = t_top_keys },
	{ .type = "target", .min = 1, .max = 3,
	  .why_needed = "nothing to do", .keys = t_sec_keys },
	{ .keys = NULL }
};

/* Load text as the whole program would: layout, top, each section, the
 * unknown settings.  0 or -1 with err. */
static int load(const char *text, struct t_top *top, struct t_sec *secs,
		char *err, size_t errlen)
{
	struct config *cfg = config_parse("t.conf", text, strlen(text), err,
					  errlen);
	const struct config_section *sec = NULL;
	size_t n = 0;
	int rc = -1;

	memset(top, 0, sizeof(*top));
	memset(secs, 0, 3 * sizeof(*secs));
	if (!cfg)
		return -1;
	if (settings_load(&t_program[0], config_top(cfg), top, err,
			  errlen) < 0 ||
	    settings_check_layout(cfg, t_program, err, errlen) < 0)
		goto out;
	while ((sec = config_next(cfg, sec, "target")))
		if (settings_load(&t_program[1], sec, &secs[n++], err,
				  errlen) < 0)
			goto out;
	if (settings_check_unknown(cfg, t_program, err, errlen) < 0)
		goto out;
	/* Text values point into cfg: keep what the checks below read. */
	top->name = top->name ? "set" : NULL;
	rc = 0;
out:
	for (n = 0; n < 3; n++)
		secs[n].url = secs[n].url ? "set" : NULL;
	config_free(cfg);
	return rc;
}

static void refuse(const char *text, const char *want, const char *what)
{
	struct t_top top;
	struct t_sec secs[3];
	char err[512] = "";
	int rc = load(text, &top, secs, err, sizeof(err));

	CHECK(rc < 0 && strstr(err, want), "%s: \"%s\"", what, err);
}

static void accept(const char *text, const char *what)
{
	struct t_top top;
	struct t_sec secs[3];
	char err[512] = "";

	CHECK(load(text, &top, secs, err, sizeof(err)) == 0, "%s (%s)", what,
	      err);
}

#define BASE "name = x\n"
#define TARGET "[target a]\nurl = u\n"

int main(void)
{
	struct t_top top;
	struct t_sec secs[3];
	char err[512];
	char *out = NULL;
	size_t outlen = 0;
	FILE *f;

	/* Defaults. */
	CHECK(load(BASE TARGET, &top, secs, err, sizeof(err)) == 0,
	      "minimal file (%s)", err);
	CHECK(!strcmp(top.id, "abc") && top.n == 5 && top.dur == 60 &&
	      top.pct == 10 && top.flag == 0 && top.mode == 0640 &&
	      top.choice == 1 && top.path == NULL && top.nrep == 0,
	      "defaults of every type");
	CHECK(top.stamp && !strcmp(top.stamp, "default"),
	      "a custom setting's check sees its default");
	CHECK(secs[0].timeout == 30 && secs[0].user == NULL,
	      "section defaults");

	/* Values of every type. */
	CHECK(load(BASE "id = 1234567\ncount = 10\nwait = 1h\nshare = 100%\n"
		   "flag = yes\nmode = 0777\npick = deux\npath = /x\n"
		   "item = a\nitem = b\nstamp = y\n" TARGET, &top, secs, err,
		   sizeof(err)) == 0, "every type at its limit (%s)", err);
	CHECK(!strcmp(top.id, "1234567") && top.n == 10 && top.dur == 3600 &&
	      top.pct == 100 && top.flag == 1 && top.mode == 0777 &&
	      top.choice == 2, "values stored");
	CHECK(top.nrep == 2 && top.replines[0] == 10 && top.replines[1] == 11,
	      "each repeated value checked, with its line");
	CHECK(!strcmp(top.stamp, "file"), "a custom check sees the file's value");
	accept(BASE "share = 0\n" TARGET, "share: 0 without %");
	accept(BASE "count = 1\nwait = 1s\n" TARGET, "lower limits");

	/* One past each limit. */
	refuse(BASE "id = 12345678\n" TARGET, "t.conf:2: id: longer than 7 bytes",
	       "copy: size + 1");
	refuse(BASE "count = 11\n" TARGET,
	       "t.conf:2: count: expected a whole number from 1 to 10",
	       "int: max + 1");
	refuse(BASE "count = 0\n" TARGET, "count: expected a whole number",
	       "int: min - 1");
	refuse(BASE "wait = 3601\n" TARGET, "t.conf:2: wait: from 1s to 1h",
	       "duration: max + 1");
	refuse(BASE "wait = 0s\n" TARGET, "wait: from 1s to 1h",
	       "duration: min - 1");
	refuse(BASE "wait = soon\n" TARGET,
	       "wait: expected a duration such as 30s", "duration: syntax");
	refuse(BASE "share = 101%\n" TARGET,
	       "share: expected a share from 0% to 100%", "percent: max + 1");
	refuse(BASE "mode = 01000\n" TARGET, "mode: expected an octal mode",
	       "mode: max + 1");
	refuse(BASE "flag = maybe\n" TARGET, "flag: expected yes or no",
	       "bool");
	refuse(BASE "pick = three\n" TARGET,
	       "pick: expected one, two or deux", "choice: names listed");
	refuse(BASE "path = x\n" TARGET, "path: must be an absolute path",
	       "absolute path");
	refuse(BASE "item = a\nitem = bad\n" TARGET,
	       "t.conf:3: item: not this one", "repeated: the bad one's line");

	/* The shared check of catalog ids (CATALOG_ID_MAX is 64). */
	accept(BASE "cid = corp-1.a_b\n" TARGET, "catalog id");
	accept(BASE "cid = " "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	       "\n" TARGET, "catalog id of 64 bytes");
	refuse(BASE "cid = " "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	       "\n" TARGET, "cid: longer than 64 bytes", "catalog id of 65 bytes");
	refuse(BASE "cid = a/b\n" TARGET,
	       "t.conf:2: cid: letters, digits, '.', '_' and '-', at most 64",
	       "catalog id with a '/'");

	/* Required, refused. */
	refuse(TARGET, "t.conf: 'name' is missing", "required at the top");
	refuse("name =\n" TARGET, "'name' is missing", "required and empty");
	refuse(BASE "[target a]\n", "t.conf:2: [target a]: 'url' is missing",
	       "required in a section");
	refuse(BASE "password = x\n" TARGET, "t.conf:2: password: never here",
	       "refused setting");

	/* Inherited from the top. */
	CHECK(load(BASE "timeout = 5m\nuser = u1\n[target a]\nurl = u\n"
		   "[target b]\nurl = u\ntimeout = 1m\n", &top, secs, err,
		   sizeof(err)) == 0, "inherited settings (%s)", err);
	CHECK(secs[0].timeout == 300 && secs[1].timeout == 60,
	      "a section inherits the top's value or sets its own");
	refuse(BASE "timeout = 2d\n[target a]\nurl = u\ntimeout = 1m\n",
	       "t.conf:2: timeout: from 1s to 1d",
	       "a bad top value is found even when overridden");

	/* Layout. */
	refuse(BASE, "t.conf: no [target NAME] section: nothing to do",
	       "fewer sections than needed");
	accept(BASE TARGET "[target b]\nurl = u\n[target c]\nurl = u\n",
	       "sections: max");
	refuse(BASE TARGET "[target b]\nurl = u\n[target c]\nurl = u\n"
	       "[target d]\nurl = u\n", "t.conf:8: more than 3 [target] "
	       "sections", "sections: max + 1");
	refuse(BASE TARGET "[source s]\n",
	       "t.conf:4: unknown section type [source ...]; expected "
	       "[target NAME]", "unknown section type");

	/* Unknown settings. */
	refuse(BASE "cuont = 3\n" TARGET,
	       "t.conf:2: unknown setting 'cuont'; did you mean 'count'?",
	       "two edits: a suggestion");
	refuse(BASE "cxyzt = 3\n" TARGET, "unknown setting 'cxyzt'",
	       "three edits: an error");
	{
		char e2[512] = "";

		load(BASE "cxyzt = 3\n" TARGET, &top, secs, e2, sizeof(e2));
		CHECK(!strstr(e2, "did you mean"),
		      "three edits: no suggestion (%s)", e2);
	}
	refuse(BASE "count_max = 3\n" TARGET, "did you mean 'count'?",
	       "a known name and more words: that name");
	refuse(BASE "COUNT = 3\n" TARGET, "did you mean 'count'?",
	       "case differs: a suggestion");
	refuse(BASE TARGET "urk = v\n",
	       "t.conf:4: unknown setting 'urk' in [target a]; did you mean "
	       "'url'?", "in a section: names of the section");
	refuse(BASE "url = x\n" TARGET,
	       "unknown setting 'url'; it belongs in a [target NAME] section",
	       "a section's setting at the top");
	refuse(BASE TARGET "count = 3\n",
	       "unknown setting 'count' in [target a]; it is a top-level "
	       "setting", "a top-level setting in a section");
	refuse(BASE "usr = x\n" TARGET, "did you mean 'user'?",
	       "at the top: inherited names are suggested too");
	accept(BASE "user = u\n" TARGET "user = v\n",
	       "an inherited setting every section overrides is known");

	/* The listing. */
	f = open_memstream(&out, &outlen);
	settings_print(f, t_program);
	fclose(f);
	CHECK(strstr(out, "count = N  (default 5; 1 to 10)\n    a count\n") &&
	      strstr(out, "wait = DURATION  (default 1m; 1s to 1h)") &&
	      strstr(out, "pick = one|two|deux  (default one)") &&
	      strstr(out, "\n[target NAME]\nurl = TEXT  (required)") &&
	      strstr(out, "timeout = DURATION  (default 30s; 1s to 1d; a "
		     "top-level value is the default)"),
	      "settings_print: forms, defaults and limits");
	CHECK(!strstr(out, "password"), "settings_print: refused settings "
	      "are no settings");
	free(out);
	CHECK(settings_find(t_program, "target", "user") &&
	      settings_find(t_program, NULL, "count") &&
	      !settings_find(t_program, NULL, "user"),
	      "settings_find by section");
	return check_done();
}
