/*
 * snapshot.h - signed catalog snapshots: the format and its verification.
 * Byte layout: schema/snapshot.md.  Writing: snapwrite.h.  Installing
 * (catalog id, expiry, rollback, delta base): catalogd's apply module.
 *
 * Version 2 (written today): a 256-byte header, an Ed25519 signature over
 * that header alone, then the payload, whose SHA-256 the header carries.
 * Version 1 (read for one more release): header, payload, then one
 * signature over both.
 * Reading: snapshot_read() takes a descriptor, reads the header and its
 * signature (a bounded prefix) and refuses the file unless both check out
 * before it reads any payload byte; then it copies the payload into
 * storage of its own (an unnamed file in a directory the caller owns, or
 * anonymous memory) while hashing it, and checks and hands out records
 * from that copy only, so whoever can still write the file cannot change
 * what was verified.  Limits: SNAPSHOT_* below, and the caller's maximum
 * file size; every length read from a file is checked against what
 * remains first.  Errors: one code (enum snapshot_code) and a message that
 * names the file and the byte offset.
 */
#ifndef DIRCAT_SNAPSHOT_H
#define DIRCAT_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "sign.h"

#define SNAPSHOT_MAGIC        "DIRCATSN"	/* 8 bytes, no NUL */
#define SNAPSHOT_MAGIC_LEN    8
#define SNAPSHOT_VERSION      2		/* what writers write */
#define SNAPSHOT_VERSION_V1   1		/* still read, for one release */
#define SNAPSHOT_HEADER_LEN   256
#define SNAPSHOT_SIG_LEN      SIGN_SIG_LEN	/* 64 */
#define SNAPSHOT_PREFIX_LEN   (SNAPSHOT_HEADER_LEN + SNAPSHOT_SIG_LEN)
					/* v2: header + its signature */
#define SNAPSHOT_FLAG_KEYED_HASH 0x0001	/* keys are keyed hashes, owners
					   and extra sealed (keyhash.h);
					   the keyed-hash field holds the
					   secret id */
#define SNAPSHOT_FLAGS_KNOWN  0x0001	/* flags this reader accepts */
#define SNAPSHOT_HASH_ID_LEN  32	/* the keyed-hash field */
#define SNAPSHOT_RECORDS_MAX  100000000ULL	/* records in one snapshot */
#define SNAPSHOT_FILE_MAX     (16ULL << 30)	/* whole file, bytes */
#define SNAPSHOT_PAYLOAD_MAX  (SNAPSHOT_FILE_MAX - SNAPSHOT_PREFIX_LEN)
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
	SNAPSHOT_E_IO,		/* cannot open, stat, read, copy */
	SNAPSHOT_E_TRUNCATED,	/* file shorter than its header says */
	SNAPSHOT_E_TOO_LARGE,	/* over a SNAPSHOT_* limit or the caller's */
	SNAPSHOT_E_BAD_MAGIC,	/* not a dircat snapshot */
	SNAPSHOT_E_BAD_VERSION,	/* a format version we do not read */
	SNAPSHOT_E_UNKNOWN_FLAGS,	/* a flag bit we do not know */
	SNAPSHOT_E_BAD_FIELD,	/* a header field out of range */
	SNAPSHOT_E_TRAILING_DATA,	/* bytes after the end */
	SNAPSHOT_E_UNKNOWN_KEY,	/* signed by a key not trusted here */
	SNAPSHOT_E_BAD_HASH,	/* payload does not match its hash */
	SNAPSHOT_E_BAD_SIGNATURE,	/* signature does not verify */
	SNAPSHOT_E_BAD_RECORD,	/* a record malformed or out of order */
	/* install time (catalogd) */
	SNAPSHOT_E_WRONG_CATALOG,	/* for another catalog id */
	SNAPSHOT_E_ROLLBACK,	/* not newer than the installed catalog */
	SNAPSHOT_E_WRONG_BASE,	/* delta base != installed serial */
	SNAPSHOT_E_EXPIRED,	/* expires <= now */
	SNAPSHOT_E_CATALOG,	/* the catalog write failed */
	SNAPSHOT_E_NOT_REGULAR,	/* not a regular file (a FIFO, a device) */
	SNAPSHOT_E_WRONG_SECRET,	/* keyed-hash secret id differs from the
				   node's (or clear vs keyed) */
	SNAPSHOT_E_COUNT
};

/* A short fixed phrase for a code ("bad signature", "truncated"...). */
const char *snapshot_strerror(int code);

/* The header, decoded.  Numbers in host order. */
struct snapshot_header {
	unsigned version;			/* 1 or 2 */
	unsigned flags;
	int type;				/* enum snapshot_type */
	char catalog_id[CATALOG_ID_MAX + 1];
	uint64_t serial;
	uint64_t base;				/* 0 for a full snapshot */
	uint64_t epoch;				/* 0 in version 1 */
	int64_t created, expires;		/* unix time */
	uint64_t records;
	uint64_t payload_len;
	unsigned char payload_hash[SIGN_SHA256_LEN];
	unsigned char key_id_raw[SIGN_KEY_ID_LEN];
	char key_id[SIGN_KEY_ID_HEX];		/* hex */
	unsigned char hash_id[SNAPSHOT_HASH_ID_LEN];	/* keyed-hash secret
						   id; zero unless flagged */
	uint64_t payload_offset;		/* v2: 320, v1: 256 */
	uint64_t file_size;			/* the whole file */
};

