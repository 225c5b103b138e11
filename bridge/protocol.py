"""The OSC wire protocol of midifill: addresses, limits, ids, chunking.

Pure functions and small classes, no sockets, so the server, the client and
their tests share one definition. docs/osc.md is the reference this module
implements; keep the two in step.
"""

from __future__ import annotations

import json
import math
import re
import time
from itertools import accumulate

from midifill.model.limits import MAX_PAYLOAD_BYTES

PREFIX = "/midifill/"

# Client -> server
PING = PREFIX + "ping"
STATUS = PREFIX + "status"  # also the server's answer address
REQUEST = PREFIX + "request"
RESEND = PREFIX + "resend"
CANCEL = PREFIX + "cancel"

# Server -> client
PONG = PREFIX + "pong"
ACK = PREFIX + "ack"
PROGRESS = PREFIX + "progress"
RESULT = PREFIX + "result"
ERROR = PREFIX + "error"
CANCELLED = PREFIX + "cancelled"

# 6,000 ASCII characters of JSON plus address, type tags, id and ints stay
# well under the 8 KB that macOS and python-osc accept in one datagram.
CHUNK_CHARS = 6000
MAX_DATAGRAM = 8192
# The biggest request the bridge will reassemble: the engine's payload limit
# (model/limits.py). It bounds the memory one client can make the server hold.
MAX_REQUEST_CHARS = MAX_PAYLOAD_BYTES
MAX_CHUNKS = math.ceil(MAX_REQUEST_CHARS / CHUNK_CHARS)
# The request contract is 5 levels deep (request, tracks, track, notes, note);
# deeper JSON is refused before json.loads, whose recursion fails near 1,000.
MAX_JSON_DEPTH = 32
# What parsing may build: JSON values (each array, object, number, string,
# literal) in one request, counted before json.loads. 50,000 notes of 4
# numbers are 250,000; empty lists packed into 8 MB would be 2.7 million
# (51 MB -> 2.3 GB for a queue of them, issue 30). The queue holds at most
# MAX_QUEUED_VALUES values in all (a full-size request is always taken when
# the queue is empty).
MAX_JSON_VALUES = 400_000
MAX_QUEUED_VALUES = 1_200_000
# The replies the server sends: a message to one of these addresses is never
# answered, so two servers (or a server and itself) cannot talk in a loop.
# An error message is cut to this many characters, so that /midifill/error
# always fits one datagram, whatever a request quoted into it.
MAX_ERROR_CHARS = 2000

REPLY_ADDRESSES = frozenset(
    {PREFIX + name for name in ("pong", "ack", "progress", "result", "error", "cancelled")}
)
# The bytes the receiving thread may send for one datagram received: a
# bundle of resends is answered up to this, the rest dropped.
REPLY_FACTOR = 4

INCOMPLETE_TIMEOUT_S = 10.0  # a request missing chunks this long is dropped
RESULT_TTL_S = 60.0  # results are kept this long for /midifill/resend

ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,64}")

# Error codes (docs/osc.md, "Error codes") and what `midifill request` exits with.
BAD_INPUT_CODES = frozenset(
    {"bad_args", "bad_chunk", "bad_json", "bad_request", "too_large", "unknown_address"}
)
SERVER_ERROR_CODES = frozenset(
    {"busy", "cancelled", "internal", "incomplete", "unauthorized", "too_slow"}
)
EXIT_OK, EXIT_BAD_INPUT, EXIT_NO_SERVER, EXIT_SERVER_ERROR = 0, 2, 3, 4


def exit_code_for(error_code: str) -> int:
    return EXIT_BAD_INPUT if error_code in BAD_INPUT_CODES else EXIT_SERVER_ERROR


class ProtocolError(Exception):
    """A message that breaks the protocol; `code` is the OSC error code."""

    def __init__(self, code: str, message: str):
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")


def is_valid_id(value) -> bool:
    return isinstance(value, str) and ID_PATTERN.fullmatch(value) is not None


