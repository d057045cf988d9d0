/*
 * report.c - the run's report as a table and as JSON; see report.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "json.h"
#include "metrics.h"
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
	size_t i, w = 6, ncur = 0, nsent = 0, nwait = 0, nfail = 0;
	char sent[64], node[32];

	/* Only a node that reported the serial is current: one just sent
	 * it, or waiting to install it, is not yet. */
	for (i = 0; i < n; i++) {
		if (!res[i].target)
			continue;
		if (strlen(res[i].target->name) > w)
			w = strlen(res[i].target->name);
		if (!res[i].ok)
			nfail++;
		else if (res[i].action == PUSH_NOTHING)
			ncur++;
		else if (res[i].action == PUSH_WAITING)
			nwait++;
		else
			nsent++;
	}
	fprintf(out, "catalog %s serial %" PRIu64 "%s: %zu target%s current",
		run->catalog_id, run->serial, run->dry_run ? " (dry run)" : "",
		ncur, ncur == 1 ? "" : "s");
	if (nsent)
		fprintf(out, ", %zu sent it (not installed yet)", nsent);
	if (nwait)
		fprintf(out, ", %zu waiting to install it", nwait);
	fprintf(out, ", %zu %s (%.2fs)\n", nfail,
		run->dry_run ? "to send" : "failed", run->seconds);
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

/* One target's line of the JSON report. */
static void report_json_target(struct json *j, const struct push_result *r)
{
	json_begin_object(j, JSON_INLINE);
	json_key_string(j, "name", r->target->name);
	json_key_string(j, "url", r->target->url);
	json_key(j, "ok");
	json_bool(j, r->ok);
	json_key_string(j, "action", push_action_name(r->action));
	json_key(j, "node_serial");
	if (r->node_known)
		json_uint(j, r->node_serial);
	else
		json_null(j);
	json_key(j, "node_expires");
	if (r->node_known && r->node_expires > 0)
		json_int(j, r->node_expires);
	else
		json_null(j);
	json_key(j, "node_stale");
	json_bool(j, r->node_stale);
	json_key_uint(j, "serial", r->serial);
	json_key_uint(j, "base", r->base);
	json_key_string(j, "file", r->file[0] ? r->file : NULL);
	json_key_uint(j, "bytes", r->bytes);
	json_key(j, "seconds");
	json_fixed(j, r->seconds, 3);
	json_key(j, "attempts");
	json_int(j, r->attempts);
	json_key_string(j, "error", r->error[0] ? r->error : NULL);
	json_end(j);
}

int report_json(const char *path, const struct report_run *run,
		const struct push_result *res, size_t n, char *err,
		size_t errlen)
{
	struct buf b;
	struct json j;
	char when[64];
	size_t i, nok = 0, nfail = 0;
	int rc;

	for (i = 0; i < n; i++) {
		if (!res[i].target)
			continue;
		if (res[i].ok)
			nok++;
		else
			nfail++;
	}
	buf_init(&b, REPORT_JSON_MAX);
	json_init(&j, &b, JSON_COMPACT);
	json_begin_object(&j, JSON_INLINE);
	json_key_string(&j, "catalog_id", run->catalog_id);
	json_key_uint(&j, "serial", run->serial);
	json_key_string(&j, "key_id", run->key_id);
	json_key_string(&j, "started",
	                util_time_iso(run->started, when, sizeof(when)));
	json_key(&j, "seconds");
	json_fixed(&j, run->seconds, 3);
	json_key(&j, "dry_run");
	json_bool(&j, run->dry_run);
	json_key_uint(&j, "targets_ok", nok);
	json_key_uint(&j, "targets_failed", nfail);
	json_key(&j, "targets");
	json_begin_array(&j, JSON_LINES);
	for (i = 0; i < n; i++)
		if (res[i].target)
			report_json_target(&j, &res[i]);
	json_end(&j);
	json_end(&j);
	if (json_finish(&j) < 0 || buf_append(&b, "\n", 1) < 0) {
		util_err(err, errlen, "report larger than %d bytes",
			 REPORT_JSON_MAX);
		buf_free(&b);
		return -1;
	}
	rc = util_write_file_atomic(path, b.data, b.len, 0640, err, errlen);
	buf_free(&b);
	return rc;
}

