/*
 * loadgen.c - a load generator for socketmap servers over a Unix socket:
 * many connections, each synchronous (as Postfix's smtpd processes are)
 * or pipelining, for a bounded time or number of requests.
 *
 *   loadgen -s SOCKET -k KEYFILE [-m MAP] [-c CLIENTS] [-p DEPTH]
 *           [-T THREADS] [-d SECONDS] [-n COUNT] [-w SECONDS]
 *           [-r PID] [-i SECONDS] [-q]
 *
 * KEYFILE: one key a line, optionally followed by white space and the
 * expected answer, OK or NOTFOUND.  Each request is the netstring
 * "MAP KEY" (MAP "-": the bare key).  Every connection keeps DEPTH
 * requests in flight (1: send, wait for the reply, send the next); the
 * connections are shared among THREADS threads, each with one epoll
 * loop.  A reply is counted as found (OK...), not found (NOTFOUND...) or
 * an error (anything else: TEMP, PERM, a malformed netstring, a reply
 * nobody asked for, a request lost with its connection or unanswered
 * when the run ends); one that contradicts the expected answer is
 * counted as wrong.  The latency of a request runs from just before its
 * write to just after the read that brought its reply.
 *   -d SECONDS   run time after the warm-up (default 10)
 *   -n COUNT     stop after sending COUNT requests (warm-up included)
 *   -w SECONDS   warm-up, not counted (default 0)
 *   -r PID       sample that process's memory (VmRSS, and RssAnon: heap
 *                and stacks without file mappings) at start, after the
 *                warm-up, each interval and at the end
 *   -i SECONDS   print throughput and worst latency per interval, with
 *                the wall-clock time (at=, Unix seconds) the interval ended
 * Output: a readable summary, then one line "RESULT name=value ..." for
 * scripts.  Exit 0 when every request got a valid and expected answer,
 * 1 otherwise, 2 on bad usage or setup.  Limits: LOADGEN_* below.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include "log.h"
#include "toolflush.h"
#include "netstring.h"
#include "util.h"

#define LOADGEN_CLIENTS_MAX   4096	/* connections */
#define LOADGEN_DEPTH_MAX     1024	/* requests in flight per connection */
#define LOADGEN_THREADS_MAX   64
#define LOADGEN_KEYS_MAX      50000000	/* lines in KEYFILE */
#define LOADGEN_KEYFILE_MAX   (4ULL << 30)	/* KEYFILE bytes */
#define LOADGEN_KEY_MAX       1024	/* request data bytes */
#define LOADGEN_REPLY_MAX     100000	/* Postfix's own reply cap */
#define LOADGEN_READ_CHUNK    65536
#define LOADGEN_SECONDS_MAX   86400	/* -d, -w, -i */
#define LOADGEN_DRAIN_SECONDS 5	/* wait for late replies at the end */
#define LOADGEN_TICK_MS       50	/* epoll timeout: checks the phase */
#define LOADGEN_RETRY_MS      100	/* reconnect pause after a failure */
#define LOADGEN_EVENTS        256

/* Latency histogram: exact below 128 ns, then 64 buckets per power of
 * two (under 1.6% error), up to 2^63 ns. */
#define LOADGEN_HIST_EXACT 128
#define LOADGEN_HIST_SUB   64
#define LOADGEN_HIST_N     (LOADGEN_HIST_EXACT + 57 * LOADGEN_HIST_SUB)

enum loadgen_phase {
	LOADGEN_WARMUP = 0,
	LOADGEN_MEASURE = 1,
	LOADGEN_STOP = 2,	/* send nothing more, collect replies */
	LOADGEN_ABORT = 3	/* give up on replies still missing */
};

struct loadgen_conn {
	int fd;			/* -1: down, retry at retry_at */
	uint64_t retry_at;
	size_t next_key;
	unsigned inflight, head;	/* ring of sent requests */
	uint64_t *sent_ns;
	size_t *sent_key;
	char *in;
	size_t inlen;
	char *out;
	size_t outlen, outoff, outcap;
	int want_out;
};

