/*
 * report.c - text and JSON run reports; see report.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "json.h"
#include "log.h"
#include "metrics.h"
#include "report.h"
#include "util.h"

#define REPORT_JSON_MAX (4 * 1024 * 1024)

static const char *const report_reason_names[REPORT_REASONS] = {
	"invalid_address", "foreign_domain"
};

void report_init(struct report *r, const char *catalog_id, size_t nsrc,
		 int dry)
{
	memset(r, 0, sizeof(*r));
	r->catalog_id = catalog_id;
	r->dry = dry;
	r->nsrc = nsrc;
	r->src = xcalloc(nsrc, sizeof(*r->src));
}

void report_left_out(struct report *r, enum report_reason why_code,
		     const char *what, size_t len, const char *dn,
		     const char *why)
{
	uint64_t n = r->left[why_code]++;
	struct report_sample *s;
	char q[LOG_QUOTE_SIZE];

	if (n >= REPORT_SAMPLES)
		return;
	s = &r->samples[why_code][n];
	s->what = xstrdup(log_quote(what, len, q, sizeof(q)));
	s->dn = xstrdup(dn);
	s->why = why ? xstrdup(why) : NULL;
}

void report_owner_dns(struct report *r, uint64_t dns, uint64_t resolved,
		      uint64_t first_rdn, uint64_t unresolved)
{
	r->owner_dns = dns;
	r->owner_dns_resolved = resolved;
	r->owner_dns_first_rdn = first_rdn;
	r->owner_dns_unresolved = unresolved;
}

void report_owner_unresolved(struct report *r, const char *owner_dn,
			     const char *dn, const char *why)
{
	struct report_sample *s;
	char q[LOG_QUOTE_SIZE];
	size_t i;

	for (i = 0; i < REPORT_SAMPLES && r->owner_samples[i].what; i++)
		;
	if (i == REPORT_SAMPLES)
		return;
	s = &r->owner_samples[i];
	s->what = xstrdup(log_quote(owner_dn, strlen(owner_dn), q, sizeof(q)));
	s->dn = xstrdup(dn);
	s->why = why ? xstrdup(why) : NULL;
}

void report_diff(struct report *r, const struct catalog_diff *d,
		 uint64_t addresses_before)
{
	r->have_diff = 1;
	r->diff = *d;
	r->addresses_before = addresses_before;
}

void report_conflicts(struct report *r, const struct collect *c)
{
	r->col = c;
	r->conflicts = collect_conflicts(c);
}

void report_text(const struct report *r, FILE *f)
{
	size_t i, k;
	uint64_t entries = 0;

	for (i = 0; i < r->nsrc; i++) {
		const struct report_source *s = &r->src[i];

		entries += s->entries;
		fprintf(f, "source %s: %llu entries in %.2fs (%llu pages, "
			"%llu references not followed)\n", s->name,
			(unsigned long long)s->entries, s->seconds,
			(unsigned long long)s->pages,
			(unsigned long long)s->references);
	}
	fprintf(f, "selected: %llu persons, %llu groups, %llu mail-in\n",
		(unsigned long long)r->selected[CATALOG_PERSON],
		(unsigned long long)r->selected[CATALOG_GROUP],
		(unsigned long long)r->selected[CATALOG_MAILIN]);
	fprintf(f, "left out: %llu not selected, %llu of no kind, "
		"%llu without a usable address\n",
		(unsigned long long)r->left_not_selected,
		(unsigned long long)r->left_no_kind,
		(unsigned long long)r->left_no_address);
	for (k = 0; k < REPORT_REASONS; k++) {
		if (!r->left[k])
			continue;
		fprintf(f, "addresses left out (%s): %llu\n",
			report_reason_names[k], (unsigned long long)r->left[k]);
		for (i = 0; i < REPORT_SAMPLES && i < r->left[k]; i++)
			fprintf(f, "  %s (%s)%s%s\n", r->samples[k][i].what,
				r->samples[k][i].dn,
				r->samples[k][i].why ? ": " : "",
				r->samples[k][i].why ? r->samples[k][i].why : "");
	}
	if (r->owner_dns)
		fprintf(f, "owner DNs: %llu (%llu resolved to the logins of "
			"entries read, %llu to their first RDN value, %llu not "
			"resolved)\n", (unsigned long long)r->owner_dns,
			(unsigned long long)r->owner_dns_resolved,
			(unsigned long long)r->owner_dns_first_rdn,
			(unsigned long long)r->owner_dns_unresolved);
	if (r->owner_dns_unresolved) {
		fprintf(f, "owner DNs not resolved: %llu\n",
			(unsigned long long)r->owner_dns_unresolved);
		for (i = 0; i < REPORT_SAMPLES && r->owner_samples[i].what; i++)
			fprintf(f, "  %s (%s)%s%s\n", r->owner_samples[i].what,
				r->owner_samples[i].dn,
				r->owner_samples[i].why ? ": " : "",
				r->owner_samples[i].why ?
				r->owner_samples[i].why : "");
	}
	if (r->conflicts) {
		fprintf(f, "addresses claimed twice: %llu\n",
			(unsigned long long)r->conflicts);
		for (i = 0; r->col && i < collect_conflicts_kept(r->col) &&
			    i < 20; i++) {
			const struct collect_conflict *c =
				collect_conflict(r->col, i);

			fprintf(f, "  %s: kept %s (%s %s), left out %s (%s %s)\n",
				c->key, c->winner_dn,
				r->src[c->winner_src].name,
				catalog_kind_name(c->winner_kind), c->loser_dn,
				r->src[c->loser_src].name,
				catalog_kind_name(c->loser_kind));
		}
	}
	if (r->have_diff) {
		const struct catalog_diff *d = &r->diff;

		fprintf(f, "addresses: %llu (%llu persons, %llu groups, "
			"%llu mail-in), before %llu\n",
			(unsigned long long)(d->records - d->count[CATALOG_DOMAIN]),
			(unsigned long long)d->count[CATALOG_PERSON],
			(unsigned long long)d->count[CATALOG_GROUP],
			(unsigned long long)d->count[CATALOG_MAILIN],
			(unsigned long long)r->addresses_before);
		fprintf(f, "changes: +%llu -%llu ~%llu (%llu unchanged)\n",
			(unsigned long long)d->added,
			(unsigned long long)d->removed,
			(unsigned long long)d->changed,
			(unsigned long long)d->unchanged);
	}
	if (r->error)
		fprintf(f, "failed: %s\n", r->error);
	else if (r->refused && !r->dry)
		fprintf(f, "refused: %s\n", r->refused);
	else if (!r->dry && r->serial_after != r->serial_before)
		fprintf(f, "catalog %s: serial %llu -> %llu\n", r->catalog_id,
			(unsigned long long)r->serial_before,
			(unsigned long long)r->serial_after);
	else if (!r->dry)
		fprintf(f, "catalog %s: unchanged at serial %llu\n",
			r->catalog_id, (unsigned long long)r->serial_before);
	fprintf(f, "%llu entries read in %.2fs\n", (unsigned long long)entries,
		r->seconds);
}

/* The sources: their counts, one a line. */
static void report_json_sources(struct json *j, const struct report *r)
{
	size_t i;

	json_key(j, "sources");
	json_begin_array(j, JSON_LINES | JSON_INDENT);
	for (i = 0; i < r->nsrc; i++) {
		const struct report_source *s = &r->src[i];

		json_begin_object(j, JSON_INLINE);
		json_key_string(j, "name", s->name);
		json_key_uint(j, "entries", s->entries);
		json_key_uint(j, "pages", s->pages);
		json_key_uint(j, "references", s->references);
		json_key(j, "seconds");
		json_fixed(j, s->seconds, 3);
		json_key_uint(j, "person", s->selected[CATALOG_PERSON]);
		json_key_uint(j, "group", s->selected[CATALOG_GROUP]);
		json_key_uint(j, "mailin", s->selected[CATALOG_MAILIN]);
		json_end(j);
	}
	json_end(j);
}

