/*
 * main.c - dircat-aggregator: internal LDAP directories to the catalog.
 *
 * Reads every configured source with a paged search, selects and
 * classifies each entry with formulas, normalises its addresses, keeps
 * those in the local domains, settles addresses claimed twice, then
 * writes the catalog in one transaction - unless a safety gate refuses,
 * or anything failed, in which case the previous catalog stays.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "aggconf.h"
#include "catalog.h"
#include "collect.h"
#include "digest.h"
#include "formula.h"
#include "ldapsrc.h"
#include "log.h"
#include "report.h"
#include "util.h"
#include "version.h"
#include "watch.h"

#define AGG_SAMPLE          10	/* addresses shown per reason */

/* An extra field's name, as the configuration allows it, fits the
 * digest's. */
_Static_assert(sizeof(((struct digest_extra *)0)->name) ==
	       AGGCONF_EXTRA_NAME_MAX + 1, "extra field names");

/* Exit codes, documented in the usage text and README. */
enum {
	EXIT_OK = EX_OK,
	EXIT_USAGE = EX_USAGE,		/* 64: bad command line */
	EXIT_GATE = EX_DATAERR,		/* 65: a safety gate refused to publish */
	EXIT_LDAP = EX_UNAVAILABLE,	/* 69: a source failed: nothing written */
	EXIT_LOCAL = EX_CANTCREAT,	/* 73: catalog, report, lock file */
	EXIT_LOCKED = EX_TEMPFAIL,	/* 75: another run holds the lock */
	EXIT_CONFIG = EX_CONFIG		/* 78: configuration error */
};

struct agg {
	struct aggconf *conf;
	struct digest_env env;		/* domains and flags, for digest */
	struct digest_rules rules[AGGCONF_SOURCES_MAX];	/* per source */
	struct digest digest;		/* scratch, one entry at a time */
	char lock_path[PATH_MAX];	/* the configured one, or catalog.lock */
	struct collect *col;
	struct report rep;
	/* per-source run state */
	struct aggconf_source *cur;
	size_t failed_src;		/* index of the source that failed */
	double last_progress;
	int progress;
	/* what the run came to */
	int report_due;			/* the JSON report is written */
	int have_serial;		/* rep has the catalog's serials */
	char gate_why[512];		/* why a safety gate refused */
};

static const char agg_usage[] =
"usage: dircat-aggregator [-c FILE] [-v] [-n|--dry-run] [--force] [-t] [-V]\n"
"       dircat-aggregator [-c FILE] --watch|--once [-v] [--force]\n"
"       dircat-aggregator --settings\n"
"\n"
"Reads the LDAP sources of FILE, selects and classifies entries with the\n"
"configured formulas, and writes the catalog in one transaction.\n"
"\n"
"  -c FILE     configuration file (default " AGGCONF_DEFAULT_PATH ";\n"
"              see dircat-aggregator(8), dircat.conf(5))\n"
"  -v          print the run report on stdout (-vv: also debug logging)\n"
"  -n, --dry-run\n"
"              read everything, show what would change, write nothing\n"
"  --force     publish even when a safety gate (min_records, max_shrink)\n"
"              would refuse\n"
"  -w, --watch follow the sources live (RFC 4533 content sync, or a read\n"
"              every poll_interval) and publish each change at once, until\n"
"              SIGTERM; SIGUSR1 releases a safety gate's hold\n"
"  --once      as --watch, but exit once caught up with every source\n"
"  -t          check the configuration and formulas, then exit\n"
"  -V          print the version and exit\n"
"  --settings  list every setting of the file with its default, and exit\n"
"\n"
"Quiet on success; on failure a summary on stderr.  Exit status:\n"
"  0   catalog written, or already up to date (no new serial)\n"
"  64  usage error (command line)\n"
"  65  refused by a safety gate or by duplicates = fail; nothing written\n"
"      (--force overrides the gates)\n"
"  69  an LDAP source failed (connection, TLS, bind, search, size or\n"
"      time limit, partial result); nothing written\n"
"  73  the catalog, the report or the lock file could not be written\n"
"  75  another run holds the lock; try again later\n"
"  78  configuration error (unknown setting, bad formula, password file\n"
"      readable by others, catalog of another catalog_id)\n";

