/*
 * config.h - the original SNN toolbox's INI configuration, read the way
 * Python's configparser reads it.
 *
 * A config starts from the original's defaults, then takes the user's file.
 * Every known key has a type and, where it matters, a set of allowed
 * values; loading validates all of them, so the typed getters below cannot
 * fail for a known key.  Unknown keys are kept and reported as warnings.
 */
#ifndef SNNTB_CONFIG_H
#define SNNTB_CONFIG_H

#include <stddef.h>
#include "snntb/log.h"
#include "snntb/status.h"

typedef struct snn_config snn_config;

/* A config holding only the defaults (path_wd is the current directory). */
snn_status snn_config_new(snn_config **out, snn_error *err);

/* Defaults, then the file at path.  path_wd defaults to the file's folder.
 * Warnings (unknown keys) go to log. */
snn_status snn_config_load(snn_config **out, const char *path,
                           const snn_log *log, snn_error *err);

/* Sets one value as if it were in the file (validated). */
snn_status snn_config_set(snn_config *cfg, const char *section,
                          const char *key, const char *value, snn_error *err);

void snn_config_free(snn_config *cfg);

/* An independent copy of cfg (same values, same user-set marks), for
 * runs that change a few values, like a parameter sweep. */
snn_status snn_config_dup(const snn_config *cfg, snn_config **out,
                          snn_error *err);

/* Whether section/key is a known key holding a number (int or float). */
int snn_config_key_is_number(const char *section, const char *key);

/* The value after %(name)s interpolation, or NULL when absent.  The
 * returned string lives as long as cfg or until the key is set again. */
const char *snn_config_get(const snn_config *cfg, const char *section,
                           const char *key);

/* Typed reads of validated keys.  A Python literal like True, 1e-3 or
 * 'text' is accepted where the type allows. */
int snn_config_get_bool(const snn_config *cfg, const char *section,
                        const char *key);
long snn_config_get_int(const snn_config *cfg, const char *section,
                        const char *key);
double snn_config_get_float(const snn_config *cfg, const char *section,
                            const char *key);

/* A string value with Python quotes removed, into buf.  Returns buf, or
 * NULL when the key is absent or the value does not fit. */
const char *snn_config_get_str(const snn_config *cfg, const char *section,
                               const char *key, char *buf, size_t bufsize);

/* Items of a Python list/set/tuple literal of strings or numbers, e.g.
 * {'all'} or [1, 2]: a NULL-terminated array of strings the caller frees
 * with snn_strlist_free.  An empty literal gives an array holding only
 * NULL. */
snn_status snn_config_get_list(const snn_config *cfg, const char *section,
                               const char *key, char ***items, snn_error *err);
void snn_strlist_free(char **items);

/* A path value resolved against path_wd when relative (a leading ~ is
 * $HOME), into buf.  An empty value gives an empty string.  path_wd itself
 * is always absolute: an empty one is the config file's folder (the
 * current directory for snn_config_new), a relative one lies under it. */
snn_status snn_config_get_path(const snn_config *cfg, const char *section,
                               const char *key, char *buf, size_t bufsize,
                               snn_error *err);

/* Whether the user's file set this key (as opposed to a default). */
int snn_config_is_set(const snn_config *cfg, const char *section,
                      const char *key);

/* The known keys, as the parser validates them (for a settings editor;
 * the GUI builds its form from this table). */
typedef struct snn_config_key {
    const char *section, *key, *def;
    /* "str", "bool", "int", "float", "choice", "dict", "int_list",
     * "num_list", "name_set" (a set of choices) or "size" (None or a
     * tuple of integers) */
    const char *kind;
    const char *rule;           /* "", "> 0", ">= 1" or "(0, 100]" */
    const char *const *choices; /* NULL-terminated, or NULL */
    int empty_ok;               /* an empty value is allowed */
} snn_config_key;

size_t snn_config_schema_count(void);
/* Key i, for i < snn_config_schema_count(), in the order of the
 * original's config_defaults. */
void snn_config_schema_at(size_t i, snn_config_key *out);

#endif
