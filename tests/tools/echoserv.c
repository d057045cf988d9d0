/*
 * echoserv.c - a bare netstring server: the round-trip limit of this
 * machine, measured with the same clients as catalogd.
 *
 *   echoserv [-m MODE] [-r REPLY] [-c MAXCONN] SOCKET
 *
 * Listens on the Unix socket SOCKET (mode MODE, default 0666; an old
 * socket file there is replaced) and answers every complete netstring
 * request with the fixed netstring REPLY (default "OK echo"), in order,
 * pipelined requests included: no lookup, no allocation per request,
 * one thread, one epoll loop.  It is the floor under any socketmap
 * server: what is left when the work of answering costs nothing.
 * SIGTERM or SIGINT stop it; it removes SOCKET and prints on stderr how
 * many requests it answered.  A malformed or oversized request closes
 * that connection only.  Limits: ECHO_* below.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "toolflush.h"
#include "netstring.h"
#include "util.h"

#define ECHO_REQUEST_MAX  100000	/* a request's data, bytes */
#define ECHO_READ_CHUNK   65536	/* bytes read at once */
#define ECHO_CONN_DEFAULT 4096	/* connections at once */
#define ECHO_CONN_MAX     65536
#define ECHO_OUT_MAX      (4 << 20)	/* unsent replies per connection */
#define ECHO_EVENTS       256	/* epoll events per wakeup */
#define ECHO_BACKLOG      1024

struct echo_conn {
	struct echo_conn *prev, *next;	/* every open connection */
	int fd;
	char *in;		/* unparsed request bytes */
	size_t inlen, incap;
	char *out;		/* replies not yet written */
	size_t outlen, outoff, outcap;
	int want_out;		/* EPOLLOUT registered */
};

static volatile sig_atomic_t echo_stop;
static char echo_reply[ECHO_REQUEST_MAX + NETSTRING_OVERHEAD];
static size_t echo_reply_len;
static unsigned long long echo_served;
static int echo_epfd;
static size_t echo_nconn, echo_maxconn = ECHO_CONN_DEFAULT;
static struct echo_conn *echo_conns;

static void echo_on_signal(int sig)
{
	(void)sig;
	echo_stop = 1;
}

static void echo_close(struct echo_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		echo_conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	close(c->fd);
	free(c->in);
	free(c->out);
	free(c);
	echo_nconn--;
}

/* Write what is pending; 0, or -1 when the connection is gone. */
static int echo_flush(struct echo_conn *c)
{
	return tool_flush(echo_epfd, c->fd, c, c->out, &c->outoff, &c->outlen,
			  &c->want_out);
}

/* Answer every complete request in c->in; -1 on a malformed one. */
static int echo_answer(struct echo_conn *c)
{
	size_t off = 0;

	for (;;) {
		const char *data, *why;
		size_t dlen, used;
		int r = netstring_parse(c->in + off, c->inlen - off,
					ECHO_REQUEST_MAX, &data, &dlen, &used,
					&why);

		if (r == NETSTRING_ERROR)
			return -1;
		if (r == NETSTRING_MORE)
			break;
		off += used;
		if (c->outlen + echo_reply_len > ECHO_OUT_MAX)
			return -1;	/* a client that never reads */
		if (c->outlen + echo_reply_len > c->outcap) {
			c->outcap = 2 * (c->outlen + echo_reply_len);
			c->out = xrealloc(c->out, c->outcap);
		}
		memcpy(c->out + c->outlen, echo_reply, echo_reply_len);
		c->outlen += echo_reply_len;
		echo_served++;
	}
	memmove(c->in, c->in + off, c->inlen - off);
	c->inlen -= off;
	return 0;
}

/*
 * Read once and answer what is complete; -1 when the connection is done.
 * One read per wakeup: a synchronous client sends one request at a time,
 * and a second read would only return EAGAIN (epoll is level-triggered,
 * so anything left is reported again).
 */
