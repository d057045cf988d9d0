/*
 * test_nodestatus.c - lib/nodestatus.c: INBOX/status and the .reason
 * files, written and read back, the limits at N and N+1, status files of
 * earlier versions, and hostile names.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "nodestatus.h"

static const char old_status[] =	/* catalogd 1.0 */
	"catalog_id=corp\nserial=1482\ncreated=1795413604\n"
	"expires=1796018404\ninstalled=1795413609\nkey_id=5104ef91f50f128a\n"
	"stale=no\n";

static void test_status(void)
{
	struct nodestatus st, back;
	struct buf b;
	char err[512], text[NODESTATUS_MAX + 64];
	size_t n;
	int rc;

	err[0] = '\0';
	rc = nodestatus_parse(old_status, strlen(old_status), &st, err,
			      sizeof(err));
	CHECK(rc == 0 && st.serial == 1482 && !strcmp(st.catalog_id, "corp") &&
	      st.created == 1795413604 && st.expires == 1796018404 &&
	      st.installed == 1795413609 && !st.stale && st.version == 1 &&
	      !strcmp(st.key_id, "5104ef91f50f128a"),
	      "a status file of catalogd 1.0 (%s)", err);

	st.stale = 1;
	buf_init(&b, NODESTATUS_MAX);
	CHECK(nodestatus_format(&st, &b, err, sizeof(err)) == 0 &&
	      b.len > 8 && !memcmp(b.data, "version=1\n", 10),
	      "written with version=1 first");
	rc = nodestatus_parse((const char *)b.data, b.len, &back, err,
			      sizeof(err));
	CHECK(rc == 0 && !memcmp(&st, &back, sizeof(st)),
	      "read back as written (%s)", err);
	buf_free(&b);

	rc = nodestatus_parse("catalog_id=corp\n", 16, &st, err, sizeof(err));
	CHECK(rc < 0 && strstr(err, "no serial= line"), "serial required: %s",
	      err);
	rc = nodestatus_parse("serial=1\ncatalog_id=a b\n", 24, &st, err,
			      sizeof(err));
	CHECK(rc < 0 && strstr(err, "catalog_id"), "bad catalog id: %s", err);
	rc = nodestatus_parse("serial=1\nkey_id=../x\n", 21, &st, err,
			      sizeof(err));
	CHECK(rc < 0 && strstr(err, "key_id"), "bad key id: %s", err);
	rc = nodestatus_parse("serial=1\nserial=2\n", 18, &st, err,
			      sizeof(err));
	CHECK(rc < 0 && strstr(err, "twice"), "serial given twice: %s", err);
	rc = nodestatus_parse("serial=1\nstale=maybe\n", 21, &st, err,
			      sizeof(err));
	CHECK(rc < 0 && strstr(err, "stale"), "stale: yes or no");
	rc = nodestatus_parse("version=0\nserial=1\n", 19, &st, err,
			      sizeof(err));
	CHECK(rc < 0 && strstr(err, "version"), "version 0 refused");
	rc = nodestatus_parse("version=2\nserial=7\nepoch=3\n", 26, &st, err,
			      sizeof(err));
	CHECK(rc == 0 && st.version == 2 && st.serial == 7,
	      "a later version: known keys read, others skipped");
	rc = nodestatus_parse("serial=1\ncatalog_id=corp\\x0aserial=9\n", 37,
			      &st, err, sizeof(err));
	CHECK(rc < 0, "an escaped newline in the catalog id is refused");

	/* The catalog id: CATALOG_ID_MAX characters, then one more. */
	n = (size_t)snprintf(text, sizeof(text), "serial=1\ncatalog_id=");
	memset(text + n, 'c', CATALOG_ID_MAX);
	text[n + CATALOG_ID_MAX] = '\n';
	rc = nodestatus_parse(text, n + CATALOG_ID_MAX + 1, &st, err,
			      sizeof(err));
	CHECK(rc == 0 && strlen(st.catalog_id) == CATALOG_ID_MAX,
	      "catalog id of %d characters", CATALOG_ID_MAX);
	memset(text + n, 'c', CATALOG_ID_MAX + 1);
	text[n + CATALOG_ID_MAX + 1] = '\n';
	rc = nodestatus_parse(text, n + CATALOG_ID_MAX + 2, &st, err,
			      sizeof(err));
	CHECK(rc < 0, "catalog id of %d characters refused",
	      CATALOG_ID_MAX + 1);

	/* A line: NODESTATUS_LINE_MAX bytes, then one more. */
	memset(text, '#', NODESTATUS_LINE_MAX);
	memcpy(text + NODESTATUS_LINE_MAX, "\nserial=1\n", 10);
	rc = nodestatus_parse(text, NODESTATUS_LINE_MAX + 10, &st, err,
			      sizeof(err));
	CHECK(rc == 0, "a line of %d bytes", NODESTATUS_LINE_MAX);
	memset(text, '#', NODESTATUS_LINE_MAX + 1);
	memcpy(text + NODESTATUS_LINE_MAX + 1, "\nserial=1\n", 10);
	rc = nodestatus_parse(text, NODESTATUS_LINE_MAX + 11, &st, err,
			      sizeof(err));
	CHECK(rc < 0 && strstr(err, "line 1"), "a line of %d bytes refused",
	      NODESTATUS_LINE_MAX + 1);

	/* The file: NODESTATUS_MAX bytes, then one more. */
	memset(text, '\n', sizeof(text));
	memcpy(text, "serial=1\n", 9);
	rc = nodestatus_parse(text, NODESTATUS_MAX, &st, err, sizeof(err));
	CHECK(rc == 0, "a file of %d bytes", NODESTATUS_MAX);
	rc = nodestatus_parse(text, NODESTATUS_MAX + 1, &st, err, sizeof(err));
	CHECK(rc < 0 && strstr(err, "larger than"), "a file of %d bytes refused",
	      NODESTATUS_MAX + 1);

	memset(&st, 0, sizeof(st));
	util_copy_fit(st.catalog_id, "not valid!", sizeof(st.catalog_id));
	buf_init(&b, NODESTATUS_MAX);
	CHECK(nodestatus_format(&st, &b, err, sizeof(err)) < 0 && b.len == 0,
	      "the writer refuses what the reader would");
	buf_free(&b);
}

