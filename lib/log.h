/*
 * log.h - one way to say things, for every dircat program.
 *
 * Messages go to stderr when it is a terminal (or when forced), to syslog
 * when the program runs as a daemon or under cron, or to both.  Errors of a
 * cron job go to both, so cron mails the one line and syslog keeps it.
 * Text that came from outside (LDAP values, socket input) must be passed
 * through log_quote() first: it is escaped and truncated.
 */
#ifndef DIRCAT_LOG_H
#define DIRCAT_LOG_H

#include <stddef.h>

enum log_dest {
	LOG_DEST_AUTO = 0,	/* stderr on a terminal, else syslog */
	LOG_DEST_STDERR,
	LOG_DEST_SYSLOG,
	LOG_DEST_BOTH
};

/* Set the program name and destination; call once, first. */
void log_init(const char *progname, enum log_dest dest);
/* 0 = warnings and errors, 1 = also info, 2 = also debug. */
void log_set_verbose(int level);
int log_verbose(void);
const char *log_progname(void);

void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A broken environment (out of memory, unusable directory): exit(code). */
void log_fatal(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
/* An impossible state: a bug.  Logs and aborts. */
void log_panic(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

/*
 * Escape untrusted bytes for a log line: printable ASCII kept, the rest
 * as \xNN, cut at LOG_QUOTE_MAX input bytes with "..." appended.  Returns
 * out, always NUL-terminated.  out should hold 4 * LOG_QUOTE_MAX + 4 bytes.
 */
#define LOG_QUOTE_MAX 100
#define LOG_QUOTE_SIZE (4 * LOG_QUOTE_MAX + 4)
char *log_quote(const void *data, size_t len, char *out, size_t outsize);

#endif
