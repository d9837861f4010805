/*
 * pyliteral.c - a recursive-descent reader for the Python literals that the
 * original toolbox's config files hold (it eval()s them), plus Python's
 * int()/float() text rules and configparser's boolean words.
 *
 * Config files are user input, so the reader never trusts the text: it
 * bounds nesting, checks every index against the string's end and reports
 * where the text stopped being a literal.
 */
#include "core/strbuf.h"
#include "pyliteral.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Deep enough for any real config, shallow enough for the C stack. */
#define MAX_DEPTH 100

typedef struct reader {
    const char *s;
    size_t pos;
    int depth;
    char *why;
    size_t whysize;
} reader;

/* A growing byte string for decoded string literals. */
typedef snn_strbuf bytes;

static py_value *parse_expr(reader *r);

/* ---- characters ---------------------------------------------------- */

/* The ASCII characters Python's str.strip() and int() treat as space. */
static int is_pyspace(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
           c == '\f' || (c >= 0x1c && c <= 0x1f);
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static int is_ident_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_ident(char c) { return is_ident_start(c) || is_digit(c); }

static int hex_value(char c)
{
    if (is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static int equals_nocase(const char *a, size_t alen, const char *b)
{
    if (alen != strlen(b))
        return 0;
    for (size_t i = 0; i < alen; i++)
        if (lower(a[i]) != b[i])
            return 0;
    return 1;
}

/* ---- numbers --------------------------------------------------------- */

/* Length of a digit run where single underscores may separate digits
 * (Python's digitpart), or 0. */
static size_t scan_digits(const char *s)
{
    size_t n = 0;
    if (!is_digit(s[0]))
        return 0;
    while (is_digit(s[n]) || (s[n] == '_' && is_digit(s[n + 1])))
        n++;
    return n;
}

/* Length of an unsigned Python decimal number at s (int or float), or 0;
 * *is_float tells which. */
static size_t scan_number(const char *s, int *is_float)
{
    size_t n = scan_digits(s);
    *is_float = 0;
    if (s[n] == '.') {
        size_t frac = scan_digits(s + n + 1);
        if (n == 0 && frac == 0)
            return 0;
        n += 1 + frac;
        *is_float = 1;
    }
    if (n == 0)
        return 0;
    if (s[n] == 'e' || s[n] == 'E') {
        size_t sign = (s[n + 1] == '+' || s[n + 1] == '-') ? 1 : 0;
        size_t exp = scan_digits(s + n + 1 + sign);
        if (exp) {
            n += 1 + sign + exp;
            *is_float = 1;
        }
    }
    return n;
}

/* Copies n bytes of a number without its underscores; NULL on no memory. */
static char *number_copy(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] != '_')
            out[k++] = s[i];
    out[k] = '\0';
    return out;
}

/* The text between leading and trailing Python whitespace. */
static void strip_span(const char *s, const char **start, size_t *len)
{
    size_t n = strlen(s);
    while (n && is_pyspace(*s)) {
        s++;
        n--;
    }
    while (n && is_pyspace(s[n - 1]))
        n--;
    *start = s;
    *len = n;
}

int py_text_to_int(const char *s, long *out)
{
    const char *p;
    size_t n;
    strip_span(s, &p, &n);
    size_t sign = (n && (p[0] == '+' || p[0] == '-')) ? 1 : 0;
    int is_float;
    if (scan_number(p + sign, &is_float) != n - sign || n == sign || is_float)
        return 0;
    char *digits = number_copy(p, n);
    if (!digits)
        return 0;
    errno = 0;
    long v = strtol(digits, NULL, 10);
    int ok = errno == 0;
    free(digits);
    if (ok)
        *out = v;
    return ok;
}

int py_text_to_float(const char *s, double *out)
{
    const char *p;
    size_t n;
    strip_span(s, &p, &n);
    size_t sign = (n && (p[0] == '+' || p[0] == '-')) ? 1 : 0;
    double mag;
    int is_float;
    if (equals_nocase(p + sign, n - sign, "inf") ||
        equals_nocase(p + sign, n - sign, "infinity")) {
        mag = HUGE_VAL;
    } else if (equals_nocase(p + sign, n - sign, "nan")) {
        mag = NAN;
    } else if (n > sign && scan_number(p + sign, &is_float) == n - sign) {
        char *digits = number_copy(p + sign, n - sign);
        if (!digits)
            return 0;
        mag = strtod(digits, NULL);
        free(digits);
    } else {
        return 0;
    }
    *out = (sign && p[0] == '-') ? -mag : mag;
    return 1;
}

int py_text_to_bool(const char *s, int *out)
{
    static const char *const truths[] = {"1", "yes", "true", "on"};
    static const char *const lies[] = {"0", "no", "false", "off"};
    size_t n = strlen(s);
    for (size_t i = 0; i < 4; i++) {
        if (equals_nocase(s, n, truths[i])) {
            *out = 1;
            return 1;
        }
        if (equals_nocase(s, n, lies[i])) {
            *out = 0;
            return 1;
        }
    }
    return 0;
}

/* ---- values ---------------------------------------------------------- */

const char *py_kind_name(py_kind kind)
{
    switch (kind) {
    case PY_NONE: return "None";
    case PY_BOOL: return "a bool";
    case PY_INT: return "an int";
    case PY_FLOAT: return "a float";
    case PY_STR: return "a string";
    case PY_LIST: return "a list";
    case PY_TUPLE: return "a tuple";
    case PY_SET: return "a set";
    case PY_DICT: return "a dict";
    }
    return "an unknown value";
}

void py_value_free(py_value *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n; i++)
        py_value_free(v->items[i]);
    free(v->items);
    free(v->text);
    free(v);
}

