"""The two-part measures of model/evaluation/two_parts.py on notes built by hand."""

import random

from midifill.model.evaluation.two_parts import PAIRS, draw_pairs
from midifill.model.song import Note, Song, Track


def n(pitch, start, dur=0.5):
    return Note(pitch, start, dur, 90)


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
