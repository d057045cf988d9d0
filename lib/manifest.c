/*
 * manifest.c - the publish manifest: writer, strict reader, freshness,
 * ordering and the cheapest path to the latest serial; see manifest.h and
 * schema/manifest.md.
 *
 * The reader walks the text once, line by line, each line split into
 * single-space separated words checked against a fixed grammar in a fixed
 * order; numbers are decimal without leading zeros, so every manifest has
 * exactly one spelling and the writer's output is the only valid one for
 * its fields.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "manifest.h"
#include "snapshot.h"

#define MANIFEST_NUM_DIGITS_MAX 20	/* 18446744073709551615 */
#define MANIFEST_SIG_HEX  (2 * SIGN_SIG_LEN)
#define MANIFEST_HASH_HEX (2 * SIGN_SHA256_LEN)

static const char *const manifest_errors[MANIFEST_E_COUNT] = {
	[MANIFEST_OK] = "ok",
	[MANIFEST_E_TOO_LARGE] = "too large",
	[MANIFEST_E_SYNTAX] = "syntax error",
	[MANIFEST_E_FIELD] = "bad field",
	[MANIFEST_E_UNKNOWN_KEY] = "unknown signing key",
	[MANIFEST_E_BAD_SIGNATURE] = "bad signature",
};

const char *manifest_strerror(int code)
{
	if (code < 0 || code >= MANIFEST_E_COUNT)
		return "unknown error";
	return manifest_errors[code];
}

/* A file name on the origin: [A-Za-z0-9._-], not starting with '.'. */
static int manifest_name_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > MANIFEST_NAME_MAX || s[0] == '.')
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return 0;
	}
	return 1;
}

int manifest_name_valid(const char *name, size_t len)
{
	return manifest_name_ok(name, len);
}

/* A projection name: [a-z0-9._-], 1 .. MANIFEST_PROJECTION_MAX. */
static int manifest_projection_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > MANIFEST_PROJECTION_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

