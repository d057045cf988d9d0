/*
 * install.c - catalogd's side of the inbox: it decides when a round of
 * inbox work runs (inbox.c, in a child process), watches it, and keeps
 * what the rounds report for dircat status and the metrics.  Snapshots
 * arrive as
 *   <catalog_id>.<serial>.full.snap  or  <catalog_id>.<base>-<serial>.delta.snap
 *
 * The event loop never touches the inbox's files: scanning, reading,
 * installing, moving refused files aside with their .reason, and writing
 * INBOX/status all happen in the round's child, so no file an attacker
 * puts there can delay a lookup.  What stays here is cheap and bounded:
 * reading inotify events (at most INSTALL_EVENTS_MAX bytes a wakeup) to
 * learn which names are complete, and the round's messages (at most
 * INSTALL_MSGS_MAX a wakeup).
 *
 * The inbox is watched with inotify (a completed write or a rename into
 * it) and rescanned every rescan_interval.  OpenSSH's sftp server carries
 * out an SFTP rename as link() then unlink(), which inotify reports as a
 * creation, not a rename: so the inodes of completed temporary (dot)
 * files are remembered (one lstat when their writer closes them), and a
 * new name for one of them is complete too.  A file no event announced
 * must rest INBOX_SETTLE seconds first.
 *
 * Rounds: one at a time, started when an event or a rescan asks for one,
 * at least INSTALL_ROUND_GAP_MS after the previous one ended when that
 * one ran out of budget (the rate limit on junk).  A round that sends
 * nothing for install_timeout (an install included) is killed; its file
 * is moved aside by the next round and the next snapshot goes ahead.
 * The child dies with the daemon (PR_SET_PDEATHSIG); an interrupted
 * install leaves the old catalog whole.
 */
#include <errno.h>
#include <stddef.h>
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
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "install.h"
#include "ctlproto.h"
#include "inbox.h"
#include "keyhash.h"
#include "kvtext.h"
#include "log.h"
#include "metrics.h"
#include "snapshot.h"
#include "util.h"

#define INSTALL_CLOSED_MAX   64	/* names announced by inotify, remembered */
#define INSTALL_TEMPS_MAX    64	/* completed temporary files, remembered */
#define INSTALL_EVENTS_MAX   (64 * 1024)	/* inotify bytes read a wakeup */
#define INSTALL_MSGS_MAX     64	/* round messages handled a wakeup */
#define INSTALL_ROUND_GAP_MS 250	/* pause after a round out of budget */
#define INSTALL_NICE         10	/* the round's CPU priority */

