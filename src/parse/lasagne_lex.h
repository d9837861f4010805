/*
 * lasagne_lex.h - Python tokens, as far as Lasagne model scripts need
 * them: names, numbers, strings, brackets and the few operators of
 * assignments and calls, grouped into logical lines with their
 * indentation.  Internal to the Lasagne reader.
 */
#ifndef SNNTB_PARSE_LASAGNE_LEX_H
#define SNNTB_PARSE_LASAGNE_LEX_H

#include <stddef.h>

#include "snntb/status.h"

typedef enum lsg_tok_kind {
    TK_NAME,
    TK_NUM,
    TK_STR,     /* s, len: the text between the quotes, undecoded */
    TK_OP,      /* one character */
    TK_NEWLINE, /* end of a logical line */
    TK_END
} lsg_tok_kind;

typedef struct lsg_tok {
    lsg_tok_kind kind;
    int line;
    int indent; /* column of a logical line's first token; -1 elsewhere */
    const char *s;
    size_t len;
} lsg_tok;

typedef struct lsg_toks {
    char *text; /* the script, which the tokens point into */
    lsg_tok *t;
    size_t n;
} lsg_toks;

/* Reads and tokenizes the script at path; errors name path and line. */
snn_status lsg_lex(const char *path, lsg_toks *out, snn_error *err);
void lsg_toks_free(lsg_toks *toks);

#endif
