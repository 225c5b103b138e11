"""The compiled prefill (model/generation/prefill.c through prefill_c.py's
PackedPromptCache) against the torch module and the NumPy prefill.

Tolerance as for the compiled decode step (tests/model/generation/
test_decoders.py): float32 rounding in another order, max |difference|
<= 1e-4 for the logits (magnitude ~1-10), 1e-5 for keys and values. The
engine's notes on the compiled decoder equal the reference's for the same
seed (test_decoders.py's test_engine_notes_identical_on_every_decoder, whose
compiled decoder now prefills in C).
"""

import numpy as np
import pytest
import torch

from midifill.model import Engine
from midifill.model.generation.c_build import PANEL, PREFILL_CHUNK
from midifill.model.generation.fast import FastDecoder, PromptCache
from midifill.model.generation.fast_c import CDecoder, SplitCache
from midifill.model.generation.prefill_c import PackedPromptCache
from midifill.model.network.transformer import KVCache
from midifill.model.network.weights import Weights
from tests.support import IN_CI
from tests.support.decoders import LOGIT_TOLERANCE, close, random_model


def compiled(weights) -> CDecoder:
    dec = CDecoder.build(weights)
    if dec is None:
        if IN_CI:
            pytest.fail("the compiled prefill did not build (a C compiler is needed under CI)")
        pytest.skip("no C compiler: the engine prefills with NumPy")
    return dec


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("n_embd", [64, 40])
def test_compiled_prefill_matches_the_torch_forward(bias, n_embd):
    """The last logits and every key and value as Transformer.forward and
    Transformer.prefill give them, for a prompt run whole (several chunks
    of PREFILL_CHUNK tokens, the last one partial) and for prompts run after
    a kept prefix that ends inside a chunk and inside a panel; the cache
    runs only what differs. Width 40 gives heads of 10 floats, narrower
    than a panel, so every remainder path runs."""
    model = random_model(bias, n_embd)
    pc = compiled(Weights.from_model(model)).new_prompt_cache()
    assert isinstance(pc, PackedPromptCache)
    a = list(range(10, 10 + 2 * PREFILL_CHUNK + 37))
    b = a[:145] + list(range(300, 360))

    def run(tokens):
        logits, ran = pc.ensure(tokens)
        full, _ = model(torch.tensor([tokens]))
        assert close(logits, full[0, -1])
        ref = KVCache(model.config, 1, len(tokens))
        model.prefill(torch.tensor([tokens]), ref)
        for x, y in zip(pc.k + pc.v, ref.k + ref.v):
            assert torch.allclose(torch.from_numpy(x), y[0], atol=1e-5)
        return ran

    assert run(a) == len(a)
    assert run(a) == 0  # the same prompt again: nothing runs
    assert run(b) == len(b) - 145  # only the tokens after the shared prefix
    assert run(b[:30]) == 1  # a prefix of the cached prompt: its last token
    assert run(a[:1]) == 1  # one token


def test_packed_keys_are_those_the_decode_step_packs():
    """What the compiled prefill leaves packed for the decode step equals
    SplitCache's own packing of the NumPy prefill's plain keys and values,
    padding included (zeros), after a kept prefix too."""
    weights = Weights.from_model(random_model(True, 40))
    dec = compiled(weights)
    packed, plain = dec.new_prompt_cache(), PromptCache(FastDecoder(weights))
    for tokens in (list(range(20, 120)), list(range(20, 95)) + [7, 8, 9]):
        packed.ensure(tokens)
        plain.ensure(tokens)
        mine = SplitCache(dec.config, packed, 2, 8)
        theirs = SplitCache(dec.config, plain, 2, 8)
        assert mine.prefix_kt is packed.kt and len(mine.prefix_kt) == dec.config.n_layer
        for x, y in zip(mine.prefix_kt + mine.prefix_v, theirs.prefix_kt + theirs.prefix_v):
            assert x.shape == y.shape
            np.testing.assert_allclose(x, y, atol=1e-5, rtol=0)
            assert (x[y == 0] == 0).all()  # the padding weighs nothing


def test_compiled_prefill_agrees_with_numpy_on_the_bundled_model():
    """The bundled model at its full context (block_size tokens, every chunk
    full): the compiled prefill's logits and keys equal the NumPy prefill's."""
    weights = Engine.from_checkpoint(None).weights
    n = weights.config.block_size
    tokens = np.random.default_rng(0).integers(10, weights.config.vocab_size, n).tolist()
    packed = compiled(weights).new_prompt_cache()
    plain = PromptCache(FastDecoder(weights))
    got, _ = packed.ensure(tokens)
    want, _ = plain.ensure(tokens)
    assert np.abs(got - want).max() <= LOGIT_TOLERANCE
    for x, y in zip(packed.k + packed.v, plain.k + plain.v):
        np.testing.assert_allclose(x, y, atol=1e-4, rtol=0)
    assert packed.kt[0].shape[1] * PANEL == n  # no padding: n is whole panels


def test_compiled_prefill_refuses_what_the_model_cannot_read():
    """A prompt longer than the model's context, or a token outside its
    vocabulary: a ValueError, never a read past the weights."""
    model = random_model(False)
    pc = compiled(Weights.from_model(model)).new_prompt_cache()
    with pytest.raises(ValueError, match="block_size"):
        pc.ensure([5] * (model.config.block_size + 1))
    for bad in (-1, model.config.vocab_size):
        with pytest.raises(ValueError, match="vocabulary"):
            pc.ensure([5, 6, bad])
    assert pc.ensure([5, 6, 7])[1] == 3  # and it still works
