/*
 * lookpoll.c - wait until a lookup gives the answer a benchmark waits for,
 * asking every millisecond over one kept connection, as Postfix's
 * long-running processes (smtpd, proxymap) do; print the Unix time (with
 * microseconds) of the first query that got it.
 *
 *   lookpoll socketmap PATH MAPNAME ADDRESS found|gone [SECONDS]
 *   lookpoll ldap URI BASE ADDRESS found|gone [SECONDS]
 *
 * socketmap: catalogd's map socket ("MAPNAME ADDRESS" -> "OK ..." or
 * "NOTFOUND "); ldap: a subtree search for (mail=ADDRESS) under BASE,
 * bound anonymously.  A connection that closes is opened again.  Exit 0
 * with the time on stdout; 1 after SECONDS (default 30) without the
 * answer (the time printed then is when it gave up); 2 on a usage or
 * protocol error.  Start it before the change is made: it prints "ready"
 * on stderr once the first answer (the old one) is in.
 */
#define LDAP_DEPRECATED 0
#include <errno.h>
#include <ldap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "netstring.h"

#define LOOKPOLL_REPLY_MAX 4096		/* bytes of a socketmap reply */
#define LOOKPOLL_ADDR_MAX  512		/* bytes of the address */

static double lookpoll_wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double lookpoll_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---------------------------------------------------------- socketmap */

static int sm_fd = -1;

static int sm_connect(const char *path)
{
	struct sockaddr_un sa;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, path, strlen(path));
	sm_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sm_fd < 0)
		return -1;
	if (connect(sm_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(sm_fd);
		sm_fd = -1;
		return -1;
	}
	return 0;
}

/* 1 found, 0 not found, -1 no answer (connection lost: try again),
 * -2 a reply that makes no sense. */
static int sm_query(const char *path, const char *map, const char *addr)
{
	char req[LOOKPOLL_ADDR_MAX * 2 + 32], rep[LOOKPOLL_REPLY_MAX];
	char q[LOOKPOLL_ADDR_MAX * 2 + 16];
	const char *data, *why;
	size_t dlen, used, have = 0, len;
	int n;

	if (sm_fd < 0 && sm_connect(path) < 0)
		return -1;
	n = snprintf(q, sizeof(q), "%s %s", map, addr);
	if (n < 0 || (size_t)n >= sizeof(q))
		return -2;
	len = netstring_format(req, sizeof(req), q, (size_t)n);
	if (!len || write(sm_fd, req, len) != (ssize_t)len)
		goto lost;
	for (;;) {
		ssize_t r = read(sm_fd, rep + have, sizeof(rep) - have);

		if (r <= 0)
			goto lost;
		have += (size_t)r;
		switch (netstring_parse(rep, have, sizeof(rep) - NETSTRING_OVERHEAD,
					&data, &dlen, &used, &why)) {
		case NETSTRING_MORE:
			if (have == sizeof(rep))
				return -2;
			continue;
		case NETSTRING_ERROR:
			fprintf(stderr, "lookpoll: socketmap reply: %s\n", why);
			return -2;
		default:
			break;
		}
		if (dlen >= 3 && !memcmp(data, "OK ", 3))
			return 1;
		if (dlen >= 8 && !memcmp(data, "NOTFOUND", 8))
			return 0;
		/* TEMP while a catalog is being opened: not an answer yet. */
		if (dlen >= 4 && !memcmp(data, "TEMP", 4))
			return -1;
		fprintf(stderr, "lookpoll: socketmap reply: %.*s\n",
			(int)(dlen > 200 ? 200 : dlen), data);
		return -2;
	}
lost:
	close(sm_fd);
	sm_fd = -1;
	return -1;
}

/* --------------------------------------------------------------- ldap */

static LDAP *ld;

static int ldap_query(const char *uri, const char *base, const char *addr)
{
	char filter[LOOKPOLL_ADDR_MAX * 3 + 16];
	char *attrs[] = { "mail", NULL };
	struct berval v, esc;
	LDAPMessage *res = NULL;
	int rc, n, ver = LDAP_VERSION3;

	if (!ld) {
		if (ldap_initialize(&ld, uri) != LDAP_SUCCESS)
			return -1;
		ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &ver);
	}
	v.bv_val = (char *)addr;
	v.bv_len = strlen(addr);
	if (ldap_bv2escaped_filter_value(&v, &esc) != 0)
		return -2;
	n = snprintf(filter, sizeof(filter), "(mail=%s)", esc.bv_val);
	ber_memfree(esc.bv_val);
	if (n < 0 || (size_t)n >= sizeof(filter))
		return -2;
	rc = ldap_search_ext_s(ld, base, LDAP_SCOPE_SUBTREE, filter, attrs, 1,
			       NULL, NULL, NULL, 0, &res);
	if (rc != LDAP_SUCCESS) {
		if (res)
			ldap_msgfree(res);
		ldap_unbind_ext_s(ld, NULL, NULL);
		ld = NULL;
		return rc == LDAP_NO_SUCH_OBJECT ? 0 : -1;
	}
	n = ldap_count_entries(ld, res);
	ldap_msgfree(res);
	return n > 0;
}

int main(int argc, char **argv)
{
	int ldap, want, got, ready = 0;
	double limit = 30, end;
	struct timespec ms = { 0, 1000000 };

	if (argc < 6 || argc > 7 ||
	    (strcmp(argv[1], "socketmap") && strcmp(argv[1], "ldap")) ||
	    (strcmp(argv[5], "found") && strcmp(argv[5], "gone")) ||
	    strlen(argv[4]) > LOOKPOLL_ADDR_MAX) {
		fprintf(stderr, "usage: lookpoll socketmap PATH MAPNAME ADDRESS "
			"found|gone [SECONDS]\n"
			"       lookpoll ldap URI BASE ADDRESS found|gone "
			"[SECONDS]\n");
		return 2;
	}
	ldap = !strcmp(argv[1], "ldap");
	want = !strcmp(argv[5], "found");
	if (argc == 7)
		limit = atof(argv[6]);
	end = lookpoll_mono() + limit;
	for (;;) {
		got = ldap ? ldap_query(argv[2], argv[3], argv[4])
			   : sm_query(argv[2], argv[3], argv[4]);
		if (got == -2)
			return 2;
		if (got >= 0 && !ready) {
			fprintf(stderr, "ready\n");
			ready = 1;
		}
		if (got == want) {
			printf("%.6f\n", lookpoll_wall());
			return 0;
		}
		if (lookpoll_mono() > end) {
			printf("%.6f\n", lookpoll_wall());
			return 1;
		}
		nanosleep(&ms, NULL);
	}
}
