"""Training batches: where the examples of a run come from and how they
become tensors.

Examples are either drawn afresh from a corpus's songs (a random span,
transposed, for every draw: model/training/dataset.py) or read from a file that
`midifill pretokenise` cut beforehand. Either way the validation set is
drawn once, from its own seed, so every evaluation of a run reads the same
batches and the valid losses of one run compare.
"""

from __future__ import annotations

import random

import torch

from .dataset import Example, load_songs, make_example, midi_files

VALID_SEED_OFFSET = 7  # the validation draws' seed, apart from the training draws'


def batch(examples, pad: int):
    """(inputs, targets) of a list of examples, padded to the longest; a
    padded target is -1, which the loss ignores."""
    n = max(len(e.tokens) for e in examples)
    x = torch.full((len(examples), n - 1), pad, dtype=torch.long)
    y = torch.full((len(examples), n - 1), -1, dtype=torch.long)
    for i, e in enumerate(examples):
        t = torch.tensor(e.tokens, dtype=torch.long)
        x[i, : len(t) - 1] = t[:-1]
        y[i, : len(t) - 1] = t[1:]
    return x, y


def target_weights(x, y, fill_start: int, context_weight: float):
    """Each target's weight in the loss: 1 for the fill section's tokens (the
    targets from the one after FILL_START on, what the engine asks the model
    to write), `context_weight` for the prompt's, 0 for padding."""
    in_fill = (x == fill_start).long().cumsum(dim=1) > 0
    w = torch.where(in_fill, 1.0, float(context_weight))
    return w * (y >= 0)


def draw(songs, tok, block_size, rng, k, transpose=True, humanise=0.0, drum_patterns=0.0):
    """k examples from random songs; a song too short for one is drawn again."""
    out = []
    while len(out) < k:
        ex = make_example(
            rng.choice(songs), tok, block_size, rng, transpose, humanise, drum_patterns
        )
        if ex is not None:
            out.append(ex)
    return out


class LengthBuckets:
    """Draws examples eight batches at a time and hands them out sorted by
    length, so a batch pads little."""

    def __init__(
        self, songs, tok, block_size, rng, batch_size, pool=8, humanise=0.0, drum_patterns=0.0
    ):
        self.args = (songs, tok, block_size, rng)
        self.humanise, self.drum_patterns = humanise, drum_patterns
        self.batch_size, self.pool, self.ready = batch_size, pool, []

    def next(self):
        if not self.ready:
            exs = sorted(
                draw(
                    *self.args,
                    self.batch_size * self.pool,
                    humanise=self.humanise,
                    drum_patterns=self.drum_patterns,
                ),
                key=lambda e: len(e.tokens),
            )
            self.ready = [exs[i : i + self.batch_size] for i in range(0, len(exs), self.batch_size)]
            self.args[3].shuffle(self.ready)
        return self.ready.pop()


def from_songs(
    data, tok, block_size, rng, batch_size, eval_batches, seed, humanise=0.0, drum_patterns=0.0
):
    """(training batches, validation set, a line saying what was read): drawn
    from the songs of a corpus; without a valid split, from a twentieth of
    the training songs. `humanise` and `drum_patterns` apply to the training
    draws only."""
    train_songs, skipped = load_songs(midi_files(data, "train"), tok)
    valid_songs, _ = load_songs(midi_files(data, "valid"), tok)
    if not train_songs:
        raise SystemExit(f"no usable MIDI files in {data} (skipped {len(skipped)})")
    valid_songs = valid_songs or train_songs[: max(1, len(train_songs) // 20)]
    vrng = random.Random(seed + VALID_SEED_OFFSET)
    valid_set = [
        draw(valid_songs, tok, block_size, vrng, batch_size, transpose=False)
        for _ in range(eval_batches)
    ]
    return (
        LengthBuckets(
            train_songs,
            tok,
            block_size,
            rng,
            batch_size,
            humanise=humanise,
            drum_patterns=drum_patterns,
        ),
        valid_set,
        f"{len(train_songs)} training songs, {len(valid_songs)} validation songs, "
        f"{len(skipped)} files skipped",
    )


class _ArrayBatches:
    def __init__(self, arrays, rng, batch_size):
        self.arrays, self.rng, self.batch_size = arrays, rng, batch_size

    def next(self):
        return [Example(t, "") for t in self.arrays.batch("train", self.rng, self.batch_size)]


def from_arrays(arrays, tok, block_size, rng, batch_size, eval_batches, seed):
    """(training batches, validation set) from a pretokenised file, which
    must have been cut for this model's tokenizer and for a block no longer
    than its own."""
    if arrays.tokenizer_config != tok.config.to_dict():
        raise SystemExit("--examples: cut for another tokenizer configuration than the model's")
    if arrays.block_size > block_size:
        raise SystemExit(
            f"--examples: cut for a block of {arrays.block_size} tokens; the model's "
            f"is {block_size}"
        )
    if not arrays.count("valid"):
        raise SystemExit("--examples: the file holds no validation examples")
    vrng = random.Random(seed + VALID_SEED_OFFSET)
    valid_set = [
        [Example(t, "") for t in arrays.batch("valid", vrng, batch_size)]
        for _ in range(eval_batches)
    ]
    return _ArrayBatches(arrays, rng, batch_size), valid_set
