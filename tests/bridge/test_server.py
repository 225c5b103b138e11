"""The OSC bridge over real UDP: the real server on a free loopback port, the
real engine (the tiny test checkpoint), the Python client, raw datagrams and
liblo's oscsend/oscdump as clients written elsewhere."""

import logging
import os
import random
import socket
import subprocess
import threading
import time

import pytest
from pythonosc.osc_message_builder import OscMessageBuilder

from midifill.bridge import protocol as p
from midifill.bridge.client import Client, NoServerError, ServerError
from midifill.bridge.server import Server
from tests.support import read_lines, require_tool
from tests.support.osc import LOG, Gate, Peer, assert_inside, fill

# --- round trips -----------------------------------------------------------------


def test_ping_status_and_a_fill_round_trip(serve, engine):
    server = serve()
    with Client(port=server.port) as client:
        pong = client.ping("p1")
        assert pong == {"id": "p1", "version": "0.1.0", "model": engine.name}
        status = client.status()
        assert status["model"] == engine.name and status["queue"] == 0
        assert status["running"] is None and status["queue_limit"] == 16
        acks, progress = [], []
        response = client.request(fill(4.0, 8.0), on_ack=acks.append, on_progress=progress.append)
    assert_inside(response, 4.0, 8.0)
    assert response["model"] == engine.name and acks == [0]
    assert all(0.0 <= f <= 1.0 for f in progress)


def test_answers_go_to_the_named_reply_port_not_the_source_port(serve):
    server = serve()
    sender, listener = Peer(server.port), Peer(server.port)
    try:
        sender.send(p.PING, listener.port, "p-elsewhere")
        assert listener.wait_for(p.PONG, "p-elsewhere")[0] == "p-elsewhere"
        with pytest.raises(socket.timeout):
            sender.recv(0.3)
    finally:
        sender.close(), listener.close()


# --- a generation in progress: ping, status, cancel, busy ----------------------------


def test_ping_and_status_answer_while_a_generation_runs(serve):
    gate = Gate()
    server = serve(progress_hook=gate)
    result = {}
    worker = threading.Thread(
        target=lambda: result.update(
            answer=Client(port=server.port, timeout=30).request(fill(), msg_id="long-1")
        )
    )
    worker.start()
    assert gate.entered.wait(20), "the engine never reported progress"
    with Client(port=server.port, timeout=2) as client:
        for _ in range(5):
            started = time.monotonic()
            client.ping()
            assert time.monotonic() - started < 0.5
        assert client.status()["running"] is True  # another client's request: not its id
    assert gate.seen[0][0] == "long-1"
    gate.release.set()
    worker.join(20)
    assert_inside(result["answer"], 4.0, 8.0)


def test_ping_answers_during_a_long_unhooked_generation_then_cancel_stops_it(serve):
    server = serve()
    owner = Peer(server.port)
    owner.send(p.REQUEST, "huge", owner.port, 0, 1, p.encode_json(fill(0.0, 64.0, variations=8)))
    with Client(port=server.port, timeout=2) as client:
        deadline = time.monotonic() + 10
        while client.status()["running"] is None:
            assert time.monotonic() < deadline
        latencies = []
        for _ in range(5):
            started = time.monotonic()
            client.ping()
            latencies.append(time.monotonic() - started)
        assert client.status()["running"] is True, "the generation ended too soon to test"
        owner.send(p.STATUS, owner.port, "s-owner")
        assert owner.wait_for(p.STATUS, "s-owner")[1].count('"running":"huge"') == 1
        owner.send(p.CANCEL, "huge", owner.port)  # its sender cancels it
    assert owner.wait_for(p.ERROR, "huge", timeout=20)[1] == "cancelled"
    owner.close()
    assert max(latencies) < 0.5, latencies


