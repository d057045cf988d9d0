/*
 * digest.c - one directory entry's contribution; see digest.h.
 */
#include <stdio.h>
#include <string.h>

#include "collect.h"
#include "digest.h"

void digest_init(struct digest *d)
{
	memset(d, 0, sizeof(*d));
	buf_init(&d->logins, CATALOG_OWNERS_MAX);
	buf_init(&d->addrs, (size_t)DIGEST_ADDRS_MAX * ADDR_BUF);
	buf_init(&d->odns, (size_t)DIGEST_OWNER_DNS_MAX *
		 (LDAPSRC_DNKEY_MAX * 2 + DIGEST_RDN_MAX + 8));
}

void digest_free(struct digest *d)
{
	buf_free(&d->logins);
	buf_free(&d->addrs);
	buf_free(&d->odns);
}

/* Start over for the next entry, keeping the buffers. */
static void digest_reset(struct digest *d)
{
	d->left = DIGEST_KEPT;
	d->kind = 0;
	d->vlen = 0;
	d->logins.len = 0;
	d->addrs.len = 0;
	d->odns.len = 0;
	d->naddrs = d->nodns = 0;
	d->addresses_seen = 0;
	if (d->logins.data)
		d->logins.data[0] = '\0';
}

/* Is norm among the addresses kept so far? */
static int digest_has_addr(const struct digest *d, const char *norm)
{
	const char *p = (const char *)d->addrs.data;
	const char *end = p + d->addrs.len;

	while (p && p < end) {
		if (!strcmp(p, norm))
			return 1;
		p += strlen(p) + 1;
	}
	return 0;
}

/* Keep one owner DN value (v has a '='). */
static int digest_add_owner_dn(struct digest *d, const char *v, size_t len)
{
	unsigned char key[LDAPSRC_DNKEY_MAX], hdr[2];
	char rdn[DIGEST_RDN_MAX], dn[LDAPSRC_DNKEY_MAX];
	size_t klen;

	if (d->nodns >= DIGEST_OWNER_DNS_MAX)
		return 0;
	klen = ldapsrc_dn_key(v, len, key, sizeof(key), rdn, sizeof(rdn));
	if (!collect_login_usable(rdn, strlen(rdn)))
		rdn[0] = '\0';
	snprintf(dn, sizeof(dn), "%.*s", (int)len, v);
	util_put_u16(hdr, (uint16_t)klen);
	if (buf_append(&d->odns, hdr, 2) < 0 ||
	    buf_append(&d->odns, key, klen) < 0 ||
	    buf_append(&d->odns, rdn, strlen(rdn) + 1) < 0 ||
	    buf_append(&d->odns, dn, strlen(dn) + 1) < 0)
		return -1;
	d->nodns++;
	return 0;
}

