/*
 * test_snapshot.c - lib/snapshot.c and lib/snapwrite.c: full and delta
 * snapshots written from a real catalog and read back; files built here
 * from schema/snapshot.md byte by byte, in format versions 2 and 1; every
 * refusal with its exact code (altered, cut, extended, wrongly signed,
 * malformed); reading from a descriptor: a private copy that later writes
 * to the file cannot change, the caller's size limit at N and N + 1, a
 * FIFO refused without waiting, a huge file with a forged header refused
 * after reading its first bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <time.h>

#include "snaptest.h"

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
	uint64_t serial, base, epoch, records, payload_len;
	int64_t created, expires;
	int payload_len_set;
};

/*
 * Header (schema/snapshot.md offsets) and payload, hashed and signed:
 * version 2 (h->version 2): header, signature over the header, payload;
 * version 1: header, payload, signature over both.
 */
static unsigned char *build(const struct hdr *h, const struct bytes *pay,
			    size_t *len, const struct sign_key *key)
{
	size_t n = 256 + 64 + pay->len;
	size_t po = h->version == 1 ? 256 : 320;
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
	if (h->version != 1)
		util_put_u64(f + 200, h->epoch);
	if (pay->len)
		memcpy(f + po, pay->p, pay->len);
	sign_sha256(f + po, pay->len, f + 128);
	memcpy(f + 160, sign_key_id_raw(key), 8);
	if (h->version == 1)
		sign_sign(key, f, 256 + pay->len, f + 256 + pay->len, NULL, 0);
	else
		sign_sign(key, f, 256, f + 256, NULL, 0);
	*len = n;
	return f;
}

/* Re-hash and re-sign a version 2 file in place after a header edit. */
static void resign(unsigned char *f, size_t len)
{
	sign_sha256(f + 320, len - 320, f + 128);
	sign_sign(key_a, f, 256, f + 256, NULL, 0);
}

static struct hdr full_hdr(uint64_t records)
{
	struct hdr h;

	memset(&h, 0, sizeof(h));
	h.version = 2;
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
	struct snapwrite_stats st;
	const struct snapshot_header *h;
	struct snapshot *s;
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
		      st.file_size == 256 + 64 + st.payload_len,
		      "file size = 256 + 64 + payload");
	}
	s = snapshot_open(path_in("full1.snap"), ring_a, &code, err,
			  sizeof(err));
	CHECK(s != NULL && code == SNAPSHOT_OK, "open + verify: %s",
	      s ? "" : err);
	if (!s)
		return;
	h = snapshot_header(s);
	CHECK(h->type == SNAPSHOT_FULL && h->version == 2 && h->flags == 0 &&
	      h->epoch == 0 && h->payload_offset == 320,
	      "header: type full, version 2, no flags, epoch 0, payload at "
	      "320");
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
		util_copy_fit(prev, k, sizeof(prev));
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

	snapshot_close(s);
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
	struct snapwrite_stats st;
	struct catalog_info info;
	struct snapshot *s;
	char err[1024];
	uint64_t s1, s2, s3;
	int code, op, rc, puts = 0, dels = 0;
	struct catalog_rec rec;

	catalog_info(src, &info, err, sizeof(err));
	s1 = info.serial;
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
	snapshot_close(s);

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
}

/* snapwrite_full() with catalog id, lifetime and epoch. */
static int wfull(struct catalog_read *r, const char *id, int64_t life,
		 uint64_t epoch, const char *path, char *err, size_t errlen)
{
	struct snapwrite_opts o = { .catalog_id = id, .epoch = epoch,
				    .created = T0, .lifetime = life };

	return snapwrite_full(r, &o, key_a, path, NULL, err, errlen);
}

