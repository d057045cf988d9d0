/*
 * sign.h - Ed25519 signing keys, trusted public keys and SHA-256: the one
 * thin wrapper around OpenSSL's EVP interface (no other file includes
 * OpenSSL headers for these).
 *
 * Keys: sign_keygen() writes NAME.key (PEM PKCS#8 private key, mode 0600,
 * never overwritten) and NAME.pub (PEM public key); sign_key_load() refuses
 * a private key file that group or others may read or change.  A key id is
 * the first 8 bytes of SHA-256 over the raw 32-byte public key, shown as 16
 * lower-case hex digits.  A keyring holds up to SIGN_KEYRING_MAX trusted
 * public keys (several at once, for rotation), looked up by key id.
 * Hostile input: key files are read with a size ceiling (SIGN_FILE_MAX);
 * anything that is not an Ed25519 key is refused with the file's name.
 */
#ifndef DIRCAT_SIGN_H
#define DIRCAT_SIGN_H

#include <stddef.h>
#include <stdint.h>

#define SIGN_PUBKEY_LEN   32	/* raw Ed25519 public key, bytes */
#define SIGN_SIG_LEN      64	/* Ed25519 signature, bytes */
#define SIGN_KEY_ID_LEN   8	/* raw key id, bytes */
#define SIGN_KEY_ID_HEX   (2 * SIGN_KEY_ID_LEN + 1)	/* hex + NUL */
#define SIGN_SHA256_LEN   32	/* SHA-256 digest, bytes */
#define SIGN_KEYRING_MAX  16	/* trusted public keys at once */
#define SIGN_FILE_MAX     4096	/* a PEM key file, bytes */
#define SIGN_NAME_MAX     1000	/* keygen NAME, bytes (".key" is added) */

struct sign_key;	/* a private (signing) key */
struct sign_keyring;	/* a set of trusted public keys */
struct sign_sha256;	/* a streaming SHA-256 computation */

/*
 * Create a key pair and write NAME.key (mode 0600, created with O_EXCL) and
 * NAME.pub (mode 0644, O_EXCL).  Refuses when either file exists; on any
 * failure neither file is left behind.  The key id goes into id_hex (size
 * SIGN_KEY_ID_HEX).  0, or -1 with err.
 */
int sign_keygen(const char *name, char id_hex[SIGN_KEY_ID_HEX],
		char *err, size_t errlen);

/* A fresh private key in memory only (tests, fuzzing).  NULL with err. */
struct sign_key *sign_key_generate(char *err, size_t errlen);

/*
 * Load a PEM private key after checking its file: a regular file that
 * group and others may neither read nor write (else the message names the
 * file and its mode).  Returns the key (free with sign_key_free()), or
 * NULL with err.
 */
struct sign_key *sign_key_load(const char *path, char *err, size_t errlen);
void sign_key_free(struct sign_key *);

/* The key id as 16 hex digits; valid until sign_key_free(). */
const char *sign_key_id(const struct sign_key *);
/* The raw key id (SIGN_KEY_ID_LEN bytes); valid until sign_key_free(). */
const unsigned char *sign_key_id_raw(const struct sign_key *);

/* Format a raw key id as hex into out (size SIGN_KEY_ID_HEX); returns out. */
char *sign_key_id_hex(const unsigned char raw[SIGN_KEY_ID_LEN],
		      char out[SIGN_KEY_ID_HEX]);

/*
 * Sign data[0..len) (Ed25519 is one-shot: the whole message at once) into
 * sig.  0, or -1 with err.
 */
int sign_sign(const struct sign_key *, const void *data, size_t len,
	      unsigned char sig[SIGN_SIG_LEN], char *err, size_t errlen);

/* An empty keyring; never NULL (out of memory exits). */
struct sign_keyring *sign_keyring_new(void);
void sign_keyring_free(struct sign_keyring *);
/*
 * Add the PEM public key in file path (read up to SIGN_FILE_MAX bytes).
 * Adding a key already present is harmless.  0, or -1 with err (not an
 * Ed25519 public key, keyring full, unreadable file).
 */
int sign_keyring_add_file(struct sign_keyring *, const char *path,
			  char *err, size_t errlen);
/* The same from PEM text in memory; label names it in messages. */
int sign_keyring_add_pem(struct sign_keyring *, const char *pem, size_t len,
			 const char *label, char *err, size_t errlen);
/* Trust the public half of a private key (tests, fuzzing). */
int sign_keyring_add_key(struct sign_keyring *, const struct sign_key *,
			 char *err, size_t errlen);
size_t sign_keyring_count(const struct sign_keyring *);
/* The i-th key id as hex, or NULL past the end; valid until freed. */
const char *sign_keyring_id(const struct sign_keyring *, size_t i);
/* 1 when a key with this raw id is trusted, else 0. */
int sign_keyring_has(const struct sign_keyring *,
		     const unsigned char id[SIGN_KEY_ID_LEN]);

/*
 * Check sig over data[0..len) with the trusted key whose id is id.
 * Returns 1 valid, 0 not valid (bad signature), -1 when no trusted key has
 * that id or OpenSSL fails (err says which).
 */
int sign_verify(const struct sign_keyring *,
		const unsigned char id[SIGN_KEY_ID_LEN],
		const void *data, size_t len,
		const unsigned char sig[SIGN_SIG_LEN], char *err, size_t errlen);

/* SHA-256 of data[0..len) into out. */
void sign_sha256(const void *data, size_t len,
		 unsigned char out[SIGN_SHA256_LEN]);
/* Streaming SHA-256: new, update any number of times, final (which also
 * frees the context).  OpenSSL failing here is a broken environment:
 * it exits with a message. */
struct sign_sha256 *sign_sha256_new(void);
void sign_sha256_update(struct sign_sha256 *, const void *data, size_t len);
void sign_sha256_final(struct sign_sha256 *, unsigned char out[SIGN_SHA256_LEN]);
/* Discard without a result (error paths); NULL is harmless. */
void sign_sha256_free(struct sign_sha256 *);

#endif
