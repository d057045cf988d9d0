/*
 * catalogd.h - the daemon's shared state: one struct daemon, owned by the
 * event loop (main.c); server.c serves the sockets from it and install.c
 * installs what arrives in the inbox.  Single-threaded: only the install
 * runs elsewhere, in a child process, so lookups never wait for it.
 */
#ifndef CATALOGD_CATALOGD_H
#define CATALOGD_CATALOGD_H

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
	uint64_t answers[4][4];	/* [map][enum lookup_status] */
	uint64_t policy_pass, policy_reject, policy_defer, policy_fail;
	uint64_t accepted, refused, timeouts, bad_requests, overflows;
	uint64_t evicted;	/* closed to make room for a new client */
	uint64_t request_timeouts;	/* request or reply over the deadline */
};

struct daemon {
	struct conf *conf;
	struct catalog *cat;
	int epfd;
	int sig_ev;		/* EV_SIGNAL */
	int sigfd;
	int spare_fd;		/* kept for running out of descriptors */
	struct listener *listener[CONF_SOCKETS_MAX];
	size_t nlisteners;
	size_t nconns;		/* every socket's */
	struct conn *dead;	/* closed this wakeup, freed after it */
	struct catalog_read *rd;	/* this wakeup's read txn, or NULL */
	struct catalog_info info;	/* of the installed catalog */
	struct lookup_state st;
	time_t now;		/* wall clock, once per wakeup */
	time_t started;
	time_t last_full_warn;
	struct install *install;
	struct daemon_stats stats;
	int stopping;
	int reload;		/* SIGHUP seen */
	int foreground;
};

/* main.c */
/* The read transaction of this wakeup (begun on first use); NULL when
 * the catalog cannot be read (answers are TEMP then). */
struct catalog_read *daemon_reader(struct daemon *d);
/* Re-read what the catalog says about itself (after an install). */
void daemon_refresh_info(struct daemon *d);

/* server.c */
/* Create, chmod and chown the listening socket of cs.  NULL with err. */
struct listener *server_listen(const struct conf_socket *cs, char *err,
			       size_t errlen);
/* Close a listener and remove its socket file when it is still ours. */
void server_unlisten(struct listener *l);
int server_watch(struct daemon *d, struct listener *l);
/* Handle an event for a listener or connection. */
void server_event(struct daemon *d, void *ptr, uint32_t events);
/* Close connections past request_timeout or idle_timeout; returns ms
 * until the next may expire. */
int server_expire(struct daemon *d, double mono);
/* Free the connections closed since the last call: after each wakeup's
 * events, so that none of them points at freed memory. */
void server_reap(struct daemon *d);
/* Close the connections of l (a listener a reload drops). */
void server_close_listener(struct daemon *d, struct listener *l);
/* Bring l down to its max_connections (lowered by a reload). */
void server_trim(struct daemon *d, struct listener *l);
void server_close_all(struct daemon *d);
/* The status reply (ctlproto.h) into out; -1 when it does not fit. */
struct buf;
int server_status(struct daemon *d, struct buf *out);
/* The metrics (Prometheus text format) into out; -1 when they do not fit
 * its maximum. */
int server_metrics(struct daemon *d, struct buf *out);

/* install.c */
struct install *install_new(struct daemon *d, char *err, size_t errlen);
void install_free(struct install *);
/* Look in the inbox and start the next install when none runs. */
void install_scan(struct daemon *d);
void install_event(struct daemon *d, void *ptr);
/* Periodic work: rescans, stale changes.  Returns ms until next due. */
int install_tick(struct daemon *d);
/* INBOX/status from the installed catalog. */
void install_write_status(struct daemon *d);
/* The installs' part of the status reply, for server_status. */
struct ctlproto_status;
void install_status(struct daemon *d, struct ctlproto_status *st);
/* The dircat_catalogd_install* and refusal families, for server_metrics. */
struct metrics;
void install_metrics(struct daemon *d, struct metrics *m);
/* Stop a running install (daemon stopping). */
void install_stop(struct daemon *d);

#endif
