"""Shared fixtures. `tiny_checkpoint` trains a real (tiny) model on the
committed fixtures for a few steps, once per test session."""

from __future__ import annotations

import importlib
import os
import selectors
import shutil
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
sys.path.insert(0, str(ROOT))

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

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


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """Mark the tests that need the trained tiny model (about 20 s to train
    once per session), so a quick run can leave them out:
    `pytest -m "not trained_model"` (what `make mutate` runs per mutant)."""
    for item in items:
        if {"tiny_checkpoint", "tiny_engine"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.trained_model)


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "trained_model: needs the tiny model trained once per "
        "session (tests/conftest.py tiny_checkpoint)",
    )


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory) -> Path:
    from midifill.model.training.train import train

    out = tmp_path_factory.mktemp("ckpt") / "tiny.pt"
    data = tmp_path_factory.mktemp("tinydata")
    for f in ("pop_4-4_tempo_change.mid", "waltz_3-4.mid", "jig_6-8.mid"):
        shutil.copy(FIXTURES / f, data / f)
    train(
        data=data,
        out=out,
        steps=12,
        batch_size=4,
        lr=3e-3,
        warmup=2,
        n_layer=2,
        n_head=2,
        n_embd=48,
        block_size=768,
        dropout=0.0,
        eval_every=12,
        eval_batches=1,
        save_every=12,
        seed=1,
        name="tiny-test",
        quiet=True,
    )
    return out


@pytest.fixture(scope="session")
def tiny_engine(tiny_checkpoint):
    from midifill.model import Engine

    return Engine.from_checkpoint(tiny_checkpoint)
