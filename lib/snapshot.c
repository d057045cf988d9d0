/*
 * snapshot.c - write, check and install signed snapshots; see snapshot.h
 * and schema/snapshot.md (the byte layout; keep the two in step).
 *
 * Reading never copies the file: it is mapped read-only, hashed, its
 * signature checked over the mapping (Ed25519 needs the whole message at
 * once) and its records walked in place; records handed out point into
 * the mapping.  Writing streams records to a temporary file while hashing
 * them, writes the header last, then maps the file to sign it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "catalog.h"
#include "log.h"
#include "sign.h"
#include "snapshot.h"
#include "util.h"

/* Header field offsets (schema/snapshot.md, "Header"). */
#define SNAPSHOT_OFF_MAGIC     0
#define SNAPSHOT_OFF_VERSION   8
#define SNAPSHOT_OFF_FLAGS     10
#define SNAPSHOT_OFF_TYPE      12
#define SNAPSHOT_OFF_RESERVED1 14	/* u16, zero */
#define SNAPSHOT_OFF_ID        16
#define SNAPSHOT_ID_FIELD      64
#define SNAPSHOT_OFF_SERIAL    80
#define SNAPSHOT_OFF_BASE      88
#define SNAPSHOT_OFF_CREATED   96
#define SNAPSHOT_OFF_EXPIRES   104
#define SNAPSHOT_OFF_RECORDS   112
#define SNAPSHOT_OFF_PAYLEN    120
#define SNAPSHOT_OFF_HASH      128
#define SNAPSHOT_OFF_KEY_ID    160
#define SNAPSHOT_OFF_KEYED     168	/* 32 bytes, zero (keyed-hash mode) */
#define SNAPSHOT_KEYED_LEN     32
#define SNAPSHOT_OFF_RESERVED2 200	/* to the end of the header, zero */

/* Record framing: full [u16 klen][u16 vlen][key][value];
 * delta [u8 op][u16 klen][u16 vlen][key][value]. */
#define SNAPSHOT_FULL_HDR   4
#define SNAPSHOT_DELTA_HDR  5
#define SNAPSHOT_VALUE_MIN  5		/* kind + two u16 lengths */
#define SNAPSHOT_PAYLOAD_MAX (SNAPSHOT_FILE_MAX - SNAPSHOT_HEADER_LEN - \
			      SNAPSHOT_SIG_LEN)
#define SNAPSHOT_WBUF       (1 << 20)	/* writer's buffer, bytes */

_Static_assert(SNAPSHOT_OFF_RESERVED2 < SNAPSHOT_HEADER_LEN, "header");
_Static_assert(SNAPSHOT_ID_FIELD == CATALOG_ID_MAX, "catalog id field");
_Static_assert(CATALOG_KEY_MAX <= 0xffff && CATALOG_VALUE_MAX <= 0xffff,
	       "u16 lengths");

struct snapshot {
	const unsigned char *data;	/* the whole file */
	size_t len;
	int mapped;			/* munmap on close */
	char *label;
	struct snapshot_header hdr;
	size_t pos;			/* iterator, offset in payload */
};

static const char *const snapshot_errors[SNAPSHOT_E_COUNT] = {
	[SNAPSHOT_OK] = "valid",
	[SNAPSHOT_E_IO] = "cannot read",
	[SNAPSHOT_E_TRUNCATED] = "truncated",
	[SNAPSHOT_E_TOO_LARGE] = "too large",
	[SNAPSHOT_E_BAD_MAGIC] = "not a dircat snapshot (bad magic)",
	[SNAPSHOT_E_BAD_VERSION] = "unsupported format version",
	[SNAPSHOT_E_UNKNOWN_FLAGS] = "unknown flags",
	[SNAPSHOT_E_BAD_FIELD] = "bad header field",
	[SNAPSHOT_E_TRAILING_DATA] = "trailing data",
	[SNAPSHOT_E_UNKNOWN_KEY] = "unknown signing key",
	[SNAPSHOT_E_BAD_HASH] = "bad payload hash",
	[SNAPSHOT_E_BAD_SIGNATURE] = "bad signature",
	[SNAPSHOT_E_BAD_RECORD] = "bad record",
	[SNAPSHOT_E_WRONG_CATALOG] = "wrong catalog id",
	[SNAPSHOT_E_ROLLBACK] = "rollback",
	[SNAPSHOT_E_WRONG_BASE] = "wrong delta base",
	[SNAPSHOT_E_EXPIRED] = "expired",
	[SNAPSHOT_E_CATALOG] = "catalog write failed",
};

const char *snapshot_strerror(int code)
{
	if (code < 0 || code >= SNAPSHOT_E_COUNT)
		return "unknown error";
	return snapshot_errors[code];
}

