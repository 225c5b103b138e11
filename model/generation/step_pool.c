/* Threads that share a decode step's rows (decode_step.c includes this
 * file; it is not compiled on its own).
 *
 * Attention over the prompt is work per row, so a step of four rows costs
 * about twice one of a single row. Here the caller and up to MAXW persistent
 * workers each run the whole step for some of the rows (step_rows), with the
 * rows' own scratch: one hand-off and one wait per step, no barrier inside,
 * and every row's floats the same as on one thread.
 *
 * A worker spins a little (SPIN_NS) for the next step, then sleeps on a
 * condition variable, so a busy machine loses no core to waiting. A caller
 * that finds the pool taken (another Python thread stepping another batch)
 * runs its step alone. Where a worker finishes its share later than the
 * caller by more than the caller's whole share took (it did not get a core:
 * the machine is busy), the next BACKOFF steps run on the caller alone.
 * After fork() the child starts its workers afresh.
 * Built with -DMIDIFILL_NO_THREADS, or where <pthread.h> is missing, there
 * are no workers: every step runs on the caller (c_build.py tries with
 * -pthread first, then without).
 */
#if !defined(MIDIFILL_NO_THREADS) && defined(__has_include)
#if __has_include(<pthread.h>)
#define MIDIFILL_THREADED 1
#endif
#endif

#ifdef MIDIFILL_THREADED
#include <pthread.h>
#include <time.h>

#define MAXW 7              /* workers at most: eight threads in all */
#define SPIN_NS 200000L     /* how long a waiting thread spins before it sleeps */
#define BACKOFF 32          /* steps run alone after a worker was late */

typedef struct {
    const Model *m;
    const Batch *c;
    int N, p, r0, r1;
} Share;

static struct {
    pthread_mutex_t busy;   /* held by the caller whose step the pool runs */
    pthread_mutex_t mu;     /* guards the sleeps on go and done */
    pthread_cond_t go, done;
    int workers;            /* started */
    unsigned gen;           /* steps handed out (atomic) */
    int pending;            /* workers not yet done with this step (atomic) */
    int alone;              /* steps left to run on the caller alone */
    Share share[MAXW];
    unsigned born[MAXW];    /* gen when each worker was started */
} pool = {.busy = PTHREAD_MUTEX_INITIALIZER,
          .mu = PTHREAD_MUTEX_INITIALIZER,
          .go = PTHREAD_COND_INITIALIZER,
          .done = PTHREAD_COND_INITIALIZER};

static long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}

static inline void relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Spin for up to SPIN_NS until a step after `seen` is handed out (a
 * worker) or every worker is done (the caller); returns whether it came. */
static int spin_until_go(unsigned seen) {
    const long end = now_ns() + SPIN_NS;
    for (int i = 1;; i++) {
        if (__atomic_load_n(&pool.gen, __ATOMIC_ACQUIRE) != seen) return 1;
        relax();
        if (!(i & 255) && now_ns() > end) return 0;
    }
}

static int spin_until_done(void) {
    const long end = now_ns() + SPIN_NS;
    for (int i = 1;; i++) {
        if (__atomic_load_n(&pool.pending, __ATOMIC_ACQUIRE) == 0) return 1;
        relax();
        if (!(i & 255) && now_ns() > end) return 0;
    }
}

static void *worker(void *arg) {
    const int w = (int)(long)arg;
    unsigned seen = pool.born[w]; /* the step that started it may be handed out already */
    for (;;) {
        if (!spin_until_go(seen)) {
            pthread_mutex_lock(&pool.mu);
            while (__atomic_load_n(&pool.gen, __ATOMIC_ACQUIRE) == seen)
                pthread_cond_wait(&pool.go, &pool.mu);
            pthread_mutex_unlock(&pool.mu);
        }
        seen = __atomic_load_n(&pool.gen, __ATOMIC_ACQUIRE);
        const Share s = pool.share[w];
        if (s.r1 > s.r0) step_rows(s.m, s.c, s.N, s.p, s.r0, s.r1);
        if (__atomic_sub_fetch(&pool.pending, 1, __ATOMIC_ACQ_REL) == 0) {
            pthread_mutex_lock(&pool.mu);
            pthread_cond_broadcast(&pool.done);
            pthread_mutex_unlock(&pool.mu);
        }
    }
    return NULL;
}

/* fork() copies only the calling thread: the child's pool has no workers. */
static void pool_after_fork(void) {
    pthread_mutex_init(&pool.busy, NULL);
    pthread_mutex_init(&pool.mu, NULL);
    pthread_cond_init(&pool.go, NULL);
    pthread_cond_init(&pool.done, NULL);
    pool.workers = 0;
    pool.pending = 0;
    pool.alone = 0;
}

/* Start workers up to n (the pool's lock held); returns how many run. */
static int pool_grow(int n) {
    static int hooked;
    if (!hooked) hooked = pthread_atfork(NULL, NULL, pool_after_fork) == 0 ? 1 : -1;
    if (hooked < 0) return 0;
    if (n > MAXW) n = MAXW;
    while (pool.workers < n) {
        pthread_t t;
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
        pool.born[pool.workers] = pool.gen;
        const int bad = pthread_create(&t, &a, worker, (void *)(long)pool.workers);
        pthread_attr_destroy(&a);
        if (bad) break;
        pool.workers++;
    }
    return pool.workers;
}

/* Run a step of B >= 2 rows on up to c->threads threads; 0 where it could
 * not (the pool busy, no worker started): the caller then runs it alone. */
static int pool_step(const Model *m, const Batch *c, int B, int p) {
    if (pthread_mutex_trylock(&pool.busy)) return 0;
    if (pool.alone > 0) {
        pool.alone--;
        pthread_mutex_unlock(&pool.busy);
        return 0;
    }
    int k = (c->threads < B ? c->threads : B) - 1; /* workers for this step */
    k = pool_grow(k) < k ? pool.workers : k;
    if (k < 1) {
        pthread_mutex_unlock(&pool.busy);
        return 0;
    }
    const int n = k + 1; /* threads: thread t takes rows [t B / n, (t + 1) B / n) */
    for (int w = 0; w < pool.workers; w++) {
        const int t = w + 1;
        pool.share[w] = w < k ? (Share){m, c, B, p, t * B / n, (t + 1) * B / n}
                              : (Share){m, c, B, p, 0, 0};
    }
    __atomic_store_n(&pool.pending, pool.workers, __ATOMIC_RELEASE);
    const long t0 = now_ns();
    __atomic_add_fetch(&pool.gen, 1, __ATOMIC_ACQ_REL);
    pthread_mutex_lock(&pool.mu);
    pthread_cond_broadcast(&pool.go);
    pthread_mutex_unlock(&pool.mu);
    step_rows(m, c, B, p, 0, B / n);
    const long t1 = now_ns();
    const int came = spin_until_done();
    if (!came || now_ns() - t1 > t1 - t0) pool.alone = BACKOFF;
    if (!came) {
        pthread_mutex_lock(&pool.mu);
        while (__atomic_load_n(&pool.pending, __ATOMIC_ACQUIRE))
            pthread_cond_wait(&pool.done, &pool.mu);
        pthread_mutex_unlock(&pool.mu);
    }
    pthread_mutex_unlock(&pool.busy);
    return 1;
}

int step_threads_built(void) { return 1 + MAXW; }
#else
static int pool_step(const Model *m, const Batch *c, int B, int p) {
    (void)m, (void)c, (void)B, (void)p;
    return 0;
}

/* The most threads a step may use: 1, this build has no workers. */
int step_threads_built(void) { return 1; }
#endif
