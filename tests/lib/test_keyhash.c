/*
 * test_keyhash.c - keyed-hash mode: the secret's syntax at its limits,
 * the key hash against a value computed with the openssl command
 * (schema/snapshot.md shows how), sealing and opening record fields, and
 * every way a sealed field must fail to open.  The secret file's
 * permission check is here too.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "keyhash.h"

static const char hex32[] =
	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

static struct keyhash *kh_of(const char *hex)
{
	unsigned char s[KEYHASH_SECRET_MAX];
	char err[256];
	int n = keyhash_parse_secret(hex, strlen(hex), s, err, sizeof(err));

	return n < 0 ? NULL : keyhash_new(s, (size_t)n, err, sizeof(err));
}

static void test_parse(void)
{
	unsigned char s[KEYHASH_SECRET_MAX];
	char text[2 * KEYHASH_SECRET_MAX + 4], err[256];
	size_t n;

	/* Lengths: 2*MIN-2 (too short), 2*MIN, 2*MAX, 2*MAX+2, odd. */
	memset(text, 'a', sizeof(text));
	n = 2 * KEYHASH_SECRET_MIN;
	CHECK(keyhash_parse_secret(text, n, s, err, sizeof(err)) ==
	      KEYHASH_SECRET_MIN, "secret of %d bytes (the minimum) accepted",
	      KEYHASH_SECRET_MIN);
	CHECK(keyhash_parse_secret(text, n - 2, s, err, sizeof(err)) < 0 &&
	      strstr(err, "64 to 128 hex digits"),
	      "secret of %d bytes refused: %s", KEYHASH_SECRET_MIN - 1, err);
	n = 2 * KEYHASH_SECRET_MAX;
	CHECK(keyhash_parse_secret(text, n, s, err, sizeof(err)) ==
	      KEYHASH_SECRET_MAX, "secret of %d bytes (the maximum) accepted",
	      KEYHASH_SECRET_MAX);
	CHECK(keyhash_parse_secret(text, n + 2, s, err, sizeof(err)) < 0,
	      "secret of %d bytes refused", KEYHASH_SECRET_MAX + 1);
	CHECK(keyhash_parse_secret(text, 65, s, err, sizeof(err)) < 0,
	      "odd number of digits refused");
	memcpy(text, hex32, 64);
	text[10] = 'g';
	CHECK(keyhash_parse_secret(text, 64, s, err, sizeof(err)) < 0 &&
	      strstr(err, "character 11") && !strstr(err, "0001"),
	      "non-hex digit refused by position, secret not quoted: %s", err);
	CHECK(keyhash_parse_secret(hex32, 64, s, err, sizeof(err)) == 32 &&
	      s[0] == 0 && s[1] == 1 && s[31] == 0x1f, "digits decoded");
	memcpy(text, "AbCdEf", 6);
	memset(text + 6, '0', 58);
	CHECK(keyhash_parse_secret(text, 64, s, err, sizeof(err)) == 32 &&
	      s[0] == 0xab && s[1] == 0xcd && s[2] == 0xef,
	      "upper and lower case digits");
	CHECK(keyhash_new(s, KEYHASH_SECRET_MIN - 1, err, sizeof(err)) ==
	      NULL, "keyhash_new refuses a short secret");
}

static void test_key(void)
{
	struct keyhash *kh = kh_of(hex32), *other;
	char out[KEYHASH_KEY_LEN + 1], out2[KEYHASH_KEY_LEN + 1];
	char idhex[KEYHASH_ID_HEX];

	/* Computed with openssl dgst -mac HMAC (see schema/snapshot.md). */
	keyhash_id_hex(keyhash_id(kh), idhex);
	CHECK(!strcmp(idhex, "7fc50ba3d2580291"), "secret id: %s", idhex);
	CHECK(keyhash_key(kh, "alice@example.com", 17, out) ==
	      KEYHASH_KEY_LEN && !strcmp(out,
					 "9QsW2nFbeTCPCqYL2H_-bTxtP_xmDCOl"),
	      "key hash of alice@example.com: %s", out);
	keyhash_key(kh, "alice@example.com", 17, out2);
	CHECK(!strcmp(out, out2), "the same key twice: the same hash");
	CHECK(keyhash_key_ok(out, strlen(out)), "a hashed key looks hashed");
	CHECK(!keyhash_key_ok("alice@example.com", 17) &&
	      !keyhash_key_ok(out, KEYHASH_KEY_LEN - 1),
	      "an address does not look hashed, nor a short tag");
	keyhash_key(kh, "Alice@example.com", 17, out2);
	CHECK(strcmp(out, out2) != 0, "keys are hashed as given (the caller "
	      "normalises)");
	other = kh_of("ff0102030405060708090a0b0c0d0e0f"
		      "101112131415161718191a1b1c1d1e1f");
	keyhash_key(other, "alice@example.com", 17, out2);
	CHECK(strcmp(out, out2) != 0 &&
	      memcmp(keyhash_id(kh), keyhash_id(other), KEYHASH_ID_LEN),
	      "another secret: another hash and another id");
	keyhash_key(kh, "", 0, out2);
	CHECK(strlen(out2) == KEYHASH_KEY_LEN, "empty input hashes too");
	keyhash_free(other);
	keyhash_free(kh);
}

