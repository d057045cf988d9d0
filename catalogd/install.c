/*
 * install.c - catalogd's inbox: snapshots arrive as
 *   <catalog_id>.<serial>.full.snap  or  <catalog_id>.<base>-<serial>.delta.snap
 * and are installed one at a time, lowest serial first.
 *
 * The inbox is watched with inotify (a completed write or a rename into
 * it) and rescanned every rescan_interval.  OpenSSH's sftp server carries
 * out an SFTP rename as link() then unlink(), which inotify reports as a
 * creation, not a rename: so the inodes of completed temporary (dot)
 * files are remembered, and a new name for one of them is complete too.  A file that no event announced
 * must have been left alone for INSTALL_SETTLE seconds first, so a
 * rescan does not pick up a file still being written.  Each install runs
 * in a child process (snapshot_open() verifies, snapshot_apply() writes
 * one LMDB transaction) while the parent keeps answering from read
 * transactions; the child dies with the parent (PR_SET_PDEATHSIG), and
 * an interrupted install leaves the old catalog whole.  The child reports
 * a fixed-size result over a pipe.  Installed files are removed; refused
 * ones move to INBOX/rejected/ with a .reason file next to them (the
 * newest rejected_keep are kept).  INBOX/status is rewritten atomically
 * after every install, at start-up and when the catalog goes stale.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "apply.h"
#include "catalogd.h"
#include "ctlproto.h"
#include "log.h"
#include "metrics.h"
#include "nodestatus.h"
#include "snapshot.h"
#include "util.h"

#define INSTALL_SETTLE     5	/* seconds a file without event must rest */
#define INSTALL_CLOSED_MAX 64	/* names announced by inotify, remembered */
#define INSTALL_TEMPS_MAX  64	/* completed temporary files, remembered */
#define INSTALL_REASON_MAX 600	/* a refusal reason */
#define INSTALL_NAME_MAX   255	/* a file name in the inbox */
#define INSTALL_SCAN_MAX   100000	/* directory entries looked at per scan */
#define INSTALL_NICE       10	/* the install process's CPU priority */
#define INSTALL_STATUS_FILE "status"
#define INSTALL_REJECTED_DIR "rejected"

/*
 * Why a file was refused, for the refusal counters: the snapshot codes
 * (verification and install checks), then reasons of the inbox's own.
 * SNAPSHOT_OK and SNAPSHOT_E_CATALOG are no refusals (the latter is our
 * own trouble: the file stays and is tried again).
 */
enum {
	INSTALL_R_BAD_NAME = SNAPSHOT_E_COUNT,	/* not ID.SERIAL.full.snap */
	INSTALL_R_OTHER_NAME,	/* a file name of another catalog id */
	INSTALL_R_FAILED,	/* the install process died */
	INSTALL_R_TIMEOUT,	/* the install took longer than allowed */
	INSTALL_REASONS
};

/* Label values of dircat_catalogd_refusals_total{reason=...}. */
static const char *const install_reason_names[INSTALL_REASONS] = {
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
	[INSTALL_R_BAD_NAME] = "bad_name",
	[INSTALL_R_OTHER_NAME] = "other_catalog_name",
	[INSTALL_R_FAILED] = "install_failed",
	[INSTALL_R_TIMEOUT] = "install_timeout",
};

/* What the child sends back: one write, smaller than PIPE_BUF. */
struct install_result {
	int done;		/* 1: the child got to the end */
	int code;		/* enum snapshot_code */
	int type;		/* SNAPSHOT_FULL or SNAPSHOT_DELTA */
	uint64_t serial, base, records;
	struct catalog_diff diff;
	double seconds;
	char reason[INSTALL_REASON_MAX];
};

