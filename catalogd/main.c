/*
 * main.c - catalogd: installs signed catalog snapshots that arrive in its
 * inbox and answers the MTA's lookups from the catalog over local sockets.
 *
 * This file only starts and stops things: read and check the
 * configuration (-t stops here), open the listening sockets while root,
 * detach (unless -f), drop to the configured user (setgroups, setresgid,
 * setresuid), open the catalog, watch the inbox, serve, stop.  The parts
 * it starts share one struct daemon (daemon.h): server.c answers the
 * sockets on one epoll loop, install.c follows the inbox, whose rounds of
 * work run in a child process (inbox.c) so a long write transaction never
 * delays an answer, and report.c says how it all stands (status,
 * metrics).  None of them calls back into this file.  SIGHUP re-reads the configuration (a bad file is
 * refused and the running one kept), SIGTERM and SIGINT stop cleanly.
 * Under a service manager ($NOTIFY_SOCKET, notify.c) it reports READY=1
 * once it serves, RELOADING=1 and READY=1 around a reload, STOPPING=1,
 * and a STATUS= line with the serial after each install.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "assist.h"
#include "daemon.h"
#include "install.h"
#include "log.h"
#include "notify.h"
#include "server.h"
#include "util.h"
#include "version.h"

#define MAIN_EVENTS_MAX 256	/* epoll events per wakeup */
#define MAIN_FD_RESERVE 64	/* descriptors beyond every socket's
				 * max_connections: listeners, catalog,
				 * inbox, install child, logging */

static void main_usage(FILE *f)
{
	fprintf(f,
		"usage: catalogd [-c FILE] [-f] [-t] [-v]... [-R]\n"
		"       catalogd --settings\n"
		"  -c FILE  configuration (default %s)\n"
		"  -f       stay in the foreground, log to stderr\n"
		"  -t       check the configuration and exit\n"
		"  -v       debug messages, every lookup included\n"
		"  -R       allow running as root without 'user' (with -f, "
		"for tests)\n"
		"  -V       print the version and exit\n"
		"  -h       this help\n"
		"  --settings  list every setting of the file with its "
		"default, and exit\n"
		"exit status: 0 stopped by a signal or -t passed, 64 usage, "
		"78 configuration,\n1 any other start-up failure\n",
		CONF_DEFAULT_PATH);
}

/* Room for every connection: raise the soft descriptor limit to every
 * socket's max_connections plus a reserve (as root, the hard limit too);
 * warn when that is not possible.  Past the limit, connections are
 * still made room for (server.c), but fewer fit. */
static void main_fd_limit(const struct conf *c)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)c->connections_total + MAIN_FD_RESERVE;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
		return;
	if (rl.rlim_max < want && geteuid() == 0)
		rl.rlim_max = want;
	rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur < want)
		log_warn("file descriptor limit %llu is below the sockets' "
			 "max_connections (%lld together) + %d",
			 (unsigned long long)rl.rlim_cur,
			 (long long)c->connections_total, MAIN_FD_RESERVE);
}

/* Drop root for good: groups, gid, uid, in that order; then check. */
static void main_drop(const struct conf *c)
{
	if (setgroups(1, &c->gid) < 0)
		log_fatal(1, "setgroups: %s", strerror(errno));
	if (setresgid(c->gid, c->gid, c->gid) < 0)
		log_fatal(1, "setresgid: %s", strerror(errno));
	if (setresuid(c->uid, c->uid, c->uid) < 0)
		log_fatal(1, "setresuid: %s", strerror(errno));
	if (setuid(0) == 0)
		log_panic("privileges could be regained after dropping them");
	log_info("running as %s (uid %ld)", c->user, (long)c->uid);
}

/* Detach from the terminal.  The parent waits for the child to say it
 * is serving (one byte on a pipe) so start-up errors reach the caller's
 * exit status.  Returns the write end for the child. */
