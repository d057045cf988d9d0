/*
 * push.c - every target at once over one curl multi handle; see push.h.
 *
 * Each target moves through phases: QUEUED (waiting for a free slot or
 * for its retry delay), STATUS (reading the node's status file), UPLOAD,
 * MOVE (https only), DONE.  A failure anywhere sends it back to QUEUED
 * with a delay, starting over at STATUS: the node may have changed in the
 * meantime, and reading its status again is cheap.  A target continuing
 * from one phase to the next keeps its slot, so targets already under way
 * finish before new ones start.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "keyhash.h"
#include "log.h"
#include "nodestate.h"
#include "push.h"
#include "snapshot.h"
#include "snapwrite.h"
#include "util.h"

#define PUSH_POLL_MAX_MS 1000	/* longest wait between checks */

enum push_phase {
	PT_QUEUED = 0,
	PT_STATUS,
	PT_UPLOAD,
	PT_MOVE,
	PT_DONE
};

struct push_target {
	const struct repconf_target *t;
	struct push_result *res;
	struct xfer *x;
	struct nodestate st;		/* from the state file */
	int phase;			/* enum push_phase */
	int busy;			/* its handle is in the multi */
	double next_try;		/* util_now() when it may start */
	double started;
	const struct spool_file *file;
};

struct push_loop {
	const struct push_params *p;
	struct xfer_multi *multi;
	struct push_target *pts;
	size_t n;
	size_t active;			/* requests in flight */
	size_t remaining;		/* targets not done */
	size_t failed;
};

const char *push_action_name(int action)
{
	switch (action) {
	case PUSH_NOTHING:
		return "nothing";
	case PUSH_WAITING:
		return "waiting";
	case PUSH_FULL:
		return "full";
	case PUSH_DELTA:
		return "delta";
	case PUSH_FAILED:
		return "failed";
	}
	return "?";
}

/*
 * What the node was last sent (STATE_DIR/NAME.projection, "all" when
 * absent): the projection, and in keyed-hash mode the secret id
 * ("all keyed=ID").  A node changing either must get a full snapshot, or
 * a delta would leave it half the one, half the other.
 */
static void push_projection_want(const struct push_params *p,
				 const struct repconf_target *t, char *buf,
				 size_t size)
{
	char hex[KEYHASH_ID_HEX];

	if (p->conf->hash)
		keyhash_id_hex(keyhash_id(p->conf->hash), hex);
	snprintf(buf, size, "%s%s%s\n",
		 t->projection == SNAPWRITE_MX ? "mx" : "all",
		 p->conf->hash ? " keyed=" : "", p->conf->hash ? hex : "");
}

/* 1 when the node was last sent what it is sent now, else 0. */
static int push_projection_same(const struct push_params *p,
				const struct repconf_target *t)
{
	char path[4096], err[256], want[64], *text;
	size_t len;
	int same;

	push_projection_want(p, t, want, sizeof(want));
	if ((size_t)snprintf(path, sizeof(path), "%s/%s.projection",
			     p->conf->state_dir, t->name) >= sizeof(path) ||
	    access(path, F_OK) < 0)
		return !strcmp(want, "all\n");
	text = util_read_file(path, 64, &len, err, sizeof(err));
	same = text && !strcmp(text, want);
	free(text);
	return same;
}

static void push_projection_save(const struct push_params *p,
				 const struct repconf_target *t)
{
	char path[4096], err[512], v[64];

	push_projection_want(p, t, v, sizeof(v));
	if ((size_t)snprintf(path, sizeof(path), "%s/%s.projection",
			     p->conf->state_dir, t->name) >= sizeof(path) ||
	    util_write_file_atomic(path, v, strlen(v), 0640, err,
				   sizeof(err)) < 0)
		log_error("target %s: projection state: %s", t->name, err);
}