static void manifest_hex(const unsigned char *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* One file's own consistency (both for writing and after reading). */
static int manifest_file_check(const struct manifest *m,
			       const struct manifest_file *f, char *err,
			       size_t errlen)
{
	if (!manifest_name_ok(f->name, strlen(f->name))) {
		util_err(err, errlen, "file name: 1 to %d of [A-Za-z0-9._-], "
			 "not starting with '.'", MANIFEST_NAME_MAX);
		return -1;
	}
	if (f->size < MANIFEST_SNAPSHOT_MIN || f->size > SNAPSHOT_FILE_MAX) {
		util_err(err, errlen, "%s: size %llu: between %d and %llu "
			 "bytes", f->name, (unsigned long long)f->size,
			 MANIFEST_SNAPSHOT_MIN,
			 (unsigned long long)SNAPSHOT_FILE_MAX);
		return -1;
	}
	if (f->expires <= 0) {
		util_err(err, errlen, "%s: expiry must be a positive time",
			 f->name);
		return -1;
	}
	if (f->full && (f->base != 0 || f->serial != m->serial)) {
		util_err(err, errlen, "%s: the full snapshot must be of serial "
			 "%llu", f->name, (unsigned long long)m->serial);
		return -1;
	}
	if (!f->full && (f->base == 0 || f->base >= f->serial ||
			 f->serial > m->serial)) {
		util_err(err, errlen, "%s: a delta needs 1 <= base < serial "
			 "<= %llu", f->name, (unsigned long long)m->serial);
		return -1;
	}
	return 0;
}

/* Everything but the file list and signature. */
static int manifest_fields_check(const struct manifest *m, char *err,
				 size_t errlen)
{
	if (!catalog_id_valid(m->catalog_id)) {
		util_err(err, errlen, "catalog id: 1 to %d of [A-Za-z0-9._-]",
			 CATALOG_ID_MAX);
		return -1;
	}
	if (!manifest_projection_ok(m->projection, strlen(m->projection))) {
		util_err(err, errlen, "projection: 1 to %d of [a-z0-9._-]",
			 MANIFEST_PROJECTION_MAX);
		return -1;
	}
	if (m->serial == 0) {
		util_err(err, errlen, "serial: must be at least 1");
		return -1;
	}
	if (m->published <= 0 || m->expires <= m->published ||
	    m->expires - m->published > MANIFEST_LIFETIME_MAX) {
		util_err(err, errlen, "published/expires: need 0 < published "
			 "< expires <= published + %lld",
			 (long long)MANIFEST_LIFETIME_MAX);
		return -1;
	}
	return 0;
}

/* The order of delta lines: ascending (serial, base), no repeats. */
static int manifest_delta_after(const struct manifest_file *prev,
				const struct manifest_file *f)
{
	return f->serial > prev->serial ||
	       (f->serial == prev->serial && f->base > prev->base);
}

/* A name used twice would let one file pass for another. */
static int manifest_name_repeats(const struct manifest *m,
				 const struct manifest_file *f)
{
	size_t i;

	if (f != &m->full && !strcmp(f->name, m->full.name))
		return 1;
	for (i = 0; i < m->ndeltas && &m->deltas[i] != f; i++)
		if (!strcmp(m->deltas[i].name, f->name))
			return 1;
	return 0;
}

int manifest_write(const struct manifest *m, const struct sign_key *key,
		   struct buf *out, char *err, size_t errlen)
{
	char hash[MANIFEST_HASH_HEX + 1], sig_hex[MANIFEST_SIG_HEX + 1];
	char why[256];
	unsigned char sig[SIGN_SIG_LEN];
	size_t start = out->len, i;
	int rc = 0;

	if (manifest_fields_check(m, why, sizeof(why)) < 0 ||
	    m->ndeltas > MANIFEST_DELTAS_MAX || !m->full.full ||
	    manifest_file_check(m, &m->full, why, sizeof(why)) < 0) {
		if (m->ndeltas > MANIFEST_DELTAS_MAX || !m->full.full)
			snprintf(why, sizeof(why), "one full snapshot and "
				 "at most %d deltas", MANIFEST_DELTAS_MAX);
		util_err(err, errlen, "manifest: %s", why);
		return -1;
	}
	for (i = 0; i < m->ndeltas; i++) {
		const struct manifest_file *f = &m->deltas[i];

		if (f->full || manifest_file_check(m, f, why, sizeof(why)) < 0 ||
		    (i > 0 && !manifest_delta_after(&m->deltas[i - 1], f)) ||
		    manifest_name_repeats(m, f)) {
			util_err(err, errlen, "manifest: delta %zu: %s", i,
				 f->full ? "marked full" :
				 manifest_file_check(m, f, why, sizeof(why)) ?
				 why : "out of order or a name used twice");
			return -1;
		}
	}
	rc |= buf_printf(out, "%s\ncatalog %s\nprojection %s\nepoch %llu\n"
			 "serial %llu\npublished %lld\nexpires %lld\nkey %s\n",
			 MANIFEST_MAGIC, m->catalog_id, m->projection,
			 (unsigned long long)m->epoch,
			 (unsigned long long)m->serial, (long long)m->published,
			 (long long)m->expires, sign_key_id(key));
	manifest_hex(m->full.sha256, SIGN_SHA256_LEN, hash);
	rc |= buf_printf(out, "full %s %llu %llu %lld %s\n", m->full.name,
			 (unsigned long long)m->full.serial,
			 (unsigned long long)m->full.size,
			 (long long)m->full.expires, hash);
	for (i = 0; i < m->ndeltas; i++) {
		const struct manifest_file *f = &m->deltas[i];

		manifest_hex(f->sha256, SIGN_SHA256_LEN, hash);
		rc |= buf_printf(out, "delta %s %llu %llu %llu %lld %s\n",
				 f->name, (unsigned long long)f->base,
				 (unsigned long long)f->serial,
				 (unsigned long long)f->size,
				 (long long)f->expires, hash);
	}
	if (rc < 0 || out->len - start > MANIFEST_FILE_MAX - 12 -
					  MANIFEST_SIG_HEX) {
		util_err(err, errlen, "manifest: larger than %d bytes",
			 MANIFEST_FILE_MAX);
		goto fail;
	}
	if (sign_sign(key, out->data + start, out->len - start, sig, err,
		      errlen) < 0)
		goto fail;
	manifest_hex(sig, SIGN_SIG_LEN, sig_hex);
	if (buf_printf(out, "signature %s\n", sig_hex) < 0) {
		util_err(err, errlen, "manifest: larger than %d bytes",
			 MANIFEST_FILE_MAX);
		goto fail;
	}
	return 0;
fail:
	out->len = start;
	return -1;
}

/* ---- reading ---------------------------------------------------------- */

/* The line being read: [line, eol) without its newline. */
struct manifest_cursor {
	const char *line, *eol, *p;
	int lineno;
	int *code;
	char *err;
	size_t errlen;
};

/* Fail at the cursor's position with code. */
__attribute__((format(printf, 3, 4)))
static int manifest_fail(struct manifest_cursor *c, int code,
			 const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	*c->code = code;
	util_err(c->err, c->errlen, "manifest line %d column %d: %s",
		 c->lineno, (int)(c->p - c->line) + 1, why);
	return -1;
}

/* The next word: up to a space or the end of the line.  A word is
 * followed by exactly one space and another word, or by the end. */
static int manifest_word(struct manifest_cursor *c, const char *what,
			 const char **w, size_t *n)
{
	const char *s = c->p;

	while (c->p < c->eol && *c->p != ' ')
		c->p++;
	if (c->p == s) {
		return manifest_fail(c, MANIFEST_E_SYNTAX, "%s: missing",
				     what);
	}
	*w = s;
	*n = (size_t)(c->p - s);
	if (c->p < c->eol) {
		c->p++;	/* the separating space */
		if (c->p == c->eol || *c->p == ' ')
			return manifest_fail(c, MANIFEST_E_SYNTAX,
					     "one space between fields, none "
					     "at the end");
	}
	return 0;
}

/* The end of the line must have been reached. */
static int manifest_end(struct manifest_cursor *c)
{
	if (c->p != c->eol)
		return manifest_fail(c, MANIFEST_E_SYNTAX, "unexpected text "
				     "after the last field");
	return 0;
}

/* The line's keyword must be kw. */
static int manifest_keyword(struct manifest_cursor *c, const char *kw)
{
	const char *w;
	size_t n;

	if (c->p < c->eol && *c->p == ' ')
		return manifest_fail(c, MANIFEST_E_SYNTAX, "expected '%s'",
				     kw);
	if (manifest_word(c, kw, &w, &n) < 0)
		return -1;
	if (n != strlen(kw) || memcmp(w, kw, n)) {
		c->p = w;
		return manifest_fail(c, MANIFEST_E_SYNTAX, "expected '%s'",
				     kw);
	}
	if (c->p == c->eol)
		return manifest_fail(c, MANIFEST_E_SYNTAX, "%s: value missing",
				     kw);
	return 0;
}

/* A decimal number in [min, max], no sign, no leading zero. */
static int manifest_number(struct manifest_cursor *c, const char *what,
			   uint64_t min, uint64_t max, uint64_t *out)
{
	const char *w;
	size_t n, i;
	uint64_t v = 0;

	if (manifest_word(c, what, &w, &n) < 0)
		return -1;
	if (n > MANIFEST_NUM_DIGITS_MAX || (n > 1 && w[0] == '0')) {
		c->p = w;
		return manifest_fail(c, MANIFEST_E_SYNTAX, "%s: a decimal "
				     "number without leading zeros", what);
	}
	for (i = 0; i < n; i++) {
		unsigned d = (unsigned char)w[i] - '0';

		if (d > 9 || v > (UINT64_MAX - d) / 10) {
			c->p = w;
			return manifest_fail(c, MANIFEST_E_SYNTAX, "%s: not a "
					     "number (or too large)", what);
		}
		v = v * 10 + d;
	}
	if (v < min || v > max) {
		c->p = w;
		return manifest_fail(c, MANIFEST_E_FIELD, "%s: %llu is out of "
				     "range %llu .. %llu", what,
				     (unsigned long long)v,
				     (unsigned long long)min,
				     (unsigned long long)max);
	}
	*out = v;
	return 0;
}

/* Lower-case hex of exactly len bytes. */
static int manifest_hexval(struct manifest_cursor *c, const char *what,
			   unsigned char *out, size_t len)
{
	const char *w;
	size_t n, i;

	if (manifest_word(c, what, &w, &n) < 0)
		return -1;
	if (n != 2 * len) {
		c->p = w;
		return manifest_fail(c, MANIFEST_E_SYNTAX, "%s: %zu lower-case "
				     "hex digits", what, 2 * len);
	}
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)w[i];
		unsigned v;

		if (ch >= '0' && ch <= '9')
			v = ch - '0';
		else if (ch >= 'a' && ch <= 'f')
			v = ch - 'a' + 10;
		else {
			c->p = w + i;
			return manifest_fail(c, MANIFEST_E_SYNTAX, "%s: %zu "
					     "lower-case hex digits", what,
					     2 * len);
		}
		if (i % 2)
			out[i / 2] = (unsigned char)(out[i / 2] | v);
		else
			out[i / 2] = (unsigned char)(v << 4);
	}
	return 0;
}

