/*
 * livecat.c - entries applied one at a time, with provenance; see
 * livecat.h and schema/catalog.md ("aux" tables).
 *
 * Aux table keys (src is one byte, the source's number; id its bytes):
 *   entries  [src][id]                 -> the entry's state (below)
 *   claims   address \0 [src][id]      -> [kind]
 *   dns      dnhash(16) [src][id]      -> ""   (entries with logins)
 *   refs     dnhash(16) [src][id]      -> ""   (owner DNs an entry names)
 * An address has no NUL, so an address's claims are one key range, and
 * the ranges come in the records' own key order.  dnhash is SHA-256 of
 * the DN's canonical key (ldapsrc_dn_key), cut to 16 bytes.
 *
 * State: [u8 version][u8 kind][u16 n][DN order key]
 *        [u8 haskey][16 dnhash of its own DN][u16 n][logins]
 *        [u16 n][record value][u16 naddr]{[u8 n][address]}
 *        [u16 nodn]{[u8 haskey][16 dnhash][u8 n][fallback login]}
 *        [u16 n][DN as read]
 * kind 0: the entry has no address; it is kept for its logins only.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "livecat.h"
#include "log.h"
#include "util.h"

#define LIVECAT_STATE_VERSION 1
#define LIVECAT_HASH 16			/* bytes of a DN hash */
#define LIVECAT_EKEY_MAX (1 + LIVECAT_ID_MAX)
#define LIVECAT_COOKIE_NAME "live.cookie."
#define LIVECAT_STATE_MAX CATALOG_AUX_VALUE_MAX
#define LIVECAT_COOKIE_SUM 32		/* SHA-256 before a stored cookie */

/* Entry ids seen during a refresh: an open-addressing set. */
struct livecat_idset {
	struct buf arena;		/* [u8 len][ekey] each */
	uint32_t *slot;			/* arena offset + 1; 0 empty */
	size_t cap, n;
	uint64_t key[2];
};

struct livecat {
	struct catalog *cat;
	struct livecat_conf conf;
	struct catalog_txn *t;
	int dirty;
	struct digest d;
	struct buf blob;		/* a new state being built */
	int staged[LIVECAT_SOURCES_MAX];
	int refreshing[LIVECAT_SOURCES_MAX];
	struct livecat_idset seen[LIVECAT_SOURCES_MAX];
	size_t staged_count;
	unsigned char *cookie[LIVECAT_SOURCES_MAX];
	size_t cookielen[LIVECAT_SOURCES_MAX];
	int cookie_set[LIVECAT_SOURCES_MAX];
	struct livecat_stats st;
	/* replace_all's generator */
	struct catalog_aux_iter *it;
	int it_have;			/* a claim read ahead */
	unsigned char ahead_key[CATALOG_AUX_KEY_MAX];
	size_t ahead_len;
	int ahead_kind;
	char gen_key[CATALOG_KEY_MAX + 1];
	unsigned char gen_val[CATALOG_VALUE_MAX];
	char gen_err[256];
};

/* A decoded state; pointers into the bytes it was decoded from. */
struct livecat_state {
	int kind;
	const unsigned char *order;
	size_t orderlen;
	const unsigned char *dnhash;	/* NULL: its DN has no key */
	const char *logins;
	size_t loginslen;
	const unsigned char *value;
	size_t vlen;
	const unsigned char *addrs;	/* [u8 n][address] each */
	size_t addrslen, naddr;
	const unsigned char *odns;	/* [u8 haskey][hash][u8 n][fb] each */
	size_t odnslen, nodn;
	const char *dn;
	size_t dnlen;
};

/* One claimant of an address. */
struct livecat_claim {
	unsigned char ekey[LIVECAT_EKEY_MAX];
	size_t ekeylen;
	int kind;
};

/* ---------------------------------------------------------- id set */

static void livecat_idset_init(struct livecat_idset *s)
{
	memset(s, 0, sizeof(*s));
	buf_init(&s->arena, (size_t)1 << 31);
	if (getrandom(s->key, sizeof(s->key), 0) != (ssize_t)sizeof(s->key))
		s->key[0] = (uint64_t)(uintptr_t)s ^ 0x9e3779b97f4a7c15ULL;
}

static void livecat_idset_free(struct livecat_idset *s)
{
	buf_free(&s->arena);
	free(s->slot);
	memset(s, 0, sizeof(*s));
}

/* The slot for ekey: where it is, or the empty one it would take. */
static size_t livecat_idset_find(const struct livecat_idset *s,
				 const unsigned char *k, size_t len)
{
	size_t i = collect_siphash(s->key, k, len) & (s->cap - 1);

	while (s->slot[i]) {
		const unsigned char *p = s->arena.data + s->slot[i] - 1;

		if (p[0] == len && !memcmp(p + 1, k, len))
			return i;
		i = (i + 1) & (s->cap - 1);
	}
	return i;
}

static int livecat_idset_has(const struct livecat_idset *s,
			     const unsigned char *k, size_t len)
{
	return s->cap && s->slot[livecat_idset_find(s, k, len)] != 0;
}

static void livecat_idset_add(struct livecat_idset *s,
			      const unsigned char *k, size_t len)
{
	unsigned char l = (unsigned char)len;
	size_t i, off;

	if (s->n * 2 >= s->cap) {
		uint32_t *old = s->slot;
		size_t oldcap = s->cap, j;

		s->cap = s->cap ? s->cap * 2 : 4096;
		s->slot = xcalloc(s->cap, sizeof(*s->slot));
		for (j = 0; j < oldcap; j++)
			if (old[j]) {
				const unsigned char *p = s->arena.data +
							 old[j] - 1;

				s->slot[livecat_idset_find(s, p + 1, p[0])] =
					old[j];
			}
		free(old);
	}
	i = livecat_idset_find(s, k, len);
	if (s->slot[i])
		return;
	off = s->arena.len;
	if (off >= UINT32_MAX - 1 || buf_append(&s->arena, &l, 1) < 0 ||
	    buf_append(&s->arena, k, len) < 0)
		log_fatal(75, "more entries in one refresh than fit in memory");
	s->slot[i] = (uint32_t)off + 1;
	s->n++;
}

