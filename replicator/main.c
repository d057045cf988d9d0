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
#include <curl/curl.h>
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
#include "push.h"
#include "repconf.h"
#include "report.h"
#include "sign.h"
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
"       dircat-replicator --settings\n"
"\n"
"Sign the catalog's current serial and send it to every configured node:\n"
"nothing when a node has it, a delta when the node's serial is in the\n"
"change history, else a full snapshot.\n"
"\n"
"  -c FILE    configuration (default " REPLICATOR_CONFIG_DEFAULT ")\n"
"  -v         print the report on stdout; -vv progress, -vvv the timing\n"
"             of each request, -vvvv libcurl's own conversation\n"
"  -n         dry run: read each node's status, say what would be sent,\n"
"             send and write nothing\n"
"  -C         check the configuration and the signing key, then exit\n"
"  -t TARGET  serve only this target (repeatable)\n"
"  -w         watch: run at once, then on each serial the aggregator\n"
"             announces on notify_socket (and every watch_interval),\n"
"             keeping connections to the nodes open, until SIGTERM\n"
"  -V         print the version and exit\n"
"  -h         this help\n"
"  --settings list every setting of the file with its default, and exit\n"
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
	cat = catalog_open(conf->catalog, 0, err, errlen);
	if (!cat)
		return -1;
	txn = catalog_write_begin(cat, err, errlen);
	if (!txn) {
		catalog_close(cat);
		return -1;
	}
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
	CURLSH *share;			/* kept connections (watch mode) */
};

/*
 * One run: the catalog's current serial to every target.  Returns the
 * exit status; writes the report and the metrics.
 */
