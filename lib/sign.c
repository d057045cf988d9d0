/*
 * sign.c - Ed25519 keys and SHA-256 over OpenSSL EVP; see sign.h.
 * (Skeleton: implementation follows.)
 */
#include <stdlib.h>

#include "sign.h"
#include "util.h"

int sign_keygen(const char *name, char id_hex[SIGN_KEY_ID_HEX],
		char *err, size_t errlen)
{
	(void)name; id_hex[0] = '\0';
	util_err(err, errlen, "not implemented");
	return -1;
}
struct sign_key *sign_key_generate(char *err, size_t errlen)
{ util_err(err, errlen, "not implemented"); return NULL; }
struct sign_key *sign_key_load(const char *path, char *err, size_t errlen)
{ (void)path; util_err(err, errlen, "not implemented"); return NULL; }
void sign_key_free(struct sign_key *k) { (void)k; }
const char *sign_key_id(const struct sign_key *k) { (void)k; return ""; }
const unsigned char *sign_key_id_raw(const struct sign_key *k) { (void)k; return NULL; }
char *sign_key_id_hex(const unsigned char raw[SIGN_KEY_ID_LEN],
		      char out[SIGN_KEY_ID_HEX])
{ (void)raw; out[0] = '\0'; return out; }
int sign_sign(const struct sign_key *k, const void *data, size_t len,
	      unsigned char sig[SIGN_SIG_LEN], char *err, size_t errlen)
{ (void)k; (void)data; (void)len; (void)sig; util_err(err, errlen, "not implemented"); return -1; }
struct sign_keyring *sign_keyring_new(void) { return NULL; }
void sign_keyring_free(struct sign_keyring *kr) { (void)kr; }
int sign_keyring_add_file(struct sign_keyring *kr, const char *path,
			  char *err, size_t errlen)
{ (void)kr; (void)path; util_err(err, errlen, "not implemented"); return -1; }
int sign_keyring_add_pem(struct sign_keyring *kr, const char *pem, size_t len,
			 const char *label, char *err, size_t errlen)
{ (void)kr; (void)pem; (void)len; (void)label; util_err(err, errlen, "not implemented"); return -1; }
int sign_keyring_add_key(struct sign_keyring *kr, const struct sign_key *k,
			 char *err, size_t errlen)
{ (void)kr; (void)k; util_err(err, errlen, "not implemented"); return -1; }
size_t sign_keyring_count(const struct sign_keyring *kr) { (void)kr; return 0; }
const char *sign_keyring_id(const struct sign_keyring *kr, size_t i) { (void)kr; (void)i; return NULL; }
int sign_keyring_has(const struct sign_keyring *kr,
		     const unsigned char id[SIGN_KEY_ID_LEN]) { (void)kr; (void)id; return 0; }
int sign_verify(const struct sign_keyring *kr,
		const unsigned char id[SIGN_KEY_ID_LEN],
		const void *data, size_t len,
		const unsigned char sig[SIGN_SIG_LEN], char *err, size_t errlen)
{ (void)kr; (void)id; (void)data; (void)len; (void)sig; util_err(err, errlen, "not implemented"); return -1; }
void sign_sha256(const void *data, size_t len, unsigned char out[SIGN_SHA256_LEN])
{ (void)data; (void)len; (void)out; }
struct sign_sha256 *sign_sha256_new(void) { return NULL; }
void sign_sha256_update(struct sign_sha256 *c, const void *data, size_t len)
{ (void)c; (void)data; (void)len; }
void sign_sha256_final(struct sign_sha256 *c, unsigned char out[SIGN_SHA256_LEN])
{ (void)c; (void)out; }
void sign_sha256_free(struct sign_sha256 *c) { (void)c; }
