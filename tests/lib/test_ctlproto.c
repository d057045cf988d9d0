/*
 * test_ctlproto.c - lib/ctlproto.c: the control socket's status reply,
 * written and read back, its limits at N and N+1, other versions, and a
 * hostile file name that must not forge a line or end the reply.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ctlproto.h"

/* A status with every field set to something of its own. */
static void fill(struct ctlproto_status *st)
{
	int m;

	memset(st, 0, sizeof(*st));
	st->pid = 812;
	st->now = 1795500004;
	st->started = 1795413604;
	util_copy_fit(st->catalog, "/var/lib/dircat/catalog.mdb",
		      sizeof(st->catalog));
	util_copy_fit(st->catalog_id, "corp", sizeof(st->catalog_id));
	st->serial = 1482;
	st->created = 1795413604;
	st->expires = 1796018404;
	st->installed = 1795413609;
	st->stale = 1;
	util_copy_fit(st->stale_policy, "defer-unknown",
		      sizeof(st->stale_policy));
	st->records = 48211;
	st->records_person = 45102;
	st->records_group = 2970;
	st->records_mailin = 137;
	st->records_domain = 2;
	util_copy_fit(st->key_id, "5104ef91f50f128a", sizeof(st->key_id));
	st->last_install = 1795413609;
	st->last_install_serial = 1482;
	util_copy_fit(st->last_install_type, "delta",
		      sizeof(st->last_install_type));
	st->last_install_base = 1481;
	st->last_install_records = 12;
	st->last_install_added = 9;
	st->last_install_removed = 3;
	st->last_install_changed = 1;
	st->last_install_us = 10250;
	st->last_refusal = 1795413700;
	util_copy_fit(st->last_refusal_file, "corp.7.full.snap",
		      sizeof(st->last_refusal_file));
	util_copy_fit(st->last_refusal_reason, "bad signature",
		      sizeof(st->last_refusal_reason));
	st->installs = 5;
	st->refusals = 1;
	util_copy_fit(st->installing, "corp.1483.delta.snap",
		      sizeof(st->installing));
	st->installing_us = 1500000;
	util_copy_fit(st->inbox, "/var/lib/dircat/inbox", sizeof(st->inbox));
	st->inbox_waiting = 2;
	st->lookups.ok = 880211;
	st->lookups.notfound = 32672;
	st->lookups.temp = 3;
	st->lookups.perm = 4;
	for (m = 0; m < CTLPROTO_MAPS; m++) {
		st->map[m].ok = 100 + (uint64_t)m;
		st->map[m].notfound = 200 + (uint64_t)m;
		st->map[m].temp = 300 + (uint64_t)m;
		st->map[m].perm = 400 + (uint64_t)m;
	}
	st->policy_pass = 11;
	st->policy_reject = 12;
	st->policy_defer = 13;
	st->policy_no_reply = 14;
	st->connections_open = 15;
	st->connections_accepted = 16;
	st->connections_evicted = 21;
	st->connections_refused = 17;
	st->idle_timeouts = 18;
	st->request_timeouts = 22;
	st->bad_requests = 19;
	st->output_overflows = 20;
	st->sockets = 3;
	util_copy_fit(st->socket[0].name, "map", sizeof(st->socket[0].name));
	util_copy_fit(st->socket[0].protocol, "socketmap",
		      sizeof(st->socket[0].protocol));
	st->socket[0].open = 12;
	st->socket[0].limit = 2048;
	st->socket[0].evicted = 3;
	util_copy_fit(st->socket[1].name, "policy", sizeof(st->socket[1].name));
	util_copy_fit(st->socket[1].protocol, "policy",
		      sizeof(st->socket[1].protocol));
	st->socket[1].limit = 2048;
	util_copy_fit(st->socket[2].name, "control", sizeof(st->socket[2].name));
	util_copy_fit(st->socket[2].protocol, "control",
		      sizeof(st->socket[2].protocol));
	st->socket[2].open = 1;
	st->socket[2].limit = 16;
}

static int parse_buf(const struct buf *b, struct ctlproto_status *st,
		     char *err, size_t errlen)
{
	err[0] = '\0';
	return ctlproto_status_parse((const char *)b->data, b->len, st, err,
				     errlen);
}