struct install {
	struct daemon_catalog *k;	/* the catalog it installs */
	int ino_ev;		/* EV_INOTIFY */
	int inofd;
	int pipe_ev;		/* EV_INSTALL */
	int pipefd;
	pid_t pid;		/* the running round, or 0 */
	int killed;		/* it went silent past install_timeout */
	double deadline;	/* monotonic: kill it then */
	char copy_dir[PATH_MAX];	/* the private copies: the catalog's
					   directory, catalogd's own */
	/* The snapshot being installed (BEGIN without RESULT yet). */
	char current[INBOX_NAME_MAX + 1];
	dev_t cur_dev;
	ino_t cur_ino;
	double t0;
	/* A stopped install's file, for the next round to move aside. */
	char pending[INBOX_NAME_MAX + 1];
	dev_t pend_dev;
	ino_t pend_ino;
	char pend_reason[160];
	/* When the next round is wanted and allowed. */
	int wanted;
	int status_due;		/* INBOX/status to be rewritten */
	double not_before;	/* monotonic */
	time_t next_scan;	/* the periodic rescan */
	char closed[INSTALL_CLOSED_MAX][INBOX_NAME_MAX + 1];	/* a ring */
	size_t nclosed;		/* entries ever added */
	struct inbox_temp temps[INSTALL_TEMPS_MAX];	/* a ring */
	size_t ntemps;
	int last_stale;
	/* For dircat status. */
	time_t last_time;
	uint64_t last_serial, last_base, last_records;
	int last_type;
	double last_seconds;
	struct catalog_diff last_diff;
	time_t refused_time;
	char refused_file[INBOX_NAME_MAX + 1];
	char refused_reason[INBOX_REASON_MAX];
	uint64_t installs, refusals;
	uint64_t waiting;	/* snapshots left by the last round */
	uint64_t looked;	/* entries the last round looked at */
	int scan_cut;		/* it stopped at INBOX_SCAN_MAX */
	uint64_t rounds;
	/* For dircat metrics. */
	uint64_t installs_by_type[3];	/* [SNAPSHOT_FULL], [SNAPSHOT_DELTA] */
	uint64_t refused_by[INBOX_REASONS];
	uint64_t install_errors;	/* catalog writes that failed */
	uint64_t timeouts;	/* rounds stopped at install_timeout */
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

/* name, escaped for a log or status line, into q. */
static const char *install_q(const char *name, char *q, size_t size)
{
	return kvtext_escape(name, strlen(name), q, size);
}

/* ------------------------------------------------ names known complete */

/* The slot of name in the ring, or -1. */
static int install_closed_find(struct install *in, const char *name)
{
	size_t i, n = in->nclosed < INSTALL_CLOSED_MAX ? in->nclosed
						       : INSTALL_CLOSED_MAX;

	for (i = 0; i < n; i++)
		if (in->closed[i][0] && !strcmp(in->closed[i], name))
			return (int)i;
	return -1;
}

/* Remember that name was announced complete (the oldest is forgotten). */
static void install_mark_closed(struct install *in, const char *name)
{
	if (strlen(name) > INBOX_NAME_MAX || install_closed_find(in, name) >= 0)
		return;
	util_copy_fit(in->closed[in->nclosed++ % INSTALL_CLOSED_MAX], name,
		     sizeof(in->closed[0]));
}

/* A round dealt with name (dev, ino): forget it as complete. */
static void install_forget(struct install *in, const char *name, dev_t dev,
			   ino_t ino)
{
	int i = install_closed_find(in, name);
	size_t k;

	if (i >= 0)
		in->closed[i][0] = '\0';
	for (k = 0; k < INSTALL_TEMPS_MAX; k++)
		if (in->temps[k].ino == ino && in->temps[k].dev == dev) {
			in->temps[k].ino = 0;
			in->temps[k].dev = 0;
		}
}

/*
 * A temporary file's writer closed it: remember its inode, so that the
 * name it is linked to counts as complete.  When it is already gone (the
 * link and unlink came before this event was read), fall back on the
 * replicator's naming: ".NAME.part" becomes NAME.
 */
static void install_temp_done(struct daemon_catalog *k, const char *name)
{
	struct install *in = k->install;
	char path[PATH_MAX], final[INBOX_NAME_MAX + 1];
	size_t len = strlen(name), i;
	struct stat st;
	int n;

	n = snprintf(path, sizeof(path), "%s/%s", k->cc->inbox, name);
	if (n < 0 || (size_t)n >= sizeof(path))
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
	if (len > 6 && len - 6 <= INBOX_NAME_MAX &&
	    !strcmp(name + len - 5, ".part")) {
		memcpy(final, name + 1, len - 6);
		final[len - 6] = '\0';
		install_mark_closed(in, final);
	}
}

/* --------------------------------------------------------------- rounds */

/* The child: one round, then exit.  Never returns. */
static void install_child(struct daemon *d, struct daemon_catalog *k, int out)
{
	struct install *in = k->install;
	struct inbox_round r;
	sigset_t none;

	/* Die with the daemon: an orphan round would race the next. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)
		_exit(1);
	/* Answering lookups comes first; a round may take a bit longer. */
	if (setpriority(PRIO_PROCESS, 0, INSTALL_NICE) < 0)
		(void)0;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGTERM, SIG_DFL);
	/* Hold no client connection open (readsocket clients wait for
	 * EOF): keep stdio and the message pipe only.  syslog's socket goes
	 * too; it is opened again on the next message. */
	closelog();
	if (out > 3)
		close_range(3, (unsigned)out - 1, 0);
	close_range((unsigned)out + 1, ~0U, 0);