static int main_detach(void)
{
	int fds[2], nul;
	pid_t pid;
	char b;

	if (pipe2(fds, O_CLOEXEC) < 0)
		log_fatal(1, "pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		log_fatal(1, "fork: %s", strerror(errno));
	if (pid > 0) {
		close(fds[1]);
		_exit(read(fds[0], &b, 1) == 1 ? 0 : 1);
	}
	close(fds[0]);
	if (setsid() < 0)
		log_fatal(1, "setsid: %s", strerror(errno));
	if (chdir("/") < 0)
		log_fatal(1, "chdir /: %s", strerror(errno));
	nul = open("/dev/null", O_RDWR);
	if (nul >= 0) {
		dup2(nul, 0);
		dup2(nul, 1);
		dup2(nul, 2);
		if (nul > 2)
			close(nul);
	}
	return fds[1];
}

/* Open every configured socket; on failure close those opened. */
static int main_listen_all(struct daemon *d, const struct conf *c,
			   struct listener **out, size_t *nout, char *err,
			   size_t errlen)
{
	size_t i, j;

	*nout = 0;
	for (i = 0; i < c->nsockets; i++) {
		struct listener *keep = NULL;

		/* Keep a listener whose path is unchanged (a reload). */
		for (j = 0; d && j < d->nlisteners; j++)
			if (d->listener[j] &&
			    !strcmp(d->listener[j]->cs.path,
				    c->socket[i].path)) {
				keep = d->listener[j];
				break;
			}
		if (keep) {
			const struct conf_socket *n = &c->socket[i];

			if ((n->mode != keep->cs.mode &&
			     chmod(n->path, n->mode) < 0) ||
			    ((n->owner != keep->cs.owner ||
			      n->group != keep->cs.group) &&
			     lchown(n->path, n->owner, n->group) < 0)) {
				util_err(err, errlen,
					 "%s: cannot change owner or mode "
					 "(%s); restart catalogd for that",
					 n->path, strerror(errno));
				goto fail;
			}
			out[(*nout)++] = keep;
			continue;
		}
		out[*nout] = server_listen(&c->socket[i], err, errlen);
		if (!out[*nout])
			goto fail;
		(*nout)++;
	}
	return 0;
fail:
	for (i = 0; i < *nout; i++) {
		int old = 0;

		for (j = 0; d && j < d->nlisteners; j++)
			if (out[i] == d->listener[j])
				old = 1;
		if (!old)
			server_unlisten(out[i]);
	}
	*nout = 0;
	return -1;
}

/*
 * A reload keeps the catalogs running: the same names in the same
 * places.  A catalog added, removed or renamed needs a restart (its
 * files and inbox are opened once, unprivileged); a changed file, id or
 * inbox is kept as running, with a warning, as with one catalog.
 * 0, or -1 with err.
 */
static int main_reload_catalogs(struct daemon *d, struct conf *c, char *err,
				size_t errlen)
{
	size_t i;
	int changed = 0;

	if (c->ncatalogs != d->conf->ncatalogs) {
		util_err(err, errlen, "%zu catalogs configured, %zu running: "
			 "restart catalogd to add or remove one",
			 c->ncatalogs, d->conf->ncatalogs);
		return -1;
	}
	for (i = 0; i < c->ncatalogs; i++) {
		struct conf_catalog *n = &c->cat[i];
		const struct conf_catalog *o = &d->conf->cat[i];

		if (strcmp(n->name, o->name) && !(n->implicit && o->implicit)) {
			util_err(err, errlen, "[catalog %s] where [catalog %s] "
				 "runs: restart catalogd to rename one",
				 n->name, o->name);
			return -1;
		}
		if (strcmp(n->path, o->path) || strcmp(n->id, o->id) ||
		    strcmp(n->inbox, o->inbox))
			changed = 1;
		util_copy_fit(n->name, o->name, sizeof(n->name));
		util_copy_fit(n->path, o->path, sizeof(n->path));
		util_copy_fit(n->id, o->id, sizeof(n->id));
		util_copy_fit(n->inbox, o->inbox, sizeof(n->inbox));
	}
	if (changed)
		log_warn("catalog, catalog_id and inbox changes take effect at "
			 "the next restart");
	util_copy_fit(c->catalog, d->conf->catalog, sizeof(c->catalog));
	util_copy_fit(c->catalog_id, d->conf->catalog_id,
		     sizeof(c->catalog_id));
	util_copy_fit(c->inbox, d->conf->inbox, sizeof(c->inbox));
	return 0;
}

/* SIGHUP: read the configuration again; keep the old one on error. */
static void main_reload(struct daemon *d)
{
	struct listener *nl[CONF_SOCKETS_MAX];
	size_t n, i, j;
	struct conf *c;
	char err[1024];

	log_info("reloading %s", d->conf->file);
	c = conf_load(d->conf->file, err, sizeof(err));
	if (!c) {
		log_error("reload refused, keeping the running configuration: "
			  "%s", err);
		return;
	}
	if (main_reload_catalogs(d, c, err, sizeof(err)) < 0) {
		log_error("reload refused, keeping the running configuration: "
			  "%s", err);
		conf_free(c);
		return;
	}
	if (strcmp(c->user, d->conf->user))
		log_warn("user changes take effect at the next restart");
	util_copy_fit(c->user, d->conf->user, sizeof(c->user));
	c->uid = d->conf->uid;
	c->gid = d->conf->gid;
	if (conf_check_socket_owners(c, d->conf, err, sizeof(err)) < 0 ||
	    main_listen_all(d, c, nl, &n, err, sizeof(err)) < 0) {
		log_error("reload refused, keeping the running configuration: "
			  "%s", err);
		conf_free(c);
		return;
	}
	for (i = 0; i < n; i++) {
		int old = 0;

		for (j = 0; j < d->nlisteners; j++)
			if (nl[i] == d->listener[j])
				old = 1;
		if (!old && server_watch(d, nl[i]) < 0)
			log_error("epoll: %s", strerror(errno));
	}
	/* Close the listeners the new configuration dropped. */
	for (j = 0; j < d->nlisteners; j++) {
		int kept = 0;

		for (i = 0; i < n; i++)
			if (nl[i] == d->listener[j])
				kept = 1;
		if (!kept) {
			epoll_ctl(d->epfd, EPOLL_CTL_DEL, d->listener[j]->fd,
				  NULL);
			server_close_listener(d, d->listener[j]);
			server_unlisten(d->listener[j]);
		}
	}
	for (i = 0; i < n; i++) {
		/* A kept listener takes the new protocol and limits; its
		 * clients keep the protocol they started with. */
		for (j = 0; j < c->nsockets; j++)
			if (!strcmp(nl[i]->cs.path, c->socket[j].path))
				nl[i]->cs = c->socket[j];
		d->listener[i] = nl[i];
	}
	d->nlisteners = n;
	/* The catalogs take their new keys, secrets, stale policy and
	 * routing. */
	for (i = 0; i < d->ncats; i++)
		d->cats[i]->cc = &c->cat[i];
	conf_free(d->conf);
	d->conf = c;
	main_fd_limit(c);
	for (i = 0; i < n; i++)
		server_trim(d, d->listener[i]);
	/* Stale state, and the secret check (hash_secret may have changed):
	 * the cache, filled under the old settings, is emptied too. */
	for (i = 0; i < d->ncats; i++)
		daemon_refresh_info(d, d->cats[i]);
	for (i = j = 0; i < c->ncatalogs; i++)
		j += c->cat[i].ntrusted;
	log_info("configuration reloaded: %zu sockets, %zu trusted keys",
		 n, j);
}

/* Handle the signals queued on the signalfd. */
static void main_signals(struct daemon *d)
{
	struct signalfd_siginfo si;

	while (read(d->sigfd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGHUP:
			d->reload = 1;	/* after this wakeup's events */
			break;
		case SIGTERM:
		case SIGINT:
			log_info("stopping on signal %u", si.ssi_signo);
			d->stopping = 1;
			break;
		default:
			break;	/* SIGCHLD: install.c reaps via its pipe */
		}
	}
}

/* Warn about settings that are valid but defeat their purpose. */
static void main_conf_warnings(const struct conf *c)
{
	size_t i;

	for (i = 0; i < c->internal_networks.n; i++)
		if (c->internal_networks.net[i].prefix == 0) {
			log_warn("%s: internal_networks holds %s: every "
				 "client counts as internal, so internal-only "
				 "addresses take mail from anyone", c->file,
				 c->internal_networks.net[i].family == 4 ?
					 "0.0.0.0/0" : "::/0");
			break;
		}
}

/* Print what -t checked. */
static void main_checkconf(const struct conf *c)
{
	size_t i;

	printf("%s: configuration ok\n", c->file);
	for (i = 0; i < c->ncatalogs; i++) {
		const struct conf_catalog *k = &c->cat[i];
		size_t j;

		printf("%s%s%scatalog %s (id %s), inbox %s, %zu trusted "
		       "key%s\n", k->implicit ? "" : "[catalog ",
		       k->implicit ? "" : k->name, k->implicit ? "" : "] ",
		       k->path, k->id, k->inbox, k->ntrusted,
		       k->ntrusted == 1 ? "" : "s");
		for (j = 0; j < k->ntrusted; j++)
			printf("trusted key %s\n",
			       sign_keyring_id(k->keyring, j));
		if (k->route_field[0] || k->route_default[0])
			printf("routes: field %s, default %s, transport %s\n",
			       k->route_field[0] ? k->route_field : "(none)",
			       k->route_default[0] ? k->route_default
						   : "(none)",
			       k->transport_template);
	}
	if (c->ncatalogs > 1 || c->ndomains) {
		printf("order:");
		for (i = 0; i < c->norder; i++)
			printf("%s %s", i ? "," : "", c->cat[c->order[i]].name);
		printf("\n");
	}
	for (i = 0; i < c->ndomains; i++) {
		const struct conf_domain *dm = &c->domain[i];
		size_t j;

		printf("[domain %s] order:", dm->name);
		for (j = 0; j < dm->norder; j++)
			printf("%s %s", j ? "," : "",
			       c->cat[dm->order[j]].name);
		printf("%s%s%s\n", dm->norder ? "" : " (the top level's)",
		       dm->route_default[0] ? ", route_default " : "",
		       dm->route_default);
	}
	for (i = 0; i < c->nsockets; i++)
		printf("[socket %s] %s %s mode %04o, max_connections %lld\n",
		       c->socket[i].name,
		       conf_protocol_name(c->socket[i].protocol),
		       c->socket[i].path, c->socket[i].mode,
		       (long long)c->socket[i].max_connections);
	printf("request_timeout %llds, idle_timeout %llds, %lld connections "
	       "on all sockets together\n", (long long)c->request_timeout,
	       (long long)c->idle_timeout, (long long)c->connections_total);
	printf("user %s, stale_policy %s, extension_delimiter '%s'\n",
	       c->user[0] ? c->user : "(none)",
	       lookup_stale_name(c->lookup.stale_policy), c->lookup.delims);
}

/* What the command line asks for. */
struct main_opts {
	const char *file;
	int check, root_ok, verbose, foreground;
};

/* Read the command line: -1 to go on, else the exit status. */
static int main_options(int argc, char **argv, struct main_opts *o)
{
	int opt;

	memset(o, 0, sizeof(*o));
	o->file = CONF_DEFAULT_PATH;
	if (argc == 2 && !strcmp(argv[1], "--settings")) {
		settings_print(stdout, conf_settings);
		return 0;
	}
	while ((opt = getopt(argc, argv, "c:ftvRhV")) != -1) {
		switch (opt) {
		case 'c':
			o->file = optarg;
			break;
		case 'f':
			o->foreground = 1;
			break;
		case 't':
			o->check = 1;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'R':
			o->root_ok = 1;
			break;
		case 'h':
			main_usage(stdout);
			return 0;
		case 'V':
			version_print(stdout, "catalogd");
			return 0;
		default:
			main_usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind != argc) {
		main_usage(stderr);
		return EX_USAGE;
	}
	return -1;
}

/* Which account may run the configuration: not root without 'user'
 * (unless -R in the foreground), and the configured user itself. */
static void main_check_account(const struct daemon *d,
			       const struct main_opts *o)
{
	if (geteuid() == 0 && !d->conf->user[0] &&
	    !(o->root_ok && o->foreground))
		log_fatal(EX_CONFIG, "%s: refusing to run as root: set 'user' "
			  "to an unprivileged account", o->file);
	if (geteuid() != 0 && d->conf->user[0] && geteuid() != d->conf->uid)
		log_fatal(EX_CONFIG, "%s: user %s is configured; start catalogd "
			  "as root or as that user", o->file, d->conf->user);
}

/* The loop's descriptors: signals (blocked, read through a signalfd) and
 * every listener on one epoll set. */
static void main_watch(struct daemon *d, const sigset_t *sigs)
{
	struct epoll_event e = { .events = EPOLLIN, .data.ptr = &d->sig_ev };
	size_t i;

	d->sigfd = signalfd(-1, sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->sigfd < 0 || d->epfd < 0)
		log_fatal(1, "signalfd/epoll: %s", strerror(errno));
	d->sig_ev = EV_SIGNAL;
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->sigfd, &e) < 0)
		log_fatal(1, "epoll: %s", strerror(errno));
	for (i = 0; i < d->nlisteners; i++)
		if (server_watch(d, d->listener[i]) < 0)
			log_fatal(1, "epoll: %s", strerror(errno));
}

