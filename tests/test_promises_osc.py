"""The 8 MB request limit over real UDP (docs/osc.md, Limits): a request of
exactly 8 MiB of JSON is reassembled and answered; one character more is
refused with too_large; the client refuses what the server would before
sending it."""

import time

import pytest
from test_osc_server import Peer, assert_inside, engine, fill, serve  # noqa: F401 (fixtures)

from midifill.bridge import protocol as p
from midifill.bridge.client import Client, TooLarge
from midifill.model.generation.request import LIMITS


def padded(size):
    """A small fill request as JSON of exactly `size` characters: whitespace
    before the closing brace, which JSON allows and the compact encoder
    never writes."""
    text = p.encode_json(fill(4.0, 5.0))
    return text[:-1] + " " * (size - len(text)) + "}"


def send_all(peer, msg_id, text, reply_address, timeout=60.0):
    """Send every chunk, paced, until the server answers `reply_address`
    (or an error) for msg_id; chunks are sent again while it stays silent."""
    chunks = p.split_text(text)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for i, chunk in enumerate(chunks):
            peer.send(p.REQUEST, msg_id, peer.port, i, len(chunks), chunk)
            if i % 20 == 19:
                time.sleep(0.002)  # the server's socket buffer holds ~30 chunks
        try:
            while True:
                address, args = peer.recv(3.0)
                if args and args[0] == msg_id and address in (reply_address, p.ERROR):
                    return address, args
        except TimeoutError:
            continue
    raise AssertionError(f"no {reply_address} for {msg_id} within {timeout:.0f} s")


def test_a_request_of_exactly_8_mib_is_answered_and_one_more_character_is_too_large(serve):
    assert p.MAX_REQUEST_CHARS == LIMITS["payload_bytes"] == 8 * 1024 * 1024
    server = serve()
    peer = Peer(server.port)
    try:
        address, args = send_all(peer, "at-limit", padded(p.MAX_REQUEST_CHARS), p.ACK)
        assert address == p.ACK, args
        _, index, count, chunk = peer.wait_for(p.RESULT, "at-limit", timeout=60)
        assert index == 0 and '"variations"' in chunk
        address, args = send_all(peer, "over-limit", padded(p.MAX_REQUEST_CHARS + 1), p.ACK)
        assert address == p.ERROR and args[1] == "too_large", args
        assert str(p.MAX_REQUEST_CHARS) in args[2]
    finally:
        peer.close()


def test_the_client_refuses_a_request_over_the_chunk_limit_before_sending(serve):
    server = serve()
    big = dict(fill(4.0, 5.0), pad="x" * (p.MAX_CHUNKS * p.CHUNK_CHARS))
    with Client(port=server.port, timeout=2) as client:
        started = time.monotonic()
        with pytest.raises(TooLarge, match=str(p.MAX_REQUEST_CHARS)):
            client.request(big)
        assert time.monotonic() - started < 1.5  # refused at once, nothing was waited for
        assert server.alive()
        assert_inside(client.request(fill(4.0, 5.0)), 4.0, 5.0)
