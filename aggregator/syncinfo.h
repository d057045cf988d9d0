/*
 * syncinfo.h - the RFC 4533 values a server sends, decoded: the Sync
 * State control on each entry and the Sync Info intermediate message.
 * They come from the directory server, so every length is checked
 * against the limits below and anything malformed is refused (-1); the
 * caller's buffers get copies, never pointers into the message.
 */
#ifndef SYNCINFO_H
#define SYNCINFO_H

#include <stddef.h>

#define SYNCINFO_UUID_MAX   64		/* bytes of an entryUUID */
#define SYNCINFO_COOKIE_MAX 16384	/* bytes of a cookie */
#define SYNCINFO_IDSET_MAX  1000000	/* UUIDs in one syncIdSet */

enum syncinfo_state {
	SYNCINFO_PRESENT = 0, SYNCINFO_ADD = 1, SYNCINFO_MODIFY = 2,
	SYNCINFO_DELETE = 3
};

struct syncinfo_state_ctl {
	int state;				/* enum syncinfo_state */
	unsigned char uuid[SYNCINFO_UUID_MAX];
	size_t uuidlen;
	unsigned char cookie[SYNCINFO_COOKIE_MAX];
	size_t cookielen;			/* 0: none */
	int has_cookie;
};

enum syncinfo_type {
	SYNCINFO_NEW_COOKIE = 0,
	SYNCINFO_REFRESH_DELETE = 1,
	SYNCINFO_REFRESH_PRESENT = 2,
	SYNCINFO_ID_SET = 3
};

struct syncinfo_msg {
	int type;				/* enum syncinfo_type */
	unsigned char cookie[SYNCINFO_COOKIE_MAX];
	size_t cookielen;
	int has_cookie;
	int refresh_done;			/* refreshDelete/Present */
	int refresh_deletes;			/* syncIdSet */
	unsigned char *uuids;			/* syncIdSet: n * uuidlen */
	size_t nuuids, uuidlen;			/* every UUID this long */
};

/* Decode a Sync State control value.  0, or -1 when malformed. */
int syncinfo_parse_state(const void *val, size_t len,
			 struct syncinfo_state_ctl *out);
/* Decode a Sync Info value.  0, or -1 when malformed; free uuids with
 * syncinfo_msg_free. */
int syncinfo_parse_info(const void *val, size_t len, struct syncinfo_msg *out);
void syncinfo_msg_free(struct syncinfo_msg *);

#endif
