/*
 * snapshot.c - write, check and install signed snapshots; see snapshot.h
 * and schema/snapshot.md.  (Skeleton: implementation follows.)
 */
#include <stdlib.h>

#include "snapshot.h"
#include "util.h"

const char *snapshot_strerror(int code) { (void)code; return "not implemented"; }
int snapshot_write_full(struct catalog_read *r, const char *catalog_id,
			int64_t created, int64_t lifetime,
			const struct sign_key *key, const char *path,
			struct snapshot_stats *st, char *err, size_t errlen)
{ (void)r; (void)catalog_id; (void)created; (void)lifetime; (void)key; (void)path; (void)st;
  util_err(err, errlen, "not implemented"); return -1; }
int snapshot_write_delta(struct catalog_read *r, uint64_t base,
			 const char *catalog_id, int64_t created,
			 int64_t lifetime, const struct sign_key *key,
			 const char *path, struct snapshot_stats *st,
			 char *err, size_t errlen)
{ (void)r; (void)base; (void)catalog_id; (void)created; (void)lifetime; (void)key; (void)path; (void)st;
  util_err(err, errlen, "not implemented"); return -1; }
struct snapshot *snapshot_open(const char *path, const struct sign_keyring *kr,
			       int *code, char *err, size_t errlen)
{ (void)path; (void)kr; *code = SNAPSHOT_E_IO; util_err(err, errlen, "not implemented"); return NULL; }
struct snapshot *snapshot_open_mem(const void *data, size_t len,
				   const char *label,
				   const struct sign_keyring *kr,
				   int *code, char *err, size_t errlen)
{ (void)data; (void)len; (void)label; (void)kr; *code = SNAPSHOT_E_IO; util_err(err, errlen, "not implemented"); return NULL; }
void snapshot_close(struct snapshot *s) { (void)s; }
const struct snapshot_header *snapshot_header(const struct snapshot *s) { (void)s; return NULL; }
int snapshot_next(struct snapshot *s, int *op, struct catalog_rec *rec) { (void)s; (void)op; (void)rec; return -1; }
void snapshot_rewind(struct snapshot *s) { (void)s; }
int snapshot_parse_header(const void *data, size_t len,
			  struct snapshot_header *h, int *code,
			  char *err, size_t errlen)
{ (void)data; (void)len; (void)h; *code = SNAPSHOT_E_IO; util_err(err, errlen, "not implemented"); return -1; }
int snapshot_verify(const char *path, const struct sign_keyring *kr,
		    struct snapshot_header *h, int *code,
		    char *err, size_t errlen)
{ (void)path; (void)kr; (void)h; *code = SNAPSHOT_E_IO; util_err(err, errlen, "not implemented"); return -1; }
int snapshot_apply(struct snapshot *s, struct catalog *cat,
		   const char *expect_id, int64_t now,
		   struct catalog_diff *diff, int *code,
		   char *err, size_t errlen)
{ (void)s; (void)cat; (void)expect_id; (void)now; (void)diff; *code = SNAPSHOT_E_IO; util_err(err, errlen, "not implemented"); return -1; }
