/*
 * catalog.c - the catalog on LMDB; see catalog.h and schema/catalog.md.
 *
 * Three named databases in one file: "records" (normalised key -> encoded
 * record), "meta" (name -> value) and "history" (serial, 8 bytes big-endian
 * -> the keys that commit touched).  A struct catalog and what it hands
 * out are for one thread at a time.
 */
#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog.h"
#include "log.h"
#include "util.h"

#define CATALOG_CHANGES_MAX ((size_t)1 << 31)	/* bytes of pending ops */

struct catalog {
	MDB_env *env;
	MDB_dbi records, meta, history;
	MDB_dbi aux[CATALOG_AUX_TABLES];
	int have_dbs, have_aux;
	unsigned flags;
	char *path;
	struct catalog_read *spare;	/* a reset read txn, reused */
};

struct catalog_read {
	struct catalog *cat;
	MDB_txn *txn;
};

/* One pending write of replace_all: op '+', '~' (put) or '-' (delete). */
struct catalog_op {
	size_t off;		/* of key, then value, in ops buffer */
	uint16_t keylen, vallen;
	char op;
};

struct catalog_txn {
	struct catalog *cat;
	MDB_txn *txn;
	struct catalog_diff diff;
	struct buf changes;	/* [op u8][len u16][key] per change */
	size_t *change_off;
	size_t nchanges, change_cap;
	uint64_t serial_before;
	uint64_t epoch_before;
	uint64_t serial_set;
	uint64_t epoch_set;
	int epoch_given;
	int64_t created_set;
	int64_t expires_set;
	int expires_given;
	char id[CATALOG_ID_MAX + 1];
	char key_id[65];
	unsigned history_max;
	int keep_serial;
};

static const char *const catalog_aux_names[CATALOG_AUX_TABLES] = {
	"aux.entries", "aux.claims", "aux.dns", "aux.refs"
};
#define CATALOG_META_PREFIX "x."	/* named meta values */

static const char *const catalog_kinds[CATALOG_KINDS] = {
	"?", "person", "group", "mailin", "domain"
};

const char *catalog_kind_name(int kind)
{
	return kind > 0 && kind < CATALOG_KINDS ? catalog_kinds[kind] : "?";
}

int catalog_kind_parse(const char *name)
{
	int k;

	for (k = 1; k < CATALOG_KINDS; k++)
		if (!strcmp(name, catalog_kinds[k]))
			return k;
	return 0;
}

