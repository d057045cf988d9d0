/*
 * check.h - the tiny unit-test harness every tests/lib/test_*.c uses.
 *
 * CHECK(cond, name...) prints "PASS: file: name" or "FAIL: file:line: name"
 * and counts; check_done() prints the counts and returns the exit status.
 * tests/run.sh adds up the PASS and FAIL lines of every test program.
 */
#ifndef DIRCAT_CHECK_H
#define DIRCAT_CHECK_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_passed, check_failed;

__attribute__((format(printf, 4, 5)))
static void check_report(int ok, const char *file, int line,
			 const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		check_passed++;
		printf("PASS: %s: ", file);
	} else {
		check_failed++;
		printf("FAIL: %s:%d: ", file, line);
	}
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

#define CHECK(cond, ...) \
	check_report(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

/* Compare two strings; on failure show both. */
#define CHECK_STR(got, want, ...) do { \
	const char *check_g_ = (got), *check_w_ = (want); \
	int check_ok_ = check_g_ && check_w_ && strcmp(check_g_, check_w_) == 0; \
	check_report(check_ok_, __FILE__, __LINE__, __VA_ARGS__); \
	if (!check_ok_) \
		printf("      got  \"%s\"\n      want \"%s\"\n", \
		       check_g_ ? check_g_ : "(null)", \
		       check_w_ ? check_w_ : "(null)"); \
} while (0)

/*
 * Make a fresh directory $TMPDIR/dircat-test-NAME.XXXXXX (TMPDIR: /tmp
 * when unset) into dir, for a test to remove at its end; tests/run.sh
 * points TMPDIR at a directory of its own and fails a test that leaves
 * anything there.  0, or -1 (path too long, mkdtemp failed).
 */
static inline int check_mkdtemp(char *dir, size_t size, const char *name)
{
	const char *t = getenv("TMPDIR");
	int n = snprintf(dir, size, "%s/dircat-test-%s.XXXXXX",
			 t && *t ? t : "/tmp", name);

	if (n < 0 || (size_t)n >= size || !mkdtemp(dir))
		return -1;
	return 0;
}

static inline int check_done(void)
{
	printf("%d passed, %d failed\n", check_passed, check_failed);
	return check_failed ? 1 : 0;
}

#endif