static int echo_read(struct echo_conn *c)
{
	ssize_t n;

	if (c->incap - c->inlen < ECHO_READ_CHUNK) {
		if (c->inlen > ECHO_REQUEST_MAX + NETSTRING_OVERHEAD)
			return -1;
		c->incap = c->inlen + ECHO_READ_CHUNK;
		c->in = xrealloc(c->in, c->incap);
	}
	do
		n = read(c->fd, c->in + c->inlen, c->incap - c->inlen);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return 0;
	if (n <= 0)
		return -1;
	c->inlen += (size_t)n;
	if (echo_answer(c) < 0)
		return -1;
	return echo_flush(c);
}

static void echo_accept(int lfd)
{
	for (;;) {
		struct epoll_event ev;
		struct echo_conn *c;
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		if (echo_nconn >= echo_maxconn) {
			close(fd);
			continue;
		}
		c = xcalloc(1, sizeof(*c));
		c->fd = fd;
		c->next = echo_conns;
		if (echo_conns)
			echo_conns->prev = c;
		echo_conns = c;
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		echo_nconn++;
		if (epoll_ctl(echo_epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
			echo_close(c);
	}
}

static int echo_listen(const char *path, unsigned mode)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (util_strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		log_fatal(2, "socket path too long: %s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		log_fatal(1, "socket: %s", strerror(errno));
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		log_fatal(1, "bind %s: %s", path, strerror(errno));
	if (chmod(path, mode) < 0)
		log_fatal(1, "chmod %s: %s", path, strerror(errno));
	if (listen(fd, ECHO_BACKLOG) < 0)
		log_fatal(1, "listen %s: %s", path, strerror(errno));
	return fd;
}

static void echo_usage(void)
{
	fprintf(stderr, "usage: echoserv [-m MODE] [-r REPLY] [-c MAXCONN] "
		"SOCKET\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct epoll_event ev, events[ECHO_EVENTS];
	struct sigaction sa;
	const char *reply = "OK echo";
	unsigned mode = 0666;
	int64_t v;
	int lfd, c, i, n;

	log_init("echoserv", LOG_DEST_STDERR);
	while ((c = getopt(argc, argv, "m:r:c:")) != -1) {
		switch (c) {
		case 'm': {
			char *end;

			errno = 0;
			v = strtol(optarg, &end, 8);
			if (errno || *end || v < 0 || v > 07777)
				echo_usage();
			mode = (unsigned)v;
			break;
		}
		case 'r':
			reply = optarg;
			break;
		case 'c':
			if (util_parse_int(optarg, 1, ECHO_CONN_MAX, &v) < 0)
				echo_usage();
			echo_maxconn = (size_t)v;
			break;
		default:
			echo_usage();
		}
	}
	if (optind + 1 != argc)
		echo_usage();
	echo_reply_len = netstring_format(echo_reply, sizeof(echo_reply),
					  reply, strlen(reply));
	if (!echo_reply_len)
		echo_usage();

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = echo_on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	lfd = echo_listen(argv[optind], mode);
	echo_epfd = epoll_create1(EPOLL_CLOEXEC);
	if (echo_epfd < 0)
		log_fatal(1, "epoll_create1: %s", strerror(errno));
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;	/* NULL marks the listening socket */
	if (epoll_ctl(echo_epfd, EPOLL_CTL_ADD, lfd, &ev) < 0)
		log_fatal(1, "epoll_ctl: %s", strerror(errno));

	while (!echo_stop) {
		n = epoll_wait(echo_epfd, events, ECHO_EVENTS, 1000);
		for (i = 0; i < n; i++) {
			struct echo_conn *conn = events[i].data.ptr;

			if (!conn) {
				echo_accept(lfd);
				continue;
			}
			if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
				if (echo_read(conn) < 0) {
					echo_close(conn);
					continue;
				}
			} else if (events[i].events & EPOLLOUT) {
				if (echo_flush(conn) < 0)
					echo_close(conn);
			}
		}
	}
	unlink(argv[optind]);
	while (echo_conns)
		echo_close(echo_conns);
	close(lfd);
	close(echo_epfd);
	fprintf(stderr, "echoserv: %llu requests answered\n", echo_served);
	return 0;
}
