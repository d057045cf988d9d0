/*
 * knownhosts.h - which line of an ssh known_hosts file libcurl takes for
 * a host, and so which kind of host key it asks the node for.
 *
 * libcurl (with libssh2) reads the target's ssh_known_hosts and, before
 * the key exchange, asks the server for the key type of the first line it
 * takes for the host: a hashed line (|1|...), whatever host it hashes; a
 * plain name equal to the host, whatever the port; or [NAME]:PORT with
 * the target's port and a host that starts with NAME.  Lines are looked
 * at in file order, comma-separated names in their order.  With libssh2
 * before 1.11 an "ssh-rsa" line means SHA-1 RSA signatures, which OpenSSH
 * 8.8 and later refuse: the connection fails with "Unable to exchange
 * encryption keys".  ssh-keyscan without -t lists the keys in the order
 * the answers come, often RSA first.
 *
 * knownhosts_pick() finds that line, so that the replicator can say so
 * instead of passing on libcurl's message.  Nothing here decides whether
 * a key is trusted: libcurl checks the key itself.
 *
 * Limits: a text of at most KNOWNHOSTS_TEXT_MAX bytes, lines of at most
 * KNOWNHOSTS_LINE_MAX bytes (a 16384-bit RSA key is about 2,800), a key
 * type of at most KNOWNHOSTS_TYPE_MAX bytes; past them knownhosts_pick()
 * says so with the line number and picks nothing.
 */
#ifndef DIRCAT_KNOWNHOSTS_H
#define DIRCAT_KNOWNHOSTS_H

#include <stddef.h>

#define KNOWNHOSTS_TEXT_MAX (1024 * 1024)
#define KNOWNHOSTS_LINE_MAX 8192
#define KNOWNHOSTS_TYPE_MAX 64

struct knownhosts_pick {
	int line;			/* 1-based; 0: no line for the host */
	int hashed;			/* the line's host names are hashed */
	char type[KNOWNHOSTS_TYPE_MAX + 1];	/* "ssh-ed25519", ... */
};

/*
 * In text (len bytes of a known_hosts file; NUL bytes are ordinary
 * bytes), the line libcurl takes for host at port.  0 with *out filled
 * (out->line 0 when no line names the host), or -1 with err naming the
 * line when a limit is passed.
 */
int knownhosts_pick(const char *text, size_t len, const char *host,
		    long port, struct knownhosts_pick *out, char *err,
		    size_t errlen);

/* 1 for a key type whose signatures OpenSSH 8.8 and later refuse when
 * libssh2 asks for it by that name (ssh-rsa: SHA-1; ssh-dss). */
int knownhosts_type_legacy(const char *type);

#endif
