/*
 * assist.c - lookups across the node's catalogs, in their configured
 * order; see assist.h.
 *
 * The order for a key: its domain's [domain NAME] order when there is
 * one (the domain normalised as lookups do it: lower-cased, without a
 * trailing dot, an internationalised domain in its ASCII form), else the
 * top level's.  The rules,
 * for every map: the first catalog in the order that holds the key
 * answers (a catch-all counts as holding it), even when its answer is
 * TEMP (expired under stale_policy tempfail) or, in the senders map,
 * NOTFOUND (nobody owns it): a later catalog holding the same address
 * must not take its mail or its sending rights over; when none does, a
 * temporary failure of any catalog asked (nothing installed yet, a read
 * error, an expired catalog deferring its unknown addresses) makes the
 * answer TEMP, else NOTFOUND.  So an expired or empty catalog defers
 * only the addresses it might hold, and a domain whose [domain] order
 * leaves it out is never deferred by it.
 *
 * A catalog holds addresses of its own domains only (the aggregator
 * leaves out the rest), so a catalog whose domains do not include the
 * key's is passed over after one probe of its lookup cache.
 *
 * Conflicts: when the first catalog holding an address answers, the
 * later ones in the order are asked too (recipients and senders maps
 * only, where it matters); one that holds the same address itself (not
 * through a catch-all) is a conflict.  It is counted at once, and logged
 * once per address and pair of serials (a table of ASSIST_SEEN_MAX
 * entries, emptied when full: a conflict may then be logged again).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "assist.h"
#include "ctlproto.h"
#include "install.h"
#include "keyhash.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

#define ASSIST_SEEN_MAX 4096	/* conflicts remembered, for logging once */

struct assist_seen {
	uint64_t hash;	/* of the address, the catalogs, the serials */
};

struct assist {
	struct assist_seen seen[ASSIST_SEEN_MAX];
	size_t nseen;
	char out[CONF_ROUTE_MAX + 1];	/* a routing map's answer */
	uint64_t conflicts;
	time_t last_conflict;
	char last_address[CATALOG_KEY_MAX + 2];
	char last_catalogs[2 * CTLPROTO_CATNAME_MAX + 2];
};

struct assist *assist_new(void)
{
	return xcalloc(1, sizeof(struct assist));
}

void assist_free(struct assist *a)
{
	free(a);
}

/*
 * The domain of an address or domain key, lower-cased, into out (size
 * bytes).  A plain ASCII domain (letters, digits, '-' and inner dots),
 * the form addr_normalise() leaves as it is, is copied as it is; any
 * other spelling (a trailing dot, an internationalised domain in UTF-8)
 * is normalised as the lookup does it, so that "example.org." or a
 * U-label finds the same [domain] as "example.org" and its A-label.
 * "" when the domain cannot be normalised or does not fit: the full
 * lookup then says what it is.
 */
static void assist_domain_of(const char *key, size_t keylen, char *out,
			     size_t size)
{
	const char *at = NULL;
	size_t i, n, raw;

	for (i = keylen; i > 0; i--)
		if (key[i - 1] == '@') {
			at = key + i;
			break;
		}
	if (!at)
		at = key;
	n = keylen - (size_t)(at - key);
	raw = n;
	if (n >= size || n == 0 || at[0] == '.' || at[n - 1] == '.')
		n = 0;
	for (i = 0; i < n; i++) {
		char ch = at[i];

		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch + 32);
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		      ch == '-' || ch == '.')) {
			n = 0;
			break;
		}
		out[i] = ch;
	}
	out[n] = '\0';
	if (n == 0 && raw > 0 && raw <= ADDR_MAX) {
		char norm[ADDR_BUF], why[128];

		if (addr_domain_normalise(at, raw, norm, sizeof(norm), why,
					  sizeof(why)) == 0 &&
		    strlen(norm) < size)
			memcpy(out, norm, strlen(norm) + 1);
	}
}

