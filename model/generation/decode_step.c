/* One decode step of midifill's Transformer in C: the arithmetic of
 * model/generation/fast.py's FastDecoder.decode, in one call instead of ~150 NumPy
 * calls (whose fixed cost dominated a token of the small model), for one
 * row or a batch of rows. The shared arithmetic and the packed weights'
 * layout: model/generation/kernels.c. Built on first use by
 * model/generation/fast_c.py.
 */
#include "kernels.c"

/* Scores q . K[t] for n positions of one head's keys (n, hd), from s[0];
 * returns the larger of mx and the largest score. */
static float scores(const float *restrict q, const float *restrict K, int n, int hd,
                    float *restrict s, float mx) {
    for (int t = 0; t < n; t++) {
        s[t] = dot(q, K + (long)t * hd, hd);
        mx = fmax2(mx, s[t]);
    }
    return mx;
}

/* weigh for a head width of 8 M floats, the sums held in registers. */
static inline __attribute__((always_inline)) void
weigh_m(const float *restrict w, const float *restrict Vv, int n, const int M,
        float *restrict out) {
    v8 acc[8];
    for (int k = 0; k < M; k++) acc[k] = ld(out + 8 * k);
    for (int t = 0; t < n; t++) {
        const float wt = w[t], *restrict v = Vv + (long)t * 8 * M;
        for (int k = 0; k < M; k++) acc[k] += wt * ld(v + 8 * k);
    }
    for (int k = 0; k < M; k++) st(out + 8 * k, acc[k]);
}

/* out (hd) += sum_t w[t] V[t] for n positions of one head's values (n, hd). */
static void weigh(const float *restrict w, const float *restrict Vv, int n, int hd,
                  float *restrict out) {
    switch (hd) {
    case 16: weigh_m(w, Vv, n, 2, out); return;
    case 32: weigh_m(w, Vv, n, 4, out); return;
    case 64: weigh_m(w, Vv, n, 8, out); return;
    }
    for (int t = 0; t < n; t++) {
        const float wt = w[t], *restrict v = Vv + (long)t * hd;
        for (int i = 0; i < hd; i++) out[i] += wt * v[i];
    }
}

/* Attention of one layer for B rows at position p, into y (B, C): rows
 * [r0, r0 + B) of a batch of N (the products over the prompt sum each row
 * as they do for the whole batch, see matmul_rows).
 *
 * The prompt's positions [0, np) are shared by every row and stored once,
 * packed (fast_c.py's SplitCache) for the two products that attend to them,
 * for all rows at once, each reading the prompt once: per head, keys as W =
 * K^T (hd, np) in kT, values as W = V (np, hd) in vp, the positions padded
 * with zeros to a multiple of 16 (npad). A row's own positions [np, p] sit
 * in row rows[b] of kc/vc (rows, H, T, hd) at index position - np.
 * work needs B * (2 hd + p + 18) floats. */
static void attention(int N, int r0, int B, int C, int H, int p, int np, const float *kT,
                      const float *vp, int T, float *kc, float *vc, const int64_t *rows,
                      const float *qkv, float *y, float *work) {
    const int hd = C / H, own = p - np + 1;  /* positions of each row's own */
    const int npad = np ? panels(np) : 0;
    float *Q = work, *Sp = Q + (long)B * hd, *So = Sp + (long)B * npad;
    float *Yp = So + (long)B * own, *inv = Yp + (long)B * hd;
    for (int hh = 0; hh < H; hh++) {
        for (int b = 0; b < B; b++) {
            const float *row = qkv + (long)b * 3 * C;
            float *K = kc + ((long)(rows[b] * H + hh) * T) * hd;
            float *Vv = vc + ((long)(rows[b] * H + hh) * T) * hd;
            memcpy(K + (long)(own - 1) * hd, row + C + hh * hd, sizeof(float) * hd);
            memcpy(Vv + (long)(own - 1) * hd, row + 2 * C + hh * hd, sizeof(float) * hd);
            memcpy(Q + (long)b * hd, row + hh * hd, sizeof(float) * hd);
        }
        if (np)
            matmul_rows(Q, hd, kT + (long)hh * npad * hd, NULL, Sp, npad, N, r0, B, hd, npad,
                        (long)hd * PW);
        for (int b = 0; b < B; b++) {
            const float *K = kc + ((long)(rows[b] * H + hh) * T) * hd;
            float *sp = Sp + (long)b * npad, *so = So + (long)b * own;
            float mx = scores(Q + (long)b * hd, K, own, hd, so, max_of(sp, np, -INFINITY));
            inv[b] = 1.f / (exp_shifted(sp, np, mx) + exp_shifted(so, own, mx));
            memset(sp + np, 0, sizeof(float) * (npad - np));  /* the padding weighs nothing */
        }
        if (np)
            matmul_rows(Sp, npad, vp + (long)hh * panels(hd) * npad, NULL, Yp, hd, N, r0, B,
                        npad, hd, (long)npad * PW);
        else memset(Yp, 0, sizeof(float) * B * hd);
        for (int b = 0; b < B; b++) {
            const float *Vv = vc + ((long)(rows[b] * H + hh) * T) * hd;
            float *out = y + (long)b * C + hh * hd;
            memcpy(out, Yp + (long)b * hd, sizeof(float) * hd);
            weigh(So + (long)b * own, Vv, own, hd, out);
            for (int i = 0; i < hd; i++) out[i] *= inv[b];
        }
    }
}

