/*
 * snapwrite.c - write signed snapshots; see snapwrite.h, and
 * schema/snapshot.md for the bytes.
 *
 * Records stream into a temporary file behind room for the header and
 * its signature, through a buffer, while a SHA-256 runs over them; at the
 * end the header (with that hash) is encoded, signed on its own, and
 * written at the front.  The signature never needs the payload in memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "catalog.h"
#include "keyhash.h"
#include "log.h"
#include "sign.h"
#include "snapshot.h"
#include "snapwrite.h"
#include "util.h"

#define SNAPWRITE_BUF       (1 << 20)	/* the write buffer, bytes */

_Static_assert(SNAPWRITE_BUF >= SNAPSHOT_PREFIX_LEN + SNAPSHOT_RECORD_MAX,
	       "buffer holds the prefix and a record");

struct snapwrite {
	int fd;
	char tmp[PATH_MAX];
	const char *path;
	unsigned char *buf;		/* SNAPWRITE_BUF bytes */
	size_t used;
	struct sign_sha256 *sha;
	struct snapshot_header hdr;
	struct snapwrite_stats st;
	unsigned char prev[CATALOG_KEY_MAX];
	size_t prevlen;
	char *err;
	size_t errlen;
	int failed;
	int projection;			/* enum snapwrite_projection */
	/* Keyed-hash mode: records wait here, framed as in a delta, until
	 * the end, when they are sorted by hashed key and written. */
	struct keyhash *hash;		/* NULL: clear */
	unsigned char *pend;
	size_t pendlen, pendcap;
	size_t *offs;			/* each waiting record's offset */
	size_t npend, offscap;
	int no_fsync;			/* see snapwrite_opts */
};

