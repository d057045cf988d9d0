/*
 * snapshot.h - signed catalog snapshots: the file the replicator writes
 * and catalogd installs.  Format, byte by byte: schema/snapshot.md.
 *
 * A snapshot is a 256-byte header, a payload of records in strictly
 * ascending key order (full: every record; delta: puts and deletes since a
 * base serial) and an Ed25519 signature over everything before it.
 * Writers: snapshot_write_full() / snapshot_write_delta() (atomic rename).
 * Readers: snapshot_open() memory-maps the file and refuses it, with one
 * error code and a precise message, unless every header field, the
 * payload hash, the signature and every record check out; only then do
 * snapshot_next() and snapshot_apply() see it.  Limits: SNAPSHOT_* below;
 * every length read from a file is checked against what remains first.
 * Check order on reading: header fields, file size, key id trusted,
 * payload hash, signature, records.
 */
#ifndef DIRCAT_SNAPSHOT_H
#define DIRCAT_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "sign.h"

#define SNAPSHOT_MAGIC        "DIRCATSN"	/* 8 bytes, no NUL */
#define SNAPSHOT_MAGIC_LEN    8
#define SNAPSHOT_VERSION      1
#define SNAPSHOT_HEADER_LEN   256
#define SNAPSHOT_SIG_LEN      SIGN_SIG_LEN	/* 64, at the very end */
#define SNAPSHOT_FLAG_KEYED_HASH 0x0001	/* reserved: keys are HMACs;
						   not supported yet */
#define SNAPSHOT_FLAGS_KNOWN  0x0000	/* flags this reader accepts */
#define SNAPSHOT_RECORDS_MAX  100000000ULL	/* records in one snapshot */
#define SNAPSHOT_FILE_MAX     (16ULL << 30)	/* whole file, bytes */
#define SNAPSHOT_LIFETIME_MAX (3650LL * 86400)	/* expires - created */

enum snapshot_type {
	SNAPSHOT_FULL = 1,
	SNAPSHOT_DELTA = 2
};

/* The op of a record: a full snapshot holds only puts. */
enum snapshot_op {
	SNAPSHOT_PUT = 1,
	SNAPSHOT_DEL = 2
};

/* One error space for reading and installing. */
enum snapshot_code {
	SNAPSHOT_OK = 0,
	SNAPSHOT_E_IO,		/* cannot open, stat, map, write */
	SNAPSHOT_E_TRUNCATED,	/* file shorter than its header says */
	SNAPSHOT_E_TOO_LARGE,	/* over a SNAPSHOT_* limit */
	SNAPSHOT_E_BAD_MAGIC,	/* not a dircat snapshot */
	SNAPSHOT_E_BAD_VERSION,	/* a format version we do not read */
	SNAPSHOT_E_UNKNOWN_FLAGS,	/* a flag bit we do not know */
	SNAPSHOT_E_BAD_FIELD,	/* a header field out of range */
	SNAPSHOT_E_TRAILING_DATA,	/* bytes after the signature */
	SNAPSHOT_E_UNKNOWN_KEY,	/* signed by a key not trusted here */
	SNAPSHOT_E_BAD_HASH,	/* payload does not match its hash */
	SNAPSHOT_E_BAD_SIGNATURE,	/* signature does not verify */
	SNAPSHOT_E_BAD_RECORD,	/* a record malformed or out of order */
	/* install time */
	SNAPSHOT_E_WRONG_CATALOG,	/* for another catalog id */
	SNAPSHOT_E_ROLLBACK,	/* serial not newer than the installed one */
	SNAPSHOT_E_WRONG_BASE,	/* delta base != installed serial */
	SNAPSHOT_E_EXPIRED,	/* expires <= now */
	SNAPSHOT_E_CATALOG,	/* the catalog write failed */
	SNAPSHOT_E_COUNT
};

/* A short fixed phrase for a code ("bad signature", "truncated"...). */
const char *snapshot_strerror(int code);

/* The header, decoded.  Numbers in host order. */
struct snapshot_header {
	unsigned version;
	unsigned flags;
	int type;				/* enum snapshot_type */
	char catalog_id[CATALOG_ID_MAX + 1];
	uint64_t serial;
	uint64_t base;				/* 0 for a full snapshot */
	int64_t created, expires;		/* unix time */
	uint64_t records;
	uint64_t payload_len;
	unsigned char payload_hash[SIGN_SHA256_LEN];
	unsigned char key_id_raw[SIGN_KEY_ID_LEN];
	char key_id[SIGN_KEY_ID_HEX];		/* hex */
	uint64_t file_size;			/* header + payload + sig */
};

