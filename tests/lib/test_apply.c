/*
 * test_apply.c - catalogd/apply.c: snapshots written from a real catalog
 * and installed into a node's catalog: full and delta, the metadata they
 * set, and every refusal (rollback by serial or epoch, another catalog,
 * expired, a delta on the wrong base, keyed-hash secrets that do not
 * match, a signed snapshot flagged keyed-hash that holds a clear key),
 * each leaving the node's catalog exactly as it was.
 */
#include "apply.h"
#include "keyhash.h"
#include "snaptest.h"

/* Open path and install into node; returns the code (0 installed). */
static int install(const char *name, struct catalog *node, const char *id,
		   int64_t now, char *err, size_t errlen)
{
	struct snapshot *s;
	int code;

	s = snapshot_open(path_in(name), ring_a, &code, err, errlen);
	if (!s)
		return code;
	if (apply_snapshot(s, node, id, now, NULL, &code, err, errlen) < 0) {
		snapshot_close(s);
		return code;
	}
	snapshot_close(s);
	return 0;
}

/* A snapshot of cat with an epoch (a delta from base, or full), as name. */
static int write_epoch(struct catalog *cat, uint64_t epoch, uint64_t base,
		       const char *name)
{
	struct snapwrite_opts o = { .epoch = epoch, .created = T0,
				    .lifetime = LIFE };

	return write_snap(cat, base != 0, base, &o, name, NULL);
}

static struct catalog *src;

static const char *const first[] = {
	"alice@example.com person alice",
	"bob@example.com person bob,admin",
	"sales@example.com group",
	"shared@example.com mailin alice,bob",
	"example.com domain",
	"@example.org person catchall",
	NULL
};

static void test_install(void)
{
	static const char *const puts2[] = {
		"carol@example.com person carol",	/* added */
		"bob@example.com person bob",		/* changed */
		NULL
	};
	static const char *const dels2[] = { "sales@example.com", NULL };
	struct catalog *node = cat_new("node.lmdb");
	struct catalog_info info;
	struct catalog_diff diff;
	struct snapshot *s;
	char err[1024];
	uint64_t s1, s2;
	int code;

	src = cat_new("src.lmdb");
	s1 = change(src, first, NULL);
	CHECK(write_full(src, NULL, T0, "full1.snap", NULL) == 0,
	      "write a full snapshot");
	s = snapshot_open(path_in("full1.snap"), ring_a, &code, err,
			  sizeof(err));
	CHECK(s && apply_snapshot(s, node, "example-corp", T0, &diff, &code,
				  err, sizeof(err)) == 0,
	      "install full: %s", err);
	snapshot_close(s);
	CHECK(diff.added == 6 && diff.records == 6, "diff: 6 added");
	CHECK(same_records(src, node), "node records = source records");
	catalog_info(node, &info, err, sizeof(err));
	CHECK(info.serial == s1 && info.expires == T0 + LIFE &&
	      info.created == T0 && !strcmp(info.id, "example-corp") &&
	      !strcmp(info.key_id, sign_key_id(key_a)) && info.records == 6 &&
	      info.history_oldest == 0 && info.epoch == 0,
	      "node metadata: serial, created, expires, id, key id, epoch 0, "
	      "no history");
	s2 = change(src, puts2, dels2);
	CHECK(write_delta(src, s1, T0 + 60, "d1.snap", NULL) == 0 &&
	      install("d1.snap", node, "example-corp", T0, err,
		      sizeof(err)) == 0, "install a delta: %s", err);
	CHECK(same_records(src, node), "node = source after the delta");
	catalog_info(node, &info, err, sizeof(err));
	CHECK(info.serial == s2 && info.created == T0 + 60,
	      "node serial and created after the delta");
	catalog_close(node);
}

