/*
 * digest.h - what one directory entry contributes to the catalog: its
 * kind, the record value its addresses get (kind, owners, extra fields),
 * its normalised addresses in the local domains, the logins others may
 * name it by (owner DNs), and the owner DNs it names.  One function,
 * used by the batch run (collect.h) and by the watch mode (livecat.h), so
 * both read an entry exactly alike.
 *
 * Hostile input: values come from the directory; every address goes
 * through addr_normalise(), lists are bounded by the catalog's limits,
 * an owner DN longer than LDAPSRC_DNKEY_MAX gives no key.
 * Limits: DIGEST_* below.
 */
#ifndef DIGEST_H
#define DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "catalog.h"
#include "formula.h"
#include "ldapsrc.h"
#include "util.h"

#define DIGEST_ADDR_ATTRS_MAX 16	/* address attributes per source */
#define DIGEST_EXTRAS_MAX     16	/* extra fields per source */
#define DIGEST_ADDRS_MAX      10000	/* addresses kept from one entry */
#define DIGEST_OWNER_DNS_MAX  1000	/* owner DNs kept from one entry */
#define DIGEST_RDN_MAX        260	/* a first-RDN login fallback */

/* How a [source] turns entries into records (filled from its settings). */
struct digest_extra {
	char name[64];
	int idx;
};

struct digest_rules {
	struct formula *select;			/* NULL: every entry */
	struct formula *kind[CATALOG_KINDS];	/* person, group, mailin */
	struct formula *internal_only;		/* NULL: none */
	int addr_idx[DIGEST_ADDR_ATTRS_MAX];
	int addr_proxy[DIGEST_ADDR_ATTRS_MAX];	/* AD proxyAddresses rules */
	size_t naddr;
	int login_idx, owner_idx;		/* -1: not set */
	struct digest_extra extras[DIGEST_EXTRAS_MAX];
	size_t nextras;
};

struct digest_env {
	const struct addr_domains *domains;
	unsigned addr_flags;
};

enum digest_left {
	DIGEST_KEPT = 0,
	DIGEST_NOT_SELECTED,	/* the select formula said no */
	DIGEST_NO_KIND,		/* no kind formula said yes */
	DIGEST_NO_ADDRESS	/* no usable address in the local domains */
};

/* Why an address was left out (the report's reasons). */
enum digest_reason {
	DIGEST_INVALID = 0,	/* not an RFC 5321 address */
	DIGEST_FOREIGN		/* not in local_domains */
};

struct digest {
	int left;			/* enum digest_left */
	int kind;			/* when kept */
	struct buf logins;		/* login_attribute values, a list */
	unsigned char value[CATALOG_VALUE_MAX];	/* before owner DNs */
	size_t vlen;
	struct buf addrs;		/* normalised, each NUL-terminated */
	size_t naddrs;
	struct buf odns;		/* owner DNs: [u16 keylen][key]
					   [fallback\0][dn\0] each */
	size_t nodns;
	uint64_t addresses_seen;
};

void digest_init(struct digest *);
void digest_free(struct digest *);

/*
 * Digest entry e under rules r.  left_out (may be NULL) hears of every
 * address left out, with the entry's DN and a reason text (NULL for
 * DIGEST_FOREIGN).  Owner DNs are kept only when the entry is kept.
 * 0, or -1 with err on an internal limit (the run must stop).
 */
int digest_entry(struct digest *d, const struct digest_rules *r,
		 const struct digest_env *env, const struct ldapsrc_entry *e,
		 void (*left_out)(void *arg, int reason, const char *what,
				  size_t len, const char *dn, const char *why),
		 void *arg, char *err, size_t errlen);

/* The i-th owner DN of d, walking from *pos (start at 0): 1 with the
 * fields set (borrowed from d), 0 at the end. */
int digest_owner_dn(const struct digest *d, size_t *pos,
		    const unsigned char **key, size_t *keylen,
		    const char **fallback, const char **dn);

#endif
