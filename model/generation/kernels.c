/* The arithmetic that model/generation/decode_step.c (one decode step) and
 * model/generation/prefill.c (a prompt's forward pass) share: float vectors,
 * exp, layer norm, GELU, softmax pieces, and the product with a packed
 * matrix. Not compiled on its own: each of those two files includes it, so
 * that its small functions inline into their loops.
 *
 * Weights arrive folded as FastDecoder prepares them (layer-norm gains in the
 * following matrix, the attention scale in the query columns, GELU's 0.5 in
 * the matrix after it) and packed by model/generation/fast_c.py in panels of 16 output
 * columns: a matrix W (in, out) is stored as ceil(out / 16) panels, each
 * (in, 16) row-major, the last one padded with zeros, so a product streams
 * through memory in order (prefetchers follow it; the plain layout jumps a
 * whole row per step). Biases are padded likewise.
 *
 * Plain C with gcc/clang vector extensions (one AVX register, two SSE or
 * NEON ones): products keep 16 outputs of up to four rows in registers while
 * a panel streams past once, and exp is a vectorised polynomial (libm's is a
 * call per element).
 */
#ifndef MIDIFILL_KERNELS
#define MIDIFILL_KERNELS
#include <math.h>
#include <stdint.h>
#include <string.h>

/* rows per register block of a matrix product: 8 where AVX-512VL gives 32
 * vector registers (16 sums of 8 rows and the two weight vectors fit), else
 * 4; a batch of 8 candidates then reads each weight once, not twice */
#if defined(__AVX512VL__)
#define RB 8
#else
#define RB 4
#endif
/* PW (columns per panel) and EPS (the layer-norm epsilon) come from the
 * compiler's command line (model/generation/fast_c.py), so each is defined once. */
#if !defined(PW) || !defined(EPS)
#error "build with -DPW=... -DEPS=..., as model/generation/fast_c.py does"
#endif

/* Eight floats as one value. */
typedef float v8 __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));

static inline v8 ld(const float *p) { v8 v; memcpy(&v, p, sizeof v); return v; }
static inline void st(float *p, v8 v) { memcpy(p, &v, sizeof v); }
static inline v8 splat(float f) { return (v8){f, f, f, f, f, f, f, f}; }
static inline float hsum(v8 v) {
    return ((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7]));
}
/* Keep v in a register: without it the compiler reloads a weight vector
 * for every row's multiply-add (a memory operand), and with four rows the
 * loads, not the multiply-adds, set the pace. Only where one register holds
 * eight floats (AVX): elsewhere (SSE, NEON) v is two registers, which no
 * asm constraint names, and the step built with the constraint failed. */
#if defined(__AVX512VL__)
#define KEEP(v) __asm__("" : "+v"(v))  /* any of the 32 registers */
#elif defined(__AVX__)
#define KEEP(v) __asm__("" : "+x"(v))
#else
#define KEEP(v) ((void)0)
#endif
static inline float fmax2(float a, float b) { return a > b ? a : b; }
/* a > b ? a : b and a < b ? a : b per lane: one instruction where AVX has
 * it (the compilers do not see it in the masks) */
#if defined(__AVX__)
static inline v8 vmax(v8 a, v8 b) { return __builtin_ia32_maxps256(a, b); }
static inline v8 vmin(v8 a, v8 b) { return __builtin_ia32_minps256(a, b); }
#else
static inline v8 vmax(v8 a, v8 b) { v8i m = a > b; return (v8)(((v8i)a & m) | ((v8i)b & ~m)); }
static inline v8 vmin(v8 a, v8 b) { v8i m = a < b; return (v8)(((v8i)a & m) | ((v8i)b & ~m)); }
#endif

/* e^x for eight floats, within 2 ulp of expf on [-80, 80]: Cephes' minimax
 * polynomial on [-ln2/2, ln2/2], scaled by 2^n through the exponent bits.
 * Below -80 it gives e^-80 (1.8e-35): softmax weights that small are below
 * float precision beside the largest (1), and stay out of the slow
 * denormal range. */
static inline v8 vexp(v8 x) {
    x = vmin(vmax(x, splat(-80.f)), splat(80.f));
    const v8 magic = splat(12582912.f);  /* 1.5 * 2^23: adding it rounds to an integer */
    v8 n = (x * 1.44269504088896341f + magic) - magic;
    v8 r = x - n * 0.693359375f;
    r = r + n * 2.12194440e-4f;
    v8 p = splat(1.9875691500e-4f);
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.f;
    v8i e = (__builtin_convertvector(n, v8i) + 127) << 23;
    return p * (v8)e;
}

