/*
 * fuzz_manifest.c - libFuzzer target for the publish manifest reader.
 *
 * The first input byte picks a mode; the rest is the text:
 *   bit 0 clear: the bytes as they are (size, grammar and signature
 *                refusals);
 *   bit 0 set:   the bytes are a manifest body: the value of its first
 *                "key " line (16 characters, when there are that many)
 *                becomes the id of a key trusted here and a signature line
 *                made with that key is appended, so every field check and
 *                the plan are reached with text the fuzzer invents (the
 *                key is made afresh in each process: an id in the seeds
 *                could never match it).
 * A manifest that parses must be consistent: its plan from any serial is
 * made of files it lists, ending at its latest serial; written again it
 * must parse to the same fields.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"

static struct sign_key *fuzz_key;
static struct sign_keyring *fuzz_ring;
static struct manifest fuzz_m, fuzz_again;

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

/* A parsed manifest must hold together. */
static void fuzz_consistent(const struct manifest *m)
{
	const struct manifest_file *steps[MANIFEST_PLAN_MAX];
	char err[512];
	size_t n, i;
	struct buf b;
	int code;
	uint64_t from[] = { 0, 1, m->serial > 1 ? m->serial - 1 : 1,
			    m->deltas[0].base };

	for (i = 0; i < sizeof(from) / sizeof(from[0]); i++) {
		if (from[i] > m->serial)
			continue;
		if (manifest_plan(m, m->epoch, from[i], 0, steps, &n, err,
				  sizeof(err)) < 0)
			abort();
		if (n > 0 && steps[n - 1]->serial != m->serial)
			abort();
	}
	buf_init(&b, MANIFEST_FILE_MAX);
	if (manifest_write(m, fuzz_key, &b, err, sizeof(err)) < 0 ||
	    manifest_parse(b.data, b.len, fuzz_ring, &fuzz_again, &code, err,
			   sizeof(err)) < 0 ||
	    fuzz_again.serial != m->serial || fuzz_again.ndeltas != m->ndeltas ||
	    strcmp(fuzz_again.full.name, m->full.name))
		abort();
	buf_free(&b);
}

/* The first line "key XXXXXXXXXXXXXXXX..." names the key trusted here. */
static void fuzz_key_line(struct buf *b)
{
	char id[SIGN_KEY_ID_HEX];
	size_t i;

	for (i = 0; i + 4 + 2 * SIGN_KEY_ID_LEN <= b->len; i++) {
		if ((i == 0 || b->data[i - 1] == '\n') &&
		    !memcmp(b->data + i, "key ", 4)) {
			sign_key_id_hex(sign_key_id_raw(fuzz_key), id);
			memcpy(b->data + i + 4, id, 2 * SIGN_KEY_ID_LEN);
			return;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char sig[SIGN_SIG_LEN];
	char err[512];
	struct buf b;
	size_t i;
	int code, rc;

	if (!fuzz_key)
		fuzz_init();
	if (size == 0)
		return 0;
	buf_init(&b, 2 * MANIFEST_FILE_MAX + 256);
	if (!(data[0] & 1)) {
		buf_append(&b, data + 1, size - 1);
	} else {
		if (buf_append(&b, data + 1, size - 1) < 0)
			abort();
		fuzz_key_line(&b);
		if (
		    sign_sign(fuzz_key, b.data, b.len, sig, err,
			      sizeof(err)) < 0)
			abort();
		buf_printf(&b, "signature ");
		for (i = 0; i < SIGN_SIG_LEN; i++)
			buf_printf(&b, "%02x", sig[i]);
		buf_printf(&b, "\n");
	}
	rc = manifest_parse(b.data, b.len, fuzz_ring, &fuzz_m, &code, err,
			    sizeof(err));
	if (rc < 0 && (code <= MANIFEST_OK || code >= MANIFEST_E_COUNT ||
		       !err[0]))
		abort();
	if (rc == 0)
		fuzz_consistent(&fuzz_m);
	buf_free(&b);
	return 0;
}
