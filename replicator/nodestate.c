/*
 * nodestate.c - the replicator's per-target state file; see nodestate.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kvtext.h"
#include "nodestate.h"
#include "util.h"

#define NODESTATE_FILE_MAX 8192	/* our own state file, bytes */
#define NODESTATE_LINE_MAX 2048	/* one of its lines (an escaped error) */

static const struct kvtext_field nodestate_fields[] = {
	{ "node_serial", KVTEXT_U64, 0,
	  KVTEXT_FIELD(struct nodestate, node_serial) },
	{ "node_epoch", KVTEXT_U64, 0,
	  KVTEXT_FIELD(struct nodestate, node_epoch) },
	{ "checked_at", KVTEXT_I64, 0,
	  KVTEXT_FIELD(struct nodestate, checked_at) },
	{ "sent_serial", KVTEXT_U64, 0,
	  KVTEXT_FIELD(struct nodestate, sent_serial) },
	{ "sent_base", KVTEXT_U64, 0,
	  KVTEXT_FIELD(struct nodestate, sent_base) },
	{ "sent_bytes", KVTEXT_U64, 0,
	  KVTEXT_FIELD(struct nodestate, sent_bytes) },
	{ "sent_at", KVTEXT_I64, 0, KVTEXT_FIELD(struct nodestate, sent_at) },
	{ "result", KVTEXT_TEXT, 0, KVTEXT_FIELD(struct nodestate, result) },
	{ "error", KVTEXT_TEXT, 0, KVTEXT_FIELD(struct nodestate, error) },
	{ .key = NULL }
};

static const struct kvtext_doc nodestate_doc = {
	"state file", nodestate_fields, NODESTATE_FILE_MAX, NODESTATE_LINE_MAX
};

/* STATE_DIR/NAME.state into path; -1 when too long. */
static int nodestate_path(const char *dir, const char *name, char *path,
			  size_t size, char *err, size_t errlen)
{
	int n = snprintf(path, size, "%s/%s.state", dir, name);

	if (n < 0 || (size_t)n >= size) {
		util_err(err, errlen, "state path for %s too long", name);
		return -1;
	}
	return 0;
}

int nodestate_load(const char *dir, const char *name, struct nodestate *st,
		   char *err, size_t errlen)
{
	char path[4096], why[512], *text;
	size_t len;

	memset(st, 0, sizeof(*st));
	if (nodestate_path(dir, name, path, sizeof(path), err, errlen) < 0)
		return -1;
	if (access(path, F_OK) < 0 && errno == ENOENT)
		return 0;
	text = util_read_file(path, NODESTATE_FILE_MAX, &len, why,
			      sizeof(why));
	if (!text) {
		util_err(err, errlen, "%s", why);
		return -1;
	}
	if (kvtext_parse(&nodestate_doc, text, len, st, why, sizeof(why)) < 0) {
		util_err(err, errlen, "%s: %s", path, why);
		free(text);
		return -1;
	}
	free(text);
	return 1;
}

int nodestate_save(const char *dir, const char *name,
		   const struct nodestate *st, char *err, size_t errlen)
{
	char path[4096], head[512];
	struct buf b;
	int rc, n;

	if (nodestate_path(dir, name, path, sizeof(path), err, errlen) < 0)
		return -1;
	buf_init(&b, NODESTATE_FILE_MAX);
	n = snprintf(head, sizeof(head), "# dircat-replicator: what target "
		     "%s has; rewritten by every run\n", name);
	if (n < 0 || (size_t)n >= sizeof(head) ||
	    buf_append(&b, head, (size_t)n) < 0 ||
	    kvtext_format(&nodestate_doc, &b, st, err, errlen) < 0) {
		util_err(err, errlen, "%s: state too long", path);
		buf_free(&b);
		return -1;
	}
	rc = util_write_file_atomic(path, b.data, b.len, 0640, err, errlen);
	buf_free(&b);
	return rc;
}
