/*
 * config.c - parse the dircat configuration format; see config.h.
 *
 * The whole file is read (bounded), split into lines, and kept as a flat
 * array of (section, key, value, line) entries.  A line that starts with
 * white space continues the previous value; the newline is kept so that a
 * formula's line and column numbers still point into the file.  Blank and
 * comment lines between a value's lines are left out of the value but
 * leave an empty line in their place, for the same reason: a value that
 * spans file lines L to L+n has exactly n newlines.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "util.h"

struct config_entry {
	char *key;
	char *value;
	int line;
	int col;		/* where the value starts on its line, 1-based */
	int used;
	struct config_section *section;
};

struct config_section {
	char *type;
	char *name;
	int line;
	const struct config *cfg;
	const char *file;	/* the file it is in (config_include) */
	size_t first, count;	/* its entries: a section's settings follow
				   its header, so they are contiguous */
};

struct config {
	char *path;
	char **files;		/* files included, for the sections' names */
	size_t nfiles;
	struct config_section **sections;
	size_t nsections, sections_cap;
	struct config_entry *entries;
	size_t nentries, entries_cap;
};

/* Trim white space at both ends of [*s, *e). */
static void config_trim(const char **s, const char **e)
{
	while (*s < *e && isspace((unsigned char)**s))
		(*s)++;
	while (*e > *s && isspace((unsigned char)(*e)[-1]))
		(*e)--;
}

static int config_valid_name(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > CONFIG_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' &&
		    s[i] != '-' && s[i] != '.')
			return 0;
	return 1;
}

static struct config_section *config_add_section(struct config *cfg,
						 const char *type, size_t tlen,
						 const char *name, size_t nlen,
						 int line)
{
	struct config_section *sec = xcalloc(1, sizeof(*sec));

	sec->type = xstrndup(type, tlen);
	sec->name = xstrndup(name, nlen);
	sec->line = line;
	sec->cfg = cfg;
	sec->file = cfg->path;
	sec->first = cfg->nentries;
	if (cfg->nsections == cfg->sections_cap) {
		cfg->sections_cap = cfg->sections_cap ? 2 * cfg->sections_cap
						      : 16;
		cfg->sections = xrealloc(cfg->sections, cfg->sections_cap *
					 sizeof(*cfg->sections));
	}
	cfg->sections[cfg->nsections++] = sec;
	return sec;
}

void config_free(struct config *cfg)
{
	size_t i;

	if (!cfg)
		return;
	for (i = 0; i < cfg->nentries; i++) {
		free(cfg->entries[i].key);
		free(cfg->entries[i].value);
	}
	free(cfg->entries);
	for (i = 0; i < cfg->nsections; i++) {
		free(cfg->sections[i]->type);
		free(cfg->sections[i]->name);
		free(cfg->sections[i]);
	}
	free(cfg->sections);
	for (i = 0; i < cfg->nfiles; i++)
		free(cfg->files[i]);
	free(cfg->files);
	free(cfg->path);
	free(cfg);
}

/* Where config_parse() is in the text, and what the next line may do. */
struct config_parser {
	struct config *cfg;
	const char *name;		/* the file, for messages */
	int lineno;
	struct config_section *cur;	/* the section being read */
	struct config_entry *last;	/* the value a continuation extends */
	int skipped;			/* blank/comment lines since last */
	char *err;
	size_t errlen;
};

/* An indented line [s, e): the next line of the last value.  Blank and
 * comment lines skipped since then become empty lines of the value, so
 * that its line numbers stay the file's. */
static int config_continue(struct config_parser *p, const char *s,
			   const char *e)
{
	struct config_entry *last = p->last;
	size_t old, add = (size_t)(e - s), gap = (size_t)p->skipped;

	if (!last) {
		util_err(p->err, p->errlen, "%s:%d: indented line continues "
			 "nothing (no 'name = value' above it in this section)",
			 p->name, p->lineno);
		return -1;
	}
	old = strlen(last->value);
	if (old + gap + 1 + add > CONFIG_VALUE_MAX) {
		util_err(p->err, p->errlen, "%s:%d: value longer than %d bytes",
			 p->name, p->lineno, CONFIG_VALUE_MAX);
		return -1;
	}
	last->value = xrealloc(last->value, old + gap + add + 2);
	memset(last->value + old, '\n', gap + 1);
	old += gap + 1;
	memcpy(last->value + old, s, add);
	last->value[old + add] = '\0';
	p->skipped = 0;
	return 0;
}

