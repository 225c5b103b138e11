"""`midifill train`: train or fine-tune a model on a folder of MIDI files.

Runs alone or under `torchrun --nproc_per_node N` (DistributedDataParallel,
gloo on CPU, nccl on GPU). Checkpoints are written every --save-every steps
and at the end, with the optimizer state, so `--resume` goes on where a run
stopped.
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import time
from contextlib import nullcontext
from dataclasses import dataclass, fields, replace
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F

from ..network.checkpoint import load_checkpoint, save_checkpoint
from ..network.checkpoint_check import check_tokenizer
from ..network.config import ModelConfig
from ..network.tokenizer import Tokenizer, TokenizerConfig
from ..network.transformer import Transformer, grow_vocabulary
from .batches import batch, from_arrays, from_songs, target_weights
from .config import TrainConfig, add_arguments  # noqa: F401  (the CLI reads add_arguments here)
from .pretokenise import ExampleArrays
from .progress import Progress, plot_loss
from .shared_rows import attach as attach_shared_rows

log = logging.getLogger("midifill.train")


def run(args) -> int:
    names = {f.name for f in fields(TrainConfig)}
    train(TrainConfig(**{k: v for k, v in vars(args).items() if k in names}))
    return 0


def _bf16_ok(device: str) -> bool:
    if device == "cuda":
        return torch.cuda.is_bf16_supported()
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def lr_at(cfg: TrainConfig, step: int) -> float:
    """Linear warm-up, then a cosine from lr down to min_lr at the last step."""
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    frac = min(1.0, (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup))
    return cfg.min_lr + 0.5 * (cfg.lr - cfg.min_lr) * (1 + math.cos(math.pi * frac))


def _choose_device(device: str) -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA device is available to torch here")
    return device


def _start_processes(device: str) -> tuple[bool, int, int]:
    """(distributed, rank, world): under torchrun, join the process group."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return False, 0, 1
    dist.init_process_group("nccl" if device == "cuda" else "gloo")
    if device == "cuda":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
    return True, dist.get_rank(), dist.get_world_size()


def _load_model(cfg: TrainConfig, out: Path, arrays):
    """(model, tokenizer, saved state or None): resumed from --out, fine-tuned
    from --init, or new; dropout set to this run's in every case."""
    state = None
    if cfg.resume and out.is_file():
        model, tok_cfg, state = load_checkpoint(out)
        tok = check_tokenizer(tok_cfg, model.config.vocab_size, str(out))
    elif cfg.init:
        model, tok_cfg, _ = load_checkpoint(cfg.init)
        check_tokenizer(tok_cfg, model.config.vocab_size, str(cfg.init))
        # fine-tuning writes today's token format (model/network/tokenizer.py): drum
        # hits without a DUR token, fill bars opened by CHORD tokens and prompts
        # with UNSEEN_BAR tokens, whose rows are added to the model's vocabulary
        today = TokenizerConfig()
        tok = Tokenizer(
            TokenizerConfig.from_dict(
                dict(
                    tok_cfg,
                    drum_durations=today.drum_durations,
                    chord_tokens=today.chord_tokens,
                    unseen_bars=today.unseen_bars,
                )
            )
        )
        if tok.vocab_size > model.config.vocab_size:
            grow_vocabulary(model, tok.vocab_size)
    else:
        tok = (
            Tokenizer(TokenizerConfig.from_dict(arrays.tokenizer_config)) if arrays else Tokenizer()
        )
        model = Transformer(
            ModelConfig(
                vocab_size=tok.vocab_size,
                block_size=cfg.block_size,
                n_layer=cfg.n_layer,
                n_head=cfg.n_head,
                n_embd=cfg.n_embd,
                dropout=cfg.dropout,
            )
        )
    saved_rows = state.get("shared_rows") if state is not None else None
    if cfg.shared_rows or saved_rows is not None:
        attach_shared_rows(model, tok, saved_rows)
    model.config.dropout = cfg.dropout
    for m in model.modules():
        if isinstance(m, torch.nn.Dropout):
            m.p = cfg.dropout
    return model, tok, state