def test_cancel_a_queued_and_a_running_request(serve):
    gate = Gate()
    server = serve(progress_hook=gate)
    peer, canceller = Peer(server.port), Client(port=server.port)
    try:
        peer.send(p.REQUEST, "run-1", peer.port, 0, 1, p.encode_json(fill()))
        assert peer.wait_for(p.ACK, "run-1") == ["run-1", 0]
        assert gate.entered.wait(20)
        peer.send(p.REQUEST, "queued-1", peer.port, 0, 1, p.encode_json(fill()))
        assert peer.wait_for(p.ACK, "queued-1") == ["queued-1", 1]
        canceller.cancel("queued-1")  # another client: confirmed, and nothing happens
        peer.send(p.STATUS, peer.port, "s-1")
        assert '"queue":1' in peer.wait_for(p.STATUS, "s-1")[1]
        peer.send(p.CANCEL, "queued-1", peer.port)  # its sender
        assert peer.wait_for(p.ERROR, "queued-1")[1] == "cancelled"
        peer.send(p.CANCEL, "run-1", peer.port)
        # the engine is released only once the server has taken the cancel
        # (its confirmation), so the run cannot finish before it
        assert peer.wait_for(p.CANCELLED, "run-1") == ["run-1"]
        gate.release.set()
        assert peer.wait_for(p.ERROR, "run-1")[1] == "cancelled"
        canceller.cancel("never-sent")  # unknown ids are confirmed too
        assert canceller.request(fill(4.0, 5.0))["variations"]
    finally:
        gate.release.set()
        peer.close(), canceller.close()


def test_a_full_queue_answers_busy_at_once(serve):
    gate = Gate()
    server = serve(progress_hook=gate, queue_limit=2)
    peer = Peer(server.port)
    try:
        for i, msg_id in enumerate(["b0", "b1", "b2"]):
            peer.send(p.REQUEST, msg_id, peer.port, 0, 1, p.encode_json(fill(4.0, 5.0)))
            assert peer.wait_for(p.ACK, msg_id) == [msg_id, i]
            assert gate.entered.wait(20)
        started = time.monotonic()
        with pytest.raises(ServerError) as err:
            Client(port=server.port).request(fill(4.0, 5.0), msg_id="b3")
        assert err.value.code == "busy" and time.monotonic() - started < 1.0
        assert "queue is full" in err.value.message
        gate.release.set()
        for msg_id in ("b0", "b1", "b2"):
            assert peer.wait_for(p.RESULT, msg_id, timeout=20)[0] == msg_id
    finally:
        gate.release.set()
        peer.close()


class OwnedLock:
    """A lock that knows which thread holds it."""

    def __init__(self):
        self._lock, self.owner = threading.Lock(), None

    def acquire(self, blocking=True, timeout=-1):
        got = self._lock.acquire(blocking, timeout)
        if got:
            self.owner = threading.get_ident()
        return got

    def release(self):
        self.owner = None
        self._lock.release()

    def _is_owned(self):
        return self.owner == threading.get_ident()

    __enter__ = acquire

    def __exit__(self, *exc):
        self.release()


def test_no_datagram_is_sent_while_the_shared_state_is_locked(engine):
    server = Server(engine, "127.0.0.1", 0, incomplete_timeout=0.3)
    jobs = server.jobs
    jobs.lock = OwnedLock()
    jobs._wake = threading.Condition(jobs.lock)
    sent, send = [], server.send

    def checked_send(host, port, address, *args):
        sent.append((address, args[0] if args else None, jobs.lock._is_owned()))
        send(host, port, address, *args)

    server.send = checked_send
    server.start()
    peer = Peer(server.port)
    try:
        with Client(port=server.port) as client:
            client.ping(), client.status()
        # the peer sends "whole": resends and replays answer its sender only
        peer.send(p.REQUEST, "whole", peer.port, 0, 1, p.encode_json(fill(4.0, 5.0)))
        peer.wait_for(p.RESULT, "whole", timeout=30)
        peer.send(p.RESEND, "whole", peer.port, 0)
        peer.wait_for(p.RESULT, "whole")
        first = p.split_json(fill(4.0, 5.0))[0]
        peer.send(p.REQUEST, "whole", peer.port, 0, 1, first)  # both lost: ack and all again
        peer.wait_for(p.RESULT, "whole")
        peer.send(p.REQUEST, "half", peer.port, 0, 2, "{")
        peer.wait_for(p.ERROR, "half", timeout=3)
        peer.send(p.CANCEL, "nothing", peer.port)
        peer.wait_for(p.CANCELLED, "nothing")
    finally:
        peer.close()
        server.stop()
    assert not [s for s in sent if s[2]], "sent while holding the lock"
    order = [address for address, msg_id, _ in sent if msg_id == "whole"]
    assert order[0] == p.ACK and p.RESULT in order  # the ack before any progress or result
    assert {p.PONG, p.STATUS, p.ACK, p.RESULT, p.ERROR, p.CANCELLED} <= {s[0] for s in sent}


