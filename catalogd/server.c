/*
 * server.c - catalogd's sockets: listeners, connections and the four
 * protocols (socketmap, readsocket, policy, control).
 *
 * Every connection has one input buffer, allocated when it is accepted
 * (max_request plus framing), and one output buffer that grows up to
 * max_output and is reused: a request costs no allocation.  All requests
 * that arrived in one wakeup are answered from one read transaction and
 * their replies leave in one write.  A client that sends junk gets a PERM
 * reply (socketmap, readsocket) or is disconnected (policy, control); one
 * that stops reading is disconnected when its output reaches max_output.
 *
 * Connections cannot be hoarded.  A connection is busy from the first
 * byte of a request until the request is complete, and while a reply
 * waits for the client to take it; otherwise it is idle.  A busy
 * connection must be done within request_timeout of when it became busy:
 * more bytes do not extend that, so trickling a request a byte at a time
 * keeps a connection no longer than sending nothing.  An idle one is
 * closed after idle_timeout.  Each socket has its own max_connections
 * (control sockets their own small number, so lookup clients never take
 * the slots dircat status needs).  A socket that is full still takes a
 * new client, and makes room by closing first the connection busy for
 * the longest, then the one idle for the longest.  Why that order: an
 * MTA writes each request in one piece and reads its reply at once, so
 * it is almost never busy, while a client that trickles or does not read
 * always is and goes first; among idle connections the least recently
 * answered goes, and Postfix, finding its kept connection closed,
 * reconnects and sends the request again - it loses a reconnection,
 * never an answer.  The same order makes room when descriptors run out,
 * so the control socket is answered even then.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "assist.h"
#include "daemon.h"
#include "ctlproto.h"
#include "log.h"
#include "metrics.h"
#include "netstring.h"
#include "policy.h"
#include "report.h"
#include "server.h"
#include "util.h"

/* listen() queue.  A client that finds it full gets EAGAIN from
 * connect() on a Unix socket, and Postfix gives up at once (451 4.3.0):
 * under a flood of connections the queue must hold every client that
 * has not been taken yet.  The kernel caps it at net.core.somaxconn
 * (4096 by default). */
#define SERVER_BACKLOG     4096
#define SERVER_ACCEPT_MAX  256	/* accepts per wakeup per listener */
/* One read of at most SERVER_READ_SLICE bytes per wakeup per connection:
 * a client that keeps hundreds of requests queued gets its next slice
 * only after every other ready connection had its turn (epoll reports
 * what is left in the socket again), so it cannot take the server's time
 * from the others.  A Postfix request (a socketmap query, a policy
 * request of some thirty attributes) fits in one slice. */
#define SERVER_READ_SLICE  2048
#define SERVER_OUT_INITIAL 4096	/* output buffer kept between requests */
#define SERVER_FULL_WARN   60	/* seconds between "socket full" warnings */
#define SERVER_METRICS_MAX (64 * 1024)	/* the metrics reply, bytes */

#define CONN_EOF        0x01	/* the client half-closed */
#define CONN_CLOSING    0x02	/* close once the output is written */
#define CONN_WANT_OUT   0x04	/* EPOLLOUT registered */
#define CONN_BUSY       0x08	/* in its listener's busy list, else idle */
#define CONN_DEAD       0x10	/* closed; freed by server_reap */

struct conn {
	int ev;			/* EV_CONN */
	int fd;
	int protocol;
	unsigned flags;
	struct listener *l;	/* the socket it came in on */
	size_t max_request;
	char *in;		/* max_request + framing bytes */
	size_t inlen, incap;
	size_t scan;		/* policy: where the end search resumes */
	struct buf out;
	size_t outoff;		/* written so far */
	double since;		/* monotonic: became busy, or idle */
	struct conn *prev, *next;	/* in l's list, or the dead list */
	uint64_t id;
};

static uint64_t server_conn_seq;

/* Monotonic seconds. */
static double server_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