int catalog_id_valid(const char *id)
{
	size_t i, n = strlen(id);

	if (n == 0 || n > CATALOG_ID_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = id[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return 0;
	}
	return 1;
}

size_t catalog_rec_encode(const struct catalog_rec *rec, unsigned char *out,
			  size_t outsize)
{
	size_t n = 5 + rec->ownerslen + rec->extralen;

	if (rec->kind <= 0 || rec->kind >= CATALOG_KINDS ||
	    rec->ownerslen > CATALOG_OWNERS_MAX ||
	    rec->extralen > CATALOG_EXTRA_MAX || n > outsize)
		return 0;
	out[0] = (unsigned char)rec->kind;
	util_put_u16(out + 1, (uint16_t)rec->ownerslen);
	if (rec->ownerslen)
		memcpy(out + 3, rec->owners, rec->ownerslen);
	util_put_u16(out + 3 + rec->ownerslen, (uint16_t)rec->extralen);
	if (rec->extralen)
		memcpy(out + 5 + rec->ownerslen, rec->extra, rec->extralen);
	return n;
}

int catalog_extra_internal_only(const char *extra, size_t len)
{
	static const char line[] = CATALOG_INTERNAL_ONLY_LINE;
	const size_t n = sizeof(line) - 1;
	size_t i = 0;

	while (i < len) {
		const char *nl = memchr(extra + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - extra) : len;

		if (end - i == n && !memcmp(extra + i, line, n))
			return 1;
		i = end + 1;
	}
	return 0;
}

int catalog_rec_decode(const unsigned char *val, size_t len,
		       struct catalog_rec *rec)
{
	size_t ol, el;

	if (len < 5 || val[0] == 0 || val[0] >= CATALOG_KINDS)
		return -1;
	ol = util_get_u16(val + 1);
	if (ol > CATALOG_OWNERS_MAX || 5 + ol > len)
		return -1;
	el = util_get_u16(val + 3 + ol);
	if (el > CATALOG_EXTRA_MAX || 5 + ol + el != len)
		return -1;
	rec->kind = val[0];
	rec->owners = (const char *)val + 3;
	rec->ownerslen = ol;
	rec->extra = (const char *)val + 5 + ol;
	rec->extralen = el;
	return 0;
}

/* Open the three databases; creating them needs a write transaction. */
static int catalog_open_dbs(struct catalog *cat, char *err, size_t errlen)
{
	unsigned create = (cat->flags & CATALOG_RDONLY) ? 0 : MDB_CREATE;
	MDB_txn *txn;
	int rc;

	rc = mdb_txn_begin(cat->env, NULL, create ? 0 : MDB_RDONLY, &txn);
	if (rc) {
		util_err(err, errlen, "%s: %s", cat->path, mdb_strerror(rc));
		return -1;
	}
	rc = mdb_dbi_open(txn, "records", create, &cat->records);
	if (!rc)
		rc = mdb_dbi_open(txn, "meta", create, &cat->meta);
	if (!rc)
		rc = mdb_dbi_open(txn, "history", create,
				  &cat->history);
	if (!rc && (cat->flags & CATALOG_PROVENANCE)) {
		int i;

		for (i = 0; !rc && i < CATALOG_AUX_TABLES; i++)
			rc = mdb_dbi_open(txn, catalog_aux_names[i], create,
					  &cat->aux[i]);
		if (!rc)
			cat->have_aux = 1;
		else if (rc == MDB_NOTFOUND && !create)
			rc = 0;		/* read-only, never written live */
	}
	if (rc == MDB_NOTFOUND && !create) {
		/* A catalog file that was never written: empty. */
		mdb_txn_abort(txn);
		return 0;
	}
	if (rc) {
		mdb_txn_abort(txn);
		util_err(err, errlen, "%s: %s", cat->path, mdb_strerror(rc));
		return -1;
	}
	rc = mdb_txn_commit(txn);
	if (rc) {
		util_err(err, errlen, "%s: %s", cat->path, mdb_strerror(rc));
		return -1;
	}
	cat->have_dbs = 1;
	return 0;
}

struct catalog *catalog_open(const char *path, unsigned flags,
			     char *err, size_t errlen)
{
	struct catalog *cat = xcalloc(1, sizeof(*cat));
	unsigned envflags = MDB_NOSUBDIR | MDB_NOTLS;
	int rc;

	cat->flags = flags;
	cat->path = xstrdup(path);
	if (flags & CATALOG_RDONLY)
		envflags |= MDB_RDONLY;
	if (flags & CATALOG_NOSYNC)
		envflags |= MDB_NOSYNC;
	rc = mdb_env_create(&cat->env);
	if (!rc)
		rc = mdb_env_set_maxdbs(cat->env, 8);
	if (!rc)
		rc = mdb_env_set_mapsize(cat->env, CATALOG_MAPSIZE_DEFAULT);
	if (!rc)
		rc = mdb_env_set_maxreaders(cat->env, 256);
	if (!rc)
		rc = mdb_env_open(cat->env, path, envflags, 0644);
	if (rc) {
		util_err(err, errlen, "catalog %s: %s", path,
			 rc == ENOENT ? "does not exist" : mdb_strerror(rc));
		catalog_close(cat);
		return NULL;
	}
	/* A reader killed mid-transaction (kill -9) leaves its slot taken,
	 * which pins old pages and makes the file grow: clear such slots. */
	{
		int dead = 0;

		(void)mdb_reader_check(cat->env, &dead);
	}
	if (catalog_open_dbs(cat, err, errlen) < 0) {
		catalog_close(cat);
		return NULL;
	}
	return cat;
}

void catalog_close(struct catalog *cat)
{
	if (!cat)
		return;
	if (cat->spare) {
		mdb_txn_abort(cat->spare->txn);
		free(cat->spare);
	}
	if (cat->env)
		mdb_env_close(cat->env);
	free(cat->path);
	free(cat);
}

const char *catalog_path(const struct catalog *cat)
{
	return cat->path;
}

struct catalog_read *catalog_read_begin(struct catalog *cat, char *err,
					size_t errlen)
{
	struct catalog_read *r;
	int rc;

	if (!cat->have_dbs && catalog_open_dbs(cat, err, errlen) < 0)
		return NULL;
	if (cat->spare) {
		r = cat->spare;
		cat->spare = NULL;
		rc = mdb_txn_renew(r->txn);
		if (rc == MDB_MAP_RESIZED) {
			mdb_env_set_mapsize(cat->env, 0);
			rc = mdb_txn_renew(r->txn);
		}
		if (rc) {
			mdb_txn_abort(r->txn);
			free(r);
			util_err(err, errlen, "%s: %s", cat->path,
				 mdb_strerror(rc));
			return NULL;
		}
		return r;
	}
	r = xcalloc(1, sizeof(*r));
	r->cat = cat;
	rc = mdb_txn_begin(cat->env, NULL, MDB_RDONLY, &r->txn);
	if (rc == MDB_MAP_RESIZED) {
		mdb_env_set_mapsize(cat->env, 0);
		rc = mdb_txn_begin(cat->env, NULL, MDB_RDONLY, &r->txn);
	}
	if (rc) {
		util_err(err, errlen, "%s: %s", cat->path, mdb_strerror(rc));
		free(r);
		return NULL;
	}
	return r;
}

uint64_t catalog_read_version(const struct catalog_read *r)
{
	return (uint64_t)mdb_txn_id(r->txn);
}

void catalog_read_end(struct catalog_read *r)
{
	if (!r)
		return;
	if (!r->cat->spare) {
		mdb_txn_reset(r->txn);
		r->cat->spare = r;
		return;
	}
	mdb_txn_abort(r->txn);
	free(r);
}

int catalog_get(struct catalog_read *r, const char *key, size_t keylen,
		struct catalog_rec *rec)
{
	MDB_val k, v;
	int rc;

	if (!r->cat->have_dbs)
		return 0;
	if (keylen == 0 || keylen > CATALOG_KEY_MAX)
		return 0;
	k.mv_data = (void *)key;
	k.mv_size = keylen;
	rc = mdb_get(r->txn, r->cat->records, &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc)
		return -1;
	if (catalog_rec_decode(v.mv_data, v.mv_size, rec) < 0)
		return -1;
	rec->key = k.mv_data;
	rec->keylen = k.mv_size;
	return 1;
}

int catalog_foreach(struct catalog_read *r,
		    int (*fn)(void *arg, const struct catalog_rec *rec),
		    void *arg)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc, ret = 0;

	if (!r->cat->have_dbs)
		return 0;
	if (mdb_cursor_open(r->txn, r->cat->records, &cur))
		return -1;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		struct catalog_rec rec;

		if (catalog_rec_decode(v.mv_data, v.mv_size, &rec) < 0) {
			ret = -1;
			break;
		}
		rec.key = k.mv_data;
		rec.keylen = k.mv_size;
		ret = fn(arg, &rec);
		if (ret)
			break;
	}
	if (rc && rc != MDB_NOTFOUND)
		ret = -1;
	mdb_cursor_close(cur);
	return ret;
}

struct catalog_iter {
	MDB_cursor *cur;
	int started, done;
};

struct catalog_iter *catalog_iter_new(struct catalog_read *r)
{
	struct catalog_iter *it = xcalloc(1, sizeof(*it));

	if (!r->cat->have_dbs)
		it->done = 1;
	else if (mdb_cursor_open(r->txn, r->cat->records, &it->cur)) {
		free(it);
		return NULL;
	}
	return it;
}

