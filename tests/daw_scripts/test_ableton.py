"""Runs the Max for Live device's Node tests (tests/ableton) against a real
`midifill serve` loaded with the tiny test checkpoint.

The device's JavaScript runs under Node with a stand-in LiveAPI; its OSC goes
over real UDP to the server started here, and the replies come back the way
Max's [udpreceive] would deliver them.
"""

from __future__ import annotations

import json
import os
import socket
import struct
import subprocess
import sys
import time

import pytest
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from tests.support import ROOT, require_tool
from tests.support.node import NODE_TESTS, node_report_problems

DEVICE_DIR = ROOT / "daw_scripts" / "ableton"
AMXD = DEVICE_DIR / "midifill.amxd"


def _tool(name: str) -> str:
    return require_tool(name)  # the Ableton device tests need Node.js 20+ and npm


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_pong(port: int, proc: subprocess.Popen, timeout: float = 120.0) -> None:
    """Ping until the server answers: loading torch and the model takes a while."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(0.5)
        ping = OscMessageBuilder("/midifill/ping")
        ping.add_arg(sock.getsockname()[1], "i")
        ping.add_arg("wait", "s")
        datagram = ping.build().dgram
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"midifill serve exited with {proc.returncode}")
            sock.sendto(datagram, ("127.0.0.1", port))
            try:
                if OscMessage(sock.recv(65535)).address == "/midifill/pong":
                    return
            except TimeoutError:
                continue
    raise RuntimeError(f"midifill serve did not answer a ping within {timeout:.0f} s")


@pytest.fixture(scope="module")
def server_port(tiny_checkpoint, tmp_path_factory):
    port = _free_udp_port()
    log_path = tmp_path_factory.mktemp("ableton") / "serve.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "midifill.bridge.cli",
                "serve",
                "--port",
                str(port),
                "--model",
                str(tiny_checkpoint),
            ],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        try:
            _wait_for_pong(port, proc)
        except RuntimeError as exc:
            pytest.fail(f"{exc}\n--- server log ---\n{log_path.read_text()[-3000:]}")
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_max_for_live_device_under_node(server_port):
    node, npm = _tool("node"), _tool("npm")
    if not (NODE_TESTS / "node_modules" / "acorn").is_dir():
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=NODE_TESTS,
            check=True,
            capture_output=True,
            timeout=300,
        )
    env = dict(os.environ, MIDIFILL_PORT=str(server_port))
    started = time.monotonic()
    # One file at a time: the tests share one server and two CPU cores.
    result = subprocess.run(
        [node, "--test", "--test-concurrency=1"],
        cwd=NODE_TESTS,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    elapsed = time.monotonic() - started
    report = result.stdout[-12000:] + result.stderr[-3000:]
    assert result.returncode == 0, report
    assert not node_report_problems(result.stdout), (node_report_problems(result.stdout), report)
    print(f"node tests: {elapsed:.1f} s")


def _amxd_chunks(data: bytes) -> list[tuple[str, bytes]]:
    """Read an .amxd as Ableton's maxdevtools does (maxdiff/amxd_textconv.py):
    a 4-byte ASCII tag, a little-endian u32 size, the data; until the end."""
    chunks, at = [], 0
    while at < len(data):
        assert at + 8 <= len(data), "a chunk header is cut short"
        tag = data[at : at + 4].decode("ascii")
        size = struct.unpack("<I", data[at + 4 : at + 8])[0]
        assert at + 8 + size <= len(data), f"chunk {tag} runs past the end of the file"
        chunks.append((tag, data[at + 8 : at + 8 + size]))
        at += 8 + size
    return chunks


def test_amxd_reads_back_as_a_midi_effect_holding_the_patcher():
    chunks = _amxd_chunks(AMXD.read_bytes())
    assert [tag for tag, _ in chunks] == ["ampf", "meta", "ptch"]
    assert chunks[0][1] == b"mmmm", "device type: MIDI effect"
    assert len(chunks[1][1]) == 4
    ptch = chunks[2][1]
    assert ptch.endswith(b"\0") and b"\0" not in ptch[:-1], "the patcher JSON ends with one NUL"
    device = json.loads(ptch[:-1].decode("utf-8"))["patcher"]
    source = json.loads((DEVICE_DIR / "midifill.maxpat").read_text(encoding="utf-8"))["patcher"]
    for key, value in source.items():
        assert device[key] == value, f"{key} differs from midifill.maxpat"
    assert device["project"]["amxdtype"] == int.from_bytes(b"mmmm", "big")
    assert device["openinpresentation"] == 1
    # the unfrozen device finds its script in its own folder
    scripts = [
        b["box"]["text"].split()[1]
        for b in device["boxes"]
        if b["box"].get("text", "").startswith("js ")
    ]
    assert scripts == ["midifill.js"]
    assert (AMXD.parent / scripts[0]).is_file()
    assert [d["name"] for d in device["dependency_cache"]] == scripts


def test_amxd_is_current_with_the_maxpat():
    """The .maxpat is the source: the committed .amxd is what `make device` builds from it."""
    result = subprocess.run(
        [sys.executable, str(DEVICE_DIR / "build_amxd.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_the_device_controls_and_menus_are_written_from_the_table():
    """midifill.js's CONTROLS and the patcher's menus come from the control
    table (python -m midifill.bridge.faces); no number stands for "auto"."""
    from midifill.bridge import faces

    assert not [f for f in faces.stale() if "ableton" in f]
    script = (DEVICE_DIR / "midifill.js").read_text(encoding="utf-8")
    assert "HARMONY_AUTO" not in script and "0.3" not in script
