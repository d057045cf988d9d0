/*
 * pollsrc.c - the live source for a directory that offers no change
 * notification: a whole read every poll_interval, reported as a staged
 * refresh, so an entry that is not read again is gone.  Entries are told
 * apart by their DN (a rename is a delete and an add).  See livesrc.h.
 */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "livesrc.h"
#include "log.h"
#include "util.h"

#define POLLSRC_ID 16		/* bytes of SHA-256 of the DN's key */

struct pollsrc {
	const struct ldapsrc_conf *conf;
	const struct formula_attrs *attrs;
	struct livesrc_sink sink;
	double interval, due;
};

static int pollsrc_entry(void *arg, const struct ldapsrc_entry *e, char *err,
			 size_t errlen)
{
	struct pollsrc *p = arg;
	unsigned char key[LDAPSRC_DNKEY_MAX], md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t klen = ldapsrc_dn_key(e->dn, strlen(e->dn), key, sizeof(key),
				     NULL, 0);

	/* A DN without a key stands for itself. */
	if (!EVP_Digest(klen ? (const void *)key : (const void *)e->dn,
			klen ? klen : strlen(e->dn), md, &mdlen, EVP_sha256(),
			NULL) || mdlen < POLLSRC_ID)
		log_fatal(70, "OpenSSL: SHA-256 failed");
	return p->sink.present(p->sink.core, p->sink.src, md, POLLSRC_ID, e,
			       err, errlen);
}

static int pollsrc_start(void *arg, const void *cookie, size_t len,
			 char *err, size_t errlen)
{
	struct pollsrc *p = arg;

	(void)cookie;
	(void)len;
	(void)err;
	(void)errlen;
	p->due = util_now();	/* a first read at once */
	return 0;
}

static int pollsrc_fd(void *arg)
{
	(void)arg;
	return -1;
}

static double pollsrc_next_due(void *arg)
{
	return ((struct pollsrc *)arg)->due;
}

static int pollsrc_step(void *arg, int max, char *err, size_t errlen)
{
	struct pollsrc *p = arg;
	struct ldapsrc_stats st;

	(void)max;
	if (util_now() < p->due)
		return 0;
	p->due = util_now() + p->interval;
	if (p->sink.refresh_begin(p->sink.core, p->sink.src, 1) < 0 ||
	    ldapsrc_search(p->conf, p->attrs, pollsrc_entry, p, &st, err,
			   errlen) < 0 ||
	    p->sink.refresh_done(p->sink.core, p->sink.src, 1, err,
				 errlen) < 0)
		return -1;
	return (int)(st.entries > 0 ? st.entries : 1);
}

static void pollsrc_stop(void *arg)
{
	(void)arg;
}

static void pollsrc_free(void *arg)
{
	free(arg);
}

static const struct livesrc_ops pollsrc_ops = {
	"poll", pollsrc_start, pollsrc_fd, pollsrc_next_due, pollsrc_step,
	pollsrc_stop, pollsrc_free
};

int pollsrc_new(struct livesrc *out, const struct ldapsrc_conf *conf,
		const struct formula_attrs *attrs,
		const struct livesrc_sink *sink, double interval, char *err,
		size_t errlen)
{
	struct pollsrc *p;

	if (interval < 1) {
		util_err(err, errlen, "source %s: poll_interval under 1s",
			 conf->name);
		return -1;
	}
	p = xcalloc(1, sizeof(*p));
	p->conf = conf;
	p->attrs = attrs;
	p->sink = *sink;
	p->interval = interval;
	out->ops = &pollsrc_ops;
	out->s = p;
	return 0;
}
