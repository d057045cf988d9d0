/*
 * livecat.h - the watch mode's catalog: directory entries applied one by
 * one, each remembered with what it contributes (its provenance), so a
 * modify or a delete changes exactly the records it must.
 *
 * For every entry (source, id = entryUUID / objectGUID / DN hash) the
 * catalog's aux tables keep its digest: its addresses (claims), its
 * logins (by the hash of its DN, for owner DNs naming it) and the owner
 * DNs it names (refs).  A record is recomputed from the claims on its
 * address with the same rules as the batch run (collect.c): the duplicate
 * rule, owner DNs resolved to the logins of the entry they name or their
 * first RDN value.  So the catalog always equals what a full run makes.
 *
 * Use: livecat_begin(), then present()/unchanged()/gone() and the
 * refresh calls as the sources report, set_cookie(), livecat_commit():
 * one LMDB transaction holds the changes and the cookies covering them.
 * A refresh without a cookie is "staged": entries are written in chunks
 * (livecat_want_chunk) without touching the records, which are rebuilt
 * in one go at refresh_done, so nobody sees half a directory.
 * Limits: LIVECAT_* below.  Entry ids are opaque bytes from the server.
 */
#ifndef LIVECAT_H
#define LIVECAT_H

#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "collect.h"
#include "digest.h"
#include "ldapsrc.h"

#define LIVECAT_ID_MAX        64	/* bytes of an entry id */
#define LIVECAT_SOURCES_MAX   254	/* source numbers 0..253 */
#define LIVECAT_SRC_DOMAINS   255	/* the local domains' own entry */
#define LIVECAT_CLAIMANTS_MAX 100000	/* entries claiming one address */
#define LIVECAT_CHUNK         20000	/* staged entries per commit */

struct livecat;

struct livecat_source {
	const char *name;
	const struct digest_rules *rules;
};

struct livecat_conf {
	const struct digest_env *env;
	enum collect_rule rule;
	int index_logins;		/* some source has owner_attribute */
	const struct livecat_source *src;
	size_t nsrc;
	const char *catalog_id;
	unsigned history;
};

/* Counters for status and metrics. */
struct livecat_stats {
	uint64_t present, unchanged, gone;	/* reported */
	uint64_t entries_changed;		/* digest differed */
	uint64_t keys_recomputed;
	uint64_t conflicts;		/* addresses with 2+ claimants seen */
};

struct livecat *livecat_new(struct catalog *cat, const struct livecat_conf *c);
void livecat_free(struct livecat *);

/* Start a transaction (when none is open).  0, or -1 with err. */
int livecat_begin(struct livecat *, char *err, size_t errlen);
/* Is a transaction open, and does it hold changes? */
int livecat_open(const struct livecat *);
int livecat_dirty(const struct livecat *);

/* An entry of source src is there, with this content. */
int livecat_present(struct livecat *, int src, const void *id, size_t idlen,
		    const struct ldapsrc_entry *e, char *err, size_t errlen);
/* It is there, unchanged (a refresh's present phase). */
int livecat_unchanged(struct livecat *, int src, const void *id,
		      size_t idlen);
/* It is gone (deleted, moved out of scope, no longer matching). */
int livecat_gone(struct livecat *, int src, const void *id, size_t idlen,
		 char *err, size_t errlen);
/* The local domains as records (call once after start); staged: some
 * source starts without a cookie, and the records wait for its refresh. */
int livecat_domains(struct livecat *, int staged, char *err, size_t errlen);

/* A refresh of src begins; staged (no cookie: everything comes) or not.
 * Entries reported until refresh_done are remembered as seen. */
void livecat_refresh_begin(struct livecat *, int src, int staged);
/* It ended: with present_phase, every entry of src not seen is gone;
 * a staged refresh rebuilds the records.  0, or -1 with err. */
int livecat_refresh_done(struct livecat *, int src, int present_phase,
			 char *err, size_t errlen);
/* A staged refresh has written LIVECAT_CHUNK entries: commit them. */
int livecat_want_chunk(const struct livecat *);
/* Keep cookie (len bytes) for src, stored at the next commit. */
int livecat_set_cookie(struct livecat *, int src, const void *cookie,
		       size_t len, char *err, size_t errlen);
/* src's stored cookie: 1 (copied, *len), 0 none, -1 error. */
int livecat_get_cookie(struct livecat *, int src, void *buf, size_t size,
		       size_t *len, char *err, size_t errlen);
/* Forget src's cookie (its next start is a full refresh). */
int livecat_drop_cookie(struct livecat *, int src, char *err, size_t errlen);

/* What the open transaction would change: +added -removed ~changed and
 * the record counts after it. */
void livecat_diff(const struct livecat *, struct catalog_diff *);
/* Commit: a new serial when records changed.  0 with *serial the one
 * after it (unchanged when only bookkeeping changed), -1 with err. */
int livecat_commit(struct livecat *, uint64_t *serial, char *err,
		   size_t errlen);
/* Throw the open transaction away (cookies with it). */
void livecat_abort(struct livecat *);

void livecat_stats(const struct livecat *, struct livecat_stats *);

#endif
