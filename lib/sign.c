/*
 * sign.c - Ed25519 keys and SHA-256 over OpenSSL EVP; see sign.h.
 *
 * Ed25519 is used the "pure" way (RFC 8032): EVP_DigestSign/Verify with a
 * NULL digest over the whole message at once; there is no streaming
 * interface, which is why snapshots are signed and checked over a memory
 * map of the file.  OpenSSL's error queue is emptied after every failure
 * so a later, unrelated call cannot pick up a stale error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "log.h"
#include "sign.h"
#include "util.h"

struct sign_key {
	EVP_PKEY *pkey;
	unsigned char id[SIGN_KEY_ID_LEN];
	char hex[SIGN_KEY_ID_HEX];
};

struct sign_keyring {
	struct sign_key keys[SIGN_KEYRING_MAX];	/* public keys only */
	size_t n;
};

struct sign_sha256 {
	EVP_MD_CTX *ctx;
};

/* The first OpenSSL error as text (or fallback), then clear the queue. */
static const char *sign_ssl_error(char *buf, size_t size, const char *fallback)
{
	unsigned long e = ERR_get_error();

	if (e)
		ERR_error_string_n(e, buf, size);
	else
		util_copy_text(buf, fallback, size);
	ERR_clear_error();
	return buf;
}

char *sign_key_id_hex(const unsigned char raw[SIGN_KEY_ID_LEN],
		      char out[SIGN_KEY_ID_HEX])
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < SIGN_KEY_ID_LEN; i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[2 * SIGN_KEY_ID_LEN] = '\0';
	return out;
}

/* Fill k's id from its public key: first bytes of SHA-256(raw key). */
static int sign_key_set_id(struct sign_key *k, char *err, size_t errlen)
{
	unsigned char raw[SIGN_PUBKEY_LEN], dg[SIGN_SHA256_LEN];
	size_t len = sizeof(raw);
	char e[256];

	if (EVP_PKEY_get_raw_public_key(k->pkey, raw, &len) != 1 ||
	    len != SIGN_PUBKEY_LEN) {
		util_err(err, errlen, "cannot read the public key: %s",
			 sign_ssl_error(e, sizeof(e), "wrong length"));
		return -1;
	}
	sign_sha256(raw, len, dg);
	memcpy(k->id, dg, SIGN_KEY_ID_LEN);
	sign_key_id_hex(k->id, k->hex);
	return 0;
}

/* A key around pkey (which it then owns), its id set.  NULL with err,
 * pkey freed. */
static struct sign_key *sign_key_wrap(EVP_PKEY *pkey, char *err,
				      size_t errlen)
{
	struct sign_key *k = xcalloc(1, sizeof(*k));

	k->pkey = pkey;
	if (sign_key_set_id(k, err, errlen) < 0) {
		sign_key_free(k);
		return NULL;
	}
	return k;
}

struct sign_key *sign_key_generate(char *err, size_t errlen)
{
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *pkey = NULL;
	char e[256];

	ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	if (!ctx || EVP_PKEY_keygen_init(ctx) != 1 ||
	    EVP_PKEY_keygen(ctx, &pkey) != 1) {
		util_err(err, errlen, "cannot create an Ed25519 key: %s",
			 sign_ssl_error(e, sizeof(e), "unknown error"));
		EVP_PKEY_CTX_free(ctx);
		return NULL;
	}
	EVP_PKEY_CTX_free(ctx);
	return sign_key_wrap(pkey, err, errlen);
}

