"""`midifill bench`'s decode figures: tokens/s of each decoder through the
interface the engine uses (model/generation/decoders.py), of two plain torch loops,
and the memory bandwidth that bounds them (bridge/bench.py runs them)."""
from __future__ import annotations

import statistics
import time

DECODERS = ("compiled", "numpy", "reference")


def decode_speeds(engine, steps: int, rounds: int) -> dict:
    """Tokens/s of the model alone after a 300-token prompt, greedy, one
    thread: each decoder through the engine's interface (1 row and 4 rows),
    and two plain torch loops; each path in turn within each round, the
    median round counts. A decoder that cannot be built here is left out."""
    import numpy as np
    import torch
    from model.generation import decoders
    model = engine.model
    prompt = torch.randint(10, model.config.vocab_size, (1, 300))

    def through(dec, batch):
        dec.forget()  # no prompt is shared with the last run
        run = dec.start(prompt[0].tolist(), batch, steps + 1)
        logits, rows = run.logits, list(range(batch))
        with run:
            t = time.perf_counter()
            for _ in range(steps):
                logits = run.step(np.argmax(logits, -1).tolist(), rows)
            return batch * steps / (time.perf_counter() - t)

    def eager():
        t = time.perf_counter()
        _eager_kv_loop(model, prompt, steps)
        return steps / (time.perf_counter() - t)

    def no_cache():
        n = max(4, steps // 8)
        t = time.perf_counter()
        seq = prompt
        for _ in range(n):
            logits, _ = model(seq)
            seq = torch.cat([seq, torch.argmax(logits[:, -1], -1, keepdim=True)], 1)
        return n / (time.perf_counter() - t)

    paths = {}
    for kind in DECODERS:
        try:
            dec = decoders.build(kind, engine.weights)
        except RuntimeError:  # no C compiler here
            continue
        for batch in (1, 4):
            paths[f"{kind}_b{batch}"] = lambda dec=dec, batch=batch: through(dec, batch)
    paths.update(eager_kv_b1=eager, no_cache_b1=no_cache)
    seen = {k: [] for k in paths}
    with decoders.torch_threads(1), torch.no_grad():
        for _ in range(rounds):
            for k, f in paths.items():
                seen[k].append(f())
    return {k: round(statistics.median(v), 1) for k, v in seen.items()}


def _eager_kv_loop(model, prompt, steps):
    import torch
    import torch.nn.functional as F
    keys = [None] * len(model.blocks)
    values = [None] * len(model.blocks)
    idx, pos = prompt, 0
    for _ in range(steps + 1):
        T = idx.shape[1]
        x = model.wte(idx) + model.wpe(torch.arange(pos, pos + T))
        for i, blk in enumerate(model.blocks):
            h = blk.ln_1(x)
            q, k, v = blk.attn.qkv(h).split(x.shape[-1], dim=2)
            nh = blk.attn.n_head
            q, k, v = (z.view(1, T, nh, -1).transpose(1, 2) for z in (q, k, v))
            keys[i] = k if keys[i] is None else torch.cat([keys[i], k], 2)
            values[i] = v if values[i] is None else torch.cat([values[i], v], 2)
            y = F.scaled_dot_product_attention(q, keys[i], values[i], is_causal=T > 1)
            x = x + blk.attn.proj(y.transpose(1, 2).reshape(1, T, -1))
            x = x + blk.mlp(blk.ln_2(x))
        logits = model.lm_head(model.ln_f(x[:, -1]))
        pos += T
        idx = torch.argmax(logits, -1, keepdim=True)


def bandwidth(weight_bytes: int, quick=False) -> dict:
    """Memory read bandwidth (GB/s): a 256 MB array (64 MB quick), which
    comes from DRAM, and a working set the size of the weights read again
    and again, which stays in the CPU's caches where they fit (3.7 MB of the
    small model do, in a 32 MB L3). Read as one BLAS dot product of the two
    halves: NumPy's sum is compute-bound (pairwise) and reads at ~1/3 the rate."""
    import numpy as np
    from model.generation.fast import single_thread_blas
    single_thread_blas()
    big = np.ones((16 if quick else 64) * 1024 * 1024, dtype=np.float32)
    small = np.ones(max(2, weight_bytes // 4), dtype=np.float32)
    out = {}
    for name, arr, reps in (("large_array", big, 3 if quick else 5), ("weights_sized", small, 200)):
        h = len(arr) // 2
        a, b = arr[:h], arr[h:2 * h]
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
    ratio = {f"{e}_b1": f"{e}/eager = {mine / d['eager_kv_b1']:.2f}x",
             f"{e}_b4": f"vs 1 stream {d[f'{e}_b4'] / mine:.2f}x"}
    for kind in ("numpy", "reference"):
        if kind != e and f"{kind}_b1" in d:
            ratio[f"{kind}_b1"] = f"{e}/{kind} = {mine / d[f'{kind}_b1']:.2f}x"
    rows = []
    for kind in sorted(names, key=lambda k: k != e):  # the engine's decoder first
        for b, what in ((1, "1 stream"), (4, "batch of 4")):
            key = f"{kind}_b{b}"
            if key in d:
                label = f"decode, {names[kind]}{' (engine)' if kind == e else ''}, {what}"
                rows.append(f"{label:44} {d[key]:>10.0f} tok/s   {ratio.get(key, '')}".rstrip())
    rows.append(f"{'decode, plain eager loop + KV cache':44} {d['eager_kv_b1']:>10.0f} tok/s")
    rows.append(f"{'decode, no KV cache':44} {d['no_cache_b1']:>10.0f} tok/s"
                f"   {e}/no-cache = {mine / d['no_cache_b1']:.1f}x")
    return rows
