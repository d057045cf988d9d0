/*
 * catfill.h - fill a catalog with a small table of records, for the unit
 * tests and the fuzz targets that look things up in one.
 *
 * catfill(cat, recs, n, err, errlen) makes exactly recs[0..n) the
 * catalog's content in one write transaction (they are put in key order
 * here, so the table may be in any order).  Returns the serial after the
 * commit, or 0 with err.  At most CATFILL_MAX records.
 * CATFILL_LOOKUP_RECS is the example catalog of test_lookup and
 * fuzz_lookup: exact keys, an extension, catch-alls, local domains and
 * subdomains, an internationalised domain, owners.
 */
#ifndef DIRCAT_CATFILL_H
#define DIRCAT_CATFILL_H

#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "util.h"

#define CATFILL_MAX 256

struct catfill_rec {
	const char *key;
	int kind;
	const char *owners;
};

#define CATFILL_LOOKUP_RECS \
	{ ".sub.example.org", CATALOG_DOMAIN, "" }, \
	{ "@catchall.example", CATALOG_MAILIN, "" }, \
	{ "a+b@example.com", CATALOG_PERSON, "plus" }, \
	{ "catchall.example", CATALOG_DOMAIN, "" }, \
	{ "example.com", CATALOG_DOMAIN, "" }, \
	{ "info@catchall.example", CATALOG_GROUP, "boss" }, \
	{ "jsmith@example.com", CATALOG_PERSON, "jsmith" }, \
	{ "nobody-owns@example.com", CATALOG_MAILIN, "" }, \
	{ "sales@example.com", CATALOG_GROUP, "jsmith,Adm@Example.COM" }, \
	{ "x@deep.sub.example.org", CATALOG_PERSON, "x" }, \
	{ "xn--bcher-kva.example", CATALOG_DOMAIN, "" }, \
	{ "anna@xn--bcher-kva.example", CATALOG_PERSON, "anna" }

struct catfill_feed {
	const struct catfill_rec *recs;
	size_t order[CATFILL_MAX], n, i;
};

/* Key order as the catalog wants it: memcmp, the shorter first. */
static inline int catfill_keycmp(const char *x, const char *y)
{
	size_t xl = strlen(x), yl = strlen(y);
	int c = memcmp(x, y, xl < yl ? xl : yl);

	return c ? c : (xl < yl ? -1 : xl > yl);
}

static inline int catfill_next(void *arg, struct catalog_rec *rec, char *err,
			       size_t errlen)
{
	struct catfill_feed *f = arg;
	const struct catfill_rec *r;

	(void)err;
	(void)errlen;
	if (f->i == f->n)
		return 0;
	r = &f->recs[f->order[f->i++]];
	memset(rec, 0, sizeof(*rec));
	rec->key = r->key;
	rec->keylen = strlen(r->key);
	rec->kind = r->kind;
	rec->owners = r->owners;
	rec->ownerslen = strlen(r->owners);
	return 1;
}

static inline uint64_t catfill(struct catalog *cat,
			       const struct catfill_rec *recs, size_t n,
			       char *err, size_t errlen)
{
	struct catfill_feed *f;
	struct catalog_txn *t;
	uint64_t serial = 0;
	size_t i, j;

	if (n > CATFILL_MAX) {
		util_err(err, errlen, "more than %d records", CATFILL_MAX);
		return 0;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return 0;
	f->recs = recs;
	f->n = n;
	/* Insertion sort of the indexes: the tables are small. */
	for (i = 0; i < n; i++) {
		for (j = i; j > 0 && catfill_keycmp(recs[f->order[j - 1]].key,
						    recs[i].key) > 0; j--)
			f->order[j] = f->order[j - 1];
		f->order[j] = i;
	}
	t = catalog_write_begin(cat, err, errlen);
	if (t && catalog_txn_replace_all(t, catfill_next, f, err, errlen) == 0)
		serial = catalog_txn_commit(t, err, errlen);
	else if (t)
		catalog_txn_abort(t);
	free(f);
	return serial;
}

#endif