/* ------------------------------------------------------------ state */

static void livecat_dnhash(const unsigned char *key, size_t len,
			   unsigned char out[LIVECAT_HASH])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!EVP_Digest(key, len, md, &mdlen, EVP_sha256(), NULL) ||
	    mdlen < LIVECAT_HASH)
		log_fatal(70, "OpenSSL: SHA-256 failed");
	memcpy(out, md, LIVECAT_HASH);
}

static void livecat_sha256(const void *data, size_t len, unsigned char *out)
{
	unsigned int mdlen = 0;

	if (!EVP_Digest(len ? data : "", len, out, &mdlen, EVP_sha256(), NULL) ||
	    mdlen != LIVECAT_COOKIE_SUM)
		log_fatal(70, "OpenSSL: SHA-256 failed");
}

static void livecat_put16(struct buf *b, size_t n)
{
	unsigned char h[2];

	util_put_u16(h, (uint16_t)n);
	buf_append(b, h, 2);
}

/* The state blob of digest d for an entry with DN dn, into lc->blob;
 * 0, 1 when the entry contributes nothing worth keeping, -1 too big. */
static int livecat_encode(struct livecat *lc, const struct digest *d,
			  const char *dn)
{
	unsigned char order[LDAPSRC_DNKEY_MAX + 1];
	size_t olen, pos = 0, klen, dnlen = strlen(dn);
	const unsigned char *key;
	const char *fallback, *odn, *p, *end;
	struct buf *b = &lc->blob;
	unsigned char v[2] = { LIVECAT_STATE_VERSION, 0 };
	int kept = d->left == DIGEST_KEPT;

	if (!kept && !(d->logins.len && lc->conf.index_logins))
		return 1;
	b->len = 0;
	olen = ldapsrc_dn_order(dn, order, sizeof(order));
	v[1] = kept ? (unsigned char)d->kind : 0;
	buf_append(b, v, 2);
	livecat_put16(b, olen);
	buf_append(b, order, olen);
	{
		unsigned char h[1 + LIVECAT_HASH], dkey[LDAPSRC_DNKEY_MAX];
		size_t dklen = ldapsrc_dn_key(dn, dnlen, dkey, sizeof(dkey),
					      NULL, 0);

		memset(h, 0, sizeof(h));
		if (dklen) {
			h[0] = 1;
			livecat_dnhash(dkey, dklen, h + 1);
		}
		buf_append(b, h, sizeof(h));
	}
	livecat_put16(b, d->logins.len);
	buf_append(b, d->logins.data, d->logins.len);
	livecat_put16(b, kept ? d->vlen : 0);
	if (kept)
		buf_append(b, d->value, d->vlen);
	livecat_put16(b, kept ? d->naddrs : 0);
	if (kept) {
		p = (const char *)d->addrs.data;
		end = p + d->addrs.len;
		for (; p < end; p += strlen(p) + 1) {
			unsigned char l = (unsigned char)strlen(p);

			buf_append(b, &l, 1);
			buf_append(b, p, l);
		}
	}
	livecat_put16(b, kept ? d->nodns : 0);
	while (kept && digest_owner_dn(d, &pos, &key, &klen, &fallback, &odn)) {
		unsigned char h[1 + LIVECAT_HASH], fl;

		memset(h, 0, sizeof(h));
		if (klen) {
			h[0] = 1;
			livecat_dnhash(key, klen, h + 1);
		}
		fl = (unsigned char)strlen(fallback);
		buf_append(b, h, sizeof(h));
		buf_append(b, &fl, 1);
		buf_append(b, fallback, fl);
	}
	if (dnlen > 4096)
		dnlen = 4096;
	livecat_put16(b, dnlen);
	if (buf_append(b, dn, dnlen) < 0)
		return -1;
	return 0;
}

/* Read a u16-counted field; -1 when it runs past end. */
static int livecat_field(const unsigned char **p, const unsigned char *end,
			 const unsigned char **f, size_t *len)
{
	if (end - *p < 2)
		return -1;
	*len = util_get_u16(*p);
	if ((size_t)(end - *p - 2) < *len)
		return -1;
	*f = *p + 2;
	*p += 2 + *len;
	return 0;
}

static int livecat_decode(const void *blob, size_t len,
			  struct livecat_state *s)
{
	const unsigned char *p = blob, *end = p + len, *f;
	size_t n, i;

	memset(s, 0, sizeof(*s));
	if (len < 2 || p[0] != LIVECAT_STATE_VERSION)
		return -1;
	s->kind = p[1];
	p += 2;
	if (livecat_field(&p, end, &s->order, &s->orderlen) < 0 ||
	    end - p < 1 + LIVECAT_HASH)
		return -1;
	s->dnhash = p[0] ? p + 1 : NULL;
	p += 1 + LIVECAT_HASH;
	if (livecat_field(&p, end, &f, &s->loginslen) < 0)
		return -1;
	s->logins = (const char *)f;
	if (livecat_field(&p, end, &s->value, &s->vlen) < 0 || end - p < 2)
		return -1;
	s->naddr = util_get_u16(p);
	p += 2;
	s->addrs = p;
	for (i = 0; i < s->naddr; i++) {
		if (p >= end || (size_t)(end - p - 1) < p[0])
			return -1;
		p += 1 + p[0];
	}
	s->addrslen = (size_t)(p - s->addrs);
	if (end - p < 2)
		return -1;
	s->nodn = util_get_u16(p);
	p += 2;
	s->odns = p;
	for (i = 0; i < s->nodn; i++) {
		if (end - p < 2 + LIVECAT_HASH)
			return -1;
		n = p[1 + LIVECAT_HASH];
		if ((size_t)(end - p - 2 - LIVECAT_HASH) < n)
			return -1;
		p += 2 + LIVECAT_HASH + n;
	}
	s->odnslen = (size_t)(p - s->odns);
	if (livecat_field(&p, end, &f, &s->dnlen) < 0 || p != end)
		return -1;
	s->dn = (const char *)f;
	return 0;
}