/*
 * Decode and check the header from the first len bytes of a file (len may
 * be the whole file): magic, version, flags and every field, no signature.
 * The result is NOT to be trusted unless a signature check follows; alone
 * it serves to show what a refused file claims.  0, or -1 with code, err.
 */
int snapshot_parse_header(const void *data, size_t len,
			  struct snapshot_header *h, int *code,
			  char *err, size_t errlen);

/*
 * Encode h (version 2; version, magic and reserved bytes filled in here)
 * into the SNAPSHOT_HEADER_LEN bytes at out.  For writers.
 */
void snapshot_encode_header(const struct snapshot_header *h,
			    unsigned char *out);

/* Record framing, for writers: the bytes of one record are
 * full [u16 klen][u16 vlen][key][value], delta [u8 op] then the same. */
#define SNAPSHOT_FULL_HDR   4
#define SNAPSHOT_DELTA_HDR  5
#define SNAPSHOT_VALUE_MIN  5		/* kind + two u16 lengths */
#define SNAPSHOT_RECORD_MAX (SNAPSHOT_DELTA_HDR + CATALOG_KEY_MAX + \
			     CATALOG_VALUE_MAX)
/* 1 when a key may go into a snapshot: 1 .. CATALOG_KEY_MAX bytes, no
 * control character. */
int snapshot_key_ok(const void *key, size_t len);
/* LMDB's default key order: memcmp, then the shorter first. */
int snapshot_keycmp(const void *a, size_t al, const void *b, size_t bl);

/* How snapshot_read() treats a file. */
struct snapshot_source {
	const char *copy_dir;	/* the private copy: an unnamed file in this
				   directory, which only the caller may
				   write; NULL: anonymous memory */
	uint64_t max_size;	/* refuse a larger file before reading it;
				   0: SNAPSHOT_FILE_MAX */
	int accept_v1;		/* read format version 1 too, which can only
				   be verified after the whole file has been
				   copied and hashed */
};

struct snapshot;

/*
 * Read and check the snapshot in the regular file open at fd (read from
 * offset 0 with pread; fd stays the caller's).  In order: fstat (a
 * regular file: else SNAPSHOT_E_NOT_REGULAR; not over max_size), the
 * header and its signature (at most SNAPSHOT_PREFIX_LEN bytes read), the
 * file size against the header, the key id trusted by kr, the header
 * signature; then the payload is copied into private storage while being
 * hashed, the hash compared, and every record checked in the copy.
 * Returns the snapshot (close with snapshot_close()), whose header and
 * records come from its own copy only; or NULL with *code and a message
 * that starts with label.
 */
struct snapshot *snapshot_read(int fd, const char *label,
			       const struct snapshot_source *src,
			       const struct sign_keyring *kr, int *code,
			       char *err, size_t errlen);

/*
 * Open path (without blocking: a FIFO is refused, never waited on) and
 * snapshot_read() it into anonymous memory, both versions accepted.  For
 * the admin tool and the replicator's own files.
 */
struct snapshot *snapshot_open(const char *path, const struct sign_keyring *kr,
			       int *code, char *err, size_t errlen);

/* The same checks over bytes in memory, borrowed and not copied: the
 * caller guarantees nobody changes them while the snapshot is open.
 * Both versions.  label names them in messages (NULL: "snapshot"). */
struct snapshot *snapshot_open_mem(const void *data, size_t len,
				   const char *label,
				   const struct sign_keyring *kr,
				   int *code, char *err, size_t errlen);

/* Release the copy and free; NULL is harmless. */
void snapshot_close(struct snapshot *);

/* The checked header; valid until snapshot_close(). */
const struct snapshot_header *snapshot_header(const struct snapshot *);
/* The name given when it was opened; valid until snapshot_close(). */
const char *snapshot_label(const struct snapshot *);

/*
 * The next record in key order: *op is SNAPSHOT_PUT (rec complete) or
 * SNAPSHOT_DEL (only rec->key/keylen set).  rec points into the private
 * copy: valid until snapshot_close().  Returns 1, 0 at the end, -1 on a
 * broken record (cannot happen after a successful open).
 */
int snapshot_next(struct snapshot *, int *op, struct catalog_rec *rec);
/* Start the iteration over. */
void snapshot_rewind(struct snapshot *);
/* Payload offset of the next record (for messages). */
uint64_t snapshot_position(const struct snapshot *);

/*
 * Verify-only (dircat verify, the replicator's spool): snapshot_open(),
 * fill *h, close.  0 valid, or -1 with code and err.
 */
int snapshot_verify(const char *path, const struct sign_keyring *kr,
		    struct snapshot_header *h, int *code,
		    char *err, size_t errlen);

#endif