struct loadgen_stats {
	uint64_t done, found, notfound, errors, wrong, disconnects;
	uint64_t max_ns;
	uint64_t hist[LOADGEN_HIST_N];
};

struct loadgen_thread {
	pthread_t tid;
	int epfd;
	struct loadgen_conn *conns;
	size_t nconn;
	unsigned inflight;
	int measuring;
	struct loadgen_stats st;
	_Atomic uint64_t progress;	/* replies since start, warm-up too */
	uint64_t last_reply_ns;		/* when the last reply came */
	_Atomic uint64_t interval_max;	/* worst latency this interval */
};

/* The keys, as ready-made request netstrings. */
static char *loadgen_req;
static size_t *loadgen_reqoff;	/* nkeys + 1 offsets into loadgen_req */
static signed char *loadgen_expect;	/* 1 OK, 0 NOTFOUND, -1 any */
static size_t loadgen_nkeys;

static const char *loadgen_socket;
static unsigned loadgen_depth = 1;
static _Atomic int loadgen_phase;
static int loadgen_limited;
static _Atomic int64_t loadgen_budget;

static uint64_t loadgen_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static size_t loadgen_hist_index(uint64_t v)
{
	unsigned e;

	if (v < LOADGEN_HIST_EXACT)
		return (size_t)v;
	e = 63 - (unsigned)__builtin_clzll(v);	/* >= 7 */
	return LOADGEN_HIST_EXACT + (size_t)(e - 7) * LOADGEN_HIST_SUB +
	       (size_t)((v >> (e - 6)) - LOADGEN_HIST_SUB);
}

/* The middle of a bucket, in ns. */
static double loadgen_hist_value(size_t i)
{
	unsigned e;
	uint64_t lo, width;

	if (i < LOADGEN_HIST_EXACT)
		return (double)i;
	i -= LOADGEN_HIST_EXACT;
	e = (unsigned)(i / LOADGEN_HIST_SUB) + 7;
	width = 1ULL << (e - 6);
	lo = (LOADGEN_HIST_SUB + i % LOADGEN_HIST_SUB) * width;
	return (double)lo + (double)width / 2;
}

/* The q-quantile (0..1) of a histogram, in ns; 0 when empty. */
static double loadgen_quantile(const uint64_t *hist, uint64_t total, double q)
{
	uint64_t want = (uint64_t)(q * (double)total), seen = 0;
	size_t i;

	if (!total)
		return 0;
	if (want >= total)
		want = total - 1;
	for (i = 0; i < LOADGEN_HIST_N; i++) {
		seen += hist[i];
		if (seen > want)
			return loadgen_hist_value(i);
	}
	return 0;
}

/* Memory of a process: all resident pages, and the anonymous ones only
 * (heap and stacks, without the catalog's file mapping), in kB; -1 when
 * unknown. */
struct loadgen_mem {
	long rss, anon;
};

static struct loadgen_mem loadgen_sample(long pid)
{
	struct loadgen_mem m = { -1, -1 };
	char path[64], line[256];
	FILE *f;

	if (!pid)
		return m;
	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	f = fopen(path, "r");
	if (!f)
		return m;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "VmRSS:", 6) == 0)
			m.rss = strtol(line + 6, NULL, 10);
		else if (strncmp(line, "RssAnon:", 8) == 0)
			m.anon = strtol(line + 8, NULL, 10);
	}
	fclose(f);
	return m;
}

static void loadgen_mem_max(struct loadgen_mem *max, struct loadgen_mem m)
{
	if (m.rss > max->rss)
		max->rss = m.rss;
	if (m.anon > max->anon)
		max->anon = m.anon;
}

