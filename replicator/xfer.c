/*
 * xfer.c - a target's requests over libcurl; see xfer.h.
 *
 * Each target owns one easy handle, reset and set up again for each of
 * its requests, so the multi handle's connection cache can carry the ssh
 * or TLS session from the status request over to the upload.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "knownhosts.h"
#include "log.h"
#include "nodestate.h"
#include "redact.h"
#include "util.h"
#include "xfer.h"

#define XFER_UPLOAD_BUFFER   (512 * 1024)	/* bytes per upload write */
#define XFER_HOSTPORT_MAX    300
#define XFER_PART_PREFIX     "."
#define XFER_PART_SUFFIX     ".part"
#define XFER_STATUS_NAME     "status"
#define XFER_KEEP_CONN       86400		/* seconds a shared connection
						   may sit idle */
#define XFER_USER_AGENT      "dircat-replicator/1"

enum xfer_req {
	XFER_REQ_NONE = 0,
	XFER_REQ_STATUS,
	XFER_REQ_UPLOAD,
	XFER_REQ_MOVE,
	XFER_REQ_OBJ_GET,	/* publish destinations */
	XFER_REQ_OBJ_PUT,
	XFER_REQ_OBJ_DELETE
};

#define XFER_OBJ_NAME_MAX 256	/* an object name, for messages */
#define XFER_SIGV4_MAX    160	/* "aws:amz:REGION:s3" */
#define XFER_ERROR_BODY_MAX 200	/* bytes of an error reply quoted */

enum xfer_hostkey {
	XFER_HOSTKEY_OK = 0,
	XFER_HOSTKEY_MISSING,
	XFER_HOSTKEY_MISMATCH,
	XFER_HOSTKEY_LEGACY	/* known_hosts asks for a refused key type */
};

struct xfer {
	const struct repconf_target *t;
	void *priv;
	CURL *easy;
	char errbuf[CURL_ERROR_SIZE];
	int req;				/* enum xfer_req */
	struct buf down;			/* status file */
	int down_overflow;
	FILE *up;				/* upload source */
	const struct spool_file *file;
	char part[SPOOL_NAME_MAX + 16];		/* name while uploading */
	char url[REPCONF_URL_MAX + SPOOL_NAME_MAX + 32];
	char dest[REPCONF_URL_MAX + SPOOL_NAME_MAX + 32];
	char hostport[XFER_HOSTPORT_MAX];
	char host[XFER_HOSTPORT_MAX];		/* as in the URL; "" if none */
	long port;
	struct curl_slist *quote, *headers;
	char *password, *passphrase;		/* wiped on free */
	char *s3_secret;			/* wiped on free */
	int hostkey;				/* enum xfer_hostkey */
	struct xfer_share *share;		/* NULL: none */
	/* publish requests */
	char objname[XFER_OBJ_NAME_MAX];
	struct buf *obj_out;			/* get: where the body goes */
	const unsigned char *mem;		/* put from memory */
	size_t memlen, mempos;
};

int xfer_global_init(char *err, size_t errlen)
{
	const curl_version_info_data *v;
	CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);

	if (rc != CURLE_OK) {
		util_err(err, errlen, "libcurl: %s", curl_easy_strerror(rc));
		return -1;
	}
	v = curl_version_info(CURLVERSION_NOW);
	log_debug("libcurl %s, %s, %s", v->version,
		  v->ssl_version ? v->ssl_version : "no TLS",
		  v->libssh_version ? v->libssh_version : "no ssh");
	return 0;
}

void xfer_global_cleanup(void)
{
	curl_global_cleanup();
}

/* "host:port" of the target, for messages. */
static void xfer_hostport(struct xfer *x)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL;

	util_copy_fit(x->hostport, "localhost", sizeof(x->hostport));
	if (!u)
		return;
	if (curl_url_set(u, CURLUPART_URL, x->t->scheme == REPCONF_S3 ?
			 x->t->s3_endpoint : x->t->url, 0) == CURLUE_OK) {
		curl_url_get(u, CURLUPART_HOST, &host, 0);
		curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
		if (host && *host) {
			snprintf(x->hostport, sizeof(x->hostport), "%s:%s",
				 host, port ? port : "?");
			snprintf(x->host, sizeof(x->host), "%s", host);
			x->port = port ? strtol(port, NULL, 10) : 0;
		}
	}
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
}

struct xfer *xfer_new(const struct repconf_target *t, void *priv,
		      char *err, size_t errlen)
{
	struct xfer *x = xcalloc(1, sizeof(*x));
	const char *pp;

	x->t = t;
	x->priv = priv;
	buf_init(&x->down, NODESTATE_STATUS_MAX);
	x->easy = curl_easy_init();
	if (!x->easy)
		log_fatal(75, "libcurl: cannot make a handle");
	xfer_hostport(x);
	if (t->password_file) {
		x->password = util_read_secret(t->password_file, err, errlen);
		if (!x->password)
			goto fail;
	}
	if (t->s3_secret_key_file) {
		x->s3_secret = util_read_secret(t->s3_secret_key_file, err,
						errlen);
		if (!x->s3_secret)
			goto fail;
	}
	pp = t->scheme == REPCONF_HTTPS || t->scheme == REPCONF_S3 ?
	     t->client_key_passphrase_file : t->ssh_key_passphrase_file;
	if (pp && (t->scheme == REPCONF_HTTPS || t->scheme == REPCONF_S3 ||
		   t->scheme == REPCONF_SFTP || t->scheme == REPCONF_SCP)) {
		x->passphrase = util_read_secret(pp, err, errlen);
		if (!x->passphrase)
			goto fail;
	}
	return x;
fail:
	xfer_free(x);
	return NULL;
}

