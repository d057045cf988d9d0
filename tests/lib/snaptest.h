/*
 * snaptest.h - what the snapshot tests share (test_snapshot.c,
 * test_apply.c): a scratch directory, two signing keys, catalogs changed
 * from "key kind [owners]" lines, fingerprints of their records, and
 * snapshots written from them.  Static functions: each test includes it.
 */
#ifndef DIRCAT_SNAPTEST_H
#define DIRCAT_SNAPTEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog.h"
#include "check.h"
#include "sign.h"
#include "snapshot.h"
#include "snapwrite.h"
#include "util.h"

#define T0 1790000000LL		/* a fixed "now" */
#define LIFE (7 * 86400LL)

static char dir[160];
static struct sign_key *key_a, *key_b;
static struct sign_keyring *ring_a, *ring_b, *ring_ab;

static inline const char *path_in(const char *name)
{
	static char p[8][256];
	static int i;

	i = (i + 1) % 8;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
	return p[i];
}

/* Apply "key kind [owners]" puts and "key" deletes in one commit. */
static inline uint64_t change(struct catalog *cat,
			      const char *const *puts,
			      const char *const *dels)
{
	struct catalog_txn *t;
	char err[512];
	uint64_t serial;

	t = catalog_write_begin(cat, err, sizeof(err));
	if (!t) {
		printf("FAIL: setup: %s\n", err);
		exit(1);
	}
	catalog_txn_set_id(t, "example-corp");
	for (; puts && *puts; puts++) {
		struct catalog_rec rec;
		char kind[16];
		const char *s = *puts, *sp = strchr(s, ' '), *sp2;

		memset(&rec, 0, sizeof(rec));
		rec.key = s;
		rec.keylen = (size_t)(sp - s);
		sp2 = strchr(sp + 1, ' ');
		snprintf(kind, sizeof(kind), "%.*s",
			 (int)(sp2 ? (size_t)(sp2 - sp - 1) : strlen(sp + 1)),
			 sp + 1);
		rec.kind = catalog_kind_parse(kind);
		if (sp2) {
			rec.owners = sp2 + 1;
			rec.ownerslen = strlen(sp2 + 1);
		}
		if (catalog_txn_put(t, &rec, err, sizeof(err)) < 0) {
			printf("FAIL: setup put: %s\n", err);
			exit(1);
		}
	}
	for (; dels && *dels; dels++)
		catalog_txn_del(t, *dels, strlen(*dels), err, sizeof(err));
	serial = catalog_txn_commit(t, err, sizeof(err));
	if (!serial) {
		printf("FAIL: setup commit: %s\n", err);
		exit(1);
	}
	return serial;
}

static inline int digest_one(void *arg, const struct catalog_rec *rec)
{
	struct sign_sha256 *c = arg;
	unsigned char k = (unsigned char)rec->kind;

	sign_sha256_update(c, rec->key, rec->keylen);
	sign_sha256_update(c, "\t", 1);
	sign_sha256_update(c, &k, 1);
	sign_sha256_update(c, rec->owners, rec->ownerslen);
	sign_sha256_update(c, "\t", 1);
	sign_sha256_update(c, rec->extra, rec->extralen);
	sign_sha256_update(c, "\n", 1);
	return 0;
}

/* A fingerprint of every record plus the metadata a snapshot sets. */
static inline void digest(struct catalog *cat, unsigned char out[32])
{
	struct sign_sha256 *c = sign_sha256_new();
	struct catalog_read *r;
	struct catalog_info info;
	char err[256];

	r = catalog_read_begin(cat, err, sizeof(err));
	if (r) {
		catalog_foreach(r, digest_one, c);
		catalog_read_info(r, &info);
		catalog_read_end(r);
		sign_sha256_update(c, &info.serial, sizeof(info.serial));
		sign_sha256_update(c, &info.epoch, sizeof(info.epoch));
		sign_sha256_update(c, &info.expires, sizeof(info.expires));
		sign_sha256_update(c, info.id, strlen(info.id));
		sign_sha256_update(c, info.key_id, strlen(info.key_id));
	}
	sign_sha256_final(c, out);
}