struct install {
	int ino_ev;		/* EV_INOTIFY */
	int inofd;
	int pipe_ev;		/* EV_INSTALL */
	int pipefd;
	pid_t pid;		/* the running install, or 0 */
	int killed;		/* it ran past install_timeout: killed */
	char copy_dir[PATH_MAX];	/* the private copies: the catalog's
					   directory, catalogd's own */
	char current[INSTALL_NAME_MAX + 1];
	double t0;
	time_t next_scan;	/* when a rescan is due */
	char closed[INSTALL_CLOSED_MAX][INSTALL_NAME_MAX + 1];
	size_t nclosed;
	struct {
		dev_t dev;
		ino_t ino;
		off_t size;
		struct timespec mtime;
	} temps[INSTALL_TEMPS_MAX];	/* ring of completed dot files */
	size_t ntemps;
	int last_stale;
	/* For dircat status. */
	time_t last_time;
	uint64_t last_serial, last_base, last_records;
	int last_type;
	double last_seconds;
	struct catalog_diff last_diff;
	time_t refused_time;
	char refused_file[INSTALL_NAME_MAX + 1];
	char refused_reason[INSTALL_REASON_MAX];
	uint64_t installs, refusals;
	size_t waiting;		/* files seen at the last scan */
	/* For dircat metrics. */
	uint64_t installs_by_type[3];	/* [SNAPSHOT_FULL], [SNAPSHOT_DELTA] */
	uint64_t refused_by[INSTALL_REASONS];
	uint64_t install_errors;	/* catalog writes that failed */
	uint64_t timeouts;	/* installs stopped at install_timeout */
	time_t timeout_time;	/* the last one */
};

static double install_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* "full" or "delta from 11". */
static const char *install_type(int type, uint64_t base, char *buf,
				size_t size)
{
	if (type == SNAPSHOT_FULL)
		return "full";
	snprintf(buf, size, "delta from %llu", (unsigned long long)base);
	return buf;
}

/* Join dir and name into out; -1 when too long. */
static int install_path(char *out, size_t size, const char *dir,
			const char *name)
{
	int n = snprintf(out, size, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/*
 * Parse an inbox file name.  Returns 1 with *serial and *type, 0 when the
 * name is not a snapshot's (or names another catalog: *other set).
 */
static int install_parse_name(const char *name, const char *id,
			      uint64_t *serial, int *type, int *other)
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

		if (!dash)
			return 0;
		len -= (size_t)(dash + 1 - num);
		num = dash + 1;
	}
	if (len == 0 || len >= sizeof(digits))
		return 0;
	memcpy(digits, num, len);
	digits[len] = '\0';
	if (util_parse_int(digits, 1, INT64_MAX, &v) < 0)
		return 0;
	*serial = (uint64_t)v;
	return 1;
}

static void install_mark_closed(struct install *in, const char *name);

/*
 * A temporary file's writer closed it: remember its inode, so that the
 * name it is linked to counts as complete.  When it is already gone (the
 * link and unlink came before this event was read), fall back on the
 * replicator's naming: ".NAME.part" becomes NAME.
 */
static void install_temp_done(struct daemon *d, const char *name)
{
	struct install *in = d->install;
	char path[PATH_MAX], final[INSTALL_NAME_MAX + 1];
	size_t len = strlen(name), i;
	struct stat st;

	if (install_path(path, sizeof(path), d->conf->inbox, name) < 0)
		return;
	if (lstat(path, &st) == 0) {
		if (!S_ISREG(st.st_mode))
			return;
		i = in->ntemps++ % INSTALL_TEMPS_MAX;
		in->temps[i].dev = st.st_dev;
		in->temps[i].ino = st.st_ino;
		in->temps[i].size = st.st_size;
		in->temps[i].mtime = st.st_mtim;
		return;
	}
	if (len > 6 && len - 6 <= INSTALL_NAME_MAX &&
	    !strcmp(name + len - 5, ".part")) {
		memcpy(final, name + 1, len - 6);
		final[len - 6] = '\0';
		install_mark_closed(in, final);
	}
}

/*
 * Is name (st) a completed temporary file under its final name?  The same
 * inode, size and modification time; the entry is used up, and the name
 * remembered instead, so that a later file reusing the inode number is
 * not mistaken for it.
 */
static int install_temp_known(struct install *in, const char *name,
			      const struct stat *st)
{
	size_t i, n = in->ntemps < INSTALL_TEMPS_MAX ? in->ntemps
						     : INSTALL_TEMPS_MAX;

	for (i = 0; i < n; i++)
		if (in->temps[i].dev == st->st_dev &&
		    in->temps[i].ino == st->st_ino &&
		    in->temps[i].size == st->st_size &&
		    in->temps[i].mtime.tv_sec == st->st_mtim.tv_sec &&
		    in->temps[i].mtime.tv_nsec == st->st_mtim.tv_nsec) {
			in->temps[i].ino = 0;
			in->temps[i].dev = 0;
			install_mark_closed(in, name);
			return 1;
		}
	return 0;
}

