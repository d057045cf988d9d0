/*
 * publish.c - the catalog to HTTP origins and S3 stores, with a signed
 * manifest; see publish.h and schema/manifest.md.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "manifest.h"
#include "publish.h"
#include "snapshot.h"
#include "snapwrite.h"
#include "util.h"

#define PUBLISH_HASH_BUFFER   (1024 * 1024)	/* bytes read at a time */
#define PUBLISH_STATE_MAX     (PUBLISH_RETIRED_MAX * (MANIFEST_NAME_MAX + 1))
#define PUBLISH_CACHE_IMMUTABLE "max-age=31536000, immutable"
#define PUBLISH_NAME_HASH_HEX 8	/* hex digits of SHA-256 in a name */
#define PUBLISH_REPLACE_WAIT_MAX 2	/* seconds; publish_replace_after() */

const char *publish_action_name(int action)
{
	switch (action) {
	case PUBLISH_CURRENT:
		return "current";
	case PUBLISH_REFRESHED:
		return "refreshed";
	case PUBLISH_NEW:
		return "published";
	case PUBLISH_FAILED:
		return "failed";
	}
	return "?";
}

/* SHA-256 of a file.  0, or -1 with err. */
static int publish_hash_file(const char *path, unsigned char out[32],
			     char *err, size_t errlen)
{
	struct sign_sha256 *h;
	unsigned char *b;
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f) {
		util_err(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	b = xmalloc(PUBLISH_HASH_BUFFER);
	h = sign_sha256_new();
	while ((n = fread(b, 1, PUBLISH_HASH_BUFFER, f)) > 0)
		sign_sha256_update(h, b, n);
	free(b);
	if (ferror(f)) {
		util_err(err, errlen, "%s: read error", path);
		sign_sha256_free(h);
		fclose(f);
		return -1;
	}
	fclose(f);
	sign_sha256_final(h, out);
	return 0;
}

/* A projection's name in manifests and object names ("all": none). */
static const char *publish_projection(int projection)
{
	return projection == SNAPWRITE_MX ? "mx" : "all";
}

/* The manifest's object name: ID.manifest, or ID.PROJECTION.manifest. */
static void publish_manifest_name(const struct publish_params *p,
				  int projection, char *out, size_t size)
{
	if (projection == SNAPWRITE_ALL)
		snprintf(out, size, "%s.manifest", p->catalog_id);
	else
		snprintf(out, size, "%s.%s.manifest", p->catalog_id,
			 publish_projection(projection));
}

/*
 * A spool file as an entry of the manifest, named on the origin
 * ID.eEPOCH.SERIAL.HASH8.full.snap or ID.eEPOCH.BASE-SERIAL.HASH8.delta.snap.
 */
static int publish_file(const struct publish_params *p, int projection,
			const struct spool_file *sf, struct manifest_file *mf,
			char *err, size_t errlen)
{
	char hex[65], id[CATALOG_ID_MAX + MANIFEST_PROJECTION_MAX + 2];
	int n, i;

	memset(mf, 0, sizeof(*mf));
	if (publish_hash_file(sf->path, mf->sha256, err, errlen) < 0)
		return -1;
	for (i = 0; i < PUBLISH_NAME_HASH_HEX / 2; i++)
		snprintf(hex + 2 * i, 3, "%02x", mf->sha256[i]);
	mf->full = sf->type == SNAPSHOT_FULL;
	mf->base = sf->base;
	mf->serial = sf->serial;
	mf->size = sf->size;
	mf->expires = sf->expires;
	if (projection == SNAPWRITE_ALL)
		snprintf(id, sizeof(id), "%s", p->catalog_id);
	else
		snprintf(id, sizeof(id), "%s.%s", p->catalog_id,
			 publish_projection(projection));
	if (mf->full)
		n = snprintf(mf->name, sizeof(mf->name), "%s.e%" PRIu64 ".%"
			     PRIu64 ".%s.full.snap", id, p->epoch,
			     sf->serial, hex);
	else
		n = snprintf(mf->name, sizeof(mf->name), "%s.e%" PRIu64 ".%"
			     PRIu64 "-%" PRIu64 ".%s.delta.snap", id,
			     p->epoch, sf->base, sf->serial, hex);
	if (n < 0 || (size_t)n >= sizeof(mf->name)) {
		util_err(err, errlen, "object name for %s too long", sf->name);
		return -1;
	}
	return 0;
}

/* STATE_DIR/publish-NAME.state: the objects retired by the last run,
 * one name a line.  Missing is fine (none); bad names are skipped. */
static size_t publish_state_load(const struct repconf *conf,
				 const char *dest,
				 char names[][MANIFEST_NAME_MAX + 1])
{
	char path[8192], err[512], *text, *line, *save = NULL;
	size_t len, n = 0;

	if ((size_t)snprintf(path, sizeof(path), "%s/publish-%s.state",
			     conf->state_dir, dest) >= sizeof(path))
		return 0;
	if (access(path, F_OK) < 0)
		return 0;
	text = util_read_file(path, PUBLISH_STATE_MAX, &len, err, sizeof(err));
	if (!text) {
		log_warn("publish %s: %s; old objects are left in place", dest,
			 err);
		return 0;
	}
	for (line = strtok_r(text, "\n", &save); line && n < PUBLISH_RETIRED_MAX;
	     line = strtok_r(NULL, "\n", &save))
		if (manifest_name_valid(line, strlen(line)))
			util_copy_fit(names[n++], line, MANIFEST_NAME_MAX + 1);
	free(text);
	return n;
}

static int publish_state_save(const struct repconf *conf, const char *dest,
			      char names[][MANIFEST_NAME_MAX + 1], size_t n,
			      char *err, size_t errlen)
{
	char path[8192];
	struct buf b;
	size_t i;
	int rc;

	if ((size_t)snprintf(path, sizeof(path), "%s/publish-%s.state",
			     conf->state_dir, dest) >= sizeof(path)) {
		util_err(err, errlen, "state_dir: path too long");
		return -1;
	}
	buf_init(&b, PUBLISH_STATE_MAX + 1);
	for (i = 0; i < n; i++)
		buf_printf(&b, "%s\n", names[i]);
	rc = util_write_file_atomic(path, b.data, b.len, 0640, err, errlen);
	buf_free(&b);
	return rc;
}

/* Does m list an object of this name? */
static int publish_listed(const struct manifest *m, const char *name)
{
	size_t i;

	if (!strcmp(m->full.name, name))
		return 1;
	for (i = 0; i < m->ndeltas; i++)
		if (!strcmp(m->deltas[i].name, name))
			return 1;
	return 0;
}

/* A request with the destination's retries (retry_delay doubling up to
 * retry_delay_max).  op: 0 get, 1 put, 2 delete.  Returns what the
 * request returned. */
struct publish_req {
	int op;
	const char *name, *path;
	const void *data;
	size_t len;
	const unsigned char *sha256;
	const char *cache_control;
	struct buf *out;
};

static int publish_request(struct xfer *x, const struct repconf_target *d,
			   const struct publish_req *rq,
			   struct xfer_result *res)
{
	int64_t delay = d->retry_delay;
	int attempt, rc = -1;

	for (attempt = 0; attempt <= d->retries; attempt++) {
		if (attempt > 0) {
			log_info("publish %s: %s; trying again in %llds",
				 d->name, res->msg, (long long)delay);
			sleep((unsigned)delay);
			delay = delay * 2 > d->retry_delay_max ?
				d->retry_delay_max : delay * 2;
		}
		switch (rq->op) {
		case 0:
			rc = xfer_object_get(x, rq->name, rq->out, res);
			break;
		case 1:
			rc = xfer_object_put(x, rq->name, rq->path, rq->data,
					     rq->len, rq->sha256,
					     rq->cache_control, res);
			break;
		default:
			rc = xfer_object_delete(x, rq->name, res);
			break;
		}
		if (rc >= 0 || !res->retryable)
			break;
	}
	return rc;
}

/*
 * When the manifest read at `seen' (util_now()) may be replaced.  Caches
 * and stores compare Last-Modified to the second, and nginx's ETag is
 * made of the modification time in seconds and the length: a manifest
 * replaced within the second it was written can keep both, and then a
 * cache revalidating it, or a node asking with If-Modified-Since, is told
 * "304 Not Modified" and keeps the old one until the next change.  Some
 * stores (Swift, Amazon S3) even answer 304 to If-Modified-Since when
 * If-None-Match does not match.  So the new manifest is written only once
 * the store's own clock is past the old one's Last-Modified second: right
 * away when the store's Date is a second or more after it, else after the
 * difference (a second when the store sent no dates; Swift rounds
 * Last-Modified up, hence up to two).
 */
static double publish_replace_after(const struct xfer_result *xr,
				    double seen)
{
	int64_t need;

	if (xr->last_modified > 0 && xr->date > 0)
		need = xr->last_modified + 1 - xr->date;
	else
		need = 1;
	if (need < 0)
		need = 0;
	if (need > PUBLISH_REPLACE_WAIT_MAX)
		need = PUBLISH_REPLACE_WAIT_MAX;
	return seen + (double)need;
}

/* The bytes of destination d's manifest into b, over x (or over a
 * connection of its own when x is NULL): 1 read, 0 none published, -1
 * failed (xr->msg says why). */
static int publish_get_manifest(const struct publish_params *p,
				const struct repconf_target *d, struct xfer *x,
				struct buf *b, struct xfer_result *xr)
{
	struct publish_req rq;
	struct xfer *own = NULL;
	char name[CATALOG_ID_MAX + 32];
	int rc;

	memset(xr, 0, sizeof(*xr));
	if (!x) {
		x = own = xfer_new(d, NULL, xr->msg, sizeof(xr->msg));
		if (!x)
			return -1;
	}
	publish_manifest_name(p, d->projection, name, sizeof(name));
	memset(&rq, 0, sizeof(rq));
	rq.op = 0;
	rq.name = name;
	rq.out = b;
	rc = publish_request(x, d, &rq, xr);
	xfer_free(own);
	return rc;
}

/* Read the destination's manifest into *prev: 1 read and verified, 0 none
 * (or unusable, said why), -1 failed (r->error set).  *replace_after:
 * when the manifest there may be replaced (publish_replace_after()). */
static int publish_read_prev(const struct publish_params *p,
			     const struct repconf_target *d, struct xfer *x,
			     const struct sign_keyring *kr,
			     struct manifest *prev,
			     struct publish_result *r, double *replace_after)
{
	struct xfer_result xr;
	struct buf b;
	char err[512];
	int rc, code, verified = 1;

	buf_init(&b, MANIFEST_FILE_MAX);
	*replace_after = 0;
	rc = publish_get_manifest(p, d, x, &b, &xr);
	if (rc < 0) {
		util_copy_fit(r->error, xr.msg, sizeof(r->error));
		buf_free(&b);
		return -1;
	}
	if (rc == 0) {
		buf_free(&b);
		return 0;
	}
	*replace_after = publish_replace_after(&xr, util_now());
	if (manifest_parse(b.data, b.len, kr, prev, &code, err,
			   sizeof(err)) < 0) {
		/* Signed by another key (a rotation) or damaged: read what
		 * it claims, only to refuse going backwards. */
		verified = 0;
		log_warn("publish %s: the manifest there does not verify "
			 "with our key (%s): the chain starts afresh", d->name,
			 err);
		if (manifest_parse(b.data, b.len, NULL, prev, &code, err,
				   sizeof(err)) < 0) {
			buf_free(&b);
			return 0;
		}
	}
	buf_free(&b);
	r->prev_known = 1;
	r->prev_epoch = prev->epoch;
	r->prev_serial = prev->serial;
	if (strcmp(prev->catalog_id, p->catalog_id)) {
		snprintf(r->error, sizeof(r->error), "the manifest there is "
			 "for catalog '%s', not '%s': check the url",
			 prev->catalog_id, p->catalog_id);
		return -1;
	}
	if (manifest_order(prev->epoch, prev->serial, 0, p->epoch, p->serial,
			   0) > 0) {
		snprintf(r->error, sizeof(r->error), "the manifest there has "
			 "epoch %" PRIu64 " serial %" PRIu64 ", ahead of this "
			 "catalog's epoch %" PRIu64 " serial %" PRIu64 ": "
			 "another internal host publishes there, or this one "
			 "was restored or rebuilt; nothing published (a "
			 "rebuilt catalog needs a new epoch: "
			 "dircat-replicator --new-epoch)", prev->epoch,
			 prev->serial, p->epoch, p->serial);
		return -1;
	}
	return verified;
}

/* Upload one snapshot file unless the previous manifest already had it. */
static int publish_upload(const struct publish_params *p,
			  const struct repconf_target *d, struct xfer *x,
			  const struct spool_file *sf,
			  const struct manifest_file *mf,
			  const struct manifest *prev, int prev_ok,
			  struct publish_result *r)
{
	struct publish_req rq;
	struct xfer_result xr;

	if (prev_ok && publish_listed(prev, mf->name))
		return 0;
	if (p->dry_run) {
		r->uploaded++;
		return 0;
	}
	memset(&rq, 0, sizeof(rq));
	rq.op = 1;
	rq.name = mf->name;
	rq.path = sf->path;
	rq.sha256 = mf->sha256;
	rq.cache_control = PUBLISH_CACHE_IMMUTABLE;
	if (publish_request(x, d, &rq, &xr) < 0) {
		util_copy_fit(r->error, xr.msg, sizeof(r->error));
		return -1;
	}
	r->uploaded++;
	r->bytes += mf->size;
	log_debug("publish %s: %s (%" PRIu64 " bytes) in %.2fs", d->name,
		  mf->name, mf->size, xr.seconds);
	return 0;
}

/* Wait until util_now() reaches t (see publish_replace_after()). */
static void publish_wait_until(const struct repconf_target *d, double t)
{
	double left = t - util_now();
	struct timespec ts;

	if (left <= 0)
		return;
	log_debug("publish %s: the manifest there was written less than a "
		  "second ago (by the store's clock); its replacement waits "
		  "%.2fs so that it has another Last-Modified", d->name, left);
	while ((left = t - util_now()) > 0) {
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
		if (nanosleep(&ts, NULL) < 0 && errno != EINTR)
			break;
	}
}

/* The deltas of prev's chain that m keeps: those still installable while
 * m is believed, the oldest dropped to leave room for one more within
 * keep_deltas. */
static void publish_keep_chain(const struct publish_params *p,
			       const struct repconf_target *d,
			       const struct manifest *prev, struct manifest *m,
			       int64_t now)
{
	size_t i, first;

	for (i = 0; i < prev->ndeltas; i++) {
		const struct manifest_file *f = &prev->deltas[i];

		if (f->serial <= p->serial &&
		    f->expires > now + d->manifest_lifetime)
			m->deltas[m->ndeltas++] = *f;
	}
	if (d->keep_deltas > 0 && m->ndeltas >= (size_t)d->keep_deltas) {
		first = m->ndeltas - (size_t)d->keep_deltas + 1;
		memmove(m->deltas, m->deltas + first,
			(m->ndeltas - first) * sizeof(m->deltas[0]));
		m->ndeltas -= first;
	}
	if (d->keep_deltas == 0)
		m->ndeltas = 0;
}

/*
 * The manifest to be, in m: the full snapshot (*full), the kept chain,
 * and a delta from the serial published before (*delta, or NULL when
 * there is none to make).  prev is used only when prev_ok.  0, or -1
 * with r->error.
 */
static int publish_plan(const struct publish_params *p,
			const struct repconf_target *d, struct spool *sp,
			const struct manifest *prev, int prev_ok,
			struct manifest *m, const struct spool_file **full,
			const struct spool_file **delta, int64_t now,
			struct publish_result *r)
{
	char err[1024];
	int rc;

	*full = *delta = NULL;
	util_copy_fit(m->catalog_id, p->catalog_id, sizeof(m->catalog_id));
	util_copy_fit(m->projection, publish_projection(d->projection),
		      sizeof(m->projection));
	m->epoch = p->epoch;
	m->serial = p->serial;
	if (spool_get(sp, 0, full, err, sizeof(err)) < 0 ||
	    publish_file(p, d->projection, *full, &m->full, err,
			 sizeof(err)) < 0)
		goto fail;
	if (!prev_ok)
		return 0;
	publish_keep_chain(p, d, prev, m, now);
	if (d->keep_deltas > 0 && prev->serial < p->serial &&
	    p->history_oldest > 0 && prev->serial >= p->history_oldest) {
		rc = spool_get(sp, prev->serial, delta, err, sizeof(err));
		if (rc < 0)
			goto fail;
		if (rc == 1)
			*delta = NULL;
		else if (publish_file(p, d->projection, *delta,
				      &m->deltas[m->ndeltas], err,
				      sizeof(err)) < 0)
			goto fail;
		else
			m->ndeltas++;
	}
	return 0;
fail:
	util_copy_text(r->error, err, sizeof(r->error));
	return -1;
}

/* m signed, dated and written as the destination's manifest, once the
 * one there may be replaced (replace_after).  0, or -1 with r->error. */
static int publish_put_manifest(const struct publish_params *p,
				const struct repconf_target *d,
				struct xfer *x, struct manifest *m,
				int64_t now, double replace_after,
				struct publish_result *r)
{
	struct publish_req rq;
	struct xfer_result xr;
	struct buf text;
	char name[CATALOG_ID_MAX + 32], err[1024], cache[64];
	unsigned char h[32];
	int ret = -1;

	buf_init(&text, MANIFEST_FILE_MAX);
	m->published = now;
	m->expires = now + d->manifest_lifetime;
	if (m->expires > m->full.expires)
		m->expires = m->full.expires;
	if (m->expires <= m->published) {
		snprintf(r->error, sizeof(r->error), "the full snapshot "
			 "expires now: check lifetime");
		goto out;
	}
	if (manifest_write(m, p->key, &text, err, sizeof(err)) < 0) {
		util_copy_text(r->error, err, sizeof(r->error));
		goto out;
	}
	publish_manifest_name(p, d->projection, name, sizeof(name));
	snprintf(cache, sizeof(cache), "max-age=%lld",
		 (long long)d->manifest_max_age);
	sign_sha256(text.data, text.len, h);
	memset(&rq, 0, sizeof(rq));
	rq.op = 1;
	rq.name = name;
	rq.data = text.data;
	rq.len = text.len;
	rq.sha256 = h;
	rq.cache_control = cache;
	publish_wait_until(d, replace_after);
	if (publish_request(x, d, &rq, &xr) < 0) {
		util_copy_fit(r->error, xr.msg, sizeof(r->error));
		goto out;
	}
	r->bytes += text.len;
	ret = 0;
out:
	buf_free(&text);
	return ret;
}

/* Objects retired by the previous run are deleted now; those m no longer
 * names (from prev, when it was ours) wait for the next run. */
static void publish_retire(const struct publish_params *p,
			   const struct repconf_target *d, struct xfer *x,
			   const struct manifest *m,
			   const struct manifest *prev, int prev_verified,
			   struct publish_result *r)
{
	char (*retired)[MANIFEST_NAME_MAX + 1] =
		xcalloc(PUBLISH_RETIRED_MAX, sizeof(*retired));
	char (*old)[MANIFEST_NAME_MAX + 1] =
		xcalloc(PUBLISH_RETIRED_MAX, sizeof(*old));
	struct publish_req rq;
	struct xfer_result xr;
	char err[1024];
	size_t nretired = 0, nold, i;

	nold = publish_state_load(p->conf, d->name, old);
	for (i = 0; i < nold; i++) {
		if (publish_listed(m, old[i]))
			continue;
		memset(&rq, 0, sizeof(rq));
		rq.op = 2;
		rq.name = old[i];
		if (publish_request(x, d, &rq, &xr) < 0)
			log_warn("publish %s: %s", d->name, xr.msg);
		else
			r->deleted++;
	}
	if (prev_verified) {
		if (prev->full.name[0] && !publish_listed(m, prev->full.name))
			util_copy_fit(retired[nretired++], prev->full.name,
				      MANIFEST_NAME_MAX + 1);
		for (i = 0; i < prev->ndeltas &&
			    nretired < PUBLISH_RETIRED_MAX; i++)
			if (!publish_listed(m, prev->deltas[i].name))
				util_copy_fit(retired[nretired++],
					      prev->deltas[i].name,
					      MANIFEST_NAME_MAX + 1);
	}
	if (publish_state_save(p->conf, d->name, retired, nretired, err,
			       sizeof(err)) < 0)
		log_warn("publish %s: %s", d->name, err);
	free(retired);
	free(old);
}

/*
 * One destination: its manifest read; nothing done when it is current;
 * else the files uploaded, then the manifest naming them, then what the
 * runs before retired deleted.
 */
static void publish_one(const struct publish_params *p,
			const struct repconf_target *d,
			const struct sign_keyring *kr,
			struct publish_result *r)
{
	struct manifest *prev = xcalloc(1, sizeof(*prev));
	struct manifest *m = xcalloc(1, sizeof(*m));
	const struct spool_file *full = NULL, *delta = NULL;
	struct xfer *x;
	char err[1024];
	int64_t now = (int64_t)time(NULL);
	int prev_ok, prev_verified;
	double t0 = util_now(), replace_after = 0;
	struct spool *sp = d->projection == SNAPWRITE_MX ? p->spool_mx
							 : p->spool;

	r->dest = d;
	r->epoch = p->epoch;
	r->serial = p->serial;
	x = xfer_new(d, NULL, err, sizeof(err));
	if (!x) {
		util_copy_text(r->error, err, sizeof(r->error));
		goto out;
	}
	prev_ok = publish_read_prev(p, d, x, kr, prev, r, &replace_after);
	if (prev_ok < 0)
		goto out;
	prev_verified = prev_ok;
	/* Chains continue only within an epoch, from a manifest we made. */
	if (prev_ok && prev->epoch != p->epoch)
		prev_ok = 0;
	if (prev_ok && prev->serial == p->serial &&
	    now - prev->published < d->manifest_lifetime / 4 &&
	    prev->expires > now) {
		r->ok = 1;
		r->action = PUBLISH_CURRENT;
		r->deltas = prev->ndeltas;
		goto out;
	}
	if (p->dry_run) {
		r->ok = 1;
		r->action = prev_ok && prev->serial == p->serial ?
			    PUBLISH_REFRESHED : PUBLISH_NEW;
		goto out;
	}
	if (publish_plan(p, d, sp, prev, prev_ok, m, &full, &delta, now,
			 r) < 0)
		goto out;
	r->deltas = m->ndeltas;
	/* Files first, the manifest naming them last. */
	if (publish_upload(p, d, x, full, &m->full, prev, prev_ok, r) < 0 ||
	    (delta && publish_upload(p, d, x, delta,
				     &m->deltas[m->ndeltas - 1], prev, prev_ok,
				     r) < 0) ||
	    publish_put_manifest(p, d, x, m, now, replace_after, r) < 0)
		goto out;
	r->ok = 1;
	r->action = prev_ok && prev->serial == p->serial ? PUBLISH_REFRESHED
							: PUBLISH_NEW;
	log_info("publish %s: catalog %s epoch %" PRIu64 " serial %" PRIu64
		 ", %zu delta%s listed, %zu file%s written", d->name,
		 p->catalog_id, p->epoch, p->serial, m->ndeltas,
		 m->ndeltas == 1 ? "" : "s", r->uploaded,
		 r->uploaded == 1 ? "" : "s");
	publish_retire(p, d, x, m, prev, prev_verified, r);
out:
	if (!r->ok) {
		r->action = PUBLISH_FAILED;
		log_error("publish %s: %s", d->name, r->error);
	}
	r->seconds = util_now() - t0;
	xfer_free(x);
	free(prev);
	free(m);
}

int publish_run(const struct publish_params *p, struct publish_result *res,
		char *err, size_t errlen)
{
	struct sign_keyring *kr = sign_keyring_new();
	size_t i;
	int failed = 0;

	if (sign_keyring_add_key(kr, p->key, err, errlen) < 0) {
		sign_keyring_free(kr);
		return -1;
	}
	for (i = 0; i < p->conf->npublish; i++) {
		memset(&res[i], 0, sizeof(res[i]));
		publish_one(p, &p->conf->publish[i], kr, &res[i]);
		if (!res[i].ok)
			failed++;
	}
	sign_keyring_free(kr);
	return failed;
}

int publish_probe_epoch(const struct repconf *conf, const char *catalog_id,
			uint64_t *epoch, size_t *unread)
{
	struct manifest *m = xcalloc(1, sizeof(*m));
	struct publish_params p;
	struct xfer_result xr;
	struct buf b;
	char err[1024];
	size_t i;
	int rc, code;

	memset(&p, 0, sizeof(p));
	p.catalog_id = catalog_id;
	buf_init(&b, MANIFEST_FILE_MAX);
	for (i = 0; i < conf->npublish; i++) {
		const struct repconf_target *d = &conf->publish[i];

		rc = publish_get_manifest(&p, d, NULL, &b, &xr);
		if (rc < 0) {
			log_error("publish %s: %s", d->name, xr.msg);
			(*unread)++;
			continue;
		}
		if (rc == 1 && manifest_parse(b.data, b.len, NULL, m, &code, err,
					      sizeof(err)) == 0 &&
		    !strcmp(m->catalog_id, catalog_id) && m->epoch > *epoch)
			*epoch = m->epoch;
	}
	buf_free(&b);
	free(m);
	return 0;
}

void publish_fleet(FILE *out, const struct repconf *conf,
		   const char *catalog_id, const struct sign_keyring *kr,
		   int64_t now)
{
	struct manifest *m = xcalloc(1, sizeof(*m));
	struct publish_params p;
	struct xfer_result xr;
	struct buf b;
	char err[1024], when[32];
	size_t i;
	int rc, code;

	memset(&p, 0, sizeof(p));
	p.catalog_id = catalog_id;
	buf_init(&b, MANIFEST_FILE_MAX);
	for (i = 0; i < conf->npublish; i++) {
		const struct repconf_target *d = &conf->publish[i];

		rc = publish_get_manifest(&p, d, NULL, &b, &xr);
		if (rc < 0)
			util_copy_fit(err, xr.msg, sizeof(err));
		if (rc == 0)
			util_copy_fit(err, "no manifest published yet",
				      sizeof(err));
		if (rc == 1 && manifest_parse(b.data, b.len, kr, m, &code, err,
					      sizeof(err)) == 0) {
			fprintf(out, "%-16s %-8s %6llu %8llu  %-20s %7llds  %s\n",
				d->name, "publish",
				(unsigned long long)m->epoch,
				(unsigned long long)m->serial,
				util_time_iso((time_t)m->published, when,
					      sizeof(when)),
				(long long)(now - m->published),
				m->expires <= now ? "manifest EXPIRED" :
				"nodes pulling report through their metrics");
			continue;
		}
		fprintf(out, "%-16s %-8s %6s %8s  %-20s %8s  %s\n", d->name,
			"publish", "?", "?", "-", "-", err);
	}
	buf_free(&b);
	free(m);
}

int publish_report(FILE *out, const struct publish_result *res, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct publish_result *r = &res[i];
		char prev[64] = "none";

		if (r->prev_known)
			snprintf(prev, sizeof(prev), "%" PRIu64 "/%" PRIu64,
				 r->prev_epoch, r->prev_serial);
		if (fprintf(out, "publish %-10s %-9s epoch/serial %" PRIu64 "/%"
			    PRIu64 " (was %s), %zu deltas listed, %zu files "
			    "written, %zu deleted, %" PRIu64 " bytes, %.2fs%s%s\n",
			    r->dest ? r->dest->name : "?",
			    r->ok ? publish_action_name(r->action) : "FAILED",
			    r->epoch, r->serial, prev, r->deltas, r->uploaded,
			    r->deleted, r->bytes, r->seconds,
			    r->ok ? "" : ": ", r->ok ? "" : r->error) < 0)
			return -1;
	}
	return 0;
}