/* Forget the previous request's leftovers. */
static void xfer_clear(struct xfer *x)
{
	if (x->up) {
		fclose(x->up);
		x->up = NULL;
	}
	curl_slist_free_all(x->quote);
	curl_slist_free_all(x->headers);
	x->quote = x->headers = NULL;
	x->down.len = 0;
	x->down_overflow = 0;
	x->errbuf[0] = '\0';
	x->hostkey = XFER_HOSTKEY_OK;
	x->req = XFER_REQ_NONE;
	x->objname[0] = '\0';
	x->obj_out = NULL;
	x->mem = NULL;
	x->memlen = x->mempos = 0;
}

void xfer_free(struct xfer *x)
{
	if (!x)
		return;
	xfer_clear(x);
	if (x->easy)
		curl_easy_cleanup(x->easy);
	buf_free(&x->down);
	util_free_secret(x->password);
	util_free_secret(x->passphrase);
	util_free_secret(x->s3_secret);
	free(x);
}

const char *xfer_version(void)
{
	return curl_version();
}

/* ------------------------------------------------------- kept connections */

struct xfer_share {
	CURLSH *sh;
};

struct xfer_share *xfer_share_new(void)
{
	struct xfer_share *s = xcalloc(1, sizeof(*s));

	s->sh = curl_share_init();
	if (!s->sh)
		log_fatal(75, "libcurl: cannot make a share handle");
	curl_share_setopt(s->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
	curl_share_setopt(s->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	curl_share_setopt(s->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	return s;
}

void xfer_share_free(struct xfer_share *s)
{
	if (!s)
		return;
	curl_share_cleanup(s->sh);
	free(s);
}

void xfer_set_share(struct xfer *x, struct xfer_share *share)
{
	x->share = share;
}

/* ------------------------------------------------------ many at once */

struct xfer_multi {
	CURLM *m;
};

struct xfer_multi *xfer_multi_new(void)
{
	struct xfer_multi *m = xcalloc(1, sizeof(*m));

	m->m = curl_multi_init();
	if (!m->m)
		log_fatal(75, "libcurl: cannot make a multi handle");
	return m;
}

void xfer_multi_free(struct xfer_multi *m)
{
	if (!m)
		return;
	curl_multi_cleanup(m->m);
	free(m);
}

int xfer_multi_add(struct xfer_multi *m, struct xfer *x, char *why,
		   size_t whylen)
{
	CURLMcode mc = curl_multi_add_handle(m->m, x->easy);

	if (mc != CURLM_OK) {
		util_err(why, whylen, "%s", curl_multi_strerror(mc));
		return -1;
	}
	return 0;
}

void xfer_multi_remove(struct xfer_multi *m, struct xfer *x)
{
	curl_multi_remove_handle(m->m, x->easy);
}

int xfer_multi_perform(struct xfer_multi *m, int *running, char *err,
		       size_t errlen)
{
	CURLMcode mc = curl_multi_perform(m->m, running);

	if (mc != CURLM_OK) {
		util_err(err, errlen, "libcurl: %s", curl_multi_strerror(mc));
		return -1;
	}
	return 0;
}

int xfer_multi_done(struct xfer_multi *m, void **priv, int *code)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(m->m, &left)) != NULL) {
		char *p = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &p);
		*priv = p;
		*code = (int)msg->data.result;
		return 1;
	}
	return 0;
}

int xfer_multi_wait(struct xfer_multi *m, int timeout_ms, char *err,
		    size_t errlen)
{
	CURLMcode mc = curl_multi_poll(m->m, NULL, 0, timeout_ms, NULL);

	if (mc != CURLM_OK) {
		util_err(err, errlen, "libcurl: %s", curl_multi_strerror(mc));
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------- URLs */

int xfer_url_split(const char *url, struct xfer_url *out)
{
	CURLU *u = curl_url();
	char *pass = NULL, *query = NULL, *frag = NULL;
	char *scheme = NULL, *user = NULL, *host = NULL, *path = NULL;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (!u)
		log_fatal(75, "out of memory");
	if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) !=
	    CURLUE_OK)
		goto out;
	curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
	curl_url_get(u, CURLUPART_USER, &user, CURLU_URLDECODE);
	curl_url_get(u, CURLUPART_PASSWORD, &pass, 0);
	curl_url_get(u, CURLUPART_HOST, &host, 0);
	curl_url_get(u, CURLUPART_PATH, &path, CURLU_URLDECODE);
	curl_url_get(u, CURLUPART_QUERY, &query, 0);
	curl_url_get(u, CURLUPART_FRAGMENT, &frag, 0);
	/* Ours to free with free(), not curl_free(). */
	out->scheme = scheme ? xstrdup(scheme) : NULL;
	out->user = user ? xstrdup(user) : NULL;
	out->host = host ? xstrdup(host) : NULL;
	out->path = path ? xstrdup(path) : NULL;
	out->has_password = pass != NULL;
	out->has_query = query != NULL;
	out->has_fragment = frag != NULL;
	rc = out->scheme && out->path ? 0 : -1;
out:
	curl_free(scheme);
	curl_free(user);
	curl_free(pass);
	curl_free(host);
	curl_free(path);
	curl_free(query);
	curl_free(frag);
	curl_url_cleanup(u);
	return rc;
}

void xfer_url_free(struct xfer_url *u)
{
	free(u->scheme);
	free(u->user);
	free(u->host);
	free(u->path);
	memset(u, 0, sizeof(*u));
}

