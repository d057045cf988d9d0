/*
 * inbox.c - one round of work on the inbox, in a child process; see
 * inbox.h.
 *
 * The inbox belongs to the upload account, so everything here is done
 * through descriptors: the directory is opened once, its entries looked
 * at with fstatat(AT_SYMLINK_NOFOLLOW), files opened with openat(O_NOFOLLOW
 * | O_NONBLOCK), moved with renameat() into INBOX/rejected (a directory we
 * made and own, checked by its owner), and the files we write (.reason,
 * status) created with O_EXCL | O_NOFOLLOW under a dot name and renamed
 * into place, so no name planted in advance can redirect a write.
 *
 * Order of a round: the pending file first (an install that was stopped),
 * then the scan: what is not a regular file, not complete yet, or not a
 * snapshot name is dealt with on the way; the snapshots found are sorted
 * and tried lowest serial first.  Budgets (INBOX_*_MAX) bound every round;
 * when one runs out the round says so (more) and the parent starts the
 * next one after a pause.  The .reason files of a round are made durable
 * together by one syncfs() at its end, not one fsync each.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "apply.h"
#include "catalog.h"
#include "inbox.h"
#include "kvtext.h"
#include "log.h"
#include "nodestatus.h"
#include "snapshot.h"
#include "util.h"

#define INBOX_SUFFIX_LEN   7	/* strlen(".reason") */

/* One write of a message must be atomic, and the parent reads whole ones. */
_Static_assert(sizeof(struct inbox_msg) <= PIPE_BUF, "inbox_msg size");

/* Label values of dircat_catalogd_refusals_total{reason=...}. */
static const char *const inbox_reason_names[INBOX_REASONS] = {
	[SNAPSHOT_E_IO] = "cannot_read",
	[SNAPSHOT_E_TRUNCATED] = "truncated",
	[SNAPSHOT_E_TOO_LARGE] = "too_large",
	[SNAPSHOT_E_BAD_MAGIC] = "not_a_snapshot",
	[SNAPSHOT_E_BAD_VERSION] = "bad_version",
	[SNAPSHOT_E_UNKNOWN_FLAGS] = "unknown_flags",
	[SNAPSHOT_E_BAD_FIELD] = "bad_header",
	[SNAPSHOT_E_TRAILING_DATA] = "trailing_data",
	[SNAPSHOT_E_UNKNOWN_KEY] = "unknown_key",
	[SNAPSHOT_E_BAD_HASH] = "bad_hash",
	[SNAPSHOT_E_BAD_SIGNATURE] = "bad_signature",
	[SNAPSHOT_E_BAD_RECORD] = "bad_record",
	[SNAPSHOT_E_WRONG_CATALOG] = "wrong_catalog",
	[SNAPSHOT_E_ROLLBACK] = "rollback",
	[SNAPSHOT_E_WRONG_BASE] = "wrong_base",
	[SNAPSHOT_E_EXPIRED] = "expired",
	[SNAPSHOT_E_NOT_REGULAR] = "not_regular",
	[SNAPSHOT_E_WRONG_SECRET] = "wrong_secret",
	[INBOX_R_BAD_NAME] = "bad_name",
	[INBOX_R_OTHER_NAME] = "other_catalog_name",
	[INBOX_R_FAILED] = "install_failed",
	[INBOX_R_TIMEOUT] = "install_timeout",
};

/* A snapshot found by the scan. */
struct inbox_cand {
	uint64_t serial;
	int type;
	dev_t dev;
	ino_t ino;
	char name[INBOX_NAME_MAX + 1];
};

/* The state of one round. */
struct inbox_ctx {
	const struct inbox_round *r;
	int out;		/* the message pipe */
	int dfd;		/* the inbox */
	int rejfd;		/* INBOX/rejected, ours; -1: remove instead */
	struct catalog *cat;	/* opened on first use */
	unsigned refused;	/* files refused this round */
	unsigned unlogged;	/* refusals past INBOX_LOG_MAX */
	unsigned moved;		/* files moved into rejected/ */
	unsigned tried;		/* snapshots opened */
	int more;		/* a budget ran out */
	int catalog_trouble;	/* stop trying: our own problem */
	int clear_refused;	/* the snapshot refused next holds addresses
				   in clear for a keyed-hash catalog: removed,
				   never kept in rejected/ */
	time_t settle_until;
};

