"""`midifill bench`: speed and memory of a model on the machine at hand.

Prints one table and writes it as JSON. Everything is measured in this one
run, on the same weights, so the ratios compare like with like; paths that
are compared run interleaved, in rounds, and report medians, because the
machine may be shared. `--quick` runs each measure once or twice on short
inputs (seconds), so CI keeps every figure from rotting.

Decode paths: "fast" is the engine's (model/fast.py, NumPy); "module" is
Transformer.decode on the same static cache (the reference path); "eager" is
a plain PyTorch loop whose cache grows by concatenation; "no cache" reruns
the whole sequence for every token.
"""
from __future__ import annotations

import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def add_arguments(p):
    p.add_argument("--model", default=None, help="checkpoint (default: the bundled model)")
    p.add_argument("--runs", type=int, default=20, help="fill runs for each latency figure")
    p.add_argument("--quick", action="store_true", help="a few runs of each measure (for CI)")
    p.add_argument("--json", default="bench.json", help="where to write the results")


def run(args) -> int:
    runs = 2 if args.quick else max(20, args.runs)
    results = bench(args.model, runs, args.quick)
    print(format_table(results))
    Path(args.json).write_text(json.dumps(results, indent=2))
    print(f"written: {args.json}")
    return 0


# --- the reference case ------------------------------------------------------

def reference_request(context_bars=8, tracks=5, fill_bars=4, variations=1, seed=0) -> dict:
    """A fill of `fill_bars` bars of one track, `tracks - 1` other tracks, and
    `context_bars` bars on each side: drums, bass, chords and melody parts."""
    total = 2 * context_bars + fill_bars
    parts = []
    for i in range(tracks):
        kind = i % 4
        notes = []
        for b in range(total):
            t0 = b * 4.0
            if kind == 0:
                notes += [[36 if k % 2 == 0 else 38, t0 + k, 0.25, 100] for k in range(4)]
                notes += [[42, t0 + k * 0.5, 0.125, 70] for k in range(8)]
            elif kind == 1:
                notes += [[36 + (b % 4) * 2, t0 + k, 0.5, 90] for k in range(4)]
            elif kind == 2:
                notes += [[60 + iv, t0 + h * 2.0, 2.0, 70] for h in range(2) for iv in (0, 4, 7)]
            else:
                notes += [[67 + (b + k) % 5, t0 + k, 0.75, 85] for k in range(4)]
        parts.append({"id": f"t{i}", "program": [0, 33, 4, 73][kind], "is_drum": kind == 0,
                      "notes": notes})
    target = "t1" if tracks > 1 else "t0"
    start = context_bars * 4.0
    return {"mode": "fill", "time_signature": [4, 4], "tempo": 120.0, "tracks": parts,
            "target": {"track": target, "start": start, "end": start + fill_bars * 4.0},
            "controls": {"seed": seed, "variations": variations}}


def _stats(values):
    values = sorted(values)
    p95 = values[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))]
    return {"median": round(statistics.median(values), 1), "p95": round(p95, 1), "n": len(values)}


def _latency(engine, req, runs, cold=False):
    """Fill latency over `runs` seeds. `cold` empties the prompt cache before
    each run (a changed song); otherwise each run after the first finds its
    prompt there (the same fill asked again, as a DAW user re-rolls it)."""
    total, prefill, decode, notes = [], [], [], []
    for k in range(runs):
        if cold and engine.prompt_cache is not None:
            engine.prompt_cache.clear()
        r = engine.run(dict(req, controls=dict(req["controls"], seed=k)))
        total.append(r["timing_ms"]["total"])
        prefill.append(r["timing_ms"]["prefill"])
        decode.append(r["timing_ms"]["decode"])
        notes.append(sum(len(v["notes"]) for v in r["variations"]))
    return {"total": _stats(total), "prefill": _stats(prefill), "decode": _stats(decode),
            "notes": statistics.median(notes)}


# --- decode speed ---------------------------------------------------------------

