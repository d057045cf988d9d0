/*
 * utf8.h - the one UTF-8 validator: RFC 3629's well-formed sequences
 * (no overlong forms, no surrogates, nothing above U+10FFFF).
 *
 *   utf8_seq()    the length of the sequence at the start of a buffer
 *   utf8_valid()  whether a whole buffer is UTF-8
 *
 * Reads at most the length given; never reads past it on hostile input.
 */
#ifndef DIRCAT_UTF8_H
#define DIRCAT_UTF8_H

#include <stddef.h>

#define UTF8_SEQ_MAX 4	/* bytes of one encoded code point */

/*
 * The length (1 to 4) of the valid UTF-8 sequence at s[0..len), or 0
 * when there is none (len 0 included); then *bad, when not NULL, gets
 * the offset of the byte that breaks it (0: the first byte cannot start
 * a sequence; 1 to 3: a continuation byte is wrong or missing).
 */
size_t utf8_seq(const unsigned char *s, size_t len, size_t *bad);

/* 1 when s[0..len) is all valid UTF-8, else 0 with *bad (when not
 * NULL) the offset of the first byte that breaks it. */
int utf8_valid(const void *s, size_t len, size_t *bad);

#endif