/* Was name announced by an inotify event?  Remove it when asked. */
static int install_closed(struct install *in, const char *name, int take)
{
	size_t i;

	for (i = 0; i < in->nclosed; i++)
		if (!strcmp(in->closed[i], name)) {
			if (take) {
				memmove(in->closed[i], in->closed[i + 1],
					(in->nclosed - i - 1) *
						sizeof(in->closed[0]));
				in->nclosed--;
			}
			return 1;
		}
	return 0;
}

/* Remember that name was announced complete (oldest forgotten first). */
static void install_mark_closed(struct install *in, const char *name)
{
	if (install_closed(in, name, 0) || strlen(name) > INSTALL_NAME_MAX)
		return;
	if (in->nclosed == INSTALL_CLOSED_MAX) {
		memmove(in->closed[0], in->closed[1],
			(INSTALL_CLOSED_MAX - 1) * sizeof(in->closed[0]));
		in->nclosed--;
	}
	util_strlcpy(in->closed[in->nclosed++], name, sizeof(in->closed[0]));
}

void install_write_status(struct daemon *d)
{
	const struct catalog_info *i = &d->info;
	struct nodestatus st;
	char path[PATH_MAX], err[512];

	if (install_path(path, sizeof(path), d->conf->inbox,
			 INSTALL_STATUS_FILE) < 0)
		return;
	memset(&st, 0, sizeof(st));
	util_strlcpy(st.catalog_id, i->id[0] ? i->id : d->conf->catalog_id,
		     sizeof(st.catalog_id));
	st.serial = i->serial;
	st.created = i->created;
	st.expires = i->expires;
	st.installed = i->installed;
	util_strlcpy(st.key_id, i->key_id, sizeof(st.key_id));
	st.stale = d->st.stale;
	if (nodestatus_write(path, &st, err, sizeof(err)) < 0)
		log_error("status file: %s", err);
	if (d->install)
		d->install->last_stale = d->st.stale;
}

/* Keep only the newest rejected_keep refused files. */
static void install_prune_rejected(struct daemon *d, const char *dir)
{
	struct entry {
		char name[INSTALL_NAME_MAX + 1];
		struct timespec mtime;
	} *e = NULL;
	size_t n = 0, cap = 0, i, keep = (size_t)d->conf->rejected_keep;
	struct dirent *de;
	DIR *dp = opendir(dir);

	if (!dp)
		return;
	while ((de = readdir(dp)) != NULL && n < INSTALL_SCAN_MAX) {
		size_t len = strlen(de->d_name);
		char path[PATH_MAX];
		struct stat st;

		if (len < 8 || strcmp(de->d_name + len - 7, ".reason") ||
		    install_path(path, sizeof(path), dir, de->d_name) < 0 ||
		    stat(path, &st) < 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			e = xrealloc(e, cap * sizeof(*e));
		}
		util_strlcpy(e[n].name, de->d_name, sizeof(e[n].name));
		e[n].mtime = st.st_mtim;
		n++;
	}
	closedir(dp);
	while (n > keep) {
		size_t oldest = 0;
		char path[PATH_MAX];

		for (i = 1; i < n; i++) {
			const struct timespec *a = &e[i].mtime;
			const struct timespec *b = &e[oldest].mtime;

			if (a->tv_sec < b->tv_sec ||
			    (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec))
				oldest = i;
		}
		if (install_path(path, sizeof(path), dir, e[oldest].name) == 0)
			unlink(path);
		/* The refused file itself: the name without ".reason". */
		e[oldest].name[strlen(e[oldest].name) - 7] = '\0';
		if (install_path(path, sizeof(path), dir, e[oldest].name) == 0)
			unlink(path);
		e[oldest] = e[--n];
	}
	free(e);
}

/* Move a refused file to INBOX/rejected/ and record why (why: what it
 * counts as, a snapshot code or INSTALL_R_*). */
