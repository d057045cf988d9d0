/*
 * test_lookup.c - catalogd's lookup rules against a real catalog file:
 * normalisation, extensions, catch-alls, local domains, the three maps,
 * the stale policies and the policy delegation decisions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "catfill.h"
#include "check.h"
#include "cidr.h"
#include "keyhash.h"
#include "lookup.h"
#include "util.h"

static const struct catfill_rec recs[] = { CATFILL_LOOKUP_RECS };
static const char *client = "";	/* client_address of decide() */

/* Ask map for key; return "STATUS data" in a static buffer. */
static const char *ask(struct catalog_read *r, const struct lookup_opts *o,
		       const struct lookup_state *st, int map, const char *key)
{
	static char out[512];
	struct lookup_answer a;

	lookup_answer(r, o, st, map, key, strlen(key), &a);
	snprintf(out, sizeof(out), "%s %.*s", lookup_status_word(a.status),
		 (int)a.len, a.data);
	return out;
}

static const char *decide(struct catalog_read *r, const struct lookup_opts *o,
			  const struct lookup_state *st,
			  const struct lookup_policy *p, const char *state,
			  const char *sender, const char *rcpt,
			  const char *sasl)
{
	static char action[LOOKUP_ACTION_MAX];
	const char *rule;

	if (lookup_policy_decide(r, o, st, p, state, sender, rcpt, sasl,
				 client, action, sizeof(action), &rule) < 0)
		return "(error)";
	return action;
}

/* Every key of keys[] answers the same with and without the cache,
 * asked twice (the second time from the cache). */
static void same_answers(struct catalog_read *r, struct lookup_cache *c,
			 const struct lookup_opts *o, const char *const *keys,
			 size_t n, const char *when)
{
	struct lookup_addr a, b;
	size_t i;
	int pass, ra, rb;

	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < n; i++) {
			ra = lookup_address(r, o, keys[i], strlen(keys[i]), &a);
			rb = lookup_address_cached(r, c, o, keys[i],
						   strlen(keys[i]), &b);
			CHECK(ra == rb && a.how == b.how &&
			      !strcmp(a.key, b.key),
			      "%s: %s: %d/%d %s/%s (pass %d)", when, keys[i],
			      ra, rb, a.key, b.key, pass);
		}
}

/* Put (kind > 0) or delete (kind 0) keys in one commit. */
static void change(struct catalog *cat, const char *const *keys,
		   const int *kinds, size_t n)
{
	struct catalog_txn *t;
	struct catalog_rec rec;
	char err[512] = "";
	size_t i;
	int ok;

	t = catalog_write_begin(cat, err, sizeof(err));
	ok = t != NULL;
	for (i = 0; ok && i < n; i++) {
		memset(&rec, 0, sizeof(rec));
		rec.key = keys[i];
		rec.keylen = strlen(keys[i]);
		rec.kind = kinds[i];
		ok = kinds[i] ? catalog_txn_put(t, &rec, err, sizeof(err)) >= 0
			      : catalog_txn_del(t, keys[i], rec.keylen, err,
						sizeof(err)) >= 0;
	}
	if (t && !ok)
		catalog_txn_abort(t);
	CHECK(ok && catalog_txn_commit(t, err, sizeof(err)) > 0,
	      "change catalog (%s)", err);
}

/* The cache across commits: domains and catch-alls added and removed
 * between reads must be seen at once, with no one clearing the cache.
 * Returns the read in use at the end. */
