/*
 * util.h - small helpers every dircat program needs: memory that never
 * returns NULL, bounded string copies, a growable buffer with a ceiling,
 * secret files whose mode is checked, run locks, and files replaced
 * atomically (write to a temporary name, fsync, rename).
 * Every function that can fail returns -1 and writes a message into the
 * caller's err buffer (with its size); nothing here exits but xmalloc.
 */
#ifndef DIRCAT_UTIL_H
#define DIRCAT_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define UTIL_SECRET_MAX 4096	/* a password or key file, bytes */

/* Out of memory is a broken environment: these log and exit(71, EX_OSERR). */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/*
 * Three copies into a fixed buffer, one for each reason it may be short:
 *   util_strlcpy()    returns strlen(src): >= size means src was cut,
 *                     which the caller checks and reports (the compiler
 *                     refuses a call whose result is not used);
 *   util_copy_fit()   src fits by construction (same-size buffers, a
 *                     value checked before, a literal): a src that does
 *                     not fit is a bug and aborts;
 *   util_copy_text()  text for people (messages, reasons): a text that
 *                     does not fit ends in "..." so the cut shows.
 * Each always NUL-terminates (size > 0).
 */
size_t util_strlcpy(char *dst, const char *src, size_t size)
	__attribute__((warn_unused_result));
void util_copy_fit(char *dst, const char *src, size_t size);
void util_copy_text(char *dst, const char *src, size_t size);
/* snprintf into err that is harmless when err is NULL or errlen is 0. */
void util_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A growable byte buffer with a hard maximum size. */
struct buf {
	unsigned char *data;
	size_t len, cap, max;
};
void buf_init(struct buf *, size_t max);
/* 0, or -1 when the result would exceed max (buffer unchanged). */
int buf_append(struct buf *, const void *, size_t);
int buf_printf(struct buf *, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void buf_free(struct buf *);

/*
 * Refuse a secret file that others may read (or write), or that is not a
 * regular file.  0 when acceptable, -1 with a reason in err.
 */
int util_check_secret_mode(const char *path, char *err, size_t errlen);
/*
 * Read a secret (password) file after util_check_secret_mode(): one line,
 * the trailing newline removed.  Returns a malloc'ed string the caller
 * wipes and frees with util_free_secret(), or NULL with err set.
 */
char *util_read_secret(const char *path, char *err, size_t errlen);
void util_free_secret(char *s);

/* Read a whole (small) file into a malloc'ed, NUL-terminated buffer of at
 * most max bytes.  Returns it (length in *lenp), or NULL with err set. */
char *util_read_file(const char *path, size_t max, size_t *lenp,
		     char *err, size_t errlen);

/*
 * Replace path atomically with data: path.tmp.PID written, fsync'ed,
 * renamed over path, directory fsync'ed.  mode for a new file.
 */
int util_write_file_atomic(const char *path, const void *data, size_t len,
			   mode_t mode, char *err, size_t errlen);

/*
 * Take an exclusive, non-blocking lock on path (created if needed).
 * Returns the descriptor to keep open for the run; -2 with err set
 * ("another run holds the lock") when busy; -1 with err set when the
 * file cannot be opened or locked at all.
 */
int util_lock(const char *path, char *err, size_t errlen);

/* Parse "30", "30s", "5m", "2h", "7d" into seconds; -1 when bad. */
int64_t util_parse_duration(const char *s);
/* Parse a decimal integer in [min, max]; 0 ok, -1 bad. */
int util_parse_int(const char *s, int64_t min, int64_t max, int64_t *out);
/* Parse yes/true/on/1 into 1, no/false/off/0 into 0 (words in any
 * case); 0 ok, -1 bad. */
int util_parse_bool(const char *s, int *out);
/* Parse an octal file mode such as 0640, at most max; 0 ok, -1 bad. */
int util_parse_mode(const char *s, unsigned max, unsigned *out);
/* Format a UTC time as 2026-11-23T10:30:00Z into buf. */
char *util_time_iso(time_t t, char *buf, size_t size);
/* Seconds since an arbitrary point, monotonic, as a double. */
double util_now(void);
/* The wall clock: Unix time as a double (for timestamps people read). */
double util_wall(void);

/* Big-endian helpers for on-disk formats. */
static inline void util_put_u16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}
static inline void util_put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}
static inline void util_put_u64(unsigned char *p, uint64_t v)
{
	util_put_u32(p, (uint32_t)(v >> 32));
	util_put_u32(p + 4, (uint32_t)v);
}
static inline uint16_t util_get_u16(const unsigned char *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}
static inline uint32_t util_get_u32(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	       ((uint32_t)p[2] << 8) | p[3];
}
static inline uint64_t util_get_u64(const unsigned char *p)
{
	return ((uint64_t)util_get_u32(p) << 32) | util_get_u32(p + 4);
}

#endif
