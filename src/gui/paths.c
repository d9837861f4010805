/*
 * paths.c - the one gate between a path a browser names and the file
 * system: everything the GUI reads or writes for a request must resolve
 * (symbolic links followed) to the working directory or below it.
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include "gui/gui_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int has_dotdot(const char *p)
{
    while (*p) {
        size_t n = strcspn(p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return 1;
        p += n;
        p += *p == '/';
    }
    return 0;
}

static int inside(const char *wd, const char *real)
{
    size_t n = strlen(wd);
    if (strcmp(wd, "/") == 0)
        return 1;
    return strncmp(real, wd, n) == 0 && (real[n] == '/' || real[n] == '\0');
}

/* realpath of the folder holding path, then the last component again. */
static int resolve_new(const char *path, char *out, size_t n)
{
    const char *slash = strrchr(path, '/');
    const char *name = slash + 1;
    char dir[PATH_MAX];
    if (!*name || !strcmp(name, ".") || (size_t)(slash - path) >= sizeof dir)
        return 0;
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    char *real = realpath(dir[0] ? dir : "/", NULL);
    int w = real ? snprintf(out, n, "%s/%s", strcmp(real, "/") ? real : "",
                            name)
                 : -1;
    free(real);
    return w >= 0 && (size_t)w < n;
}

snn_status gui_path_resolve(const char *wd, const char *rel, int must_exist,
                            char *out, size_t n, snn_error *err)
{
    char joined[PATH_MAX];
    if (!rel || !*rel)
        return snn_error_set(err, SNN_E_INVALID, "no file name given");
    if (has_dotdot(rel))
        return snn_error_set(err, SNN_E_INVALID, "%s: '..' is not allowed: "
                             "files must lie in the working directory %s",
                             rel, wd);
    int w = rel[0] == '/' ? snprintf(joined, sizeof joined, "%s", rel)
                          : snprintf(joined, sizeof joined, "%s/%s", wd, rel);
    if (w < 0 || (size_t)w >= sizeof joined)
        return snn_error_set(err, SNN_E_INVALID, "%.200s...: path too long",
                             rel);
    char real[PATH_MAX];
    int found = realpath(joined, real) != NULL;
    if (!found && (must_exist || errno != ENOENT))
        return snn_error_set(err, SNN_E_IO, "%s: %s", rel, strerror(errno));
    if (!found && !resolve_new(joined, real, sizeof real))
        return snn_error_set(err, SNN_E_IO, "%s: its folder does not exist",
                             rel);
    if (!inside(wd, real))
        return snn_error_set(err, SNN_E_INVALID, "%s is outside the working "
                             "directory %s", rel, wd);
    if (strlen(real) >= n)
        return snn_error_set(err, SNN_E_INVALID, "%s: path too long", rel);
    memcpy(out, real, strlen(real) + 1);
    return SNN_OK;
}
