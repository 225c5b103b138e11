/* The arithmetic of model/generation/sampling.py's `sample` for one row, compiled: in
 * NumPy it is ~12 calls of ~2 us fixed cost each, paid for every row of
 * every token, which is most of a variation's cost beside the model step.
 * Same steps, same order, same random draws (uniforms from the request's
 * generator, handed in), so both give the same token (tests/test_fast.py).
 * Built with decode_step.c into one library by model/generation/fast_c.py.
 */
#include <math.h>
#include <stdlib.h>

typedef struct { float v; int i; } cand;

/* falling value, then rising token id: NumPy's stable argsort of -p */
static int by_value(const void *a, const void *b) {
    const cand *x = a, *y = b;
    if (x->v != y->v) return x->v < y->v ? 1 : -1;
    return x->i - y->i;
}

/* One token id from filtered logits (V,), -inf = forbidden; u holds at least
 * V uniforms in (0, 1]; *used is set to how many were taken. work holds V
 * cands. Returns -1 when nothing is allowed. */
static int race(cand *work, int n, int best, float temperature, int top_k, float top_p,
                const float *u, int *used);

int sample_row(const float *logits, int V, float temperature, int top_k, float top_p,
               const float *u, int *used, cand *work) {
    int n = 0, best = -1;
    for (int i = 0; i < V; i++) {
        if (logits[i] > -INFINITY) {
            work[n].v = logits[i];
            work[n].i = i;
            if (best < 0 || logits[i] > logits[best]) best = i;
            n++;
        }
    }
    return race(work, n, best, temperature, top_k, top_p, u, used);
}

/* sample_row after its gather: the n allowed (value, id) in work, best the
 * id of the largest (the first of equals), -1 when n is 0. */
static int race(cand *work, int n, int best, float temperature, int top_k, float top_p,
                const float *u, int *used) {
    *used = 0;
    if (n <= 1 || temperature <= 0.f) return best;
    for (int k = 0; k < n; k++) work[k].v = work[k].v / temperature;
    const int sorted = (top_k > 0 && top_k < n) || (top_p > 0.f && top_p < 1.f);
    if (sorted) qsort(work, n, sizeof(cand), by_value);
    if (top_k > 0 && top_k < n) {  /* the k largest, and any tied with the k-th */
        const float kth = work[top_k - 1].v;
        int m = top_k;
        while (m < n && work[m].v >= kth) m++;
        n = m;
    }
    float mx = work[0].v;
    for (int k = 1; k < n; k++) if (work[k].v > mx) mx = work[k].v;
    float sum = 0.f;
    for (int k = 0; k < n; k++) { work[k].v = expf(work[k].v - mx); sum += work[k].v; }
    if (top_p > 0.f && top_p < 1.f) {  /* 1 + how many partial sums stay below top_p */
        const float limit = top_p * sum;
        float acc = 0.f;
        int m = 0;
        while (m < n) {
            acc += work[m].v;
            if (!(acc < limit)) break;
            m++;
        }
        n = m + 1 < n ? m + 1 : n;
    }
    /* the exponential race: the largest p / E, E = -log(u) ~ Exp(1) */
    float top = -1.f;
    for (int k = 0; k < n; k++) {
        const float r = work[k].v / -logf(u[k]);
        if (r > top) { top = r; best = work[k].i; }
    }
    *used = n;
    return best;
}

/* sample_row for B rows of logits (B, V) in order, the uniforms taken one
 * after another from u (at least B * V of them), the tokens into out; *used
 * is set to how many uniforms all rows took. Returns the first row for
 * which nothing is allowed, or -1 when every row drew a token. */
int sample_rows(const float *logits, int B, int V, float temperature, int top_k, float top_p,
                const float *u, int *used, cand *work, int *out) {
    int total = 0;
    for (int b = 0; b < B; b++) {
        int n = 0;
        out[b] = sample_row(logits + (long)b * V, V, temperature, top_k, top_p, u + total, &n,
                            work);
        if (out[b] < 0) { *used = total; return b; }
        total += n;
    }
    *used = total;
    return -1;
}

/* Rows together (model/generation/rows.py): row b's filtered logits are
 * xs[b][i] + adds[b][i], where adds[b] is 0 for a token the grammar and
 * filters allow, -inf for one they forbid, and the nats of a soft lean
 * (harmony, groove) where one adds them; then sample_row's steps, with the
 * same uniforms taken in the same order as sample_rows on those rows. The
 * sum is the one float32 addition NumPy makes, so the same token. */
int sample_rows_add(const float *const *xs, const float *const *adds, int B, int V,
                    float temperature, int top_k, float top_p, const float *u, int *used,
                    cand *work, int *out) {
    int total = 0;
    for (int b = 0; b < B; b++) {
        const float *x = xs[b], *a = adds[b];
        int n = 0, best = -1, k = 0;
        float top = -INFINITY;
        for (int i = 0; i < V; i++) {
            const float v = x[i] + a[i];
            if (v > -INFINITY) {
                work[n].v = v;
                work[n].i = i;
                if (best < 0 || v > top) { best = i; top = v; }
                n++;
            }
        }
        out[b] = race(work, n, best, temperature, top_k, top_p, u + total, &k);
        if (out[b] < 0) { *used = total; return b; }
        total += k;
    }
    *used = total;
    return -1;
}