/* Records only, to compare a node with its source. */
static inline void records_digest(struct catalog *cat,
				  unsigned char out[32])
{
	struct sign_sha256 *c = sign_sha256_new();
	struct catalog_read *r;
	char err[256];

	r = catalog_read_begin(cat, err, sizeof(err));
	if (r) {
		catalog_foreach(r, digest_one, c);
		catalog_read_end(r);
	}
	sign_sha256_final(c, out);
}

static inline int same_records(struct catalog *a, struct catalog *b)
{
	unsigned char da[32], db[32];

	records_digest(a, da);
	records_digest(b, db);
	return !memcmp(da, db, 32);
}

static inline struct catalog *cat_new(const char *name)
{
	char err[256];
	struct catalog *cat;

	unlink(path_in(name));
	cat = catalog_open(path_in(name), CATALOG_NOSYNC, err, sizeof(err));
	if (!cat) {
		printf("FAIL: setup: %s\n", err);
		exit(1);
	}
	return cat;
}

/* A snapshot of cat as name, signed by key A: with delta set, a delta
 * from base; else a full one.  What snapwrite_full/delta return. */
static inline int write_snap(struct catalog *cat, int delta, uint64_t base,
			     const struct snapwrite_opts *o, const char *name,
			     struct snapwrite_stats *st)
{
	struct catalog_read *r;
	char err[512];
	int rc;

	r = catalog_read_begin(cat, err, sizeof(err));
	if (!r)
		return -1;
	if (delta)
		rc = snapwrite_delta(r, base, o, key_a, path_in(name), st, err,
				     sizeof(err));
	else
		rc = snapwrite_full(r, o, key_a, path_in(name), st, err,
				    sizeof(err));
	if (rc < 0)
		printf("      write %s: %s\n", name, err);
	catalog_read_end(r);
	return rc;
}

static inline int write_full(struct catalog *cat, const char *id,
			     int64_t created, const char *name,
			     struct snapwrite_stats *st)
{
	struct snapwrite_opts o = { .catalog_id = id, .created = created,
				    .lifetime = LIFE };

	return write_snap(cat, 0, 0, &o, name, st);
}

static inline int write_delta(struct catalog *cat, uint64_t base,
			      int64_t created, const char *name,
			      struct snapwrite_stats *st)
{
	struct snapwrite_opts o = { .created = created, .lifetime = LIFE };

	return write_snap(cat, 1, base, &o, name, st);
}

static inline unsigned char *slurp(const char *name, size_t *len)
{
	char err[256];

	return (unsigned char *)util_read_file(path_in(name), 1 << 26, len,
					       err, sizeof(err));
}

static inline void spit(const char *name, const void *data, size_t len)
{
	char err[256];

	if (util_write_file_atomic(path_in(name), data, len, 0644, err,
				   sizeof(err)) < 0) {
		printf("FAIL: setup: %s\n", err);
		exit(1);
	}
}

/* The scratch directory and the keys: A and B, rings {A}, {B}, {A, B}. */
static inline void snaptest_setup(const char *name)
{
	char err[512];

	if (check_mkdtemp(dir, sizeof(dir), name) < 0) {
		printf("FAIL: mkdtemp\n");
		exit(1);
	}
	key_a = sign_key_generate(err, sizeof(err));
	key_b = sign_key_generate(err, sizeof(err));
	ring_a = sign_keyring_new();
	ring_b = sign_keyring_new();
	ring_ab = sign_keyring_new();
	if (!key_a || !key_b ||
	    sign_keyring_add_key(ring_a, key_a, err, sizeof(err)) < 0 ||
	    sign_keyring_add_key(ring_b, key_b, err, sizeof(err)) < 0 ||
	    sign_keyring_add_key(ring_ab, key_b, err, sizeof(err)) < 0 ||
	    sign_keyring_add_key(ring_ab, key_a, err, sizeof(err)) < 0) {
		printf("FAIL: setup keys: %s\n", err);
		exit(1);
	}
}

static inline void snaptest_teardown(void)
{
	char cmd[256];

	sign_keyring_free(ring_a);
	sign_keyring_free(ring_b);
	sign_keyring_free(ring_ab);
	sign_key_free(key_a);
	sign_key_free(key_b);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("note: could not remove %s\n", dir);
}

#endif
