/*
 * test_syncinfo.c - RFC 4533 values as a server sends them, decoded by
 * aggregator/syncinfo.c: each kind, each limit at N and N + 1, and the
 * malformed ones refused.  With --seeds DIR it also writes the valid
 * encodings into DIR (the fuzz target's seed corpus).
 */
#include <lber.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "syncinfo.h"

static const char *seeds;
static int nseed;

/* Keep a copy of an encoding as a seed. */
static void seed(const struct berval *bv)
{
	char path[4096];
	FILE *f;

	if (!seeds)
		return;
	snprintf(path, sizeof(path), "%s/seed-%02d", seeds, nseed++);
	f = fopen(path, "wb");
	if (f) {
		fwrite(bv->bv_val, 1, bv->bv_len, f);
		fclose(f);
	}
}

/* A Sync State value: state, a uuid of ulen bytes, a cookie of clen
 * bytes (clen < 0: none). */
static struct berval *state_value(int state, size_t ulen, long clen)
{
	BerElement *ber = ber_alloc_t(LBER_USE_DER);
	struct berval u, c, *out = NULL;
	char *ub = malloc(ulen + 1), *cb = malloc(clen > 0 ? (size_t)clen : 1);

	memset(ub, 'u', ulen);
	memset(cb, 'c', clen > 0 ? (size_t)clen : 1);
	u.bv_val = ub;
	u.bv_len = ulen;
	c.bv_val = cb;
	c.bv_len = clen > 0 ? (size_t)clen : 0;
	if (clen >= 0)
		ber_printf(ber, "{eOO}", (ber_int_t)state, &u, &c);
	else
		ber_printf(ber, "{eO}", (ber_int_t)state, &u);
	ber_flatten(ber, &out);
	ber_free(ber, 1);
	free(ub);
	free(cb);
	return out;
}

static int parse_state(const struct berval *bv, struct syncinfo_state_ctl *st)
{
	return syncinfo_parse_state(bv->bv_val, bv->bv_len, st);
}

static void test_state(void)
{
	struct syncinfo_state_ctl *st = malloc(sizeof(*st));
	struct berval *bv;

	bv = state_value(SYNCINFO_ADD, 16, 20);
	seed(bv);
	CHECK(parse_state(bv, st) == 0 && st->state == SYNCINFO_ADD &&
	      st->uuidlen == 16 && st->has_cookie && st->cookielen == 20,
	      "state add with uuid and cookie");
	ber_bvfree(bv);
	bv = state_value(SYNCINFO_DELETE, 16, -1);
	seed(bv);
	CHECK(parse_state(bv, st) == 0 && st->state == SYNCINFO_DELETE &&
	      !st->has_cookie, "state delete without a cookie");
	ber_bvfree(bv);
	bv = state_value(4, 16, -1);
	CHECK(parse_state(bv, st) < 0, "state 4 is refused");
	ber_bvfree(bv);
	bv = state_value(SYNCINFO_PRESENT, SYNCINFO_UUID_MAX, -1);
	CHECK(parse_state(bv, st) == 0, "uuid of SYNCINFO_UUID_MAX bytes");
	ber_bvfree(bv);
	bv = state_value(SYNCINFO_PRESENT, SYNCINFO_UUID_MAX + 1, -1);
	CHECK(parse_state(bv, st) < 0, "uuid of SYNCINFO_UUID_MAX + 1 refused");
	ber_bvfree(bv);
	bv = state_value(SYNCINFO_PRESENT, 0, -1);
	CHECK(parse_state(bv, st) < 0, "empty uuid refused");
	ber_bvfree(bv);
	bv = state_value(SYNCINFO_MODIFY, 16, SYNCINFO_COOKIE_MAX);
	CHECK(parse_state(bv, st) == 0 && st->cookielen == SYNCINFO_COOKIE_MAX,
	      "cookie of SYNCINFO_COOKIE_MAX bytes");
	ber_bvfree(bv);
	bv = state_value(SYNCINFO_MODIFY, 16, SYNCINFO_COOKIE_MAX + 1);
	CHECK(parse_state(bv, st) < 0, "cookie of SYNCINFO_COOKIE_MAX + 1 "
	      "refused");
	ber_bvfree(bv);
	bv = state_value(SYNCINFO_ADD, 16, 8);
	bv->bv_len--;
	CHECK(parse_state(bv, st) < 0, "a truncated value is refused");
	ber_bvfree(bv);
	CHECK(syncinfo_parse_state("", 0, st) < 0, "an empty value is refused");
	free(st);
}

