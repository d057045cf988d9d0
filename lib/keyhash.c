/*
 * keyhash.c - keyed-hash catalogs; see keyhash.h.
 *
 * Three subkeys come from the secret: one hashes keys, two seal record
 * fields.  A field is sealed SIV-style: mk = HMAC(mac-subkey, clear key),
 * ek = HMAC(enc-subkey, clear key), IV = HMAC(mk, field byte | plaintext)
 * truncated to 16 bytes, ciphertext = AES-256-CTR(ek, IV, plaintext),
 * stored as base64url(IV | ciphertext).  Opening recomputes the IV from
 * the decrypted text and compares, so a damaged field, another secret or
 * a field copied from another record is refused.  Deterministic on
 * purpose: the same catalog gives the same snapshot bytes; what that
 * shows is only that a record's owners did not change.
 *
 * HMAC is computed here from SHA-256 states kept after the key's inner
 * and outer blocks, copied for each message, as HMAC implementations do
 * inside.  Why not EVP_MAC: through OpenSSL 3's provider layer one HMAC
 * cost about 1 us on the benchmark machine, and a lookup of an unknown
 * address hashes three or four keys, which made keyed-hash lookups three
 * times slower than clear ones in process (keyhash_bench); the low-level
 * SHA-256 calls are deprecated in OpenSSL 3 but not removed, and this
 * file alone uses them.
 */
#define OPENSSL_SUPPRESS_DEPRECATED	/* SHA256_Init & co: see above */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "keyhash.h"
#include "util.h"

#define KEYHASH_MD_LEN 32	/* SHA-256 */
#define KEYHASH_BLOCK  64	/* SHA-256's block */

/* An HMAC-SHA-256 key, prepared: the states after its padded blocks. */
struct keyhash_hmac {
	SHA256_CTX inner, outer;
};

static const char keyhash_b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

struct keyhash {
	unsigned char id[KEYHASH_ID_LEN];
	struct keyhash_hmac keys;	/* the key subkey */
	struct keyhash_hmac iv;		/* seals: IV keys come from it */
	struct keyhash_hmac enc;	/* seals: cipher keys come from it */
	EVP_CIPHER *aes;		/* AES-256-CTR, fetched once */
	EVP_CIPHER_CTX *cipher;
};

/* Out of memory or a broken OpenSSL: nothing sensible to do but stop. */
static void keyhash_fatal(const char *what)
{
	fprintf(stderr, "dircat: keyhash: %s failed (OpenSSL)\n", what);
	exit(70);
}

int keyhash_parse_secret(const char *text, size_t len, unsigned char *out,
			 char *err, size_t errlen)
{
	size_t i;

	if (len < 2 * KEYHASH_SECRET_MIN || len > 2 * KEYHASH_SECRET_MAX ||
	    len % 2) {
		util_err(err, errlen, "%zu characters: a secret is an even "
			 "number of %d to %d hex digits (%d to %d random "
			 "bytes)", len, 2 * KEYHASH_SECRET_MIN,
			 2 * KEYHASH_SECRET_MAX, KEYHASH_SECRET_MIN,
			 KEYHASH_SECRET_MAX);
		return -1;
	}
	for (i = 0; i < len; i++) {
		int c = (unsigned char)text[i], v;

		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v = c - 'A' + 10;
		else {
			util_err(err, errlen, "character %zu is not a hex "
				 "digit", i + 1);
			return -1;
		}
		if (i % 2)
			out[i / 2] = (unsigned char)(out[i / 2] | v);
		else
			out[i / 2] = (unsigned char)(v << 4);
	}
	return (int)(len / 2);
}

/* Prepare key[0..len) (at most KEYHASH_BLOCK bytes: every key here is
 * a secret of at most 64 bytes or a 32-byte HMAC). */
static void keyhash_hmac_init(struct keyhash_hmac *h, const unsigned char *key,
			      size_t len)
{
	unsigned char pad[KEYHASH_BLOCK];
	size_t i;

	if (len > KEYHASH_BLOCK)
		abort();	/* a caller's bug */
	memset(pad, 0x36, sizeof(pad));
	for (i = 0; i < len; i++)
		pad[i] ^= key[i];
	SHA256_Init(&h->inner);
	SHA256_Update(&h->inner, pad, sizeof(pad));
	memset(pad, 0x5c, sizeof(pad));
	for (i = 0; i < len; i++)
		pad[i] ^= key[i];
	SHA256_Init(&h->outer);
	SHA256_Update(&h->outer, pad, sizeof(pad));
	OPENSSL_cleanse(pad, sizeof(pad));
}

