/*
 * test_policy.c - the policy delegation request parser, hostile input
 * included.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "policy.h"

/* Parse a copy of text (the parser writes into its buffer). */
static int parse(const char *text, size_t len, size_t max,
		 struct policy_request *req, size_t *used, char *buf,
		 char *err, size_t errlen)
{
	size_t scan = 0;

	memcpy(buf, text, len);
	return policy_parse(buf, len, max, &scan, req, used, err, errlen);
}

static const char postfix_request[] =
	"request=smtpd_access_policy\n"
	"protocol_state=RCPT\n"
	"protocol_name=ESMTP\n"
	"client_address=192.0.2.1\n"
	"client_name=mail.example.net\n"
	"helo_name=mail.example.net\n"
	"sender=alice@example.net\n"
	"recipient=Bob+tag@Example.COM\n"
	"recipient_count=0\n"
	"queue_id=\n"
	"instance=123.456.7\n"
	"size=12345\n"
	"sasl_method=\n"
	"sasl_username=\n"
	"sasl_sender=\n"
	"ccert_subject=\n"
	"encryption_protocol=TLSv1.3\n"
	"policy_context=\n"
	"server_address=192.0.2.25\n"
	"server_port=25\n"
	"\n";

struct pcase {
	const char *in;
	int want;
	const char *name;
};

static const struct pcase bad[] = {
	{ "\n", POLICY_ERROR, "empty request" },
	{ "novalue\n\n", POLICY_ERROR, "line without =" },
	{ "=value\n\n", POLICY_ERROR, "empty name" },
	{ "bad name=x\n\n", POLICY_ERROR, "space in name" },
	{ "na\x01me=x\n\n", POLICY_ERROR, "control character in name" },
	{ "sender=a\nsender=b\n\n", POLICY_ERROR, "attribute twice" },
	{ "request=smtpd_access_policy\n", POLICY_MORE, "no empty line yet" },
	{ "request=smtpd_access_policy", POLICY_MORE, "no newline yet" },
	{ "", POLICY_MORE, "nothing" },
	{ "\x80\xff\xfe=\n\n", POLICY_ERROR, "binary name" },
};

