/*
 * cmd_gui.c - `snntb gui [CONFIG]`: starts the local web GUI (src/gui),
 * prints its URL with the per-start token, and serves until Ctrl-C or
 * SIGTERM.  Argument parsing and messages only.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "gui/gui.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: snntb gui [options] [CONFIG.ini]\n"
            "\n"
            "Serves a web page to edit a config, run it with live progress\n"
            "and compare the results of the runs in the working directory.\n"
            "Open the URL it prints (it carries a token that changes every\n"
            "start).  Without CONFIG the last settings are restored from\n"
            "<wd>/.snntb-gui.ini.\n"
            "\n"
            "options:\n"
            "  --port N      port to listen on (default 8642; 0: any free one)\n"
            "  --bind ADDR   IPv4 address to listen on (default 127.0.0.1;\n"
            "                anything else exposes the GUI to the network)\n"
            "  --wd DIR      working directory (default: the current one);\n"
            "                the GUI reads and writes files only under it\n"
            "  -h, --help    this help\n");
}

static void log_to_stderr(void *user, snn_log_level level, const char *msg)
{
    (void)user;
    fprintf(stderr, "snntb gui: %s%s\n",
            level == SNN_LOG_WARN ? "warning: " : "", msg);
}

static int parse_port(const char *s, unsigned short *port)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (!*s || *end || v > 65535)
        return 0;
    *port = (unsigned short)v;
    return 1;
}

/* Returns 0 to serve, 1 after --help, 2 on a usage error. */
static int parse_args(int argc, char **argv, snn_gui_opts *o)
{
    memset(o, 0, sizeof *o);
    o->port = 8642;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_value = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 1;
        } else if (!strcmp(a, "--port") && has_value) {
            if (!parse_port(argv[++i], &o->port)) {
                fprintf(stderr, "snntb: error: --port %s: not a port number\n",
                        argv[i]);
                return 2;
            }
        } else if (!strcmp(a, "--bind") && has_value) {
            o->bind = argv[++i];
        } else if (!strcmp(a, "--wd") && has_value) {
            o->wd = argv[++i];
        } else if (a[0] == '-') {
            fprintf(stderr, "snntb: error: unknown option or missing value: "
                    "%s\n", a);
            usage(stderr);
            return 2;
        } else if (o->config) {
            fprintf(stderr, "snntb: error: more than one config given\n");
            return 2;
        } else {
            o->config = a;
        }
    }
    return 0;
}

int snn_cmd_gui(int argc, char **argv)
{
    snn_gui_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc)
        return rc == 1 ? 0 : 2;
    /* Blocked before the server's threads start, so that they inherit the
     * mask and the signals reach sigwait below. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    snn_log log = {log_to_stderr, NULL, SNN_LOG_WARN};
    snn_error err = {0};
    snn_gui *g;
    if (snn_gui_start(&g, &o, &log, &err) != SNN_OK) {
        fprintf(stderr, "snntb: error: %s\n", err.msg);
        return 1;
    }
    const char *host = o.bind ? o.bind : "127.0.0.1";
    if (strcmp(host, "127.0.0.1") != 0)
        fprintf(stderr, "snntb gui: warning: listening on %s, not only on "
                "this machine's loopback\n", host);
    printf("snntb gui: http://%s:%u/?token=%s\n", host,
           (unsigned)snn_gui_port(g), snn_gui_token(g));
    printf("(Ctrl-C stops the server)\n");
    fflush(stdout);
    int sig = 0;
    sigwait(&stop, &sig);
    fprintf(stderr, "snntb gui: stopping\n");
    snn_gui_stop(g);
    return 0;
}