# --- bad input and lost datagrams ------------------------------------------------------


def malformed_datagrams(port, rng):
    """(datagram, id or None, expected error code or None) of every kind."""

    def msg(address, *args):
        builder = OscMessageBuilder(address=address)
        for arg in args:
            builder.add_arg(*arg) if isinstance(arg, tuple) else builder.add_arg(arg)
        return builder.build().dgram

    kinds = [
        lambda i: (bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 300))), None, None),
        lambda i: (b"/midifill/ping\x00\x00,is\x00\x00\x00", None, None),  # truncated
        lambda i: (b"#bundle\x00" + os.urandom(20), None, None),
        lambda i: (b"/midifill/request\x00\x00\x00,s\x00\x00\xff\xfe\xfd\x00", None, None),
        lambda i: (msg("/midifill/nope", port, f"u{i}"), f"u{i}", "unknown_address"),
        lambda i: (msg("/midifill/*", port, f"w{i}"), f"w{i}", "unknown_address"),  # a pattern
        lambda i: (msg("/other/app", 1.5), "", "unknown_address"),  # to the source port
        lambda i: (msg(p.PING, str(port), f"x{i}"), None, None),  # port as string
        lambda i: (msg(p.PING, f"x{i}", port), None, None),  # swapped
        lambda i: (msg(p.STATUS, port, (1.5, "f")), None, None),
        lambda i: (msg(p.REQUEST, f"m{i}", port, 5, 2, "{}"), f"m{i}", "bad_chunk"),
        lambda i: (msg(p.REQUEST, f"m{i}", port, 0, 0, "{}"), f"m{i}", "bad_chunk"),
        lambda i: (msg(p.REQUEST, f"m{i}", port, 0, 10**6, "{}"), f"m{i}", "too_large"),
        lambda i: (msg(p.REQUEST, f"m{i}", port, 0, 1, "{not json"), f"m{i}", "bad_json"),
        lambda i: (msg(p.REQUEST, f"m{i}", port, 0, 1, "[1, 2]"), f"m{i}", "bad_json"),
        lambda i: (msg(p.REQUEST, f"m{i}", port, "zero", 1, "{}"), f"m{i}", "bad_args"),
        lambda i: (msg(p.REQUEST, f"m{i}", port, 0, 1), f"m{i}", "bad_args"),
        lambda i: (msg(p.REQUEST, f"m{i}", port, 0, 1, "x" * 7000), f"m{i}", "too_large"),
        lambda i: (msg(p.REQUEST, "bad id!", port, 0, 1, "{}"), "bad id!", "bad_args"),
        lambda i: (msg(p.CANCEL, f"m{i}", port, ("extra", "s"), 3), f"m{i}", "bad_args"),
        lambda i: (msg(p.RESEND, f"m{i}", port, 0), f"m{i}", "bad_chunk"),  # unknown id
        lambda i: (msg(p.PING, port, f"m{i}", True), f"m{i}", "bad_args"),
    ]
    for i in range(1000):
        yield kinds[i % len(kinds)](i)


