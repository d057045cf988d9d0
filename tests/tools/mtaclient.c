/*
 * mtaclient.c - lookups as Postfix's smtpd processes make them, for tests
 * that check what a mail administrator sees while catalogd is attacked.
 *
 *   mtaclient -s SOCKET -k KEYFILE [-m MAP] [-P] [-c CLIENTS]
 *             [-d SECONDS] [-z MS] [-t SECONDS]
 *
 * Each of CLIENTS threads is one smtpd process with one kept-open
 * connection, used the way Postfix's socketmap client (or, with -P, its
 * policy client) uses it: one request at a time; the connection is
 * closed after 10 s idle or 100 s in all (policy: 300 s and 1000 s) and
 * opened again for the next request; when a request meets a closed
 * connection (a failed write, or end of file or a reset before the
 * reply) the client reconnects and sends it once more.  A request fails
 * - Postfix would defer the mail with 451 4.3.0 - when that second try
 * fails too, when the connection cannot be made, or when no reply comes
 * within -t SECONDS (default 10; Postfix itself waits 100).  Between
 * requests each client pauses a random 0 to 2 x MS milliseconds (-z,
 * default 20).
 *
 * KEYFILE: one key a line, optionally followed by OK or NOTFOUND, the
 * expected answer.  Socketmap (default): the netstring "MAP KEY" (MAP
 * default recipients); a reply other than OK or NOTFOUND is an error.
 * Policy (-P): an RCPT-stage request with recipient=KEY; OK expects
 * action=DUNNO, NOTFOUND a 5xx action.  Latency runs from just before the
 * first write of a request to its reply, reconnection included.
 * Output: "RESULT requests=N ok=N failed=N timeouts=N wrong=N retried=N
 * connects=N p50_us=X p99_us=X max_us=X".  Exit 0 when every request got
 * its expected answer, 1 otherwise, 2 on bad usage.  Limits: MTACLIENT_*.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "netstring.h"
#include "util.h"

#define MTACLIENT_CLIENTS_MAX   512
#define MTACLIENT_KEYS_MAX      1000000
#define MTACLIENT_KEYFILE_MAX   (64 * 1024 * 1024)
#define MTACLIENT_KEY_MAX       512
#define MTACLIENT_REPLY_MAX     100000	/* Postfix's own reply cap */
#define MTACLIENT_REQUEST_MAX   2048
#define MTACLIENT_SAMPLES_MAX   (4 * 1024 * 1024)	/* per client */
#define MTACLIENT_SECONDS_MAX   86400
/* Postfix's socketmap client (dict_socketmap) and policy client
 * (smtpd_policy_service_max_idle, _max_ttl) defaults. */
#define MTACLIENT_MAP_IDLE      10
#define MTACLIENT_MAP_TTL       100
#define MTACLIENT_POLICY_IDLE   300
#define MTACLIENT_POLICY_TTL    1000

struct mtaclient_key {
	char *key;
	int expect;		/* 1 OK, 0 NOTFOUND, -1 either */
};

struct mtaclient {
	pthread_t tid;
	unsigned seed;
	int fd;
	double opened, used;
	size_t next;
	uint64_t requests, ok, failed, timeouts, wrong, retried, connects;
	uint32_t *lat_us;
	size_t nlat;
};

static struct mtaclient_key *mtaclient_keys;
static size_t mtaclient_nkeys;
static struct sockaddr_un mtaclient_addr;
static const char *mtaclient_map = "recipients";
static int mtaclient_policy;
static double mtaclient_timeout = 10, mtaclient_end;
static int mtaclient_think_ms = 20;

static double mtaclient_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void mtaclient_usage(void)
{
	fprintf(stderr, "usage: mtaclient -s SOCKET -k KEYFILE [-m MAP] [-P] "
		"[-c CLIENTS] [-d SECONDS] [-z MS] [-t SECONDS]\n");
	exit(2);
}

