/*
 * fetch.c - one poll: node status, manifest, checks, files; see fetch.h
 * and schema/manifest.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "fetch.h"
#include "log.h"
#include "manifest.h"
#include "metrics.h"
#include "nodestatus.h"
#include "util.h"

#define FETCH_STATE_FILE_MAX 8192	/* our state file, bytes */
#define FETCH_METRICS_MAX    (64 * 1024)
#define FETCH_PATH_MAX       4096

struct fetcher {
	const struct fetchconf *c;
	struct http *http;
	struct fetch_state st;
	char state_path[FETCH_PATH_MAX];
	char manifest_path[FETCH_PATH_MAX];
	struct manifest m;		/* the one being looked at */
};

static const char *const fetch_outcomes[FETCH_OUTCOMES] = {
	"current", "delivered", "waiting", "origin", "refused", "node",
	"local"
};

static const char *const fetch_refusals[FETCH_REFUSALS] = {
	"bad_manifest", "wrong_catalog", "stale", "replay", "bad_file"
};

const char *fetch_outcome_name(int outcome)
{
	if (outcome < 0 || outcome >= FETCH_OUTCOMES)
		return "?";
	return fetch_outcomes[outcome];
}

/* ---- state ------------------------------------------------------------ */

/* The state file is in dircat's configuration format ("key = value"),
 * read with lib/config.h; keys it does not know are ignored. */
static int fetch_state_load(struct fetcher *f, char *err, size_t errlen)
{
	struct fetch_state *st = &f->st;
	struct config *cfg;
	const struct config_section *top;
	const char *v;
	int64_t n;
	size_t i;
	char key[64];

	memset(st, 0, sizeof(*st));
	if (access(f->state_path, F_OK) < 0 && errno == ENOENT)
		return 0;
	cfg = config_load(f->state_path, err, errlen);
	if (!cfg)
		return -1;
	top = config_top(cfg);
#define FS_U64(field, name) do {					\
		if (config_get_int(top, name, 0, 0, INT64_MAX, &n, err,	\
				   errlen) < 0)				\
			goto fail;					\
		st->field = (uint64_t)n;				\
	} while (0)
#define FS_I64(field, name) do {					\
		if (config_get_int(top, name, 0, 0, INT64_MAX, &n, err,	\
				   errlen) < 0)				\
			goto fail;					\
		st->field = n;						\
	} while (0)
	FS_U64(m_epoch, "manifest_epoch");
	FS_U64(m_serial, "manifest_serial");
	FS_I64(m_published, "manifest_published");
	FS_I64(m_expires, "manifest_expires");
	st->have_manifest = st->m_serial > 0;
	FS_U64(delivered_epoch, "delivered_epoch");
	FS_U64(delivered_serial, "delivered_serial");
	FS_I64(delivered_full, "delivered_full");
	FS_I64(delivered_at, "delivered_at");
	FS_U64(node_epoch, "node_epoch");
	FS_U64(node_serial, "node_serial");
	FS_I64(last_poll, "last_poll");
	FS_I64(last_success, "last_success");
	FS_I64(last_change, "last_change");
	FS_I64(last_error_at, "last_error_at");
	FS_U64(polls, "polls");
	FS_U64(not_modified, "not_modified");
	FS_U64(files, "files");
	FS_U64(bytes, "bytes");
	for (i = 0; i < FETCH_REFUSALS; i++) {
		snprintf(key, sizeof(key), "refused_%s", fetch_refusals[i]);
		FS_U64(refused[i], key);
	}
	for (i = FETCH_E_ORIGIN; i < FETCH_OUTCOMES; i++) {
		snprintf(key, sizeof(key), "errors_%s", fetch_outcomes[i]);
		FS_U64(errors[i], key);
	}
#undef FS_U64
#undef FS_I64
	v = config_get(top, "last_outcome", NULL);
	st->last_outcome = FETCH_CURRENT;
	for (i = 0; v && i < FETCH_OUTCOMES; i++)
		if (!strcmp(v, fetch_outcomes[i]))
			st->last_outcome = (int)i;
	/* A validator too long to be one we kept is dropped, not cut: the
	 * next request is then unconditional. */
	if ((v = config_get(top, "etag", NULL)) &&
	    util_strlcpy(st->etag, v, sizeof(st->etag)) >= sizeof(st->etag))
		st->etag[0] = '\0';
	if ((v = config_get(top, "last_modified", NULL)) &&
	    util_strlcpy(st->last_modified, v, sizeof(st->last_modified)) >=
	    sizeof(st->last_modified))
		st->last_modified[0] = '\0';
	if ((v = config_get(top, "last_error", NULL)))
		util_copy_text(st->last_error, v, sizeof(st->last_error));
	config_free(cfg);
	return 0;