/* Set *code and err to "LABEL: PHRASE: detail"; returns -1. */
__attribute__((format(printf, 5, 6)))
static int snapshot_fail(int *code, char *err, size_t errlen, int c,
			 const char *fmt, ...)
{
	char detail[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (code)
		*code = c;
	util_err(err, errlen, "%s: %s", snapshot_strerror(c), detail);
	return -1;
}

/* Prefix err with the snapshot's name. */
static void snapshot_label_err(const char *label, char *err, size_t errlen)
{
	char tmp[768];

	if (!err || !errlen)
		return;
	util_strlcpy(tmp, err, sizeof(tmp));
	util_err(err, errlen, "%s: %s", label, tmp);
}

/* A key as the catalog accepts it, minus control characters (which no
 * normalised address contains and which would upset logs and dumps). */
static int snapshot_key_ok(const unsigned char *key, size_t len)
{
	size_t i;

	if (len == 0 || len > CATALOG_KEY_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (key[i] < 0x20 || key[i] == 0x7f)
			return 0;
	return 1;
}

/* LMDB's default order: memcmp, then the shorter first. */
static int snapshot_keycmp(const void *a, size_t al, const void *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);

	if (c)
		return c;
	return al < bl ? -1 : al > bl;
}

/* ---------------------------------------------------------------- header */

/* 1 when n bytes at p are all zero. */
static int snapshot_zero(const unsigned char *p, size_t n)
{
	while (n--)
		if (*p++)
			return 0;
	return 1;
}

int snapshot_parse_header(const void *data, size_t len,
			  struct snapshot_header *h, int *code,
			  char *err, size_t errlen)
{
	const unsigned char *p = data;
	uint64_t minrec, maxrec;
	size_t idlen;

	memset(h, 0, sizeof(*h));
	*code = SNAPSHOT_OK;
	if (len == 0)
		return snapshot_fail(code, err, errlen, SNAPSHOT_E_TRUNCATED,
				     "empty");
	if (memcmp(p, SNAPSHOT_MAGIC,
		   len < SNAPSHOT_MAGIC_LEN ? len : SNAPSHOT_MAGIC_LEN))
		return snapshot_fail(code, err, errlen, SNAPSHOT_E_BAD_MAGIC,
				     "the first bytes are not \"%s\"",
				     SNAPSHOT_MAGIC);
	if (len < SNAPSHOT_HEADER_LEN)
		return snapshot_fail(code, err, errlen, SNAPSHOT_E_TRUNCATED,
				     "%zu bytes, the header alone takes %d",
				     len, SNAPSHOT_HEADER_LEN);
	h->version = util_get_u16(p + SNAPSHOT_OFF_VERSION);
	h->flags = util_get_u16(p + SNAPSHOT_OFF_FLAGS);
	h->type = util_get_u16(p + SNAPSHOT_OFF_TYPE);
	memcpy(h->catalog_id, p + SNAPSHOT_OFF_ID, SNAPSHOT_ID_FIELD);
	h->catalog_id[SNAPSHOT_ID_FIELD] = '\0';
	h->serial = util_get_u64(p + SNAPSHOT_OFF_SERIAL);
	h->base = util_get_u64(p + SNAPSHOT_OFF_BASE);
	h->created = (int64_t)util_get_u64(p + SNAPSHOT_OFF_CREATED);
	h->expires = (int64_t)util_get_u64(p + SNAPSHOT_OFF_EXPIRES);
	h->records = util_get_u64(p + SNAPSHOT_OFF_RECORDS);
	h->payload_len = util_get_u64(p + SNAPSHOT_OFF_PAYLEN);
	memcpy(h->payload_hash, p + SNAPSHOT_OFF_HASH, SIGN_SHA256_LEN);
	memcpy(h->key_id_raw, p + SNAPSHOT_OFF_KEY_ID, SIGN_KEY_ID_LEN);
	sign_key_id_hex(h->key_id_raw, h->key_id);

	if (h->version != SNAPSHOT_VERSION)
		return snapshot_fail(code, err, errlen, SNAPSHOT_E_BAD_VERSION,
				     "version %u at byte %d, this program "
				     "reads version %d", h->version,
				     SNAPSHOT_OFF_VERSION, SNAPSHOT_VERSION);
	if (h->flags & ~SNAPSHOT_FLAGS_KNOWN)
		return snapshot_fail(code, err, errlen,
				     SNAPSHOT_E_UNKNOWN_FLAGS,
				     "flags 0x%04x at byte %d%s", h->flags,
				     SNAPSHOT_OFF_FLAGS,
				     (h->flags & SNAPSHOT_FLAG_KEYED_HASH) ?
				     " (keyed-hash mode is not supported by "
				     "this version)" : "");
	if (h->type != SNAPSHOT_FULL && h->type != SNAPSHOT_DELTA)
		return snapshot_fail(code, err, errlen, SNAPSHOT_E_BAD_FIELD,
				     "type %d at byte %d (1 full, 2 delta)",
				     h->type, SNAPSHOT_OFF_TYPE);
	if (util_get_u16(p + SNAPSHOT_OFF_RESERVED1))
		return snapshot_fail(code, err, errlen, SNAPSHOT_E_BAD_FIELD,
				     "reserved bytes %d-%d are not zero",
				     SNAPSHOT_OFF_RESERVED1,
				     SNAPSHOT_OFF_RESERVED1 + 1);
	idlen = strlen(h->catalog_id);
	if (!snapshot_zero(p + SNAPSHOT_OFF_ID + idlen,
			   SNAPSHOT_ID_FIELD - idlen) ||
	    !catalog_id_valid(h->catalog_id)) {
		char q[LOG_QUOTE_SIZE];
		size_t used = SNAPSHOT_ID_FIELD;

		/* Show the field up to its last non-NUL byte. */
		while (used > 0 && p[SNAPSHOT_OFF_ID + used - 1] == 0)
			used--;
		log_quote(p + SNAPSHOT_OFF_ID, used, q, sizeof(q));
		h->catalog_id[0] = '\0';
		return snapshot_fail(code, err, errlen, SNAPSHOT_E_BAD_FIELD,
				     "catalog id at byte %d is not [A-Za-z0-9."
				     "_-]{1,64} padded with NUL bytes: \"%s\"",
				     SNAPSHOT_OFF_ID, q);
	}
	if (h->serial == 0)
		return snapshot_fail(code, err, errlen, SNAPSHOT_E_BAD_FIELD,
				     "serial at byte %d is zero",
				     SNAPSHOT_OFF_SERIAL);
	if (h->type == SNAPSHOT_FULL && h->base != 0)
		return snapshot_fail(code, err, errlen, SNAPSHOT_E_BAD_FIELD,
				     "base serial %llu at byte %d in a full "
				     "snapshot (must be 0)",
				     (unsigned long long)h->base,
				     SNAPSHOT_OFF_BASE);
	if (h->type == SNAPSHOT_DELTA && (h->base == 0 || h->base >= h->serial))
		return snapshot_fail(code, err, errlen, SNAPSHOT_E_BAD_FIELD,
				     "base serial %llu at byte %d of a delta "
				     "to serial %llu (must be 1 .. serial-1)",
				     (unsigned long long)h->base,
				     SNAPSHOT_OFF_BASE,
				     (unsigned long long)h->serial);
	if (h->created <= 0)
		return snapshot_fail(code, err, errlen, SNAPSHOT_E_BAD_FIELD,
				     "creation time %lld at byte %d",
				     (long long)h->created,
				     SNAPSHOT_OFF_CREATED);
	if (h->expires <= h->created ||
	    h->expires - h->created > SNAPSHOT_LIFETIME_MAX)
		return snapshot_fail(code, err, errlen, SNAPSHOT_E_BAD_FIELD,
				     "expiry %lld at byte %d is not within "
				     "1 s .. %lld s after creation %lld",
				     (long long)h->expires,
				     SNAPSHOT_OFF_EXPIRES,
				     (long long)SNAPSHOT_LIFETIME_MAX,
				     (long long)h->created);
	if (h->records > SNAPSHOT_RECORDS_MAX)
		return snapshot_fail(code, err, errlen, SNAPSHOT_E_TOO_LARGE,
				     "%llu records (byte %d), at most %llu",
				     (unsigned long long)h->records,
				     SNAPSHOT_OFF_RECORDS,
				     (unsigned long long)SNAPSHOT_RECORDS_MAX);
	if (h->payload_len > SNAPSHOT_PAYLOAD_MAX)
		return snapshot_fail(code, err, errlen, SNAPSHOT_E_TOO_LARGE,
				     "payload of %llu bytes (byte %d), at "
				     "most %llu",
				     (unsigned long long)h->payload_len,
				     SNAPSHOT_OFF_PAYLEN,
				     (unsigned long long)SNAPSHOT_PAYLOAD_MAX);
	/* Each record has a smallest and a largest size: a count and a
	 * length that cannot go together are refused before any walk. */
	if (h->type == SNAPSHOT_FULL) {
		minrec = SNAPSHOT_FULL_HDR + 1 + SNAPSHOT_VALUE_MIN;
		maxrec = SNAPSHOT_FULL_HDR + CATALOG_KEY_MAX + CATALOG_VALUE_MAX;
	} else {
		minrec = SNAPSHOT_DELTA_HDR + 1;
		maxrec = SNAPSHOT_DELTA_HDR + CATALOG_KEY_MAX +
			 CATALOG_VALUE_MAX;
	}
	if (h->payload_len < h->records * minrec ||
	    h->payload_len > h->records * maxrec)
		return snapshot_fail(code, err, errlen, SNAPSHOT_E_BAD_FIELD,
				     "%llu records cannot take %llu bytes "
				     "(bytes %d and %d)",
				     (unsigned long long)h->records,
				     (unsigned long long)h->payload_len,
				     SNAPSHOT_OFF_RECORDS, SNAPSHOT_OFF_PAYLEN);
	if (snapshot_zero(h->key_id_raw, SIGN_KEY_ID_LEN))
		return snapshot_fail(code, err, errlen, SNAPSHOT_E_BAD_FIELD,
				     "key id at byte %d is zero",
				     SNAPSHOT_OFF_KEY_ID);
	if (!snapshot_zero(p + SNAPSHOT_OFF_KEYED, SNAPSHOT_KEYED_LEN))
		return snapshot_fail(code, err, errlen, SNAPSHOT_E_BAD_FIELD,
				     "keyed-hash field at bytes %d-%d is not "
				     "zero", SNAPSHOT_OFF_KEYED,
				     SNAPSHOT_OFF_KEYED + SNAPSHOT_KEYED_LEN - 1);
	if (!snapshot_zero(p + SNAPSHOT_OFF_RESERVED2,
			   SNAPSHOT_HEADER_LEN - SNAPSHOT_OFF_RESERVED2))
		return snapshot_fail(code, err, errlen, SNAPSHOT_E_BAD_FIELD,
				     "reserved bytes %d-%d are not zero",
				     SNAPSHOT_OFF_RESERVED2,
				     SNAPSHOT_HEADER_LEN - 1);
	h->file_size = SNAPSHOT_HEADER_LEN + h->payload_len + SNAPSHOT_SIG_LEN;
	return 0;
}

/* Encode h into the 256 header bytes at p. */
static void snapshot_build_header(const struct snapshot_header *h,
				  unsigned char *p)
{
	memset(p, 0, SNAPSHOT_HEADER_LEN);
	memcpy(p + SNAPSHOT_OFF_MAGIC, SNAPSHOT_MAGIC, SNAPSHOT_MAGIC_LEN);
	util_put_u16(p + SNAPSHOT_OFF_VERSION, SNAPSHOT_VERSION);
	util_put_u16(p + SNAPSHOT_OFF_FLAGS, (uint16_t)h->flags);
	util_put_u16(p + SNAPSHOT_OFF_TYPE, (uint16_t)h->type);
	memcpy(p + SNAPSHOT_OFF_ID, h->catalog_id, strlen(h->catalog_id));
	util_put_u64(p + SNAPSHOT_OFF_SERIAL, h->serial);
	util_put_u64(p + SNAPSHOT_OFF_BASE, h->base);
	util_put_u64(p + SNAPSHOT_OFF_CREATED, (uint64_t)h->created);
	util_put_u64(p + SNAPSHOT_OFF_EXPIRES, (uint64_t)h->expires);
	util_put_u64(p + SNAPSHOT_OFF_RECORDS, h->records);
	util_put_u64(p + SNAPSHOT_OFF_PAYLEN, h->payload_len);
	memcpy(p + SNAPSHOT_OFF_HASH, h->payload_hash, SIGN_SHA256_LEN);
	memcpy(p + SNAPSHOT_OFF_KEY_ID, h->key_id_raw, SIGN_KEY_ID_LEN);
}

/* --------------------------------------------------------------- records */

/*
 * Decode the record at payload offset pos (len bytes of payload): fills
 * op, rec and *next.  Checks framing, key, value and nothing about order.
 * 0, or -1 with a reason in why.
 */
static int snapshot_record(const unsigned char *pay, size_t len, size_t pos,
			   int type, int *op, struct catalog_rec *rec,
			   size_t *next, char *why, size_t whylen)
{
	size_t left = len - pos, kl, vl;
	const unsigned char *p = pay + pos;

	memset(rec, 0, sizeof(*rec));
	if (type == SNAPSHOT_FULL) {
		*op = SNAPSHOT_PUT;
	} else {
		if (left < 1) {
			util_err(why, whylen, "cut short");
			return -1;
		}
		*op = *p++;
		left--;
		if (*op != SNAPSHOT_PUT && *op != SNAPSHOT_DEL) {
			util_err(why, whylen, "op %d (1 put, 2 delete)", *op);
			return -1;
		}
	}
	if (left < 4) {
		util_err(why, whylen, "cut short in its lengths");
		return -1;
	}
	kl = util_get_u16(p);
	vl = util_get_u16(p + 2);
	p += 4;
	left -= 4;
	if (kl == 0 || kl > CATALOG_KEY_MAX) {
		util_err(why, whylen, "key length %zu (1 .. %d)", kl,
			 CATALOG_KEY_MAX);
		return -1;
	}
	if (*op == SNAPSHOT_DEL ? vl != 0 : (vl < SNAPSHOT_VALUE_MIN ||
					     vl > CATALOG_VALUE_MAX)) {
		if (*op == SNAPSHOT_DEL)
			util_err(why, whylen, "value length %zu (a delete "
				 "has none)", vl);
		else
			util_err(why, whylen, "value length %zu (%d .. %d)",
				 vl, SNAPSHOT_VALUE_MIN, CATALOG_VALUE_MAX);
		return -1;
	}
	if (left < kl + vl) {
		util_err(why, whylen, "cut short: %zu bytes announced, %zu "
			 "left", kl + vl, left);
		return -1;
	}
	if (!snapshot_key_ok(p, kl)) {
		char q[LOG_QUOTE_SIZE];

		log_quote(p, kl, q, sizeof(q));
		util_err(why, whylen, "key \"%s\" holds a control character",
			 q);
		return -1;
	}
	rec->key = (const char *)p;
	rec->keylen = kl;
	if (*op == SNAPSHOT_PUT &&
	    catalog_rec_decode(p + kl, vl, rec) < 0) {
		char q[LOG_QUOTE_SIZE];

		log_quote(p, kl, q, sizeof(q));
		util_err(why, whylen, "value of \"%s\" does not decode", q);
		return -1;
	}
	*next = (size_t)(p + kl + vl - pay);
	return 0;
}

/* Walk every record once: framing, values, strict key order, count. */
static int snapshot_walk(const struct snapshot *s, int *code, char *err,
			 size_t errlen)
{
	const struct snapshot_header *h = &s->hdr;
	const unsigned char *pay = s->data + SNAPSHOT_HEADER_LEN;
	size_t len = (size_t)h->payload_len, pos = 0, next;
	const char *prev = NULL;
	size_t prevlen = 0;
	uint64_t n = 0;
	char why[600];

	while (pos < len) {
		struct catalog_rec rec;
		int op;

		if (n == h->records)
			return snapshot_fail(code, err, errlen,
					     SNAPSHOT_E_BAD_RECORD,
					     "more records than the %llu the "
					     "header announces, at byte %zu",
					     (unsigned long long)h->records,
					     SNAPSHOT_HEADER_LEN + pos);
		if (snapshot_record(pay, len, pos, h->type, &op, &rec, &next,
				    why, sizeof(why)) < 0)
			return snapshot_fail(code, err, errlen,
					     SNAPSHOT_E_BAD_RECORD,
					     "record %llu at byte %zu: %s",
					     (unsigned long long)n + 1,
					     SNAPSHOT_HEADER_LEN + pos, why);
		if (prev && snapshot_keycmp(prev, prevlen, rec.key,
					    rec.keylen) >= 0) {
			char q[LOG_QUOTE_SIZE];

			log_quote(rec.key, rec.keylen, q, sizeof(q));
			return snapshot_fail(code, err, errlen,
					     SNAPSHOT_E_BAD_RECORD,
					     "record %llu at byte %zu: key "
					     "\"%s\" %s the one before",
					     (unsigned long long)n + 1,
					     SNAPSHOT_HEADER_LEN + pos, q,
					     snapshot_keycmp(prev, prevlen,
							     rec.key,
							     rec.keylen) ?
					     "sorts before" : "repeats");
		}
		prev = rec.key;
		prevlen = rec.keylen;
		pos = next;
		n++;
	}
	if (n != h->records)
		return snapshot_fail(code, err, errlen, SNAPSHOT_E_BAD_RECORD,
				     "the payload holds %llu records, the "
				     "header announces %llu",
				     (unsigned long long)n,
				     (unsigned long long)h->records);
	return 0;
}

/* ------------------------------------------------------------------ open */

/* Every check after the bytes are in memory; 0 or -1 with code/err. */
static int snapshot_check(struct snapshot *s, const struct sign_keyring *kr,
			  int *code, char *err, size_t errlen)
{
	const struct snapshot_header *h = &s->hdr;
	unsigned char dg[SIGN_SHA256_LEN];
	char why[512];
	int rc;

	if (snapshot_parse_header(s->data, s->len, &s->hdr, code, err,
				  errlen) < 0)
		return -1;
	if (s->len < h->file_size)
		return snapshot_fail(code, err, errlen, SNAPSHOT_E_TRUNCATED,
				     "%zu bytes, the header announces %llu "
				     "(%llu of payload and the %d-byte "
				     "signature)", s->len,
				     (unsigned long long)h->file_size,
				     (unsigned long long)h->payload_len,
				     SNAPSHOT_SIG_LEN);
	if (s->len > h->file_size)
		return snapshot_fail(code, err, errlen,
				     SNAPSHOT_E_TRAILING_DATA,
				     "%zu byte%s after the signature, which "
				     "ends at byte %llu",
				     s->len - (size_t)h->file_size,
				     s->len - (size_t)h->file_size == 1 ?
				     "" : "s",
				     (unsigned long long)h->file_size);
	if (!sign_keyring_has(kr, h->key_id_raw))
		return snapshot_fail(code, err, errlen, SNAPSHOT_E_UNKNOWN_KEY,
				     "signed with key id %s, which is not "
				     "among the %zu trusted key(s)",
				     h->key_id, sign_keyring_count(kr));
	/* The hash first: a damaged payload is then told apart from a
	 * damaged signature or header. */
	sign_sha256(s->data + SNAPSHOT_HEADER_LEN, (size_t)h->payload_len, dg);
	if (memcmp(dg, h->payload_hash, SIGN_SHA256_LEN))
		return snapshot_fail(code, err, errlen, SNAPSHOT_E_BAD_HASH,
				     "SHA-256 of the %llu payload bytes "
				     "differs from the header's (byte %d)",
				     (unsigned long long)h->payload_len,
				     SNAPSHOT_OFF_HASH);
	rc = sign_verify(kr, h->key_id_raw, s->data,
			 SNAPSHOT_HEADER_LEN + (size_t)h->payload_len,
			 s->data + SNAPSHOT_HEADER_LEN + h->payload_len,
			 why, sizeof(why));
	if (rc < 0)
		return snapshot_fail(code, err, errlen, SNAPSHOT_E_IO, "%s",
				     why);
	if (rc == 0)
		return snapshot_fail(code, err, errlen,
				     SNAPSHOT_E_BAD_SIGNATURE,
				     "%s (header or signature altered, or "
				     "a different key)", why);
	return snapshot_walk(s, code, err, errlen);
}

struct snapshot *snapshot_open_mem(const void *data, size_t len,
				   const char *label,
				   const struct sign_keyring *kr,
				   int *code, char *err, size_t errlen)
{
	struct snapshot *s = xcalloc(1, sizeof(*s));

	s->data = data;
	s->len = len;
	s->label = xstrdup(label ? label : "snapshot");
	if (len > SNAPSHOT_FILE_MAX) {
		snapshot_fail(code, err, errlen, SNAPSHOT_E_TOO_LARGE,
			      "%zu bytes, at most %llu", len,
			      (unsigned long long)SNAPSHOT_FILE_MAX);
		goto fail;
	}
	if (snapshot_check(s, kr, code, err, errlen) < 0)
		goto fail;
	*code = SNAPSHOT_OK;
	return s;
fail:
	snapshot_label_err(s->label, err, errlen);
	snapshot_close(s);
	return NULL;
}

struct snapshot *snapshot_open(const char *path, const struct sign_keyring *kr,
			       int *code, char *err, size_t errlen)
{
	struct snapshot *s;
	struct stat st;
	void *map;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st) < 0) {
		snapshot_fail(code, err, errlen, SNAPSHOT_E_IO, "%s",
			      strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		snapshot_fail(code, err, errlen, SNAPSHOT_E_IO,
			      "not a regular file");
		goto fail;
	}
	if ((uint64_t)st.st_size > SNAPSHOT_FILE_MAX) {
		snapshot_fail(code, err, errlen, SNAPSHOT_E_TOO_LARGE,
			      "%lld bytes, at most %llu",
			      (long long)st.st_size,
			      (unsigned long long)SNAPSHOT_FILE_MAX);
		goto fail;
	}
	if (st.st_size == 0) {	/* mmap cannot map nothing */
		snapshot_fail(code, err, errlen, SNAPSHOT_E_TRUNCATED,
			      "empty file");
		goto fail;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		snapshot_fail(code, err, errlen, SNAPSHOT_E_IO, "mmap: %s",
			      strerror(errno));
		goto fail;
	}
	close(fd);
	(void)madvise(map, (size_t)st.st_size, MADV_SEQUENTIAL);
	s = xcalloc(1, sizeof(*s));
	s->data = map;
	s->len = (size_t)st.st_size;
	s->mapped = 1;
	s->label = xstrdup(path);
	if (snapshot_check(s, kr, code, err, errlen) < 0) {
		snapshot_label_err(path, err, errlen);
		snapshot_close(s);
		return NULL;
	}
	*code = SNAPSHOT_OK;
	return s;
fail:
	if (fd >= 0)
		close(fd);
	snapshot_label_err(path, err, errlen);
	return NULL;
}