/* A word copied into out (size outsize) when ok(word) holds. */
static int manifest_text(struct manifest_cursor *c, const char *what,
			 int (*ok)(const char *, size_t), const char *rule,
			 char *out, size_t outsize)
{
	const char *w;
	size_t n;

	if (manifest_word(c, what, &w, &n) < 0)
		return -1;
	if (!ok(w, n) || n >= outsize) {
		c->p = w;
		return manifest_fail(c, MANIFEST_E_FIELD, "%s: %s", what, rule);
	}
	memcpy(out, w, n);
	out[n] = '\0';
	return 0;
}

static int manifest_catalog_id_ok(const char *s, size_t n)
{
	char id[CATALOG_ID_MAX + 1];

	if (n == 0 || n > CATALOG_ID_MAX)
		return 0;
	memcpy(id, s, n);
	id[n] = '\0';
	return catalog_id_valid(id);
}

/* "full NAME SERIAL SIZE EXPIRES SHA256" or
 * "delta NAME BASE SERIAL SIZE EXPIRES SHA256" after the keyword. */
static int manifest_file_line(struct manifest_cursor *c, struct manifest *m,
			      struct manifest_file *f, int full)
{
	const char *start = c->p;
	char why[256];
	uint64_t expires;

	memset(f, 0, sizeof(*f));
	f->full = full;
	if (manifest_text(c, "file name", manifest_name_ok,
			  "1 to 128 of [A-Za-z0-9._-], not starting with '.'",
			  f->name, sizeof(f->name)) < 0)
		return -1;
	if (!full && manifest_number(c, "base", 1, UINT64_MAX - 1,
				     &f->base) < 0)
		return -1;
	if (manifest_number(c, "serial", 1, UINT64_MAX, &f->serial) < 0 ||
	    manifest_number(c, "size", MANIFEST_SNAPSHOT_MIN,
			    SNAPSHOT_FILE_MAX, &f->size) < 0 ||
	    manifest_number(c, "expires", 1, INT64_MAX, &expires) < 0 ||
	    manifest_hexval(c, "sha256", f->sha256, SIGN_SHA256_LEN) < 0 ||
	    manifest_end(c) < 0)
		return -1;
	f->expires = (int64_t)expires;
	if (manifest_file_check(m, f, why, sizeof(why)) < 0) {
		c->p = start;
		return manifest_fail(c, MANIFEST_E_FIELD, "%s", why);
	}
	return 0;
}

