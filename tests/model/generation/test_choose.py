"""Choosing among sampled fills (model/generation/choose.py): the pool's
size, the ranking, and, through the engine with the tiny trained
model, that a response is the sampled fills closest to the part."""

import random

import pytest

from midifill.model.generation.choose import (
    CANDIDATES,
    DRUM_CANDIDATES,
    closest,
    closest_groove,
    groove_scores,
    pool_size,
)
from midifill.model.groove import groove_closeness, onset_set
from midifill.model.histograms import pitch_class_overlap
from midifill.model.song import Bar, Note


def notes(*pitches):
    return [Note(p, float(i), 1.0) for i, p in enumerate(pitches)]


def test_each_variation_gets_an_equal_share_of_the_candidates():
    assert pool_size(1, 1, 8) == 8  # one fill: 8 sampled
    assert pool_size(4, 4, 8) == 8  # 4 variations in one batch: the best 4 of 8
    assert pool_size(8, 8, 8) == 8  # as many variations as candidates: all kept
    assert pool_size(1, 4, 8) == 2  # a later chunk of one of 4 variations
    assert pool_size(1, 8, 8) == 1 and pool_size(1, 3, 8) == 2
    assert pool_size(3, 3, 1) == 3  # candidates 1: no choosing


def test_closest_ranks_by_overlap_and_keeps_sampling_order_on_ties():
    part = notes(60, 64, 67)
    fills = [notes(61, 63), notes(60, 64, 66), notes(72, 76, 79), notes(48, 52, 54), []]
    assert closest(fills, part, 5) == [2, 1, 3, 0, 4]
    assert closest(fills, part, 2) == [2, 1]


def band(drum_target=False):
    """A part on C, E, G (pitched, or a drum kit) and held chords beside it."""
    part = [
        [[60, 64, 67][k % 3] if not drum_target else 36 + k % 3, b * 4.0 + k, 0.5, 90]
        for b in range(12)
        for k in range(4)
        if not 16 <= b * 4.0 < 24
    ]
    keys = [[p, b * 4.0, 4.0, 70] for b in range(12) for p in (60, 64, 67)]
    return [
        {"id": "p", "program": 0, "is_drum": drum_target, "notes": part},
        {"id": "keys", "program": 0, "is_drum": False, "notes": keys},
    ]


def run_recorded(engine, monkeypatch, tracks, mode="fill", end=24.0, pruned=None, **controls):
    """The response and, per decoded batch, the fills its rows wrote (those
    kept to the end). `pruned`: a list that gets, for each pool cut after its
    first bar, every row's notes at that moment and the rows kept."""
    batches = []
    loop = engine._decode_loop

    def recording(run, prompt, *args, **kwargs):
        if len(args) > 6 and args[6] is not None and pruned is not None:
            cut = args[6]

            def pruning(states):
                kept = cut(states)
                pruned.append(([sorted((t, p) for t, p, _, _ in st.notes) for st in states], kept))
                return kept

            args = (*args[:6], pruning)
        states = loop(run, prompt, *args, **kwargs)
        batches.append([sorted((t, p) for t, p, _, _ in st.notes) for st in states])
        return states

    monkeypatch.setattr(engine, "_decode_loop", recording)
    resp = engine.run(
        {
            "mode": mode,
            "tracks": tracks,
            "target": {"track": "p", "start": 16.0, "end": end},
            "controls": {"seed": 3, "temperature": 1.3, **controls},
        }
    )
    monkeypatch.undo()
    return resp, batches


def as_notes(fill):
    return [Note(p, t / 24, 1.0) for t, p in fill]


def ticks(notes, after=0.0):
    return sorted((round(n[1] * 24), n[0]) for n in notes if n[1] >= after)


def test_a_response_is_the_sampled_fills_closest_to_the_part(tiny_engine, monkeypatch):
    part = [Note.from_list(n) for n in band()[0]["notes"]]
    # the line lean off: leaning every row towards the part's bars can make
    # the candidates alike, and this is the choosing among them alone
    for variations in (1, 3):
        resp, batches = run_recorded(
            tiny_engine, monkeypatch, band(), variations=variations, line_lean=0
        )
        assert len(batches) == 1 and len(batches[0]) == max(variations, CANDIDATES)
        pool = batches[0]
        ranked = sorted(pool, key=lambda f: -pitch_class_overlap(as_notes(f), part))
        got = [ticks(v["notes"]) for v in resp["variations"]]
        assert got == ranked[:variations]
        # the draws differ, so the choice is not idle
        assert len({pitch_class_overlap(as_notes(f), part) for f in pool}) > 1


