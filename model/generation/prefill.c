/* A prompt's forward pass (the prefill) in C: the arithmetic of
 * model/generation/fast.py's FastDecoder.prefill for one row, on the packed
 * weights of the decode step (model/generation/kernels.c).
 *
 * The prompt runs in chunks of up to CH tokens, each through every layer
 * before the next: a chunk's queries see only its own and earlier keys, which
 * earlier chunks have already written, so the activations of one chunk are
 * all the scratch there is, and they stay in the cache. Each product streams
 * a weight panel once for RB tokens of the chunk, as it does for the rows of
 * a decode batch.
 *
 * The keys and values go out twice: plain, (H, n, hd) per layer, for
 * PromptCache (model/generation/fast.py), and packed as the decode step's
 * SplitCache reads the shared prompt (per head, K^T (hd, npad) and V (npad,
 * hd) as packed matrices, positions padded with zeros to npad, a multiple of
 * 16), so the rows of a request start on them without a copy. Attention is
 * then two packed products per head and chunk: scores Q K^T over the
 * positions the chunk can see, and weights times V.
 */
#include "kernels.c"

/* CH (tokens per chunk) comes from the compiler's command line, as PW does:
 * fast_c.py sizes the scratch by it. */
#if !defined(CH)
#error "build with -DCH=..., as model/generation/c_build.py does"
#endif

/* The prompt, as fast_c.py's PackedPromptCache lays it out: T tokens at
 * positions [start, n); positions [0, start) are already in k/v (a prefix
 * kept from the last prompt) and are packed here. Per layer: k[l], v[l]
 * (H, n, hd); kT[l] (H, npad / 16, hd, 16) and vp[l] (H, panels(hd) / 16,
 * npad, 16), their padding zeroed here. logits (V) gets the last token's.
 * scratch: CH * 11 C + 8 * (npad + 1) floats. */
typedef struct {
    int T, start, n;
    const int64_t *tokens;
    float *const *k, *const *v, *const *kT, *const *vp;
    float *logits, *scratch;
} Prompt;

/* Write the key and value of head h at position t (hd floats each; NULL:
 * zeros, for the padding) into the packed caches of one layer. */
static void pack_kv(const Prompt *p, int l, int hd, int h, int t, const float *key,
                    const float *val) {
    const int npad = panels(p->n), ncp = panels(hd) / PW;
    float *kt = p->kT[l] + (((long)h * (npad / PW) + t / PW) * hd) * PW + t % PW;
    for (int d = 0; d < hd; d++) kt[(long)d * PW] = key ? key[d] : 0.f;
    float *vp = p->vp[l] + (long)h * ncp * npad * PW + (long)t * PW;
    for (int d = 0; d < ncp * PW; d++)  /* V's padding columns too */
        vp[(long)(d / PW) * npad * PW + d % PW] = val && d < hd ? val[d] : 0.f;
}

/* The same into the plain caches as well. */
static void put_kv(const Prompt *p, int l, int hd, int h, int t, const float *key,
                   const float *val) {
    memcpy(p->k[l] + ((long)h * p->n + t) * hd, key, sizeof(float) * hd);
    memcpy(p->v[l] + ((long)h * p->n + t) * hd, val, sizeof(float) * hd);
    pack_kv(p, l, hd, h, t, key, val);
}

/* Causal attention of R queries at positions [t0, t0 + R) of one layer over
 * positions [0, t0 + R), from qkv (R, 3C) into y (R, C). S: RB * npad
 * floats, inv: RB. */
