/*
 * npy.c - reading NumPy .npy arrays, alone or as members of an .npz zip,
 * into float32 tensors.
 *
 * The original toolbox stores its datasets as x_test.npz / y_test.npz, so
 * this is how most test sets arrive.  A .npy file is a magic string, a
 * version, a Python dict literal describing dtype, order and shape, and the
 * raw elements.  Both a plain file and a zip member are read as the same
 * byte stream (npy_src) so the format is parsed in one place.
 */
#include "snntb/dataset.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zip.h>

#include "io/rawnum.h"
#include "io/ziperr.h"
#include "io/rows.h"

/* numpy itself refuses headers over 10000 bytes unless told otherwise;
 * this leaves room for that option while bounding the allocation. */
#define NPY_MAX_HEADER (1u << 20)

/* A byte stream with its total length known before reading. */
typedef struct npy_src {
    const char *name; /* names the stream in messages */
    uint64_t left;    /* bytes not yet read */
    void *h;
    int64_t (*read)(void *h, void *buf, size_t n); /* -1 on error */
    const char *(*strerror)(void *h);
} npy_src;

typedef struct npy_header {
    char descr[64];
    raw_type type;
    int fortran;
    int ndim;
    size_t dims[SNN_MAX_DIMS];
} npy_header;

/* Position in the header text, a Python dict literal such as
 * {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }. */
typedef struct cursor {
    const char *p, *end;
} cursor;

static snn_status npy_read(npy_src *s, snn_tensor *out, snn_error *err);

static int64_t file_read(void *h, void *buf, size_t n)
{
    size_t r = fread(buf, 1, n, h);
    return (r < n && ferror((FILE *)h)) ? -1 : (int64_t)r;
}

static const char *file_strerror(void *h)
{
    (void)h;
    return strerror(errno);
}

static int64_t member_read(void *h, void *buf, size_t n)
{
    return zip_fread(h, buf, n);
}

static const char *member_strerror(void *h)
{
    return zip_file_strerror(h);
}

snn_status snn_npy_load(const char *path, snn_tensor *out, snn_error *err)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f)
        return snn_error_set(err, SNN_E_IO, "%s: cannot open: %s", path,
                             strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0) {
        fclose(f);
        return snn_error_set(err, SNN_E_IO, "%s: cannot stat: %s", path,
                             strerror(errno));
    }
    npy_src s = {path, (uint64_t)sb.st_size, f, file_read, file_strerror};
    snn_status st = npy_read(&s, out, err);
    fclose(f);
    return st;
}

/* Lists the archive's keys (member names without ".npy"), as np.load's
 * NpzFile.files would, so the user sees what to ask for instead. */
static snn_status missing_key(zip_t *za, const char *path, const char *key,
                              snn_error *err)
{
    char keys[512] = "none";
    size_t used = 0;
    zip_int64_t n = zip_get_num_entries(za, 0);
    for (zip_int64_t i = 0; i < n && used < sizeof keys; i++) {
        const char *name = zip_get_name(za, (zip_uint64_t)i, 0);
        if (!name)
            continue;
        size_t len = strlen(name);
        if (len > 4 && strcmp(name + len - 4, ".npy") == 0)
            len -= 4;
        used += (size_t)snprintf(keys + used, sizeof keys - used, "%s%.*s",
                                 used ? ", " : "", (int)len, name);
    }
    return snn_error_set(err, SNN_E_FORMAT,
                         "%s: no array '%s' (available: %s)", path, key,
                         keys);
}

static snn_status member_size(zip_t *za, zip_int64_t idx, const char *name,
                              uint64_t *size, snn_error *err)
{
    zip_stat_t zs;
    if (zip_stat_index(za, (zip_uint64_t)idx, 0, &zs) != 0 ||
        !(zs.valid & ZIP_STAT_SIZE) || !(zs.valid & ZIP_STAT_COMP_SIZE) ||
        !(zs.valid & ZIP_STAT_COMP_METHOD))
        return snn_error_set(err, SNN_E_FORMAT, "%s: cannot read its size",
                             name);
    int bloated = zs.comp_method == ZIP_CM_STORE
                      ? zs.size != zs.comp_size
                      : zs.comp_method == ZIP_CM_DEFLATE &&
                            zs.size / RAW_DEFLATE_MAX_RATIO > zs.comp_size;
    if (bloated)
        return snn_error_set(err, SNN_E_FORMAT,
                             "%s: claims %llu bytes from %llu stored bytes",
                             name, (unsigned long long)zs.size,
                             (unsigned long long)zs.comp_size);
    *size = zs.size;
    return SNN_OK;
}

