"""Prompts: lazy bar encoding equals encoding the whole track; cropping.

The cropping rule of model/generation/prompt.py, as the README states it: the
target's own bars first (its fill bars, then up to 8 a side, nearest first,
the earlier on a tie), whatever the other tracks weigh; then the other
tracks' fill bars, the most useful track first and, of equally useful ones,
the lightest (tests/model/generation/test_prompt_ranking.py tests the ranking), a track that
does not fit left out; then bars of every track kept, one at a time, nearest
the fill first, while prompt plus the fill's token budget (by density level)
fit the block. The other tracks' bars outside their window are one
UNSEEN_BAR each. `continue` sees nothing after the fill; `generate` sees no
notes but the bars written before."""

import math
import random

import pytest

from midifill.model.generation.prompt import (
    FILL_OVERHEAD,
    TOKENS_PER_BAR_BUDGET,
    TOKENS_PER_NOTE,
    LazyBars,
    build_prompt,
    fill_budget,
    own_context_shown,
)
from midifill.model.network.tokenizer import Tokenizer, TokenizerConfig
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


BAR = 96  # ticks in a 4/4 bar


def busy_track(tid, per_bar, bars=16, pitch=60):
    """`per_bar` notes at their own positions in every bar."""
    return Track(
        tid,
        0,
        False,
        [
            Note(pitch, b * 4.0 + k * 4.0 / per_bar, 0.1, 90)
            for b in range(bars)
            for k in range(per_bar)
        ],
    )


def bar_cost(track, b):
    return len(TOK.encode_bars(track, [Song([track]).bars(until=64)[b]])[0])


def prompt(song, fill=(6, 8), mode="fill", block=768, density=None, until=64, **kw):
    bars = song.bars(until=until)
    return build_prompt(
        TOK, song, bars, "t", fill, fill, fill[0] * BAR, fill[1] * BAR, mode, block, density, **kw
    )


@pytest.mark.promise
def test_of_equally_useful_tracks_whose_fill_bars_do_not_all_fit_the_heaviest_goes_first():
    # a song of the fill's two bars only, so the target has no own bars to add
    target = busy_track("t", 2)
    light, middle, heavy = busy_track("light", 1), busy_track("middle", 4), busy_track("heavy", 8)
    song = Song([light, target, heavy, middle])
    budget = 40
    fixed = 2  # BOS, FILL_START (no density level)
    own = {t.id: 3 + sum(bar_cost(t, b) for b in (0, 1)) for t in song.tracks}
    own["t"] = 3 + 2  # the target's own fill bars are FILL_BAR tokens
    everything = fixed + sum(own.values()) + budget
    short = dict(fill=(0, 2), until=8, budget=budget)
    # one token short of room for every track: only the heaviest goes
    p = prompt(song, block=everything - 1, **short)
    assert p.tracks == ["light", "t", "middle"]
    # short of room for the heaviest two as well: the middle one goes next
    p = prompt(song, block=everything - own["heavy"] - 1, **short)
    assert p.tracks == ["light", "t"]
    # the lightest go in first, so as many tracks fit as can
    p = prompt(song, block=fixed + budget + own["t"] + own["middle"], **short)
    assert p.tracks == ["light", "t"]
    # the target stays even when only it fits
    p = prompt(song, block=fixed + own["t"] + budget, **short)
    assert p.tracks == ["t"] and p.window == (0, 2)
    with pytest.raises(ValueError, match="^the fill's own bars do not fit in the model's block$"):
        prompt(song, block=fixed + own["t"] + budget - 1, **short)
    # what was left out is not in the tokens either: one TRACK per kept track
    assert prompt(song, block=everything - 1, **short).tokens.count(TOK.TRACK) == 3


