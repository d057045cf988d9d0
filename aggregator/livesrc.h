/*
 * livesrc.h - a live source of the watch mode: something that follows
 * one [source] of the directory and reports each entry's change to the
 * core (watch.c), which applies it to the catalog (livecat.h).
 *
 * A source is an ops table over its own state.  The core calls start()
 * with the cookie stored in the catalog (none: start from scratch), then
 * waits on fd() (or until next_due()) and calls step() to handle what is
 * ready.  The source reports through the sink, in the order things
 * happened:
 *   refresh_begin(staged)     a refresh starts; staged = 1 when it
 *                             brings the whole content (no cookie)
 *   present(id, entry)        the entry is there with this content
 *   unchanged(id)             it is there, unchanged (present phase)
 *   gone(id)                  deleted, moved out, or no longer matching
 *   refresh_done(present)     the refresh ended; present = 1: every
 *                             entry not reported since refresh_begin is
 *                             gone
 *   cookie(bytes)             everything reported so far is covered by
 *                             this cookie
 * id: the entry's stable identity (entryUUID, objectGUID; at most
 * LIVECAT_ID_MAX bytes).  The core stores a cookie in the same catalog
 * transaction as the changes reported before it, so a restart (even after
 * kill -9) starts again from exactly there: changes carry whole entries,
 * so applying one again changes nothing.  A sink call returning -1 stops
 * the source (err says why); step() then returns -1.
 *
 * step() returns the number of messages handled (0: nothing was ready),
 * LIVESRC_REFRESH_REQUIRED when the server refused the cookie (the core
 * drops it and starts again with none: a full refresh, never a gap), or
 * -1 with err when the session is lost (the core stops the source and
 * starts it again after a growing delay; the catalog stays as it was).
 *
 * Sources: syncrepl.c (RFC 4533 refreshAndPersist: OpenLDAP, 389-DS),
 * pollsrc.c (a full read every poll_interval: any directory), usnsrc.c
 * (Active Directory: uSNChanged polling, by objectGUID).
 */
#ifndef LIVESRC_H
#define LIVESRC_H

#include <stddef.h>

#include "ldapsrc.h"

#define LIVESRC_REFRESH_REQUIRED (-2)
#define LIVESRC_COOKIE_MAX 16384	/* bytes of a cookie we keep */

struct livesrc_sink {
	void *core;
	int src;			/* the source's number */
	int (*refresh_begin)(void *core, int src, int staged);
	int (*present)(void *core, int src, const void *id, size_t idlen,
		       const struct ldapsrc_entry *e, char *err,
		       size_t errlen);
	int (*unchanged)(void *core, int src, const void *id, size_t idlen);
	int (*gone)(void *core, int src, const void *id, size_t idlen,
		    char *err, size_t errlen);
	int (*refresh_done)(void *core, int src, int present, char *err,
			    size_t errlen);
	int (*cookie)(void *core, int src, const void *cookie, size_t len,
		      char *err, size_t errlen);
};

struct livesrc_ops {
	const char *name;		/* "syncrepl", "poll", ... */
	int (*start)(void *s, const void *cookie, size_t len, char *err,
		     size_t errlen);
	int (*fd)(void *s);		/* -1: timer only */
	double (*next_due)(void *s);	/* util_now() time, 0: none */
	int (*step)(void *s, int max, char *err, size_t errlen);
	void (*stop)(void *s);		/* close the session */
	void (*free)(void *s);
};

struct livesrc {
	const struct livesrc_ops *ops;
	void *s;
};

/* The sources this build has: 0, or -1 with err when kind is unknown. */
int syncrepl_new(struct livesrc *out, const struct ldapsrc_conf *conf,
		 const struct formula_attrs *attrs,
		 const struct livesrc_sink *sink, char *err, size_t errlen);
int pollsrc_new(struct livesrc *out, const struct ldapsrc_conf *conf,
		const struct formula_attrs *attrs,
		const struct livesrc_sink *sink, double interval, char *err,
		size_t errlen);
int usnsrc_new(struct livesrc *out, const struct ldapsrc_conf *conf,
	       const struct formula_attrs *attrs,
	       const struct livesrc_sink *sink, const char *owner_attr,
	       double interval, double sweep_interval, char *err,
	       size_t errlen);

#endif
