"""`midifill bench`'s decode figures: tokens/s of each decoder through the
interface the engine uses (model/generation/decoders.py), and the memory
bandwidth that bounds them (bridge/bench/__init__.py runs them). The
reference decoder is the torch module's own prefill and decode, so the
compiled path is compared with torch without re-implementing its forward
pass here."""

from __future__ import annotations

import statistics
import time

DECODERS = ("compiled", "numpy", "reference")
BATCHES = (1, 4, 8)


def decode_speeds(engine, steps: int, rounds: int) -> dict:
    """Tokens/s of the model alone after a 300-token prompt, greedy, one
    thread: each decoder through the interface the engine uses (1 row, 4
    rows, and 8: the default candidates of a fill), each path in turn
    within each round, the median round counts. A decoder that cannot be
    built here is left out."""
    import numpy as np

    from midifill.model.generation import decoders

    rng = np.random.default_rng(0)
    prompt = rng.integers(10, engine.config.vocab_size, 300).tolist()

    def through(dec, batch):
        dec.forget()  # no prompt is shared with the last run
        run = dec.start(prompt, batch, steps + 1)
        logits, rows = run.logits, list(range(batch))
        with run:
            t = time.perf_counter()
            for _ in range(steps):
                logits = run.step(np.argmax(logits, -1).tolist(), rows)
            return batch * steps / (time.perf_counter() - t)

    paths = {}
    for kind in DECODERS:
        try:
            dec = decoders.build(kind, engine.weights)
        except RuntimeError:  # no C compiler here
            continue
        for batch in BATCHES:
            paths[f"{kind}_b{batch}"] = lambda dec=dec, batch=batch: through(dec, batch)
    seen = {k: [] for k in paths}
    for _ in range(rounds):
        for k, f in paths.items():
            seen[k].append(f())
    return {k: round(statistics.median(v), 1) for k, v in seen.items()}


def bandwidth(weight_bytes: int, quick=False) -> dict:
    """Memory read bandwidth (GB/s): a 256 MB array (64 MB quick), which
    comes from DRAM, and a working set the size of the weights read again
    and again, which stays in the CPU's caches where they fit (3.7 MB of the
    small model do, in a 32 MB L3). Read as one BLAS dot product of the two
    halves: NumPy's sum is compute-bound (pairwise) and reads at ~1/3 the rate."""
    import numpy as np

    from midifill.model.generation.fast import single_thread_blas

    single_thread_blas()
    big = np.ones((16 if quick else 64) * 1024 * 1024, dtype=np.float32)
    small = np.ones(max(2, weight_bytes // 4), dtype=np.float32)
    out = {}
    for name, arr, reps in (("large_array", big, 3 if quick else 5), ("weights_sized", small, 200)):
        h = len(arr) // 2
        a, b = arr[:h], arr[h : 2 * h]
        np.dot(a, b)
        best = float("inf")
        for _ in range(2 if quick else 5):
            t = time.perf_counter()
            for _ in range(reps):
                np.dot(a, b)
            best = min(best, time.perf_counter() - t)
        out[name] = 2 * a.nbytes * reps / best / 1e9
    return {k: round(v, 2) for k, v in out.items()}


def decode_rows(r: dict) -> list[str]:
    d, e = r["decode_tok_s"], r["decoder"]
    names = {"compiled": "compiled", "numpy": "NumPy", "reference": "Transformer.decode"}
    mine = d[f"{e}_b1"]
    ratio = {f"{e}_b{b}": f"vs 1 stream {d[f'{e}_b{b}'] / mine:.2f}x" for b in BATCHES[1:]}
    for kind in ("numpy", "reference"):
        if kind != e and f"{kind}_b1" in d:
            ratio[f"{kind}_b1"] = f"{e}/{kind} = {mine / d[f'{kind}_b1']:.2f}x"
    rows = []
    for kind in sorted(names, key=lambda k: k != e):  # the engine's decoder first
        for b in BATCHES:
            key = f"{kind}_b{b}"
            if key in d:
                what = "1 stream" if b == 1 else f"batch of {b}"
                label = f"decode, {names[kind]}{' (engine)' if kind == e else ''}, {what}"
                rows.append(f"{label:44} {d[key]:>10.0f} tok/s   {ratio.get(key, '')}".rstrip())
    return rows
