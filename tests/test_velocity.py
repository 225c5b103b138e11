"""A fill plays at its part's dynamics: the velocity default and its filter."""

import numpy as np

from midifill.model.generation.engine import context_velocities
from midifill.model.generation.grammar import FillPlan, FillState
from midifill.model.generation.sampling import Controls, Step, velocity_filter
from midifill.model.network.tokenizer import Tokenizer
from midifill.model.song import Bar, Note, Song, TimeSignature, Track

TOK = Tokenizer()


def after_pitch(velocities):
    st = FillState(
        TOK, FillPlan([Bar(0, 0.0, 4, 4)], 0, 96, False, [], 100, velocities=velocities), 3
    )
    while st.forced:
        st.advance(st.forced[0])
    for name in ("POS_0", "PITCH_60"):
        st.advance(TOK.ids[name])
    return st


def test_the_filter_keeps_only_velocities_in_the_range():
    logits = np.zeros(TOK.vocab_size, np.float32)
    out = velocity_filter(logits, Step(after_pitch((10, 14)), Controls()))
    a = TOK.offset["VEL"]
    assert [v for v in range(32) if np.isfinite(out[a + v])] == [10, 11, 12, 13, 14]
    assert np.isfinite(out[:a]).all() and not np.isinf(logits).any()  # pure
    assert velocity_filter(logits, Step(after_pitch(None), Controls())) is logits


def test_the_range_is_the_parts_nearby_velocities_one_bin_wider():
    soft = Track("p", 0, False, [Note(60, float(i), 0.5, 40 + (i % 3) * 4) for i in range(32)])
    bars = Song([soft], [TimeSignature(0.0, 4, 4)]).bars()
    lo, hi = context_velocities(TOK, soft, bars, 3, 4)
    assert (lo, hi) == (TOK.velocity_bin(40) - 1, TOK.velocity_bin(48) + 1)
    assert context_velocities(TOK, Track("q", 0, False, soft.notes[:2]), bars, 3, 4) is None


def test_a_fill_of_a_quiet_part_stays_quiet(tiny_engine):
    quiet = Track("keys", 0, False, [Note(60 + i % 5, i * 0.5, 0.5, 30) for i in range(64)])
    loud = Track("bass", 33, False, [Note(36, float(i), 1.0, 120) for i in range(32)])
    song = Song([quiet, loud], [TimeSignature(0.0, 4, 4)])
    req = dict(
        song.to_payload(),
        mode="fill",
        target={"track": "keys", "start": 8.0, "end": 16.0},
        controls={"seed": 5, "variations": 3, "temperature": 1.5},
    )
    lo, hi = (TOK.bin_velocity(b) for b in (TOK.velocity_bin(30) - 1, TOK.velocity_bin(30) + 1))
    notes = [n for v in tiny_engine.run(req)["variations"] for n in v["notes"]]
    assert notes and all(lo <= n[3] <= hi for n in notes)