/* Read KEYFILE into request netstrings; exits on a bad file. */
static void loadgen_load_keys(const char *path, const char *map)
{
	char err[512], *text, *p, *end, *prefix;
	size_t len, cap, used = 0, plen,
	       maplen = strcmp(map, "-") ? strlen(map) : 0;

	if (maplen + 1 >= LOADGEN_KEY_MAX)
		log_fatal(2, "map name too long");
	prefix = xmalloc(maplen + 2);
	memcpy(prefix, map, maplen);
	prefix[maplen] = ' ';
	plen = maplen ? maplen + 1 : 0;
	text = util_read_file(path, LOADGEN_KEYFILE_MAX, &len, err,
			      sizeof(err));
	if (!text)
		log_fatal(2, "%s", err);
	cap = len + (len / 8 + 1024) * 16 + maplen * (len / 4 + 1);
	loadgen_req = xmalloc(cap);
	loadgen_reqoff = xmalloc(sizeof(size_t) * 1024);
	loadgen_expect = xmalloc(1024);
	loadgen_reqoff[0] = 0;
	for (p = text, end = text + len; p < end;) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *e = nl ? nl : end, *k = p, *ke, *x;
		size_t klen, w;
		signed char expect = -1;

		p = nl ? nl + 1 : end;
		while (k < e && (*k == ' ' || *k == '\t'))
			k++;
		ke = k;
		while (ke < e && *ke != ' ' && *ke != '\t' && *ke != '\r')
			ke++;
		if (ke == k || *k == '#')
			continue;
		x = ke;
		while (x < e && (*x == ' ' || *x == '\t'))
			x++;
		if (e - x >= 2 && strncmp(x, "OK", 2) == 0)
			expect = 1;
		else if (e - x >= 8 && strncmp(x, "NOTFOUND", 8) == 0)
			expect = 0;
		klen = (size_t)(ke - k);
		if (klen + maplen + 1 > LOADGEN_KEY_MAX)
			log_fatal(2, "%s: key too long at byte %zu", path,
				  (size_t)(k - text));
		if (loadgen_nkeys >= LOADGEN_KEYS_MAX)
			log_fatal(2, "%s: more than %d keys", path,
				  LOADGEN_KEYS_MAX);
		if (cap - used < klen + maplen + 1 + NETSTRING_OVERHEAD) {
			cap = 2 * cap + klen + maplen + NETSTRING_OVERHEAD;
			loadgen_req = xrealloc(loadgen_req, cap);
		}
		w = netstring_format2(loadgen_req + used, cap - used, prefix,
				      plen, k, klen);
		if (!w)
			log_panic("request buffer too small");
		used += w;
		loadgen_nkeys++;
		/* Grow the index arrays at powers of two past 1024. */
		if (loadgen_nkeys >= 1024 &&
		    (loadgen_nkeys & (loadgen_nkeys - 1)) == 0) {
			loadgen_reqoff = xrealloc(loadgen_reqoff,
				sizeof(size_t) * (2 * loadgen_nkeys + 1));
			loadgen_expect = xrealloc(loadgen_expect,
						  2 * loadgen_nkeys);
		}
		loadgen_expect[loadgen_nkeys - 1] = expect;
		loadgen_reqoff[loadgen_nkeys] = used;
	}
	free(text);
	free(prefix);
	if (!loadgen_nkeys)
		log_fatal(2, "%s: no keys", path);
}

