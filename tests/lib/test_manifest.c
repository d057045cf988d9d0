/*
 * test_manifest.c - the publish manifest: round trip, every limit at N and
 * N + 1, hostile text (grammar, forged and replayed copies), freshness,
 * ordering, and the cheapest path to the latest serial.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "manifest.h"
#include "snapshot.h"

static struct sign_key *key, *other;
static struct sign_keyring *ring;

/* A manifest of serial 10 with deltas 7-8, 8-9, 9-10 and 7-10. */
static void sample(struct manifest *m)
{
	static const struct { uint64_t base, serial, size; } d[] = {
		{ 7, 8, 1000 }, { 8, 9, 1000 }, { 7, 10, 5000 }, { 9, 10, 1000 },
	};
	size_t i;

	memset(m, 0, sizeof(*m));
	strcpy(m->catalog_id, "corp");
	strcpy(m->projection, "all");
	m->epoch = 2;
	m->serial = 10;
	m->published = 1700000000;
	m->expires = 1700007200;
	m->full.full = 1;
	m->full.serial = 10;
	m->full.size = 100000;
	strcpy(m->full.name, "corp.e2.10.full.snap");
	m->full.expires = 1700600000;
	memset(m->full.sha256, 0xab, sizeof(m->full.sha256));
	for (i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		struct manifest_file *f = &m->deltas[m->ndeltas++];

		f->base = d[i].base;
		f->serial = d[i].serial;
		f->size = d[i].size;
		snprintf(f->name, sizeof(f->name), "corp.e2.%llu-%llu.delta.snap",
			 (unsigned long long)f->base,
			 (unsigned long long)f->serial);
		f->expires = 1700500000 + (int64_t)i;
		memset(f->sha256, (int)i + 1, sizeof(f->sha256));
	}
}

/* Write m signed with k into b (reset first). */
static int render(const struct manifest *m, const struct sign_key *k,
		  struct buf *b)
{
	char err[512];

	b->len = 0;
	if (manifest_write(m, k, b, err, sizeof(err)) < 0) {
		printf("      write: %s\n", err);
		return -1;
	}
	return 0;
}

/* Sign arbitrary body text with key: the body followed by its
 * signature line, into b. */
static void sign_text(const char *body, size_t len, struct buf *b)
{
	unsigned char sig[SIGN_SIG_LEN];
	char err[256];
	size_t i;

	b->len = 0;
	buf_append(b, body, len);
	if (sign_sign(key, body, len, sig, err, sizeof(err)) < 0)
		abort();
	buf_printf(b, "signature ");
	for (i = 0; i < SIGN_SIG_LEN; i++)
		buf_printf(b, "%02x", sig[i]);
	buf_printf(b, "\n");
}

static int parse(const struct buf *b, struct manifest *m, int *code,
		 char *err, size_t errlen)
{
	return manifest_parse(b->data, b->len, ring, m, code, err, errlen);
}

/* The manifest's text with the first occurrence of from replaced by to,
 * signed again; returns parse's code. */
static int edited(const struct manifest *m, const char *from, const char *to,
		  char *err, size_t errlen)
{
	struct buf b, body;
	struct manifest out;
	char *text, *at, *sigline;
	int code = -1;

	buf_init(&b, 4 * MANIFEST_FILE_MAX);
	buf_init(&body, 4 * MANIFEST_FILE_MAX);
	if (render(m, key, &b) < 0 || buf_append(&b, "", 1) < 0)
		abort();
	text = (char *)b.data;
	sigline = strstr(text, "signature ");
	*sigline = '\0';
	at = strstr(text, from);
	if (!at)
		abort();
	buf_append(&body, text, (size_t)(at - text));
	buf_append(&body, to, strlen(to));
	buf_append(&body, at + strlen(from), strlen(at + strlen(from)));
	sign_text((const char *)body.data, body.len, &b);
	(void)parse(&b, &out, &code, err, errlen);
	buf_free(&b);
	buf_free(&body);
	return code;
}

