/*
 * keyhash.h - keyed-hash catalogs: what a per-catalog secret turns keys
 * and record fields into, so that a catalog file on a DMZ node cannot be
 * listed or searched without the secret.
 *
 * A key (an address, "@domain", a domain) becomes KEYHASH_KEY_LEN
 * base64url characters: the first KEYHASH_TAG_LEN bytes of
 * HMAC-SHA-256(key-subkey, key).  Owners and extra fields are sealed with
 * a key derived from the record's clear key (deterministic authenticated
 * encryption: IV = HMAC over field and plaintext, AES-256-CTR), so only
 * a reader who already knows the address can open them.  The secret id
 * (HMAC of a fixed label under the secret) names the secret in snapshot
 * headers and in the node's catalog; it never reveals the secret.
 * keyhash_load() reads a secret file (one line, 64 to 128 hex digits)
 * that group members may read but others may not.  Not thread-safe: one
 * struct keyhash per thread.  Errors: 0 / -1 with a message in err.
 */
#ifndef DIRCAT_KEYHASH_H
#define DIRCAT_KEYHASH_H

#include <stddef.h>

#include "catalog.h"

#define KEYHASH_SECRET_MIN  32	/* bytes of secret, at least */
#define KEYHASH_SECRET_MAX  64	/* and at most */
#define KEYHASH_ID_LEN      32	/* the secret id, bytes */
#define KEYHASH_ID_HEX      17	/* its first 8 bytes in hex, with NUL */
#define KEYHASH_TAG_LEN     24	/* HMAC bytes kept per key (192 bits) */
#define KEYHASH_KEY_LEN     32	/* base64url characters of a hashed key */
#define KEYHASH_IV_LEN      16	/* the synthetic IV of a sealed field */
/* A sealed field holding n clear bytes takes this many characters. */
#define KEYHASH_SEALED_LEN(n) ((((n) + KEYHASH_IV_LEN) * 4 + 2) / 3)
/* The largest clear owners / extra a sealed field can carry. */
#define KEYHASH_OWNERS_CLEAR_MAX (CATALOG_OWNERS_MAX * 3 / 4 - KEYHASH_IV_LEN)
#define KEYHASH_EXTRA_CLEAR_MAX  (CATALOG_EXTRA_MAX * 3 / 4 - KEYHASH_IV_LEN)

/* The catalog's named meta value (catalog.h) holding the secret id of
 * the installed keyed-hash snapshot; absent: the keys are clear. */
#define KEYHASH_META_ID "keyed-hash.id"

struct keyhash;

/*
 * Parse a secret written as hex digits (text[0..len), an optional line
 * end already removed) into out (KEYHASH_SECRET_MAX bytes): an even
 * number of 2 * KEYHASH_SECRET_MIN .. 2 * KEYHASH_SECRET_MAX digits.
 * Returns the number of bytes, or -1 with err (which never quotes the
 * text).
 */
int keyhash_parse_secret(const char *text, size_t len, unsigned char *out,
			 char *err, size_t errlen);

/* A keyhash for secret[0..len) (KEYHASH_SECRET_MIN .. MAX bytes), or NULL
 * with err.  Exits when out of memory. */
struct keyhash *keyhash_new(const unsigned char *secret, size_t len,
			    char *err, size_t errlen);

/* Read and check the secret file at path (mode: others may neither read
 * nor write it; a regular file), then keyhash_new().  NULL with err. */
struct keyhash *keyhash_load(const char *path, char *err, size_t errlen);

/* Wipe and free; NULL is harmless. */
void keyhash_free(struct keyhash *);

/* The secret id, KEYHASH_ID_LEN bytes; valid until keyhash_free(). */
const unsigned char *keyhash_id(const struct keyhash *);
/* The first 8 bytes of an id as 16 lower-case hex digits (for messages,
 * status and logs). */
void keyhash_id_hex(const unsigned char *id, char out[KEYHASH_ID_HEX]);

/* Hash key[0..len) into out: KEYHASH_KEY_LEN characters and a NUL.
 * Returns KEYHASH_KEY_LEN. */
size_t keyhash_key(struct keyhash *, const char *key, size_t len,
		   char out[KEYHASH_KEY_LEN + 1]);

/* 1 when key[0..len) looks like a hashed key (KEYHASH_KEY_LEN base64url
 * characters), else 0. */
int keyhash_key_ok(const char *key, size_t len);

/* Which field a sealed value belongs to (bound into it). */
enum keyhash_field { KEYHASH_OWNERS = 'o', KEYHASH_EXTRA = 'x' };

/*
 * Seal rec's owners and extra fields for the record whose clear key is
 * rec->key (key fields of out are left alone; kind copied).  The sealed
 * fields go into buf (size >= CATALOG_OWNERS_MAX + CATALOG_EXTRA_MAX) and
 * out points into it.  An empty field stays empty.  0, or -1 with err
 * when a field is over KEYHASH_*_CLEAR_MAX.
 */
int keyhash_rec_seal(struct keyhash *, const struct catalog_rec *rec,
		     struct catalog_rec *out, char *buf, size_t bufsize,
		     char *err, size_t errlen);

/*
 * Open the sealed fields of in (read with the hashed key) for the clear
 * key[0..keylen) it was found under: out gets in's kind and the clear
 * owners and extra, stored in buf (size >= CATALOG_OWNERS_MAX +
 * CATALOG_EXTRA_MAX).  0, or -1 with err when a field does not open
 * (damaged, another secret, or moved from another record).
 */
int keyhash_rec_open(struct keyhash *, const char *key, size_t keylen,
		     const struct catalog_rec *in, struct catalog_rec *out,
		     char *buf, size_t bufsize, char *err, size_t errlen);

/*
 * Whether the catalog r reads can be searched with kh (NULL: clear mode):
 * NULL when it can (or holds nothing yet), else a fixed reason for
 * TEMP answers and the log ("catalog hashed with another secret", ...).
 */
const char *keyhash_catalog_unusable(struct catalog_read *r,
				     const struct keyhash *kh);

#endif