static void test_write_refusals(void)
{
	struct catalog_read *r;
	struct catalog *empty = cat_new("empty.lmdb");
	char err[512], id64[65];
	struct snapshot *s;
	int code;

	r = catalog_read_begin(empty, err, sizeof(err));
	CHECK(r && wfull(r, "x", LIFE, 0, path_in("e.snap"), err,
			 sizeof(err)) < 0 && strstr(err, "serial 0"),
	      "never-written catalog: %s", err);
	catalog_read_end(r);
	catalog_close(empty);

	r = catalog_read_begin(src, err, sizeof(err));
	CHECK(wfull(r, "bad id!", LIFE, 0, path_in("e.snap"), err,
		    sizeof(err)) < 0, "invalid catalog id: %s", err);
	CHECK(wfull(r, "x", 0, 0, path_in("e.snap"), err, sizeof(err)) < 0,
	      "lifetime 0 refused");
	CHECK(wfull(r, "x", SNAPSHOT_LIFETIME_MAX + 1, 0, path_in("e.snap"),
		    err, sizeof(err)) < 0, "lifetime max+1 refused");
	CHECK(wfull(r, "x", SNAPSHOT_LIFETIME_MAX, 0, path_in("lmax.snap"),
		    err, sizeof(err)) == 0, "lifetime max accepted");
	CHECK(wfull(r, "x", LIFE, 0, path_in("no/such/dir/x.snap"), err,
		    sizeof(err)) < 0 && strstr(err, "no/such"),
	      "unwritable path: %s", err);
	CHECK(access(path_in("e.snap"), F_OK) < 0, "refusals wrote nothing");
	memset(id64, 'i', 64);
	id64[64] = '\0';
	CHECK(wfull(r, id64, LIFE, 0, path_in("id64.snap"), err,
		    sizeof(err)) == 0,
	      "a 64-character catalog id (fills the field, no NUL)");
	catalog_read_end(r);
	s = snapshot_open(path_in("id64.snap"), ring_a, &code, err, sizeof(err));
	CHECK(s && !strcmp(snapshot_header(s)->catalog_id, id64),
	      "64-character id reads back");
	snapshot_close(s);
	s = snapshot_open(path_in("lmax.snap"), ring_a, &code, err, sizeof(err));
	CHECK(s != NULL, "lifetime max reads back");
	snapshot_close(s);
	r = catalog_read_begin(src, err, sizeof(err));
	CHECK(wfull(r, "x", LIFE, UINT64_MAX, path_in("emax.snap"), err,
		    sizeof(err)) == 0, "the largest epoch is written");
	catalog_read_end(r);
	s = snapshot_open(path_in("emax.snap"), ring_a, &code, err, sizeof(err));
	CHECK(s && snapshot_header(s)->epoch == UINT64_MAX,
	      "the largest epoch reads back");
	snapshot_close(s);
}

/* Alter, cut and extend a good file; each refused with its code. */
static void test_tampering(void)
{
	unsigned char *f, *g;
	size_t len, i;
	uint64_t pl;
	int c;
	static const size_t cuts[] = { 0, 1, 4, 8, 100, 255, 256, 257, 288,
					319, 320 };

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
	MUT("flip a payload hash byte (signed with the header)",
	    SNAPSHOT_E_BAD_SIGNATURE, g[128] ^= 1);
	MUT("flip an epoch byte (header)", SNAPSHOT_E_BAD_SIGNATURE,
	    g[207] ^= 1);
	MUT("flip a key id byte", SNAPSHOT_E_UNKNOWN_KEY, g[160] ^= 1);
	MUT("flip the first payload byte", SNAPSHOT_E_BAD_HASH, g[320] ^= 1);
	MUT("flip the last payload byte", SNAPSHOT_E_BAD_HASH,
	    g[len - 1] ^= 0x40);
	MUT("flip the first signature byte", SNAPSHOT_E_BAD_SIGNATURE,
	    g[256] ^= 1);
	MUT("flip the last signature byte", SNAPSHOT_E_BAD_SIGNATURE,
	    g[319] ^= 1);
	MUT("bad magic", SNAPSHOT_E_BAD_MAGIC, g[0] = 'X');
	MUT("version 3", SNAPSHOT_E_BAD_VERSION, g[9] = 3);
	MUT("relabelled as version 1: its signature is then read as "
	    "payload", SNAPSHOT_E_BAD_HASH, g[9] = 1);
	MUT("version 0", SNAPSHOT_E_BAD_VERSION, g[9] = 0);
	MUT("flag bit 0 (keyed-hash mode) without a secret id",
	    SNAPSHOT_E_BAD_FIELD, g[11] = 1);
	MUT("flag bit 1", SNAPSHOT_E_UNKNOWN_FLAGS, g[11] = 2);
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
	    g[208] = 1);
	/* Header fields refused even when hashed and signed properly. */
	MUT("signed: base in full", SNAPSHOT_E_BAD_FIELD,
	    (g[95] = 1, resign(g, len)));
	MUT("signed: flag bit 0 without a secret id", SNAPSHOT_E_BAD_FIELD,
	    (g[11] = 1, resign(g, len)));
	MUT("signed: flag bit 0 with a secret id opens", 0,
	    (g[11] = 1, g[170] = 1, resign(g, len)));
	MUT("signed: re-signed after a serial change opens", 0,
	    (g[86] ^= 1, resign(g, len)));

	for (i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		c = code_of(f, cuts[i], ring_a);
		CHECK(c == (cuts[i] && cuts[i] < 8 ? SNAPSHOT_E_TRUNCATED :
			    SNAPSHOT_E_TRUNCATED),
		      "cut at byte %zu: truncated (got %s) %s", cuts[i],
		      snapshot_strerror(c), last_err);
	}
	c = code_of(f, 320 + pl / 2, ring_a);
	CHECK(c == SNAPSHOT_E_TRUNCATED, "cut mid-payload: truncated");
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
	sign_sign(key_b, g, 256, g + 256, NULL, 0);
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
		      NULL && code == SNAPSHOT_E_NOT_REGULAR,
		      "a directory: not a regular file: %s", err);
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

