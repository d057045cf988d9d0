/*
 * diff.c - dircat diff: what changes between two catalogs or snapshots.
 *
 *   dircat diff [-s] [--key PUB]... OLD NEW
 *
 * OLD and NEW are each a catalog file or a snapshot file (told apart by
 * the snapshot magic).  A snapshot is read only after its signature
 * checks out against a --key, the way catalogd reads it; NEW may be a
 * delta, which then shows what installing it on OLD would change.  One
 * line a record that differs, in key order, like comm(1):
 *   +ADDRESS<TAB>KIND          only in NEW
 *   -ADDRESS<TAB>KIND          only in OLD
 *   ~ADDRESS<TAB>KIND          in both, kind, owners or extra changed
 * then a summary on stderr (-s: only the summary, on stdout).
 * Exit 0 the same, 1 they differ, 2 usage, 3 unreadable or not trusted.
 */
#include <stdio.h>
#include <string.h>

#include "admin.h"
#include "catalog.h"
#include "sign.h"
#include "snapshot.h"
#include "util.h"

/* One side of the comparison: a catalog or an opened snapshot. */
struct diff_side {
	const char *path;
	struct catalog *cat;
	struct catalog_read *rd;
	struct catalog_iter *it;
	struct catalog_info info;
	struct snapshot *snap;
	const struct snapshot_header *h;
	uint64_t records, domains;	/* what the side holds */
};

/* Counts of what differs. */
struct diff_count {
	uint64_t added, removed, changed, absent_dels;
};

static int diff_is_snapshot(const char *path)
{
	char magic[SNAPSHOT_MAGIC_LEN];
	FILE *f = fopen(path, "rb");
	int yes;

	if (!f)
		return 0;	/* catalog_open() says why */
	yes = fread(magic, 1, sizeof(magic), f) == sizeof(magic) &&
	      !memcmp(magic, SNAPSHOT_MAGIC, SNAPSHOT_MAGIC_LEN);
	fclose(f);
	return yes;
}

static int diff_open(struct diff_side *s, const char *path,
		     const struct sign_keyring *kr)
{
	char err[1024];
	int code;

	memset(s, 0, sizeof(*s));
	s->path = path;
	if (diff_is_snapshot(path)) {
		if (sign_keyring_count(kr) == 0) {
			fprintf(stderr, "dircat: diff: %s is a snapshot: give "
				"the signer's public key with --key PUB\n", path);
			return -1;
		}
		s->snap = snapshot_open(path, kr, &code, err, sizeof(err));
		if (!s->snap) {
			fprintf(stderr, "dircat: diff: %s\n", err);
			return -1;
		}
		s->h = snapshot_header(s->snap);
		return 0;
	}
	s->cat = catalog_open(path, CATALOG_RDONLY, err, sizeof(err));
	if (s->cat)
		s->rd = catalog_read_begin(s->cat, err, sizeof(err));
	if (s->rd && catalog_read_info(s->rd, &s->info) < 0)
		util_copy_text(err, "cannot read the catalog's serial",
			       sizeof(err));
	else if (s->rd)
		s->it = catalog_iter_new(s->rd);
	if (!s->it) {
		fprintf(stderr, "dircat: diff: %s: %s\n", path, err);
		return -1;
	}
	return 0;
}

static void diff_close(struct diff_side *s)
{
	catalog_iter_free(s->it);
	if (s->rd)
		catalog_read_end(s->rd);
	catalog_close(s->cat);
	snapshot_close(s->snap);
}

/* The next record of a side: 1 (op set), 0 at the end, -1 broken. */
static int diff_next(struct diff_side *s, int *op, struct catalog_rec *rec)
{
	int rc;

	if (s->snap)
		return snapshot_next(s->snap, op, rec);
	*op = SNAPSHOT_PUT;
	rc = catalog_iter_next(s->it, rec);
	return rc;
}

