/*
 * conf.h - catalogd.conf: the table of catalogd's settings (conf_settings,
 * read by settings.h) and the file loaded into a struct conf, for catalogd
 * and for the dircat commands that ask it (status, lookup, metrics).
 *
 * conf_load() checks the whole file and what it names on this host (the
 * account, socket owners and groups, the trusted keys) or refuses it with
 * "file:line: reason"; conf_load_syntax() reads it by the same rules
 * without looking anything up.  A reload builds a new struct conf and the
 * daemon swaps it in only when it is complete, so a bad file never
 * replaces a good one.  Settings: man/dircat.conf.5, catalogd --settings.
 */
#ifndef DIRCAT_CONF_H
#define DIRCAT_CONF_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cidr.h"
#include "lookup.h"
#include "settings.h"
#include "sign.h"

#define CONF_DEFAULT_PATH  "/etc/dircat/catalogd.conf"
#define CONF_SOCKETS_MAX   16	/* [socket] sections */
#define CONF_SOCKPATH_MAX  107	/* sun_path holds 108 bytes with its NUL */
#define CONF_NAME_MAX      64	/* user, group and section names */
#define CONF_CATALOGS_MAX  16	/* [catalog] sections: catalogs on a node */
#define CONF_DOMAINS_MAX   1024	/* [domain] sections */
#define CONF_ROUTE_MAX     255	/* a next hop, a transport map value */
#define CONF_TRANSPORT_TEMPLATE_DEFAULT "relay:[%s]"

/* Protocol defaults; max_request may be set per socket. */
#define CONF_SOCKETMAP_REQUEST_DEFAULT 2048	/* name + key: ~300 used */
#define CONF_READSOCKET_REQUEST_DEFAULT 2048
#define CONF_POLICY_REQUEST_DEFAULT (16 * 1024)
#define CONF_CONTROL_REQUEST 1024
#define CONF_REQUEST_MIN   64
#define CONF_REQUEST_MAX   (1024 * 1024)

/* Connections: max_connections per socket.  The top-level value is the
 * default of every lookup socket (socketmap, readsocket, policy); control
 * sockets have their own, so lookup clients can never take their slots. */
#define CONF_CONNECTIONS_MAX   65536	/* one socket */
#define CONF_CONNECTIONS_TOTAL_MAX 262144	/* every socket together */

enum conf_protocol {
	CONF_SOCKETMAP = 1,	/* Postfix socketmap, Sendmail socket map */
	CONF_READSOCKET,	/* Exim ${readsocket}: one line each way */
	CONF_POLICY,		/* Postfix policy delegation */
	CONF_CONTROL		/* dircat status / lookup */
};
const char *conf_protocol_name(int protocol);

struct conf_socket {
	char name[CONF_NAME_MAX + 1];	/* the section name */
	char path[CONF_SOCKPATH_MAX + 1];
	int protocol;		/* enum conf_protocol */
	unsigned mode;
	uid_t owner;		/* (uid_t)-1: leave as created */
	gid_t group;		/* (gid_t)-1: leave as created */
	int owner_line, group_line;	/* where set, else the section's */
	size_t max_request;
	int64_t max_connections;	/* at once on this socket */
};

/*
 * One catalog the node serves: a [catalog NAME] section, or the top
 * level's catalog, catalog_id, inbox and trusted_key when the file has no
 * such section (the implicit catalog, named after its catalog_id).
 * Catalogs are installed independently: each has its own file, inbox,
 * keys, stale policy and routing defaults.
 */
struct conf_catalog {
	char name[CONF_NAME_MAX + 1];
	int implicit;		/* the top level's */
	int line;		/* of its section; 0 for the implicit one */
	char path[PATH_MAX];	/* the LMDB file */
	char id[CATALOG_ID_MAX + 1];
	char inbox[PATH_MAX];
	struct sign_keyring *keyring;	/* its trusted_key files */
	size_t ntrusted;
	char hash_secret[PATH_MAX];	/* "" unless keyed-hash mode */
	struct keyhash *hash;		/* its secret; NULL: clear mode (or
					   conf_load_syntax()) */
	struct lookup_opts lookup;	/* the node's extension delimiters
					 * and case, its own stale policy */
	char route_field[CONF_NAME_MAX + 1];	/* "" when none */
	char route_default[CONF_ROUTE_MAX + 1];	/* "" when none */
	char transport_template[CONF_ROUTE_MAX + 1];	/* has one %s */
};

