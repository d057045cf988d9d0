/*
 * gendir.c - a synthetic directory for the benchmarks, as LDIF on stdout.
 *
 *   gendir N [SEED]
 *
 * Deterministic for a given N and SEED.  The mix: about 90% persons
 * (75% with one address, 20% two, 5% three), 3% disabled persons, 2%
 * persons without an address, 3% groups, 2% mail-in entries; addresses in
 * example.com, example.org and example.net, 3% in a foreign domain.  The
 * base entries (ou=people, ou=groups, ou=mailin) come first.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t gendir_state;

/* splitmix64: small, fast, and the same everywhere. */
static uint64_t gendir_rand(void)
{
	uint64_t z = (gendir_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static const char *gendir_domain(void)
{
	unsigned r = (unsigned)(gendir_rand() % 100);

	if (r < 60)
		return "example.com";
	if (r < 85)
		return "example.org";
	if (r < 97)
		return "example.net";
	return "partner.example";
}

int main(int argc, char **argv)
{
	unsigned long n, i;
	const char *base = "dc=example,dc=com";

	if (argc < 2) {
		fprintf(stderr, "usage: gendir N [SEED]\n");
		return 2;
	}
	n = strtoul(argv[1], NULL, 10);
	gendir_state = argc > 2 ? strtoull(argv[2], NULL, 10) : 42;
	printf("dn: ou=people,%s\nobjectClass: organizationalUnit\nou: people\n\n",
	       base);
	printf("dn: ou=groups,%s\nobjectClass: organizationalUnit\nou: groups\n\n",
	       base);
	printf("dn: ou=mailin,%s\nobjectClass: organizationalUnit\nou: mailin\n\n",
	       base);
	for (i = 0; i < n; i++) {
		unsigned r = (unsigned)(gendir_rand() % 100);
		unsigned na;

		if (r < 3) {
			printf("dn: cn=group%lu,ou=groups,%s\nobjectClass: groupOfNames\n"
			       "objectClass: extensibleObject\ncn: group%lu\n"
			       "member: uid=u%lu,ou=people,%s\nowner: uid=u%lu,ou=people,%s\n"
			       "mail: group%lu@%s\n\n", i, base, i, i / 2, base,
			       i / 2, base, i, gendir_domain());
			continue;
		}
		if (r < 5) {
			printf("dn: cn=mailin%lu,ou=mailin,%s\nobjectClass: inetOrgPerson\n"
			       "objectClass: dircatMailIn\nobjectClass: extensibleObject\n"
			       "cn: mailin%lu\nsn: Mailin\nowner: uid=u%lu,ou=people,%s\n"
			       "mail: mailin%lu@%s\n\n", i, base, i, i / 3, base, i,
			       gendir_domain());
			continue;
		}
		printf("dn: uid=u%lu,ou=people,%s\nobjectClass: inetOrgPerson\n"
		       "objectClass: inetLocalMailRecipient\nuid: u%lu\n"
		       "cn: User %lu\nsn: User%lu\ngivenName: Given%lu\n"
		       "telephoneNumber: +1 555 %07lu\n", i, base, i, i, i, i, i);
		if (r < 8) {
			printf("employeeType: disabled\nmail: first%lu.last@%s\n\n",
			       i, gendir_domain());
			continue;
		}
		if (r < 10) {
			printf("\n");	/* no address at all */
			continue;
		}
		r = (unsigned)(gendir_rand() % 100);
		na = r < 75 ? 1 : r < 95 ? 2 : 3;
		printf("employeeType: staff\nmail: First%lu.Last@%s\n", i,
		       gendir_domain());
		if (na >= 2)
			printf("mailLocalAddress: u%lu@%s\n", i, gendir_domain());
		if (na >= 3)
			printf("mailLocalAddress: f.last%lu@%s\n", i,
			       gendir_domain());
		printf("\n");
	}
	return ferror(stdout) ? 1 : 0;
}