/* Format version 1: read for one more release, only where accepted. */
static void test_v1(void)
{
	struct snapshot_source no_v1 = { 0 }, v1 = { .accept_v1 = 1 };
	struct bytes p = { 0 };
	struct hdr h = full_hdr(2);
	struct snapshot *s;
	unsigned char *f;
	char err[1024];
	size_t len;
	int c, fd;

	rec_full(&p, "a@x", CATALOG_PERSON, "a");
	rec_full(&p, "b@x", CATALOG_PERSON, NULL);
	h.version = 1;
	f = build(&h, &p, &len, key_a);
	c = code_of(f, len, ring_a);
	CHECK(c == 0, "a version 1 file opens (admin tools): %s", last_err);
	s = snapshot_open_mem(f, len, "v1", ring_a, &c, err, sizeof(err));
	CHECK(s && snapshot_header(s)->version == 1 &&
	      snapshot_header(s)->epoch == 0 &&
	      snapshot_header(s)->payload_offset == 256,
	      "version 1: epoch 0, payload at 256");
	snapshot_close(s);
	spit("v1.snap", f, len);
	fd = open(path_in("v1.snap"), O_RDONLY | O_CLOEXEC);
	s = snapshot_read(fd, "v1.snap", &no_v1, ring_a, &c, err, sizeof(err));
	CHECK(!s && c == SNAPSHOT_E_BAD_VERSION && strstr(err, "version 1"),
	      "version 1 where it is not accepted: refused: %s", err);
	s = snapshot_read(fd, "v1.snap", &v1, ring_a, &c, err, sizeof(err));
	CHECK(s && snapshot_header(s)->records == 2,
	      "version 1 where it is accepted: read: %s", s ? "" : err);
	snapshot_close(s);
	close(fd);
	f[256 + 3] ^= 1;
	c = code_of(f, len, ring_a);
	CHECK(c == SNAPSHOT_E_BAD_HASH, "version 1, payload byte flipped: bad "
	      "payload hash");
	f[256 + 3] ^= 1;
	f[len - 1] ^= 1;
	c = code_of(f, len, ring_a);
	CHECK(c == SNAPSHOT_E_BAD_SIGNATURE, "version 1, signature byte "
	      "flipped: bad signature");
	f[len - 1] ^= 1;
	f[200] = 1;
	c = code_of(f, len, ring_a);
	CHECK(c == SNAPSHOT_E_BAD_FIELD, "version 1 has no epoch: byte 200 "
	      "is reserved");
	free(f);
	free(p.p);
}