static void test_seal(void)
{
	struct keyhash *kh = kh_of(hex32), *other;
	static char buf[CATALOG_OWNERS_MAX + CATALOG_EXTRA_MAX];
	static char buf2[CATALOG_OWNERS_MAX + CATALOG_EXTRA_MAX];
	static char big[KEYHASH_OWNERS_CLEAR_MAX + 2];
	struct catalog_rec rec = { 0 }, sealed, opened, moved;
	char err[256];

	rec.key = "sales@example.com";
	rec.keylen = 17;
	rec.kind = CATALOG_GROUP;
	rec.owners = "alice@example.com,bob";
	rec.ownerslen = 21;
	rec.extra = "internal_only=yes\nmailHost=hub1.example.com";
	rec.extralen = strlen(rec.extra);
	CHECK(keyhash_rec_seal(kh, &rec, &sealed, buf, sizeof(buf), err,
			       sizeof(err)) == 0, "seal");
	CHECK(sealed.kind == CATALOG_GROUP &&
	      sealed.ownerslen == KEYHASH_SEALED_LEN(21) &&
	      !memmem(sealed.owners, sealed.ownerslen, "alice", 5) &&
	      !memmem(sealed.extra, sealed.extralen, "hub1", 4),
	      "sealed fields hold no clear text (%zu bytes of owners)",
	      sealed.ownerslen);
	CHECK(keyhash_rec_open(kh, rec.key, rec.keylen, &sealed, &opened,
			       buf2, sizeof(buf2), err, sizeof(err)) == 0 &&
	      opened.ownerslen == 21 &&
	      !memcmp(opened.owners, rec.owners, 21) &&
	      opened.extralen == rec.extralen &&
	      !memcmp(opened.extra, rec.extra, rec.extralen),
	      "open gives back owners and extra");
	CHECK(keyhash_rec_open(kh, "bob@example.com", 15, &sealed, &opened,
			       buf2, sizeof(buf2), err, sizeof(err)) < 0,
	      "a field moved to another record does not open: %s", err);
	moved = sealed;
	moved.owners = sealed.extra;
	moved.ownerslen = sealed.extralen;
	CHECK(keyhash_rec_open(kh, rec.key, rec.keylen, &moved, &opened,
			       buf2, sizeof(buf2), err, sizeof(err)) < 0,
	      "extra swapped into owners does not open");
	other = kh_of("ff0102030405060708090a0b0c0d0e0f"
		      "101112131415161718191a1b1c1d1e1f");
	CHECK(keyhash_rec_open(other, rec.key, rec.keylen, &sealed, &opened,
			       buf2, sizeof(buf2), err, sizeof(err)) < 0,
	      "another secret does not open it");
	keyhash_free(other);
	{	/* one changed character */
		static char bad[CATALOG_OWNERS_MAX];

		memcpy(bad, sealed.owners, sealed.ownerslen);
		bad[5] = bad[5] == 'A' ? 'B' : 'A';
		moved = sealed;
		moved.owners = bad;
		CHECK(keyhash_rec_open(kh, rec.key, rec.keylen, &moved,
				       &opened, buf2, sizeof(buf2), err,
				       sizeof(err)) < 0,
		      "a damaged sealed field does not open");
		moved.owners = "not*base64";
		moved.ownerslen = 10;
		CHECK(keyhash_rec_open(kh, rec.key, rec.keylen, &moved,
				       &opened, buf2, sizeof(buf2), err,
				       sizeof(err)) < 0,
		      "a field that is no base64url does not open");
		moved.owners = "AAAA";
		moved.ownerslen = 4;
		CHECK(keyhash_rec_open(kh, rec.key, rec.keylen, &moved,
				       &opened, buf2, sizeof(buf2), err,
				       sizeof(err)) < 0,
		      "a field shorter than its IV does not open");
	}
	/* Empty fields stay empty; the largest fields fit, one more not. */
	rec.owners = rec.extra = "";
	rec.ownerslen = rec.extralen = 0;
	CHECK(keyhash_rec_seal(kh, &rec, &sealed, buf, sizeof(buf), err,
			       sizeof(err)) == 0 && sealed.ownerslen == 0 &&
	      sealed.extralen == 0, "empty fields stay empty");
	memset(big, 'x', sizeof(big));
	rec.owners = big;
	rec.ownerslen = KEYHASH_OWNERS_CLEAR_MAX;
	CHECK(keyhash_rec_seal(kh, &rec, &sealed, buf, sizeof(buf), err,
			       sizeof(err)) == 0 &&
	      sealed.ownerslen <= CATALOG_OWNERS_MAX &&
	      keyhash_rec_open(kh, rec.key, rec.keylen, &sealed, &opened,
			       buf2, sizeof(buf2), err, sizeof(err)) == 0 &&
	      opened.ownerslen == KEYHASH_OWNERS_CLEAR_MAX,
	      "owners of %d bytes (the limit) seal into %zu <= %d and open",
	      KEYHASH_OWNERS_CLEAR_MAX, sealed.ownerslen, CATALOG_OWNERS_MAX);
	rec.ownerslen = KEYHASH_OWNERS_CLEAR_MAX + 1;
	CHECK(keyhash_rec_seal(kh, &rec, &sealed, buf, sizeof(buf), err,
			       sizeof(err)) < 0 && strstr(err, "too long"),
	      "owners of limit + 1 bytes refused: %s", err);
	rec.ownerslen = 0;
	rec.extra = big;
	rec.extralen = KEYHASH_EXTRA_CLEAR_MAX;
	CHECK(keyhash_rec_seal(kh, &rec, &sealed, buf, sizeof(buf), err,
			       sizeof(err)) == 0 &&
	      sealed.extralen <= CATALOG_EXTRA_MAX,
	      "extra of %d bytes (the limit) seals", KEYHASH_EXTRA_CLEAR_MAX);
	rec.extralen = KEYHASH_EXTRA_CLEAR_MAX + 1;
	CHECK(keyhash_rec_seal(kh, &rec, &sealed, buf, sizeof(buf), err,
			       sizeof(err)) < 0, "extra of limit + 1 refused");
	keyhash_free(kh);
}