static snn_status read_member(zip_t *za, zip_int64_t idx, const char *name,
                              snn_tensor *out, snn_error *err)
{
    uint64_t size = 0;
    snn_status st = member_size(za, idx, name, &size, err);
    if (st != SNN_OK)
        return st;
    zip_file_t *zf = zip_fopen_index(za, (zip_uint64_t)idx, 0);
    if (!zf)
        return snn_error_set(err, SNN_E_UNSUPPORTED, "%s: cannot open: %s",
                             name, zip_strerror(za));
    npy_src s = {name, size, zf, member_read, member_strerror};
    st = npy_read(&s, out, err);
    zip_fclose(zf);
    return st;
}

snn_status snn_npz_load(const char *path, const char *key, snn_tensor *out,
                        snn_error *err)
{
    memset(out, 0, sizeof *out);
    char member[256], name[SNN_ERROR_MAX / 2];
    if ((size_t)snprintf(member, sizeof member, "%s.npy", key) >=
        sizeof member)
        return snn_error_set(err, SNN_E_INVALID, "%s: key '%.40s...' too long",
                             path, key);
    int code = 0;
    zip_t *za = zip_open(path, ZIP_RDONLY, &code);
    if (!za)
        return snn_zip_open_error(path, code, ".npz", err);
    snprintf(name, sizeof name, "%s:%s", path, member);
    zip_int64_t idx = zip_name_locate(za, member, 0);
    snn_status st = idx < 0 ? missing_key(za, path, key, err)
                            : read_member(za, idx, name, out, err);
    zip_discard(za);
    return st;
}

static snn_status src_read(npy_src *s, void *buf, size_t n, const char *what,
                           snn_error *err)
{
    unsigned char *p = buf;
    while (n > 0) {
        int64_t r = s->read(s->h, p, n);
        if (r < 0)
            return snn_error_set(err, SNN_E_IO, "%s: cannot read %s: %s",
                                 s->name, what, s->strerror(s->h));
        if (r == 0)
            return snn_error_set(err, SNN_E_FORMAT,
                                 "%s: truncated: file ends inside the %s",
                                 s->name, what);
        p += r;
        n -= (size_t)r;
        s->left = s->left > (uint64_t)r ? s->left - (uint64_t)r : 0;
    }
    return SNN_OK;
}

static void skip_ws(cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' ||
                             *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static int eat(cursor *c, char ch)
{
    skip_ws(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return 1;
    }
    return 0;
}

static int peek(cursor *c, char ch)
{
    skip_ws(c);
    return c->p < c->end && *c->p == ch;
}

/* A quoted Python string without escapes (dtype strings and keys never
 * have any); fails when it does not fit in buf. */
static int parse_string(cursor *c, char *buf, size_t n)
{
    skip_ws(c);
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"'))
        return 0;
    char quote = *c->p++;
    const char *start = c->p;
    while (c->p < c->end && *c->p != quote)
        c->p++;
    size_t len = (size_t)(c->p - start);
    if (c->p >= c->end || len >= n)
        return 0;
    memcpy(buf, start, len);
    buf[len] = '\0';
    c->p++;
    return 1;
}

static int parse_word(cursor *c, const char *word)
{
    skip_ws(c);
    size_t len = strlen(word);
    if ((size_t)(c->end - c->p) < len || memcmp(c->p, word, len) != 0)
        return 0;
    c->p += len;
    return 1;
}

static int parse_bool(cursor *c, int *out)
{
    if (parse_word(c, "True"))
        *out = 1;
    else if (parse_word(c, "False"))
        *out = 0;
    else
        return 0;
    return 1;
}

/* A non-negative Python int; Python 2 wrote longs with an 'L' suffix. */
static int parse_dim(cursor *c, size_t *out)
{
    skip_ws(c);
    if (c->p >= c->end || *c->p < '0' || *c->p > '9')
        return 0;
    size_t v = 0;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
        if (!snn_size_mul(v, 10, &v) || v > SIZE_MAX - (size_t)(*c->p - '0'))
            return 0;
        v += (size_t)(*c->p++ - '0');
    }
    if (c->p < c->end && *c->p == 'L')
        c->p++;
    *out = v;
    return 1;
}

