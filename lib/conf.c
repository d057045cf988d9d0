/*
 * conf.c - catalogd.conf's settings table and its checks; see conf.h.
 * What a setting means is in man/dircat.conf.5; a new setting is one row
 * below (and a line there).
 */
#include <ctype.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include <sys/stat.h>

#include "addr.h"
#include "config.h"
#include "conf.h"
#include "keyhash.h"
#include "snapshot.h"
#include "util.h"

/* The defaults that depend on a socket's protocol (the table cannot say
 * them): see conf_socket_rules(). */
#define CONF_CONTROL_CONNECTIONS_DEFAULT 16	/* dircat status, metrics */
#define CONF_GROUPS_MAX 1024	/* supplementary groups looked at */

/* max_snapshot_size's default, as text, is SNAPSHOT_FILE_MAX. */
_Static_assert(SNAPSHOT_FILE_MAX == 17179869184ULL,
	       "max_snapshot_size's default in conf_top_keys");

static const struct settings_choice conf_protocols[] = {
	{ "socketmap", CONF_SOCKETMAP },
	{ "readsocket", CONF_READSOCKET },
	{ "policy", CONF_POLICY },
	{ "control", CONF_CONTROL },
	{ NULL, 0 }
};

const char *conf_protocol_name(int protocol)
{
	size_t i;

	for (i = 0; conf_protocols[i].name; i++)
		if (conf_protocols[i].value == protocol)
			return conf_protocols[i].name;
	return "?";
}

/* --- checks of the top level ------------------------------------------ */

/* Each trusted_key file joins the keyring. */
static int conf_trusted_key(void *obj, const struct settings_key *k,
			    const struct settings_value *v, char *err,
			    size_t errlen)
{
	struct conf *c = obj;
	char why[512];

	c->ntrusted++;
	if (c->syntax_only)
		return 0;
	if (!c->keyring)
		c->keyring = sign_keyring_new();
	if (sign_keyring_add_file(c->keyring, v->text, why, sizeof(why)) < 0)
		return settings_fail(k, v, err, errlen, "%s", why);
	return 0;
}

/* hash_secret: the catalog's keyed-hash secret, permission-checked
 * (others may not read it) and loaded now, so that a bad file is refused
 * with the rest of the configuration.  Into path and *hash. */
static int conf_hash_load(const struct settings_key *k,
			  const struct settings_value *v, int syntax_only,
			  char *path, size_t pathsize, struct keyhash **hash,
			  char *err, size_t errlen)
{
	char why[PATH_MAX + 256];

	if (strlen(v->text) >= pathsize)
		return settings_fail(k, v, err, errlen, "path too long");
	memcpy(path, v->text, strlen(v->text) + 1);
	if (syntax_only)
		return 0;
	*hash = keyhash_load(v->text, why, sizeof(why));
	if (!*hash)
		return settings_fail(k, v, err, errlen, "%s", why);
	return 0;
}

static int conf_hash_secret(void *obj, const struct settings_key *k,
			    const struct settings_value *v, char *err,
			    size_t errlen)
{
	struct conf *c = obj;

	return conf_hash_load(k, v, c->syntax_only, c->hash_secret,
			      sizeof(c->hash_secret), &c->hash, err, errlen);
}

/* The account to run as: it must exist and not be root. */
static int conf_user(void *obj, const struct settings_key *k,
		     const struct settings_value *v, char *err,
		     size_t errlen)
{
	struct conf *c = obj;
	struct passwd *pw;

	if (c->syntax_only)
		return 0;
	pw = getpwnam(v->text);
	if (!pw)
		return settings_fail(k, v, err, errlen, "no such user '%s'",
				     v->text);
	if (pw->pw_uid == 0)
		return settings_fail(k, v, err, errlen, "must not be root");
	c->uid = pw->pw_uid;
	c->gid = pw->pw_gid;
	return 0;
}

static int conf_extension_delimiter(void *obj, const struct settings_key *k,
				    const struct settings_value *v, char *err,
				    size_t errlen)
{
	struct conf *c = obj;
	const char *d = strcmp(v->text, "none") ? v->text : "";

	if (strlen(d) > LOOKUP_DELIMS_MAX || strchr(d, '@') || strchr(d, '"'))
		return settings_fail(k, v, err, errlen, "at most %d characters, "
				     "not '@' or '\"' (none: no extensions)",
				     LOOKUP_DELIMS_MAX);
	memcpy(c->lookup.delims, d, strlen(d) + 1);	/* fits: checked */
	return 0;
}

static int conf_stale_policy(void *obj, const struct settings_key *k,
			     const struct settings_value *v, char *err,
			     size_t errlen)
{
	struct conf *c = obj;

	c->lookup.stale_policy = lookup_stale_parse(v->text);
	if (c->lookup.stale_policy < 0)
		return settings_fail(k, v, err, errlen, "'%s' is not "
				     "defer-unknown, serve or tempfail",
				     v->text);
	return 0;
}

/* A policy reply text ("550 5.1.1 text") into the buffer the key's field
 * names (LOOKUP_ACTION_MAX bytes). */
static int conf_policy_text(void *obj, const struct settings_key *k,
			    const struct settings_value *v, char *err,
			    size_t errlen)
{
	char *out = (char *)obj + k->offset, why[128];

	if (lookup_policy_text_ok(v->text, why, sizeof(why)) < 0)
		return settings_fail(k, v, err, errlen, "%s", why);
	/* lookup_policy_text_ok allows LOOKUP_ACTION_MAX - 8 bytes: fits */
	memcpy(out, v->text, strlen(v->text) + 1);
	return 0;
}

