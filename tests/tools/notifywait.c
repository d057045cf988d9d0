/*
 * notifywait.c - stand in for systemd's notification socket, for tests.
 *
 *   notifywait [-t SECONDS] [-c SOCKET] [-u LINE] PATH
 *
 * Binds an AF_UNIX datagram socket at PATH (an "@name" is an abstract
 * name), makes it writable by everyone (daemons that dropped privileges
 * send to it), prints "BOUND" and then, for each datagram received:
 *
 *   PID n          the sender's pid (socket credentials), as systemd sees it
 *   MSG LINE       each line of the datagram
 *   LISTENING yes|no   after a datagram with READY=1, when -c is given:
 *                  whether SOCKET accepted a connection at that moment
 *
 * Every line is flushed at once.  Exits 0 after a datagram holding the
 * line LINE (-u), 1 when SECONDS (default 10) pass first, 2 on a usage
 * or socket error.  The socket file is removed at exit.
 */
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static double nw_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 1 when something accepts a stream connection at path. */
static int nw_listening(const char *path)
{
	struct sockaddr_un sun;
	int fd, ok;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return 0;
	memcpy(sun.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	ok = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	close(fd);
	return ok;
}

/* Print the datagram's lines; 1 when one of them is until. */
static int nw_lines(char *msg, const char *until, int *ready)
{
	char *line, *save = NULL;
	int hit = 0;

	for (line = strtok_r(msg, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		printf("MSG %s\n", line);
		if (!strcmp(line, "READY=1"))
			*ready = 1;
		if (until && !strcmp(line, until))
			hit = 1;
	}
	return hit;
}

static void nw_usage(void)
{
	fprintf(stderr, "usage: notifywait [-t SECONDS] [-c SOCKET] "
		"[-u LINE] PATH\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *check = NULL, *until = NULL, *path;
	struct sockaddr_un sun;
	socklen_t len;
	double secs = 10, end;
	int fd, opt, one = 1, rc = 1;
	size_t n;

	while ((opt = getopt(argc, argv, "t:c:u:")) != -1) {
		switch (opt) {
		case 't':
			secs = atof(optarg);
			break;
		case 'c':
			check = optarg;
			break;
		case 'u':
			until = optarg;
			break;
		default:
			nw_usage();
		}
	}
	if (optind + 1 != argc || secs <= 0)
		nw_usage();
	path = argv[optind];
	n = strlen(path);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (n < 2 || n >= sizeof(sun.sun_path) ||
	    (path[0] != '/' && path[0] != '@')) {
		fprintf(stderr, "notifywait: %s: not a usable socket name\n",
			path);
		return 2;
	}
	memcpy(sun.sun_path, path, n);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';
	else
		len++;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one,
				 sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sun, len) < 0 ||
	    (path[0] == '/' && chmod(path, 0666) < 0)) {
		fprintf(stderr, "notifywait: %s: %s\n", path, strerror(errno));
		return 2;
	}
	printf("BOUND\n");
	fflush(stdout);
	end = nw_now() + secs;
	for (;;) {
		char buf[4096 + 1];
		union {
			struct cmsghdr h;
			char space[CMSG_SPACE(sizeof(struct ucred))];
		} ctl;
		struct iovec iov = { buf, sizeof(buf) - 1 };
		struct msghdr mh;
		struct cmsghdr *c;
		struct pollfd pfd = { fd, POLLIN, 0 };
		double left = end - nw_now();
		ssize_t got;
		int ready = 0, hit;

		if (left <= 0)
			break;
		if (poll(&pfd, 1, (int)(left * 1000) + 1) <= 0)
			continue;
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = ctl.space;
		mh.msg_controllen = sizeof(ctl.space);
		got = recvmsg(fd, &mh, MSG_DONTWAIT);
		if (got < 0)
			continue;
		buf[got] = '\0';
		for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
			if (c->cmsg_level == SOL_SOCKET &&
			    c->cmsg_type == SCM_CREDENTIALS) {
				struct ucred uc;

				memcpy(&uc, CMSG_DATA(c), sizeof(uc));
				printf("PID %ld\n", (long)uc.pid);
			}
		hit = nw_lines(buf, until, &ready);
		if (ready && check)
			printf("LISTENING %s\n",
			       nw_listening(check) ? "yes" : "no");
		fflush(stdout);
		if (hit) {
			rc = 0;
			break;
		}
	}
	if (path[0] == '/')
		unlink(path);
	return rc;
}
