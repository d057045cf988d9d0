/*
 * test_owners.c - owners named by DN (aggregator/collect.c and
 * ldapsrc_dn_key in aggregator/ldapsrc.c): DN keys, the keyed hash,
 * the login list, and resolution at the end of a run - forward
 * references, fallbacks, unresolved DNs, repeats.
 */
#include <stdio.h>
#include <string.h>

#include "catalog.h"
#include "check.h"
#include "../../aggregator/collect.h"
#include "../../aggregator/ldapsrc.h"

/* The key of a DN, as a printable string (NULL when no DN). */
static size_t key_of(const char *dn, unsigned char *key, char *rdn,
		     size_t rdnsize)
{
	return ldapsrc_dn_key(dn, strlen(dn), key, LDAPSRC_DNKEY_MAX, rdn,
			      rdnsize);
}

static int same_key(const char *a, const char *b)
{
	unsigned char ka[LDAPSRC_DNKEY_MAX], kb[LDAPSRC_DNKEY_MAX];
	size_t la = key_of(a, ka, NULL, 0), lb = key_of(b, kb, NULL, 0);

	return la && la == lb && !memcmp(ka, kb, la);
}

static void test_dn_key(void)
{
	unsigned char key[LDAPSRC_DNKEY_MAX];
	char rdn[260];

	CHECK(same_key("CN=Smith\\, John,OU=Users,DC=corp",
		       "cn=smith\\, john,ou=users,dc=corp"),
	      "dn key: case of types and values does not matter");
	CHECK(same_key("cn=Smith\\, John,ou=Users,dc=corp",
		       "cn=Smith\\2C John,ou=Users,dc=corp"),
	      "dn key: \\, and \\2C are one comma");
	CHECK(same_key("cn=Smith\\, John,ou=Users,dc=corp",
		       "cn=\"Smith, John\",ou=Users,dc=corp") ||
	      !key_of("cn=\"Smith, John\",ou=Users,dc=corp", key, NULL, 0),
	      "dn key: a quoted value is the escaped one (or no DN)");
	CHECK(same_key("cn=John Smith,ou=Users,dc=corp",
		       "cn=John  Smith, ou=Users, dc=corp"),
	      "dn key: spaces after commas and runs of spaces do not matter");
	CHECK(!same_key("cn=Smith\\, John,ou=Users,dc=corp",
			"cn=Smith,cn=John,ou=Users,dc=corp"),
	      "dn key: an escaped comma is no RDN separator");
	CHECK(!same_key("cn=a+uid=b,dc=corp", "cn=a,uid=b,dc=corp"),
	      "dn key: a multi-valued RDN is not two RDNs");
	CHECK(!same_key("uid=jsmith,ou=people,dc=example,dc=com",
			"uid=jsmith,ou=people,dc=example,dc=org"),
	      "dn key: different DNs, different keys");

	CHECK(key_of("CN=Smith\\, John,OU=Users,DC=corp", key, rdn,
		     sizeof(rdn)) > 0, "dn key: AD DN with an escaped comma");
	CHECK_STR(rdn, "Smith, John", "dn key: first RDN value unescaped");
	key_of("uid=jsmith,ou=people,dc=example,dc=com", key, rdn,
	       sizeof(rdn));
	CHECK_STR(rdn, "jsmith", "dn key: first RDN value of a uid= DN");
	key_of("uid=jsmith", key, rdn, sizeof(rdn));
	CHECK_STR(rdn, "jsmith", "dn key: a DN of one RDN");
	CHECK(key_of("jsmith", key, rdn, sizeof(rdn)) == 0 && rdn[0] == '\0',
	      "dn key: a plain login is no DN");
	CHECK(key_of("", key, rdn, sizeof(rdn)) == 0, "dn key: empty");
	CHECK(key_of("cn=a,=b", key, rdn, sizeof(rdn)) == 0,
	      "dn key: an RDN without a type is no DN");
	CHECK(key_of("cn=x\\", key, rdn, sizeof(rdn)) == 0,
	      "dn key: a dangling backslash is no DN");
	CHECK(ldapsrc_dn_key("uid=a,dc=b", 10, key, 8, rdn, sizeof(rdn)) == 0,
	      "dn key: a key longer than the buffer gives 0");
}