/* A list of catalog names; resolved once every section is read. */
static int conf_order_item(void *arg, const char *item, size_t len)
{
	(void)arg;
	if (len == 0 || len > CONF_NAME_MAX)
		return -1;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)item[i]) && item[i] != '_' &&
		    item[i] != '-' && item[i] != '.')
			return -1;
	return 0;
}

static int conf_order_syntax(void *obj, const struct settings_key *k,
			     const struct settings_value *v, char *err,
			     size_t errlen)
{
	(void)obj;
	if (!*v->text || config_split(v->text, conf_order_item, NULL))
		return settings_fail(k, v, err, errlen, "a list of [catalog "
				     "NAME] names, separated by commas");
	return 0;
}

/* A next hop as Postfix and Exim take it: a host name, [address] or
 * host:port; no white space, commas or '%'. */
int conf_route_valid(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > CONF_ROUTE_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!s[i] ||
		    (!isalnum((unsigned char)s[i]) && !strchr(".-_[]:", s[i])))
			return 0;
	return 1;
}

static int conf_route_default(void *obj, const struct settings_key *k,
			      const struct settings_value *v, char *err,
			      size_t errlen)
{
	(void)obj;
	if (!conf_route_valid(v->text, strlen(v->text)))
		return settings_fail(k, v, err, errlen, "a host name, "
				     "[address] or host:port (letters, "
				     "digits, . - _ [ ] :), at most %d "
				     "bytes", CONF_ROUTE_MAX);
	return 0;
}

static int conf_route_field(void *obj, const struct settings_key *k,
			    const struct settings_value *v, char *err,
			    size_t errlen)
{
	(void)obj;
	if (conf_order_item(NULL, v->text, strlen(v->text)) < 0)
		return settings_fail(k, v, err, errlen, "an extra field's "
				     "name (letters, digits, . _ -)");
	return 0;
}

/* "relay:[%s]": one %s, no other '%', no white space. */
static int conf_transport_template(void *obj, const struct settings_key *k,
				   const struct settings_value *v, char *err,
				   size_t errlen)
{
	const char *p = strstr(v->text, "%s");
	size_t i;

	(void)obj;
	for (i = 0; v->text[i]; i++)
		if (!isgraph((unsigned char)v->text[i]) ||
		    (v->text[i] == '%' && v->text + i != p))
			p = NULL;
	if (!p || !strchr(v->text, ':'))
		return settings_fail(k, v, err, errlen, "transport:nexthop "
				     "with one %%s for the next hop, e.g. "
				     "relay:[%%s]");
	return 0;
}

/* internal_networks: the clients whose mail internal-only recipients
 * take without authentication. */
static int conf_internal_networks(void *obj, const struct settings_key *k,
				  const struct settings_value *v, char *err,
				  size_t errlen)
{
	struct conf *c = obj;
	char why[256];

	if (cidr_list_parse(v->text, strlen(v->text), &c->internal_networks,
			    why, sizeof(why)) < 0)
		return settings_fail(k, v, err, errlen, "%s", why);
	return 0;
}

#define TOP(member) SETTINGS_FIELD(struct conf, member)
#define POLICY_TEXT(i) .type = SETTINGS_CUSTOM, TOP(policy_text[i]), \
	.check = conf_policy_text, .meta = "CODE TEXT"
