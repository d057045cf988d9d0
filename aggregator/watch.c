/*
 * watch.c - the aggregator's watch mode; see watch.h.
 *
 * One thread, one poll() loop.  Each turn reads whatever every source has
 * ready (non-blocking, at most WATCH_STEP_MAX messages each), applying
 * it to the open catalog transaction; then commits when changes are
 * waiting and publish_interval has passed since the last commit - so a
 * change after a quiet spell goes out at once, and a stream of them at
 * most once per interval.  Cookies go into the same transaction as the
 * changes they cover.  With nothing happening the loop sleeps in poll()
 * and asks the directory nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <poll.h>
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

#include "livecat.h"
#include "livesrc.h"
#include "log.h"
#include "metrics.h"
#include "util.h"
#include "watch.h"

#define WATCH_CONFIG_META "live.config"
#define WATCH_TICK_MS 1000		/* longest sleep */
#define WATCH_CONFIG_MAX (4 << 20)	/* bytes of configuration hashed */

struct watch_src {
	struct livesrc ls;
	int made, connected, refreshing;
	double retry_at, retry_delay;
	uint64_t changes;
	char error[512];
};

struct watch {
	const struct watch_conf *c;
	struct catalog *cat;
	struct livecat *lc;
	struct watch_src *s;
	double last_commit, first_pending, last_change;
	double wall_change, wall_publish;	/* the same, Unix time */
	double window_start;
	uint64_t window_base;
	int held, force_next;
	char held_why[512];
	uint64_t serial, commits;
	double last_publish, last_lag, last_commit_seconds;
	double reconcile_due, reconcile_at;
	uint64_t reconciles, reconcile_diffs;
	char reconcile_result[512];
	int notify_fd;
};

static volatile sig_atomic_t watch_stop, watch_release;

static void watch_on_signal(int sig)
{
	if (sig == SIGUSR1)
		watch_release = 1;
	else
		watch_stop = 1;
}

/* ------------------------------------------------------------- sink */

