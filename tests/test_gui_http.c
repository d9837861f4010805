/*
 * test_gui_http.c - `snntb gui`'s server, started in-process on a free
 * port in a scratch working directory and spoken to over plain sockets:
 * the token, path confinement, the body limit, malformed JSON, the schema
 * and tooltips, settings kept across restarts (read back by the config
 * parser), and runs: one at a time, Stop, a failing run reported while
 * the server keeps answering, and a finished run's results.
 */
#define _DEFAULT_SOURCE /* usleep, symlink */
#include "testutil.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "gui/gui.h"
#include "snntb/config.h"
#include "snntb/dataset.h"

#define MAX_BODY 4096
/* Runs are polled every 50 ms, for at most 5 minutes (sanitizer builds on
 * a loaded machine are slow). */
#define WAIT_POLLS 6000
#define REPLY_MAX (1 << 20)

typedef struct env {
    char wd[512];
    snn_gui *gui;
    char reply[REPLY_MAX];
    const char *body; /* into reply, after the headers */
} env;

static void start(env *e)
{
    snn_gui_opts o = {e->wd, NULL, NULL, 0, MAX_BODY};
    snn_error err = {0};
    snn_status st = snn_gui_start(&e->gui, &o, NULL, &err);
    if (st != SNN_OK)
        fail_msg("snn_gui_start: %s", err.msg);
}

static int setup(void **state)
{
    env *e = calloc(1, sizeof *e);
    tu_tempdir(e->wd, sizeof e->wd);
    start(e);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    env *e = *state;
    snn_gui_stop(e->gui);
    tu_rmtree(e->wd);
    free(e);
    return 0;
}

/* A socket connected to the server; reads give up after 60 s, so that a
 * server that does not answer fails the test instead of hanging it. */
static int connect_server(const env *e)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {0};
    struct timeval limit = {60, 0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(snn_gui_port(e->gui));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_true(fd >= 0);
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit), 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    return fd;
}

/* Sends raw bytes, reads the reply to the end; returns the status. */
static int http_raw(env *e, const char *req, size_t len)
{
    int fd = connect_server(e);
    for (size_t off = 0; off < len;) {
        ssize_t w = send(fd, req + off, len - off, MSG_NOSIGNAL);
        if (w <= 0)
            break; /* the server may answer and close before all is sent */
        off += (size_t)w;
    }
    size_t got = 0;
    ssize_t r;
    while (got < REPLY_MAX - 1 &&
           (r = recv(fd, e->reply + got, REPLY_MAX - 1 - got, 0)) > 0)
        got += (size_t)r;
    close(fd);
    e->reply[got] = '\0';
    const char *end = strstr(e->reply, "\r\n\r\n");
    e->body = end ? end + 4 : "";
    int status = 0;
    if (sscanf(e->reply, "HTTP/1.%*d %d", &status) != 1)
        fail_msg("no HTTP status line in reply: '%.200s'", e->reply);
    return status;
}

/* A request with Connection: close; token NULL sends none. */
static int http(env *e, const char *method, const char *path,
                const char *token, const char *body)
{
    static char req[MAX_BODY * 4];
    char tok[128] = "";
    if (token)
        snprintf(tok, sizeof tok, "X-Snntb-Token: %s\r\n", token);
    int n = snprintf(req, sizeof req,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                     method, path, tok, body ? strlen(body) : 0,
                     body ? body : "");
    assert_true(n > 0 && (size_t)n < sizeof req);
    return http_raw(e, req, (size_t)n);
}

static int post(env *e, const char *path, const char *body)
{
    return http(e, "POST", path, snn_gui_token(e->gui), body);
}

static int get(env *e, const char *path)
{
    return http(e, "GET", path, snn_gui_token(e->gui), NULL);
}

static json_t *body_json(const env *e)
{
    json_error_t jerr;
    json_t *j = json_loads(e->body, 0, &jerr);
    if (!j)
        fail_msg("reply is not JSON (%s): '%.300s'", jerr.text, e->body);
    return j;
}

