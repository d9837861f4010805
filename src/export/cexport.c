/*
 * cexport.c - writes the spiking net as one dependency-free C99 source
 * file: the weights as constant arrays, the state as static arrays (no
 * malloc), the event-driven integrate-and-fire loop of the native
 * simulator, and a main() that reads samples from a raw float32 file and
 * prints each sample's predicted class and output spike counts.  For
 * running a converted net where there is no Python and no snntb: a
 * microcontroller, a bare server.
 *
 * The program does what snn_simulate does, step for step: the layers fed
 * by the sample get its constant current (computed once per sample);
 * every other layer's current is its bias plus the fan-out of this
 * step's input spikes (weights times v_thresh); neurons fire at
 * v >= v_thresh and reset as the net says; max-pooling passes the spike
 * of each window's most active input (the first on ties); a softmax
 * output fires with probability softmax(v), drawn from the same
 * counter-based generator and seed.  Flattens vanish: a dense layer's
 * columns are re-ordered to read its source's channels-first neurons.
 * Sums run in another order than the native engines', so spike counts
 * agree exactly when every sum is exact and up to rounding otherwise.
 *
 * With a precision of 16 or 8 bits the same program computes in integers
 * (the types and per-layer thresholds change, not the loop): the values
 * are snn_quantize's, and the program matches snn_simulate of the
 * quantized net exactly while the simulator's float sums of these dyadic
 * values are exact (magnitudes below 2^24 units of the layer).
 */
#include "snntb/export.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/export_internal.h"
#include "export/synapses.h"

/* One entry of the generated layer table: a neuron or gate layer. */
typedef struct c_layer {
    int net_index; /* in the spiking net: the random draws' layer key */
    int src;       /* table entry feeding it; -1: the sample */
    snn_shape in;  /* the source's shape (channels first) */
} c_layer;

static const char *kind_name(const snn_net_layer *nl)
{
    if (nl->unit == SNN_UNIT_MAXGATE)
        return "K_MAXGATE";
    switch (nl->syn.op) {
    case SNN_OP_DENSE:
        return "K_DENSE";
    case SNN_OP_CONV2D:
        return "K_CONV";
    case SNN_OP_AVGPOOL2D:
        return "K_AVG";
    default:
        return NULL;
    }
}

static snn_status check_layer(const snn_net *net, int i, int src,
                              snn_error *err)
{
    const snn_net_layer *nl = &net->layers[i];
    const snn_window *w = &nl->syn.win;
    if (!kind_name(nl))
        return snn_error_set(err, SNN_E_UNSUPPORTED, "layer '%s': C export "
                             "of %s layers is not supported", nl->syn.name,
                             snn_op_name(nl->syn.op));
    if (nl->unit == SNN_UNIT_MAXGATE && src < 0)
        return snn_error_set(err, SNN_E_UNSUPPORTED, "layer '%s': C export "
                             "of max-pooling fed by the sample is not "
                             "supported", nl->syn.name);
    if (nl->syn.op != SNN_OP_DENSE &&
        (w->pad[2] != w->pad[0] || w->pad[3] != w->pad[1] || w->count_pad ||
         nl->in_shape.ndim != 3))
        return snn_error_set(err, SNN_E_UNSUPPORTED, "layer '%s': C export "
                             "needs symmetric padding that pooling does not "
                             "count", nl->syn.name);
    return SNN_OK;
}

/* The table: every layer but flattens, with sources past flattens. */
static snn_status plan_table(const snn_net *net, c_layer *t, int *n,
                             int *entry_of, snn_error *err)
{
    *n = 0;
    for (int i = 0; i < net->n_layers; i++) {
        entry_of[i] = -1;
        if (net->layers[i].unit == SNN_UNIT_RESHAPE)
            continue;
        int src = snn_syn_source_layer(net, net->layers[i].input);
        snn_status st = check_layer(net, i, src, err);
        if (st != SNN_OK)
            return st;
        t[*n].net_index = i;
        t[*n].src = src < 0 ? -1 : entry_of[src];
        t[*n].in = src < 0 ? net->input_shape : net->layers[src].syn.shape;
        entry_of[i] = (*n)++;
    }
    if (entry_of[net->n_layers - 1] < 0)
        return snn_error_set(err, SNN_E_UNSUPPORTED, "layer '%s': the net "
                             "must end in neurons for the C export, not in "
                             "a flatten",
                             net->layers[net->n_layers - 1].syn.name);
    return SNN_OK;
}

