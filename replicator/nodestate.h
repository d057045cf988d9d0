/*
 * nodestate.h - what the replicator knows about a node: the status file
 * catalogd keeps in its inbox (read back over the delivery channel and
 * parsed by lib/nodestatus.h) and the replicator's own per-target state
 * file (what was delivered when).
 *
 * nodestate_load()/_save() keep STATE_DIR/NAME.state, kvtext.h lines
 * written atomically, so a run after a failure or a crash resumes from
 * what really happened; the error text is escaped like any value.
 */
#ifndef DIRCAT_NODESTATE_H
#define DIRCAT_NODESTATE_H

#include <stddef.h>
#include <stdint.h>

#include "nodestatus.h"

#define NODESTATE_STATUS_MAX  NODESTATUS_MAX	/* a status file, bytes */
#define NODESTATE_ERROR_MAX   400	/* an error kept in the state file */

/* The replicator's memory of one target. */
struct nodestate {
	uint64_t node_serial;		/* last serial the node reported */
	uint64_t node_epoch;		/* and its epoch */
	int64_t checked_at;		/* when; 0: never */
	uint64_t sent_serial;		/* last serial delivered; 0: none */
	uint64_t sent_base;		/* its delta base; 0: full */
	uint64_t sent_bytes;
	int64_t sent_at;
	char result[16];		/* "current", "sent", "waiting",
					   "failed" */
	char error[NODESTATE_ERROR_MAX];
};

/* Read STATE_DIR/NAME.state: 1 found, 0 none yet (st zeroed), -1 error. */
int nodestate_load(const char *dir, const char *name, struct nodestate *st,
		   char *err, size_t errlen);
/* Replace it atomically.  0, or -1 with err. */
int nodestate_save(const char *dir, const char *name,
		   const struct nodestate *st, char *err, size_t errlen);

#endif