static void test_refusal(const char *dir)
{
	struct nodestatus_refusal r, back;
	struct buf b;
	char err[512], path[512], name[NODESTATUS_FILE_MAX + 2];
	int rc;

	err[0] = '\0';
	memset(&r, 0, sizeof(r));
	r.time = 1795413604;
	util_copy_fit(r.file, "corp.9.full.snap\nreason=installed fine",
		      sizeof(r.file));
	util_copy_fit(r.reason, "bad signature\n\x1b[2J", sizeof(r.reason));
	snprintf(path, sizeof(path), "%s/x.reason", dir);
	CHECK(nodestatus_refusal_write(path, &r, err, sizeof(err)) == 0,
	      "write a .reason file (%s)", err);
	rc = nodestatus_refusal_read(path, &back, err, sizeof(err));
	CHECK(rc == 0 && back.time == r.time && !strcmp(back.file, r.file) &&
	      !strcmp(back.reason, r.reason),
	      "hostile name and reason read back unchanged (%s)", err);
	{
		char *text;
		size_t len, lines = 0, i;

		text = util_read_file(path, NODESTATUS_REFUSAL_MAX, &len, err,
				      sizeof(err));
		for (i = 0; text && i < len; i++)
			lines += text[i] == '\n';
		CHECK(text && lines == 3 && !strstr(text, "\nreason=installed"),
		      "the name forged no line (%zu lines)", lines);
		free(text);
	}
	unlink(path);

	/* Name: NODESTATUS_FILE_MAX bytes, then one more; reason likewise. */
	memset(name, 'n', sizeof(name));
	name[NODESTATUS_FILE_MAX] = '\0';
	util_copy_fit(r.file, name, sizeof(r.file));
	buf_init(&b, NODESTATUS_REFUSAL_MAX);
	rc = nodestatus_refusal_format(&r, &b, err, sizeof(err)) == 0 &&
	     nodestatus_refusal_parse((const char *)b.data, b.len, &back, err,
				      sizeof(err)) == 0;
	CHECK(rc && strlen(back.file) == NODESTATUS_FILE_MAX,
	      "a name of %d bytes", NODESTATUS_FILE_MAX);
	buf_free(&b);
	name[NODESTATUS_FILE_MAX] = 'n';
	name[NODESTATUS_FILE_MAX + 1] = '\0';
	buf_init(&b, NODESTATUS_REFUSAL_MAX);
	buf_printf(&b, "time=1\nreason=x\nfile=%s\n", name);
	rc = nodestatus_refusal_parse((const char *)b.data, b.len, &back, err,
				      sizeof(err));
	CHECK(rc < 0 && strstr(err, "file: longer than"),
	      "a name of %d bytes refused: %s", NODESTATUS_FILE_MAX + 1, err);
	buf_free(&b);
	memset(r.reason, '\x01', NODESTATUS_REASON_MAX);
	r.reason[NODESTATUS_REASON_MAX] = '\0';
	buf_init(&b, NODESTATUS_REFUSAL_MAX);
	rc = nodestatus_refusal_format(&r, &b, err, sizeof(err)) == 0 &&
	     nodestatus_refusal_parse((const char *)b.data, b.len, &back, err,
				      sizeof(err)) == 0;
	CHECK(rc && strlen(back.reason) == NODESTATUS_REASON_MAX,
	      "a reason of %d control bytes fits a line (%s)",
	      NODESTATUS_REASON_MAX, err);
	buf_free(&b);
	rc = nodestatus_refusal_parse("time=1 (2026)\nfile=a\nreason=b\n", 29,
				      &back, err, sizeof(err));
	CHECK(rc < 0 && strstr(err, "line 1"),
	      "catalogd 1.0's time line is refused: %s", err);
	rc = nodestatus_refusal_parse("time=1\nfile=a\n", 14, &back, err,
				      sizeof(err));
	CHECK(rc < 0 && strstr(err, "reason"), "reason required");
}

int main(void)
{
	char dir[256];

	if (check_mkdtemp(dir, sizeof(dir), "nodestatus") < 0)
		return 1;
	test_status();
	test_refusal(dir);
	rmdir(dir);
	return check_done();
}
