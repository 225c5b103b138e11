"""Shared fixtures. `tiny_checkpoint` trains a real (tiny) model on the
committed fixtures for a few steps, once per test session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support import FIXTURES


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