def is_valid_port(value) -> bool:
    # bool is an int in Python, but OSC's T/F are not ports.
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 65535


# --- argument schemas ------------------------------------------------------

# Argument names and Python types per client->server address, in wire order.
SCHEMAS: dict[str, tuple[tuple[str, type], ...]] = {
    PING: (("reply_port", int), ("id", str)),
    STATUS: (("reply_port", int), ("id", str)),
    REQUEST: (("id", str), ("reply_port", int), ("index", int), ("count", int), ("chunk", str)),
    RESEND: (("id", str), ("reply_port", int), ("index", int)),
    CANCEL: (("id", str), ("reply_port", int)),
}

_OSC_TYPE = {int: "i", str: "s"}


def signature(address: str) -> str:
    """The wire signature of an address, e.g. ``"s i i i s"`` for a request."""
    return " ".join(f"{name}:{_OSC_TYPE[kind]}" for name, kind in SCHEMAS[address])


def whole_int(value):
    """A float with a whole int32 value as that int (clients such as Max may
    send every number as a float); anything else unchanged."""
    if isinstance(value, float) and value.is_integer() and -(2**31) <= value < 2**31:
        return int(value)
    return value


def reply_target(address: str, args: tuple) -> tuple[str | None, int | None]:
    """Best-effort (id, reply_port) of a message whose arguments may be wrong,
    so that even a malformed message that names both can be answered."""
    names = [name for name, _ in SCHEMAS[address]]
    found = {}
    for name in ("id", "reply_port"):
        position = names.index(name)
        found[name] = args[position] if position < len(args) else None
    msg_id = found["id"] if isinstance(found["id"], str) and 0 < len(found["id"]) <= 200 else None
    port = whole_int(found["reply_port"])
    port = port if is_valid_port(port) else None
    return msg_id, port


def parse_args(address: str, args: tuple, token: str | None = None) -> dict:
    """Check a client message's arguments against its schema.

    Returns them by name. Raises ProtocolError("unauthorized") when a token is
    required and the extra last argument is missing or wrong, and
    ProtocolError("bad_args") for a wrong count or type.
    """
    import hmac  # only the server checks tokens; keep client start-up lean

    schema = SCHEMAS[address]
    args = tuple(args)
    if token is not None:
        given = args[-1] if len(args) == len(schema) + 1 else None
        if not (isinstance(given, str) and hmac.compare_digest(given.encode(), token.encode())):
            raise ProtocolError("unauthorized", "missing or wrong token (last argument)")
        args = args[:-1]
    if len(args) != len(schema):
        raise ProtocolError(
            "bad_args",
            f"{address} takes {len(schema)} arguments ({signature(address)}), got {len(args)}",
        )
    values = {}
    for (name, kind), value in zip(schema, args):
        if kind is int:
            value = whole_int(value)
        if kind is int and (not isinstance(value, int) or isinstance(value, bool)):
            raise ProtocolError("bad_args", f"{name}: expected an int32, got {_describe(value)}")
        if kind is str and not isinstance(value, str):
            raise ProtocolError("bad_args", f"{name}: expected a string, got {_describe(value)}")
        values[name] = value
    if not is_valid_id(values["id"]):
        raise ProtocolError(
            "bad_args",
            f"id: expected 1-64 characters from [A-Za-z0-9._:-], got {values['id'][:80]!r}",
        )
    if not is_valid_port(values["reply_port"]):
        raise ProtocolError("bad_args", f"reply_port: expected 1-65535, got {values['reply_port']}")
    return values


def _describe(value) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text[:40]}"


# --- chunking --------------------------------------------------------------


def encode_json(obj) -> str:
    """Compact ASCII JSON: one byte per character, so chunk sizes are exact."""
    return json.dumps(obj, ensure_ascii=True, separators=(",", ":"), allow_nan=False)


def split_text(text: str, size: int = CHUNK_CHARS) -> list[str]:
    if not text:
        return [""]
    return [text[i : i + size] for i in range(0, len(text), size)]


