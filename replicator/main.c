/*
 * main.c - dircat-replicator: sign the catalog's current serial and bring
 * every configured DMZ node to it (see push.h for how, repconf.h for the
 * settings, man/dircat-replicator.8 for the administrator's view).
 *
 * Order: configuration, signing key, lock, catalog (one read transaction
 * for the whole run, so every node gets the same serial), then the push,
 * the report, and the spool cleanup.  Quiet on success unless -v; every
 * target that fails says so in one line on stderr (and syslog under cron).
 */
#include <errno.h>
#include <poll.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "catalog.h"
#include "log.h"
#include "nodestate.h"
#include "publish.h"
#include "push.h"
#include "repconf.h"
#include "report.h"
#include "sign.h"
#include "snapwrite.h"
#include "spool.h"
#include "util.h"
#include "version.h"
#include "xfer.h"

#define REPLICATOR_CONFIG_DEFAULT REPCONF_DEFAULT_PATH
#define REPLICATOR_ONLY_MAX 64		/* -t options */
#define REPLICATOR_NOTIFY_MAX 128	/* bytes of a notification */
#define REPLICATOR_WATCH_RETRY 5	/* seconds: a failed run again */

/* Exit statuses (sysexits.h): also in usage() and the man page; 64, 73,
 * 75 and 78 mean what they mean for dircat-aggregator, and 69 means a
 * remote party failed for both: a source there, a node here. */
#define REPLICATOR_EXIT_OK      EX_OK
#define REPLICATOR_EXIT_USAGE   EX_USAGE	/* 64: command line */
#define REPLICATOR_EXIT_NOINPUT EX_NOINPUT	/* 66: no catalog to send */
#define REPLICATOR_EXIT_TARGETS EX_UNAVAILABLE	/* 69: a target not current */
#define REPLICATOR_EXIT_LOCAL   EX_CANTCREAT	/* 73: spool, state, report */
#define REPLICATOR_EXIT_LOCKED  EX_TEMPFAIL	/* 75: lock held elsewhere */
#define REPLICATOR_EXIT_CONFIG  EX_CONFIG	/* 78: configuration, key */

static void replicator_usage(FILE *f)
{
	fprintf(f,
"usage: dircat-replicator [-c FILE] [-v]... [-n] [-C] [-t TARGET]... [-w]\n"
"       dircat-replicator [-c FILE] [-v]... [-n] --new-epoch\n"
"       dircat-replicator [-c FILE] --fleet\n"
"       dircat-replicator --settings\n"
"\n"
"Sign the catalog's current serial and send it to every configured node:\n"
"nothing when a node has it, a delta when the node's serial is in the\n"
"change history, else a full snapshot.  [publish NAME] destinations (an\n"
"HTTP origin or an S3 store) get the snapshots and a signed manifest,\n"
"for nodes to fetch.\n"
"\n"
"  -c FILE    configuration (default " REPLICATOR_CONFIG_DEFAULT ")\n"
"  -v         print the report on stdout; -vv progress, -vvv the timing\n"
"             of each request, -vvvv libcurl's own conversation\n"
"  -n         dry run: read each node's status, say what would be sent,\n"
"             send and write nothing\n"
"  -C         check the configuration and the signing key, then exit\n"
"  -t NAME    serve only this target or publish destination (repeatable)\n"
"  -w         watch: run at once, then on each serial the aggregator\n"
"             announces on notify_socket (and every watch_interval),\n"
"             keeping connections to the nodes open, until SIGTERM\n"
"  -V         print the version and exit\n"
"  -h         this help\n"
"  --settings list every setting of the file with its default, and exit\n"
"  --fleet    one table of every node: epoch, serial, when checked, last\n"
"             error (pushed nodes as last seen; publish destinations as\n"
"             their manifests say); exit 0 when all are current, else 69\n"
"  --new-epoch  start a new epoch above any the nodes or the published\n"
"             manifests have (logged), then run: every node takes this\n"
"             catalog in full, even with a lower serial; for a rebuilt or\n"
"             restored internal host or a standby taking over\n"
"\n"
"Quiet on success; on failure a summary on stderr.  Exit status:\n"
"  0   every target has the catalog's current serial (or was just sent it)\n"
"  64  usage error (command line)\n"
"  66  no catalog to send: missing, unreadable or empty (run the\n"
"      aggregator first)\n"
"  69  partial push: at least one target is not current (each named on\n"
"      stderr); the others are, and the next run retries\n"
"  73  local failure: spool or state directory, lock or report file\n"
"  75  another run holds the lock; try again later\n"
"  78  configuration error, or the signing key unreadable or readable\n"
"      by others\n");
}

