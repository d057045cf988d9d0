/*
 * nodestate.c - a node's status file and the replicator's per-target
 * state; see nodestate.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "nodestate.h"
#include "util.h"

#define NODESTATE_FILE_MAX 8192	/* our own state file, bytes */

/*
 * Call fn for each "key=value" line of text[0..len).  Blank lines and
 * '#' comments are skipped; a line without '=' or longer than
 * NODESTATE_LINE_MAX is an error.  Returns 0, fn's first non-zero value,
 * or -1 with err.
 */
static int nodestate_lines(const char *text, size_t len,
			   int (*fn)(void *arg, const char *key,
				     const char *value, char *err,
				     size_t errlen),
			   void *arg, char *err, size_t errlen)
{
	char line[NODESTATE_LINE_MAX + 1], q[LOG_QUOTE_SIZE];
	size_t pos = 0, n;
	int lineno = 0, rc;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		char *eq;

		n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		lineno++;
		if (n > NODESTATE_LINE_MAX) {
			util_err(err, errlen, "line %d longer than %d bytes",
				 lineno, NODESTATE_LINE_MAX);
			return -1;
		}
		memcpy(line, text + pos, n);
		line[n] = '\0';
		pos += n + (nl ? 1 : 0);
		if (n && line[n - 1] == '\r')
			line[--n] = '\0';
		if (n == 0 || line[0] == '#')
			continue;
		if (memchr(line, '\0', n)) {
			util_err(err, errlen, "line %d holds a NUL byte",
				 lineno);
			return -1;
		}
		eq = strchr(line, '=');
		if (!eq) {
			util_err(err, errlen, "line %d: expected key=value, "
				 "got '%s'", lineno,
				 log_quote(line, n, q, sizeof(q)));
			return -1;
		}
		*eq = '\0';
		rc = fn(arg, line, eq + 1, err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}

/* A non-negative decimal number, or -1 with err naming key. */
static int nodestate_u64(const char *key, const char *value, uint64_t *out,
			 char *err, size_t errlen)
{
	int64_t v = 0;
	char q[LOG_QUOTE_SIZE];

	if (util_parse_int(value, 0, INT64_MAX, &v) < 0) {
		util_err(err, errlen, "%s: not a number: '%s'", key,
			 log_quote(value, strlen(value), q, sizeof(q)));
		return -1;
	}
	*out = (uint64_t)v;
	return 0;
}

static int nodestate_i64(const char *key, const char *value, int64_t *out,
			 char *err, size_t errlen)
{
	uint64_t v = 0;

	if (nodestate_u64(key, value, &v, err, errlen) < 0)
		return -1;
	*out = (int64_t)v;
	return 0;
}

struct nodestate_status_parse {
	struct nodestate_status *st;
	int have_serial;
};

static int nodestate_status_line(void *arg, const char *key,
				 const char *value, char *err, size_t errlen)
{
	struct nodestate_status_parse *p = arg;
	struct nodestate_status *st = p->st;
	char q[LOG_QUOTE_SIZE];

	if (!strcmp(key, "catalog_id")) {
		if (*value && !catalog_id_valid(value)) {
			util_err(err, errlen, "catalog_id: not a catalog id: "
				 "'%s'", log_quote(value, strlen(value), q,
						   sizeof(q)));
			return -1;
		}
		util_strlcpy(st->catalog_id, value, sizeof(st->catalog_id));
	} else if (!strcmp(key, "serial")) {
		p->have_serial = 1;
		return nodestate_u64(key, value, &st->serial, err, errlen);
	} else if (!strcmp(key, "created")) {
		return nodestate_i64(key, value, &st->created, err, errlen);
	} else if (!strcmp(key, "expires")) {
		return nodestate_i64(key, value, &st->expires, err, errlen);
	} else if (!strcmp(key, "installed")) {
		return nodestate_i64(key, value, &st->installed, err, errlen);
	} else if (!strcmp(key, "stale")) {
		st->stale = !strcmp(value, "yes");
	}
	/* Other keys are for people and later versions. */
	return 0;
}

int nodestate_parse_status(const char *text, size_t len,
			   struct nodestate_status *st, char *err,
			   size_t errlen)
{
	struct nodestate_status_parse p;
	char why[512];

	memset(st, 0, sizeof(*st));
	if (len > NODESTATE_STATUS_MAX) {
		util_err(err, errlen, "status file larger than %d bytes",
			 NODESTATE_STATUS_MAX);
		return -1;
	}
	p.st = st;
	p.have_serial = 0;
	if (nodestate_lines(text, len, nodestate_status_line, &p, why,
			    sizeof(why)) != 0) {
		util_err(err, errlen, "status file: %s", why);
		return -1;
	}
	if (!p.have_serial) {
		util_err(err, errlen, "status file: no serial= line");
		return -1;
	}
	return 0;
}

static int nodestate_state_line(void *arg, const char *key,
				const char *value, char *err, size_t errlen)
{
	struct nodestate *st = arg;

	if (!strcmp(key, "node_serial"))
		return nodestate_u64(key, value, &st->node_serial, err, errlen);
	if (!strcmp(key, "checked_at"))
		return nodestate_i64(key, value, &st->checked_at, err, errlen);
	if (!strcmp(key, "sent_serial"))
		return nodestate_u64(key, value, &st->sent_serial, err, errlen);
	if (!strcmp(key, "sent_base"))
		return nodestate_u64(key, value, &st->sent_base, err, errlen);
	if (!strcmp(key, "sent_bytes"))
		return nodestate_u64(key, value, &st->sent_bytes, err, errlen);
	if (!strcmp(key, "sent_at"))
		return nodestate_i64(key, value, &st->sent_at, err, errlen);
	if (!strcmp(key, "result"))
		util_strlcpy(st->result, value, sizeof(st->result));
	else if (!strcmp(key, "error"))
		util_strlcpy(st->error, value, sizeof(st->error));
	return 0;
}

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
	if (nodestate_lines(text, len, nodestate_state_line, st, why,
			    sizeof(why)) != 0) {
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
	char path[4096], error[NODESTATE_ERROR_MAX];
	struct buf b;
	size_t i;
	int rc;

	if (nodestate_path(dir, name, path, sizeof(path), err, errlen) < 0)
		return -1;
	/* One line per value: no newlines inside the error text. */
	util_strlcpy(error, st->error, sizeof(error));
	for (i = 0; error[i]; i++)
		if (error[i] == '\n' || error[i] == '\r')
			error[i] = ' ';
	buf_init(&b, NODESTATE_FILE_MAX);
	rc = buf_printf(&b, "# dircat-replicator: what target %s has; "
			"rewritten by every run\n"
			"node_serial=%llu\nchecked_at=%lld\n"
			"sent_serial=%llu\nsent_base=%llu\nsent_bytes=%llu\n"
			"sent_at=%lld\nresult=%s\nerror=%s\n", name,
			(unsigned long long)st->node_serial,
			(long long)st->checked_at,
			(unsigned long long)st->sent_serial,
			(unsigned long long)st->sent_base,
			(unsigned long long)st->sent_bytes,
			(long long)st->sent_at, st->result, error);
	if (rc < 0) {
		util_err(err, errlen, "%s: state too long", path);
		buf_free(&b);
		return -1;
	}
	rc = util_write_file_atomic(path, b.data, b.len, 0640, err, errlen);
	buf_free(&b);
	return rc;
}
