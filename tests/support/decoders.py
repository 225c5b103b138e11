"""What the decoder tests share: a small random network with non-trivial
norms and biases, a decoder of each kind built from it, the tolerance its
logits are held to against the torch module, and requests of every shape."""

import numpy as np
import pytest
import torch

from midifill.model.generation import decoders
from midifill.model.network.config import ModelConfig
from midifill.model.network.tokenizer import Tokenizer
from midifill.model.network.transformer import Transformer
from midifill.model.network.weights import Weights
from tests.support import IN_CI

LOGIT_TOLERANCE = 1e-4


def random_model(bias, n_embd=64):
    torch.manual_seed(0)
    model = Transformer(
        ModelConfig(
            vocab_size=Tokenizer().vocab_size,
            block_size=256,
            n_layer=3,
            n_head=4,
            n_embd=n_embd,
            bias=bias,
        )
    ).eval()
    with torch.no_grad():  # non-trivial layer-norm gains and biases, to test the folding
        for name, p in model.named_parameters():
            if "ln" in name or name.endswith("bias"):
                p.add_(torch.randn_like(p) * 0.3)
    return model


def decoder(kind, model):
    try:
        return decoders.build(kind, Weights.from_model(model))
    except RuntimeError:
        if IN_CI:
            pytest.fail("the C decode step did not build (a C compiler is needed under CI)")
        pytest.skip("no C compiler: the engine decodes with NumPy")


def close(got, want):
    return (torch.as_tensor(np.asarray(got)) - want).abs().max() <= LOGIT_TOLERANCE


REQUESTS = [
    dict(track="1", start=8.0, end=16.0, seed=3, variations=2),
    dict(track="2", start=4.0, end=12.0, seed=4, variations=1, max_polyphony=2),
    dict(track="1", start=5.25, end=26.0, seed=9, variations=3, temperature=1.3, top_p=0.9),
    dict(track="3", start=32.0, end=40.0, seed=5, mode="continue", top_k=20, key="C major"),
]
