/*
 * daemon.c - dircat status and dircat lookup: ask the running catalogd.
 *
 * Both read catalogd's configuration (-c, default
 * /etc/dircat/catalogd.conf) only for the settings they need: the control
 * socket ([socket NAME] with protocol = control), the first socketmap
 * socket, the catalog file and the inbox.  When the daemon does not
 * answer, status falls back to the catalog file, INBOX/status and the
 * newest INBOX/rejected/NAME.reason, and says the daemon is down.
 *
 * status is also a Nagios/Icinga plugin: exit 0 OK, 1 WARNING (catalog
 * older than -w), 2 CRITICAL (daemon down, nothing installed, catalog
 * expired or older than -C), 3 UNKNOWN (usage, configuration, no control
 * socket to ask); --nagios prints the one plugin line with performance
 * data instead of the details.
 * lookup: exit 0 found, 1 not found, 2 usage, 3 error.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "catalog.h"
#include "conf.h"
#include "ctlproto.h"
#include "daemon.h"
#include "watchstat.h"
#include "kvtext.h"
#include "lookup.h"
#include "netstring.h"
#include "nodestatus.h"
#include "util.h"

#define DAEMON_TIMEOUT_MS   10000	/* for one answer */

int daemon_read_conf(const char *file, struct daemon_paths *p)
{
	struct conf *c;
	char err[1024];
	size_t i;

	memset(p, 0, sizeof(*p));
	/* catalogd's own table and rules; its users, groups and keys are
	 * catalogd's business, not looked up here. */
	c = conf_load_syntax(file, err, sizeof(err));
	if (!c) {
		fprintf(stderr, "dircat: %s\n", err);
		return -1;
	}
	/* Each fits by construction: the paths are at most PATH_MAX - 1
	 * bytes in struct conf, the sockets' at most CONF_SOCKPATH_MAX. */
	/* Several catalogs: the first in the order, as the daemon's own
	 * catalog fields. */
	util_copy_fit(p->catalog, c->cat[c->order[0]].path,
		      sizeof(p->catalog));
	util_copy_fit(p->inbox, c->cat[c->order[0]].inbox, sizeof(p->inbox));
	for (i = 0; !c->cat[0].implicit && i < c->ncatalogs; i++) {
		struct daemon_catalog_path *k = &p->cat[p->ncatalogs++];

		util_copy_fit(k->name, c->cat[i].name, sizeof(k->name));
		util_copy_fit(k->id, c->cat[i].id, sizeof(k->id));
		util_copy_fit(k->path, c->cat[i].path, sizeof(k->path));
		k->stale_policy = c->cat[i].lookup.stale_policy;
	}
	for (i = 0; p->ncatalogs && i < c->norder; i++) {
		size_t n = strlen(p->order);
		const char *name = c->cat[c->order[i]].name;

		/* Fits: CTLPROTO_ORDER_MAX holds 16 names and separators. */
		snprintf(p->order + n, sizeof(p->order) - n, "%s%s",
			 i ? ", " : "", name);
	}
	for (i = 0; i < c->nsockets; i++) {
		const struct conf_socket *s = &c->socket[i];

		if (s->protocol == CONF_CONTROL && !p->control[0])
			util_copy_fit(p->control, s->path, sizeof(p->control));
		if (s->protocol == CONF_SOCKETMAP && !p->socketmap[0])
			util_copy_fit(p->socketmap, s->path,
				      sizeof(p->socketmap));
	}
	conf_free(c);
	return 0;
}

