/*
 * fuzz_syncinfo.c - libFuzzer target: the RFC 4533 Sync State control
 * and Sync Info message values a directory server sends the watch mode
 * (aggregator/syncinfo.c).  Any bytes: decoded or refused, never a crash,
 * and a decoded value stays within the limits.
 */
#include <stdint.h>
#include <stdlib.h>

#include "syncinfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct syncinfo_state_ctl st;
	static struct syncinfo_msg m;

	if (syncinfo_parse_state(data, size, &st) == 0 &&
	    (st.uuidlen == 0 || st.uuidlen > SYNCINFO_UUID_MAX ||
	     st.cookielen > SYNCINFO_COOKIE_MAX))
		abort();
	if (syncinfo_parse_info(data, size, &m) == 0) {
		if (m.cookielen > SYNCINFO_COOKIE_MAX ||
		    m.nuuids > SYNCINFO_IDSET_MAX)
			abort();
		syncinfo_msg_free(&m);
	}
	return 0;
}
