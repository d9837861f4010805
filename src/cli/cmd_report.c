/*
 * cmd_report.c - `snntb report LOGDIR`: redraws LOGDIR/report/ (the HTML
 * report and its SVG plots) from LOGDIR/log_vars/, which a run with
 * plot_vars or log_vars saved, without simulating again.  Argument
 * parsing and messages only; the work is snn_report_rebuild.
 */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "snntb/report.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: snntb report LOGDIR\n"
            "\n"
            "Rebuilds LOGDIR/report/index.html and LOGDIR/report/plots/*.svg\n"
            "from the activity a run saved in LOGDIR/log_vars/ (a run whose\n"
            "config sets [output] plot_vars or log_vars).  LOGDIR is the\n"
            "run's log folder, e.g. <path_wd>/log/gui/<runlabel>.\n");
}

int snn_cmd_report(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        usage(stdout);
        return 0;
    }
    if (argc != 2 || argv[1][0] == '-') {
        usage(stderr);
        return 2;
    }
    snn_error err = {0};
    if (snn_report_rebuild(argv[1], &err) != SNN_OK) {
        fprintf(stderr, "snntb: error: %s\n", err.msg);
        return 1;
    }
    printf("report: %s/report/index.html\n", argv[1]);
    return 0;
}