def split_json(obj, size: int = CHUNK_CHARS) -> list[str]:
    return split_text(encode_json(obj), size)


_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKETS = re.compile(r"[\[\]{}]")


def json_depth(text: str) -> int:
    """How deeply a JSON text nests, counted without parsing it (brackets
    inside strings do not count); a few ms for megabytes."""
    steps = (1 if b in "[{" else -1 for b in _BRACKETS.findall(_STRINGS.sub("", text)))
    return max(accumulate(steps), default=0)


def json_values(text: str) -> int:
    """At least how many values json.loads would build from `text`, counted
    without parsing it: one per opening bracket, one per comma (each comma
    starts another element or member), outside strings; an object's member
    counts its value, its key string not."""
    bare = _STRINGS.sub('""', text)
    return bare.count("[") + bare.count("{") + bare.count(",") + 1


def error_message(message: str) -> str:
    """A message cut to fit one /midifill/error datagram."""
    message = str(message)
    if len(message) <= MAX_ERROR_CHARS:
        return message
    return message[: MAX_ERROR_CHARS - 40] + f"... ({len(message)} characters in all)"


def decode_json_object(text: str) -> dict:
    """Parse a reassembled payload; ProtocolError("bad_json") unless an
    object, ProtocolError("too_large") past MAX_JSON_VALUES."""
    values = json_values(text)
    if values > MAX_JSON_VALUES:
        raise ProtocolError(
            "too_large",
            f"request JSON holds about {values:,} values; the limit is {MAX_JSON_VALUES:,}",
        )
    if json_depth(text) > MAX_JSON_DEPTH:
        raise ProtocolError(
            "bad_json", f"request JSON is nested more than {MAX_JSON_DEPTH} levels deep"
        )
    try:
        value = json.loads(text)
    except ValueError as exc:  # JSONDecodeError, and recursion/Unicode errors
        raise ProtocolError("bad_json", f"request is not valid JSON: {exc}") from None
    except RecursionError:
        raise ProtocolError("bad_json", "request JSON is nested too deeply") from None
    if not isinstance(value, dict):
        raise ProtocolError(
            "bad_json", f"request must be a JSON object, got {type(value).__name__}"
        )
    return value


class Assembly:
    """The chunks of one payload, arriving in any order, possibly twice.

    Used by the server for requests and by the client for results.
    """

    def __init__(self, count: int, max_chunks: int = MAX_CHUNKS, chunk_chars: int = CHUNK_CHARS):
        if not isinstance(count, int) or count < 1:
            raise ProtocolError("bad_chunk", f"count: expected 1-{max_chunks}, got {count}")
        if count > max_chunks:  # a payload over the size limit: refused before it arrives
            raise ProtocolError(
                "too_large",
                f"count: {count} chunks is over the limit of "
                f"{max_chunks} ({MAX_REQUEST_CHARS} characters)",
            )
        self.count = count
        self.chunk_chars = chunk_chars
        self.parts: dict[int, str] = {}
        self.started = time.monotonic()
        self.first = None  # chunk 0's text, to tell a new request from a resent one

    def add(self, index: int, count: int, chunk: str) -> bool:
        """Store one chunk; True when it was new. Raises ProtocolError("bad_chunk")."""
        if count != self.count:
            raise ProtocolError("bad_chunk", f"count changed from {self.count} to {count}")
        if not 0 <= index < self.count:
            raise ProtocolError("bad_chunk", f"index {index} out of range 0-{self.count - 1}")
        if len(chunk) > self.chunk_chars:
            raise ProtocolError(
                "too_large",
                f"chunk {index} has {len(chunk)} characters, over the limit of {self.chunk_chars}",
            )
        if index in self.parts:
            return False
        self.parts[index] = chunk
        if index == 0:
            self.first = chunk
        return True

    @property
    def complete(self) -> bool:
        return len(self.parts) == self.count

    def missing(self) -> list[int]:
        return [i for i in range(self.count) if i not in self.parts]

    def text(self) -> str:
        return "".join(self.parts[i] for i in range(self.count))
