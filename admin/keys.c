/*
 * keys.c - dircat keygen and dircat verify: make a signing key pair, and
 * check a snapshot file against trusted public keys the way catalogd does
 * before installing it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "keyhash.h"
#include "sign.h"
#include "snapshot.h"
#include "util.h"

int admin_keygen(int argc, char **argv)
{
	char id[SIGN_KEY_ID_HEX], err[1024];

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: dircat keygen NAME\n"
			"  writes NAME.key (private, mode 0600) and NAME.pub\n");
		return 2;
	}
	if (sign_keygen(argv[1], id, err, sizeof(err)) < 0) {
		fprintf(stderr, "dircat: keygen: %s\n", err);
		return 3;
	}
	printf("%s.key  private key (mode 0600): for the replicator host "
	       "only\n", argv[1]);
	printf("%s.pub  public key: for every node's trusted keys\n", argv[1]);
	printf("key id %s\n", id);
	return fflush(stdout) ? 3 : 0;
}

/* Print the header fields, one "name value" line each. */
static void verify_print(const char *path, const struct snapshot_header *h,
			 int trusted)
{
	char t1[32], t2[32];
	size_t i;

	printf("snapshot     %s%s\n", path, trusted ? "" :
	       "  (header NOT verified)");
	printf("format       version %u\n", h->version);
	printf("type         %s\n", h->type == SNAPSHOT_FULL ? "full" :
	       h->type == SNAPSHOT_DELTA ? "delta" : "?");
	printf("catalog id   %s\n", h->catalog_id);
	printf("epoch        %llu\n", (unsigned long long)h->epoch);
	printf("serial       %llu\n", (unsigned long long)h->serial);
	if (h->type == SNAPSHOT_DELTA)
		printf("base         %llu\n", (unsigned long long)h->base);
	else
		printf("base         -\n");
	printf("created      %s\n", util_time_iso((time_t)h->created, t1,
						  sizeof(t1)));
	printf("expires      %s%s\n", util_time_iso((time_t)h->expires, t2,
						    sizeof(t2)),
	       h->expires <= (int64_t)time(NULL) ? "  (expired)" : "");
	printf("records      %llu\n", (unsigned long long)h->records);
	printf("payload      %llu bytes\n", (unsigned long long)h->payload_len);
	printf("payload hash ");
	for (i = 0; i < SIGN_SHA256_LEN; i++)
		printf("%02x", h->payload_hash[i]);
	printf("\nkey id       %s\n", h->key_id);
	if (h->flags & SNAPSHOT_FLAG_KEYED_HASH) {
		char hex[KEYHASH_ID_HEX];

		keyhash_id_hex(h->hash_id, hex);
		printf("keyed hash   secret %s (keys hashed, owners and extra "
		       "sealed)\n", hex);
	}
}

/* After a refusal: show what the header claims, when it can be read. */
static void verify_show_claims(const char *path)
{
	unsigned char head[SNAPSHOT_HEADER_LEN];
	struct snapshot_header h;
	char err[8];
	ssize_t n;
	int fd, code;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, head, sizeof(head));
	close(fd);
	if (n > 0 && snapshot_parse_header(head, (size_t)n, &h, &code, err,
					   sizeof(err)) == 0)
		verify_print(path, &h, 0);
}

int admin_verify(int argc, char **argv)
{
	struct sign_keyring *kr = sign_keyring_new();
	struct snapshot_header h;
	const char *path = NULL;
	char err[1024];
	int i, code;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--key") || !strcmp(argv[i], "-k")) {
			if (++i == argc)
				goto usage;
			if (sign_keyring_add_file(kr, argv[i], err,
						  sizeof(err)) < 0) {
				fprintf(stderr, "dircat: verify: %s\n", err);
				sign_keyring_free(kr);
				return 3;
			}
		} else if (!strncmp(argv[i], "--key=", 6)) {
			if (sign_keyring_add_file(kr, argv[i] + 6, err,
						  sizeof(err)) < 0) {
				fprintf(stderr, "dircat: verify: %s\n", err);
				sign_keyring_free(kr);
				return 3;
			}
		} else if (argv[i][0] == '-' && argv[i][1]) {
			goto usage;
		} else if (!path) {
			path = argv[i];
		} else {
			goto usage;
		}
	}
	if (!path || sign_keyring_count(kr) == 0)
		goto usage;
	if (snapshot_verify(path, kr, &h, &code, err, sizeof(err)) < 0) {
		sign_keyring_free(kr);
		if (code == SNAPSHOT_E_IO || code == SNAPSHOT_E_NOT_REGULAR) {
			fprintf(stderr, "dircat: verify: %s\n", err);
			return 3;
		}
		verify_show_claims(path);
		printf("invalid: %s\n", snapshot_strerror(code));
		fflush(stdout);
		fprintf(stderr, "dircat: verify: %s\n", err);
		return 1;
	}
	sign_keyring_free(kr);
	verify_print(path, &h, 1);
	printf("valid\n");
	return fflush(stdout) ? 3 : 0;
usage:
	sign_keyring_free(kr);
	fprintf(stderr, "usage: dircat verify SNAPSHOT --key PUB [--key PUB...]"
		"\n  exit 0 valid, 1 invalid (the reason on stderr), "
		"3 unreadable\n");
	return 2;
}
