/*
 * testutil.h - helpers shared by the unit tests: locating fixtures and the
 * shared data, skipping cleanly when optional data is absent, temp dirs,
 * and building or reading graphs in a test.
 */
#ifndef SNNTB_TESTUTIL_H
#define SNNTB_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <hdf5.h>

#include "snntb/graph.h"
#include "snntb/net.h"
#include "snntb/sim.h"
#include "snntb/tensor.h"

/* Path of a file under tests/fixtures, in a static-per-call buffer the
 * caller provides. */
const char *tu_fixture(char *buf, size_t n, const char *rel);

/* Path under ../shared; returns NULL (after printing why) when the file is
 * absent, so the caller can skip(). */
const char *tu_shared(char *buf, size_t n, const char *rel);

/* Creates a fresh temporary directory; returns its path in buf. */
const char *tu_tempdir(char *buf, size_t n);

/* Removes a directory tree made by tu_tempdir. */
void tu_rmtree(const char *path);

/* Writes text to path (for configs and broken files). */
void tu_write_file(const char *path, const char *text, size_t len);

/* Writes a float32 array as member arr_0.npy of a new .npz at path, the
 * way numpy.savez stores it. */
void tu_write_npz(const char *path, int ndim, const size_t *dims,
                  const float *data);

/* Copies the first `len` bytes of src to dst (all of it when len is
 * (size_t)-1): for models that must sit beside a config, or be cut short. */
void tu_copy_file(const char *src, const char *dst, size_t len);

/* Runs the snntb CLI with args (a shell-quoted string); returns its exit
 * status and leaves its stderr in `errbuf`. */
int tu_run_cli(const char *args, char *errbuf, size_t n);

/* The graph's last-layer output on x, copied into out (caller frees);
 * fails the test, naming `what`, when inference fails. */
void tu_ann_output(const snn_graph *g, const snn_tensor *x, snn_tensor *out,
                   const char *what);

/* How close an output must be to the framework's: within 1e-4 absolutely,
 * relative to max(1, |expected|), or relative to the largest |expected|. */
typedef enum tu_tolerance { TU_TOL_ABS, TU_TOL_REL, TU_TOL_SCALE } tu_tolerance;

/* Fails unless got has want's size and every value is within tolerance;
 * the message names `what` and `truth` (who computed want). */
void tu_assert_close(const snn_tensor *got, const snn_tensor *want,
                     tu_tolerance tol, const char *what, const char *truth);

/* Simulates x (n samples, one batch) for `steps` on `engine`, labelled
 * class 0; counts (n_layers entries) receives every net layer's spike
 * counts of all samples (free them with tu_counts_free). */
snn_status tu_simulate(const snn_net *net, const snn_tensor *x, size_t n,
                       int steps, snn_sim_engine engine, float **counts,
                       snn_sim_result *res, snn_error *err);
void tu_counts_free(float **counts, int n);

/* Rounds every weight and bias of net (its projections' too) to a
 * multiple of 1 / den_w and the samples x to one of 1 / den_x: the
 * engines' sums are then exact in any order, so their spikes must agree
 * to the last one. */
void tu_net_dyadic(snn_net *net, snn_tensor *x, float den_w, float den_x);

/* Runs net (dyadic) on x (n samples, `steps`; Poisson input at
 * input_rate Hz when > 0) on the reference engine and
 * on the event engine at batch sizes 1, 3 and n with 1 and 2 threads (and
 * on the dense and auto engines):
 * every layer's spike counts, the spikes, the synaptic operations and the
 * predictions must be the same; fails naming `what`, the run and the
 * layer. */
void tu_engines_agree(const snn_net *net, const snn_tensor *x, size_t n,
                      int steps, double input_rate, const char *what);

/* Shows that tu_engines_agree would catch an engine that drops one input
 * of a layer: zeroing any Add projection's weights changes the reference
 * engine's spikes, and every concatenated source spikes. */
void tu_projections_matter(snn_net *net, const snn_tensor *x, size_t n,
                           int steps, const char *what);

/* A converted net's output spike counts (n samples x n_out classes, of
 * `steps` steps, v_thresh 1) against the ANN outputs want (n, n_out),
 * which its rates approximate clipped to [0, 1]: fails when a rate is
 * further than tol from its ANN value, when a sample whose ANN top-2
 * margin exceeds 0.05 gets another class in pred, or when fewer than half
 * the samples have such a margin; prints the largest difference, naming
 * `what`. */
void tu_rates_agree(const float *counts, const snn_tensor *want,
                    const int *pred, int steps, double tol, const char *what);

/* True when SNNTB_QUICK is set (sanitizer runs): use smaller workloads. */
int tu_quick(void);

/* Loads tests/fixtures/<rel> into t; fails the test, naming rel, when it
 * cannot. */
void tu_load_npy(const char *rel, snn_tensor *t);

/* x_test.npz and y_test.npz in dir from a Keras fixture's inputs
 * (<stem>_x.npy, in Keras' own layout), labelled one-hot with the classes
 * Keras predicted (<stem>_y.npy), so a correct ANN scores 100 %. */
void tu_write_keras_dataset(const char *dir, const char *stem);

/* tu_write_keras_dataset for the Keras CNN fixture (keras/cnn.h5). */
void tu_write_cnn_dataset(const char *dir);

/* The layer of g named name; fails the test when there is none. */
const snn_layer *tu_layer(const snn_graph *g, const char *name);

/* Adds l to g fed by layer input (no input when input < 0); fails the
 * test when the graph refuses it. */
void tu_add_layer(snn_graph *g, snn_layer *l, int input);

/* The whole text file dir/name (caller frees); fails the test when it
 * cannot be read. */
char *tu_read_text(const char *dir, const char *name);

int tu_file_exists(const char *path);

/* Reads the HDF5 dataset at path as doubles into out (at most cap);
 * returns its element count; fails the test when it is absent. */
size_t tu_h5_read_num(hid_t file, const char *path, double *out, size_t cap);

/* A reproducible tensor of dyadic values k / den, k uniform in [lo, hi],
 * drawn from *seed: sums of them are exact in float in any order. */
void tu_dyadic_tensor(snn_tensor *t, int ndim, const size_t *dims,
                      uint64_t *seed, int lo, int hi, int den);

/* A small converted CNN with dyadic weights and biases, for the exports:
 * input (2, 6, 6) -> conv 3x3x3 pad 1, relu -> 2x2 pooling (pool_op) ->
 * flatten in (H, W, C) order -> dense 8, relu -> dense 4 (softmax or relu
 * output); v_thresh 1, dt 1. */
void tu_small_cnn(snn_net *net, snn_op pool_op, int softmax,
                  snn_reset reset);

/* n samples for it, values k / 4 in [0, 1], and one-hot labels j % 4. */
void tu_small_cnn_samples(snn_tensor *x, snn_tensor *y, size_t n);

#endif
