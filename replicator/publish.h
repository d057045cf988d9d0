/*
 * publish.h - publish the catalog once, for nodes to fetch: to every
 * [publish NAME] destination (an HTTP origin taking WebDAV PUT, or an
 * S3-compatible store), write the full snapshot of the current serial, a
 * delta from the serial published before (the chain), then the signed
 * manifest (lib/manifest.h) naming them, in that order, so that no
 * manifest ever names a file not yet there.
 *
 * Before writing, the destination's current manifest is read back: one
 * of another catalog, or one ahead of this catalog's (epoch, serial) -
 * another internal host publishing, or this one restored from a backup -
 * stops the publication with an error instead of replacing a newer
 * catalog with an older one.  Object names carry the epoch, serial and
 * the start of the file's SHA-256, so a name never changes content and
 * caches may keep snapshot files for ever.  Objects a manifest stopped
 * naming are deleted one publication later (STATE_DIR/publish-NAME.state
 * remembers them), so that a node in the middle of a download is not
 * cut off.  Limits: REPCONF_PUBLISH_MAX destinations, keep_deltas (at
 * most MANIFEST_DELTAS_MAX) deltas in a manifest.
 */
#ifndef DIRCAT_PUBLISH_H
#define DIRCAT_PUBLISH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "repconf.h"
#include "sign.h"
#include "spool.h"
#include "xfer.h"

#define PUBLISH_RETIRED_MAX 512	/* object names remembered for deletion */

enum publish_action {
	PUBLISH_CURRENT = 0,	/* the manifest was current: nothing */
	PUBLISH_REFRESHED,	/* same serial, manifest signed again */
	PUBLISH_NEW,		/* a new serial published */
	PUBLISH_FAILED
};

struct publish_result {
	const struct repconf_target *dest;
	int ok;
	int action;			/* enum publish_action */
	int prev_known;			/* a manifest was there */
	uint64_t prev_epoch, prev_serial;
	uint64_t epoch, serial;		/* published (or would be) */
	size_t deltas;			/* deltas the manifest lists */
	size_t uploaded;		/* snapshot files written */
	size_t deleted;			/* retired objects removed */
	uint64_t bytes;			/* bytes written, manifest included */
	double seconds;
	char error[XFER_MSG_MAX + 256];
};

struct publish_params {
	const struct repconf *conf;
	struct spool *spool;		/* NULL in a dry run */
	struct spool *spool_mx;		/* the mx projection's, or NULL */
	const struct sign_key *key;
	uint64_t epoch;			/* the catalog's */
	uint64_t serial;
	uint64_t history_oldest;	/* catalog_info's */
	const char *catalog_id;
	int dry_run;
};

/* "current", "refreshed", "published", "failed". */
const char *publish_action_name(int action);

/*
 * Publish to every destination in turn.  results has conf->npublish
 * entries.  Returns the number of destinations that failed, or -1 with
 * err when nothing could start.
 */
int publish_run(const struct publish_params *p, struct publish_result *res,
		char *err, size_t errlen);

/*
 * The highest epoch the destinations' manifests say (read, not verified:
 * only to start a new epoch above it) into *epoch; *unread counts the
 * destinations that could not be read.  0 always (failures are logged).
 */
int publish_probe_epoch(const struct repconf *conf, const char *catalog_id,
			uint64_t *epoch, size_t *unread);

/*
 * The fleet table's lines for the destinations: what each manifest says
 * (epoch, serial, when published, expiry), read and verified against
 * kr, or why it could not be.  Nodes pulling from it report through their
 * own metrics.
 */
void publish_fleet(FILE *out, const struct repconf *conf,
		   const char *catalog_id, const struct sign_keyring *kr,
		   int64_t now);

/* One line per destination, for the report.  0, or -1 on a write error. */
int publish_report(FILE *out, const struct publish_result *res, size_t n);

#endif
