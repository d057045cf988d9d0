/*
 * fuzz_config.c - libFuzzer target for the configuration files: lib/config.c
 * (the format every program reads) and the programs' own loaders on top
 * of it (lib/settings.c with the aggregator's, the replicator's and
 * catalogd's tables).  A file an administrator or a package writes;
 * mistakes in it must be reported, never crash a daemon.
 *
 * The first input byte picks the reader: 0-3 the format's own API, 4 the
 * aggregator's loader, 5 the replicator's, 6 catalogd's, 7 dircat-fetch's
 * (each given the
 * file as /proc/self/fd/N, a memory file: no disk, nothing to remove; a
 * refusal must name it).  The rest is the configuration file.  When it is
 * refused by the format's API, the message
 * must start with "fuzz.conf:" (and a line number within the file when it
 * has one).  When it parses, every section is walked and a fixed list of
 * keys (the programs' own and a few more; the seed corpus and
 * fuzz_config.dict supply the rest) is read with every getter: each
 * answer must be a value of the file or the default, every message must
 * name fuzz.conf and a line, and list splitting must yield items without
 * separators.  Finally every unused setting is reported, one at a time,
 * until none is left.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/mman.h>
#include <unistd.h>

#include "aggconf.h"	/* -Iaggregator -Icatalogd -Ireplicator */
#include "conf.h"
#include "config.h"
#include "fetchconf.h"	/* -Ifetcher */
#include "repconf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_NAME "fuzz.conf"
#define FUZZ_SECTIONS 8	/* sections whose keys are all read */

static const char *const fuzz_keys[] = {
	"catalog", "inbox", "uri", "base", "select", "path", "protocol",
	"mode", "group", "timeout", "lifetime", "retries", "page_size",
	"local_domains", "case_sensitive", "stale_policy", "url", "a", "x",
	NULL
};

/* A message must name the file, then a line no further than the last. */
static void fuzz_message(const char *err, size_t errsize, int lines)
{
	const char *p;
	long line;

	if (!memchr(err, '\0', errsize) || strncmp(err, FUZZ_NAME ":", 10))
		abort();
	p = err + 10;
	if (!isdigit((unsigned char)*p))
		return;	/* "fuzz.conf: larger than ..." */
	line = strtol(p, NULL, 10);
	if (line < 0 || line > lines)
		abort();
}

/* Items of a list: non-empty, without separators, inside the value. */
static int fuzz_item(void *arg, const char *item, size_t len)
{
	const char *v = arg;
	size_t i;

	if (len == 0 || item < v || item + len > v + strlen(v))
		abort();
	for (i = 0; i < len; i++)
		if (item[i] == ',' || isspace((unsigned char)item[i]))
			abort();
	return 0;
}

/* Every getter on key in sec. */
static void fuzz_key(const struct config_section *sec, const char *key,
		     int lines)
{
	char err[512], where[512];
	const char *v, *nth;
	int64_t n;
	unsigned m;
	int line = -1, col = -1, b;
	size_t i;

	v = config_get_at(sec, key, &line, &col);
	if (v) {
		if (line < 1 || line > lines || col < 1 ||
		    strlen(v) > CONFIG_VALUE_MAX)
			abort();
		config_split(v, fuzz_item, (void *)v);
	}
	/* The last of the repeated values is the one config_get gives. */
	for (i = 0; (nth = config_get_nth(sec, key, i, NULL)) != NULL; i++)
		if (i > CONFIG_ENTRY_MAX)
			abort();
	if ((i == 0) != (v == NULL) ||
	    (i && strcmp(config_get_nth(sec, key, i - 1, NULL), v)))
		abort();
	memset(err, 'Z', sizeof(err));
	if (config_get_int(sec, key, 7, -5, 1000, &n, err, sizeof(err)) < 0)
		fuzz_message(err, sizeof(err), lines);
	else if ((v && (n < -5 || n > 1000)) || (!v && n != 7))
		abort();
	memset(err, 'Z', sizeof(err));
	if (config_get_bool(sec, key, 1, &b, err, sizeof(err)) < 0)
		fuzz_message(err, sizeof(err), lines);
	memset(err, 'Z', sizeof(err));
	if (config_get_duration(sec, key, 60, &n, err, sizeof(err)) < 0)
		fuzz_message(err, sizeof(err), lines);
	else if (n < 0)
		abort();
	memset(err, 'Z', sizeof(err));
	if (config_get_mode(sec, key, 0640, &m, err, sizeof(err)) < 0)
		fuzz_message(err, sizeof(err), lines);
	else if (m > 07777)
		abort();
	memset(err, 'Z', sizeof(err));
	if (!config_require(sec, key, err, sizeof(err)))
		fuzz_message(err, sizeof(err), lines);
	config_where(sec, key, where, sizeof(where));
	fuzz_message(where, sizeof(where), lines);
}

