/*
 * dump.c - dircat dump, diff and normalise: read a catalog file or an
 * address the way the programs do.
 */
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "admin.h"
#include "catalog.h"
#include "util.h"

static int dump_full;

/* One record a line: address<TAB>kind[<TAB>owners[<TAB>extra]]. */
static int dump_one(void *arg, const struct catalog_rec *rec)
{
	(void)arg;
	printf("%.*s\t%s", (int)rec->keylen, rec->key,
	       catalog_kind_name(rec->kind));
	if (dump_full) {
		size_t i;

		printf("\t%.*s\t", (int)rec->ownerslen, rec->owners);
		for (i = 0; i < rec->extralen; i++)
			putchar(rec->extra[i] == '\n' ? ';' : rec->extra[i]);
	}
	putchar('\n');
	return ferror(stdout) ? -1 : 0;
}

int admin_dump(int argc, char **argv)
{
	struct catalog *cat;
	struct catalog_read *r;
	char err[512];
	int rc, i = 1;

	if (argc > 1 && !strcmp(argv[1], "--full")) {
		dump_full = 1;
		i++;
	}
	if (argc != i + 1) {
		fprintf(stderr, "usage: dircat dump [--full] CATALOG\n");
		return 2;
	}
	cat = catalog_open(argv[i], CATALOG_RDONLY, err, sizeof(err));
	if (!cat) {
		fprintf(stderr, "dircat: %s\n", err);
		return 3;
	}
	r = catalog_read_begin(cat, err, sizeof(err));
	if (!r) {
		fprintf(stderr, "dircat: %s\n", err);
		catalog_close(cat);
		return 3;
	}
	rc = catalog_foreach(r, dump_one, NULL);
	catalog_read_end(r);
	catalog_close(cat);
	if (rc || fflush(stdout)) {
		fprintf(stderr, "dircat: %s: read error\n", argv[i]);
		return 3;
	}
	return 0;
}

/* 1 when two records carry the same data. */
static int diff_same(const struct catalog_rec *a, const struct catalog_rec *b)
{
	return a->kind == b->kind && a->ownerslen == b->ownerslen &&
	       a->extralen == b->extralen &&
	       !memcmp(a->owners, b->owners, a->ownerslen) &&
	       !memcmp(a->extra, b->extra, a->extralen);
}

/* Walk two catalogs side by side, like comm(1); 0 same, 1 differ. */
static int admin_diff_walk(struct catalog_read *ra, struct catalog_read *rb)
{
	struct catalog_iter *ia = catalog_iter_new(ra), *ib = catalog_iter_new(rb);
	struct catalog_rec a, b;
	int ga, gb, differ = 0;

	if (!ia || !ib) {
		catalog_iter_free(ia);
		catalog_iter_free(ib);
		return 3;
	}
	ga = catalog_iter_next(ia, &a);
	gb = catalog_iter_next(ib, &b);
	while (ga > 0 || gb > 0) {
		int c;

		if (ga > 0 && gb > 0) {
			size_t n = a.keylen < b.keylen ? a.keylen : b.keylen;

			c = memcmp(a.key, b.key, n);
			if (!c)
				c = a.keylen < b.keylen ? -1 : a.keylen > b.keylen;
		} else {
			c = ga > 0 ? -1 : 1;
		}
		if (c < 0) {
			printf("-%.*s\t%s\n", (int)a.keylen, a.key,
			       catalog_kind_name(a.kind));
			differ = 1;
			ga = catalog_iter_next(ia, &a);
		} else if (c > 0) {
			printf("+%.*s\t%s\n", (int)b.keylen, b.key,
			       catalog_kind_name(b.kind));
			differ = 1;
			gb = catalog_iter_next(ib, &b);
		} else {
			if (!diff_same(&a, &b)) {
				printf("~%.*s\t%s\n", (int)b.keylen, b.key,
				       catalog_kind_name(b.kind));
				differ = 1;
			}
			ga = catalog_iter_next(ia, &a);
			gb = catalog_iter_next(ib, &b);
		}
	}
	catalog_iter_free(ia);
	catalog_iter_free(ib);
	if (ga < 0 || gb < 0)
		return 3;
	return differ;
}

/* Walk two catalogs side by side, like comm(1). */
int admin_diff(int argc, char **argv)
{
	struct catalog *a = NULL, *b = NULL;
	struct catalog_read *ra = NULL, *rb = NULL;
	char err[512];
	int status = 3;

	if (argc != 3) {
		fprintf(stderr, "usage: dircat diff OLD NEW\n");
		return 2;
	}
	a = catalog_open(argv[1], CATALOG_RDONLY, err, sizeof(err));
	if (a)
		b = catalog_open(argv[2], CATALOG_RDONLY, err, sizeof(err));
	if (b)
		ra = catalog_read_begin(a, err, sizeof(err));
	if (ra)
		rb = catalog_read_begin(b, err, sizeof(err));
	if (!rb) {
		fprintf(stderr, "dircat: %s\n", err);
		goto out;
	}
	status = admin_diff_walk(ra, rb);
out:
	catalog_read_end(rb);
	catalog_read_end(ra);
	catalog_close(b);
	catalog_close(a);
	return status;
}

int admin_normalise(int argc, char **argv)
{
	char out[ADDR_BUF], err[256];
	int i, status = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: dircat normalise ADDRESS...\n");
		return 2;
	}
	for (i = 1; i < argc; i++) {
		if (addr_normalise(argv[i], strlen(argv[i]), out, sizeof(out),
				   ADDR_CATCHALL | ADDR_BRACKETS, err,
				   sizeof(err)) < 0) {
			printf("%s\tinvalid: %s\n", argv[i], err);
			status = 1;
		} else {
			printf("%s\n", out);
		}
	}
	return status;
}