static const struct settings_key conf_top_keys[] = {
	{ .name = "catalog", .type = SETTINGS_COPY,
	  .flags = SETTINGS_ABSOLUTE, TOP(catalog),
	  .meta = "PATH", .doc = "The node's catalog file (LMDB); required "
				 "unless the file has [catalog NAME] "
				 "sections." },
	{ .name = "catalog_id", .type = SETTINGS_COPY, TOP(catalog_id),
	  .check = settings_catalog_id, .meta = "ID",
	  .doc = "The id of the catalog this node serves; required unless "
		 "the file has [catalog NAME] sections." },
	{ .name = "inbox", .type = SETTINGS_COPY,
	  .flags = SETTINGS_ABSOLUTE, TOP(inbox),
	  .meta = "DIR", .doc = "Where the replicator delivers snapshots; "
				"required unless the file has [catalog NAME] "
				"sections." },
	{ .name = "trusted_key", .type = SETTINGS_CUSTOM,
	  .flags = SETTINGS_REPEAT, .check = conf_trusted_key, .meta = "PATH",
	  .doc = "A public key whose signatures are accepted; required "
		 "unless the file has [catalog NAME] sections." },
	{ .name = "hash_secret", .type = SETTINGS_CUSTOM,
	  .check = conf_hash_secret, .meta = "PATH",
	  .doc = "Keyed-hash mode: the catalog's secret (the file the "
		 "replicator's hash_secret names; group-readable at most). "
		 "Snapshots must be hashed with it; clear ones are refused." },
	{ .name = "order", .type = SETTINGS_CUSTOM, .check = conf_order_syntax,
	  .meta = "NAME,...",
	  .doc = "The [catalog NAME] sections in the order lookups consult "
		 "them; default: the file's order." },
	{ .name = "route_field", .type = SETTINGS_COPY, TOP(route_field),
	  .check = conf_route_field, .meta = "NAME",
	  .doc = "The extra field that names a recipient's next hop (the "
		 "transport and route maps)." },
	{ .name = "route_default", .type = SETTINGS_COPY, TOP(route_default),
	  .check = conf_route_default, .meta = "HOST",
	  .doc = "The next hop of a local address without that field." },
	{ .name = "transport_template", .type = SETTINGS_COPY,
	  .def = CONF_TRANSPORT_TEMPLATE_DEFAULT, TOP(transport_template),
	  .check = conf_transport_template, .meta = "TEXT",
	  .doc = "The transport map's answer, %s standing for the next "
		 "hop." },
	{ .name = "user", .type = SETTINGS_COPY, TOP(user),
	  .check = conf_user, .meta = "NAME",
	  .doc = "The account catalogd runs as once its sockets are open." },
	{ .name = "extension_delimiter", .type = SETTINGS_CUSTOM, .def = "+",
	  .check = conf_extension_delimiter, .meta = "CHARS",
	  .doc = "The characters that start an address extension; none: "
		 "no extensions." },
	{ .name = "case_sensitive", .type = SETTINGS_BOOL, .def = "no",
	  TOP(case_sensitive), .doc = "Keep the case of local parts." },
	{ .name = "stale_policy", .type = SETTINGS_CUSTOM,
	  .def = "defer-unknown", .check = conf_stale_policy,
	  .meta = "defer-unknown|serve|tempfail",
	  .doc = "What to answer once the snapshot has expired." },
	{ .name = "policy_unknown_recipient", POLICY_TEXT(0),
	  .def = "550 5.1.1 User unknown",
	  .doc = "The policy reply to an unknown recipient." },
	{ .name = "policy_stale_recipient", POLICY_TEXT(1),
	  .def = "450 4.1.1 User unknown here for now: directory catalog "
		 "out of date, try again later",
	  .doc = "The same while the catalog is stale." },
	{ .name = "policy_sender_not_owned", POLICY_TEXT(2),
	  .def = "553 5.7.1 Sender address not owned by the authenticated "
		 "user",
	  .doc = "The reply when the user does not own the sender." },
	{ .name = "policy_unauthenticated_local_sender", POLICY_TEXT(3),
	  .def = "550 5.7.1 Authentication required to send as a local "
		 "address",
	  .doc = "The reply to an unauthenticated local sender." },
	{ .name = "policy_internal_only_recipient", POLICY_TEXT(4),
	  .def = LOOKUP_INTERNAL_ONLY_TEXT,
	  .doc = "The reply to a client neither authenticated nor in "
		 "internal_networks writing to an internal-only address." },
	{ .name = "internal_networks", .type = SETTINGS_CUSTOM,
	  .check = conf_internal_networks, .meta = "CIDR...",
	  .doc = "The internal clients (IPv4 and IPv6 networks, separated by "
		 "commas or blanks, at most 64): internal-only addresses "
		 "take their mail without authentication; default: none "
		 "(authenticated clients only)." },
	{ .name = "reject_unauthenticated_local_sender",
	  .type = SETTINGS_BOOL, .def = "no",
	  TOP(policy.reject_unauthenticated_local_sender),
	  .doc = "Refuse unauthenticated clients using a local sender." },
	{ .name = "idle_timeout", .type = SETTINGS_DURATION, .def = "60s",
	  .min = 1, .max = INT64_MAX, TOP(idle_timeout),
	  .doc = "Close a connection idle this long between requests." },
	{ .name = "request_timeout", .type = SETTINGS_DURATION, .def = "10s",
	  .min = 1, .max = INT64_MAX, TOP(request_timeout),
	  .doc = "A request must be complete, and its reply taken, this "
		 "long after its first byte." },
	{ .name = "max_connections", .type = SETTINGS_INT, .def = "2048",
	  .min = 1, .max = CONF_CONNECTIONS_MAX, TOP(max_connections),
	  .doc = "Connections at once on each lookup socket (default of "
		 "the sockets)." },
	{ .name = "max_output", .type = SETTINGS_INT, .def = "262144",
	  .min = 4096, .max = 64 * 1024 * 1024, TOP(max_output),
	  .meta = "BYTES",
	  .doc = "Replies queued for one client that is not reading." },
	{ .name = "rescan_interval", .type = SETTINGS_DURATION, .def = "60s",
	  .min = 1, .max = INT64_MAX, TOP(rescan_interval),
	  .doc = "Look at the inbox this often even without a file event." },
	{ .name = "rejected_keep", .type = SETTINGS_INT, .def = "20",
	  .min = 0, .max = 10000, TOP(rejected_keep),
	  .doc = "Refused snapshots kept in INBOX/rejected/." },
	{ .name = "install_timeout", .type = SETTINGS_DURATION, .def = "10m",
	  .min = 1, .max = INT64_MAX, TOP(install_timeout),
	  .doc = "The longest an install may take." },
	{ .name = "max_snapshot_size", .type = SETTINGS_INT,
	  .def = "17179869184", .min = SNAPSHOT_PREFIX_LEN,
	  .max = (int64_t)SNAPSHOT_FILE_MAX, TOP(max_snapshot_size),
	  .meta = "BYTES", .doc = "Larger snapshot files are refused unread." },
	{ .name = "accept_snapshot_v1", .type = SETTINGS_BOOL, .def = "no",
	  TOP(accept_snapshot_v1),
	  .doc = "Install snapshots of format version 1 too." },
	{ .name = NULL }
};
#undef TOP
#undef POLICY_TEXT

/* --- checks of a [socket NAME] --------------------------------------- */

