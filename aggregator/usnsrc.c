/*
 * usnsrc.c - the Active Directory live source: uSNChanged polling, for a
 * least-privileged account; see livesrc.h.
 *
 * Every usn_interval the DC's highestCommittedUSN (rootDSE) is compared
 * with the one the cookie holds.  When it moved, two searches of every
 * base fetch what changed since, on one kept-open connection:
 *   (&FILTER(uSNChanged>=N))     present(objectGUID, entry)
 *   (&(!FILTER)(uSNChanged>=N))  gone(objectGUID): it left the selection
 * An object the account cannot see changes too: a deletion (the
 * tombstone moves to CN=Deleted Objects, which only administrators read),
 * a move out of the base, an object in another partition.  Every USN in
 * (N, H] belongs to one write; when fewer distinct uSNChanged values came
 * back than the window holds, some write was invisible, and a sweep - a
 * search of FILTER for objectGUID only, reported as a present phase -
 * removes every entry no longer there.  Sweeps are at most one per
 * usn_sweep_interval (a deletion waits for the next one; a disabled
 * account, a removed address or a move within the base come at the next
 * poll).
 *
 * USNs are the DC's own: the cookie holds the DC's invocationId with the
 * USN, and another DC (or the same one restored from a backup, which gets
 * a new invocationId) means a full refresh, never a gap.
 *
 * Why not DirSync: without LDAP_DIRSYNC_OBJECT_SECURITY it needs the
 * "Replicating Directory Changes" right on the domain; with it (any
 * account) it returns only the attributes that changed, and neither
 * tombstones nor moves - measured against Samba 4.17.
 */
#include <ldap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "livesrc.h"
#include "log.h"
#include "usncookie.h"
#include "util.h"

#define USNSRC_GUID 16			/* bytes of an objectGUID */
#define USNSRC_FILTER_MAX 8192		/* bytes of a combined filter */
#define USNSRC_USN_DIGITS 20		/* a USN in decimal, at most */
#define USNSRC_SEEN_MAX 1000000		/* distinct USNs counted per poll */
#define USNSRC_MOVED_MAX 10000		/* changed DNs whose owners are re-read */
#define USNSRC_MOVED_BATCH 50		/* DNs in one (|(owner=DN)...) */
#define USNSRC_OWNER_FILTER_MAX 65536	/* bytes of that filter */
#define USNSRC_ATTRS_MAX 256		/* as ldapsrc.c: attributes a search asks */

struct usnsrc {
	const struct ldapsrc_conf *conf;
	const struct formula_attrs *attrs;	/* the source's */
	struct formula_attrs *mine;	/* the same + objectGUID, uSNChanged */
	struct formula_attrs *ids;	/* objectGUID, uSNChanged */
	int guid_idx, usn_idx;		/* in mine */
	struct livesrc_sink sink;
	struct ldap *ld;
	const char *owner_attr;		/* owner_attribute, or NULL */
	double interval, sweep_interval, due, sweep_due;
	int have;			/* the cookie below is valid */
	unsigned char dc[USNCOOKIE_GUID];	/* the DC's invocationId */
	uint64_t usn;			/* everything up to it is applied */
	int owed;			/* an invisible write awaits a sweep */
	/* during one poll */
	int mode;			/* what each entry is reported as */
	unsigned long long from, seen_max;
	unsigned long long *seen;	/* distinct uSNChanged values */
	size_t nseen, seencap;
	int overflow;
	int collect;			/* keep the DNs presented */
	char **dns;			/* DNs of the entries presented */
	size_t ndns;
	int dns_overflow;
};

enum { USNSRC_PRESENT, USNSRC_GONE, USNSRC_UNCHANGED };

/* objectGUID and uSNChanged of an entry; 0, or -1 when it has none. */
static int usnsrc_ids(const struct formula_vals *vals, int guid_idx,
		      int usn_idx, const unsigned char **guid,
		      unsigned long long *usn)
{
	const struct formula_vals *g = &vals[guid_idx], *u = &vals[usn_idx];
	char num[USNSRC_USN_DIGITS + 1];
	int64_t v;

	if (g->n != 1 || g->v[0].len != USNSRC_GUID)
		return -1;
	*guid = (const unsigned char *)g->v[0].ptr;
	*usn = 0;
	if (u->n == 1 && u->v[0].len < sizeof(num)) {
		memcpy(num, u->v[0].ptr, u->v[0].len);
		num[u->v[0].len] = '\0';
		if (util_parse_int(num, 0, INT64_MAX, &v) == 0)
			*usn = (unsigned long long)v;
	}
	return 0;
}

