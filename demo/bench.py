"""The demo's speed as a visitor's API call sees it: upload, model, audio,
piano rolls and downloads, end to end through gradio_client.

    python -m midifill.demo.bench [--runs 7] [--model CKPT] [--compare OTHER_CHECKOUT] [--json OUT]

The case is the one a visitor is most likely to try: the 30-second groove
example, bass (track 1) bars 5-8, with 1 and with 2 variations. The server is
`midifill demo` in a child process, so the client pays what a browser or an
API user pays (HTTP, the queue, file copies) and nothing of the client's own
work is counted as the server's. With --compare, a second server runs from
another checkout (e.g. a `git worktree` of an older commit) and the two are
measured in alternating rounds, so a busy machine slows both alike. With
--json the figures (or why the demo cannot run here) are written to a file:
this is how `midifill bench` gets them, from a process of its own.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = "demo/examples/groove_e_minor_12_bars.mid"
CASE = {"mode": "fill", "target": "1", "bar_start": 5, "bar_end": 8}
COUNTS = (1, 2)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve_demo(
    root: Path = ROOT,
    model: str | None = None,
    timeout: float = 180.0,
    log_path: Path | None = None,
):
    """Run `midifill demo` from the checkout `root` in a child process; yield
    (url, log_path) once it answers HTTP. Its stdout and stderr go to the log."""
    port = _free_port()
    cmd = [sys.executable, "-m", "midifill.bridge.cli", "demo", "--port", str(port)]
    if model:
        cmd += ["--model", str(model)]
    log_path = Path(log_path or tempfile.mkstemp(prefix="midifill-demo-", suffix=".log")[1])
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=root, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"the demo exited ({proc.returncode}): {log_path.read_text()[-2000:]}"
                )
            try:
                urllib.request.urlopen(url, timeout=2).close()
                break
            except OSError as exc:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the demo did not answer within {timeout:.0f} s") from exc
                time.sleep(0.2)
        yield url, log_path
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def one_call(client, variations: int, seed: int, root: Path = ROOT) -> float:
    """Seconds for one /generate call, the result's files downloaded."""
    from gradio_client import handle_file

    started = time.perf_counter()
    result = client.predict(
        midi=handle_file(str(root / EXAMPLE)),
        variations=variations,
        seed=seed,
        api_name="/generate",
        **CASE,
    )
    took = time.perf_counter() - started
    # "2 variations" here, "2 variation(s)" in a checkout before the summary spoke in bars
    if not result[0] or f"{variations} variation" not in result[0].replace("*", ""):
        raise RuntimeError(f"unexpected result: {result[0]!r}")
    return took


def bench_demo(runs: int = 7, model: str | None = None, roots: dict | None = None) -> dict:
    """Median and p95 seconds per variation count (and per checkout), after one
    untimed warm-up call each (first-call costs: imports, the SoundFont, fonts)."""
    from gradio_client import Client

    roots = roots or {"this": ROOT}
    times = {name: {n: [] for n in COUNTS} for name in roots}
    with contextlib.ExitStack() as stack:
        clients = {}
        for name, root in roots.items():
            url, _ = stack.enter_context(serve_demo(Path(root), model))
            clients[name] = Client(url, verbose=False)
            for n in COUNTS:
                one_call(clients[name], n, seed=1000 + n, root=Path(root))
        for r in range(runs):  # rounds: every checkout and count once, in turn
            for n in COUNTS:
                for name in roots:
                    times[name][n].append(
                        one_call(clients[name], n, seed=r, root=Path(roots[name]))
                    )
    out = {}
    for name, per_count in times.items():
        out[name] = {str(n): _stats(v) for n, v in per_count.items()}
    return {
        "case": f"{Path(EXAMPLE).name}, track {CASE['target']}, bars "
        f"{CASE['bar_start']}-{CASE['bar_end']}, {CASE['mode']}",
        "seconds": out,
        "load_average": round(os.getloadavg()[0], 2),
    }


def figures(runs: int = 7, model: str | None = None) -> dict:
    """bench_demo's figures, or {"skipped": why} where the demo cannot run
    (its extras or FluidSynth missing)."""
    try:
        import gradio_client  # noqa: F401

        from midifill.demo.render import synth_available
    except ImportError as exc:  # installed without the demo and test extras
        return {"skipped": f"the demo cannot run here ({exc})"}
    ok, why = synth_available()
    if not ok:
        return {"skipped": why}
    return bench_demo(runs, model)


def _stats(values: list[float]) -> dict:
    values = sorted(values)
    p95 = values[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))]
    return {"median": round(statistics.median(values), 3), "p95": round(p95, 3), "n": len(values)}


def format_result(res: dict) -> str:
    lines = [f"demo through gradio_client: {res['case']} (load average {res['load_average']})"]
    for name, per_count in res["seconds"].items():
        for n, s in per_count.items():
            lines.append(
                f"  {name:>8}  {n} variation(s)  median {s['median']:.2f} s  "
                f"p95 {s['p95']:.2f} s  (n={s['n']})"
            )
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=7, help="timed calls per count (default 7)")
    p.add_argument("--model", default=None, help="checkpoint (default: the bundled model)")
    p.add_argument(
        "--compare",
        default=None,
        metavar="CHECKOUT",
        help="also serve the demo from this checkout, in alternating rounds",
    )
    p.add_argument(
        "--json",
        default=None,
        metavar="OUT",
        help="write the figures (or why the demo cannot run) to OUT as JSON",
    )
    args = p.parse_args(argv)
    if args.json:
        Path(args.json).write_text(json.dumps(figures(args.runs, args.model)))
        return 0
    roots = {"this": ROOT}
    if args.compare:
        roots = {"other": Path(args.compare).resolve(), "this": ROOT}
    print(format_result(bench_demo(args.runs, args.model, roots)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
