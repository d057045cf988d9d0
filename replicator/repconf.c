/*
 * repconf.c - read and check the replicator's configuration; see repconf.h.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


#include "config.h"
#include "keyhash.h"
#include "log.h"
#include "manifest.h"
#include "repconf.h"
#include "settings.h"
#include "snapwrite.h"
#include "util.h"
#include "xfer.h"


/* Limits; the defaults are in the settings table below. */
#define REPCONF_RETRIES_MAX           20
#define REPCONF_TIMEOUT_MAX           (7 * 86400)
#define REPCONF_S3_BUCKET_MAX         63
#define REPCONF_MANIFEST_LIFETIME_MIN 300

/* An s3:// URL's bucket: what S3 allows in a path-style bucket name. */
static int repconf_bucket(struct repconf_target *t, const char *host,
			  const char *w, char *err, size_t errlen)
{
	size_t k, n = host ? strlen(host) : 0;

	if (n < 3 || n > REPCONF_S3_BUCKET_MAX ||
	    strspn(host, "abcdefghijklmnopqrstuvwxyz0123456789.-") != n) {
		util_err(err, errlen, "%surl: s3://BUCKET/PREFIX/ with a bucket "
			 "name of 3 to %d of a-z, 0-9, '.' and '-'", w,
			 REPCONF_S3_BUCKET_MAX);
		return -1;
	}
	for (k = 0; t->path && t->path[k]; k++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789._-/", t->path[k])) {
			util_err(err, errlen, "%surl: an S3 prefix of letters, "
				 "digits, '.', '_', '-' and '/'", w);
			return -1;
		}
	t->s3_bucket = xstrdup(host);
	return 0;
}

/* t->scheme from the URL's scheme, as a [target] (push) or a
 * [publish] section allows it.  0, or -1 with err (w: "file:line: "). */
static int repconf_url_scheme(struct repconf_target *t, const char *scheme,
			      const char *w, char *err, size_t errlen)
{
	if (!strcmp(scheme, "sftp"))
		t->scheme = REPCONF_SFTP;
	else if (!strcmp(scheme, "scp"))
		t->scheme = REPCONF_SCP;
	else if (!strcmp(scheme, "https"))
		t->scheme = REPCONF_HTTPS;
	else if (!strcmp(scheme, "file"))
		t->scheme = REPCONF_FILE;
	else if (!strcmp(scheme, "s3"))
		t->scheme = REPCONF_S3;
	else if (t->publish) {
		util_err(err, errlen, "%surl: scheme %s is not supported for "
			 "publishing: use https:// (an HTTP origin with WebDAV "
			 "PUT) or s3://BUCKET/PREFIX/", w, scheme);
		return -1;
	} else {
		util_err(err, errlen, "%surl: scheme %s is not supported: use "
			 "sftp://, scp://, https:// or file://", w, scheme);
		return -1;
	}
	if (t->publish && t->scheme != REPCONF_HTTPS &&
	    t->scheme != REPCONF_S3) {
		util_err(err, errlen, "%surl: %s:// is for pushing to a node "
			 "([target NAME]); publish to https:// (an HTTP origin) "
			 "or s3://BUCKET/PREFIX/", w, scheme);
		return -1;
	}
	if (!t->publish && t->scheme == REPCONF_S3) {
		util_err(err, errlen, "%surl: s3:// is an object store, not a "
			 "node's inbox: publish to it with a [publish NAME] "
			 "section, and let the nodes fetch from it "
			 "(dircat-fetch)", w);
		return -1;
	}
	return 0;
}

/* What the URL holds besides its path: no password, query or fragment;
 * a login for ssh; no other host for file://.  0, or -1 with err. */
static int repconf_url_parts(const struct repconf_target *t,
			     const struct xfer_url *u, const char *w,
			     char *err, size_t errlen)
{
	if (u->has_password) {
		util_err(err, errlen, "%surl: a password does not belong in "
			 "the URL: use password_file (https) or an ssh key", w);
		return -1;
	}
	if (u->has_query || u->has_fragment) {
		util_err(err, errlen, "%surl: no query or fragment, please", w);
		return -1;
	}
	if ((t->scheme == REPCONF_SFTP || t->scheme == REPCONF_SCP) &&
	    (!u->user || !*u->user)) {
		util_err(err, errlen, "%surl: name the login: %s://USER@HOST"
			 "/PATH/", w, u->scheme);
		return -1;
	}
	if (t->scheme == REPCONF_FILE && u->host && *u->host &&
	    strcmp(u->host, "localhost")) {
		util_err(err, errlen, "%surl: file:// names a local "
			 "directory: file:///PATH/", w);
		return -1;
	}
	return 0;
}

