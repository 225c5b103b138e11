"""`midifill request` and `midifill serve` as the REAPER scripts and people
run them: real processes, real UDP, the real engine."""

import json
import re
import signal
import socket
import subprocess
import sys
import time
from argparse import Namespace
from pathlib import Path

import pytest
from test_osc_server import Gate, Peer, assert_inside, engine, fill, serve  # noqa: F401

from midifill.bridge import protocol as p

ROOT = Path(__file__).resolve().parents[1]


def midifill(*args, stdin=None, timeout=30):
    return subprocess.run(
        [sys.executable, "-m", "midifill.bridge.cli", *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def dead_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
