/*
 * fuzz_snapshot.c - libFuzzer target for the snapshot reader.
 *
 * The first input byte picks a mode; the rest is the file:
 *   bit 0 clear: the bytes as they are (header checks, sizes, hash and
 *                signature refusals), read both from memory and through
 *                snapshot_read() from a descriptor (a memfd), version 1
 *                accepted there when bit 2 is set;
 *   bit 0 set:   the bytes are a 256-byte header then a payload: the
 *                payload length, payload hash and key id are filled in
 *                and the result is signed with a key trusted here, as
 *                version 2 (header, signature over it, payload) or, with
 *                bit 2 set, as version 1 (header, payload, signature over
 *                both), so the record walk is reached with any payload
 *                the fuzzer invents;
 *   bit 1 set:   also make magic, flags, reserved fields, catalog id and
 *                times valid, leaving type, serial, base, epoch and
 *                record count to the fuzzer.
 * A snapshot that opens is iterated to the end: every record must decode
 * and their number must equal the header's count; both ways of reading
 * must agree on the outcome.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

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

/* Walk what opened; any inconsistency is a crash. */
static void fuzz_walk(struct snapshot *s)
{
	struct catalog_rec rec;
	uint64_t count = 0;
	int op, rc;

	while ((rc = snapshot_next(s, &op, &rec)) == 1) {
		if (rec.keylen == 0 || rec.keylen > CATALOG_KEY_MAX ||
		    (op != SNAPSHOT_PUT && op != SNAPSHOT_DEL))
			abort();
		count++;
	}
	if (rc != 0 || count != snapshot_header(s)->records)
		abort();
}

/* The same bytes through a descriptor: the code must match c_mem. */
static void fuzz_read_fd(const unsigned char *p, size_t n, int accept_v1,
			 int c_mem, int version)
{
	struct snapshot_source src = { .accept_v1 = accept_v1 };
	struct snapshot *s;
	char err[1024];
	int fd = memfd_create("fuzz", MFD_CLOEXEC), code;

	if (fd < 0)
		abort();
	if (n && write(fd, p, n) != (ssize_t)n)
		abort();
	s = snapshot_read(fd, "fuzz", &src, fuzz_ring, &code, err,
			  sizeof(err));
	close(fd);
	if (s) {
		if (c_mem != SNAPSHOT_OK)
			abort();
		fuzz_walk(s);
		snapshot_close(s);
		return;
	}
	if (code <= SNAPSHOT_OK || code >= SNAPSHOT_E_COUNT || !err[0])
		abort();
	/* Version 1 refused where it is not accepted; otherwise the same. */
	if (code != c_mem && !(version == 1 && !accept_v1 &&
			       code == SNAPSHOT_E_BAD_VERSION))
		abort();
}

/* Open from memory and from a descriptor, and walk what opened. */
static void fuzz_open(const unsigned char *p, size_t n, int accept_v1)
{
	struct snapshot_header h;
	struct snapshot *s;
	char err[1024];
	int code, version = -1;

	if (snapshot_parse_header(p, n, &h, &code, err, sizeof(err)) == 0)
		version = (int)h.version;
	s = snapshot_open_mem(p, n, "fuzz", fuzz_ring, &code, err, sizeof(err));
	if (!s) {
		if (code <= SNAPSHOT_OK || code >= SNAPSHOT_E_COUNT || !err[0])
			abort();
	} else {
		code = SNAPSHOT_OK;
		fuzz_walk(s);
		snapshot_close(s);
	}
	fuzz_read_fd(p, n, accept_v1, code, version);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *f;
	size_t n, pl, po;
	int mode, v1;

	if (!fuzz_key)
		fuzz_init();
	if (size < 1)
		return 0;
	mode = data[0];
	v1 = (mode & 4) != 0;
	data++;
	size--;
	if (!(mode & 1) || size < SNAPSHOT_HEADER_LEN) {
		/* A private copy, so reads past the end are caught. */
		f = malloc(size ? size : 1);
		if (size)
			memcpy(f, data, size);
		fuzz_open(f, size, v1);
		free(f);
		return 0;
	}
	pl = size - SNAPSHOT_HEADER_LEN;
	n = SNAPSHOT_PREFIX_LEN + pl;
	po = v1 ? SNAPSHOT_HEADER_LEN : SNAPSHOT_PREFIX_LEN;
	f = malloc(n);
	memcpy(f, data, SNAPSHOT_HEADER_LEN);
	memcpy(f + po, data + SNAPSHOT_HEADER_LEN, pl);
	if (mode & 2) {
		memcpy(f, SNAPSHOT_MAGIC, SNAPSHOT_MAGIC_LEN);
		util_put_u16(f + 10, 0);
		util_put_u16(f + 14, 0);
		memset(f + 16, 0, 64);
		memcpy(f + 16, "fuzz", 4);
		util_put_u64(f + 96, 1700000000);
		util_put_u64(f + 104, 1700086400);
		memset(f + 168, 0, 32);
		memset(f + 208, 0, SNAPSHOT_HEADER_LEN - 208);
	}
	util_put_u16(f + 8, v1 ? SNAPSHOT_VERSION_V1 : SNAPSHOT_VERSION);
	if (v1)
		memset(f + 200, 0, 8);
	util_put_u64(f + 120, pl);
	sign_sha256(f + po, pl, f + 128);
	memcpy(f + 160, sign_key_id_raw(fuzz_key), SIGN_KEY_ID_LEN);
	if (v1) {
		if (sign_sign(fuzz_key, f, SNAPSHOT_HEADER_LEN + pl,
			      f + SNAPSHOT_HEADER_LEN + pl, NULL, 0) < 0)
			abort();
	} else if (sign_sign(fuzz_key, f, SNAPSHOT_HEADER_LEN,
			     f + SNAPSHOT_HEADER_LEN, NULL, 0) < 0) {
		abort();
	}
	fuzz_open(f, n, v1);
	free(f);
	return 0;
}