fail:
	config_free(cfg);
	memset(st, 0, sizeof(*st));
	return -1;
}

/* One line per value: nothing in a value may start a new line. */
static const char *fetch_oneline(const char *s, char *out, size_t size)
{
	size_t i;

	util_copy_fit(out, s, size);	/* out is as large as s's buffer */
	for (i = 0; out[i]; i++)
		if (out[i] == '\n' || out[i] == '\r')
			out[i] = ' ';
	return out;
}

static int fetch_state_save(struct fetcher *f, char *err, size_t errlen)
{
	const struct fetch_state *st = &f->st;
	char e1[HTTP_VALIDATOR_MAX + 1], e2[HTTP_VALIDATOR_MAX + 1];
	char e3[FETCH_ERROR_MAX];
	struct buf b;
	size_t i;
	int rc;

	buf_init(&b, FETCH_STATE_FILE_MAX);
	rc = buf_printf(&b, "# dircat-fetch: the state of catalog %s on "
			"this node; rewritten after every poll\n"
			"manifest_epoch = %" PRIu64 "\nmanifest_serial = %" PRIu64
			"\nmanifest_published = %lld\nmanifest_expires = %lld\n"
			"etag = %s\nlast_modified = %s\n"
			"delivered_epoch = %" PRIu64 "\ndelivered_serial = %"
			PRIu64 "\ndelivered_full = %d\ndelivered_at = %lld\n"
			"node_epoch = %" PRIu64 "\nnode_serial = %" PRIu64 "\n"
			"last_poll = %lld\nlast_success = %lld\n"
			"last_change = %lld\nlast_outcome = %s\n"
			"last_error = %s\nlast_error_at = %lld\n"
			"polls = %" PRIu64 "\nnot_modified = %" PRIu64 "\n"
			"files = %" PRIu64 "\nbytes = %" PRIu64 "\n",
			f->c->catalog_id, st->m_epoch, st->m_serial,
			(long long)st->m_published, (long long)st->m_expires,
			fetch_oneline(st->etag, e1, sizeof(e1)),
			fetch_oneline(st->last_modified, e2, sizeof(e2)),
			st->delivered_epoch, st->delivered_serial,
			st->delivered_full, (long long)st->delivered_at,
			st->node_epoch, st->node_serial,
			(long long)st->last_poll, (long long)st->last_success,
			(long long)st->last_change,
			fetch_outcome_name(st->last_outcome),
			fetch_oneline(st->last_error, e3, sizeof(e3)),
			(long long)st->last_error_at, st->polls,
			st->not_modified, st->files, st->bytes);
	for (i = 0; i < FETCH_REFUSALS; i++)
		rc |= buf_printf(&b, "refused_%s = %" PRIu64 "\n",
				 fetch_refusals[i], st->refused[i]);
	for (i = FETCH_E_ORIGIN; i < FETCH_OUTCOMES; i++)
		rc |= buf_printf(&b, "errors_%s = %" PRIu64 "\n",
				 fetch_outcomes[i], st->errors[i]);
	if (rc < 0) {
		util_err(err, errlen, "%s: state too long", f->state_path);
		buf_free(&b);
		return -1;
	}
	rc = util_write_file_atomic(f->state_path, b.data, b.len, 0640, err,
				    errlen);
	buf_free(&b);
	return rc;
}

