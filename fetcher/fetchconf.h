/*
 * fetchconf.h - dircat-fetch's configuration: where the manifest is,
 * which keys and catalog to trust, which inbox to fill, and how often and
 * how patiently to poll.
 *
 * fetchconf_load() reads the file by the settings table
 * fetchconf_settings (lib/settings.h) and checks every value: the
 * manifest URL (http:// or https://, no credentials, no query), the
 * trusted keys (loaded here), the inbox (an existing directory), the
 * timing (poll_jitter below poll_interval); an unknown setting is an
 * error naming its file and line, with the setting meant ("did you
 * mean").  Nothing here opens a connection.
 * Limits: FETCHCONF_URL_MAX bytes of URL, SIGN_KEYRING_MAX keys.
 */
#ifndef DIRCAT_FETCHCONF_H
#define DIRCAT_FETCHCONF_H

#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "config.h"
#include "manifest.h"
#include "settings.h"
#include "sign.h"

#define FETCHCONF_URL_MAX 2048

struct fetchconf {
	char *path;			/* the configuration file */
	struct config *cfg;		/* the text settings point into it */
	const char *manifest_url;	/* as configured */
	char *base_url;			/* up to and including the last '/' */
	char catalog_id[CATALOG_ID_MAX + 1];
	char projection[MANIFEST_PROJECTION_MAX + 1];
	struct sign_keyring *keys;
	size_t nkeys;
	const char *inbox;
	const char *state_dir;
	const char *metrics_file;	/* NULL: none */
	const char *ca_file;		/* NULL: the system's */
	int64_t poll_interval, poll_jitter;	/* seconds */
	int64_t connect_timeout, timeout;	/* seconds */
	int64_t low_speed_limit, low_speed_time;
	int64_t install_grace;		/* seconds */
	int64_t max_download;		/* bytes, one file */
	unsigned file_mode;		/* of files dropped into the inbox */
};

/* Every setting of fetch.conf (dircat-fetch --settings prints them). */
extern const struct settings_section fetchconf_settings[];

/* Load and check path.  The configuration (fetchconf_free), or NULL with
 * "file:line: reason" in err. */
struct fetchconf *fetchconf_load(const char *path, char *err, size_t errlen);
void fetchconf_free(struct fetchconf *);

#endif
