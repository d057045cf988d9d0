/*
 * manifest.h - the signed manifest a replicator publishes next to its
 * snapshots on an HTTP origin or an S3-compatible store, and that each
 * node's fetcher polls: which catalog, epoch and serial are the latest,
 * which files bring a node there (one full snapshot, a chain of deltas),
 * their sizes and SHA-256 hashes, and until when the manifest may be
 * believed.  Format, line by line: schema/manifest.md.
 *
 * Writer: manifest_write() renders and signs.  Reader: manifest_parse()
 * refuses, with a code and "line N column C: why", anything over a
 * MANIFEST_* limit, any line out of the fixed grammar, a key that is not
 * trusted and a signature that does not verify; freshness and replay are
 * the caller's next checks (manifest_fresh(), manifest_order()).
 * manifest_plan() picks the fewest bytes from a node's serial to the
 * latest.  Every length is checked before use; nothing is trusted before
 * the signature, and the text is parsed only into fixed-size fields.
 */
#ifndef DIRCAT_MANIFEST_H
#define DIRCAT_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "sign.h"
#include "util.h"

#define MANIFEST_MAGIC        "dircat-manifest 1"	/* first line */
#define MANIFEST_VERSION      1
#define MANIFEST_FILE_MAX     (128 * 1024)	/* whole manifest, bytes */
#define MANIFEST_LINE_MAX     400	/* one line with its newline */
#define MANIFEST_NAME_MAX     128	/* a file name on the origin */
#define MANIFEST_PROJECTION_MAX 64	/* a projection name */
#define MANIFEST_DELTAS_MAX   256	/* delta lines */
#define MANIFEST_LIFETIME_MAX (366LL * 86400)	/* expires - published */
#define MANIFEST_SNAPSHOT_MIN 320	/* smallest snapshot file: header
					   + signature, bytes */

enum manifest_code {
	MANIFEST_OK = 0,
	MANIFEST_E_TOO_LARGE,	/* over MANIFEST_FILE_MAX or a line limit */
	MANIFEST_E_SYNTAX,	/* a line out of the grammar */
	MANIFEST_E_FIELD,	/* a value out of range or inconsistent */
	MANIFEST_E_UNKNOWN_KEY,	/* signed by a key not trusted here */
	MANIFEST_E_BAD_SIGNATURE,	/* signature does not verify */
	MANIFEST_E_COUNT
};

/* A short fixed phrase for a code. */
const char *manifest_strerror(int code);

/* 1 when name[0..len) may name a file on the origin: 1 to
 * MANIFEST_NAME_MAX of [A-Za-z0-9._-], not starting with '.'. */
int manifest_name_valid(const char *name, size_t len);

/* A snapshot file the manifest offers. */
struct manifest_file {
	char name[MANIFEST_NAME_MAX + 1];	/* on the origin, no '/' */
	int full;			/* 1 full snapshot, 0 delta */
	uint64_t base;			/* delta: the serial it starts from;
					   full: 0 */
	uint64_t serial;		/* the serial it brings a node to */
	uint64_t size;			/* bytes */
	int64_t expires;		/* the snapshot's own expiry */
	unsigned char sha256[SIGN_SHA256_LEN];
};

struct manifest {
	char catalog_id[CATALOG_ID_MAX + 1];
	char projection[MANIFEST_PROJECTION_MAX + 1];	/* "all": whole */
	uint64_t epoch;
	uint64_t serial;		/* the latest, >= 1 */
	int64_t published;		/* when signed (Unix time) */
	int64_t expires;		/* not believed from then on */
	char key_id[SIGN_KEY_ID_HEX];	/* the signer's, hex */
	struct manifest_file full;	/* full snapshot of serial */
	size_t ndeltas;
	struct manifest_file deltas[MANIFEST_DELTAS_MAX];	/* ascending
					   by (serial, base) */
};

/*
 * Render m and sign it with key (its id replaces m->key_id) into out
 * (appended; out's maximum must allow MANIFEST_FILE_MAX).  m must pass
 * the reader's checks: a manifest this writes always parses.  0, or -1
 * with err (a field out of range: nothing appended then).
 */
int manifest_write(const struct manifest *m, const struct sign_key *key,
		   struct buf *out, char *err, size_t errlen);

/*
 * Parse and check data[0..len) into *m: size, grammar, every field, the
 * key (kr must trust it) and the signature over every byte before the
 * "signature" line.  kr NULL skips the signature check: the result is then
 * NOT to be trusted (for showing what a refused file claims).  Returns 0,
 * or -1 with *code and "line N column C: reason" in err.
 */
int manifest_parse(const void *data, size_t len,
		   const struct sign_keyring *kr, struct manifest *m,
		   int *code, char *err, size_t errlen);

/* Is m to be believed at now?  0 yes; -1 with err when it has expired
 * (a frozen or stale copy, e.g. a cache or mirror no longer updated). */
int manifest_fresh(const struct manifest *m, int64_t now, char *err,
		   size_t errlen);

/*
 * Order two manifests of one catalog by (epoch, serial, published):
 * -1 when a is older than b, 0 the same, 1 newer.  A manifest older than
 * one already accepted is a replay or a lagging copy.
 */
int manifest_order(uint64_t a_epoch, uint64_t a_serial, int64_t a_published,
		   uint64_t b_epoch, uint64_t b_serial, int64_t b_published);

#define MANIFEST_PLAN_MAX 64	/* files in one plan */

/*
 * What brings a node holding (epoch, serial) (serial 0: nothing yet) to
 * m's latest: the fewest bytes, over the chain of deltas when it starts at
 * the node's serial and within MANIFEST_PLAN_MAX steps, else the full
 * snapshot.  Deltas that have expired at now are not used.  steps receives pointers into m (valid while m is).  Returns
 * 0 nothing to do (the node is current), 1 with steps, or -1 with err
 * when the node is ahead of the manifest (a newer epoch or serial: the
 * manifest is old, or the catalog was rebuilt without a new epoch).
 */
int manifest_plan(const struct manifest *m, uint64_t epoch, uint64_t serial,
		  int64_t now,
		  const struct manifest_file *steps[MANIFEST_PLAN_MAX],
		  size_t *nsteps, char *err, size_t errlen);

#endif