static struct catalog_read *test_cache(struct catalog *cat,
				       struct catalog_read *r,
				       const struct lookup_opts *o)
{
	static const char *const keys[] = {
		"jsmith@example.com", "nobody@example.com",
		"jsmith+x@example.com", "someone@catchall.example",
		"info@catchall.example", "x@elsewhere.net", "y@new.example",
		"y@deep.sub.example.org", "y@sub.example.org",
		"@example.com", "@catchall.example", "z@x.sub.example.org",
		"anna@xn--bcher-kva.example", "bob@xn--bcher-kva.example",
	};
	static const char *const add[] = {
		"@example.com", "new.example", "@xn--bcher-kva.example"
	};
	static const char *const del[] = {
		"catchall.example", "@catchall.example", ".sub.example.org",
		"xn--bcher-kva.example"
	};
	static const int add_kinds[] = {
		CATALOG_MAILIN, CATALOG_DOMAIN, CATALOG_DOMAIN
	};
	static const int del_kinds[] = { 0, 0, 0, 0 };
	size_t nkeys = sizeof(keys) / sizeof(keys[0]);
	struct lookup_cache *c = lookup_cache_new();
	struct lookup_state st = { 1, 0, c, NULL };
	struct lookup_opts oo = *o;
	struct lookup_addr a;
	char err[512], key[64];
	uint64_t v;
	int i, rc;

	oo.delims[0] = '+';
	oo.delims[1] = '\0';
	same_answers(r, c, &oo, keys, nkeys, "cache, first version");
	CHECK(lookup_address_cached(r, c, &oo, "nobody@example.com", 18,
				    &a) == LOOKUP_UNKNOWN, "cache: unknown");
	CHECK(lookup_domain_local_cached(r, c, "catchall.example") == 1,
	      "cache: local domain");
	v = catalog_read_version(r);
	CHECK(v == catalog_read_version(r), "version stable in one read");

	/* Add a catch-all and a domain, and an "@domain" that is a domain
	 * record (not a catch-all); remove a domain and its catch-all. */
	catalog_read_end(r);
	change(cat, add, add_kinds, 3);
	change(cat, del, del_kinds, 4);
	r = catalog_read_begin(cat, err, sizeof(err));
	CHECK(r != NULL, "read again");
	if (!r)
		return NULL;
	CHECK(catalog_read_version(r) != v, "version changes with a commit");
	same_answers(r, c, &oo, keys, nkeys, "cache, second version");
	rc = lookup_address_cached(r, c, &oo, "nobody@example.com", 18, &a);
	CHECK(rc == LOOKUP_FOUND && a.how == LOOKUP_CATCHALL,
	      "cache: new catch-all seen (%d)", rc);
	CHECK(lookup_address_cached(r, c, &oo, "someone@catchall.example",
				    24, &a) == LOOKUP_NOTLOCAL,
	      "cache: removed domain seen");
	CHECK(lookup_address_cached(r, c, &oo, "y@new.example", 13, &a) ==
	      LOOKUP_UNKNOWN, "cache: new domain seen");
	CHECK(lookup_domain_local_cached(r, c, "catchall.example") == 0 &&
	      lookup_domain_local_cached(r, c, "new.example") == 1,
	      "cache: domain map follows");
	CHECK_STR(ask(r, &oo, &st, LOOKUP_DOMAINS, "a.sub.example.org"),
		  "NOTFOUND ", "cache: removed parent entry seen");
	CHECK_STR(ask(r, &oo, &st, LOOKUP_RECIPIENTS, "who@example.com"),
		  "OK mailin", "cache: catch-all answers");

	/* Back: remove what was added; cleared or not, the same answers. */
	catalog_read_end(r);
	change(cat, add, del_kinds, 3);
	r = catalog_read_begin(cat, err, sizeof(err));
	CHECK(r != NULL, "read a third time");
	if (!r)
		return NULL;
	same_answers(r, c, &oo, keys, nkeys, "cache, third version");
	lookup_cache_clear(c);
	same_answers(r, c, &oo, keys, nkeys, "cache, cleared");

	/* More domains than slots: each evicts another, answers stay. */
	for (i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "u%d@d%d.example.com", i, i % 300);
		rc = lookup_address_cached(r, c, &oo, key, strlen(key), &a);
		CHECK(rc == LOOKUP_NOTLOCAL, "cache: many domains: %s", key);
		rc = lookup_address_cached(r, c, &oo, "nobody@example.com",
					   18, &a);
		CHECK(rc == LOOKUP_UNKNOWN, "cache: many domains, %d", i);
	}
	lookup_cache_free(c);
	return r;
}

/* Records with extra fields, for the keyed-hash and internal-only
 * tests: key, kind, owners, extra. */
static const char *const xrecs[][4] = {
	{ "example.com", "domain", "", "" },
	{ ".sub.example.org", "domain", "", "" },
	{ "catchall.example", "domain", "", "" },
	{ "@catchall.example", "mailin", "", "" },
	{ "jsmith@example.com", "person", "jsmith,J.Smith@Example.com", "" },
	{ "a+b@example.com", "person", "plus", "" },
	{ "staff@example.com", "group", "", "internal_only=yes" },
	{ "hubs@example.com", "group", "boss",
	  "mailHost=hub1.example.com\ninternal_only=yes" },
	{ "almost@example.com", "group", "", "internal_only=yesno" },
	{ "x@deep.sub.example.org", "person", "x", "note=internal_only=yes" },
};
#define NXRECS (sizeof(xrecs) / sizeof(xrecs[0]))

