/*
 * catdclient.c - a small client for catalogd's sockets, for tests.
 *
 *   catdclient [-t SECONDS] sm SOCKET NAME KEY...   socketmap requests,
 *        sent together (pipelined); prints each decoded reply a line
 *   catdclient [-t SECONDS] [-s] raw SOCKET     send stdin as it is (-s:
 *        then half-close); print what comes back until EOF or timeout;
 *        exit 0 when the server closed, 1 when it kept the connection
 *   catdclient [-t SECONDS] hold SOCKET         connect, send nothing;
 *        exit 0 when the server closed within the time, 1 otherwise
 *   catdclient [-t SECONDS] drip SOCKET TEXT    send TEXT one byte every
 *        10 ms, then print the reply (slow clients)
 *   catdclient [-t SECONDS] flood SOCKET COUNT  send COUNT socketmap
 *        requests and never read a reply; exit 0 when the server hangs
 *        up within the time, 1 otherwise
 * Default timeout 5 seconds.  Exit 3 on a connection error.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "netstring.h"
#include "util.h"

#define CLIENT_BUF (4 * 1024 * 1024)

static int client_timeout_ms = 5000;

static int client_connect(const char *path)
{
	struct sockaddr_un sun;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (util_strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		fprintf(stderr, "catdclient: %s: path too long\n", path);
		exit(3);
	}
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		fprintf(stderr, "catdclient: connect %s: %s\n", path,
			strerror(errno));
		exit(3);
	}
	return fd;
}

static void client_send(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t w = send(fd, c, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			fprintf(stderr, "catdclient: send: %s\n",
				strerror(errno));
			exit(3);
		}
		c += w;
		n -= (size_t)w;
	}
}

static double client_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Read into b until EOF (returns 1), the deadline (0), or until done()
 * says the reply is complete (2). */
static int client_read(int fd, struct buf *b, int (*done)(struct buf *, void *),
		       void *arg)
{
	double end = client_now() + client_timeout_ms / 1000.0;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char tmp[65536];
		double left = end - client_now();
		ssize_t n;

		if (done && done(b, arg))
			return 2;
		if (left <= 0)
			return 0;
		if (poll(&p, 1, (int)(left * 1000) + 1) <= 0)
			continue;
		n = read(fd, tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 1;
		if (buf_append(b, tmp, (size_t)n) < 0)
			return 0;
	}
}

/* Complete when *(size_t *)arg netstrings are in b. */
static int client_count_done(struct buf *b, void *arg)
{
	size_t want = *(size_t *)arg, got = 0, pos = 0;

	while (got < want) {
		const char *data, *why;
		size_t dlen, used;

		if (netstring_parse((char *)b->data + pos, b->len - pos,
				    CLIENT_BUF, &data, &dlen, &used,
				    &why) != NETSTRING_DONE)
			return 0;
		pos += used;
		got++;
	}
	return 1;
}

static int client_sm(const char *path, const char *name, char **keys,
		     size_t n)
{
	struct buf req, rep;
	size_t i, pos = 0;
	int fd = client_connect(path);

	buf_init(&req, CLIENT_BUF);
	buf_init(&rep, CLIENT_BUF);
	for (i = 0; i < n; i++) {
		char sp[2] = " ";
		struct buf one;

		buf_init(&one, CLIENT_BUF);
		buf_append(&one, name, strlen(name));
		buf_append(&one, sp, 1);
		buf_append(&one, keys[i], strlen(keys[i]));
		netstring_append(&req, one.data, one.len, NULL, 0);
		buf_free(&one);
	}
	client_send(fd, req.data, req.len);
	client_read(fd, &rep, client_count_done, &n);
	for (i = 0; i < n; i++) {
		const char *data, *why;
		size_t dlen, used;

		if (netstring_parse((char *)rep.data + pos, rep.len - pos,
				    CLIENT_BUF, &data, &dlen, &used,
				    &why) != NETSTRING_DONE) {
			printf("(no reply)\n");
			continue;
		}
		printf("%.*s\n", (int)dlen, data);
		pos += used;
	}
	close(fd);
	buf_free(&req);
	buf_free(&rep);
	return 0;
}

