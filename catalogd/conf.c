/*
 * conf.c - read and check catalogd's configuration; see conf.h.
 */
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "conf.h"
#include "snapshot.h"
#include "util.h"

#define CONF_IDLE_DEFAULT      60	/* seconds; Postfix itself closes at ~10 */
#define CONF_REQUEST_TIMEOUT_DEFAULT 10	/* seconds; a request is one write */
/* Per lookup socket: a few hundred smtpd processes, each with one
 * connection per map (recipients, senders, domains) and one to the
 * policy service, fit with room to spare. */
#define CONF_CONNECTIONS_DEFAULT 2048
#define CONF_CONTROL_CONNECTIONS_DEFAULT 16	/* dircat status, metrics */
#define CONF_OUTPUT_DEFAULT    (256 * 1024)
#define CONF_RESCAN_DEFAULT    60
#define CONF_REJECTED_DEFAULT  20
#define CONF_REJECTED_MAX      10000
#define CONF_INSTALL_TIMEOUT_DEFAULT 600	/* seconds */
#define CONF_SNAPSHOT_SIZE_MIN (SNAPSHOT_PREFIX_LEN)	/* an empty one */

static const char *const conf_protocols[] = {
	"", "socketmap", "readsocket", "policy", "control"
};

const char *conf_protocol_name(int protocol)
{
	return protocol >= CONF_SOCKETMAP && protocol <= CONF_CONTROL
		       ? conf_protocols[protocol] : "?";
}

static int conf_protocol_parse(const char *s)
{
	int p;

	for (p = CONF_SOCKETMAP; p <= CONF_CONTROL; p++)
		if (!strcmp(s, conf_protocols[p]))
			return p;
	return 0;
}

/* Copy a path setting, refusing relative and over-long ones. */
static int conf_path(const struct config_section *sec, const char *key,
		     const char *v, char *out, size_t size, char *err,
		     size_t errlen)
{
	char where[PATH_MAX + 64];

	if (v[0] != '/') {
		util_err(err, errlen, "%s%s: must be an absolute path",
			 config_where(sec, key, where, sizeof(where)), key);
		return -1;
	}
	if (util_strlcpy(out, v, size) >= size) {
		util_err(err, errlen, "%s%s: longer than %zu bytes",
			 config_where(sec, key, where, sizeof(where)), key,
			 size - 1);
		return -1;
	}
	return 0;
}

/* Resolve owner and group names of a socket. */
static int conf_owner(const struct config_section *sec, struct conf *c,
		      struct conf_socket *s, char *err, size_t errlen)
{
	const char *owner = config_get(sec, "owner", NULL);
	const char *group = config_get(sec, "group", NULL);
	char where[PATH_MAX + 64];

	s->owner = c->user[0] ? c->uid : (uid_t)-1;
	s->group = c->user[0] ? c->gid : (gid_t)-1;
	if (owner) {
		struct passwd *pw = getpwnam(owner);

		if (!pw) {
			util_err(err, errlen, "%sowner: no such user '%s'",
				 config_where(sec, "owner", where,
					      sizeof(where)), owner);
			return -1;
		}
		s->owner = pw->pw_uid;
	}
	if (group) {
		struct group *gr = getgrnam(group);

		if (!gr) {
			util_err(err, errlen, "%sgroup: no such group '%s'",
				 config_where(sec, "group", where,
					      sizeof(where)), group);
			return -1;
		}
		s->group = gr->gr_gid;
	}
	return 0;
}

