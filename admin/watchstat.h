/*
 * watchstat.h - dircat status --watch FILE: the state the aggregator's
 * watch mode keeps in its watch_status_file (key=value lines), shown for
 * people or as one Nagios line, and judged: held by a safety gate is
 * CRITICAL, a source retrying its connection is WARNING.
 * Limits: WATCHSTAT_FILE_MAX bytes read, WATCHSTAT_LINE_MAX a line;
 * keys and values are printed with control characters replaced.
 */
#ifndef WATCHSTAT_H
#define WATCHSTAT_H

#define WATCHSTAT_FILE_MAX 65536
#define WATCHSTAT_LINE_MAX 1024

#include <stdio.h>

/* Print and judge path: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. */
int watchstat_show(const char *path, int nagios);

/* The same for the file's text (a string, changed in place; the file's
 * first WATCHSTAT_FILE_MAX bytes), printed to out: 0, 1 or 2. */
int watchstat_text(char *text, int nagios, FILE *out);

#endif