void fetch_state_print(const struct fetch_state *st, const char *catalog_id,
		       int64_t now, FILE *out)
{
	char t1[32], t2[32];

	fprintf(out, "catalog: %s\n", catalog_id);
	if (st->have_manifest)
		fprintf(out, "manifest: epoch %" PRIu64 " serial %" PRIu64
			", published %s, expires %s%s\n", st->m_epoch,
			st->m_serial,
			util_time_iso((time_t)st->m_published, t1, sizeof(t1)),
			util_time_iso((time_t)st->m_expires, t2, sizeof(t2)),
			st->m_expires <= now ? " (EXPIRED)" : "");
	else
		fprintf(out, "manifest: none accepted yet\n");
	fprintf(out, "node: epoch %" PRIu64 " serial %" PRIu64 "%s\n",
		st->node_epoch, st->node_serial,
		st->have_manifest && st->node_epoch == st->m_epoch &&
		st->node_serial == st->m_serial ? " (current)" : "");
	if (st->delivered_at)
		fprintf(out, "delivered: epoch %" PRIu64 " serial %" PRIu64
			" (%s) at %s\n", st->delivered_epoch,
			st->delivered_serial,
			st->delivered_full ? "full" : "deltas",
			util_time_iso((time_t)st->delivered_at, t1,
				      sizeof(t1)));
	fprintf(out, "last poll: %s, %s\n",
		st->last_poll ? util_time_iso((time_t)st->last_poll, t1,
					      sizeof(t1)) : "never",
		fetch_outcome_name(st->last_outcome));
	fprintf(out, "last success: %s\n",
		st->last_success ? util_time_iso((time_t)st->last_success, t1,
						 sizeof(t1)) : "never");
	if (st->last_error_at)
		fprintf(out, "last error: %s %s\n",
			util_time_iso((time_t)st->last_error_at, t1,
				      sizeof(t1)), st->last_error);
	fprintf(out, "polls: %" PRIu64 " (%" PRIu64 " not modified), %"
		PRIu64 " files, %" PRIu64 " bytes fetched\n", st->polls,
		st->not_modified, st->files, st->bytes);
}

/* ---- metrics ---------------------------------------------------------- */

static void fetch_metrics(struct fetcher *f, int64_t now)
{
	const struct fetch_state *st = &f->st;
	struct metrics m;
	struct buf b;
	char err[512];
	size_t i;

	if (!f->c->metrics_file)
		return;
	buf_init(&b, FETCH_METRICS_MAX);
	metrics_init(&m, &b);
	metrics_gauge(&m, "dircat_fetch_last_poll_timestamp_seconds",
		      "When the manifest was last polled (Unix time).",
		      st->last_poll);
	metrics_gauge(&m, "dircat_fetch_last_success_timestamp_seconds",
		      "When a poll last ended with the node current or files "
		      "delivered (Unix time).", st->last_success);
	metrics_family(&m, "dircat_fetch_last_outcome", "gauge",
		       "1 for the outcome of the last poll.");
	for (i = 0; i < FETCH_OUTCOMES; i++)
		metrics_u64(&m, "outcome", fetch_outcomes[i], NULL, NULL,
			    st->last_outcome == (int)i);
	metrics_gauge(&m, "dircat_fetch_manifest_epoch",
		      "Epoch of the newest manifest accepted.",
		      (int64_t)st->m_epoch);
	metrics_gauge(&m, "dircat_fetch_manifest_serial",
		      "Serial of the newest manifest accepted (the latest "
		      "published, as far as this node knows).",
		      (int64_t)st->m_serial);
	metrics_gauge(&m, "dircat_fetch_manifest_published_timestamp_seconds",
		      "When that manifest was signed (Unix time).",
		      st->m_published);
	metrics_gauge(&m, "dircat_fetch_manifest_expires_timestamp_seconds",
		      "When that manifest stops being believed (Unix time).",
		      st->m_expires);
	metrics_gauge(&m, "dircat_fetch_node_epoch",
		      "Epoch of the catalog catalogd serves here.",
		      (int64_t)st->node_epoch);
	metrics_gauge(&m, "dircat_fetch_node_serial",
		      "Serial of the catalog catalogd serves here.",
		      (int64_t)st->node_serial);
	metrics_gauge(&m, "dircat_fetch_current",
		      "1 when catalogd serves the manifest's epoch and serial.",
		      st->have_manifest && st->node_epoch == st->m_epoch &&
		      st->node_serial == st->m_serial);
	metrics_counter(&m, "dircat_fetch_polls_total",
			"Polls of the manifest.", st->polls);
	metrics_counter(&m, "dircat_fetch_not_modified_total",
			"Polls answered 304 Not Modified.", st->not_modified);
	metrics_counter(&m, "dircat_fetch_files_total",
			"Snapshot files dropped into the inbox.", st->files);
	metrics_counter(&m, "dircat_fetch_bytes_total",
			"Snapshot bytes fetched.", st->bytes);
	metrics_family(&m, "dircat_fetch_refusals_total", "counter",
		       "Manifests and files refused, by reason.");
	for (i = 0; i < FETCH_REFUSALS; i++)
		metrics_u64(&m, "reason", fetch_refusals[i], NULL, NULL,
			    st->refused[i]);
	metrics_family(&m, "dircat_fetch_errors_total", "counter",
		       "Polls that failed, by kind.");
	for (i = FETCH_E_ORIGIN; i < FETCH_OUTCOMES; i++)
		metrics_u64(&m, "kind", fetch_outcomes[i], NULL, NULL,
			    st->errors[i]);
	(void)now;
	if (metrics_write_file(&m, f->c->metrics_file, err, sizeof(err)) < 0)
		log_error("metrics_file: %s", err);
}

