"""The OSC bridge between DAW scripts and the engine (`midifill serve`
starts it: bridge/cmd_serve.py).

One thread receives datagrams: it parses, checks, reassembles chunks and
queues; it never runs the model, so ping, status and cancel are answered
while a generation runs. One worker thread runs the engine (which is not
thread-safe) on queued requests, one at a time. The handlers of each
address are in bridge/handlers.py, the state both threads share in
bridge/jobs.py; docs/osc.md is the reference for every address.
"""

from __future__ import annotations

import logging
import socket
import socketserver
import threading
import time

from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_packet import OscPacket
from pythonosc.osc_server import BlockingOSCUDPServer

from midifill.model.errors import Cancelled, MidifillError, quote
from midifill.model.limits import OSC_PORT, version

from . import protocol as p
from .handlers import HANDLERS, on_unknown
from .jobs import ACK_WAIT_S, Job, Jobs, Outcome

log = logging.getLogger("midifill.bridge")


class LogLimiter:
    """Log lines about bad input, at most `burst` at once and `rate` a second
    per kind: a flood of garbage costs one line now and then, and the next
    line that is written says how many were left out."""

    def __init__(self, rate: float = 1.0, burst: int = 10):
        self.rate, self.burst = rate, burst
        self._state: dict[str, list] = {}  # kind -> [tokens, last time, left out]
        self._lock = threading.Lock()

    def __call__(self, kind: str, level: int, fmt: str, *args, exc_info=False) -> bool:
        now = time.monotonic()
        with self._lock:
            state = self._state.setdefault(kind, [float(self.burst), now, 0])
            state[0] = min(self.burst, state[0] + (now - state[1]) * self.rate)
            state[1] = now
            if state[0] < 1:
                state[2] += 1
                return False
            state[0] -= 1
            left_out, state[2] = state[2], 0
        if left_out:
            fmt, args = fmt + " (and %d more like this not logged)", args + (left_out,)
        log.log(level, fmt, *args, exc_info=exc_info)
        return True