/* Remember a uSNChanged value seen in this poll's window. */
static void usnsrc_seen(struct usnsrc *p, unsigned long long usn)
{
	if (usn < p->from)
		return;
	if (usn > p->seen_max)
		p->seen_max = usn;
	if (p->nseen == p->seencap) {
		if (p->seencap >= USNSRC_SEEN_MAX) {
			p->overflow = 1;
			return;
		}
		p->seencap = p->seencap ? p->seencap * 2 : 256;
		p->seen = xrealloc(p->seen, p->seencap * sizeof(*p->seen));
	}
	p->seen[p->nseen++] = usn;
}

static int usnsrc_entry(void *arg, const struct ldapsrc_entry *e, char *err,
			size_t errlen)
{
	struct usnsrc *p = arg;
	const unsigned char *guid;
	unsigned long long usn;
	int gi = p->mode == USNSRC_PRESENT ? p->guid_idx : 0;
	int ui = p->mode == USNSRC_PRESENT ? p->usn_idx : 1;

	if (usnsrc_ids(e->vals, gi, ui, &guid, &usn) < 0) {
		log_warn("source %s: %s has no objectGUID the account may "
			 "read: skipped", p->conf->name, e->dn);
		return 0;
	}
	usnsrc_seen(p, usn);
	switch (p->mode) {
	case USNSRC_PRESENT:
		if (p->collect) {
			if (p->ndns < USNSRC_MOVED_MAX)
				p->dns[p->ndns++] = xstrdup(e->dn);
			else
				p->dns_overflow = 1;
		}
		return p->sink.present(p->sink.core, p->sink.src, guid,
				       USNSRC_GUID, e, err, errlen);
	case USNSRC_GONE:
		return p->sink.gone(p->sink.core, p->sink.src, guid,
				    USNSRC_GUID, err, errlen);
	default:
		return p->sink.unchanged(p->sink.core, p->sink.src, guid,
					 USNSRC_GUID);
	}
}

static int usnsrc_cmp(const void *a, const void *b)
{
	unsigned long long x = *(const unsigned long long *)a;
	unsigned long long y = *(const unsigned long long *)b;

	return x < y ? -1 : x > y;
}

/* Did every write of (from - 1, to] come back?  1 yes, 0 no. */
static int usnsrc_all_seen(struct usnsrc *p, unsigned long long to)
{
	size_t i, n = 0;

	if (p->overflow)
		return 0;
	qsort(p->seen, p->nseen, sizeof(*p->seen), usnsrc_cmp);
	for (i = 0; i < p->nseen; i++)
		if (p->seen[i] <= to && (i == 0 || p->seen[i] != p->seen[i - 1]))
			n++;
	return (unsigned long long)n == to - p->from + 1;
}

/* One search of every base with filter, each entry reported as mode. */
static int usnsrc_search(struct usnsrc *p, const char *filter, int mode,
			 char *err, size_t errlen)
{
	struct ldapsrc_conf c = *p->conf;
	struct ldapsrc_stats st;

	c.filter = filter;
	p->mode = mode;
	return ldapsrc_search_on(p->ld, &c,
				 mode == USNSRC_PRESENT ? p->mine : p->ids,
				 usnsrc_entry, p, &st, err, errlen);
}