/* ------------------------------------------------------------ setup */

struct livecat *livecat_new(struct catalog *cat, const struct livecat_conf *c)
{
	struct livecat *lc = xcalloc(1, sizeof(*lc));

	lc->cat = cat;
	lc->conf = *c;
	digest_init(&lc->d);
	buf_init(&lc->blob, LIVECAT_STATE_MAX);
	return lc;
}

void livecat_free(struct livecat *lc)
{
	size_t i;

	if (!lc)
		return;
	livecat_abort(lc);
	for (i = 0; i < LIVECAT_SOURCES_MAX; i++) {
		livecat_idset_free(&lc->seen[i]);
		free(lc->cookie[i]);
	}
	digest_free(&lc->d);
	buf_free(&lc->blob);
	free(lc);
}

int livecat_begin(struct livecat *lc, char *err, size_t errlen)
{
	if (lc->t)
		return 0;
	lc->t = catalog_write_begin(lc->cat, err, errlen);
	if (!lc->t)
		return -1;
	catalog_txn_set_id(lc->t, lc->conf.catalog_id);
	catalog_txn_set_history(lc->t, lc->conf.history);
	lc->dirty = 0;
	return 0;
}

int livecat_open(const struct livecat *lc)
{
	return lc->t != NULL;
}

int livecat_dirty(const struct livecat *lc)
{
	return lc->t && lc->dirty;
}

/* [src][id] */
static size_t livecat_ekey(int src, const void *id, size_t idlen,
			   unsigned char *out)
{
	out[0] = (unsigned char)src;
	memcpy(out + 1, id, idlen);
	return 1 + idlen;
}

/* ------------------------------------------------------- recompute */

static int livecat_kind_rank(int kind)
{
	switch (kind) {
	case CATALOG_PERSON: return 0;
	case CATALOG_MAILIN: return 1;
	case CATALOG_GROUP: return 2;
	default: return 3;
	}
}

/* Load an entry's state; 1, 0 absent, -1 corrupt. */
static int livecat_load(struct livecat *lc, const unsigned char *ekey,
			size_t ekeylen, struct livecat_state *s)
{
	const void *v;
	size_t vlen;
	int rc = catalog_txn_aux_get(lc->t, CATALOG_AUX_ENTRIES, ekey, ekeylen,
				     &v, &vlen);

	if (rc <= 0)
		return rc;
	return livecat_decode(v, vlen, s) < 0 ? -1 : 1;
}

/* <0 when claim a beats b (collect.c's collect_better, on states). */
static int livecat_better(struct livecat *lc, const struct livecat_claim *a,
			  const struct livecat_claim *b)
{
	int ka = livecat_kind_rank(a->kind), kb = livecat_kind_rank(b->kind);
	struct livecat_state sa, sb;
	size_t n;
	int r;

	if (lc->conf.rule == COLLECT_KIND_FIRST && ka != kb)
		return ka - kb;
	if (a->ekey[0] != b->ekey[0])
		return (int)a->ekey[0] - (int)b->ekey[0];
	if (ka != kb)
		return ka - kb;
	if (livecat_load(lc, a->ekey, a->ekeylen, &sa) == 1 &&
	    livecat_load(lc, b->ekey, b->ekeylen, &sb) == 1) {
		n = sa.orderlen < sb.orderlen ? sa.orderlen : sb.orderlen;
		r = memcmp(sa.order, sb.order, n);
		if (r)
			return r;
		if (sa.orderlen != sb.orderlen)
			return sa.orderlen < sb.orderlen ? -1 : 1;
	}
	n = a->ekeylen < b->ekeylen ? a->ekeylen : b->ekeylen;
	r = memcmp(a->ekey, b->ekey, n);
	return r ? r : (int)a->ekeylen - (int)b->ekeylen;
}

/* The logins of the entry (lowest source first) whose DN hashes to h:
 * appended to owners; 1 when found. */
struct livecat_dnfind {
	struct livecat *lc;
	struct buf *owners;
	int found;
};

static int livecat_dn_cb(void *arg, const void *key, size_t keylen,
			 const void *val, size_t vallen)
{
	struct livecat_dnfind *f = arg;

	(void)val;
	(void)vallen;
	if (keylen > LIVECAT_HASH) {
		struct livecat_state s;
		unsigned char ekey[LIVECAT_EKEY_MAX];
		size_t n = keylen - LIVECAT_HASH;

		if (n > sizeof(ekey))
			return 1;
		memcpy(ekey, (const unsigned char *)key + LIVECAT_HASH, n);
		if (livecat_load(f->lc, ekey, n, &s) == 1 && s.loginslen) {
			const char *p = s.logins, *end = p + s.loginslen;

			while (p < end) {
				const char *e = memchr(p, ',',
						       (size_t)(end - p));
				size_t l = e ? (size_t)(e - p)
					     : (size_t)(end - p);

				collect_owner_add(f->owners, p, l);
				p += l + 1;
			}
			f->found = 1;
			return 1;
		}
	}
	return 0;
}

/* The record value the winner's state gives: its owners plus those its
 * owner DNs stand for.  Returns the length in out, 0 on error. */
