/*
 * stepwatch.c - when files appear in directories, for a benchmark's
 * per-step timings: one line per file completed or renamed into one of
 * the directories, "UNIXTIME LABEL NAME" (microseconds), until SIGTERM.
 *
 *   stepwatch LABEL=DIR [LABEL=DIR ...]
 *
 * Events: IN_CLOSE_WRITE, IN_MOVED_TO and IN_CREATE (a link() carrying out
 * an SFTP rename is a creation).  Names starting with a dot are left out.
 * The time is when stepwatch read the event: on a busy machine that can
 * be later than the event.  Line-buffered, so the lines are on disk as
 * they happen.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#define STEPWATCH_DIRS_MAX 16

static volatile sig_atomic_t stepwatch_stop;

static void stepwatch_on_signal(int sig)
{
	(void)sig;
	stepwatch_stop = 1;
}

int main(int argc, char **argv)
{
	const char *label[STEPWATCH_DIRS_MAX];
	int wd[STEPWATCH_DIRS_MAX], fd, i, n = argc - 1;
	char b[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	struct sigaction sa;

	if (n < 1 || n > STEPWATCH_DIRS_MAX) {
		fprintf(stderr, "usage: stepwatch LABEL=DIR [LABEL=DIR ...] "
			"(at most %d)\n", STEPWATCH_DIRS_MAX);
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = stepwatch_on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	fd = inotify_init1(IN_CLOEXEC);
	if (fd < 0) {
		perror("stepwatch: inotify_init1");
		return 1;
	}
	for (i = 0; i < n; i++) {
		char *eq = strchr(argv[i + 1], '=');

		if (!eq || eq == argv[i + 1]) {
			fprintf(stderr, "stepwatch: %s: not LABEL=DIR\n",
				argv[i + 1]);
			return 2;
		}
		*eq = '\0';
		label[i] = argv[i + 1];
		wd[i] = inotify_add_watch(fd, eq + 1, IN_CLOSE_WRITE |
					  IN_MOVED_TO | IN_CREATE);
		if (wd[i] < 0) {
			fprintf(stderr, "stepwatch: %s: %s\n", eq + 1,
				strerror(errno));
			return 1;
		}
	}
	fprintf(stderr, "ready\n");
	while (!stepwatch_stop) {
		ssize_t r = read(fd, b, sizeof(b));
		struct timespec ts;
		size_t off = 0;

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		clock_gettime(CLOCK_REALTIME, &ts);
		while (off + sizeof(struct inotify_event) <= (size_t)r) {
			struct inotify_event *e = (void *)(b + off);

			off += sizeof(*e) + e->len;
			if (!e->len || e->name[0] == '.')
				continue;
			for (i = 0; i < n; i++)
				if (wd[i] == e->wd)
					printf("%lld.%06ld %s %s\n",
					       (long long)ts.tv_sec,
					       ts.tv_nsec / 1000, label[i],
					       e->name);
		}
	}
	return 0;
}
