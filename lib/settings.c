/*
 * settings.c - read a configuration file against a program's table of
 * settings; see settings.h.
 *
 * The file format and its line numbers are config.c's; this module adds
 * what a setting means: its type, default, limits, where it is stored,
 * and the suggestions for a setting no table knows.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "catalog.h"
#include "log.h"
#include "settings.h"
#include "util.h"

/* Room for "file:line: " before a message. */
#define SETTINGS_WHERE_MAX (4096 + 32)
/* A duration or limit as text ("3650d", "9223372036854775807"). */
#define SETTINGS_NUM_MAX   32

int settings_fail(const struct settings_key *k,
		  const struct settings_value *v, char *err, size_t errlen,
		  const char *fmt, ...)
{
	char why[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (v->is_default)
		util_err(err, errlen, "default of %s: %s", k->name, why);
	else
		util_err(err, errlen, "%s:%d: %s: %s", v->file, v->line, k->name,
			 why);
	return -1;
}

int settings_catalog_id(void *obj, const struct settings_key *k,
			const struct settings_value *v, char *err,
			size_t errlen)
{
	(void)obj;
	if (!catalog_id_valid(v->text))
		return settings_fail(k, v, err, errlen, "letters, digits, '.', "
				     "'_' and '-', at most %d", CATALOG_ID_MAX);
	return 0;
}

/* A bad table is a bug of the program, found by its tests. */
static void settings_table_check(const struct settings_key *k)
{
	size_t want = 0;

	switch (k->type) {
	case SETTINGS_TEXT:
		want = sizeof(const char *);
		break;
	case SETTINGS_COPY:
		want = k->size > 0 ? k->size : 1;
		break;
	case SETTINGS_INT:
	case SETTINGS_DURATION:
	case SETTINGS_PERCENT:
		want = sizeof(int64_t);
		break;
	case SETTINGS_BOOL:
	case SETTINGS_CHOICE:
		want = sizeof(int);
		break;
	case SETTINGS_MODE:
		want = sizeof(unsigned);
		break;
	case SETTINGS_CUSTOM:
		if (!k->check && !(k->flags & SETTINGS_REFUSED))
			log_panic("setting %s: custom without a check", k->name);
		return;
	}
	if (k->size != want)
		log_panic("setting %s: field of %zu bytes, its type needs %zu",
			  k->name, k->size, want);
	if (k->type == SETTINGS_CHOICE && !k->choices)
		log_panic("setting %s: a choice without choices", k->name);
	if ((k->flags & SETTINGS_REPEAT) && k->def)
		log_panic("setting %s: repeated with a default", k->name);
}

/* A duration as an administrator writes it: the largest exact unit. */
static const char *settings_duration_text(int64_t s, char *buf, size_t size)
{
	static const struct { int64_t secs; char unit; } units[] = {
		{ 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' }
	};
	size_t i;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (s != 0 && s % units[i].secs == 0)
			break;
	if (i == sizeof(units) / sizeof(units[0]))
		i--;
	snprintf(buf, size, "%lld%c", (long long)(s / units[i].secs),
		 units[i].unit);
	return buf;
}

/* "a, b or c" (sep ", ", last " or "): the names of a choice. */
static void settings_choices_text(const struct settings_key *k,
				  const char *sep, const char *last_sep,
				  char *out, size_t size)
{
	struct buf b;
	size_t i, n;

	for (n = 0; k->choices[n].name; n++)
		;
	buf_init(&b, size);
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_printf(&b, "%s", i + 1 == n ? last_sep : sep);
		buf_printf(&b, "%s", k->choices[i].name);
	}
	buf_append(&b, "", 1);
	util_copy_text(out, b.data ? (const char *)b.data : "", size);
	buf_free(&b);
}

/* "10%" or "10" within [min, max]: 0 with *out, or -1. */
static int settings_percent(const char *text, int64_t min, int64_t max,
			    int64_t *out)
{
	char num[SETTINGS_NUM_MAX];
	size_t l = strlen(text);

	if (l && text[l - 1] == '%')
		l--;
	if (l >= sizeof(num))
		return -1;
	memcpy(num, text, l);
	num[l] = '\0';
	return util_parse_int(num, min, max, out);
}

/* The type's part: parse v and store it in obj.  0 or -1 with err. */
static int settings_store(const struct settings_key *k,
			  const struct settings_value *v, void *obj,
			  char *err, size_t errlen)
{
	char *field = (char *)obj + k->offset;
	char lo[SETTINGS_NUM_MAX], hi[SETTINGS_NUM_MAX], names[512];
	int64_t n;
	size_t i;

	switch (k->type) {
	case SETTINGS_TEXT:
		*(const char **)(void *)field = v->text;
		return 0;
	case SETTINGS_COPY:
		if (util_strlcpy(field, v->text, k->size) >= k->size)
			return settings_fail(k, v, err, errlen,
					     "longer than %zu bytes",
					     k->size - 1);
		return 0;
	case SETTINGS_INT:
		if (util_parse_int(v->text, k->min, k->max, &n) < 0)
			return settings_fail(k, v, err, errlen,
					     "expected a whole number from %lld "
					     "to %lld", (long long)k->min,
					     (long long)k->max);
		*(int64_t *)(void *)field = n;
		return 0;
	case SETTINGS_BOOL:
		if (util_parse_bool(v->text, (int *)(void *)field) < 0)
			return settings_fail(k, v, err, errlen,
					     "expected yes or no");
		return 0;
	case SETTINGS_DURATION:
		n = util_parse_duration(v->text);
		if (n < 0)
			return settings_fail(k, v, err, errlen,
					     "expected a duration such as 30s, "
					     "5m, 2h, 7d");
		if (n < k->min || n > k->max) {
			settings_duration_text(k->min, lo, sizeof(lo));
			settings_duration_text(k->max, hi, sizeof(hi));
			if (k->max == INT64_MAX)
				return settings_fail(k, v, err, errlen,
						     "at least %s", lo);
			return settings_fail(k, v, err, errlen,
					     "from %s to %s", lo, hi);
		}
		*(int64_t *)(void *)field = n;
		return 0;
	case SETTINGS_MODE:
		if (util_parse_mode(v->text, (unsigned)k->max,
				    (unsigned *)(void *)field) < 0)
			return settings_fail(k, v, err, errlen,
					     "expected an octal mode such as "
					     "0660, at most %04llo",
					     (unsigned long long)k->max);
		return 0;
	case SETTINGS_PERCENT:
		if (settings_percent(v->text, k->min, k->max, &n) < 0)
			return settings_fail(k, v, err, errlen,
					     "expected a share from %lld%% to "
					     "%lld%%", (long long)k->min,
					     (long long)k->max);
		*(int64_t *)(void *)field = n;
		return 0;
	case SETTINGS_CHOICE:
		for (i = 0; k->choices[i].name; i++)
			if ((k->flags & SETTINGS_ANYCASE)
				    ? !strcasecmp(v->text, k->choices[i].name)
				    : !strcmp(v->text, k->choices[i].name)) {
				*(int *)(void *)field = k->choices[i].value;
				return 0;
			}
		settings_choices_text(k, ", ", " or ", names, sizeof(names));
		return settings_fail(k, v, err, errlen, "expected %s", names);
	case SETTINGS_CUSTOM:
		return 0;
	}
	log_panic("setting %s: unknown type %d", k->name, (int)k->type);
}

/* What the flags ask of a value from the file. */
static int settings_flags(const struct settings_key *k,
			  const struct settings_value *v, char *err,
			  size_t errlen)
{
	char why[1024];

	if (v->is_default)
		return 0;
	if ((k->flags & SETTINGS_ABSOLUTE) && v->text[0] != '/')
		return settings_fail(k, v, err, errlen,
				     "must be an absolute path");
	if ((k->flags & (SETTINGS_READABLE | SETTINGS_SECRET)) &&
	    access(v->text, R_OK) < 0)
		return settings_fail(k, v, err, errlen, "%s: %s", v->text,
				     strerror(errno));
	if ((k->flags & SETTINGS_SECRET) &&
	    util_check_secret_mode(v->text, why, sizeof(why)) < 0)
		return settings_fail(k, v, err, errlen, "%s", why);
	return 0;
}

/* One value: type, flags, then the check. */
static int settings_one(const struct settings_key *k,
			const struct settings_value *v, void *obj, char *err,
			size_t errlen)
{
	if (settings_flags(k, v, err, errlen) < 0 ||
	    settings_store(k, v, obj, err, errlen) < 0)
		return -1;
	if (k->check && k->check(obj, k, v, err, errlen) < 0)
		return -1;
	return 0;
}

/* A required setting absent: the message config_require gives. */
static int settings_missing(const struct settings_key *k,
			    const struct config_section *sec, char *err,
			    size_t errlen)
{
	const char *file = config_section_path(sec);

	if (config_section_line(sec))
		util_err(err, errlen, "%s:%d: [%s %s]: '%s' is missing", file,
			 config_section_line(sec), config_section_type(sec),
			 config_section_name(sec), k->name);
	else
		util_err(err, errlen, "%s: '%s' is missing", file, k->name);
	return -1;
}

/* Every value of a repeated setting, in file order. */
static int settings_repeated(const struct settings_key *k,
			     const struct config_section *sec, void *obj,
			     char *err, size_t errlen)
{
	struct settings_value v = { .file = config_section_path(sec) };
	size_t i;

	for (i = 0; (v.text = config_get_nth(sec, k->name, i, &v.line)); i++)
		if (settings_one(k, &v, obj, err, errlen) < 0)
			return -1;
	if (i == 0 && (k->flags & SETTINGS_REQUIRED))
		return settings_missing(k, sec, err, errlen);
	return 0;
}

/* The value of k in sec, if any, into v. */
static int settings_lookup(const struct settings_key *k,
			   const struct config_section *sec,
			   struct settings_value *v)
{
	memset(v, 0, sizeof(*v));
	v->file = config_section_path(sec);
	v->text = config_get_at(sec, k->name, &v->line, &v->col);
	return v->text != NULL;
}

int settings_load(const struct settings_section *table,
		  const struct config_section *sec, void *obj, char *err,
		  size_t errlen)
{
	const struct config_section *top =
		config_top(config_section_file(sec));
	const struct settings_key *k;
	struct settings_value v;
	int found;

	for (k = table->keys; k->name; k++) {
		settings_table_check(k);
		if (k->flags & SETTINGS_REFUSED) {
			if (settings_lookup(k, sec, &v))
				return settings_fail(k, &v, err, errlen, "%s",
						     k->doc);
			continue;
		}
		if (k->flags & SETTINGS_REPEAT) {
			if (settings_repeated(k, sec, obj, err, errlen) < 0)
				return -1;
			continue;
		}
		/* An inherited setting: the top's value first, so that both
		 * are checked where they were written, then our own. */
		found = 0;
		if ((k->flags & SETTINGS_INHERIT) && sec != top &&
		    settings_lookup(k, top, &v)) {
			found = 1;
			if (settings_one(k, &v, obj, err, errlen) < 0)
				return -1;
		}
		if (settings_lookup(k, sec, &v)) {
			found = 1;
			if ((k->flags & SETTINGS_REQUIRED) && !*v.text)
				return settings_missing(k, sec, err, errlen);
			if (settings_one(k, &v, obj, err, errlen) < 0)
				return -1;
		}
		if (found)
			continue;
		if (k->flags & SETTINGS_REQUIRED)
			return settings_missing(k, sec, err, errlen);
		if (!k->def)
			continue;
		v.text = k->def;
		v.is_default = 1;
		if (settings_one(k, &v, obj, err, errlen) < 0)
			log_panic("%s", err);	/* a default we refuse */
	}
	return 0;
}

/* The table of a section type (NULL: the top level), or NULL. */
static const struct settings_section *
settings_section_of(const struct settings_section *program, const char *type)
{
	for (; program->keys; program++)
		if (!type || !*type ? !program->type
				    : program->type && !strcmp(program->type, type))
			return program;
	return NULL;
}

const struct settings_key *settings_find(
	const struct settings_section *program, const char *type,
	const char *name)
{
	const struct settings_section *s = settings_section_of(program, type);
	const struct settings_key *k;

	if (!s)
		return NULL;
	for (k = s->keys; k->name; k++)
		if (!strcmp(k->name, name))
			return k;
	return NULL;
}

/* "[source NAME]" or "[source NAME] or [target NAME]": what may follow. */
static void settings_types_text(const struct settings_section *program,
				char *out, size_t size)
{
	struct buf b;
	int n = 0;

	buf_init(&b, size);
	for (; program->keys; program++) {
		if (!program->type)
			continue;
		buf_printf(&b, "%s[%s NAME]", n++ ? " or " : "", program->type);
	}
	buf_append(&b, "", 1);
	util_copy_text(out, b.data ? (const char *)b.data : "", size);
	buf_free(&b);
}

int settings_check_layout(const struct config *cfg,
			  const struct settings_section *program, char *err,
			  size_t errlen)
{
	const struct config_section *sec;
	const struct settings_section *t;
	char types[256];
	size_t n;

	for (sec = NULL; (sec = config_next(cfg, sec, NULL)) != NULL;) {
		t = settings_section_of(program, config_section_type(sec));
		if (!t || !t->type) {
			settings_types_text(program, types, sizeof(types));
			util_err(err, errlen, "%s:%d: unknown section type "
				 "[%s ...]; expected %s",
				 config_section_path(sec),
				 config_section_line(sec),
				 config_section_type(sec),
				 types[0] ? types : "no section at all");
			return -1;
		}
	}
	for (t = program; t->keys; t++) {
		if (!t->type)
			continue;
		n = 0;
		for (sec = NULL; (sec = config_next(cfg, sec, t->type));) {
			if (++n > t->max) {
				util_err(err, errlen, "%s:%d: more than %zu [%s] "
					 "sections", config_section_path(sec),
					 config_section_line(sec), t->max,
					 t->type);
				return -1;
			}
		}
		if (n < t->min) {
			util_err(err, errlen, "%s: %s [%s NAME] section%s%s",
				 config_path(cfg),
				 t->min == 1 ? "no" : "too few", t->type,
				 t->why_needed ? ": " : "",
				 t->why_needed ? t->why_needed : "");
			return -1;
		}
	}
	return 0;
}

/* Edits (insert, delete, replace; any case) from a to b, up to a bound:
 * the classic two-row dynamic programme. */
static size_t settings_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t row[2][SETTINGS_NAME_MAX + 1];

	if (la > SETTINGS_NAME_MAX || lb > SETTINGS_NAME_MAX)
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		row[0][j] = j;
	for (i = 1; i <= la; i++) {
		size_t *cur = row[i & 1], *prev = row[(i - 1) & 1];

		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] +
				     (tolower((unsigned char)a[i - 1]) !=
				      tolower((unsigned char)b[j - 1]));
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;

			cur[j] = sub < del ? (sub < ins ? sub : ins)
					   : (del < ins ? del : ins);
		}
	}
	return row[la & 1][lb];
}