def test_a_thousand_malformed_datagrams_then_a_normal_request(serve, caplog):
    server = serve()
    peer = Peer(server.port)
    expected, answers = {}, {}
    caplog.set_level(logging.WARNING, logger=LOG)

    def collect():  # read while sending, so the socket buffer never overflows
        for address, args in peer.drain(1.5):
            if address == p.ERROR:
                answers[args[0]] = (args[1], args[2])

    reader = threading.Thread(target=collect)
    reader.start()
    try:
        pacer = Client(port=server.port)
        for n, (data, msg_id, code) in enumerate(malformed_datagrams(peer.port, random.Random(7))):
            peer.send_raw(data)
            if msg_id is not None:
                expected[msg_id] = code
            if n % 100 == 99:  # the server answers in order: all before the pong are handled
                pacer.ping()
        pacer.close()
        # A few requests the engine rejects: each one names the field.
        for i, bad in enumerate(
            [
                {"mode": "sing"},
                {**fill(), "tracks": "none"},
                {**fill(), "controls": {"variations": 99}},
            ]
        ):
            peer.send(p.REQUEST, f"engine-{i}", peer.port, 0, 1, p.encode_json(bad))
            expected[f"engine-{i}"] = "bad_request"
        with Client(port=server.port, timeout=20) as client:
            assert_inside(client.request(fill(4.0, 5.0)), 4.0, 5.0)
        reader.join(10)
    finally:
        peer.close()
    assert server.alive()
    assert {k: v[0] for k, v in answers.items()} == expected
    assert "mode" in answers["engine-0"][1] and "tracks" in answers["engine-1"][1]
    assert "variations" in answers["engine-2"][1]
    # logged, but rate-limited: a flood costs a few lines, which count what they left out
    dropped = [r for r in caplog.records if r.name == LOG and r.levelno >= logging.WARNING]
    assert 10 <= len(dropped) < 300
    assert not [r for r in caplog.records if r.exc_info], "no traceback for bad input"
    text = caplog.text
    for phrase in (
        "not OSC",
        "unknown address",
        "bad_chunk",
        "bad_json",
        "bad_args",
        "bad_request",
    ):
        assert phrase in text


def test_an_incomplete_request_is_dropped_and_answered(serve):
    server = serve(incomplete_timeout=0.3)
    peer = Peer(server.port)
    try:
        peer.send(p.REQUEST, "half", peer.port, 1, 3, "xx")
        code, message = peer.wait_for(p.ERROR, "half", timeout=3)[1:]
        assert code == "incomplete" and "2 of 3 chunks" in message
        assert server.status()["queue"] == 0 and not server.jobs.assembling
    finally:
        peer.close()


