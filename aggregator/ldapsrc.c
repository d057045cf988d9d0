/*
 * ldapsrc.c - libldap wrapper for the aggregator; see ldapsrc.h.
 *
 * Entries are read one message at a time (ldap_result with LDAP_MSG_ONE)
 * and their attributes parsed in place with ldap_get_attribute_ber, so a
 * million entries never sit in memory together.  The simple paged results
 * control (RFC 2696) is marked critical: a server that cannot page fails
 * the search instead of silently truncating it.
 */
#include <errno.h>
#include <limits.h>
#include <lber.h>
#include <ldap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ldapsrc.h"
#include "log.h"
#include "util.h"

#define LDAPSRC_ATTRS_MAX 256	/* as formula_attrs */

void ldapsrc_version_print(FILE *out)
{
	LDAPAPIInfo info;

	memset(&info, 0, sizeof(info));
	info.ldapai_info_version = LDAP_API_INFO_VERSION;
	if (ldap_get_option(NULL, LDAP_OPT_API_INFO, &info) !=
	    LDAP_OPT_SUCCESS)
		return;
	fprintf(out, "libldap: %s %d.%d.%d\n",
		info.ldapai_vendor_name ? info.ldapai_vendor_name : "?",
		info.ldapai_vendor_version / 10000,
		info.ldapai_vendor_version / 100 % 100,
		info.ldapai_vendor_version % 100);
	ldap_memfree(info.ldapai_vendor_name);
	ldap_memvfree((void **)info.ldapai_extensions);
}

int ldapsrc_scope(const char *name, int *scope)
{
	if (!strcasecmp(name, "sub") || !strcasecmp(name, "subtree"))
		*scope = LDAP_SCOPE_SUBTREE;
	else if (!strcasecmp(name, "one") || !strcasecmp(name, "onelevel"))
		*scope = LDAP_SCOPE_ONELEVEL;
	else if (!strcasecmp(name, "base"))
		*scope = LDAP_SCOPE_BASE;
	else
		return -1;
	return 0;
}

/* Append one part of a DN's key: a type byte, a 16-bit length, the
 * bytes in ASCII lower case, runs of spaces (values only) as one. */
static int ldapsrc_key_part(unsigned char *key, size_t keysize, size_t *pos,
			    int type, const struct berval *bv, int value)
{
	size_t i, n = 0, at = *pos;
	const unsigned char *p = (const unsigned char *)bv->bv_val;

	if (at + 3 + bv->bv_len > keysize)
		return -1;
	key[at] = (unsigned char)type;
	for (i = 0; i < bv->bv_len; i++) {
		unsigned char c = p[i];

		if (value && c == ' ' && n > 0 && key[at + 3 + n - 1] == ' ')
			continue;
		key[at + 3 + n++] = c >= 'A' && c <= 'Z' ? c + 32 : c;
	}
	/* libldap keeps no unescaped leading or trailing space; an escaped
	 * one is kept, as a single space. */
	key[at + 1] = (unsigned char)(n >> 8);
	key[at + 2] = (unsigned char)n;
	*pos = at + 3 + n;
	return 0;
}

/* The first RDN's value into rdn, when it fits ("" otherwise). */
static void ldapsrc_rdn_copy(const char *v, size_t len, char *rdn,
			     size_t rdnsize)
{
	if (rdnsize && len > 0 && len < rdnsize && !memchr(v, '\0', len)) {
		memcpy(rdn, v, len);
		rdn[len] = '\0';
	}
}

/*
 * The key of a DN that needs no parsing, as almost every DN of a
 * directory is: RDNs "type=value" separated by ',' alone, types ALPHA
 * (ALPHA / DIGIT / "-")*, values of printable ASCII without any of
 * \ " + ; < > = # , and without a space at either end.  libldap reads
 * such a DN exactly as written, so the key is the same; this runs for
 * every entry of a run that resolves owner DNs.  Returns the key's
 * length, 0 when it would not fit, or LDAPSRC_NOT_PLAIN.
 */