/* The catalog opened for writing and a write transaction begun on it:
 * the transaction (*catp to close once it ended), or NULL with err. */
static struct catalog_txn *replicator_write_begin(const struct repconf *conf,
						  struct catalog **catp,
						  char *err, size_t errlen)
{
	struct catalog_txn *txn;

	*catp = catalog_open(conf->catalog, 0, err, errlen);
	if (!*catp)
		return NULL;
	txn = catalog_write_begin(*catp, err, errlen);
	if (!txn) {
		catalog_close(*catp);
		*catp = NULL;
	}
	return txn;
}

/*
 * Nodes hold snapshots that expire `lifetime` after they were made, and
 * refuse a serial they already have.  When the catalog has not changed
 * for refresh_after, give it a new serial with the same records (an empty
 * change in its history), so that every node receives a small delta with
 * a fresh expiry instead of going stale while nothing changes.  0 done or
 * not needed, -1 with err.
 */
static int replicator_refresh(const struct repconf *conf, char *err,
			      size_t errlen)
{
	struct catalog *cat;
	struct catalog_txn *txn;
	struct catalog_info info;
	int64_t now = (int64_t)time(NULL);
	uint64_t serial;

	/* A missing catalog is reported by the run itself. */
	cat = catalog_open(conf->catalog, CATALOG_RDONLY, err, errlen);
	if (!cat)
		return 0;
	if (catalog_info(cat, &info, err, errlen) < 0) {
		catalog_close(cat);
		return -1;
	}
	catalog_close(cat);
	if (info.serial == 0 || now - info.created < conf->refresh_after)
		return 0;
	txn = replicator_write_begin(conf, &cat, err, errlen);
	if (!txn)
		return -1;
	/* Another writer may have moved on since we looked. */
	if (catalog_txn_serial_before(txn) != info.serial) {
		catalog_txn_abort(txn);
		catalog_close(cat);
		return 0;
	}
	catalog_txn_set_serial(txn, info.serial + 1, now);
	serial = catalog_txn_commit(txn, err, errlen);
	catalog_close(cat);
	if (!serial)
		return -1;
	log_info("catalog unchanged for %llds: serial %llu made with the same "
		 "records, so that nodes get a fresh expiry",
		 (long long)(now - info.created), (unsigned long long)serial);
	return 0;
}

/*
 * --new-epoch: start a new epoch above any the fleet has seen (the nodes'
 * status, the published manifests), with a new serial of the same
 * records, so that every node takes this catalog in full even when its
 * serial is lower than theirs.  An explicit, logged act: the way back
 * for a rebuilt or restored internal host, or a standby taking over.
 * 0 done (or shown, in a dry run), -1 with err.
 */
static int replicator_new_epoch(const struct repconf *conf, int dry_run,
				char *err, size_t errlen)
{
	struct catalog *cat;
	struct catalog_txn *txn;
	struct catalog_info info;
	struct push_params pp;
	struct push_result *res;
	uint64_t seen = 0, epoch, serial;
	size_t i, unread = 0;
	int64_t now = (int64_t)time(NULL);
	const char *id;

	cat = catalog_open(conf->catalog, CATALOG_RDONLY, err, errlen);
	if (!cat)
		return -1;
	if (catalog_info(cat, &info, err, errlen) < 0) {
		catalog_close(cat);
		return -1;
	}
	catalog_close(cat);
	if (info.serial == 0) {
		util_err(err, errlen, "%s: the catalog is empty: run the "
			 "aggregator first", conf->catalog);
		return -1;
	}
	id = conf->catalog_id[0] ? conf->catalog_id : info.id;
	/* What every node says, as a dry run would read it. */
	memset(&pp, 0, sizeof(pp));
	pp.conf = conf;
	pp.serial = info.serial;
	pp.epoch = info.epoch;
	pp.history_oldest = info.history_oldest;
	pp.catalog_id = id;
	pp.dry_run = 1;
	res = xcalloc(conf->ntargets, sizeof(*res));
	if (conf->ntargets > 0 && push_run(&pp, res, err, errlen) < 0) {
		free(res);
		return -1;
	}
	for (i = 0; i < conf->ntargets; i++) {
		if (!res[i].node_known)
			unread++;
		else if (res[i].node_epoch > seen)
			seen = res[i].node_epoch;
	}
	free(res);
	publish_probe_epoch(conf, id, &seen, &unread);
	epoch = (seen > info.epoch ? seen : info.epoch) + 1;
	if (unread)
		log_warn("--new-epoch: %zu node%s or destination%s could not "
			 "be read; should one be in epoch %llu or later, it "
			 "will refuse this catalog: run --new-epoch again then",
			 unread, unread == 1 ? "" : "s", unread == 1 ? "" : "s",
			 (unsigned long long)epoch);
	if (dry_run) {
		printf("would start epoch %llu (the catalog's is %llu, the "
		       "highest seen in the fleet %llu)\n",
		       (unsigned long long)epoch,
		       (unsigned long long)info.epoch,
		       (unsigned long long)seen);
		return 0;
	}
	txn = replicator_write_begin(conf, &cat, err, errlen);
	if (!txn)
		return -1;
	catalog_txn_set_epoch(txn, epoch);
	catalog_txn_set_serial(txn, catalog_txn_serial_before(txn) + 1, now);
	serial = catalog_txn_commit(txn, err, errlen);
	catalog_close(cat);
	if (!serial)
		return -1;
	log_warn("catalog %s: epoch %llu started by --new-epoch (was %llu; "
		 "highest seen in the fleet: %llu), serial %llu: every node "
		 "now takes this catalog in full and refuses the snapshots of "
		 "earlier epochs", id, (unsigned long long)epoch,
		 (unsigned long long)info.epoch, (unsigned long long)seen,
		 (unsigned long long)serial);
	return 0;
}

