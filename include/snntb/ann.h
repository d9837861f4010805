/*
 * ann.h - float32 reference inference of a graph: the ANN's own outputs,
 * its accuracy, and the activations that normalization needs.
 */
#ifndef SNNTB_ANN_H
#define SNNTB_ANN_H

#include "snntb/graph.h"
#include "snntb/status.h"
#include "snntb/tensor.h"

/* Runs x, shaped (N, <input layer shape>), through g.  acts must hold
 * g->n_layers tensors, zeroed or left from an earlier call; each is
 * (re)allocated to receive that layer's output (N, <layer shape>), reusing
 * its buffer when the shape is unchanged; free them with
 * snn_ann_acts_free (also after an error).  x may be laid out differently
 * (say (N, 784) for a (1, 28, 28) input) as long as each sample has the
 * input layer's number of values. */
snn_status snn_ann_forward(const snn_graph *g, const snn_tensor *x,
                           snn_tensor *acts, snn_error *err);
void snn_ann_acts_free(snn_tensor *acts, int n);

typedef struct snn_score {
    size_t n;     /* samples scored */
    size_t top1;  /* correct at top-1 */
    size_t topk;  /* label among the k largest outputs */
} snn_score;

/* Scores the first n samples of x (labels one-hot in y) in batches. */
snn_status snn_ann_score(const snn_graph *g, const snn_tensor *x,
                         const snn_tensor *y, size_t n, size_t batch,
                         int top_k, snn_score *score, snn_error *err);

/* snn_ann_score in the caller's activations (as snn_ann_forward's), so
 * that a caller scoring a stream chunk by chunk keeps one set of buffers:
 * allocating them anew for each chunk cost more in page faults than the
 * chunk's arithmetic. */
snn_status snn_ann_score_acts(const snn_graph *g, const snn_tensor *x,
                              const snn_tensor *y, size_t n, size_t batch,
                              int top_k, snn_tensor *acts, snn_score *score,
                              snn_error *err);

/* Whether label is among the k largest of scores[0..n).  Ties rank in
 * index order: a class with the same score and a lower index ranks ahead
 * of label (as a stable descending argsort puts them), so label is in the
 * top k when fewer than k classes are ahead of it. */
int snn_in_top_k(const float *scores, int n, int label, int k);

#endif
