"""A server killed (kill -9) and started again on its port while `midifill
request` waits (issue 30 item 9): the request is lost, and the client says
so with a server error, not `bad_chunk`, a bad-input code for a valid
request. Real processes, real UDP, the tiny checkpoint."""

import json
import signal
import subprocess
import sys
import time

from test_osc_cli import ROOT, dead_port, midifill
from test_osc_server import fill

from midifill.bridge import protocol as p
from midifill.bridge.client import Client


def _serve(port, checkpoint):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "midifill.bridge.cli",
            "serve",
            "--port",
            str(port),
            "--model",
            str(checkpoint),
        ],
        cwd=ROOT,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while midifill("request", "--ping", "--port", str(port), "--timeout", "1").returncode:
        assert proc.poll() is None and time.monotonic() < deadline, "serve did not start"
    return proc


def test_a_restarted_server_is_named_and_the_request_is_to_send_again(tiny_checkpoint, tmp_path):
    port = dead_port()
    request = tmp_path / "request.json"  # a long generation: 16 bars, 8 variations
    request.write_text(json.dumps(fill(0.0, 64.0, variations=8)))
    first = _serve(port, tiny_checkpoint)
    second = None
    waiting = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "midifill.bridge.cli",
            "request",
            str(request),
            "--port",
            str(port),
            "--timeout",
            "60",
        ],
        cwd=ROOT,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        with Client(port=port, timeout=5) as client:
            deadline = time.monotonic() + 30
            while client.status()["running"] is None:  # another client's request: True
                assert time.monotonic() < deadline, "the request never started"
                time.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        second = _serve(port, tiny_checkpoint)
        out, err = waiting.communicate(timeout=60)
    finally:
        for proc in (first, second, waiting):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait(10)
    assert waiting.returncode == p.EXIT_SERVER_ERROR == 4, err
    error = json.loads(out)["error"]
    assert error["code"] == "server_restarted"
    assert "server restarted; request lost, send it again" in error["message"]
    assert "bad_chunk" not in err and "server restarted; request lost, send it again" in err
