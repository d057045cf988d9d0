/*
 * keyhash_bench.c - what keyed-hash mode costs a lookup inside catalogd,
 * without the socket (a benchmark, not a test: it prints figures and
 * judges them against the target).
 *
 *   keyhash_bench [-n RECORDS] [-k KEYS] [-r RUNS] [-d DIR]
 *
 * Builds two node catalogs of the same RECORDS addresses (default
 * 1,000,000; first.lastN@ three domains, kind person, one owner): one
 * clear, one keyed-hash (keys hashed, owners sealed, as the replicator's
 * snapshot writer makes them).  Then asks lookup_answer() the same KEYS
 * keys (default 200,000: half present, half absent, so that absent keys
 * take the extension, catch-all and domain searches) of both, alternating
 * clear and keyed-hash RUNS times (default 7) so that other work on the
 * machine weighs on both alike, for the recipients map and the senders
 * map (which opens the sealed owners).  Prints the median and min-max of
 * each, the ratio (median of each keyed run over the clear run right
 * before it), what the hash adds in nanoseconds, the catalog sizes and
 * the peak memory of this process.  The goal of keyed-hash mode (within
 * 10% of clear) is for lookups through the socket, measured by
 * serve_bench.sh; in process the hash costs about as much as the search.
 * Works in a fresh directory under TMPDIR (or -d DIR), removed at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "catalog.h"
#include "keyhash.h"
#include "lookup.h"
#include "util.h"

#define BENCH_RUNS_MAX 101
#define BENCH_TARGET 0.90	/* keyed-hash rate / clear rate */

static const char *const first[8] = {
	"anna", "ben", "carla", "dan", "eva", "finn", "gina", "hugo"
};
static const char *const last[8] = {
	"adler", "bauer", "conti", "dorn", "eck", "fink", "graf", "hahn"
};
static const char *const domains[3] = {
	"example.com", "example.org", "example.net"
};

static void bench_addr(uint64_t i, char *out, size_t size)
{
	snprintf(out, size, "%s.%s%llu@%s", first[i % 8], last[(i / 8) % 8],
		 (unsigned long long)i, domains[i % 3]);
}

static double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One record to put: its key (clear or hashed) and its encoded value. */
struct bench_rec {
	char *key;
	unsigned char *val;
	size_t vlen;
};

static int bench_rec_cmp(const void *a, const void *b)
{
	const struct bench_rec *x = a, *y = b;
	size_t xl = strlen(x->key), yl = strlen(y->key);
	int c = memcmp(x->key, y->key, xl < yl ? xl : yl);

	return c ? c : (xl > yl) - (xl < yl);
}

/* A catalog of n addresses and the three domains; hashed with kh unless
 * it is NULL.  Records go in sorted by their stored key, as an install
 * from a snapshot writes them (pages filled as the node's are). */
static struct catalog *bench_fill(const char *path, uint64_t n,
				  struct keyhash *kh)
{
	static char sealbuf[CATALOG_OWNERS_MAX + CATALOG_EXTRA_MAX];
	char err[512], key[128], owner[128], hk[KEYHASH_KEY_LEN + 1];
	unsigned char val[CATALOG_VALUE_MAX];
	struct catalog *cat = catalog_open(path, CATALOG_NOSYNC, err,
					   sizeof(err));
	struct bench_rec *recs = xcalloc(n + 3, sizeof(*recs));
	struct catalog_txn *t;
	struct catalog_rec rec, sealed;
	uint64_t i;

	if (!cat) {
		fprintf(stderr, "keyhash_bench: %s\n", err);
		exit(1);
	}
	for (i = 0; i < n + 3; i++) {
		memset(&rec, 0, sizeof(rec));
		if (i < 3) {
			snprintf(key, sizeof(key), "%s", domains[i]);
			rec.kind = CATALOG_DOMAIN;
			rec.owners = "";
		} else {
			bench_addr(i - 2, key, sizeof(key));
			snprintf(owner, sizeof(owner), "%.*s",
				 (int)(strchr(key, '@') - key), key);
			rec.kind = CATALOG_PERSON;
			rec.owners = owner;
		}
		rec.key = key;
		rec.keylen = strlen(key);
		rec.ownerslen = strlen(rec.owners);
		rec.extra = "";
		if (kh) {
			if (keyhash_rec_seal(kh, &rec, &sealed, sealbuf,
					     sizeof(sealbuf), err,
					     sizeof(err)) < 0) {
				fprintf(stderr, "keyhash_bench: %s\n", err);
				exit(1);
			}
			keyhash_key(kh, key, rec.keylen, hk);
			rec = sealed;
			rec.key = hk;
		}
		recs[i].key = xstrdup(rec.key);
		recs[i].vlen = catalog_rec_encode(&rec, val, sizeof(val));
		recs[i].val = xmalloc(recs[i].vlen);
		memcpy(recs[i].val, val, recs[i].vlen);
	}
	qsort(recs, n + 3, sizeof(*recs), bench_rec_cmp);
	t = catalog_write_begin(cat, err, sizeof(err));
	for (i = 0; t && i < n + 3; i++) {
		if (catalog_rec_decode(recs[i].val, recs[i].vlen, &rec) < 0)
			break;
		rec.key = recs[i].key;
		rec.keylen = strlen(recs[i].key);
		if (catalog_txn_put(t, &rec, err, sizeof(err)) < 0)
			break;
	}
	if (!t || i < n + 3 || catalog_txn_commit(t, err, sizeof(err)) == 0) {
		fprintf(stderr, "keyhash_bench: fill: %s\n", err);
		exit(1);
	}
	for (i = 0; i < n + 3; i++) {
		free(recs[i].key);
		free(recs[i].val);
	}
	free(recs);
	return cat;
}

