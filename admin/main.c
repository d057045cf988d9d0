/*
 * main.c - dircat, the admin tool: dispatch to a subcommand.
 */
#include <stdio.h>
#include <string.h>

#include "admin.h"
#include "log.h"
#include "version.h"

struct admin_cmd {
	const char *name;
	int (*fn)(int, char **);
	const char *usage;
};

static const struct admin_cmd admin_cmds[] = {
	{ "dump", admin_dump,
	  "dump [--full] CATALOG       print every record: address<TAB>kind, sorted" },
	{ "diff", admin_diff,
	  "diff [-s] [--key PUB]... OLD NEW\n"
	  "         catalogs or snapshots: added (+), removed (-), changed (~),"
	  " counts" },
	{ "normalise", admin_normalise,
	  "normalise ADDRESS...        show an address as the catalog stores it" },
	{ "keygen", admin_keygen,
	  "keygen NAME                 write NAME.key (0600) and NAME.pub" },
	{ "verify", admin_verify,
	  "verify SNAPSHOT --key PUB...   check a snapshot, print its header" },
	{ "status", admin_status,
	  "status [-c FILE] [-w AGE] [-C AGE] [--nagios]\n"
	  "         what catalogd serves (as SHOW XDIR); a Nagios check:"
	  " exit 0 OK,\n         1 WARNING, 2 CRITICAL, 3 UNKNOWN" },
	{ "metrics", admin_metrics,
	  "metrics [-c FILE] [-o FILE]  the node in Prometheus text format" },
	{ "lookup", admin_lookup,
	  "lookup [-c FILE] [-m MAP] ADDRESS   ask the running catalogd" },
};

static int admin_usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: dircat COMMAND [ARGS]\n       dircat -V\n\n"
		"commands:\n");
	for (i = 0; i < sizeof(admin_cmds) / sizeof(admin_cmds[0]); i++)
		fprintf(f, "  dircat %s\n", admin_cmds[i].usage);
	fprintf(f, "\nexit status: 0 success, 1 a negative answer (not found,"
		" invalid), 2 usage, 3 error\n");
	return f == stderr ? 2 : 0;
}

int main(int argc, char **argv)
{
	size_t i;

	log_init("dircat", LOG_DEST_STDERR);
	if (argc < 2)
		return admin_usage(stderr);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help"))
		return admin_usage(stdout);
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version") ||
	    !strcmp(argv[1], "version")) {
		version_print(stdout, "dircat");
		return 0;
	}
	for (i = 0; i < sizeof(admin_cmds) / sizeof(admin_cmds[0]); i++)
		if (!strcmp(argv[1], admin_cmds[i].name))
			return admin_cmds[i].fn(argc - 1, argv + 1);
	if (!strcmp(argv[1], "normalize"))
		return admin_normalise(argc - 1, argv + 1);
	fprintf(stderr, "dircat: unknown command '%s'\n", argv[1]);
	return admin_usage(stderr);
}
