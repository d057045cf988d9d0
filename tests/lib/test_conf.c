/*
 * test_conf.c - catalogd.conf's catalogs and domains (lib/conf.c): the
 * file of one catalog unchanged, [catalog NAME] sections at their limit
 * (16) and one more, [domain NAME] sections at theirs (1024) and one
 * more, order lists (16 names, unknown and repeated names), what may not
 * be mixed (top-level catalog settings beside sections, a catalog in no
 * order, two catalogs sharing a file or inbox), and the routing settings
 * at their limits.  Files are read with conf_load_syntax() (no keys or
 * accounts looked up) from a temporary directory removed at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "conf.h"
#include "util.h"

static char t_dir[PATH_MAX];
static char t_file[PATH_MAX + 16];

static const char t_socket[] =
	"[socket map]\npath = /run/dircat/map.sock\nprotocol = socketmap\n";

/* Load text as a catalogd.conf; err gets the message on failure. */
static struct conf *t_load(const char *text, char *err, size_t errlen)
{
	FILE *f = fopen(t_file, "w");

	if (!f || fputs(text, f) == EOF || fclose(f) != 0) {
		perror(t_file);
		exit(1);
	}
	err[0] = '\0';
	return conf_load_syntax(t_file, err, errlen);
}

/* One [catalog NAME] section's text appended to b. */
static void t_catalog(struct buf *b, const char *name, int i)
{
	buf_printf(b, "[catalog %s]\ncatalog = /var/lib/dircat/%d.mdb\n"
		   "catalog_id = id%d\ninbox = /var/lib/dircat/inbox%d\n"
		   "trusted_key = /etc/dircat/keys/%d.pub\n", name, i, i, i, i);
}

static const char t_single[] =
	"catalog = /var/lib/dircat/catalog.mdb\ncatalog_id = corp\n"
	"inbox = /var/lib/dircat/inbox\ntrusted_key = /etc/dircat/k.pub\n"
	"stale_policy = tempfail\n";

static void test_single(void)
{
	char err[1024], text[1024];
	struct conf *c;

	snprintf(text, sizeof(text), "%s%s", t_single, t_socket);
	c = t_load(text, err, sizeof(err));
	CHECK(c && c->ncatalogs == 1 && c->cat[0].implicit &&
	      !strcmp(c->cat[0].name, "corp") &&
	      !strcmp(c->cat[0].path, "/var/lib/dircat/catalog.mdb") &&
	      !strcmp(c->cat[0].inbox, "/var/lib/dircat/inbox") &&
	      c->cat[0].ntrusted == 1 && c->norder == 1 && c->order[0] == 0 &&
	      c->cat[0].lookup.stale_policy == LOOKUP_STALE_TEMPFAIL &&
	      !strcmp(c->cat[0].transport_template, "relay:[%s]"),
	      "a file of one catalog is one implicit catalog, named after "
	      "its id (%s)", err);
	conf_free(c);

	snprintf(text, sizeof(text), "catalog_id = corp\n"
		 "inbox = /var/lib/dircat/inbox\n"
		 "trusted_key = /etc/dircat/k.pub\n%s", t_socket);
	c = t_load(text, err, sizeof(err));
	CHECK(!c && strstr(err, "'catalog' is missing"),
	      "without [catalog] sections catalog is required: %s", err);
	conf_free(c);

	snprintf(text, sizeof(text), "%sorder = corp\n%s", t_single,
		 t_socket);
	c = t_load(text, err, sizeof(err));
	CHECK(!c && strstr(err, ":6: order: no [catalog NAME]"),
	      "order without sections is refused at its line: %s", err);
	conf_free(c);
}

/* N [catalog] sections, ordered by 'order' when ordered is set. */
static struct conf *t_catalogs(int n, int ordered, char *err, size_t errlen)
{
	struct buf b;
	struct conf *c;
	int i;

