/*
 * aggconf.c - the aggregator's settings table and its checks; see
 * aggconf.h.  What a setting means for the run is in man/dircat.conf.5;
 * a new setting is one row below (and a line there).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aggconf.h"
#include "collect.h"
#include "util.h"
#include "watch.h"

#define AGGCONF_STR(x)  #x
#define AGGCONF_XSTR(x) AGGCONF_STR(x)

/* --- checks of the top level ------------------------------------------ */

struct aggconf_domsplit {
	struct aggconf *c;
	const struct settings_key *k;
	const struct settings_value *v;
	char *err;
	size_t errlen;
};

static int aggconf_add_domain(void *arg, const char *item, size_t len)
{
	struct aggconf_domsplit *d = arg;
	char e[256];

	if (addr_domains_add(d->c->domains, item, len, e, sizeof(e)) < 0)
		return settings_fail(d->k, d->v, d->err, d->errlen,
				     "'%.*s': %s", (int)len, item, e);
	return 0;
}

static int aggconf_local_domains(void *obj, const struct settings_key *k,
				 const struct settings_value *v, char *err,
				 size_t errlen)
{
	struct aggconf_domsplit d = { obj, k, v, err, errlen };

	return config_split(v->text, aggconf_add_domain, &d) ? -1 : 0;
}

static const struct settings_choice aggconf_duplicates[] = {
	{ "source-first", COLLECT_SOURCE_FIRST },
	{ "kind-first", COLLECT_KIND_FIRST },
	{ "fail", COLLECT_FAIL },
	{ NULL, 0 }
};

#define TOP(member) SETTINGS_FIELD(struct aggconf, member)
/* "100ms", "2s", "0": milliseconds, at most an hour. */
static int aggconf_millis(void *obj, const struct settings_key *k,
			  const struct settings_value *v, char *err,
			  size_t errlen)
{
	int64_t *out = (int64_t *)(void *)((char *)obj + k->offset);
	char *end;
	double x;

	errno = 0;
	x = strtod(v->text, &end);
	if (errno || end == v->text || x < 0 ||
	    (strcmp(end, "ms") && strcmp(end, "s") && *end))
		return settings_fail(k, v, err, errlen,
				     "expected a time such as 100ms or 1s");
	if (strcmp(end, "ms"))
		x *= 1000.0;
	if (x > 3600.0 * 1000.0)
		return settings_fail(k, v, err, errlen, "at most 1h");
	*out = (int64_t)x;
	return 0;
}