/* Counts of entries and addresses left out, with samples. */
static void report_json_left_out(struct json *j, const struct report *r)
{
	size_t i, k;

	json_key(j, "selected");
	json_begin_object(j, JSON_INLINE);
	json_key_uint(j, "person", r->selected[CATALOG_PERSON]);
	json_key_uint(j, "group", r->selected[CATALOG_GROUP]);
	json_key_uint(j, "mailin", r->selected[CATALOG_MAILIN]);
	json_end(j);
	json_key(j, "left_out");
	json_begin_object(j, JSON_INLINE);
	json_key_uint(j, "not_selected", r->left_not_selected);
	json_key_uint(j, "no_kind", r->left_no_kind);
	json_key_uint(j, "no_address", r->left_no_address);
	for (k = 0; k < REPORT_REASONS; k++) {
		json_key_uint(j, report_reason_names[k], r->left[k]);
	}
	json_end(j);
	json_key(j, "left_out_samples");
	json_begin_array(j, JSON_LINES | JSON_INDENT);
	for (k = 0; k < REPORT_REASONS; k++)
		for (i = 0; i < REPORT_SAMPLES && i < r->left[k]; i++) {
			json_begin_object(j, JSON_INLINE);
			json_key_string(j, "reason", report_reason_names[k]);
			json_key_string(j, "address", r->samples[k][i].what);
			json_key_string(j, "dn", r->samples[k][i].dn);
			if (r->samples[k][i].why) {
				json_key_string(j, "why",
				                r->samples[k][i].why);
			}
			json_end(j);
		}
	json_end(j);
}