/* ------------------------------------------------------------ metrics */

#define REPORT_METRICS_MAX (8 * 1024 * 1024)	/* the metrics file, bytes */
#define REPORT_LAST_OK "dircat_replicator_target_last_success_timestamp_seconds"
#define REPORT_FAILURES "dircat_replicator_target_consecutive_failures"

/* The samples of the previous file's carried-over families. */
struct report_prev {
	char *text;
	size_t len;
	struct report_prev_line {
		const char *series;	/* into text, not NUL-terminated */
		size_t len;
		int64_t v;
	} *lines;
	size_t n;
};

/* Index the previous file's REPORT_LAST_OK and REPORT_FAILURES samples
 * and the run's last success (into *run_ok); a missing or unreadable
 * file is an empty one. */
static void report_prev_load(const char *path, struct report_prev *p,
			     int64_t *run_ok)
{
	char err[256], series[METRICS_SERIES_MAX];
	size_t pos = 0, cap = 0;

	memset(p, 0, sizeof(*p));
	*run_ok = 0;
	p->text = util_read_file(path, REPORT_METRICS_MAX, &p->len, err,
				 sizeof(err));
	if (!p->text)
		return;
	if (metrics_series("dircat_replicator_last_success_timestamp_seconds",
			   NULL, NULL, NULL, NULL, series, sizeof(series)) &&
	    (metrics_find(p->text, p->len, series, run_ok) < 0 || *run_ok < 0))
		*run_ok = 0;
	while (pos < p->len) {
		const char *line = p->text + pos;
		const char *nl = memchr(line, '\n', p->len - pos);
		size_t l = nl ? (size_t)(nl - line) : p->len - pos;
		const char *sp;
		char num[32];
		int64_t v;

		pos += l + 1;
		if ((strncmp(line, REPORT_LAST_OK "{",
			     sizeof(REPORT_LAST_OK)) &&
		     strncmp(line, REPORT_FAILURES "{",
			     sizeof(REPORT_FAILURES))) ||
		    !(sp = memchr(line, ' ', l)) ||
		    (size_t)(line + l - sp - 1) >= sizeof(num))
			continue;
		memcpy(num, sp + 1, (size_t)(line + l - sp - 1));
		num[line + l - sp - 1] = '\0';
		if (util_parse_int(num, 0, INT64_MAX, &v) < 0)
			continue;
		if (p->n == cap) {
			cap = cap ? cap * 2 : 64;
			p->lines = xrealloc(p->lines, cap * sizeof(*p->lines));
		}
		p->lines[p->n].series = line;
		p->lines[p->n].len = (size_t)(sp - line);
		p->lines[p->n].v = v;
		p->n++;
	}
}

/* The previous value of family{target="name"}, or 0. */
static int64_t report_prev_get(const struct report_prev *p,
			       const char *family, const char *name)
{
	char series[METRICS_SERIES_MAX];
	size_t i, n;

	if (!metrics_series(family, "target", name, NULL, NULL, series,
			    sizeof(series)))
		return 0;
	n = strlen(series);
	for (i = 0; i < p->n; i++)
		if (p->lines[i].len == n &&
		    !memcmp(p->lines[i].series, series, n))
			return p->lines[i].v;
	return 0;
}

static void report_prev_free(struct report_prev *p)
{
	free(p->lines);
	free(p->text);
}

/* What a finished target's run came to: "current", "sent", "waiting",
 * "failed" (state file words). */
static const char *report_result(const struct push_result *r)
{
	if (!r->ok)
		return "failed";
	if (r->action == PUSH_NOTHING)
		return "current";
	if (r->action == PUSH_WAITING)
		return "waiting";
	return "sent";
}

/* "full", "delta" or "none": what was delivered this run. */
static const char *report_mode(const struct push_result *r)
{
	if (r->ok && r->action == PUSH_FULL)
		return "full";
	if (r->ok && r->action == PUSH_DELTA)
		return "delta";
	return "none";
}

