/*
 * test_util.c - lib/util.c's copies into fixed buffers (each of the three
 * at size - 1 and size bytes of text), and the value parsers the
 * configuration shares: booleans and file modes at their limits.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "log.h"
#include "util.h"

/* Run util_copy_fit in a child: 1 when it aborted. */
static int fit_aborts(const char *src, size_t size)
{
	char buf[16];
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		dup2(devnull, 2);	/* the panic message */
		signal(SIGABRT, SIG_DFL);
		util_copy_fit(buf, src, size);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

int main(void)
{
	char buf[8];
	unsigned mode;
	int b;

	log_init("test_util", LOG_DEST_STDERR);
	CHECK(util_strlcpy(buf, "1234567", sizeof(buf)) == 7 &&
	      !strcmp(buf, "1234567"), "strlcpy: 7 bytes into 8 fit");
	CHECK(util_strlcpy(buf, "12345678", sizeof(buf)) == 8 &&
	      !strcmp(buf, "1234567"), "strlcpy: 8 bytes into 8: cut, "
	      "length returned");
	util_copy_text(buf, "1234567", sizeof(buf));
	CHECK_STR(buf, "1234567", "copy_text: 7 bytes into 8 unchanged");
	util_copy_text(buf, "12345678", sizeof(buf));
	CHECK_STR(buf, "1234...", "copy_text: 8 bytes into 8 end in ...");
	util_copy_text(buf, "a rather long message", 3);
	CHECK_STR(buf, "a ", "copy_text: too small for ... is just cut");
	util_copy_fit(buf, "1234567", sizeof(buf));
	CHECK_STR(buf, "1234567", "copy_fit: 7 bytes into 8");
	CHECK(fit_aborts("1234567", 8) == 0, "copy_fit: what fits does not "
	      "abort");
	CHECK(fit_aborts("12345678", 8) == 1, "copy_fit: 8 bytes into 8 is a "
	      "bug: abort");

	CHECK(util_parse_bool("YES", &b) == 0 && b == 1 &&
	      util_parse_bool("off", &b) == 0 && b == 0 &&
	      util_parse_bool("1", &b) == 0 && b == 1 &&
	      util_parse_bool("2", &b) < 0 && util_parse_bool("", &b) < 0,
	      "parse_bool: the words and nothing else");
	CHECK(util_parse_mode("0777", 0777, &mode) == 0 && mode == 0777,
	      "parse_mode: 0777 at most 0777");
	CHECK(util_parse_mode("01000", 0777, &mode) < 0,
	      "parse_mode: 01000 over 0777");
	CHECK(util_parse_mode("0640", 07777, &mode) == 0 && mode == 0640,
	      "parse_mode: 0640");
	CHECK(util_parse_mode("-1", 07777, &mode) < 0 &&
	      util_parse_mode("8", 07777, &mode) < 0 &&
	      util_parse_mode("", 07777, &mode) < 0 &&
	      util_parse_mode("0640x", 07777, &mode) < 0,
	      "parse_mode: signs, non-octal digits, empty, trailing bytes");
	return check_done();
}
