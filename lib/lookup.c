/*
 * lookup.c - catalog lookups as catalogd answers them; see lookup.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cidr.h"
#include "keyhash.h"
#include "log.h"
#include "lookup.h"
#include "util.h"

#define LOOKUP_CACHE_SLOTS 128	/* domains remembered (a power of two) */

/* What one catalog version says about one domain; -1: not asked yet. */
struct lookup_cache_slot {
	uint64_t gen;		/* in use when equal to the cache's */
	signed char local;	/* lookup_domain_local() */
	signed char catchall;	/* "@domain" holds an address record */
	unsigned char len;
	char domain[ADDR_DOMAIN_MAX];
};

/* Direct-mapped by a hash of the domain: a new domain takes the place of
 * the one before it, so hostile domains cost searches, never memory. */
struct lookup_cache {
	uint64_t version;	/* catalog_read_version() the slots describe */
	int synced;		/* version is set */
	uint64_t gen;		/* slots of another generation are empty */
	struct lookup_cache_slot slot[LOOKUP_CACHE_SLOTS];
};

static const char *const lookup_maps[] = {
	"", "recipients", "domains", "senders", "transport", "route"
};
static const size_t lookup_maps_len[] = { 0, 10, 7, 7, 9, 5 };

int lookup_map_parse(const char *name, size_t len)
{
	int m;

	for (m = LOOKUP_RECIPIENTS; m <= LOOKUP_ROUTE; m++)
		if (lookup_maps_len[m] == len &&
		    !memcmp(lookup_maps[m], name, len))
			return m;
	return LOOKUP_MAP_NONE;
}

const char *lookup_map_name(int map)
{
	return map >= LOOKUP_RECIPIENTS && map <= LOOKUP_ROUTE
		       ? lookup_maps[map] : "?";
}

static const char *const lookup_stales[] = {
	"defer-unknown", "serve", "tempfail"
};

int lookup_stale_parse(const char *name)
{
	int i;

	for (i = 0; i < 3; i++)
		if (!strcmp(name, lookup_stales[i]))
			return i;
	return -1;
}

const char *lookup_stale_name(int policy)
{
	return policy >= 0 && policy < 3 ? lookup_stales[policy] : "?";
}

struct lookup_cache *lookup_cache_new(void)
{
	struct lookup_cache *c = xcalloc(1, sizeof(*c));

	c->gen = 1;
	return c;
}

void lookup_cache_clear(struct lookup_cache *c)
{
	if (!c)
		return;
	c->gen++;
	c->synced = 0;
}

void lookup_cache_free(struct lookup_cache *c)
{
	free(c);
}

/* Empty the cache when r sees another version of the catalog than the
 * one it describes: any commit may add or remove domains and catch-alls. */
static void lookup_cache_sync(struct lookup_cache *c, struct catalog_read *r)
{
	uint64_t v = catalog_read_version(r);

	if (!c->synced || c->version != v) {
		c->gen++;
		c->version = v;
		c->synced = 1;
	}
}

/* The slot of domain[0..len), taken over (empty) when another domain
 * held it; NULL when there is no cache or the domain cannot be kept. */
static struct lookup_cache_slot *lookup_cache_slot(struct lookup_cache *c,
						   const char *domain,
						   size_t len)
{
	struct lookup_cache_slot *s;
	uint32_t h = 2166136261u;	/* FNV-1a */
	size_t i;

	if (!c || len == 0 || len > ADDR_DOMAIN_MAX)
		return NULL;
	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)domain[i]) * 16777619u;
	s = &c->slot[h & (LOOKUP_CACHE_SLOTS - 1)];
	if (s->gen != c->gen || s->len != len ||
	    memcmp(s->domain, domain, len) != 0) {
		s->gen = c->gen;
		s->len = (unsigned char)len;
		memcpy(s->domain, domain, len);
		s->local = -1;
		s->catchall = -1;
	}
	return s;
}

/* Get key[0..keylen), hashed first in a keyed-hash catalog. */
static int lookup_get(struct catalog_read *r, const struct lookup_opts *o,
		      const char *key, size_t keylen, struct catalog_rec *rec)
{
	char h[KEYHASH_KEY_LEN + 1];

	if (o && o->hash) {
		keyhash_key(o->hash, key, keylen, h);
		return catalog_get(r, h, KEYHASH_KEY_LEN, rec);
	}
	return catalog_get(r, key, keylen, rec);
}

/* Get key[0..keylen); found only when the record is an address (not a
 * domain). */