/*
 * Whether catalog k may hold an address of domain (assist_domain_of()'s
 * form): 0 when the domain is not one of k's, known from k's lookup
 * cache after the first time, so asking a catalog that cannot hold the
 * key costs a hash probe instead of three B-tree searches.  1 when it
 * may, when domain is "" (not known without the full lookup) and on a
 * read error (the full lookup reports it).
 */
static int assist_may_hold(struct catalog_read *r,
			   const struct daemon_catalog *k, const char *domain)
{
	if (!domain[0])
		return 1;
	return lookup_domain_local_opts(r, k->st.cache, &k->cc->lookup,
					domain) != 0;
}

/* The catalogs to ask for key, in order; the [domain] that chose them
 * (NULL: the top level's order) into *dm, the key's domain into domain
 * (assist_domain_of()). */
static const unsigned char *assist_order(const struct daemon *d,
					 const char *key, size_t keylen,
					 size_t *n,
					 const struct conf_domain **dm,
					 char *domain, size_t domainsize)
{
	*dm = NULL;
	assist_domain_of(key, keylen, domain, domainsize);
	if (d->conf->ndomains)
		*dm = conf_domain_find(d->conf, domain);
	if (*dm && (*dm)->norder) {
		*n = (*dm)->norder;
		return (*dm)->order;
	}
	*n = d->conf->norder;
	return d->conf->order;
}

/* One catalog's answer to map (recipients, domains, senders); with a
 * domain (several catalogs), NOTFOUND at once when k cannot hold it. */
static void assist_one(struct daemon *d, struct daemon_catalog *k, int map,
		       const char *key, size_t keylen, const char *domain,
		       struct lookup_answer *ans)
{
	struct catalog_read *r = NULL;

	if (k->st.serial != 0) {
		r = daemon_reader(d, k);
		if (!r) {
			ans->status = LOOKUP_TEMP;
			ans->data = "catalog read error";
			ans->len = strlen(ans->data);
			ans->found = LOOKUP_ERROR;
			return;
		}
		if (domain && !k->st.unusable && map != LOOKUP_DOMAINS &&
		    !assist_may_hold(r, k, domain)) {
			ans->status = LOOKUP_NOTFOUND;
			ans->data = "";
			ans->len = 0;
			ans->found = LOOKUP_NOTLOCAL;
			return;
		}
	}
	lookup_answer(r, &k->cc->lookup, &k->st, map, key, keylen, ans);
}

/* A 64-bit FNV-1a over bytes, continued from h. */
static uint64_t assist_hash(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n--) {
		h ^= *b++;
		h *= 1099511628211ULL;
	}
	return h;
}

/* Report that later holds the address first answered: count it, and log
 * it unless this address and pair of serials was logged already. */
static void assist_conflict(struct daemon *d, struct daemon_catalog *first,
			    struct daemon_catalog *later,
			    const struct lookup_addr *a)
{
	struct assist *as = d->assist;
	struct keyhash *kh = first->cc->hash ? first->cc->hash
					     : later->cc->hash;
	uint64_t h = 14695981039346656037ULL;
	size_t i, slot;
	char q[LOG_QUOTE_SIZE], shown[CATALOG_KEY_MAX + 2];

	later->conflicts++;
	as->conflicts++;
	as->last_conflict = d->now;
	/* A keyed-hash catalog's addresses stay out of the log and the
	 * status: the key as that catalog stores it ("hashed:" and 32
	 * characters) names the conflict instead. */
	if (kh) {
		char hk[KEYHASH_KEY_LEN + 1];

		keyhash_key(kh, a->norm, strlen(a->norm), hk);
		snprintf(shown, sizeof(shown), "hashed:%s", hk);
	} else {
		util_copy_fit(shown, a->norm, sizeof(shown));
	}
	util_copy_fit(as->last_address, shown, sizeof(as->last_address));
	snprintf(as->last_catalogs, sizeof(as->last_catalogs), "%s,%s",
		 first->cc->name, later->cc->name);
	h = assist_hash(h, a->norm, strlen(a->norm));
	h = assist_hash(h, &first->index, sizeof(first->index));
	h = assist_hash(h, &first->info.serial, sizeof(first->info.serial));
	h = assist_hash(h, &later->index, sizeof(later->index));
	h = assist_hash(h, &later->info.serial, sizeof(later->info.serial));
	h |= 1;		/* 0 marks a free slot */
	slot = (size_t)(h % ASSIST_SEEN_MAX);
	for (i = 0; i < ASSIST_SEEN_MAX; i++) {
		struct assist_seen *s = &as->seen[(slot + i) % ASSIST_SEEN_MAX];

		if (s->hash == h)
			return;	/* logged already */
		if (s->hash == 0)
			break;
	}
	if (as->nseen >= ASSIST_SEEN_MAX / 2) {
		memset(as->seen, 0, sizeof(as->seen));
		as->nseen = 0;
		i = 0;
	}
	as->seen[(slot + i) % ASSIST_SEEN_MAX].hash = h;
	as->nseen++;
	log_warn("conflict: %s is in catalog %s (serial %llu) and in catalog "
		 "%s (serial %llu): %s answers, being first in the order",
		 log_quote(shown, strlen(shown), q, sizeof(q)),
		 first->cc->name, (unsigned long long)first->info.serial,
		 later->cc->name, (unsigned long long)later->info.serial,
		 first->cc->name);
}

