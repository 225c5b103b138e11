"""The network's shape and the checkpoint format's constants: plain data,
imported by every decoder, the checks and training alike (no torch, no
NumPy arrays)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

CHECKPOINT_FORMAT = "midifill-checkpoint"
CHECKPOINT_VERSION = 1
# LayerNorm epsilon: the torch module, the NumPy path and the C step (passed
# to the compiler by model/generation/c_build.py) all use this one
LN_EPS = 1e-5


@dataclass
class ModelConfig:
    vocab_size: int = 1066
    block_size: int = 1024
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 256
    dropout: float = 0.0
    bias: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


def state_shapes(config: ModelConfig) -> dict[str, tuple[int, ...]]:
    """Name -> shape of every stored tensor, in the torch module's state-dict
    order (lm_head.weight is tied to wte.weight and not stored)."""
    C, V = config.n_embd, config.vocab_size
    out: dict[str, tuple[int, ...]] = {"wte.weight": (V, C), "wpe.weight": (config.block_size, C)}

    def layer(prefix: str, n_out: int, n_in: int) -> None:
        out[f"{prefix}.weight"] = (n_out, n_in)
        if config.bias:
            out[f"{prefix}.bias"] = (n_out,)

    def norm(prefix: str) -> None:
        out[f"{prefix}.weight"] = (C,)
        if config.bias:
            out[f"{prefix}.bias"] = (C,)

    for i in range(config.n_layer):
        b = f"blocks.{i}"
        norm(f"{b}.ln_1")
        layer(f"{b}.attn.qkv", 3 * C, C)
        layer(f"{b}.attn.proj", C, C)
        norm(f"{b}.ln_2")
        layer(f"{b}.mlp.fc", 4 * C, C)
        layer(f"{b}.mlp.proj", C, 4 * C)
    norm("ln_f")
    return out