static void test_round_trip(void)
{
	struct ctlproto_status st, back;
	struct buf b;
	char err[512];
	size_t i, lines = 0;

	fill(&st);
	buf_init(&b, CTLPROTO_STATUS_MAX);
	CHECK(ctlproto_status_format(&st, &b) == 0 && b.len > 10 &&
	      !memcmp(b.data, "version=1\npid=812\n", 18),
	      "written: version=1 first, then pid");
	{
		size_t eq = 0;

		for (i = 0; i < b.len; i++) {
			lines += b.data[i] == '\n';
			eq += b.data[i] == '=';
		}
		CHECK(lines > 50 && eq == lines,
		      "one key=value line per field (%zu)", lines);
	}
	CHECK(!ctlproto_reply_complete(b.data, b.len),
	      "not complete without the empty line");
	buf_append(&b, "\n", 1);
	CHECK(ctlproto_reply_complete(b.data, b.len),
	      "complete with the empty line");
	st.version = CTLPROTO_VERSION;
	CHECK(parse_buf(&b, &back, err, sizeof(err)) == 0 &&
	      !memcmp(&st, &back, sizeof(st)),
	      "read back as written, the empty line too (%s)", err);
	buf_free(&b);
}

static void test_hostile(void)
{
	struct ctlproto_status st, back;
	struct buf b;
	char err[512], *empty;

	fill(&st);
	util_copy_fit(st.last_refusal_file,
		      "x\n\nserial=999\nstale=no\n\x1b[2J.snap",
		      sizeof(st.last_refusal_file));
	util_copy_fit(st.installing, "a\\x0ab", sizeof(st.installing));
	buf_init(&b, CTLPROTO_STATUS_MAX);
	CHECK(ctlproto_status_format(&st, &b) == 0, "format a hostile name");
	empty = memmem(b.data, b.len, "\n\n", 2);
	CHECK(empty == NULL, "no empty line inside the reply");
	CHECK(memmem(b.data, b.len, "\nserial=999", 11) == NULL,
	      "no forged serial line");
	CHECK(memmem(b.data, b.len, "installing=a\\\\x0ab\n", 19) != NULL,
	      "a backslash in a name is escaped too");
	CHECK(parse_buf(&b, &back, err, sizeof(err)) == 0 &&
	      back.serial == 1482 &&
	      !strcmp(back.last_refusal_file, st.last_refusal_file) &&
	      !strcmp(back.installing, "a\\x0ab"),
	      "read back: the real serial, the name unchanged");
	buf_free(&b);
}

