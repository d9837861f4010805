/*
 * server.c - the HTTP side of `snntb gui` (libmicrohttpd, one thread per
 * connection so that a streaming progress feed never blocks the page):
 * binding to loopback, the per-start token, the request body limit, JSON
 * bodies, routing to the page, the API and the working directory's files.
 *
 * The token: GET /?token=T sets a SameSite=Strict cookie, so that images,
 * frames and the event stream of the page can read; every POST must carry
 * the token in the X-Snntb-Token header, which a cross-site form or script
 * cannot send.  Files are served only from inside the working directory.
 */
#define _DEFAULT_SOURCE /* getrandom, O_NOFOLLOW */
#include "gui/gui_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fsutil.h"
#include "core/strbuf.h"

#define DEFAULT_MAX_BODY (1u << 20)
#define SETTINGS_FILE ".snntb-gui.ini"

/* What a connection carries between calls of the access handler. */
typedef struct conn_state {
    snn_strbuf body;
    int too_big;
} conn_state;

/* ---- replies ---------------------------------------------------------- */

enum MHD_Result gui_reply(struct MHD_Connection *conn, unsigned status,
                          const char *type, const void *data, size_t len)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        len, (void *)data, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

enum MHD_Result gui_reply_json(struct MHD_Connection *conn, unsigned status,
                               json_t *j)
{
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!text)
        return gui_reply(conn, 500, "text/plain", "out of memory", 13);
    enum MHD_Result ret = gui_reply(conn, status, "application/json", text,
                                    strlen(text));
    free(text);
    return ret;
}

enum MHD_Result gui_reply_error(struct MHD_Connection *conn, unsigned status,
                                const char *fmt, ...)
{
    char msg[SNN_ERROR_MAX + 256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return gui_reply_json(conn, status, json_pack("{s:s}", "error", msg));
}

const char *gui_mime(const char *name)
{
    static const char *const types[][2] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".json", "application/json"},
        {".txt", "text/plain; charset=utf-8"},
        {".ini", "text/plain; charset=utf-8"},
    };
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot, types[i][0]) == 0)
            return types[i][1];
    return "application/octet-stream";
}

/* ---- the token -------------------------------------------------------- */

static int same_token(const char *given, const char *token)
{
    size_t n = strlen(token);
    unsigned char diff = 0;
    if (!given || strlen(given) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)(given[i] ^ token[i]);
    return diff == 0;
}

/* POSTs: the header only.  GETs may also use the cookie or ?token=. */
static int token_ok(const snn_gui *g, struct MHD_Connection *c, int post)
{
    if (same_token(MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                               "X-Snntb-Token"), g->token))
        return 1;
    if (post)
        return 0;
    return same_token(MHD_lookup_connection_value(c, MHD_COOKIE_KIND,
                                                  "snntb_token"), g->token) ||
           same_token(MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
                                                  "token"), g->token);
}

static snn_status make_token(char *out, snn_error *err)
{
    unsigned char raw[16];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
        return snn_error_set(err, SNN_E_IO, "gui: no random bytes for the "
                             "token: %s", strerror(errno));
    for (size_t i = 0; i < sizeof raw; i++)
        sprintf(out + 2 * i, "%02x", raw[i]);
    return SNN_OK;
}

/* ---- the page and the working directory's files ----------------------- */

static enum MHD_Result serve_asset(snn_gui *g, struct MHD_Connection *c,
                                   const gui_asset *a)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        a->size, (void *)a->data, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            gui_mime(a->name));
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (strcmp(a->name, "index.html") == 0) {
        MHD_add_response_header(resp, "Content-Security-Policy",
                                "default-src 'self'; img-src 'self' data:; "
                                "style-src 'self' 'unsafe-inline'");
        if (token_ok(g, c, 0)) {
            char cookie[96];
            snprintf(cookie, sizeof cookie, "snntb_token=%s; Path=/; "
                     "HttpOnly; SameSite=Strict", g->token);
            MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, cookie);
        }
    }
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return ret;
}