static int lookup_get_addr(struct catalog_read *r,
			   const struct lookup_opts *o, const char *key,
			   size_t keylen, struct catalog_rec *rec)
{
	int rc = lookup_get(r, o, key, keylen, rec);

	if (rc == 1 && rec->kind == CATALOG_DOMAIN)
		return 0;
	return rc;
}

/* lookup_domain_local() with the catalog's options (its key hash). */
static int lookup_domain_local_o(struct catalog_read *r,
				 const struct lookup_opts *o,
				 const char *domain)
{
	struct catalog_rec rec;
	char key[ADDR_BUF + 1];
	const char *d = domain;
	size_t n = strlen(domain);
	int rc;

	if (n == 0 || n > ADDR_DOMAIN_MAX)
		return 0;
	rc = lookup_get(r, o, domain, n, &rec);
	if (rc != 0)
		return rc < 0 ? -1 : rec.kind == CATALOG_DOMAIN;
	/* ".example.com" covers every subdomain of example.com. */
	while ((d = strchr(d + 1, '.')) != NULL) {
		n = strlen(d);
		if (n + 1 > sizeof(key))
			return 0;
		memcpy(key, d, n + 1);
		rc = lookup_get(r, o, key, n, &rec);
		if (rc < 0)
			return -1;
		if (rc == 1 && rec.kind == CATALOG_DOMAIN)
			return 1;
	}
	return 0;
}

int lookup_domain_local(struct catalog_read *r, const char *domain)
{
	return lookup_domain_local_o(r, NULL, domain);
}

/* lookup_domain_local_cached() with the catalog's options. */
static int lookup_domain_cached_o(struct catalog_read *r,
				  struct lookup_cache *c,
				  const struct lookup_opts *o,
				  const char *domain)
{
	struct lookup_cache_slot *s;
	int rc;

	if (!c)
		return lookup_domain_local_o(r, o, domain);
	lookup_cache_sync(c, r);
	s = lookup_cache_slot(c, domain, strlen(domain));
	if (s && s->local >= 0)
		return s->local;
	rc = lookup_domain_local_o(r, o, domain);
	if (s && rc >= 0)
		s->local = (signed char)rc;
	return rc;
}

int lookup_domain_local_cached(struct catalog_read *r,
			       struct lookup_cache *c, const char *domain)
{
	return lookup_domain_cached_o(r, c, NULL, domain);
}

int lookup_domain_local_opts(struct catalog_read *r, struct lookup_cache *c,
			     const struct lookup_opts *o, const char *domain)
{
	return lookup_domain_cached_o(r, c, o, domain);
}

int lookup_address(struct catalog_read *r, const struct lookup_opts *o,
		   const char *in, size_t len, struct lookup_addr *out)
{
	return lookup_address_cached(r, NULL, o, in, len, out);
}

/* A keyed-hash catalog: open the found record's sealed owners and extra
 * with the clear key it was found under.  0, or -1 (logged). */
static int lookup_open(const struct lookup_opts *o, struct lookup_addr *out)
{
	char err[256], q[LOG_QUOTE_SIZE];

	if (!o->hash || (!out->rec.ownerslen && !out->rec.extralen))
		return 0;
	if (keyhash_rec_open(o->hash, out->key, strlen(out->key), &out->rec,
			     &out->rec, out->opened, sizeof(out->opened), err,
			     sizeof(err)) == 0)
		return 0;
	log_error("catalog record of %s: %s",
		  log_quote(out->key, strlen(out->key), q, sizeof(q)), err);
	return -1;
}

/* An address found: its record opened when asked to (keyed-hash mode). */
static int lookup_found(const struct lookup_opts *o, struct lookup_addr *out,
			int how, int open)
{
	out->how = how;
	if (open && lookup_open(o, out) < 0)
		return LOOKUP_ERROR;
	return LOOKUP_FOUND;
}

/* lookup_address_cached(); open: whether the caller needs owners and
 * extra (keyed-hash mode opens them only then). */