static void mtaclient_load(const char *path)
{
	char err[512], *text, *p, *line;
	size_t len;

	text = util_read_file(path, MTACLIENT_KEYFILE_MAX, &len, err,
			      sizeof(err));
	if (!text) {
		fprintf(stderr, "mtaclient: %s\n", err);
		exit(2);
	}
	mtaclient_keys = xcalloc(MTACLIENT_KEYS_MAX, sizeof(*mtaclient_keys));
	for (line = strtok_r(text, "\n", &p); line;
	     line = strtok_r(NULL, "\n", &p)) {
		char *k = strtok(line, " \t"), *e = strtok(NULL, " \t");

		if (!k || *k == '#')
			continue;
		if (strlen(k) > MTACLIENT_KEY_MAX ||
		    mtaclient_nkeys == MTACLIENT_KEYS_MAX) {
			fprintf(stderr, "mtaclient: %s: key too long or more "
				"than %d keys\n", path, MTACLIENT_KEYS_MAX);
			exit(2);
		}
		mtaclient_keys[mtaclient_nkeys].key = xstrdup(k);
		mtaclient_keys[mtaclient_nkeys].expect =
			!e ? -1 : !strcmp(e, "OK") ? 1 :
			!strcmp(e, "NOTFOUND") ? 0 : -1;
		mtaclient_nkeys++;
	}
	free(text);
	if (!mtaclient_nkeys) {
		fprintf(stderr, "mtaclient: %s: no keys\n", path);
		exit(2);
	}
}

static void mtaclient_disconnect(struct mtaclient *m)
{
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
}

static int mtaclient_connect(struct mtaclient *m)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&mtaclient_addr,
		    sizeof(mtaclient_addr)) < 0) {
		close(fd);
		return -1;
	}
	m->fd = fd;
	m->opened = mtaclient_now();
	m->connects++;
	return 0;
}

/* The request for key k into out; its length. */
static size_t mtaclient_request(const char *k, char *out, size_t size)
{
	int n;

	if (mtaclient_policy) {
		n = snprintf(out, size, "request=smtpd_access_policy\n"
			     "protocol_state=RCPT\nprotocol_name=ESMTP\n"
			     "client_address=192.0.2.10\n"
			     "client_name=mx.example.net\n"
			     "helo_name=mx.example.net\n"
			     "sender=someone@example.net\nrecipient=%s\n"
			     "recipient_count=0\nsasl_username=\n\n", k);
		return n > 0 && (size_t)n < size ? (size_t)n : 0;
	}
	{
		/* "MAP KEY": the map, a space, the key. */
		char both[MTACLIENT_KEY_MAX + 128];

		n = snprintf(both, sizeof(both), "%s %s", mtaclient_map, k);
		return n > 0 && (size_t)n < sizeof(both) ?
		       netstring_format(out, size, both, (size_t)n) : 0;
	}
}

/* Wait for a complete reply in in[]; 1 complete (*used, *data, *dlen
 * set), 0 closed or reset, -1 timed out or malformed. */
static int mtaclient_reply(struct mtaclient *m, char *in, size_t *inlen,
			   double deadline, const char **data, size_t *dlen)
{
	for (;;) {
		struct pollfd p = { .fd = m->fd, .events = POLLIN };
		double left = deadline - mtaclient_now();
		ssize_t n;

		if (mtaclient_policy) {
			char *end = *inlen ? memmem(in, *inlen, "\n\n", 2)
					   : NULL;

			if (end) {
				*data = in;
				*dlen = (size_t)(end - in);
				return 1;
			}
		} else if (*inlen) {
			const char *why;
			size_t used;
			int r = netstring_parse(in, *inlen,
						MTACLIENT_REPLY_MAX, data,
						dlen, &used, &why);

			if (r == NETSTRING_DONE)
				return 1;
			if (r == NETSTRING_ERROR)
				return -1;
		}
		if (left <= 0)
			return -1;
		if (poll(&p, 1, (int)(left * 1000) + 1) <= 0)
			continue;
		n = read(m->fd, in + *inlen,
			 MTACLIENT_REPLY_MAX + NETSTRING_OVERHEAD - *inlen);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		*inlen += (size_t)n;
		if (*inlen == MTACLIENT_REPLY_MAX + NETSTRING_OVERHEAD)
			return -1;
	}
}

