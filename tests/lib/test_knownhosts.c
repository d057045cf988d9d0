/*
 * test_knownhosts.c - the known_hosts line libcurl takes for a host
 * (replicator/knownhosts.c): file order, [host]:port, plain names for any
 * port, comma-separated names, hashed lines, comments and markers, the
 * limits at N and N+1 (text, line, key type), and the key types OpenSSH
 * refuses to sign with.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../../replicator/knownhosts.h"

#define ED "AAAAC3NzaC1lZDI1NTE5AAAAIB"
#define RSA "AAAAB3NzaC1yc2EAAAADAQABAAABgQ"

/* The line picked for host:port in text, and its type in *type. */
static int pick(const char *text, const char *host, long port,
		const char **type)
{
	static struct knownhosts_pick p;
	char err[128];

	if (knownhosts_pick(text, strlen(text), host, port, &p, err,
			    sizeof(err)) < 0)
		return -1;
	*type = p.type;
	return p.line;
}

/* A text of exactly n bytes: comment lines of at most linelen bytes,
 * then mx1's ssh-rsa line. */
static char *padded(size_t n, size_t linelen)
{
	char *s = malloc(n + 1);
	size_t pos = 0, l;
	const char *tail = "mx1 ssh-rsa " RSA "\n";

	if (!s)
		abort();
	while (pos + strlen(tail) < n) {
		l = n - strlen(tail) - pos;
		if (l > linelen + 1)
			l = linelen + 1;
		if (l < 2) {
			memset(s + pos, '\n', l);
			pos += l;
			continue;
		}
		s[pos] = '#';
		memset(s + pos + 1, 'x', l - 2);
		s[pos + l - 1] = '\n';
		pos += l;
	}
	memcpy(s + pos, tail, strlen(tail));
	s[n] = '\0';
	return s;
}

/* A comment line of n bytes (without its newline), then mx1's line. */
static char *comment_then_host(size_t n)
{
	const char *tail = "\nmx1 ssh-ed25519 " ED "\n";
	char *s = malloc(n + strlen(tail) + 1);

	if (!s)
		abort();
	s[0] = '#';
	memset(s + 1, 'x', n - 1);
	strcpy(s + n, tail);
	return s;
}