static const struct settings_key aggconf_top_keys[] = {
	{ .name = "catalog", .type = SETTINGS_TEXT,
	  .flags = SETTINGS_REQUIRED, TOP(catalog_path), .meta = "PATH",
	  .doc = "The catalog file (LMDB)." },
	{ .name = "catalog_id", .type = SETTINGS_COPY,
	  .flags = SETTINGS_REQUIRED, TOP(catalog_id),
	  .check = settings_catalog_id, .meta = "ID",
	  .doc = "The catalog's name, stamped on every snapshot." },
	{ .name = "local_domains", .type = SETTINGS_TEXT,
	  .flags = SETTINGS_REQUIRED, TOP(local_domains),
	  .check = aggconf_local_domains, .meta = "LIST",
	  .doc = "The domains whose addresses go into the catalog "
		 "(.example.com: its subdomains)." },
	{ .name = "min_records", .type = SETTINGS_INT, .def = "1",
	  .min = 0, .max = INT64_MAX, TOP(min_records),
	  .doc = "Refuse to publish fewer addresses than this." },
	{ .name = "max_shrink", .type = SETTINGS_PERCENT, .def = "10%",
	  .min = 0, .max = 100, TOP(max_shrink_pct),
	  .doc = "Refuse to publish when the addresses fell by more than "
		 "this share." },
	{ .name = "duplicates", .type = SETTINGS_CHOICE,
	  .def = "source-first", .choices = aggconf_duplicates, TOP(rule),
	  .doc = "Which entry keeps an address two entries claim, or fail "
		 "the run." },
	{ .name = "history", .type = SETTINGS_INT,
	  .def = AGGCONF_XSTR(CATALOG_HISTORY_DEFAULT), .min = 0,
	  .max = 100000, TOP(history),
	  .doc = "Serials of change history kept, for deltas." },
	{ .name = "case_sensitive_local_part", .type = SETTINGS_BOOL,
	  .def = "no", TOP(case_sensitive),
	  .doc = "Keep the case of local parts." },
	{ .name = "report_json", .type = SETTINGS_TEXT, TOP(report_path),
	  .meta = "PATH", .doc = "Write each run's report here as JSON." },
	{ .name = "metrics_file", .type = SETTINGS_TEXT, TOP(metrics_path),
	  .meta = "PATH",
	  .doc = "Write each run's figures here (Prometheus text format)." },
	{ .name = "lock", .type = SETTINGS_TEXT, TOP(lock_path),
	  .meta = "PATH",
	  .doc = "The run lock; default: the catalog's path with .lock "
		 "added." },
	{ .name = "publish_interval", .type = SETTINGS_CUSTOM, .def = "100ms",
	  TOP(publish_interval_ms), .check = aggconf_millis, .meta = "TIME",
	  .doc = "Watch mode: at most one serial per this time while "
		 "changes keep coming (100ms, 1s)." },
	{ .name = "shrink_window", .type = SETTINGS_DURATION, .def = "1h",
	  .min = 1, .max = 30 * 86400, TOP(shrink_window),
	  .doc = "Watch mode: max_shrink counts the addresses lost within "
		 "this window." },
	{ .name = "reconcile_interval", .type = SETTINGS_DURATION,
	  .def = "1d", .min = 0, .max = 365 * 86400, TOP(reconcile_interval),
	  .doc = "Watch mode: compare a full read with the catalog this "
		 "often; 0: never." },
	{ .name = "notify_socket", .type = SETTINGS_TEXT, TOP(notify_socket),
	  .meta = "PATH",
	  .doc = "Watch mode: tell the replicator of each serial here." },
	{ .name = "watch_status_file", .type = SETTINGS_TEXT,
	  TOP(watch_status_file), .meta = "PATH",
	  .doc = "Watch mode: its state, for dircat status." },
	{ .name = NULL }
};
#undef TOP

/* --- checks of a [source NAME] --------------------------------------- */

static int aggconf_sasl_mech(void *obj, const struct settings_key *k,
			     const struct settings_value *v, char *err,
			     size_t errlen)
{
	(void)obj;
	if (strcasecmp(v->text, "EXTERNAL") && strcasecmp(v->text, "GSSAPI"))
		return settings_fail(k, v, err, errlen,
				     "expected EXTERNAL or GSSAPI");
	return 0;
}

/*
 * A URI must not carry credentials: a login or password in its authority
 * (ldap://USER:PASSWORD@host/) or OpenLDAP's bindpw extension would be
 * printed with every message naming the source.  The message does not
 * repeat the value.
 */
static int aggconf_uri(void *obj, const struct settings_key *k,
		       const struct settings_value *v, char *err,
		       size_t errlen)
{
	const char *p = v->text;

	(void)obj;
	while (*p) {
		size_t n = strcspn(p, " \t,"), auth, i;
		const char *host = strstr(p, "://");

		if (host && (size_t)(host - p) < n) {
			host += 3;
			auth = strcspn(host, "/ \t,");
			if (memchr(host, '@', auth))
				return settings_fail(k, v, err, errlen,
					"a login or password does not belong "
					"in the URI; use bind_dn and "
					"bind_password_file");
		}
		for (i = 0; i + 6 <= n; i++)
			if (!strncasecmp(p + i, "bindpw", 6))
				return settings_fail(k, v, err, errlen,
					"a password does not belong in the "
					"URI; use bind_password_file");
		p += n;
		p += strspn(p, " \t,");
	}
	return 0;
}

static int aggconf_scope(void *obj, const struct settings_key *k,
			 const struct settings_value *v, char *err,
			 size_t errlen)
{
	struct aggconf_source *s = obj;

	if (ldapsrc_scope(v->text, &s->lc.scope) < 0)
		return settings_fail(k, v, err, errlen,
				     "expected sub, one or base");
	return 0;
}

