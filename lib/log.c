/*
 * log.c - stderr and/or syslog logging; see log.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"

static const char *log_name = "dircat";
static int log_to_stderr = 1;
static int log_to_syslog;
static int log_level;

void log_init(const char *progname, enum log_dest dest)
{
	const char *slash;

	if (progname) {
		slash = strrchr(progname, '/');
		log_name = slash ? slash + 1 : progname;
	}
	switch (dest) {
	case LOG_DEST_AUTO:
		log_to_stderr = isatty(STDERR_FILENO);
		log_to_syslog = !log_to_stderr;
		break;
	case LOG_DEST_STDERR:
		log_to_stderr = 1;
		log_to_syslog = 0;
		break;
	case LOG_DEST_SYSLOG:
		log_to_stderr = 0;
		log_to_syslog = 1;
		break;
	case LOG_DEST_BOTH:
		log_to_stderr = 1;
		log_to_syslog = 1;
		break;
	}
	if (log_to_syslog)
		openlog(log_name, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void log_set_verbose(int level)
{
	log_level = level;
}

int log_verbose(void)
{
	return log_level;
}

const char *log_progname(void)
{
	return log_name;
}

/* Format once, then send to each destination. */
static void log_emit(int prio, const char *tag, const char *fmt, va_list ap)
{
	char line[2048];
	int saved = errno;

	vsnprintf(line, sizeof(line), fmt, ap);
	if (log_to_stderr)
		fprintf(stderr, "%s: %s%s\n", log_name, tag, line);
	if (log_to_syslog)
		syslog(prio, "%s%s", tag, line);
	errno = saved;
}

void log_debug(const char *fmt, ...)
{
	va_list ap;

	if (log_level < 2)
		return;
	va_start(ap, fmt);
	log_emit(LOG_DEBUG, "debug: ", fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	if (log_level < 1 && !log_to_syslog)
		return;
	va_start(ap, fmt);
	if (log_level < 1) {
		/* Info always reaches syslog; stderr only when verbose. */
		int keep = log_to_stderr;

		log_to_stderr = 0;
		log_emit(LOG_INFO, "", fmt, ap);
		log_to_stderr = keep;
	} else {
		log_emit(LOG_INFO, "", fmt, ap);
	}
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_WARNING, "warning: ", fmt, ap);
	va_end(ap);
}

void log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_ERR, "error: ", fmt, ap);
	va_end(ap);
}

void log_fatal(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_CRIT, "fatal: ", fmt, ap);
	va_end(ap);
	exit(code);
}

void log_panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_CRIT, "panic: ", fmt, ap);
	va_end(ap);
	abort();
}

char *log_quote(const void *data, size_t len, char *out, size_t outsize)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = data;
	size_t i, o = 0;
	size_t n = len > LOG_QUOTE_MAX ? LOG_QUOTE_MAX : len;

	if (outsize == 0)
		return out;
	for (i = 0; i < n; i++) {
		unsigned char c = p[i];

		if (c >= 0x20 && c < 0x7f && c != '\\') {
			if (o + 1 >= outsize)
				break;
			out[o++] = (char)c;
		} else {
			if (o + 4 >= outsize)
				break;
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	if ((i < len) && o + 3 < outsize) {
		out[o++] = '.';
		out[o++] = '.';
		out[o++] = '.';
	}
	out[o] = '\0';
	return out;
}
