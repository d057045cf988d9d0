/*
 * nodestatus.c - INBOX/status and INBOX/rejected/NAME.reason; see
 * nodestatus.h.
 */
#include <stdlib.h>
#include <string.h>

#include "kvtext.h"
#include "nodestatus.h"

static const struct kvtext_field nodestatus_fields[] = {
	{ "version", KVTEXT_U64, 0, KVTEXT_FIELD(struct nodestatus, version) },
	{ "catalog_id", KVTEXT_TEXT, 0,
	  KVTEXT_FIELD(struct nodestatus, catalog_id) },
	{ "epoch", KVTEXT_U64, 0, KVTEXT_FIELD(struct nodestatus, epoch) },
	{ "serial", KVTEXT_U64, KVTEXT_REQUIRED,
	  KVTEXT_FIELD(struct nodestatus, serial) },
	{ "created", KVTEXT_I64, 0, KVTEXT_FIELD(struct nodestatus, created) },
	{ "expires", KVTEXT_I64, 0, KVTEXT_FIELD(struct nodestatus, expires) },
	{ "installed", KVTEXT_I64, 0,
	  KVTEXT_FIELD(struct nodestatus, installed) },
	{ "key_id", KVTEXT_TEXT, 0, KVTEXT_FIELD(struct nodestatus, key_id) },
	{ "stale", KVTEXT_YESNO, 0, KVTEXT_FIELD(struct nodestatus, stale) },
	{ .key = NULL }
};

static const struct kvtext_field nodestatus_refusal_fields[] = {
	{ "time", KVTEXT_I64, KVTEXT_REQUIRED,
	  KVTEXT_FIELD(struct nodestatus_refusal, time) },
	{ "file", KVTEXT_TEXT, KVTEXT_REQUIRED,
	  KVTEXT_FIELD(struct nodestatus_refusal, file) },
	{ "reason", KVTEXT_TEXT, KVTEXT_REQUIRED,
	  KVTEXT_FIELD(struct nodestatus_refusal, reason) },
	{ .key = NULL }
};

static const struct kvtext_doc nodestatus_doc = {
	"status file", nodestatus_fields, NODESTATUS_MAX, NODESTATUS_LINE_MAX
};

static const struct kvtext_doc nodestatus_refusal_doc = {
	"refusal", nodestatus_refusal_fields, NODESTATUS_REFUSAL_MAX,
	NODESTATUS_REFUSAL_LINE_MAX
};

