/*
 * fetchconf.c - read and check dircat-fetch's configuration; see
 * fetchconf.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "fetchconf.h"
#include "http.h"
#include "log.h"
#include "settings.h"
#include "snapshot.h"
#include "util.h"

/* Defaults (as written in a file), documented in man/dircat-fetch.8 and
 * docs/fleet.md. */
#define FETCHCONF_POLL_DEFAULT         "60s"
#define FETCHCONF_POLL_MIN             1
#define FETCHCONF_POLL_MAX             86400
#define FETCHCONF_CONNECT_TIMEOUT_DEFAULT "10s"
#define FETCHCONF_TIMEOUT_DEFAULT      "10m"
#define FETCHCONF_TIMEOUT_MAX          86400
#define FETCHCONF_LOW_SPEED_LIMIT_DEFAULT "1024"
#define FETCHCONF_LOW_SPEED_TIME_DEFAULT "30s"
#define FETCHCONF_INSTALL_GRACE_DEFAULT "5m"
#define FETCHCONF_MAX_DOWNLOAD_DEFAULT "4294967296"	/* 4 GiB */
#define FETCHCONF_FILE_MODE_DEFAULT    "0640"
#define FETCHCONF_STATE_DIR_DEFAULT    "/var/lib/dircat-fetch"

/* Check the manifest URL and split off its directory. */
static int fetchconf_url(void *obj, const struct settings_key *k,
			 const struct settings_value *v, char *err,
			 size_t errlen)
{
	struct fetchconf *c = obj;
	struct http_url u;
	const char *slash, *sep;
	int ret = -1;

	if (strlen(v->text) > FETCHCONF_URL_MAX) {
		settings_fail(k, v, err, errlen, "longer than %d bytes",
			      FETCHCONF_URL_MAX);
		return -1;
	}
	if (http_url_split(v->text, &u) < 0) {
		settings_fail(k, v, err, errlen, "'%s' is not a valid URL",
			      v->text);
		goto out;
	}
	if (strcmp(u.scheme, "http") && strcmp(u.scheme, "https")) {
		settings_fail(k, v, err, errlen, "scheme %s is not supported: "
			      "http:// or https:// (an S3 store serves its "
			      "objects over https)", u.scheme);
		goto out;
	}
	if (u.has_user || u.has_query || u.has_fragment) {
		settings_fail(k, v, err, errlen, "no user name, query or "
			      "fragment, please");
		goto out;
	}
	/* As written, not only as libcurl reads it: base_url is cut from
	 * this text, after SCHEME://HOST. */
	sep = strstr(v->text, "://");
	slash = strrchr(v->text, '/');
	if (!sep || !slash || !slash[1] || sep + 2 == slash) {
		settings_fail(k, v, err, errlen, "must name the manifest "
			      "itself, e.g. https://HOST/dircat/corp.manifest");
		goto out;
	}
	free(c->base_url);
	c->base_url = xstrndup(v->text, (size_t)(slash + 1 - v->text));
	ret = 0;
out:
	http_url_free(&u);
	return ret;
}

/* A projection's name: 1 to MANIFEST_PROJECTION_MAX of [a-z0-9._-]. */
static int fetchconf_projection(void *obj, const struct settings_key *k,
				const struct settings_value *v, char *err,
				size_t errlen)
{
	size_t n = strlen(v->text);

	(void)obj;
	if (n == 0 || n > MANIFEST_PROJECTION_MAX ||
	    strspn(v->text, "abcdefghijklmnopqrstuvwxyz0123456789._-") != n)
		return settings_fail(k, v, err, errlen, "1 to %d of [a-z0-9._-]",
				     MANIFEST_PROJECTION_MAX);
	return 0;
}

/* Each trusted_key file joins the keyring. */
static int fetchconf_key(void *obj, const struct settings_key *k,
			 const struct settings_value *v, char *err,
			 size_t errlen)
{
	struct fetchconf *c = obj;
	char why[512];

	if (!c->keys)
		c->keys = sign_keyring_new();
	if (sign_keyring_add_file(c->keys, v->text, why, sizeof(why)) < 0)
		return settings_fail(k, v, err, errlen, "%s", why);
	c->nkeys++;
	return 0;
}

/* The inbox is a directory that exists. */
static int fetchconf_inbox(void *obj, const struct settings_key *k,
			   const struct settings_value *v, char *err,
			   size_t errlen)
{
	struct stat st;

	(void)obj;
	errno = 0;
	if (stat(v->text, &st) < 0 || !S_ISDIR(st.st_mode))
		return settings_fail(k, v, err, errlen, "%s: %s", v->text,
				     errno ? strerror(errno) :
					     "not a directory");
	return 0;
}

/* Files dropped into the inbox: read and write bits for owner and group
 * only. */
static int fetchconf_file_mode(void *obj, const struct settings_key *k,
			       const struct settings_value *v, char *err,
			       size_t errlen)
{
	const struct fetchconf *c = obj;

	if (c->file_mode & 07117)
		return settings_fail(k, v, err, errlen, "read and write bits "
				     "for owner and group only (0640, 0600)");
	return 0;
}

