/*
 * mkcatalog.c - write a catalog file directly, for tests and benchmarks.
 *
 *   mkcatalog [-i ID] [-H HISTORY] [-s SERIAL] [-N] CATALOG < records
 *
 * Reads one record a line: "address kind [owners [extra]]", fields
 * separated by white space (the output of `dircat dump --full` reads
 * back: owners "-" or empty means none, extra items separated by ';').
 * Blank lines and lines starting with '#' are skipped.  The records are
 * sorted and become exactly the catalog's content in one write
 * transaction (catalog_txn_replace_all), so each run makes at most one
 * new serial: none when nothing changed.  Prints the serial afterwards.
 *   -i ID       catalog id to set
 *   -H N        serials of change history to keep (default: the library's)
 *   -s SERIAL   give this serial explicitly (a jump breaks the history)
 *   -N          no fsync (bulk benchmarks)
 * Limits: MKCATALOG_LINE_MAX bytes a line; the catalog's own key limits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "log.h"
#include "util.h"

#define MKCATALOG_LINE_MAX 8192

struct mkcat_rec {
	char *key;
	size_t keylen;
	int kind;
	char *owners;
	char *extra;
};

struct mkcat_list {
	struct mkcat_rec *recs;
	size_t n, cap, next;
};

/* Order keys as the catalog does: bytewise, a prefix first. */
static int mkcat_cmp(const void *a, const void *b)
{
	const struct mkcat_rec *x = a, *y = b;
	size_t n = x->keylen < y->keylen ? x->keylen : y->keylen;
	int c = memcmp(x->key, y->key, n);

	if (c)
		return c;
	return x->keylen < y->keylen ? -1 : x->keylen > y->keylen;
}

/* The next white-space separated field of *p, NUL-terminated in place. */
static char *mkcat_field(char **p)
{
	char *s = *p, *e;

	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s)
		return NULL;
	e = s;
	while (*e && *e != ' ' && *e != '\t')
		e++;
	if (*e)
		*e++ = '\0';
	*p = e;
	return s;
}

/* Parse one input line into the list; 0, or -1 with a message. */
static int mkcat_parse(struct mkcat_list *l, char *line, unsigned long lineno)
{
	struct mkcat_rec r;
	char *p = line, *addr, *kind, *owners, *extra, *c;

	addr = mkcat_field(&p);
	if (!addr || addr[0] == '#')
		return 0;
	kind = mkcat_field(&p);
	if (!kind) {
		fprintf(stderr, "mkcatalog: line %lu: kind missing\n", lineno);
		return -1;
	}
	owners = mkcat_field(&p);
	while (*p == ' ' || *p == '\t')
		p++;
	extra = p;
	memset(&r, 0, sizeof(r));
	r.kind = catalog_kind_parse(kind);
	if (!r.kind) {
		fprintf(stderr, "mkcatalog: line %lu: unknown kind '%s'\n",
			lineno, kind);
		return -1;
	}
	r.keylen = strlen(addr);
	if (r.keylen == 0 || r.keylen > CATALOG_KEY_MAX) {
		fprintf(stderr, "mkcatalog: line %lu: bad address length\n",
			lineno);
		return -1;
	}
	r.key = xstrdup(addr);
	r.owners = xstrdup(owners && strcmp(owners, "-") ? owners : "");
	r.extra = xstrdup(extra);
	for (c = r.extra; *c; c++)
		if (*c == ';')
			*c = '\n';
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 1024;
		l->recs = xrealloc(l->recs, l->cap * sizeof(*l->recs));
	}
	l->recs[l->n++] = r;
	return 0;
}

/* Feed the sorted records to catalog_txn_replace_all(). */
static int mkcat_next(void *arg, struct catalog_rec *rec, char *err,
		      size_t errlen)
{
	struct mkcat_list *l = arg;
	struct mkcat_rec *r;

	if (l->next >= l->n)
		return 0;
	r = &l->recs[l->next++];
	if (l->next > 1 && mkcat_cmp(r - 1, r) == 0) {
		util_err(err, errlen, "address %s given twice", r->key);
		return -1;
	}
	rec->key = r->key;
	rec->keylen = r->keylen;
	rec->kind = r->kind;
	rec->owners = r->owners;
	rec->ownerslen = strlen(r->owners);
	rec->extra = r->extra;
	rec->extralen = strlen(r->extra);
	return 1;
}

static void mkcat_usage(void)
{
	fprintf(stderr, "usage: mkcatalog [-i ID] [-H HISTORY] [-s SERIAL] "
		"[-N] CATALOG < records\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct mkcat_list list;
	struct catalog *cat;
	struct catalog_txn *txn;
	char err[1024], *line;
	const char *id = NULL;
	int64_t history = -1, serial = 0;
	unsigned flags = 0;
	unsigned long lineno = 0;
	uint64_t got;
	size_t i;
	int c;

	log_init("mkcatalog", LOG_DEST_STDERR);
	while ((c = getopt(argc, argv, "i:H:s:N")) != -1) {
		switch (c) {
		case 'i':
			id = optarg;
			if (!catalog_id_valid(id)) {
				fprintf(stderr, "mkcatalog: bad id '%s'\n", id);
				return 2;
			}
			break;
		case 'H':
			if (util_parse_int(optarg, 0, 1000000, &history) < 0)
				mkcat_usage();
			break;
		case 's':
			if (util_parse_int(optarg, 1, INT64_MAX, &serial) < 0)
				mkcat_usage();
			break;
		case 'N':
			flags |= CATALOG_NOSYNC;
			break;
		default:
			mkcat_usage();
		}
	}
	if (optind + 1 != argc)
		mkcat_usage();

	memset(&list, 0, sizeof(list));
	line = xmalloc(MKCATALOG_LINE_MAX + 2);
	while (fgets(line, MKCATALOG_LINE_MAX + 2, stdin)) {
		size_t len = strlen(line);

		lineno++;
		if (len > MKCATALOG_LINE_MAX) {
			fprintf(stderr, "mkcatalog: line %lu too long\n",
				lineno);
			return 1;
		}
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (mkcat_parse(&list, line, lineno) < 0)
			return 1;
	}
	free(line);
	if (list.n)
		qsort(list.recs, list.n, sizeof(*list.recs), mkcat_cmp);

	cat = catalog_open(argv[optind], flags, err, sizeof(err));
	if (!cat) {
		fprintf(stderr, "mkcatalog: %s\n", err);
		return 1;
	}
	txn = catalog_write_begin(cat, err, sizeof(err));
	if (!txn) {
		fprintf(stderr, "mkcatalog: %s\n", err);
		return 1;
	}
	if (id)
		catalog_txn_set_id(txn, id);
	if (history >= 0)
		catalog_txn_set_history(txn, (unsigned)history);
	if (serial > 0)
		catalog_txn_set_serial(txn, (uint64_t)serial, 0);
	if (catalog_txn_replace_all(txn, mkcat_next, &list, err,
				    sizeof(err)) < 0) {
		fprintf(stderr, "mkcatalog: %s\n", err);
		catalog_txn_abort(txn);
		return 1;
	}
	got = catalog_txn_commit(txn, err, sizeof(err));
	if (!got) {
		fprintf(stderr, "mkcatalog: %s\n", err);
		return 1;
	}
	printf("%llu\n", (unsigned long long)got);
	catalog_close(cat);
	for (i = 0; i < list.n; i++) {
		free(list.recs[i].key);
		free(list.recs[i].owners);
		free(list.recs[i].extra);
	}
	free(list.recs);
	return 0;
}