/* ---- one poll ---------------------------------------------------------- */

struct fetcher *fetcher_new(const struct fetchconf *c, char *err,
			    size_t errlen)
{
	struct fetcher *f = xcalloc(1, sizeof(*f));
	char why[1024];

	f->c = c;
	if (mkdir(c->state_dir, 0750) < 0 && errno != EEXIST) {
		util_err(err, errlen, "state_dir %s: %s", c->state_dir,
			 strerror(errno));
		free(f);
		return NULL;
	}
	if ((size_t)snprintf(f->state_path, sizeof(f->state_path),
			     "%s/%s.state", c->state_dir, c->catalog_id) >=
		    sizeof(f->state_path) ||
	    (size_t)snprintf(f->manifest_path, sizeof(f->manifest_path),
			     "%s/%s.manifest", c->state_dir, c->catalog_id) >=
		    sizeof(f->manifest_path)) {
		util_err(err, errlen, "state_dir: path too long");
		free(f);
		return NULL;
	}
	if (fetch_state_load(f, why, sizeof(why)) < 0)
		log_warn("%s; starting afresh", why);
	f->http = http_new(c);
	return f;
}

void fetcher_free(struct fetcher *f)
{
	if (!f)
		return;
	http_free(f->http);
	free(f);
}

const struct fetch_state *fetcher_state(const struct fetcher *f)
{
	return &f->st;
}

/* Record a failed poll. */
__attribute__((format(printf, 4, 5)))
static int fetch_fail(struct fetcher *f, int outcome, int64_t now,
		      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->st.last_error, sizeof(f->st.last_error), fmt, ap);
	va_end(ap);
	f->st.last_error_at = now;
	f->st.errors[outcome]++;
	log_error("%s", f->st.last_error);
	return outcome;
}

/* What catalogd has installed: 0 with *epoch and *serial (0: nothing
 * yet), -1 with err. */
static int fetch_node(struct fetcher *f, uint64_t *epoch, uint64_t *serial,
		      char *err, size_t errlen)
{
	struct nodestatus ns;
	char path[FETCH_PATH_MAX];

	*epoch = *serial = 0;
	if ((size_t)snprintf(path, sizeof(path), "%s/status", f->c->inbox) >=
	    sizeof(path)) {
		util_err(err, errlen, "inbox path too long");
		return -1;
	}
	if (access(path, F_OK) < 0 && errno == ENOENT)
		return 0;
	if (nodestatus_read(path, &ns, err, errlen) < 0)
		return -1;
	if (ns.catalog_id[0] && strcmp(ns.catalog_id, f->c->catalog_id)) {
		util_err(err, errlen, "%s: catalogd serves catalog '%s', not "
			 "'%s'", path, ns.catalog_id, f->c->catalog_id);
		return -1;
	}
	*epoch = ns.epoch;
	*serial = ns.serial;
	return 0;
}

/* The inbox's name for a file: ID.SERIAL.full.snap or
 * ID.BASE-SERIAL.delta.snap. */
static void fetch_inbox_name(const struct fetcher *f,
			     const struct manifest_file *mf, char *out,
			     size_t size)
{
	if (mf->full)
		snprintf(out, size, "%s.%" PRIu64 ".full.snap",
			 f->c->catalog_id, mf->serial);
	else
		snprintf(out, size, "%s.%" PRIu64 "-%" PRIu64 ".delta.snap",
			 f->c->catalog_id, mf->base, mf->serial);
}

/*
 * Fetch one file to INBOX/.NAME.part, check its size and hash, and
 * rename it to NAME.  Returns FETCH_DELIVERED, or an error outcome
 * (recorded).
 */