#define LDAPSRC_NOT_PLAIN ((size_t)-1)
static size_t ldapsrc_dn_key_plain(const char *dn, size_t len,
				   unsigned char *key, size_t keysize,
				   char *rdn, size_t rdnsize)
{
	size_t i = 0, pos = 0;

	while (i < len) {
		struct berval type, value;
		size_t t0 = i, v0;

		if (!((dn[i] | 0x20) >= 'a' && (dn[i] | 0x20) <= 'z'))
			return LDAPSRC_NOT_PLAIN;
		while (i < len && (((dn[i] | 0x20) >= 'a' &&
				    (dn[i] | 0x20) <= 'z') ||
				   (dn[i] >= '0' && dn[i] <= '9') ||
				   dn[i] == '-'))
			i++;
		if (i == len || dn[i] != '=')
			return LDAPSRC_NOT_PLAIN;
		v0 = ++i;
		for (; i < len && dn[i] != ','; i++) {
			unsigned char c = (unsigned char)dn[i];

			if (c < ' ' || c > '~' || strchr("\\\"+;<>=#", c))
				return LDAPSRC_NOT_PLAIN;
		}
		if (i == v0 || dn[v0] == ' ' || dn[i - 1] == ' ' ||
		    (i < len && i + 1 == len))
			return LDAPSRC_NOT_PLAIN;	/* empty, spaced, "x," */
		type.bv_val = (char *)dn + t0;
		type.bv_len = v0 - 1 - t0;
		value.bv_val = (char *)dn + v0;
		value.bv_len = i - v0;
		if (t0 == 0)
			ldapsrc_rdn_copy(value.bv_val, value.bv_len, rdn,
					 rdnsize);
		if (ldapsrc_key_part(key, keysize, &pos, ',', &type, 0) < 0 ||
		    ldapsrc_key_part(key, keysize, &pos, '=', &value, 1) < 0)
			return 0;
		if (i < len)
			i++;			/* the ',' */
	}
	return pos;
}

size_t ldapsrc_dn_key(const char *dn, size_t len, unsigned char *key,
		      size_t keysize, char *rdn, size_t rdnsize)
{
	size_t n;

	if (rdnsize)
		rdn[0] = '\0';
	if (len == 0 || len >= LDAPSRC_DNKEY_MAX || !memchr(dn, '=', len) ||
	    memchr(dn, '\0', len))
		return 0;
	n = ldapsrc_dn_key_plain(dn, len, key, keysize, rdn, rdnsize);
	if (n != LDAPSRC_NOT_PLAIN)
		return n;
	if (rdnsize)
		rdn[0] = '\0';
	return ldapsrc_dn_key_parsed(dn, len, key, keysize, rdn, rdnsize);
}

