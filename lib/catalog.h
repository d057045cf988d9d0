/*
 * catalog.h - the catalog: addresses with their kind, owners and extra
 * fields, in one LMDB file, with a serial and a bounded change history.
 *
 * Writers: catalog_write_begin(), then catalog_txn_replace_all() (the
 * aggregator, or a full snapshot) or catalog_txn_put()/del() (a delta),
 * then commit or abort: one LMDB write transaction, so readers see the old
 * version until the commit and a crash leaves the old one.  The serial
 * rises by one per commit that changed something (or is set explicitly).
 * Readers: catalog_read_begin(), catalog_get() / catalog_foreach(),
 * catalog_read_end(); they never block and are never blocked.
 * A catalog opened with CATALOG_PROVENANCE also holds the aggregator's
 * watch-mode bookkeeping (which records each directory entry claims) in
 * tables of its own (catalog_txn_aux_*) and named meta values such as a
 * source's sync cookie (catalog_txn_meta_*), written in the same
 * transaction as the records they describe.
 * Layout on disk: schema/catalog.md.  Limits: CATALOG_* below.
 */
#ifndef DIRCAT_CATALOG_H
#define DIRCAT_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#define CATALOG_KEY_MAX     254	/* a normalised address or domain */
#define CATALOG_OWNERS_MAX  2048	/* comma-separated owner logins */
#define CATALOG_EXTRA_MAX   2048	/* "name=value" lines */
#define CATALOG_VALUE_MAX   (5 + CATALOG_OWNERS_MAX + CATALOG_EXTRA_MAX)
#define CATALOG_ID_MAX      64	/* catalog id: [A-Za-z0-9._-] */
#define CATALOG_HISTORY_DEFAULT 64	/* serials of change history kept */
#define CATALOG_MAPSIZE_DEFAULT (16ULL << 30)	/* address space, bytes */
#define CATALOG_AUX_KEY_MAX 511	/* LMDB's key limit: an aux table key */
#define CATALOG_AUX_VALUE_MAX (4 << 20)	/* an aux table value, bytes */
#define CATALOG_META_NAME_MAX 128	/* a named meta value's name */
#define CATALOG_META_VALUE_MAX 65536	/* and its value, bytes */

enum catalog_kind {
	CATALOG_PERSON = 1,
	CATALOG_GROUP = 2,
	CATALOG_MAILIN = 3,
	CATALOG_DOMAIN = 4	/* a local domain: key without '@' */
};
#define CATALOG_KINDS 5

/* "person", "group", "mailin", "domain"; "?" for others. */
const char *catalog_kind_name(int kind);
/* The kind for a name, or 0. */
int catalog_kind_parse(const char *name);
/* 1 when id is a valid catalog id. */
int catalog_id_valid(const char *id);

/* One record.  Pointers borrowed: valid as long as what they point into. */
struct catalog_rec {
	const char *key;
	size_t keylen;
	int kind;
	const char *owners;	/* "jsmith,adm" (no spaces), may be empty */
	size_t ownerslen;
	const char *extra;	/* "name=value\nname=value", may be empty */
	size_t extralen;
};

/* The extra field that marks an address as internal-only (a group that
 * takes mail from internal senders only; the aggregator's internal_only
 * formula sets it, catalogd's policy service enforces it).  It is kept by
 * every snapshot projection. */
#define CATALOG_INTERNAL_ONLY_NAME "internal_only"
#define CATALOG_INTERNAL_ONLY_LINE "internal_only=yes"
/* 1 when the extra fields extra[0..len) hold CATALOG_INTERNAL_ONLY_LINE
 * as a whole line, else 0. */
int catalog_extra_internal_only(const char *extra, size_t len);

/* Encode rec's value (not the key) into out.  Returns its length, or 0
 * when a field is over its limit or out is too small. */
size_t catalog_rec_encode(const struct catalog_rec *rec, unsigned char *out,
			  size_t outsize);
/* Decode a value; key fields untouched.  0, or -1 when malformed. */
int catalog_rec_decode(const unsigned char *val, size_t len,
		       struct catalog_rec *rec);

/* What a catalog says about itself. */
struct catalog_info {
	char id[CATALOG_ID_MAX + 1];	/* "" when never set */
	uint64_t serial;		/* 0: empty, never written */
	uint64_t epoch;			/* of the installed snapshot; 0 when
					   none was set (schema/snapshot.md) */
	int64_t created;		/* when this serial was made */
	int64_t expires;		/* 0: none (set on DMZ nodes) */
	int64_t installed;		/* when last written here */
	char key_id[65];		/* signing key of the installed snapshot */
	uint64_t count[CATALOG_KINDS];	/* records by kind */
	uint64_t records;		/* all records */
	uint64_t history_oldest;	/* lowest base serial a delta can start
					   from; 0 when there is no history */
};

