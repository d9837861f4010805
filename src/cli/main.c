/*
 * main.c - `snntb`'s entry point: picks the subcommand.  `snntb CONFIG`
 * without a subcommand runs the config, as the original toolbox's
 * `snntoolbox -t CONFIG` does, so existing habits keep working.
 */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"

typedef struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"run", snn_cmd_run, "convert and simulate what a config describes"},
    {"export", snn_cmd_export, "convert, then write the net for NIR or Brian2"},
    {"inspect", snn_cmd_inspect, "print the layers snntb reads from a model"},
    {"report", snn_cmd_report, "redraw a run's HTML report from its log_vars"},
    {"gui", snn_cmd_gui, "edit, run and inspect a config in the browser"},
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *out)
{
    fprintf(out, "usage: snntb [COMMAND] [options] ...\n\ncommands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n`snntb CONFIG.ini` is `snntb run CONFIG.ini`; "
                 "`snntb COMMAND --help` tells more.\n");
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "--version")) {
        printf("snntb %s\n", SNNTB_VERSION);
        return 0;
    }
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; argc >= 2 && i < N_COMMANDS; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    return snn_cmd_run(argc, argv);
}
