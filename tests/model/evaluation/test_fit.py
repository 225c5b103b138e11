"""The fit measures (model/evaluation/fit.py) and the fit table's baselines
(model/evaluation/fit_eval.py)."""

import random

import pytest

from midifill.model.evaluation import fit as F
from midifill.model.evaluation.fit_eval import (
    SPAN,
    Case,
    draw_cases,
    fit_table,
    paste_previous,
    paste_random,
    random_notes,
)
from midifill.model.generation.sampling import HARMONY_DEFAULT
from midifill.model.song import Bar, Note, Song, TimeSignature, Track

TPB = 24


def chord_song(lead_notes):
    keys = Track(
        "keys",
        0,
        False,
        [Note(p, 0.0, 4.0) for p in (60, 64, 67)] + [Note(p, 4.0, 4.0) for p in (62, 65, 69)],
    )
    return Song(
        [Track("lead", 0, False, lead_notes), keys, Track("drums", 0, True, [Note(38, 0.0, 8.0)])],
        [TimeSignature(0.0, 4, 4)],
    )


def test_harmonic_fit_counts_notes_on_the_other_tracks_classes():
    lead = [Note(72, 0.0, 1.0), Note(74, 1.0, 1.0), Note(74, 4.0, 1.0), Note(73, 5.0, 1.0)]
    assert F.harmonic_fit(lead, chord_song(lead), "lead", TPB) == pytest.approx(0.5)
    assert F.harmonic_fit([], chord_song([]), "lead", TPB) is None
    # the drums' pitch 38 (D) is not harmony: a D over the C chord does not fit
    assert F.harmonic_fit([Note(74, 0.0, 1.0)], chord_song([]), "lead", TPB) == 0


def test_overlaps_copies_grid_and_short_notes():
    a = [Note(60, 0.0, 0.5), Note(64, 0.5, 0.5)]
    assert F.pitch_class_overlap(a, a) == 1 and F.pitch_class_overlap(a, [Note(61, 0, 1)]) == 0
    bars = [Bar(0, 0.0, 4, 4), Bar(1, 4.0, 4, 4)]
    moved = [Note(n.pitch, n.start + 4, n.duration) for n in a]
    assert F.copy_rate(moved, bars[1:], a, bars[:1], TPB) == 1
    nudged = [Note(60, 4.0 + 1 / 24, 0.5)]
    assert F.copy_rate(nudged, bars[1:], a, bars[:1], TPB) == 0
    assert F.copy_rate([], bars[1:], a, bars[:1], TPB) is None
    assert F.onset_grid_agreement(a, moved, TPB) == 1
    assert F.onset_grid_agreement(a, [Note(60, 1 / 3, 1)], TPB) == 0  # straight vs triplet
    assert F.short_share([Note(60, 0, 2 / 24), Note(60, 1, 3 / 24)], TPB) == 0.5


def test_bar_features_read_the_bar_against_its_context():
    ctx = [Note(p, float(i), 1.0, 80) for i, p in enumerate([60, 62, 64, 65] * 2)]
    bar = Bar(2, 8.0, 4, 4)
    same = [Note(p, 8.0 + i, 1.0, 80) for i, p in enumerate([60, 62, 64, 65])]
    high = [Note(p + 24, 8.0 + i / 4, 0.25, 80) for i, p in enumerate([60, 62, 64, 65])]
    song = chord_song([])
    f_same = F.bar_features(same, bar, ctx, 2, song, "lead", TPB)
    f_high = F.bar_features(high, bar, ctx, 2, song, "lead", TPB)
    assert len(f_same) == len(F.FEATURE_NAMES)
    assert f_same[0] == pytest.approx(1.0) and abs(f_same[1]) < 0.5 and f_same[11] == 0
    assert f_high[1] > 4 and f_high[11] == 1 and f_high[3] < f_same[3]


def test_classifier_auc_separates_what_differs_and_not_what_does_not():
    rng = random.Random(0)
    real = [[rng.gauss(0, 1), rng.gauss(0, 1)] for _ in range(100)]
    same = [[rng.gauss(0, 1), rng.gauss(0, 1)] for _ in range(100)]
    apart = [[rng.gauss(3, 1), rng.gauss(0, 1)] for _ in range(100)]
    assert F.classifier_auc(real, apart) > 0.95
    assert 0.35 < F.classifier_auc(real, same) < 0.65
    assert F.classifier_auc(real[:3], apart[:3]) is None


def looped_song():
    riff = [Note(40 + (i % 3) * 2, float(i), 0.5) for i in range(4)]
    bass = [Note(n.pitch + (b % 2), n.start + 4 * b, n.duration) for b in range(16) for n in riff]
    keys = [Note(p, 4.0 * b, 4.0) for b in range(16) for p in (60, 64, 67)]
    return Song(
        [Track("bass", 33, False, bass), Track("keys", 0, False, keys)], [TimeSignature(0.0, 4, 4)]
    )


def test_baselines_write_inside_the_span_from_the_tracks_own_bars():
    song = looped_song()
    case = Case(song, song.tracks[0], song.bars(), 6)
    prev = paste_previous(case, random.Random(0))
    assert [(n.pitch, n.start) for n in prev] == [
        (n.pitch, n.start + 16) for n in case.notes_in(case.bars[2:6])
    ]
    for system in (paste_previous, paste_random, random_notes):
        notes = system(case, random.Random(1))
        assert notes and all(case.start <= n.start and n.end <= case.end + 1e-9 for n in notes)
    pitches = {n.pitch for n in case.context}
    assert {n.pitch for n in random_notes(case, random.Random(2))} <= pitches


def test_draw_cases_keeps_context_before_and_notes_inside():
    cases = draw_cases([looped_song()], 10, random.Random(0))
    assert len(cases) == 10
    assert all(c.b0 >= SPAN and c.original for c in cases)


def test_fit_table_measures_every_system(tiny_engine):
    table = fit_table(tiny_engine, [looped_song()], fills=6)
    assert table["the original"]["pitch_class_overlap"] == 1
    assert table["the original"]["classifier_auc"] is None
    assert table["paste the previous 4 bars"]["copy_rate"] == 1  # a loop pasted is a copy
    model = table["model, harmony following the part (default)"]
    assert model["fills"] == 6 and model["empty_fills"] == 0
    fixed = table[f"model, harmony {HARMONY_DEFAULT:g}"]
    assert fixed["harmonic_fit"] > table["model, harmony 0"]["harmonic_fit"]


def test_feature_aucs_name_the_feature_that_differs():
    rng = random.Random(1)
    real = [[rng.gauss(0, 1) for _ in F.FEATURE_NAMES] for _ in range(60)]
    gen = [[rng.gauss(0, 1) for _ in F.FEATURE_NAMES] for _ in range(60)]
    for row in gen:
        row[1] -= 3  # generated bars sit lower: the folded AUC still reads near 1
    aucs = F.feature_aucs(real, gen)
    assert aucs["mean pitch (context sd)"] > 0.95
    assert max(v for k, v in aucs.items() if k != "mean pitch (context sd)") < 0.75
