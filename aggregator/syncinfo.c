/*
 * syncinfo.c - RFC 4533 control and message values with liblber; see
 * syncinfo.h.  (libldap's own ldap_sync_* helpers hand a chain of
 * messages to their callbacks as if it were its first message, so a burst
 * of changes arriving together loses all but one; the watch mode reads
 * one message at a time and decodes the values here instead.)
 */
#include <lber.h>
#include <stdlib.h>
#include <string.h>

#include "syncinfo.h"
#include "util.h"

#define SYNCINFO_TAG_COOKIE    ((ber_tag_t)0x04U)	/* OCTET STRING */
#define SYNCINFO_TAG_BOOLEAN   ((ber_tag_t)0x01U)
#define SYNCINFO_TAG_NEWCOOKIE ((ber_tag_t)0x80U)
#define SYNCINFO_TAG_REFDEL    ((ber_tag_t)0xa1U)
#define SYNCINFO_TAG_REFPRES   ((ber_tag_t)0xa2U)
#define SYNCINFO_TAG_IDSET     ((ber_tag_t)0xa3U)

/* A BerElement over a copy of val. */
static BerElement *syncinfo_ber(const void *val, size_t len)
{
	struct berval bv;

	if (len == 0 || len > (size_t)SYNCINFO_IDSET_MAX * 20)
		return NULL;
	bv.bv_val = (char *)val;
	bv.bv_len = len;
	return ber_init(&bv);
}

/* An OCTET STRING into buf (at most size bytes). */
static int syncinfo_string(BerElement *ber, unsigned char *buf, size_t size,
			   size_t *len)
{
	struct berval bv = { 0, NULL };

	if (ber_scanf(ber, "m", &bv) == LBER_ERROR || bv.bv_len > size)
		return -1;
	if (bv.bv_len)
		memcpy(buf, bv.bv_val, bv.bv_len);
	*len = bv.bv_len;
	return 0;
}

/* Nothing may follow the value. */
static int syncinfo_end(BerElement *ber)
{
	ber_len_t len;

	return ber_peek_tag(ber, &len) == LBER_DEFAULT ? 0 : -1;
}

int syncinfo_parse_state(const void *val, size_t len,
			 struct syncinfo_state_ctl *out)
{
	BerElement *ber = syncinfo_ber(val, len);
	ber_int_t state = -1;
	ber_len_t l;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (!ber)
		return -1;
	if (ber_scanf(ber, "{e", &state) == LBER_ERROR || state < 0 ||
	    state > SYNCINFO_DELETE)
		goto out;
	out->state = (int)state;
	if (syncinfo_string(ber, out->uuid, sizeof(out->uuid),
			    &out->uuidlen) < 0 || out->uuidlen == 0)
		goto out;
	if (ber_peek_tag(ber, &l) == SYNCINFO_TAG_COOKIE) {
		if (syncinfo_string(ber, out->cookie, sizeof(out->cookie),
				    &out->cookielen) < 0)
			goto out;
		out->has_cookie = 1;
	}
	if (ber_scanf(ber, "}") == LBER_ERROR || syncinfo_end(ber) < 0)
		goto out;
	ret = 0;
out:
	ber_free(ber, 1);
	return ret;
}

/* cookie OPTIONAL, then a BOOLEAN OPTIONAL (def when absent). */
static int syncinfo_cookie_bool(BerElement *ber, struct syncinfo_msg *m,
				int def, int *flag)
{
	ber_len_t l;
	ber_int_t b;

	if (ber_peek_tag(ber, &l) == SYNCINFO_TAG_COOKIE) {
		if (syncinfo_string(ber, m->cookie, sizeof(m->cookie),
				    &m->cookielen) < 0)
			return -1;
		m->has_cookie = 1;
	}
	*flag = def;
	if (ber_peek_tag(ber, &l) == SYNCINFO_TAG_BOOLEAN) {
		if (ber_scanf(ber, "b", &b) == LBER_ERROR)
			return -1;
		*flag = b != 0;
	}
	return 0;
}

int syncinfo_parse_info(const void *val, size_t len, struct syncinfo_msg *m)
{
	BerElement *ber = syncinfo_ber(val, len);
	ber_len_t l;
	ber_tag_t tag;
	int ret = -1;

	memset(m, 0, sizeof(*m));
	if (!ber)
		return -1;
	tag = ber_peek_tag(ber, &l);
	switch (tag) {
	case SYNCINFO_TAG_NEWCOOKIE:
		m->type = SYNCINFO_NEW_COOKIE;
		if (syncinfo_string(ber, m->cookie, sizeof(m->cookie),
				    &m->cookielen) < 0)
			goto out;
		m->has_cookie = 1;
		break;
	case SYNCINFO_TAG_REFDEL:
	case SYNCINFO_TAG_REFPRES:
		m->type = tag == SYNCINFO_TAG_REFDEL ? SYNCINFO_REFRESH_DELETE
						     : SYNCINFO_REFRESH_PRESENT;
		if (ber_scanf(ber, "{") == LBER_ERROR ||
		    syncinfo_cookie_bool(ber, m, 1, &m->refresh_done) < 0 ||
		    ber_scanf(ber, "}") == LBER_ERROR)
			goto out;
		break;
	case SYNCINFO_TAG_IDSET: {
		ber_len_t elen;
		char *last;

		m->type = SYNCINFO_ID_SET;
		if (ber_scanf(ber, "{") == LBER_ERROR ||
		    syncinfo_cookie_bool(ber, m, 0, &m->refresh_deletes) < 0)
			goto out;
		for (tag = ber_first_element(ber, &elen, &last);
		     tag != LBER_DEFAULT;
		     tag = ber_next_element(ber, &elen, last)) {
			unsigned char u[SYNCINFO_UUID_MAX];
			size_t ul;

			if (m->nuuids >= SYNCINFO_IDSET_MAX ||
			    syncinfo_string(ber, u, sizeof(u), &ul) < 0 ||
			    ul == 0 || (m->nuuids && ul != m->uuidlen))
				goto out;
			if (m->nuuids == 0) {
				m->uuidlen = ul;
				m->uuids = xmalloc(ul * 64);
			} else if ((m->nuuids & (m->nuuids - 1)) == 0 &&
				   m->nuuids >= 64) {
				m->uuids = xrealloc(m->uuids,
						    ul * m->nuuids * 2);
			}
			memcpy(m->uuids + m->nuuids * ul, u, ul);
			m->nuuids++;
		}
		if (ber_scanf(ber, "}") == LBER_ERROR)
			goto out;
		break;
	}
	default:
		goto out;
	}
	if (syncinfo_end(ber) < 0)
		goto out;
	ret = 0;
out:
	ber_free(ber, 1);
	if (ret < 0)
		syncinfo_msg_free(m);
	return ret;
}

void syncinfo_msg_free(struct syncinfo_msg *m)
{
	free(m->uuids);
	m->uuids = NULL;
	m->nuuids = 0;
}