/* Dims of a shape as (C, H, W); vectors are (n, 1, 1). */
static void chw(const snn_shape *s, size_t d[3])
{
    if (s->ndim == 3) {
        d[0] = s->dims[0];
        d[1] = s->dims[1];
        d[2] = s->dims[2];
    } else {
        d[0] = snn_shape_numel(s);
        d[1] = d[2] = 1;
    }
}

/* What the program is written from: the net itself (float), or the
 * integer net of its quantization (fixed point). */
typedef struct c_prog {
    const snn_net *net;
    const int *shift; /* fixed point: per layer, threshold 2^shift */
    int precision;    /* 0 (float), 16 or 8 */
    int wide;         /* fixed point with 64-bit membranes */
} c_prog;

/* A literal that reads back as exactly v: 9 significant digits for a
 * float, the integer itself in fixed point. */
static int put_value(snn_strbuf *b, const c_prog *p, float v, int last)
{
    const char *sep = last ? "\n" : " ";
    if (p->precision)
        return snn_text_putf(b, "%ld,%s", lrintf(v), sep);
    return snn_text_putf(b, "%#.9gf,%s", (double)v, sep);
}

static int put_array(snn_strbuf *b, const c_prog *p, const char *type,
                     const char *name, int k, const float *v, size_t n)
{
    int ok = snn_text_putf(b, "static const %s %s_%d[%zu] = {\n", type, name,
                           k, n ? n : 1);
    for (size_t j = 0; ok && j < n; j++)
        ok = put_value(b, p, v[j], j % 6 == 5 || j + 1 == n);
    return ok && snn_text_put(b, n ? "};\n" : "0};\n");
}

/* Dense weights transposed to (in, out), each row the fan-out of one
 * neuron of the source in its channels-first order, times scale. */
static float *dense_rows(const snn_net *net, int i, float scale)
{
    const snn_tensor *w = &net->layers[i].syn.weight;
    size_t rows = w->dims[0], cols = w->dims[1], n = rows * cols;
    float *t = malloc((n ? n : 1) * sizeof *t);
    for (size_t j = 0; t && j < cols; j++) {
        size_t q = snn_export_dense_column(net, i, j);
        for (size_t o = 0; o < rows; o++)
            t[q * rows + o] = w->data[o * cols + j] * scale;
    }
    return t;
}

static int all_finite(const float *v, size_t n)
{
    for (size_t j = 0; j < n; j++)
        if (!isfinite(v[j]))
            return 0;
    return 1;
}

/* Weights and biases of entry k: float weights times v_thresh when fed by
 * spikes; integers as they are. */
static snn_status put_weights(snn_strbuf *b, int *ok, const c_prog *p,
                              const c_layer *c, int k, snn_error *err)
{
    const snn_net *net = p->net;
    const snn_layer *l = &net->layers[c->net_index].syn;
    float scale = c->src < 0 || p->precision ? 1.0f : net->v_thresh;
    size_t n = snn_tensor_numel(&l->weight);
    if (l->op != SNN_OP_DENSE && l->op != SNN_OP_CONV2D)
        return SNN_OK;
    float *w = l->op == SNN_OP_DENSE ? dense_rows(net, c->net_index, scale)
                                     : malloc((n ? n : 1) * sizeof *w);
    if (!w)
        return snn_error_set(err, SNN_E_NOMEM, "layer '%s': cannot allocate "
                             "its weights", l->name);
    if (l->op == SNN_OP_CONV2D)
        for (size_t j = 0; j < n; j++)
            w[j] = l->weight.data[j] * scale;
    snn_status st = SNN_OK;
    if (!all_finite(w, n) ||
        !all_finite(l->bias.data, snn_tensor_numel(&l->bias)))
        st = snn_error_set(err, SNN_E_INVALID, "layer '%s': weights or "
                           "biases are not finite", l->name);
    size_t nb = snn_tensor_numel(&l->bias);
    *ok = *ok && st == SNN_OK && put_array(b, p, "w_t", "w", k, w, n) &&
          (!nb || put_array(b, p, "b_t", "b", k, l->bias.data, nb));
    free(w);
    return st;
}

