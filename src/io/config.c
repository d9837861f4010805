/*
 * config.c - the original SNN toolbox's INI config, read the way Python's
 * configparser.ConfigParser reads it, so that the original's config files
 * run unchanged.
 *
 * The rules copied from configparser (strict mode, BasicInterpolation):
 * keys are lower-cased, section names are not; lines starting with # or ;
 * are comments; a line indented deeper than its key continues the value
 * (joined with '\n', blank lines kept inside, trailing ones dropped); a
 * section or key repeated within one file is an error; %(name)s is looked
 * up in the same section, then in [DEFAULT], at most 10 levels deep, and
 * %% is a literal %.  As in the original toolbox the defaults come first
 * and the user's file overrides them.  Unlike configparser, every value is
 * interpolated and every known key validated when the file is loaded, so
 * that a mistake is reported before a long run starts, not in the middle.
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include "snntb/config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fsutil.h"
#include "core/strbuf.h"
#include "pyliteral.h"

/* Real configs are a few KB; these bound what a hostile file can cost. */
#define MAX_FILE_BYTES (1u << 20)
#define MAX_ENTRIES 10000
#define MAX_COOKED_BYTES (1u << 20)
#define MAX_REFERENCES 100000
/* configparser.MAX_INTERPOLATION_DEPTH */
#define MAX_INTERPOLATION_DEPTH 10
/* How much of a bad value an error message quotes. */
#define QUOTE_MAX 120

/* ---- the known keys -------------------------------------------------- */

typedef enum value_kind {
    V_STR,
    V_BOOL,
    V_INT,
    V_FLOAT,
    V_CHOICE,
    V_DICT,
    V_INT_LIST,
    V_NUM_LIST,
    V_NAME_SET,
    V_SIZE
} value_kind;

typedef enum value_range {
    R_ANY,
    R_POSITIVE,
    R_AT_LEAST_1,
    R_PERCENT,
    R_NON_NEGATIVE,
    R_UNIT,         /* [0, 1] */
    N_RANGES
} value_range;

typedef struct key_spec {
    const char *section;
    const char *key; /* lower case, as configparser stores it */
    const char *def;
    value_kind kind;
    value_range range;
    const char *const *choices; /* NULL-terminated, for V_CHOICE/V_NAME_SET */
    int empty_ok;
} key_spec;

static const char *const model_libs[] = {"keras", "lasagne", "caffe",
                                         "pytorch", NULL};
static const char *const dataset_formats[] = {"npz", "jpg", "png", "aedat", "idx",
                                              NULL};
static const char *const frame_gen_methods[] = {
    "signed_sum", "rectified_sum", "rectified_polarity_channels",
    "signed_polarity_channels", NULL};
static const char *const maxpool_types[] = {"fir_max", "exp_max", "avg_max",
                                            NULL};
static const char *const spike_codes[] = {
    "temporal_mean_rate", "temporal_pattern", "ttfs", "ttfs_dyn_thresh",
    "ttfs_corrective", NULL};
/* Older versions of the original spell the PyNN backend Neuron, newer
 * ones neuron; configs of both ages exist. */
static const char *const simulators[] = {
    "INI", "brian2", "MegaSim", "nest", "brian", "Neuron", "neuron",
    "spiNNaker", "loihi", NULL};
static const char *const reset_modes[] = {
    "Reset by subtraction", "Reset to zero", "Reset by modulo", NULL};
static const char *const log_vars[] = {
    "activations_n_b_l", "spiketrains_n_b_l_t", "input_b_l_t",
    "mem_n_b_l_t", "operations_b_t", "synaptic_operations_b_t",
    "neuron_operations_b_t", "all", NULL};
static const char *const plot_vars[] = {
    "activations", "spiketrains", "spikecounts", "spikerates",
    "input_image", "error_t", "confusion_matrix", "correlation",
    "hist_spikerates_activations", "normalization_activations",
    "operations", "v_mem", "all", NULL};

/* The original's snntoolbox/config_defaults, with batch_size, num_to_test
 * and top_k at 1.  configparser strips continuation lines, hence the
 * unindented plotproperties. */