static int aggconf_base(void *obj, const struct settings_key *k,
			const struct settings_value *v, char *err,
			size_t errlen)
{
	struct aggconf_source *s = obj;

	if (s->lc.nbases >= LDAPSRC_BASES_MAX)
		return settings_fail(k, v, err, errlen, "more than %d bases",
				     LDAPSRC_BASES_MAX);
	s->lc.bases[s->lc.nbases++] = v->text;
	return 0;
}

/* Case-insensitive "proxyAddresses". */
static int aggconf_is_proxy(const char *name, size_t len)
{
	return len == 14 && !strncasecmp(name, "proxyAddresses", len);
}

struct aggconf_attrsplit {
	struct aggconf_source *s;
	const struct settings_key *k;
	const struct settings_value *v;
	char *err;
	size_t errlen;
};

static int aggconf_add_addr_attr(void *arg, const char *item, size_t len)
{
	struct aggconf_attrsplit *sp = arg;
	struct aggconf_source *s = sp->s;
	int idx;

	if (s->naddr >= AGGCONF_ADDR_ATTRS_MAX)
		return settings_fail(sp->k, sp->v, sp->err, sp->errlen,
				     "more than %d", AGGCONF_ADDR_ATTRS_MAX);
	idx = formula_attrs_add(s->attrs, item, len);
	if (idx < 0 || len > CONFIG_NAME_MAX)
		return settings_fail(sp->k, sp->v, sp->err, sp->errlen,
				     "bad attribute name '%.*s'", (int)len,
				     item);
	s->addr_idx[s->naddr] = idx;
	s->addr_proxy[s->naddr] = aggconf_is_proxy(item, len);
	s->naddr++;
	return 0;
}

static int aggconf_addr_attrs(void *obj, const struct settings_key *k,
			      const struct settings_value *v, char *err,
			      size_t errlen)
{
	struct aggconf_attrsplit sp = { obj, k, v, err, errlen };

	return config_split(v->text, aggconf_add_addr_attr, &sp) ? -1 : 0;
}

/* login_attribute, owner_attribute: an attribute's index into the int
 * the key's field names. */
static int aggconf_attr(void *obj, const struct settings_key *k,
			const struct settings_value *v, char *err,
			size_t errlen)
{
	struct aggconf_source *s = obj;
	int *idx = (int *)(void *)((char *)obj + k->offset);

	*idx = formula_attrs_add(s->attrs, v->text, strlen(v->text));
	if (*idx < 0)
		return settings_fail(k, v, err, errlen,
				     "bad attribute name '%s'", v->text);
	return 0;
}

/* extra = NAME ATTRIBUTE */
static int aggconf_extra(void *obj, const struct settings_key *k,
			 const struct settings_value *v, char *err,
			 size_t errlen)
{
	struct aggconf_source *s = obj;
	const char *sp = strpbrk(v->text, " \t");
	struct aggconf_extra *x;
	size_t nlen;

	if (s->nextras >= AGGCONF_EXTRAS_MAX || !sp ||
	    (nlen = (size_t)(sp - v->text)) > AGGCONF_EXTRA_NAME_MAX)
		return settings_fail(k, v, err, errlen,
				     "expected 'extra = NAME ATTRIBUTE' (at "
				     "most %d)", AGGCONF_EXTRAS_MAX);
	x = &s->extras[s->nextras];
	memcpy(x->name, v->text, nlen);
	x->name[nlen] = '\0';
	while (*sp == ' ' || *sp == '\t')
		sp++;
	x->idx = formula_attrs_add(s->attrs, sp, strlen(sp));
	if (x->idx < 0 || strchr(x->name, '='))
		return settings_fail(k, v, err, errlen,
				     "bad name or attribute");
	if (!strcmp(x->name, CATALOG_INTERNAL_ONLY_NAME))
		return settings_fail(k, v, err, errlen,
				     "the name %s is set by the internal_only "
				     "formula", CATALOG_INTERNAL_ONLY_NAME);
	s->nextras++;
	return 0;
}

