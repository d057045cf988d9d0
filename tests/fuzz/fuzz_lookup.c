/*
 * fuzz_lookup.c - libFuzzer target for the lookup key path of catalogd:
 * a socketmap request "NAME KEY" (lib/lookup.c: the map name, the key
 * normalised by lib/addr.c, then the exact key, the key without its
 * extension, the catch-all "@domain", the local-domain check) against a
 * small catalog made at start-up.
 *
 * The first input byte picks the options (bits 0-1 the extension
 * delimiters, bit 2 case-sensitive local parts, bits 3-4 the stale
 * policy, bit 5 the catalog being stale, bit 6 an unauthenticated local
 * sender being refused); the rest is the request, split at its first space
 * as catalogd's socketmap server does.  Checked:
 *   - the answer is one of OK/NOTFOUND/TEMP/PERM with bounded data, the
 *     same with and without the lookup cache, and again from the cache;
 *   - an address found was found under the key its route says: the
 *     normalised address, the address without extension, or "@domain",
 *     and that key holds the record returned; an unknown address is in a
 *     local domain and a not-local one is not;
 *   - the policy decision for the key as recipient and as sender is a
 *     bounded, printable action.
 * The catalog's files are removed as soon as it is open, so that a crash
 * leaves nothing behind.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "catfill.h"
#include "lookup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct catfill_rec fuzz_recs[] = {
	CATFILL_LOOKUP_RECS,
	{ "\"a b\"@example.com", CATALOG_PERSON, "quoted" },
	{ "j\xc3\xb6rg@example.com", CATALOG_PERSON, "joerg" },
};
#define FUZZ_NRECS (sizeof(fuzz_recs) / sizeof(fuzz_recs[0]))

static const char *const fuzz_delims[4] = { "+", "+-", "", "-" };

static struct catalog *fuzz_cat;
static struct catalog_read *fuzz_read;
static struct lookup_cache *fuzz_cache;

/* Make the catalog in a fresh directory, open it, remove the files. */
static void fuzz_init(void)
{
	const char *t = getenv("TMPDIR");
	char dir[512], path[600], lock[700], err[512];

	snprintf(dir, sizeof(dir), "%s/dircat-fuzz-lookup.XXXXXX",
		 t && *t ? t : "/tmp");
	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/catalog.mdb", dir);
	snprintf(lock, sizeof(lock), "%s-lock", path);
	fuzz_cat = catalog_open(path, CATALOG_NOSYNC, err, sizeof(err));
	if (!fuzz_cat || catfill(fuzz_cat, fuzz_recs, FUZZ_NRECS, err,
				 sizeof(err)) != 1)
		abort();
	unlink(path);
	unlink(lock);
	if (rmdir(dir) < 0)
		abort();
	fuzz_read = catalog_read_begin(fuzz_cat, err, sizeof(err));
	fuzz_cache = lookup_cache_new();
	if (!fuzz_read)
		abort();
}

/* The route of a found address agrees with the key and the record. */
static void fuzz_route(const struct lookup_opts *o, int rc,
		       const struct lookup_addr *a)
{
	char want[ADDR_BUF + 1];
	struct catalog_rec rec;
	const char *domain;

	if (rc == LOOKUP_INVALID) {
		if (!a->why[0] || !memchr(a->why, '\0', sizeof(a->why)))
			abort();
		return;
	}
	if (rc < LOOKUP_UNKNOWN || rc > LOOKUP_NOTLOCAL ||
	    strlen(a->norm) > ADDR_MAX)
		abort();
	domain = addr_domain(a->norm);
	if (rc == LOOKUP_UNKNOWN || rc == LOOKUP_NOTLOCAL) {
		if (lookup_domain_local(fuzz_read, domain) !=
		    (rc == LOOKUP_UNKNOWN))
			abort();
		return;
	}
	switch (a->how) {
	case LOOKUP_EXACT:
		snprintf(want, sizeof(want), "%s", a->norm);
		break;
	case LOOKUP_STRIPPED:
		if (!addr_strip_extension(a->norm, o->delims, want,
					  sizeof(want)))
			abort();
		break;
	case LOOKUP_CATCHALL:
		snprintf(want, sizeof(want), "@%s", domain);
		break;
	default:
		abort();
	}
	if (strcmp(want, a->key) ||
	    catalog_get(fuzz_read, a->key, strlen(a->key), &rec) != 1 ||
	    rec.kind == CATALOG_DOMAIN || rec.kind != a->rec.kind ||
	    rec.ownerslen != a->rec.ownerslen)
		abort();
}