/* 1 when two records carry the same data. */
static int diff_same(const struct catalog_rec *a, const struct catalog_rec *b)
{
	return a->kind == b->kind && a->ownerslen == b->ownerslen &&
	       a->extralen == b->extralen &&
	       !memcmp(a->owners, b->owners, a->ownerslen) &&
	       !memcmp(a->extra, b->extra, a->extralen);
}

static int diff_keycmp(const struct catalog_rec *a, const struct catalog_rec *b)
{
	size_t n = a->keylen < b->keylen ? a->keylen : b->keylen;
	int c = memcmp(a->key, b->key, n);

	if (c)
		return c;
	return a->keylen < b->keylen ? -1 : a->keylen > b->keylen;
}

static void diff_line(int quiet, char sign, const struct catalog_rec *r)
{
	if (!quiet)
		printf("%c%.*s\t%s\n", sign, (int)r->keylen, r->key,
		       catalog_kind_name(r->kind));
}

static void diff_tally(struct diff_side *s, const struct catalog_rec *r)
{
	s->records++;
	if (r->kind == CATALOG_DOMAIN)
		s->domains++;
}

/*
 * Walk both sides in key order.  A full NEW replaces OLD, so a key
 * missing from NEW is removed; a delta NEW only puts and deletes, so a
 * key it does not mention stays.  0, or -1 on a broken record.
 */
static int diff_walk(struct diff_side *o, struct diff_side *n, int quiet,
		     struct diff_count *c)
{
	int delta = n->h && n->h->type == SNAPSHOT_DELTA;
	struct catalog_rec a, b;
	int ga, gb, opa, opb;

	memset(c, 0, sizeof(*c));
	ga = diff_next(o, &opa, &a);
	gb = diff_next(n, &opb, &b);
	while (ga > 0 || gb > 0) {
		int k = ga > 0 && gb > 0 ? diff_keycmp(&a, &b) : ga > 0 ? -1 : 1;

		if (k < 0) {			/* only in OLD */
			diff_tally(o, &a);
			if (delta) {
				diff_tally(n, &a);
			} else {
				diff_line(quiet, '-', &a);
				c->removed++;
			}
			ga = diff_next(o, &opa, &a);
			continue;
		}
		if (k > 0) {			/* only in NEW */
			if (opb == SNAPSHOT_DEL) {
				c->absent_dels++;
			} else {
				diff_tally(n, &b);
				diff_line(quiet, '+', &b);
				c->added++;
			}
			gb = diff_next(n, &opb, &b);
			continue;
		}
		diff_tally(o, &a);
		if (opb == SNAPSHOT_DEL) {
			diff_line(quiet, '-', &a);
			c->removed++;
		} else {
			diff_tally(n, &b);
			if (!diff_same(&a, &b)) {
				diff_line(quiet, '~', &b);
				c->changed++;
			}
		}
		ga = diff_next(o, &opa, &a);
		gb = diff_next(n, &opb, &b);
	}
	return ga < 0 || gb < 0 ? -1 : 0;
}

/* "catalog corp serial 12" / "full snapshot corp serial 12" /
 * "delta snapshot corp 11-12". */
static void diff_describe(const struct diff_side *s, char *buf, size_t size)
{
	if (s->h && s->h->type == SNAPSHOT_DELTA)
		snprintf(buf, size, "delta snapshot %s %llu-%llu",
			 s->h->catalog_id, (unsigned long long)s->h->base,
			 (unsigned long long)s->h->serial);
	else if (s->h)
		snprintf(buf, size, "full snapshot %s serial %llu",
			 s->h->catalog_id, (unsigned long long)s->h->serial);
	else
		snprintf(buf, size, "catalog %s serial %llu",
			 s->info.id[0] ? s->info.id : "(no id)",
			 (unsigned long long)s->info.serial);
}

