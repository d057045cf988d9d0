/*
 * ctlproto.c - the control socket's status reply; see ctlproto.h.
 */
#include <string.h>

#include "ctlproto.h"
#include "kvtext.h"

const char *const ctlproto_map_names[CTLPROTO_MAPS] = {
	"recipients", "domains", "senders"
};

#define S struct ctlproto_status
#define U(key, m) { key, KVTEXT_U64, 0, KVTEXT_FIELD(S, m) }
#define I(key, m) { key, KVTEXT_I64, 0, KVTEXT_FIELD(S, m) }
#define T(key, m) { key, KVTEXT_TEXT, 0, KVTEXT_FIELD(S, m) }
#define SOCK(key, type, m) { key, type, 0, KVTEXT_FIELD(S, socket[0].m), \
	KVTEXT_ARRAY(CTLPROTO_SOCKETS_MAX, sizeof(struct ctlproto_socket)) }
#define CAT(key, type, m) { key, type, 0, \
	KVTEXT_FIELD(S, catalog_list[0].m), \
	KVTEXT_ARRAY(CTLPROTO_CATALOGS_MAX, sizeof(struct ctlproto_catalog)) }
#define MAP(name, i) \
	U(name "_ok", map[i].ok), U(name "_notfound", map[i].notfound), \
	U(name "_temp", map[i].temp), U(name "_perm", map[i].perm)

/* The reply, in the order written. */
static const struct kvtext_field ctlproto_status_fields[] = {
	{ "version", KVTEXT_U64, KVTEXT_REQUIRED, KVTEXT_FIELD(S, version) },
	{ "pid", KVTEXT_I64, KVTEXT_REQUIRED, KVTEXT_FIELD(S, pid) },
	I("now", now),
	I("started", started),
	T("catalog", catalog),
	T("catalog_id", catalog_id),
	{ "serial", KVTEXT_U64, KVTEXT_REQUIRED, KVTEXT_FIELD(S, serial) },
	{ "epoch", KVTEXT_U64, 0, KVTEXT_FIELD(S, epoch) },
	I("created", created),
	I("expires", expires),
	{ "stale", KVTEXT_YESNO, 0, KVTEXT_FIELD(S, stale) },
	T("stale_policy", stale_policy),
	U("records", records),
	U("records_person", records_person),
	U("records_group", records_group),
	U("records_mailin", records_mailin),
	U("records_domain", records_domain),
	T("key_id", key_id),
	I("installed", installed),
	I("last_install", last_install),
	U("last_install_serial", last_install_serial),
	T("last_install_type", last_install_type),
	U("last_install_base", last_install_base),
	U("last_install_records", last_install_records),
	U("last_install_added", last_install_added),
	U("last_install_removed", last_install_removed),
	U("last_install_changed", last_install_changed),
	U("last_install_us", last_install_us),
	I("last_refusal", last_refusal),
	T("last_refusal_file", last_refusal_file),
	T("last_refusal_reason", last_refusal_reason),
	U("installs", installs),
	U("refusals", refusals),
	U("install_timeouts", install_timeouts),
	I("last_install_timeout", last_install_timeout),
	I("install_timeout", install_timeout),
	T("installing", installing),
	U("installing_us", installing_us),
	T("inbox", inbox),
	U("inbox_waiting", inbox_waiting),
	U("inbox_looked", inbox_looked),
	U("inbox_scan_max", inbox_scan_max),
	{ "inbox_scan_cut", KVTEXT_YESNO, 0, KVTEXT_FIELD(S, inbox_scan_cut) },
	U("lookups_ok", lookups.ok),
	U("lookups_notfound", lookups.notfound),
	U("lookups_temp", lookups.temp),
	U("lookups_perm", lookups.perm),
	MAP("recipients", 0),
	MAP("domains", 1),
	MAP("senders", 2),
	U("policy_pass", policy_pass),
	U("policy_reject", policy_reject),
	U("policy_defer", policy_defer),
	U("policy_no_reply", policy_no_reply),
	U("connections_open", connections_open),
	U("connections_accepted", connections_accepted),
	U("connections_evicted", connections_evicted),
	U("connections_refused", connections_refused),
	U("idle_timeouts", idle_timeouts),
	U("request_timeouts", request_timeouts),
	U("bad_requests", bad_requests),
	U("output_overflows", output_overflows),
	U("sockets", sockets),
	SOCK("socket_name", KVTEXT_TEXT, name),
	SOCK("socket_protocol", KVTEXT_TEXT, protocol),
	SOCK("socket_open", KVTEXT_U64, open),
	SOCK("socket_limit", KVTEXT_I64, limit),
	SOCK("socket_evicted", KVTEXT_U64, evicted),
	U("catalogs", catalogs),
	CAT("cat_name", KVTEXT_TEXT, name),
	CAT("cat_id", KVTEXT_TEXT, id),
	CAT("cat_serial", KVTEXT_U64, serial),
	CAT("cat_epoch", KVTEXT_U64, epoch),
	CAT("cat_created", KVTEXT_I64, created),
	CAT("cat_expires", KVTEXT_I64, expires),
	CAT("cat_installed", KVTEXT_I64, installed),
	CAT("cat_stale", KVTEXT_YESNO, stale),
	CAT("cat_stale_policy", KVTEXT_TEXT, stale_policy),
	CAT("cat_records", KVTEXT_U64, records),
	CAT("cat_key_id", KVTEXT_TEXT, key_id),
	CAT("cat_installs", KVTEXT_U64, installs),
	CAT("cat_refusals", KVTEXT_U64, refusals),
	CAT("cat_last_refusal", KVTEXT_I64, last_refusal),
	CAT("cat_last_refusal_reason", KVTEXT_TEXT, last_refusal_reason),
	CAT("cat_conflicts", KVTEXT_U64, conflicts),
	T("order", order),
	U("domain_orders", domain_orders),
	U("conflicts", conflicts),
	I("last_conflict", last_conflict),
	T("last_conflict_address", last_conflict_address),
	T("last_conflict_catalogs", last_conflict_catalogs),
	{ .key = NULL }
};