/* HMAC-SHA-256 under h over a[0..alen) then b[0..blen). */
static void keyhash_mac(const struct keyhash_hmac *h, const void *a,
			size_t alen, const void *b, size_t blen,
			unsigned char out[KEYHASH_MD_LEN])
{
	SHA256_CTX c = h->inner;
	unsigned char ih[KEYHASH_MD_LEN];

	SHA256_Update(&c, a, alen);
	SHA256_Update(&c, b, blen);
	SHA256_Final(ih, &c);
	c = h->outer;
	SHA256_Update(&c, ih, sizeof(ih));
	SHA256_Final(out, &c);
	OPENSSL_cleanse(&c, sizeof(c));
}

struct keyhash *keyhash_new(const unsigned char *secret, size_t len,
			    char *err, size_t errlen)
{
	struct keyhash *kh;
	struct keyhash_hmac root;
	unsigned char sub[KEYHASH_MD_LEN];

	if (len < KEYHASH_SECRET_MIN || len > KEYHASH_SECRET_MAX) {
		util_err(err, errlen, "a secret of %zu bytes: %d to %d needed",
			 len, KEYHASH_SECRET_MIN, KEYHASH_SECRET_MAX);
		return NULL;
	}
	kh = xcalloc(1, sizeof(*kh));
	kh->aes = EVP_CIPHER_fetch(NULL, "AES-256-CTR", NULL);
	kh->cipher = EVP_CIPHER_CTX_new();
	if (!kh->aes || !kh->cipher)
		keyhash_fatal("AES-256-CTR");
	/* Distinct labels: no output of one use is an input of another. */
	keyhash_hmac_init(&root, secret, len);
	keyhash_mac(&root, "dircat keyed-hash secret id", 27, NULL, 0, kh->id);
	keyhash_mac(&root, "dircat keyed-hash keys", 22, NULL, 0, sub);
	keyhash_hmac_init(&kh->keys, sub, sizeof(sub));
	keyhash_mac(&root, "dircat keyed-hash seal iv", 25, NULL, 0, sub);
	keyhash_hmac_init(&kh->iv, sub, sizeof(sub));
	keyhash_mac(&root, "dircat keyed-hash seal enc", 26, NULL, 0, sub);
	keyhash_hmac_init(&kh->enc, sub, sizeof(sub));
	OPENSSL_cleanse(sub, sizeof(sub));
	OPENSSL_cleanse(&root, sizeof(root));
	return kh;
}

struct keyhash *keyhash_load(const char *path, char *err, size_t errlen)
{
	unsigned char secret[KEYHASH_SECRET_MAX];
	char why[160];
	struct keyhash *kh;
	char *text;
	int n;

	text = util_read_secret(path, err, errlen);	/* checks the mode */
	if (!text)
		return NULL;
	n = keyhash_parse_secret(text, strlen(text), secret, why,
				 sizeof(why));
	util_free_secret(text);
	if (n < 0) {
		util_err(err, errlen, "%s: %s", path, why);
		return NULL;
	}
	kh = keyhash_new(secret, (size_t)n, err, errlen);
	OPENSSL_cleanse(secret, sizeof(secret));
	return kh;
}

void keyhash_free(struct keyhash *kh)
{
	if (!kh)
		return;
	EVP_CIPHER_CTX_free(kh->cipher);
	EVP_CIPHER_free(kh->aes);
	OPENSSL_cleanse(kh, sizeof(*kh));
	free(kh);
}

const unsigned char *keyhash_id(const struct keyhash *kh)
{
	return kh->id;
}

void keyhash_id_hex(const unsigned char *id, char out[KEYHASH_ID_HEX])
{
	static const char hex[] = "0123456789abcdef";
	int i;

	for (i = 0; i < 8; i++) {
		out[2 * i] = hex[id[i] >> 4];
		out[2 * i + 1] = hex[id[i] & 15];
	}
	out[16] = '\0';
}

/* base64url without padding of in[0..len) into out; returns the length
 * written (no NUL). */
static size_t keyhash_b64_encode(const unsigned char *in, size_t len,
				 char *out)
{
	size_t i, o = 0;

	for (i = 0; i + 2 < len; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 |
			     in[i + 2];

		out[o++] = keyhash_b64[v >> 18];
		out[o++] = keyhash_b64[(v >> 12) & 63];
		out[o++] = keyhash_b64[(v >> 6) & 63];
		out[o++] = keyhash_b64[v & 63];
	}
	if (len - i == 1) {
		out[o++] = keyhash_b64[in[i] >> 2];
		out[o++] = keyhash_b64[(in[i] & 3) << 4];
	} else if (len - i == 2) {
		unsigned v = (unsigned)in[i] << 8 | in[i + 1];

		out[o++] = keyhash_b64[v >> 10];
		out[o++] = keyhash_b64[(v >> 4) & 63];
		out[o++] = keyhash_b64[(v & 15) << 2];
	}
	return o;
}

