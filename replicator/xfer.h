/*
 * xfer.h - the replicator's one wrapper around libcurl: a target's
 * requests over sftp://, scp://, https:// and file://, each prepared on
 * the target's own easy handle for a multi loop to run.
 *
 *   xfer_prepare_status()  read INBOX/status (at most NODESTATE_STATUS_MAX)
 *   xfer_prepare_upload()  send a spool file: to ".NAME.part" then renamed
 *                          (sftp: rm + rename after the upload; https: a
 *                          WebDAV MOVE as a second request; file: a local
 *                          rename in xfer_finish_upload()), scp: as NAME
 *   xfer_prepare_move()    the https MOVE
 *   xfer_result()          what the finished request did, with a message
 *
 * Publish destinations ([publish NAME]: an HTTP origin, or an S3 store
 * with AWS SigV4 request signing) use one blocking request at a time:
 *   xfer_object_get()      an object's bytes (bounded)
 *   xfer_object_put()      a file or bytes, with their SHA-256 (S3 signs
 *                          it too) and a Cache-Control value
 *   xfer_object_delete()   remove an object
 *
 * Around them: xfer_multi_* run many requests at once (push.c's loop),
 * xfer_share_* keep connections open between runs (watch mode), and
 * xfer_url_split() reads a URL as libcurl will.  No other file of the
 * replicator includes libcurl's header.
 *
 * Security: ssh host keys are checked strictly against the target's
 * known_hosts (an unknown or changed key is refused, never added); TLS
 * peers are verified; only the target's own scheme is allowed and no
 * redirect is followed; passwords and passphrases come from files whose
 * mode was checked and are wiped when the xfer is freed.  Bytes from the
 * node (status file, error texts) are bounded and quoted in messages.
 */
#ifndef DIRCAT_XFER_H
#define DIRCAT_XFER_H

#include <stddef.h>
#include <stdint.h>

#include "repconf.h"
#include "spool.h"
#include "util.h"

#define XFER_MSG_MAX 512

struct xfer;

/* What a finished request came to. */
struct xfer_result {
	int ok;			/* 1: done as asked */
	int not_found;		/* status request: the node has no status */
	int retryable;		/* a failure worth another attempt */
	char msg[XFER_MSG_MAX];	/* why not, for people */
	uint64_t bytes_up;	/* bytes uploaded */
	double seconds;		/* the request's own time */
	double connect, handshake;	/* when TCP, then ssh/TLS, were up
					   (0 when a connection was reused) */
	int64_t last_modified;	/* object get: Last-Modified, Unix time
				   (0: none, or not a date) */
	int64_t date;		/* object get: the server's Date (0: none) */
};

/* libcurl's global setup; once, before threads (we have none).  0/-1. */
int xfer_global_init(char *err, size_t errlen);
void xfer_global_cleanup(void);

/* "libcurl/7.88.1 OpenSSL/3.0.11 ..." for -V. */
const char *xfer_version(void);

/* A target's handle; reads its password/passphrase files.  NULL with
 * err.  priv comes back from xfer_multi_done(). */
struct xfer *xfer_new(const struct repconf_target *t, void *priv,
		      char *err, size_t errlen);
void xfer_free(struct xfer *);

/* A connection cache kept between runs, so that the next run finds the
 * ssh or TLS sessions still open. */
struct xfer_share;
struct xfer_share *xfer_share_new(void);
void xfer_share_free(struct xfer_share *);
/* Take connections from (and leave them in) share; it must outlive the
 * xfer. */
void xfer_set_share(struct xfer *, struct xfer_share *share);

/* Many requests at once: add prepared xfers, let them run, collect each
 * as it finishes.  The result code goes to xfer_result(). */
struct xfer_multi;
struct xfer_multi *xfer_multi_new(void);
void xfer_multi_free(struct xfer_multi *);
/* Start x's prepared request.  0, or -1 with why. */
int xfer_multi_add(struct xfer_multi *, struct xfer *, char *why,
		   size_t whylen);
void xfer_multi_remove(struct xfer_multi *, struct xfer *);
/* Move every request on as far as it goes without waiting: *running
 * gets how many are still going.  0, or -1 with err. */
int xfer_multi_perform(struct xfer_multi *, int *running, char *err,
		       size_t errlen);
/* A finished request: 1 with its xfer's priv and its result code, 0
 * when none is left to collect. */
int xfer_multi_done(struct xfer_multi *, void **priv, int *code);
/* Wait at most timeout_ms for something to do.  0, or -1 with err. */
int xfer_multi_wait(struct xfer_multi *, int timeout_ms, char *err,
		    size_t errlen);

/* A URL as libcurl reads it: each part malloc'ed, NULL when absent; the
 * user and path URL-decoded. */
struct xfer_url {
	char *scheme, *user, *host, *path;
	int has_password, has_query, has_fragment;
};
/* 0, or -1 when url is no URL.  Unknown schemes (s3://) still split, so
 * that a message can say what to use instead.  Free with
 * xfer_url_free() either way. */
int xfer_url_split(const char *url, struct xfer_url *u);
void xfer_url_free(struct xfer_url *u);

/* Prepare a request.  0, or -1 with err (a local problem). */
int xfer_prepare_status(struct xfer *, char *err, size_t errlen);
int xfer_prepare_upload(struct xfer *, const struct spool_file *,
			char *err, size_t errlen);
int xfer_prepare_move(struct xfer *, char *err, size_t errlen);

/* After xfer_multi_done() reported code for this request: fill *res.
 * Call once per request; it also closes the upload file. */
void xfer_result(struct xfer *, int code, struct xfer_result *res);

/* The status text fetched by the last status request (not NUL-safe:
 * use len). */
const char *xfer_status_text(const struct xfer *, size_t *len);

/* Does this target need a second step after the upload?  1 for https
 * (MOVE) and file (local rename), else 0. */
int xfer_needs_rename(const struct xfer *);
/* file://: rename the uploaded ".NAME.part" into place, after an fsync.
 * 0, or -1 with res filled. */
int xfer_finish_local(struct xfer *, struct xfer_result *res);

/*
 * A publish destination's object NAME (a plain name: no '/').  Each is
 * one blocking request with the destination's timeouts; res says how it
 * went (res->retryable for the caller's retries).
 *   get: 1 found (the body in out, refused past out's maximum; the
 *        response's Last-Modified and Date in res), 0 not found (404),
 *        -1 failed.
 *   put: from the file at path, or data/len when path is NULL; sha256 is
 *        the body's hash (sent as x-amz-content-sha256 on S3);
 *        cache_control may be NULL.  0, or -1.
 *   delete: 0 deleted or already absent, -1 failed.
 */
int xfer_object_get(struct xfer *, const char *name, struct buf *out,
		    struct xfer_result *res);
int xfer_object_put(struct xfer *, const char *name, const char *path,
		    const void *data, size_t len,
		    const unsigned char sha256[32], const char *cache_control,
		    struct xfer_result *res);
int xfer_object_delete(struct xfer *, const char *name,
		       struct xfer_result *res);

#endif
