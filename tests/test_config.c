/*
 * test_config.c - the INI config reader against Python's configparser.
 *
 * Expected values of parsed files were read with Python 3.11's
 * configparser.ConfigParser() from the same text (fixtures/config/ and the
 * strings below), so they are configparser's answers, not ours.
 */
#define _XOPEN_SOURCE 700
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "snntb/config.h"
#include "io/pyliteral.h"

/* ---- helpers --------------------------------------------------------- */

typedef struct captured {
    char text[4096];
    int warnings;
} captured;

static void capture(void *user, snn_log_level level, const char *msg)
{
    captured *c = user;
    if (level == SNN_LOG_WARN)
        c->warnings++;
    size_t used = strlen(c->text);
    snprintf(c->text + used, sizeof c->text - used, "%s\n", msg);
}

/* Writes text to NAME in a fresh temp dir and loads it. */
static snn_status load_text(const char *text, char *dir, size_t dirsize,
                            snn_config **cfg, captured *warn, snn_error *err)
{
    char path[PATH_MAX + 16];
    snn_log log = {capture, warn, SNN_LOG_WARN};
    tu_tempdir(dir, dirsize);
    snprintf(path, sizeof path, "%s/snn.ini", dir);
    tu_write_file(path, text, strlen(text));
    return snn_config_load(cfg, path, warn ? &log : NULL, err);
}

static snn_config *load_ok(const char *text, char *dir, size_t dirsize)
{
    snn_config *cfg = NULL;
    snn_error err = {0};
    snn_status st = load_text(text, dir, dirsize, &cfg, NULL, &err);
    if (st != SNN_OK)
        fail_msg("load failed: %s", err.msg);
    return cfg;
}

/* Loads text that must fail; returns the message in err. */
static void load_fails(const char *text, snn_error *err)
{
    char dir[PATH_MAX];
    snn_config *cfg = NULL;
    assert_int_not_equal(load_text(text, dir, sizeof dir, &cfg, NULL, err),
                         SNN_OK);
    assert_null(cfg);
    tu_rmtree(dir);
}

static void assert_contains(const char *haystack, const char *needle)
{
    if (!strstr(haystack, needle))
        fail_msg("'%s' does not contain '%s'", haystack, needle);
}

static void assert_list(char **items, const char *const *expected)
{
    size_t i = 0;
    for (; expected[i]; i++) {
        assert_non_null(items[i]);
        assert_string_equal(items[i], expected[i]);
    }
    assert_null(items[i]);
}

static void assert_get_list(const snn_config *cfg, const char *section,
                            const char *key, const char *const *expected)
{
    char **items = NULL;
    snn_error err = {0};
    if (snn_config_get_list(cfg, section, key, &items, &err) != SNN_OK)
        fail_msg("get_list failed: %s", err.msg);
    assert_list(items, expected);
    snn_strlist_free(items);
}

/* ---- defaults -------------------------------------------------------- */

static void test_defaults(void **state)
{
    (void)state;
    snn_config *cfg;
    snn_error err = {0};
    char buf[256], cwd[PATH_MAX];
    assert_int_equal(snn_config_new(&cfg, &err), SNN_OK);
    assert_true(snn_config_get_float(cfg, "normalization", "percentile") == 99.9);
    assert_int_equal(snn_config_get_int(cfg, "simulation", "duration"), 200);
    assert_true(snn_config_get_float(cfg, "simulation", "dt") == 1.0);
    assert_int_equal(snn_config_get_int(cfg, "simulation", "batch_size"), 1);
    assert_int_equal(snn_config_get_int(cfg, "simulation", "num_to_test"), 1);
    assert_int_equal(snn_config_get_int(cfg, "simulation", "top_k"), 1);
    assert_true(snn_config_get_float(cfg, "cell", "v_thresh") == 1.0);
    assert_true(snn_config_get_float(cfg, "cell", "tau_syn_E") == 0.01);
    assert_string_equal(snn_config_get_str(cfg, "cell", "reset", buf, sizeof buf),
                        "Reset by subtraction");
    assert_string_equal(snn_config_get(cfg, "input", "model_lib"), "keras");
    assert_true(snn_config_get_bool(cfg, "tools", "evaluate_ann"));
    assert_false(snn_config_get_bool(cfg, "input", "poisson_input"));
    assert_false(snn_config_is_set(cfg, "simulation", "duration"));
    assert_null(snn_config_get(cfg, "simulation", "no_such_key"));
    assert_null(snn_config_get(cfg, "no_such_section", "duration"));
    /* configparser's joined value of the original's default. */
    assert_string_equal(
        snn_config_get(cfg, "output", "plotproperties"),
        "{\n'font.size': 13,\n'axes.titlesize': 'xx-large',\n"
        "'axes.labelsize': 'xx-large',\n'xtick.labelsize': 'xx-large',\n"
        "'xtick.major.size': 7,\n'xtick.minor.size': 5,\n"
        "'ytick.labelsize': 'xx-large',\n'ytick.major.size': 7,\n"
        "'ytick.minor.size': 5,\n'legend.fontsize': 'xx-large',\n"
        "'figure.figsize': (7, 6),\n'savefig.format': 'png'}");
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_string_equal(snn_config_get(cfg, "paths", "path_wd"), cwd);
    snn_config_free(cfg);
}