static const key_spec known_keys[] = {
    {"paths", "path_wd", "", V_STR, R_ANY, NULL, 0},
    {"paths", "dataset_path", "", V_STR, R_ANY, NULL, 0},
    {"paths", "log_dir_of_current_run", "", V_STR, R_ANY, NULL, 0},
    {"paths", "runlabel", "test", V_STR, R_ANY, NULL, 0},
    {"paths", "filename_ann", "", V_STR, R_ANY, NULL, 0},
    {"paths", "filename_parsed_model", "", V_STR, R_ANY, NULL, 0},
    {"paths", "filename_snn", "", V_STR, R_ANY, NULL, 0},
    {"paths", "filename_clamp_indices", "", V_STR, R_ANY, NULL, 0},
    {"paths", "filepath_custom_objects", "", V_STR, R_ANY, NULL, 0},
    {"paths", "class_idx_path", "", V_STR, R_ANY, NULL, 0},

    {"input", "model_lib", "keras", V_CHOICE, R_ANY, model_libs, 0},
    {"input", "dataset_format", "npz", V_CHOICE, R_ANY, dataset_formats, 0},
    {"input", "datagen_kwargs", "{}", V_DICT, R_ANY, NULL, 0},
    {"input", "dataflow_kwargs", "{}", V_DICT, R_ANY, NULL, 0},
    {"input", "poisson_input", "False", V_BOOL, R_ANY, NULL, 0},
    {"input", "input_rate", "1000", V_INT, R_POSITIVE, NULL, 0},
    {"input", "num_poisson_events_per_sample", "-1", V_INT, R_ANY, NULL, 0},
    {"input", "num_dvs_events_per_sample", "2000", V_INT, R_ANY, NULL, 0},
    {"input", "eventframe_width", "10", V_INT, R_AT_LEAST_1, NULL, 0},
    {"input", "label_dict", "{}", V_DICT, R_ANY, NULL, 0},
    {"input", "chip_size", "None", V_SIZE, R_ANY, NULL, 0},
    {"input", "frame_gen_method", "", V_CHOICE, R_ANY, frame_gen_methods, 1},
    {"input", "is_x_first", "", V_BOOL, R_ANY, NULL, 1},
    {"input", "is_x_flipped", "", V_BOOL, R_ANY, NULL, 1},
    {"input", "is_y_flipped", "", V_BOOL, R_ANY, NULL, 1},
    {"input", "maxpool_subsampling", "True", V_BOOL, R_ANY, NULL, 0},
    {"input", "do_clip_three_sigma", "True", V_BOOL, R_ANY, NULL, 0},
    {"input", "keras_dataset", "", V_STR, R_ANY, NULL, 0},

    {"tools", "evaluate_ann", "True", V_BOOL, R_ANY, NULL, 0},
    {"tools", "parse", "True", V_BOOL, R_ANY, NULL, 0},
    {"tools", "normalize", "True", V_BOOL, R_ANY, NULL, 0},
    {"tools", "convert", "True", V_BOOL, R_ANY, NULL, 0},
    {"tools", "simulate", "True", V_BOOL, R_ANY, NULL, 0},
    {"tools", "serialise_only", "False", V_BOOL, R_ANY, NULL, 0},

    {"normalization", "percentile", "99.9", V_FLOAT, R_PERCENT, NULL, 0},
    {"normalization", "normalization_schedule", "False", V_BOOL, R_ANY, NULL, 0},
    {"normalization", "online_normalization", "False", V_BOOL, R_ANY, NULL, 0},
    {"normalization", "diff_to_max_rate", "200", V_FLOAT, R_ANY, NULL, 0},
    {"normalization", "diff_to_min_rate", "100", V_FLOAT, R_ANY, NULL, 0},
    {"normalization", "timestep_fraction", "10", V_INT, R_AT_LEAST_1, NULL, 0},
    /* Low-latency conversion, beyond the original (docs/lowlatency.md). */
    {"normalization", "channelwise", "False", V_BOOL, R_ANY, NULL, 0},

    {"conversion", "softmax_to_relu", "False", V_BOOL, R_ANY, NULL, 0},
    {"conversion", "max2avg_pool", "False", V_BOOL, R_ANY, NULL, 0},
    {"conversion", "maxpool_type", "fir_max", V_CHOICE, R_ANY, maxpool_types, 0},
    {"conversion", "spike_code", "temporal_mean_rate", V_CHOICE, R_ANY,
     spike_codes, 0},
    {"conversion", "num_bits", "32", V_INT, R_AT_LEAST_1, NULL, 0},
    /* Low-latency conversion, beyond the original (docs/lowlatency.md). */
    {"conversion", "v_init", "0", V_FLOAT, R_UNIT, NULL, 0},
    {"conversion", "bias_calibration_samples", "0", V_INT, R_NON_NEGATIVE,
     NULL, 0},

    {"simulation", "simulator", "INI", V_CHOICE, R_ANY, simulators, 0},
    {"simulation", "duration", "200", V_INT, R_AT_LEAST_1, NULL, 0},
    {"simulation", "dt", "1", V_FLOAT, R_POSITIVE, NULL, 0},
    {"simulation", "batch_size", "1", V_INT, R_AT_LEAST_1, NULL, 0},
    {"simulation", "num_to_test", "1", V_INT, R_AT_LEAST_1, NULL, 0},
    {"simulation", "sample_idxs_to_test", "[]", V_INT_LIST, R_ANY, NULL, 0},
    {"simulation", "reset_between_nth_sample", "1", V_INT, R_AT_LEAST_1,
     NULL, 0},
    {"simulation", "top_k", "1", V_INT, R_AT_LEAST_1, NULL, 0},
    {"simulation", "keras_backend", "tensorflow", V_STR, R_ANY, NULL, 0},
    {"simulation", "early_stopping", "False", V_BOOL, R_ANY, NULL, 0},
    {"simulation", "engine", "auto", V_CHOICE, R_ANY, (const char *const[]){"auto", "event", "dense", "reference", NULL}, 0},

    {"spinnaker", "number_of_neurons_per_core", "64", V_INT, R_AT_LEAST_1,
     NULL, 0},

    {"cell", "v_thresh", "1", V_FLOAT, R_ANY, NULL, 0},
    {"cell", "tau_refrac", "0", V_FLOAT, R_ANY, NULL, 0},
    {"cell", "v_reset", "0", V_FLOAT, R_ANY, NULL, 0},
    {"cell", "v_rest", "0", V_FLOAT, R_ANY, NULL, 0},
    {"cell", "e_rev_e", "10", V_FLOAT, R_ANY, NULL, 0},
    {"cell", "e_rev_i", "-10", V_FLOAT, R_ANY, NULL, 0},
    {"cell", "i_offset", "0", V_FLOAT, R_ANY, NULL, 0},
    {"cell", "cm", "0.09", V_FLOAT, R_ANY, NULL, 0},
    {"cell", "tau_m", "1000", V_FLOAT, R_ANY, NULL, 0},
    {"cell", "tau_syn_e", "0.01", V_FLOAT, R_ANY, NULL, 0},
    {"cell", "tau_syn_i", "0.01", V_FLOAT, R_ANY, NULL, 0},
    {"cell", "delay", "1", V_FLOAT, R_ANY, NULL, 0},
    {"cell", "binarize_weights", "False", V_BOOL, R_ANY, NULL, 0},
    {"cell", "quantize_weights", "False", V_BOOL, R_ANY, NULL, 0},
    {"cell", "scaling_factor", "10000000", V_INT, R_ANY, NULL, 0},
    {"cell", "payloads", "False", V_BOOL, R_ANY, NULL, 0},
    {"cell", "reset", "Reset by subtraction", V_CHOICE, R_ANY, reset_modes, 0},
    {"cell", "leak", "False", V_BOOL, R_ANY, NULL, 0},
    {"cell", "bias_relaxation", "False", V_BOOL, R_ANY, NULL, 0},
    /* snntb: the original's hard-wired v_clip (bounds -3, 3) as options,
     * and one Qm.f format for quantize_weights (the original read Qm.f and
     * quantize_bias from each layer's attributes). */
    {"cell", "v_clip", "False", V_BOOL, R_ANY, NULL, 0},
    {"cell", "v_clip_min", "-3", V_FLOAT, R_ANY, NULL, 0},
    {"cell", "v_clip_max", "3", V_FLOAT, R_ANY, NULL, 0},
    {"cell", "quantize_format", "", V_STR, R_ANY, NULL, 0},
    {"cell", "quantize_bias", "False", V_BOOL, R_ANY, NULL, 0},

    {"parameter_sweep", "param_values", "[]", V_NUM_LIST, R_ANY, NULL, 0},
    {"parameter_sweep", "param_name", "v_thresh", V_STR, R_ANY, NULL, 0},
    {"parameter_sweep", "param_logscale", "False", V_BOOL, R_ANY, NULL, 0},

    {"output", "log_vars", "{}", V_NAME_SET, R_ANY, log_vars, 0},
    {"output", "plot_vars", "{}", V_NAME_SET, R_ANY, plot_vars, 0},
    {"output", "verbose", "1", V_INT, R_ANY, NULL, 0},
    {"output", "overwrite", "True", V_BOOL, R_ANY, NULL, 0},
    {"output", "use_simple_labels", "True", V_BOOL, R_ANY, NULL, 0},
    {"output", "plotproperties",
     "{\n'font.size': 13,\n'axes.titlesize': 'xx-large',\n"
     "'axes.labelsize': 'xx-large',\n'xtick.labelsize': 'xx-large',\n"
     "'xtick.major.size': 7,\n'xtick.minor.size': 5,\n"
     "'ytick.labelsize': 'xx-large',\n'ytick.major.size': 7,\n"
     "'ytick.minor.size': 5,\n'legend.fontsize': 'xx-large',\n"
     "'figure.figsize': (7, 6),\n'savefig.format': 'png'}",
     V_DICT, R_ANY, NULL, 0},
};

