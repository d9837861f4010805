/*
 * proto.h - protocol-buffer plumbing shared by the Caffe and ONNX readers:
 * reading a whole file with a size cap, unpacking binary messages, and
 * reading protobuf text format (Caffe's .prototxt) into the same generated
 * protobuf-c structs, driven by their descriptors.
 */
#ifndef SNNTB_PARSE_PROTO_H
#define SNNTB_PARSE_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "snntb/status.h"

/* Reads all of path into a fresh buffer (NUL-terminated, *len excludes the
 * NUL).  Files larger than max_bytes are refused before anything is
 * allocated.  The caller frees *data. */
snn_status snn_proto_read_file(const char *path, size_t max_bytes,
                               uint8_t **data, size_t *len, snn_error *err);

/* Unpacks a binary message of type desc; a truncated or corrupt buffer is
 * an SNN_E_FORMAT error naming path and the message type.  Free *msg with
 * protobuf_c_message_free_unpacked(*msg, NULL). */
snn_status snn_proto_unpack(const ProtobufCMessageDescriptor *desc,
                            const uint8_t *data, size_t len, const char *path,
                            ProtobufCMessage **msg, snn_error *err);

/* Parses protobuf text format (fields by name, nested `{ }` blocks, enum
 * names, quoted strings, # comments) into a message of type desc.  Field
 * names the descriptor does not know are skipped with their values, since
 * our schemas are deliberately partial; malformed text is an SNN_E_FORMAT
 * error naming path:line.  Free *msg as for snn_proto_unpack. */
snn_status snn_proto_text_parse(const ProtobufCMessageDescriptor *desc,
                                const char *text, size_t len,
                                const char *path, ProtobufCMessage **msg,
                                snn_error *err);

#endif
