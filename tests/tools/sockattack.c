/*
 * sockattack.c - a hostile client of catalogd's sockets, for tests: many
 * connections that hoard the server's connection slots, reopened as soon
 * as the server closes them (as an attacker would).
 *
 *   sockattack -s SOCKET -m MODE [-c CONNECTIONS] [-i SECONDS]
 *              [-d SECONDS] [-R MS] [-p SECONDS]
 *
 * MODE, what each connection does:
 *   idle      connect and send nothing
 *   trickle   a socketmap request that never ends ("2000:recipients aaa"),
 *             one byte every -i SECONDS, the first at once
 *   partial   the first 22 bytes of a socketmap request at once, then one
 *             byte every -i SECONDS: a netstring never completed
 *   policy    a policy request whose attribute block never ends: two
 *             attributes at once, then one byte of further "name=value"
 *             lines every -i SECONDS, never the empty line
 *   slowreq   complete socketmap requests, each sent one byte every -i
 *             SECONDS (a client that is never idle, never quite done);
 *             replies are read and discarded
 *   kept      one complete socketmap request at once, its reply read, then
 *             nothing: a connection that looks like an idle Postfix one
 *   pipeline  complete policy requests, as many as the socket takes every
 *             -i SECONDS (0: every tick), never waiting for the replies
 *             (read and discarded): a client that asks as fast as it is
 *             answered, to take the server's time from the others
 * Defaults: 100 connections, -i 1, -d 30 (then exit 0), -R 10 ms before
 * reconnecting a connection the server closed, -p 1 (a progress line
 * every that many seconds).  Output: progress lines "at=T open=N ..." and
 * a last line "RESULT connects=N closed_by_server=N connect_busy=N
 * open_min=N open_max=N open_end=N bytes=N".  The descriptor limit is
 * raised to its hard maximum; exit 2 when that is too low for -c.
 * Limits: SOCKATTACK_* below.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define SOCKATTACK_CONNS_MAX   100000
#define SOCKATTACK_SECONDS_MAX 86400
#define SOCKATTACK_FD_SPARE    16	/* descriptors beyond -c */
#define SOCKATTACK_TICK_MS     10	/* the timer's resolution */
#define SOCKATTACK_EVENTS      512
#define SOCKATTACK_RECONNECT_MS 10	/* -R default */

enum sockattack_mode {
	MODE_NONE,
	MODE_IDLE,
	MODE_TRICKLE,
	MODE_PARTIAL,
	MODE_POLICY,
	MODE_SLOWREQ,
	MODE_KEPT,
	MODE_PIPELINE
};

struct sockattack_conn {
	int fd;			/* -1: closed, reopen at next_ns */
	uint64_t next_ns;	/* next byte, or next connect */
	size_t pos;		/* bytes of the script sent */
};

/* What each mode sends: a burst at connect, then byte by byte a part
 * sent once and a tail repeated forever. */
static const char *sockattack_burst;
static size_t sockattack_burst_len;
static const char *sockattack_once;
static size_t sockattack_once_len;
static const char *sockattack_tail;
static size_t sockattack_tail_len;

static const char sockattack_request[] = "29:recipients jsmith@example.com,";
static const char sockattack_policy_head[] =
	"request=smtpd_access_policy\nprotocol_state=RCPT\n";
static const char sockattack_policy_tail[] = "x_attribute=never-ending\n";
static const char sockattack_policy_req[] =
	"request=smtpd_access_policy\nprotocol_state=RCPT\n"
	"recipient=jsmith@example.com\n\n";
#define SOCKATTACK_PIPE_REQS 512	/* requests in one pipelined block */
static char *sockattack_block;
static size_t sockattack_block_len;

static struct sockaddr_un sockattack_addr;
static int sockattack_mode;
static uint64_t sockattack_interval_ns, sockattack_reconnect_ns;
static int sockattack_reconnect_set;
static uint64_t n_connects, n_closed, n_busy, n_bytes;
static size_t n_open;

static uint64_t sockattack_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void sockattack_usage(void)
{
	fprintf(stderr, "usage: sockattack -s SOCKET -m idle|trickle|partial|"
		"policy|slowreq|kept|pipeline [-c CONNECTIONS] [-i SECONDS] "
		"[-d SECONDS] [-R MS] [-p SECONDS]\n");
	exit(2);
}

static double sockattack_seconds(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !(v >= 0) || v > SOCKATTACK_SECONDS_MAX)
		sockattack_usage();
	return v;
}

static void sockattack_close(int epfd, struct sockattack_conn *c,
			     uint64_t now, int by_server)
{
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	c->pos = 0;
	c->next_ns = now + sockattack_reconnect_ns;
	n_open--;
	n_closed += by_server != 0;
}

