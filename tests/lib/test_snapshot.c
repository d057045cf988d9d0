/*
 * test_snapshot.c - lib/snapshot.c: full and delta snapshots written from
 * a real catalog and installed into another; every refusal with its exact
 * code (altered, cut, extended, wrongly signed, malformed files built
 * here from schema/snapshot.md, byte by byte); install refusals that
 * leave the node's catalog as it was.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog.h"
#include "check.h"
#include "sign.h"
#include "snapshot.h"
#include "util.h"

#define T0 1790000000LL		/* a fixed "now" */
#define LIFE (7 * 86400LL)

static char dir[160];
static struct sign_key *key_a, *key_b;
static struct sign_keyring *ring_a, *ring_b, *ring_ab;

static const char *path_in(const char *name)
{
	static char p[8][256];
	static int i;

	i = (i + 1) % 8;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
	return p[i];
}

/* ------------------------------------------------------------ catalogs */

/* Apply "key kind [owners]" puts and "key" deletes in one commit. */
static uint64_t change(struct catalog *cat, const char *const *puts,
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

static int digest_one(void *arg, const struct catalog_rec *rec)
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
static void digest(struct catalog *cat, unsigned char out[32])
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
		sign_sha256_update(c, &info.expires, sizeof(info.expires));
		sign_sha256_update(c, info.id, strlen(info.id));
		sign_sha256_update(c, info.key_id, strlen(info.key_id));
	}
	sign_sha256_final(c, out);
}

/* Records only, to compare a node with its source. */
static void records_digest(struct catalog *cat, unsigned char out[32])
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

static int same_records(struct catalog *a, struct catalog *b)
{
	unsigned char da[32], db[32];

	records_digest(a, da);
	records_digest(b, db);
	return !memcmp(da, db, 32);
}

static struct catalog *cat_new(const char *name)
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

static int write_full(struct catalog *cat, const char *id, int64_t created,
		      const char *name, struct snapshot_stats *st)
{
	struct catalog_read *r;
	char err[512];
	int rc;

	r = catalog_read_begin(cat, err, sizeof(err));
	if (!r)
		return -1;
	rc = snapshot_write_full(r, id, created, LIFE, key_a, path_in(name),
				 st, err, sizeof(err));
	if (rc)
		printf("      write_full: %s\n", err);
	catalog_read_end(r);
	return rc;
}

static int write_delta(struct catalog *cat, uint64_t base, int64_t created,
		       const char *name, struct snapshot_stats *st)
{
	struct catalog_read *r;
	char err[512];
	int rc;

	r = catalog_read_begin(cat, err, sizeof(err));
	if (!r)
		return -1;
	rc = snapshot_write_delta(r, base, NULL, created, LIFE, key_a,
				  path_in(name), st, err, sizeof(err));
	if (rc < 0)
		printf("      write_delta: %s\n", err);
	catalog_read_end(r);
	return rc;
}

/* Open path and install into node; returns the code (0 installed). */
static int install(const char *name, struct catalog *node, const char *id,
		   int64_t now, char *err, size_t errlen)
{
	struct snapshot *s;
	int code;

	s = snapshot_open(path_in(name), ring_a, &code, err, errlen);
	if (!s)
		return code;
	if (snapshot_apply(s, node, id, now, NULL, &code, err, errlen) < 0) {
		snapshot_close(s);
		return code;
	}
	snapshot_close(s);
	return 0;
}

/* ------------------------------------------------------------- files */

static unsigned char *slurp(const char *name, size_t *len)
{
	char err[256];

	return (unsigned char *)util_read_file(path_in(name), 1 << 26, len,
					       err, sizeof(err));
}

static void spit(const char *name, const void *data, size_t len)
{
	char err[256];

	if (util_write_file_atomic(path_in(name), data, len, 0644, err,
				   sizeof(err)) < 0) {
		printf("FAIL: setup: %s\n", err);
		exit(1);
	}
}

static char last_err[1024];

/*
 * The code snapshot_open() gives for these bytes (0 when it opens), and
 * the same through snapshot_open_mem(): -100 when the two disagree.
 */
static int code_of(const unsigned char *data, size_t len,
		   const struct sign_keyring *kr)
{
	struct snapshot *s;
	char err2[1024];
	int c1, c2;

	spit("probe.snap", data, len);
	s = snapshot_open(path_in("probe.snap"), kr, &c1, last_err,
			  sizeof(last_err));
	if (s) {
		c1 = 0;
		last_err[0] = '\0';
	}
	snapshot_close(s);
	s = snapshot_open_mem(data, len, "mem", kr, &c2, err2, sizeof(err2));
	if (s)
		c2 = 0;
	snapshot_close(s);
	return c1 == c2 ? c1 : -100;
}

/* ---------------------------------------------- spec-built snapshots */

/* A growable byte string for building files by hand. */
struct bytes {
	unsigned char *p;
	size_t len, cap;
};

