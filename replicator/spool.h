/*
 * spool.h - the snapshot files one run sends, kept in the spool directory
 * under the names the nodes expect:
 *     CATALOG_ID.SERIAL.full.snap        CATALOG_ID.BASE-SERIAL.delta.snap
 *
 * spool_get() hands out the file for the catalog's current serial (full,
 * or a delta from a base), writing it on first use with lib/snapshot.h and
 * reusing one already in the spool when it verifies against our own key,
 * was made for this catalog serial with the configured lifetime and still
 * has at least half of it left.  Each file is made (or checked) once per
 * run however many targets need it.  spool_clean() removes the files of
 * other serials and leftovers of interrupted writes; call it holding the
 * run lock.  Limits: SPOOL_FILES_MAX distinct files in one run.
 */
#ifndef DIRCAT_SPOOL_H
#define DIRCAT_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "sign.h"

#define SPOOL_FILES_MAX 1024
#define SPOOL_NAME_MAX  (CATALOG_ID_MAX + 64)

struct spool;

struct spool_file {
	char name[SPOOL_NAME_MAX];	/* the name on the node */
	char *path;			/* in the spool directory */
	int type;			/* SNAPSHOT_FULL, SNAPSHOT_DELTA */
	uint64_t serial, base;		/* base 0 for a full snapshot */
	uint64_t size;			/* bytes */
	uint64_t records;
	int64_t expires;		/* the snapshot's expiry */
	int reused;			/* 1: made by an earlier run */
};

/*
 * A spool for the catalog serial r sees.  dir is created (0750) when
 * missing.  r, key and the strings must outlive the spool.  NULL with err.
 */
struct spool *spool_new(const char *dir, struct catalog_read *r,
			const char *catalog_id, int64_t lifetime,
			const struct sign_key *key, char *err, size_t errlen);
void spool_free(struct spool *);
/* Write the snapshots of a projection (enum snapwrite_projection) into
 * this spool; give each projection its own spool directory. */
/* Keyed-hash mode (keyhash.h): snapshots written from now on hash their
 * keys and seal owners and extra with hash (borrowed); files in the
 * spool written otherwise are not reused. */
struct keyhash;
void spool_set_hash(struct spool *sp, struct keyhash *hash);
void spool_set_projection(struct spool *, int projection);

/*
 * The file for base (0: a full snapshot).  Returns 0 with *file set
 * (valid until spool_free), 1 when the change history does not reach back
 * to base (use a full one), or -1 with err.
 */
int spool_get(struct spool *, uint64_t base, const struct spool_file **file,
	      char *err, size_t errlen);

/* Remove snapshot files of other serials of this catalog and temporary
 * files left by interrupted writes.  Problems are logged, not returned. */
void spool_clean(struct spool *);

#endif