/* Epochs: never backwards; a delta only within one epoch. */
static void test_epochs(void)
{
	static const char *const m1[] = { "e1@example.com person", NULL };
	static const char *const m2[] = { "e2@example.com person", NULL };
	struct catalog *node = cat_new("node-epoch.lmdb");
	struct catalog_info info;
	unsigned char before[32], after[32];
	char err[1024];
	uint64_t s1;
	int c;

	s1 = change(src, m1, NULL);
	CHECK(write_epoch(src, 2, 0, "e2.snap") == 0 &&
	      install("e2.snap", node, "example-corp", T0, err,
		      sizeof(err)) == 0, "epoch 2 installed: %s", err);
	catalog_info(node, &info, err, sizeof(err));
	CHECK(info.epoch == 2 && info.serial == s1, "node records epoch 2");
	change(src, m2, NULL);
	digest(node, before);
	CHECK(write_epoch(src, 1, 0, "e1.snap") == 0, "a newer serial, epoch 1");
	c = install("e1.snap", node, "example-corp", T0, err, sizeof(err));
	digest(node, after);
	CHECK(c == SNAPSHOT_E_ROLLBACK && strstr(err, "epoch 1") &&
	      !memcmp(before, after, 32),
	      "a lower epoch: rollback, node unchanged: %s", err);
	CHECK(write_epoch(src, 3, s1, "e3d.snap") == 0, "a delta in epoch 3");
	c = install("e3d.snap", node, "example-corp", T0, err, sizeof(err));
	digest(node, after);
	CHECK(c == SNAPSHOT_E_WRONG_BASE && !memcmp(before, after, 32),
	      "a delta from another epoch: wrong base: %s", err);
	CHECK(write_epoch(src, 2, s1, "e2d.snap") == 0 &&
	      install("e2d.snap", node, "example-corp", T0, err,
		      sizeof(err)) == 0 && same_records(src, node),
	      "a delta within epoch 2: installed: %s", err);
	CHECK(write_epoch(src, 3, 0, "e3.snap") == 0, "epoch 3, same serial");
	err[0] = '\0';
	c = install("e3.snap", node, "example-corp", T0, err, sizeof(err));
	catalog_info(node, &info, err, sizeof(err));
	CHECK(c == 0 && info.epoch == 3 && info.serial == s1 + 1 &&
	      same_records(src, node),
	      "a higher epoch takes the same serial: installed in full");
	c = install("e2d.snap", node, "example-corp", T0, err, sizeof(err));
	CHECK(c == SNAPSHOT_E_ROLLBACK,
	      "then epoch 2 is refused, even a newer serial: %s", err);
	catalog_close(node);
}

/* Install refusals: each leaves the node's catalog exactly as it was. */
static void test_apply_refusals(void)
{
	static const char *const more[] = { "erin@example.com person", NULL };
	unsigned char before[32], after[32];
	struct catalog *node = cat_new("node-ref.lmdb");
	struct catalog_info info;
	char err[1024];
	uint64_t s_old, s_new;
	int c;

	catalog_info(src, &info, err, sizeof(err));
	s_old = info.serial;
	CHECK(write_full(src, NULL, T0, "r-old.snap", NULL) == 0, "old full");
	s_new = change(src, more, NULL);
	CHECK(write_full(src, NULL, T0 + 100, "r-new.snap", NULL) == 0 &&
	      write_delta(src, s_old, T0 + 100, "r-delta.snap", NULL) == 0,
	      "new full and delta");

	c = install("r-delta.snap", node, "example-corp", T0, err, sizeof(err));
	CHECK(c == SNAPSHOT_E_WRONG_BASE, "delta onto an empty node: wrong "
	      "base: %s", err);
	c = install("r-new.snap", node, "example-corp", T0, err, sizeof(err));
	CHECK(c == 0, "install the new full: %s", err);
	digest(node, before);

#define REFUSED(desc, want, name, id, now) do { \
		c = install(name, node, id, now, err, sizeof(err)); \
		digest(node, after); \
		CHECK(c == (want) && !memcmp(before, after, 32), \
		      "%s: %s, node unchanged (got %s) %s", desc, \
		      snapshot_strerror(want), snapshot_strerror(c), err); \
	} while (0)

	REFUSED("the same full again", SNAPSHOT_E_ROLLBACK, "r-new.snap",
		"example-corp", T0);
	REFUSED("an older full", SNAPSHOT_E_ROLLBACK, "r-old.snap",
		"example-corp", T0);
	REFUSED("the delta already applied", SNAPSHOT_E_ROLLBACK,
		"r-delta.snap", "example-corp", T0);
	REFUSED("another catalog id expected", SNAPSHOT_E_WRONG_CATALOG,
		"r-new.snap", "other-corp", T0);
	REFUSED("expired: now = expires", SNAPSHOT_E_EXPIRED, "r-new.snap",
		"example-corp", T0 + 100 + LIFE);
	REFUSED("expired: long ago", SNAPSHOT_E_EXPIRED, "r-new.snap",
		"example-corp", T0 + 400 * 86400LL);
	CHECK(strstr(err, "T") && strstr(err, "Z"),
	      "expiry message shows times: %s", err);

	/* A newer delta from a base the node does not have. */
	{
		static const char *const m2[] = { "fay@example.com group",
						   NULL };
		static const char *const m3[] = { "gus@example.com group",
						   NULL };
		uint64_t s2 = change(src, m2, NULL);

		change(src, m3, NULL);
		CHECK(write_delta(src, s2, T0 + 200, "r-gap.snap", NULL) == 0,
		      "delta %llu -> %llu", (unsigned long long)s2,
		      (unsigned long long)s2 + 1);
		REFUSED("delta on the wrong base", SNAPSHOT_E_WRONG_BASE,
			"r-gap.snap", "example-corp", T0);
		CHECK(write_delta(src, s_new, T0 + 200, "r-ok.snap", NULL) ==
		      0 && install("r-ok.snap", node, "example-corp",
				   T0 + 200 + LIFE - 1, err, sizeof(err)) == 0
		      && same_records(src, node),
		      "the right delta, one second before expiry: installed");
	}
	/* A node whose file holds another catalog. */
	{
		struct catalog *other = cat_new("other.lmdb");
		struct catalog_txn *t = catalog_write_begin(other, err,
							    sizeof(err));
		struct catalog_rec rec = { "z@z", 3, CATALOG_PERSON, "", 0,
					   "", 0 };

		catalog_txn_put(t, &rec, err, sizeof(err));
		catalog_txn_set_id(t, "other-corp");
		catalog_txn_commit(t, err, sizeof(err));
		digest(other, before);
		c = install("r-new.snap", other, "example-corp", T0, err,
			    sizeof(err));
		digest(other, after);
		CHECK(c == SNAPSHOT_E_WRONG_CATALOG &&
		      !memcmp(before, after, 32) && strstr(err, "other-corp"),
		      "file holds another catalog: wrong catalog id: %s", err);
		catalog_close(other);
	}
	catalog_close(node);