def _optimizer(model, cfg: TrainConfig):
    """AdamW with weight decay on the matrices only (not on norms and biases)."""
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    return torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": cfg.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ],
        lr=cfg.lr,
        betas=(0.9, 0.95),
    )


@torch.no_grad()
def _valid_loss(model, valid_set, pad: int, device: str, amp) -> float:
    """Mean cross-entropy per target token over the fixed validation batches."""
    model.eval()
    total, count = 0.0, 0
    for exs in valid_set:
        x, y = batch(exs, pad)
        with amp:
            _, loss = model(x.to(device), y.to(device))
        n = int((y >= 0).sum())
        total += float(loss) * n
        count += n
    model.train()
    return total / max(1, count)


def _save(
    cfg: TrainConfig,
    out: Path,
    model,
    tok,
    opt,
    history: dict,
    step: int,
    seconds: float,
    tokens_seen: int,
    machine: str,
) -> None:
    """The checkpoint with the optimizer state (for --resume), and the loss plot."""
    meta = {
        "name": cfg.name or out.stem,
        "steps": step,
        "train_seconds": round(seconds, 1),
        "data": str(cfg.examples or cfg.data),
        "valid_loss": history["valid"][-1][1] if history["valid"] else None,
        "tokens_seen": tokens_seen,
        "params": model.num_params(),
        "machine": machine,
    }
    extra = {"optimizer": opt.state_dict(), "step": step, "history": json.dumps(history)}
    if model.shared is not None:  # for --resume: the table holds their sums
        extra["shared_rows"] = {k: v.detach().clone() for k, v in model.shared.state_dict().items()}
    save_checkpoint(out, model, tok.config.to_dict(), meta, half=cfg.half, extra=extra)
    plot_loss(history, out.with_suffix(".loss.png"))


def _step(net, model, opt, x, y, w, amp, lr: float, grad_clip: float):
    """One optimizer step on one batch, its targets weighted by `w`; returns
    the batch's weighted mean loss."""
    for g in opt.param_groups:
        g["lr"] = lr
    with amp:
        logits, _ = net(x)
        ce = F.cross_entropy(
            logits.float().flatten(0, 1), y.flatten().clamp(min=0), reduction="none"
        )
        loss = (ce * w.flatten()).sum() / w.sum().clamp(min=1e-9)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    opt.step()
    return loss


@dataclass
class _Run:
    """What every step of one run reads, once it is set up."""

    cfg: TrainConfig
    out: Path
    device: str
    distributed: bool
    world: int
    main: bool  # rank 0, which saves
    talk: bool  # rank 0 unless quiet: logs and shows the bar
    model: Transformer
    net: torch.nn.Module  # the model, inside DistributedDataParallel when distributed
    tok: Tokenizer
    opt: torch.optim.Optimizer
    amp: object
    batches: object
    valid_set: list
    state: dict | None  # what --resume read from --out


def _set_up(cfg: TrainConfig) -> _Run:
    """Processes, seeds, model, data and optimizer, in the order the seeds
    need: the model is initialised and the data drawn after seeding."""
    device = _choose_device(cfg.device)
    arrays = ExampleArrays(cfg.examples) if cfg.examples else None
    distributed, rank, world = _start_processes(device)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    main = rank == 0
    talk = main and not cfg.quiet
    out = Path(cfg.out)
    torch.manual_seed(cfg.seed + rank)
    rng = random.Random(cfg.seed * 1000 + rank)

    model, tok, state = _load_model(cfg, out, arrays)
    block_size = model.config.block_size
    model.to(device).train()

    if arrays is not None:
        batches, valid_set = from_arrays(
            arrays, tok, block_size, rng, cfg.batch_size, cfg.eval_batches, cfg.seed
        )
        what = f"{arrays.count('train')} pretokenised examples ({cfg.examples})"
    else:
        batches, valid_set, what = from_songs(
            cfg.data,
            tok,
            block_size,
            rng,
            cfg.batch_size,
            cfg.eval_batches,
            cfg.seed,
            cfg.humanise,
            cfg.drum_patterns,
        )
    if talk:
        log.info("%s; model %.2fM params on %s", what, model.num_params() / 1e6, device)

    opt = _optimizer(model, cfg)
    if state is not None:
        opt.load_state_dict(state["optimizer"])
    net = torch.nn.parallel.DistributedDataParallel(model) if distributed else model
    amp = torch.autocast(device, dtype=torch.bfloat16) if _bf16_ok(device) else nullcontext()
    return _Run(
        cfg,
        out,
        device,
        distributed,
        world,
        main,
        talk,
        model,
        net,
        tok,
        opt,
        amp,
        batches,
        valid_set,
        state,
    )