static void assert_error_mentions(const env *e, const char *text)
{
    json_t *j = body_json(e);
    const char *msg = json_string_value(json_object_get(j, "error"));
    if (!msg || !strstr(msg, text))
        fail_msg("error '%s' does not mention '%s'", msg ? msg : "(none)",
                 text);
    json_decref(j);
}

/* ---- schema and tooltips ---- */

static void test_tooltips_match_schema(void **state)
{
    (void)state;
    size_t n = snn_config_schema_count();
    for (size_t i = 0; i < n; i++) {
        snn_config_key k;
        snn_config_schema_at(i, &k);
        const char *tip = snn_gui_tooltip(k.section, k.key);
        if (!tip || strlen(tip) < 10)
            fail_msg("config key [%s] %s has no tooltip in src/gui/tooltips.c",
                     k.section, k.key);
    }
    /* ...and every tooltip names a schema key, each once. */
    assert_int_equal(snn_gui_tooltip_count(), n);
    for (size_t i = 0; i < snn_gui_tooltip_count(); i++) {
        const char *sec, *key;
        snn_gui_tooltip_at(i, &sec, &key);
        size_t found = 0;
        for (size_t j = 0; j < n; j++) {
            snn_config_key k;
            snn_config_schema_at(j, &k);
            found += !strcmp(k.section, sec) && !strcmp(k.key, key);
        }
        if (found != 1)
            fail_msg("tooltip [%s] %s matches %zu schema keys", sec, key, found);
    }
}

static void test_schema_lists_every_key(void **state)
{
    env *e = *state;
    assert_int_equal(get(e, "/api/schema"), 200);
    json_t *j = body_json(e), *sections = json_object_get(j, "sections");
    size_t listed = 0, idx;
    json_t *sec;
    json_array_foreach(sections, idx, sec) {
        size_t kidx;
        json_t *key;
        json_array_foreach(json_object_get(sec, "keys"), kidx, key) {
            const char *s = json_string_value(json_object_get(sec, "name"));
            const char *name = json_string_value(json_object_get(key, "key"));
            snn_config_key k;
            snn_config_schema_at(listed, &k);
            assert_string_equal(s, k.section);
            assert_string_equal(name, k.key);
            assert_string_equal(json_string_value(json_object_get(key, "default")),
                                k.def);
            assert_string_equal(json_string_value(json_object_get(key, "tooltip")),
                                snn_gui_tooltip(k.section, k.key));
            listed++;
        }
    }
    assert_int_equal(listed, snn_config_schema_count());
    json_decref(j);
}

/* The schema's kinds and choices as the validator applies them. */
static void test_schema_agrees_with_validator(void **state)
{
    (void)state;
    snn_error err;
    for (size_t i = 0; i < snn_config_schema_count(); i++) {
        snn_config_key k;
        snn_config_schema_at(i, &k);
        snn_config *cfg;
        assert_int_equal(snn_config_new(&cfg, &err), SNN_OK);
        for (size_t c = 0; k.choices && k.kind[0] == 'c' && k.choices[c]; c++)
            if (snn_config_set(cfg, k.section, k.key, k.choices[c], &err))
                fail_msg("[%s] %s: listed choice %s refused: %s", k.section,
                         k.key, k.choices[c], err.msg);
        if (!strcmp(k.kind, "int") &&
            snn_config_set(cfg, k.section, k.key, "1.5", &err) == SNN_OK)
            fail_msg("[%s] %s is listed as int but takes 1.5", k.section, k.key);
        snn_config_free(cfg);
    }
}

/* ---- safety ---- */