/* Layer norm without gain or bias (folded into the next matrix), n a
 * multiple of 8 (fast_c.py builds this step only for such widths). */
static void norm(const float *restrict x, float *restrict out, int n) {
    v8 s = splat(0.f);
    for (int i = 0; i < n; i += 8) s += ld(x + i);
    const float m = hsum(s) / (float)n;
    v8 q = splat(0.f);
    for (int i = 0; i < n; i += 8) {
        const v8 d = ld(x + i) - m;
        st(out + i, d);
        q += d * d;
    }
    const float r = 1.f / sqrtf(hsum(q) / (float)n + EPS);
    for (int i = 0; i < n; i += 8) st(out + i, ld(out + i) * r);
}

/* Y[0:R] (R, out) = X[0:R] (R, in) @ W + b for R <= RB rows, W packed in
 * panels (see the top) ps floats apart (in * PW for a whole matrix; more
 * where only the first `in` rows of a taller one are used), b padded or
 * NULL; X rows ldx apart, Y rows ldy.
 * always_inline with constant R and U unrolls the loops. A step takes U
 * weight rows, each to its own sums, so that with fewer rows there are still
 * eight independent multiply-adds in flight (their latency times the two
 * FMA units); each weight vector is loaded once and used for all R rows.
 * A row's sums depend on U only, never on R or on the other rows. */
#define UMAX 4
static inline __attribute__((always_inline)) void
mm_rows(const float *restrict X, int ldx, const float *restrict Wp, const float *restrict b,
        float *restrict Y, int ldy, const int R, const int U, int in, int out, long ps) {
    for (int j0 = 0; j0 < out; j0 += PW) {
        const float *restrict w = Wp + j0 / PW * ps;
        v8 acc[UMAX][RB][2];
        for (int u = 0; u < U; u++)
            for (int r = 0; r < R; r++) {
                acc[u][r][0] = u == 0 && b ? ld(b + j0) : splat(0.f);
                acc[u][r][1] = u == 0 && b ? ld(b + j0 + 8) : splat(0.f);
            }
        int i = 0;
        for (; i + U <= in; i += U, w += U * PW) {
            for (int u = 0; u < U; u++) {
                v8 w0 = ld(w + u * PW), w1 = ld(w + u * PW + 8);
                KEEP(w0);
                KEEP(w1);
                for (int r = 0; r < R; r++) {
                    const float xi = X[(long)r * ldx + i + u];
                    acc[u][r][0] += xi * w0;
                    acc[u][r][1] += xi * w1;
                }
            }
        }
        for (; i < in; i++, w += PW) {
            v8 w0 = ld(w), w1 = ld(w + 8);
            KEEP(w0);
            KEEP(w1);
            for (int r = 0; r < R; r++) {
                const float xi = X[(long)r * ldx + i];
                acc[0][r][0] += xi * w0;
                acc[0][r][1] += xi * w1;
            }
        }
        for (int r = 0; r < R; r++) {
            float *y = Y + (long)r * ldy + j0;
            v8 lo = acc[0][r][0], hi = acc[0][r][1];
            for (int u = 1; u < U; u++) {
                lo += acc[u][r][0];
                hi += acc[u][r][1];
            }
            if (j0 + PW <= out) {
                st(y, lo);
                st(y + 8, hi);
            } else {  /* the padded last panel: only the real columns */
                float pad[PW];
                st(pad, lo);
                st(pad + 8, hi);
                memcpy(y, pad, sizeof(float) * (out - j0));
            }
        }
    }
}

/* U for a block of R rows (see mm_rows). */
#define U_OF(R) ((R) == 1 ? 4 : (R) == 2 ? 2 : 1)

/* mm_rows for any block the products below make: U = 1 (R <= RB rows), or
 * a last block of one or two rows (U = 4 or 2) or a part of it. */
static void mm_block(const float *restrict X, int ldx, const float *restrict Wp,
                     const float *restrict b, float *restrict Y, int ldy, int R, int U, int in,
                     int out, long ps) {
#define MM(r, u) mm_rows(X, ldx, Wp, b, Y, ldy, r, u, in, out, ps); return
    if (U == 4) { MM(1, 4); }
    if (U == 2) {
        if (R == 1) { MM(1, 2); }
        MM(2, 2);
    }
    switch (R) {
#if RB > 4
    case 8: MM(8, 1);
    case 7: MM(7, 1);
    case 6: MM(6, 1);
    case 5: MM(5, 1);
#endif
    case 4: MM(4, 1);
    case 3: MM(3, 1);
    case 2: MM(2, 1);
    case 1: MM(1, 1);
    }
#undef MM
}