/* After first answered for key: do the catalogs after it hold key too? */
static void assist_conflicts(struct daemon *d, const unsigned char *order,
			     size_t n, size_t from,
			     struct daemon_catalog *first, const char *key,
			     size_t keylen, const char *domain)
{
	struct lookup_addr a;
	size_t i;

	for (i = from; i < n; i++) {
		struct daemon_catalog *k = d->cats[order[i]];
		struct catalog_read *r;

		if (k->st.serial == 0 || k->st.unusable ||
		    !(r = daemon_reader(d, k)) ||
		    !assist_may_hold(r, k, domain))
			continue;
		if (lookup_address_cached(r, k->st.cache, &k->cc->lookup, key,
					  keylen, &a) == LOOKUP_FOUND &&
		    a.how != LOOKUP_CATCHALL)
			assist_conflict(d, first, k, &a);
	}
}

/* The value of extra field name in rec ("name=value" lines), or NULL. */
static const char *assist_extra(const struct catalog_rec *rec,
				const char *name, size_t *len)
{
	const char *p = rec->extra, *end = rec->extra + rec->extralen;
	size_t nlen = strlen(name);

	while (p && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;

		if ((size_t)(e - p) > nlen && p[nlen] == '=' &&
		    !strncasecmp(p, name, nlen)) {
			*len = (size_t)(e - p) - nlen - 1;
			return p + nlen + 1;
		}
		p = nl ? nl + 1 : end;
	}
	return NULL;
}

/* The routing answer for next hop hop[0..len) into ans: bare (route) or
 * through k's transport_template (transport). */
static void assist_route_out(struct daemon *d, struct daemon_catalog *k,
			     int map, const char *hop, size_t len,
			     struct lookup_answer *ans)
{
	char *out = d->assist->out;
	const char *t = k->cc->transport_template, *pc;
	size_t n;

	if (!conf_route_valid(hop, len)) {
		ans->status = LOOKUP_TEMP;
		ans->data = "unusable next hop in the catalog";
		ans->len = strlen(ans->data);
		return;
	}
	if (map == LOOKUP_ROUTE) {
		memcpy(out, hop, len);
		n = len;
	} else {
		pc = strstr(t, "%s");	/* there: conf.c checked */
		n = pc ? (size_t)(pc - t) + len + strlen(pc + 2) : 0;
		if (!pc || n > CONF_ROUTE_MAX) {
			ans->status = LOOKUP_TEMP;
			ans->data = "next hop too long for transport_template";
			ans->len = strlen(ans->data);
			return;
		}
		memcpy(out, t, (size_t)(pc - t));
		memcpy(out + (pc - t), hop, len);
		memcpy(out + (pc - t) + len, pc + 2, strlen(pc + 2));
	}
	out[n] = '\0';
	ans->status = LOOKUP_OK;
	ans->data = out;
	ans->len = n;
}

