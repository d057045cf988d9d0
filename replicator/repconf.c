/*
 * repconf.c - read and check the replicator's configuration; see repconf.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "config.h"
#include "log.h"
#include "repconf.h"
#include "util.h"

/* Defaults, documented in docs/replicator.md and the man page. */
#define REPCONF_LIFETIME_DEFAULT      (7 * 86400)
#define REPCONF_CONCURRENCY_DEFAULT   32
#define REPCONF_CONNECT_TIMEOUT_DEFAULT 15
#define REPCONF_TIMEOUT_DEFAULT       1800
#define REPCONF_LOW_SPEED_LIMIT_DEFAULT 1024
#define REPCONF_LOW_SPEED_TIME_DEFAULT 30
#define REPCONF_RETRIES_DEFAULT       2
#define REPCONF_RETRIES_MAX           20
#define REPCONF_RETRY_DELAY_DEFAULT   5
#define REPCONF_RETRY_DELAY_MAX_DEFAULT 60
#define REPCONF_INSTALL_GRACE_DEFAULT 600
#define REPCONF_RUN_TIMEOUT_DEFAULT   3600
#define REPCONF_UPLOAD_MODE_DEFAULT   0640
#define REPCONF_TIMEOUT_MAX           (7 * 86400)

const char *repconf_scheme_name(int scheme)
{
	switch (scheme) {
	case REPCONF_SFTP:
		return "sftp";
	case REPCONF_SCP:
		return "scp";
	case REPCONF_HTTPS:
		return "https";
	case REPCONF_FILE:
		return "file";
	}
	return "?";
}

/* A copy of an optional string value, or NULL. */
static char *repconf_dup(const char *v)
{
	return v ? xstrdup(v) : NULL;
}

/* A value from the target section, else from the top (a default). */
static const char *repconf_tget(const struct config_section *sec,
				const struct config_section *top,
				const char *key, const struct config_section **from)
{
	const char *v = config_get(sec, key, NULL);

	*from = sec;
	if (!v) {
		v = config_get(top, key, NULL);
		*from = top;
	}
	return v;
}

/* The same for a duration; the top-level value (or def) as default. */
static int repconf_tduration(const struct config_section *sec,
			     const struct config_section *top, const char *key,
			     int64_t def, int64_t min, int64_t max,
			     int64_t *out, char *err, size_t errlen)
{
	const struct config_section *from;
	char where[512];

	if (config_get_duration(top, key, def, &def, err, errlen) < 0 ||
	    config_get_duration(sec, key, def, out, err, errlen) < 0)
		return -1;
	if (*out < min || *out > max) {
		from = config_get(sec, key, NULL) ? sec : top;
		util_err(err, errlen, "%s%s: must be between %llds and %llds",
			 config_where(from, key, where, sizeof(where)), key,
			 (long long)min, (long long)max);
		return -1;
	}
	return 0;
}

static int repconf_tint(const struct config_section *sec,
			const struct config_section *top, const char *key,
			int64_t def, int64_t min, int64_t max, int64_t *out,
			char *err, size_t errlen)
{
	if (config_get_int(top, key, def, min, max, &def, err, errlen) < 0)
		return -1;
	return config_get_int(sec, key, def, min, max, out, err, errlen);
}

/* A file that must exist and be readable by us. */
static int repconf_readable(const struct config_section *sec,
			    const char *key, const char *path, char *err,
			    size_t errlen)
{
	char where[512];

	if (access(path, R_OK) < 0) {
		util_err(err, errlen, "%s%s: %s: %s",
			 config_where(sec, key, where, sizeof(where)), key,
			 path, strerror(errno));
		return -1;
	}
	return 0;
}

/* A secret file: readable, and by nobody but its owner. */
static int repconf_secret(const struct config_section *sec, const char *key,
			  const char *path, char *err, size_t errlen)
{
	char where[512], why[512];

	if (repconf_readable(sec, key, path, err, errlen) < 0)
		return -1;
	if (util_check_secret_mode(path, why, sizeof(why)) < 0) {
		util_err(err, errlen, "%s%s: %s",
			 config_where(sec, key, where, sizeof(where)), key,
			 why);
		return -1;
	}
	return 0;
}

