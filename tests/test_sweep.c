/*
 * test_sweep.c - [parameter_sweep] on the small Keras CNN fixture: one
 * ordinary run per value (checked against a single run with the same
 * value, and against each run's own results.json), the table, the plot,
 * and the errors for an unknown name or a bad value, given before any run
 * starts.
 */
#include "testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "snntb/config.h"
#include "snntb/run.h"

typedef struct env {
    char wd[512];
    char config[600];
} env;

static const char *fixture(const char *rel)
{
    static char buf[1024];
    return tu_fixture(buf, sizeof buf, rel);
}

static int setup(void **state)
{
    env *e = calloc(1, sizeof *e);
    tu_tempdir(e->wd, sizeof e->wd);
    snprintf(e->config, sizeof e->config, "%s/config.ini", e->wd);
    char model[700];
    snprintf(model, sizeof model, "%s/model.h5", e->wd);
    tu_copy_file(fixture("keras/cnn.h5"), model, (size_t)-1);
    tu_write_cnn_dataset(e->wd);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    env *e = *state;
    tu_rmtree(e->wd);
    free(e);
    return 0;
}

/* Runs the fixture under runlabel `label` with `extra` config lines;
 * returns the status. */
static snn_status run(const env *e, const char *label, const char *extra,
                      snn_results *res, snn_error *err)
{
    char text[2048];
    int len = snprintf(text, sizeof text,
                       "[paths]\n"
                       "dataset_path = %%(path_wd)s\n"
                       "filename_ann = model\n"
                       "runlabel = %s\n"
                       "[simulation]\n"
                       "duration = 5\n"
                       "num_to_test = 4\n"
                       "batch_size = 3\n"
                       "%s\n", label, extra);
    tu_write_file(e->config, text, (size_t)len);
    snn_config *cfg;
    assert_int_equal(snn_config_load(&cfg, e->config, NULL, err), SNN_OK);
    char log_dir[4096];
    snn_status st = snn_run(cfg, NULL, NULL, res, log_dir, sizeof log_dir,
                            err);
    snn_config_free(cfg);
    return st;
}

static json_t *load_json(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    json_t *j = json_load_file(path, 0, NULL);
    if (!j)
        fail_msg("cannot read %s", path);
    return j;
}

static double num(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    assert_true(json_is_number(v));
    return json_number_value(v);
}

static void test_sweep_runs_each_value(void **state)
{
    env *e = *state;
    snn_results res;
    snn_error err;
    /* The reference: a plain run at duration 5. */
    assert_int_equal(run(e, "single", "", &res, &err), SNN_OK);
    double single5 = res.snn_top1;
    assert_int_equal(run(e, "test", "[parameter_sweep]\nparam_name = duration\n"
                            "param_values = [5, 50]\nparam_logscale = True",
                         &res, &err), SNN_OK);
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/log/gui/test", e->wd);
    json_t *sweep = load_json(dir, "sweep.json");
    assert_string_equal(json_string_value(json_object_get(sweep, "section")),
                        "simulation");
    json_t *runs = json_object_get(sweep, "runs");
    assert_int_equal(json_array_size(runs), 2);
    const double values[2] = {5, 50};
    for (size_t i = 0; i < 2; i++) {
        json_t *r = json_array_get(runs, i);
        assert_true(num(r, "value") == values[i]);
        const char *run_dir = json_string_value(json_object_get(r, "log_dir"));
        assert_non_null(run_dir);
        json_t *own = load_json(run_dir, "results.json");
        assert_true(num(own, "duration") == values[i]);
        assert_true(num(own, "snn_top1") == num(r, "snn_top1"));
        assert_true(num(own, "num_samples") == 4);
        json_decref(own);
    }
    /* The sweep's run at 5 is the single run at 5. */
    assert_true(num(json_array_get(runs, 0), "snn_top1") == single5);
    /* The last run's results come back. */
    assert_true(res.duration == 50);
    json_decref(sweep);
    char path[1200];
    snprintf(path, sizeof path, "%s/sweep.txt", dir);
    assert_true(access(path, R_OK) == 0);
    snprintf(path, sizeof path, "%s/report/index.html", dir);
    assert_true(access(path, R_OK) == 0);
    if (system("command -v xmllint >/dev/null 2>&1") == 0) {
        char cmd[1400];
        snprintf(cmd, sizeof cmd, "xmllint --noout '%s/report/plots/sweep.svg'",
                 dir);
        assert_int_equal(system(cmd), 0);
    }
    /* A sweep writes no results.json of its own. */
    snprintf(path, sizeof path, "%s/results.json", dir);
    assert_int_not_equal(access(path, R_OK), 0);
}

/* An error before any run: nothing under <log>/sweep. */
static void expect_refused(const env *e, const char *extra, const char *n1,
                           const char *n2)
{
    snn_results res;
    snn_error err;
    assert_int_equal(run(e, "test", extra, &res, &err), SNN_E_INVALID);
    printf("error: %s\n", err.msg);
    assert_non_null(strstr(err.msg, n1));
    assert_non_null(strstr(err.msg, n2));
    char path[1024];
    snprintf(path, sizeof path, "%s/log/gui/test/sweep", e->wd);
    assert_int_not_equal(access(path, F_OK), 0);
}

static void test_sweep_errors(void **state)
{
    env *e = *state;
    expect_refused(e, "[parameter_sweep]\nparam_name = frobnicate\n"
                      "param_values = [1, 2]", "param_name", "frobnicate");
    /* a string option is not a parameter to sweep */
    expect_refused(e, "[parameter_sweep]\nparam_name = reset\n"
                      "param_values = [1, 2]", "param_name", "reset");
    expect_refused(e, "[parameter_sweep]\nparam_name = v_init\n"
                      "param_values = [0.5, 2]", "v_init", "[0, 1]");
    expect_refused(e, "[parameter_sweep]\nparam_name = v_thresh\n"
                      "param_values = [0, 1]\nparam_logscale = True",
                   "log scale", "0");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sweep_runs_each_value, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sweep_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
