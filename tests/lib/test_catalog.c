/*
 * test_catalog.c - the LMDB catalog: write, read, replace, serials,
 * change history and deltas, counts, limits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "check.h"
#include "util.h"

struct list {
	const char *const *keys;	/* "addr kind owners" */
	size_t i;
	char owners[64];
};

/* Yield records from "key kind [owners]" strings. */
static int list_next(void *arg, struct catalog_rec *rec, char *err,
		     size_t errlen)
{
	struct list *l = arg;
	const char *s = l->keys[l->i], *sp, *sp2;
	static char kind[16];

	(void)err;
	(void)errlen;
	if (!s)
		return 0;
	l->i++;
	sp = strchr(s, ' ');
	rec->key = s;
	rec->keylen = (size_t)(sp - s);
	sp2 = strchr(sp + 1, ' ');
	snprintf(kind, sizeof(kind), "%.*s",
		 (int)(sp2 ? (size_t)(sp2 - sp - 1) : strlen(sp + 1)), sp + 1);
	rec->kind = catalog_kind_parse(kind);
	if (sp2) {
		rec->owners = sp2 + 1;
		rec->ownerslen = strlen(sp2 + 1);
	}
	return 1;
}

static char dumped[4096];

static int dump_cb(void *arg, const struct catalog_rec *rec)
{
	size_t n = strlen(dumped);

	(void)arg;
	snprintf(dumped + n, sizeof(dumped) - n, "%.*s=%s;", (int)rec->keylen,
		 rec->key, catalog_kind_name(rec->kind));
	return 0;
}

static const char *dump(struct catalog *cat)
{
	char err[256];
	struct catalog_read *r = catalog_read_begin(cat, err, sizeof(err));

	dumped[0] = '\0';
	if (!r)
		return "error";
	catalog_foreach(r, dump_cb, NULL);
	catalog_read_end(r);
	return dumped;
}

static char changes[4096];

static int change_cb(void *arg, const char *key, size_t keylen,
		     const struct catalog_rec *rec)
{
	size_t n = strlen(changes);

	(void)arg;
	snprintf(changes + n, sizeof(changes) - n, "%c%.*s;", rec ? '+' : '-',
		 (int)keylen, key);
	return 0;
}

static int replace(struct catalog *cat, const char *const *keys,
		   struct catalog_diff *d, uint64_t *serial)
{
	char err[256];
	struct list l = { keys, 0, "" };
	struct catalog_txn *t = catalog_write_begin(cat, err, sizeof(err));

	if (!t)
		return -1;
	catalog_txn_set_id(t, "test");
	if (catalog_txn_replace_all(t, list_next, &l, err, sizeof(err)) < 0) {
		printf("replace: %s\n", err);
		catalog_txn_abort(t);
		return -1;
	}
	catalog_txn_diff(t, d);
	*serial = catalog_txn_commit(t, err, sizeof(err));
	return *serial ? 0 : -1;
}

static int count_cb(void *arg, const void *key, size_t keylen,
		    const void *val, size_t vallen)
{
	(void)key;
	(void)keylen;
	(void)val;
	(void)vallen;
	(*(int *)arg)++;
	return 0;
}

