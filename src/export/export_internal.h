/*
 * export_internal.h - what the export writers share: how the spiking IR's
 * conventions (spikes carrying v_thresh, Keras's (H, W, C) flatten order)
 * turn into the plain conventions of the targets (spikes of value 1,
 * channels-first flatten), and safe names.  Internal to the library.
 */
#ifndef SNNTB_EXPORT_INTERNAL_H
#define SNNTB_EXPORT_INTERNAL_H

#include <stddef.h>
#include "core/strbuf.h"
#include "snntb/net.h"

/* Whether layer i's synaptic op sees the analog sample rather than spikes:
 * its input is the net's input, through reshapes only (targets without
 * max-pool gating turn a gate into average-pooling neurons). */
int snn_export_fed_by_input(const snn_net *net, int i);

/* The factor by which the weights of layer i are multiplied when the
 * target's spikes carry 1: v_thresh when it is fed by spikes, else 1. */
float snn_export_weight_scale(const snn_net *net, int i);

/* For a dense layer i fed by a flatten: the index, in channels-first
 * order, of the flatten's input element that the dense layer's input
 * column j reads.  Identity unless that flatten is in (H, W, C) order. */
size_t snn_export_dense_column(const snn_net *net, int i, size_t j);

/* Copies src into dst (size n) with every character that is not a letter,
 * digit, '-' or '_' replaced by '_', so that it is a node, group or
 * Python identifier fragment. */
void snn_export_safe_name(char *dst, size_t n, const char *src);

/* Names of the reset modes as the writers record them. */
const char *snn_export_reset_name(snn_reset r);

/* Generated scripts and sources are built in memory, up to this size, and
 * written atomically. */
#define SNN_TEXT_MAX ((size_t)1 << 28)

/* Appends s, or printf-style text (one piece under 1 KiB), to b; 0 when
 * out of memory or over SNN_TEXT_MAX. */
int snn_text_put(snn_strbuf *b, const char *s);
int snn_text_putf(snn_strbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Writes b to path atomically, or fails naming path when building b ran
 * out of memory (ok == 0).  Frees b. */
snn_status snn_text_write(snn_strbuf *b, int ok, const char *path,
                          snn_error *err);

#endif