/* The path: a directory (ending in '/') without control characters,
 * quotes or backslashes.  0, or -1 with err. */
static int repconf_url_path(const struct repconf_target *t, const char *path,
			    const char *w, char *err, size_t errlen)
{
	size_t i;

	if (!*path || path[strlen(path) - 1] != '/') {
		util_err(err, errlen, "%surl: must name %s and end in '/'", w,
			 t->publish ? "a directory (prefix)" :
			 "the inbox directory");
		return -1;
	}
	for (i = 0; path[i]; i++)
		if ((unsigned char)path[i] < 0x20 || path[i] == 0x7f ||
		    path[i] == '"' || path[i] == '\\') {
			util_err(err, errlen, "%surl: the path may not hold "
				 "control characters, quotes or backslashes",
				 w);
			return -1;
		}
	return 0;
}

/* Split and check a target's URL into t->scheme and t->path. */
static int repconf_url(void *obj, const struct settings_key *k,
		       const struct settings_value *v, char *err,
		       size_t errlen)
{
	struct repconf_target *t = obj;
	struct xfer_url u;
	char where[512];
	const char *w = where;
	int ret = -1;

	(void)k;
	snprintf(where, sizeof(where), "%s:%d: ", v->file, v->line);

	memset(&u, 0, sizeof(u));
	if (strlen(t->url) > REPCONF_URL_MAX) {
		util_err(err, errlen, "%surl: longer than %d bytes", w,
			 REPCONF_URL_MAX);
		goto out;
	}
	/* As libcurl reads it; schemes it does not know (s3://) still
	 * split, so that the message can say what to use instead. */
	if (xfer_url_split(t->url, &u) < 0) {
		util_err(err, errlen, "%surl: '%s' is not a valid URL", w,
			 t->url);
		goto out;
	}
	if (repconf_url_scheme(t, u.scheme, w, err, errlen) < 0 ||
	    repconf_url_parts(t, &u, w, err, errlen) < 0 ||
	    repconf_url_path(t, u.path, w, err, errlen) < 0)
		goto out;
	free(t->path);
	t->path = xstrdup(u.path);
	if (t->scheme == REPCONF_S3 &&
	    (u.user || repconf_bucket(t, u.host, w, err, errlen) < 0)) {
		if (u.user)
			util_err(err, errlen, "%surl: no user name in an s3:// "
				 "URL: s3_access_key_id says who", w);
		goto out;
	}
	ret = 0;
out:
	xfer_url_free(&u);
	return ret;
}

static int repconf_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* include = FILE or DIR: the [target] sections of other files.  A
 * directory gives every regular *.conf file in it (not hidden), in name
 * order, so that a node is added or removed by adding or removing its
 * file. */
static int repconf_include(void *obj, const struct settings_key *k,
			   const struct settings_value *v, char *err,
			   size_t errlen)
{
	struct repconf *rc = obj;
	char **names = NULL, path[8192], why[1024];
	size_t n = 0, i, len;
	struct dirent *de;
	struct stat st;
	DIR *d;
	int ret = -1;

	if (stat(v->text, &st) < 0)
		return settings_fail(k, v, err, errlen, "%s: %s", v->text,
				     strerror(errno));
	if (!S_ISDIR(st.st_mode)) {
		if (config_include(rc->cfg, v->text, why, sizeof(why)) < 0)
			return settings_fail(k, v, err, errlen, "%s", why);
		return 0;
	}
	d = opendir(v->text);
	if (!d)
		return settings_fail(k, v, err, errlen, "%s: %s", v->text,
				     strerror(errno));
	names = xcalloc(REPCONF_INCLUDE_FILES_MAX, sizeof(*names));
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len < 6 ||
		    strcmp(de->d_name + len - 5, ".conf"))
			continue;
		if (n == REPCONF_INCLUDE_FILES_MAX) {
			settings_fail(k, v, err, errlen, "%s: more than %d "
				      "*.conf files", v->text,
				      REPCONF_INCLUDE_FILES_MAX);
			goto out;
		}
		names[n++] = xstrdup(de->d_name);
	}
	qsort(names, n, sizeof(*names), repconf_name_cmp);
	for (i = 0; i < n; i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", v->text,
				     names[i]) >= sizeof(path)) {
			settings_fail(k, v, err, errlen, "path too long");
			goto out;
		}
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (config_include(rc->cfg, path, why, sizeof(why)) < 0) {
			settings_fail(k, v, err, errlen, "%s", why);
			goto out;
		}
	}
	ret = 0;
