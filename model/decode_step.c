/* One decode step of midifill's Transformer in C: the arithmetic of
 * model/fast.py's FastDecoder.decode, in one call instead of ~150 NumPy
 * calls (whose fixed cost dominated a token of the small model).
 *
 * Weights arrive folded as FastDecoder prepares them: layer-norm gains in the
 * following matrix, the attention scale in the query columns, GELU's 0.5 in
 * the matrix after it. Matrices are (in, out), row-major float32. The key and
 * value caches are the torch KVCache tensors, (B, H, T, hd) contiguous.
 * Built on first use by model/fast_c.py with the system C compiler.
 */
#include <math.h>
#include <string.h>

#define EPS 1e-5f

static void norm(const float *restrict x, float *restrict out, int n) {
    float m = 0.f, v = 0.f;
    for (int i = 0; i < n; i++) m += x[i];
    m /= (float)n;
    for (int i = 0; i < n; i++) { float d = x[i] - m; out[i] = d; v += d * d; }
    v = sqrtf(v / (float)n + EPS);
    for (int i = 0; i < n; i++) out[i] /= v;
}

/* Y (B, out) = X (B, in) @ W (in, out) + b: each weight row is read once for
 * all B rows, so a batch of variations costs little more weight traffic. */
static void matmul(const float *restrict X, const float *restrict W, const float *restrict b,
                   float *restrict Y, int B, int in, int out) {
    for (int r = 0; r < B; r++) {
        if (b) memcpy(Y + (long)r * out, b, sizeof(float) * out);
        else memset(Y + (long)r * out, 0, sizeof(float) * out);
    }
    for (int i = 0; i < in; i++) {
        const float *row = W + (long)i * out;
        for (int r = 0; r < B; r++) {
            const float xi = X[(long)r * in + i];
            float *y = Y + (long)r * out;
            for (int j = 0; j < out; j++) y[j] += xi * row[j];
        }
    }
}

/* scratch needs B * 10C + (p + 1) floats */
void decode_step(int B, int L, int C, int H, int T, int p, int V,
                 const long *tokens, const float *wte, const float *wpe,
                 const float *const *qkv_w, const float *const *qkv_b,
                 const float *const *proj_w, const float *const *proj_b,
                 const float *const *fc_w, const float *const *fc_b,
                 const float *const *mproj_w, const float *const *mproj_b,
                 float *const *kc, float *const *vc,
                 const float *head_w, const float *head_b,
                 float *x, float *logits, float *scratch) {
    const int hd = C / H;
    const float gc = 0.7978845608028654f;            /* sqrt(2/pi) */
    const float ga = 0.7978845608028654f * 0.044715f;
    float *qkv = scratch, *h = qkv + (long)B * 3 * C, *y = h + (long)B * C;
    float *u = y + (long)B * C, *z = u + (long)B * 4 * C, *s = z + (long)B * C;
    for (int b = 0; b < B; b++) {
        const float *e = wte + tokens[b] * (long)C, *pe = wpe + (long)p * C;
        for (int i = 0; i < C; i++) x[(long)b * C + i] = e[i] + pe[i];
    }
    for (int l = 0; l < L; l++) {
        for (int b = 0; b < B; b++) norm(x + (long)b * C, h + (long)b * C, C);
        matmul(h, qkv_w[l], qkv_b[l], qkv, B, C, 3 * C);
        for (int b = 0; b < B; b++) {
            const float *row = qkv + (long)b * 3 * C;
            for (int hh = 0; hh < H; hh++) {
                float *K = kc[l] + ((long)(b * H + hh) * T) * hd;
                float *Vv = vc[l] + ((long)(b * H + hh) * T) * hd;
                memcpy(K + (long)p * hd, row + C + hh * hd, sizeof(float) * hd);
                memcpy(Vv + (long)p * hd, row + 2 * C + hh * hd, sizeof(float) * hd);
                const float *q = row + hh * hd;
                float mx = -INFINITY;
                for (int t = 0; t <= p; t++) {
                    const float *k = K + (long)t * hd;
                    float d = 0.f;
                    for (int i = 0; i < hd; i++) d += q[i] * k[i];
                    s[t] = d;
                    if (d > mx) mx = d;
                }
                float sum = 0.f;
                for (int t = 0; t <= p; t++) { s[t] = expf(s[t] - mx); sum += s[t]; }
                float *out = y + (long)b * C + hh * hd;
                memset(out, 0, sizeof(float) * hd);
                for (int t = 0; t <= p; t++) {
                    const float w = s[t] / sum, *v = Vv + (long)t * hd;
                    for (int i = 0; i < hd; i++) out[i] += w * v[i];
                }
            }
        }
        matmul(y, proj_w[l], proj_b[l], z, B, C, C);
        for (long i = 0; i < (long)B * C; i++) x[i] += z[i];
        for (int b = 0; b < B; b++) norm(x + (long)b * C, h + (long)b * C, C);
        matmul(h, fc_w[l], fc_b[l], u, B, C, 4 * C);
        for (long i = 0; i < (long)B * 4 * C; i++) {
            const float a = u[i];
            u[i] = (1.f + tanhf(a * (gc + ga * a * a))) * a;
        }
        matmul(u, mproj_w[l], mproj_b[l], z, B, 4 * C, C);
        for (long i = 0; i < (long)B * C; i++) x[i] += z[i];
    }
    for (int b = 0; b < B; b++) norm(x + (long)b * C, h + (long)b * C, C);
    matmul(h, head_w, head_b, logits, B, C, V);
}