int main(void)
{
	struct policy_request req;
	char buf[70000], err[256], text[70000];
	size_t used, i, n;
	int rc;

	rc = parse(postfix_request, strlen(postfix_request), 16384, &req,
		   &used, buf, err, sizeof(err));
	CHECK(rc == POLICY_DONE, "a Postfix request parses (%s)",
	      rc < 0 ? err : "");
	CHECK(used == strlen(postfix_request), "whole request used");
	CHECK_STR(req.request, "smtpd_access_policy", "request");
	CHECK_STR(req.protocol_state, "RCPT", "protocol_state");
	CHECK_STR(req.sender, "alice@example.net", "sender");
	CHECK_STR(req.recipient, "Bob+tag@Example.COM", "recipient");
	CHECK_STR(req.sasl_username, "", "empty sasl_username");
	CHECK_STR(req.client_address, "192.0.2.1", "client_address");
	CHECK(req.nattr == 20, "20 attributes (%zu)", req.nattr);
	CHECK(policy_get(&req, "size") && !strcmp(policy_get(&req, "size"),
						   "12345"), "policy_get");
	CHECK(policy_get(&req, "nonesuch") == NULL, "policy_get absent");

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rc = parse(bad[i].in, strlen(bad[i].in), 16384, &req, &used,
			   buf, err, sizeof(err));
		CHECK(rc == bad[i].want, "%s: %d, want %d", bad[i].name, rc,
		      bad[i].want);
	}

	/* A NUL byte inside a value. */
	rc = parse("sender=a\0b\n\n", 12, 16384, &req, &used, buf, err,
		   sizeof(err));
	CHECK(rc == POLICY_ERROR, "NUL byte refused");

	/* CR LF line ends (someone typing into telnet). */
	rc = parse("protocol_state=RCPT\r\nrecipient=x@y\r\n\r\n", 38, 16384,
		   &req, &used, buf, err, sizeof(err));
	CHECK(rc == POLICY_DONE && !strcmp(req.recipient, "x@y") &&
	      !strcmp(req.protocol_state, "RCPT") && used == 38,
	      "CRLF line ends");

	/* A value with '=' inside keeps it. */
	rc = parse("ccert_subject=CN=a=b\n\n", 22, 16384, &req, &used, buf,
		   err, sizeof(err));
	CHECK(rc == POLICY_DONE &&
	      !strcmp(policy_get(&req, "ccert_subject"), "CN=a=b"),
	      "'=' inside a value");

	/* Size limit: exactly max accepted, max + 1 refused. */
	n = 100;
	memset(text, 'x', sizeof(text));
	memcpy(text, "sender=", 7);
	text[n - 2] = '\n';
	text[n - 1] = '\n';
	rc = parse(text, n, 100, &req, &used, buf, err, sizeof(err));
	CHECK(rc == POLICY_DONE && used == 100, "request of exactly max bytes");
	memset(text, 'x', sizeof(text));
	memcpy(text, "sender=", 7);
	text[n - 1] = '\n';
	text[n] = '\n';
	rc = parse(text, n + 1, 100, &req, &used, buf, err, sizeof(err));
	CHECK(rc == POLICY_ERROR, "request of max + 1 bytes refused");
	/* No empty line and the buffer is full: refused, not "more". */
	rc = parse(text, 100, 100, &req, &used, buf, err, sizeof(err));
	CHECK(rc == POLICY_ERROR, "full buffer without an end refused");

	/* Attribute count: POLICY_ATTRS_MAX fine, one more refused. */
	for (n = 0, i = 0; i < POLICY_ATTRS_MAX; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "a%zu=v\n",
				      i);
	text[n++] = '\n';
	rc = parse(text, n, sizeof(text), &req, &used, buf, err, sizeof(err));
	CHECK(rc == POLICY_DONE && req.nattr == POLICY_ATTRS_MAX,
	      "%d attributes accepted", POLICY_ATTRS_MAX);
	for (n = 0, i = 0; i <= POLICY_ATTRS_MAX; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "a%zu=v\n",
				      i);
	text[n++] = '\n';
	rc = parse(text, n, sizeof(text), &req, &used, buf, err, sizeof(err));
	CHECK(rc == POLICY_ERROR, "%d attributes refused",
	      POLICY_ATTRS_MAX + 1);

	/* Name length: POLICY_NAME_MAX fine, one more refused. */
	memset(text, 'n', POLICY_NAME_MAX);
	memcpy(text + POLICY_NAME_MAX, "=v\n\n", 4);
	rc = parse(text, POLICY_NAME_MAX + 4, 1000, &req, &used, buf, err,
		   sizeof(err));
	CHECK(rc == POLICY_DONE, "name of %d bytes", POLICY_NAME_MAX);
	memset(text, 'n', POLICY_NAME_MAX + 1);
	memcpy(text + POLICY_NAME_MAX + 1, "=v\n\n", 4);
	rc = parse(text, POLICY_NAME_MAX + 5, 1000, &req, &used, buf, err,
		   sizeof(err));
	CHECK(rc == POLICY_ERROR, "name of %d bytes refused",
	      POLICY_NAME_MAX + 1);

	/* Pipelined: two requests back to back, then half of a third;
	 * resuming the scan across calls. */
	{
		const char *p = "protocol_state=RCPT\nrecipient=a@b\n\n"
				"protocol_state=RCPT\nrecipient=c@d\n\n"
				"protocol_state=RC";
		size_t len = strlen(p), pos = 0, scan = 0, count = 0;
		char got[2][16];

		memcpy(buf, p, len);
		while ((rc = policy_parse(buf + pos, len - pos, 1000, &scan,
					  &req, &used, err,
					  sizeof(err))) == POLICY_DONE) {
			if (count < 2)
				snprintf(got[count], sizeof(got[0]), "%s",
					 req.recipient);
			pos += used;
			count++;
		}
		CHECK(count == 2 && rc == POLICY_MORE &&
		      !strcmp(got[0], "a@b") && !strcmp(got[1], "c@d"),
		      "pipelined requests");
		CHECK(scan == 0, "scan resumes at the start of the partial line");
	}

	/* Byte by byte with the scan position kept. */
	{
		size_t len = strlen(postfix_request), k, scan = 0;
		int ok = 1;

		memcpy(buf, postfix_request, len);
		for (k = 1; k < len; k++)
			if (policy_parse(buf, k, 16384, &scan, &req, &used, err,
					 sizeof(err)) != POLICY_MORE)
				ok = 0;
		CHECK(ok && policy_parse(buf, len, 16384, &scan, &req, &used,
					 err, sizeof(err)) == POLICY_DONE &&
		      !strcmp(req.recipient, "Bob+tag@Example.COM"),
		      "byte by byte");
	}

	/* Random junk never crashes and never reads past the end. */
	{
		unsigned seed = 12345;
		int ok = 1;

		for (i = 0; i < 2000; i++) {
			size_t len = (seed = seed * 1103515245 + 12345) % 300, k;
			char *junk = malloc(len ? len : 1);
			size_t scan = 0;

			for (k = 0; k < len; k++) {
				seed = seed * 1103515245 + 12345;
				junk[k] = "a=\n\0x\r\xff"[(seed >> 16) % 7];
			}
			rc = policy_parse(junk, len, 200, &scan, &req, &used,
					  err, sizeof(err));
			if (rc == POLICY_DONE && used > len)
				ok = 0;
			free(junk);
		}
		CHECK(ok, "2000 random buffers handled");
	}
	return check_done();
}