static int client_raw(const char *path, int half)
{
	struct buf in, rep;
	char tmp[65536];
	ssize_t n;
	int fd = client_connect(path), rc;

	buf_init(&in, CLIENT_BUF);
	buf_init(&rep, CLIENT_BUF);
	while ((n = read(0, tmp, sizeof(tmp))) > 0)
		buf_append(&in, tmp, (size_t)n);
	if (in.len)
		client_send(fd, in.data, in.len);
	if (half)
		shutdown(fd, SHUT_WR);
	rc = client_read(fd, &rep, NULL, NULL);
	fwrite(rep.data ? (char *)rep.data : "", 1, rep.len, stdout);
	close(fd);
	buf_free(&in);
	buf_free(&rep);
	return rc == 1 ? 0 : 1;
}

static int client_hold(const char *path)
{
	struct buf rep;
	int fd = client_connect(path), rc;

	buf_init(&rep, CLIENT_BUF);
	rc = client_read(fd, &rep, NULL, NULL);
	close(fd);
	buf_free(&rep);
	return rc == 1 ? 0 : 1;
}

/* Complete at the first newline. */
static int client_line_done(struct buf *b, void *arg)
{
	(void)arg;
	return b->len && memchr(b->data, '\n', b->len) != NULL;
}

static int client_drip(const char *path, const char *text)
{
	struct buf rep;
	size_t i, n = strlen(text);
	int fd = client_connect(path);
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	buf_init(&rep, CLIENT_BUF);
	for (i = 0; i < n; i++) {
		client_send(fd, text + i, 1);
		nanosleep(&ts, NULL);
	}
	client_read(fd, &rep, client_line_done, NULL);
	fwrite(rep.data ? (char *)rep.data : "", 1, rep.len, stdout);
	close(fd);
	buf_free(&rep);
	return 0;
}

/* A client that asks and never reads. */
static int client_flood(const char *path, long count)
{
	static const char req[] = "29:recipients jsmith@example.com,";
	double end = client_now() + client_timeout_ms / 1000.0;
	int fd = client_connect(path);
	long sent = 0;
	size_t off = 0;

	while (client_now() < end) {
		struct pollfd p = { .fd = fd, .events = POLLRDHUP };

		if (sent < count)
			p.events |= POLLOUT;
		if (poll(&p, 1, 100) < 0)
			continue;
		if (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) {
			fprintf(stderr, "catdclient: closed by the server after "
				"%ld requests\n", sent);
			close(fd);
			return 0;
		}
		if (p.revents & POLLOUT) {
			ssize_t n = send(fd, req + off, sizeof(req) - 1 - off,
					 MSG_NOSIGNAL | MSG_DONTWAIT);

			if (n < 0 && errno != EAGAIN && errno != EINTR) {
				close(fd);
				return 0;	/* reset: closed */
			}
			if (n > 0) {
				off += (size_t)n;
				if (off == sizeof(req) - 1) {
					off = 0;
					sent++;
				}
			}
		}
	}
	fprintf(stderr, "catdclient: still open after %ld requests\n", sent);
	close(fd);
	return 1;
}

int main(int argc, char **argv)
{
	int opt, half = 0;

	while ((opt = getopt(argc, argv, "+t:s")) != -1) {
		switch (opt) {
		case 't':
			client_timeout_ms = (int)(atof(optarg) * 1000);
			break;
		case 's':
			half = 1;
			break;
		default:
			goto usage;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc >= 4 && !strcmp(argv[0], "sm"))
		return client_sm(argv[1], argv[2], argv + 3, (size_t)argc - 3);
	if (argc == 2 && !strcmp(argv[0], "raw"))
		return client_raw(argv[1], half);
	if (argc == 2 && !strcmp(argv[0], "hold"))
		return client_hold(argv[1]);
	if (argc == 3 && !strcmp(argv[0], "flood"))
		return client_flood(argv[1], atol(argv[2]));
	if (argc == 3 && !strcmp(argv[0], "drip"))
		return client_drip(argv[1], argv[2]);
usage:
	fprintf(stderr, "usage: catdclient [-t SECONDS] [-s] sm SOCKET NAME "
		"KEY... | raw SOCKET | hold SOCKET | drip SOCKET TEXT | flood SOCKET "
		"COUNT\n");
	return 2;
}