/* Read one [socket NAME] section. */
static int conf_socket(const struct config_section *sec, struct conf *c,
		       char *err, size_t errlen)
{
	struct conf_socket *s;
	const char *v;
	char where[PATH_MAX + 64];
	int64_t max;
	size_t i, def;

	if (c->nsockets == CONF_SOCKETS_MAX) {
		util_err(err, errlen, "%smore than %d [socket] sections",
			 config_where(sec, NULL, where, sizeof(where)),
			 CONF_SOCKETS_MAX);
		return -1;
	}
	s = &c->socket[c->nsockets];
	memset(s, 0, sizeof(*s));
	if (util_strlcpy(s->name, config_section_name(sec), sizeof(s->name)) >=
	    sizeof(s->name)) {
		util_err(err, errlen, "%ssection name too long",
			 config_where(sec, NULL, where, sizeof(where)));
		return -1;
	}
	if (!(v = config_require(sec, "path", err, errlen)) ||
	    conf_path(sec, "path", v, s->path, sizeof(s->path), err,
		      errlen) < 0)
		return -1;
	if (!(v = config_require(sec, "protocol", err, errlen)))
		return -1;
	s->protocol = conf_protocol_parse(v);
	if (!s->protocol) {
		util_err(err, errlen,
			 "%sprotocol: '%s' is not socketmap, readsocket, "
			 "policy or control",
			 config_where(sec, "protocol", where, sizeof(where)), v);
		return -1;
	}
	if (config_get_mode(sec, "mode",
			    s->protocol == CONF_CONTROL ? 0600 : 0660,
			    &s->mode, err, errlen) < 0)
		return -1;
	if (conf_owner(sec, c, s, err, errlen) < 0)
		return -1;
	switch (s->protocol) {
	case CONF_SOCKETMAP:
		def = CONF_SOCKETMAP_REQUEST_DEFAULT;
		break;
	case CONF_READSOCKET:
		def = CONF_READSOCKET_REQUEST_DEFAULT;
		break;
	case CONF_POLICY:
		def = CONF_POLICY_REQUEST_DEFAULT;
		break;
	default:
		def = CONF_CONTROL_REQUEST;
	}
	if (config_get_int(sec, "max_request", (int64_t)def, CONF_REQUEST_MIN,
			   CONF_REQUEST_MAX, &max, err, errlen) < 0)
		return -1;
	s->max_request = (size_t)max;
	if (config_get_int(sec, "max_connections",
			   s->protocol == CONF_CONTROL ?
			   CONF_CONTROL_CONNECTIONS_DEFAULT : c->max_connections,
			   1, CONF_CONNECTIONS_MAX, &s->max_connections, err,
			   errlen) < 0)
		return -1;
	c->connections_total += s->max_connections;
	if (c->connections_total > CONF_CONNECTIONS_TOTAL_MAX) {
		util_err(err, errlen, "%smax_connections: the sockets together "
			 "allow more than %d connections",
			 config_where(sec, "max_connections", where,
				      sizeof(where)), CONF_CONNECTIONS_TOTAL_MAX);
		return -1;
	}
	for (i = 0; i < c->nsockets; i++)
		if (!strcmp(c->socket[i].path, s->path)) {
			util_err(err, errlen,
				 "%spath: %s is also used by [socket %s]",
				 config_where(sec, "path", where, sizeof(where)),
				 s->path, c->socket[i].name);
			return -1;
		}
	c->nsockets++;
	return 0;
}

/* Add each trusted_key file to the keyring. */
static int conf_keys(const struct config_section *top, struct conf *c,
		     char *err, size_t errlen)
{
	const char *v;
	char where[PATH_MAX + 64], why[512];
	size_t i;
	int line;

	c->keyring = sign_keyring_new();
	for (i = 0; (v = config_get_nth(top, "trusted_key", i, &line)); i++) {
		if (sign_keyring_add_file(c->keyring, v, why,
					  sizeof(why)) < 0) {
			util_err(err, errlen, "%s:%d: trusted_key: %s",
				 c->file, line, why);
			return -1;
		}
		c->ntrusted++;
	}
	if (c->ntrusted == 0) {
		util_err(err, errlen, "%strusted_key: at least one is needed",
			 config_where(top, NULL, where, sizeof(where)));
		return -1;
	}
	return 0;
}

/* A policy reply text: "550 5.1.1 text". */
static int conf_policy_text(const struct config_section *top,
			    const char *key, const char *def, char *out,
			    const char **field, char *err, size_t errlen)
{
	const char *v = config_get(top, key, NULL);
	char where[PATH_MAX + 64], why[128];

	if (!v)
		v = def;
	if (lookup_policy_text_ok(v, why, sizeof(why)) < 0) {
		util_err(err, errlen, "%s%s: %s",
			 config_where(top, key, where, sizeof(where)), key, why);
		return -1;
	}
	util_strlcpy(out, v, LOOKUP_ACTION_MAX);
	*field = out;
	return 0;
}

