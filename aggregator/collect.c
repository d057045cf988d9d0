/*
 * collect.c - gather, sort and settle the aggregator's addresses; see
 * collect.h.
 */
#include <stdlib.h>
#include <string.h>

#include "collect.h"
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

struct collect {
	struct buf arena, dns;
	struct collect_rec *recs;
	size_t n, cap;
	size_t pos;		/* collect_next() cursor */
	uint64_t kept, kept_kind[CATALOG_KINDS];
	uint64_t nconflicts;
	struct collect_conflict conflicts[COLLECT_CONFLICTS_KEPT];
	size_t nkept_conflicts;
};

struct collect *collect_new(void)
{
	struct collect *c = xcalloc(1, sizeof(*c));

	buf_init(&c->arena, COLLECT_ARENA_MAX);
	buf_init(&c->dns, COLLECT_ARENA_MAX);
	return c;
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
static int collect_better(const struct collect_rec *a,
			  const struct collect_rec *b, enum collect_rule rule)
{
	int ka = collect_kind_rank(a->kind), kb = collect_kind_rank(b->kind);

	if (rule == COLLECT_KIND_FIRST && ka != kb)
		return ka - kb;
	if (a->src != b->src)
		return (int)a->src - (int)b->src;
	if (ka != kb)
		return ka - kb;
	/* Same source and kind: the entry read first (arrival order). */
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
				if (collect_better(&c->recs[k], &c->recs[best],
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
