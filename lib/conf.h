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

#include "lookup.h"
#include "settings.h"
#include "sign.h"

#define CONF_DEFAULT_PATH  "/etc/dircat/catalogd.conf"
#define CONF_SOCKETS_MAX   16	/* [socket] sections */
#define CONF_SOCKPATH_MAX  107	/* sun_path holds 108 bytes with its NUL */
#define CONF_NAME_MAX      64	/* user, group and section names */

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
	char policy_text[4][LOOKUP_ACTION_MAX];	/* storage for policy */
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
	/* As read, before they go where lookups use them. */
	int case_sensitive;
	int syntax_only;	/* conf_load_syntax(): nothing looked up */
};

/* The settings of catalogd.conf: top level, then [socket NAME]. */
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

/* 1 when two socket settings are the same (the listener can be kept). */
int conf_socket_same(const struct conf_socket *a, const struct conf_socket *b);

#endif
