/*
 * aedat.h - reading DVS polarity events from AEDAT files, the format jAER
 * and libcaer record: AEDAT 1.0/2.0 (big-endian address + timestamp
 * pairs; DVS128 or DAVIS address layout) and AEDAT 3.1 (libcaer event
 * packets, polarity events).  Internal to src/io; tests use it directly.
 */
#ifndef SNNTB_IO_AEDAT_H
#define SNNTB_IO_AEDAT_H

#include <stddef.h>
#include <stdint.h>
#include "snntb/status.h"

typedef struct dvs_event {
    int32_t x, y;
    int64_t t; /* microseconds */
    int p;     /* 1 ON, 0 OFF */
} dvs_event;

typedef enum aedat_layout {
    AEDAT_DVS128, /* 16/32-bit address: x = 127 - bits 1..7, y = bits
                     8..14, polarity bit 0 (0 = ON), as jAER's DVS128 */
    AEDAT_DAVIS,  /* 32-bit address: y bits 22..30, x bits 12..21,
                     polarity bit 11 (1 = ON); bit 31 (APS/IMU) or bit 10
                     (special) set: not a polarity event */
    AEDAT_CAER    /* AEDAT 3.1 polarity packets */
} aedat_layout;

typedef struct aedat_info {
    int version;         /* 1, 2 or 3 */
    aedat_layout layout;
    size_t data_start;   /* first byte after the header */
} aedat_info;

/* Called once per polarity event, in file order; nonzero stops the scan. */
typedef int (*aedat_visit)(void *user, const dvs_event *e);

/* Reads path's header and every polarity event.  Version 1.0 files (and
 * files without a version line) use the DVS128 layout; 2.0 files the
 * DAVIS layout unless their "# AEChip:" line names a DVS128.  A file that
 * ends inside an event or a packet, or has a bad header, is an error
 * naming it and the byte offset. */
snn_status aedat_scan(const char *path, aedat_visit visit, void *user,
                      aedat_info *info, snn_error *err);

/* All polarity events of path, malloc'd into *events (NULL when none). */
snn_status aedat_read(const char *path, dvs_event **events, size_t *n,
                      aedat_info *info, snn_error *err);

#endif