int catalog_iter_next(struct catalog_iter *it, struct catalog_rec *rec)
{
	MDB_val k, v;
	int rc;

	if (it->done)
		return 0;
	rc = mdb_cursor_get(it->cur, &k, &v, it->started ? MDB_NEXT : MDB_FIRST);
	it->started = 1;
	if (rc == MDB_NOTFOUND) {
		it->done = 1;
		return 0;
	}
	if (rc || catalog_rec_decode(v.mv_data, v.mv_size, rec) < 0)
		return -1;
	rec->key = k.mv_data;
	rec->keylen = k.mv_size;
	return 1;
}

void catalog_iter_free(struct catalog_iter *it)
{
	if (!it)
		return;
	if (it->cur)
		mdb_cursor_close(it->cur);
	free(it);
}

/* Read a meta value as a string into buf; "" when absent. */
static void catalog_meta_str(MDB_txn *txn, MDB_dbi dbi, const char *name,
			     char *buf, size_t size)
{
	MDB_val k = { strlen(name), (void *)name }, v;

	buf[0] = '\0';
	if (mdb_get(txn, dbi, &k, &v) == 0 && v.mv_size < size) {
		memcpy(buf, v.mv_data, v.mv_size);
		buf[v.mv_size] = '\0';
	}
}

/* Read a meta value stored as 8 bytes big-endian; 0 when absent. */
static uint64_t catalog_meta_u64(MDB_txn *txn, MDB_dbi dbi, const char *name)
{
	MDB_val k = { strlen(name), (void *)name }, v;

	if (mdb_get(txn, dbi, &k, &v) == 0 && v.mv_size == 8)
		return util_get_u64(v.mv_data);
	return 0;
}

static int catalog_meta_put_u64(MDB_txn *txn, MDB_dbi dbi, const char *name,
				uint64_t val)
{
	unsigned char b[8];
	MDB_val k = { strlen(name), (void *)name }, v = { 8, b };

	util_put_u64(b, val);
	return mdb_put(txn, dbi, &k, &v, 0);
}

static int catalog_meta_put_str(MDB_txn *txn, MDB_dbi dbi, const char *name,
				const char *val)
{
	MDB_val k = { strlen(name), (void *)name };
	MDB_val v = { strlen(val), (void *)val };

	return mdb_put(txn, dbi, &k, &v, 0);
}

static const char *const catalog_count_names[CATALOG_KINDS] = {
	"count.other", "count.person", "count.group", "count.mailin",
	"count.domain"
};

/* Fill info from an open transaction. */
static void catalog_info_txn(struct catalog *cat, MDB_txn *txn,
			     struct catalog_info *info)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int i;

	memset(info, 0, sizeof(*info));
	if (!cat->have_dbs)
		return;
	catalog_meta_str(txn, cat->meta, "id", info->id, sizeof(info->id));
	catalog_meta_str(txn, cat->meta, "key_id", info->key_id,
			 sizeof(info->key_id));
	info->serial = catalog_meta_u64(txn, cat->meta, "serial");
	info->epoch = catalog_meta_u64(txn, cat->meta, "epoch");
	info->created = (int64_t)catalog_meta_u64(txn, cat->meta, "created");
	info->expires = (int64_t)catalog_meta_u64(txn, cat->meta, "expires");
	info->installed = (int64_t)catalog_meta_u64(txn, cat->meta,
						    "installed");
	for (i = 0; i < CATALOG_KINDS; i++) {
		info->count[i] = catalog_meta_u64(txn, cat->meta,
						  catalog_count_names[i]);
		info->records += info->count[i];
	}
	/* The oldest base: the first history serial minus one, provided
	 * the history runs unbroken from there to the current serial. */
	if (mdb_cursor_open(txn, cat->history, &cur) == 0) {
		if (mdb_cursor_get(cur, &k, &v, MDB_FIRST) == 0 &&
		    k.mv_size == 8) {
			uint64_t first = util_get_u64(k.mv_data);
			MDB_stat st;

			if (mdb_stat(txn, cat->history, &st) == 0 &&
			    first + st.ms_entries - 1 == info->serial && first > 1)
				info->history_oldest = first - 1;
		}
		mdb_cursor_close(cur);
	}
}

int catalog_read_info(struct catalog_read *r, struct catalog_info *info)
{
	catalog_info_txn(r->cat, r->txn, info);
	return 0;
}

int catalog_info(struct catalog *cat, struct catalog_info *info, char *err,
		 size_t errlen)
{
	struct catalog_read *r = catalog_read_begin(cat, err, errlen);

	if (!r)
		return -1;
	catalog_read_info(r, info);
	catalog_read_end(r);
	return 0;
}

/* A touched key, for merging history entries. */
struct catalog_touched {
	const unsigned char *key;
	uint16_t len;
};

static int catalog_touched_cmp(const void *a, const void *b)
{
	const struct catalog_touched *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->key, y->key, n);

	if (c)
		return c;
	return (int)x->len - (int)y->len;
}