static void test_token_required(void **state)
{
    env *e = *state;
    const char *body = "{\"values\": {}}";
    assert_int_equal(http(e, "POST", "/api/settings", NULL, body), 403);
    assert_error_mentions(e, "X-Snntb-Token");
    assert_int_equal(http(e, "POST", "/api/run", "0123456789abcdef0123456789abcdef",
                          "{}"), 403);
    assert_int_equal(http(e, "POST", "/api/run/stop", "", "{}"), 403);
    assert_int_equal(http(e, "GET", "/api/settings", NULL, NULL), 403);
    char path[128];
    snprintf(path, sizeof path, "/api/settings?token=%s", snn_gui_token(e->gui));
    assert_int_equal(http(e, "GET", path, NULL, NULL), 200);
    /* POSTs take the header only, not ?token=. */
    snprintf(path, sizeof path, "/api/settings?token=%s", snn_gui_token(e->gui));
    assert_int_equal(http(e, "POST", path, NULL, body), 403);
    /* The page itself is public; it is useless without the token. */
    assert_int_equal(http(e, "GET", "/", NULL, NULL), 200);
    assert_non_null(strstr(e->body, "<title>snntb</title>"));
    /* Tokens differ between starts. */
    char first[64];
    snprintf(first, sizeof first, "%s", snn_gui_token(e->gui));
    assert_int_equal(strlen(first), 32);
    snn_gui_stop(e->gui);
    start(e);
    assert_string_not_equal(first, snn_gui_token(e->gui));
}

static void test_paths_confined(void **state)
{
    env *e = *state;
    char path[700], link[700], req[256];
    snprintf(path, sizeof path, "%s/inside.txt", e->wd);
    tu_write_file(path, "hello", 5);
    assert_int_equal(get(e, "/files/inside.txt"), 200);
    assert_string_equal(e->body, "hello");
    snprintf(req, sizeof req, "GET /files/../../etc/passwd HTTP/1.1\r\nHost: x\r\n"
             "X-Snntb-Token: %s\r\nConnection: close\r\n\r\n", snn_gui_token(e->gui));
    assert_int_equal(http_raw(e, req, strlen(req)), 403);
    assert_error_mentions(e, "'..' is not allowed");
    snprintf(req, sizeof req, "GET /files/%%2e%%2e/%%2e%%2e/etc/passwd HTTP/1.1\r\n"
             "Host: x\r\nX-Snntb-Token: %s\r\nConnection: close\r\n\r\n",
             snn_gui_token(e->gui));
    assert_int_equal(http_raw(e, req, strlen(req)), 403);
    assert_int_equal(get(e, "/files//etc/passwd"), 403);
    assert_error_mentions(e, "outside the working directory");
    /* A link inside that leads out is refused too. */
    snprintf(link, sizeof link, "%s/etc", e->wd);
    assert_int_equal(symlink("/etc", link), 0);
    assert_int_equal(get(e, "/files/etc/passwd"), 403);
    assert_error_mentions(e, "outside the working directory");
    assert_int_equal(post(e, "/api/config/load", "{\"path\": \"../x.ini\"}"), 403);
    assert_int_equal(post(e, "/api/config/load", "{\"path\": \"/etc/passwd\"}"), 403);
    assert_int_equal(post(e, "/api/config/save", "{\"path\": \"etc/evil.ini\"}"), 403);
    assert_int_equal(post(e, "/api/config/save", "{\"path\": \"a/../../x.ini\"}"), 403);
    assert_int_equal(get(e, "/api/runs/..%2f..%2fetc"), 404);
}

static void test_body_limit(void **state)
{
    env *e = *state;
    static char req[MAX_BODY * 3];
    /* A declared length over the limit: refused before the body is read. */
    snprintf(req, sizeof req, "POST /api/settings HTTP/1.1\r\nHost: x\r\n"
             "X-Snntb-Token: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n",
             snn_gui_token(e->gui), MAX_BODY + 1);
    assert_int_equal(http_raw(e, req, strlen(req)), 413);
    assert_error_mentions(e, "larger than 4096 bytes");
    /* A chunked body that grows past it. */
    int n = snprintf(req, sizeof req, "POST /api/settings HTTP/1.1\r\nHost: x\r\n"
                     "X-Snntb-Token: %s\r\nTransfer-Encoding: chunked\r\n"
                     "Connection: close\r\n\r\n%x\r\n", snn_gui_token(e->gui),
                     MAX_BODY + 100);
    memset(req + n, ' ', MAX_BODY + 100);
    n += MAX_BODY + 100;
    n += snprintf(req + n, sizeof req - (size_t)n, "\r\n0\r\n\r\n");
    assert_int_equal(http_raw(e, req, (size_t)n), 413);
    /* At the limit the body is read (and here found malformed). */
    static char big[MAX_BODY + 1];
    memset(big, 'x', MAX_BODY);
    assert_int_equal(post(e, "/api/settings", big), 400);
}