/* The default next hop for k's addresses under dm: the domain's, else
 * the catalog's; NOTFOUND (the MTA's own routing) when neither is set. */
static void assist_route_default(struct daemon *d, struct daemon_catalog *k,
				 const struct conf_domain *dm, int map,
				 struct lookup_answer *ans)
{
	const char *hop = dm && dm->route_default[0] ? dm->route_default
						     : k->cc->route_default;

	if (!hop[0]) {
		ans->status = LOOKUP_NOTFOUND;
		ans->data = "";
		ans->len = 0;
		return;
	}
	assist_route_out(d, k, map, hop, strlen(hop), ans);
}

/* transport and route: the next hop of the first catalog holding the
 * address (its route field, else the defaults); for an unknown address
 * of a local domain, the defaults of the first catalog it is local in. */
static void assist_route(struct daemon *d, int map, const char *key,
			 size_t keylen, struct lookup_answer *ans)
{
	const struct conf_domain *dm;
	struct daemon_catalog *local = NULL;
	const char *temp = NULL;
	struct lookup_addr a;
	char domain[CONF_NAME_MAX + 1];
	size_t n, i, len;
	const unsigned char *order = assist_order(d, key, keylen, &n, &dm,
						  domain, sizeof(domain));

	ans->found = LOOKUP_UNKNOWN;
	for (i = 0; i < n; i++) {
		struct daemon_catalog *k = d->cats[order[i]];
		struct catalog_read *r;
		const char *hop;
		int rc;

		if (k->st.serial == 0 || k->st.unusable) {
			temp = temp ? temp : k->st.unusable ? k->st.unusable
						       : "no catalog installed";
			continue;
		}
		if (!(r = daemon_reader(d, k))) {
			temp = temp ? temp : "catalog read error";
			continue;
		}
		if (!assist_may_hold(r, k, domain))
			continue;
		rc = lookup_address_cached(r, k->st.cache, &k->cc->lookup, key,
					   keylen, &a);
		if (rc == LOOKUP_ERROR) {
			temp = temp ? temp : "catalog read error";
			continue;
		}
		if (k->st.stale &&
		    k->cc->lookup.stale_policy == LOOKUP_STALE_TEMPFAIL &&
		    (rc == LOOKUP_FOUND || rc == LOOKUP_UNKNOWN)) {
			temp = temp ? temp : "catalog expired";
			/* It holds the address: no later catalog routes it. */
			if (rc == LOOKUP_FOUND)
				break;
			continue;
		}
		if (rc == LOOKUP_UNKNOWN && !local)
			local = k;
		if (rc != LOOKUP_FOUND)
			continue;
		ans->found = LOOKUP_FOUND;
		if (k->cc->route_field[0] &&
		    (hop = assist_extra(&a.rec, k->cc->route_field, &len)))
			assist_route_out(d, k, map, hop, len, ans);
		else
			assist_route_default(d, k, dm, map, ans);
		return;
	}
	if (temp) {
		ans->status = LOOKUP_TEMP;
		ans->data = temp;
		ans->len = strlen(temp);
		ans->found = LOOKUP_ERROR;
		return;
	}
	if (local) {
		assist_route_default(d, local, dm, map, ans);
		return;
	}
	ans->status = LOOKUP_NOTFOUND;
	ans->data = "";
	ans->len = 0;
	ans->found = LOOKUP_NOTLOCAL;
}

void assist_answer(struct daemon *d, int map, const char *key, size_t keylen,
		   struct lookup_answer *ans)
{
	const struct conf_domain *dm;
	struct lookup_answer one, temp = { .status = -1 };
	const unsigned char *order;
	char domain[CONF_NAME_MAX + 1];
	size_t n, i;