static void agg_progress(struct agg *a, int force)
{
	double now = util_now();

	if (!a->progress || (!force && now - a->last_progress < 0.5))
		return;
	a->last_progress = now;
	fprintf(stderr, "\r%s: source %s: %llu entries, %llu addresses   ",
		log_progname(), a->cur->lc.name,
		(unsigned long long)a->rep.src[a->cur->num].entries,
		(unsigned long long)a->rep.addresses_seen);
	if (force)
		fputc('\n', stderr);
}

/* An address an entry names but the catalog leaves out. */
static void agg_left_out(void *arg, int reason, const char *what, size_t len,
			 const char *dn, const char *why)
{
	struct agg *a = arg;

	report_left_out(&a->rep, reason == DIGEST_INVALID ? REPORT_INVALID
							 : REPORT_FOREIGN,
			what, len, dn, why);
}

/* Everything the aggregator does with one LDAP entry. */
static int agg_entry(void *arg, const struct ldapsrc_entry *e, char *err,
		     size_t errlen)
{
	struct agg *a = arg;
	struct aggconf_source *s = a->cur;
	struct report_source *rs = &a->rep.src[s->num];
	struct digest *d = &a->digest;
	const unsigned char *key;
	const char *fallback, *dn, *p, *end;
	size_t pos = 0, klen;
	uint32_t entry;

	rs->entries++;
	if ((rs->entries & 4095) == 0)
		agg_progress(a, 0);
	if (digest_entry(d, &a->rules[s->num], &a->env, e, agg_left_out, a,
			 err, errlen) < 0)
		return -1;
	a->rep.addresses_seen += d->addresses_seen;
	/* Every entry read with a login may be named as an owner by DN,
	 * selected or not, from any source, before or after it is read
	 * (when some source has an owner_attribute). */
	if (d->logins.len && a->conf->index_logins) {
		unsigned char dkey[LDAPSRC_DNKEY_MAX];

		klen = ldapsrc_dn_key(e->dn, strlen(e->dn), dkey, sizeof(dkey),
				      NULL, 0);
		if (klen && collect_login(a->col, dkey, klen,
					  (const char *)d->logins.data,
					  d->logins.len, err, errlen) < 0)
			return -1;
	}
	switch (d->left) {
	case DIGEST_NOT_SELECTED:
		a->rep.left_not_selected++;
		return 0;
	case DIGEST_NO_KIND:
		a->rep.left_no_kind++;
		return 0;
	case DIGEST_NO_ADDRESS:
		a->rep.left_no_address++;
		return 0;
	}
	entry = collect_entry(a->col, e->dn);
	p = (const char *)d->addrs.data;
	end = p + d->addrs.len;
	for (; p < end; p += strlen(p) + 1)
		if (collect_add(a->col, entry, s->num, d->kind, p, strlen(p),
				d->value, d->vlen, err, errlen) < 0)
			return -1;
	/* Owner DNs wait until every source is read. */
	while (digest_owner_dn(d, &pos, &key, &klen, &fallback, &dn))
		if (collect_owner_dn(a->col, entry, key, klen, fallback, dn, err,
				     errlen) < 0)
			return -1;
	rs->selected[d->kind]++;
	a->rep.selected[d->kind]++;
	return 0;
}