def decode_speeds(engine, steps: int, rounds: int) -> dict:
    """Tokens/s of the model alone after a 300-token prompt, greedy, one
    thread, each path in turn within each round; the median round counts."""
    import numpy as np
    import torch
    from model.engine import torch_threads
    from model.fast import FastDecoder
    from model.transformer import KVCache
    from model.fast import PromptCache
    model = engine.model
    numpy_path = FastDecoder(model)
    prompt = torch.randint(10, model.config.vocab_size, (1, 300))

    def static(batch, step):
        cache = KVCache(model.config, batch, 300 + steps + 1)
        logits = model.prefill(prompt.repeat(batch, 1), cache)
        t = time.perf_counter()
        for _ in range(steps):
            logits = step(torch.argmax(logits, -1), cache)
        return batch * steps / (time.perf_counter() - t)

    def engine_decode(batch):
        """As the engine decodes: compiled rows sharing one copy of the prompt."""
        if engine.compiled is None:
            return static(batch, lambda tokens, cache: torch.from_numpy(
                numpy_path.decode(tokens.tolist(), cache)))
        pc = PromptCache(model)
        logits = pc.ensure(prompt[0].tolist())[0].expand(batch, -1).numpy()
        cache = engine.compiled.split_cache(pc, batch, steps + 1)
        t = time.perf_counter()
        for _ in range(steps):
            logits = engine.compiled.decode(np.argmax(logits, -1).tolist(), cache)
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

    paths = {"fast_b1": lambda: engine_decode(1),
             "numpy_b1": lambda: static(1, lambda tokens, cache: torch.from_numpy(
                 numpy_path.decode(tokens.tolist(), cache))),
             "fast_b4": lambda: engine_decode(4),
             "module_b1": lambda: static(1, model.decode),
             "module_b4": lambda: static(4, model.decode),
             "eager_kv_b1": eager, "no_cache_b1": no_cache}
    seen = {k: [] for k in paths}
    with torch_threads(1), torch.no_grad():
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
    from model.fast import single_thread_blas
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