static int watch_sink_refresh_begin(void *core, int src, int staged)
{
	struct watch *w = core;
	char err[256];

	if (livecat_begin(w->lc, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return -1;
	}
	w->s[src].refreshing = 1;
	livecat_refresh_begin(w->lc, src, staged);
	log_info("source %s: %s refresh", w->c->src[src].lc->name,
		 staged ? "full" : "incremental");
	return 0;
}

/* A change arrived: remember when, for the lag. */
static void watch_changed(struct watch *w, int src)
{
	double now = util_now();

	if (w->first_pending == 0)
		w->first_pending = now;
	w->last_change = now;
	w->wall_change = util_wall();
	w->s[src].changes++;
}

static int watch_sink_present(void *core, int src, const void *id,
			      size_t idlen, const struct ldapsrc_entry *e,
			      char *err, size_t errlen)
{
	struct watch *w = core;

	if (livecat_begin(w->lc, err, errlen) < 0)
		return -1;
	watch_changed(w, src);
	if (log_verbose() >= 2) {
		char q[LOG_QUOTE_SIZE];

		log_debug("source %s: %s", w->c->src[src].lc->name,
			  log_quote(e->dn, strlen(e->dn), q, sizeof(q)));
	}
	return livecat_present(w->lc, src, id, idlen, e, err, errlen);
}

static int watch_sink_unchanged(void *core, int src, const void *id,
				size_t idlen)
{
	struct watch *w = core;

	return livecat_unchanged(w->lc, src, id, idlen);
}

static int watch_sink_gone(void *core, int src, const void *id, size_t idlen,
			   char *err, size_t errlen)
{
	struct watch *w = core;

	if (livecat_begin(w->lc, err, errlen) < 0)
		return -1;
	watch_changed(w, src);
	return livecat_gone(w->lc, src, id, idlen, err, errlen);
}

static int watch_sink_refresh_done(void *core, int src, int present,
				   char *err, size_t errlen)
{
	struct watch *w = core;

	if (livecat_begin(w->lc, err, errlen) < 0)
		return -1;
	w->s[src].refreshing = 0;
	if (w->first_pending == 0)
		w->first_pending = util_now();
	log_info("source %s: refresh done", w->c->src[src].lc->name);
	return livecat_refresh_done(w->lc, src, present, err, errlen);
}

static int watch_sink_cookie(void *core, int src, const void *cookie,
			     size_t len, char *err, size_t errlen)
{
	struct watch *w = core;

	if (livecat_begin(w->lc, err, errlen) < 0)
		return -1;
	return livecat_set_cookie(w->lc, src, cookie, len, err, errlen);
}

/* ------------------------------------------------------ status, news */

/* STATUS_FILE: what dircat status and monitoring read. */
static void watch_status(struct watch *w)
{
	struct buf b;
	char err[512];
	size_t i;

	if (!w->c->status_file)
		return;
	buf_init(&b, 1 << 20);
	buf_printf(&b, "mode=watch\nstate=%s\n",
		   w->held ? "held" : "running");
	if (w->held)
		buf_printf(&b, "held_reason=%s\n", w->held_why);
	buf_printf(&b, "serial=%llu\ncommits=%llu\n",
		   (unsigned long long)w->serial,
		   (unsigned long long)w->commits);
	buf_printf(&b, "last_change=%.3f\nlast_publish=%.3f\n",
		   w->wall_change, w->wall_publish);
	buf_printf(&b, "lag_ms=%.1f\ncommit_ms=%.1f\n", w->last_lag * 1000,
		   w->last_commit_seconds * 1000);
	buf_printf(&b, "reconcile=%s\nreconcile_at=%.0f\n"
		   "reconcile_differences_total=%llu\n",
		   w->reconcile_result[0] ? w->reconcile_result : "never",
		   w->reconcile_at, (unsigned long long)w->reconcile_diffs);
	for (i = 0; i < w->c->nsrc; i++) {
		const struct watch_src *s = &w->s[i];

		buf_printf(&b, "source.%s=%s%s%s\n", w->c->src[i].lc->name,
			   !s->connected ? "retrying" :
			   s->refreshing ? "refreshing" : "following",
			   s->error[0] && !s->connected ? ": " : "",
			   s->error[0] && !s->connected ? s->error : "");
	}
	if (util_write_file_atomic(w->c->status_file, b.data, b.len, 0644,
				   err, sizeof(err)) < 0)
		log_warn("status_file: %s", err);
	buf_free(&b);
}

static void watch_metrics(struct watch *w)
{
	struct metrics m;
	struct buf b;
	char err[512];
	size_t i;

	if (!w->c->metrics_path)
		return;
	buf_init(&b, 1 << 20);
	metrics_init(&m, &b);
	metrics_gauge(&m, "dircat_aggregator_watch_up",
		      "1 while the aggregator runs in watch mode", 1);
	metrics_gauge(&m, "dircat_aggregator_watch_held",
		      "1 while a safety gate holds publishing", w->held);
	metrics_gauge(&m, "dircat_aggregator_watch_serial",
		      "the last serial the watch mode published",
		      (int64_t)w->serial);
	metrics_gauge_f64(&m,
			  "dircat_aggregator_watch_last_change_timestamp_seconds",
			  "when the last directory change arrived",
			  w->wall_change);
	metrics_gauge_f64(&m, "dircat_aggregator_watch_lag_seconds",
			  "from a change's arrival to its serial's commit, "
			  "last commit", w->last_lag);
	metrics_counter(&m, "dircat_aggregator_watch_commits_total",
			"commits made in watch mode since it started",
			w->commits);
	metrics_counter(&m,
			"dircat_aggregator_watch_reconcile_differences_total",
			"records a reconcile found different",
			w->reconcile_diffs);
	metrics_counter(&m, "dircat_aggregator_watch_reconciles_total",
			"reconciles run", w->reconciles);
	metrics_family(&m, "dircat_aggregator_watch_source_following", "gauge",
		       "1 when the source's live session is up");
	for (i = 0; i < w->c->nsrc; i++)
		metrics_i64(&m, "source", w->c->src[i].lc->name, NULL, NULL,
			    w->s[i].connected);
	if (metrics_write_file(&m, w->c->metrics_path, err, sizeof(err)) < 0)
		log_warn("metrics_file: %s", err);
	buf_free(&b);
}

/* Tell the replicator a serial is out (a datagram; never waits). */
static void watch_notify(struct watch *w)
{
	struct sockaddr_un sa;
	char msg[WATCH_NOTIFY_MAX];
	int n;

	if (!w->c->notify_socket)
		return;
	if (w->notify_fd < 0) {
		w->notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK |
				      SOCK_CLOEXEC, 0);
		if (w->notify_fd < 0)
			return;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(w->c->notify_socket) >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, w->c->notify_socket, strlen(w->c->notify_socket));
	n = snprintf(msg, sizeof(msg), "serial %llu\n",
		     (unsigned long long)w->serial);
	if (sendto(w->notify_fd, msg, (size_t)n, 0, (struct sockaddr *)&sa,
		   sizeof(sa)) < 0)
		log_debug("notify_socket %s: %s (the replicator will find "
			  "the serial on its own)", w->c->notify_socket,
			  strerror(errno));
}