static int put_state(snn_strbuf *b, const snn_net *net, const c_layer *c,
                     int k)
{
    size_t n = snn_net_layer_size(net, c->net_index);
    int ok = snn_text_putf(b, "static v_t v_%d[%zu], cur_%d[%zu];\n"
                              "static uint32_t ev_%d[%zu];\n"
                              "static unsigned char spk_%d[%zu];\n",
                           k, n, k, n, k, n, k, n);
    if (ok && net->layers[c->net_index].unit == SNN_UNIT_MAXGATE)
        ok = snn_text_putf(b, "static float count_%d[%zu];\n", k,
                           snn_shape_numel(&c->in));
    return ok;
}

/* Entry k's threshold as a literal. */
static void threshold_literal(char *dst, size_t n, const c_prog *p,
                              const c_layer *c)
{
    if (p->precision)
        snprintf(dst, n, "%ld", 1L << p->shift[c->net_index]);
    else
        snprintf(dst, n, "%#.9gf", (double)p->net->v_thresh);
}

static int put_entry(snn_strbuf *b, const c_prog *p, const c_layer *c,
                     int k)
{
    const snn_net_layer *nl = &p->net->layers[c->net_index];
    const snn_window *w = &nl->syn.win;
    size_t in[3], out[3];
    chw(&c->in, in);
    chw(&nl->syn.shape, out);
    int has_w = nl->syn.op == SNN_OP_DENSE || nl->syn.op == SNN_OP_CONV2D;
    int has_b = has_w && snn_tensor_numel(&nl->syn.bias) > 0;
    const char *unit = nl->unit == SNN_UNIT_SOFTMAX ? "U_SOFTMAX"
                       : nl->unit == SNN_UNIT_MAXGATE ? "U_GATE" : "U_IF";
    char wname[32] = "NULL", bname[32] = "NULL", cname[32] = "NULL";
    if (has_w)
        snprintf(wname, sizeof wname, "w_%d", k);
    if (has_b)
        snprintf(bname, sizeof bname, "b_%d", k);
    if (nl->unit == SNN_UNIT_MAXGATE)
        snprintf(cname, sizeof cname, "count_%d", k);
    char th[40];
    threshold_literal(th, sizeof th, p, c);
    return snn_text_putf(
        b, "    {%s, %s, %d, %d, %zu, %zu, %zu, %zu, %zu, %zu, %d, %d, %d, "
           "%d, %d, %d, %d, %d, %d,\n     %s, %s, %s, v_%d, cur_%d, %s, "
           "ev_%d, spk_%d, 0},\n", kind_name(nl), unit, c->net_index, c->src,
        in[0], in[1], in[2], out[0], out[1], out[2],
        nl->syn.op == SNN_OP_DENSE ? 1 : w->kernel[0],
        nl->syn.op == SNN_OP_DENSE ? 1 : w->kernel[1],
        nl->syn.op == SNN_OP_DENSE ? 1 : w->stride[0],
        nl->syn.op == SNN_OP_DENSE ? 1 : w->stride[1],
        nl->syn.op == SNN_OP_DENSE ? 0 : w->pad[0],
        nl->syn.op == SNN_OP_DENSE ? 0 : w->pad[1],
        nl->syn.op == SNN_OP_DENSE ? 1 : w->dilation[0],
        nl->syn.op == SNN_OP_DENSE ? 1 : w->dilation[1],
        nl->syn.op == SNN_OP_CONV2D ? nl->syn.groups : 1, wname, bname, th,
        k, k, cname, k, k);
}

static const char program_head[] =
    "/*\n"
    " * A spiking neural network converted by snntb, as a standalone C99\n"
    " * program: no dependencies but the C library, no malloc.\n"
    " *\n"
    " * build: cc -O2 -o net net.c -lm\n"
    " * usage: ./net SAMPLES.f32 [N [FIRST]]\n"
    " *\n"
    " * SAMPLES.f32 holds raw float32 values (this machine's byte order), one\n"
    " * sample after the other, channels first, scaled as for snntb's\n"
    " * simulator.  For each sample the program prints one line: the sample's\n"
    " * index (FIRST + its position; it also keys the random draws of a\n"
    " * softmax output), the predicted class (-1: no output spike) and the\n"
    " * output neurons' spike counts.  It simulates the net as snntb does:\n"
    " * constant input current, per-step bias, v >= v_thresh fires, spikes\n"
    " * cross the whole net within a step.\n"
    " */\n"
    "#include <math.h>\n"
    "#include <stdint.h>\n"
    "#include <stdio.h>\n"
    "#include <stdlib.h>\n"
    "#include <string.h>\n"
    "\n";