	buf_init(&b, 1 << 20);
	if (ordered) {
		buf_printf(&b, "order = ");
		for (i = n - 1; i >= 0; i--)
			buf_printf(&b, "c%d%s", i, i ? ", " : "\n");
	}
	buf_printf(&b, "%s", t_socket);
	for (i = 0; i < n; i++) {
		char name[16];

		snprintf(name, sizeof(name), "c%d", i);
		t_catalog(&b, name, i);
	}
	buf_append(&b, "", 1);
	c = t_load((const char *)b.data, err, errlen);
	buf_free(&b);
	return c;
}

static void test_catalog_limits(void)
{
	char err[1024];
	struct conf *c;

	c = t_catalogs(CONF_CATALOGS_MAX, 1, err, sizeof(err));
	CHECK(c && c->ncatalogs == CONF_CATALOGS_MAX &&
	      c->norder == CONF_CATALOGS_MAX &&
	      c->order[0] == CONF_CATALOGS_MAX - 1 && c->order[15] == 0 &&
	      !c->cat[3].implicit && !strcmp(c->cat[3].id, "id3") &&
	      c->cat[3].ntrusted == 1,
	      "%d [catalog] sections and an order of %d names (%s)",
	      CONF_CATALOGS_MAX, CONF_CATALOGS_MAX, err);
	conf_free(c);
	c = t_catalogs(CONF_CATALOGS_MAX + 1, 0, err, sizeof(err));
	CHECK(!c && strstr(err, "more than 16 [catalog]"),
	      "%d [catalog] sections are refused: %s", CONF_CATALOGS_MAX + 1,
	      err);
	conf_free(c);
	c = t_catalogs(2, 0, err, sizeof(err));
	CHECK(c && c->norder == 2 && c->order[0] == 0 && c->order[1] == 1,
	      "without order, the file's order (%s)", err);
	conf_free(c);
}