struct catalog;
struct catalog_read;
struct catalog_txn;

#define CATALOG_RDONLY  0x01	/* open for reading only */
#define CATALOG_NOSYNC  0x02	/* no fsync per commit (bulk tests only) */
#define CATALOG_PROVENANCE 0x04	/* open (create) the aux tables too */

/* Open (creating when writable) the catalog file at path.  NULL with err. */
struct catalog *catalog_open(const char *path, unsigned flags,
			     char *err, size_t errlen);
void catalog_close(struct catalog *);
const char *catalog_path(const struct catalog *);

/* Start a read; never blocks.  NULL with err. */
struct catalog_read *catalog_read_begin(struct catalog *, char *err,
					size_t errlen);
/* End it; what it returned becomes invalid. */
void catalog_read_end(struct catalog_read *);
/* Which committed version of the file the read sees: it differs between
 * two reads exactly when a write was committed in between (any process).
 * For caches of what a version holds; meaningless across two catalogs. */
uint64_t catalog_read_version(const struct catalog_read *);
/* 1 found (rec filled, valid until read_end), 0 not found, -1 error. */
int catalog_get(struct catalog_read *, const char *key, size_t keylen,
		struct catalog_rec *rec);
/* Every record in key order; stops at fn's first non-zero return and
 * returns it; -1 on a read error. */
int catalog_foreach(struct catalog_read *,
		    int (*fn)(void *arg, const struct catalog_rec *rec),
		    void *arg);
/* The same as a pull iterator: next returns 1 (rec valid until the next
 * call or read_end), 0 at the end, -1 on error. */
struct catalog_iter;
struct catalog_iter *catalog_iter_new(struct catalog_read *);
int catalog_iter_next(struct catalog_iter *, struct catalog_rec *rec);
void catalog_iter_free(struct catalog_iter *);
int catalog_read_info(struct catalog_read *, struct catalog_info *);
/* Convenience: begin, info, end. */
int catalog_info(struct catalog *, struct catalog_info *, char *err,
		 size_t errlen);

/*
 * The net changes from serial base to the current one, in key order: fn
 * gets each touched key with the current record (present) or NULL
 * (removed).  Returns 0, 1 when base is not covered by the history (send
 * a full snapshot), or -1 on error / fn's non-zero return.
 */
int catalog_changes_since(struct catalog_read *, uint64_t base,
			  int (*fn)(void *arg, const char *key, size_t keylen,
				    const struct catalog_rec *rec_or_null),
			  void *arg);

/* Start the (single) write transaction.  NULL with err. */
struct catalog_txn *catalog_write_begin(struct catalog *, char *err,
					size_t errlen);
/* Insert or replace.  Returns 1 changed, 0 identical, -1 error. */
int catalog_txn_put(struct catalog_txn *, const struct catalog_rec *,
		    char *err, size_t errlen);
/* Returns 1 removed, 0 absent, -1 error. */
int catalog_txn_del(struct catalog_txn *, const char *key, size_t keylen,
		    char *err, size_t errlen);
/*
 * Make the records exactly those next() yields, which must come in
 * strictly ascending key order (memcmp, shorter first): only what differs
 * is written.  next returns 1 with *rec filled, 0 at the end, -1 on error
 * (err set by it).  0 or -1 with err.
 */
int catalog_txn_replace_all(struct catalog_txn *,
			    int (*next)(void *arg, struct catalog_rec *rec,
					char *err, size_t errlen),
			    void *arg, char *err, size_t errlen);

/* What the transaction changed so far. */
struct catalog_diff {
	uint64_t added, removed, changed, unchanged;
	uint64_t count[CATALOG_KINDS];	/* records by kind after commit */
	uint64_t records, records_before;
};
void catalog_txn_diff(const struct catalog_txn *, struct catalog_diff *);
/* The i-th change: op '+' added, '-' removed, '~' changed; key borrowed. */
int catalog_txn_change(const struct catalog_txn *, size_t i, int *op,
		       const char **key, size_t *keylen);
size_t catalog_txn_nchanges(const struct catalog_txn *);

/* Metadata to set at commit.  id passes catalog_id_valid(); a key id is
 * at most 64 bytes (hex).  Longer is a bug: the program aborts. */
void catalog_txn_set_id(struct catalog_txn *, const char *id);
/* An explicit serial (a DMZ node installing a snapshot); default: +1 when
 * something changed. */
void catalog_txn_set_serial(struct catalog_txn *, uint64_t serial,
			    int64_t created);
