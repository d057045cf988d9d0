/*
 * main.c - dircat-fetch: on a DMZ node, poll the manifest the internal
 * host's replicator publishes (on an HTTP origin, behind caches, or in an
 * S3 store) and drop what the node needs into catalogd's inbox; catalogd
 * keeps no network access.  See fetch.h for one poll, fetchconf.h for the
 * settings, man/dircat-fetch.8 for the administrator's view.
 *
 * Runs as a daemon (the default: poll every poll_interval, less a random
 * part of poll_jitter so that a fleet of nodes spreads over the interval)
 * or once (-1, for cron, timers and tests).  SIGTERM and SIGINT stop it
 * between two polls or during a wait; SIGHUP and SIGUSR1 poll now.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "fetch.h"
#include "fetchconf.h"
#include "http.h"
#include "log.h"
#include "util.h"
#include "version.h"

#define FETCH_CONFIG_DEFAULT "/etc/dircat/fetch.conf"

/* Exit statuses (sysexits.h), as in the man page. */
#define FETCH_EXIT_OK      EX_OK
#define FETCH_EXIT_USAGE   EX_USAGE		/* 64 */
#define FETCH_EXIT_REFUSED EX_DATAERR		/* 65: manifest/file refused */
#define FETCH_EXIT_ORIGIN  EX_UNAVAILABLE	/* 69: origin, node */
#define FETCH_EXIT_LOCAL   EX_CANTCREAT		/* 73: inbox, state */
#define FETCH_EXIT_CONFIG  EX_CONFIG		/* 78 */

static volatile sig_atomic_t fetch_stop, fetch_now;

static void fetch_signal(int sig)
{
	if (sig == SIGTERM || sig == SIGINT)
		fetch_stop = 1;
	else
		fetch_now = 1;
}

static void fetch_usage(FILE *f)
{
	fprintf(f,
"usage: dircat-fetch [-c FILE] [-v]... [-1] [-t] [-s] [-V] [-h]\n"
"       dircat-fetch --settings\n"
"\n"
"Poll the catalog's signed manifest and drop the snapshots this node\n"
"needs into catalogd's inbox.\n"
"\n"
"  -c FILE  configuration (default " FETCH_CONFIG_DEFAULT ")\n"
"  -v       more messages: -v each poll's outcome, -vv progress, -vvv\n"
"           libcurl's own conversation\n"
"  -1       poll once and exit (cron, timers); the default is to run as\n"
"           a daemon\n"
"  -t       check the configuration and the trusted keys, then exit\n"
"  -s       show the state (manifest, node, last poll, last error)\n"
"  -V       print the version and exit\n"
"  -h       this help\n"
"  --settings  list every setting of the file with its default, and exit\n"
"\n"
"Exit status with -1:\n"
"  0   the node is current, or files were delivered, or it is waiting\n"
"      for catalogd to install what was delivered\n"
"  65  the manifest or a file was refused: forged, expired (stale),\n"
"      older than one already seen (replayed), another catalog, or not\n"
"      the size and hash the manifest lists\n"
"  69  the origin or cache could not be reached or answered an error,\n"
"      or the node is ahead of the manifest, or catalogd does not install\n"
"  73  the inbox or the state directory could not be written\n"
"  78  configuration error\n");
}

/* Exit status for an outcome. */
static int fetch_exit(int outcome)
{
	switch (outcome) {
	case FETCH_CURRENT:
	case FETCH_DELIVERED:
	case FETCH_WAITING:
		return FETCH_EXIT_OK;
	case FETCH_E_REFUSED:
		return FETCH_EXIT_REFUSED;
	case FETCH_E_LOCAL:
		return FETCH_EXIT_LOCAL;
	}
	return FETCH_EXIT_ORIGIN;
}

/* Sleep up to secs, woken early by a signal.  Bounded: nanosleep in
 * steps of at most a second. */
static void fetch_wait(double secs)
{
	double end = util_now() + secs;

	while (!fetch_stop && !fetch_now) {
		double left = end - util_now();
		struct timespec ts;

		if (left <= 0)
			break;
		if (left > 1.0)
			left = 1.0;
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
	}
}