/* A formula, compiled into the struct formula * the key's field names.
 * Its errors point into the file: the formula's first line starts at
 * the value's column; continuation lines keep their own columns. */
static int aggconf_formula(void *obj, const struct settings_key *k,
			   const struct settings_value *v, char *err,
			   size_t errlen)
{
	struct aggconf_source *s = obj;
	struct formula **out = (struct formula **)(void *)((char *)obj +
							    k->offset);
	char ferr[512];
	int fl, fc, n = 0;

	*out = formula_compile(v->text, s->attrs, ferr, sizeof(ferr));
	if (*out)
		return 0;
	if (sscanf(ferr, "line %d, column %d: %n", &fl, &fc, &n) == 2 && n > 0)
		util_err(err, errlen, "%s:%d:%d: %s formula: %s", v->file,
			 v->line + fl - 1, fl == 1 ? v->col + fc - 1 : fc,
			 k->name, ferr + n);
	else
		util_err(err, errlen, "%s:%d: %s formula: %s", v->file, v->line,
			 k->name, ferr);
	return -1;
}

static const struct settings_choice aggconf_referrals[] = {
	{ "ignore", LDAPSRC_REF_IGNORE },
	{ "chase", LDAPSRC_REF_CHASE },
	{ "fail", LDAPSRC_REF_FAIL },
	{ NULL, 0 }
};

static const struct settings_choice aggconf_live[] = {
	{ "syncrepl", WATCH_SYNCREPL },
	{ "poll", WATCH_POLL },
	{ "usn", WATCH_USN },
	{ NULL, 0 }
};

