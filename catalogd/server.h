/*
 * server.h - catalogd's sockets: the listeners, the connections and the
 * four protocols (socketmap, readsocket, policy, control), served from
 * the daemon's state by one event loop.  Limits and the rules that keep
 * connections from being hoarded: server.c.
 */
#ifndef CATALOGD_SERVER_H
#define CATALOGD_SERVER_H

#include <stdint.h>

#include "conf.h"
#include "daemon.h"

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

#endif