/* Keep the status file, refusing more than NODESTATE_STATUS_MAX. */
static size_t xfer_write(char *data, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;

	if (buf_append(&x->down, data, size * n) < 0) {
		x->down_overflow = 1;
		return 0;
	}
	return size * n;
}

/*
 * Strict host key checking: only a key that known_hosts lists for this
 * host passes.  An unknown host is not added and a changed key is not
 * replaced: both are refused, and remembered for the message.
 */
static int xfer_hostkey_check(CURL *easy, const struct curl_khkey *known,
			      const struct curl_khkey *found,
			      enum curl_khmatch match, void *arg)
{
	struct xfer *x = arg;

	(void)easy;
	(void)known;
	(void)found;
	if (match == CURLKHMATCH_OK)
		return CURLKHSTAT_FINE;
	x->hostkey = match == CURLKHMATCH_MISMATCH ? XFER_HOSTKEY_MISMATCH
						   : XFER_HOSTKEY_MISSING;
	return CURLKHSTAT_REJECT;
}

/* One line of libcurl's conversation to stderr, after prefix, with its
 * credentials hidden (redact.h). */
static void xfer_debug_line(const char *prefix, const char *line, size_t len)
{
	char out[REDACT_OUT_SIZE];

	fprintf(stderr, "%s%s\n", prefix,
		redact_line(line, len, out, sizeof(out)));
}

/*
 * libcurl's conversation at -vvvv, in place of CURLOPT_VERBOSE's own
 * output (which prints Authorization headers as sent): its information
 * lines ("* "), and the header lines sent ("> ") and received ("< "),
 * each line prefixed, credentials redacted.  Bodies and TLS records are
 * not shown.
 */
static int xfer_debug(CURL *easy, curl_infotype type, char *data,
		      size_t size, void *arg)
{
	const char *prefix, *p = data, *end = data + size;

	(void)easy;
	(void)arg;
	switch (type) {
	case CURLINFO_TEXT:
		prefix = "* ";
		break;
	case CURLINFO_HEADER_IN:
		prefix = "< ";
		break;
	case CURLINFO_HEADER_OUT:
		prefix = "> ";
		break;
	default:
		return 0;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl ? nl : end) - p);

		if (len && p[len - 1] == '\r')
			len--;
		/* The blank line that ends a header block says nothing. */
		if (len || type == CURLINFO_TEXT)
			xfer_debug_line(prefix, p, len);
		p = nl ? nl + 1 : end;
	}
	return 0;
}

#define XFER_SET(opt, val) do {						\
		CURLcode c_ = curl_easy_setopt(x->easy, opt, val);	\
		if (c_ != CURLE_OK) {					\
			util_err(err, errlen, "libcurl: %s: %s", #opt,	\
				 curl_easy_strerror(c_));		\
			return -1;					\
		}							\
	} while (0)

/* Options every request of this target shares; url is the request's. */
static int xfer_common(struct xfer *x, const char *url, char *err,
		       size_t errlen)
{
	const struct repconf_target *t = x->t;
	const char *proto = t->scheme == REPCONF_S3 ? "https" :
			    repconf_scheme_name(t->scheme);
	char sigv4[XFER_SIGV4_MAX];

	curl_easy_reset(x->easy);
	if (x->share) {
		/* Kept open between runs: as long as the nodes let us. */
		XFER_SET(CURLOPT_SHARE, x->share->sh);
		XFER_SET(CURLOPT_MAXAGE_CONN, (long)XFER_KEEP_CONN);
		XFER_SET(CURLOPT_TCP_KEEPALIVE, 1L);
	}
	XFER_SET(CURLOPT_URL, url);
	XFER_SET(CURLOPT_PRIVATE, x->priv);
	XFER_SET(CURLOPT_NOSIGNAL, 1L);
	XFER_SET(CURLOPT_ERRORBUFFER, x->errbuf);
	XFER_SET(CURLOPT_PROTOCOLS_STR, proto);
	XFER_SET(CURLOPT_REDIR_PROTOCOLS_STR, proto);
	XFER_SET(CURLOPT_FOLLOWLOCATION, 0L);
	XFER_SET(CURLOPT_CONNECTTIMEOUT, (long)t->connect_timeout);
	XFER_SET(CURLOPT_TIMEOUT, (long)t->timeout);
	XFER_SET(CURLOPT_LOW_SPEED_LIMIT, (long)t->low_speed_limit);
	XFER_SET(CURLOPT_LOW_SPEED_TIME, (long)t->low_speed_time);
	XFER_SET(CURLOPT_USERAGENT, XFER_USER_AGENT);
	XFER_SET(CURLOPT_UPLOAD_BUFFERSIZE, (long)XFER_UPLOAD_BUFFER);
	if (log_verbose() >= 3) {
		XFER_SET(CURLOPT_DEBUGFUNCTION, xfer_debug);
		XFER_SET(CURLOPT_VERBOSE, 1L);
	}

	switch (t->scheme) {
	case REPCONF_SFTP:
	case REPCONF_SCP:
		XFER_SET(CURLOPT_SSH_AUTH_TYPES, (long)CURLSSH_AUTH_PUBLICKEY);
		XFER_SET(CURLOPT_SSH_PRIVATE_KEYFILE, t->ssh_private_key);
		if (t->ssh_public_key)
			XFER_SET(CURLOPT_SSH_PUBLIC_KEYFILE, t->ssh_public_key);
		XFER_SET(CURLOPT_SSH_KNOWNHOSTS, t->ssh_known_hosts);
		XFER_SET(CURLOPT_SSH_KEYFUNCTION, xfer_hostkey_check);
		XFER_SET(CURLOPT_SSH_KEYDATA, x);
		if (t->ssh_host_sha256)
			XFER_SET(CURLOPT_SSH_HOST_PUBLIC_KEY_SHA256,
				 t->ssh_host_sha256);
		if (x->passphrase)
			XFER_SET(CURLOPT_KEYPASSWD, x->passphrase);
		XFER_SET(CURLOPT_NEW_FILE_PERMS, (long)t->upload_mode);
		break;
	case REPCONF_HTTPS:
	case REPCONF_S3:
		XFER_SET(CURLOPT_SSL_VERIFYPEER, 1L);
		XFER_SET(CURLOPT_SSL_VERIFYHOST, 2L);
		if (t->ca_file)
			XFER_SET(CURLOPT_CAINFO, t->ca_file);
		if (t->client_cert) {
			XFER_SET(CURLOPT_SSLCERT, t->client_cert);
			XFER_SET(CURLOPT_SSLKEY, t->client_key);
			if (x->passphrase)
				XFER_SET(CURLOPT_KEYPASSWD, x->passphrase);
		}
		if (x->password) {
			XFER_SET(CURLOPT_USERNAME, t->username);
			XFER_SET(CURLOPT_PASSWORD, x->password);
			XFER_SET(CURLOPT_HTTPAUTH, (long)CURLAUTH_ANY);
		}
		if (t->scheme == REPCONF_S3) {
			/* libcurl signs each request (AWS Signature
			 * Version 4) with the secret; it never travels. */
			if ((size_t)snprintf(sigv4, sizeof(sigv4),
					     "aws:amz:%s:s3", t->s3_region) >=
			    sizeof(sigv4)) {
				util_err(err, errlen, "s3_region too long");
				return -1;
			}
			XFER_SET(CURLOPT_AWS_SIGV4, sigv4);
			XFER_SET(CURLOPT_USERNAME, t->s3_access_key_id);
			XFER_SET(CURLOPT_PASSWORD, x->s3_secret);
		}
		break;
	case REPCONF_FILE:
		XFER_SET(CURLOPT_NEW_FILE_PERMS, (long)t->upload_mode);
		break;
	}
	return 0;
}