/*
 * --fleet: one table of every node this host serves: the pushed ones
 * from their state files (what each reported at the last run, when, and
 * the last error), the publish destinations from their manifests (nodes
 * pulling from them report through their own metrics).  Returns 0 when
 * every pushed node has this catalog's epoch and serial, else 1.
 */
static int replicator_fleet(const struct repconf *conf,
			    const struct sign_key *key, char *err,
			    size_t errlen)
{
	struct sign_keyring *kr;
	struct catalog *cat;
	struct catalog_info info;
	struct nodestate st;
	char when[32], why[1024];
	int64_t now = (int64_t)time(NULL);
	size_t i;
	int behind = 0, rc;

	cat = catalog_open(conf->catalog, CATALOG_RDONLY, err, errlen);
	if (!cat)
		return -1;
	rc = catalog_info(cat, &info, err, errlen);
	catalog_close(cat);
	if (rc < 0)
		return -1;
	printf("fleet of catalog %s: this host has epoch %llu serial %llu\n",
	       conf->catalog_id[0] ? conf->catalog_id : info.id,
	       (unsigned long long)info.epoch,
	       (unsigned long long)info.serial);
	printf("%-16s %-8s %6s %8s  %-20s %8s  %s\n", "node", "how", "epoch",
	       "serial", "checked", "age", "result / last error");
	for (i = 0; i < conf->ntargets; i++) {
		const struct repconf_target *t = &conf->targets[i];

		rc = nodestate_load(conf->state_dir, t->name, &st, why,
				    sizeof(why));
		if (rc <= 0 || st.checked_at == 0) {
			printf("%-16s %-8s %6s %8s  %-20s %8s  %s\n", t->name,
			       "push", "?", "?", "never", "-",
			       rc < 0 ? why : "not read yet");
			behind = 1;
			continue;
		}
		if (st.node_epoch != info.epoch ||
		    st.node_serial != info.serial)
			behind = 1;
		printf("%-16s %-8s %6llu %8llu  %-20s %7llds  %s%s%s\n",
		       t->name, "push", (unsigned long long)st.node_epoch,
		       (unsigned long long)st.node_serial,
		       util_time_iso((time_t)st.checked_at, when,
				     sizeof(when)),
		       (long long)(now - st.checked_at), st.result,
		       st.error[0] ? ": " : "", st.error);
	}
	kr = sign_keyring_new();
	if (sign_keyring_add_key(kr, key, err, errlen) < 0) {
		sign_keyring_free(kr);
		return -1;
	}
	publish_fleet(stdout, conf, conf->catalog_id[0] ? conf->catalog_id
							: info.id, kr, now);
	sign_keyring_free(kr);
	return behind;
}

/* The index of [publish name], or -1. */
static int replicator_publish_index(const struct repconf *conf,
				    const char *name)
{
	size_t i;

	for (i = 0; i < conf->npublish; i++)
		if (!strcmp(conf->publish[i].name, name))
			return (int)i;
	return -1;
}

/*
 * Publish to the [publish] destinations (those named by -t only, when
 * any -t was given).  Returns the number that failed, -1 when the
 * publication could not start.
 */