/* ------------------------------------------------------ sources */

static const struct livesrc_sink watch_sink_proto = {
	NULL, 0, watch_sink_refresh_begin, watch_sink_present,
	watch_sink_unchanged, watch_sink_gone, watch_sink_refresh_done,
	watch_sink_cookie
};

/* The next attempt: 1, 2, 4 ... WATCH_RETRY_MAX seconds from now. */
static void watch_backoff(struct watch_src *s)
{
	s->retry_delay = s->retry_delay ? s->retry_delay * 2 : WATCH_RETRY_MIN;
	if (s->retry_delay > WATCH_RETRY_MAX)
		s->retry_delay = WATCH_RETRY_MAX;
	s->retry_at = util_now() + s->retry_delay;
}

/* (Re)connect source i from its stored cookie. */
static void watch_start_source(struct watch *w, size_t i)
{
	struct watch_src *s = &w->s[i];
	unsigned char *cookie = xmalloc(LIVESRC_COOKIE_MAX);
	size_t len = 0;
	char err[512];
	int rc;

	rc = livecat_get_cookie(w->lc, (int)i, cookie, LIVESRC_COOKIE_MAX,
				&len, err, sizeof(err));
	if (rc < 0) {
		log_warn("%s: reading everything again", err);
		len = 0;
	}
	if (rc != 1)
		len = 0;
	if (s->ls.ops->start(s->ls.s, len ? cookie : NULL, len, err,
			     sizeof(err)) < 0) {
		util_copy_text(s->error, err, sizeof(s->error));
		s->connected = 0;
		watch_backoff(s);
		log_error("%s; trying again in %.0fs (the catalog stays as it "
			  "is)", err, s->retry_delay);
	} else {
		s->connected = 1;
		s->error[0] = '\0';
		log_info("source %s: following (%s%s)", w->c->src[i].lc->name,
			 s->ls.ops->name, len ? ", from the stored cookie" : "");
	}
	free(cookie);
}

static void watch_lost(struct watch *w, size_t i, const char *err)
{
	struct watch_src *s = &w->s[i];

	s->ls.ops->stop(s->ls.s);
	s->connected = 0;
	s->refreshing = 0;
	util_copy_text(s->error, err, sizeof(s->error));
	watch_backoff(s);
	log_error("%s; reconnecting in %.0fs (the catalog stays as it is)",
		  err, s->retry_delay);
}

/* ------------------------------------------------------ publishing */

/* Addresses (domain records left out) after the open transaction. */
static uint64_t watch_addresses(const struct catalog_diff *d)
{
	return d->records - d->count[CATALOG_DOMAIN];
}

/* Stop publishing: say why, keep the catalog, wait. */
static void watch_hold(struct watch *w, const char *why)
{
	size_t i;

	util_copy_text(w->held_why, why, sizeof(w->held_why));
	w->held = 1;
	livecat_abort(w->lc);
	w->first_pending = 0;
	for (i = 0; i < w->c->nsrc; i++) {
		w->s[i].ls.ops->stop(w->s[i].ls.s);
		w->s[i].connected = 0;
		w->s[i].refreshing = 0;
	}
	log_error("refused to publish: %s; the catalog stays at serial %llu; "
		  "nothing is read until an administrator looks (SIGUSR1 "
		  "publishes anyway, as --force does)", why,
		  (unsigned long long)w->serial);
	watch_status(w);
	watch_metrics(w);
}