/* Write all of data to a new file (O_EXCL) with mode; fsync'ed. */
static int sign_write_new(const char *path, const void *data, size_t len,
			  mode_t mode, char *err, size_t errlen)
{
	const unsigned char *p = data;
	size_t done = 0;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		  mode);
	if (fd < 0) {
		util_err(err, errlen, "%s: %s", path,
			 errno == EEXIST ? "exists already, not overwritten" :
			 strerror(errno));
		return -1;
	}
	/* The umask may have removed bits; set exactly what was asked. */
	if (fchmod(fd, mode) < 0)
		goto fail;
	while (done < len) {
		ssize_t n = write(fd, p + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		done += (size_t)n;
	}
	if (fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	return 0;
fail:
	util_err(err, errlen, "%s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(path);
	return -1;
}

/* PEM text of the private (priv=1, PKCS#8) or public key into a memory
 * BIO; the caller frees it.  NULL on failure. */
static BIO *sign_pem(EVP_PKEY *pkey, int priv)
{
	BIO *b = BIO_new(BIO_s_secmem());
	int ok;

	if (!b)
		return NULL;
	ok = priv ? PEM_write_bio_PrivateKey(b, pkey, NULL, NULL, 0, NULL,
					     NULL)
		  : PEM_write_bio_PUBKEY(b, pkey);
	if (ok != 1) {
		BIO_free(b);
		return NULL;
	}
	return b;
}

int sign_keygen(const char *name, char id_hex[SIGN_KEY_ID_HEX],
		char *err, size_t errlen)
{
	char keypath[SIGN_NAME_MAX + 8], pubpath[SIGN_NAME_MAX + 8], e[256];
	struct sign_key *k;
	struct stat st;
	BIO *bpriv = NULL, *bpub = NULL;
	char *data;
	long len;
	int ret = -1;

	id_hex[0] = '\0';
	if (!name[0] || strlen(name) > SIGN_NAME_MAX) {
		util_err(err, errlen, "key name empty or longer than %d bytes",
			 SIGN_NAME_MAX);
		return -1;
	}
	snprintf(keypath, sizeof(keypath), "%s.key", name);
	snprintf(pubpath, sizeof(pubpath), "%s.pub", name);
	/* Say so before creating anything, rather than half-way. */
	if (lstat(keypath, &st) == 0 || lstat(pubpath, &st) == 0) {
		util_err(err, errlen, "%s: exists already, not overwritten",
			 lstat(keypath, &st) == 0 ? keypath : pubpath);
		return -1;
	}
	k = sign_key_generate(err, errlen);
	if (!k)
		return -1;
	bpriv = sign_pem(k->pkey, 1);
	bpub = sign_pem(k->pkey, 0);
	if (!bpriv || !bpub) {
		util_err(err, errlen, "cannot encode the key: %s",
			 sign_ssl_error(e, sizeof(e), "unknown error"));
		goto out;
	}
	len = BIO_get_mem_data(bpriv, &data);
	if (len <= 0 || sign_write_new(keypath, data, (size_t)len, 0600,
				       err, errlen) < 0)
		goto out;
	len = BIO_get_mem_data(bpub, &data);
	if (len <= 0 || sign_write_new(pubpath, data, (size_t)len, 0644,
				       err, errlen) < 0) {
		unlink(keypath);
		goto out;
	}
	util_copy_fit(id_hex, k->hex, SIGN_KEY_ID_HEX);
	ret = 0;
out:
	BIO_free(bpriv);
	BIO_free(bpub);
	sign_key_free(k);
	return ret;
}

/* Refuse passphrase-protected keys instead of prompting on a terminal. */
static int sign_no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* Read a private key file through one descriptor: regular, not readable
 * or writable by group or others, at most SIGN_FILE_MAX bytes. */
static char *sign_read_private(const char *path, size_t *lenp, char *err,
			       size_t errlen)
{
	struct stat st;
	char *buf;
	size_t got = 0;
	int fd;

	if (util_check_secret_mode(path, err, errlen) < 0)
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		util_err(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	/* Checked again on the open file (it may have been swapped), and
	 * stricter than for a password: a signing key is for its owner only. */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		util_err(err, errlen, "%s: not a regular file", path);
		close(fd);
		return NULL;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		util_err(err, errlen,
			 "%s: mode %04o lets group or others read or change "
			 "a private key; run: chmod 600 %s", path,
			 (unsigned)(st.st_mode & 07777), path);
		close(fd);
		return NULL;
	}
	if (st.st_size > SIGN_FILE_MAX) {
		util_err(err, errlen, "%s: larger than %d bytes, not a key",
			 path, SIGN_FILE_MAX);
		close(fd);
		return NULL;
	}
	buf = xmalloc(SIGN_FILE_MAX + 1);
	for (;;) {
		ssize_t n = read(fd, buf + got, SIGN_FILE_MAX + 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			util_err(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > SIGN_FILE_MAX) {
			util_err(err, errlen, "%s: larger than %d bytes, "
				 "not a key", path, SIGN_FILE_MAX);
			goto fail;
		}
	}
	close(fd);
	*lenp = got;
	return buf;
fail:
	OPENSSL_cleanse(buf, SIGN_FILE_MAX + 1);
	free(buf);
	close(fd);
	return NULL;
}

struct sign_key *sign_key_load(const char *path, char *err, size_t errlen)
{
	EVP_PKEY *pkey;
	BIO *b;
	char *pem, e[256];
	size_t len;

	pem = sign_read_private(path, &len, err, errlen);
	if (!pem)
		return NULL;
	b = BIO_new_mem_buf(pem, (int)len);
	pkey = b ? PEM_read_bio_PrivateKey(b, NULL, sign_no_passphrase, NULL)
		 : NULL;
	BIO_free(b);
	OPENSSL_cleanse(pem, SIGN_FILE_MAX + 1);
	free(pem);
	if (!pkey) {
		util_err(err, errlen, "%s: not a PEM private key without a "
			 "passphrase (%s)", path,
			 sign_ssl_error(e, sizeof(e), "no key found"));
		return NULL;
	}
	if (EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519) {
		util_err(err, errlen, "%s: not an Ed25519 key", path);
		EVP_PKEY_free(pkey);
		return NULL;
	}
	return sign_key_wrap(pkey, err, errlen);
}

void sign_key_free(struct sign_key *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}

const char *sign_key_id(const struct sign_key *k)
{
	return k->hex;
}

const unsigned char *sign_key_id_raw(const struct sign_key *k)
{
	return k->id;
}

int sign_sign(const struct sign_key *k, const void *data, size_t len,
	      unsigned char sig[SIGN_SIG_LEN], char *err, size_t errlen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t siglen = SIGN_SIG_LEN;
	char e[256];
	int ok;

	ok = ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, k->pkey) == 1 &&
	     EVP_DigestSign(ctx, sig, &siglen, data, len) == 1 &&
	     siglen == SIGN_SIG_LEN;
	EVP_MD_CTX_free(ctx);
	if (!ok) {
		util_err(err, errlen, "signing failed: %s",
			 sign_ssl_error(e, sizeof(e), "unknown error"));
		return -1;
	}
	return 0;
}

struct sign_keyring *sign_keyring_new(void)
{
	return xcalloc(1, sizeof(struct sign_keyring));
}

void sign_keyring_free(struct sign_keyring *kr)
{
	size_t i;

	if (!kr)
		return;
	for (i = 0; i < kr->n; i++)
		EVP_PKEY_free(kr->keys[i].pkey);
	free(kr);
}

/* Take pkey (an Ed25519 public key) into the keyring, owning it. */
static int sign_keyring_take(struct sign_keyring *kr, EVP_PKEY *pkey,
			     const char *label, char *err, size_t errlen)
{
	struct sign_key k;
	size_t i;

	memset(&k, 0, sizeof(k));
	k.pkey = pkey;
	if (sign_key_set_id(&k, err, errlen) < 0) {
		EVP_PKEY_free(pkey);
		return -1;
	}
	for (i = 0; i < kr->n; i++) {
		if (memcmp(kr->keys[i].id, k.id, SIGN_KEY_ID_LEN))
			continue;
		if (EVP_PKEY_eq(kr->keys[i].pkey, pkey) == 1) {
			EVP_PKEY_free(pkey);
			return 0;	/* the same key twice */
		}
		util_err(err, errlen, "%s: key id %s collides with another "
			 "trusted key", label, k.hex);
		EVP_PKEY_free(pkey);
		return -1;
	}
	if (kr->n == SIGN_KEYRING_MAX) {
		util_err(err, errlen, "%s: more than %d trusted keys", label,
			 SIGN_KEYRING_MAX);
		EVP_PKEY_free(pkey);
		return -1;
	}
	kr->keys[kr->n++] = k;
	return 0;
}

int sign_keyring_add_pem(struct sign_keyring *kr, const char *pem, size_t len,
			 const char *label, char *err, size_t errlen)
{
	EVP_PKEY *pkey;
	BIO *b;
	char e[256];

	if (!label)
		label = "public key";
	if (len > SIGN_FILE_MAX) {
		util_err(err, errlen, "%s: larger than %d bytes, not a key",
			 label, SIGN_FILE_MAX);
		return -1;
	}
	b = BIO_new_mem_buf(pem, (int)len);
	pkey = b ? PEM_read_bio_PUBKEY(b, NULL, sign_no_passphrase, NULL)
		 : NULL;
	BIO_free(b);
	if (!pkey) {
		util_err(err, errlen, "%s: not a PEM public key "
			 "(-----BEGIN PUBLIC KEY-----): %s", label,
			 sign_ssl_error(e, sizeof(e), "no key found"));
		return -1;
	}
	if (EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519) {
		util_err(err, errlen, "%s: not an Ed25519 key", label);
		EVP_PKEY_free(pkey);
		return -1;
	}
	return sign_keyring_take(kr, pkey, label, err, errlen);
}

int sign_keyring_add_file(struct sign_keyring *kr, const char *path,
			  char *err, size_t errlen)
{
	char *pem;
	size_t len;
	int rc;

	pem = util_read_file(path, SIGN_FILE_MAX, &len, err, errlen);
	if (!pem)
		return -1;
	rc = sign_keyring_add_pem(kr, pem, len, path, err, errlen);
	free(pem);
	return rc;
}

int sign_keyring_add_key(struct sign_keyring *kr, const struct sign_key *key,
			 char *err, size_t errlen)
{
	unsigned char raw[SIGN_PUBKEY_LEN];
	size_t len = sizeof(raw);
	EVP_PKEY *pub;
	char e[256];

	if (EVP_PKEY_get_raw_public_key(key->pkey, raw, &len) != 1 ||
	    !(pub = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw,
						len))) {
		util_err(err, errlen, "cannot copy the public key: %s",
			 sign_ssl_error(e, sizeof(e), "unknown error"));
		return -1;
	}
	return sign_keyring_take(kr, pub, key->hex, err, errlen);
}

size_t sign_keyring_count(const struct sign_keyring *kr)
{
	return kr->n;
}

const char *sign_keyring_id(const struct sign_keyring *kr, size_t i)
{
	return i < kr->n ? kr->keys[i].hex : NULL;
}

/* The trusted key with this id, or NULL. */
static const struct sign_key *sign_keyring_find(const struct sign_keyring *kr,
						const unsigned char *id)
{
	size_t i;

	for (i = 0; i < kr->n; i++)
		if (!memcmp(kr->keys[i].id, id, SIGN_KEY_ID_LEN))
			return &kr->keys[i];
	return NULL;
}

int sign_keyring_has(const struct sign_keyring *kr,
		     const unsigned char id[SIGN_KEY_ID_LEN])
{
	return sign_keyring_find(kr, id) != NULL;
}

int sign_verify(const struct sign_keyring *kr,
		const unsigned char id[SIGN_KEY_ID_LEN],
		const void *data, size_t len,
		const unsigned char sig[SIGN_SIG_LEN], char *err, size_t errlen)
{
	const struct sign_key *k = sign_keyring_find(kr, id);
	EVP_MD_CTX *ctx;
	char hex[SIGN_KEY_ID_HEX], e[256];
	int rc;

	if (!k) {
		util_err(err, errlen, "key id %s is not trusted",
			 sign_key_id_hex(id, hex));
		return -1;
	}
	ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k->pkey) != 1) {
		util_err(err, errlen, "cannot check signatures: %s",
			 sign_ssl_error(e, sizeof(e), "unknown error"));
		EVP_MD_CTX_free(ctx);
		return -1;
	}
	rc = EVP_DigestVerify(ctx, sig, SIGN_SIG_LEN, data, len);
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	if (rc == 1)
		return 1;
	util_err(err, errlen, "signature does not verify with key %s", k->hex);
	return 0;
}