/* Aux tables, named meta values, epochs, bookkeeping-only commits. */
static void test_provenance(const char *dir)
{
	char path[512], err[600], big[CATALOG_META_VALUE_MAX + 1], buf[64];
	unsigned char key[CATALOG_AUX_KEY_MAX + 1];
	struct catalog *cat;
	struct catalog_txn *t;
	struct catalog_info info;
	struct catalog_rec rec = { "p@example.com", 13, CATALOG_PERSON, "", 0,
				   "", 0 };
	const void *v;
	size_t vlen, len;
	int n = 0;

	snprintf(path, sizeof(path), "%s/prov.mdb", dir);
	cat = catalog_open(path, CATALOG_PROVENANCE, err, sizeof(err));
	CHECK(cat != NULL, "open with provenance tables: %s", err);
	if (!cat)
		return;
	t = catalog_write_begin(cat, err, sizeof(err));
	memset(key, 'k', sizeof(key));
	CHECK(catalog_txn_aux_put(t, CATALOG_AUX_CLAIMS, "a\0\001x", 4, "\001",
				  1, err, sizeof(err)) == 0 &&
	      catalog_txn_aux_put(t, CATALOG_AUX_CLAIMS, "a\0\002y", 4, "\002",
				  1, err, sizeof(err)) == 0 &&
	      catalog_txn_aux_put(t, CATALOG_AUX_CLAIMS, "ab\0\001z", 5, "\001",
				  1, err, sizeof(err)) == 0, "aux puts");
	CHECK(catalog_txn_aux_put(t, CATALOG_AUX_DNS, key, CATALOG_AUX_KEY_MAX,
				  "", 0, err, sizeof(err)) == 0,
	      "a key of CATALOG_AUX_KEY_MAX bytes");
	CHECK(catalog_txn_aux_put(t, CATALOG_AUX_DNS, key,
				  CATALOG_AUX_KEY_MAX + 1, "", 0, err,
				  sizeof(err)) < 0,
	      "a key of CATALOG_AUX_KEY_MAX + 1 bytes refused");
	catalog_txn_aux_scan(t, CATALOG_AUX_CLAIMS, "a\0", 2, count_cb, &n);
	CHECK(n == 2, "scan of a prefix sees its keys only (%d)", n);
	CHECK(catalog_txn_aux_get(t, CATALOG_AUX_CLAIMS, "ab\0\001z", 5, &v,
				  &vlen) == 1 && vlen == 1, "aux get");
	CHECK(catalog_txn_aux_del(t, CATALOG_AUX_CLAIMS, "ab\0\001z", 5, err,
				  sizeof(err)) == 1 &&
	      catalog_txn_aux_del(t, CATALOG_AUX_CLAIMS, "ab\0\001z", 5, err,
				  sizeof(err)) == 0, "aux del: 1, then 0");
	memset(big, 'c', sizeof(big));
	CHECK(catalog_txn_meta_put(t, "live.cookie.0", "rid=1", 5, err,
				   sizeof(err)) == 0 &&
	      catalog_txn_meta_put(t, "live.cookie.1", big,
				   CATALOG_META_VALUE_MAX, err,
				   sizeof(err)) == 0,
	      "named meta values up to CATALOG_META_VALUE_MAX");
	CHECK(catalog_txn_meta_put(t, "x", big, CATALOG_META_VALUE_MAX + 1, err,
				   sizeof(err)) < 0 &&
	      catalog_txn_meta_put(t, "Bad Name", "", 0, err, sizeof(err)) < 0,
	      "over the limit, or a bad name, refused");
	catalog_txn_set_epoch(t, 7);
	catalog_txn_keep_serial(t);
	err[0] = '\0';
	CHECK(catalog_txn_commit(t, err, sizeof(err)) == 0 && !err[0],
	      "a bookkeeping-only commit keeps serial 0");
	CHECK(catalog_info(cat, &info, err, sizeof(err)) == 0 &&
	      info.serial == 0 && info.epoch == 7, "epoch stored, no serial");
	t = catalog_write_begin(cat, err, sizeof(err));
	CHECK(catalog_txn_meta_get(t, "live.cookie.0", buf, sizeof(buf),
				   &len) == 1 && len == 5 &&
	      !memcmp(buf, "rid=1", 5), "named meta value read back");
	CHECK(catalog_txn_meta_get(t, "live.cookie.1", buf, sizeof(buf),
				   &len) == -1, "too big for the buffer: -1");
	CHECK(catalog_txn_meta_del_prefix(t, "live.") == 0 &&
	      catalog_txn_meta_get(t, "live.cookie.0", buf, sizeof(buf),
				   &len) == 0 &&
	      catalog_txn_meta_get(t, "live.cookie.1", buf, sizeof(buf),
				   &len) == 0, "del_prefix drops them all");
	catalog_txn_put(t, &rec, err, sizeof(err));
	CHECK(catalog_txn_commit(t, err, sizeof(err)) == 1,
	      "the first record makes serial 1");
	t = catalog_write_begin(cat, err, sizeof(err));
	CHECK(catalog_txn_aux_clear(t, CATALOG_AUX_CLAIMS) == 0 &&
	      catalog_txn_aux_count(t, CATALOG_AUX_CLAIMS) == 0 &&
	      catalog_txn_aux_count(t, CATALOG_AUX_DNS) == 1, "aux clear");
	catalog_txn_abort(t);
	catalog_close(cat);
	/* Without the flag the tables are not there for writers. */
	cat = catalog_open(path, 0, err, sizeof(err));
	t = catalog_write_begin(cat, err, sizeof(err));
	CHECK(catalog_txn_aux_put(t, CATALOG_AUX_DNS, "x", 1, "", 0, err,
				  sizeof(err)) < 0,
	      "aux tables need CATALOG_PROVENANCE");
	catalog_txn_abort(t);
	catalog_close(cat);
}

