/*
 * fuzz_snapshot.c - libFuzzer target for the snapshot reader.
 *
 * The first input byte picks a mode; the rest is the file:
 *   bit 0 clear: the bytes as they are (header checks, sizes, hash and
 *                signature refusals);
 *   bit 0 set:   the bytes are header + payload: the payload length,
 *                payload hash and key id are filled in and the result is
 *                signed with a key trusted here, so the record walk is
 *                reached with any payload the fuzzer invents;
 *   bit 1 set:   also make magic, version, flags, reserved fields, catalog
 *                id and times valid, leaving type, serial, base and record
 *                count to the fuzzer.
 * A snapshot that opens is iterated to the end: every record must decode
 * and their number must equal the header's count.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sign.h"
#include "snapshot.h"
#include "util.h"

static struct sign_key *fuzz_key;
static struct sign_keyring *fuzz_ring;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_init(void)
{
	char err[256];

	fuzz_key = sign_key_generate(err, sizeof(err));
	fuzz_ring = sign_keyring_new();
	if (!fuzz_key ||
	    sign_keyring_add_key(fuzz_ring, fuzz_key, err, sizeof(err)) < 0)
		abort();
}

/* Open, and walk what opened; any inconsistency is a crash. */
static void fuzz_open(const unsigned char *p, size_t n)
{
	struct snapshot_header h;
	struct snapshot *s;
	struct catalog_rec rec;
	char err[1024];
	uint64_t count = 0;
	int code, op, rc;

	(void)snapshot_parse_header(p, n, &h, &code, err, sizeof(err));
	s = snapshot_open_mem(p, n, "fuzz", fuzz_ring, &code, err, sizeof(err));
	if (!s) {
		if (code <= SNAPSHOT_OK || code >= SNAPSHOT_E_COUNT || !err[0])
			abort();
		return;
	}
	while ((rc = snapshot_next(s, &op, &rec)) == 1) {
		if (rec.keylen == 0 || rec.keylen > CATALOG_KEY_MAX ||
		    (op != SNAPSHOT_PUT && op != SNAPSHOT_DEL))
			abort();
		count++;
	}
	if (rc != 0 || count != snapshot_header(s)->records)
		abort();
	snapshot_close(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *f;
	size_t n;
	int mode;

	if (!fuzz_key)
		fuzz_init();
	if (size < 1)
		return 0;
	mode = data[0];
	data++;
	size--;
	if (!(mode & 1) || size < SNAPSHOT_HEADER_LEN) {
		/* A private copy, so reads past the end are caught. */
		f = malloc(size ? size : 1);
		if (size)
			memcpy(f, data, size);
		fuzz_open(f, size);
		free(f);
		return 0;
	}
	n = size + SIGN_SIG_LEN;
	f = malloc(n);
	memcpy(f, data, size);
	if (mode & 2) {
		memcpy(f, SNAPSHOT_MAGIC, SNAPSHOT_MAGIC_LEN);
		util_put_u16(f + 8, SNAPSHOT_VERSION);
		util_put_u16(f + 10, 0);
		util_put_u16(f + 14, 0);
		memset(f + 16, 0, 64);
		memcpy(f + 16, "fuzz", 4);
		util_put_u64(f + 96, 1700000000);
		util_put_u64(f + 104, 1700086400);
		memset(f + 168, 0, SNAPSHOT_HEADER_LEN - 168);
	}
	util_put_u64(f + 120, size - SNAPSHOT_HEADER_LEN);
	sign_sha256(f + SNAPSHOT_HEADER_LEN, size - SNAPSHOT_HEADER_LEN,
		    f + 128);
	memcpy(f + 160, sign_key_id_raw(fuzz_key), SIGN_KEY_ID_LEN);
	if (sign_sign(fuzz_key, f, size, f + size, NULL, 0) < 0)
		abort();
	fuzz_open(f, n);
	free(f);
	return 0;
}
