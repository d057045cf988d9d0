/*
 * fakecatd.c - test and benchmark tool: stands in for catalogd on many
 * simulated nodes at once.  For each inbox directory given (one a line
 * in LISTFILE), it installs what arrives the way catalogd does as far as
 * the fleet can tell: the lowest serial first, each snapshot verified in
 * full (signature, hash, records) against the trusted key, a delta only
 * on its base, never a lower serial; then it writes INBOX/status
 * (serial=...) and removes the file.  A refused file is removed and
 * counted.  Each install is printed as "UNIXTIME.MS NODE SERIAL" so a
 * benchmark can tell when the last node got there.
 *
 *   fakecatd -k KEY.pub -i ID [-t SECONDS] LISTFILE
 *
 * Scans every 100 ms; stops after -t seconds (default 600) or on SIGTERM.
 */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "sign.h"
#include "snapshot.h"
#include "util.h"

#define FAKECATD_NODES_MAX 10000
#define FAKECATD_SCAN_MS   100

static volatile sig_atomic_t fakecatd_stop;

static void fakecatd_signal(int sig)
{
	(void)sig;
	fakecatd_stop = 1;
}

struct fnode {
	char *inbox;
	uint64_t serial;
};

static double fakecatd_time(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

/* Install what one inbox holds, lowest serial first. */
static void fakecatd_scan(struct fnode *n, size_t idx,
			  const struct sign_keyring *kr, const char *id,
			  unsigned long *refused)
{
	char path[4096], best[512], status[256], err[512];
	uint64_t best_serial = 0;
	struct snapshot_header h;
	struct dirent *de;
	DIR *d = opendir(n->inbox);
	int code, found = 0;

	if (!d)
		return;
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		unsigned long long s;
		char *p;

		if (de->d_name[0] == '.' || len < 6 || len >= sizeof(best) ||
		    strcmp(de->d_name + len - 5, ".snap"))
			continue;
		/* ID.SERIAL.full.snap or ID.BASE-SERIAL.delta.snap */
		p = strrchr(de->d_name, '-');
		if (!p)
			p = de->d_name + strlen(id);
		s = strtoull(p + 1, NULL, 10);
		if (!found || s < best_serial) {
			util_copy_fit(best, de->d_name, sizeof(best));
			best_serial = s;
			found = 1;
		}
	}
	closedir(d);
	if (!found)
		return;
	snprintf(path, sizeof(path), "%s/%s", n->inbox, best);
	if (snapshot_verify(path, kr, &h, &code, err, sizeof(err)) < 0 ||
	    strcmp(h.catalog_id, id) || h.serial <= n->serial ||
	    (h.type == SNAPSHOT_DELTA && h.base != n->serial)) {
		(*refused)++;
		unlink(path);
		return;
	}
	n->serial = h.serial;
	snprintf(status, sizeof(status), "catalog_id=%s\nserial=%llu\n"
		 "created=%lld\nexpires=%lld\ninstalled=%lld\nstale=no\n",
		 id, (unsigned long long)h.serial, (long long)h.created,
		 (long long)h.expires, (long long)time(NULL));
	snprintf(path, sizeof(path), "%s/status", n->inbox);
	if (util_write_file_atomic(path, status, strlen(status), 0644, err,
				   sizeof(err)) < 0)
		fprintf(stderr, "fakecatd: %s\n", err);
	snprintf(path, sizeof(path), "%s/%s", n->inbox, best);
	unlink(path);
	printf("%.3f %zu %llu\n", fakecatd_time(), idx,
	       (unsigned long long)h.serial);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	const char *keyfile = NULL, *id = NULL;
	struct sign_keyring *kr = sign_keyring_new();
	struct fnode *nodes;
	size_t n = 0, i;
	double stop_at, limit = 600;
	unsigned long refused = 0;
	char line[4096], err[512];
	struct sigaction sa;
	FILE *f;
	int c;

	while ((c = getopt(argc, argv, "k:i:t:")) != -1) {
		if (c == 'k')
			keyfile = optarg;
		else if (c == 'i')
			id = optarg;
		else if (c == 't')
			limit = atof(optarg);
		else
			return 2;
	}
	if (!keyfile || !id || optind != argc - 1) {
		fprintf(stderr, "usage: fakecatd -k KEY.pub -i ID [-t SECONDS] "
			"LISTFILE\n");
		return 2;
	}
	if (sign_keyring_add_file(kr, keyfile, err, sizeof(err)) < 0) {
		fprintf(stderr, "fakecatd: %s\n", err);
		return 2;
	}
	f = fopen(argv[optind], "r");
	if (!f)
		return 2;
	nodes = xcalloc(FAKECATD_NODES_MAX, sizeof(*nodes));
	while (n < FAKECATD_NODES_MAX && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0])
			nodes[n++].inbox = xstrdup(line);
	}
	fclose(f);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fakecatd_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	stop_at = fakecatd_time() + limit;
	while (!fakecatd_stop && fakecatd_time() < stop_at) {
		for (i = 0; i < n; i++)
			fakecatd_scan(&nodes[i], i, kr, id, &refused);
		usleep(FAKECATD_SCAN_MS * 1000);
	}
	fprintf(stderr, "fakecatd: %zu nodes, %lu refused\n", n, refused);
	for (i = 0; i < n; i++)
		free(nodes[i].inbox);
	free(nodes);
	sign_keyring_free(kr);
	return 0;
}
