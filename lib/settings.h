/*
 * settings.h - every setting of a program declared once, in a table, and
 * one loader that reads a configuration file (config.h) against it.
 *
 * A table row names a setting, its type, default, limits, the field of
 * the program's struct that receives it and one line of documentation;
 * settings_load() fills a struct from one section of the file, so
 * defaults, ranges and messages are the same everywhere.  A setting no
 * table knows is an error with a suggestion ("did you mean 'page_size'?").
 * Every message names file:line.  Limits: names of SETTINGS_NAME_MAX
 * bytes (config.h's); suggestions within SETTINGS_SUGGEST_MAX edits.
 * A bad table (a field of the wrong size, a default its own type refuses)
 * is a bug: the loader aborts with a message, and test_settings and
 * each program's --settings exercise every table.
 */
#ifndef DIRCAT_SETTINGS_H
#define DIRCAT_SETTINGS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"

#define SETTINGS_NAME_MAX    CONFIG_NAME_MAX
#define SETTINGS_SUGGEST_MAX 2	/* edits between a typo and a suggestion */

enum settings_type {
	SETTINGS_TEXT = 1,	/* const char *: valid until config_free */
	SETTINGS_COPY,		/* char[size]: a copy; a longer one is refused */
	SETTINGS_INT,		/* int64_t, min to max */
	SETTINGS_BOOL,		/* int: yes/no, true/false, on/off, 1/0 */
	SETTINGS_DURATION,	/* int64_t seconds (30s, 5m, 2h, 7d), min to max */
	SETTINGS_MODE,		/* unsigned: octal file mode, at most max */
	SETTINGS_PERCENT,	/* int64_t: a share min to max, '%' optional */
	SETTINGS_CHOICE,	/* int: the value of the choice named */
	SETTINGS_CUSTOM		/* nothing stored: check does it all */
};

/* Flags of a setting. */
#define SETTINGS_REQUIRED 0x01	/* missing or empty is an error */
#define SETTINGS_REPEAT   0x02	/* each value counts: check sees each */
#define SETTINGS_INHERIT  0x04	/* in a section: a top-level value is its
				   default (the top may set it too) */
#define SETTINGS_ABSOLUTE 0x08	/* a path that must start with '/' */
#define SETTINGS_READABLE 0x10	/* a file we must be able to read */
#define SETTINGS_SECRET   0x20	/* readable, and by its owner only */
#define SETTINGS_REFUSED  0x40	/* known, but never accepted: doc says why */
#define SETTINGS_ANYCASE  0x80	/* choices match in any case */

/* One name of a SETTINGS_CHOICE; a list ends with a NULL name.  Several
 * names may give the same value (aliases). */
struct settings_choice {
	const char *name;
	int value;
};

/* A value as found in the file, for checks and their messages. */
struct settings_value {
	const char *text;
	const char *file;
	int line;
	int col;		/* where the value starts; 0 when unknown */
	int is_default;		/* 1: not in the file, the table's default */
};

struct settings_key;
/*
 * A check or a conversion the type alone cannot do: called after the
 * value is stored (with every value of a SETTINGS_REPEAT key in turn).
 * obj is the struct being filled.  0, or -1 with the whole message in
 * err (settings_fail() prefixes "file:line: key: ").
 */
typedef int (*settings_check_fn)(void *obj, const struct settings_key *k,
				 const struct settings_value *v, char *err,
				 size_t errlen);

struct settings_key {
	const char *name;
	enum settings_type type;
	unsigned flags;
	const char *def;	/* default as written in a file; NULL: none
				   (the field is left as it is) */
	int64_t min, max;	/* INT, DURATION, PERCENT; MODE: max only */
	const struct settings_choice *choices;	/* CHOICE */
	size_t offset, size;	/* the field: SETTINGS_FIELD(type, member) */
	settings_check_fn check;	/* NULL: none */
	const char *meta;	/* the value's word in --settings (PATH, DN) */
	const char *doc;	/* one line for --settings */
};

/* Where a setting is stored: offset and size of a member. */
#define SETTINGS_FIELD(type, member) \
	.offset = offsetof(type, member), .size = sizeof(((type *)0)->member)

/*
 * The settings of one part of a file: the top level (type NULL) or a
 * section type ("source"), which may appear min to max times.  keys ends
 * with a row whose name is NULL.  A program's table is an array of these
 * ending with keys == NULL, top level first.
 */
struct settings_section {
	const char *type;
	size_t min, max;
	const char *why_needed;	/* said when fewer than min ("nothing to
				   serve"); may be NULL */
	const struct settings_key *keys;
};

/*
 * Fill obj from sec (the top level or one section of the type table
 * describes): defaults first, then each value checked by type, limits
 * and check.  Marks every setting of table as used.  0, or -1 with
 * "file:line: key: reason" in err; obj may then be partly filled.
 */
int settings_load(const struct settings_section *table,
		  const struct config_section *sec, void *obj, char *err,
		  size_t errlen);

/* The file as a whole: every section of a type the program knows, each
 * type min to max times.  Call before loading.  0 or -1 with err. */
int settings_check_layout(const struct config *cfg,
			  const struct settings_section *program, char *err,
			  size_t errlen);

/* After loading: -1 with "file:line: unknown setting 'pagesize' in
 * [source corp]; did you mean 'page_size'?" for the first setting no
 * table asked for, else 0. */
int settings_check_unknown(const struct config *cfg,
			   const struct settings_section *program, char *err,
			   size_t errlen);

/* Write "file:line: key: " and the formatted reason into err; -1. */
int settings_fail(const struct settings_key *k,
		  const struct settings_value *v, char *err, size_t errlen,
		  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* A check for the tables: the value is a catalog id (catalog.h). */
int settings_catalog_id(void *obj, const struct settings_key *k,
			const struct settings_value *v, char *err,
			size_t errlen);

/* The table for administrators: each setting with its value's form,
 * default, limits and documentation (dircat-aggregator --settings). */
void settings_print(FILE *out, const struct settings_section *program);

/* The setting of program named name in a section of type (NULL: top
 * level), or NULL. */
const struct settings_key *settings_find(
	const struct settings_section *program, const char *type,
	const char *name);

#endif
