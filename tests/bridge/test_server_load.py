"""The OSC bridge under load, over real UDP with the real engine: 8 clients
sending 25 requests each at once.

Payloads over 64 KB (more than one UDP datagram could ever carry) both
ways, over real UDP with the real engine, while pings are answered.

Its own file because the result takes the tiny model 20-30 s to write on two
shared cores: a 64 KB result is ~2,500 notes.

The 8 MB request limit over real UDP (docs/osc.md, Limits): a request of
exactly 8 MiB of JSON is reassembled and answered; one character more is
refused with too_large; the client refuses what the server would before
sending it."""

import concurrent.futures
import threading
import time

import pytest

from midifill.bridge import protocol as p
from midifill.bridge.client import Client, TooLarge
from midifill.model.generation.request import LIMITS
from tests.support.osc import Peer, assert_inside, fill


@pytest.mark.slow
def test_eight_clients_times_25_requests_each_get_their_own_answer(serve):
    server = serve()
    # Each request targets its own half beat, so an answer given to the
    # wrong request would show notes outside the range it asked for.
    ranges = [(beat, beat + 0.5) for beat in (4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0)]

    def one_client(c):
        notes = 0
        with Client(port=server.port, timeout=20) as client:
            for r in range(25):
                start, end = ranges[(c + r) % len(ranges)]
                request = fill(start, end, seed=c * 100 + r)
                request["controls"]["max_polyphony"] = 1  # short answers keep this quick
                response = client.request(request, msg_id=f"c{c}-r{r}")
                assert_inside(response, start, end)
                notes += len(response["variations"][0]["notes"])
        return notes

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        notes = list(pool.map(one_client, range(8)))
    print(f"200 requests from 8 clients in {time.monotonic() - started:.1f} s, {sum(notes)} notes")
    assert sum(notes) >= 100  # the range check above had notes to look at


def test_request_and_result_over_64_kb_while_pings_are_answered(serve):
    server = serve()
    # The request: 3,600 context notes (chords) after the target. The result:
    # 44 bars in 8 variations, written densely: about 80 KB from the tiny
    # model.
    context = [[36 + (i * 7) % 36, 176.0 + (i // 3) * 0.25, 0.25, 100] for i in range(3600)]
    request = fill(0.0, 176.0, variations=8, seed=3, notes=context)
    request["controls"].update(temperature=1.5, density=64, max_polyphony=32)
    assert len(p.encode_json(request)) > 64 * 1024
    answer, progress = {}, []

    def send():
        try:
            with Client(port=server.port, timeout=30) as client:
                answer["response"] = client.request(
                    request, msg_id="big", on_progress=progress.append
                )
        except Exception as exc:  # reported below, on the test's thread
            answer["error"] = exc

    worker = threading.Thread(target=send)
    worker.start()
    latencies = []
    with Client(port=server.port, timeout=2) as pinger:
        deadline = time.monotonic() + 20
        while pinger.status()["running"] is None:  # another client's: true, not its id
            assert time.monotonic() < deadline, "the big request never started"
        # pings while the generation runs (it may be quick on a fast, idle
        # machine: only pings answered while it still ran count)
        while len(latencies) < 10 and pinger.status()["running"] is True:
            started = time.monotonic()
            pinger.ping()
            latencies.append(time.monotonic() - started)
            time.sleep(0.05)
    worker.join(120)
    assert "error" not in answer, answer["error"]
    response = answer["response"]
    size = len(p.encode_json(response))
    print(
        f"result {size} bytes in {len(p.split_json(response))} chunks; "
        f"ping max {max(latencies) * 1000:.0f} ms"
    )
    assert len(latencies) >= 3, "the generation ended before 3 pings: make it longer"
    assert max(latencies) < 0.5, latencies
    assert size > 64 * 1024
    assert len(response["variations"]) == 8 and progress
    assert_inside(response, 0.0, 176.0)


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


@pytest.mark.promise
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


@pytest.mark.promise
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
