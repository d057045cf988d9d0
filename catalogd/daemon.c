/*
 * daemon.c - what the parts of catalogd do with the shared state; see
 * daemon.h.
 */
#include <string.h>

#include "daemon.h"
#include "keyhash.h"
#include "log.h"
#include "notify.h"

void daemon_notify_status(const struct daemon *d, int ready)
{
	if (!notify_enabled())
		return;
	if (d->info.serial)
		notify_send("%sSTATUS=serving catalog %s serial %llu "
			    "(%llu records)%s", ready ? "READY=1\n" : "",
			    d->info.id, (unsigned long long)d->info.serial,
			    (unsigned long long)d->info.records,
			    d->st.stale ? ", EXPIRED" : "");
	else
		notify_send("%sSTATUS=no catalog installed yet: waiting for "
			    "a snapshot in %s", ready ? "READY=1\n" : "",
			    d->conf->inbox);
}

struct catalog_read *daemon_reader(struct daemon *d)
{
	char err[512];

	if (!d->rd) {
		d->rd = catalog_read_begin(d->cat, err, sizeof(err));
		if (!d->rd)
			log_error("catalog read: %s", err);
	}
	return d->rd;
}

void daemon_reader_end(struct daemon *d)
{
	if (d->rd) {
		catalog_read_end(d->rd);
		d->rd = NULL;
	}
}

/* Keyed-hash mode: a catalog hashed with another secret than the one
 * configured (or clear when a secret is set, or the reverse) would
 * answer "unknown" for everyone; answer TEMP instead, and say why. */
static void daemon_check_secret(struct daemon *d)
{
	struct catalog_read *r = daemon_reader(d);
	const char *why = r ? keyhash_catalog_unusable(r, d->conf->hash)
			    : "catalog read error";

	if (why && (!d->st.unusable || strcmp(why, d->st.unusable)))
		log_error("%s: %s: every lookup answers TEMP until a "
			  "matching snapshot is installed or hash_secret is "
			  "corrected%s", catalog_path(d->cat), why,
			  d->conf->hash ? "; to switch to keyed-hash mode, "
			  "stop catalogd, remove the catalog file and its "
			  "-lock file (LMDB keeps freed pages, so the old "
			  "keys would stay in it), and start it again" : "");
	d->st.unusable = why;
	daemon_reader_end(d);
}

void daemon_refresh_info(struct daemon *d)
{
	char err[512];

	daemon_reader_end(d);
	if (catalog_info(d->cat, &d->info, err, sizeof(err)) < 0) {
		log_error("catalog: %s", err);
		return;
	}
	d->st.serial = d->info.serial;
	d->st.stale = d->info.expires && d->now > d->info.expires;
	daemon_check_secret(d);
	/* Reads notice a new version themselves; empty the cache at once. */
	lookup_cache_clear(d->st.cache);
	daemon_notify_status(d, 0);
}