static void install_reject(struct daemon *d, const char *name, int why,
			   const char *reason)
{
	struct install *in = d->install;
	char dir[PATH_MAX], from[PATH_MAX], to[PATH_MAX], rpath[PATH_MAX];
	char err[512], q[LOG_QUOTE_SIZE];
	struct nodestatus_refusal ref;

	log_warn("refused %s: %s", log_quote(name, strlen(name), q, sizeof(q)),
		 reason);
	in->refusals++;
	if (why <= SNAPSHOT_OK || why >= INSTALL_REASONS ||
	    !install_reason_names[why])
		why = INSTALL_R_FAILED;
	in->refused_by[why]++;
	in->refused_time = d->now;
	util_strlcpy(in->refused_file, name, sizeof(in->refused_file));
	util_strlcpy(in->refused_reason, reason, sizeof(in->refused_reason));
	if (install_path(dir, sizeof(dir), d->conf->inbox,
			 INSTALL_REJECTED_DIR) < 0 ||
	    install_path(from, sizeof(from), d->conf->inbox, name) < 0 ||
	    install_path(to, sizeof(to), dir, name) < 0 ||
	    (size_t)snprintf(rpath, sizeof(rpath), "%s.reason", to) >=
		    sizeof(rpath)) {
		unlink(from);
		return;
	}
	if (d->conf->rejected_keep == 0) {
		unlink(from);
		return;
	}
	if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
		log_error("%s: %s; removing the refused file", dir,
			  strerror(errno));
		unlink(from);
		return;
	}
	if (rename(from, to) < 0) {
		if (errno != ENOENT)
			log_error("move %s to %s: %s", from, dir,
				  strerror(errno));
		unlink(from);
		return;
	}
	memset(&ref, 0, sizeof(ref));
	ref.time = (int64_t)d->now;
	util_strlcpy(ref.file, name, sizeof(ref.file));
	util_strlcpy(ref.reason, reason, sizeof(ref.reason));
	if (nodestatus_refusal_write(rpath, &ref, err, sizeof(err)) < 0)
		log_error("%s", err);
	install_prune_rejected(d, dir);
}

/* The child: verify, apply, report, exit.  Never returns. */
static void install_child(struct daemon *d, const char *path,
			  const char *name, int out)
{
	struct snapshot_source src = { 0 };
	char label[LOG_QUOTE_SIZE];
	struct install_result r;
	struct snapshot *snap;
	int fd;
	struct catalog *cat;
	sigset_t all;
	double t0 = install_mono();

	/* Die with the daemon: an orphan install would race the next. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* Answering lookups comes first; the install may take a bit longer. */
	if (setpriority(PRIO_PROCESS, 0, INSTALL_NICE) < 0)
		(void)0;
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	signal(SIGTERM, SIG_DFL);
	/* Hold no client connection open: readsocket clients wait for
	 * EOF.  Keep stdio and the result pipe only. */
	if (out > 3)
		close_range(3, (unsigned)out - 1, 0);
	close_range((unsigned)out + 1, ~0U, 0);
	log_quote(name, strlen(name), label, sizeof(label));

	memset(&r, 0, sizeof(r));
	/* Whoever writes the inbox may have put a link, a FIFO or a device
	 * here since the scan: never follow, never wait. */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
		  O_CLOEXEC);
	if (fd < 0) {
		r.code = errno == ELOOP ? SNAPSHOT_E_NOT_REGULAR
					: SNAPSHOT_E_IO;
		snprintf(r.reason, sizeof(r.reason), "%s: %s: %s", label,
			 snapshot_strerror(r.code), errno == ELOOP ?
			 "a symbolic link" : strerror(errno));
		snap = NULL;
	} else {
		src.copy_dir = d->install->copy_dir;
		src.max_size = (uint64_t)d->conf->max_snapshot_size;
		src.accept_v1 = d->conf->accept_snapshot_v1;
		snap = snapshot_read(fd, label, &src, d->conf->keyring,
				     &r.code, r.reason, sizeof(r.reason));
		close(fd);
	}
	if (snap) {
		const struct snapshot_header *h = snapshot_header(snap);
		char err[INSTALL_REASON_MAX];

		r.type = h->type;
		r.serial = h->serial;
		r.base = h->base;
		r.records = h->records;
		cat = catalog_open(d->conf->catalog, 0, err, sizeof(err));
		if (!cat) {
			r.code = SNAPSHOT_E_CATALOG;
			util_strlcpy(r.reason, err, sizeof(r.reason));
		} else {
			if (apply_snapshot(snap, cat, d->conf->catalog_id,
					   (int64_t)time(NULL), &r.diff,
					   &r.code, r.reason,
					   sizeof(r.reason)) == 0)
				r.code = SNAPSHOT_OK;
			catalog_close(cat);
		}
		snapshot_close(snap);
	}
	r.done = 1;
	r.seconds = install_mono() - t0;
	if (write(out, &r, sizeof(r)) != (ssize_t)sizeof(r))
		_exit(3);
	_exit(0);
}

