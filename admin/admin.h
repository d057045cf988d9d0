/*
 * admin.h - the subcommands of the dircat admin tool.  Each takes the
 * arguments after its own name (argv[0] is the subcommand) and returns the
 * process exit status.
 */
#ifndef DIRCAT_ADMIN_H
#define DIRCAT_ADMIN_H

int admin_dump(int argc, char **argv);
int admin_diff(int argc, char **argv);
int admin_normalise(int argc, char **argv);
int admin_keygen(int argc, char **argv);
int admin_verify(int argc, char **argv);
int admin_status(int argc, char **argv);
int admin_lookup(int argc, char **argv);
int admin_metrics(int argc, char **argv);

#endif