/* A section header "[type name]", trimmed, in [s, e). */
static int config_parse_section(struct config_parser *p, const char *s,
				const char *e)
{
	struct config *cfg = p->cfg;
	const char *t, *te, *sp, *n, *ne;
	size_t tlen, nlen, i;

	if (e[-1] != ']') {
		util_err(p->err, p->errlen, "%s:%d: section header without ']'",
			 p->name, p->lineno);
		return -1;
	}
	t = s + 1;
	te = e - 1;
	config_trim(&t, &te);
	for (sp = t; sp < te && !isspace((unsigned char)*sp); sp++)
		;
	n = sp;
	ne = te;
	config_trim(&n, &ne);
	tlen = (size_t)(sp - t);
	nlen = (size_t)(ne - n);
	if (!config_valid_name(t, tlen) || !config_valid_name(n, nlen)) {
		util_err(p->err, p->errlen, "%s:%d: expected [type name], e.g. "
			 "[source corp]", p->name, p->lineno);
		return -1;
	}
	if (cfg->nsections >= CONFIG_SECTION_MAX) {
		util_err(p->err, p->errlen, "%s:%d: more than %d sections",
			 p->name, p->lineno, CONFIG_SECTION_MAX);
		return -1;
	}
	for (i = 1; i < cfg->nsections; i++) {
		const struct config_section *o = cfg->sections[i];

		if (strlen(o->type) == tlen && !strncmp(o->type, t, tlen) &&
		    strlen(o->name) == nlen && !strncmp(o->name, n, nlen)) {
			util_err(p->err, p->errlen, "%s:%d: section [%s %s] "
				 "already defined at line %d", p->name,
				 p->lineno, o->type, o->name, o->line);
			return -1;
		}
	}
	p->cur = config_add_section(cfg, t, tlen, n, nlen, p->lineno);
	p->last = NULL;
	return 0;
}

/* "name = value", trimmed, in [s, e) of the line that starts at line. */
static int config_parse_setting(struct config_parser *p, const char *line,
				const char *s, const char *e)
{
	const char *eq = memchr(s, '=', (size_t)(e - s));
	const char *k = s, *ke, *v, *ve = e;
	struct config_entry *ent;

	if (!eq) {
		util_err(p->err, p->errlen, "%s:%d: expected 'name = value'",
			 p->name, p->lineno);
		return -1;
	}
	ke = eq;
	config_trim(&k, &ke);
	v = eq + 1;
	config_trim(&v, &ve);
	if (!config_valid_name(k, (size_t)(ke - k))) {
		util_err(p->err, p->errlen, "%s:%d: bad setting name before '='",
			 p->name, p->lineno);
		return -1;
	}
	if (p->cfg->nentries >= CONFIG_ENTRY_MAX) {
		util_err(p->err, p->errlen, "%s:%d: more than %d settings",
			 p->name, p->lineno, CONFIG_ENTRY_MAX);
		return -1;
	}
	if (p->cfg->nentries == p->cfg->entries_cap) {
		/* p->last points into the array: it is set to the new entry
		 * just below. */
		p->cfg->entries_cap = p->cfg->entries_cap ?
				      2 * p->cfg->entries_cap : 64;
		p->cfg->entries = xrealloc(p->cfg->entries,
					   p->cfg->entries_cap *
					   sizeof(*p->cfg->entries));
	}
	ent = &p->cfg->entries[p->cfg->nentries++];
	memset(ent, 0, sizeof(*ent));
	p->cur->count++;
	ent->key = xstrndup(k, (size_t)(ke - k));
	ent->value = xstrndup(v, (size_t)(ve - v));
	ent->line = p->lineno;
	ent->col = (int)(v - line) + 1;
	ent->section = p->cur;
	p->last = ent;
	return 0;
}

