"""`midifill serve`: start the OSC bridge (bridge/server.py), and with
`--demo` the Gradio demo beside it in the same process, sharing one engine;
and `midifill demo`, the demo alone (`DemoCommand`).

This is the only module of bridge/ that imports demo/, and only when the
demo is asked for, so the OSC server itself knows nothing of Gradio.
"""

from __future__ import annotations

import ipaddress
import signal
import socket
import sys
import threading

from midifill.model.errors import MidifillError
from midifill.model.limits import DEMO_PORT, OSC_PORT

from .server import Server


class SerializedEngine:
    """Lets the OSC worker and the Gradio demo share one engine that is not
    thread-safe: every run takes the same lock."""

    def __init__(self, engine):
        self._engine = engine
        self._lock = threading.Lock()
        self.name = getattr(engine, "name", "unknown")

    def run(self, request, progress=None, cancel=None):
        with self._lock:
            return self._engine.run(request, progress=progress, cancel=cancel)

    def __getattr__(self, name):
        return getattr(self._engine, name)


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_DGRAM)
    except socket.gaierror:
        return False
    return bool(infos) and all(ipaddress.ip_address(i[4][0]).is_loopback for i in infos)


def add_arguments(parser) -> None:
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default 127.0.0.1; anything else needs --token)",
    )
    parser.add_argument("--port", type=int, default=OSC_PORT, help=f"UDP port (default {OSC_PORT})")
    parser.add_argument(
        "--model",
        default=None,
        metavar="CKPT",
        help="checkpoint to load (default: the bundled model)",
    )
    parser.add_argument(
        "--token", default=None, help="shared secret every message must carry as its last argument"
    )
    parser.add_argument(
        "--queue-limit",
        type=int,
        default=16,
        help="requests that may wait; more are answered 'busy' (default 16)",
    )
    parser.add_argument(
        "--demo", action="store_true", help="also start the Gradio demo in this process"
    )
    parser.add_argument(
        "--demo-port", type=int, default=DEMO_PORT, help=f"demo port (default {DEMO_PORT})"
    )


def run(args) -> int:
    if args.queue_limit < 1:
        print("midifill serve: --queue-limit must be at least 1", file=sys.stderr)
        return 2
    if not is_loopback(args.host):
        if not args.token:
            print(
                f"midifill serve: binding to {args.host} exposes the model to the network; "
                "give a shared secret with --token",
                file=sys.stderr,
            )
            return 2
        print(
            f"midifill serve: WARNING: listening on {args.host}, not loopback; every "
            "message must carry the token",
            file=sys.stderr,
        )
    if args.demo:
        from midifill.demo import app  # gradio loads now, before anything starts: a missing

        # [demo] extra or a busy demo port leaves nothing half-started
        if not tcp_port_free("127.0.0.1", args.demo_port):  # where app.launch listens
            print(busy_line("serve", args.demo_port, "--demo-port"), file=sys.stderr)
            return 1
    from midifill.model import Engine  # the model loads here, not when the CLI starts

    try:
        engine = Engine.from_checkpoint(args.model)
    except MidifillError as exc:
        print(f"midifill serve: cannot load the model: {exc}", file=sys.stderr)
        return 1
    if args.demo:
        engine = SerializedEngine(engine)
    server = Server(engine, args.host, args.port, token=args.token, queue_limit=args.queue_limit)
    try:
        server.start()
    except OSError as exc:
        print(
            f"midifill serve: cannot listen on udp {args.host}:{args.port} "
            f"({exc.strerror or exc}); choose another port with --port",
            file=sys.stderr,
        )
        return 1
    print(
        f"midifill serve: listening on udp {args.host}:{server.port} with model "
        f"{server.model_name}; Ctrl-C stops",
        file=sys.stderr,
    )

    def on_term(*_):  # stop as Ctrl-C does, whether waiting here or in the demo
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    try:
        if args.demo:
            app.launch(share=False, port=args.demo_port, engine=engine)
        else:
            threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


class DemoCommand:
    """`midifill demo`: demo/app.py's own arguments and run, imported only
    when that command runs."""

    @staticmethod
    def add_arguments(parser) -> None:
        from midifill.demo import app

        app.add_arguments(parser)

    @staticmethod
    def run(args) -> int:
        from midifill.demo import app

        if not tcp_port_free(args.host, args.port):
            print(busy_line("demo", args.port, "--port"), file=sys.stderr)
            return 1
        return app.run(args)


def tcp_port_free(host: str, port: int) -> bool:
    """Whether a TCP server could listen on host:port now (the demo's port;
    checked before anything starts, so a busy one is one line, not
    Gradio's traceback)."""
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
            if sys.platform != "win32":
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
            s.bind((host, port))
    except OSError:
        return False
    return True


def busy_line(command: str, port: int, flag: str) -> str:
    return (
        f"midifill {command}: port {port} is in use (another demo or program?); "
        f"choose another with {flag} (for example {flag} {port + 1})"
    )