void snapshot_close(struct snapshot *s)
{
	if (!s)
		return;
	if (s->mapped)
		munmap((void *)s->data, s->len);
	free(s->label);
	free(s);
}

const struct snapshot_header *snapshot_header(const struct snapshot *s)
{
	return &s->hdr;
}

int snapshot_next(struct snapshot *s, int *op, struct catalog_rec *rec)
{
	size_t len = (size_t)s->hdr.payload_len, next;
	char why[8];

	if (s->pos >= len)
		return 0;
	if (snapshot_record(s->data + SNAPSHOT_HEADER_LEN, len, s->pos,
			    s->hdr.type, op, rec, &next, why, sizeof(why)) < 0)
		return -1;
	s->pos = next;
	return 1;
}

void snapshot_rewind(struct snapshot *s)
{
	s->pos = 0;
}

int snapshot_verify(const char *path, const struct sign_keyring *kr,
		    struct snapshot_header *h, int *code,
		    char *err, size_t errlen)
{
	struct snapshot *s = snapshot_open(path, kr, code, err, errlen);

	if (!s)
		return -1;
	*h = s->hdr;
	snapshot_close(s);
	return 0;
}

/* ----------------------------------------------------------------- write */

struct snapshot_writer {
	int fd;
	char tmp[PATH_MAX];
	const char *path;
	unsigned char *buf;		/* SNAPSHOT_WBUF bytes */
	size_t used;
	struct sign_sha256 *sha;
	struct snapshot_header hdr;
	struct snapshot_stats st;
	unsigned char prev[CATALOG_KEY_MAX];
	size_t prevlen;
	char *err;
	size_t errlen;
	int failed;
};