def _so_far(state: dict | None) -> tuple[int, dict, float, int]:
    """(step, history, seconds, tokens seen) of the run --resume goes on with,
    or of a new one."""
    if state is None:
        return 0, {"train": [], "valid": []}, 0.0, 0
    meta = state.get("meta", {})
    return (
        int(state["step"]),
        json.loads(state["history"]),
        float(meta.get("train_seconds", 0.0)),
        int(meta.get("tokens_seen", 0)),
    )


def _evaluate_and_save(
    r: _Run, step: int, loss: float, history: dict, seconds: float, tokens_seen: int, stopping: bool
) -> None:
    """The valid loss every --eval-every steps, the checkpoint every
    --save-every, and both at the last step."""
    cfg = r.cfg
    if step % cfg.eval_every == 0 or step == cfg.steps or stopping:
        v = _valid_loss(r.model, r.valid_set, r.tok.PAD, r.device, r.amp)
        history["valid"].append([step, round(v, 4)])
        if r.talk:
            log.info("step %d train %.4f valid %.4f", step, loss, v)
    if r.main and (step % cfg.save_every == 0 or step == cfg.steps or stopping):
        _save(
            cfg,
            r.out,
            r.model,
            r.tok,
            r.opt,
            history,
            step,
            seconds,
            tokens_seen,
            f"{r.device}, {torch.get_num_threads()} threads, world {r.world}",
        )


def train(cfg: TrainConfig | None = None, /, **kwargs) -> dict:
    """Run one training; pass a TrainConfig or its fields as keywords."""
    if cfg is None:
        cfg = TrainConfig(**kwargs)
    elif kwargs:
        cfg = replace(cfg, **kwargs)
    r = _set_up(cfg)
    step, history, seconds_before, tokens_seen = _so_far(r.state)
    bar = Progress(cfg.steps, step) if r.talk else None
    t_start = time.time()
    while step < cfg.steps:
        x, y = batch(r.batches.next(), r.tok.PAD)
        x, y = x.to(r.device), y.to(r.device)
        w = target_weights(x, y, r.tok.FILL_START, cfg.context_weight)
        loss = _step(r.net, r.model, r.opt, x, y, w, r.amp, lr_at(cfg, step), cfg.grad_clip)
        step += 1
        n_tok = int((y >= 0).sum()) * r.world
        tokens_seen += n_tok
        history["train"].append([step, round(loss.item(), 4)])
        if bar is not None:
            bar.step(loss.item(), n_tok)
        timeout = cfg.max_minutes is not None and (time.time() - t_start) / 60 >= cfg.max_minutes
        _evaluate_and_save(
            r,
            step,
            loss.item(),
            history,
            seconds_before + time.time() - t_start,
            tokens_seen,
            timeout,
        )
        if timeout:
            if r.talk:
                log.info(
                    "stopping at step %d after %.1f minutes (--max-minutes)", step, cfg.max_minutes
                )
            break
    if bar is not None:
        bar.close()
    if r.distributed:
        dist.destroy_process_group()
    return {
        "step": step,
        "history": history,
        "tokens_seen": tokens_seen,
        "seconds": time.time() - t_start,
    }