static void test_catalog_rules(void)
{
	char err[1024];
	struct buf b;
	struct conf *c;

	/* Top-level catalog settings beside sections. */
	buf_init(&b, 65536);
	buf_printf(&b, "inbox = /var/lib/dircat/inbox\n%s", t_socket);
	t_catalog(&b, "a", 1);
	buf_append(&b, "", 1);
	c = t_load((const char *)b.data, err, sizeof(err));
	CHECK(!c && strstr(err, ":1: inbox: not at the top level"),
	      "top-level inbox beside [catalog] sections: %s", err);
	conf_free(c);
	buf_free(&b);

	/* An unknown and a repeated name in order, with line and column. */
	buf_init(&b, 65536);
	buf_printf(&b, "order = a, b, zz\n%s", t_socket);
	t_catalog(&b, "a", 1);
	t_catalog(&b, "b", 2);
	buf_append(&b, "", 1);
	c = t_load((const char *)b.data, err, sizeof(err));
	CHECK(!c && strstr(err, ":1:9: order: no [catalog NAME] named 'zz'"),
	      "order naming no catalog: %s", err);
	conf_free(c);
	buf_free(&b);
	buf_init(&b, 65536);
	buf_printf(&b, "order = a, b, a\n%s", t_socket);
	t_catalog(&b, "a", 1);
	t_catalog(&b, "b", 2);
	buf_append(&b, "", 1);
	c = t_load((const char *)b.data, err, sizeof(err));
	CHECK(!c && strstr(err, "names twice the catalog 'a'"),
	      "order naming a catalog twice: %s", err);
	conf_free(c);
	buf_free(&b);

	/* A catalog in no order; then named by a [domain]. */
	buf_init(&b, 65536);
	buf_printf(&b, "order = a\n%s", t_socket);
	t_catalog(&b, "a", 1);
	t_catalog(&b, "b", 2);
	buf_append(&b, "", 1);
	c = t_load((const char *)b.data, err, sizeof(err));
	CHECK(!c && strstr(err, "[catalog b]: in no order"),
	      "a catalog in no order: %s", err);
	conf_free(c);
	b.len--;
	buf_printf(&b, "[domain Example.ORG]\norder = b, a\n"
		   "route_default = [hub.example.org]:2525\n");
	buf_append(&b, "", 1);
	c = t_load((const char *)b.data, err, sizeof(err));
	CHECK(c && c->ndomains == 1 && c->norder == 1 &&
	      conf_domain_find(c, "example.org") &&
	      conf_domain_find(c, "example.org")->norder == 2 &&
	      conf_domain_find(c, "example.org")->order[0] == 1 &&
	      !strcmp(conf_domain_find(c, "example.org")->route_default,
		      "[hub.example.org]:2525") &&
	      !conf_domain_find(c, "example.com"),
	      "a [domain] order (lower-cased) may name a catalog the top "
	      "level leaves out (%s)", err);
	conf_free(c);
	buf_free(&b);

	/* A [domain] spelt with a fully qualified name's trailing dot is
	 * the domain lookups see, not a section that never applies. */
	buf_init(&b, 65536);
	buf_printf(&b, "%s", t_socket);
	t_catalog(&b, "a", 1);
	t_catalog(&b, "b", 2);
	buf_printf(&b, "[domain Example.ORG.]\norder = b\n");
	buf_append(&b, "", 1);
	c = t_load((const char *)b.data, err, sizeof(err));
	CHECK(c && conf_domain_find(c, "example.org") &&
	      conf_domain_find(c, "example.org")->order[0] == 1,
	      "[domain Example.ORG.] is example.org (%s)", err);
	conf_free(c);
	buf_free(&b);

	/* Two catalogs sharing an inbox. */
	buf_init(&b, 65536);
	buf_printf(&b, "%s", t_socket);
	t_catalog(&b, "a", 1);
	buf_printf(&b, "[catalog b]\ncatalog = /var/lib/dircat/b.mdb\n"
		   "catalog_id = b\ninbox = /var/lib/dircat/inbox1\n"
		   "trusted_key = /k.pub\n");
	buf_append(&b, "", 1);
	c = t_load((const char *)b.data, err, sizeof(err));
	CHECK(!c && strstr(err, ":12: inbox: also [catalog a]'s (line 4)"),
	      "two catalogs sharing an inbox: %s", err);
	conf_free(c);
	buf_free(&b);
	/* The same inbox or file spelt otherwise: both catalogs' rounds
	 * would scan one directory, each refusing the other's snapshots. */
	{
		static const char *const same[] = {
			"inbox = /var/lib/dircat/inbox1/\n",
			"inbox = /var/lib/dircat//inbox1\n",
			"inbox = /var/lib/dircat/./inbox1//\n",
		};
		size_t k;

		for (k = 0; k < sizeof(same) / sizeof(same[0]); k++) {
			buf_init(&b, 65536);
			buf_printf(&b, "%s", t_socket);
			t_catalog(&b, "a", 1);
			buf_printf(&b, "[catalog b]\ncatalog = /var/lib/dircat/"
				   "b.mdb\ncatalog_id = b\n%strusted_key = "
				   "/k.pub\n", same[k]);
			buf_append(&b, "", 1);
			c = t_load((const char *)b.data, err, sizeof(err));
			CHECK(!c && strstr(err, "inbox: also [catalog a]'s"),
			      "the same inbox spelt %.*s: %s",
			      (int)strlen(same[k]) - 1, same[k], err);
			conf_free(c);
			buf_free(&b);
		}
		buf_init(&b, 65536);
		buf_printf(&b, "%s", t_socket);
		t_catalog(&b, "a", 1);
		buf_printf(&b, "[catalog b]\ncatalog = /var/lib/dircat/./1.mdb"
			   "\ncatalog_id = b\ninbox = /var/lib/dircat/inb"
			   "\ntrusted_key = /k.pub\n");
		buf_append(&b, "", 1);
		c = t_load((const char *)b.data, err, sizeof(err));
		CHECK(!c && strstr(err, "catalog: also [catalog a]'s"),
		      "the same catalog file spelt with /./: %s", err);
		conf_free(c);
		buf_free(&b);
	}

	/* A section without its keys. */
	c = t_load("[socket m]\npath = /m\nprotocol = socketmap\n"
		   "[catalog a]\ncatalog = /a.mdb\ncatalog_id = a\n"
		   "inbox = /in\n", err, sizeof(err));
	CHECK(!c && strstr(err, ":4: [catalog a]: 'trusted_key' is missing"),
	      "a [catalog] needs a trusted_key: %s", err);
	conf_free(c);
}