/* The DC's highestCommittedUSN and invocationId.  0, or -1 with err. */
static int usnsrc_dc(struct usnsrc *p, unsigned long long *usn,
		     unsigned char *dc, char *err, size_t errlen)
{
	char *root_attrs[] = { "highestCommittedUSN", "dsServiceName", NULL };
	char *ntds_attrs[] = { "invocationId", NULL };
	LDAPMessage *res = NULL, *e;
	struct berval **v = NULL;
	struct timeval tv = { p->conf->network_timeout > 0 ?
			      p->conf->network_timeout : 10, 0 };
	char num[USNSRC_USN_DIGITS + 1], *ntds = NULL;
	int64_t n;
	int rc, ret = -1;

	rc = ldap_search_ext_s(p->ld, "", LDAP_SCOPE_BASE, "(objectClass=*)",
			       root_attrs, 0, NULL, NULL, &tv, 1, &res);
	if (rc != LDAP_SUCCESS || !(e = ldap_first_entry(p->ld, res))) {
		ldapsrc_describe(p->ld, rc, "rootDSE", p->conf, err, errlen);
		goto out;
	}
	v = ldap_get_values_len(p->ld, e, "highestCommittedUSN");
	if (!v || !v[0] || v[0]->bv_len >= sizeof(num)) {
		util_err(err, errlen, "source %s (%s): the server has no "
			 "highestCommittedUSN: not Active Directory? (live = "
			 "usn)", p->conf->name, p->conf->uri);
		goto out;
	}
	memcpy(num, v[0]->bv_val, v[0]->bv_len);
	num[v[0]->bv_len] = '\0';
	if (util_parse_int(num, 0, INT64_MAX, &n) < 0) {
		util_err(err, errlen, "source %s: highestCommittedUSN '%.20s' "
			 "is no number", p->conf->name, num);
		goto out;
	}
	*usn = (unsigned long long)n;
	ldap_value_free_len(v);
	v = ldap_get_values_len(p->ld, e, "dsServiceName");
	if (!v || !v[0] || memchr(v[0]->bv_val, '\0', v[0]->bv_len)) {
		util_err(err, errlen, "source %s: the rootDSE has no "
			 "dsServiceName", p->conf->name);
		goto out;
	}
	ntds = xstrndup(v[0]->bv_val, v[0]->bv_len);
	ldap_value_free_len(v);
	v = NULL;
	ldap_msgfree(res);
	res = NULL;
	rc = ldap_search_ext_s(p->ld, ntds, LDAP_SCOPE_BASE, "(objectClass=*)",
			       ntds_attrs, 0, NULL, NULL, &tv, 1, &res);
	if (rc != LDAP_SUCCESS || !(e = ldap_first_entry(p->ld, res)) ||
	    !(v = ldap_get_values_len(p->ld, e, "invocationId")) || !v[0] ||
	    v[0]->bv_len != USNSRC_GUID) {
		util_err(err, errlen, "source %s: cannot read the DC's "
			 "invocationId (%s): %s", p->conf->name, ntds,
			 ldap_err2string(rc));
		goto out;
	}
	memcpy(dc, v[0]->bv_val, USNSRC_GUID);
	ret = 0;
out:
	if (v)
		ldap_value_free_len(v);
	if (res)
		ldap_msgfree(res);
	free(ntds);
	return ret;
}

/* "(&FILTER(uSNChanged>=N))" or with FILTER negated, into buf. */
static int usnsrc_filter(const struct usnsrc *p, int negate,
			 unsigned long long from, char *buf, size_t size,
			 char *err, size_t errlen)
{
	int n = snprintf(buf, size, negate ? "(&(!%s)(uSNChanged>=%llu))" :
			 "(&%s(uSNChanged>=%llu))", p->conf->filter, from);

	if (n < 0 || (size_t)n >= size) {
		util_err(err, errlen, "source %s: filter longer than %d bytes",
			 p->conf->name, USNSRC_FILTER_MAX - 64);
		return -1;
	}
	return 0;
}

static void usnsrc_dns_clear(struct usnsrc *p)
{
	size_t i;

	for (i = 0; i < p->ndns; i++)
		free(p->dns[i]);
	p->ndns = 0;
	p->dns_overflow = 0;
}

/* "(&FILTER(|(owner=DN)...))" for dns[*i...] into f, advancing *i.
 * 0, or -1 when it does not fit. */
static int usnsrc_owner_filter(struct usnsrc *p, struct buf *f, size_t *i)
{
	size_t j;

	f->len = 0;
	if (buf_printf(f, "(&%s(|", p->conf->filter) < 0)
		return -1;
	for (j = 0; j < USNSRC_MOVED_BATCH && *i < p->ndns; j++, (*i)++)
		if (buf_printf(f, "(%s=", p->owner_attr) < 0 ||
		    usncookie_filter_escape(f, p->dns[*i]) < 0 ||
		    buf_append(f, ")", 1) < 0)
			return -1;
	return buf_append(f, "))", 3);	/* with the NUL */
}

/*
 * The entries that name a changed entry by DN in owner_attribute, read
 * again.  A moved or renamed object changes the DN that AD shows in
 * other objects' managedBy (a linked attribute) without changing their
 * uSNChanged, so they would keep naming the old DN and lose the owner.
 * Too many changed entries (or DNs too long for a filter): every entry
 * that names an owner.
 */