/* Write all of data at the current position. */
static int snapshot_write_all(struct snapshot_writer *w, const void *data,
			      size_t len)
{
	const unsigned char *p = data;

	while (len) {
		ssize_t n = write(w->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			util_err(w->err, w->errlen, "%s: write: %s", w->tmp,
				 strerror(errno));
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int snapshot_flush(struct snapshot_writer *w)
{
	if (w->used && snapshot_write_all(w, w->buf, w->used) < 0)
		return -1;
	w->used = 0;
	return 0;
}

/* Start path.tmp.PID with room for the header. */
static int snapshot_writer_start(struct snapshot_writer *w, const char *path,
				 char *err, size_t errlen)
{
	memset(w, 0, sizeof(*w));
	w->fd = -1;
	w->path = path;
	w->err = err;
	w->errlen = errlen;
	if ((size_t)snprintf(w->tmp, sizeof(w->tmp), "%s.tmp.%ld", path,
			     (long)getpid()) >= sizeof(w->tmp)) {
		util_err(err, errlen, "%s: path too long", path);
		return -1;
	}
	w->fd = open(w->tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC |
		     O_NOFOLLOW, 0640);
	if (w->fd < 0) {
		util_err(err, errlen, "%s: %s", w->tmp, strerror(errno));
		return -1;
	}
	w->buf = xmalloc(SNAPSHOT_WBUF);
	memset(w->buf, 0, SNAPSHOT_HEADER_LEN);
	w->used = SNAPSHOT_HEADER_LEN;	/* rewritten at the end */
	w->sha = sign_sha256_new();
	return 0;
}

/* Throw the temporary file away. */
static void snapshot_writer_abort(struct snapshot_writer *w)
{
	if (w->fd >= 0) {
		close(w->fd);
		unlink(w->tmp);
	}
	w->fd = -1;
	free(w->buf);
	w->buf = NULL;
	sign_sha256_free(w->sha);
	w->sha = NULL;
}

/* Append one record (op 0 in a full snapshot).  0 or -1 with err. */
static int snapshot_writer_add(struct snapshot_writer *w, int op,
			       const char *key, size_t keylen,
			       const struct catalog_rec *rec)
{
	unsigned char frame[SNAPSHOT_DELTA_HDR + CATALOG_KEY_MAX +
			    CATALOG_VALUE_MAX];
	size_t hl = op ? SNAPSHOT_DELTA_HDR : SNAPSHOT_FULL_HDR, vl = 0, n;

	if (!snapshot_key_ok((const unsigned char *)key, keylen)) {
		char q[LOG_QUOTE_SIZE];

		log_quote(key, keylen, q, sizeof(q));
		util_err(w->err, w->errlen, "catalog key \"%s\" cannot go "
			 "into a snapshot (empty, too long or a control "
			 "character)", q);
		return -1;
	}
	if (w->prevlen && snapshot_keycmp(w->prev, w->prevlen, key,
					  keylen) >= 0) {
		util_err(w->err, w->errlen, "catalog keys out of order at "
			 "\"%.*s\"", (int)keylen, key);
		return -1;
	}
	memcpy(w->prev, key, keylen);
	w->prevlen = keylen;
	if (rec) {
		vl = catalog_rec_encode(rec, frame + hl + keylen,
					CATALOG_VALUE_MAX);
		if (vl == 0) {
			util_err(w->err, w->errlen, "record of \"%.*s\" over "
				 "its size limits", (int)keylen, key);
			return -1;
		}
	}
	if (op)
		frame[0] = (unsigned char)op;
	util_put_u16(frame + hl - 4, (uint16_t)keylen);
	util_put_u16(frame + hl - 2, (uint16_t)vl);
	memcpy(frame + hl, key, keylen);
	n = hl + keylen + vl;
	if (w->st.records + 1 > SNAPSHOT_RECORDS_MAX ||
	    w->st.payload_len + n > SNAPSHOT_PAYLOAD_MAX) {
		util_err(w->err, w->errlen, "the snapshot would exceed %llu "
			 "records or %llu bytes",
			 (unsigned long long)SNAPSHOT_RECORDS_MAX,
			 (unsigned long long)SNAPSHOT_FILE_MAX);
		return -1;
	}
	sign_sha256_update(w->sha, frame, n);
	if (w->used + n > SNAPSHOT_WBUF && snapshot_flush(w) < 0)
		return -1;
	memcpy(w->buf + w->used, frame, n);
	w->used += n;
	w->st.records++;
	w->st.payload_len += n;
	if (op == SNAPSHOT_DEL)
		w->st.dels++;
	else
		w->st.puts++;
	return 0;
}

/* Header, signature over the mapped file, fsync, rename.  0 or -1. */
static int snapshot_writer_finish(struct snapshot_writer *w,
				  const struct sign_key *key)
{
	struct snapshot_header *h = &w->hdr;
	unsigned char head[SNAPSHOT_HEADER_LEN], sig[SIGN_SIG_LEN];
	char dir[PATH_MAX];
	size_t signed_len;
	void *map;
	int dfd;

	if (snapshot_flush(w) < 0)
		return -1;
	h->records = w->st.records;
	h->payload_len = w->st.payload_len;
	sign_sha256_final(w->sha, h->payload_hash);
	w->sha = NULL;
	memcpy(h->key_id_raw, sign_key_id_raw(key), SIGN_KEY_ID_LEN);
	sign_key_id_hex(h->key_id_raw, h->key_id);
	snapshot_build_header(h, head);
	if (pwrite(w->fd, head, sizeof(head), 0) != (ssize_t)sizeof(head)) {
		util_err(w->err, w->errlen, "%s: write: %s", w->tmp,
			 strerror(errno));
		return -1;
	}
	signed_len = SNAPSHOT_HEADER_LEN + (size_t)h->payload_len;
	map = mmap(NULL, signed_len, PROT_READ, MAP_SHARED, w->fd, 0);
	if (map == MAP_FAILED) {
		util_err(w->err, w->errlen, "%s: mmap: %s", w->tmp,
			 strerror(errno));
		return -1;
	}
	if (sign_sign(key, map, signed_len, sig, w->err, w->errlen) < 0) {
		munmap(map, signed_len);
		return -1;
	}
	munmap(map, signed_len);
	if (pwrite(w->fd, sig, sizeof(sig), (off_t)signed_len) !=
	    (ssize_t)sizeof(sig) || fsync(w->fd) < 0) {
		util_err(w->err, w->errlen, "%s: %s", w->tmp, strerror(errno));
		return -1;
	}
	if (close(w->fd) < 0) {
		w->fd = -1;
		util_err(w->err, w->errlen, "%s: %s", w->tmp, strerror(errno));
		unlink(w->tmp);
		return -1;
	}
	w->fd = -1;
	if (rename(w->tmp, w->path) < 0) {
		util_err(w->err, w->errlen, "rename %s: %s", w->path,
			 strerror(errno));
		unlink(w->tmp);
		return -1;
	}
	util_strlcpy(dir, w->path, sizeof(dir));
	dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	free(w->buf);
	w->buf = NULL;
	w->st.type = h->type;
	w->st.serial = h->serial;
	w->st.base = h->base;
	w->st.file_size = signed_len + SIGN_SIG_LEN;
	util_strlcpy(w->st.key_id, h->key_id, sizeof(w->st.key_id));
	return 0;
}

/* The header fields every write shares; 0 or -1 with err. */
static int snapshot_prepare(struct snapshot_header *h,
			    const struct catalog_info *info,
			    const char *catalog_id, int64_t created,
			    int64_t lifetime, char *err, size_t errlen)
{
	memset(h, 0, sizeof(*h));
	if (!catalog_id)
		catalog_id = info->id;
	if (!catalog_id_valid(catalog_id)) {
		util_err(err, errlen, "catalog id \"%.80s\" is not [A-Za-z0-9."
			 "_-]{1,%d}", catalog_id, CATALOG_ID_MAX);
		return -1;
	}
	if (info->serial == 0) {
		util_err(err, errlen, "the catalog was never written "
			 "(serial 0): nothing to send");
		return -1;
	}
	if (created <= 0 || lifetime <= 0 || lifetime > SNAPSHOT_LIFETIME_MAX ||
	    created > INT64_MAX - lifetime) {
		util_err(err, errlen, "lifetime %lld s: must be 1 s .. %lld s",
			 (long long)lifetime,
			 (long long)SNAPSHOT_LIFETIME_MAX);
		return -1;
	}
	util_strlcpy(h->catalog_id, catalog_id, sizeof(h->catalog_id));
	h->serial = info->serial;
	h->created = created;
	h->expires = created + lifetime;
	return 0;
}

/*
 * End a write: when ok, sign and rename it into place and report its
 * figures in *st; otherwise (or if that fails) remove it.  0 or -1.
 */
static int snapshot_writer_close(struct snapshot_writer *w, int ok,
				 const struct sign_key *key, double t0,
				 struct snapshot_stats *st)
{
	if (!ok || snapshot_writer_finish(w, key) < 0) {
		snapshot_writer_abort(w);
		return -1;
	}
	w->st.seconds = util_now() - t0;
	if (st)
		*st = w->st;
	snapshot_writer_abort(w);	/* frees what is left */
	return 0;
}

int snapshot_write_full(struct catalog_read *r, const char *catalog_id,
			int64_t created, int64_t lifetime,
			const struct sign_key *key, const char *path,
			struct snapshot_stats *st, char *err, size_t errlen)
{
	struct snapshot_writer w;
	struct snapshot_header h;
	struct catalog_info info;
	struct catalog_iter *it;
	struct catalog_rec rec;
	double t0 = util_now();
	int rc;

	catalog_read_info(r, &info);
	if (snapshot_prepare(&h, &info, catalog_id, created, lifetime,
			     err, errlen) < 0)
		return -1;
	if (snapshot_writer_start(&w, path, err, errlen) < 0) {
		snapshot_writer_abort(&w);
		return -1;
	}
	w.hdr = h;
	w.hdr.type = SNAPSHOT_FULL;
	it = catalog_iter_new(r);
	if (!it) {
		util_err(err, errlen, "cannot read the catalog's records");
		snapshot_writer_abort(&w);
		return -1;
	}
	while ((rc = catalog_iter_next(it, &rec)) == 1)
		if (snapshot_writer_add(&w, 0, rec.key, rec.keylen, &rec) < 0)
			break;
	catalog_iter_free(it);
	if (rc < 0)
		util_err(err, errlen, "cannot read the catalog's records");
	return snapshot_writer_close(&w, rc == 0, key, t0, st);
}

/* catalog_changes_since() callback: one put or delete. */
static int snapshot_delta_one(void *arg, const char *key, size_t keylen,
			      const struct catalog_rec *rec)
{
	struct snapshot_writer *w = arg;

	if (snapshot_writer_add(w, rec ? SNAPSHOT_PUT : SNAPSHOT_DEL, key,
				keylen, rec) < 0) {
		w->failed = 1;
		return -1;
	}
	return 0;
}

int snapshot_write_delta(struct catalog_read *r, uint64_t base,
			 const char *catalog_id, int64_t created,
			 int64_t lifetime, const struct sign_key *key,
			 const char *path, struct snapshot_stats *st,
			 char *err, size_t errlen)
{
	struct snapshot_writer w;
	struct snapshot_header h;
	struct catalog_info info;
	double t0 = util_now();
	int rc;

	catalog_read_info(r, &info);
	if (snapshot_prepare(&h, &info, catalog_id, created, lifetime,
			     err, errlen) < 0)
		return -1;
	if (base == 0 || base >= info.serial) {
		util_err(err, errlen, "no delta from serial %llu to %llu: the "
			 "base must be 1 .. %llu",
			 (unsigned long long)base,
			 (unsigned long long)info.serial,
			 (unsigned long long)info.serial - 1);
		return -1;
	}
	if (info.history_oldest == 0 || base < info.history_oldest)
		return 1;
	if (snapshot_writer_start(&w, path, err, errlen) < 0) {
		snapshot_writer_abort(&w);
		return -1;
	}
	w.hdr = h;
	w.hdr.type = SNAPSHOT_DELTA;
	w.hdr.base = base;
	rc = catalog_changes_since(r, base, snapshot_delta_one, &w);
	if (rc == 1) {
		snapshot_writer_abort(&w);
		return 1;
	}
	if (rc < 0 && !w.failed)
		util_err(err, errlen, "cannot read the catalog's change "
			 "history");
	return snapshot_writer_close(&w, rc == 0, key, t0, st);
}

/* ----------------------------------------------------------------- apply */

/* catalog_txn_replace_all() source: the records of a full snapshot. */
static int snapshot_feed_next(void *arg, struct catalog_rec *rec, char *err,
			      size_t errlen)
{
	struct snapshot *s = arg;
	int op, rc = snapshot_next(s, &op, rec);

	if (rc < 0 || (rc == 1 && op != SNAPSHOT_PUT)) {
		util_err(err, errlen, "broken record at payload byte %zu",
			 s->pos);
		return -1;
	}
	return rc;
}

int snapshot_apply(struct snapshot *s, struct catalog *cat,
		   const char *expect_id, int64_t now,
		   struct catalog_diff *diff, int *code,
		   char *err, size_t errlen)
{
	const struct snapshot_header *h = &s->hdr;
	struct catalog_info info;
	struct catalog_txn *t;
	struct catalog_rec rec;
	uint64_t installed;
	char e[512], t1[32], t2[32];
	int op, rc;

	*code = SNAPSHOT_OK;
	e[0] = '\0';
	if (!expect_id || strcmp(h->catalog_id, expect_id)) {
		snapshot_fail(code, err, errlen, SNAPSHOT_E_WRONG_CATALOG,
			      "for catalog \"%s\", this node serves \"%s\"",
			      h->catalog_id, expect_id ? expect_id : "");
		goto fail;
	}
	if (h->expires <= now) {
		snapshot_fail(code, err, errlen, SNAPSHOT_E_EXPIRED,
			      "expired at %s (now %s)",
			      util_time_iso((time_t)h->expires, t1, sizeof(t1)),
			      util_time_iso((time_t)now, t2, sizeof(t2)));
		goto fail;
	}
	if (catalog_info(cat, &info, e, sizeof(e)) < 0) {
		snapshot_fail(code, err, errlen, SNAPSHOT_E_CATALOG, "%s", e);
		goto fail;
	}
	if (info.id[0] && strcmp(info.id, h->catalog_id)) {
		snapshot_fail(code, err, errlen, SNAPSHOT_E_WRONG_CATALOG,
			      "for catalog \"%s\", but %s holds catalog "
			      "\"%s\" (remove that file to switch)",
			      h->catalog_id, catalog_path(cat), info.id);
		goto fail;
	}
	t = catalog_write_begin(cat, e, sizeof(e));
	if (!t) {
		snapshot_fail(code, err, errlen, SNAPSHOT_E_CATALOG, "%s", e);
		goto fail;
	}
	/* The serial as this write transaction sees it: no race. */
	installed = catalog_txn_serial_before(t);
	if (h->serial <= installed) {
		catalog_txn_abort(t);
		snapshot_fail(code, err, errlen, SNAPSHOT_E_ROLLBACK,
			      "serial %llu is not newer than the installed "
			      "serial %llu", (unsigned long long)h->serial,
			      (unsigned long long)installed);
		goto fail;
	}
	if (h->type == SNAPSHOT_DELTA && h->base != installed) {
		catalog_txn_abort(t);
		snapshot_fail(code, err, errlen, SNAPSHOT_E_WRONG_BASE,
			      "a delta from serial %llu, but serial %llu is "
			      "installed", (unsigned long long)h->base,
			      (unsigned long long)installed);
		goto fail;
	}
	snapshot_rewind(s);
	if (h->type == SNAPSHOT_FULL) {
		rc = catalog_txn_replace_all(t, snapshot_feed_next, s, e,
					     sizeof(e));
	} else {
		rc = 0;
		while (rc == 0 && (rc = snapshot_next(s, &op, &rec)) == 1) {
			if (op == SNAPSHOT_PUT)
				rc = catalog_txn_put(t, &rec, e, sizeof(e));
			else
				rc = catalog_txn_del(t, rec.key, rec.keylen,
						     e, sizeof(e));
			rc = rc < 0 ? -1 : 0;
		}
		if (rc < 0 && !e[0])
			util_strlcpy(e, "broken record", sizeof(e));
	}
	snapshot_rewind(s);
	if (rc < 0) {
		catalog_txn_abort(t);
		snapshot_fail(code, err, errlen, SNAPSHOT_E_CATALOG, "%s", e);
		goto fail;
	}
	catalog_txn_set_id(t, h->catalog_id);
	catalog_txn_set_serial(t, h->serial, h->created);
	catalog_txn_set_expires(t, h->expires);
	catalog_txn_set_key_id(t, h->key_id);
	catalog_txn_set_history(t, 0);
	if (diff)
		catalog_txn_diff(t, diff);
	if (catalog_txn_commit(t, e, sizeof(e)) == 0) {
		snapshot_fail(code, err, errlen, SNAPSHOT_E_CATALOG, "%s", e);
		goto fail;
	}
	return 0;
fail:
	snapshot_label_err(s->label, err, errlen);
	return -1;
}
