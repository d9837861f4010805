/*
 * test_progress.c - the progress line's figures, computed by hand.
 */
#include "testutil.h"

#include <string.h>

#include "snntb/progress.h"

static void test_half_done(void **state)
{
    (void)state;
    char line[256];
    /* 50 of 200 in 10 s: 5 samples/s, 150 left -> 30 s; 40 of 50 right. */
    snn_progress_format(line, sizeof line, "SNN", 50, 200, 40, 10.0);
    assert_string_equal(line, "SNN [######..................] 50/200  "
                              "5.0 samples/s  acc 80.00%  ETA 00:30");
}

static void test_start_and_long_eta(void **state)
{
    (void)state;
    char line[256];
    snn_progress_format(line, sizeof line, "ANN", 0, 10, 0, 0.0);
    assert_non_null(strstr(line, "0/10"));
    assert_non_null(strstr(line, "ETA --:--"));
    /* 1 of 10001 in 1 s: 10000 s left = 2:46:40. */
    snn_progress_format(line, sizeof line, "SNN", 1, 10001, 1, 1.0);
    assert_non_null(strstr(line, "ETA 2:46:40"));
}

static void test_disabled_bar_writes_nothing(void **state)
{
    (void)state;
    snn_progress p;
    snn_progress_start(&p, NULL, "SNN");
    snn_progress_update(&p, 1, 2, 1);
    snn_progress_finish(&p);
    assert_int_equal(p.drawn, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_half_done),
        cmocka_unit_test(test_start_and_long_eta),
        cmocka_unit_test(test_disabled_bar_writes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
