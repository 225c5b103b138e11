"""Humanised timing for quantised training songs: onsets move, within
bounds; swing moves only off-beat eighths; velocities follow a curve; the
same seed gives the same song."""

from __future__ import annotations

import random

from midifill.model.network.tokenizer import Tokenizer
from midifill.model.song import Note, Song, Track
from midifill.model.training.dataset import make_example
from midifill.model.training.humanise import JITTER, JITTER_CUT, SWING, humanise, is_quantised


def grid_song(drums: bool = False, bars: int = 8) -> Song:
    """Eighth notes on a pitched track (and drums on every beat)."""
    lead = Track(
        "0", 73, False, [Note(60 + (i % 12), i * 0.5, 0.5, 80) for i in range(bars * 8)], "melody"
    )
    tracks = [lead]
    if drums:
        tracks.append(
            Track("1", 0, True, [Note(36, float(i), 0.25, 100) for i in range(bars * 4)], "drums")
        )
    return Song(tracks)


def moves(a: Song, b: Song) -> list[tuple[Note, Note]]:
    return [(x, y) for ta, tb in zip(a.tracks, b.tracks) for x, y in zip(ta.notes, tb.notes)]


def test_onsets_move_within_bounds_and_velocities_follow_a_curve():
    song = grid_song()
    out = humanise(song, random.Random(3))
    pairs = moves(song, out)
    deltas = [y.start - x.start for x, y in pairs]
    assert all(abs(d) <= JITTER * JITTER_CUT + 1e-9 for d in deltas)
    assert sum(abs(d) > 1e-6 for d in deltas) == len(deltas)  # every onset moved
    assert 0.5 * JITTER < (sum(d * d for d in deltas) / len(deltas)) ** 0.5 < 1.5 * JITTER
    assert [x.pitch for x, _ in pairs] == [y.pitch for _, y in pairs]
    assert all(x.duration == y.duration for x, y in pairs)
    vels = [y.velocity for _, y in pairs]
    assert len(set(vels)) > 5 and all(80 * 0.8 - 1 <= v <= 80 * 1.2 + 1 for v in vels)
    # smooth: neighbouring eighths differ far less than the whole range
    steps = [abs(a - b) for a, b in zip(vels, vels[1:])]
    assert max(steps) <= (max(vels) - min(vels)) / 2
    assert not is_quantised(out) and is_quantised(song)


def test_the_same_seed_gives_the_same_song_and_another_seed_another():
    song = grid_song(drums=True)
    assert humanise(song, random.Random(11)) == humanise(song, random.Random(11))
    assert humanise(song, random.Random(11)) != humanise(song, random.Random(12))


def test_swing_moves_only_the_off_beat_eighths_of_songs_with_drums():
    song = grid_song(drums=True)
    swung = 0
    for seed in range(40):
        out = humanise(song, random.Random(seed))
        lead = list(zip(song.tracks[0].notes, out.tracks[0].notes))
        off = [y.start - x.start for x, y in lead if x.start % 1 == 0.5]
        on = [y.start - x.start for x, y in lead if x.start % 1 == 0]
        cut = JITTER * JITTER_CUT + 1e-9
        assert all(abs(d) <= cut for d in on)
        if max(off) > cut:  # this draw swung: every off-beat eighth moved late
            swung += 1
            assert all(SWING[0] - cut <= d <= SWING[1] + cut for d in off)
    assert 4 <= swung <= 24  # SWING_SHARE of 40 draws, give or take
    # without drums there is no swing
    plain = grid_song()
    for seed in range(20):
        out = humanise(plain, random.Random(seed))
        assert all(
            abs(y.start - x.start) <= JITTER * JITTER_CUT + 1e-9 for x, y in moves(plain, out)
        )


def test_make_example_humanises_only_quantised_songs_and_is_reproducible():
    tok = Tokenizer()
    song = grid_song(drums=True, bars=16)

    def draw(s, seed, share):
        return make_example(s, tok, 768, random.Random(seed), humanise=share)

    got = [draw(song, seed, 1.0) for seed in range(8)]
    assert got == [draw(song, seed, 1.0) for seed in range(8)]
    pos0, npos = tok.offset["POS"], tok.sizes["POS"]

    def off_eighths(examples):  # positions off the song's eighth-note grid (12 ticks)
        return sum(
            (t - pos0) % 12 != 0 for e in examples if e for t in e.tokens if pos0 <= t < pos0 + npos
        )

    assert off_eighths([draw(song, seed, 0.0) for seed in range(8)]) == 0
    assert off_eighths(got) > 10