static const char program_types[] =
    "\n"
    "enum kind { K_CONV, K_DENSE, K_AVG, K_MAXGATE };\n"
    "enum unit { U_IF, U_SOFTMAX, U_GATE };\n"
    "\n"
    "typedef struct layer {\n"
    "    int kind, unit, id, src;   /* id: the random draws' layer key;\n"
    "                                  src: the entry feeding it, -1: sample */\n"
    "    int ic, ih, iw, oc, oh, ow;\n"
    "    int kh, kw, sh, sw, ph, pw, dh, dw, groups;\n"
    "    const w_t *w;              /* conv (O, I/groups, KH, KW); dense\n"
    "                                  (in, out); what one spike (or unit of\n"
    "                                  input) adds to the membrane */\n"
    "    const b_t *b;\n"
    "    v_t th;                    /* the threshold */\n"
    "    v_t *v, *cur;\n"
    "    float *count;              /* max-pool input spike counts */\n"
    "    uint32_t *ev;              /* this step's spikes, and as flags: */\n"
    "    unsigned char *spk;\n"
    "    uint32_t nev;\n"
    "} layer;\n"
    "\n";

static const char program_body[] =
    "\n"
    "static float sample[INPUT_SIZE];\n"
    "static x_t sample_x[INPUT_SIZE];\n"
    "\n"
    "static v_t reset_value(v_t u, v_t th)\n"
    "{\n"
    "    if (RESET == 1)\n"
    "        return 0;\n"
    "    if (RESET == 2)\n"
    "        return MOD(u, th);\n"
    "    return u - th;\n"
    "}\n"
    "\n"
    "static uint64_t mix64(uint64_t z)\n"
    "{\n"
    "    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;\n"
    "    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;\n"
    "    return z ^ (z >> 31);\n"
    "}\n"
    "\n"
    "/* snntb's counter-based uniform draw in [0, 1). */\n"
    "static double uniform(uint64_t smp, uint64_t step, uint64_t lay,\n"
    "                      uint64_t neuron)\n"
    "{\n"
    "    uint64_t h = mix64(SEED + 0x9e3779b97f4a7c15ULL);\n"
    "    h = mix64(h ^ smp);\n"
    "    h = mix64(h ^ step);\n"
    "    h = mix64(h ^ lay);\n"
    "    h = mix64(h ^ neuron);\n"
    "    return (double)(h >> 11) * (1.0 / 9007199254740992.0);\n"
    "}\n"
    "\n"
    "static int out_size(const layer *l) { return l->oc * l->oh * l->ow; }\n"
    "\n"
    "/* Output coordinate that kernel offset k maps input coordinate i to, or\n"
    " * -1 when none does. */\n"
    "static int out_coord(int i, int k, int s, int p, int d, int n)\n"
    "{\n"
    "    int t = i + p - k * d;\n"
    "    if (t < 0 || t % s)\n"
    "        return -1;\n"
    "    return t / s < n ? t / s : -1;\n"
    "}\n"
    "\n"
    "static int in_bounds(const layer *l, int oy, int ox, int ky, int kx,\n"
    "                     int *y, int *x)\n"
    "{\n"
    "    *y = oy * l->sh - l->ph + ky * l->dh;\n"
    "    *x = ox * l->sw - l->pw + kx * l->dw;\n"
    "    return *y >= 0 && *y < l->ih && *x >= 0 && *x < l->iw;\n"
    "}\n"
    "\n"
    "static int window_cells(const layer *l, int oy, int ox)\n"
    "{\n"
    "    int n = 0, y, x;\n"
    "    for (int ky = 0; ky < l->kh; ky++)\n"
    "        for (int kx = 0; kx < l->kw; kx++)\n"
    "            n += in_bounds(l, oy, ox, ky, kx, &y, &x);\n"
    "    return n;\n"
    "}\n"
    "\n"
    "/* The constant current of a layer fed by the sample. */\n"
    "static void analog(const layer *l, const x_t *x, v_t *y)\n"
    "{\n"
    "    int in_n = l->ic * l->ih * l->iw, cg = l->ic / l->groups;\n"
    "    int og = l->oc / l->groups;\n"
    "    for (int o = 0; o < l->oc; o++)\n"
    "        for (int oy = 0; oy < l->oh; oy++)\n"
    "            for (int ox = 0; ox < l->ow; ox++) {\n"
    "                sum_t s = 0;\n"
    "                int n = 0, iy, ix;\n"
    "                if (l->kind == K_DENSE) {\n"
    "                    for (int j = 0; j < in_n; j++)\n"
    "                        s += (sum_t)l->w[(size_t)j * l->oc + o] * x[j];\n"
    "                } else if (l->kind == K_CONV) {\n"
    "                    for (int ci = 0; ci < cg; ci++)\n"
    "                        for (int ky = 0; ky < l->kh; ky++)\n"
    "                            for (int kx = 0; kx < l->kw; kx++)\n"
    "                                if (in_bounds(l, oy, ox, ky, kx, &iy, &ix))\n"
    "                                    s += (sum_t)l->w[((o * cg + ci) * l->kh + ky) *\n"
    "                                              l->kw + kx] *\n"
    "                                         x[((o / og * cg + ci) * l->ih + iy) *\n"
    "                                           l->iw + ix];\n"
    "                } else {\n"
    "                    for (int ky = 0; ky < l->kh; ky++)\n"
    "                        for (int kx = 0; kx < l->kw; kx++)\n"
    "                            if (in_bounds(l, oy, ox, ky, kx, &iy, &ix)) {\n"
    "                                s += x[(o * l->ih + iy) * l->iw + ix];\n"
    "                                n++;\n"
    "                            }\n"
    "                    s = n ? s / (sum_t)n : 0;\n"
    "                }\n"
    "                if (l->b)\n"
    "                    s += l->b[o];\n"
    "                y[(o * l->oh + oy) * l->ow + ox] = (v_t)s;\n"
    "            }\n"
    "}\n"
    "\n"
    "/* Adds the fan-out of one input spike at channel c, row y, column x. */\n"
    "static void spread(const layer *l, int c, int y, int x)\n"
    "{\n"
    "    int cg = l->ic / l->groups, og = l->oc / l->groups;\n"
    "    int g = c / cg, ci = c % cg;\n"
    "    for (int ky = 0; ky < l->kh; ky++) {\n"
    "        int oy = out_coord(y, ky, l->sh, l->ph, l->dh, l->oh);\n"
    "        for (int kx = 0; oy >= 0 && kx < l->kw; kx++) {\n"
    "            int ox = out_coord(x, kx, l->sw, l->pw, l->dw, l->ow);\n"
    "            if (ox < 0)\n"
    "                continue;\n"
    "            if (l->kind == K_AVG) {\n"
    "                l->cur[(c * l->oh + oy) * l->ow + ox] += l->th;\n"
    "                continue;\n"
    "            }\n"
    "            for (int o = g * og; o < (g + 1) * og; o++)\n"
    "                l->cur[(o * l->oh + oy) * l->ow + ox] +=\n"
    "                    l->w[((o * cg + ci) * l->kh + ky) * l->kw + kx];\n"
    "        }\n"
    "    }\n"
    "}\n"
    "\n"
    "/* This step's current of a layer fed by spikes. */\n"
    "static void integrate(layer *l, const layer *in)\n"
    "{\n"
    "    int n = out_size(l), hw = l->ih * l->iw;\n"
    "    for (int k = 0; k < n; k++)\n"
    "        l->cur[k] = l->b ? l->b[l->kind == K_DENSE ? k : k / (l->oh * l->ow)]\n"
    "                         : 0;\n"
    "    for (uint32_t e = 0; e < in->nev; e++) {\n"
    "        int q = (int)in->ev[e];\n"
    "        if (l->kind == K_DENSE) {\n"
    "            const w_t *row = l->w + (size_t)q * l->oc;\n"
    "            for (int o = 0; o < l->oc; o++)\n"
    "                l->cur[o] += row[o];\n"
    "        } else {\n"
    "            spread(l, q / hw, q % hw / l->iw, q % l->iw);\n"
    "        }\n"
    "    }\n"
    "    if (l->kind == K_AVG)\n"
    "        for (int c = 0; c < l->oc; c++)\n"
    "            for (int oy = 0; oy < l->oh; oy++)\n"
    "                for (int ox = 0; ox < l->ow; ox++) {\n"
    "                    int cells = window_cells(l, oy, ox);\n"
    "                    if (cells)\n"
    "                        l->cur[(c * l->oh + oy) * l->ow + ox] /= (v_t)cells;\n"
    "                }\n"
    "}\n"
    "\n"
    "static void clear_spikes(layer *l)\n"
    "{\n"
    "    for (uint32_t e = 0; e < l->nev; e++)\n"
    "        l->spk[l->ev[e]] = 0;\n"
    "    l->nev = 0;\n"
    "}\n"
    "\n"
    "static void emit(layer *l, int k)\n"
    "{\n"
    "    l->ev[l->nev++] = (uint32_t)k;\n"
    "    l->spk[k] = 1;\n"
    "}\n"
    "\n"
    "static void fire_if(layer *l)\n"
    "{\n"
    "    clear_spikes(l);\n"
    "    for (int k = 0; k < out_size(l); k++) {\n"
    "        v_t u = l->v[k] + l->cur[k];\n"
    "        if (u >= l->th) {\n"
    "            emit(l, k);\n"
    "            u = reset_value(u, l->th);\n"
    "        }\n"
    "        l->v[k] = u;\n"
    "    }\n"
    "}\n"
    "\n"
    "/* Each neuron fires with probability softmax(v) over the layer. */\n"
    "static void fire_softmax(layer *l, uint64_t smp, uint64_t step)\n"
    "{\n"
    "    int n = out_size(l);\n"
    "    v_t top = 0;\n"
    "    double z = 0;\n"
    "    clear_spikes(l);\n"
    "    for (int k = 0; k < n; k++) {\n"
    "        l->v[k] += l->cur[k];\n"
    "        if (k == 0 || l->v[k] > top)\n"
    "            top = l->v[k];\n"
    "    }\n"
    "    for (int k = 0; k < n; k++)\n"
    "        z += exp((double)(l->v[k] - top));\n"
    "    for (int k = 0; k < n; k++)\n"
    "        if (uniform(smp, step, (uint64_t)l->id, (uint64_t)k) <\n"
    "            exp((double)(l->v[k] - top)) / z) {\n"
    "            emit(l, k);\n"
    "            l->v[k] = reset_value(l->v[k], l->th);\n"
    "        }\n"
    "}\n"
    "\n"
    "/* Max-pooling: each window passes the spike of the input that has\n"
    " * fired most so far (the first in window order on ties). */\n"
    "static void gate(layer *l, const layer *in)\n"
    "{\n"
    "    clear_spikes(l);\n"
    "    for (uint32_t e = 0; e < in->nev; e++)\n"
    "        l->count[in->ev[e]] += 1.0f;\n"
    "    for (int c = 0; c < l->oc; c++)\n"
    "        for (int oy = 0; oy < l->oh; oy++)\n"
    "            for (int ox = 0; ox < l->ow; ox++) {\n"
    "                int best = -1, y, x;\n"
    "                float top = -1.0f;\n"
    "                for (int ky = 0; ky < l->kh; ky++)\n"
    "                    for (int kx = 0; kx < l->kw; kx++) {\n"
    "                        if (!in_bounds(l, oy, ox, ky, kx, &y, &x))\n"
    "                            continue;\n"
    "                        int at = (c * l->ih + y) * l->iw + x;\n"
    "                        if (l->count[at] > top) {\n"
    "                            top = l->count[at];\n"
    "                            best = at;\n"
    "                        }\n"
    "                    }\n"
    "                if (best >= 0 && in->spk[best])\n"
    "                    emit(l, (c * l->oh + oy) * l->ow + ox);\n"
    "            }\n"
    "}\n"
    "\n"
    "static void run_sample(const x_t *x, uint64_t smp, uint32_t *counts)\n"
    "{\n"
    "    for (int i = 0; i < N_LAYERS; i++) {\n"
    "        layer *l = &net[i];\n"
    "        int n = out_size(l);\n"
    "        memset(l->v, 0, (size_t)n * sizeof *l->v);\n"
    "        memset(l->spk, 0, (size_t)n);\n"
    "        l->nev = 0;\n"
    "        if (l->count)\n"
    "            memset(l->count, 0,\n"
    "                   (size_t)(l->ic * l->ih * l->iw) * sizeof *l->count);\n"
    "        if (l->src < 0)\n"
    "            analog(l, x, l->cur);\n"
    "    }\n"
    "    memset(counts, 0, N_OUT * sizeof *counts);\n"
    "    for (int t = 0; t < STEPS; t++) {\n"
    "        for (int i = 0; i < N_LAYERS; i++) {\n"
    "            layer *l = &net[i];\n"
    "            if (l->kind == K_MAXGATE) {\n"
    "                gate(l, &net[l->src]);\n"
    "                continue;\n"
    "            }\n"
    "            if (l->src >= 0)\n"
    "                integrate(l, &net[l->src]);\n"
    "            if (l->unit == U_SOFTMAX)\n"
    "                fire_softmax(l, smp, (uint64_t)t);\n"
    "            else\n"
    "                fire_if(l);\n"
    "        }\n"
    "        for (uint32_t e = 0; e < net[N_LAYERS - 1].nev; e++)\n"
    "            counts[net[N_LAYERS - 1].ev[e]]++;\n"
    "    }\n"
    "}\n"
    "\n"
    "int main(int argc, char **argv)\n"
    "{\n"
    "    if (argc < 2 || argc > 4) {\n"
    "        fprintf(stderr, \"usage: %s SAMPLES.f32 [N [FIRST]]\\n\", argv[0]);\n"
    "        return 2;\n"
    "    }\n"
    "    FILE *f = fopen(argv[1], \"rb\");\n"
    "    if (!f) {\n"
    "        perror(argv[1]);\n"
    "        return 1;\n"
    "    }\n"
    "    long n = argc > 2 ? strtol(argv[2], NULL, 10) : -1;\n"
    "    uint64_t first = argc > 3 ? strtoull(argv[3], NULL, 10) : 0;\n"
    "    static uint32_t counts[N_OUT];\n"
    "    for (long s = 0; (n < 0 || s < n) &&\n"
    "         fread(sample, sizeof *sample, INPUT_SIZE, f) == INPUT_SIZE; s++) {\n"
    "        for (int j = 0; j < INPUT_SIZE; j++)\n"
    "            sample_x[j] = QUANT(sample[j]);\n"
    "        run_sample(sample_x, first + (uint64_t)s, counts);\n"
    "        int best = -1;\n"
    "        for (int k = 0; k < N_OUT; k++)\n"
    "            if (counts[k] > 0 && (best < 0 || counts[k] > counts[best]))\n"
    "                best = k;\n"
    "        printf(\"%llu %d\", (unsigned long long)(first + (uint64_t)s), best);\n"
    "        for (int k = 0; k < N_OUT; k++)\n"
    "            printf(\" %u\", counts[k]);\n"
    "        printf(\"\\n\");\n"
    "    }\n"
    "    fclose(f);\n"
    "    return 0;\n"
    "}\n";

