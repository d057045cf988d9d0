/*
 * test_redact.c - credentials hidden in lines of a conversation, hostile
 * bytes escaped, the length limits at N and N + 1.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "redact.h"

static char out[REDACT_OUT_SIZE];

static const char *r(const char *s)
{
	return redact_line(s, strlen(s), out, sizeof(out));
}

struct rcase {
	const char *in, *want, *name;
};

static const struct rcase cases[] = {
	{ "Authorization: Basic cHVzaDpzZWNyZXQ=", "Authorization: [redacted]",
	  "HTTP/1.1 Authorization header" },
	{ "authorization:Basic cHVzaDpzZWNyZXQ=", "authorization:[redacted]",
	  "lower case, no space" },
	{ "Proxy-Authorization: Basic eDp5", "Proxy-Authorization: [redacted]",
	  "Proxy-Authorization" },
	{ "h2h3 [authorization: Basic cHVzaDpzZWNyZXQ=]",
	  "h2h3 [authorization: [redacted]", "HTTP/2 field as libcurl prints it" },
	{ "Cookie: session=abc", "Cookie: [redacted]", "Cookie" },
	{ "Set-Cookie: session=abc; Secure", "Set-Cookie: [redacted]",
	  "Set-Cookie" },
	{ "Authorization:", "Authorization:", "a header with no value" },
	{ "X-Not-Authorization-Related: yes", "X-Not-Authorization-Related: yes",
	  "a name that only contains the word" },
	{ "WWW-Authenticate: Basic realm=\"dircat\"",
	  "WWW-Authenticate: Basic realm=\"dircat\"", "a challenge is shown" },
	{ "Uses proxy env variable https_proxy == 'http://u:pw@proxy:3128/'",
	  "Uses proxy env variable https_proxy == 'http://[redacted]@proxy:3128/'",
	  "URL userinfo (proxy from the environment)" },
	{ "sftp://push@mx1.example.com/inbox/", "sftp://[redacted]@mx1.example.com/inbox/",
	  "a login alone is hidden too" },
	{ "https://a:b@c:d@host/p", "https://[redacted]@host/p",
	  "the last @ of the authority counts" },
	{ "https://host/path@notuserinfo", "https://host/path@notuserinfo",
	  "an @ in the path is not userinfo" },
	{ "see https://x:1@a/ and ftp://y:2@b/", "see https://[redacted]@a/ and ftp://[redacted]@b/",
	  "two URLs" },
	{ "://@", "://@", "an empty userinfo: nothing to hide" },
	{ "GET /in/status HTTP/1.1", "GET /in/status HTTP/1.1", "nothing to hide" },
	{ "Server: evil\x1b[2J\x07", "Server: evil\\x1b[2J\\x07",
	  "terminal escapes escaped" },
	{ "", "", "empty line" },
};

int main(void)
{
	char line[REDACT_LINE_MAX + 64], want[REDACT_OUT_SIZE];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_STR(r(cases[i].in), cases[i].want, "%s", cases[i].name);

	/* NUL and high bytes inside a line. */
	redact_line("a\0b\xff", 4, out, sizeof(out));
	CHECK_STR(out, "a\\x00b\\xff", "NUL and 0xff escaped");

	/* REDACT_LINE_MAX bytes shown whole; one more cut with "...". */
	memset(line, 'a', REDACT_LINE_MAX + 1);
	redact_line(line, REDACT_LINE_MAX, out, sizeof(out));
	CHECK(strlen(out) == REDACT_LINE_MAX && !strchr(out, '.'),
	      "a line of REDACT_LINE_MAX bytes shown whole");
	redact_line(line, REDACT_LINE_MAX + 1, out, sizeof(out));
	CHECK(strlen(out) == REDACT_LINE_MAX + 3 &&
	      !strcmp(out + REDACT_LINE_MAX, "..."),
	      "REDACT_LINE_MAX + 1 bytes: cut, \"...\" added");

	/* A URL whose "@" lies past the cut still has its userinfo hidden. */
	memset(line, 'p', sizeof(line));
	memcpy(line, "http://user:", 12);
	line[REDACT_LINE_MAX + 10] = '@';
	redact_line(line, REDACT_LINE_MAX + 20, out, sizeof(out));
	CHECK_STR(out, "http://[redacted]...",
		  "userinfo running past the cut is hidden");

	/* Every byte escaped: the result still fits REDACT_OUT_SIZE. */
	memset(line, 0x01, REDACT_LINE_MAX + 1);
	redact_line(line, REDACT_LINE_MAX + 1, out, sizeof(out));
	CHECK(strlen(out) == 4 * REDACT_LINE_MAX + 3,
	      "a line of control bytes: 4 bytes each, then \"...\"");

	/* REDACT_URLS_MAX URLs with userinfo are each hidden; past that the
	 * rest of the line is. */
	for (i = 0; i < REDACT_URLS_MAX; i++) {
		memcpy(line + 13 * i, "http://u:p@h ", 13);
		memcpy(want + 20 * i, "http://[redacted]@h ", 20);
	}
	line[13 * i] = '\0';
	want[20 * i] = '\0';
	CHECK_STR(r(line), want, "REDACT_URLS_MAX URLs with userinfo");
	memcpy(line + 13 * i, "http://u:p@h tail", 18);
	CHECK(strstr(r(line), "u:p") == NULL && strstr(out, "tail") == NULL,
	      "REDACT_URLS_MAX + 1: the rest of the line hidden");

	/* A small output buffer cuts the end, never shows a secret. */
	redact_line("Authorization: Basic c2VjcmV0", 29, out, 18);
	CHECK_STR(out, "Authorization: ",
		  "an output buffer too small for the mark drops it");
	return check_done();
}
