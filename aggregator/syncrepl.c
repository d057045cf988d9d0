/*
 * syncrepl.c - the RFC 4533 live source (refreshAndPersist), for
 * OpenLDAP's syncprov and 389-DS's content synchronisation plugin; see
 * livesrc.h.
 *
 * One search per source (one base: several bases are several [source]
 * sections), with the Sync Request control (critical) carrying the
 * cookie from the catalog.  Messages are read one at a time with
 * ldap_result(LDAP_MSG_ONE) and a zero timeout, so the core's loop never
 * waits here; each is decoded with syncinfo.c and reported to the sink.
 * A search result (the server ending the search) is an error, except
 * e-syncRefreshRequired (4096), which asks for a full refresh.
 */
#include <ldap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "livesrc.h"
#include "log.h"
#include "syncinfo.h"
#include "util.h"

#define SYNCREPL_REFRESH_REQUIRED 4096	/* e-syncRefreshRequired */

struct syncrepl {
	const struct ldapsrc_conf *conf;
	const struct formula_attrs *attrs;
	struct livesrc_sink sink;
	struct ldapsrc_scratch *scratch;
	LDAP *ld;
	int msgid;
	int refreshing, present, staged;
	/* present()'s arguments while the entry is parsed */
	const unsigned char *id;
	size_t idlen;
	struct syncinfo_state_ctl st;
	struct syncinfo_msg info;
};

static int syncrepl_entry_cb(void *arg, const struct ldapsrc_entry *e,
			     char *err, size_t errlen)
{
	struct syncrepl *s = arg;

	return s->sink.present(s->sink.core, s->sink.src, s->id, s->idlen, e,
			       err, errlen);
}

static void syncrepl_stop(void *arg)
{
	struct syncrepl *s = arg;

	if (s->ld)
		ldapsrc_close(s->ld);
	s->ld = NULL;
	s->refreshing = 0;
}

static int syncrepl_start(void *arg, const void *cookie, size_t len,
			  char *err, size_t errlen)
{
	struct syncrepl *s = arg;
	BerElement *ber;
	struct berval cbv, val;
	LDAPControl ctrl, *ctrls[2] = { &ctrl, NULL };
	int rc;

	syncrepl_stop(s);
	s->ld = ldapsrc_open(s->conf, err, errlen);
	if (!s->ld)
		return -1;
	ber = ber_alloc_t(LBER_USE_DER);
	if (!ber)
		log_fatal(75, "out of memory");
	cbv.bv_val = (char *)cookie;
	cbv.bv_len = len;
	/* mode refreshAndPersist, the cookie when there is one, no reload
	 * hint. */
	if (cookie && len)
		rc = ber_printf(ber, "{eOb}", (ber_int_t)LDAP_SYNC_REFRESH_AND_PERSIST,
				&cbv, 0);
	else
		rc = ber_printf(ber, "{eb}", (ber_int_t)LDAP_SYNC_REFRESH_AND_PERSIST,
				0);
	if (rc < 0 || ber_flatten2(ber, &val, 0) < 0) {
		ber_free(ber, 1);
		util_err(err, errlen, "source %s: cannot encode the sync request",
			 s->conf->name);
		syncrepl_stop(s);
		return -1;
	}
	memset(&ctrl, 0, sizeof(ctrl));
	ctrl.ldctl_oid = (char *)LDAP_CONTROL_SYNC;
	ctrl.ldctl_value = val;
	ctrl.ldctl_iscritical = 1;
	rc = ldap_search_ext(s->ld, s->conf->bases[0], s->conf->scope,
			     s->conf->filter,
			     ldapsrc_scratch_attrlist(s->scratch), 0, ctrls,
			     NULL, NULL, LDAP_NO_LIMIT, &s->msgid);
	ber_free(ber, 1);
	if (rc != LDAP_SUCCESS) {
		ldapsrc_describe(s->ld, rc, "sync search", s->conf, err,
				 errlen);
		syncrepl_stop(s);
		return -1;
	}
	s->refreshing = 1;
	s->present = 0;
	s->staged = !(cookie && len);
	return s->sink.refresh_begin(s->sink.core, s->sink.src, s->staged);
}