static int replicator_run(const struct replicator_ctx *c)
{
	const struct repconf *conf = c->conf;
	const char *conf_path = c->conf_path;
	const char *const *only = c->only;
	struct sign_key *key = c->key;
	size_t nonly = c->nonly;
	int dry_run = c->dry_run, verbose = c->verbose;
	int ret = REPLICATOR_EXIT_LOCAL, failed, refresh_failed = 0;
	char err[2048];
	struct catalog *cat = NULL;
	struct catalog_read *r = NULL;
	struct catalog_info info;
	struct spool *spool = NULL;
	struct push_params pp;
	struct push_result *results = NULL;
	struct report_run run;
	char catalog_id[CATALOG_ID_MAX + 1];
	double t0, t_run = util_now();

	if (!dry_run && conf->refresh_after > 0 &&
	    replicator_refresh(conf, err, sizeof(err)) < 0) {
		/* Not fatal: this serial still goes out; nodes expire only
		 * if this keeps failing. */
		log_error("refreshing the catalog's serial: %s", err);
		refresh_failed = 1;
	}
	ret = REPLICATOR_EXIT_NOINPUT;
	cat = catalog_open(conf->catalog, CATALOG_RDONLY, err, sizeof(err));
	if (!cat) {
		log_error("%s", err);
		goto out;
	}
	r = catalog_read_begin(cat, err, sizeof(err));
	if (!r) {
		log_error("%s", err);
		goto out;
	}
	if (catalog_read_info(r, &info) < 0) {
		log_error("%s: cannot read the catalog's serial",
			  conf->catalog);
		goto out;
	}
	if (info.serial == 0) {
		log_error("%s: the catalog is empty (serial 0): run the "
			  "aggregator first", conf->catalog);
		goto out;
	}
	if (conf->catalog_id[0] && info.id[0] &&
	    strcmp(conf->catalog_id, info.id)) {
		log_error("catalog_id %s in %s, but the catalog %s is '%s'",
			  conf->catalog_id, conf_path, conf->catalog, info.id);
		ret = REPLICATOR_EXIT_CONFIG;
		goto out;
	}
	util_strlcpy(catalog_id, conf->catalog_id[0] ? conf->catalog_id
						      : info.id,
		     sizeof(catalog_id));
	if (!catalog_id[0]) {
		log_error("the catalog %s has no id: set catalog_id in %s",
			  conf->catalog, conf_path);
		ret = REPLICATOR_EXIT_CONFIG;
		goto out;
	}
	ret = REPLICATOR_EXIT_LOCAL;
	if (!dry_run) {
		spool = spool_new(conf->spool_dir, r, catalog_id,
				  conf->lifetime, key, err, sizeof(err));
		if (!spool) {
			log_error("%s", err);
			goto out;
		}
	}

	memset(&pp, 0, sizeof(pp));
	pp.conf = conf;
	pp.spool = spool;
	pp.serial = info.serial;
	pp.history_oldest = info.history_oldest;
	pp.catalog_id = catalog_id;
	pp.dry_run = dry_run;
	pp.only = nonly ? only : NULL;
	pp.share = c->share;
	results = xcalloc(conf->ntargets, sizeof(*results));
	run.started = time(NULL);
	t0 = util_now();
	log_debug("catalog %s serial %" PRIu64 ", %" PRIu64 " records, "
		  "%zu targets", catalog_id, info.serial, info.records,
		  conf->ntargets);
	failed = push_run(&pp, results, err, sizeof(err));
	if (failed < 0) {
		log_error("%s", err);
		goto out;
	}

	run.catalog_id = catalog_id;
	run.serial = info.serial;
	run.key_id = sign_key_id(key);
	run.seconds = util_now() - t0;
	run.dry_run = dry_run;
	ret = failed ? REPLICATOR_EXIT_TARGETS :
	      refresh_failed ? REPLICATOR_EXIT_LOCAL : REPLICATOR_EXIT_OK;
	if (verbose && report_text(stdout, &run, results,
				   conf->ntargets) < 0) {
		log_error("writing the report: %s", strerror(errno));
		ret = REPLICATOR_EXIT_LOCAL;
	}
	if (conf->report_json && !dry_run &&
	    report_json(conf->report_json, &run, results, conf->ntargets, err,
			sizeof(err)) < 0) {
		log_error("report_json: %s", err);
		ret = REPLICATOR_EXIT_LOCAL;
	}
	if (failed && !dry_run) {
		log_error("%d target%s not at serial %" PRIu64 " of catalog %s",
			  failed, failed == 1 ? "" : "s", info.serial,
			  catalog_id);
		/* Under cron stderr is the administrator's mail: the whole
		 * table, so the targets that are fine show up too. */
		if (!verbose)
			(void)report_text(stderr, &run, results,
					  conf->ntargets);
	}
	if (spool)
		spool_clean(spool);
out:
	/* After every run, but not for -n or -t runs. */
	if (conf->metrics_file && !dry_run && !nonly &&
	    report_metrics(conf->metrics_file, conf, results, ret,
			   util_now() - t_run, err, sizeof(err)) < 0) {
		log_error("metrics_file: %s", err);
		ret = REPLICATOR_EXIT_LOCAL;
	}
	free(results);
	spool_free(spool);
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
	c->share = curl_share_init();
	if (!c->share)
		log_fatal(REPLICATOR_EXIT_LOCAL, "libcurl: no share handle");
	curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
	curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
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
	curl_share_cleanup(c->share);
	c->share = NULL;
	close(fd);
	(void)unlink(conf->notify_socket);
	return ret == REPLICATOR_EXIT_NOINPUT ? REPLICATOR_EXIT_OK : ret;
}