/* The fixed sequence of header lines. */
enum manifest_line {
	ML_MAGIC, ML_CATALOG, ML_PROJECTION, ML_EPOCH, ML_SERIAL,
	ML_PUBLISHED, ML_EXPIRES, ML_KEY, ML_FULL, ML_FILES
};

/* Parse one header line (which = its place). */
static int manifest_header_line(struct manifest_cursor *c, struct manifest *m,
				int which, unsigned char key_raw[])
{
	uint64_t v;

	switch (which) {
	case ML_MAGIC:
		if ((size_t)(c->eol - c->line) != strlen(MANIFEST_MAGIC) ||
		    memcmp(c->line, MANIFEST_MAGIC, strlen(MANIFEST_MAGIC)))
			return manifest_fail(c, MANIFEST_E_SYNTAX, "not a "
					     "dircat manifest (the first line "
					     "must be '%s')", MANIFEST_MAGIC);
		c->p = c->eol;
		return 0;
	case ML_CATALOG:
		return manifest_keyword(c, "catalog") < 0 ||
		       manifest_text(c, "catalog", manifest_catalog_id_ok,
				     "1 to 64 of [A-Za-z0-9._-]",
				     m->catalog_id,
				     sizeof(m->catalog_id)) < 0 ? -1 :
		       manifest_end(c);
	case ML_PROJECTION:
		return manifest_keyword(c, "projection") < 0 ||
		       manifest_text(c, "projection", manifest_projection_ok,
				     "1 to 64 of [a-z0-9._-]", m->projection,
				     sizeof(m->projection)) < 0 ? -1 :
		       manifest_end(c);
	case ML_EPOCH:
		return manifest_keyword(c, "epoch") < 0 ||
		       manifest_number(c, "epoch", 0, UINT64_MAX,
				       &m->epoch) < 0 ? -1 : manifest_end(c);
	case ML_SERIAL:
		return manifest_keyword(c, "serial") < 0 ||
		       manifest_number(c, "serial", 1, UINT64_MAX,
				       &m->serial) < 0 ? -1 : manifest_end(c);
	case ML_PUBLISHED:
		if (manifest_keyword(c, "published") < 0 ||
		    manifest_number(c, "published", 1, INT64_MAX, &v) < 0)
			return -1;
		m->published = (int64_t)v;
		return manifest_end(c);
	case ML_EXPIRES:
		if (manifest_keyword(c, "expires") < 0 ||
		    manifest_number(c, "expires", 1, INT64_MAX, &v) < 0)
			return -1;
		m->expires = (int64_t)v;
		if (m->expires <= m->published ||
		    m->expires - m->published > MANIFEST_LIFETIME_MAX) {
			c->p = c->line + 8;
			return manifest_fail(c, MANIFEST_E_FIELD, "expires: "
					     "must be after published, by at "
					     "most %lld seconds",
					     (long long)MANIFEST_LIFETIME_MAX);
		}
		return manifest_end(c);
	case ML_KEY:
		if (manifest_keyword(c, "key") < 0 ||
		    manifest_hexval(c, "key", key_raw, SIGN_KEY_ID_LEN) < 0 ||
		    manifest_end(c) < 0)
			return -1;
		sign_key_id_hex(key_raw, m->key_id);
		return 0;
	case ML_FULL:
		if (manifest_keyword(c, "full") < 0)
			return -1;
		return manifest_file_line(c, m, &m->full, 1);
	}
	return -1;
}