/* Put xrecs into cat, hashed and sealed with kh unless it is NULL. */
static void xfill(struct catalog *cat, struct keyhash *kh)
{
	static char buf[CATALOG_OWNERS_MAX + CATALOG_EXTRA_MAX];
	char err[512], hk[KEYHASH_KEY_LEN + 1];
	struct catalog_txn *t = catalog_write_begin(cat, err, sizeof(err));
	struct catalog_rec rec, sealed;
	size_t i;
	int ok = t != NULL;

	for (i = 0; ok && i < NXRECS; i++) {
		memset(&rec, 0, sizeof(rec));
		rec.key = xrecs[i][0];
		rec.keylen = strlen(rec.key);
		rec.kind = catalog_kind_parse(xrecs[i][1]);
		rec.owners = xrecs[i][2];
		rec.ownerslen = strlen(rec.owners);
		rec.extra = xrecs[i][3];
		rec.extralen = strlen(rec.extra);
		if (kh) {
			ok = keyhash_rec_seal(kh, &rec, &sealed, buf,
					      sizeof(buf), err,
					      sizeof(err)) == 0;
			keyhash_key(kh, rec.key, rec.keylen, hk);
			sealed.key = hk;
			sealed.keylen = KEYHASH_KEY_LEN;
			rec = sealed;
		}
		ok = ok && catalog_txn_put(t, &rec, err, sizeof(err)) >= 0;
	}
	CHECK(ok && catalog_txn_commit(t, err, sizeof(err)) == 1,
	      "fill the %s catalog", kh ? "keyed-hash" : "clear");
}

/* Keyed-hash mode answers exactly as clear mode, for every map and the
 * policy service, with and without the cache; internal-only recipients
 * in both. */
