"""Shared fixtures. `tiny_checkpoint` trains a real (tiny) model on the
committed fixtures for a few steps, once per test session."""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
sys.path.insert(0, str(ROOT))

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_tool(name: str) -> str:
    """Path of an external tool; missing fails under CI=true, skips elsewhere."""
    path = shutil.which(name)
    if path is None:
        if IN_CI:
            pytest.fail(f"{name} is required under CI=true but is not on PATH")
        pytest.skip(f"{name} is not installed")
    return path


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory) -> Path:
    from model.train import train
    out = tmp_path_factory.mktemp("ckpt") / "tiny.pt"
    data = tmp_path_factory.mktemp("tinydata")
    for f in ("pop_4-4_tempo_change.mid", "waltz_3-4.mid", "jig_6-8.mid"):
        shutil.copy(FIXTURES / f, data / f)
    train(data=data, out=out, steps=12, batch_size=4, lr=3e-3, warmup=2, n_layer=2, n_head=2,
          n_embd=48, block_size=768, dropout=0.0, eval_every=12, eval_batches=1, save_every=12,
          seed=1, name="tiny-test", quiet=True)
    return out


@pytest.fixture(scope="session")
def tiny_engine(tiny_checkpoint):
    from model import Engine
    return Engine.from_checkpoint(tiny_checkpoint)