/* Two answers to the same request must be the same. */
static void fuzz_same(const struct lookup_answer *x,
		      const struct lookup_answer *y)
{
	if (x->status != y->status || x->len != y->len || x->found != y->found ||
	    (x->len && memcmp(x->data, y->data, x->len)))
		abort();
}

/* A policy action: bounded, printable, one line. */
static void fuzz_action(const char *action, size_t size)
{
	size_t i, n;

	if (!memchr(action, '\0', size))
		abort();
	n = strlen(action);
	if (n == 0 || n >= LOOKUP_ACTION_MAX)
		abort();
	for (i = 0; i < n; i++)
		if ((unsigned char)action[i] < 0x20 ||
		    (unsigned char)action[i] > 0x7e)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lookup_opts o;
	struct lookup_state st = { 1, 0, NULL, NULL }, stc;
	struct lookup_policy pol = {
		"550 5.1.1 User unknown", "450 4.1.1 Try later",
		"553 5.7.1 Not yours", "550 5.7.1 Log in first", 0, NULL, NULL
	};
	struct lookup_answer a1, a2, a3;
	struct lookup_addr la;
	const char *req, *sp, *key, *rule;
	char *keystr, action[LOOKUP_ACTION_MAX];
	size_t len, keylen;
	int map, rc;

	if (!fuzz_cat)
		fuzz_init();
	if (size < 1)
		return 0;
	memset(&o, 0, sizeof(o));
	snprintf(o.delims, sizeof(o.delims), "%s", fuzz_delims[data[0] & 3]);
	o.addr_flags = (data[0] & 4) ? ADDR_CASE_SENSITIVE : 0;
	o.stale_policy = (data[0] >> 3) % 3;
	st.stale = (data[0] >> 5) & 1;
	pol.reject_unauthenticated_local_sender = (data[0] >> 6) & 1;
	stc = st;
	stc.cache = fuzz_cache;
	req = (const char *)data + 1;
	len = size - 1;

	/* As catalogd splits a socketmap request. */
	sp = memchr(req, ' ', len);
	if (!sp)
		return 0;
	map = lookup_map_parse(req, (size_t)(sp - req));
	key = sp + 1;
	keylen = len - (size_t)(sp - req) - 1;

	lookup_answer(fuzz_read, &o, &st, map, key, keylen, &a1);
	lookup_answer(fuzz_read, &o, &stc, map, key, keylen, &a2);
	lookup_answer(fuzz_read, &o, &stc, map, key, keylen, &a3);
	if (a1.status < LOOKUP_OK || a1.status > LOOKUP_PERM ||
	    a1.len > CATALOG_OWNERS_MAX || (a1.len && !a1.data))
		abort();
	fuzz_same(&a1, &a2);
	fuzz_same(&a1, &a3);
	/* transport and route are catalogd's (its routing settings):
	 * lookup_answer() knows them as names only. */
	if (map == LOOKUP_MAP_NONE || map == LOOKUP_TRANSPORT ||
	    map == LOOKUP_ROUTE) {
		if (a1.status != LOOKUP_PERM)
			abort();
		return 0;
	}
	if (map == LOOKUP_DOMAINS)
		return 0;

	rc = lookup_address(fuzz_read, &o, key, keylen, &la);
	if (rc != a1.found)
		abort();
	fuzz_route(&o, rc, &la);
	if (rc == LOOKUP_FOUND && !st.stale && map == LOOKUP_RECIPIENTS &&
	    (a1.status != LOOKUP_OK ||
	     a1.len != strlen(catalog_kind_name(la.rec.kind))))
		abort();
	if (rc != LOOKUP_FOUND && a1.status == LOOKUP_OK)
		abort();

	/* The policy service sees the same text, as a C string. */
	keystr = strndup(key, keylen);
	if (!keystr)
		return 0;
	if (lookup_policy_decide(fuzz_read, &o, &stc, &pol, "RCPT", keystr,
				 keystr, "", "", action, sizeof(action),
				 &rule) < 0 || !rule)
		abort();
	fuzz_action(action, sizeof(action));
	if (lookup_policy_decide(fuzz_read, &o, &stc, &pol, "RCPT", keystr,
				 keystr, "jsmith", "10.1.2.3", action,
				 sizeof(action),
				 &rule) < 0 || !rule)
		abort();
	fuzz_action(action, sizeof(action));
	free(keystr);
	return 0;
}
