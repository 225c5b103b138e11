"""`midifill request`'s arguments read without argparse, for the lines the
DAW scripts send.

REAPER starts `midifill request --host H --port N --timeout S [--token T]
FILE` as a new process for every fill, so its start is part of every fill.
argparse, with the gettext, locale and shutil it brings, is about a fifth
of that start once the rest is lean (docs/speed.md, "The request client").
`parse` reads the plain forms those lines use and gives up (None) on
anything else: help, an abbreviated or unknown option, a value that starts
with a dash, a second file, `--`, a value that does not convert. The caller
then parses with argparse, so help and every error message stay argparse's
own; tests/bridge/test_request_args.py holds what `parse` returns equal to
what argparse makes of the same words.
"""

from __future__ import annotations

from midifill.model.limits import OSC_PORT

# the defaults of `midifill request`, for both parsers (client.add_arguments)
HOST = "127.0.0.1"
TIMEOUT = 5.0
FILE = "-"  # stdin

_FLAGS = ("--ping", "--status")
_VALUED = {"--host": str, "--port": int, "--timeout": float, "--token": str}


class RequestArgs:
    """The attributes client.run reads, as argparse's Namespace holds them."""

    def __init__(self):
        self.file, self.host, self.port = FILE, HOST, OSC_PORT
        self.timeout: float = TIMEOUT
        self.token: str | None = None
        self.ping = self.status = False


def parse(argv: list[str]) -> RequestArgs | None:
    """`argv` (the words after `request`) read as argparse reads them, or
    None where argparse should read them."""
    args = RequestArgs()
    files: list[str] = []
    words = iter(argv)
    for word in words:
        if word in _FLAGS:
            setattr(args, word[2:], True)
            continue
        if not word.startswith("-") or word == "-":
            files.append(word)
            continue
        name, eq, value = word.partition("=")
        if name not in _VALUED:
            return None  # help, an abbreviation, an unknown option, `--`
        if not eq:
            following = next(words, None)
            if following is None or following.startswith("-"):
                return None  # argparse decides: a negative number or a missing value
            value = following
        try:
            setattr(args, name[2:], _VALUED[name](value))
        except ValueError:
            return None
    if len(files) > 1 or (args.ping and args.status):
        return None
    if files:
        args.file = files[0]
    return args
