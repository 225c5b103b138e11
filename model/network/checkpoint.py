"""Checkpoints, read and written in one place.

Two forms: a training checkpoint (`.pt`, torch's format: the weights, the
optimizer state and the loss history; read and written with torch) and the
shipped form (`.safetensors`: float16 weights and their configs, read as
NumPy arrays without torch, `model/network/weights.py`). `load_weights`
gives the NumPy `Weights` of either (what inference uses); `load_checkpoint`
gives the torch module of either (what training and the reference decoder
use). Everything is checked before it is used (`checkpoint_check.py`); any
problem is one CheckpointError that names it. torch is imported only by the
functions that need it.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import CheckpointError, quote
from ..files import atomic_path
from .checkpoint_check import check_meta, check_model_config, check_plain, check_state
from .config import CHECKPOINT_FORMAT, CHECKPOINT_VERSION
from .weights import Weights, is_safetensors, read_safetensors


def load_weights(path) -> Weights:
    """Weights from a .safetensors file, or from a torch checkpoint (which
    imports torch). Everything is checked before it is used; any problem is
    one CheckpointError that names it."""
    if not is_safetensors(path):
        try:
            import torch  # noqa: F401  (only to say clearly when it is missing)
        except ImportError:
            raise CheckpointError(
                f"{path}: not a .safetensors file, and PyTorch, which reads "
                "other checkpoints, is not installed"
            ) from None
        model, tok_cfg, ckpt = load_checkpoint(path)
        return Weights.from_model(model, tok_cfg, ckpt.get("meta") or {})
    return read_safetensors(path)


def save_checkpoint(
    path,
    model,
    tokenizer_config: dict,
    meta: dict | None = None,
    half: bool = False,
    extra: dict | None = None,
) -> None:
    """Write a self-describing checkpoint atomically. `half` stores weights as
    float16 (the bundled model), restored to float32 on load. Rows shared
    in training are stored summed into the token table: the checkpoint is a
    plain model."""
    import torch

    state = {
        k: (v.half() if half and v.is_floating_point() else v).clone()
        for k, v in model.plain_state_dict().items()
    }
    ckpt = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "model_config": model.config.to_dict(),
        "tokenizer_config": tokenizer_config,
        "state_dict": state,
        "meta": meta or {},
    }
    if extra:
        ckpt.update(extra)
    with atomic_path(path) as tmp:
        torch.save(ckpt, tmp)


def load_checkpoint(path) -> tuple:
    """(model in eval mode, tokenizer config dict, the whole checkpoint dict).

    Everything is checked before the model is built (model/network/checkpoint_check.py);
    any problem is one CheckpointError that names it. A .safetensors file (the
    shipped form) loads too, as a checkpoint without optimizer state.
    """
    if os.path.isdir(path):
        raise CheckpointError(f"{path}: is a folder, not a checkpoint file")
    if not os.path.isfile(path):
        raise CheckpointError(f"{path}: no such checkpoint file")
    if os.path.getsize(path) == 0:
        raise CheckpointError(f"{path}: the file is empty (0 bytes), not a checkpoint")
    if is_safetensors(path):
        w = read_safetensors(path)
        return (
            w.module(),
            w.tokenizer_config,
            {
                "format": CHECKPOINT_FORMAT,
                "version": CHECKPOINT_VERSION,
                "model_config": w.config.to_dict(),
                "tokenizer_config": w.tokenizer_config,
                "meta": w.meta,
            },
        )
    import torch

    from .transformer import Transformer

    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise CheckpointError(f"{path}: not a midifill checkpoint ({_load_failure(exc)})") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(
            f"{path}: not a midifill checkpoint (no '{CHECKPOINT_FORMAT}' format marker)"
        )
    if ckpt.get("version") != CHECKPOINT_VERSION:
        raise CheckpointError(
            f"{path}: checkpoint version {quote(ckpt.get('version'))} is not "
            f"supported (expected {CHECKPOINT_VERSION})"
        )
    for key in ("model_config", "tokenizer_config", "state_dict"):
        if key not in ckpt:
            raise CheckpointError(f"{path}: the checkpoint has no {key}")
    for key in ("meta", "tokenizer_config"):  # plain data, bounded before it is read
        check_plain(ckpt.get(key, {}), key, str(path))
    ckpt["meta"] = check_meta(ckpt.get("meta", {}), str(path))
    config, shapes = check_model_config(ckpt["model_config"], str(path))
    state = check_state(ckpt["state_dict"], shapes, str(path))
    model = Transformer(config)
    state["lm_head.weight"] = state["wte.weight"]
    model.load_state_dict(state, strict=True)  # names and shapes already match
    model.eval()
    return model, ckpt["tokenizer_config"], ckpt


def _load_failure(exc: Exception) -> str:
    """Why torch.load refused a file, in our words: PyTorch's own message
    suggests weights_only=False, which would run whatever code the file holds."""
    text = str(exc)
    if "weights_only" in text or "Weights only load failed" in text:
        return "it holds Python objects other than tensors and plain data; they are never loaded"
    first = text.splitlines()[0][:200] if text.strip() else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def export_checkpoint(src, dst, half: bool = True) -> None:
    """Copy a training checkpoint without its optimizer state, with float16
    weights by default: to a .safetensors file (the form that ships, read
    without torch) where `dst` ends so, else to a torch checkpoint."""
    if str(dst).endswith(".safetensors"):
        export_safetensors(src, dst, half=half)
        return
    model, tok_cfg, ckpt = load_checkpoint(src)
    save_checkpoint(dst, model, tok_cfg, ckpt.get("meta", {}), half=half)


def export_safetensors(src, dst, half: bool = True) -> None:
    """The shipped form of a checkpoint (a .pt or a .safetensors file): the
    weights, float16 by default, with their configs and meta, no optimizer."""
    w = load_weights(src)
    Path(dst).parent.mkdir(parents=True, exist_ok=True)
    w.save(dst, half=half)
