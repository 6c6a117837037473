/* The pair scorer's pooled cross-attention, both directions, read straight from the preset cache.
 *
 * Why C: per pair the attention is 2 x heads tiny (9 x 8) x (8 x 9) products, a softmax over 9-wide
 * rows and a mean over the queries. In torch each of those steps is a batched op over thousands of
 * tiny matrices whose per-matrix overhead is most of its cost (bmm, amax over 9 elements): ~4 ms
 * per 1,024 pairs and direction, 80% of scoring 10,000 pairs (docs/benchmarks.md, "Pair scoring").
 * Here 16 pairs go through at once, one per vector lane, their cache rows read where they lie
 * instead of being gathered into copies first. Same formula as coupling/nets/attention.py's
 * pooled_attention; results differ from it only by float rounding (summation order, the exp).
 *
 * pooled(enc, fg_idx, bg_idx, out_fg, out_bg, heads, tokens, d_k, q_off, k_off, v_off)
 *   enc     float32 [N, 2, C] C-contiguous: per preset, its row as FG (0) and as BG (1)
 *   fg_idx, bg_idx  int64 [P]: the pairs' presets
 *   out_fg, out_bg  float32 [P, heads * d_k], written: the FG's queries over the BG's keys/values
 *                   and the BG's queries over the FG's keys/values, mean over queries
 *   q_off, k_off, v_off: where Q, K, V ([heads, tokens, d_k] each) start in a layer's row of C
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* The largest head the stack buffers hold (the default network: 9 tokens x d_k 8 = 72); larger ones are
 * refused here and the caller scores them in torch. */
#define MAX_TOKENS 32
#define MAX_HEAD_SIZE 512 /* tokens x d_k */

/* exp(x) for x <= 0 (logits minus their row max), Cephes' expf polynomial (relative error ~1e-7):
 * plain arithmetic, so the compiler vectorises the loops that call it, which it cannot do with libm's
 * expf, whose calls were most of this file's time. */
static inline __attribute__((always_inline)) float exp_nonpositive(float x) {
    float in = x;
    x = x > -87.0f ? x : -87.0f; /* NaN -> -87 here, so the NaN is given back at the end */
    /* floor(x log2(e) + 0.5) by truncation of a positive number: the argument is in [-125, 0.5] */
    int n = (int)(x * 1.44269504088896341f + 128.5f) - 128;
    float nf = (float)n;
    x = x - nf * 0.693359375f + nf * 2.12194440e-4f;
    float y = 1.9875691500e-4f;
    y = y * x + 1.3981999507e-3f;
    y = y * x + 8.3334519073e-3f;
    y = y * x + 4.1665795894e-2f;
    y = y * x + 1.6666665459e-1f;
    y = y * x + 5.0000001201e-1f;
    y = y * x * x + x + 1.0f;
    union {
        int32_t i;
        float f;
    } scale = {.i = (n + 127) << 23};
    return in != in ? in : y * scale.f; /* a NaN logit (from a NaN or an infinite Q or K) stays NaN, as in torch */
}

/* Pairs go through in blocks of LANES, the pair index innermost in every array, so that each step of
 * the formula is one vector operation over LANES pairs (loops over one pair's 9 tokens and 8 dims do
 * not vectorise: ~100 ms per 10,000 pairs, no faster than torch; this way ~12 ms). Compiled for
 * AVX-512, AVX2 and plain x86-64; the dynamic loader picks what the CPU has. */
#define LANES 16

#if defined(__x86_64__) && defined(__GNUC__)
#define VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define VECTOR_CLONES
#endif

/* One head of one direction for a block of pairs: qp[l], kp[l], vp[l] point at pair l's [T, dk] rows
 * of this head, op[l] at its d_k outputs; lanes from n on are padding (computed, never written). */
