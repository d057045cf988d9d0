/*
 * metrics.h - Prometheus text exposition format (version 0.0.4), written
 * into a bounded struct buf, for `dircat metrics`, catalogd's `metrics`
 * control command and the metrics_file of the aggregator and replicator.
 *
 * A family is opened with metrics_family() (its # HELP and # TYPE lines),
 * then its samples follow; families must not be opened twice.  Metric and
 * label names are the caller's literals ([a-zA-Z_][a-zA-Z0-9_]*); label
 * values are escaped here (backslash, double quote, newline) and bytes
 * that are not valid UTF-8 or are control characters become '?'.  No
 * timestamps are written (node_exporter's textfile collector refuses
 * them).  When the buffer's maximum is reached, m->failed is set and the
 * text is unusable: the caller checks it once at the end.
 *
 * metrics_catalog() writes the dircat_catalog_* families that describe a
 * catalog, the same whether catalogd or the files were asked.
 * metrics_find() reads one sample back from a previous exposition (its
 * series spelt exactly as metrics_series() spells it), bounded by len.
 */
#ifndef DIRCAT_METRICS_H
#define DIRCAT_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "util.h"

#define METRICS_SERIES_MAX 1024	/* name{labels} of one sample, bytes */

struct metrics {
	struct buf *b;
	const char *family;	/* the family open now */
	int failed;		/* a line did not fit: the text is unusable */
};

void metrics_init(struct metrics *m, struct buf *b);

/* "# HELP name help" and "# TYPE name type" (type: "gauge", "counter"). */
void metrics_family(struct metrics *m, const char *name, const char *type,
		    const char *help);

/*
 * The series of a sample of the open family into out: "name" or
 * "name{l1="v1",l2="v2"}"; l1/l2 NULL for none.  Returns out, or NULL
 * when it does not fit (METRICS_SERIES_MAX holds two values of 400 bytes
 * as escaped; a sample whose series does not fit fails the exposition).
 */
char *metrics_series(const char *name, const char *l1, const char *v1,
		     const char *l2, const char *v2, char *out, size_t size);

/* One sample of the open family, with up to two labels. */
void metrics_u64(struct metrics *m, const char *l1, const char *v1,
		 const char *l2, const char *v2, uint64_t v);
void metrics_i64(struct metrics *m, const char *l1, const char *v1,
		 const char *l2, const char *v2, int64_t v);
/* A fractional value (durations), with millisecond precision. */
void metrics_f64(struct metrics *m, const char *l1, const char *v1,
		 const char *l2, const char *v2, double v);

/* A whole family of one unlabelled sample: a gauge, a fractional gauge
 * (durations, timestamps with their fraction) or a counter. */
void metrics_gauge(struct metrics *m, const char *name, const char *help,
		   int64_t v);
void metrics_gauge_f64(struct metrics *m, const char *name,
		       const char *help, double v);
void metrics_counter(struct metrics *m, const char *name, const char *help,
		     uint64_t v);

/*
 * Write the text gathered so far to path atomically (mode 0644, for the
 * textfile collector) and free the buffer, whatever happens.  -1 with
 * err when it overflowed its buffer's limit or could not be written.
 */
int metrics_write_file(struct metrics *m, const char *path, char *err,
		       size_t errlen);

/*
 * What a program run from cron or a timer writes first, as PREFIX_...:
 * last_run_timestamp_seconds, last_run_exit_status (status_help names
 * the statuses), last_run_duration_seconds, and
 * last_success_timestamp_seconds when last_ok > 0.
 */
void metrics_last_run(struct metrics *m, const char *prefix,
		      const char *status_help, int64_t now, int exit_status,
		      double seconds, int64_t last_ok);

/*
 * The dircat_catalog_* families for a catalog: info (id, key id), serial,
 * created, age and expiry (when something is installed), installed,
 * stale, records by kind.  now is the time age is measured at.
 */
void metrics_catalog(struct metrics *m, const struct catalog_info *i,
		     int64_t now, int stale);

/*
 * The integer value of series (as metrics_series() spells it) in an
 * exposition text[0..len): 0 with *v, -1 when absent or not an integer.
 */
int metrics_find(const char *text, size_t len, const char *series,
		 int64_t *v);

#endif