/* Connect to a Unix socket; -1 with err. */
static int daemon_connect(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (util_strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		util_err(err, errlen, "%s: path too long", path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		util_err(err, errlen, "connect %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Send all of p; 0 or -1. */
static int daemon_send(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t w = send(fd, c, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Read into b until complete(b) or EOF; 0, or -1 on timeout/error. */
static int daemon_recv(int fd, struct buf *b, int (*complete)(struct buf *))
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		char tmp[8192];
		ssize_t n;

		if (b->len && complete(b))
			return 0;
		if (poll(&pfd, 1, DAEMON_TIMEOUT_MS) <= 0)
			return -1;
		n = read(fd, tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return b->len ? 0 : -1;
		if (buf_append(b, tmp, (size_t)n) < 0)
			return -1;
	}
}

/* A control reply ends with an empty line. */
static int daemon_control_done(struct buf *b)
{
	return ctlproto_reply_complete(b->data, b->len);
}

int daemon_control(const char *sock, const char *cmd, struct buf *b,
		   char *why, size_t whylen)
{
	char line[64];
	int fd, n;

	buf_init(b, DAEMON_REPLY_MAX + 1);
	n = snprintf(line, sizeof(line), "%s\n", cmd);
	if (n < 0 || (size_t)n >= sizeof(line)) {
		util_err(why, whylen, "control command too long");
		return -1;
	}
	fd = daemon_connect(sock, why, whylen);
	if (fd < 0)
		return -1;
	if (daemon_send(fd, line, (size_t)n) < 0 ||
	    daemon_recv(fd, b, daemon_control_done) < 0 || b->len == 0 ||
	    b->len > DAEMON_REPLY_MAX || buf_append(b, "", 1) < 0) {
		close(fd);
		buf_free(b);
		util_err(why, whylen, "no answer on the control socket %s",
			 sock);
		return -1;
	}
	close(fd);
	b->len--;	/* the NUL stays after the data */
	return 0;
}

/* One complete netstring. */
static int daemon_netstring_done(struct buf *b)
{
	const char *data, *why;
	size_t dlen, used;

	return netstring_parse((const char *)b->data, b->len, DAEMON_REPLY_MAX,
			       &data, &dlen, &used, &why) != NETSTRING_MORE;
}

/* s as dircat shows text that came from elsewhere: escaped (kvtext.h),
 * so that no byte of it can start a line or reach the terminal raw. */
static const char *daemon_shown(const char *s, char *out, size_t size)
{
	return kvtext_escape(s, strlen(s), out, size);
}

/* Print a .reason file as last_refusal_time/file/reason lines. */
static void daemon_print_refusal(const char *path)
{
	struct nodestatus_refusal r;
	char err[1024], t[32];
	char file[4 * NODESTATUS_FILE_MAX + 1];
	char reason[4 * NODESTATUS_REASON_MAX + 1];

	if (nodestatus_refusal_read(path, &r, err, sizeof(err)) < 0) {
		printf("last_refusal: %s\n", daemon_shown(err, reason,
							  sizeof(reason)));
		return;
	}
	printf("last_refusal_time: %lld (%s)\n", (long long)r.time,
	       util_time_iso((time_t)r.time, t, sizeof(t)));
	printf("last_refusal_file: %s\n",
	       daemon_shown(r.file, file, sizeof(file)));
	printf("last_refusal_reason: %s\n",
	       daemon_shown(r.reason, reason, sizeof(reason)));
}

/* The newest INBOX/rejected/ *.reason file, printed.  A path too long
 * to open is said, never passed over. */
static void daemon_last_refusal(const char *inbox)
{
	char dir[PATH_MAX], path[PATH_MAX], best[NAME_MAX + 1] = "";
	char shown[4 * PATH_MAX + 1], name[4 * NAME_MAX + 1];
	time_t best_time = 0;
	struct dirent *de;
	DIR *dp;

	if ((size_t)snprintf(dir, sizeof(dir), "%s/rejected", inbox) >=
	    sizeof(dir)) {
		printf("last_refusal: %s/rejected: path too long\n",
		       daemon_shown(inbox, shown, sizeof(shown)));
		return;
	}
	dp = opendir(dir);
	if (!dp) {
		printf("last_refusal: none recorded\n");
		return;
	}
	while ((de = readdir(dp)) != NULL) {
		size_t n = strlen(de->d_name);
		struct stat st;

		/* By the directory's descriptor: no path to grow long. */
		if (n < 8 || strcmp(de->d_name + n - 7, ".reason") ||
		    fstatat(dirfd(dp), de->d_name, &st, 0) < 0)
			continue;
		if (st.st_mtime >= best_time) {
			best_time = st.st_mtime;
			util_copy_fit(best, de->d_name, sizeof(best));
		}
	}
	closedir(dp);
	if (!best[0]) {
		printf("last_refusal: none recorded\n");
		return;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, best) >=
	    sizeof(path)) {
		printf("last_refusal: %s/%s: path too long\n",
		       daemon_shown(dir, shown, sizeof(shown)),
		       daemon_shown(best, name, sizeof(name)));
		return;
	}
	daemon_print_refusal(path);
}

/* ------------------------------------------------------------- status */

/* Nagios plugin states, which are also the exit statuses. */
enum { STATE_OK = 0, STATE_WARNING = 1, STATE_CRITICAL = 2,
       STATE_UNKNOWN = 3 };

/* What status found out, from the daemon or from the files. */
struct status_view {
	int daemon;		/* 1 answered, 0 down, -1 not asked */
	char why[512];		/* why down or not asked */
	int known;		/* the catalog's state is known */
	char err[512];		/* why not */
	char id[CATALOG_ID_MAX + 1];
	uint64_t serial, records;
	int64_t age;		/* when serial > 0 */
	int stale;
	char which[CTLPROTO_CATNAME_MAX + 1];	/* of several catalogs, the
						 * one judged ("": the only) */
};

/* Status from the files, the daemon being down; printed unless quiet. */
static void daemon_status_offline(const struct daemon_paths *p,
				  struct status_view *v, int quiet)
{
	struct catalog_info info;
	struct catalog *cat;
	char err[1024], t1[32], t2[32];
	time_t now = time(NULL);

	if (!quiet && v->daemon < 0)
		printf("daemon: unknown (%s); from the files:\n", v->why);
	else if (!quiet)
		printf("daemon: NOT RUNNING (%s); from the files:\n", v->why);
	if (!p->catalog[0]) {
		util_copy_fit(v->err, "no catalog configured", sizeof(v->err));
		if (!quiet)
			printf("catalog: not configured\n");
		return;
	}
	cat = catalog_open(p->catalog, CATALOG_RDONLY, err, sizeof(err));
	if (!cat || catalog_info(cat, &info, err, sizeof(err)) < 0) {
		util_copy_text(v->err, err, sizeof(v->err));
		if (!quiet)
			printf("catalog: %s\n", err);
		catalog_close(cat);
		return;
	}
	catalog_close(cat);
	v->known = 1;
	util_copy_fit(v->id, info.id, sizeof(v->id));
	v->serial = info.serial;
	v->records = info.records;
	v->age = now - info.created;
	v->stale = info.expires && now > info.expires;
	if (quiet)
		return;
	printf("catalog: %s\n", p->catalog);
	printf("catalog_id: %s\n", info.id[0] ? info.id : "(none)");
	if (info.serial == 0) {
		printf("serial: 0 (no catalog installed yet)\n");
	} else {
		printf("serial: %llu\n", (unsigned long long)info.serial);
		printf("epoch: %llu\n", (unsigned long long)info.epoch);
		printf("created: %s (age %llds)\n",
		       util_time_iso((time_t)info.created, t1, sizeof(t1)),
		       (long long)(now - info.created));
		printf("expires: %s%s\n",
		       info.expires ? util_time_iso((time_t)info.expires, t2,
						    sizeof(t2))
				    : "never",
		       v->stale ? " STALE" : "");
	}
	printf("stale: %s\n", v->stale ? "yes" : "no");
	printf("records: %llu (person %llu, group %llu, mailin %llu, domain "
	       "%llu)\n", (unsigned long long)info.records,
	       (unsigned long long)info.count[CATALOG_PERSON],
	       (unsigned long long)info.count[CATALOG_GROUP],
	       (unsigned long long)info.count[CATALOG_MAILIN],
	       (unsigned long long)info.count[CATALOG_DOMAIN]);
	printf("key_id: %s\n", info.key_id[0] ? info.key_id : "none");
	printf("installed: %s\n",
	       info.installed ? util_time_iso((time_t)info.installed, t1,
					      sizeof(t1))
			      : "never");
	if (p->inbox[0])
		daemon_last_refusal(p->inbox);
}

static void status_print_catalogs(const struct ctlproto_status *st);
static void status_view_worst(const struct ctlproto_status *st,
			      struct status_view *v);

/* Several catalogs, the daemon down: each catalog from its file, shown
 * and judged as the daemon's reply would be (no install counters). */
static void daemon_status_offline_catalogs(const struct daemon_paths *p,
					   struct status_view *v, int quiet)
{
	struct ctlproto_status *st;
	char err[1024];
	size_t i;

	if (p->ncatalogs < 2 || !v->known)
		return;
	st = xcalloc(1, sizeof(*st));
	st->now = (int64_t)time(NULL);
	util_copy_fit(st->order, p->order, sizeof(st->order));
	for (i = 0; i < p->ncatalogs; i++) {
		struct ctlproto_catalog *c = &st->catalog_list[i];
		struct catalog_info info;
		struct catalog *cat;

		util_copy_fit(c->name, p->cat[i].name, sizeof(c->name));
		util_copy_fit(c->id, p->cat[i].id, sizeof(c->id));
		util_copy_fit(c->stale_policy,
			      lookup_stale_name(p->cat[i].stale_policy),
			      sizeof(c->stale_policy));
		cat = catalog_open(p->cat[i].path, CATALOG_RDONLY, err,
				   sizeof(err));
		if (cat && catalog_info(cat, &info, err, sizeof(err)) == 0) {
			c->serial = info.serial;
			c->epoch = info.epoch;
			c->created = info.created;
			c->expires = info.expires;
			c->installed = info.installed;
			c->stale = info.expires && st->now > info.expires;
			c->records = info.records;
		} else if (!quiet) {
			printf("catalog %s: %s\n", p->cat[i].name, err);
		}
		catalog_close(cat);
		st->catalogs++;
	}
	if (!quiet)
		status_print_catalogs(st);
	status_view_worst(st, v);
	free(st);
}

static const char *status_time(int64_t t, char *buf, size_t size)
{
	if (t <= 0)
		return "never";
	return util_time_iso((time_t)t, buf, size);
}

static void status_print_catalogs(const struct ctlproto_status *st);

/* catalogd's status reply as people read it: the name: value lines that
 * dircat(1) and docs/catalogd.md show.  Text from the reply is shown
 * escaped. */
static void status_print(const struct ctlproto_status *st)
{
	static const char *const map_names[CTLPROTO_MAPS] = {
		"lookups_recipients", "lookups_domains", "lookups_senders"
	};
	char t1[32], t2[32], a[4 * CTLPROTO_PATH_MAX], b[4 * 600 + 1];
	const struct ctlproto_answers *l = &st->lookups;
	int m;

	printf("daemon: running, pid %lld, up %llds\n", (long long)st->pid,
	       (long long)(st->now - st->started));
	printf("catalog: %s\n", daemon_shown(st->catalog, a, sizeof(a)));
	printf("catalog_id: %s\n", daemon_shown(st->catalog_id, a, sizeof(a)));
	if (st->serial == 0) {
		printf("serial: 0 (no catalog installed yet)\n");
	} else {
		printf("serial: %llu\n", (unsigned long long)st->serial);
		printf("epoch: %llu\n", (unsigned long long)st->epoch);
		printf("created: %s (age %llds)\n",
		       status_time(st->created, t1, sizeof(t1)),
		       (long long)(st->now - st->created));
		printf("expires: %s%s\n",
		       st->expires ? status_time(st->expires, t2, sizeof(t2))
				   : "never", st->stale ? " STALE" : "");
	}
	printf("stale: %s (policy %s)\n", st->stale ? "yes" : "no",
	       daemon_shown(st->stale_policy, a, sizeof(a)));
	printf("records: %llu (person %llu, group %llu, mailin %llu, domain "
	       "%llu)\n", (unsigned long long)st->records,
	       (unsigned long long)st->records_person,
	       (unsigned long long)st->records_group,
	       (unsigned long long)st->records_mailin,
	       (unsigned long long)st->records_domain);
	printf("key_id: %s\n", st->key_id[0] ? daemon_shown(st->key_id, a,
							    sizeof(a))
					     : "none");
	printf("installed: %s\n", status_time(st->installed, t1, sizeof(t1)));
	if (st->last_install > 0) {
		char kind[48];

		if (!strcmp(st->last_install_type, "full"))
			util_copy_fit(kind, "full", sizeof(kind));
		else
			snprintf(kind, sizeof(kind), "delta from %llu",
				 (unsigned long long)st->last_install_base);
		printf("last_install: %s serial %llu %s, %llu records, +%llu "
		       "-%llu ~%llu, %.2fs\n",
		       status_time(st->last_install, t1, sizeof(t1)),
		       (unsigned long long)st->last_install_serial, kind,
		       (unsigned long long)st->last_install_records,
		       (unsigned long long)st->last_install_added,
		       (unsigned long long)st->last_install_removed,
		       (unsigned long long)st->last_install_changed,
		       (double)st->last_install_us / 1e6);
	} else {
		printf("last_install: none since start\n");
	}
	if (st->last_refusal > 0)
		printf("last_refusal: %s %s: %s\n",
		       status_time(st->last_refusal, t1, sizeof(t1)),
		       daemon_shown(st->last_refusal_file, a, sizeof(a)),
		       daemon_shown(st->last_refusal_reason, b, sizeof(b)));
	else
		printf("last_refusal: none since start\n");
	printf("installs: %llu installed, %llu refused since start\n",
	       (unsigned long long)st->installs,
	       (unsigned long long)st->refusals);
	if (st->install_timeouts)
		printf("install_timeouts: %llu since start, the last %s "
		       "(install_timeout %llds)\n",
		       (unsigned long long)st->install_timeouts,
		       status_time(st->last_install_timeout, t1, sizeof(t1)),
		       (long long)st->install_timeout);
	if (st->installing[0])
		printf("installing: %s (%.1fs so far)\n",
		       daemon_shown(st->installing, a, sizeof(a)),
		       (double)st->installing_us / 1e6);
	printf("inbox: %s, %llu snapshot%s waiting, %llu files looked at in "
	       "the last scan (at most %llu)%s\n",
	       daemon_shown(st->inbox, a, sizeof(a)),
	       (unsigned long long)st->inbox_waiting,
	       st->inbox_waiting == 1 ? "" : "s",
	       (unsigned long long)st->inbox_looked,
	       (unsigned long long)st->inbox_scan_max,
	       st->inbox_scan_cut ? ", more left for the next" : "");
	printf("lookups: %llu (hits %llu, misses %llu, temp %llu, perm %llu)\n",
	       (unsigned long long)(l->ok + l->notfound + l->temp + l->perm),
	       (unsigned long long)l->ok, (unsigned long long)l->notfound,
	       (unsigned long long)l->temp, (unsigned long long)l->perm);
	for (m = 0; m < CTLPROTO_MAPS; m++)
		printf("%s: hits %llu, misses %llu, temp %llu\n", map_names[m],
		       (unsigned long long)st->map[m].ok,
		       (unsigned long long)st->map[m].notfound,
		       (unsigned long long)st->map[m].temp);
	printf("policy: pass %llu, reject %llu, defer %llu, no reply %llu\n",
	       (unsigned long long)st->policy_pass,
	       (unsigned long long)st->policy_reject,
	       (unsigned long long)st->policy_defer,
	       (unsigned long long)st->policy_no_reply);
	printf("connections: %llu open, %llu accepted, %llu evicted, %llu "
	       "refused, %llu idle timeouts, %llu request timeouts, %llu bad "
	       "requests, %llu output overflows\n",
	       (unsigned long long)st->connections_open,
	       (unsigned long long)st->connections_accepted,
	       (unsigned long long)st->connections_evicted,
	       (unsigned long long)st->connections_refused,
	       (unsigned long long)st->idle_timeouts,
	       (unsigned long long)st->request_timeouts,
	       (unsigned long long)st->bad_requests,
	       (unsigned long long)st->output_overflows);
	for (m = 0; m < (int)st->sockets && m < CTLPROTO_SOCKETS_MAX; m++) {
		const struct ctlproto_socket *s = &st->socket[m];

		printf("socket %s: %s, %llu open (limit %lld), %llu evicted\n",
		       daemon_shown(s->name, a, sizeof(a)),
		       daemon_shown(s->protocol, b, sizeof(b)),
		       (unsigned long long)s->open, (long long)s->limit,
		       (unsigned long long)s->evicted);
	}
	status_print_catalogs(st);
}

/* The catalogs a node serves, in the order lookups consult them (what
 * Domino's SHOW XDIR shows), and the conflicts between them. */
static void status_print_catalogs(const struct ctlproto_status *st)
{
	char a[4 * CTLPROTO_ORDER_MAX], b[4 * CTLPROTO_SHORT_REASON_MAX + 1];
	char t1[32];
	uint64_t i;

	if (st->catalogs == 0)
		return;	/* a catalogd from before several catalogs */
	printf("catalogs: %s (in this order", daemon_shown(st->order, a,
							   sizeof(a)));
	if (st->domain_orders)
		printf("; %llu domain%s with an order of its own",
		       (unsigned long long)st->domain_orders,
		       st->domain_orders == 1 ? "" : "s");
	printf(")\n");
	for (i = 0; i < st->catalogs && i < CTLPROTO_CATALOGS_MAX; i++) {
		const struct ctlproto_catalog *c = &st->catalog_list[i];

		printf("  %s: ", daemon_shown(c->name, a, sizeof(a)));
		printf("id %s, ", daemon_shown(c->id, a, sizeof(a)));
		if (c->serial == 0) {
			printf("nothing installed yet");
		} else {
			printf("serial %llu, epoch %llu, age %llds, %llu "
			       "records, expires %s, %s",
			       (unsigned long long)c->serial,
			       (unsigned long long)c->epoch,
			       (long long)(st->now - c->created),
			       (unsigned long long)c->records,
			       c->expires ? status_time(c->expires, t1,
							sizeof(t1))
					  : "never",
			       c->stale ? "STALE" : "serving");
		}
		printf(" (stale policy %s)",
		       daemon_shown(c->stale_policy, a, sizeof(a)));
		if (!st->pid) {	/* from the files: no counters */
			printf("\n");
			continue;
		}
		printf(", installs %llu, refused %llu",
		       (unsigned long long)c->installs,
		       (unsigned long long)c->refusals);
		if (c->last_refusal > 0)
			printf(", the last: %s",
			       daemon_shown(c->last_refusal_reason, b,
					    sizeof(b)));
		printf(", conflicts %llu\n",
		       (unsigned long long)c->conflicts);
	}
	if (st->conflicts) {
		char q[4 * (CATALOG_KEY_MAX + 2)], cats[4 * 130 + 1], *comma;

		daemon_shown(st->last_conflict_catalogs, cats, sizeof(cats));
		comma = strchr(cats, ',');
		if (comma)
			*comma = '\0';
		printf("conflicts: %llu, the last %s: %s in %s and %s (%s "
		       "answers, being first)\n",
		       (unsigned long long)st->conflicts,
		       status_time(st->last_conflict, t1, sizeof(t1)),
		       daemon_shown(st->last_conflict_address, q, sizeof(q)),
		       cats, comma ? comma + 1 : "?", cats);
	}
}

/* What the judgement needs, from the daemon's reply. */
static void status_view_from(const struct ctlproto_status *st,
			     struct status_view *v)
{
	v->known = 1;
	util_copy_fit(v->id, st->catalog_id, sizeof(v->id));
	v->serial = st->serial;
	v->records = st->records;
	v->stale = st->stale;
	v->age = st->serial ? st->now - st->created : 0;
	status_view_worst(st, v);
}

/* Several catalogs: the node is as well as its worst one (nothing
 * installed, then expired, then the oldest), named in v->which. */
static void status_view_worst(const struct ctlproto_status *st,
			      struct status_view *v)
{
	if (st->catalogs > 1) {
		const struct ctlproto_catalog *w = NULL;
		uint64_t i;

		for (i = 0; i < st->catalogs && i < CTLPROTO_CATALOGS_MAX;
		     i++) {
			const struct ctlproto_catalog *c = &st->catalog_list[i];

			if (!w || (c->serial == 0 && w->serial != 0) ||
			    (!!c->serial == !!w->serial &&
			     (c->stale > w->stale ||
			      (c->stale == w->stale &&
			       c->created < w->created))))
				w = c;
		}
		util_copy_fit(v->which, w->name, sizeof(v->which));
		util_copy_fit(v->id, w->id, sizeof(v->id));
		v->serial = w->serial;
		v->records = w->records;
		v->stale = w->stale;
		v->age = w->serial ? st->now - w->created : 0;
	}
}

/* Append "; "-separated text to msg. */
static void status_say(char *msg, size_t size, const char *text)
{
	size_t n = strlen(msg);

	if (n && n + 2 < size) {
		util_copy_fit(msg + n, "; ", size - n);
		n += 2;
	}
	if (n < size)
		util_copy_text(msg + n, text, size - n);
}

/* Judge v: the state and, into msg, what is wrong ("" when nothing). */
static int status_judge(const struct status_view *v, int64_t warn,
			int64_t crit, char *msg, size_t size)
{
	char t[700], pre[CTLPROTO_CATNAME_MAX + 16] = "";
	int state = STATE_OK;

	msg[0] = '\0';
	if (v->daemon == 0) {
		snprintf(t, sizeof(t), "catalogd not running (%s)", v->why);
		status_say(msg, size, t);
		state = STATE_CRITICAL;
	} else if (v->daemon < 0) {
		snprintf(t, sizeof(t), "catalogd not asked (%s)", v->why);
		status_say(msg, size, t);
		state = STATE_UNKNOWN;
	}
	if (!v->known) {
		snprintf(t, sizeof(t), "catalog unknown (%s)", v->err);
		status_say(msg, size, t);
		return STATE_CRITICAL;
	}
	/* Of several catalogs, the worst is judged: say which. */
	if (v->which[0])
		snprintf(pre, sizeof(pre), "catalog %s: ", v->which);
	if (v->serial == 0) {
		snprintf(t, sizeof(t), "%sno catalog installed yet", pre);
		status_say(msg, size, t);
		return STATE_CRITICAL;
	}
	if (v->stale) {
		snprintf(t, sizeof(t), "%scatalog expired (stale)", pre);
		status_say(msg, size, t);
		return STATE_CRITICAL;
	}
	if (crit >= 0 && v->age >= crit) {
		snprintf(t, sizeof(t), "%scatalog age %llds over %llds", pre,
			 (long long)v->age, (long long)crit);
		status_say(msg, size, t);
		return STATE_CRITICAL;
	}
	if (state == STATE_CRITICAL)
		return state;
	if (warn >= 0 && v->age >= warn) {
		snprintf(t, sizeof(t), "%scatalog age %llds over %llds", pre,
			 (long long)v->age, (long long)warn);
		status_say(msg, size, t);
		return STATE_WARNING;
	}
	return state;
}

/* The plugin line: "DIRCAT STATE - text | perfdata". */
static void status_nagios(const struct status_view *v, int state,
			  const char *msg, int64_t warn, int64_t crit)
{
	static const char *const names[] = { "OK", "WARNING", "CRITICAL",
					     "UNKNOWN" };
	char text[1400], w[24] = "", c[24] = "";
	size_t i;

	text[0] = '\0';
	if (msg[0])
		snprintf(text, sizeof(text), "%s; ", msg);
	if (v->known && v->serial > 0) {
		size_t n = strlen(text);

		snprintf(text + n, sizeof(text) - n,
			 "catalog %s serial %" PRIu64 ", age %llds, %" PRIu64
			 " records", v->id[0] ? v->id : "?", v->serial,
			 (long long)v->age, v->records);
	} else if (msg[0]) {
		text[strlen(text) - 2] = '\0';	/* no "; " at the end */
	}
	/* One line, and no '|' but the one before the performance data. */
	for (i = 0; text[i]; i++)
		if (text[i] == '|' || text[i] == '\n' || text[i] == '\r')
			text[i] = text[i] == '|' ? '/' : ' ';
	if (warn >= 0)
		snprintf(w, sizeof(w), "%lld", (long long)warn);
	if (crit >= 0)
		snprintf(c, sizeof(c), "%lld", (long long)crit);
	printf("DIRCAT %s - %s |", names[state], text);
	if (v->known && v->serial > 0)
		printf(" age=%llds;%s;%s", (long long)v->age, w, c);
	printf(" records=%" PRIu64 "\n", v->known ? v->records : 0);
}

static const char status_usage[] =
	"usage: dircat status [-c FILE] [-w AGE] [-C AGE] [--nagios]\n"
	"       dircat status --watch FILE [--nagios]\n"
	"  -c FILE   catalogd's configuration (default "
	DAEMON_CONF_DEFAULT ")\n"
	"  --watch FILE\n"
	"            the aggregator's watch mode: its watch_status_file\n"
	"            (CRITICAL when a safety gate holds, WARNING when a\n"
	"            source is retrying)\n"
	"  -w AGE    WARNING when the catalog is older (30m, 2h, 1d)\n"
	"  -C AGE    CRITICAL when the catalog is older\n"
	"  --nagios  one line with performance data, for Nagios/Icinga\n"
	"exit status: 0 OK, 1 WARNING, 2 CRITICAL (daemon down, no catalog,\n"
	"expired, older than -C), 3 UNKNOWN (usage, configuration)\n";

/* dircat status's options. */
struct status_opts {
	const char *file, *watch;
	int64_t warn, crit;	/* -1: not given */
	int nagios;
};

/* Read the options into o.  0, or -1 after a message (usage). */
static int status_options(int argc, char **argv, struct status_opts *o)
{
	static const struct option longopts[] = {
		{ "nagios", no_argument, NULL, 'n' },
		{ "warning", required_argument, NULL, 'w' },
		{ "critical", required_argument, NULL, 'C' },
		{ "config", required_argument, NULL, 'c' },
		{ "watch", required_argument, NULL, 'W' },
		{ NULL, 0, NULL, 0 }
	};
	int opt, i;

	o->file = DAEMON_CONF_DEFAULT;
	o->watch = NULL;
	o->warn = o->crit = -1;
	o->nagios = 0;
	/* Known before any other option, so that its errors come in the
	 * plugin's form. */
	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--nagios"))
			o->nagios = 1;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:w:C:W:", longopts, NULL)) !=
	       -1) {
		switch (opt) {
		case 'c':
			o->file = optarg;
			break;
		case 'W':
			o->watch = optarg;
			break;
		case 'n':
			o->nagios = 1;
			break;
		case 'w':
		case 'C':
			if (util_parse_duration(optarg) < 0) {
				fprintf(stderr, "dircat: status: -%c %s: "
					"expected a duration (90m, 2h, "
					"3600)\n", opt, optarg);
				return -1;
			}
			*(opt == 'w' ? &o->warn : &o->crit) =
				util_parse_duration(optarg);
			break;
		default:
			return -1;
		}
	}
	if (optind != argc)
		return -1;
	if (o->warn >= 0 && o->crit >= 0 && o->warn > o->crit) {
		fprintf(stderr, "dircat: status: -w is longer than -C\n");
		return -1;
	}
	return 0;
}

/* The state into v: from catalogd's status reply, or from the files when
 * it cannot be asked; printed unless quiet. */
static void status_gather(const struct daemon_paths *p,
			  struct status_view *v, int quiet)
{
	struct buf b;

	memset(v, 0, sizeof(*v));
	if (!p->control[0]) {
		v->daemon = -1;
		util_copy_fit(v->why, "no control socket configured",
			      sizeof(v->why));
		daemon_status_offline(p, v, quiet);
		daemon_status_offline_catalogs(p, v, quiet);
	} else if (daemon_control(p->control, "status", &b, v->why,
				  sizeof(v->why)) < 0) {
		v->daemon = 0;
		daemon_status_offline(p, v, quiet);
		daemon_status_offline_catalogs(p, v, quiet);
	} else {
		struct ctlproto_status *st = xmalloc(sizeof(*st));
		char why[256];

		v->daemon = 1;
		if (ctlproto_status_parse((const char *)b.data, b.len, st, why,
					  sizeof(why)) < 0) {
			snprintf(v->err, sizeof(v->err), "catalogd's status "
				 "reply: %s", why);
			if (!quiet)
				printf("daemon: running, but its status reply "
				       "is not understood: %s\n", v->err);
		} else {
			status_view_from(st, v);
			if (!quiet)
				status_print(st);
		}
		free(st);
		buf_free(&b);
	}
}

int admin_status(int argc, char **argv)
{
	struct status_opts o;
	struct status_view v;
	struct daemon_paths p;
	char msg[1200];
	int state;

	if (status_options(argc, argv, &o) < 0) {
		if (o.nagios)
			printf("DIRCAT UNKNOWN - usage: dircat status [-c FILE] "
			       "[-w AGE] [-C AGE] [--nagios]\n");
		fputs(status_usage, stderr);
		return STATE_UNKNOWN;
	}
	if (o.watch)
		return watchstat_show(o.watch, o.nagios);
	if (daemon_read_conf(o.file, &p) < 0) {
		if (o.nagios)
			printf("DIRCAT UNKNOWN - cannot read %s\n", o.file);
		return STATE_UNKNOWN;
	}
	status_gather(&p, &v, o.nagios);
	state = status_judge(&v, o.warn, o.crit, msg, sizeof(msg));
	if (o.nagios)
		status_nagios(&v, state, msg, o.warn, o.crit);
	else if (state != STATE_OK)
		printf("check: %s\n", msg);
	return state;
}

int admin_lookup(int argc, char **argv)
{
	const char *file = DAEMON_CONF_DEFAULT, *map = "recipients";
	const char *sock = NULL, *data, *why;
	struct daemon_paths p;
	struct buf req, rep;
	size_t dlen, used;
	char err[1024];
	int opt, fd, rc = 3;

	optind = 1;
	while ((opt = getopt(argc, argv, "c:m:s:")) != -1) {
		switch (opt) {
		case 'c':
			file = optarg;
			break;
		case 'm':
			map = optarg;
			break;
		case 's':
			sock = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind != 1)
		goto usage;
	if (lookup_map_parse(map, strlen(map)) == LOOKUP_MAP_NONE) {
		fprintf(stderr, "dircat: lookup: unknown map '%s' (recipients, "
			"domains, senders)\n", map);
		return 2;
	}
	if (!sock) {
		if (daemon_read_conf(file, &p) < 0)
			return 3;
		if (!p.socketmap[0]) {
			fprintf(stderr, "dircat: %s: no [socket] with protocol "
				"= socketmap\n", file);
			return 3;
		}
		sock = p.socketmap;
	}
	fd = daemon_connect(sock, err, sizeof(err));
	if (fd < 0) {
		fprintf(stderr, "dircat: lookup: %s (is catalogd running?)\n",
			err);
		return 3;
	}
	buf_init(&req, DAEMON_REPLY_MAX);
	buf_init(&rep, DAEMON_REPLY_MAX);
	buf_append(&req, map, strlen(map));
	buf_append(&req, " ", 1);
	if (buf_append(&req, argv[optind], strlen(argv[optind])) < 0) {
		fprintf(stderr, "dircat: lookup: key too long\n");
		goto out;
	}
	{
		struct buf ns;

		buf_init(&ns, DAEMON_REPLY_MAX);
		netstring_append(&ns, req.data, req.len, NULL, 0);
		if (daemon_send(fd, ns.data, ns.len) < 0 ||
		    daemon_recv(fd, &rep, daemon_netstring_done) < 0) {
			fprintf(stderr, "dircat: lookup: no answer from %s\n",
				sock);
			buf_free(&ns);
			goto out;
		}
		buf_free(&ns);
	}
	if (netstring_parse((const char *)rep.data, rep.len, DAEMON_REPLY_MAX,
			    &data, &dlen, &used, &why) != NETSTRING_DONE) {
		fprintf(stderr, "dircat: lookup: malformed answer from %s\n",
			sock);
		goto out;
	}
	/* Print "OK person" / "NOTFOUND" without a trailing space. */
	printf("%.*s\n", (int)(dlen && data[dlen - 1] == ' ' ? dlen - 1 : dlen),
	       data);
	if (dlen >= 3 && !memcmp(data, "OK ", 3))
		rc = 0;
	else if (dlen >= 8 && !memcmp(data, "NOTFOUND", 8))
		rc = 1;
	else
		rc = 3;
out:
	close(fd);
	buf_free(&req);
	buf_free(&rep);
	return rc;
usage:
	fprintf(stderr, "usage: dircat lookup [-c FILE] [-m MAP] [-s SOCKET] "
		"ADDRESS\n");
	return 2;
}