out:
	closedir(d);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return ret;
}

#define TOP(member) SETTINGS_FIELD(struct repconf, member)
static const struct settings_key repconf_top_keys[] = {
	{ .name = "catalog", .type = SETTINGS_TEXT,
	  .flags = SETTINGS_REQUIRED, TOP(catalog), .meta = "PATH",
	  .doc = "The catalog the aggregator writes." },
	{ .name = "catalog_id", .type = SETTINGS_COPY, TOP(catalog_id),
	  .check = settings_catalog_id, .meta = "ID",
	  .doc = "The id stamped on the snapshots; default: the catalog's "
		 "own." },
	{ .name = "signing_key", .type = SETTINGS_TEXT,
	  .flags = SETTINGS_REQUIRED, TOP(signing_key), .meta = "PATH",
	  .doc = "The Ed25519 private key made by dircat keygen." },
	{ .name = "hash_secret", .type = SETTINGS_TEXT, TOP(hash_secret),
	  .meta = "PATH",
	  .doc = "Keyed-hash mode: the catalog's secret (64 to 128 hex "
		 "digits; others may not read it).  Snapshots then carry "
		 "hashed keys and sealed owners and extra fields." },
	{ .name = "lifetime", .type = SETTINGS_DURATION, .def = "7d",
	  .min = 60, .max = 3650LL * 86400, TOP(lifetime),
	  .doc = "How long a node may use a snapshot." },
	{ .name = "refresh_after", .type = SETTINGS_DURATION, .min = 0,
	  .max = INT64_MAX, TOP(refresh_after),
	  .doc = "Give an unchanged catalog a new serial this often; "
		 "default half the lifetime, 0 never." },
	{ .name = "spool_dir", .type = SETTINGS_TEXT,
	  .flags = SETTINGS_REQUIRED, TOP(spool_dir), .meta = "DIR",
	  .doc = "Where snapshots are written before they are sent." },
	{ .name = "state_dir", .type = SETTINGS_TEXT,
	  .flags = SETTINGS_REQUIRED, TOP(state_dir), .meta = "DIR",
	  .doc = "Where each target's last known serial is kept." },
	{ .name = "lock_file", .type = SETTINGS_TEXT, TOP(lock_file),
	  .meta = "PATH",
	  .doc = "The run lock; default state_dir/replicator.lock." },
	{ .name = "report_json", .type = SETTINGS_TEXT, TOP(report_json),
	  .meta = "PATH", .doc = "Write each run's report here as JSON." },
	{ .name = "metrics_file", .type = SETTINGS_TEXT, TOP(metrics_file),
	  .meta = "PATH",
	  .doc = "Write each run's figures here (Prometheus text format)." },
	{ .name = "concurrency", .type = SETTINGS_INT,
	  .def = "32", .min = 1,
	  .max = REPCONF_CONCURRENCY_MAX, TOP(concurrency),
	  .doc = "Requests in flight at once." },
	{ .name = "install_grace", .type = SETTINGS_DURATION, .def = "10m",
	  .min = 0, .max = INT64_MAX, TOP(install_grace),
	  .doc = "How long a snapshot delivered but not installed counts as "
		 "delivered." },
	{ .name = "run_timeout", .type = SETTINGS_DURATION, .def = "1h",
	  .min = 1, .max = INT64_MAX, TOP(run_timeout),
	  .doc = "The whole run's limit." },
	{ .name = "notify_socket", .type = SETTINGS_TEXT,
	  .flags = SETTINGS_ABSOLUTE, TOP(notify_socket), .meta = "PATH",
	  .doc = "With -w: where the aggregator's watch mode announces each new "
		 "serial (a datagram socket this program creates)." },
	{ .name = "watch_interval", .type = SETTINGS_DURATION, .def = "1m",
	  .min = 1, .max = 86400, TOP(watch_interval),
	  .doc = "With -w: a run at least this often, announced or not." },
	{ .name = "include", .type = SETTINGS_CUSTOM,
	  .flags = SETTINGS_REPEAT, .check = repconf_include,
	  .meta = "PATH",
	  .doc = "More [target] sections: a file, or every *.conf in a "
		 "directory; repeatable." },
	{ .name = NULL }
};
#undef TOP