/* One line [s, e) without its line end. */
static int config_parse_line(struct config_parser *p, const char *s,
			     const char *e)
{
	const char *line = s, *t = s, *te = e;

	if ((size_t)(e - s) > CONFIG_LINE_MAX) {
		util_err(p->err, p->errlen, "%s:%d: line longer than %d bytes",
			 p->name, p->lineno, CONFIG_LINE_MAX);
		return -1;
	}
	if (e > s && e[-1] == '\r')
		e--;
	/* Blank and comment lines, indented or not, never end a value:
	 * they are only counted, so that a continuation line after them
	 * lands on its own line of the value. */
	te = e;
	config_trim(&t, &te);
	if (t == te || *t == '#') {
		if (p->last)
			p->skipped++;
		return 0;
	}
	if (*s == ' ' || *s == '\t')	/* continuation: indented */
		return config_continue(p, s, e);
	p->skipped = 0;
	if (*t == '[')
		return config_parse_section(p, t, te);
	return config_parse_setting(p, line, t, te);
}

struct config *config_parse(const char *name, const char *text, size_t len,
			    char *err, size_t errlen)
{
	struct config_parser p = { .name = name, .err = err,
				   .errlen = errlen };
	const char *at = text, *end = text + len;

	p.cfg = xcalloc(1, sizeof(*p.cfg));
	p.cfg->path = xstrdup(name);
	p.cur = config_add_section(p.cfg, "", 0, "", 0, 0);
	if (len > CONFIG_FILE_MAX) {
		util_err(err, errlen, "%s: larger than %d bytes", name,
			 CONFIG_FILE_MAX);
		goto fail;
	}
	if (memchr(text, '\0', len)) {
		util_err(err, errlen, "%s: contains a NUL byte", name);
		goto fail;
	}
	while (at < end) {
		const char *nl = memchr(at, '\n', (size_t)(end - at));
		const char *le = nl ? nl : end;

		p.lineno++;
		if (config_parse_line(&p, at, le) < 0)
			goto fail;
		at = nl ? nl + 1 : end;
	}
	return p.cfg;
fail:
	config_free(p.cfg);
	return NULL;
}

struct config *config_load(const char *path, char *err, size_t errlen)
{
	struct config *cfg;
	size_t len;
	char *text = util_read_file(path, CONFIG_FILE_MAX, &len, err, errlen);

	if (!text)
		return NULL;
	cfg = config_parse(path, text, len, err, errlen);
	free(text);
	return cfg;
}

const char *config_path(const struct config *cfg)
{
	return cfg->path;
}

const char *config_section_path(const struct config_section *sec)
{
	return sec->file;
}

/* Is there a section [type name] in cfg already?  Returns it or NULL. */
static const struct config_section *config_find(const struct config *cfg,
						const char *type,
						const char *name)
{
	size_t i;

	for (i = 1; i < cfg->nsections; i++)
		if (!strcmp(cfg->sections[i]->name, name) &&
		    !strcmp(cfg->sections[i]->type, type))
			return cfg->sections[i];
	return NULL;
}

