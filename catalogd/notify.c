/*
 * notify.c - the sd_notify(3) datagram protocol; see notify.h.
 *
 * The protocol is one datagram of newline-separated NAME=value lines sent
 * to the AF_UNIX socket named by $NOTIFY_SOCKET; systemd takes the
 * sender's pid from the socket credentials, so it must come from the
 * daemon's main process.  Datagrams are small (a status line), so one
 * sendto() either delivers the whole message or fails.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "notify.h"

#define NOTIFY_MSG_MAX 1024

static int notify_fd = -1;
static struct sockaddr_un notify_addr;
static socklen_t notify_addrlen;
static int notify_warned;

int notify_init(void)
{
	const char *e = getenv("NOTIFY_SOCKET");
	size_t n;

	if (!e || !*e)
		return 0;
	n = strlen(e);
	if ((e[0] != '/' && e[0] != '@') || n < 2 ||
	    n > sizeof(notify_addr.sun_path) - (e[0] == '/')) {
		log_error("NOTIFY_SOCKET=%s: not an absolute path or an "
			  "@abstract name that fits a Unix socket address; "
			  "not notifying the service manager", e);
		return -1;
	}
	memset(&notify_addr, 0, sizeof(notify_addr));
	notify_addr.sun_family = AF_UNIX;
	memcpy(notify_addr.sun_path, e, n);
	if (e[0] == '@') {
		/* Abstract name: a leading NUL, no terminating one. */
		notify_addr.sun_path[0] = '\0';
		notify_addrlen = (socklen_t)(offsetof(struct sockaddr_un,
						      sun_path) + n);
	} else {
		notify_addrlen = (socklen_t)(offsetof(struct sockaddr_un,
						      sun_path) + n + 1);
	}
	notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (notify_fd < 0) {
		log_error("NOTIFY_SOCKET: socket: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int notify_enabled(void)
{
	return notify_fd >= 0;
}

void notify_send(const char *fmt, ...)
{
	char msg[NOTIFY_MSG_MAX];
	va_list ap;
	int n;

	if (notify_fd < 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(msg))
		n = (int)sizeof(msg) - 1;	/* a long STATUS= is cut */
	while (sendto(notify_fd, msg, (size_t)n, MSG_NOSIGNAL,
		      (struct sockaddr *)&notify_addr, notify_addrlen) < 0) {
		if (errno == EINTR)
			continue;
		if (!notify_warned) {
			notify_warned = 1;
			log_warn("cannot notify the service manager "
				 "(NOTIFY_SOCKET): %s", strerror(errno));
		}
		return;
	}
}

void notify_reloading(void)
{
	struct timespec ts;

	if (notify_fd < 0)
		return;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0) {
		notify_send("RELOADING=1\nSTATUS=reloading the configuration");
		return;
	}
	notify_send("RELOADING=1\nSTATUS=reloading the configuration\n"
		    "MONOTONIC_USEC=%llu",
		    (unsigned long long)ts.tv_sec * 1000000ULL +
			    (unsigned long long)ts.tv_nsec / 1000ULL);
}

void notify_close(void)
{
	if (notify_fd >= 0)
		close(notify_fd);
	notify_fd = -1;
}
