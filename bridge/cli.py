"""The `midifill` command.

Each subcommand lives in the module that owns its work and exposes
`add_arguments(parser)` and `run(args) -> int` (or names an object in it
that does, as "module:object"). Modules are imported only when their
subcommand runs, so `midifill request` starts without torch, and no
inference command loads it. `midifill request` with the plain arguments
the DAW scripts send skips argparse too (bridge/request_args.py): REAPER
starts it once per fill.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse

# name -> (module, one-line help)
SUBCOMMANDS = {
    "generate": ("midifill.bridge.cmd_generate", "fill, continue or generate part of a MIDI file"),
    "serve": ("midifill.bridge.cmd_serve", "run the OSC bridge (and the demo with --demo)"),
    "request": ("midifill.bridge.client", "send one request (JSON on stdin) to a running server"),
    # the demo is wired in cmd_serve, the one module of bridge/ that imports demo/
    "demo": ("midifill.bridge.cmd_serve:DemoCommand", "run the Gradio demo in the browser"),
    "train": (
        "midifill.model.training.train",
        "train or fine-tune a model on a folder of MIDI files",
    ),
    "corpus": ("midifill.model.corpus.build", "build the offline training corpus"),
    "pretokenise": (
        "midifill.model.training.pretokenise",
        "draw training examples once into a file to carry to a GPU machine",
    ),
    "eval": (
        "midifill.model.evaluation.evaluate",
        "measure a model: NLL against an n-gram baseline, fill quality",
    ),
    "devset": (
        "midifill.model.evaluation.devset",
        "rebuild the out-of-corpus dev set from Debian packages",
    ),
    "bench": ("midifill.bridge.bench", "measure speed and memory of the bundled model"),
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argparse parser; with `only`, the one subcommand's module imported."""
    import argparse
    import importlib

    class Version(argparse.Action):
        """--version: the package metadata's version, read only when asked."""

        def __init__(self, option_strings, dest, **kwargs):
            super().__init__(option_strings, dest, nargs=0, help="show the version and exit")

        def __call__(self, parser, namespace, values, option_string=None):
            from midifill.model.limits import version

            print(f"midifill {version()}")  # on stdout, as argparse's version action does
            parser.exit()

    parser = argparse.ArgumentParser(prog="midifill", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action=Version)
    parser.add_argument(
        "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"]
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (spec, help_text) in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if only in (None, name):  # import only the module that will run
            module_name, _, attr = spec.partition(":")
            command = importlib.import_module(module_name)
            command = getattr(command, attr) if attr else command
            command.add_arguments(p)
            p.set_defaults(_module=command)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["request"]:  # the DAW scripts' line: no argparse, no extras
        from . import client, request_args

        fast = request_args.parse(argv[1:])
        if fast is not None:
            return client.run(fast)
    from . import extras

    chosen = next((a for a in argv if a in SUBCOMMANDS), None)
    missing = extras.missing_before_start(chosen, argv)
    if missing:
        print(missing, file=sys.stderr)
        return 2
    try:
        parser = build_parser(only=chosen or "")
        args = parser.parse_args(argv)
        if not getattr(args, "command", None):
            parser.print_help()
            return 2
        if chosen != "request":  # the client logs nothing: its start skips logging
            import logging

            logging.basicConfig(
                level=getattr(logging, args.log_level),
                format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            )
        return int(args._module.run(args) or 0)
    except ModuleNotFoundError as exc:  # an extra not installed: one line, exit 2
        extra = extras.extra_for(exc, chosen, demo="--demo" in argv)
        if extra is None:
            raise
        print(extras.missing_line(exc.name, chosen, extra), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