static int usnsrc_owners(struct usnsrc *p, char *err, size_t errlen)
{
	struct buf f;
	size_t i = 0;
	int rc = 0, all = p->dns_overflow;

	if (!p->owner_attr || (p->ndns == 0 && !all))
		return 0;
	buf_init(&f, USNSRC_OWNER_FILTER_MAX);
	while (!all && rc == 0 && i < p->ndns) {
		if (usnsrc_owner_filter(p, &f, &i) < 0)
			all = 1;
		else
			rc = usnsrc_search(p, (const char *)f.data,
					   USNSRC_PRESENT, err, errlen);
	}
	if (all && rc == 0) {
		f.len = 0;
		if (buf_printf(&f, "(&%s(%s=*))", p->conf->filter,
			       p->owner_attr) < 0 || buf_append(&f, "", 1) < 0) {
			util_err(err, errlen, "source %s: filter too long",
				 p->conf->name);
			rc = -1;
		} else {
			rc = usnsrc_search(p, (const char *)f.data,
					   USNSRC_PRESENT, err, errlen);
		}
	}
	buf_free(&f);
	return rc;
}

static int usnsrc_cookie(struct usnsrc *p, char *err, size_t errlen)
{
	unsigned char c[USNCOOKIE_LEN];
	struct usncookie k;

	memcpy(k.dc, p->dc, sizeof(k.dc));
	k.usn = p->usn;
	k.owed = p->owed;
	return p->sink.cookie(p->sink.core, p->sink.src, c,
			      usncookie_make(&k, c), err, errlen);
}

/* A sweep: every entry of FILTER, objectGUID only, as a present phase. */
static int usnsrc_sweep(struct usnsrc *p, char *err, size_t errlen)
{
	if (p->sink.refresh_begin(p->sink.core, p->sink.src, 0) < 0 ||
	    usnsrc_search(p, p->conf->filter, USNSRC_UNCHANGED, err,
			  errlen) < 0)
		return -1;
	p->sweep_due = util_now() + p->sweep_interval;
	p->owed = 0;
	return p->sink.refresh_done(p->sink.core, p->sink.src, 1, err, errlen);
}

static void usnsrc_stop(void *arg)
{
	struct usnsrc *p = arg;

	ldapsrc_close(p->ld);
	p->ld = NULL;
}

static int usnsrc_start(void *arg, const void *cookie, size_t len,
			char *err, size_t errlen)
{
	struct usnsrc *p = arg;
	struct usncookie k;

	usnsrc_stop(p);
	p->have = 0;
	if (usncookie_parse(cookie, len, &k) == 0) {
		memcpy(p->dc, k.dc, sizeof(p->dc));
		p->usn = k.usn;
		p->owed = k.owed;
		p->have = 1;
	} else if (cookie && len) {
		log_warn("source %s: a stored cookie that is no uSNChanged "
			 "cookie: reading everything again", p->conf->name);
	}
	p->ld = ldapsrc_open(p->conf, err, errlen);
	if (!p->ld)
		return -1;
	p->due = util_now();
	return 0;
}

static int usnsrc_fd(void *arg)
{
	(void)arg;
	return -1;
}

static double usnsrc_next_due(void *arg)
{
	return ((struct usnsrc *)arg)->due;
}

static int usnsrc_step(void *arg, int max, char *err, size_t errlen)
{
	struct usnsrc *p = arg;
	char filter[USNSRC_FILTER_MAX];
	unsigned char dc[USNSRC_GUID];
	unsigned long long hcu = 0;
	double now = util_now();
	int rc;

	(void)max;
	if (!p->ld) {
		util_err(err, errlen, "source %s: not connected", p->conf->name);
		return -1;
	}
	if (now < p->due)
		return 0;
	p->due = now + p->interval;
	/* Read before searching: what is written meanwhile comes again at
	 * the next poll (present() of an unchanged entry changes nothing). */
	if (usnsrc_dc(p, &hcu, dc, err, errlen) < 0)
		return -1;
	if (!p->have) {
		memcpy(p->dc, dc, USNSRC_GUID);
		p->usn = hcu;
		p->mode = USNSRC_PRESENT;
		if (p->sink.refresh_begin(p->sink.core, p->sink.src, 1) < 0 ||
		    usnsrc_search(p, p->conf->filter, USNSRC_PRESENT, err,
				  errlen) < 0 ||
		    p->sink.refresh_done(p->sink.core, p->sink.src, 1, err,
					 errlen) < 0)
			return -1;
		p->have = 1;
		p->sweep_due = util_now() + p->sweep_interval;
		return usnsrc_cookie(p, err, errlen) < 0 ? -1 : 1;
	}
	if (memcmp(dc, p->dc, USNSRC_GUID)) {
		log_warn("source %s: another domain controller answers (or "
			 "this one was restored): its USNs are its own, "
			 "reading everything again", p->conf->name);
		return LIVESRC_REFRESH_REQUIRED;
	}
	if (hcu < p->usn) {
		log_warn("source %s: the DC's highestCommittedUSN went back "
			 "from %llu to %llu: reading everything again",
			 p->conf->name, (unsigned long long)p->usn, hcu);
		return LIVESRC_REFRESH_REQUIRED;
	}
	if (hcu == p->usn && !(p->owed && now >= p->sweep_due))
		return 0;
	if (hcu > p->usn) {
		p->from = p->usn + 1;
		p->nseen = 0;
		p->seen_max = 0;
		p->overflow = 0;
		usnsrc_dns_clear(p);
		p->collect = p->owner_attr != NULL;
		rc = usnsrc_filter(p, 0, p->from, filter, sizeof(filter), err,
				   errlen);
		if (rc == 0)
			rc = usnsrc_search(p, filter, USNSRC_PRESENT, err, errlen);
		p->collect = 0;
		if (rc < 0 ||
		    usnsrc_filter(p, 1, p->from, filter, sizeof(filter), err,
				  errlen) < 0 ||
		    usnsrc_search(p, filter, USNSRC_GONE, err, errlen) < 0 ||
		    usnsrc_owners(p, err, errlen) < 0) {
			usnsrc_dns_clear(p);
			return -1;
		}
		usnsrc_dns_clear(p);
		/* A write the account could not see: maybe a deletion.  The
		 * cookie says so too, so that a restart still sweeps. */
		if (!usnsrc_all_seen(p, hcu)) {
			log_info("source %s: %llu USNs up to %llu, %zu seen: "
				 "a sweep for deletions is due", p->conf->name,
				 hcu - p->from + 1, hcu, p->nseen);
			p->owed = 1;
		}
		p->usn = hcu;
	}
	if (p->owed && util_now() >= p->sweep_due &&
	    usnsrc_sweep(p, err, errlen) < 0)
		return -1;
	return usnsrc_cookie(p, err, errlen) < 0 ? -1 : 1;
}