#define N_KNOWN_KEYS (sizeof known_keys / sizeof known_keys[0])

/* ---- the config ------------------------------------------------------ */

typedef struct entry {
    char *key;    /* lower case */
    char *raw;    /* as written, before interpolation */
    char *cooked; /* after interpolation; what the getters return */
    int user_set;
} entry;

typedef struct section {
    char *name;
    entry *entries;
    size_t n, cap;
    int in_file; /* named by a header of the user's file */
} section;

struct snn_config {
    section *sections; /* [0] is DEFAULT */
    size_t n, cap;
    size_t n_entries;
    /* Folder a relative path_wd is taken from: the file's, or the cwd. */
    char *base_dir;
    /* Cooked strings replaced after being handed out: kept until free so
     * that a pointer from snn_config_get stays valid as documented. */
    char **retired;
    size_t n_retired, cap_retired;
};

static const char default_section[] = "DEFAULT";

/* A growing string for interpolation results. */
typedef snn_strbuf strbuf;

/* ---- small helpers --------------------------------------------------- */

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
           c == '\f' || (c >= 0x1c && c <= 0x1f);
}

static char lower(char c)
{
    return (char)tolower((unsigned char)c);
}

/* Key comparison after configparser's optionxform (str.lower). */
static int key_equal(const char *stored, const char *asked)
{
    while (*stored && lower(*asked) == *stored) {
        stored++;
        asked++;
    }
    return *stored == '\0' && *asked == '\0';
}

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static char *dup_lower(const char *s)
{
    char *d = dup_n(s, strlen(s));
    for (char *p = d; p && *p; p++)
        *p = lower(*p);
    return d;
}

static int strbuf_put(strbuf *b, const char *s, size_t n)
{
    return snn_strbuf_put(b, s, n, MAX_COOKED_BYTES);
}

/* The value for a message: quoted, and shortened when long. */
static void quote_value(const char *v, char *out, size_t n)
{
    size_t len = strlen(v);
    if (len > QUOTE_MAX)
        snprintf(out, n, "'%.*s...'", QUOTE_MAX, v);
    else
        snprintf(out, n, "'%s'", v);
}

static void join_choices(const char *const *choices, char *out, size_t n)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; choices[i] && used < n; i++) {
        int w = snprintf(out + used, n - used, "%s%s", i ? ", " : "",
                         choices[i]);
        if (w < 0)
            return;
        used += (size_t)w;
    }
}

static const key_spec *find_spec(const char *section, const char *key)
{
    for (size_t i = 0; i < N_KNOWN_KEYS; i++)
        if (strcmp(known_keys[i].section, section) == 0 &&
            strcmp(known_keys[i].key, key) == 0)
            return &known_keys[i];
    return NULL;
}

/* ---- storage --------------------------------------------------------- */

static section *find_section(const snn_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n; i++)
        if (strcmp(cfg->sections[i].name, name) == 0)
            return &cfg->sections[i];
    return NULL;
}

static entry *find_entry(const section *sec, const char *key)
{
    for (size_t i = 0; sec && i < sec->n; i++)
        if (key_equal(sec->entries[i].key, key))
            return &sec->entries[i];
    return NULL;
}

/* configparser's lookup: the section, then [DEFAULT]. */
static entry *lookup(const snn_config *cfg, const section *sec,
                     const char *key)
{
    entry *e = find_entry(sec, key);
    return e ? e : find_entry(&cfg->sections[0], key);
}

static section *add_section(snn_config *cfg, const char *name, size_t len)
{
    if (cfg->n == cfg->cap) {
        size_t cap = cfg->cap ? cfg->cap * 2 : 16;
        section *grown = realloc(cfg->sections, cap * sizeof *grown);
        if (!grown)
            return NULL;
        cfg->sections = grown;
        cfg->cap = cap;
    }
    section *sec = &cfg->sections[cfg->n];
    memset(sec, 0, sizeof *sec);
    if (!(sec->name = dup_n(name, len)))
        return NULL;
    cfg->n++;
    return sec;
}

/* Sets key (already lower case) to a copy of raw; returns the entry. */
static entry *put_raw(snn_config *cfg, section *sec, const char *key,
                      const char *raw, size_t rawlen)
{
    char *copy = dup_n(raw, rawlen);
    if (!copy)
        return NULL;
    entry *e = find_entry(sec, key);
    if (e) {
        free(e->raw);
        e->raw = copy;
        return e;
    }
    if (cfg->n_entries >= MAX_ENTRIES) {
        free(copy);
        return NULL;
    }
    if (sec->n == sec->cap) {
        size_t cap = sec->cap ? sec->cap * 2 : 16;
        entry *grown = realloc(sec->entries, cap * sizeof *grown);
        if (!grown) {
            free(copy);
            return NULL;
        }
        sec->entries = grown;
        sec->cap = cap;
    }
    e = &sec->entries[sec->n];
    memset(e, 0, sizeof *e);
    if (!(e->key = dup_lower(key))) {
        free(copy);
        return NULL;
    }
    e->raw = copy;
    sec->n++;
    cfg->n_entries++;
    return e;
}

static void remove_entry(snn_config *cfg, section *sec, entry *e)
{
    size_t i = (size_t)(e - sec->entries);
    free(e->key);
    free(e->raw);
    free(e->cooked);
    memmove(e, e + 1, (sec->n - i - 1) * sizeof *e);
    sec->n--;
    cfg->n_entries--;
}

static int retire(snn_config *cfg, char *s)
{
    if (cfg->n_retired == cfg->cap_retired) {
        size_t cap = cfg->cap_retired ? cfg->cap_retired * 2 : 16;
        char **grown = realloc(cfg->retired, cap * sizeof *grown);
        if (!grown)
            return 0;
        cfg->retired = grown;
        cfg->cap_retired = cap;
    }
    cfg->retired[cfg->n_retired++] = s;
    return 1;
}

void snn_config_free(snn_config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->n; i++) {
        section *sec = &cfg->sections[i];
        for (size_t j = 0; j < sec->n; j++) {
            free(sec->entries[j].key);
            free(sec->entries[j].raw);
            free(sec->entries[j].cooked);
        }
        free(sec->entries);
        free(sec->name);
    }
    for (size_t i = 0; i < cfg->n_retired; i++)
        free(cfg->retired[i]);
    free(cfg->retired);
    free(cfg->sections);
    free(cfg->base_dir);
    free(cfg);
}