/* base URL + name into out. */
static int xfer_url(const struct xfer *x, const char *name, char *out,
		    size_t size, char *err, size_t errlen)
{
	int n = snprintf(out, size, "%s%s", x->t->url, name);

	if (n < 0 || (size_t)n >= size) {
		util_err(err, errlen, "URL too long");
		return -1;
	}
	return 0;
}

int xfer_prepare_status(struct xfer *x, char *err, size_t errlen)
{
	xfer_clear(x);
	if (xfer_url(x, XFER_STATUS_NAME, x->url, sizeof(x->url), err,
		     errlen) < 0 ||
	    xfer_common(x, x->url, err, errlen) < 0)
		return -1;
	XFER_SET(CURLOPT_WRITEFUNCTION, xfer_write);
	XFER_SET(CURLOPT_WRITEDATA, x);
	x->req = XFER_REQ_STATUS;
	return 0;
}

/* An sftp quote command naming a path: cmd "DIR/NAME" ["DIR/NAME2"]. */
static int xfer_quote(struct xfer *x, const char *cmd, const char *name,
		      const char *name2, char *err, size_t errlen)
{
	char line[3 * 4096];
	const char *dir = x->t->path;
	struct curl_slist *l;
	int n;

	/* In a URL, /~/ means the login's home; libcurl resolves it there
	 * but not in a quoted command, where a relative path does the same
	 * (an sftp server starts in the home directory). */
	if (!strncmp(dir, "/~/", 3))
		dir += 3;
	/* repconf refused quotes and backslashes in the path; names are
	 * catalog ids and numbers. */
	if (name2)
		n = snprintf(line, sizeof(line), "%s \"%s%s\" \"%s%s\"", cmd,
			     dir, name, dir, name2);
	else
		n = snprintf(line, sizeof(line), "%s \"%s%s\"", cmd, dir,
			     name);
	if (n < 0 || (size_t)n >= sizeof(line)) {
		util_err(err, errlen, "path too long for an sftp command");
		return -1;
	}
	l = curl_slist_append(x->quote, line);
	if (!l)
		log_fatal(75, "out of memory");
	x->quote = l;
	return 0;
}

int xfer_prepare_upload(struct xfer *x, const struct spool_file *f,
			char *err, size_t errlen)
{
	const struct repconf_target *t = x->t;
	const char *name;

	xfer_clear(x);
	x->file = f;
	snprintf(x->part, sizeof(x->part), "%s%s%s", XFER_PART_PREFIX,
		 f->name, XFER_PART_SUFFIX);
	/* scp cannot rename: the node acts only on complete, verified
	 * files, so a broken upload is harmless and sent again. */
	name = t->scheme == REPCONF_SCP ? f->name : x->part;
	if (xfer_url(x, name, x->url, sizeof(x->url), err, errlen) < 0 ||
	    xfer_common(x, x->url, err, errlen) < 0)
		return -1;
	x->up = fopen(f->path, "rb");
	if (!x->up) {
		util_err(err, errlen, "%s: %s", f->path, strerror(errno));
		return -1;
	}
	XFER_SET(CURLOPT_UPLOAD, 1L);
	XFER_SET(CURLOPT_READDATA, x->up);
	XFER_SET(CURLOPT_INFILESIZE_LARGE, (curl_off_t)f->size);
	if (t->scheme == REPCONF_SFTP) {
		/* Many sftp servers (OpenSSH among them) refuse to rename
		 * over an existing file: remove a stale copy first ('*':
		 * its absence is fine). */
		if (xfer_quote(x, "*rm", f->name, NULL, err, errlen) < 0 ||
		    xfer_quote(x, "rename", x->part, f->name, err,
			       errlen) < 0)
			return -1;
		XFER_SET(CURLOPT_POSTQUOTE, x->quote);
	}
	x->req = XFER_REQ_UPLOAD;
	return 0;
}

