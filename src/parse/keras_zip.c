/*
 * keras_zip.c - the Keras 3 native format: a .keras zip archive holding
 * config.json (the architecture, as model_config in the legacy HDF5),
 * metadata.json (keras_version) and model.weights.h5, whose variables are
 * addressed not by layer name but by where Keras' saver walked to them:
 * layers/<class name in snake_case>[_N]/vars/<index>.
 *
 * The weights file is decompressed into memory and opened there through
 * HDF5's core driver, so nothing is written to disk.  Every member's size
 * is checked against what the archive can hold before it is read, and the
 * buffer grows only with the bytes actually read.
 */
#include "keras_internal.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zip.h>

#include "io/rawnum.h"
#include "io/ziperr.h"

/* The JSON members are small; a larger one is not a Keras archive. */
#define JSON_MAX ((uint64_t)64 << 20)

/* The uncompressed size of member idx, refused when no archive of
 * `archive` bytes could hold it. */
static snn_status member_size(zip_t *za, zip_int64_t idx, const char *path,
                              const char *name, uint64_t archive,
                              uint64_t limit, uint64_t *size, snn_error *err)
{
    zip_stat_t zs;
    if (zip_stat_index(za, (zip_uint64_t)idx, 0, &zs) != 0 ||
        !(zs.valid & ZIP_STAT_SIZE) || !(zs.valid & ZIP_STAT_COMP_SIZE) ||
        !(zs.valid & ZIP_STAT_COMP_METHOD))
        return snn_error_set(err, SNN_E_FORMAT, "%s: member %s: cannot read "
                             "its size", path, name);
    int bloated = zs.comp_size > archive ||
                  (zs.comp_method == ZIP_CM_STORE
                       ? zs.size != zs.comp_size
                       : zs.size / RAW_DEFLATE_MAX_RATIO > zs.comp_size);
    if (bloated || zs.size > limit)
        return snn_error_set(err, SNN_E_FORMAT,
                             "%s: member %s claims %llu bytes from %llu "
                             "stored bytes (truncated or corrupt archive?)",
                             path, name, (unsigned long long)zs.size,
                             (unsigned long long)zs.comp_size);
    *size = zs.size;
    return SNN_OK;
}

/* Reads all of member `name` into a malloc'ed buffer (NUL-terminated, for
 * JSON).  *found is 0, and nothing else happens, when there is no such
 * member. */
static snn_status read_member(zip_t *za, const char *path, const char *name,
                              uint64_t archive, uint64_t limit, char **out,
                              size_t *len, int *found, snn_error *err)
{
    *out = NULL;
    *len = 0;
    zip_int64_t idx = zip_name_locate(za, name, 0);
    *found = idx >= 0;
    if (idx < 0)
        return SNN_OK;
    uint64_t size = 0;
    snn_status st = member_size(za, idx, path, name, archive, limit, &size,
                                err);
    if (st != SNN_OK)
        return st;
    zip_file_t *zf = zip_fopen_index(za, (zip_uint64_t)idx, 0);
    if (!zf)
        return snn_error_set(err, SNN_E_FORMAT, "%s: member %s: %s", path,
                             name, zip_strerror(za));
    size_t cap = 0, used = 0;
    char *buf = NULL;
    while (st == SNN_OK) {
        if (used == cap) {
            size_t want = cap ? cap * 2 : 1 << 16;
            if (want > size + 1)
                want = (size_t)size + 1;
            char *grown = want > cap ? realloc(buf, want) : NULL;
            if (!grown) {
                st = want > cap ? snn_error_set(err, SNN_E_NOMEM,
                                                "%s: member %s: %llu bytes",
                                                path, name,
                                                (unsigned long long)size)
                                : snn_error_set(err, SNN_E_FORMAT,
                                                "%s: member %s is longer than "
                                                "it claims", path, name);
                break;
            }
            buf = grown;
            cap = want;
        }
        zip_int64_t r = zip_fread(zf, buf + used, cap - used);
        if (r < 0)
            st = snn_error_set(err, SNN_E_FORMAT, "%s: member %s: %s "
                               "(truncated or corrupt archive?)", path, name,
                               zip_file_strerror(zf));
        else if (r == 0)
            break;
        else
            used += (size_t)r;
    }
    zip_fclose(zf);
    if (st == SNN_OK && used != size)
        st = snn_error_set(err, SNN_E_FORMAT, "%s: member %s holds %zu of "
                           "its %llu bytes (truncated archive?)", path, name,
                           used, (unsigned long long)size);
    if (st != SNN_OK) {
        free(buf);
        return st;
    }
    buf[used] = '\0';
    *out = buf;
    *len = used;
    return SNN_OK;
}

static snn_status read_json(zip_t *za, const char *path, const char *name,
                            uint64_t archive, json_t **out, int *found,
                            snn_error *err)
{
    char *text;
    size_t len;
    *out = NULL;
    snn_status st = read_member(za, path, name, archive, JSON_MAX, &text,
                                &len, found, err);
    if (st != SNN_OK || !*found)
        return st;
    json_error_t jerr;
    *out = json_loadb(text, len, 0, &jerr);
    free(text);
    if (!*out)
        return snn_error_set(err, SNN_E_FORMAT, "%s: %s:%d: invalid JSON: %s",
                             path, name, jerr.line, jerr.text);
    return SNN_OK;
}