static void test_file_keeps_unset_defaults(void **state)
{
    (void)state;
    char dir[PATH_MAX], real[PATH_MAX];
    snn_config *cfg = load_ok("[simulation]\nduration = 50\n", dir, sizeof dir);
    assert_int_equal(snn_config_get_int(cfg, "simulation", "duration"), 50);
    assert_true(snn_config_is_set(cfg, "simulation", "duration"));
    assert_false(snn_config_is_set(cfg, "simulation", "dt"));
    assert_true(snn_config_get_float(cfg, "normalization", "percentile") == 99.9);
    assert_int_equal(snn_config_get_int(cfg, "simulation", "top_k"), 1);
    /* An empty path_wd is the file's folder, made absolute. */
    assert_non_null(realpath(dir, real));
    assert_string_equal(snn_config_get(cfg, "paths", "path_wd"), real);
    assert_false(snn_config_is_set(cfg, "paths", "path_wd"));
    snn_config_free(cfg);
    tu_rmtree(dir);
}

/* ---- configparser's rules -------------------------------------------- */

static void test_configparser_rules(void **state)
{
    (void)state;
    char path[PATH_MAX];
    snn_config *cfg;
    snn_error err = {0};
    captured warn = {0};
    snn_log log = {capture, &warn, SNN_LOG_WARN};
    tu_fixture(path, sizeof path, "config/rules.ini");
    if (snn_config_load(&cfg, path, &log, &err) != SNN_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(snn_config_get_int(cfg, "simulation", "duration"), 50);
    assert_int_equal(snn_config_get_int(cfg, "simulation", "batch_size"), 10);
    assert_int_equal(snn_config_get_int(cfg, "simulation", "num_to_test"), 5);
    assert_string_equal(snn_config_get(cfg, "output", "plot_vars"),
                        "{'spikerates',\n'activations',\n\n'v_mem'}");
    assert_string_equal(snn_config_get(cfg, "output", "log_vars"), "{'all'}");
    assert_string_equal(snn_config_get(cfg, "custom", "key two"), "v : w");
    assert_string_equal(snn_config_get(cfg, "custom", "KEY TWO"), "v : w");
    assert_string_equal(snn_config_get(cfg, "custom", "e"), "\nfoo\nbar");
    assert_string_equal(snn_config_get(cfg, "custom", "path"), "/data/sub/x_%d");
    assert_string_equal(snn_config_get(cfg, "custom", "x"), "1\n\ny = 2");
    assert_null(snn_config_get(cfg, "custom", "y"));
    assert_string_equal(snn_config_get(cfg, " spaced ", "k"), "v");
    assert_null(snn_config_get(cfg, "spaced", "k"));
    /* [DEFAULT] values show through in every section. */
    assert_string_equal(snn_config_get(cfg, "simulation", "sub"), "/data/sub");
    assert_string_equal(snn_config_get(cfg, "DEFAULT", "root"), "/data");
    /* Four unknown keys in [custom], one in [ spaced ]; none for DEFAULT. */
    assert_int_equal(warn.warnings, 5);
    assert_contains(warn.text, "unknown key [custom] key two (ignored)");
    assert_contains(warn.text, "unknown key [ spaced ] k (ignored)");
    snn_config_free(cfg);
}

static void test_unknown_key_warns_and_is_kept(void **state)
{
    (void)state;
    char dir[PATH_MAX];
    snn_config *cfg = NULL;
    snn_error err = {0};
    captured warn = {0};
    assert_int_equal(load_text("[simulation]\ndurration = 5\n[mystery]\nx = 1\n",
                               dir, sizeof dir, &cfg, &warn, &err),
                     SNN_OK);
    assert_int_equal(warn.warnings, 2);
    assert_contains(warn.text, "unknown key [simulation] durration (ignored)");
    assert_contains(warn.text, "unknown key [mystery] x (ignored)");
    assert_contains(warn.text, "/snn.ini");
    assert_string_equal(snn_config_get(cfg, "mystery", "x"), "1");
    assert_int_equal(snn_config_get_int(cfg, "simulation", "duration"), 200);
    snn_config_free(cfg);
    tu_rmtree(dir);
}

static void test_duplicates_and_bad_lines(void **state)
{
    (void)state;
    snn_error err = {0};
    load_fails("[simulation]\nduration = 1\nDuration = 2\n", &err);
    assert_int_equal(err.status, SNN_E_FORMAT);
    assert_contains(err.msg, "line 3: key 'duration' in section [simulation] "
                             "already exists");
    load_fails("[s]\nx = 1\n[t]\n[s]\n", &err);
    assert_contains(err.msg, "line 4: section already exists");
    load_fails("duration = 1\n", &err);
    assert_contains(err.msg, "line 1: a key before the first [section]");
    load_fails("[simulation]\njust words\n", &err);
    assert_contains(err.msg, "line 2: expected [section], key = value");
    load_fails("[simulation]\n= 5\n", &err);
    assert_contains(err.msg, "line 2: no key");
}

/* ---- interpolation --------------------------------------------------- */

static void test_interpolation(void **state)
{
    (void)state;
    char dir[PATH_MAX], real[PATH_MAX], expect[PATH_MAX + 64];
    snn_config *cfg = load_ok(
        "[DEFAULT]\nname = net\n"
        "[paths]\n"
        "dataset_path = %(path_wd)s/../datasets\n"
        "filename_ann = %(NAME)s_%%d\n"
        "[chain]\na = %(b)s!\nb = %(c)s?\nc = end\npct = 100%%\n",
        dir, sizeof dir);
    assert_non_null(realpath(dir, real));
    snprintf(expect, sizeof expect, "%s/../datasets", real);
    assert_string_equal(snn_config_get(cfg, "paths", "dataset_path"), expect);
    assert_string_equal(snn_config_get(cfg, "paths", "filename_ann"), "net_%d");
    assert_string_equal(snn_config_get(cfg, "chain", "a"), "end?!");
    assert_string_equal(snn_config_get(cfg, "chain", "pct"), "100%");
    snn_config_free(cfg);
    tu_rmtree(dir);
}

/* k0 -> k1 -> ... -> k<hops>, the last one plain. */
static void chain_text(int hops, char *out, size_t n)
{
    size_t used = (size_t)snprintf(out, n, "[chain]\n");
    for (int i = 0; i < hops; i++)
        used += (size_t)snprintf(out + used, n - used, "k%d = %%(k%d)s\n", i,
                                 i + 1);
    snprintf(out + used, n - used, "k%d = end\n", hops);
}

static void test_interpolation_depth(void **state)
{
    (void)state;
    char text[1024], dir[PATH_MAX];
    snn_error err = {0};
    /* configparser resolves 10 hops and refuses 11. */
    chain_text(10, text, sizeof text);
    snn_config *cfg = load_ok(text, dir, sizeof dir);
    assert_string_equal(snn_config_get(cfg, "chain", "k0"), "end");
    snn_config_free(cfg);
    tu_rmtree(dir);
    chain_text(11, text, sizeof text);
    load_fails(text, &err);
    assert_int_equal(err.status, SNN_E_INVALID);
    assert_contains(err.msg, "config [chain] k0 = '%(k1)s'");
    assert_contains(err.msg, "deeper than 10 levels");
    load_fails("[s]\na = x%(a)s\n", &err);
    assert_contains(err.msg, "[s] a = 'x%(a)s'");
    assert_contains(err.msg, "deeper than 10 levels");
}

static void test_interpolation_errors(void **state)
{
    (void)state;
    snn_error err = {0};
    load_fails("[paths]\ndataset_path = %(nowhere)s/x\n", &err);
    assert_contains(err.msg, "/snn.ini: config [paths] dataset_path = "
                             "'%(nowhere)s/x': %(nowhere)s names no key in "
                             "[paths] or [DEFAULT]");
    load_fails("[paths]\nrunlabel = 5%\n", &err);
    assert_contains(err.msg, "[paths] runlabel = '5%': '%' must be followed by "
                             "'%' or '('");
    load_fails("[paths]\nrunlabel = %(x\n", &err);
    assert_contains(err.msg, "bad interpolation reference");
    /* Ten levels of ten references each would be 10^10 expansions. */
    char text[2048];
    size_t used = (size_t)snprintf(text, sizeof text, "[s]\n");
    for (int i = 0; i < 10; i++) {
        used += (size_t)snprintf(text + used, sizeof text - used, "k%d = ", i);
        for (int j = 0; j < 10; j++)
            used += (size_t)snprintf(text + used, sizeof text - used,
                                     "%%(k%d)s", i + 1);
        used += (size_t)snprintf(text + used, sizeof text - used, "\n");
    }
    snprintf(text + used, sizeof text - used, "k10 =\n");
    load_fails(text, &err);
    assert_contains(err.msg, "too many %(name)s references");
}

/* ---- literals and types ---------------------------------------------- */

static void test_bool_words(void **state)
{
    (void)state;
    static const char *const truths[] = {"True", "true", "YES", "on", "1"};
    static const char *const lies[] = {"False", "false", "no", "Off", "0"};
    snn_config *cfg;
    snn_error err = {0};
    assert_int_equal(snn_config_new(&cfg, &err), SNN_OK);
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(snn_config_set(cfg, "input", "poisson_input",
                                        truths[i], &err), SNN_OK);
        assert_true(snn_config_get_bool(cfg, "input", "poisson_input"));
        assert_int_equal(snn_config_set(cfg, "input", "poisson_input",
                                        lies[i], &err), SNN_OK);
        assert_false(snn_config_get_bool(cfg, "input", "poisson_input"));
    }
    assert_int_equal(snn_config_set(cfg, "tools", "parse", "maybe", &err),
                     SNN_E_INVALID);
    assert_string_equal(err.msg, "config [tools] parse = 'maybe': must be a "
                                 "boolean: True/False, true/false, yes/no, "
                                 "on/off or 1/0");
    /* A failed set leaves the old value. */
    assert_true(snn_config_get_bool(cfg, "tools", "parse"));
    snn_config_free(cfg);
}