struct listener *server_listen(const struct conf_socket *cs, char *err,
			       size_t errlen)
{
	struct sockaddr_un sun;
	struct listener *l;
	struct stat st;
	mode_t old;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (util_strlcpy(sun.sun_path, cs->path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		util_err(err, errlen, "%s: socket path too long", cs->path);
		return NULL;
	}
	if (lstat(cs->path, &st) == 0) {
		int probe;

		if (!S_ISSOCK(st.st_mode)) {
			util_err(err, errlen,
				 "%s exists and is not a socket; not removing it",
				 cs->path);
			return NULL;
		}
		/* A socket someone still answers on is not stale. */
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 &&
		    connect(probe, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
			close(probe);
			util_err(err, errlen,
				 "%s: another process is listening there",
				 cs->path);
			return NULL;
		}
		if (probe >= 0)
			close(probe);
		if (unlink(cs->path) < 0) {
			util_err(err, errlen, "remove stale %s: %s", cs->path,
				 strerror(errno));
			return NULL;
		}
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		util_err(err, errlen, "socket: %s", strerror(errno));
		return NULL;
	}
	/* Created unreachable, then opened up to the configured mode. */
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		umask(old);
		util_err(err, errlen, "bind %s: %s", cs->path, strerror(errno));
		close(fd);
		return NULL;
	}
	umask(old);
	if ((cs->owner != (uid_t)-1 || cs->group != (gid_t)-1) &&
	    lchown(cs->path, cs->owner, cs->group) < 0) {
		util_err(err, errlen, "chown %s: %s", cs->path,
			 strerror(errno));
		goto fail;
	}
	if (chmod(cs->path, cs->mode) < 0) {
		util_err(err, errlen, "chmod %s: %s", cs->path,
			 strerror(errno));
		goto fail;
	}
	if (listen(fd, SERVER_BACKLOG) < 0 || lstat(cs->path, &st) < 0) {
		util_err(err, errlen, "listen %s: %s", cs->path,
			 strerror(errno));
		goto fail;
	}
	l = xcalloc(1, sizeof(*l));
	l->ev = EV_LISTENER;
	l->fd = fd;
	l->cs = *cs;
	l->dev = st.st_dev;
	l->ino = st.st_ino;
	return l;
fail:
	unlink(cs->path);
	close(fd);
	return NULL;
}

void server_unlisten(struct listener *l)
{
	struct stat st;

	if (!l)
		return;
	if (lstat(l->cs.path, &st) == 0 && st.st_dev == l->dev &&
	    st.st_ino == l->ino)
		unlink(l->cs.path);
	close(l->fd);
	free(l);
}

int server_watch(struct daemon *d, struct listener *l)
{
	struct epoll_event e = { .events = EPOLLIN, .data.ptr = l };

	return epoll_ctl(d->epfd, EPOLL_CTL_ADD, l->fd, &e);
}

/* The list c is in. */
static struct conn_list *server_list(struct conn *c)
{
	return (c->flags & CONN_BUSY) ? &c->l->busy : &c->l->idle;
}

static void server_unlink(struct conn *c)
{
	struct conn_list *q = server_list(c);

	if (c->prev)
		c->prev->next = c->next;
	else
		q->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		q->tail = c->prev;
	c->prev = c->next = NULL;
}

/* Append c to the busy or idle list of its listener, as of mono. */
static void server_append(struct conn *c, int busy, double mono)
{
	struct conn_list *q;

	if (busy)
		c->flags |= CONN_BUSY;
	else
		c->flags &= ~CONN_BUSY;
	q = server_list(c);
	c->since = mono;
	c->next = NULL;
	c->prev = q->tail;
	if (q->tail)
		q->tail->next = c;
	else
		q->head = c;
	q->tail = c;
}

/*
 * After c was read from or written to: busy when part of a request is
 * buffered or a reply is not yet taken, else idle.  Only an answer, or a
 * change between busy and idle, restarts the clock; a byte that merely
 * continues a request leaves c where it is.
 */
