/*
 * scalecache.h - normalization scale factors saved in the log folder and
 * reused when the model, the normalization set and the percentile are the
 * same as when they were computed (normalizing means running the ANN over
 * the whole normalization set, the slowest step before simulation), and
 * they were computed the same way (layer-wise or channel-wise).
 *
 * "The same" is decided by content, not by file names or times: the key
 * holds a hash of every weight and of every normalization sample.
 */
#ifndef SNNTB_PIPELINE_SCALECACHE_H
#define SNNTB_PIPELINE_SCALECACHE_H

#include "snntb/graph.h"
#include "snntb/normalize.h"
#include "snntb/status.h"

/* What the factors depend on. */
typedef struct snn_scale_key {
    const snn_graph *graph;   /* before scaling */
    const snn_tensor *normset;
    const char *normset_name; /* where the samples came from, for users */
    double percentile;
    int channelwise;          /* one factor per channel, not per layer */
} snn_scale_key;

/* Loads factors saved under the same key for this graph's layers.
 * Returns 1 when found and valid, 0 otherwise (a stale or unreadable cache
 * is simply recomputed). */
int snn_scalecache_load(const char *path, const snn_scale_key *key,
                        snn_scales *out);

snn_status snn_scalecache_save(const char *path, const snn_scale_key *key,
                               const snn_scales *s, snn_error *err);

#endif
