"""Runs the Max for Live device's Node tests (tests/ableton) against a real
`midifill serve` loaded with the tiny test checkpoint.

The device's JavaScript runs under Node with a stand-in LiveAPI; its OSC goes
over real UDP to the server started here, and the replies come back the way
Max's [udpreceive] would deliver them.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from conftest import require_tool

ROOT = Path(__file__).resolve().parent.parent
NODE_TESTS = ROOT / "tests" / "ableton"


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
            except socket.timeout:
                continue
    raise RuntimeError(f"midifill serve did not answer a ping within {timeout:.0f} s")


@pytest.fixture(scope="module")
def server_port(tiny_checkpoint, tmp_path_factory):
    port = _free_udp_port()
    log_path = tmp_path_factory.mktemp("ableton") / "serve.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bridge.cli", "serve", "--port", str(port),
             "--model", str(tiny_checkpoint)],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
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
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=NODE_TESTS, check=True,
                       capture_output=True, timeout=300)
    env = dict(os.environ, MIDIFILL_PORT=str(server_port))
    started = time.monotonic()
    # One file at a time: the tests share one server and two CPU cores.
    result = subprocess.run([node, "--test", "--test-concurrency=1"], cwd=NODE_TESTS, env=env,
                            capture_output=True, text=True, timeout=240)
    elapsed = time.monotonic() - started
    report = result.stdout[-12000:] + result.stderr[-3000:]
    assert result.returncode == 0, report
    assert "# fail 0" in result.stdout and "# skipped 0" in result.stdout, report
    print(f"node tests: {elapsed:.1f} s")
