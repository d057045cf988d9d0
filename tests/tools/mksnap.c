/*
 * mksnap.c - write a signed snapshot of a catalog file, for tests.
 *
 *   mksnap [-i ID] [-E EPOCH] [-l LIFETIME] [-C CREATED] [-b BASE]
 *          [-H SECRET] CATALOG KEY OUT
 *
 * Writes a full snapshot of CATALOG (or, with -b, a delta from serial
 * BASE) signed with the private key file KEY, to OUT (atomically).
 *   -i ID        catalog id to stamp (default: the catalog's own)
 *   -E EPOCH     epoch to stamp (default 0)
 *   -l SECONDS   lifetime: expires = created + SECONDS (default 7 days)
 *   -C TIME      created, unix time (default now)
 *   -H FILE      keyed-hash mode with the secret in FILE
 * Exit 0 written, 1 the history does not reach BASE, 2 usage, 3 error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "catalog.h"
#include "keyhash.h"
#include "log.h"
#include "sign.h"
#include "snapshot.h"
#include "snapwrite.h"
#include "util.h"

int main(int argc, char **argv)
{
	struct snapwrite_opts o = { .lifetime = 7 * 86400 };
	int64_t base = 0;
	struct snapwrite_stats st;
	struct catalog_read *r;
	struct catalog *cat;
	struct sign_key *key;
	char err[1024];
	int opt, rc;

	log_init("mksnap", LOG_DEST_STDERR);
	o.created = (int64_t)time(NULL);
	while ((opt = getopt(argc, argv, "i:E:l:C:b:H:")) != -1) {
		switch (opt) {
		case 'i':
			o.catalog_id = optarg;
			break;
		case 'E':
			o.epoch = strtoull(optarg, NULL, 10);
			break;
		case 'l':
			o.lifetime = strtoll(optarg, NULL, 10);
			break;
		case 'C':
			o.created = strtoll(optarg, NULL, 10);
			break;
		case 'b':
			base = strtoll(optarg, NULL, 10);
			break;
		case 'H':
			o.hash = keyhash_load(optarg, err, sizeof(err));
			if (!o.hash) {
				fprintf(stderr, "mksnap: %s\n", err);
				return 3;
			}
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind != 3)
		goto usage;
	cat = catalog_open(argv[optind], CATALOG_RDONLY, err, sizeof(err));
	if (!cat) {
		fprintf(stderr, "mksnap: %s\n", err);
		return 3;
	}
	key = sign_key_load(argv[optind + 1], err, sizeof(err));
	if (!key) {
		fprintf(stderr, "mksnap: %s\n", err);
		return 3;
	}
	r = catalog_read_begin(cat, err, sizeof(err));
	if (!r) {
		fprintf(stderr, "mksnap: %s\n", err);
		return 3;
	}
	if (base)
		rc = snapwrite_delta(r, (uint64_t)base, &o, key,
				     argv[optind + 2], &st, err, sizeof(err));
	else
		rc = snapwrite_full(r, &o, key, argv[optind + 2], &st, err,
				    sizeof(err));
	catalog_read_end(r);
	catalog_close(cat);
	sign_key_free(key);
	keyhash_free(o.hash);
	if (rc < 0) {
		fprintf(stderr, "mksnap: %s\n", err);
		return 3;
	}
	if (rc == 1) {
		fprintf(stderr, "mksnap: history does not reach serial %lld\n",
			(long long)base);
		return 1;
	}
	printf("%s serial %llu records %llu\n",
	       st.type == SNAPSHOT_FULL ? "full" : "delta",
	       (unsigned long long)st.serial,
	       (unsigned long long)st.records);
	return 0;
usage:
	fprintf(stderr, "usage: mksnap [-i ID] [-E EPOCH] [-l LIFETIME] "
		"[-C CREATED] [-b BASE] [-H SECRET] CATALOG KEY OUT\n");
	return 2;
}