static inline __attribute__((always_inline)) void pooled_block(const float *const *qp, const float *const *kp,
                                                              const float *const *vp, float *const *op, int n, int T,
                                                              int dk) {
    /* [T][dk][LANES] and [T][LANES], flat and packed for this T, dk */
    float q[MAX_HEAD_SIZE * LANES], k[MAX_HEAD_SIZE * LANES], e[MAX_TOKENS * LANES], w[MAX_TOKENS * LANES];
    float inv[LANES], mx[LANES], acc[LANES];
    for (int l = 0; l < LANES; l++) {
        const float *ql = qp[l < n ? l : 0], *kl = kp[l < n ? l : 0];
        for (int t = 0; t < T; t++)
            for (int d = 0; d < dk; d++) {
                q[(t * dk + d) * LANES + l] = ql[t * dk + d];
                k[(t * dk + d) * LANES + l] = kl[t * dk + d];
            }
    }
    for (int j = 0; j < T; j++)
        for (int l = 0; l < LANES; l++) w[j * LANES + l] = 0.0f;
    for (int i = 0; i < T; i++) {
        for (int j = 0; j < T; j++) {
            for (int l = 0; l < LANES; l++) acc[l] = 0.0f;
            for (int d = 0; d < dk; d++)
                for (int l = 0; l < LANES; l++) acc[l] += q[(i * dk + d) * LANES + l] * k[(j * dk + d) * LANES + l];
            for (int l = 0; l < LANES; l++) e[j * LANES + l] = acc[l];
        }
        for (int l = 0; l < LANES; l++) mx[l] = e[l];
        for (int j = 1; j < T; j++)
            for (int l = 0; l < LANES; l++) mx[l] = e[j * LANES + l] > mx[l] ? e[j * LANES + l] : mx[l];
        for (int j = 0; j < T; j++)
            for (int l = 0; l < LANES; l++) e[j * LANES + l] -= mx[l];
        for (int x = 0; x < T * LANES; x++) e[x] = exp_nonpositive(e[x]); /* one flat pass: it vectorises */
        for (int l = 0; l < LANES; l++) inv[l] = 0.0f;
        for (int j = 0; j < T; j++)
            for (int l = 0; l < LANES; l++) inv[l] += e[j * LANES + l];
        for (int l = 0; l < LANES; l++) inv[l] = 1.0f / (inv[l] * (float)T); /* softmax division, mean over queries */
        for (int j = 0; j < T; j++)
            for (int l = 0; l < LANES; l++) w[j * LANES + l] += inv[l] * e[j * LANES + l];
    }
    for (int l = 0; l < n; l++)
        for (int d = 0; d < dk; d++) {
            float o = 0.0f;
            for (int j = 0; j < T; j++) o += w[j * LANES + l] * vp[l][j * dk + d];
            op[l][d] = o;
        }
}

VECTOR_CLONES static void pooled_pairs(const float *e, const int64_t *fi, const int64_t *bi, Py_ssize_t n_pairs,
                                       Py_ssize_t row, Py_ssize_t q_off, Py_ssize_t k_off, Py_ssize_t v_off,
                                       float *out_f, float *out_b, int heads, int T, int dk) {
    const float *qp[LANES], *kp[LANES], *vp[LANES];
    float *op[LANES];
    for (Py_ssize_t p0 = 0; p0 < n_pairs; p0 += LANES) {
        int n = n_pairs - p0 < LANES ? (int)(n_pairs - p0) : LANES;
        for (int dir = 0; dir < 2; dir++) /* FG queries over BG keys, then BG queries over FG keys */
            for (int h = 0; h < heads; h++) {
                size_t head = (size_t)h * T * dk;
                for (int l = 0; l < n; l++) {
                    Py_ssize_t p = p0 + l;
                    const float *f_row = e + (size_t)fi[p] * 2 * row, *b_row = e + ((size_t)bi[p] * 2 + 1) * row;
                    const float *mine = dir == 0 ? f_row : b_row, *other = dir == 0 ? b_row : f_row;
                    qp[l] = mine + q_off + head, kp[l] = other + k_off + head, vp[l] = other + v_off + head;
                    op[l] = (dir == 0 ? out_f : out_b) + p * heads * dk + (size_t)h * dk;
                }
                if (T == 9 && dk == 8) /* the default network's shape: constant bounds unroll */
                    pooled_block(qp, kp, vp, op, n, 9, 8);
                else
                    pooled_block(qp, kp, vp, op, n, T, dk);
            }
    }
}