static const gui_asset *find_asset(const char *url)
{
    const char *name = strcmp(url, "/") == 0 ? "index.html" : url + 1;
    for (size_t i = 0; i < gui_n_assets; i++)
        if (strcmp(gui_assets[i].name, name) == 0)
            return &gui_assets[i];
    return NULL;
}

static enum MHD_Result serve_file(snn_gui *g, struct MHD_Connection *c,
                                  const char *rel)
{
    char path[PATH_MAX];
    snn_error err = {0};
    if (gui_path_resolve(g->wd, rel, 1, path, sizeof path, &err) != SNN_OK)
        return gui_reply_error(c, MHD_HTTP_FORBIDDEN, "%s", err.msg);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        if (fd >= 0)
            close(fd);
        return gui_reply_error(c, MHD_HTTP_NOT_FOUND, "%s: not a readable "
                               "file", rel);
    }
    struct MHD_Response *resp = MHD_create_response_from_fd((size_t)sb.st_size,
                                                            fd);
    if (!resp) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, gui_mime(path));
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* ---- routing ---------------------------------------------------------- */

static enum MHD_Result route_post(snn_gui *g, struct MHD_Connection *c,
                                  const char *url, const conn_state *cs)
{
    if (cs->too_big)
        return gui_reply_error(c, MHD_HTTP_CONTENT_TOO_LARGE,
                               "request body larger than %zu bytes",
                               g->max_body);
    if (!token_ok(g, c, 1))
        return gui_reply_error(c, MHD_HTTP_FORBIDDEN, "missing or wrong "
                               "X-Snntb-Token header: use the URL that "
                               "`snntb gui` printed");
    if (strncmp(url, "/api/", 5) != 0)
        return gui_reply_error(c, MHD_HTTP_NOT_FOUND, "no such endpoint");
    json_error_t jerr;
    json_t *body = cs->body.len
                       ? json_loadb(cs->body.p, cs->body.len,
                                    JSON_REJECT_DUPLICATES, &jerr)
                       : json_object();
    if (!body)
        return gui_reply_error(c, MHD_HTTP_BAD_REQUEST,
                               "malformed JSON body: %s (line %d)", jerr.text,
                               jerr.line);
    if (!json_is_object(body)) {
        json_decref(body);
        return gui_reply_error(c, MHD_HTTP_BAD_REQUEST,
                               "the JSON body must be an object");
    }
    gui_request r = {c, "POST", url, body};
    enum MHD_Result ret = gui_api(g, &r);
    json_decref(body);
    return ret;
}

static enum MHD_Result route_get(snn_gui *g, struct MHD_Connection *c,
                                 const char *url)
{
    const gui_asset *a = find_asset(url);
    if (a)
        return serve_asset(g, c, a);
    int api = strncmp(url, "/api/", 5) == 0;
    int files = strncmp(url, "/files/", 7) == 0;
    if (!api && !files)
        return gui_reply_error(c, MHD_HTTP_NOT_FOUND, "no such page");
    if (!token_ok(g, c, 0))
        return gui_reply_error(c, MHD_HTTP_FORBIDDEN, "missing or wrong "
                               "token: use the URL that `snntb gui` printed");
    if (files)
        return serve_file(g, c, url + 7);
    gui_request r = {c, "GET", url, NULL};
    return gui_api(g, &r);
}

/* A declared length over the limit is refused before the body is read;
 * a chunked body is read, dropped, and refused at its end. */
static int declared_too_big(const snn_gui *g, struct MHD_Connection *c)
{
    const char *len = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                  MHD_HTTP_HEADER_CONTENT_LENGTH);
    return len && strtoull(len, NULL, 10) > g->max_body;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    snn_gui *g = cls;
    conn_state *cs = *con_cls;
    (void)version;
    int post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
    if (!cs) {
        if (!(cs = calloc(1, sizeof *cs)))
            return MHD_NO;
        *con_cls = cs;
        if (post && declared_too_big(g, c))
            return gui_reply_error(c, MHD_HTTP_CONTENT_TOO_LARGE,
                                   "request body larger than %zu bytes",
                                   g->max_body);
        return MHD_YES;
    }
    if (*upload_size) {
        if (!cs->too_big &&
            !snn_strbuf_put(&cs->body, upload, *upload_size, g->max_body))
            cs->too_big = 1;
        *upload_size = 0;
        return MHD_YES;
    }
    if (post)
        return route_post(g, c, url, cs);
    if (strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
        strcmp(method, MHD_HTTP_METHOD_HEAD) == 0)
        return route_get(g, c, url);
    return gui_reply_error(c, MHD_HTTP_METHOD_NOT_ALLOWED,
                           "method %s not allowed", method);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode why)
{
    conn_state *cs = *con_cls;
    (void)cls;
    (void)c;
    (void)why;
    if (cs) {
        free(cs->body.p);
        free(cs);
        *con_cls = NULL;
    }
}

