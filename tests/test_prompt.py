"""Prompts: lazy bar encoding equals encoding the whole track; cropping."""

import random

from midifill.model.generation.prompt import LazyBars, build_prompt
from midifill.model.network.tokenizer import Tokenizer
from midifill.model.song import Note, Song, TimeSignature, Track

TOK = Tokenizer()


def test_lazy_bars_equal_encoding_everything():
    rng = random.Random(0)
    for _ in range(50):
        song = Song([], [TimeSignature(0.0, 4, 4), TimeSignature(16.0, 7, 8)])
        notes = [
            Note(rng.randrange(128), rng.uniform(0, 40), rng.uniform(0.01, 3), 90)
            for _ in range(rng.randrange(60))
        ]
        # notes a hair before a bar line snap onto it and belong to the next bar
        notes += [Note(60, 4.0 - 0.01, 0.5, 90), Note(62, 16.0 - 1 / 60, 0.5, 90)]
        track = Track("0", 0, False, notes)
        bars = song.bars(until=44)
        lazy = LazyBars(TOK, track, bars)
        assert [lazy[b] for b in range(len(bars))] == TOK.encode_bars(track, bars)


def test_cropping_keeps_the_nearest_bars_and_fits():
    tracks = [
        Track(
            str(i),
            0,
            False,
            [Note(60 + i, b + k / 2, 0.5, 90) for b in range(0, 400, 4) for k in range(8)],
        )
        for i in range(4)
    ]
    song = Song(tracks)
    bars = song.bars()
    p = build_prompt(TOK, song, bars, "1", (50, 52), (50, 52), 50 * 96, 52 * 96, "fill", 768, None)
    w0, w1 = p.window
    assert w0 <= 50 and w1 >= 52 and (50 - w0) - (w1 - 52) in (0, 1)  # symmetric, earlier first
    assert len(p.tokens) + p.plan.max_tokens <= 768
    assert p.tokens.count(TOK.FILL_BAR) == 2


def test_a_later_chunk_sees_the_bars_written_before_it():
    written = [Note(60 + b, b * 4.0, 1.0, 90) for b in range(4)]  # bars 1-4, written by chunk 1
    other = Track("0", 0, False, [Note(40, b * 4.0, 4.0, 80) for b in range(12)])
    song = Song([other, Track("1", 0, False, written + [Note(70, 40.0, 1.0, 90)])])
    bars = song.bars()
    pitch = TOK.offset["PITCH"]
    for mode in ("fill", "generate"):
        p = build_prompt(
            TOK, song, bars, "1", (4, 8), (4, 8), 4 * 96, 8 * 96, mode, 768, None, written_from=0
        )
        assert p.tokens.count(TOK.FILL_BAR) == 4, mode  # bars 5-8, not the written ones
        for n in written:
            assert pitch + n.pitch in p.tokens, (mode, n)
    gen = build_prompt(
        TOK, song, bars, "1", (4, 8), (4, 8), 4 * 96, 8 * 96, "generate", 768, None, written_from=0
    )
    assert pitch + 40 not in gen.tokens and pitch + 70 not in gen.tokens  # nothing else