void sign_sha256(const void *data, size_t len, unsigned char out[SIGN_SHA256_LEN])
{
	struct sign_sha256 *c = sign_sha256_new();

	sign_sha256_update(c, data, len);
	sign_sha256_final(c, out);
}

struct sign_sha256 *sign_sha256_new(void)
{
	struct sign_sha256 *c = xcalloc(1, sizeof(*c));

	c->ctx = EVP_MD_CTX_new();
	if (!c->ctx || EVP_DigestInit_ex(c->ctx, EVP_sha256(), NULL) != 1)
		log_fatal(75, "OpenSSL cannot compute SHA-256");
	return c;
}

void sign_sha256_update(struct sign_sha256 *c, const void *data, size_t len)
{
	if (len && EVP_DigestUpdate(c->ctx, data, len) != 1)
		log_fatal(75, "OpenSSL cannot compute SHA-256");
}

void sign_sha256_final(struct sign_sha256 *c, unsigned char out[SIGN_SHA256_LEN])
{
	unsigned int n = 0;

	if (EVP_DigestFinal_ex(c->ctx, out, &n) != 1 || n != SIGN_SHA256_LEN)
		log_fatal(75, "OpenSSL cannot compute SHA-256");
	sign_sha256_free(c);
}

void sign_sha256_free(struct sign_sha256 *c)
{
	if (!c)
		return;
	EVP_MD_CTX_free(c->ctx);
	free(c);
}