/* Split and check a target's URL into t->scheme and t->path. */
static int repconf_url(const struct config_section *sec,
		       struct repconf_target *t, char *err, size_t errlen)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *user = NULL, *pass = NULL, *host = NULL;
	char *path = NULL, *query = NULL, *frag = NULL;
	char where[512];
	const char *w = config_where(sec, "url", where, sizeof(where));
	int ret = -1;
	size_t i;

	if (!u)
		log_fatal(75, "out of memory");
	if (strlen(t->url) > REPCONF_URL_MAX) {
		util_err(err, errlen, "%surl: longer than %d bytes", w,
			 REPCONF_URL_MAX);
		goto out;
	}
	if (curl_url_set(u, CURLUPART_URL, t->url, 0) != CURLUE_OK) {
		util_err(err, errlen, "%surl: '%s' is not a valid URL", w,
			 t->url);
		goto out;
	}
	curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
	curl_url_get(u, CURLUPART_USER, &user, CURLU_URLDECODE);
	curl_url_get(u, CURLUPART_PASSWORD, &pass, 0);
	curl_url_get(u, CURLUPART_HOST, &host, 0);
	curl_url_get(u, CURLUPART_PATH, &path, CURLU_URLDECODE);
	curl_url_get(u, CURLUPART_QUERY, &query, 0);
	curl_url_get(u, CURLUPART_FRAGMENT, &frag, 0);
	if (!scheme || !path) {
		util_err(err, errlen, "%surl: '%s' is not a valid URL", w,
			 t->url);
		goto out;
	}
	if (!strcmp(scheme, "sftp"))
		t->scheme = REPCONF_SFTP;
	else if (!strcmp(scheme, "scp"))
		t->scheme = REPCONF_SCP;
	else if (!strcmp(scheme, "https"))
		t->scheme = REPCONF_HTTPS;
	else if (!strcmp(scheme, "file"))
		t->scheme = REPCONF_FILE;
	else {
		util_err(err, errlen, "%surl: scheme %s: use sftp://, scp://, "
			 "https:// or file://", w, scheme);
		goto out;
	}
	if (pass) {
		util_err(err, errlen, "%surl: a password does not belong in "
			 "the URL: use password_file (https) or an ssh key", w);
		goto out;
	}
	if (query || frag) {
		util_err(err, errlen, "%surl: no query or fragment, please", w);
		goto out;
	}
	if ((t->scheme == REPCONF_SFTP || t->scheme == REPCONF_SCP) &&
	    (!user || !*user)) {
		util_err(err, errlen, "%surl: name the login: %s://USER@HOST"
			 "/PATH/", w, scheme);
		goto out;
	}
	if (t->scheme == REPCONF_FILE && host && *host &&
	    strcmp(host, "localhost")) {
		util_err(err, errlen, "%surl: file:// names a local "
			 "directory: file:///PATH/", w);
		goto out;
	}
	if (!*path || path[strlen(path) - 1] != '/') {
		util_err(err, errlen, "%surl: must name the inbox directory "
			 "and end in '/'", w);
		goto out;
	}
	for (i = 0; path[i]; i++) {
		if ((unsigned char)path[i] < 0x20 || path[i] == 0x7f ||
		    path[i] == '"' || path[i] == '\\') {
			util_err(err, errlen, "%surl: the path may not hold "
				 "control characters, quotes or backslashes",
				 w);
			goto out;
		}
	}
	t->path = xstrdup(path);
	ret = 0;
out:
	curl_free(scheme);
	curl_free(user);
	curl_free(pass);
	curl_free(host);
	curl_free(path);
	curl_free(query);
	curl_free(frag);
	curl_url_cleanup(u);
	return ret;
}

/* Read one [target NAME] section into t. */
static int repconf_target(const struct config_section *sec,
			  const struct config_section *top,
			  struct repconf_target *t, char *err, size_t errlen)
{
	const struct config_section *from;
	const char *v;
	char where[512];
	int ssh;

