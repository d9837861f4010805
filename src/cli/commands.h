/*
 * commands.h - the subcommands of `snntb`.  Each takes the arguments after
 * its name (argv[0] is the subcommand) and returns the process exit status:
 * 0 success, 1 failure, 2 usage error.
 */
#ifndef SNNTB_CLI_COMMANDS_H
#define SNNTB_CLI_COMMANDS_H

#define SNNTB_VERSION "0.1.0"

int snn_cmd_run(int argc, char **argv);
int snn_cmd_export(int argc, char **argv);
int snn_cmd_inspect(int argc, char **argv);
int snn_cmd_report(int argc, char **argv);
int snn_cmd_gui(int argc, char **argv);

#endif