static void test_malformed_json(void **state)
{
    env *e = *state;
    assert_int_equal(post(e, "/api/settings", "{\"values\": "), 400);
    assert_error_mentions(e, "malformed JSON");
    assert_int_equal(post(e, "/api/settings", "[1, 2]"), 400);
    assert_error_mentions(e, "must be an object");
    assert_int_equal(post(e, "/api/validate", "{\"a\": 1, \"a\": 2}"), 400);
    assert_int_equal(post(e, "/api/validate", "{\"section\": 1}"), 400);
    assert_int_equal(post(e, "/api/settings",
                          "{\"values\": {\"simulation\": {\"duration\": 5}}}"), 422);
    assert_error_mentions(e, "must be a string");
    assert_int_equal(post(e, "/api/settings",
                          "{\"values\": {\"simulation\": {\"nope\": \"5\"}}}"), 422);
    assert_error_mentions(e, "no key [simulation] nope");
    /* The server still answers. */
    assert_int_equal(get(e, "/api/settings"), 200);
}

/* ---- settings ---- */

static const char *setting(env *e, const char *sec, const char *key,
                           char *buf, size_t n)
{
    assert_int_equal(get(e, "/api/settings"), 200);
    json_t *j = body_json(e);
    const char *v = json_string_value(json_object_get(
        json_object_get(json_object_get(j, "values"), sec), key));
    assert_non_null(v);
    snprintf(buf, n, "%s", v);
    json_decref(j);
    return buf;
}

static void test_validate_uses_config_parser(void **state)
{
    env *e = *state;
    assert_int_equal(post(e, "/api/validate", "{\"section\": \"simulation\", "
                          "\"key\": \"duration\", \"value\": \"abc\"}"), 200);
    json_t *j = body_json(e);
    assert_false(json_is_true(json_object_get(j, "ok")));
    /* The parser's own message for the same value. */
    snn_config *cfg;
    snn_error err;
    assert_int_equal(snn_config_new(&cfg, &err), SNN_OK);
    assert_int_not_equal(snn_config_set(cfg, "simulation", "duration", "abc", &err),
                         SNN_OK);
    assert_string_equal(json_string_value(json_object_get(j, "error")), err.msg);
    snn_config_free(cfg);
    json_decref(j);
    assert_int_equal(post(e, "/api/validate", "{\"section\": \"cell\", "
                          "\"key\": \"reset\", \"value\": \"Reset to zero\"}"), 200);
    j = body_json(e);
    assert_true(json_is_true(json_object_get(j, "ok")));
    json_decref(j);
}

static void test_settings_kept_across_starts(void **state)
{
    env *e = *state;
    char buf[256], path[700];
    assert_int_equal(post(e, "/api/settings", "{\"values\": {\"simulation\": "
                          "{\"duration\": \"123\"}, \"cell\": {\"reset\": "
                          "\"Reset to zero\"}}}"), 200);
    /* An invalid value is refused and changes nothing. */
    assert_int_equal(post(e, "/api/settings", "{\"values\": {\"simulation\": "
                          "{\"duration\": \"0\", \"dt\": \"0.5\"}}}"), 422);
    assert_error_mentions(e, "duration = '0': must be >= 1");
    assert_string_equal(setting(e, "simulation", "dt", buf, sizeof buf), "1");
    /* What was written is what the config parser reads. */
    snprintf(path, sizeof path, "%s/.snntb-gui.ini", e->wd);
    snn_config *cfg;
    snn_error err;
    assert_int_equal(snn_config_load(&cfg, path, NULL, &err), SNN_OK);
    assert_int_equal(snn_config_get_int(cfg, "simulation", "duration"), 123);
    assert_string_equal(snn_config_get_str(cfg, "cell", "reset", buf, sizeof buf),
                        "Reset to zero");
    assert_false(snn_config_is_set(cfg, "simulation", "dt"));
    snn_config_free(cfg);
    snn_gui_stop(e->gui);
    start(e);
    assert_string_equal(setting(e, "simulation", "duration", buf, sizeof buf), "123");
    assert_string_equal(setting(e, "cell", "reset", buf, sizeof buf), "Reset to zero");
}