int xfer_prepare_move(struct xfer *x, char *err, size_t errlen)
{
	char hdr[sizeof(x->dest) + 32];
	struct curl_slist *l;
	const struct spool_file *f = x->file;

	xfer_clear(x);
	x->file = f;
	if (!f || x->t->scheme != REPCONF_HTTPS)
		log_panic("xfer_prepare_move without an https upload");
	if (xfer_url(x, x->part, x->url, sizeof(x->url), err, errlen) < 0 ||
	    xfer_url(x, f->name, x->dest, sizeof(x->dest), err, errlen) < 0 ||
	    xfer_common(x, x->url, err, errlen) < 0)
		return -1;
	snprintf(hdr, sizeof(hdr), "Destination: %s", x->dest);
	l = curl_slist_append(NULL, hdr);
	if (l)
		l = curl_slist_append(l, "Overwrite: T");
	if (!l)
		log_fatal(75, "out of memory");
	x->headers = l;
	XFER_SET(CURLOPT_CUSTOMREQUEST, "MOVE");
	XFER_SET(CURLOPT_HTTPHEADER, x->headers);
	XFER_SET(CURLOPT_NOBODY, 0L);
	XFER_SET(CURLOPT_WRITEFUNCTION, xfer_write);
	XFER_SET(CURLOPT_WRITEDATA, x);
	x->req = XFER_REQ_MOVE;
	return 0;
}

#undef XFER_SET

const char *xfer_status_text(const struct xfer *x, size_t *len)
{
	*len = x->down.len;
	return (const char *)x->down.data;
}

int xfer_needs_rename(const struct xfer *x)
{
	return x->t->scheme == REPCONF_HTTPS || x->t->scheme == REPCONF_FILE;
}

/* Errors another attempt will not cure. */
static int xfer_permanent(CURLcode code)
{
	switch (code) {
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_LOGIN_DENIED:
	case CURLE_REMOTE_ACCESS_DENIED:
	case CURLE_READ_ERROR:
	case CURLE_FILESIZE_EXCEEDED:
		return 1;
	default:
		return 0;
	}
}

static const char *xfer_what(const struct xfer *x)
{
	switch (x->req) {
	case XFER_REQ_STATUS:
		return "reading the node's status";
	case XFER_REQ_UPLOAD:
		return "uploading";
	case XFER_REQ_MOVE:
		return "renaming (WebDAV MOVE)";
	case XFER_REQ_OBJ_GET:
		return "fetching";
	case XFER_REQ_OBJ_PUT:
		return "publishing";
	case XFER_REQ_OBJ_DELETE:
		return "deleting";
	}
	return "request";
}

/* Does libcurl's libssh2 ask for "ssh-rsa" by that name only (SHA-1)?
 * libssh2 1.11 added the rsa-sha2-256 and -512 signatures. */
static int xfer_libssh2_sha1_rsa(void)
{
	const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
	unsigned major = 0, minor = 0;

	return v->libssh_version &&
	       sscanf(v->libssh_version, "libssh2/%u.%u", &major, &minor) == 2 &&
	       (major < 1 || (major == 1 && minor < 11));
}

/*
 * An ssh session that could not be set up: was it because the first line
 * of known_hosts for this host names a key type the node refuses to sign
 * with (ssh-keyscan without -t often lists the RSA key first)?  Then say so,
 * with the line and what to do, in res; 1.  0 when that is not why.
 */
static int xfer_legacy_hostkey(struct xfer *x, CURLcode code, const char *q,
			       struct xfer_result *res)
{
	struct knownhosts_pick pick;
	char *text, why[256];
	size_t len;

	if ((x->t->scheme != REPCONF_SFTP && x->t->scheme != REPCONF_SCP) ||
	    (code != CURLE_FAILED_INIT && code != CURLE_SSH) ||
	    !x->t->ssh_known_hosts || !*x->host || !xfer_libssh2_sha1_rsa())
		return 0;
	text = util_read_file(x->t->ssh_known_hosts, KNOWNHOSTS_TEXT_MAX,
			      &len, why, sizeof(why));
	if (!text)
		return 0;
	if (knownhosts_pick(text, len, x->host, x->port, &pick, why,
			    sizeof(why)) < 0 || !pick.line ||
	    !knownhosts_type_legacy(pick.type)) {
		free(text);
		return 0;
	}
	free(text);
	x->hostkey = XFER_HOSTKEY_LEGACY;
	util_err(res->msg, sizeof(res->msg), "%s:%d, the first key listed "
		 "for %s%s, is %s: libcurl then asks the node for %s "
		 "signatures, which OpenSSH 8.8 and later refuse; list the "
		 "node's ssh-ed25519 key first, or only that one "
		 "(ssh-keyscan -t ed25519 -p %ld %s, after checking its "
		 "fingerprint) (%s)", x->t->ssh_known_hosts, pick.line,
		 x->hostport, pick.hashed ? " (a hashed line: libcurl takes "
		 "the first one for any host)" : "", pick.type, pick.type,
		 x->port, x->host, q);
	return 1;
}

/* The message for a failed libcurl request. */
static void xfer_message(struct xfer *x, CURLcode code,
			 struct xfer_result *res)
{
	const char *why = x->errbuf[0] ? x->errbuf : curl_easy_strerror(code);
	const char *name = x->req == XFER_REQ_UPLOAD && x->file ?
			   x->file->name : x->objname;
	char q[LOG_QUOTE_SIZE];

