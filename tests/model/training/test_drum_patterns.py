"""Made-up drum grooves for training (model/training/drum_patterns.py)."""

import random

from midifill.model.song import Note, Song, Track
from midifill.model.training.drum_patterns import Groove, with_drum_pattern


def song(bars=16, drums=True):
    piano = Track("piano", 0, False, [Note(60, b * 4.0, 4.0, 80) for b in range(bars)])
    tracks = [piano]
    if drums:
        tracks.append(
            Track(
                "kit",
                0,
                True,
                [Note(82, b * 4.0 + k / 4, 0.1, 70) for b in range(bars) for k in range(16)],
                "kit",
            )
        )
    return Song(tracks)


def per_bar(track, bars):
    return [
        {(n.pitch, round(n.start - b.start, 6)) for n in track.notes if b.start <= n.start < b.end}
        for b in bars
    ]


def test_the_drum_part_is_replaced_and_the_rest_kept():
    s = song()
    out, tid = with_drum_pattern(s, random.Random(1))
    assert tid == "kit" and [t.id for t in out.tracks] == ["piano", "kit"]
    assert out.track("piano").notes == s.track("piano").notes
    assert out.track("kit").notes != s.track("kit").notes
    assert all(0 <= n.start < 64 and 1 <= n.velocity <= 127 for n in out.track("kit").notes)


def test_a_song_without_drums_gets_a_drum_part():
    out, tid = with_drum_pattern(song(drums=False), random.Random(2))
    drums = out.track(tid)
    assert drums.is_drum and len(out.tracks) == 2 and drums.notes


def test_grooves_repeat_with_their_period_and_differ_between_draws():
    """Most bars equal the bar one period earlier (a part to continue), and
    two draws give different grooves (nothing to learn by heart)."""
    repeats, kits = [], []
    for seed in range(20):
        rng = random.Random(seed)
        state = rng.getstate()
        period = Groove(rng).period
        rng.setstate(state)
        out, tid = with_drum_pattern(song(32), rng)
        bars = per_bar(out.track(tid), out.bars())
        same = [bars[i] == bars[i - period] for i in range(period, len(bars))]
        repeats.append(sum(same) / len(same))
        kits.append(frozenset(p for p, _ in set().union(*bars)))
    assert sorted(repeats)[len(repeats) // 2] >= 0.4
    assert len(set(kits)) >= 15


def test_the_same_seed_gives_the_same_groove():
    a, _ = with_drum_pattern(song(), random.Random(7))
    b, _ = with_drum_pattern(song(), random.Random(7))
    assert a.track("kit").notes == b.track("kit").notes


def test_every_groove_has_a_kick_on_a_downbeat_and_a_time_keeper():
    for seed in range(30):
        out, tid = with_drum_pattern(song(8), random.Random(seed))
        notes = out.track(tid).notes
        assert any(n.pitch in (35, 36) and n.start % 4 == 0 for n in notes), seed
        assert len({n.pitch for n in notes}) >= 3, seed