	memset(&r, 0, sizeof(r));
	r.inbox = k->cc->inbox;
	r.catalog = k->cc->path;
	r.catalog_id = k->cc->id;
	r.copy_dir = in->copy_dir;
	r.keyring = k->cc->keyring;
	r.hash_id = k->cc->hash ? keyhash_id(k->cc->hash) : NULL;
	r.max_size = (uint64_t)d->conf->max_snapshot_size;
	r.accept_v1 = d->conf->accept_snapshot_v1;
	r.rejected_keep = d->conf->rejected_keep;
	r.closed = (const char (*)[INBOX_NAME_MAX + 1])in->closed;
	r.nclosed = in->nclosed < INSTALL_CLOSED_MAX ? in->nclosed
						     : INSTALL_CLOSED_MAX;
	r.temps = in->temps;
	r.ntemps = INSTALL_TEMPS_MAX;
	if (in->pending[0]) {
		r.pending_name = in->pending;
		r.pending_dev = in->pend_dev;
		r.pending_ino = in->pend_ino;
		r.pending_code = INBOX_R_TIMEOUT;
		r.pending_reason = in->pend_reason;
	}
	r.write_status = in->status_due;
	r.stale = k->st.stale;
	r.now = time(NULL);
	inbox_run_round(&r, out);
	_exit(0);
}

/* Start a round now. */
static void install_start(struct daemon *d, struct daemon_catalog *k)
{
	struct install *in = k->install;
	struct epoll_event e;
	int fds[2];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0) {
		log_error("pipe: %s", strerror(errno));
		return;
	}
	/* The parent's read transactions must not cross the fork. */
	daemon_reader_end(d);
	pid = fork();
	if (pid < 0) {
		log_error("fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return;
	}
	if (pid == 0) {
		close(fds[0]);
		install_child(d, k, fds[1]);
	}
	close(fds[1]);
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	in->pid = pid;
	in->killed = 0;
	in->pipefd = fds[0];
	in->current[0] = '\0';
	in->deadline = install_mono() + (double)d->conf->install_timeout;
	in->wanted = 0;
	in->status_due = 0;
	in->pending[0] = '\0';	/* the round deals with it */
	in->next_scan = d->now + d->conf->rescan_interval;
	in->rounds++;
	e.events = EPOLLIN;
	e.data.ptr = &in->pipe_ev;
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, fds[0], &e) < 0)
		log_error("epoll: %s", strerror(errno));
}

/* Start a round when one is wanted, none runs and the pause is over. */
static void install_maybe_start(struct daemon *d, struct daemon_catalog *k)
{
	struct install *in = k->install;

	if (in->wanted && !in->pid && install_mono() >= in->not_before)
		install_start(d, k);
}

void install_scan(struct daemon *d, struct daemon_catalog *k)
{
	k->install->wanted = 1;
	install_maybe_start(d, k);
}

void install_write_status(struct daemon *d, struct daemon_catalog *k)
{
	k->install->status_due = 1;
	k->install->last_stale = k->st.stale;
	install_scan(d, k);
}

/* Count a refusal and remember it as the last one. */
static void install_refused(struct install *in, const struct inbox_msg *m)
{
	int why = m->code;

	in->refusals++;
	if (!inbox_reason_name(why))
		why = INBOX_R_FAILED;
	in->refused_by[why]++;
	in->refused_time = m->when;
	util_copy_fit(in->refused_file, m->name, sizeof(in->refused_file));
	inbox_printable(m->reason, in->refused_reason,
			sizeof(in->refused_reason));
}