/* The base64 SHA-256 fingerprint ssh-keygen -l shows. */
static int repconf_host_sha256(void *obj, const struct settings_key *k,
			       const struct settings_value *v, char *err,
			       size_t errlen)
{
	size_t n = strlen(v->text);

	(void)obj;
	if (n != 43 && !(n == 44 && v->text[43] == '='))
		return settings_fail(k, v, err, errlen, "the base64 SHA-256 "
				     "fingerprint (43 characters, as ssh-keygen "
				     "-l shows after SHA256:)");
	return 0;
}

/* What part of the catalog a node gets. */
static const struct settings_choice repconf_projections[] = {
	{ "all", SNAPWRITE_ALL },
	{ "mx", SNAPWRITE_MX },
	{ NULL, 0 }
};

/* Transport settings: in a target, or at the top for every target. */
#define TGT(member) SETTINGS_FIELD(struct repconf_target, member)
#define INH SETTINGS_INHERIT
static const struct settings_key repconf_target_keys[] = {
	{ .name = "url", .type = SETTINGS_TEXT, .flags = SETTINGS_REQUIRED,
	  TGT(url), .check = repconf_url, .meta = "URL",
	  .doc = "The node's inbox directory, ending in /: sftp://, scp://, "
		 "https:// or file:///; for [publish], https:// or "
		 "s3://BUCKET/PREFIX/." },
	{ .name = "ssh_private_key", .type = SETTINGS_TEXT,
	  .flags = INH | SETTINGS_SECRET, TGT(ssh_private_key),
	  .meta = "PATH", .doc = "The ssh key the replicator logs in with." },
	{ .name = "ssh_public_key", .type = SETTINGS_TEXT,
	  .flags = INH | SETTINGS_READABLE, TGT(ssh_public_key),
	  .meta = "PATH", .doc = "Its public key, when it cannot be derived "
				 "from the private key file." },
	{ .name = "ssh_key_passphrase_file", .type = SETTINGS_TEXT,
	  .flags = INH | SETTINGS_SECRET, TGT(ssh_key_passphrase_file),
	  .meta = "PATH", .doc = "The ssh key's passphrase." },
	{ .name = "ssh_known_hosts", .type = SETTINGS_TEXT,
	  .flags = INH | SETTINGS_READABLE, TGT(ssh_known_hosts),
	  .meta = "PATH", .doc = "The nodes' host keys." },
	{ .name = "ssh_host_sha256", .type = SETTINGS_TEXT, .flags = INH,
	  TGT(ssh_host_sha256), .check = repconf_host_sha256,
	  .meta = "FINGERPRINT", .doc = "Also require this host key." },
	{ .name = "ca_file", .type = SETTINGS_TEXT,
	  .flags = INH | SETTINGS_READABLE, TGT(ca_file), .meta = "PATH",
	  .doc = "CA certificates (PEM) trusted for https:// nodes." },
	{ .name = "client_cert", .type = SETTINGS_TEXT,
	  .flags = INH | SETTINGS_READABLE, TGT(client_cert), .meta = "PATH",
	  .doc = "A TLS client certificate (PEM)." },
	{ .name = "client_key", .type = SETTINGS_TEXT,
	  .flags = INH | SETTINGS_SECRET, TGT(client_key), .meta = "PATH",
	  .doc = "Its key (PEM)." },
	{ .name = "client_key_passphrase_file", .type = SETTINGS_TEXT,
	  .flags = INH | SETTINGS_SECRET, TGT(client_key_passphrase_file),
	  .meta = "PATH", .doc = "The client key's passphrase." },
	{ .name = "username", .type = SETTINGS_TEXT, .flags = INH,
	  TGT(username), .meta = "NAME", .doc = "HTTP authentication." },
	{ .name = "password_file", .type = SETTINGS_TEXT,
	  .flags = INH | SETTINGS_SECRET, TGT(password_file), .meta = "PATH",
	  .doc = "The HTTP password." },
	{ .name = "connect_timeout", .type = SETTINGS_DURATION, .flags = INH,
	  .def = "15s", .min = 1, .max = REPCONF_TIMEOUT_MAX,
	  TGT(connect_timeout),
	  .doc = "TCP connect and the ssh or TLS handshake." },
	{ .name = "timeout", .type = SETTINGS_DURATION, .flags = INH,
	  .def = "30m", .min = 1, .max = REPCONF_TIMEOUT_MAX, TGT(timeout),
	  .doc = "One request, start to end." },
	{ .name = "low_speed_limit", .type = SETTINGS_INT, .flags = INH,
	  .def = "1024", .min = 0, .max = INT32_MAX, TGT(low_speed_limit),
	  .meta = "BYTES", .doc = "Give up on a request slower than this "
				  "many bytes per second..." },
	{ .name = "low_speed_time", .type = SETTINGS_DURATION, .flags = INH,
	  .def = "30s", .min = 1, .max = REPCONF_TIMEOUT_MAX,
	  TGT(low_speed_time), .doc = "... for this long." },
	{ .name = "retries", .type = SETTINGS_INT, .flags = INH, .def = "2",
	  .min = 0, .max = REPCONF_RETRIES_MAX, TGT(retries),
	  .doc = "Further attempts after a failure." },
	{ .name = "retry_delay", .type = SETTINGS_DURATION, .flags = INH,
	  .def = "5s", .min = 0, .max = 3600, TGT(retry_delay),
	  .doc = "Delay before the first retry, doubled for each further "
		 "one." },
	{ .name = "retry_delay_max", .type = SETTINGS_DURATION, .flags = INH,
	  .def = "60s", .min = 0, .max = 86400, TGT(retry_delay_max),
	  .doc = "The longest delay between retries." },
	{ .name = "projection", .type = SETTINGS_CHOICE, .flags = INH,
	  .def = "all", .choices = repconf_projections, TGT(projection),
	  .doc = "What the node gets: all, or mx (addresses and kinds only, "
		 "no owner logins or extra fields)." },
	{ .name = "upload_mode", .type = SETTINGS_MODE, .flags = INH,
	  .def = "0640", .max = 0777, TGT(upload_mode),
	  .doc = "Permissions of uploaded files (sftp, scp, file)." },
	{ .name = NULL }
};
#undef TGT
#undef INH