static const char float_types[] =
    "/* float: weights, biases and membranes in the native units */\n"
    "typedef float w_t;\ntypedef float b_t;\ntypedef float v_t;\n"
    "typedef float x_t;\ntypedef float sum_t;\n"
    "#define MOD(a, b) fmodf(a, b)\n#define QUANT(x) (x)\n";

/* The fixed-point program: x rounded as snn_quant_input does. */
static int put_fixed_types(snn_strbuf *b, const c_prog *p)
{
    return snn_text_putf(b, "/* int%d fixed point: per layer, weights, "
                            "biases and membranes are\n * integers in units "
                            "of 2^-shift of its threshold; samples are\n * "
                            "rounded to x * 2^%d (x clipped to [-1, 1]) */\n",
                         p->precision, SNN_QUANT_INPUT_SHIFT) &&
           snn_text_putf(b, "typedef int%d_t w_t;\ntypedef int32_t b_t;\n"
                            "typedef int%d_t v_t;\ntypedef int32_t x_t;\n"
                            "typedef int64_t sum_t;\n"
                            "#define MOD(a, b) ((a) %% (b))\n"
                            "#define QUANT(x) ((x_t)lrintf(fminf(fmaxf((x), "
                            "-1.0f), 1.0f) * %d.0f))\n",
                         p->precision, p->wide ? 64 : 32,
                         1 << SNN_QUANT_INPUT_SHIFT);
}

