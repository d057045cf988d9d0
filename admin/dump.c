/*
 * dump.c - dircat dump and normalise: read a catalog file or an address
 * the way the programs do.
 */
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "admin.h"
#include "catalog.h"
#include "keyhash.h"
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
	{	/* Keyed-hash mode: say why no address is shown. */
		unsigned char id[KEYHASH_ID_LEN];
		char hex[KEYHASH_ID_HEX];
		size_t n = 0;

		if (catalog_read_meta(r, KEYHASH_META_ID, id, sizeof(id),
				      &n) == 1 && n == KEYHASH_ID_LEN) {
			keyhash_id_hex(id, hex);
			fprintf(stderr, "dircat: %s: keyed-hash catalog "
				"(secret %s): keys are hashes, owners and "
				"extra fields sealed\n", argv[i], hex);
		}
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
