/*
 * snapshot_bench.c - how fast and how big snapshots are (a benchmark, not
 * a test: it prints figures and judges them against the targets).
 *
 *   snapshot_bench [-n RECORDS] [-c CHURN_PERCENT] [-d DIR] [-k]
 *
 * Builds a catalog of RECORDS synthetic addresses (default 1,000,000; about
 * 25 bytes each, kind person, one owner), then measures: a full snapshot
 * written and signed; opened and verified as catalogd does it (header
 * and signature first, then the payload copied into an unnamed file in
 * the working directory while it is hashed); installed into an empty node
 * catalog; a delta after CHURN_PERCENT (default 1) of the records changed
 * (40% removed, 40% added, 20% with another owner), its size against the
 * full one, and its install.  For scale it also writes the addresses as a
 * plain text list and as a "postmap lmdb:" table, and compresses the full
 * snapshot with the zstd command (when installed) to show what compression
 * would buy.  Works in a fresh directory under /tmp (or -d DIR), removed at
 * the end unless -k.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "catalog.h"
#include "log.h"
#include "sign.h"
#include "apply.h"
#include "snapshot.h"
#include "snapwrite.h"
#include "util.h"

#define BENCH_KEY 64		/* bytes for one synthetic address */
#define BENCH_TARGET_SECONDS 2.0
#define BENCH_TARGET_DELTA_SHARE 0.02

/* Syllables for names: addresses that look and compress like real ones
 * (first.last, some with digits, a few domains), not like a counter. */
static const char *const bench_syl[64] = {
	"an", "be", "ca", "da", "el", "fi", "go", "ha", "in", "jo", "ka",
	"li", "ma", "ne", "ol", "pa", "qui", "ri", "sa", "ta", "ul", "va",
	"wi", "xe", "yo", "za", "bri", "chr", "dor", "est", "fra", "gel",
	"hen", "ing", "jan", "kor", "lou", "mar", "nic", "ost", "per", "ron",
	"ste", "tho", "urs", "ver", "wal", "zim", "ber", "son", "mann", "ez",
	"ova", "ski", "lin", "ard", "ton", "ley", "mo", "nu", "rae", "sen",
	"dit", "ius"
};
static const char *const bench_domains[4] = {
	"example.com", "example.org", "corp.example.net", "sales.example.com"
};
static char bench_dir[256];
static uint64_t bench_state = 42;

