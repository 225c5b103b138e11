"""Training: the loss falls, --resume goes on, and DistributedDataParallel
runs with two CPU processes (gloo) under torchrun."""

import os
import shutil
import subprocess
import sys

import torch

from midifill.model.training.train import train
from tests.conftest import ROOT

SONGS = ("pop_4-4_tempo_change.mid", "waltz_3-4.mid", "jig_6-8.mid")
SMALL = dict(
    batch_size=4,
    n_layer=1,
    n_head=2,
    n_embd=32,
    block_size=512,
    dropout=0.0,
    eval_batches=1,
    quiet=True,
    threads=1,
    drum_patterns=0.0,
)  # three fixture songs, 40 steps: the loop, not the augmentation


def data_dir(fixtures_dir, tmp_path):
    d = tmp_path / "data"
    d.mkdir()
    for f in SONGS:
        shutil.copy(fixtures_dir / f, d / f)
    return d


def test_loss_falls_and_resume_goes_on(fixtures_dir, tmp_path):
    data, out = data_dir(fixtures_dir, tmp_path), tmp_path / "m.pt"
    run = train(
        data=data,
        out=out,
        steps=40,
        lr=3e-3,
        warmup=4,
        eval_every=20,
        save_every=20,
        seed=3,
        **SMALL,
    )
    valid = [v for _, v in run["history"]["valid"]]
    assert valid[-1] < valid[0] - 0.5, valid
    assert out.with_suffix(".loss.png").stat().st_size > 1000
    more = train(
        data=data,
        out=out,
        resume=True,
        steps=50,
        lr=3e-3,
        warmup=4,
        eval_every=10,
        save_every=10,
        seed=3,
        **SMALL,
    )
    assert more["step"] == 50 and more["history"]["train"][0][0] == 1  # history kept
    ckpt = torch.load(out, weights_only=True)
    assert ckpt["step"] == 50 and ckpt["meta"]["tokens_seen"] > run["tokens_seen"]


def test_fine_tune_from_init(fixtures_dir, tmp_path):
    data = data_dir(fixtures_dir, tmp_path)
    train(
        data=data,
        out=tmp_path / "base.pt",
        steps=5,
        lr=3e-3,
        warmup=1,
        eval_every=5,
        save_every=5,
        **SMALL,
    )
    run = train(
        data=data,
        out=tmp_path / "tuned.pt",
        init=tmp_path / "base.pt",
        steps=5,
        lr=1e-3,
        warmup=1,
        eval_every=5,
        save_every=5,
        **SMALL,
    )
    assert run["step"] == 5 and (tmp_path / "tuned.pt").is_file()


def test_ddp_with_two_cpu_processes(fixtures_dir, tmp_path):
    data, out = data_dir(fixtures_dir, tmp_path), tmp_path / "ddp.pt"
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        "-m",
        "midifill.bridge.cli",
        "--log-level",
        "WARNING",
        "train",
        "--data",
        str(data),
        "--out",
        str(out),
        "--steps",
        "4",
        "--batch-size",
        "2",
        "--n-layer",
        "1",
        "--n-head",
        "2",
        "--n-embd",
        "32",
        "--block-size",
        "512",
        "--eval-every",
        "4",
        "--eval-batches",
        "1",
        "--save-every",
        "4",
        "--threads",
        "1",
    ]
    r = subprocess.run(
        cmd,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, OMP_NUM_THREADS="1"),
    )
    assert r.returncode == 0, r.stderr[-3000:]
    ckpt = torch.load(out, weights_only=True)
    assert ckpt["step"] == 4 and "world 2" in ckpt["meta"]["machine"]