static int syncrepl_fd(void *arg)
{
	struct syncrepl *s = arg;
	int fd = -1;

	if (!s->ld || ldap_get_option(s->ld, LDAP_OPT_DESC, &fd) !=
	    LDAP_OPT_SUCCESS)
		return -1;
	return fd;
}

static double syncrepl_next_due(void *arg)
{
	(void)arg;
	return 0;
}

/* The refresh ended (refreshDone). */
static int syncrepl_refresh_done(struct syncrepl *s, char *err, size_t errlen)
{
	if (!s->refreshing)
		return 0;
	s->refreshing = 0;
	/* Without a cookie everything came: all the rest is gone. */
	return s->sink.refresh_done(s->sink.core, s->sink.src,
				    s->present || s->staged, err, errlen);
}

static int syncrepl_cookie(struct syncrepl *s, const unsigned char *c,
			   size_t len, char *err, size_t errlen)
{
	return s->sink.cookie(s->sink.core, s->sink.src, c, len, err, errlen);
}

/* A search entry with its Sync State control. */
static int syncrepl_on_entry(struct syncrepl *s, LDAPMessage *msg, char *err,
			     size_t errlen)
{
	LDAPControl **ctrls = NULL, *c;
	int rc = -1;

	if (ldap_get_entry_controls(s->ld, msg, &ctrls) != LDAP_SUCCESS ||
	    !(c = ldap_control_find(LDAP_CONTROL_SYNC_STATE, ctrls, NULL)) ||
	    syncinfo_parse_state(c->ldctl_value.bv_val,
				 c->ldctl_value.bv_len, &s->st) < 0) {
		util_err(err, errlen, "source %s: an entry without a valid "
			 "sync state control", s->conf->name);
		goto out;
	}
	switch (s->st.state) {
	case SYNCINFO_ADD:
	case SYNCINFO_MODIFY:
		s->id = s->st.uuid;
		s->idlen = s->st.uuidlen;
		rc = ldapsrc_entry_parse(s->ld, msg, s->attrs, s->scratch,
					 syncrepl_entry_cb, s, err, errlen);
		break;
	case SYNCINFO_PRESENT:
		s->present = 1;
		rc = s->sink.unchanged(s->sink.core, s->sink.src, s->st.uuid,
				       s->st.uuidlen);
		break;
	default:
		rc = s->sink.gone(s->sink.core, s->sink.src, s->st.uuid,
				  s->st.uuidlen, err, errlen);
		break;
	}
	if (rc == 0 && s->st.has_cookie)
		rc = syncrepl_cookie(s, s->st.cookie, s->st.cookielen, err,
				     errlen);
out:
	ldap_controls_free(ctrls);
	return rc;
}

/* A Sync Info intermediate message. */
static int syncrepl_on_info(struct syncrepl *s, LDAPMessage *msg, char *err,
			    size_t errlen)
{
	struct syncinfo_msg *m = &s->info;
	char *oid = NULL;
	struct berval *data = NULL;
	size_t i;
	int rc = -1;

	if (ldap_parse_intermediate(s->ld, msg, &oid, &data, NULL, 0) !=
	    LDAP_SUCCESS || !oid || strcmp(oid, LDAP_SYNC_INFO) || !data ||
	    syncinfo_parse_info(data->bv_val, data->bv_len, m) < 0) {
		util_err(err, errlen, "source %s: a malformed sync info "
			 "message", s->conf->name);
		goto out;
	}
	rc = 0;
	switch (m->type) {
	case SYNCINFO_REFRESH_PRESENT:
	case SYNCINFO_REFRESH_DELETE:
		if (m->type == SYNCINFO_REFRESH_PRESENT)
			s->present = 1;
		if (m->refresh_done)
			rc = syncrepl_refresh_done(s, err, errlen);
		break;
	case SYNCINFO_ID_SET:
		for (i = 0; i < m->nuuids && rc == 0; i++) {
			const unsigned char *u = m->uuids + i * m->uuidlen;

			if (m->refresh_deletes)
				rc = s->sink.gone(s->sink.core, s->sink.src, u,
						  m->uuidlen, err, errlen);
			else {
				s->present = 1;
				rc = s->sink.unchanged(s->sink.core,
						       s->sink.src, u,
						       m->uuidlen);
			}
		}
		break;
	default:
		break;
	}
	if (rc == 0 && m->has_cookie)
		rc = syncrepl_cookie(s, m->cookie, m->cookielen, err, errlen);
	syncinfo_msg_free(m);
out:
	if (oid)
		ldap_memfree(oid);
	if (data)
		ber_bvfree(data);
	return rc;
}

