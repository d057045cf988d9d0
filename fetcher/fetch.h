/*
 * fetch.h - one poll of dircat-fetch: read the node's installed (epoch,
 * serial) from catalogd's INBOX/status, fetch the manifest (conditional
 * on its ETag and Last-Modified), trust it only after its signature,
 * catalog, freshness and order checks, and drop the files of the
 * cheapest path to the latest serial into the inbox (".NAME.part", size
 * and SHA-256 checked against the manifest, fsync, rename).  catalogd
 * verifies and installs them as if they had been pushed.
 *
 * State (STATE_DIR/ID.state, and the last accepted manifest as
 * STATE_DIR/ID.manifest) survives restarts: the newest manifest accepted,
 * its validators, what was delivered when, counters and the last error.
 * A manifest older than the one accepted (a replay, or a cache lagging
 * behind) and one that has expired (a frozen copy) are refused and
 * reported; the node keeps what it has.  Limits: MANIFEST_* (the
 * manifest), max_download (one file), MANIFEST_PLAN_MAX files per poll.
 */
#ifndef DIRCAT_FETCH_H
#define DIRCAT_FETCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "fetchconf.h"
#include "http.h"

#define FETCH_ERROR_MAX 400

/* What a poll came to. */
enum fetch_outcome {
	FETCH_CURRENT = 0,	/* the node has the latest */
	FETCH_DELIVERED,	/* files were dropped into the inbox */
	FETCH_WAITING,		/* delivered earlier, not installed yet */
	FETCH_E_ORIGIN,		/* origin or cache unreachable, HTTP error */
	FETCH_E_REFUSED,	/* manifest or file refused: forged, stale,
				   replayed, another catalog, bad hash */
	FETCH_E_NODE,		/* the node ahead of the manifest, or not
				   installing what was delivered */
	FETCH_E_LOCAL,		/* inbox or state could not be written */
	FETCH_OUTCOMES
};

/* "current", "delivered", "waiting", "origin", "refused", "node",
 * "local". */
const char *fetch_outcome_name(int outcome);

/* Why a manifest or file was refused (counters). */
enum fetch_refusal {
	FETCH_R_BAD_MANIFEST = 0,	/* grammar, key, signature */
	FETCH_R_WRONG_CATALOG,		/* another catalog or projection */
	FETCH_R_STALE,			/* expired */
	FETCH_R_REPLAY,			/* older than the one accepted */
	FETCH_R_BAD_FILE,		/* size or hash not as listed */
	FETCH_REFUSALS
};

/* The persistent state. */
struct fetch_state {
	int have_manifest;
	uint64_t m_epoch, m_serial;
	int64_t m_published, m_expires;
	char etag[HTTP_VALIDATOR_MAX + 1];
	char last_modified[HTTP_VALIDATOR_MAX + 1];
	uint64_t delivered_epoch, delivered_serial;
	int delivered_full;
	int64_t delivered_at;
	uint64_t node_epoch, node_serial;
	int64_t last_poll, last_success, last_change;
	int last_outcome;
	char last_error[FETCH_ERROR_MAX];
	int64_t last_error_at;
	uint64_t polls, not_modified, files, bytes;
	uint64_t refused[FETCH_REFUSALS];
	uint64_t errors[FETCH_OUTCOMES];
};

struct fetcher;

/* A fetcher for c (which must outlive it); its state is loaded from
 * STATE_DIR (a broken state file is reported and started afresh).  NULL
 * with err when STATE_DIR cannot be made or used. */
struct fetcher *fetcher_new(const struct fetchconf *c, char *err,
			    size_t errlen);
void fetcher_free(struct fetcher *);

/* One poll at now.  Returns the outcome; the state and the metrics file
 * are written. */
int fetcher_poll(struct fetcher *, int64_t now);

/* The state, for status output. */
const struct fetch_state *fetcher_state(const struct fetcher *);

/* The state as text for people ("dircat-fetch -s"). */
void fetch_state_print(const struct fetch_state *st, const char *catalog_id,
		       int64_t now, FILE *out);

#endif