int config_include(struct config *cfg, const char *path, char *err,
		   size_t errlen)
{
	struct config *inc = config_load(path, err, errlen);
	const struct config_section *top, *dup;
	size_t i, base;

	if (!inc)
		return -1;
	top = inc->sections[0];
	if (top->count > 0) {
		util_err(err, errlen, "%s:%d: an included file holds sections "
			 "only: put settings for every section in %s",
			 path, inc->entries[0].line, cfg->path);
		config_free(inc);
		return -1;
	}
	if (cfg->nsections + inc->nsections - 1 > CONFIG_SECTION_MAX ||
	    cfg->nentries + inc->nentries > CONFIG_ENTRY_MAX) {
		util_err(err, errlen, "%s: with it, more than %d sections or "
			 "%d settings in all", path, CONFIG_SECTION_MAX,
			 CONFIG_ENTRY_MAX);
		config_free(inc);
		return -1;
	}
	for (i = 1; i < inc->nsections; i++) {
		dup = config_find(cfg, inc->sections[i]->type,
				  inc->sections[i]->name);
		if (dup) {
			util_err(err, errlen, "%s:%d: section [%s %s] already "
				 "defined at %s:%d", path,
				 inc->sections[i]->line, dup->type, dup->name,
				 dup->file, dup->line);
			config_free(inc);
			return -1;
		}
	}
	/* Move its entries and sections over; the file name stays with
	 * them. */
	cfg->files = xrealloc(cfg->files, (cfg->nfiles + 1) *
			      sizeof(*cfg->files));
	cfg->files[cfg->nfiles] = inc->path;
	inc->path = NULL;
	base = cfg->nentries;
	if (cfg->nentries + inc->nentries > cfg->entries_cap) {
		cfg->entries_cap = cfg->nentries + inc->nentries;
		cfg->entries = xrealloc(cfg->entries, cfg->entries_cap *
					sizeof(*cfg->entries));
	}
	memcpy(cfg->entries + base, inc->entries,
	       inc->nentries * sizeof(*inc->entries));
	cfg->nentries += inc->nentries;
	for (i = 1; i < inc->nsections; i++) {
		struct config_section *sec = inc->sections[i];

		if (cfg->nsections == cfg->sections_cap) {
			cfg->sections_cap = 2 * cfg->sections_cap;
			cfg->sections = xrealloc(cfg->sections,
						 cfg->sections_cap *
						 sizeof(*cfg->sections));
		}
		sec->cfg = cfg;
		sec->file = cfg->files[cfg->nfiles];
		sec->first += base;
		cfg->sections[cfg->nsections++] = sec;
	}
	cfg->nfiles++;
	/* What moved no longer belongs to inc. */
	inc->nentries = 0;
	inc->nsections = 1;
	config_free(inc);
	return 0;
}


const struct config_section *config_top(const struct config *cfg)
{
	return cfg->sections[0];
}

const struct config_section *config_next(const struct config *cfg,
					 const struct config_section *prev,
					 const char *type)
{
	size_t i = 1;

	if (prev) {
		for (i = 0; i < cfg->nsections; i++)
			if (cfg->sections[i] == prev)
				break;
		i++;
	}
	for (; i < cfg->nsections; i++)
		if (!type || !strcmp(cfg->sections[i]->type, type))
			return cfg->sections[i];
	return NULL;
}

const char *config_section_type(const struct config_section *s)
{
	return s->type;
}

const char *config_section_name(const struct config_section *s)
{
	return s->name;
}

int config_section_line(const struct config_section *s)
{
	return s->line;
}

const struct config *config_section_file(const struct config_section *s)
{
	return s->cfg;
}

const char *config_get_nth(const struct config_section *sec, const char *key,
			   size_t nth, int *linep)
{
	const struct config *cfg = sec->cfg;
	size_t i, seen = 0;

	for (i = sec->first; i < sec->first + sec->count; i++) {
		struct config_entry *e = &cfg->entries[i];

		if (e->section != sec || strcmp(e->key, key))
			continue;
		e->used = 1;
		if (seen++ == nth) {
			if (linep)
				*linep = e->line;
			return e->value;
		}
	}
	return NULL;
}

const char *config_get_at(const struct config_section *sec, const char *key,
			  int *linep, int *colp)
{
	const struct config *cfg = sec->cfg;
	const char *v = NULL;
	size_t i;

	for (i = sec->first; i < sec->first + sec->count; i++) {
		struct config_entry *e = &cfg->entries[i];

		if (e->section != sec || strcmp(e->key, key))
			continue;
		e->used = 1;
		v = e->value;
		if (linep)
			*linep = e->line;
		if (colp)
			*colp = e->col;
	}
	return v;
}

const char *config_get(const struct config_section *sec, const char *key,
		       int *linep)
{
	return config_get_at(sec, key, linep, NULL);
}

const char *config_where(const struct config_section *sec, const char *key,
			 char *buf, size_t size)
{
	int line = sec->line;

	if (key && config_get(sec, key, &line) == NULL)
		line = sec->line;
	snprintf(buf, size, "%s:%d: ", sec->file, line);
	return buf;
}

