"""Shared fixtures. `tiny_checkpoint` trains a real (tiny) model on the
committed fixtures for a few steps, once per test session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support import FIXTURES


class _MutmutCopies:
    """`make mutate`: mutmut puts its mutated copies of model/ and bridge/ in
    mutants/, first on sys.path, and knows each function by the module name
    its file path gives (model.song.x_...). The tests import midifill.model
    and midifill.bridge, which the editable install maps to the checkout: under
    mutmut, midifill.model.X is the copy imported as model.X (one module under
    two names). Elsewhere (no mutants/ folder on sys.path) it is not installed."""

    TOPS = ("model", "bridge")

    def find_spec(self, fullname, path=None, target=None):
        import importlib.util

        parts = fullname.split(".")
        if len(parts) > 1 and parts[0] == "midifill" and parts[1] in self.TOPS:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        import importlib

        return importlib.import_module(spec.name.split(".", 1)[1])

    def exec_module(self, module):
        pass  # imported already, under its own name


def _under_mutmut() -> bool:
    import sys

    return any(Path(e).name == "mutants" and (Path(e) / "model").is_dir() for e in sys.path)


if _under_mutmut():
    import sys

    sys.meta_path.insert(0, _MutmutCopies())


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
