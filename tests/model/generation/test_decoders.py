"""The decoders (model/generation/decoders.py: compiled, NumPy, reference) against the
torch module; the sampler against the distribution it must draw from, and
the compiled sampler against the NumPy one.

Tolerance: the compiled and NumPy paths compute in float32 in another order
(the layer-norm gains folded into the matrices, fused multiply-adds), so
their logits differ from the reference by float32 rounding only; we require
max |difference| <= 1e-4 for logits of magnitude ~1-10. The engine's
tokens must be identical on every path.
"""

import random

import numpy as np
import pytest
import torch

from midifill.model import Engine
from midifill.model.generation import decoders
from midifill.model.generation.fast import KV, FastDecoder, PromptCache
from midifill.model.generation.sampling import Controls, Noise, sample
from midifill.model.midi_io import read_midi
from midifill.model.network.transformer import KVCache
from midifill.model.network.weights import Weights
from tests.support import IN_CI
from tests.support.decoders import REQUESTS, close, decoder, random_model

KINDS = ["compiled", "numpy", "reference"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("batch", [1, 3, 6])
def test_decoders_give_the_reference_logits(kind, bias, batch):
    """Through the interface: a prompt for `batch` rows, then steps with a
    different token per row, rows leaving at steps 10 and 20; every live
    row's logits as the torch module gives them for the whole batch."""
    # width 40: heads of 10 and matrices whose widths are not multiples of
    # the kernel's blocks, so every remainder path runs
    model = random_model(bias, 64 if batch < 6 else 40)
    dec = decoder(kind, model)
    prompt = list(range(10, 90))
    run = dec.start(prompt, batch, 40)
    ref = KVCache(model.config, batch, 120)
    want = model.prefill(torch.tensor([prompt] * batch), ref)
    assert run.logits.shape == tuple(want.shape) and close(run.logits, want)
    g = torch.Generator().manual_seed(1)
    live = list(range(batch))
    with run:
        for step in range(30):
            tokens = torch.randint(10, 1000, (batch,), generator=g)
            want = model.decode(tokens, ref)
            if step in (10, 20) and len(live) > 1:
                live = live[1:] if step == 10 else live[-1:]
            got = run.step(tokens[live].tolist(), live)
            assert close(got, want[live]), step


def test_the_decoder_comes_from_the_argument_else_the_environment(monkeypatch):
    weights = Weights.from_model(random_model(False))
    monkeypatch.setenv("MIDIFILL_DECODER", "numpy")
    assert decoders.build(None, weights).name == "numpy"
    assert decoders.build("reference", weights).name == "reference"
    monkeypatch.setenv("MIDIFILL_DECODER", "gpu")
    with pytest.raises(ValueError, match="auto, compiled, numpy, reference"):
        decoders.build(None, weights)


def test_compiled_rows_share_one_copy_of_the_prompt():
    dec = decoder("compiled", random_model(True))
    run = dec.start(list(range(10, 90)), 4, 40)
    assert dec.prompt_cache.k[0].shape[1] == 80  # (H, n, hd): one row, never copied
    with pytest.raises(ValueError):
        run.step([5], [4])


def test_fast_decode_refuses_to_outgrow_the_cache():
    fast = FastDecoder(Weights.from_model(random_model(False)))
    pc = PromptCache(fast)
    pc.ensure([5, 6, 7])
    cache = KV(fast.config, 1, 3)
    cache.pos = 3
    with pytest.raises(ValueError):
        fast.decode([8], cache)


def test_numpy_prefill_matches_the_torch_forward():
    """The NumPy prefill (no torch) against Transformer.forward: the last
    logits and every key and value, for a prompt run whole and for one run
    after a cached prefix; the prompt cache runs only what differs. The
    lengths cross several blocks of queries (model/generation/fast.py PREFILL_ROWS),
    and the second prompt's new part starts inside one."""
    model = random_model(True)
    pc = PromptCache(FastDecoder(Weights.from_model(model)))
    a = list(range(10, 210))
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

    assert run(a) == len(a)  # cold
    assert run(a) == 0  # the same prompt again: nothing runs
    assert run(b) == len(b) - 145  # only the tokens after the shared prefix
    assert run(b[:30]) == 1  # a prefix of the cached prompt: its last token


def test_engine_notes_identical_on_every_decoder(tiny_checkpoint, fixtures_dir):
    """Same seeds, same notes, whichever decoder runs (the compiled and NumPy
    ones with their prompt cache warm or cold)."""
    base = Engine.from_checkpoint(tiny_checkpoint)
    engines = {}
    for kind in KINDS:
        try:
            engines[kind] = Engine(base.weights, base.tok, base.name, decoder=kind)
        except RuntimeError:
            if IN_CI:
                pytest.fail("the C decode step did not build (a C compiler is needed under CI)")
    assert {e.decoder.name for e in engines.values()} == set(engines)
    pop = read_midi(fixtures_dir / "pop_4-4_tempo_change.mid")
    for spec in REQUESTS + REQUESTS:  # the second pass finds the prompt cache warm
        spec = dict(spec)
        req = dict(
            pop.to_payload(),
            mode=spec.pop("mode", "fill"),
            target={"track": spec.pop("track"), "start": spec.pop("start"), "end": spec.pop("end")},
            controls=spec,
        )
        got = {kind: e.run(req)["variations"] for kind, e in engines.items()}
        assert all(v == got["reference"] for v in got.values()), spec
        assert any(v["notes"] for v in got["reference"])


def reference_probs(logits, controls):
    """The distribution the sampler must draw from, written plainly in torch
    over the whole vocabulary: temperature, top-k, softmax, top-p."""
    logits = torch.from_numpy(logits) / controls.temperature
    finite = int((~torch.isinf(logits)).sum())
    if controls.top_k and controls.top_k > 0:
        kth = torch.topk(logits, min(controls.top_k, finite)).values[-1]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = torch.softmax(logits.double(), dim=-1)
    if 0 < controls.top_p < 1:
        sorted_p, order = torch.sort(probs, descending=True, stable=True)
        keep = torch.cumsum(sorted_p, 0) - sorted_p < controls.top_p
        probs = torch.zeros_like(probs).scatter(0, order, sorted_p * keep)
    return (probs / probs.sum()).numpy()


def test_sampler_draws_from_the_filtered_distribution():
    """40 random cases x 4,000 draws: every token drawn is one the
    distribution allows, and the frequencies are within 4.5 standard errors
    of its probabilities (a wrong temperature, top-k or top-p would be off by
    far more); a seed repeats its draws."""
    rng = random.Random(0)
    g = np.random.default_rng(0)
    n = 4000
    for case in range(40):
        logits = (g.standard_normal(1054) * rng.choice([0.5, 2.0, 4.0])).astype(np.float32)
        n_allowed = rng.choice([2, 12, 96])
        logits[g.permutation(1054)[n_allowed:]] = -np.inf
        controls = Controls(
            temperature=rng.choice([0.7, 1.0, 1.5]),
            top_p=rng.choice([0.5, 0.9, 1.0]),
            top_k=rng.choice([0, 5]),
        )
        want = reference_probs(logits, controls)
        draw = Noise(case)
        got = np.bincount([sample(logits, controls, draw) for _ in range(n)], minlength=1054) / n
        assert got[want == 0].sum() == 0, case
        err = np.sqrt(want * (1 - want) / n) + 1e-9
        assert (np.abs(got - want) <= 4.5 * err + 1e-3).all(), case
        first, second = Noise(case), Noise(case)
        assert [sample(logits, controls, first) for _ in range(50)] == [
            sample(logits, controls, second) for _ in range(50)
        ]


def test_compiled_sampler_picks_what_the_numpy_sampler_picks():
    """The same steps and the same draws: 1,000 random cases (temperature,
    top-k with ties, top-p, a single allowed token, greedy) give the same
    token in both, from the same seeds, and consume the same draws."""
    from midifill.model.generation.fast_c import CSampler

    compiled = CSampler.build()
    if compiled is None:
        if IN_CI:
            pytest.fail("the compiled sampler did not build (a C compiler is needed under CI)")
        pytest.skip("no C compiler")
    rng = random.Random(0)
    g = np.random.default_rng(0)
    for case in range(1000):
        logits = (g.standard_normal(1054) * rng.choice([0.5, 2.0, 5.0])).astype(np.float32)
        if case % 10 == 0:
            logits = np.round(logits)  # ties, for top-k
        logits[g.permutation(1054)[rng.choice([1, 2, 12, 96, 1054]) :]] = -np.inf
        controls = Controls(
            temperature=rng.choice([0, 0.7, 1.0, 1.5]),
            top_p=rng.choice([0.5, 0.9, 0.95, 1.0]),
            top_k=rng.choice([0, 0, 5]),
        )
        a, b = Noise(case), Noise(case)
        assert sample(logits, controls, a) == compiled(logits, controls, b), (case, controls)
        assert a.pos == b.pos and a.take(1) == b.take(1)
