"""The OSC tests' requests, checks and raw peers (tests/bridge/)."""

import socket
import subprocess
import sys
import threading
import time

from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from tests.support import ROOT

LOG = "midifill.bridge"


def fill(start=4.0, end=8.0, variations=1, seed=1, notes=None, mode="fill"):
    """A bass line over two bars around the target, as a DAW script sends it."""
    notes = notes if notes is not None else [[40 + i % 5, i * 0.5, 0.5, 96] for i in range(32)]
    return {
        "mode": mode,
        "time_signature": [4, 4],
        "tempo": 120.0,
        "tracks": [{"id": "bass", "program": 33, "is_drum": False, "notes": notes}],
        "target": {"track": "bass", "start": start, "end": end},
        "controls": {"seed": seed, "variations": variations},
    }


def assert_inside(response, start, end):
    assert response["variations"], response
    for variation in response["variations"]:
        for pitch, onset, duration, velocity in variation["notes"]:
            assert start <= onset < end and 0 <= pitch <= 127 and 1 <= velocity <= 127
            # the whole note, not its start alone (beats come rounded to 6 decimals)
            assert duration > 0 and onset + duration <= end + 2e-6, (onset, duration, end)


class Gate:
    """A progress hook that holds the real engine mid-generation."""

    def __init__(self):
        self.entered, self.release = threading.Event(), threading.Event()
        self.seen = []

    def __call__(self, job_id, fraction):
        self.seen.append((job_id, fraction))
        self.entered.set()
        self.release.wait(timeout=30)


class Peer:
    """A bare OSC-over-UDP socket, to send exactly what a test needs."""

    def __init__(self, server_port):
        self.server = ("127.0.0.1", server_port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 21)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]

    def send(self, address, *args):
        builder = OscMessageBuilder(address=address)
        for arg in args:
            builder.add_arg(*arg) if isinstance(arg, tuple) else builder.add_arg(arg)
        self.send_raw(builder.build().dgram)

    def send_raw(self, data):
        self.sock.sendto(data, self.server)

    def recv(self, timeout=10.0):
        self.sock.settimeout(timeout)
        message = OscMessage(self.sock.recv(65535))
        return message.address, list(message.params)

    def wait_for(self, address, msg_id, timeout=10.0):
        deadline = time.monotonic() + timeout
        while True:
            got = self.recv(max(0.01, deadline - time.monotonic()))
            if got[0] == address and got[1][0] == msg_id:
                return got[1]

    def drain(self, seconds):
        got = []
        try:
            while True:
                got.append(self.recv(seconds))
        except TimeoutError:
            return got

    def close(self):
        self.sock.close()


def midifill(*args, stdin=None, timeout=30):
    return subprocess.run(
        [sys.executable, "-m", "midifill.bridge.cli", *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
