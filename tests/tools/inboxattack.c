/*
 * inboxattack.c - what a hostile writer of catalogd's inbox can do, for
 * the attack tests.  The account that uploads snapshots owns the inbox:
 * it can keep a file open, rewrite it, swap names and fill the directory.
 *
 *   inboxattack rewrite FILE OFFSET TEXT DELAY_MS TIMEOUT_S
 *        open FILE for writing now, wait until another process opens it
 *        (inotify IN_OPEN), sleep DELAY_MS, then write TEXT at OFFSET
 *        through the descriptor held all along; exit 0 when written,
 *        1 when nobody opened the file within TIMEOUT_S
 *   inboxattack fifoswap DIR NAME SECONDS
 *        make a FIFO DIR/.fifo-NAME and a junk regular file DIR/NAME and
 *        exchange the two names (renameat2 RENAME_EXCHANGE) in a tight
 *        loop for SECONDS, so that whoever checks NAME and then opens it
 *        may find a regular file first and a FIFO next; either one moved
 *        away by catalogd is made again.  Prints the counts.
 *   inboxattack junk DIR COUNT PREFIX SUFFIX BYTES
 *        create COUNT files DIR/PREFIX<i>SUFFIX (i = 1 .. COUNT), each
 *        BYTES bytes of pseudo-random junk, closed at once
 * Exit 2 on bad usage or a system error.  Limits: ATTACK_* below.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ATTACK_JUNK_MAX   1000000	/* files made by one junk run */
#define ATTACK_BYTES_MAX  65536		/* bytes in one junk file */
#define ATTACK_SECONDS_MAX 3600

static double attack_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static long attack_num(const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		fprintf(stderr, "inboxattack: bad number %s (%ld .. %ld)\n", s,
			min, max);
		exit(2);
	}
	return v;
}

static int attack_rewrite(char **argv)
{
	const char *file = argv[0], *text = argv[2];
	long off = attack_num(argv[1], 0, LONG_MAX);
	long delay = attack_num(argv[3], 0, 60000);
	long timeout = attack_num(argv[4], 1, ATTACK_SECONDS_MAX);
	char ev[sizeof(struct inotify_event) + NAME_MAX + 1]
		__attribute__((aligned(__alignof__(struct inotify_event))));
	double t0 = attack_now(), t1;
	struct timespec ts;
	struct pollfd pfd;
	int fd, in;

	/* The writer's descriptor, opened before anybody looks. */
	fd = open(file, O_WRONLY | O_CLOEXEC);
	in = inotify_init1(IN_CLOEXEC);
	if (fd < 0 || in < 0 || inotify_add_watch(in, file, IN_OPEN) < 0) {
		fprintf(stderr, "inboxattack: %s: %s\n", file, strerror(errno));
		return 2;
	}
	printf("holding %s\n", file);
	fflush(stdout);
	pfd.fd = in;
	pfd.events = POLLIN;
	for (;;) {
		double left = timeout - (attack_now() - t0);
		int rc;

		if (left <= 0) {
			printf("nobody opened it\n");
			return 1;
		}
		rc = poll(&pfd, 1, (int)(left * 1000) + 1);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			return 2;
		if (rc > 0 && read(in, ev, sizeof(ev)) > 0)
			break;
	}
	t1 = attack_now();
	ts.tv_sec = delay / 1000;
	ts.tv_nsec = (delay % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	if (pwrite(fd, text, strlen(text), off) != (ssize_t)strlen(text)) {
		fprintf(stderr, "inboxattack: write: %s\n", strerror(errno));
		return 2;
	}
	printf("rewritten %zu bytes at %ld, %.0f ms after the open\n",
	       strlen(text), off, (attack_now() - t1) * 1000);
	close(fd);
	close(in);
	return 0;
}

/* Make path a FIFO (fifo set) or a small junk file, unless it exists. */
static int attack_make(const char *path, int fifo)
{
	int fd;

	if (fifo)
		return mkfifo(path, 0644) < 0 && errno != EEXIST ? -1 : 0;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return errno == EEXIST ? 0 : -1;
	if (write(fd, "junk, not a snapshot\n", 21) != 21) {
		close(fd);
		return -1;
	}
	return close(fd);
}

static int attack_fifoswap(char **argv)
{
	long secs = attack_num(argv[2], 1, ATTACK_SECONDS_MAX);
	double end = attack_now() + (double)secs;
	unsigned long n = 0, remade = 0;
	char a[PATH_MAX], b[PATH_MAX];

	if ((size_t)snprintf(a, sizeof(a), "%s/.fifo-%s", argv[0], argv[1]) >=
	    sizeof(a) ||
	    (size_t)snprintf(b, sizeof(b), "%s/%s", argv[0], argv[1]) >=
	    sizeof(b)) {
		fprintf(stderr, "inboxattack: path too long\n");
		return 2;
	}
	if (attack_make(a, 1) < 0 || attack_make(b, 0) < 0) {
		fprintf(stderr, "inboxattack: %s: %s\n", argv[1],
			strerror(errno));
		return 2;
	}
	while (attack_now() < end) {
		struct stat st;

		if (renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) == 0) {
			n++;
			continue;
		}
		if (errno != ENOENT) {
			fprintf(stderr, "inboxattack: exchange: %s\n",
				strerror(errno));
			return 2;
		}
		/* One of the two was taken away: make the missing one. */
		remade++;
		if (lstat(a, &st) < 0 && lstat(b, &st) == 0) {
			if (attack_make(a, !S_ISFIFO(st.st_mode)) < 0)
				return 2;
		} else if (lstat(b, &st) < 0 && lstat(a, &st) == 0) {
			if (attack_make(b, !S_ISFIFO(st.st_mode)) < 0)
				return 2;
		} else if (attack_make(a, 1) < 0 || attack_make(b, 0) < 0) {
			return 2;
		}
	}
	printf("%lu exchanges, %lu files made again\n", n, remade);
	return 0;
}

static int attack_junk(char **argv)
{
	long count = attack_num(argv[1], 1, ATTACK_JUNK_MAX);
	long bytes = attack_num(argv[4], 0, ATTACK_BYTES_MAX);
	static unsigned char buf[ATTACK_BYTES_MAX];
	unsigned seed = 12345;
	char path[PATH_MAX];
	long i, j;

	for (i = 1; i <= count; i++) {
		int fd, n = snprintf(path, sizeof(path), "%s/%s%ld%s", argv[0],
				     argv[2], i, argv[3]);

		if (n < 0 || (size_t)n >= sizeof(path)) {
			fprintf(stderr, "inboxattack: path too long\n");
			return 2;
		}
		for (j = 0; j < bytes; j++) {
			seed = seed * 1103515245u + 12345u;
			buf[j] = (unsigned char)(seed >> 16);
		}
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || write(fd, buf, (size_t)bytes) != bytes ||
		    close(fd) < 0) {
			fprintf(stderr, "inboxattack: %s: %s\n", path,
				strerror(errno));
			return 2;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 7 && !strcmp(argv[1], "rewrite"))
		return attack_rewrite(argv + 2);
	if (argc == 5 && !strcmp(argv[1], "fifoswap"))
		return attack_fifoswap(argv + 2);
	if (argc == 7 && !strcmp(argv[1], "junk"))
		return attack_junk(argv + 2);
	fprintf(stderr, "usage: inboxattack rewrite FILE OFFSET TEXT DELAY_MS "
		"TIMEOUT_S\n"
		"       inboxattack fifoswap DIR NAME SECONDS\n"
		"       inboxattack junk DIR COUNT PREFIX SUFFIX BYTES\n");
	return 2;
}
