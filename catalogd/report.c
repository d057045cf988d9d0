/*
 * report.c - what catalogd says about itself: the control socket's status
 * reply and its metrics, read from the daemon's state and the installs'
 * results (install.h); see report.h.
 */
#include <string.h>
#include <unistd.h>

#include "assist.h"
#include "ctlproto.h"
#include "install.h"
#include "metrics.h"
#include "report.h"
#include "util.h"

/* Every socket fits the status reply. */
_Static_assert(CONF_SOCKETS_MAX <= CTLPROTO_SOCKETS_MAX,
	       "more sockets than the status reply can list");
_Static_assert(CONF_CATALOGS_MAX <= CTLPROTO_CATALOGS_MAX &&
	       CONF_NAME_MAX <= CTLPROTO_CATNAME_MAX,
	       "more catalogs than the status reply can list");

int report_status(struct daemon *d, struct buf *out)
{
	struct daemon_catalog *k = daemon_first(d);
	const struct catalog_info *i = &k->info;
	struct ctlproto_status st;
	int m, a;

	memset(&st, 0, sizeof(st));
	st.pid = (int64_t)getpid();
	st.now = (int64_t)d->now;
	st.started = (int64_t)d->started;
	/* The catalog fields: the first in the order (the only one of a
	 * file without [catalog] sections); every catalog: assist.c. */
	util_copy_fit(st.catalog, k->cc->path, sizeof(st.catalog));
	util_copy_fit(st.catalog_id, i->id[0] ? i->id : k->cc->id,
		     sizeof(st.catalog_id));
	st.serial = i->serial;
	st.epoch = i->epoch;
	st.created = i->created;
	st.expires = i->expires;
	st.installed = i->installed;
	st.stale = k->st.stale;
	util_copy_fit(st.stale_policy,
		     lookup_stale_name(k->cc->lookup.stale_policy),
		     sizeof(st.stale_policy));
	st.records = i->records;
	st.records_person = i->count[CATALOG_PERSON];
	st.records_group = i->count[CATALOG_GROUP];
	st.records_mailin = i->count[CATALOG_MAILIN];
	st.records_domain = i->count[CATALOG_DOMAIN];
	util_copy_fit(st.key_id, i->key_id, sizeof(st.key_id));
	install_status(d, k, &st);
	assist_status(d, &st);
	/* answers[0] counts requests for a map catalogd does not serve. */
	for (m = 0; m < LOOKUP_MAPS; m++) {
		st.lookups.ok += d->stats.answers[m][LOOKUP_OK];
		st.lookups.notfound += d->stats.answers[m][LOOKUP_NOTFOUND];
		st.lookups.temp += d->stats.answers[m][LOOKUP_TEMP];
		st.lookups.perm += d->stats.answers[m][LOOKUP_PERM];
	}
	for (m = LOOKUP_RECIPIENTS, a = 0; m <= LOOKUP_SENDERS; m++, a++) {
		st.map[a].ok = d->stats.answers[m][LOOKUP_OK];
		st.map[a].notfound = d->stats.answers[m][LOOKUP_NOTFOUND];
		st.map[a].temp = d->stats.answers[m][LOOKUP_TEMP];
		st.map[a].perm = d->stats.answers[m][LOOKUP_PERM];
	}
	st.policy_pass = d->stats.policy_pass;
	st.policy_reject = d->stats.policy_reject;
	st.policy_defer = d->stats.policy_defer;
	st.policy_no_reply = d->stats.policy_fail;
	st.connections_open = d->nconns;
	st.connections_accepted = d->stats.accepted;
	st.connections_evicted = d->stats.evicted;
	st.connections_refused = d->stats.refused;
	st.idle_timeouts = d->stats.timeouts;
	st.request_timeouts = d->stats.request_timeouts;
	st.bad_requests = d->stats.bad_requests;
	st.output_overflows = d->stats.overflows;
	for (m = 0; m < (int)d->nlisteners && m < CTLPROTO_SOCKETS_MAX; m++) {
		const struct listener *l = d->listener[m];
		struct ctlproto_socket *cs = &st.socket[m];

		util_copy_fit(cs->name, l->cs.name, sizeof(cs->name));
		util_copy_fit(cs->protocol, conf_protocol_name(l->cs.protocol),
			     sizeof(cs->protocol));
		cs->open = l->nconns;
		cs->limit = l->cs.max_connections;
		cs->evicted = l->evicted;
		st.sockets++;
	}
	return ctlproto_status_format(&st, out);
}

