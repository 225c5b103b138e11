"""`midifill request` without argparse (bridge/request_args.py): what the
fast reading returns is what argparse makes of the same words, and the
process that sends a ping or a fill imports neither argparse nor the engine."""

import contextlib
import io
import json
import math
import subprocess
import sys

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from midifill.bridge import request_args
from midifill.bridge.cli import build_parser
from tests.support import ROOT, dead_port
from tests.support.osc import fill

FIELDS = ("file", "host", "port", "timeout", "token", "ping", "status")

# the words a request line is made of, and the ones argparse reads differently
OPTIONS = ["--host", "--port", "--timeout", "--token", "--ho", "--pin", "--ping", "-h", "--"]
VALUES = [
    "127.0.0.1", "::1", "9000", "-5", "0.25", "1_000", "nan", "", "-", "-x", "--ping", "x=y",
    "a b.json", "C:\\Users\\Jo Doe\\AppData\\Local\\Temp\\midifill_request.json",
]  # fmt: skip
PIECES = st.one_of(
    st.sampled_from([["--ping"], ["--status"], ["--help"]]),
    st.tuples(st.sampled_from(OPTIONS), st.sampled_from(VALUES)).map(list),  # --port 9000
    st.tuples(st.sampled_from(OPTIONS), st.sampled_from(VALUES)).map(lambda p: ["=".join(p)]),
    st.sampled_from(VALUES).map(lambda v: [v]),  # a file, or a stray word
)


def argparse_reading(words):
    """argparse's reading of `request WORDS`, or None where it exits (an error, help)."""
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            return build_parser("request").parse_args(["request", *words])
    except SystemExit:
        return None


def same(fast, slow) -> bool:
    def norm(v):
        return "nan" if isinstance(v, float) and math.isnan(v) else v

    return all(norm(getattr(fast, f)) == norm(getattr(slow, f)) for f in FIELDS)


@pytest.mark.parametrize(
    "words",
    [
        # daw_scripts/reaper/midifill_command.lua's line, with and without a token
        ["--host", "127.0.0.1", "--port", "9000", "--timeout", "30", "/tmp/midifill_request.json"],
        ["--host", "::1", "--port", "9001", "--timeout", "2.5", "--token", "s3cret", "r.json"],
        ["--ping", "--port", "9000"],
        ["--status", "--timeout", "1"],
        [],
    ],
)
def test_the_scripts_lines_are_read_without_argparse_as_argparse_reads_them(words):
    fast = request_args.parse(words)
    assert fast is not None and same(fast, argparse_reading(words))


@settings(max_examples=400)
@example(["--token", "-x"])
@example(["--token", "--ping"])
@example(["--port", "-5"])
@example(["--host", "-"])
@example(["--host", "a", "--ping", "b"])
@example(["--port", "1_000"])
@given(st.lists(PIECES, max_size=5).map(lambda pieces: sum(pieces, [])))
def test_the_fast_reading_is_argparses_or_none(words):
    fast = request_args.parse(words)
    if fast is not None:
        slow = argparse_reading(words)
        assert slow is not None, f"argparse refuses {words}, the fast reading took them"
        assert same(fast, slow), words


@pytest.mark.parametrize("words", [["-h"], ["--ho", "x"], ["a", "b"], ["--ping", "--status"]])
def test_what_the_fast_reading_leaves_goes_to_argparse(words):
    assert request_args.parse(words) is None


NEW_MODULES = """
import json, sys
before = set(sys.modules)
from midifill.bridge.cli import main
code = main(sys.argv[1:])
sys.stderr.write("\\nMODULES " + json.dumps(sorted(set(sys.modules) - before)) + "\\n")
sys.exit(code)
"""

# what neither a ping nor a fill may import: argparse and what it brings,
# the package metadata, logging, the idna codec, and NumPy, torch or the engine
HEAVY = {
    "argparse", "gettext", "locale", "shutil", "importlib.metadata", "importlib.util",
    "logging", "encodings.idna", "numpy", "torch", "uuid",
}  # fmt: skip


@pytest.mark.parametrize("what", ["ping", "fill"])
def test_a_request_process_imports_only_the_client(tmp_path, what):
    request = tmp_path / "request.json"
    request.write_text(json.dumps(fill()))
    words = ["--ping"] if what == "ping" else [str(request)]
    done = subprocess.run(
        [sys.executable, "-c", NEW_MODULES, "request", "--port", str(dead_port()), "--timeout"]
        + ["0.1", *words],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 3, done.stderr  # no server: the client ran to its end
    new = set(json.loads(done.stderr.rsplit("MODULES ", 1)[1]))
    assert "midifill.bridge.client" in new
    assert not new & HEAVY
    # of the engine's package only its plain constants (the payload limit, the port)
    assert {n for n in new if n.startswith("midifill.model")} <= {
        "midifill.model",
        "midifill.model.limits",
    }