/* A source's digest rules, from its configuration. */
static void agg_rules(struct digest_rules *r, const struct aggconf_source *s)
{
	size_t i;
	int k;

	memset(r, 0, sizeof(*r));
	r->select = s->select;
	for (k = 0; k < CATALOG_KINDS; k++)
		r->kind[k] = s->kind[k];
	r->internal_only = s->internal_only;
	for (i = 0; i < s->naddr && i < DIGEST_ADDR_ATTRS_MAX; i++) {
		r->addr_idx[i] = s->addr_idx[i];
		r->addr_proxy[i] = s->addr_proxy[i];
	}
	r->naddr = i;
	r->login_idx = s->login_idx;
	r->owner_idx = s->owner_idx;
	for (i = 0; i < s->nextras && i < DIGEST_EXTRAS_MAX; i++) {
		util_copy_fit(r->extras[i].name, s->extras[i].name,
			      sizeof(r->extras[i].name));
		r->extras[i].idx = s->extras[i].idx;
	}
	r->nextras = i;
}

/* An owner DN that gave no login: counted, with a sample, in the report. */
static void agg_owner_unresolved(void *arg, const char *owner_dn,
				 const char *entry_dn, const char *why)
{
	struct agg *a = arg;

	report_owner_unresolved(&a->rep, owner_dn, entry_dn, why);
}

/* Show what a write would change: counts and a sample. */
static void agg_show_changes(struct catalog_txn *t)
{
	size_t i, n = catalog_txn_nchanges(t);
	int shown[3] = { 0, 0, 0 };
	const char *label[3] = { "add", "remove", "change" };

	for (i = 0; i < n; i++) {
		const char *key;
		size_t kl;
		int op, w;

		catalog_txn_change(t, i, &op, &key, &kl);
		w = op == '+' ? 0 : op == '-' ? 1 : 2;
		if (shown[w]++ < AGG_SAMPLE)
			printf("  would %-6s %.*s\n", label[w], (int)kl, key);
	}
	for (i = 0; i < 3; i++)
		if (shown[i] > AGG_SAMPLE)
			printf("  ... and %d more to %s\n", shown[i] - AGG_SAMPLE,
			       label[i]);
}

/* Add the local domains as records, for the "domains" map. */
static int agg_add_domains(struct agg *a, char *err, size_t errlen)
{
	unsigned char val[8];
	struct catalog_rec rec = { NULL, 0, CATALOG_DOMAIN, "", 0, "", 0 };
	size_t i, vlen = catalog_rec_encode(&rec, val, sizeof(val));
	uint32_t entry = collect_entry(a->col, "(local_domains)");

	for (i = 0; i < addr_domains_count(a->conf->domains); i++) {
		const char *d = addr_domains_get(a->conf->domains, i);

		/* ".example.com" goes in as it is: catalogd reads it as every
		 * subdomain of example.com (the domains map, the policy). */
		if (collect_add(a->col, entry, 0, CATALOG_DOMAIN, d, strlen(d),
				val, vlen, err, errlen) < 0)
			return -1;
	}
	return 0;
}

/* The catalog's serial into the report, when the run did not read it. */
static void agg_report_serial(struct agg *a)
{
	struct catalog_info ci;
	struct catalog *cat;
	char err[512];

	cat = catalog_open(a->conf->catalog_path, CATALOG_RDONLY, err,
			   sizeof(err));
	if (cat && catalog_info(cat, &ci, err, sizeof(err)) == 0) {
		a->rep.serial_before = ci.serial;
		a->rep.serial_after = ci.serial;
	}
	catalog_close(cat);
}

/* What an exit status means, for the failure summary. */
static const char *agg_exit_meaning(int status)
{
	switch (status) {
	case EXIT_GATE:
		return "refused: the result does not look safe to publish";
	case EXIT_LDAP:
		return "an LDAP source is unavailable or failed";
	case EXIT_LOCAL:
		return "the catalog or the report could not be written";
	case EXIT_CONFIG:
		return "configuration error";
	default:
		return "failed";
	}
}

/*
 * A failed run under cron: stderr is the mail the administrator gets, so
 * after the one-line error say how far the run got and what the DMZ
 * still receives - the catalog as it was, read back from the file.
 */
