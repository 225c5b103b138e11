"""What one training run is told: `TrainConfig`, the single source of every
training default, and the `midifill train` flags, which read their defaults
from it (one flag a field, the same name). No torch here: `midifill
pretokenise` and `midifill train --help` read it without loading torch.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass
class TrainConfig:
    """Everything one training run is told; the CLI flags map onto it one to one."""

    data: str | None = None
    out: str | os.PathLike | None = None
    init: str | os.PathLike | None = None
    resume: bool = False
    steps: int = 2000
    max_minutes: float | None = None
    batch_size: int = 16
    lr: float = 1e-3
    min_lr: float = 1e-4
    warmup: int = 100
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 256
    block_size: int = 1024
    dropout: float = 0.05
    eval_every: int = 200
    eval_batches: int = 8
    save_every: int = 200
    seed: int = 1337
    context_weight: float = 1.0
    # share of training draws from quantised songs (music21, MMA) humanised first
    humanise: float = 0.25
    # share of training draws whose drum part is a made-up groove to continue
    drum_patterns: float = 0.2
    shared_rows: bool = False
    name: str | None = None
    half: bool = False
    threads: int | None = None
    quiet: bool = False
    examples: str | os.PathLike | None = None
    device: str = "auto"


C = TrainConfig  # the defaults, as class attributes


def add_arguments(p):
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "--data", help="corpus folder (with manifest.jsonl) or any folder of .mid files"
    )
    src.add_argument(
        "--examples",
        help="a file of examples from `midifill pretokenise` (no corpus needed: for a GPU machine)",
    )
    p.add_argument("--out", required=True, help="checkpoint to write")
    p.add_argument("--init", help="fine-tune from this checkpoint (e.g. the bundled model)")
    p.add_argument("--resume", action="store_true", help="continue the run saved at --out")
    p.add_argument("--steps", type=int, default=C.steps)
    p.add_argument(
        "--max-minutes",
        type=float,
        default=C.max_minutes,
        help="stop (and save) after this much wall time",
    )
    p.add_argument("--batch-size", type=int, default=C.batch_size)
    p.add_argument("--lr", type=float, default=C.lr)
    p.add_argument("--min-lr", type=float, default=C.min_lr)
    p.add_argument("--warmup", type=int, default=C.warmup)
    p.add_argument("--weight-decay", type=float, default=C.weight_decay)
    p.add_argument("--grad-clip", type=float, default=C.grad_clip)
    p.add_argument("--n-layer", type=int, default=C.n_layer)
    p.add_argument("--n-head", type=int, default=C.n_head)
    p.add_argument("--n-embd", type=int, default=C.n_embd)
    p.add_argument("--block-size", type=int, default=C.block_size)
    p.add_argument("--dropout", type=float, default=C.dropout)
    p.add_argument("--eval-every", type=int, default=C.eval_every)
    p.add_argument("--eval-batches", type=int, default=C.eval_batches)
    p.add_argument("--save-every", type=int, default=C.save_every)
    p.add_argument("--seed", type=int, default=C.seed)
    p.add_argument(
        "--context-weight",
        type=float,
        default=C.context_weight,
        help="weight of the prompt's tokens in the loss, against 1 for the fill's "
        "(below 1: the model's capacity goes to writing fills)",
    )
    p.add_argument(
        "--humanise",
        type=float,
        default=C.humanise,
        help="share of training draws from quantised songs that get humanised "
        "onsets, swing and a velocity curve (model/training/humanise.py; default "
        f"{C.humanise}; 0: off)",
    )
    p.add_argument(
        "--drum-patterns",
        type=float,
        default=C.drum_patterns,
        help="share of training draws whose drum part is a made-up groove, the "
        "part to fill (model/training/drum_patterns.py; default "
        f"{C.drum_patterns}; 0: off)",
    )
    p.add_argument(
        "--shared-rows",
        action="store_true",
        help="train PITCH and CHORD rows with shared pitch-class and octave rows "
        "(model/training/shared_rows.py); checkpoints hold the sums",
    )
    p.add_argument("--name", default=C.name, help="model name stored in the checkpoint")
    p.add_argument("--half", action="store_true", help="store weights as float16 (half size)")
    p.add_argument("--threads", type=int, default=C.threads, help="torch CPU threads")
    p.add_argument(
        "--device",
        default=C.device,
        choices=["auto", "cpu", "cuda"],
        help="auto: cuda where there is one (bfloat16 where it has the units)",
    )