	log_quote(why, strlen(why), q, sizeof(q));
	if (x->hostkey == XFER_HOSTKEY_MISMATCH) {
		util_err(res->msg, sizeof(res->msg), "host key of %s does "
			 "not match the one in %s: refusing to connect (a "
			 "changed key can mean the connection is intercepted)",
			 x->hostport, x->t->ssh_known_hosts);
	} else if (x->hostkey == XFER_HOSTKEY_MISSING) {
		util_err(res->msg, sizeof(res->msg), "host %s has no key in "
			 "%s: refusing to connect (add its key after checking "
			 "its fingerprint)", x->hostport,
			 x->t->ssh_known_hosts);
	} else if (xfer_legacy_hostkey(x, code, q, res)) {
		return;
	} else if (code == CURLE_PEER_FAILED_VERIFICATION &&
		   (x->t->scheme == REPCONF_HTTPS ||
		    x->t->scheme == REPCONF_S3)) {
		util_err(res->msg, sizeof(res->msg), "server certificate of "
			 "%s not trusted (ca_file %s): %s", x->hostport,
			 x->t->ca_file ? x->t->ca_file : "system default", q);
	} else if (code == CURLE_PEER_FAILED_VERIFICATION &&
		   x->t->ssh_host_sha256) {
		util_err(res->msg, sizeof(res->msg), "host key of %s does "
			 "not have the fingerprint in ssh_host_sha256: "
			 "refusing to connect (%s)", x->hostport, q);
	} else if (code == CURLE_PEER_FAILED_VERIFICATION) {
		util_err(res->msg, sizeof(res->msg), "host key of %s "
			 "refused: %s", x->hostport, q);
	} else if (code == CURLE_LOGIN_DENIED) {
		util_err(res->msg, sizeof(res->msg), "%s: login refused by "
			 "%s: %s", xfer_what(x), x->hostport, q);
	} else if (code == CURLE_WRITE_ERROR && x->down_overflow) {
		util_err(res->msg, sizeof(res->msg), "%s: the status file is "
			 "larger than %d bytes", xfer_what(x),
			 NODESTATE_STATUS_MAX);
	} else {
		util_err(res->msg, sizeof(res->msg), "%s%s%s: %s",
			 xfer_what(x), *name ? " " : "", name, q);
	}
}

void xfer_result(struct xfer *x, int result, struct xfer_result *res)
{
	CURLcode code = (CURLcode)result;
	long http = 0;
	curl_off_t up = 0, total = 0, conn = 0, hs = 0;
	char path[8192];

	memset(res, 0, sizeof(res[0]));
	curl_easy_getinfo(x->easy, CURLINFO_SIZE_UPLOAD_T, &up);
	curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME_T, &total);
	res->bytes_up = up > 0 ? (uint64_t)up : 0;
	curl_easy_getinfo(x->easy, CURLINFO_CONNECT_TIME_T, &conn);
	curl_easy_getinfo(x->easy, CURLINFO_APPCONNECT_TIME_T, &hs);
	res->seconds = (double)total / 1e6;
	res->connect = (double)conn / 1e6;
	res->handshake = (double)hs / 1e6;
	if (x->up) {
		fclose(x->up);
		x->up = NULL;
	}
	if (code != CURLE_OK) {
		if (x->req == XFER_REQ_STATUS &&
		    (code == CURLE_REMOTE_FILE_NOT_FOUND ||
		     (code == CURLE_FILE_COULDNT_READ_FILE &&
		      snprintf(path, sizeof(path), "%s%s", x->t->path,
			       XFER_STATUS_NAME) > 0 &&
		      access(path, F_OK) < 0 && errno == ENOENT))) {
			res->not_found = 1;
			return;
		}
		xfer_message(x, code, res);
		res->retryable = !xfer_permanent(code) &&
				 x->hostkey == XFER_HOSTKEY_OK;
		return;
	}
	if (x->t->scheme != REPCONF_HTTPS) {
		res->ok = 1;
		return;
	}
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &http);
	if (http >= 200 && http < 300) {
		res->ok = 1;
		return;
	}
	if (x->req == XFER_REQ_STATUS && (http == 404 || http == 410)) {
		res->not_found = 1;
		return;
	}
	util_err(res->msg, sizeof(res->msg), "%s%s%s: %s answered HTTP %ld%s",
		 xfer_what(x), x->req == XFER_REQ_UPLOAD ? " " : "",
		 x->req == XFER_REQ_UPLOAD ? x->file->name : "", x->hostport,
		 http, http == 401 || http == 407 ? " (credentials refused)"
						  : "");
	/* The server's own trouble may pass; a refusal will not. */
	res->retryable = http >= 500 || http == 408 || http == 429;
}

