/*
 * lookup.h - what catalogd answers: an address or domain looked up in the
 * catalog the way Postfix looks up its own tables, and turned into a
 * socketmap answer (OK / NOTFOUND / TEMP / PERM) or a policy action.
 *
 * Address lookup: addr_normalise() (the aggregator's own function), the
 * exact key, then without its extension (user+tag@ -> user@, with the
 * configured delimiters), then the catch-all "@domain".  A domain is local
 * when the catalog holds a record of kind domain for it (or ".parent" for
 * a parent domain).  The stale policy (catalog past its expiry) decides
 * whether unknown addresses are deferred.  No allocation; results borrow
 * from the read transaction and are valid until catalog_read_end().
 *
 * A lookup cache (optional, one per catalog) remembers, for the last
 * LOOKUP_CACHE_SLOTS domains seen, whether the domain is local and whether
 * it has a catch-all, so an unknown address costs one search instead of
 * three.  It is emptied whenever the read sees another committed version
 * of the catalog, and by lookup_cache_clear().
 */
#ifndef DIRCAT_LOOKUP_H
#define DIRCAT_LOOKUP_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "catalog.h"

#define LOOKUP_DELIMS_MAX 8	/* extension delimiter characters */
#define LOOKUP_ACTION_MAX 512	/* a policy action line */

enum lookup_map {
	LOOKUP_MAP_NONE = 0,
	LOOKUP_RECIPIENTS,	/* address -> OK kind */
	LOOKUP_DOMAINS,		/* domain -> OK domain */
	LOOKUP_SENDERS,		/* address -> OK owner,owner */
	LOOKUP_TRANSPORT,	/* address -> OK relay:[hub] (catalogd's
				 * routing, from an extra field) */
	LOOKUP_ROUTE		/* address -> OK hub (the same next hop,
				 * bare, for Exim's manualroute) */
};
#define LOOKUP_MAPS 6		/* LOOKUP_MAP_NONE included */
/* The map for a name ("recipients", ...), or LOOKUP_MAP_NONE. */
int lookup_map_parse(const char *name, size_t len);
const char *lookup_map_name(int map);

/* What to do once the catalog has expired. */
enum lookup_stale {
	LOOKUP_STALE_DEFER_UNKNOWN = 0,	/* known found, unknown TEMP */
	LOOKUP_STALE_SERVE,		/* answer as usual */
	LOOKUP_STALE_TEMPFAIL		/* TEMP for every address */
};
/* "defer-unknown", "serve", "tempfail" -> the policy, or -1. */
int lookup_stale_parse(const char *name);
const char *lookup_stale_name(int policy);

struct keyhash;

struct lookup_opts {
	char delims[LOOKUP_DELIMS_MAX + 1];	/* "" when none */
	unsigned addr_flags;	/* 0 or ADDR_CASE_SENSITIVE */
	int stale_policy;	/* enum lookup_stale */
	struct keyhash *hash;	/* keyed-hash catalog: every key searched
				   is hashed with it first, and owners and
				   extra come back opened (keyhash.h);
				   NULL: clear catalog */
};

struct lookup_cache;

/* The catalog as it stands: serial 0 means nothing installed yet. */
struct lookup_state {
	uint64_t serial;
	int stale;		/* past its expiry */
	struct lookup_cache *cache;	/* NULL: none */
	const char *unusable;	/* non-NULL: the catalog cannot be read as
				   configured (hashed with another secret);
				   every answer is TEMP with this reason */
};

/* A cache for lookups in one catalog.  Exits when out of memory. */
struct lookup_cache *lookup_cache_new(void);
/* Forget everything (a new catalog was installed). */
void lookup_cache_clear(struct lookup_cache *);
void lookup_cache_free(struct lookup_cache *);

/* Outcome of lookup_address(). */
enum lookup_found {
	LOOKUP_ERROR = -1,	/* catalog read error */
	LOOKUP_UNKNOWN = 0,	/* a local domain, but no such address */
	LOOKUP_FOUND = 1,
	LOOKUP_NOTLOCAL = 2,	/* not one of the catalog's domains */
	LOOKUP_INVALID = 3	/* not an address: why says so */
};
enum lookup_how { LOOKUP_EXACT = 1, LOOKUP_STRIPPED, LOOKUP_CATCHALL };