/* A socket while its section is read: the conf it belongs to is needed
 * for the defaults that come from the top (user, max_connections). */
struct conf_socket_load {
	struct conf_socket s;
	const struct conf *c;
	int64_t max_request;	/* -1: the protocol's default */
	int64_t max_connections;	/* -1: the default for the protocol */
	unsigned mode;		/* (unsigned)-1: the default */
};

static int conf_owner(void *obj, const struct settings_key *k,
		      const struct settings_value *v, char *err,
		      size_t errlen)
{
	struct conf_socket_load *l = obj;
	struct passwd *pw;

	if (l->c->syntax_only)
		return 0;
	pw = getpwnam(v->text);
	if (!pw)
		return settings_fail(k, v, err, errlen, "no such user '%s'",
				     v->text);
	l->s.owner = pw->pw_uid;
	l->s.owner_line = v->line;
	return 0;
}

static int conf_group(void *obj, const struct settings_key *k,
		      const struct settings_value *v, char *err,
		      size_t errlen)
{
	struct conf_socket_load *l = obj;
	struct group *gr;

	if (l->c->syntax_only)
		return 0;
	gr = getgrnam(v->text);
	if (!gr)
		return settings_fail(k, v, err, errlen, "no such group '%s'",
				     v->text);
	l->s.group = gr->gr_gid;
	l->s.group_line = v->line;
	return 0;
}

#define SOCK(member) SETTINGS_FIELD(struct conf_socket_load, member)
static const struct settings_key conf_socket_keys[] = {
	{ .name = "path", .type = SETTINGS_COPY,
	  .flags = SETTINGS_REQUIRED | SETTINGS_ABSOLUTE, SOCK(s.path),
	  .meta = "PATH", .doc = "The socket's path; unique among the "
				 "sockets." },
	{ .name = "protocol", .type = SETTINGS_CHOICE,
	  .flags = SETTINGS_REQUIRED, .choices = conf_protocols,
	  SOCK(s.protocol), .doc = "What the socket speaks." },
	{ .name = "owner", .type = SETTINGS_CUSTOM, .check = conf_owner,
	  .meta = "USER", .doc = "The socket's owner; default: user." },
	{ .name = "group", .type = SETTINGS_CUSTOM, .check = conf_group,
	  .meta = "GROUP", .doc = "The socket's group; default: user's "
				  "group." },
	{ .name = "mode", .type = SETTINGS_MODE, .max = 07777, SOCK(mode),
	  .doc = "The socket's permissions; default 0660, 0600 for "
		 "control." },
	{ .name = "max_request", .type = SETTINGS_INT,
	  .min = CONF_REQUEST_MIN, .max = CONF_REQUEST_MAX, SOCK(max_request),
	  .meta = "BYTES",
	  .doc = "The largest request; default 2048, 16384 for policy, 1024 "
		 "for control." },
	{ .name = "max_connections", .type = SETTINGS_INT, .min = 1,
	  .max = CONF_CONNECTIONS_MAX, SOCK(max_connections),
	  .doc = "Connections at once; default: the top-level value, 16 for "
		 "control." },
	{ .name = NULL }
};
#undef SOCK

/* --- checks of a [catalog NAME] and a [domain NAME] ------------------ */

/* A catalog while its section is read. */
struct conf_catalog_load {
	struct conf_catalog k;
	const struct conf *c;
};

static int conf_catalog_trusted_key(void *obj, const struct settings_key *k,
				    const struct settings_value *v, char *err,
				    size_t errlen)
{
	struct conf_catalog_load *l = obj;
	char why[512];

	l->k.ntrusted++;
	if (l->c->syntax_only)
		return 0;
	if (!l->k.keyring)
		l->k.keyring = sign_keyring_new();
	if (sign_keyring_add_file(l->k.keyring, v->text, why,
				  sizeof(why)) < 0)
		return settings_fail(k, v, err, errlen, "%s", why);
	return 0;
}

static int conf_catalog_hash_secret(void *obj, const struct settings_key *k,
				    const struct settings_value *v, char *err,
				    size_t errlen)
{
	struct conf_catalog_load *l = obj;

	return conf_hash_load(k, v, l->c->syntax_only, l->k.hash_secret,
			      sizeof(l->k.hash_secret), &l->k.hash, err,
			      errlen);
}

static int conf_catalog_stale_policy(void *obj, const struct settings_key *k,
				     const struct settings_value *v,
				     char *err, size_t errlen)
{
	struct conf_catalog_load *l = obj;

	l->k.lookup.stale_policy = lookup_stale_parse(v->text);
	if (l->k.lookup.stale_policy < 0)
		return settings_fail(k, v, err, errlen, "'%s' is not "
				     "defer-unknown, serve or tempfail",
				     v->text);
	return 0;
}

