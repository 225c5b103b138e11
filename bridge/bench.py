"""`midifill bench`: speed and memory of a model on the machine at hand.

Prints one table and writes it as JSON. Everything is measured in this one
run, on the same weights, so the ratios compare like with like; paths that
are compared run interleaved, in rounds, and report medians, because the
machine may be shared. `--quick` runs each measure once or twice on short
inputs (seconds), so CI keeps every figure from rotting.

Decode paths: each of model/decoders.py's decoders ("compiled", "numpy",
"reference": Transformer.decode on a static cache), through the interface
the engine uses; "eager" is a plain PyTorch loop whose cache grows by
concatenation; "no cache" reruns the whole sequence for every token.
The demo is timed by demo/bench.py in a process of its own.
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

from .bench_decode import decode_rows

ROOT = Path(__file__).resolve().parents[1]

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
        if cold:
            engine.decoder.forget()
        r = engine.run(dict(req, controls=dict(req["controls"], seed=k)))
        total.append(r["timing_ms"]["total"])
        prefill.append(r["timing_ms"]["prefill"])
        decode.append(r["timing_ms"]["decode"])
        notes.append(sum(len(v["notes"]) for v in r["variations"]))
    return {"total": _stats(total), "prefill": _stats(prefill), "decode": _stats(decode),
            "notes": statistics.median(notes)}


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


def _has_torch(pid: int) -> bool | None:
    """Whether the process has PyTorch's library mapped (None: cannot tell)."""
    try:
        return "libtorch" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
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
        rss, torch_loaded = _rss_mb(proc.pid), _has_torch(proc.pid)
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
        return {"startup_s": round(startup, 2), "rss_mb": rss, "torch_loaded": torch_loaded,
                "rss_mb_after_requests": _rss_mb(proc.pid), "request_ms": _stats(lat),
                "client_in_process_ms": _stats(inproc)}
    finally:
        proc.terminate()
        proc.wait(10)


def generate_figures(model_path, runs) -> dict:
    """Seconds of wall time for `midifill generate` (a process start, the
    model load and a 4-bar fill of the pop example): a user's first call."""
    song = ROOT / "demo" / "examples" / "pop_c_major_8_bars.mid"
    seconds = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(runs):
            cmd = [sys.executable, "-m", "bridge.cli", "generate", str(song), "-o",
                   str(Path(tmp) / "out.mid"), "--track", "1", "--bars", "5-8", "--seed", str(k)]
            if model_path:
                cmd += ["--model", str(model_path)]
            t = time.perf_counter()
            r = subprocess.run(cmd, capture_output=True, text=True)
            seconds.append(time.perf_counter() - t)
            if r.returncode != 0:
                raise RuntimeError(f"midifill generate failed: {r.stderr[-300:]}")
    ms = _stats([1000 * s for s in seconds])
    return {"median": round(ms["median"] / 1000, 2), "p95": round(ms["p95"] / 1000, 2),
            "n": ms["n"]}


# --- training ---------------------------------------------------------------------

def training_throughput(engine, steps: int, quick=False) -> float:
    """Tokens/s of training steps (forward, backward, AdamW) at torch's
    default thread count, on batches of 8 x 512 tokens (2 x 128 quick)."""
    import torch
    from model.transformer import Transformer
    model = Transformer(engine.config).train()
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
    from .bench_decode import bandwidth, decode_speeds
    t_start = time.perf_counter()
    engine = Engine.from_checkpoint(model_path)
    weight_bytes = engine.weights.decode_bytes()
    res = {"model": engine.name, "decoder": engine.decoder.name,
           "params": sum(a.size for a in engine.weights.arrays.values()),
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
            res["decode_tok_s"][f"{engine.decoder.name}_b1"] / limit, 4)
    ref = reference_request()
    engine.run(ref)  # warm-up
    res["reference_fill_engine"] = _latency(engine, ref, runs)
    res["reference_fill_engine_cold"] = _latency(engine, ref, runs, cold=True)
    res["reference_fill_osc"] = bridge_figures(model_path, ref, runs)
    res["generate_cli_s"] = generate_figures(model_path, 1 if quick else 5)
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
    """The demo end to end through gradio_client, or why not: demo/bench.py
    in its own process (bridge/ does not import demo/ for this)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "demo.json"
        cmd = [sys.executable, "-m", "demo.bench", "--runs", str(runs), "--json", str(out)]
        if model_path:
            cmd += ["--model", str(model_path)]
        r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        if r.returncode != 0 or not out.is_file():
            raise RuntimeError(f"the demo benchmark failed: {r.stderr[-1000:]}")
        return json.loads(out.read_text())


def _demo_rows(demo: dict) -> list[str]:
    if "skipped" in demo:
        return [f"{'demo through gradio_client':44} skipped: {demo['skipped']}"]
    return [f"{f'demo, {n} variation(s), through gradio_client':44} {s['median']:>10.2f} s"
            f"    p95 {s['p95']:.2f} (n={s['n']}; {demo['case']})"
            for n, s in demo["seconds"]["this"].items()]


def _yes_no(flag) -> str:
    return "unknown" if flag is None else ("yes" if flag else "no")


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
            engine.decoder.forget()
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
        *decode_rows(r),
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
        f"{'server start until pong':44} {osc['startup_s']:>10.2f} s"
        f"   (torch loaded: {_yes_no(osc.get('torch_loaded'))})",
        f"{'server resident memory, model loaded':44} {osc['rss_mb']:>10.1f} MB"
        f"   ({osc['rss_mb_after_requests']} MB after the requests)",
        f"{'midifill generate, 4 bars of the pop example':44} "
        f"{r['generate_cli_s']['median']:>10.2f} s    p95 {r['generate_cli_s']['p95']:.2f} "
        f"(n={r['generate_cli_s']['n']}; wall, process start included)",
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