/* Write all of data at the current position. */
static int snapwrite_all(struct snapwrite *w, const void *data,
			      size_t len)
{
	const unsigned char *p = data;

	while (len) {
		ssize_t n = write(w->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			util_err(w->err, w->errlen, "%s: write: %s", w->tmp,
				 strerror(errno));
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int snapwrite_flush(struct snapwrite *w)
{
	if (w->used && snapwrite_all(w, w->buf, w->used) < 0)
		return -1;
	w->used = 0;
	return 0;
}

/* Start path.tmp.PID with room for the header. */
static int snapwrite_start(struct snapwrite *w, const char *path,
				 char *err, size_t errlen)
{
	memset(w, 0, sizeof(*w));
	w->fd = -1;
	w->path = path;
	w->err = err;
	w->errlen = errlen;
	if ((size_t)snprintf(w->tmp, sizeof(w->tmp), "%s.tmp.%ld", path,
			     (long)getpid()) >= sizeof(w->tmp)) {
		util_err(err, errlen, "%s: path too long", path);
		return -1;
	}
	w->fd = open(w->tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC |
		     O_NOFOLLOW, 0640);
	if (w->fd < 0) {
		util_err(err, errlen, "%s: %s", w->tmp, strerror(errno));
		return -1;
	}
	w->buf = xmalloc(SNAPWRITE_BUF);
	memset(w->buf, 0, SNAPSHOT_PREFIX_LEN);
	w->used = SNAPSHOT_PREFIX_LEN;	/* header and signature: at the end */
	w->sha = sign_sha256_new();
	return 0;
}

/* Throw the temporary file away. */
static void snapwrite_abort(struct snapwrite *w)
{
	if (w->fd >= 0) {
		close(w->fd);
		unlink(w->tmp);
	}
	w->fd = -1;
	free(w->buf);
	w->buf = NULL;
	sign_sha256_free(w->sha);
	w->sha = NULL;
	if (w->pend)
		OPENSSL_cleanse(w->pend, w->pendlen);
	free(w->pend);
	free(w->offs);
	w->pend = NULL;
	w->offs = NULL;
}

/* Append one framed record: value[0..vl) is the encoded value (a put),
 * vl 0 for a delete.  0 or -1 with err. */
static int snapwrite_frame(struct snapwrite *w, int op, const char *key,
			   size_t keylen, const unsigned char *value,
			   size_t vl)
{
	unsigned char frame[SNAPSHOT_DELTA_HDR + CATALOG_KEY_MAX +
			    CATALOG_VALUE_MAX];
	size_t hl = op ? SNAPSHOT_DELTA_HDR : SNAPSHOT_FULL_HDR, n;

	if (op)
		frame[0] = (unsigned char)op;
	util_put_u16(frame + hl - 4, (uint16_t)keylen);
	util_put_u16(frame + hl - 2, (uint16_t)vl);
	memcpy(frame + hl, key, keylen);
	memcpy(frame + hl + keylen, value, vl);
	n = hl + keylen + vl;
	if (w->st.records + 1 > SNAPSHOT_RECORDS_MAX ||
	    w->st.payload_len + n > SNAPSHOT_PAYLOAD_MAX) {
		util_err(w->err, w->errlen, "the snapshot would exceed %llu "
			 "records or %llu bytes",
			 (unsigned long long)SNAPSHOT_RECORDS_MAX,
			 (unsigned long long)SNAPSHOT_FILE_MAX);
		return -1;
	}
	sign_sha256_update(w->sha, frame, n);
	if (w->used + n > SNAPWRITE_BUF && snapwrite_flush(w) < 0)
		return -1;
	memcpy(w->buf + w->used, frame, n);
	w->used += n;
	w->st.records++;
	w->st.payload_len += n;
	if (op == SNAPSHOT_DEL)
		w->st.dels++;
	else
		w->st.puts++;
	return 0;
}

/* Keyed-hash mode: hash the key, seal owners and extra, and keep the
 * record for snapwrite_drain().  0 or -1 with err. */
static int snapwrite_stash(struct snapwrite *w, int op, const char *key,
			   size_t keylen, const struct catalog_rec *rec)
{
	static char sealbuf[CATALOG_OWNERS_MAX + CATALOG_EXTRA_MAX];
	unsigned char value[CATALOG_VALUE_MAX];
	char hk[KEYHASH_KEY_LEN + 1];
	struct catalog_rec clear, sealed;
	size_t vl = 0, need;

	keyhash_key(w->hash, key, keylen, hk);
	if (rec) {
		clear = *rec;
		clear.key = key;
		clear.keylen = keylen;
		if (keyhash_rec_seal(w->hash, &clear, &sealed, sealbuf,
				     sizeof(sealbuf), w->err, w->errlen) < 0)
			return -1;
		vl = catalog_rec_encode(&sealed, value, sizeof(value));
		if (vl == 0) {
			util_err(w->err, w->errlen, "record of \"%.*s\" over "
				 "its size limits", (int)keylen, key);
			return -1;
		}
	}
	need = SNAPSHOT_DELTA_HDR + KEYHASH_KEY_LEN + vl;
	if (w->pendlen + need > w->pendcap) {
		w->pendcap = (w->pendlen + need) * 2;
		w->pend = xrealloc(w->pend, w->pendcap);
	}
	if (w->npend == w->offscap) {
		w->offscap = w->offscap ? w->offscap * 2 : 1024;
		w->offs = xrealloc(w->offs, w->offscap * sizeof(*w->offs));
	}
	w->offs[w->npend++] = w->pendlen;
	w->pend[w->pendlen] = (unsigned char)op;
	util_put_u16(w->pend + w->pendlen + 1, KEYHASH_KEY_LEN);
	util_put_u16(w->pend + w->pendlen + 3, (uint16_t)vl);
	memcpy(w->pend + w->pendlen + SNAPSHOT_DELTA_HDR, hk,
	       KEYHASH_KEY_LEN);
	memcpy(w->pend + w->pendlen + SNAPSHOT_DELTA_HDR + KEYHASH_KEY_LEN,
	       value, vl);
	w->pendlen += need;
	return 0;
}

/* qsort_r(): waiting records by hashed key (all of one length). */
static int snapwrite_pend_cmp(const void *a, const void *b, void *arg)
{
	const unsigned char *p = arg;

	return memcmp(p + *(const size_t *)a + SNAPSHOT_DELTA_HDR,
		      p + *(const size_t *)b + SNAPSHOT_DELTA_HDR,
		      KEYHASH_KEY_LEN);
}

/* Keyed-hash mode, at the end: the waiting records in hashed-key order.
 * 0 or -1 with err. */
static int snapwrite_drain(struct snapwrite *w)
{
	size_t i;

	qsort_r(w->offs, w->npend, sizeof(*w->offs), snapwrite_pend_cmp,
		w->pend);
	for (i = 0; i < w->npend; i++) {
		const unsigned char *p = w->pend + w->offs[i];
		int op = p[0];

		/* Two keys with one 192-bit hash: never seen; refuse rather
		 * than let one address answer for another. */
		if (i && !snapwrite_pend_cmp(&w->offs[i - 1], &w->offs[i],
					     w->pend)) {
			util_err(w->err, w->errlen, "two keys have the same "
				 "keyed hash: choose another secret");
			return -1;
		}
		if (snapwrite_frame(w, w->hdr.type == SNAPSHOT_FULL ? 0 : op,
				    (const char *)p + SNAPSHOT_DELTA_HDR,
				    KEYHASH_KEY_LEN,
				    p + SNAPSHOT_DELTA_HDR + KEYHASH_KEY_LEN,
				    util_get_u16(p + 3)) < 0)
			return -1;
	}
	return 0;
}

/* Append one record (op 0 in a full snapshot).  0 or -1 with err. */
static int snapwrite_add(struct snapwrite *w, int op,
			       const char *key, size_t keylen,
			       const struct catalog_rec *rec)
{
	unsigned char value[CATALOG_VALUE_MAX];
	size_t vl = 0;

	if (!snapshot_key_ok((const unsigned char *)key, keylen)) {
		char q[LOG_QUOTE_SIZE];

		log_quote(key, keylen, q, sizeof(q));
		util_err(w->err, w->errlen, "catalog key \"%s\" cannot go "
			 "into a snapshot (empty, too long or a control "
			 "character)", q);
		return -1;
	}
	if (w->prevlen && snapshot_keycmp(w->prev, w->prevlen, key,
					  keylen) >= 0) {
		util_err(w->err, w->errlen, "catalog keys out of order at "
			 "\"%.*s\"", (int)keylen, key);
		return -1;
	}
	memcpy(w->prev, key, keylen);
	w->prevlen = keylen;
	if (rec) {
		struct catalog_rec mx;

		if (w->projection == SNAPWRITE_MX) {
			/* An MX needs the internal-only mark: its policy
			 * service enforces it. */
			int io = catalog_extra_internal_only(rec->extra,
							     rec->extralen);

			mx = *rec;
			mx.owners = "";
			mx.ownerslen = 0;
			mx.extra = io ? CATALOG_INTERNAL_ONLY_LINE : "";
			mx.extralen = io ? strlen(CATALOG_INTERNAL_ONLY_LINE)
					 : 0;
			rec = &mx;
		}
		if (w->hash)
			return snapwrite_stash(w, op, key, keylen, rec);
		vl = catalog_rec_encode(rec, value, sizeof(value));
		if (vl == 0) {
			util_err(w->err, w->errlen, "record of \"%.*s\" over "
				 "its size limits", (int)keylen, key);
			return -1;
		}
	} else if (w->hash) {
		return snapwrite_stash(w, op, key, keylen, NULL);
	}
	return snapwrite_frame(w, op, key, keylen, value, vl);
}

/* Header and its signature, fsync (unless no_fsync), rename.  0 or -1. */
static int snapwrite_finish(struct snapwrite *w, const struct sign_key *key)
{
	struct snapshot_header *h = &w->hdr;
	unsigned char head[SNAPSHOT_PREFIX_LEN];
	char dir[PATH_MAX];
	int dfd;

	if (snapwrite_flush(w) < 0)
		return -1;
	h->records = w->st.records;
	h->payload_len = w->st.payload_len;
	sign_sha256_final(w->sha, h->payload_hash);
	w->sha = NULL;
	memcpy(h->key_id_raw, sign_key_id_raw(key), SIGN_KEY_ID_LEN);
	sign_key_id_hex(h->key_id_raw, h->key_id);
	snapshot_encode_header(h, head);
	/* The signature covers the header alone; the header carries the
	 * payload's hash. */
	if (sign_sign(key, head, SNAPSHOT_HEADER_LEN,
		      head + SNAPSHOT_HEADER_LEN, w->err, w->errlen) < 0)
		return -1;
	if (pwrite(w->fd, head, sizeof(head), 0) != (ssize_t)sizeof(head) ||
	    (!w->no_fsync && fsync(w->fd) < 0)) {
		util_err(w->err, w->errlen, "%s: %s", w->tmp, strerror(errno));
		return -1;
	}
	if (close(w->fd) < 0) {
		w->fd = -1;
		util_err(w->err, w->errlen, "%s: %s", w->tmp, strerror(errno));
		unlink(w->tmp);
		return -1;
	}
	w->fd = -1;
	if (rename(w->tmp, w->path) < 0) {
		util_err(w->err, w->errlen, "rename %s: %s", w->path,
			 strerror(errno));
		unlink(w->tmp);
		return -1;
	}
	/* rename() took the path: it is shorter than PATH_MAX */
	util_copy_fit(dir, w->path, sizeof(dir));
	dfd = w->no_fsync ? -1 :
	      open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	free(w->buf);
	w->buf = NULL;
	w->st.type = h->type;
	w->st.serial = h->serial;
	w->st.base = h->base;
	w->st.epoch = h->epoch;
	w->st.file_size = SNAPSHOT_PREFIX_LEN + h->payload_len;
	util_copy_fit(w->st.key_id, h->key_id, sizeof(w->st.key_id));
	return 0;
}

/* The header fields every write shares; 0 or -1 with err. */
static int snapwrite_prepare(struct snapshot_header *h,
			     const struct catalog_info *info,
			     const struct snapwrite_opts *o, char *err,
			     size_t errlen)
{
	const char *catalog_id = o->catalog_id;
	int64_t created = o->created, lifetime = o->lifetime;

	memset(h, 0, sizeof(*h));
	if (!catalog_id)
		catalog_id = info->id;
	if (!catalog_id_valid(catalog_id)) {
		util_err(err, errlen, "catalog id \"%.80s\" is not [A-Za-z0-9."
			 "_-]{1,%d}", catalog_id, CATALOG_ID_MAX);
		return -1;
	}
	if (info->serial == 0) {
		util_err(err, errlen, "the catalog was never written "
			 "(serial 0): nothing to send");
		return -1;
	}
	if (created <= 0 || lifetime <= 0 || lifetime > SNAPSHOT_LIFETIME_MAX ||
	    created > INT64_MAX - lifetime) {
		util_err(err, errlen, "lifetime %lld s: must be 1 s .. %lld s",
			 (long long)lifetime,
			 (long long)SNAPSHOT_LIFETIME_MAX);
		return -1;
	}
	util_copy_fit(h->catalog_id, catalog_id, sizeof(h->catalog_id));
	h->serial = info->serial;
	h->epoch = o->epoch;
	h->created = created;
	h->expires = created + lifetime;
	return 0;
}

/* Keyed-hash mode from the options: the flag and the secret id. */
static void snapwrite_keyed(struct snapwrite *w, const struct snapwrite_opts *o)
{
	w->hash = o->hash;
	if (o->hash) {
		w->hdr.flags |= SNAPSHOT_FLAG_KEYED_HASH;
		memcpy(w->hdr.hash_id, keyhash_id(o->hash),
		       SNAPSHOT_HASH_ID_LEN);
	}
}

/*
 * End a write: when ok, sign and rename it into place and report its
 * figures in *st; otherwise (or if that fails) remove it.  0 or -1.
 */
static int snapwrite_close(struct snapwrite *w, int ok,
			   const struct sign_key *key, double t0,
			   struct snapwrite_stats *st)
{
	if (!ok || (w->hash && snapwrite_drain(w) < 0) ||
	    snapwrite_finish(w, key) < 0) {
		snapwrite_abort(w);
		return -1;
	}
	w->st.seconds = util_now() - t0;
	if (st)
		*st = w->st;
	snapwrite_abort(w);	/* frees what is left */
	return 0;
}

int snapwrite_full(struct catalog_read *r, const struct snapwrite_opts *o,
		   const struct sign_key *key, const char *path,
		   struct snapwrite_stats *st, char *err, size_t errlen)
{
	struct snapwrite w;
	struct snapshot_header h;
	struct catalog_info info;
	struct catalog_iter *it;
	struct catalog_rec rec;
	double t0 = util_now();
	int rc;

	catalog_read_info(r, &info);
	if (snapwrite_prepare(&h, &info, o, err, errlen) < 0)
		return -1;
	if (snapwrite_start(&w, path, err, errlen) < 0) {
		snapwrite_abort(&w);
		return -1;
	}
	w.hdr = h;
	snapwrite_keyed(&w, o);
	w.projection = o->projection;
	w.no_fsync = o->no_fsync;
	w.hdr.type = SNAPSHOT_FULL;
	it = catalog_iter_new(r);
	if (!it) {
		util_err(err, errlen, "cannot read the catalog's records");
		snapwrite_abort(&w);
		return -1;
	}
	while ((rc = catalog_iter_next(it, &rec)) == 1)
		if (snapwrite_add(&w, 0, rec.key, rec.keylen, &rec) < 0)
			break;
	catalog_iter_free(it);
	if (rc < 0)
		util_err(err, errlen, "cannot read the catalog's records");
	return snapwrite_close(&w, rc == 0, key, t0, st);
}

/* catalog_changes_since() callback: one put or delete. */
static int snapwrite_delta_one(void *arg, const char *key, size_t keylen,
			      const struct catalog_rec *rec)
{
	struct snapwrite *w = arg;

	if (snapwrite_add(w, rec ? SNAPSHOT_PUT : SNAPSHOT_DEL, key, keylen,
			  rec) < 0) {
		w->failed = 1;
		return -1;
	}
	return 0;
}

int snapwrite_delta(struct catalog_read *r, uint64_t base,
		    const struct snapwrite_opts *o,
		    const struct sign_key *key, const char *path,
		    struct snapwrite_stats *st, char *err, size_t errlen)
{
	struct snapwrite w;
	struct snapshot_header h;
	struct catalog_info info;
	double t0 = util_now();
	int rc;

	catalog_read_info(r, &info);
	if (snapwrite_prepare(&h, &info, o, err, errlen) < 0)
		return -1;
	if (base == 0 || base >= info.serial) {
		util_err(err, errlen, "no delta from serial %llu to %llu: the "
			 "base must be 1 .. %llu",
			 (unsigned long long)base,
			 (unsigned long long)info.serial,
			 (unsigned long long)info.serial - 1);
		return -1;
	}
	if (info.history_oldest == 0 || base < info.history_oldest)
		return 1;
	if (snapwrite_start(&w, path, err, errlen) < 0) {
		snapwrite_abort(&w);
		return -1;
	}
	w.hdr = h;
	snapwrite_keyed(&w, o);
	w.projection = o->projection;
	w.no_fsync = o->no_fsync;
	w.hdr.type = SNAPSHOT_DELTA;
	w.hdr.base = base;
	rc = catalog_changes_since(r, base, snapwrite_delta_one, &w);
	if (rc == 1) {
		snapwrite_abort(&w);
		return 1;
	}
	if (rc < 0 && !w.failed)
		util_err(err, errlen, "cannot read the catalog's change "
			 "history");
	return snapwrite_close(&w, rc == 0, key, t0, st);
}
