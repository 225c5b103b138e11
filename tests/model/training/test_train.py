"""Training: the loss falls, --resume goes on, and DistributedDataParallel
runs with two CPU processes (gloo) under torchrun.

Fine-tuning starts from the --init checkpoint: its architecture and its
weights, not a fresh network of the size the flags name.

Broken training folders: each is reported in a sentence, nothing outside
the corpus folder is read, and a missing matplotlib costs only the plot."""

import json
import logging
import os
import shutil
import subprocess
import sys

import pytest
import torch

from midifill.bridge.cli import main as cli_main
from midifill.model.network.checkpoint import load_checkpoint
from midifill.model.training.dataset import midi_files
from midifill.model.training.progress import plot_loss
from midifill.model.training.train import train
from tests.support import ROOT
from tests.support.training import data_dir


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
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


SONGS = ("pop_4-4_tempo_change.mid", "waltz_3-4.mid", "jig_6-8.mid")
SMALL = dict(
    batch_size=2,
    n_layer=1,
    n_head=2,
    n_embd=32,
    block_size=256,
    dropout=0.0,
    eval_batches=1,
    quiet=True,
    threads=1,
)


def max_distance(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    return max(float((sa[k].float() - sb[k].float()).abs().max()) for k in sa)


@pytest.mark.promise
def test_fine_tuning_starts_from_the_init_weights(fixtures_dir, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for f in SONGS:
        shutil.copy(fixtures_dir / f, data / f)
    base_path = tmp_path / "base.pt"
    train(
        data=data,
        out=base_path,
        steps=4,
        lr=3e-3,
        warmup=1,
        eval_every=4,
        save_every=4,
        seed=1,
        **SMALL,
    )
    base, _, _ = load_checkpoint(base_path)

    # in-process, with the same seed as the base run: a fresh network would be
    # the base run's starting point, 4 steps of lr 3e-3 away from its weights
    tuned_path = tmp_path / "tuned.pt"
    train(
        data=data,
        out=tuned_path,
        init=base_path,
        steps=1,
        lr=1e-7,
        min_lr=1e-7,
        warmup=1,
        eval_every=1,
        save_every=1,
        seed=1,
        **SMALL,
    )
    tuned, _, ckpt = load_checkpoint(tuned_path)
    assert ckpt["step"] == 1
    assert max_distance(base, tuned) < 1e-5

    # the command line: --init wins over the size flags, which describe a fresh network
    cli_path = tmp_path / "cli.pt"
    torch.set_num_threads(1)
    assert (
        cli_main(
            [
                "--log-level",
                "WARNING",
                "train",
                "--data",
                str(data),
                "--out",
                str(cli_path),
                "--init",
                str(base_path),
                "--steps",
                "1",
                "--lr",
                "1e-7",
                "--min-lr",
                "1e-7",
                "--warmup",
                "1",
                "--batch-size",
                "2",
                "--n-layer",
                "2",
                "--n-embd",
                "64",
                "--eval-every",
                "1",
                "--eval-batches",
                "1",
                "--save-every",
                "1",
                "--threads",
                "1",
                "--seed",
                "9",
            ]
        )
        == 0
    )
    from_cli, _, _ = load_checkpoint(cli_path)
    assert (from_cli.config.n_layer, from_cli.config.n_embd) == (1, 32)
    assert max_distance(base, from_cli) < 1e-5


@pytest.mark.hostile
def test_bad_manifest_lines_are_skipped_and_reported(tmp_path, fixtures_dir, caplog):
    corpus = tmp_path / "corpus"
    (corpus / "midi").mkdir(parents=True)
    shutil.copy(fixtures_dir / "jig_6-8.mid", corpus / "midi" / "jig.mid")
    outside = tmp_path / "secret.mid"
    shutil.copy(fixtures_dir / "jig_6-8.mid", outside)
    rows = [
        json.dumps({"path": "midi/jig.mid", "split": "train"}),
        "this is not json",
        json.dumps({"path": "../secret.mid", "split": "train"}),
        json.dumps({"path": str(outside), "split": "train"}),
        json.dumps({"path": "../../../../../../etc/passwd", "split": "train"}),
        json.dumps(["midi/jig.mid"]),
        json.dumps({"path": 7, "split": "train"}),
        "[" * 5000,
    ]
    (corpus / "manifest.jsonl").write_text("\n".join(rows) + "\n")
    caplog.set_level(logging.WARNING)
    assert midi_files(corpus, "train") == [corpus / "midi" / "jig.mid"]
    text = caplog.text
    assert "7 lines skipped" in text and "line 2: not JSON" in text
    assert "'../secret.mid' is outside" in text


@pytest.mark.hostile
def test_a_missing_data_folder_is_named(tmp_path):
    with pytest.raises(SystemExit, match="no such folder"):
        midi_files(tmp_path / "nope", "train")
    (tmp_path / "file").write_text("x")
    with pytest.raises(SystemExit, match="not a folder"):
        midi_files(tmp_path / "file", "train")


@pytest.mark.hostile
def test_training_goes_on_without_matplotlib(tmp_path, monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    caplog.set_level(logging.WARNING)
    plot_loss({"train": [[1, 2.0]], "valid": []}, tmp_path / "loss.png")
    assert not (tmp_path / "loss.png").exists() and "no loss plot" in caplog.text
