/*
 * proto_text.c - protobuf text format (what Caffe's .prototxt files are)
 * read by the message descriptors protoc-c generates.
 *
 * protobuf-c has no text-format parser, so this one translates text into
 * the binary wire format field by field (the descriptor gives each name's
 * number and type) and lets protobuf_c_message_unpack build the structs.
 * That keeps one code path for memory management and defaults, whichever
 * way the message was stored.  Unknown field names are skipped: our
 * schemas describe only what the toolbox reads.
 */
#include "parse/proto.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"

#define MAX_DEPTH 64
#define MAX_WIRE ((size_t)1 << 30)
#define TOKEN_MAX 128

enum { WIRE_VARINT = 0, WIRE_64 = 1, WIRE_LEN = 2, WIRE_32 = 5 };

typedef struct lexer {
    const char *start, *p, *end;
    const char *path;
    snn_error *err;
} lexer;

/* ---- errors and lexing --------------------------------------------------- */

static int line_of(const lexer *lx)
{
    int line = 1;
    for (const char *q = lx->start; q < lx->p; q++)
        line += *q == '\n';
    return line;
}

static snn_status syntax_error(lexer *lx, const char *what, const char *name)
{
    return snn_error_set(lx->err, SNN_E_FORMAT, "%s:%d: %s%s%s%s", lx->path,
                         line_of(lx), what, name ? " '" : "",
                         name ? name : "", name ? "'" : "");
}

static void skip_space(lexer *lx)
{
    while (lx->p < lx->end) {
        if (*lx->p == '#') {
            while (lx->p < lx->end && *lx->p != '\n')
                lx->p++;
        } else if (isspace((unsigned char)*lx->p)) {
            lx->p++;
        } else {
            return;
        }
    }
}

/* Next non-space character, or 0 at the end. */
static char peek(lexer *lx)
{
    skip_space(lx);
    return lx->p < lx->end ? *lx->p : 0;
}

static int accept(lexer *lx, char c)
{
    if (peek(lx) != c)
        return 0;
    lx->p++;
    return 1;
}

static int is_word_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '-' ||
           c == '+';
}