static void test_domain_limits(void)
{
	char err[1024];
	struct buf b;
	struct conf *c;
	int i, n;

	for (n = CONF_DOMAINS_MAX; n <= CONF_DOMAINS_MAX + 1; n++) {
		buf_init(&b, 1 << 20);
		buf_printf(&b, "%s%s", t_single, t_socket);
		for (i = 0; i < n; i++)
			buf_printf(&b, "[domain d%d.example]\norder = corp\n",
				   i);
		buf_append(&b, "", 1);
		c = t_load((const char *)b.data, err, sizeof(err));
		if (n == CONF_DOMAINS_MAX)
			CHECK(c && c->ndomains == (size_t)n &&
			      conf_domain_find(c, "d1023.example") &&
			      conf_domain_find(c, "d0.example") &&
			      !conf_domain_find(c, "d1024.example"),
			      "%d [domain] sections (%s)", n, err);
		else
			CHECK(!c && strstr(err, "more than 1024 [domain]"),
			      "%d [domain] sections are refused: %s", n, err);
		conf_free(c);
		buf_free(&b);
	}
}

static void test_routes(void)
{
	static const struct {
		const char *line;
		int ok;
	} cases[] = {
		{ "route_default = hub.example.com", 1 },
		{ "route_default = [192.0.2.1]:2525", 1 },
		{ "route_default = hub example", 0 },
		{ "route_default = hub,example", 0 },
		{ "route_default = hub%s", 0 },
		{ "transport_template = smtp:[%s]:25", 1 },
		{ "transport_template = relay:[hub]", 0 },
		{ "transport_template = relay:[%s]%s", 0 },
		{ "transport_template = relay:[%d]", 0 },
		{ "transport_template = [%s]", 0 },
		{ "route_field = mailHost", 1 },
		{ "route_field = mail host", 0 },
	};
	char err[1024], text[2048], big[CONF_ROUTE_MAX + 2];
	struct conf *c;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "%s%s\n%s", t_single,
			 cases[i].line, t_socket);
		c = t_load(text, err, sizeof(err));
		CHECK(!!c == cases[i].ok && (c || strstr(err, ":6: ")),
		      "%s: %s (%s)", cases[i].line,
		      cases[i].ok ? "taken" : "refused at its line", err);
		conf_free(c);
	}
	/* A next hop of CONF_ROUTE_MAX bytes, and one more. */
	for (i = CONF_ROUTE_MAX; i <= CONF_ROUTE_MAX + 1; i++) {
		memset(big, 'h', i);
		big[i] = '\0';
		snprintf(text, sizeof(text), "%sroute_default = %s\n%s",
			 t_single, big, t_socket);
		c = t_load(text, err, sizeof(err));
		CHECK(i == CONF_ROUTE_MAX ? c && strlen(c->cat[0].route_default)
						 == CONF_ROUTE_MAX
					  : !c,
		      "route_default of %zu bytes %s", i,
		      i == CONF_ROUTE_MAX ? "taken" : "refused");
		conf_free(c);
	}
	CHECK(conf_route_valid("hub.example.com", 15) &&
	      !conf_route_valid("", 0) && !conf_route_valid("a b", 3) &&
	      !conf_route_valid("a\nb", 3),
	      "conf_route_valid");
	/* A NUL byte inside a next hop from the catalog (strchr() finds
	 * the terminator of its set). */
	CHECK(!conf_route_valid("hub\0evil.example", 17) &&
	      !conf_route_valid("\0", 1),
	      "conf_route_valid refuses a NUL byte");
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(t_dir, sizeof(t_dir), "%s/test_conf.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(t_dir)) {
		perror(t_dir);
		return 1;
	}
	snprintf(t_file, sizeof(t_file), "%s/catalogd.conf", t_dir);
	test_single();
	test_catalog_limits();
	test_catalog_rules();
	test_domain_limits();
	test_routes();
	unlink(t_file);
	rmdir(t_dir);
	return check_done();
}