size_t ldapsrc_dn_key_parsed(const char *dn, size_t len, unsigned char *key,
			     size_t keysize, char *rdn, size_t rdnsize)
{
	char text[LDAPSRC_DNKEY_MAX];
	LDAPDN parsed = NULL;
	size_t pos = 0, r, a;
	int ok = 1;

	if (rdnsize)
		rdn[0] = '\0';
	if (len == 0 || len >= sizeof(text) || !memchr(dn, '=', len) ||
	    memchr(dn, '\0', len))
		return 0;
	memcpy(text, dn, len);
	text[len] = '\0';
	if (ldap_str2dn(text, &parsed, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS ||
	    !parsed || !parsed[0]) {
		ldap_dnfree(parsed);
		return 0;
	}
	for (r = 0; ok && parsed[r]; r++)
		for (a = 0; ok && parsed[r][a]; a++) {
			const LDAPAVA *ava = parsed[r][a];

			/* ',' starts an RDN, '+' continues a multi-valued one */
			if (ldapsrc_key_part(key, keysize, &pos, a ? '+' : ',',
					     &ava->la_attr, 0) < 0 ||
			    ldapsrc_key_part(key, keysize, &pos,
					     ava->la_flags & LDAP_AVA_BINARY ?
					     '#' : '=', &ava->la_value, 1) < 0)
				ok = 0;
		}
	if (ok && rdnsize) {
		const LDAPAVA *first = parsed[0][0];

		if (!(first->la_flags & LDAP_AVA_BINARY))
			ldapsrc_rdn_copy(first->la_value.bv_val,
					 first->la_value.bv_len, rdn, rdnsize);
	}
	ldap_dnfree(parsed);
	return ok ? pos : 0;
}

size_t ldapsrc_dn_order(const char *dn, unsigned char *order, size_t size)
{
	unsigned char key[LDAPSRC_DNKEY_MAX];
	size_t len = strlen(dn), n, i = 0, o = 1;

	if (size < 2)
		return 0;
	n = ldapsrc_dn_key(dn, len, key, sizeof(key), NULL, 0);
	if (n) {
		/* The key's parts without their lengths, each ended by a 0
		 * byte: RDN by RDN from the left, types then values, case
		 * ignored - "uid=jsmith" before "uid=zed". */
		order[0] = 0;
		while (i + 3 <= n && o < size) {
			size_t l = ((size_t)key[i + 1] << 8) | key[i + 2];

			if (i + 3 + l > n || o + 2 + l > size)
				break;
			order[o++] = key[i];
			memcpy(order + o, key + i + 3, l);
			o += l;
			order[o++] = 0;
			i += 3 + l;
		}
		return o;
	}
	/* No key: after every DN with one, in the order of the text. */
	order[0] = 1;
	if (len > size - 1)
		len = size - 1;
	memcpy(order + 1, dn, len);
	return len + 1;
}

/* SASL interaction for EXTERNAL and GSSAPI: nothing to ask (no
 * authorisation identity), take the defaults. */
static int ldapsrc_sasl_interact(LDAP *ld, unsigned flags, void *defaults,
				 void *in)
{
	(void)ld;
	(void)flags;
	(void)defaults;
	(void)in;
	return LDAP_SUCCESS;
}

/* Describe a libldap failure with the server's diagnostic, if any. */
static void ldapsrc_error(LDAP *ld, int rc, const char *what,
			  const struct ldapsrc_conf *conf, char *err,
			  size_t errlen)
{
	char *diag = NULL;

	if (ld)
		ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
	util_err(err, errlen, "source %s (%s): %s: %s%s%s", conf->name,
		 conf->uri, what, ldap_err2string(rc),
		 diag && *diag ? ": " : "", diag && *diag ? diag : "");
	if (diag)
		ldap_memfree(diag);
}

/* 1 when the connection is (or will be) protected by TLS. */
static int ldapsrc_tls(const struct ldapsrc_conf *conf)
{
	return conf->starttls || !strncasecmp(conf->uri, "ldaps:", 6);
}

/*
 * Before a GSSAPI bind.  With a keytab, Kerberos takes the service
 * account's key from it (MIT's client keytab) and keeps the tickets in
 * a credential cache in this process's memory: nothing but the keytab is
 * on disk, and no ticket is left behind.  Without one, the caller's
 * credential cache (KRB5CCNAME, e.g. kept fresh by k5start) is used.
 * The service principal is ldap/HOST with HOST as the uri names it, not
 * what reverse DNS says.  Inside TLS no SASL layer is negotiated (Active
 * Directory refuses one there); without TLS, Kerberos must encrypt.
 */
static int ldapsrc_gssapi_prepare(LDAP *ld, const struct ldapsrc_conf *conf,
				  char *err, size_t errlen)
{
	char buf[PATH_MAX + 8], perr[512], props[64];

	if (conf->keytab) {
		if (util_check_secret_mode(conf->keytab, perr,
					   sizeof(perr)) < 0) {
			util_err(err, errlen, "source %s: sasl_keytab %s",
				 conf->name, perr);
			return -1;
		}
		int n = snprintf(buf, sizeof(buf), "FILE:%s", conf->keytab);

		if (n < 0 || (size_t)n >= sizeof(buf) ||
		    setenv("KRB5_CLIENT_KTNAME", buf, 1) < 0 ||
		    setenv("KRB5CCNAME", "MEMORY:dircat-aggregator", 1) < 0) {
			util_err(err, errlen, "source %s: sasl_keytab: path "
				 "too long or no memory", conf->name);
			return -1;
		}
	}
	ldap_set_option(ld, LDAP_OPT_X_SASL_NOCANON, LDAP_OPT_ON);
	if (ldapsrc_tls(conf))
		snprintf(props, sizeof(props), "maxssf=0");
	else
		snprintf(props, sizeof(props), "minssf=%d",
			 LDAPSRC_GSSAPI_MINSSF);
	if (ldap_set_option(ld, LDAP_OPT_X_SASL_SECPROPS, props) !=
	    LDAP_OPT_SUCCESS) {
		util_err(err, errlen, "source %s: SASL security properties "
			 "'%s' refused by libldap", conf->name, props);
		return -1;
	}
	return 0;
}

static LDAP *ldapsrc_connect(const struct ldapsrc_conf *conf, char *err,
			     size_t errlen)
{
	LDAP *ld = NULL;
	int rc, v3 = LDAP_VERSION3, zero = 0;

	struct timeval ntv = { conf->network_timeout, 0 };
	struct timeval otv = { conf->timeout, 0 };

	rc = ldap_initialize(&ld, conf->uri);
	if (rc != LDAP_SUCCESS) {
		ldapsrc_error(NULL, rc, "bad uri", conf, err, errlen);
		return NULL;
	}
	ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3);
	ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &ntv);
	ldap_set_option(ld, LDAP_OPT_TIMEOUT, &otv);
	if (conf->referrals == LDAPSRC_REF_CHASE)
		ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_ON);
	else
		ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
	if (conf->ca_file || ldapsrc_tls(conf)) {
		int demand = LDAP_OPT_X_TLS_DEMAND;

		ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand);
		if (conf->ca_file)
			ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE,
					conf->ca_file);
		ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero);
	}
	if (conf->starttls) {
		rc = ldap_start_tls_s(ld, NULL, NULL);
		if (rc != LDAP_SUCCESS) {
			ldapsrc_error(ld, rc, "StartTLS", conf, err, errlen);
			ldap_unbind_ext_s(ld, NULL, NULL);
			return NULL;
		}
	}
	if (conf->sasl_mech && !strcasecmp(conf->sasl_mech, "GSSAPI") &&
	    ldapsrc_gssapi_prepare(ld, conf, err, errlen) < 0) {
		ldap_unbind_ext_s(ld, NULL, NULL);
		return NULL;
	}
	if (conf->sasl_mech) {
		rc = ldap_sasl_interactive_bind_s(ld, NULL, conf->sasl_mech,
						  NULL, NULL, LDAP_SASL_QUIET,
						  ldapsrc_sasl_interact, NULL);
		if (rc != LDAP_SUCCESS) {
			ldapsrc_error(ld, rc, "SASL bind", conf, err, errlen);
			ldap_unbind_ext_s(ld, NULL, NULL);
			return NULL;
		}
	} else if (conf->bind_dn) {
		struct berval cred = { 0, NULL };
		char *pw = NULL;

		if (conf->password_file) {
			char perr[512];

			pw = util_read_secret(conf->password_file, perr,
					      sizeof(perr));
			if (!pw) {
				util_err(err, errlen, "source %s: password file %s",
					 conf->name, perr);
				ldap_unbind_ext_s(ld, NULL, NULL);
				return NULL;
			}
			cred.bv_val = pw;
			cred.bv_len = strlen(pw);
		}
		rc = ldap_sasl_bind_s(ld, conf->bind_dn, LDAP_SASL_SIMPLE,
				      &cred, NULL, NULL, NULL);
		util_free_secret(pw);
		if (rc != LDAP_SUCCESS) {
			ldapsrc_error(ld, rc, "bind", conf, err, errlen);
			ldap_unbind_ext_s(ld, NULL, NULL);
			return NULL;
		}
	}
	return ld;
}

