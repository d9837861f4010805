/*
 * events.c - GET /api/run/events: the run's state as server-sent events,
 * one `data:` line of JSON each time it changes (at most five a second)
 * and a comment every 15 s so that idle connections stay open.  The
 * reader blocks on the job's condition variable, which is fine with one
 * thread per connection; it ends when the server stops.
 */
#include "gui/gui_internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KEEPALIVE_MS 15000
#define MIN_GAP_NS 200000000L

typedef struct stream {
    gui_job *job;
    unsigned long seen;
    int first;
    char *pending; /* an event not yet fully handed to MHD */
    size_t len, off;
} stream;

static void pause_between_events(void)
{
    struct timespec gap = {0, MIN_GAP_NS};
    nanosleep(&gap, NULL);
}

/* Fills s->pending with the next event, or a keep-alive comment. */
static int next_event(stream *s)
{
    if (!s->first) {
        pause_between_events();
        if (!gui_job_wait(s->job, s->seen, KEEPALIVE_MS))
            return 0;
    }
    unsigned long version;
    json_t *state = gui_job_state(s->job, &version);
    char *text = state ? json_dumps(state, JSON_COMPACT) : NULL;
    json_decref(state);
    if (!text)
        return 0;
    /* The first event tells the state as it is. */
    int fresh = s->first || version != s->seen;
    s->first = 0;
    s->seen = version;
    size_t n = strlen(text);
    s->pending = malloc(n + 16);
    if (s->pending) {
        s->len = fresh ? (size_t)sprintf(s->pending, "data: %s\n\n", text)
                       : (size_t)sprintf(s->pending, ": alive\n\n");
        s->off = 0;
    }
    free(text);
    return s->pending != NULL;
}

static ssize_t read_events(void *cls, uint64_t pos, char *buf, size_t max)
{
    stream *s = cls;
    (void)pos;
    if (!s->pending && !next_event(s))
        return MHD_CONTENT_READER_END_OF_STREAM;
    size_t n = s->len - s->off < max ? s->len - s->off : max;
    memcpy(buf, s->pending + s->off, n);
    s->off += n;
    if (s->off == s->len) {
        free(s->pending);
        s->pending = NULL;
    }
    return (ssize_t)n;
}

static void free_stream(void *cls)
{
    stream *s = cls;
    free(s->pending);
    free(s);
}

enum MHD_Result gui_events(snn_gui *g, struct MHD_Connection *conn)
{
    stream *s = calloc(1, sizeof *s);
    if (!s)
        return MHD_NO;
    s->job = g->job;
    s->first = 1;
    struct MHD_Response *resp = MHD_create_response_from_callback(
        MHD_SIZE_UNKNOWN, 4096, read_events, s, free_stream);
    if (!resp) {
        free(s);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            "text/event-stream");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return ret;
}