/* The secret file: mode, syntax, a trailing line end. */
static void test_load(void)
{
	const char *tmp = getenv("TMPDIR");
	char dir[512], path[600], err[1024];
	struct keyhash *kh;
	FILE *f;

	snprintf(dir, sizeof(dir), "%s/test_keyhash.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		CHECK(0, "mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/secret", dir);
	f = fopen(path, "w");
	fprintf(f, "%s\n", hex32);
	fclose(f);
	chmod(path, 0640);
	kh = keyhash_load(path, err, sizeof(err));
	CHECK(kh != NULL, "secret file mode 0640 with a line end: loaded");
	keyhash_free(kh);
	chmod(path, 0644);
	kh = keyhash_load(path, err, sizeof(err));
	CHECK(kh == NULL && strstr(err, "lets others read"),
	      "secret file others may read refused: %s", err);
	chmod(path, 0660);
	kh = keyhash_load(path, err, sizeof(err));
	CHECK(kh == NULL, "secret file the group may write refused");
	chmod(path, 0600);
	f = fopen(path, "w");
	fprintf(f, "password\n");
	fclose(f);
	kh = keyhash_load(path, err, sizeof(err));
	CHECK(kh == NULL && strstr(err, path) && !strstr(err, "password"),
	      "a short secret refused without quoting it: %s", err);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	test_parse();
	test_key();
	test_seal();
	test_load();
	return check_done();
}