/* Start installing name. */
static void install_start(struct daemon *d, const char *name)
{
	struct install *in = d->install;
	char path[PATH_MAX];
	struct epoll_event e;
	int fds[2];
	pid_t pid;

	if (install_path(path, sizeof(path), d->conf->inbox, name) < 0)
		return;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		log_error("pipe: %s", strerror(errno));
		return;
	}
	/* The parent's read transaction must not cross the fork. */
	if (d->rd) {
		catalog_read_end(d->rd);
		d->rd = NULL;
	}
	pid = fork();
	if (pid < 0) {
		log_error("fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return;
	}
	if (pid == 0) {
		close(fds[0]);
		install_child(d, path, name, fds[1]);
	}
	close(fds[1]);
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	in->pid = pid;
	in->killed = 0;
	in->pipefd = fds[0];
	in->t0 = install_mono();
	util_strlcpy(in->current, name, sizeof(in->current));
	e.events = EPOLLIN;
	e.data.ptr = &in->pipe_ev;
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, fds[0], &e) < 0)
		log_error("epoll: %s", strerror(errno));
	log_info("installing %s", name);
}

void install_scan(struct daemon *d)
{
	struct install *in = d->install;
	char best[INSTALL_NAME_MAX + 1] = "";
	uint64_t best_serial = 0;
	int best_type = 0, young = 0;
	size_t seen = 0, waiting = 0;
	struct dirent *de;
	DIR *dp;

	if (in->pid)
		return;	/* the end of this install scans again */
	in->next_scan = d->now + d->conf->rescan_interval;
	dp = opendir(d->conf->inbox);
	if (!dp) {
		log_error("inbox %s: %s", d->conf->inbox, strerror(errno));
		return;
	}
	while ((de = readdir(dp)) != NULL && seen++ < INSTALL_SCAN_MAX) {
		const char *name = de->d_name;
		size_t len = strlen(name);
		char path[PATH_MAX], q[LOG_QUOTE_SIZE];
		uint64_t serial;
		struct stat st;
		int type, other;

		if (name[0] == '.' || len < 5 || strcmp(name + len - 5, ".snap"))
			continue;
		if (install_path(path, sizeof(path), d->conf->inbox, name) < 0 ||
		    lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (!install_closed(in, name, 0) &&
		    !install_temp_known(in, name, &st) &&
		    st.st_mtime > d->now - INSTALL_SETTLE &&
		    st.st_mtime <= d->now + 60) {
			young = 1;	/* maybe still being written */
			continue;
		}
		if (!install_parse_name(name, d->conf->catalog_id, &serial,
					&type, &other)) {
			char why[INSTALL_REASON_MAX];

			install_closed(in, name, 1);
			if (other)
				snprintf(why, sizeof(why),
					 "file name is not for catalog %s",
					 d->conf->catalog_id);
			else
				snprintf(why, sizeof(why),
					 "file name is not ID.SERIAL.full.snap "
					 "or ID.BASE-SERIAL.delta.snap");
			log_debug("%s: %s",
				  log_quote(name, len, q, sizeof(q)), why);
			install_reject(d, name, other ? INSTALL_R_OTHER_NAME
						      : INSTALL_R_BAD_NAME, why);
			continue;
		}
		waiting++;
		if (!best[0] || serial < best_serial ||
		    (serial == best_serial && type < best_type)) {
			util_strlcpy(best, name, sizeof(best));
			best_serial = serial;
			best_type = type;
		}
	}
	closedir(dp);
	in->waiting = waiting;
	if (young && in->next_scan > d->now + INSTALL_SETTLE)
		in->next_scan = d->now + INSTALL_SETTLE;
	if (best[0]) {
		install_closed(in, best, 1);
		install_start(d, best);
	}
}

/* The child finished (or died): record what happened, scan again. */
static void install_finish(struct daemon *d)
{
	struct install *in = d->install;
	struct install_result r;
	char path[PATH_MAX];
	char kind[48];
	ssize_t n;
	int status = 0;

	memset(&r, 0, sizeof(r));
	do
		n = read(in->pipefd, &r, sizeof(r));
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return;	/* spurious: wait for the result or EOF */
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, in->pipefd, NULL);
	close(in->pipefd);
	in->pipefd = -1;
	while (waitpid(in->pid, &status, 0) < 0 && errno == EINTR)
		;
	in->pid = 0;
	d->now = time(NULL);
	if (in->killed) {
		char why[128];

		in->timeouts++;
		in->timeout_time = d->now;
		snprintf(why, sizeof(why), "the install did not finish within "
			 "%llds (install_timeout): stopped",
			 (long long)d->conf->install_timeout);
		install_reject(d, in->current, INSTALL_R_TIMEOUT, why);
	} else if (n != (ssize_t)sizeof(r) || !r.done) {
		char why[128];

		if (WIFSIGNALED(status))
			snprintf(why, sizeof(why),
				 "install process killed by signal %d",
				 WTERMSIG(status));
		else
			snprintf(why, sizeof(why),
				 "install process failed (status %d)",
				 WEXITSTATUS(status));
		install_reject(d, in->current, INSTALL_R_FAILED, why);
	} else if (r.code == SNAPSHOT_OK) {
		in->installs++;
		if (r.type == SNAPSHOT_FULL || r.type == SNAPSHOT_DELTA)
			in->installs_by_type[r.type]++;
		in->last_time = d->now;
		in->last_serial = r.serial;
		in->last_base = r.base;
		in->last_type = r.type;
		in->last_records = r.records;
		in->last_seconds = r.seconds;
		in->last_diff = r.diff;
		if (install_path(path, sizeof(path), d->conf->inbox,
				 in->current) == 0 && unlink(path) < 0 &&
		    errno != ENOENT)
			log_error("remove %s: %s", path, strerror(errno));
		daemon_refresh_info(d);
		install_write_status(d);
		log_info("installed %s: catalog %s serial %llu (%s), %llu "
			 "records: +%llu -%llu ~%llu, in %.2fs",
			 in->current, d->info.id,
			 (unsigned long long)r.serial,
			 install_type(r.type, r.base, kind, sizeof(kind)),
			 (unsigned long long)d->info.records,
			 (unsigned long long)r.diff.added,
			 (unsigned long long)r.diff.removed,
			 (unsigned long long)r.diff.changed, r.seconds);
	} else if (r.code == SNAPSHOT_E_CATALOG) {
		/* Our trouble, not the file's: keep it, try again later. */
		in->install_errors++;
		log_error("install of %s failed, will retry: %s", in->current,
			  r.reason);
		in->next_scan = d->now + d->conf->rescan_interval;
		in->current[0] = '\0';
		return;
	} else if (r.code == SNAPSHOT_E_IO &&
		   install_path(path, sizeof(path), d->conf->inbox,
				in->current) == 0 && access(path, F_OK) < 0) {
		log_info("%s disappeared before it was installed",
			 in->current);
	} else {
		/* The message names the check ("rollback: ..."). */
		if (!r.reason[0])
			util_strlcpy(r.reason, snapshot_strerror(r.code),
				     sizeof(r.reason));
		install_reject(d, in->current, r.code, r.reason);
		install_write_status(d);
	}
	in->current[0] = '\0';
	install_scan(d);
}