static void test_numbers(void **state)
{
    (void)state;
    snn_config *cfg;
    snn_error err = {0};
    assert_int_equal(snn_config_new(&cfg, &err), SNN_OK);
    assert_int_equal(snn_config_set(cfg, "simulation", "dt", "1e-3", &err), SNN_OK);
    assert_true(snn_config_get_float(cfg, "simulation", "dt") == 1e-3);
    assert_int_equal(snn_config_set(cfg, "simulation", "dt", ".5", &err), SNN_OK);
    assert_true(snn_config_get_float(cfg, "simulation", "dt") == 0.5);
    assert_int_equal(snn_config_set(cfg, "simulation", "duration", "1_000", &err),
                     SNN_OK);
    assert_int_equal(snn_config_get_int(cfg, "simulation", "duration"), 1000);
    assert_int_equal(snn_config_set(cfg, "cell", "e_rev_I", "-2.5", &err), SNN_OK);
    assert_true(snn_config_get_float(cfg, "cell", "e_rev_i") == -2.5);
    assert_true(snn_config_is_set(cfg, "cell", "E_REV_I"));
    /* Python's int() refuses a float, as configparser's getint does. */
    assert_int_equal(snn_config_set(cfg, "simulation", "duration", "1.5", &err),
                     SNN_E_INVALID);
    assert_string_equal(err.msg, "config [simulation] duration = '1.5': must "
                                 "be an integer");
    assert_int_equal(snn_config_get_int(cfg, "simulation", "duration"), 1000);
    assert_int_equal(snn_config_set(cfg, "cell", "v_thresh", "1..0", &err),
                     SNN_E_INVALID);
    assert_contains(err.msg, "[cell] v_thresh = '1..0': must be a number");
    snn_config_free(cfg);
}

