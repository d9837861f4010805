/*
 * gui.h - `snntb gui`: a local web server that edits a config, runs it and
 * shows the results (see docs/gui.md).  The CLI starts it and waits; tests
 * start it in-process on an ephemeral port.
 */
#ifndef SNNTB_GUI_GUI_H
#define SNNTB_GUI_GUI_H

#include <stddef.h>
#include "snntb/log.h"
#include "snntb/status.h"

typedef struct snn_gui_opts {
    const char *wd;       /* working directory: every file the GUI reads or
                             writes lies under it; NULL: the current one */
    const char *config;   /* initial settings; NULL: the last ones saved in
                             <wd>/.snntb-gui.ini, or the defaults */
    const char *bind;     /* IPv4 address; NULL: 127.0.0.1 */
    unsigned short port;  /* 0: any free port */
    size_t max_body;      /* request bodies above it get 413; 0: 1 MiB */
} snn_gui_opts;

typedef struct snn_gui snn_gui;

/* Starts serving on threads of its own; log receives the server's notes. */
snn_status snn_gui_start(snn_gui **out, const snn_gui_opts *opts,
                         const snn_log *log, snn_error *err);
unsigned short snn_gui_port(const snn_gui *g);
/* The per-start random token every state-changing request must carry. */
const char *snn_gui_token(const snn_gui *g);
/* Stops a run in progress, closes connections and frees g. */
void snn_gui_stop(snn_gui *g);

/* The tooltip of a config key (from the original toolbox's documentation
 * and snntb's own notes), or NULL when it has none. */
const char *snn_gui_tooltip(const char *section, const char *key);
/* The tooltip table itself, entry i < snn_gui_tooltip_count(). */
size_t snn_gui_tooltip_count(void);
const char *snn_gui_tooltip_at(size_t i, const char **section,
                               const char **key);

#endif