#define F(member) SETTINGS_FIELD(struct fetchconf, member)
static const struct settings_key fetchconf_keys[] = {
	{ .name = "manifest_url", .type = SETTINGS_TEXT,
	  .flags = SETTINGS_REQUIRED, F(manifest_url), .check = fetchconf_url,
	  .meta = "URL", .doc = "The manifest, http:// or https://; snapshot "
				"files are fetched from the same directory." },
	{ .name = "catalog_id", .type = SETTINGS_COPY,
	  .flags = SETTINGS_REQUIRED, F(catalog_id),
	  .check = settings_catalog_id, .meta = "ID",
	  .doc = "The catalog; manifests of another are refused." },
	{ .name = "projection", .type = SETTINGS_COPY, .def = "all",
	  F(projection), .check = fetchconf_projection, .meta = "NAME",
	  .doc = "The projection this node serves." },
	{ .name = "trusted_key", .type = SETTINGS_CUSTOM,
	  .flags = SETTINGS_REQUIRED | SETTINGS_REPEAT,
	  .check = fetchconf_key, .meta = "PATH",
	  .doc = "A public key whose signatures are accepted (the "
		 "replicator's); repeat for several." },
	{ .name = "inbox", .type = SETTINGS_TEXT, .flags = SETTINGS_REQUIRED,
	  F(inbox), .check = fetchconf_inbox, .meta = "DIR",
	  .doc = "The inbox directory of catalogd." },
	{ .name = "state_dir", .type = SETTINGS_TEXT,
	  .def = FETCHCONF_STATE_DIR_DEFAULT, F(state_dir), .meta = "DIR",
	  .doc = "Where the state and the last accepted manifest are kept." },
	{ .name = "metrics_file", .type = SETTINGS_TEXT, F(metrics_file),
	  .meta = "PATH", .doc = "Metrics after each poll (Prometheus text "
				 "format)." },
	{ .name = "ca_file", .type = SETTINGS_TEXT, F(ca_file),
	  .meta = "PATH", .doc = "CA certificates for an https origin; "
				 "default the system's." },
	{ .name = "poll_interval", .type = SETTINGS_DURATION,
	  .def = FETCHCONF_POLL_DEFAULT, .min = FETCHCONF_POLL_MIN,
	  .max = FETCHCONF_POLL_MAX, F(poll_interval),
	  .doc = "How often to poll." },
	{ .name = "poll_jitter", .type = SETTINGS_DURATION, .min = 0,
	  .max = FETCHCONF_POLL_MAX, F(poll_jitter),
	  .doc = "The random part taken off each wait; default a quarter of "
		 "poll_interval, and shorter than it." },
	{ .name = "connect_timeout", .type = SETTINGS_DURATION,
	  .def = FETCHCONF_CONNECT_TIMEOUT_DEFAULT, .min = 1,
	  .max = FETCHCONF_TIMEOUT_MAX, F(connect_timeout),
	  .doc = "Connection set-up." },
	{ .name = "timeout", .type = SETTINGS_DURATION,
	  .def = FETCHCONF_TIMEOUT_DEFAULT, .min = 1,
	  .max = FETCHCONF_TIMEOUT_MAX, F(timeout),
	  .doc = "One request, start to end." },
	{ .name = "low_speed_limit", .type = SETTINGS_INT,
	  .def = FETCHCONF_LOW_SPEED_LIMIT_DEFAULT, .min = 0,
	  .max = INT32_MAX, F(low_speed_limit), .meta = "BYTES",
	  .doc = "Give up a transfer slower than this many bytes a "
		 "second..." },
	{ .name = "low_speed_time", .type = SETTINGS_DURATION,
	  .def = FETCHCONF_LOW_SPEED_TIME_DEFAULT, .min = 1,
	  .max = FETCHCONF_TIMEOUT_MAX, F(low_speed_time),
	  .doc = "... for this long." },
	{ .name = "install_grace", .type = SETTINGS_DURATION,
	  .def = FETCHCONF_INSTALL_GRACE_DEFAULT, .min = 1,
	  .max = FETCHCONF_TIMEOUT_MAX, F(install_grace),
	  .doc = "How long catalogd may take to install what was delivered "
		 "before it is delivered again in full." },
	{ .name = "max_download", .type = SETTINGS_INT,
	  .def = FETCHCONF_MAX_DOWNLOAD_DEFAULT, .min = MANIFEST_SNAPSHOT_MIN,
	  .max = (int64_t)SNAPSHOT_FILE_MAX, F(max_download), .meta = "BYTES",
	  .doc = "The largest snapshot file accepted." },
	{ .name = "file_mode", .type = SETTINGS_MODE,
	  .def = FETCHCONF_FILE_MODE_DEFAULT, .max = 0777, F(file_mode),
	  .check = fetchconf_file_mode,
	  .doc = "Permissions of the files dropped into the inbox." },
	{ .name = NULL }
};
#undef F

const struct settings_section fetchconf_settings[] = {
	{ .type = NULL, .keys = fetchconf_keys },
	{ .keys = NULL }
};

struct fetchconf *fetchconf_load(const char *path, char *err, size_t errlen)
{
	struct fetchconf *c = xcalloc(1, sizeof(*c));
	const struct config_section *top;
	char where[512];

	c->path = xstrdup(path);
	c->poll_jitter = -1;		/* not set: a quarter of the interval */
	c->cfg = config_load(path, err, errlen);
	if (!c->cfg)
		goto fail;
	top = config_top(c->cfg);
	if (settings_check_layout(c->cfg, fetchconf_settings, err,
				  errlen) < 0 ||
	    settings_load(&fetchconf_settings[0], top, c, err, errlen) < 0 ||
	    settings_check_unknown(c->cfg, fetchconf_settings, err,
				   errlen) < 0)
		goto fail;
	if (c->poll_jitter < 0)
		c->poll_jitter = c->poll_interval / 4;
	if (c->poll_jitter >= c->poll_interval) {
		util_err(err, errlen, "%spoll_jitter: must be shorter than "
			 "poll_interval",
			 config_where(top, "poll_jitter", where, sizeof(where)));
		goto fail;
	}
	return c;
fail:
	fetchconf_free(c);
	return NULL;
}

void fetchconf_free(struct fetchconf *c)
{
	if (!c)
		return;
	free(c->path);
	free(c->base_url);
	sign_keyring_free(c->keys);
	config_free(c->cfg);
	free(c);
}
