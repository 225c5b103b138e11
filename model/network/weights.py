"""The network's weights as NumPy arrays, read and written without torch.

Inference needs no torch: the compiled and NumPy decoders run on these
arrays, so `midifill generate` and `midifill serve` start in a fraction of
the time torch's import takes. The shipped model is a `.safetensors` file
(the `safetensors` package reads it as NumPy, with no code in the file): its
tensors are the training checkpoint's state dict, and its metadata holds the
same format marker, version, model config, tokenizer config and meta as
JSON strings. Training checkpoints (`.pt`) load through torch into the same
`Weights` (`model/network/checkpoint.py`, which reads and writes both forms).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from ..errors import CheckpointError, quote
from ..files import atomic_path
from .checkpoint_check import (
    check_header,
    check_meta,
    check_model_config,
    check_state,
    metadata_json,
)
from .config import CHECKPOINT_FORMAT, CHECKPOINT_VERSION, ModelConfig


@dataclass
class Weights:
    """A model's config and its stored tensors as float32 arrays (state-dict
    names), with the tokenizer config and meta it travels with."""

    config: ModelConfig
    arrays: dict[str, np.ndarray]
    tokenizer_config: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)
    _module: object = field(default=None, repr=False, compare=False)

    @classmethod
    def from_model(
        cls, model, tokenizer_config: dict | None = None, meta: dict | None = None
    ) -> Weights:
        """The weights of a torch Transformer (kept, so `module()` returns it)."""
        arrays = {
            k: v.detach().float().cpu().numpy().copy() for k, v in model.plain_state_dict().items()
        }
        return cls(
            model.config,
            arrays,
            {} if tokenizer_config is None else tokenizer_config,
            meta or {},
            model.eval(),
        )

    def module(self):
        """The torch Transformer (built on first use: this imports torch)."""
        if self._module is None:
            import torch

            from .transformer import Transformer

            model = Transformer(self.config)
            state = {k: torch.from_numpy(a) for k, a in self.arrays.items()}
            state["lm_head.weight"] = state["wte.weight"]
            model.load_state_dict(state, strict=True)
            self._module = model.eval()
        return self._module

    def decode_bytes(self) -> int:
        """Bytes of float32 weights one decode step reads: every matrix and
        bias and the output head (wte), not the position table nor the
        layer-norm parameters (folded into the matrices)."""
        return 4 * sum(
            a.size
            for k, a in self.arrays.items()
            if k != "wpe.weight" and ".ln_" not in k and not k.startswith("ln_f")
        )

    def save(self, path, half: bool = True) -> None:
        """Write a .safetensors file atomically; float16 tensors by default."""
        from safetensors.numpy import save_file

        dtype = np.float16 if half else np.float32
        tensors = {k: np.ascontiguousarray(a, dtype=dtype) for k, a in self.arrays.items()}
        metadata = {
            "format": CHECKPOINT_FORMAT,
            "version": str(CHECKPOINT_VERSION),
            "model_config": json.dumps(self.config.to_dict()),
            "tokenizer_config": json.dumps(self.tokenizer_config),
            "meta": json.dumps(self.meta, default=str),
        }
        with atomic_path(path) as tmp:
            save_file(tensors, str(tmp), metadata=metadata)


def is_safetensors(path) -> bool:
    """Whether the file looks like safetensors (an 8-byte header length, then
    a JSON object), rather than torch's zip or pickle."""
    try:
        with open(path, "rb") as f:
            head = f.read(9)
    except OSError:
        return False
    return len(head) == 9 and head[8:9] == b"{"


def read_safetensors(path) -> Weights:
    """Weights from a .safetensors file, checked (the shipped form)."""
    from safetensors import safe_open

    where = str(path)
    check_header(path, where)  # from its length, before the reader parses it
    try:
        with safe_open(str(path), framework="np") as f:
            metadata = f.metadata() or {}
            if metadata.get("format") != CHECKPOINT_FORMAT:
                raise CheckpointError(
                    f"{where}: not a midifill checkpoint (no '{CHECKPOINT_FORMAT}' format marker)"
                )
            if metadata.get("version") != str(CHECKPOINT_VERSION):
                raise CheckpointError(
                    f"{where}: checkpoint version "
                    f"{quote(metadata.get('version'))} is not supported "
                    f"(expected {CHECKPOINT_VERSION})"
                )
            config, shapes = check_model_config(
                metadata_json(metadata, "model_config", where), where
            )
            arrays = {k: f.get_tensor(k) for k in f.keys()}
    except CheckpointError:
        raise
    except Exception as exc:  # the safetensors reader's own refusal: a damaged file
        raise CheckpointError(
            f"{where}: not a midifill checkpoint (not a readable "
            f".safetensors file: {type(exc).__name__}: {str(exc)[:200]})"
        ) from None
    tok_cfg = metadata_json(metadata, "tokenizer_config", where)
    meta = metadata_json(metadata, "meta", where)
    meta = check_meta(meta, where)
    arrays = check_state(arrays, shapes, where)
    return Weights(config, arrays, tok_cfg, meta)