const char *inbox_reason_name(int why)
{
	return why > SNAPSHOT_OK && why < INBOX_REASONS ?
		       inbox_reason_names[why] : NULL;
}

char *inbox_printable(const char *s, char *out, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (size == 0)
		return out;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x20 && c < 0x7f) {
			if (o + 1 >= size)
				break;
			out[o++] = (char)c;
		} else {
			if (o + 4 >= size)
				break;
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return out;
}

/* A serial as the writers spell it: [1-9][0-9]*, len bytes at s.  No
 * sign, space, line break or leading zero, so that one serial has one
 * name. */
static int inbox_number(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || s[0] == '0')
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

int inbox_parse_name(const char *name, const char *id, uint64_t *serial,
		     int *type, int *other)
{
	size_t n = strlen(name), idlen = strlen(id);
	const char *p, *num;
	char digits[48];
	size_t len;
	int64_t v;

	*other = 0;
	if (n > 14 && !strcmp(name + n - 10, ".full.snap")) {
		*type = SNAPSHOT_FULL;
		n -= 10;
	} else if (n > 15 && !strcmp(name + n - 11, ".delta.snap")) {
		*type = SNAPSHOT_DELTA;
		n -= 11;
	} else {
		return 0;
	}
	/* name[0..n) = id "." number(s) */
	p = name + n;
	while (p > name && p[-1] != '.')
		p--;
	if (p == name)
		return 0;
	num = p;
	len = (size_t)(name + n - num);
	if ((size_t)(num - 1 - name) != idlen || memcmp(name, id, idlen)) {
		*other = 1;
		return 0;
	}
	if (*type == SNAPSHOT_DELTA) {
		const char *dash = memchr(num, '-', len);
		size_t blen = dash ? (size_t)(dash - num) : 0;

		/* The base is digits too: BASE-SERIAL. */
		if (!dash || blen == 0 || blen >= sizeof(digits) ||
		    !inbox_number(num, blen))
			return 0;
		memcpy(digits, num, blen);
		digits[blen] = '\0';
		if (util_parse_int(digits, 1, INT64_MAX, &v) < 0)
			return 0;
		len -= blen + 1;
		num = dash + 1;
	}
	if (len == 0 || len >= sizeof(digits) || !inbox_number(num, len))
		return 0;
	memcpy(digits, num, len);
	digits[len] = '\0';
	if (util_parse_int(digits, 1, INT64_MAX, &v) < 0)
		return 0;
	*serial = (uint64_t)v;
	return 1;
}

/* ------------------------------------------------------------ messages */

/* Send m; when the parent is gone there is nobody to work for. */
static void inbox_send(struct inbox_ctx *c, struct inbox_msg *m)
{
	const char *p = (const char *)m;
	size_t left = sizeof(*m);

	if (!m->when)
		m->when = time(NULL);
	while (left) {
		ssize_t n = write(c->out, p, left);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(3);
		p += n;
		left -= (size_t)n;
	}
}

/* A message about name. */
static void inbox_msg_init(struct inbox_msg *m, int type, const char *name,
			   dev_t dev, ino_t ino)
{
	memset(m, 0, sizeof(*m));
	m->type = type;
	m->dev = dev;
	m->ino = ino;
	if (name)
		util_copy_fit(m->name, name, sizeof(m->name));
}

/* --------------------------------------------------------------- files */

/*
 * Write data to dir/name atomically: a dot name of our own made with
 * O_EXCL | O_NOFOLLOW (nothing planted there is followed or reused),
 * written, fsynced when sync is set, renamed over name.  0, or -1 with
 * err.
 */