/* The line at c->line (up to end) framed: within MANIFEST_LINE_MAX,
 * ended by a newline, no NUL, CR or TAB byte, nothing after the
 * signature.  Sets c->eol.  0, or -1 with the error. */
static int manifest_line_check(struct manifest_cursor *c, const char *end,
			       int have_sig)
{
	const char *nl = memchr(c->line, '\n', (size_t)(end - c->line));

	c->p = c->line;
	c->eol = nl ? nl : end;
	if ((size_t)(c->eol - c->line) + 1 > MANIFEST_LINE_MAX) {
		c->p = c->line + MANIFEST_LINE_MAX - 1;
		return manifest_fail(c, MANIFEST_E_TOO_LARGE, "line longer "
				     "than %d bytes", MANIFEST_LINE_MAX - 1);
	}
	if (have_sig)
		return manifest_fail(c, MANIFEST_E_SYNTAX, "text after the "
				     "signature line");
	if (!nl) {
		c->p = c->eol;
		return manifest_fail(c, MANIFEST_E_SYNTAX, "the last line "
				     "does not end in a newline");
	}
	if (memchr(c->line, '\0', (size_t)(c->eol - c->line)) ||
	    memchr(c->line, '\r', (size_t)(c->eol - c->line)) ||
	    memchr(c->line, '\t', (size_t)(c->eol - c->line)))
		return manifest_fail(c, MANIFEST_E_SYNTAX, "NUL, CR or TAB "
				     "byte in the line");
	return 0;
}

