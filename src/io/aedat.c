/*
 * aedat.c - see aedat.h.  Formats as documented by iniVation
 * (docs.inivation.com, "AEDAT file formats"): a header of '#' lines
 * ("#!AER-DAT2.0", AEDAT 3.1 ending it with "#!END-HEADER"), then
 * 1.0: 6-byte events (uint16 address, uint32 timestamp, big-endian);
 * 2.0: 8-byte events (uint32 address, uint32 timestamp, big-endian);
 * 3.1: packets of a 28-byte little-endian header (int16 type, int16
 * source, int32 eventSize, tsOffset, tsOverflow, capacity, number,
 * valid) and capacity * eventSize bytes of events; a polarity event
 * (type 1) is uint32 data (bit 0 valid, bit 1 polarity, y bits 2..16,
 * x bits 17..31) and an int32 timestamp extended by tsOverflow << 31.
 */
#include "io/aedat.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define AEDAT_LINE_MAX 4096
#define CAER_HEADER 28
#define CAER_POLARITY 1
#define CAER_POLARITY_SIZE 8

typedef struct reader {
    FILE *f;
    const char *path;
    size_t pos; /* bytes consumed */
} reader;

static snn_status cut(const reader *r, const char *what, snn_error *err)
{
    return snn_error_set(err, SNN_E_FORMAT,
                         "%s: truncated: file ends inside %s at byte %zu",
                         r->path, what, r->pos);
}

/* Reads n bytes; *got 0 at a clean end of file, else an error if short. */
static snn_status read_exact(reader *r, void *buf, size_t n, const char *what,
                             int *got, snn_error *err)
{
    size_t k = fread(buf, 1, n, r->f);
    *got = 0;
    if (ferror(r->f))
        return snn_error_set(err, SNN_E_IO, "%s: cannot read: %s", r->path,
                             strerror(errno));
    *got = k > 0;
    if (k != 0 && k != n)
        return cut(r, what, err);
    r->pos += k;
    return SNN_OK;
}

/* One header line (after its '#'), NUL-terminated without the line end. */
static snn_status header_line(reader *r, char *line, snn_error *err)
{
    size_t len = 0;
    int c;
    while ((c = fgetc(r->f)) != EOF && c != '\n') {
        r->pos++;
        if (len + 1 < AEDAT_LINE_MAX)
            line[len++] = (char)c;
    }
    if (c == EOF)
        return snn_error_set(err, SNN_E_FORMAT,
                             "%s: bad header: file ends inside the header "
                             "line at byte %zu", r->path, r->pos);
    r->pos++;
    while (len > 0 && line[len - 1] == '\r')
        len--;
    line[len] = '\0';
    return SNN_OK;
}

static snn_status version_line(const reader *r, const char *line,
                               aedat_info *info, snn_error *err)
{
    const char *v = line + strlen("!AER-DAT");
    if (strcmp(v, "1.0") == 0)
        info->version = 1;
    else if (strcmp(v, "2.0") == 0)
        info->version = 2;
    else if (strcmp(v, "3.1") == 0)
        info->version = 3;
    else
        return snn_error_set(err, SNN_E_UNSUPPORTED,
                             "%s: bad header: AEDAT version '%s' is not "
                             "supported (1.0, 2.0, 3.1)", r->path, v);
    return SNN_OK;
}

static int mentions_dvs128(const char *line)
{
    for (const char *p = line; *p; p++)
        if (strncasecmp(p, "DVS128", 6) == 0)
            return 1;
    return 0;
}

static snn_status read_header(reader *r, aedat_info *info, snn_error *err)
{
    char line[AEDAT_LINE_MAX];
    int c, dvs128 = 0, ended = 0, first = 1;
    info->version = 1;
    while (!ended && (c = fgetc(r->f)) == '#') {
        r->pos++;
        snn_status st = header_line(r, line, err);
        if (st != SNN_OK)
            return st;
        if (strncmp(line, "!AER-DAT", 8) == 0) {
            if (!first)
                return snn_error_set(err, SNN_E_FORMAT, "%s: bad header: "
                                     "version line not first", r->path);
            if ((st = version_line(r, line, info, err)) != SNN_OK)
                return st;
        }
        if (strncmp(line, " AEChip:", 8) == 0)
            dvs128 = mentions_dvs128(line);
        ended = strcmp(line, "!END-HEADER") == 0;
        first = 0;
    }
    if (!ended && c != EOF)
        ungetc(c, r->f);
    if (info->version == 3 && !ended)
        return snn_error_set(err, SNN_E_FORMAT, "%s: bad header: AEDAT 3.1 "
                             "header has no #!END-HEADER line", r->path);
    info->layout = info->version == 3   ? AEDAT_CAER
                   : info->version == 1 ? AEDAT_DVS128
                   : dvs128             ? AEDAT_DVS128
                                        : AEDAT_DAVIS;
    info->data_start = r->pos;
    return SNN_OK;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 |
           p[0];
}

/* Decodes an address; 0 when it is not a polarity event. */
static int decode_address(aedat_layout layout, uint32_t a, dvs_event *e)
{
    if (layout == AEDAT_DVS128) {
        e->x = 127 - (int32_t)((a & 0xFEu) >> 1);
        e->y = (int32_t)((a & 0x7F00u) >> 8);
        e->p = (a & 1u) == 0;
        return 1;
    }
    if (a & 0x80000000u || a & 0x400u)
        return 0;
    e->y = (int32_t)((a & 0x7FC00000u) >> 22);
    e->x = (int32_t)((a & 0x003FF000u) >> 12);
    e->p = (a >> 11) & 1u;
    return 1;
}