/* A bare token: identifier or number (sign, digits, '.', exponent). */
static snn_status read_word(lexer *lx, char *buf, size_t cap)
{
    skip_space(lx);
    size_t n = 0;
    while (lx->p < lx->end && is_word_char(*lx->p)) {
        if (n + 1 >= cap)
            return syntax_error(lx, "token too long", NULL);
        buf[n++] = *lx->p++;
    }
    buf[n] = '\0';
    if (n == 0)
        return syntax_error(lx, "expected a name or a value", NULL);
    return SNN_OK;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* One escape after a backslash; *q points at the character after it. */
static int unescape(lexer *lx, const char **q, char *out)
{
    static const char from[] = "abfnrtv\\'\"?";
    static const char to[] = "\a\b\f\n\r\t\v\\'\"?";
    const char *hit = *q < lx->end ? strchr(from, **q) : NULL;
    if (hit && **q) {
        *out = to[hit - from];
        (*q)++;
        return 1;
    }
    int v = 0, digits = 0;
    if (*q < lx->end && (**q == 'x' || **q == 'X')) {
        (*q)++;
        for (int h; digits < 2 && *q < lx->end && (h = hex_value(**q)) >= 0;
             digits++, (*q)++)
            v = v * 16 + h;
    } else {
        for (; digits < 3 && *q < lx->end && **q >= '0' && **q <= '7';
             digits++, (*q)++)
            v = v * 8 + (**q - '0');
    }
    *out = (char)v;
    return digits > 0;
}

/* One quoted string, appended to *s. */
static snn_status read_quoted(lexer *lx, snn_strbuf *s)
{
    char quote = *lx->p++;
    for (;;) {
        if (lx->p >= lx->end || *lx->p == '\n')
            return syntax_error(lx, "unterminated string", NULL);
        char c = *lx->p++;
        if (c == quote)
            return SNN_OK;
        if (c == '\\' && !unescape(lx, &lx->p, &c))
            return syntax_error(lx, "bad escape in string", NULL);
        if (!snn_strbuf_put(s, &c, 1, MAX_WIRE))
            return snn_error_set(lx->err, SNN_E_NOMEM, "%s: string too long",
                                 lx->path);
    }
}

/* A string value: one or more adjacent quoted strings, concatenated. */
static snn_status read_string(lexer *lx, snn_strbuf *s)
{
    if (peek(lx) != '"' && peek(lx) != '\'')
        return syntax_error(lx, "expected a quoted string", NULL);
    if (!snn_strbuf_put(s, "", 0, MAX_WIRE))
        return snn_error_set(lx->err, SNN_E_NOMEM, "%s: out of memory",
                             lx->path);
    while (peek(lx) == '"' || peek(lx) == '\'') {
        snn_status st = read_quoted(lx, s);
        if (st != SNN_OK)
            return st;
    }
    return SNN_OK;
}

/* ---- wire encoding ------------------------------------------------------- */

static snn_status put(lexer *lx, snn_strbuf *out, const void *p, size_t n)
{
    if (!snn_strbuf_put(out, p, n, MAX_WIRE))
        return snn_error_set(lx->err, SNN_E_NOMEM,
                             "%s: message too large or out of memory",
                             lx->path);
    return SNN_OK;
}

static snn_status put_varint(lexer *lx, snn_strbuf *out, uint64_t v)
{
    uint8_t b[10];
    size_t n = 0;
    do {
        b[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v)
            b[n] |= 0x80;
        n++;
    } while (v);
    return put(lx, out, b, n);
}

static snn_status put_tag(lexer *lx, snn_strbuf *out, unsigned number,
                          int wire)
{
    return put_varint(lx, out, ((uint64_t)number << 3) | (uint64_t)wire);
}

static snn_status put_fixed(lexer *lx, snn_strbuf *out, uint64_t v,
                            size_t n)
{
    uint8_t b[8];
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    return put(lx, out, b, n);
}

static snn_status put_bytes(lexer *lx, snn_strbuf *out, unsigned number,
                            const char *p, size_t n)
{
    snn_status st = put_tag(lx, out, number, WIRE_LEN);
    if (st == SNN_OK)
        st = put_varint(lx, out, n);
    if (st == SNN_OK && n)
        st = put(lx, out, p, n);
    return st;
}

/* ---- scalar values ------------------------------------------------------- */

static int parse_int(const char *s, int is_unsigned, long long lo,
                     unsigned long long hi, uint64_t *v)
{
    char *end;
    errno = 0;
    if (is_unsigned) {
        if (s[0] == '-')
            return 0;
        unsigned long long u = strtoull(s, &end, 0);
        if (errno || *end || end == s || u > hi)
            return 0;
        *v = u;
        return 1;
    }
    long long x = strtoll(s, &end, 0);
    if (errno || *end || end == s || x < lo ||
        (x > 0 && (unsigned long long)x > hi))
        return 0;
    *v = (uint64_t)x;
    return 1;
}

static int parse_real(const char *s, double *v)
{
    char buf[TOKEN_MAX];
    size_t n = strlen(s);
    /* Text format allows a float suffix: 1.5f. */
    if (n > 1 && (s[n - 1] == 'f' || s[n - 1] == 'F') &&
        strpbrk(s, "0123456789") && !strpbrk(s, "nN"))
        n--;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (strcmp(buf, "inf") == 0 || strcmp(buf, "infinity") == 0 ||
        strcmp(buf, "-inf") == 0 || strcmp(buf, "-infinity") == 0) {
        *v = buf[0] == '-' ? -INFINITY : INFINITY;
        return 1;
    }
    if (strcmp(buf, "nan") == 0) {
        *v = NAN;
        return 1;
    }
    char *end;
    *v = strtod(buf, &end);
    return end != buf && *end == '\0' && isfinite(*v);
}

static int parse_bool(const char *s, uint64_t *v)
{
    if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "t") ||
        !strcmp(s, "1"))
        *v = 1;
    else if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "f") ||
             !strcmp(s, "0"))
        *v = 0;
    else
        return 0;
    return 1;
}