/* Record the target's outcome, in memory and in its state file. */
static void push_done(struct push_loop *l, struct push_target *pt, int ok,
		      int action, const char *error)
{
	const struct push_params *p = l->p;
	struct push_result *res = pt->res;
	char err[1024];

	if (pt->phase == PT_DONE)
		log_panic("target %s finished twice", pt->t->name);
	pt->phase = PT_DONE;
	l->remaining--;
	res->ok = ok;
	res->action = action;
	res->seconds = util_now() - pt->started;
	if (!ok)
		l->failed++;
	if (!ok && error) {
		if (res->attempts > 1)
			snprintf(res->error, sizeof(res->error),
				 "%s (after %d attempts)", error,
				 res->attempts);
		else
			util_copy_text(res->error, error, sizeof(res->error));
		log_error("target %s: %s", pt->t->name, res->error);
	} else if (ok) {
		log_debug("target %s: %s, serial %" PRIu64 ", %" PRIu64
			  " bytes, %.2fs", pt->t->name,
			  push_action_name(action), res->serial, res->bytes,
			  res->seconds);
	}
	if (p->dry_run)
		return;

	if (res->node_known) {
		pt->st.node_serial = res->node_serial;
		pt->st.node_epoch = res->node_epoch;
		pt->st.checked_at = (int64_t)time(NULL);
	}
	if (ok && (action == PUSH_FULL || action == PUSH_DELTA) &&
	    !push_projection_same(p, pt->t))
		push_projection_save(p, pt->t);
	if (ok && (action == PUSH_FULL || action == PUSH_DELTA)) {
		pt->st.sent_serial = res->serial;
		pt->st.sent_base = res->base;
		pt->st.sent_bytes = pt->file->size;
		pt->st.sent_at = (int64_t)time(NULL);
	}
	util_copy_fit(pt->st.result,
		      !ok ? "failed" :
		      action == PUSH_NOTHING ? "current" :
		      action == PUSH_WAITING ? "waiting" : "sent",
		      sizeof(pt->st.result));
	util_copy_text(pt->st.error, ok ? "" : res->error, sizeof(pt->st.error));
	if (nodestate_save(p->conf->state_dir, pt->t->name, &pt->st, err,
			   sizeof(err)) < 0)
		log_error("target %s: %s", pt->t->name, err);
}

/* Try again later, or give up. */
static void push_retry(struct push_loop *l, struct push_target *pt,
		       const char *msg, int retryable)
{
	double delay;
	int64_t d;
	int i;

	if (!retryable || pt->res->attempts > pt->t->retries) {
		push_done(l, pt, 0, PUSH_FAILED, msg);
		return;
	}
	d = pt->t->retry_delay;
	for (i = 1; i < pt->res->attempts && d < pt->t->retry_delay_max; i++)
		d *= 2;
	if (d > pt->t->retry_delay_max)
		d = pt->t->retry_delay_max;
	delay = (double)d;
	log_info("target %s: %s; trying again in %llds", pt->t->name, msg,
		 (long long)d);
	pt->phase = PT_QUEUED;
	pt->next_try = util_now() + delay;
}

/* Hand the target's prepared request to the multi handle. */
static int push_add(struct push_loop *l, struct push_target *pt, int phase)
{
	char why[256];

	if (xfer_multi_add(l->multi, pt->x, why, sizeof(why)) < 0) {
		push_done(l, pt, 0, PUSH_FAILED, why);
		return -1;
	}
	pt->phase = phase;
	pt->busy = 1;
	l->active++;
	return 0;
}

/* Start (or restart) a target with its status request. */
static void push_start(struct push_loop *l, struct push_target *pt)
{
	char err[512];

	pt->res->attempts++;
	if (xfer_prepare_status(pt->x, err, sizeof(err)) < 0) {
		push_done(l, pt, 0, PUSH_FAILED, err);
		return;
	}
	push_add(l, pt, PT_STATUS);
}

/* Send f to the target. */
static void push_upload(struct push_loop *l, struct push_target *pt,
			const struct spool_file *f)
{
	char err[512];

	pt->file = f;
	pt->res->base = f->base;
	util_copy_fit(pt->res->file, f->name, sizeof(pt->res->file));
	if (xfer_prepare_upload(pt->x, f, err, sizeof(err)) < 0) {
		push_done(l, pt, 0, PUSH_FAILED, err);
		return;
	}
	push_add(l, pt, PT_UPLOAD);
}

/*
 * A node that must be sent nothing: one holding another catalog, or one
 * ahead in (epoch, serial) - served by another internal host, or by this
 * one before it was restored: only an administrator can say which
 * catalog wins.  1 with err, else 0.
 */
