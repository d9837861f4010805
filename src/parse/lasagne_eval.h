/*
 * lasagne_eval.h - the values a Lasagne script's expressions evaluate to
 * and the evaluation state, shared by the statement reader
 * (lasagne_script.c) and the layer constructors (lasagne_layers.c).
 * Internal to the Lasagne reader.
 */
#ifndef SNNTB_PARSE_LASAGNE_EVAL_H
#define SNNTB_PARSE_LASAGNE_EVAL_H

#include <stddef.h>

#include "lasagne_lex.h"
#include "lasagne_script.h"

typedef enum lsg_vkind {
    V_NONE,
    V_BOOL,
    V_INT,
    V_FLOAT,
    V_STR,    /* s, len: undecoded text between the quotes */
    V_TUPLE,  /* tuple or list: children */
    V_DICT,   /* children: key, value, key, value... */
    V_LAYER,  /* layer: index into the net */
    V_NAME,   /* an unbound (dotted) name: s, len hold its last part */
    V_OPAQUE  /* what a call to something not a layer returns */
} lsg_vkind;

/* A value, in a pool of nodes; children and call arguments are linked
 * through `next` (indices, -1 ends).  kw names a keyword argument. */
typedef struct lsg_node {
    lsg_vkind kind;
    int line;
    long long i; /* V_BOOL, V_INT */
    double f;    /* V_FLOAT */
    const char *s;
    size_t len;
    int layer;
    int first, next;
    const char *kw;
    size_t kwlen;
} lsg_node;

typedef struct lsg_eval {
    const char *path;
    lsg_node *nodes;
    size_t n_nodes, cap_nodes;
    lsg_net *net;
    int cap_layers;
    int *uses; /* per layer: how many layers take it as input */
    snn_error *err;
} lsg_eval;

/* Sets an SNN_E_UNSUPPORTED or SNN_E_FORMAT error "path:line: ...". */
snn_status lsg_fail(lsg_eval *e, snn_status st, int line, const char *fmt,
                    ...) __attribute__((format(printf, 4, 5)));

/* Evaluates a call of `callee` (the last part of its dotted name) with the
 * argument list starting at node args; *out receives the result's node
 * (a layer, or opaque for anything not a layer). */
snn_status lsg_call(lsg_eval *e, const lsg_tok *callee, int args, int line,
                    lsg_node *out);

/* Whether a string node equals s. */
int lsg_str_is(const lsg_node *v, const char *s);

#endif