static void test_list_literals(void **state)
{
    (void)state;
    static const char *const all[] = {"all", NULL};
    static const char *const plots[] = {"spikerates", "activations", NULL};
    static const char *const idxs[] = {"1", "2", "-3", NULL};
    static const char *const sweep[] = {"0.5", "1e-3", "2", NULL};
    static const char *const none[] = {NULL};
    char dir[PATH_MAX], buf[64];
    snn_error err = {0};
    char **items;
    snn_config *cfg = load_ok(
        "[output]\nlog_vars = {'all'}\n"
        "plot_vars = {'spikerates', \"activations\", 'spikerates',}\n"
        "[simulation]\nsample_idxs_to_test = [1, 2,\n  -3]  # trailing comment\n"
        "[parameter_sweep]\nparam_values = (0.5, 1e-3, 2)\n"
        "[paths]\nrunlabel = 'a\\tb'\nfilename_ann = 99.14\n",
        dir, sizeof dir);
    assert_get_list(cfg, "output", "log_vars", all);
    assert_get_list(cfg, "output", "plot_vars", plots);
    assert_get_list(cfg, "simulation", "sample_idxs_to_test", idxs);
    assert_get_list(cfg, "parameter_sweep", "param_values", sweep);
    assert_get_list(cfg, "input", "datagen_kwargs", none);
    assert_string_equal(snn_config_get_str(cfg, "paths", "runlabel", buf,
                                           sizeof buf), "a\tb");
    /* A bare string is itself, as config.get gives it. */
    assert_string_equal(snn_config_get_str(cfg, "paths", "filename_ann", buf,
                                           sizeof buf), "99.14");
    assert_null(snn_config_get_str(cfg, "paths", "filename_ann", buf, 5));
    assert_int_equal(snn_config_get_list(cfg, "output", "plotproperties",
                                         &items, &err), SNN_E_INVALID);
    assert_contains(err.msg, "[output] plotproperties = '{\n'font.size'");
    assert_contains(err.msg, "a dict, not a list, tuple or set");
    assert_null(items);
    assert_int_equal(snn_config_get_list(cfg, "cell", "reset", &items, &err),
                     SNN_E_INVALID);
    assert_contains(err.msg, "not a Python list, tuple or set");
    snn_config_free(cfg);
    tu_rmtree(dir);
}

