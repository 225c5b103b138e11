"""Checks of a loaded checkpoint dict, before any model is built from it.

The metadata first, from cheap facts before it is parsed: a .safetensors
header past MAX_HEADER_BYTES is refused from its 8-byte length, a JSON field
past MAX_METADATA_CHARS from its length, one nested past MAX_JSON_DEPTH
from its brackets (json.loads would recurse ~1,000 deep and raise
RecursionError); a torch checkpoint's meta and tokenizer_config are held to
the same depth and to MAX_METADATA_VALUES. The model's name goes into every
reply and log line: at most MAX_NAME_CHARS, anything not printable a '?'.

torch.load(weights_only=True) keeps code out; these keep out the rest: a
config that would allocate 50 GB (n_embd 65536), one the network cannot be
built from (n_head 7 with n_embd 64, block_size -1), tensors that are
missing, extra, misshapen or not finite (NaN weights once loaded and failed
at the first request). Every problem is one CheckpointError naming it.
"""

from __future__ import annotations

import json
import math
import re
import struct
import sys

import numpy as np

from ..errors import CheckpointError, quote
from .config import ModelConfig, state_shapes

MAX_PARAMS = 200_000_000  # 800 MB of float32; the bundled model has 0.92 M
# (low, high) of each integer field of ModelConfig
CONFIG_RANGES = {
    "vocab_size": (1, 1_000_000),
    "block_size": (1, 65_536),
    "n_layer": (1, 128),
    "n_head": (1, 256),
    "n_embd": (1, 16_384),
}
TOKENIZER_RANGES = {
    "ticks_per_beat": (1, 960),
    "max_bar_beats": (1, 64),
    "velocity_bins": (1, 128),
    "max_duration_beats": (1, 64),
    "chord_tokens": (0, 12),
}


