/*
 * fuzz_policy.c - libFuzzer target for lib/policy.c: the input, copied
 * into a writable buffer, is parsed as pipelined policy requests with a
 * 4 KiB limit, feeding it in two parts to exercise the resumed scan.
 * Every attribute must point inside the consumed bytes and be
 * NUL-terminated there.
 */
#include "policy.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1), err[256];
	size_t pos = 0, scan = 0, half = size / 2;

	memcpy(buf, data, size);
	while (pos < size) {
		struct policy_request req;
		size_t used, i, avail = size - pos;
		int rc;

		/* First the half, then everything: as two reads would. */
		if (half > pos) {
			rc = policy_parse(buf + pos, half - pos, 4096, &scan,
					  &req, &used, err, sizeof(err));
			if (rc == POLICY_MORE)
				rc = policy_parse(buf + pos, avail, 4096, &scan,
						  &req, &used, err,
						  sizeof(err));
		} else {
			rc = policy_parse(buf + pos, avail, 4096, &scan, &req,
					  &used, err, sizeof(err));
		}
		half = 0;
		if (rc != POLICY_DONE)
			break;
		if (used > avail || req.nattr > POLICY_ATTRS_MAX)
			abort();
		for (i = 0; i < req.nattr; i++) {
			const char *n = req.attr[i].name, *v = req.attr[i].value;

			if (n < buf + pos || v < buf + pos ||
			    v + strlen(v) >= buf + pos + used ||
			    n + strlen(n) >= buf + pos + used)
				abort();
		}
		pos += used;
		scan = 0;
	}
	free(buf);
	return 0;
}