static void test_config_files(void **state)
{
    env *e = *state;
    char buf[256], path[700];
    assert_int_equal(post(e, "/api/settings", "{\"values\": {\"simulation\": "
                          "{\"num_to_test\": \"7\"}}}"), 200);
    assert_int_equal(post(e, "/api/config/save", "{\"path\": \"mine.ini\"}"), 200);
    assert_int_equal(post(e, "/api/config/save", "{\"path\": \"mine.ini\"}"), 409);
    assert_int_equal(post(e, "/api/config/save", "{\"path\": \"mine.ini\", "
                          "\"overwrite\": true}"), 200);
    assert_int_equal(get(e, "/api/configs"), 200);
    assert_non_null(strstr(e->body, "\"mine.ini\""));
    /* A file written by hand, with a multi-line value, loads. */
    snprintf(path, sizeof path, "%s/other.ini", e->wd);
    const char *text = "[simulation]\nnum_to_test = 9\n[output]\nplot_vars = {\n"
                       "    'activations',\n    'spikerates'}\n";
    tu_write_file(path, text, strlen(text));
    assert_int_equal(post(e, "/api/config/load", "{\"path\": \"other.ini\"}"), 200);
    assert_string_equal(setting(e, "simulation", "num_to_test", buf, sizeof buf), "9");
    /* ...and survives a save and a parse. */
    assert_int_equal(post(e, "/api/config/save", "{\"path\": \"again.ini\"}"), 200);
    snprintf(path, sizeof path, "%s/again.ini", e->wd);
    snn_config *cfg;
    snn_error err;
    char **items;
    assert_int_equal(snn_config_load(&cfg, path, NULL, &err), SNN_OK);
    assert_int_equal(snn_config_get_list(cfg, "output", "plot_vars", &items, &err),
                     SNN_OK);
    assert_string_equal(items[0], "activations");
    assert_string_equal(items[1], "spikerates");
    assert_null(items[2]);
    snn_strlist_free(items);
    snn_config_free(cfg);
    /* A broken file is refused with the parser's message. */
    snprintf(path, sizeof path, "%s/bad.ini", e->wd);
    tu_write_file(path, "[simulation]\nduration = x\n", 26);
    assert_int_equal(post(e, "/api/config/load", "{\"path\": \"bad.ini\"}"), 422);
    assert_error_mentions(e, "duration = 'x'");
    assert_string_equal(setting(e, "simulation", "num_to_test", buf, sizeof buf), "9");
}

/* ---- runs ---- */

/* Polls /api/run until its state is not "running"; returns the state. */
static json_t *wait_run(env *e)
{
    for (int i = 0; i < WAIT_POLLS; i++) {
        assert_int_equal(get(e, "/api/run"), 200);
        json_t *j = body_json(e);
        if (strcmp(json_string_value(json_object_get(j, "state")), "running"))
            return j;
        json_decref(j);
        usleep(50000);
    }
    fail_msg("the run did not end within %d s", WAIT_POLLS / 20);
    return NULL;
}

/* Polls /api/run until the run has simulated a sample in stage. */
static void wait_stage(env *e, const char *stage)
{
    for (int i = 0; i < WAIT_POLLS; i++) {
        assert_int_equal(get(e, "/api/run"), 200);
        json_t *j = body_json(e);
        int there = !strcmp(json_string_value(json_object_get(j, "stage")), stage) &&
                    json_integer_value(json_object_get(j, "done")) > 0;
        json_decref(j);
        if (there)
            return;
        usleep(50000);
    }
    fail_msg("the run did not reach stage %s within %d s", stage,
             WAIT_POLLS / 20);
}