/* Names that completed a write or were renamed into the inbox. */
static void install_inotify(struct daemon *d)
{
	struct install *in = d->install;
	char b[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	int any = 0;

	for (;;) {
		ssize_t n = read(in->inofd, b, sizeof(b));
		size_t off = 0;

		if (n <= 0)
			break;
		while (off + sizeof(struct inotify_event) <= (size_t)n) {
			struct inotify_event *e = (void *)(b + off);
			size_t len;

			off += sizeof(*e) + e->len;
			if (e->mask & IN_Q_OVERFLOW) {
				any = 1;
				continue;
			}
			if (!e->len)
				continue;
			if (e->name[0] == '.') {
				if (e->mask & IN_CLOSE_WRITE) {
					install_temp_done(d, e->name);
					any = 1;
				}
				continue;
			}
			len = strlen(e->name);
			if (len < 5 || strcmp(e->name + len - 5, ".snap") ||
			    len > INSTALL_NAME_MAX)
				continue;
			if (e->mask & IN_CREATE) {
				/* Complete only when it is a completed
				 * temporary file under a new name: the scan
				 * checks the inode. */
				any = 1;
				continue;
			}
			install_mark_closed(in, e->name);
			any = 1;
		}
	}
	if (any)
		install_scan(d);
}

void install_event(struct daemon *d, void *ptr)
{
	if (*(int *)ptr == EV_INOTIFY)
		install_inotify(d);
	else
		install_finish(d);
}

int install_tick(struct daemon *d)
{
	struct install *in = d->install;
	time_t now = time(NULL);

	d->now = now;
	d->st.stale = d->info.expires && now > d->info.expires;
	if (d->st.stale != in->last_stale) {
		if (d->st.stale)
			log_warn("catalog %s serial %llu has expired: stale "
				 "policy %s applies",
				 d->info.id, (unsigned long long)d->info.serial,
				 lookup_stale_name(d->conf->lookup.stale_policy));
		install_write_status(d);
	}
	if (in->pid && !in->killed &&
	    install_mono() - in->t0 > (double)d->conf->install_timeout) {
		char q[LOG_QUOTE_SIZE];

		log_error("install of %s still running after %llds "
			  "(install_timeout): stopping it",
			  log_quote(in->current, strlen(in->current), q,
				    sizeof(q)),
			  (long long)d->conf->install_timeout);
		in->killed = 1;
		kill(in->pid, SIGKILL);
	}
	if (!in->pid && now >= in->next_scan)
		install_scan(d);
	if (in->pid)
		return 1000;
	if (in->next_scan <= now)
		return 1000;
	return in->next_scan - now > 1 ? 1000 : (int)(in->next_scan - now) *
							 1000;
}

struct install *install_new(struct daemon *d, char *err, size_t errlen)
{
	struct install *in = xcalloc(1, sizeof(*in));
	char dir[PATH_MAX];
	struct epoll_event e;

	in->ino_ev = EV_INOTIFY;
	in->pipe_ev = EV_INSTALL;
	in->pipefd = -1;
	in->last_stale = -1;
	util_strlcpy(in->copy_dir, d->conf->catalog, sizeof(in->copy_dir));
	{
		char *slash = strrchr(in->copy_dir, '/');

		if (slash)
			slash[slash == in->copy_dir] = '\0';
	}
	if (install_path(dir, sizeof(dir), d->conf->inbox,
			 INSTALL_REJECTED_DIR) < 0) {
		util_err(err, errlen, "inbox path too long");
		free(in);
		return NULL;
	}
	if (mkdir(dir, 0750) < 0 && errno != EEXIST)
		log_warn("%s: %s", dir, strerror(errno));
	in->inofd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (in->inofd < 0 ||
	    inotify_add_watch(in->inofd, d->conf->inbox,
			      IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE) < 0) {
		util_err(err, errlen, "watch inbox %s: %s", d->conf->inbox,
			 strerror(errno));
		if (in->inofd >= 0)
			close(in->inofd);
		free(in);
		return NULL;
	}
	e.events = EPOLLIN;
	e.data.ptr = &in->ino_ev;
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, in->inofd, &e) < 0) {
		util_err(err, errlen, "epoll: %s", strerror(errno));
		close(in->inofd);
		free(in);
		return NULL;
	}
	if (access(d->conf->inbox, W_OK) < 0)
		log_warn("inbox %s is not writable: installed files cannot be "
			 "removed", d->conf->inbox);
	return in;
}

