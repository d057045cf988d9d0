/*
 * http.c - GET requests for dircat-fetch over libcurl; see http.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "http.h"
#include "log.h"

#define HTTP_USER_AGENT "dircat-fetch/1"
#define HTTP_HEADER_MAX (HTTP_VALIDATOR_MAX + 32)	/* a request header */

struct http {
	const struct fetchconf *c;
	CURL *easy;
	char errbuf[CURL_ERROR_SIZE];
	struct http_result *res;
	/* the body's destination: a buffer, or a descriptor */
	struct buf *out;
	int fd;
	uint64_t max;
	struct sign_sha256 *hash;
	int write_failed;		/* errno of a failed write(), or 0 */
};

const char *http_version(void)
{
	return curl_version();
}

int http_url_split(const char *url, struct http_url *out)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *path = NULL, *user = NULL, *query = NULL;
	char *frag = NULL;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (!u)
		log_fatal(71, "out of memory");
	if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) !=
	    CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK)
		goto out;
	curl_url_get(u, CURLUPART_USER, &user, 0);
	curl_url_get(u, CURLUPART_QUERY, &query, 0);
	curl_url_get(u, CURLUPART_FRAGMENT, &frag, 0);
	/* Ours to free with free(), not curl_free(). */
	out->scheme = xstrdup(scheme);
	out->has_user = user != NULL;
	out->has_query = query != NULL;
	out->has_fragment = frag != NULL;
	rc = 0;
out:
	curl_free(scheme);
	curl_free(path);
	curl_free(user);
	curl_free(query);
	curl_free(frag);
	curl_url_cleanup(u);
	return rc;
}

void http_url_free(struct http_url *u)
{
	free(u->scheme);
	memset(u, 0, sizeof(*u));
}

int http_global_init(char *err, size_t errlen)
{
	CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);

	if (rc != CURLE_OK) {
		util_err(err, errlen, "libcurl: %s", curl_easy_strerror(rc));
		return -1;
	}
	return 0;
}

void http_global_cleanup(void)
{
	curl_global_cleanup();
}

struct http *http_new(const struct fetchconf *c)
{
	struct http *h = xcalloc(1, sizeof(*h));

	h->c = c;
	h->fd = -1;
	h->easy = curl_easy_init();
	if (!h->easy)
		log_fatal(71, "libcurl: cannot make a handle");
	return h;
}

void http_free(struct http *h)
{
	if (!h)
		return;
	curl_easy_cleanup(h->easy);
	free(h);
}

/* Keep a validator header's value when it is printable and bounded. */
static void http_keep(char *dst, const char *v, size_t n)
{
	size_t i;

	while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' ||
			 v[n - 1] == ' '))
		n--;
	while (n > 0 && *v == ' ') {
		v++;
		n--;
	}
	if (n == 0 || n > HTTP_VALIDATOR_MAX)
		return;
	for (i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7e)
			return;
	memcpy(dst, v, n);
	dst[n] = '\0';
}

/* ETag and Last-Modified of the final response. */
static size_t http_header(char *data, size_t size, size_t n, void *arg)
{
	struct http *h = arg;
	size_t len = size * n;

	if (len >= 5 && !strncasecmp(data, "HTTP/", 5)) {
		/* A new response (after a 100 Continue): start over. */
		h->res->etag[0] = h->res->last_modified[0] = '\0';
	} else if (len > 5 && !strncasecmp(data, "ETag:", 5)) {
		http_keep(h->res->etag, data + 5, len - 5);
	} else if (len > 14 && !strncasecmp(data, "Last-Modified:", 14)) {
		http_keep(h->res->last_modified, data + 14, len - 14);
	}
	return len;
}

/* Only a 200 response's body is kept: an error page is not data. */
static int http_body_wanted(struct http *h)
{
	long status = 0;

	curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &status);
	return status == 200;
}

static size_t http_write(char *data, size_t size, size_t n, void *arg)
{
	struct http *h = arg;
	size_t len = size * n, done = 0;

	if (!http_body_wanted(h))
		return len;
	if (h->res->bytes + len > h->max) {
		h->res->too_large = 1;
		return 0;
	}
	h->res->bytes += len;
	if (h->out)
		return buf_append(h->out, data, len) < 0 ? 0 : len;
	if (h->hash)
		sign_sha256_update(h->hash, data, len);
	while (done < len) {
		ssize_t w = write(h->fd, data + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			h->write_failed = w < 0 ? errno : EIO;
			return 0;
		}
		done += (size_t)w;
	}
	return len;
}

#define HTTP_SET(opt, val) do {						\
		if (curl_easy_setopt(h->easy, opt, val) != CURLE_OK) {	\
			util_err(res->msg, sizeof(res->msg),		\
				 "libcurl: cannot set %s", #opt);	\
			goto out;					\
		}							\
	} while (0)

/* The request as set up by the callers; headers may be NULL. */
static int http_perform(struct http *h, const char *url,
			struct curl_slist *headers, struct http_result *res)
{
	const struct fetchconf *c = h->c;
	curl_off_t total = 0;
	CURLcode code;
	char q[LOG_QUOTE_SIZE];
	int ret = -1;