/* 1 OK, 0 NOTFOUND, -1 anything else. */
static int mtaclient_verdict(const char *data, size_t dlen)
{
	if (mtaclient_policy) {
		if (dlen >= 13 && !memcmp(data, "action=DUNNO", 12) &&
		    data[12] == '\n')
			return 1;
		if (dlen == 12 && !memcmp(data, "action=DUNNO", 12))
			return 1;
		if (dlen > 8 && !memcmp(data, "action=5", 8))
			return 0;
		return -1;
	}
	if (dlen >= 2 && !memcmp(data, "OK", 2) && (dlen == 2 ||
						    data[2] == ' '))
		return 1;
	if (dlen >= 8 && !memcmp(data, "NOTFOUND", 8) &&
	    (dlen == 8 || data[8] == ' '))
		return 0;
	return -1;
}

/* One lookup, as Postfix makes it. */
static void mtaclient_one(struct mtaclient *m, char *in)
{
	const struct mtaclient_key *k = &mtaclient_keys[m->next];
	char req[MTACLIENT_REQUEST_MAX];
	double t0, idle = mtaclient_policy ? MTACLIENT_POLICY_IDLE
					   : MTACLIENT_MAP_IDLE,
		   ttl = mtaclient_policy ? MTACLIENT_POLICY_TTL
					  : MTACLIENT_MAP_TTL;
	size_t rlen, inlen;
	int attempt;

	m->next = (m->next + 1) % mtaclient_nkeys;
	rlen = mtaclient_request(k->key, req, sizeof(req));
	if (!rlen) {
		fprintf(stderr, "mtaclient: request too long\n");
		exit(2);
	}
	t0 = mtaclient_now();
	m->requests++;
	if (m->fd >= 0 && (t0 - m->used >= idle || t0 - m->opened >= ttl))
		mtaclient_disconnect(m);
	for (attempt = 0; attempt < 2; attempt++) {
		const char *data;
		size_t dlen, off = 0;
		int r, v;

		if (attempt)
			m->retried++;
		if (m->fd < 0 && mtaclient_connect(m) < 0)
			break;
		while (off < rlen) {
			ssize_t w = send(m->fd, req + off, rlen - off,
					 MSG_NOSIGNAL);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				break;
			off += (size_t)w;
		}
		if (off < rlen) {
			mtaclient_disconnect(m);
			continue;	/* the server had closed: once more */
		}
		inlen = 0;
		r = mtaclient_reply(m, in, &inlen, t0 + mtaclient_timeout,
				    &data, &dlen);
		if (r == 0) {
			mtaclient_disconnect(m);
			continue;
		}
		if (r < 0) {
			m->timeouts++;
			mtaclient_disconnect(m);
			break;
		}
		m->used = mtaclient_now();
		v = mtaclient_verdict(data, dlen);
		if (v < 0)
			break;
		m->ok++;
		if (k->expect >= 0 && v != k->expect)
			m->wrong++;
		if (m->nlat < MTACLIENT_SAMPLES_MAX) {
			double us = (m->used - t0) * 1e6;

			m->lat_us[m->nlat++] = us > 4e9 ? 4000000000U
							: (uint32_t)us;
		}
		return;
	}
	m->failed++;
	mtaclient_disconnect(m);
}

static void *mtaclient_run(void *arg)
{
	struct mtaclient *m = arg;
	char *in = xmalloc(MTACLIENT_REPLY_MAX + NETSTRING_OVERHEAD);

	while (mtaclient_now() < mtaclient_end) {
		mtaclient_one(m, in);
		if (mtaclient_think_ms) {
			long ms = rand_r(&m->seed) % (2 * mtaclient_think_ms + 1);
			struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

			nanosleep(&ts, NULL);
		}
	}
	mtaclient_disconnect(m);
	free(in);
	return NULL;
}

