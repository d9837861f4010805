/*
 * kwargs.h - reading the Keras keyword arguments the original passes
 * through its config ([input] datagen_kwargs, dataflow_kwargs, label_dict:
 * Python dict literals), refusing by name the keys snntb does not
 * implement.  Internal to src/io.
 */
#ifndef SNNTB_IO_KWARGS_H
#define SNNTB_IO_KWARGS_H

#include "io/pyliteral.h"
#include "snntb/config.h"
#include "snntb/status.h"

/* Parses [section] key as a dict literal into *out (free with
 * py_value_free). */
snn_status kw_parse(const snn_config *cfg, const char *section,
                    const char *key, py_value **out, snn_error *err);

/* The value of dict entry `name`, or NULL. */
const py_value *kw_get(const py_value *dict, const char *name);

/* Fails naming the first key of dict that is not in known (NULL-ended)
 * and whose value is not a no-op (False, 0, None). */
snn_status kw_check(const py_value *dict, const char *section,
                    const char *key, const char *const *known,
                    snn_error *err);

/* Typed reads: def when absent; an entry of the wrong type is an error. */
snn_status kw_bool(const py_value *dict, const char *what, const char *name,
                   int def, int *out, snn_error *err);
snn_status kw_number(const py_value *dict, const char *what, const char *name,
                     double def, double *out, snn_error *err);
snn_status kw_str(const py_value *dict, const char *what, const char *name,
                  const char *def, const char **out, snn_error *err);

#endif