static size_t livecat_value(struct livecat *lc, const struct livecat_state *s,
			    unsigned char *out, size_t outsize)
{
	struct catalog_rec rec;
	struct buf owners;
	const unsigned char *p = s->odns;
	size_t i, n;

	if (s->nodn == 0) {
		if (s->vlen > outsize)
			return 0;
		memcpy(out, s->value, s->vlen);
		return s->vlen;
	}
	memset(&rec, 0, sizeof(rec));
	if (catalog_rec_decode(s->value, s->vlen, &rec) < 0)
		return 0;
	buf_init(&owners, CATALOG_OWNERS_MAX);
	{
		const char *q = rec.owners, *end = q + rec.ownerslen;

		while (q < end) {
			const char *e = memchr(q, ',', (size_t)(end - q));
			size_t l = e ? (size_t)(e - q) : (size_t)(end - q);

			collect_owner_add(&owners, q, l);
			q += l + 1;
		}
	}
	for (i = 0; i < s->nodn; i++) {
		struct livecat_dnfind f = { lc, &owners, 0 };

		if (p[0])
			catalog_txn_aux_scan(lc->t, CATALOG_AUX_DNS, p + 1,
					     LIVECAT_HASH, livecat_dn_cb, &f);
		n = p[1 + LIVECAT_HASH];
		if (!f.found && n)
			collect_owner_add(&owners,
					  (const char *)p + 2 + LIVECAT_HASH, n);
		p += 2 + LIVECAT_HASH + n;
	}
	rec.owners = owners.len ? (const char *)owners.data : "";
	rec.ownerslen = owners.len;
	n = catalog_rec_encode(&rec, out, outsize);
	buf_free(&owners);
	return n;
}

/* The claims of one address. */
struct livecat_claims {
	struct livecat_claim *c;
	size_t n, cap;
	size_t prefix;
	int overflow;
};

static void livecat_claims_add(struct livecat_claims *cl,
			       const unsigned char *ekey, size_t ekeylen,
			       int kind)
{
	if (cl->n >= LIVECAT_CLAIMANTS_MAX || ekeylen > LIVECAT_EKEY_MAX) {
		cl->overflow = 1;
		return;
	}
	if (cl->n == cl->cap) {
		cl->cap = cl->cap ? cl->cap * 2 : 4;
		cl->c = xrealloc(cl->c, cl->cap * sizeof(*cl->c));
	}
	memcpy(cl->c[cl->n].ekey, ekey, ekeylen);
	cl->c[cl->n].ekeylen = ekeylen;
	cl->c[cl->n].kind = kind;
	cl->n++;
}

static int livecat_claims_cb(void *arg, const void *key, size_t keylen,
			     const void *val, size_t vallen)
{
	struct livecat_claims *cl = arg;

	if (keylen > cl->prefix && vallen == 1)
		livecat_claims_add(cl, (const unsigned char *)key + cl->prefix,
				   keylen - cl->prefix,
				   ((const unsigned char *)val)[0]);
	return 0;
}

/* The record for addr given its claims: 1 with out filled, 0 when it
 * has none, -1 on error. */
static int livecat_settle(struct livecat *lc, const char *addr,
			  size_t addrlen, struct livecat_claims *cl,
			  unsigned char *out, size_t *outlen, char *err,
			  size_t errlen)
{
	struct livecat_state s;
	size_t i, best = 0;

	if (cl->overflow) {
		util_err(err, errlen, "%.*s: claimed by more than %d entries",
			 (int)addrlen, addr, LIVECAT_CLAIMANTS_MAX);
		return -1;
	}
	if (cl->n == 0)
		return 0;
	for (i = 1; i < cl->n; i++)
		if (livecat_better(lc, &cl->c[i], &cl->c[best]) < 0)
			best = i;
	if (cl->n > 1)
		lc->st.conflicts++;
	if (livecat_load(lc, cl->c[best].ekey, cl->c[best].ekeylen, &s) != 1) {
		util_err(err, errlen, "internal: %.*s: the entry claiming it "
			 "has no state", (int)addrlen, addr);
		return -1;
	}
	*outlen = livecat_value(lc, &s, out, CATALOG_VALUE_MAX);
	if (*outlen == 0) {
		util_err(err, errlen, "internal: %.*s: bad record",
			 (int)addrlen, addr);
		return -1;
	}
	return 1;
}

/* Make addr's record what its claims say. */
static int livecat_recompute(struct livecat *lc, const char *addr,
			     size_t addrlen, char *err, size_t errlen)
{
	unsigned char prefix[CATALOG_KEY_MAX + 1], val[CATALOG_VALUE_MAX];
	struct livecat_claims cl;
	struct catalog_rec rec;
	size_t vlen = 0;
	int rc;

	if (addrlen == 0 || addrlen > CATALOG_KEY_MAX)
		return 0;
	memcpy(prefix, addr, addrlen);
	prefix[addrlen] = 0;
	memset(&cl, 0, sizeof(cl));
	cl.prefix = addrlen + 1;
	if (catalog_txn_aux_scan(lc->t, CATALOG_AUX_CLAIMS, prefix,
				 addrlen + 1, livecat_claims_cb, &cl) < 0) {
		free(cl.c);
		util_err(err, errlen, "%s: reading claims failed",
			 catalog_path(lc->cat));
		return -1;
	}
	rc = livecat_settle(lc, addr, addrlen, &cl, val, &vlen, err, errlen);
	free(cl.c);
	lc->st.keys_recomputed++;
	if (rc < 0)
		return -1;
	if (rc == 0)
		return catalog_txn_del(lc->t, addr, addrlen, err, errlen) < 0 ?
		       -1 : 0;
	memset(&rec, 0, sizeof(rec));
	if (catalog_rec_decode(val, vlen, &rec) < 0)
		return -1;
	rec.key = addr;
	rec.keylen = addrlen;
	return catalog_txn_put(lc->t, &rec, err, errlen) < 0 ? -1 : 0;
}

/* --------------------------------------------------------- apply */

/* Addresses whose records must be recomputed after one change. */
struct livecat_touched {
	struct buf keys;		/* each NUL-terminated */
};