/* Owner DNs: how many were resolved, and samples of those that were not. */
static void report_json_owners(struct json *j, const struct report *r)
{
	size_t i;

	json_key(j, "owner_dns");
	json_begin_object(j, JSON_INLINE);
	json_key_uint(j, "total", r->owner_dns);
	json_key_uint(j, "resolved", r->owner_dns_resolved);
	json_key_uint(j, "first_rdn", r->owner_dns_first_rdn);
	json_key_uint(j, "not_resolved", r->owner_dns_unresolved);
	json_end(j);
	json_key_uint(j, "owner_dns_not_resolved", r->owner_dns_unresolved);
	json_key(j, "owner_dn_samples");
	json_begin_array(j, JSON_LINES | JSON_INDENT);
	for (i = 0; i < REPORT_SAMPLES && r->owner_samples[i].what; i++) {
		json_begin_object(j, JSON_INLINE);
		json_key_string(j, "owner_dn", r->owner_samples[i].what);
		json_key_string(j, "dn", r->owner_samples[i].dn);
		if (r->owner_samples[i].why) {
			json_key_string(j, "why", r->owner_samples[i].why);
		}
		json_end(j);
	}
	json_end(j);
}

/* Addresses two entries claimed: which one kept it. */
static void report_json_conflicts(struct json *j, const struct report *r)
{
	size_t i;

	json_key_uint(j, "conflicts", r->conflicts);
	json_key(j, "conflict_samples");
	json_begin_array(j, JSON_LINES | JSON_INDENT);
	for (i = 0; r->col && i < collect_conflicts_kept(r->col); i++) {
		const struct collect_conflict *c = collect_conflict(r->col, i);

		json_begin_object(j, JSON_INLINE);
		json_key_string(j, "address", c->key);
		json_key_string(j, "kept", c->winner_dn);
		json_key_string(j, "kept_source", r->src[c->winner_src].name);
		json_key_string(j, "kept_kind",
		                catalog_kind_name(c->winner_kind));
		json_key_string(j, "left_out", c->loser_dn);
		json_key_string(j, "left_out_source",
		                r->src[c->loser_src].name);
		json_key_string(j, "left_out_kind",
		                catalog_kind_name(c->loser_kind));
		json_end(j);
	}
	json_end(j);
}