static void test_siphash(void)
{
	/* The reference vectors of the SipHash paper: key 00..0f, message
	 * 00..(n-1). */
	uint64_t k[2] = { 0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL };
	unsigned char m[15];
	size_t i;

	for (i = 0; i < sizeof(m); i++)
		m[i] = (unsigned char)i;
	CHECK(collect_siphash(k, m, 0) == 0x726fdb47dd0e0e31ULL,
	      "siphash-2-4: empty message");
	CHECK(collect_siphash(k, m, 8) == 0x93f5f5799a932462ULL,
	      "siphash-2-4: 8 bytes");
	CHECK(collect_siphash(k, m, 15) == 0xa129ca6149be45e5ULL,
	      "siphash-2-4: 15 bytes");
}

static void test_owner_add(void)
{
	struct buf b;

	buf_init(&b, CATALOG_OWNERS_MAX);
	collect_owner_add(&b, "jsmith", 6);
	collect_owner_add(&b, "JSmith", 6);
	collect_owner_add(&b, "John Smith", 10);
	collect_owner_add(&b, "a,b", 3);
	collect_owner_add(&b, "", 0);
	collect_owner_add(&b, "mjones", 6);
	collect_owner_add(&b, "jsmit", 5);
	CHECK_STR((const char *)b.data, "jsmith,mjones,jsmit",
		  "owner list: repeats (any case), spaces, commas, empty "
		  "values left out");
	buf_free(&b);
	CHECK(collect_login_usable("a", 1) && !collect_login_usable("a\tb", 3)
	      && !collect_login_usable("a\x7f", 2), "usable logins");
}

/* One entry with its addresses, as agg_entry adds it. */
static uint32_t add_entry(struct collect *c, const char *dn, int kind,
			  const char *owners, const char *a1, const char *a2)
{
	unsigned char val[CATALOG_VALUE_MAX];
	struct catalog_rec rec = { NULL, 0, kind, owners, strlen(owners),
				   "", 0 };
	size_t vlen = catalog_rec_encode(&rec, val, sizeof(val));
	uint32_t e = collect_entry(c, dn);
	char err[256];

	collect_add(c, e, 0, kind, a1, strlen(a1), val, vlen, err,
		    sizeof(err));
	if (a2)
		collect_add(c, e, 0, kind, a2, strlen(a2), val, vlen, err,
			    sizeof(err));
	return e;
}

static void read_login(struct collect *c, const char *dn, const char *logins)
{
	unsigned char key[LDAPSRC_DNKEY_MAX];
	size_t klen = key_of(dn, key, NULL, 0);
	char err[256];

	CHECK(klen && collect_login(c, key, klen, logins, strlen(logins), err,
				    sizeof(err)) == 0, "login of %s", dn);
}

static void owner_dn(struct collect *c, uint32_t entry, const char *dn)
{
	unsigned char key[LDAPSRC_DNKEY_MAX];
	char rdn[260], err[256];
	size_t klen = key_of(dn, key, rdn, sizeof(rdn));

	if (!collect_login_usable(rdn, strlen(rdn)))
		rdn[0] = '\0';
	CHECK(collect_owner_dn(c, entry, key, klen, rdn, dn, err,
			       sizeof(err)) == 0, "owner DN %s", dn);
}

static char unresolved_seen[1024];

static void on_unresolved(void *arg, const char *owner, const char *dn,
			  const char *why)
{
	(void)arg;
	(void)why;
	snprintf(unresolved_seen + strlen(unresolved_seen),
		 sizeof(unresolved_seen) - strlen(unresolved_seen), "[%s|%s]",
		 owner, dn);
}