static int put_constants(snn_strbuf *b, const c_prog *p, int n_entries,
                         const snn_export_opts *o)
{
    const snn_net *net = p->net;
    int steps = (int)(o->duration / (double)net->dt + 0.5);
    return snn_text_putf(b, "#define INPUT_SIZE %zu\n#define N_OUT %zu\n"
                            "#define N_LAYERS %d\n#define STEPS %d\n"
                            "#define RESET %d /* 0: subtract, 1: to zero, "
                            "2: modulo */\n#define SEED 0x%llxULL\n\n",
                         snn_shape_numel(&net->input_shape),
                         snn_net_layer_size(net, net->n_layers - 1),
                         n_entries, steps,
                         net->reset == SNN_RESET_ZERO     ? 1
                         : net->reset == SNN_RESET_MODULO ? 2 : 0,
                         (unsigned long long)SNN_NATIVE_SEED) &&
           (p->precision ? put_fixed_types(b, p)
                         : snn_text_put(b, float_types));
}

static snn_status build_program(snn_strbuf *b, int *ok, const c_prog *p,
                                const c_layer *t, int n,
                                const snn_export_opts *o, snn_error *err)
{
    *ok = snn_text_put(b, program_head) && put_constants(b, p, n, o) &&
          snn_text_put(b, program_types);
    for (int k = 0; k < n; k++) {
        snn_status st = put_weights(b, ok, p, &t[k], k, err);
        if (st != SNN_OK)
            return st;
        *ok = *ok && put_state(b, p->net, &t[k], k);
    }
    *ok = *ok && snn_text_put(b, "\nstatic layer net[N_LAYERS] = {\n");
    for (int k = 0; *ok && k < n; k++)
        *ok = put_entry(b, p, &t[k], k);
    *ok = *ok && snn_text_put(b, "};\n") && snn_text_put(b, program_body);
    return SNN_OK;
}