int catalog_changes_since(struct catalog_read *r, uint64_t base,
			  int (*fn)(void *arg, const char *key, size_t keylen,
				    const struct catalog_rec *rec_or_null),
			  void *arg)
{
	struct catalog_info info;
	struct catalog_touched *t = NULL;
	size_t n = 0, cap = 0, i;
	uint64_t s;
	int ret = 0;

	catalog_info_txn(r->cat, r->txn, &info);
	if (base == info.serial)
		return 0;
	if (base > info.serial || info.history_oldest == 0 ||
	    base < info.history_oldest)
		return 1;
	for (s = base + 1; s <= info.serial; s++) {
		unsigned char kb[8];
		MDB_val k = { 8, kb }, v;
		const unsigned char *p, *end;

		util_put_u64(kb, s);
		if (mdb_get(r->txn, r->cat->history, &k, &v)) {
			free(t);
			return 1;
		}
		p = v.mv_data;
		end = p + v.mv_size;
		while (p < end) {
			uint16_t len;

			if (end - p < 3)
				goto corrupt;
			len = util_get_u16(p + 1);
			if ((size_t)(end - p - 3) < len || len == 0)
				goto corrupt;
			if (n == cap) {
				cap = cap ? cap * 2 : 1024;
				t = xrealloc(t, cap * sizeof(*t));
			}
			t[n].key = p + 3;
			t[n].len = len;
			n++;
			p += 3 + len;
		}
	}
	/* An empty change (a serial refreshed without edits) has no keys:
	 * qsort must not see the NULL array. */
	if (n > 1)
		qsort(t, n, sizeof(*t), catalog_touched_cmp);
	for (i = 0; i < n; i++) {
		struct catalog_rec rec;
		int found;

		if (i > 0 && catalog_touched_cmp(&t[i - 1], &t[i]) == 0)
			continue;
		found = catalog_get(r, (const char *)t[i].key, t[i].len, &rec);
		if (found < 0) {
			ret = -1;
			break;
		}
		ret = fn(arg, (const char *)t[i].key, t[i].len,
			 found ? &rec : NULL);
		if (ret) {
			ret = -1;
			break;
		}
	}
	free(t);
	return ret;
corrupt:
	free(t);
	return -1;
}

struct catalog_txn *catalog_write_begin(struct catalog *cat, char *err,
					size_t errlen)
{
	struct catalog_txn *t;
	struct catalog_info info;
	int rc;

	if (cat->flags & CATALOG_RDONLY) {
		util_err(err, errlen, "%s: opened read-only", cat->path);
		return NULL;
	}
	t = xcalloc(1, sizeof(*t));
	t->cat = cat;
	rc = mdb_txn_begin(cat->env, NULL, 0, &t->txn);
	if (rc) {
		util_err(err, errlen, "%s: %s", cat->path, mdb_strerror(rc));
		free(t);
		return NULL;
	}
	catalog_info_txn(cat, t->txn, &info);
	memcpy(t->diff.count, info.count, sizeof(info.count));
	t->diff.records = t->diff.records_before = info.records;
	t->serial_before = info.serial;
	t->epoch_before = info.epoch;
	t->history_max = CATALOG_HISTORY_DEFAULT;
	buf_init(&t->changes, CATALOG_CHANGES_MAX);
	return t;
}

/* Remember a change for the history and for dry-run samples. */
static void catalog_note(struct catalog_txn *t, char op, const void *key,
			 size_t keylen)
{
	unsigned char hdr[3];

	if (t->nchanges == t->change_cap) {
		t->change_cap = t->change_cap ? t->change_cap * 2 : 1024;
		t->change_off = xrealloc(t->change_off,
					 t->change_cap * sizeof(size_t));
	}
	t->change_off[t->nchanges++] = t->changes.len;
	hdr[0] = (unsigned char)op;
	util_put_u16(hdr + 1, (uint16_t)keylen);
	if (buf_append(&t->changes, hdr, 3) < 0 ||
	    buf_append(&t->changes, key, keylen) < 0)
		log_fatal(75, "more than %zu bytes of changes in one transaction",
			  CATALOG_CHANGES_MAX);
}

/* Account for a record of kind going away / coming in. */
static void catalog_count(struct catalog_txn *t, int kind, int delta)
{
	if (kind > 0 && kind < CATALOG_KINDS)
		t->diff.count[kind] += (uint64_t)(int64_t)delta;
	t->diff.records += (uint64_t)(int64_t)delta;
}

static int catalog_key_ok(const char *key, size_t keylen)
{
	return keylen > 0 && keylen <= CATALOG_KEY_MAX && !memchr(key, 0, keylen);
}

int catalog_txn_put(struct catalog_txn *t, const struct catalog_rec *rec,
		    char *err, size_t errlen)
{
	unsigned char val[CATALOG_VALUE_MAX];
	size_t vlen;
	MDB_val k, v, old;
	int rc, oldkind = 0;

	if (!catalog_key_ok(rec->key, rec->keylen)) {
		util_err(err, errlen, "bad key length %zu", rec->keylen);
		return -1;
	}
	vlen = catalog_rec_encode(rec, val, sizeof(val));
	if (vlen == 0) {
		util_err(err, errlen, "record for %.*s over its size limits",
			 (int)rec->keylen, rec->key);
		return -1;
	}
	k.mv_data = (void *)rec->key;
	k.mv_size = rec->keylen;
	rc = mdb_get(t->txn, t->cat->records, &k, &old);
	if (rc == 0) {
		if (old.mv_size == vlen && !memcmp(old.mv_data, val, vlen)) {
			t->diff.unchanged++;
			return 0;
		}
		oldkind = ((unsigned char *)old.mv_data)[0];
	} else if (rc != MDB_NOTFOUND) {
		util_err(err, errlen, "%s: %s", t->cat->path, mdb_strerror(rc));
		return -1;
	}
	v.mv_data = val;
	v.mv_size = vlen;
	rc = mdb_put(t->txn, t->cat->records, &k, &v, 0);
	if (rc) {
		util_err(err, errlen, "%s: %s", t->cat->path, mdb_strerror(rc));
		return -1;
	}
	if (oldkind) {
		catalog_count(t, oldkind, -1);
		t->diff.changed++;
		catalog_note(t, '~', rec->key, rec->keylen);
	} else {
		t->diff.added++;
		catalog_note(t, '+', rec->key, rec->keylen);
	}
	catalog_count(t, rec->kind, +1);
	return 1;
}

int catalog_txn_del(struct catalog_txn *t, const char *key, size_t keylen,
		    char *err, size_t errlen)
{
	MDB_val k, old;
	int rc, oldkind;

	if (!catalog_key_ok(key, keylen))
		return 0;
	k.mv_data = (void *)key;
	k.mv_size = keylen;
	rc = mdb_get(t->txn, t->cat->records, &k, &old);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc == 0) {
		oldkind = ((unsigned char *)old.mv_data)[0];
		rc = mdb_del(t->txn, t->cat->records, &k, NULL);
	}
	if (rc) {
		util_err(err, errlen, "%s: %s", t->cat->path, mdb_strerror(rc));
		return -1;
	}
	catalog_count(t, oldkind, -1);
	t->diff.removed++;
	catalog_note(t, '-', key, keylen);
	return 1;
}