static int mtaclient_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	const char *path = NULL, *keyfile = NULL;
	int64_t clients = 8, v;
	double seconds = 10;
	struct mtaclient *m, tot;
	uint32_t *all;
	size_t i, n = 0;
	int opt;

	while ((opt = getopt(argc, argv, "s:k:m:Pc:d:z:t:")) != -1) {
		switch (opt) {
		case 's':
			path = optarg;
			break;
		case 'k':
			keyfile = optarg;
			break;
		case 'm':
			mtaclient_map = optarg;
			break;
		case 'P':
			mtaclient_policy = 1;
			break;
		case 'c':
			if (util_parse_int(optarg, 1, MTACLIENT_CLIENTS_MAX,
					   &clients) < 0)
				mtaclient_usage();
			break;
		case 'd':
			if (util_parse_int(optarg, 1, MTACLIENT_SECONDS_MAX,
					   &v) < 0)
				mtaclient_usage();
			seconds = (double)v;
			break;
		case 'z':
			if (util_parse_int(optarg, 0, 60000, &v) < 0)
				mtaclient_usage();
			mtaclient_think_ms = (int)v;
			break;
		case 't':
			if (util_parse_int(optarg, 1, 3600, &v) < 0)
				mtaclient_usage();
			mtaclient_timeout = (double)v;
			break;
		default:
			mtaclient_usage();
		}
	}
	if (!path || !keyfile || optind != argc)
		mtaclient_usage();
	memset(&mtaclient_addr, 0, sizeof(mtaclient_addr));
	mtaclient_addr.sun_family = AF_UNIX;
	if (util_strlcpy(mtaclient_addr.sun_path, path,
			 sizeof(mtaclient_addr.sun_path)) >=
	    sizeof(mtaclient_addr.sun_path))
		mtaclient_usage();
	signal(SIGPIPE, SIG_IGN);
	mtaclient_load(keyfile);
	m = xcalloc((size_t)clients, sizeof(*m));
	mtaclient_end = mtaclient_now() + seconds;
	for (i = 0; i < (size_t)clients; i++) {
		m[i].fd = -1;
		m[i].seed = (unsigned)(i * 7919 + 1);
		m[i].next = i * mtaclient_nkeys / (size_t)clients;
		m[i].lat_us = xmalloc(MTACLIENT_SAMPLES_MAX * sizeof(uint32_t));
		if (pthread_create(&m[i].tid, NULL, mtaclient_run, &m[i])) {
			fprintf(stderr, "mtaclient: pthread_create failed\n");
			return 2;
		}
	}
	memset(&tot, 0, sizeof(tot));
	for (i = 0; i < (size_t)clients; i++) {
		pthread_join(m[i].tid, NULL);
		tot.requests += m[i].requests;
		tot.ok += m[i].ok;
		tot.failed += m[i].failed;
		tot.timeouts += m[i].timeouts;
		tot.wrong += m[i].wrong;
		tot.retried += m[i].retried;
		tot.connects += m[i].connects;
		n += m[i].nlat;
	}
	all = xmalloc((n ? n : 1) * sizeof(uint32_t));
	for (i = 0, n = 0; i < (size_t)clients; i++) {
		memcpy(all + n, m[i].lat_us, m[i].nlat * sizeof(uint32_t));
		n += m[i].nlat;
		free(m[i].lat_us);
	}
	qsort(all, n, sizeof(uint32_t), mtaclient_cmp);
	printf("RESULT requests=%llu ok=%llu failed=%llu timeouts=%llu "
	       "wrong=%llu retried=%llu connects=%llu p50_us=%u p99_us=%u "
	       "max_us=%u\n", (unsigned long long)tot.requests,
	       (unsigned long long)tot.ok, (unsigned long long)tot.failed,
	       (unsigned long long)tot.timeouts, (unsigned long long)tot.wrong,
	       (unsigned long long)tot.retried,
	       (unsigned long long)tot.connects, n ? all[n / 2] : 0,
	       n ? all[n * 99 / 100] : 0, n ? all[n - 1] : 0);
	free(all);
	free(m);
	for (i = 0; i < mtaclient_nkeys; i++)
		free(mtaclient_keys[i].key);
	free(mtaclient_keys);
	return tot.failed || tot.wrong || tot.ok != tot.requests || !tot.ok;
}