/* The epoch to record (a DMZ node: the snapshot's); default: unchanged. */
void catalog_txn_set_epoch(struct catalog_txn *, uint64_t epoch);
/* The epoch recorded before this transaction. */
uint64_t catalog_txn_epoch_before(const struct catalog_txn *);
void catalog_txn_set_expires(struct catalog_txn *, int64_t expires);
void catalog_txn_set_key_id(struct catalog_txn *, const char *key_id);
/* How many serials of history to keep (0: none, e.g. on DMZ nodes). */
void catalog_txn_set_history(struct catalog_txn *, unsigned max);
/* Serial the commit will give; valid before commit. */
uint64_t catalog_txn_serial_before(const struct catalog_txn *);

/* Commit only bookkeeping (aux tables, named meta): the serial, history
 * and created time stay.  Changing a record in such a transaction is a
 * bug (the commit refuses it). */
void catalog_txn_keep_serial(struct catalog_txn *);

/*
 * Aux tables (CATALOG_PROVENANCE only): plain ordered key -> value maps
 * for the aggregator's watch mode; the catalog attaches no meaning to
 * them.  Keys 1..CATALOG_AUX_KEY_MAX bytes, values at most
 * CATALOG_AUX_VALUE_MAX.  get: 1 found (*val valid until the next write
 * in this transaction), 0 not found, -1 error.  put: 0 / -1.  del: 1
 * removed, 0 absent, -1.  scan calls fn for every key starting with
 * prefix (plen 0: all), in key order, and stops at fn's first non-zero
 * return, which it returns; fn must not write to the table it scans.
 */
enum catalog_aux {
	CATALOG_AUX_ENTRIES = 0,	/* entry id -> what it contributes */
	CATALOG_AUX_CLAIMS,		/* address, entry id -> kind */
	CATALOG_AUX_DNS,		/* DN hash, entry id -> "" */
	CATALOG_AUX_REFS,		/* owner DN hash, entry id -> "" */
	CATALOG_AUX_TABLES
};
int catalog_txn_aux_get(struct catalog_txn *, int table, const void *key,
			size_t keylen, const void **val, size_t *vallen);
int catalog_txn_aux_put(struct catalog_txn *, int table, const void *key,
			size_t keylen, const void *val, size_t vallen,
			char *err, size_t errlen);
int catalog_txn_aux_del(struct catalog_txn *, int table, const void *key,
			size_t keylen, char *err, size_t errlen);
int catalog_txn_aux_scan(struct catalog_txn *, int table, const void *prefix,
			 size_t plen,
			 int (*fn)(void *arg, const void *key, size_t keylen,
				   const void *val, size_t vallen),
			 void *arg);
/* The same as a pull iterator over the whole table: next returns 1 with
 * the fields set (valid until the next call or a write), 0 at the end,
 * -1 on error. */
struct catalog_aux_iter;
struct catalog_aux_iter *catalog_aux_iter_new(struct catalog_txn *, int table);
int catalog_aux_iter_next(struct catalog_aux_iter *, const void **key,
			  size_t *keylen, const void **val, size_t *vallen);
void catalog_aux_iter_free(struct catalog_aux_iter *);
/* Empty a table.  0 / -1. */
int catalog_txn_aux_clear(struct catalog_txn *, int table);
/* Entries in a table (for status and tests); -1 on error. */
int64_t catalog_txn_aux_count(struct catalog_txn *, int table);

/*
 * Named meta values ("cookie.corp"): name 1..CATALOG_META_NAME_MAX bytes
 * of [a-z0-9._-] not clashing with the catalog's own fields (they are
 * kept under a "x." prefix), value up to CATALOG_META_VALUE_MAX bytes.
 * get: 1 found (copied into buf, *len set), 0 absent, -1 error or too
 * big for size.  put/del: 0 / -1.  The read variant works on any catalog.
 */
int catalog_txn_meta_get(struct catalog_txn *, const char *name, void *buf,
			 size_t size, size_t *len);
int catalog_txn_meta_put(struct catalog_txn *, const char *name,
			 const void *val, size_t len, char *err,
			 size_t errlen);
int catalog_txn_meta_del(struct catalog_txn *, const char *name);
/* Remove every named meta value whose name starts with prefix. */
int catalog_txn_meta_del_prefix(struct catalog_txn *, const char *prefix);
int catalog_read_meta(struct catalog_read *, const char *name, void *buf,
		      size_t size, size_t *len);

/* Commit (durably) and free.  Returns the catalog's serial after it, or
 * 0 with err on failure (nothing changed then). */
uint64_t catalog_txn_commit(struct catalog_txn *, char *err, size_t errlen);
/* Throw everything away and free. */
void catalog_txn_abort(struct catalog_txn *);

#endif