static void attend(const Prompt *p, int l, int C, int H, int t0, int R, const float *qkv,
                   float *y, float *S, float *inv) {
    const int hd = C / H, npad = panels(p->n), ncp = panels(hd) / PW;
    for (int h = 0; h < H; h++) {
        const float *kT = p->kT[l] + (long)h * npad * hd;
        const float *vp = p->vp[l] + (long)h * ncp * npad * PW;
        /* RB queries at a time, each block against the positions its last
         * query sees: little of the masked triangle is computed */
        for (int r0 = 0; r0 < R; r0 += RB) {
            const int rb = R - r0 < RB ? R - r0 : RB, seen = t0 + r0 + rb;
            matmul(qkv + (long)r0 * 3 * C + h * hd, 3 * C, kT, NULL, S, npad, rb, hd, seen);
            for (int r = 0; r < rb; r++) {
                float *s = S + (long)r * npad;
                const int m = t0 + r0 + r + 1; /* this query sees positions [0, m) */
                inv[r] = 1.f / exp_shifted(s, m, max_of(s, m, -INFINITY));
                memset(s + m, 0, sizeof(float) * (seen - m));
            }
            float *out = y + (long)r0 * C + h * hd;
            matmul_ps(S, npad, vp, NULL, out, C, rb, seen, hd, (long)npad * PW);
            for (int r = 0; r < rb; r++)
                for (int d = 0; d < hd; d++) out[(long)r * C + d] *= inv[r];
        }
    }
}

/* The prompt's tokens [start, n) through the model: keys and values of every
 * layer into p's caches, the last token's logits into p->logits. */
void prefill(const Model *m, const Prompt *p) {
    const int L = m->L, C = m->C, H = m->H, hd = C / H, npad = panels(p->n);
    float *x = p->scratch, *h = x + CH * C, *qkv = h + CH * C, *y = qkv + CH * 3 * C;
    float *u = y + CH * C, *z = u + CH * 4 * C, *S = z + CH * C, *inv = S + (long)RB * npad;
    for (int l = 0; l < L; l++)
        for (int hh = 0; hh < H; hh++) {
            for (int t = 0; t < p->start; t++)  /* the kept prefix, packed */
                pack_kv(p, l, hd, hh, t, p->k[l] + ((long)hh * p->n + t) * hd,
                        p->v[l] + ((long)hh * p->n + t) * hd);
            for (int t = p->n; t < npad; t++) pack_kv(p, l, hd, hh, t, NULL, NULL);
        }
    for (int c0 = 0; c0 < p->T; c0 += CH) {
        const int R = p->T - c0 < CH ? p->T - c0 : CH, t0 = p->start + c0;
        for (int r = 0; r < R; r++) {
            const float *e = m->wte + p->tokens[c0 + r] * (long)C, *pe = m->wpe + (long)(t0 + r) * C;
            for (int i = 0; i < C; i++) x[(long)r * C + i] = e[i] + pe[i];
        }
        for (int l = 0; l < L; l++) {
            for (int r = 0; r < R; r++) norm(x + (long)r * C, h + (long)r * C, C);
            matmul(h, C, m->qkv_w[l], m->qkv_b[l], qkv, 3 * C, R, C, 3 * C);
            for (int r = 0; r < R; r++)
                for (int hh = 0; hh < H; hh++) {
                    const float *row = qkv + (long)r * 3 * C + hh * hd;
                    put_kv(p, l, hd, hh, t0 + r, row + C, row + 2 * C);
                }
            attend(p, l, C, H, t0, R, qkv, y, S, inv);
            matmul(y, C, m->proj_w[l], m->proj_b[l], z, C, R, C, C);
            for (long i = 0; i < (long)R * C; i++) x[i] += z[i];
            for (int r = 0; r < R; r++) norm(x + (long)r * C, h + (long)r * C, C);
            matmul(h, C, m->fc_w[l], m->fc_b[l], u, 4 * C, R, C, 4 * C);
            gelu(u, (long)R * 4 * C);
            matmul(u, 4 * C, m->mproj_w[l], m->mproj_b[l], z, C, R, 4 * C, C);
            for (long i = 0; i < (long)R * C; i++) x[i] += z[i];
        }
        if (c0 + R == p->T) {
            norm(x + (long)(R - 1) * C, h, C);
            matmul(h, C, m->head_w, m->head_b, p->logits, m->V, 1, C, m->V);
        }
    }
}
