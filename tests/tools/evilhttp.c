/*
 * evilhttp.c - a hostile origin or cache for dircat-fetch's tests: an
 * HTTP/1.1 server on 127.0.0.1 that serves the files of ROOT as they are,
 * except the one path it attacks with MODE:
 *
 *   evilhttp -r ROOT -p PATH -m MODE [-a ARG] PORTFILE
 *
 *   bigcl     200 with "Content-Length: 1099511627776" (1 TiB), then
 *             junk as fast as the client takes it
 *   chunked   200 with chunked junk that never ends
 *   headers   200 and then header lines that never end
 *   drip      the file's real bytes and length, ARG bytes a second
 *   redirect  302 to the URL ARG (ARG + PATH when ARG ends in '/')
 *
 * The port it listens on (chosen by the kernel) is written to PORTFILE.
 * One connection at a time, each answered once and closed.  For every
 * request one line goes to stdout when the connection ends:
 * "PATH MODE sent=BYTES seconds=S" (MODE "file" for a file served as it
 * is, "missing" for a 404).  SIGTERM stops it.  Limits: a request head of
 * at most EVIL_HEAD_MAX bytes; 60 s to send it.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define EVIL_HEAD_MAX 16384

static const char *root, *path, *mode, *arg;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Send all of data: 0, or -1 when the client went away. */
static int put(int fd, const void *data, size_t len, unsigned long long *sent)
{
	const char *p = data;

	while (len > 0) {
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
		*sent += (unsigned long long)w;
	}
	return 0;
}

static int puts_fd(int fd, const char *s, unsigned long long *sent)
{
	return put(fd, s, strlen(s), sent);
}