static int fetch_file(struct fetcher *f, const struct manifest_file *mf,
		      int64_t now)
{
	char name[MANIFEST_NAME_MAX + 64], part[sizeof(name) + 8];
	char tmp[FETCH_PATH_MAX], dst[FETCH_PATH_MAX];
	char url[FETCHCONF_URL_MAX + MANIFEST_NAME_MAX + 8];
	unsigned char got[SIGN_SHA256_LEN];
	struct sign_sha256 *h;
	struct http_result res;
	int fd, dfd, rc;

	if (mf->size > (uint64_t)f->c->max_download)
		return fetch_fail(f, FETCH_E_REFUSED, now, "%s: %" PRIu64
				  " bytes, more than max_download (%lld)",
				  mf->name, mf->size,
				  (long long)f->c->max_download);
	fetch_inbox_name(f, mf, name, sizeof(name));
	snprintf(part, sizeof(part), ".%s.part", name);
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/%s", f->c->inbox, part) >=
		    sizeof(tmp) ||
	    (size_t)snprintf(dst, sizeof(dst), "%s/%s", f->c->inbox, name) >=
		    sizeof(dst) ||
	    (size_t)snprintf(url, sizeof(url), "%s%s", f->c->base_url,
			     mf->name) >= sizeof(url))
		return fetch_fail(f, FETCH_E_LOCAL, now, "path too long");
	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  f->c->file_mode);
	if (fd < 0)
		return fetch_fail(f, FETCH_E_LOCAL, now, "%s: %s", tmp,
				  strerror(errno));
	(void)fchmod(fd, f->c->file_mode);
	h = sign_sha256_new();
	rc = http_get_fd(f->http, url, fd, mf->size, h, &res);
	if (rc < 0 || res.status != 200) {
		sign_sha256_free(h);
		close(fd);
		unlink(tmp);
		if (rc == 0)
			return fetch_fail(f, FETCH_E_ORIGIN, now, "%s: HTTP "
					  "%ld", url, res.status);
		if (res.too_large) {
			f->st.refused[FETCH_R_BAD_FILE]++;
			return fetch_fail(f, FETCH_E_REFUSED, now, "%s "
					  "(the manifest says %" PRIu64 ")",
					  res.msg, mf->size);
		}
		return fetch_fail(f, FETCH_E_ORIGIN, now, "%s", res.msg);
	}
	sign_sha256_final(h, got);
	f->st.bytes += res.bytes;
	if (res.bytes != mf->size ||
	    memcmp(got, mf->sha256, SIGN_SHA256_LEN)) {
		close(fd);
		unlink(tmp);
		f->st.refused[FETCH_R_BAD_FILE]++;
		return fetch_fail(f, FETCH_E_REFUSED, now, "%s: %" PRIu64
				  " bytes%s, not the %" PRIu64 " bytes and "
				  "SHA-256 the signed manifest lists: "
				  "refused (a damaged or forged copy)", url,
				  res.bytes, res.bytes == mf->size ?
				  " with another hash" : "", mf->size);
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		unlink(tmp);
		return fetch_fail(f, FETCH_E_LOCAL, now, "%s: %s", tmp,
				  strerror(errno));
	}
	if (rename(tmp, dst) < 0) {
		int e = errno;

		unlink(tmp);
		return fetch_fail(f, FETCH_E_LOCAL, now, "rename %s: %s", tmp,
				  strerror(e));
	}
	dfd = open(f->c->inbox, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	f->st.files++;
	log_info("fetched %s as %s (%" PRIu64 " bytes, %.2fs)", mf->name,
		 name, mf->size, res.seconds);
	return FETCH_DELIVERED;
}

/* Read the manifest: 0 with the text in b (and its validators in res,
 * "" when it is our own copy after a 304), or an error outcome. */
static int fetch_manifest_text(struct fetcher *f, struct buf *b,
			       struct http_result *resp, int64_t now)
{
	struct http_result res;
	char why[512];
	char *text;
	size_t len;
	int have_copy = access(f->manifest_path, F_OK) == 0;