@pytest.mark.promise
def test_the_window_grows_one_bar_at_a_time_nearest_first_earlier_on_a_tie():
    target = busy_track("t", 2)
    song = Song([target])
    per_bar = bar_cost(target, 0)  # every bar costs the same
    budget = 20
    base = 2 + 3 + 2 + budget  # the fill's own two bars, as FILL_BAR
    for extra, window in [
        (0, (6, 8)),
        (1, (5, 8)),
        (2, (5, 9)),
        (3, (4, 9)),
        (4, (4, 10)),
        (5, (3, 10)),
    ]:
        p = prompt(song, block=base + extra * per_bar, budget=budget)
        assert p.window == window, (extra, p.window)
        assert len(p.tokens) + budget <= base + extra * per_bar
    # one token short of a whole bar adds nothing
    assert prompt(song, block=base + per_bar - 1, budget=budget).window == (6, 8)
    # at the start of the song the window can only grow later, and stops at the song's end
    p = prompt(song, fill=(0, 2), block=10_000, budget=budget)
    assert p.window == (0, 16)


@pytest.mark.promise
def test_a_bar_the_prompt_cannot_afford_stops_the_growth():
    """A heavy bar next to the fill is not skipped for a cheaper one further out."""
    notes = [Note(60, b * 4.0, 1.0, 90) for b in range(16)]
    notes += [Note(40 + k, 5 * 4.0 + k * 0.25, 0.1, 90) for k in range(16)]  # bar 5 is heavy
    song = Song([Track("t", 0, False, notes)])
    light = bar_cost(song.tracks[0], 0)
    heavy = bar_cost(song.tracks[0], 5)
    budget = 20
    base = 2 + 3 + 2 + budget
    assert heavy - 1 > light
    p = prompt(song, block=base + heavy - 1, budget=budget)
    assert p.window == (6, 8)  # bar 5 did not fit; bar 8 would have, but growth stops
    p = prompt(song, block=base + heavy, budget=budget)
    assert p.window == (5, 8)


@pytest.mark.promise
def test_continue_sees_nothing_after_the_fill_and_generate_sees_no_notes():
    target, other = busy_track("t", 2), busy_track("o", 3, pitch=40)
    song = Song([target, other])
    p = prompt(song, mode="continue", block=10_000)
    assert p.window[1] == 8  # nothing after the fill
    assert p.window[0] == 0
    g = prompt(song, mode="generate", block=10_000)
    assert g.tracks == ["t"]
    pitches = {TOK.value(t) for t in g.tokens if TOK.kind(t) == "PITCH"}
    assert pitches == set()  # no notes at all, not even the target's own
    f = prompt(song, mode="fill", block=10_000)
    assert f.window == (0, 16) and f.tracks == ["t", "o"]
    assert f.tokens.count(TOK.FILL_BAR) == 2 and f.tokens[-1] == TOK.FILL_START


CHORDS = TOK.config.chord_tokens


@pytest.mark.promise
def test_a_drum_fill_budget_counts_three_tokens_a_hit_and_no_chords():
    """Drum hits have no DUR token in this tokenizer and drum fills open no
    bar with CHORD tokens, so a drum fill reserves less than a pitched one
    and its prompt shows more of the song."""
    assert not TOK.config.drum_durations
    level = 3
    hi = TOK.density_range(level)[1]
    assert fill_budget(4, 10_000, TOK, level, is_drum=True) == FILL_OVERHEAD + 4 * min(
        TOKENS_PER_BAR_BUDGET, 2 + (TOKENS_PER_NOTE - 1) * math.ceil(hi)
    )
    assert (
        fill_budget(4, 10_000, TOK, None, is_drum=True) == FILL_OVERHEAD + 4 * TOKENS_PER_BAR_BUDGET
    )
    assert fill_budget(4, 10_000, TOK, level, is_drum=True) < fill_budget(4, 10_000, TOK, level)


