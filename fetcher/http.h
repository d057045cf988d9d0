/*
 * http.h - dircat-fetch's one wrapper around libcurl: GET requests over
 * http:// and https:// on one reused handle (so a connection to the cache
 * carries over from the manifest to the snapshots).
 *
 *   http_get_buf()   into a bounded buffer, conditional on an ETag
 *                    (If-None-Match), or on a Last-Modified date
 *                    (If-Modified-Since) when there is no ETag
 *   http_get_fd()    into a file descriptor, refused past a byte limit,
 *                    each byte hashed on its way
 *   http_url_split() a URL as libcurl reads it (for the configuration)
 *
 * No other file of dircat-fetch includes libcurl's header.
 *
 * Security: the other side (origin, cache, CDN) is not trusted: no
 * redirect is followed, only http and https are spoken, TLS peers are
 * verified, every body is bounded before it is stored, slow transfers are
 * cut off (low_speed_limit/time, timeout), and the headers kept (ETag,
 * Last-Modified) are bounded and printable or dropped.
 */
#ifndef DIRCAT_HTTP_H
#define DIRCAT_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "fetchconf.h"
#include "sign.h"
#include "util.h"

#define HTTP_VALIDATOR_MAX 200	/* an ETag or a Last-Modified date */
#define HTTP_MSG_MAX       512

struct http;

struct http_result {
	long status;			/* HTTP status; 0 when none came */
	char etag[HTTP_VALIDATOR_MAX + 1];		/* "" when none */
	char last_modified[HTTP_VALIDATOR_MAX + 1];	/* "" when none */
	uint64_t bytes;			/* body bytes received */
	double seconds;
	int too_large;			/* the body passed the limit */
	char msg[HTTP_MSG_MAX];		/* why it failed, for people */
};

/* libcurl's global setup, once.  0 or -1 with err. */
int http_global_init(char *err, size_t errlen);
void http_global_cleanup(void);

/* "libcurl/7.88.1 OpenSSL/3.0.11 ..." for -V. */
const char *http_version(void);

/* A URL as libcurl reads it: its scheme (malloc'ed) and which parts it
 * has besides. */
struct http_url {
	char *scheme;
	int has_user, has_query, has_fragment;
};
/* 0, or -1 when url is no URL (no scheme or no path); unknown schemes
 * still split, so that a message can name them.  Free with
 * http_url_free() either way. */
int http_url_split(const char *url, struct http_url *u);
void http_url_free(struct http_url *u);

/* A handle with the configuration's timeouts and CA.  Never NULL. */
struct http *http_new(const struct fetchconf *c);
void http_free(struct http *);

/*
 * GET url into out (reset first; refused past out's maximum).  etag, or
 * else last_modified (may be NULL or ""), makes it conditional.  Returns 0 when
 * an HTTP status came back (res->status: 200, 304, 404, ...), or -1 with
 * res->msg (no connection, TLS refused, timeout, too large).
 */
int http_get_buf(struct http *, const char *url, const char *etag,
		 const char *last_modified, struct buf *out,
		 struct http_result *res);

/*
 * GET url into fd (written from its current offset), at most max bytes,
 * every byte also fed to h.  Returns 0 with res->status, or -1 with
 * res->msg.  A status other than 200 writes nothing.
 */
int http_get_fd(struct http *, const char *url, int fd, uint64_t max,
		struct sign_sha256 *h, struct http_result *res);

#endif
