/*
 * apply.h - catalogd's install policy: whether a verified snapshot may
 * replace what the node serves, and the write that does it.
 *
 * apply_snapshot() refuses (nothing changed) a snapshot for another
 * catalog id, an expired one, one that is not newer than the installed
 * catalog (no rollback, no replay: snapshots are ordered by (epoch,
 * serial), so a lower epoch, or within the installed epoch a serial not
 * above the installed one, is refused), and a delta whose base is not the
 * installed serial of the same epoch; otherwise it applies every record in one LMDB write
 * transaction together with serial, epoch, created, expires and key id.
 * It trusts only what snapshot_read() verified: the snapshot's header and
 * records come from its private copy.
 */
#ifndef CATALOGD_APPLY_H
#define CATALOGD_APPLY_H

#include <stdint.h>

#include "catalog.h"
#include "keyhash.h"
#include "snapshot.h"

/*
 * Install s into cat in one write transaction, checking first: catalog
 * id == expect_id (and the id the catalog file already holds, if any);
 * expires > now; epoch > the installed epoch (any serial), or the same
 * epoch and serial > the installed serial; for a delta, base == the installed serial and epoch == the
 * installed epoch.  A full snapshot replaces every record, a delta puts
 * and deletes; no change history is kept.  diff (may be NULL) receives
 * what changed.  0, or -1 with *code (enum snapshot_code) and err.
 */
int apply_snapshot(struct snapshot *s, struct catalog *cat,
		   const char *expect_id, int64_t now,
		   struct catalog_diff *diff, int *code, char *err,
		   size_t errlen);

#define APPLY_META_HASH_ID KEYHASH_META_ID	/* keyhash.h */

/*
 * apply_snapshot() for a node whose hash_secret has the secret id hash_id
 * (KEYHASH_ID_LEN bytes; NULL: no hash_secret, clear mode).  Refused
 * first, with SNAPSHOT_E_WRONG_SECRET: a keyed-hash snapshot on a node
 * without a secret, a clear one on a node with one, or one hashed with
 * another secret.  A delta must be hashed like the installed catalog
 * (else SNAPSHOT_E_WRONG_BASE: send a full one).  The installed secret id
 * is kept in the catalog (APPLY_META_HASH_ID).  apply_snapshot() is this
 * with hash_id NULL.
 */
int apply_snapshot_keyed(struct snapshot *s, struct catalog *cat,
			 const char *expect_id, const unsigned char *hash_id,
			 int64_t now, struct catalog_diff *diff, int *code,
			 char *err, size_t errlen);

#endif