	util_strlcpy(t->name, config_section_name(sec), sizeof(t->name));
	t->line = config_section_line(sec);
	config_where(sec, NULL, where, sizeof(where));
	v = config_require(sec, "url", err, errlen);
	if (!v)
		return -1;
	t->url = xstrdup(v);
	if (repconf_url(sec, t, err, errlen) < 0)
		return -1;
	ssh = t->scheme == REPCONF_SFTP || t->scheme == REPCONF_SCP;

	/* Each secret file is checked where it was set. */
#define TGET(field, key, check) do {					\
		v = repconf_tget(sec, top, key, &from);			\
		t->field = repconf_dup(v);				\
		if (v && check(from, key, v, err, errlen) < 0)		\
			return -1;					\
	} while (0)
	TGET(ssh_private_key, "ssh_private_key", repconf_secret);
	TGET(ssh_public_key, "ssh_public_key", repconf_readable);
	TGET(ssh_known_hosts, "ssh_known_hosts", repconf_readable);
	TGET(ssh_key_passphrase_file, "ssh_key_passphrase_file",
	     repconf_secret);
	TGET(ca_file, "ca_file", repconf_readable);
	TGET(client_cert, "client_cert", repconf_readable);
	TGET(client_key, "client_key", repconf_secret);
	TGET(client_key_passphrase_file, "client_key_passphrase_file",
	     repconf_secret);
	TGET(password_file, "password_file", repconf_secret);
#undef TGET
	t->ssh_host_sha256 = repconf_dup(repconf_tget(sec, top,
						      "ssh_host_sha256",
						      &from));
	t->username = repconf_dup(repconf_tget(sec, top, "username", &from));

	if (ssh && (!t->ssh_private_key || !t->ssh_known_hosts)) {
		util_err(err, errlen, "%s[target %s]: %s:// needs "
			 "ssh_private_key and ssh_known_hosts", where, t->name,
			 repconf_scheme_name(t->scheme));
		return -1;
	}
	if (t->ssh_host_sha256 && strlen(t->ssh_host_sha256) != 43 &&
	    !(strlen(t->ssh_host_sha256) == 44 &&
	      t->ssh_host_sha256[43] == '=')) {
		util_err(err, errlen, "%s[target %s]: ssh_host_sha256: the "
			 "base64 SHA-256 fingerprint (43 characters, as "
			 "ssh-keygen -l shows after SHA256:)", where, t->name);
		return -1;
	}
	if (!t->client_cert != !t->client_key) {
		util_err(err, errlen, "%s[target %s]: client_cert and "
			 "client_key go together", where, t->name);
		return -1;
	}
	if (!t->password_file != !t->username) {
		util_err(err, errlen, "%s[target %s]: username and "
			 "password_file go together", where, t->name);
		return -1;
	}

	if (repconf_tduration(sec, top, "connect_timeout",
			      REPCONF_CONNECT_TIMEOUT_DEFAULT, 1,
			      REPCONF_TIMEOUT_MAX, &t->connect_timeout, err,
			      errlen) < 0 ||
	    repconf_tduration(sec, top, "timeout", REPCONF_TIMEOUT_DEFAULT, 1,
			      REPCONF_TIMEOUT_MAX, &t->timeout, err,
			      errlen) < 0 ||
	    repconf_tint(sec, top, "low_speed_limit",
			 REPCONF_LOW_SPEED_LIMIT_DEFAULT, 0, INT32_MAX,
			 &t->low_speed_limit, err, errlen) < 0 ||
	    repconf_tduration(sec, top, "low_speed_time",
			      REPCONF_LOW_SPEED_TIME_DEFAULT, 1,
			      REPCONF_TIMEOUT_MAX, &t->low_speed_time, err,
			      errlen) < 0 ||
	    repconf_tint(sec, top, "retries", REPCONF_RETRIES_DEFAULT, 0,
			 REPCONF_RETRIES_MAX, &t->retries, err, errlen) < 0 ||
	    repconf_tduration(sec, top, "retry_delay",
			      REPCONF_RETRY_DELAY_DEFAULT, 0, 3600,
			      &t->retry_delay, err, errlen) < 0 ||
	    repconf_tduration(sec, top, "retry_delay_max",
			      REPCONF_RETRY_DELAY_MAX_DEFAULT, 0, 86400,
			      &t->retry_delay_max, err, errlen) < 0)
		return -1;
	if (config_get_mode(top, "upload_mode", REPCONF_UPLOAD_MODE_DEFAULT,
			    &t->upload_mode, err, errlen) < 0 ||
	    config_get_mode(sec, "upload_mode", t->upload_mode,
			    &t->upload_mode, err, errlen) < 0)
		return -1;
	if (t->upload_mode & 0177000) {
		util_err(err, errlen, "%s[target %s]: upload_mode: permission "
			 "bits only (such as 0640)", where, t->name);
		return -1;
	}
	return 0;
}