static const char *const report_results[] = { "current", "sent",
					       "waiting", "failed" };
static const char *const report_modes[] = { "none", "delta", "full" };

/* What the metrics say across runs, per target and for the run. */
struct report_tally {
	int64_t *last_ok;	/* when the target last had the serial */
	int64_t *failures;	/* runs in a row it failed */
	int64_t run_ok;		/* when a run last ended well */
	uint64_t counts[4];	/* targets by report_results */
	uint64_t bytes;		/* sent to all targets */
	const struct push_result *any;	/* a target this run served */
};

/* The tally after this run: the previous metrics file's values, moved
 * on by each target this run served (res may be NULL: none). */
static void report_tally(const char *path, const struct repconf *conf,
			 const struct push_result *res, int exit_status,
			 int64_t now, struct report_tally *t)
{
	struct report_prev prev;
	size_t i, k, n = conf->ntargets;

	memset(t, 0, sizeof(*t));
	report_prev_load(path, &prev, &t->run_ok);
	if (exit_status == EX_OK)
		t->run_ok = now;
	t->last_ok = xcalloc(n, sizeof(*t->last_ok));
	t->failures = xcalloc(n, sizeof(*t->failures));
	for (i = 0; i < n; i++) {
		const struct push_result *r = res ? &res[i] : NULL;
		const char *name = conf->targets[i].name;

		t->last_ok[i] = report_prev_get(&prev, REPORT_LAST_OK, name);
		t->failures[i] = report_prev_get(&prev, REPORT_FAILURES, name);
		if (!r || !r->target)
			continue;	/* not served by this run */
		t->any = r;
		t->bytes += r->bytes;
		for (k = 0; k < 4; k++)
			if (!strcmp(report_result(r), report_results[k]))
				t->counts[k]++;
		if (r->ok) {
			t->last_ok[i] = now;
			t->failures[i] = 0;
		} else {
			t->failures[i]++;
		}
	}
	report_prev_free(&prev);
}

/* The families of every target this run served (n results). */
static void report_metrics_served(struct metrics *m,
				  const struct push_result *res, size_t n)
{
	size_t i, k;

	metrics_family(m, "dircat_replicator_target_ok", "gauge",
		       "1 when the last run left the target with the "
		       "catalog's serial: it had it, was sent it, or is "
		       "installing it.");
	for (i = 0; i < n; i++)
		if (res[i].target)
			metrics_u64(m, "target", res[i].target->name, NULL,
				    NULL, res[i].ok ? 1 : 0);
	metrics_family(m, "dircat_replicator_target_current", "gauge",
		       "1 when the node reported the catalog's serial as "
		       "installed at the last run.");
	for (i = 0; i < n; i++)
		if (res[i].target)
			metrics_u64(m, "target", res[i].target->name, NULL,
				    NULL, res[i].node_known &&
					  res[i].node_serial == res[i].serial);
	for (i = 0, k = 0; i < n; i++)
		if (res[i].target && res[i].node_known && k++ == 0)
			metrics_family(m, "dircat_replicator_target_"
				       "node_serial", "gauge",
				       "The serial the node reported (0: "
				       "nothing installed); absent when it "
				       "could not be read.");
	for (i = 0; i < n; i++)
		if (res[i].target && res[i].node_known)
			metrics_u64(m, "target", res[i].target->name, NULL,
				    NULL, res[i].node_serial);
	for (i = 0, k = 0; i < n; i++)
		if (res[i].target && res[i].node_known &&
		    res[i].node_expires > 0 && k++ == 0)
			metrics_family(m, "dircat_replicator_target_"
				       "node_expires_timestamp_seconds",
				       "gauge", "When the node's catalog "
				       "expires, as it reported (Unix time).");
	for (i = 0; i < n; i++)
		if (res[i].target && res[i].node_known &&
		    res[i].node_expires > 0)
			metrics_i64(m, "target", res[i].target->name, NULL,
				    NULL, res[i].node_expires);
	metrics_family(m, "dircat_replicator_target_result", "gauge",
		       "The last run's result for the target (1 for the one "
		       "that applies).");
	for (i = 0; i < n; i++)
		for (k = 0; res[i].target && k < 4; k++)
			metrics_u64(m, "target", res[i].target->name, "result",
				    report_results[k],
				    !strcmp(report_result(&res[i]),
					    report_results[k]));
	metrics_family(m, "dircat_replicator_target_sent", "gauge",
		       "What the last run delivered to the target (1 for the "
		       "one that applies).");
	for (i = 0; i < n; i++)
		for (k = 0; res[i].target && k < 3; k++)
			metrics_u64(m, "target", res[i].target->name, "mode",
				    report_modes[k],
				    !strcmp(report_mode(&res[i]),
					    report_modes[k]));
	metrics_family(m, "dircat_replicator_target_sent_bytes", "gauge",
		       "Bytes uploaded to the target in the last run, all "
		       "attempts together.");
	for (i = 0; i < n; i++)
		if (res[i].target)
			metrics_u64(m, "target", res[i].target->name, NULL,
				    NULL, res[i].bytes);
	metrics_family(m, "dircat_replicator_target_duration_seconds",
		       "gauge", "How long the target took in the last run.");
	for (i = 0; i < n; i++)
		if (res[i].target)
			metrics_f64(m, "target", res[i].target->name, NULL,
				    NULL, res[i].seconds);
	metrics_family(m, "dircat_replicator_target_attempts", "gauge",
		       "Attempts the target took in the last run.");
	for (i = 0; i < n; i++)
		if (res[i].target)
			metrics_i64(m, "target", res[i].target->name, NULL,
				    NULL, res[i].attempts);
}