static void livecat_touch_state(struct livecat_touched *t,
				const struct livecat_state *s)
{
	const unsigned char *p = s->addrs;
	size_t i;

	for (i = 0; i < s->naddr; i++) {
		buf_append(&t->keys, p + 1, p[0]);
		buf_append(&t->keys, "", 1);
		p += 1 + p[0];
	}
}

struct livecat_refwalk {
	struct livecat *lc;
	struct livecat_touched *touched;
	struct buf ekeys;		/* [u8 len][ekey] each */
};

static int livecat_ref_cb(void *arg, const void *key, size_t keylen,
			  const void *val, size_t vallen)
{
	struct livecat_refwalk *w = arg;
	unsigned char l;

	(void)val;
	(void)vallen;
	if (keylen <= LIVECAT_HASH || keylen - LIVECAT_HASH > LIVECAT_EKEY_MAX)
		return 0;
	l = (unsigned char)(keylen - LIVECAT_HASH);
	buf_append(&w->ekeys, &l, 1);
	buf_append(&w->ekeys, (const unsigned char *)key + LIVECAT_HASH, l);
	return 0;
}

/* Every address of an entry naming DN hash h as its owner. */
static void livecat_touch_referrers(struct livecat *lc,
				    struct livecat_touched *t,
				    const unsigned char *h)
{
	struct livecat_refwalk w = { lc, t, { 0 } };
	const unsigned char *p, *end;

	buf_init(&w.ekeys, (size_t)1 << 30);
	catalog_txn_aux_scan(lc->t, CATALOG_AUX_REFS, h, LIVECAT_HASH,
			     livecat_ref_cb, &w);
	p = w.ekeys.data;
	end = p + w.ekeys.len;
	while (p && p < end) {
		struct livecat_state s;

		if (livecat_load(lc, p + 1, p[0], &s) == 1)
			livecat_touch_state(t, &s);
		p += 1 + p[0];
	}
	buf_free(&w.ekeys);
}

/* The DN hash under which s is indexed for its logins; 0 when none. */
static int livecat_login_hash(const struct livecat *lc,
			      const struct livecat_state *s,
			      unsigned char h[LIVECAT_HASH])
{
	if (!lc->conf.index_logins || s->loginslen == 0 || !s->dnhash)
		return 0;
	memcpy(h, s->dnhash, LIVECAT_HASH);
	return 1;
}

/* Add (op 1) or remove (op 0) the index rows of state s of ekey. */
static int livecat_index(struct livecat *lc, const struct livecat_state *s,
			 const unsigned char *ekey, size_t ekeylen, int op,
			 char *err, size_t errlen)
{
	unsigned char k[CATALOG_AUX_KEY_MAX];
	const unsigned char *p = s->addrs;
	unsigned char kind = (unsigned char)s->kind;
	size_t i;
	int rc = 0;

	for (i = 0; i < s->naddr && rc >= 0; i++) {
		size_t n = p[0];

		memcpy(k, p + 1, n);
		k[n] = 0;
		memcpy(k + n + 1, ekey, ekeylen);
		rc = op ? catalog_txn_aux_put(lc->t, CATALOG_AUX_CLAIMS, k,
					      n + 1 + ekeylen, &kind, 1, err,
					      errlen)
			: catalog_txn_aux_del(lc->t, CATALOG_AUX_CLAIMS, k,
					      n + 1 + ekeylen, err, errlen);
		p += 1 + n;
	}
	if (rc >= 0 && livecat_login_hash(lc, s, k)) {
		memcpy(k + LIVECAT_HASH, ekey, ekeylen);
		rc = op ? catalog_txn_aux_put(lc->t, CATALOG_AUX_DNS, k,
					      LIVECAT_HASH + ekeylen, "", 0,
					      err, errlen)
			: catalog_txn_aux_del(lc->t, CATALOG_AUX_DNS, k,
					      LIVECAT_HASH + ekeylen, err,
					      errlen);
	}
	p = s->odns;
	for (i = 0; i < s->nodn && rc >= 0; i++) {
		if (p[0]) {
			memcpy(k, p + 1, LIVECAT_HASH);
			memcpy(k + LIVECAT_HASH, ekey, ekeylen);
			rc = op ? catalog_txn_aux_put(lc->t, CATALOG_AUX_REFS,
						      k, LIVECAT_HASH + ekeylen,
						      "", 0, err, errlen)
				: catalog_txn_aux_del(lc->t, CATALOG_AUX_REFS,
						      k, LIVECAT_HASH + ekeylen,
						      err, errlen);
		}
		p += 2 + LIVECAT_HASH + p[1 + LIVECAT_HASH];
	}
	return rc < 0 ? -1 : 0;
}

/* Replace ekey's state by blob (NULL: none), and recompute what that
 * changes unless the source's refresh is staged. */