static void server_settle(struct conn *c, int answered, double mono)
{
	int busy = c->inlen > 0 || c->outoff < c->out.len;

	if (!answered && busy == !!(c->flags & CONN_BUSY))
		return;
	server_unlink(c);
	server_append(c, busy, mono);
}

static void server_close(struct daemon *d, struct conn *c, const char *why)
{
	if (c->flags & CONN_DEAD)
		return;
	if (why)
		log_debug("connection %llu closed: %s",
			  (unsigned long long)c->id, why);
	server_unlink(c);
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	free(c->in);
	c->in = NULL;
	buf_free(&c->out);
	c->flags |= CONN_DEAD;
	/* Freed after this wakeup: an event for it may still be queued. */
	c->next = d->dead;
	d->dead = c;
	c->l->nconns--;
	d->nconns--;
}

void server_reap(struct daemon *d)
{
	while (d->dead) {
		struct conn *c = d->dead;

		d->dead = c->next;
		free(c);
	}
}

/* The connection to close to make room on l: the one busy the longest,
 * else the one idle the longest; NULL when l has none. */
static struct conn *server_victim(struct listener *l)
{
	return l->busy.head ? l->busy.head : l->idle.head;
}

/* The same over every lookup socket (for a descriptor), or NULL. */
static struct conn *server_victim_any(struct daemon *d)
{
	struct conn *busy = NULL, *idle = NULL;
	size_t i;

	for (i = 0; i < d->nlisteners; i++) {
		struct listener *l = d->listener[i];

		if (l->cs.protocol == CONF_CONTROL)
			continue;
		if (l->busy.head && (!busy || l->busy.head->since < busy->since))
			busy = l->busy.head;
		if (l->idle.head && (!idle || l->idle.head->since < idle->since))
			idle = l->idle.head;
	}
	return busy ? busy : idle;
}

/* Close v to make room for a new client of l. */
static void server_evict(struct daemon *d, struct listener *l,
			 struct conn *v, const char *why)
{
	double age = server_mono() - v->since;
	int busy = !!(v->flags & CONN_BUSY);

	d->stats.evicted++;
	v->l->evicted++;
	if (d->now - l->last_full_warn >= SERVER_FULL_WARN) {
		log_warn("socket %s: %s: closing the connection %s for the "
			 "longest (%.0fs) to take a new client (%llu closed "
			 "so far on this socket)", l->cs.name, why,
			 busy ? "in the middle of a request"
			      : "idle", age,
			 (unsigned long long)v->l->evicted);
		l->last_full_warn = d->now;
	}
	server_close(d, v, busy ? "evicted (busy)" : "evicted (idle)");
}

/*
 * Out of descriptors: make room by closing a connection - for a lookup
 * socket one of its own, else of another lookup socket; for a control
 * socket one of a lookup socket first, so that dircat status is answered
 * even then.  0 when one was closed, -1 when none could be.
 */
static int server_make_fd(struct daemon *d, struct listener *l)
{
	struct conn *v;

	if (l->cs.protocol == CONF_CONTROL) {
		v = server_victim_any(d);
		if (!v)
			v = server_victim(l);
	} else {
		v = server_victim(l);
		if (!v)
			v = server_victim_any(d);
	}
	if (!v)
		return -1;
	server_evict(d, l, v, "out of file descriptors");
	return 0;
}

