/*
 * policy.h - the Postfix policy delegation request: "name=value" lines
 * ended by an empty line (SMTPD_POLICY_README).
 *
 * policy_parse() takes one request from the front of a mutable buffer and
 * splits it in place (NULs replace '=' and line ends), so attribute
 * pointers stay valid as long as the buffer does; it never allocates.
 * Limits: POLICY_ATTRS_MAX attributes, POLICY_NAME_MAX bytes per name; the
 * request size limit is the caller's.  Refused: a line without '=', a bad
 * attribute name, a NUL byte, an attribute given twice, too many
 * attributes, an empty request, a request over the size limit.  A
 * trailing CR on a line is ignored (a person typing into telnet).
 */
#ifndef DIRCAT_POLICY_H
#define DIRCAT_POLICY_H

#include <stddef.h>

#define POLICY_ATTRS_MAX   128	/* Postfix 3.7 sends about 30 */
#define POLICY_NAME_MAX    64
#define POLICY_REQUEST_DEFAULT (16 * 1024)	/* a sensible size limit */

struct policy_attr {
	const char *name;
	const char *value;	/* NUL-terminated; may be empty */
};

struct policy_request {
	struct policy_attr attr[POLICY_ATTRS_MAX];
	size_t nattr;
	/* The attributes dircat acts on; "" when absent. */
	const char *request;		/* "smtpd_access_policy" */
	const char *protocol_state;	/* "RCPT", "MAIL", ... */
	const char *sender;
	const char *recipient;
	const char *sasl_username;
	const char *client_address;
	const char *queue_id;
};

enum policy_result {
	POLICY_ERROR = -1,	/* malformed: err says why */
	POLICY_MORE = 0,	/* no empty line yet: read more */
	POLICY_DONE = 1		/* req filled, *used bytes consumed */
};

/*
 * Parse the request at buf[0..len), at most max bytes including its
 * empty line.  *scan is where the search for the empty line resumes
 * (start with 0, keep it between calls on the same growing buffer, reset
 * it to 0 after consuming a request).  On POLICY_DONE buf[0..*used) has
 * been modified and req points into it.
 */
int policy_parse(char *buf, size_t len, size_t max, size_t *scan,
		 struct policy_request *req, size_t *used,
		 char *err, size_t errlen);

/* The value of attribute name, or NULL when the request lacks it. */
const char *policy_get(const struct policy_request *req, const char *name);

#endif