static void test_nested_dict_multiline(void **state)
{
    (void)state;
    char dir[PATH_MAX];
    snn_error err = {0};
    snn_config *cfg = load_ok(
        "[output]\nplotproperties = {\n"
        "    'font.size': 13,\n"
        "    'figure.figsize': (7, 6),\n"
        "    'nested': {'a': [1, {\"b\": None}], 2: (True,)}}\n"
        "[input]\nchip_size = (240, 180)\nlabel_dict = {'0': 0, '1': 1}\n",
        dir, sizeof dir);
    assert_string_equal(snn_config_get(cfg, "output", "plotproperties"),
                        "{\n'font.size': 13,\n'figure.figsize': (7, 6),\n"
                        "'nested': {'a': [1, {\"b\": None}], 2: (True,)}}");
    assert_int_equal(snn_config_set(cfg, "input", "datagen_kwargs",
                                    "{'a': }", &err), SNN_E_INVALID);
    assert_contains(err.msg, "config [input] datagen_kwargs = '{'a': }': must "
                             "be a dict such as {} or {'key': 1} (not a Python "
                             "literal: unexpected character '}'");
    assert_int_equal(snn_config_set(cfg, "input", "chip_size", "[240, 'x']",
                                    &err), SNN_E_INVALID);
    assert_contains(err.msg, "must be None or a tuple of integers");
    snn_config_free(cfg);
    tu_rmtree(dir);
}

/* The literal reader on its own: shapes, strings and hostile input. */
static void test_literal_reader(void **state)
{
    (void)state;
    py_value *v;
    char why[200];
    assert_true(py_literal_parse("{'a': [1, (2,), {3}], 'b': ()}", &v, why,
                                 sizeof why));
    assert_int_equal(v->kind, PY_DICT);
    assert_int_equal(v->n, 4);
    assert_int_equal(v->items[1]->kind, PY_LIST);
    assert_int_equal(v->items[1]->items[1]->kind, PY_TUPLE);
    assert_int_equal(v->items[1]->items[2]->kind, PY_SET);
    assert_int_equal(v->items[3]->kind, PY_TUPLE);
    assert_int_equal(v->items[3]->n, 0);
    py_value_free(v);
    assert_true(py_literal_parse("(7)", &v, why, sizeof why));
    assert_int_equal(v->kind, PY_INT);
    assert_int_equal(v->i, 7);
    py_value_free(v);
    assert_true(py_literal_parse("240, 180", &v, why, sizeof why));
    assert_int_equal(v->kind, PY_TUPLE);
    assert_int_equal(v->n, 2);
    py_value_free(v);
    assert_true(py_literal_parse("'a\\x41\\u00e9' \"b\" r'\\n'", &v, why,
                                 sizeof why));
    assert_string_equal(v->text, "aA\xc3\xa9" "b\\n");
    py_value_free(v);

    static const char *const bad[] = {
        "'open", "[1, 2", "{1: 2, 3}", "007", "inf", "[1] [2]", "{[1]: 2}",
        "--1", "'\\x4'", "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (py_literal_parse(bad[i], &v, why, sizeof why))
            fail_msg("'%s' parsed", bad[i]);
        assert_null(v);
        assert_contains(why, "at offset");
    }
    /* Deep nesting is refused, not a stack overflow. */
    char deep[4001];
    memset(deep, '[', sizeof deep - 1);
    deep[sizeof deep - 1] = '\0';
    assert_false(py_literal_parse(deep, &v, why, sizeof why));
    assert_contains(why, "nested deeper than 100 levels");
}