static void test_limits(void)
{
	struct ctlproto_status st;
	struct buf b;
	char err[512], line[CTLPROTO_LINE_MAX + 64];
	int rc;
	size_t n;

	rc = ctlproto_status_parse("pid=1\nversion=1\nserial=1\n", 24, &st,
				   err, sizeof(err));
	CHECK(rc < 0 && strstr(err, "line 1"), "version must come first: %s",
	      err);
	rc = ctlproto_status_parse("version=2\npid=1\nserial=1\n", 24, &st,
				   err, sizeof(err));
	CHECK(rc < 0 && strstr(err, "version 2"), "version 2 refused: %s",
	      err);
	rc = ctlproto_status_parse("version=1\npid=1\n", 16, &st, err,
				   sizeof(err));
	CHECK(rc < 0 && strstr(err, "no serial="), "serial required");
	rc = ctlproto_status_parse("version=1\npid=1\nserial=3\nnew_field=x\n",
				   36, &st, err, sizeof(err));
	CHECK(rc == 0 && st.serial == 3, "unknown fields skipped (%s)", err);
	rc = ctlproto_status_parse("version=1\npid=1\nserial=3\nsockets=17\n",
				   36, &st, err, sizeof(err));
	CHECK(rc < 0 && strstr(err, "more than 16"), "%d sockets refused: %s",
	      CTLPROTO_SOCKETS_MAX + 1, err);
	rc = ctlproto_status_parse("version=1\npid=1\nserial=3\nsockets=16\n"
				   "socket_open.15=4\nsocket_open.16=5\n",
				   70, &st, err, sizeof(err));
	CHECK(rc == 0 && st.sockets == 16 && st.socket[15].open == 4,
	      "%d sockets; an index past the last one is skipped (%s)",
	      CTLPROTO_SOCKETS_MAX, err);
	rc = ctlproto_status_parse("daemon: running, pid 812\n\n", 26, &st,
				   err, sizeof(err));
	CHECK(rc < 0, "the text of catalogd 1.0 is refused, not scraped");

	/* A line of CTLPROTO_LINE_MAX bytes, then one more. */
	n = (size_t)snprintf(line, sizeof(line),
			     "version=1\npid=1\nserial=1\nx=");
	memset(line + n, 'a', CTLPROTO_LINE_MAX - 2);
	line[n + CTLPROTO_LINE_MAX - 2] = '\n';
	rc = ctlproto_status_parse(line, n + CTLPROTO_LINE_MAX - 1, &st, err,
				   sizeof(err));
	CHECK(rc == 0, "a line of %d bytes (%s)", CTLPROTO_LINE_MAX, err);
	line[n + CTLPROTO_LINE_MAX - 2] = 'a';
	line[n + CTLPROTO_LINE_MAX - 1] = '\n';
	rc = ctlproto_status_parse(line, n + CTLPROTO_LINE_MAX, &st, err,
				   sizeof(err));
	CHECK(rc < 0 && strstr(err, "line 4"), "a line of %d bytes refused",
	      CTLPROTO_LINE_MAX + 1);

	/* The reply: CTLPROTO_STATUS_MAX bytes, then one more. */
	buf_init(&b, CTLPROTO_STATUS_MAX + 1);
	buf_printf(&b, "version=1\npid=1\nserial=1\n");
	while (b.len < CTLPROTO_STATUS_MAX)
		buf_append(&b, "\n", 1);
	rc = parse_buf(&b, &st, err, sizeof(err));
	CHECK(rc == 0, "a reply of %d bytes", CTLPROTO_STATUS_MAX);
	buf_append(&b, "\n", 1);
	rc = parse_buf(&b, &st, err, sizeof(err));
	CHECK(rc < 0 && strstr(err, "larger than"), "a reply of %d bytes "
	      "refused", CTLPROTO_STATUS_MAX + 1);
	buf_free(&b);

	/* A name of CTLPROTO_NAME_MAX bytes fits; the writer never cuts. */
	fill(&st);
	memset(st.last_refusal_file, '\x7f', CTLPROTO_NAME_MAX);
	st.last_refusal_file[CTLPROTO_NAME_MAX] = '\0';
	memset(st.catalog, '\x01', sizeof(st.catalog) - 1);
	memset(st.inbox, '\x01', sizeof(st.inbox) - 1);
	buf_init(&b, CTLPROTO_STATUS_MAX);
	CHECK(ctlproto_status_format(&st, &b) == 0, "the largest status fits "
	      "(%zu bytes)", b.len);
	{
		struct ctlproto_status back;

		st.version = CTLPROTO_VERSION;
		CHECK(parse_buf(&b, &back, err, sizeof(err)) == 0 &&
		      !memcmp(&st, &back, sizeof(st)),
		      "and reads back (%s)", err);
	}
	buf_free(&b);
	buf_init(&b, 100);
	CHECK(ctlproto_status_format(&st, &b) < 0 && b.len == 0,
	      "a buffer too small: refused, left empty");
	buf_free(&b);
	buf_init(&b, 100);
	snprintf(line, sizeof(line), "version=1\npid=1\nserial=1\n"
		 "last_refusal_file=%0*d\n", CTLPROTO_NAME_MAX + 1, 0);
	rc = ctlproto_status_parse(line, strlen(line), &st, err, sizeof(err));
	CHECK(rc < 0 && strstr(err, "last_refusal_file: longer than 255"),
	      "a name of %d bytes refused: %s", CTLPROTO_NAME_MAX + 1, err);
	buf_free(&b);
}

int main(void)
{
	test_round_trip();
	test_hostile();
	test_limits();
	return check_done();
}