static int lookup_address_do(struct catalog_read *r, struct lookup_cache *c,
			     const struct lookup_opts *o, const char *in,
			     size_t len, struct lookup_addr *out, int open)
{
	struct lookup_cache_slot *s;
	const char *domain, *at;
	size_t nlen, dlen;
	int rc;

	out->how = 0;
	out->why[0] = '\0';
	if (addr_normalise(in, len, out->norm, sizeof(out->norm),
			   o->addr_flags | ADDR_BRACKETS | ADDR_CATCHALL,
			   out->why, sizeof(out->why)) < 0) {
		out->norm[0] = '\0';
		return LOOKUP_INVALID;
	}
	if (c)
		lookup_cache_sync(c, r);
	/* Lengths known from here on: norm and key hold at most ADDR_MAX. */
	nlen = strlen(out->norm);
	memcpy(out->key, out->norm, nlen + 1);
	rc = lookup_get_addr(r, o, out->key, nlen, &out->rec);
	if (rc)
		return rc < 0 ? LOOKUP_ERROR
			      : lookup_found(o, out, LOOKUP_EXACT, open);
	if (o->delims[0] &&
	    addr_strip_extension(out->norm, o->delims, out->key,
				 sizeof(out->key))) {
		rc = lookup_get_addr(r, o, out->key, strlen(out->key),
				     &out->rec);
		if (rc)
			return rc < 0 ? LOOKUP_ERROR
				      : lookup_found(o, out, LOOKUP_STRIPPED,
						     open);
	}
	at = memrchr(out->norm, '@', nlen);	/* as addr_domain() */
	domain = at ? at + 1 : out->norm + nlen;
	dlen = nlen - (size_t)(domain - out->norm);
	s = lookup_cache_slot(c, domain, dlen);
	/* The catch-all, unless this version is known to have none. */
	if (out->norm[0] != '@' && (!s || s->catchall != 0)) {
		/* key = "@" domain: both fit, the domain is part of norm. */
		out->key[0] = '@';
		memcpy(out->key + 1, domain, dlen + 1);
		rc = lookup_get_addr(r, o, out->key, dlen + 1, &out->rec);
		if (s && rc >= 0)
			s->catchall = (signed char)rc;
		if (rc)
			return rc < 0 ? LOOKUP_ERROR
				      : lookup_found(o, out, LOOKUP_CATCHALL,
						     open);
	}
	memcpy(out->key, out->norm, nlen + 1);
	if (s && s->local >= 0) {
		rc = s->local;
	} else {
		rc = lookup_domain_local_o(r, o, domain);
		if (s && rc >= 0)
			s->local = (signed char)rc;
	}
	if (rc < 0)
		return LOOKUP_ERROR;
	return rc ? LOOKUP_UNKNOWN : LOOKUP_NOTLOCAL;
}

int lookup_address_cached(struct catalog_read *r, struct lookup_cache *c,
			  const struct lookup_opts *o, const char *in,
			  size_t len, struct lookup_addr *out)
{
	return lookup_address_do(r, c, o, in, len, out, 1);
}

int lookup_owner_match(const char *owners, size_t len, const char *login)
{
	size_t n = strlen(login), i = 0;

	if (n == 0)
		return 0;
	while (i < len) {
		size_t j = i;

		while (j < len && owners[j] != ',')
			j++;
		/* Owners carry no spaces, but tolerate them around items. */
		{
			size_t a = i, b = j;

			while (a < b && owners[a] == ' ')
				a++;
			while (b > a && owners[b - 1] == ' ')
				b--;
			if (b - a == n && !strncasecmp(owners + a, login, n))
				return 1;
		}
		i = j + 1;
	}
	return 0;
}

const char *lookup_status_word(int status)
{
	switch (status) {
	case LOOKUP_OK:
		return "OK";
	case LOOKUP_NOTFOUND:
		return "NOTFOUND";
	case LOOKUP_TEMP:
		return "TEMP";
	default:
		return "PERM";
	}
}

/* Set an answer with static text. */
static void lookup_set(struct lookup_answer *ans, int status,
		       const char *text)
{
	ans->status = status;
	ans->data = text;
	ans->len = strlen(text);
}

/* A domain request: found only for a local domain. */
static void lookup_answer_domain(struct catalog_read *r,
				 const struct lookup_state *st,
				 const struct lookup_opts *o, const char *key,
				 size_t keylen, struct lookup_answer *ans)
{
	char norm[ADDR_BUF], why[128];
	int rc;

	if (addr_domain_normalise(key, keylen, norm, sizeof(norm), why,
				  sizeof(why)) < 0) {
		ans->found = LOOKUP_INVALID;
		lookup_set(ans, LOOKUP_NOTFOUND, "");
		return;
	}
	rc = lookup_domain_cached_o(r, st->cache, o, norm);
	if (rc < 0) {
		ans->found = LOOKUP_ERROR;
		lookup_set(ans, LOOKUP_TEMP, "catalog read error");
		return;
	}
	ans->found = rc ? LOOKUP_FOUND : LOOKUP_NOTLOCAL;
	if (st->stale && o->stale_policy == LOOKUP_STALE_TEMPFAIL)
		lookup_set(ans, LOOKUP_TEMP, "catalog expired");
	else if (rc)
		lookup_set(ans, LOOKUP_OK, "domain");
	else
		lookup_set(ans, LOOKUP_NOTFOUND, "");
}