/* A snapshot installed. */
static void install_done(struct daemon *d, struct daemon_catalog *k,
			const struct inbox_msg *m)
{
	struct install *in = k->install;
	char kind[48], q[INBOX_ESCAPED_MAX];

	in->installs++;
	if (m->snap_type == SNAPSHOT_FULL || m->snap_type == SNAPSHOT_DELTA)
		in->installs_by_type[m->snap_type]++;
	in->last_time = m->when;
	in->last_serial = m->serial;
	in->last_base = m->base;
	in->last_type = m->snap_type;
	in->last_records = m->records;
	in->last_seconds = m->seconds;
	in->last_diff = m->diff;
	d->now = time(NULL);
	daemon_refresh_info(d, k);
	in->last_stale = k->st.stale;
	log_info("installed %s: catalog %s serial %llu (%s), %llu records: "
		 "+%llu -%llu ~%llu, in %.2fs",
		 install_q(m->name, q, sizeof(q)), k->info.id,
		 (unsigned long long)m->serial,
		 install_type(m->snap_type, m->base, kind, sizeof(kind)),
		 (unsigned long long)k->info.records,
		 (unsigned long long)m->diff.added,
		 (unsigned long long)m->diff.removed,
		 (unsigned long long)m->diff.changed, m->seconds);
}

/* One message from the round. */
static void install_msg(struct daemon *d, struct daemon_catalog *k,
			const struct inbox_msg *m)
{
	struct install *in = k->install;
	char q[INBOX_ESCAPED_MAX];

	/* Any message is progress: the watchdog starts over. */
	in->deadline = install_mono() + (double)d->conf->install_timeout;
	switch (m->type) {
	case INBOX_MSG_BEGIN:
		util_copy_fit(in->current, m->name, sizeof(in->current));
		in->cur_dev = m->dev;
		in->cur_ino = m->ino;
		in->t0 = install_mono();
		break;
	case INBOX_MSG_RESULT:
		in->current[0] = '\0';
		install_forget(in, m->name, m->dev, m->ino);
		if (m->gone)
			log_info("%s disappeared before it was installed",
				 install_q(m->name, q, sizeof(q)));
		else if (m->code == SNAPSHOT_OK)
			install_done(d, k, m);
		else if (m->code == SNAPSHOT_E_CATALOG) {
			in->install_errors++;
			log_error("install of %s failed, will retry: %s",
				  install_q(m->name, q, sizeof(q)),
				  m->reason);
		} else {
			install_refused(in, m);
		}
		break;
	case INBOX_MSG_REFUSED:
		install_forget(in, m->name, m->dev, m->ino);
		install_refused(in, m);
		break;
	case INBOX_MSG_END:
		in->looked = m->looked;
		in->waiting = m->waiting;
		in->scan_cut = m->scan_cut;
		if (m->more) {
			in->wanted = 1;
			in->not_before = install_mono() +
					 INSTALL_ROUND_GAP_MS / 1000.0;
		}
		if (m->settle_until && m->settle_until < in->next_scan)
			in->next_scan = m->settle_until;
		break;
	default:
		break;
	}
}