/* "delta FILE..." (c->line): one more delta of m, in ascending (serial,
 * base) order and named once.  0, or -1 with the error. */
static int manifest_delta_line(struct manifest_cursor *c, struct manifest *m)
{
	struct manifest_file *f;

	if (m->ndeltas == MANIFEST_DELTAS_MAX)
		return manifest_fail(c, MANIFEST_E_TOO_LARGE, "more than %d "
				     "delta lines", MANIFEST_DELTAS_MAX);
	f = &m->deltas[m->ndeltas];
	c->p = c->line + 6;
	if (manifest_file_line(c, m, f, 0) < 0)
		return -1;
	if (m->ndeltas > 0 &&
	    !manifest_delta_after(&m->deltas[m->ndeltas - 1], f)) {
		c->p = c->line + 6;
		return manifest_fail(c, MANIFEST_E_FIELD, "deltas must come in "
				     "ascending (serial, base) order, each "
				     "once");
	}
	m->ndeltas++;
	if (manifest_name_repeats(m, f)) {
		c->p = c->line + 6;
		return manifest_fail(c, MANIFEST_E_FIELD, "file name %s given "
				     "twice", f->name);
	}
	return 0;
}

/* The signature over text[0..signed_len) by key key_raw, which kr must
 * trust.  0, or -1 with *code and err. */
static int manifest_verify(const struct sign_keyring *kr,
			   const struct manifest *m,
			   const unsigned char *key_raw, const char *text,
			   size_t signed_len, const unsigned char *sig,
			   int *code, char *err, size_t errlen)
{
	char why[256];
	int rc;

	if (!sign_keyring_has(kr, key_raw)) {
		*code = MANIFEST_E_UNKNOWN_KEY;
		util_err(err, errlen, "manifest: signed by key %s, which is "
			 "not trusted here", m->key_id);
		return -1;
	}
	rc = sign_verify(kr, key_raw, text, signed_len, sig, why, sizeof(why));
	if (rc != 1) {
		*code = rc == 0 ? MANIFEST_E_BAD_SIGNATURE
				: MANIFEST_E_UNKNOWN_KEY;
		util_err(err, errlen, "manifest: %s", why);
		return -1;
	}
	return 0;
}

int manifest_parse(const void *data, size_t len,
		   const struct sign_keyring *kr, struct manifest *m,
		   int *code, char *err, size_t errlen)
{
	const char *text = data, *end = text + len;
	struct manifest_cursor c;
	unsigned char key_raw[SIGN_KEY_ID_LEN], sig[SIGN_SIG_LEN];
	size_t signed_len = 0;
	int which = ML_MAGIC, have_sig = 0;

	memset(m, 0, sizeof(*m));
	memset(&c, 0, sizeof(c));
	c.code = code;
	c.err = err;
	c.errlen = errlen;
	*code = MANIFEST_OK;
	if (len > MANIFEST_FILE_MAX) {
		*code = MANIFEST_E_TOO_LARGE;
		util_err(err, errlen, "manifest: %zu bytes, more than %d", len,
			 (int)MANIFEST_FILE_MAX);
		return -1;
	}
	if (len == 0) {
		*code = MANIFEST_E_SYNTAX;
		util_err(err, errlen, "manifest: empty");
		return -1;
	}
	c.line = text;
	while (c.line < end) {
		c.lineno++;
		if (manifest_line_check(&c, end, have_sig) < 0)
			return -1;
		if (which < ML_FILES) {
			if (manifest_header_line(&c, m, which, key_raw) < 0)
				return -1;
			which++;
		} else if ((size_t)(c.eol - c.line) > 6 &&
			   !memcmp(c.line, "delta ", 6)) {
			if (manifest_delta_line(&c, m) < 0)
				return -1;
		} else {
			signed_len = (size_t)(c.line - text);
			if (manifest_keyword(&c, "signature") < 0 ||
			    manifest_hexval(&c, "signature", sig,
					    SIGN_SIG_LEN) < 0 ||
			    manifest_end(&c) < 0)
				return -1;
			have_sig = 1;
		}
		c.line = c.eol + 1;
	}
	if (!have_sig) {
		c.p = c.line;
		c.eol = c.line;
		return manifest_fail(&c, MANIFEST_E_SYNTAX, which < ML_FILES ?
				     "the manifest ends early" :
				     "no signature line");
	}
	if (!kr)
		return 0;
	return manifest_verify(kr, m, key_raw, text, signed_len, sig, code,
			       err, errlen);
}

