/*
 * gui_internal.h - what the files of src/gui share: the server state, the
 * request and reply helpers, the settings being edited, the run job and
 * the embedded page.  Not part of the public API.
 */
#ifndef SNNTB_GUI_INTERNAL_H
#define SNNTB_GUI_INTERNAL_H

#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <microhttpd.h>

#include "gui/gui.h"

/* ---- assets (generated from src/gui/assets/ at build time) ---- */

typedef struct gui_asset {
    const char *name; /* e.g. "index.html" */
    const unsigned char *data;
    size_t size;
} gui_asset;

extern const gui_asset gui_assets[];
extern const size_t gui_n_assets;

/* ---- settings.c: one value per schema key, as the page edits them ---- */

typedef struct gui_settings {
    char **values; /* snn_config_schema_count() strings */
} gui_settings;

snn_status gui_settings_defaults(gui_settings *s, snn_error *err);
snn_status gui_settings_copy(gui_settings *dst, const gui_settings *src,
                             snn_error *err);
void gui_settings_free(gui_settings *s);
/* {"section": {"key": "value"}} for every key. */
json_t *gui_settings_json(const gui_settings *s);
/* Replaces the keys values names (the same shape, strings only) and checks
 * the result as the config parser would; s is unchanged on failure. */
snn_status gui_settings_update(gui_settings *s, const json_t *values,
                               snn_error *err);
/* One value alone, checked by the config parser's validator. */
snn_status gui_settings_check_value(const char *section, const char *key,
                                    const char *value, snn_error *err);
/* Reads a config file (unknown keys are logged and dropped).  A path_wd
 * the file leaves empty keeps meaning the file's folder. */
snn_status gui_settings_load(gui_settings *s, const char *path,
                             const char *wd, const snn_log *log,
                             snn_error *err);
/* Writes the values that differ from the defaults as an INI file,
 * atomically. */
snn_status gui_settings_save(const gui_settings *s, const char *path,
                             snn_error *err);

/* ---- run_job.c: one pipeline run at a time, on a thread ---- */

typedef struct gui_job gui_job;

gui_job *gui_job_new(void);
/* Stops a run in progress and waits for it. */
void gui_job_free(gui_job *j);
/* Starts snn_run on the config file at path: SNN_OK, or an error (another
 * run is going: *busy is set). */
snn_status gui_job_start(gui_job *j, const char *config_path, int *busy,
                         snn_error *err);
void gui_job_stop(gui_job *j);
/* The state as JSON; *version changes whenever the state does. */
json_t *gui_job_state(gui_job *j, unsigned long *version);
/* Waits until the version differs from seen or timeout_ms pass; returns 0
 * once the job is closing (the server is stopping). */
int gui_job_wait(gui_job *j, unsigned long seen, int timeout_ms);
/* Wakes every waiter for good: the server is stopping. */
void gui_job_close(gui_job *j);

/* ---- server.c ---- */

struct snn_gui {
    struct MHD_Daemon *daemon;
    char wd[PATH_MAX];              /* realpath of the working directory */
    char settings_path[PATH_MAX];   /* <wd>/.snntb-gui.ini */
    char token[33];
    size_t max_body;
    unsigned short port;
    snn_log log;
    pthread_mutex_t lock;           /* guards settings */
    gui_settings settings;
    gui_job *job;
};

typedef struct gui_request {
    struct MHD_Connection *conn;
    const char *method;
    const char *url;
    json_t *body; /* the parsed JSON object of a POST, else NULL */
} gui_request;

enum MHD_Result gui_reply(struct MHD_Connection *conn, unsigned status,
                          const char *type, const void *data, size_t len);
/* Sends j (and drops the reference). */
enum MHD_Result gui_reply_json(struct MHD_Connection *conn, unsigned status,
                               json_t *j);
enum MHD_Result gui_reply_error(struct MHD_Connection *conn, unsigned status,
                                const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The content type of a file name, by its extension. */
const char *gui_mime(const char *name);

/* ---- paths.c: file access confined to the working directory ---- */

/* Resolves rel (relative to wd, or absolute) into out, refusing anything
 * outside wd: ".." components, and symbolic links leading out.  With
 * must_exist 0 the file may be new, but its folder must exist. */
snn_status gui_path_resolve(const char *wd, const char *rel, int must_exist,
                            char *out, size_t n, snn_error *err);

/* ---- api.c ---- */

enum MHD_Result gui_api(snn_gui *g, gui_request *r);

/* ---- events.c: the run's state as server-sent events ---- */

enum MHD_Result gui_events(snn_gui *g, struct MHD_Connection *conn);

#endif