/* A Sync Info value of kind tag with a body built by fmt. */
static struct berval *info_flat(BerElement *ber)
{
	struct berval *out = NULL;

	ber_flatten(ber, &out);
	ber_free(ber, 1);
	return out;
}

static struct berval *info_idset(size_t n, size_t ulen, int deletes,
				 int mixed)
{
	BerElement *ber = ber_alloc_t(LBER_USE_DER);
	char u[128];
	struct berval bv = { 0, u };
	size_t i;

	memset(u, 'x', sizeof(u));
	ber_printf(ber, "t{", (ber_tag_t)0xa3U);
	if (deletes)
		ber_printf(ber, "b", (ber_int_t)1);
	ber_printf(ber, "[");
	for (i = 0; i < n; i++) {
		bv.bv_len = mixed && i == n - 1 ? ulen + 1 : ulen;
		u[0] = (char)i;
		ber_printf(ber, "O", &bv);
	}
	ber_printf(ber, "]}");
	return info_flat(ber);
}

static void test_info(void)
{
	struct syncinfo_msg *m = calloc(1, sizeof(*m));
	struct berval c = { 5, (char *)"rid=1" }, *bv;
	BerElement *ber;

	ber = ber_alloc_t(LBER_USE_DER);
	ber_printf(ber, "tO", (ber_tag_t)0x80U, &c);
	bv = info_flat(ber);
	seed(bv);
	CHECK(syncinfo_parse_info(bv->bv_val, bv->bv_len, m) == 0 &&
	      m->type == SYNCINFO_NEW_COOKIE && m->cookielen == 5,
	      "newcookie");
	syncinfo_msg_free(m);
	ber_bvfree(bv);

	ber = ber_alloc_t(LBER_USE_DER);
	ber_printf(ber, "t{Ob}", (ber_tag_t)0xa2U, &c, (ber_int_t)0);
	bv = info_flat(ber);
	seed(bv);
	CHECK(syncinfo_parse_info(bv->bv_val, bv->bv_len, m) == 0 &&
	      m->type == SYNCINFO_REFRESH_PRESENT && !m->refresh_done &&
	      m->has_cookie, "refreshPresent, refreshDone FALSE");
	syncinfo_msg_free(m);
	ber_bvfree(bv);

	ber = ber_alloc_t(LBER_USE_DER);
	ber_printf(ber, "t{}", (ber_tag_t)0xa1U);
	bv = info_flat(ber);
	seed(bv);
	CHECK(syncinfo_parse_info(bv->bv_val, bv->bv_len, m) == 0 &&
	      m->type == SYNCINFO_REFRESH_DELETE && m->refresh_done,
	      "refreshDelete: refreshDone defaults to TRUE");
	syncinfo_msg_free(m);
	ber_bvfree(bv);

	bv = info_idset(3, 16, 1, 0);
	seed(bv);
	CHECK(syncinfo_parse_info(bv->bv_val, bv->bv_len, m) == 0 &&
	      m->type == SYNCINFO_ID_SET && m->refresh_deletes &&
	      m->nuuids == 3 && m->uuidlen == 16, "syncIdSet of 3 deletes");
	syncinfo_msg_free(m);
	ber_bvfree(bv);
	bv = info_idset(200, 16, 0, 0);
	CHECK(syncinfo_parse_info(bv->bv_val, bv->bv_len, m) == 0 &&
	      m->nuuids == 200 && !m->refresh_deletes &&
	      m->uuids[199 * 16] == 199, "syncIdSet of 200 presents");
	syncinfo_msg_free(m);
	ber_bvfree(bv);
	bv = info_idset(3, 16, 0, 1);
	CHECK(syncinfo_parse_info(bv->bv_val, bv->bv_len, m) < 0,
	      "UUIDs of two lengths in one set refused");
	ber_bvfree(bv);
	bv = info_idset(2, SYNCINFO_UUID_MAX + 1, 0, 0);
	CHECK(syncinfo_parse_info(bv->bv_val, bv->bv_len, m) < 0,
	      "a UUID of SYNCINFO_UUID_MAX + 1 bytes refused");
	ber_bvfree(bv);
	CHECK(syncinfo_parse_info("\x85\x01x", 3, m) < 0,
	      "an unknown choice is refused");
	CHECK(syncinfo_parse_info("\x80\x05rid", 5, m) < 0,
	      "a length past the end is refused");
	free(m);
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--seeds"))
		seeds = argv[2];
	test_state();
	test_info();
	return check_done();
}
