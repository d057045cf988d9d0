/*
 * snapshot.c - the snapshot format and its verification; see snapshot.h
 * and schema/snapshot.md (the byte layout; keep the two in step).
 *
 * A file is never used in place.  Version 2: the header and its signature
 * are read into a buffer of ours and checked before any payload byte is
 * read; the payload is then read into a private copy (a mapping of an
 * unnamed file, or of anonymous memory), hashed there, and its records are
 * walked and handed out from there.  Version 1 has no signed header: the
 * whole file is copied first and the copy checked as a whole.  Whatever
 * the file's writer does meanwhile changes nothing we use.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
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
#define SNAPSHOT_OFF_EPOCH     200	/* v2: u64; v1: reserved, zero */
#define SNAPSHOT_OFF_RESERVED2 208	/* to the end of the header, zero */
#define SNAPSHOT_V1_RESERVED   200	/* v1's reserved bytes start here */

#define SNAPSHOT_COPY_CHUNK  (4U << 20)	/* bytes read and hashed at once */
#define SNAPSHOT_COPY_NAME   ".snapshot-copy.XXXXXX"	/* without O_TMPFILE */

_Static_assert(SNAPSHOT_OFF_RESERVED2 < SNAPSHOT_HEADER_LEN, "header");
_Static_assert(SNAPSHOT_ID_FIELD == CATALOG_ID_MAX, "catalog id field");
_Static_assert(CATALOG_KEY_MAX <= 0xffff && CATALOG_VALUE_MAX <= 0xffff,
	       "u16 lengths");

struct snapshot {
	char *label;
	struct snapshot_header hdr;
	const unsigned char *payload;	/* hdr.payload_len bytes, ours */
	void *map;			/* munmap on close, or NULL */
	size_t maplen;
	uint64_t pos;			/* iterator, offset in payload */
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
	[SNAPSHOT_E_NOT_REGULAR] = "not a regular file",
	[SNAPSHOT_E_WRONG_SECRET] = "keyed-hash secret mismatch",
};

const char *snapshot_strerror(int code)
{
	if (code < 0 || code >= SNAPSHOT_E_COUNT)
		return "unknown error";
	return snapshot_errors[code];
}

/* Set *code and err to "PHRASE: detail"; returns -1. */
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
	util_copy_text(tmp, err, sizeof(tmp));
	util_err(err, errlen, "%s: %s", label, tmp);
}

int snapshot_key_ok(const void *key, size_t len)
{
	const unsigned char *k = key;
	size_t i;

	if (len == 0 || len > CATALOG_KEY_MAX)
		return 0;
	/* No control characters: no normalised address holds one, and they
	 * would upset logs and dumps. */
	for (i = 0; i < len; i++)
		if (k[i] < 0x20 || k[i] == 0x7f)
			return 0;
	return 1;
}

int snapshot_keycmp(const void *a, size_t al, const void *b, size_t bl)
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

/* The fields after the version: flags, type, ids, numbers, reserved. */
static int snapshot_check_fields(const unsigned char *p,
				 struct snapshot_header *h, int *code,
				 char *err, size_t errlen)
{
	uint64_t minrec, maxrec;
	size_t idlen, reserved;

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
	/* Keyed-hash mode: the field names the secret (zero would name
	 * none); otherwise it is zero. */
	if (snapshot_zero(p + SNAPSHOT_OFF_KEYED, SNAPSHOT_KEYED_LEN) ==
	    !!(h->flags & SNAPSHOT_FLAG_KEYED_HASH))
		return snapshot_fail(code, err, errlen, SNAPSHOT_E_BAD_FIELD,
				     "keyed-hash field at bytes %d-%d is %s",
				     SNAPSHOT_OFF_KEYED,
				     SNAPSHOT_OFF_KEYED + SNAPSHOT_KEYED_LEN - 1,
				     (h->flags & SNAPSHOT_FLAG_KEYED_HASH) ?
				     "zero in a keyed-hash snapshot" :
				     "not zero");
	memcpy(h->hash_id, p + SNAPSHOT_OFF_KEYED, SNAPSHOT_KEYED_LEN);
	reserved = h->version == SNAPSHOT_VERSION_V1 ? SNAPSHOT_V1_RESERVED
						    : SNAPSHOT_OFF_RESERVED2;
	if (!snapshot_zero(p + reserved, SNAPSHOT_HEADER_LEN - reserved))
		return snapshot_fail(code, err, errlen, SNAPSHOT_E_BAD_FIELD,
				     "reserved bytes %zu-%d are not zero",
				     reserved, SNAPSHOT_HEADER_LEN - 1);
	return 0;
}

