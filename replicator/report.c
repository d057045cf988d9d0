/*
 * report.c - the run's report as a table and as JSON; see report.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "report.h"
#include "util.h"

/* "delta 11-12", "full 12", "nothing", ... into buf. */
static const char *report_sent(const struct push_result *r, char *buf,
			       size_t size)
{
	switch (r->action) {
	case PUSH_FULL:
		snprintf(buf, size, "full %" PRIu64, r->serial);
		break;
	case PUSH_DELTA:
		snprintf(buf, size, "delta %" PRIu64 "-%" PRIu64, r->base,
			 r->serial);
		break;
	case PUSH_WAITING:
		snprintf(buf, size, "waiting");
		break;
	case PUSH_NOTHING:
		snprintf(buf, size, "nothing");
		break;
	default:
		snprintf(buf, size, "-");
	}
	return buf;
}

int report_text(FILE *out, const struct report_run *run,
		const struct push_result *res, size_t n)
{
	size_t i, w = 6, nok = 0, nfail = 0;
	char sent[64], node[32];

	for (i = 0; i < n; i++) {
		if (!res[i].target)
			continue;
		if (strlen(res[i].target->name) > w)
			w = strlen(res[i].target->name);
		if (res[i].ok)
			nok++;
		else
			nfail++;
	}
	fprintf(out, "catalog %s serial %" PRIu64 "%s: %zu target%s "
		"current, %zu %s (%.2fs)\n", run->catalog_id, run->serial,
		run->dry_run ? " (dry run)" : "", nok, nok == 1 ? "" : "s",
		nfail, run->dry_run ? "to send" : "failed", run->seconds);
	fprintf(out, "%-*s  %-6s  %-16s  %6s  %12s  %8s  %s\n", (int)w,
		"target", "result", "sent", "node", "bytes", "time", "error");
	for (i = 0; i < n; i++) {
		const struct push_result *r = &res[i];

		if (!r->target)
			continue;
		if (r->node_known && r->node_serial == 0)
			snprintf(node, sizeof(node), "none");
		else if (r->node_known)
			snprintf(node, sizeof(node), "%" PRIu64, r->node_serial);
		else
			snprintf(node, sizeof(node), "?");
		fprintf(out, "%-*s  %-6s  %-16s  %6s  %12" PRIu64 "  %7.2fs"
			"  %s\n", (int)w, r->target->name,
			r->ok ? "ok" : run->dry_run && !r->error[0] ? "send"
								    : "FAILED",
			report_sent(r, sent, sizeof(sent)), node, r->bytes,
			r->seconds, r->error);
	}
	fflush(out);
	return ferror(out) ? -1 : 0;
}

/* Append s as a JSON string (or null). */
static int report_jstr(struct buf *b, const char *s)
{
	const unsigned char *p;
	int rc = 0;

	if (!s)
		return buf_printf(b, "null");
	rc |= buf_append(b, "\"", 1);
	for (p = (const unsigned char *)s; *p && !rc; p++) {
		if (*p == '"' || *p == '\\')
			rc |= buf_printf(b, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			rc |= buf_printf(b, "\\u%04x", *p);
		else
			rc |= buf_append(b, p, 1);
	}
	rc |= buf_append(b, "\"", 1);
	return rc ? -1 : 0;
}

int report_json(const char *path, const struct report_run *run,
		const struct push_result *res, size_t n, char *err,
		size_t errlen)
{
	struct buf b;
	char when[64];
	size_t i, nok = 0, nfail = 0, first = 1;
	int rc = 0;

	for (i = 0; i < n; i++) {
		if (!res[i].target)
			continue;
		if (res[i].ok)
			nok++;
		else
			nfail++;
	}
	buf_init(&b, REPORT_JSON_MAX);
	rc |= buf_printf(&b, "{\"catalog_id\":");
	rc |= report_jstr(&b, run->catalog_id);
	rc |= buf_printf(&b, ",\"serial\":%" PRIu64 ",\"key_id\":",
			 run->serial);
	rc |= report_jstr(&b, run->key_id);
	rc |= buf_printf(&b, ",\"started\":");
	rc |= report_jstr(&b, util_time_iso(run->started, when, sizeof(when)));
	rc |= buf_printf(&b, ",\"seconds\":%.3f,\"dry_run\":%s,"
			 "\"targets_ok\":%zu,\"targets_failed\":%zu,"
			 "\"targets\":[", run->seconds,
			 run->dry_run ? "true" : "false", nok, nfail);
	for (i = 0; i < n && !rc; i++) {
		const struct push_result *r = &res[i];

		if (!r->target)
			continue;
		rc |= buf_printf(&b, "%s\n{\"name\":", first ? "" : ",");
		first = 0;
		rc |= report_jstr(&b, r->target->name);
		rc |= buf_printf(&b, ",\"url\":");
		rc |= report_jstr(&b, r->target->url);
		rc |= buf_printf(&b, ",\"ok\":%s,\"action\":\"%s\","
				 "\"node_serial\":", r->ok ? "true" : "false",
				 push_action_name(r->action));
		if (r->node_known)
			rc |= buf_printf(&b, "%" PRIu64, r->node_serial);
		else
			rc |= buf_printf(&b, "null");
		rc |= buf_printf(&b, ",\"node_expires\":");
		if (r->node_known && r->node_expires > 0)
			rc |= buf_printf(&b, "%lld", (long long)r->node_expires);
		else
			rc |= buf_printf(&b, "null");
		rc |= buf_printf(&b, ",\"node_stale\":%s",
				 r->node_stale ? "true" : "false");
		rc |= buf_printf(&b, ",\"serial\":%" PRIu64 ",\"base\":%"
				 PRIu64 ",\"file\":", r->serial, r->base);
		rc |= report_jstr(&b, r->file[0] ? r->file : NULL);
		rc |= buf_printf(&b, ",\"bytes\":%" PRIu64 ",\"seconds\":%.3f,"
				 "\"attempts\":%d,\"error\":", r->bytes,
				 r->seconds, r->attempts);
		rc |= report_jstr(&b, r->error[0] ? r->error : NULL);
		rc |= buf_printf(&b, "}");
	}
	rc |= buf_printf(&b, "]}\n");
	if (rc) {
		util_err(err, errlen, "report larger than %d bytes",
			 REPORT_JSON_MAX);
		buf_free(&b);
		return -1;
	}
	rc = util_write_file_atomic(path, b.data, b.len, 0640, err, errlen);
	buf_free(&b);
	return rc;
}