/* What a write produced. */
struct snapshot_stats {
	int type;
	uint64_t serial, base;
	uint64_t records;		/* puts + dels */
	uint64_t puts, dels;
	uint64_t payload_len, file_size;
	char key_id[SIGN_KEY_ID_HEX];
	double seconds;			/* wall time of the write */
};

/*
 * Write a full snapshot of what r sees to path, atomically: path.tmp.PID
 * (mode 0640), fsync, rename, fsync of the directory.  Serial = the
 * catalog's serial (must be > 0).  catalog_id: the id to stamp (NULL: the
 * catalog's own id); must satisfy catalog_id_valid().  Expires = created +
 * lifetime (1 .. SNAPSHOT_LIFETIME_MAX seconds).  st may be NULL.
 * Returns 0, or -1 with err (path untouched then).
 */
int snapshot_write_full(struct catalog_read *r, const char *catalog_id,
			int64_t created, int64_t lifetime,
			const struct sign_key *key, const char *path,
			struct snapshot_stats *st, char *err, size_t errlen);

/*
 * Write a delta from serial base (0 < base < the catalog's serial) to the
 * current serial, the same way.  Returns 0 written, 1 when the change
 * history does not reach back to base (send a full one; nothing written),
 * or -1 with err.
 */
int snapshot_write_delta(struct catalog_read *r, uint64_t base,
			 const char *catalog_id, int64_t created,
			 int64_t lifetime, const struct sign_key *key,
			 const char *path, struct snapshot_stats *st,
			 char *err, size_t errlen);

struct snapshot;

/*
 * Open and check the snapshot at path against the trusted keys kr: map it
 * read-only, check every header field, the file size, that the key id is
 * in kr, the payload hash, the signature, then every record and the key
 * order.  Returns the snapshot (close with snapshot_close()), or NULL with
 * *code set and a message naming the file and, where it helps, the byte
 * offset.  The file must not be changed while open (deliver by rename).
 */
struct snapshot *snapshot_open(const char *path, const struct sign_keyring *kr,
			       int *code, char *err, size_t errlen);
/* The same over bytes in memory, borrowed: they must outlive the
 * snapshot.  label names them in messages (NULL: "snapshot"). */
struct snapshot *snapshot_open_mem(const void *data, size_t len,
				   const char *label,
				   const struct sign_keyring *kr,
				   int *code, char *err, size_t errlen);
/* Unmap and free; NULL is harmless. */
void snapshot_close(struct snapshot *);

/* The checked header; valid until snapshot_close(). */
const struct snapshot_header *snapshot_header(const struct snapshot *);

/*
 * The next record in key order: *op is SNAPSHOT_PUT (rec complete) or
 * SNAPSHOT_DEL (only rec->key/keylen set).  rec points into the mapping:
 * valid until snapshot_close().  Returns 1, 0 at the end, -1 on a broken
 * record (cannot happen after a successful open).
 */
int snapshot_next(struct snapshot *, int *op, struct catalog_rec *rec);
/* Start the iteration over. */
void snapshot_rewind(struct snapshot *);

/*
 * Decode and check only the fixed header from the first bytes of a file
 * (len may be the whole file): no signature, so the result is NOT to be
 * trusted; for showing what a refused file claims.  0, or -1 with code
 * and err.
 */
int snapshot_parse_header(const void *data, size_t len,
			  struct snapshot_header *h, int *code,
			  char *err, size_t errlen);

/*
 * Verify-only (dircat verify): open, check everything, fill *h, close.
 * 0 valid, or -1 with code and err.
 */
int snapshot_verify(const char *path, const struct sign_keyring *kr,
		    struct snapshot_header *h, int *code,
		    char *err, size_t errlen);

/*
 * Install an opened snapshot into cat in one write transaction.  Refused
 * (nothing changed) unless: its catalog id equals expect_id (and the id
 * the catalog file already holds, if any); expires > now; serial > the
 * installed serial; for a delta, base == the installed serial.  A full
 * snapshot replaces every record, a delta puts and deletes; then serial,
 * created, expires and key id are set and no change history is kept.
 * diff (may be NULL) receives what changed.  0, or -1 with code and err.
 */
int snapshot_apply(struct snapshot *, struct catalog *cat,
		   const char *expect_id, int64_t now,
		   struct catalog_diff *diff, int *code,
		   char *err, size_t errlen);

#endif
