/*
 * lasagne_script.c - reads a Lasagne model script as declarations,
 * without running Python.  The subset is what the original toolbox's
 * users write: imports (ignored), one `def build_network(...)` whose body
 * is assignments `name = expression`, docstrings and a `return` of the
 * output layer (or of a dict holding it under 'model').  Expressions are
 * literals, tuples, lists, dicts, names and calls; calls of Lasagne layer
 * classes build layers (lasagne_layers.c), calls of anything else give an
 * opaque value that only arguments Lasagne ignores at inference may take
 * (input_var=T.tensor4(), W=lasagne.init.Normal()).  Everything else is
 * an error naming the file and line.
 */
#include "lasagne_eval.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64 /* nesting of brackets and calls */

typedef struct binding {
    const char *name;
    size_t len;
    int node;
} binding;

typedef struct reader {
    lsg_eval e;
    const lsg_tok *t; /* the tokens, ending with TK_END */
    size_t pos;
    int depth;
    binding *vars;
    size_t n_vars;
    int output; /* returned layer, -1 until `return` */
} reader;

snn_status lsg_fail(lsg_eval *e, snn_status st, int line, const char *fmt,
                    ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return snn_error_set(e->err, st, "%s:%d: %s", e->path, line, what);
}

int lsg_str_is(const lsg_node *v, const char *s)
{
    return v->kind == V_STR && v->len == strlen(s) &&
           memcmp(v->s, s, v->len) == 0;
}

static const lsg_tok *peek(const reader *r)
{
    return &r->t[r->pos];
}

static int is_op(const lsg_tok *t, char c)
{
    return t->kind == TK_OP && t->s[0] == c;
}

static int is_word(const lsg_tok *t, const char *w)
{
    return t->kind == TK_NAME && t->len == strlen(w) &&
           memcmp(t->s, w, t->len) == 0;
}

static snn_status syntax(reader *r, const char *expected)
{
    const lsg_tok *t = peek(r);
    if (t->kind == TK_NEWLINE || t->kind == TK_END)
        return lsg_fail(&r->e, SNN_E_FORMAT, t->line,
                        "expected %s before the end of the line", expected);
    return lsg_fail(&r->e, SNN_E_FORMAT, t->line, "expected %s, found '%.*s'",
                    expected, (int)(t->len > 40 ? 40 : t->len), t->s);
}

static snn_status expect_op(reader *r, char c)
{
    char what[8];
    if (is_op(peek(r), c)) {
        r->pos++;
        return SNN_OK;
    }
    snprintf(what, sizeof what, "'%c'", c);
    return syntax(r, what);
}

/* ---- values --------------------------------------------------------- */

static snn_status new_node(reader *r, lsg_vkind kind, int line, int *idx)
{
    lsg_eval *e = &r->e;
    if (e->n_nodes == e->cap_nodes)
        return lsg_fail(e, SNN_E_FORMAT, line, "expression too large");
    lsg_node *v = &e->nodes[e->n_nodes];
    memset(v, 0, sizeof *v);
    v->kind = kind;
    v->line = line;
    v->first = v->next = -1;
    *idx = (int)e->n_nodes++;
    return SNN_OK;
}

static binding *lookup(reader *r, const char *name, size_t len)
{
    for (size_t i = 0; i < r->n_vars; i++)
        if (r->vars[i].len == len && memcmp(r->vars[i].name, name, len) == 0)
            return &r->vars[i];
    return NULL;
}

/* Vars live in an array sized by the token count: each binding needs a
 * NAME token of its own. */
static void bind(reader *r, const lsg_tok *name, int node)
{
    binding *b = lookup(r, name->s, name->len);
    if (!b) {
        b = &r->vars[r->n_vars++];
        b->name = name->s;
        b->len = name->len;
    }
    b->node = node;
}

