/*
 * fuzz_fetch.c - libFuzzer target for what dircat-fetch takes from an
 * origin or a cache it does not trust, and for its state file:
 * fetcher/http.c's response header reader (the ETag and Last-Modified it
 * keeps), fetcher/fetch.c's manifest acceptance (signature, catalog,
 * freshness, replay) and the state file that carries the newest manifest
 * accepted across restarts.  Both files are compiled into this target so
 * that their static functions are reached as dircat-fetch runs them; no
 * connection is made.
 *
 * The first input byte picks the mode (its value modulo 3); the rest is:
 *   0: response header lines, as libcurl hands them over (split after
 *      each '\n'): what is kept must be empty, or printable ASCII of at
 *      most HTTP_VALIDATOR_MAX bytes without surrounding spaces;
 *   1: a state file: when it loads, writing it and loading it again must
 *      give the same state (values on one line, trimmed, as kept);
 *   2: two manifest bodies separated by a line "=====" (the first "key"
 *      line of each names the key trusted here and each is signed with
 *      it, as fuzz_manifest does), offered one after the other at a fixed
 *      time.  A manifest older than one accepted must be refused as a
 *      replay and change nothing; the newest accepted must be in the
 *      state; every message kept in the state (and logged, and shown by
 *      dircat-fetch -s) must be one line of printable text.
 * Every state this builds must survive a write and a load unchanged: a
 * state that does not load is started afresh, and a node that forgets
 * the newest manifest it accepted can be fed an older one.
 * Run with -close_fd_mask=2 (tests/fuzz/fuzz_fetch.flags): every refusal
 * is logged to stderr.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.c"	/* -Ifetcher */
#include "fetch.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_NOW 1700003600	/* inside the seeds' validity */

static struct sign_key *fuzz_key;
static struct sign_keyring *fuzz_ring;
static struct fetchconf fuzz_conf;
static struct fetcher fuzz_f;
static char fuzz_dir[4096];

static void fuzz_cleanup(void)
{
	unlink(fuzz_f.state_path);
	unlink(fuzz_f.manifest_path);
	rmdir(fuzz_dir);
}

static void fuzz_init(void)
{
	const char *tmp = getenv("TMPDIR");
	char err[256];

	fuzz_key = sign_key_generate(err, sizeof(err));
	fuzz_ring = sign_keyring_new();
	if (!fuzz_key ||
	    sign_keyring_add_key(fuzz_ring, fuzz_key, err, sizeof(err)) < 0)
		abort();
	snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/fuzz-fetch.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(fuzz_dir))
		abort();
	atexit(fuzz_cleanup);
	fuzz_conf.manifest_url = (char *)"http://origin.invalid/corp/manifest";
	fuzz_conf.base_url = (char *)"http://origin.invalid/corp/";
	strcpy(fuzz_conf.catalog_id, "corp");
	strcpy(fuzz_conf.projection, "all");
	fuzz_conf.keys = fuzz_ring;
	fuzz_conf.state_dir = fuzz_dir;
	fuzz_f.c = &fuzz_conf;
	snprintf(fuzz_f.state_path, sizeof(fuzz_f.state_path), "%s/corp.state",
		 fuzz_dir);
	snprintf(fuzz_f.manifest_path, sizeof(fuzz_f.manifest_path),
		 "%s/corp.manifest", fuzz_dir);
}

/* A kept header value: empty, or bounded printable text, trimmed. */
static void fuzz_validator(const char *v)
{
	size_t n = strnlen(v, HTTP_VALIDATOR_MAX + 1), i;

	if (n > HTTP_VALIDATOR_MAX)
		abort();
	if (n && (v[0] == ' ' || v[n - 1] == ' '))
		abort();
	for (i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7e)
			abort();
}

/* One line of printable text (what is logged and shown). */
static void fuzz_oneline(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			abort();
}

/* A text value as the state file gives it back: on one line, without
 * the spaces around it. */
