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
#include "util.h"

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

/*
 * Owners.  An entry's owners are logins: its own (login_attribute) and
 * those of owner_attribute, whose values may be DNs.  An owner DN becomes
 * the logins of the entry it names, when that entry is read in this run
 * (any source, before or after the entry naming it); otherwise the DN's
 * first RDN value, when that is a usable login; otherwise nothing, and it
 * is counted.  So every entry read that has a login leaves its DN's key
 * (ldapsrc_dn_key) and its logins (collect_login), the owner DNs of
 * entries with addresses wait (collect_owner_dn), and
 * collect_resolve_owners(), after the last source, rewrites the values of
 * those entries' records.  The index costs 12 bytes an entry plus its
 * logins: a DN stands in it as a 64-bit SipHash of its key, under a key
 * drawn at random each run - two DNs are taken for one with probability
 * 2^-64 a pair, and no one can choose a DN to make that happen.
 */

/* 1 when v may be a login: 1 to 256 bytes, no space, comma or control
 * character. */
int collect_login_usable(const char *v, size_t len);
/* Append login v to the comma-separated list b, unless it is there
 * already (ASCII case ignored), is no usable login, or b would grow past
 * CATALOG_OWNERS_MAX. */
void collect_owner_add(struct buf *b, const char *v, size_t len);
/* The entry whose DN has key dnkey has these logins (a list as
 * collect_owner_add makes).  0, or -1 when a limit is reached. */
int collect_login(struct collect *, const unsigned char *dnkey,
		  size_t keylen, const char *logins, size_t len, char *err,
		  size_t errlen);
/*
 * entry (which has addresses) names an owner by DN: dnkey its key (keylen
 * 0 when it is no DN), fallback the login to take when no entry read has
 * that DN ("" for none), dn the value as written, for the report.
 */
int collect_owner_dn(struct collect *, uint32_t entry,
		     const unsigned char *dnkey, size_t keylen,
		     const char *fallback, const char *dn, char *err,
		     size_t errlen);

struct collect_owner_stats {
	uint64_t dns;		/* owner DNs of entries with addresses */
	uint64_t resolved;	/* the DN of an entry read: its logins */
	uint64_t first_rdn;	/* not read: the first RDN value */
	uint64_t unresolved;	/* neither: no owner */
};

/*
 * After the last source, before collect_finish(): add to each entry's
 * records the logins its owner DNs stand for, calling unresolved (when
 * set) for each DN that gives none, with the entry's DN and the reason.
 * Frees the index.  0, or -1 when a limit is reached.
 */
int collect_resolve_owners(struct collect *,
			   void (*unresolved)(void *arg, const char *owner_dn,
					      const char *entry_dn,
					      const char *why),
			   void *arg, char *err, size_t errlen);
void collect_owner_stats(const struct collect *, struct collect_owner_stats *);
/* SipHash-2-4 of data under key (for the tests). */
uint64_t collect_siphash(const uint64_t key[2], const void *data, size_t len);

/* A catalog_txn_replace_all() source over the kept records, in order. */
int collect_next(void *collect, struct catalog_rec *rec, char *err,
		 size_t errlen);

#endif
