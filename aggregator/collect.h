/*
 * collect.h - the aggregator's in-memory result: every address an entry
 * claims, with its kind, owners and extra fields, then sorted and with
 * each address claimed by two entries given to one winner.
 *
 * Strings live in two arenas (keys+values, DNs), records are 24 bytes, so
 * 1.3 million addresses take about 100 MB.  Limits: COLLECT_* below.
 */
#ifndef DIRCAT_COLLECT_H
#define DIRCAT_COLLECT_H

#include <stddef.h>
#include <stdint.h>

#include "catalog.h"

#define COLLECT_ARENA_MAX  ((size_t)3 << 30)	/* bytes per arena */
#define COLLECT_RECORDS_MAX 100000000		/* addresses in one run */
#define COLLECT_CONFLICTS_KEPT 100		/* listed in the report */

enum collect_rule {
	COLLECT_SOURCE_FIRST = 0,	/* source order, then kind order */
	COLLECT_KIND_FIRST,		/* kind order, then source order */
	COLLECT_FAIL			/* any conflict fails the run */
};

struct collect_conflict {
	char *key;
	char *winner_dn, *loser_dn;
	int winner_src, loser_src;
	int winner_kind, loser_kind;
};

struct collect;

struct collect *collect_new(void);
void collect_free(struct collect *);

/* Remember the DN of the entry whose addresses follow; returns a handle. */
uint32_t collect_entry(struct collect *, const char *dn);
/*
 * Add one address (normalised) for the current entry.  value is the
 * record's encoded value (catalog_rec_encode).  0, or -1 when a limit is
 * reached (err set).
 */
int collect_add(struct collect *, uint32_t entry, int src, int kind,
		const char *key, size_t keylen, const unsigned char *value,
		size_t vallen, char *err, size_t errlen);

/*
 * Sort and settle conflicts by rule.  Counts conflicts (an address claimed
 * by two different entries) and keeps the first COLLECT_CONFLICTS_KEPT for
 * the report.  Returns 0, or -1 under COLLECT_FAIL when there is one.
 */
int collect_finish(struct collect *, enum collect_rule rule,
		   char *err, size_t errlen);
uint64_t collect_conflicts(const struct collect *);
size_t collect_conflicts_kept(const struct collect *);
const struct collect_conflict *collect_conflict(const struct collect *,
						size_t i);
/* Records kept after collect_finish(), and those of each kind. */
uint64_t collect_count(const struct collect *);
uint64_t collect_count_kind(const struct collect *, int kind);

/* A catalog_txn_replace_all() source over the kept records, in order. */
int collect_next(void *collect, struct catalog_rec *rec, char *err,
		 size_t errlen);

#endif