static snn_status number(reader *r, const lsg_tok *t, int negate, int *idx)
{
    char buf[64];
    if (t->len >= sizeof buf || memchr(t->s, '_', t->len))
        return lsg_fail(&r->e, SNN_E_FORMAT, t->line, "bad number '%.*s'",
                        (int)(t->len > 40 ? 40 : t->len), t->s);
    memcpy(buf, t->s, t->len);
    buf[t->len] = '\0';
    int is_float = strpbrk(buf, ".eE") != NULL;
    char *end;
    errno = 0;
    double f = is_float ? strtod(buf, &end) : 0.0;
    long long i = is_float ? 0 : strtoll(buf, &end, 10);
    if (*end || errno || (!is_float && buf[0] == '0' && buf[1]))
        return lsg_fail(&r->e, SNN_E_FORMAT, t->line, "bad number '%s'", buf);
    snn_status st = new_node(r, is_float ? V_FLOAT : V_INT, t->line, idx);
    if (st == SNN_OK) {
        r->e.nodes[*idx].f = negate ? -f : f;
        r->e.nodes[*idx].i = negate ? -i : i;
    }
    return st;
}

static snn_status expr(reader *r, int *idx);

/* Items up to the closing bracket, linked under node idx; a dict reads
 * key: value pairs.  (x) without a comma is x itself, as in Python. */
static snn_status items(reader *r, char close, lsg_vkind kind, int line,
                        int *idx)
{
    snn_status st = new_node(r, kind, line, idx);
    int last = -1, n = 0, comma = 0;
    while (st == SNN_OK && !is_op(peek(r), close)) {
        int item;
        st = expr(r, &item);
        if (st == SNN_OK && kind == V_DICT) {
            int val;
            st = expect_op(r, ':');
            if (st == SNN_OK && (st = expr(r, &val)) == SNN_OK)
                r->e.nodes[item].next = val;
        }
        if (st != SNN_OK)
            break;
        if (last < 0)
            r->e.nodes[*idx].first = item;
        else
            r->e.nodes[last].next = item;
        last = kind == V_DICT ? r->e.nodes[item].next : item;
        n++;
        comma = is_op(peek(r), ',');
        if (comma)
            r->pos++;
        else if (!is_op(peek(r), close)) {
            char what[32];
            snprintf(what, sizeof what, "',' or '%c'", close);
            st = syntax(r, what);
        }
    }
    if (st == SNN_OK)
        r->pos++;
    if (st == SNN_OK && close == ')' && n == 1 && !comma)
        *idx = r->e.nodes[*idx].first;
    return st;
}

/* Call arguments: positional, then keyword (name=value). */
static snn_status arguments(reader *r, int *first)
{
    int last = -1, seen_kw = 0;
    *first = -1;
    while (!is_op(peek(r), ')')) {
        const lsg_tok *kw = NULL;
        if (peek(r)->kind == TK_NAME && is_op(&r->t[r->pos + 1], '=')) {
            kw = peek(r);
            r->pos += 2;
            seen_kw = 1;
        } else if (seen_kw) {
            return lsg_fail(&r->e, SNN_E_FORMAT, peek(r)->line,
                            "positional argument after a keyword argument");
        }
        int a;
        snn_status st = expr(r, &a);
        if (st != SNN_OK)
            return st;
        r->e.nodes[a].kw = kw ? kw->s : NULL;
        r->e.nodes[a].kwlen = kw ? kw->len : 0;
        r->e.nodes[a].next = -1;
        if (last < 0)
            *first = a;
        else
            r->e.nodes[last].next = a;
        last = a;
        if (is_op(peek(r), ','))
            r->pos++;
        else if (!is_op(peek(r), ')'))
            return syntax(r, "',' or ')'");
    }
    r->pos++;
    return SNN_OK;
}

/* A name as a value: a copy of what it is bound to (so that linking it
 * into a list cannot disturb the binding), a constant, or the last part of
 * an unbound dotted name (lasagne.nonlinearities.rectify). */
static snn_status name_value(reader *r, const lsg_tok *first,
                             const lsg_tok *last, int *idx)
{
    binding *b = first == last ? lookup(r, first->s, first->len) : NULL;
    lsg_vkind kind = is_word(last, "None") ? V_NONE
                   : is_word(last, "True") || is_word(last, "False") ? V_BOOL
                   : V_NAME;
    snn_status st = new_node(r, kind, last->line, idx);
    if (st != SNN_OK)
        return st;
    lsg_node *v = &r->e.nodes[*idx];
    if (b) {
        *v = r->e.nodes[b->node];
        v->next = -1;
        v->line = last->line;
    } else {
        v->i = is_word(last, "True");
        v->s = last->s;
        v->len = last->len;
    }
    return SNN_OK;
}