/* Accept what is waiting on l. */
static void server_accept(struct daemon *d, struct listener *l)
{
	int i;

	for (i = 0; i < SERVER_ACCEPT_MAX; i++) {
		struct epoll_event e;
		struct conn *c;
		double mono;
		int fd = accept4(l->fd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0 && (errno == EMFILE || errno == ENFILE)) {
			/* accept() fails so before it looks for a client:
			 * only the first of a wakeup surely has one (the
			 * listener is level-triggered: the next wakeup
			 * says whether more wait). */
			if (i > 0)
				return;
			if (server_make_fd(d, l) == 0)
				fd = accept4(l->fd, NULL, NULL,
					     SOCK_NONBLOCK | SOCK_CLOEXEC);
		}
		if (fd < 0 && (errno == EMFILE || errno == ENFILE) &&
		    d->spare_fd >= 0) {
			/* Nothing to close: a level-triggered listener
			 * would wake us forever.  Use the spare descriptor
			 * to take the client and hang up on it. */
			close(d->spare_fd);
			fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
			if (fd >= 0)
				close(fd);
			d->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
			d->stats.refused++;
			if (d->now - d->last_full_warn >= SERVER_FULL_WARN) {
				log_warn("out of file descriptors at %zu "
					 "connections: refusing new ones "
					 "(lower max_connections or raise "
					 "the limit)", d->nconns);
				d->last_full_warn = d->now;
			}
			return;
		}
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ECONNABORTED)
				log_warn("accept on %s: %s", l->cs.path,
					 strerror(errno));
			return;
		}
		if (l->nconns >= (size_t)l->cs.max_connections) {
			struct conn *v = server_victim(l);

			if (!v) {	/* cannot happen: the limit is >= 1 */
				close(fd);
				d->stats.refused++;
				continue;
			}
			server_evict(d, l, v, "max_connections reached");
		}
		c = xcalloc(1, sizeof(*c));
		c->ev = EV_CONN;
		c->fd = fd;
		c->l = l;
		c->protocol = l->cs.protocol;
		c->max_request = l->cs.max_request;
		c->incap = c->max_request + NETSTRING_OVERHEAD + 2;
		c->in = xmalloc(c->incap);
		buf_init(&c->out, (size_t)d->conf->max_output);
		c->id = ++server_conn_seq;
		e.events = EPOLLIN;
		e.data.ptr = c;
		if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &e) < 0) {
			log_error("epoll: %s", strerror(errno));
			close(fd);
			free(c->in);
			free(c);
			continue;
		}
		mono = server_mono();
		server_append(c, 0, mono);	/* idle until it sends */
		l->nconns++;
		d->nconns++;
		d->stats.accepted++;
		log_debug("connection %llu on %s (%s)",
			  (unsigned long long)c->id, l->cs.path,
			  conf_protocol_name(c->protocol));
	}
}

/* Append bytes to c's output; on overflow the client is not reading:
 * mark it for closing.  0 or -1. */
static int server_out(struct daemon *d, struct conn *c, const void *p,
		      size_t n)
{
	if (buf_append(&c->out, p, n) < 0) {
		d->stats.overflows++;
		c->flags |= CONN_CLOSING;
		return -1;
	}
	return 0;
}

/* Look a key up in a map (in every catalog, assist.c) and count the
 * answer. */
static void server_answer(struct daemon *d, int map, const char *key,
			  size_t keylen, struct lookup_answer *ans)
{
	assist_answer(d, map, key, keylen, ans);
	d->stats.answers[map][ans->status]++;
	if (log_verbose() >= 2) {
		char q[LOG_QUOTE_SIZE];

		log_debug("%s %s: %s %.*s", lookup_map_name(map),
			  log_quote(key, keylen, q, sizeof(q)),
			  lookup_status_word(ans->status), (int)ans->len,
			  ans->data);
	}
}

/* Split "NAME KEY" into the map and the key; 0 or -1 without a space. */
static int server_split(const char *req, size_t len, int *map,
			const char **key, size_t *keylen)
{
	const char *sp = memchr(req, ' ', len);

	if (!sp)
		return -1;
	*map = lookup_map_parse(req, (size_t)(sp - req));
	*key = sp + 1;
	*keylen = len - (size_t)(sp - req) - 1;
	return 0;
}