/* Per-search scratch: values of each interned attribute of one entry. */
struct ldapsrc_scratch {
	char *attrlist[LDAPSRC_ATTRS_MAX + 1];
	size_t nattrs;
	struct formula_vals vals[LDAPSRC_ATTRS_MAX];
	struct berval *bv[LDAPSRC_ATTRS_MAX];	/* libldap's arrays */
	struct formula_val *fv[LDAPSRC_ATTRS_MAX];
	size_t fvcap[LDAPSRC_ATTRS_MAX];
};

/* Turn one entry message into the callback's view and call it. */
static int ldapsrc_entry(LDAP *ld, LDAPMessage *msg,
			 const struct formula_attrs *attrs,
			 struct ldapsrc_scratch *s,
			 int (*fn)(void *, const struct ldapsrc_entry *, char *,
				   size_t),
			 void *arg, char *err, size_t errlen)
{
	BerElement *ber = NULL;
	struct berval dnbv, attr, *vals;
	struct ldapsrc_entry e;
	char dnbuf[1024], *dn = dnbuf;
	size_t i;
	int rc;

	for (i = 0; i < s->nattrs; i++) {
		s->vals[i].n = 0;
		s->bv[i] = NULL;
	}
	rc = ldap_get_dn_ber(ld, msg, &ber, &dnbv);
	if (rc != LDAP_SUCCESS) {
		util_err(err, errlen, "unparsable entry: %s",
			 ldap_err2string(rc));
		if (ber)
			ber_free(ber, 0);
		return -1;
	}
	/* The whole DN: owner DNs are matched against it. */
	if (dnbv.bv_len >= sizeof(dnbuf))
		dn = xstrndup(dnbv.bv_val, dnbv.bv_len);
	else
		snprintf(dn, sizeof(dnbuf), "%.*s", (int)dnbv.bv_len,
			 dnbv.bv_val);
	for (rc = ldap_get_attribute_ber(ld, msg, ber, &attr, &vals);
	     rc == LDAP_SUCCESS && attr.bv_val != NULL;
	     rc = ldap_get_attribute_ber(ld, msg, ber, &attr, &vals)) {
		int idx = formula_attrs_find(attrs, attr.bv_val, attr.bv_len);
		size_t n = 0;

		if (idx < 0 || (size_t)idx >= s->nattrs || !vals ||
		    s->bv[idx]) {
			/* Not asked for (e.g. ";binary" options): skip. */
			if (vals)
				ber_memfree(vals);
			continue;
		}
		while (vals[n].bv_val && n < LDAPSRC_VALUES_MAX)
			n++;
		if (n > s->fvcap[idx]) {
			s->fvcap[idx] = n < 16 ? 16 : n;
			s->fv[idx] = xrealloc(s->fv[idx],
					      s->fvcap[idx] * sizeof(**s->fv));
		}
		for (i = 0; i < n; i++) {
			s->fv[idx][i].ptr = vals[i].bv_val;
			s->fv[idx][i].len = vals[i].bv_len;
		}
		s->vals[idx].v = s->fv[idx];
		s->vals[idx].n = n;
		s->bv[idx] = vals;
	}
	if (rc != LDAP_SUCCESS) {
		util_err(err, errlen, "unparsable entry %s: %s", dn,
			 ldap_err2string(rc));
		rc = -1;
	} else {
		e.dn = dn;
		e.vals = s->vals;
		rc = fn(arg, &e, err, errlen);
	}
	for (i = 0; i < s->nattrs; i++)
		if (s->bv[i])
			ber_memfree(s->bv[i]);
	ber_free(ber, 0);
	if (dn != dnbuf)
		free(dn);
	return rc;
}