int report_metrics(struct daemon *d, struct buf *out)
{
	static const char *const results[4] = {
		[LOOKUP_OK] = "ok", [LOOKUP_NOTFOUND] = "notfound",
		[LOOKUP_TEMP] = "temp", [LOOKUP_PERM] = "perm"
	};
	const struct daemon_catalog *k = daemon_first(d);
	struct catalog_info info = k->info;
	struct metrics m;
	int map, r;

	if (!info.id[0])
		util_copy_fit(info.id, k->cc->id, sizeof(info.id));
	metrics_init(&m, out);
	metrics_gauge(&m, "dircat_catalogd_up",
		      "1 when catalogd answered on its control socket.", 1);
	metrics_gauge(&m, "dircat_catalogd_start_timestamp_seconds",
		      "When catalogd started (Unix time).",
		      (int64_t)d->started);
	metrics_catalog(&m, &info, (int64_t)d->now, k->st.stale);
	metrics_family(&m, "dircat_catalogd_lookups_total", "counter",
		       "Socketmap, readsocket and control lookups answered "
		       "since start, by map and result (map \"unknown\": a "
		       "map name catalogd does not serve).");
	for (map = LOOKUP_RECIPIENTS; map <= LOOKUP_ROUTE; map++)
		for (r = 0; r < 4; r++)
			metrics_u64(&m, "map", lookup_map_name(map), "result",
				    results[r], d->stats.answers[map][r]);
	metrics_u64(&m, "map", "unknown", "result", "perm",
		    d->stats.answers[LOOKUP_MAP_NONE][LOOKUP_PERM]);
	metrics_family(&m, "dircat_catalogd_policy_total", "counter",
		       "Policy delegation requests answered since start, by "
		       "result (noreply: closed without an answer on a "
		       "catalog read error).");
	metrics_u64(&m, "result", "pass", NULL, NULL, d->stats.policy_pass);
	metrics_u64(&m, "result", "reject", NULL, NULL,
		    d->stats.policy_reject);
	metrics_u64(&m, "result", "defer", NULL, NULL, d->stats.policy_defer);
	metrics_u64(&m, "result", "noreply", NULL, NULL,
		    d->stats.policy_fail);
	metrics_gauge(&m, "dircat_catalogd_connections",
		      "Client connections open now, on every socket.",
		      (int64_t)d->nconns);
	metrics_gauge(&m, "dircat_catalogd_connections_limit",
		      "Every socket's max_connections added up.",
		      d->conf->connections_total);
	metrics_counter(&m, "dircat_catalogd_connections_accepted_total",
			"Connections accepted since start.",
			d->stats.accepted);
	metrics_counter(&m, "dircat_catalogd_connections_evicted_total",
			"Connections closed since start to take a new client "
			"on a full socket (max_connections) or out of "
			"descriptors: the longest busy, else the longest "
			"idle.", d->stats.evicted);
	metrics_counter(&m, "dircat_catalogd_connections_refused_total",
			"Connections closed at once since start: out of "
			"descriptors with nothing to close.",
			d->stats.refused);
	metrics_counter(&m, "dircat_catalogd_connection_timeouts_total",
			"Connections closed after idle_timeout.",
			d->stats.timeouts);
	metrics_counter(&m, "dircat_catalogd_request_timeouts_total",
			"Connections closed because a request was not "
			"complete, or a reply not taken, within "
			"request_timeout.", d->stats.request_timeouts);
	metrics_counter(&m, "dircat_catalogd_bad_requests_total",
			"Malformed or oversized requests since start.",
			d->stats.bad_requests);
	metrics_counter(&m, "dircat_catalogd_output_overflows_total",
			"Clients dropped because their unread replies reached "
			"max_output.", d->stats.overflows);
	install_metrics(d, &m);
	assist_metrics(d, &m);
	return m.failed ? -1 : 0;
}