int manifest_fresh(const struct manifest *m, int64_t now, char *err,
		   size_t errlen)
{
	char when[32];

	if (m->expires <= now) {
		util_err(err, errlen, "manifest of catalog %s (epoch %llu "
			 "serial %llu) expired at %s, %llds ago: the copy "
			 "served is stale or frozen (is the replicator "
			 "publishing? is a cache keeping an old copy?)",
			 m->catalog_id, (unsigned long long)m->epoch,
			 (unsigned long long)m->serial,
			 util_time_iso((time_t)m->expires, when, sizeof(when)),
			 (long long)(now - m->expires));
		return -1;
	}
	return 0;
}

int manifest_order(uint64_t a_epoch, uint64_t a_serial, int64_t a_published,
		   uint64_t b_epoch, uint64_t b_serial, int64_t b_published)
{
	if (a_epoch != b_epoch)
		return a_epoch < b_epoch ? -1 : 1;
	if (a_serial != b_serial)
		return a_serial < b_serial ? -1 : 1;
	if (a_published != b_published)
		return a_published < b_published ? -1 : 1;
	return 0;
}

int manifest_plan(const struct manifest *m, uint64_t epoch, uint64_t serial,
		  int64_t now,
		  const struct manifest_file *steps[MANIFEST_PLAN_MAX],
		  size_t *nsteps, char *err, size_t errlen)
{
	/* Cheapest known way to reach each delta's serial: deltas come
	 * sorted by serial, so one pass in that order settles each one
	 * (a delta ends later than it starts). */
	uint64_t cost[MANIFEST_DELTAS_MAX];
	int via[MANIFEST_DELTAS_MAX];	/* delta index before it, -1: start */
	size_t hops[MANIFEST_DELTAS_MAX];
	uint64_t best = UINT64_MAX;
	int best_i = -2;
	size_t i, j, n;

	*nsteps = 0;
	if (epoch > m->epoch || (epoch == m->epoch && serial > m->serial)) {
		util_err(err, errlen, "the node has epoch %llu serial %llu, "
			 "ahead of the manifest's epoch %llu serial %llu",
			 (unsigned long long)epoch, (unsigned long long)serial,
			 (unsigned long long)m->epoch,
			 (unsigned long long)m->serial);
		return -1;
	}
	if (epoch == m->epoch && serial == m->serial)
		return 0;
	if (epoch == m->epoch && serial > 0) {
		for (i = 0; i < m->ndeltas; i++) {
			const struct manifest_file *f = &m->deltas[i];

			cost[i] = UINT64_MAX;
			via[i] = -1;
			hops[i] = 0;
			if (f->expires <= now)
				continue;
			if (f->base == serial) {
				cost[i] = f->size;
				hops[i] = 1;
			}
			for (j = 0; j < i; j++) {
				const struct manifest_file *g = &m->deltas[j];

				if (g->serial != f->base ||
				    cost[j] == UINT64_MAX ||
				    hops[j] + 1 > MANIFEST_PLAN_MAX ||
				    cost[j] + f->size >= cost[i])
					continue;
				cost[i] = cost[j] + f->size;
				via[i] = (int)j;
				hops[i] = hops[j] + 1;
			}
			if (f->serial == m->serial && cost[i] < best) {
				best = cost[i];
				best_i = (int)i;
			}
		}
	}
	if (best_i < 0 || best >= m->full.size) {
		steps[0] = &m->full;
		*nsteps = 1;
		return 1;
	}
	n = hops[best_i];
	for (i = n; i > 0; i--) {
		steps[i - 1] = &m->deltas[best_i];
		best_i = via[best_i];
	}
	*nsteps = n;
	return 1;
}
