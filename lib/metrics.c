/*
 * metrics.c - Prometheus text exposition; see metrics.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "metrics.h"
#include "utf8.h"

void metrics_init(struct metrics *m, struct buf *b)
{
	m->b = b;
	m->family = NULL;
	m->failed = 0;
}

void metrics_family(struct metrics *m, const char *name, const char *type,
		    const char *help)
{
	m->family = name;
	if (buf_printf(m->b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
		       type) < 0)
		m->failed = 1;
}

/* Append a label value, escaped, to out[*pos..size); -1 when full. */
static int metrics_put_value(const char *v, char *out, size_t size,
			     size_t *pos)
{
	const unsigned char *p = (const unsigned char *)v;
	size_t n = strlen(v), i = 0;

	while (i < n) {
		char esc[2];
		const unsigned char *src = p + i;
		size_t len = utf8_seq(p + i, n - i, NULL), k;

		if (len == 0 || p[i] < 0x20 || p[i] == 0x7f) {
			/* A newline is escaped; other control bytes and
			 * broken UTF-8 are not worth keeping. */
			if (p[i] == '\n') {
				esc[0] = '\\';
				esc[1] = 'n';
				src = (const unsigned char *)esc;
				len = 2;
			} else {
				esc[0] = '?';
				src = (const unsigned char *)esc;
				len = 1;
			}
			i++;
		} else if (p[i] == '\\' || p[i] == '"') {
			esc[0] = '\\';
			esc[1] = (char)p[i];
			src = (const unsigned char *)esc;
			len = 2;
			i++;
		} else {
			i += len;
		}
		if (*pos + len >= size)
			return -1;
		for (k = 0; k < len; k++)
			out[(*pos)++] = (char)src[k];
	}
	return 0;
}

/* Append a literal; -1 when full. */
static int metrics_put(const char *s, char *out, size_t size, size_t *pos)
{
	size_t n = strlen(s);

	if (*pos + n >= size)
		return -1;
	memcpy(out + *pos, s, n);
	*pos += n;
	return 0;
}

char *metrics_series(const char *name, const char *l1, const char *v1,
		     const char *l2, const char *v2, char *out, size_t size)
{
	size_t pos = 0;

	if (size == 0 || metrics_put(name, out, size, &pos) < 0)
		return NULL;
	if (l1) {
		if (metrics_put("{", out, size, &pos) < 0 ||
		    metrics_put(l1, out, size, &pos) < 0 ||
		    metrics_put("=\"", out, size, &pos) < 0 ||
		    metrics_put_value(v1 ? v1 : "", out, size, &pos) < 0 ||
		    metrics_put("\"", out, size, &pos) < 0)
			return NULL;
		if (l2 &&
		    (metrics_put(",", out, size, &pos) < 0 ||
		     metrics_put(l2, out, size, &pos) < 0 ||
		     metrics_put("=\"", out, size, &pos) < 0 ||
		     metrics_put_value(v2 ? v2 : "", out, size, &pos) < 0 ||
		     metrics_put("\"", out, size, &pos) < 0))
			return NULL;
		if (metrics_put("}", out, size, &pos) < 0)
			return NULL;
	}
	out[pos] = '\0';
	return out;
}

/* The open family's series, or NULL (m->failed set). */
static const char *metrics_open_series(struct metrics *m, const char *l1,
				       const char *v1, const char *l2,
				       const char *v2, char *out, size_t size)
{
	if (!m->family ||
	    !metrics_series(m->family, l1, v1, l2, v2, out, size)) {
		m->failed = 1;
		return NULL;
	}
	return out;
}

void metrics_u64(struct metrics *m, const char *l1, const char *v1,
		 const char *l2, const char *v2, uint64_t v)
{
	char s[METRICS_SERIES_MAX];

	if (metrics_open_series(m, l1, v1, l2, v2, s, sizeof(s)) &&
	    buf_printf(m->b, "%s %" PRIu64 "\n", s, v) < 0)
		m->failed = 1;
}

void metrics_i64(struct metrics *m, const char *l1, const char *v1,
		 const char *l2, const char *v2, int64_t v)
{
	char s[METRICS_SERIES_MAX];

	if (metrics_open_series(m, l1, v1, l2, v2, s, sizeof(s)) &&
	    buf_printf(m->b, "%s %" PRId64 "\n", s, v) < 0)
		m->failed = 1;
}

void metrics_f64(struct metrics *m, const char *l1, const char *v1,
		 const char *l2, const char *v2, double v)
{
	char s[METRICS_SERIES_MAX];

	if (!(v == v))	/* NaN: never produced, but stay well-formed */
		v = 0;
	if (metrics_open_series(m, l1, v1, l2, v2, s, sizeof(s)) &&
	    buf_printf(m->b, "%s %.3f\n", s, v) < 0)
		m->failed = 1;
}

