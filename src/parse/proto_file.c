/*
 * proto_file.c - reading a model file whole and unpacking it as a
 * protobuf message.  protobuf-c sizes every allocation from the bytes it
 * has, so a hostile file cannot make it allocate more than a small
 * multiple of its own size; the cap here bounds that size itself.
 */
#include "parse/proto.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static snn_status file_size(FILE *f, const char *path, size_t max_bytes,
                            size_t *size, snn_error *err)
{
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode))
        return snn_error_set(err, SNN_E_IO, "%s: not a regular file", path);
    if ((unsigned long long)st.st_size > (unsigned long long)max_bytes)
        return snn_error_set(err, SNN_E_FORMAT,
                             "%s: %lld bytes, more than the %zu this reader "
                             "accepts", path, (long long)st.st_size,
                             max_bytes);
    *size = (size_t)st.st_size;
    return SNN_OK;
}

snn_status snn_proto_read_file(const char *path, size_t max_bytes,
                               uint8_t **data, size_t *len, snn_error *err)
{
    *data = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return snn_error_set(err, SNN_E_IO, "%s: cannot open: %s", path,
                             strerror(errno));
    size_t size = 0;
    snn_status st = file_size(f, path, max_bytes, &size, err);
    uint8_t *buf = st == SNN_OK ? malloc(size + 1) : NULL;
    if (st == SNN_OK && !buf)
        st = snn_error_set(err, SNN_E_NOMEM, "%s: cannot allocate %zu bytes",
                           path, size);
    if (st == SNN_OK && fread(buf, 1, size, f) != size)
        st = snn_error_set(err, SNN_E_IO, "%s: read failed", path);
    fclose(f);
    if (st != SNN_OK) {
        free(buf);
        return st;
    }
    buf[size] = '\0';
    *data = buf;
    *len = size;
    return SNN_OK;
}

snn_status snn_proto_unpack(const ProtobufCMessageDescriptor *desc,
                            const uint8_t *data, size_t len, const char *path,
                            ProtobufCMessage **msg, snn_error *err)
{
    *msg = protobuf_c_message_unpack(desc, NULL, len, data);
    if (!*msg)
        return snn_error_set(err, SNN_E_FORMAT,
                             "%s: not a valid %s protobuf (truncated, "
                             "corrupt or another kind of file)", path,
                             desc->name);
    return SNN_OK;
}
