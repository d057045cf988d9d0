/*
 * config.h - the one configuration file format of every dircat program.
 *
 *   # comment
 *   catalog = /var/lib/dircat/catalog.mdb
 *   [source corp]                  a section: type and name
 *   uri = ldap://ldap.example.com
 *   select = SELECT @IsAvailable(mail)
 *       & employeeType != "disabled"     (indented: continues the value)
 *
 * Blank and comment lines inside a value are skipped but keep their place
 * as empty lines, so a value's line n is line (first line + n - 1) of the
 * file and formula errors point into it.
 * Keys may repeat (base = ..., base = ...).  Every error names file:line.
 * Settings a program never asked for are reported by config_check_unused(),
 * so a misspelt key is an error, not silently ignored.
 * Limits: file 1 MiB, line 8 KiB, value 64 KiB, 200,000 settings, 10,000
 * sections, names of 64 bytes.  A setting is found among its section's
 * own entries only, so a file of thousands of sections reads in linear
 * time.  What each program accepts is declared in its
 * settings table (settings.h), which reads the file through this module.
 */
#ifndef DIRCAT_CONFIG_H
#define DIRCAT_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define CONFIG_FILE_MAX   (1024 * 1024)
#define CONFIG_LINE_MAX   8192
#define CONFIG_VALUE_MAX  65536
#define CONFIG_ENTRY_MAX  200000	/* settings, all sections together */
#define CONFIG_SECTION_MAX 10000	/* sections, the top level included */
#define CONFIG_NAME_MAX    64	/* a setting's, a section's type or name */

struct config;
struct config_section;

/* Parse path.  Returns the configuration (free with config_free) or NULL
 * with "file:line: reason" in err. */
struct config *config_load(const char *path, char *err, size_t errlen);
/* The same from a string; name is used in messages. */
struct config *config_parse(const char *name, const char *text, size_t len,
			    char *err, size_t errlen);
void config_free(struct config *);
const char *config_path(const struct config *);

/*
 * Add the sections of the file at path to cfg, after its own: an included
 * file holds sections only (their settings at the top of cfg's file stay
 * defaults for them), no section may repeat one already in cfg, and the
 * limits count both files together.  Messages about an included section
 * name its own file (config_section_path()).  0, or -1 with err (cfg
 * unchanged).
 */
int config_include(struct config *cfg, const char *path, char *err,
		   size_t errlen);
/* The file a section was read from. */
const char *config_section_path(const struct config_section *);

/* The settings before the first [section]: never NULL. */
const struct config_section *config_top(const struct config *);
/* Sections of a type ("source", "target"...) in file order: pass NULL
 * first, then the previous one; NULL at the end. */
const struct config_section *config_next(const struct config *,
					 const struct config_section *prev,
					 const char *type);
const char *config_section_type(const struct config_section *);
const char *config_section_name(const struct config_section *);
int config_section_line(const struct config_section *);
/* The file a section belongs to. */
const struct config *config_section_file(const struct config_section *);

/* The last value of key, or NULL when absent.  Marks it used.  Values are
 * valid until config_free.  *linep gets the line it was set on. */
const char *config_get(const struct config_section *, const char *key,
		       int *linep);
/* The same, with the column where the value starts on its line (1-based),
 * so errors inside a value can point into the file. */
const char *config_get_at(const struct config_section *, const char *key,
			  int *linep, int *colp);
/* Each value of a repeated key in turn: i = 0, 1, ... until NULL. */
const char *config_get_nth(const struct config_section *, const char *key,
			   size_t i, int *linep);

/* Typed getters: 0 with *out set (def when absent), -1 with
 * "file:line: key: reason" in err. */
int config_get_int(const struct config_section *, const char *key,
		   int64_t def, int64_t min, int64_t max, int64_t *out,
		   char *err, size_t errlen);
int config_get_bool(const struct config_section *, const char *key,
		    int def, int *out, char *err, size_t errlen);
int config_get_duration(const struct config_section *, const char *key,
			int64_t def, int64_t *out, char *err, size_t errlen);
/* An octal file mode such as 0660. */
int config_get_mode(const struct config_section *, const char *key,
		    unsigned def, unsigned *out, char *err, size_t errlen);
/* Fails with "file:line: key: missing" when absent. */
const char *config_require(const struct config_section *, const char *key,
			   char *err, size_t errlen);
/* "file:line: " prefix for key's last value (or the section) into buf. */
const char *config_where(const struct config_section *, const char *key,
			 char *buf, size_t size);

/* The settings nobody asked for, in file order: start with *pos = 0;
 * 1 with *key, *linep and *secp set, 0 when there are no more. */
int config_next_unused(const struct config *, size_t *pos, const char **key,
		       int *linep, const struct config_section **secp);

/* Report the first setting nobody asked for: -1 with
 * "file:line: unknown setting 'key' in [type name]". */
int config_check_unused(const struct config *, char *err, size_t errlen);

/*
 * Split a list value at commas and/or white space, calling fn for each
 * item (not NUL-terminated).  Stops at the first non-zero return.
 */
int config_split(const char *value,
		 int (*fn)(void *arg, const char *item, size_t len), void *arg);

#endif
