/*
 * collect.c - gather, sort and settle the aggregator's addresses; see
 * collect.h.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "collect.h"
#include "ldapsrc.h"
#include "util.h"

struct collect_rec {
	uint64_t prefix;	/* first 8 key bytes, big-endian: fast compare */
	uint32_t off;		/* arena: [u8 keylen][key][u16 vallen][value] */
	uint32_t entry;		/* DN offset in the DN arena */
	uint16_t seq;		/* low bits of insertion order */
	uint8_t src;
	uint8_t kind;
	uint8_t drop;		/* lost a conflict, or a repeat */
	uint8_t pad[3];
};

/* An entry read that has logins, by the hash of its DN's key. */
struct collect_login {
	uint32_t hhi, hlo;	/* 64-bit hash, split: 12 bytes, no padding */
	uint32_t off;		/* logins arena: [u16 len][list] */
};

/* An owner DN waiting for collect_resolve_owners(). */
struct collect_owner {
	uint64_t hash;
	uint32_t entry;		/* DN offset of the entry naming it */
	uint32_t off;		/* owners arena: [u8 haskey][fallback\0][dn\0] */
};

struct collect {
	struct buf arena, dns;
	struct collect_rec *recs;
	size_t n, cap;
	size_t pos;		/* collect_next() cursor */
	uint64_t kept, kept_kind[CATALOG_KINDS];
	uint64_t nconflicts;
	struct collect_conflict conflicts[COLLECT_CONFLICTS_KEPT];
	size_t nkept_conflicts;
	/* owners named by DN */
	uint64_t sipkey[2];
	struct buf logins, ownerdns;
	struct collect_login *lidx;
	size_t nlogins, caplogins;
	struct collect_owner *owners;
	size_t nowners, capowners;
	struct collect_owner_stats ostats;
};

struct collect *collect_new(void)
{
	struct collect *c = xcalloc(1, sizeof(*c));

	buf_init(&c->arena, COLLECT_ARENA_MAX);
	buf_init(&c->dns, COLLECT_ARENA_MAX);
	buf_init(&c->logins, COLLECT_ARENA_MAX);
	buf_init(&c->ownerdns, COLLECT_ARENA_MAX);
	/* A new hash key each run; without the kernel's randomness, the time
	 * and pid still make one nobody can know in advance. */
	if (getrandom(c->sipkey, sizeof(c->sipkey), 0) !=
	    (ssize_t)sizeof(c->sipkey)) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		c->sipkey[0] = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ULL ^
			       (uint64_t)ts.tv_sec;
		c->sipkey[1] = (uint64_t)getpid() * 0xbf58476d1ce4e5b9ULL ^
			       (uint64_t)(uintptr_t)c;
	}
	return c;
}

/* Free what only the owner resolution needs. */
static void collect_owners_free(struct collect *c)
{
	buf_free(&c->logins);
	buf_free(&c->ownerdns);
	free(c->lidx);
	free(c->owners);
	c->lidx = NULL;
	c->owners = NULL;
	c->nlogins = c->caplogins = c->nowners = c->capowners = 0;
}

void collect_free(struct collect *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->nkept_conflicts; i++) {
		free(c->conflicts[i].key);
		free(c->conflicts[i].winner_dn);
		free(c->conflicts[i].loser_dn);
	}
	buf_free(&c->arena);
	buf_free(&c->dns);
	collect_owners_free(c);
	free(c->recs);
	free(c);
}

uint32_t collect_entry(struct collect *c, const char *dn)
{
	size_t off = c->dns.len;

	if (buf_append(&c->dns, dn, strlen(dn) + 1) < 0 || off > UINT32_MAX)
		return UINT32_MAX;
	return (uint32_t)off;
}

static uint64_t collect_prefix(const char *key, size_t len)
{
	uint64_t p = 0;
	size_t i;

	for (i = 0; i < 8; i++)
		p = (p << 8) | (i < len ? (unsigned char)key[i] : 0);
	return p;
}