/* ---- invalid values name section, key, value and what is allowed ----- */

typedef struct bad_value {
    const char *section, *key, *value, *message;
} bad_value;

static const bad_value bad_values[] = {
    {"simulation", "simulator", "foo",
     "config [simulation] simulator = 'foo': must be one of INI, brian2, "
     "MegaSim, nest, brian, Neuron, neuron, spiNNaker, loihi"},
    {"input", "model_lib", "tensorflow",
     "config [input] model_lib = 'tensorflow': must be one of keras, lasagne, "
     "caffe, pytorch"},
    {"input", "dataset_format", "csv",
     "config [input] dataset_format = 'csv': must be one of npz, jpg, png, aedat, idx"},
    {"conversion", "maxpool_type", "max",
     "config [conversion] maxpool_type = 'max': must be one of fir_max, "
     "exp_max, avg_max"},
    {"conversion", "spike_code", "rate",
     "config [conversion] spike_code = 'rate': must be one of "
     "temporal_mean_rate, temporal_pattern, ttfs, ttfs_dyn_thresh, "
     "ttfs_corrective"},
    {"cell", "reset", "Reset to one",
     "config [cell] reset = 'Reset to one': must be one of Reset by "
     "subtraction, Reset to zero, Reset by modulo"},
    {"input", "frame_gen_method", "sum",
     "config [input] frame_gen_method = 'sum': must be one of signed_sum, "
     "rectified_sum, rectified_polarity_channels, signed_polarity_channels, "
     "or empty"},
    {"output", "log_vars", "{'foo'}",
     "config [output] log_vars = '{'foo'}': must be a set such as {'all'} "
     "whose items are among activations_n_b_l, spiketrains_n_b_l_t, "
     "input_b_l_t, mem_n_b_l_t, operations_b_t, synaptic_operations_b_t, "
     "neuron_operations_b_t, all"},
    {"output", "plot_vars", "{'all', 'bar'}",
     "config [output] plot_vars = '{'all', 'bar'}': must be a set such as "
     "{'all'} whose items are among activations, spiketrains, spikecounts, "
     "spikerates, input_image, error_t, confusion_matrix, correlation, "
     "hist_spikerates_activations, normalization_activations, operations, "
     "v_mem, all"},
    {"normalization", "percentile", "0",
     "config [normalization] percentile = '0': must be in (0, 100]"},
    {"normalization", "percentile", "100.5",
     "config [normalization] percentile = '100.5': must be in (0, 100]"},
    {"simulation", "duration", "0",
     "config [simulation] duration = '0': must be >= 1"},
    {"simulation", "batch_size", "-1",
     "config [simulation] batch_size = '-1': must be >= 1"},
    {"simulation", "num_to_test", "0",
     "config [simulation] num_to_test = '0': must be >= 1"},
    {"simulation", "top_k", "0", "config [simulation] top_k = '0': must be >= 1"},
    {"simulation", "dt", "0", "config [simulation] dt = '0': must be > 0"},
    {"simulation", "dt", "-inf", "config [simulation] dt = '-inf': must be > 0"},
    {"simulation", "sample_idxs_to_test", "[1, 2.5]",
     "config [simulation] sample_idxs_to_test = '[1, 2.5]': must be a list of "
     "integers such as [] or [0, 5]"},
};

static void test_invalid_values(void **state)
{
    (void)state;
    snn_config *cfg;
    snn_error err = {0};
    char buf[128];
    assert_int_equal(snn_config_new(&cfg, &err), SNN_OK);
    for (size_t i = 0; i < sizeof bad_values / sizeof bad_values[0]; i++) {
        const bad_value *b = &bad_values[i];
        const char *before = snn_config_get(cfg, b->section, b->key);
        assert_non_null(snn_config_get_str(cfg, b->section, b->key, buf,
                                           sizeof buf));
        memset(&err, 0, sizeof err);
        assert_int_equal(snn_config_set(cfg, b->section, b->key, b->value, &err),
                         SNN_E_INVALID);
        assert_string_equal(err.msg, b->message);
        assert_string_equal(snn_config_get(cfg, b->section, b->key), before);
        assert_false(snn_config_is_set(cfg, b->section, b->key));
    }
    snn_config_free(cfg);
}

