/*
 * watchstat.c - dircat status --watch; see watchstat.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "watchstat.h"

/* A line's key or value made printable in place. */
static void watchstat_clean(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < ' ' || *s == 0x7f)
			*s = ' ';
}

int watchstat_text(char *text, int nagios, FILE *out)
{
	char why[WATCHSTAT_LINE_MAX];
	char *line, *save = NULL;
	int state = 0, held = 0, retrying = 0;
	unsigned long long serial = 0;

	why[0] = '\0';
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');

		if (strlen(line) > WATCHSTAT_LINE_MAX || !eq)
			continue;
		*eq = '\0';
		watchstat_clean(line);
		watchstat_clean(eq + 1);
		if (!strcmp(line, "state") && !strcmp(eq + 1, "held"))
			held = 1;
		if (!strcmp(line, "held_reason"))	/* a line fits */
			util_copy_fit(why, eq + 1, sizeof(why));
		if (!strcmp(line, "serial"))
			sscanf(eq + 1, "%llu", &serial);
		if (!strncmp(line, "source.", 7) &&
		    !strncmp(eq + 1, "retrying", 8)) {
			retrying++;
			if (!why[0])
				snprintf(why, sizeof(why), "%s %s", line + 7,
					 eq + 1);
		}
		if (!nagios)
			fprintf(out, "%s: %s\n", line, eq + 1);
	}
	state = held ? 2 : retrying ? 1 : 0;
	if (nagios)
		fprintf(out, "DIRCAT %s - watch mode %s, serial %llu%s%s | "
			"serial=%llu\n",
			state == 2 ? "CRITICAL" : state == 1 ? "WARNING" : "OK",
			held ? "held by a safety gate" : "running", serial,
			why[0] ? ": " : "", why, serial);
	else if (state)
		fprintf(out, "check: %s\n", held ? "publishing is held: see "
			"held_reason; SIGUSR1 publishes anyway" : why);
	return state;
}

int watchstat_show(const char *path, int nagios)
{
	char text[WATCHSTAT_FILE_MAX + 1];
	ssize_t n;
	size_t len = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		if (nagios)
			printf("DIRCAT UNKNOWN - watch status %s: %s\n", path,
			       strerror(errno));
		else
			fprintf(stderr, "dircat: status: %s: %s (is the "
				"aggregator running with --watch and "
				"watch_status_file?)\n", path, strerror(errno));
		return 3;
	}
	while (len < WATCHSTAT_FILE_MAX &&
	       (n = read(fd, text + len, WATCHSTAT_FILE_MAX - len)) > 0)
		len += (size_t)n;
	close(fd);
	text[len] = '\0';
	return watchstat_text(text, nagios, stdout);
}
