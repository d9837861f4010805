/*
 * classdirs.c - see classdirs.h.
 */
#include "io/classdirs.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "snntb/config.h"

#define CD_PATH_MAX 4096

/* Python's sorted() on str: code point order, which is UTF-8 byte order. */
static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_dir(const char *dir, const char *name)
{
    char path[CD_PATH_MAX];
    struct stat sb;
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
        return 0;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* Entries of dir other than . and .., sorted; folders or files only. */
static snn_status list_dir(const char *dir, int want_dirs, char ***names,
                           size_t *count, snn_error *err)
{
    *names = NULL;
    *count = 0;
    DIR *d = opendir(dir);
    if (!d)
        return snn_error_set(err, SNN_E_IO, "%s: cannot list: %s", dir,
                             strerror(errno));
    size_t cap = 0;
    snn_status st = SNN_OK;
    struct dirent *e;
    while (st == SNN_OK && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
            is_dir(dir, e->d_name) != want_dirs)
            continue;
        if (*count + 2 > cap) {
            cap = cap ? cap * 2 : 64;
            char **grown = realloc(*names, cap * sizeof *grown);
            if (!grown) {
                st = snn_error_set(err, SNN_E_NOMEM, "%s: no memory", dir);
                break;
            }
            *names = grown;
        }
        if (!((*names)[*count] = strdup(e->d_name)))
            st = snn_error_set(err, SNN_E_NOMEM, "%s: no memory", dir);
        else
            (*names)[++*count] = NULL;
    }
    closedir(d);
    if (st == SNN_OK && !*names && !(*names = calloc(1, sizeof **names)))
        st = snn_error_set(err, SNN_E_NOMEM, "%s: no memory", dir);
    if (st != SNN_OK) {
        snn_strlist_free(*names);
        *names = NULL;
        return st;
    }
    qsort(*names, *count, sizeof **names, by_name);
    return SNN_OK;
}

snn_status ds_subdirs(const char *dir, char ***names, snn_error *err)
{
    size_t n;
    return list_dir(dir, 1, names, &n, err);
}

static int ext_in(const char *name, const char *const *exts)
{
    const char *dot = strrchr(name, '.');
    for (; dot && *exts; exts++)
        if (strcasecmp(dot + 1, *exts) == 0)
            return 1;
    return 0;
}

static snn_status add_file(ds_files *f, const char *path, int label,
                           size_t *cap, snn_error *err)
{
    if (f->n == *cap) {
        *cap = *cap ? *cap * 2 : 256;
        char **p = realloc(f->paths, *cap * sizeof *p);
        if (p)
            f->paths = p;
        int *l = p ? realloc(f->labels, *cap * sizeof *l) : NULL;
        if (l)
            f->labels = l;
        if (!p || !l)
            return snn_error_set(err, SNN_E_NOMEM, "no memory for the file "
                                 "list");
    }
    if (!(f->paths[f->n] = strdup(path)))
        return snn_error_set(err, SNN_E_NOMEM, "no memory for the file list");
    f->labels[f->n++] = label;
    return SNN_OK;
}

static snn_status list_class(ds_files *f, const char *dir, const char *folder,
                             int label, const char *const *exts,
                             const char *const *refused, size_t *cap,
                             snn_error *err)
{
    char cdir[CD_PATH_MAX], path[CD_PATH_MAX];
    char **names = NULL, **sub = NULL;
    size_t n = 0, nsub = 0;
    if ((size_t)snprintf(cdir, sizeof cdir, "%s/%s", dir, folder) >=
        sizeof cdir)
        return snn_error_set(err, SNN_E_INVALID, "%s: path too long", dir);
    snn_status st = list_dir(cdir, 1, &sub, &nsub, err);
    if (st == SNN_OK && nsub)
        st = snn_error_set(err, SNN_E_UNSUPPORTED,
                           "%s/%s: class folders hold the sample files; "
                           "sub-folders are not read", cdir, sub[0]);
    if (st == SNN_OK)
        st = list_dir(cdir, 0, &names, &n, err);
    for (size_t i = 0; st == SNN_OK && i < n; i++) {
        if ((size_t)snprintf(path, sizeof path, "%s/%s", cdir, names[i]) >=
            sizeof path)
            st = snn_error_set(err, SNN_E_INVALID, "%s: path too long", cdir);
        else if (ext_in(names[i], refused))
            st = snn_error_set(err, SNN_E_UNSUPPORTED,
                               "%s: this file type is not supported", path);
        else if (ext_in(names[i], exts))
            st = add_file(f, path, label, cap, err);
    }
    snn_strlist_free(sub);
    snn_strlist_free(names);
    return st;
}

snn_status ds_files_list(ds_files *f, const char *dir, char *const *folders,
                         const int *labels, const char *const *exts,
                         const char *const *refused, snn_error *err)
{
    memset(f, 0, sizeof *f);
    size_t cap = 0;
    snn_status st = SNN_OK;
    for (size_t i = 0; st == SNN_OK && folders[i]; i++) {
        if (!is_dir(dir, folders[i]))
            st = snn_error_set(err, SNN_E_IO, "%s/%s: class folder not found",
                               dir, folders[i]);
        else
            st = list_class(f, dir, folders[i], labels ? labels[i] : (int)i,
                            exts, refused, &cap, err);
    }
    if (st != SNN_OK)
        ds_files_free(f);
    return st;
}

void ds_files_free(ds_files *f)
{
    for (size_t i = 0; f->paths && i < f->n; i++)
        free(f->paths[i]);
    free(f->paths);
    free(f->labels);
    memset(f, 0, sizeof *f);
}
