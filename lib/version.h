/*
 * version.h - the dircat release every program reports with -V, and the
 * versions of the libraries it runs with (as loaded, not as compiled).
 */
#ifndef DIRCAT_VERSION_H
#define DIRCAT_VERSION_H

#include <stdio.h>

#define DIRCAT_VERSION "1.0.0"

/* "PROG (dircat) 1.0.0" and a line naming LMDB, OpenSSL and libidn2 as
 * loaded.  Programs linked with more (libldap, libcurl) add their own
 * line after this one. */
void version_print(FILE *f, const char *prog);

#endif
