"""`midifill bench`'s figures of whole processes, each started as a user
starts it: the OSC server (start, memory, whether torch is loaded),
`midifill request` (bridge/bench/songs.py times it on many-track songs),
`midifill generate`, and the demo (demo/bench.py, run as
`python -m midifill.demo.bench --json`, so bridge/ does not import demo/ here)."""

from __future__ import annotations

import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def stats(values):
    values = sorted(values)
    p95 = values[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))]
    return {"median": round(statistics.median(values), 1), "p95": round(p95, 1), "n": len(values)}


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


@contextmanager
def server(model_path):
    """`midifill serve` in a process of its own, answering ping: yields
    (port, seconds from start to the first pong, the process)."""
    from midifill.bridge.client import Client

    port = _free_port()
    cmd = [
        sys.executable,
        "-m",
        "midifill.bridge.cli",
        "--log-level",
        "WARNING",
        "serve",
        "--port",
        str(port),
    ]
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
            raise RuntimeError(
                "the server did not answer ping: "
                + (proc.stderr.read().decode()[-500:] if proc.poll() is not None else "")
            )
        yield port, startup, proc
    finally:
        proc.terminate()
        proc.wait(10)


def bridge_figures(model_path, req, runs) -> dict:
    from midifill.bridge.client import Client

    with server(model_path) as (port, startup, proc):
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
                r = subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "midifill.bridge.cli",
                        "request",
                        "--port",
                        str(port),
                        "--timeout",
                        "30",
                        str(f),
                    ],
                    capture_output=True,
                )
                if r.returncode != 0:
                    raise RuntimeError(f"midifill request failed: {r.stderr.decode()[-300:]}")
                lat.append((time.perf_counter() - t) * 1000)
        return {
            "startup_s": round(startup, 2),
            "rss_mb": rss,
            "torch_loaded": torch_loaded,
            "rss_mb_after_requests": _rss_mb(proc.pid),
            "request_ms": stats(lat),
            "client_in_process_ms": stats(inproc),
        }


def request_import_figures(runs) -> dict:
    """Milliseconds `midifill request` spends importing before it sends
    anything (python -X importtime, top-level imports summed), and whether
    torch or the model came in with them (they must not: the DAW scripts
    start this process for every action). Measured against a port where
    nothing listens, so no server is needed."""
    import re

    ms, heavy = [], set()
    for _ in range(runs):
        done = subprocess.run(
            [
                sys.executable,
                "-X",
                "importtime",
                "-m",
                "midifill.bridge.cli",
                "request",
                "--ping",
                "--port",
                str(_free_port()),
                "--timeout",
                "0.1",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        rows = re.findall(r"^import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)$", done.stderr, re.M)
        ms.append(sum(int(us) for us, indent, _ in rows if len(indent) == 1) / 1000)
        heavy |= {
            n
            for _, _, n in rows
            if n == "torch"
            or n.startswith(("torch.", "midifill.model"))
            and n not in ("midifill.model", "midifill.model.limits")
        }  # plain constants: expected
    return {**stats(ms), "heavy_modules": sorted(heavy)}


def generate_figures(model_path, runs) -> dict:
    """Seconds of wall time for `midifill generate` (a process start, the
    model load and a 4-bar fill of the pop example): a user's first call."""
    song = ROOT / "demo" / "examples" / "pop_c_major_8_bars.mid"
    seconds = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(runs):
            cmd = [
                sys.executable,
                "-m",
                "midifill.bridge.cli",
                "generate",
                str(song),
                "-o",
                str(Path(tmp) / "out.mid"),
                "--track",
                "1",
                "--bars",
                "5-8",
                "--seed",
                str(k),
            ]
            if model_path:
                cmd += ["--model", str(model_path)]
            t = time.perf_counter()
            r = subprocess.run(cmd, capture_output=True, text=True)
            seconds.append(time.perf_counter() - t)
            if r.returncode != 0:
                raise RuntimeError(f"midifill generate failed: {r.stderr[-300:]}")
    ms = stats([1000 * s for s in seconds])
    return {
        "median": round(ms["median"] / 1000, 2),
        "p95": round(ms["p95"] / 1000, 2),
        "n": ms["n"],
    }


def demo_figures(model_path, runs) -> dict:
    """The demo end to end through gradio_client, or why not: demo/bench.py
    in its own process (bridge/ does not import demo/ for this)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "demo.json"
        cmd = [sys.executable, "-m", "midifill.demo.bench", "--runs", str(runs), "--json", str(out)]
        if model_path:
            cmd += ["--model", str(model_path)]
        r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        if r.returncode != 0 or not out.is_file():
            raise RuntimeError(f"the demo benchmark failed: {r.stderr[-1000:]}")
        return json.loads(out.read_text())