static void test_keyed(const char *dir)
{
	static const char *const keys[] = {
		"jsmith@example.com", "JSmith@EXAMPLE.com", "jsmith+x@example.com",
		"a+b@example.com", "a+c@example.com", "+x@example.com",
		"nobody@example.com", "someone@catchall.example",
		"x@deep.sub.example.org", "y@deep.sub.example.org",
		"staff@example.com", "hubs@example.com", "almost@example.com",
		"x@elsewhere.net", "example.com", "sub.example.org",
		"deep.sub.example.org", "catchall.example", "elsewhere.net",
		"@catchall.example", "not an address", "",
	};
	static const char *const hex =
		"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	unsigned char secret[KEYHASH_SECRET_MAX];
	char path[600], err[512], a1[600], a2[600];
	struct lookup_opts oc = { "+", 0, LOOKUP_STALE_DEFER_UNKNOWN, NULL };
	struct lookup_opts ok = oc;
	struct lookup_state stc = { 1, 0, NULL, NULL }, sth = stc;
	struct lookup_state nocache = stc;
	struct lookup_policy pol = {
		"550 5.1.1 User unknown", "450 4.1.1 Try later",
		"553 5.7.1 Not yours", "550 5.7.1 Log in first", 0, NULL, NULL
	};
	struct cidr_list nets;
	struct catalog *cc, *ch;
	struct catalog_read *rc, *rh;
	struct keyhash *kh;
	size_t i, same = 0, n = 0;
	int m, s;

	keyhash_parse_secret(hex, 64, secret, err, sizeof(err));
	kh = keyhash_new(secret, 32, err, sizeof(err));
	ok.hash = kh;
	snprintf(path, sizeof(path), "%s/clear.mdb", dir);
	cc = catalog_open(path, CATALOG_NOSYNC, err, sizeof(err));
	snprintf(path, sizeof(path), "%s/keyed.mdb", dir);
	ch = catalog_open(path, CATALOG_NOSYNC, err, sizeof(err));
	if (!cc || !ch || !kh) {
		CHECK(0, "open the catalogs: %s", err);
		return;
	}
	xfill(cc, NULL);
	xfill(ch, kh);
	rc = catalog_read_begin(cc, err, sizeof(err));
	rh = catalog_read_begin(ch, err, sizeof(err));
	stc.cache = lookup_cache_new();
	sth.cache = lookup_cache_new();
	for (s = 0; s < 2; s++)	/* the second time from the caches */
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			for (m = LOOKUP_RECIPIENTS; m <= LOOKUP_SENDERS; m++) {
				snprintf(a1, sizeof(a1), "%s",
					 ask(rc, &oc, &stc, m, keys[i]));
				snprintf(a2, sizeof(a2), "%s",
					 ask(rh, &ok, &sth, m, keys[i]));
				n++;
				if (!strcmp(a1, a2))
					same++;
				else
					printf("    %s %s: clear '%s', keyed "
					       "'%s'\n", lookup_map_name(m),
					       keys[i], a1, a2);
			}
	CHECK(same == n && n > 100, "keyed-hash: %zu of %zu answers as in "
	      "clear mode", same, n);
	CHECK(!strcmp(ask(rh, &ok, &sth, LOOKUP_SENDERS, "hubs@example.com"),
		      "OK boss"), "keyed-hash: the senders map opens owners");
	CHECK(!strcmp(ask(rh, &oc, &nocache, LOOKUP_RECIPIENTS,
			  "jsmith@example.com"), "NOTFOUND ") &&
	      !strcmp(ask(rh, &oc, &nocache, LOOKUP_DOMAINS, "example.com"),
		      "NOTFOUND "),
	      "a keyed-hash catalog read without the secret knows nothing");

	/* Internal-only recipients. */
	cidr_list_parse("10.0.0.0/8, 2001:db8:1::/48", 27, &nets, err,
			sizeof(err));
	pol.internal_networks = &nets;
	for (s = 0; s < 2; s++) {
		struct catalog_read *r = s ? rh : rc;
		const struct lookup_opts *o = s ? &ok : &oc;
		const struct lookup_state *st = s ? &sth : &stc;
		const char *mode = s ? "keyed-hash" : "clear";

		client = "192.0.2.7";
		CHECK(!strcmp(decide(r, o, st, &pol, "RCPT", "x@ext.test",
				     "staff@example.com", ""),
			      LOOKUP_INTERNAL_ONLY_TEXT),
		      "%s: external client to an internal-only group: 550 5.7.1",
		      mode);
		CHECK(!strcmp(decide(r, o, st, &pol, "RCPT", "x@ext.test",
				     "Hubs+x@Example.COM", ""),
			      LOOKUP_INTERNAL_ONLY_TEXT),
		      "%s: the mark among other extra fields, case and "
		      "extension: 550 5.7.1", mode);
		CHECK(!strcmp(decide(r, o, st, &pol, "RCPT", "",
				     "staff@example.com", "someone"), "DUNNO"),
		      "%s: authenticated client: DUNNO", mode);
		client = "10.20.30.40";
		CHECK(!strcmp(decide(r, o, st, &pol, "RCPT", "x@ext.test",
				     "staff@example.com", ""), "DUNNO"),
		      "%s: internal client (10/8): DUNNO", mode);
		client = "2001:db8:1::9";
		CHECK(!strcmp(decide(r, o, st, &pol, "RCPT", "x@ext.test",
				     "staff@example.com", ""), "DUNNO"),
		      "%s: internal IPv6 client: DUNNO", mode);
		client = "192.0.2.7";
		CHECK(!strcmp(decide(r, o, st, &pol, "RCPT", "x@ext.test",
				     "almost@example.com", ""), "DUNNO") &&
		      !strcmp(decide(r, o, st, &pol, "RCPT", "x@ext.test",
				     "x@deep.sub.example.org", ""), "DUNNO") &&
		      !strcmp(decide(r, o, st, &pol, "RCPT", "x@ext.test",
				     "jsmith@example.com", ""), "DUNNO"),
		      "%s: only the whole line internal_only=yes marks", mode);
		client = "";
		CHECK(!strcmp(decide(r, o, st, &pol, "RCPT", "x@ext.test",
				     "staff@example.com", ""),
			      LOOKUP_INTERNAL_ONLY_TEXT),
		      "%s: no client address: external", mode);
	}
	pol.internal_networks = NULL;
	pol.internal_only_recipient = "554 5.7.1 Internal list";
	client = "10.20.30.40";
	CHECK(!strcmp(decide(rc, &oc, &stc, &pol, "RCPT", "x@ext.test",
			     "staff@example.com", ""), "554 5.7.1 Internal list"),
	      "no internal_networks: only authenticated clients are internal; "
	      "the text is configurable");
	client = "";
	lookup_cache_free(stc.cache);
	lookup_cache_free(sth.cache);
	catalog_read_end(rc);
	catalog_read_end(rh);
	catalog_close(cc);
	catalog_close(ch);
	keyhash_free(kh);
}

