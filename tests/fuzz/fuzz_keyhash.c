/*
 * fuzz_keyhash.c - libFuzzer target for lib/keyhash.c, the keyed-hash
 * catalogs: the secret file's text, and the sealed owners and extra
 * fields that catalogd opens for every lookup in such a catalog.
 *
 * The first input byte picks the mode (bits 0-1); the rest is:
 *   0: a secret as written in its file: refused, or 32 to 64 bytes from
 *      exactly twice as many hex digits; a refusal never quotes the text;
 *   1: a record as found in the catalog, under a fixed secret: a clear
 *      key (its length in the next byte, at most CATALOG_KEY_MAX), then
 *      owners and extra (split at the first NUL, each cut at its
 *      field's limit), opened: refused with a message, or opened within
 *      the clear limits;
 *   2: the same fields as clear values: sealed, then opened again under
 *      the same key (the same fields must come back), and under another
 *      key (refused, or empty fields only: a sealed field moved to another
 *      record must not open).
 * Every key hashes to KEYHASH_KEY_LEN base64url characters that
 * keyhash_key_ok() accepts.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keyhash.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct keyhash *fuzz_kh;

static void fuzz_init(void)
{
	unsigned char secret[KEYHASH_SECRET_MIN];
	char err[256];

	memset(secret, 0x42, sizeof(secret));
	fuzz_kh = keyhash_new(secret, sizeof(secret), err, sizeof(err));
	if (!fuzz_kh)
		abort();
}

static void fuzz_secret(const uint8_t *data, size_t size)
{
	unsigned char out[KEYHASH_SECRET_MAX];
	char err[512];
	size_t i;
	int n;

	memset(err, 0, sizeof(err));
	n = keyhash_parse_secret((const char *)data, size, out, err,
				 sizeof(err));
	if (n < 0) {
		if (!err[0])
			abort();
		/* Never quoted: no run of 12 hex digits of the text (secret
		 * material) appears in the message. */
		for (i = 0; i + 12 <= size; i++) {
			size_t j;

			for (j = 0; j < 12 && isxdigit(data[i + j]); j++)
				;
			if (j == 12 && memmem(err, strlen(err), data + i, 12))
				abort();
		}
		return;
	}
	if (n < KEYHASH_SECRET_MIN || n > KEYHASH_SECRET_MAX ||
	    size < (size_t)(2 * n) || size > (size_t)(2 * n) + 1)
		abort();
	for (i = 0; i < (size_t)(2 * n); i++)
		if (!isxdigit(data[i]))
			abort();
}

/* Split data into a key and two fields. */
static size_t fuzz_fields(const uint8_t *data, size_t size, char *key,
			  struct catalog_rec *rec)
{
	const uint8_t *nul;
	size_t klen;

	memset(rec, 0, sizeof(*rec));
	if (size < 1)
		return 0;
	klen = data[0];
	data++;
	size--;
	if (klen > size)
		klen = size;
	if (klen > CATALOG_KEY_MAX)
		klen = CATALOG_KEY_MAX;
	memcpy(key, data, klen);
	key[klen] = '\0';
	data += klen;
	size -= klen;
	nul = memchr(data, '\0', size);
	rec->kind = CATALOG_PERSON;
	rec->owners = (const char *)data;
	rec->ownerslen = nul ? (size_t)(nul - data) : size;
	if (rec->ownerslen > CATALOG_OWNERS_MAX)
		rec->ownerslen = CATALOG_OWNERS_MAX;
	if (nul) {
		rec->extra = (const char *)nul + 1;
		rec->extralen = size - (size_t)(nul - data) - 1;
		if (rec->extralen > CATALOG_EXTRA_MAX)
			rec->extralen = CATALOG_EXTRA_MAX;
	} else {
		rec->extra = "";
	}
	return klen;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char buf[CATALOG_OWNERS_MAX + CATALOG_EXTRA_MAX];
	static char buf2[CATALOG_OWNERS_MAX + CATALOG_EXTRA_MAX];
	char key[CATALOG_KEY_MAX + 1], hashed[KEYHASH_KEY_LEN + 1], err[512];
	struct catalog_rec in, sealed, out;
	size_t klen;

	if (!fuzz_kh)
		fuzz_init();
	if (size < 1)
		return 0;
	switch (data[0] & 3) {
	case 0:
		fuzz_secret(data + 1, size - 1);
		return 0;
	case 1:
		klen = fuzz_fields(data + 1, size - 1, key, &in);
		if (keyhash_key(fuzz_kh, key, klen, hashed) != KEYHASH_KEY_LEN ||
		    !keyhash_key_ok(hashed, strlen(hashed)))
			abort();
		err[0] = '\0';
		if (keyhash_rec_open(fuzz_kh, key, klen, &in, &out, buf,
				     sizeof(buf), err, sizeof(err)) < 0) {
			if (!err[0])
				abort();
		} else if (out.ownerslen > KEYHASH_OWNERS_CLEAR_MAX ||
			   out.extralen > KEYHASH_EXTRA_CLEAR_MAX ||
			   out.kind != in.kind) {
			abort();
		}
		return 0;
	default:
		klen = fuzz_fields(data + 1, size - 1, key, &in);
		in.key = key;
		in.keylen = klen;
		if (in.ownerslen > KEYHASH_OWNERS_CLEAR_MAX)
			in.ownerslen = KEYHASH_OWNERS_CLEAR_MAX;
		if (in.extralen > KEYHASH_EXTRA_CLEAR_MAX)
			in.extralen = KEYHASH_EXTRA_CLEAR_MAX;
		if (keyhash_rec_seal(fuzz_kh, &in, &sealed, buf, sizeof(buf),
				     err, sizeof(err)) < 0)
			abort();	/* within the clear limits */
		if (keyhash_rec_open(fuzz_kh, key, klen, &sealed, &out, buf2,
				     sizeof(buf2), err, sizeof(err)) < 0 ||
		    out.ownerslen != in.ownerslen ||
		    out.extralen != in.extralen ||
		    (in.ownerslen &&
		     memcmp(out.owners, in.owners, in.ownerslen)) ||
		    (in.extralen && memcmp(out.extra, in.extra, in.extralen)))
			abort();
		/* Under another record's key: refused (an empty field is
		 * empty under every key). */
		key[klen] = 'x';
		if (keyhash_rec_open(fuzz_kh, key, klen + 1, &sealed, &out,
				     buf2, sizeof(buf2), err, sizeof(err)) == 0 &&
		    (in.ownerslen || in.extralen))
			abort();
		return 0;
	}
}