int report_json_write(const struct report *r, const char *path, char *err,
		      size_t errlen)
{
	struct buf b;
	struct json j;
	char when[32];
	int rc;

	buf_init(&b, REPORT_JSON_MAX);
	json_init(&j, &b, JSON_SPACED);
	json_begin_object(&j, JSON_LINES | JSON_INDENT);
	json_key_string(&j, "catalog_id", r->catalog_id);
	json_key_string(&j, "time",
	                util_time_iso(time(NULL), when, sizeof(when)));
	json_key(&j, "dry_run");
	json_bool(&j, r->dry);
	json_key(&j, "seconds");
	json_fixed(&j, r->seconds, 3);
	json_key(&j, "result");
	json_string(&j, r->error ? "failed" : r->refused && !r->dry ?
		    "refused" : r->serial_after != r->serial_before ?
		    "published" : "unchanged");
	if (r->error) {
		json_key_string(&j, "error", r->error);
	}
	if (r->refused) {
		json_key_string(&j, "refused", r->refused);
	}
	if (r->forced) {
		json_key_string(&j, "forced", r->forced);
	}
	json_key_uint(&j, "serial_before", r->serial_before);
	json_key_uint(&j, "serial_after", r->serial_after);
	report_json_sources(&j, r);
	report_json_left_out(&j, r);
	report_json_owners(&j, r);
	report_json_conflicts(&j, r);
	if (r->have_diff) {
		const struct catalog_diff *d = &r->diff;

		json_key_uint(&j, "addresses",
		              d->records - d->count[CATALOG_DOMAIN]);
		json_key_uint(&j, "addresses_before", r->addresses_before);
		json_key_uint(&j, "added", d->added);
		json_key_uint(&j, "removed", d->removed);
		json_key_uint(&j, "changed", d->changed);
		json_key_uint(&j, "unchanged", d->unchanged);
	}
	json_end(&j);
	if (json_finish(&j) < 0 || buf_append(&b, "\n", 1) < 0) {
		util_err(err, errlen, "%s: report larger than %d bytes", path,
			 REPORT_JSON_MAX);
		buf_free(&b);
		return -1;
	}
	rc = util_write_file_atomic(path, b.data, b.len, 0640, err, errlen);
	buf_free(&b);
	return rc;
}

void report_free(struct report *r)
{
	size_t k, i;

	for (k = 0; k < REPORT_REASONS; k++)
		for (i = 0; i < REPORT_SAMPLES; i++) {
			free(r->samples[k][i].what);
			free(r->samples[k][i].dn);
			free(r->samples[k][i].why);
		}
	for (i = 0; i < REPORT_SAMPLES; i++) {
		free(r->owner_samples[i].what);
		free(r->owner_samples[i].dn);
		free(r->owner_samples[i].why);
	}
	free(r->src);
	free(r->error);
	r->src = NULL;
}

/* ------------------------------------------------------------ metrics */

#define REPORT_METRICS_MAX (1024 * 1024)	/* the metrics file, bytes */

/* The last success time in the file's previous version, or 0. */
static int64_t report_last_success(const char *path)
{
	char err[256], series[METRICS_SERIES_MAX], *text;
	size_t len;
	int64_t v = 0;

	text = util_read_file(path, REPORT_METRICS_MAX, &len, err,
			      sizeof(err));
	if (!text)
		return 0;
	if (!metrics_series("dircat_aggregator_last_success_timestamp_seconds",
			    NULL, NULL, NULL, NULL, series, sizeof(series)) ||
	    metrics_find(text, len, series, &v) < 0 || v < 0)
		v = 0;
	free(text);
	return v;
}

