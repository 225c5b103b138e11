"""The Python OSC client of midifill, and `midifill request`.

Sends a request in chunks, reassembles the result, retries what UDP lost and
says clearly when no server answers. The REAPER scripts run `midifill
request` once per click, so this module must start fast: it imports neither
torch nor the model package.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time

from midifill.model.limits import OSC_PORT

from . import osc_wire, request_args
from . import protocol as p


class ClientError(Exception):
    """A request that did not succeed; `code` and `exit_code` say why."""

    code = "error"

    @property
    def exit_code(self) -> int:
        return p.exit_code_for(self.code)


class NoServerError(ClientError):
    code = "no_server"
    exit_code = p.EXIT_NO_SERVER


class BadPayload(ClientError, ValueError):
    """A payload that cannot be sent as JSON (a numpy value, NaN, nesting
    deeper than json can write)."""

    code = "bad_input"
    exit_code = p.EXIT_BAD_INPUT


class TooLarge(ClientError):
    """A request over the payload limit, refused before it is sent."""

    code = "too_large"


class ServerRestarted(ClientError):
    """The server took the request, then no longer knew its id when polled:
    it was restarted (or another took its port) and the request is lost."""

    code = "server_restarted"
    exit_code = p.EXIT_SERVER_ERROR


class ServerError(ClientError):
    """The server answered /midifill/error."""

    def __init__(self, msg_id: str, code: str, message: str):
        self.id, self.code, self.message = msg_id, code, message
        super().__init__(f"{code}: {message}")


def new_id(prefix: str = "req") -> str:
    return f"{prefix}-{os.urandom(8).hex()}"  # 16 hex digits; uuid cost ~5 ms to import


class Client:
    """One UDP socket that talks to one server; not shared between threads.

    `timeout` is how long the server may stay silent before NoServerError:
    before it first answers a request, and between its answers later (while
    a generation runs the client polls, and the server answers each poll).
    """

    def __init__(
        self,
        host: str = request_args.HOST,
        port: int = OSC_PORT,
        *,
        timeout: float = 5.0,
        token: str | None = None,
        retry_interval: float = 0.25,
        poll_interval: float = 1.0,
        gap: float = 0.1,
    ):
        self.host, self.port, self.timeout, self.token = host, port, timeout, token
        self.retry_interval, self.poll_interval, self.gap = retry_interval, poll_interval, gap
        # an ASCII name as bytes: a str goes through the idna codec, whose
        # import (unicodedata, stringprep) is 1-2 ms of every request's start
        name = host.encode("ascii") if host.isascii() else host
        family, _, _, _, address = socket.getaddrinfo(name, port, type=socket.SOCK_DGRAM)[0]
        self.server = address
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        try:  # a roomy buffer so a burst of result chunks is not dropped
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        except OSError:
            pass
        loopback = address[0] in ("127.0.0.1", "::1") or address[0].startswith("127.")
        self.sock.bind((address[0] if loopback else ("::" if family == socket.AF_INET6 else ""), 0))
        self.reply_port = self.sock.getsockname()[1]

    def close(self) -> None:
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- the messages -------------------------------------------------------

    def ping(self, msg_id: str | None = None) -> dict:
        """{"id", "version", "model"} of the server; NoServerError if none answers."""
        msg_id = msg_id or new_id("ping")
        args = self._exchange(p.PING, (self.reply_port, msg_id), msg_id, p.PONG)
        return {"id": msg_id, "version": args[1], "model": args[2]}

    def status(self, msg_id: str | None = None) -> dict:
        msg_id = msg_id or new_id("status")
        args = self._exchange(p.STATUS, (self.reply_port, msg_id), msg_id, p.STATUS)
        return json.loads(args[1])

    def cancel(self, msg_id: str) -> None:
        """Cancel request `msg_id` (sent by any client); returns once confirmed."""
        self._exchange(p.CANCEL, (msg_id, self.reply_port), msg_id, p.CANCELLED)

    def request(
        self, payload: dict, *, msg_id: str | None = None, on_ack=None, on_progress=None
    ) -> dict:
        """Send `payload` (the request contract) and return the response dict.

        Raises ServerError for an /midifill/error answer, ServerRestarted
        when the server took the request and later does not know it (it was
        restarted: the request is lost), NoServerError when
        the server is silent for `timeout` seconds, BadPayload (a ValueError)
        when `payload` cannot be encoded as JSON, TooLarge when it is over
        the payload limit.
        """
        pending = _Pending(self, msg_id or new_id(), _request_chunks(payload))
        pending.send_chunks()
        while True:
            pending.chase(time.monotonic())
            message = self._receive(0.05)
            if message is None or message[1][:1] != (pending.msg_id,):
                continue
            address, args = message
            taken = pending.last_heard is not None  # the server answered this id before
            pending.last_heard = time.monotonic()
            if address == p.ACK and on_ack:
                on_ack(args[1])
            elif address == p.PROGRESS and on_progress:
                on_progress(args[1])
            elif address == p.ERROR and len(args) >= 3:
                if taken and args[1] == "bad_chunk":  # a poll the server cannot place
                    raise ServerRestarted(
                        f"server restarted; request lost, send it again (the server at "
                        f"{self.host}:{self.port} no longer knows {pending.msg_id})"
                    )
                raise ServerError(pending.msg_id, str(args[1]), str(args[2]))
            elif address == p.RESULT and _is_result(args):
                result = pending.add_result_chunk(*args[1:])
                if result.complete:
                    return json.loads(result.text())

    # --- plumbing -------------------------------------------------------------

    def _send(self, address: str, *args) -> None:
        try:
            self.sock.sendto(
                osc_wire.encode(address, *args, *((self.token,) if self.token else ())), self.server
            )
        except OSError:
            pass  # e.g. no route yet; the retry loop and the timeout handle it

    def _receive(self, wait: float):
        """(address, args) of the next datagram within `wait` s, else None."""
        self.sock.settimeout(wait)
        try:
            data, _ = self.sock.recvfrom(65535)
            return osc_wire.decode(data)
        except Exception:  # timeout, ICMP refusal, a datagram that is not OSC
            return None

    def _exchange(self, address: str, args: tuple, msg_id: str, answer: str) -> tuple:
        """Send a one-datagram message until its answer (or an error) comes."""
        started = time.monotonic()
        retry, next_send = self.retry_interval, started
        while True:
            now = time.monotonic()
            if now - started > self.timeout:
                raise NoServerError(self._silence(started=True))
            if now >= next_send:
                self._send(address, *args)
                next_send, retry = now + retry, min(retry * 2, 2.0)
            message = self._receive(0.05)
            if message is None or message[1][:1] != (msg_id,):
                continue
            if message[0] == p.ERROR and len(message[1]) >= 3:
                raise ServerError(msg_id, str(message[1][1]), str(message[1][2]))
            if message[0] == answer:
                return message[1]

    def _silence(self, started: bool) -> str:
        where = f"{self.host}:{self.port}"
        if started:
            return (
                f"no midifill server answered at {where} within {self.timeout:g} s; "
                f"start one with `midifill serve --port {self.port}`"
            )
        return f"the midifill server at {where} stopped answering for {self.timeout:g} s"


def _request_chunks(payload: dict) -> list[str]:
    """The payload's JSON in chunks, refused here when the server would refuse it."""
    try:
        chunks = p.split_json(payload)
    except (TypeError, ValueError, RecursionError) as exc:
        raise BadPayload(f"the request cannot be sent as JSON: {str(exc)[:200]}") from None
    if len(chunks) > p.MAX_CHUNKS:
        raise TooLarge(
            f"the request is {sum(map(len, chunks))} characters of JSON; the "
            f"limit is {p.MAX_REQUEST_CHARS}"
        )
    return chunks