/* What only a [publish NAME] section has; it takes the transport
 * settings above too (read first, with the same table). */
#define PUB(member) SETTINGS_FIELD(struct repconf_target, member)
static const struct settings_key repconf_publish_keys[] = {
	{ .name = "keep_deltas", .type = SETTINGS_INT, .def = "32", .min = 0,
	  .max = REPCONF_KEEP_DELTAS_MAX, PUB(keep_deltas),
	  .doc = "Deltas the manifest lists; a node further behind fetches "
		 "the full snapshot." },
	{ .name = "manifest_lifetime", .type = SETTINGS_DURATION, .def = "4h",
	  .min = REPCONF_MANIFEST_LIFETIME_MIN, .max = MANIFEST_LIFETIME_MAX,
	  PUB(manifest_lifetime),
	  .doc = "How long nodes believe a manifest; it is signed again "
		 "after a quarter of it." },
	{ .name = "manifest_max_age", .type = SETTINGS_DURATION, .def = "5s",
	  .min = 0, .max = 86400, PUB(manifest_max_age),
	  .doc = "Cache-Control max-age sent with the manifest." },
	{ .name = "s3_endpoint", .type = SETTINGS_TEXT, PUB(s3_endpoint),
	  .meta = "URL", .doc = "The S3-compatible store, "
				"https://HOST[:PORT] (s3:// urls)." },
	{ .name = "s3_region", .type = SETTINGS_TEXT, .def = "us-east-1",
	  PUB(s3_region), .meta = "REGION",
	  .doc = "The region the request signatures name." },
	{ .name = "s3_access_key_id", .type = SETTINGS_TEXT,
	  PUB(s3_access_key_id), .meta = "ID",
	  .doc = "The store's access key id." },
	{ .name = "s3_secret_key_file", .type = SETTINGS_TEXT,
	  .flags = SETTINGS_SECRET, PUB(s3_secret_key_file), .meta = "PATH",
	  .doc = "The file holding its secret key." },
	{ .name = NULL }
};
#undef PUB

