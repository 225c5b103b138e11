"""`midifill bench`: speed and memory of a model on the machine at hand.

Prints one table and writes it as JSON. Everything is measured in this one
run, on the same weights, so the ratios compare like with like. `--quick`
runs each measure a few times only (seconds), so CI keeps it from rotting.
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
    runs = 3 if args.quick else max(20, args.runs)
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


def _latency(engine, req, runs):
    total, prefill, decode = [], [], []
    for k in range(runs):
        r = engine.run(dict(req, controls=dict(req["controls"], seed=k)))
        total.append(r["timing_ms"]["total"])
        prefill.append(r["timing_ms"]["prefill"])
        decode.append(r["timing_ms"]["decode"])
    return {"total": _stats(total), "prefill": _stats(prefill), "decode": _stats(decode)}


# --- decode speed ---------------------------------------------------------------

def decode_speeds(engine, steps: int) -> dict:
    """Tokens/s of the model alone on a 300-token prompt: the engine's path
    (static cache), a plain eager loop with a growing cache, and no cache."""
    import torch
    from model.engine import torch_threads
    from model.transformer import KVCache
    model = engine.model
    prompt = torch.randint(10, model.config.vocab_size, (1, 300))
    out = {}
    with torch_threads(1), torch.no_grad():
        for batch in (1, 4):
            idx = prompt.repeat(batch, 1)
            cache = KVCache(model.config, batch, 300 + steps + 1)
            logits = model.prefill(idx, cache)
            t = time.perf_counter()
            for _ in range(steps):
                logits = model.decode(torch.argmax(logits, -1), cache)
            out[f"engine_b{batch}"] = batch * steps / (time.perf_counter() - t)
        # a plain eager loop with a key/value cache that grows by concatenation
        t = time.perf_counter()
        _eager_kv_loop(model, prompt, steps)
        out["eager_kv_b1"] = steps / (time.perf_counter() - t)
        n = max(4, steps // 8)
        t = time.perf_counter()
        seq = prompt
        for _ in range(n):
            logits, _ = model(seq)
            seq = torch.cat([seq, torch.argmax(logits[:, -1], -1, keepdim=True)], 1)
        out["no_cache_b1"] = n / (time.perf_counter() - t)
    return {k: round(v, 1) for k, v in out.items()}


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


def bandwidth(weight_bytes: int) -> dict:
    """Memory read bandwidth (GB/s): a 256 MB array, and a working set the size
    of the weights read again and again."""
    import numpy as np
    big = np.ones(64 * 1024 * 1024, dtype=np.float32)
    small = np.ones(max(1, weight_bytes // 4), dtype=np.float32)
    out = {}
    for name, arr, reps in (("large_array", big, 5), ("weights_sized", small, 200)):
        arr.sum()
        t = time.perf_counter()
        for _ in range(reps):
            arr.sum()
        out[name] = arr.nbytes * reps / (time.perf_counter() - t) / 1e9
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
                "rss_mb_after_requests": _rss_mb(proc.pid), "request_ms": _stats(lat)}
    finally:
        proc.terminate()
        proc.wait(10)


# --- training ---------------------------------------------------------------------

def training_throughput(engine, steps: int) -> float:
    import torch
    from model.transformer import Transformer
    model = Transformer(engine.model.config).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    x = torch.randint(10, model.config.vocab_size, (8, min(512, model.config.block_size)))
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
    engine = Engine.from_checkpoint(model_path)
    params = sum(p.numel() for p in engine.model.parameters())
    weight_bytes = params * 4
    res = {"model": engine.name, "params": params, "weight_bytes_fp32": weight_bytes,
           "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
                      f"Python {platform.python_version()}", "quick": quick}
    steps = 32 if quick else 256
    res["decode_tok_s"] = decode_speeds(engine, steps)
    res["bandwidth_gb_s"] = bandwidth(weight_bytes)
    bw = res["bandwidth_gb_s"]["large_array"] * 1e9
    res["bandwidth_limit_tok_s"] = round(bw / weight_bytes, 1)
    res["fraction_of_limit"] = round(res["decode_tok_s"]["engine_b1"] / res["bandwidth_limit_tok_s"], 4)
    ref = reference_request()
    engine.run(ref)  # warm-up
    res["reference_fill_engine"] = _latency(engine, ref, runs)
    res["reference_fill_osc"] = bridge_figures(model_path, ref, runs)
    few = max(3, runs // 4)
    res["context_scaling_ms"] = {str(b): _latency(engine, reference_request(context_bars=b), few)["total"]["median"]
                                 for b in ((8, 32) if quick else (8, 32, 128))}
    res["track_scaling_ms"] = {str(t): _latency(engine, reference_request(tracks=t), few)["total"]["median"]
                               for t in ((1, 4) if quick else (1, 4, 16))}
    res["variation_scaling_ms"] = {str(v): _latency(engine, reference_request(variations=v), few)["total"]["median"]
                                   for v in ((1, 4) if quick else (1, 2, 4, 8))}
    res["training_tok_s"] = training_throughput(engine, 2 if quick else 5)
    return res


def format_table(r: dict) -> str:
    d = r["decode_tok_s"]
    ref, osc = r["reference_fill_engine"], r["reference_fill_osc"]
    rows = [
        f"model {r['model']}, {r['params'] / 1e6:.2f} M parameters, {r['machine']}",
        "",
        f"{'decode, engine path, 1 stream':44} {d['engine_b1']:>10.0f} tok/s",
        f"{'decode, engine path, batch of 4':44} {d['engine_b4']:>10.0f} tok/s",
        f"{'decode, plain eager loop + KV cache':44} {d['eager_kv_b1']:>10.0f} tok/s"
        f"   engine/eager = {d['engine_b1'] / d['eager_kv_b1']:.2f}x",
        f"{'decode, no KV cache':44} {d['no_cache_b1']:>10.0f} tok/s"
        f"   engine/no-cache = {d['engine_b1'] / d['no_cache_b1']:.2f}x",
        f"{'weights read per token (fp32)':44} {r['weight_bytes_fp32'] / 1e6:>10.2f} MB",
        f"{'bandwidth, 256 MB array / weights-sized':44} {r['bandwidth_gb_s']['large_array']:>10.2f} GB/s"
        f"   {r['bandwidth_gb_s']['weights_sized']:.2f} GB/s",
        f"{'tokens/s the bandwidth allows, achieved':44} {r['bandwidth_limit_tok_s']:>10.0f} tok/s"
        f"   {100 * r['fraction_of_limit']:.1f} %",
        f"{'reference 4-bar fill, Engine.run':44} {ref['total']['median']:>10.1f} ms"
        f"   p95 {ref['total']['p95']:.1f} (prefill {ref['prefill']['median']:.1f}, "
        f"decode {ref['decode']['median']:.1f}; n={ref['total']['n']})",
        f"{'reference 4-bar fill, midifill request':44} {osc['request_ms']['median']:>10.1f} ms"
        f"   p95 {osc['request_ms']['p95']:.1f}",
        f"{'server start until pong':44} {osc['startup_s']:>10.2f} s",
        f"{'server resident memory, model loaded':44} {osc['rss_mb']:>10.1f} MB"
        f"   ({osc['rss_mb_after_requests']} MB after the requests)",
        "context bars -> ms   " + ", ".join(f"{k}: {v}" for k, v in r["context_scaling_ms"].items()),
        "tracks -> ms         " + ", ".join(f"{k}: {v}" for k, v in r["track_scaling_ms"].items()),
        "variations -> ms     " + ", ".join(f"{k}: {v}" for k, v in r["variation_scaling_ms"].items()),
        f"{'training throughput':44} {r['training_tok_s']:>10.0f} tok/s",
    ]
    return "\n".join(rows)