static snn_status scan_v12(reader *r, const aedat_info *info,
                           aedat_visit visit, void *user, snn_error *err)
{
    size_t size = info->version == 1 ? 6 : 8, asize = size - 4;
    unsigned char b[8];
    int got = 1;
    snn_status st = SNN_OK;
    while (st == SNN_OK &&
           (st = read_exact(r, b, size, "an event", &got, err)) == SNN_OK &&
           got) {
        uint32_t a = asize == 2 ? (uint32_t)b[0] << 8 | b[1] : be32(b);
        dvs_event e;
        e.t = be32(b + asize);
        if (decode_address(info->layout, a, &e) && visit(user, &e))
            break;
    }
    return st;
}

/* Packets of other event types (frames, IMU, special) are passed over. */
static snn_status skip_bytes(reader *r, uint64_t n, snn_error *err)
{
    unsigned char buf[4096];
    int got;
    while (n > 0) {
        size_t k = n < sizeof buf ? (size_t)n : sizeof buf;
        snn_status st = read_exact(r, buf, k, "a packet", &got, err);
        if (st == SNN_OK && !got)
            st = cut(r, "a packet", err);
        if (st != SNN_OK)
            return st;
        n -= k;
    }
    return SNN_OK;
}

static snn_status scan_packet_events(reader *r, const unsigned char *h,
                                     aedat_visit visit, void *user,
                                     int *stop, snn_error *err)
{
    int16_t type = (int16_t)(h[0] | h[1] << 8);
    int32_t size = (int32_t)le32(h + 4), overflow = (int32_t)le32(h + 12);
    int32_t capacity = (int32_t)le32(h + 16);
    if (size <= 0 || capacity < 0 ||
        (type == CAER_POLARITY && size != CAER_POLARITY_SIZE))
        return snn_error_set(err, SNN_E_FORMAT,
                             "%s: bad packet header at byte %zu (event size "
                             "%d, capacity %d)", r->path, r->pos - CAER_HEADER,
                             size, capacity);
    if (type != CAER_POLARITY)
        return skip_bytes(r, (uint64_t)size * (uint64_t)capacity, err);
    unsigned char ev[CAER_POLARITY_SIZE];
    int got;
    for (int32_t i = 0; i < capacity; i++) {
        snn_status st = read_exact(r, ev, sizeof ev, "a packet", &got, err);
        if (st == SNN_OK && !got)
            st = cut(r, "a packet", err);
        if (st != SNN_OK)
            return st;
        uint32_t data = le32(ev);
        if (!(data & 1u) || *stop)
            continue;
        dvs_event e = {(int32_t)(data >> 17), (int32_t)((data >> 2) & 0x7FFFu),
                       (int64_t)overflow << 31 | (int64_t)le32(ev + 4),
                       (int)((data >> 1) & 1u)};
        *stop = visit(user, &e);
    }
    return SNN_OK;
}

static snn_status scan_v3(reader *r, aedat_visit visit, void *user,
                          snn_error *err)
{
    unsigned char h[CAER_HEADER];
    int got = 1, stop = 0;
    snn_status st = SNN_OK;
    while (st == SNN_OK && !stop &&
           (st = read_exact(r, h, CAER_HEADER, "a packet header", &got,
                            err)) == SNN_OK &&
           got)
        st = scan_packet_events(r, h, visit, user, &stop, err);
    return st;
}

snn_status aedat_scan(const char *path, aedat_visit visit, void *user,
                      aedat_info *info, snn_error *err)
{
    reader r = {fopen(path, "rb"), path, 0};
    if (!r.f)
        return snn_error_set(err, SNN_E_IO, "%s: cannot open: %s", path,
                             strerror(errno));
    snn_status st = read_header(&r, info, err);
    if (st == SNN_OK)
        st = info->version == 3 ? scan_v3(&r, visit, user, err)
                                : scan_v12(&r, info, visit, user, err);
    fclose(r.f);
    return st;
}

typedef struct event_list {
    dvs_event *ev;
    size_t n, cap;
    int failed;
} event_list;

static int append(void *user, const dvs_event *e)
{
    event_list *l = user;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4096;
        dvs_event *grown = realloc(l->ev, cap * sizeof *grown);
        if (!grown) {
            l->failed = 1;
            return 1;
        }
        l->ev = grown;
        l->cap = cap;
    }
    l->ev[l->n++] = *e;
    return 0;
}

snn_status aedat_read(const char *path, dvs_event **events, size_t *n,
                      aedat_info *info, snn_error *err)
{
    event_list l = {NULL, 0, 0, 0};
    snn_status st = aedat_scan(path, append, &l, info, err);
    if (st == SNN_OK && l.failed)
        st = snn_error_set(err, SNN_E_NOMEM, "%s: no memory for %zu events",
                           path, l.n);
    if (st != SNN_OK) {
        free(l.ev);
        l.ev = NULL;
        l.n = 0;
    }
    *events = l.ev;
    *n = l.n;
    return st;
}
