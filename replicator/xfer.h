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

#include <curl/curl.h>

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
};

/* libcurl's global setup; once, before threads (we have none).  0/-1. */
int xfer_global_init(char *err, size_t errlen);
void xfer_global_cleanup(void);

/* A target's handle; reads its password/passphrase files.  NULL with
 * err.  priv is stored as the easy handle's CURLOPT_PRIVATE. */
struct xfer *xfer_new(const struct repconf_target *t, void *priv,
		      char *err, size_t errlen);
void xfer_free(struct xfer *);
/* Take connections from (and leave them in) share's connection cache,
 * so that the next run finds the ssh or TLS session still open.  share
 * must outlive the xfer. */
void xfer_set_share(struct xfer *, CURLSH *share);
/* The easy handle to add to a multi handle. */
CURL *xfer_easy(struct xfer *);

/* Prepare a request.  0, or -1 with err (a local problem). */
int xfer_prepare_status(struct xfer *, char *err, size_t errlen);
int xfer_prepare_upload(struct xfer *, const struct spool_file *,
			char *err, size_t errlen);
int xfer_prepare_move(struct xfer *, char *err, size_t errlen);

/* After the multi loop reported code for this handle: fill *res.  Call
 * once per request; it also closes the upload file. */
void xfer_result(struct xfer *, CURLcode code, struct xfer_result *res);

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
 *   get: 1 found (the body in out, refused past out's maximum), 0 not
 *        found (404), -1 failed.
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