static void *fail(reader *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Records the first failure only: later ones are consequences. */
static void *fail(reader *r, const char *fmt, ...)
{
    if (r->why && r->why[0] == '\0') {
        char msg[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        snprintf(r->why, r->whysize, "%s at offset %zu", msg, r->pos);
    }
    return NULL;
}

static py_value *new_value(reader *r, py_kind kind)
{
    py_value *v = calloc(1, sizeof *v);
    if (!v)
        return fail(r, "out of memory");
    v->kind = kind;
    return v;
}

static int append_item(reader *r, py_value *c, py_value *item)
{
    if (!item)
        return 0;
    /* Capacity is the next power of two, so grow exactly at those. */
    if ((c->n & (c->n - 1)) == 0) {
        size_t cap = c->n ? c->n * 2 : 1;
        py_value **grown = realloc(c->items, cap * sizeof *grown);
        if (!grown) {
            py_value_free(item);
            fail(r, "out of memory");
            return 0;
        }
        c->items = grown;
    }
    c->items[c->n++] = item;
    return 1;
}

/* Whitespace, newlines and # comments between tokens (eval allows a
 * trailing comment, and multi-line values break lines inside brackets). */
static char peek(reader *r)
{
    for (;;) {
        char c = r->s[r->pos];
        if (is_pyspace(c)) {
            r->pos++;
        } else if (c == '#') {
            while (r->s[r->pos] && r->s[r->pos] != '\n')
                r->pos++;
        } else if (c == '\\' && r->s[r->pos + 1] == '\n') {
            r->pos += 2;
        } else {
            return c;
        }
    }
}

/* ---- strings --------------------------------------------------------- */

static int bytes_put(bytes *b, const char *p, size_t n)
{
    return snn_strbuf_put(b, p, n, (size_t)-1 / 2);
}

static int put_utf8(bytes *b, unsigned long cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return bytes_put(b, u, n);
}

/* Reads exactly `digits` hex digits after \x, \u or \U. */
static int hex_escape(reader *r, int digits, unsigned long *cp)
{
    unsigned long v = 0;
    for (int i = 0; i < digits; i++) {
        int h = hex_value(r->s[r->pos + (size_t)i]);
        if (h < 0) {
            fail(r, "truncated \\x, \\u or \\U escape");
            return 0;
        }
        v = v * 16 + (unsigned long)h;
    }
    r->pos += (size_t)digits;
    *cp = v;
    return 1;
}

/* Decodes the escape after a backslash (r->pos is past the backslash). */
static int escape(reader *r, bytes *b)
{
    static const char simple_in[] = "\\'\"abfnrtv";
    static const char simple_out[] = "\\'\"\a\b\f\n\r\t\v";
    char c = r->s[r->pos];
    const char *hit = c ? strchr(simple_in, c) : NULL;
    if (c == '\n') {
        r->pos++;
        return 1;
    }
    if (hit) {
        r->pos++;
        return bytes_put(b, &simple_out[hit - simple_in], 1);
    }
    if (c >= '0' && c <= '7') {
        unsigned long v = 0;
        for (int i = 0; i < 3 && r->s[r->pos] >= '0' && r->s[r->pos] <= '7'; i++)
            v = v * 8 + (unsigned long)(r->s[r->pos++] - '0');
        return put_utf8(b, v);
    }
    if (c == 'x' || c == 'u' || c == 'U') {
        unsigned long cp;
        r->pos++;
        if (!hex_escape(r, c == 'x' ? 2 : c == 'u' ? 4 : 8, &cp))
            return 0;
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            fail(r, "escape \\%c names no Unicode character", c);
            return 0;
        }
        return put_utf8(b, cp);
    }
    if (c == 'N') {
        fail(r, "\\N{...} escapes are not supported");
        return 0;
    }
    /* Python keeps unknown escapes as written. */
    return bytes_put(b, "\\", 1);
}

/* One quoted string (prefix already consumed), appended to b. */
static int string_body(reader *r, bytes *b, int raw)
{
    char q = r->s[r->pos];
    int triple = r->s[r->pos + 1] == q && r->s[r->pos + 2] == q;
    size_t qlen = triple ? 3 : 1;
    r->pos += qlen;
    for (;;) {
        char c = r->s[r->pos];
        if (c == '\0' || (c == '\n' && !triple)) {
            fail(r, "unterminated string");
            return 0;
        }
        if (c == q && (!triple || (r->s[r->pos + 1] == q &&
                                   r->s[r->pos + 2] == q))) {
            r->pos += qlen;
            return 1;
        }
        r->pos++;
        if (c == '\\' && raw) {
            if (!bytes_put(b, &c, 1))
                return 0;
            c = r->s[r->pos];
            if (c == '\0')
                continue;
            r->pos++;
        } else if (c == '\\') {
            if (!escape(r, b))
                return 0;
            continue;
        }
        if (!bytes_put(b, &c, 1)) {
            fail(r, "out of memory");
            return 0;
        }
    }
}

/* Length of a string prefix (r, u, any case) before a quote at s, or -1
 * when no string starts at s. */
static int string_start(const char *s)
{
    if (s[0] == '\'' || s[0] == '"')
        return 0;
    char c = lower(s[0]);
    if ((c == 'r' || c == 'u') && (s[1] == '\'' || s[1] == '"'))
        return 1;
    return -1;
}

/* A string literal, with adjacent literals concatenated as in Python. */
static py_value *parse_string(reader *r)
{
    bytes b = {0};
    if (!bytes_put(&b, "", 0))
        return fail(r, "out of memory");
    int prefix;
    while (peek(r), (prefix = string_start(r->s + r->pos)) >= 0) {
        int raw = prefix && lower(r->s[r->pos]) == 'r';
        r->pos += (size_t)prefix;
        if (!string_body(r, &b, raw)) {
            free(b.p);
            /* Only a failed allocation has left no reason yet. */
            return fail(r, "out of memory");
        }
    }
    py_value *v = new_value(r, PY_STR);
    if (!v) {
        free(b.p);
        return NULL;
    }
    v->text = b.p;
    v->len = b.len;
    return v;
}

/* ---- atoms ----------------------------------------------------------- */

static py_value *parse_number(reader *r, int negative)
{
    const char *s = r->s + r->pos;
    int is_float;
    size_t n = scan_number(s, &is_float);
    if (n == 0)
        return fail(r, "expected a number");
    if (!is_float && s[0] == '0' && strspn(s, "0_") < n)
        return fail(r, "leading zeros in a decimal integer are not allowed");
    py_value *v = new_value(r, is_float ? PY_FLOAT : PY_INT);
    if (!v)
        return NULL;
    v->text = number_copy(s, n);
    if (!v->text) {
        py_value_free(v);
        return fail(r, "out of memory");
    }
    errno = 0;
    if (is_float)
        v->f = strtod(v->text, NULL);
    else
        v->i = strtoll(v->text, NULL, 10);
    if (!is_float && errno == ERANGE) {
        py_value_free(v);
        return fail(r, "integer %.40s does not fit in 64 bits", s);
    }
    v->len = strlen(v->text);
    if (negative) {
        v->f = -v->f;
        v->i = -v->i;
    }
    r->pos += n;
    return v;
}

static py_value *parse_signed(reader *r)
{
    int negative = r->s[r->pos] == '-';
    r->pos++;
    peek(r);
    py_value *v = parse_number(r, negative);
    if (v && negative) {
        /* Keep the sign in the text that list items report. */
        char *signed_text = malloc(v->len + 2);
        if (!signed_text) {
            py_value_free(v);
            return fail(r, "out of memory");
        }
        signed_text[0] = '-';
        memcpy(signed_text + 1, v->text, v->len + 1);
        free(v->text);
        v->text = signed_text;
        v->len++;
    }
    return v;
}

/* `a * b` or `a / b` of two numbers (left to right, as eval does), so
 * that configs may write {'rescale': 1./255}: computed in double (an
 * int * int stays an int) like Python; the text is the result. */
static py_value *apply_op(reader *r, py_value *a, char op, py_value *b)
{
    int ints = a->kind == PY_INT && b->kind == PY_INT && op == '*';
    double x = a->kind == PY_INT ? (double)a->i : a->f;
    double y = b->kind == PY_INT ? (double)b->i : b->f;
    long long product = 0;
    int overflow = ints && __builtin_mul_overflow(a->i, b->i, &product);
    py_value_free(b);
    if ((op == '/' && y == 0) || overflow) {
        py_value_free(a);
        return fail(r, overflow ? "integer product does not fit in 64 bits"
                                : "division by zero");
    }
    char text[64];
    a->kind = ints ? PY_INT : PY_FLOAT;
    a->i = product;
    a->f = op == '*' ? x * y : x / y;
    if (ints)
        snprintf(text, sizeof text, "%lld", product);
    else
        snprintf(text, sizeof text, "%.17g", a->f);
    free(a->text);
    a->text = strdup(text);
    a->len = a->text ? strlen(a->text) : 0;
    if (!a->text) {
        py_value_free(a);
        return fail(r, "out of memory");
    }
    return a;
}

/* A number, or numbers joined by * and / (not //). */
static py_value *parse_arith(reader *r, py_value *v)
{
    char op;
    while (v && (v->kind == PY_INT || v->kind == PY_FLOAT) &&
           ((op = peek(r)) == '*' || op == '/') &&
           r->s[r->pos + 1] != op) {
        r->pos++;
        char c = peek(r);
        const char *s = r->s + r->pos;
        py_value *b = c == '-' || c == '+' ? parse_signed(r)
                      : is_digit(c) || (c == '.' && is_digit(s[1]))
                          ? parse_number(r, 0)
                          : fail(r, "expected a number after '%c'", op);
        if (!b) {
            py_value_free(v);
            return NULL;
        }
        v = apply_op(r, v, op, b);
    }
    return v;
}

static py_value *parse_name(reader *r)
{
    const char *s = r->s + r->pos;
    size_t n = 0;
    while (is_ident(s[n]))
        n++;
    py_value *v = NULL;
    if (n == 4 && memcmp(s, "True", 4) == 0) {
        if ((v = new_value(r, PY_BOOL)))
            v->b = 1;
    } else if (n == 5 && memcmp(s, "False", 5) == 0) {
        v = new_value(r, PY_BOOL);
    } else if (n == 4 && memcmp(s, "None", 4) == 0) {
        v = new_value(r, PY_NONE);
    } else {
        return fail(r, "'%.*s' is not a literal (strings need quotes)",
                    (int)(n > 40 ? 40 : n), s);
    }
    r->pos += n;
    return v;
}

/* ---- containers ------------------------------------------------------ */

static int is_unhashable(const py_value *v)
{
    return v->kind == PY_LIST || v->kind == PY_SET || v->kind == PY_DICT;
}

/* Items after the first, up to the closing character: `, item` repeated,
 * a trailing comma allowed.  For a dict every item is `key: value`. */
static py_value *parse_rest(reader *r, py_value *c, char close)
{
    for (;;) {
        char p = peek(r);
        if (p == close) {
            if (close)
                r->pos++;
            return c;
        }
        if (p != ',') {
            py_value_free(c);
            return close ? fail(r, "expected ',' or '%c'", close)
                         : fail(r, "expected ',' or the end");
        }
        r->pos++;
        if (peek(r) == close)
            continue;
        py_value *item = parse_expr(r);
        if (!append_item(r, c, item) ||
            ((c->kind == PY_SET || c->kind == PY_DICT) && is_unhashable(item))) {
            py_value_free(c);
            return fail(r, "unhashable item in a set or dict key");
        }
        if (c->kind != PY_DICT)
            continue;
        if (peek(r) != ':') {
            py_value_free(c);
            return fail(r, "expected ':' in a dict");
        }
        r->pos++;
        if (!append_item(r, c, parse_expr(r))) {
            py_value_free(c);
            return NULL;
        }
    }
}

static py_value *parse_list(reader *r)
{
    py_value *c = new_value(r, PY_LIST);
    if (!c)
        return NULL;
    r->pos++;
    if (peek(r) == ']') {
        r->pos++;
        return c;
    }
    if (!append_item(r, c, parse_expr(r))) {
        py_value_free(c);
        return NULL;
    }
    return parse_rest(r, c, ']');
}

/* `(x)` is x itself; `()`, `(x,)` and `(x, y)` are tuples. */
static py_value *parse_paren(reader *r)
{
    r->pos++;
    if (peek(r) == ')') {
        r->pos++;
        return new_value(r, PY_TUPLE);
    }
    py_value *first = parse_expr(r);
    if (!first)
        return NULL;
    if (peek(r) == ')') {
        r->pos++;
        return first;
    }
    py_value *c = new_value(r, PY_TUPLE);
    if (!c || !append_item(r, c, first)) {
        if (c)
            py_value_free(c);
        else
            py_value_free(first);
        return NULL;
    }
    return parse_rest(r, c, ')');
}

/* `{}` is an empty dict; the first item decides between set and dict. */
static py_value *parse_brace(reader *r)
{
    r->pos++;
    if (peek(r) == '}') {
        r->pos++;
        return new_value(r, PY_DICT);
    }
    py_value *first = parse_expr(r);
    if (!first)
        return NULL;
    int is_dict = peek(r) == ':';
    py_value *c = new_value(r, is_dict ? PY_DICT : PY_SET);
    if (!c || !append_item(r, c, first)) {
        if (c)
            py_value_free(c);
        else
            py_value_free(first);
        return NULL;
    }
    if (is_unhashable(first)) {
        py_value_free(c);
        return fail(r, "unhashable item in a set or dict key");
    }
    if (is_dict) {
        r->pos++;
        if (!append_item(r, c, parse_expr(r))) {
            py_value_free(c);
            return NULL;
        }
    }
    return parse_rest(r, c, '}');
}

static py_value *parse_expr(reader *r)
{
    if (++r->depth > MAX_DEPTH)
        return fail(r, "literal nested deeper than %d levels", MAX_DEPTH);
    char c = peek(r);
    const char *s = r->s + r->pos;
    py_value *v;
    if (string_start(s) >= 0)
        v = parse_string(r);
    else if (c == '[')
        v = parse_list(r);
    else if (c == '(')
        v = parse_paren(r);
    else if (c == '{')
        v = parse_brace(r);
    else if (c == '-' || c == '+')
        v = parse_arith(r, parse_signed(r));
    else if (is_digit(c) || (c == '.' && is_digit(s[1])))
        v = parse_arith(r, parse_number(r, 0));
    else if (is_ident_start(c))
        v = parse_name(r);
    else if (c == '\0')
        v = fail(r, "expected a value, found the end");
    else
        v = fail(r, "unexpected character '%c'", c);
    r->depth--;
    return v;
}

int py_literal_parse(const char *text, py_value **out, char *why,
                     size_t whysize)
{
    reader r = {text, 0, 0, why, whysize};
    if (why && whysize)
        why[0] = '\0';
    *out = NULL;
    py_value *v = parse_expr(&r);
    if (v && peek(&r) == ',') {
        /* A bare `1, 2` is a tuple, as eval reads it. */
        py_value *t = new_value(&r, PY_TUPLE);
        if (!t || !append_item(&r, t, v)) {
            if (t)
                py_value_free(t);
            else
                py_value_free(v);
            return 0;
        }
        v = parse_rest(&r, t, '\0');
    }
    if (v && peek(&r) != '\0') {
        py_value_free(v);
        v = fail(&r, "unexpected '%c' after the value", r.s[r.pos]);
    }
    *out = v;
    return v != NULL;
}