/* Unprivileged from here on: each catalog and its inbox. */
static void main_open(struct daemon *d)
{
	char err[1024];
	size_t i;

	d->now = time(NULL);
	d->started = d->now;
	d->assist = assist_new();
	for (i = 0; i < d->conf->ncatalogs; i++) {
		struct daemon_catalog *k = xcalloc(1, sizeof(*k));

		k->cc = &d->conf->cat[i];
		k->index = i;
		d->cats[d->ncats++] = k;
		k->cat = catalog_open(k->cc->path, 0, err, sizeof(err));
		if (!k->cat)
			log_fatal(1, "%s", err);
		k->st.cache = lookup_cache_new();
		daemon_refresh_info(d, k);
		k->install = install_new(d, k, err, sizeof(err));
		if (!k->install)
			log_fatal(1, "%s", err);
		install_write_status(d, k);
		if (k->info.serial && k->cc->implicit)
			log_info("serving catalog %s serial %llu (%llu "
				 "records)%s", k->info.id,
				 (unsigned long long)k->info.serial,
				 (unsigned long long)k->info.records,
				 k->st.stale ? ", EXPIRED" : "");
		else if (k->info.serial)
			log_info("serving catalog %s (id %s) serial %llu "
				 "(%llu records)%s", k->cc->name, k->info.id,
				 (unsigned long long)k->info.serial,
				 (unsigned long long)k->info.records,
				 k->st.stale ? ", EXPIRED" : "");
		else if (k->cc->implicit)
			log_warn("no catalog installed yet: lookups get a "
				 "temporary failure until the first snapshot "
				 "arrives in %s", k->cc->inbox);
		else
			log_warn("catalog %s: nothing installed yet: the "
				 "addresses it may hold get a temporary "
				 "failure until its first snapshot arrives "
				 "in %s", k->cc->name, k->cc->inbox);
		install_scan(d, k);
	}
}