/* The server ended the search. */
static int syncrepl_on_result(struct syncrepl *s, LDAPMessage *msg,
			      char *err, size_t errlen)
{
	int code = LDAP_OTHER;
	char *text = NULL;

	if (ldap_parse_result(s->ld, msg, &code, NULL, &text, NULL, NULL, 0) !=
	    LDAP_SUCCESS)
		code = LDAP_OTHER;
	if (code == SYNCREPL_REFRESH_REQUIRED) {
		log_warn("source %s: the server refused the sync cookie "
			 "(e-syncRefreshRequired): reading everything again",
			 s->conf->name);
		if (text)
			ldap_memfree(text);
		return LIVESRC_REFRESH_REQUIRED;
	}
	util_err(err, errlen, "source %s (%s): the server ended the sync "
		 "search: %s%s%s", s->conf->name, s->conf->uri,
		 ldap_err2string(code), text && *text ? ": " : "",
		 text && *text ? text : "");
	if (text)
		ldap_memfree(text);
	return -1;
}

static int syncrepl_step(void *arg, int max, char *err, size_t errlen)
{
	struct syncrepl *s = arg;
	int n = 0;

	if (!s->ld) {
		util_err(err, errlen, "source %s: not connected", s->conf->name);
		return -1;
	}
	while (n < max) {
		struct timeval zero = { 0, 0 };
		LDAPMessage *msg = NULL;
		int rc = ldap_result(s->ld, s->msgid, LDAP_MSG_ONE, &zero, &msg);

		if (rc == 0)
			break;
		if (rc < 0) {
			int lerr = LDAP_SERVER_DOWN;

			ldap_get_option(s->ld, LDAP_OPT_RESULT_CODE, &lerr);
			ldapsrc_describe(s->ld, lerr, "sync search", s->conf,
					 err, errlen);
			return -1;
		}
		switch (rc) {
		case LDAP_RES_SEARCH_ENTRY:
			rc = syncrepl_on_entry(s, msg, err, errlen);
			break;
		case LDAP_RES_INTERMEDIATE:
			rc = syncrepl_on_info(s, msg, err, errlen);
			break;
		case LDAP_RES_SEARCH_RESULT:
			rc = syncrepl_on_result(s, msg, err, errlen);
			break;
		default:
			rc = 0;		/* references: ignored */
			break;
		}
		ldap_msgfree(msg);
		if (rc < 0)
			return rc;
		n++;
	}
	return n;
}

static void syncrepl_free(void *arg)
{
	struct syncrepl *s = arg;

	if (!s)
		return;
	syncrepl_stop(s);
	ldapsrc_scratch_free(s->scratch);
	free(s);
}

static const struct livesrc_ops syncrepl_ops = {
	"syncrepl", syncrepl_start, syncrepl_fd, syncrepl_next_due,
	syncrepl_step, syncrepl_stop, syncrepl_free
};

int syncrepl_new(struct livesrc *out, const struct ldapsrc_conf *conf,
		 const struct formula_attrs *attrs,
		 const struct livesrc_sink *sink, char *err, size_t errlen)
{
	struct syncrepl *s;

	if (conf->nbases != 1) {
		util_err(err, errlen, "source %s: live = syncrepl follows one "
			 "base; make one [source] per base", conf->name);
		return -1;
	}
	s = xcalloc(1, sizeof(*s));
	s->conf = conf;
	s->attrs = attrs;
	s->sink = *sink;
	s->scratch = ldapsrc_scratch_new(attrs);
	if (!s->scratch) {
		free(s);
		util_err(err, errlen, "source %s: too many attributes",
			 conf->name);
		return -1;
	}
	out->ops = &syncrepl_ops;
	out->s = s;
	return 0;
}