/* How far a typo is from a known name: edits, but a known name that is
 * the typo's first words ("base" for "base_dn") or the other way round
 * counts as one edit, closer than a look-alike ("bind_dn"). */
static size_t settings_nearness(const char *typo, const char *known)
{
	size_t lt = strlen(typo), lk = strlen(known);

	if ((lk < lt && !strncmp(typo, known, lk) && typo[lk] == '_') ||
	    (lt < lk && !strncmp(known, typo, lt) && known[lt] == '_'))
		return 1;
	return settings_distance(typo, known);
}

/* Whether name is a setting of the top level: its own, or one a section
 * inherits from it. */
static const struct settings_key *
settings_top_key(const struct settings_section *program, const char *name)
{
	const struct settings_section *t;
	const struct settings_key *k;

	for (t = program; t->keys; t++)
		for (k = t->keys; k->name; k++)
			if (!strcmp(k->name, name) &&
			    (!t->type || (k->flags & SETTINGS_INHERIT)))
				return k;
	return NULL;
}

/* A hint for an unknown setting: where it belongs, or the nearest name
 * known where it was written. */
static void settings_hint(const struct settings_section *program,
			  const char *type, const char *name, char *out,
			  size_t size)
{
	const struct settings_section *t, *here;
	const struct settings_key *k, *best = NULL;
	size_t d, bestd = SETTINGS_SUGGEST_MAX + 1;

	out[0] = '\0';
	here = settings_section_of(program, type);
	for (t = program; t->keys; t++)
		for (k = t->keys; k->name; k++) {
			int valid_here = t == here ||
				(!*type && (k->flags & SETTINGS_INHERIT));

			if (strcmp(k->name, name) || valid_here)
				continue;
			if (t->type)
				snprintf(out, size, "; it belongs in a [%s NAME] "
					 "section", t->type);
			else
				snprintf(out, size, "; it is a top-level "
					 "setting, before the first section");
			return;
		}
	for (t = program; t->keys; t++)
		for (k = t->keys; k->name; k++) {
			if (k->flags & SETTINGS_REFUSED)
				continue;
			if (t != here && !(!*type && t->type &&
					   (k->flags & SETTINGS_INHERIT)))
				continue;
			d = settings_nearness(name, k->name);
			if (d < bestd) {
				bestd = d;
				best = k;
			}
		}
	if (best)
		snprintf(out, size, "; did you mean '%s'?", best->name);
}

