/*
 * snapwrite.h - write signed snapshots (format version 2, see snapshot.h
 * and schema/snapshot.md) of a catalog: full, or a delta from a base
 * serial through the catalog's change history.
 *
 * snapwrite_full() / snapwrite_delta() stream the records, in key order,
 * into PATH.tmp.PID while hashing them, then write the header and its
 * signature, fsync, and rename into place (and fsync the directory), so
 * that a reader sees the old file or the whole new one.  Limits: those of
 * the format (SNAPSHOT_RECORDS_MAX, SNAPSHOT_FILE_MAX); a record the
 * format cannot carry is an error naming its key.  Errors: 0 / -1 with a
 * message in err; the path is untouched on failure.
 */
#ifndef DIRCAT_SNAPWRITE_H
#define DIRCAT_SNAPWRITE_H

#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "sign.h"

struct keyhash;

/* What part of each record a snapshot carries (a node's projection). */
enum snapwrite_projection {
	SNAPWRITE_ALL = 0,	/* the whole record */
	SNAPWRITE_MX = 1	/* address and kind only: no owner logins, no
				   extra fields but the internal-only mark
				   (an MX needs no more) */
};

/* What to stamp into the header. */
struct snapwrite_opts {
	const char *catalog_id;	/* NULL: the catalog's own id; must satisfy
				   catalog_id_valid() */
	uint64_t epoch;		/* the catalog's epoch (0 until one is set) */
	int64_t created;	/* unix time, > 0 */
	int64_t lifetime;	/* expires = created + lifetime, 1 s ..
				   SNAPSHOT_LIFETIME_MAX */
	int projection;		/* enum snapwrite_projection; a projected
				   snapshot is signed like any other */
	struct keyhash *hash;	/* keyed-hash mode (keyhash.h): keys hashed,
				   owners and extra sealed, records sorted
				   by hashed key in memory before they are
				   written (about 60 bytes a record more
				   than their size); NULL: clear */
	int no_fsync;		/* 1: rename into place without fsync, for
				   a cache whose files are verified (hash
				   and signature) before they are used
				   again, as the replicator's spool is */
};

/* What a write produced. */
struct snapwrite_stats {
	int type;			/* SNAPSHOT_FULL or SNAPSHOT_DELTA */
	uint64_t serial, base, epoch;
	uint64_t records;		/* puts + dels */
	uint64_t puts, dels;
	uint64_t payload_len, file_size;
	char key_id[SIGN_KEY_ID_HEX];
	double seconds;			/* wall time of the write */
};

/*
 * Write a full snapshot of what r sees to path (mode 0640).  Serial = the
 * catalog's serial (must be > 0).  st may be NULL.  0, or -1 with err.
 */
int snapwrite_full(struct catalog_read *r, const struct snapwrite_opts *o,
		   const struct sign_key *key, const char *path,
		   struct snapwrite_stats *st, char *err, size_t errlen);

/*
 * Write a delta from serial base (0 < base < the catalog's serial) to the
 * current serial, the same way.  Returns 0 written, 1 when the change
 * history does not reach back to base (send a full one; nothing written),
 * or -1 with err.
 */
int snapwrite_delta(struct catalog_read *r, uint64_t base,
		    const struct snapwrite_opts *o,
		    const struct sign_key *key, const char *path,
		    struct snapwrite_stats *st, char *err, size_t errlen);

#endif