/* The gates: NULL when the open transaction may be committed. */
static const char *watch_gate(struct watch *w, char *why, size_t size)
{
	struct catalog_diff d;
	uint64_t now_n;
	double now = util_now();

	livecat_diff(w->lc, &d);
	if (d.added + d.removed + d.changed == 0)
		return NULL;
	if (now - w->window_start >= w->c->shrink_window) {
		w->window_start = now;
		w->window_base = d.records_before;
		/* domain records hardly move: count them out with today's */
		w->window_base = w->window_base > d.count[CATALOG_DOMAIN] ?
				 w->window_base - d.count[CATALOG_DOMAIN] : 0;
	}
	now_n = watch_addresses(&d);
	if (w->force_next || w->c->force)
		return NULL;
	if ((int64_t)now_n < w->c->min_records) {
		snprintf(why, size, "%llu addresses is fewer than min_records "
			 "= %lld", (unsigned long long)now_n,
			 (long long)w->c->min_records);
		return why;
	}
	if (w->window_base > 0 && now_n < w->window_base &&
	    (w->window_base - now_n) * 100 >
	    w->window_base * (uint64_t)w->c->max_shrink_pct) {
		snprintf(why, size, "the catalog would shrink from %llu to %llu "
			 "addresses within %.0fs (%.1f%%), more than max_shrink "
			 "= %lld%%", (unsigned long long)w->window_base,
			 (unsigned long long)now_n, w->c->shrink_window,
			 100.0 * (double)(w->window_base - now_n) /
			 (double)w->window_base,
			 (long long)w->c->max_shrink_pct);
		return why;
	}
	return NULL;
}

/* Commit what is waiting (with the gates); 0, or -1 on a write error. */
static int watch_publish(struct watch *w)
{
	char err[512], why[512];
	uint64_t serial, before = w->serial;
	double t0 = util_now();

	if (!livecat_open(w->lc))
		return 0;
	if (watch_gate(w, why, sizeof(why))) {
		watch_hold(w, why);
		return 0;
	}
	if (livecat_commit(w->lc, &serial, err, sizeof(err)) < 0) {
		log_error("%s; the catalog stays at serial %llu", err,
			  (unsigned long long)w->serial);
		return -1;
	}
	w->last_commit = util_now();
	w->last_commit_seconds = w->last_commit - t0;
	w->serial = serial;
	if (serial != before) {
		w->force_next = 0;	/* --force and SIGUSR1: one serial */
		w->commits++;
		w->last_publish = w->last_commit;
		w->wall_publish = util_wall();
		w->last_lag = w->first_pending ? w->last_commit -
						 w->first_pending : 0;
		log_debug("catalog %s serial %llu (%.1f ms after the change "
			 "arrived)", w->c->catalog_id,
			 (unsigned long long)serial, w->last_lag * 1000);
		watch_notify(w);
	}
	w->first_pending = 0;
	watch_status(w);
	watch_metrics(w);
	return 0;
}

/* ------------------------------------------------------ reconcile */

struct watch_cmp {
	uint64_t missing, extra, differ;
	char example[256];
};

static void watch_cmp_note(struct watch_cmp *c, const char *what,
			   const char *key, size_t len)
{
	if (!c->example[0])
		snprintf(c->example, sizeof(c->example), "%s %.*s", what,
			 (int)len, key);
}

/* Records of a full read (col) against the catalog, both in key order:
 * the counts of missing, extra and different ones into c.  0, or -1
 * with err. */
static int watch_compare(struct catalog *cat, struct collect *col,
			 struct watch_cmp *c, char *err, size_t errlen)
{
	unsigned char va[CATALOG_VALUE_MAX], vb[CATALOG_VALUE_MAX];
	struct catalog_read *r;
	struct catalog_iter *it;
	struct catalog_rec a, b;
	int ha, hb;