MAX_HEADER_BYTES = 4 * 1024 * 1024  # the bundled model's header is 3,480 bytes
MAX_METADATA_CHARS = 256 * 1024  # per JSON field; the bundled model's largest is 613
MAX_METADATA_VALUES = 100_000  # values in a torch checkpoint's meta or tokenizer_config
MAX_JSON_DEPTH = 32  # the bundled model's metadata is 3 deep
MAX_NAME_CHARS = 200
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def check_header(path, where: str) -> None:
    """A .safetensors header refused from its 8-byte length, before the
    reader parses it."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError as exc:
        raise CheckpointError(f"{where}: cannot be read ({exc.strerror or exc})") from None
    size = struct.unpack("<Q", head)[0] if len(head) == 8 else 0
    if size > MAX_HEADER_BYTES:
        raise CheckpointError(
            f"{where}: the .safetensors header is {size:,} bytes; the limit "
            f"is {MAX_HEADER_BYTES:,} (is its metadata a whole file?)"
        )


def json_depth(text: str) -> int:
    """How deep `text`'s arrays and objects nest, counted without parsing
    (brackets inside strings do not count)."""
    depth = deepest = 0
    for c in re.sub(r"[^\[\]{}]", "", _JSON_STRING.sub("", text)):
        depth += 1 if c in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def metadata_json(metadata: dict, key: str, where: str):
    """A .safetensors metadata field parsed, its size and depth held to the
    limits first."""
    if key not in metadata:
        raise CheckpointError(f"{where}: the checkpoint has no {key}")
    text = metadata[key]
    if not isinstance(text, str):
        raise CheckpointError(f"{where}: {key} is not valid JSON")
    if len(text) > MAX_METADATA_CHARS:
        raise CheckpointError(
            f"{where}: {key} is {len(text):,} characters of JSON; the limit "
            f"is {MAX_METADATA_CHARS:,}"
        )
    if json_depth(text) > MAX_JSON_DEPTH:
        raise CheckpointError(f"{where}: {key} is nested more than {MAX_JSON_DEPTH} levels deep")
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise CheckpointError(f"{where}: {key} is not valid JSON") from None


def check_plain(value, key: str, where: str) -> None:
    """A torch checkpoint's plain data held to the depth and count of the
    JSON limits, walked without recursion."""
    stack, seen = [(value, 1)], 0
    while stack:
        item, depth = stack.pop()
        seen += 1
        if seen > MAX_METADATA_VALUES:
            raise CheckpointError(f"{where}: {key} holds more than {MAX_METADATA_VALUES:,} values")
        if isinstance(item, dict):
            children = list(item.values())
        elif isinstance(item, (list, tuple)):
            children = list(item)
        else:
            continue
        if depth > MAX_JSON_DEPTH:
            raise CheckpointError(
                f"{where}: {key} is nested more than {MAX_JSON_DEPTH} levels deep"
            )
        stack += [(c, depth + 1) for c in children]


def check_meta(meta, where: str) -> dict:
    """The checkpoint's meta: a dict whose name is a string of at most
    MAX_NAME_CHARS, returned with that name made printable."""
    if not isinstance(meta, dict) or not isinstance(meta.get("name", ""), str):
        raise CheckpointError(
            f"{where}: meta must be a dict whose name is a string, got {quote(meta)}"
        )
    if "name" not in meta:
        return meta
    name = meta["name"]
    if len(name) > MAX_NAME_CHARS:
        raise CheckpointError(
            f"{where}: meta.name is {len(name):,} characters; the limit is {MAX_NAME_CHARS}"
        )
    return {**meta, "name": "".join(c if c.isprintable() else "?" for c in name)}


def _int_in(value, field: str, lo: int, hi: int, where: str) -> int:
    if type(value) is not int or not lo <= value <= hi:
        raise CheckpointError(
            f"{where}: {field} must be an integer {lo}-{hi:,}, got {quote(value)}"
        )
    return value


def check_model_config(cfg, where: str):
    """A ModelConfig from the stored dict, checked field by field and against
    the parameter budget (counted from the shapes: nothing is allocated)."""
    if not isinstance(cfg, dict):
        raise CheckpointError(f"{where}: model_config must be a dict, got {type(cfg).__name__}")
    unknown = [k for k in cfg if k not in ModelConfig.__dataclass_fields__]
    if unknown:
        raise CheckpointError(f"{where}: unknown model_config field {quote(unknown[0])}")
    for name, (lo, hi) in CONFIG_RANGES.items():
        if name in cfg:
            _int_in(cfg[name], f"model_config.{name}", lo, hi, where)
    config = ModelConfig(**cfg)
    if config.n_embd % config.n_head:
        raise CheckpointError(
            f"{where}: model_config.n_embd ({config.n_embd}) is not a "
            f"multiple of n_head ({config.n_head})"
        )
    dropout = config.dropout
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
        raise CheckpointError(
            f"{where}: model_config.dropout must be in [0, 1), got {quote(dropout)}"
        )
    if not isinstance(config.bias, bool):
        raise CheckpointError(
            f"{where}: model_config.bias must be true or false, got {quote(config.bias)}"
        )
    e = config.n_embd  # embeddings and 12 e^2 a block: all but the norms and biases
    rough = (config.vocab_size + config.block_size) * e + config.n_layer * 12 * e * e
    if rough > MAX_PARAMS:  # refused before the tensors' shapes are even listed
        raise CheckpointError(
            f"{where}: model_config describes over {rough:,} parameters; "
            f"the limit is {MAX_PARAMS:,}"
        )
    shapes = state_shapes(config)  # lm_head.weight is tied to wte.weight, not stored
    params = sum(math.prod(s) for s in shapes.values())
    if params > MAX_PARAMS:
        raise CheckpointError(
            f"{where}: model_config describes {params:,} parameters; the limit is {MAX_PARAMS:,}"
        )
    return config, shapes


def check_state(state, shapes: dict, where: str) -> dict:
    """The stored tensors as float32, each one checked against `shapes`:
    torch tensors (a .pt checkpoint) or NumPy arrays (.safetensors), kept
    as the kind they came as."""
    if not isinstance(state, dict):
        raise CheckpointError(f"{where}: state_dict must be a dict, got {type(state).__name__}")
    missing = [k for k in shapes if k not in state]
    if missing:
        raise CheckpointError(
            f"{where}: weights do not match the stored config: tensor "
            f"{missing[0]} is missing ({len(missing)} missing)"
        )
    extra = [k for k in state if k not in shapes]
    if extra:
        raise CheckpointError(
            f"{where}: weights do not match the stored config: unexpected tensor {quote(extra[0])}"
        )
    out = {}
    for name, shape in shapes.items():
        t = state[name]
        if not _dense_float(t):
            raise CheckpointError(
                f"{where}: {name} must be a dense floating-point tensor, got "
                f"{getattr(t, 'dtype', type(t).__name__)}"
            )
        if tuple(t.shape) != shape:
            raise CheckpointError(
                f"{where}: weights do not match the stored config: {name} "
                f"has shape {tuple(t.shape)}, the config needs {shape}"
            )
        if isinstance(t, np.ndarray):
            t = t.astype(np.float32)
            finite = np.isfinite(t).all()
        else:
            t = t.float()
            finite = sys.modules["torch"].isfinite(t).all()
        if not bool(finite):
            raise CheckpointError(f"{where}: {name} holds NaN or infinite values")
        out[name] = t
    return out


def _dense_float(t) -> bool:
    if isinstance(t, np.ndarray):
        return t.dtype.kind == "f"
    torch = sys.modules.get("torch")  # a torch tensor can only come where torch is loaded
    return (
        torch is not None
        and isinstance(t, torch.Tensor)
        and t.is_floating_point()
        and not t.is_sparse
    )


def check_tokenizer(tok_cfg, vocab_size: int, where: str):
    """The Tokenizer a checkpoint names, bounded before it is built (its
    tables grow with ticks_per_beat and bar length), matching the model."""
    from .tokenizer import Tokenizer, TokenizerConfig

    if not isinstance(tok_cfg, dict):
        raise CheckpointError(
            f"{where}: tokenizer_config must be a dict, got {type(tok_cfg).__name__}"
        )
    for name, (lo, hi) in TOKENIZER_RANGES.items():
        if name in tok_cfg:
            _int_in(tok_cfg[name], f"tokenizer_config.{name}", lo, hi, where)
    for name in ("density_edges", "time_signatures"):
        value = tok_cfg.get(name, [])
        if not isinstance(value, list) or len(value) > 256:
            raise CheckpointError(
                f"{where}: tokenizer_config.{name} must be a list of at most "
                f"256 items, got {quote(value)}"
            )
    try:
        tok = Tokenizer(TokenizerConfig.from_dict(tok_cfg))
    except Exception as exc:  # any field of the wrong shape; the message names it
        raise CheckpointError(
            f"{where}: bad tokenizer config: {type(exc).__name__}: {str(exc)[:200]}"
        ) from None
    if tok.vocab_size != vocab_size:
        raise CheckpointError(
            f"{where}: tokenizer vocabulary {tok.vocab_size} != model vocabulary {vocab_size}"
        )
    return tok
