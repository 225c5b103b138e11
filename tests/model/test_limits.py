"""model/limits.py is the one home of the limits and shared constants: the
Python tree defines none of them a second time, the copies that the Lua and
JS scripts must keep equal them, and the version is the package metadata's."""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import fields
from pathlib import Path

import pytest

from midifill.model import limits
from midifill.model.training import config, pretokenise
from tests.support import ROOT

HOME = ROOT / "model" / "limits.py"
SOURCES = sorted(p for d in ("model", "bridge", "demo") for p in (ROOT / d).rglob("*.py"))

NAMES = (
    "MAX_PAYLOAD_BYTES",
    "MAX_REQUEST_CHARS",
    "MAX_NOTES",
    "MAX_BARS",
    "MAX_FILE_BYTES",
    "CHUNK_BARS",
    "SPAN",
    "FILL_BARS",
    "CONTEXT_BARS",
    "OWN_CONTEXT_BARS",
    "CONTEXT",
    "MIN_PITCHED_BEATS",
    "SHORT_TICKS",
    "OSC_PORT",
    "DEMO_PORT",
    "__version__",
    "VERSION",
)
# A second definition: one of those names bound to a number or string, or one
# of the literal values itself (the version goes through midifill.model.limits.version)
SECOND = [
    (re.compile(rf"^\s*(?:{'|'.join(NAMES)})\s*(?::[^=]+)?=\s*[-\d.\"'(]", re.M), "a definition"),
    (re.compile(r"\b[28]\s*\*\s*1024\s*\*\s*1024\b|\b(?:8_?388_?608|2_?097_?152)\b"), "MiB"),
    (re.compile(r"\b50_?000\b"), "the note limit"),
    (re.compile(r"[\"']bars[\"']\s*:\s*\d"), "the bar limit"),
    (re.compile(r"\b(?:9000|7860)\b"), "a port"),
    (re.compile(r"resolution\s*/\s*8\b"), "the 32nd in ticks"),
    (re.compile(r"""(?:__version__|\bVERSION)\s*=|version\s*=\s*["']\d"""), "a version"),
]
# the same name meaning another thing, each with its reason
ELSEWHERE = {("demo/render.py", "CONTEXT_BARS = 2"): "bars of audio rendered around a fill"}


def _hits(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    rel = path.relative_to(ROOT).as_posix()
    out = []
    for pattern, what in SECOND:
        for m in pattern.finditer(text):
            line = text[text.rfind("\n", 0, m.start()) + 1 : text.find("\n", m.end())]
            if not any(rel == f and s in line for f, s in ELSEWHERE):
                out.append(f"{rel}: {what}: {line.strip()}")
    return out


def test_each_limit_and_constant_is_defined_once():
    assert len(SOURCES) > 80 and HOME in SOURCES
    assert _hits(HOME)  # the patterns do find the definitions where they live
    found = [h for p in SOURCES if p != HOME for h in _hits(p)]
    assert not found, "defined again outside model/limits.py:\n" + "\n".join(found)


def test_the_layers_read_the_same_values():
    from midifill.bridge import client, cmd_serve, protocol
    from midifill.model import midi_io
    from midifill.model.generation import engine, nearby, prompt, request

    assert protocol.MAX_REQUEST_CHARS == request.LIMITS["payload_bytes"] == 8 * 1024 * 1024
    assert (midi_io.MAX_NOTES, midi_io.MAX_BARS) == (
        request.LIMITS["notes"],
        request.LIMITS["bars"],
    )
    assert nearby.CONTEXT_BARS == prompt.OWN_CONTEXT_BARS == limits.CONTEXT_BARS
    assert engine.CHUNK_BARS == limits.CHUNK_BARS
    parser = argparse.ArgumentParser()
    cmd_serve.add_arguments(parser)
    args = parser.parse_args([])
    assert (args.port, args.demo_port) == (limits.OSC_PORT, limits.DEMO_PORT)
    assert client.Client.__init__.__defaults__[-1] == limits.OSC_PORT


def _pyproject_version() -> str:
    text = (ROOT / "pyproject.toml").read_text()
    return re.search(r'^version = "([^"]+)"$', text, re.M).group(1)


def test_the_version_is_the_package_metadata():
    assert limits.version() == _pyproject_version()
    from midifill.bridge.cli import main

    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0


def test_the_scripts_copies_equal_the_python_constants():
    version, port = _pyproject_version(), str(limits.OSC_PORT)
    reaper = ROOT / "daw_scripts" / "reaper"
    common = (reaper / "midifill_common.lua").read_text()
    assert re.search(r'^M\.VERSION = "([^"]+)"', common, re.M).group(1) == version
    heads = {
        p.name: re.search(r"^-- @version (\S+)$", p.read_text(), re.M)
        for p in reaper.glob("midifill - *.lua")
    }
    assert len(heads) >= 4 and {h.group(1) for h in heads.values()} == {version}, heads
    assert re.search(r'key = "port",.*default = "(\d+)"', common).group(1) == port
    live = ROOT / "daw_scripts" / "ableton"
    js = (live / "midifill.js").read_text()
    assert re.search(r"\bport: (\d+),", js).group(1) == port
    assert f"udpsend 127.0.0.1 {port}" in (live / "midifill.maxpat").read_text()


def test_training_flags_read_their_defaults_from_the_config():
    parser = argparse.ArgumentParser()
    config.add_arguments(parser)
    flags = {a.dest: a for a in parser._actions}
    shared = [f for f in fields(config.TrainConfig) if f.name in flags]
    assert len(shared) >= 25
    for f in shared:
        assert flags[f.name].default == f.default, f.name
    pre = argparse.ArgumentParser()
    pretokenise.add_arguments(pre)
    assert pre.parse_args(["--data", "d", "--out", "o"]).humanise == config.TrainConfig.humanise


def test_training_config_loads_without_torch():
    import subprocess

    code = (
        "import sys, midifill.model.training.config, midifill.model.training.pretokenise; "
        "print('torch loaded:', 'torch' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    # a library may print a line of its own on its first import in a new
    # environment (seen in a fresh clone: "'fluidsynth' was found at ..."): read ours
    assert "torch loaded: False" in out.stdout.splitlines(), out.stdout
