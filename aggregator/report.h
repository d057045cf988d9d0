/*
 * report.h - the aggregator's account of one run: what was read, what
 * was selected, what was left out and why, what changed.  Printed as text
 * (-v) and written as JSON (report_json); samples are bounded.
 */
#ifndef DIRCAT_REPORT_H
#define DIRCAT_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "catalog.h"
#include "collect.h"

#define REPORT_SAMPLES 10	/* examples kept per reason */

enum report_reason {
	REPORT_INVALID = 0,	/* not an RFC 5321 address */
	REPORT_FOREIGN,		/* not in local_domains */
	REPORT_REASONS
};

struct report_source {
	const char *name;
	uint64_t entries, pages, references;
	uint64_t selected[CATALOG_KINDS];
	double seconds;
};

struct report_sample {
	char *what, *dn, *why;
};

struct report {
	const char *catalog_id;
	int dry;
	struct report_source *src;
	size_t nsrc;
	uint64_t selected[CATALOG_KINDS];
	uint64_t left_not_selected, left_no_kind, left_no_address;
	uint64_t addresses_seen;
	uint64_t left[REPORT_REASONS];
	struct report_sample samples[REPORT_REASONS][REPORT_SAMPLES];
	/* owner DNs (owner_attribute) of entries with addresses: the logins
	 * of entries read, first RDN values, none (sampled) */
	uint64_t owner_dns, owner_dns_resolved, owner_dns_first_rdn;
	uint64_t owner_dns_unresolved;
	struct report_sample owner_samples[REPORT_SAMPLES];
	uint64_t conflicts;
	const struct collect *col;
	int have_diff;
	struct catalog_diff diff;
	uint64_t addresses_before;
	uint64_t serial_before, serial_after;
	const char *refused, *forced;
	char *error;
	double seconds;
};

void report_init(struct report *, const char *catalog_id, size_t nsrc,
		 int dry);
void report_left_out(struct report *, enum report_reason, const char *what,
		     size_t len, const char *dn, const char *why);
void report_owner_dns(struct report *, uint64_t dns, uint64_t resolved,
		      uint64_t first_rdn, uint64_t unresolved);
/* Only the first REPORT_SAMPLES are kept; report_owner_dns() counts. */
void report_owner_unresolved(struct report *, const char *owner_dn,
			     const char *dn, const char *why);
void report_diff(struct report *, const struct catalog_diff *,
		 uint64_t addresses_before);
void report_conflicts(struct report *, const struct collect *);
void report_text(const struct report *, FILE *);
int report_json_write(const struct report *, const char *path, char *err,
		      size_t errlen);
/*
 * The metrics_file (Prometheus text format, replaced atomically): the
 * run (time, exit status, duration, last success), the catalog as it
 * stands after it (read from catalog_path, which must not be open in this
 * process), changes, sources (the first nread were read completely),
 * whether a safety gate refused.  The last success time is carried over
 * from the file's previous version when this run failed.  0, or -1 with
 * err.
 */
int report_metrics_write(const struct report *, const char *path,
			 const char *catalog_path, int exit_status,
			 size_t nread, double seconds, char *err,
			 size_t errlen);
void report_free(struct report *);

#endif
