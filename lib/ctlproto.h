/*
 * ctlproto.h - catalogd's control socket as both ends speak it: catalogd
 * writes the status reply (ctlproto_status_format), dircat reads it
 * (ctlproto_status_parse) instead of scraping text meant for people.
 *
 * A request is one line: "status", "metrics", "lookup MAP KEY", "quit".
 * Every reply ends with an empty line (ctlproto_reply_complete).  The
 * status reply is kvtext.h lines, "version=1" first, one per field of
 * struct ctlproto_status, in the order of the table in ctlproto.c; every
 * value is escaped, so a file name chosen by an inbox writer cannot end
 * the reply early or forge a line.  The reader refuses another version,
 * a reply over CTLPROTO_STATUS_MAX or a line over CTLPROTO_LINE_MAX, and
 * skips keys it does not know (a newer catalogd may add fields).
 * A new field: a member here, a row in ctlproto.c's table, the writer
 * fills it in (catalogd), dircat shows it (admin/daemon.c).
 */
#ifndef DIRCAT_CTLPROTO_H
#define DIRCAT_CTLPROTO_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "util.h"

#define CTLPROTO_VERSION    1
#define CTLPROTO_STATUS_MAX (64 * 1024)	/* the status reply, bytes */
#define CTLPROTO_PATH_MAX   PATH_MAX	/* a path in it, with its NUL */
#define CTLPROTO_LINE_MAX   (4 * CTLPROTO_PATH_MAX + 80)	/* escaped */
#define CTLPROTO_NAME_MAX   255	/* a file name in the inbox */
#define CTLPROTO_REASON_MAX 600	/* a refusal reason */
#define CTLPROTO_MAPS       3	/* recipients, domains, senders */
#define CTLPROTO_SOCKETS_MAX 16	/* sockets listed */
#define CTLPROTO_SOCKNAME_MAX 64	/* a socket's name (its section) */
#define CTLPROTO_CATALOGS_MAX 16	/* catalogs listed */
#define CTLPROTO_CATNAME_MAX 64	/* a catalog's name (its section) */
#define CTLPROTO_SHORT_REASON_MAX 200	/* a catalog's last refusal */
#define CTLPROTO_ORDER_MAX  (CTLPROTO_CATALOGS_MAX * (CTLPROTO_CATNAME_MAX + 2))

/* Lookups of one map, by answer. */
struct ctlproto_answers {
	uint64_t ok, notfound, temp, perm;
};

/* One socket catalogd listens on. */
struct ctlproto_socket {
	char name[CTLPROTO_SOCKNAME_MAX + 1];	/* [socket NAME] */
	char protocol[16];			/* socketmap, policy, ... */
	uint64_t open;
	int64_t limit;
	uint64_t evicted;
};

/* One catalog the node serves, in the order of its configuration. */
struct ctlproto_catalog {
	char name[CTLPROTO_CATNAME_MAX + 1];	/* [catalog NAME] */
	char id[CATALOG_ID_MAX + 1];		/* configured */
	uint64_t serial, epoch;
	int64_t created, expires, installed;
	int stale;
	char stale_policy[32];
	uint64_t records;
	char key_id[65];
	uint64_t installs, refusals;
	int64_t last_refusal;
	char last_refusal_reason[CTLPROTO_SHORT_REASON_MAX + 1];
	uint64_t conflicts;	/* addresses it held that an earlier
				 * catalog answered */
};

struct ctlproto_status {
	uint64_t version;		/* written: CTLPROTO_VERSION */
	int64_t pid;
	int64_t now, started;		/* the daemon's clock, Unix time */
	char catalog[CTLPROTO_PATH_MAX];	/* its file */
	char catalog_id[CATALOG_ID_MAX + 1];
	uint64_t serial;		/* 0: nothing installed yet */
	uint64_t epoch;			/* of the installed catalog */
	int64_t created, expires, installed;	/* 0: none, never */
	int stale;
	char stale_policy[32];		/* lookup_stale_name() */
	uint64_t records, records_person, records_group, records_mailin,
		 records_domain;
	char key_id[65];		/* "" when none */

	int64_t last_install;		/* 0: none since start */
	uint64_t last_install_serial;
	char last_install_type[8];	/* "full", "delta" */
	uint64_t last_install_base;	/* a delta's base */
	uint64_t last_install_records;	/* the catalog's after it */
	uint64_t last_install_added, last_install_removed,
		 last_install_changed;
	uint64_t last_install_us;	/* how long it took */
	int64_t last_refusal;		/* 0: none since start */
	char last_refusal_file[CTLPROTO_NAME_MAX + 1];
	char last_refusal_reason[CTLPROTO_REASON_MAX + 1];
	uint64_t installs, refusals;	/* since start */
	uint64_t install_timeouts;	/* installs stopped, since start */
	int64_t last_install_timeout;	/* the last one; 0: none */
	int64_t install_timeout;	/* the setting, seconds */
	char installing[CTLPROTO_NAME_MAX + 1];	/* "" when idle */
	uint64_t installing_us;		/* running for */
	char inbox[CTLPROTO_PATH_MAX];
	uint64_t inbox_waiting;		/* snapshots waiting */
	uint64_t inbox_looked;		/* entries the last scan looked at */
	uint64_t inbox_scan_max;	/* at most that many a scan */
	int inbox_scan_cut;		/* the last scan stopped there */

	struct ctlproto_answers lookups;	/* every map */
	struct ctlproto_answers map[CTLPROTO_MAPS];	/* recipients,
							   domains, senders */
	uint64_t policy_pass, policy_reject, policy_defer, policy_no_reply;
	uint64_t connections_open, connections_accepted, connections_evicted,
		 connections_refused, idle_timeouts, request_timeouts,
		 bad_requests, output_overflows;
	uint64_t sockets;		/* how many of socket[] are used */
	struct ctlproto_socket socket[CTLPROTO_SOCKETS_MAX];

	/* Several catalogs (the fields above describe the first in the
	 * order): each, the order, and the conflicts between them. */
	uint64_t catalogs;		/* how many of catalog[] are used */
	struct ctlproto_catalog catalog_list[CTLPROTO_CATALOGS_MAX];
	char order[CTLPROTO_ORDER_MAX];	/* "unitA, unitB" */
	uint64_t domain_orders;		/* [domain]s with an order */
	uint64_t conflicts;
	int64_t last_conflict;		/* 0: none since start */
	char last_conflict_address[CATALOG_KEY_MAX + 2];
	char last_conflict_catalogs[2 * CTLPROTO_CATNAME_MAX + 2];
};

/* The names of the maps of ctlproto_status.map, in order. */
extern const char *const ctlproto_map_names[CTLPROTO_MAPS];

/*
 * Append the status reply's lines (without the empty line that ends
 * every reply) to out.  0, or -1 when out's maximum or
 * CTLPROTO_STATUS_MAX would be passed (out is left as it was).
 */
int ctlproto_status_format(const struct ctlproto_status *st,
			   struct buf *out);
/* Parse a status reply text[0..len) (its final empty line may be
 * there) into st.  0, or -1 with "line N: reason" in err. */
int ctlproto_status_parse(const char *text, size_t len,
			  struct ctlproto_status *st, char *err,
			  size_t errlen);

/* 1 when data[0..len) holds a whole reply (it ends with an empty line),
 * else 0. */
int ctlproto_reply_complete(const void *data, size_t len);

#endif