static int inbox_write_at(int dir, const char *name, const void *data,
			  size_t len, mode_t mode, int sync, char *err,
			  size_t errlen)
{
	static unsigned seq;
	char tmp[NAME_MAX + 1];
	const char *p = data;
	int fd, n;

	n = snprintf(tmp, sizeof(tmp), ".%.200s.tmp.%ld.%u", name,
		     (long)getpid(), seq++);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		util_err(err, errlen, "name too long");
		return -1;
	}
	(void)unlinkat(dir, tmp, 0);
	fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, mode);
	if (fd < 0) {
		util_err(err, errlen, "create: %s", strerror(errno));
		return -1;
	}
	/* The umask may have taken bits away: readers need these. */
	(void)fchmod(fd, mode);
	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			util_err(err, errlen, "write: %s", strerror(errno));
			close(fd);
			unlinkat(dir, tmp, 0);
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	if ((sync && fsync(fd) < 0) || close(fd) < 0 ||
	    renameat(dir, tmp, dir, name) < 0) {
		util_err(err, errlen, "%s", strerror(errno));
		unlinkat(dir, tmp, 0);
		return -1;
	}
	if (sync)
		(void)fsync(dir);
	return 0;
}

/* INBOX/rejected as a directory of ours, made when missing; -1 when it is
 * something else (then refused files are removed). */