const struct settings_section repconf_settings[] = {
	{ .type = NULL, .keys = repconf_top_keys },
	{ .type = "target", .min = 0, .max = REPCONF_TARGETS_MAX,
	  .keys = repconf_target_keys },
	{ .type = "publish", .min = 0, .max = REPCONF_PUBLISH_MAX,
	  .keys = repconf_publish_keys },
	{ .keys = NULL }
};

/* What no single setting can say about a target. */
static int repconf_target_rules(const struct config_section *sec,
				struct repconf_target *t, char *err,
				size_t errlen)
{
	char where[512];
	int ssh = t->scheme == REPCONF_SFTP || t->scheme == REPCONF_SCP;

	const char *kind = t->publish ? "publish" : "target";

	config_where(sec, NULL, where, sizeof(where));
	if (ssh && (!t->ssh_private_key || !t->ssh_known_hosts)) {
		util_err(err, errlen, "%s[%s %s]: %s:// needs "
			 "ssh_private_key and ssh_known_hosts", where, kind,
			 t->name, repconf_scheme_name(t->scheme));
		return -1;
	}
	if (!t->client_cert != !t->client_key) {
		util_err(err, errlen, "%s[%s %s]: client_cert and "
			 "client_key go together", where, kind, t->name);
		return -1;
	}
	if (!t->password_file != !t->username) {
		util_err(err, errlen, "%s[%s %s]: username and "
			 "password_file go together", where, kind, t->name);
		return -1;
	}
	return 0;
}

/* What no single setting can say about a [publish NAME] section. */
static int repconf_publish_rules(const struct config_section *sec,
				 struct repconf_target *t, char *err,
				 size_t errlen)
{
	char where[512];

	config_where(sec, NULL, where, sizeof(where));
	if (t->manifest_max_age >= t->manifest_lifetime / 4) {
		util_err(err, errlen, "%s[publish %s]: manifest_max_age must "
			 "be well under a quarter of manifest_lifetime, or "
			 "caches serve manifests about to expire", where,
			 t->name);
		return -1;
	}
	if (t->scheme != REPCONF_S3) {
		if (t->s3_endpoint || t->s3_access_key_id ||
		    t->s3_secret_key_file) {
			util_err(err, errlen, "%s[publish %s]: s3_* settings go "
				 "with an s3:// url", where, t->name);
			return -1;
		}
		return 0;
	}
	if (!t->s3_endpoint || !t->s3_access_key_id ||
	    !t->s3_secret_key_file) {
		util_err(err, errlen, "%s[publish %s]: s3:// needs s3_endpoint, "
			 "s3_access_key_id and s3_secret_key_file", where,
			 t->name);
		return -1;
	}
	if (strncmp(t->s3_endpoint, "https://", 8) || !t->s3_endpoint[8] ||
	    strchr(t->s3_endpoint + 8, '/')) {
		util_err(err, errlen, "%ss3_endpoint: https://HOST[:PORT], no "
			 "path", config_where(sec, "s3_endpoint", where,
					      sizeof(where)));
		return -1;
	}
	/* The region goes into libcurl's "aws:amz:REGION:s3"; the key id
	 * is passed on its own, so it may hold ':' (Swift's ACCOUNT:USER). */
	if (strlen(t->s3_region) > 64 || strchr(t->s3_region, ':') ||
	    strlen(t->s3_access_key_id) > 128) {
		util_err(err, errlen, "%s[publish %s]: s3_region: at most 64 "
			 "characters, no ':'; s3_access_key_id: at most 128",
			 where, t->name);
		return -1;
	}
	return 0;
}

