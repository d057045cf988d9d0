/*
 * logcatch.c - a syslog receiver for tests: what a program sends to
 * syslog, kept in a file, so that a test can read a program's logs.
 *
 *   logcatch SOCKET FILE
 *
 * Binds a Unix datagram socket at SOCKET (a test mounts it over /dev/log
 * in a mount namespace of its own, where the program under test runs)
 * and appends every datagram received to FILE, one a line, bytes other
 * than printable ASCII and tab written as \xNN.  Runs until SIGTERM or
 * SIGINT, then removes SOCKET and exits 0; exit 2 on bad usage or setup.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "util.h"

#define LOGCATCH_DATAGRAM_MAX 65536	/* glibc's syslog() sends less */

static volatile sig_atomic_t logcatch_stop;

static void logcatch_signal(int sig)
{
	(void)sig;
	logcatch_stop = 1;
}

int main(int argc, char **argv)
{
	static char msg[LOGCATCH_DATAGRAM_MAX];
	struct sockaddr_un sun;
	struct sigaction sa;
	FILE *out;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: logcatch SOCKET FILE\n");
		return 2;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (util_strlcpy(sun.sun_path, argv[1], sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		fprintf(stderr, "logcatch: socket path too long\n");
		return 2;
	}
	out = fopen(argv[2], "a");
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (!out || fd < 0 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		fprintf(stderr, "logcatch: %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	/* Any account may log, as with the real /dev/log. */
	chmod(argv[1], 0666);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = logcatch_signal;	/* no SA_RESTART: recv returns */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	while (!logcatch_stop) {
		ssize_t n = recv(fd, msg, sizeof(msg), 0), i;

		if (n < 0)
			continue;	/* EINTR: look at the flag */
		for (i = 0; i < n; i++) {
			unsigned char ch = (unsigned char)msg[i];

			if ((ch >= 0x20 && ch < 0x7f) || ch == '\t')
				fputc(ch, out);
			else
				fprintf(out, "\\x%02x", ch);
		}
		fputc('\n', out);
		fflush(out);
	}
	unlink(argv[1]);
	fclose(out);
	close(fd);
	return 0;
}