#define CAT(member) SETTINGS_FIELD(struct conf_catalog_load, k.member)
static const struct settings_key conf_catalog_keys[] = {
	{ .name = "catalog", .type = SETTINGS_COPY,
	  .flags = SETTINGS_REQUIRED | SETTINGS_ABSOLUTE, CAT(path),
	  .meta = "PATH", .doc = "This catalog's file (LMDB); one file per "
				 "catalog." },
	{ .name = "catalog_id", .type = SETTINGS_COPY,
	  .flags = SETTINGS_REQUIRED, CAT(id), .check = settings_catalog_id,
	  .meta = "ID", .doc = "The id its snapshots must carry." },
	{ .name = "inbox", .type = SETTINGS_COPY,
	  .flags = SETTINGS_REQUIRED | SETTINGS_ABSOLUTE, CAT(inbox),
	  .meta = "DIR", .doc = "Where its snapshots arrive; one inbox per "
				"catalog." },
	{ .name = "trusted_key", .type = SETTINGS_CUSTOM,
	  .flags = SETTINGS_REQUIRED | SETTINGS_REPEAT,
	  .check = conf_catalog_trusted_key, .meta = "PATH",
	  .doc = "A public key whose signatures this catalog accepts." },
	{ .name = "hash_secret", .type = SETTINGS_CUSTOM,
	  .check = conf_catalog_hash_secret, .meta = "PATH",
	  .doc = "Keyed-hash mode: this catalog's secret (each catalog has "
		 "its own)." },
	{ .name = "stale_policy", .type = SETTINGS_CUSTOM,
	  .flags = SETTINGS_INHERIT, .def = "defer-unknown",
	  .check = conf_catalog_stale_policy,
	  .meta = "defer-unknown|serve|tempfail",
	  .doc = "What this catalog answers once expired; default: the "
		 "top level's." },
	{ .name = "route_field", .type = SETTINGS_COPY,
	  .flags = SETTINGS_INHERIT, CAT(route_field),
	  .check = conf_route_field, .meta = "NAME",
	  .doc = "The extra field naming a recipient's next hop; default: "
		 "the top level's." },
	{ .name = "route_default", .type = SETTINGS_COPY,
	  .flags = SETTINGS_INHERIT, CAT(route_default),
	  .check = conf_route_default, .meta = "HOST",
	  .doc = "The next hop of this catalog's addresses without that "
		 "field; default: the top level's." },
	{ .name = "transport_template", .type = SETTINGS_COPY,
	  .flags = SETTINGS_INHERIT, .def = CONF_TRANSPORT_TEMPLATE_DEFAULT,
	  CAT(transport_template), .check = conf_transport_template,
	  .meta = "TEXT", .doc = "The transport map's answer for this "
				 "catalog; default: the top level's." },
	{ .name = NULL }
};
#undef CAT

#define DOM(member) SETTINGS_FIELD(struct conf_domain, member)
static const struct settings_key conf_domain_keys[] = {
	{ .name = "order", .type = SETTINGS_CUSTOM, .check = conf_order_syntax,
	  .meta = "NAME,...",
	  .doc = "The catalogs this domain's addresses are looked up in, in "
		 "order; default: the top level's order." },
	{ .name = "route_default", .type = SETTINGS_COPY, DOM(route_default),
	  .check = conf_route_default, .meta = "HOST",
	  .doc = "The next hop of this domain's addresses without a route "
		 "field; before the catalog's." },
	{ .name = NULL }
};
#undef DOM

const struct settings_section conf_settings[] = {
	{ .type = NULL, .keys = conf_top_keys },
	{ .type = "socket", .min = 1, .max = CONF_SOCKETS_MAX,
	  .why_needed = "nothing to serve", .keys = conf_socket_keys },
	{ .type = "catalog", .min = 0, .max = CONF_CATALOGS_MAX,
	  .keys = conf_catalog_keys },
	{ .type = "domain", .min = 0, .max = CONF_DOMAINS_MAX,
	  .keys = conf_domain_keys },
	{ .keys = NULL }
};

/* What the top level's rows cannot say alone. */
static void conf_top_rules(struct conf *c)
{
	c->lookup.addr_flags = c->case_sensitive ? ADDR_CASE_SENSITIVE : 0;
	c->lookup.hash = c->hash;
	c->policy.unknown_recipient = c->policy_text[0];
	c->policy.stale_recipient = c->policy_text[1];
	c->policy.sender_not_owned = c->policy_text[2];
	c->policy.unauthenticated_local_sender = c->policy_text[3];
	c->policy.internal_only_recipient = c->policy_text[4];
	c->policy.internal_networks = c->internal_networks.n ?
					      &c->internal_networks : NULL;
}

/* The defaults that depend on the protocol, and what concerns the
 * sockets together. */
static int conf_socket_rules(struct conf *c, const struct config_section *sec,
			     struct conf_socket_load *l, char *err,
			     size_t errlen)
{
	struct conf_socket *s = &l->s;
	char where[PATH_MAX + 64];
	size_t i;

	if (l->mode == (unsigned)-1)
		l->mode = s->protocol == CONF_CONTROL ? 0600 : 0660;
	s->mode = l->mode;
	if (l->max_request < 0)
		l->max_request = s->protocol == CONF_SOCKETMAP ?
					 CONF_SOCKETMAP_REQUEST_DEFAULT :
				 s->protocol == CONF_READSOCKET ?
					 CONF_READSOCKET_REQUEST_DEFAULT :
				 s->protocol == CONF_POLICY ?
					 CONF_POLICY_REQUEST_DEFAULT :
					 CONF_CONTROL_REQUEST;
	s->max_request = (size_t)l->max_request;
	if (l->max_connections < 0)
		l->max_connections = s->protocol == CONF_CONTROL ?
			CONF_CONTROL_CONNECTIONS_DEFAULT : c->max_connections;
	s->max_connections = l->max_connections;
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
	return 0;
}

