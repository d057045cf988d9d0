/*
 * nodestate.h - what the replicator knows about a node: the status file
 * catalogd keeps in its inbox (read back over the delivery channel) and
 * the replicator's own per-target state file (what was delivered when).
 *
 * nodestate_parse_status() reads "key=value" lines; it is given bytes from
 * the node, so it is bounded (NODESTATE_STATUS_MAX), checks every value it
 * uses and ignores keys it does not know.  nodestate_load()/_save() keep
 * STATE_DIR/NAME.state, written atomically, so a run after a failure or a
 * crash resumes from what really happened.
 */
#ifndef DIRCAT_NODESTATE_H
#define DIRCAT_NODESTATE_H

#include <stddef.h>
#include <stdint.h>

#include "catalog.h"

#define NODESTATE_STATUS_MAX  4096	/* a status file, bytes */
#define NODESTATE_LINE_MAX    512	/* one of its lines */
#define NODESTATE_ERROR_MAX   400	/* an error kept in the state file */

/* The node's status file, as far as the replicator needs it. */
struct nodestate_status {
	char catalog_id[CATALOG_ID_MAX + 1];	/* "" when absent */
	uint64_t serial;			/* installed; 0: none */
	int64_t created, expires, installed;	/* 0 when absent */
	int stale;				/* "stale=yes" */
};

/* Parse status text (not NUL-terminated).  0, or -1 with a reason (the
 * offending text quoted and truncated). */
int nodestate_parse_status(const char *text, size_t len,
			   struct nodestate_status *st, char *err,
			   size_t errlen);

/* The replicator's memory of one target. */
struct nodestate {
	uint64_t node_serial;		/* last serial the node reported */
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