struct lookup_addr {
	char norm[ADDR_BUF];	/* the normalised address */
	char key[ADDR_BUF + 1];	/* the key found */
	int how;		/* enum lookup_how when found */
	struct catalog_rec rec;	/* when found; in a keyed-hash catalog
				   rec.key is the hashed key, owners and
				   extra point into opened */
	char why[128];		/* when invalid */
	char opened[CATALOG_OWNERS_MAX + CATALOG_EXTRA_MAX];
};

/* Look up the address in[0..len).  Returns enum lookup_found; a sealed
 * field that does not open (keyed-hash mode) is LOOKUP_ERROR. */
int lookup_address(struct catalog_read *r, const struct lookup_opts *o,
		   const char *in, size_t len, struct lookup_addr *out);
/* The same with a cache (NULL: none); the same answers. */
int lookup_address_cached(struct catalog_read *r, struct lookup_cache *c,
			  const struct lookup_opts *o, const char *in,
			  size_t len, struct lookup_addr *out);

/* 1 when the normalised domain is local, 0 when not, -1 on error. */
int lookup_domain_local(struct catalog_read *r, const char *domain);
int lookup_domain_local_cached(struct catalog_read *r,
			       struct lookup_cache *c, const char *domain);
/* The same with the catalog's options (a keyed-hash catalog hashes the
 * domain first); c may be NULL. */
int lookup_domain_local_opts(struct catalog_read *r, struct lookup_cache *c,
			     const struct lookup_opts *o, const char *domain);

/* 1 when login is one of the comma-separated owners (ASCII case
 * ignored), else 0. */
int lookup_owner_match(const char *owners, size_t len, const char *login);

/* A socketmap answer. */
enum lookup_status { LOOKUP_OK, LOOKUP_NOTFOUND, LOOKUP_TEMP, LOOKUP_PERM };
struct lookup_answer {
	int status;		/* enum lookup_status */
	const char *data;	/* OK: the data; TEMP/PERM: the reason */
	size_t len;
	int found;		/* enum lookup_found, for counting */
};
/* "OK", "NOTFOUND", "TEMP", "PERM". */
const char *lookup_status_word(int status);

/*
 * Answer a request of map for key[0..keylen).  Never fails: a read error
 * becomes TEMP.  ans->data is static or borrowed from r.
 */
void lookup_answer(struct catalog_read *r, const struct lookup_opts *o,
		   const struct lookup_state *st, int map, const char *key,
		   size_t keylen, struct lookup_answer *ans);

struct cidr_list;

/* Policy delegation: the reply texts ("550 5.1.1 text") and switches. */
struct lookup_policy {
	const char *unknown_recipient;
	const char *stale_recipient;
	const char *sender_not_owned;
	const char *unauthenticated_local_sender;
	int reject_unauthenticated_local_sender;
	/* Internal-only recipients (CATALOG_INTERNAL_ONLY_LINE in their
	 * extra fields) take mail only from authenticated clients and from
	 * clients in internal_networks (NULL: none); others get
	 * internal_only_recipient (NULL: "550 5.7.1 ..."). */
	const struct cidr_list *internal_networks;
	const char *internal_only_recipient;
};

/*
 * Decide a policy request's action ("DUNNO", "550 5.1.1 ...") into
 * action (size >= LOOKUP_ACTION_MAX).  Only protocol_state RCPT is
 * checked.  client_address ("" when absent) decides, with sasl_username,
 * whether the client is internal (for internal-only recipients).
 * Returns 0, or -1 on a catalog read error (send nothing).  *rule gets a
 * short name of the rule that decided, for the log.
 */
int lookup_policy_decide(struct catalog_read *r, const struct lookup_opts *o,
			 const struct lookup_state *st,
			 const struct lookup_policy *p,
			 const char *protocol_state, const char *sender,
			 const char *recipient, const char *sasl_username,
			 const char *client_address,
			 char *action, size_t actionsize, const char **rule);

/* The default reply to an external client writing to an internal-only
 * recipient. */
#define LOOKUP_INTERNAL_ONLY_TEXT \
	"550 5.7.1 Only internal senders may write to this address"

/* 0 when text is a usable reject text: "4NN x.y.z text" or "5NN ...",
 * one printable line of at most LOOKUP_ACTION_MAX - 8 bytes. */
int lookup_policy_text_ok(const char *text, char *err, size_t errlen);

#endif