static void b_add(struct bytes *b, const void *d, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 64;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

static void b_u16(struct bytes *b, unsigned v)
{
	unsigned char x[2];

	util_put_u16(x, (uint16_t)v);
	b_add(b, x, 2);
}

/* A full-snapshot record: [u16 klen][u16 vlen][key][value]. */
static void rec_full(struct bytes *b, const char *key, int kind,
		     const char *owners)
{
	unsigned char val[CATALOG_VALUE_MAX];
	struct catalog_rec r;
	size_t vl;

	memset(&r, 0, sizeof(r));
	r.kind = kind;
	r.owners = owners;
	r.ownerslen = owners ? strlen(owners) : 0;
	vl = catalog_rec_encode(&r, val, sizeof(val));
	b_u16(b, (unsigned)strlen(key));
	b_u16(b, (unsigned)vl);
	b_add(b, key, strlen(key));
	b_add(b, val, vl);
}

/* A delta record: [u8 op][u16 klen][u16 vlen][key][value]. */
static void rec_delta(struct bytes *b, int op, const char *key, int kind)
{
	unsigned char o = (unsigned char)op;

	b_add(b, &o, 1);
	if (op == SNAPSHOT_DEL) {
		b_u16(b, (unsigned)strlen(key));
		b_u16(b, 0);
		b_add(b, key, strlen(key));
	} else {
		rec_full(b, key, kind, NULL);
	}
}

struct hdr {
	unsigned version, flags, type;
	const char *id;
	uint64_t serial, base, records, payload_len;
	int64_t created, expires;
	int payload_len_set;
};

/* Header (schema/snapshot.md offsets) + payload, hashed and signed. */
static unsigned char *build(const struct hdr *h, const struct bytes *pay,
			    size_t *len, const struct sign_key *key)
{
	size_t n = 256 + pay->len + 64;
	unsigned char *f = xcalloc(1, n);

	memcpy(f, "DIRCATSN", 8);
	util_put_u16(f + 8, (uint16_t)h->version);
	util_put_u16(f + 10, (uint16_t)h->flags);
	util_put_u16(f + 12, (uint16_t)h->type);
	memcpy(f + 16, h->id, strlen(h->id));
	util_put_u64(f + 80, h->serial);
	util_put_u64(f + 88, h->base);
	util_put_u64(f + 96, (uint64_t)h->created);
	util_put_u64(f + 104, (uint64_t)h->expires);
	util_put_u64(f + 112, h->records);
	util_put_u64(f + 120, h->payload_len_set ? h->payload_len : pay->len);
	if (pay->len)
		memcpy(f + 256, pay->p, pay->len);
	sign_sha256(f + 256, pay->len, f + 128);
	memcpy(f + 160, sign_key_id_raw(key), 8);
	sign_sign(key, f, 256 + pay->len, f + 256 + pay->len, NULL, 0);
	*len = n;
	return f;
}

/* Re-hash and re-sign a file in place after a header edit. */
static void resign(unsigned char *f, size_t len)
{
	size_t pl = len - 256 - 64;

	sign_sha256(f + 256, pl, f + 128);
	sign_sign(key_a, f, 256 + pl, f + 256 + pl, NULL, 0);
}

static struct hdr full_hdr(uint64_t records)
{
	struct hdr h;

	memset(&h, 0, sizeof(h));
	h.version = 1;
	h.type = SNAPSHOT_FULL;
	h.id = "example-corp";
	h.serial = 5;
	h.created = T0;
	h.expires = T0 + LIFE;
	h.records = records;
	return h;
}

/* ------------------------------------------------------------- tests */

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

static void test_round_trip(void)
{
	struct snapshot_stats st;
	const struct snapshot_header *h;
	struct snapshot *s;
	struct catalog *node;
	struct catalog_info info;
	struct catalog_rec rec;
	char err[1024];
	int code, op, n = 0, ordered = 1, rc;
	char prev[300] = "";
	uint64_t serial;

	src = cat_new("src.lmdb");
	serial = change(src, first, NULL);
	CHECK(write_full(src, NULL, T0, "full1.snap", &st) == 0,
	      "write a full snapshot");
	CHECK(st.records == 6 && st.puts == 6 && st.dels == 0 &&
	      st.serial == serial && st.type == SNAPSHOT_FULL,
	      "stats: 6 records, serial %llu", (unsigned long long)serial);
	CHECK(access(path_in("full1.snap.tmp.0"), F_OK) < 0, "no temp file");
	{
		struct stat sb;

		CHECK(stat(path_in("full1.snap"), &sb) == 0 &&
		      (uint64_t)sb.st_size == st.file_size &&
		      st.file_size == 256 + st.payload_len + 64,
		      "file size = 256 + payload + 64");
	}
	s = snapshot_open(path_in("full1.snap"), ring_a, &code, err,
			  sizeof(err));
	CHECK(s != NULL && code == SNAPSHOT_OK, "open + verify: %s",
	      s ? "" : err);
	if (!s)
		return;
	h = snapshot_header(s);
	CHECK(h->type == SNAPSHOT_FULL && h->version == 1 && h->flags == 0,
	      "header: type full, version 1, no flags");
	CHECK_STR(h->catalog_id, "example-corp", "header: catalog id");
	CHECK(h->serial == serial && h->base == 0, "header: serial, base 0");
	CHECK(h->created == T0 && h->expires == T0 + LIFE,
	      "header: created, expires = created + lifetime");
	CHECK(h->records == 6 && h->payload_len == st.payload_len,
	      "header: records, payload length");
	CHECK_STR(h->key_id, sign_key_id(key_a), "header: key id");
	while ((rc = snapshot_next(s, &op, &rec)) == 1) {
		char k[300];

		snprintf(k, sizeof(k), "%.*s", (int)rec.keylen, rec.key);
		if (strcmp(prev, k) >= 0 && prev[0])
			ordered = 0;
		util_strlcpy(prev, k, sizeof(prev));
		if (!strcmp(k, "shared@example.com"))
			CHECK(rec.kind == CATALOG_MAILIN && rec.ownerslen == 9 &&
			      !memcmp(rec.owners, "alice,bob", 9),
			      "record decoded: kind and owners");
		if (op != SNAPSHOT_PUT)
			ordered = 0;
		n++;
	}
	CHECK(rc == 0 && n == 6 && ordered, "iterate: 6 puts in key order");
	snapshot_rewind(s);
	CHECK(snapshot_next(s, &op, &rec) == 1 && rec.keylen == 12 &&
	      !memcmp(rec.key, "@example.org", 12),
	      "rewind: first key is the smallest (\"@example.org\")");

	node = cat_new("node.lmdb");
	CHECK(snapshot_apply(s, node, "example-corp", T0, NULL, &code, err,
			     sizeof(err)) == 0, "install full: %s", err);
	snapshot_close(s);
	CHECK(same_records(src, node), "node records = source records");
	catalog_info(node, &info, err, sizeof(err));
	CHECK(info.serial == serial && info.expires == T0 + LIFE &&
	      info.created == T0 && !strcmp(info.id, "example-corp") &&
	      !strcmp(info.key_id, sign_key_id(key_a)) && info.records == 6 &&
	      info.history_oldest == 0,
	      "node metadata: serial, created, expires, id, key id, no history");
	catalog_close(node);

	CHECK(snapshot_verify(path_in("full1.snap"), ring_ab, &(struct
	      snapshot_header){ 0 }, &code, err, sizeof(err)) == 0,
	      "verify with a two-key ring (rotation)");
}

static void test_delta(void)
{
	static const char *const puts2[] = {
		"carol@example.com person carol",	/* added */
		"bob@example.com person bob",		/* changed */
		NULL
	};
	static const char *const dels2[] = { "sales@example.com", NULL };
	static const char *const puts3[] = { "dave@example.com person", NULL };
	struct snapshot_stats st;
	struct catalog *node;
	struct catalog_info info;
	struct snapshot *s;
	char err[1024];
	uint64_t s1, s2, s3;
	int code, op, rc, puts = 0, dels = 0;
	struct catalog_rec rec;

	node = cat_new("node-delta.lmdb");
	catalog_info(src, &info, err, sizeof(err));
	s1 = info.serial;
	CHECK(write_full(src, NULL, T0, "d-full.snap", NULL) == 0 &&
	      install("d-full.snap", node, "example-corp", T0, err,
		      sizeof(err)) == 0, "node starts from a full snapshot");
	s2 = change(src, puts2, dels2);
	s3 = change(src, puts3, NULL);
	CHECK(s2 == s1 + 1 && s3 == s1 + 2, "source moved two serials");
	CHECK(write_delta(src, s1, T0 + 60, "d1.snap", &st) == 0,
	      "write a delta %llu -> %llu", (unsigned long long)s1,
	      (unsigned long long)s3);
	CHECK(st.type == SNAPSHOT_DELTA && st.base == s1 && st.serial == s3 &&
	      st.puts == 3 && st.dels == 1 && st.records == 4,
	      "delta stats: 3 puts, 1 delete");
	s = snapshot_open(path_in("d1.snap"), ring_a, &code, err, sizeof(err));
	CHECK(s != NULL, "delta opens: %s", s ? "" : err);
	if (!s)
		return;
	CHECK(snapshot_header(s)->type == SNAPSHOT_DELTA &&
	      snapshot_header(s)->base == s1, "delta header: type, base");
	while ((rc = snapshot_next(s, &op, &rec)) == 1) {
		if (op == SNAPSHOT_DEL) {
			dels++;
			CHECK(rec.keylen == 17 &&
			      !memcmp(rec.key, "sales@example.com", 17),
			      "the delete is sales@example.com");
		} else {
			puts++;
		}
	}
	CHECK(rc == 0 && puts == 3 && dels == 1, "iterate the delta");
	CHECK(snapshot_apply(s, node, "example-corp", T0, NULL, &code, err,
			     sizeof(err)) == 0, "install the delta: %s", err);
	snapshot_close(s);
	CHECK(same_records(src, node), "node = source after the delta");
	catalog_info(node, &info, err, sizeof(err));
	CHECK(info.serial == s3 && info.created == T0 + 60,
	      "node serial after delta");

	/* Base outside the history: the caller sends a full one. */
	{
		struct catalog *c = cat_new("nohist.lmdb");

		change(c, first, NULL);
		change(c, puts3, NULL);
		CHECK(write_delta(c, 1, T0, "nohist.snap", NULL) == 0,
		      "delta 1 -> 2 works");
		{
			struct catalog_txn *t = catalog_write_begin(c, err,
								    sizeof(err));
			catalog_txn_set_history(t, 0);
			catalog_txn_set_serial(t, 9, T0);
			catalog_txn_commit(t, err, sizeof(err));
		}
		unlink(path_in("nohist2.snap"));
		CHECK(write_delta(c, 2, T0, "nohist2.snap", NULL) == 1 &&
		      access(path_in("nohist2.snap"), F_OK) < 0,
		      "base not in history: 1, nothing written");
		CHECK(write_delta(c, 9, T0, "nohist3.snap", NULL) == -1,
		      "base = serial: refused");
		CHECK(write_delta(c, 0, T0, "nohist3.snap", NULL) == -1,
		      "base 0: refused");
		catalog_close(c);
	}
	catalog_close(node);
}

static void test_write_refusals(void)
{
	struct catalog_read *r;
	struct catalog *empty = cat_new("empty.lmdb");
	char err[512], id64[65];
	struct snapshot *s;
	int code;

	r = catalog_read_begin(empty, err, sizeof(err));
	CHECK(r && snapshot_write_full(r, "x", T0, LIFE, key_a,
				       path_in("e.snap"), NULL, err,
				       sizeof(err)) < 0 &&
	      strstr(err, "serial 0"), "never-written catalog: %s", err);
	catalog_read_end(r);
	catalog_close(empty);

	r = catalog_read_begin(src, err, sizeof(err));
	CHECK(snapshot_write_full(r, "bad id!", T0, LIFE, key_a,
				  path_in("e.snap"), NULL, err,
				  sizeof(err)) < 0, "invalid catalog id: %s",
	      err);
	CHECK(snapshot_write_full(r, "x", T0, 0, key_a, path_in("e.snap"),
				  NULL, err, sizeof(err)) < 0,
	      "lifetime 0 refused");
	CHECK(snapshot_write_full(r, "x", T0, SNAPSHOT_LIFETIME_MAX + 1, key_a,
				  path_in("e.snap"), NULL, err,
				  sizeof(err)) < 0, "lifetime max+1 refused");
	CHECK(snapshot_write_full(r, "x", T0, SNAPSHOT_LIFETIME_MAX, key_a,
				  path_in("lmax.snap"), NULL, err,
				  sizeof(err)) == 0, "lifetime max accepted");
	CHECK(snapshot_write_full(r, "x", T0, LIFE, key_a,
				  path_in("no/such/dir/x.snap"), NULL, err,
				  sizeof(err)) < 0 && strstr(err, "no/such"),
	      "unwritable path: %s", err);
	CHECK(access(path_in("e.snap"), F_OK) < 0, "refusals wrote nothing");
	memset(id64, 'i', 64);
	id64[64] = '\0';
	CHECK(snapshot_write_full(r, id64, T0, LIFE, key_a, path_in("id64.snap"),
				  NULL, err, sizeof(err)) == 0,
	      "a 64-character catalog id (fills the field, no NUL)");
	catalog_read_end(r);
	s = snapshot_open(path_in("id64.snap"), ring_a, &code, err, sizeof(err));
	CHECK(s && !strcmp(snapshot_header(s)->catalog_id, id64),
	      "64-character id reads back");
	snapshot_close(s);
	s = snapshot_open(path_in("lmax.snap"), ring_a, &code, err, sizeof(err));
	CHECK(s != NULL, "lifetime max reads back");
	snapshot_close(s);
}

/* Alter, cut and extend a good file; each refused with its code. */
static void test_tampering(void)
{
	unsigned char *f, *g;
	size_t len, i;
	uint64_t pl;
	int c;
	static const size_t cuts[] = { 0, 1, 4, 8, 100, 255, 256, 257 };

	f = slurp("full1.snap", &len);
	CHECK(f && code_of(f, len, ring_a) == 0, "the original opens");
	if (!f)
		return;
	pl = len - 320;
	g = xmalloc(len + 1);

#define MUT(desc, want, stmt) do { \
		memcpy(g, f, len); \
		stmt; \
		c = code_of(g, len, ring_a); \
		CHECK(c == (want), "%s: %s (got %s) %s", desc, \
		      snapshot_strerror(want), snapshot_strerror(c), last_err); \
	} while (0)

	MUT("flip a serial byte (header)", SNAPSHOT_E_BAD_SIGNATURE,
	    g[86] ^= 1);
	MUT("flip a created byte (header)", SNAPSHOT_E_BAD_SIGNATURE,
	    g[103] ^= 1);
	MUT("flip a catalog id byte to another valid one",
	    SNAPSHOT_E_BAD_SIGNATURE, g[16] = 'E');
	MUT("flip a payload hash byte", SNAPSHOT_E_BAD_HASH, g[128] ^= 1);
	MUT("flip a key id byte", SNAPSHOT_E_UNKNOWN_KEY, g[160] ^= 1);
	MUT("flip the first payload byte", SNAPSHOT_E_BAD_HASH, g[256] ^= 1);
	MUT("flip the last payload byte", SNAPSHOT_E_BAD_HASH,
	    g[256 + pl - 1] ^= 0x40);
	MUT("flip the first signature byte", SNAPSHOT_E_BAD_SIGNATURE,
	    g[len - 64] ^= 1);
	MUT("flip the last signature byte", SNAPSHOT_E_BAD_SIGNATURE,
	    g[len - 1] ^= 1);
	MUT("bad magic", SNAPSHOT_E_BAD_MAGIC, g[0] = 'X');
	MUT("version 2", SNAPSHOT_E_BAD_VERSION, g[9] = 2);
	MUT("version 0", SNAPSHOT_E_BAD_VERSION, g[9] = 0);
	MUT("flag bit 0 (keyed-hash mode)", SNAPSHOT_E_UNKNOWN_FLAGS,
	    g[11] = 1);
	MUT("flag bit 15", SNAPSHOT_E_UNKNOWN_FLAGS, g[10] = 0x80);
	MUT("type 3", SNAPSHOT_E_BAD_FIELD, g[13] = 3);
	MUT("type 0", SNAPSHOT_E_BAD_FIELD, g[13] = 0);
	MUT("reserved u16 at 14", SNAPSHOT_E_BAD_FIELD, g[15] = 1);
	MUT("catalog id with a space", SNAPSHOT_E_BAD_FIELD, g[17] = ' ');
	MUT("catalog id empty", SNAPSHOT_E_BAD_FIELD, memset(g + 16, 0, 64));
	MUT("catalog id not NUL-padded", SNAPSHOT_E_BAD_FIELD, g[79] = 'x');
	MUT("serial 0", SNAPSHOT_E_BAD_FIELD, memset(g + 80, 0, 8));
	MUT("base set in a full snapshot", SNAPSHOT_E_BAD_FIELD, g[95] = 1);
	MUT("created 0", SNAPSHOT_E_BAD_FIELD, memset(g + 96, 0, 8));
	MUT("created negative", SNAPSHOT_E_BAD_FIELD, g[96] = 0x80);
	MUT("expires = created", SNAPSHOT_E_BAD_FIELD,
	    memcpy(g + 104, g + 96, 8));
	MUT("records over the limit", SNAPSHOT_E_TOO_LARGE,
	    util_put_u64(g + 112, SNAPSHOT_RECORDS_MAX + 1));
	MUT("payload length over the limit", SNAPSHOT_E_TOO_LARGE,
	    util_put_u64(g + 120, SNAPSHOT_FILE_MAX));
	MUT("records and payload length impossible together",
	    SNAPSHOT_E_BAD_FIELD, util_put_u64(g + 112, 1000));
	MUT("payload length larger than the file", SNAPSHOT_E_TRUNCATED,
	    util_put_u64(g + 120, pl + 1));
	MUT("payload length smaller than the file", SNAPSHOT_E_TRAILING_DATA,
	    util_put_u64(g + 120, pl - 1));
	MUT("key id zero", SNAPSHOT_E_BAD_FIELD, memset(g + 160, 0, 8));
	MUT("keyed-hash field not zero", SNAPSHOT_E_BAD_FIELD, g[170] = 1);
	MUT("reserved tail not zero", SNAPSHOT_E_BAD_FIELD, g[255] = 1);
	MUT("reserved tail not zero (first byte)", SNAPSHOT_E_BAD_FIELD,
	    g[200] = 1);
	/* Header fields refused even when hashed and signed properly. */
	MUT("signed: base in full", SNAPSHOT_E_BAD_FIELD,
	    (g[95] = 1, resign(g, len)));
	MUT("signed: flag bit 0", SNAPSHOT_E_UNKNOWN_FLAGS,
	    (g[11] = 1, resign(g, len)));
	MUT("signed: re-signed after a serial change opens", 0,
	    (g[86] ^= 1, resign(g, len)));

	for (i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		c = code_of(f, cuts[i], ring_a);
		CHECK(c == (cuts[i] && cuts[i] < 8 ? SNAPSHOT_E_TRUNCATED :
			    SNAPSHOT_E_TRUNCATED),
		      "cut at byte %zu: truncated (got %s) %s", cuts[i],
		      snapshot_strerror(c), last_err);
	}
	c = code_of(f, 256 + pl / 2, ring_a);
	CHECK(c == SNAPSHOT_E_TRUNCATED, "cut mid-payload: truncated");
	c = code_of(f, 256 + pl, ring_a);
	CHECK(c == SNAPSHOT_E_TRUNCATED, "cut before the signature: truncated");
	c = code_of(f, len - 32, ring_a);
	CHECK(c == SNAPSHOT_E_TRUNCATED, "cut mid-signature: truncated");
	c = code_of(f, len - 1, ring_a);
	CHECK(c == SNAPSHOT_E_TRUNCATED, "one byte short: truncated");
	memcpy(g, f, len);
	g[len] = '\n';
	c = code_of(g, len + 1, ring_a);
	CHECK(c == SNAPSHOT_E_TRAILING_DATA && strstr(last_err, "1 byte after"),
	      "one byte appended: trailing data: %s", last_err);
	{
		struct snapshot *s;
		char err[256];

		s = snapshot_open_mem(NULL, 0, NULL, ring_a, &c, err,
				      sizeof(err));
		CHECK(s == NULL && c == SNAPSHOT_E_TRUNCATED &&
		      !strncmp(err, "snapshot: truncated", 19),
		      "no bytes at all: truncated: %s", err);
	}
	c = code_of((const unsigned char *)"DIRX", 4, ring_a);
	CHECK(c == SNAPSHOT_E_BAD_MAGIC, "4 bytes of something else: bad magic");
	c = code_of((const unsigned char *)"hello, world, this is text", 26,
		    ring_a);
	CHECK(c == SNAPSHOT_E_BAD_MAGIC, "a text file: bad magic");
	c = code_of(f, len, ring_b);
	CHECK(c == SNAPSHOT_E_UNKNOWN_KEY && strstr(last_err,
						    sign_key_id(key_a)),
	      "only B trusted: unknown key, naming A's id: %s", last_err);
	{
		struct sign_keyring *none = sign_keyring_new();

		c = code_of(f, len, none);
		CHECK(c == SNAPSHOT_E_UNKNOWN_KEY, "empty keyring: unknown key");
		sign_keyring_free(none);
	}
	/* Signed by B but claiming A's key id. */
	memcpy(g, f, len);
	sign_sign(key_b, g, len - 64, g + len - 64, NULL, 0);
	c = code_of(g, len, ring_ab);
	CHECK(c == SNAPSHOT_E_BAD_SIGNATURE,
	      "signed by B under A's id: bad signature");
	{
		int code;
		char err[512];

		CHECK(snapshot_open(path_in("absent.snap"), ring_a, &code, err,
				    sizeof(err)) == NULL &&
		      code == SNAPSHOT_E_IO && strstr(err, "absent.snap"),
		      "missing file: cannot read: %s", err);
		CHECK(snapshot_open(dir, ring_a, &code, err, sizeof(err)) ==
		      NULL && code == SNAPSHOT_E_IO, "a directory: %s", err);
	}
	free(g);
	free(f);
#undef MUT
}