/* One [socket NAME] into c->socket[c->nsockets]. */
static int conf_socket(struct conf *c, const struct config_section *sec,
		       char *err, size_t errlen)
{
	struct conf_socket_load l;

	memset(&l, 0, sizeof(l));
	l.c = c;
	l.max_request = l.max_connections = -1;
	l.mode = (unsigned)-1;
	/* Section names are at most CONFIG_NAME_MAX (= CONF_NAME_MAX). */
	util_copy_fit(l.s.name, config_section_name(sec), sizeof(l.s.name));
	l.s.owner = c->user[0] && !c->syntax_only ? c->uid : (uid_t)-1;
	l.s.group = c->user[0] && !c->syntax_only ? c->gid : (gid_t)-1;
	/* Not set: messages name the section's line. */
	l.s.owner_line = l.s.group_line = config_section_line(sec);
	if (settings_load(&conf_settings[1], sec, &l, err, errlen) < 0 ||
	    conf_socket_rules(c, sec, &l, err, errlen) < 0)
		return -1;
	c->socket[c->nsockets++] = l.s;
	return 0;
}

_Static_assert(CONF_NAME_MAX == CONFIG_NAME_MAX,
	       "a [socket NAME] fits struct conf_socket's name");

/* path with "//", "/./" and a trailing '/' taken out, into out (size
 * bytes, at least strlen(path) + 1). */
static void conf_path_plain(const char *path, char *out, size_t size)
{
	size_t n = 0;
	const char *p = path;

	while (*p && n + 1 < size) {
		if (p[0] == '/' && (p[1] == '/' || (p[1] == '.' &&
		    (p[2] == '/' || p[2] == '\0')))) {
			p += p[1] == '/' ? 1 : 2;
			continue;
		}
		out[n++] = *p++;
	}
	while (n > 1 && out[n - 1] == '/')
		n--;
	out[n] = '\0';
}

/* 1 when paths a and b name the same file: spelt alike once "//", "/./"
 * and a trailing '/' are taken out, or one file (a symbolic link, a
 * bind mount) when both exist. */
static int conf_path_same(const char *a, const char *b)
{
	char pa[PATH_MAX], pb[PATH_MAX];
	struct stat sa, sb;

	conf_path_plain(a, pa, sizeof(pa));
	conf_path_plain(b, pb, sizeof(pb));
	if (!strcmp(pa, pb))
		return 1;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
	       sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* One [catalog NAME] into c->cat[c->ncatalogs]. */
static int conf_catalog(struct conf *c, const struct config_section *sec,
			char *err, size_t errlen)
{
	struct conf_catalog_load l;
	char where[PATH_MAX + 64];
	size_t i;

	memset(&l, 0, sizeof(l));
	l.c = c;
	l.k.lookup = c->lookup;
	util_copy_fit(l.k.name, config_section_name(sec), sizeof(l.k.name));
	l.k.line = config_section_line(sec);
	/* The keyring joins c at once, so that a failure frees it. */
	if (settings_load(&conf_settings[2], sec, &l, err, errlen) < 0) {
		sign_keyring_free(l.k.keyring);
		keyhash_free(l.k.hash);
		return -1;
	}
	l.k.lookup.hash = l.k.hash;
	c->cat[c->ncatalogs++] = l.k;
	for (i = 0; i + 1 < c->ncatalogs; i++) {
		const struct conf_catalog *o = &c->cat[i];
		const char *key = conf_path_same(o->path, l.k.path) ?
					  "catalog" :
				  conf_path_same(o->inbox, l.k.inbox) ? "inbox" :
				  !strcmp(o->id, l.k.id) ? "catalog_id" : NULL;

		if (key) {
			util_err(err, errlen, "%s%s: also [catalog %s]'s (line "
				 "%d): each catalog has its own file, inbox "
				 "and id", config_where(sec, key, where,
							sizeof(where)),
				 key, o->name, o->line);
			return -1;
		}
	}
	return 0;
}

/* The index of name among c's catalogs, or -1. */
int conf_catalog_index(const struct conf *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->ncatalogs; i++)
		if (!strcmp(c->cat[i].name, name))
			return (int)i;
	return -1;
}

/* Resolving an order list: where it goes and what it may name. */
struct conf_order {
	const struct conf *c;
	unsigned char *out;
	size_t *n;
	char bad[CONF_NAME_MAX + 1];
	int dup;
};

static int conf_order_resolve(void *arg, const char *item, size_t len)
{
	struct conf_order *o = arg;
	char name[CONF_NAME_MAX + 1];
	size_t i;
	int idx;

	/* conf_order_syntax() let only names of CONF_NAME_MAX through. */
	memcpy(name, item, len);
	name[len] = '\0';
	idx = conf_catalog_index(o->c, name);
	for (i = 0; idx >= 0 && i < *o->n; i++)
		if (o->out[i] == idx)
			o->dup = 1, idx = -1;
	if (idx < 0) {
		util_copy_fit(o->bad, name, sizeof(o->bad));
		return -1;
	}
	o->out[(*o->n)++] = (unsigned char)idx;
	return 0;
}

/* The 'order' of sec into out[0..*n), or file order when not set. */
static int conf_order_load(struct conf *c, const struct config_section *sec,
			   unsigned char *out, size_t *n, char *err,
			   size_t errlen)
{
	struct conf_order o = { .c = c, .out = out, .n = n };
	const char *text;
	int line, col;

	*n = 0;
	text = config_get_at(sec, "order", &line, &col);
	if (!text)
		return 0;
	if (config_split(text, conf_order_resolve, &o)) {
		util_err(err, errlen, "%s:%d:%d: order: %s '%s'",
			 config_section_path(sec), line, col,
			 o.dup ? "names twice the catalog"
			       : "no [catalog NAME] named",
			 o.bad);
		return -1;
	}
	return 0;
}