/* ---- interpolation --------------------------------------------------- */

typedef struct cook_job {
    const snn_config *cfg;
    const section *sec;
    const entry *top;
    size_t references;
} cook_job;

static snn_status interp_error(const cook_job *job, snn_error *err,
                               const char *why)
{
    char quoted[QUOTE_MAX + 8];
    quote_value(job->top->raw, quoted, sizeof quoted);
    return snn_error_set(err, SNN_E_INVALID, "config [%s] %s = %s: %s",
                         job->sec->name, job->top->key, quoted, why);
}

/* strbuf_put fails on either. */
static const char TOO_LONG[] = "interpolated value longer than 1 MiB, or out "
                               "of memory";

/* One %(name)s at rest; *used is how many bytes it spans. */
static snn_status expand_reference(cook_job *job, const char *rest,
                                   size_t *used, strbuf *out, int depth,
                                   snn_error *err);

/* BasicInterpolation._interpolate_some, with limits on size and work. */
static snn_status interpolate(cook_job *job, const char *rest, strbuf *out,
                              int depth, snn_error *err)
{
    if (depth > MAX_INTERPOLATION_DEPTH)
        return interp_error(job, err,
                            "%(name)s references nest deeper than 10 levels "
                            "(a key refers to itself?)");
    while (*rest) {
        const char *pct = strchr(rest, '%');
        size_t plain = pct ? (size_t)(pct - rest) : strlen(rest);
        if (!strbuf_put(out, rest, plain))
            return interp_error(job, err, TOO_LONG);
        if (!pct)
            return SNN_OK;
        rest = pct;
        if (rest[1] == '%') {
            if (!strbuf_put(out, "%", 1))
                return interp_error(job, err, TOO_LONG);
            rest += 2;
        } else if (rest[1] == '(') {
            size_t used = 0;
            snn_status st = expand_reference(job, rest, &used, out, depth, err);
            if (st != SNN_OK)
                return st;
            rest += used;
        } else {
            return interp_error(job, err,
                                "'%' must be followed by '%' or '(' "
                                "(write %% for a literal %)");
        }
    }
    return SNN_OK;
}

static snn_status expand_reference(cook_job *job, const char *rest,
                                   size_t *used, strbuf *out, int depth,
                                   snn_error *err)
{
    char why[160];
    const char *name = rest + 2;
    size_t n = strcspn(name, ")");
    if (n == 0 || name[n] != ')' || name[n + 1] != 's') {
        snprintf(why, sizeof why, "bad interpolation reference '%.40s'", rest);
        return interp_error(job, err, why);
    }
    if (++job->references > MAX_REFERENCES)
        return interp_error(job, err, "too many %(name)s references");
    char *key = dup_n(name, n);
    if (!key)
        return snn_error_set(err, SNN_E_NOMEM, "config: out of memory");
    const entry *target = lookup(job->cfg, job->sec, key);
    if (!target) {
        snprintf(why, sizeof why, "%%(%.60s)s names no key in [%.40s] or "
                 "[DEFAULT]", key, job->sec->name);
        free(key);
        return interp_error(job, err, why);
    }
    free(key);
    *used = n + 4;
    /* Like configparser, a value without % is copied, not descended into,
     * so it does not count as a level. */
    if (strchr(target->raw, '%'))
        return interpolate(job, target->raw, out, depth + 1, err);
    if (!strbuf_put(out, target->raw, strlen(target->raw)))
        return interp_error(job, err, TOO_LONG);
    return SNN_OK;
}

/* Interpolates one entry; the new string replaces the old one only when it
 * differs, so that unchanged values keep their address. */
static snn_status cook_entry(snn_config *cfg, const section *sec, entry *e,
                             snn_error *err)
{
    cook_job job = {cfg, sec, e, 0};
    strbuf out = {0};
    snn_status st = strbuf_put(&out, "", 0)
                        ? interpolate(&job, e->raw, &out, 1, err)
                        : snn_error_set(err, SNN_E_NOMEM, "config: out of memory");
    if (st != SNN_OK) {
        free(out.p);
        return st;
    }
    if (e->cooked && strcmp(e->cooked, out.p) == 0) {
        free(out.p);
        return SNN_OK;
    }
    if (e->cooked && !retire(cfg, e->cooked)) {
        free(out.p);
        return snn_error_set(err, SNN_E_NOMEM, "config: out of memory");
    }
    e->cooked = out.p;
    return SNN_OK;
}

static snn_status cook_all(snn_config *cfg, snn_error *err)
{
    for (size_t i = 0; i < cfg->n; i++) {
        section *sec = &cfg->sections[i];
        for (size_t j = 0; j < sec->n; j++) {
            snn_status st = cook_entry(cfg, sec, &sec->entries[j], err);
            if (st != SNN_OK)
                return st;
        }
    }
    return SNN_OK;
}

/* ---- validation ------------------------------------------------------ */

static int in_range(value_range range, double v, const char **rule)
{
    switch (range) {
    case R_ANY:
        return 1;
    case R_POSITIVE:
        *rule = "must be > 0";
        return v > 0;
    case R_AT_LEAST_1:
        *rule = "must be >= 1";
        return v >= 1;
    case R_PERCENT:
        *rule = "must be in (0, 100]";
        return v > 0 && v <= 100;
    case R_NON_NEGATIVE:
        *rule = "must be >= 0";
        return v >= 0;
    case R_UNIT:
        *rule = "must be in [0, 1]";
        return v >= 0 && v <= 1;
    case N_RANGES:
        break;
    }
    return 0;
}

/* A quoted or bare string, as snn_config_get_str returns it. */
static char *unquote(const char *v)
{
    py_value *lit;
    char *s;
    if (py_literal_parse(v, &lit, NULL, 0) && lit->kind == PY_STR)
        s = dup_n(lit->text, strlen(lit->text));
    else
        s = dup_n(v, strlen(v));
    py_value_free(lit);
    return s;
}

static int is_choice(const char *const *choices, const char *v)
{
    for (size_t i = 0; choices[i]; i++)
        if (strcmp(choices[i], v) == 0)
            return 1;
    return 0;
}

static int is_number(const py_value *v, int int_only)
{
    return v->kind == PY_INT || (!int_only && v->kind == PY_FLOAT);
}

static int all_numbers(const py_value *lit, int int_only)
{
    for (size_t i = 0; i < lit->n; i++)
        if (!is_number(lit->items[i], int_only))
            return 0;
    return 1;
}

