/*
 * daemon.c - dircat status and dircat lookup: ask the running catalogd.
 *
 * Both read catalogd's configuration (-c, default
 * /etc/dircat/catalogd.conf) only for the settings they need: the control
 * socket ([socket NAME] with protocol = control), the first socketmap
 * socket, the catalog file and the inbox.  When the daemon does not
 * answer, status falls back to the catalog file, INBOX/status and the
 * newest INBOX/rejected/NAME.reason, and says the daemon is down.
 * Exit status: 0 fine / found, 1 not found, stale or daemon down, 2 usage,
 * 3 error.
 */
#include <dirent.h>
#include <errno.h>
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
#include "config.h"
#include "lookup.h"
#include "netstring.h"
#include "util.h"

#define DAEMON_CONF_DEFAULT "/etc/dircat/catalogd.conf"
#define DAEMON_TIMEOUT_MS   10000	/* for one answer */
#define DAEMON_REPLY_MAX    (256 * 1024)
#define DAEMON_STATUS_MAX   4096	/* INBOX/status, a .reason file */

/* What dircat needs from catalogd's configuration. */
struct daemon_paths {
	char control[PATH_MAX];
	char socketmap[PATH_MAX];
	char catalog[PATH_MAX];
	char inbox[PATH_MAX];
};

static int daemon_read_conf(const char *file, struct daemon_paths *p)
{
	const struct config_section *top, *sec = NULL;
	struct config *cfg;
	const char *v;
	char err[1024];

	memset(p, 0, sizeof(*p));
	cfg = config_load(file, err, sizeof(err));
	if (!cfg) {
		fprintf(stderr, "dircat: %s\n", err);
		return -1;
	}
	top = config_top(cfg);
	if ((v = config_get(top, "catalog", NULL)))
		util_strlcpy(p->catalog, v, sizeof(p->catalog));
	if ((v = config_get(top, "inbox", NULL)))
		util_strlcpy(p->inbox, v, sizeof(p->inbox));
	while ((sec = config_next(cfg, sec, "socket")) != NULL) {
		const char *proto = config_get(sec, "protocol", NULL);
		const char *path = config_get(sec, "path", NULL);

		if (!proto || !path)
			continue;
		if (!strcmp(proto, "control") && !p->control[0])
			util_strlcpy(p->control, path, sizeof(p->control));
		if (!strcmp(proto, "socketmap") && !p->socketmap[0])
			util_strlcpy(p->socketmap, path, sizeof(p->socketmap));
	}
	config_free(cfg);
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
	return b->len >= 2 && b->data[b->len - 1] == '\n' &&
	       b->data[b->len - 2] == '\n';
}

/* One complete netstring. */
static int daemon_netstring_done(struct buf *b)
{
	const char *data, *why;
	size_t dlen, used;

	return netstring_parse((const char *)b->data, b->len, DAEMON_REPLY_MAX,
			       &data, &dlen, &used, &why) != NETSTRING_MORE;
}

/* Print a file's "key=value" lines as "key: value". */
static void daemon_print_kv(const char *path, const char *prefix)
{
	char err[512], *text, *line, *save = NULL;
	size_t len;

	text = util_read_file(path, DAEMON_STATUS_MAX, &len, err, sizeof(err));
	if (!text) {
		printf("%s%s\n", prefix, err);
		return;
	}
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');

		if (eq) {
			*eq = '\0';
			printf("%s%s: %s\n", prefix, line, eq + 1);
		}
	}
	free(text);
}

