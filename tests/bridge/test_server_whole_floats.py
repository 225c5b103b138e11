"""Whole-number floats where the protocol wants an int32.

Clients do not all choose their OSC types: Max's [udpsend] sends what the
patch or js hands it, and whether a whole number leaves js as an int atom is
not documented. So the server takes 9001.0 as 9001 for every int argument
(ports, chunk index and count), and still refuses 9001.5, NaN and numbers
outside int32.
"""

import json
import math
import socket

import pytest
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from midifill.bridge import protocol as p
from midifill.bridge.server import Server


def test_parse_args_takes_whole_floats_as_ints():
    assert p.parse_args(p.PING, (9001.0, "p1")) == {"reply_port": 9001, "id": "p1"}
    values = p.parse_args(p.REQUEST, ("r1", 9001.0, 0.0, 2.0, "{}"))
    assert values == {"id": "r1", "reply_port": 9001, "index": 0, "count": 2, "chunk": "{}"}
    assert all(type(values[k]) is int for k in ("reply_port", "index", "count"))
    assert p.parse_args(p.RESEND, ("r1", 9001.0, 3.0))["index"] == 3


@pytest.mark.parametrize("bad", [9001.5, math.nan, math.inf, 2.0**31, -(2.0**31) - 1])
def test_parse_args_still_refuses_other_floats(bad):
    with pytest.raises(p.ProtocolError) as err:
        p.parse_args(p.REQUEST, ("r1", 9001, bad, 1, "{}"))
    assert err.value.code == "bad_args" and "index" in err.value.message


def test_reply_target_takes_a_whole_float_port():
    assert p.reply_target(p.PING, (9001.0, "p1")) == ("p1", 9001)
    assert p.reply_target(p.PING, (9001.5, "p1")) == ("p1", None)


def _message(address, *args):
    builder = OscMessageBuilder(address)
    for value in args:
        builder.add_arg(value, "f" if isinstance(value, float) else "s")
    return builder.build().dgram


def test_a_client_that_sends_only_floats_is_answered(tiny_engine):
    server = Server(tiny_engine, "127.0.0.1", 0).start()
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind(("127.0.0.1", 0))
            sock.settimeout(20)
            port = float(sock.getsockname()[1])
            sock.sendto(_message(p.PING, port, "f-ping"), server.address)
            pong = OscMessage(sock.recv(65535))
            assert (pong.address, pong.params[0]) == (p.PONG, "f-ping")

            request = {
                "mode": "fill",
                "time_signature": [4, 4],
                "tempo": 120.0,
                "tracks": [
                    {
                        "id": "a",
                        "program": 0,
                        "is_drum": False,
                        "notes": [[60 + i % 5, i * 0.5, 0.5, 90] for i in range(16)],
                    }
                ],
                "target": {"track": "a", "start": 4.0, "end": 8.0},
                "controls": {"seed": 3, "variations": 1},
            }
            sock.sendto(
                _message(p.REQUEST, "f-req", port, 0.0, 1.0, json.dumps(request)), server.address
            )
            seen = []
            while not seen or seen[-1].address not in (p.RESULT, p.ERROR):
                seen.append(OscMessage(sock.recv(65535)))
            assert seen[0].address == p.ACK
            assert seen[-1].address == p.RESULT, seen[-1].params
            assert json.loads(seen[-1].params[3])["variations"]
    finally:
        server.stop()