#undef S
#undef U
#undef I
#undef T
#undef MAP
#undef SOCK
#undef CAT

static const struct kvtext_doc ctlproto_status_doc = {
	"status reply", ctlproto_status_fields, CTLPROTO_STATUS_MAX,
	CTLPROTO_LINE_MAX
};

int ctlproto_status_format(const struct ctlproto_status *st,
			   struct buf *out)
{
	struct ctlproto_status w = *st;
	char err[128];

	w.version = CTLPROTO_VERSION;
	return kvtext_format(&ctlproto_status_doc, out, &w, err, sizeof(err));
}

int ctlproto_status_parse(const char *text, size_t len,
			  struct ctlproto_status *st, char *err,
			  size_t errlen)
{
	memset(st, 0, sizeof(*st));
	if (len < 8 || memcmp(text, "version=", 8)) {
		util_err(err, errlen, "status reply: line 1: not a status "
			 "reply (no version= line first)");
		return -1;
	}
	if (kvtext_parse(&ctlproto_status_doc, text, len, st, err, errlen) < 0)
		return -1;
	if (st->sockets > CTLPROTO_SOCKETS_MAX) {
		util_err(err, errlen, "status reply: sockets: %llu, more than "
			 "%d", (unsigned long long)st->sockets,
			 CTLPROTO_SOCKETS_MAX);
		return -1;
	}
	if (st->catalogs > CTLPROTO_CATALOGS_MAX) {
		util_err(err, errlen, "status reply: catalogs: %llu, more "
			 "than %d", (unsigned long long)st->catalogs,
			 CTLPROTO_CATALOGS_MAX);
		return -1;
	}
	if (st->version != CTLPROTO_VERSION) {
		util_err(err, errlen, "status reply: line 1: control protocol "
			 "version %llu (this dircat reads version %d)",
			 (unsigned long long)st->version, CTLPROTO_VERSION);
		return -1;
	}
	return 0;
}

int ctlproto_reply_complete(const void *data, size_t len)
{
	const unsigned char *p = data;

	return len >= 2 && p[len - 1] == '\n' && p[len - 2] == '\n';
}