static int replicator_publish(const struct repconf *conf,
			      struct spool *spool, struct spool *spool_mx,
			      const struct sign_key *key,
			      const struct catalog_info *info,
			      const char *catalog_id, int dry_run,
			      const char *const *only, size_t nonly,
			      int verbose)
{
	struct publish_params pp;
	struct publish_result *res;
	struct repconf sub = *conf;
	struct repconf_target *sel = NULL;
	char err[1024];
	size_t i, j, n = 0;
	int failed;

	if (conf->npublish == 0)
		return 0;
	if (nonly) {
		sel = xcalloc(conf->npublish, sizeof(*sel));
		for (i = 0; i < conf->npublish; i++)
			for (j = 0; j < nonly; j++)
				if (!strcmp(only[j], conf->publish[i].name)) {
					sel[n++] = conf->publish[i];
					break;
				}
		sub.publish = sel;
		sub.npublish = n;
	}
	memset(&pp, 0, sizeof(pp));
	pp.conf = &sub;
	pp.spool = spool;
	pp.spool_mx = spool_mx;
	pp.key = key;
	pp.epoch = info->epoch;
	pp.serial = info->serial;
	pp.history_oldest = info->history_oldest;
	pp.catalog_id = catalog_id;
	pp.dry_run = dry_run;
	res = xcalloc(sub.npublish, sizeof(*res));
	failed = publish_run(&pp, res, err, sizeof(err));
	if (failed < 0)
		log_error("%s", err);
	else if (verbose || failed)
		(void)publish_report(verbose ? stdout : stderr, res,
				     sub.npublish);
	free(res);
	free(sel);
	return failed;
}

/* Does a target or destination get the mx projection? */
static int replicator_uses_mx(const struct repconf *conf)
{
	size_t i;

	for (i = 0; i < conf->ntargets; i++)
		if (conf->targets[i].projection == SNAPWRITE_MX)
			return 1;
	for (i = 0; i < conf->npublish; i++)
		if (conf->publish[i].projection == SNAPWRITE_MX)
			return 1;
	return 0;
}

/* The mx projection's spool: SPOOL_DIR/mx, its files under the names
 * nodes expect, never mixed up with the whole catalog's. */
static struct spool *replicator_spool_mx(const struct repconf *conf,
					 struct catalog_read *r,
					 const char *catalog_id,
					 const struct sign_key *key, char *err,
					 size_t errlen)
{
	char dir[8192];
	struct spool *sp;

	if ((size_t)snprintf(dir, sizeof(dir), "%s/mx", conf->spool_dir) >=
	    sizeof(dir)) {
		util_err(err, errlen, "spool_dir: path too long");
		return NULL;
	}
	sp = spool_new(dir, r, catalog_id, conf->lifetime, key, err, errlen);
	if (sp) {
		spool_set_projection(sp, SNAPWRITE_MX);
		spool_set_hash(sp, conf->hash);
	}
	return sp;
}

/* Make a directory of ours when missing. */
static int replicator_mkdir(const char *what, const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
		log_error("%s %s: %s", what, dir, strerror(errno));
		return -1;
	}
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		log_error("%s %s: not a directory", what, dir);
		return -1;
	}
	return 0;
}

/* What one run needs; the watch mode keeps it across runs. */
struct replicator_ctx {
	const char *conf_path;
	struct repconf *conf;
	struct sign_key *key;
	const char *const *only;
	size_t nonly;
	int dry_run, verbose;
	struct xfer_share *share;	/* kept connections (watch mode) */
};

/*
 * One run: the catalog's current serial to every target.  Returns the
 * exit status; writes the report and the metrics.
 */
/* The catalog to send: open, read at one serial for the whole run, and
 * checked against the configuration; its id into catalog_id.  EXIT_OK,
 * or the exit status. */
