/*
 * pyliteral.h - the bits of Python the original toolbox's config relies on:
 * values it reads with eval() (sets, lists, tuples, dicts, strings, numbers,
 * True/False/None) and the text conversions configparser applies in
 * getint, getfloat and getboolean.  Internal to the config reader.
 */
#ifndef SNNTB_IO_PYLITERAL_H
#define SNNTB_IO_PYLITERAL_H

#include <stddef.h>

typedef enum py_kind {
    PY_NONE,
    PY_BOOL,
    PY_INT,
    PY_FLOAT,
    PY_STR,
    PY_LIST,
    PY_TUPLE,
    PY_SET,
    PY_DICT
} py_kind;

typedef struct py_value {
    py_kind kind;
    int b;          /* PY_BOOL */
    long long i;    /* PY_INT */
    double f;       /* PY_FLOAT */
    /* PY_STR: the decoded string (NUL-terminated; len excludes the NUL).
     * Numbers: the source token, so that 1e-3 reads back as written. */
    char *text;
    size_t len;
    /* Containers: the items in source order; a dict stores key, value,
     * key, value, ... (n counts both). */
    struct py_value **items;
    size_t n;
} py_value;

/* Parses the whole of text as one Python literal expression (a bare
 * "1, 2" is a tuple, as in eval).  On failure returns 0 and writes the
 * reason, with the offending position, into why. */
int py_literal_parse(const char *text, py_value **out, char *why,
                     size_t whysize);
void py_value_free(py_value *v);

/* "a list", "a dict", ... for messages. */
const char *py_kind_name(py_kind kind);

/* Python's int(s), float(s) and configparser's boolean states (1/yes/
 * true/on, 0/no/false/off, any case).  Return 1 on success. */
int py_text_to_int(const char *s, long *out);
int py_text_to_float(const char *s, double *out);
int py_text_to_bool(const char *s, int *out);

#endif