int settings_check_unknown(const struct config *cfg,
			   const struct settings_section *program, char *err,
			   size_t errlen)
{
	const struct config_section *sec;
	const char *key;
	char hint[128];
	size_t pos = 0;
	int line;

	while (config_next_unused(cfg, &pos, &key, &line, &sec)) {
		const char *type = config_section_type(sec);

		/* A default at the top that every section overrode. */
		if (!*type && settings_top_key(program, key))
			continue;
		settings_hint(program, type, key, hint, sizeof(hint));
		if (config_section_line(sec))
			util_err(err, errlen,
				 "%s:%d: unknown setting '%s' in [%s %s]%s",
				 config_section_path(sec), line, key, type,
				 config_section_name(sec), hint);
		else
			util_err(err, errlen, "%s:%d: unknown setting '%s'%s",
				 config_path(cfg), line, key, hint);
		return -1;
	}
	return 0;
}

/* The value's word: the table's, else one for the type. */
static const char *settings_meta(const struct settings_key *k, char *buf,
				 size_t size)
{
	if (k->meta)
		return k->meta;
	switch (k->type) {
	case SETTINGS_INT:
		return "N";
	case SETTINGS_BOOL:
		return "yes|no";
	case SETTINGS_DURATION:
		return "DURATION";
	case SETTINGS_MODE:
		return "MODE";
	case SETTINGS_PERCENT:
		return "PERCENT";
	case SETTINGS_CHOICE:
		settings_choices_text(k, "|", "|", buf, size);
		return buf;
	default:
		return "TEXT";
	}
}