/* Entries in the scratch directory (the private copies leave none). */
static int entries(void)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	while (d && (de = readdir(d)) != NULL)
		n++;
	if (d)
		closedir(d);
	return n;
}

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Reading from a descriptor, the way catalogd reads its inbox. */
static void test_read(void)
{
	struct snapshot_source src_dir = { .copy_dir = dir };
	struct snapshot_source mem = { 0 };
	struct catalog_rec rec;
	struct snapshot *s;
	unsigned char *f;
	char err[1024], k1[64];
	size_t len;
	double t0;
	int fd, c, op, n, before;

	f = slurp("full1.snap", &len);
	if (!f)
		return;
	spit("r.snap", f, len);
	before = entries();
	fd = open(path_in("r.snap"), O_RDWR | O_CLOEXEC);
	s = snapshot_read(fd, "r.snap", &src_dir, ring_a, &c, err,
			  sizeof(err));
	CHECK(s != NULL, "read into a private copy in a directory: %s",
	      s ? "" : err);
	CHECK(entries() == before, "the copy has no name in the directory");
	/* The file's writer changes every payload byte afterwards. */
	{
		unsigned char *z = xcalloc(1, len);

		CHECK(pwrite(fd, z, len - 320, 320) == (ssize_t)(len - 320),
		      "the file is overwritten after the read");
		free(z);
	}
	n = 0;
	k1[0] = '\0';
	while (s && snapshot_next(s, &op, &rec) == 1) {
		if (n++ == 0)
			snprintf(k1, sizeof(k1), "%.*s", (int)rec.keylen,
				 rec.key);
	}
	CHECK(n == 6 && !strcmp(k1, "@example.org"),
	      "records come from the copy, as verified (%d, first %s)", n, k1);
	snapshot_close(s);
	close(fd);
	CHECK(entries() == before, "nothing left behind");

	/* The caller's size limit: the file at N, then at N + 1. */
	spit("r.snap", f, len);
	fd = open(path_in("r.snap"), O_RDONLY | O_CLOEXEC);
	mem.max_size = len;
	s = snapshot_read(fd, "r.snap", &mem, ring_a, &c, err, sizeof(err));
	CHECK(s != NULL, "file of max_size bytes: read");
	snapshot_close(s);
	mem.max_size = len - 1;
	s = snapshot_read(fd, "r.snap", &mem, ring_a, &c, err, sizeof(err));
	CHECK(!s && c == SNAPSHOT_E_TOO_LARGE,
	      "file of max_size + 1 bytes: too large: %s", err);
	close(fd);
	mem.max_size = 0;

	/* A FIFO: refused at once, never waited on. */
	unlink(path_in("fifo.snap"));
	CHECK(mkfifo(path_in("fifo.snap"), 0600) == 0, "a FIFO");
	fd = open(path_in("fifo.snap"), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	t0 = mono();
	s = snapshot_read(fd, "fifo.snap", &mem, ring_a, &c, err, sizeof(err));
	CHECK(!s && c == SNAPSHOT_E_NOT_REGULAR && mono() - t0 < 1 &&
	      strstr(err, "FIFO"), "FIFO: not a regular file: %s", err);
	close(fd);
	s = snapshot_open(path_in("fifo.snap"), ring_a, &c, err, sizeof(err));
	CHECK(!s && c == SNAPSHOT_E_NOT_REGULAR,
	      "snapshot_open of a FIFO does not block: %s", err);

	/* 4 GiB, sparse, behind a header that claims exactly that size and
	 * a signature that is not the signer's: refused after the prefix. */
	fd = open(path_in("sparse.snap"), O_RDWR | O_CREAT | O_TRUNC |
		  O_CLOEXEC, 0600);
	util_put_u64(f + 112, (4ULL << 30) / 100);
	util_put_u64(f + 120, (4ULL << 30) - 320);
	CHECK(fd >= 0 && pwrite(fd, f, 320, 0) == 320 &&
	      ftruncate(fd, (off_t)(4ULL << 30)) == 0, "a sparse 4 GiB file");
	t0 = mono();
	s = snapshot_read(fd, "sparse.snap", &src_dir, ring_a, &c, err,
			  sizeof(err));
	t0 = mono() - t0;
	CHECK(!s && c == SNAPSHOT_E_BAD_SIGNATURE && t0 < 0.5,
	      "forged header on 4 GiB: bad signature in %.3f s: %s", t0, err);
	CHECK(entries() == before + 2, "no copy was made (%d entries)",
	      entries());
	close(fd);
	unlink(path_in("sparse.snap"));
	unlink(path_in("fifo.snap"));
	free(f);
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
	snaptest_setup("snapshot");
	test_round_trip();
	test_delta();
	test_write_refusals();
	test_tampering();
	test_records();
	test_v1();
	test_read();
	test_strerror();
	catalog_close(src);
	snaptest_teardown();
	return check_done();
}