/* LMDB's default key order: memcmp, then the shorter first. */
static int catalog_keycmp(const void *a, size_t al, const void *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);

	if (c)
		return c;
	return al < bl ? -1 : al > bl;
}

/* Pending writes of replace_all, applied after the cursor walk. */
struct catalog_pending {
	struct buf data;
	struct catalog_op *ops;
	size_t n, cap;
};

static void catalog_pending_add(struct catalog_pending *p, char op,
				const void *key, size_t keylen,
				const void *val, size_t vallen)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 1024;
		p->ops = xrealloc(p->ops, p->cap * sizeof(*p->ops));
	}
	p->ops[p->n].off = p->data.len;
	p->ops[p->n].keylen = (uint16_t)keylen;
	p->ops[p->n].vallen = (uint16_t)vallen;
	p->ops[p->n].op = op;
	p->n++;
	if (buf_append(&p->data, key, keylen) < 0 ||
	    buf_append(&p->data, val, vallen) < 0)
		log_fatal(75, "more than %zu bytes of pending changes",
			  CATALOG_CHANGES_MAX);
}

/* The old records, walked in key order beside the new ones. */
struct catalog_walk {
	MDB_cursor *cur;
	MDB_val key, val;	/* the current old record, when have */
	int have;
	int rc;			/* the cursor's last result */
};

static void catalog_walk_next(struct catalog_walk *w, MDB_cursor_op op)
{
	w->rc = mdb_cursor_get(w->cur, &w->key, &w->val, op);
	w->have = w->rc == 0;
}

/*
 * The next record from next(), its key checked (length, strictly above
 * the one before: *prev holds it) and its value encoded into val.  1 with
 * *vlen, 0 at the end, -1 with err.
 */
static int catalog_replace_next(int (*next)(void *arg, struct catalog_rec *rec,
					    char *err, size_t errlen),
				void *arg, struct catalog_rec *rec,
				char prev[CATALOG_KEY_MAX], size_t *prevlen,
				unsigned char val[CATALOG_VALUE_MAX],
				size_t *vlen, char *err, size_t errlen)
{
	int got;

	memset(rec, 0, sizeof(*rec));
	got = next(arg, rec, err, errlen);
	if (got <= 0)
		return got;
	if (!catalog_key_ok(rec->key, rec->keylen)) {
		util_err(err, errlen, "bad key length %zu", rec->keylen);
		return -1;
	}
	if (*prevlen && catalog_keycmp(prev, *prevlen, rec->key,
				       rec->keylen) >= 0) {
		util_err(err, errlen, "records out of order or repeated at %.*s",
			 (int)rec->keylen, rec->key);
		return -1;
	}
	memcpy(prev, rec->key, rec->keylen);
	*prevlen = rec->keylen;
	*vlen = catalog_rec_encode(rec, val, CATALOG_VALUE_MAX);
	if (*vlen == 0) {
		util_err(err, errlen, "record for %.*s over its size limits",
			 (int)rec->keylen, rec->key);
		return -1;
	}
	return 1;
}

/* Into an empty database: rec appended at the end, the fast path.  0, or
 * -1 with err. */
static int catalog_replace_append(struct catalog_txn *t, MDB_cursor *cur,
				  const struct catalog_rec *rec,
				  const unsigned char *val, size_t vlen,
				  char *err, size_t errlen)
{
	MDB_val k = { rec->keylen, (void *)rec->key };
	MDB_val v = { vlen, (void *)val };
	int rc = mdb_cursor_put(cur, &k, &v, MDB_APPEND);

	if (rc) {
		util_err(err, errlen, "%s: %s", t->cat->path, mdb_strerror(rc));
		return -1;
	}
	t->diff.added++;
	if (t->serial_before > 0)
		catalog_note(t, '+', rec->key, rec->keylen);
	return 0;
}

/* rec against the old records: those below its key are removed, an
 * equal one kept or changed, else rec is added (into pend). */
static void catalog_replace_merge(struct catalog_txn *t,
				  struct catalog_walk *w,
				  struct catalog_pending *pend,
				  const struct catalog_rec *rec,
				  const unsigned char *val, size_t vlen)
{
	while (w->have && catalog_keycmp(w->key.mv_data, w->key.mv_size,
					 rec->key, rec->keylen) < 0) {
		catalog_pending_add(pend, '-', w->key.mv_data, w->key.mv_size,
				    NULL, 0);
		catalog_walk_next(w, MDB_NEXT);
	}
	if (w->have && catalog_keycmp(w->key.mv_data, w->key.mv_size, rec->key,
				      rec->keylen) == 0) {
		if (w->val.mv_size == vlen && !memcmp(w->val.mv_data, val, vlen))
			t->diff.unchanged++;
		else
			catalog_pending_add(pend, '~', rec->key, rec->keylen,
					    val, vlen);
		catalog_walk_next(w, MDB_NEXT);
	} else {
		catalog_pending_add(pend, '+', rec->key, rec->keylen, val,
				    vlen);
	}
}

/* The pending changes written, in key order, and noted in the change
 * history.  0, or -1 with err. */
static int catalog_pending_apply(struct catalog_txn *t,
				 const struct catalog_pending *pend,
				 char *err, size_t errlen)
{
	size_t i;
	int rc;

	for (i = 0; i < pend->n; i++) {
		const struct catalog_op *op = &pend->ops[i];
		MDB_val k = { op->keylen, pend->data.data + op->off };
		MDB_val v = { op->vallen, pend->data.data + op->off + op->keylen };

		if (op->op == '-') {
			rc = mdb_del(t->txn, t->cat->records, &k, NULL);
			t->diff.removed++;
		} else {
			rc = mdb_put(t->txn, t->cat->records, &k, &v, 0);
			if (op->op == '+')
				t->diff.added++;
			else
				t->diff.changed++;
		}
		if (rc) {
			util_err(err, errlen, "%s: %s", t->cat->path,
				 mdb_strerror(rc));
			return -1;
		}
		catalog_note(t, op->op, k.mv_data, k.mv_size);
	}
	return 0;
}

