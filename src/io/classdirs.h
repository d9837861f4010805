/*
 * classdirs.h - the class-per-folder layout that image and DVS datasets
 * share (Keras's flow_from_directory, the original's DVSIterator): one
 * sub-folder of dataset_path per class, the samples its files, both in
 * sorted order.  Internal to src/io.
 */
#ifndef SNNTB_IO_CLASSDIRS_H
#define SNNTB_IO_CLASSDIRS_H

#include <stddef.h>
#include "snntb/status.h"

typedef struct ds_files {
    char **paths; /* n full paths, class by class */
    int *labels;  /* n labels */
    size_t n;
} ds_files;

/* Sorted names of dir's sub-folders (NULL-terminated, free with
 * snn_strlist_free). */
snn_status ds_subdirs(const char *dir, char ***names, snn_error *err);

/* Lists the files of dir/<folders[i]> (label labels[i], or i when labels is
 * NULL) whose extension (any case) is in exts; a file whose extension is
 * in refused is an error naming it; other files are not samples.  A
 * sub-folder inside a class folder is an error. */
snn_status ds_files_list(ds_files *f, const char *dir, char *const *folders,
                         const int *labels, const char *const *exts,
                         const char *const *refused, snn_error *err);
void ds_files_free(ds_files *f);

#endif