class _Pending:
    """One request in flight: when the server was last heard from, and what
    to send again to chase what UDP lost."""

    def __init__(self, client: Client, msg_id: str, chunks: list[str]):
        self.client, self.msg_id, self.chunks = client, msg_id, chunks
        self.started = self.last_send = time.monotonic()
        self.retry = client.retry_interval
        self.last_heard: float | None = None
        self.last_ask: float | None = None
        self.result: p.Assembly | None = None

    def send_chunks(self) -> None:
        for index, chunk in enumerate(self.chunks):
            self.client._send(
                p.REQUEST, self.msg_id, self.client.reply_port, index, len(self.chunks), chunk
            )

    def chase(self, now: float) -> None:
        """Before the first answer, send the request again (backing off);
        after it, ask for lost result chunks, or poll while the job runs.
        NoServerError once the server has been silent for the timeout."""
        c = self.client
        if self.last_heard is None:
            if now - self.started > c.timeout:
                raise NoServerError(c._silence(started=True))
            if now - self.last_send >= self.retry:  # request chunks (or the ack) were lost
                self.send_chunks()
                self.last_send, self.retry = now, min(self.retry * 2, 2.0)
            return
        if now - self.last_heard > c.timeout:
            raise NoServerError(c._silence(started=False))
        quiet = now - max(self.last_heard, self.last_ask or 0)
        if self.result is not None and quiet >= c.gap:
            for index in self.result.missing():  # result chunks were lost
                c._send(p.RESEND, self.msg_id, c.reply_port, index)
            self.last_ask = now
        elif self.result is None and quiet >= c.poll_interval:
            # Still running? The server answers with an ack, or with the
            # result if it finished and every chunk was lost.
            c._send(p.RESEND, self.msg_id, c.reply_port, 0)
            self.last_ask = now

    def add_result_chunk(self, index: int, total: int, chunk: str) -> p.Assembly:
        """The result so far; a chunk announcing another count starts it afresh."""
        if self.result is None or self.result.count != total:
            self.result = p.Assembly(total, max_chunks=1 << 30, chunk_chars=1 << 30)
        self.result.add(index, total, chunk)
        return self.result