/* Records refused even inside properly hashed and signed files. */
static void test_records(void)
{
	struct bytes p = { 0 };
	struct hdr h;
	unsigned char *f;
	size_t len;
	int c;
	char key[CATALOG_KEY_MAX + 2];

#define BUILD(desc, want, hdr_) do { \
		f = build(&(hdr_), &p, &len, key_a); \
		c = code_of(f, len, ring_a); \
		CHECK(c == (want), "%s: %s (got %s) %s", desc, \
		      snapshot_strerror(want), snapshot_strerror(c), last_err); \
		free(f); \
		p.len = 0; \
	} while (0)

	h = full_hdr(0);
	BUILD("empty full snapshot", 0, h);
	rec_full(&p, "a@x", CATALOG_PERSON, "a");
	rec_full(&p, "b@x", CATALOG_PERSON, NULL);
	h = full_hdr(2);
	BUILD("two sorted records", 0, h);
	rec_full(&p, "b@x", CATALOG_PERSON, NULL);
	rec_full(&p, "a@x", CATALOG_PERSON, NULL);
	BUILD("unsorted records", SNAPSHOT_E_BAD_RECORD, h);
	rec_full(&p, "a@x", CATALOG_PERSON, NULL);
	rec_full(&p, "a@x", CATALOG_GROUP, NULL);
	BUILD("a repeated key", SNAPSHOT_E_BAD_RECORD, h);
	rec_full(&p, "ab@x", CATALOG_PERSON, NULL);
	rec_full(&p, "ab", CATALOG_PERSON, NULL);
	BUILD("longer key before its prefix", SNAPSHOT_E_BAD_RECORD, h);
	rec_full(&p, "ab", CATALOG_PERSON, NULL);
	rec_full(&p, "ab@x", CATALOG_PERSON, NULL);
	BUILD("prefix first (LMDB order)", 0, h);
	rec_full(&p, "a@x", CATALOG_PERSON, NULL);
	rec_full(&p, "b@x", CATALOG_PERSON, NULL);
	p.p[4 + 3] = 9;	/* kind 9 does not decode */
	BUILD("a value that does not decode", SNAPSHOT_E_BAD_RECORD, h);
	rec_full(&p, "a\n@x", CATALOG_PERSON, NULL);
	rec_full(&p, "b@x", CATALOG_PERSON, NULL);
	BUILD("a control character in a key", SNAPSHOT_E_BAD_RECORD, h);
	h = full_hdr(2);
	rec_full(&p, "a@x", CATALOG_PERSON, "a-rather-long-owner");
	BUILD("header announces 2, payload holds 1", SNAPSHOT_E_BAD_RECORD, h);
	h = full_hdr(1);
	rec_full(&p, "a@x", CATALOG_PERSON, NULL);
	rec_full(&p, "b@x", CATALOG_PERSON, NULL);
	BUILD("header announces 1, payload holds 2", SNAPSHOT_E_BAD_RECORD, h);
	h = full_hdr(2);
	rec_full(&p, "a@x", CATALOG_PERSON, NULL);
	rec_full(&p, "b@x", CATALOG_PERSON, NULL);
	p.len -= 2;	/* the last record is cut */
	BUILD("last record cut short", SNAPSHOT_E_BAD_RECORD, h);
	h = full_hdr(1);
	b_u16(&p, 0);
	b_u16(&p, 6);
	b_add(&p, "\1\0\0\0\0\0", 6);
	BUILD("key length 0", SNAPSHOT_E_BAD_RECORD, h);

	/* Key length at the limit and one over. */
	memset(key, 'k', sizeof(key));
	key[CATALOG_KEY_MAX] = '\0';
	rec_full(&p, key, CATALOG_PERSON, NULL);
	BUILD("key of CATALOG_KEY_MAX bytes", 0, h);
	key[CATALOG_KEY_MAX] = 'k';
	key[CATALOG_KEY_MAX + 1] = '\0';
	rec_full(&p, key, CATALOG_PERSON, NULL);
	BUILD("key of CATALOG_KEY_MAX + 1 bytes", SNAPSHOT_E_BAD_RECORD, h);
	/* Owners at the limit and one over (hand-encoded past the encoder). */
	{
		char owners[CATALOG_OWNERS_MAX + 1];

		memset(owners, 'o', sizeof(owners));
		b_u16(&p, 3);
		b_u16(&p, 5 + CATALOG_OWNERS_MAX);
		b_add(&p, "a@x\1", 4);
		b_u16(&p, CATALOG_OWNERS_MAX);
		b_add(&p, owners, CATALOG_OWNERS_MAX);
		b_u16(&p, 0);
		BUILD("owners of CATALOG_OWNERS_MAX bytes", 0, h);
		b_u16(&p, 3);
		b_u16(&p, 5 + CATALOG_OWNERS_MAX + 1);
		b_add(&p, "a@x\1", 4);
		b_u16(&p, CATALOG_OWNERS_MAX + 1);
		b_add(&p, owners, CATALOG_OWNERS_MAX + 1);
		b_u16(&p, 0);
		BUILD("owners of CATALOG_OWNERS_MAX + 1 bytes",
		      SNAPSHOT_E_BAD_RECORD, h);
	}
	/* Value length over the catalog's value limit. */
	b_u16(&p, 3);
	b_u16(&p, CATALOG_VALUE_MAX + 1);
	b_add(&p, "a@x", 3);
	{
		unsigned char *v = xcalloc(1, CATALOG_VALUE_MAX + 1);

		b_add(&p, v, CATALOG_VALUE_MAX + 1);
		free(v);
	}
	BUILD("value of CATALOG_VALUE_MAX + 1 bytes", SNAPSHOT_E_BAD_RECORD, h);

	/* Deltas. */
	h = full_hdr(3);
	h.type = SNAPSHOT_DELTA;
	h.base = 4;
	rec_delta(&p, SNAPSHOT_PUT, "a@x", CATALOG_PERSON);
	rec_delta(&p, SNAPSHOT_DEL, "b@x", 0);
	rec_delta(&p, SNAPSHOT_PUT, "c@x", CATALOG_GROUP);
	BUILD("delta: put, delete, put", 0, h);
	rec_delta(&p, SNAPSHOT_PUT, "a@x", CATALOG_PERSON);
	rec_delta(&p, 3, "b@x", 0);
	rec_delta(&p, SNAPSHOT_PUT, "c@x", CATALOG_GROUP);
	BUILD("delta: op 3", SNAPSHOT_E_BAD_RECORD, h);
	rec_delta(&p, SNAPSHOT_PUT, "a@x", CATALOG_PERSON);
	rec_delta(&p, SNAPSHOT_DEL, "a@x", 0);
	rec_delta(&p, SNAPSHOT_PUT, "c@x", CATALOG_GROUP);
	BUILD("delta: put and delete of one key", SNAPSHOT_E_BAD_RECORD, h);
	h.records = 1;
	b_add(&p, "\2", 1);
	b_u16(&p, 3);
	b_u16(&p, 5);
	b_add(&p, "b@x\1\0\0\0\0", 8);
	BUILD("delta: a delete carrying a value", SNAPSHOT_E_BAD_RECORD, h);
	h.base = 5;
	rec_delta(&p, SNAPSHOT_DEL, "b@x", 0);
	BUILD("delta: base = serial", SNAPSHOT_E_BAD_FIELD, h);
	h.base = 0;
	rec_delta(&p, SNAPSHOT_DEL, "b@x", 0);
	BUILD("delta: base 0", SNAPSHOT_E_BAD_FIELD, h);
	h.base = 4;
	rec_delta(&p, SNAPSHOT_DEL, "b@x", 0);
	BUILD("delta: one delete", 0, h);

	/* Header limits at the edge, parsed alone. */
	{
		unsigned char hb[256];
		struct snapshot_header sh;
		char err[512];
		int code;

		h = full_hdr(0);
		f = build(&h, &p, &len, key_a);
		memcpy(hb, f, 256);
		free(f);
		util_put_u64(hb + 104, (uint64_t)(T0 + SNAPSHOT_LIFETIME_MAX));
		CHECK(snapshot_parse_header(hb, 256, &sh, &code, err,
					    sizeof(err)) == 0,
		      "lifetime SNAPSHOT_LIFETIME_MAX: accepted");
		util_put_u64(hb + 104,
			     (uint64_t)(T0 + SNAPSHOT_LIFETIME_MAX + 1));
		CHECK(snapshot_parse_header(hb, 256, &sh, &code, err,
					    sizeof(err)) < 0 &&
		      code == SNAPSHOT_E_BAD_FIELD,
		      "lifetime SNAPSHOT_LIFETIME_MAX + 1: bad field");
		util_put_u64(hb + 104, (uint64_t)(T0 + 1));
		util_put_u64(hb + 112, SNAPSHOT_RECORDS_MAX);
		util_put_u64(hb + 120, SNAPSHOT_RECORDS_MAX * 10);
		CHECK(snapshot_parse_header(hb, 256, &sh, &code, err,
					    sizeof(err)) == 0 &&
		      sh.file_size == 256 + SNAPSHOT_RECORDS_MAX * 10 + 64,
		      "SNAPSHOT_RECORDS_MAX records of 10 bytes: header ok");
		util_put_u64(hb + 112, SNAPSHOT_RECORDS_MAX + 1);
		CHECK(snapshot_parse_header(hb, 256, &sh, &code, err,
					    sizeof(err)) < 0 &&
		      code == SNAPSHOT_E_TOO_LARGE,
		      "SNAPSHOT_RECORDS_MAX + 1 records: too large");
		util_put_u64(hb + 112, SNAPSHOT_RECORDS_MAX);
		util_put_u64(hb + 120, SNAPSHOT_FILE_MAX - 320);
		CHECK(snapshot_parse_header(hb, 256, &sh, &code, err,
					    sizeof(err)) == 0 &&
		      sh.file_size == SNAPSHOT_FILE_MAX,
		      "payload making a SNAPSHOT_FILE_MAX file: header ok");
		util_put_u64(hb + 120, SNAPSHOT_FILE_MAX - 320 + 1);
		CHECK(snapshot_parse_header(hb, 256, &sh, &code, err,
					    sizeof(err)) < 0 &&
		      code == SNAPSHOT_E_TOO_LARGE,
		      "one payload byte more: too large");
		CHECK(snapshot_parse_header(hb, 255, &sh, &code, err,
					    sizeof(err)) < 0 &&
		      code == SNAPSHOT_E_TRUNCATED, "255 header bytes: truncated");
	}
	free(p.p);