static int push_refused(const struct push_params *p,
			const struct nodestatus *st, char *err, size_t errlen)
{
	uint64_t have = st ? st->serial : 0, have_epoch = st ? st->epoch : 0;

	if (st && st->catalog_id[0] && strcmp(st->catalog_id, p->catalog_id)) {
		snprintf(err, errlen, "the node holds catalog '%s', not '%s': "
			 "check the target's url and catalogd's catalog_id",
			 st->catalog_id, p->catalog_id);
		return 1;
	}
	if (have_epoch > p->epoch || (have_epoch == p->epoch &&
				      have > p->serial)) {
		snprintf(err, errlen, "the node has epoch %" PRIu64 " serial %"
			 PRIu64 ", ahead of this catalog's epoch %" PRIu64
			 " serial %" PRIu64 ", and refuses older ones: "
			 "another internal host serves it, or this one was "
			 "rebuilt or restored; to make this catalog the one "
			 "served, run dircat-replicator --new-epoch once "
			 "(docs/fleet.md)", have_epoch, have, p->epoch,
			 p->serial);
		return 1;
	}
	return 0;
}

/*
 * The file for a node that has serial have (0: nothing of this epoch and
 * projection): a delta from have, or from a serial delivered moments ago
 * and not installed yet, when the spool can make it; else the full
 * snapshot.  0 with *f, or -1 with err.
 */
static int push_choose(struct push_loop *l, struct push_target *pt,
		       uint64_t have, const struct spool_file **f, char *err,
		       size_t errlen)
{
	const struct push_params *p = l->p;
	struct spool *sp = pt->t->projection == SNAPWRITE_MX ? p->spool_mx
							     : p->spool;
	uint64_t base = have;
	int rc = 1;

	/* Changes coming in a burst: catalogd installs the lowest serial
	 * first, so a delta chained onto the one just delivered follows it
	 * in, where one from the node's serial would find its base gone.
	 * Not across epochs or projections (have is 0 then). */
	if (have > 0 && pt->st.sent_serial > have &&
	    pt->st.sent_serial < p->serial && pt->st.sent_at > 0 &&
	    (int64_t)time(NULL) - pt->st.sent_at < p->conf->install_grace)
		base = pt->st.sent_serial;
	/* Sent before and still not installed: the node may have refused
	 * the delta, so it gets it all this time. */
	if (base > 0 && pt->st.sent_serial != p->serial) {
		rc = spool_get(sp, base, f, err, errlen);
		if (rc < 0)
			return -1;
	}
	if (rc == 1 && spool_get(sp, 0, f, err, errlen) < 0)
		return -1;
	return 0;
}

/*
 * The node answered (st), or has no status file yet (st NULL): decide
 * what it needs.
 */
static void push_decide(struct push_loop *l, struct push_target *pt,
			const struct nodestatus *st)
{
	const struct push_params *p = l->p;
	struct push_result *res = pt->res;
	uint64_t have = st ? st->serial : 0;
	uint64_t have_epoch = st ? st->epoch : 0;
	int reproject = !push_projection_same(p, pt->t);
	const struct spool_file *f;
	char err[1024];

	res->node_known = 1;
	res->node_serial = have;
	res->node_epoch = have_epoch;
	res->node_expires = st ? st->expires : 0;
	res->node_stale = st ? st->stale : 0;
	if (push_refused(p, st, err, sizeof(err))) {
		push_done(l, pt, 0, PUSH_FAILED, err);
		return;
	}
	/* A node of an older epoch gets the full snapshot: its serials
	 * belong to another catalog's history. */
	if (have_epoch < p->epoch)
		have = 0;
	/* A node changing projection or keyed-hash secret starts over in
	 * full. */
	if (reproject && have > 0) {
		log_info("target %s: projection or keyed-hash secret changed: "
			 "a full snapshot",
			 pt->t->name);
		have = 0;
	}
	if (have == p->serial) {
		if (st && st->expires > 0 &&
		    st->expires - (int64_t)time(NULL) < p->conf->lifetime / 4)
			log_warn("target %s: its catalog expires in %llds and "
				 "only a new serial can renew it (see "
				 "refresh_after)", pt->t->name,
				 (long long)(st->expires - (int64_t)time(NULL)));
		push_done(l, pt, 1, PUSH_NOTHING, NULL);
		return;
	}
	/* Delivered recently, not installed yet: catalogd installs files
	 * as they arrive, so give it install_grace before sending again. */
	if (pt->st.sent_serial == p->serial && pt->st.sent_at > 0 &&
	    (int64_t)time(NULL) - pt->st.sent_at < p->conf->install_grace) {
		res->base = pt->st.sent_base;
		push_done(l, pt, 1, PUSH_WAITING, NULL);
		return;
	}
	if (p->dry_run) {
		int delta = have > 0 && p->history_oldest > 0 &&
			    have >= p->history_oldest;

		res->base = delta ? have : 0;
		push_done(l, pt, 0, delta ? PUSH_DELTA : PUSH_FULL, NULL);
		return;
	}
	/* Sent before and still not installed after install_grace: say so,
	 * a node that never installs needs a look. */
	if (pt->st.sent_serial == p->serial && pt->st.sent_at > 0)
		log_warn("target %s: serial %" PRIu64 " was delivered %llds "
			 "ago and the node still has %" PRIu64 ": sending it "
			 "again in full (is catalogd running there? see its "
			 "inbox's rejected/ directory)", pt->t->name,
			 p->serial,
			 (long long)((int64_t)time(NULL) - pt->st.sent_at),
			 have);
	if (push_choose(l, pt, have, &f, err, sizeof(err)) < 0) {
		push_done(l, pt, 0, PUSH_FAILED, err);
		return;
	}
	push_upload(l, pt, f);
}