/* NAME(.NAME)* optionally followed by a call. */
static snn_status dotted(reader *r, int *idx)
{
    const lsg_tok *first = peek(r), *last = first;
    r->pos++;
    while (is_op(peek(r), '.')) {
        r->pos++;
        if (peek(r)->kind != TK_NAME)
            return syntax(r, "a name after '.'");
        last = &r->t[r->pos++];
    }
    if (!is_op(peek(r), '('))
        return name_value(r, first, last, idx);
    int line = peek(r)->line, args;
    r->pos++;
    snn_status st = arguments(r, &args);
    if (st == SNN_OK)
        st = new_node(r, V_OPAQUE, line, idx);
    if (st != SNN_OK)
        return st;
    lsg_node out;
    st = lsg_call(&r->e, last, args, line, &out);
    if (st == SNN_OK) {
        out.line = line;
        out.next = -1;
        r->e.nodes[*idx] = out;
    }
    return st;
}

static snn_status atom(reader *r, int *idx)
{
    const lsg_tok *t = peek(r);
    if (t->kind == TK_NAME && !is_word(t, "lambda") && !is_word(t, "not"))
        return dotted(r, idx);
    r->pos++;
    if (t->kind == TK_NUM)
        return number(r, t, 0, idx);
    if (is_op(t, '-') && peek(r)->kind == TK_NUM)
        return number(r, &r->t[r->pos++], 1, idx);
    if (t->kind == TK_STR) {
        if (peek(r)->kind == TK_STR)
            return lsg_fail(&r->e, SNN_E_FORMAT, t->line,
                            "adjacent strings are not read");
        snn_status st = new_node(r, V_STR, t->line, idx);
        if (st == SNN_OK) {
            r->e.nodes[*idx].s = t->s;
            r->e.nodes[*idx].len = t->len;
        }
        return st;
    }
    if (is_op(t, '('))
        return items(r, ')', V_TUPLE, t->line, idx);
    if (is_op(t, '['))
        return items(r, ']', V_TUPLE, t->line, idx);
    if (is_op(t, '{'))
        return items(r, '}', V_DICT, t->line, idx);
    r->pos--;
    return syntax(r, "a name, number, string, tuple, list or dict");
}

static snn_status expr(reader *r, int *idx)
{
    if (++r->depth > MAX_DEPTH)
        return lsg_fail(&r->e, SNN_E_FORMAT, peek(r)->line,
                        "expression nested too deeply");
    snn_status st = atom(r, idx);
    r->depth--;
    const lsg_tok *t = peek(r);
    if (st == SNN_OK && !(t->kind == TK_NEWLINE || is_op(t, ',') ||
                          is_op(t, ')') || is_op(t, ']') || is_op(t, '}') ||
                          is_op(t, ':')))
        return lsg_fail(&r->e, SNN_E_FORMAT, t->line,
                        "only names, literals and calls are read; found "
                        "'%.*s' in an expression",
                        (int)(t->len > 40 ? 40 : t->len), t->s);
    return st;
}

/* ---- statements ----------------------------------------------------- */

static snn_status end_of_line(reader *r)
{
    if (peek(r)->kind != TK_NEWLINE)
        return syntax(r, "the end of the line");
    r->pos++;
    return SNN_OK;
}

static void skip_line(reader *r)
{
    while (peek(r)->kind != TK_NEWLINE && peek(r)->kind != TK_END)
        r->pos++;
    if (peek(r)->kind == TK_NEWLINE)
        r->pos++;
}