static void agg_failure_summary(const struct agg *a, int status, double t0)
{
	const struct report *r = &a->rep;
	struct catalog_info ci;
	struct catalog *cat;
	char err[512], when[32];
	size_t si;

	fprintf(stderr, "dircat-aggregator: run failed after %.2fs, exit %d "
		"(%s)\n", util_now() - t0, status, agg_exit_meaning(status));
	if (status == EXIT_GATE) {
		report_text(r, stderr);
	} else if (status == EXIT_LDAP) {
		for (si = 0; si < a->conf->nsrc && si < r->nsrc; si++)
			fprintf(stderr, "  source %s: %s\n", r->src[si].name,
				si < a->failed_src ? "read" :
				si == a->failed_src ? "FAILED" : "not read");
	}
	cat = catalog_open(a->conf->catalog_path, CATALOG_RDONLY, err, sizeof(err));
	if (!cat || catalog_info(cat, &ci, err, sizeof(err)) < 0 ||
	    ci.serial == 0) {
		fprintf(stderr, "  no catalog published yet (%s)\n",
			a->conf->catalog_path);
	} else {
		time_t now = time(NULL);

		fprintf(stderr, "  still published: catalog %s serial %llu, "
			"%llu addresses, made %s (%llds ago)\n", ci.id,
			(unsigned long long)ci.serial,
			(unsigned long long)(ci.records -
					     ci.count[CATALOG_DOMAIN]),
			util_time_iso((time_t)ci.created, when, sizeof(when)),
			(long long)(now - ci.created));
	}
	catalog_close(cat);
}

/* What the command line asks for. */
struct agg_opts {
	const char *cfgpath;
	int dry, force, check, verbose;
	int watch, once;
};

/* Read the command line into o: -1 to go on, else the exit status. */
static int agg_options(int argc, char **argv, struct agg_opts *o)
{
	int i;

	memset(o, 0, sizeof(*o));
	o->cfgpath = AGGCONF_DEFAULT_PATH;
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (!strcmp(arg, "-c") && i + 1 < argc)
			o->cfgpath = argv[++i];
		else if (arg[0] == '-' && arg[1] == 'v' &&
			 strspn(arg + 1, "v") == strlen(arg + 1))
			o->verbose += (int)strlen(arg + 1);	/* -v, -vv, ... */
		else if (!strcmp(arg, "-n") || !strcmp(arg, "--dry-run"))
			o->dry = 1;
		else if (!strcmp(arg, "--force"))
			o->force = 1;
		else if (!strcmp(arg, "-w") || !strcmp(arg, "--watch"))
			o->watch = 1;
		else if (!strcmp(arg, "--once"))
			o->watch = o->once = 1;
		else if (!strcmp(arg, "-t"))
			o->check = 1;
		else if (!strcmp(arg, "-V") || !strcmp(arg, "--version")) {
			version_print(stdout, "dircat-aggregator");
			ldapsrc_version_print(stdout);
			return EXIT_OK;
		} else if (!strcmp(arg, "--settings")) {
			settings_print(stdout, aggconf_settings);
			return EXIT_OK;
		} else if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
			fputs(agg_usage, stdout);
			return EXIT_OK;
		} else {
			fputs(agg_usage, stderr);
			return EXIT_USAGE;
		}
	}
	return -1;
}

/* Take the run lock: the configured file or the catalog's path with
 * ".lock".  The descriptor, or -1 with *status set. */
static int agg_lock(struct agg *a, int *status)
{
	char err[1024];
	int fd;

	if (a->conf->lock_path) {
		if (util_strlcpy(a->lock_path, a->conf->lock_path,
				 sizeof(a->lock_path)) >= sizeof(a->lock_path)) {
			log_error("lock: path longer than %zu bytes",
				  sizeof(a->lock_path) - 1);
			*status = EXIT_LOCAL;
			return -1;
		}
	} else if ((size_t)snprintf(a->lock_path, sizeof(a->lock_path),
				    "%s.lock", a->conf->catalog_path) >=
		   sizeof(a->lock_path)) {
		log_error("%s.lock: path too long", a->conf->catalog_path);
		*status = EXIT_LOCAL;
		return -1;
	}
	fd = util_lock(a->lock_path, err, sizeof(err));
	if (fd < 0) {
		log_error("%s", err);
		*status = fd == -2 ? EXIT_LOCKED : EXIT_LOCAL;
		return -1;
	}
	return fd;
}