int snapshot_parse_header(const void *data, size_t len,
			  struct snapshot_header *h, int *code,
			  char *err, size_t errlen)
{
	const unsigned char *p = data;

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
	if (h->version != SNAPSHOT_VERSION &&
	    h->version != SNAPSHOT_VERSION_V1)
		return snapshot_fail(code, err, errlen, SNAPSHOT_E_BAD_VERSION,
				     "version %u at byte %d, this program "
				     "reads versions %d and %d", h->version,
				     SNAPSHOT_OFF_VERSION, SNAPSHOT_VERSION_V1,
				     SNAPSHOT_VERSION);
	if (h->version == SNAPSHOT_VERSION) {
		h->epoch = util_get_u64(p + SNAPSHOT_OFF_EPOCH);
		h->payload_offset = SNAPSHOT_PREFIX_LEN;
	} else {
		h->payload_offset = SNAPSHOT_HEADER_LEN;
	}
	if (snapshot_check_fields(p, h, code, err, errlen) < 0)
		return -1;
	/* The same total in both versions: one signature of 64 bytes. */
	h->file_size = SNAPSHOT_PREFIX_LEN + h->payload_len;
	return 0;
}

void snapshot_encode_header(const struct snapshot_header *h,
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
	util_put_u64(p + SNAPSHOT_OFF_EPOCH, h->epoch);
	if (h->flags & SNAPSHOT_FLAG_KEYED_HASH)
		memcpy(p + SNAPSHOT_OFF_KEYED, h->hash_id, SNAPSHOT_KEYED_LEN);
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
	size_t len = (size_t)h->payload_len, pos = 0, next;
	uint64_t off = h->payload_offset;
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
					     "header announces, at byte %llu",
					     (unsigned long long)h->records,
					     (unsigned long long)(off + pos));
		if (snapshot_record(s->payload, len, pos, h->type, &op, &rec,
				    &next, why, sizeof(why)) < 0)
			return snapshot_fail(code, err, errlen,
					     SNAPSHOT_E_BAD_RECORD,
					     "record %llu at byte %llu: %s",
					     (unsigned long long)n + 1,
					     (unsigned long long)(off + pos),
					     why);
		if (prev && snapshot_keycmp(prev, prevlen, rec.key,
					    rec.keylen) >= 0) {
			char q[LOG_QUOTE_SIZE];

			log_quote(rec.key, rec.keylen, q, sizeof(q));
			return snapshot_fail(code, err, errlen,
					     SNAPSHOT_E_BAD_RECORD,
					     "record %llu at byte %llu: key "
					     "\"%s\" %s the one before",
					     (unsigned long long)n + 1,
					     (unsigned long long)(off + pos), q,
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

/* ---------------------------------------------------------------- checks */

/* The file's size against what the header announces. */
static int snapshot_check_size(const struct snapshot_header *h, uint64_t size,
			       int *code, char *err, size_t errlen)
{
	if (size < h->file_size)
		return snapshot_fail(code, err, errlen, SNAPSHOT_E_TRUNCATED,
				     "%llu bytes, the header announces %llu "
				     "(%llu of payload and the %d-byte "
				     "signature)", (unsigned long long)size,
				     (unsigned long long)h->file_size,
				     (unsigned long long)h->payload_len,
				     SNAPSHOT_SIG_LEN);
	if (size > h->file_size)
		return snapshot_fail(code, err, errlen,
				     SNAPSHOT_E_TRAILING_DATA,
				     "%llu byte%s after the end of the "
				     "snapshot at byte %llu",
				     (unsigned long long)(size - h->file_size),
				     size - h->file_size == 1 ? "" : "s",
				     (unsigned long long)h->file_size);
	return 0;
}

/* Is the signer trusted? */
static int snapshot_check_key(const struct snapshot_header *h,
			      const struct sign_keyring *kr, int *code,
			      char *err, size_t errlen)
{
	if (!sign_keyring_has(kr, h->key_id_raw))
		return snapshot_fail(code, err, errlen, SNAPSHOT_E_UNKNOWN_KEY,
				     "signed with key id %s, which is not "
				     "among the %zu trusted key(s)",
				     h->key_id, sign_keyring_count(kr));
	return 0;
}

/* Check sig over data[0..len) with the header's key. */
static int snapshot_check_sig(const struct snapshot_header *h,
			      const struct sign_keyring *kr, const void *data,
			      size_t len, const unsigned char *sig, int *code,
			      char *err, size_t errlen)
{
	char why[512];
	int rc = sign_verify(kr, h->key_id_raw, data, len, sig, why,
			     sizeof(why));

	if (rc < 0)
		return snapshot_fail(code, err, errlen, SNAPSHOT_E_IO, "%s",
				     why);
	if (rc == 0)
		return snapshot_fail(code, err, errlen,
				     SNAPSHOT_E_BAD_SIGNATURE,
				     "%s (header or signature altered, or "
				     "a different key)", why);
	return 0;
}

/* The payload's SHA-256 (in dg) against the header's. */
static int snapshot_check_hash(const struct snapshot_header *h,
			       const unsigned char *dg, int *code, char *err,
			       size_t errlen)
{
	if (memcmp(dg, h->payload_hash, SIGN_SHA256_LEN))
		return snapshot_fail(code, err, errlen, SNAPSHOT_E_BAD_HASH,
				     "SHA-256 of the %llu payload bytes "
				     "differs from the header's (byte %d)",
				     (unsigned long long)h->payload_len,
				     SNAPSHOT_OFF_HASH);
	return 0;
}

/*
 * Every check over a whole file in memory that nobody else may change:
 * header, size, key, then version 2: header signature, payload hash;
 * version 1: payload hash, signature over header and payload.  Then the
 * records.  Sets s->hdr and s->payload.
 */
static int snapshot_check_mem(struct snapshot *s, const unsigned char *data,
			      size_t len, const struct sign_keyring *kr,
			      int *code, char *err, size_t errlen)
{
	struct snapshot_header *h = &s->hdr;
	unsigned char dg[SIGN_SHA256_LEN];

	if (len > SNAPSHOT_FILE_MAX)
		return snapshot_fail(code, err, errlen, SNAPSHOT_E_TOO_LARGE,
				     "%zu bytes, at most %llu", len,
				     (unsigned long long)SNAPSHOT_FILE_MAX);
	if (snapshot_parse_header(data, len, h, code, err, errlen) < 0 ||
	    snapshot_check_size(h, len, code, err, errlen) < 0 ||
	    snapshot_check_key(h, kr, code, err, errlen) < 0)
		return -1;
	s->payload = data + h->payload_offset;
	if (h->version == SNAPSHOT_VERSION) {
		if (snapshot_check_sig(h, kr, data, SNAPSHOT_HEADER_LEN,
				       data + SNAPSHOT_HEADER_LEN, code, err,
				       errlen) < 0)
			return -1;
		sign_sha256(s->payload, (size_t)h->payload_len, dg);
		if (snapshot_check_hash(h, dg, code, err, errlen) < 0)
			return -1;
	} else {
		/* The hash first: a damaged payload is then told apart
		 * from a damaged signature or header. */
		sign_sha256(s->payload, (size_t)h->payload_len, dg);
		if (snapshot_check_hash(h, dg, code, err, errlen) < 0 ||
		    snapshot_check_sig(h, kr, data, SNAPSHOT_HEADER_LEN +
				       (size_t)h->payload_len,
				       s->payload + h->payload_len, code, err,
				       errlen) < 0)
			return -1;
	}
	return snapshot_walk(s, code, err, errlen);
}

/* ------------------------------------------------------------------ copy */

/*
 * Storage of our own for len bytes, writable until sealed: a shared
 * mapping of an unnamed file in dir (its blocks reserved first, so a full
 * disk is an error here and not a fault later), or anonymous memory.
 * NULL with err.
 */
static void *snapshot_copy_new(const char *dir, size_t len, char *err,
			       size_t errlen)
{
	void *map;
	int fd, rc;

	if (!dir) {
		map = mmap(NULL, len, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (map == MAP_FAILED) {
			util_err(err, errlen, "cannot allocate %zu bytes for "
				 "a private copy: %s", len, strerror(errno));
			return NULL;
		}
		return map;
	}
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR ||
		       errno == EINVAL)) {
		/* No O_TMPFILE here: a named file, unlinked at once. */
		char path[PATH_MAX];

		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
				     SNAPSHOT_COPY_NAME) >= sizeof(path)) {
			util_err(err, errlen, "%s: path too long", dir);
			return NULL;
		}
		fd = mkostemp(path, O_CLOEXEC);
		if (fd >= 0)
			unlink(path);
	}
	if (fd < 0) {
		util_err(err, errlen, "private copy in %s: %s", dir,
			 strerror(errno));
		return NULL;
	}
	rc = posix_fallocate(fd, 0, (off_t)len);
	if (rc) {
		util_err(err, errlen, "private copy of %zu bytes in %s: %s",
			 len, dir, strerror(rc));
		close(fd);
		return NULL;
	}
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);	/* the mapping keeps the unnamed file */
	if (map == MAP_FAILED) {
		util_err(err, errlen, "private copy in %s: mmap: %s", dir,
			 strerror(errno));
		return NULL;
	}
	return map;
}

