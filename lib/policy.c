/*
 * policy.c - Postfix policy delegation requests; see policy.h.
 */
#include <string.h>

#include "policy.h"
#include "util.h"

/* Attribute names: what Postfix sends is [a-z_] plus digits. */
static int policy_name_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > POLICY_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-' ||
		      c == '.'))
			return 0;
	}
	return 1;
}

/* Find the end of the request: the '\n' that ends an empty line.
 * Returns its offset + 1, or 0 when not there yet; *scan advances to
 * the start of the last incomplete line. */
static size_t policy_find_end(const char *buf, size_t len, size_t *scan)
{
	size_t pos = *scan;

	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t linelen;

		if (!nl)
			break;
		linelen = (size_t)(nl - (buf + pos));
		if (linelen == 0 || (linelen == 1 && buf[pos] == '\r'))
			return (size_t)(nl - buf) + 1;
		pos = (size_t)(nl - buf) + 1;
	}
	*scan = pos;
	return 0;
}

/* Point the matching well-known field at value. */
static void policy_known(struct policy_request *req, const char *name,
			const char *value)
{
	static const struct {
		const char *name;
		size_t off;
	} known[] = {
		{ "request", offsetof(struct policy_request, request) },
		{ "protocol_state",
		  offsetof(struct policy_request, protocol_state) },
		{ "sender", offsetof(struct policy_request, sender) },
		{ "recipient", offsetof(struct policy_request, recipient) },
		{ "sasl_username",
		  offsetof(struct policy_request, sasl_username) },
		{ "client_address",
		  offsetof(struct policy_request, client_address) },
		{ "queue_id", offsetof(struct policy_request, queue_id) },
	};
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(name, known[i].name)) {
			const char **field =
				(const char **)((char *)req + known[i].off);

			*field = value;
			return;
		}
}

int policy_parse(char *buf, size_t len, size_t max, size_t *scan,
		 struct policy_request *req, size_t *used,
		 char *err, size_t errlen)
{
	size_t end, pos = 0, i;

	end = policy_find_end(buf, len, scan);
	if (end == 0) {
		if (len >= max) {
			util_err(err, errlen, "request longer than %zu bytes",
				 max);
			return POLICY_ERROR;
		}
		return POLICY_MORE;
	}
	if (end > max) {
		util_err(err, errlen, "request longer than %zu bytes", max);
		return POLICY_ERROR;
	}
	if (memchr(buf, '\0', end)) {
		util_err(err, errlen, "NUL byte in request");
		return POLICY_ERROR;
	}
	req->nattr = 0;
	req->request = req->protocol_state = req->sender = "";
	req->recipient = req->sasl_username = req->client_address = "";
	req->queue_id = "";
	for (;;) {
		char *line = buf + pos, *nl, *eq;
		size_t linelen;

		nl = memchr(line, '\n', end - pos);	/* found: end holds one */
		linelen = (size_t)(nl - line);
		pos += linelen + 1;
		if (linelen && line[linelen - 1] == '\r')
			linelen--;
		if (linelen == 0)
			break;
		line[linelen] = '\0';
		eq = memchr(line, '=', linelen);
		if (!eq) {
			util_err(err, errlen, "line %zu has no '='",
				 req->nattr + 1);
			return POLICY_ERROR;
		}
		if (!policy_name_ok(line, (size_t)(eq - line))) {
			util_err(err, errlen, "bad attribute name on line %zu",
				 req->nattr + 1);
			return POLICY_ERROR;
		}
		*eq = '\0';
		for (i = 0; i < req->nattr; i++)
			if (!strcmp(req->attr[i].name, line)) {
				util_err(err, errlen,
					 "attribute %s given twice", line);
				return POLICY_ERROR;
			}
		if (req->nattr == POLICY_ATTRS_MAX) {
			util_err(err, errlen, "more than %d attributes",
				 POLICY_ATTRS_MAX);
			return POLICY_ERROR;
		}
		req->attr[req->nattr].name = line;
		req->attr[req->nattr].value = eq + 1;
		req->nattr++;
		policy_known(req, line, eq + 1);
	}
	if (req->nattr == 0) {
		util_err(err, errlen, "empty request");
		return POLICY_ERROR;
	}
	*used = end;
	*scan = 0;
	return POLICY_DONE;
}

const char *policy_get(const struct policy_request *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->nattr; i++)
		if (!strcmp(req->attr[i].name, name))
			return req->attr[i].value;
	return NULL;
}