/* The round ended (EOF on its pipe, or killed): reap and account. */
static void install_reap(struct daemon *d, struct daemon_catalog *k)
{
	struct install *in = k->install;
	char q[INBOX_ESCAPED_MAX];
	int status = 0;

	epoll_ctl(d->epfd, EPOLL_CTL_DEL, in->pipefd, NULL);
	close(in->pipefd);
	in->pipefd = -1;
	while (waitpid(in->pid, &status, 0) < 0 && errno == EINTR)
		;
	in->pid = 0;
	d->now = time(NULL);
	if (in->current[0]) {
		/* An install that did not finish: its file goes aside in
		 * the next round, so that the next snapshot goes ahead. */
		if (in->killed)
			snprintf(in->pend_reason, sizeof(in->pend_reason),
				 "the install did not finish within %llds "
				 "(install_timeout): stopped",
				 (long long)d->conf->install_timeout);
		else
			snprintf(in->pend_reason, sizeof(in->pend_reason),
				 "the install process %s %d",
				 WIFSIGNALED(status) ? "was killed by signal"
						     : "failed with status",
				 WIFSIGNALED(status) ? WTERMSIG(status)
						     : WEXITSTATUS(status));
		log_error("install of %s stopped: %s",
			  install_q(in->current, q, sizeof(q)),
			  in->pend_reason);
		util_copy_fit(in->pending, in->current, sizeof(in->pending));
		in->pend_dev = in->cur_dev;
		in->pend_ino = in->cur_ino;
		in->current[0] = '\0';
		in->wanted = 1;
	} else if (in->killed) {
		log_error("inbox round silent for %llds (install_timeout): "
			  "stopped", (long long)d->conf->install_timeout);
	} else if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		log_error("inbox round ended with status %d", status);
	}
	if (in->killed) {
		in->timeouts++;
		in->timeout_time = d->now;
	}
	if (in->status_due)
		in->wanted = 1;
	install_maybe_start(d, k);
}

/* Messages from the round, at most INSTALL_MSGS_MAX this wakeup. */
static void install_messages(struct daemon *d, struct daemon_catalog *k)
{
	struct install *in = k->install;
	struct inbox_msg m;
	int i;

	for (i = 0; i < INSTALL_MSGS_MAX; i++) {
		ssize_t n = read(in->pipefd, &m, sizeof(m));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;	/* more later */
		if (n == (ssize_t)sizeof(m)) {
			install_msg(d, k, &m);
			continue;
		}
		/* EOF, an error or a torn message: the round is over. */
		install_reap(d, k);
		return;
	}
}

/* Names that completed a write or were renamed into the inbox, at most
 * INSTALL_EVENTS_MAX bytes of events this wakeup (the rest stays queued). */
static void install_inotify(struct daemon *d, struct daemon_catalog *k)
{
	struct install *in = k->install;
	char b[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	size_t total = 0;
	int any = 0;

	while (total < INSTALL_EVENTS_MAX) {
		ssize_t n = read(in->inofd, b, sizeof(b));
		size_t off = 0;

		if (n <= 0)
			break;
		total += (size_t)n;
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
					install_temp_done(k, e->name);
					any = 1;
				}
				continue;
			}
			len = strlen(e->name);
			if (len < 5 || strcmp(e->name + len - 5, ".snap") ||
			    len > INBOX_NAME_MAX)
				continue;
			/* A creation is complete only when it is a completed
			 * temporary file under a new name: the round checks
			 * the inode. */
			if (!(e->mask & IN_CREATE))
				install_mark_closed(in, e->name);
			any = 1;
		}
	}
	if (any)
		install_scan(d, k);
}

void install_event(struct daemon *d, void *ptr)
{
	struct install *in;
	struct daemon_catalog *k;

	if (*(int *)ptr == EV_INOTIFY)
		in = (struct install *)((char *)ptr -
					offsetof(struct install, ino_ev));
	else
		in = (struct install *)((char *)ptr -
					offsetof(struct install, pipe_ev));
	k = in->k;
	if (*(int *)ptr == EV_INOTIFY)
		install_inotify(d, k);
	else if (k->install->pid)
		install_messages(d, k);
}