@pytest.mark.promise
def test_the_fill_budget_follows_the_density_level():
    for level in range(TOK.n_density):
        hi = TOK.density_range(level)[1]
        per_bar = (
            TOKENS_PER_BAR_BUDGET
            if not math.isfinite(hi)
            else min(TOKENS_PER_BAR_BUDGET, 2 + TOKENS_PER_NOTE * math.ceil(hi))
        )
        assert fill_budget(4, 10_000, TOK, level) == FILL_OVERHEAD + 4 * (per_bar + CHORDS), level
    assert fill_budget(4, 10_000) == FILL_OVERHEAD + 4 * TOKENS_PER_BAR_BUDGET
    assert fill_budget(4, 10_000, TOK, None) == FILL_OVERHEAD + 4 * (TOKENS_PER_BAR_BUDGET + CHORDS)
    assert fill_budget(1, 10_000, TOK, 1) == FILL_OVERHEAD + 2 + TOKENS_PER_NOTE * 2 + CHORDS
    assert CHORDS == 4  # each bar's CHORD tokens are reserved on top of its notes
    assert fill_budget(64, 512, TOK, 8) == 256  # never more than half the block
    # a sparse level leaves more of the block for the song
    song = Song([busy_track("t", 2), busy_track("o", 3, pitch=40)])
    sparse = prompt(song, block=300, density=1)
    free = prompt(song, block=300, density=None)
    assert sparse.plan.max_tokens < free.plan.max_tokens
    assert len(sparse.tokens) > len(free.tokens) + 60
    assert sparse.tokens[-1] == TOK.FILL_START
    for p in (sparse, free):
        assert len(p.tokens) + 1 + p.plan.max_tokens <= 300  # + the DENSITY token


@pytest.mark.promise
def test_notes_before_the_target_start_in_its_first_bar_are_forced_and_budgeted():
    target = busy_track("t", 4)
    song = Song([target])
    bars = song.bars(until=64)
    lo = 6 * BAR + 48  # the target starts mid-bar
    p = build_prompt(TOK, song, bars, "t", (6, 8), (6, 8), lo, 8 * BAR, "fill", 10_000, None)
    assert [round(n.start * 24) for n in p.plan.prefix] == [6 * BAR, 6 * BAR + 24]
    assert p.plan.max_tokens == fill_budget(2, 10_000, TOK, None) + TOKENS_PER_NOTE * 2
    assert (p.plan.lo_tick, p.plan.hi_tick) == (lo, 8 * BAR)
    assert [b.index for b in p.plan.bars] == [6, 7]


@pytest.mark.promise
def test_exact_fits_count_every_token():
    """A block that fits the prompt exactly keeps everything; the DENSITY
    token counts once."""
    target, other = busy_track("t", 2), busy_track("o", 4, pitch=40)
    song = Song([target, other])
    own = 2 + (3 + 2) + (3 + sum(bar_cost(other, b) for b in (0, 1)))
    short = dict(fill=(0, 2), until=8, budget=40)  # the fill's bars are the whole song
    p = prompt(song, block=own + 40, **short)
    assert p.tracks == ["t", "o"] and p.window == (0, 2)
    p = prompt(song, block=own + 40, density=3, **short)  # + DENSITY: one token short
    assert p.tracks == ["t"]
    p = prompt(song, block=own + 41, density=3, **short)
    assert p.tracks == ["t", "o"] and p.window == (0, 2)


@pytest.mark.promise
def test_the_heaviest_track_is_weighed_in_the_fills_bars_only():
    # the target plays only in the fill: its own six bars before it are a BAR
    # token each, and each other track pays six UNSEEN_BAR tokens for them
    target = Track("t", 0, False, [Note(60, 24.0 + k, 0.5, 90) for k in range(8)])
    early = Track(
        "early",
        0,
        False,
        [Note(50, b * 4.0 + k * 0.25, 0.1, 90) for b in range(6) for k in range(16)]
        + [Note(50, 24.0, 0.1, 90)],
    )  # busy before the fill, one note in it
    late = busy_track("late", 3, pitch=70)  # three notes in each fill bar
    song = Song([target, early, late])
    own = {
        "t": 5 + 6,
        "early": 3 + bar_cost(early, 6) + bar_cost(early, 7) + 6,
        "late": 3 + bar_cost(late, 6) + bar_cost(late, 7) + 6,
    }
    p = prompt(song, block=2 + sum(own.values()) + 40 - 1, budget=40, until=32)
    assert p.tracks == ["t", "early"] and p.window == (0, 8)


