"""A busy port is one line naming the flag that changes it, and `serve
--demo` starts nothing (no OSC server) when the demo cannot have its port."""

import socket
import subprocess
import sys

import pytest

from tests.support import ROOT, require_module

require_module("gradio")


def held_tcp_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    return s, s.getsockname()[1]


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def midifill(*args):
    return subprocess.run(
        [sys.executable, "-m", "midifill.bridge.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "args, flag",
    [(["demo", "--port"], "--port"), (["serve", "--demo", "--demo-port"], "--demo-port")],
)
def test_a_busy_demo_port_is_one_line_naming_the_flag(args, flag):
    sock, port = held_tcp_port()
    try:
        extra = ["--port", str(free_udp_port())] if args[0] == "serve" else []
        done = midifill(*args, str(port), *extra)
    finally:
        sock.close()
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and str(port) in lines[0] and flag in lines[0], done.stderr
    assert "Traceback" not in done.stderr and "GRADIO_SERVER_PORT" not in done.stderr
    # nothing started before the refusal: the OSC server never said it listens
    assert "listening" not in done.stderr


def test_a_busy_osc_port_names_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        done = midifill("serve", "--port", str(s.getsockname()[1]))
    assert done.returncode == 1
    assert len(done.stderr.strip().splitlines()) == 1 and "--port" in done.stderr, done.stderr