void install_stop(struct daemon *d)
{
	struct install *in = d->install;
	int status;

	if (!in || !in->pid)
		return;
	/* An unfinished transaction leaves the old catalog; the file stays
	 * in the inbox for the next start. */
	kill(in->pid, SIGKILL);
	while (waitpid(in->pid, &status, 0) < 0 && errno == EINTR)
		;
	in->pid = 0;
	log_info("install of %s interrupted; it will be retried at the next "
		 "start", in->current);
}

void install_free(struct install *in)
{
	if (!in)
		return;
	if (in->pipefd >= 0)
		close(in->pipefd);
	close(in->inofd);
	free(in);
}

void install_status(struct daemon *d, struct ctlproto_status *st)
{
	struct install *in = d->install;

	if (in->last_time) {
		st->last_install = (int64_t)in->last_time;
		st->last_install_serial = in->last_serial;
		util_strlcpy(st->last_install_type,
			     in->last_type == SNAPSHOT_FULL ? "full" : "delta",
			     sizeof(st->last_install_type));
		st->last_install_base = in->last_base;
		st->last_install_records = in->last_records;
		st->last_install_added = in->last_diff.added;
		st->last_install_removed = in->last_diff.removed;
		st->last_install_changed = in->last_diff.changed;
		st->last_install_us = (uint64_t)(in->last_seconds * 1e6);
	}
	if (in->refused_time) {
		st->last_refusal = (int64_t)in->refused_time;
		util_strlcpy(st->last_refusal_file, in->refused_file,
			     sizeof(st->last_refusal_file));
		util_strlcpy(st->last_refusal_reason, in->refused_reason,
			     sizeof(st->last_refusal_reason));
	}
	st->installs = in->installs;
	st->refusals = in->refusals;
	st->install_timeouts = in->timeouts;
	st->last_install_timeout = (int64_t)in->timeout_time;
	st->install_timeout = d->conf->install_timeout;
	if (in->pid) {
		util_strlcpy(st->installing, in->current,
			     sizeof(st->installing));
		st->installing_us = (uint64_t)((install_mono() - in->t0) * 1e6);
	}
	util_strlcpy(st->inbox, d->conf->inbox, sizeof(st->inbox));
	st->inbox_waiting = in->waiting;
}