def _is_result(args: tuple) -> bool:
    return (
        len(args) == 4
        and isinstance(args[1], int)
        and isinstance(args[2], int)
        and isinstance(args[3], str)
        and 1 <= args[2]
        and 0 <= args[1] < args[2]
    )


# --- `midifill request` ---------------------------------------------------------


def add_arguments(parser) -> None:
    parser.add_argument(
        "file", nargs="?", default=request_args.FILE, help="request JSON file (default: read stdin)"
    )
    parser.add_argument(
        "--host", default=request_args.HOST, help=f"server address (default {request_args.HOST})"
    )
    parser.add_argument(
        "--port", type=int, default=OSC_PORT, help=f"server port (default {OSC_PORT})"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=request_args.TIMEOUT,
        help=f"seconds of server silence before giving up (default {request_args.TIMEOUT:g})",
    )
    parser.add_argument("--token", default=None, help="the server's shared secret, if any")
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--ping", action="store_true", help="only check that a server answers")
    what.add_argument("--status", action="store_true", help="print the server's status")


def _fail(code: str, message: str, exit_code: int, msg_id: str | None = None) -> int:
    # Scripts read stdout (REAPER's ExecProcess), people read stderr.
    print(json.dumps({"error": {"code": code, "message": message, "id": msg_id}}))
    print(f"midifill request: {code}: {message}", file=sys.stderr)
    return exit_code


def run(args) -> int:
    payload = None
    if not (args.ping or args.status):
        try:
            if args.file == "-":
                text = sys.stdin.read()
            else:
                with open(args.file, encoding="utf-8") as handle:
                    text = handle.read()
        except (OSError, UnicodeDecodeError) as exc:
            return _fail("bad_input", f"cannot read {args.file}: {exc}", p.EXIT_BAD_INPUT)
        where = "stdin" if args.file == "-" else args.file
        if p.json_depth(text) > p.MAX_JSON_DEPTH:  # json.loads would recurse ~1,000 deep
            return _fail(
                "bad_input",
                f"{where} is nested more than {p.MAX_JSON_DEPTH} levels deep; a request is 5 deep",
                p.EXIT_BAD_INPUT,
            )
        try:
            payload = json.loads(text)
        except (ValueError, RecursionError) as exc:
            return _fail("bad_input", f"{where} is not JSON: {exc}", p.EXIT_BAD_INPUT)
        if not isinstance(payload, dict):
            return _fail("bad_input", "the request must be a JSON object", p.EXIT_BAD_INPUT)
    try:
        with Client(args.host, args.port, timeout=args.timeout, token=args.token) as client:
            if args.ping:
                answer = client.ping()
            elif args.status:
                answer = client.status()
            else:
                answer = client.request(payload)
    except ServerError as exc:
        return _fail(exc.code, exc.message, exc.exit_code, exc.id)
    except ClientError as exc:
        return _fail(exc.code, str(exc), exc.exit_code)
    except (ValueError, RecursionError, OSError) as exc:  # unencodable payload, unknown host
        return _fail("bad_input", str(exc), p.EXIT_BAD_INPUT)
    print(json.dumps(answer))
    return p.EXIT_OK