static void test_round_trip(void)
{
	struct manifest m, out;
	struct buf b;
	char err[512];
	int code;

	sample(&m);
	buf_init(&b, MANIFEST_FILE_MAX);
	CHECK(render(&m, key, &b) == 0, "write a manifest");
	CHECK(parse(&b, &out, &code, err, sizeof(err)) == 0 &&
	      code == MANIFEST_OK, "it parses and verifies (%s)", err);
	CHECK_STR(out.catalog_id, "corp", "catalog id");
	CHECK_STR(out.projection, "all", "projection");
	CHECK(out.epoch == 2 && out.serial == 10, "epoch and serial");
	CHECK(out.published == 1700000000 && out.expires == 1700007200,
	      "published and expires");
	CHECK_STR(out.key_id, sign_key_id(key), "key id is the signer's");
	CHECK(out.ndeltas == 4 && out.deltas[2].base == 7 &&
	      out.deltas[2].serial == 10 && out.deltas[2].size == 5000,
	      "deltas in order");
	CHECK(!memcmp(out.full.sha256, m.full.sha256, SIGN_SHA256_LEN) &&
	      out.full.full && out.full.size == 100000, "full snapshot line");
	CHECK(!strncmp((char *)b.data, "dircat-manifest 1\ncatalog corp\n"
		       "projection all\nepoch 2\nserial 10\n", 53),
	      "text starts as documented");

	/* Without a keyring: parsed, not verified. */
	CHECK(manifest_parse(b.data, b.len, NULL, &out, &code, err,
			     sizeof(err)) == 0, "parse without keys");

	/* Any single changed byte is refused. */
	b.data[40] ^= 1;
	CHECK(parse(&b, &out, &code, err, sizeof(err)) < 0,
	      "a flipped byte is refused (%s)", err);
	b.data[40] ^= 1;
	b.data[b.len - 5] = b.data[b.len - 5] == '0' ? '1' : '0';
	CHECK(parse(&b, &out, &code, err, sizeof(err)) < 0 &&
	      code == MANIFEST_E_BAD_SIGNATURE, "a changed signature: bad "
	      "signature (%s)", err);

	/* Signed by a key not trusted. */
	CHECK(render(&m, other, &b) == 0, "write with another key");
	CHECK(parse(&b, &out, &code, err, sizeof(err)) < 0 &&
	      code == MANIFEST_E_UNKNOWN_KEY && strstr(err, "not trusted"),
	      "untrusted key refused (%s)", err);
	buf_free(&b);
}

