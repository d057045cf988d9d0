/*
 * signmanifest.c - test tool: sign a manifest body with a private key, so
 * that tests can make manifests a real signer would (expired, replayed,
 * another catalog) from a real one edited with sed.
 *
 *   signmanifest KEY.key < in > out
 *
 * A "signature" line in the input, and anything after it, is dropped;
 * the body is signed as it is (it need not be valid: the readers are
 * what is tested) and written with its new signature line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"
#include "sign.h"
#include "util.h"

int main(int argc, char **argv)
{
	struct sign_key *key;
	unsigned char sig[SIGN_SIG_LEN];
	char err[512], *at;
	struct buf b;
	size_t n, i;
	char chunk[4096];

	if (argc != 2) {
		fprintf(stderr, "usage: signmanifest KEY.key < in > out\n");
		return 64;
	}
	key = sign_key_load(argv[1], err, sizeof(err));
	if (!key) {
		fprintf(stderr, "signmanifest: %s\n", err);
		return 78;
	}
	buf_init(&b, 4 * MANIFEST_FILE_MAX);
	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
		if (buf_append(&b, chunk, n) < 0) {
			fprintf(stderr, "signmanifest: input too large\n");
			return 65;
		}
	if (buf_append(&b, "", 1) < 0)
		return 65;
	b.len--;
	at = (char *)b.data;
	if (!strncmp(at, "signature ", 10))
		b.len = 0;
	else if ((at = strstr(at, "\nsignature ")) != NULL)
		b.len = (size_t)(at + 1 - (char *)b.data);
	if (sign_sign(key, b.data, b.len, sig, err, sizeof(err)) < 0) {
		fprintf(stderr, "signmanifest: %s\n", err);
		return 70;
	}
	fwrite(b.data, 1, b.len, stdout);
	fputs("signature ", stdout);
	for (i = 0; i < SIGN_SIG_LEN; i++)
		printf("%02x", sig[i]);
	putchar('\n');
	sign_key_free(key);
	buf_free(&b);
	return 0;
}
