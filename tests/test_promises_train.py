"""Fine-tuning starts from the --init checkpoint: its architecture and its
weights, not a fresh network of the size the flags name."""

import shutil

import torch

from midifill.bridge.cli import main as cli_main
from midifill.model.network.checkpoint import load_checkpoint
from midifill.model.training.train import train

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