static int get_buffer(PyObject *obj, Py_buffer *view, int writable, const char *format, int itemsize, const char *name) {
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0)) < 0) return -1;
    if (view->itemsize != itemsize || view->format == NULL || strchr(format, view->format[0]) == NULL) {
        PyErr_Format(PyExc_TypeError, "%s: expected %d-byte items of format '%s', got '%s'", name, itemsize, format,
                     view->format ? view->format : "?");
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

static PyObject *pooled(PyObject *self, PyObject *args) {
    PyObject *enc_o, *fg_o, *bg_o, *of_o, *ob_o;
    int heads, T, dk;
    Py_ssize_t q_off, k_off, v_off;
    if (!PyArg_ParseTuple(args, "OOOOOiiinnn", &enc_o, &fg_o, &bg_o, &of_o, &ob_o, &heads, &T, &dk, &q_off, &k_off, &v_off))
        return NULL;
    if (heads < 1 || T < 1 || T > MAX_TOKENS || dk < 1 || dk > MAX_HEAD_SIZE || T * dk > MAX_HEAD_SIZE) {
        PyErr_Format(PyExc_ValueError, "pooled: heads %d, tokens %d (max %d), d_k %d (tokens x d_k max %d)", heads, T,
                     MAX_TOKENS, dk, MAX_HEAD_SIZE);
        return NULL;
    }
    Py_buffer enc, fg, bg, of, ob;
    if (get_buffer(enc_o, &enc, 0, "f", 4, "enc") < 0) return NULL;
    if (get_buffer(fg_o, &fg, 0, "lq", 8, "fg_idx") < 0) goto fail_enc;
    if (get_buffer(bg_o, &bg, 0, "lq", 8, "bg_idx") < 0) goto fail_fg;
    if (get_buffer(of_o, &of, 1, "f", 4, "out_fg") < 0) goto fail_bg;
    if (get_buffer(ob_o, &ob, 1, "f", 4, "out_bg") < 0) goto fail_of;

    Py_ssize_t part = (Py_ssize_t)heads * T * dk, n_pairs = fg.len / 8, out_row = (Py_ssize_t)heads * dk * 4;
    Py_ssize_t row = enc.ndim == 3 ? enc.shape[2] : -1, n_presets = enc.ndim == 3 ? enc.shape[0] : 0;
    /* written as subtractions: q_off + part could wrap around for a huge offset */
    if (row < 0 || enc.shape[1] != 2 || part > row || q_off < 0 || k_off < 0 || v_off < 0 || q_off > row - part ||
        k_off > row - part || v_off > row - part) {
        PyErr_SetString(PyExc_ValueError, "pooled: enc must be [N, 2, C] with Q, K and V inside C");
        goto fail_all;
    }
    if (bg.len != fg.len || of.len % out_row || of.len / out_row != n_pairs || ob.len != of.len) {
        PyErr_SetString(PyExc_ValueError, "pooled: fg_idx, bg_idx, out_fg, out_bg disagree on the number of pairs");
        goto fail_all;
    }
    /* The indices are checked and then used from a private copy: an output buffer that overlaps them, or
     * another thread writing them while the GIL is released, cannot move a read out of bounds. */
    int64_t *fi = PyMem_Malloc((size_t)(n_pairs ? n_pairs : 1) * 2 * sizeof(int64_t)), *bi = fi + n_pairs;
    if (fi == NULL) {
        PyErr_NoMemory();
        goto fail_all;
    }
    memcpy(fi, fg.buf, (size_t)n_pairs * sizeof(int64_t));
    memcpy(bi, bg.buf, (size_t)n_pairs * sizeof(int64_t));
    for (Py_ssize_t p = 0; p < n_pairs; p++) {
        if (fi[p] < 0 || fi[p] >= n_presets || bi[p] < 0 || bi[p] >= n_presets) {
            PyErr_Format(PyExc_IndexError, "pooled: pair %zd names preset (%lld, %lld) of %zd", p, (long long)fi[p],
                         (long long)bi[p], n_presets);
            PyMem_Free(fi);
            goto fail_all;
        }
    }
    const float *e = enc.buf;
    float *out_f = of.buf, *out_b = ob.buf;
    Py_BEGIN_ALLOW_THREADS;
    pooled_pairs(e, fi, bi, n_pairs, row, q_off, k_off, v_off, out_f, out_b, heads, T, dk);
    Py_END_ALLOW_THREADS;
    PyMem_Free(fi);
    PyBuffer_Release(&ob);
    PyBuffer_Release(&of);
    PyBuffer_Release(&bg);
    PyBuffer_Release(&fg);
    PyBuffer_Release(&enc);
    Py_RETURN_NONE;

fail_all:
    PyBuffer_Release(&ob);
fail_of:
    PyBuffer_Release(&of);
fail_bg:
    PyBuffer_Release(&bg);
fail_fg:
    PyBuffer_Release(&fg);
fail_enc:
    PyBuffer_Release(&enc);
    return NULL;
}

static PyMethodDef methods[] = {
    {"pooled", pooled, METH_VARARGS, "Pooled cross-attention of cached pairs, both directions (see the file's header)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_pair_attention", NULL, -1, methods};

PyMODINIT_FUNC PyInit__pair_attention(void) {
    PyObject *m = PyModule_Create(&module);
    if (m && (PyModule_AddIntConstant(m, "MAX_TOKENS", MAX_TOKENS) < 0 ||
              PyModule_AddIntConstant(m, "MAX_HEAD_SIZE", MAX_HEAD_SIZE) < 0)) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
