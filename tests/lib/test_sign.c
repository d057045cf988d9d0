/*
 * test_sign.c - lib/sign.c: key pairs on disk, key ids, file mode
 * refusals, keyrings, signatures (RFC 8032 vector) and SHA-256.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "sign.h"
#include "util.h"

/* RFC 8032, section 7.1, TEST 1 (empty message), as PEM. */
static const char rfc_priv[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
	"-----END PRIVATE KEY-----\n";
static const char rfc_pub[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n"
	"-----END PUBLIC KEY-----\n";
static const char rfc_sig[] =
	"e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
	"5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";
/* SHA-256 of the raw public key d75a9801..., first 8 bytes. */
static const char rfc_id[] = "21fe31dfa154a261";

/* A P-256 key: valid PEM, wrong algorithm. */
static const char ec_priv[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgdnuJvah3nr9PSRm8\n"
	"njH92dwyK871CuXakNpcOk7HY26hRANCAAR/acEsoEjWRuH/ywWQcl2KGXpt7eFR\n"
	"uan2gqhOJXmc0VGbTleJM3SNxDf1dayCcb4ixpHzzTqbg7rEiVBYKqHb\n"
	"-----END PRIVATE KEY-----\n";

static char dir[160];

static const char *path_in(const char *name)
{
	static char p[4][256];
	static int i;

	i = (i + 1) % 4;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
	return p[i];
}

static void put_file(const char *path, const char *text, mode_t mode)
{
	char err[256];

	unlink(path);
	if (util_write_file_atomic(path, text, strlen(text), mode, err,
				   sizeof(err)) < 0 || chmod(path, mode) < 0) {
		printf("FAIL: setup %s: %s\n", path, err);
		exit(1);
	}
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) < 0 ? (mode_t)-1 : st.st_mode & 07777;
}

static void hex(const unsigned char *p, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
}

static void test_keygen(void)
{
	char id[SIGN_KEY_ID_HEX], err[512], base[256];
	struct sign_key *k;
	struct sign_keyring *kr;
	size_t i;
	mode_t old = umask(077);	/* must not change the .pub's mode */

	snprintf(base, sizeof(base), "%s/node", dir);
	CHECK(sign_keygen(base, id, err, sizeof(err)) == 0, "keygen: %s", err);
	umask(old);
	CHECK(strlen(id) == 16, "keygen: key id has 16 characters");
	for (i = 0; i < strlen(id); i++)
		if (!strchr("0123456789abcdef", id[i]))
			break;
	CHECK(i == 16, "keygen: key id is lower-case hex");
	CHECK(mode_of(path_in("node.key")) == 0600, "keygen: NAME.key mode 0600");
	CHECK(mode_of(path_in("node.pub")) == 0644, "keygen: NAME.pub mode 0644");

	k = sign_key_load(path_in("node.key"), err, sizeof(err));
	CHECK(k != NULL, "load the generated key: %s", k ? "" : err);
	if (k)
		CHECK_STR(sign_key_id(k), id, "loaded key has the printed id");
	kr = sign_keyring_new();
	CHECK(sign_keyring_add_file(kr, path_in("node.pub"), err,
				    sizeof(err)) == 0, "keyring takes NAME.pub");
	CHECK(sign_keyring_count(kr) == 1, "keyring count 1");
	CHECK_STR(sign_keyring_id(kr, 0), id, "public key has the same id");
	CHECK(sign_keyring_id(kr, 1) == NULL, "no second id");
	if (k)
		CHECK(sign_keyring_has(kr, sign_key_id_raw(k)) == 1,
		      "keyring has the key by raw id");
	sign_keyring_free(kr);
	sign_key_free(k);

	/* Never overwrite, whichever of the two exists. */
	CHECK(sign_keygen(base, id, err, sizeof(err)) < 0 &&
	      strstr(err, "node.key") && strstr(err, "exists"),
	      "keygen refuses an existing NAME.key: %s", err);
	snprintf(base, sizeof(base), "%s/half", dir);
	put_file(path_in("half.pub"), "keep me\n", 0644);
	CHECK(sign_keygen(base, id, err, sizeof(err)) < 0 &&
	      strstr(err, "half.pub"), "keygen refuses an existing NAME.pub");
	CHECK(access(path_in("half.key"), F_OK) < 0,
	      "nothing left behind after a refusal");
	snprintf(base, sizeof(base), "%s/no/such/dir/k", dir);
	CHECK(sign_keygen(base, id, err, sizeof(err)) < 0,
	      "keygen into a missing directory fails: %s", err);
	CHECK(sign_keygen("", id, err, sizeof(err)) < 0, "keygen: empty name");
}

static void test_load_refusals(void)
{
	char err[512];
	struct sign_key *k;
	static const mode_t bad[] = { 0640, 0604, 0660, 0606, 0620, 0602, 0644 };
	size_t i;

	put_file(path_in("rfc.key"), rfc_priv, 0600);
	k = sign_key_load(path_in("rfc.key"), err, sizeof(err));
	CHECK(k != NULL, "load RFC 8032 key (0600): %s", k ? "" : err);
	if (k) {
		CHECK_STR(sign_key_id(k), rfc_id, "key id = SHA-256(raw key)[0..8]");
		sign_key_free(k);
	}
	put_file(path_in("rfc400.key"), rfc_priv, 0400);
	k = sign_key_load(path_in("rfc400.key"), err, sizeof(err));
	CHECK(k != NULL, "load a key with mode 0400");
	sign_key_free(k);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[16];

		put_file(path_in("open.key"), rfc_priv, bad[i]);
		snprintf(want, sizeof(want), "%04o", (unsigned)bad[i]);
		k = sign_key_load(path_in("open.key"), err, sizeof(err));
		CHECK(k == NULL && strstr(err, "open.key") && strstr(err, want),
		      "mode %s refused, message names file and mode: %s",
		      want, err);
		sign_key_free(k);
	}
	k = sign_key_load(path_in("absent.key"), err, sizeof(err));
	CHECK(k == NULL && strstr(err, "absent.key"), "missing key file");
	k = sign_key_load(dir, err, sizeof(err));
	CHECK(k == NULL, "a directory is not a key: %s", err);
	put_file(path_in("pub-as-priv.key"), rfc_pub, 0600);
	k = sign_key_load(path_in("pub-as-priv.key"), err, sizeof(err));
	CHECK(k == NULL && strstr(err, "private key"),
	      "a public key is not a private key: %s", err);
	put_file(path_in("ec.key"), ec_priv, 0600);
	k = sign_key_load(path_in("ec.key"), err, sizeof(err));
	CHECK(k == NULL && strstr(err, "Ed25519"), "P-256 key refused: %s", err);
	put_file(path_in("junk.key"), "hello\n", 0600);
	k = sign_key_load(path_in("junk.key"), err, sizeof(err));
	CHECK(k == NULL, "junk refused: %s", err);
	{
		char big[SIGN_FILE_MAX + 2];

		memset(big, 'A', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		put_file(path_in("big.key"), big, 0600);
		k = sign_key_load(path_in("big.key"), err, sizeof(err));
		CHECK(k == NULL && strstr(err, "larger"),
		      "key file over SIGN_FILE_MAX refused: %s", err);
	}
}

static void test_sign_verify(void)
{
	unsigned char sig[SIGN_SIG_LEN], raw_a[SIGN_KEY_ID_LEN];
	char err[512], h[2 * SIGN_SIG_LEN + 1];
	struct sign_keyring *kr = sign_keyring_new();
	struct sign_key *rfc, *a, *b;
	static const char msg[] = "dircat snapshot bytes";
	unsigned char bad[sizeof(msg)];

	put_file(path_in("rfc.key"), rfc_priv, 0600);
	rfc = sign_key_load(path_in("rfc.key"), err, sizeof(err));
	CHECK(rfc != NULL, "RFC key loads");
	if (!rfc)
		return;
	CHECK(sign_sign(rfc, "", 0, sig, err, sizeof(err)) == 0, "sign empty");
	hex(sig, SIGN_SIG_LEN, h);
	CHECK_STR(h, rfc_sig, "RFC 8032 TEST 1 signature");
	CHECK(sign_keyring_add_pem(kr, rfc_pub, strlen(rfc_pub), "rfc", err,
				   sizeof(err)) == 0, "keyring takes PEM text");
	CHECK(sign_verify(kr, sign_key_id_raw(rfc), "", 0, sig, err,
			  sizeof(err)) == 1, "RFC signature verifies");

	a = sign_key_generate(err, sizeof(err));
	b = sign_key_generate(err, sizeof(err));
	CHECK(a && b, "two fresh keys");
	if (!a || !b)
		return;
	CHECK(strcmp(sign_key_id(a), sign_key_id(b)) != 0, "fresh keys differ");
	memcpy(raw_a, sign_key_id_raw(a), sizeof(raw_a));
	CHECK(sign_sign(a, msg, sizeof(msg), sig, err, sizeof(err)) == 0,
	      "sign with A");
	CHECK(sign_verify(kr, raw_a, msg, sizeof(msg), sig, err,
			  sizeof(err)) == -1 && strstr(err, sign_key_id(a)),
	      "A not trusted: -1 naming its id: %s", err);
	CHECK(sign_keyring_add_key(kr, a, err, sizeof(err)) == 0 &&
	      sign_keyring_add_key(kr, b, err, sizeof(err)) == 0,
	      "trust A and B");
	CHECK(sign_keyring_add_key(kr, a, err, sizeof(err)) == 0 &&
	      sign_keyring_count(kr) == 3, "adding A again is harmless");
	CHECK(sign_verify(kr, raw_a, msg, sizeof(msg), sig, err,
			  sizeof(err)) == 1, "A's signature verifies");
	CHECK(sign_verify(kr, sign_key_id_raw(b), msg, sizeof(msg), sig, err,
			  sizeof(err)) == 0, "A's signature fails under B");
	memcpy(bad, msg, sizeof(msg));
	bad[3] ^= 1;
	CHECK(sign_verify(kr, raw_a, bad, sizeof(bad), sig, err,
			  sizeof(err)) == 0, "altered message fails");
	sig[10] ^= 0x80;
	CHECK(sign_verify(kr, raw_a, msg, sizeof(msg), sig, err,
			  sizeof(err)) == 0, "altered signature fails");
	sig[10] ^= 0x80;
	CHECK(sign_verify(kr, raw_a, msg, sizeof(msg) - 1, sig, err,
			  sizeof(err)) == 0, "shortened message fails");
	sign_keyring_free(kr);
	sign_key_free(rfc);
	sign_key_free(a);
	sign_key_free(b);
}

static void test_keyring(void)
{
	struct sign_keyring *kr = sign_keyring_new();
	char err[512];
	int i, ok = 1;

	for (i = 0; i < SIGN_KEYRING_MAX; i++) {
		struct sign_key *k = sign_key_generate(err, sizeof(err));

		if (!k || sign_keyring_add_key(kr, k, err, sizeof(err)) < 0)
			ok = 0;
		sign_key_free(k);
	}
	CHECK(ok && sign_keyring_count(kr) == SIGN_KEYRING_MAX,
	      "keyring holds SIGN_KEYRING_MAX (%d) keys", SIGN_KEYRING_MAX);
	put_file(path_in("extra.pub"), rfc_pub, 0644);
	CHECK(sign_keyring_add_file(kr, path_in("extra.pub"), err,
				    sizeof(err)) < 0 && strstr(err, "16"),
	      "key %d refused: %s", SIGN_KEYRING_MAX + 1, err);
	sign_keyring_free(kr);

	kr = sign_keyring_new();
	put_file(path_in("priv-as-pub.pub"), rfc_priv, 0600);
	CHECK(sign_keyring_add_file(kr, path_in("priv-as-pub.pub"), err,
				    sizeof(err)) < 0 &&
	      strstr(err, "priv-as-pub.pub") && strstr(err, "PUBLIC KEY"),
	      "a private key file is not a public key: %s", err);
	CHECK(sign_keyring_add_file(kr, path_in("none.pub"), err,
				    sizeof(err)) < 0 && strstr(err, "none.pub"),
	      "missing public key file named: %s", err);
	CHECK(sign_keyring_add_pem(kr, "junk", 4, "junk", err,
				   sizeof(err)) < 0, "junk is not a key");
	CHECK(sign_keyring_count(kr) == 0, "nothing added on refusals");
	sign_keyring_free(kr);
}

static void test_sha256(void)
{
	unsigned char a[SIGN_SHA256_LEN], b[SIGN_SHA256_LEN];
	struct sign_sha256 *c;
	char h[2 * SIGN_SHA256_LEN + 1];

	sign_sha256("abc", 3, a);
	hex(a, sizeof(a), h);
	CHECK_STR(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		  "SHA-256(\"abc\")");
	sign_sha256("", 0, a);
	hex(a, sizeof(a), h);
	CHECK_STR(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		  "SHA-256(\"\")");
	c = sign_sha256_new();
	sign_sha256_update(c, "a", 1);
	sign_sha256_update(c, "", 0);
	sign_sha256_update(c, "bc", 2);
	sign_sha256_final(c, b);
	sign_sha256("abc", 3, a);
	CHECK(!memcmp(a, b, sizeof(a)), "streaming SHA-256 = one-shot");
	sign_sha256_free(sign_sha256_new());
	sign_sha256_free(NULL);
}

int main(void)
{
	char cmd[400];

	if (check_mkdtemp(dir, sizeof(dir), "sign") < 0) {
		printf("FAIL: mkdtemp\n");
		return 1;
	}
	test_keygen();
	test_load_refusals();
	test_sign_verify();
	test_keyring();
	test_sha256();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("note: could not remove %s\n", dir);
	return check_done();
}