/* The key named in "...unknown setting 'KEY'...", or NULL. */
static const char *fuzz_unused_key(const char *err, char *key, size_t size)
{
	const char *s = strstr(err, "unknown setting '"), *e;

	if (!s)
		return NULL;
	s += 17;
	e = strchr(s, '\'');
	if (!e || (size_t)(e - s) >= size)
		return NULL;
	memcpy(key, s, (size_t)(e - s));
	key[e - s] = '\0';
	return key;
}

static int fuzz_fd = -1;
static char fuzz_path[64];

/* A program's loader on the file: refused with a message naming it, or
 * loaded and freed. */
static void fuzz_program(int which, const uint8_t *data, size_t size)
{
	char err[1024];

	if (fuzz_fd < 0) {
		fuzz_fd = memfd_create("fuzz.conf", MFD_CLOEXEC);
		if (fuzz_fd < 0)
			abort();
		snprintf(fuzz_path, sizeof(fuzz_path), "/proc/self/fd/%d",
			 fuzz_fd);
	}
	if (ftruncate(fuzz_fd, 0) < 0 ||
	    (size && pwrite(fuzz_fd, data, size, 0) != (ssize_t)size))
		abort();
	memset(err, 'Z', sizeof(err));
	if (which == 4) {
		struct aggconf *c = aggconf_load(fuzz_path, err, sizeof(err));

		if (c) {
			aggconf_free(c);
			return;
		}
	} else if (which == 5) {
		struct repconf *c = repconf_load(fuzz_path, err, sizeof(err));

		if (c) {
			repconf_free(c);
			return;
		}
	} else if (which == 7) {
		struct fetchconf *c = fetchconf_load(fuzz_path, err,
						     sizeof(err));

		if (c) {
			fetchconf_free(c);
			return;
		}
	} else {
		struct conf *c = conf_load(fuzz_path, err, sizeof(err));

		if (c) {
			conf_free(c);
			return;
		}
	}
	if (!memchr(err, '\0', sizeof(err)) || !strstr(err, fuzz_path))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct config_section *sec;
	struct config *cfg;
	char err[512], key[80];
	int lines = 1;
	size_t i, rounds = 0, nsec;

	if (size < 1)
		return 0;
	if (data[0] >= 4 && data[0] <= 7) {
		fuzz_program(data[0], data + 1, size - 1);
		return 0;
	}
	data++;
	size--;
	for (i = 0; i < size; i++)
		lines += data[i] == '\n';
	memset(err, 'Z', sizeof(err));
	cfg = config_parse(FUZZ_NAME, (const char *)data, size, err,
			   sizeof(err));
	if (!cfg) {
		fuzz_message(err, sizeof(err), lines);
		return 0;
	}
	if (strcmp(config_path(cfg), FUZZ_NAME))
		abort();
	sec = config_top(cfg);
	if (!sec || config_section_line(sec) != 0)
		abort();
	for (nsec = 0; sec; sec = config_next(cfg, sec, NULL), nsec++) {
		const char *type = config_section_type(sec);

		if (sec != config_top(cfg) &&
		    (!type[0] || !config_section_name(sec)[0] ||
		     config_section_line(sec) < 1 ||
		     config_section_line(sec) > lines ||
		     config_next(cfg, NULL, type) == NULL))
			abort();
		/* Every getter, in the first few sections: each getter looks
		 * at every setting, and more sections find nothing new. */
		for (i = 0; fuzz_keys[i] && nsec < FUZZ_SECTIONS; i++)
			fuzz_key(sec, fuzz_keys[i], lines);
	}
	/* Each report names a setting; reading it (in every section, as the
	 * message does not say which) makes the next one come up. */
	memset(err, 'Z', sizeof(err));
	while (config_check_unused(cfg, err, sizeof(err)) < 0) {
		fuzz_message(err, sizeof(err), lines);
		if (!fuzz_unused_key(err, key, sizeof(key)) ||
		    ++rounds > CONFIG_ENTRY_MAX)
			abort();
		for (sec = config_top(cfg); sec; sec = config_next(cfg, sec,
								  NULL))
			(void)config_get(sec, key, NULL);
		memset(err, 'Z', sizeof(err));
	}
	config_free(cfg);
	return 0;
}