static void test_failing_run_reported(void **state)
{
    env *e = *state;
    /* The defaults name no model. */
    assert_int_equal(post(e, "/api/run", "{}"), 202);
    json_t *j = wait_run(e);
    assert_string_equal(json_string_value(json_object_get(j, "state")), "failed");
    assert_non_null(strstr(json_string_value(json_object_get(j, "error")),
                           "filename_ann is not set"));
    json_decref(j);
    assert_int_equal(get(e, "/api/schema"), 200);
}

/* The fixture CNN (tests/fixtures/keras) on its inputs repeated `copies`
 * times, labelled with the class Keras predicted. */
static void write_run_inputs(env *e, size_t copies)
{
    char src[1024], path[700];
    snn_tensor x, y;
    snn_error err;
    assert_int_equal(snn_npy_load(tu_fixture(src, sizeof src, "keras/cnn_x.npy"),
                                  &x, &err), SNN_OK);
    assert_int_equal(snn_npy_load(tu_fixture(src, sizeof src, "keras/cnn_y.npy"),
                                  &y, &err), SNN_OK);
    size_t n = x.dims[0], per = snn_tensor_numel(&x) / n, k = y.dims[1];
    float *xs = malloc(copies * n * per * sizeof *xs);
    float *ys = calloc(copies * n * k, sizeof *ys);
    assert_true(xs && ys);
    for (size_t c = 0; c < copies; c++)
        for (size_t i = 0; i < n; i++) {
            memcpy(xs + (c * n + i) * per, x.data + i * per, per * sizeof *xs);
            size_t best = 0;
            for (size_t j = 1; j < k; j++)
                best = y.data[i * k + j] > y.data[i * k + best] ? j : best;
            ys[(c * n + i) * k + best] = 1;
        }
    size_t xd[4] = {copies * n, x.dims[1], x.dims[2], x.dims[3]};
    size_t yd[2] = {copies * n, k};
    snprintf(path, sizeof path, "%s/x_test.npz", e->wd);
    tu_write_npz(path, 4, xd, xs);
    snprintf(path, sizeof path, "%s/y_test.npz", e->wd);
    tu_write_npz(path, 2, yd, ys);
    snprintf(path, sizeof path, "%s/model.h5", e->wd);
    tu_copy_file(tu_fixture(src, sizeof src, "keras/cnn.h5"), path, (size_t)-1);
    free(xs);
    free(ys);
    snn_tensor_free(&x);
    snn_tensor_free(&y);
}

static void set_run(env *e, const char *duration, const char *n)
{
    char body[1024];
    snprintf(body, sizeof body, "{\"values\": {\"paths\": {\"dataset_path\": "
             "\"%s\", \"filename_ann\": \"model\"}, \"simulation\": "
             "{\"duration\": \"%s\", \"num_to_test\": \"%s\", "
             "\"batch_size\": \"1\"}}}", e->wd, duration, n);
    assert_int_equal(post(e, "/api/settings", body), 200);
}

static void test_one_run_at_a_time_and_stop(void **state)
{
    env *e = *state;
    write_run_inputs(e, 100);
    set_run(e, "5000", "400");
    assert_int_equal(post(e, "/api/run", "{}"), 202);
    assert_int_equal(post(e, "/api/run", "{}"), 409);
    assert_error_mentions(e, "a run is already going");
    /* The server answers while the run goes; Stop in the simulation ends
     * it after the current batch. */
    assert_int_equal(get(e, "/api/schema"), 200);
    wait_stage(e, "SNN");
    assert_int_equal(post(e, "/api/run/stop", "{}"), 200);
    json_t *j = wait_run(e);
    assert_string_equal(json_string_value(json_object_get(j, "state")), "stopped");
    assert_string_equal(json_string_value(json_object_get(j, "stage")), "SNN");
    assert_non_null(strstr(json_string_value(json_object_get(j, "error")),
                           "simulation stopped on request after"));
    assert_true(json_integer_value(json_object_get(j, "done")) < 400);
    json_decref(j);
    /* A new run may start once the last one has ended. */
    set_run(e, "10", "4");
    assert_int_equal(post(e, "/api/run", "{}"), 202);
    j = wait_run(e);
    assert_string_equal(json_string_value(json_object_get(j, "state")), "done");
    json_decref(j);
}

