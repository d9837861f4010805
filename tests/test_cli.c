/*
 * test_cli.c - the snntb command end to end on a small Keras-written model:
 * a good run reproduces Keras's own predictions, and each kind of bad
 * input gives one clear error line, exit status 1 and nothing else (under
 * the sanitizer build, a sanitizer report would add lines and change the
 * status).
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "snntb/dataset.h"

typedef struct cli_env {
    char wd[512];
    char config[600];
} cli_env;

static const char *fixture(const char *rel)
{
    static char buf[1024];
    return tu_fixture(buf, sizeof buf, rel);
}

static void write_config(cli_env *e, const char *extra)
{
    char text[2048];
    int len = snprintf(text, sizeof text,
                       "[paths]\n"
                       "dataset_path = %%(path_wd)s\n"
                       "filename_ann = model\n"
                       "[simulation]\n"
                       "duration = 50\n"
                       "num_to_test = 4\n"
                       "batch_size = 3\n"
                       "%s\n", extra);
    tu_write_file(e->config, text, (size_t)len);
}

static int setup(void **state)
{
    cli_env *e = calloc(1, sizeof *e);
    tu_tempdir(e->wd, sizeof e->wd);
    snprintf(e->config, sizeof e->config, "%s/config.ini", e->wd);
    char model[700];
    snprintf(model, sizeof model, "%s/model.h5", e->wd);
    tu_copy_file(fixture("keras/cnn.h5"), model, (size_t)-1);
    tu_write_cnn_dataset(e->wd);
    write_config(e, "");
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    cli_env *e = *state;
    tu_rmtree(e->wd);
    free(e);
    return 0;
}

static int run(const cli_env *e, char *errbuf, size_t n)
{
    char args[700];
    snprintf(args, sizeof args, "--quiet '%s'", e->config);
    return tu_run_cli(args, errbuf, n);
}

/* Exactly one line, "snntb: error: ...", mentioning each needle. */
static void assert_one_error(const char *errtext, const char *needle1,
                             const char *needle2)
{
    printf("stderr: %s", errtext);
    assert_true(strncmp(errtext, "snntb: error: ", 14) == 0);
    const char *nl = strchr(errtext, '\n');
    assert_non_null(nl);
    assert_true(nl[1] == '\0');
    assert_non_null(strstr(errtext, needle1));
    if (needle2)
        assert_non_null(strstr(errtext, needle2));
}

static void test_run_matches_keras(void **state)
{
    cli_env *e = *state;
    char errtext[4096], path[700], *text;
    assert_int_equal(run(e, errtext, sizeof errtext), 0);
    snprintf(path, sizeof path, "%s/log/gui/test/results.json", e->wd);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    text = calloc(1, 4096);
    assert_true(fread(text, 1, 4095, f) > 0);
    fclose(f);
    assert_non_null(strstr(text, "\"num_samples\": 4,"));
    assert_non_null(strstr(text, "\"ann_top1\": 1.0,"));
    assert_non_null(strstr(text, "\"duration\": 50.0,"));
    assert_non_null(strstr(text, "\"snn_top1\": "));
    free(text);
    snprintf(path, sizeof path, "%s/log/gui/test/accuracy.txt", e->wd);
    assert_true(access(path, R_OK) == 0);
}

/* A Conv1D model (keras/seq1d.h5) with its samples as Keras keeps them,
 * (N, steps, C): the ANN agrees with Keras on every sample and the SNN
 * runs on the same samples. */
static void test_sequence_model_run(void **state)
{
    cli_env *e = *state;
    char errtext[4096], model[700], *text;
    snprintf(model, sizeof model, "%s/model.h5", e->wd);
    tu_copy_file(fixture("keras/seq1d.h5"), model, (size_t)-1);
    tu_write_keras_dataset(e->wd, "keras/seq1d");
    if (run(e, errtext, sizeof errtext) != 0)
        fail_msg("snntb failed: %s", errtext);
    text = tu_read_text(e->wd, "log/gui/test/results.json");
    printf("%s\n", text);
    assert_non_null(strstr(text, "\"num_samples\": 4,"));
    assert_non_null(strstr(text, "\"ann_top1\": 1.0,"));
    assert_non_null(strstr(text, "\"snn_top1\": "));
    free(text);
}

static void test_unknown_key_warns_and_runs(void **state)
{
    cli_env *e = *state;
    char errtext[4096];
    write_config(e, "frobnicate = 3");
    assert_int_equal(run(e, errtext, sizeof errtext), 0);
    assert_non_null(strstr(errtext, "warning"));
    assert_non_null(strstr(errtext, "frobnicate"));
}

static void test_scale_factors_reused_while_inputs_unchanged(void **state)
{
    cli_env *e = *state;
    char errtext[4096], args[800];
    snprintf(args, sizeof args, "'%s'", e->config);
    assert_int_equal(tu_run_cli(args, errtext, sizeof errtext), 0);
    assert_non_null(strstr(errtext, "normalizing on"));
    assert_int_equal(tu_run_cli(args, errtext, sizeof errtext), 0);
    assert_non_null(strstr(errtext, "reusing scale factors"));
    /* Another percentile: computed anew. */
    snprintf(args, sizeof args, "-s normalization.percentile=99 '%s'",
             e->config);
    assert_int_equal(tu_run_cli(args, errtext, sizeof errtext), 0);
    assert_non_null(strstr(errtext, "normalizing on"));
}