void lookup_answer(struct catalog_read *r, const struct lookup_opts *o,
		   const struct lookup_state *st, int map, const char *key,
		   size_t keylen, struct lookup_answer *ans)
{
	struct lookup_addr a;
	int rc;

	ans->found = LOOKUP_ERROR;
	if (map == LOOKUP_MAP_NONE || map > LOOKUP_SENDERS) {
		/* transport and route need catalogd's settings: there. */
		lookup_set(ans, LOOKUP_PERM, "unknown map");
		return;
	}
	if (st->serial == 0) {
		lookup_set(ans, LOOKUP_TEMP, "no catalog installed");
		return;
	}
	if (st->unusable) {
		lookup_set(ans, LOOKUP_TEMP, st->unusable);
		return;
	}
	if (map == LOOKUP_DOMAINS) {
		lookup_answer_domain(r, st, o, key, keylen, ans);
		return;
	}
	/* Only the senders map needs owners (opened in keyed-hash mode). */
	rc = lookup_address_do(r, st->cache, o, key, keylen, &a,
			       map == LOOKUP_SENDERS);
	ans->found = rc;
	if (rc == LOOKUP_ERROR) {
		lookup_set(ans, LOOKUP_TEMP, "catalog read error");
		return;
	}
	if (st->stale && o->stale_policy == LOOKUP_STALE_TEMPFAIL) {
		lookup_set(ans, LOOKUP_TEMP, "catalog expired");
		return;
	}
	if (rc == LOOKUP_FOUND) {
		if (map == LOOKUP_SENDERS) {
			if (a.rec.ownerslen == 0) {
				lookup_set(ans, LOOKUP_NOTFOUND, "");
				return;
			}
			ans->status = LOOKUP_OK;
			ans->data = a.rec.owners;	/* in the map */
			ans->len = a.rec.ownerslen;
			if (o->hash) {
				/* Opened into a, which is ours: keep a copy
				 * past this function. */
				static char owners[CATALOG_OWNERS_MAX];

				memcpy(owners, a.rec.owners, a.rec.ownerslen);
				ans->data = owners;
			}
			return;
		}
		lookup_set(ans, LOOKUP_OK, catalog_kind_name(a.rec.kind));
		return;
	}
	if (rc == LOOKUP_UNKNOWN && st->stale &&
	    o->stale_policy == LOOKUP_STALE_DEFER_UNKNOWN) {
		lookup_set(ans, LOOKUP_TEMP, "catalog expired");
		return;
	}
	lookup_set(ans, LOOKUP_NOTFOUND, "");
}

/* Write "action text" into action. */
static void lookup_action(char *action, size_t size, const char *text,
			  const char **rule, const char *name)
{
	/* size >= LOOKUP_ACTION_MAX; texts pass lookup_policy_text_ok */
	util_copy_fit(action, text, size);
	*rule = name;
}

/* Whether the domain of addr, which is no valid address, is one of the
 * catalog's: 1, 0 (or no domain to tell), -1 on a read error. */
static int lookup_invalid_local(struct catalog_read *r,
				const struct lookup_state *st,
				const struct lookup_opts *o, const char *addr)
{
	const char *at = strrchr(addr, '@');
	char norm[ADDR_BUF], why[128];
	size_t len;

	if (!at)
		return 0;
	len = strlen(at + 1);
	if (len && at[len] == '>')	/* <...>, as ADDR_BRACKETS takes it */
		len--;
	if (addr_domain_normalise(at + 1, len, norm, sizeof(norm), why,
				  sizeof(why)) < 0)
		return 0;
	return lookup_domain_cached_o(r, st->cache, o, norm);
}