void install_metrics(struct daemon *d, struct metrics *m)
{
	struct install *in = d->install;
	size_t i;

	metrics_family(m, "dircat_catalogd_installs_total", "counter",
		       "Snapshots installed since catalogd started, by type.");
	metrics_u64(m, "type", "full", NULL, NULL,
		    in->installs_by_type[SNAPSHOT_FULL]);
	metrics_u64(m, "type", "delta", NULL, NULL,
		    in->installs_by_type[SNAPSHOT_DELTA]);
	metrics_family(m, "dircat_catalogd_refusals_total", "counter",
		       "Snapshots refused since catalogd started (moved to "
		       "INBOX/rejected/), by reason.");
	for (i = 0; i < INSTALL_REASONS; i++)
		if (install_reason_names[i])
			metrics_u64(m, "reason", install_reason_names[i], NULL,
				    NULL, in->refused_by[i]);
	metrics_family(m, "dircat_catalogd_install_errors_total", "counter",
		       "Installs that failed writing the catalog (the snapshot "
		       "stays in the inbox and is tried again).");
	metrics_u64(m, NULL, NULL, NULL, NULL, in->install_errors);
	metrics_family(m, "dircat_catalogd_install_timeouts_total", "counter",
		       "Installs stopped because they ran longer than "
		       "install_timeout (the file is moved to "
		       "INBOX/rejected/).");
	metrics_u64(m, NULL, NULL, NULL, NULL, in->timeouts);
	if (in->last_time) {
		metrics_gauge(m, "dircat_catalogd_last_install_timestamp_seconds",
			      "When the last snapshot was installed (Unix time).",
			      (int64_t)in->last_time);
		metrics_family(m, "dircat_catalogd_last_install_duration_seconds",
			       "gauge", "How long the last install took.");
		metrics_f64(m, NULL, NULL, NULL, NULL, in->last_seconds);
	}
	if (in->refused_time)
		metrics_gauge(m, "dircat_catalogd_last_refusal_timestamp_seconds",
			      "When a snapshot was last refused (Unix time).",
			      (int64_t)in->refused_time);
	metrics_gauge(m, "dircat_catalogd_installing",
		      "1 while a snapshot is being installed.", in->pid ? 1 : 0);
}