int main(void)
{
	char dir[256], path[512], err[512];
	struct lookup_opts o = { "+", 0, LOOKUP_STALE_DEFER_UNKNOWN, NULL };
	struct lookup_state st = { 1, 0, NULL, NULL };
	struct lookup_policy pol = {
		"550 5.1.1 User unknown", "450 4.1.1 Try later",
		"553 5.7.1 Not yours", "550 5.7.1 Log in first", 0, NULL, NULL
	};
	struct lookup_addr a;
	struct catalog *cat;
	struct catalog_read *r;
	int rc;

	if (check_mkdtemp(dir, sizeof(dir), "lookup") < 0)
		return 1;
	snprintf(path, sizeof(path), "%s/cat.mdb", dir);
	cat = catalog_open(path, CATALOG_NOSYNC, err, sizeof(err));
	CHECK(cat != NULL, "open catalog (%s)", cat ? "" : err);
	if (!cat)
		return check_done();
	CHECK(catfill(cat, recs, sizeof(recs) / sizeof(recs[0]), err,
		      sizeof(err)) == 1, "fill catalog (%s)", err);
	r = catalog_read_begin(cat, err, sizeof(err));
	CHECK(r != NULL, "read");

	/* lookup_address: the path each key takes. */
	rc = lookup_address(r, &o, "jsmith@example.com", 18, &a);
	CHECK(rc == LOOKUP_FOUND && a.how == LOOKUP_EXACT, "exact");
	rc = lookup_address(r, &o, " <JSmith@EXAMPLE.com> ", 22, &a);
	CHECK(rc == LOOKUP_FOUND && a.how == LOOKUP_EXACT &&
	      !strcmp(a.norm, "jsmith@example.com"),
	      "case folded, brackets and spaces removed");
	rc = lookup_address(r, &o, "jsmith+news@example.com", 23, &a);
	CHECK(rc == LOOKUP_FOUND && a.how == LOOKUP_STRIPPED &&
	      !strcmp(a.key, "jsmith@example.com"), "extension stripped");
	rc = lookup_address(r, &o, "a+b@example.com", 15, &a);
	CHECK(rc == LOOKUP_FOUND && a.how == LOOKUP_EXACT,
	      "a real '+' address found whole first");
	rc = lookup_address(r, &o, "+x@example.com", 14, &a);
	CHECK(rc == LOOKUP_UNKNOWN, "leading delimiter is not an extension");
	rc = lookup_address(r, &o, "nobody@example.com", 18, &a);
	CHECK(rc == LOOKUP_UNKNOWN, "unknown in a local domain");
	rc = lookup_address(r, &o, "someone@catchall.example", 24, &a);
	CHECK(rc == LOOKUP_FOUND && a.how == LOOKUP_CATCHALL &&
	      !strcmp(a.key, "@catchall.example"), "catch-all");
	rc = lookup_address(r, &o, "info@catchall.example", 21, &a);
	CHECK(rc == LOOKUP_FOUND && a.how == LOOKUP_EXACT &&
	      a.rec.kind == CATALOG_GROUP, "exact before catch-all");
	rc = lookup_address(r, &o, "x@elsewhere.net", 15, &a);
	CHECK(rc == LOOKUP_NOTLOCAL, "not a local domain");
	rc = lookup_address(r, &o, "example.com", 11, &a);
	CHECK(rc == LOOKUP_INVALID, "a domain is not an address");
	rc = lookup_address(r, &o, "y@deep.sub.example.org", 22, &a);
	CHECK(rc == LOOKUP_UNKNOWN, "subdomain covered by .sub.example.org");
	rc = lookup_address(r, &o, "y@sub.example.org", 17, &a);
	CHECK(rc == LOOKUP_NOTLOCAL, ".sub.example.org is not sub.example.org");
	rc = lookup_address(r, &o, "anna@B\xc3\xbc" "cher.example", 20, &a);
	CHECK(rc == LOOKUP_FOUND, "internationalised domain as A-label");
	rc = lookup_address(r, &o, "bad\x01@example.com", 16, &a);
	CHECK(rc == LOOKUP_INVALID && a.why[0], "control character refused");
	rc = lookup_address(r, &o, "", 0, &a);
	CHECK(rc == LOOKUP_INVALID, "empty");
	{
		char longkey[2000];

		memset(longkey, 'a', sizeof(longkey));
		memcpy(longkey + sizeof(longkey) - 12, "@example.com", 12);
		rc = lookup_address(r, &o, longkey, sizeof(longkey), &a);
		CHECK(rc == LOOKUP_INVALID, "2000-byte key refused");
	}
	o.delims[0] = '\0';
	rc = lookup_address(r, &o, "jsmith+news@example.com", 23, &a);
	CHECK(rc == LOOKUP_UNKNOWN, "no delimiter configured: no stripping");
	util_copy_fit(o.delims, "+-", sizeof(o.delims));
	rc = lookup_address(r, &o, "jsmith-news@example.com", 23, &a);
	CHECK(rc == LOOKUP_FOUND && a.how == LOOKUP_STRIPPED,
	      "second delimiter character");
	util_copy_fit(o.delims, "+", sizeof(o.delims));
	o.addr_flags = ADDR_CASE_SENSITIVE;
	rc = lookup_address(r, &o, "JSmith@example.com", 18, &a);
	CHECK(rc == LOOKUP_UNKNOWN, "case-sensitive local part");
	o.addr_flags = 0;

	/* lookup_domain_local */
	CHECK(lookup_domain_local(r, "example.com") == 1, "local domain");
	CHECK(lookup_domain_local(r, "example.net") == 0, "foreign domain");
	CHECK(lookup_domain_local(r, "jsmith@example.com") == 0,
	      "an address is not a domain");

	/* Owners. */
	CHECK(lookup_owner_match("jsmith,adm", 10, "jsmith") == 1, "owner 1");
	CHECK(lookup_owner_match("jsmith,adm", 10, "ADM") == 1,
	      "owner, case ignored");
	CHECK(lookup_owner_match("jsmith,adm", 10, "js") == 0, "no prefix");
	CHECK(lookup_owner_match("jsmith,adm", 10, "") == 0, "empty login");
	CHECK(lookup_owner_match("", 0, "x") == 0, "no owners");
	CHECK(lookup_owner_match("a, b", 4, "b") == 1, "spaces tolerated");

	/* Socketmap answers. */
	CHECK_STR(ask(r, &o, &st, LOOKUP_RECIPIENTS, "JSmith+x@Example.com"),
		  "OK person", "recipients found");
	CHECK_STR(ask(r, &o, &st, LOOKUP_RECIPIENTS, "nobody@example.com"),
		  "NOTFOUND ", "recipients not found");
	CHECK_STR(ask(r, &o, &st, LOOKUP_RECIPIENTS, "x@elsewhere.net"),
		  "NOTFOUND ", "recipients foreign");
	CHECK_STR(ask(r, &o, &st, LOOKUP_RECIPIENTS, "not an address"),
		  "NOTFOUND ", "recipients junk");
	CHECK_STR(ask(r, &o, &st, LOOKUP_DOMAINS, "Example.COM"), "OK domain",
		  "domains found");
	CHECK_STR(ask(r, &o, &st, LOOKUP_DOMAINS, "example.net"), "NOTFOUND ",
		  "domains not found");
	CHECK_STR(ask(r, &o, &st, LOOKUP_DOMAINS, "a.sub.example.org"),
		  "OK domain", "domains: parent entry");
	CHECK_STR(ask(r, &o, &st, LOOKUP_SENDERS, "sales@example.com"),
		  "OK jsmith,Adm@Example.COM", "senders: owners");
	CHECK_STR(ask(r, &o, &st, LOOKUP_SENDERS, "jsmith+a@example.com"),
		  "OK jsmith", "senders: extension stripped");
	CHECK_STR(ask(r, &o, &st, LOOKUP_SENDERS, "nobody-owns@example.com"),
		  "NOTFOUND ", "senders: no owners is not found");
	CHECK_STR(ask(r, &o, &st, LOOKUP_MAP_NONE, "x"), "PERM unknown map",
		  "unknown map");
	CHECK(lookup_map_parse("recipients", 10) == LOOKUP_RECIPIENTS &&
	      lookup_map_parse("senders", 7) == LOOKUP_SENDERS &&
	      lookup_map_parse("domains", 7) == LOOKUP_DOMAINS &&
	      lookup_map_parse("recipient", 9) == LOOKUP_MAP_NONE &&
	      lookup_map_parse("", 0) == LOOKUP_MAP_NONE, "map names");

	/* Nothing installed. */
	{
		struct lookup_state none = { 0, 0, NULL, NULL };

		CHECK_STR(ask(r, &o, &none, LOOKUP_RECIPIENTS,
			      "jsmith@example.com"),
			  "TEMP no catalog installed", "no catalog: TEMP");
		CHECK_STR(decide(r, &o, &none, &pol, "RCPT", "", "a@b.c", ""),
			  "DEFER_IF_PERMIT no directory catalog installed",
			  "no catalog: policy defers");
	}

	/* Stale: the three policies. */
	{
		struct lookup_state stale = { 1, 1, NULL, NULL };

		o.stale_policy = LOOKUP_STALE_DEFER_UNKNOWN;
		CHECK_STR(ask(r, &o, &stale, LOOKUP_RECIPIENTS,
			      "jsmith@example.com"), "OK person",
			  "stale defer-unknown: known found");
		CHECK_STR(ask(r, &o, &stale, LOOKUP_RECIPIENTS,
			      "nobody@example.com"), "TEMP catalog expired",
			  "stale defer-unknown: unknown TEMP");
		CHECK_STR(ask(r, &o, &stale, LOOKUP_RECIPIENTS,
			      "x@elsewhere.net"), "NOTFOUND ",
			  "stale defer-unknown: foreign still NOTFOUND");
		CHECK_STR(ask(r, &o, &stale, LOOKUP_DOMAINS, "example.net"),
			  "NOTFOUND ", "stale defer-unknown: domains as usual");
		CHECK_STR(decide(r, &o, &stale, &pol, "RCPT", "a@b.c",
				 "nobody@example.com", ""),
			  "450 4.1.1 Try later", "stale policy: 450");
		CHECK_STR(decide(r, &o, &stale, &pol, "RCPT", "a@b.c",
				 "jsmith@example.com", ""),
			  "DUNNO", "stale policy: known passes");
		o.stale_policy = LOOKUP_STALE_SERVE;
		CHECK_STR(ask(r, &o, &stale, LOOKUP_RECIPIENTS,
			      "nobody@example.com"), "NOTFOUND ",
			  "stale serve: unknown NOTFOUND");
		CHECK_STR(decide(r, &o, &stale, &pol, "RCPT", "a@b.c",
				 "nobody@example.com", ""),
			  "550 5.1.1 User unknown", "stale serve: policy 550");
		o.stale_policy = LOOKUP_STALE_TEMPFAIL;
		CHECK_STR(ask(r, &o, &stale, LOOKUP_RECIPIENTS,
			      "jsmith@example.com"), "TEMP catalog expired",
			  "stale tempfail: even known TEMP");
		CHECK_STR(ask(r, &o, &stale, LOOKUP_DOMAINS, "example.com"),
			  "TEMP catalog expired", "stale tempfail: domains");
		CHECK_STR(decide(r, &o, &stale, &pol, "RCPT", "a@b.c",
				 "jsmith@example.com", ""),
			  "DEFER_IF_PERMIT directory catalog expired",
			  "stale tempfail: policy defers");
		o.stale_policy = LOOKUP_STALE_DEFER_UNKNOWN;
		CHECK(lookup_stale_parse("defer-unknown") == 0 &&
		      lookup_stale_parse("serve") == 1 &&
		      lookup_stale_parse("tempfail") == 2 &&
		      lookup_stale_parse("bogus") == -1, "stale names");
	}

	/* Policy decisions. */
	CHECK_STR(decide(r, &o, &st, &pol, "RCPT", "a@b.c",
			 "nobody@example.com", ""), "550 5.1.1 User unknown",
		  "unknown recipient: 550");
	CHECK_STR(decide(r, &o, &st, &pol, "RCPT", "a@b.c",
			 "JSmith+tag@example.com", ""), "DUNNO",
		  "known recipient with extension: DUNNO");
	CHECK_STR(decide(r, &o, &st, &pol, "RCPT", "a@b.c", "x@elsewhere.net",
			 ""), "DUNNO", "foreign recipient: DUNNO");
	CHECK_STR(decide(r, &o, &st, &pol, "MAIL", "a@b.c",
			 "nobody@example.com", ""), "DUNNO",
		  "not RCPT state: DUNNO");
	CHECK_STR(decide(r, &o, &st, &pol, "RCPT", "sales@example.com",
			 "x@elsewhere.net", "ADM@example.com"), "DUNNO",
		  "owner (case ignored) may send");
	CHECK_STR(decide(r, &o, &st, &pol, "RCPT", "sales@example.com",
			 "x@elsewhere.net", "mallory"), "553 5.7.1 Not yours",
		  "not an owner: 553");
	CHECK_STR(decide(r, &o, &st, &pol, "RCPT", "stranger@gmail.com",
			 "x@elsewhere.net", "jsmith"), "553 5.7.1 Not yours",
		  "authenticated, sender not in the catalog: 553");
	CHECK_STR(decide(r, &o, &st, &pol, "RCPT", "", "jsmith@example.com",
			 "jsmith"), "DUNNO", "null sender: no owner check");
	CHECK_STR(decide(r, &o, &st, &pol, "RCPT", "jsmith@example.com",
			 "x@elsewhere.net", ""), "DUNNO",
		  "unauthenticated local sender allowed by default");
	pol.reject_unauthenticated_local_sender = 1;
	CHECK_STR(decide(r, &o, &st, &pol, "RCPT", "JSmith@Example.COM",
			 "x@elsewhere.net", ""), "550 5.7.1 Log in first",
		  "unauthenticated local sender rejected when asked");
	CHECK_STR(decide(r, &o, &st, &pol, "RCPT", "a@b.c",
			 "jsmith@example.com", ""), "DUNNO",
		  "unauthenticated foreign sender passes");
	CHECK_STR(decide(r, &o, &st, &pol, "RCPT", "jsmith@example.com",
			 "jsmith@example.com", "jsmith"), "DUNNO",
		  "authenticated local sender passes");
	/* Addresses Postfix takes but catalogd cannot read (a blank from a
	 * quoted local part, a local part over 64 bytes): in a local
	 * domain they are unknown recipients and local senders. */
	CHECK_STR(decide(r, &o, &st, &pol, "RCPT", "a@b.c",
			 "st aff@Example.COM.", ""), "550 5.1.1 User unknown",
		  "unreadable recipient of a local domain: 550");
	CHECK_STR(decide(r, &o, &st, &pol, "RCPT", "a@b.c",
			 "st aff@elsewhere.net", ""), "DUNNO",
		  "unreadable recipient of a foreign domain: DUNNO");
	CHECK_STR(decide(r, &o, &st, &pol, "RCPT", "j smith@example.com",
			 "x@elsewhere.net", ""), "550 5.7.1 Log in first",
		  "unreadable unauthenticated sender of a local domain: "
		  "rejected when asked");
	CHECK_STR(decide(r, &o, &st, &pol, "RCPT", "j smith@elsewhere.net",
			 "jsmith@example.com", ""), "DUNNO",
		  "unreadable sender of a foreign domain passes");

	/* Reply texts. */
	CHECK(lookup_policy_text_ok("550 5.1.1 x", err, sizeof(err)) == 0,
	      "text ok");
	CHECK(lookup_policy_text_ok("250 ok", err, sizeof(err)) < 0,
	      "2xx refused");
	CHECK(lookup_policy_text_ok("550", err, sizeof(err)) < 0,
	      "code only refused");
	CHECK(lookup_policy_text_ok("550 a\nb", err, sizeof(err)) < 0,
	      "newline refused");

	r = test_cache(cat, r, &o);
	catalog_read_end(r);
	catalog_close(cat);
	test_keyed(dir);
	{
		static const char *const files[] = {
			"cat.mdb", "cat.mdb-lock", "clear.mdb",
			"clear.mdb-lock", "keyed.mdb", "keyed.mdb-lock"
		};
		size_t i;

		for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
			snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
			unlink(path);
		}
	}
	rmdir(dir);
	return check_done();
}