/* A batch's caches and buffers, as fast_c.py's SplitCache lays them out
 * once per request. Positions [0, np) are the prompt, shared by every row,
 * packed per layer in kT[l] and vp[l] (see attention; np = 0: none).
 * Positions [np, p] are the row's own: batch row b reads and writes row
 * rows[b] of kc[l]/vc[l], (rows, H, T, hd), at index position - np. tokens
 * and rows hold the step's B entries; x (B, C), logits (B, V); scratch
 * holds S = 12 C + np + T + 18 floats per row, row b's from b S. threads:
 * how many threads may share a step's rows (step_pool.c; <= 1: one). */
typedef struct {
    int np, T, threads;
    const float *const *kT, *const *vp;
    float *const *kc, *const *vc;
    const int64_t *tokens, *rows;
    float *x, *logits, *scratch;
} Batch;

/* Rows [r0, r1) of a step of N rows at position p: each row's arithmetic
 * is the same whichever thread runs it and whichever other rows it runs. */
static void step_rows(const Model *m, const Batch *c, int N, int p, int r0, int r1) {
    const int L = m->L, C = m->C, H = m->H, V = m->V, np = c->np, B = r1 - r0;
    const long S = 12L * C + np + c->T + 18;
    const int64_t *tokens = c->tokens + r0, *rows = c->rows + r0;
    float *x = c->x + (long)r0 * C, *logits = c->logits + (long)r0 * V;
    float *qkv = c->scratch + r0 * S, *h = qkv + (long)B * 3 * C, *y = h + (long)B * C;
    float *u = y + (long)B * C, *z = u + (long)B * 4 * C, *work = z + (long)B * C;
#define MATMUL(X, ldx, W, b, Y, ldy, in, out) \
    matmul_rows(X, ldx, W, b, Y, ldy, N, r0, B, in, out, (long)(in) * PW)
    for (int b = 0; b < B; b++) {
        const float *e = m->wte + tokens[b] * (long)C, *pe = m->wpe + (long)p * C;
        for (int i = 0; i < C; i++) x[(long)b * C + i] = e[i] + pe[i];
    }
    for (int l = 0; l < L; l++) {
        for (int b = 0; b < B; b++) norm(x + (long)b * C, h + (long)b * C, C);
        MATMUL(h, C, m->qkv_w[l], m->qkv_b[l], qkv, 3 * C, C, 3 * C);
        attention(N, r0, B, C, H, p, np, np ? c->kT[l] : NULL, np ? c->vp[l] : NULL, c->T,
                  c->kc[l], c->vc[l], rows, qkv, y, work);
        MATMUL(y, C, m->proj_w[l], m->proj_b[l], z, C, C, C);
        for (long i = 0; i < (long)B * C; i++) x[i] += z[i];
        for (int b = 0; b < B; b++) norm(x + (long)b * C, h + (long)b * C, C);
        MATMUL(h, C, m->fc_w[l], m->fc_b[l], u, 4 * C, C, 4 * C);
        gelu(u, (long)B * 4 * C);
        MATMUL(u, 4 * C, m->mproj_w[l], m->mproj_b[l], z, C, 4 * C, C);
        for (long i = 0; i < (long)B * C; i++) x[i] += z[i];
    }
    for (int b = 0; b < B; b++) norm(x + (long)b * C, h + (long)b * C, C);
    MATMUL(h, C, m->head_w, m->head_b, logits, V, C, V);
#undef MATMUL
}

#include "step_pool.c"

/* One decode step: B tokens at position p -> logits (B, V), the rows shared
 * among up to c->threads threads (step_pool.c), else run here. */
void decode_step(const Model *m, const Batch *c, int B, int p) {
    if (B < 2 || c->threads < 2 || !pool_step(m, c, B, p)) step_rows(m, c, B, p, 0, B);
}