/* Settings a target inherits from the top of the file. */
static const char *const repconf_inherited[] = {
	"ssh_private_key", "ssh_public_key", "ssh_known_hosts",
	"ssh_host_sha256", "ssh_key_passphrase_file", "ca_file",
	"client_cert", "client_key", "client_key_passphrase_file",
	"username", "password_file", "connect_timeout", "timeout",
	"low_speed_limit", "low_speed_time", "retries", "retry_delay",
	"retry_delay_max", "upload_mode", NULL
};

/* Settings that only make sense before the first [target]. */
static int repconf_top(struct repconf *rc, const struct config_section *top,
		       char *err, size_t errlen)
{
	const char *v;
	char where[512];
	size_t i;

	v = config_require(top, "catalog", err, errlen);
	if (!v)
		return -1;
	rc->catalog = xstrdup(v);
	v = config_get(top, "catalog_id", NULL);
	if (v) {
		if (!catalog_id_valid(v)) {
			util_err(err, errlen, "%scatalog_id: letters, digits, "
				 "'.', '_' and '-', at most %d",
				 config_where(top, "catalog_id", where,
					      sizeof(where)), CATALOG_ID_MAX);
			return -1;
		}
		util_strlcpy(rc->catalog_id, v, sizeof(rc->catalog_id));
	}
	v = config_require(top, "signing_key", err, errlen);
	if (!v)
		return -1;
	rc->signing_key = xstrdup(v);
	if (config_get_duration(top, "lifetime", REPCONF_LIFETIME_DEFAULT,
				&rc->lifetime, err, errlen) < 0)
		return -1;
	if (rc->lifetime < 60 || rc->lifetime > 3650LL * 86400) {
		util_err(err, errlen, "%slifetime: between 1m and 3650d",
			 config_where(top, "lifetime", where, sizeof(where)));
		return -1;
	}
	/* Half the lifetime by default: a node that missed one refresh
	 * still has a quarter of the lifetime left for the next. */
	if (config_get_duration(top, "refresh_after", rc->lifetime / 2,
				&rc->refresh_after, err, errlen) < 0)
		return -1;
	if (rc->refresh_after >= rc->lifetime) {
		util_err(err, errlen, "%srefresh_after: must be shorter than "
			 "lifetime, or nodes expire before they are refreshed",
			 config_where(top, "refresh_after", where,
				      sizeof(where)));
		return -1;
	}
	v = config_require(top, "spool_dir", err, errlen);
	if (!v)
		return -1;
	rc->spool_dir = xstrdup(v);
	v = config_require(top, "state_dir", err, errlen);
	if (!v)
		return -1;
	rc->state_dir = xstrdup(v);
	v = config_get(top, "lock_file", NULL);
	if (v) {
		rc->lock_file = xstrdup(v);
	} else {
		struct buf b;

		buf_init(&b, 4096 + 32);
		if (buf_printf(&b, "%s/replicator.lock", rc->state_dir) < 0 ||
		    buf_append(&b, "", 1) < 0) {
			util_err(err, errlen, "state_dir: path too long");
			buf_free(&b);
			return -1;
		}
		rc->lock_file = (char *)b.data;
	}
	rc->report_json = repconf_dup(config_get(top, "report_json", NULL));
	rc->metrics_file = repconf_dup(config_get(top, "metrics_file", NULL));
	/* A default every target overrides is still a known setting. */
	for (i = 0; repconf_inherited[i]; i++)
		(void)config_get(top, repconf_inherited[i], NULL);
	if (config_get_int(top, "concurrency", REPCONF_CONCURRENCY_DEFAULT, 1,
			   REPCONF_CONCURRENCY_MAX, &rc->concurrency, err,
			   errlen) < 0 ||
	    config_get_duration(top, "install_grace",
				REPCONF_INSTALL_GRACE_DEFAULT,
				&rc->install_grace, err, errlen) < 0 ||
	    config_get_duration(top, "run_timeout",
				REPCONF_RUN_TIMEOUT_DEFAULT, &rc->run_timeout,
				err, errlen) < 0)
		return -1;
	if (rc->run_timeout < 1) {
		util_err(err, errlen, "%srun_timeout: at least 1s",
			 config_where(top, "run_timeout", where,
				      sizeof(where)));
		return -1;
	}
	return 0;
}