static void test_invalid_value_in_file_names_file(void **state)
{
    (void)state;
    snn_error err = {0};
    load_fails("[simulation]\nsimulator = foo\n", &err);
    assert_int_equal(err.status, SNN_E_INVALID);
    assert_contains(err.msg, "/snn.ini: config [simulation] simulator = 'foo': "
                             "must be one of INI, brian2, MegaSim");
}

static void test_hostile_files(void **state)
{
    (void)state;
    snn_config *cfg = NULL;
    snn_error err = {0};
    char dir[PATH_MAX], path[PATH_MAX + 16];
    assert_int_equal(snn_config_load(&cfg, "/nonexistent/snn.ini", NULL, &err),
                     SNN_E_IO);
    assert_contains(err.msg, "/nonexistent/snn.ini: cannot open");
    tu_tempdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/nul.ini", dir);
    tu_write_file(path, "[paths]\nx = a\0b\n", 15);
    assert_int_equal(snn_config_load(&cfg, path, NULL, &err), SNN_E_FORMAT);
    assert_contains(err.msg, "contains a NUL byte");
    assert_null(cfg);
    tu_rmtree(dir);
}

/* ---- paths ----------------------------------------------------------- */

static void test_paths(void **state)
{
    (void)state;
    char dir[PATH_MAX], real[PATH_MAX], buf[PATH_MAX], expect[PATH_MAX + 64];
    snn_error err = {0};
    snn_config *cfg = load_ok("[paths]\npath_wd = sub\n"
                              "dataset_path = %(path_wd)s/data\n"
                              "filename_ann = model\n"
                              "class_idx_path = /abs/idx.json\n"
                              "filename_snn = ~/snn\n",
                              dir, sizeof dir);
    assert_non_null(realpath(dir, real));
    /* A relative path_wd lies under the config file's folder. */
    snprintf(expect, sizeof expect, "%s/sub", real);
    assert_string_equal(snn_config_get(cfg, "paths", "path_wd"), expect);
    assert_true(snn_config_is_set(cfg, "paths", "path_wd"));
    snprintf(expect, sizeof expect, "%s/sub/data", real);
    assert_string_equal(snn_config_get(cfg, "paths", "dataset_path"), expect);
    assert_int_equal(snn_config_get_path(cfg, "paths", "dataset_path", buf,
                                         sizeof buf, &err), SNN_OK);
    assert_string_equal(buf, expect);
    snprintf(expect, sizeof expect, "%s/sub/model", real);
    assert_int_equal(snn_config_get_path(cfg, "paths", "filename_ann", buf,
                                         sizeof buf, &err), SNN_OK);
    assert_string_equal(buf, expect);
    assert_int_equal(snn_config_get_path(cfg, "paths", "class_idx_path", buf,
                                         sizeof buf, &err), SNN_OK);
    assert_string_equal(buf, "/abs/idx.json");
    const char *home = getenv("HOME");
    if (home) {
        snprintf(expect, sizeof expect, "%s/snn", home);
        assert_int_equal(snn_config_get_path(cfg, "paths", "filename_snn", buf,
                                             sizeof buf, &err), SNN_OK);
        assert_string_equal(buf, expect);
    }
    assert_int_equal(snn_config_get_path(cfg, "paths", "log_dir_of_current_run",
                                         buf, sizeof buf, &err), SNN_OK);
    assert_string_equal(buf, "");
    assert_int_equal(snn_config_get_path(cfg, "paths", "filename_ann", buf, 4,
                                         &err), SNN_E_INVALID);
    assert_contains(err.msg, "config [paths] filename_ann: path longer than");
    /* Setting path_wd moves the values that refer to it. */
    assert_int_equal(snn_config_set(cfg, "paths", "path_wd", "/elsewhere", &err),
                     SNN_OK);
    assert_string_equal(snn_config_get(cfg, "paths", "dataset_path"),
                        "/elsewhere/data");
    snn_config_free(cfg);
    tu_rmtree(dir);
}