# --- the bridge -------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def bridge_figures(model_path, req, runs) -> dict:
    from bridge.client import Client
    port = _free_port()
    cmd = [sys.executable, "-m", "bridge.cli", "--log-level", "WARNING", "serve", "--port", str(port)]
    if model_path:
        cmd += ["--model", str(model_path)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        startup = None
        with Client("127.0.0.1", port, timeout=0.2) as c:
            while time.perf_counter() - t0 < 60 and proc.poll() is None:
                try:
                    c.ping()
                    startup = time.perf_counter() - t0
                    break
                except Exception:
                    time.sleep(0.05)
        if startup is None:
            raise RuntimeError("the server did not answer ping: "
                               + (proc.stderr.read().decode()[-500:] if proc.poll() is not None else ""))
        rss = _rss_mb(proc.pid)
        # the same requests from this process: the server and OSC alone,
        # without the start of a `midifill request` process
        inproc = []
        with Client("127.0.0.1", port, timeout=30) as c:
            for k in range(runs):
                t = time.perf_counter()
                c.request(dict(req, controls=dict(req["controls"], seed=k)))
                inproc.append((time.perf_counter() - t) * 1000)
        lat = []
        with tempfile.TemporaryDirectory() as tmp:
            for k in range(runs):
                f = Path(tmp) / f"r{k}.json"
                f.write_text(json.dumps(dict(req, controls=dict(req["controls"], seed=k))))
                t = time.perf_counter()
                r = subprocess.run([sys.executable, "-m", "bridge.cli", "request", "--port",
                                    str(port), "--timeout", "30", str(f)], capture_output=True)
                if r.returncode != 0:
                    raise RuntimeError(f"midifill request failed: {r.stderr.decode()[-300:]}")
                lat.append((time.perf_counter() - t) * 1000)
        return {"startup_s": round(startup, 2), "rss_mb": rss,
                "rss_mb_after_requests": _rss_mb(proc.pid), "request_ms": _stats(lat),
                "client_in_process_ms": _stats(inproc)}
    finally:
        proc.terminate()
        proc.wait(10)


# --- training ---------------------------------------------------------------------

def training_throughput(engine, steps: int, quick=False) -> float:
    """Tokens/s of training steps (forward, backward, AdamW) at torch's
    default thread count, on batches of 8 x 512 tokens (2 x 128 quick)."""
    import torch
    from model.transformer import Transformer
    model = Transformer(engine.model.config).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    shape = (2, 128) if quick else (8, min(512, model.config.block_size))
    x = torch.randint(10, model.config.vocab_size, shape)
    model(x, x)[1].backward()  # warm-up
    t = time.perf_counter()
    for _ in range(steps):
        _, loss = model(x, x)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return round(x.numel() * steps / (time.perf_counter() - t), 1)


# --- all of it ----------------------------------------------------------------------

def bench(model_path=None, runs=20, quick=False) -> dict:
    from model import Engine
    t_start = time.perf_counter()
    engine = Engine.from_checkpoint(model_path)
    weight_bytes = (engine.fast.weight_bytes() if engine.fast else
                    4 * sum(p.numel() for p in engine.model.parameters()))
    res = {"model": engine.name, "params": sum(p.numel() for p in engine.model.parameters()),
           "weight_bytes_per_token": weight_bytes,
           "machine": f"{_cpu_name()}, {os.cpu_count()} cores, "
                      f"Python {platform.python_version()}",
           "load_average_before": round(os.getloadavg()[0], 2), "quick": quick}
    res["decode_tok_s"] = decode_speeds(engine, 16 if quick else 256, 1 if quick else 5)
    res["bandwidth_gb_s"] = bandwidth(weight_bytes, quick)
    # one stream reads every weight once a token: the bandwidth that holds
    # them bounds its tokens/s; DRAM where the weights are larger than the
    # caches, the cache where they fit. Both are reported.
    for kind in ("large_array", "weights_sized"):
        limit = res["bandwidth_gb_s"][kind] * 1e9 / weight_bytes
        res.setdefault("bandwidth_limit_tok_s", {})[kind] = round(limit, 1)
        res.setdefault("fraction_of_limit", {})[kind] = round(
            res["decode_tok_s"]["fast_b1"] / limit, 4)
    ref = reference_request()
    engine.run(ref)  # warm-up
    res["reference_fill_engine"] = _latency(engine, ref, runs)
    res["reference_fill_engine_cold"] = _latency(engine, ref, runs, cold=True)
    res["reference_fill_osc"] = bridge_figures(model_path, ref, runs)
    few = 1 if quick else 5
    # scaling runs cold (prompt cache emptied): a changed song each time
    res["context_scaling_ms"] = {str(b): _brief(_latency(engine, reference_request(context_bars=b),
                                                         few, cold=True)) for b in (8, 32, 128)}
    res["track_scaling_ms"] = {str(t): _brief(_latency(engine, reference_request(tracks=t), few,
                                                       cold=True)) for t in (1, 4, 16)}
    res["variation_scaling_ms"] = variation_scaling(engine, (1, 2, 4, 8), 2 if quick else runs)
    res["demo_s"] = demo_figures(model_path, 1 if quick else 7)
    res["training_tok_s"] = training_throughput(engine, 1 if quick else 5, quick)
    res["load_average_after"] = round(os.getloadavg()[0], 2)
    res["bench_s"] = round(time.perf_counter() - t_start, 1)
    return res


def demo_figures(model_path, runs) -> dict:
    """The demo end to end through gradio_client (demo/bench.py), or why not."""
    try:
        from demo.bench import bench_demo
        from demo.render import synth_available
    except ImportError as exc:  # installed without the demo and test extras
        return {"skipped": f"the demo cannot run here ({exc})"}
    ok, why = synth_available()
    if not ok:
        return {"skipped": why}
    return bench_demo(runs, model_path)


def _demo_rows(demo: dict) -> list[str]:
    if "skipped" in demo:
        return [f"{'demo through gradio_client':44} skipped: {demo['skipped']}"]
    return [f"{f'demo, {n} variation(s), through gradio_client':44} {s['median']:>10.2f} s"
            f"    p95 {s['p95']:.2f} (n={s['n']}; {demo['case']})"
            for n, s in demo["seconds"]["this"].items()]


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def variation_scaling(engine, counts, runs) -> dict:
    """The reference fill with 1, 2, 4, 8 variations in one request, cold,
    the counts interleaved seed by seed (so a busy moment of a shared machine
    hits them alike); medians over `runs` seeds."""
    seen = {v: {"total": [], "prefill": [], "decode": [], "notes": []} for v in counts}
    for k in range(runs):
        for v in counts:
            if engine.prompt_cache is not None:
                engine.prompt_cache.clear()
            r = engine.run(reference_request(variations=v, seed=k))
            for part in ("total", "prefill", "decode"):
                seen[v][part].append(r["timing_ms"][part])
            seen[v]["notes"].append(sum(len(x["notes"]) for x in r["variations"]))
    return {str(v): {part: round(statistics.median(x), 1) for part, x in d.items()}
            for v, d in seen.items()}


def _brief(lat: dict) -> dict:
    return {"total": lat["total"]["median"], "prefill": lat["prefill"]["median"],
            "decode": lat["decode"]["median"], "notes": lat["notes"]}


def format_table(r: dict) -> str:
    d = r["decode_tok_s"]
    ref, cold, osc = r["reference_fill_engine"], r["reference_fill_engine_cold"], r["reference_fill_osc"]

    def lat(name, x):
        return (f"{name:44} {x['total']['median']:>10.1f} ms   p95 {x['total']['p95']:.1f} "
                f"(prefill {x['prefill']['median']:.1f}, decode {x['decode']['median']:.1f}; "
                f"{x['notes']:.0f} notes; n={x['total']['n']})")

    def scaling(name, key):
        return f"{name:21}" + ", ".join(f"{k}: {v['total']:.0f} ({v['prefill']:.0f}+{v['decode']:.0f})"
                                        for k, v in r[key].items())

    rows = [
        f"model {r['model']}, {r['params'] / 1e6:.2f} M parameters, {r['machine']}, "
        f"load average {r['load_average_before']} -> {r['load_average_after']}",
        "",
        f"{'decode, fast path (engine), 1 stream':44} {d['fast_b1']:>10.0f} tok/s"
        f"   fast/eager = {d['fast_b1'] / d['eager_kv_b1']:.2f}x",
        f"{'decode, NumPy path, 1 stream':44} {d['numpy_b1']:>10.0f} tok/s"
        f"   compiled/NumPy = {d['fast_b1'] / d['numpy_b1']:.2f}x",
        f"{'decode, fast path (engine), batch of 4':44} {d['fast_b4']:>10.0f} tok/s"
        f"   vs 1 stream {d['fast_b4'] / d['fast_b1']:.2f}x",
        f"{'decode, Transformer.decode, 1 stream':44} {d['module_b1']:>10.0f} tok/s"
        f"   fast/module = {d['fast_b1'] / d['module_b1']:.2f}x",
        f"{'decode, Transformer.decode, batch of 4':44} {d['module_b4']:>10.0f} tok/s",
        f"{'decode, plain eager loop + KV cache':44} {d['eager_kv_b1']:>10.0f} tok/s",
        f"{'decode, no KV cache':44} {d['no_cache_b1']:>10.0f} tok/s"
        f"   fast/no-cache = {d['fast_b1'] / d['no_cache_b1']:.1f}x",
        f"{'weights read per token (fp32)':44} {r['weight_bytes_per_token'] / 1e6:>10.2f} MB",
        f"{'bandwidth, large array / weights-sized':44} {r['bandwidth_gb_s']['large_array']:>10.2f} GB/s"
        f"   {r['bandwidth_gb_s']['weights_sized']:.2f} GB/s",
        f"{'tokens/s DRAM bandwidth allows, achieved':44} "
        f"{r['bandwidth_limit_tok_s']['large_array']:>10.0f} tok/s"
        f"   {100 * r['fraction_of_limit']['large_array']:.1f} %",
        f"{'tokens/s cache bandwidth allows, achieved':44} "
        f"{r['bandwidth_limit_tok_s']['weights_sized']:>10.0f} tok/s"
        f"   {100 * r['fraction_of_limit']['weights_sized']:.1f} %",
        lat("reference 4-bar fill, Engine.run", ref),
        lat("  the same, prompt cache emptied each run", cold),
        f"{'reference 4-bar fill, midifill request':44} {osc['request_ms']['median']:>10.1f} ms"
        f"   p95 {osc['request_ms']['p95']:.1f} (n={osc['request_ms']['n']})",
        f"{'  the same over OSC from this process':44} {osc['client_in_process_ms']['median']:>10.1f} ms"
        f"   p95 {osc['client_in_process_ms']['p95']:.1f}",
        f"{'server start until pong':44} {osc['startup_s']:>10.2f} s",
        f"{'server resident memory, model loaded':44} {osc['rss_mb']:>10.1f} MB"
        f"   ({osc['rss_mb_after_requests']} MB after the requests)",
        "ms total (prefill+decode), cold prompt cache:",
        scaling("  context bars", "context_scaling_ms"),
        scaling("  tracks", "track_scaling_ms"),
        scaling("  variations", "variation_scaling_ms")
        + f"; 4 / 1 = {r['variation_scaling_ms']['4']['total'] / r['variation_scaling_ms']['1']['total']:.2f}x",
        *_demo_rows(r.get("demo_s", {"skipped": "not measured"})),
        f"{'training throughput':44} {r['training_tok_s']:>10.0f} tok/s",
        f"{'bench run time':44} {r['bench_s']:>10.1f} s",
    ]
    return "\n".join(rows)