/* The value of one base64url character, or -1. */
static int keyhash_b64_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/* Decode base64url in[0..len) into out (at most outsize bytes); the
 * length, or -1 when malformed or too long. */
static long keyhash_b64_decode(const char *in, size_t len,
			       unsigned char *out, size_t outsize)
{
	size_t i, o = 0;
	unsigned acc = 0;
	int bits = 0;

	if (len % 4 == 1 || len / 4 * 3 + 2 > outsize + 2)
		return -1;
	for (i = 0; i < len; i++) {
		int v = keyhash_b64_value((unsigned char)in[i]);

		if (v < 0)
			return -1;
		acc = (acc << 6 | (unsigned)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= outsize)
				return -1;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	/* Leftover bits must be zero: one encoding per value. */
	if (acc & ((1u << bits) - 1))
		return -1;
	return (long)o;
}

size_t keyhash_key(struct keyhash *kh, const char *key, size_t len,
		   char out[KEYHASH_KEY_LEN + 1])
{
	unsigned char md[KEYHASH_MD_LEN];

	keyhash_mac(&kh->keys, key, len, NULL, 0, md);
	keyhash_b64_encode(md, KEYHASH_TAG_LEN, out);
	out[KEYHASH_KEY_LEN] = '\0';
	return KEYHASH_KEY_LEN;
}

int keyhash_key_ok(const char *key, size_t len)
{
	size_t i;

	if (len != KEYHASH_KEY_LEN)
		return 0;
	for (i = 0; i < len; i++)
		if (keyhash_b64_value((unsigned char)key[i]) < 0)
			return 0;
	return 1;
}

/* The two per-record keys for the clear key[0..keylen). */
static void keyhash_rec_keys(struct keyhash *kh, const char *key,
			     size_t keylen, unsigned char mk[KEYHASH_MD_LEN],
			     unsigned char ek[KEYHASH_MD_LEN])
{
	keyhash_mac(&kh->iv, key, keylen, NULL, 0, mk);
	keyhash_mac(&kh->enc, key, keylen, NULL, 0, ek);
}

/* AES-256-CTR of in[0..len) into out (the same either way). */
static void keyhash_ctr(struct keyhash *kh, const unsigned char *ek,
			const unsigned char *iv, const unsigned char *in,
			size_t len, unsigned char *out)
{
	int n = 0, m = 0;

	if (!EVP_EncryptInit_ex(kh->cipher, kh->aes, NULL, ek, iv) ||
	    (len && !EVP_EncryptUpdate(kh->cipher, out, &n, in, (int)len)) ||
	    !EVP_EncryptFinal_ex(kh->cipher, out + n, &m) ||
	    (size_t)(n + m) != len)
		keyhash_fatal("AES-256-CTR");
}

/* Seal one field into out (room for KEYHASH_SEALED_LEN(len)); returns
 * the sealed length. */
static size_t keyhash_seal(struct keyhash *kh, const unsigned char *mk,
			   const unsigned char *ek, int field,
			   const char *in, size_t len, char *out)
{
	unsigned char blob[KEYHASH_IV_LEN + CATALOG_EXTRA_MAX +
			   CATALOG_OWNERS_MAX];
	unsigned char md[KEYHASH_MD_LEN], f = (unsigned char)field;
	struct keyhash_hmac h;

	keyhash_hmac_init(&h, mk, KEYHASH_MD_LEN);
	keyhash_mac(&h, &f, 1, in, len, md);
	memcpy(blob, md, KEYHASH_IV_LEN);
	keyhash_ctr(kh, ek, blob, (const unsigned char *)in, len,
		    blob + KEYHASH_IV_LEN);
	return keyhash_b64_encode(blob, KEYHASH_IV_LEN + len, out);
}

/* Open one sealed field into out (room for its clear length); the
 * clear length, or -1. */
static long keyhash_open(struct keyhash *kh, const unsigned char *mk,
			 const unsigned char *ek, int field, const char *in,
			 size_t len, char *out)
{
	unsigned char blob[KEYHASH_IV_LEN + CATALOG_EXTRA_MAX +
			   CATALOG_OWNERS_MAX];
	unsigned char md[KEYHASH_MD_LEN], f = (unsigned char)field;
	long n = keyhash_b64_decode(in, len, blob, sizeof(blob));

	if (n < KEYHASH_IV_LEN)
		return -1;
	n -= KEYHASH_IV_LEN;
	struct keyhash_hmac h;

	keyhash_ctr(kh, ek, blob, blob + KEYHASH_IV_LEN, (size_t)n,
		    (unsigned char *)out);
	keyhash_hmac_init(&h, mk, KEYHASH_MD_LEN);
	keyhash_mac(&h, &f, 1, out, (size_t)n, md);
	if (CRYPTO_memcmp(md, blob, KEYHASH_IV_LEN))
		return -1;
	return n;
}

int keyhash_rec_seal(struct keyhash *kh, const struct catalog_rec *rec,
		     struct catalog_rec *out, char *buf, size_t bufsize,
		     char *err, size_t errlen)
{
	unsigned char mk[KEYHASH_MD_LEN], ek[KEYHASH_MD_LEN];

	if (bufsize < CATALOG_OWNERS_MAX + CATALOG_EXTRA_MAX)
		abort();	/* a caller's bug */
	if (rec->ownerslen > KEYHASH_OWNERS_CLEAR_MAX ||
	    rec->extralen > KEYHASH_EXTRA_CLEAR_MAX) {
		util_err(err, errlen, "owners (%zu bytes) or extra fields "
			 "(%zu bytes) of \"%.*s\" too long to seal: at most "
			 "%d and %d bytes in keyed-hash mode", rec->ownerslen,
			 rec->extralen, (int)(rec->keylen > 80 ? 80 :
					      rec->keylen), rec->key,
			 KEYHASH_OWNERS_CLEAR_MAX, KEYHASH_EXTRA_CLEAR_MAX);
		return -1;
	}
	out->kind = rec->kind;
	out->owners = out->extra = "";
	out->ownerslen = out->extralen = 0;
	if (!rec->ownerslen && !rec->extralen)
		return 0;
	keyhash_rec_keys(kh, rec->key, rec->keylen, mk, ek);
	if (rec->ownerslen) {
		out->ownerslen = keyhash_seal(kh, mk, ek, KEYHASH_OWNERS,
					      rec->owners, rec->ownerslen, buf);
		out->owners = buf;
	}
	if (rec->extralen) {
		char *x = buf + CATALOG_OWNERS_MAX;

		out->extralen = keyhash_seal(kh, mk, ek, KEYHASH_EXTRA,
					     rec->extra, rec->extralen, x);
		out->extra = x;
	}
	OPENSSL_cleanse(ek, sizeof(ek));
	return 0;
}

int keyhash_rec_open(struct keyhash *kh, const char *key, size_t keylen,
		     const struct catalog_rec *in, struct catalog_rec *out,
		     char *buf, size_t bufsize, char *err, size_t errlen)
{
	unsigned char mk[KEYHASH_MD_LEN], ek[KEYHASH_MD_LEN];
	struct catalog_rec sealed = *in;	/* in may be out */
	long n;

	in = &sealed;
	if (bufsize < CATALOG_OWNERS_MAX + CATALOG_EXTRA_MAX)
		abort();	/* a caller's bug */
	out->kind = in->kind;
	out->owners = out->extra = "";
	out->ownerslen = out->extralen = 0;
	if (!in->ownerslen && !in->extralen)
		return 0;
	keyhash_rec_keys(kh, key, keylen, mk, ek);
	if (in->ownerslen) {
		n = keyhash_open(kh, mk, ek, KEYHASH_OWNERS, in->owners,
				 in->ownerslen, buf);
		if (n < 0)
			goto bad;
		out->owners = buf;
		out->ownerslen = (size_t)n;
	}
	if (in->extralen) {
		char *x = buf + CATALOG_OWNERS_MAX;

		n = keyhash_open(kh, mk, ek, KEYHASH_EXTRA, in->extra,
				 in->extralen, x);
		if (n < 0)
			goto bad;
		out->extra = x;
		out->extralen = (size_t)n;
	}
	return 0;
bad:
	util_err(err, errlen, "a sealed field of the record does not open "
		 "(damaged, or sealed with another secret)");
	return -1;
}

const char *keyhash_catalog_unusable(struct catalog_read *r,
				     const struct keyhash *kh)
{
	unsigned char id[KEYHASH_ID_LEN];
	struct catalog_info info;
	size_t len = 0;
	int rc;

	if (catalog_read_info(r, &info) < 0)
		return "catalog read error";
	if (info.serial == 0)
		return NULL;
	rc = catalog_read_meta(r, KEYHASH_META_ID, id, sizeof(id), &len);
	if (rc < 0)
		return "catalog read error";
	if (rc == 0)
		return kh ? "catalog installed in clear, but hash_secret is set"
			  : NULL;
	if (!kh)
		return "catalog keyed-hashed, but no hash_secret is set";
	if (len != KEYHASH_ID_LEN || memcmp(id, kh->id, KEYHASH_ID_LEN))
		return "catalog hashed with another secret than hash_secret";
	return NULL;
}