	if (map == LOOKUP_TRANSPORT || map == LOOKUP_ROUTE) {
		assist_route(d, map, key, keylen, ans);
		return;
	}
	/* One catalog: its answer, as ever. */
	if (d->ncats == 1 || map == LOOKUP_MAP_NONE) {
		assist_one(d, d->cats[d->conf->order[0]], map, key, keylen,
			   NULL, ans);
		return;
	}
	order = assist_order(d, key, keylen, &n, &dm, domain, sizeof(domain));
	for (i = 0; i < n; i++) {
		struct daemon_catalog *k = d->cats[order[i]];

		assist_one(d, k, map, key, keylen, domain, &one);
		/* A catalog holding the address answers it, whatever it
		 * says: TEMP while it is expired under tempfail, NOTFOUND
		 * in the senders map when nobody owns it - no later catalog
		 * takes the address over (the domains map excepted: a
		 * domain in two catalogs stays known). */
		if (one.status == LOOKUP_OK ||
		    (one.found == LOOKUP_FOUND && map != LOOKUP_DOMAINS)) {
			*ans = one;
			if (map != LOOKUP_DOMAINS)
				assist_conflicts(d, order, n, i + 1, k, key,
						 keylen, domain);
			return;
		}
		if (one.status == LOOKUP_TEMP && one.found != LOOKUP_NOTLOCAL &&
		    temp.status < 0)
			temp = one;
	}
	if (temp.status >= 0) {
		*ans = temp;
		return;
	}
	ans->status = LOOKUP_NOTFOUND;
	ans->data = "";
	ans->len = 0;
	ans->found = LOOKUP_UNKNOWN;
}

/*
 * The catalog that judges addr in a policy request: the first holding
 * it, else the first it is a local domain of, else the first with
 * nothing installed or unreadable (it might hold it: the decision defers),
 * else the first in the order.
 */
static struct daemon_catalog *assist_pick(struct daemon *d, const char *addr)
{
	struct daemon_catalog *local = NULL, *unsure = NULL;
	const struct conf_domain *dm;
	struct lookup_addr a;
	char domain[CONF_NAME_MAX + 1];
	size_t n, i, len = strlen(addr);
	const unsigned char *order = assist_order(d, addr, len, &n, &dm,
						  domain, sizeof(domain));

	for (i = 0; i < n; i++) {
		struct daemon_catalog *k = d->cats[order[i]];
		struct catalog_read *r;
		int rc;

		if (k->st.serial == 0 || k->st.unusable ||
		    !(r = daemon_reader(d, k))) {
			unsure = unsure ? unsure : k;
			continue;
		}
		if (!assist_may_hold(r, k, domain))
			continue;
		rc = lookup_address_cached(r, k->st.cache, &k->cc->lookup,
					   addr, len, &a);
		if (rc == LOOKUP_FOUND)
			return k;
		if (rc == LOOKUP_ERROR)
			unsure = unsure ? unsure : k;
		else if ((rc == LOOKUP_UNKNOWN ||
			  (rc == LOOKUP_INVALID && domain[0])) && !local)
			local = k;	/* an unreadable address of its domain:
					   k refuses it (lookup_policy_decide) */
	}
	return local ? local : unsure ? unsure : d->cats[order[0]];
}

/* lookup_policy_decide() on catalog k; -1 on a read error. */
static int assist_decide(struct daemon *d, struct daemon_catalog *k,
			 const char *protocol_state, const char *sender,
			 const char *recipient, const char *sasl_username,
			 const char *client_address, char *action,
			 size_t actionsize, const char **rule)
{
	struct catalog_read *r = k->st.serial ? daemon_reader(d, k) : NULL;

	if (k->st.serial && !r)
		return -1;
	return lookup_policy_decide(r, &k->cc->lookup, &k->st,
				    &d->conf->policy, protocol_state, sender,
				    recipient, sasl_username, client_address,
				    action, actionsize, rule);
}