static void test_limits(void)
{
	struct manifest *m = malloc(sizeof(*m)), *out = malloc(sizeof(*out));
	struct buf b;
	char err[512], name[MANIFEST_NAME_MAX + 2], line[MANIFEST_LINE_MAX + 2];
	size_t i;
	int code;

	buf_init(&b, 4 * MANIFEST_FILE_MAX);
	/* MANIFEST_DELTAS_MAX deltas with the longest names. */
	sample(m);
	m->serial = MANIFEST_DELTAS_MAX + 1;
	m->full.serial = m->serial;
	m->ndeltas = 0;
	for (i = 0; i < MANIFEST_DELTAS_MAX; i++) {
		struct manifest_file *f = &m->deltas[m->ndeltas++];

		memset(f, 0, sizeof(*f));
		f->base = i + 1;
		f->serial = i + 2;
		f->size = 400;
		f->expires = 1;
		memset(f->name, 'a', MANIFEST_NAME_MAX);
		snprintf(f->name, sizeof(f->name), "%05zu", i);
		f->name[5] = 'a';
	}
	CHECK(render(m, key, &b) == 0 &&
	      parse(&b, out, &code, err, sizeof(err)) == 0 &&
	      out->ndeltas == MANIFEST_DELTAS_MAX,
	      "%d deltas with %d-byte names: accepted (%zu bytes)",
	      MANIFEST_DELTAS_MAX, MANIFEST_NAME_MAX, b.len);
	CHECK(b.len <= MANIFEST_FILE_MAX, "the largest manifest fits "
	      "MANIFEST_FILE_MAX");
	m->ndeltas = MANIFEST_DELTAS_MAX + 1;
	CHECK(render(m, key, &b) < 0, "%d deltas: refused by the writer",
	      MANIFEST_DELTAS_MAX + 1);
	free(m);

	/* One delta line too many, crafted by hand. */
	sample(out);
	{
		struct buf body;

		buf_init(&body, 4 * MANIFEST_FILE_MAX);
		buf_printf(&body, "dircat-manifest 1\ncatalog corp\nprojection "
			   "all\nepoch 0\nserial 300\npublished 1\nexpires 2\n"
			   "key %s\nfull f 300 400 9 %064d\n", sign_key_id(key), 0);
		for (i = 1; i <= MANIFEST_DELTAS_MAX + 1; i++)
			buf_printf(&body, "delta d%zu %zu %zu 400 9 %064d\n", i,
				   i, i + 1, 0);
		sign_text((char *)body.data, body.len, &b);
		CHECK(parse(&b, out, &code, err, sizeof(err)) < 0 &&
		      code == MANIFEST_E_TOO_LARGE &&
		      strstr(err, "line 266 "),
		      "%d delta lines: too large, on its line (%s)",
		      MANIFEST_DELTAS_MAX + 1, err);
		buf_free(&body);
	}

	/* File size: at the limit the size is fine (other errors), one
	 * more byte is too large. */
	b.len = 0;
	for (i = 0; i < MANIFEST_FILE_MAX; i++)
		buf_append(&b, i % 100 == 99 ? "\n" : "x", 1);
	CHECK(parse(&b, out, &code, err, sizeof(err)) < 0 &&
	      code == MANIFEST_E_SYNTAX, "%d bytes: not refused for its size",
	      MANIFEST_FILE_MAX);
	buf_append(&b, "x", 1);
	CHECK(parse(&b, out, &code, err, sizeof(err)) < 0 &&
	      code == MANIFEST_E_TOO_LARGE, "%d bytes: too large",
	      MANIFEST_FILE_MAX + 1);

	/* Line length: MANIFEST_LINE_MAX with its newline passes the length
	 * check, one more does not. */
	memset(line, 'x', sizeof(line));
	b.len = 0;
	buf_append(&b, line, MANIFEST_LINE_MAX - 1);
	buf_append(&b, "\n", 1);
	CHECK(parse(&b, out, &code, err, sizeof(err)) < 0 &&
	      code == MANIFEST_E_SYNTAX, "a %d-byte line: only a syntax "
	      "error", MANIFEST_LINE_MAX);
	b.len = 0;
	buf_append(&b, line, MANIFEST_LINE_MAX);
	buf_append(&b, "\n", 1);
	CHECK(parse(&b, out, &code, err, sizeof(err)) < 0 &&
	      code == MANIFEST_E_TOO_LARGE, "a %d-byte line: too large (%s)",
	      MANIFEST_LINE_MAX + 1, err);

	/* Name length. */
	sample(out);
	memset(name, 'n', sizeof(name));
	name[MANIFEST_NAME_MAX] = '\0';
	snprintf(line, sizeof(line), "full %s ", name);
	CHECK(edited(out, "full corp.e2.10.full.snap ", line, err,
		     sizeof(err)) == MANIFEST_OK, "a %d-byte name: accepted",
	      MANIFEST_NAME_MAX);
	name[MANIFEST_NAME_MAX] = 'n';
	name[MANIFEST_NAME_MAX + 1] = '\0';
	snprintf(line, sizeof(line), "full %s ", name);
	CHECK(edited(out, "full corp.e2.10.full.snap ", line, err,
		     sizeof(err)) == MANIFEST_E_FIELD, "a %d-byte name: refused "
	      "(%s)", MANIFEST_NAME_MAX + 1, err);

	/* Lifetime. */
	snprintf(line, sizeof(line), "expires %lld\n",
		 1700000000LL + MANIFEST_LIFETIME_MAX);
	CHECK(edited(out, "expires 1700007200\n", line, err, sizeof(err)) ==
	      MANIFEST_OK, "lifetime at the limit: accepted");
	snprintf(line, sizeof(line), "expires %lld\n",
		 1700000000LL + MANIFEST_LIFETIME_MAX + 1);
	CHECK(edited(out, "expires 1700007200\n", line, err, sizeof(err)) ==
	      MANIFEST_E_FIELD, "lifetime one second over: refused (%s)", err);

	/* Snapshot sizes. */
	snprintf(line, sizeof(line), " 10 %d ", MANIFEST_SNAPSHOT_MIN);
	CHECK(edited(out, " 10 100000 ", line, err, sizeof(err)) ==
	      MANIFEST_OK, "smallest snapshot size: accepted");
	snprintf(line, sizeof(line), " 10 %d ", MANIFEST_SNAPSHOT_MIN - 1);
	CHECK(edited(out, " 10 100000 ", line, err, sizeof(err)) ==
	      MANIFEST_E_FIELD, "one byte smaller: refused (%s)", err);
	snprintf(line, sizeof(line), " 10 %llu ",
		 (unsigned long long)SNAPSHOT_FILE_MAX);
	CHECK(edited(out, " 10 100000 ", line, err, sizeof(err)) ==
	      MANIFEST_OK, "largest snapshot size: accepted");
	snprintf(line, sizeof(line), " 10 %llu ",
		 (unsigned long long)SNAPSHOT_FILE_MAX + 1);
	CHECK(edited(out, " 10 100000 ", line, err, sizeof(err)) ==
	      MANIFEST_E_FIELD, "one byte larger: refused (%s)", err);
	free(out);
	buf_free(&b);
}