/* The lookup and policy settings. */
static int conf_lookup(const struct config_section *top, struct conf *c,
		       char *err, size_t errlen)
{
	const char *v;
	char where[PATH_MAX + 64];
	int b;

	v = config_get(top, "extension_delimiter", NULL);
	if (!v)
		v = "+";
	if (!strcmp(v, "none"))
		v = "";
	if (strlen(v) > LOOKUP_DELIMS_MAX || strchr(v, '@') ||
	    strchr(v, '"')) {
		util_err(err, errlen,
			 "%sextension_delimiter: at most %d characters, "
			 "not '@' or '\"' (none: no extensions)",
			 config_where(top, "extension_delimiter", where,
				      sizeof(where)), LOOKUP_DELIMS_MAX);
		return -1;
	}
	util_strlcpy(c->lookup.delims, v, sizeof(c->lookup.delims));
	if (config_get_bool(top, "case_sensitive", 0, &b, err, errlen) < 0)
		return -1;
	c->lookup.addr_flags = b ? ADDR_CASE_SENSITIVE : 0;
	v = config_get(top, "stale_policy", NULL);
	c->lookup.stale_policy = lookup_stale_parse(v ? v : "defer-unknown");
	if (c->lookup.stale_policy < 0) {
		util_err(err, errlen,
			 "%sstale_policy: '%s' is not defer-unknown, serve or "
			 "tempfail",
			 config_where(top, "stale_policy", where, sizeof(where)),
			 v);
		return -1;
	}
	if (conf_policy_text(top, "policy_unknown_recipient",
			     "550 5.1.1 User unknown", c->policy_text[0],
			     &c->policy.unknown_recipient, err, errlen) < 0 ||
	    conf_policy_text(top, "policy_stale_recipient",
			     "450 4.1.1 User unknown here for now: directory "
			     "catalog out of date, try again later",
			     c->policy_text[1], &c->policy.stale_recipient,
			     err, errlen) < 0 ||
	    conf_policy_text(top, "policy_sender_not_owned",
			     "553 5.7.1 Sender address not owned by the "
			     "authenticated user", c->policy_text[2],
			     &c->policy.sender_not_owned, err, errlen) < 0 ||
	    conf_policy_text(top, "policy_unauthenticated_local_sender",
			     "550 5.7.1 Authentication required to send as a "
			     "local address", c->policy_text[3],
			     &c->policy.unauthenticated_local_sender, err,
			     errlen) < 0)
		return -1;
	if (config_get_bool(top, "reject_unauthenticated_local_sender", 0, &b,
			    err, errlen) < 0)
		return -1;
	c->policy.reject_unauthenticated_local_sender = b;
	return 0;
}