static int replicator_catalog(const struct replicator_ctx *c,
			      struct catalog **cat, struct catalog_read **r,
			      struct catalog_info *info,
			      char catalog_id[CATALOG_ID_MAX + 1])
{
	const struct repconf *conf = c->conf;
	char err[2048];

	*cat = catalog_open(conf->catalog, CATALOG_RDONLY, err, sizeof(err));
	if (*cat)
		*r = catalog_read_begin(*cat, err, sizeof(err));
	if (!*cat || !*r) {
		log_error("%s", err);
		return REPLICATOR_EXIT_NOINPUT;
	}
	if (catalog_read_info(*r, info) < 0) {
		log_error("%s: cannot read the catalog's serial",
			  conf->catalog);
		return REPLICATOR_EXIT_NOINPUT;
	}
	if (info->serial == 0) {
		log_error("%s: the catalog is empty (serial 0): run the "
			  "aggregator first", conf->catalog);
		return REPLICATOR_EXIT_NOINPUT;
	}
	if (conf->catalog_id[0] && info->id[0] &&
	    strcmp(conf->catalog_id, info->id)) {
		log_error("catalog_id %s in %s, but the catalog %s is '%s'",
			  conf->catalog_id, c->conf_path, conf->catalog,
			  info->id);
		return REPLICATOR_EXIT_CONFIG;
	}
	/* Both are catalog ids: CATALOG_ID_MAX bytes at most. */
	util_copy_fit(catalog_id, conf->catalog_id[0] ? conf->catalog_id
						      : info->id,
		      CATALOG_ID_MAX + 1);
	if (!catalog_id[0]) {
		log_error("the catalog %s has no id: set catalog_id in %s",
			  conf->catalog, c->conf_path);
		return REPLICATOR_EXIT_CONFIG;
	}
	return REPLICATOR_EXIT_OK;
}

/* The spools the snapshots are written to (none for -n): the catalog's,
 * and the mx projection's when a target wants it.  EXIT_OK, or
 * EXIT_LOCAL. */
static int replicator_spools(const struct replicator_ctx *c,
			     struct catalog_read *r, const char *catalog_id,
			     struct spool **spool, struct spool **spool_mx)
{
	const struct repconf *conf = c->conf;
	char err[2048];

	if (c->dry_run)
		return REPLICATOR_EXIT_OK;
	*spool = spool_new(conf->spool_dir, r, catalog_id, conf->lifetime,
			   c->key, err, sizeof(err));
	if (*spool)
		spool_set_hash(*spool, conf->hash);
	if (*spool && replicator_uses_mx(conf))
		*spool_mx = replicator_spool_mx(conf, r, catalog_id, c->key,
						err, sizeof(err));
	if (!*spool || (replicator_uses_mx(conf) && !*spool_mx)) {
		log_error("%s", err);
		return REPLICATOR_EXIT_LOCAL;
	}
	return REPLICATOR_EXIT_OK;
}

/* Push to every target (push.h): the number that failed, or -1. */
static int replicator_push(const struct replicator_ctx *c,
			   struct spool *spool, struct spool *spool_mx,
			   const struct catalog_info *info,
			   const char *catalog_id, struct push_result *results)
{
	const struct repconf *conf = c->conf;
	struct push_params pp;
	char err[2048];
	int failed;

	log_debug("catalog %s serial %" PRIu64 ", %" PRIu64 " records, "
		  "%zu targets", catalog_id, info->serial, info->records,
		  conf->ntargets);
	if (conf->ntargets == 0)
		return 0;
	memset(&pp, 0, sizeof(pp));
	pp.conf = conf;
	pp.spool = spool;
	pp.spool_mx = spool_mx;
	pp.serial = info->serial;
	pp.epoch = info->epoch;
	pp.history_oldest = info->history_oldest;
	pp.catalog_id = catalog_id;
	pp.dry_run = c->dry_run;
	pp.only = c->nonly ? c->only : NULL;
	pp.share = c->share;
	failed = push_run(&pp, results, err, sizeof(err));
	if (failed < 0)
		log_error("%s", err);
	return failed;
}

/* The push's report: the table (-v), report_json, and for cron the
 * failed targets with the whole table.  ret, or EXIT_LOCAL when a report
 * could not be written. */
static int replicator_report(const struct replicator_ctx *c,
			     const struct report_run *run,
			     const struct push_result *results, int failed,
			     int ret)
{
	const struct repconf *conf = c->conf;
	char err[2048];

	if (c->verbose && conf->ntargets > 0 &&
	    report_text(stdout, run, results, conf->ntargets) < 0) {
		log_error("writing the report: %s", strerror(errno));
		ret = REPLICATOR_EXIT_LOCAL;
	}
	if (conf->report_json && !c->dry_run &&
	    report_json(conf->report_json, run, results, conf->ntargets, err,
			sizeof(err)) < 0) {
		log_error("report_json: %s", err);
		ret = REPLICATOR_EXIT_LOCAL;
	}
	if (failed && !c->dry_run) {
		log_error("%d target%s not at serial %" PRIu64 " of catalog %s",
			  failed, failed == 1 ? "" : "s", run->serial,
			  run->catalog_id);
		/* Under cron stderr is the administrator's mail: the whole
		 * table, so the targets that are fine show up too. */
		if (!c->verbose)
			(void)report_text(stderr, run, results,
					  conf->ntargets);
	}
	return ret;
}