static int livecat_apply(struct livecat *lc, int staged,
			 const unsigned char *ekey, size_t ekeylen,
			 const void *blob, size_t bloblen, char *err,
			 size_t errlen)
{
	struct livecat_state os, ns;
	struct livecat_touched t;
	unsigned char oh[LIVECAT_HASH], nh[LIVECAT_HASH];
	const void *ov;
	size_t ovlen;
	void *old = NULL;
	int rc, have_old, ohas = 0, nhas = 0, ret = -1;
	const char *p, *end;

	rc = catalog_txn_aux_get(lc->t, CATALOG_AUX_ENTRIES, ekey, ekeylen,
				 &ov, &ovlen);
	if (rc < 0) {
		util_err(err, errlen, "%s: reading an entry's state failed",
			 catalog_path(lc->cat));
		return -1;
	}
	have_old = rc == 1;
	if (have_old && blob && ovlen == bloblen && !memcmp(ov, blob, bloblen))
		return 0;
	if (!have_old && !blob)
		return 0;
	lc->st.entries_changed++;
	lc->dirty = 1;
	memset(&os, 0, sizeof(os));
	memset(&ns, 0, sizeof(ns));
	if (have_old) {
		old = xmalloc(ovlen);
		memcpy(old, ov, ovlen);
		if (livecat_decode(old, ovlen, &os) < 0) {
			/* Unreadable: drop it, a reconcile will notice. */
			log_warn("%s: an entry's state is unreadable; replaced",
				 catalog_path(lc->cat));
			memset(&os, 0, sizeof(os));
		}
	}
	if (blob && livecat_decode(blob, bloblen, &ns) < 0) {
		util_err(err, errlen, "internal: a new state does not decode");
		goto out;
	}
	buf_init(&t.keys, (size_t)1 << 30);
	if (livecat_index(lc, &os, ekey, ekeylen, 0, err, errlen) < 0 ||
	    livecat_index(lc, &ns, ekey, ekeylen, 1, err, errlen) < 0)
		goto out_t;
	rc = blob ? catalog_txn_aux_put(lc->t, CATALOG_AUX_ENTRIES, ekey,
					ekeylen, blob, bloblen, err, errlen)
		  : catalog_txn_aux_del(lc->t, CATALOG_AUX_ENTRIES, ekey,
					ekeylen, err, errlen);
	if (rc < 0)
		goto out_t;
	if (staged) {
		lc->staged_count++;
		ret = 0;
		goto out_t;
	}
	livecat_touch_state(&t, &os);
	livecat_touch_state(&t, &ns);
	/* Its logins or its DN changed: entries naming it as owner too. */
	ohas = livecat_login_hash(lc, &os, oh);
	nhas = livecat_login_hash(lc, &ns, nh);
	if (ohas != nhas || (ohas && memcmp(oh, nh, LIVECAT_HASH)) ||
	    os.loginslen != ns.loginslen ||
	    (os.loginslen && memcmp(os.logins, ns.logins, os.loginslen))) {
		if (ohas)
			livecat_touch_referrers(lc, &t, oh);
		if (nhas)
			livecat_touch_referrers(lc, &t, nh);
	}
	p = (const char *)t.keys.data;
	end = p + t.keys.len;
	ret = 0;
	/* A key touched twice is recomputed twice: rare, and harmless. */
	for (; p && p < end && ret == 0; p += strlen(p) + 1)
		ret = livecat_recompute(lc, p, strlen(p), err, errlen);
out_t:
	buf_free(&t.keys);
out:
	free(old);
	return ret;
}

int livecat_present(struct livecat *lc, int src, const void *id, size_t idlen,
		    const struct ldapsrc_entry *e, char *err, size_t errlen)
{
	unsigned char ekey[LIVECAT_EKEY_MAX];
	size_t ekeylen;
	int rc;

	if (src < 0 || src >= (int)lc->conf.nsrc || idlen == 0 ||
	    idlen > LIVECAT_ID_MAX) {
		util_err(err, errlen, "entry %s: id of %zu bytes refused",
			 e->dn, idlen);
		return -1;
	}
	lc->st.present++;
	ekeylen = livecat_ekey(src, id, idlen, ekey);
	if (lc->refreshing[src])
		livecat_idset_add(&lc->seen[src], ekey, ekeylen);
	if (digest_entry(&lc->d, lc->conf.src[src].rules, lc->conf.env, e,
			 NULL, NULL, err, errlen) < 0)
		return -1;
	rc = livecat_encode(lc, &lc->d, e->dn);
	if (rc < 0) {
		util_err(err, errlen, "entry %s: too large to keep", e->dn);
		return -1;
	}
	return livecat_apply(lc, lc->staged[src], ekey, ekeylen,
			     rc ? NULL : lc->blob.data,
			     rc ? 0 : lc->blob.len, err, errlen);
}

int livecat_unchanged(struct livecat *lc, int src, const void *id,
		      size_t idlen)
{
	unsigned char ekey[LIVECAT_EKEY_MAX];

	if (src < 0 || src >= (int)lc->conf.nsrc || idlen == 0 ||
	    idlen > LIVECAT_ID_MAX)
		return -1;
	lc->st.unchanged++;
	if (lc->refreshing[src])
		livecat_idset_add(&lc->seen[src], ekey,
				  livecat_ekey(src, id, idlen, ekey));
	return 0;
}

int livecat_gone(struct livecat *lc, int src, const void *id, size_t idlen,
		 char *err, size_t errlen)
{
	unsigned char ekey[LIVECAT_EKEY_MAX];

	if (src < 0 || src >= (int)lc->conf.nsrc || idlen == 0 ||
	    idlen > LIVECAT_ID_MAX)
		return 0;
	lc->st.gone++;
	return livecat_apply(lc, lc->staged[src], ekey,
			     livecat_ekey(src, id, idlen, ekey), NULL, 0, err,
			     errlen);
}

int livecat_domains(struct livecat *lc, int staged, char *err, size_t errlen)
{
	struct catalog_rec rec = { NULL, 0, CATALOG_DOMAIN, "", 0, "", 0 };
	unsigned char ekey[2] = { LIVECAT_SRC_DOMAINS, 'd' };
	struct digest *d = &lc->d;
	size_t i, n = addr_domains_count(lc->conf.env->domains);
	int index = lc->conf.index_logins;

	d->left = DIGEST_KEPT;
	d->kind = CATALOG_DOMAIN;
	d->logins.len = 0;
	d->addrs.len = 0;
	d->odns.len = 0;
	d->naddrs = d->nodns = 0;
	d->vlen = catalog_rec_encode(&rec, d->value, sizeof(d->value));
	for (i = 0; i < n; i++) {
		const char *dom = addr_domains_get(lc->conf.env->domains, i);

		if (buf_append(&d->addrs, dom, strlen(dom) + 1) < 0)
			return -1;
		d->naddrs++;
	}
	lc->conf.index_logins = 0;
	if (livecat_encode(lc, d, "(local_domains)") != 0) {
		lc->conf.index_logins = index;
		util_err(err, errlen, "internal: local domains");
		return -1;
	}
	lc->conf.index_logins = index;
	return livecat_apply(lc, staged, ekey, sizeof(ekey), lc->blob.data,
			     lc->blob.len, err, errlen);
}