static void test_finished_run_listed(void **state)
{
    env *e = *state;
    write_run_inputs(e, 2);
    set_run(e, "100", "8");
    assert_int_equal(post(e, "/api/run", "{}"), 202);
    json_t *j = wait_run(e);
    assert_string_equal(json_string_value(json_object_get(j, "state")), "done");
    json_t *res = json_object_get(j, "results");
    assert_int_equal(json_integer_value(json_object_get(res, "num_samples")), 8);
    /* Labels are Keras's own predictions. */
    assert_true(json_real_value(json_object_get(res, "ann_top1")) == 1.0);
    assert_int_equal(json_integer_value(json_object_get(j, "done")), 8);
    double snn = json_real_value(json_object_get(res, "snn_top1"));
    json_decref(j);
    assert_int_equal(get(e, "/api/runs"), 200);
    j = body_json(e);
    json_t *run = json_array_get(json_object_get(j, "runs"), 0);
    assert_string_equal(json_string_value(json_object_get(run, "label")), "test");
    json_t *file = json_object_get(run, "results");
    assert_true(json_real_value(json_object_get(file, "snn_top1")) == snn);
    json_decref(j);
    assert_int_equal(get(e, "/api/runs/test"), 200);
    assert_int_equal(get(e, "/api/runs/nope"), 404);
}

/* The first server-sent event of /api/run/events: the current state. */
static void test_events_stream(void **state)
{
    env *e = *state;
    char req[256];
    int fd = connect_server(e);
    int n = snprintf(req, sizeof req, "GET /api/run/events HTTP/1.1\r\nHost: x\r\n"
                     "Cookie: snntb_token=%s\r\n\r\n", snn_gui_token(e->gui));
    assert_int_equal(send(fd, req, (size_t)n, MSG_NOSIGNAL), n);
    size_t got = 0;
    const char *data = NULL;
    while (!(data && strstr(data, "\n\n")) && got < REPLY_MAX - 1) {
        ssize_t r = recv(fd, e->reply + got, REPLY_MAX - 1 - got, 0);
        assert_true(r > 0);
        got += (size_t)r;
        e->reply[got] = '\0';
        data = strstr(e->reply, "data: ");
    }
    close(fd);
    assert_non_null(strstr(e->reply, "Content-Type: text/event-stream"));
    json_t *j = json_loadb(data + 6, strcspn(data + 6, "\n"), 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "state")), "idle");
    json_decref(j);
}

static void test_cli_refuses_bad_arguments(void **state)
{
    char errtext[1024];
    (void)state;
    assert_int_equal(tu_run_cli("gui --port 70000", errtext, sizeof errtext), 2);
    assert_non_null(strstr(errtext, "--port 70000: not a port number"));
    assert_int_equal(tu_run_cli("gui --bind localhost.example", errtext,
                                sizeof errtext), 1);
    assert_non_null(strstr(errtext, "not an IPv4 address"));
    assert_int_equal(tu_run_cli("gui --port 0 /nonexistent/x.ini", errtext,
                                sizeof errtext), 1);
    assert_non_null(strstr(errtext, "/nonexistent/x.ini"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tooltips_match_schema),
        cmocka_unit_test(test_schema_agrees_with_validator),
        cmocka_unit_test(test_cli_refuses_bad_arguments),
        cmocka_unit_test_setup_teardown(test_schema_lists_every_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_required, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paths_confined, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validate_uses_config_parser, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_settings_kept_across_starts, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_config_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failing_run_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_run_at_a_time_and_stop, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_finished_run_listed, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