static int all_choices(const py_value *lit, const char *const *choices)
{
    for (size_t i = 0; i < lit->n; i++)
        if (lit->items[i]->kind != PY_STR ||
            !is_choice(choices, lit->items[i]->text))
            return 0;
    return 1;
}

static int is_sequence(const py_value *lit)
{
    return lit->kind == PY_LIST || lit->kind == PY_TUPLE;
}

/* Whether a parsed literal has the shape a literal-valued key needs. */
static int literal_fits(const key_spec *k, const py_value *lit)
{
    switch (k->kind) {
    case V_DICT:
        return lit->kind == PY_DICT;
    case V_SIZE:
        return lit->kind == PY_NONE || (is_sequence(lit) && all_numbers(lit, 1));
    case V_INT_LIST:
    case V_NUM_LIST:
        return is_sequence(lit) && all_numbers(lit, k->kind == V_INT_LIST);
    case V_NAME_SET:
        /* {} is Python's empty dict, but the original means an empty set. */
        if (lit->kind == PY_DICT)
            return lit->n == 0;
        return (lit->kind == PY_SET || is_sequence(lit)) &&
               all_choices(lit, k->choices);
    default:
        return 1;
    }
}

/* What a literal-valued key accepts, for the error message. */
static void literal_rule(const key_spec *k, char *out, size_t n)
{
    char allowed[512];
    switch (k->kind) {
    case V_DICT:
        snprintf(out, n, "must be a dict such as {} or {'key': 1}");
        break;
    case V_SIZE:
        snprintf(out, n, "must be None or a tuple of integers such as "
                 "(240, 180)");
        break;
    case V_INT_LIST:
    case V_NUM_LIST:
        snprintf(out, n, "must be a list of %s such as [] or [0, 5]",
                 k->kind == V_INT_LIST ? "integers" : "numbers");
        break;
    default:
        join_choices(k->choices, allowed, sizeof allowed);
        snprintf(out, n, "must be a set such as {'all'} whose items are "
                 "among %s", allowed);
        break;
    }
}

static int literal_ok(const key_spec *k, const char *v, char *why, size_t n)
{
    py_value *lit;
    char reason[200];
    int parsed = py_literal_parse(v, &lit, reason, sizeof reason);
    int ok = parsed && literal_fits(k, lit);
    py_value_free(lit);
    literal_rule(k, why, n);
    size_t used = strlen(why);
    if (!parsed)
        snprintf(why + used, n - used, " (not a Python literal: %s)", reason);
    return ok;
}

static int scalar_ok(const key_spec *k, const char *v, char *why, size_t n)
{
    const char *rule = NULL;
    long i;
    double f;
    int b;
    switch (k->kind) {
    case V_BOOL:
        snprintf(why, n, "must be a boolean: True/False, true/false, yes/no, "
                 "on/off or 1/0%s", k->empty_ok ? ", or empty" : "");
        return py_text_to_bool(v, &b);
    case V_INT:
        if (!py_text_to_int(v, &i)) {
            snprintf(why, n, "must be an integer");
            return 0;
        }
        f = (double)i;
        break;
    case V_FLOAT:
        if (!py_text_to_float(v, &f)) {
            snprintf(why, n, "must be a number");
            return 0;
        }
        break;
    default:
        return 1;
    }
    if (in_range(k->range, f, &rule))
        return 1;
    snprintf(why, n, "%s", rule);
    return 0;
}

static int choice_ok(const key_spec *k, const char *v, char *why, size_t n)
{
    char allowed[512];
    char *s = unquote(v);
    int ok = s && is_choice(k->choices, s);
    free(s);
    join_choices(k->choices, allowed, sizeof allowed);
    snprintf(why, n, "must be one of %s%s", allowed,
             k->empty_ok ? ", or empty" : "");
    return ok;
}

static snn_status validate(const key_spec *k, const char *v, snn_error *err)
{
    char why[800];
    int ok;
    if (k->empty_ok && v[0] == '\0')
        return SNN_OK;
    switch (k->kind) {
    case V_STR:
        return SNN_OK;
    case V_BOOL:
    case V_INT:
    case V_FLOAT:
        ok = scalar_ok(k, v, why, sizeof why);
        break;
    case V_CHOICE:
        ok = choice_ok(k, v, why, sizeof why);
        break;
    default:
        ok = literal_ok(k, v, why, sizeof why);
        break;
    }
    if (ok)
        return SNN_OK;
    char quoted[QUOTE_MAX + 8];
    quote_value(v, quoted, sizeof quoted);
    return snn_error_set(err, SNN_E_INVALID, "config [%s] %s = %s: %s",
                         k->section, k->key, quoted, why);
}

static snn_status validate_all(const snn_config *cfg, snn_error *err)
{
    for (size_t i = 0; i < N_KNOWN_KEYS; i++) {
        const key_spec *k = &known_keys[i];
        const char *v = snn_config_get(cfg, k->section, k->key);
        snn_status st = validate(k, v ? v : "", err);
        if (st != SNN_OK)
            return st;
    }
    return SNN_OK;
}

/* ---- paths ----------------------------------------------------------- */

/* `~` and `~/...` become $HOME (Python's expanduser for the current user). */
static int expand_home(const char *v, char *out, size_t n)
{
    const char *home = getenv("HOME");
    int w;
    if (home && v[0] == '~' && (v[1] == '\0' || v[1] == '/'))
        w = snprintf(out, n, "%s%s", home, v + 1);
    else
        w = snprintf(out, n, "%s", v);
    return w >= 0 && (size_t)w < n;
}

static int join_path(const char *dir, const char *v, char *out, size_t n)
{
    char expanded[PATH_MAX];
    if (!expand_home(v, expanded, sizeof expanded))
        return 0;
    int w = expanded[0] == '/' || expanded[0] == '\0'
                ? snprintf(out, n, "%s", expanded)
                : snprintf(out, n, "%s/%s", dir, expanded);
    return w >= 0 && (size_t)w < n;
}

/* Escapes % so that a path can be stored as a raw value. */
static char *escape_percent(const char *s)
{
    size_t n = strlen(s), extra = 0;
    for (size_t i = 0; i < n; i++)
        extra += s[i] == '%';
    char *out = malloc(n + extra + 1), *p = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i <= n; i++) {
        *p++ = s[i];
        if (s[i] == '%')
            *p++ = '%';
    }
    return out;
}

/* Makes path_wd absolute (empty means the base folder, relative means
 * under it, as the original does when path_wd is empty), so that
 * %(path_wd)s and snn_config_get_path never depend on the cwd. */