/* The newest INBOX/rejected/ *.reason file, printed. */
static void daemon_last_refusal(const char *inbox)
{
	char dir[PATH_MAX], best[PATH_MAX] = "";
	time_t best_time = 0;
	struct dirent *de;
	DIR *dp;

	if ((size_t)snprintf(dir, sizeof(dir), "%s/rejected", inbox) >=
	    sizeof(dir))
		return;
	dp = opendir(dir);
	if (!dp) {
		printf("last_refusal: none recorded\n");
		return;
	}
	while ((de = readdir(dp)) != NULL) {
		char path[PATH_MAX];
		size_t n = strlen(de->d_name);
		struct stat st;

		if (n < 8 || strcmp(de->d_name + n - 7, ".reason") ||
		    (size_t)snprintf(path, sizeof(path), "%s/%s", dir,
				     de->d_name) >= sizeof(path) ||
		    stat(path, &st) < 0)
			continue;
		if (st.st_mtime >= best_time) {
			best_time = st.st_mtime;
			util_strlcpy(best, path, sizeof(best));
		}
	}
	closedir(dp);
	if (!best[0]) {
		printf("last_refusal: none recorded\n");
		return;
	}
	daemon_print_kv(best, "last_refusal_");
}

/* Status from the files, the daemon being down.  Exit status. */
static int daemon_status_offline(const struct daemon_paths *p,
				 const char *why)
{
	struct catalog_info info;
	struct catalog *cat;
	char err[1024], t1[32], t2[32];
	time_t now = time(NULL);

	if (!strcmp(why, "no control socket configured"))
		printf("daemon: unknown (%s); from the files:\n", why);
	else
		printf("daemon: NOT RUNNING (%s); from the files:\n", why);
	if (!p->catalog[0]) {
		printf("catalog: not configured\n");
		return 1;
	}
	cat = catalog_open(p->catalog, CATALOG_RDONLY, err, sizeof(err));
	if (!cat || catalog_info(cat, &info, err, sizeof(err)) < 0) {
		printf("catalog: %s\n", err);
		catalog_close(cat);
		return 3;
	}
	catalog_close(cat);
	printf("catalog: %s\n", p->catalog);
	printf("catalog_id: %s\n", info.id[0] ? info.id : "(none)");
	if (info.serial == 0) {
		printf("serial: 0 (no catalog installed yet)\n");
	} else {
		printf("serial: %llu\n", (unsigned long long)info.serial);
		printf("created: %s (age %llds)\n",
		       util_time_iso((time_t)info.created, t1, sizeof(t1)),
		       (long long)(now - info.created));
		printf("expires: %s%s\n",
		       info.expires ? util_time_iso((time_t)info.expires, t2,
						    sizeof(t2))
				    : "never",
		       info.expires && now > info.expires ? " STALE" : "");
	}
	printf("stale: %s\n",
	       info.expires && now > info.expires ? "yes" : "no");
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
	return 1;
}

int admin_status(int argc, char **argv)
{
	const char *file = DAEMON_CONF_DEFAULT;
	struct daemon_paths p;
	struct buf b;
	char err[1024];
	int opt, fd, rc;

	optind = 1;
	while ((opt = getopt(argc, argv, "c:")) != -1) {
		if (opt != 'c') {
			fprintf(stderr, "usage: dircat status [-c FILE]\n");
			return 2;
		}
		file = optarg;
	}
	if (optind != argc) {
		fprintf(stderr, "usage: dircat status [-c FILE]\n");
		return 2;
	}
	if (daemon_read_conf(file, &p) < 0)
		return 3;
	if (!p.control[0])
		return daemon_status_offline(&p, "no control socket configured");
	fd = daemon_connect(p.control, err, sizeof(err));
	if (fd < 0)
		return daemon_status_offline(&p, err);
	buf_init(&b, DAEMON_REPLY_MAX);
	if (daemon_send(fd, "status\n", 7) < 0 ||
	    daemon_recv(fd, &b, daemon_control_done) < 0 || b.len == 0) {
		close(fd);
		buf_free(&b);
		return daemon_status_offline(&p, "no answer on the control "
					     "socket");
	}
	close(fd);
	/* The reply's last line is empty: print without it. */
	fwrite(b.data, 1, b.len - 1, stdout);
	rc = strstr((char *)b.data, "\nstale: yes") ||
	     strstr((char *)b.data, "\nserial: 0 ") ? 1 : 0;
	buf_free(&b);
	return rc;
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