int lookup_policy_decide(struct catalog_read *r, const struct lookup_opts *o,
			 const struct lookup_state *st,
			 const struct lookup_policy *p,
			 const char *protocol_state, const char *sender,
			 const char *recipient, const char *sasl_username,
			 const char *client_address,
			 char *action, size_t actionsize, const char **rule)
{
	struct lookup_addr a;
	int rc;

	lookup_action(action, actionsize, "DUNNO", rule, "pass");
	if (strcasecmp(protocol_state, "RCPT") != 0) {
		*rule = "not at RCPT";
		return 0;
	}
	if (st->serial == 0) {
		lookup_action(action, actionsize,
			      "DEFER_IF_PERMIT no directory catalog installed",
			      rule, "no catalog");
		return 0;
	}
	if (st->stale && o->stale_policy == LOOKUP_STALE_TEMPFAIL) {
		lookup_action(action, actionsize,
			      "DEFER_IF_PERMIT directory catalog expired",
			      rule, "stale");
		return 0;
	}
	if (st->unusable) {
		lookup_action(action, actionsize,
			      "DEFER_IF_PERMIT directory catalog unusable",
			      rule, "unusable");
		return 0;
	}
	/* The sender first: a forged sender needs no recipient check. */
	if (sender[0] && sasl_username[0]) {
		rc = lookup_address_cached(r, st->cache, o, sender,
					   strlen(sender), &a);
		if (rc == LOOKUP_ERROR)
			return -1;
		if (rc == LOOKUP_UNKNOWN && st->stale &&
		    o->stale_policy == LOOKUP_STALE_DEFER_UNKNOWN) {
			lookup_action(action, actionsize,
				      "DEFER_IF_PERMIT directory catalog expired",
				      rule, "stale sender");
			return 0;
		}
		if (rc != LOOKUP_FOUND ||
		    !lookup_owner_match(a.rec.owners, a.rec.ownerslen,
					sasl_username)) {
			lookup_action(action, actionsize, p->sender_not_owned,
				      rule, "sender not owned");
			return 0;
		}
	} else if (sender[0] && p->reject_unauthenticated_local_sender) {
		char norm[ADDR_BUF], why[128];

		/* A sender it cannot read as an address counts by its
		 * domain all the same. */
		rc = addr_normalise(sender, strlen(sender), norm, sizeof(norm),
				    o->addr_flags | ADDR_BRACKETS, why,
				    sizeof(why)) == 0 ?
			     lookup_domain_cached_o(r, st->cache, o,
						    addr_domain(norm)) :
			     lookup_invalid_local(r, st, o, sender);
		if (rc < 0)
			return -1;
		if (rc) {
			lookup_action(action, actionsize,
				      p->unauthenticated_local_sender, rule,
				      "unauthenticated local sender");
			return 0;
		}
	}
	if (!recipient[0])
		return 0;
	rc = lookup_address_cached(r, st->cache, o, recipient,
				   strlen(recipient), &a);
	if (rc == LOOKUP_ERROR)
		return -1;
	/* Postfix takes recipients this catalog cannot read as an address
	 * (a blank in a quoted local part, a local part over 64 bytes):
	 * in a local domain no entry can be theirs, so they are unknown,
	 * never let through. */
	if (rc == LOOKUP_INVALID) {
		rc = lookup_invalid_local(r, st, o, recipient);
		if (rc < 0)
			return -1;
		rc = rc ? LOOKUP_UNKNOWN : LOOKUP_INVALID;
	}
	if (rc == LOOKUP_UNKNOWN) {
		if (st->stale && o->stale_policy == LOOKUP_STALE_DEFER_UNKNOWN)
			lookup_action(action, actionsize, p->stale_recipient,
				      rule, "stale recipient");
		else
			lookup_action(action, actionsize,
				      p->unknown_recipient, rule,
				      "unknown recipient");
		return 0;
	}
	/* An internal-only recipient: authenticated or internal clients
	 * only.  In a keyed-hash catalog the mark is in the opened extra. */
	if (rc == LOOKUP_FOUND &&
	    catalog_extra_internal_only(a.rec.extra, a.rec.extralen) &&
	    !sasl_username[0] &&
	    !cidr_list_match(p->internal_networks, client_address)) {
		lookup_action(action, actionsize, p->internal_only_recipient ?
			      p->internal_only_recipient :
			      LOOKUP_INTERNAL_ONLY_TEXT, rule,
			      "internal-only recipient");
		return 0;
	}
	*rule = rc == LOOKUP_FOUND ? "known recipient" : "not local";
	return 0;
}

int lookup_policy_text_ok(const char *text, char *err, size_t errlen)
{
	size_t i, n = strlen(text);

	if (n < 5 || (text[0] != '4' && text[0] != '5') ||
	    text[1] < '0' || text[1] > '9' || text[2] < '0' ||
	    text[2] > '9' || text[3] != ' ') {
		util_err(err, errlen,
			 "must start with a 4xx or 5xx code and a space");
		return -1;
	}
	if (n > LOOKUP_ACTION_MAX - 8) {
		util_err(err, errlen, "longer than %d bytes",
			 LOOKUP_ACTION_MAX - 8);
		return -1;
	}
	for (i = 0; i < n; i++)
		if ((unsigned char)text[i] < 0x20 ||
		    (unsigned char)text[i] > 0x7e) {
			util_err(err, errlen,
				 "only printable ASCII on one line");
			return -1;
		}
	return 0;
}