/* Opens an HDF5 file image held in memory (HDF5 copies it). */
static snn_status open_image(const char *path, const void *image, size_t len,
                             hid_t *file, snn_error *err)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    int ok = fapl >= 0 && H5Pset_fapl_core(fapl, 1 << 20, 0) >= 0 &&
             H5Pset_file_image(fapl, (void *)image, len) >= 0 &&
             H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) >= 0;
    *file = ok ? H5Fopen("model.weights.h5", H5F_ACC_RDONLY, fapl) : -1;
    if (fapl >= 0)
        H5Pclose(fapl);
    if (*file < 0)
        return snn_error_set(err, SNN_E_FORMAT,
                             "%s: model.weights.h5 is not a readable HDF5 "
                             "file (truncated or corrupt?)", path);
    return SNN_OK;
}

static void read_version(zip_t *za, const char *path, uint64_t archive,
                         char version[32])
{
    json_t *meta = NULL;
    int found = 0;
    version[0] = '\0';
    if (read_json(za, path, "metadata.json", archive, &meta, &found, NULL) !=
        SNN_OK)
        return;
    const char *v = json_string_value(json_object_get(meta,
                                                      "keras_version"));
    if (v)
        snprintf(version, 32, "%s", v);
    json_decref(meta);
}

static snn_status read_archive(zip_t *za, const char *path, uint64_t archive,
                               json_t **config, hid_t *file, snn_error *err)
{
    int found = 0;
    snn_status st = read_json(za, path, "config.json", archive, config,
                              &found, err);
    if (st == SNN_OK && !found)
        st = snn_error_set(err, SNN_E_FORMAT, "%s: no config.json in the "
                           "archive (not a .keras model?)", path);
    char *image = NULL;
    size_t len = 0;
    if (st == SNN_OK)
        st = read_member(za, path, "model.weights.h5", archive, UINT64_MAX,
                         &image, &len, &found, err);
    if (st == SNN_OK && !found)
        st = snn_error_set(err, SNN_E_FORMAT, "%s: no model.weights.h5 in "
                           "the archive (saved without weights?)", path);
    if (st == SNN_OK)
        st = open_image(path, image, len, file, err);
    free(image);
    return st;
}

snn_status snn_keras_zip_open(const char *path, json_t **config,
                              char version[32], hid_t *file, snn_error *err)
{
    struct stat sb;
    int code = 0;
    *config = NULL;
    *file = -1;
    version[0] = '\0';
    if (stat(path, &sb) != 0)
        return snn_error_set(err, SNN_E_IO, "%s: cannot open", path);
    zip_t *za = zip_open(path, ZIP_RDONLY, &code);
    if (!za)
        return snn_zip_open_error(path, code, "a .keras archive", err);
    snn_status st = read_archive(za, path, (uint64_t)sb.st_size, config, file,
                                 err);
    if (st == SNN_OK)
        read_version(za, path, (uint64_t)sb.st_size, version);
    zip_discard(za);
    if (st != SNN_OK) {
        json_decref(*config);
        *config = NULL;
    }
    return st;
}

/* Keras' naming.to_snake_case: drop non-word characters, then "_" before
 * a capital that starts a lower-case run (not at the start, and not inside
 * a run an earlier match took) and between a lower-case letter and a
 * capital; then lower-case everything. */
static void snake_case(const char *cls, char *out, size_t size)
{
    char word[SNN_NAME_MAX], mid[2 * SNN_NAME_MAX];
    size_t n = 0, m = 0, o = 0;
    for (const char *p = cls; *p && n + 1 < sizeof word; p++)
        if (isalnum((unsigned char)*p) || *p == '_')
            word[n++] = *p;
    word[n] = '\0';
    for (size_t i = 0; i < n;) {
        if (i + 2 < n && isupper((unsigned char)word[i + 1]) &&
            islower((unsigned char)word[i + 2])) {
            size_t j = i + 3;
            while (j < n && islower((unsigned char)word[j]))
                j++;
            mid[m++] = word[i];
            mid[m++] = '_';
            memcpy(mid + m, word + i + 1, j - i - 1);
            m += j - i - 1;
            i = j;
        } else {
            mid[m++] = word[i++];
        }
    }
    for (size_t i = 0; i < m && o + 2 < size; i++) {
        int split = i + 1 < m && islower((unsigned char)mid[i]) &&
                    isupper((unsigned char)mid[i + 1]);
        out[o++] = (char)tolower((unsigned char)mid[i]);
        if (split) {
            out[o++] = '_';
            out[o++] = (char)tolower((unsigned char)mid[++i]);
        }
    }
    out[o < size ? o : size - 1] = '\0';
}

void snn_keras_vars_path(const char *prefix, const char *cls, int n,
                         char *buf, size_t size)
{
    char snake[2 * SNN_NAME_MAX];
    snake_case(cls, snake, sizeof snake);
    if (n == 0)
        snprintf(buf, size, "%slayers/%s/vars", prefix, snake);
    else
        snprintf(buf, size, "%slayers/%s_%d/vars", prefix, snake, n);
}