class LossyClient(Client):
    """The real client over real UDP, losing datagrams both ways on purpose:
    every third request chunk the first time it goes out, and the first
    copy of the ack and of every result chunk that comes in."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sent, self.seen = 0, set()
        self.dropped_out = self.dropped_in = 0

    def _send(self, address, *args):
        self.sent += 1
        if address == p.REQUEST and self.sent % 3 == 0 and self.sent < 20:
            self.dropped_out += 1
            return
        super()._send(address, *args)

    def _receive(self, wait):
        message = super()._receive(wait)
        if message and message[0] in (p.RESULT, p.ACK):
            key = (message[0], message[1][1] if message[0] == p.RESULT else None)
            if key not in self.seen:
                self.seen.add(key)
                self.dropped_in += 1
                return None
        return message


def test_the_client_retries_lost_chunks_both_ways(serve):
    server = serve()
    request = fill(
        0.0,
        8.0,
        variations=4,
        seed=5,
        notes=[[40 + i % 7, 8 + i * 0.25, 0.25, 90] for i in range(1500)],
    )
    with LossyClient(port=server.port, timeout=20) as client:
        response = client.request(request)
    assert_inside(response, 0.0, 8.0)
    chunks_out, chunks_in = len(p.split_json(request)), len(p.split_json(response))
    assert chunks_out > 3 and client.dropped_out >= 2
    assert client.dropped_in == 1 + chunks_in  # the ack and every result chunk, once each


def test_a_token_guards_every_message(serve):
    server = serve(token="s3cret")
    # a sender that fails the token gets nothing back, not even an error
    with Client(port=server.port, timeout=1) as stranger:
        with pytest.raises(NoServerError):
            stranger.ping()
        with pytest.raises(NoServerError):
            stranger.request(fill(4.0, 5.0))
    peer = Peer(server.port)
    peer.send("/midifill/nothing", peer.port, "x")
    peer.send(p.PING, peer.port, "p-1", "wrong")
    assert peer.drain(0.5) == []
    peer.close()
    with Client(port=server.port, timeout=10, token="s3cret") as friend:
        assert friend.ping()["version"] == "0.1.0"
        assert friend.request(fill(4.0, 5.0))["variations"]


def test_no_server_is_a_clear_error(serve):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.monotonic()
    with Client(port=port, timeout=0.5) as client, pytest.raises(NoServerError) as err:
        client.request(fill())
    assert "midifill serve" in str(err.value) and time.monotonic() - started < 2


# --- liblo: an OSC implementation written elsewhere -------------------------------------


def _liblo(name):
    return require_tool(name)  # Debian liblo-tools


def test_liblo_oscsend_ping_and_oscdump_receives_the_pong(serve, engine):
    oscsend, oscdump = _liblo("oscsend"), _liblo("oscdump")
    server = serve()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        dump_port = s.getsockname()[1]
    dump = subprocess.Popen([oscdump, "-L", str(dump_port)], stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(0.3)  # let oscdump bind
        for address, types, values in [
            (p.PING, "is", [str(dump_port), "liblo-1"]),
            (p.STATUS, "is", [str(dump_port), "liblo-2"]),
            (p.PING, "ss", ["nine", "liblo-3"]),
            (p.CANCEL, "si", ["liblo-4", str(dump_port)]),
        ]:
            subprocess.run(
                [oscsend, "127.0.0.1", str(server.port), address, types, *values],
                check=True,
                timeout=5,
            )
        # "<timetag> <address> <types> <args>"; a lost reply ends the wait, not the run
        lines = [line.strip().split(" ", 1)[-1] for line in read_lines(dump.stdout, 3, 5.0)]
    finally:
        dump.terminate()
        dump.wait(5)
    assert len(lines) == 3, lines
    assert lines[0] == f'/midifill/pong sss "liblo-1" "0.1.0" "{engine.name}"'
    assert lines[1].startswith('/midifill/status ss "liblo-2" "{') and '"queue":0' in lines[1]
    assert lines[2] == '/midifill/cancelled s "liblo-4"'  # the bad ping had no usable port


def test_liblo_oscsend_sends_a_whole_request(serve):
    oscsend = _liblo("oscsend")
    server = serve()
    peer = Peer(server.port)
    try:
        subprocess.run(
            [
                oscsend,
                "127.0.0.1",
                str(server.port),
                p.REQUEST,
                "siiis",
                "liblo-req",
                str(peer.port),
                "0",
                "1",
                p.encode_json(fill(4.0, 5.0)),
            ],
            check=True,
            timeout=5,
        )
        assert peer.wait_for(p.ACK, "liblo-req") == ["liblo-req", 0]
        _, index, count, chunk = peer.wait_for(p.RESULT, "liblo-req", timeout=20)
        assert (index, count) == (0, 1) and '"variations"' in chunk
    finally:
        peer.close()


# --- no loops, no amplification, clients apart (issue 30) --------------------------


class Counted:
    """The server's socket, counting what it sends (sendto is read-only on a
    socket, so the receiver's socket is wrapped)."""

    def __init__(self, server):
        self.real, self.sent = server._receiver.socket, []
        server._receiver.socket = self

    def sendto(self, data, to):
        self.sent.append((to, len(data)))
        return self.real.sendto(data, to)

    def __getattr__(self, name):
        return getattr(self.real, name)