/* The search of one page started, with the paged results control and
 * the cookie of the page before when paging.  0 with *msgid, or -1 with
 * err. */
static int ldapsrc_page_start(LDAP *ld, const struct ldapsrc_conf *conf,
			      const char *base, char **attrlist,
			      struct berval *cookie, time_t deadline,
			      int *msgid, char *err, size_t errlen)
{
	LDAPControl *pctrl = NULL, *sctrls[2] = { NULL, NULL };
	struct timeval tv;
	time_t now;
	int rc;

	if (conf->page_size > 0) {
		rc = ldap_create_page_control(ld, conf->page_size,
					      cookie->bv_val ? cookie : NULL,
					      1, &pctrl);
		if (rc != LDAP_SUCCESS) {
			ldapsrc_error(ld, rc, "paged results control", conf,
				      err, errlen);
			return -1;
		}
		sctrls[0] = pctrl;
	}
	/* The server gets what is left of the time limit. */
	now = time(NULL);
	tv.tv_sec = deadline > now ? deadline - now : 1;
	tv.tv_usec = 0;
	rc = ldap_search_ext(ld, base, conf->scope, conf->filter, attrlist, 0,
			     sctrls, NULL, conf->timeout > 0 ? &tv : NULL,
			     LDAP_NO_LIMIT, msgid);
	if (pctrl)
		ldap_control_free(pctrl);
	if (rc != LDAP_SUCCESS) {
		ldapsrc_error(ld, rc, "search", conf, err, errlen);
		return -1;
	}
	return 0;
}

