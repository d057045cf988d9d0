/*
 * fetchconf.c - read and check dircat-fetch's configuration; see
 * fetchconf.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <curl/curl.h>

#include "config.h"
#include "fetchconf.h"
#include "log.h"
#include "snapshot.h"
#include "util.h"

/* Defaults, documented in man/dircat-fetch.8 and docs/fleet.md. */
#define FETCHCONF_POLL_DEFAULT         60
#define FETCHCONF_POLL_MIN             1
#define FETCHCONF_POLL_MAX             86400
#define FETCHCONF_CONNECT_TIMEOUT_DEFAULT 10
#define FETCHCONF_TIMEOUT_DEFAULT      600
#define FETCHCONF_TIMEOUT_MAX          86400
#define FETCHCONF_LOW_SPEED_LIMIT_DEFAULT 1024
#define FETCHCONF_LOW_SPEED_TIME_DEFAULT 30
#define FETCHCONF_INSTALL_GRACE_DEFAULT 300
#define FETCHCONF_MAX_DOWNLOAD_DEFAULT (4LL << 30)
#define FETCHCONF_FILE_MODE_DEFAULT    0640
#define FETCHCONF_STATE_DIR_DEFAULT    "/var/lib/dircat-fetch"

/* Check the manifest URL and split off its directory. */
static int fetchconf_url(const struct config_section *top,
			 struct fetchconf *c, char *err, size_t errlen)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *user = NULL, *query = NULL, *frag = NULL;
	char *path = NULL, where[512];
	const char *w = config_where(top, "manifest_url", where, sizeof(where));
	const char *slash, *sep;
	int ret = -1;

	if (!u)
		log_fatal(71, "out of memory");
	if (strlen(c->manifest_url) > FETCHCONF_URL_MAX) {
		util_err(err, errlen, "%smanifest_url: longer than %d bytes", w,
			 FETCHCONF_URL_MAX);
		goto out;
	}
	if (curl_url_set(u, CURLUPART_URL, c->manifest_url,
			 CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK) {
		util_err(err, errlen, "%smanifest_url: '%s' is not a valid URL",
			 w, c->manifest_url);
		goto out;
	}
	curl_url_get(u, CURLUPART_USER, &user, 0);
	curl_url_get(u, CURLUPART_QUERY, &query, 0);
	curl_url_get(u, CURLUPART_FRAGMENT, &frag, 0);
	if (strcmp(scheme, "http") && strcmp(scheme, "https")) {
		util_err(err, errlen, "%smanifest_url: scheme %s is not "
			 "supported: http:// or https:// (an S3 store serves "
			 "its objects over https)", w, scheme);
		goto out;
	}
	if (user || query || frag) {
		util_err(err, errlen, "%smanifest_url: no user name, query or "
			 "fragment, please", w);
		goto out;
	}
	/* As written, not only as libcurl reads it: base_url is cut from
	 * this text, after SCHEME://HOST. */
	sep = strstr(c->manifest_url, "://");
	slash = strrchr(c->manifest_url, '/');
	if (!sep || !slash || !slash[1] || sep + 2 == slash) {
		util_err(err, errlen, "%smanifest_url: must name the manifest "
			 "itself, e.g. https://HOST/dircat/corp.manifest", w);
		goto out;
	}
	c->base_url = xstrndup(c->manifest_url,
			       (size_t)(slash + 1 - c->manifest_url));
	ret = 0;
out:
	curl_free(scheme);
	curl_free(user);
	curl_free(query);
	curl_free(frag);
	curl_free(path);
	curl_url_cleanup(u);
	return ret;
}

static int fetchconf_keys(const struct config_section *top,
			  struct fetchconf *c, char *err, size_t errlen)
{
	const char *v;
	char where[512], why[512];
	size_t i;
	int line;

	c->keys = sign_keyring_new();
	for (i = 0; (v = config_get_nth(top, "trusted_key", i, &line)); i++) {
		if (sign_keyring_add_file(c->keys, v, why, sizeof(why)) < 0) {
			util_err(err, errlen, "%s:%d: trusted_key: %s", c->path,
				 line, why);
			return -1;
		}
		c->nkeys++;
	}
	if (c->nkeys == 0) {
		util_err(err, errlen, "%strusted_key: at least one is needed "
			 "(the replicator's public key)",
			 config_where(top, NULL, where, sizeof(where)));
		return -1;
	}
	return 0;
}

/* A duration in [min, max]. */
static int fetchconf_duration(const struct config_section *top,
			      const char *key, int64_t def, int64_t min,
			      int64_t max, int64_t *out, char *err,
			      size_t errlen)
{
	char where[512];

	if (config_get_duration(top, key, def, out, err, errlen) < 0)
		return -1;
	if (*out < min || *out > max) {
		util_err(err, errlen, "%s%s: between %llds and %llds",
			 config_where(top, key, where, sizeof(where)), key,
			 (long long)min, (long long)max);
		return -1;
	}
	return 0;
}

struct fetchconf *fetchconf_load(const char *path, char *err, size_t errlen)
{
	struct config *cfg;
	const struct config_section *top;
	struct fetchconf *c;
	const char *v;
	char where[512];
	struct stat st;