static void diff_summary(FILE *f, const struct diff_side *o,
			 const struct diff_side *n, const struct diff_count *c)
{
	char da[160], db[160];

	diff_describe(o, da, sizeof(da));
	diff_describe(n, db, sizeof(db));
	fprintf(f, "%s (%llu addresses, %llu domains) -> %s (%llu addresses, "
		"%llu domains): %llu added, %llu removed, %llu changed\n",
		da, (unsigned long long)(o->records - o->domains),
		(unsigned long long)o->domains, db,
		(unsigned long long)(n->records - n->domains),
		(unsigned long long)n->domains, (unsigned long long)c->added,
		(unsigned long long)c->removed, (unsigned long long)c->changed);
	if (c->absent_dels)
		fprintf(f, "%llu deletions of addresses OLD does not hold\n",
			(unsigned long long)c->absent_dels);
}

static int diff_usage(void)
{
	fprintf(stderr, "usage: dircat diff [-s] [--key PUB]... OLD NEW\n"
		"  OLD, NEW: catalog files or snapshot files (a snapshot needs "
		"the signer's\n  --key); NEW may be a delta snapshot\n"
		"  -s  only the summary\n"
		"  exit 0 the same, 1 they differ, 2 usage, 3 error\n");
	return 2;
}

int admin_diff(int argc, char **argv)
{
	struct sign_keyring *kr = sign_keyring_new();
	struct diff_side o, n;
	struct diff_count c;
	const char *path[2] = { NULL, NULL };
	char err[1024];
	int i, np = 0, quiet = 0, status = 3;
	uint64_t oserial, nbase;

	for (i = 1; i < argc; i++) {
		const char *key = NULL;

		if (!strcmp(argv[i], "-s") || !strcmp(argv[i], "--summary"))
			quiet = 1;
		else if ((!strcmp(argv[i], "--key") || !strcmp(argv[i], "-k")) &&
			 i + 1 < argc)
			key = argv[++i];
		else if (!strncmp(argv[i], "--key=", 6))
			key = argv[i] + 6;
		else if ((argv[i][0] == '-' && argv[i][1]) || np == 2)
			break;			/* usage */
		else
			path[np++] = argv[i];
		if (key && sign_keyring_add_file(kr, key, err, sizeof(err)) < 0) {
			fprintf(stderr, "dircat: diff: %s\n", err);
			sign_keyring_free(kr);
			return 3;
		}
	}
	if (i < argc || np != 2) {
		sign_keyring_free(kr);
		return diff_usage();
	}
	memset(&n, 0, sizeof(n));
	if (diff_open(&o, path[0], kr) < 0)
		goto out0;
	if (o.h && o.h->type == SNAPSHOT_DELTA) {
		fprintf(stderr, "dircat: diff: %s is a delta snapshot: OLD must "
			"be a catalog or a full snapshot\n", path[0]);
		goto out1;
	}
	if (diff_open(&n, path[1], kr) < 0)
		goto out1;
	if (n.h && n.h->type == SNAPSHOT_DELTA) {
		oserial = o.h ? o.h->serial : o.info.serial;
		nbase = n.h->base;
		if (oserial != nbase)
			fprintf(stderr, "dircat: diff: warning: the delta "
				"starts from serial %llu, OLD is at serial %llu: "
				"catalogd would refuse it\n",
				(unsigned long long)nbase,
				(unsigned long long)oserial);
	}
	if (diff_walk(&o, &n, quiet, &c) < 0) {
		fprintf(stderr, "dircat: diff: a broken record\n");
		goto out2;
	}
	diff_summary(quiet ? stdout : stderr, &o, &n, &c);
	status = c.added || c.removed || c.changed ? 1 : 0;
	if (fflush(stdout)) {
		fprintf(stderr, "dircat: diff: write error\n");
		status = 3;
	}
out2:
	diff_close(&n);
out1:
	diff_close(&o);
out0:
	sign_keyring_free(kr);
	return status;
}