def test_a_ping_naming_the_servers_own_port_makes_no_loop(serve, caplog):
    server = serve()
    peer = Peer(server.port)
    try:
        counted = Counted(server)
        sent = counted.sent
        peer.send(p.PING, server.port, "self")  # its pong would go to the server itself
        peer.send(p.PONG, "p", "0.1.0", "m")  # a reply arriving: never answered
        peer.send(p.ERROR, "e", "bad", "x")
        time.sleep(0.5)
        assert sent == [] and peer.drain(0.2) == []
        peer.send(p.PING, peer.port, "after")
        assert peer.wait_for(p.PONG, "after")
    finally:
        peer.close()


def test_two_servers_do_not_talk_in_a_loop(serve):
    a, b = serve(), serve()
    peer = Peer(a.port)
    ca, cb = Counted(a), Counted(b)
    peer.send(p.PING, b.port, "x")  # a's pong goes to b, which must not answer it
    time.sleep(0.5)
    assert [to for to, _ in ca.sent + cb.sent] == [("127.0.0.1", b.port)]
    peer.close()


def test_a_bundle_of_resends_is_answered_at_most_four_times_its_size(serve):
    server = serve()
    peer = Peer(server.port)
    try:
        response = Client(port=server.port, timeout=30).request(
            fill(0.0, 16.0, variations=8), msg_id="big-1"
        )
        assert response["variations"]
        # the Client's reply port owns "big-1"; resends for it from the peer's
        # port are another client's, and name the owner's port to be answered
        from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder

        owner_port = server.jobs.kept["big-1"].reply[1]
        bundle = OscBundleBuilder(IMMEDIATELY)
        for _ in range(400):
            msg = OscMessageBuilder(address=p.RESEND)
            for arg in ("big-1", owner_port, 0):
                msg.add_arg(arg)
            bundle.add_content(msg.build())
        data = bundle.build().dgram
        counted = Counted(server)
        peer.send_raw(data)
        time.sleep(1.0)
        out = sum(n for _, n in counted.sent)
        assert 0 < out <= 4 * len(data), (out, len(data))
    finally:
        peer.close()


def test_a_request_is_seen_resent_and_cancelled_by_its_sender_only(serve):
    gate = Gate()
    server = serve(progress_hook=gate)
    owner, other = Peer(server.port), Peer(server.port)
    try:
        owner.send(p.REQUEST, "mine", owner.port, 0, 1, p.encode_json(fill()))
        assert gate.entered.wait(20)
        other.send(p.STATUS, other.port, "s")
        assert '"running":true' in other.wait_for(p.STATUS, "s")[1]
        other.send(p.CANCEL, "mine", other.port)
        assert other.wait_for(p.CANCELLED, "mine")
        other.send(p.RESEND, "mine", other.port, 0)
        assert other.wait_for(p.ERROR, "mine")[1] == "bad_chunk"  # as if unknown
        gate.release.set()
        result = owner.wait_for(p.RESULT, "mine", timeout=20)  # not cancelled
        assert result[1] == 0
        other.send(p.RESEND, "mine", other.port, 0)
        assert other.wait_for(p.ERROR, "mine")[1] == "bad_chunk"
        owner.send(p.RESEND, "mine", owner.port, 0)
        assert owner.wait_for(p.RESULT, "mine")[3] == result[3]
    finally:
        gate.release.set()
        owner.close(), other.close()


def test_json_that_would_build_millions_of_values_is_refused_before_parsing(serve):
    server = serve()
    peer = Peer(server.port)
    try:
        text = '{"a":[' + ",".join(["[]"] * 500_000) + "]}"  # 1.5 MB, half a million lists
        chunks = p.split_text(text)
        for i, chunk in enumerate(chunks):
            peer.send(p.REQUEST, "lists", peer.port, i, len(chunks), chunk)
        error = peer.wait_for(p.ERROR, "lists", timeout=20)
        assert error[1] == "too_large" and "values" in error[2]
        assert p.json_values(p.encode_json(fill())) < 200
    finally:
        peer.close()