/* The search's final result: 0 with the server's controls in *rctrls
 * (the caller frees them), or -1 with err. */
static int ldapsrc_search_result(LDAP *ld, LDAPMessage *msg,
				 const struct ldapsrc_conf *conf,
				 const char *base, LDAPControl ***rctrls,
				 char *err, size_t errlen)
{
	char *matched = NULL, *text = NULL;
	int code = 0, rc;

	rc = ldap_parse_result(ld, msg, &code, &matched, &text, NULL, rctrls,
			       0);
	if (rc == LDAP_SUCCESS && code != LDAP_SUCCESS) {
		util_err(err, errlen, "source %s (%s): search of %s: %s%s%s",
			 conf->name, conf->uri, base, ldap_err2string(code),
			 text && *text ? ": " : "", text && *text ? text : "");
		rc = -1;
	} else if (rc != LDAP_SUCCESS) {
		ldapsrc_error(ld, rc, "search result", conf, err, errlen);
		rc = -1;
	}
	if (matched)
		ldap_memfree(matched);
	if (text)
		ldap_memfree(text);
	if (rc != LDAP_SUCCESS) {
		ldap_controls_free(*rctrls);
		*rctrls = NULL;
		return -1;
	}
	return 0;
}

/*
 * Every message of one page up to the search's result, each entry handed
 * to fn, within the deadline.  0 with the result's controls in *rctrls
 * (the caller frees them), or -1 with err (the search abandoned where
 * the server may still be sending).
 */
