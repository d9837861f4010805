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

/* The native run's seed for stochastic output neurons (run.c). */
#define SNN_NATIVE_SEED 0x5eedULL

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

/* Python that the Brian2 and PyNN run scripts share, spliced into their
 * script literals: predict() and main()'s first arguments, loading the
 * samples and labels, and printing and saving the results. */
#define SNN_PY_PREDICT_MAIN_ARGS \
    "def predict(counts):\n" \
    "    return int(np.argmax(counts)) if counts.max() > 0 else -1\n" \
    "\n" \
    "\n" \
    "def main():\n" \
    "    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])\n" \
    "    ap.add_argument(\"samples\")\n" \
    "    ap.add_argument(\"--labels\")\n" \
    "    ap.add_argument(\"-n\", type=int, default=None)\n"
#define SNN_PY_LOAD_SAMPLES \
    "    x = np.load(a.samples)[\"arr_0\"]\n" \
    "    n = len(x) if a.n is None else min(a.n, len(x))\n" \
    "    labels = None\n" \
    "    if a.labels:\n" \
    "        labels = np.argmax(np.load(a.labels)[\"arr_0\"][:n], axis=1)\n"
#define SNN_PY_REPORT_RESULTS \
    "    preds = np.array([predict(c) for c in counts])\n" \
    "    for j in range(n):\n" \
    "        print(f\"sample {j}: class {preds[j]}\")\n" \
    "    if labels is not None:\n" \
    "        print(f\"accuracy: {np.mean(preds == labels):.4f} on {n} samples\")\n" \
    "    if a.out:\n" \
    "        np.savez(a.out, counts=counts, predictions=preds)\n" \
    "\n" \
    "\n" \
    "if __name__ == \"__main__\":\n" \
    "    main()\n"

#endif