/* What no single setting can say about the run. */
static int repconf_top_rules(struct repconf *rc,
			     const struct config_section *top, char *err,
			     size_t errlen)
{
	char where[512];
	struct buf b;

	/* Half the lifetime by default: a node that missed one refresh
	 * still has a quarter of the lifetime left for the next. */
	if (rc->refresh_after < 0)
		rc->refresh_after = rc->lifetime / 2;
	if (rc->refresh_after >= rc->lifetime) {
		util_err(err, errlen, "%srefresh_after: must be shorter than "
			 "lifetime, or nodes expire before they are refreshed",
			 config_where(top, "refresh_after", where,
				      sizeof(where)));
		return -1;
	}
	if (rc->lock_file)
		return 0;
	buf_init(&b, 4096 + 32);
	if (buf_printf(&b, "%s/replicator.lock", rc->state_dir) < 0 ||
	    buf_append(&b, "", 1) < 0) {
		util_err(err, errlen, "%sstate_dir: path too long",
			 config_where(top, "state_dir", where, sizeof(where)));
		buf_free(&b);
		return -1;
	}
	rc->lock_file = rc->lock_file_default = (char *)b.data;
	return 0;
}

struct repconf *repconf_load(const char *path, char *err, size_t errlen)
{
	const struct config_section *top, *sec;
	struct repconf *rc = xcalloc(1, sizeof(*rc));
	size_t n = 0;

	rc->path = path;
	rc->refresh_after = -1;		/* not set: half the lifetime */
	rc->cfg = config_load(path, err, errlen);
	if (!rc->cfg)
		goto fail;
	top = config_top(rc->cfg);
	if (settings_load(&repconf_settings[0], top, rc, err, errlen) < 0 ||
	    repconf_top_rules(rc, top, err, errlen) < 0 ||
	    settings_check_layout(rc->cfg, repconf_settings, err, errlen) < 0)
		goto fail;
	for (sec = NULL; (sec = config_next(rc->cfg, sec, "target"));)
		n++;
	for (sec = NULL; (sec = config_next(rc->cfg, sec, "publish"));)
		rc->npublish++;
	if (n == 0 && rc->npublish == 0) {
		util_err(err, errlen, "%s: no [target NAME] or [publish NAME] "
			 "section: nowhere to send the catalog", path);
		goto fail;
	}
	rc->publish = xcalloc(rc->npublish, sizeof(*rc->publish));
	rc->npublish = 0;
	for (sec = NULL; (sec = config_next(rc->cfg, sec, "publish"));) {
		struct repconf_target *t = &rc->publish[rc->npublish++];

		t->name = config_section_name(sec);
		t->line = config_section_line(sec);
		t->publish = 1;
		if (settings_load(&repconf_settings[1], sec, t, err,
				  errlen) < 0 ||
		    settings_load(&repconf_settings[2], sec, t, err,
				  errlen) < 0 ||
		    repconf_target_rules(sec, t, err, errlen) < 0 ||
		    repconf_publish_rules(sec, t, err, errlen) < 0)
			goto fail;
	}
	rc->targets = xcalloc(n, sizeof(*rc->targets));
	for (sec = NULL; (sec = config_next(rc->cfg, sec, "target"));) {
		struct repconf_target *t = &rc->targets[rc->ntargets++];

		/* Section names are unique (config.c) and at most
		 * CONFIG_NAME_MAX bytes. */
		t->name = config_section_name(sec);
		t->line = config_section_line(sec);
		if (settings_load(&repconf_settings[1], sec, t, err,
				  errlen) < 0 ||
		    repconf_target_rules(sec, t, err, errlen) < 0)
			goto fail;
	}
	if (settings_check_unknown(rc->cfg, repconf_settings, err,
				   errlen) < 0)
		goto fail;
	if (rc->hash_secret) {
		char why[PATH_MAX + 256], where[PATH_MAX + 64];

		rc->hash = keyhash_load(rc->hash_secret, why, sizeof(why));
		if (!rc->hash) {
			util_err(err, errlen, "%shash_secret: %s",
				 config_where(top, "hash_secret", where,
					      sizeof(where)), why);
			goto fail;
		}
	}
	return rc;
fail:
	repconf_free(rc);
	return NULL;
}

void repconf_free(struct repconf *rc)
{
	size_t i;

	if (!rc)
		return;
	for (i = 0; i < rc->ntargets; i++)
		free(rc->targets[i].path);
	for (i = 0; i < rc->npublish; i++) {
		free(rc->publish[i].path);
		free(rc->publish[i].s3_bucket);
	}
	free(rc->targets);
	free(rc->publish);
	free(rc->lock_file_default);
	keyhash_free(rc->hash);
	config_free(rc->cfg);
	free(rc);
}
