/*
 * metrics.c - dircat metrics: the DMZ node in Prometheus text format, for
 * node_exporter's textfile collector (-o FILE, replaced atomically) or
 * any scraper that runs a command.
 *
 * The live numbers come from catalogd's control socket (the `metrics`
 * command: catalog, lookups, policy, connections, installs, refusals,
 * dircat_catalogd_up 1).  When catalogd does not answer, the catalog file
 * is read instead (read-only) and dircat_catalogd_up is 0: a daemon that
 * is down shows as a value, not as missing data.  In both cases the inbox
 * is looked at from here: INBOX/status (what the replicator reads back),
 * snapshots waiting, refused files kept in INBOX/rejected/.
 *
 * Exit status: 0 written (also when catalogd is down), 2 usage, 3 error
 * (configuration unreadable, output not written).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "catalog.h"
#include "daemon.h"
#include "metrics.h"
#include "nodestatus.h"
#include "util.h"

#define METRICS_OUT_MAX    (DAEMON_REPLY_MAX + 64 * 1024)	/* bytes */
#define METRICS_SCAN_MAX   100000	/* directory entries looked at */

/* Is the daemon's reply an exposition?  Bounded by its length: no NUL
 * inside, starts with a comment, ends with a newline. */
static int metrics_reply_ok(const struct buf *b)
{
	return b->len >= 8 && !memcmp(b->data, "# HELP ", 7) &&
	       !memchr(b->data, '\0', b->len) && b->data[b->len - 1] == '\n';
}

/* The catalog file, catalogd being down. */
static void metrics_offline(struct metrics *m, const struct daemon_paths *p)
{
	struct catalog_info info;
	struct catalog *cat;
	char err[1024];
	int64_t now = (int64_t)time(NULL);

	metrics_gauge(m, "dircat_catalogd_up",
		      "1 when catalogd answered on its control socket.", 0);
	if (!p->catalog[0]) {
		fprintf(stderr, "dircat: metrics: no catalog configured\n");
		return;
	}
	cat = catalog_open(p->catalog, CATALOG_RDONLY, err, sizeof(err));
	if (!cat || catalog_info(cat, &info, err, sizeof(err)) < 0) {
		fprintf(stderr, "dircat: metrics: %s\n", err);
		catalog_close(cat);
		return;
	}
	catalog_close(cat);
	metrics_catalog(m, &info, now, info.expires && now > info.expires);
}

/* INBOX/status: serial and stale as catalogd last wrote them. */
static void metrics_inbox_status(struct metrics *m, const char *inbox)
{
	char path[PATH_MAX], err[PATH_MAX + 512];
	struct nodestatus ns;
	struct stat st;

	if ((size_t)snprintf(path, sizeof(path), "%s/status", inbox) >=
	    sizeof(path)) {
		fprintf(stderr, "dircat: metrics: %s/status: path too long\n",
			inbox);
		return;
	}
	if (stat(path, &st) < 0) {
		if (errno != ENOENT)
			fprintf(stderr, "dircat: metrics: %s: %s\n", path,
				strerror(errno));
		return;
	}
	if (nodestatus_read(path, &ns, err, sizeof(err)) < 0) {
		fprintf(stderr, "dircat: metrics: %s\n", err);
	} else {
		metrics_gauge(m, "dircat_inbox_status_serial",
			      "The serial INBOX/status reports (what the "
			      "replicator reads back).", (int64_t)ns.serial);
		metrics_gauge(m, "dircat_inbox_status_stale",
			      "1 when INBOX/status says the catalog is stale.",
			      ns.stale);
	}
	metrics_gauge(m, "dircat_inbox_status_timestamp_seconds",
		      "When catalogd last rewrote INBOX/status (Unix time).",
		      (int64_t)st.st_mtime);
}

/* Snapshots waiting in dir (names ending in .snap, not hidden); with
 * reasons set, the *.reason files and the newest one's time instead.
 * -1 when dir cannot be read. */