#undef BUILD
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

static void test_strerror(void)
{
	int i, j, distinct = 1;

	for (i = 0; i < SNAPSHOT_E_COUNT; i++)
		for (j = i + 1; j < SNAPSHOT_E_COUNT; j++)
			if (!strcmp(snapshot_strerror(i), snapshot_strerror(j)))
				distinct = 0;
	CHECK(distinct, "every code has its own phrase");
	CHECK_STR(snapshot_strerror(SNAPSHOT_E_BAD_SIGNATURE), "bad signature",
		  "phrase for a bad signature");
	CHECK_STR(snapshot_strerror(SNAPSHOT_E_BAD_HASH), "bad payload hash",
		  "phrase for a bad hash");
	CHECK_STR(snapshot_strerror(-1), "unknown error", "out of range");
	CHECK_STR(snapshot_strerror(SNAPSHOT_E_COUNT), "unknown error",
		  "past the end");
}

int main(void)
{
	char err[512], cmd[256];

	if (check_mkdtemp(dir, sizeof(dir), "snapshot") < 0) {
		printf("FAIL: mkdtemp\n");
		return 1;
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
		return 1;
	}
	test_round_trip();
	test_delta();
	test_write_refusals();
	test_tampering();
	test_records();
	test_apply_refusals();
	test_strerror();
	catalog_close(src);
	sign_keyring_free(ring_a);
	sign_keyring_free(ring_b);
	sign_keyring_free(ring_ab);
	sign_key_free(key_a);
	sign_key_free(key_b);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("note: could not remove %s\n", dir);
	return check_done();
}