/* --------------------------------------------------------- refresh */

void livecat_refresh_begin(struct livecat *lc, int src, int staged)
{
	if (src < 0 || src >= (int)lc->conf.nsrc)
		return;
	livecat_idset_free(&lc->seen[src]);
	livecat_idset_init(&lc->seen[src]);
	lc->refreshing[src] = 1;
	lc->staged[src] = staged;
}

int livecat_want_chunk(const struct livecat *lc)
{
	return lc->staged_count >= LIVECAT_CHUNK;
}

struct livecat_unseen {
	struct livecat *lc;
	int src;
	struct buf ekeys;
};

static int livecat_unseen_cb(void *arg, const void *key, size_t keylen,
			     const void *val, size_t vallen)
{
	struct livecat_unseen *u = arg;
	unsigned char l = (unsigned char)keylen;

	(void)val;
	(void)vallen;
	if (keylen < 2 || keylen > LIVECAT_EKEY_MAX ||
	    livecat_idset_has(&u->lc->seen[u->src], key, keylen))
		return 0;
	if (buf_append(&u->ekeys, &l, 1) < 0 ||
	    buf_append(&u->ekeys, key, keylen) < 0)
		return -1;
	return 0;
}

/* replace_all's source: every address with claims, settled. */
static int livecat_next(void *arg, struct catalog_rec *rec, char *err,
			size_t errlen)
{
	struct livecat *lc = arg;
	struct livecat_claims cl;
	size_t addrlen, vlen = 0;
	int rc;

	for (;;) {
		const void *k, *v;
		size_t kl, vl;
		const unsigned char *z;

		if (!lc->it_have) {
			rc = catalog_aux_iter_next(lc->it, &k, &kl, &v, &vl);
			if (rc < 0) {
				util_err(err, errlen, "reading claims failed");
				return -1;
			}
			if (rc == 0)
				return 0;
			if (kl > sizeof(lc->ahead_key) || vl != 1)
				continue;
			memcpy(lc->ahead_key, k, kl);
			lc->ahead_len = kl;
			lc->ahead_kind = ((const unsigned char *)v)[0];
			lc->it_have = 1;
		}
		z = memchr(lc->ahead_key, 0, lc->ahead_len);
		if (!z || z == lc->ahead_key) {
			lc->it_have = 0;
			continue;
		}
		addrlen = (size_t)(z - lc->ahead_key);
		memcpy(lc->gen_key, lc->ahead_key, addrlen);
		lc->gen_key[addrlen] = '\0';
		memset(&cl, 0, sizeof(cl));
		/* This address's claims: the one read ahead and the next
		 * ones with the same prefix. */
		for (;;) {
			livecat_claims_add(&cl, lc->ahead_key + addrlen + 1,
					   lc->ahead_len - addrlen - 1,
					   lc->ahead_kind);
			rc = catalog_aux_iter_next(lc->it, &k, &kl, &v, &vl);
			if (rc <= 0) {
				lc->it_have = 0;
				if (rc < 0) {
					free(cl.c);
					util_err(err, errlen,
						 "reading claims failed");
					return -1;
				}
				break;
			}
			if (kl > sizeof(lc->ahead_key) || vl != 1)
				continue;
			memcpy(lc->ahead_key, k, kl);
			lc->ahead_len = kl;
			lc->ahead_kind = ((const unsigned char *)v)[0];
			if (kl <= addrlen || lc->ahead_key[addrlen] != 0 ||
			    memcmp(lc->ahead_key, lc->gen_key, addrlen))
				break;
		}
		rc = livecat_settle(lc, lc->gen_key, addrlen, &cl, lc->gen_val,
				    &vlen, err, errlen);
		free(cl.c);
		if (rc < 0)
			return -1;
		if (rc == 0)
			continue;
		memset(rec, 0, sizeof(*rec));
		if (catalog_rec_decode(lc->gen_val, vlen, rec) < 0) {
			util_err(err, errlen, "internal: bad record");
			return -1;
		}
		rec->key = lc->gen_key;
		rec->keylen = addrlen;
		return 1;
	}
}

int livecat_refresh_done(struct livecat *lc, int src, int present_phase,
			 char *err, size_t errlen)
{
	struct livecat_unseen u;
	const unsigned char *p, *end;
	unsigned char prefix = (unsigned char)src;
	size_t i;
	int rc = 0;

	if (src < 0 || src >= (int)lc->conf.nsrc || !lc->refreshing[src])
		return 0;
	if (present_phase) {
		u.lc = lc;
		u.src = src;
		buf_init(&u.ekeys, (size_t)1 << 31);
		if (catalog_txn_aux_scan(lc->t, CATALOG_AUX_ENTRIES, &prefix, 1,
					 livecat_unseen_cb, &u) < 0) {
			buf_free(&u.ekeys);
			util_err(err, errlen, "reading entries failed");
			return -1;
		}
		p = u.ekeys.data;
		end = p + u.ekeys.len;
		for (; p && p < end && rc == 0; p += 1 + p[0]) {
			lc->st.gone++;
			rc = livecat_apply(lc, lc->staged[src], p + 1, p[0],
					   NULL, 0, err, errlen);
		}
		buf_free(&u.ekeys);
		if (rc < 0)
			return -1;
	}
	lc->refreshing[src] = 0;
	livecat_idset_free(&lc->seen[src]);
	if (!lc->staged[src])
		return 0;
	lc->staged[src] = 0;
	/* Another source still bringing everything: the records wait for
	 * it, or they would briefly lack its addresses. */
	for (i = 0; i < lc->conf.nsrc; i++)
		if (lc->staged[i])
			return 0;
	lc->staged_count = 0;
	lc->dirty = 1;
	lc->it = catalog_aux_iter_new(lc->t, CATALOG_AUX_CLAIMS);
	if (!lc->it) {
		util_err(err, errlen, "reading claims failed");
		return -1;
	}
	lc->it_have = 0;
	rc = catalog_txn_replace_all(lc->t, livecat_next, lc, err, errlen);
	catalog_aux_iter_free(lc->it);
	lc->it = NULL;
	return rc;
}