	cfg = config_load(path, err, errlen);
	if (!cfg)
		return NULL;
	c = xcalloc(1, sizeof(*c));
	c->path = xstrdup(path);
	top = config_top(cfg);
	if (config_next(cfg, NULL, NULL)) {
		util_err(err, errlen, "%s:%d: no sections in this file",
			 path, config_section_line(config_next(cfg, NULL,
							       NULL)));
		goto fail;
	}
	v = config_require(top, "manifest_url", err, errlen);
	if (!v)
		goto fail;
	c->manifest_url = xstrdup(v);
	if (fetchconf_url(top, c, err, errlen) < 0)
		goto fail;
	v = config_require(top, "catalog_id", err, errlen);
	if (!v)
		goto fail;
	if (!catalog_id_valid(v)) {
		util_err(err, errlen, "%scatalog_id: letters, digits, '.', '_' "
			 "and '-', at most %d",
			 config_where(top, "catalog_id", where, sizeof(where)),
			 CATALOG_ID_MAX);
		goto fail;
	}
	util_copy_fit(c->catalog_id, v, sizeof(c->catalog_id));
	v = config_get(top, "projection", NULL);
	if (v && (strlen(v) > MANIFEST_PROJECTION_MAX ||
		  strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789._-") !=
			  strlen(v) || !*v)) {
		util_err(err, errlen, "%sprojection: 1 to %d of [a-z0-9._-]",
			 config_where(top, "projection", where, sizeof(where)),
			 MANIFEST_PROJECTION_MAX);
		goto fail;
	}
	util_copy_fit(c->projection, v ? v : "all", sizeof(c->projection));
	if (fetchconf_keys(top, c, err, errlen) < 0)
		goto fail;
	v = config_require(top, "inbox", err, errlen);
	if (!v)
		goto fail;
	c->inbox = xstrdup(v);
	errno = 0;
	if (stat(c->inbox, &st) < 0 || !S_ISDIR(st.st_mode)) {
		util_err(err, errlen, "%sinbox: %s: %s",
			 config_where(top, "inbox", where, sizeof(where)),
			 c->inbox, errno ? strerror(errno) : "not a directory");
		goto fail;
	}
	v = config_get(top, "state_dir", NULL);
	c->state_dir = xstrdup(v ? v : FETCHCONF_STATE_DIR_DEFAULT);
	v = config_get(top, "metrics_file", NULL);
	c->metrics_file = v ? xstrdup(v) : NULL;
	v = config_get(top, "ca_file", NULL);
	c->ca_file = v ? xstrdup(v) : NULL;
	if (fetchconf_duration(top, "poll_interval", FETCHCONF_POLL_DEFAULT,
			       FETCHCONF_POLL_MIN, FETCHCONF_POLL_MAX,
			       &c->poll_interval, err, errlen) < 0 ||
	    fetchconf_duration(top, "poll_jitter", c->poll_interval / 4, 0,
			       FETCHCONF_POLL_MAX, &c->poll_jitter, err,
			       errlen) < 0 ||
	    fetchconf_duration(top, "connect_timeout",
			       FETCHCONF_CONNECT_TIMEOUT_DEFAULT, 1,
			       FETCHCONF_TIMEOUT_MAX, &c->connect_timeout, err,
			       errlen) < 0 ||
	    fetchconf_duration(top, "timeout", FETCHCONF_TIMEOUT_DEFAULT, 1,
			       FETCHCONF_TIMEOUT_MAX, &c->timeout, err,
			       errlen) < 0 ||
	    config_get_int(top, "low_speed_limit",
			   FETCHCONF_LOW_SPEED_LIMIT_DEFAULT, 0, INT32_MAX,
			   &c->low_speed_limit, err, errlen) < 0 ||
	    fetchconf_duration(top, "low_speed_time",
			       FETCHCONF_LOW_SPEED_TIME_DEFAULT, 1,
			       FETCHCONF_TIMEOUT_MAX, &c->low_speed_time, err,
			       errlen) < 0 ||
	    fetchconf_duration(top, "install_grace",
			       FETCHCONF_INSTALL_GRACE_DEFAULT, 1,
			       FETCHCONF_TIMEOUT_MAX, &c->install_grace, err,
			       errlen) < 0 ||
	    config_get_int(top, "max_download", FETCHCONF_MAX_DOWNLOAD_DEFAULT,
			   MANIFEST_SNAPSHOT_MIN, (int64_t)SNAPSHOT_FILE_MAX,
			   &c->max_download, err, errlen) < 0 ||
	    config_get_mode(top, "file_mode", FETCHCONF_FILE_MODE_DEFAULT,
			    &c->file_mode, err, errlen) < 0)
		goto fail;
	if (c->poll_jitter >= c->poll_interval) {
		util_err(err, errlen, "%spoll_jitter: must be shorter than "
			 "poll_interval",
			 config_where(top, "poll_jitter", where,
				      sizeof(where)));
		goto fail;
	}
	if (c->file_mode & 07117) {
		util_err(err, errlen, "%sfile_mode: read and write bits for "
			 "owner and group only (0640, 0600)",
			 config_where(top, "file_mode", where, sizeof(where)));
		goto fail;
	}
	if (config_check_unused(cfg, err, errlen) < 0)
		goto fail;
	config_free(cfg);
	return c;
fail:
	config_free(cfg);
	fetchconf_free(c);
	return NULL;
}

void fetchconf_free(struct fetchconf *c)
{
	if (!c)
		return;
	free(c->path);
	free(c->manifest_url);
	free(c->base_url);
	sign_keyring_free(c->keys);
	free(c->inbox);
	free(c->state_dir);
	free(c->metrics_file);
	free(c->ca_file);
	free(c);
}
