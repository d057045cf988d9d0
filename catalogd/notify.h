/*
 * notify.h - tell the service manager about start-up, reloads and
 * shutdown: the sd_notify(3) datagram protocol, without libsystemd.
 *
 * When $NOTIFY_SOCKET names an AF_UNIX datagram socket (a path, or an
 * abstract name written with a leading '@'), each notify_send() sends one
 * datagram of "NAME=value" lines to it; otherwise every call does nothing.
 * A failure to send is logged once and never stops the daemon.
 */
#ifndef CATALOGD_NOTIFY_H
#define CATALOGD_NOTIFY_H

/* Read $NOTIFY_SOCKET and open a datagram socket for it.  0 when there is
 * nothing to notify or it is ready; -1 (logged) when the variable is set
 * but unusable.  Call once, before the first notify_send(). */
int notify_init(void);

/* 1 when notify_init() found a socket to send to. */
int notify_enabled(void);

/* Send one datagram, formatted like printf: "READY=1\nSTATUS=...". */
void notify_send(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* "RELOADING=1" with the MONOTONIC_USEC= stamp systemd asks for. */
void notify_reloading(void);

/* Close the socket (at exit). */
void notify_close(void);

#endif
