/*
 * spool.c - snapshot files made once per run and reused across runs; see
 * spool.h.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "keyhash.h"
#include "log.h"
#include "snapshot.h"
#include "snapwrite.h"
#include "spool.h"
#include "util.h"

struct spool_entry {
	uint64_t base;
	int no_history;			/* spool_get returned 1 */
	struct spool_file file;
};

struct spool {
	char *dir;
	struct catalog_read *r;
	struct catalog_info info;
	const char *catalog_id;
	int64_t lifetime;
	const struct sign_key *key;
	struct sign_keyring *kr;	/* our own public key */
	struct spool_entry *entries;
	size_t n;
	int projection;			/* enum snapwrite_projection */
	struct keyhash *hash;		/* keyed-hash mode; NULL: clear */
};

void spool_set_hash(struct spool *sp, struct keyhash *hash)
{
	sp->hash = hash;
}

void spool_set_projection(struct spool *sp, int projection)
{
	sp->projection = projection;
}

struct spool *spool_new(const char *dir, struct catalog_read *r,
			const char *catalog_id, int64_t lifetime,
			const struct sign_key *key, char *err, size_t errlen)
{
	struct spool *sp;

	if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
		util_err(err, errlen, "spool directory %s: %s", dir,
			 strerror(errno));
		return NULL;
	}
	sp = xcalloc(1, sizeof(*sp));
	sp->dir = xstrdup(dir);
	sp->r = r;
	sp->catalog_id = catalog_id;
	sp->lifetime = lifetime;
	sp->key = key;
	if (catalog_read_info(r, &sp->info) < 0) {
		util_err(err, errlen, "cannot read the catalog's serial");
		spool_free(sp);
		return NULL;
	}
	sp->kr = sign_keyring_new();
	if (sign_keyring_add_key(sp->kr, key, err, errlen) < 0) {
		spool_free(sp);
		return NULL;
	}
	sp->entries = xcalloc(SPOOL_FILES_MAX, sizeof(*sp->entries));
	return sp;
}

void spool_free(struct spool *sp)
{
	size_t i;

	if (!sp)
		return;
	for (i = 0; i < sp->n; i++)
		free(sp->entries[i].file.path);
	free(sp->entries);
	sign_keyring_free(sp->kr);
	free(sp->dir);
	free(sp);
}

/*
 * May an existing spool file be sent again?  Only if it verifies against
 * our key and says what we would write now: same catalog, type, serial
 * and base, made after this serial was (so not left over from an older
 * catalog that reached the same serial number), the configured lifetime,
 * and at least half of it still ahead.
 */
static int spool_reusable(struct spool *sp, struct spool_file *f,
			  int64_t now)
{
	struct snapshot_header h;
	char why[512];
	int code;

	if (access(f->path, F_OK) < 0)
		return 0;
	if (snapshot_verify(f->path, sp->kr, &h, &code, why,
			    sizeof(why)) < 0) {
		log_warn("%s: not reused: %s", f->path, why);
		return 0;
	}
	if (strcmp(h.catalog_id, sp->catalog_id) || h.type != f->type ||
	    h.serial != f->serial || h.base != f->base ||
	    h.version != SNAPSHOT_VERSION || h.epoch != sp->info.epoch ||
	    strcmp(h.key_id, sign_key_id(sp->key)) ||
	    h.created < sp->info.created ||
	    h.expires - h.created != sp->lifetime ||
	    h.expires - now < sp->lifetime / 2 ||
	    !(h.flags & SNAPSHOT_FLAG_KEYED_HASH) != !sp->hash ||
	    (sp->hash && memcmp(h.hash_id, keyhash_id(sp->hash),
				SNAPSHOT_HASH_ID_LEN))) {
		log_debug("%s: made for other settings or too old; "
			  "writing it again", f->path);
		return 0;
	}
	f->size = h.file_size;
	f->records = h.records;
	f->expires = h.expires;
	f->reused = 1;
	return 1;
}