static int parse_enum(const ProtobufCFieldDescriptor *f, const char *s,
                      uint64_t *v)
{
    const ProtobufCEnumValue *ev =
        protobuf_c_enum_descriptor_get_value_by_name(f->descriptor, s);
    if (ev) {
        *v = (uint64_t)(int64_t)ev->value;
        return 1;
    }
    return parse_int(s, 0, INT32_MIN, INT32_MAX, v);
}

static uint64_t zigzag(uint64_t v)
{
    int64_t s = (int64_t)v;
    return ((uint64_t)s << 1) ^ (uint64_t)(s >> 63);
}

/* Encodes one scalar word for field f. */
static snn_status encode_word(lexer *lx, const ProtobufCFieldDescriptor *f,
                              const char *w, snn_strbuf *out)
{
    uint64_t v = 0;
    double d = 0;
    int ok = 0, wire = WIRE_VARINT;
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_SINT32:
        ok = parse_int(w, 0, INT32_MIN, INT32_MAX, &v);
        break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_SINT64:
        ok = parse_int(w, 0, INT64_MIN, INT64_MAX, &v);
        break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        ok = parse_int(w, 1, 0, UINT32_MAX, &v);
        break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        ok = parse_int(w, 1, 0, UINT64_MAX, &v);
        break;
    case PROTOBUF_C_TYPE_BOOL:
        ok = parse_bool(w, &v);
        break;
    case PROTOBUF_C_TYPE_ENUM:
        ok = parse_enum(f, w, &v);
        break;
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE:
        ok = parse_real(w, &d);
        break;
    default:
        break;
    }
    if (!ok)
        return syntax_error(lx, "bad value for field", f->name);
    if (f->type == PROTOBUF_C_TYPE_SINT32 || f->type == PROTOBUF_C_TYPE_SINT64)
        v = zigzag(v);
    if (f->type == PROTOBUF_C_TYPE_FLOAT) {
        float x = (float)d;
        uint32_t bits;
        memcpy(&bits, &x, sizeof bits);
        v = bits;
    } else if (f->type == PROTOBUF_C_TYPE_DOUBLE) {
        memcpy(&v, &d, sizeof v);
    }
    if (f->type == PROTOBUF_C_TYPE_FLOAT ||
        f->type == PROTOBUF_C_TYPE_FIXED32 ||
        f->type == PROTOBUF_C_TYPE_SFIXED32)
        wire = WIRE_32;
    else if (f->type == PROTOBUF_C_TYPE_DOUBLE ||
             f->type == PROTOBUF_C_TYPE_FIXED64 ||
             f->type == PROTOBUF_C_TYPE_SFIXED64)
        wire = WIRE_64;
    if (wire == WIRE_32)
        v &= 0xffffffffu;
    snn_status st = put_tag(lx, out, f->id, wire);
    if (st != SNN_OK)
        return st;
    return wire == WIRE_VARINT ? put_varint(lx, out, v)
                               : put_fixed(lx, out, v, wire == WIRE_32 ? 4 : 8);
}

/* One scalar value of field f (f NULL: an unknown field, skipped). */
static snn_status scalar_value(lexer *lx, const ProtobufCFieldDescriptor *f,
                               snn_strbuf *out)
{
    char c = peek(lx);
    if (c == '"' || c == '\'') {
        snn_strbuf s = {0};
        snn_status st = read_string(lx, &s);
        if (st == SNN_OK && f && f->type != PROTOBUF_C_TYPE_STRING &&
            f->type != PROTOBUF_C_TYPE_BYTES)
            st = syntax_error(lx, "a string is no value for field", f->name);
        if (st == SNN_OK && f)
            st = put_bytes(lx, out, f->id, s.p, s.len);
        free(s.p);
        return st;
    }
    char w[TOKEN_MAX];
    snn_status st = read_word(lx, w, sizeof w);
    if (st != SNN_OK || !f)
        return st;
    if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_BYTES ||
        f->type == PROTOBUF_C_TYPE_MESSAGE)
        return syntax_error(lx, "expected a quoted string or a { } block for",
                            f->name);
    return encode_word(lx, f, w, out);
}

/* ---- messages ------------------------------------------------------------ */

static snn_status parse_fields(lexer *lx,
                               const ProtobufCMessageDescriptor *desc,
                               char close, int depth, snn_strbuf *out);

