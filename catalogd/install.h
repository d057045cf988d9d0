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

struct install *install_new(struct daemon *d, char *err, size_t errlen);
void install_free(struct install *);
/* Look in the inbox and start the next install when none runs. */
void install_scan(struct daemon *d);
void install_event(struct daemon *d, void *ptr);
/* Periodic work: rescans, stale changes.  Returns ms until next due. */
int install_tick(struct daemon *d);
/* Have the next round write INBOX/status from the installed catalog. */
void install_write_status(struct daemon *d);
/* The installs' part of the status reply, for report_status. */
struct ctlproto_status;
void install_status(struct daemon *d, struct ctlproto_status *st);
/* The dircat_catalogd_install* and refusal families, for report_metrics. */
struct metrics;
void install_metrics(struct daemon *d, struct metrics *m);
/* Stop a running install (daemon stopping). */
void install_stop(struct daemon *d);

#endif
