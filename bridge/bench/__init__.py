"""`midifill bench`: speed and memory of a model on the machine at hand.

Prints one table and writes it as JSON. Everything is measured in this one
run, on the same weights, so the ratios compare like with like; paths that
are compared run interleaved, in rounds, and report medians, because the
machine may be shared. `--quick` runs each measure once or twice on short
inputs (seconds), so CI keeps every figure from rotting.

Decode paths: each of model/generation/decoders.py's decoders ("compiled", "numpy",
"reference": Transformer.decode on a static cache), through the interface
the engine uses. The decode figures are bridge/bench/decode.py's; those of
whole processes (the server, `midifill request`, `midifill generate`, the
demo) bridge/bench/process.py's; fills of many-track songs (what producers
send: the engine, `midifill request` and OSC from a running client, drums
and pitched apart) bridge/bench/songs.py's. `--songs-only` runs only those.

The benchmarks live in bridge/: they time the faces (a `midifill request`
process, the OSC server) as well as the engine, and `midifill bench` is a
shipped command, so they must be in an installed package (tests/ is not).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from pathlib import Path

from .decode import decode_rows
from .process import bridge_figures, demo_figures, generate_figures, request_import_figures, stats
from .songs import song_figures, song_rows


def add_arguments(p):
    p.add_argument("--model", default=None, help="checkpoint (default: the bundled model)")
    p.add_argument("--runs", type=int, default=20, help="fill runs for each latency figure")
    p.add_argument("--quick", action="store_true", help="a few runs of each measure (for CI)")
    p.add_argument("--json", default="bench.json", help="where to write the results")
    p.add_argument(
        "--songs",
        default=None,
        help="a folder of many-track MIDI songs to time fills on (e.g. the dev set, "
        "docs/devset.md); default: the demo's examples layered to 8-16 tracks",
    )
    p.add_argument("--fills", type=int, default=24, help="many-track fills (half drums)")
    p.add_argument(
        "--songs-only",
        action="store_true",
        help="only the many-track fills (engine, midifill request, OSC client)",
    )


def run(args) -> int:
    runs = 2 if args.quick else max(20, args.runs)
    fills = 4 if args.quick else args.fills
    if args.songs_only:
        from midifill.model import Engine

        results = song_figures(Engine.from_checkpoint(args.model), args.model, args.songs, fills)
        print("\n".join(song_rows(results)))
    else:
        results = bench(args.model, runs, args.quick, args.songs, fills)
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
        parts.append(
            {"id": f"t{i}", "program": [0, 33, 4, 73][kind], "is_drum": kind == 0, "notes": notes}
        )
    target = "t1" if tracks > 1 else "t0"
    start = context_bars * 4.0
    return {
        "mode": "fill",
        "time_signature": [4, 4],
        "tempo": 120.0,
        "tracks": parts,
        "target": {"track": target, "start": start, "end": start + fill_bars * 4.0},
        "controls": {"seed": seed, "variations": variations},
    }


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
    return {
        "total": stats(total),
        "prefill": stats(prefill),
        "decode": stats(decode),
        "notes": statistics.median(notes),
    }


# --- training ---------------------------------------------------------------------


def training_throughput(engine, steps: int, quick=False) -> float:
    """Tokens/s of training steps (forward, backward, AdamW) at torch's
    default thread count, on batches of 8 x 512 tokens (2 x 128 quick)."""
    import torch

    from midifill.model.network.transformer import Transformer

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


def bench(model_path=None, runs=20, quick=False, songs=None, fills=24) -> dict:
    from midifill.model import Engine

    from .decode import bandwidth, decode_speeds

    t_start = time.perf_counter()
    engine = Engine.from_checkpoint(model_path)
    weight_bytes = engine.weights.decode_bytes()
    res = {
        "model": engine.name,
        "decoder": engine.decoder.name,
        "params": sum(a.size for a in engine.weights.arrays.values()),
        "weight_bytes_per_token": weight_bytes,
        "machine": f"{_cpu_name()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "load_average_before": round(os.getloadavg()[0], 2),
        "quick": quick,
    }
    res["decode_tok_s"] = decode_speeds(engine, 16 if quick else 256, 1 if quick else 5)
    res["bandwidth_gb_s"] = bandwidth(weight_bytes, quick)
    # one stream reads every weight once a token: the bandwidth that holds
    # them bounds its tokens/s; DRAM where the weights are larger than the
    # caches, the cache where they fit. Both are reported.
    for kind in ("large_array", "weights_sized"):
        limit = res["bandwidth_gb_s"][kind] * 1e9 / weight_bytes
        res.setdefault("bandwidth_limit_tok_s", {})[kind] = round(limit, 1)
        res.setdefault("fraction_of_limit", {})[kind] = round(
            res["decode_tok_s"][f"{engine.decoder.name}_b1"] / limit, 4
        )
    ref = reference_request()
    engine.run(ref)  # warm-up
    res["reference_fill_engine"] = _latency(engine, ref, runs)
    res["reference_fill_engine_cold"] = _latency(engine, ref, runs, cold=True)
    res["reference_fill_osc"] = bridge_figures(model_path, ref, runs)
    res["many_track_fills"] = song_figures(engine, model_path, songs, fills)
    res["generate_cli_s"] = generate_figures(model_path, 1 if quick else 5)
    res["request_import_ms"] = request_import_figures(1 if quick else 5)
    few = 1 if quick else 5
    # scaling runs cold (prompt cache emptied): a changed song each time
    res["context_scaling_ms"] = {
        str(b): _brief(_latency(engine, reference_request(context_bars=b), few, cold=True))
        for b in (8, 32, 128)
    }
    res["track_scaling_ms"] = {
        str(t): _brief(_latency(engine, reference_request(tracks=t), few, cold=True))
        for t in (1, 4, 16)
    }
    res["variation_scaling_ms"] = variation_scaling(engine, (1, 2, 4, 8), 2 if quick else runs)
    res["demo_s"] = demo_figures(model_path, 1 if quick else 7)
    res["training_tok_s"] = training_throughput(engine, 1 if quick else 5, quick)
    res["load_average_after"] = round(os.getloadavg()[0], 2)
    res["bench_s"] = round(time.perf_counter() - t_start, 1)
    return res


def _demo_rows(demo: dict) -> list[str]:
    if "skipped" in demo:
        return [f"{'demo through gradio_client':44} skipped: {demo['skipped']}"]
    return [
        f"{f'demo, {n} variation(s), through gradio_client':44} {s['median']:>10.2f} s"
        f"    p95 {s['p95']:.2f} (n={s['n']}; {demo['case']})"
        for n, s in demo["seconds"]["this"].items()
    ]


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


ONE_SAMPLE = "1, candidates 1"  # the key of one fill sampled and kept, no choosing


def variation_scaling(engine, counts, runs) -> dict:
    """The reference fill with 1, 2, 4, 8 variations in one request, and one
    variation of one sample (`candidates` 1: what choosing among 8 costs),
    cold, interleaved seed by seed (so a busy moment of a shared machine
    hits them alike); medians over `runs` seeds."""
    asks = {str(v): {"variations": v} for v in counts}
    asks[ONE_SAMPLE] = {"variations": 1, "candidates": 1}
    seen = {v: {"total": [], "prefill": [], "decode": [], "notes": []} for v in asks}
    for k in range(runs):
        for v, controls in asks.items():
            engine.decoder.forget()
            req = reference_request(seed=k)
            req["controls"].update(controls)
            r = engine.run(req)
            for part in ("total", "prefill", "decode"):
                seen[v][part].append(r["timing_ms"][part])
            seen[v]["notes"].append(sum(len(x["notes"]) for x in r["variations"]))
    return {
        v: {part: round(statistics.median(x), 1) for part, x in d.items()} for v, d in seen.items()
    }


def _brief(lat: dict) -> dict:
    return {
        "total": lat["total"]["median"],
        "prefill": lat["prefill"]["median"],
        "decode": lat["decode"]["median"],
        "notes": lat["notes"],
    }


def format_table(r: dict) -> str:
    ref, cold, osc = (
        r["reference_fill_engine"],
        r["reference_fill_engine_cold"],
        r["reference_fill_osc"],
    )
    var = r["variation_scaling_ms"]

    def lat(name, x):
        return (
            f"{name:44} {x['total']['median']:>10.1f} ms   p95 {x['total']['p95']:.1f} "
            f"(prefill {x['prefill']['median']:.1f}, decode {x['decode']['median']:.1f}; "
            f"{x['notes']:.0f} notes; n={x['total']['n']})"
        )

    def scaling(name, key):
        return f"{name:21}" + ", ".join(
            f"{k}: {v['total']:.0f} ({v['prefill']:.0f}+{v['decode']:.0f})"
            for k, v in r[key].items()
        )

    rows = [
        f"model {r['model']}, {r['params'] / 1e6:.2f} M parameters, {r['machine']}, "
        f"load average {r['load_average_before']} -> {r['load_average_after']}",
        "",
        *decode_rows(r),
        f"{'weights read per token (fp32)':44} {r['weight_bytes_per_token'] / 1e6:>10.2f} MB",
        f"{'bandwidth, large array / weights-sized':44} "
        f"{r['bandwidth_gb_s']['large_array']:>10.2f} GB/s"
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
        f"{'  the same over OSC from this process':44} "
        f"{osc['client_in_process_ms']['median']:>10.1f} ms"
        f"   p95 {osc['client_in_process_ms']['p95']:.1f}",
        f"{'server start until pong':44} {osc['startup_s']:>10.2f} s"
        f"   (torch loaded: {_yes_no(osc.get('torch_loaded'))})",
        f"{'server resident memory, model loaded':44} {osc['rss_mb']:>10.1f} MB"
        f"   ({osc['rss_mb_after_requests']} MB after the requests)",
        f"{'midifill generate, 4 bars of the pop example':44} "
        f"{r['generate_cli_s']['median']:>10.2f} s    p95 {r['generate_cli_s']['p95']:.2f} "
        f"(n={r['generate_cli_s']['n']}; wall, process start included)",
        f"{'midifill request, imports before sending':44} "
        f"{r['request_import_ms']['median']:>10.1f} ms   p95 {r['request_import_ms']['p95']:.1f} "
        f"(n={r['request_import_ms']['n']}; torch or model imported: "
        f"{', '.join(r['request_import_ms']['heavy_modules']) or 'none'})",
        "ms total (prefill+decode), cold prompt cache:",
        scaling("  context bars", "context_scaling_ms"),
        scaling("  tracks", "track_scaling_ms"),
        scaling("  variations", "variation_scaling_ms")
        + f"; 4 / 1 = {var['4']['total'] / var['1']['total']:.2f}x"
        + f"; 1 / one sample = {var['1']['total'] / var[ONE_SAMPLE]['total']:.2f}x",
        *song_rows(r["many_track_fills"]),
        *_demo_rows(r.get("demo_s", {"skipped": "not measured"})),
        f"{'training throughput':44} {r['training_tok_s']:>10.0f} tok/s",
        f"{'bench run time':44} {r['bench_s']:>10.1f} s",
    ]
    return "\n".join(rows)
