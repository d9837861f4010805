/*
 * run_job.c - the GUI's one pipeline run at a time: snn_run on a worker
 * thread, its progress hook and log sink turned into a state the page
 * polls or streams (stage, samples done, running accuracy, ETA, the last
 * messages, the results or the error), and Stop through the run's stop
 * hook, which ends the run after the current batch.
 */
#include "gui/gui_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "snntb/config.h"
#include "snntb/progress.h"
#include "snntb/run.h"

#define LOG_LINES 40
#define LINE_MAX_LEN 512
#define DIR_LEN 4096

typedef enum job_phase { IDLE, RUNNING, DONE, FAILED, STOPPED } job_phase;

static const char *const phase_names[] = {"idle", "running", "done", "failed",
                                          "stopped"};

struct gui_job {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    unsigned long version;
    int closing;
    pthread_t thread;
    int joinable;
    /* What the page sees; guarded by lock. */
    job_phase phase;
    int stop_asked;
    char config_path[DIR_LEN];
    char stage[16];
    size_t done, total, correct;
    double started, stage_started, finished;
    char lines[LOG_LINES][LINE_MAX_LEN];
    size_t n_lines; /* lines ever logged; the last LOG_LINES are kept */
    char error[SNN_ERROR_MAX];
    char log_dir[DIR_LEN];
    snn_results res;
};

gui_job *gui_job_new(void)
{
    gui_job *j = calloc(1, sizeof *j);
    if (j) {
        pthread_mutex_init(&j->lock, NULL);
        pthread_cond_init(&j->changed, NULL);
    }
    return j;
}

/* Call with the lock held. */
static void touch(gui_job *j)
{
    j->version++;
    pthread_cond_broadcast(&j->changed);
}

static void on_log(void *user, snn_log_level level, const char *msg)
{
    gui_job *j = user;
    const char *tag = level == SNN_LOG_ERROR  ? "error: "
                      : level == SNN_LOG_WARN ? "warning: "
                                              : "";
    pthread_mutex_lock(&j->lock);
    snprintf(j->lines[j->n_lines % LOG_LINES], LINE_MAX_LEN, "%s%s", tag, msg);
    j->n_lines++;
    touch(j);
    pthread_mutex_unlock(&j->lock);
}

static void on_progress(void *user, const char *label, size_t done,
                        size_t total, size_t correct)
{
    gui_job *j = user;
    pthread_mutex_lock(&j->lock);
    if (strcmp(j->stage, label) != 0) {
        snprintf(j->stage, sizeof j->stage, "%s", label);
        j->stage_started = snn_now_seconds();
    }
    j->done = done;
    j->total = total;
    j->correct = correct;
    touch(j);
    pthread_mutex_unlock(&j->lock);
}

static int on_stop(void *user)
{
    gui_job *j = user;
    pthread_mutex_lock(&j->lock);
    int stop = j->stop_asked;
    pthread_mutex_unlock(&j->lock);
    return stop;
}

static void *run_thread(void *arg)
{
    gui_job *j = arg;
    snn_log log = {on_log, j, SNN_LOG_INFO};
    snn_run_hooks hooks = {on_progress, j, on_stop};
    snn_error err = {0};
    snn_results res;
    char log_dir[DIR_LEN] = "";
    snn_config *cfg = NULL;
    memset(&res, 0, sizeof res);
    snn_status st = snn_config_load(&cfg, j->config_path, &log, &err);
    if (st == SNN_OK)
        st = snn_run(cfg, &log, &hooks, &res, log_dir, sizeof log_dir, &err);
    snn_config_free(cfg);
    pthread_mutex_lock(&j->lock);
    j->phase = st == SNN_OK ? DONE : j->stop_asked ? STOPPED : FAILED;
    j->res = res;
    j->finished = snn_now_seconds();
    snprintf(j->log_dir, sizeof j->log_dir, "%s", log_dir);
    if (st != SNN_OK)
        snprintf(j->error, sizeof j->error, "%s", err.msg);
    touch(j);
    pthread_mutex_unlock(&j->lock);
    return NULL;
}

/* Call with the lock held: a new run starts from a clean state. */
static void reset_state(gui_job *j, const char *config_path)
{
    j->phase = RUNNING;
    j->stop_asked = 0;
    snprintf(j->config_path, sizeof j->config_path, "%s", config_path);
    snprintf(j->stage, sizeof j->stage, "starting");
    j->done = j->total = j->correct = 0;
    j->started = j->stage_started = snn_now_seconds();
    j->finished = 0;
    j->n_lines = 0;
    j->error[0] = j->log_dir[0] = '\0';
    memset(&j->res, 0, sizeof j->res);
}