/* A `{ ... }` or `< ... >` block for field f (NULL: skipped, but still
 * checked for balance by parsing it against no descriptor). */
static snn_status block_value(lexer *lx, const ProtobufCFieldDescriptor *f,
                              int depth, snn_strbuf *out)
{
    char close = *lx->p++ == '{' ? '}' : '>';
    if (depth >= MAX_DEPTH)
        return syntax_error(lx, "messages nested too deeply", NULL);
    if (f && f->type != PROTOBUF_C_TYPE_MESSAGE)
        return syntax_error(lx, "a { } block is no value for field", f->name);
    snn_strbuf sub = {0};
    snn_status st = parse_fields(lx, f ? f->descriptor : NULL, close,
                                 depth + 1, &sub);
    if (st == SNN_OK && f)
        st = put_bytes(lx, out, f->id, sub.p, sub.len);
    free(sub.p);
    return st;
}

static snn_status field_value(lexer *lx, const ProtobufCFieldDescriptor *f,
                              int depth, snn_strbuf *out)
{
    char c = peek(lx);
    if (c == '{' || c == '<')
        return block_value(lx, f, depth, out);
    return scalar_value(lx, f, out);
}

/* `name: [v1, v2]`, the list form of a repeated field. */
static snn_status list_value(lexer *lx, const ProtobufCFieldDescriptor *f,
                             int depth, snn_strbuf *out)
{
    lx->p++;
    if (f && f->label != PROTOBUF_C_LABEL_REPEATED)
        return syntax_error(lx, "a [ ] list for the non-repeated field",
                            f->name);
    if (accept(lx, ']'))
        return SNN_OK;
    do {
        snn_status st = field_value(lx, f, depth, out);
        if (st != SNN_OK)
            return st;
    } while (accept(lx, ','));
    if (!accept(lx, ']'))
        return syntax_error(lx, "expected ']'", NULL);
    return SNN_OK;
}

static snn_status one_field(lexer *lx, const ProtobufCMessageDescriptor *desc,
                            int depth, snn_strbuf *out)
{
    char name[TOKEN_MAX];
    if (peek(lx) == '[')
        return syntax_error(lx, "extensions and Any fields are not supported",
                            NULL);
    snn_status st = read_word(lx, name, sizeof name);
    if (st != SNN_OK)
        return st;
    const ProtobufCFieldDescriptor *f =
        desc ? protobuf_c_message_descriptor_get_field_by_name(desc, name)
             : NULL;
    int colon = accept(lx, ':');
    char c = peek(lx);
    if (!colon && c != '{' && c != '<')
        return syntax_error(lx, "expected ':' after field", name);
    if (c == '[')
        st = list_value(lx, f, depth, out);
    else
        st = field_value(lx, f, depth, out);
    if (st == SNN_OK && !accept(lx, ','))
        accept(lx, ';');
    return st;
}

static snn_status parse_fields(lexer *lx,
                               const ProtobufCMessageDescriptor *desc,
                               char close, int depth, snn_strbuf *out)
{
    for (;;) {
        char c = peek(lx);
        if (c == 0) {
            if (close)
                return syntax_error(lx, "unexpected end of file: missing "
                                        "closing bracket", NULL);
            return SNN_OK;
        }
        if (close && c == close) {
            lx->p++;
            return SNN_OK;
        }
        snn_status st = one_field(lx, desc, depth, out);
        if (st != SNN_OK)
            return st;
    }
}

snn_status snn_proto_text_parse(const ProtobufCMessageDescriptor *desc,
                                const char *text, size_t len,
                                const char *path, ProtobufCMessage **msg,
                                snn_error *err)
{
    lexer lx = {text, text, text + len, path, err};
    snn_strbuf wire = {0};
    *msg = NULL;
    snn_status st = parse_fields(&lx, desc, 0, 0, &wire);
    if (st == SNN_OK && !snn_strbuf_put(&wire, "", 0, MAX_WIRE))
        st = snn_error_set(err, SNN_E_NOMEM, "%s: out of memory", path);
    if (st == SNN_OK)
        st = snn_proto_unpack(desc, (const uint8_t *)wire.p, wire.len, path,
                              msg, err);
    free(wire.p);
    return st;
}