/* One socketmap request: reply "STATUS data" as a netstring. */
static void server_socketmap_one(struct daemon *d, struct conn *c,
				 const char *req, size_t len)
{
	struct lookup_answer ans;
	const char *key, *word;
	size_t keylen, n;
	char head[16];
	int map;

	if (server_split(req, len, &map, &key, &keylen) < 0) {
		d->stats.bad_requests++;
		netstring_append(&c->out, "PERM bad request: expected NAME KEY",
				 35, NULL, 0);
		return;
	}
	server_answer(d, map, key, keylen, &ans);
	/* "STATUS " then the data; no formatted print on this path. */
	word = lookup_status_word(ans.status);
	n = strlen(word);
	memcpy(head, word, n);
	head[n++] = ' ';
	if (netstring_append(&c->out, head, n, ans.data, ans.len) < 0) {
		d->stats.overflows++;
		c->flags |= CONN_CLOSING;
	}
}

/* Every complete netstring in c's input. */
static void server_socketmap(struct daemon *d, struct conn *c)
{
	size_t pos = 0;

	while (pos < c->inlen && !(c->flags & CONN_CLOSING)) {
		const char *data, *why;
		size_t dlen, used;
		int rc = netstring_parse(c->in + pos, c->inlen - pos,
					 c->max_request, &data, &dlen, &used,
					 &why);

		if (rc == NETSTRING_MORE)
			break;
		if (rc == NETSTRING_ERROR) {
			char q[LOG_QUOTE_SIZE];

			d->stats.bad_requests++;
			log_warn("socketmap client %llu: bad request (%s): %s",
				 (unsigned long long)c->id, why,
				 log_quote(c->in + pos, c->inlen - pos, q,
					   sizeof(q)));
			/* The framing is lost: say so once and hang up. */
			netstring_append(&c->out, "PERM bad request", 16,
					 NULL, 0);
			c->flags |= CONN_CLOSING;
			pos = c->inlen;
			break;
		}
		server_socketmap_one(d, c, data, dlen);
		pos += used;
	}
	if (pos) {
		memmove(c->in, c->in + pos, c->inlen - pos);
		c->inlen -= pos;
	}
}

/* Exim's readsocket: one line, one reply line, close. */
static void server_readsocket(struct daemon *d, struct conn *c)
{
	struct lookup_answer ans;
	const char *nl = memchr(c->in, '\n', c->inlen), *key;
	size_t len, keylen;
	char line[64];
	int map, n;

	if (!nl && !(c->flags & CONN_EOF)) {
		if (c->inlen > c->max_request) {
			d->stats.bad_requests++;
			server_out(d, c, "PERM request too long\n", 22);
			c->flags |= CONN_CLOSING;
		}
		return;
	}
	len = nl ? (size_t)(nl - c->in) : c->inlen;
	if (len > c->max_request) {
		d->stats.bad_requests++;
		server_out(d, c, "PERM request too long\n", 22);
		c->flags |= CONN_CLOSING;
		return;
	}
	if (len && c->in[len - 1] == '\r')
		len--;
	/* "recipients KEY", or a bare KEY meaning recipients. */
	if (server_split(c->in, len, &map, &key, &keylen) < 0 ||
	    map == LOOKUP_MAP_NONE) {
		map = LOOKUP_RECIPIENTS;
		key = c->in;
		keylen = len;
	}
	server_answer(d, map, key, keylen, &ans);
	n = snprintf(line, sizeof(line), "%s%s",
		     lookup_status_word(ans.status), ans.len ? " " : "");
	if (server_out(d, c, line, (size_t)n) == 0 &&
	    server_out(d, c, ans.data, ans.len) == 0)
		server_out(d, c, "\n", 1);
	c->inlen = 0;
	c->flags |= CONN_CLOSING;
}

