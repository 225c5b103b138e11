"""sample() draws what it says: each allowed token with its probability after
temperature, top-k (ties with the k-th kept) and top-p (the fewest tokens
whose probability reaches top_p); greedy at temperature 0; a lone allowed
token costs no draw. Noise hands out one seed's uniform draws in order,
whatever the block sizes. apply_filters skips a marked filter only after the
grammar has run, and falls back to the grammar when a chain leaves nothing."""

import ctypes
from collections import Counter

import numpy as np
import pytest

from midifill.model.generation.grammar import FillPlan, FillState
from midifill.model.generation.sampling import (
    NEG_INF,
    Controls,
    Noise,
    Step,
    acts_in,
    apply_filters,
    grammar_filter,
    sample,
)
from midifill.model.network.tokenizer import Tokenizer
from midifill.model.song import Bar

pytestmark = pytest.mark.promise


TOK = Tokenizer()
N = 20_000


def logits_of(values, size=12):
    out = np.full(size, NEG_INF, np.float32)
    out[: len(values)] = values
    return out


def frequencies(logits, draws=N, seed=3, **controls):
    noise = Noise(seed)
    c = Controls(**controls)
    got = Counter(sample(logits, c, noise) for _ in range(draws))
    return {t: n / draws for t, n in got.items()}


def softmax(values):
    e = np.exp(np.asarray(values, np.float64) - max(values))
    return e / e.sum()


def assert_close(freq, probs, tol=0.015):
    for t, p in enumerate(probs):
        assert abs(freq.get(t, 0.0) - p) < tol, (t, freq.get(t, 0.0), p)
    assert set(freq) <= {t for t, p in enumerate(probs) if p > 0}


@pytest.mark.parametrize("temperature", [0.5, 1.0, 2.0])
def test_each_token_is_drawn_with_its_probability(temperature):
    values = [0.0, 0.5, 1.0, 1.5, -1.0]
    assert_close(
        frequencies(logits_of(values), temperature=temperature, top_p=1.0),
        softmax([v / temperature for v in values]),
    )


def test_large_logits_do_not_overflow():
    values = [80.0, 81.0, 80.5]
    assert_close(frequencies(logits_of(values), top_p=1.0), softmax(values))


def test_top_k_keeps_the_k_best_and_those_tied_with_the_kth():
    values = [0.0, 2.0, 1.0, 1.5, -0.5]
    assert_close(
        frequencies(logits_of(values), top_k=2, top_p=1.0),
        softmax([NEG_INF if v < 1.5 else v for v in values]),
    )
    assert_close(frequencies(logits_of(values), top_k=1, top_p=1.0), [0, 1, 0, 0, 0])
    tied = [1.0, 1.0, 0.0, 1.0]
    assert_close(frequencies(logits_of(tied), top_k=2, top_p=1.0), [1 / 3, 1 / 3, 0, 1 / 3])
    # k at or past the number of allowed tokens, or 0: no cut (with top-p too)
    for k in (0, 5, 6, 100):
        assert_close(frequencies(logits_of(values), top_k=k, top_p=1.0), softmax(values))
    assert_close(
        frequencies(logits_of(values), draws=5000, top_k=100, top_p=0.999),
        softmax(values),
        tol=0.03,
    )


@pytest.mark.parametrize(
    "top_p, kept", [(0.4, 1), (0.5, 1), (0.6, 2), (0.75, 2), (0.9, 3), (0.97, 4), (1.0, 4)]
)
def test_top_p_keeps_the_fewest_tokens_that_reach_it(top_p, kept):
    probs = [0.5, 0.3, 0.15, 0.05]
    values = list(np.log(probs))
    expect = np.array(probs[:kept] + [0.0] * (len(probs) - kept))
    assert_close(frequencies(logits_of(values, 6), top_p=top_p), expect / expect.sum())


def test_top_k_then_top_p():
    probs = [0.1, 0.5, 0.3, 0.1]
    # top-2 leaves 0.5 and 0.3 (5/8, 3/8); 0.6 of that is reached by the first alone,
    # 0.7 needs both
    assert_close(frequencies(logits_of(list(np.log(probs))), top_k=2, top_p=0.6), [0, 1, 0, 0])
    assert_close(
        frequencies(logits_of(list(np.log(probs))), top_k=2, top_p=0.7), [0, 5 / 8, 3 / 8, 0]
    )


def test_ties_keep_their_order_so_a_seed_draws_the_same_token_everywhere():
    """Equal logits are cut by top-p in index order (a stable sort), as the
    compiled sampler (model/generation/sample_step.c) does."""
    flat = np.zeros(40, np.float32)
    picks = {sample(flat, Controls(top_p=0.5), Noise(s)) for s in range(300)}
    assert picks == set(range(20))