int xfer_finish_local(struct xfer *x, struct xfer_result *res)
{
	char from[8192], to[8192];
	int fd;

	memset(res, 0, sizeof(*res));
	if (x->t->scheme != REPCONF_FILE || !x->file)
		log_panic("xfer_finish_local without a file:// upload");
	if ((size_t)snprintf(from, sizeof(from), "%s%s", x->t->path,
			     x->part) >= sizeof(from) ||
	    (size_t)snprintf(to, sizeof(to), "%s%s", x->t->path,
			     x->file->name) >= sizeof(to)) {
		util_err(res->msg, sizeof(res->msg), "path too long");
		return -1;
	}
	/* Durable before it becomes visible under its final name. */
	fd = open(from, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0) {
		util_err(res->msg, sizeof(res->msg), "%s: %s", from,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		res->retryable = 1;
		return -1;
	}
	close(fd);
	if (rename(from, to) < 0) {
		util_err(res->msg, sizeof(res->msg), "rename %s to %s: %s",
			 from, to, strerror(errno));
		res->retryable = 1;
		return -1;
	}
	fd = open(x->t->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	res->ok = 1;
	return 0;
}

/* ---- publish destinations ---------------------------------------------- */

/* An object's body, refused past the buffer's maximum. */
static size_t xfer_obj_write(char *data, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;

	if (buf_append(x->obj_out, data, size * n) < 0) {
		x->down_overflow = 1;
		return 0;
	}
	return size * n;
}

/* Upload from memory. */
static size_t xfer_obj_read(char *data, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t left = x->memlen - x->mempos, want = size * n;

	if (want > left)
		want = left;
	memcpy(data, x->mem + x->mempos, want);
	x->mempos += want;
	return want;
}

/* Back to the start of a memory upload: libcurl sends the body again
 * when the server asks for credentials (401) after it went out. */
static int xfer_obj_seek(void *arg, curl_off_t offset, int origin)
{
	struct xfer *x = arg;

	if (origin != SEEK_SET || offset < 0 || (size_t)offset > x->memlen)
		return CURL_SEEKFUNC_CANTSEEK;
	x->mempos = (size_t)offset;
	return CURL_SEEKFUNC_OK;
}

/* The object's URL: https: the destination's URL + name; s3: path-style
 * https://ENDPOINT/BUCKET/PREFIX/NAME. */
static int xfer_object_url(struct xfer *x, const char *name, char *err,
			   size_t errlen)
{
	const struct repconf_target *t = x->t;
	int n;

	if (strchr(name, '/') || !*name || name[0] == '.')
		log_panic("object name '%s' is not a plain name", name);
	if (t->scheme == REPCONF_S3)
		n = snprintf(x->url, sizeof(x->url), "%s/%s%s%s",
			     t->s3_endpoint, t->s3_bucket, t->path, name);
	else
		n = snprintf(x->url, sizeof(x->url), "%s%s", t->url, name);
	if (n < 0 || (size_t)n >= sizeof(x->url)) {
		util_err(err, errlen, "URL too long");
		return -1;
	}
	util_copy_text(x->objname, name, sizeof(x->objname));
	return 0;
}

/* Hex of a SHA-256, for x-amz-content-sha256. */
static void xfer_hex(const unsigned char *p, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = d[p[i] >> 4];
		out[2 * i + 1] = d[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Add one header line to the request's list. */
static void xfer_header(struct xfer *x, const char *line)
{
	struct curl_slist *l = curl_slist_append(x->headers, line);

	if (!l)
		log_fatal(75, "out of memory");
	x->headers = l;
}

/* The payload hash header every S3 request signs. */
static void xfer_s3_hash(struct xfer *x, const unsigned char sha256[32])
{
	char hex[65], line[128];

	if (x->t->scheme != REPCONF_S3)
		return;
	xfer_hex(sha256, 32, hex);
	snprintf(line, sizeof(line), "x-amz-content-sha256: %s", hex);
	xfer_header(x, line);
}

/* Run the prepared request; -1 with res filled when it failed before an
 * HTTP status came back, else 0 with *http. */
static int xfer_object_perform(struct xfer *x, struct xfer_result *res,
			       long *http)
{
	CURLcode code;

	if (x->headers &&
	    curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->headers) !=
		    CURLE_OK) {
		memset(res, 0, sizeof(*res));
		util_err(res->msg, sizeof(res->msg), "libcurl: headers");
		return -1;
	}
	code = curl_easy_perform(x->easy);
	xfer_result(x, code, res);
	*http = 0;
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, http);
	if (code != CURLE_OK) {
		if (code == CURLE_WRITE_ERROR && x->down_overflow)
			util_err(res->msg, sizeof(res->msg), "%s %s: larger "
				 "than %zu bytes", xfer_what(x), x->objname,
				 x->obj_out ? x->obj_out->max : 0);
		return -1;
	}
	return 0;
}

/* A refused request: "publishing NAME: HOST answered HTTP 403 (body)". */
static void xfer_object_refused(struct xfer *x, long http,
				const struct buf *body,
				struct xfer_result *res)
{
	char q[LOG_QUOTE_SIZE];
	size_t n = body && body->len < XFER_ERROR_BODY_MAX ? body->len :
		   XFER_ERROR_BODY_MAX;

	res->ok = 0;
	log_quote(body ? (const char *)body->data : "", body ? n : 0, q,
		  sizeof(q));
	util_err(res->msg, sizeof(res->msg), "%s %s: %s answered HTTP %ld%s%s"
		 "%s", xfer_what(x), x->objname, x->hostport, http,
		 http == 401 || http == 403 ? " (credentials refused)" : "",
		 n ? ": " : "", n ? q : "");
	res->retryable = http >= 500 || http == 408 || http == 429;
}

#define XFER_SET_RES(opt, val) do {					\
		if (curl_easy_setopt(x->easy, opt, val) != CURLE_OK) {	\
			util_err(res->msg, sizeof(res->msg),		\
				 "libcurl: %s", #opt);			\
			return -1;					\
		}							\
	} while (0)

/* A date header of the last response as Unix time; 0 when there is none
 * or it is not a date. */
static int64_t xfer_header_time(struct xfer *x, const char *name)
{
	struct curl_header *h;
	time_t t;

	if (curl_easy_header(x->easy, name, 0, CURLH_HEADER, -1, &h) !=
		    CURLHE_OK || !h->value)
		return 0;
	t = curl_getdate(h->value, NULL);
	return t > 0 ? (int64_t)t : 0;
}

int xfer_object_get(struct xfer *x, const char *name, struct buf *out,
		    struct xfer_result *res)
{
	static const unsigned char empty[32] = {
		0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb,
		0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4,
		0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52,
		0xb8, 0x55 };	/* SHA-256 of nothing */
	long http;

	memset(res, 0, sizeof(*res));
	xfer_clear(x);
	if (xfer_object_url(x, name, res->msg, sizeof(res->msg)) < 0 ||
	    xfer_common(x, x->url, res->msg, sizeof(res->msg)) < 0)
		return -1;
	x->req = XFER_REQ_OBJ_GET;
	x->obj_out = out;
	out->len = 0;
	XFER_SET_RES(CURLOPT_WRITEFUNCTION, xfer_obj_write);
	XFER_SET_RES(CURLOPT_WRITEDATA, x);
	xfer_s3_hash(x, empty);
	if (xfer_object_perform(x, res, &http) < 0)
		return -1;
	if (http == 404) {
		res->ok = 1;
		return 0;
	}
	if (http < 200 || http >= 300) {
		xfer_object_refused(x, http, out, res);
		return -1;
	}
	res->ok = 1;
	res->last_modified = xfer_header_time(x, "Last-Modified");
	res->date = xfer_header_time(x, "Date");
	return 1;
}

int xfer_object_put(struct xfer *x, const char *name, const char *path,
		    const void *data, size_t len,
		    const unsigned char sha256[32], const char *cache_control,
		    struct xfer_result *res)
{
	struct buf body;
	struct stat st;
	char line[256];
	long http;
	int ret = -1;

	memset(res, 0, sizeof(*res));
	xfer_clear(x);
	if (xfer_object_url(x, name, res->msg, sizeof(res->msg)) < 0 ||
	    xfer_common(x, x->url, res->msg, sizeof(res->msg)) < 0)
		return -1;
	x->req = XFER_REQ_OBJ_PUT;
	if (path) {
		x->up = fopen(path, "rb");
		if (!x->up || fstat(fileno(x->up), &st) < 0) {
			util_err(res->msg, sizeof(res->msg), "%s: %s", path,
				 strerror(errno));
			return -1;
		}
		len = (size_t)st.st_size;
		XFER_SET_RES(CURLOPT_READDATA, x->up);
	} else {
		x->mem = data;
		x->memlen = len;
		XFER_SET_RES(CURLOPT_READFUNCTION, xfer_obj_read);
		XFER_SET_RES(CURLOPT_READDATA, x);
		XFER_SET_RES(CURLOPT_SEEKFUNCTION, xfer_obj_seek);
		XFER_SET_RES(CURLOPT_SEEKDATA, x);
	}
	XFER_SET_RES(CURLOPT_UPLOAD, 1L);
	XFER_SET_RES(CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	/* An error reply is kept (bounded) for the message. */
	buf_init(&body, XFER_ERROR_BODY_MAX * 4);
	x->obj_out = &body;
	XFER_SET_RES(CURLOPT_WRITEFUNCTION, xfer_obj_write);
	XFER_SET_RES(CURLOPT_WRITEDATA, x);
	xfer_header(x, "Content-Type: application/octet-stream");
	/* No "100 continue" round trip: the body is small or expected.  Not
	 * for S3: libcurl 7.88 signs the emptied header it does not send,
	 * and the store refuses the signature. */
	if (x->t->scheme != REPCONF_S3)
		xfer_header(x, "Expect:");
	if (cache_control) {
		snprintf(line, sizeof(line), "Cache-Control: %s",
			 cache_control);
		xfer_header(x, line);
	}
	xfer_s3_hash(x, sha256);
	if (xfer_object_perform(x, res, &http) < 0) {
		/* An overlong error body is no reason to fail a PUT the
		 * server may have taken: the status decides. */
		if (!x->down_overflow || !http)
			goto out;
	}
	if (http < 200 || http >= 300) {
		xfer_object_refused(x, http, &body, res);
		goto out;
	}
	res->ok = 1;
	ret = 0;
out:
	buf_free(&body);
	x->obj_out = NULL;
	return ret;
}

int xfer_object_delete(struct xfer *x, const char *name,
		       struct xfer_result *res)
{
	static const unsigned char empty[32] = {
		0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb,
		0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4,
		0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52,
		0xb8, 0x55 };
	struct buf body;
	long http;
	int ret = -1;

	memset(res, 0, sizeof(*res));
	xfer_clear(x);
	if (xfer_object_url(x, name, res->msg, sizeof(res->msg)) < 0 ||
	    xfer_common(x, x->url, res->msg, sizeof(res->msg)) < 0)
		return -1;
	x->req = XFER_REQ_OBJ_DELETE;
	buf_init(&body, XFER_ERROR_BODY_MAX * 4);
	x->obj_out = &body;
	XFER_SET_RES(CURLOPT_CUSTOMREQUEST, "DELETE");
	XFER_SET_RES(CURLOPT_WRITEFUNCTION, xfer_obj_write);
	XFER_SET_RES(CURLOPT_WRITEDATA, x);
	xfer_s3_hash(x, empty);
	if (xfer_object_perform(x, res, &http) < 0 &&
	    (!x->down_overflow || !http))
		goto out;
	if (http != 404 && (http < 200 || http >= 300)) {
		xfer_object_refused(x, http, &body, res);
		goto out;
	}
	res->ok = 1;
	ret = 0;
out:
	buf_free(&body);
	x->obj_out = NULL;
	return ret;
}