int report_metrics_write(const struct report *r, const char *path,
			 const char *catalog_path, int exit_status,
			 size_t nread, double seconds, char *err,
			 size_t errlen)
{
	static const int kinds[] = { CATALOG_PERSON, CATALOG_GROUP,
				     CATALOG_MAILIN, CATALOG_DOMAIN };
	int64_t now = (int64_t)time(NULL);
	int64_t last_ok = exit_status == EX_OK ? now
					       : report_last_success(path);
	struct catalog_info ci;
	struct catalog *cat;
	struct metrics m;
	struct buf b;
	char cerr[512];
	size_t i;
	int have_cat = 0;

	cat = catalog_open(catalog_path, CATALOG_RDONLY, cerr, sizeof(cerr));
	if (cat && catalog_info(cat, &ci, cerr, sizeof(cerr)) == 0)
		have_cat = 1;
	catalog_close(cat);

	buf_init(&b, REPORT_METRICS_MAX);
	metrics_init(&m, &b);
	metrics_last_run(&m, "dircat_aggregator",
			 "Exit status of the last run: 0 ok, 65 refused by a "
			 "safety gate, 69 a source failed, 73 local write "
			 "failure, 78 configuration.", now, exit_status,
			 seconds, last_ok);
	metrics_gauge(&m, "dircat_aggregator_safety_gate_refused",
		      "1 when the last run was refused by a safety gate "
		      "(min_records, max_shrink) or by duplicates = fail.",
		      exit_status == EX_DATAERR ? 1 : 0);
	if (have_cat) {
		metrics_gauge(&m, "dircat_aggregator_catalog_serial",
			      "Serial of the catalog after the last run; 0 when "
			      "nothing was ever written.", (int64_t)ci.serial);
		if (ci.serial > 0)
			metrics_gauge(&m, "dircat_aggregator_catalog_created_"
				      "timestamp_seconds", "When the catalog's "
				      "serial was made (Unix time).",
				      ci.created);
		metrics_family(&m, "dircat_aggregator_catalog_records",
			       "gauge", "Records in the catalog after the last "
			       "run, by kind (domain: the local domains).");
		for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
			metrics_u64(&m, "kind", catalog_kind_name(kinds[i]),
				    NULL, NULL, ci.count[kinds[i]]);
	}
	metrics_family(&m, "dircat_aggregator_last_run_changes", "gauge",
		       "Addresses the last run found added, removed or "
		       "changed (written unless the run was refused; 0 when "
		       "it did not get that far).");
	metrics_u64(&m, "change", "added", NULL, NULL,
		    r->have_diff ? r->diff.added : 0);
	metrics_u64(&m, "change", "removed", NULL, NULL,
		    r->have_diff ? r->diff.removed : 0);
	metrics_u64(&m, "change", "changed", NULL, NULL,
		    r->have_diff ? r->diff.changed : 0);
	metrics_family(&m, "dircat_aggregator_last_run_left_out", "gauge",
		       "Entries (not_selected, no_kind, no_address) and "
		       "addresses (invalid_address, foreign_domain) the last "
		       "run left out.");
	metrics_u64(&m, "reason", "not_selected", NULL, NULL,
		    r->left_not_selected);
	metrics_u64(&m, "reason", "no_kind", NULL, NULL, r->left_no_kind);
	metrics_u64(&m, "reason", "no_address", NULL, NULL,
		    r->left_no_address);
	for (i = 0; i < REPORT_REASONS; i++)
		metrics_u64(&m, "reason", report_reason_names[i], NULL, NULL,
			    r->left[i]);
	metrics_family(&m, "dircat_aggregator_last_run_conflicts", "gauge",
		       "Addresses claimed by two entries in the last run.");
	metrics_u64(&m, NULL, NULL, NULL, NULL, r->conflicts);
	metrics_family(&m, "dircat_aggregator_source_ok", "gauge",
		       "1 when the source was read completely in the last run "
		       "(0: it failed, or an earlier one did).");
	for (i = 0; i < r->nsrc; i++)
		metrics_u64(&m, "source", r->src[i].name, NULL, NULL,
			    i < nread ? 1 : 0);
	metrics_family(&m, "dircat_aggregator_source_entries", "gauge",
		       "Entries the source returned in the last run.");
	for (i = 0; i < r->nsrc; i++)
		metrics_u64(&m, "source", r->src[i].name, NULL, NULL,
			    r->src[i].entries);
	metrics_family(&m, "dircat_aggregator_source_duration_seconds",
		       "gauge", "How long reading the source took in the last "
		       "run (0 when it was not read completely).");
	for (i = 0; i < r->nsrc; i++)
		metrics_f64(&m, "source", r->src[i].name, NULL, NULL,
			    i < nread ? r->src[i].seconds : 0);
	return metrics_write_file(&m, path, err, errlen);
}