@pytest.mark.promise
def test_drum_targets_and_fills_from_bar_0():
    drums = Track("t", 0, True, [Note(36, b * 1.0, 0.25, 100) for b in range(64)])
    song = Song([drums, busy_track("o", 2)])
    p = prompt(song, block=10_000)
    assert p.plan.is_drum and TOK.DRUMS in p.tokens
    assert TOK.offset["DRUM"] + 36 in p.tokens and TOK.offset["PITCH"] + 36 not in p.tokens
    g = prompt(song, mode="generate", block=10_000)
    assert g.tokens[1:3] == [TOK.TRACK, TOK.DRUMS] and g.plan.is_drum
    first = prompt(song, fill=(0, 2), block=10_000)
    assert first.tokens.count(TOK.FILL_BAR) == 2 and first.window == (0, 16)


@pytest.mark.promise
def test_generate_forces_no_earlier_notes_and_shows_none_at_the_fill_start():
    target = busy_track("t", 4)
    song = Song([target])
    bars = song.bars(until=64)
    lo = 6 * BAR + 48
    g = build_prompt(TOK, song, bars, "t", (6, 8), (6, 8), lo, 8 * BAR, "generate", 10_000, None)
    assert g.plan.prefix == [] and g.plan.max_tokens == fill_budget(2, 10_000, TOK, None)


@pytest.mark.promise
def test_the_target_is_never_the_track_left_out_even_when_no_other_is_heavier():
    # an empty track weighs as little as the target's FILL_BAR bars; listed
    # after the target, it would win a tie for heaviest if the target competed
    target, empty = busy_track("t", 2), Track("empty", 0, False, [])
    song = Song([target, empty])
    assert bar_cost(empty, 6) == 1  # as light as a FILL_BAR
    budget, fixed = 40, 2
    p = prompt(song, block=fixed + (3 + 2) + budget, budget=budget)
    assert p.tracks == ["t"]


@pytest.mark.promise
def test_a_pitched_fill_opens_each_bar_with_the_other_tracks_chord_and_no_other_fill_does():
    # the target's own C# sounds as long as the chord: it is still not its own harmony
    keys = Track("keys", 0, False, [Note(p, 24.0, 8.0, 90) for p in (60, 64, 67)])
    song = Song([Track("t", 0, False, [Note(61, 24.0, 8.0, 90)]), keys])
    off = TOK.offset["CHORD"]
    assert prompt(song).plan.chords == [[off, off + 4, off + 7]] * 2
    assert prompt(song, mode="continue").plan.chords == [[off, off + 4, off + 7]] * 2
    assert prompt(song, mode="generate").plan.chords is None  # it sees no other notes
    drums = Song([Track("t", 0, True, [Note(36, 24.0, 0.5, 90)]), keys])
    assert prompt(drums).plan.chords is None


def sections(tokens):
    """Each track section's tokens, header and TRACK_END left out."""
    out, cur = [], None
    for t in tokens:
        if t == TOK.TRACK:
            cur = []
        elif t == TOK.TRACK_END:
            out.append(cur[1:])
            cur = None
        elif cur is not None:
            cur.append(t)
    return out