/* Every setting before the first section. */
static int conf_top(const struct config_section *top, struct conf *c,
		    char *err, size_t errlen)
{
	const char *v;
	char where[PATH_MAX + 64];

	if (!(v = config_require(top, "catalog", err, errlen)) ||
	    conf_path(top, "catalog", v, c->catalog, sizeof(c->catalog), err,
		      errlen) < 0)
		return -1;
	if (!(v = config_require(top, "catalog_id", err, errlen)))
		return -1;
	if (!catalog_id_valid(v)) {
		util_err(err, errlen,
			 "%scatalog_id: 1 to %d of A-Z a-z 0-9 . _ -",
			 config_where(top, "catalog_id", where, sizeof(where)),
			 CATALOG_ID_MAX);
		return -1;
	}
	util_strlcpy(c->catalog_id, v, sizeof(c->catalog_id));
	if (!(v = config_require(top, "inbox", err, errlen)) ||
	    conf_path(top, "inbox", v, c->inbox, sizeof(c->inbox), err,
		      errlen) < 0)
		return -1;
	v = config_get(top, "user", NULL);
	if (v) {
		struct passwd *pw = getpwnam(v);

		if (!pw) {
			util_err(err, errlen, "%suser: no such user '%s'",
				 config_where(top, "user", where, sizeof(where)),
				 v);
			return -1;
		}
		if (pw->pw_uid == 0) {
			util_err(err, errlen, "%suser: must not be root",
				 config_where(top, "user", where,
					      sizeof(where)));
			return -1;
		}
		if (util_strlcpy(c->user, v, sizeof(c->user)) >=
		    sizeof(c->user)) {
			util_err(err, errlen, "%suser: name too long",
				 config_where(top, "user", where,
					      sizeof(where)));
			return -1;
		}
		c->uid = pw->pw_uid;
		c->gid = pw->pw_gid;
	}
	if (config_get_duration(top, "idle_timeout", CONF_IDLE_DEFAULT,
				&c->idle_timeout, err, errlen) < 0 ||
	    config_get_duration(top, "request_timeout",
				CONF_REQUEST_TIMEOUT_DEFAULT,
				&c->request_timeout, err, errlen) < 0 ||
	    config_get_int(top, "max_connections", CONF_CONNECTIONS_DEFAULT, 1,
			   CONF_CONNECTIONS_MAX, &c->max_connections, err,
			   errlen) < 0 ||
	    config_get_int(top, "max_output", CONF_OUTPUT_DEFAULT, 4096,
			   64 * 1024 * 1024, &c->max_output, err, errlen) < 0 ||
	    config_get_duration(top, "rescan_interval", CONF_RESCAN_DEFAULT,
				&c->rescan_interval, err, errlen) < 0 ||
	    config_get_int(top, "rejected_keep", CONF_REJECTED_DEFAULT, 0,
			   CONF_REJECTED_MAX, &c->rejected_keep, err,
			   errlen) < 0 ||
	    config_get_duration(top, "install_timeout",
				CONF_INSTALL_TIMEOUT_DEFAULT,
				&c->install_timeout, err, errlen) < 0 ||
	    config_get_int(top, "max_snapshot_size", (int64_t)SNAPSHOT_FILE_MAX,
			   CONF_SNAPSHOT_SIZE_MIN, (int64_t)SNAPSHOT_FILE_MAX,
			   &c->max_snapshot_size, err, errlen) < 0 ||
	    config_get_bool(top, "accept_snapshot_v1", 0,
			    &c->accept_snapshot_v1, err, errlen) < 0)
		return -1;
	if (c->idle_timeout < 1 || c->request_timeout < 1 ||
	    c->rescan_interval < 1 || c->install_timeout < 1) {
		util_err(err, errlen, "%sidle_timeout, request_timeout, "
			 "rescan_interval and install_timeout must be at least "
			 "1s",
			 config_where(top, NULL, where, sizeof(where)));
		return -1;
	}
	return 0;
}

struct conf *conf_load(const char *path, char *err, size_t errlen)
{
	struct config *cfg = config_load(path, err, errlen);
	const struct config_section *top, *sec = NULL;
	struct conf *c;
	char where[PATH_MAX + 64];

	if (!cfg)
		return NULL;
	c = xcalloc(1, sizeof(*c));
	util_strlcpy(c->file, path, sizeof(c->file));
	top = config_top(cfg);
	if (conf_top(top, c, err, errlen) < 0 ||
	    conf_lookup(top, c, err, errlen) < 0 ||
	    conf_keys(top, c, err, errlen) < 0)
		goto fail;
	while ((sec = config_next(cfg, sec, NULL)) != NULL) {
		if (strcmp(config_section_type(sec), "socket") != 0) {
			util_err(err, errlen,
				 "%sunknown section type [%s] (only [socket "
				 "NAME])",
				 config_where(sec, NULL, where, sizeof(where)),
				 config_section_type(sec));
			goto fail;
		}
		if (conf_socket(sec, c, err, errlen) < 0)
			goto fail;
	}
	if (c->nsockets == 0) {
		util_err(err, errlen, "%s: no [socket NAME] section: nothing "
			 "to serve", path);
		goto fail;
	}
	if (config_check_unused(cfg, err, errlen) < 0)
		goto fail;
	config_free(cfg);
	return c;
fail:
	config_free(cfg);
	conf_free(c);
	return NULL;
}

void conf_free(struct conf *c)
{
	if (!c)
		return;
	sign_keyring_free(c->keyring);
	free(c);
}

int conf_socket_same(const struct conf_socket *a, const struct conf_socket *b)
{
	return !strcmp(a->path, b->path) && a->protocol == b->protocol &&
	       a->mode == b->mode && a->owner == b->owner &&
	       a->group == b->group;
}