void metrics_gauge(struct metrics *m, const char *name, const char *help,
		   int64_t v)
{
	metrics_family(m, name, "gauge", help);
	metrics_i64(m, NULL, NULL, NULL, NULL, v);
}

void metrics_gauge_f64(struct metrics *m, const char *name,
		       const char *help, double v)
{
	metrics_family(m, name, "gauge", help);
	metrics_f64(m, NULL, NULL, NULL, NULL, v);
}

void metrics_counter(struct metrics *m, const char *name, const char *help,
		     uint64_t v)
{
	metrics_family(m, name, "counter", help);
	metrics_u64(m, NULL, NULL, NULL, NULL, v);
}

int metrics_write_file(struct metrics *m, const char *path, char *err,
		       size_t errlen)
{
	int rc = -1;

	if (m->failed)
		util_err(err, errlen, "%s: metrics larger than %zu bytes", path,
			 m->b->max);
	else
		rc = util_write_file_atomic(path, m->b->data, m->b->len, 0644,
					    err, errlen);
	buf_free(m->b);
	return rc;
}

void metrics_last_run(struct metrics *m, const char *prefix,
		      const char *status_help, int64_t now, int exit_status,
		      double seconds, int64_t last_ok)
{
	char name[METRICS_SERIES_MAX];

	snprintf(name, sizeof(name), "%s_last_run_timestamp_seconds", prefix);
	metrics_gauge(m, name, "When the last run ended (Unix time).", now);
	snprintf(name, sizeof(name), "%s_last_run_exit_status", prefix);
	metrics_gauge(m, name, status_help, exit_status);
	snprintf(name, sizeof(name), "%s_last_run_duration_seconds", prefix);
	metrics_gauge_f64(m, name, "How long the last run took.", seconds);
	if (last_ok > 0) {
		snprintf(name, sizeof(name), "%s_last_success_timestamp_seconds",
			 prefix);
		metrics_gauge(m, name, "When a run last ended with exit status "
			      "0 (Unix time).", last_ok);
	}
}

void metrics_catalog(struct metrics *m, const struct catalog_info *i,
		     int64_t now, int stale)
{
	static const int kinds[] = { CATALOG_PERSON, CATALOG_GROUP,
				     CATALOG_MAILIN, CATALOG_DOMAIN };
	size_t k;

	metrics_family(m, "dircat_catalog_info", "gauge",
		       "The installed catalog's id and signing key id (always 1).");
	metrics_i64(m, "catalog_id", i->id, "key_id", i->key_id, 1);
	metrics_gauge(m, "dircat_catalog_serial",
		      "Serial of the installed catalog; 0 when nothing is "
		      "installed yet.", (int64_t)i->serial);
	if (i->serial > 0) {
		metrics_gauge(m, "dircat_catalog_created_timestamp_seconds",
			      "When the installed serial was made by the "
			      "aggregator (Unix time).", i->created);
		metrics_gauge(m, "dircat_catalog_age_seconds",
			      "Seconds since the installed serial was made.",
			      now - i->created);
		if (i->expires > 0)
			metrics_gauge(m,
				      "dircat_catalog_expires_timestamp_seconds",
				      "When the installed catalog expires "
				      "(Unix time).", i->expires);
	}
	if (i->installed > 0)
		metrics_gauge(m, "dircat_catalog_installed_timestamp_seconds",
			      "When the catalog was last written on this node "
			      "(Unix time).", i->installed);
	metrics_gauge(m, "dircat_catalog_stale",
		      "1 when the installed catalog is past its expiry.",
		      stale ? 1 : 0);
	metrics_family(m, "dircat_catalog_records", "gauge",
		       "Records in the installed catalog, by kind.");
	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		metrics_u64(m, "kind", catalog_kind_name(kinds[k]), NULL, NULL,
			    i->count[kinds[k]]);
}

int metrics_find(const char *text, size_t len, const char *series,
		 int64_t *v)
{
	size_t n = strlen(series), pos = 0;

	while (pos < len) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - line) : len - pos;

		pos += l + 1;
		if (l > n + 1 && l - n - 1 < 32 && !memcmp(line, series, n) &&
		    line[n] == ' ') {
			char num[32];

			memcpy(num, line + n + 1, l - n - 1);
			num[l - n - 1] = '\0';
			return util_parse_int(num, INT64_MIN, INT64_MAX, v);
		}
	}
	return -1;
}
