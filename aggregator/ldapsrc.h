/*
 * ldapsrc.h - one LDAP source of the aggregator: connect, bind, and a
 * paged search that hands every entry to a callback.  The only module
 * that includes libldap's headers.
 *
 * Binds: anonymous, simple (password file), SASL EXTERNAL (ldapi://),
 * SASL GSSAPI (Kerberos, from a keytab or the caller's credential
 * cache): over TLS without a SASL layer, as Active Directory requires;
 * over plain ldap:// only with Kerberos sealing (LDAPSRC_GSSAPI_MINSSF).
 *
 * Any failure - connection, TLS, bind, a search error, a size or time
 * limit, a lost connection, an unparsable page - makes ldapsrc_search()
 * return -1 with one line in err; the caller then writes nothing.
 * Limits: LDAPSRC_* below.
 */
#ifndef DIRCAT_LDAPSRC_H
#define DIRCAT_LDAPSRC_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "formula.h"

#define LDAPSRC_VALUES_MAX  100000	/* values of one attribute kept */
#define LDAPSRC_BASES_MAX   32
/* GSSAPI on ldap:// without TLS: the least protection the SASL layer must
 * give (Cyrus SASL's security strength factor; 56 and up is encryption),
 * so that neither the search nor its results travel in the clear. */
#define LDAPSRC_GSSAPI_MINSSF 56

enum ldapsrc_referrals {
	LDAPSRC_REF_IGNORE = 0,	/* count search references, carry on */
	LDAPSRC_REF_CHASE,	/* let libldap follow them */
	LDAPSRC_REF_FAIL	/* a reference makes the result partial */
};

struct ldapsrc_conf {
	const char *name;		/* [source NAME] */
	const char *uri;		/* ldap://, ldaps://, ldapi:// */
	int starttls;			/* 1: StartTLS required */
	const char *ca_file;
	const char *bind_dn;		/* simple bind when set */
	const char *password_file;	/* mode checked */
	const char *sasl_mech;		/* "EXTERNAL" or "GSSAPI" */
	const char *keytab;		/* GSSAPI: the client keytab, mode
					 * checked; tickets kept in memory */
	int network_timeout;		/* seconds */
	int timeout;			/* seconds, whole search (server too) */
	int page_size;			/* 0: no paging */
	int scope;			/* LDAP_SCOPE_* value */
	const char *filter;
	const char *bases[LDAPSRC_BASES_MAX];
	size_t nbases;
	enum ldapsrc_referrals referrals;
};

/* What an entry looks like to the callback: the DN and, for each name of
 * the attrs table, its values. */
struct ldapsrc_entry {
	const char *dn;				/* whole, NUL-terminated */
	const struct formula_vals *vals;	/* formula_attrs_count() */
};

struct ldapsrc_stats {
	uint64_t entries;
	uint64_t pages;
	uint64_t references;
	double seconds;
};

/*
 * Connect, bind, search every base for the attributes named in attrs,
 * and call fn for each entry (fn returns 0 to go on, -1 to stop with err
 * set by it).  Returns 0 when every base came back whole, -1 otherwise.
 */
int ldapsrc_search(const struct ldapsrc_conf *conf,
		   const struct formula_attrs *attrs,
		   int (*fn)(void *arg, const struct ldapsrc_entry *e,
			     char *err, size_t errlen),
		   void *arg, struct ldapsrc_stats *stats,
		   char *err, size_t errlen);

/* "libldap: VENDOR X.Y.Z" of the library as loaded, a line into out. */
void ldapsrc_version_print(FILE *out);

/*
 * For other readers of a source (the watch mode's live sources): the
 * connection, bound as configured (libldap's LDAP handle, struct ldap),
 * and an entry message (struct ldapmsg) turned into the callback's view.
 * ldapsrc_open: NULL with err.  ldapsrc_entry_parse: fn's result, or -1
 * with err when the message does not parse.
 */
struct ldap;
struct ldapmsg;
struct ldapsrc_scratch;
struct ldap *ldapsrc_open(const struct ldapsrc_conf *conf, char *err,
			  size_t errlen);
void ldapsrc_close(struct ldap *ld);
/* A short description of the last error on ld, with what. */
void ldapsrc_describe(struct ldap *ld, int rc, const char *what,
		      const struct ldapsrc_conf *conf, char *err,
		      size_t errlen);
struct ldapsrc_scratch *ldapsrc_scratch_new(const struct formula_attrs *);
void ldapsrc_scratch_free(struct ldapsrc_scratch *);
/* The attribute list to ask for (NULL-terminated, owned by attrs and the
 * scratch; valid as long as both). */
char **ldapsrc_scratch_attrlist(struct ldapsrc_scratch *);
int ldapsrc_entry_parse(struct ldap *ld, struct ldapmsg *msg,
			const struct formula_attrs *attrs,
			struct ldapsrc_scratch *s,
			int (*fn)(void *arg, const struct ldapsrc_entry *e,
				  char *err, size_t errlen),
			void *arg, char *err, size_t errlen);

/* The same search on a connection ldapsrc_open() made, which stays
 * open (a failure may leave it unusable: close it then). */
int ldapsrc_search_on(struct ldap *ld, const struct ldapsrc_conf *conf,
		      const struct formula_attrs *attrs,
		      int (*fn)(void *arg, const struct ldapsrc_entry *e,
				char *err, size_t errlen),
		      void *arg, struct ldapsrc_stats *stats,
		      char *err, size_t errlen);

/* Parse "base", "one", "sub" into conf->scope; -1 when unknown. */
int ldapsrc_scope(const char *name, int *scope);

#define LDAPSRC_DNKEY_MAX 4096	/* bytes of a DN's key (ldapsrc_dn_key) */

/*
 * A DN (len bytes, RFC 4514 as libldap reads it) made comparable: key
 * gets a canonical form of it - every attribute type and value unescaped,
 * in ASCII lower case, runs of spaces in a value as one, each part
 * length-prefixed - so that two spellings of one DN ("CN=Smith\, John,
 * OU=Users" and "cn=Smith\2C John,ou=users") give the same key and two
 * different DNs never do.  rdn (rdnsize bytes, NUL-terminated) gets the
 * first RDN's first value, unescaped ("" when it is binary or too long).
 * Returns the key's length, or 0 when the text is no DN (unparsable, or
 * no RDN) or its key would be longer than keysize.
 */
size_t ldapsrc_dn_key(const char *dn, size_t len, unsigned char *key,
		      size_t keysize, char *rdn, size_t rdnsize);
/* The same, always through libldap's parser: ldapsrc_dn_key() builds the
 * key of a plain DN (no escapes, quotes, '+' or stray spaces) itself, and
 * must give exactly this.  For the tests. */
size_t ldapsrc_dn_key_parsed(const char *dn, size_t len, unsigned char *key,
			     size_t keysize, char *rdn, size_t rdnsize);

/*
 * The order of two entries' DNs when they claim one address with the
 * same source and kind: RDN by RDN from the left, attribute types and
 * values unescaped and in ASCII lower case (as ldapsrc_dn_key reads
 * them), compared as bytes; a DN that does not parse after every DN that
 * does.  order gets the bytes to compare (size LDAPSRC_DNKEY_MAX + 1 is
 * enough); returns their length.
 */
size_t ldapsrc_dn_order(const char *dn, unsigned char *order, size_t size);

#endif