	curl_easy_reset(h->easy);
	h->res = res;
	h->errbuf[0] = '\0';
	h->write_failed = 0;
	HTTP_SET(CURLOPT_URL, url);
	HTTP_SET(CURLOPT_NOSIGNAL, 1L);
	HTTP_SET(CURLOPT_ERRORBUFFER, h->errbuf);
	HTTP_SET(CURLOPT_PROTOCOLS_STR, "http,https");
	HTTP_SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	HTTP_SET(CURLOPT_FOLLOWLOCATION, 0L);
	HTTP_SET(CURLOPT_CONNECTTIMEOUT, (long)c->connect_timeout);
	HTTP_SET(CURLOPT_TIMEOUT, (long)c->timeout);
	HTTP_SET(CURLOPT_LOW_SPEED_LIMIT, (long)c->low_speed_limit);
	HTTP_SET(CURLOPT_LOW_SPEED_TIME, (long)c->low_speed_time);
	HTTP_SET(CURLOPT_USERAGENT, HTTP_USER_AGENT);
	HTTP_SET(CURLOPT_SSL_VERIFYPEER, 1L);
	HTTP_SET(CURLOPT_SSL_VERIFYHOST, 2L);
	/* Bodies arrive as sent: a decompressor would be one more parser
	 * fed by the other side. */
	HTTP_SET(CURLOPT_HTTP_CONTENT_DECODING, 0L);
	if (c->ca_file)
		HTTP_SET(CURLOPT_CAINFO, c->ca_file);
	HTTP_SET(CURLOPT_HEADERFUNCTION, http_header);
	HTTP_SET(CURLOPT_HEADERDATA, h);
	HTTP_SET(CURLOPT_WRITEFUNCTION, http_write);
	HTTP_SET(CURLOPT_WRITEDATA, h);
	if (h->max < (uint64_t)INT64_MAX)
		HTTP_SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)h->max);
	if (headers)
		HTTP_SET(CURLOPT_HTTPHEADER, headers);
	if (log_verbose() >= 3)
		HTTP_SET(CURLOPT_VERBOSE, 1L);

	code = curl_easy_perform(h->easy);
	curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &res->status);
	curl_easy_getinfo(h->easy, CURLINFO_TOTAL_TIME_T, &total);
	res->seconds = (double)total / 1e6;
	if (code == CURLE_OK) {
		ret = 0;
		goto out;
	}
	if (res->too_large || code == CURLE_FILESIZE_EXCEEDED) {
		res->too_large = 1;
		util_err(res->msg, sizeof(res->msg), "%s: larger than %llu "
			 "bytes: refused", url, (unsigned long long)h->max);
	} else if (h->write_failed) {
		util_err(res->msg, sizeof(res->msg), "%s: writing: %s", url,
			 strerror(h->write_failed));
	} else {
		const char *why = h->errbuf[0] ? h->errbuf :
				  curl_easy_strerror(code);

		util_err(res->msg, sizeof(res->msg), "%s: %s", url,
			 log_quote(why, strlen(why), q, sizeof(q)));
	}
out:
	h->res = NULL;
	return ret;
}

/* Add "Name: value" to a header list (value already checked). */
static struct curl_slist *http_add(struct curl_slist *l, const char *name,
				   const char *value)
{
	char line[HTTP_HEADER_MAX];
	struct curl_slist *n;

	snprintf(line, sizeof(line), "%s: %s", name, value);
	n = curl_slist_append(l, line);
	if (!n)
		log_fatal(71, "out of memory");
	return n;
}

int http_get_buf(struct http *h, const char *url, const char *etag,
		 const char *last_modified, struct buf *out,
		 struct http_result *res)
{
	struct curl_slist *headers = NULL;
	int rc;

	memset(res, 0, sizeof(*res));
	out->len = 0;
	h->out = out;
	h->fd = -1;
	h->hash = NULL;
	h->max = out->max;
	/* If-Modified-Since only without an ETag: a server is to ignore it
	 * beside If-None-Match (RFC 9110, 13.1.3), but Swift and Amazon S3
	 * answer 304 when the date alone says so, and a manifest replaced
	 * within a second keeps its Last-Modified. */
	if (etag && *etag && strlen(etag) <= HTTP_VALIDATOR_MAX)
		headers = http_add(headers, "If-None-Match", etag);
	else if (last_modified && *last_modified &&
		 strlen(last_modified) <= HTTP_VALIDATOR_MAX)
		headers = http_add(headers, "If-Modified-Since", last_modified);
	rc = http_perform(h, url, headers, res);
	curl_slist_free_all(headers);
	h->out = NULL;
	return rc;
}

int http_get_fd(struct http *h, const char *url, int fd, uint64_t max,
		struct sign_sha256 *hash, struct http_result *res)
{
	int rc;

	memset(res, 0, sizeof(*res));
	h->out = NULL;
	h->fd = fd;
	h->hash = hash;
	h->max = max;
	rc = http_perform(h, url, NULL, res);
	h->fd = -1;
	h->hash = NULL;
	return rc;
}
