/*
 * daemon.h - catalogd's shared state: one struct daemon, made by main.c
 * and handed to every part (server.c serves the sockets from it, install.c
 * installs what arrives in the inbox, report.c reads it for status and
 * metrics).  What several parts do with the state is here too: the
 * wakeup's catalog reader and the catalog's description after an
 * install.  Single-threaded: only inbox work runs elsewhere, in a child
 * process (inbox.c), so lookups never wait for it.
 */
#ifndef CATALOGD_DAEMON_H
#define CATALOGD_DAEMON_H

#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "catalog.h"
#include "conf.h"
#include "lookup.h"

/* What an epoll event points at: the first member of each of these. */
enum daemon_ev {
	EV_LISTENER = 1,
	EV_CONN,
	EV_SIGNAL,
	EV_INOTIFY,
	EV_INSTALL
};

struct conn;
struct install;

/* A listener's connections in one state, oldest first (server.c). */
struct conn_list {
	struct conn *head, *tail;
};

struct listener {
	int ev;			/* EV_LISTENER */
	int fd;
	struct conf_socket cs;
	dev_t dev;		/* of the socket file, to remove only ours */
	ino_t ino;
	size_t nconns;		/* open on this socket */
	struct conn_list busy;	/* a request begun or a reply not taken,
				 * by when that began */
	struct conn_list idle;	/* between requests, by when they went
				 * idle */
	uint64_t evicted;	/* closed to make room on this socket */
	time_t last_full_warn;
};

/* Counters shown by dircat status. */
struct daemon_stats {
	uint64_t answers[LOOKUP_MAPS][4];	/* [map][enum lookup_status] */
	uint64_t policy_pass, policy_reject, policy_defer, policy_fail;
	uint64_t accepted, refused, timeouts, bad_requests, overflows;
	uint64_t evicted;	/* closed to make room for a new client */
	uint64_t request_timeouts;	/* request or reply over the deadline */
};

/*
 * One catalog served (conf.h's struct conf_catalog): its own LMDB file,
 * read transaction, state and installs, so that a bad snapshot, an
 * install or an expiry of one never touches another.  Lookups across
 * them: assist.c.
 */
struct daemon_catalog {
	const struct conf_catalog *cc;	/* in d->conf: re-pointed by a
					 * reload */
	size_t index;		/* in d->cats[] and d->conf->cat[] */
	struct catalog *cat;
	struct catalog_read *rd;	/* this wakeup's read txn, or NULL */
	struct catalog_info info;	/* of the installed catalog */
	struct lookup_state st;
	struct install *install;
	uint64_t conflicts;	/* addresses it also held, answered by a
				 * catalog before it */
};

struct assist;

struct daemon {
	struct conf *conf;
	struct daemon_catalog *cats[CONF_CATALOGS_MAX];	/* conf's order
							 * of the file */
	size_t ncats;
	struct assist *assist;	/* conflicts seen (assist.c) */
	int epfd;
	int sig_ev;		/* EV_SIGNAL */
	int sigfd;
	int spare_fd;		/* kept for running out of descriptors */
	struct listener *listener[CONF_SOCKETS_MAX];
	size_t nlisteners;
	size_t nconns;		/* every socket's */
	struct conn *dead;	/* closed this wakeup, freed after it */
	time_t now;		/* wall clock, once per wakeup */
	time_t started;
	time_t last_full_warn;
	struct daemon_stats stats;
	int stopping;
	int reload;		/* SIGHUP seen */
	int foreground;
};

/* The read transaction of k for this wakeup (begun on first use); NULL
 * when the catalog cannot be read (its answers are TEMP then). */
struct catalog_read *daemon_reader(struct daemon *d, struct daemon_catalog *k);
/* End this wakeup's read transactions, so that the next one sees newly
 * installed catalogs. */
void daemon_reader_end(struct daemon *d);
/* Re-read what k's catalog says about itself (after an install), and
 * tell the service manager. */
void daemon_refresh_info(struct daemon *d, struct daemon_catalog *k);
/* Whether k is past its expiry now (d->now). */
int daemon_stale(const struct daemon *d, const struct daemon_catalog *k);
/* The catalog lookups consult first: its figures are the status reply's
 * and the metrics' catalog fields, as with one catalog. */
struct daemon_catalog *daemon_first(const struct daemon *d);
/* Tell the service manager what is served (a STATUS= line), after
 * READY=1 when ready is set. */
void daemon_notify_status(const struct daemon *d, int ready);

#endif
