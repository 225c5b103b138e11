"""The pure-pip path, as a producer without a system package manager takes
it: `pip install .` (with constraints.txt) into a fresh virtual environment
that sees no system site-packages and no apt package, then the bridge,
`generate`, `request`, the one-line refusals of the commands whose extra is
missing, and the demo's SoundFont render through the midirenderer wheel.

It reaches the package index (as `make setup` does): about a minute here."""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support import ROOT

pytestmark = [pytest.mark.clean_install, pytest.mark.slow]
LIMIT_MB = 300


def run(cmd, **kw):
    return subprocess.run(
        [str(c) for c in cmd], capture_output=True, text=True, timeout=kw.pop("timeout", 120), **kw
    )


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def size_mb(folder: Path) -> float:
    return (
        sum(f.stat().st_size for f in folder.rglob("*") if f.is_file() and not f.is_symlink()) / 1e6
    )


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    where = tmp_path_factory.mktemp("clean") / "venv"
    made = run([sys.executable, "-m", "venv", where])
    assert made.returncode == 0, made.stderr
    bindir = where / ("Scripts" if os.name == "nt" else "bin")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    t = time.monotonic()
    done = run(
        [
            bindir / "python",
            "-m",
            "pip",
            "install",
            "--progress-bar",
            "off",
            "-c",
            ROOT / "constraints.txt",
            ROOT,
        ],
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    print(f"pip install . : {time.monotonic() - t:.0f} s, {size_mb(where):.0f} MB")
    shutil.rmtree(ROOT / "build", ignore_errors=True)  # setuptools' in-tree leftovers
    return bindir, env


def test_the_base_install_is_small_and_has_no_torch_nor_gradio(venv):
    bindir, env = venv
    assert size_mb(bindir.parent) < LIMIT_MB
    for module in ("torch", "gradio", "music21"):
        found = run([bindir / "python", "-c", f"import {module}"], env=env)
        assert found.returncode != 0, f"{module} came with the base install"
    # no system site-packages leak in: the venv sees only what pip put there
    cfg = (bindir.parent / "pyvenv.cfg").read_text()
    assert "include-system-site-packages = false" in cfg


def test_site_packages_gets_only_midifill_and_its_metadata(venv):
    bindir, env = venv
    code = (
        "import importlib.metadata as m; "
        "print('\\n'.join(sorted({str(f).split('/')[0] for f in m.files('midifill')})))"
    )
    done = run([bindir / "python", "-c", code], env=env, cwd=bindir)  # not the checkout's egg-info
    assert done.returncode == 0, done.stderr
    tops = set(done.stdout.split()) - {".."}  # ../../../bin/midifill: the entry point's script
    meta = {t for t in tops if t.startswith("midifill-") and t.endswith(".dist-info")}
    assert len(meta) == 1 and tops - meta == {"midifill"}, tops
    for name, importable in (("midifill.model", True), ("model", False), ("bridge", False)):
        found = run([bindir / "python", "-c", f"import {name}"], env=env, cwd=bindir)
        assert (found.returncode == 0) == importable, (name, found.stderr)


def test_serve_request_and_generate_run_from_it(venv, tmp_path):
    bindir, env = venv
    midifill = bindir / "midifill"
    port = free_udp_port()
    server = subprocess.Popen(
        [midifill, "serve", "--port", str(port)], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            ping = run([midifill, "request", "--ping", "--port", port, "--timeout", "1"], env=env)
            if ping.returncode == 0 or time.monotonic() > deadline or server.poll() is not None:
                break
        assert ping.returncode == 0 and "midifill-small" in ping.stdout, ping.stderr
    finally:
        server.terminate()
        server.wait(10)
    out = tmp_path / "out.mid"
    done = run(
        [
            midifill,
            "generate",
            ROOT / "demo" / "examples" / "pop_c_major_8_bars.mid",
            "-o",
            out,
            "--track",
            "1",
            "--bars",
            "5-6",
            "--seed",
            "1",
        ],
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert out.stat().st_size > 100


@pytest.mark.parametrize(
    "args, extra",
    [
        (["demo"], "demo"),
        (["demo", "--help"], "demo"),
        (["serve", "--demo"], "demo"),
        (["train", "--help"], "train"),
        (["corpus", "--out", "x"], "train"),
    ],
)
def test_a_missing_extra_is_one_line_and_exit_2(venv, args, extra):
    bindir, env = venv
    done = run([bindir / "midifill", *args], env=env)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and f"midifill[{extra}]" in lines[0], done.stderr
    assert "install" in lines[0] and "Traceback" not in done.stderr


def test_the_demo_renders_audio_through_the_wheel_synth(venv, tmp_path):
    bindir, env = venv
    added = run(
        [
            bindir / "python",
            "-m",
            "pip",
            "install",
            "--progress-bar",
            "off",
            "-c",
            ROOT / "constraints.txt",
            "midirenderer",
        ],
        env=env,
        timeout=300,
    )
    assert added.returncode == 0, added.stderr[-2000:]
    wav = tmp_path / "pop.wav"
    code = (
        "import sys; from midifill.demo import render; "
        "from midifill.model.midi_io import read_midi; "
        "print(render.synth_name()); "
        "render.write_wav(render.render_song(read_midi(sys.argv[1])), sys.argv[2])"
    )
    done = run(
        [bindir / "python", "-c", code, ROOT / "demo" / "examples" / "pop_c_major_8_bars.mid", wav],
        env=env,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "midirenderer"  # no libfluidsynth binding in this venv
    assert wav.stat().st_size > 44100 * 4 * 5  # more than 5 s of 16-bit stereo