struct hostile {
	const char *from, *to;
	int code;
	const char *where;	/* in the message */
	const char *name;
};

static const struct hostile hostile[] = {
	{ "dircat-manifest 1\n", "dircat-manifest 2\n", MANIFEST_E_SYNTAX,
	  "line 1 column 1", "another version" },
	{ "epoch 2\n", "epoch 02\n", MANIFEST_E_SYNTAX, "line 4 column 7",
	  "a leading zero" },
	{ "epoch 2\n", "epoch 2 \n", MANIFEST_E_SYNTAX, "line 4",
	  "a trailing space" },
	{ "epoch 2\n", "epoch  2\n", MANIFEST_E_SYNTAX, "line 4",
	  "two spaces" },
	{ "epoch 2\n", "epoch 2\r\n", MANIFEST_E_SYNTAX, "line 4",
	  "a CR" },
	{ "epoch 2\n", "epoch -2\n", MANIFEST_E_SYNTAX, "line 4 column 7",
	  "a sign" },
	{ "epoch 2\n", "epoch 18446744073709551616\n", MANIFEST_E_SYNTAX,
	  "line 4", "a number over 64 bits" },
	{ "epoch 2\n", "", MANIFEST_E_SYNTAX, "line 4 column 1",
	  "a missing line" },
	{ "serial 10\n", "serial 0\n", MANIFEST_E_FIELD, "line 5",
	  "serial 0" },
	{ "catalog corp\n", "catalog co/rp\n", MANIFEST_E_FIELD, "line 2",
	  "a catalog id with a slash" },
	{ "projection all\n", "projection All\n", MANIFEST_E_FIELD, "line 3",
	  "an upper-case projection" },
	{ "expires 1700007200\n", "expires 1700000000\n", MANIFEST_E_FIELD,
	  "line 7", "expires == published" },
	{ "full corp.e2.10.full.snap 10 ", "full corp.e2.10.full.snap 9 ",
	  MANIFEST_E_FIELD, "line 9", "a full snapshot of another serial" },
	{ "full corp.e2.10.full.snap", "full ../etc/passwd", MANIFEST_E_FIELD,
	  "line 9 column 6", "a name with a path" },
	{ "full corp.e2.10.full.snap", "full .hidden", MANIFEST_E_FIELD,
	  "line 9", "a dot name" },
	{ "delta corp.e2.8-9.delta.snap 8 9", "delta corp.e2.8-9.delta.snap 9 9",
	  MANIFEST_E_FIELD, "line 11", "a delta with base == serial" },
	{ "delta corp.e2.8-9.delta.snap 8 9", "delta corp.e2.8-9.delta.snap 8 11",
	  MANIFEST_E_FIELD, "line 11", "a delta past the latest serial" },
	{ "delta corp.e2.8-9.delta.snap 8 9", "delta corp.e2.8-9.delta.snap 6 7",
	  MANIFEST_E_FIELD, "line 11", "deltas out of order" },
	{ "corp.e2.9-10.delta.snap", "corp.e2.8-9.delta.snap",
	  MANIFEST_E_FIELD, "line 13", "a name given twice" },
	{ "delta ", "dleta ", MANIFEST_E_SYNTAX, "line 10", "an unknown line" },
	{ "key ", "key 00", MANIFEST_E_SYNTAX, "line 8", "a long key id" },
	{ " 1700600000 ", " 0 ", MANIFEST_E_FIELD, "line 9",
	  "a snapshot expiry of 0" },
};