#undef REFUSED
}

/* Install name into node with hash_id (NULL: a node without a secret). */
static int install_keyed(const char *name, struct catalog *node,
			 const unsigned char *hash_id, char *err,
			 size_t errlen)
{
	struct snapshot *s;
	int code;

	s = snapshot_open(path_in(name), ring_a, &code, err, errlen);
	if (!s)
		return code;
	if (apply_snapshot_keyed(s, node, "example-corp", hash_id, T0, NULL,
				 &code, err, errlen) < 0)
		code = code ? code : -1;
	else
		code = 0;
	snapshot_close(s);
	return code;
}

static struct keyhash *kh_make(unsigned char fill)
{
	unsigned char secret[32];
	char err[256];

	memset(secret, fill, sizeof(secret));
	return keyhash_new(secret, sizeof(secret), err, sizeof(err));
}

/* Keyed-hash snapshots: the node's secret decides what it installs. */
static void test_keyed(void)
{
	static const char *const more[] = { "hal@example.com person hal",
					     NULL };
	struct keyhash *ka = kh_make(1), *kb = kh_make(2);
	const unsigned char *ida = keyhash_id(ka), *idb = keyhash_id(kb);
	struct snapwrite_opts o = { .catalog_id = "example-corp",
				    .created = T0, .lifetime = LIFE,
				    .hash = ka };
	struct catalog *node = cat_new("node-keyed.lmdb");
	struct catalog *clear = cat_new("node-clear.lmdb");
	unsigned char before[32], after[32], id[KEYHASH_ID_LEN];
	struct catalog_read *r;
	struct catalog_info info;
	char err[1024];
	uint64_t base, nrec;
	size_t n = 0;
	int c;

	catalog_info(src, &info, err, sizeof(err));
	base = info.serial;
	nrec = info.records;
	CHECK(write_snap(src, 0, 0, &o, "k-full.snap", NULL) == 0 &&
	      write_full(src, "example-corp", T0, "k-clear.snap", NULL) == 0,
	      "keyed-hash and clear full snapshots");
	c = install_keyed("k-full.snap", node, idb, err, sizeof(err));
	CHECK(c == SNAPSHOT_E_WRONG_SECRET &&
	      strstr(err, "but this node's hash_secret is secret"),
	      "hashed with another secret: wrong secret: %s", err);
	c = install_keyed("k-full.snap", node, NULL, err, sizeof(err));
	CHECK(c == SNAPSHOT_E_WRONG_SECRET && strstr(err, "no hash_secret"),
	      "keyed-hash snapshot, node without a secret: %s", err);
	c = install_keyed("k-clear.snap", node, ida, err, sizeof(err));
	CHECK(c == SNAPSHOT_E_WRONG_SECRET && strstr(err, "in clear"),
	      "clear snapshot, node with a secret: %s", err);
	c = install_keyed("k-full.snap", node, ida, err, sizeof(err));
	catalog_info(node, &info, err, sizeof(err));
	r = catalog_read_begin(node, err, sizeof(err));
	CHECK(c == 0 && info.records == nrec && r &&
	      catalog_read_meta(r, KEYHASH_META_ID, id, sizeof(id), &n) == 1 &&
	      n == KEYHASH_ID_LEN && !memcmp(id, ida, n) &&
	      !keyhash_catalog_unusable(r, ka) &&
	      keyhash_catalog_unusable(r, kb) &&
	      keyhash_catalog_unusable(r, NULL),
	      "the same secret: installed, secret id kept in the catalog");
	if (r)
		catalog_read_end(r);

	/* A keyed-hash delta onto a clear catalog: a full one is needed. */
	CHECK(install_keyed("k-clear.snap", clear, NULL, err, sizeof(err)) ==
	      0, "clear full onto a clear node");
	change(src, more, NULL);
	CHECK(write_snap(src, 1, base, &o, "k-delta.snap", NULL) == 0,
	      "keyed-hash delta");
	digest(clear, before);
	c = install_keyed("k-delta.snap", clear, ida, err, sizeof(err));
	digest(clear, after);
	CHECK(c == SNAPSHOT_E_WRONG_BASE && !memcmp(before, after, 32) &&
	      strstr(err, "a full snapshot is needed"),
	      "keyed-hash delta onto a clear catalog: wrong base: %s", err);
	c = install_keyed("k-delta.snap", node, ida, err, sizeof(err));
	CHECK(c == 0, "keyed-hash delta onto the keyed-hash catalog: %s", err);
	/* A keyed-hash full snapshot onto a catalog file that holds clear
	 * records: LMDB keeps the freed pages, so the clear addresses and
	 * owners would stay readable in the file; refused as the node's
	 * trouble (the file must be removed), the catalog unchanged. */
	CHECK(write_snap(src, 0, 0, &o, "k-full2.snap", NULL) == 0,
	      "a newer keyed-hash full snapshot");
	digest(clear, before);
	c = install_keyed("k-full2.snap", clear, ida, err, sizeof(err));
	digest(clear, after);
	CHECK(c == SNAPSHOT_E_CATALOG && !memcmp(before, after, 32) &&
	      strstr(err, "in clear") && strstr(err, "remove"),
	      "keyed-hash full snapshot onto a clear catalog file: %s", err);

	/* Signed, flagged keyed-hash, but holding clear keys (a writer's
	 * bug, or a signing key used carelessly): never stored. */
	{
		static const char *const m2[] = { "ida@example.com person",
						   NULL };
		FILE *f;

		change(src, m2, NULL);
		write_full(src, "example-corp", T0, "k-clear2.snap", NULL);
		f = fopen(path_in("k-clear2.snap"), "rb");
		unsigned char *b = xmalloc(1 << 20);
		size_t len = f ? fread(b, 1, 1 << 20, f) : 0;

		if (f)
			fclose(f);
		b[11] |= 1;				/* flag bit 0 */
		memcpy(b + 168, ida, KEYHASH_ID_LEN);	/* secret id */
		sign_sign(key_a, b, 256, b + 256, err, sizeof(err));
		f = fopen(path_in("k-forged.snap"), "wb");
		if (f) {
			fwrite(b, 1, len, f);
			fclose(f);
		}
		free(b);
		digest(node, before);
		c = install_keyed("k-forged.snap", node, ida, err,
				  sizeof(err));
		digest(node, after);
		CHECK(c == SNAPSHOT_E_CATALOG && !memcmp(before, after, 32) &&
		      strstr(err, "not a keyed hash"),
		      "keyed-hash flag over clear keys: refused, nothing "
		      "stored: %s", err);
	}
	catalog_close(node);
	catalog_close(clear);
	keyhash_free(ka);
	keyhash_free(kb);
}

int main(void)
{
	snaptest_setup("apply");
	test_install();
	test_epochs();
	test_apply_refusals();
	test_keyed();
	catalog_close(src);
	snaptest_teardown();
	return check_done();
}