static int ldapsrc_page_read(LDAP *ld, int msgid,
			     const struct ldapsrc_conf *conf, const char *base,
			     const struct formula_attrs *attrs,
			     struct ldapsrc_scratch *s,
			     int (*fn)(void *, const struct ldapsrc_entry *,
				       char *, size_t),
			     void *arg, struct ldapsrc_stats *stats,
			     time_t deadline, LDAPControl ***rctrls,
			     char *err, size_t errlen)
{
	LDAPMessage *msg = NULL;
	struct timeval tv;
	time_t now;
	int rc, done = 0;

	*rctrls = NULL;
	while (!done) {
		now = time(NULL);
		if (conf->timeout > 0 && now >= deadline) {
			util_err(err, errlen, "source %s (%s): search took "
				 "longer than timeout = %ds", conf->name,
				 conf->uri, conf->timeout);
			ldap_abandon_ext(ld, msgid, NULL, NULL);
			return -1;
		}
		tv.tv_sec = conf->timeout > 0 ? deadline - now : 3600;
		tv.tv_usec = 0;
		msg = NULL;
		rc = ldap_result(ld, msgid, LDAP_MSG_ONE, &tv, &msg);
		if (rc == 0) {
			util_err(err, errlen, "source %s (%s): no answer "
				 "within timeout = %ds", conf->name, conf->uri,
				 conf->timeout);
			ldap_abandon_ext(ld, msgid, NULL, NULL);
			return -1;
		}
		if (rc < 0) {
			int lerr = LDAP_SERVER_DOWN;

			ldap_get_option(ld, LDAP_OPT_RESULT_CODE, &lerr);
			ldapsrc_error(ld, lerr, "search", conf, err, errlen);
			return -1;
		}
		switch (rc) {
		case LDAP_RES_SEARCH_ENTRY:
			stats->entries++;
			if (ldapsrc_entry(ld, msg, attrs, s, fn, arg, err,
					  errlen) < 0)
				goto abandon;
			break;
		case LDAP_RES_SEARCH_REFERENCE:
			stats->references++;
			if (conf->referrals == LDAPSRC_REF_FAIL) {
				util_err(err, errlen, "source %s (%s): the "
					 "server returned a search reference "
					 "(referrals = fail): the result would "
					 "be partial", conf->name, conf->uri);
				goto abandon;
			}
			break;
		case LDAP_RES_SEARCH_RESULT:
			done = 1;
			if (ldapsrc_search_result(ld, msg, conf, base, rctrls,
						  err, errlen) < 0) {
				ldap_msgfree(msg);
				return -1;
			}
			break;
		default:
			break;
		}
		ldap_msgfree(msg);
	}
	return 0;
abandon:
	ldap_msgfree(msg);
	ldap_abandon_ext(ld, msgid, NULL, NULL);
	return -1;
}

/* The next page's cookie, from the paged results control of the result
 * (empty after the last page) into *cookie.  0, or -1 with err. */
static int ldapsrc_page_cookie(LDAP *ld, const struct ldapsrc_conf *conf,
			       LDAPControl **rctrls, struct berval *cookie,
			       char *err, size_t errlen)
{
	LDAPControl *c = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, rctrls,
					   NULL);
	ber_int_t estimate;

	if (cookie->bv_val) {
		ber_memfree(cookie->bv_val);
		cookie->bv_val = NULL;
		cookie->bv_len = 0;
	}
	if (!c) {
		util_err(err, errlen, "source %s (%s): the server did not "
			 "answer the paged results control", conf->name,
			 conf->uri);
		return -1;
	}
	if (ldap_parse_pageresponse_control(ld, c, &estimate, cookie) !=
	    LDAP_SUCCESS) {
		util_err(err, errlen, "source %s (%s): bad paged results "
			 "response", conf->name, conf->uri);
		return -1;
	}
	return 0;
}

/* One base, all its pages. */
static int ldapsrc_search_base(LDAP *ld, const struct ldapsrc_conf *conf,
			       const char *base, char **attrlist,
			       const struct formula_attrs *attrs,
			       struct ldapsrc_scratch *s,
			       int (*fn)(void *, const struct ldapsrc_entry *,
					 char *, size_t),
			       void *arg, struct ldapsrc_stats *stats,
			       time_t deadline, char *err, size_t errlen)
{
	struct berval cookie = { 0, NULL };
	int more = 1, ret = -1;

	while (more) {
		LDAPControl **rctrls = NULL;
		int msgid, rc = 0;

		if (ldapsrc_page_start(ld, conf, base, attrlist, &cookie,
				       deadline, &msgid, err, errlen) < 0)
			goto out;
		stats->pages++;
		if (ldapsrc_page_read(ld, msgid, conf, base, attrs, s, fn, arg,
				      stats, deadline, &rctrls, err,
				      errlen) < 0)
			goto out;
		/* Next page: the server's cookie, empty at the end. */
		more = 0;
		if (conf->page_size > 0) {
			rc = ldapsrc_page_cookie(ld, conf, rctrls, &cookie, err,
						 errlen);
			more = rc == 0 && cookie.bv_val && cookie.bv_len > 0;
		}
		ldap_controls_free(rctrls);
		if (rc < 0)
			goto out;
	}
	ret = 0;
out:
	if (cookie.bv_val)
		ber_memfree(cookie.bv_val);
	return ret;
}