/* Every complete policy request in c's input. */
static void server_policy(struct daemon *d, struct conn *c)
{
	size_t pos = 0;

	while (pos < c->inlen && !(c->flags & CONN_CLOSING)) {
		struct policy_request req;
		char err[256], action[LOOKUP_ACTION_MAX];
		const char *rule;
		size_t used;
		int rc = policy_parse(c->in + pos, c->inlen - pos,
				      c->max_request, &c->scan, &req, &used,
				      err, sizeof(err));

		if (rc == POLICY_MORE)
			break;
		if (rc == POLICY_ERROR) {
			d->stats.bad_requests++;
			log_warn("policy client %llu: %s; disconnecting",
				 (unsigned long long)c->id, err);
			c->flags |= CONN_CLOSING;
			pos = c->inlen;
			break;
		}
		pos += used;
		if (assist_policy(d, req.protocol_state, req.sender,
				  req.recipient, req.sasl_username,
				  req.client_address, action,
				  sizeof(action), &rule) < 0) {
			/* No reply: Postfix applies its default action. */
			d->stats.policy_fail++;
			log_error("policy: catalog read error; disconnecting "
				  "without a reply");
			c->flags |= CONN_CLOSING;
			pos = c->inlen;
			break;
		}
		if (!strcmp(action, "DUNNO"))
			d->stats.policy_pass++;
		else if (action[0] == '5')
			d->stats.policy_reject++;
		else
			d->stats.policy_defer++;
		if (strcmp(action, "DUNNO") || log_verbose() >= 2) {
			char qs[LOG_QUOTE_SIZE], qr[LOG_QUOTE_SIZE];
			char qu[LOG_QUOTE_SIZE];

			log_quote(req.sender, strlen(req.sender), qs,
				  sizeof(qs));
			log_quote(req.recipient, strlen(req.recipient), qr,
				  sizeof(qr));
			log_quote(req.sasl_username,
				  strlen(req.sasl_username), qu, sizeof(qu));
			if (strcmp(action, "DUNNO"))
				log_info("policy %s: sender=<%s> recipient=<%s> "
					 "sasl_username=%s: %s", rule, qs, qr,
					 qu[0] ? qu : "-", action);
			else
				log_debug("policy %s: sender=<%s> recipient=<%s> "
					  "sasl_username=%s: %s", rule, qs, qr,
					  qu[0] ? qu : "-", action);
		}
		if (server_out(d, c, "action=", 7) < 0 ||
		    server_out(d, c, action, strlen(action)) < 0 ||
		    server_out(d, c, "\n\n", 2) < 0)
			break;
	}
	if (pos) {
		memmove(c->in, c->in + pos, c->inlen - pos);
		c->inlen -= pos;
	}
}

/* One control command line. */
static void server_control_one(struct daemon *d, struct conn *c, char *line,
			       size_t len)
{
	if (len && line[len - 1] == '\r')
		line[--len] = '\0';
	if (len == 6 && !memcmp(line, "status", 6)) {
		static const char toobig[] = "error status too large\n\n";

		/* Bounded by its own maximum, as metrics below. */
		if (c->out.max < c->out.len + CTLPROTO_STATUS_MAX + 2)
			c->out.max = c->out.len + CTLPROTO_STATUS_MAX + 2;
		if (report_status(d, &c->out) < 0)
			server_out(d, c, toobig, sizeof(toobig) - 1);
		else
			server_out(d, c, "\n", 1);
	} else if (len > 7 && !memcmp(line, "lookup ", 7)) {
		struct lookup_answer ans;
		const char *key;
		size_t keylen;
		int map;

		if (server_split(line + 7, len - 7, &map, &key, &keylen) < 0) {
			server_out(d, c, "error usage: lookup MAP KEY\n\n", 29);
			return;
		}
		server_answer(d, map, key, keylen, &ans);
		buf_printf(&c->out, "%s%s%.*s\n\n",
			   lookup_status_word(ans.status), ans.len ? " " : "",
			   (int)ans.len, ans.data);
	} else if (len == 7 && !memcmp(line, "metrics", 7)) {
		static const char toobig[] = "error metrics too large\n\n";
		struct buf m;

		buf_init(&m, SERVER_METRICS_MAX);
		/* A control reply is bounded by its own maximum, not by
		 * max_output, which may be set lower for lookup clients. */
		if (c->out.max < c->out.len + SERVER_METRICS_MAX + 2)
			c->out.max = c->out.len + SERVER_METRICS_MAX + 2;
		if (report_metrics(d, &m) < 0)
			server_out(d, c, toobig, sizeof(toobig) - 1);
		else if (server_out(d, c, m.data, m.len) == 0)
			server_out(d, c, "\n", 1);
		buf_free(&m);
	} else if (len == 4 && !memcmp(line, "quit", 4)) {
		c->flags |= CONN_CLOSING;
	} else {
		static const char unknown[] = "error unknown command (status, "
					      "metrics, lookup, quit)\n\n";

		server_out(d, c, unknown, sizeof(unknown) - 1);
	}
}

