"""`midifill bench`'s fills on many-track songs: what producers send.

4-bar fills with 8 bars of the part on each side (model/evaluation/
real_songs.py draws them, half drum parts, half pitched), either from a
folder of real songs (`--songs DIR`, e.g. the out-of-corpus dev set of
docs/devset.md, which is not in the repository) or, by default and in CI,
from the demo's examples layered to 8, 12 and 16 tracks
(model/evaluation/prompt_coverage.py's `layered`).

Each fill is timed, drums and pitched apart, medians and p95:
- the engine (`Engine.run`, prompt cache emptied: every fill is a new
  prompt) with the default controls, with `candidates` 1 and with 4
  variations, interleaved fill by fill so a busy moment hits them alike;
- the REAPER path: `midifill request` as a new process per fill (the
  installed entry point beside this Python, else `python -m midifill.bridge.cli`);
- the Live path: the same request over OSC from a client already running.
The load average is printed before and after: on a shared machine it is
part of the figure.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .process import server, stats

ENGINE_ASKS = {"default": {}, "candidates 1": {"candidates": 1}, "variations 4": {"variations": 4}}
KINDS = ("drums", "pitched")


def fill_cases(songs_dir: str | Path | None, n: int, seed: int = 0) -> list[tuple[str, dict]]:
    """(kind, request) for up to n fills: half drum parts, half pitched."""
    from midifill.model.evaluation.real_songs import draw_fills, load_folder
    from midifill.model.network.tokenizer import Tokenizer

    if songs_dir is not None:
        songs = load_folder(songs_dir, Tokenizer(), min_tracks=8)
    else:
        from midifill.model.evaluation.prompt_coverage import DEMO, layered
        from midifill.model.midi_io import read_midi

        songs = [layered(read_midi(f), k) for f in sorted(DEMO.glob("*.mid")) for k in (8, 12, 16)]
    out = []
    for k, case in enumerate(draw_fills(songs, n, random.Random(seed))):
        req = dict(
            case.song.to_payload(),
            mode="fill",
            target={"track": case.track.id, "start": case.start, "end": case.end},
            controls={"seed": k},
        )
        out.append(("drums" if case.track.is_drum else "pitched", req))
    return out


def request_command() -> list[str]:
    """How a DAW script starts `midifill request`: the console script beside
    this interpreter where there is one, else the module."""
    script = shutil.which("midifill", path=str(Path(sys.executable).parent))
    return (
        [script, "request"] if script else [sys.executable, "-m", "midifill.bridge.cli", "request"]
    )


def _by_kind(cases, times) -> dict:
    return {
        kind: stats([t for (k, _), t in zip(cases, times) if k == kind])
        for kind in KINDS
        if any(k == kind for k, _ in cases)
    }


def engine_figures(engine, cases) -> dict:
    """Engine.run per fill and ask (ENGINE_ASKS), cold, interleaved."""
    seen = {a: [] for a in ENGINE_ASKS}
    parts = {a: {"prefill": [], "decode": []} for a in ENGINE_ASKS}
    engine.run(cases[0][1])  # warm-up: the compiled step and the caches
    for _, req in cases:
        for ask, extra in ENGINE_ASKS.items():
            engine.decoder.forget()
            r = engine.run(dict(req, controls=dict(req["controls"], **extra)))
            seen[ask].append(r["timing_ms"]["total"])
            for part in ("prefill", "decode"):
                parts[ask][part].append(r["timing_ms"][part])
    return {
        ask: {**_by_kind(cases, t), **{part: stats(v) for part, v in parts[ask].items()}}
        for ask, t in seen.items()
    }


def bridge_song_figures(model_path, cases) -> dict:
    """The REAPER path (a `midifill request` process per fill) and the Live
    path (OSC from a running client), against one server."""
    from midifill.bridge.client import Client

    cmd = request_command()
    osc, proc_ms = [], []
    with server(model_path) as (port, _, _), tempfile.TemporaryDirectory() as tmp:
        with Client("127.0.0.1", port, timeout=30) as c:
            c.request(cases[0][1])  # warm-up
            for _, req in cases:
                t = time.perf_counter()
                c.request(req)
                osc.append((time.perf_counter() - t) * 1000)
        for k, (_, req) in enumerate(cases):
            f = Path(tmp) / f"r{k}.json"
            f.write_text(json.dumps(req))
            t = time.perf_counter()
            r = subprocess.run(
                [*cmd, "--port", str(port), "--timeout", "30", str(f)], capture_output=True
            )
            proc_ms.append((time.perf_counter() - t) * 1000)
            if r.returncode != 0:
                raise RuntimeError(f"midifill request failed: {r.stderr.decode()[-300:]}")
    return {
        "request_process": {**_by_kind(cases, proc_ms), "all": stats(proc_ms)},
        "osc_client": {**_by_kind(cases, osc), "all": stats(osc)},
        "request_command": Path(cmd[0]).name if len(cmd) == 2 else "python -m midifill.bridge.cli",
    }


def song_figures(engine, model_path, songs_dir, n: int, bridge: bool = True) -> dict:
    load0 = os.getloadavg()[0]
    cases = fill_cases(songs_dir, n)
    res = {
        "songs": str(songs_dir) if songs_dir else "demo examples layered to 8, 12, 16 tracks",
        "fills": {k: sum(c == k for c, _ in cases) for k in KINDS},
        "engine_ms": engine_figures(engine, cases),
    }
    if bridge:
        res.update(bridge_song_figures(model_path, cases))
    res["load_average"] = [round(load0, 2), round(os.getloadavg()[0], 2)]
    return res


def song_rows(r: dict) -> list[str]:
    def cell(s):
        return f"{s['median']:6.0f} p95 {s['p95']:4.0f}" if s else "-"

    head = (
        f"many-track fills ({r['songs']}; {r['fills']['drums']} drum, "
        f"{r['fills']['pitched']} pitched; load {r['load_average'][0]} -> "
        f"{r['load_average'][1]}), ms:"
    )
    rows = [head, f"{'':44} {'drums':>16}   {'pitched':>16}"]

    def line(name, d):
        rows.append(f"{name:44} {cell(d.get('drums')):>16}   {cell(d.get('pitched')):>16}")

    for ask, d in r["engine_ms"].items():
        line(f"  Engine.run, {ask}", d)
    e = r["engine_ms"]
    rows.append(
        f"{'  prefill / decode, default (all fills)':44} "
        f"{e['default']['prefill']['median']:.0f} / {e['default']['decode']['median']:.0f}"
    )
    if "request_process" in r:
        line(f"  {r['request_command']} request, a process each", r["request_process"])
        line("  OSC from a running client (Live)", r["osc_client"])
    return rows


def main(argv=None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--songs", default=None, help="a folder of MIDI songs (default: the demo's, layered)"
    )
    ap.add_argument("--fills", type=int, default=24)
    ap.add_argument("--model", default=None)
    ap.add_argument("--no-bridge", action="store_true", help="the engine only")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    from midifill.model import Engine

    engine = Engine.from_checkpoint(args.model)
    res = song_figures(engine, args.model, args.songs, args.fills, not args.no_bridge)
    print("\n".join(song_rows(res)))
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