int digest_entry(struct digest *d, const struct digest_rules *r,
		 const struct digest_env *env, const struct ldapsrc_entry *e,
		 void (*left_out)(void *arg, int reason, const char *what,
				  size_t len, const char *dn, const char *why),
		 void *arg, char *err, size_t errlen)
{
	static const int order[3] = { CATALOG_PERSON, CATALOG_MAILIN,
				      CATALOG_GROUP };
	struct buf owners, extra;
	struct catalog_rec rec;
	char norm[ADDR_BUF], aerr[128];
	size_t i, j, nodn = 0;
	int k;

	digest_reset(d);
	if (r->login_idx >= 0)
		for (i = 0; i < e->vals[r->login_idx].n; i++)
			collect_owner_add(&d->logins,
					  e->vals[r->login_idx].v[i].ptr,
					  e->vals[r->login_idx].v[i].len);
	if (r->select && !formula_eval(r->select, e->vals)) {
		d->left = DIGEST_NOT_SELECTED;
		return 0;
	}
	for (k = 0; k < 3; k++)
		if (r->kind[order[k]] && formula_eval(r->kind[order[k]],
						      e->vals)) {
			d->kind = order[k];
			break;
		}
	if (!d->kind) {
		d->left = DIGEST_NO_KIND;
		return 0;
	}
	buf_init(&owners, CATALOG_OWNERS_MAX);
	buf_init(&extra, CATALOG_EXTRA_MAX);
	if (d->logins.len)
		buf_append(&owners, d->logins.data, d->logins.len);
	/* Owners that are no DN are logins; DNs are resolved later. */
	if (r->owner_idx >= 0)
		for (i = 0; i < e->vals[r->owner_idx].n; i++) {
			const struct formula_val *ov = &e->vals[r->owner_idx].v[i];

			if (memchr(ov->ptr, '=', ov->len))
				nodn++;
			else
				collect_owner_add(&owners, ov->ptr, ov->len);
		}
	/* First, so that no configured extra field can crowd it out. */
	if (r->internal_only && formula_eval(r->internal_only, e->vals))
		buf_append(&extra, CATALOG_INTERNAL_ONLY_LINE,
			   strlen(CATALOG_INTERNAL_ONLY_LINE));
	for (i = 0; i < r->nextras; i++) {
		const struct formula_vals *xv = &e->vals[r->extras[i].idx];

		if (xv->n == 0 || memchr(xv->v[0].ptr, '\n', xv->v[0].len))
			continue;
		if (extra.len + strlen(r->extras[i].name) + xv->v[0].len + 2 >
		    CATALOG_EXTRA_MAX)
			continue;
		if (extra.len)
			buf_append(&extra, "\n", 1);
		buf_printf(&extra, "%s=", r->extras[i].name);
		buf_append(&extra, xv->v[0].ptr, xv->v[0].len);
	}
	memset(&rec, 0, sizeof(rec));
	rec.kind = d->kind;
	rec.owners = owners.len ? (const char *)owners.data : "";
	rec.ownerslen = owners.len;
	rec.extra = extra.len ? (const char *)extra.data : "";
	rec.extralen = extra.len;
	d->vlen = catalog_rec_encode(&rec, d->value, sizeof(d->value));
	buf_free(&owners);
	buf_free(&extra);
	if (d->vlen == 0) {
		util_err(err, errlen, "internal: record of %s too large", e->dn);
		return -1;
	}
	for (i = 0; i < r->naddr; i++) {
		const struct formula_vals *av = &e->vals[r->addr_idx[i]];

		for (j = 0; j < av->n; j++) {
			const char *p = av->v[j].ptr;
			size_t len = av->v[j].len;

			if (r->addr_proxy[i]) {
				/* Only SMTP addresses; "SMTP:" is the primary. */
				if (len < 5 || strncasecmp(p, "smtp:", 5))
					continue;
				p += 5;
				len -= 5;
			}
			d->addresses_seen++;
			if (addr_normalise(p, len, norm, sizeof(norm),
					   env->addr_flags, aerr,
					   sizeof(aerr)) < 0) {
				if (left_out)
					left_out(arg, DIGEST_INVALID, p, len,
						 e->dn, aerr);
				continue;
			}
			if (!addr_domains_match(env->domains,
						addr_domain(norm))) {
				if (left_out)
					left_out(arg, DIGEST_FOREIGN, norm,
						 strlen(norm), e->dn, NULL);
				continue;
			}
			if (digest_has_addr(d, norm))
				continue;
			if (d->naddrs >= DIGEST_ADDRS_MAX) {
				util_err(err, errlen, "%s: more than %d "
					 "addresses in one entry", e->dn,
					 DIGEST_ADDRS_MAX);
				return -1;
			}
			if (buf_append(&d->addrs, norm, strlen(norm) + 1) < 0) {
				util_err(err, errlen, "internal: addresses of "
					 "%s", e->dn);
				return -1;
			}
			d->naddrs++;
		}
	}
	if (d->naddrs == 0) {
		d->left = DIGEST_NO_ADDRESS;
		return 0;
	}
	if (nodn)
		for (i = 0; i < e->vals[r->owner_idx].n; i++) {
			const struct formula_val *ov = &e->vals[r->owner_idx].v[i];

			if (memchr(ov->ptr, '=', ov->len) &&
			    digest_add_owner_dn(d, ov->ptr, ov->len) < 0) {
				util_err(err, errlen, "internal: owner DNs of "
					 "%s", e->dn);
				return -1;
			}
		}
	return 0;
}

int digest_owner_dn(const struct digest *d, size_t *pos,
		    const unsigned char **key, size_t *keylen,
		    const char **fallback, const char **dn)
{
	const unsigned char *p;

	if (*pos + 2 > d->odns.len)
		return 0;
	p = d->odns.data + *pos;
	*keylen = util_get_u16(p);
	*key = p + 2;
	*fallback = (const char *)p + 2 + *keylen;
	*dn = *fallback + strlen(*fallback) + 1;
	*pos += 2 + *keylen + strlen(*fallback) + 1 + strlen(*dn) + 1;
	return 1;
}
