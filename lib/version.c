/*
 * version.c - what -V prints.
 */
#include <idn2.h>
#include <lmdb.h>
#include <openssl/crypto.h>

#include "version.h"

void version_print(FILE *f, const char *prog)
{
	fprintf(f, "%s (dircat) %s\n", prog, DIRCAT_VERSION);
	fprintf(f, "libraries: %s, %s, libidn2 %s\n",
		mdb_version(NULL, NULL, NULL),
		OpenSSL_version(OPENSSL_VERSION),
		idn2_check_version(NULL));
}