static snn_status anchor_path_wd(snn_config *cfg, snn_error *err)
{
    section *paths = find_section(cfg, "paths");
    entry *e = find_entry(paths, "path_wd");
    char *v = unquote(e->cooked);
    char abs[PATH_MAX];
    int fits = v && (v[0] ? join_path(cfg->base_dir, v, abs, sizeof abs)
                          : snprintf(abs, sizeof abs, "%s", cfg->base_dir) <
                                (int)sizeof abs);
    int unchanged = fits && strcmp(abs, v) == 0;
    free(v);
    if (!fits)
        return snn_error_set(err, SNN_E_INVALID,
                             "config [paths] path_wd: path too long");
    if (unchanged)
        return SNN_OK;
    char *raw = escape_percent(abs);
    if (!raw)
        return snn_error_set(err, SNN_E_NOMEM, "config: out of memory");
    free(e->raw);
    e->raw = raw;
    return cook_entry(cfg, paths, e, err);
}

/* Brings cooked values and path_wd up to date and checks every known key.
 * Anchoring path_wd can change what %(path_wd)s gives, hence two cooks. */
static snn_status settle(snn_config *cfg, snn_error *err)
{
    snn_status st = cook_all(cfg, err);
    if (st == SNN_OK)
        st = anchor_path_wd(cfg, err);
    if (st == SNN_OK)
        st = cook_all(cfg, err);
    if (st == SNN_OK)
        st = validate_all(cfg, err);
    return st;
}

/* ---- creation -------------------------------------------------------- */

static snn_status config_create(snn_config **out, char *base_dir,
                                snn_error *err)
{
    snn_config *cfg = calloc(1, sizeof *cfg);
    *out = NULL;
    if (!cfg) {
        free(base_dir);
        return snn_error_set(err, SNN_E_NOMEM, "config: out of memory");
    }
    cfg->base_dir = base_dir;
    if (!add_section(cfg, default_section, strlen(default_section))) {
        snn_config_free(cfg);
        return snn_error_set(err, SNN_E_NOMEM, "config: out of memory");
    }
    for (size_t i = 0; i < N_KNOWN_KEYS; i++) {
        const key_spec *k = &known_keys[i];
        section *sec = find_section(cfg, k->section);
        if (!sec)
            sec = add_section(cfg, k->section, strlen(k->section));
        if (!sec || !put_raw(cfg, sec, k->key, k->def, strlen(k->def))) {
            snn_config_free(cfg);
            return snn_error_set(err, SNN_E_NOMEM, "config: out of memory");
        }
    }
    *out = cfg;
    return SNN_OK;
}

snn_status snn_config_new(snn_config **out, snn_error *err)
{
    char cwd[PATH_MAX];
    *out = NULL;
    if (!getcwd(cwd, sizeof cwd))
        return snn_error_set(err, SNN_E_IO,
                             "config: cannot get the current directory");
    char *base = dup_n(cwd, strlen(cwd));
    snn_config *cfg;
    snn_status st = base ? config_create(&cfg, base, err)
                         : snn_error_set(err, SNN_E_NOMEM, "config: out of memory");
    if (st == SNN_OK && (st = settle(cfg, err)) != SNN_OK)
        snn_config_free(cfg);
    if (st == SNN_OK)
        *out = cfg;
    return st;
}

/* ---- reading a file -------------------------------------------------- */

static char *folder_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? dup_n(path, slash == path ? 1 : (size_t)(slash - path))
                      : dup_n(".", 1);
    if (!dir)
        return NULL;
    char *real = realpath(dir, NULL);
    free(dir);
    return real;
}

/* State carried from line to line, as in configparser's _read. */
typedef struct line_reader {
    snn_config *cfg;
    section *sec;      /* current section, NULL before the first header */
    char *option;      /* key of the value that continuation lines extend */
    size_t indent;     /* indentation of the last key or header line */
    int lineno;
} line_reader;

static snn_status line_error(const line_reader *lr, snn_error *err,
                             snn_status st, const char *why, const char *text)
{
    return snn_error_set(err, st, "line %d: %s: '%.80s'", lr->lineno, why,
                         text);
}

static snn_status append_line(line_reader *lr, const char *text, snn_error *err)
{
    entry *e = find_entry(lr->sec, lr->option);
    size_t old = strlen(e->raw), add = strlen(text);
    if (old + add + 2 > MAX_FILE_BYTES + 1)
        return line_error(lr, err, SNN_E_FORMAT, "value too long", text);
    char *grown = realloc(e->raw, old + add + 2);
    if (!grown)
        return snn_error_set(err, SNN_E_NOMEM, "config: out of memory");
    grown[old] = '\n';
    memcpy(grown + old + 1, text, add + 1);
    e->raw = grown;
    return SNN_OK;
}

static snn_status section_header(line_reader *lr, const char *text,
                                 size_t close, snn_error *err)
{
    const char *name = text + 1;
    size_t len = close - 1;
    free(lr->option);
    lr->option = NULL;
    if (len == strlen(default_section) && memcmp(name, default_section, len) == 0) {
        lr->sec = &lr->cfg->sections[0];
        return SNN_OK;
    }
    char *owned = dup_n(name, len);
    if (!owned)
        return snn_error_set(err, SNN_E_NOMEM, "config: out of memory");
    section *sec = find_section(lr->cfg, owned);
    free(owned);
    if (sec && sec->in_file)
        return line_error(lr, err, SNN_E_FORMAT,
                          "section already exists in this file", text);
    if (!sec && !(sec = add_section(lr->cfg, name, len)))
        return snn_error_set(err, SNN_E_NOMEM, "config: out of memory");
    sec->in_file = 1;
    lr->sec = sec;
    return SNN_OK;
}

static snn_status option_line(line_reader *lr, const char *text,
                              snn_error *err)
{
    size_t delim = strcspn(text, "=:");
    if (text[delim] == '\0')
        return line_error(lr, err, SNN_E_FORMAT,
                          "expected [section], key = value or a # comment",
                          text);
    size_t klen = delim;
    while (klen && is_space(text[klen - 1]))
        klen--;
    if (klen == 0)
        return line_error(lr, err, SNN_E_FORMAT, "no key before the '=' or ':'",
                          text);
    char *key = dup_n(text, klen);
    for (char *p = key; p && *p; p++)
        *p = lower(*p);
    if (!key)
        return snn_error_set(err, SNN_E_NOMEM, "config: out of memory");
    const entry *old = find_entry(lr->sec, key);
    if (old && old->user_set) {
        snn_status st = snn_error_set(
            err, SNN_E_FORMAT, "line %d: key '%s' in section [%s] already "
            "exists in this file", lr->lineno, key, lr->sec->name);
        free(key);
        return st;
    }
    const char *value = text + delim + 1;
    while (is_space(*value))
        value++;
    entry *e = put_raw(lr->cfg, lr->sec, key, value, strlen(value));
    free(lr->option);
    lr->option = key;
    if (!e)
        return snn_error_set(err, SNN_E_NOMEM,
                             "config: out of memory or more than %d keys",
                             MAX_ENTRIES);
    e->user_set = 1;
    return SNN_OK;
}