/* A request of pt finished with code. */
static void push_finished(struct push_loop *l, struct push_target *pt,
			  int code)
{
	struct xfer_result xr;
	struct nodestatus st;
	const char *text;
	size_t len;
	char err[XFER_MSG_MAX + 64];

	xfer_multi_remove(l->multi, pt->x);
	pt->busy = 0;
	l->active--;
	xfer_result(pt->x, code, &xr);
	log_debug("target %s: %s request: %.3fs (connected %.3fs, "
		  "handshake %.3fs), %llu bytes sent", pt->t->name,
		  pt->phase == PT_STATUS ? "status" :
		  pt->phase == PT_UPLOAD ? "upload" : "rename", xr.seconds,
		  xr.connect, xr.handshake, (unsigned long long)xr.bytes_up);

	switch (pt->phase) {
	case PT_STATUS:
		if (xr.not_found) {
			push_decide(l, pt, NULL);
			return;
		}
		if (!xr.ok) {
			push_retry(l, pt, xr.msg, xr.retryable);
			return;
		}
		text = xfer_status_text(pt->x, &len);
		if (nodestatus_parse(text, len, &st, err, sizeof(err)) < 0) {
			/* Broken or half-written: the node will rewrite it. */
			push_retry(l, pt, err, 1);
			return;
		}
		push_decide(l, pt, &st);
		return;
	case PT_UPLOAD:
		pt->res->bytes += xr.bytes_up;
		if (!xr.ok) {
			push_retry(l, pt, xr.msg, xr.retryable);
			return;
		}
		if (pt->t->scheme == REPCONF_HTTPS) {
			if (xfer_prepare_move(pt->x, err, sizeof(err)) < 0) {
				push_done(l, pt, 0, PUSH_FAILED, err);
				return;
			}
			push_add(l, pt, PT_MOVE);
			return;
		}
		if (pt->t->scheme == REPCONF_FILE &&
		    xfer_finish_local(pt->x, &xr) < 0) {
			push_retry(l, pt, xr.msg, xr.retryable);
			return;
		}
		break;
	case PT_MOVE:
		if (!xr.ok) {
			push_retry(l, pt, xr.msg, xr.retryable);
			return;
		}
		break;
	default:
		log_panic("target %s: a request finished in phase %d",
			  pt->t->name, pt->phase);
	}
	push_done(l, pt, 1, pt->file->type == SNAPSHOT_DELTA ? PUSH_DELTA
							      : PUSH_FULL,
		  NULL);
}

/* Is name among the selected targets? */
static int push_selected(const struct push_params *p, const char *name)
{
	size_t i;

	if (!p->only)
		return 1;
	for (i = 0; p->only[i]; i++)
		if (!strcmp(p->only[i], name))
			return 1;
	return 0;
}

/* The run is over time: everything still going fails. */
static void push_give_up(struct push_loop *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		struct push_target *pt = &l->pts[i];

		if (pt->phase == PT_DONE)
			continue;
		if (pt->busy) {
			xfer_multi_remove(l->multi, pt->x);
			pt->busy = 0;
			l->active--;
		}
		push_done(l, pt, 0, PUSH_FAILED, "run_timeout reached before "
			  "this target was done");
	}
}

/* The targets this run serves, each with its node state and transfer
 * handle (a target without one is already done, failed). */