/*
 * One walk of the new records beside the old ones: into an empty
 * database each is appended; otherwise the differences are collected and
 * written after the walk (no cursor is moved under writes), in key order.
 */
int catalog_txn_replace_all(struct catalog_txn *t,
			    int (*next)(void *arg, struct catalog_rec *rec,
					char *err, size_t errlen),
			    void *arg, char *err, size_t errlen)
{
	struct catalog_pending pend;
	struct catalog_walk w;
	unsigned char val[CATALOG_VALUE_MAX];
	char prev[CATALOG_KEY_MAX];
	size_t prevlen = 0, vlen = 0;
	MDB_stat st;
	int rc, got, append, ret = -1;
	uint64_t count[CATALOG_KINDS] = { 0 }, total = 0;

	memset(&pend, 0, sizeof(pend));
	memset(&w, 0, sizeof(w));
	buf_init(&pend.data, CATALOG_CHANGES_MAX);
	rc = mdb_stat(t->txn, t->cat->records, &st);
	if (!rc)
		rc = mdb_cursor_open(t->txn, t->cat->records, &w.cur);
	if (rc) {
		util_err(err, errlen, "%s: %s", t->cat->path, mdb_strerror(rc));
		return -1;
	}
	append = st.ms_entries == 0;
	catalog_walk_next(&w, MDB_FIRST);
	for (;;) {
		struct catalog_rec rec;

		got = catalog_replace_next(next, arg, &rec, prev, &prevlen, val,
					   &vlen, err, errlen);
		if (got < 0)
			goto out;
		if (got == 0)
			break;
		count[rec.kind]++;
		total++;
		if (append) {
			if (catalog_replace_append(t, w.cur, &rec, val, vlen, err,
						   errlen) < 0)
				goto out;
		} else {
			catalog_replace_merge(t, &w, &pend, &rec, val, vlen);
		}
	}
	/* Old keys above the last new one are gone too. */
	while (w.have) {
		catalog_pending_add(&pend, '-', w.key.mv_data, w.key.mv_size,
				    NULL, 0);
		catalog_walk_next(&w, MDB_NEXT);
	}
	if (w.rc && w.rc != MDB_NOTFOUND) {
		util_err(err, errlen, "%s: %s", t->cat->path,
			 mdb_strerror(w.rc));
		goto out;
	}
	mdb_cursor_close(w.cur);
	w.cur = NULL;
	if (catalog_pending_apply(t, &pend, err, errlen) < 0)
		goto out;
	memcpy(t->diff.count, count, sizeof(count));
	t->diff.records = total;
	ret = 0;
out:
	if (w.cur)
		mdb_cursor_close(w.cur);
	buf_free(&pend.data);
	free(pend.ops);
	return ret;
}

void catalog_txn_diff(const struct catalog_txn *t, struct catalog_diff *d)
{
	*d = t->diff;
}

size_t catalog_txn_nchanges(const struct catalog_txn *t)
{
	return t->nchanges;
}

int catalog_txn_change(const struct catalog_txn *t, size_t i, int *op,
		       const char **key, size_t *keylen)
{
	const unsigned char *p;

	if (i >= t->nchanges)
		return -1;
	p = t->changes.data + t->change_off[i];
	*op = p[0];
	*keylen = util_get_u16(p + 1);
	*key = (const char *)p + 3;
	return 0;
}

void catalog_txn_set_id(struct catalog_txn *t, const char *id)
{
	util_copy_fit(t->id, id, sizeof(t->id));	/* catalog_id_valid */
}

void catalog_txn_set_serial(struct catalog_txn *t, uint64_t serial,
			    int64_t created)
{
	t->serial_set = serial;
	t->created_set = created;
}

void catalog_txn_set_epoch(struct catalog_txn *t, uint64_t epoch)
{
	t->epoch_set = epoch;
	t->epoch_given = 1;
}

uint64_t catalog_txn_epoch_before(const struct catalog_txn *t)
{
	return t->epoch_before;
}

void catalog_txn_set_expires(struct catalog_txn *t, int64_t expires)
{
	t->expires_set = expires;
	t->expires_given = 1;
}

void catalog_txn_set_key_id(struct catalog_txn *t, const char *key_id)
{
	util_copy_fit(t->key_id, key_id, sizeof(t->key_id));
}

void catalog_txn_set_history(struct catalog_txn *t, unsigned max)
{
	t->history_max = max;
}

uint64_t catalog_txn_serial_before(const struct catalog_txn *t)
{
	return t->serial_before;
}