/* Ask every key once; returns lookups per second, and checks that
 * exactly half were found. */
static double bench_run(struct catalog *cat, const struct lookup_opts *o,
			int map, char **keys, size_t nkeys)
{
	struct lookup_state st = { 1, 0, NULL, NULL };
	struct lookup_answer a;
	struct catalog_read *r;
	char err[256];
	size_t i, found = 0;
	double t0;

	st.cache = lookup_cache_new();
	r = catalog_read_begin(cat, err, sizeof(err));
	if (!r) {
		fprintf(stderr, "keyhash_bench: %s\n", err);
		exit(1);
	}
	t0 = bench_now();
	for (i = 0; i < nkeys; i++) {
		lookup_answer(r, o, &st, map, keys[i], strlen(keys[i]), &a);
		found += a.status == LOOKUP_OK;
	}
	t0 = bench_now() - t0;
	catalog_read_end(r);
	lookup_cache_free(st.cache);
	if (found != nkeys / 2) {
		fprintf(stderr, "keyhash_bench: %zu of %zu keys found, want "
			"%zu\n", found, nkeys, nkeys / 2);
		exit(1);
	}
	return (double)nkeys / t0;
}

static int bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double bench_median(double *v, int n)
{
	double s[BENCH_RUNS_MAX];

	memcpy(s, v, (size_t)n * sizeof(*v));
	qsort(s, (size_t)n, sizeof(*s), bench_cmp);
	return s[n / 2];
}

static double bench_min(const double *v, int n)
{
	double m = v[0];

	while (--n > 0)
		if (v[n] < m)
			m = v[n];
	return m;
}

static double bench_max(const double *v, int n)
{
	double m = v[0];

	while (--n > 0)
		if (v[n] > m)
			m = v[n];
	return m;
}