int main(void)
{
	const char *type = NULL;
	struct knownhosts_pick p;
	char err[128], line[KNOWNHOSTS_LINE_MAX + 64], *big;
	int n;

	/* ssh-keyscan without -t: RSA first. */
	n = pick("[127.0.0.1]:2222 ssh-rsa " RSA "\n"
		 "[127.0.0.1]:2222 ecdsa-sha2-nistp256 AAAA\n"
		 "[127.0.0.1]:2222 ssh-ed25519 " ED "\n",
		 "127.0.0.1", 2222, &type);
	CHECK(n == 1 && !strcmp(type, "ssh-rsa"),
	      "ssh-keyscan's order: the RSA line (1) is the one taken");
	CHECK(knownhosts_type_legacy(type), "ssh-rsa is refused by OpenSSH 8.8");
	n = pick("[127.0.0.1]:2222 ssh-ed25519 " ED "\n", "127.0.0.1", 2222,
		 &type);
	CHECK(n == 1 && !strcmp(type, "ssh-ed25519") &&
	      !knownhosts_type_legacy(type),
	      "ssh-keyscan -t ed25519: the Ed25519 line");
	CHECK(!knownhosts_type_legacy("ecdsa-sha2-nistp256") &&
	      knownhosts_type_legacy("ssh-dss") &&
	      !knownhosts_type_legacy("ssh-rsa-cert-v01@openssh.com x"),
	      "ECDSA is fine, DSA is not");

	/* Other hosts and ports are passed over. */
	n = pick("# a comment\n"
		 "\n"
		 "   \t\n"
		 "@cert-authority *.example.com ssh-rsa " RSA "\n"
		 "[127.0.0.1]:2223 ssh-rsa " RSA "\n"
		 "[127.0.0.2]:2222 ssh-rsa " RSA "\n"
		 "127.0.0.10 ssh-rsa " RSA "\n"
		 "mx9,127.0.0.1 ssh-ed25519 " ED "\n"
		 "127.0.0.1 ssh-rsa " RSA "\n",
		 "127.0.0.1", 2222, &type);
	CHECK(n == 8 && !strcmp(type, "ssh-ed25519"),
	      "comments, markers, other ports and hosts skipped; the second "
	      "of two names found");
	n = pick("127.0.0.1 ssh-rsa " RSA "\n[127.0.0.1]:2222 ssh-ed25519 "
		 ED "\n", "127.0.0.1", 2222, &type);
	CHECK(n == 1 && !strcmp(type, "ssh-rsa"),
	      "a plain name counts for any port, as libcurl reads it");
	n = pick("[mx1]:22 ssh-rsa " RSA "\n", "mx1.example.com", 22, &type);
	CHECK(n == 1, "[NAME]:PORT is taken for a host that starts with NAME "
	      "(libcurl compares that many bytes)");
	n = pick("[mx1.example.com]:22 ssh-rsa " RSA "\n", "mx1", 22, &type);
	CHECK(n == 0, "... but not for a shorter host");
	n = pick("[mx1]:22x ssh-rsa " RSA "\n[mx1] ssh-rsa " RSA "\n"
		 "[mx1]: ssh-rsa " RSA "\n", "mx1", 22, &type);
	CHECK(n == 1, "the port's leading digits count, as atoi reads them");
	n = pick("[mx1]:99999999999999 ssh-rsa " RSA "\n", "mx1", 22, &type);
	CHECK(n == 0, "an overlong port is no port of ours");
	n = pick("|1|c2FsdA==|aGFzaA== ssh-rsa " RSA "\n"
		 "mx1 ssh-ed25519 " ED "\n", "mx1", 22, &type);
	CHECK(n == 1 && !strcmp(type, "ssh-rsa"),
	      "a hashed line is taken for any host (libcurl cannot tell)");
	knownhosts_pick("x,|1|a|b ssh-rsa k\n", 18, "mx1", 22, &p, err,
			sizeof(err));
	CHECK(p.line == 1 && p.hashed, "a hashed name after a comma: hashed");
	n = pick("mx1\n mx1 \nmx1,,\n", "mx1", 22, &type);
	CHECK(n == 0, "a line without a key type is skipped");
	n = pick("mx1 ssh-rsa", "mx1", 22, &type);
	CHECK(n == 1, "the last line needs no newline");
	n = pick("mx1\tssh-ed25519\tAAAA\r\n", "mx1", 22, &type);
	CHECK(n == 1 && !strcmp(type, "ssh-ed25519"),
	      "tabs and CR LF");
	n = pick("", "mx1", 22, &type);
	CHECK(n == 0, "an empty file: no line");
	CHECK(knownhosts_pick("mx1\0x ssh-rsa k\nmx1 ssh-dss k\n", 28, "mx1",
			      22, &p, err, sizeof(err)) == 0 &&
	      p.line == 2 && !strcmp(p.type, "ssh-dss"),
	      "a NUL byte is an ordinary byte of a name");

	/* The key type: KNOWNHOSTS_TYPE_MAX bytes, and one more. */
	snprintf(line, sizeof(line), "mx1 %.*s k\n", KNOWNHOSTS_TYPE_MAX,
		 "ssh-ed25519-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	CHECK(knownhosts_pick(line, strlen(line), "mx1", 22, &p, err,
			      sizeof(err)) == 0 && p.line == 1 &&
	      strlen(p.type) == KNOWNHOSTS_TYPE_MAX,
	      "a key type of %d bytes", KNOWNHOSTS_TYPE_MAX);
	snprintf(line, sizeof(line), "mx1 %.*s k\n", KNOWNHOSTS_TYPE_MAX + 1,
		 "ssh-ed25519-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	CHECK(knownhosts_pick(line, strlen(line), "mx1", 22, &p, err,
			      sizeof(err)) < 0 && p.line == 0 &&
	      strstr(err, "line 1: a key type longer than"),
	      "a key type of %d bytes: refused, the line named",
	      KNOWNHOSTS_TYPE_MAX + 1);

	/* A line: KNOWNHOSTS_LINE_MAX bytes, and one more. */
	big = comment_then_host(KNOWNHOSTS_LINE_MAX);
	CHECK(knownhosts_pick(big, strlen(big), "mx1", 22, &p, err,
			      sizeof(err)) == 0 && p.line == 2,
	      "a line of %d bytes is read", KNOWNHOSTS_LINE_MAX);
	free(big);
	big = comment_then_host(KNOWNHOSTS_LINE_MAX + 1);
	CHECK(knownhosts_pick(big, strlen(big), "mx1", 22, &p, err,
			      sizeof(err)) < 0 && p.line == 0 &&
	      strstr(err, "line 1: longer than"),
	      "a line of %d bytes: refused, the line named",
	      KNOWNHOSTS_LINE_MAX + 1);
	free(big);

	/* The text: KNOWNHOSTS_TEXT_MAX bytes, and one more. */
	big = padded(KNOWNHOSTS_TEXT_MAX, 1000);
	CHECK(knownhosts_pick(big, KNOWNHOSTS_TEXT_MAX, "mx1", 22, &p, err,
			      sizeof(err)) == 0 && p.line > 1000 &&
	      !strcmp(p.type, "ssh-rsa"),
	      "a text of %d bytes is read to its last line",
	      KNOWNHOSTS_TEXT_MAX);
	free(big);
	big = padded(KNOWNHOSTS_TEXT_MAX + 1, 1000);
	CHECK(knownhosts_pick(big, KNOWNHOSTS_TEXT_MAX + 1, "mx1", 22, &p,
			      err, sizeof(err)) < 0 && p.line == 0 &&
	      strstr(err, "longer than"),
	      "a text of %d bytes: refused", KNOWNHOSTS_TEXT_MAX + 1);
	free(big);
	return check_done();
}
