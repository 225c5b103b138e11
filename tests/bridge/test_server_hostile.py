"""The OSC server under hostile datagrams, over real UDP with the real
engine (the tiny test checkpoint): every answer is typed and arrives, address
patterns are not expanded, and a flood costs a few log lines (issue 15)."""

import json
import logging
import socket
import subprocess
import sys
import time

import pytest
import torch
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from midifill.bridge import protocol as p
from midifill.bridge.client import Client, ServerError, TooLarge
from midifill.bridge.server import LogLimiter, Server
from tests.support import ROOT

pytestmark = pytest.mark.hostile


LOG = "midifill.bridge"


@pytest.fixture(scope="module")
def server(tiny_checkpoint):
    from midifill.model import Engine

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with Server(Engine.from_checkpoint(tiny_checkpoint), "127.0.0.1", 0) as srv:
        yield srv
        assert srv.alive()
    torch.set_num_threads(threads)


class Raw:
    """A bare UDP socket that sends datagrams and reads OSC answers."""

    def __init__(self, port):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port, self.server = self.sock.getsockname()[1], ("127.0.0.1", port)

    def send(self, address, *args):
        builder = OscMessageBuilder(address=address)
        for arg in args:
            builder.add_arg(arg)
        self.sock.sendto(builder.build().dgram, self.server)

    def answer(self, timeout=5.0):
        self.sock.settimeout(timeout)
        data = self.sock.recv(65535)
        message = OscMessage(data)
        return message.address, list(message.params), len(data)


def nested(depth):
    value = 1
    for _ in range(depth):
        value = [value]
    return value


def request(start=4.0, end=8.0, **controls):
    return {
        "tracks": [{"id": "bass", "notes": [[40, i * 0.5, 0.5, 90] for i in range(16)]}],
        "target": {"track": "bass", "start": start, "end": end},
        "controls": {"seed": 1, **controls},
    }


@pytest.mark.parametrize(
    "address",
    ["/midifill/*", "/midifill/{ping,status}", "/midifill/[a-z]*", "/midifill/p?ng", "/nope"],
)
def test_address_patterns_are_unknown_addresses(server, address, caplog):
    caplog.set_level(logging.WARNING, logger=LOG)
    raw = Raw(server.port)
    raw.send(address, raw.port, "pat-1")
    assert raw.answer()[:2] == (
        p.ERROR,
        [
            "pat-1",
            "unknown_address",
            f"unknown address {address!r}; known: " + ", ".join(p.SCHEMAS),
        ],
    )
    assert not [r for r in caplog.records if r.exc_info], "no traceback"
    raw.send(address, 1.5)  # no id or port: answered at the port it came from
    assert raw.answer()[1][:2] == ["", "unknown_address"]


@pytest.mark.parametrize(
    "change",
    [
        lambda r: r["controls"].update({"k" * 70_000: 1}),
        lambda r: r["tracks"][0].update(id="t" * 70_000),
        lambda r: r["target"].update(track="t" * 70_000),
        lambda r: r["controls"].update(key="E" + "q" * 70_000),
    ],
)
def test_errors_quoting_huge_values_still_fit_one_datagram(server, change):
    req = request()
    change(req)
    with Client(port=server.port, timeout=5) as client, pytest.raises(ServerError) as err:
        client.request(req)
    assert err.value.code == "bad_request" and len(err.value.message) <= 600


@pytest.mark.parametrize(
    "change, code",
    [
        (lambda r: r["target"].update(end=1e308), "too_large"),
        (lambda r: r["tracks"][0]["notes"].append([60, 1e308, 1e308, 100]), "too_large"),
        (lambda r: r["controls"].update(variations=10**400), "bad_request"),
        (lambda r: r["tracks"][0]["notes"].append(nested(40)), "bad_json"),
    ],
)
def test_overflow_and_depth_are_typed_over_osc(server, change, code):
    req = request()
    change(req)
    with Client(port=server.port, timeout=5) as client, pytest.raises(ServerError) as err:
        client.request(req)
    assert err.value.code == code, err.value.message


def test_an_error_message_of_any_length_is_cut_to_fit(server):
    raw = Raw(server.port)
    server.send_error(("127.0.0.1", raw.port), "big", "internal", "x" * 200_000)
    address, args, size = raw.answer()
    assert address == p.ERROR and args[0] == "big" and size < p.MAX_DATAGRAM
    assert args[2].endswith("(200000 characters in all)")


def test_payloads_over_the_limit_are_too_large(server):
    raw = Raw(server.port)
    raw.send(p.REQUEST, "big-1", raw.port, 0, p.MAX_CHUNKS + 1, "{")
    assert raw.answer()[1][:2] == ["big-1", "too_large"]
    raw.send(p.REQUEST, "big-2", raw.port, 0, 1, "x" * 60_000)  # one 60 KB datagram
    assert raw.answer()[1][:2] == ["big-2", "too_large"]
    huge = request()
    huge["tracks"][0]["notes"] = [[60, 0.0, 0.5, 90]] * 600_000  # 9 MB of JSON
    with Client(port=server.port, timeout=5) as client, pytest.raises(TooLarge) as err:
        client.request(huge)
    assert err.value.code == "too_large" and err.value.exit_code == 2


def test_the_time_budget_answers_too_slow(server):
    engine = server.engine
    engine.time_budget_s = 0.0
    try:
        with Client(port=server.port, timeout=5) as client, pytest.raises(ServerError) as err:
            client.request(request())
        assert err.value.code == "too_slow" and "time budget" in err.value.message
    finally:
        del engine.time_budget_s
    with Client(port=server.port, timeout=10) as client:
        assert client.request(request())["variations"]


def test_a_bundle_of_unknown_elements_is_one_line_not_thousands(server, caplog):
    caplog.set_level(logging.WARNING)
    raw = Raw(server.port)
    raw.sock.sendto(b"#bundle\x00" + b"\x00" * 8 + b"\x00\x00\x00\x04abcd" * 4000, raw.server)
    raw.sock.sendto(b"#bundle\x00" + b"\x00" * 8 + b"\x00\x00\x00\x00" * 8000, raw.server)
    with Client(port=server.port) as client:
        client.ping()  # both handled before the ping
    lines = [r for r in caplog.records if "bundle" in r.getMessage()]
    assert 1 <= len(lines) <= 2 and all(r.name == LOG for r in lines)


def test_the_log_limiter_writes_a_burst_then_counts_what_it_left_out(caplog):
    caplog.set_level(logging.WARNING, logger=LOG)
    limit = LogLimiter(rate=20.0, burst=3)
    written = [limit("x", logging.WARNING, "bad %d", i) for i in range(100)]
    assert written[:3] == [True] * 3 and not any(written[3:])
    time.sleep(0.1)  # two tokens back
    assert limit("x", logging.WARNING, "bad %d", 100)
    assert caplog.records[-1].getMessage() == "bad 100 (and 97 more like this not logged)"
    assert limit("y", logging.WARNING, "other kind")  # kinds are counted apart


def test_midifill_request_gets_the_error_for_a_huge_key(server, tmp_path):
    path = tmp_path / "req.json"
    req = request()
    req["controls"]["k" * 70_000] = 1
    path.write_text(json.dumps(req))
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "midifill.bridge.cli",
            "request",
            str(path),
            "--port",
            str(server.port),
            "--timeout",
            "5",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2, r.stderr  # was 3, "stopped answering"
    assert json.loads(r.stdout)["error"]["code"] == "bad_request"