/* A random time in [0, max] seconds, for the spread of the fleet. */
static double fetch_random(int64_t max)
{
	if (max <= 0)
		return 0;
	return (double)arc4random_uniform((uint32_t)(max * 1000 + 1)) / 1000.0;
}

/* The command line. */
struct fetch_opts {
	const char *conf_path;
	int verbose, once, check, show;
};

/* Read the options into o: -1 to go on, else the exit status (-V, -h, a
 * usage error). */
static int fetch_options(int argc, char **argv, struct fetch_opts *o)
{
	int c;

	memset(o, 0, sizeof(*o));
	o->conf_path = FETCH_CONFIG_DEFAULT;
	while ((c = getopt(argc, argv, "c:v1tsVh")) != -1) {
		switch (c) {
		case 'c':
			o->conf_path = optarg;
			break;
		case 'v':
			o->verbose++;
			break;
		case '1':
			o->once = 1;
			break;
		case 't':
			o->check = 1;
			break;
		case 's':
			o->show = 1;
			break;
		case 'V':
			version_print(stdout, "dircat-fetch");
			printf("libcurl: %s\n", http_version());
			return FETCH_EXIT_OK;
		case 'h':
			fetch_usage(stdout);
			return FETCH_EXIT_OK;
		default:
			fetch_usage(stderr);
			return FETCH_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fetch_usage(stderr);
		return FETCH_EXIT_USAGE;
	}
	return -1;
}

/* Poll once (-1), or every poll_interval until a signal stops it; the
 * exit status. */
static int fetch_serve(struct fetcher *f, const struct fetchconf *conf,
		       const struct fetch_opts *o)
{
	struct sigaction sa;
	int rc;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fetch_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (o->once) {
		rc = fetcher_poll(f, (int64_t)time(NULL));
		if (o->verbose)
			log_info("poll: %s", fetch_outcome_name(rc));
		return fetch_exit(rc);
	}
	log_info("polling %s every %llds (less up to %llds)",
		 conf->manifest_url, (long long)conf->poll_interval,
		 (long long)conf->poll_jitter);
	/* Nodes started together (a reboot of the site) spread. */
	fetch_wait(fetch_random(conf->poll_jitter));
	while (!fetch_stop) {
		fetch_now = 0;
		rc = fetcher_poll(f, (int64_t)time(NULL));
		log_debug("poll: %s", fetch_outcome_name(rc));
		fetch_wait((double)conf->poll_interval -
			   fetch_random(conf->poll_jitter));
	}
	return FETCH_EXIT_OK;
}

int main(int argc, char **argv)
{
	struct fetch_opts o;
	struct fetchconf *conf;
	struct fetcher *f = NULL;
	char err[2048];
	int ret;

	log_init(argv[0], isatty(STDERR_FILENO) ? LOG_DEST_STDERR
						: LOG_DEST_BOTH);
	if (argc == 2 && !strcmp(argv[1], "--settings")) {
		settings_print(stdout, fetchconf_settings);
		return 0;
	}
	ret = fetch_options(argc, argv, &o);
	if (ret >= 0)
		return ret;
	log_set_verbose(o.verbose);
	if (http_global_init(err, sizeof(err)) < 0) {
		log_error("%s", err);
		return FETCH_EXIT_LOCAL;
	}
	conf = fetchconf_load(o.conf_path, err, sizeof(err));
	if (!conf) {
		log_error("%s", err);
		http_global_cleanup();
		return FETCH_EXIT_CONFIG;
	}
	if (o.check) {
		printf("%s: configuration ok, catalog %s, %zu trusted key%s, "
		       "manifest %s\n", o.conf_path, conf->catalog_id,
		       conf->nkeys, conf->nkeys == 1 ? "" : "s",
		       conf->manifest_url);
		ret = FETCH_EXIT_OK;
		goto out;
	}
	f = fetcher_new(conf, err, sizeof(err));
	if (!f) {
		log_error("%s", err);
		ret = FETCH_EXIT_LOCAL;
		goto out;
	}
	if (o.show) {
		fetch_state_print(fetcher_state(f), conf->catalog_id,
				  (int64_t)time(NULL), stdout);
		ret = FETCH_EXIT_OK;
		goto out;
	}
	ret = fetch_serve(f, conf, &o);
out:
	fetcher_free(f);
	fetchconf_free(conf);
	http_global_cleanup();
	return ret;
}