/*
 * Read len bytes at offset off of fd into dst, hashing what landed in
 * dst (our copy, not the file) when sha is set.  0, or -1 with code/err:
 * the file ended early (truncated) or a read failed.
 */
static int snapshot_copy_in(int fd, uint64_t off, unsigned char *dst,
			    size_t len, struct sign_sha256 *sha, int *code,
			    char *err, size_t errlen)
{
	size_t done = 0;

	while (done < len) {
		size_t want = len - done;
		ssize_t n;

		if (want > SNAPSHOT_COPY_CHUNK)
			want = SNAPSHOT_COPY_CHUNK;
		n = pread(fd, dst + done, want, (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return snapshot_fail(code, err, errlen, SNAPSHOT_E_IO,
					     "read at byte %llu: %s",
					     (unsigned long long)(off + done),
					     strerror(errno));
		if (n == 0)
			return snapshot_fail(code, err, errlen,
					     SNAPSHOT_E_TRUNCATED,
					     "the file ended at byte %llu "
					     "while it was read",
					     (unsigned long long)(off + done));
		if (sha)
			sign_sha256_update(sha, dst + done, (size_t)n);
		done += (size_t)n;
	}
	return 0;
}

/* ------------------------------------------------------------------ open */

struct snapshot *snapshot_open_mem(const void *data, size_t len,
				   const char *label,
				   const struct sign_keyring *kr,
				   int *code, char *err, size_t errlen)
{
	struct snapshot *s = xcalloc(1, sizeof(*s));

	s->label = xstrdup(label ? label : "snapshot");
	if (snapshot_check_mem(s, data, len, kr, code, err, errlen) < 0) {
		snapshot_label_err(s->label, err, errlen);
		snapshot_close(s);
		return NULL;
	}
	*code = SNAPSHOT_OK;
	return s;
}

/* Version 2 from fd, header already read into head (prefix bytes). */
static int snapshot_read_v2(struct snapshot *s, int fd,
			    const unsigned char *head,
			    const struct snapshot_source *src,
			    const struct sign_keyring *kr, int *code,
			    char *err, size_t errlen)
{
	struct snapshot_header *h = &s->hdr;
	unsigned char dg[SIGN_SHA256_LEN];
	struct sign_sha256 *sha;
	char why[512];
	size_t len = (size_t)h->payload_len;

	/* From here on the header is known to be the signer's. */
	if (snapshot_check_sig(h, kr, head, SNAPSHOT_HEADER_LEN,
			       head + SNAPSHOT_HEADER_LEN, code, err,
			       errlen) < 0)
		return -1;
	if (len == 0) {
		sign_sha256(NULL, 0, dg);
		s->payload = (const unsigned char *)"";
	} else {
		s->map = snapshot_copy_new(src->copy_dir, len, why,
					   sizeof(why));
		if (!s->map)
			return snapshot_fail(code, err, errlen, SNAPSHOT_E_IO,
					     "%s", why);
		s->maplen = len;
		sha = sign_sha256_new();
		if (snapshot_copy_in(fd, h->payload_offset, s->map, len, sha,
				     code, err, errlen) < 0) {
			sign_sha256_free(sha);
			return -1;
		}
		sign_sha256_final(sha, dg);
		(void)mprotect(s->map, len, PROT_READ);
		s->payload = s->map;
	}
	if (snapshot_check_hash(h, dg, code, err, errlen) < 0)
		return -1;
	return snapshot_walk(s, code, err, errlen);
}

/* Version 1 from fd: the whole file into the copy, then checked there. */
static int snapshot_read_v1(struct snapshot *s, int fd,
			    const struct snapshot_source *src,
			    const struct sign_keyring *kr, int *code,
			    char *err, size_t errlen)
{
	size_t len = (size_t)s->hdr.file_size;
	char why[512];

	s->map = snapshot_copy_new(src->copy_dir, len, why, sizeof(why));
	if (!s->map)
		return snapshot_fail(code, err, errlen, SNAPSHOT_E_IO, "%s",
				     why);
	s->maplen = len;
	if (snapshot_copy_in(fd, 0, s->map, len, NULL, code, err,
			     errlen) < 0)
		return -1;
	(void)mprotect(s->map, len, PROT_READ);
	return snapshot_check_mem(s, s->map, len, kr, code, err, errlen);
}

struct snapshot *snapshot_read(int fd, const char *label,
			       const struct snapshot_source *src,
			       const struct sign_keyring *kr, int *code,
			       char *err, size_t errlen)
{
	static const struct snapshot_source defaults;
	unsigned char head[SNAPSHOT_PREFIX_LEN];
	struct snapshot *s = xcalloc(1, sizeof(*s));
	uint64_t max;
	struct stat st;
	size_t want;
	int rc;

	if (!src)
		src = &defaults;
	max = src->max_size && src->max_size < SNAPSHOT_FILE_MAX ?
		      src->max_size : SNAPSHOT_FILE_MAX;
	s->label = xstrdup(label ? label : "snapshot");
	if (fstat(fd, &st) < 0) {
		snapshot_fail(code, err, errlen, SNAPSHOT_E_IO, "fstat: %s",
			      strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		snapshot_fail(code, err, errlen, SNAPSHOT_E_NOT_REGULAR,
			      "a %s", S_ISFIFO(st.st_mode) ? "FIFO" :
			      S_ISDIR(st.st_mode) ? "directory" :
			      S_ISSOCK(st.st_mode) ? "socket" :
			      S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ?
			      "device" : "special file");
		goto fail;
	}
	if ((uint64_t)st.st_size > max) {
		snapshot_fail(code, err, errlen, SNAPSHOT_E_TOO_LARGE,
			      "%lld bytes, at most %llu accepted here",
			      (long long)st.st_size, (unsigned long long)max);
		goto fail;
	}
	want = (uint64_t)st.st_size < sizeof(head) ? (size_t)st.st_size
						   : sizeof(head);
	rc = want ? snapshot_copy_in(fd, 0, head, want, NULL, code, err,
				     errlen) : 0;
	if (rc < 0 ||
	    snapshot_parse_header(head, want, &s->hdr, code, err,
				  errlen) < 0)
		goto fail;
	if (s->hdr.version == SNAPSHOT_VERSION_V1 && !src->accept_v1) {
		snapshot_fail(code, err, errlen, SNAPSHOT_E_BAD_VERSION,
			      "version 1 at byte %d (no signed header) is not "
			      "accepted here, only version %d",
			      SNAPSHOT_OFF_VERSION, SNAPSHOT_VERSION);
		goto fail;
	}
	if (snapshot_check_size(&s->hdr, (uint64_t)st.st_size, code, err,
				errlen) < 0 ||
	    snapshot_check_key(&s->hdr, kr, code, err, errlen) < 0)
		goto fail;
	if (s->hdr.version == SNAPSHOT_VERSION)
		rc = snapshot_read_v2(s, fd, head, src, kr, code, err, errlen);
	else
		rc = snapshot_read_v1(s, fd, src, kr, code, err, errlen);
	if (rc < 0)
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
	static const struct snapshot_source src = { .accept_v1 = 1 };
	struct snapshot *s;
	int fd;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		snapshot_fail(code, err, errlen, SNAPSHOT_E_IO, "%s",
			      strerror(errno));
		snapshot_label_err(path, err, errlen);
		return NULL;
	}
	s = snapshot_read(fd, path, &src, kr, code, err, errlen);
	close(fd);
	return s;
}

void snapshot_close(struct snapshot *s)
{
	if (!s)
		return;
	if (s->map)
		munmap(s->map, s->maplen);
	free(s->label);
	free(s);
}

const struct snapshot_header *snapshot_header(const struct snapshot *s)
{
	return &s->hdr;
}

const char *snapshot_label(const struct snapshot *s)
{
	return s->label;
}

int snapshot_next(struct snapshot *s, int *op, struct catalog_rec *rec)
{
	size_t len = (size_t)s->hdr.payload_len, next;
	char why[8];

	if (s->pos >= len)
		return 0;
	if (snapshot_record(s->payload, len, (size_t)s->pos, s->hdr.type, op,
			    rec, &next, why, sizeof(why)) < 0)
		return -1;
	s->pos = next;
	return 1;
}

void snapshot_rewind(struct snapshot *s)
{
	s->pos = 0;
}

uint64_t snapshot_position(const struct snapshot *s)
{
	return s->pos;
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