static snn_status parse_shape(cursor *c, const char *name, npy_header *h,
                              snn_error *err)
{
    if (!eat(c, '('))
        return SNN_E_FORMAT;
    h->ndim = 0;
    while (!eat(c, ')')) {
        if (h->ndim == SNN_MAX_DIMS)
            return snn_error_set(err, SNN_E_UNSUPPORTED,
                                 "%s: array has more than %d dimensions",
                                 name, SNN_MAX_DIMS);
        if (!parse_dim(c, &h->dims[h->ndim++]))
            return SNN_E_FORMAT;
        if (!eat(c, ',') && !peek(c, ')'))
            return SNN_E_FORMAT;
    }
    return SNN_OK;
}

/* Maps a dtype string such as '<f4', '>i8' or '|b1' to how its elements
 * are stored; anything else (objects, strings, dates, ...) is refused. */
static int descr_type(const char *d, raw_type *t)
{
    char order = d[0], kind = d[0] ? d[1] : '\0';
    if (!strchr("<>|", order) || order == '\0' || kind == '\0')
        return 0;
    const char *digits = d + 2;
    if (strlen(digits) != 1 || !strchr("1248", digits[0]))
        return 0;
    t->size = (unsigned)(digits[0] - '0');
    t->big_endian = order == '>';
    if (order == '|' && t->size > 1)
        return 0;
    switch (kind) {
    case 'f': t->kind = RAW_FLOAT; return t->size >= 4;
    case 'i': t->kind = RAW_SINT; return 1;
    case 'u': t->kind = RAW_UINT; return 1;
    case 'b': t->kind = RAW_BOOL; return t->size == 1;
    default: return 0;
    }
}

/* Length of the bracketed list at p, through its matching ']'. */
static int list_span(const cursor *c)
{
    int depth = 0;
    for (const char *q = c->p; q < c->end; q++) {
        depth += (*q == '[') - (*q == ']');
        if (depth == 0)
            return (int)(q - c->p + 1);
    }
    return (int)(c->end - c->p);
}

static snn_status parse_descr(cursor *c, const char *name, npy_header *h,
                              snn_error *err)
{
    if (peek(c, '[')) {
        int span = list_span(c);
        return snn_error_set(err, SNN_E_UNSUPPORTED,
                             "%s: structured dtype %.*s is not supported;"
                             " save a plain numeric array",
                             name, span < 200 ? span : 200, c->p);
    }
    if (!parse_string(c, h->descr, sizeof h->descr))
        return SNN_E_FORMAT;
    if (h->descr[0] && h->descr[1] == 'O')
        return snn_error_set(err, SNN_E_UNSUPPORTED,
                             "%s: object array (dtype '%s') holds Python "
                             "objects, not numbers",
                             name, h->descr);
    if (!descr_type(h->descr, &h->type))
        return snn_error_set(err, SNN_E_UNSUPPORTED,
                             "%s: dtype '%s' is not supported (expected a "
                             "float, integer or bool dtype such as '<f4')",
                             name, h->descr);
    return SNN_OK;
}

static snn_status parse_entry(cursor *c, const char *name, npy_header *h,
                              unsigned *seen, snn_error *err)
{
    static const char *const keys[] = {"descr", "fortran_order", "shape"};
    char key[32];
    if (!parse_string(c, key, sizeof key) || !eat(c, ':'))
        return SNN_E_FORMAT;
    for (unsigned i = 0; i < 3; i++) {
        if (strcmp(key, keys[i]) != 0)
            continue;
        if (*seen & (1u << i))
            return SNN_E_FORMAT;
        *seen |= 1u << i;
        if (i == 0)
            return parse_descr(c, name, h, err);
        if (i == 1)
            return parse_bool(c, &h->fortran) ? SNN_OK : SNN_E_FORMAT;
        return parse_shape(c, name, h, err);
    }
    return SNN_E_FORMAT;
}

/* Syntax errors return a bare SNN_E_FORMAT that parse_header turns into
 * one message; features we refuse return SNN_E_UNSUPPORTED with their own. */
static snn_status parse_dict(cursor *c, const char *name, npy_header *h,
                             snn_error *err)
{
    unsigned seen = 0;
    if (!eat(c, '{'))
        return SNN_E_FORMAT;
    while (!eat(c, '}')) {
        snn_status st = parse_entry(c, name, h, &seen, err);
        if (st != SNN_OK)
            return st;
        if (!eat(c, ',') && !peek(c, '}'))
            return SNN_E_FORMAT;
    }
    skip_ws(c);
    return seen == 7 && c->p == c->end ? SNN_OK : SNN_E_FORMAT;
}