/* All records, "key owners;" each, after collect_finish. */
static void dump(struct collect *c, char *out, size_t outsize)
{
	struct catalog_rec rec;
	char err[256];

	out[0] = '\0';
	while (collect_next(c, &rec, err, sizeof(err)) == 1)
		snprintf(out + strlen(out), outsize - strlen(out), "%.*s %.*s;",
			 (int)rec.keylen, rec.key, (int)rec.ownerslen,
			 rec.owners);
}

static void test_resolve(void)
{
	struct collect *c = collect_new();
	struct collect_owner_stats st;
	char err[256], out[2048];
	uint32_t g;

	/* A person read first. */
	read_login(c, "uid=jsmith,ou=people,dc=example,dc=com", "jsmith");
	add_entry(c, "uid=jsmith,ou=people,dc=example,dc=com", CATALOG_PERSON,
		  "jsmith", "jsmith@example.com", NULL);
	/* A group naming four owners: one read before, one read after, one
	 * never read with a uid= RDN, one never read with a display name;
	 * and jsmith again under another spelling. */
	g = add_entry(c, "cn=staff,ou=groups,dc=example,dc=com", CATALOG_GROUP,
		      "staff", "staff@example.com", "staff@example.org");
	owner_dn(c, g, "UID=jsmith, OU=People, DC=example, DC=com");
	owner_dn(c, g, "cn=Smith\\, John,ou=people,dc=example,dc=com");
	owner_dn(c, g, "uid=ghost,ou=gone,dc=example,dc=com");
	owner_dn(c, g, "cn=Nobody Here,ou=gone,dc=example,dc=com");
	owner_dn(c, g, "uid=jsmith,ou=people,dc=example,dc=com");
	/* A mail-in entry without a login of its own; one owner value has
	 * an '=' but is no DN. */
	g = add_entry(c, "cn=sales,ou=mailin,dc=example,dc=com", CATALOG_MAILIN,
		      "", "sales@example.com", NULL);
	owner_dn(c, g, "cn=Smith\\2C John,ou=People,dc=example,dc=com");
	owner_dn(c, g, "cn=broken\\");
	/* Read after the entries naming it: a forward reference. */
	read_login(c, "cn=Smith\\2c John,ou=people,dc=example,dc=com",
		   "jsmith2,john");
	add_entry(c, "cn=Smith\\2c John,ou=people,dc=example,dc=com",
		  CATALOG_PERSON, "jsmith2,john", "john@example.com", NULL);
	/* The same DN read again (a second source): the first read wins. */
	read_login(c, "cn=smith\\, john,ou=people,dc=example,dc=com",
		   "someoneelse");

	CHECK(collect_resolve_owners(c, on_unresolved, NULL, err,
				     sizeof(err)) == 0, "resolve");
	collect_owner_stats(c, &st);
	CHECK(st.dns == 7 && st.resolved == 4 && st.first_rdn == 1 &&
	      st.unresolved == 2, "stats: 7 DNs, 4 resolved, 1 first RDN, "
	      "2 not resolved (%llu %llu %llu %llu)",
	      (unsigned long long)st.dns, (unsigned long long)st.resolved,
	      (unsigned long long)st.first_rdn,
	      (unsigned long long)st.unresolved);
	CHECK_STR(unresolved_seen, "[cn=Nobody Here,ou=gone,dc=example,dc=com|"
		  "cn=staff,ou=groups,dc=example,dc=com]"
		  "[cn=broken\\|cn=sales,ou=mailin,dc=example,dc=com]",
		  "unresolved DNs are reported with their entries");
	CHECK(collect_finish(c, COLLECT_SOURCE_FIRST, err, sizeof(err)) == 0,
	      "finish");
	dump(c, out, sizeof(out));
	CHECK_STR(out, "john@example.com jsmith2,john;"
		  "jsmith@example.com jsmith;"
		  "sales@example.com jsmith2,john;"
		  "staff@example.com staff,jsmith,jsmith2,john,ghost;"
		  "staff@example.org staff,jsmith,jsmith2,john,ghost;",
		  "owners resolved: before, after, fallback, once each, on "
		  "every address of the entry");
	collect_free(c);

	/* Nothing to resolve: records unchanged. */
	c = collect_new();
	add_entry(c, "uid=a,dc=x", CATALOG_PERSON, "a", "a@example.com", NULL);
	CHECK(collect_resolve_owners(c, NULL, NULL, err, sizeof(err)) == 0 &&
	      collect_finish(c, COLLECT_SOURCE_FIRST, err, sizeof(err)) == 0,
	      "no owner DNs: resolve and finish");
	dump(c, out, sizeof(out));
	CHECK_STR(out, "a@example.com a;", "no owner DNs: record as it was");
	collect_free(c);
}