/* install_tick() for one catalog. */
static int install_tick_one(struct daemon *d, struct daemon_catalog *k)
{
	struct install *in = k->install;
	time_t now = time(NULL);
	double mono = install_mono(), wait;

	d->now = now;
	k->st.stale = daemon_stale(d, k);
	if (k->st.stale != in->last_stale) {
		if (k->st.stale)
			log_warn("catalog %s serial %llu has expired: stale "
				 "policy %s applies",
				 k->cc->name, (unsigned long long)k->info.serial,
				 lookup_stale_name(k->cc->lookup.stale_policy));
		install_write_status(d, k);
	}
	if (in->pid && !in->killed && mono > in->deadline) {
		char q[INBOX_ESCAPED_MAX];

		if (in->current[0])
			log_error("install of %s still running after %llds "
				  "(install_timeout): stopping it",
				  install_q(in->current, q, sizeof(q)),
				  (long long)d->conf->install_timeout);
		in->killed = 1;
		kill(in->pid, SIGKILL);
	}
	if (now >= in->next_scan)
		in->wanted = 1;
	install_maybe_start(d, k);
	/* Wake up for the watchdog, the pause, or the next rescan. */
	if (in->pid)
		wait = in->deadline - mono;
	else if (in->wanted)
		wait = in->not_before - mono;
	else
		wait = (double)(in->next_scan - now);
	if (wait > 1)
		return 1000;
	return wait > 0 ? (int)(wait * 1000) + 1 : 1;
}

int install_tick(struct daemon *d)
{
	int ms = 1000, t;
	size_t i;

	for (i = 0; i < d->ncats; i++) {
		t = install_tick_one(d, d->cats[i]);
		if (t < ms)
			ms = t;
	}
	return ms;
}