static uint64_t bench_rand(void)
{
	uint64_t z = (bench_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Append n random syllables to out at *len. */
static void bench_name(char *out, size_t *len, int n)
{
	while (n--) {
		const char *sy = bench_syl[bench_rand() % 64];
		size_t l = strlen(sy);

		memcpy(out + *len, sy, l);
		*len += l;
	}
}

/* A random address; unique when serial is not 0 (".NNN" added). */
static size_t bench_addr(uint64_t serial, char *out)
{
	uint64_t r = bench_rand();
	size_t len = 0;

	bench_name(out, &len, 1 + (int)(r % 2));
	out[len++] = '.';
	bench_name(out, &len, 1 + (int)((r >> 8) % 3));
	if (serial)
		len += (size_t)snprintf(out + len, 24, ".%llu",
					(unsigned long long)serial);
	else if ((r >> 16) % 10 < 3)
		len += (size_t)snprintf(out + len, 8, "%u",
					(unsigned)((r >> 24) % 100));
	len += (size_t)snprintf(out + len, BENCH_KEY - len, "@%s",
				bench_domains[(r >> 32) % 4]);
	return len;
}

static int bench_keycmp(const void *a, const void *b)
{
	const char *x = a, *y = b;
	size_t xl = strlen(x), yl = strlen(y);
	int c = memcmp(x, y, xl < yl ? xl : yl);

	return c ? c : (xl < yl ? -1 : xl > yl);
}

static const char *bench_path(const char *name)
{
	static char p[4][512];
	static int i;

	i = (i + 1) % 4;
	snprintf(p[i], sizeof(p[i]), "%s/%s", bench_dir, name);
	return p[i];
}

/* Open and verify name the way catalogd does. */
static struct snapshot *bench_open(const char *name,
				   const struct sign_keyring *ring, int *code,
				   char *err, size_t errlen)
{
	struct snapshot_source src = { .copy_dir = bench_dir };
	struct snapshot *s;
	int fd = open(bench_path(name), O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
		      O_CLOEXEC);

	if (fd < 0) {
		util_err(err, errlen, "%s: %s", name, strerror(errno));
		return NULL;
	}
	s = snapshot_read(fd, name, &src, ring, code, err, errlen);
	close(fd);
	return s;
}

static long long bench_size(const char *name)
{
	struct stat st;

	return stat(bench_path(name), &st) < 0 ? -1 : (long long)st.st_size;
}

/* Records fed to catalog_txn_replace_all(), from the sorted keys. */
struct bench_feed {
	char *keys;		/* n * BENCH_KEY */
	size_t n, i;
	char owner[32];
};

static int bench_next(void *arg, struct catalog_rec *rec, char *err,
		      size_t errlen)
{
	struct bench_feed *f = arg;
	const char *k;

	(void)err;
	(void)errlen;
	if (f->i == f->n)
		return 0;
	k = f->keys + f->i * BENCH_KEY;
	f->i++;
	rec->key = k;
	rec->keylen = strlen(k);
	rec->kind = CATALOG_PERSON;
	/* The owner login: initial + surname, from the address. */
	snprintf(f->owner, sizeof(f->owner), "%c%.*s", k[0],
		 (int)(strcspn(strchr(k, '.') + 1, ".@")), strchr(k, '.') + 1);
	rec->owners = f->owner;
	rec->ownerslen = strlen(f->owner);
	return 1;
}

static void bench_die(const char *what, const char *err)
{
	fprintf(stderr, "snapshot_bench: %s: %s\n", what, err);
	exit(3);
}

/* Change churn records in one commit: 40% removed, 40% added (numbered
 * from first, so each round adds new ones), 20% another owner. */
static void bench_churn(struct catalog *src, const struct bench_feed *feed,
			uint64_t churn, uint64_t first)
{
	struct catalog_txn *t;
	char err[1024];
	uint64_t i;

	t = catalog_write_begin(src, err, sizeof(err));
	if (!t)
		bench_die("churn", err);
	for (i = 0; i < churn; i++) {
		char k[BENCH_KEY];
		uint64_t j = bench_rand() % feed->n;
		struct catalog_rec rec;
		int rc;

		memset(&rec, 0, sizeof(rec));
		rec.kind = CATALOG_PERSON;
		if (i % 5 < 2) {
			const char *old = feed->keys + j * BENCH_KEY;

			rc = catalog_txn_del(t, old, strlen(old), err,
					     sizeof(err));
		} else if (i % 5 < 4) {
			rec.key = k;
			rec.keylen = bench_addr(first + i, k);
			rec.owners = "newhire";
			rec.ownerslen = 7;
			rc = catalog_txn_put(t, &rec, err, sizeof(err));
		} else {
			rec.key = feed->keys + j * BENCH_KEY;
			rec.keylen = strlen(rec.key);
			rec.owners = "renamed";
			rec.ownerslen = 7;
			rc = catalog_txn_put(t, &rec, err, sizeof(err));
		}
		if (rc < 0)
			bench_die("churn", err);
	}
	if (!catalog_txn_commit(t, err, sizeof(err)))
		bench_die("churn", err);
}

/* Run a shell command; its wall time, or -1 when it failed. */
static double bench_run(const char *cmd)
{
	double t0 = util_now();

	if (system(cmd) != 0)
		return -1;
	return util_now() - t0;
}

static int bench_have(const char *prog)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", prog);
	return system(cmd) == 0;
}

static const char *bench_verdict(int ok)
{
	return ok ? "ok" : "OVER TARGET";
}

int main(int argc, char **argv)
{
	struct bench_feed feed;
	struct catalog *src, *node;
	struct catalog_txn *t;
	struct catalog_read *r;
	struct catalog_info info;
	struct snapwrite_stats full_st, delta_st;
	struct snapwrite_opts wo = { .lifetime = 7 * 86400 };
	struct snapshot *s;
	struct sign_key *key;
	struct sign_keyring *ring;
	struct rusage ru;
	char err[1024], cmd[2048];
	uint64_t n = 1000000, i, serial1, churn, keybytes = 0;
	double churn_pct = 1.0, t0, t_write, t_open, t_apply, t_dwrite, t_dopen,
	       t_dapply, t_build, t_reapply;
	int opt, keep = 0, code;
	FILE *txt;

	log_init("snapshot_bench", LOG_DEST_STDERR);
	while ((opt = getopt(argc, argv, "n:c:d:k")) != -1) {
		switch (opt) {
		case 'n':
			n = strtoull(optarg, NULL, 10);
			break;
		case 'c':
			churn_pct = strtod(optarg, NULL);
			break;
		case 'd':
			if (util_strlcpy(bench_dir, optarg, sizeof(bench_dir)) >=
			    sizeof(bench_dir)) {
				fprintf(stderr, "snapshot_bench: -d: longer "
					"than %zu bytes\n",
					sizeof(bench_dir) - 1);
				return 2;
			}
			break;
		case 'k':
			keep = 1;
			break;
		default:
			fprintf(stderr, "usage: snapshot_bench [-n RECORDS] "
				"[-c CHURN_PERCENT] [-d DIR] [-k]\n");
			return 2;
		}
	}
	if (n < 100 || n > 50000000 || churn_pct <= 0 || churn_pct > 50) {
		fprintf(stderr, "snapshot_bench: -n 100..50000000, "
			"-c 0..50\n");
		return 2;
	}
	if (!bench_dir[0]) {
		util_copy_fit(bench_dir, "/tmp/dircat-bench.XXXXXX",
			      sizeof(bench_dir));
		if (!mkdtemp(bench_dir))
			bench_die("mkdtemp", "failed");
	} else if (mkdir(bench_dir, 0755) < 0) {
		bench_die(bench_dir, "cannot create (must not exist)");
	}

	/* The source catalog: n sorted addresses in one replace_all. */
	memset(&feed, 0, sizeof(feed));
	feed.n = n;
	feed.keys = xcalloc(n, BENCH_KEY);
	for (i = 0; i < n; i++)
		bench_addr(0, feed.keys + i * BENCH_KEY);
	qsort(feed.keys, n, BENCH_KEY, bench_keycmp);
	/* Random names repeat: replace repeats by numbered ones, re-sort. */
	{
		char prev[BENCH_KEY] = "";

		for (i = 0; i < n; i++) {
			char *k = feed.keys + i * BENCH_KEY;

			if (!strcmp(prev, k)) {
				bench_addr(i + 1, k);
			} else {
				memcpy(prev, k, BENCH_KEY);
			}
		}
	}
	qsort(feed.keys, n, BENCH_KEY, bench_keycmp);
	for (i = 0; i < n; i++)
		keybytes += strlen(feed.keys + i * BENCH_KEY);
	t0 = util_now();
	src = catalog_open(bench_path("src.lmdb"), CATALOG_NOSYNC, err,
			   sizeof(err));
	if (!src)
		bench_die("catalog", err);
	t = catalog_write_begin(src, err, sizeof(err));
	if (!t || catalog_txn_replace_all(t, bench_next, &feed, err,
					  sizeof(err)) < 0)
		bench_die("catalog", err);
	catalog_txn_set_id(t, "bench");
	serial1 = catalog_txn_commit(t, err, sizeof(err));
	if (!serial1)
		bench_die("catalog", err);
	t_build = util_now() - t0;

	/* For scale: a text list and a postmap lmdb: table. */
	txt = fopen(bench_path("addrs.txt"), "w");
	if (!txt)
		bench_die("addrs.txt", "cannot create");
	for (i = 0; i < n; i++)
		fprintf(txt, "%s\n", feed.keys + i * BENCH_KEY);
	fclose(txt);
	txt = fopen(bench_path("map"), "w");
	if (!txt)
		bench_die("map", "cannot create");
	for (i = 0; i < n; i++)
		fprintf(txt, "%s OK\n", feed.keys + i * BENCH_KEY);
	fclose(txt);

	key = sign_key_generate(err, sizeof(err));
	ring = sign_keyring_new();
	if (!key || sign_keyring_add_key(ring, key, err, sizeof(err)) < 0)
		bench_die("key", err);

	/* Full: write + sign, open + verify, install. */
	r = catalog_read_begin(src, err, sizeof(err));
	if (!r)
		bench_die("catalog", err);
	t0 = util_now();
	wo.created = (int64_t)time(NULL);
	if (snapwrite_full(r, &wo, key, bench_path("full.snap"), &full_st,
			   err, sizeof(err)) < 0)
		bench_die("write full", err);
	t_write = util_now() - t0;
	catalog_read_end(r);
	t0 = util_now();
	s = bench_open("full.snap", ring, &code, err, sizeof(err));
	if (!s)
		bench_die("open full", err);
	t_open = util_now() - t0;
	node = catalog_open(bench_path("node.lmdb"), 0, err, sizeof(err));
	if (!node)
		bench_die("node", err);
	t0 = util_now();
	if (apply_snapshot(s, node, "bench", (int64_t)time(NULL), NULL, &code,
			   err, sizeof(err)) < 0)
		bench_die("install full", err);
	t_apply = util_now() - t0;
	snapshot_close(s);

	churn = (uint64_t)((double)n * churn_pct / 100.0);
	bench_churn(src, &feed, churn, n + 1);

	r = catalog_read_begin(src, err, sizeof(err));
	if (!r)
		bench_die("catalog", err);
	catalog_read_info(r, &info);
	t0 = util_now();
	if (snapwrite_delta(r, serial1, &wo, key, bench_path("delta.snap"),
			    &delta_st, err, sizeof(err)) != 0)
		bench_die("write delta", err);
	t_dwrite = util_now() - t0;
	catalog_read_end(r);
	t0 = util_now();
	s = bench_open("delta.snap", ring, &code, err, sizeof(err));
	if (!s)
		bench_die("open delta", err);
	t_dopen = util_now() - t0;
	t0 = util_now();
	if (apply_snapshot(s, node, "bench", (int64_t)time(NULL), NULL, &code,
			   err, sizeof(err)) < 0)
		bench_die("install delta", err);
	t_dapply = util_now() - t0;
	snapshot_close(s);

	/* A second round of churn, then a full snapshot installed over the
	 * populated node: only what differs is written. */
	bench_churn(src, &feed, churn, 2 * n + 1);
	r = catalog_read_begin(src, err, sizeof(err));
	if (!r || snapwrite_full(r, &wo, key, bench_path("full2.snap"), NULL,
				 err, sizeof(err)) < 0)
		bench_die("write full", err);
	catalog_read_end(r);
	s = bench_open("full2.snap", ring, &code, err, sizeof(err));
	if (!s)
		bench_die("open full", err);
	t0 = util_now();
	if (apply_snapshot(s, node, "bench", (int64_t)time(NULL), NULL, &code,
			   err, sizeof(err)) < 0)
		bench_die("install full over node", err);
	t_reapply = util_now() - t0;
	snapshot_close(s);

	printf("snapshot benchmark: %llu records, average address %.1f bytes,"
	       " kind person, one owner\n", (unsigned long long)n,
	       (double)keybytes / (double)n);
	printf("  (source catalog built in %.2f s; directory %s)\n\n",
	       t_build, bench_dir);
	printf("%-34s %12s %9s  %s\n", "step", "bytes", "seconds", "target");
	printf("%-34s %12llu %9.3f  < %.0f s: %s\n", "full: write + sign",
	       (unsigned long long)full_st.file_size, t_write,
	       BENCH_TARGET_SECONDS,
	       bench_verdict(t_write < BENCH_TARGET_SECONDS));
	printf("%-34s %12s %9.3f  < %.0f s: %s\n", "full: open + verify + walk",
	       "", t_open, BENCH_TARGET_SECONDS,
	       bench_verdict(t_open < BENCH_TARGET_SECONDS));
	printf("%-34s %12s %9.3f\n", "full: install into an empty node", "",
	       t_apply);
	printf("%-34s %12llu %9.3f  %llu puts, %llu deletes\n",
	       "delta: write + sign",
	       (unsigned long long)delta_st.file_size, t_dwrite,
	       (unsigned long long)delta_st.puts,
	       (unsigned long long)delta_st.dels);
	printf("%-34s %12s %9.3f\n", "delta: open + verify + walk", "", t_dopen);
	printf("%-34s %12s %9.3f\n", "delta: install on the node", "",
	       t_dapply);
	printf("%-34s %12s %9.3f  (%.0f%% changed since)\n",
	       "full: install over that node", "", t_reapply, churn_pct);
	printf("%-34s %11.2f%% %9s  < %.0f%%: %s\n", "delta size / full size",
	       100.0 * (double)delta_st.file_size / (double)full_st.file_size,
	       "", 100 * BENCH_TARGET_DELTA_SHARE,
	       bench_verdict((double)delta_st.file_size <
			     BENCH_TARGET_DELTA_SHARE *
			     (double)full_st.file_size));
	printf("\nfor comparison (same %llu addresses)\n",
	       (unsigned long long)n);
	printf("%-34s %12lld\n", "text list, one address a line",
	       bench_size("addrs.txt"));
	printf("%-34s %12lld\n", "full snapshot", (long long)full_st.file_size);
	printf("%-34s %12lld\n", "node catalog (LMDB file)",
	       bench_size("node.lmdb"));
	if (bench_have("postmap")) {
		double tp;

		/* Its own (empty) main.cf: no Postfix setup needed. */
		txt = fopen(bench_path("main.cf"), "w");
		if (txt)
			fclose(txt);
		snprintf(cmd, sizeof(cmd), "postmap -c %s lmdb:%s", bench_dir,
			 bench_path("map"));
		tp = bench_run(cmd);
		if (tp >= 0)
			printf("%-34s %12lld %9.3f\n", "postmap lmdb: table",
			       bench_size("map.lmdb"), tp);
		else
			printf("postmap lmdb: failed (is postfix-lmdb "
			       "installed?)\n");
	}
	if (bench_have("zstd")) {
		static const char *const levels[] = { "-1", "-3", "-9" };
		size_t l;

		for (l = 0; l < sizeof(levels) / sizeof(levels[0]); l++) {
			double tc, td;
			char name[64];

			snprintf(cmd, sizeof(cmd), "zstd -q -f %s -o %s %s",
				 levels[l], bench_path("full.snap.zst"),
				 bench_path("full.snap"));
			tc = bench_run(cmd);
			snprintf(cmd, sizeof(cmd), "zstd -q -d -c %s >/dev/null",
				 bench_path("full.snap.zst"));
			td = bench_run(cmd);
			snprintf(name, sizeof(name), "full snapshot, zstd %s",
				 levels[l]);
			printf("%-34s %12lld %9.3f  (decompress %.3f s)\n",
			       name, bench_size("full.snap.zst"), tc, td);
		}
		snprintf(cmd, sizeof(cmd), "zstd -q -f -3 %s -o %s",
			 bench_path("delta.snap"), bench_path("delta.snap.zst"));
		if (bench_run(cmd) >= 0)
			printf("%-34s %12lld\n", "delta snapshot, zstd -3",
			       bench_size("delta.snap.zst"));
	}
	getrusage(RUSAGE_SELF, &ru);
	printf("\npeak resident memory of this program: %ld MiB\n",
	       ru.ru_maxrss / 1024);

	catalog_close(node);
	catalog_close(src);
	sign_key_free(key);
	sign_keyring_free(ring);
	free(feed.keys);
	if (!keep) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", bench_dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", bench_dir);
	}
	return 0;
}
