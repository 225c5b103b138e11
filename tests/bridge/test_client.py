"""`midifill request` and `midifill serve` as the REAPER scripts and people
run them: real processes, real UDP, the real engine.

A server killed (kill -9) and started again on its port while `midifill
request` waits (issue 30 item 9): the request is lost, and the client says
so with a server error, not `bad_chunk`, a bad-input code for a valid
request. Real processes, real UDP, the tiny checkpoint."""

import json
import re
import signal
import subprocess
import sys
import time
from argparse import Namespace

import pytest

from midifill.bridge import protocol as p
from midifill.bridge.client import Client
from tests.support import ROOT, dead_port
from tests.support.osc import Gate, Peer, assert_inside, fill, midifill


def test_request_from_stdin_and_from_a_file(serve, tmp_path):
    server = serve()
    done = midifill("request", "--port", str(server.port), stdin=json.dumps(fill(4.0, 6.0)))
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.strip().splitlines()) == 1  # one JSON line for scripts
    assert_inside(json.loads(done.stdout), 4.0, 6.0)
    path = tmp_path / "request.json"
    path.write_text(json.dumps(fill(8.0, 9.0)))
    done = midifill("request", str(path), "--port", str(server.port))
    assert done.returncode == 0, done.stderr
    assert_inside(json.loads(done.stdout), 8.0, 9.0)
    done = midifill("request", "--ping", "--port", str(server.port))
    assert done.returncode == 0 and json.loads(done.stdout)["version"] == "0.1.0"
    done = midifill("request", "--status", "--port", str(server.port))
    assert done.returncode == 0 and json.loads(done.stdout)["queue_limit"] == 16


@pytest.mark.parametrize(
    "text, word", [("{not json", "not JSON"), ("[1, 2]", "JSON object"), ("", "not JSON")]
)
def test_bad_input_exits_2(text, word):
    done = midifill("request", "--port", str(dead_port()), stdin=text)
    assert done.returncode == 2
    assert json.loads(done.stdout)["error"]["code"] == "bad_input"
    assert word in done.stderr


def test_a_request_the_engine_rejects_exits_2_naming_the_field(serve):
    server = serve()
    bad = {**fill(), "target": {"track": "piano", "start": 4.0, "end": 8.0}}
    done = midifill("request", "--port", str(server.port), stdin=json.dumps(bad))
    assert done.returncode == 2, done.stderr
    error = json.loads(done.stdout)["error"]
    assert error["code"] == "bad_request" and "target" in error["message"]
    assert error["id"] and "bad_request" in done.stderr


def test_no_server_exits_3_and_says_how_to_start_one():
    started = time.monotonic()
    port = dead_port()
    done = midifill("request", "--port", str(port), "--timeout", "0.5", stdin=json.dumps(fill()))
    assert done.returncode == 3
    assert f"midifill serve --port {port}" in done.stderr
    assert json.loads(done.stdout)["error"]["code"] == "no_server"
    assert time.monotonic() - started < 10


def test_busy_exits_4(serve):
    gate = Gate()
    server = serve(progress_hook=gate, queue_limit=1)
    peer = Peer(server.port)
    try:
        for i, msg_id in enumerate(["hold", "wait"]):
            peer.send(p.REQUEST, msg_id, peer.port, 0, 1, p.encode_json(fill(4.0, 5.0)))
            assert peer.wait_for(p.ACK, msg_id) == [msg_id, i]
            assert gate.entered.wait(20)
        done = midifill("request", "--port", str(server.port), stdin=json.dumps(fill()))
        assert done.returncode == 4 and json.loads(done.stdout)["error"]["code"] == "busy"
    finally:
        gate.release.set()
        peer.close()


def test_request_starts_without_torch_or_the_model():
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
            str(dead_port()),
            "--timeout",
            "0.1",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 3
    modules = re.findall(r"^import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)$", done.stderr, re.M)
    names = {name for _, _, name in modules}
    # of the engine's package only its plain constants (the payload limit, the port)
    assert {n for n in names if n.startswith("midifill.model")} == {
        "midifill.model",
        "midifill.model.limits",
    }
    assert not {n for n in names if n == "torch" or n.startswith("torch.")}
    # how long those imports take is a figure of `midifill bench`
    # (request_import_ms), not a timed assertion that a busy machine fails


def test_serve_refuses_a_network_address_without_a_token():
    done = midifill("serve", "--host", "0.0.0.0", "--port", str(dead_port()))
    assert done.returncode == 2 and "--token" in done.stderr


def test_serve_warns_on_a_network_address_with_a_token(capsys):
    from midifill.bridge import cmd_serve

    args = Namespace(
        host="0.0.0.0",
        port=0,
        token="t",
        model="/no/such/model.pt",
        queue_limit=16,
        demo=False,
        demo_port=7860,
    )
    assert cmd_serve.run(args) == 1
    err = capsys.readouterr().err
    assert "WARNING" in err and "cannot load the model" in err


def test_serve_and_request_as_processes(tiny_checkpoint):
    port = dead_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "midifill.bridge.cli",
            "--log-level",
            "INFO",
            "serve",
            "--port",
            str(port),
            "--model",
            str(tiny_checkpoint),
        ],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while midifill("request", "--ping", "--port", str(port), "--timeout", "1").returncode:
            assert proc.poll() is None and time.monotonic() < deadline, "serve did not start"
        done = midifill("request", "--port", str(port), stdin=json.dumps(fill(4.0, 8.0)))
        assert done.returncode == 0, done.stderr
    finally:
        proc.send_signal(signal.SIGTERM)
        _, log = proc.communicate(timeout=30)
    assert proc.returncode == 0, log
    assert f"listening on udp 127.0.0.1:{port}" in log
    assert re.search(r"request req-\w+ mode=fill bars=1 variations=1 ms=\d+ ok", log), log


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


@pytest.mark.slow
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
