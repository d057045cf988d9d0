/*
 * report.h - what a run did, target by target: a table for people (stdout
 * with -v) and JSON for monitoring (report_json = FILE, replaced
 * atomically after each run).
 *
 * JSON: {"catalog_id", "serial", "key_id", "started" (ISO 8601 UTC),
 * "seconds", "dry_run", "targets_ok", "targets_failed", "targets": [{"name",
 * "url", "ok", "action" (nothing|waiting|full|delta|failed), "node_serial"
 * (null when unknown), "serial", "base", "file", "bytes", "seconds",
 * "attempts", "error" (null when none)}]}.  Strings are escaped; text
 * that came from a node was already quoted by xfer.
 */
#ifndef DIRCAT_REPORT_H
#define DIRCAT_REPORT_H

#include <stdio.h>
#include <time.h>

#include "push.h"

#define REPORT_JSON_MAX (16 * 1024 * 1024)	/* bytes */

struct report_run {
	const char *catalog_id;
	uint64_t serial;
	const char *key_id;
	time_t started;
	double seconds;
	int dry_run;
};

/* The table.  0, or -1 on a write error. */
int report_text(FILE *out, const struct report_run *run,
		const struct push_result *res, size_t n);
/* The JSON document into path.  0, or -1 with err. */
int report_json(const char *path, const struct report_run *run,
		const struct push_result *res, size_t n, char *err,
		size_t errlen);
/*
 * The metrics_file (Prometheus text format, replaced atomically): the
 * run (time, exit status, duration, last success) and, per target (label
 * target="NAME"), what the node had, what was sent, how it went.  res is
 * NULL when the run stopped before pushing (only the run's metrics and
 * the targets' carried-over values are written then); else it has
 * conf->ntargets entries as push_run() left them.  Last success times
 * and consecutive failures are carried over from the file's previous
 * version.  0, or -1 with err.
 */
int report_metrics(const char *path, const struct repconf *conf,
		   const struct push_result *res, int exit_status,
		   double seconds, char *err, size_t errlen);

#endif