const char *config_require(const struct config_section *sec, const char *key,
			   char *err, size_t errlen)
{
	const char *v = config_get(sec, key, NULL);

	if (!v || !*v) {
		if (sec->line)
			util_err(err, errlen, "%s:%d: [%s %s]: '%s' is missing",
				 sec->file, sec->line, sec->type,
				 sec->name, key);
		else
			util_err(err, errlen, "%s: '%s' is missing",
				 sec->file, key);
		return NULL;
	}
	return v;
}

int config_get_int(const struct config_section *sec, const char *key,
		   int64_t def, int64_t min, int64_t max, int64_t *out,
		   char *err, size_t errlen)
{
	int line = 0;
	const char *v = config_get(sec, key, &line);

	if (!v) {
		*out = def;
		return 0;
	}
	if (util_parse_int(v, min, max, out) < 0) {
		util_err(err, errlen,
			 "%s:%d: %s: expected a whole number from %lld to %lld",
			 sec->file, line, key, (long long)min,
			 (long long)max);
		return -1;
	}
	return 0;
}

int config_get_bool(const struct config_section *sec, const char *key,
		    int def, int *out, char *err, size_t errlen)
{
	int line = 0;
	const char *v = config_get(sec, key, &line);

	if (!v) {
		*out = def;
		return 0;
	}
	if (util_parse_bool(v, out) == 0)
		return 0;
	util_err(err, errlen, "%s:%d: %s: expected yes or no", sec->file,
		 line, key);
	return -1;
}

int config_get_duration(const struct config_section *sec, const char *key,
			int64_t def, int64_t *out, char *err, size_t errlen)
{
	int line = 0;
	const char *v = config_get(sec, key, &line);

	if (!v) {
		*out = def;
		return 0;
	}
	*out = util_parse_duration(v);
	if (*out < 0) {
		util_err(err, errlen,
			 "%s:%d: %s: expected a duration such as 30s, 5m, 2h, 7d",
			 sec->file, line, key);
		return -1;
	}
	return 0;
}

int config_get_mode(const struct config_section *sec, const char *key,
		    unsigned def, unsigned *out, char *err, size_t errlen)
{
	int line = 0;
	const char *v = config_get(sec, key, &line);

	if (!v) {
		*out = def;
		return 0;
	}
	if (util_parse_mode(v, 07777, out) < 0) {
		util_err(err, errlen, "%s:%d: %s: expected an octal mode such as 0660",
			 sec->file, line, key);
		return -1;
	}
	return 0;
}

int config_next_unused(const struct config *cfg, size_t *pos, const char **key,
		       int *linep, const struct config_section **secp)
{
	for (; *pos < cfg->nentries; (*pos)++) {
		const struct config_entry *e = &cfg->entries[*pos];

		if (e->used)
			continue;
		(*pos)++;
		*key = e->key;
		*linep = e->line;
		*secp = e->section;
		return 1;
	}
	return 0;
}

int config_check_unused(const struct config *cfg, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < cfg->nentries; i++) {
		const struct config_entry *e = &cfg->entries[i];

		if (e->used)
			continue;
		if (e->section->line)
			util_err(err, errlen,
				 "%s:%d: unknown setting '%s' in [%s %s]",
				 e->section->file, e->line, e->key,
				 e->section->type,
				 e->section->name);
		else
			util_err(err, errlen, "%s:%d: unknown setting '%s'",
				 cfg->path, e->line, e->key);
		return -1;
	}
	return 0;
}

int config_split(const char *value,
		 int (*fn)(void *arg, const char *item, size_t len), void *arg)
{
	const char *p = value;

	while (*p) {
		const char *s;
		int rc;

		while (*p && (isspace((unsigned char)*p) || *p == ','))
			p++;
		if (!*p)
			break;
		s = p;
		while (*p && !isspace((unsigned char)*p) && *p != ',')
			p++;
		rc = fn(arg, s, (size_t)(p - s));
		if (rc)
			return rc;
	}
	return 0;
}
