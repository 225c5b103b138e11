"""The two-part measures of model/evaluation/two_parts.py on notes built by hand."""

import random

from midifill.model.evaluation.two_parts import PAIRS, draw_pairs, kick_bass_f1, pair_fit
from midifill.model.song import Note, Song, Track


def n(pitch, start, dur=0.5):
    return Note(pitch, start, dur, 90)


def test_kick_bass_f1_counts_shared_16ths():
    kick = [n(36, 0), n(36, 2), n(42, 1)]  # the hat is not a kick
    assert kick_bass_f1(kick, [n(40, 0), n(40, 2)]) == 1.0
    assert kick_bass_f1(kick, [n(40, 0), n(40, 3)]) == 0.5
    assert kick_bass_f1(kick, [n(40, 1)]) == 0.0
    assert kick_bass_f1([], []) is None


def test_pair_fit_is_the_share_of_notes_the_other_part_sounds():
    bass = [n(36, 0, 2), n(38, 2, 2)]  # C, then D
    chords = [n(60, 0, 4), n(64, 0, 4), n(67, 0, 4)]  # C major held
    # bass: C fits, D does not; each chord note: the bass sounds C at beat 0
    assert pair_fit(bass, chords, 24) == (1 + 1) / 5
    assert pair_fit(bass, [], 24) is None


def test_pairs_are_drawn_where_both_roles_play():
    beats = range(4 * 24)  # 24 bars of 4/4: room for 8 + 4 + 8
    song = Song(
        [
            Track("d", 0, True, [n(36, b, 0.25) for b in beats]),
            Track("b", 33, False, [n(40, b) for b in beats]),
            Track("k", 0, False, [n(p, b, 1) for b in beats for p in (60, 64)]),
        ]
    )
    for name, roles, ids in [
        ("drums + bass", PAIRS["drums + bass"], ("d", "b")),
        ("bass + harmony", PAIRS["bass + harmony"], ("b", "k")),
    ]:
        cases = draw_pairs([song], roles, 24, random.Random(0), per_song=2)
        assert len(cases) == 2, name
        for _, a, b, bars, b0 in cases:
            assert (a.id, b.id) == ids and 8 <= b0 <= len(bars) - 12