int assist_policy(struct daemon *d, const char *protocol_state,
		  const char *sender, const char *recipient,
		  const char *sasl_username, const char *client_address,
		  char *action, size_t actionsize, const char **rule)
{
	if (d->ncats == 1)
		return assist_decide(d, d->cats[0], protocol_state, sender,
				     recipient, sasl_username, client_address,
				     action, actionsize, rule);
	/* The sender, when there is something to check about it, by the
	 * catalog that holds it; then the recipient by its own. */
	if (sender[0] && strcasecmp(protocol_state, "RCPT") == 0 &&
	    (sasl_username[0] ||
	     d->conf->policy.reject_unauthenticated_local_sender)) {
		if (assist_decide(d, assist_pick(d, sender), protocol_state,
				  sender, "", sasl_username, client_address,
				  action, actionsize, rule) < 0)
			return -1;
		if (strcmp(action, "DUNNO"))
			return 0;
	}
	/* No sender here: sasl_username and client_address only say
	 * whether the client is internal (internal-only recipients). */
	return assist_decide(d, assist_pick(d, recipient), protocol_state, "",
			     recipient, sasl_username, client_address, action,
			     actionsize, rule);
}

void assist_status(struct daemon *d, struct ctlproto_status *st)
{
	struct assist *as = d->assist;
	size_t i, n = 0;

	for (i = 0; i < d->ncats && i < CTLPROTO_CATALOGS_MAX; i++) {
		const struct daemon_catalog *k = d->cats[i];
		struct ctlproto_catalog *c = &st->catalog_list[i];

		util_copy_fit(c->name, k->cc->name, sizeof(c->name));
		util_copy_fit(c->id, k->cc->id, sizeof(c->id));
		c->serial = k->info.serial;
		c->epoch = k->info.epoch;
		c->created = k->info.created;
		c->expires = k->info.expires;
		c->installed = k->info.installed;
		c->stale = k->st.stale;
		util_copy_fit(c->stale_policy,
			     lookup_stale_name(k->cc->lookup.stale_policy),
			     sizeof(c->stale_policy));
		c->records = k->info.records;
		util_copy_fit(c->key_id, k->info.key_id, sizeof(c->key_id));
		c->conflicts = k->conflicts;
		install_catalog_status(k, c);
		st->catalogs++;
	}
	for (i = 0; i < d->conf->norder; i++) {
		const char *name = d->conf->cat[d->conf->order[i]].name;

		if (n + strlen(name) + 3 > sizeof(st->order))
			break;
		if (n) {
			st->order[n++] = ',';
			st->order[n++] = ' ';
		}
		memcpy(st->order + n, name, strlen(name) + 1);
		n += strlen(name);
	}
	for (i = 0; i < d->conf->ndomains; i++)
		st->domain_orders += d->conf->domain[i].norder > 0;
	st->conflicts = as->conflicts;
	st->last_conflict = (int64_t)as->last_conflict;
	util_copy_fit(st->last_conflict_address, as->last_address,
		     sizeof(st->last_conflict_address));
	util_copy_fit(st->last_conflict_catalogs, as->last_catalogs,
		     sizeof(st->last_conflict_catalogs));
}

void assist_metrics(struct daemon *d, struct metrics *m)
{
	size_t i;

	metrics_family(m, "dircat_catalogd_catalog_serial", "gauge",
		       "Serial of each catalog the node serves (0: nothing "
		       "installed yet), by its name.");
	for (i = 0; i < d->ncats; i++)
		metrics_u64(m, "catalog", d->cats[i]->cc->name, NULL, NULL,
			    d->cats[i]->info.serial);
	metrics_family(m, "dircat_catalogd_catalog_stale", "gauge",
		       "1 when that catalog is past its expiry.");
	for (i = 0; i < d->ncats; i++)
		metrics_u64(m, "catalog", d->cats[i]->cc->name, NULL, NULL,
			    (uint64_t)d->cats[i]->st.stale);
	metrics_family(m, "dircat_catalogd_conflicts_total", "counter",
		       "Lookups since start of an address that catalog holds "
		       "too, answered by a catalog before it in the order.");
	for (i = 0; i < d->ncats; i++)
		metrics_u64(m, "catalog", d->cats[i]->cc->name, NULL, NULL,
			    d->cats[i]->conflicts);
}
