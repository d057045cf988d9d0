/*
 * inbox.h - one round of work on catalogd's inbox, done in a child
 * process so that the loop answering lookups never touches the inbox:
 * look at the waiting files (at most INBOX_SCAN_MAX), move aside what is
 * not a snapshot (at most INBOX_REJECT_MAX a round, each with a .reason
 * file), install the snapshots lowest serial first (at most INBOX_TRY_MAX
 * a round), and write INBOX/status.  Progress goes to the parent as
 * fixed-size messages (struct inbox_msg) on a pipe.
 *
 * Hostile input: every name in the inbox is the upload account's choice.
 * Files are looked at without following links, opened without following
 * or blocking, verified and installed from a private copy (snapshot.h);
 * a name reaches a log line, a .reason file or a status line only
 * escaped (kvtext_escape(); the .reason and status files are nodestatus.h
 * formats).  INBOX/rejected must be a directory catalogd owns, or
 * refused files are removed instead of kept.
 */
#ifndef CATALOGD_INBOX_H
#define CATALOGD_INBOX_H

#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "catalog.h"
#include "snapshot.h"

#define INBOX_NAME_MAX     255	/* a file name in the inbox */
#define INBOX_ESCAPED_MAX  (4 * INBOX_NAME_MAX + 1)	/* escaped, + NUL */
#define INBOX_REASON_MAX   1200	/* a refusal reason, escaped names in it */
#define INBOX_SCAN_MAX     20000	/* directory entries looked at a round */
#define INBOX_REJECT_MAX   1000	/* files moved aside a round */
#define INBOX_TRY_MAX      1000	/* snapshots opened a round */
#define INBOX_LOG_MAX      20	/* refusals logged one by one a round */
#define INBOX_SETTLE       5	/* seconds a file without event must rest */
#define INBOX_STATUS_FILE  "status"
#define INBOX_REJECTED_DIR "rejected"

/*
 * Why a file was refused: the snapshot codes (verification and install
 * checks), then reasons of the inbox's own.  SNAPSHOT_OK and
 * SNAPSHOT_E_CATALOG are no refusals (the latter is catalogd's own
 * trouble: the file stays and is tried again).
 */
enum {
	INBOX_R_BAD_NAME = SNAPSHOT_E_COUNT,	/* not ID.SERIAL.full.snap */
	INBOX_R_OTHER_NAME,	/* a file name of another catalog id */
	INBOX_R_FAILED,		/* the install process died */
	INBOX_R_TIMEOUT,	/* the install took longer than allowed */
	INBOX_REASONS
};

/* The label of a reason for metrics ("bad_signature"), or NULL. */
const char *inbox_reason_name(int why);

/* What a round reports, in order: BEGIN and RESULT around each snapshot
 * tried, REFUSED for each file moved aside without being tried, END. */
enum inbox_msg_type {
	INBOX_MSG_BEGIN = 1,	/* starting to read and install name */
	INBOX_MSG_RESULT,	/* the outcome for name: code */
	INBOX_MSG_REFUSED,	/* name moved aside: code (a reason) */
	INBOX_MSG_END		/* the round's figures */
};

/* One message; smaller than PIPE_BUF, so each write is atomic. */
struct inbox_msg {
	int type;			/* enum inbox_msg_type */
	int code;			/* RESULT: SNAPSHOT_OK or a reason;
					   REFUSED: a reason */
	time_t when;
	dev_t dev;			/* of the file named */
	ino_t ino;
	char name[INBOX_NAME_MAX + 1];	/* raw, as in the directory */
	char reason[INBOX_REASON_MAX];	/* printable text, names escaped;
					   the file is not named in it */
	/* RESULT, installed: */
	int snap_type;			/* SNAPSHOT_FULL, SNAPSHOT_DELTA */
	uint64_t serial, base, epoch, records;
	struct catalog_diff diff;
	double seconds;
	int gone;			/* RESULT: vanished before it was read */
	/* END: */
	uint64_t looked;		/* directory entries looked at */
	uint64_t waiting;		/* snapshots left for a later round */
	int scan_cut;			/* INBOX_SCAN_MAX reached */
	int more;			/* a budget ran out: go on soon */
	time_t settle_until;		/* a young file is complete by then
					   (0: none) */
};

/* What a round needs; filled by the parent before it forks. */
struct inbox_round {
	const char *inbox;		/* the directory */
	const char *catalog;		/* the catalog file */
	const char *catalog_id;
	const char *copy_dir;		/* private copies: the catalog's dir */
	const struct sign_keyring *keyring;
	const unsigned char *hash_id;	/* keyed-hash secret id; NULL: clear */
	uint64_t max_size;		/* max_snapshot_size */
	int accept_v1;
	int64_t rejected_keep;
	/* Names the kernel announced complete, and completed temporary
	 * files (dev, ino, size, mtime) whose new name counts as complete. */
	const char (*closed)[INBOX_NAME_MAX + 1];
	size_t nclosed;
	const struct inbox_temp {
		dev_t dev;
		ino_t ino;
		off_t size;
		struct timespec mtime;
	} *temps;
	size_t ntemps;
	/* A file to move aside first (an install that was stopped): only
	 * when it is still the same file. */
	const char *pending_name;	/* NULL: none */
	dev_t pending_dev;
	ino_t pending_ino;
	int pending_code;		/* a reason */
	const char *pending_reason;
	/* INBOX/status: write it (the catalog info and staleness as the
	 * parent knows them; rewritten after each install anyway). */
	int write_status;
	int stale;
	time_t now;
};

/*
 * Run one round, writing messages to fd out; returns when done (the
 * caller exits).  Errors are logged and reported in messages; nothing
 * here exits or aborts on bad input.
 */
void inbox_run_round(const struct inbox_round *r, int out);

/* Text that may already hold escapes, made printable: only bytes that
 * are not printable ASCII become \xNN (idempotent on escaped text).
 * Names are escaped with kvtext_escape(). */
char *inbox_printable(const char *s, char *out, size_t size);

/*
 * Parse an inbox file name against catalog id: 1 with *serial and *type
 * for ID.SERIAL.full.snap and ID.BASE-SERIAL.delta.snap; 0 otherwise, with
 * *other set when it is a snapshot name of another catalog id.
 */
int inbox_parse_name(const char *name, const char *id, uint64_t *serial,
		     int *type, int *other);

#endif