/*
 * Start: the sockets while privileged, detach (unless -f), drop to the
 * configured user, then open the catalog and the inbox, and say so to
 * the starting process and the service manager.
 */
static void main_start(struct daemon *d)
{
	char err[1024];
	sigset_t sigs;
	int ready = -1;

	notify_init();
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGCHLD);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	main_fd_limit(d->conf);
	d->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	/* Privileged: the sockets (paths under /run, chown). */
	if (main_listen_all(NULL, d->conf, d->listener, &d->nlisteners, err,
			    sizeof(err)) < 0)
		log_fatal(1, "%s", err);
	if (!d->foreground) {
		log_init("catalogd", LOG_DEST_SYSLOG);
		ready = main_detach();
	}
	if (geteuid() == 0 && d->conf->user[0])
		main_drop(d->conf);
	prctl(PR_SET_DUMPABLE, 0);
	main_watch(d, &sigs);
	main_open(d);
	if (ready >= 0) {
		if (write(ready, "", 1) != 1)
			log_warn("could not tell the starting process: %s",
				 strerror(errno));
		close(ready);
	}
	daemon_notify_status(d, 1);
	log_info("ready: %zu sockets", d->nlisteners);
}

/* The event loop, until SIGTERM or SIGINT. */
static void main_serve(struct daemon *d)
{
	struct epoll_event ev[MAIN_EVENTS_MAX];
	int i, n, timeout, t2;

	while (!d->stopping) {
		timeout = server_expire(d, 0);
		t2 = install_tick(d);
		if (t2 < timeout)
			timeout = t2;
		n = epoll_wait(d->epfd, ev, MAIN_EVENTS_MAX, timeout);
		if (n < 0 && errno != EINTR)
			log_fatal(1, "epoll_wait: %s", strerror(errno));
		d->now = time(NULL);
		for (i = 0; i < (int)d->ncats; i++)
			d->cats[i]->st.stale = daemon_stale(d, d->cats[i]);
		for (i = 0; i < n; i++) {
			int kind = *(int *)ev[i].data.ptr;

			if (kind == EV_SIGNAL)
				main_signals(d);
			else if (kind == EV_INOTIFY || kind == EV_INSTALL)
				install_event(d, ev[i].data.ptr);
			else
				server_event(d, ev[i].data.ptr, ev[i].events);
		}
		/* One read transaction per wakeup: end it so the next
		 * wakeup sees a newly installed catalog. */
		daemon_reader_end(d);
		if (d->reload) {
			d->reload = 0;
			notify_reloading();
			main_reload(d);
			daemon_notify_status(d, 1);
		}
		/* No event of this wakeup is left to point at them. */
		server_reap(d);
	}
}

