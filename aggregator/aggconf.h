/*
 * aggconf.h - the aggregator's configuration: its settings table
 * (aggconf_settings, read by lib/settings.h) and the file loaded into a
 * struct aggconf, each [source NAME] with its formulas compiled and its
 * attributes numbered, ready for the run.
 *
 * aggconf_load() refuses a file with one "file:line: reason": an unknown
 * setting, a value out of range, a formula that does not compile, a
 * password file others may read.  It opens no connection and no catalog.
 * Limits: AGGCONF_SOURCES_MAX sources, AGGCONF_ADDR_ATTRS_MAX address
 * attributes and AGGCONF_EXTRAS_MAX extra fields per source.
 */
#ifndef DIRCAT_AGGCONF_H
#define DIRCAT_AGGCONF_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "catalog.h"
#include "config.h"
#include "formula.h"
#include "ldapsrc.h"
#include "settings.h"

#define AGGCONF_DEFAULT_PATH   "/etc/dircat/aggregator.conf"
#define AGGCONF_SOURCES_MAX    16	/* [source] sections */
#define AGGCONF_ADDR_ATTRS_MAX 16	/* address attributes per source */
#define AGGCONF_EXTRAS_MAX     16	/* extra fields per source */
#define AGGCONF_EXTRA_NAME_MAX 63	/* bytes of an extra field's name */

struct aggconf_extra {
	char name[AGGCONF_EXTRA_NAME_MAX + 1];
	int idx;			/* in the source's attrs */
};

/* One [source NAME]: how to read it and what to make of its entries. */
struct aggconf_source {
	struct ldapsrc_conf lc;
	struct formula_attrs *attrs;	/* every attribute asked for */
	struct formula *select;		/* NULL: every entry */
	struct formula *kind[CATALOG_KINDS];	/* person, group, mailin */
	struct formula *internal_only;	/* NULL: no entry is internal-only */
	int addr_idx[AGGCONF_ADDR_ATTRS_MAX];
	int addr_proxy[AGGCONF_ADDR_ATTRS_MAX];	/* AD proxyAddresses rules */
	size_t naddr;
	int login_idx, owner_idx;	/* -1: not configured */
	struct aggconf_extra extras[AGGCONF_EXTRAS_MAX];
	size_t nextras;
	int num;			/* its place in the file, from 0 */
	int live;			/* watch mode: enum watch_kind */
	int64_t poll_interval;		/* seconds, live = poll */
	int64_t usn_interval;		/* seconds, live = usn */
	int64_t usn_sweep_interval;	/* seconds, live = usn */
	/* As read; the ldapsrc_conf gets them as ints. */
	int64_t network_timeout, timeout, page_size;
};

struct aggconf {
	struct config *cfg;		/* holds the strings below */
	const char *path;
	const char *catalog_path;
	char catalog_id[CATALOG_ID_MAX + 1];
	const char *lock_path;		/* NULL: catalog_path + ".lock" */
	const char *report_path;	/* report_json; NULL: none */
	const char *metrics_path;	/* metrics_file; NULL: none */
	const char *local_domains;
	struct addr_domains *domains;
	int case_sensitive;		/* case_sensitive_local_part */
	unsigned addr_flags;		/* for addr_normalise */
	int64_t min_records;
	int64_t max_shrink_pct;
	int64_t history;
	int rule;			/* enum collect_rule */
	struct aggconf_source src[AGGCONF_SOURCES_MAX];
	size_t nsrc;
	int index_logins;		/* some source has owner_attribute */
	/* watch mode */
	int64_t publish_interval_ms;
	int64_t shrink_window, reconcile_interval;	/* seconds */
	const char *notify_socket;	/* the replicator's; NULL: none */
	const char *watch_status_file;	/* NULL: none */
};

/* The settings of aggregator.conf: top level, then [source NAME]. */
extern const struct settings_section aggconf_settings[];

/* Load and check path: the struct (free with aggconf_free), or NULL with
 * "file:line: reason" in err. */
struct aggconf *aggconf_load(const char *path, char *err, size_t errlen);
void aggconf_free(struct aggconf *);

#endif