int main(int argc, char **argv)
{
	static const char hex[] =
		"6b657965642d686173682062656e63686d61726b20736563726574212121";
	uint64_t n = 1000000;
	size_t nkeys = 200000, i;
	int runs = 7, opt, r, m;
	const char *tmp = getenv("TMPDIR");
	char dir[512] = "", path[600], err[256];
	int own_dir = 0;
	unsigned char secret[KEYHASH_SECRET_MAX];
	struct lookup_opts oc = { "+", 0, LOOKUP_STALE_DEFER_UNKNOWN, NULL };
	struct lookup_opts ok;
	struct catalog *cc, *ch;
	struct keyhash *kh;
	struct rusage ru;
	struct stat sc, sh;
	double rate[LOOKUP_SENDERS + 1][2] = { { 0 } };
	char **keys;
	double t0;

	while ((opt = getopt(argc, argv, "n:k:r:d:")) != -1) {
		switch (opt) {
		case 'n':
			n = strtoull(optarg, NULL, 10);
			break;
		case 'k':
			nkeys = strtoull(optarg, NULL, 10);
			break;
		case 'r':
			runs = atoi(optarg);
			break;
		case 'd':
			snprintf(dir, sizeof(dir), "%s", optarg);
			break;
		default:
			fprintf(stderr, "usage: keyhash_bench [-n RECORDS] "
				"[-k KEYS] [-r RUNS] [-d DIR]\n");
			return 2;
		}
	}
	if (n < 1 || nkeys < 2 || runs < 1 || runs > BENCH_RUNS_MAX) {
		fprintf(stderr, "keyhash_bench: bad -n, -k or -r\n");
		return 2;
	}
	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "%s/keyhash_bench.XXXXXX",
			 tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(dir)) {
			perror("mkdtemp");
			return 1;
		}
		own_dir = 1;
	}
	/* A fixed 64-digit secret: the figures do not depend on it. */
	memset(secret, 0, sizeof(secret));
	{
		char h[65];

		snprintf(h, sizeof(h), "%s%s", hex, "0000");
		if (keyhash_parse_secret(h, 64, secret, err, sizeof(err)) < 0)
			return 1;
	}
	kh = keyhash_new(secret, 32, err, sizeof(err));
	ok = oc;
	ok.hash = kh;
	t0 = bench_now();
	snprintf(path, sizeof(path), "%s/clear.mdb", dir);
	cc = bench_fill(path, n, NULL);
	stat(path, &sc);
	snprintf(path, sizeof(path), "%s/keyed.mdb", dir);
	ch = bench_fill(path, n, kh);
	stat(path, &sh);
	fprintf(stderr, "keyhash_bench: two catalogs of %llu records in "
		"%.1f s\n", (unsigned long long)n, bench_now() - t0);
	/* Half present (spread over the catalog), half absent. */
	keys = xcalloc(nkeys, sizeof(*keys));
	for (i = 0; i < nkeys; i++) {
		char a[128];
		uint64_t j = i % 2 ? n + 1 + i
				   : 1 + (i * 2654435761u) % n;

		bench_addr(j, a, sizeof(a));
		keys[i] = xstrdup(a);
	}
	printf("# Keyed-hash lookups inside catalogd (keyhash_bench)\n\n");
	printf("Command: `keyhash_bench -n %llu -k %zu -r %d`; lookup_answer() "
	       "in one process, no socket; %zu keys, half present, half "
	       "absent; clear and keyed-hash runs alternate, %d of each.\n"
	       "Load average at the start: ",
	       (unsigned long long)n, nkeys, runs, nkeys, runs);
	{
		FILE *f = fopen("/proc/loadavg", "r");
		char la[64] = "?";

		if (f) {
			if (!fgets(la, sizeof(la), f))
				la[0] = '\0';
			fclose(f);
		}
		la[strcspn(la, "\n")] = '\0';
		printf("%s.\n\n", la);
	}
	printf("| map | clear lookups/s (min-max) | keyed-hash lookups/s "
	       "(min-max) | keyed / clear (median of pairs) | clear ns/lookup | "
	       "keyed ns/lookup |\n| --- | ---: | ---: | ---: | ---: | ---: |\n");
	for (m = LOOKUP_RECIPIENTS; m <= LOOKUP_SENDERS; m += 2) {
		double c[BENCH_RUNS_MAX], h[BENCH_RUNS_MAX], q[BENCH_RUNS_MAX];

		bench_run(cc, &oc, m, keys, nkeys);	/* warm the pages */
		bench_run(ch, &ok, m, keys, nkeys);
		for (r = 0; r < runs; r++) {
			c[r] = bench_run(cc, &oc, m, keys, nkeys);
			h[r] = bench_run(ch, &ok, m, keys, nkeys);
			q[r] = h[r] / c[r];
		}
		printf("| %s | %.0f (%.0f-%.0f) | %.0f (%.0f-%.0f) | **%.2f** "
		       "| %.0f | %.0f |\n", lookup_map_name(m),
		       bench_median(c, runs), bench_min(c, runs),
		       bench_max(c, runs), bench_median(h, runs),
		       bench_min(h, runs), bench_max(h, runs),
		       bench_median(q, runs), 1e9 / bench_median(c, runs),
		       1e9 / bench_median(h, runs));
		rate[m][0] = bench_median(c, runs);
		rate[m][1] = bench_median(h, runs);
	}
	/* The goal is for lookups as clients see them, through the socket
	 * (serve_bench.sh, section 2b); in process the hash alone costs as
	 * much as the search, so this only shows what the hash adds. */
	printf("\nWhat the hash adds to a lookup in process: recipients "
	       "%.0f ns, senders %.0f ns (owners opened).  The goal (keyed-hash "
	       "within %.0f%% of clear) is for lookups through the socket: "
	       "tests/bench/serve_bench.sh, section 2b.\n",
	       1e9 / rate[LOOKUP_RECIPIENTS][1] - 1e9 / rate[LOOKUP_RECIPIENTS][0],
	       1e9 / rate[LOOKUP_SENDERS][1] - 1e9 / rate[LOOKUP_SENDERS][0],
	       (1 - BENCH_TARGET) * 100);
	getrusage(RUSAGE_SELF, &ru);
	printf("\nCatalog files: clear %.1f MiB, keyed-hash %.1f MiB.  Peak "
	       "memory of this process (both catalogs mapped): %.0f MiB.\n",
	       sc.st_size / 1048576.0, sh.st_size / 1048576.0,
	       ru.ru_maxrss / 1024.0);
	for (i = 0; i < nkeys; i++)
		free(keys[i]);
	free(keys);
	catalog_close(cc);
	catalog_close(ch);
	keyhash_free(kh);
	snprintf(path, sizeof(path), "%s/clear.mdb", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/clear.mdb-lock", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/keyed.mdb", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/keyed.mdb-lock", dir);
	unlink(path);
	if (own_dir)
		rmdir(dir);
	return 0;
}