/* "(required)", "(default 10s; from 0s to 1h)" ... */
static void settings_terms(const struct settings_key *k, char *out,
			   size_t size)
{
	char lo[SETTINGS_NUM_MAX], hi[SETTINGS_NUM_MAX];
	struct buf b;

	buf_init(&b, size);
	if (k->flags & SETTINGS_REQUIRED)
		buf_printf(&b, "; required");
	if (k->def)
		buf_printf(&b, "; default %s", *k->def ? k->def : "empty");
	switch (k->type) {
	case SETTINGS_PERCENT:
		buf_printf(&b, "; %lld%% to %lld%%", (long long)k->min,
			   (long long)k->max);
		break;
	case SETTINGS_INT:
		if (k->max == INT64_MAX)
			buf_printf(&b, "; at least %lld", (long long)k->min);
		else
			buf_printf(&b, "; %lld to %lld", (long long)k->min,
				   (long long)k->max);
		break;
	case SETTINGS_DURATION:
		settings_duration_text(k->min, lo, sizeof(lo));
		settings_duration_text(k->max, hi, sizeof(hi));
		if (k->max == INT64_MAX)
			buf_printf(&b, "; at least %s", lo);
		else
			buf_printf(&b, "; %s to %s", lo, hi);
		break;
	case SETTINGS_MODE:
		buf_printf(&b, "; at most %04llo", (unsigned long long)k->max);
		break;
	case SETTINGS_COPY:
		buf_printf(&b, "; at most %zu bytes", k->size - 1);
		break;
	default:
		break;
	}
	if (k->flags & SETTINGS_REPEAT)
		buf_printf(&b, "; may be repeated");
	if (k->flags & SETTINGS_INHERIT)
		buf_printf(&b, "; a top-level value is the default");
	if (k->flags & SETTINGS_SECRET)
		buf_printf(&b, "; a secret file");
	buf_append(&b, "", 1);
	util_copy_text(out, b.len > 3 ? (const char *)b.data + 2 : "", size);
	buf_free(&b);
}

void settings_print(FILE *out, const struct settings_section *program)
{
	const struct settings_section *t;
	const struct settings_key *k;
	char meta[512], terms[512];

	for (t = program; t->keys; t++) {
		if (t->type)
			fprintf(out, "\n[%s NAME]\n", t->type);
		for (k = t->keys; k->name; k++) {
			if (k->flags & SETTINGS_REFUSED)
				continue;
			settings_terms(k, terms, sizeof(terms));
			fprintf(out, "%s = %s%s%s%s\n    %s\n", k->name,
				settings_meta(k, meta, sizeof(meta)),
				*terms ? "  (" : "", terms, *terms ? ")" : "",
				k->doc);
		}
	}
}