/* Read every source into the collection.  EXIT_OK, or EXIT_LDAP with
 * the error in the report (which is then due). */
static int agg_read_sources(struct agg *a)
{
	char err[1024];
	size_t si;

	for (si = 0; si < a->conf->nsrc; si++) {
		struct aggconf_source *s = &a->conf->src[si];
		struct ldapsrc_stats st;

		a->cur = s;
		a->failed_src = si;
		if (ldapsrc_search(&s->lc, s->attrs, agg_entry, a, &st, err,
				   sizeof(err)) < 0) {
			if (a->progress)
				fputc('\n', stderr);
			log_error("%s; nothing written, the catalog stays at its "
				  "previous serial", err);
			a->rep.error = xstrdup(err);
			a->report_due = 1;
			return EXIT_LDAP;
		}
		a->rep.src[si].seconds = st.seconds;
		a->rep.src[si].pages = st.pages;
		a->rep.src[si].references = st.references;
		agg_progress(a, 1);
	}
	return EXIT_OK;
}

/* Every source is read: resolve owner DNs, add the domain records and
 * settle the addresses claimed twice.  EXIT_OK or the exit status. */
static int agg_settle(struct agg *a)
{
	struct collect_owner_stats os;
	char err[1024];

	if (collect_resolve_owners(a->col, agg_owner_unresolved, a, err,
				   sizeof(err)) < 0) {
		log_error("%s; nothing written", err);
		return EXIT_LOCAL;
	}
	collect_owner_stats(a->col, &os);
	report_owner_dns(&a->rep, os.dns, os.resolved, os.first_rdn,
			 os.unresolved);
	if (agg_add_domains(a, err, sizeof(err)) < 0 ||
	    collect_finish(a->col, a->conf->rule, err, sizeof(err)) < 0) {
		log_error("%s; nothing written", err);
		return EXIT_GATE;
	}
	a->rep.conflicts = collect_conflicts(a->col);
	return EXIT_OK;
}

/* The safety gates on what the write would publish: NULL when it looks
 * safe, else why not (in a->gate_why). */
static const char *agg_gate(struct agg *a, const struct catalog_diff *d,
			    const struct catalog_info *before)
{
	uint64_t newn = d->records - d->count[CATALOG_DOMAIN];
	uint64_t oldn = before->records - before->count[CATALOG_DOMAIN];

	if ((int64_t)newn < a->conf->min_records) {
		snprintf(a->gate_why, sizeof(a->gate_why),
			 "%llu addresses is fewer than min_records = %lld",
			 (unsigned long long)newn,
			 (long long)a->conf->min_records);
		return a->gate_why;
	}
	if (oldn > 0 && newn < oldn &&
	    (oldn - newn) * 100 > oldn * (uint64_t)a->conf->max_shrink_pct) {
		snprintf(a->gate_why, sizeof(a->gate_why),
			 "the catalog would shrink from %llu to %llu addresses "
			 "(%.1f%%), more than max_shrink = %lld%%",
			 (unsigned long long)oldn, (unsigned long long)newn,
			 100.0 * (double)(oldn - newn) / (double)oldn,
			 (long long)a->conf->max_shrink_pct);
		return a->gate_why;
	}
	return NULL;
}

/* -n: what a real run would write. */
static void agg_dry_run(struct agg *a, struct catalog_txn *t,
			const struct catalog_diff *d,
			const struct catalog_info *before, double t0)
{
	a->rep.seconds = util_now() - t0;
	report_text(&a->rep, stdout);
	if (a->rep.refused)
		printf("a real run would be refused: %s\n", a->rep.refused);
	if (catalog_txn_nchanges(t) == 0 && before->serial > 0)
		printf("dry run: nothing would change (serial %llu)\n",
		       (unsigned long long)before->serial);
	else
		printf("dry run: would write serial %llu: +%llu -%llu ~%llu\n",
		       (unsigned long long)before->serial + 1,
		       (unsigned long long)d->added,
		       (unsigned long long)d->removed,
		       (unsigned long long)d->changed);
	agg_show_changes(t);
}

