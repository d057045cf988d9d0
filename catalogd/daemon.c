/*
 * daemon.c - what the parts of catalogd do with the shared state; see
 * daemon.h.
 */
#include <string.h>

#include "daemon.h"
#include "keyhash.h"
#include "log.h"
#include "notify.h"

struct daemon_catalog *daemon_first(const struct daemon *d)
{
	return d->cats[d->conf->order[0]];
}

int daemon_stale(const struct daemon *d, const struct daemon_catalog *k)
{
	return k->info.expires && d->now > k->info.expires;
}

void daemon_notify_status(const struct daemon *d, int ready)
{
	const struct daemon_catalog *k = daemon_first(d);
	size_t i, serving = 0, stale = 0;

	if (!notify_enabled())
		return;
	for (i = 0; i < d->ncats; i++) {
		serving += d->cats[i]->info.serial != 0;
		stale += d->cats[i]->st.stale;
	}
	if (d->ncats > 1)
		notify_send("%sSTATUS=serving %zu of %zu catalogs%s%zu%s",
			    ready ? "READY=1\n" : "", serving, d->ncats,
			    stale ? ", " : "", stale,
			    stale ? " EXPIRED" : "");
	else if (k->info.serial)
		notify_send("%sSTATUS=serving catalog %s serial %llu "
			    "(%llu records)%s", ready ? "READY=1\n" : "",
			    k->info.id, (unsigned long long)k->info.serial,
			    (unsigned long long)k->info.records,
			    k->st.stale ? ", EXPIRED" : "");
	else
		notify_send("%sSTATUS=no catalog installed yet: waiting for "
			    "a snapshot in %s", ready ? "READY=1\n" : "",
			    k->cc->inbox);
}

struct catalog_read *daemon_reader(struct daemon *d, struct daemon_catalog *k)
{
	char err[512];

	(void)d;
	if (!k->rd) {
		k->rd = catalog_read_begin(k->cat, err, sizeof(err));
		if (!k->rd)
			log_error("catalog %s: read: %s", k->cc->name, err);
	}
	return k->rd;
}

void daemon_reader_end(struct daemon *d)
{
	size_t i;

	for (i = 0; i < d->ncats; i++)
		if (d->cats[i]->rd) {
			catalog_read_end(d->cats[i]->rd);
			d->cats[i]->rd = NULL;
		}
}

/* Keyed-hash mode: a catalog hashed with another secret than the one
 * configured (or clear when a secret is set, or the reverse) would
 * answer "unknown" for everyone; answer TEMP instead, and say why. */
static void daemon_check_secret(struct daemon *d, struct daemon_catalog *k)
{
	struct catalog_read *r = daemon_reader(d, k);
	const char *why = r ? keyhash_catalog_unusable(r, k->cc->hash)
			    : "catalog read error";

	if (why && (!k->st.unusable || strcmp(why, k->st.unusable)))
		log_error("%s: %s: every lookup answers TEMP until a "
			  "matching snapshot is installed or hash_secret is "
			  "corrected%s", catalog_path(k->cat), why,
			  k->cc->hash ? "; to switch to keyed-hash mode, "
			  "stop catalogd, remove the catalog file and its "
			  "-lock file (LMDB keeps freed pages, so the old "
			  "keys would stay in it), and start it again" : "");
	k->st.unusable = why;
	if (k->rd) {
		catalog_read_end(k->rd);
		k->rd = NULL;
	}
}

void daemon_refresh_info(struct daemon *d, struct daemon_catalog *k)
{
	char err[512];

	if (k->rd) {
		catalog_read_end(k->rd);
		k->rd = NULL;
	}
	if (catalog_info(k->cat, &k->info, err, sizeof(err)) < 0) {
		log_error("catalog %s: %s", k->cc->name, err);
		return;
	}
	k->st.serial = k->info.serial;
	k->st.stale = daemon_stale(d, k);
	daemon_check_secret(d, k);
	/* Reads notice a new version themselves; empty the cache at once. */
	lookup_cache_clear(k->st.cache);
	daemon_notify_status(d, 0);
}