static int replicator_run(const struct replicator_ctx *c)
{
	const struct repconf *conf = c->conf;
	int ret, failed, refresh_failed = 0;
	char err[2048];
	struct catalog *cat = NULL;
	struct catalog_read *r = NULL;
	struct catalog_info info;
	struct spool *spool = NULL, *spool_mx = NULL;
	struct push_result *results = NULL;
	struct report_run run;
	char catalog_id[CATALOG_ID_MAX + 1];
	double t0, t_run = util_now();

	if (!c->dry_run && conf->refresh_after > 0 &&
	    replicator_refresh(conf, err, sizeof(err)) < 0) {
		/* Not fatal: this serial still goes out; nodes expire only
		 * if this keeps failing. */
		log_error("refreshing the catalog's serial: %s", err);
		refresh_failed = 1;
	}
	ret = replicator_catalog(c, &cat, &r, &info, catalog_id);
	if (ret == REPLICATOR_EXIT_OK)
		ret = replicator_spools(c, r, catalog_id, &spool, &spool_mx);
	if (ret != REPLICATOR_EXIT_OK)
		goto out;
	results = xcalloc(conf->ntargets, sizeof(*results));
	run.started = time(NULL);
	t0 = util_now();
	failed = replicator_push(c, spool, spool_mx, &info, catalog_id,
				 results);
	if (failed < 0) {
		ret = REPLICATOR_EXIT_LOCAL;
		goto out;
	}
	run.catalog_id = catalog_id;
	run.serial = info.serial;
	run.key_id = sign_key_id(c->key);
	run.seconds = util_now() - t0;
	run.dry_run = c->dry_run;
	ret = failed ? REPLICATOR_EXIT_TARGETS :
	      refresh_failed ? REPLICATOR_EXIT_LOCAL : REPLICATOR_EXIT_OK;
	ret = replicator_report(c, &run, results, failed, ret);
	if (replicator_publish(conf, spool, spool_mx, c->key, &info,
			       catalog_id, c->dry_run, c->only, c->nonly,
			       c->verbose) != 0 && ret == REPLICATOR_EXIT_OK)
		ret = REPLICATOR_EXIT_TARGETS;
	if (spool)
		spool_clean(spool);
	if (spool_mx)
		spool_clean(spool_mx);
out:
	/* After every run, but not for -n or -t runs. */
	if (conf->metrics_file && !c->dry_run && !c->nonly &&
	    report_metrics(conf->metrics_file, conf, results, ret,
			   util_now() - t_run, err, sizeof(err)) < 0) {
		log_error("metrics_file: %s", err);
		ret = REPLICATOR_EXIT_LOCAL;
	}
	free(results);
	spool_free(spool);
	spool_free(spool_mx);
	if (r)
		catalog_read_end(r);
	if (cat)
		catalog_close(cat);
	return ret;
}

static volatile sig_atomic_t replicator_stop;

static void replicator_on_signal(int sig)
{
	(void)sig;
	replicator_stop = 1;
}

/* Read and drop every notification waiting on fd. */
static int replicator_drain(int fd)
{
	char msg[REPLICATOR_NOTIFY_MAX];
	int n = 0;

	while (recv(fd, msg, sizeof(msg), MSG_DONTWAIT) >= 0)
		n++;
	return n;
}

/*
 * The watch mode: a run at once, then one each time the aggregator says
 * a serial is out (a datagram on notify_socket) and every watch_interval
 * anyway (nodes' expiry, a target that failed, a lost datagram).  The
 * ssh and TLS connections stay open between runs (a libcurl share of
 * the connection cache): a handshake would cost more than the delta.
 */