/* ---------------------------------------------------------- cookies */

static void livecat_cookie_name(int src, char *name, size_t size)
{
	snprintf(name, size, "%s%d", LIVECAT_COOKIE_NAME, src);
}

int livecat_set_cookie(struct livecat *lc, int src, const void *cookie,
		       size_t len, char *err, size_t errlen)
{
	if (src < 0 || src >= (int)lc->conf.nsrc ||
	    len + LIVECAT_COOKIE_SUM > CATALOG_META_VALUE_MAX) {
		util_err(err, errlen, "a sync cookie of %zu bytes refused", len);
		return -1;
	}
	free(lc->cookie[src]);
	/* Stored behind its own SHA-256: a damaged cookie must never be
	 * handed to the server, which might take it for a valid one and
	 * leave out what changed since. */
	lc->cookie[src] = xmalloc(LIVECAT_COOKIE_SUM + len);
	livecat_sha256(cookie, len, lc->cookie[src]);
	if (len)
		memcpy(lc->cookie[src] + LIVECAT_COOKIE_SUM, cookie, len);
	lc->cookielen[src] = LIVECAT_COOKIE_SUM + len;
	lc->cookie_set[src] = 1;
	return 0;
}

int livecat_get_cookie(struct livecat *lc, int src, void *buf, size_t size,
		       size_t *len, char *err, size_t errlen)
{
	unsigned char *v = xmalloc(CATALOG_META_VALUE_MAX);
	unsigned char sum[LIVECAT_COOKIE_SUM];
	char name[64];
	struct catalog_read *r = NULL;
	size_t vlen = 0;
	int rc;

	livecat_cookie_name(src, name, sizeof(name));
	if (lc->t) {
		rc = catalog_txn_meta_get(lc->t, name, v, CATALOG_META_VALUE_MAX,
					  &vlen);
	} else {
		r = catalog_read_begin(lc->cat, err, errlen);
		rc = r ? catalog_read_meta(r, name, v, CATALOG_META_VALUE_MAX,
					   &vlen) : -1;
		catalog_read_end(r);
	}
	if (rc == 1) {
		if (vlen < LIVECAT_COOKIE_SUM) {
			rc = -1;
		} else {
			livecat_sha256(v + LIVECAT_COOKIE_SUM,
				       vlen - LIVECAT_COOKIE_SUM, sum);
			if (memcmp(sum, v, LIVECAT_COOKIE_SUM))
				rc = -1;
		}
		if (rc < 0)
			util_err(err, errlen, "the stored sync cookie of source "
				 "%s is damaged", lc->conf.src[src].name);
		else if (vlen - LIVECAT_COOKIE_SUM > size)
			rc = -1;
		else {
			*len = vlen - LIVECAT_COOKIE_SUM;
			memcpy(buf, v + LIVECAT_COOKIE_SUM, *len);
		}
	}
	free(v);
	return rc;
}

int livecat_drop_cookie(struct livecat *lc, int src, char *err,
			size_t errlen)
{
	char name[64];

	if (livecat_begin(lc, err, errlen) < 0)
		return -1;
	livecat_cookie_name(src, name, sizeof(name));
	lc->cookie_set[src] = 0;
	lc->dirty = 1;
	return catalog_txn_meta_del(lc->t, name);
}

void livecat_diff(const struct livecat *lc, struct catalog_diff *d)
{
	if (lc->t)
		catalog_txn_diff(lc->t, d);
	else
		memset(d, 0, sizeof(*d));
}

int livecat_commit(struct livecat *lc, uint64_t *serial, char *err,
		   size_t errlen)
{
	char name[64];
	size_t i;
	int keep = 0;

	if (!lc->t) {
		util_err(err, errlen, "internal: no transaction");
		return -1;
	}
	for (i = 0; i < lc->conf.nsrc; i++) {
		if (!lc->cookie_set[i])
			continue;
		livecat_cookie_name((int)i, name, sizeof(name));
		if (catalog_txn_meta_put(lc->t, name, lc->cookie[i],
					 lc->cookielen[i], err, errlen) < 0) {
			livecat_abort(lc);
			return -1;
		}
		lc->cookie_set[i] = 0;
	}
	/* Only bookkeeping: no new serial, nothing for the nodes.  (The
	 * first records of an empty catalog are not in nchanges.) */
	{
		struct catalog_diff d;

		catalog_txn_diff(lc->t, &d);
		keep = d.added + d.removed + d.changed == 0;
	}
	if (keep) {
		catalog_txn_keep_serial(lc->t);
	}
	*serial = catalog_txn_serial_before(lc->t);
	err[0] = '\0';
	*serial = catalog_txn_commit(lc->t, err, errlen);
	lc->t = NULL;
	lc->dirty = 0;
	lc->staged_count = 0;
	/* A bookkeeping commit on a catalog never published has serial 0. */
	if (*serial == 0 && !(keep && err[0] == '\0'))
		return -1;
	return 0;
}

void livecat_abort(struct livecat *lc)
{
	size_t i;

	if (lc->t)
		catalog_txn_abort(lc->t);
	lc->t = NULL;
	lc->dirty = 0;
	for (i = 0; i < LIVECAT_SOURCES_MAX; i++)
		lc->cookie_set[i] = 0;
}

void livecat_stats(const struct livecat *lc, struct livecat_stats *st)
{
	*st = lc->st;
}