@pytest.mark.promise
def test_the_targets_own_bars_come_first_and_reach_further_than_the_other_tracks():
    target, other = busy_track("t", 1, bars=32), busy_track("o", 8, bars=32, pitch=40)
    song = Song([target, other])
    ct, co = bar_cost(target, 0), bar_cost(other, 0)
    assert (ct, co) == (5, 33)
    budget, fixed, fill, own = 40, 2, (3 + 2), 16 * ct
    other_fill = 3 + 2 * co + 16  # its header, fill bars and 16 UNSEEN_BAR tokens
    # the target's 16 nearest bars, the other track's fill bars, and one bar
    # of the other track inside the target's window (co - 1: it replaces an
    # UNSEEN_BAR): bar 9, the nearest, the earlier on a tie
    block = fixed + budget + fill + own + other_fill + (co - 1)
    p = prompt(song, fill=(10, 12), block=block, budget=budget, until=128)
    assert p.window == (2, 20) and p.tracks == ["t", "o"]
    t_sec, o_sec = sections(p.tokens)
    assert TOK.UNSEEN_BAR not in t_sec and t_sec.count(TOK.FILL_BAR) == 2
    assert [TOK.kind(x) for x in t_sec].count("BAR") == 16
    kinds = [TOK.kind(x) for x in o_sec]
    assert kinds.count("UNSEEN") == 15 and kinds.count("BAR") == 3  # bars 9, 10, 11 shown
    assert kinds[:7] == ["UNSEEN"] * 7 and kinds[7] == "BAR" and kinds[-8:] == ["UNSEEN"] * 8
    assert len(p.tokens) + budget <= block
    # a token short of the other track's fill bars: it is left out, never the
    # target's own bars, and the rest shows the target further out (its 14
    # other bars, 70 of the 84 tokens left)
    p = prompt(song, fill=(10, 12), block=block - co, budget=budget, until=128)
    assert p.tracks == ["t"] and p.window == (0, 32)
    # the own bars are added nearest first, the earlier on a tie
    for n, window in [(0, (10, 12)), (1, (9, 12)), (2, (9, 13)), (5, (7, 14)), (16, (2, 20))]:
        p = prompt(
            song,
            fill=(10, 12),
            block=fixed + budget + fill + n * ct + ct - 1,
            budget=budget,
            until=128,
        )
        assert p.window == window and p.tracks == ["t"], n


def unseen_bars(p, section):
    slots = [x for x in section if TOK.kind(x) in ("BAR", "UNSEEN") or x == TOK.FILL_BAR]
    return [p.window[0] + k for k, x in enumerate(slots) if x == TOK.UNSEEN_BAR], len(slots)


@pytest.mark.promise
def test_own_bars_stop_at_eight_a_side_and_every_track_shows_what_fits():
    target, other = busy_track("t", 1, bars=40), busy_track("o", 8, bars=40, pitch=40)
    song = Song([target, other])
    p = prompt(song, fill=(16, 20), block=10_000, until=160)
    assert p.window == (0, 40) and TOK.UNSEEN_BAR not in p.tokens  # everything fits
    # the target's fill and 16 nearest bars cost 7 + 80, the other track's
    # fill bars 3 + 4 * 33 and 16 UNSEEN_BAR; its bars inside the target's
    # window cost 32 each: 6 of them in 200 more
    fixed, budget, first = 2, 40, (3 + 4) + 16 * 5 + (3 + 4 * 33 + 16)
    p = prompt(song, fill=(16, 20), block=fixed + budget + first + 200, budget=budget, until=160)
    assert p.window == (8, 28)
    t_sec, o_sec = sections(p.tokens)
    assert unseen_bars(p, t_sec) == ([], 20)
    assert unseen_bars(p, o_sec) == (list(range(8, 13)) + list(range(23, 28)), 20)
    for block in range(100, 900, 25):
        p = prompt(song, fill=(16, 20), block=block, budget=budget, until=160)
        assert len(p.tokens) + budget <= block
        secs = [unseen_bars(p, sec) for sec in sections(p.tokens)]
        own = min(16, (block - fixed - budget - 7) // 5)  # what fits of the 16, always
        assert secs[0][0] == [] and own_context_shown(TOK, p, "t") == own
        assert (len(secs) == 2) == (block >= fixed + budget + first)
        if len(secs) == 2:
            assert secs[1][1] == p.window[1] - p.window[0]
            assert all(8 <= b < 28 for b in secs[1][0])  # never more than 8 own bars a side


@pytest.mark.promise
def test_a_tokenizer_of_the_older_format_crops_every_track_alike():
    old = Tokenizer(TokenizerConfig(unseen_bars=False))
    target, other = busy_track("t", 1, bars=32), busy_track("o", 8, bars=32, pitch=40)
    song = Song([target, other])
    bars = song.bars(until=128)
    p = build_prompt(
        old,
        song,
        bars,
        "t",
        (10, 12),
        (10, 12),
        10 * BAR,
        12 * BAR,
        "fill",
        2 + 5 + 69 + 40 + 120,
        None,
        budget=40,
    )
    # the room, 120, buys the 3 nearest bars of both tracks at ct + co = 38 each
    assert p.window == (8, 13) and all(old.kind(t) != "UNSEEN" for t in p.tokens)