struct repconf *repconf_load(const char *path, char *err, size_t errlen)
{
	struct config *cfg;
	const struct config_section *top, *sec;
	struct repconf *rc;
	size_t n = 0, i;

	cfg = config_load(path, err, errlen);
	if (!cfg)
		return NULL;
	rc = xcalloc(1, sizeof(*rc));
	rc->path = xstrdup(path);
	top = config_top(cfg);
	if (repconf_top(rc, top, err, errlen) < 0)
		goto fail;
	for (sec = NULL; (sec = config_next(cfg, sec, "target")) != NULL;)
		n++;
	if (n == 0) {
		util_err(err, errlen, "%s: no [target NAME] section: nowhere "
			 "to send the catalog", path);
		goto fail;
	}
	if (n > REPCONF_TARGETS_MAX) {
		util_err(err, errlen, "%s: more than %d targets", path,
			 REPCONF_TARGETS_MAX);
		goto fail;
	}
	rc->targets = xcalloc(n, sizeof(*rc->targets));
	for (sec = NULL; (sec = config_next(cfg, sec, "target")) != NULL;) {
		for (i = 0; i < rc->ntargets; i++)
			if (!strcmp(rc->targets[i].name,
				    config_section_name(sec)))
				break;
		if (i < rc->ntargets) {
			util_err(err, errlen, "%s:%d: [target %s] given twice",
				 path, config_section_line(sec),
				 config_section_name(sec));
			goto fail;
		}
		if (repconf_target(sec, top, &rc->targets[rc->ntargets++],
				   err, errlen) < 0)
			goto fail;
	}
	/* Transport defaults at the top were marked used by the targets'
	 * lookups; anything left over is a typo. */
	if (config_check_unused(cfg, err, errlen) < 0)
		goto fail;
	config_free(cfg);
	return rc;
fail:
	config_free(cfg);
	repconf_free(rc);
	return NULL;
}

void repconf_free(struct repconf *rc)
{
	size_t i;

	if (!rc)
		return;
	for (i = 0; i < rc->ntargets; i++) {
		struct repconf_target *t = &rc->targets[i];

		free(t->url);
		free(t->path);
		free(t->ssh_private_key);
		free(t->ssh_public_key);
		free(t->ssh_known_hosts);
		free(t->ssh_host_sha256);
		free(t->ssh_key_passphrase_file);
		free(t->ca_file);
		free(t->client_cert);
		free(t->client_key);
		free(t->client_key_passphrase_file);
		free(t->username);
		free(t->password_file);
	}
	free(rc->targets);
	free(rc->path);
	free(rc->catalog);
	free(rc->signing_key);
	free(rc->spool_dir);
	free(rc->state_dir);
	free(rc->lock_file);
	free(rc->report_json);
	free(rc->metrics_file);
	free(rc);
}