static snn_status parse_header(const char *text, size_t len, const char *name,
                               npy_header *h, snn_error *err)
{
    cursor c = {text, text + len};
    snn_status st = parse_dict(&c, name, h, err);
    if (st != SNN_E_FORMAT)
        return st;
    return snn_error_set(err, SNN_E_FORMAT,
                         "%s: malformed .npy header at byte %zu (expected a "
                         "dict with 'descr', 'fortran_order' and 'shape')",
                         name, (size_t)(c.p - text));
}

static snn_status read_header(npy_src *s, npy_header *h, snn_error *err)
{
    unsigned char pre[12];
    snn_status st = src_read(s, pre, 8, "header", err);
    if (st != SNN_OK)
        return st;
    if (memcmp(pre, "\x93NUMPY", 6) != 0)
        return snn_error_set(err, SNN_E_FORMAT,
                             "%s: not a .npy file (bad magic)", s->name);
    unsigned major = pre[6];
    if (major < 1 || major > 3)
        return snn_error_set(err, SNN_E_UNSUPPORTED,
                             "%s: .npy format version %u.%u is not supported"
                             " (expected 1.0, 2.0 or 3.0)",
                             s->name, major, pre[7]);
    size_t nlen = major == 1 ? 2 : 4;
    st = src_read(s, pre + 8, nlen, "header", err);
    if (st != SNN_OK)
        return st;
    size_t hlen = pre[8] | (size_t)pre[9] << 8;
    if (nlen == 4)
        hlen |= (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
    if (hlen > NPY_MAX_HEADER || hlen > s->left)
        return snn_error_set(err, SNN_E_FORMAT,
                             "%s: header length %zu exceeds the file", s->name,
                             hlen);
    /* NUL-terminated so that messages may quote parts of it. */
    char *text = malloc(hlen + 1);
    if (!text)
        return snn_error_set(err, SNN_E_NOMEM, "%s: no memory for header",
                             s->name);
    text[hlen] = '\0';
    st = src_read(s, text, hlen, "header", err);
    if (st == SNN_OK)
        st = parse_header(text, hlen, s->name, h, err);
    free(text);
    return st;
}

static snn_status check_data_size(const npy_src *s, const npy_header *h,
                                  snn_error *err)
{
    char shape[256];
    size_t bytes = h->type.size;
    for (int i = 0; i < h->ndim; i++)
        if (!snn_size_mul(bytes, h->dims[i], &bytes))
            bytes = SIZE_MAX;
    if (bytes <= s->left)
        return SNN_OK;
    return snn_error_set(err, SNN_E_FORMAT,
                         "%s: truncated: shape %s of dtype '%s' needs %zu "
                         "bytes of data, only %llu present",
                         s->name, snn_shape_str(h->ndim, h->dims, shape,
                                                sizeof shape),
                         h->descr, bytes, (unsigned long long)s->left);
}

static snn_status read_data(void *src, void *buf, size_t n, snn_error *err)
{
    return src_read(src, buf, n, "array data", err);
}

/* Fortran order runs the first axis fastest; walk the elements in that
 * order while tracking each one's C-order offset. */
static snn_status fortran_to_c(snn_tensor *t, snn_error *err)
{
    if (t->ndim < 2)
        return SNN_OK;
    snn_tensor c;
    snn_status st = snn_tensor_init(&c, t->ndim, t->dims, err);
    if (st != SNN_OK)
        return st;
    size_t stride[SNN_MAX_DIMS], idx[SNN_MAX_DIMS] = {0};
    stride[t->ndim - 1] = 1;
    for (int k = t->ndim - 2; k >= 0; k--)
        stride[k] = stride[k + 1] * t->dims[k + 1];
    size_t n = snn_tensor_numel(t), off = 0;
    for (size_t i = 0; i < n; i++) {
        c.data[off] = t->data[i];
        for (int k = 0; k < t->ndim; k++) {
            off += stride[k];
            if (++idx[k] < t->dims[k])
                break;
            off -= stride[k] * t->dims[k];
            idx[k] = 0;
        }
    }
    snn_tensor_free(t);
    *t = c;
    return SNN_OK;
}

static snn_status npy_read(npy_src *s, snn_tensor *out, snn_error *err)
{
    npy_header h;
    memset(&h, 0, sizeof h);
    snn_status st = read_header(s, &h, err);
    if (st == SNN_OK)
        st = check_data_size(s, &h, err);
    if (st == SNN_OK)
        st = snn_tensor_init(out, h.ndim, h.dims, err);
    if (st != SNN_OK)
        return st;
    st = raw_read_floats(read_data, s, &h.type, out->data,
                         snn_tensor_numel(out), err);
    if (st == SNN_OK && h.fortran)
        st = fortran_to_c(out, err);
    if (st != SNN_OK)
        snn_tensor_free(out);
    return st;
}

/* An .npz member read as rows (rows.h).  The zip member is reopened to
 * restart; a stored (uncompressed) member also seeks. */
typedef struct npz_stream {
    zip_t *za;
    zip_int64_t idx;
    zip_file_t *zf;
    uint64_t size, data_start;
    int stored; /* uncompressed: libzip can seek in it */
    npy_src src;
    char name[SNN_ERROR_MAX / 2];
} npz_stream;

static snn_status npz_stream_read(void *h, void *buf, size_t n, snn_error *err)
{
    npz_stream *z = h;
    return src_read(&z->src, buf, n, "array data", err);
}

static int npz_stream_seek(void *h, uint64_t offset)
{
    npz_stream *z = h;
    /* A failed zip_fseek leaves the member unreadable: try stored only. */
    if (!z->stored ||
        zip_fseek(z->zf, (zip_int64_t)(z->data_start + offset), SEEK_SET) != 0)
        return 0;
    z->src.left = z->size - z->data_start - offset;
    return 1;
}

/* Opens the member and positions it at the array data. */
static snn_status npz_stream_restart(void *h, snn_error *err)
{
    npz_stream *z = h;
    if (z->zf)
        zip_fclose(z->zf);
    z->zf = zip_fopen_index(z->za, (zip_uint64_t)z->idx, 0);
    if (!z->zf)
        return snn_error_set(err, SNN_E_UNSUPPORTED, "%s: cannot open: %s",
                             z->name, zip_strerror(z->za));
    npy_src s = {z->name, z->size, z->zf, member_read, member_strerror};
    z->src = s;
    unsigned char skip[RAW_CHUNK];
    uint64_t left = z->data_start;
    snn_status st = SNN_OK;
    while (st == SNN_OK && left > 0) {
        size_t k = left < sizeof skip ? (size_t)left : sizeof skip;
        st = src_read(&z->src, skip, k, "header", err);
        left -= k;
    }
    return st;
}

static void npz_stream_close(void *h)
{
    npz_stream *z = h;
    if (z->zf)
        zip_fclose(z->zf);
    zip_discard(z->za);
    free(z);
}

static snn_status npz_stream_open(npz_stream *z, const char *path,
                                  const char *key, npy_header *h,
                                  snn_error *err)
{
    char member[256];
    if ((size_t)snprintf(member, sizeof member, "%s.npy", key) >= sizeof member)
        return snn_error_set(err, SNN_E_INVALID, "%s: key too long", path);
    int code = 0;
    z->za = zip_open(path, ZIP_RDONLY, &code);
    if (!z->za)
        return snn_zip_open_error(path, code, ".npz", err);
    snprintf(z->name, sizeof z->name, "%s:%s", path, member);
    z->idx = zip_name_locate(z->za, member, 0);
    if (z->idx < 0)
        return missing_key(z->za, path, key, err);
    snn_status st = member_size(z->za, z->idx, z->name, &z->size, err);
    zip_stat_t zs;
    z->stored = st == SNN_OK &&
                zip_stat_index(z->za, (zip_uint64_t)z->idx, 0, &zs) == 0 &&
                zs.comp_method == ZIP_CM_STORE;
    if (st == SNN_OK)
        st = npz_stream_restart(z, err);
    if (st == SNN_OK)
        st = read_header(&z->src, h, err);
    if (st == SNN_OK)
        st = check_data_size(&z->src, h, err);
    z->data_start = z->size - z->src.left;
    return st;
}

snn_status snn_rows_open_npz(snn_rows **out, const char *path, const char *key,
                             snn_error *err)
{
    *out = NULL;
    npz_stream *z = calloc(1, sizeof *z);
    if (!z)
        return snn_error_set(err, SNN_E_NOMEM, "%s: no memory", path);
    npy_header h;
    memset(&h, 0, sizeof h);
    snn_status st = npz_stream_open(z, path, key, &h, err);
    if (st == SNN_OK && h.fortran && h.ndim > 1)
        st = snn_error_set(err, SNN_E_UNSUPPORTED,
                           "%s: Fortran-ordered array cannot be read in "
                           "batches; save it in C order (np.ascontiguousarray)",
                           z->name);
    if (st != SNN_OK) {
        npz_stream_close(z);
        return st;
    }
    rows_stream s = {z, z->name, h.type, npz_stream_read, npz_stream_seek,
                     npz_stream_restart, npz_stream_close};
    return rows_new(out, &s, h.ndim, h.dims, err);
}