static void fuzz_as_kept(const char *s, char *out, size_t size)
{
	char line[FETCH_ERROR_MAX + HTTP_VALIDATOR_MAX + 2];
	const char *b, *e;

	fetch_oneline(s, line, sizeof(line));
	for (b = line; isspace((unsigned char)*b); b++)
		;
	e = b + strlen(b);
	while (e > b && isspace((unsigned char)e[-1]))
		e--;
	memset(out, 0, size);	/* the state is compared byte for byte */
	snprintf(out, size, "%.*s", (int)(e - b), b);
}

/* The state written and loaded again is the same state. */
static void fuzz_roundtrip(void)
{
	struct fetch_state want = fuzz_f.st;
	char err[1024];

	fuzz_as_kept(fuzz_f.st.etag, want.etag, sizeof(want.etag));
	fuzz_as_kept(fuzz_f.st.last_modified, want.last_modified,
		     sizeof(want.last_modified));
	fuzz_as_kept(fuzz_f.st.last_error, want.last_error,
		     sizeof(want.last_error));
	if (want.last_outcome < 0 || want.last_outcome >= FETCH_OUTCOMES)
		want.last_outcome = FETCH_CURRENT;
	want.have_manifest = want.m_serial > 0;
	if (fetch_state_save(&fuzz_f, err, sizeof(err)) < 0)
		abort();
	if (fetch_state_load(&fuzz_f, err, sizeof(err)) < 0)
		abort();	/* the node would forget its newest manifest */
	if (memcmp(&want, &fuzz_f.st, sizeof(want)))
		abort();
}

/* Mode 0: header lines through http_header(). */
static void fuzz_headers(const uint8_t *data, size_t size)
{
	struct http h;
	struct http_result res;
	char line[4096];
	size_t at = 0;

	memset(&h, 0, sizeof(h));
	memset(&res, 0, sizeof(res));
	h.res = &res;
	while (at < size) {
		const uint8_t *nl = memchr(data + at, '\n', size - at);
		size_t len = nl ? (size_t)(nl - (data + at)) + 1 : size - at;
		size_t cut = len < sizeof(line) ? len : sizeof(line);

		memcpy(line, data + at, cut);
		if (http_header(line, 1, cut, &h) != cut)
			abort();
		at += len;
	}
	fuzz_validator(res.etag);
	fuzz_validator(res.last_modified);
	memset(&fuzz_f.st, 0, sizeof(fuzz_f.st));
	memcpy(fuzz_f.st.etag, res.etag, sizeof(res.etag));
	memcpy(fuzz_f.st.last_modified, res.last_modified,
	       sizeof(res.last_modified));
	fuzz_f.st.m_serial = 1;
	fuzz_roundtrip();
}

/* Mode 1: a state file as found on disk. */
static void fuzz_state(const uint8_t *data, size_t size)
{
	char err[1024];
	int fd;

	fd = open(fuzz_f.state_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		  0600);
	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size))
		abort();
	close(fd);
	if (fetch_state_load(&fuzz_f, err, sizeof(err)) < 0) {
		if (!err[0] || !strstr(err, fuzz_f.state_path))
			abort();
		return;
	}
	fuzz_roundtrip();
}

/* A manifest body made into a manifest signed by the key trusted here. */
static void fuzz_signed(const uint8_t *body, size_t len, struct buf *b)
{
	unsigned char sig[SIGN_SIG_LEN];
	char id[SIGN_KEY_ID_HEX], err[256];
	size_t i;

	b->len = 0;
	if (buf_append(b, body, len) < 0)
		abort();
	for (i = 0; i + 4 + 2 * SIGN_KEY_ID_LEN <= b->len; i++) {
		if ((i == 0 || b->data[i - 1] == '\n') &&
		    !memcmp(b->data + i, "key ", 4)) {
			sign_key_id_hex(sign_key_id_raw(fuzz_key), id);
			memcpy(b->data + i + 4, id, 2 * SIGN_KEY_ID_LEN);
			break;
		}
	}
	if (sign_sign(fuzz_key, b->data, b->len, sig, err, sizeof(err)) < 0)
		abort();
	buf_printf(b, "signature ");
	for (i = 0; i < SIGN_SIG_LEN; i++)
		buf_printf(b, "%02x", sig[i]);
	buf_printf(b, "\n");
}