/* One line without its line break. */
static snn_status read_line(line_reader *lr, char *line, snn_error *err)
{
    size_t indent = 0, end = strlen(line);
    while (is_space(line[indent]))
        indent++;
    while (end > indent && is_space(line[end - 1]))
        end--;
    line[end] = '\0';
    char *text = line + indent;
    if (text[0] == '#' || text[0] == ';')
        return SNN_OK;
    if (text[0] == '\0')
        /* A blank line stays inside a value that continues after it. */
        return lr->option ? append_line(lr, "", err) : SNN_OK;
    if (lr->option && indent > lr->indent)
        return append_line(lr, text, err);
    lr->indent = indent;
    const char *close = strrchr(text, ']');
    if (text[0] == '[' && close && close - text >= 2)
        return section_header(lr, text, (size_t)(close - text), err);
    if (!lr->sec)
        return line_error(lr, err, SNN_E_FORMAT,
                          "a key before the first [section]", text);
    return option_line(lr, text, err);
}

/* configparser joins a value's lines and then strips trailing space. */
static void strip_trailing(snn_config *cfg)
{
    for (size_t i = 0; i < cfg->n; i++)
        for (size_t j = 0; j < cfg->sections[i].n; j++) {
            char *raw = cfg->sections[i].entries[j].raw;
            size_t n = strlen(raw);
            while (n && is_space(raw[n - 1]))
                raw[--n] = '\0';
        }
}

static snn_status read_lines(snn_config *cfg, char *text, snn_error *err)
{
    line_reader lr = {cfg, NULL, NULL, 0, 0};
    /* A UTF-8 byte order mark is an editor's artefact, not content. */
    if (strncmp(text, "\xEF\xBB\xBF", 3) == 0)
        text += 3;
    snn_status st = SNN_OK;
    while (st == SNN_OK && *text) {
        size_t n = strcspn(text, "\r\n");
        char *next = text + n;
        if (*next == '\r' && next[1] == '\n')
            *next++ = '\0';
        if (*next)
            *next++ = '\0';
        lr.lineno++;
        st = read_line(&lr, text, err);
        text = next;
    }
    free(lr.option);
    strip_trailing(cfg);
    return st;
}

static void warn_unknown(const snn_config *cfg, const char *path,
                         const snn_log *log)
{
    for (size_t i = 1; i < cfg->n; i++) {
        const section *sec = &cfg->sections[i];
        for (size_t j = 0; j < sec->n; j++)
            if (sec->entries[j].user_set &&
                !find_spec(sec->name, sec->entries[j].key))
                snn_warn(log, "config %s: unknown key [%s] %s (ignored)", path,
                         sec->name, sec->entries[j].key);
    }
}

snn_status snn_config_load(snn_config **out, const char *path,
                           const snn_log *log, snn_error *err)
{
    char *text = NULL;
    snn_config *cfg = NULL;
    *out = NULL;
    snn_status st = snn_read_text(path, MAX_FILE_BYTES, "a text config file",
                                  &text, NULL, err);
    if (st != SNN_OK)
        return st;
    char *base = folder_of(path);
    st = base ? config_create(&cfg, base, err)
              : snn_error_set(err, SNN_E_IO, "cannot resolve the folder: %s",
                              strerror(errno));
    if (st == SNN_OK)
        st = read_lines(cfg, text, err);
    free(text);
    if (st == SNN_OK)
        st = settle(cfg, err);
    if (st != SNN_OK) {
        snn_config_free(cfg);
        return snn_error_prefix(err, "%s: ", path);
    }
    warn_unknown(cfg, path, log);
    *out = cfg;
    return SNN_OK;
}

/* ---- changing values ------------------------------------------------- */

/* Puts back what snn_config_set replaced after the new value failed. */
static void undo_set(snn_config *cfg, section *sec, const char *key,
                     char *old_raw, int old_user_set)
{
    entry *e = find_entry(sec, key);
    if (old_raw) {
        free(e->raw);
        e->raw = old_raw;
        e->user_set = old_user_set;
    } else {
        remove_entry(cfg, sec, e);
    }
    /* The state before the set was valid, so only memory can fail here. */
    settle(cfg, NULL);
}

snn_status snn_config_set(snn_config *cfg, const char *section_name,
                          const char *key, const char *value, snn_error *err)
{
    if (!section_name || !section_name[0] || !key || !key[0] || !value)
        return snn_error_set(err, SNN_E_INVALID,
                             "config: set needs a section, a key and a value");
    section *sec = find_section(cfg, section_name);
    if (!sec && !(sec = add_section(cfg, section_name, strlen(section_name))))
        return snn_error_set(err, SNN_E_NOMEM, "config: out of memory");
    entry *e = find_entry(sec, key);
    char *old_raw = e ? dup_n(e->raw, strlen(e->raw)) : NULL;
    int old_user_set = e ? e->user_set : 0;
    if ((e && !old_raw) ||
        !(e = put_raw(cfg, sec, key, value, strlen(value)))) {
        free(old_raw);
        return snn_error_set(err, SNN_E_NOMEM, "config: out of memory");
    }
    e->user_set = 1;
    snn_status st = settle(cfg, err);
    if (st != SNN_OK) {
        undo_set(cfg, sec, key, old_raw, old_user_set);
        return st;
    }
    free(old_raw);
    return SNN_OK;
}

snn_status snn_config_dup(const snn_config *cfg, snn_config **out,
                          snn_error *err)
{
    *out = NULL;
    snn_config *c = calloc(1, sizeof *c);
    int ok = c && (c->base_dir = dup_n(cfg->base_dir, strlen(cfg->base_dir)));
    for (size_t i = 0; ok && i < cfg->n; i++) {
        const section *from = &cfg->sections[i];
        section *to = add_section(c, from->name, strlen(from->name));
        ok = to != NULL;
        for (size_t j = 0; ok && j < from->n; j++) {
            const entry *e = &from->entries[j];
            entry *copy = put_raw(c, to, e->key, e->raw, strlen(e->raw));
            ok = copy != NULL;
            if (ok)
                copy->user_set = e->user_set;
        }
        if (ok)
            to->in_file = from->in_file;
    }
    snn_status st = ok ? settle(c, err)
                       : snn_error_set(err, SNN_E_NOMEM,
                                       "config: out of memory");
    if (st != SNN_OK) {
        snn_config_free(c);
        return st;
    }
    *out = c;
    return SNN_OK;
}

int snn_config_key_is_number(const char *section, const char *key)
{
    const key_spec *k = find_spec(section, key);
    return k && (k->kind == V_INT || k->kind == V_FLOAT);
}