/* The largest |current| one step can bring to a neuron of layer i of the
 * integer net: its largest fan-in of |weights| times the largest input,
 * plus its largest |bias|. */
static double step_bound(const snn_net *ints, int i)
{
    const snn_layer *l = &ints->layers[i].syn;
    size_t rows = l->weight.dims[0];
    size_t per = rows ? snn_tensor_numel(&l->weight) / rows : 0;
    double top = 0, bias = 0;
    for (size_t o = 0; o < rows; o++) {
        double s = 0;
        for (size_t j = 0; j < per; j++)
            s += fabs((double)l->weight.data[o * per + j]);
        top = fmax(top, s);
    }
    for (size_t j = 0; j < snn_tensor_numel(&l->bias); j++)
        bias = fmax(bias, fabs((double)l->bias.data[j]));
    double x = snn_export_fed_by_input(ints, i)
                   ? (double)(1 << SNN_QUANT_INPUT_SHIFT) : 1.0;
    return top * x + bias;
}

/* Whether a membrane could leave int32 within the run: each step adds at
 * most step_bound, and one above the threshold is reset. */
static int needs_wide(const snn_quant *q, int steps)
{
    for (int i = 0; i < q->ints.n_layers; i++)
        if (q->ints.layers[i].unit != SNN_UNIT_RESHAPE &&
            steps * step_bound(&q->ints, i) + ldexp(1.0, q->shift[i]) >=
                2147483647.0)
            return 1;
    return 0;
}

