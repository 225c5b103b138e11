"""A small training run's settings and data folder (the training tests)."""

import shutil

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