/* ---- reading values -------------------------------------------------- */

const char *snn_config_get(const snn_config *cfg, const char *section_name,
                           const char *key)
{
    const section *sec = find_section(cfg, section_name);
    if (!sec)
        return NULL;
    const entry *e = lookup(cfg, sec, key);
    return e ? e->cooked : NULL;
}

int snn_config_is_set(const snn_config *cfg, const char *section,
                      const char *key)
{
    const entry *e = find_entry(find_section(cfg, section), key);
    return e && e->user_set;
}

int snn_config_get_bool(const snn_config *cfg, const char *section,
                        const char *key)
{
    const char *v = snn_config_get(cfg, section, key);
    int b;
    return v && py_text_to_bool(v, &b) ? b : 0;
}

long snn_config_get_int(const snn_config *cfg, const char *section,
                        const char *key)
{
    const char *v = snn_config_get(cfg, section, key);
    long i;
    return v && py_text_to_int(v, &i) ? i : 0;
}

double snn_config_get_float(const snn_config *cfg, const char *section,
                            const char *key)
{
    const char *v = snn_config_get(cfg, section, key);
    double f;
    return v && py_text_to_float(v, &f) ? f : 0.0;
}

const char *snn_config_get_str(const snn_config *cfg, const char *section,
                               const char *key, char *buf, size_t bufsize)
{
    const char *v = snn_config_get(cfg, section, key);
    char *s = v ? unquote(v) : NULL;
    const char *result = NULL;
    if (s && bufsize > strlen(s)) {
        memcpy(buf, s, strlen(s) + 1);
        result = buf;
    }
    free(s);
    return result;
}

snn_status snn_config_get_path(const snn_config *cfg, const char *section,
                               const char *key, char *buf, size_t bufsize,
                               snn_error *err)
{
    const char *v = snn_config_get(cfg, section, key);
    if (!v)
        return snn_error_set(err, SNN_E_INVALID, "config [%s] %s: no such key",
                             section, key);
    const char *wd = snn_config_get(cfg, "paths", "path_wd");
    char *s = unquote(v), *dir = unquote(wd);
    int fits = s && dir && join_path(dir, s, buf, bufsize);
    int nomem = !s || !dir;
    free(s);
    free(dir);
    if (nomem)
        return snn_error_set(err, SNN_E_NOMEM, "config: out of memory");
    if (!fits)
        return snn_error_set(err, SNN_E_INVALID,
                             "config [%s] %s: path longer than %zu bytes",
                             section, key, bufsize);
    return SNN_OK;
}

/* An item of a list literal as text: strings decoded, numbers as written. */
static char *item_text(const py_value *item)
{
    switch (item->kind) {
    case PY_STR:
    case PY_INT:
    case PY_FLOAT:
        return dup_n(item->text, strlen(item->text));
    case PY_BOOL:
        return dup_n(item->b ? "True" : "False", item->b ? 4 : 5);
    case PY_NONE:
        return dup_n("None", 4);
    default:
        return NULL;
    }
}

static int contains(char **items, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(items[i], s) == 0)
            return 1;
    return 0;
}

static snn_status list_items(const py_value *lit, char ***items,
                             const char *where, snn_error *err)
{
    char **out = calloc(lit->n + 1, sizeof *out);
    size_t n = 0;
    if (!out)
        return snn_error_set(err, SNN_E_NOMEM, "config: out of memory");
    for (size_t i = 0; i < lit->n; i++) {
        char *s = item_text(lit->items[i]);
        if (!s) {
            snn_strlist_free(out);
            return snn_error_set(err, SNN_E_INVALID,
                                 "%s: item %zu is %s, not a string or number",
                                 where, i + 1, py_kind_name(lit->items[i]->kind));
        }
        /* A set holds each item once. */
        if (lit->kind == PY_SET && contains(out, n, s))
            free(s);
        else
            out[n++] = s;
    }
    *items = out;
    return SNN_OK;
}

snn_status snn_config_get_list(const snn_config *cfg, const char *section,
                               const char *key, char ***items, snn_error *err)
{
    const char *v = snn_config_get(cfg, section, key);
    char where[256], quoted[QUOTE_MAX + 8], why[200];
    py_value *lit;
    *items = NULL;
    if (!v)
        return snn_error_set(err, SNN_E_INVALID, "config [%s] %s: no such key",
                             section, key);
    quote_value(v, quoted, sizeof quoted);
    snprintf(where, sizeof where, "config [%s] %s = %s", section, key, quoted);
    if (!py_literal_parse(v, &lit, why, sizeof why))
        return snn_error_set(err, SNN_E_INVALID,
                             "%s: not a Python list, tuple or set: %s", where,
                             why);
    snn_status st;
    if (lit->kind == PY_LIST || lit->kind == PY_TUPLE || lit->kind == PY_SET ||
        (lit->kind == PY_DICT && lit->n == 0))
        st = list_items(lit, items, where, err);
    else
        st = snn_error_set(err, SNN_E_INVALID,
                           "%s: %s, not a list, tuple or set", where,
                           py_kind_name(lit->kind));
    py_value_free(lit);
    return st;
}

void snn_strlist_free(char **items)
{
    for (size_t i = 0; items && items[i]; i++)
        free(items[i]);
    free(items);
}

/* ---- the schema, for editors ------------------------------------------ */

size_t snn_config_schema_count(void)
{
    return N_KNOWN_KEYS;
}

void snn_config_schema_at(size_t i, snn_config_key *out)
{
    static const char *const kinds[] = {
        [V_STR] = "str",           [V_BOOL] = "bool",
        [V_INT] = "int",           [V_FLOAT] = "float",
        [V_CHOICE] = "choice",     [V_DICT] = "dict",
        [V_INT_LIST] = "int_list", [V_NUM_LIST] = "num_list",
        [V_NAME_SET] = "name_set", [V_SIZE] = "size"};
    static const char *const rules[] = {[R_ANY] = "", [R_POSITIVE] = "> 0",
                                        [R_AT_LEAST_1] = ">= 1",
                                        [R_PERCENT] = "(0, 100]",
                                        [R_NON_NEGATIVE] = ">= 0",
                                        [R_UNIT] = "[0, 1]"};
    /* A range or kind added without its name here would read past the
     * tables. */
    _Static_assert(sizeof rules / sizeof *rules == N_RANGES, "range names");
    _Static_assert(sizeof kinds / sizeof *kinds == V_SIZE + 1, "kind names");
    const key_spec *k = &known_keys[i];
    out->section = k->section;
    out->key = k->key;
    out->def = k->def;
    out->kind = kinds[k->kind];
    out->rule = rules[k->range];
    out->choices = k->choices;
    out->empty_ok = k->empty_ok;
}