static snn_status write_program(const c_prog *p, const char *path,
                                const snn_export_opts *opts, snn_error *err)
{
    const snn_net *net = p->net;
    c_layer *t = calloc((size_t)net->n_layers, sizeof *t);
    int *entry_of = calloc((size_t)net->n_layers, sizeof *entry_of);
    int n = 0, ok = 0;
    snn_strbuf b = {0};
    snn_status st = t && entry_of ? SNN_OK
                                  : snn_error_set(err, SNN_E_NOMEM,
                                                  "cannot allocate the plan");
    if (st == SNN_OK)
        st = plan_table(net, t, &n, entry_of, err);
    if (st == SNN_OK)
        st = build_program(&b, &ok, p, t, n, opts, err);
    if (st == SNN_OK)
        st = snn_text_write(&b, ok, path, err);
    else
        free(b.p);
    free(t);
    free(entry_of);
    return st;
}

snn_status snn_export_c(const snn_net *net, const char *path,
                        const snn_export_opts *opts, const snn_log *log,
                        snn_error *err)
{
    int steps = (int)(opts->duration / (double)net->dt + 0.5);
    if (!(net->dt > 0) || steps < 1)
        return snn_error_set(err, SNN_E_INVALID, "C export: the duration "
                             "must be at least one time step");
    if (opts->precision != 0 && opts->precision != 16 &&
        opts->precision != 8)
        return snn_error_set(err, SNN_E_INVALID, "C export: precision %d is "
                             "not known (use float, int16 or int8)",
                             opts->precision);
    c_prog p = {net, NULL, 0, 0};
    if (!opts->precision)
        return write_program(&p, path, opts, err);
    snn_quant_opts qo;
    snn_quant q;
    snn_quant_opts_for(SNN_EXPORT_C, opts->precision, &qo);
    snn_status st = snn_quantize(net, &qo, log, &q, err);
    if (st != SNN_OK)
        return st;
    p = (c_prog){&q.ints, q.shift, opts->precision, needs_wide(&q, steps)};
    st = write_program(&p, path, opts, err);
    snn_quant_free(&q);
    return st;
}