/* Rows [r0, r0 + n) of Y (B, out) = X (B, in) @ W + b, W packed with panels
 * ps floats apart; X and Y point at row r0. Each row is summed as the
 * product of the whole batch sums it: in blocks of RB rows, the rest one
 * block of B mod RB rows, whose size sets U. So threads that each take some
 * of a batch's rows (decode_step.c) get the very floats one thread gets. */
static void matmul_rows(const float *restrict X, int ldx, const float *restrict Wp,
                        const float *restrict b, float *restrict Y, int ldy, int B, int r0,
                        int n, int in, int out, long ps) {
    const int whole = B / RB * RB, end = r0 + n;
    for (int r = r0; r < end;) {
        const int stop = r < whole ? (end < whole ? end : whole) : end;
        const int U = r < whole ? U_OF(RB) : U_OF(B - whole);
        const int R = stop - r < RB ? stop - r : RB;
        mm_block(X + (long)(r - r0) * ldx, ldx, Wp, b, Y + (long)(r - r0) * ldy, ldy, R, U, in,
                 out, ps);
        r += R;
    }
}

/* Y (B, out) = X (B, in) @ W + b, W packed with panels ps floats apart;
 * RB rows at a time. */
static inline void matmul_ps(const float *restrict X, int ldx, const float *restrict Wp,
                             const float *restrict b, float *restrict Y, int ldy, int B, int in,
                             int out, long ps) {
    matmul_rows(X, ldx, Wp, b, Y, ldy, B, 0, B, in, out, ps);
}

/* Y (B, out) = X (B, in) @ W + b, W packed (a whole matrix). */
static inline void matmul(const float *restrict X, int ldx, const float *restrict Wp,
                          const float *restrict b, float *restrict Y, int ldy, int B, int in,
                          int out) {
    matmul_ps(X, ldx, Wp, b, Y, ldy, B, in, out, (long)in * PW);
}

static inline float dot(const float *restrict a, const float *restrict b, int n) {
    v8 acc = splat(0.f);
    int i = 0;
    for (; i + 8 <= n; i += 8) acc += ld(a + i) * ld(b + i);
    float s = hsum(acc);
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

/* e^(s[i] - shift) in place for n floats; returns their sum. */
static float exp_shifted(float *restrict s, int n, float shift) {
    v8 acc = splat(0.f);
    float tail = 0.f;
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        v8 e = vexp(ld(s + i) - shift);
        st(s + i, e);
        acc += e;
    }
    if (i < n) {
        float buf[8] = {0};
        memcpy(buf, s + i, sizeof(float) * (n - i));
        v8 e = vexp(ld(buf) - shift);
        st(buf, e);
        memcpy(s + i, buf, sizeof(float) * (n - i));
        for (int k = 0; k < n - i; k++) tail += buf[k];
    }
    return hsum(acc) + tail;
}

/* GELU, tanh form, its 0.5 folded away: (1 + tanh g) a = 2a / (1 + e^-2g),
 * g = a (c + k a^2), in place for n floats (n a multiple of 8: fast_c.py
 * builds this step only for models whose width is a multiple of 8). */
static void gelu(float *restrict u, long n) {
    const float c = 0.7978845608028654f;  /* sqrt(2/pi) */
    const float k = 0.7978845608028654f * 0.044715f;
    for (long i = 0; i < n; i += 8) {
        const v8 a = ld(u + i);
        st(u + i, 2.f * a / (1.f + vexp(-2.f * a * (c + k * a * a))));
    }
}

static float max_of(const float *restrict s, int n, float mx) {
    v8 m = splat(mx);
    int i = 0;
    for (; i + 8 <= n; i += 8) m = vmax(m, ld(s + i));
    for (int k = 0; k < 8; k++) mx = fmax2(mx, m[k]);
    for (; i < n; i++) mx = fmax2(mx, s[i]);
    return mx;
}

static inline int panels(int n) { return (n + PW - 1) / PW * PW; }

/* The model, as model/generation/fast_c.py's CDecoder lays it out once: sizes, and
 * the folded, packed weights (per layer: arrays of L pointers; a bias NULL
 * where the model has none). */
typedef struct {
    int L, C, H, V;
    const float *wte, *wpe;
    const float *const *qkv_w, *const *qkv_b, *const *proj_w, *const *proj_b;
    const float *const *fc_w, *const *fc_b, *const *mproj_w, *const *mproj_b;
    const float *head_w, *head_b;
} Model;
#endif
