/*
 * report.h - catalogd's account of itself: the status reply of the
 * control socket (ctlproto.h's key=value lines, which dircat status
 * reads) and the metrics (Prometheus text format).  Both are read from
 * the daemon's state and the installs' results; nothing here changes
 * either.  Limits: the reply buffers' maximums (server.c).
 */
#ifndef CATALOGD_REPORT_H
#define CATALOGD_REPORT_H

#include "daemon.h"

struct buf;
/* The status reply into out; -1 when it does not fit its maximum. */
int report_status(struct daemon *d, struct buf *out);
/* The metrics into out; -1 when they do not fit its maximum. */
int report_metrics(struct daemon *d, struct buf *out);

#endif