def test_later_chunks_choose_per_variation(tiny_engine, monkeypatch):
    """A fill of 8 bars is two chunks: the first samples the whole pool, the
    second each variation's share from that variation's own first chunk."""
    resp, batches = run_recorded(
        tiny_engine, monkeypatch, band(), end=48.0, variations=2, seed=4
    )  # a seed whose later draws are best past the first
    assert [len(b) for b in batches] == [CANDIDATES, CANDIDATES // 2, CANDIDATES // 2]
    part = [Note.from_list(n) for n in band()[0]["notes"] if not 16 <= n[1] < 48]
    for v, batch in zip(resp["variations"], batches[1:]):
        best = max(batch, key=lambda f: pitch_class_overlap(as_notes(f), part))
        later = ticks(v["notes"], after=32.0)
        assert later == best


@pytest.mark.parametrize("case", ["one candidate", "drum part, groove off", "new part"])
def test_no_choosing_where_it_cannot_help(tiny_engine, monkeypatch, case):
    """candidates 1, a drum target with groove off and generate mode (no
    part to be close to) sample exactly the fills asked for."""
    tracks, mode, controls = band(), "fill", {"variations": 2}
    if case == "one candidate":
        controls["candidates"] = 1
    elif case == "drum part, groove off":
        tracks = band(drum_target=True)
        controls["groove"] = "off"
    else:
        mode = "generate"
    resp, batches = run_recorded(tiny_engine, monkeypatch, tracks, mode=mode, **controls)
    assert [len(b) for b in batches] == [2] and len(resp["variations"]) == 2


def hits(*onsets, key=36):
    return [Note(key, t, 0.25) for t in onsets]


def test_closest_groove_ranks_by_onsets_per_drum_group_bar_against_bar():
    bar = Bar(0, 0.0, 4, 4)
    part = (
        onset_set(hits(0, 2) + hits(1, 3, key=38), 0.0, 4.0),  # kick 1 3, snare 2 4
        onset_set(hits(0.5, 1.5, key=42), 0.0, 4.0),
    )  # two off-beat hats
    same = hits(0, 2) + hits(1, 3, key=38)
    swapped = hits(1, 3) + hits(0, 2, key=38)  # the same onsets, kick and snare traded
    half = hits(0, 2)
    hats = hits(0.5, 1.5, key=46)  # the other bar, on open hats: the same group
    fills = [swapped, half, same, hats, []]
    assert closest_groove(fills, [bar], 0.0, 4.0, part, 5) == [2, 3, 1, 0, 4]
    # a fill over the second half of the bar is held to that half of each part bar
    assert (
        groove_closeness([(onset_set(hits(2), 0.0, 4.0), 16 - 0.5, 32 - 0.5)], [part[0]]) == 2 / 3
    )  # kick 3 matched; snare 4 missed
    assert closest_groove([hits(2) + hits(3, key=38), hits(0, 2)], [bar], 2.0, 4.0, part, 1) == [0]


def test_drum_fills_are_the_sampled_fills_closest_to_the_parts_groove(tiny_engine, monkeypatch):
    """The pool of 4 is cut to its best 2 by their first bar's groove once
    every row has written it; the response is those 2 ranked by the whole
    fill's groove."""
    tracks = band(drum_target=True)
    part = [Note.from_list(n) for n in tracks[0]["notes"]]
    # the groove lean off: leaning every row towards the part's bars can make
    # the candidates alike, and this is the choosing among them alone
    pruned: list = []
    resp, batches = run_recorded(
        tiny_engine, monkeypatch, tracks, variations=2, groove_lean=0, pruned=pruned
    )
    bars = [Bar(4 + i, 16.0 + 4 * i, 4, 4) for i in range(2)]
    near = tuple(onset_set(part, b, b + 4) for b in range(0, 48, 4) if not 16 <= b < 24)

    def score(fill, bars=bars):
        f = [Note(p, t / 24, 0.25) for t, p in fill]
        return groove_closeness(
            [(onset_set(f, b.start, b.end), -0.5, 31.5) for b in bars], list(near)
        )

    [(pool, kept)] = pruned
    assert len(pool) == DRUM_CANDIDATES  # a drum part's auto
    first = [score([(t, p) for t, p in f if t < 20 * 24], bars[:1]) for f in pool]
    assert kept == sorted(range(len(pool)), key=lambda i: -first[i])[:2]
    assert len(set(first)) > 1  # the cut is not idle
    assert len(batches) == 1 and len(batches[0]) == 2  # only the kept rows went on
    for row, i in zip(batches[0], kept):
        assert [x for x in row if x[0] < 20 * 24] == [x for x in pool[i] if x[0] < 20 * 24]
    ranked = sorted(batches[0], key=lambda f: -score(f))
    assert [ticks(v["notes"]) for v in resp["variations"]] == ranked


def test_a_one_bar_drum_fill_is_not_cut(tiny_engine, monkeypatch):
    pruned: list = []
    _, batches = run_recorded(
        tiny_engine, monkeypatch, band(drum_target=True), end=20.0, pruned=pruned
    )
    assert pruned == [] and [len(b) for b in batches] == [DRUM_CANDIDATES]


def test_groove_scores_are_groove_closeness_of_each_fill():
    """groove_scores cuts the part's bars to each span once for all fills:
    the scores are groove_closeness's to the last bit, a span cut short at
    either end of the range and an empty fill included."""
    rng = random.Random(3)
    keys = (36, 38, 42, 46, 49, 50)

    def drums(start, end, n):
        return [
            Note(rng.choice(keys), rng.randrange(int(start * 8), int(end * 8)) / 8, 0.1)
            for _ in range(n)
        ]

    bars = [Bar(i, 4.0 * i, 4, 4) for i in range(4)]
    part = tuple(onset_set(drums(b, b + 4, 12), b, b + 4) for b in range(0, 32, 4))
    for lo, hi in ((0.0, 16.0), (2.5, 13.0), (4.0, 8.0)):
        fills = [drums(lo, hi, k) for k in (0, 3, 10, 25)]
        spans = [b for b in bars if b.start < hi and b.end > lo]
        want = [
            groove_closeness(
                [
                    (
                        onset_set(f, b.start, b.end),
                        (max(lo, b.start) - b.start) * 8 - 0.5,
                        (min(hi, b.end) - b.start) * 8 - 0.5,
                    )
                    for b in spans
                ],
                list(part),
            )
            for f in fills
        ]
        assert groove_scores(fills, bars, lo, hi, part) == want
        assert len(set(want)) > 1
    assert groove_scores([drums(0, 4, 5)], bars, 0.0, 4.0, ()) == [0.0]
