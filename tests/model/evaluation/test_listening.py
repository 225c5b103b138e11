"""The chord response: which positions it reads, how it moves the CHORD
tokens, and that it tells a network that follows its CHORD tokens from one
that ignores them."""

import numpy as np
import pytest

from midifill.model.evaluation.listening import (
    chord_mass,
    chord_response,
    chord_targets,
    move_chords,
)
from midifill.model.network.tokenizer import Tokenizer

TOK = Tokenizer()
N = TOK.names.index


def seq(*names):
    return [N(n) for n in names]


# a prompt, then a 2-bar fill: bar 1 names C E G, bar 2 names no chord
SEQ = seq(
    "BOS",
    "TRACK",
    "PROGRAM_0",
    "BAR_4/4",
    "POS_0",
    "PITCH_50",
    "VEL_20",
    "DUR_12",
    "TRACK_END",
    "FILL_START",
    "DENSITY_3",
    "BAR_4/4",
    "CHORD_0",
    "CHORD_4",
    "CHORD_7",
    "POS_0",
    "PITCH_60",
    "VEL_20",
    "DUR_12",
    "POS_12",
    "PITCH_67",
    "VEL_20",
    "DUR_12",
    "BAR_4/4",
    "POS_0",
    "PITCH_62",
    "VEL_20",
    "DUR_12",
    "FILL_END",
)


def test_targets_are_the_fill_pitches_of_bars_that_name_a_chord():
    targets = chord_targets(SEQ, TOK)
    # the positions before PITCH_60 and PITCH_67; not the prompt's PITCH_50,
    # nor PITCH_62 in a bar without CHORD tokens
    assert [TOK.names[SEQ[i + 1]] for i, _ in targets] == ["PITCH_60", "PITCH_67"]
    assert all(pcs == {0, 4, 7} for _, pcs in targets)
    assert chord_targets(SEQ[:9], TOK) == []  # no fill section


def test_moving_changes_only_the_fill_chords():
    moved = move_chords(SEQ, TOK)
    changed = [(TOK.names[a], TOK.names[b]) for a, b in zip(SEQ, moved) if a != b]
    assert changed == [("CHORD_0", "CHORD_6"), ("CHORD_4", "CHORD_10"), ("CHORD_7", "CHORD_1")]
    assert move_chords(SEQ, TOK, 12) == SEQ


def test_chord_mass_sums_over_every_octave_of_a_class():
    logits = np.full(TOK.vocab_size, -30.0, dtype=np.float32)
    plo, _ = TOK.range("PITCH")
    logits[plo + 60] = logits[plo + 43] = 0.0  # C4 and G2: two classes of C E G
    logits[plo + 61] = 0.0  # C#4
    logits[N("VEL_20")] = 50.0  # not a pitch: left out
    assert chord_mass(logits, frozenset({0, 4, 7}), TOK) == pytest.approx(2 / 3, abs=1e-6)


def listener(follow: bool):
    """Stand-in networks: each scores the pitches of the last CHORD tokens it
    has read (a listener) or always C E G (one that does not listen)."""
    plo, _ = TOK.range("PITCH")
    clo, chi = TOK.range("CHORD")

    def logits_of(s):
        out = np.zeros((len(s) - 1, TOK.vocab_size), dtype=np.float32)
        pcs = set()
        for i, t in enumerate(s[:-1]):
            if TOK.kind(t) == "BAR":
                pcs = set()
            elif clo <= t < chi:
                pcs.add(t - clo)
            heard = pcs if follow else {0, 4, 7}
            for p in range(128):
                out[i, plo + p] = 4.0 if p % 12 in heard else 0.0
        return out

    return logits_of


def test_the_response_tells_a_listener_from_a_network_that_is_not():
    hears = chord_response(listener(True), [SEQ, SEQ[:9]], TOK)
    deaf = chord_response(listener(False), [SEQ], TOK)
    assert hears["chord_positions"] == deaf["chord_positions"] == 2
    assert hears["chord_response"] > 0.7
    assert deaf["chord_response"] == 0.0 and deaf["chord_mass"] > 0.7
    assert chord_response(listener(True), [SEQ[:9]], TOK)["chord_response"] is None
