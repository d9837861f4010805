/*
 * lasagne_lex.c - tokenizes a Lasagne model script.  Python's own rules
 * where a model script can meet them (comments, implicit line joining
 * inside brackets, backslash continuations, single- and triple-quoted
 * strings with r/u prefixes); any other character is an error naming the
 * line, so nothing the reader does not understand slips through.
 */
#include "lasagne_lex.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"

#define SCRIPT_MAX (1u << 20) /* model scripts are a few KB */

typedef struct lexer {
    const char *path;
    const char *p, *end;
    int line;
    int depth;       /* open brackets: newlines inside do not end a line */
    int open_line;   /* where the outermost open bracket is */
    int line_start;  /* the next token starts a logical line */
    int indent;
    lsg_toks *out;
    size_t cap;
    snn_error *err;
} lexer;

static snn_status lex_fail(lexer *x, const char *what)
{
    return snn_error_set(x->err, SNN_E_FORMAT, "%s:%d: %s", x->path, x->line,
                         what);
}

static snn_status emit(lexer *x, lsg_tok_kind kind, const char *s,
                       size_t len, int line)
{
    lsg_toks *o = x->out;
    if (o->n == x->cap) {
        size_t cap = x->cap ? 2 * x->cap : 256;
        lsg_tok *t = realloc(o->t, cap * sizeof *t);
        if (!t)
            return snn_error_set(x->err, SNN_E_NOMEM, "%s: out of memory",
                                 x->path);
        o->t = t;
        x->cap = cap;
    }
    lsg_tok *t = &o->t[o->n++];
    t->kind = kind;
    t->line = line;
    t->indent = x->line_start && kind != TK_NEWLINE ? x->indent : -1;
    t->s = s;
    t->len = len;
    if (kind != TK_NEWLINE)
        x->line_start = 0;
    return SNN_OK;
}

static snn_status end_line(lexer *x)
{
    size_t n = x->out->n;
    int pending = n > 0 && x->out->t[n - 1].kind != TK_NEWLINE;
    x->line_start = 1;
    x->indent = 0;
    return pending ? emit(x, TK_NEWLINE, x->p, 0, x->line) : SNN_OK;
}

/* Leading whitespace of a physical line that starts a logical one; tabs
 * advance to the next multiple of 8, as Python counts them. */
static void measure_indent(lexer *x)
{
    int col = 0;
    while (x->p < x->end && (*x->p == ' ' || *x->p == '\t' || *x->p == '\f')) {
        col = *x->p == '\t' ? (col / 8 + 1) * 8 : col + 1;
        x->p++;
    }
    x->indent = col;
}

static int is_prefix(const char *s, size_t len)
{
    return (len == 1 && strchr("rRuU", s[0])) ||
           (len == 2 && strchr("rRuU", s[0]) && strchr("rRuU", s[1]) &&
            tolower((unsigned char)s[0]) != tolower((unsigned char)s[1]));
}

static snn_status lex_string(lexer *x)
{
    char q = *x->p;
    int line = x->line;
    int triple = x->end - x->p >= 3 && x->p[1] == q && x->p[2] == q;
    size_t qlen = triple ? 3 : 1;
    const char *start = x->p + qlen;
    for (const char *p = start; p < x->end; p++) {
        if (*p == '\\' && p + 1 < x->end) {
            x->line += p[1] == '\n';
            p++;
        } else if (*p == '\n' && !triple) {
            break;
        } else if (*p == '\n') {
            x->line++;
        } else if (*p == q && (!triple || (x->end - p >= 3 && p[1] == q &&
                                            p[2] == q))) {
            x->p = p + qlen;
            return emit(x, TK_STR, start, (size_t)(p - start), line);
        }
    }
    x->line = line;
    return lex_fail(x, "unterminated string");
}

static snn_status lex_name(lexer *x)
{
    const char *s = x->p;
    while (x->p < x->end && (isalnum((unsigned char)*x->p) || *x->p == '_'))
        x->p++;
    if (x->p < x->end && (*x->p == '\'' || *x->p == '"')) {
        if (!is_prefix(s, (size_t)(x->p - s)))
            return lex_fail(x, "only plain, r'' and u'' strings are read");
        return lex_string(x);
    }
    return emit(x, TK_NAME, s, (size_t)(x->p - s), x->line);
}

static snn_status lex_number(lexer *x)
{
    const char *s = x->p;
    while (x->p < x->end &&
           (isalnum((unsigned char)*x->p) || *x->p == '.' || *x->p == '_' ||
            ((*x->p == '+' || *x->p == '-') &&
             (x->p[-1] == 'e' || x->p[-1] == 'E'))))
        x->p++;
    return emit(x, TK_NUM, s, (size_t)(x->p - s), x->line);
}

static snn_status lex_op(lexer *x)
{
    char c = *x->p;
    if (!strchr("()[]{},=:.-+*", c)) {
        char what[64];
        if (isprint((unsigned char)c))
            snprintf(what, sizeof what, "unexpected character '%c'", c);
        else
            snprintf(what, sizeof what, "unexpected byte 0x%02x",
                     (unsigned)(unsigned char)c);
        return lex_fail(x, what);
    }
    if (strchr("([{", c) && x->depth++ == 0)
        x->open_line = x->line;
    if (strchr(")]}", c) && --x->depth < 0)
        return lex_fail(x, "unmatched closing bracket");
    x->p++;
    return emit(x, TK_OP, x->p - 1, 1, x->line);
}

/* One token, or whitespace, a comment or a line end. */
static snn_status lex_one(lexer *x)
{
    char c = *x->p;
    if (c == ' ' || c == '\t' || c == '\f' || c == '\r') {
        x->p++;
    } else if (c == '#') {
        while (x->p < x->end && *x->p != '\n')
            x->p++;
    } else if (c == '\\' && x->p + 1 < x->end && x->p[1] == '\n') {
        x->p += 2;
        x->line++;
    } else if (c == '\n') {
        x->p++;
        x->line++;
        if (x->depth == 0) {
            snn_status st = end_line(x);
            measure_indent(x);
            return st;
        }
    } else if (isalpha((unsigned char)c) || c == '_') {
        return lex_name(x);
    } else if (isdigit((unsigned char)c) ||
               (c == '.' && x->p + 1 < x->end &&
                isdigit((unsigned char)x->p[1]))) {
        return lex_number(x);
    } else if (c == '\'' || c == '"') {
        return lex_string(x);
    } else {
        return lex_op(x);
    }
    return SNN_OK;
}

snn_status lsg_lex(const char *path, lsg_toks *out, snn_error *err)
{
    memset(out, 0, sizeof *out);
    size_t len = 0;
    snn_status st = snn_read_text(path, SCRIPT_MAX, "a Python model script",
                                  &out->text, &len, err);
    if (st != SNN_OK)
        return st;
    lexer x = {.path = path, .p = out->text, .end = out->text + len,
               .line = 1, .line_start = 1, .out = out, .err = err};
    measure_indent(&x);
    while (st == SNN_OK && x.p < x.end)
        st = lex_one(&x);
    if (st == SNN_OK && x.depth > 0) {
        x.line = x.open_line;
        st = lex_fail(&x, "bracket opened here is never closed");
    }
    if (st == SNN_OK)
        st = end_line(&x);
    if (st == SNN_OK)
        st = emit(&x, TK_END, x.p, 0, x.line);
    if (st != SNN_OK)
        lsg_toks_free(out);
    return st;
}

void lsg_toks_free(lsg_toks *toks)
{
    free(toks->text);
    free(toks->t);
    memset(toks, 0, sizeof *toks);
}