	if (http_get_buf(f->http, f->c->manifest_url,
			 have_copy ? f->st.etag : NULL,
			 have_copy ? f->st.last_modified : NULL, b, &res) < 0) {
		if (res.too_large) {
			f->st.refused[FETCH_R_BAD_MANIFEST]++;
			return fetch_fail(f, FETCH_E_REFUSED, now, "manifest "
					  "%s", res.msg);
		}
		return fetch_fail(f, FETCH_E_ORIGIN, now, "manifest: %s",
				  res.msg);
	}
	if (res.status == 304 && have_copy) {
		f->st.not_modified++;
		text = util_read_file(f->manifest_path, MANIFEST_FILE_MAX, &len,
				      why, sizeof(why));
		if (!text)
			return fetch_fail(f, FETCH_E_LOCAL, now, "%s", why);
		b->len = 0;
		buf_append(b, text, len);
		free(text);
		util_copy_fit(res.etag, f->st.etag, sizeof(res.etag));
		util_copy_fit(res.last_modified, f->st.last_modified,
			      sizeof(res.last_modified));
		*resp = res;
		return 0;
	}
	if (res.status != 200)
		return fetch_fail(f, FETCH_E_ORIGIN, now, "manifest %s: HTTP "
				  "%ld", f->c->manifest_url, res.status);
	*resp = res;
	return 0;
}

/* Check the manifest in b and make it the accepted one: 0, or an error
 * outcome.  Only an accepted manifest's validators are kept: a refused
 * copy is asked for in full next time. */
static int fetch_accept(struct fetcher *f, const struct buf *b,
			const struct http_result *res, int64_t now)
{
	struct manifest *m = &f->m;
	char why[1024];
	int code, order;

	f->st.etag[0] = f->st.last_modified[0] = '\0';
	if (manifest_parse(b->data, b->len, f->c->keys, m, &code, why,
			   sizeof(why)) < 0) {
		f->st.refused[FETCH_R_BAD_MANIFEST]++;
		return fetch_fail(f, FETCH_E_REFUSED, now, "%s: %s",
				  f->c->manifest_url, why);
	}
	if (strcmp(m->catalog_id, f->c->catalog_id) ||
	    strcmp(m->projection, f->c->projection)) {
		f->st.refused[FETCH_R_WRONG_CATALOG]++;
		return fetch_fail(f, FETCH_E_REFUSED, now, "%s: a manifest "
				  "of catalog %s projection %s, not %s %s: "
				  "check manifest_url", f->c->manifest_url,
				  m->catalog_id, m->projection,
				  f->c->catalog_id, f->c->projection);
	}
	if (manifest_fresh(m, now, why, sizeof(why)) < 0) {
		f->st.refused[FETCH_R_STALE]++;
		return fetch_fail(f, FETCH_E_REFUSED, now, "%s: %s",
				  f->c->manifest_url, why);
	}
	order = f->st.have_manifest ?
		manifest_order(m->epoch, m->serial, m->published,
			       f->st.m_epoch, f->st.m_serial,
			       f->st.m_published) : 1;
	if (order < 0) {
		f->st.refused[FETCH_R_REPLAY]++;
		return fetch_fail(f, FETCH_E_REFUSED, now, "%s: epoch %"
				  PRIu64 " serial %" PRIu64 " published %lld "
				  "is older than the manifest already accepted "
				  "(epoch %" PRIu64 " serial %" PRIu64
				  " published %lld): a replayed copy, or a "
				  "cache lagging behind; ignored",
				  f->c->manifest_url, m->epoch, m->serial,
				  (long long)m->published, f->st.m_epoch,
				  f->st.m_serial,
				  (long long)f->st.m_published);
	}
	if (order > 0) {
		if (util_write_file_atomic(f->manifest_path, b->data, b->len,
					   0640, why, sizeof(why)) < 0)
			return fetch_fail(f, FETCH_E_LOCAL, now, "%s", why);
		if (m->epoch != f->st.m_epoch || m->serial != f->st.m_serial)
			log_info("manifest: catalog %s epoch %" PRIu64
				 " serial %" PRIu64 " (was epoch %" PRIu64
				 " serial %" PRIu64 ")", m->catalog_id,
				 m->epoch, m->serial, f->st.m_epoch,
				 f->st.m_serial);
		f->st.have_manifest = 1;
		f->st.m_epoch = m->epoch;
		f->st.m_serial = m->serial;
		f->st.m_published = m->published;
		f->st.m_expires = m->expires;
	}
	util_copy_fit(f->st.etag, res->etag, sizeof(f->st.etag));
	util_copy_fit(f->st.last_modified, res->last_modified,
		      sizeof(f->st.last_modified));
	return 0;
}