/* Stop: the install, the connections and sockets, then the rest. */
static void main_stop(struct daemon *d)
{
	size_t i;

	notify_send("STOPPING=1\nSTATUS=stopping");
	for (i = 0; i < d->ncats; i++)
		install_stop(d, d->cats[i]);
	server_close_all(d);
	for (i = 0; i < d->nlisteners; i++)
		server_unlisten(d->listener[i]);
	daemon_reader_end(d);
	for (i = 0; i < d->ncats; i++) {
		install_free(d->cats[i]->install);
		catalog_close(d->cats[i]->cat);
		lookup_cache_free(d->cats[i]->st.cache);
		free(d->cats[i]);
	}
	assist_free(d->assist);
	conf_free(d->conf);
	close(d->epfd);
	close(d->sigfd);
	log_info("stopped");
	notify_close();
}

int main(int argc, char **argv)
{
	struct main_opts o;
	struct daemon d;
	char err[1024];
	int rc, owners;

	memset(&d, 0, sizeof(d));
	if ((rc = main_options(argc, argv, &o)) >= 0)
		return rc;
	d.foreground = o.foreground;
	log_init("catalogd", d.foreground || o.check ? LOG_DEST_STDERR
						     : LOG_DEST_BOTH);
	log_set_verbose(1 + o.verbose);	/* installs and refusals at least */
	d.conf = conf_load(o.file, err, sizeof(err));
	if (!d.conf) {
		log_error("%s", err);
		return EX_CONFIG;
	}
	/* Before anything is opened: a socket group this account cannot
	 * set is a configuration error (78, file:line), not a chown
	 * failure half-way through the start. */
	owners = conf_check_socket_owners(d.conf, NULL, err, sizeof(err));
	if (owners < 0) {
		log_error("%s", err);
		conf_free(d.conf);
		return EX_CONFIG;
	}
	main_conf_warnings(d.conf);
	if (o.check) {
		main_checkconf(d.conf);
		if (owners > 0 && !d.conf->user[0])
			printf("socket owners and groups not checked: run as "
			       "root without 'user'; check as the account "
			       "that runs catalogd (runuser -u ACCOUNT -- "
			       "catalogd -t)\n");
		conf_free(d.conf);
		return 0;
	}
	main_check_account(&d, &o);
	main_start(&d);
	main_serve(&d);
	main_stop(&d);
	return 0;
}