static int inbox_open_rejected(int dfd)
{
	struct stat st;
	int fd;

	if (mkdirat(dfd, INBOX_REJECTED_DIR, 0750) < 0 && errno != EEXIST)
		log_error("inbox: cannot make %s: %s", INBOX_REJECTED_DIR,
			  strerror(errno));
	fd = openat(dfd, INBOX_REJECTED_DIR, O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		log_error("inbox: %s is not a directory catalogd can use (%s): "
			  "refused files are removed", INBOX_REJECTED_DIR,
			  strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || st.st_uid != geteuid()) {
		log_error("inbox: %s belongs to another account: refused files "
			  "are removed", INBOX_REJECTED_DIR);
		close(fd);
		return -1;
	}
	return fd;
}

/* rejected/NAME.reason: time, file and reason (escaped by the format). */
static void inbox_write_reason(struct inbox_ctx *c, const char *rname,
			       const char *name, time_t now,
			       const char *reason)
{
	struct nodestatus_refusal rf;
	char err[256], q[INBOX_ESCAPED_MAX];
	struct buf b;

	memset(&rf, 0, sizeof(rf));
	rf.time = (int64_t)now;
	util_copy_fit(rf.file, name, sizeof(rf.file));
	util_copy_text(rf.reason, reason, sizeof(rf.reason));
	buf_init(&b, NODESTATUS_REFUSAL_MAX + 1);
	if (nodestatus_refusal_format(&rf, &b, err, sizeof(err)) < 0 ||
	    inbox_write_at(c->rejfd, rname, b.data, b.len, 0644, 0, err,
			   sizeof(err)) < 0)
		log_error("inbox: %s/%s: %s", INBOX_REJECTED_DIR,
			  kvtext_escape(rname, strlen(rname), q, sizeof(q)),
			  err);
	buf_free(&b);
}

/*
 * Refuse name: log it (the first INBOX_LOG_MAX of a round), move it into
 * rejected/ with its .reason (or remove it), tell the parent with a
 * message of type type (REFUSED, or RESULT for a snapshot tried).
 */
static void inbox_refuse(struct inbox_ctx *c, int type, const char *name,
			 dev_t dev, ino_t ino, int why, const char *reason)
{
	char q[INBOX_ESCAPED_MAX], rname[NAME_MAX + 1];
	struct inbox_msg m;
	time_t now = time(NULL);
	int n, clear = c->clear_refused;

	c->clear_refused = 0;
	kvtext_escape(name, strlen(name), q, sizeof(q));
	c->refused++;
	if (c->refused <= INBOX_LOG_MAX)
		log_warn("refused %s: %s%s", q, reason, clear ?
			 " (removed, not kept in " INBOX_REJECTED_DIR
			 "/: its addresses are in clear)" : "");
	else
		c->unlogged++;
	/* At most rejected_keep kept a round: more would only be pruned
	 * again at its end, and a flood of junk costs one unlink each.
	 * A keyed-hash catalog keeps no clear addresses on this disk, not
	 * even in a refused snapshot: removed, only its .reason kept. */
	if (clear || c->moved >= (unsigned)c->r->rejected_keep ||
	    c->rejfd < 0) {
		if (unlinkat(c->dfd, name, 0) < 0 && errno != ENOENT)
			log_error("inbox: remove %s: %s", q, strerror(errno));
		n = snprintf(rname, sizeof(rname), "%s.reason", name);
		if (clear && c->rejfd >= 0 &&
		    c->moved < (unsigned)c->r->rejected_keep && n > 0 &&
		    (size_t)n < sizeof(rname)) {
			char text[INBOX_REASON_MAX + 80];

			c->moved++;
			snprintf(text, sizeof(text), "%s (the file was removed, "
				 "not kept here: its addresses are in clear)",
				 reason);
			inbox_write_reason(c, rname, name, now, text);
		}
	} else if (renameat(c->dfd, name, c->rejfd, name) < 0) {
		if (errno != ENOENT)
			log_error("inbox: move %s to %s/: %s", q,
				  INBOX_REJECTED_DIR, strerror(errno));
		(void)unlinkat(c->dfd, name, 0);
	} else {
		c->moved++;
		n = snprintf(rname, sizeof(rname), "%s.reason", name);
		if (n < 0 || (size_t)n >= sizeof(rname))
			/* No room for ".reason" in a name: keep nothing. */
			(void)unlinkat(c->rejfd, name, 0);
		else
			inbox_write_reason(c, rname, name, now, reason);
	}
	inbox_msg_init(&m, type, name, dev, ino);
	m.code = why;
	m.when = now;
	util_copy_text(m.reason, reason, sizeof(m.reason));
	inbox_send(c, &m);
}

/* Keep only the newest rejected_keep refused files. */
static void inbox_prune(struct inbox_ctx *c)
{
	struct entry {
		char name[INBOX_NAME_MAX + 1];
		struct timespec mtime;
	} *e = NULL;
	size_t n = 0, cap = 0, i, seen = 0;
	size_t keep = (size_t)c->r->rejected_keep;
	struct dirent *de;
	DIR *dp;
	int fd = dup(c->rejfd);

	if (fd < 0 || !(dp = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(dp)) != NULL && seen++ < INBOX_SCAN_MAX) {
		size_t len = strlen(de->d_name);
		struct stat st;

		if (len <= INBOX_SUFFIX_LEN ||
		    strcmp(de->d_name + len - INBOX_SUFFIX_LEN, ".reason") ||
		    fstatat(c->rejfd, de->d_name, &st,
			    AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			e = xrealloc(e, cap * sizeof(*e));
		}
		util_copy_fit(e[n].name, de->d_name, sizeof(e[n].name));
		e[n].mtime = st.st_mtim;
		n++;
	}
	closedir(dp);
	while (n > keep) {
		size_t oldest = 0;

		for (i = 1; i < n; i++) {
			const struct timespec *a = &e[i].mtime;
			const struct timespec *b = &e[oldest].mtime;

			if (a->tv_sec < b->tv_sec ||
			    (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec))
				oldest = i;
		}
		(void)unlinkat(c->rejfd, e[oldest].name, 0);
		/* The refused file itself: the name without ".reason". */
		e[oldest].name[strlen(e[oldest].name) - INBOX_SUFFIX_LEN] = '\0';
		(void)unlinkat(c->rejfd, e[oldest].name, 0);
		e[oldest] = e[--n];
	}
	free(e);
}

/* ---------------------------------------------------------- the catalog */

/* The catalog, opened on first use; NULL (logged) when it cannot be. */
static struct catalog *inbox_catalog(struct inbox_ctx *c, char *err,
				     size_t errlen)
{
	if (!c->cat)
		c->cat = catalog_open(c->r->catalog, 0, err, errlen);
	return c->cat;
}

/* INBOX/status from the catalog as it is now. */
static void inbox_write_status(struct inbox_ctx *c, int stale)
{
	struct nodestatus st;
	struct catalog_info i;
	char err[512];
	struct buf b;

	if (!inbox_catalog(c, err, sizeof(err)) ||
	    catalog_info(c->cat, &i, err, sizeof(err)) < 0) {
		log_error("status file: %s", err);
		return;
	}
	memset(&st, 0, sizeof(st));
	util_copy_fit(st.catalog_id, i.id[0] ? i.id : c->r->catalog_id,
		      sizeof(st.catalog_id));
	st.epoch = i.epoch;
	st.serial = i.serial;
	st.created = i.created;
	st.expires = i.expires;
	st.installed = i.installed;
	util_copy_fit(st.key_id, i.key_id, sizeof(st.key_id));
	st.stale = stale;
	buf_init(&b, NODESTATUS_MAX + 1);
	if (nodestatus_format(&st, &b, err, sizeof(err)) < 0 ||
	    inbox_write_at(c->dfd, INBOX_STATUS_FILE, b.data, b.len, 0644, 1,
			   err, sizeof(err)) < 0)
		log_error("status file %s/%s: %s", c->r->inbox,
			  INBOX_STATUS_FILE, err);
	buf_free(&b);
}

/* ------------------------------------------------------------ the scan */

/* Was name announced complete by the kernel, or is it a completed
 * temporary file under a new name? */
static int inbox_announced(const struct inbox_round *r, const char *name,
			   const struct stat *st)
{
	size_t i;

	for (i = 0; i < r->nclosed; i++)
		if (!strcmp(r->closed[i], name))
			return 1;
	for (i = 0; i < r->ntemps; i++)
		if (r->temps[i].ino && r->temps[i].dev == st->st_dev &&
		    r->temps[i].ino == st->st_ino &&
		    r->temps[i].size == st->st_size &&
		    r->temps[i].mtime.tv_sec == st->st_mtim.tv_sec &&
		    r->temps[i].mtime.tv_nsec == st->st_mtim.tv_nsec)
			return 1;
	return 0;
}

/* What a file that is not a regular one is, for its reason. */
static const char *inbox_kind(mode_t mode)
{
	return S_ISFIFO(mode) ? "a FIFO" : S_ISLNK(mode) ? "a symbolic link" :
	       S_ISDIR(mode) ? "a directory" : S_ISSOCK(mode) ? "a socket" :
	       S_ISCHR(mode) || S_ISBLK(mode) ? "a device" : "a special file";
}

/* Refuse with a reason built here; false when the budget is spent. */
static int inbox_refuse_why(struct inbox_ctx *c, const char *name,
			    const struct stat *st, int why, const char *what)
{
	if (c->refused >= INBOX_REJECT_MAX) {
		c->more = 1;
		return 0;
	}
	inbox_refuse(c, INBOX_MSG_REFUSED, name, st->st_dev, st->st_ino, why,
		     what);
	return 1;
}

/* Sort snapshots lowest serial first, a full one before a delta. */
static int inbox_cand_cmp(const void *a, const void *b)
{
	const struct inbox_cand *x = a, *y = b;

	if (x->serial != y->serial)
		return x->serial < y->serial ? -1 : 1;
	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	return strcmp(x->name, y->name);
}

/*
 * Look at up to INBOX_SCAN_MAX entries: move aside what is not a regular
 * file or has no snapshot name, skip what may still be written, and
 * collect the snapshots in *cands (malloc'd, *n of them).
 */
static void inbox_scan(struct inbox_ctx *c, struct inbox_cand **cands,
		       size_t *n, struct inbox_msg *end)
{
	const struct inbox_round *r = c->r;
	struct inbox_cand *v = NULL;
	size_t cap = 0, seen = 0;
	struct dirent *de;
	DIR *dp;
	int fd = dup(c->dfd);

	*n = 0;
	if (fd < 0 || !(dp = fdopendir(fd))) {
		log_error("inbox %s: %s", r->inbox, strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(dp)) != NULL) {
		const char *name = de->d_name;
		size_t len = strlen(name);
		uint64_t serial;
		struct stat st;
		int type, other;

		if (seen == INBOX_SCAN_MAX) {
			end->scan_cut = 1;
			c->more = 1;
			break;
		}
		seen++;
		if (name[0] == '.' || len < 5 || strcmp(name + len - 5, ".snap"))
			continue;
		if (fstatat(c->dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;	/* gone meanwhile */
		if (!S_ISREG(st.st_mode)) {
			char what[64];

			/* Never opened: moved aside with a reason. */
			snprintf(what, sizeof(what), "%s: %s",
				 snapshot_strerror(SNAPSHOT_E_NOT_REGULAR),
				 inbox_kind(st.st_mode));
			inbox_refuse_why(c, name, &st, SNAPSHOT_E_NOT_REGULAR,
					 what);
			continue;
		}
		if (!inbox_announced(r, name, &st) &&
		    st.st_mtime > r->now - INBOX_SETTLE &&
		    st.st_mtime <= r->now + 60) {
			/* Maybe still being written: look again later. */
			if (!c->settle_until ||
			    st.st_mtime + INBOX_SETTLE < c->settle_until)
				c->settle_until = st.st_mtime + INBOX_SETTLE;
			continue;
		}
		if (!inbox_parse_name(name, r->catalog_id, &serial, &type,
				      &other)) {
			char what[256];

			if (other)
				snprintf(what, sizeof(what), "file name is not "
					 "for catalog %s", r->catalog_id);
			else
				snprintf(what, sizeof(what), "file name is not "
					 "ID.SERIAL.full.snap or "
					 "ID.BASE-SERIAL.delta.snap");
			inbox_refuse_why(c, name, &st, other ?
					 INBOX_R_OTHER_NAME : INBOX_R_BAD_NAME,
					 what);
			continue;
		}
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			v = xrealloc(v, cap * sizeof(*v));
		}
		v[*n].serial = serial;
		v[*n].type = type;
		v[*n].dev = st.st_dev;
		v[*n].ino = st.st_ino;
		util_copy_fit(v[*n].name, name, sizeof(v[*n].name));
		(*n)++;
	}
	closedir(dp);
	end->looked = seen;
	if (*n > 1)
		qsort(v, *n, sizeof(*v), inbox_cand_cmp);
	*cands = v;
}

/* ------------------------------------------------------------- install */

/* A reader's message as a reason: without the "LABEL: " it starts with
 * (the file is named beside the reason), printable. */
static void inbox_reason(const char *err, const char *label, char *out,
			 size_t size)
{
	size_t n = strlen(label);

	if (!strncmp(err, label, n) && !strncmp(err + n, ": ", 2))
		err += n + 2;
	inbox_printable(err, out, size);
}

/* Read, verify and install one snapshot; the outcome goes in m. */
static void inbox_install(struct inbox_ctx *c, const struct inbox_cand *f,
			  struct inbox_msg *m)
{
	const struct inbox_round *r = c->r;
	struct snapshot_source src = { .copy_dir = r->copy_dir,
				       .max_size = r->max_size,
				       .accept_v1 = r->accept_v1 };
	char label[INBOX_ESCAPED_MAX], err[INBOX_REASON_MAX];
	struct snapshot *s;
	int fd;

	kvtext_escape(f->name, strlen(f->name), label, sizeof(label));
	/* Whoever writes the inbox may have put a link, a FIFO or a device
	 * here since the scan: never follow, never wait. */
	fd = openat(c->dfd, f->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
		    O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		m->code = errno == ELOOP ? SNAPSHOT_E_NOT_REGULAR
					 : SNAPSHOT_E_IO;
		snprintf(m->reason, sizeof(m->reason), "%s: %s",
			 snapshot_strerror(m->code), errno == ELOOP ?
			 "a symbolic link" : strerror(errno));
		return;
	}
	s = snapshot_read(fd, label, &src, r->keyring, &m->code, err,
			  sizeof(err));
	close(fd);
	if (!s) {
		inbox_reason(err, label, m->reason, sizeof(m->reason));
		return;
	}
	m->snap_type = snapshot_header(s)->type;
	m->serial = snapshot_header(s)->serial;
	m->base = snapshot_header(s)->base;
	m->epoch = snapshot_header(s)->epoch;
	m->records = snapshot_header(s)->records;
	c->clear_refused = r->hash_id &&
		!(snapshot_header(s)->flags & SNAPSHOT_FLAG_KEYED_HASH);
	if (!inbox_catalog(c, err, sizeof(err))) {
		m->code = SNAPSHOT_E_CATALOG;
		inbox_printable(err, m->reason, sizeof(m->reason));
	} else if (apply_snapshot_keyed(s, c->cat, r->catalog_id, r->hash_id,
					(int64_t)time(NULL), &m->diff,
					&m->code, err, sizeof(err)) < 0) {
		inbox_reason(err, label, m->reason, sizeof(m->reason));
	} else {
		m->code = SNAPSHOT_OK;
	}
	snapshot_close(s);
}

/* Try one snapshot: BEGIN, install, then remove, refuse or keep it. */
static void inbox_try(struct inbox_ctx *c, const struct inbox_cand *f)
{
	struct inbox_msg m;
	struct timespec t0, t1;
	char q[INBOX_ESCAPED_MAX];
	struct stat st;

	c->tried++;
	inbox_msg_init(&m, INBOX_MSG_BEGIN, f->name, f->dev, f->ino);
	inbox_send(c, &m);
	log_info("installing %s",
		 kvtext_escape(f->name, strlen(f->name), q, sizeof(q)));
	inbox_msg_init(&m, INBOX_MSG_RESULT, f->name, f->dev, f->ino);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	inbox_install(c, f, &m);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	m.seconds = (double)(t1.tv_sec - t0.tv_sec) +
		    (t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (m.code == SNAPSHOT_OK) {
		if (unlinkat(c->dfd, f->name, 0) < 0 && errno != ENOENT)
			log_error("remove %s: %s", q, strerror(errno));
		inbox_write_status(c, 0);
		inbox_send(c, &m);
	} else if (m.code == SNAPSHOT_E_CATALOG) {
		/* Our trouble, not the file's: keep it, try again later. */
		c->catalog_trouble = 1;
		inbox_send(c, &m);
	} else if (m.code == SNAPSHOT_E_IO &&
		   fstatat(c->dfd, f->name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		/* Gone before it could be read: nothing to refuse. */
		m.gone = 1;
		inbox_send(c, &m);
	} else {
		if (!m.reason[0])
			util_copy_fit(m.reason, snapshot_strerror(m.code),
				      sizeof(m.reason));
		inbox_refuse(c, INBOX_MSG_RESULT, f->name, f->dev, f->ino,
			     m.code, m.reason);
	}
	c->clear_refused = 0;
}

/* The file a stopped install left, moved aside when it is still there. */
static void inbox_pending(struct inbox_ctx *c)
{
	const struct inbox_round *r = c->r;
	struct stat st;

	if (!r->pending_name ||
	    fstatat(c->dfd, r->pending_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    st.st_dev != r->pending_dev || st.st_ino != r->pending_ino)
		return;
	inbox_refuse_why(c, r->pending_name, &st, r->pending_code,
			 r->pending_reason ? r->pending_reason : "stopped");
}

void inbox_run_round(const struct inbox_round *r, int out)
{
	struct inbox_ctx c;
	struct inbox_cand *cands = NULL;
	struct inbox_msg end;
	size_t n = 0, i;

	memset(&c, 0, sizeof(c));
	c.r = r;
	c.out = out;
	c.rejfd = -1;
	inbox_msg_init(&end, INBOX_MSG_END, NULL, 0, 0);
	c.dfd = open(r->inbox, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c.dfd < 0) {
		log_error("inbox %s: %s", r->inbox, strerror(errno));
		inbox_send(&c, &end);
		return;
	}
	if (r->rejected_keep > 0)
		c.rejfd = inbox_open_rejected(c.dfd);
	if (r->write_status)
		inbox_write_status(&c, r->stale);
	inbox_pending(&c);
	inbox_scan(&c, &cands, &n, &end);
	for (i = 0; i < n && !c.catalog_trouble; i++) {
		if (c.tried == INBOX_TRY_MAX || c.refused >= INBOX_REJECT_MAX) {
			c.more = 1;
			break;
		}
		inbox_try(&c, &cands[i]);
	}
	end.waiting = n - i;
	free(cands);
	if (c.unlogged)
		log_warn("refused %u more files in this round (dircat status "
			 "and the metrics count them by reason)", c.unlogged);
	if (c.moved) {
		inbox_prune(&c);
		/* The .reason files of the round, durable at once. */
		if (syncfs(c.rejfd) < 0)
			log_error("inbox: sync %s: %s", INBOX_REJECTED_DIR,
				  strerror(errno));
	}
	end.more = c.more;
	end.settle_until = c.settle_until;
	inbox_send(&c, &end);
	if (c.cat)
		catalog_close(c.cat);
	if (c.rejfd >= 0)
		close(c.rejfd);
	close(c.dfd);
}
