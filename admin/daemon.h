/*
 * daemon.h - what the dircat subcommands that talk to catalogd share
 * (daemon.c: status, lookup; metrics.c: metrics): the paths they take
 * from catalogd's configuration and one control-socket request.
 */
#ifndef DIRCAT_ADMIN_DAEMON_H
#define DIRCAT_ADMIN_DAEMON_H

#include <limits.h>
#include <stddef.h>

#include "conf.h"
#include "ctlproto.h"
#include "util.h"

#define DAEMON_CONF_DEFAULT "/etc/dircat/catalogd.conf"
#define DAEMON_REPLY_MAX    (256 * 1024)	/* one answer, bytes */

/* What dircat needs from catalogd's configuration ("" when absent). */
struct daemon_paths {
	char control[PATH_MAX];
	char socketmap[PATH_MAX];
	char catalog[PATH_MAX];	/* the first catalog of the order */
	char inbox[PATH_MAX];
	/* Every catalog of a file with [catalog] sections, in the file's
	 * order (0 without), and the order. */
	size_t ncatalogs;
	struct daemon_catalog_path {
		char name[CONF_NAME_MAX + 1];
		char id[CATALOG_ID_MAX + 1];
		char path[PATH_MAX];
		int stale_policy;
	} cat[CONF_CATALOGS_MAX];
	char order[CTLPROTO_ORDER_MAX];
};

/* Read them from file; 0, or -1 after a message on stderr. */
int daemon_read_conf(const char *file, struct daemon_paths *p);

/*
 * Send one control command (a line without its newline) and read the
 * reply, which ends with an empty line, into b (initialised here, at most
 * DAEMON_REPLY_MAX; the caller frees it; the data is NUL-terminated, the
 * NUL not counted in b->len).  0, or -1 with why (b freed): cannot
 * connect, no answer within the time limit, reply too large.
 */
int daemon_control(const char *sock, const char *cmd, struct buf *b,
		   char *why, size_t whylen);

#endif