struct ldap *ldapsrc_open(const struct ldapsrc_conf *conf, char *err,
			  size_t errlen)
{
	return ldapsrc_connect(conf, err, errlen);
}

void ldapsrc_close(struct ldap *ld)
{
	if (ld)
		ldap_unbind_ext_s(ld, NULL, NULL);
}

void ldapsrc_describe(struct ldap *ld, int rc, const char *what,
		      const struct ldapsrc_conf *conf, char *err,
		      size_t errlen)
{
	ldapsrc_error(ld, rc, what, conf, err, errlen);
}

struct ldapsrc_scratch *ldapsrc_scratch_new(const struct formula_attrs *attrs)
{
	struct ldapsrc_scratch *s;
	size_t i, n = formula_attrs_count(attrs);

	if (n > LDAPSRC_ATTRS_MAX)
		return NULL;
	s = xcalloc(1, sizeof(*s));
	s->nattrs = n;
	for (i = 0; i < n; i++)
		s->attrlist[i] = (char *)formula_attrs_name(attrs, i);
	if (n == 0)
		s->attrlist[n++] = (char *)LDAP_NO_ATTRS;
	s->attrlist[n] = NULL;
	return s;
}

void ldapsrc_scratch_free(struct ldapsrc_scratch *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < LDAPSRC_ATTRS_MAX; i++)
		free(s->fv[i]);
	free(s);
}

char **ldapsrc_scratch_attrlist(struct ldapsrc_scratch *s)
{
	return s->attrlist;
}

int ldapsrc_entry_parse(struct ldap *ld, struct ldapmsg *msg,
			const struct formula_attrs *attrs,
			struct ldapsrc_scratch *s,
			int (*fn)(void *arg, const struct ldapsrc_entry *e,
				  char *err, size_t errlen),
			void *arg, char *err, size_t errlen)
{
	return ldapsrc_entry(ld, msg, attrs, s, fn, arg, err, errlen);
}

int ldapsrc_search_on(struct ldap *ld, const struct ldapsrc_conf *conf,
		      const struct formula_attrs *attrs,
		      int (*fn)(void *arg, const struct ldapsrc_entry *e,
				char *err, size_t errlen),
		      void *arg, struct ldapsrc_stats *stats,
		      char *err, size_t errlen)
{
	struct ldapsrc_scratch *s;
	double t0 = util_now();
	time_t deadline;
	size_t i;
	int ret = 0;

	memset(stats, 0, sizeof(*stats));
	s = ldapsrc_scratch_new(attrs);
	if (!s) {
		util_err(err, errlen, "too many attributes");
		return -1;
	}
	deadline = time(NULL) + conf->timeout;
	for (i = 0; i < conf->nbases && ret == 0; i++)
		ret = ldapsrc_search_base(ld, conf, conf->bases[i], s->attrlist,
					  attrs, s, fn, arg, stats, deadline,
					  err, errlen);
	ldapsrc_scratch_free(s);
	stats->seconds = util_now() - t0;
	return ret;
}

int ldapsrc_search(const struct ldapsrc_conf *conf,
		   const struct formula_attrs *attrs,
		   int (*fn)(void *arg, const struct ldapsrc_entry *e,
			     char *err, size_t errlen),
		   void *arg, struct ldapsrc_stats *stats,
		   char *err, size_t errlen)
{
	double t0 = util_now();
	LDAP *ld;
	int ret;

	memset(stats, 0, sizeof(*stats));
	if (formula_attrs_count(attrs) > LDAPSRC_ATTRS_MAX) {
		util_err(err, errlen, "too many attributes");
		return -1;
	}
	ld = ldapsrc_connect(conf, err, errlen);
	if (!ld)
		return -1;
	ret = ldapsrc_search_on(ld, conf, attrs, fn, arg, stats, err, errlen);
	ldap_unbind_ext_s(ld, NULL, NULL);
	stats->seconds = util_now() - t0;
	return ret;
}
