"""Helpers the tests share: the checkout's paths, CI's rules for a missing
tool or package, reading a subprocess's lines with a deadline, a free port.
Plain functions and constants; the fixtures are in the conftest.py files.
Imported as `tests.support` (`python -m pytest` from the checkout's root)."""

from __future__ import annotations

import importlib
import os
import selectors
import shutil
import socket
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_tool(name: str) -> str:
    """Path of an external tool; missing fails under CI=true, skips elsewhere."""
    path = shutil.which(name)
    if path is None:
        if IN_CI:
            pytest.fail(f"{name} is required under CI=true but is not on PATH")
        pytest.skip(f"{name} is not installed")
    return path


def require_module(name: str):
    """The module `name`, imported; missing fails under CI=true, skips elsewhere
    (pytest.importorskip skips even under CI). Works at module level."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        if IN_CI:
            pytest.fail(
                f"{name} is required under CI=true but cannot be imported: {exc}", pytrace=False
            )
        pytest.skip(f"{name} is not installed", allow_module_level=True)


def read_lines(stream, count: int, timeout: float) -> list[str]:
    """Up to `count` lines from a subprocess's pipe, waiting at most `timeout`
    seconds in all: a reply that never comes ends the wait instead of hanging
    the test (a bare readline() blocks for ever). Reads the file descriptor
    directly, so do not mix with the stream's own read methods."""
    fd = stream.fileno()
    buf, lines = b"", []
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_READ)
        while len(lines) < count:
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(left):
                break
            data = os.read(fd, 65536)
            if not data:  # the other end closed
                break
            buf += data
            *done, buf = buf.split(b"\n")
            lines += [line.decode("utf-8", "replace").rstrip("\r") for line in done]
    return lines[:count]


def dead_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


try:  # Hypothesis under CI: the same examples every run, and no .hypothesis/ in the tree
    # (recent Hypothesis does this by itself when CI is set; this holds for every version)
    from hypothesis import HealthCheck as _HealthCheck
    from hypothesis import settings as _hypothesis_settings

    _hypothesis_settings.register_profile(
        "midifill-ci",
        derandomize=True,
        database=None,
        print_blob=True,
        deadline=None,
        suppress_health_check=[_HealthCheck.too_slow],
    )
    if IN_CI:
        _hypothesis_settings.load_profile("midifill-ci")
except ImportError:  # the test extra is not installed; the tests that need it say so
    pass
