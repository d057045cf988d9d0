/*
 * watch.h - the aggregator's watch mode: follow every source live
 * (livesrc.h), apply each change to the catalog (livecat.h), and publish
 * at once - at most one serial per publish_interval while changes keep
 * coming - then tell the replicator (a datagram on its notify socket).
 *
 * Safety gates hold per window: a commit that would leave fewer than
 * min_records addresses, or fewer than (100 - max_shrink)% of what the
 * window started with, is not made; the watch says why, keeps the
 * catalog as it was, stops reading and waits (SIGUSR1, or a start with
 * --force, publishes anyway).  A lost session is retried with a growing
 * delay; nothing is committed from it in the meantime beyond what its
 * cookie covers.  A periodic reconcile compares a full read with the
 * catalog and, on any difference, reports it and reads everything again.
 * Limits: WATCH_* below.
 */
#ifndef WATCH_H
#define WATCH_H

#include <stddef.h>
#include <stdint.h>

#include "collect.h"
#include "digest.h"
#include "ldapsrc.h"

#define WATCH_STEP_MAX      1000	/* messages per source per turn */
#define WATCH_RETRY_MIN     1.0		/* seconds before a reconnect */
#define WATCH_RETRY_MAX     60.0	/* longest delay between them */
#define WATCH_NOTIFY_MAX    128		/* bytes of a notification */

enum watch_kind { WATCH_SYNCREPL = 1, WATCH_POLL, WATCH_USN };

struct watch_source {
	const struct ldapsrc_conf *lc;
	const struct formula_attrs *attrs;
	const struct digest_rules *rules;
	int kind;			/* enum watch_kind */
	double poll_interval;		/* seconds, WATCH_POLL */
	double usn_interval;		/* seconds, WATCH_USN */
	double usn_sweep_interval;	/* seconds, WATCH_USN */
};

struct watch_conf {
	const char *catalog_path;
	const char *catalog_id;
	const char *config_path;	/* its bytes decide a full refresh */
	const struct digest_env *env;
	enum collect_rule rule;
	int index_logins;
	unsigned history;
	const struct watch_source *src;
	size_t nsrc;
	double publish_interval;	/* seconds */
	int64_t min_records, max_shrink_pct;
	double shrink_window;		/* seconds */
	double reconcile_interval;	/* seconds; 0: never */
	const char *notify_socket;	/* replicator's; NULL: none */
	const char *status_file;	/* NULL: none */
	const char *metrics_path;	/* NULL: none */
	int force;			/* the first window passes the gates */
	int once;			/* catch up, publish, exit */
	/* A full read of every source for the reconcile: the records a
	 * batch run would write, through collect_next().  0 / -1 err. */
	int (*full_read)(void *arg, struct collect **out, char *err,
			 size_t errlen);
	void *full_read_arg;
};

/* Run until SIGTERM/SIGINT (or caught up, with once).  Returns an exit
 * status: 0, 65 held by a gate (once), 69 a source failed (once), 73
 * the catalog could not be written, 78 configuration. */
int watch_run(const struct watch_conf *, char *err, size_t errlen);

#endif