static int replicator_watch(struct replicator_ctx *c)
{
	const struct repconf *conf = c->conf;
	struct sockaddr_un sa;
	struct pollfd pfd;
	int fd = -1, ret = REPLICATOR_EXIT_OK;
	mode_t mask;

	if (!conf->notify_socket) {
		log_error("--watch needs notify_socket in %s", c->conf_path);
		return REPLICATOR_EXIT_CONFIG;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(conf->notify_socket) >= sizeof(sa.sun_path)) {
		log_error("notify_socket: longer than %zu bytes",
			  sizeof(sa.sun_path) - 1);
		return REPLICATOR_EXIT_CONFIG;
	}
	memcpy(sa.sun_path, conf->notify_socket, strlen(conf->notify_socket));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	/* Our lock is held: a socket left by a crash is ours to replace. */
	(void)unlink(conf->notify_socket);
	mask = umask(0117);	/* the aggregator's group may write to it */
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		umask(mask);
		log_error("notify_socket %s: %s", conf->notify_socket,
			  strerror(errno));
		if (fd >= 0)
			close(fd);
		return REPLICATOR_EXIT_LOCAL;
	}
	umask(mask);
	c->share = xfer_share_new();
	signal(SIGTERM, replicator_on_signal);
	signal(SIGINT, replicator_on_signal);
	/* A daemon says what it does: runs that failed, at least. */
	if (log_verbose() < 1)
		log_set_verbose(1);
	log_info("watching %s for new serials (and every %llds)",
		 conf->notify_socket, (long long)conf->watch_interval);
	while (!replicator_stop) {
		int timeout;

		replicator_drain(fd);
		ret = replicator_run(c);
		/* A failed target is tried again soon, not at the next
		 * interval: its push already waited retry_delay between
		 * attempts. */
		timeout = ret == REPLICATOR_EXIT_OK ||
			  ret == REPLICATOR_EXIT_NOINPUT ?
			  (int)conf->watch_interval * 1000 :
			  REPLICATOR_WATCH_RETRY * 1000;
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, timeout) < 0 && errno != EINTR)
			log_warn("poll: %s", strerror(errno));
	}
	xfer_share_free(c->share);
	c->share = NULL;
	close(fd);
	(void)unlink(conf->notify_socket);
	return ret == REPLICATOR_EXIT_NOINPUT ? REPLICATOR_EXIT_OK : ret;
}

/* What the command line asks for. */
struct replicator_opts {
	const char *conf_path;
	const char *only[REPLICATOR_ONLY_MAX + 1];	/* -t, NULL-ended */
	size_t nonly;
	int verbose, dry_run, check_only, watch, new_epoch, fleet;
};

/* Read the command line into o: -1 to go on, else the exit status. */
static int replicator_options(int argc, char **argv,
			      struct replicator_opts *o)
{
	size_t i, j;
	int c;