/* 1 when s is empty or lower-case hex. */
static int nodestatus_hex(const char *s)
{
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

/* The values a reader keeps: 0, or -1 with err. */
static int nodestatus_check(const struct nodestatus *st, char *err,
			    size_t errlen)
{
	if (st->catalog_id[0] && !catalog_id_valid(st->catalog_id)) {
		util_err(err, errlen, "catalog_id: not a catalog id");
		return -1;
	}
	if (!nodestatus_hex(st->key_id)) {
		util_err(err, errlen, "key_id: not a hexadecimal key id");
		return -1;
	}
	if (st->version == 0 || st->version > UINT32_MAX) {
		util_err(err, errlen, "version: %llu is not a version",
			 (unsigned long long)st->version);
		return -1;
	}
	return 0;
}

int nodestatus_format(const struct nodestatus *st, struct buf *out,
		      char *err, size_t errlen)
{
	struct nodestatus w = *st;

	w.version = NODESTATUS_VERSION;
	if (nodestatus_check(&w, err, errlen) < 0)
		return -1;
	return kvtext_format(&nodestatus_doc, out, &w, err, errlen);
}

int nodestatus_parse(const char *text, size_t len, struct nodestatus *st,
		     char *err, size_t errlen)
{
	char why[256];

	memset(st, 0, sizeof(*st));
	st->version = 1;	/* none written before version 1.1 */
	if (kvtext_parse(&nodestatus_doc, text, len, st, err, errlen) < 0)
		return -1;
	if (nodestatus_check(st, why, sizeof(why)) < 0) {
		util_err(err, errlen, "status file: %s", why);
		return -1;
	}
	return 0;
}

/* Format with fmt into a buffer of max bytes and write it to path. */
static int nodestatus_put_file(const char *path, size_t max,
			       int (*fmt)(const void *obj, struct buf *out,
					  char *err, size_t errlen),
			       const void *obj, char *err, size_t errlen)
{
	struct buf b;
	char why[256];
	int rc;

	buf_init(&b, max);
	if (fmt(obj, &b, why, sizeof(why)) < 0) {
		util_err(err, errlen, "%s: %s", path, why);
		buf_free(&b);
		return -1;
	}
	rc = util_write_file_atomic(path, b.data, b.len, 0644, err, errlen);
	buf_free(&b);
	return rc;
}

static int nodestatus_format_any(const void *obj, struct buf *out,
				 char *err, size_t errlen)
{
	return nodestatus_format(obj, out, err, errlen);
}

int nodestatus_write(const char *path, const struct nodestatus *st,
		     char *err, size_t errlen)
{
	return nodestatus_put_file(path, NODESTATUS_MAX, nodestatus_format_any,
				   st, err, errlen);
}

int nodestatus_refusal_format(const struct nodestatus_refusal *r,
			      struct buf *out, char *err, size_t errlen)
{
	return kvtext_format(&nodestatus_refusal_doc, out, r, err, errlen);
}

int nodestatus_refusal_parse(const char *text, size_t len,
			     struct nodestatus_refusal *r, char *err,
			     size_t errlen)
{
	memset(r, 0, sizeof(*r));
	return kvtext_parse(&nodestatus_refusal_doc, text, len, r, err,
			    errlen);
}

static int nodestatus_refusal_format_any(const void *obj, struct buf *out,
					 char *err, size_t errlen)
{
	return nodestatus_refusal_format(obj, out, err, errlen);
}

int nodestatus_refusal_write(const char *path,
			     const struct nodestatus_refusal *r, char *err,
			     size_t errlen)
{
	return nodestatus_put_file(path, NODESTATUS_REFUSAL_MAX,
				   nodestatus_refusal_format_any, r, err,
				   errlen);
}

/* Read path (at most max bytes) and parse it with parse into obj. */
static int nodestatus_get_file(const char *path, size_t max,
			       int (*parse)(const char *text, size_t len,
					    void *obj, char *err,
					    size_t errlen),
			       void *obj, char *err, size_t errlen)
{
	char why[512], *text;
	size_t len;
	int rc;

	text = util_read_file(path, max, &len, why, sizeof(why));
	if (!text) {
		util_err(err, errlen, "%s", why);
		return -1;
	}
	rc = parse(text, len, obj, why, sizeof(why));
	if (rc < 0)
		util_err(err, errlen, "%s: %s", path, why);
	free(text);
	return rc;
}

static int nodestatus_parse_any(const char *text, size_t len, void *obj,
				char *err, size_t errlen)
{
	return nodestatus_parse(text, len, obj, err, errlen);
}

static int nodestatus_refusal_parse_any(const char *text, size_t len,
					void *obj, char *err, size_t errlen)
{
	return nodestatus_refusal_parse(text, len, obj, err, errlen);
}

int nodestatus_read(const char *path, struct nodestatus *st, char *err,
		    size_t errlen)
{
	memset(st, 0, sizeof(*st));
	return nodestatus_get_file(path, NODESTATUS_MAX, nodestatus_parse_any,
				   st, err, errlen);
}

int nodestatus_refusal_read(const char *path, struct nodestatus_refusal *r,
			    char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	return nodestatus_get_file(path, NODESTATUS_REFUSAL_MAX,
				   nodestatus_refusal_parse_any, r, err,
				   errlen);
}