/* ---- start and stop --------------------------------------------------- */

static snn_status initial_settings(snn_gui *g, const char *config,
                                   snn_error *err)
{
    snn_status st = gui_settings_defaults(&g->settings, err);
    if (st == SNN_OK && config)
        return gui_settings_load(&g->settings, config, g->wd, &g->log, err);
    if (st == SNN_OK && access(g->settings_path, F_OK) == 0) {
        st = gui_settings_load(&g->settings, g->settings_path, g->wd, &g->log,
                               err);
        if (st != SNN_OK)
            snn_error_prefix(err, "the last settings (remove the file to "
                             "start from the defaults): ");
    }
    return st;
}

static snn_status listen_on(snn_gui *g, const snn_gui_opts *o, snn_error *err)
{
    const char *bind = o->bind ? o->bind : "127.0.0.1";
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(o->port);
    if (inet_pton(AF_INET, bind, &sa.sin_addr) != 1)
        return snn_error_set(err, SNN_E_INVALID, "gui: bind address %s is "
                             "not an IPv4 address", bind);
    g->daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION,
        o->port, NULL, NULL, on_request, g, MHD_OPTION_SOCK_ADDR, &sa,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, g,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120, MHD_OPTION_END);
    if (!g->daemon)
        return snn_error_set(err, SNN_E_IO, "gui: cannot listen on %s:%u "
                             "(port in use?)", bind, (unsigned)o->port);
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(g->daemon, MHD_DAEMON_INFO_BIND_PORT);
    g->port = info ? info->port : o->port;
    return SNN_OK;
}

snn_status snn_gui_start(snn_gui **out, const snn_gui_opts *o,
                         const snn_log *log, snn_error *err)
{
    *out = NULL;
    snn_gui *g = calloc(1, sizeof *g);
    if (!g)
        return snn_error_set(err, SNN_E_NOMEM, "gui: out of memory");
    pthread_mutex_init(&g->lock, NULL);
    if (log)
        g->log = *log;
    g->max_body = o->max_body ? o->max_body : DEFAULT_MAX_BODY;
    snn_status st = SNN_OK;
    if (!realpath(o->wd ? o->wd : ".", g->wd))
        st = snn_error_set(err, SNN_E_IO, "gui: working directory %s: %s",
                           o->wd ? o->wd : ".", strerror(errno));
    if (st == SNN_OK)
        st = snn_path_join(g->settings_path, sizeof g->settings_path, g->wd,
                           SETTINGS_FILE, err);
    if (st == SNN_OK)
        st = make_token(g->token, err);
    if (st == SNN_OK && !(g->job = gui_job_new()))
        st = snn_error_set(err, SNN_E_NOMEM, "gui: out of memory");
    if (st == SNN_OK)
        st = initial_settings(g, o->config, err);
    if (st == SNN_OK)
        st = listen_on(g, o, err);
    if (st != SNN_OK) {
        snn_gui_stop(g);
        return st;
    }
    *out = g;
    return SNN_OK;
}

unsigned short snn_gui_port(const snn_gui *g)
{
    return g->port;
}

const char *snn_gui_token(const snn_gui *g)
{
    return g->token;
}

void snn_gui_stop(snn_gui *g)
{
    if (!g)
        return;
    if (g->job)
        gui_job_close(g->job);
    if (g->daemon)
        MHD_stop_daemon(g->daemon);
    gui_job_free(g->job);
    gui_settings_free(&g->settings);
    pthread_mutex_destroy(&g->lock);
    free(g);
}