snn_status gui_job_start(gui_job *j, const char *config_path, int *busy,
                         snn_error *err)
{
    pthread_mutex_lock(&j->lock);
    *busy = j->phase == RUNNING;
    if (*busy) {
        pthread_mutex_unlock(&j->lock);
        return snn_error_set(err, SNN_E_INVALID, "a run is already going "
                             "(started with %s): stop it or wait for it to "
                             "finish", j->config_path);
    }
    if (j->joinable) {
        /* The last run has finished (phase is not RUNNING): joins at once. */
        pthread_join(j->thread, NULL);
        j->joinable = 0;
    }
    reset_state(j, config_path);
    int rc = pthread_create(&j->thread, NULL, run_thread, j);
    if (rc != 0) {
        j->phase = FAILED;
        snprintf(j->error, sizeof j->error, "cannot start a thread: %s",
                 strerror(rc));
    }
    j->joinable = rc == 0;
    touch(j);
    pthread_mutex_unlock(&j->lock);
    if (rc != 0)
        return snn_error_set(err, SNN_E_NOMEM, "cannot start a thread: %s",
                             strerror(rc));
    return SNN_OK;
}

void gui_job_stop(gui_job *j)
{
    pthread_mutex_lock(&j->lock);
    if (j->phase == RUNNING) {
        j->stop_asked = 1;
        touch(j);
    }
    pthread_mutex_unlock(&j->lock);
}

static json_t *results_json(const snn_results *r)
{
    return json_pack("{s:I, s:i, s:b, s:f, s:f, s:b, s:f, s:f, s:I, s:f, s:f, "
                     "s:f}",
                     "num_samples", (json_int_t)r->num_samples, "top_k",
                     r->top_k, "ann_evaluated", r->ann_evaluated, "ann_top1",
                     r->ann_top1, "ann_topk", r->ann_topk, "simulated",
                     r->simulated, "snn_top1", r->snn_top1, "snn_topk",
                     r->snn_topk, "silent", (json_int_t)r->silent,
                     "synops_per_sample", r->synops_per_sample, "sim_seconds",
                     r->sim_seconds, "wall_seconds", r->wall_seconds);
}

/* Seconds left in the current stage at its pace so far; -1: unknown. */
static double eta(const gui_job *j, double now)
{
    if (j->phase != RUNNING || j->done == 0 || j->done >= j->total)
        return -1;
    double per = (now - j->stage_started) / (double)j->done;
    return per * (double)(j->total - j->done);
}

static json_t *lines_json(const gui_job *j)
{
    json_t *a = json_array();
    size_t first = j->n_lines > LOG_LINES ? j->n_lines - LOG_LINES : 0;
    for (size_t i = first; a && i < j->n_lines; i++)
        json_array_append_new(a, json_string(j->lines[i % LOG_LINES]));
    return a;
}

json_t *gui_job_state(gui_job *j, unsigned long *version)
{
    pthread_mutex_lock(&j->lock);
    double now = snn_now_seconds();
    double end = j->phase == RUNNING ? now : j->finished;
    json_t *s = json_pack(
        "{s:s, s:s, s:I, s:I, s:I, s:f, s:f, s:f, s:b, s:o, s:s, s:s}",
        "state", phase_names[j->phase], "stage", j->stage, "done",
        (json_int_t)j->done, "total", (json_int_t)j->total, "correct",
        (json_int_t)j->correct, "accuracy",
        j->done ? (double)j->correct / (double)j->done : 0.0, "eta_s",
        eta(j, now), "elapsed_s", j->phase == IDLE ? 0.0 : end - j->started,
        "stop_asked", j->stop_asked, "log", lines_json(j), "error", j->error,
        "log_dir", j->log_dir);
    if (s && j->phase == DONE)
        json_object_set_new(s, "results", results_json(&j->res));
    /* The page may get a state twice (the POST's reply and the event
     * stream) in either order: the version lets it keep the newest. */
    if (s)
        json_object_set_new(s, "version", json_integer((json_int_t)j->version));
    if (version)
        *version = j->version;
    pthread_mutex_unlock(&j->lock);
    return s;
}

int gui_job_wait(gui_job *j, unsigned long seen, int timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&j->lock);
    int rc = 0;
    while (!j->closing && j->version == seen && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&j->changed, &j->lock, &until);
    int open = !j->closing;
    pthread_mutex_unlock(&j->lock);
    return open;
}

void gui_job_close(gui_job *j)
{
    pthread_mutex_lock(&j->lock);
    j->closing = 1;
    if (j->phase == RUNNING)
        j->stop_asked = 1;
    touch(j);
    pthread_mutex_unlock(&j->lock);
}

void gui_job_free(gui_job *j)
{
    if (!j)
        return;
    gui_job_close(j);
    if (j->joinable)
        pthread_join(j->thread, NULL);
    pthread_cond_destroy(&j->changed);
    pthread_mutex_destroy(&j->lock);
    free(j);
}