static int loadgen_connect(void)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (util_strlcpy(sun.sun_path, loadgen_socket, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Close c, counting what it had in flight as lost, and (when broken,
 * not at the end of the run) as a disconnect; retry later. */
static void loadgen_drop(struct loadgen_thread *t, struct loadgen_conn *c,
			 int broken)
{
	if (c->fd >= 0) {
		epoll_ctl(t->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
		t->st.disconnects += broken != 0;
	}
	c->fd = -1;
	t->st.errors += c->inflight;
	t->inflight -= c->inflight;
	c->inflight = 0;
	c->head = 0;
	c->inlen = 0;
	c->outlen = c->outoff = 0;
	c->want_out = 0;
	c->retry_at = loadgen_now() + LOADGEN_RETRY_MS * 1000000ULL;
}

/* Write what is pending; -1 when the connection broke. */
static int loadgen_flush(struct loadgen_thread *t, struct loadgen_conn *c)
{
	return tool_flush(t->epfd, c->fd, c, c->out, &c->outoff, &c->outlen,
			  &c->want_out);
}

/* Top c up to DEPTH requests in flight, unless the run is ending. */
static int loadgen_fill(struct loadgen_thread *t, struct loadgen_conn *c)
{
	unsigned added = 0, i;
	uint64_t now;

	if (atomic_load_explicit(&loadgen_phase, memory_order_relaxed) >=
	    LOADGEN_STOP)
		return 0;
	while (c->inflight + added < loadgen_depth) {
		size_t k = c->next_key, rlen;
		unsigned slot;

		if (loadgen_limited &&
		    atomic_fetch_sub(&loadgen_budget, 1) <= 0)
			break;
		rlen = loadgen_reqoff[k + 1] - loadgen_reqoff[k];
		if (c->outcap - c->outlen < rlen) {
			c->outcap = 2 * (c->outlen + rlen);
			c->out = xrealloc(c->out, c->outcap);
		}
		memcpy(c->out + c->outlen, loadgen_req + loadgen_reqoff[k],
		       rlen);
		c->outlen += rlen;
		slot = (c->head + c->inflight + added) % loadgen_depth;
		c->sent_key[slot] = k;
		c->next_key = k + 1 == loadgen_nkeys ? 0 : k + 1;
		added++;
	}
	if (!added)
		return 0;
	now = loadgen_now();
	for (i = 0; i < added; i++)
		c->sent_ns[(c->head + c->inflight + i) % loadgen_depth] = now;
	c->inflight += added;
	t->inflight += added;
	return loadgen_flush(t, c);
}

/* Account one reply to the oldest request in flight. */
static void loadgen_count(struct loadgen_thread *t, struct loadgen_conn *c,
			  const char *data, size_t dlen, uint64_t now)
{
	uint64_t lat = now - c->sent_ns[c->head];
	signed char want = loadgen_expect[c->sent_key[c->head]];
	int got;

	c->head = (c->head + 1) % loadgen_depth;
	c->inflight--;
	t->inflight--;
	if (dlen >= 2 && memcmp(data, "OK", 2) == 0 &&
	    (dlen == 2 || data[2] == ' '))
		got = 1;
	else if (dlen >= 8 && memcmp(data, "NOTFOUND", 8) == 0 &&
		 (dlen == 8 || data[8] == ' '))
		got = 0;
	else
		got = -1;
	t->st.done++;
	if (got < 0)
		t->st.errors++;
	else if (got)
		t->st.found++;
	else
		t->st.notfound++;
	if (got >= 0 && want >= 0 && got != want)
		t->st.wrong++;
	t->st.hist[loadgen_hist_index(lat)]++;
	if (lat > t->st.max_ns)
		t->st.max_ns = lat;
	if (lat > atomic_load_explicit(&t->interval_max, memory_order_relaxed))
		atomic_store_explicit(&t->interval_max, lat,
				      memory_order_relaxed);
}

/* Read replies; -1 when the connection is to be dropped. */
static int loadgen_read(struct loadgen_thread *t, struct loadgen_conn *c)
{
	size_t off = 0, room = LOADGEN_REPLY_MAX + NETSTRING_OVERHEAD +
			      LOADGEN_READ_CHUNK - c->inlen;
	uint64_t now;
	ssize_t n;

	do
		n = read(c->fd, c->in + c->inlen, room);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return 0;
	if (n <= 0)
		return -1;
	now = loadgen_now();
	c->inlen += (size_t)n;
	for (;;) {
		const char *data, *why;
		size_t dlen, used;
		int r = netstring_parse(c->in + off, c->inlen - off,
					LOADGEN_REPLY_MAX, &data, &dlen, &used,
					&why);

		if (r == NETSTRING_MORE)
			break;
		if (r == NETSTRING_ERROR || c->inflight == 0) {
			t->st.errors++;	/* malformed, or nobody asked */
			return -1;
		}
		loadgen_count(t, c, data, dlen, now);
		off += used;
		atomic_fetch_add_explicit(&t->progress, 1,
					  memory_order_relaxed);
	}
	t->last_reply_ns = now;
	memmove(c->in, c->in + off, c->inlen - off);
	c->inlen -= off;
	return loadgen_fill(t, c);
}

/* (Re)open c's connection and prime it; -1 when that failed. */
static int loadgen_open(struct loadgen_thread *t, struct loadgen_conn *c)
{
	struct epoll_event ev;

	c->fd = loadgen_connect();
	if (c->fd < 0) {
		c->retry_at = loadgen_now() + LOADGEN_RETRY_MS * 1000000ULL;
		return -1;
	}
	ev.events = EPOLLIN;
	ev.data.ptr = c;
	if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0 ||
	    loadgen_fill(t, c) < 0) {
		loadgen_drop(t, c, 1);
		return -1;
	}
	return 0;
}

static void *loadgen_run(void *arg)
{
	struct loadgen_thread *t = arg;
	struct epoll_event ev[LOADGEN_EVENTS];
	size_t i;

	for (i = 0; i < t->nconn; i++)
		loadgen_open(t, &t->conns[i]);
	for (;;) {
		int phase = atomic_load(&loadgen_phase), n;
		uint64_t now;

		if (phase >= LOADGEN_MEASURE && !t->measuring) {
			/* The warm-up is over: start counting afresh. */
			memset(&t->st, 0, sizeof(t->st));
			t->measuring = 1;
		}
		if ((phase >= LOADGEN_STOP && t->inflight == 0) ||
		    phase == LOADGEN_ABORT)
			break;
		n = epoll_wait(t->epfd, ev, LOADGEN_EVENTS, LOADGEN_TICK_MS);
		for (i = 0; i < (size_t)(n > 0 ? n : 0); i++) {
			struct loadgen_conn *c = ev[i].data.ptr;

			if (c->fd < 0)
				continue;
			if (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
				if (loadgen_read(t, c) < 0)
					loadgen_drop(t, c, 1);
			} else if (ev[i].events & EPOLLOUT) {
				if (loadgen_flush(t, c) < 0)
					loadgen_drop(t, c, 1);
			}
		}
		if (phase >= LOADGEN_STOP)
			continue;
		now = loadgen_now();
		for (i = 0; i < t->nconn; i++)
			if (t->conns[i].fd < 0 && now >= t->conns[i].retry_at)
				loadgen_open(t, &t->conns[i]);
	}
	/* Whatever is still unanswered counts as an error. */
	for (i = 0; i < t->nconn; i++)
		if (t->conns[i].fd >= 0 || t->conns[i].inflight)
			loadgen_drop(t, &t->conns[i], 0);
	return NULL;
}

/* Release what main() built (the threads have been joined). */
static void loadgen_free(struct loadgen_thread *th, size_t threads)
{
	size_t i, k;

	for (i = 0; i < threads; i++) {
		for (k = 0; k < th[i].nconn; k++) {
			struct loadgen_conn *c = &th[i].conns[k];

			free(c->sent_ns);
			free(c->sent_key);
			free(c->in);
			free(c->out);
		}
		free(th[i].conns);
		close(th[i].epfd);
	}
	free(th);
	free(loadgen_req);
	free(loadgen_reqoff);
	free(loadgen_expect);
}

static void loadgen_usage(void)
{
	fprintf(stderr,
		"usage: loadgen -s SOCKET -k KEYFILE [-m MAP] [-c CLIENTS] "
		"[-p DEPTH] [-T THREADS]\n"
		"               [-d SECONDS] [-n COUNT] [-w SECONDS] "
		"[-r PID] [-i SECONDS] [-q]\n");
	exit(2);
}

static double loadgen_arg_seconds(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !(v >= 0) || v > LOADGEN_SECONDS_MAX)
		loadgen_usage();
	return v;
}

/* Sleep until the monotonic time `until` (ns) or a little less. */
static void loadgen_sleep_until(uint64_t until, uint64_t step_ns)
{
	uint64_t now = loadgen_now();
	struct timespec ts;

	if (now >= until)
		return;
	if (until - now < step_ns)
		step_ns = until - now;
	ts.tv_sec = (time_t)(step_ns / 1000000000ULL);
	ts.tv_nsec = (long)(step_ns % 1000000000ULL);
	nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
	const char *keyfile = NULL, *map = "recipients";
	double seconds = 10, warmup = 0, interval = 0;
	int64_t clients = 1, depth = 1, threads = 0, count = 0, v;
	long pid = 0;
	struct loadgen_mem m_start = { -1, -1 }, m_warm = { -1, -1 },
			   m_end = { -1, -1 }, m_max = { -1, -1 }, m;
	struct loadgen_thread *th;
	struct loadgen_stats tot;
	uint64_t t_start, t_measure, t_stop, t_end, next_iv, last_done = 0,
		 deadline;
	double elapsed, rate;
	size_t i, j, cpus;
	int c, quiet = 0;

	log_init("loadgen", LOG_DEST_STDERR);
	while ((c = getopt(argc, argv, "s:k:m:c:p:T:d:n:w:r:i:q")) != -1) {
		switch (c) {
		case 's':
			loadgen_socket = optarg;
			break;
		case 'k':
			keyfile = optarg;
			break;
		case 'm':
			map = optarg;
			break;
		case 'c':
			if (util_parse_int(optarg, 1, LOADGEN_CLIENTS_MAX,
					   &clients) < 0)
				loadgen_usage();
			break;
		case 'p':
			if (util_parse_int(optarg, 1, LOADGEN_DEPTH_MAX,
					   &depth) < 0)
				loadgen_usage();
			break;
		case 'T':
			if (util_parse_int(optarg, 1, LOADGEN_THREADS_MAX,
					   &threads) < 0)
				loadgen_usage();
			break;
		case 'd':
			seconds = loadgen_arg_seconds(optarg);
			break;
		case 'n':
			if (util_parse_int(optarg, 1, INT64_MAX / 2, &count) < 0)
				loadgen_usage();
			break;
		case 'w':
			warmup = loadgen_arg_seconds(optarg);
			break;
		case 'r':
			if (util_parse_int(optarg, 1, 1 << 30, &v) < 0)
				loadgen_usage();
			pid = (long)v;
			break;
		case 'i':
			interval = loadgen_arg_seconds(optarg);
			break;
		case 'q':
			quiet = 1;
			break;
		default:
			loadgen_usage();
		}
	}
	if (optind != argc || !loadgen_socket || !keyfile)
		loadgen_usage();
	if (strlen(loadgen_socket) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		log_fatal(2, "socket path too long: %s", loadgen_socket);
	loadgen_depth = (unsigned)depth;
	if (!threads) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		cpus = n > 0 ? (size_t)n : 1;
		threads = (int64_t)cpus < clients ? (int64_t)cpus : clients;
	}
	if (threads > clients)
		threads = clients;
	if (count) {
		loadgen_limited = 1;
		atomic_store(&loadgen_budget, count);
	}
	signal(SIGPIPE, SIG_IGN);
	loadgen_load_keys(keyfile, map);

	th = xcalloc((size_t)threads, sizeof(*th));
	for (i = 0, j = 0; i < (size_t)threads; i++) {
		struct loadgen_thread *t = &th[i];
		size_t k;

		t->nconn = (size_t)clients / (size_t)threads +
			   (i < (size_t)clients % (size_t)threads);
		t->conns = xcalloc(t->nconn, sizeof(*t->conns));
		for (k = 0; k < t->nconn; k++, j++) {
			struct loadgen_conn *cn = &t->conns[k];

			cn->fd = -1;
			cn->next_key = j * loadgen_nkeys / (size_t)clients;
			cn->sent_ns = xcalloc(loadgen_depth, sizeof(uint64_t));
			cn->sent_key = xcalloc(loadgen_depth, sizeof(size_t));
			cn->in = xmalloc(LOADGEN_REPLY_MAX + NETSTRING_OVERHEAD +
					 LOADGEN_READ_CHUNK);
		}
		t->epfd = epoll_create1(EPOLL_CLOEXEC);
		if (t->epfd < 0)
			log_fatal(2, "epoll_create1: %s", strerror(errno));
	}
	/* One connection first, so a missing server is a clear error. */
	{
		int fd = loadgen_connect();

		if (fd < 0)
			log_fatal(2, "cannot connect to %s: %s", loadgen_socket,
				  strerror(errno));
		close(fd);
	}
	if (pid)
		m_start = m_max = loadgen_sample(pid);
	atomic_store(&loadgen_phase,
		     warmup > 0 ? LOADGEN_WARMUP : LOADGEN_MEASURE);
	t_start = t_measure = loadgen_now();
	for (i = 0; i < (size_t)threads; i++)
		if (pthread_create(&th[i].tid, NULL, loadgen_run, &th[i]))
			log_fatal(2, "pthread_create failed");

	if (warmup > 0) {
		deadline = t_start + (uint64_t)(warmup * 1e9);
		while (loadgen_now() < deadline)
			loadgen_sleep_until(deadline, 100000000ULL);
		atomic_store(&loadgen_phase, LOADGEN_MEASURE);
		t_measure = loadgen_now();
		if (pid) {
			m_warm = loadgen_sample(pid);
			loadgen_mem_max(&m_max, m_warm);
		}
	}
	for (i = 0; i < (size_t)threads; i++)
		last_done += atomic_load(&th[i].progress);
	deadline = t_measure + (uint64_t)(seconds * 1e9);
	next_iv = interval > 0 ? t_measure + (uint64_t)(interval * 1e9)
			       : UINT64_MAX;
	for (;;) {
		uint64_t now = loadgen_now(), until = deadline;

		if (now >= deadline)
			break;
		if (loadgen_limited && atomic_load(&loadgen_budget) <= 0)
			break;	/* every request sent: collect the replies */
		if (now >= next_iv) {
			uint64_t done = 0, worst = 0;

			for (i = 0; i < (size_t)threads; i++) {
				uint64_t w = atomic_exchange(
					&th[i].interval_max, 0);

				done += atomic_load(&th[i].progress);
				if (w > worst)
					worst = w;
			}
			m = loadgen_sample(pid);
			loadgen_mem_max(&m_max, m);
			struct timespec wall;

			clock_gettime(CLOCK_REALTIME, &wall);
			printf("interval t=%.1fs at=%lld.%03ld rate=%.0f/s "
			       "max_us=%.0f rss_kb=%ld anon_kb=%ld\n",
			       (double)(now - t_measure) / 1e9,
			       (long long)wall.tv_sec, wall.tv_nsec / 1000000,
			       (double)(done - last_done) / interval,
			       (double)worst / 1e3, m.rss, m.anon);
			fflush(stdout);
			last_done = done;
			next_iv += (uint64_t)(interval * 1e9);
		}
		if (next_iv < until)
			until = next_iv;
		loadgen_sleep_until(until, 20000000ULL);
	}
	atomic_store(&loadgen_phase, LOADGEN_STOP);
	t_stop = loadgen_now();
	/* Give late replies LOADGEN_DRAIN_SECONDS, then stop waiting. */
	deadline = t_stop + LOADGEN_DRAIN_SECONDS * 1000000000ULL;
	for (i = 0; i < (size_t)threads; i++) {
		uint64_t now = loadgen_now(),
			 left = deadline > now ? deadline - now : 0;
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += (time_t)(left / 1000000000ULL);
		ts.tv_nsec += (long)(left % 1000000000ULL);
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		if (pthread_timedjoin_np(th[i].tid, NULL, &ts) != 0) {
			atomic_store(&loadgen_phase, LOADGEN_ABORT);
			pthread_join(th[i].tid, NULL);
		}
	}
	/* The measured window ends with the last reply. */
	t_end = t_measure;
	for (i = 0; i < (size_t)threads; i++)
		if (th[i].last_reply_ns > t_end)
			t_end = th[i].last_reply_ns;
	if (pid) {
		m_end = loadgen_sample(pid);
		loadgen_mem_max(&m_max, m_end);
	}

	memset(&tot, 0, sizeof(tot));
	for (i = 0; i < (size_t)threads; i++) {
		struct loadgen_stats *s = &th[i].st;

		tot.done += s->done;
		tot.found += s->found;
		tot.notfound += s->notfound;
		tot.errors += s->errors;
		tot.wrong += s->wrong;
		tot.disconnects += s->disconnects;
		if (s->max_ns > tot.max_ns)
			tot.max_ns = s->max_ns;
		for (j = 0; j < LOADGEN_HIST_N; j++)
			tot.hist[j] += s->hist[j];
	}
	elapsed = (double)(t_end - t_measure) / 1e9;
	if (elapsed <= 0)
		elapsed = 1e-9;
	rate = (double)tot.done / elapsed;
	if (!quiet) {
		printf("loadgen: %lld clients x %u in flight, %lld threads, "
		       "%zu keys, %.2f s measured\n", (long long)clients,
		       loadgen_depth, (long long)threads, loadgen_nkeys,
		       elapsed);
		printf("requests %llu  found %llu  notfound %llu  errors %llu"
		       "  wrong %llu  disconnects %llu\n",
		       (unsigned long long)tot.done,
		       (unsigned long long)tot.found,
		       (unsigned long long)tot.notfound,
		       (unsigned long long)tot.errors,
		       (unsigned long long)tot.wrong,
		       (unsigned long long)tot.disconnects);
		printf("throughput %.0f requests/s\n", rate);
		printf("latency p50 %.1f us  p99 %.1f us  p99.9 %.1f us  "
		       "max %.1f us\n",
		       loadgen_quantile(tot.hist, tot.done, 0.50) / 1e3,
		       loadgen_quantile(tot.hist, tot.done, 0.99) / 1e3,
		       loadgen_quantile(tot.hist, tot.done, 0.999) / 1e3,
		       (double)tot.max_ns / 1e3);
		if (pid)
			printf("memory of %ld (VmRSS / RssAnon, kB): start "
			       "%ld / %ld, after warm-up %ld / %ld, end %ld / "
			       "%ld, max %ld / %ld\n", pid, m_start.rss,
			       m_start.anon, m_warm.rss, m_warm.anon, m_end.rss,
			       m_end.anon, m_max.rss, m_max.anon);
	}
	printf("RESULT clients=%lld depth=%u threads=%lld seconds=%.3f "
	       "requests=%llu found=%llu notfound=%llu errors=%llu wrong=%llu "
	       "disconnects=%llu rate=%.0f p50_us=%.1f p99_us=%.1f "
	       "p999_us=%.1f max_us=%.1f rss_start_kb=%ld rss_warm_kb=%ld "
	       "rss_end_kb=%ld rss_max_kb=%ld anon_start_kb=%ld "
	       "anon_warm_kb=%ld anon_end_kb=%ld anon_max_kb=%ld\n",
	       (long long)clients, loadgen_depth, (long long)threads, elapsed,
	       (unsigned long long)tot.done, (unsigned long long)tot.found,
	       (unsigned long long)tot.notfound,
	       (unsigned long long)tot.errors, (unsigned long long)tot.wrong,
	       (unsigned long long)tot.disconnects, rate,
	       loadgen_quantile(tot.hist, tot.done, 0.50) / 1e3,
	       loadgen_quantile(tot.hist, tot.done, 0.99) / 1e3,
	       loadgen_quantile(tot.hist, tot.done, 0.999) / 1e3,
	       (double)tot.max_ns / 1e3, m_start.rss, m_warm.rss, m_end.rss,
	       m_max.rss, m_start.anon, m_warm.anon, m_end.anon, m_max.anon);
	fflush(stdout);
	loadgen_free(th, (size_t)threads);
	return tot.errors || tot.wrong || !tot.done ? 1 : 0;
}