/* Commit t, unless nothing changed (then no new serial).  EXIT_OK, or
 * EXIT_LOCAL when the commit failed.  t is gone either way. */
static int agg_commit(struct agg *a, struct catalog_txn *t,
		      const struct catalog_diff *d,
		      const struct catalog_info *before)
{
	char err[1024];
	uint64_t s;

	if (catalog_txn_nchanges(t) == 0 && before->serial > 0) {
		catalog_txn_abort(t);	/* no new serial, nothing to push */
		return EXIT_OK;
	}
	s = catalog_txn_commit(t, err, sizeof(err));
	if (!s) {
		log_error("%s; the catalog stays at serial %llu", err,
			  (unsigned long long)before->serial);
		return EXIT_LOCAL;
	}
	a->rep.serial_after = s;
	log_info("catalog %s serial %llu: %llu addresses (+%llu -%llu ~%llu)",
		 a->conf->catalog_id, (unsigned long long)s,
		 (unsigned long long)(d->records - d->count[CATALOG_DOMAIN]),
		 (unsigned long long)d->added, (unsigned long long)d->removed,
		 (unsigned long long)d->changed);
	return EXIT_OK;
}

/*
 * Open the catalog and replace its records with the collection in one
 * write transaction: *tp gets it, *before what the catalog held, *d the
 * difference.  EXIT_OK, or the exit status (the report is due when the
 * catalog could not be opened).
 */
static int agg_compare(struct agg *a, struct catalog **catp,
		       struct catalog_txn **tp, struct catalog_info *before,
		       struct catalog_diff *d)
{
	char err[1024];