static snn_status returned_layer(reader *r, int node, int line)
{
    lsg_node *v = &r->e.nodes[node];
    if (v->kind == V_DICT) {
        int k = v->first;
        while (k >= 0 && !lsg_str_is(&r->e.nodes[k], "model"))
            k = r->e.nodes[r->e.nodes[k].next].next;
        if (k < 0)
            return lsg_fail(&r->e, SNN_E_FORMAT, line,
                            "the returned dict has no 'model' entry");
        v = &r->e.nodes[r->e.nodes[k].next];
    }
    if (v->kind != V_LAYER)
        return lsg_fail(&r->e, SNN_E_FORMAT, line,
                        "build_network must return its output layer or a "
                        "dict with the output layer under 'model'");
    r->output = v->layer;
    return SNN_OK;
}

static snn_status body_statement(reader *r)
{
    const lsg_tok *t = peek(r);
    int node;
    if (t->kind == TK_STR && r->t[r->pos + 1].kind == TK_NEWLINE) {
        r->pos += 2; /* a docstring */
        return SNN_OK;
    }
    if (is_word(t, "return")) {
        if (r->output >= 0)
            return lsg_fail(&r->e, SNN_E_FORMAT, t->line, "second return");
        r->pos++;
        snn_status st = expr(r, &node);
        if (st == SNN_OK)
            st = returned_layer(r, node, t->line);
        return st == SNN_OK ? end_of_line(r) : st;
    }
    if (t->kind == TK_NAME && is_op(&r->t[r->pos + 1], '=')) {
        r->pos += 2;
        snn_status st = expr(r, &node);
        if (st == SNN_OK)
            bind(r, t, node);
        return st == SNN_OK ? end_of_line(r) : st;
    }
    return lsg_fail(&r->e, SNN_E_UNSUPPORTED, t->line,
                    "only assignments 'name = expression' and a return are "
                    "read inside build_network");
}

/* def build_network(arg, arg=default, ...): binds each argument to its
 * default (or an opaque value), then reads the indented body. */
static snn_status build_network(reader *r)
{
    int line = peek(r)->line;
    r->pos++;
    if (!is_word(peek(r), "build_network"))
        return lsg_fail(&r->e, SNN_E_UNSUPPORTED, line,
                        "only the function build_network() is read");
    r->pos++;
    snn_status st = expect_op(r, '(');
    while (st == SNN_OK && !is_op(peek(r), ')')) {
        const lsg_tok *name = peek(r);
        int node;
        if (name->kind != TK_NAME)
            return syntax(r, "an argument name");
        r->pos++;
        if (is_op(peek(r), '=')) {
            r->pos++;
            st = expr(r, &node);
        } else {
            st = new_node(r, V_OPAQUE, name->line, &node);
        }
        if (st == SNN_OK)
            bind(r, name, node);
        if (st == SNN_OK && is_op(peek(r), ','))
            r->pos++;
        else if (st == SNN_OK && !is_op(peek(r), ')'))
            st = syntax(r, "',' or ')'");
    }
    if (st == SNN_OK && (st = expect_op(r, ')')) == SNN_OK &&
        (st = expect_op(r, ':')) == SNN_OK)
        st = end_of_line(r);
    int indent = peek(r)->indent;
    if (st == SNN_OK && indent <= 0)
        return lsg_fail(&r->e, SNN_E_FORMAT, peek(r)->line,
                        "build_network has no indented body");
    while (st == SNN_OK && peek(r)->indent > 0) {
        if (peek(r)->indent != indent)
            return lsg_fail(&r->e, SNN_E_UNSUPPORTED, peek(r)->line,
                            "unexpected indentation: blocks (if, for, with) "
                            "are not read");
        st = body_statement(r);
    }
    return st;
}

static snn_status module(reader *r)
{
    int seen = 0;
    while (peek(r)->kind != TK_END) {
        const lsg_tok *t = peek(r);
        snn_status st = SNN_OK;
        if (t->indent != 0)
            return lsg_fail(&r->e, SNN_E_FORMAT, t->line,
                            "unexpected indentation");
        if (is_word(t, "import") || is_word(t, "from"))
            skip_line(r);
        else if (t->kind == TK_STR && r->t[r->pos + 1].kind == TK_NEWLINE)
            r->pos += 2;
        else if (is_word(t, "def") && !seen++)
            st = build_network(r);
        else
            return lsg_fail(&r->e, SNN_E_UNSUPPORTED, t->line,
                            "only imports and one 'def build_network()' are "
                            "read at the top level of a model script");
        if (st != SNN_OK)
            return st;
    }
    if (!seen || r->output < 0)
        return lsg_fail(&r->e, SNN_E_FORMAT, peek(r)->line,
                        "no build_network() returning a layer");
    return SNN_OK;
}

