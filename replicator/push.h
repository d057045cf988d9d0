/*
 * push.h - bring every target to the catalog's current serial, all of them
 * at once over one libcurl multi handle.
 *
 * For each target: read the node's status file; send nothing when it has
 * the current serial (or when this replicator delivered it less than
 * install_grace ago and the node has not installed it yet), a delta when
 * the node's serial is in the change history, else a full snapshot.
 * At most `concurrency` requests run at a time; a failed target is tried
 * again after a growing delay (retry_delay doubling up to retry_delay_max,
 * `retries` times) without holding up the others, and the whole run stops
 * at run_timeout.  The outcome of each target goes into push_result and
 * into its state file as soon as the target is done.
 */
#ifndef DIRCAT_PUSH_H
#define DIRCAT_PUSH_H

#include <stddef.h>
#include <stdint.h>

#include "repconf.h"
#include "spool.h"
#include "xfer.h"

enum push_action {
	PUSH_NOTHING = 0,	/* the node has the current serial */
	PUSH_WAITING,		/* delivered earlier, not installed yet */
	PUSH_FULL,		/* a full snapshot was sent (or would be) */
	PUSH_DELTA,		/* a delta was sent (or would be) */
	PUSH_FAILED		/* could not tell or could not send */
};

struct push_result {
	const struct repconf_target *target;
	int ok;			/* the target has (or was sent) the serial */
	int action;		/* enum push_action */
	int node_known;		/* the node's serial was read */
	uint64_t node_serial;	/* what the node had (0: none) */
	uint64_t node_epoch;	/* its epoch (0: none, or before epochs) */
	int64_t node_expires;	/* when its catalog expires (0: unknown) */
	int node_stale;		/* it says its catalog has expired */
	uint64_t serial;	/* the catalog's serial */
	uint64_t base;		/* a delta's base */
	char file[SPOOL_NAME_MAX];	/* what was sent */
	uint64_t bytes;		/* bytes uploaded, all attempts together */
	double seconds;		/* wall time for this target */
	int attempts;
	char error[XFER_MSG_MAX + 64];
};

struct push_params {
	const struct repconf *conf;
	struct spool *spool;		/* NULL in a dry run */
	struct spool *spool_mx;		/* the mx projection's; NULL when no
					   target has it */
	uint64_t serial;		/* the catalog's */
	uint64_t epoch;			/* the catalog's */
	uint64_t history_oldest;	/* catalog_info's */
	const char *catalog_id;
	int dry_run;			/* decide only; send nothing */
	const char *const *only;	/* NULL, or target names to serve */
	struct xfer_share *share;	/* NULL, or a connection cache kept
					   across runs (the watch mode) */
};

/* The name of an action: "nothing", "waiting", "full", "delta",
 * "failed". */
const char *push_action_name(int action);

/*
 * Run it.  results has conf->ntargets entries, in configuration order
 * (targets left out by `only` are marked with target == NULL).  Returns
 * the number of targets not brought to the current serial, or -1 with
 * err when the run could not start.
 */
int push_run(const struct push_params *p, struct push_result *results,
	     char *err, size_t errlen);

#endif
