/*
 * toolflush.h - for the test tools' event loops (echoserv, loadgen): write
 * what a non-blocking connection has pending, and ask epoll for EPOLLOUT
 * only while something is left to send.  Header-only: each tool is one
 * source file.
 */
#ifndef DIRCAT_TOOLFLUSH_H
#define DIRCAT_TOOLFLUSH_H

#include <errno.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <unistd.h>

/* 0, or -1 when the connection is gone.  ptr is epoll's data.ptr. */
static int tool_flush(int epfd, int fd, void *ptr, const char *out,
		      size_t *outoff, size_t *outlen, int *want_out)
{
	struct epoll_event ev;

	while (*outoff < *outlen) {
		ssize_t n = write(fd, out + *outoff, *outlen - *outoff);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			return -1;
		}
		*outoff += (size_t)n;
	}
	if (*outoff == *outlen)
		*outoff = *outlen = 0;
	if ((*outlen != 0) != *want_out) {
		*want_out = *outlen != 0;
		ev.events = EPOLLIN | (*want_out ? EPOLLOUT : 0);
		ev.data.ptr = ptr;
		if (epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
			return -1;
	}
	return 0;
}

#endif
