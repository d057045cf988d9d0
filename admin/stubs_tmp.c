/* Placeholders while the subcommands are being written. */
#include <stdio.h>
#include "admin.h"
int admin_status(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "dircat: status: not built yet\n"); return 3; }
int admin_lookup(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "dircat: lookup: not built yet\n"); return 3; }