int main(void)
{
	char dir[256], path[512], err[600];
	struct catalog *cat;
	struct catalog_diff d;
	struct catalog_info info;
	struct catalog_read *r;
	struct catalog_rec rec;
	uint64_t serial = 0;
	static const char *const v1[] = {
		"a@example.com person alice", "b@example.com person bob",
		"c@example.com group", "example.com domain", NULL
	};
	static const char *const v2[] = {
		"a@example.com person alice", "b@example.com mailin bob",
		"d@example.com person", "example.com domain", NULL
	};
	static const char *const unsorted[] = {
		"b@example.com person", "a@example.com person", NULL
	};
	unsigned char val[CATALOG_VALUE_MAX];
	struct catalog_rec big = { "x@y", 3, CATALOG_PERSON, NULL,
				   CATALOG_OWNERS_MAX + 1, NULL, 0 };

	if (check_mkdtemp(dir, sizeof(dir), "catalog") < 0)
		return 1;
	snprintf(path, sizeof(path), "%s/catalog.mdb", dir);

	CHECK(catalog_open(path, CATALOG_RDONLY, err, sizeof(err)) == NULL &&
	      strstr(err, "does not exist"), "read-only open of a missing file: %s", err);
	cat = catalog_open(path, 0, err, sizeof(err));
	CHECK(cat != NULL, "open new catalog");
	catalog_info(cat, &info, err, sizeof(err));
	CHECK(info.serial == 0 && info.records == 0, "new catalog is empty, serial 0");

	CHECK(replace(cat, v1, &d, &serial) == 0 && serial == 1, "first write gives serial 1");
	CHECK(d.added == 4 && d.removed == 0, "first write: 4 added");
	CHECK_STR(dump(cat), "a@example.com=person;b@example.com=person;c@example.com=group;example.com=domain;", "dump after first write");
	catalog_info(cat, &info, err, sizeof(err));
	CHECK(info.count[CATALOG_PERSON] == 2 && info.count[CATALOG_GROUP] == 1 &&
	      info.count[CATALOG_DOMAIN] == 1 && info.records == 4, "counts by kind");
	CHECK_STR(info.id, "test", "catalog id stored");
	CHECK(info.history_oldest == 0, "no history after the first serial");

	r = catalog_read_begin(cat, err, sizeof(err));
	CHECK(catalog_get(r, "a@example.com", 13, &rec) == 1 && rec.kind == CATALOG_PERSON &&
	      rec.ownerslen == 5 && !memcmp(rec.owners, "alice", 5), "get a found with owner");
	CHECK(catalog_get(r, "z@example.com", 13, &rec) == 0, "get z not found");
	CHECK(catalog_get(r, "", 0, &rec) == 0, "empty key not found");

	/* Same content again: no new serial, nothing changed. */
	catalog_read_end(r);
	CHECK(replace(cat, v1, &d, &serial) == 0 && serial == 1 && d.unchanged == 4,
	      "unchanged content keeps serial 1 (%llu)", (unsigned long long)serial);

	/* A reader started before a change keeps seeing the old version. */
	r = catalog_read_begin(cat, err, sizeof(err));
	CHECK(replace(cat, v2, &d, &serial) == 0 && serial == 2, "second version serial 2");
	CHECK(d.added == 1 && d.removed == 1 && d.changed == 1 && d.unchanged == 2,
	      "diff: 1 added, 1 removed, 1 changed, 2 unchanged");
	CHECK(catalog_get(r, "c@example.com", 13, &rec) == 1, "old reader still sees c");
	catalog_read_end(r);
	r = catalog_read_begin(cat, err, sizeof(err));
	CHECK(catalog_get(r, "c@example.com", 13, &rec) == 0, "new reader does not see c");
	CHECK(catalog_get(r, "b@example.com", 13, &rec) == 1 && rec.kind == CATALOG_MAILIN,
	      "b changed kind to mailin");
	catalog_read_info(r, &info);
	CHECK(info.history_oldest == 1, "delta possible from serial 1");
	changes[0] = '\0';
	CHECK(catalog_changes_since(r, 1, change_cb, NULL) == 0, "changes since 1");
	CHECK_STR(changes, "+b@example.com;-c@example.com;+d@example.com;", "delta 1->2");
	CHECK(catalog_changes_since(r, 0, change_cb, NULL) == 1, "no delta from 0");
	CHECK(catalog_changes_since(r, 7, change_cb, NULL) == 1, "no delta from the future");
	catalog_read_end(r);

	/* Back to v1: serial 3, delta from 1 nets out. */
	CHECK(replace(cat, v1, &d, &serial) == 0 && serial == 3, "third version");
	r = catalog_read_begin(cat, err, sizeof(err));
	changes[0] = '\0';
	CHECK(catalog_changes_since(r, 1, change_cb, NULL) == 0, "changes since 1 over two serials");
	CHECK_STR(changes, "+b@example.com;+c@example.com;-d@example.com;", "delta 1->3 nets out");
	changes[0] = '\0';
	CHECK(catalog_changes_since(r, 3, change_cb, NULL) == 0 && changes[0] == 0,
	      "no changes since the current serial");
	catalog_read_end(r);

	/* Refusals. */
	{
		struct list l = { unsorted, 0, "" };
		struct catalog_txn *t = catalog_write_begin(cat, err, sizeof(err));

		CHECK(catalog_txn_replace_all(t, list_next, &l, err, sizeof(err)) < 0 &&
		      strstr(err, "out of order"), "unsorted input refused: %s", err);
		catalog_txn_abort(t);
		CHECK_STR(dump(cat), "a@example.com=person;b@example.com=person;c@example.com=group;example.com=domain;",
			  "catalog intact after a refused replace");
	}
	CHECK(catalog_rec_encode(&big, val, sizeof(val)) == 0, "owners over the limit refused");
	big.ownerslen = CATALOG_OWNERS_MAX;
	big.owners = (const char *)val + 4096;	/* any readable bytes */
	{
		static char owners[CATALOG_OWNERS_MAX];
		struct catalog_rec back;
		size_t n;

		memset(owners, 'o', sizeof(owners));
		big.owners = owners;
		n = catalog_rec_encode(&big, val, sizeof(val));
		CHECK(n == 5 + CATALOG_OWNERS_MAX, "owners at the limit accepted");
		CHECK(catalog_rec_decode(val, n, &back) == 0 &&
		      back.ownerslen == CATALOG_OWNERS_MAX, "decode round trip");
		CHECK(catalog_rec_decode(val, n - 1, &back) < 0, "truncated value refused");
		CHECK(catalog_rec_decode(val, 4, &back) < 0, "short value refused");
	}

	/* Explicit serial with history off (a DMZ node). */
	{
		struct catalog_txn *t = catalog_write_begin(cat, err, sizeof(err));
		struct catalog_rec e = { "e@example.com", 13, CATALOG_PERSON, "", 0, "", 0 };

		catalog_txn_set_history(t, 0);
		catalog_txn_set_serial(t, 10, 1000);
		catalog_txn_set_expires(t, 2000);
		catalog_txn_set_key_id(t, "abcd");
		CHECK(catalog_txn_put(t, &e, err, sizeof(err)) == 1, "put new");
		CHECK(catalog_txn_put(t, &e, err, sizeof(err)) == 0, "put identical");
		CHECK(catalog_txn_del(t, "c@example.com", 13, err, sizeof(err)) == 1, "del present");
		CHECK(catalog_txn_del(t, "q@example.com", 13, err, sizeof(err)) == 0, "del absent");
		CHECK(catalog_txn_commit(t, err, sizeof(err)) == 10, "explicit serial 10");
		catalog_info(cat, &info, err, sizeof(err));
		CHECK(info.serial == 10 && info.created == 1000 && info.expires == 2000 &&
		      !strcmp(info.key_id, "abcd"), "meta of an installed snapshot");
		CHECK(info.history_oldest == 0, "history dropped after a jump");
		CHECK(info.count[CATALOG_PERSON] == 3 && info.count[CATALOG_GROUP] == 0,
		      "counts follow put/del (%llu persons)",
		      (unsigned long long)info.count[CATALOG_PERSON]);
	}
	catalog_close(cat);

	/* Reopen read-only: everything is still there. */
	cat = catalog_open(path, CATALOG_RDONLY, err, sizeof(err));
	CHECK(cat != NULL, "reopen read-only");
	CHECK_STR(dump(cat), "a@example.com=person;b@example.com=person;e@example.com=person;example.com=domain;",
		  "contents after reopen");
	CHECK(catalog_write_begin(cat, err, sizeof(err)) == NULL, "no writes when read-only");
	catalog_close(cat);

	CHECK(catalog_id_valid("corp-1.mail") && !catalog_id_valid("a b") &&
	      !catalog_id_valid(""), "catalog id syntax");
	test_provenance(dir);

	snprintf(err, sizeof(err), "rm -rf %s", dir);
	if (system(err) != 0)
		return 1;
	return check_done();
}