int spool_get(struct spool *sp, uint64_t base, const struct spool_file **out,
	      char *err, size_t errlen)
{
	struct spool_entry *e;
	struct spool_file *f;
	struct snapwrite_stats st;
	struct snapwrite_opts o;
	char name[SPOOL_NAME_MAX];
	int64_t now = (int64_t)time(NULL);
	uint64_t serial = sp->info.serial;
	size_t i;
	int n, rc;
	struct buf path;

	for (i = 0; i < sp->n; i++) {
		e = &sp->entries[i];
		if (e->base == base) {
			if (e->no_history)
				return 1;
			*out = &e->file;
			return 0;
		}
	}
	if (sp->n == SPOOL_FILES_MAX) {
		util_err(err, errlen, "more than %d snapshot files in one "
			 "run", SPOOL_FILES_MAX);
		return -1;
	}
	if (base >= serial) {
		util_err(err, errlen, "no delta from serial %" PRIu64
			 " to %" PRIu64, base, serial);
		return -1;
	}
	if (base)
		n = snprintf(name, sizeof(name), "%s.%" PRIu64 "-%" PRIu64
			     ".delta.snap", sp->catalog_id, base, serial);
	else
		n = snprintf(name, sizeof(name), "%s.%" PRIu64 ".full.snap",
			     sp->catalog_id, serial);
	if (n < 0 || (size_t)n >= sizeof(name))
		log_panic("spool name overflow");
	buf_init(&path, 4096 + sizeof(name));
	if (buf_printf(&path, "%s/%s", sp->dir, name) < 0 ||
	    buf_append(&path, "", 1) < 0) {
		buf_free(&path);
		util_err(err, errlen, "spool path too long");
		return -1;
	}
	e = &sp->entries[sp->n];
	memset(e, 0, sizeof(*e));
	e->base = base;
	f = &e->file;
	util_copy_fit(f->name, name, sizeof(f->name));
	f->path = (char *)path.data;
	f->type = base ? SNAPSHOT_DELTA : SNAPSHOT_FULL;
	f->serial = serial;
	f->base = base;

	if (!spool_reusable(sp, f, now)) {
		memset(&st, 0, sizeof(st));
		memset(&o, 0, sizeof(o));
		o.catalog_id = sp->catalog_id;
		o.epoch = sp->info.epoch;
		o.created = now;
		o.lifetime = sp->lifetime;
		o.projection = sp->projection;
		o.hash = sp->hash;
		/* A spool file is used again only after it verifies: one a
		 * crash left torn is written anew, so it needs no fsync. */
		o.no_fsync = 1;
		if (base)
			rc = snapwrite_delta(sp->r, base, &o, sp->key, f->path,
					     &st, err, errlen);
		else
			rc = snapwrite_full(sp->r, &o, sp->key, f->path, &st,
					    err, errlen);
		if (rc < 0) {
			free(f->path);
			return -1;
		}
		if (rc == 1) {
			/* Remember, so other targets at base skip the try. */
			free(f->path);
			f->path = NULL;
			e->no_history = 1;
			sp->n++;
			return 1;
		}
		f->size = st.file_size;
		f->records = st.records;
		f->expires = now + sp->lifetime;
		log_info("wrote %s: %" PRIu64 " records, %" PRIu64
			 " bytes in %.2fs", f->path, st.records, st.file_size,
			 st.seconds);
	} else {
		log_info("reusing %s (%" PRIu64 " bytes)", f->path, f->size);
	}
	sp->n++;
	*out = f;
	return 0;
}

/*
 * Is name one of this catalog's spool files for another serial, or a
 * leftover temporary file?  Names: ID.SERIAL.full.snap,
 * ID.BASE-SERIAL.delta.snap, and either followed by ".tmp.PID".
 */
static int spool_stale(const struct spool *sp, const char *name)
{
	size_t idlen = strlen(sp->catalog_id);
	const char *p, *end;
	char *e;
	unsigned long long a, b = 0;
	int delta = 0;

	if (strncmp(name, sp->catalog_id, idlen) || name[idlen] != '.')
		return 0;
	p = name + idlen + 1;
	if (*p < '0' || *p > '9')
		return 0;
	errno = 0;
	a = strtoull(p, &e, 10);
	if (errno)
		return 0;
	if (*e == '-') {
		delta = 1;
		p = e + 1;
		if (*p < '0' || *p > '9')
			return 0;
		b = strtoull(p, &e, 10);
		if (errno)
			return 0;
	}
	end = delta ? ".delta.snap" : ".full.snap";
	if (strncmp(e, end, strlen(end)))
		return 0;
	e += strlen(end);
	if (!strncmp(e, ".tmp.", 5))
		return 1;		/* we hold the lock: nobody writes */
	if (*e)
		return 0;
	return (delta ? b : a) != sp->info.serial;
}

void spool_clean(struct spool *sp)
{
	DIR *d = opendir(sp->dir);
	struct dirent *de;
	char path[8192];
	unsigned long seen = 0;

	if (!d) {
		log_warn("spool directory %s: %s", sp->dir, strerror(errno));
		return;
	}
	/* Bounded: a spool holds a handful of files; stop at a million. */
	while ((de = readdir(d)) != NULL && seen++ < 1000000UL) {
		if (!spool_stale(sp, de->d_name))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", sp->dir,
				     de->d_name) >= sizeof(path))
			continue;
		if (unlink(path) < 0)
			log_warn("cannot remove %s: %s", path,
				 strerror(errno));
		else
			log_debug("removed %s", path);
	}
	closedir(d);
}