struct install *install_new(struct daemon *d, struct daemon_catalog *k,
			    char *err, size_t errlen)
{
	struct install *in = xcalloc(1, sizeof(*in));
	struct epoll_event e;
	char *slash;

	in->k = k;
	in->ino_ev = EV_INOTIFY;
	in->pipe_ev = EV_INSTALL;
	in->pipefd = -1;
	in->last_stale = -1;
	util_copy_fit(in->copy_dir, k->cc->path, sizeof(in->copy_dir));
	slash = strrchr(in->copy_dir, '/');
	if (slash)
		slash[slash == in->copy_dir] = '\0';
	in->inofd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (in->inofd < 0 ||
	    inotify_add_watch(in->inofd, k->cc->inbox,
			      IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE) < 0) {
		util_err(err, errlen, "watch inbox %s: %s", k->cc->inbox,
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
	if (access(k->cc->inbox, W_OK) < 0)
		log_warn("inbox %s is not writable: installed files cannot be "
			 "removed", k->cc->inbox);
	return in;
}

void install_stop(struct daemon *d, struct daemon_catalog *k)
{
	struct install *in = k->install;
	char q[INBOX_ESCAPED_MAX];
	int status;

	(void)d;
	if (!in || !in->pid)
		return;
	/* An unfinished transaction leaves the old catalog; the file stays
	 * in the inbox for the next start. */
	kill(in->pid, SIGKILL);
	while (waitpid(in->pid, &status, 0) < 0 && errno == EINTR)
		;
	in->pid = 0;
	if (in->current[0])
		log_info("install of %s interrupted; it will be retried at the "
			 "next start", install_q(in->current, q, sizeof(q)));
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

void install_status(struct daemon *d, struct daemon_catalog *k,
			struct ctlproto_status *st)
{
	struct install *in = k->install;

	/* Names go in raw: the reply escapes every value. */
	if (in->last_time) {
		st->last_install = (int64_t)in->last_time;
		st->last_install_serial = in->last_serial;
		util_copy_fit(st->last_install_type,
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
		util_copy_fit(st->last_refusal_file, in->refused_file,
			     sizeof(st->last_refusal_file));
		util_copy_text(st->last_refusal_reason, in->refused_reason,
			     sizeof(st->last_refusal_reason));
	}
	st->installs = in->installs;
	st->refusals = in->refusals;
	st->install_timeouts = in->timeouts;
	st->last_install_timeout = (int64_t)in->timeout_time;
	st->install_timeout = d->conf->install_timeout;
	if (in->pid && in->current[0]) {
		util_copy_fit(st->installing, in->current,
			     sizeof(st->installing));
		st->installing_us = (uint64_t)((install_mono() - in->t0) * 1e6);
	}
	util_copy_fit(st->inbox, k->cc->inbox, sizeof(st->inbox));
	st->inbox_waiting = in->waiting;
	st->inbox_looked = in->looked;
	st->inbox_scan_max = INBOX_SCAN_MAX;
	st->inbox_scan_cut = in->scan_cut;
}

void install_catalog_status(const struct daemon_catalog *k,
			    struct ctlproto_catalog *c)
{
	const struct install *in = k->install;

	c->installs = in->installs;
	c->refusals = in->refusals;
	c->last_refusal = (int64_t)in->refused_time;
	util_copy_text(c->last_refusal_reason, in->refused_reason,
		       sizeof(c->last_refusal_reason));
}

/* Every catalog's installs added up into sum: counters added, the
 * latest of the times (and the last install's duration with it). */
static void install_sum(const struct daemon *d, struct install *sum)
{
	size_t i, r;

	memset(sum, 0, sizeof(*sum));
	for (i = 0; i < d->ncats; i++) {
		const struct install *in = d->cats[i]->install;

		sum->installs_by_type[SNAPSHOT_FULL] +=
			in->installs_by_type[SNAPSHOT_FULL];
		sum->installs_by_type[SNAPSHOT_DELTA] +=
			in->installs_by_type[SNAPSHOT_DELTA];
		for (r = 0; r < INBOX_REASONS; r++)
			sum->refused_by[r] += in->refused_by[r];
		sum->install_errors += in->install_errors;
		sum->timeouts += in->timeouts;
		sum->looked += in->looked;
		sum->waiting += in->waiting;
		if (in->last_time > sum->last_time) {
			sum->last_time = in->last_time;
			sum->last_seconds = in->last_seconds;
		}
		if (in->refused_time > sum->refused_time)
			sum->refused_time = in->refused_time;
		if (in->pid && in->current[0])
			sum->pid = in->pid, sum->current[0] = 'x';
	}
}

void install_metrics(struct daemon *d, struct metrics *m)
{
	struct install total, *in = &total;
	size_t i;

	install_sum(d, &total);

	metrics_family(m, "dircat_catalogd_installs_total", "counter",
		       "Snapshots installed since catalogd started, by type.");
	metrics_u64(m, "type", "full", NULL, NULL,
		    in->installs_by_type[SNAPSHOT_FULL]);
	metrics_u64(m, "type", "delta", NULL, NULL,
		    in->installs_by_type[SNAPSHOT_DELTA]);
	metrics_family(m, "dircat_catalogd_refusals_total", "counter",
		       "Snapshots refused since catalogd started (moved to "
		       "INBOX/rejected/), by reason.");
	for (i = 0; i < INBOX_REASONS; i++)
		if (inbox_reason_name((int)i))
			metrics_u64(m, "reason", inbox_reason_name((int)i),
				    NULL, NULL, in->refused_by[i]);
	metrics_family(m, "dircat_catalogd_install_errors_total", "counter",
		       "Installs that failed writing the catalog (the snapshot "
		       "stays in the inbox and is tried again).");
	metrics_u64(m, NULL, NULL, NULL, NULL, in->install_errors);
	metrics_family(m, "dircat_catalogd_install_timeouts_total", "counter",
		       "Installs (or inbox rounds) stopped because they ran "
		       "longer than install_timeout; the file is moved to "
		       "INBOX/rejected/.");
	metrics_u64(m, NULL, NULL, NULL, NULL, in->timeouts);
	metrics_gauge(m, "dircat_catalogd_inbox_files_looked_at",
		      "Inbox entries the last round looked at (a round looks "
		      "at a bounded number).", (int64_t)in->looked);
	metrics_gauge(m, "dircat_catalogd_inbox_waiting",
		      "Snapshots the last round left for a later one.",
		      (int64_t)in->waiting);
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
		      "1 while a snapshot is being installed.",
		      in->pid && in->current[0] ? 1 : 0);
}