/* From the accepted manifest: what the node needs, fetched. */
static int fetch_update(struct fetcher *f, uint64_t node_epoch,
			uint64_t node_serial, int64_t now)
{
	const struct manifest *m = &f->m;
	const struct manifest_file *steps[MANIFEST_PLAN_MAX];
	struct fetch_state *st = &f->st;
	char why[512];
	size_t n, i;
	int rc, same;

	rc = manifest_plan(m, node_epoch, node_serial, now, steps, &n, why,
			   sizeof(why));
	/* INBOX/status is catalogd's, but whoever writes the inbox (the
	 * upload account, on a node that is also pushed to) can replace it.
	 * So it may choose how the node is brought up to date, never that
	 * it is not: a serial it claims the node has, or is past, that was
	 * never delivered from here is delivered once, in full.  catalogd
	 * installs it, or refuses it as not newer than what it serves. */
	if (rc <= 0 && (st->delivered_epoch != m->epoch ||
			st->delivered_serial != m->serial)) {
		log_warn("%s/status says epoch %" PRIu64 " serial %" PRIu64
			 ", %s epoch %" PRIu64 " serial %" PRIu64 " of the "
			 "manifest, which was not delivered from here: "
			 "delivering its full snapshot", f->c->inbox,
			 node_epoch, node_serial, rc < 0 ? "ahead of" : "at",
			 m->epoch, m->serial);
		steps[0] = &m->full;
		n = 1;
		rc = 1;
	}
	if (rc < 0)
		return fetch_fail(f, FETCH_E_NODE, now, "%s (was the catalog "
				  "rebuilt without a new epoch?)", why);
	if (rc == 0) {
		st->delivered_at = 0;
		return FETCH_CURRENT;
	}
	same = st->delivered_at > 0 && st->delivered_epoch == m->epoch &&
	       st->delivered_serial == m->serial;
	if (same && now - st->delivered_at < f->c->install_grace)
		return FETCH_WAITING;
	if (same) {
		/* Delivered, not installed after install_grace: catalogd
		 * refused it, or is not running.  Once more, in full. */
		fetch_fail(f, FETCH_E_NODE, now, "epoch %" PRIu64 " serial %"
			   PRIu64 " was delivered %llds ago and catalogd still "
			   "serves serial %" PRIu64 " (is it running? see the "
			   "inbox's rejected/ directory); fetching the full "
			   "snapshot", m->epoch, m->serial,
			   (long long)(now - st->delivered_at), node_serial);
		steps[0] = &m->full;
		n = 1;
	}
	for (i = 0; i < n; i++) {
		rc = fetch_file(f, steps[i], now);
		if (rc != FETCH_DELIVERED)
			return rc;
	}
	st->delivered_epoch = m->epoch;
	st->delivered_serial = m->serial;
	st->delivered_full = n == 1 && steps[0]->full;
	st->delivered_at = now;
	st->last_change = now;
	return same ? FETCH_E_NODE : FETCH_DELIVERED;
}

int fetcher_poll(struct fetcher *f, int64_t now)
{
	struct fetch_state *st = &f->st;
	struct http_result res;
	struct buf b;
	uint64_t node_epoch = 0, node_serial = 0;
	char why[1024];
	int rc;

	st->polls++;
	st->last_poll = now;
	buf_init(&b, MANIFEST_FILE_MAX);
	if (fetch_node(f, &node_epoch, &node_serial, why, sizeof(why)) < 0) {
		rc = fetch_fail(f, FETCH_E_NODE, now, "%s", why);
		goto out;
	}
	st->node_epoch = node_epoch;
	st->node_serial = node_serial;
	rc = fetch_manifest_text(f, &b, &res, now);
	if (rc != 0)
		goto out;
	rc = fetch_accept(f, &b, &res, now);
	if (rc != 0)
		goto out;
	rc = fetch_update(f, node_epoch, node_serial, now);
out:
	st->last_outcome = rc;
	if (rc == FETCH_CURRENT || rc == FETCH_DELIVERED ||
	    rc == FETCH_WAITING)
		st->last_success = now;
	if (fetch_state_save(f, why, sizeof(why)) < 0) {
		log_error("%s", why);
		if (rc < FETCH_E_ORIGIN)
			rc = FETCH_E_LOCAL;
	}
	fetch_metrics(f, now);
	buf_free(&b);
	return rc;
}
