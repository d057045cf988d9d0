/*
 * repconf.h - the replicator's configuration: what to publish (catalog,
 * signing key, lifetime), where to keep files (spool, state, lock, report)
 * and the targets ([target NAME] sections) with their credentials.
 *
 * repconf_load() reads the file with lib/config.h, checks every value,
 * the modes of secret files and that every target's URL is one we can
 * deliver to; an unknown key is an error.  Transport settings given before
 * the first [target] are defaults every target inherits.  [publish NAME]
 * sections name an HTTP origin (WebDAV PUT) or an S3-compatible store the
 * catalog is published to for nodes to fetch (see publish.h); they take
 * the same transport settings.  Nothing here opens a network connection
 * or the catalog.
 * `include = FILE` or `include = DIR` (every *.conf in it, in name order)
 * adds the [target] sections of other files, for fleets kept as one file
 * per node; the top of the main file stays their defaults.
 * Limits: REPCONF_TARGETS_MAX targets, REPCONF_PUBLISH_MAX publish
 * destinations, REPCONF_INCLUDE_FILES_MAX files per include, URLs of
 * REPCONF_URL_MAX bytes, and config.h's per-file limits.
 */
#ifndef DIRCAT_REPCONF_H
#define DIRCAT_REPCONF_H

#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "settings.h"

#define REPCONF_TARGETS_MAX   10000	/* CONFIG_SECTION_MAX, all files */
#define REPCONF_INCLUDE_FILES_MAX 10000	/* files one include = DIR reads */
#define REPCONF_URL_MAX       2048
#define REPCONF_DEFAULT_PATH  "/etc/dircat/replicator.conf"
#define REPCONF_CONCURRENCY_MAX 256
#define REPCONF_PUBLISH_MAX   16	/* [publish NAME] sections */
#define REPCONF_KEEP_DELTAS_MAX 256	/* MANIFEST_DELTAS_MAX */

enum repconf_scheme {
	REPCONF_SFTP = 1,
	REPCONF_SCP,
	REPCONF_HTTPS,
	REPCONF_FILE,
	REPCONF_S3		/* publish only: s3://BUCKET/PREFIX/ */
};

/* The strings below point into the configuration file's text, which
 * struct repconf keeps until repconf_free. */
struct repconf_target {
	const char *name;		/* [target NAME] */
	int line;			/* where [target NAME] is */
	int scheme;			/* enum repconf_scheme */
	const char *url;		/* as configured, ends in '/' */
	char *path;			/* the URL's path, decoded (sftp quote
					   commands, file://) */
	/* ssh (sftp, scp) */
	const char *ssh_private_key, *ssh_public_key, *ssh_known_hosts;
	const char *ssh_host_sha256;	/* optional pin (base64) */
	const char *ssh_key_passphrase_file;
	/* https */
	const char *ca_file, *client_cert, *client_key;
	const char *client_key_passphrase_file;
	const char *username, *password_file;
	/* behaviour */
	int64_t connect_timeout, timeout;	/* seconds */
	int64_t low_speed_limit, low_speed_time;	/* bytes/s, seconds */
	int64_t retries, retry_delay, retry_delay_max;
	unsigned upload_mode;
	int projection;			/* enum snapwrite_projection */
	/* a [publish NAME] section */
	int publish;			/* 1: publish, 0: a [target] */
	const char *s3_endpoint;	/* https://HOST[:PORT], no path */
	char *s3_bucket;		/* from the s3:// URL */
	const char *s3_region;
	const char *s3_access_key_id;
	const char *s3_secret_key_file;
	int64_t keep_deltas;		/* deltas listed in the manifest */
	int64_t manifest_lifetime;	/* seconds */
	int64_t manifest_max_age;	/* Cache-Control, seconds */
};

struct keyhash;

struct repconf {
	struct config *cfg;		/* holds the strings */
	const char *path;		/* the configuration file */
	const char *catalog;
	char catalog_id[CATALOG_ID_MAX + 1];	/* "" = the catalog's own */
	const char *signing_key;
	const char *hash_secret;	/* keyed-hash mode; NULL: clear */
	struct keyhash *hash;		/* its secret, loaded and checked */
	int64_t lifetime;		/* seconds */
	int64_t refresh_after;		/* seconds; 0: never */
	const char *spool_dir, *state_dir;
	const char *lock_file;		/* state_dir/replicator.lock unless set */
	char *lock_file_default;	/* the storage of that default */
	const char *report_json;	/* NULL: none */
	const char *metrics_file;	/* NULL: none */
	const char *notify_socket;	/* -w: the aggregator's datagrams */
	int64_t watch_interval;		/* -w: a run at least this often */
	int64_t concurrency;
	int64_t install_grace;		/* seconds */
	int64_t run_timeout;		/* seconds */
	struct repconf_target *targets;
	size_t ntargets;
	struct repconf_target *publish;	/* [publish NAME] sections */
	size_t npublish;
};

/* The settings of replicator.conf: run settings, then [target NAME]
 * (whose transport settings may be given at the top as defaults), then
 * [publish NAME] (the transport settings, and its own). */
extern const struct settings_section repconf_settings[];

/* Load and check path.  Returns the configuration (repconf_free), or NULL
 * with "file:line: reason" in err. */
struct repconf *repconf_load(const char *path, char *err, size_t errlen);
void repconf_free(struct repconf *);

/* "sftp", "scp", "https", "file", "s3". */
static inline const char *repconf_scheme_name(int scheme)
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
	case REPCONF_S3:
		return "s3";
	}
	return "?";
}

#endif