/* Drop history older than the newest max serials. */
static int catalog_trim_history(struct catalog_txn *t, uint64_t serial)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	rc = mdb_cursor_open(t->txn, t->cat->history, &cur);
	if (rc)
		return rc;
	while ((rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) == 0) {
		uint64_t s = k.mv_size == 8 ? util_get_u64(k.mv_data) : 0;

		if (t->history_max && s + t->history_max > serial)
			break;
		rc = mdb_cursor_del(cur, 0);
		if (rc)
			break;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

uint64_t catalog_txn_commit(struct catalog_txn *t, char *err, size_t errlen)
{
	struct catalog *cat = t->cat;
	uint64_t serial = t->serial_before;
	int64_t now = (int64_t)time(NULL);
	int rc = 0, i;

	if (t->keep_serial) {
		if (t->nchanges > 0 || t->serial_set || t->diff.added ||
		    t->diff.removed || t->diff.changed)
			log_panic("%s: records changed in a bookkeeping-only "
				  "transaction", cat->path);
	} else if (t->serial_set) {
		serial = t->serial_set;
	} else if (t->nchanges > 0 || t->serial_before == 0) {
		serial = t->serial_before + 1;
	}
	if (serial != t->serial_before) {
		rc = catalog_meta_put_u64(t->txn, cat->meta, "serial", serial);
		if (!rc)
			rc = catalog_meta_put_u64(t->txn, cat->meta, "created",
						  (uint64_t)(t->created_set ?
							     t->created_set : now));
		/* A consecutive serial's changes make a delta possible. */
		if (!rc && t->history_max && serial == t->serial_before + 1 &&
		    t->serial_before > 0) {
			unsigned char kb[8];
			MDB_val k = { 8, kb };
			MDB_val v = { t->changes.len, t->changes.data };

			util_put_u64(kb, serial);
			rc = mdb_put(t->txn, cat->history, &k, &v, 0);
			if (!rc)
				rc = catalog_trim_history(t, serial);
		} else if (!rc) {
			/* History broken (explicit jump or none kept). */
			t->history_max = 0;
			rc = catalog_trim_history(t, serial);
		}
	}
	if (!rc && t->id[0])
		rc = catalog_meta_put_str(t->txn, cat->meta, "id", t->id);
	if (!rc && t->key_id[0])
		rc = catalog_meta_put_str(t->txn, cat->meta, "key_id",
					  t->key_id);
	if (!rc && t->epoch_given)
		rc = catalog_meta_put_u64(t->txn, cat->meta, "epoch",
					  t->epoch_set);
	if (!rc && t->expires_given)
		rc = catalog_meta_put_u64(t->txn, cat->meta, "expires",
					  (uint64_t)t->expires_set);
	if (!rc && !t->keep_serial)
		rc = catalog_meta_put_u64(t->txn, cat->meta, "installed",
					  (uint64_t)now);
	for (i = 0; !rc && i < CATALOG_KINDS; i++)
		rc = catalog_meta_put_u64(t->txn, cat->meta,
					  catalog_count_names[i],
					  t->diff.count[i]);
	if (rc) {
		util_err(err, errlen, "%s: %s", cat->path, mdb_strerror(rc));
		catalog_txn_abort(t);
		return 0;
	}
	rc = mdb_txn_commit(t->txn);
	t->txn = NULL;
	catalog_txn_abort(t);
	if (rc) {
		util_err(err, errlen, "%s: commit: %s", cat->path,
			 mdb_strerror(rc));
		return 0;
	}
	return serial;
}

void catalog_txn_keep_serial(struct catalog_txn *t)
{
	t->keep_serial = 1;
}

/* ------------------------------------------------------------ aux */

/* The table's handle, or -1 when the catalog has no aux tables. */
static int catalog_aux_dbi(struct catalog_txn *t, int table, MDB_dbi *dbi)
{
	if (!t->cat->have_aux || table < 0 || table >= CATALOG_AUX_TABLES)
		return -1;
	*dbi = t->cat->aux[table];
	return 0;
}

int catalog_txn_aux_get(struct catalog_txn *t, int table, const void *key,
			size_t keylen, const void **val, size_t *vallen)
{
	MDB_val k = { keylen, (void *)key }, v;
	MDB_dbi dbi;
	int rc;

	if (catalog_aux_dbi(t, table, &dbi) < 0 || keylen == 0 ||
	    keylen > CATALOG_AUX_KEY_MAX)
		return -1;
	rc = mdb_get(t->txn, dbi, &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc)
		return -1;
	*val = v.mv_data;
	*vallen = v.mv_size;
	return 1;
}

int catalog_txn_aux_put(struct catalog_txn *t, int table, const void *key,
			size_t keylen, const void *val, size_t vallen,
			char *err, size_t errlen)
{
	MDB_val k = { keylen, (void *)key }, v = { vallen, (void *)val };
	MDB_dbi dbi;
	int rc;

	if (catalog_aux_dbi(t, table, &dbi) < 0) {
		util_err(err, errlen, "%s: opened without provenance tables",
			 t->cat->path);
		return -1;
	}
	if (keylen == 0 || keylen > CATALOG_AUX_KEY_MAX ||
	    vallen > CATALOG_AUX_VALUE_MAX) {
		util_err(err, errlen, "%s: %s: key of %zu or value of %zu "
			 "bytes over the limits", t->cat->path,
			 catalog_aux_names[table], keylen, vallen);
		return -1;
	}
	rc = mdb_put(t->txn, dbi, &k, &v, 0);
	if (rc) {
		util_err(err, errlen, "%s: %s", t->cat->path, mdb_strerror(rc));
		return -1;
	}
	return 0;
}

int catalog_txn_aux_del(struct catalog_txn *t, int table, const void *key,
			size_t keylen, char *err, size_t errlen)
{
	MDB_val k = { keylen, (void *)key };
	MDB_dbi dbi;
	int rc;

	if (catalog_aux_dbi(t, table, &dbi) < 0 || keylen == 0 ||
	    keylen > CATALOG_AUX_KEY_MAX) {
		util_err(err, errlen, "%s: bad provenance key", t->cat->path);
		return -1;
	}
	rc = mdb_del(t->txn, dbi, &k, NULL);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc) {
		util_err(err, errlen, "%s: %s", t->cat->path, mdb_strerror(rc));
		return -1;
	}
	return 1;
}

int catalog_txn_aux_scan(struct catalog_txn *t, int table, const void *prefix,
			 size_t plen,
			 int (*fn)(void *arg, const void *key, size_t keylen,
				   const void *val, size_t vallen),
			 void *arg)
{
	MDB_cursor *cur;
	MDB_val k = { plen, (void *)prefix }, v;
	MDB_dbi dbi;
	int rc, ret = 0;

	if (catalog_aux_dbi(t, table, &dbi) < 0 ||
	    plen > CATALOG_AUX_KEY_MAX)
		return -1;
	if (mdb_cursor_open(t->txn, dbi, &cur))
		return -1;
	rc = plen ? mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE)
		  : mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	while (rc == 0) {
		if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen))
			break;
		ret = fn(arg, k.mv_data, k.mv_size, v.mv_data, v.mv_size);
		if (ret)
			break;
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	if (rc && rc != MDB_NOTFOUND)
		ret = -1;
	mdb_cursor_close(cur);
	return ret;
}