int report_metrics(const char *path, const struct repconf *conf,
		   const struct push_result *res, int exit_status,
		   double seconds, char *err, size_t errlen)
{
	int64_t now = (int64_t)time(NULL);
	struct report_tally t;
	struct metrics m;
	struct buf b;
	size_t i, k, n = conf->ntargets;

	report_tally(path, conf, res, exit_status, now, &t);
	buf_init(&b, REPORT_METRICS_MAX);
	metrics_init(&m, &b);
	metrics_last_run(&m, "dircat_replicator",
			 "Exit status of the last run: 0 ok, 66 no catalog, 69 "
			 "a target not current, 73 local failure, 78 "
			 "configuration.", now, exit_status, seconds, t.run_ok);
	metrics_gauge(&m, "dircat_replicator_targets_configured",
		      "Targets in the configuration.", (int64_t)n);
	if (t.any) {
		metrics_gauge(&m, "dircat_replicator_catalog_serial",
			      "The catalog serial the last run brought the "
			      "targets to.", (int64_t)t.any->serial);
		metrics_family(&m, "dircat_replicator_targets", "gauge",
			       "Targets by result of the last run: current "
			       "(had the serial), sent, waiting (delivered "
			       "earlier, not installed yet), failed.");
		for (k = 0; k < 4; k++)
			metrics_u64(&m, "result", report_results[k], NULL,
				    NULL, t.counts[k]);
		metrics_family(&m, "dircat_replicator_sent_bytes", "gauge",
			       "Bytes uploaded to all targets in the last run.");
		metrics_u64(&m, NULL, NULL, NULL, NULL, t.bytes);
	}
	for (i = 0, k = 0; i < n; i++)
		if (t.last_ok[i] > 0 && k++ == 0)
			metrics_family(&m, REPORT_LAST_OK, "gauge",
				       "When the target last had, or was sent, "
				       "the catalog's serial (Unix time).");
	for (i = 0; i < n; i++)
		if (t.last_ok[i] > 0)
			metrics_i64(&m, "target", conf->targets[i].name, NULL,
				    NULL, t.last_ok[i]);
	metrics_family(&m, REPORT_FAILURES, "gauge",
		       "Runs in a row in which the target failed (0 after a "
		       "success).");
	for (i = 0; i < n; i++)
		metrics_i64(&m, "target", conf->targets[i].name, NULL, NULL,
			    t.failures[i]);
	free(t.last_ok);
	free(t.failures);
	if (t.any)
		report_metrics_served(&m, res, n);
	return metrics_write_file(&m, path, err, errlen);
}