static void push_targets(struct push_loop *l, struct push_result *results,
			 double now)
{
	const struct push_params *p = l->p;
	const struct repconf *conf = p->conf;
	size_t i;

	for (i = 0; i < conf->ntargets; i++) {
		const struct repconf_target *t = &conf->targets[i];
		struct push_target *pt = &l->pts[l->n];
		char why[1024];

		memset(&results[i], 0, sizeof(results[i]));
		if (!push_selected(p, t->name))
			continue;
		results[i].target = t;
		results[i].serial = p->serial;
		pt->t = t;
		pt->res = &results[i];
		pt->started = now;
		pt->next_try = now;
		l->n++;
		l->remaining++;
		if (nodestate_load(conf->state_dir, t->name, &pt->st, why,
				   sizeof(why)) < 0) {
			/* A broken state file costs at most a resend. */
			log_warn("target %s: %s; starting afresh", t->name,
				 why);
			memset(&pt->st, 0, sizeof(pt->st));
		}
		pt->x = xfer_new(t, pt, why, sizeof(why));
		if (pt->x && p->share)
			xfer_set_share(pt->x, p->share);
		if (!pt->x)
			push_done(l, pt, 0, PUSH_FAILED, why);
	}
}

/* Start each queued target whose retry is due, while fewer than
 * concurrency are active; the earliest later retry is returned (or
 * wake). */
static double push_start_due(struct push_loop *l, double now, double wake)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		struct push_target *pt = &l->pts[i];

		if (pt->phase != PT_QUEUED)
			continue;
		if (pt->next_try <= now &&
		    l->active < (size_t)l->p->conf->concurrency)
			push_start(l, pt);
		else if (pt->next_try > now && pt->next_try < wake)
			wake = pt->next_try;
	}
	return wake;
}

/* How long the loop may wait for the transfers: until wake, at most
 * PUSH_POLL_MAX_MS, not at all when a target could start now. */
static int push_wait_ms(const struct push_loop *l, double wake)
{
	double now = util_now();
	int timeout_ms = PUSH_POLL_MAX_MS;
	size_t i;

	if (wake - now < (double)PUSH_POLL_MAX_MS / 1000.0)
		timeout_ms = (int)((wake - now) * 1000.0) + 1;
	if (timeout_ms < 0)
		timeout_ms = 0;
	for (i = 0; i < l->n; i++)
		if (l->pts[i].phase == PT_QUEUED && l->pts[i].next_try <= now &&
		    l->active < (size_t)l->p->conf->concurrency)
			timeout_ms = 0;
	return timeout_ms;
}

int push_run(const struct push_params *p, struct push_result *results,
	     char *err, size_t errlen)
{
	const struct repconf *conf = p->conf;
	struct push_loop l;
	double deadline, now;
	size_t i;
	int ret = -1;

	memset(&l, 0, sizeof(l));
	l.p = p;
	l.pts = xcalloc(conf->ntargets, sizeof(*l.pts));
	l.multi = xfer_multi_new();
	now = util_now();
	push_targets(&l, results, now);
	deadline = now + (double)conf->run_timeout;
	/* Bounded: every request has its own timeout, every target a fixed
	 * number of attempts, and the whole run a deadline. */
	while (l.remaining > 0) {
		void *priv;
		double wake;
		int running, code, timeout_ms;

		now = util_now();
		if (now >= deadline) {
			push_give_up(&l);
			break;
		}
		wake = push_start_due(&l, now, deadline);
		if (xfer_multi_perform(l.multi, &running, err, errlen) < 0)
			goto out;
		while (xfer_multi_done(l.multi, &priv, &code)) {
			if (!priv)
				log_panic("a transfer without its target");
			push_finished(&l, priv, code);
		}
		if (l.remaining == 0)
			break;
		/* Something became startable: loop without waiting. */
		timeout_ms = push_wait_ms(&l, wake);
		if (timeout_ms > 0 &&
		    xfer_multi_wait(l.multi, timeout_ms, err, errlen) < 0)
			goto out;
	}
	ret = (int)l.failed;
out:
	for (i = 0; i < l.n; i++) {
		if (l.pts[i].busy)
			xfer_multi_remove(l.multi, l.pts[i].x);
		xfer_free(l.pts[i].x);
	}
	xfer_multi_free(l.multi);
	free(l.pts);
	return ret;
}