struct catalog_aux_iter {
	MDB_cursor *cur;
	int started;
};

struct catalog_aux_iter *catalog_aux_iter_new(struct catalog_txn *t,
					      int table)
{
	struct catalog_aux_iter *it;
	MDB_dbi dbi;

	if (catalog_aux_dbi(t, table, &dbi) < 0)
		return NULL;
	it = xcalloc(1, sizeof(*it));
	if (mdb_cursor_open(t->txn, dbi, &it->cur)) {
		free(it);
		return NULL;
	}
	return it;
}

int catalog_aux_iter_next(struct catalog_aux_iter *it, const void **key,
			  size_t *keylen, const void **val, size_t *vallen)
{
	MDB_val k, v;
	int rc = mdb_cursor_get(it->cur, &k, &v,
				it->started ? MDB_NEXT : MDB_FIRST);

	it->started = 1;
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc)
		return -1;
	*key = k.mv_data;
	*keylen = k.mv_size;
	*val = v.mv_data;
	*vallen = v.mv_size;
	return 1;
}

void catalog_aux_iter_free(struct catalog_aux_iter *it)
{
	if (!it)
		return;
	mdb_cursor_close(it->cur);
	free(it);
}

int catalog_txn_aux_clear(struct catalog_txn *t, int table)
{
	MDB_dbi dbi;

	if (catalog_aux_dbi(t, table, &dbi) < 0)
		return -1;
	return mdb_drop(t->txn, dbi, 0) ? -1 : 0;
}

int64_t catalog_txn_aux_count(struct catalog_txn *t, int table)
{
	MDB_stat st;
	MDB_dbi dbi;

	if (catalog_aux_dbi(t, table, &dbi) < 0 ||
	    mdb_stat(t->txn, dbi, &st))
		return -1;
	return (int64_t)st.ms_entries;
}

/* ----------------------------------------------------- named meta */

/* "x." + name into key; -1 when the name is not acceptable. */
static int catalog_meta_name(const char *name, char *key, size_t size)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > CATALOG_META_NAME_MAX)
		return -1;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return -1;
	}
	if ((size_t)snprintf(key, size, "%s%s", CATALOG_META_PREFIX, name) >=
	    size)
		return -1;
	return 0;
}

/* Look a named value up in txn. */
static int catalog_meta_named(struct catalog *cat, MDB_txn *txn,
			      const char *name, void *buf, size_t size,
			      size_t *len)
{
	char key[CATALOG_META_NAME_MAX + 8];
	MDB_val k, v;
	int rc;

	if (!cat->have_dbs)
		return 0;
	if (catalog_meta_name(name, key, sizeof(key)) < 0)
		return -1;
	k.mv_data = key;
	k.mv_size = strlen(key);
	rc = mdb_get(txn, cat->meta, &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc || v.mv_size > size)
		return -1;
	if (v.mv_size)
		memcpy(buf, v.mv_data, v.mv_size);
	*len = v.mv_size;
	return 1;
}

int catalog_txn_meta_get(struct catalog_txn *t, const char *name, void *buf,
			 size_t size, size_t *len)
{
	return catalog_meta_named(t->cat, t->txn, name, buf, size, len);
}

int catalog_read_meta(struct catalog_read *r, const char *name, void *buf,
		      size_t size, size_t *len)
{
	return catalog_meta_named(r->cat, r->txn, name, buf, size, len);
}

int catalog_txn_meta_put(struct catalog_txn *t, const char *name,
			 const void *val, size_t len, char *err,
			 size_t errlen)
{
	char key[CATALOG_META_NAME_MAX + 8];
	MDB_val k, v = { len, (void *)val };
	int rc;

	if (catalog_meta_name(name, key, sizeof(key)) < 0 ||
	    len > CATALOG_META_VALUE_MAX) {
		util_err(err, errlen, "%s: bad meta name or value over %d "
			 "bytes", t->cat->path, CATALOG_META_VALUE_MAX);
		return -1;
	}
	k.mv_data = key;
	k.mv_size = strlen(key);
	rc = mdb_put(t->txn, t->cat->meta, &k, &v, 0);
	if (rc) {
		util_err(err, errlen, "%s: %s", t->cat->path, mdb_strerror(rc));
		return -1;
	}
	return 0;
}

int catalog_txn_meta_del(struct catalog_txn *t, const char *name)
{
	char key[CATALOG_META_NAME_MAX + 8];
	MDB_val k;
	int rc;

	if (catalog_meta_name(name, key, sizeof(key)) < 0)
		return -1;
	k.mv_data = key;
	k.mv_size = strlen(key);
	rc = mdb_del(t->txn, t->cat->meta, &k, NULL);
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : -1;
}

int catalog_txn_meta_del_prefix(struct catalog_txn *t, const char *prefix)
{
	char key[CATALOG_META_NAME_MAX + 8];
	MDB_cursor *cur;
	MDB_val k, v;
	size_t plen;
	int rc;

	if ((size_t)snprintf(key, sizeof(key), "%s%s", CATALOG_META_PREFIX,
			     prefix) >= sizeof(key))
		return -1;
	plen = strlen(key);
	if (mdb_cursor_open(t->txn, t->cat->meta, &cur))
		return -1;
	/* Few names: look the first match up again after each delete. */
	for (;;) {
		k.mv_data = key;
		k.mv_size = plen;
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		if (rc || k.mv_size < plen || memcmp(k.mv_data, key, plen))
			break;
		rc = mdb_cursor_del(cur, 0);
		if (rc)
			break;
	}
	mdb_cursor_close(cur);
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : -1;
}

void catalog_txn_abort(struct catalog_txn *t)
{
	if (!t)
		return;
	if (t->txn)
		mdb_txn_abort(t->txn);
	buf_free(&t->changes);
	free(t->change_off);
	free(t);
}