#define SRC(member) SETTINGS_FIELD(struct aggconf_source, member)
static const struct settings_key aggconf_source_keys[] = {
	{ .name = "uri", .type = SETTINGS_TEXT, .flags = SETTINGS_REQUIRED,
	  SRC(lc.uri), .check = aggconf_uri, .meta = "URI",
	  .doc = "The server: ldap://, ldaps:// or ldapi://." },
	{ .name = "starttls", .type = SETTINGS_BOOL, .def = "no",
	  SRC(lc.starttls), .doc = "Require StartTLS on ldap://." },
	{ .name = "ca_file", .type = SETTINGS_TEXT, SRC(lc.ca_file),
	  .meta = "PATH", .doc = "CA certificates (PEM) for TLS." },
	{ .name = "bind_dn", .type = SETTINGS_TEXT, SRC(lc.bind_dn),
	  .meta = "DN", .doc = "Simple bind as this DN." },
	{ .name = "bind_password_file", .type = SETTINGS_TEXT,
	  .flags = SETTINGS_SECRET, SRC(lc.password_file), .meta = "PATH",
	  .doc = "The bind password, on one line." },
	{ .name = "bind_password", .type = SETTINGS_CUSTOM,
	  .flags = SETTINGS_REFUSED,
	  .doc = "a password does not belong in the configuration; use "
		 "bind_password_file (mode 0600)" },
	{ .name = "sasl_mech", .type = SETTINGS_TEXT, SRC(lc.sasl_mech),
	  .check = aggconf_sasl_mech, .meta = "EXTERNAL|GSSAPI",
	  .doc = "Bind with SASL EXTERNAL, or with Kerberos (GSSAPI)." },
	{ .name = "sasl_keytab", .type = SETTINGS_TEXT,
	  .flags = SETTINGS_SECRET, SRC(lc.keytab), .meta = "PATH",
	  .doc = "With GSSAPI: the service account's keytab; its tickets "
		 "are kept in memory." },
	{ .name = "base", .type = SETTINGS_CUSTOM,
	  .flags = SETTINGS_REQUIRED | SETTINGS_REPEAT,
	  .check = aggconf_base, .meta = "DN", .doc = "A search base." },
	{ .name = "scope", .type = SETTINGS_CUSTOM, .def = "sub",
	  .check = aggconf_scope, .meta = "sub|one|base",
	  .doc = "Search scope." },
	{ .name = "filter", .type = SETTINGS_TEXT, .def = "(objectClass=*)",
	  SRC(lc.filter), .meta = "FILTER",
	  .doc = "Server-side LDAP filter." },
	{ .name = "page_size", .type = SETTINGS_INT, .def = "500", .min = 0,
	  .max = 100000, SRC(page_size),
	  .doc = "Page size of the paged results control; 0: no paging." },
	{ .name = "network_timeout", .type = SETTINGS_DURATION, .def = "10s",
	  .min = 0, .max = 3600, SRC(network_timeout),
	  .doc = "Connection timeout." },
	{ .name = "timeout", .type = SETTINGS_DURATION, .def = "10m",
	  .min = 0, .max = 86400, SRC(timeout),
	  .doc = "Time limit of the source's whole search." },
	{ .name = "referrals", .type = SETTINGS_CHOICE, .def = "ignore",
	  .choices = aggconf_referrals, SRC(lc.referrals),
	  .doc = "What to do with search references." },
	{ .name = "address_attributes", .type = SETTINGS_CUSTOM,
	  .def = "mail", .check = aggconf_addr_attrs, .meta = "LIST",
	  .doc = "The attributes that hold an entry's addresses." },
	{ .name = "login_attribute", .type = SETTINGS_CUSTOM,
	  SRC(login_idx), .check = aggconf_attr, .meta = "ATTRIBUTE",
	  .doc = "The entry's own login, an owner of its addresses." },
	{ .name = "owner_attribute", .type = SETTINGS_CUSTOM,
	  SRC(owner_idx), .check = aggconf_attr, .meta = "ATTRIBUTE",
	  .doc = "More owners: logins, or DNs of entries with a login." },
	{ .name = "extra", .type = SETTINGS_CUSTOM, .flags = SETTINGS_REPEAT,
	  .check = aggconf_extra, .meta = "NAME ATTRIBUTE",
	  .doc = "Also store the attribute's first value as field NAME." },
	{ .name = "select", .type = SETTINGS_CUSTOM, SRC(select),
	  .check = aggconf_formula, .meta = "FORMULA",
	  .doc = "The selection formula; default: every entry." },
	{ .name = "person", .type = SETTINGS_CUSTOM,
	  SRC(kind[CATALOG_PERSON]), .check = aggconf_formula,
	  .meta = "FORMULA", .doc = "Entries of kind person." },
	{ .name = "mailin", .type = SETTINGS_CUSTOM,
	  SRC(kind[CATALOG_MAILIN]), .check = aggconf_formula,
	  .meta = "FORMULA", .doc = "Entries of kind mailin (shared "
				    "mailboxes)." },
	{ .name = "group", .type = SETTINGS_CUSTOM,
	  SRC(kind[CATALOG_GROUP]), .check = aggconf_formula,
	  .meta = "FORMULA", .doc = "Entries of kind group." },
	{ .name = "internal_only", .type = SETTINGS_CUSTOM,
	  SRC(internal_only), .check = aggconf_formula, .meta = "FORMULA",
	  .doc = "Entries that take mail from internal senders only: their "
		 "records get the extra field internal_only=yes, which "
		 "catalogd's policy service enforces." },
	{ .name = "live", .type = SETTINGS_CHOICE, .def = "syncrepl",
	  .choices = aggconf_live, SRC(live),
	  .doc = "Watch mode: RFC 4533 content sync, Active Directory's "
		 "uSNChanged, or a full read every poll_interval." },
	{ .name = "poll_interval", .type = SETTINGS_DURATION, .def = "15m",
	  .min = 1, .max = 86400, SRC(poll_interval),
	  .doc = "Watch mode, live = poll: the time between full reads." },
	{ .name = "usn_interval", .type = SETTINGS_DURATION, .def = "5s",
	  .min = 1, .max = 3600, SRC(usn_interval),
	  .doc = "Watch mode, live = usn: the time between two looks at the "
		 "DC's highestCommittedUSN." },
	{ .name = "usn_sweep_interval", .type = SETTINGS_DURATION,
	  .def = "10m", .min = 1, .max = 86400, SRC(usn_sweep_interval),
	  .doc = "Watch mode, live = usn: the least time between two sweeps "
		 "for deletions the account cannot see." },
	{ .name = NULL }
};
#undef SRC

