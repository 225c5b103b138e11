"""`midifill pretokenise`: training examples drawn once, saved as arrays.

Training normally draws a fresh random example (a fill, continuation or
generation cut from a song) for every sequence, which costs CPU time per
step: fine on a laptop, where the model is the bottleneck, but a GPU waits
for it. Here the examples are drawn up front, by the same code
(model/training/dataset.py), with several processes, and saved as one compressed
.npz: token ids as uint16, flat, with the offset where each example starts;
a train and a valid part; the tokenizer configuration and block size they
were cut for. The file carries to another machine (about 2 bytes a token
before compression) and `midifill train --examples FILE` reads it there
without the corpus, music21 or MMA.
"""

from __future__ import annotations

import json
import logging
import random
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from ..files import atomic_path
from ..network.tokenizer import Tokenizer, TokenizerConfig
from .config import TrainConfig
from .dataset import load_songs, make_example, midi_files

log = logging.getLogger("midifill.pretokenise")


def add_arguments(p):
    p.add_argument("--data", required=True, help="corpus folder (manifest.jsonl) or MIDI folder")
    p.add_argument("--out", required=True, help="the .npz to write")
    p.add_argument("--examples", type=int, default=100_000, help="training examples to draw")
    p.add_argument("--valid-examples", type=int, default=2_000)
    p.add_argument("--block-size", type=int, default=768, help="the model's block, as in train")
    p.add_argument("--jobs", type=int, default=1, help="worker processes")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--humanise",
        type=float,
        default=TrainConfig.humanise,
        help="share of training draws from quantised songs humanised first, as "
        f"`midifill train --humanise` (default {TrainConfig.humanise}; 0: off)",
    )
    p.add_argument(
        "--drum-patterns",
        type=float,
        default=TrainConfig.drum_patterns,
        help="share of training draws whose drum part is a made-up groove, as "
        f"`midifill train --drum-patterns` (default {TrainConfig.drum_patterns}; "
        "0: off)",
    )


def run(args) -> int:
    info = pretokenise(
        args.data,
        args.out,
        args.examples,
        args.valid_examples,
        args.block_size,
        args.jobs,
        args.seed,
        humanise=args.humanise,
        drum_patterns=args.drum_patterns,
    )
    print(json.dumps(info, indent=1))
    return 0


def _draw(job: tuple) -> list[np.ndarray]:
    data, split, n, block_size, seed, tok_cfg, humanise, drum_patterns = job
    tok = Tokenizer(TokenizerConfig.from_dict(tok_cfg))
    songs, _ = load_songs(midi_files(data, split), tok)
    if not songs and split == "valid":  # as training does: a few training songs stand in
        train, _ = load_songs(midi_files(data, "train"), tok)
        songs = train[: max(1, len(train) // 20)]
    if not songs:
        return []
    rng = random.Random(seed)
    out = []
    while len(out) < n:
        ex = make_example(
            rng.choice(songs),
            tok,
            block_size,
            rng,
            transpose=split == "train",
            humanise=humanise if split == "train" else 0.0,
            drum_patterns=drum_patterns if split == "train" else 0.0,
        )
        if ex is not None:
            out.append(np.asarray(ex.tokens, dtype=np.uint16))
    return out


def _pack(seqs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    offsets = np.zeros(len(seqs) + 1, dtype=np.int64)
    np.cumsum([len(s) for s in seqs], out=offsets[1:])
    return (np.concatenate(seqs) if seqs else np.zeros(0, np.uint16)), offsets


def pretokenise(
    data,
    out,
    examples: int,
    valid_examples: int,
    block_size: int = 768,
    jobs: int = 1,
    seed: int = 0,
    tok_cfg: dict | None = None,
    humanise: float = 0.0,
    drum_patterns: float = 0.0,
) -> dict:
    tok_cfg = tok_cfg or TokenizerConfig().to_dict()
    if Tokenizer(TokenizerConfig.from_dict(tok_cfg)).vocab_size > 2**16:
        raise ValueError("the vocabulary does not fit uint16 token ids")
    parts = {}
    for split, n in (("train", examples), ("valid", valid_examples)):
        per = [n // jobs + (i < n % jobs) for i in range(jobs)]
        work = [
            (
                str(data),
                split,
                k,
                block_size,
                seed * 1000 + i + (split == "valid") * 500,
                tok_cfg,
                humanise,
                drum_patterns,
            )
            for i, k in enumerate(per)
            if k
        ]
        if jobs > 1:
            with ProcessPoolExecutor(jobs) as pool:
                seqs = [s for chunk in pool.map(_draw, work) for s in chunk]
        else:
            seqs = [s for w in work for s in _draw(w)]
        if split == "train" and not seqs:
            raise SystemExit(f"{data}: no usable training songs")
        parts[split] = _pack(seqs)
    out = Path(out)
    with atomic_path(out) as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(
                f,
                train_tokens=parts["train"][0],
                train_offsets=parts["train"][1],
                valid_tokens=parts["valid"][0],
                valid_offsets=parts["valid"][1],
                tokenizer_config=np.array(json.dumps(tok_cfg)),
                block_size=np.array(block_size),
            )
    return {
        "out": str(out),
        "bytes": out.stat().st_size,
        "train_examples": len(parts["train"][1]) - 1,
        "train_tokens": int(len(parts["train"][0])),
        "valid_examples": len(parts["valid"][1]) - 1,
    }


class ExampleArrays:
    """A pretokenised file, read back: `batch(rng, k)` draws k examples of a
    split as token lists, sorted by length so a batch pads little."""

    def __init__(self, path):
        with np.load(path, allow_pickle=False) as z:
            self.parts = {s: (z[f"{s}_tokens"], z[f"{s}_offsets"]) for s in ("train", "valid")}
            self.tokenizer_config = json.loads(str(z["tokenizer_config"]))
            self.block_size = int(z["block_size"])

    def count(self, split: str) -> int:
        return len(self.parts[split][1]) - 1

    def example(self, split: str, i: int) -> list[int]:
        tokens, offsets = self.parts[split]
        return tokens[offsets[i] : offsets[i + 1]].astype(np.int64).tolist()

    def batch(self, split: str, rng: random.Random, k: int) -> list[list[int]]:
        picks = [rng.randrange(self.count(split)) for _ in range(k)]
        return sorted((self.example(split, i) for i in picks), key=len)