class Server:
    """The OSC bridge; tests start it in-process on port 0 and stop it.

    `progress_hook(job_id, fraction)` is called on the worker thread each
    time the engine reports progress, before the progress is sent: tests
    use it to hold a real generation mid-run.
    """

    def __init__(
        self,
        engine,
        host: str = "127.0.0.1",
        port: int = OSC_PORT,
        *,
        token: str | None = None,
        queue_limit: int = 16,
        incomplete_timeout: float = p.INCOMPLETE_TIMEOUT_S,
        result_ttl: float = p.RESULT_TTL_S,
        progress_hook=None,
    ):
        self.engine = engine
        self.model_name = getattr(engine, "name", "unknown")
        self.host, self.port = host, port
        self.token = token or None
        self.progress_hook = progress_hook
        self.started = time.monotonic()
        # the state both threads share, behind its own lock
        self.jobs = Jobs(queue_limit, result_ttl=result_ttl, incomplete_timeout=incomplete_timeout)
        self._last_sweep = 0.0
        self._receiver: _Receiver | None = None
        self.log_limited = LogLimiter()
        self.routes: dict = {}  # address -> callback; matched literally, never as a pattern
        self._threads: list[threading.Thread] = []
        self._budget = threading.local()  # bytes the datagram being handled may answer

    # --- life cycle -------------------------------------------------------

    def start(self) -> Server:
        # Addresses are looked up literally: python-osc's Dispatcher would match
        # "/midifill/*" or "{ping,status}" as patterns against every handler.
        self.routes = {address: self._route(handler) for address, handler in HANDLERS.items()}
        self.unknown_route = self._route(on_unknown)
        self._receiver = _Receiver((self.host, self.port), Dispatcher(), self)
        self.port = self._receiver.server_address[1]
        self._threads = [
            threading.Thread(
                target=self._receiver.serve_forever,
                kwargs={"poll_interval": 0.1},
                name="midifill-osc-receive",
                daemon=True,
            ),
            threading.Thread(target=self._work, name="midifill-engine", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        log.info("listening on udp %s:%d, model %s", self.host, self.port, self.model_name)
        return self

    def stop(self) -> None:
        self.jobs.stop()
        if self._receiver:
            self._receiver.shutdown()
            self._receiver.server_close()
        for thread in self._threads:
            thread.join(timeout=10)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    def alive(self) -> bool:
        return bool(self._threads) and all(t.is_alive() for t in self._threads)

    # --- helpers for the handlers ------------------------------------------

    def parse(self, address: str, args: tuple) -> dict:
        return p.parse_args(address, args, self.token)

    def send(self, host: str, port: int, address: str, *args) -> None:
        """Send one message. Never to the server's own port on this machine
        (no loop through itself); from the receiving thread, never more than
        its budget for the datagram being handled (protocol.REPLY_FACTOR)."""
        if port == self.port and _is_here(host, self.host):
            self.log_limited(
                "self",
                logging.WARNING,
                "not sending %s to the server's own address %s:%d",
                address,
                host,
                port,
            )
            return
        builder = OscMessageBuilder(address=address)
        for arg in args:
            builder.add_arg(arg)
        dgram = builder.build().dgram
        budget = getattr(self._budget, "left", None)
        if budget is not None and threading.current_thread() is self._threads[0]:
            if len(dgram) > budget:
                self.log_limited(
                    "budget",
                    logging.WARNING,
                    "not sending %s to %s:%d: the "
                    "answers to one datagram may be at most %d times its size",
                    address,
                    host,
                    port,
                    p.REPLY_FACTOR,
                )
                return
            self._budget.left = budget - len(dgram)
        try:
            self._receiver.socket.sendto(dgram, (host, port))
        except OSError as exc:  # a vanished client must not stop the server
            log.warning("could not send %s to %s:%d: %s", address, host, port, exc)

    def send_error(self, reply: tuple[str, int], msg_id: str, code: str, message: str) -> None:
        # cut to fit one datagram: a message may quote whatever a request held
        self.send(reply[0], reply[1], p.ERROR, msg_id[:200], code, p.error_message(message))

    def send_outcome(self, outcome: Outcome) -> None:
        if outcome.error:
            self.send_error(outcome.reply, outcome.id, *outcome.error)
            return
        for index, chunk in enumerate(outcome.chunks):
            self.send(*outcome.reply, p.RESULT, outcome.id, index, len(outcome.chunks), chunk)

    def status(self, asker: tuple[str, int] | None = None) -> dict:
        return {
            "version": version(),
            "model": self.model_name,
            "uptime_s": round(time.monotonic() - self.started, 1),
            **self.jobs.counts(asker),
        }

    def _route(self, handler):
        """Adapt a plain handler to python-osc's callback, and make sure that
        whatever goes wrong is logged and, when the message names an id and a
        reply port, answered."""

        def callback(client_address, address, *args):
            try:
                handler(self, client_address, address, args)
            except p.ProtocolError as exc:
                self._answer_failure(client_address, address, args, exc.code, exc.message)
            except Exception as exc:  # a bug: log it, answer it, keep serving
                self.log_limited(
                    "internal", logging.ERROR, "handler for %s failed", address, exc_info=True
                )
                self._answer_failure(
                    client_address, address, args, "internal", f"{type(exc).__name__}: {exc}"
                )

        return callback

    def _answer_failure(self, sender, address, args, code, message) -> None:
        msg_id, port = p.reply_target(address, args) if address in p.SCHEMAS else (None, None)
        self.log_limited(
            "failure",
            logging.WARNING,
            "%s from %s:%d (id %s): %s: %s",
            address,
            sender[0],
            sender[1],
            msg_id,
            code,
            p.error_message(message)[:300],
        )
        if code == "unauthorized":
            return  # a sender that failed the token gets nothing back
        if msg_id and port:
            self.send_error((sender[0], port), msg_id, code, message)

    def sweep(self) -> None:
        """Drop incomplete requests and expired results (receiving thread)."""
        now = time.monotonic()
        if now - self._last_sweep < 0.1:
            return
        self._last_sweep = now
        for msg_id, reply, message in self.jobs.expire(now):
            log.warning("request %s incomplete: %s", msg_id, message)
            self.send_error(reply, msg_id, "incomplete", message)

    # --- the worker ----------------------------------------------------------

    def _work(self) -> None:
        while True:
            job = self.jobs.next()
            if job is None:
                return
            job.acked.wait(ACK_WAIT_S)  # its ack goes first
            outcome = self._run(job)
            self.jobs.finish(outcome)
            self.send_outcome(outcome)

    def _run(self, job: Job) -> Outcome:
        outcome = Outcome(job.id, job.reply, job.first_chunk, job.count)
        last_sent = [0.0]

        def progress(fraction: float) -> None:
            if self.progress_hook:
                self.progress_hook(job.id, fraction)
            now = time.monotonic()
            if now - last_sent[0] >= 0.1:  # at most ~10 per second
                last_sent[0] = now
                self.send(*job.reply, p.PROGRESS, job.id, float(fraction))

        started = time.perf_counter()
        try:
            response = self.engine.run(job.request, progress=progress, cancel=job.cancel)
            if job.cancel.is_set():
                raise Cancelled("cancelled")
            outcome.chunks = p.split_json(response)
        except Cancelled:
            outcome.error = ("cancelled", "the request was cancelled")
        except MidifillError as exc:  # RequestError/LimitError name the field
            outcome.error = (exc.code, str(exc))
        except Exception as exc:
            log.exception("request %s: engine failed", job.id)
            outcome.error = ("internal", f"{type(exc).__name__}: {exc}")
        ms = (time.perf_counter() - started) * 1000
        level = logging.INFO if outcome.error is None else logging.WARNING
        log.log(
            level,
            "request %s mode=%s bars=%s variations=%s ms=%.0f %s",
            job.id,
            _short(job.request.get("mode")),
            _bars(job.request),
            _short(_variations(job.request)),
            ms,
            "ok" if outcome.error is None else outcome.error[0],
        )
        return outcome


def _short(value) -> str:
    """A request's value for the log line: any value, at most 20 characters."""
    return value[:20] if isinstance(value, str) else quote(value, 20)


def _bars(request: dict):
    """Bars in the target range (all targets' together), for the log line;
    '?' when malformed."""
    try:
        num, den = request.get("time_signature") or (4, 4)
        targets = request["targets"][:8] if "targets" in request else [request["target"]]
        beats = sum(float(t["end"]) - float(t["start"]) for t in targets)
        return f"{beats / (num * 4.0 / den):g}"
    except Exception:
        return "?"


def _variations(request: dict):
    controls = request.get("controls")
    return controls.get("variations", 1) if isinstance(controls, dict) else 1


MAX_BUNDLE_DEPTH = 8


def _is_here(host: str, bound: str) -> bool:
    """Whether `host` names this machine as the server sees it: its bound
    address, a loopback address or the wildcard."""
    return host == bound or host in ("0.0.0.0", "::", "localhost", "::1") or host.startswith("127.")


def _bundle_problem(data: bytes, depth: int = 0) -> str | None:
    """Why a bundle cannot be handled, or None. python-osc logs one line on
    the root logger for every element it cannot identify (a 64 KB bundle of
    zeros: 16,000 lines), and recurses into nested bundles without a limit."""
    if not data.startswith(b"#bundle\x00"):
        return None
    if depth >= MAX_BUNDLE_DEPTH:
        return f"bundles nested more than {MAX_BUNDLE_DEPTH} deep"
    i = 16  # after "#bundle\0" and the time tag
    while i < len(data):
        size = int.from_bytes(data[i : i + 4], "big", signed=True)
        part = data[i + 4 : i + 4 + size]
        if size <= 0 or len(part) < size:
            return f"bundle element at byte {i} has a bad size ({size})"
        problem = (
            _bundle_problem(part, depth + 1)
            if part.startswith(b"#")
            else None
            if part.startswith(b"/")
            else f"bundle element at byte {i} is not a message"
        )
        if problem:
            return problem
        i += 4 + size
    return None


class _DatagramHandler(socketserver.BaseRequestHandler):
    """Parses one datagram and calls the dispatcher's handlers; unlike
    python-osc's own handler it logs packets that do not parse."""

    def handle(self) -> None:
        data = self.request[0]
        bridge = self.server.bridge
        # what this datagram may make the server send: one whole answer, or
        # REPLY_FACTOR times its own size (a bundle of resends)
        bridge._budget.left = max(p.MAX_DATAGRAM, p.REPLY_FACTOR * len(data))
        try:
            problem = _bundle_problem(data)
            if problem:
                raise ValueError(problem)
            packet = OscPacket(data)
        except Exception as exc:  # ParseError, and python-osc's own UnicodeDecodeError
            bridge.log_limited(
                "not_osc",
                logging.WARNING,
                "dropped %d-byte datagram from %s:%d: not OSC (%s)",
                len(data),
                *self.client_address[:2],
                str(exc)[:200],
            )
            return
        if not packet.messages:
            bridge.log_limited(
                "not_osc",
                logging.WARNING,
                "dropped %d-byte bundle from %s:%d: no messages in it",
                len(data),
                *self.client_address[:2],
            )
        try:
            for timed in packet.messages:
                message = timed.message
                route = bridge.routes.get(message.address, bridge.unknown_route)
                route(self.client_address, message.address, *message.params)
        finally:
            bridge._budget.left = None  # the sweep's answers are not this datagram's


class _Receiver(BlockingOSCUDPServer):
    # Read whole datagrams: python-osc's default of 8192 bytes would cut a
    # larger one into garbage instead of handling or reporting it.
    max_packet_size = 65535

    def __init__(self, address, dispatcher, bridge: Server):
        self.bridge = bridge
        super().__init__(address, dispatcher)
        self.RequestHandlerClass = _DatagramHandler

    def server_bind(self) -> None:
        try:  # room for bursts of chunks from many clients (the kernel may cap it)
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        except OSError:
            pass
        super().server_bind()

    def verify_request(self, request, client_address) -> bool:
        if super().verify_request(request, client_address):
            return True
        self.bridge.log_limited(
            "not_osc",
            logging.WARNING,
            "dropped %d-byte datagram from %s:%d: not OSC",
            len(request[0]),
            *client_address[:2],
        )
        return False

    def handle_error(self, request, client_address) -> None:
        self.bridge.log_limited(
            "internal",
            logging.ERROR,
            "datagram from %s:%d broke the receiver; still serving",
            *client_address[:2],
            exc_info=True,
        )

    def service_actions(self) -> None:
        self.bridge.sweep()