static void test_hostile(void)
{
	struct manifest m, out;
	struct buf b;
	char err[512];
	size_t i;
	int code;

	sample(&m);
	for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		const struct hostile *h = &hostile[i];

		err[0] = '\0';
		code = edited(&m, h->from, h->to, err, sizeof(err));
		CHECK(code == h->code && strstr(err, h->where),
		      "%s: %s", h->name, err);
	}

	buf_init(&b, 2 * MANIFEST_FILE_MAX);
	render(&m, key, &b);
	buf_append(&b, "x\n", 2);
	CHECK(parse(&b, &out, &code, err, sizeof(err)) < 0 &&
	      code == MANIFEST_E_SYNTAX && strstr(err, "after the signature"),
	      "text after the signature: refused (%s)", err);
	b.len -= 3;
	CHECK(parse(&b, &out, &code, err, sizeof(err)) < 0 &&
	      strstr(err, "newline"), "no final newline: refused (%s)", err);
	b.len = 0;
	CHECK(parse(&b, &out, &code, err, sizeof(err)) < 0, "empty: refused");
	buf_append(&b, "dircat-manifest 1\n", 18);
	CHECK(parse(&b, &out, &code, err, sizeof(err)) < 0 &&
	      strstr(err, "ends early"), "cut after line 1: refused (%s)", err);
	b.len = 0;
	buf_append(&b, "dircat-manifest 1\0\n", 19);
	CHECK(parse(&b, &out, &code, err, sizeof(err)) < 0 &&
	      strstr(err, "NUL"), "a NUL byte: refused (%s)", err);
	buf_free(&b);
}

static void test_fresh_and_order(void)
{
	struct manifest m;
	char err[512];

	sample(&m);
	CHECK(manifest_fresh(&m, m.expires - 1, err, sizeof(err)) == 0,
	      "fresh one second before it expires");
	CHECK(manifest_fresh(&m, m.expires, err, sizeof(err)) < 0 &&
	      strstr(err, "stale or frozen"), "stale when it expires (%s)",
	      err);
	CHECK(manifest_order(1, 5, 10, 1, 5, 10) == 0, "same manifest");
	CHECK(manifest_order(1, 5, 9, 1, 5, 10) < 0, "older publication");
	CHECK(manifest_order(1, 4, 99, 1, 5, 10) < 0, "older serial");
	CHECK(manifest_order(2, 1, 1, 1, 500, 10) > 0,
	      "a new epoch beats a higher serial");
	CHECK(manifest_order(0, 500, 10, 1, 1, 1) < 0,
	      "an old epoch loses to a lower serial");
}

