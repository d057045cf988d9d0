/*
 * nodestatus.h - what a DMZ node's inbox says about the node: INBOX/status
 * (written by catalogd after each install, at start-up and when the
 * catalog expires; read back by dircat-replicator over the delivery
 * channel to learn the node's serial) and INBOX/rejected/NAME.reason
 * (why catalogd refused a file; read by dircat status when the daemon is
 * down).
 *
 * Both are kvtext.h lines (the status file with "version=1" first).  The
 * readers run on other
 * hosts or accounts than the writer, on text an inbox writer may have
 * replaced: they are bounded (NODESTATUS_MAX, NODESTATUS_LINE_MAX),
 * check every value they keep (catalog id syntax, a hex key id), skip
 * keys they do not know and refuse a key given twice.  File names and
 * reasons are escaped by the writer, so a hostile name cannot forge a
 * line.  A status file without a version line (catalogd before 1.1) is
 * read the same way.
 */
#ifndef DIRCAT_NODESTATUS_H
#define DIRCAT_NODESTATUS_H

#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "util.h"

#define NODESTATUS_MAX        4096	/* INBOX/status, bytes */
#define NODESTATUS_LINE_MAX   512	/* one of its lines */
#define NODESTATUS_VERSION    1		/* what the writer writes */
#define NODESTATUS_KEY_ID_MAX 64	/* hex digits of a key id */
#define NODESTATUS_REFUSAL_MAX      8192	/* a .reason file, bytes */
#define NODESTATUS_REFUSAL_LINE_MAX 4096	/* one of its lines */
#define NODESTATUS_FILE_MAX   255	/* a refused file's name, bytes */
#define NODESTATUS_REASON_MAX 600	/* a refusal reason, bytes */

/* INBOX/status. */
struct nodestatus {
	uint64_t version;			/* as read; the writer's own */
	char catalog_id[CATALOG_ID_MAX + 1];	/* "" when none yet */
	uint64_t epoch;				/* installed; absent: 0 (a
						   catalogd before epochs) */
	uint64_t serial;			/* installed; 0: none */
	int64_t created, expires, installed;	/* Unix times; 0: none */
	char key_id[NODESTATUS_KEY_ID_MAX + 1];	/* "" when none */
	int stale;				/* past its expiry */
};

/* The text of st (version set here).  0, or -1 when over
 * NODESTATUS_MAX or when a field is not valid (err says which). */
int nodestatus_format(const struct nodestatus *st, struct buf *out,
		      char *err, size_t errlen);
/* Parse text[0..len) into st (cleared first); serial= is required.
 * 0, or -1 with "status file: line N: reason" in err. */
int nodestatus_parse(const char *text, size_t len, struct nodestatus *st,
		     char *err, size_t errlen);
/* Replace path atomically (mode 0644) with st.  0, or -1 with err. */
int nodestatus_write(const char *path, const struct nodestatus *st,
		     char *err, size_t errlen);
/* Read and parse path.  0, or -1 with "PATH: reason" in err. */
int nodestatus_read(const char *path, struct nodestatus *st, char *err,
		    size_t errlen);

/* INBOX/rejected/NAME.reason: three lines, time=, file=, reason=. */
struct nodestatus_refusal {
	int64_t time;				/* when refused, Unix time */
	char file[NODESTATUS_FILE_MAX + 1];	/* the name refused */
	char reason[NODESTATUS_REASON_MAX + 1];
};

int nodestatus_refusal_format(const struct nodestatus_refusal *r,
			      struct buf *out, char *err, size_t errlen);
int nodestatus_refusal_parse(const char *text, size_t len,
			     struct nodestatus_refusal *r, char *err,
			     size_t errlen);
/* Write path atomically (mode 0644).  0, or -1 with err. */
int nodestatus_refusal_write(const char *path,
			     const struct nodestatus_refusal *r, char *err,
			     size_t errlen);
/* Read and parse path (at most NODESTATUS_REFUSAL_MAX bytes).  0, or -1
 * with "PATH: reason" in err. */
int nodestatus_refusal_read(const char *path, struct nodestatus_refusal *r,
			    char *err, size_t errlen);

#endif
