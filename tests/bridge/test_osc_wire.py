"""bridge/osc_wire.py, the client's own OSC codec, against python-osc (which
the server uses): the same bytes for the same arguments, the same
arguments read back, and a clear refusal of what is not a message."""

import random
import struct

import pytest
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from midifill.bridge import osc_wire


def _python_osc(address, args) -> bytes:
    b = OscMessageBuilder(address=address)
    for a in args:
        b.add_arg(a)
    return b.build().dgram


def _values(rng: random.Random):
    return [
        "",
        "x",
        "abc",
        "abcd",
        "ünï€ode",
        "req-" + "f" * 16,
        '{"notes": [[60, 0.5]]}' * rng.randint(0, 40),
        0,
        1,
        -1,
        2**31 - 1,
        -(2**31),
        2**31,
        -(2**31) - 1,
        2**40,
        rng.randint(-(2**62), 2**62),
        0.0,
        0.5,
        -3.25,
        rng.random(),
        True,
        False,
        None,
        b"a",
        b"abcd",  # python-osc refuses an empty blob
        bytes(rng.randrange(256) for _ in range(rng.randint(1, 9))),
    ]


def test_the_same_bytes_and_the_same_arguments_as_python_osc():
    rng = random.Random(0)
    for _ in range(300):
        args = rng.sample(_values(rng), rng.randint(0, 6))
        address = rng.choice(["/midifill/request", "/midifill/ping", "/a", "/abc"])
        data = osc_wire.encode(address, *args)
        assert data == _python_osc(address, args)
        theirs = OscMessage(data)
        assert osc_wire.decode(data) == (theirs.address, tuple(theirs.params))


def test_what_python_osc_writes_for_the_server_reads_back():
    # the server's answers: strings, ints and floats, as server.py builds them
    data = _python_osc("/midifill/result", ["req-1", 0, 3, "chunk", 0.25, 2**33])
    assert osc_wire.decode(data) == ("/midifill/result", ("req-1", 0, 3, "chunk", 0.25, 2**33))
    assert osc_wire.decode(_python_osc("/midifill/pong", [])) == ("/midifill/pong", ())


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"no slash\0\0\0\0",
        b"/a\0\0,i\0\0\0\0",
        b"/a\0\0,q\0\0",
        b"/a\0\0,b\0\0\x7f\0\0\0",
        b"/a\0\0xyz\0",
    ],
)
def test_what_is_not_a_message_is_refused(data):
    with pytest.raises((ValueError, struct.error)):
        osc_wire.decode(data)


def test_an_argument_osc_cannot_carry_is_refused():
    with pytest.raises(ValueError, match="cannot be a dict"):
        osc_wire.encode("/a", {"x": 1})