	memset(c, 0, sizeof(*c));
	r = catalog_read_begin(cat, err, errlen);
	it = r ? catalog_iter_new(r) : NULL;
	if (!it) {
		catalog_read_end(r);
		return -1;
	}
	ha = collect_next(col, &a, err, errlen);
	hb = catalog_iter_next(it, &b);
	while (ha == 1 || hb == 1) {
		int cmp;

		if (ha == 1 && hb == 1) {
			size_t n = a.keylen < b.keylen ? a.keylen : b.keylen;

			cmp = memcmp(a.key, b.key, n);
			if (!cmp)
				cmp = a.keylen < b.keylen ? -1 :
				      a.keylen > b.keylen;
		} else {
			cmp = ha == 1 ? -1 : 1;
		}
		if (cmp < 0) {
			c->missing++;
			watch_cmp_note(c, "missing", a.key, a.keylen);
			ha = collect_next(col, &a, err, errlen);
		} else if (cmp > 0) {
			c->extra++;
			watch_cmp_note(c, "extra", b.key, b.keylen);
			hb = catalog_iter_next(it, &b);
		} else {
			size_t la = catalog_rec_encode(&a, va, sizeof(va));
			size_t lb = catalog_rec_encode(&b, vb, sizeof(vb));

			if (la != lb || memcmp(va, vb, la)) {
				c->differ++;
				watch_cmp_note(c, "different", a.key,
					       a.keylen);
			}
			ha = collect_next(col, &a, err, errlen);
			hb = catalog_iter_next(it, &b);
		}
	}
	catalog_iter_free(it);
	catalog_read_end(r);
	return 0;
}

/* A full read against the catalog: how many records differ. */
static int watch_reconcile(struct watch *w)
{
	struct collect *col = NULL;
	struct watch_cmp c;
	char err[512];
	size_t i;

	if (!w->c->full_read)
		return 0;
	if (watch_publish(w) < 0 || w->held)
		return -1;
	w->reconciles++;
	w->reconcile_at = (double)time(NULL);
	if (w->c->full_read(w->c->full_read_arg, &col, err, sizeof(err)) < 0) {
		snprintf(w->reconcile_result, sizeof(w->reconcile_result),
			 "failed: %.120s", err);
		log_error("reconcile: %s", err);
		collect_free(col);
		return -1;
	}
	/* Whatever came in meanwhile is in the catalog before comparing. */
	for (i = 0; i < w->c->nsrc; i++)
		if (w->s[i].connected)
			(void)w->s[i].ls.ops->step(w->s[i].ls.s, WATCH_STEP_MAX,
						   err, sizeof(err));
	if (watch_publish(w) < 0 || w->held) {
		collect_free(col);
		return -1;
	}
	if (watch_compare(w->cat, col, &c, err, sizeof(err)) < 0) {
		log_error("reconcile: %s", err);
		collect_free(col);
		return -1;
	}
	collect_free(col);
	if (c.missing + c.extra + c.differ == 0) {
		snprintf(w->reconcile_result, sizeof(w->reconcile_result),
			 "equal");
		log_info("reconcile: the catalog equals a full read");
	} else {
		w->reconcile_diffs += c.missing + c.extra + c.differ;
		snprintf(w->reconcile_result, sizeof(w->reconcile_result),
			 "%llu missing, %llu extra, %llu different (%s): read "
			 "again", (unsigned long long)c.missing,
			 (unsigned long long)c.extra,
			 (unsigned long long)c.differ, c.example);
		log_error("reconcile: the catalog differs from a full read: %s",
			  w->reconcile_result);
		/* Correct it: every source reads everything again. */
		for (i = 0; i < w->c->nsrc; i++) {
			livecat_drop_cookie(w->lc, (int)i, err, sizeof(err));
			w->s[i].ls.ops->stop(w->s[i].ls.s);
			w->s[i].connected = 0;
			w->s[i].retry_at = 0;
		}
		if (watch_publish(w) < 0)
			return -1;
	}
	watch_status(w);
	watch_metrics(w);
	return 0;
}

/* ------------------------------------------------------ start, loop */

