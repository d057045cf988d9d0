/*
 * install.h - catalogd's installs, the loop's side: it watches the inbox
 * (inotify, rescans), starts a round of inbox work in a child (inbox.c)
 * and follows it with a deadline, and keeps the results (last install,
 * refusals, counters) that status and metrics report.  Nothing here
 * opens, renames or writes files of the inbox.
 */
#ifndef CATALOGD_INSTALL_H
#define CATALOGD_INSTALL_H

#include <stddef.h>

#include "daemon.h"

/* The installs of catalog k (each catalog has its own inbox, watch and
 * rounds: one catalog's junk or slow install never holds up another's). */
struct install *install_new(struct daemon *d, struct daemon_catalog *k,
			    char *err, size_t errlen);
void install_free(struct install *);
/* Look in k's inbox and start the next install when none runs. */
void install_scan(struct daemon *d, struct daemon_catalog *k);
/* An inotify or round event of any catalog's installs. */
void install_event(struct daemon *d, void *ptr);
/* Periodic work of every catalog: rescans, stale changes.  Returns ms
 * until the next is due. */
int install_tick(struct daemon *d);
/* Have k's next round write INBOX/status from its installed catalog. */
void install_write_status(struct daemon *d, struct daemon_catalog *k);
/* k's installs' part of the status reply, for report_status. */
struct ctlproto_status;
void install_status(struct daemon *d, struct daemon_catalog *k,
		    struct ctlproto_status *st);
/* k's installs and refusals for its entry of the catalogs' list. */
struct ctlproto_catalog;
void install_catalog_status(const struct daemon_catalog *k,
			    struct ctlproto_catalog *c);
/* The dircat_catalogd_install* and refusal families, every catalog's
 * added up, for report_metrics. */
struct metrics;
void install_metrics(struct daemon *d, struct metrics *m);
/* Stop k's running install (daemon stopping). */
void install_stop(struct daemon *d, struct daemon_catalog *k);

#endif
