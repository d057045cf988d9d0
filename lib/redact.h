/*
 * redact.h - a line of a network conversation made fit to show: the
 * credentials in it hidden, its bytes made printable.  For the highest
 * verbosity of the programs that speak HTTP or ssh through libcurl.
 *
 * Hidden (replaced by REDACT_MARK): the value of a credential header -
 * Authorization, Proxy-Authorization, Cookie, Set-Cookie - wherever its
 * name appears in the line, in any case (libcurl reports HTTP/2 header
 * fields inside information lines); and the userinfo of every URL
 * ("scheme://USER:PASSWORD@host" shows as "scheme://[redacted]@host").
 * Bytes other than printable ASCII come out as \xNN, so a server's header
 * cannot send escapes to a terminal.  The whole line is searched, however
 * long; what is shown is cut at REDACT_LINE_MAX bytes with "..." added.
 * No allocation.
 */
#ifndef DIRCAT_REDACT_H
#define DIRCAT_REDACT_H

#include <stddef.h>

#define REDACT_LINE_MAX 4096	/* input bytes shown of one line */
#define REDACT_URLS_MAX 16	/* URLs with userinfo in one line; past
				   that the rest of the line is hidden */
#define REDACT_MARK     "[redacted]"
/* Room for the longest result: every byte escaped, marks, "...". */
#define REDACT_OUT_SIZE (4 * REDACT_LINE_MAX + 64)

/*
 * line[0..len) (no newline; may hold any byte) into out, secrets replaced
 * by REDACT_MARK, NUL-terminated.  out should hold REDACT_OUT_SIZE bytes;
 * a smaller one cuts the result short (never a secret: what is cut is
 * the end).  Returns out.
 */
char *redact_line(const char *line, size_t len, char *out, size_t size);

#endif
