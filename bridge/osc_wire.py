"""OSC 1.0 messages to and from bytes, for the client alone.

`midifill request` starts as a new process for every fill REAPER asks
for, and python-osc's message modules import logging, datetime and typing
(20-35 ms of that start on the shared 2-core machine, docs/speed.md). The
client needs only the plain types, so it encodes and decodes them here:
`encode` gives the bytes python-osc's OscMessageBuilder builds for the
same arguments, `decode` the (address, params) of its OscMessage
(tests/bridge/test_osc_wire.py checks both against python-osc). The server keeps
python-osc.
"""

from __future__ import annotations

import struct


def _padded(b: bytes) -> bytes:
    """b, then 1-4 zero bytes to a multiple of 4 (a string's terminator)."""
    return b + b"\0" * (4 - len(b) % 4)


def encode(address: str, *args) -> bytes:
    """One message: str, bytes, bool, int (32 or 64 bits), float (32 bits)
    or None arguments, typed as python-osc types them."""
    tags, data = [","], []
    for a in args:
        if isinstance(a, str):
            tags.append("s")
            data.append(_padded(a.encode("utf-8")))
        elif isinstance(a, bytes):
            tags.append("b")
            data.append(struct.pack(">i", len(a)) + a + b"\0" * (-len(a) % 4))
        elif a is True or a is False:
            tags.append("T" if a else "F")
        elif isinstance(a, int):
            big = a.bit_length() > 31
            tags.append("h" if big else "i")
            data.append(struct.pack(">q" if big else ">i", a))
        elif isinstance(a, float):
            tags.append("f")
            data.append(struct.pack(">f", a))
        elif a is None:
            tags.append("N")
        else:
            raise ValueError(f"an OSC argument cannot be a {type(a).__name__}")
    return _padded(address.encode("utf-8")) + _padded("".join(tags).encode()) + b"".join(data)


def _string(data: bytes, at: int) -> tuple[str, int]:
    end = data.index(b"\0", at)
    return data[at:end].decode("utf-8"), end + 4 - (end - at) % 4


_FIXED = {"i": (">i", 4), "h": (">q", 8), "f": (">f", 4), "d": (">d", 8)}
_CONST = {"T": True, "F": False, "N": None}


def decode(data: bytes) -> tuple[str, tuple]:
    """(address, arguments) of one message; ValueError (struct.error is one)
    for bytes that are not one."""
    address, at = _string(data, 0)
    if not address.startswith("/"):
        raise ValueError("not an OSC message")
    if at >= len(data):
        return address, ()
    tags, at = _string(data, at)
    if not tags.startswith(","):
        raise ValueError("no OSC type tags")
    out = []
    for t in tags[1:]:
        if t == "s":
            value, at = _string(data, at)
        elif t in _FIXED:
            fmt, size = _FIXED[t]
            (value,) = struct.unpack_from(fmt, data, at)
            at += size
        elif t == "b":
            (size,) = struct.unpack_from(">i", data, at)
            if size < 0 or at + 4 + size > len(data):
                raise ValueError("an OSC blob runs past the message")
            value, at = data[at + 4 : at + 4 + size], at + 4 + size + (-size % 4)
        elif t in _CONST:
            value = _CONST[t]
        else:
            raise ValueError(f"OSC type {t!r} is not one the client reads")
        out.append(value)
    return address, tuple(out)