/* The output layer's scale factor as saved in scale_factors.json. */
static double output_scale(const cli_env *e)
{
    char path[700];
    snprintf(path, sizeof path,
             "%s/log/gui/test/normalization/scale_factors.json", e->wd);
    json_t *root = json_load_file(path, 0, NULL);
    assert_non_null(root);
    json_t *v = json_object_get(json_object_get(root, "scale_factors"), "out");
    assert_true(json_is_number(v));
    double lambda = json_number_value(v);
    json_decref(root);
    return lambda;
}

/* softmax_to_relu: the output layer is normalized like any other (its
 * factor is a percentile, not 1) and still predicts what Keras does. */
static void test_softmax_to_relu_normalizes_output(void **state)
{
    cli_env *e = *state;
    char errtext[4096];
    assert_int_equal(run(e, errtext, sizeof errtext), 0);
    assert_true(output_scale(e) == 1.0);
    write_config(e, "[conversion]\nsoftmax_to_relu = True");
    assert_int_equal(run(e, errtext, sizeof errtext), 0);
    assert_true(output_scale(e) != 1.0);
}

static void test_truncated_model(void **state)
{
    cli_env *e = *state;
    char errtext[4096], model[700];
    snprintf(model, sizeof model, "%s/model.h5", e->wd);
    tu_copy_file(fixture("keras/cnn.h5"), model, 20000);
    assert_int_equal(run(e, errtext, sizeof errtext), 1);
    assert_one_error(errtext, "model.h5", NULL);
}

static void test_dataset_shape_does_not_fit(void **state)
{
    cli_env *e = *state;
    char errtext[4096], path[700];
    size_t dims[4] = {4, 5, 5, 2};
    float *zeros = calloc(200, sizeof *zeros);
    snprintf(path, sizeof path, "%s/x_test.npz", e->wd);
    tu_write_npz(path, 4, dims, zeros);
    free(zeros);
    assert_int_equal(run(e, errtext, sizeof errtext), 1);
    assert_one_error(errtext, "x_test.npz", "(5, 5, 2)");
}

static void test_unknown_simulator(void **state)
{
    cli_env *e = *state;
    char errtext[4096];
    write_config(e, "simulator = foo");
    assert_int_equal(run(e, errtext, sizeof errtext), 1);
    assert_one_error(errtext, "[simulation] simulator", "INI");
}

/* Brian 1 is a valid simulator name with no export: the error names
 * every simulator that has one, MegaSim and loihi included. */
static void test_simulator_without_export(void **state)
{
    cli_env *e = *state;
    char errtext[4096];
    write_config(e, "simulator = brian");
    assert_int_equal(run(e, errtext, sizeof errtext), 1);
    assert_one_error(errtext, "simulator = brian",
                     "brian2, nest, neuron, spiNNaker, MegaSim and loihi "
                     "are exported");
}

/* Spike codes are the built-in simulator's: an export would run them as
 * rate codes. */
static void test_spike_code_needs_ini(void **state)
{
    cli_env *e = *state;
    char errtext[4096];
    write_config(e, "simulator = brian2\n[conversion]\nspike_code = ttfs");
    assert_int_equal(run(e, errtext, sizeof errtext), 1);
    assert_one_error(errtext, "spike_code = ttfs", "simulator = INI");
}

static void test_unknown_layer(void **state)
{
    cli_env *e = *state;
    char errtext[4096], model[700];
    snprintf(model, sizeof model, "%s/model.h5", e->wd);
    tu_copy_file(fixture("keras/cnn_conv3d.h5"), model, (size_t)-1);
    assert_int_equal(run(e, errtext, sizeof errtext), 1);
    assert_one_error(errtext, "Conv3D", "model.h5");
}

/* A --set whose key the parser does not know would change nothing: it is
 * refused, and a key that lives in another section is pointed there
 * (v_init is a [conversion] key, not a [cell] one). */
static void test_set_unknown_key_refused(void **state)
{
    cli_env *e = *state;
    char errtext[4096], args[800];
    write_config(e, "");
    snprintf(args, sizeof args, "--quiet -s cell.v_init=0.5 '%s'", e->config);
    assert_int_equal(tu_run_cli(args, errtext, sizeof errtext), 1);
    assert_one_error(errtext, "[cell] has no key 'v_init'",
                     "it is in [conversion]");
    snprintf(args, sizeof args, "--quiet -s cell.bogus=1 '%s'", e->config);
    assert_int_equal(tu_run_cli(args, errtext, sizeof errtext), 1);
    assert_one_error(errtext, "unknown key [cell] bogus", NULL);
}

static void test_missing_config(void **state)
{
    (void)state;
    char errtext[4096];
    assert_int_equal(tu_run_cli("/nonexistent/snntb.ini", errtext,
                                sizeof errtext), 1);
    assert_one_error(errtext, "/nonexistent/snntb.ini", NULL);
}

static void test_usage_errors(void **state)
{
    (void)state;
    char errtext[4096];
    assert_int_equal(tu_run_cli("--bogus x.ini", errtext, sizeof errtext), 2);
    assert_non_null(strstr(errtext, "--bogus"));
    assert_int_equal(tu_run_cli("", errtext, sizeof errtext), 2);
    assert_non_null(strstr(errtext, "usage"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_run_matches_keras, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sequence_model_run, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_key_warns_and_runs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scale_factors_reused_while_inputs_unchanged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_softmax_to_relu_normalizes_output, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_model, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dataset_shape_does_not_fit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_simulator, setup, teardown),
        cmocka_unit_test_setup_teardown(test_simulator_without_export, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_spike_code_needs_ini, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_set_unknown_key_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_unknown_layer, setup, teardown),
        cmocka_unit_test(test_missing_config),
        cmocka_unit_test(test_usage_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