static void usnsrc_free(void *arg)
{
	struct usnsrc *p = arg;

	if (!p)
		return;
	usnsrc_stop(p);
	usnsrc_dns_clear(p);
	free(p->dns);
	formula_attrs_free(p->mine);
	formula_attrs_free(p->ids);
	free(p->seen);
	free(p);
}

static const struct livesrc_ops usnsrc_ops = {
	"usn", usnsrc_start, usnsrc_fd, usnsrc_next_due, usnsrc_step,
	usnsrc_stop, usnsrc_free
};

int usnsrc_new(struct livesrc *out, const struct ldapsrc_conf *conf,
	       const struct formula_attrs *attrs,
	       const struct livesrc_sink *sink, const char *owner_attr,
	       double interval, double sweep_interval, char *err,
	       size_t errlen)
{
	struct usnsrc *p;
	size_t i, n = formula_attrs_count(attrs);

	if (interval < 1 || sweep_interval < 1) {
		util_err(err, errlen, "source %s: usn_interval and "
			 "usn_sweep_interval must be 1s or more", conf->name);
		return -1;
	}
	if (strlen(conf->filter) > USNSRC_FILTER_MAX - 64) {
		util_err(err, errlen, "source %s: live = usn: filter longer "
			 "than %d bytes", conf->name, USNSRC_FILTER_MAX - 64);
		return -1;
	}
	p = xcalloc(1, sizeof(*p));
	p->conf = conf;
	p->attrs = attrs;
	p->sink = *sink;
	p->interval = interval;
	p->sweep_interval = sweep_interval;
	if (owner_attr) {
		p->owner_attr = owner_attr;
		p->dns = xcalloc(USNSRC_MOVED_MAX, sizeof(*p->dns));
	}
	/* The source's attributes keep their numbers; objectGUID and
	 * uSNChanged come after them (or where the formulas have them). */
	p->mine = formula_attrs_new();
	for (i = 0; i < n; i++) {
		const char *name = formula_attrs_name(attrs, i);

		formula_attrs_add(p->mine, name, strlen(name));
	}
	p->guid_idx = formula_attrs_add(p->mine, "objectGUID", 10);
	p->usn_idx = formula_attrs_add(p->mine, "uSNChanged", 10);
	p->ids = formula_attrs_new();
	if (formula_attrs_add(p->ids, "objectGUID", 10) != 0 ||
	    formula_attrs_add(p->ids, "uSNChanged", 10) != 1 ||
	    p->guid_idx < 0 || p->usn_idx < 0 ||
	    formula_attrs_count(p->mine) > USNSRC_ATTRS_MAX) {
		usnsrc_free(p);
		util_err(err, errlen, "source %s: too many attributes",
			 conf->name);
		return -1;
	}
	out->ops = &usnsrc_ops;
	out->s = p;
	return 0;
}