/* The request's path, from "GET /path HTTP/1.1"; NULL when malformed. */
static char *request_path(int fd, char *head, size_t size)
{
	size_t len = 0;
	char *sp, *end;

	while (len + 1 < size) {
		ssize_t r = recv(fd, head + len, size - 1 - len, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return NULL;
		len += (size_t)r;
		head[len] = '\0';
		if (strstr(head, "\r\n\r\n"))
			break;
	}
	if (strncmp(head, "GET ", 4))
		return NULL;
	sp = head + 4;
	end = strchr(sp, ' ');
	if (!end)
		return NULL;
	*end = '\0';
	return sp;
}

/* The file ROOT/p as it is. */
static const char *serve_file(int fd, const char *p, unsigned long long *sent)
{
	char file[EVIL_HEAD_MAX + 4096], hdr[256], buf[65536];
	struct stat st;
	int f;
	ssize_t n;

	snprintf(file, sizeof(file), "%s%s", root, p);
	if (strstr(p, "..") || (f = open(file, O_RDONLY)) < 0 ||
	    fstat(f, &st) < 0 || !S_ISREG(st.st_mode)) {
		puts_fd(fd, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
			"Connection: close\r\n\r\n", sent);
		return "missing";
	}
	snprintf(hdr, sizeof(hdr), "HTTP/1.1 200 OK\r\nContent-Length: %lld\r\n"
		 "Connection: close\r\n\r\n", (long long)st.st_size);
	if (puts_fd(fd, hdr, sent) == 0)
		while ((n = read(f, buf, sizeof(buf))) > 0 &&
		       put(fd, buf, (size_t)n, sent) == 0)
			;
	close(f);
	return "file";
}

static void attack(int fd, const char *p, unsigned long long *sent)
{
	static char junk[16384];
	char hdr[2 * EVIL_HEAD_MAX + 256];

	memset(junk, 'x', sizeof(junk));
	if (!strcmp(mode, "bigcl")) {
		if (puts_fd(fd, "HTTP/1.1 200 OK\r\nContent-Length: "
			    "1099511627776\r\nConnection: close\r\n\r\n",
			    sent) < 0)
			return;
		while (put(fd, junk, sizeof(junk), sent) == 0)
			;
	} else if (!strcmp(mode, "chunked")) {
		if (puts_fd(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
			    "Connection: close\r\n\r\n", sent) < 0)
			return;
		for (;;) {
			if (puts_fd(fd, "4000\r\n", sent) < 0 ||
			    put(fd, junk, sizeof(junk), sent) < 0 ||
			    puts_fd(fd, "\r\n", sent) < 0)
				return;
		}
	} else if (!strcmp(mode, "headers")) {
		memcpy(junk, "X-Junk: ", 8);
		memcpy(junk + 1022, "\r\n", 2);
		if (puts_fd(fd, "HTTP/1.1 200 OK\r\n", sent) < 0)
			return;
		while (put(fd, junk, 1024, sent) == 0)
			;
	} else if (!strcmp(mode, "drip")) {
		char file[EVIL_HEAD_MAX + 4096], buf[65536];
		long rate = arg ? atol(arg) : 1000, step;
		struct stat st;
		ssize_t n;
		int f;

		snprintf(file, sizeof(file), "%s%s", root, p);
		if ((f = open(file, O_RDONLY)) < 0 || fstat(f, &st) < 0)
			return;
		snprintf(hdr, sizeof(hdr), "HTTP/1.1 200 OK\r\nContent-Length: "
			 "%lld\r\nConnection: close\r\n\r\n",
			 (long long)st.st_size);
		step = rate / 10 > 0 ? rate / 10 : 1;
		if ((size_t)step > sizeof(buf))
			step = sizeof(buf);
		if (puts_fd(fd, hdr, sent) == 0)
			while ((n = read(f, buf, (size_t)step)) > 0 &&
			       put(fd, buf, (size_t)n, sent) == 0)
				usleep(100000);
		close(f);
	} else if (!strcmp(mode, "redirect")) {
		size_t al = strlen(arg ? arg : "");

		snprintf(hdr, sizeof(hdr), "HTTP/1.1 302 Found\r\nLocation: %s%s"
			 "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
			 arg ? arg : "/", al && arg[al - 1] == '/' ? p + 1 : "");
		puts_fd(fd, hdr, sent);
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	FILE *pf;
	int ls, c, one = 1;

	while ((c = getopt(argc, argv, "r:p:m:a:")) != -1) {
		switch (c) {
		case 'r': root = optarg; break;
		case 'p': path = optarg; break;
		case 'm': mode = optarg; break;
		case 'a': arg = optarg; break;
		default: goto usage;
		}
	}
	if (optind != argc - 1 || !root || !path || !mode)
		goto usage;
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (ls < 0 ||
	    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(ls, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(ls, 64) < 0 ||
	    getsockname(ls, (struct sockaddr *)&a, &alen) < 0) {
		perror("evilhttp: listen");
		return 1;
	}
	pf = fopen(argv[optind], "w");
	if (!pf || fprintf(pf, "%d\n", ntohs(a.sin_port)) < 0 || fclose(pf)) {
		perror("evilhttp: port file");
		return 1;
	}
	for (;;) {
		char head[EVIL_HEAD_MAX], *p;
		struct timeval tv = { 60, 0 };
		unsigned long long sent = 0;
		const char *what = mode;
		double t0;
		int fd = accept(ls, NULL, NULL);

		if (fd < 0) {
			if (errno == EINTR)
				continue;
			perror("evilhttp: accept");
			return 1;
		}
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		t0 = now_s();
		p = request_path(fd, head, sizeof(head));
		if (!p) {
			close(fd);
			continue;
		}
		if (!strcmp(p, path))
			attack(fd, p, &sent);
		else
			what = serve_file(fd, p, &sent);
		shutdown(fd, SHUT_WR);
		close(fd);
		printf("%s %s sent=%llu seconds=%.2f\n", p, what, sent,
		       now_s() - t0);
	}
usage:
	fprintf(stderr, "usage: evilhttp -r ROOT -p PATH -m bigcl|chunked|"
		"headers|drip|redirect [-a ARG] PORTFILE\n");
	return 2;
}