static int64_t metrics_count(const char *dir, int reasons, int64_t *newest)
{
	struct dirent *de;
	int64_t n = 0, seen = 0;
	DIR *dp = opendir(dir);

	*newest = 0;
	if (!dp)
		return -1;
	while ((de = readdir(dp)) != NULL && seen++ < METRICS_SCAN_MAX) {
		const char *name = de->d_name;
		size_t len = strlen(name);
		struct stat st;

		if (name[0] == '.')
			continue;
		if (!reasons) {
			if (len > 5 && !strcmp(name + len - 5, ".snap"))
				n++;
			continue;
		}
		if (len < 8 || strcmp(name + len - 7, ".reason"))
			continue;
		n++;
		/* By the directory's descriptor: no path to grow long. */
		if (fstatat(dirfd(dp), name, &st, 0) == 0 &&
		    st.st_mtime > *newest)
			*newest = (int64_t)st.st_mtime;
	}
	closedir(dp);
	return n;
}

/* What the inbox holds, daemon up or down. */
static void metrics_inbox(struct metrics *m, const char *inbox)
{
	char dir[PATH_MAX];
	int64_t n, newest;

	if (!inbox[0])
		return;
	metrics_inbox_status(m, inbox);
	n = metrics_count(inbox, 0, &newest);
	if (n < 0) {
		fprintf(stderr, "dircat: metrics: inbox %s: %s\n", inbox,
			strerror(errno));
		return;
	}
	metrics_gauge(m, "dircat_inbox_snapshots",
		      "Snapshots in the inbox waiting to be installed.", n);
	if ((size_t)snprintf(dir, sizeof(dir), "%s/rejected", inbox) >=
	    sizeof(dir)) {
		fprintf(stderr, "dircat: metrics: %s/rejected: path too long\n",
			inbox);
		return;
	}
	n = metrics_count(dir, 1, &newest);
	if (n < 0)
		n = 0;	/* catalogd makes it at its first start */
	metrics_gauge(m, "dircat_inbox_rejected",
		      "Refused snapshots kept in INBOX/rejected/ (at most "
		      "rejected_keep).", n);
	if (newest > 0)
		metrics_gauge(m, "dircat_inbox_last_rejected_timestamp_seconds",
			      "When the newest file in INBOX/rejected/ was "
			      "refused (Unix time).", newest);
}

int admin_metrics(int argc, char **argv)
{
	const char *file = DAEMON_CONF_DEFAULT, *out = NULL;
	struct daemon_paths p;
	struct metrics m;
	struct buf b, reply;
	char why[1024], err[1024];
	int opt, rc = 0;

	optind = 1;
	while ((opt = getopt(argc, argv, "c:o:")) != -1) {
		switch (opt) {
		case 'c':
			file = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc)
		goto usage;
	if (daemon_read_conf(file, &p) < 0)
		return 3;
	buf_init(&b, METRICS_OUT_MAX);
	metrics_init(&m, &b);
	if (p.control[0] &&
	    daemon_control(p.control, "metrics", &reply, why, sizeof(why)) ==
		    0) {
		if (metrics_reply_ok(&reply)) {
			/* Without the empty line that ends the reply. */
			if (buf_append(&b, reply.data, reply.len - 1) < 0)
				m.failed = 1;
		} else {
			fprintf(stderr, "dircat: metrics: catalogd answered "
				"%.80s\n", reply.len ? (char *)reply.data : "");
			metrics_offline(&m, &p);
		}
		buf_free(&reply);
	} else {
		metrics_offline(&m, &p);
	}
	metrics_inbox(&m, p.inbox);
	if (m.failed) {
		fprintf(stderr, "dircat: metrics: more than %d bytes\n",
			METRICS_OUT_MAX);
		buf_free(&b);
		return 3;
	}
	if (out) {
		if (util_write_file_atomic(out, b.data, b.len, 0644, err,
					   sizeof(err)) < 0) {
			fprintf(stderr, "dircat: metrics: %s\n", err);
			rc = 3;
		}
	} else if (fwrite(b.data, 1, b.len, stdout) != b.len ||
		   fflush(stdout) != 0) {
		fprintf(stderr, "dircat: metrics: write: %s\n",
			strerror(errno));
		rc = 3;
	}
	buf_free(&b);
	return rc;
usage:
	fprintf(stderr, "usage: dircat metrics [-c FILE] [-o FILE]\n"
		"  -c FILE   catalogd's configuration (default "
		DAEMON_CONF_DEFAULT ")\n"
		"  -o FILE   write FILE atomically (for node_exporter's "
		"textfile collector: NAME.prom)\n");
	return 2;
}