/* configparser would reject a folder named with %; ours escapes it. */
static void test_path_wd_with_percent(void **state)
{
    (void)state;
    char dir[PATH_MAX], sub[PATH_MAX + 16], path[PATH_MAX + 32];
    char real[PATH_MAX], expect[PATH_MAX + 16];
    snn_config *cfg;
    snn_error err = {0};
    const char *text = "[paths]\ndataset_path = %(path_wd)s/x\n";
    tu_tempdir(dir, sizeof dir);
    snprintf(sub, sizeof sub, "%s/100%%", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    snprintf(path, sizeof path, "%s/snn.ini", sub);
    tu_write_file(path, text, strlen(text));
    if (snn_config_load(&cfg, path, NULL, &err) != SNN_OK)
        fail_msg("%s", err.msg);
    assert_non_null(realpath(sub, real));
    assert_string_equal(snn_config_get(cfg, "paths", "path_wd"), real);
    snprintf(expect, sizeof expect, "%s/x", real);
    assert_string_equal(snn_config_get(cfg, "paths", "dataset_path"), expect);
    snn_config_free(cfg);
    tu_rmtree(dir);
}

/* ---- the original toolbox's example configs -------------------------- */

static snn_config *load_shared(const char *rel, char *folder)
{
    char path[PATH_MAX];
    snn_config *cfg;
    snn_error err = {0};
    if (!tu_shared(path, sizeof path, rel))
        return NULL;
    if (snn_config_load(&cfg, path, NULL, &err) != SNN_OK)
        fail_msg("%s", err.msg);
    *strrchr(path, '/') = '\0';
    assert_non_null(realpath(path, folder));
    return cfg;
}

static void test_shared_keras(void **state)
{
    (void)state;
    static const char *const all[] = {"all", NULL};
    char folder[PATH_MAX], expect[PATH_MAX + 64], buf[64];
    snn_config *cfg = load_shared("models/lenet5/keras/config.orig", folder);
    if (!cfg)
        skip();
    assert_int_equal(snn_config_get_int(cfg, "simulation", "duration"), 100);
    assert_int_equal(snn_config_get_int(cfg, "simulation", "num_to_test"), 100);
    assert_int_equal(snn_config_get_int(cfg, "simulation", "batch_size"), 10);
    assert_string_equal(snn_config_get(cfg, "simulation", "simulator"), "INI");
    assert_string_equal(snn_config_get(cfg, "input", "model_lib"), "keras");
    assert_false(snn_config_get_bool(cfg, "input", "poisson_input"));
    assert_string_equal(snn_config_get_str(cfg, "paths", "filename_ann", buf,
                                           sizeof buf), "98.43");
    assert_get_list(cfg, "output", "log_vars", all);
    assert_get_list(cfg, "output", "plot_vars", all);
    snprintf(expect, sizeof expect, "%s/../../../datasets/mnist", folder);
    assert_string_equal(snn_config_get(cfg, "paths", "dataset_path"), expect);
    snn_config_free(cfg);
}

static void test_shared_caffe(void **state)
{
    (void)state;
    char folder[PATH_MAX];
    snn_config *cfg = load_shared("models/lenet5/caffe/config.orig", folder);
    if (!cfg)
        skip();
    assert_string_equal(snn_config_get(cfg, "input", "model_lib"), "caffe");
    assert_int_equal(snn_config_get_int(cfg, "simulation", "duration"), 30);
    assert_int_equal(snn_config_get_int(cfg, "simulation", "batch_size"), 10);
    assert_string_equal(snn_config_get(cfg, "paths", "path_wd"), folder);
    snn_config_free(cfg);
}

static void test_shared_lasagne(void **state)
{
    (void)state;
    char folder[PATH_MAX];
    snn_config *cfg = load_shared("models/lenet5/lasagne/config.orig", folder);
    if (!cfg)
        skip();
    assert_string_equal(snn_config_get(cfg, "input", "model_lib"), "lasagne");
    assert_true(snn_config_get_bool(cfg, "input", "poisson_input"));
    assert_int_equal(snn_config_get_int(cfg, "input", "input_rate"), 1000);
    assert_int_equal(snn_config_get_int(cfg, "simulation", "num_to_test"), 100);
    snn_config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_file_keeps_unset_defaults),
        cmocka_unit_test(test_configparser_rules),
        cmocka_unit_test(test_unknown_key_warns_and_is_kept),
        cmocka_unit_test(test_duplicates_and_bad_lines),
        cmocka_unit_test(test_interpolation),
        cmocka_unit_test(test_interpolation_depth),
        cmocka_unit_test(test_interpolation_errors),
        cmocka_unit_test(test_bool_words),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_list_literals),
        cmocka_unit_test(test_nested_dict_multiline),
        cmocka_unit_test(test_literal_reader),
        cmocka_unit_test(test_invalid_values),
        cmocka_unit_test(test_invalid_value_in_file_names_file),
        cmocka_unit_test(test_hostile_files),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_path_wd_with_percent),
        cmocka_unit_test(test_shared_keras),
        cmocka_unit_test(test_shared_caffe),
        cmocka_unit_test(test_shared_lasagne),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