/*
 * ldapsrc_dn_key() builds plain DNs' keys without libldap: for 200,000
 * random DNs, plain or nearly so (spaces, escapes, quotes, '+', odd
 * types, empty values, trailing commas), its key, length and first RDN
 * value must equal libldap's.  Fixed seed.
 */
static void test_dn_key_differential(void)
{
	static const char *const types[] = { "uid", "cn", "OU", "dc", "o",
					     "a-b", "x9", "2.5.4.3", "c_n",
					     "-x", "" };
	static const char *const bits[] = { "smith", "John", " ", "  ", "a b",
					    "\\,", "\\2C", "\"q\"", "+",
					    "=", "#", ";", "<", "*()", ".",
					    "", "x", "-", "\\ ", "\xc3\xa9" };
	unsigned char k1[LDAPSRC_DNKEY_MAX], k2[LDAPSRC_DNKEY_MAX];
	char dn[512], r1[64], r2[64];
	unsigned long long seed = 42;
	int i, bad = 0, plain = 0, parsed_ok = 0;

	for (i = 0; i < 200000; i++) {
		size_t len = 0, n1, n2;
		int rdns, j, p;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		rdns = 1 + (int)(seed >> 60) % 4;
		for (j = 0; j < rdns && len < 400; j++) {
			int nb;

			seed = seed * 6364136223846793005ULL + 1;
			p = (int)((seed >> 33) % 16);
			/* mostly clean types and values, sometimes not */
			len += (size_t)snprintf(dn + len, sizeof(dn) - len,
				"%s%s=", j ? "," : "",
				types[p < 12 ? p % 5 : (int)((seed >> 40) % 11)]);
			nb = 1 + (int)((seed >> 45) % 3);
			while (nb-- > 0 && len < 400) {
				seed = seed * 6364136223846793005ULL + 1;
				p = (int)((seed >> 33) % 64);
				len += (size_t)snprintf(dn + len, sizeof(dn) - len,
					"%s", bits[p < 44 ? p % 2 : p % 20]);
			}
		}
		if ((seed >> 20) % 50 == 0)
			len += (size_t)snprintf(dn + len, sizeof(dn) - len, ",");
		n1 = ldapsrc_dn_key(dn, len, k1, sizeof(k1), r1, sizeof(r1));
		n2 = ldapsrc_dn_key_parsed(dn, len, k2, sizeof(k2), r2,
					   sizeof(r2));
		if (n2)
			parsed_ok++;
		if (n1 != n2 || memcmp(k1, k2, n1) || strcmp(r1, r2)) {
			if (bad++ < 5)
				fprintf(stderr, "differ: \"%.*s\" (%zu/%zu, "
					"\"%s\"/\"%s\")\n", (int)len, dn, n1, n2,
					r1, r2);
		}
		/* the same DN without its last byte's chance: count plain */
		if (n1 && !strpbrk(dn, "\\\"+;<>#") && !strstr(dn, ", ") &&
		    !strstr(dn, "= "))
			plain++;
	}
	CHECK(bad == 0, "dn key: the plain-DN path agrees with libldap on "
	      "200,000 random DNs (%d differ)", bad);
	CHECK(plain > 50000, "dn key: the test reached the plain path (%d "
	      "plain-looking DNs)", plain);
	CHECK(parsed_ok > 100000, "dn key: most random DNs parse (%d)",
	      parsed_ok);
}

int main(void)
{
	test_dn_key();
	test_dn_key_differential();
	test_siphash();
	test_owner_add();
	test_resolve();
	return check_done();
}