const struct settings_section aggconf_settings[] = {
	{ .type = NULL, .keys = aggconf_top_keys },
	{ .type = "source", .min = 1, .max = AGGCONF_SOURCES_MAX,
	  .keys = aggconf_source_keys },
	{ .keys = NULL }
};

/* What no single setting can say: rules between settings. */
static int aggconf_source_rules(const struct aggconf *c,
				const struct config_section *sec,
				struct aggconf_source *s, char *err,
				size_t errlen)
{
	char where[PATH_MAX + 32];

	if (s->lc.keytab && (!s->lc.sasl_mech ||
			     strcasecmp(s->lc.sasl_mech, "GSSAPI"))) {
		util_err(err, errlen, "%ssasl_keytab needs sasl_mech = GSSAPI",
			 config_where(sec, "sasl_keytab", where, sizeof(where)));
		return -1;
	}
	if (s->lc.bind_dn && !s->lc.password_file && !s->lc.sasl_mech) {
		util_err(err, errlen, "%sbind_dn needs bind_password_file",
			 config_where(sec, "bind_dn", where, sizeof(where)));
		return -1;
	}
	if (!s->kind[CATALOG_PERSON] && !s->kind[CATALOG_GROUP] &&
	    !s->kind[CATALOG_MAILIN]) {
		util_err(err, errlen,
			 "%s:%d: [source %s]: no person, group or mailin formula:"
			 " every entry would be left out", c->path,
			 config_section_line(sec), s->lc.name);
		return -1;
	}
	s->lc.network_timeout = (int)s->network_timeout;
	s->lc.timeout = (int)s->timeout;
	s->lc.page_size = (int)s->page_size;
	return 0;
}

static int aggconf_source(struct aggconf *c, const struct config_section *sec,
			  struct aggconf_source *s, char *err, size_t errlen)
{
	s->num = (int)(s - c->src);
	s->lc.name = config_section_name(sec);
	s->attrs = formula_attrs_new();
	s->login_idx = s->owner_idx = -1;
	if (settings_load(&aggconf_settings[1], sec, s, err, errlen) < 0 ||
	    aggconf_source_rules(c, sec, s, err, errlen) < 0)
		return -1;
	if (s->owner_idx >= 0)
		c->index_logins = 1;
	return 0;
}

struct aggconf *aggconf_load(const char *path, char *err, size_t errlen)
{
	struct aggconf *c = xcalloc(1, sizeof(*c));
	const struct config_section *sec;

	c->path = path;
	c->domains = addr_domains_new();
	c->cfg = config_load(path, err, errlen);
	if (!c->cfg ||
	    settings_load(&aggconf_settings[0], config_top(c->cfg), c, err,
			  errlen) < 0 ||
	    settings_check_layout(c->cfg, aggconf_settings, err, errlen) < 0)
		goto fail;
	c->addr_flags = ADDR_CATCHALL |
			(c->case_sensitive ? ADDR_CASE_SENSITIVE : 0);
	for (sec = NULL; (sec = config_next(c->cfg, sec, "source"));) {
		/* Counted (and freed) even when it fails half-way. */
		if (aggconf_source(c, sec, &c->src[c->nsrc++], err, errlen) < 0)
			goto fail;
	}
	if (settings_check_unknown(c->cfg, aggconf_settings, err, errlen) < 0)
		goto fail;
	return c;
fail:
	aggconf_free(c);
	return NULL;
}

void aggconf_free(struct aggconf *c)
{
	size_t si;
	int k;

	if (!c)
		return;
	for (si = 0; si < c->nsrc; si++) {
		formula_free(c->src[si].select);
		formula_free(c->src[si].internal_only);
		for (k = 0; k < CATALOG_KINDS; k++)
			formula_free(c->src[si].kind[k]);
		formula_attrs_free(c->src[si].attrs);
	}
	addr_domains_free(c->domains);
	config_free(c->cfg);
	free(c);
}
