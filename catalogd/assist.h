/*
 * assist.h - lookups across the node's catalogs, in their configured
 * order (what Domino's Directory Assistance does): the socketmap,
 * readsocket and control lookups (assist_answer), the policy service's
 * decision (assist_policy), the routing maps built from an extra field
 * (transport, route), and the conflicts found on the way (an address
 * held by two catalogs: the first in the order answers; each is logged
 * once, counted, and shown by dircat status).
 *
 * Each catalog is asked through lib/lookup.c with its own read
 * transaction, state and stale policy, so one catalog's expiry or
 * missing snapshot changes only the answers that depend on it.  With one
 * catalog every answer is exactly lookup_answer()'s and
 * lookup_policy_decide()'s.  Limits: ASSIST_SEEN_MAX conflicts
 * remembered for logging once.
 */
#ifndef CATALOGD_ASSIST_H
#define CATALOGD_ASSIST_H

#include <stddef.h>

#include "daemon.h"

struct assist *assist_new(void);
void assist_free(struct assist *);

/*
 * Answer a request of map for key[0..keylen) from the catalogs.  Never
 * fails: a read error becomes TEMP.  ans->data is static, borrowed from a
 * read transaction of this wakeup, or in d->assist until the next call.
 */
void assist_answer(struct daemon *d, int map, const char *key, size_t keylen,
		   struct lookup_answer *ans);

/*
 * A policy request's action into action (size >= LOOKUP_ACTION_MAX):
 * the sender is judged by the catalog that holds it (or its domain), the
 * recipient by the catalog that holds the recipient.  0, or -1 on a
 * catalog read error (send nothing).  *rule names the rule that decided.
 */
int assist_policy(struct daemon *d, const char *protocol_state,
		  const char *sender, const char *recipient,
		  const char *sasl_username, const char *client_address,
		  char *action, size_t actionsize, const char **rule);

/* The catalogs and conflicts, for the status reply and the metrics. */
struct ctlproto_status;
void assist_status(struct daemon *d, struct ctlproto_status *st);
struct metrics;
void assist_metrics(struct daemon *d, struct metrics *m);

#endif