/* A [domain NAME] section: the catalogs its addresses are looked up
 * in, in order, and its routing default. */
struct conf_domain {
	char name[CONF_NAME_MAX + 1];	/* lower case */
	int line;
	unsigned char order[CONF_CATALOGS_MAX];	/* indexes of cat[] */
	size_t norder;		/* 0: the top level's order */
	char route_default[CONF_ROUTE_MAX + 1];	/* "" when none */
};

struct conf {
	char file[PATH_MAX];
	char catalog[PATH_MAX];
	char catalog_id[CATALOG_ID_MAX + 1];
	char inbox[PATH_MAX];
	struct sign_keyring *keyring;	/* the trusted_key files */
	size_t ntrusted;
	char hash_secret[PATH_MAX];	/* "" unless keyed-hash mode */
	struct keyhash *hash;		/* its secret; NULL: clear mode (or
					   conf_load_syntax()) */
	char user[CONF_NAME_MAX + 1];	/* "" when not set */
	uid_t uid;
	gid_t gid;
	struct conf_socket socket[CONF_SOCKETS_MAX];
	size_t nsockets;
	struct lookup_opts lookup;
	struct lookup_policy policy;
	char policy_text[5][LOOKUP_ACTION_MAX];	/* storage for policy */
	struct cidr_list internal_networks;	/* n == 0: none set */
	int64_t idle_timeout;	/* seconds between requests */
	int64_t request_timeout;	/* seconds from a request's first byte
					 * to its end, and for a reply to be
					 * taken */
	int64_t max_connections;	/* default of the lookup sockets */
	int64_t connections_total;	/* every socket's limit, summed */
	int64_t max_output;	/* bytes queued for one client */
	int64_t rescan_interval;	/* seconds */
	int64_t rejected_keep;	/* files kept in INBOX/rejected */
	int64_t install_timeout;	/* seconds an install may take */
	int64_t max_snapshot_size;	/* bytes; larger files are refused
					   unread */
	int accept_snapshot_v1;	/* install format version 1 too */
	/* The catalogs, in the order of the file; order[] is the order
	 * lookups consult them in (the 'order' setting, else the file's). */
	struct conf_catalog cat[CONF_CATALOGS_MAX];
	size_t ncatalogs;
	unsigned char order[CONF_CATALOGS_MAX];
	size_t norder;
	struct conf_domain *domain;	/* sorted by name */
	size_t ndomains;
	/* As read, before they go where lookups use them. */
	char route_field[CONF_NAME_MAX + 1];
	char route_default[CONF_ROUTE_MAX + 1];
	char transport_template[CONF_ROUTE_MAX + 1];
	int case_sensitive;
	int syntax_only;	/* conf_load_syntax(): nothing looked up */
};

/* The settings of catalogd.conf: top level, then [socket NAME],
 * [catalog NAME] and [domain NAME]. */
extern const struct settings_section conf_settings[];

/* Load and check path.  NULL with "file:line: reason" in err. */
struct conf *conf_load(const char *path, char *err, size_t errlen);
/* The same rules, but no user, group or trusted key is looked up: the
 * file as dircat status reads it (uid, gid, owners, groups left unset,
 * no keyring). */
struct conf *conf_load_syntax(const char *path, char *err, size_t errlen);
void conf_free(struct conf *);

/*
 * Whether the account running now may give each socket the owner and
 * group configured: root may give any; another account only itself as
 * owner and only a group it is a member of (its group list as the kernel
 * sees it, so systemd's SupplementaryGroups= count).  Sockets that a
 * reload keeps (same path, owner and group in running) are skipped.
 * 0, 1 when not checked (root: the account that will serve is not known
 * here), or -1 with "file:line: [socket NAME] group: ..." in err.
 */
int conf_check_socket_owners(const struct conf *c, const struct conf *running,
			     char *err, size_t errlen);

/* 1 when s[0..len) is a usable next hop (route_default, or a route
 * field's value): host, [address] or host:port, at most CONF_ROUTE_MAX. */
int conf_route_valid(const char *s, size_t len);
/* The [domain NAME] of a lower-case domain, or NULL. */
const struct conf_domain *conf_domain_find(const struct conf *c,
					   const char *domain);
/* The catalog named name, or -1. */
int conf_catalog_index(const struct conf *c, const char *name);

/* 1 when two socket settings are the same (the listener can be kept). */
int conf_socket_same(const struct conf_socket *a, const struct conf_socket *b);

#endif