/* Every complete control line. */
static void server_control(struct daemon *d, struct conn *c)
{
	size_t pos = 0;

	while (pos < c->inlen && !(c->flags & CONN_CLOSING)) {
		char *nl = memchr(c->in + pos, '\n', c->inlen - pos);

		if (!nl)
			break;
		*nl = '\0';
		server_control_one(d, c, c->in + pos,
				   (size_t)(nl - (c->in + pos)));
		pos = (size_t)(nl - c->in) + 1;
	}
	if (pos) {
		memmove(c->in, c->in + pos, c->inlen - pos);
		c->inlen -= pos;
	}
	if (c->inlen > c->max_request) {
		server_out(d, c, "error line too long\n\n", 21);
		c->flags |= CONN_CLOSING;
	}
}

/* Write what is queued; 0 fine (maybe partial), -1 closed. */
static int server_flush(struct daemon *d, struct conn *c)
{
	while (c->outoff < c->out.len) {
		ssize_t n = send(c->fd, c->out.data + c->outoff,
				 c->out.len - c->outoff, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			server_close(d, c, "write failed");
			return -1;
		}
		c->outoff += (size_t)n;
	}
	if (c->outoff == c->out.len) {
		c->outoff = 0;
		c->out.len = 0;
		/* Give back a buffer a burst made large. */
		if (c->out.cap > 4 * SERVER_OUT_INITIAL) {
			buf_free(&c->out);
			buf_init(&c->out, (size_t)d->conf->max_output);
		}
		if (c->flags & CONN_CLOSING) {
			server_close(d, c, "done");
			return -1;
		}
		if (c->flags & CONN_WANT_OUT) {
			struct epoll_event e = { .events = EPOLLIN,
						 .data.ptr = c };

			c->flags &= ~CONN_WANT_OUT;
			epoll_ctl(d->epfd, EPOLL_CTL_MOD, c->fd, &e);
		}
		if (c->flags & CONN_EOF) {
			server_close(d, c, "client closed");
			return -1;
		}
		return 0;
	}
	if (!(c->flags & CONN_WANT_OUT)) {
		/* Stop reading until the client takes what it asked for. */
		struct epoll_event e = { .events = EPOLLOUT, .data.ptr = c };

		c->flags |= CONN_WANT_OUT;
		epoll_ctl(d->epfd, EPOLL_CTL_MOD, c->fd, &e);
	}
	return 0;
}

/* Read a slice of what the client sent and answer every complete request
 * in it (an interrupted read is tried again at the next wakeup). */