int main(int argc, char **argv)
{
	const char *conf_path = REPLICATOR_CONFIG_DEFAULT;
	const char *only[REPLICATOR_ONLY_MAX + 1];
	size_t nonly = 0, i, j;
	int verbose = 0, dry_run = 0, check_only = 0, c, lock_fd = -1;
	int ret = REPLICATOR_EXIT_LOCAL, ran = 0, watch = 0;
	char err[2048];
	struct repconf *conf;
	struct sign_key *key = NULL;
	struct replicator_ctx ctx;
	double t_run = util_now();

	log_init(argv[0], isatty(STDERR_FILENO) ? LOG_DEST_STDERR
						: LOG_DEST_BOTH);
	if (argc == 2 && !strcmp(argv[1], "--settings")) {
		settings_print(stdout, repconf_settings);
		return REPLICATOR_EXIT_OK;
	}
	while ((c = getopt(argc, argv, "c:vnCt:hVw")) != -1) {
		switch (c) {
		case 'w':
			watch = 1;
			break;
		case 'c':
			conf_path = optarg;
			break;
		case 'v':
			verbose++;
			break;
		case 'n':
			dry_run = 1;
			break;
		case 'C':
			check_only = 1;
			break;
		case 't':
			if (nonly == REPLICATOR_ONLY_MAX) {
				log_error("at most %d -t options",
					  REPLICATOR_ONLY_MAX);
				return REPLICATOR_EXIT_USAGE;
			}
			only[nonly++] = optarg;
			break;
		case 'h':
			replicator_usage(stdout);
			return REPLICATOR_EXIT_OK;
		case 'V':
			version_print(stdout, "dircat-replicator");
			printf("libcurl: %s\n", curl_version());
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
	only[nonly] = NULL;
	log_set_verbose(verbose > 0 ? verbose - 1 : 0);
	/* A node closing its connection must not kill the whole run. */
	signal(SIGPIPE, SIG_IGN);

	if (xfer_global_init(err, sizeof(err)) < 0) {
		log_error("%s", err);
		return REPLICATOR_EXIT_LOCAL;
	}
	conf = repconf_load(conf_path, err, sizeof(err));
	if (!conf) {
		log_error("%s", err);
		return REPLICATOR_EXIT_CONFIG;
	}
	for (i = 0; i < nonly; i++) {
		for (j = 0; j < conf->ntargets; j++)
			if (!strcmp(only[i], conf->targets[j].name))
				break;
		if (j == conf->ntargets) {
			log_error("-t %s: no [target %s] in %s", only[i],
				  only[i], conf_path);
			ret = REPLICATOR_EXIT_USAGE;
			goto out;
		}
	}
	key = sign_key_load(conf->signing_key, err, sizeof(err));
	if (!key) {
		log_error("signing_key: %s", err);
		ret = REPLICATOR_EXIT_CONFIG;
		goto out;
	}
	if (check_only) {
		printf("%s: configuration ok, %zu target%s, signing key %s\n",
		       conf_path, conf->ntargets,
		       conf->ntargets == 1 ? "" : "s", sign_key_id(key));
		ret = REPLICATOR_EXIT_OK;
		goto out;
	}

	if (replicator_mkdir("state_dir", conf->state_dir) < 0)
		goto out;
	lock_fd = util_lock(conf->lock_file, err, sizeof(err));
	if (lock_fd < 0) {
		log_error("%s", err);
		ret = lock_fd == -2 ? REPLICATOR_EXIT_LOCKED
				    : REPLICATOR_EXIT_LOCAL;
		goto out;
	}

	memset(&ctx, 0, sizeof(ctx));
	ctx.conf_path = conf_path;
	ctx.conf = conf;
	ctx.key = key;
	ctx.only = only;
	ctx.nonly = nonly;
	ctx.dry_run = dry_run;
	ctx.verbose = verbose;
	ran = 1;
	ret = watch && !dry_run ? replicator_watch(&ctx) : replicator_run(&ctx);
out:
	/* After every run, but not when another one holds the lock (it
	 * writes them), nor for -n, -C or -t runs. */
	if (!ran && conf && conf->metrics_file &&
	    ret != REPLICATOR_EXIT_LOCKED && !dry_run && !check_only &&
	    !nonly && report_metrics(conf->metrics_file, conf, NULL, ret,
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