/* Lasagne's get_all_layers(output): depth first from the output, inputs
 * in order, each layer after its inputs.  set_all_param_values assigns
 * the parameters in that order and the builder in creation order, so the
 * two must agree; every layer must be part of the returned network. */
static snn_status check_order(reader *r)
{
    lsg_net *net = r->e.net;
    int n = net->n, top = 0, m = 0;
    if (r->output != n - 1)
        return lsg_fail(&r->e, SNN_E_UNSUPPORTED, net->layers[n - 1].line,
                        "layer '%s' is created after the returned output "
                        "layer", net->layers[n - 1].name);
    int *stack = malloc(((size_t)n * SNN_MAX_INPUTS + 1) * sizeof *stack);
    int *order = malloc((size_t)n * sizeof *order);
    char *state = calloc((size_t)n, 1); /* 1 seen, 2 placed */
    if (!stack || !order || !state) {
        free(stack);
        free(order);
        free(state);
        return snn_error_set(r->e.err, SNN_E_NOMEM, "%s: out of memory",
                             r->e.path);
    }
    stack[top++] = n - 1;
    while (top > 0) {
        int l = stack[top - 1];
        const lsg_layer *ly = &net->layers[l];
        if (!state[l]) {
            state[l] = 1;
            for (int k = ly->n_inputs - 1; k >= 0; k--)
                stack[top++] = ly->inputs[k];
            if (!ly->n_inputs && ly->input >= 0)
                stack[top++] = ly->input;
            continue;
        }
        top--;
        if (state[l] == 1) {
            state[l] = 2;
            order[m++] = l;
        }
    }
    snn_status st = SNN_OK;
    for (int i = 0; st == SNN_OK && i < n; i++)
        if (!state[i])
            st = lsg_fail(&r->e, SNN_E_UNSUPPORTED, net->layers[i].line,
                          "layer '%s' is not part of the returned network",
                          net->layers[i].name);
    for (int i = 0; st == SNN_OK && i < m; i++)
        if (order[i] != i)
            st = lsg_fail(&r->e, SNN_E_UNSUPPORTED,
                          net->layers[order[i]].line,
                          "layer '%s' takes its parameters before '%s' in "
                          "Lasagne's order (get_all_layers: inputs first, in "
                          "order): create the layers in that order",
                          net->layers[order[i]].name, net->layers[i].name);
    free(stack);
    free(order);
    free(state);
    return st;
}

static snn_status read_tokens(reader *r, const lsg_toks *toks)
{
    r->t = toks->t;
    r->e.cap_nodes = toks->n + 1;
    r->e.nodes = calloc(r->e.cap_nodes, sizeof *r->e.nodes);
    r->vars = calloc(toks->n + 1, sizeof *r->vars);
    if (!r->e.nodes || !r->vars)
        return snn_error_set(r->e.err, SNN_E_NOMEM, "%s: out of memory",
                             r->e.path);
    snn_status st = module(r);
    return st == SNN_OK ? check_order(r) : st;
}

snn_status lsg_read_script(const char *path, lsg_net *net, snn_error *err)
{
    memset(net, 0, sizeof *net);
    lsg_toks toks;
    snn_status st = lsg_lex(path, &toks, err);
    if (st != SNN_OK)
        return st;
    reader r = {.e = {.path = path, .net = net, .err = err}, .output = -1};
    st = read_tokens(&r, &toks);
    free(r.e.nodes);
    free(r.e.uses);
    free(r.vars);
    lsg_toks_free(&toks);
    if (st != SNN_OK)
        lsg_net_free(net);
    return st;
}

void lsg_net_free(lsg_net *net)
{
    free(net->layers);
    memset(net, 0, sizeof *net);
}