/* SHA-256 of the configuration file, in hex. */
static int watch_config_hash(const char *path, char *hex, size_t size,
			     char *err, size_t errlen)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	struct buf b;
	char chunk[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		util_err(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	buf_init(&b, WATCH_CONFIG_MAX);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		if (buf_append(&b, chunk, (size_t)n) < 0)
			break;
	close(fd);
	if (!EVP_Digest(b.data ? (const void *)b.data : "", b.len, md, &mdlen,
			EVP_sha256(), NULL) || size < mdlen * 2 + 1) {
		buf_free(&b);
		util_err(err, errlen, "SHA-256 failed");
		return -1;
	}
	buf_free(&b);
	for (i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return 0;
}

/* A new configuration means every entry is read again: what an entry
 * contributes may have changed with it. */
static int watch_prepare(struct watch *w, char *err, size_t errlen)
{
	char hex[EVP_MAX_MD_SIZE * 2 + 1], old[EVP_MAX_MD_SIZE * 2 + 1];
	size_t len = 0;
	struct catalog_txn *t;
	int rc, i;

	if (watch_config_hash(w->c->config_path, hex, sizeof(hex), err,
			      errlen) < 0)
		return -1;
	t = catalog_write_begin(w->cat, err, errlen);
	if (!t)
		return -1;
	rc = catalog_txn_meta_get(t, WATCH_CONFIG_META, old, sizeof(old) - 1,
				  &len);
	if (rc == 1 && len == strlen(hex) && !memcmp(old, hex, len)) {
		catalog_txn_abort(t);
		return 0;
	}
	log_info("%s: %s: every source is read in full", w->c->config_path,
		 rc == 1 ? "the configuration changed" :
		 "first start in watch mode");
	for (i = 0; i < CATALOG_AUX_TABLES; i++)
		if (catalog_txn_aux_clear(t, i) < 0) {
			catalog_txn_abort(t);
			util_err(err, errlen, "%s: cannot clear the provenance "
				 "tables", w->c->catalog_path);
			return -1;
		}
	if (catalog_txn_meta_del_prefix(t, "live.") < 0 ||
	    catalog_txn_meta_put(t, WATCH_CONFIG_META, hex, strlen(hex), err,
				 errlen) < 0) {
		catalog_txn_abort(t);
		return -1;
	}
	catalog_txn_keep_serial(t);
	err[0] = '\0';
	if (catalog_txn_commit(t, err, errlen) == 0 && err[0])
		return -1;
	return 0;
}

/* The catalog opened and checked against catalog_id, made ready for
 * this configuration, the gates' window started.  0, or -1 with err and
 * *status (w->cat may be open: the caller closes it). */
static int watch_open_catalog(struct watch *w, int *status, char *err,
			      size_t errlen)
{
	const struct watch_conf *c = w->c;
	struct catalog_info info;

	*status = EX_CANTCREAT;
	w->cat = catalog_open(c->catalog_path, CATALOG_PROVENANCE, err,
			      errlen);
	if (!w->cat || catalog_info(w->cat, &info, err, errlen) < 0)
		return -1;
	if (info.id[0] && strcmp(info.id, c->catalog_id)) {
		util_err(err, errlen, "%s holds catalog '%s', not '%s' "
			 "(catalog_id)", c->catalog_path, info.id,
			 c->catalog_id);
		*status = EX_CONFIG;
		return -1;
	}
	if (watch_prepare(w, err, errlen) < 0)
		return -1;
	w->serial = info.serial;
	w->window_start = util_now();
	w->window_base = info.records - info.count[CATALOG_DOMAIN];
	return 0;
}

/* The live catalog over w->cat, each source with its rules.  Returns the
 * sources' table, which the caller frees after livecat_free(). */
static struct livecat_source *watch_livecat(struct watch *w)
{
	const struct watch_conf *c = w->c;
	struct livecat_source *lsrc = xcalloc(c->nsrc, sizeof(*lsrc));
	struct livecat_conf lcc;
	size_t i;

	for (i = 0; i < c->nsrc; i++) {
		lsrc[i].name = c->src[i].lc->name;
		lsrc[i].rules = c->src[i].rules;
	}
	memset(&lcc, 0, sizeof(lcc));
	lcc.env = c->env;
	lcc.rule = c->rule;
	lcc.index_logins = c->index_logins;
	lcc.src = lsrc;
	lcc.nsrc = c->nsrc;
	lcc.catalog_id = c->catalog_id;
	lcc.history = c->history;
	w->lc = livecat_new(w->cat, &lcc);
	return lsrc;
}

/* Each source's live session (periodic reads, uSNChanged or RFC 4533),
 * feeding w through watch_sink_proto; none connects yet.  0, or -1 with
 * err. */
static int watch_make_sources(struct watch *w, char *err, size_t errlen)
{
	const struct watch_conf *c = w->c;
	size_t i;

	w->s = xcalloc(c->nsrc, sizeof(*w->s));
	for (i = 0; i < c->nsrc; i++) {
		struct livesrc_sink sink = watch_sink_proto;
		int rc;

		sink.core = w;
		sink.src = (int)i;
		if (c->src[i].kind == WATCH_POLL)
			rc = pollsrc_new(&w->s[i].ls, c->src[i].lc,
					 c->src[i].attrs, &sink,
					 c->src[i].poll_interval, err, errlen);
		else if (c->src[i].kind == WATCH_USN)
			rc = usnsrc_new(&w->s[i].ls, c->src[i].lc,
					c->src[i].attrs, &sink,
					c->src[i].rules->owner_idx < 0 ? NULL :
					formula_attrs_name(c->src[i].attrs,
						(size_t)c->src[i].rules->owner_idx),
					c->src[i].usn_interval,
					c->src[i].usn_sweep_interval, err,
					errlen);
		else
			rc = syncrepl_new(&w->s[i].ls, c->src[i].lc,
					  c->src[i].attrs, &sink, err, errlen);
		if (rc < 0)
			return -1;
		w->s[i].made = 1;
	}
	return 0;
}

/* The first write: the domain records, rewritten in full when a source
 * starts without a cookie (everything is read again).  0, or -1 with
 * err. */
static int watch_begin(struct watch *w, char *err, size_t errlen)
{
	unsigned char cookie[64];
	size_t i, len;
	int fresh = 0;

	for (i = 0; i < w->c->nsrc; i++)
		if (livecat_get_cookie(w->lc, (int)i, cookie, sizeof(cookie),
				       &len, err, errlen) == 0)
			fresh = 1;
	if (livecat_begin(w->lc, err, errlen) < 0 ||
	    livecat_domains(w->lc, fresh, err, errlen) < 0)
		return -1;
	return 0;
}

/* SIGUSR1 while a gate holds: publish once despite it, and let every
 * source try again at once. */
static void watch_release_gate(struct watch *w)
{
	size_t i;

	if (watch_release && w->held) {
		log_warn("SIGUSR1: publishing despite: %s", w->held_why);
		w->held = 0;
		w->force_next = 1;
		for (i = 0; i < w->c->nsrc; i++)
			w->s[i].retry_at = 0;
	}
	watch_release = 0;
}

/*
 * One step of each source (a source that is down is started again when
 * its retry is due), unless a gate holds.  The descriptors to wait on go
 * into pfd (*np of them) and *wake comes forward to the earliest time
 * something is due.  1 when every source is current (connected and done
 * with its refresh), else 0.
 */
static int watch_step_sources(struct watch *w, double now, double *wake,
			      struct pollfd *pfd, size_t *np, char *err,
			      size_t errlen)
{
	size_t i;
	int all_current = 1;

	for (i = 0; i < w->c->nsrc && !w->held; i++) {
		struct watch_src *s = &w->s[i];
		int rc;

		if (!s->connected) {
			all_current = 0;
			if (now >= s->retry_at)
				watch_start_source(w, i);
			else if (s->retry_at < *wake)
				*wake = s->retry_at;
			if (!s->connected)
				continue;
		}
		rc = s->ls.ops->step(s->ls.s, WATCH_STEP_MAX, err, errlen);
		if (rc == LIVESRC_REFRESH_REQUIRED) {
			livecat_drop_cookie(w->lc, (int)i, err, errlen);
			s->ls.ops->stop(s->ls.s);
			s->connected = 0;
			s->retry_at = 0;
			s->retry_delay = 0;
			all_current = 0;
			continue;
		}
		if (rc < 0) {
			watch_lost(w, i, err);
			all_current = 0;
			continue;
		}
		if (rc > 0) {
			s->retry_delay = 0;
			*wake = now;	/* more may be waiting */
		}
		if (s->refreshing)
			all_current = 0;
		if (s->ls.ops->fd(s->ls.s) >= 0) {
			pfd[*np].fd = s->ls.ops->fd(s->ls.s);
			pfd[*np].events = POLLIN;
			(*np)++;
		} else if (s->ls.ops->next_due(s->ls.s) > 0 &&
			   s->ls.ops->next_due(s->ls.s) < *wake) {
			*wake = s->ls.ops->next_due(s->ls.s);
		}
	}
	return all_current;
}

/*
 * Publish what is due: a full chunk at once, changes once publish_interval
 * has passed since the last commit (else *wake comes forward to then),
 * the cookies alone once every source is current, and everything at the
 * end of a --once run.  1 when a --once run is done, 0 to go on, -1 when
 * publishing failed.
 */
static int watch_publish_due(struct watch *w, int all_current, double *wake)
{
	const struct watch_conf *c = w->c;
	double now;

	if (livecat_want_chunk(w->lc) && watch_publish(w) < 0)
		return -1;
	now = util_now();
	if (livecat_dirty(w->lc)) {
		double due = w->last_commit + c->publish_interval;

		if (now >= due) {
			if (watch_publish(w) < 0)
				return -1;
		} else if (due < *wake) {
			*wake = due;
		}
	} else if (livecat_open(w->lc) && !livecat_dirty(w->lc) &&
		   all_current) {
		/* Cookies only: store them without a new serial. */
		if (watch_publish(w) < 0)
			return -1;
	}
	if (c->once && all_current && !livecat_dirty(w->lc)) {
		if (watch_publish(w) < 0)
			return -1;
		return 1;
	}
	if (w->reconcile_due && now >= w->reconcile_due && all_current) {
		(void)watch_reconcile(w);
		w->reconcile_due = util_now() + c->reconcile_interval;
	}
	if (w->reconcile_due && w->reconcile_due < *wake)
		*wake = w->reconcile_due;
	return 0;
}

/* Wait for a source's descriptor until wake, at most a tick. */
static void watch_wait(struct pollfd *pfd, size_t np, double wake)
{
	int timeout = (int)((wake - util_now()) * 1000.0);

	if (timeout < 0)
		timeout = 0;
	if (timeout > WATCH_TICK_MS)
		timeout = WATCH_TICK_MS;
	if (timeout > 0 && poll(pfd, np, timeout) < 0 && errno != EINTR)
		log_warn("poll: %s", strerror(errno));
}

int watch_run(const struct watch_conf *c, char *err, size_t errlen)
{
	struct watch ww, *w = &ww;
	struct livecat_source *lsrc;
	struct pollfd *pfd = NULL;
	size_t i;
	int status, rc;

	memset(w, 0, sizeof(*w));
	watch_stop = watch_release = 0;
	w->c = c;
	w->notify_fd = -1;
	if (watch_open_catalog(w, &status, err, errlen) < 0) {
		catalog_close(w->cat);
		return status;
	}
	lsrc = watch_livecat(w);
	pfd = xcalloc(c->nsrc, sizeof(*pfd));
	status = EX_CONFIG;
	if (watch_make_sources(w, err, errlen) < 0)
		goto out;
	status = EX_CANTCREAT;
	if (watch_begin(w, err, errlen) < 0)
		goto out;
	signal(SIGTERM, watch_on_signal);
	signal(SIGINT, watch_on_signal);
	signal(SIGUSR1, watch_on_signal);
	w->force_next = c->force;
	w->reconcile_due = c->reconcile_interval > 0 ?
			   util_now() + c->reconcile_interval : 0;
	for (i = 0; i < c->nsrc; i++)
		watch_start_source(w, i);
	watch_status(w);
	while (!watch_stop) {
		double now = util_now(), wake = now + WATCH_TICK_MS / 1000.0;
		size_t np = 0;
		int all_current;

		watch_release_gate(w);
		all_current = watch_step_sources(w, now, &wake, pfd, &np, err,
						 errlen);
		if (w->held) {
			if (c->once) {
				status = EX_DATAERR;
				util_err(err, errlen, "refused to publish: %s",
					 w->held_why);
				goto out;
			}
			poll(NULL, 0, WATCH_TICK_MS);
			continue;
		}
		rc = watch_publish_due(w, all_current, &wake);
		if (rc < 0)
			goto out;
		if (rc > 0) {
			status = 0;
			goto out;
		}
		watch_wait(pfd, np, wake);
	}
	/* Stopped: what is waiting is published (the gates still hold). */
	if (livecat_open(w->lc) && watch_publish(w) < 0)
		goto out;
	status = 0;
out:
	for (i = 0; w->s && i < c->nsrc; i++)
		if (w->s[i].made)
			w->s[i].ls.ops->free(w->s[i].ls.s);
	livecat_free(w->lc);
	free(w->s);
	free(pfd);
	free(lsrc);
	if (w->notify_fd >= 0)
		close(w->notify_fd);
	catalog_close(w->cat);
	return status;
}
