/*
 * test_inspect.c - `snntb inspect`: the summary of a Keras-written DAG
 * (parameter counts and total as Keras's own summary() printed them for
 * the same file: 76, 148, 40, 99 split over the separable convolution's
 * two halves, 24; total 387), the original toolbox's layer names for the
 * shared LeNet, and the usage errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "testutil.h"

/* Runs `snntb inspect <args>`; stdout into out, returns the exit status. */
static int inspect(const char *args, char *out, size_t n)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' inspect %s 2>/dev/null", SNNTB_CLI, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t got = fread(out, 1, n - 1, p);
    out[got] = '\0';
    int rc = pclose(p);
    assert_true(WIFEXITED(rc));
    return WEXITSTATUS(rc);
}

static void expect_line(const char *out, const char *line)
{
    if (!strstr(out, line))
        fail_msg("output lacks '%s':\n%s", line, out);
}

static void test_keras_dag_summary(void **state)
{
    (void)state;
    char path[512], args[600], out[8192];
    snprintf(args, sizeof args, "'%s'",
             tu_fixture(path, sizeof path, "keras/dag.h5"));
    assert_int_equal(inspect(args, out, sizeof out), 0);
    expect_line(out, "c1 (Conv2D)                          (4, 6, 6)          "
                     "        76  image  [relu]\n");
    expect_line(out, "dw (DepthwiseConv2D)                 (4, 6, 6)          "
                     "        40  c1\n");
    expect_line(out, "add (Add)                            (4, 6, 6)          "
                     "         0  c2a, dw, c1\n");
    expect_line(out, "sep_depthwise (SeparableConv2D)      (8, 5, 5)          "
                     "        72  pad\n");
    expect_line(out, "sep (SeparableConv2D)                (3, 5, 5)          "
                     "        27  sep_depthwise  [clipped relu]\n");
    expect_line(out, "out (Dense)                          (3,)               "
                     "        24  gap  [softmax]\n");
    expect_line(out, "Total params: 387\n");
    expect_line(out, "  03Add_4x6x6\n");
    expect_line(out, "  12Dense_3\n");
}

/* The names the original prints for its LeNet example. */
static void test_shared_lenet_names(void **state)
{
    (void)state;
    char path[512], args[600], out[8192];
    if (!tu_shared(path, sizeof path, "models/lenet5/keras/99.14.h5"))
        skip();
    snprintf(args, sizeof args, "--lib keras '%s'", path);
    assert_int_equal(inspect(args, out, sizeof out), 0);
    expect_line(out, "  00Conv2D_6x24x24\n  01MaxPooling2D_6x12x12\n"
                     "  02Conv2D_16x8x8\n");
    expect_line(out, "  07Dense_10\n");
}

static void test_usage_errors(void **state)
{
    (void)state;
    char out[4096], err[4096];
    assert_int_equal(inspect("", out, sizeof out), 2);
    assert_int_equal(inspect("--lib", out, sizeof out), 2);
    assert_int_equal(tu_run_cli("inspect /nonexistent/m.onnx", err,
                                sizeof err), 1);
    expect_line(err, "snntb: error: no ONNX model '/nonexistent/m.onnx' "
                     "found");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keras_dag_summary),
        cmocka_unit_test(test_shared_lenet_names),
        cmocka_unit_test(test_usage_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