/* Mode 2: two manifests, in the order given. */
static void fuzz_manifests(const uint8_t *data, size_t size)
{
	static const char sep[] = "\n=====\n";
	const uint8_t *cut = memmem(data, size, sep, sizeof(sep) - 1);
	struct http_result res;
	struct fetch_state before;
	struct buf b;
	const uint8_t *part[2];
	size_t plen[2], i;
	int rc[2];
	char *out = NULL;
	size_t outlen = 0;
	FILE *f;

	part[0] = data;
	plen[0] = cut ? (size_t)(cut - data) + 1 : size;
	part[1] = cut ? cut + sizeof(sep) - 1 : data;
	plen[1] = cut ? size - (size_t)(part[1] - data) : size;
	memset(&fuzz_f.st, 0, sizeof(fuzz_f.st));
	memset(&res, 0, sizeof(res));
	strcpy(res.etag, "\"e1\"");
	unlink(fuzz_f.manifest_path);
	buf_init(&b, MANIFEST_FILE_MAX + 256);
	for (i = 0; i < 2; i++) {
		fuzz_signed(part[i], plen[i], &b);
		before = fuzz_f.st;
		rc[i] = fetch_accept(&fuzz_f, &b, &res, FUZZ_NOW);
		fuzz_oneline(fuzz_f.st.last_error);
		if (rc[i] != 0 && rc[i] != FETCH_E_REFUSED &&
		    rc[i] != FETCH_E_LOCAL)
			abort();
		if (rc[i] == 0) {
			const struct manifest *m = &fuzz_f.m;

			/* Accepted: the newest so far, or the same. */
			if (before.have_manifest &&
			    manifest_order(m->epoch, m->serial, m->published,
					   before.m_epoch, before.m_serial,
					   before.m_published) < 0)
				abort();
			if (!fuzz_f.st.have_manifest ||
			    manifest_order(fuzz_f.st.m_epoch,
					   fuzz_f.st.m_serial,
					   fuzz_f.st.m_published, m->epoch,
					   m->serial, m->published) != 0 ||
			    strcmp(m->catalog_id, "corp") ||
			    strcmp(m->projection, "all") ||
			    m->expires <= FUZZ_NOW)
				abort();
		} else if (fuzz_f.st.have_manifest != before.have_manifest ||
			   fuzz_f.st.m_epoch != before.m_epoch ||
			   fuzz_f.st.m_serial != before.m_serial ||
			   fuzz_f.st.m_published != before.m_published ||
			   fuzz_f.st.m_expires != before.m_expires) {
			abort();	/* a refusal changed what is trusted */
		}
		strcpy(res.etag, "\"e2\"");
	}
	buf_free(&b);
	/* What dircat-fetch -s shows: lines of printable text. */
	f = open_memstream(&out, &outlen);
	if (!f)
		abort();
	fetch_state_print(&fuzz_f.st, "corp", FUZZ_NOW, f);
	fclose(f);
	for (i = 0; i < outlen; i++)
		if (out[i] != '\n' &&
		    ((unsigned char)out[i] < 0x20 || out[i] == 0x7f))
			abort();
	free(out);
	fuzz_roundtrip();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!fuzz_key)
		fuzz_init();
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		fuzz_headers(data + 1, size - 1);
		break;
	case 1:
		fuzz_state(data + 1, size - 1);
		break;
	default:
		fuzz_manifests(data + 1, size - 1);
		break;
	}
	return 0;
}