	*catp = catalog_open(a->conf->catalog_path, 0, err, sizeof(err));
	if (!*catp) {
		log_error("%s", err);
		a->rep.error = xstrdup(err);
		a->report_due = 1;
		return EXIT_LOCAL;
	}
	if (catalog_info(*catp, before, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return EXIT_LOCAL;
	}
	if (before->id[0] && strcmp(before->id, a->conf->catalog_id)) {
		log_error("%s holds catalog '%s', not '%s' (catalog_id); "
			  "nothing written", a->conf->catalog_path, before->id,
			  a->conf->catalog_id);
		return EXIT_CONFIG;
	}
	*tp = catalog_write_begin(*catp, err, sizeof(err));
	if (!*tp) {
		log_error("%s", err);
		return EXIT_LOCAL;
	}
	catalog_txn_set_id(*tp, a->conf->catalog_id);
	catalog_txn_set_history(*tp, (unsigned)a->conf->history);
	/* A batch run rewrites the records the watch mode kept track of:
	 * its next start reads everything again. */
	if (catalog_txn_meta_del_prefix(*tp, "live.") < 0) {
		log_error("%s: cannot clear the watch mode's state",
			  a->conf->catalog_path);
		return EXIT_LOCAL;
	}
	if (catalog_txn_replace_all(*tp, collect_next, a->col, err,
				    sizeof(err)) < 0) {
		log_error("%s; nothing written", err);
		return EXIT_LOCAL;
	}
	catalog_txn_diff(*tp, d);
	a->rep.serial_before = before->serial;
	a->rep.serial_after = before->serial;
	a->have_serial = 1;
	report_diff(&a->rep, d, before->records - before->count[CATALOG_DOMAIN]);
	report_conflicts(&a->rep, a->col);
	return EXIT_OK;
}

/* Write the catalog: compare, apply the gates, then publish (or show,
 * for -n).  The exit status. */
static int agg_write(struct agg *a, const struct agg_opts *o, double t0)
{
	struct catalog *cat = NULL;
	struct catalog_txn *t = NULL;
	struct catalog_info before;
	struct catalog_diff d;
	const char *gate;
	int status = agg_compare(a, &cat, &t, &before, &d);

	if (status != EXIT_OK)
		goto out;
	gate = agg_gate(a, &d, &before);
	if (gate && !o->force && !o->dry) {
		a->rep.refused = gate;
		log_error("refused to publish: %s; nothing written (--force "
			  "overrides)", gate);
		a->report_due = 1;
		status = EXIT_GATE;
		goto out;
	}
	if (gate && o->force) {
		log_warn("publishing despite: %s (--force)", gate);
		a->rep.forced = gate;
	}
	if (o->dry) {
		a->rep.refused = gate;
		agg_dry_run(a, t, &d, &before, t0);
		goto out;			/* no report: nothing ran */
	}
	status = agg_commit(a, t, &d, &before);
	t = NULL;
	a->report_due = status == EXIT_OK;
out:
	if (t)
		catalog_txn_abort(t);
	catalog_close(cat);
	return status;
}

/*
 * After a run that held the lock: the JSON report when due, the metrics
 * file (not for -n), the failure summary for cron.  The exit status, made
 * EXIT_LOCAL when a file could not be written after a success.
 */
static int agg_finish(struct agg *a, const struct agg_opts *o, int status,
		      double t0)
{
	char err[1024];

	if (a->report_due) {
		/* A run that stopped before it read the catalog still
		 * reports the serial the catalog is at, as the metrics file
		 * does. */
		if (!a->have_serial)
			agg_report_serial(a);
		a->rep.seconds = util_now() - t0;
		if (o->verbose)
			report_text(&a->rep, stdout);
		if (a->conf->report_path &&
		    report_json_write(&a->rep, a->conf->report_path, err,
				      sizeof(err)) < 0) {
			log_error("report: %s", err);
			if (status == EXIT_OK)
				status = EXIT_LOCAL;
		}
	}
	if (a->conf->metrics_path && !o->dry &&
	    report_metrics_write(&a->rep, a->conf->metrics_path,
				 a->conf->catalog_path, status,
				 status == EXIT_LDAP ? a->failed_src
						     : a->conf->nsrc,
				 util_now() - t0, err, sizeof(err)) < 0) {
		log_error("metrics_file: %s", err);
		if (status == EXIT_OK)
			status = EXIT_LOCAL;
	}
	if (!o->verbose && status != EXIT_OK && status != EXIT_CONFIG)
		agg_failure_summary(a, status, t0);
	return status;
}

/* One run under the lock: read, settle, write. */
static int agg_run(struct agg *a, const struct agg_opts *o, double t0)
{
	size_t si;
	int status;

	report_init(&a->rep, a->conf->catalog_id, a->conf->nsrc, o->dry);
	for (si = 0; si < a->conf->nsrc; si++)
		a->rep.src[si].name = a->conf->src[si].lc.name;
	a->col = collect_new();
	/* Long runs show progress on a terminal, never under cron. */
	a->progress = isatty(STDERR_FILENO);
	if ((status = agg_read_sources(a)) != EXIT_OK ||
	    (status = agg_settle(a)) != EXIT_OK)
		return status;
	return agg_write(a, o, t0);
}

/* The watch mode's reconcile: a batch run's records, nothing written. */
static int agg_full_read(void *arg, struct collect **out, char *err,
			 size_t errlen)
{
	struct agg *a = arg;
	size_t si;
	int status;

	report_free(&a->rep);
	report_init(&a->rep, a->conf->catalog_id, a->conf->nsrc, 1);
	for (si = 0; si < a->conf->nsrc; si++)
		a->rep.src[si].name = a->conf->src[si].lc.name;
	collect_free(a->col);
	a->col = collect_new();
	a->progress = 0;
	if ((status = agg_read_sources(a)) == EXIT_OK)
		status = agg_settle(a);
	if (status != EXIT_OK) {
		util_err(err, errlen, "%s", a->rep.error ? a->rep.error :
			 "a full read failed");
		return -1;
	}
	*out = a->col;
	a->col = NULL;
	return 0;
}

/* The watch mode (watch.h) over this configuration. */
static int agg_watch(struct agg *a, const struct agg_opts *o)
{
	const struct aggconf *c = a->conf;
	struct watch_source *ws = xcalloc(c->nsrc, sizeof(*ws));
	struct watch_conf wc;
	char err[1024];
	size_t si;
	int status;

	for (si = 0; si < c->nsrc; si++) {
		ws[si].lc = &c->src[si].lc;
		ws[si].attrs = c->src[si].attrs;
		ws[si].rules = &a->rules[si];
		ws[si].kind = c->src[si].live;
		ws[si].poll_interval = (double)c->src[si].poll_interval;
		ws[si].usn_interval = (double)c->src[si].usn_interval;
		ws[si].usn_sweep_interval =
			(double)c->src[si].usn_sweep_interval;
	}
	memset(&wc, 0, sizeof(wc));
	wc.catalog_path = c->catalog_path;
	wc.catalog_id = c->catalog_id;
	wc.config_path = o->cfgpath;
	wc.env = &a->env;
	wc.rule = c->rule;
	wc.index_logins = c->index_logins;
	wc.history = (unsigned)c->history;
	wc.src = ws;
	wc.nsrc = c->nsrc;
	wc.publish_interval = (double)c->publish_interval_ms / 1000.0;
	wc.min_records = c->min_records;
	wc.max_shrink_pct = c->max_shrink_pct;
	wc.shrink_window = (double)c->shrink_window;
	wc.reconcile_interval = (double)c->reconcile_interval;
	wc.notify_socket = c->notify_socket;
	wc.status_file = c->watch_status_file;
	wc.metrics_path = c->metrics_path;
	wc.force = o->force;
	wc.once = o->once;
	wc.full_read = agg_full_read;
	wc.full_read_arg = a;
	/* A daemon says what it does: connections, refreshes. */
	log_set_verbose(o->verbose > 1 ? 2 : 1);
	status = watch_run(&wc, err, sizeof(err));
	if (status != 0)
		log_error("%s", err);
	free(ws);
	return status;
}

int main(int argc, char **argv)
{
	static struct agg agg;
	struct agg *a = &agg;
	struct agg_opts o;
	char err[1024];
	double t0 = util_now();
	size_t si;
	int status, lockfd;

	log_init("dircat-aggregator",
		 isatty(STDERR_FILENO) ? LOG_DEST_STDERR : LOG_DEST_BOTH);
	if ((status = agg_options(argc, argv, &o)) >= 0)
		return status;
	log_set_verbose(o.verbose > 1 ? 2 : 0);
	if (!(a->conf = aggconf_load(o.cfgpath, err, sizeof(err)))) {
		log_error("%s", err);
		return EXIT_CONFIG;
	}
	if (o.check) {
		printf("%s: configuration OK: %zu source(s), %zu local "
		       "domain(s)\n", o.cfgpath, a->conf->nsrc,
		       addr_domains_count(a->conf->domains));
		aggconf_free(a->conf);
		return EXIT_OK;
	}
	signal(SIGPIPE, SIG_IGN);
	a->env.domains = a->conf->domains;
	a->env.addr_flags = a->conf->addr_flags;
	for (si = 0; si < a->conf->nsrc; si++)
		agg_rules(&a->rules[si], &a->conf->src[si]);
	digest_init(&a->digest);
	lockfd = agg_lock(a, &status);
	if (lockfd >= 0 && o.watch) {
		status = agg_watch(a, &o);
		close(lockfd);
	} else if (lockfd >= 0) {
		status = agg_run(a, &o, t0);
		status = agg_finish(a, &o, status, t0);
		close(lockfd);
	}
	digest_free(&a->digest);
	collect_free(a->col);
	report_free(&a->rep);
	aggconf_free(a->conf);
	return status;
}