	memset(o, 0, sizeof(*o));
	o->conf_path = REPLICATOR_CONFIG_DEFAULT;
	if (argc == 2 && !strcmp(argv[1], "--settings")) {
		settings_print(stdout, repconf_settings);
		return REPLICATOR_EXIT_OK;
	}
	/* --new-epoch and --fleet, anywhere; getopt sees the rest. */
	for (i = 1, j = 1; i < (size_t)argc; i++) {
		if (!strcmp(argv[i], "--new-epoch"))
			o->new_epoch = 1;
		else if (!strcmp(argv[i], "--fleet"))
			o->fleet = 1;
		else
			argv[j++] = argv[i];
	}
	argc = (int)j;
	argv[argc] = NULL;
	while ((c = getopt(argc, argv, "c:vnCt:hVw")) != -1) {
		switch (c) {
		case 'w':
			o->watch = 1;
			break;
		case 'c':
			o->conf_path = optarg;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'n':
			o->dry_run = 1;
			break;
		case 'C':
			o->check_only = 1;
			break;
		case 't':
			if (o->nonly == REPLICATOR_ONLY_MAX) {
				log_error("at most %d -t options",
					  REPLICATOR_ONLY_MAX);
				return REPLICATOR_EXIT_USAGE;
			}
			o->only[o->nonly++] = optarg;
			break;
		case 'h':
			replicator_usage(stdout);
			return REPLICATOR_EXIT_OK;
		case 'V':
			version_print(stdout, "dircat-replicator");
			printf("libcurl: %s\n", xfer_version());
			return REPLICATOR_EXIT_OK;
		default:
			replicator_usage(stderr);
			return REPLICATOR_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		replicator_usage(stderr);
		return REPLICATOR_EXIT_USAGE;
	}
	o->only[o->nonly] = NULL;
	return -1;
}

/* Every -t names a [target] or a [publish] of the file: EXIT_OK, else
 * EXIT_USAGE after a message. */
static int replicator_known_targets(const struct repconf *conf,
				    const struct replicator_opts *o)
{
	size_t i, j;

	for (i = 0; i < o->nonly; i++) {
		for (j = 0; j < conf->ntargets; j++)
			if (!strcmp(o->only[i], conf->targets[j].name))
				break;
		if (j == conf->ntargets &&
		    replicator_publish_index(conf, o->only[i]) < 0) {
			log_error("-t %s: no [target %s] or [publish %s] in %s",
				  o->only[i], o->only[i], o->only[i],
				  o->conf_path);
			return REPLICATOR_EXIT_USAGE;
		}
	}
	return REPLICATOR_EXIT_OK;
}

/*
 * Under the run lock: a new epoch when asked (an administrator's act,
 * once, before any run), then one run, or the watch loop.  The exit
 * status; *ran says whether a run happened (it writes the metrics).
 */
static int replicator_locked(struct repconf *conf,
			     struct sign_key *key,
			     const struct replicator_opts *o, int *lock_fd,
			     int *ran)
{
	struct replicator_ctx ctx;
	char err[2048];

	if (replicator_mkdir("state_dir", conf->state_dir) < 0)
		return REPLICATOR_EXIT_LOCAL;
	*lock_fd = util_lock(conf->lock_file, err, sizeof(err));
	if (*lock_fd < 0) {
		log_error("%s", err);
		return *lock_fd == -2 ? REPLICATOR_EXIT_LOCKED
				      : REPLICATOR_EXIT_LOCAL;
	}
	if (o->new_epoch && replicator_new_epoch(conf, o->dry_run, err,
						 sizeof(err)) < 0) {
		log_error("--new-epoch: %s", err);
		return REPLICATOR_EXIT_LOCAL;
	}
	/* -n --new-epoch only says which epoch it would start: a dry run
	 * of the catalog as it is would report every node ahead of it,
	 * which is what the new epoch is for. */
	if (o->new_epoch && o->dry_run)
		return REPLICATOR_EXIT_OK;
	memset(&ctx, 0, sizeof(ctx));
	ctx.conf_path = o->conf_path;
	ctx.conf = conf;
	ctx.key = key;
	ctx.only = o->only;
	ctx.nonly = o->nonly;
	ctx.dry_run = o->dry_run;
	ctx.verbose = o->verbose;
	*ran = 1;
	return o->watch && !o->dry_run ? replicator_watch(&ctx)
				       : replicator_run(&ctx);
}

int main(int argc, char **argv)
{
	struct replicator_opts o;
	int ret, ran = 0, lock_fd = -1, c;
	char err[2048];
	struct repconf *conf;
	struct sign_key *key = NULL;
	double t_run = util_now();

	log_init(argv[0], isatty(STDERR_FILENO) ? LOG_DEST_STDERR
						: LOG_DEST_BOTH);
	if ((ret = replicator_options(argc, argv, &o)) >= 0)
		return ret;
	log_set_verbose(o.verbose > 0 ? o.verbose - 1 : 0);
	/* A node closing its connection must not kill the whole run. */
	signal(SIGPIPE, SIG_IGN);
	if (xfer_global_init(err, sizeof(err)) < 0) {
		log_error("%s", err);
		return REPLICATOR_EXIT_LOCAL;
	}
	conf = repconf_load(o.conf_path, err, sizeof(err));
	if (!conf) {
		log_error("%s", err);
		return REPLICATOR_EXIT_CONFIG;
	}
	if ((ret = replicator_known_targets(conf, &o)) != REPLICATOR_EXIT_OK)
		goto out;
	key = sign_key_load(conf->signing_key, err, sizeof(err));
	if (!key) {
		log_error("signing_key: %s", err);
		ret = REPLICATOR_EXIT_CONFIG;
	} else if (o.fleet) {
		c = replicator_fleet(conf, key, err, sizeof(err));
		if (c < 0)
			log_error("--fleet: %s", err);
		ret = c < 0 ? REPLICATOR_EXIT_LOCAL :
		      c ? REPLICATOR_EXIT_TARGETS : REPLICATOR_EXIT_OK;
		ran = 1;	/* no metrics for it */
	} else if (o.check_only) {
		printf("%s: configuration ok, %zu target%s, %zu publish "
		       "destination%s, signing key %s\n", o.conf_path,
		       conf->ntargets, conf->ntargets == 1 ? "" : "s",
		       conf->npublish, conf->npublish == 1 ? "" : "s",
		       sign_key_id(key));
		ret = REPLICATOR_EXIT_OK;
	} else {
		ret = replicator_locked(conf, key, &o, &lock_fd, &ran);
	}
out:
	/* After every run, but not when another one holds the lock (it
	 * writes them), nor for -n, -C or -t runs. */
	if (!ran && conf->metrics_file &&
	    ret != REPLICATOR_EXIT_LOCKED && !o.dry_run && !o.check_only &&
	    !o.nonly && report_metrics(conf->metrics_file, conf, NULL, ret,
				       util_now() - t_run, err,
				       sizeof(err)) < 0) {
		log_error("metrics_file: %s", err);
		ret = REPLICATOR_EXIT_LOCAL;
	}
	if (lock_fd >= 0)
		close(lock_fd);
	sign_key_free(key);
	repconf_free(conf);
	xfer_global_cleanup();
	return ret;
}