def test_temperature_zero_is_greedy_and_takes_no_draw():
    noise = Noise(1)
    values = logits_of([1.0, 3.0, 2.0, 2.9])
    for p in (0.1, 0.95, 1.0):
        assert sample(values, Controls(temperature=0, top_p=p), noise) == 1
    assert noise.pos == 0


def test_a_lone_allowed_token_takes_no_draw():
    noise = Noise(1)
    for t in (0, 5, 11):
        lone = np.full(12, NEG_INF, np.float32)
        lone[t] = -3.0
        assert sample(lone, Controls(temperature=1.5), noise) == t
    assert noise.pos == 0
    # two allowed tokens are a draw (one uniform each), and both come up
    two = logits_of([0.0, 0.0])
    assert {sample(two, Controls(), noise) for _ in range(60)} == {0, 1}
    assert noise.pos == 120


def test_noise_is_the_seeds_uniform_draws_in_order():
    ref = 1 - np.random.default_rng(7).random(3 * Noise.BLOCK, dtype=np.float32)
    noise = Noise(7)
    got = []
    for n in (1, 5, 4000, 200, 5000, 1):  # across block boundaries, and a take over a block
        assert np.array_equal(noise.peek(n), noise.peek(n))  # peeking takes nothing
        got.append(noise.take(n).copy())
    got = np.concatenate(got)
    assert got.dtype == np.float32 and len(got) == 9207
    assert np.array_equal(got[: len(ref)], ref[: len(got)])
    assert got.min() > 0 and got.max() <= 1


def test_noise_address_points_at_the_next_draws():
    noise = Noise(11)
    for n in (3, 4096, 10, 5000):
        addr = noise.address(n)
        at = np.ctypeslib.as_array((ctypes.c_float * n).from_address(addr))
        assert np.array_equal(at, noise.peek(n))
        noise.take(n // 2 + 1)


# --- apply_filters ----------------------------------------------------------------

BARS = [Bar(0, 0.0, 4, 4)]


def state_in(phase):
    st = FillState(TOK, FillPlan(BARS, 0, 96, False, [], 100), 3)
    while st.forced:
        st.advance(st.forced[0])
    steps = {
        "in_bar": [],
        "after_pos": ["POS_0"],
        "after_pitch": ["POS_0", "PITCH_60"],
        "after_vel": ["POS_0", "PITCH_60", "VEL_3"],
    }[phase]
    for name in steps:
        st.advance(TOK.ids[name])
    assert st.phase == phase
    return st


def recorder(calls, name, phases=None):
    def f(logits, step):
        calls.append(name)
        return logits

    return acts_in(*phases)(f) if phases else f


@pytest.mark.parametrize("phase", ["in_bar", "after_pos", "after_pitch", "after_vel"])
def test_a_marked_filter_is_skipped_only_after_the_grammar_and_outside_its_phases(phase):
    calls = []
    filters = [
        recorder(calls, "before", ("in_bar",)),
        grammar_filter,
        recorder(calls, "marked", ("in_bar",)),
        recorder(calls, "plain"),
    ]
    logits = np.zeros(TOK.vocab_size, np.float32)
    out = apply_filters(logits, Step(state_in(phase), Controls()), filters)
    assert calls == (["before", "marked", "plain"] if phase == "in_bar" else ["before", "plain"])
    assert np.array_equal(out, grammar_filter(logits, Step(state_in(phase), Controls())))


def test_a_chain_that_leaves_nothing_falls_back_to_the_grammar_or_the_longest_prefix():
    def nothing(logits, step):
        return np.full_like(logits, NEG_INF)

    step = Step(state_in("after_pos"), Controls())
    logits = np.random.default_rng(0).standard_normal(TOK.vocab_size).astype(np.float32)
    grammar = grammar_filter(logits, step)
    assert np.array_equal(apply_filters(logits, step, [nothing]), grammar)
    assert np.array_equal(apply_filters(logits, step, [grammar_filter, nothing]), grammar)
    only_60 = lambda lg, s: np.where(np.arange(len(lg)) == TOK.ids["PITCH_60"], lg, NEG_INF)  # noqa: E731
    kept = apply_filters(logits, step, [grammar_filter, only_60, nothing])
    assert np.flatnonzero(np.isfinite(kept)).tolist() == [TOK.ids["PITCH_60"]]
    assert np.array_equal(apply_filters(logits, step, [grammar_filter]), grammar)