int collect_add(struct collect *c, uint32_t entry, int src, int kind,
		const char *key, size_t keylen, const unsigned char *value,
		size_t vallen, char *err, size_t errlen)
{
	struct collect_rec *r;
	unsigned char hdr[2];
	size_t off = c->arena.len;

	if (c->n >= COLLECT_RECORDS_MAX || entry == UINT32_MAX ||
	    keylen > 255 || vallen > 65535) {
		util_err(err, errlen, "more than %d addresses",
			 COLLECT_RECORDS_MAX);
		return -1;
	}
	hdr[0] = (unsigned char)keylen;
	if (buf_append(&c->arena, hdr, 1) < 0 ||
	    buf_append(&c->arena, key, keylen) < 0) {
		util_err(err, errlen, "more than %zu bytes of addresses",
			 COLLECT_ARENA_MAX);
		return -1;
	}
	util_put_u16(hdr, (uint16_t)vallen);
	if (buf_append(&c->arena, hdr, 2) < 0 ||
	    buf_append(&c->arena, value, vallen) < 0 || off > UINT32_MAX) {
		util_err(err, errlen, "more than %zu bytes of addresses",
			 COLLECT_ARENA_MAX);
		return -1;
	}
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 4096;
		c->recs = xrealloc(c->recs, c->cap * sizeof(*c->recs));
	}
	r = &c->recs[c->n];
	memset(r, 0, sizeof(*r));
	r->prefix = collect_prefix(key, keylen);
	r->off = (uint32_t)off;
	r->entry = entry;
	r->seq = (uint16_t)c->n;
	r->src = (uint8_t)src;
	r->kind = (uint8_t)kind;
	c->n++;
	return 0;
}

/* ------------------------------------------------------------ owners */

int collect_login_usable(const char *v, size_t len)
{
	size_t i;

	if (len == 0 || len > 256)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)v[i] <= ' ' || v[i] == ',' || v[i] == 0x7f)
			return 0;
	return 1;
}

void collect_owner_add(struct buf *b, const char *v, size_t len)
{
	const char *p;

	if (!collect_login_usable(v, len))
		return;
	for (p = (const char *)b->data; p && *p;) {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);

		if (l == len && !strncasecmp(p, v, len))
			return;
		p = e ? e + 1 : p + l;
	}
	if (b->len + len + 1 > CATALOG_OWNERS_MAX)
		return;
	if (b->len)
		buf_append(b, ",", 1);
	buf_append(b, v, len);
}

/* Every login of the comma-separated list (len bytes) added to b. */
static void collect_owner_add_list(struct buf *b, const char *list,
				   size_t len)
{
	const char *p = list, *end = list + len;

	while (p < end) {
		const char *e = memchr(p, ',', (size_t)(end - p));
		size_t l = e ? (size_t)(e - p) : (size_t)(end - p);

		collect_owner_add(b, p, l);
		p += l + 1;
	}
}

/* SipHash-2-4 (Aumasson and Bernstein), a keyed 64-bit hash. */
#define COLLECT_ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define COLLECT_SIPROUND						\
	do {								\
		v0 += v1; v1 = COLLECT_ROTL(v1, 13); v1 ^= v0;		\
		v0 = COLLECT_ROTL(v0, 32);				\
		v2 += v3; v3 = COLLECT_ROTL(v3, 16); v3 ^= v2;		\
		v0 += v3; v3 = COLLECT_ROTL(v3, 21); v3 ^= v0;		\
		v2 += v1; v1 = COLLECT_ROTL(v1, 17); v1 ^= v2;		\
		v2 = COLLECT_ROTL(v2, 32);				\
	} while (0)