/* The implicit catalog, or the sections' rules, and the order. */
static int conf_catalog_rules(struct conf *c, const struct config *cfg,
			      char *err, size_t errlen)
{
	static const char *const top_only[] = {
		"catalog", "catalog_id", "inbox", "trusted_key", "hash_secret"
	};
	const struct config_section *top = config_top(cfg);
	struct conf_catalog *k = &c->cat[0];
	size_t i;
	int line;

	if (c->ncatalogs) {
		for (i = 0; i < 5; i++)
			if (config_get(top, top_only[i], &line)) {
				util_err(err, errlen, "%s:%d: %s: not at the "
					 "top level of a file with [catalog "
					 "NAME] sections: each section names "
					 "its own", config_path(cfg), line,
					 top_only[i]);
				return -1;
			}
		if (conf_order_load(c, top, c->order, &c->norder, err,
				    errlen) < 0)
			return -1;
		if (!config_get(top, "order", &line))
			for (i = 0; i < c->ncatalogs; i++)
				c->order[c->norder++] = (unsigned char)i;
		return 0;
	}
	for (i = 0; i < 4; i++)
		if (!config_get(top, top_only[i], &line)) {
			util_err(err, errlen, "%s: '%s' is missing",
				 config_path(cfg), top_only[i]);
			return -1;
		}
	if (config_get(top, "order", &line)) {
		util_err(err, errlen, "%s:%d: order: no [catalog NAME] "
			 "sections to order", config_path(cfg), line);
		return -1;
	}
	/* The top level's catalog: named after its id (both fit 64). */
	util_copy_fit(k->name, c->catalog_id, sizeof(k->name));
	k->implicit = 1;
	util_copy_fit(k->path, c->catalog, sizeof(k->path));
	util_copy_fit(k->id, c->catalog_id, sizeof(k->id));
	util_copy_fit(k->inbox, c->inbox, sizeof(k->inbox));
	k->keyring = c->keyring;
	c->keyring = NULL;
	k->ntrusted = c->ntrusted;
	util_copy_fit(k->hash_secret, c->hash_secret, sizeof(k->hash_secret));
	k->hash = c->hash;
	c->hash = NULL;
	k->lookup = c->lookup;
	k->lookup.hash = k->hash;
	util_copy_fit(k->route_field, c->route_field, sizeof(k->route_field));
	util_copy_fit(k->route_default, c->route_default,
		     sizeof(k->route_default));
	util_copy_fit(k->transport_template, c->transport_template,
		     sizeof(k->transport_template));
	c->ncatalogs = 1;
	c->order[0] = 0;
	c->norder = 1;
	return 0;
}

static int conf_domain_cmp(const void *a, const void *b)
{
	return strcmp(((const struct conf_domain *)a)->name,
		      ((const struct conf_domain *)b)->name);
}

/* Every [domain NAME]; then no catalog may be left out of every order. */
static int conf_domains(struct conf *c, const struct config *cfg, char *err,
			size_t errlen)
{
	const struct config_section *sec;
	unsigned used[CONF_CATALOGS_MAX] = { 0 };
	size_t n = 0, i, j;

	for (sec = NULL; (sec = config_next(cfg, sec, "domain"));)
		n++;
	c->domain = n ? xcalloc(n, sizeof(*c->domain)) : NULL;
	for (sec = NULL; (sec = config_next(cfg, sec, "domain"));) {
		struct conf_domain *dm = &c->domain[c->ndomains];
		const char *name = config_section_name(sec);
		char norm[ADDR_BUF] = "", why[128] = "";

		/* As lookups spell the key's domain (lower case, without a
		 * fully qualified name's trailing dot): [domain Example.ORG.]
		 * is example.org, or it would never apply. */
		dm->line = config_section_line(sec);
		if (addr_domain_normalise(name, strlen(name), norm,
					  sizeof(norm), why, sizeof(why)) < 0 ||
		    strlen(norm) > CONF_NAME_MAX) {
			util_err(err, errlen, "%s:%d: [domain %s]: %s",
				 config_section_path(sec), dm->line, name,
				 why[0] ? why : "longer than 64 bytes");
			return -1;
		}
		memcpy(dm->name, norm, strlen(norm) + 1);
		if (settings_load(&conf_settings[3], sec, dm, err,
				  errlen) < 0 ||
		    conf_order_load(c, sec, dm->order, &dm->norder, err,
				    errlen) < 0)
			return -1;
		for (i = 0; i < c->ndomains; i++)
			if (!strcmp(c->domain[i].name, dm->name)) {
				util_err(err, errlen, "%s:%d: [domain %s]: "
					 "also at line %d (domains are "
					 "compared in lower case)",
					 config_section_path(sec), dm->line,
					 name, c->domain[i].line);
				return -1;
			}
		for (i = 0; i < dm->norder; i++)
			used[dm->order[i]] = 1;
		c->ndomains++;
	}
	if (c->ndomains > 1)
		qsort(c->domain, c->ndomains, sizeof(*c->domain),
		      conf_domain_cmp);
	for (i = 0; i < c->norder; i++)
		used[c->order[i]] = 1;
	for (j = 0; j < c->ncatalogs; j++)
		if (!used[j]) {
			util_err(err, errlen, "%s:%d: [catalog %s]: in no "
				 "order: name it in the top level's 'order' "
				 "or in a [domain NAME]'s", c->file,
				 c->cat[j].line, c->cat[j].name);
			return -1;
		}
	return 0;
}