#define NOW 1700000100

static void test_plan(void)
{
	struct manifest m;
	const struct manifest_file *steps[MANIFEST_PLAN_MAX];
	size_t n = 0;
	char err[256];

	sample(&m);
	CHECK(manifest_plan(&m, 2, 10, NOW, steps, &n, err, sizeof(err)) == 0 &&
	      n == 0, "current: nothing");
	CHECK(manifest_plan(&m, 2, 9, NOW, steps, &n, err, sizeof(err)) == 1 &&
	      n == 1 && steps[0]->base == 9, "one delta behind: 9-10");
	CHECK(manifest_plan(&m, 2, 7, NOW, steps, &n, err, sizeof(err)) == 1 &&
	      n == 3 && steps[0]->base == 7 && steps[1]->base == 8 &&
	      steps[2]->base == 9, "three small deltas beat one large "
	      "(3000 < 5000 bytes)");
	m.deltas[2].size = 2500;
	CHECK(manifest_plan(&m, 2, 7, NOW, steps, &n, err, sizeof(err)) == 1 &&
	      n == 1 && steps[0]->base == 7 && steps[0]->serial == 10,
	      "one delta beats three when smaller");
	m.full.size = 2000;
	CHECK(manifest_plan(&m, 2, 7, NOW, steps, &n, err, sizeof(err)) == 1 &&
	      n == 1 && steps[0]->full, "the full snapshot when cheaper");
	m.full.size = 100000;
	CHECK(manifest_plan(&m, 2, 5, NOW, steps, &n, err, sizeof(err)) == 1 &&
	      n == 1 && steps[0]->full, "older than the chain: full");
	CHECK(manifest_plan(&m, 2, 0, NOW, steps, &n, err, sizeof(err)) == 1 &&
	      n == 1 && steps[0]->full, "a new node: full");
	CHECK(manifest_plan(&m, 1, 9, NOW, steps, &n, err, sizeof(err)) == 1 &&
	      n == 1 && steps[0]->full, "an older epoch: full, never a delta");
	CHECK(manifest_plan(&m, 3, 1, NOW, steps, &n, err, sizeof(err)) < 0 &&
	      strstr(err, "ahead"), "a node in a newer epoch: refused (%s)",
	      err);
	CHECK(manifest_plan(&m, 2, 11, NOW, steps, &n, err, sizeof(err)) < 0,
	      "a node at a higher serial: refused");
	m.deltas[3].expires = NOW;
	CHECK(manifest_plan(&m, 2, 9, NOW, steps, &n, err, sizeof(err)) == 1 &&
	      n == 1 && steps[0]->full, "an expired delta is not used");
	m.deltas[3].expires = NOW + 1;
	/* A gap in the chain. */
	m.deltas[1].base = 6;
	m.deltas[1].serial = 7;
	m.deltas[2].size = 99999999;
	CHECK(manifest_plan(&m, 2, 8, NOW, steps, &n, err, sizeof(err)) == 1 &&
	      n == 1 && steps[0]->full, "a gap in the chain: full");
}

int main(void)
{
	char err[256];

	key = sign_key_generate(err, sizeof(err));
	other = sign_key_generate(err, sizeof(err));
	ring = sign_keyring_new();
	if (!key || !other || sign_keyring_add_key(ring, key, err,
						   sizeof(err)) < 0)
		return 2;
	test_round_trip();
	test_limits();
	test_hostile();
	test_fresh_and_order();
	test_plan();
	sign_key_free(key);
	sign_key_free(other);
	sign_keyring_free(ring);
	return check_done();
}
