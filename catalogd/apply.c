/*
 * apply.c - catalogd's install policy and the write that installs a
 * verified snapshot; see apply.h.
 *
 * The checks that depend on what is installed (rollback, delta base) are
 * made inside the write transaction, against the serial and epoch that
 * transaction sees, so no other writer can slip in between.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "apply.h"
#include "catalog.h"
#include "keyhash.h"
#include "snapshot.h"
#include "util.h"

/* Set *code and err to "LABEL: PHRASE: detail"; returns -1. */
__attribute__((format(printf, 6, 7)))
static int apply_fail(const struct snapshot *s, int *code, char *err,
		      size_t errlen, int c, const char *fmt, ...)
{
	char detail[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	*code = c;
	util_err(err, errlen, "%s: %s: %s", snapshot_label(s),
		 snapshot_strerror(c), detail);
	return -1;
}

/* In a keyed-hash snapshot every key must be a hash: a writer's bug
 * must not store an address here in clear. */
static int apply_key_ok(struct snapshot *s, const struct catalog_rec *rec)
{
	return !(snapshot_header(s)->flags & SNAPSHOT_FLAG_KEYED_HASH) ||
	       keyhash_key_ok(rec->key, rec->keylen);
}

/* catalog_txn_replace_all() source: the records of a full snapshot. */
static int apply_feed_next(void *arg, struct catalog_rec *rec, char *err,
			   size_t errlen)
{
	struct snapshot *s = arg;
	int op, rc = snapshot_next(s, &op, rec);

	if (rc == 1 && !apply_key_ok(s, rec)) {
		util_err(err, errlen, "a key that is not a keyed hash in a "
			 "keyed-hash snapshot, before payload byte %llu",
			 (unsigned long long)snapshot_position(s));
		return -1;
	}
	if (rc < 0 || (rc == 1 && op != SNAPSHOT_PUT)) {
		util_err(err, errlen, "broken record at payload byte %llu",
			 (unsigned long long)snapshot_position(s));
		return -1;
	}
	return rc;
}

/* Every record of a delta: puts and deletes.  0 or -1 with e. */
static int apply_delta(struct snapshot *s, struct catalog_txn *t, char *e,
		       size_t elen)
{
	struct catalog_rec rec;
	int op, rc;

	while ((rc = snapshot_next(s, &op, &rec)) == 1) {
		if (!apply_key_ok(s, &rec)) {
			util_err(e, elen, "a key that is not a keyed hash in "
				 "a keyed-hash snapshot, before payload byte "
				 "%llu", (unsigned long long)snapshot_position(s));
			return -1;
		}
		if (op == SNAPSHOT_PUT)
			rc = catalog_txn_put(t, &rec, e, elen);
		else
			rc = catalog_txn_del(t, rec.key, rec.keylen, e, elen);
		if (rc < 0)
			return -1;
	}
	if (rc < 0)
		util_err(e, elen, "broken record at payload byte %llu",
			 (unsigned long long)snapshot_position(s));
	return rc;
}

/* The checks against the installed serial and epoch, which t sees. */
static int apply_check_order(struct snapshot *s, struct catalog_txn *t,
			     int *code, char *err, size_t errlen)
{
	const struct snapshot_header *h = snapshot_header(s);
	uint64_t serial = catalog_txn_serial_before(t);
	uint64_t epoch = catalog_txn_epoch_before(t);

	if (h->epoch < epoch)
		return apply_fail(s, code, err, errlen, SNAPSHOT_E_ROLLBACK,
				  "epoch %llu is older than the installed "
				  "epoch %llu", (unsigned long long)h->epoch,
				  (unsigned long long)epoch);
	/* Nodes order by (epoch, serial): a new epoch - started by an
	 * administrator on the internal host, signed like any snapshot -
	 * may bring any serial, even a lower one, so that a rebuilt or
	 * restored catalog is not refused for ever; within an epoch the
	 * serial must rise, so a replayed older snapshot still fails. */
	if (h->epoch == epoch && h->serial <= serial)
		return apply_fail(s, code, err, errlen, SNAPSHOT_E_ROLLBACK,
				  "serial %llu is not newer than the installed "
				  "serial %llu (epoch %llu)",
				  (unsigned long long)h->serial,
				  (unsigned long long)serial,
				  (unsigned long long)epoch);
	if (h->type == SNAPSHOT_DELTA &&
	    (h->base != serial || h->epoch != epoch))
		return apply_fail(s, code, err, errlen, SNAPSHOT_E_WRONG_BASE,
				  "a delta from serial %llu (epoch %llu), but "
				  "serial %llu (epoch %llu) is installed",
				  (unsigned long long)h->base,
				  (unsigned long long)h->epoch,
				  (unsigned long long)serial,
				  (unsigned long long)epoch);
	return 0;
}

/* Keyed-hash mode: the snapshot must be hashed exactly when the node
 * has a secret, and with that secret. */
static int apply_check_secret(struct snapshot *s,
			      const unsigned char *hash_id, int *code,
			      char *err, size_t errlen)
{
	const struct snapshot_header *h = snapshot_header(s);
	int keyed = !!(h->flags & SNAPSHOT_FLAG_KEYED_HASH);
	char a[KEYHASH_ID_HEX], b[KEYHASH_ID_HEX];

	if (keyed)
		keyhash_id_hex(h->hash_id, a);
	if (hash_id)
		keyhash_id_hex(hash_id, b);
	if (keyed && !hash_id)
		return apply_fail(s, code, err, errlen, SNAPSHOT_E_WRONG_SECRET,
				  "keys hashed with secret %s, but this node "
				  "has no hash_secret", a);
	if (!keyed && hash_id)
		return apply_fail(s, code, err, errlen, SNAPSHOT_E_WRONG_SECRET,
				  "addresses in clear, but this node's "
				  "hash_secret (secret %s) asks for hashed "
				  "keys: refused, so that no address is "
				  "stored here in clear", b);
	if (keyed && memcmp(h->hash_id, hash_id, KEYHASH_ID_LEN))
		return apply_fail(s, code, err, errlen, SNAPSHOT_E_WRONG_SECRET,
				  "keys hashed with secret %s, but this "
				  "node's hash_secret is secret %s", a, b);
	return 0;
}

/* A delta must be hashed like the installed records it changes; the
 * installed secret id is in the catalog's meta APPLY_META_HASH_ID.  A
 * keyed-hash full snapshot must not go over records in clear (records:
 * how many are installed; path: the catalog file, for the message). */
static int apply_check_installed_secret(struct snapshot *s,
					struct catalog_txn *t,
					uint64_t clear_records,
					const char *path, int *code,
					char *err, size_t errlen)
{
	const struct snapshot_header *h = snapshot_header(s);
	unsigned char have[KEYHASH_ID_LEN];
	size_t len = 0;
	int rc = catalog_txn_meta_get(t, APPLY_META_HASH_ID, have,
				      sizeof(have), &len);
	int keyed = !!(h->flags & SNAPSHOT_FLAG_KEYED_HASH);

	if (rc < 0 || (rc == 1 && len != KEYHASH_ID_LEN))
		return apply_fail(s, code, err, errlen, SNAPSHOT_E_CATALOG,
				  "cannot read the installed secret id");
	/* A keyed-hash full snapshot over clear records: LMDB keeps the
	 * pages it frees, so the clear addresses and owners would stay
	 * readable in the file.  The node's trouble, not the snapshot's:
	 * it stays in the inbox until the file is removed. */
	if (h->type != SNAPSHOT_DELTA && keyed && rc == 0 && clear_records)
		return apply_fail(s, code, err, errlen, SNAPSHOT_E_CATALOG,
				  "%s holds addresses in clear from before "
				  "hash_secret was set, and LMDB keeps freed "
				  "pages, so they would stay readable in it: "
				  "stop catalogd, remove that file and its "
				  "-lock file, and start it again (this "
				  "snapshot is then installed)",
				  path);
	if (h->type != SNAPSHOT_DELTA)
		return 0;
	if (rc != keyed || (keyed && memcmp(have, h->hash_id, len)))
		return apply_fail(s, code, err, errlen, SNAPSHOT_E_WRONG_BASE,
				  "a delta hashed %s, but the installed "
				  "catalog is %s: a full snapshot is needed",
				  keyed ? "with a secret" : "not at all",
				  rc ? "hashed with another secret" : "clear");
	return 0;
}

int apply_snapshot(struct snapshot *s, struct catalog *cat,
		   const char *expect_id, int64_t now,
		   struct catalog_diff *diff, int *code, char *err,
		   size_t errlen)
{
	return apply_snapshot_keyed(s, cat, expect_id, NULL, now, diff,
				    code, err, errlen);
}

int apply_snapshot_keyed(struct snapshot *s, struct catalog *cat,
			 const char *expect_id, const unsigned char *hash_id,
			 int64_t now, struct catalog_diff *diff, int *code,
			 char *err, size_t errlen)
{
	const struct snapshot_header *h = snapshot_header(s);
	struct catalog_info info;
	struct catalog_txn *t;
	char e[512], t1[32], t2[32];
	int rc;

	*code = SNAPSHOT_OK;
	e[0] = '\0';
	if (!expect_id || strcmp(h->catalog_id, expect_id))
		return apply_fail(s, code, err, errlen,
				  SNAPSHOT_E_WRONG_CATALOG,
				  "for catalog \"%s\", this node serves \"%s\"",
				  h->catalog_id, expect_id ? expect_id : "");
	if (apply_check_secret(s, hash_id, code, err, errlen) < 0)
		return -1;
	if (h->expires <= now)
		return apply_fail(s, code, err, errlen, SNAPSHOT_E_EXPIRED,
				  "expired at %s (now %s)",
				  util_time_iso((time_t)h->expires, t1,
						sizeof(t1)),
				  util_time_iso((time_t)now, t2, sizeof(t2)));
	if (catalog_info(cat, &info, e, sizeof(e)) < 0)
		return apply_fail(s, code, err, errlen, SNAPSHOT_E_CATALOG,
				  "%s", e);
	if (info.id[0] && strcmp(info.id, h->catalog_id))
		return apply_fail(s, code, err, errlen,
				  SNAPSHOT_E_WRONG_CATALOG,
				  "for catalog \"%s\", but %s holds catalog "
				  "\"%s\" (remove that file to switch)",
				  h->catalog_id, catalog_path(cat), info.id);
	t = catalog_write_begin(cat, e, sizeof(e));
	if (!t)
		return apply_fail(s, code, err, errlen, SNAPSHOT_E_CATALOG,
				  "%s", e);
	if (apply_check_order(s, t, code, err, errlen) < 0 ||
	    apply_check_installed_secret(s, t, info.records,
					 catalog_path(cat), code, err,
					 errlen) < 0) {
		catalog_txn_abort(t);
		return -1;
	}
	snapshot_rewind(s);
	if (h->type == SNAPSHOT_FULL)
		rc = catalog_txn_replace_all(t, apply_feed_next, s, e,
					     sizeof(e));
	else
		rc = apply_delta(s, t, e, sizeof(e));
	snapshot_rewind(s);
	if (rc < 0) {
		catalog_txn_abort(t);
		return apply_fail(s, code, err, errlen, SNAPSHOT_E_CATALOG,
				  "%s", e[0] ? e : "broken record");
	}
	catalog_txn_set_id(t, h->catalog_id);
	catalog_txn_set_serial(t, h->serial, h->created);
	catalog_txn_set_epoch(t, h->epoch);
	catalog_txn_set_expires(t, h->expires);
	catalog_txn_set_key_id(t, h->key_id);
	catalog_txn_set_history(t, 0);
	if (h->flags & SNAPSHOT_FLAG_KEYED_HASH)
		rc = catalog_txn_meta_put(t, APPLY_META_HASH_ID, h->hash_id,
					  SNAPSHOT_HASH_ID_LEN, e, sizeof(e));
	else
		rc = catalog_txn_meta_del(t, APPLY_META_HASH_ID);
	if (rc < 0) {
		catalog_txn_abort(t);
		return apply_fail(s, code, err, errlen, SNAPSHOT_E_CATALOG,
				  "%s", e[0] ? e : "secret id not stored");
	}
	if (diff)
		catalog_txn_diff(t, diff);
	if (catalog_txn_commit(t, e, sizeof(e)) == 0)
		return apply_fail(s, code, err, errlen, SNAPSHOT_E_CATALOG,
				  "%s", e);
	return 0;
}
