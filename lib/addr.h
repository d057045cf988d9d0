/*
 * addr.h - the one address normalisation of dircat, used alike by the
 * aggregator (before storing), catalogd (before looking up) and the
 * admin tool, so a key is always spelt the same way.
 *
 * Domain: lower-cased, internationalised names stored in their ASCII
 * (A-label) form.  Local part: lower-cased unless case-sensitive is asked
 * for; RFC 5321 syntax checked (dot-atom or quoted string; UTF-8 local
 * parts as in RFC 6531 are accepted when valid).  Limits: local part 64
 * bytes, domain 253, address 254.  Hostile input is refused with a reason.
 */
#ifndef DIRCAT_ADDR_H
#define DIRCAT_ADDR_H

#include <stddef.h>

#define ADDR_LOCAL_MAX  64
#define ADDR_DOMAIN_MAX 253
#define ADDR_MAX        254
#define ADDR_INPUT_MAX  1024	/* raw input refused beyond this */
#define ADDR_BUF        (ADDR_MAX + 1)

/* Flags for addr_normalise(). */
#define ADDR_CASE_SENSITIVE 0x01	/* keep the local part's case */
#define ADDR_CATCHALL       0x02	/* accept "@domain" (empty local part) */
#define ADDR_BRACKETS       0x04	/* accept and strip one <...> pair */
#define ADDR_GENERAL        0x08	/* skip the fast path for plain ASCII
					   (tests compare the two) */

/*
 * Normalise the address in[0..len) into out (size >= ADDR_BUF).
 * Returns 0, or -1 with a short reason in err ("no @", "bad character
 * 0x22 in local part at byte 3", ...).  Surrounding white space is removed.
 */
int addr_normalise(const char *in, size_t len, char *out, size_t outsize,
		   unsigned flags, char *err, size_t errlen);

/* Normalise a bare domain name the same way.  0 or -1 with err. */
int addr_domain_normalise(const char *in, size_t len, char *out,
			  size_t outsize, char *err, size_t errlen);

/* Pointer to the domain part of a normalised address (after '@'). */
const char *addr_domain(const char *addr);

/*
 * Remove an address extension: the part of the local part from the first
 * of the delimiter characters (e.g. "+" or "+-") up to the '@', as Postfix
 * does with recipient_delimiter.  A delimiter in the first position is not
 * an extension.  Returns 1 with the result in out, 0 when there is none.
 */
int addr_strip_extension(const char *addr, const char *delims, char *out,
			 size_t outsize);

/*
 * A set of local domains.  An entry "example.com" matches that domain
 * only; ".example.com" matches its subdomains.  Checked at load time.
 */
struct addr_domains;
struct addr_domains *addr_domains_new(void);
/* Add one domain (normalised here).  0, or -1 with err. */
int addr_domains_add(struct addr_domains *, const char *d, size_t len,
		     char *err, size_t errlen);
/* 1 when the normalised domain is local, else 0. */
int addr_domains_match(const struct addr_domains *, const char *domain);
size_t addr_domains_count(const struct addr_domains *);
const char *addr_domains_get(const struct addr_domains *, size_t i);
void addr_domains_free(struct addr_domains *);

#endif