const struct conf_domain *conf_domain_find(const struct conf *c,
					   const char *domain)
{
	struct conf_domain key;

	if (!c->ndomains || util_strlcpy(key.name, domain, sizeof(key.name)) >=
				    sizeof(key.name))
		return NULL;
	return bsearch(&key, c->domain, c->ndomains, sizeof(*c->domain),
		       conf_domain_cmp);
}

static struct conf *conf_read(const char *path, int syntax_only, char *err,
			      size_t errlen)
{
	struct config *cfg = config_load(path, err, errlen);
	const struct config_section *sec;
	struct conf *c;

	if (!cfg)
		return NULL;
	c = xcalloc(1, sizeof(*c));
	c->syntax_only = syntax_only;
	if (util_strlcpy(c->file, path, sizeof(c->file)) >= sizeof(c->file)) {
		util_err(err, errlen, "%s: path too long", path);
		goto fail;
	}
	if (settings_load(&conf_settings[0], config_top(cfg), c, err,
			  errlen) < 0 ||
	    settings_check_layout(cfg, conf_settings, err, errlen) < 0)
		goto fail;
	conf_top_rules(c);
	for (sec = NULL; (sec = config_next(cfg, sec, "socket"));)
		if (conf_socket(c, sec, err, errlen) < 0)
			goto fail;
	for (sec = NULL; (sec = config_next(cfg, sec, "catalog"));)
		if (conf_catalog(c, sec, err, errlen) < 0)
			goto fail;
	if (conf_catalog_rules(c, cfg, err, errlen) < 0 ||
	    conf_domains(c, cfg, err, errlen) < 0)
		goto fail;
	if (settings_check_unknown(cfg, conf_settings, err, errlen) < 0)
		goto fail;
	config_free(cfg);
	return c;
fail:
	config_free(cfg);
	conf_free(c);
	return NULL;
}

struct conf *conf_load(const char *path, char *err, size_t errlen)
{
	return conf_read(path, 0, err, errlen);
}

struct conf *conf_load_syntax(const char *path, char *err, size_t errlen)
{
	return conf_read(path, 1, err, errlen);
}

void conf_free(struct conf *c)
{
	if (!c)
		return;
	sign_keyring_free(c->keyring);
	keyhash_free(c->hash);
	for (size_t i = 0; i < c->ncatalogs; i++) {
		sign_keyring_free(c->cat[i].keyring);
		keyhash_free(c->cat[i].hash);
	}
	free(c->domain);
	free(c);
}

/* 1 when the running process has gid among its groups. */
static int conf_in_group(gid_t gid)
{
	gid_t groups[CONF_GROUPS_MAX];
	int n, i;

	if (gid == getegid())
		return 1;
	n = getgroups(CONF_GROUPS_MAX, groups);
	for (i = 0; i < n; i++)
		if (groups[i] == gid)
			return 1;
	return 0;
}

int conf_check_socket_owners(const struct conf *c, const struct conf *running,
			     char *err, size_t errlen)
{
	uid_t uid = geteuid();
	struct passwd *pw;
	struct group *gr;
	char account[CONF_NAME_MAX + 32], gname[CONF_NAME_MAX + 32];
	size_t i, j;

	if (uid == 0)
		return 1;
	pw = getpwuid(uid);
	if (pw)
		snprintf(account, sizeof(account), "%.*s", CONF_NAME_MAX,
			 pw->pw_name);
	else
		snprintf(account, sizeof(account), "uid %ld", (long)uid);
	for (i = 0; i < c->nsockets; i++) {
		const struct conf_socket *s = &c->socket[i];
		int kept = 0;

		for (j = 0; running && j < running->nsockets; j++) {
			const struct conf_socket *r = &running->socket[j];

			if (!strcmp(r->path, s->path) && r->owner == s->owner &&
			    r->group == s->group)
				kept = 1;
		}
		if (kept)
			continue;
		if (s->owner != (uid_t)-1 && s->owner != uid) {
			util_err(err, errlen,
				 "%s:%d: [socket %s] owner: catalogd runs as "
				 "%s, which cannot give a socket to another "
				 "account; remove 'owner' (the socket is "
				 "%s's) or start catalogd as root with 'user'",
				 c->file, s->owner_line, s->name, account,
				 account);
			return -1;
		}
		if (s->group == (gid_t)-1 || conf_in_group(s->group))
			continue;
		gr = getgrgid(s->group);
		if (gr)
			snprintf(gname, sizeof(gname), "%.*s", CONF_NAME_MAX,
				 gr->gr_name);
		else
			snprintf(gname, sizeof(gname), "%ld", (long)s->group);
		util_err(err, errlen,
			 "%s:%d: [socket %s] group: catalogd runs as %s, which "
			 "is not a member of group %s and so cannot give the "
			 "socket that group; add the account to it (adduser "
			 "%s %s), then restart catalogd",
			 c->file, s->group_line, s->name,
			 account, gname, account, gname);
		return -1;
	}
	return 0;
}

int conf_socket_same(const struct conf_socket *a, const struct conf_socket *b)
{
	return !strcmp(a->path, b->path) && a->protocol == b->protocol &&
	       a->mode == b->mode && a->owner == b->owner &&
	       a->group == b->group;
}