uint64_t collect_siphash(const uint64_t key[2], const void *data, size_t len)
{
	const unsigned char *in = data;
	uint64_t v0 = 0x736f6d6570736575ULL ^ key[0];
	uint64_t v1 = 0x646f72616e646f6dULL ^ key[1];
	uint64_t v2 = 0x6c7967656e657261ULL ^ key[0];
	uint64_t v3 = 0x7465646279746573ULL ^ key[1];
	uint64_t m, b = (uint64_t)len << 56;
	size_t i, j, end = len - (len & 7);

	for (i = 0; i < end; i += 8) {
		for (m = 0, j = 0; j < 8; j++)
			m |= (uint64_t)in[i + j] << (8 * j);
		v3 ^= m;
		COLLECT_SIPROUND;
		COLLECT_SIPROUND;
		v0 ^= m;
	}
	for (j = 0; j < (len & 7); j++)
		b |= (uint64_t)in[end + j] << (8 * j);
	v3 ^= b;
	COLLECT_SIPROUND;
	COLLECT_SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	COLLECT_SIPROUND;
	COLLECT_SIPROUND;
	COLLECT_SIPROUND;
	COLLECT_SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

int collect_login(struct collect *c, const unsigned char *dnkey,
		  size_t keylen, const char *logins, size_t len, char *err,
		  size_t errlen)
{
	uint64_t h = collect_siphash(c->sipkey, dnkey, keylen);
	size_t off = c->logins.len;
	unsigned char hdr[2];
	struct collect_login *l;

	if (len == 0 || len > CATALOG_OWNERS_MAX)
		return 0;
	util_put_u16(hdr, (uint16_t)len);
	if (off > UINT32_MAX || buf_append(&c->logins, hdr, 2) < 0 ||
	    buf_append(&c->logins, logins, len) < 0) {
		util_err(err, errlen, "more than %zu bytes of logins",
			 COLLECT_ARENA_MAX);
		return -1;
	}
	if (c->nlogins == c->caplogins) {
		c->caplogins = c->caplogins ? c->caplogins * 2 : 4096;
		c->lidx = xrealloc(c->lidx, c->caplogins * sizeof(*c->lidx));
	}
	l = &c->lidx[c->nlogins++];
	l->hhi = (uint32_t)(h >> 32);
	l->hlo = (uint32_t)h;
	l->off = (uint32_t)off;
	return 0;
}

int collect_owner_dn(struct collect *c, uint32_t entry,
		     const unsigned char *dnkey, size_t keylen,
		     const char *fallback, const char *dn, char *err,
		     size_t errlen)
{
	struct collect_owner *o;
	size_t off = c->ownerdns.len;
	unsigned char haskey = keylen > 0;

	if (entry == UINT32_MAX)
		return 0;
	if (off > UINT32_MAX || buf_append(&c->ownerdns, &haskey, 1) < 0 ||
	    buf_append(&c->ownerdns, fallback, strlen(fallback) + 1) < 0 ||
	    buf_append(&c->ownerdns, dn, strlen(dn) + 1) < 0) {
		util_err(err, errlen, "more than %zu bytes of owner DNs",
			 COLLECT_ARENA_MAX);
		return -1;
	}
	if (c->nowners == c->capowners) {
		c->capowners = c->capowners ? c->capowners * 2 : 256;
		c->owners = xrealloc(c->owners,
				     c->capowners * sizeof(*c->owners));
	}
	o = &c->owners[c->nowners++];
	o->hash = haskey ? collect_siphash(c->sipkey, dnkey, keylen) : 0;
	o->entry = entry;
	o->off = (uint32_t)off;
	c->ostats.dns++;
	return 0;
}

static int collect_login_cmp(const void *x, const void *y)
{
	const struct collect_login *a = x, *b = y;

	if (a->hhi != b->hhi)
		return a->hhi < b->hhi ? -1 : 1;
	if (a->hlo != b->hlo)
		return a->hlo < b->hlo ? -1 : 1;
	/* Read first, found first: a DN read twice gives its first logins. */
	return a->off < b->off ? -1 : a->off > b->off;
}

/* The logins of the first entry read whose DN hashes to h, or NULL. */
static const char *collect_login_find(const struct collect *c, uint64_t h,
				      size_t *len)
{
	uint32_t hhi = (uint32_t)(h >> 32), hlo = (uint32_t)h;
	size_t lo = 0, hi = c->nlogins;
	const unsigned char *p;

	while (lo < hi) {	/* the first index entry not below h */
		size_t mid = lo + (hi - lo) / 2;
		const struct collect_login *l = &c->lidx[mid];

		if (l->hhi < hhi || (l->hhi == hhi && l->hlo < hlo))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == c->nlogins || c->lidx[lo].hhi != hhi ||
	    c->lidx[lo].hlo != hlo)
		return NULL;
	p = c->logins.data + c->lidx[lo].off;
	*len = util_get_u16(p);
	return (const char *)p + 2;
}

/*
 * Give the records of entry their owners plus those of the list add: a
 * new value, appended to the arena with a copy of each key.  Records are
 * still in arrival order, so entry's come together, at *i or after; *i
 * ends past them.  0, or -1 when a limit is reached.
 */
static int collect_reowner(struct collect *c, size_t *i, uint32_t entry,
			   const struct buf *add, char *err, size_t errlen)
{
	unsigned char val[CATALOG_VALUE_MAX], vhdr[2], key[256];
	struct catalog_rec rec;
	struct buf owners;
	const unsigned char *p;
	size_t k, vlen, keylen;

	while (*i < c->n && c->recs[*i].entry < entry)
		(*i)++;
	if (*i == c->n || c->recs[*i].entry != entry)
		return 0;
	p = c->arena.data + c->recs[*i].off;
	memset(&rec, 0, sizeof(rec));
	if (catalog_rec_decode(p + 3 + p[0], util_get_u16(p + 1 + p[0]),
			       &rec) < 0) {
		util_err(err, errlen, "internal: bad record of %s",
			 (const char *)c->dns.data + entry);
		return -1;
	}
	buf_init(&owners, CATALOG_OWNERS_MAX);
	collect_owner_add_list(&owners, rec.owners, rec.ownerslen);
	collect_owner_add_list(&owners, (const char *)add->data, add->len);
	rec.owners = owners.len ? (const char *)owners.data : "";
	rec.ownerslen = owners.len;
	vlen = catalog_rec_encode(&rec, val, sizeof(val));
	buf_free(&owners);
	if (vlen == 0) {
		util_err(err, errlen, "internal: record of %s too large",
			 (const char *)c->dns.data + entry);
		return -1;
	}
	/* The old key and value stay in the arena, unused: a few bytes for
	 * the few entries that name owners by DN. */
	util_put_u16(vhdr, (uint16_t)vlen);
	for (k = *i; k < c->n && c->recs[k].entry == entry; k++) {
		size_t off = c->arena.len;

		p = c->arena.data + c->recs[k].off;
		keylen = p[0];
		memcpy(key, p, 1 + keylen);	/* copied: the arena may move */
		if (off > UINT32_MAX ||
		    buf_append(&c->arena, key, 1 + keylen) < 0 ||
		    buf_append(&c->arena, vhdr, 2) < 0 ||
		    buf_append(&c->arena, val, vlen) < 0) {
			util_err(err, errlen, "more than %zu bytes of addresses",
				 COLLECT_ARENA_MAX);
			return -1;
		}
		c->recs[k].off = (uint32_t)off;
	}
	*i = k;
	return 0;
}

int collect_resolve_owners(struct collect *c,
			   void (*unresolved)(void *arg, const char *owner_dn,
					      const char *entry_dn,
					      const char *why),
			   void *arg, char *err, size_t errlen)
{
	struct buf add;
	size_t g, j, i = 0;
	int rc = 0;

	if (c->nlogins)
		qsort(c->lidx, c->nlogins, sizeof(*c->lidx), collect_login_cmp);
	buf_init(&add, CATALOG_OWNERS_MAX);
	/* Owner DNs arrive entry by entry, as the records do. */
	for (g = 0; g < c->nowners && rc == 0; g = j) {
		uint32_t entry = c->owners[g].entry;

		add.len = 0;
		if (add.data)
			add.data[0] = '\0';
		for (j = g; j < c->nowners && c->owners[j].entry == entry; j++) {
			const struct collect_owner *o = &c->owners[j];
			const char *p = (const char *)c->ownerdns.data + o->off;
			const char *fallback = p + 1;
			const char *dn = fallback + strlen(fallback) + 1;
			const char *logins = NULL;
			size_t len = 0;

			if (p[0])
				logins = collect_login_find(c, o->hash, &len);
			if (logins) {
				collect_owner_add_list(&add, logins, len);
				c->ostats.resolved++;
			} else if (fallback[0]) {
				collect_owner_add(&add, fallback,
						  strlen(fallback));
				c->ostats.first_rdn++;
			} else {
				c->ostats.unresolved++;
				if (unresolved)
					unresolved(arg, dn,
						   (const char *)c->dns.data +
						   entry, p[0] ?
						   "no entry read has this DN, "
						   "and its first RDN value is no "
						   "login" : "not a DN");
			}
		}
		if (add.len)
			rc = collect_reowner(c, &i, entry, &add, err, errlen);
	}
	buf_free(&add);
	collect_owners_free(c);
	return rc;
}

void collect_owner_stats(const struct collect *c,
			 struct collect_owner_stats *st)
{
	*st = c->ostats;
}

/* ------------------------------------------------------- sort, settle */

static struct collect *collect_sorting;	/* qsort has no context argument */

/* Key order of LMDB: memcmp, shorter first. */
static int collect_keycmp(const struct collect_rec *a,
			  const struct collect_rec *b)
{
	const unsigned char *ka, *kb;
	size_t la, lb;
	int r;

	if (a->prefix != b->prefix)
		return a->prefix < b->prefix ? -1 : 1;
	ka = collect_sorting->arena.data + a->off;
	kb = collect_sorting->arena.data + b->off;
	la = ka[0];
	lb = kb[0];
	r = memcmp(ka + 1, kb + 1, la < lb ? la : lb);
	if (r)
		return r;
	return la < lb ? -1 : la > lb;
}

static int collect_cmp(const void *x, const void *y)
{
	const struct collect_rec *a = x, *b = y;
	int r = collect_keycmp(a, b);

	if (r)
		return r;
	/* Same key: keep arrival order so the first claimant comes first. */
	if (a->entry != b->entry)
		return a->entry < b->entry ? -1 : 1;
	return (int)a->seq - (int)b->seq;
}

/* Rank of a kind when two claim one address: person, mailin, group. */
static int collect_kind_rank(int kind)
{
	switch (kind) {
	case CATALOG_PERSON: return 0;
	case CATALOG_MAILIN: return 1;
	case CATALOG_GROUP: return 2;
	default: return 3;
	}
}

/* <0 when a beats b under rule. */
static int collect_better(const struct collect *c, const struct collect_rec *a,
			  const struct collect_rec *b, enum collect_rule rule)
{
	int ka = collect_kind_rank(a->kind), kb = collect_kind_rank(b->kind);
	unsigned char oa[LDAPSRC_DNKEY_MAX + 1], ob[LDAPSRC_DNKEY_MAX + 1];
	size_t la, lb;
	int r;

	if (rule == COLLECT_KIND_FIRST && ka != kb)
		return ka - kb;
	if (a->src != b->src)
		return (int)a->src - (int)b->src;
	if (ka != kb)
		return ka - kb;
	/* Same source and kind: the DN first in canonical order, which the
	 * watch mode can tell as well (it never sees the order of a full
	 * read), so both give every address the same owner. */
	la = ldapsrc_dn_order((const char *)c->dns.data + a->entry, oa,
			     sizeof(oa));
	lb = ldapsrc_dn_order((const char *)c->dns.data + b->entry, ob,
			     sizeof(ob));
	r = memcmp(oa, ob, la < lb ? la : lb);
	if (r)
		return r;
	if (la != lb)
		return la < lb ? -1 : 1;
	return a->entry < b->entry ? -1 : 1;
}

static void collect_note_conflict(struct collect *c,
				  const struct collect_rec *win,
				  const struct collect_rec *lose)
{
	struct collect_conflict *k;
	const unsigned char *key = c->arena.data + win->off;

	c->nconflicts++;
	if (c->nkept_conflicts >= COLLECT_CONFLICTS_KEPT)
		return;
	k = &c->conflicts[c->nkept_conflicts++];
	k->key = xstrndup((const char *)key + 1, key[0]);
	k->winner_dn = xstrdup((const char *)c->dns.data + win->entry);
	k->loser_dn = xstrdup((const char *)c->dns.data + lose->entry);
	k->winner_src = win->src;
	k->loser_src = lose->src;
	k->winner_kind = win->kind;
	k->loser_kind = lose->kind;
}

int collect_finish(struct collect *c, enum collect_rule rule, char *err,
		   size_t errlen)
{
	size_t i, j;

	collect_sorting = c;
	qsort(c->recs, c->n, sizeof(*c->recs), collect_cmp);
	for (i = 0; i < c->n; i = j) {
		size_t best = i;

		for (j = i + 1; j < c->n && !collect_keycmp(&c->recs[i],
							   &c->recs[j]); j++)
			;
		if (j - i > 1) {
			size_t k;

			for (k = i + 1; k < j; k++)
				if (collect_better(c, &c->recs[k], &c->recs[best],
						   rule) < 0)
					best = k;
			for (k = i; k < j; k++) {
				if (k == best)
					continue;
				c->recs[k].drop = 1;
				/* The same entry naming an address twice
				 * (mail and mailLocalAddress) is no conflict. */
				if (c->recs[k].entry != c->recs[best].entry)
					collect_note_conflict(c, &c->recs[best],
							      &c->recs[k]);
			}
		}
		c->kept++;
		c->kept_kind[c->recs[best].kind]++;
	}
	c->pos = 0;
	if (rule == COLLECT_FAIL && c->nconflicts) {
		util_err(err, errlen,
			 "%llu addresses claimed by two entries, e.g. %s "
			 "(%s and %s); duplicates = fail",
			 (unsigned long long)c->nconflicts, c->conflicts[0].key,
			 c->conflicts[0].winner_dn, c->conflicts[0].loser_dn);
		return -1;
	}
	return 0;
}

uint64_t collect_conflicts(const struct collect *c)
{
	return c->nconflicts;
}

size_t collect_conflicts_kept(const struct collect *c)
{
	return c->nkept_conflicts;
}

const struct collect_conflict *collect_conflict(const struct collect *c,
						size_t i)
{
	return i < c->nkept_conflicts ? &c->conflicts[i] : NULL;
}

uint64_t collect_count(const struct collect *c)
{
	return c->kept;
}

uint64_t collect_count_kind(const struct collect *c, int kind)
{
	return kind > 0 && kind < CATALOG_KINDS ? c->kept_kind[kind] : 0;
}

int collect_next(void *arg, struct catalog_rec *rec, char *err, size_t errlen)
{
	struct collect *c = arg;
	const unsigned char *p;
	size_t vlen;

	while (c->pos < c->n && c->recs[c->pos].drop)
		c->pos++;
	if (c->pos >= c->n)
		return 0;
	p = c->arena.data + c->recs[c->pos].off;
	c->pos++;
	rec->key = (const char *)p + 1;
	rec->keylen = p[0];
	vlen = util_get_u16(p + 1 + p[0]);
	if (catalog_rec_decode(p + 3 + p[0], vlen, rec) < 0) {
		util_err(err, errlen, "internal: bad record for %.*s",
			 (int)rec->keylen, rec->key);
		return -1;
	}
	return 1;
}