/* Open c and send its burst; on failure c stays closed for a while. */
static void sockattack_open(int epfd, struct sockattack_conn *c, uint64_t now)
{
	struct epoll_event ev;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	c->next_ns = now + sockattack_reconnect_ns;
	if (fd < 0)
		return;
	if (connect(fd, (struct sockaddr *)&sockattack_addr,
		    sizeof(sockattack_addr)) < 0) {
		/* A Unix socket's backlog full: EAGAIN; try again later. */
		n_busy++;
		close(fd);
		return;
	}
	ev.events = EPOLLIN | EPOLLRDHUP;
	ev.data.ptr = c;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		close(fd);
		return;
	}
	c->fd = fd;
	c->pos = 0;
	n_connects++;
	n_open++;
	if (sockattack_burst_len) {
		ssize_t w = send(fd, sockattack_burst, sockattack_burst_len,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0 && errno != EAGAIN) {
			sockattack_close(epfd, c, now, 1);
			return;
		}
		if (w > 0)
			n_bytes += (uint64_t)w;
	}
	c->next_ns = now;	/* the first byte of the tail at once */
}

/* The next byte of c's tail. */
static void sockattack_drip(int epfd, struct sockattack_conn *c, uint64_t now)
{
	ssize_t w;

	const char *b;

	c->next_ns = now + sockattack_interval_ns;
	if (sockattack_mode == MODE_PIPELINE) {
		/* The rest of the block, then the next one: requests stay
		 * whole across partial sends. */
		size_t off = c->pos % sockattack_block_len;

		w = send(c->fd, sockattack_block + off,
			 sockattack_block_len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w > 0) {
			c->pos += (size_t)w;
			n_bytes += (uint64_t)w;
		} else if (w < 0 && errno != EAGAIN) {
			sockattack_close(epfd, c, now, 1);
		}
		return;
	}
	if (!sockattack_tail_len)
		return;
	b = c->pos < sockattack_once_len ? sockattack_once + c->pos
		: sockattack_tail + (c->pos - sockattack_once_len) %
					    sockattack_tail_len;
	w = send(c->fd, b, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (w == 1) {
		c->pos++;
		n_bytes++;
	} else if (w < 0 && errno != EAGAIN) {
		sockattack_close(epfd, c, now, 1);
	}
}

/* The server sent something or hung up. */
static void sockattack_readable(int epfd, struct sockattack_conn *c,
				uint64_t now)
{
	char tmp[4096];
	ssize_t n;

	for (;;) {
		n = read(c->fd, tmp, sizeof(tmp));
		if (n > 0)
			continue;	/* replies: discarded */
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		sockattack_close(epfd, c, now, 1);
		return;
	}
}

static void sockattack_script(const char *mode)
{
	if (!strcmp(mode, "idle")) {
		sockattack_mode = MODE_IDLE;
	} else if (!strcmp(mode, "trickle")) {
		/* Even the length goes out one byte at a time; it is under
		 * every max_request default, and the request never ends
		 * within a test. */
		sockattack_mode = MODE_TRICKLE;
		sockattack_once = "2000:recipients ";
		sockattack_once_len = strlen(sockattack_once);
		sockattack_tail = "a";
		sockattack_tail_len = 1;
	} else if (!strcmp(mode, "partial")) {
		sockattack_mode = MODE_PARTIAL;
		sockattack_burst = "2000:recipients jsmith";
		sockattack_burst_len = strlen(sockattack_burst);
		sockattack_tail = "a";
		sockattack_tail_len = 1;
	} else if (!strcmp(mode, "policy")) {
		sockattack_mode = MODE_POLICY;
		sockattack_burst = sockattack_policy_head;
		sockattack_burst_len = sizeof(sockattack_policy_head) - 1;
		sockattack_tail = sockattack_policy_tail;
		sockattack_tail_len = sizeof(sockattack_policy_tail) - 1;
	} else if (!strcmp(mode, "slowreq")) {
		sockattack_mode = MODE_SLOWREQ;
		sockattack_tail = sockattack_request;
		sockattack_tail_len = sizeof(sockattack_request) - 1;
	} else if (!strcmp(mode, "pipeline")) {
		size_t i, l = sizeof(sockattack_policy_req) - 1;

		sockattack_mode = MODE_PIPELINE;
		sockattack_block_len = l * SOCKATTACK_PIPE_REQS;
		sockattack_block = xcalloc(1, sockattack_block_len);
		for (i = 0; i < SOCKATTACK_PIPE_REQS; i++)
			memcpy(sockattack_block + i * l, sockattack_policy_req, l);
	} else if (!strcmp(mode, "kept")) {
		sockattack_mode = MODE_KEPT;
		sockattack_burst = sockattack_request;
		sockattack_burst_len = sizeof(sockattack_request) - 1;
	} else {
		sockattack_usage();
	}
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	int64_t conns = 100, v;
	double interval = 1, seconds = 30, progress = 1;
	struct sockattack_conn *c;
	struct epoll_event ev[SOCKATTACK_EVENTS];
	struct rlimit rl;
	uint64_t start, end, next_progress;
	size_t i, open_min = (size_t)-1, open_max = 0;
	int opt, epfd;

	while ((opt = getopt(argc, argv, "s:m:c:i:d:R:p:")) != -1) {
		switch (opt) {
		case 's':
			path = optarg;
			break;
		case 'm':
			sockattack_script(optarg);
			break;
		case 'c':
			if (util_parse_int(optarg, 1, SOCKATTACK_CONNS_MAX,
					   &conns) < 0)
				sockattack_usage();
			break;
		case 'i':
			interval = sockattack_seconds(optarg);
			break;
		case 'd':
			seconds = sockattack_seconds(optarg);
			break;
		case 'R':
			if (util_parse_int(optarg, 0, 60000, &v) < 0)
				sockattack_usage();
			sockattack_reconnect_ns = (uint64_t)v * 1000000ULL;
			sockattack_reconnect_set = 1;
			break;
		case 'p':
			progress = sockattack_seconds(optarg);
			break;
		default:
			sockattack_usage();
		}
	}
	if (!path || optind != argc || sockattack_mode == MODE_NONE)
		sockattack_usage();
	if (!sockattack_reconnect_set)
		sockattack_reconnect_ns = SOCKATTACK_RECONNECT_MS * 1000000ULL;
	memset(&sockattack_addr, 0, sizeof(sockattack_addr));
	sockattack_addr.sun_family = AF_UNIX;
	if (util_strlcpy(sockattack_addr.sun_path, path,
			 sizeof(sockattack_addr.sun_path)) >=
	    sizeof(sockattack_addr.sun_path)) {
		fprintf(stderr, "sockattack: socket path too long\n");
		return 2;
	}
	sockattack_interval_ns = (uint64_t)(interval * 1e9);
	signal(SIGPIPE, SIG_IGN);

	/* Every connection is a descriptor. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 ||
	    rl.rlim_cur < (rlim_t)conns + SOCKATTACK_FD_SPARE) {
		fprintf(stderr, "sockattack: descriptor limit %llu is below "
			"%lld connections + %d\n",
			(unsigned long long)rl.rlim_cur, (long long)conns,
			SOCKATTACK_FD_SPARE);
		return 2;
	}
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0) {
		perror("sockattack: epoll_create1");
		return 2;
	}
	c = xcalloc((size_t)conns, sizeof(*c));
	start = sockattack_now();
	for (i = 0; i < (size_t)conns; i++) {
		c[i].fd = -1;
		sockattack_open(epfd, &c[i], start);
	}
	end = start + (uint64_t)(seconds * 1e9);
	next_progress = progress > 0 ? start + (uint64_t)(progress * 1e9)
				     : UINT64_MAX;
	for (;;) {
		uint64_t now = sockattack_now();
		int n, k;

		if (n_open < open_min)
			open_min = n_open;
		if (n_open > open_max)
			open_max = n_open;
		if (now >= end)
			break;
		if (now >= next_progress) {
			printf("at=%.1f open=%zu connects=%llu "
			       "closed_by_server=%llu connect_busy=%llu\n",
			       (double)(now - start) / 1e9, n_open,
			       (unsigned long long)n_connects,
			       (unsigned long long)n_closed,
			       (unsigned long long)n_busy);
			fflush(stdout);
			next_progress += (uint64_t)(progress * 1e9);
		}
		n = epoll_wait(epfd, ev, SOCKATTACK_EVENTS, SOCKATTACK_TICK_MS);
		now = sockattack_now();
		for (k = 0; k < n; k++) {
			struct sockattack_conn *x = ev[k].data.ptr;

			if (x->fd >= 0)
				sockattack_readable(epfd, x, now);
		}
		for (i = 0; i < (size_t)conns; i++) {
			if (c[i].next_ns > now)
				continue;
			if (c[i].fd < 0)
				sockattack_open(epfd, &c[i], now);
			else if (sockattack_mode == MODE_IDLE ||
				 sockattack_mode == MODE_KEPT)
				c[i].next_ns = UINT64_MAX;
			else
				sockattack_drip(epfd, &c[i], now);
		}
	}
	printf("RESULT connects=%llu closed_by_server=%llu connect_busy=%llu "
	       "open_min=%zu open_max=%zu open_end=%zu bytes=%llu\n",
	       (unsigned long long)n_connects, (unsigned long long)n_closed,
	       (unsigned long long)n_busy, open_min, open_max, n_open,
	       (unsigned long long)n_bytes);
	fflush(stdout);
	for (i = 0; i < (size_t)conns; i++)
		if (c[i].fd >= 0)
			close(c[i].fd);
	free(c);
	close(epfd);
	return 0;
}