static void server_readable(struct daemon *d, struct conn *c)
{
	int answered = 0;

	do {
		size_t had;
		ssize_t n;

		if (c->inlen == c->incap) {
			/* Full without a complete request: over the limit. */
			d->stats.bad_requests++;
			if (c->protocol == CONF_SOCKETMAP)
				netstring_append(&c->out,
						 "PERM request too long", 21,
						 NULL, 0);
			else if (c->protocol == CONF_READSOCKET)
				server_out(d, c, "PERM request too long\n", 22);
			log_warn("client %llu: request over %zu bytes; "
				 "disconnecting", (unsigned long long)c->id,
				 c->max_request);
			c->flags |= CONN_CLOSING;
			break;
		}
		n = read(c->fd, c->in + c->inlen,
			 c->incap - c->inlen < SERVER_READ_SLICE ?
			 c->incap - c->inlen : SERVER_READ_SLICE);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) {
			server_close(d, c, "read failed");
			return;
		}
		if (n == 0)
			c->flags |= CONN_EOF;
		else
			c->inlen += (size_t)n;
		had = c->inlen;
		switch (c->protocol) {
		case CONF_SOCKETMAP:
			server_socketmap(d, c);
			break;
		case CONF_READSOCKET:
			server_readsocket(d, c);
			break;
		case CONF_POLICY:
			server_policy(d, c);
			break;
		default:
			server_control(d, c);
		}
		/* Each protocol takes a request out of the input once it
		 * has answered it. */
		if (c->inlen < had)
			answered = 1;
	} while (0);
	if ((c->flags & CONN_EOF) && c->inlen &&
	    c->protocol != CONF_READSOCKET) {
		log_debug("client %llu closed in the middle of a request",
			  (unsigned long long)c->id);
		c->inlen = 0;
	}
	if (server_flush(d, c) == 0)
		server_settle(c, answered, server_mono());
}

void server_event(struct daemon *d, void *ptr, uint32_t events)
{
	int ev = *(int *)ptr;

	if (ev == EV_LISTENER) {
		server_accept(d, ptr);
		return;
	}
	if (ev == EV_CONN) {
		struct conn *c = ptr;

		if (c->flags & CONN_DEAD)
			return;	/* closed earlier in this wakeup */
		if (c->flags & CONN_WANT_OUT) {
			if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) &&
			    server_flush(d, c) == 0)
				server_settle(c, 0, server_mono());
			return;
		}
		if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
			server_readable(d, c);
	}
}

/* Close the connections at the head of q older than limit; the
 * seconds until the next one is due, at most *next. */
static void server_expire_list(struct daemon *d, struct conn_list *q,
			       double limit, double mono, uint64_t *count,
			       const char *why, double *next)
{
	while (q->head && mono - q->head->since >= limit) {
		(*count)++;
		server_close(d, q->head, why);
	}
	if (q->head && limit - (mono - q->head->since) < *next)
		*next = limit - (mono - q->head->since);
}

int server_expire(struct daemon *d, double mono)
{
	double next = 1.0;
	size_t i;

	if (mono == 0)
		mono = server_mono();
	for (i = 0; i < d->nlisteners; i++) {
		struct listener *l = d->listener[i];

		server_expire_list(d, &l->busy, (double)d->conf->request_timeout,
				   mono, &d->stats.request_timeouts,
				   "request or reply not done within "
				   "request_timeout", &next);
		server_expire_list(d, &l->idle, (double)d->conf->idle_timeout,
				   mono, &d->stats.timeouts, "idle timeout",
				   &next);
	}
	return (int)(next * 1000) + 1;
}

/* Close every connection of l. */
static void server_close_conns(struct daemon *d, struct listener *l,
			       const char *why)
{
	while (l->busy.head)
		server_close(d, l->busy.head, why);
	while (l->idle.head)
		server_close(d, l->idle.head, why);
}

void server_close_listener(struct daemon *d, struct listener *l)
{
	server_close_conns(d, l, "socket removed by a reload");
}

void server_trim(struct daemon *d, struct listener *l)
{
	while (l->nconns > (size_t)l->cs.max_connections)
		server_evict(d, l, server_victim(l),
			     "max_connections lowered");
}

void server_close_all(struct daemon *d)
{
	size_t i;

	for (i = 0; i < d->nlisteners; i++)
		server_close_conns(d, d->listener[i], NULL);
	server_reap(d);
}
